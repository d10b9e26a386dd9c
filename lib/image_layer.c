/*
 * image: deterministic tar layers, gzip, digests, and the layer cache (docs/image.md).
 *
 * A layer is made in four steps:
 *   1. scan: the tree under root is listed (never following links) into entries holding exactly
 *      what the tar will record: path in the image, type, recorded mode, owner, size, link
 *      target, device numbers, xattrs;
 *   2. the entries are sorted bytewise by path; hard links are assigned in that order;
 *   3. with a cache: each regular file's content digest is found (through a stat cache or by
 *      reading it), the layer key is computed from the entries, and a cached blob with that key
 *      is used as is;
 *   4. otherwise the tar is written with libarchive (pax_restricted: ustar headers, a pax
 *      extended header only when ustar cannot represent an entry), streamed through SHA-256
 *      (diff_id), deflate at the chosen level in independent 128 KiB blocks on several threads
 *      (image_pgz.c: a gzip header without name or time, the same bytes for any thread count),
 *      and SHA-256 again (digest) into the blob file: one pass over the data.
 *
 * libarchive converts path names with the C library's locale, so the writer runs with the
 * thread's locale set to C.UTF-8 (uselocale): the bytes never depend on the caller's locale.
 */
#include "util/dl_archive.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "image_internal.h"
#include "image_pgz.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/sha.h"

/* A stat-cache entry older than this (relative to when it was hashed) is trusted. */
#define RACY_NS (2LL * 1000000000LL)

typedef struct {
	char *name;
	void *value;
	size_t size;
} xattr_kv;

typedef struct {
	char *path;     /* path in the layer: no leading '/', no trailing '/' */
	char *rel;      /* path below root for reading; NULL for a prefix directory */
	mode_t type;    /* S_IFREG, S_IFDIR, S_IFLNK, S_IFIFO, S_IFCHR, S_IFBLK */
	unsigned perm;  /* recorded permission bits (07777) */
	int64_t uid, gid;
	uint64_t size;  /* regular files (0 for a hard link) */
	char *symlink;  /* symbolic link target */
	char *hardlink; /* layer path of the first entry of this inode */
	dev_t rdev;
	struct stat st; /* as scanned (change detection, stat cache) */
	xattr_kv *xattrs;
	size_t nxattrs;
	goaccel_digest content;
	int have_content;
} layer_entry;

typedef struct {
	layer_entry *v;
	size_t n, cap;
	int rootfd;
	const char *root;
	const goaccel_layer_options *opts;
} entry_list;

/* ---- scanning ------------------------------------------------------------------------------- */

static void entry_dispose(layer_entry *e)
{
	size_t i;
	free(e->path);
	free(e->rel);
	free(e->symlink);
	free(e->hardlink);
	for (i = 0; i < e->nxattrs; i++) {
		free(e->xattrs[i].name);
		free(e->xattrs[i].value);
	}
	free(e->xattrs);
}

static void entries_dispose(entry_list *l)
{
	size_t i;
	for (i = 0; i < l->n; i++)
		entry_dispose(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static layer_entry *entries_push(entry_list *l)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		layer_entry *p = realloc(l->v, nc * sizeof(*p));
		if (!p) {
			ga_error_oom();
			return NULL;
		}
		l->v = p;
		l->cap = nc;
	}
	memset(&l->v[l->n], 0, sizeof(layer_entry));
	return &l->v[l->n++];
}

/* Permission bits as recorded: NORMALIZE derives group/other from the owner's bits. */
static unsigned recorded_perm(mode_t mode, goaccel_layer_mode policy)
{
	unsigned u = (mode >> 6) & 7;
	if (S_ISLNK(mode))
		return 0777;
	if (policy == GOACCEL_LAYER_MODE_KEEP)
		return mode & 07777;
	return (mode & 07000) | (u << 6) | ((u & 5) << 3) | (u & 5);
}

static int is_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		int n;
		unsigned c = *p;
		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3;
		else
			return 0;
		while (n--) {
			p++;
			if ((*p & 0xc0) != 0x80)
				return 0;
		}
		p++;
	}
	return 1;
}

static int read_xattrs(layer_entry *e, int fd, const char *display)
{
	char *names = NULL, *name;
	ssize_t len;
	int error = 0;
	len = flistxattr(fd, NULL, 0);
	if (len <= 0)
		return 0;
	if ((names = malloc((size_t)len)) == NULL)
		return ga_error_oom();
	if ((len = flistxattr(fd, names, (size_t)len)) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: listxattr", display);
		goto done;
	}
	for (name = names; name < names + len; name += strlen(name) + 1) {
		ssize_t vlen;
		xattr_kv *kv;
		if (!strcmp(name, "security.selinux"))
			continue;
		if ((vlen = fgetxattr(fd, name, NULL, 0)) < 0)
			continue;
		kv = realloc(e->xattrs, (e->nxattrs + 1) * sizeof(*kv));
		if (!kv) {
			error = ga_error_oom();
			goto done;
		}
		e->xattrs = kv;
		kv = &e->xattrs[e->nxattrs];
		kv->name = strdup(name);
		kv->value = malloc((size_t)vlen + 1);
		kv->size = 0;
		if (!kv->name || !kv->value) {
			free(kv->name);
			free(kv->value);
			error = ga_error_oom();
			goto done;
		}
		e->nxattrs++;
		if ((vlen = fgetxattr(fd, name, kv->value, (size_t)vlen)) < 0)
			vlen = 0;
		kv->size = (size_t)vlen;
	}
done:
	free(names);
	return error;
}

static int xattr_cmp(const void *a, const void *b)
{
	return strcmp(((const xattr_kv *)a)->name, ((const xattr_kv *)b)->name);
}

static int scan_dir(entry_list *l, int dirfd, const char *rel, const char *prefix);

static int scan_entry(entry_list *l, int dirfd, const char *name, const char *rel,
                      const char *prefix)
{
	layer_entry *e;
	struct stat st;
	const goaccel_layer_options *o = l->opts;
	char *display = NULL;
	int error = 0, fd = -1;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return ga_error_os(0, errno, "%s/%s: stat", l->root, rel);
	if (S_ISSOCK(st.st_mode))
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE,
		                "%s/%s: a socket cannot be stored in a layer", l->root, rel);
	if (!is_utf8(rel))
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE,
		                "%s/%s: file name is not valid UTF-8", l->root, rel);
	if ((e = entries_push(l)) == NULL)
		return GOACCEL_ERROR;
	e->st = st;
	e->type = st.st_mode & S_IFMT;
	e->perm = recorded_perm(st.st_mode, o->mode);
	e->uid = o->uid < 0 ? (int64_t)st.st_uid : o->uid;
	e->gid = o->gid < 0 ? (int64_t)st.st_gid : o->gid;
	e->size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
	e->rdev = st.st_rdev;
	e->rel = strdup(rel);
	e->path = *prefix ? ga_path_join(prefix, rel) : strdup(rel);
	if (!e->rel || !e->path)
		return ga_error_oom();
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX + 1];
		ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
		if (n < 0)
			return ga_error_os(GOACCEL_ERROR, errno, "%s/%s: readlink", l->root, rel);
		target[n] = '\0';
		if (!is_utf8(target))
			return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE,
			                "%s/%s: link target is not valid UTF-8", l->root, rel);
		if ((e->symlink = strdup(target)) == NULL)
			return ga_error_oom();
	}
	if (o->xattrs && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
		if ((display = ga_path_join(l->root, rel)) == NULL)
			return ga_error_oom();
		fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			error = ga_error_os(0, errno, "%s: open", display);
		else
			error = read_xattrs(e, fd, display);
		if (!error && e->nxattrs > 1)
			qsort(e->xattrs, e->nxattrs, sizeof(*e->xattrs), xattr_cmp);
		if (fd >= 0)
			close(fd);
		free(display);
		if (error)
			return error;
	}
	if (S_ISDIR(st.st_mode)) {
		int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			return ga_error_os(0, errno, "%s/%s: open", l->root, rel);
		error = scan_dir(l, sub, rel, prefix);
		close(sub);
	}
	return error;
}

static int scan_dir(entry_list *l, int parent, const char *rel, const char *prefix)
{
	DIR *dir;
	struct dirent *de;
	int fd, error = 0;
	ga_buf child = GA_BUF_INIT;
	if ((fd = openat(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return ga_error_os(GOACCEL_ERROR, errno, "%s/%s: open", l->root, rel);
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return ga_error_os(GOACCEL_ERROR, errno, "%s/%s: opendir", l->root, rel);
	}
	while (!error && (de = readdir(dir)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ga_buf_clear(&child);
		if ((error = ga_buf_printf(&child, "%s%s%s", rel, *rel ? "/" : "", de->d_name)) < 0)
			break;
		error = scan_entry(l, parent, de->d_name, child.ptr, prefix);
	}
	closedir(dir);
	ga_buf_dispose(&child);
	return error;
}

/* Adds the directories of the prefix ("opt/app" -> "opt", "opt/app") as 0755 entries. */
static int add_prefix_dirs(entry_list *l, const char *prefix)
{
	size_t i, len = strlen(prefix);
	for (i = 1; i <= len; i++) {
		layer_entry *e;
		if (prefix[i] != '/' && prefix[i] != '\0')
			continue;
		if ((e = entries_push(l)) == NULL)
			return GOACCEL_ERROR;
		e->type = S_IFDIR;
		e->perm = 0755;
		e->uid = l->opts->uid < 0 ? 0 : l->opts->uid;
		e->gid = l->opts->gid < 0 ? 0 : l->opts->gid;
		if ((e->path = strndup(prefix, i)) == NULL)
			return ga_error_oom();
	}
	return 0;
}

/* Canonical prefix: no leading/trailing '/', no empty, "." or ".." components. */
static int normalize_prefix(char **out, const char *prefix)
{
	ga_buf b = GA_BUF_INIT;
	const char *p = prefix ? prefix : "";
	int error = 0;
	while (*p) {
		size_t n;
		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (n == 0)
			break;
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
			ga_buf_dispose(&b);
			return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE,
			                "layer prefix '%s': '.' and '..' are not allowed", prefix);
		}
		if ((b.size && (error = ga_buf_putc(&b, '/')) < 0) || (error = ga_buf_put(&b, p, n)) < 0)
			break;
		p += n;
	}
	if (!error && (*out = ga_buf_detach(&b)) == NULL)
		error = ga_error_oom();
	ga_buf_dispose(&b);
	if (!error && !is_utf8(*out)) {
		free(*out);
		*out = NULL;
		error = ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE, "layer prefix is not UTF-8");
	}
	return error;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const layer_entry *)a)->path, ((const layer_entry *)b)->path);
}

typedef struct {
	dev_t dev;
	ino_t ino;
	const char *path;
} inode_first;

static int inode_cmp(const void *a, const void *b)
{
	const inode_first *x = a, *y = b;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return 0;
}

/* In path order, the first entry of an inode is the file, later ones link to it. */
static int assign_hardlinks(entry_list *l)
{
	inode_first *seen = NULL;
	size_t nseen = 0, i;
	int error = 0;
	for (i = 0; i < l->n; i++)
		if (l->v[i].rel && S_ISREG(l->v[i].type) && l->v[i].st.st_nlink > 1)
			nseen++;
	if (!nseen)
		return 0;
	if ((seen = calloc(nseen, sizeof(*seen))) == NULL)
		return ga_error_oom();
	nseen = 0;
	for (i = 0; i < l->n && !error; i++) {
		layer_entry *e = &l->v[i];
		inode_first key, *found;
		if (!e->rel || !S_ISREG(e->type) || e->st.st_nlink <= 1)
			continue;
		key.dev = e->st.st_dev;
		key.ino = e->st.st_ino;
		key.path = e->path;
		/* linear scan keeps first-in-path-order semantics simple; hard links are rare */
		found = NULL;
		for (size_t j = 0; j < nseen; j++)
			if (inode_cmp(&seen[j], &key) == 0) {
				found = &seen[j];
				break;
			}
		if (!found) {
			seen[nseen++] = key;
			continue;
		}
		if ((e->hardlink = strdup(found->path)) == NULL)
			error = ga_error_oom();
		e->size = 0;
	}
	free(seen);
	return error;
}

static int scan_tree(entry_list *l, const char *root, const goaccel_layer_options *opts)
{
	char *prefix = NULL;
	int error;
	struct stat st;
	memset(l, 0, sizeof(*l));
	l->opts = opts;
	l->root = root;
	l->rootfd = -1;
	if ((error = normalize_prefix(&prefix, opts->prefix)) < 0)
		return error;
	if ((l->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		error = ga_error_os(0, errno, "layer root %s", root);
		goto done;
	}
	if (fstat(l->rootfd, &st) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: stat", root);
		goto done;
	}
	if ((error = add_prefix_dirs(l, prefix)) < 0 || (error = scan_dir(l, l->rootfd, "", prefix)) < 0)
		goto done;
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), entry_cmp);
	error = assign_hardlinks(l);
done:
	free(prefix);
	if (error) {
		if (l->rootfd >= 0)
			close(l->rootfd);
		l->rootfd = -1;
		entries_dispose(l);
	}
	return error;
}

static void scan_dispose(entry_list *l)
{
	if (l->rootfd >= 0)
		close(l->rootfd);
	l->rootfd = -1;
	entries_dispose(l);
}

/* ---- content digests through a stat cache -------------------------------------------------- */

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static char *stat_cache_path(const char *cache_dir, const char *root)
{
	char real[PATH_MAX], hex[GOACCEL_DIGEST_HEXSIZE + 1], name[128];
	goaccel_digest d;
	if (!realpath(root, real))
		return NULL;
	if (goaccel_digest_buffer(&d, real, strlen(real)) < 0)
		return NULL;
	goaccel_digest_fmt(hex, &d);
	snprintf(name, sizeof(name), "stat-v1/%s.json", hex);
	return ga_path_join(cache_dir, name);
}

json_t *ga_stat_cache_parse(const char *json, size_t len)
{
	json_t *root = json ? json_loadb(json, len, 0, NULL) : NULL, *entries;
	entries = root ? json_object_get(root, "entries") : NULL;
	if (!json_is_object(entries) || !json_is_integer(json_object_get(root, "version")) ||
	    json_integer_value(json_object_get(root, "version")) != 1) {
		json_decref(root);
		return json_object(); /* unreadable: an empty cache, everything is re-hashed */
	}
	json_incref(entries);
	json_decref(root);
	return entries;
}

static json_t *load_stat_cache(const char *path)
{
	ga_buf b = GA_BUF_INIT;
	json_t *entries;
	if (ga_read_file(&b, path, 64 << 20) == 0)
		entries = ga_stat_cache_parse(b.ptr, b.size);
	else
		entries = json_object();
	ga_buf_dispose(&b);
	goaccel_error_clear();
	return entries;
}

/* [dev, ino, size, mtime_ns, ctime_ns, "hex"] matching st, or 0. */
int ga_stat_cache_lookup(goaccel_digest *out, json_t *cache, const char *rel, const struct stat *st)
{
	json_t *v = json_object_get(cache, rel);
	const char *hexd;
	if (!json_is_array(v) || json_array_size(v) != 6)
		return 0;
	if (json_integer_value(json_array_get(v, 0)) != (json_int_t)st->st_dev ||
	    json_integer_value(json_array_get(v, 1)) != (json_int_t)st->st_ino ||
	    json_integer_value(json_array_get(v, 2)) != (json_int_t)st->st_size ||
	    json_integer_value(json_array_get(v, 3)) != ts_ns(&st->st_mtim) ||
	    json_integer_value(json_array_get(v, 4)) != ts_ns(&st->st_ctim))
		return 0;
	hexd = json_string_value(json_array_get(v, 5));
	return hexd && goaccel_digest_parse(out, hexd) == 0;
}

static int hash_file_at(goaccel_digest *out, int rootfd, const char *rel, const struct stat *st,
                        const char *root)
{
	int fd, error;
	uint64_t size = 0;
	struct stat after;
	char *display = ga_path_join(root, rel);
	if (!display)
		return ga_error_oom();
	if ((fd = openat(rootfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)) < 0) {
		error = ga_error_os(0, errno, "%s: open", display);
		goto done;
	}
	if ((error = ga_digest_fd(out, fd, display, &size)) < 0)
		goto done;
	if (fstat(fd, &after) < 0 || size != (uint64_t)st->st_size ||
	    ts_ns(&after.st_mtim) != ts_ns(&st->st_mtim) || after.st_size != st->st_size)
		error = ga_error(GOACCEL_ECHANGED, GOACCEL_ERROR_IMAGE,
		                 "%s: changed while the layer was made", display);
done:
	if (fd >= 0)
		close(fd);
	free(display);
	return error;
}

/* Fills the content digests of regular files (not hard links), using and refreshing the stat
 * cache under cache_dir. */
static int content_digests(entry_list *l, const char *cache_dir)
{
	char *cpath = stat_cache_path(cache_dir, l->root);
	json_t *cache = cpath ? load_stat_cache(cpath) : json_object();
	json_t *fresh = json_object();
	int64_t now = ga_now_ns();
	int error = 0, dirty = 0;
	size_t i;
	if (!cache || !fresh) {
		error = ga_error_oom();
		goto done;
	}
	for (i = 0; i < l->n && !error; i++) {
		layer_entry *e = &l->v[i];
		char hex[GOACCEL_DIGEST_HEXSIZE + 1];
		json_t *rec;
		if (!e->rel || !S_ISREG(e->type) || e->hardlink)
			continue;
		if (!ga_stat_cache_lookup(&e->content, cache, e->rel, &e->st)) {
			if ((error = hash_file_at(&e->content, l->rootfd, e->rel, &e->st, l->root)) < 0)
				break;
			dirty = 1;
		}
		e->have_content = 1;
		/* an entry changed less than RACY_NS before now could change again unseen */
		if (now - ts_ns(&e->st.st_mtim) < RACY_NS || now - ts_ns(&e->st.st_ctim) < RACY_NS) {
			dirty = 1;
			continue;
		}
		goaccel_digest_fmt(hex, &e->content);
		rec = json_pack("[IIIIIs]", (json_int_t)e->st.st_dev, (json_int_t)e->st.st_ino,
		                (json_int_t)e->st.st_size, (json_int_t)ts_ns(&e->st.st_mtim),
		                (json_int_t)ts_ns(&e->st.st_ctim), hex);
		if (rec)
			json_object_set_new(fresh, e->rel, rec);
	}
	if (!error && cpath && (dirty || json_object_size(cache) != json_object_size(fresh))) {
		json_t *doc = json_pack("{sisO}", "version", 1, "entries", fresh);
		char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
		char *slash = strrchr(cpath, '/');
		/* a stat cache is an optimisation: failing to save it is not an error */
		*slash = '\0';
		if (text && ga_mkdir_p(cpath, 0755) == 0) {
			*slash = '/';
			ga_write_file_atomic(cpath, text, strlen(text), 0644, 0);
		}
		*slash = '/';
		goaccel_error_clear();
		free(text);
		json_decref(doc);
	}
done:
	json_decref(cache);
	json_decref(fresh);
	free(cpath);
	return error;
}

/* ---- the layer key ------------------------------------------------------------------------- */

static int put_str(ga_buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	int error;
	if ((error = ga_buf_put_u64be(b, n)) < 0)
		return error;
	return ga_buf_put(b, s ? s : "", n);
}

/* docs/image.md, "Layer key": a length-prefixed encoding of the writer's parameters and every
 * entry's recorded fields, hashed with SHA-256. */
static int layer_key(goaccel_digest *out, const entry_list *l, const ga_layer_params *p)
{
	ga_buf b = GA_BUF_INIT;
	char lib[64];
	size_t i, j;
	int error = 0;
	snprintf(lib, sizeof(lib), "zlib %s libarchive %d", zlibVersion(), archive_version_number());
	if ((error = put_str(&b, "goaccel-layer-key")) < 0 ||
	    (error = ga_buf_put_u32be(&b, GA_LAYER_ENCODING_VERSION)) < 0 ||
	    (error = put_str(&b, lib)) < 0 ||
	    (error = ga_buf_put_u32be(&b, (uint32_t)p->gzip_level)) < 0 ||
	    (error = ga_buf_put_u64be(&b, (uint64_t)p->epoch)) < 0 ||
	    (error = ga_buf_put_u64be(&b, l->n)) < 0)
		goto done;
	for (i = 0; i < l->n && !error; i++) {
		const layer_entry *e = &l->v[i];
		char hex[GOACCEL_DIGEST_HEXSIZE + 1] = "";
		if (e->have_content)
			goaccel_digest_fmt(hex, &e->content);
		if ((error = put_str(&b, e->path)) < 0 ||
		    (error = ga_buf_put_u32be(&b, (uint32_t)e->type)) < 0 ||
		    (error = ga_buf_put_u32be(&b, e->perm)) < 0 ||
		    (error = ga_buf_put_u64be(&b, (uint64_t)e->uid)) < 0 ||
		    (error = ga_buf_put_u64be(&b, (uint64_t)e->gid)) < 0 ||
		    (error = ga_buf_put_u64be(&b, e->size)) < 0 ||
		    (error = put_str(&b, hex)) < 0 || (error = put_str(&b, e->symlink)) < 0 ||
		    (error = put_str(&b, e->hardlink)) < 0 ||
		    (error = ga_buf_put_u32be(&b, major(e->rdev))) < 0 ||
		    (error = ga_buf_put_u32be(&b, minor(e->rdev))) < 0 ||
		    (error = ga_buf_put_u64be(&b, e->nxattrs)) < 0)
			break;
		for (j = 0; j < e->nxattrs && !error; j++)
			if ((error = put_str(&b, e->xattrs[j].name)) == 0 &&
			    (error = ga_buf_put_u64be(&b, e->xattrs[j].size)) == 0)
				error = ga_buf_put(&b, e->xattrs[j].value, e->xattrs[j].size);
	}
	if (!error)
		error = goaccel_digest_buffer(out, b.ptr, b.size);
done:
	ga_buf_dispose(&b);
	return error;
}

/* ---- writing: tar -> sha256 (diff_id) -> deflate -> sha256 (digest) -> file --------------- */

typedef struct {
	int fd;
	const char *path;
	goaccel_digest_ctx *diff;
	goaccel_digest_ctx *blob;
	ga_pgz *gz; /* NULL: uncompressed */
	uint64_t tar_size;
	uint64_t blob_size;
	int error; /* the first failure, already reported */
} layer_sink;

static int sink_out(layer_sink *s, const void *data, size_t len)
{
	int error;
	if ((error = goaccel_digest_ctx_update(s->blob, data, len)) < 0 ||
	    (error = ga_write_all(s->fd, data, len, s->path)) < 0)
		return error;
	s->blob_size += len;
	return 0;
}

static int sink_gz_out(const void *data, size_t len, void *payload)
{
	return sink_out(payload, data, len);
}

static la_ssize_t sink_write(struct archive *a, void *payload, const void *buf, size_t len)
{
	layer_sink *s = payload;
	int error;
	(void)a;
	if (s->error)
		return -1;
	if ((error = goaccel_digest_ctx_update(s->diff, buf, len)) == 0)
		error = s->gz ? ga_pgz_write(s->gz, buf, len) : sink_out(s, buf, len);
	if (error) {
		s->error = error;
		return -1;
	}
	s->tar_size += len;
	return (la_ssize_t)len;
}

static int sink_init(layer_sink *s, int fd, const char *path, int level, unsigned threads)
{
	int error;
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->path = path;
	if ((error = goaccel_digest_ctx_new(&s->diff)) < 0 || (error = goaccel_digest_ctx_new(&s->blob)) < 0)
		return error;
	if (level > 0 && (error = ga_pgz_new(&s->gz, level, threads, sink_gz_out, s)) < 0)
		return error;
	return 0;
}

static void sink_dispose(layer_sink *s)
{
	ga_pgz_free(s->gz);
	goaccel_digest_ctx_free(s->diff);
	goaccel_digest_ctx_free(s->blob);
}

static int archive_fail(struct archive *a, layer_sink *s, const char *what)
{
	if (s->error)
		return s->error;
	return ga_error(GOACCEL_ERROR, GOACCEL_ERROR_ARCHIVE, "%s: %s: %s", s->path, what,
	                archive_error_string(a) ? archive_error_string(a) : "libarchive failed");
}

static int write_file_data(struct archive *a, layer_sink *s, const entry_list *l,
                           const layer_entry *e, unsigned char *buf)
{
	int fd, error = 0;
	uint64_t left = e->size;
	goaccel_digest_ctx *ctx = NULL;
	goaccel_digest got;
	struct stat after;
	char *display = ga_path_join(l->root, e->rel);
	if (!display)
		return ga_error_oom();
	if ((fd = openat(l->rootfd, e->rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)) < 0) {
		error = ga_error_os(0, errno, "%s: open", display);
		goto done;
	}
	if (e->have_content && (error = goaccel_digest_ctx_new(&ctx)) < 0)
		goto done;
	while (left > 0) {
		ssize_t n = read(fd, buf, left < GA_IO_CHUNK ? (size_t)left : GA_IO_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error = ga_error_os(GOACCEL_ERROR, errno, "%s: read", display);
			goto done;
		}
		if (n == 0)
			break;
		if (ctx && (error = goaccel_digest_ctx_update(ctx, buf, (size_t)n)) < 0)
			goto done;
		if (archive_write_data(a, buf, (size_t)n) != n) {
			error = archive_fail(a, s, "write data");
			goto done;
		}
		left -= (uint64_t)n;
	}
	if (left > 0 || fstat(fd, &after) < 0 || after.st_size != e->st.st_size ||
	    ts_ns(&after.st_mtim) != ts_ns(&e->st.st_mtim)) {
		error = ga_error(GOACCEL_ECHANGED, GOACCEL_ERROR_IMAGE,
		                 "%s: changed while the layer was written", display);
		goto done;
	}
	if (ctx && ((error = goaccel_digest_ctx_finish(&got, ctx)) < 0 ||
	            goaccel_digest_cmp(&got, &e->content) != 0)) {
		error = error ? error : ga_error(GOACCEL_ECHANGED, GOACCEL_ERROR_IMAGE,
		                                 "%s: content changed while the layer was made", display);
		goto done;
	}
done:
	goaccel_digest_ctx_free(ctx);
	if (fd >= 0)
		close(fd);
	free(display);
	return error;
}

static int write_entries(struct archive *a, layer_sink *s, const entry_list *l, int64_t epoch)
{
	struct archive_entry *ae = archive_entry_new();
	unsigned char *buf = malloc(GA_IO_CHUNK);
	size_t i, j;
	int error = 0;
	if (!ae || !buf) {
		error = ga_error_oom();
		goto done;
	}
	for (i = 0; i < l->n && !error; i++) {
		const layer_entry *e = &l->v[i];
		archive_entry_clear(ae);
		archive_entry_set_pathname(ae, e->path);
		archive_entry_set_filetype(ae, (unsigned)e->type);
		archive_entry_set_perm(ae, (mode_t)e->perm);
		archive_entry_set_uid(ae, e->uid);
		archive_entry_set_gid(ae, e->gid);
		archive_entry_set_uname(ae, "");
		archive_entry_set_gname(ae, "");
		archive_entry_set_mtime(ae, (time_t)epoch, 0);
		archive_entry_set_size(ae, (la_int64_t)e->size);
		if (e->symlink)
			archive_entry_set_symlink(ae, e->symlink);
		if (e->hardlink)
			archive_entry_set_hardlink(ae, e->hardlink);
		if (S_ISCHR(e->type) || S_ISBLK(e->type)) {
			archive_entry_set_rdevmajor(ae, major(e->rdev));
			archive_entry_set_rdevminor(ae, minor(e->rdev));
		}
		for (j = 0; j < e->nxattrs; j++)
			archive_entry_xattr_add_entry(ae, e->xattrs[j].name, e->xattrs[j].value,
			                              e->xattrs[j].size);
		if (archive_write_header(a, ae) != ARCHIVE_OK) {
			error = archive_fail(a, s, e->path);
			break;
		}
		if (S_ISREG(e->type) && !e->hardlink && e->size > 0)
			error = write_file_data(a, s, l, e, buf);
	}
done:
	archive_entry_free(ae);
	free(buf);
	return error;
}

/* Writes the tar of l into fd (through the sink). */
static int write_layer(goaccel_digest *diff_id, goaccel_digest *digest, uint64_t *blob_size,
                       const entry_list *l, int fd, const char *path, int64_t epoch, int level,
                       unsigned threads)
{
	struct archive *a = NULL;
	layer_sink s;
	locale_t utf8 = (locale_t)0, prev = (locale_t)0;
	int error;
	if ((error = sink_init(&s, fd, path, level, threads)) < 0)
		goto done;
	if ((utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0)) == (locale_t)0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "newlocale C.UTF-8");
		goto done;
	}
	prev = uselocale(utf8);
	if ((a = archive_write_new()) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
	    archive_write_open(a, &s, NULL, sink_write, NULL) != ARCHIVE_OK) {
		error = archive_fail(a, &s, "open");
		goto done;
	}
	if ((error = write_entries(a, &s, l, epoch)) < 0)
		goto done;
	if (archive_write_close(a) != ARCHIVE_OK) {
		error = archive_fail(a, &s, "close");
		goto done;
	}
	if (s.gz && (error = ga_pgz_finish(s.gz)) < 0)
		goto done;
	if ((error = goaccel_digest_ctx_finish(diff_id, s.diff)) < 0 ||
	    (error = goaccel_digest_ctx_finish(digest, s.blob)) < 0)
		goto done;
	if (blob_size)
		*blob_size = s.blob_size;
done:
	if (a)
		archive_write_free(a);
	if (prev)
		uselocale(prev);
	if (utf8)
		freelocale(utf8);
	sink_dispose(&s);
	return error;
}

/* ---- the cache and the public entry points --------------------------------------------------- */

static int open_temp(int *fd, char **path, const char *dir)
{
	char *p;
	int error;
	if ((error = ga_mkdir_p(dir, 0755)) < 0)
		return error;
	if ((p = ga_path_join(dir, ".tmp-layer-XXXXXX")) == NULL)
		return ga_error_oom();
	if ((*fd = mkostemp(p, O_CLOEXEC)) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: create", p);
		free(p);
		return error;
	}
	*path = p;
	return 0;
}

static char *blob_path_in(const char *dir, const goaccel_digest *d)
{
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	char rel[GOACCEL_DIGEST_HEXSIZE + 16];
	goaccel_digest_fmt(hex, d);
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", hex);
	return ga_path_join(dir, rel);
}

static char *record_path(const char *cache_dir, const goaccel_digest *key)
{
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	char rel[GOACCEL_DIGEST_HEXSIZE + 32];
	goaccel_digest_fmt(hex, key);
	snprintf(rel, sizeof(rel), "layers-v%d/%s.json", GA_LAYER_ENCODING_VERSION, hex);
	return ga_path_join(cache_dir, rel);
}

static const char *layer_media_type(int level)
{
	return level > 0 ? GA_MT_OCI_LAYER_GZIP : GA_MT_OCI_LAYER;
}

static int digest_field(goaccel_digest *out, json_t *obj, const char *key)
{
	const char *v = json_string_value(json_object_get(obj, key));
	return v && goaccel_digest_parse(out, v) == 0;
}

int ga_layer_parse_record(ga_layer_record *out, const char *json, size_t len)
{
	json_t *rec = json_loadb(json, len, 0, NULL), *size, *mt;
	memset(out, 0, sizeof(*out));
	if (!json_is_object(rec)) {
		json_decref(rec);
		return 0;
	}
	out->has_digest = digest_field(&out->digest, rec, "digest");
	out->has_diff_id = digest_field(&out->diff_id, rec, "diff_id");
	size = json_object_get(rec, "size");
	if (json_is_integer(size) && json_integer_value(size) >= 0) {
		out->size = (uint64_t)json_integer_value(size);
		out->has_size = 1;
	}
	mt = json_object_get(rec, "media_type");
	if (json_is_string(mt) && ga_oci_media_kind(json_string_value(mt)) == GA_MT_LAYER)
		snprintf(out->media_type, sizeof(out->media_type), "%s", json_string_value(mt));
	json_decref(rec);
	return 1;
}

/* A hit: the record parses, and its blob exists with the recorded size. */
static int cache_lookup(ga_layer *out, const char *cache_dir, const goaccel_digest *key, int level)
{
	char *rp = record_path(cache_dir, key), *bp = NULL;
	ga_buf b = GA_BUF_INIT;
	ga_layer_record r;
	struct stat st;
	int hit = 0;
	if (!rp || ga_read_file(&b, rp, 1 << 16) < 0)
		goto done;
	if (!ga_layer_parse_record(&r, b.ptr, b.size) || !r.has_digest || !r.has_diff_id ||
	    !r.has_size || strcmp(r.media_type, layer_media_type(level)) != 0)
		goto done;
	out->digest = r.digest;
	out->diff_id = r.diff_id;
	out->size = r.size;
	if ((bp = blob_path_in(cache_dir, &out->digest)) == NULL || stat(bp, &st) < 0 ||
	    !S_ISREG(st.st_mode) || (uint64_t)st.st_size != out->size)
		goto done;
	out->media_type = strdup(layer_media_type(level));
	out->blob_path = bp;
	bp = NULL;
	hit = out->media_type != NULL;
done:
	goaccel_error_clear();
	ga_buf_dispose(&b);
	free(rp);
	free(bp);
	return hit;
}

static int cache_record(const char *cache_dir, const goaccel_digest *key, const ga_layer *layer)
{
	char d[72], di[72];
	char *rp = record_path(cache_dir, key), *text = NULL, *slash;
	json_t *rec;
	int error = 0;
	ga_digest_str(d, &layer->digest);
	ga_digest_str(di, &layer->diff_id);
	rec = json_pack("{sssssIss}", "digest", d, "diff_id", di, "size", (json_int_t)layer->size,
	                "media_type", layer->media_type);
	if (!rp || !rec || (text = ga_json_dump(rec)) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	slash = strrchr(rp, '/');
	*slash = '\0';
	error = ga_mkdir_p(rp, 0755);
	*slash = '/';
	if (!error)
		error = ga_write_file_atomic(rp, text, strlen(text), 0644, 0);
done:
	free(text);
	json_decref(rec);
	free(rp);
	return error;
}

/* Store mode (docs/image.md §4): the layer is an action of kind "image-layer" whose one output
 * "layer" is the blob and whose info holds the diff_id and media type. A record that does not
 * have that shape is a miss (the put that follows replaces it). */
static int store_lookup(ga_layer *out, const ga_layer_params *p, const goaccel_digest *key)
{
	goaccel_action *act = NULL;
	const goaccel_action_output_info *o;
	const char *info_text;
	ga_layer_record r;
	char *path = NULL;
	int rc, hit = 0;
	rc = goaccel_store_action_lookup(&act, p->store, GA_LAYER_ACTION_KIND, key);
	if (rc == GOACCEL_ENOTFOUND) {
		goaccel_error_clear();
		return 0;
	}
	if (rc < 0)
		return rc;
	o = goaccel_action_output_count(act) == 1 ? goaccel_action_output_byindex(act, 0) : NULL;
	info_text = goaccel_action_info(act);
	if (!o || strcmp(o->name, "layer") != 0 || !info_text ||
	    !ga_layer_parse_record(&r, info_text, strlen(info_text)) || !r.has_diff_id ||
	    strcmp(r.media_type, layer_media_type(p->gzip_level)) != 0)
		goto done;
	out->diff_id = r.diff_id;
	if ((rc = goaccel_store_blob_path(&path, p->store, &o->digest)) < 0)
		goto done;
	out->digest = o->digest;
	out->size = o->size;
	if ((out->blob_path = strdup(path)) == NULL || (out->media_type = strdup(layer_media_type(p->gzip_level))) == NULL) {
		free(out->blob_path);
		out->blob_path = NULL;
		rc = ga_error_oom();
		goto done;
	}
	out->action = act;
	act = NULL;
	hit = 1;
done:
	goaccel_error_clear();
	goaccel_free(path);
	goaccel_action_free(act);
	return rc < 0 ? rc : hit;
}

static int store_record(const ga_layer_params *p, const goaccel_digest *key, const ga_layer *layer,
                        int64_t duration_ns)
{
	goaccel_action_output output = {"layer", layer->blob_path, 0444, NULL, 0};
	goaccel_action_meta meta = GOACCEL_ACTION_META_INIT;
	char di[72], *info;
	json_t *doc;
	int error;
	ga_digest_str(di, &layer->diff_id);
	doc = json_pack("{ssss}", "diff_id", di, "media_type", layer->media_type);
	if (!doc || (info = ga_json_dump(doc)) == NULL) {
		json_decref(doc);
		return ga_error_oom();
	}
	meta.duration_ns = duration_ns;
	meta.info = info;
	error = goaccel_store_action_put(p->store, key, GA_LAYER_ACTION_KIND, &output, 1, &meta);
	free(info);
	json_decref(doc);
	return error;
}

static int layer_params_check(const ga_layer_params *p)
{
	const goaccel_layer_options *o = p->opts;
	if (o->mode != GOACCEL_LAYER_MODE_NORMALIZE && o->mode != GOACCEL_LAYER_MODE_KEEP)
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE, "layer options: bad mode policy %d",
		                (int)o->mode);
	if (o->uid < -1 || o->gid < -1 || o->uid > 0x7fffffffLL || o->gid > 0x7fffffffLL)
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE, "layer options: bad uid/gid");
	if (p->epoch < 0 || p->epoch > 253402300799LL)
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE,
		                "source_date_epoch %lld is out of range", (long long)p->epoch);
	return 0;
}

int ga_layer_build(ga_layer *out, const char *root, const ga_layer_params *p)
{
	entry_list l;
	goaccel_digest key;
	char *tmp = NULL, *final = NULL, *dir;
	int fd = -1, error, scanned = 0, hit;
	int64_t started = ga_monotonic_ns();
	memset(out, 0, sizeof(*out));
	/* libarchive writes the tar, and its version is part of the layer key */
	if ((error = layer_params_check(p)) < 0 || (error = ga_archive_load()) < 0)
		return error;
	if ((error = scan_tree(&l, root, p->opts)) < 0)
		return error;
	scanned = 1;
	if (p->store || p->cache_dir) {
		if ((error = content_digests(&l, p->stat_dir)) < 0 || (error = layer_key(&key, &l, p)) < 0)
			goto done;
		hit = p->store ? store_lookup(out, p, &key) : cache_lookup(out, p->cache_dir, &key, p->gzip_level);
		if (hit < 0) {
			error = hit;
			goto done;
		}
		if (hit) {
			out->cache_hit = 1;
			goto done;
		}
	}
	/* with a store the blob is written to the image's scratch directory and copied in by the
	 * store; with a cache directory it is written there directly */
	dir = (char *)(p->cache_dir && !p->store ? p->cache_dir : p->tmp_dir);
	{
		char *tdir = ga_path_join(dir, "tmp");
		if (!tdir) {
			error = ga_error_oom();
			goto done;
		}
		error = open_temp(&fd, &tmp, tdir);
		free(tdir);
		if (error)
			goto done;
	}
	if ((error = write_layer(&out->diff_id, &out->digest, &out->size, &l, fd, tmp, p->epoch,
	                         p->gzip_level, p->threads)) < 0)
		goto done;
	if (fchmod(fd, 0444) < 0 || close(fd) < 0) {
		fd = -1;
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: close", tmp);
		goto done;
	}
	fd = -1;
	if ((final = blob_path_in(dir, &out->digest)) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	{
		char *slash = strrchr(final, '/');
		*slash = '\0';
		error = ga_mkdir_p(final, 0755);
		*slash = '/';
		if (error)
			goto done;
	}
	if (rename(tmp, final) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: rename to %s", tmp, final);
		goto done;
	}
	if ((out->media_type = strdup(layer_media_type(p->gzip_level))) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	out->blob_path = final;
	final = NULL;
	if (p->store)
		error = store_record(p, &key, out, ga_monotonic_ns() - started);
	else if (p->cache_dir)
		error = cache_record(p->cache_dir, &key, out);
done:
	if (fd >= 0)
		close(fd);
	if (tmp && (error || out->blob_path == NULL))
		unlink(tmp);
	free(tmp);
	free(final);
	if (scanned)
		scan_dispose(&l);
	if (error) {
		free(out->media_type);
		free(out->blob_path);
		out->media_type = out->blob_path = NULL;
	}
	return error;
}

int ga_layer_write_tar(goaccel_digest *diff_id, const char *tar_path, const char *root,
                       const ga_layer_params *p)
{
	entry_list l;
	goaccel_digest digest;
	char *tmp = NULL, *dir = NULL, *slash;
	int fd = -1, error, scanned = 0;
	/* libarchive writes the tar, and its version is part of the layer key */
	if ((error = layer_params_check(p)) < 0 || (error = ga_archive_load()) < 0)
		return error;
	if ((error = scan_tree(&l, root, p->opts)) < 0)
		return error;
	scanned = 1;
	if ((dir = strdup(tar_path)) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	if ((error = open_temp(&fd, &tmp, slash ? (*dir ? dir : "/") : ".")) < 0)
		goto done;
	if ((error = write_layer(diff_id, &digest, NULL, &l, fd, tmp, p->epoch, 0, 0)) < 0)
		goto done;
	if (fchmod(fd, 0644) < 0 || close(fd) < 0) {
		fd = -1;
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: close", tmp);
		goto done;
	}
	fd = -1;
	if (rename(tmp, tar_path) < 0)
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: rename", tar_path);
done:
	if (fd >= 0)
		close(fd);
	if (tmp && error)
		unlink(tmp);
	free(tmp);
	free(dir);
	if (scanned)
		scan_dispose(&l);
	return error;
}
