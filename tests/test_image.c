/* image layer: the tar encoding byte by byte, determinism, gzip, the layer cache, configs, OCI
 * layouts (output and base input with every error), docker-archive. Outside validators (umoci,
 * skopeo, oci-image-tool, podman) run in tests/sh/image_validators.sh. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "testutil.h"

typedef struct {
	char *tmp;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	f->tmp = tu_tempdir("ga-image");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	tu_rmtree(f->tmp);
	free(f->tmp);
	free(f);
	return 0;
}

static char *P(const fixture *f, const char *rel)
{
	return tu_path(f->tmp, rel);
}

static void chmod_rel(const char *root, const char *rel, mode_t mode)
{
	char *p = tu_path(root, rel);
	assert_int_equal(chmod(p, mode), 0);
	free(p);
}

static void mtime_rel(const char *root, const char *rel, time_t t)
{
	struct timespec ts[2] = {{t, 0}, {t, 0}};
	char *p = tu_path(root, rel);
	assert_int_equal(utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW), 0);
	free(p);
}

static char *hex(const goaccel_digest *d)
{
	static char buf[4][GOACCEL_DIGEST_HEXSIZE + 1];
	static int i;
	char *b = buf[i++ % 4];
	GA_OK(goaccel_digest_fmt(b, d));
	return b;
}

/* A small tree with every entry type the writer handles. */
static void make_tree(const char *root, int variant)
{
	char *a, *b, longname[200];
	/* create in a different order per variant so the directory listing order differs */
	if (variant) {
		tu_write(root, "z/last.txt", "last\n");
		tu_write(root, "bin/app", "#!/bin/sh\necho app\n");
	} else {
		tu_write(root, "bin/app", "#!/bin/sh\necho app\n");
		tu_write(root, "z/last.txt", "last\n");
	}
	tu_write(root, "etc/ssl/certs/ca.crt", "-----BEGIN CERTIFICATE-----\n");
	tu_write(root, "a.b", "dot sorts before slash\n");
	tu_write(root, "a/b", "in a\n");
	memset(longname, 'n', sizeof(longname));
	memcpy(longname, "deep/", 5);
	longname[150] = '\0';
	tu_write(root, longname, "long name needs pax\n");
	chmod_rel(root, "bin/app", 0755);
	a = tu_path(root, "bin/app");
	b = tu_path(root, "bin/app-link");
	assert_int_equal(link(a, b), 0);
	free(b);
	b = tu_path(root, "bin/sh");
	assert_int_equal(symlink("app", b), 0);
	free(a);
	free(b);
}

/* ---- a tiny ustar reader: the test checks bytes, independently of libarchive ---------------- */

typedef struct {
	char name[512];
	char link[512];
	char type;
	unsigned mode;
	unsigned long long uid, gid, size, mtime;
	char uname[33], gname[33];
	int pax; /* preceded by a pax extended header */
} tar_hdr;

static unsigned long long octal(const unsigned char *p, size_t n)
{
	unsigned long long v = 0;
	size_t i;
	for (i = 0; i < n && p[i] >= '0' && p[i] <= '7'; i++)
		v = v * 8 + (p[i] - '0');
	return v;
}

/* Parses all headers; returns their count; *end receives the offset after the last entry. */
static size_t read_tar(tar_hdr *out, size_t max, const unsigned char *t, size_t len, size_t *end)
{
	size_t off = 0, n = 0;
	int pax = 0;
	char paxpath[512] = "";
	while (off + 512 <= len) {
		const unsigned char *h = t + off;
		unsigned long long size;
		size_t i;
		int zero = 1;
		for (i = 0; i < 512; i++)
			zero &= h[i] == 0;
		if (zero)
			break;
		assert_memory_equal(h + 257, "ustar", 5);
		size = octal(h + 124, 12);
		if (h[156] == 'x') {
			/* records "len key=value\n": keep path */
			const char *rec = (const char *)h + 512;
			const char *pp = strstr(rec, " path=");
			if (pp && pp < rec + size) {
				const char *nl = strchr(pp, '\n');
				snprintf(paxpath, sizeof(paxpath), "%.*s", (int)(nl - pp - 6), pp + 6);
			}
			pax = 1;
			off += 512 + ((size + 511) / 512) * 512;
			continue;
		}
		assert_true(n < max);
		memset(&out[n], 0, sizeof(out[n]));
		if (paxpath[0])
			snprintf(out[n].name, sizeof(out[n].name), "%s", paxpath);
		else if (h[345])
			snprintf(out[n].name, sizeof(out[n].name), "%.155s/%.100s", h + 345, h);
		else
			snprintf(out[n].name, sizeof(out[n].name), "%.100s", h);
		snprintf(out[n].link, sizeof(out[n].link), "%.100s", h + 157);
		out[n].type = (char)h[156];
		out[n].mode = (unsigned)octal(h + 100, 8);
		out[n].uid = octal(h + 108, 8);
		out[n].gid = octal(h + 116, 8);
		out[n].size = size;
		out[n].mtime = octal(h + 136, 12);
		snprintf(out[n].uname, sizeof(out[n].uname), "%.32s", h + 265);
		snprintf(out[n].gname, sizeof(out[n].gname), "%.32s", h + 297);
		out[n].pax = pax;
		pax = 0;
		paxpath[0] = '\0';
		n++;
		off += 512 + ((size + 511) / 512) * 512;
	}
	*end = off;
	return n;
}

static const tar_hdr *find_hdr(const tar_hdr *h, size_t n, const char *name)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!strcmp(h[i].name, name))
			return &h[i];
	fail_msg("no tar entry %s", name);
	return NULL;
}

/* The layer tar: bytewise order, explicit parents, owner 0 with empty names, the epoch as
 * every mtime, normalized modes, links, pax only for the long name, two zero blocks. */
static void test_image__layer_tar_encoding(void **state)
{
	fixture *f = *state;
	char *root = P(f, "root"), *tar = P(f, "layer.tar");
	unsigned char *t;
	size_t len, end, n, i;
	tar_hdr h[32];
	const tar_hdr *e;
	goaccel_digest diff, check;
	make_tree(root, 0);
	chmod_rel(root, "etc/ssl/certs/ca.crt", 0600); /* umask-like: normalized to 0644 */
	GA_OK(goaccel_image_write_layer_tar(&diff, tar, root, 1234, NULL));
	t = (unsigned char *)tu_read(tar, &len);
	GA_OK(goaccel_digest_buffer(&check, t, len));
	assert_int_equal(goaccel_digest_cmp(&diff, &check), 0);
	n = read_tar(h, 32, t, len, &end);
	/* exactly two zero blocks follow the last entry, nothing else */
	assert_int_equal(len, end + 1024);
	for (i = end; i < len; i++)
		assert_int_equal(t[i], 0);
	for (i = 0; i < n; i++) {
		char prev[512], *slash;
		assert_int_equal(h[i].mtime, 1234);
		assert_int_equal(h[i].uid, 0);
		assert_int_equal(h[i].gid, 0);
		assert_string_equal(h[i].uname, "");
		assert_string_equal(h[i].gname, "");
		if (i > 0) {
			/* bytewise order of paths without the trailing '/' of directories */
			char a[512], b[512];
			snprintf(a, sizeof(a), "%.500s", h[i - 1].name);
			snprintf(b, sizeof(b), "%.500s", h[i].name);
			if (a[strlen(a) - 1] == '/')
				a[strlen(a) - 1] = '\0';
			if (b[strlen(b) - 1] == '/')
				b[strlen(b) - 1] = '\0';
			assert_true(strcmp(a, b) < 0);
		}
		/* every parent directory has its own earlier entry */
		snprintf(prev, sizeof(prev), "%.500s", h[i].name);
		if (prev[strlen(prev) - 1] == '/')
			prev[strlen(prev) - 1] = '\0';
		while ((slash = strrchr(prev, '/')) != NULL) {
			size_t j;
			int found = 0;
			slash[1] = '\0';
			for (j = 0; j < i; j++)
				found |= !strcmp(h[j].name, prev);
			assert_true(found);
			*slash = '\0';
		}
		/* a pax header only where ustar cannot hold the entry */
		assert_int_equal(h[i].pax, strncmp(h[i].name, "deep/n", 6) == 0);
	}
	assert_string_equal(h[0].name, "a/");
	/* full paths in bytewise order: '.' (0x2e) sorts before '/' (0x2f) */
	assert_string_equal(h[1].name, "a.b");
	assert_string_equal(h[2].name, "a/b");
	e = find_hdr(h, n, "etc/ssl/certs/ca.crt");
	assert_int_equal(e->mode, 0644);
	e = find_hdr(h, n, "etc/ssl/");
	assert_int_equal(e->type, '5');
	assert_int_equal(e->mode, 0755);
	e = find_hdr(h, n, "bin/app");
	assert_int_equal(e->mode, 0755);
	assert_int_equal(e->type, '0');
	e = find_hdr(h, n, "bin/app-link");
	assert_int_equal(e->type, '1');
	assert_string_equal(e->link, "bin/app");
	assert_int_equal(e->size, 0);
	e = find_hdr(h, n, "bin/sh");
	assert_int_equal(e->type, '2');
	assert_string_equal(e->link, "app");
	assert_int_equal(e->mode, 0777);
	free(t);
	free(root);
	free(tar);
}

/* Same content in another directory, created in another order, with other mtimes, permission
 * bits the umask took away, and other owners: the same bytes. */
static void test_image__layer_deterministic(void **state)
{
	fixture *f = *state;
	char *r1 = P(f, "one/root"), *r2 = P(f, "two/elsewhere/root");
	char *t1 = P(f, "1.tar"), *t2 = P(f, "2.tar");
	goaccel_digest d1, d2;
	goaccel_layer_options keep = GOACCEL_LAYER_OPTIONS_INIT;
	mode_t old = umask(022);
	make_tree(r1, 0);
	umask(077);
	make_tree(r2, 1);
	umask(old);
	chmod_rel(r2, "bin/app", 0700);
	mtime_rel(r2, "bin/app", 2000000000);
	mtime_rel(r2, "z", 1);
	if (geteuid() == 0) {
		char *p = tu_path(r2, "a/b");
		assert_int_equal(lchown(p, 1234, 5678), 0);
		free(p);
	}
	GA_OK(goaccel_image_write_layer_tar(&d1, t1, r1, 0, NULL));
	GA_OK(goaccel_image_write_layer_tar(&d2, t2, r2, 0, NULL));
	assert_string_equal(hex(&d1), hex(&d2));
	/* with the file system's modes kept, the umask shows */
	keep.mode = GOACCEL_LAYER_MODE_KEEP;
	GA_OK(goaccel_image_write_layer_tar(&d1, t1, r1, 0, &keep));
	GA_OK(goaccel_image_write_layer_tar(&d2, t2, r2, 0, &keep));
	assert_string_not_equal(hex(&d1), hex(&d2));
	free(r1);
	free(r2);
	free(t1);
	free(t2);
}

/* The gzip member has no name and no time; the digest covers the blob, the diff_id the tar,
 * both computed in the same pass. */
static void test_image__gzip_blob(void **state)
{
	fixture *f = *state;
	char *root = P(f, "root");
	goaccel_image *img;
	goaccel_image_options o = GOACCEL_IMAGE_OPTIONS_INIT;
	goaccel_layer_info li;
	goaccel_digest d, tarsum;
	char *oci = P(f, "oci"), *blob, *tar = P(f, "check.tar");
	unsigned char *b, *raw;
	size_t len, rawlen = 0, cap = 1 << 20;
	z_stream z;
	make_tree(root, 0);
	o.source_date_epoch = 0;
	GA_OK(goaccel_image_new(&img, &o));
	GA_OK(goaccel_image_add_layer_dir(img, root, NULL));
	GA_OK(goaccel_image_layer_info(&li, img, 0));
	assert_string_equal(li.media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
	assert_false(li.from_base);
	GA_OK(goaccel_image_write_oci(NULL, img, oci, "latest"));
	blob = tu_sh_out("echo %s/blobs/sha256/%s", oci, hex(&li.digest));
	b = (unsigned char *)tu_read(blob, &len);
	assert_int_equal(len, li.size);
	GA_OK(goaccel_digest_buffer(&d, b, len));
	assert_string_equal(hex(&d), hex(&li.digest));
	/* RFC 1952: ID1 ID2 CM=8 FLG=0 (no FNAME/FCOMMENT/FEXTRA) MTIME=0 XFL OS=3 */
	assert_int_equal(b[0], 0x1f);
	assert_int_equal(b[1], 0x8b);
	assert_int_equal(b[2], 8);
	assert_int_equal(b[3], 0);
	assert_int_equal(b[4] | b[5] | b[6] | b[7], 0);
	assert_int_equal(b[9], 3);
	raw = malloc(cap);
	memset(&z, 0, sizeof(z));
	assert_int_equal(inflateInit2(&z, 16 + 15), Z_OK);
	z.next_in = b;
	z.avail_in = (uInt)len;
	for (;;) {
		int rc;
		z.next_out = raw + rawlen;
		z.avail_out = (uInt)(cap - rawlen);
		rc = inflate(&z, Z_NO_FLUSH);
		rawlen = cap - z.avail_out;
		if (rc == Z_STREAM_END)
			break;
		assert_int_equal(rc, Z_OK);
		raw = realloc(raw, cap *= 2);
	}
	inflateEnd(&z);
	GA_OK(goaccel_digest_buffer(&d, raw, rawlen));
	assert_string_equal(hex(&d), hex(&li.diff_id));
	/* and the diff_id is the standalone tar writer's digest */
	GA_OK(goaccel_image_write_layer_tar(&tarsum, tar, root, 0, NULL));
	assert_string_equal(hex(&tarsum), hex(&li.diff_id));
	free(raw);
	free(b);
	free(blob);
	free(tar);
	free(oci);
	free(root);
	goaccel_image_free(img);
}

/* Parallel gzip: a layer of many 128 KiB blocks has the same bytes with 1, 2, 3 or 8 threads,
 * and is one valid gzip member that gzip itself decompresses to the diff_id's tar. */
static void test_image__gzip_threads_deterministic(void **state)
{
	fixture *f = *state;
	char *root = P(f, "root"), *oci = P(f, "oci"), *got, want[80];
	unsigned char *data = malloc(3 * 1024 * 1024 + 777);
	const unsigned threads[] = {1, 2, 3, 8};
	goaccel_digest first;
	size_t i, n = 3 * 1024 * 1024 + 777;
	uint32_t x = 12345;
	/* compressible but not trivially: words from a small vocabulary, pseudo-random order */
	for (i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		data[i] = (unsigned char)("abcdefgh \n"[(x >> 16) % 10]);
	}
	tu_write_bytes(root, "big", data, n);
	tu_write_bytes(root, "small", data, 1000);
	for (i = 0; i < sizeof(threads) / sizeof(threads[0]); i++) {
		goaccel_image *img;
		goaccel_image_options o = GOACCEL_IMAGE_OPTIONS_INIT;
		goaccel_layer_info li;
		o.source_date_epoch = 0;
		o.threads = threads[i];
		GA_OK(goaccel_image_new(&img, &o));
		GA_OK(goaccel_image_add_layer_dir(img, root, NULL));
		GA_OK(goaccel_image_layer_info(&li, img, 0));
		assert_true(li.size > 3 * 128 * 1024 / 4); /* several blocks of output */
		if (i == 0) {
			first = li.digest;
			GA_OK(goaccel_image_write_oci(NULL, img, oci, "t"));
			got = tu_sh_out("gzip -dc < %s/blobs/sha256/%s | sha256sum | cut -c1-64", oci, hex(&li.digest));
			snprintf(want, sizeof(want), "%s", hex(&li.diff_id));
			assert_string_equal(got, want);
			free(got);
			assert_int_equal(tu_sh("gzip -t < %s/blobs/sha256/%s", oci, hex(&li.digest)), 0);
		} else {
			assert_string_equal(hex(&li.digest), hex(&first));
		}
		goaccel_image_free(img);
	}
	free(data);
	free(root);
	free(oci);
}

static int add_layer_hit(goaccel_digest *digest, const char *root, const char *cache, int level)
{
	goaccel_image *img;
	goaccel_image_options o = GOACCEL_IMAGE_OPTIONS_INIT;
	goaccel_layer_info li;
	o.layer_cache = cache;
	o.source_date_epoch = 42;
	o.gzip_level = level;
	GA_OK(goaccel_image_new(&img, &o));
	GA_OK(goaccel_image_add_layer_dir(img, root, NULL));
	GA_OK(goaccel_image_layer_info(&li, img, 0));
	*digest = li.digest;
	goaccel_image_free(img);
	return li.cache_hit;
}

/* The cache is keyed by content: metadata-only changes hit, a same-size content change with
 * the old mtime put back misses, and a lost blob is rebuilt. */
static void test_image__layer_cache(void **state)
{
	fixture *f = *state;
	char *root = P(f, "root"), *cache = P(f, "cache");
	goaccel_digest d1, d2;
	struct stat st;
	char *blob;
	make_tree(root, 0);
	assert_false(add_layer_hit(&d1, root, cache, 6));
	assert_true(add_layer_hit(&d2, root, cache, 6));
	assert_string_equal(hex(&d1), hex(&d2));
	/* the cached blob was not rewritten by the hit */
	blob = tu_sh_out("echo %s/blobs/sha256/%s", cache, hex(&d1));
	assert_int_equal(stat(blob, &st), 0);
	/* another gzip level is another layer */
	assert_false(add_layer_hit(&d2, root, cache, 1));
	assert_string_not_equal(hex(&d1), hex(&d2));
	/* mtime only: same content, a hit */
	mtime_rel(root, "a/b", 1000);
	assert_true(add_layer_hit(&d2, root, cache, 6));
	assert_string_equal(hex(&d1), hex(&d2));
	/* same size, new content, old mtime restored: the stat cache must not be fooled */
	tu_write(root, "a/b", "IN A\n");
	mtime_rel(root, "a/b", 1000);
	assert_false(add_layer_hit(&d2, root, cache, 6));
	assert_string_not_equal(hex(&d1), hex(&d2));
	/* a blob deleted from the cache is rebuilt, not served */
	tu_write(root, "a/b", "in a\n");
	assert_true(add_layer_hit(&d2, root, cache, 6));
	assert_int_equal(unlink(blob), 0);
	assert_false(add_layer_hit(&d2, root, cache, 6));
	assert_string_equal(hex(&d1), hex(&d2));
	assert_int_equal(stat(blob, &st), 0);
	free(blob);
	free(root);
	free(cache);
}

/* Files older than the racy window are not re-read on the next build: their digests come from
 * the stat cache, which a change of content (new ctime) still invalidates. */
static void test_image__stat_cache(void **state)
{
	fixture *f = *state;
	char *root = P(f, "root"), *cache = P(f, "cache"), *sc;
	goaccel_digest d1, d2;
	make_tree(root, 0);
	sleep(3); /* leave the 2 s racy window */
	assert_false(add_layer_hit(&d1, root, cache, 6));
	sc = tu_sh_out("ls %s/stat-v1/*.json", cache);
	assert_int_equal(tu_sh("grep -q 'a/b' %s", sc), 0);
	/* the digest recorded for a/b is what the next build trusts: poison it to prove it */
	assert_int_equal(tu_sh("sed -i 's/\\(\"a\\/b\":\\[[0-9,]*\"\\)[0-9a-f]*/\\1%s/' %s",
	                       "0000000000000000000000000000000000000000000000000000000000000000", sc), 0);
	assert_int_equal(tu_sh("grep -q 0000000000000000000000000000000000000000000000000000000000000000 %s", sc), 0);
	/* a wrong trusted digest cannot produce a wrong layer: the tar pass re-hashes */
	{
		goaccel_image *img;
		goaccel_image_options o = GOACCEL_IMAGE_OPTIONS_INIT;
		o.layer_cache = cache;
		o.source_date_epoch = 42;
		GA_OK(goaccel_image_new(&img, &o));
		assert_int_equal(goaccel_image_add_layer_dir(img, root, NULL), GOACCEL_ECHANGED);
		goaccel_image_free(img);
	}
	/* new content (same size, old mtime) changes ctime: the stat cache entry is not used */
	tu_write(root, "a/b", "IN A\n");
	mtime_rel(root, "a/b", 1000);
	assert_false(add_layer_hit(&d2, root, cache, 6));
	assert_string_not_equal(hex(&d1), hex(&d2));
	free(sc);
	free(root);
	free(cache);
}

static int store_layer(goaccel_layer_info *li, goaccel_store *store, const char *root)
{
	goaccel_image *img;
	goaccel_image_options o = GOACCEL_IMAGE_OPTIONS_INIT;
	o.store = store;
	o.source_date_epoch = 42;
	GA_OK(goaccel_image_new(&img, &o));
	GA_OK(goaccel_image_add_layer_dir(img, root, NULL));
	GA_OK(goaccel_image_layer_info(li, img, 0));
	goaccel_image_free(img);
	return li->cache_hit;
}

/* The layer cache kept in a store: actions of kind image-layer, verified and counted by the
 * store; a damaged blob is a miss and the layer is rebuilt; the digests are those of the
 * directory cache and of no cache at all. */
static void test_image__store_layer_cache(void **state)
{
	fixture *f = *state;
	char *root = P(f, "root"), *sroot = P(f, "store"), *cache = P(f, "cache"), *blob = NULL;
	goaccel_store *store;
	goaccel_store_counters c;
	goaccel_layer_info a, b;
	goaccel_digest d;
	make_tree(root, 0);
	GA_OK(goaccel_store_open(&store, sroot, NULL));
	assert_false(store_layer(&a, store, root));
	assert_true(store_layer(&b, store, root));
	assert_string_equal(hex(&a.digest), hex(&b.digest));
	assert_string_equal(hex(&a.diff_id), hex(&b.diff_id));
	assert_int_equal(a.size, b.size);
	GA_OK(goaccel_store_stats(&c, store, "image-layer"));
	assert_int_equal(c.hits, 1);
	assert_int_equal(c.misses, 1);
	assert_int_equal(c.puts, 1);
	/* same layer as with a cache directory */
	add_layer_hit(&d, root, cache, 6);
	assert_string_equal(hex(&d), hex(&a.digest));
	/* a damaged blob in the store is not served: a miss, then a rebuilt layer */
	GA_OK(goaccel_store_blob_path(&blob, store, &a.digest));
	assert_int_equal(tu_sh("chmod u+w %s && printf x | dd of=%s bs=1 seek=20 conv=notrunc 2>/dev/null", blob, blob), 0);
	assert_false(store_layer(&b, store, root));
	assert_string_equal(hex(&a.digest), hex(&b.digest));
	assert_true(store_layer(&b, store, root));
	GA_OK(goaccel_store_stats(&c, store, "image-layer"));
	assert_int_equal(c.corrupt, 1);
	goaccel_free(blob);
	goaccel_store_free(store);
	free(root);
	free(sroot);
	free(cache);
}

static void test_image__prefix_owner_and_errors(void **state)
{
	fixture *f = *state;
	char *root = P(f, "root"), *tar = P(f, "p.tar"), *sock;
	goaccel_layer_options o = GOACCEL_LAYER_OPTIONS_INIT;
	unsigned char *t;
	size_t len, end, n;
	tar_hdr h[8];
	struct sockaddr_un sa;
	int fd;
	tu_write(root, "bin", "x");
	o.prefix = "/opt//app/";
	o.uid = 1000;
	o.gid = 1001;
	GA_OK(goaccel_image_write_layer_tar(NULL, tar, root, 7, &o));
	t = (unsigned char *)tu_read(tar, &len);
	n = read_tar(h, 8, t, len, &end);
	assert_int_equal(n, 3);
	assert_string_equal(h[0].name, "opt/");
	assert_string_equal(h[1].name, "opt/app/");
	assert_string_equal(h[2].name, "opt/app/bin");
	assert_int_equal(h[0].mode, 0755);
	assert_int_equal(h[2].uid, 1000);
	assert_int_equal(h[2].gid, 1001);
	free(t);
	o.prefix = "opt/../etc";
	assert_int_equal(goaccel_image_write_layer_tar(NULL, tar, root, 7, &o), GOACCEL_EINVALID);
	assert_int_equal(goaccel_image_write_layer_tar(NULL, tar, "/nonexistent-layer-root", 7, NULL),
	                 GOACCEL_ENOTFOUND);
	/* a socket cannot be in a layer */
	sock = tu_path(root, "s.sock");
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if (strlen(sock) < sizeof(sa.sun_path) && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		assert_int_equal(goaccel_image_write_layer_tar(NULL, tar, root, 7, NULL), GOACCEL_EINVALID);
		assert_non_null(strstr(goaccel_error_last()->message, "s.sock"));
		unlink(sock);
	}
	close(fd);
	/* names that are not UTF-8 are refused rather than written differently per locale */
	tu_write(root, "bad\xff", "x");
	assert_int_equal(goaccel_image_write_layer_tar(NULL, tar, root, 7, NULL), GOACCEL_EINVALID);
	free(sock);
	free(root);
	free(tar);
}

static json_t *config_of(goaccel_image *img)
{
	char *s;
	json_t *j;
	GA_OK(goaccel_image_config_json(&s, img));
	j = json_loads(s, 0, NULL);
	assert_non_null(j);
	goaccel_free(s);
	return j;
}

static void test_image__config_fields(void **state)
{
	fixture *f = *state;
	char *root = P(f, "root");
	goaccel_image *img;
	goaccel_image_options o = GOACCEL_IMAGE_OPTIONS_INIT;
	goaccel_layer_options lo = GOACCEL_LAYER_OPTIONS_INIT;
	const char *ep[] = {"/app", "--serve"}, *cmd[] = {"--port", "8080"};
	json_t *c, *cc;
	tu_write(root, "app", "x");
	o.source_date_epoch = 1700000000;
	GA_OK(goaccel_image_new(&img, &o));
	lo.created_by = "COPY --from=build /app /app";
	lo.comment = "the binary";
	GA_OK(goaccel_image_add_layer_dir(img, root, &lo));
	GA_OK(goaccel_image_set_cmd(img, cmd, 2));
	GA_OK(goaccel_image_set_entrypoint(img, ep, 2));
	GA_OK(goaccel_image_set_env(img, "PATH", "/bin"));
	GA_OK(goaccel_image_set_env(img, "TZ", "UTC"));
	GA_OK(goaccel_image_set_env(img, "TZ", "Asia/Shanghai")); /* replaced in place */
	GA_OK(goaccel_image_set_env(img, "GONE", "x"));
	GA_OK(goaccel_image_set_env(img, "GONE", NULL));
	GA_OK(goaccel_image_set_workdir(img, "/srv"));
	GA_OK(goaccel_image_set_user(img, "65532:65532"));
	GA_OK(goaccel_image_set_label(img, "org.opencontainers.image.source", "https://example.com"));
	GA_OK(goaccel_image_add_port(img, "8080"));
	GA_OK(goaccel_image_add_port(img, "53/udp"));
	GA_OK(goaccel_image_set_platform(img, "linux", "arm", "v7"));
	assert_int_equal(goaccel_image_add_port(img, "80/icmp"), GOACCEL_EINVALID);
	assert_int_equal(goaccel_image_add_port(img, "70000"), GOACCEL_EINVALID);
	assert_int_equal(goaccel_image_set_env(img, "A=B", "x"), GOACCEL_EINVALID);
	assert_int_equal(goaccel_image_set_env(img, "", "x"), GOACCEL_EINVALID);
	c = config_of(img);
	assert_string_equal(json_string_value(json_object_get(c, "created")), "2023-11-14T22:13:20Z");
	assert_string_equal(json_string_value(json_object_get(c, "os")), "linux");
	assert_string_equal(json_string_value(json_object_get(c, "architecture")), "arm");
	assert_string_equal(json_string_value(json_object_get(c, "variant")), "v7");
	cc = json_object_get(c, "config");
	assert_int_equal(json_array_size(json_object_get(cc, "Entrypoint")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(cc, "Cmd"), 1)), "8080");
	assert_int_equal(json_array_size(json_object_get(cc, "Env")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(cc, "Env"), 1)),
	                    "TZ=Asia/Shanghai");
	assert_string_equal(json_string_value(json_object_get(cc, "WorkingDir")), "/srv");
	assert_string_equal(json_string_value(json_object_get(cc, "User")), "65532:65532");
	assert_non_null(json_object_get(json_object_get(cc, "ExposedPorts"), "8080/tcp"));
	assert_non_null(json_object_get(json_object_get(cc, "ExposedPorts"), "53/udp"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(cc, "Labels"),
	                                                      "org.opencontainers.image.source")),
	                    "https://example.com");
	{
		json_t *h = json_object_get(c, "history"), *ids;
		ids = json_object_get(json_object_get(c, "rootfs"), "diff_ids");
		assert_int_equal(json_array_size(h), 1);
		assert_int_equal(json_array_size(ids), 1);
		assert_string_equal(json_string_value(json_object_get(json_array_get(h, 0), "created_by")),
		                    lo.created_by);
		assert_string_equal(json_string_value(json_object_get(json_array_get(h, 0), "created")),
		                    "2023-11-14T22:13:20Z");
	}
	json_decref(c);
	/* clearing */
	GA_OK(goaccel_image_set_entrypoint(img, NULL, 0));
	GA_OK(goaccel_image_set_workdir(img, NULL));
	GA_OK(goaccel_image_set_label(img, "org.opencontainers.image.source", NULL));
	c = config_of(img);
	cc = json_object_get(c, "config");
	assert_null(json_object_get(cc, "Entrypoint"));
	assert_null(json_object_get(cc, "WorkingDir"));
	assert_null(json_object_get(cc, "Labels"));
	json_decref(c);
	goaccel_image_free(img);
	free(root);
}

static void test_image__epoch_from_environment(void **state)
{
	goaccel_image *img;
	json_t *c;
	(void)state;
	setenv("SOURCE_DATE_EPOCH", "86400", 1);
	GA_OK(goaccel_image_new(&img, NULL));
	c = config_of(img);
	assert_string_equal(json_string_value(json_object_get(c, "created")), "1970-01-02T00:00:00Z");
	json_decref(c);
	goaccel_image_free(img);
	setenv("SOURCE_DATE_EPOCH", "yesterday", 1);
	assert_int_equal(goaccel_image_new(&img, NULL), GOACCEL_EINVALID);
	assert_null(img);
	unsetenv("SOURCE_DATE_EPOCH");
	GA_OK(goaccel_image_new(&img, NULL));
	c = config_of(img);
	assert_string_equal(json_string_value(json_object_get(c, "created")), "1970-01-01T00:00:00Z");
	json_decref(c);
	goaccel_image_free(img);
}

static json_t *load_json_file(const char *dir, const char *rel)
{
	char *p = tu_path(dir, rel);
	json_t *j = json_load_file(p, 0, NULL);
	if (!j)
		fail_msg("cannot parse %s", p);
	free(p);
	return j;
}

static goaccel_image *small_image(const char *root, const char *content)
{
	goaccel_image *img;
	goaccel_image_options o = GOACCEL_IMAGE_OPTIONS_INIT;
	const char *ep[] = {"/app"};
	tu_write(root, "app", content);
	o.source_date_epoch = 0;
	o.architecture = "amd64";
	GA_OK(goaccel_image_new(&img, &o));
	GA_OK(goaccel_image_add_layer_dir(img, root, NULL));
	GA_OK(goaccel_image_set_entrypoint(img, ep, 1));
	GA_OK(goaccel_image_set_env(img, "TZ", "Asia/Shanghai"));
	GA_OK(goaccel_image_set_cmd(img, ep, 1));
	return img;
}

/* Every blob is named by its digest; index.json names manifests by ref and keeps other refs. */
static void test_image__oci_layout_output(void **state)
{
	fixture *f = *state;
	char *root = P(f, "root"), *oci = P(f, "oci"), *s;
	goaccel_image *img = small_image(root, "v1");
	goaccel_digest m1, m2, m3;
	json_t *idx, *ms;
	GA_OK(goaccel_image_write_oci(&m1, img, oci, "v1"));
	goaccel_image_free(img);
	img = small_image(root, "v2");
	GA_OK(goaccel_image_write_oci(&m2, img, oci, "v2"));
	GA_OK(goaccel_image_write_oci(&m3, img, oci, "v1")); /* replaces v1 */
	assert_string_equal(hex(&m2), hex(&m3));
	assert_int_equal(goaccel_image_write_oci(NULL, img, oci, "bad ref"), GOACCEL_EINVALID);
	assert_int_equal(goaccel_image_write_oci(NULL, img, oci, "-x"), GOACCEL_EINVALID);
	goaccel_image_free(img);
	s = tu_sh_out("cat %s/oci-layout", oci);
	assert_string_equal(s, "{\"imageLayoutVersion\":\"1.0.0\"}");
	free(s);
	idx = load_json_file(oci, "index.json");
	assert_int_equal(json_integer_value(json_object_get(idx, "schemaVersion")), 2);
	ms = json_object_get(idx, "manifests");
	assert_int_equal(json_array_size(ms), 2);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(ms, 0), "annotations"),
	                                                      "org.opencontainers.image.ref.name")), "v2");
	assert_string_equal(json_string_value(json_object_get(json_array_get(ms, 1), "digest")) + 7, hex(&m2));
	json_decref(idx);
	/* every blob file's name is the sha256 of its bytes */
	assert_int_equal(tu_sh("cd %s/blobs/sha256 && for b in *; do echo \"$b  $b\"; done | sha256sum -c --quiet", oci), 0);
	/* garbage in an existing index.json is reported, not overwritten */
	tu_write(oci, "index.json", "{not json");
	img = small_image(root, "v3");
	assert_int_equal(goaccel_image_write_oci(NULL, img, oci, "v3"), GOACCEL_EINVALID);
	assert_non_null(strstr(goaccel_error_last()->message, "index.json"));
	goaccel_image_free(img);
	free(root);
	free(oci);
}

/* An image built on a base read from an OCI layout keeps its layers, config and history. */
static void test_image__base_from_layout(void **state)
{
	fixture *f = *state;
	char *r1 = P(f, "r1"), *r2 = P(f, "r2"), *oci = P(f, "oci"), *out = P(f, "out");
	goaccel_image *img = small_image(r1, "base");
	goaccel_layer_info li0, li1;
	const char *cmd[] = {"run"};
	json_t *c, *cc;
	GA_OK(goaccel_image_write_oci(NULL, img, oci, "base"));
	goaccel_image_free(img);
	GA_OK(goaccel_image_new(&img, NULL));
	GA_OK(goaccel_image_set_base(img, oci, "base"));
	assert_int_equal(goaccel_image_layercount(img), 1);
	GA_OK(goaccel_image_layer_info(&li0, img, 0));
	assert_true(li0.from_base);
	tu_write(r2, "etc/extra", "more");
	GA_OK(goaccel_image_add_layer_dir(img, r2, NULL));
	assert_int_equal(goaccel_image_set_base(img, oci, "base"), GOACCEL_EINVALID);
	GA_OK(goaccel_image_set_entrypoint(img, cmd, 1)); /* clears the inherited Cmd */
	GA_OK(goaccel_image_layer_info(&li1, img, 1));
	assert_false(li1.from_base);
	assert_int_equal(goaccel_image_layer_info(&li1, img, 2), GOACCEL_ENOTFOUND);
	c = config_of(img);
	cc = json_object_get(c, "config");
	assert_string_equal(json_string_value(json_array_get(json_object_get(cc, "Env"), 0)), "TZ=Asia/Shanghai");
	assert_null(json_object_get(cc, "Cmd"));
	assert_int_equal(json_array_size(json_object_get(c, "history")), 2);
	assert_int_equal(json_array_size(json_object_get(json_object_get(c, "rootfs"), "diff_ids")), 2);
	assert_string_equal(json_string_value(json_object_get(c, "architecture")), "amd64");
	json_decref(c);
	GA_OK(goaccel_image_write_oci(NULL, img, out, "app"));
	goaccel_image_free(img);
	/* ref NULL works when the layout holds one manifest */
	GA_OK(goaccel_image_new(&img, NULL));
	GA_OK(goaccel_image_set_base(img, out, NULL));
	assert_int_equal(goaccel_image_layercount(img), 2);
	goaccel_image_free(img);
	free(r1);
	free(r2);
	free(oci);
	free(out);
}

/* ---- hand-made layouts for the error paths ---------------------------------------------- */

static char *put_blob(const char *dir, const char *data, size_t len)
{
	goaccel_digest d;
	char rel[128], *s;
	GA_OK(goaccel_digest_buffer(&d, data, len));
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", hex(&d));
	tu_write_bytes(dir, rel, data, len);
	if (asprintf(&s, "sha256:%s", hex(&d)) < 0)
		fail();
	return s;
}

/* A layout with one empty-tar layer; the parts can be broken on request. */
typedef struct {
	const char *layer_type;
	const char *config_type;
	int drop_layer_blob;
	int corrupt_layer;
	int wrong_size;
	const char *layout_version;
} layout_spec;

static void make_layout(const char *dir, const layout_spec *s)
{
	static const unsigned char empty_tar[1024];
	char *layer = put_blob(dir, (const char *)empty_tar, sizeof(empty_tar));
	char *config_json, *config, *manifest_json, *manifest, *index, *rel;
	if (asprintf(&config_json,
	             "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"A=1\"],\"Cmd\":null},"
	             "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}", layer) < 0)
		fail();
	config = put_blob(dir, config_json, strlen(config_json));
	if (asprintf(&manifest_json,
	             "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
	             "\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu},"
	             "\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%d}]}",
	             s->config_type ? s->config_type : "application/vnd.oci.image.config.v1+json", config,
	             strlen(config_json),
	             s->layer_type ? s->layer_type : "application/vnd.docker.image.rootfs.diff.tar", layer,
	             s->wrong_size ? 1023 : 1024) < 0)
		fail();
	manifest = put_blob(dir, manifest_json, strlen(manifest_json));
	if (asprintf(&index,
	             "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
	             "\"digest\":\"%s\",\"size\":%zu,\"annotations\":{\"org.opencontainers.image.ref.name\":\"base\"}}]}",
	             manifest, strlen(manifest_json)) < 0)
		fail();
	tu_write(dir, "index.json", index);
	rel = tu_sh_out("echo '{\"imageLayoutVersion\":\"%s\"}'", s->layout_version ? s->layout_version : "1.0.0");
	tu_write(dir, "oci-layout", rel);
	free(rel);
	if (s->drop_layer_blob || s->corrupt_layer) {
		char *p = tu_sh_out("echo %s/blobs/sha256/%s", dir, layer + 7);
		if (s->drop_layer_blob)
			unlink(p);
		else
			tu_sh("printf x | dd of=%s bs=1 seek=10 conv=notrunc 2>/dev/null", p);
		free(p);
	}
	free(layer);
	free(config_json);
	free(config);
	free(manifest_json);
	free(manifest);
	free(index);
}

static int base_rc(fixture *f, const char *name, const layout_spec *s, const char *ref)
{
	char *dir = P(f, name);
	goaccel_image *img;
	int rc;
	make_layout(dir, s);
	GA_OK(goaccel_image_new(&img, NULL));
	rc = goaccel_image_set_base(img, dir, ref);
	assert_int_equal(goaccel_image_layercount(img), 0 + (rc == 0));
	goaccel_image_free(img);
	free(dir);
	return rc;
}

static void expect_msg(const char *needle)
{
	if (!strstr(goaccel_error_last()->message, needle))
		fail_msg("error message '%s' does not mention '%s'", goaccel_error_last()->message, needle);
}

static void test_image__base_errors(void **state)
{
	fixture *f = *state;
	layout_spec ok = {0}, s;
	char *dir;
	goaccel_image *img;
	/* the well-formed layout reads (docker media types are accepted) */
	GA_OK(base_rc(f, "good", &ok, "base"));
	/* a missing ref lists the refs present */
	assert_int_equal(base_rc(f, "ref", &ok, "latest"), GOACCEL_ENOTFOUND);
	expect_msg("'latest'");
	expect_msg("'base'");
	/* a missing blob */
	s = ok;
	s.drop_layer_blob = 1;
	assert_int_equal(base_rc(f, "missing", &s, "base"), GOACCEL_ENOTFOUND);
	expect_msg("missing");
	expect_msg("sha256:");
	/* a blob whose bytes do not match its digest, or its size */
	s = ok;
	s.corrupt_layer = 1;
	assert_int_equal(base_rc(f, "corrupt", &s, "base"), GOACCEL_ECORRUPT);
	s = ok;
	s.wrong_size = 1;
	assert_int_equal(base_rc(f, "size", &s, "base"), GOACCEL_ECORRUPT);
	/* unknown media types */
	s = ok;
	s.layer_type = "application/x-tarball";
	assert_int_equal(base_rc(f, "mt1", &s, "base"), GOACCEL_EINVALID);
	expect_msg("application/x-tarball");
	expect_msg("layers[0].mediaType");
	s = ok;
	s.config_type = "application/vnd.cncf.helm.config.v1+json";
	assert_int_equal(base_rc(f, "mt2", &s, "base"), GOACCEL_EINVALID);
	expect_msg("helm");
	/* an unsupported layout version */
	s = ok;
	s.layout_version = "2.0.0";
	assert_int_equal(base_rc(f, "ver", &s, "base"), GOACCEL_EVERSION);
	/* bad JSON in index.json names the file and the position */
	dir = P(f, "badjson");
	make_layout(dir, &ok);
	tu_write(dir, "index.json", "{\"schemaVersion\":2,\"manifests\":[}");
	GA_OK(goaccel_image_new(&img, NULL));
	assert_int_equal(goaccel_image_set_base(img, dir, "base"), GOACCEL_EINVALID);
	expect_msg("index.json");
	expect_msg("line 1");
	tu_write(dir, "index.json", "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"md5:00\",\"size\":1}]}");
	assert_int_equal(goaccel_image_set_base(img, dir, NULL), GOACCEL_EINVALID);
	expect_msg("manifests[0].digest");
	/* no layout at all */
	assert_int_equal(goaccel_image_set_base(img, "/nonexistent-layout", "x"), GOACCEL_ENOTFOUND);
	goaccel_image_free(img);
	free(dir);
}

/* An image index with several platforms resolves to the image's own. */
static void test_image__multi_platform_base(void **state)
{
	fixture *f = *state;
	char *dir = P(f, "multi"), *index_blob, *index, *idx_json;
	json_t *single, *m;
	goaccel_image *img;
	goaccel_image_options o = GOACCEL_IMAGE_OPTIONS_INIT;
	layout_spec ok = {0};
	make_layout(dir, &ok);
	single = load_json_file(dir, "index.json");
	m = json_array_get(json_object_get(single, "manifests"), 0);
	json_object_del(m, "annotations");
	if (asprintf(&idx_json,
	             "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
	             "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%lld,"
	             "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}},"
	             "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%lld,"
	             "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}",
	             "sha256:0000000000000000000000000000000000000000000000000000000000000000",
	             (long long)json_integer_value(json_object_get(m, "size")),
	             json_string_value(json_object_get(m, "digest")),
	             (long long)json_integer_value(json_object_get(m, "size"))) < 0)
		fail();
	index_blob = put_blob(dir, idx_json, strlen(idx_json));
	if (asprintf(&index,
	             "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
	             "\"digest\":\"%s\",\"size\":%zu,\"annotations\":{\"org.opencontainers.image.ref.name\":\"multi\"}}]}",
	             index_blob, strlen(idx_json)) < 0)
		fail();
	tu_write(dir, "index.json", index);
	o.architecture = "amd64";
	GA_OK(goaccel_image_new(&img, &o));
	GA_OK(goaccel_image_set_base(img, dir, "multi"));
	assert_int_equal(goaccel_image_layercount(img), 1);
	goaccel_image_free(img);
	o.architecture = "s390x";
	GA_OK(goaccel_image_new(&img, &o));
	assert_int_equal(goaccel_image_set_base(img, dir, "multi"), GOACCEL_ENOTFOUND);
	expect_msg("linux/arm64");
	expect_msg("s390x");
	goaccel_image_free(img);
	/* arm64 points at a blob that is not there */
	o.architecture = "arm64";
	GA_OK(goaccel_image_new(&img, &o));
	assert_int_equal(goaccel_image_set_base(img, dir, "multi"), GOACCEL_ENOTFOUND);
	goaccel_image_free(img);
	json_decref(single);
	free(idx_json);
	free(index_blob);
	free(index);
	free(dir);
}

/* docker-archive: manifest.json, the config named by its digest, uncompressed layers named by
 * their diff_id; the same image gives the same bytes. */
static void test_image__docker_archive(void **state)
{
	fixture *f = *state;
	char *root = P(f, "root"), *out = P(f, "img.tar"), *out2 = P(f, "img2.tar");
	goaccel_image *img = small_image(root, "docker");
	goaccel_layer_info li;
	struct archive *a;
	struct archive_entry *e;
	char layer_name[80], *s1, *s2;
	int seen_manifest = 0, seen_layer = 0, seen_config = 0;
	GA_OK(goaccel_image_write_docker_archive(img, out, "example.com/app"));
	GA_OK(goaccel_image_write_docker_archive(img, out2, "example.com/app"));
	GA_OK(goaccel_image_layer_info(&li, img, 0));
	snprintf(layer_name, sizeof(layer_name), "%s.tar", hex(&li.diff_id));
	assert_int_equal(goaccel_image_write_docker_archive(img, out, "bad tag"), GOACCEL_EINVALID);
	a = archive_read_new();
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_filename(a, out, 65536), ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		size_t size = (size_t)archive_entry_size(e);
		char *data = malloc(size + 1);
		goaccel_digest d;
		assert_int_equal(archive_read_data(a, data, size), (la_ssize_t)size);
		data[size] = '\0';
		GA_OK(goaccel_digest_buffer(&d, data, size));
		if (!strcmp(name, "manifest.json")) {
			json_t *m = json_loads(data, 0, NULL), *m0 = json_array_get(m, 0);
			assert_string_equal(json_string_value(json_array_get(json_object_get(m0, "RepoTags"), 0)),
			                    "example.com/app:latest");
			assert_string_equal(json_string_value(json_array_get(json_object_get(m0, "Layers"), 0)),
			                    layer_name);
			json_decref(m);
			seen_manifest = 1;
		} else if (!strcmp(name, layer_name)) {
			assert_string_equal(hex(&d), hex(&li.diff_id));
			seen_layer = 1;
		} else {
			char want[80];
			snprintf(want, sizeof(want), "%s.json", hex(&d));
			assert_string_equal(name, want);
			seen_config = 1;
		}
		free(data);
	}
	archive_read_free(a);
	assert_true(seen_manifest && seen_layer && seen_config);
	s1 = tu_sh_out("sha256sum < %s", out);
	s2 = tu_sh_out("sha256sum < %s", out2);
	assert_string_equal(s1, s2);
	free(s1);
	free(s2);
	goaccel_image_free(img);
	free(root);
	free(out);
	free(out2);
}

/* Uncompressed layers (gzip level 0) are stored as plain tar: digest == diff_id. */
static void test_image__uncompressed_layers(void **state)
{
	fixture *f = *state;
	char *root = P(f, "root");
	goaccel_image *img;
	goaccel_image_options o = GOACCEL_IMAGE_OPTIONS_INIT;
	goaccel_layer_info li;
	tu_write(root, "x", "y");
	o.gzip_level = 0;
	GA_OK(goaccel_image_new(&img, &o));
	GA_OK(goaccel_image_add_layer_dir(img, root, NULL));
	GA_OK(goaccel_image_layer_info(&li, img, 0));
	assert_string_equal(li.media_type, "application/vnd.oci.image.layer.v1.tar");
	assert_string_equal(hex(&li.digest), hex(&li.diff_id));
	goaccel_image_free(img);
	o.gzip_level = 10;
	assert_int_equal(goaccel_image_new(&img, &o), GOACCEL_EINVALID);
	free(root);
}

static void test_image__options_and_arguments(void **state)
{
	goaccel_image_options io;
	goaccel_layer_options lo;
	goaccel_image *img = NULL;
	goaccel_layer_info li;
	char *s;
	(void)state;
	GA_OK(goaccel_image_options_init(&io, GOACCEL_IMAGE_OPTIONS_VERSION));
	assert_int_equal(io.gzip_level, 6);
	assert_int_equal(io.source_date_epoch, GOACCEL_IMAGE_EPOCH_FROM_ENV);
	GA_OK(goaccel_layer_options_init(&lo, GOACCEL_LAYER_OPTIONS_VERSION));
	assert_int_equal(lo.uid, 0);
	assert_int_equal(goaccel_layer_options_init(&lo, 0), GOACCEL_EVERSION);
	assert_int_equal(goaccel_image_options_init(NULL, 1), GOACCEL_EINVALID);
	io.version = 99;
	assert_int_equal(goaccel_image_new(&img, &io), GOACCEL_EVERSION);
	assert_int_equal(goaccel_image_new(NULL, NULL), GOACCEL_EINVALID);
	GA_OK(goaccel_image_new(&img, NULL));
	lo.version = 5;
	assert_int_equal(goaccel_image_add_layer_dir(img, "/tmp", &lo), GOACCEL_EVERSION);
	assert_int_equal(goaccel_image_add_layer_dir(img, NULL, NULL), GOACCEL_EINVALID);
	assert_int_equal(goaccel_image_set_entrypoint(NULL, NULL, 0), GOACCEL_EINVALID);
	assert_int_equal(goaccel_image_set_cmd(img, NULL, 2), GOACCEL_EINVALID);
	assert_int_equal(goaccel_image_set_platform(img, "", "amd64", NULL), GOACCEL_EINVALID);
	assert_int_equal(goaccel_image_layer_info(&li, img, 0), GOACCEL_ENOTFOUND);
	assert_int_equal(goaccel_image_layercount(NULL), 0);
	assert_int_equal(goaccel_image_config_json(&s, NULL), GOACCEL_EINVALID);
	assert_int_equal(goaccel_image_write_oci(NULL, img, NULL, "x"), GOACCEL_EINVALID);
	assert_int_equal(goaccel_image_write_docker_archive(img, NULL, NULL), GOACCEL_EINVALID);
	goaccel_image_free(img);
	goaccel_image_free(NULL);
}

/* docs/image.md, section 7: the worked example's digests and config bytes. */
static void test_image__doc_worked_example(void **state)
{
	fixture *f = *state;
	char *root = P(f, "root"), *tar = P(f, "l.tar"), *oci = P(f, "oci"), *cfg, *sh;
	goaccel_image *img;
	goaccel_image_options o = GOACCEL_IMAGE_OPTIONS_INIT;
	goaccel_layer_options lo = GOACCEL_LAYER_OPTIONS_INIT;
	goaccel_layer_info li;
	goaccel_digest diff, manifest;
	const char *ep[] = {"/bin/app"};
	size_t len;
	mode_t old = umask(077);
	tu_write(root, "hello.txt", "hello\n");
	tu_write(root, "bin/app", "#!/bin/sh\n");
	umask(old);
	chmod_rel(root, "hello.txt", 0600);
	chmod_rel(root, "bin", 0700);
	chmod_rel(root, "bin/app", 0700);
	sh = tu_path(root, "bin/sh");
	assert_int_equal(symlink("app", sh), 0);
	GA_OK(goaccel_image_write_layer_tar(&diff, tar, root, 1700000000, NULL));
	free(tu_read(tar, &len));
	assert_int_equal(len, 4096);
	assert_string_equal(hex(&diff), "54f4b4025003c764337cc9a9b47dc62a9d0540835a637afdc3c6845dbeffdebf");
	o.source_date_epoch = 1700000000;
	o.os = "linux";
	o.architecture = "amd64";
	lo.created_by = "image_tool: layer at /";
	GA_OK(goaccel_image_new(&img, &o));
	GA_OK(goaccel_image_add_layer_dir(img, root, &lo));
	GA_OK(goaccel_image_set_entrypoint(img, ep, 1));
	GA_OK(goaccel_image_set_env(img, "TZ", "Asia/Shanghai"));
	GA_OK(goaccel_image_config_json(&cfg, img));
	assert_string_equal(cfg,
	                    "{\"architecture\":\"amd64\",\"config\":{\"Entrypoint\":[\"/bin/app\"],"
	                    "\"Env\":[\"TZ=Asia/Shanghai\"]},\"created\":\"2023-11-14T22:13:20Z\","
	                    "\"history\":[{\"created\":\"2023-11-14T22:13:20Z\",\"created_by\":"
	                    "\"image_tool: layer at /\"}],\"os\":\"linux\",\"rootfs\":{\"diff_ids\":"
	                    "[\"sha256:54f4b4025003c764337cc9a9b47dc62a9d0540835a637afdc3c6845dbeffdebf\"],"
	                    "\"type\":\"layers\"}}");
	GA_OK(goaccel_digest_buffer(&diff, cfg, strlen(cfg)));
	assert_string_equal(hex(&diff), "d7e2f9720d54de8814a2d4737805ed62f64a9f64108a629af2777b4ab68c582c");
	GA_OK(goaccel_image_write_oci(&manifest, img, oci, "example"));
	GA_OK(goaccel_image_layer_info(&li, img, 0));
	/* the compressed bytes are zlib's: pinned for the zlib the example was made with */
	if (!strcmp(zlibVersion(), "1.2.13")) {
		assert_int_equal(li.size, 189);
		assert_string_equal(hex(&li.digest), "67025c56b5a5dcf956b012db3a90f43cf1f6634903db64be19dcd736e2a52eb2");
		assert_string_equal(hex(&manifest), "1194cc03bf7d04c6d2153ee6d63535b86bf079009fce809d958cd6b4c96d6d89");
	} else {
		print_message("zlib %s: blob and manifest digests of the example not compared\n", zlibVersion());
	}
	goaccel_free(cfg);
	goaccel_image_free(img);
	free(sh);
	free(root);
	free(tar);
	free(oci);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_image__layer_tar_encoding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_image__layer_deterministic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_image__gzip_blob, setup, teardown),
		cmocka_unit_test_setup_teardown(test_image__gzip_threads_deterministic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_image__layer_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_image__stat_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_image__store_layer_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_image__prefix_owner_and_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_image__config_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_image__epoch_from_environment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_image__oci_layout_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_image__base_from_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_image__base_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_image__multi_platform_base, setup, teardown),
		cmocka_unit_test_setup_teardown(test_image__docker_archive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_image__uncompressed_layers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_image__doc_worked_example, setup, teardown),
		cmocka_unit_test(test_image__options_and_arguments),
	};
	return cmocka_run_group_tests(tests, tu_group_setup, tu_group_teardown);
}
