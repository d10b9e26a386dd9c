/* hash layer: the documented format (examples + reference implementation), the soundness tables
 * (mutations change the digest, irrelevant changes do not), the racy stat cache, selection by
 * patterns and by .gitignore (compared with git itself), symbolic links, manifests and their
 * diff, hash_paths, and bad input. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

#include "testutil.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/hash_internal.h"

/* ---- helpers -------------------------------------------------------------------------------- */

static goaccel_digest hash_of(const char *root, const goaccel_hash_options *opts)
{
	goaccel_digest d;
	GA_OK(goaccel_hash_tree(&d, NULL, root, opts));
	return d;
}

static char *hex_of(const goaccel_digest *d)
{
	static char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	goaccel_digest_fmt(hex, d);
	return hex;
}

static goaccel_manifest *manifest_of(const char *root, const goaccel_hash_options *opts)
{
	goaccel_manifest *m = NULL;
	goaccel_digest d;
	GA_OK(goaccel_hash_tree(&d, &m, root, opts));
	assert_int_equal(goaccel_digest_cmp(&d, goaccel_manifest_digest(m)), 0);
	return m;
}

/* The manifest's paths as one string, NUL-separated (comparable with `git ls-files -z`). */
static char *paths_of(const goaccel_manifest *m)
{
	ga_buf b = GA_BUF_INIT;
	size_t i;
	for (i = 0; i < goaccel_manifest_entrycount(m); i++) {
		ga_buf_puts(&b, goaccel_manifest_entry_byindex(m, i)->path);
		ga_buf_putc(&b, '\n');
	}
	return ga_buf_detach(&b);
}

/* A small tree used by the soundness tables. */
static void make_base(const char *dir)
{
	assert_int_equal(tu_sh("set -e; mkdir -p '%s' && cd '%s' && mkdir -p src/pkg docs && "
	                       "printf 'package main\\n' > src/main.go && printf 'package pkg\\n' > src/pkg/p.go && "
	                       "printf 'hello' > docs/readme.txt && printf '#!/bin/sh\\n' > run.sh && chmod 755 run.sh && "
	                       "ln -s src/main.go link && printf 'x' > other",
	                       dir, dir),
	                 0);
}

/* ---- the documented format ------------------------------------------------------------------ */

static char *read_doc(void)
{
	return tu_read(GOACCEL_SOURCE_DIR "/docs/hashing.md", NULL);
}

/* Every "### Example" section of docs/hashing.md: run its sh block, hash "tree", compare with
 * its "Digest:" line. */
static void test_hash__doc_examples(void **state)
{
	char *doc = read_doc(), *p = doc;
	int examples = 0;
	(void)state;
	while ((p = strstr(p, "\n### Example")) != NULL) {
		char *next = strstr(p + 1, "\n### "), *sh, *end, *dig, *dir, *script, *tree;
		char expected[65];
		size_t n;
		sh = strstr(p, "```sh\n");
		dig = strstr(p, "Digest: `");
		assert_non_null(sh);
		assert_non_null(dig);
		if (next)
			assert_true(sh < next && dig < next);
		sh += 6;
		end = strstr(sh, "```");
		assert_non_null(end);
		n = (size_t)(end - sh);
		memcpy(expected, dig + 9, 64);
		expected[64] = '\0';
		dir = tu_tempdir("ga-hash-doc");
		script = calloc(1, n + 1);
		memcpy(script, sh, n);
		tu_write(dir, "make.sh", script);
		assert_int_equal(tu_sh("cd '%s' && sh make.sh", dir), 0);
		tree = tu_path(dir, "tree");
		{
			goaccel_digest d = hash_of(tree, NULL);
			assert_string_equal(hex_of(&d), expected);
		}
		examples++;
		free(tree);
		free(script);
		tu_rmtree(dir);
		free(dir);
		p++;
	}
	assert_true(examples >= 4);
	free(doc);
}

/* The Python program of docs/hashing.md section 4 agrees with the library on a varied tree. */
static void test_hash__reference_implementation(void **state)
{
	char *doc = read_doc(), *start, *end, *dir, *tree, *out;
	const char *cases[] = {"tree", "tree/sub/deep/f1", NULL};
	int i;
	(void)state;
	start = strstr(doc, "```python\n");
	assert_non_null(start);
	start += 10;
	end = strstr(start, "```");
	*end = '\0';
	dir = tu_tempdir("ga-hash-ref");
	tu_write(dir, "ref.py", start);
	assert_int_equal(tu_sh("set -e; cd '%s' && mkdir -p tree/sub/deep tree/a tree/emptydir && "
	                       "printf 'one' > tree/sub/deep/f1 && chmod 700 tree/sub/deep/f1 && "
	                       "printf '' > tree/empty && head -c 300000 /dev/urandom > tree/big && "
	                       "printf 'n' > 'tree/new\nline' && printf 'l' > \"$(printf 'tree/\\377\\376bad')\" && "
	                       "printf 'c' > tree/café && printf 'z' > tree/a-b && printf 'z' > tree/a/b && "
	                       "ln -s ../outside tree/escape && ln -s sub tree/dirlink && "
	                       "ln -s \"$(printf '\\377target')\" tree/oddlink && mkdir -p tree/.git && "
	                       "printf 'ignored' > tree/.git/HEAD && printf 'tab' > \"$(printf 'tree/t\\tb')\"",
	                       dir),
	                 0);
	for (i = 0; cases[i]; i++) {
		unsigned threads;
		tree = tu_path(dir, cases[i]);
		out = tu_sh_out("cd '%s' && python3 ref.py '%s'", dir, cases[i]);
		for (threads = 1; threads <= 4; threads *= 2) {
			goaccel_hash_options opts = GOACCEL_HASH_OPTIONS_INIT;
			goaccel_digest d;
			opts.threads = threads;
			d = hash_of(tree, &opts);
			assert_string_equal(hex_of(&d), out);
		}
		free(out);
		free(tree);
	}
	tu_rmtree(dir);
	free(dir);
	free(doc);
}

static void test_hash__file_root_and_options(void **state)
{
	goaccel_hash_options opts;
	goaccel_manifest *m;
	char *dir = tu_tempdir("ga-hash-file"), *f;
	(void)state;
	tu_write(dir, "f.txt", "hello\n");
	f = tu_path(dir, "f.txt");
	m = manifest_of(f, NULL);
	assert_int_equal(goaccel_manifest_entrycount(m), 1);
	assert_string_equal(goaccel_manifest_entry_byindex(m, 0)->path, "");
	assert_string_equal(hex_of(goaccel_manifest_digest(m)),
	                    "e469d843b66a0fdf4c1c394cfbdcf16faa2dd624d27a9bc967907f73d50528cd");
	goaccel_manifest_free(m);
	GA_OK(goaccel_hash_options_init(&opts, GOACCEL_HASH_OPTIONS_VERSION));
	assert_int_equal(opts.threads, 0);
	assert_int_equal(goaccel_hash_options_init(&opts, 999), GOACCEL_EVERSION);
	assert_int_equal(goaccel_hash_options_init(NULL, GOACCEL_HASH_OPTIONS_VERSION), GOACCEL_EINVALID);
	opts.version = 42;
	{
		goaccel_digest d;
		assert_int_equal(goaccel_hash_tree(&d, NULL, dir, &opts), GOACCEL_EVERSION);
		assert_int_equal(goaccel_hash_tree(NULL, NULL, dir, NULL), GOACCEL_EINVALID);
		assert_int_equal(goaccel_hash_tree(&d, NULL, NULL, NULL), GOACCEL_EINVALID);
		assert_int_equal(goaccel_hash_paths(&d, NULL, dir, NULL, 1, NULL), GOACCEL_EINVALID);
	}
	free(f);
	tu_rmtree(dir);
	free(dir);
}

/* ---- soundness tables ----------------------------------------------------------------------- */

/* Each mutation, applied to a fresh copy of the base tree, must change the digest. */
static void test_hash__mutations_change_the_digest(void **state)
{
	static const struct {
		const char *name, *cmd;
	} table[] = {
		{"one byte of content", "printf 'package mair\\n' > src/main.go"},
		{"a file added", "printf '' > src/new.go"},
		{"a file deleted", "rm src/pkg/p.go"},
		{"a rename", "mv src/pkg/p.go src/pkg/q.go"},
		{"a rename across directories", "mv src/pkg/p.go src/p.go"},
		{"the executable bit set", "chmod u+x other"},
		{"the executable bit cleared", "chmod u-x run.sh"},
		{"a symlink's target", "ln -sfn src/pkg/p.go link"},
		{"a file replaced by a symlink with the same bytes", "rm other && ln -s x other"},
		{"a symlink replaced by a file with its target as content", "rm link && printf 'src/main.go' > link"},
		{"a file inside a new subdirectory", "mkdir -p new/dir && printf '' > new/dir/f"},
		{"a file moved into a directory of the same name prefix", "mkdir o && mv other o/ther"},
		{"contents swapped between two files", "mv src/main.go t && mv src/pkg/p.go src/main.go && mv t src/pkg/p.go"},
		{"an empty file added", "touch empty"},
		{"a file truncated to empty", ": > docs/readme.txt"},
	};
	char *dir = tu_tempdir("ga-hash-mut"), *base = tu_path(dir, "base");
	goaccel_digest d0;
	size_t i;
	(void)state;
	make_base(base);
	d0 = hash_of(base, NULL);
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		char *copy = tu_path(dir, "copy");
		goaccel_digest d;
		assert_int_equal(tu_sh("rm -rf '%s' && cp -a '%s' '%s' && cd '%s' && %s", copy, base, copy, copy,
		                       table[i].cmd),
		                 0);
		d = hash_of(copy, NULL);
		if (goaccel_digest_cmp(&d, &d0) == 0)
			fail_msg("mutation \"%s\" did not change the digest", table[i].name);
		free(copy);
	}
	free(base);
	tu_rmtree(dir);
	free(dir);
}

/* Each irrelevant change must keep the digest. */
static void test_hash__irrelevant_changes_keep_the_digest(void **state)
{
	static const struct {
		const char *name, *cmd;
	} table[] = {
		{"touch (mtime and atime)", "touch -d '2001-02-03 04:05:06' src/main.go run.sh && touch -h link"},
		{"chmod g+w,o+w", "chmod -R g+w,o+w ."},
		{"chmod of the owner's read/write bits", "chmod 400 other"},
		{"an empty directory", "mkdir -p empty/deeper"},
		{"any change under .git/", "mkdir -p .git/objects && printf 'ref: x' > .git/HEAD && printf 'x' > src/.git"},
		{"a new inode with the same content", "cp src/main.go t && rm src/main.go && mv t src/main.go"},
	};
	char *dir = tu_tempdir("ga-hash-irr"), *base = tu_path(dir, "base"), *copy = tu_path(dir, "elsewhere/deeper/copy");
	goaccel_digest d0, d;
	size_t i;
	(void)state;
	make_base(base);
	d0 = hash_of(base, NULL);
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		char *c = tu_path(dir, "c");
		assert_int_equal(tu_sh("rm -rf '%s' && cp -a '%s' '%s' && cd '%s' && %s", c, base, c, c, table[i].cmd), 0);
		d = hash_of(c, NULL);
		if (goaccel_digest_cmp(&d, &d0) != 0)
			fail_msg("irrelevant change \"%s\" changed the digest", table[i].name);
		free(c);
	}
	/* the same tree at another absolute path, copied under umask 077 and under umask 022 */
	assert_int_equal(tu_sh("mkdir -p '%s/elsewhere/deeper' && (umask 077 && cp -R '%s' '%s')", dir, base, copy), 0);
	d = hash_of(copy, NULL);
	assert_int_equal(goaccel_digest_cmp(&d, &d0), 0);
	assert_int_equal(tu_sh("rm -rf '%s' && (umask 022 && cp -R '%s' '%s')", copy, base, copy), 0);
	d = hash_of(copy, NULL);
	assert_int_equal(goaccel_digest_cmp(&d, &d0), 0);
	/* the root reached through a symbolic link and through a path with ./ and .. */
	{
		char *viadots = NULL;
		assert_int_equal(tu_sh("ln -s base '%s/rootlink'", dir), 0);
		viadots = tu_path(dir, "rootlink");
		d = hash_of(viadots, NULL);
		assert_int_equal(goaccel_digest_cmp(&d, &d0), 0);
		free(viadots);
		viadots = tu_path(dir, "./elsewhere/../base/./");
		d = hash_of(viadots, NULL);
		assert_int_equal(goaccel_digest_cmp(&d, &d0), 0);
		free(viadots);
	}
	/* the order in which the directory lists its entries: same names created in reverse order */
	{
		char *fwd = tu_path(dir, "fwd"), *rev = tu_path(dir, "rev");
		goaccel_digest a, b;
		assert_int_equal(tu_sh("mkdir '%s' '%s' && cd '%s' && for i in $(seq 1 200); do echo $i > f$i; done && "
		                       "cd '%s' && for i in $(seq 200 -1 1); do echo $i > f$i; done",
		                       fwd, rev, fwd, rev),
		                 0);
		a = hash_of(fwd, NULL);
		b = hash_of(rev, NULL);
		assert_int_equal(goaccel_digest_cmp(&a, &b), 0);
		free(fwd);
		free(rev);
	}
	free(base);
	free(copy);
	tu_rmtree(dir);
	free(dir);
}

/* Files excluded by patterns or by .gitignore do not matter; changes under .git/ do not either. */
static void test_hash__excluded_files_are_irrelevant(void **state)
{
	const char *excl[] = {"*.log", "build"};
	goaccel_hash_options opts = GOACCEL_HASH_OPTIONS_INIT;
	char *dir = tu_tempdir("ga-hash-excl"), *base = tu_path(dir, "base");
	goaccel_digest d0, d;
	(void)state;
	make_base(base);
	assert_int_equal(tu_sh("cd '%s' && git init -q . && printf '*.tmp\\nout/\\n' > .gitignore", base), 0);
	opts.exclude = excl;
	opts.exclude_count = 2;
	opts.gitignore = 1;
	d0 = hash_of(base, &opts);
	assert_int_equal(tu_sh("cd '%s' && printf 'x' > a.log && mkdir -p build/x out && printf 'y' > build/x/o && "
	                       "printf 'z' > src/t.tmp && printf 'w' > out/bin && git add -A && "
	                       "git -c user.name=t -c user.email=t@t commit -qm x && printf 'x' > .git/description",
	                       base),
	                 0);
	d = hash_of(base, &opts);
	assert_int_equal(goaccel_digest_cmp(&d, &d0), 0);
	/* without the rules the same files count */
	d = hash_of(base, NULL);
	assert_int_not_equal(goaccel_digest_cmp(&d, &d0), 0);
	free(base);
	tu_rmtree(dir);
	free(dir);
}

/* ---- the stat cache ------------------------------------------------------------------------- */

static void test_hash__stat_cache_warm_run_reads_nothing(void **state)
{
	goaccel_hash_options opts = GOACCEL_HASH_OPTIONS_INIT;
	goaccel_hash_stats st;
	char *dir = tu_tempdir("ga-hash-sc"), *tree = tu_path(dir, "tree"), *cache = tu_path(dir, "statcache");
	goaccel_digest d0, d;
	(void)state;
	make_base(tree);
	/* make every file older than the coming runs' stamps, so nothing is racy */
	assert_int_equal(tu_sh("cd '%s' && touch -h -d '2020-01-01' * src/* src/pkg/* docs/*", tree), 0);
	sleep(1);
	d0 = hash_of(tree, NULL);
	opts.stat_cache = cache;
	opts.stats = &st;
	d = hash_of(tree, &opts);
	assert_int_equal(goaccel_digest_cmp(&d, &d0), 0);
	assert_int_equal(st.files_hashed, 5);
	assert_int_equal(st.cache_loaded, 0);
	assert_int_equal(st.cache_written, 1);
	d = hash_of(tree, &opts);
	assert_int_equal(goaccel_digest_cmp(&d, &d0), 0);
	assert_int_equal(st.cache_loaded, 1);
	assert_int_equal(st.files_hashed, 0);
	assert_int_equal(st.bytes_hashed, 0);
	assert_int_equal(st.cache_hits, 5);
	assert_int_equal(st.cache_written, 0);
	/* a changed file is read again (size differs here), the rest still comes from the cache */
	tu_write(tree, "docs/readme.txt", "hello, world");
	d = hash_of(tree, &opts);
	assert_int_not_equal(goaccel_digest_cmp(&d, &d0), 0);
	assert_int_equal(st.files_hashed, 1);
	assert_int_equal(st.cache_hits, 4);
	assert_int_equal(goaccel_digest_cmp(&d, &(goaccel_digest){0}) != 0, 1);
	{
		goaccel_digest fresh = hash_of(tree, NULL);
		assert_int_equal(goaccel_digest_cmp(&d, &fresh), 0);
	}
	free(tree);
	free(cache);
	tu_rmtree(dir);
	free(dir);
}

/* A corrupt, truncated, other-version, empty or foreign stat cache is ignored and rewritten. */
static void test_hash__stat_cache_damage_is_ignored(void **state)
{
	static const char *damage[] = {
		"printf 'x' | dd of=%s bs=1 seek=100 conv=notrunc 2>/dev/null", /* a flipped byte */
		"truncate -s -40 %s",                                             /* truncated */
		"printf '\\000\\000\\000\\002' | dd of=%s bs=1 seek=8 conv=notrunc 2>/dev/null", /* version 2 */
		": > %s",                                                         /* empty */
		"printf 'PK\\003\\004 not a cache at all' > %s",                  /* foreign */
		"truncate -s 32 %s",                                              /* header only */
		"rm %s && mkfifo %s", /* not a regular file: must not block on open (no writer) */
	};
	goaccel_hash_options opts = GOACCEL_HASH_OPTIONS_INIT;
	goaccel_hash_stats st;
	char *dir = tu_tempdir("ga-hash-scd"), *tree = tu_path(dir, "tree"), *cache = tu_path(dir, "sc");
	goaccel_digest d0, d;
	size_t i;
	(void)state;
	make_base(tree);
	d0 = hash_of(tree, NULL);
	opts.stat_cache = cache;
	opts.stats = &st;
	for (i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
		char cmd[512];
		hash_of(tree, &opts);
		snprintf(cmd, sizeof(cmd), damage[i], cache, cache);
		assert_int_equal(tu_sh("%s", cmd), 0);
		d = hash_of(tree, &opts);
		assert_int_equal(goaccel_digest_cmp(&d, &d0), 0);
		if (!st.cache_rejected || st.cache_loaded || !st.cache_written)
			fail_msg("damage %zu: rejected=%d loaded=%d written=%d", i, st.cache_rejected, st.cache_loaded,
			         st.cache_written);
		d = hash_of(tree, &opts);
		assert_int_equal(goaccel_digest_cmp(&d, &d0), 0);
		assert_int_equal(st.cache_loaded, 1);
		assert_int_equal(st.cache_rejected, 0);
	}
	/* a cache path in a missing directory is an error that names it */
	free(cache);
	cache = tu_path(dir, "no/such/dir/sc");
	opts.stat_cache = cache;
	assert_int_equal(goaccel_hash_tree(&d, NULL, tree, &opts), GOACCEL_ERROR);
	assert_non_null(strstr(goaccel_error_last()->message, "no/such/dir/sc"));
	free(tree);
	free(cache);
	tu_rmtree(dir);
	free(dir);
}

static void write_cache_for(const char *cache, const char *file, const goaccel_digest *digest, int64_t stamp_ns)
{
	struct stat st;
	ga_statcache_rec rec;
	ga_buf buf = GA_BUF_INIT;
	assert_int_equal(lstat(file, &st), 0);
	rec.dev = (uint64_t)st.st_dev;
	rec.ino = (uint64_t)st.st_ino;
	rec.size = (uint64_t)st.st_size;
	rec.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	rec.ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
	rec.mode = (uint32_t)st.st_mode;
	rec.digest = *digest;
	GA_OK(ga_statcache_serialize(&buf, &rec, 1, stamp_ns));
	GA_OK(ga_write_file_atomic(cache, buf.ptr, buf.size, 0600, 0));
	ga_buf_dispose(&buf);
}

/* git's racy rule, deterministically: a record whose file has the same stat but is not older
 * than the cache's stamp is not trusted. The same record with an older stamp is trusted (which
 * shows the cache is really used: the wrong digest planted in it comes out). */
static void test_hash__racy_rule(void **state)
{
	goaccel_hash_options opts = GOACCEL_HASH_OPTIONS_INIT;
	goaccel_hash_stats st;
	char *dir = tu_tempdir("ga-hash-racy"), *file = tu_path(dir, "tree/f"), *tree = tu_path(dir, "tree"),
	     *cache = tu_path(dir, "sc");
	goaccel_digest truth, planted, d;
	struct stat sb;
	int64_t mtime_ns;
	(void)state;
	tu_write(dir, "tree/f", "real content");
	truth = hash_of(tree, NULL);
	GA_OK(goaccel_digest_buffer(&planted, "stale content", 13));
	assert_int_equal(lstat(file, &sb), 0);
	mtime_ns = (int64_t)sb.st_ctim.tv_sec * 1000000000 + sb.st_ctim.tv_nsec;
	opts.stat_cache = cache;
	opts.stats = &st;

	/* stamp in the same second as the file's timestamps: racy, re-read */
	write_cache_for(cache, file, &planted, mtime_ns);
	d = hash_of(tree, &opts);
	assert_int_equal(goaccel_digest_cmp(&d, &truth), 0);
	assert_int_equal(st.cache_racy, 1);
	assert_int_equal(st.files_hashed, 1);

	/* stamp one second later: trusted, the planted digest is used */
	write_cache_for(cache, file, &planted, mtime_ns + 1000000000);
	d = hash_of(tree, &opts);
	assert_int_not_equal(goaccel_digest_cmp(&d, &truth), 0);
	assert_int_equal(st.cache_hits, 1);
	assert_int_equal(st.files_hashed, 0);

	/* and a stamp older than the file: racy too */
	write_cache_for(cache, file, &planted, mtime_ns - 5000000000LL);
	d = hash_of(tree, &opts);
	assert_int_equal(goaccel_digest_cmp(&d, &truth), 0);
	free(file);
	free(tree);
	free(cache);
	tu_rmtree(dir);
	free(dir);
}

/* The racy case, end to end: content changed with the same size within the same second
 * as the stat cache was written must still give the new digest. Writing through a shared
 * mapping whose page is already dirty changes the content without touching size, mtime or ctime
 * (checked below), so the stat data alone cannot reveal the change: only the racy rule can. */
static void test_hash__racy_same_size_change(void **state)
{
	goaccel_hash_options opts = GOACCEL_HASH_OPTIONS_INIT;
	goaccel_hash_stats st;
	char *dir = tu_tempdir("ga-hash-racy2"), *tree = tu_path(dir, "tree"), *cache = tu_path(dir, "sc");
	char *file = tu_path(dir, "tree/f");
	int i, identical = 0;
	(void)state;
	tu_write(dir, "tree/other", "unchanged");
	opts.stat_cache = cache;
	opts.stats = &st;
	for (i = 0; i < 5; i++) {
		struct stat before, after;
		struct timespec now;
		goaccel_digest d, truth;
		char *map;
		int fd;
		/* start early in a second so that everything below happens within it */
		do {
			clock_gettime(CLOCK_REALTIME, &now);
			if (now.tv_nsec > 500000000)
				usleep((useconds_t)((1000000000 - now.tv_nsec) / 1000 + 1000));
		} while (now.tv_nsec > 500000000);
		/* a new file rather than O_TRUNC: ext4 flushes truncated-and-rewritten files on close,
		 * which would clean the page and make the next write update the timestamps */
		unlink(file);
		fd = open(file, O_RDWR | O_CREAT | O_EXCL, 0644);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "version A", 9), 9);
		map = mmap(NULL, 9, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		assert_true(map != MAP_FAILED);
		map[0] = 'V'; /* dirty the page now; later writes to it leave the timestamps alone */
		hash_of(tree, &opts);
		assert_int_equal(st.cache_written, 1);
		assert_int_equal(fstat(fd, &before), 0);
		map[8] = 'B'; /* same size, new content */
		assert_int_equal(fstat(fd, &after), 0);
		if (before.st_mtim.tv_sec == after.st_mtim.tv_sec && before.st_mtim.tv_nsec == after.st_mtim.tv_nsec &&
		    before.st_ctim.tv_sec == after.st_ctim.tv_sec && before.st_ctim.tv_nsec == after.st_ctim.tv_nsec)
			identical++;
		d = hash_of(tree, &opts);
		if (identical == i + 1)
			assert_true(st.cache_racy >= 1); /* the racy rule, not the stat data, caught it */
		truth = hash_of(tree, NULL);
		assert_int_equal(goaccel_digest_cmp(&d, &truth), 0);
		munmap(map, 9);
		close(fd);
	}
	print_message("racy: %d of 5 changes kept identical stat data\n", identical);
	free(file);
	free(tree);
	free(cache);
	tu_rmtree(dir);
	free(dir);
}

/* ---- selection: .dockerignore patterns ------------------------------------------------------ */

static int excluded(const char *patterns, const char *path)
{
	ga_ignore *ig = NULL;
	int r;
	GA_OK(ga_ignore_new(&ig));
	GA_OK(ga_ignore_add_buffer(ig, patterns, strlen(patterns), "test"));
	r = ga_ignore_excluded(ig, path, strlen(path));
	ga_ignore_free(ig);
	return r;
}

static void test_hash__dockerignore_matching(void **state)
{
	static const struct {
		const char *patterns, *path;
		int excluded;
	} table[] = {
		{"*.log", "a.log", 1},
		{"*.log", "d/a.log", 0}, /* anchored at the root */
		{"**/*.log", "d/e/a.log", 1},
		{"**/*.log", "a.log", 1},
		{"build", "build/x/y.o", 1}, /* a parent directory matches */
		{"/build", "build/y.o", 1},
		{"build/", "build/y.o", 1},
		{"./a/../build//", "build/y.o", 1},
		{"build", "builder", 0},
		{"a/**", "a/x/y", 1},
		{"a/**", "ab", 0},
		{"a/**/b", "a/b", 1},
		{"a/**/b", "a/x/y/b", 1},
		{"a/**/b", "a/xb", 0},
		{"**", "anything/at/all", 1},
		{"*", "top", 1},
		{"*", "dir/file", 1}, /* via the parent "dir" */
		{"*/file", "dir/file", 1},
		{"*/file", "a/b/file", 0},
		{"?.txt", "a.txt", 1},
		{"?.txt", "ab.txt", 0},
		{"?.txt", "\xc3\xa9.txt", 1}, /* one UTF-8 character */
		{"?.txt", "/.txt", 0},
		{"[a-c].txt", "b.txt", 1},
		{"[a-c].txt", "d.txt", 0},
		{"[^a].txt", "b.txt", 1},
		{"[^a].txt", "a.txt", 0},
		{"[\\]x].txt", "].txt", 1},
		{"\\*.txt", "*.txt", 1},
		{"\\*.txt", "a.txt", 0},
		{"*.md\n!README.md", "README.md", 0},
		{"*.md\n!README.md", "x.md", 1},
		{"!README.md\n*.md", "README.md", 1}, /* the last match wins */
		{"# comment\n  spaced.txt  \n", "spaced.txt", 1},
		{"# comment\n", "# comment", 0},
		{" # not a comment", "# not a comment", 1}, /* only a '#' in column one starts a comment */
		{"\xef\xbb\xbf" "bom.txt", "bom.txt", 1},
		{"dir\n!dir/keep", "dir/keep", 0},
		{"a/x\n!a", "a/x", 1}, /* BuildKit: "!a" was not evaluated for the directory a */
		{"a\n!a\na/x", "a/x", 1},
		{"a\n!a/x\n!a", "a/x", 0},
		{"dir\n!dir/keep", "dir/other", 1},
		{"*.o\n! keep.o", "keep.o", 0},
		{"new\nline", "new\nline", 0},
		{"a*b", "a/b", 0},
		{"a**b", "a/x/b", 1},
		{"x/**/**", "x/y/z", 1},
		{"\xff*", "\xff\xfe", 1}, /* bytes that are not UTF-8 ... */
		{"\xff*", "\xfe", 1},      /* ... read as U+FFFD, as in Go's regexp */
		{"\xff", "\xfe", 0},       /* but a pattern without wildcards compares bytes */
		{"**.log", "a/b.log", 1},   /* a leading ** with plain text after it is a suffix */
		{"**.log", "b.log", 1},
		{"**/b.log", "b.log", 1},
		{"a/**/b", "a/x\ny/b", 0}, /* ** does not cross a newline (RE2's '.') */
		{"a/*/b", "a/x\ny/b", 1},  /* but * does */
		{"a**", "ab/c", 1},
		{"a/**", "a/x\ny", 1},     /* a prefix match compares bytes */
	};
	size_t i;
	(void)state;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (excluded(table[i].patterns, table[i].path) != table[i].excluded)
			fail_msg("patterns \"%s\" on \"%s\": expected %d", table[i].patterns, table[i].path,
			         table[i].excluded);
}

static void test_hash__dockerignore_bad_patterns(void **state)
{
	static const char *bad[] = {"!", "[", "a[b", "[]", "[z-a]", "x\\", "[a-]", "[-a]", "ok\n  !  \n", "!/", "! //"};
	size_t i;
	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ga_ignore *ig = NULL;
		GA_OK(ga_ignore_new(&ig));
		if (ga_ignore_add_buffer(ig, bad[i], strlen(bad[i]), "my.ignore") != GOACCEL_EINVALID)
			fail_msg("pattern \"%s\" was accepted", bad[i]);
		assert_non_null(strstr(goaccel_error_last()->message, "my.ignore:"));
		ga_ignore_free(ig);
	}
}

/* Patterns through hash_tree: a file plus a list, re-includes below excluded directories. */
static void test_hash__patterns_select_entries(void **state)
{
	const char *list[] = {"!docs/keep.md", "secret/**"};
	goaccel_hash_options opts = GOACCEL_HASH_OPTIONS_INIT;
	char *dir = tu_tempdir("ga-hash-pat"), *tree = tu_path(dir, "tree"), *ign = tu_path(dir, "ignore"), *paths;
	goaccel_manifest *m;
	goaccel_hash_stats st;
	(void)state;
	assert_int_equal(tu_sh("set -e; mkdir -p '%s' && cd '%s' && mkdir -p docs out/sub secret keepdir/x && "
	                       "touch a.go a.log docs/x.md docs/keep.md out/sub/o out/keep.txt secret/s "
	                       "keepdir/x/keep keepdir/x/other && mkfifo out/fifo",
	                       tree, tree),
	                 0);
	tu_write(dir, "ignore", "# build output\n*.log\nout\n!out/keep.txt\ndocs/*.md\nkeepdir\n!**/keep\n");
	opts.ignore_file = ign;
	opts.exclude = list;
	opts.exclude_count = 2;
	opts.stats = &st;
	m = manifest_of(tree, &opts);
	paths = paths_of(m);
	/* "!**\/keep" has glob characters, so (as in BuildKit) excluded directories are walked and
	 * keepdir/x/keep comes back; the FIFO in out/ is excluded before its type matters. */
	assert_string_equal(paths, "a.go\ndocs/keep.md\nkeepdir/x/keep\nout/keep.txt\n");
	assert_true(st.excluded >= 5);
	free(paths);
	goaccel_manifest_free(m);
	/* re-includes without glob characters: an excluded directory is walked only when a
	 * re-include lies below it, so build/deep is never opened */
	{
		const char *two[] = {"build", "!build/keep.txt"};
		goaccel_hash_options o2 = GOACCEL_HASH_OPTIONS_INIT;
		char *t2 = tu_path(dir, "t2");
		assert_int_equal(tu_sh("mkdir -p '%s/build/deep/er' && cd '%s' && touch build/keep.txt build/x "
		                       "build/deep/er/f main.go && chmod 000 build/deep",
		                       t2, t2),
		                 0);
		o2.exclude = two;
		o2.exclude_count = 2;
		o2.stats = &st;
		m = manifest_of(t2, &o2);
		paths = paths_of(m);
		assert_string_equal(paths, "build/keep.txt\nmain.go\n");
		assert_int_equal(st.dirs, 2); /* the root and build/ */
		free(paths);
		goaccel_manifest_free(m);
		assert_int_equal(tu_sh("chmod 755 '%s/build/deep'", t2), 0);
		free(t2);
	}
	/* a missing ignore file, a bad pattern */
	{
		goaccel_digest d;
		char *missing = tu_path(dir, "nope");
		opts.ignore_file = missing;
		assert_int_equal(goaccel_hash_tree(&d, NULL, tree, &opts), GOACCEL_ENOTFOUND);
		assert_non_null(strstr(goaccel_error_last()->message, "nope"));
		free(missing);
		tu_write(dir, "ignore", "ok\n\n[bad\n");
		opts.ignore_file = ign;
		assert_int_equal(goaccel_hash_tree(&d, NULL, tree, &opts), GOACCEL_EINVALID);
		assert_non_null(strstr(goaccel_error_last()->message, ":3:"));
		/* the FIFO is an error when nothing excludes it */
		assert_int_equal(goaccel_hash_tree(&d, NULL, tree, NULL), GOACCEL_EINVALID);
		assert_non_null(strstr(goaccel_error_last()->message, "out/fifo"));
		assert_non_null(strstr(goaccel_error_last()->message, "FIFO"));
	}
	free(tree);
	free(ign);
	tu_rmtree(dir);
	free(dir);
}

/* ---- selection: .gitignore, compared with git itself --------------------------------------- */

#define GIT_ENV "HOME='%s' XDG_CONFIG_HOME='%s/xdg' GIT_CONFIG_NOSYSTEM=1 "

static void compare_with_git(const char *dir, const char *root)
{
	goaccel_hash_options opts = GOACCEL_HASH_OPTIONS_INIT;
	goaccel_manifest *m;
	char *ours, *gits;
	opts.gitignore = 1;
	m = manifest_of(root, &opts);
	ours = paths_of(m);
	gits = tu_sh_out("cd '%s' && " GIT_ENV "git -c core.quotepath=off ls-files --cached --others "
	                 "--exclude-standard -z | tr '\\0' '\\n' | LC_ALL=C sort -u",
	                 root, dir, dir);
	{
		size_t n = strlen(gits);
		char *g = malloc(n + 2);
		memcpy(g, gits, n);
		g[n] = '\n';
		g[n + 1] = '\0';
		if (n == 0)
			g[0] = '\0';
		if (strcmp(ours, g) != 0)
			fail_msg("gitignore selection differs from git\nours:\n%s\ngit:\n%s", ours, g);
		free(g);
	}
	free(ours);
	free(gits);
	goaccel_manifest_free(m);
}

static void test_hash__gitignore_matches_git(void **state)
{
	char *dir = tu_tempdir("ga-hash-git"), *repo = tu_path(dir, "repo"), *sub = tu_path(dir, "repo/sub");
	(void)state;
	assert_int_equal(
		tu_sh("set -e; export " GIT_ENV "; mkdir -p '%s' && cd '%s' && git init -q . && "
		      "printf '*.log\\nbuild/\\n!important.log\\n/rootonly.txt\\ndocs/*.md\\n!docs/keep.md\\nvendor/\\n"
		      "**/gen/*.pb\\n!other.go\\nlinkdir/\\n[Cc]ase.txt\\n' > .gitignore && "
		      "mkdir realdir && ln -s realdir linkdir && touch realdir/r case.txt Case.txt CASE.txt && "
		      "mkdir -p build sub/local docs/sub vendor a/gen sub/gen && "
		      "touch a.log important.log rootonly.txt sub/rootonly.txt build/out.o 'a b.txt' && "
		      "printf '*.tmp\\n!keep.tmp\\nlocal/\\n!sublog.log\\n' > sub/.gitignore && touch sub/sublog.log && "
		      "touch sub/x.tmp sub/keep.tmp sub/local/f sub/main.go docs/a.md docs/keep.md docs/sub/b.md && "
		      "printf 'secret.txt\\n' >> .git/info/exclude && touch secret.txt sub/secret.txt && "
		      "touch tracked.log vendor/keep.go vendor/other.go a/gen/x.pb sub/gen/y.pb sub/gen/y.go && "
		      "git add -f tracked.log vendor/keep.go && ln -s a.log link.log && ln -s missing dangling",
		      dir, dir, repo, repo),
		0);
	compare_with_git(dir, repo);
	compare_with_git(dir, sub);
	/* the result really depends on the rules: without them there are more entries */
	{
		goaccel_manifest *with, *without;
		goaccel_hash_options opts = GOACCEL_HASH_OPTIONS_INIT;
		opts.gitignore = 1;
		with = manifest_of(repo, &opts);
		without = manifest_of(repo, NULL);
		assert_true(goaccel_manifest_entrycount(without) > goaccel_manifest_entrycount(with) + 10);
		assert_non_null(goaccel_manifest_entry_bypath(with, "vendor/keep.go"));
		assert_null(goaccel_manifest_entry_bypath(with, "vendor/other.go"));
		goaccel_manifest_free(with);
		goaccel_manifest_free(without);
	}
	/* outside a repository the option changes nothing */
	{
		char *plain = tu_path(dir, "plain");
		goaccel_hash_options opts = GOACCEL_HASH_OPTIONS_INIT;
		goaccel_digest a, b;
		tu_write(dir, "plain/.gitignore", "*\n");
		tu_write(dir, "plain/f", "x");
		opts.gitignore = 1;
		a = hash_of(plain, &opts);
		b = hash_of(plain, NULL);
		assert_int_equal(goaccel_digest_cmp(&a, &b), 0);
		free(plain);
	}
	free(repo);
	free(sub);
	tu_rmtree(dir);
	free(dir);
}

/* The user's global excludes are off by default and on with git_global_excludes. */
static void test_hash__gitignore_global_excludes(void **state)
{
	goaccel_hash_options opts = GOACCEL_HASH_OPTIONS_INIT;
	char *dir = tu_tempdir("ga-hash-gglob"), *repo = tu_path(dir, "repo"), *xdg = tu_path(dir, "xdg/git"),
	     *home = tu_path(dir, "home"), *gcfg;
	goaccel_manifest *m;
	(void)state;
	assert_int_equal(tu_sh("set -e; mkdir -p '%s' '%s' && cd '%s' && git init -q . && touch a.go b.xdg c.glob",
	                       repo, home, repo),
	                 0);
	tu_write(dir, "xdg/git/ignore", "*.xdg\n");
	gcfg = tu_path(dir, "global.ignore");
	tu_write(dir, "global.ignore", "*.glob\n");
	{
		char cfg[1024];
		snprintf(cfg, sizeof(cfg), "[core]\n\texcludesFile = %s\n", gcfg);
		tu_write(dir, "home/.gitconfig", cfg);
	}
	/* libgit2 must be initialised to take options; goaccel initialises it only on first use */
	assert_true(git_libgit2_init() > 0);
	GA_OK(git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, xdg) < 0 ? -1 : 0);
	opts.gitignore = 1;
	m = manifest_of(repo, &opts);
	assert_non_null(goaccel_manifest_entry_bypath(m, "b.xdg"));
	goaccel_manifest_free(m);
	opts.git_global_excludes = 1;
	m = manifest_of(repo, &opts);
	assert_null(goaccel_manifest_entry_bypath(m, "b.xdg"));
	assert_non_null(goaccel_manifest_entry_bypath(m, "c.glob"));
	goaccel_manifest_free(m);
	/* core.excludesFile in the global config wins over the XDG default */
	GA_OK(git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, home) < 0 ? -1 : 0);
	m = manifest_of(repo, &opts);
	assert_null(goaccel_manifest_entry_bypath(m, "c.glob"));
	goaccel_manifest_free(m);
	opts.git_global_excludes = 0;
	m = manifest_of(repo, &opts);
	assert_non_null(goaccel_manifest_entry_bypath(m, "c.glob"));
	assert_non_null(goaccel_manifest_entry_bypath(m, "b.xdg"));
	goaccel_manifest_free(m);
	/* the repository's own core.excludesFile is honoured, as git does */
	assert_int_equal(tu_sh("cd '%s' && git config core.excludesFile '%s'", repo, gcfg), 0);
	m = manifest_of(repo, &opts);
	assert_null(goaccel_manifest_entry_bypath(m, "c.glob"));
	goaccel_manifest_free(m);
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, NULL);
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, NULL);
	git_libgit2_shutdown();
	free(repo);
	free(xdg);
	free(home);
	free(gcfg);
	tu_rmtree(dir);
	free(dir);
}

/* ---- symbolic links ------------------------------------------------------------------------- */

static void test_hash__symlinks(void **state)
{
	goaccel_hash_options opts = GOACCEL_HASH_OPTIONS_INIT;
	char *dir = tu_tempdir("ga-hash-link"), *tree = tu_path(dir, "tree"), *paths;
	goaccel_manifest *m;
	const goaccel_manifest_entry *e;
	(void)state;
	assert_int_equal(tu_sh("set -e; mkdir -p '%s/tree/real' '%s/outside' && cd '%s/tree' && "
	                       "printf 'inside' > real/f && printf 'secret' > ../outside/s && "
	                       "ln -s real/f flink && ln -s real dlink && ln -s ../outside/s out && "
	                       "ln -s ../outside odir && ln -s nowhere dangling && ln -s flink chain",
	                       dir, dir, dir),
	                 0);
	/* not followed: every link is a link */
	m = manifest_of(tree, NULL);
	paths = paths_of(m);
	assert_string_equal(paths, "chain\ndangling\ndlink\nflink\nodir\nout\nreal/f\n");
	e = goaccel_manifest_entry_bypath(m, "out");
	assert_int_equal(e->type, GOACCEL_ENTRY_SYMLINK);
	assert_string_equal(e->link_target, "../outside/s");
	assert_int_equal(e->size, 12);
	free(paths);
	goaccel_manifest_free(m);
	/* followed: links inside the root become what they point to; the others stay links */
	opts.follow_symlinks = 1;
	m = manifest_of(tree, &opts);
	paths = paths_of(m);
	assert_string_equal(paths, "chain\ndangling\ndlink/f\nflink\nodir\nout\nreal/f\n");
	e = goaccel_manifest_entry_bypath(m, "flink");
	assert_int_equal(e->type, GOACCEL_ENTRY_FILE);
	assert_int_equal(e->size, 6);
	assert_int_equal(goaccel_manifest_entry_bypath(m, "chain")->type, GOACCEL_ENTRY_FILE);
	assert_int_equal(goaccel_manifest_entry_bypath(m, "out")->type, GOACCEL_ENTRY_SYMLINK);
	assert_int_equal(goaccel_manifest_entry_bypath(m, "odir")->type, GOACCEL_ENTRY_SYMLINK);
	assert_int_equal(goaccel_manifest_entry_bypath(m, "dangling")->type, GOACCEL_ENTRY_SYMLINK);
	free(paths);
	goaccel_manifest_free(m);
	/* cycles when following: a link loop, and a link to an ancestor directory */
	{
		goaccel_digest d;
		assert_int_equal(tu_sh("cd '%s' && ln -s loop2 loop1 && ln -s loop1 loop2", tree), 0);
		assert_int_equal(goaccel_hash_tree(&d, NULL, tree, &opts), GOACCEL_EINVALID);
		assert_non_null(strstr(goaccel_error_last()->message, "loop"));
		assert_non_null(strstr(goaccel_error_last()->message, "cycle"));
		assert_int_equal(tu_sh("cd '%s' && rm loop1 loop2 && ln -s .. real/up", tree), 0);
		assert_int_equal(goaccel_hash_tree(&d, NULL, tree, &opts), GOACCEL_EINVALID);
		assert_non_null(strstr(goaccel_error_last()->message, "/up")); /* real/up or dlink/up */
		/* not following, both are plain links */
		GA_OK(goaccel_hash_tree(&d, NULL, tree, NULL));
	}
	free(tree);
	tu_rmtree(dir);
	free(dir);
}

/* ---- manifests ------------------------------------------------------------------------------ */

static void test_hash__manifest_round_trip(void **state)
{
	char *dir = tu_tempdir("ga-hash-man"), *tree = tu_path(dir, "tree"), *saved = tu_path(dir, "m.json");
	char *json = NULL, *json2 = NULL;
	goaccel_manifest *m, *l = NULL, *j = NULL;
	size_t i;
	(void)state;
	assert_int_equal(tu_sh("set -e; mkdir -p '%s' && cd '%s' && printf 'n' > 'new\nline' && "
	                       "printf 'l' > \"$(printf '\\377bad')\" && ln -s \"$(printf 'x\\376')\" oddlink && "
	                       "printf 'e' > exe && chmod +x exe && mkdir d && printf 'q\"\\\\' > 'd/q\"uote'",
	                       tree, tree),
	                 0);
	m = manifest_of(tree, NULL);
	GA_OK(goaccel_manifest_save(m, saved));
	GA_OK(goaccel_manifest_load(&l, saved));
	GA_OK(goaccel_manifest_to_json(&json, m));
	GA_OK(goaccel_manifest_from_json(&j, json, strlen(json)));
	GA_OK(goaccel_manifest_to_json(&json2, j));
	assert_string_equal(json, json2);
	assert_non_null(strstr(json, "\"path_hex\":\"ff626164\""));
	assert_non_null(strstr(json, "\"target_hex\":\"78fe\""));
	assert_int_equal(goaccel_manifest_entrycount(l), goaccel_manifest_entrycount(m));
	assert_int_equal(goaccel_digest_cmp(goaccel_manifest_digest(l), goaccel_manifest_digest(m)), 0);
	for (i = 0; i < goaccel_manifest_entrycount(m); i++) {
		const goaccel_manifest_entry *a = goaccel_manifest_entry_byindex(m, i), *b = goaccel_manifest_entry_byindex(l, i);
		assert_string_equal(a->path, b->path);
		assert_int_equal(a->type, b->type);
		assert_int_equal(a->exec, b->exec);
		assert_int_equal(a->size, b->size);
		assert_int_equal(goaccel_digest_cmp(&a->digest, &b->digest), 0);
		if (a->link_target)
			assert_string_equal(a->link_target, b->link_target);
	}
	assert_null(goaccel_manifest_entry_byindex(m, 99));
	assert_null(goaccel_manifest_entry_bypath(m, "nope"));
	assert_int_equal(goaccel_manifest_entry_bypath(m, "exe")->exec, 1);
	{
		goaccel_manifest *none = NULL;
		assert_int_equal(goaccel_manifest_load(&none, "/nonexistent/m.json"), GOACCEL_ENOTFOUND);
		assert_null(none);
	}
	goaccel_manifest_free(NULL);
	goaccel_free(json);
	goaccel_free(json2);
	goaccel_manifest_free(m);
	goaccel_manifest_free(l);
	goaccel_manifest_free(j);
	free(tree);
	free(saved);
	tu_rmtree(dir);
	free(dir);
}

static int load_json(const char *json)
{
	goaccel_manifest *m = NULL;
	int rc = goaccel_manifest_from_json(&m, json, strlen(json));
	goaccel_manifest_free(m);
	return rc;
}

#define D_X "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"

static void test_hash__manifest_rejects_bad_input(void **state)
{
	char json[2048];
	goaccel_manifest *m = NULL;
	goaccel_digest d;
	goaccel_manifest_entry e = {"a", GOACCEL_ENTRY_FILE, 0, 1, {{0}}, NULL};
	(void)state;
	GA_OK(goaccel_digest_parse(&e.digest, D_X));
	GA_OK(ga_tree_digest(&d, &e, 1));
	snprintf(json, sizeof(json),
	         "{\"format\":\"goaccel-manifest\",\"version\":1,\"digest\":\"%s\",\"entries\":[{\"path\":\"a\","
	         "\"type\":\"file\",\"exec\":false,\"size\":1,\"digest\":\"" D_X "\"}]}",
	         hex_of(&d));
	GA_OK(load_json(json));
	GA_OK(goaccel_manifest_from_json(&m, json, strlen(json)));
	assert_int_equal(goaccel_manifest_entrycount(m), 1);
	goaccel_manifest_free(m);
	assert_int_equal(load_json("not json"), GOACCEL_EINVALID);
	assert_int_equal(load_json("[]"), GOACCEL_EINVALID);
	assert_int_equal(load_json("{\"format\":\"goaccel-manifest\",\"version\":2,\"digest\":\"\",\"entries\":[]}"),
	                 GOACCEL_EVERSION);
	/* a recorded digest that does not match the entries */
	assert_int_equal(load_json("{\"format\":\"goaccel-manifest\",\"version\":1,\"digest\":\"" D_X
	                           "\",\"entries\":[{\"path\":\"a\",\"type\":\"file\",\"exec\":false,\"size\":1,"
	                           "\"digest\":\"" D_X "\"}]}"),
	                 GOACCEL_ECORRUPT);
	assert_non_null(strstr(goaccel_error_last()->message, "digest"));
	/* malformed entries, each named */
	{
		static const char *bad[] = {
			"{\"path\":\"/abs\",\"type\":\"file\",\"exec\":false,\"size\":1,\"digest\":\"" D_X "\"}",
			"{\"path\":\"a/../b\",\"type\":\"file\",\"exec\":false,\"size\":1,\"digest\":\"" D_X "\"}",
			"{\"path\":\"a\",\"type\":\"dir\",\"exec\":false,\"size\":1,\"digest\":\"" D_X "\"}",
			"{\"path\":\"a\",\"type\":\"file\",\"exec\":false,\"size\":-1,\"digest\":\"" D_X "\"}",
			"{\"path\":\"a\",\"type\":\"file\",\"exec\":false,\"size\":1,\"digest\":\"xyz\"}",
			"{\"path\":\"a\",\"type\":\"file\",\"exec\":false,\"size\":1,\"digest\":\"" D_X "\",\"more\":1}",
			"{\"path\":\"a\",\"path_hex\":\"61\",\"type\":\"file\",\"exec\":false,\"size\":1,\"digest\":\"" D_X "\"}",
			"{\"path_hex\":\"6\",\"type\":\"file\",\"exec\":false,\"size\":1,\"digest\":\"" D_X "\"}",
			"{\"path\":\"a\",\"type\":\"symlink\",\"exec\":false,\"size\":1,\"digest\":\"" D_X "\",\"target\":\"y\"}",
			"{\"path\":\"a\",\"type\":\"file\",\"exec\":false,\"size\":1,\"digest\":\"" D_X "\",\"target\":\"x\"}",
			"{\"path\":\"a\",\"type\":\"file\",\"exec\":false,\"size\":1,\"digest\":\"" D_X "\"},"
			"{\"path\":\"a\",\"type\":\"file\",\"exec\":false,\"size\":1,\"digest\":\"" D_X "\"}",
			"{\"path\":\"b\",\"type\":\"file\",\"exec\":false,\"size\":1,\"digest\":\"" D_X "\"},"
			"{\"path\":\"a\",\"type\":\"file\",\"exec\":false,\"size\":1,\"digest\":\"" D_X "\"}",
			"{\"path\":\"a\",\"type\":\"file\",\"exec\":false,\"size\":1,\"digest\":\"" D_X "\"},"
			"{\"path\":\"a/b\",\"type\":\"file\",\"exec\":false,\"size\":1,\"digest\":\"" D_X "\"}",
			"{\"path\":\"\",\"type\":\"file\",\"exec\":false,\"size\":1,\"digest\":\"" D_X "\"},"
			"{\"path\":\"a\",\"type\":\"file\",\"exec\":false,\"size\":1,\"digest\":\"" D_X "\"}",
			"7",
		};
		size_t i;
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(json, sizeof(json),
			         "{\"format\":\"goaccel-manifest\",\"version\":1,\"digest\":\"" D_X "\",\"entries\":[%s]}",
			         bad[i]);
			if (load_json(json) != GOACCEL_EINVALID)
				fail_msg("accepted bad entry %zu: %s", i, bad[i]);
			assert_non_null(strstr(goaccel_error_last()->message, "entries["));
		}
	}
}

static void test_hash__manifest_diff(void **state)
{
	char *dir = tu_tempdir("ga-hash-diff"), *a = tu_path(dir, "a"), *b = tu_path(dir, "b"), *text = NULL;
	goaccel_manifest *ma, *mb;
	goaccel_manifest_changes *ch = NULL;
	const goaccel_manifest_change *c;
	(void)state;
	make_base(a);
	assert_int_equal(tu_sh("cp -a '%s' '%s' && cd '%s' && printf 'package mair\\n' > src/main.go && "
	                       "chmod +x other && rm docs/readme.txt && printf '' > added && "
	                       "rm link && printf 'src/main.go' > link && chmod +x src/pkg/p.go && "
	                       "printf 'changed' > src/pkg/p.go",
	                       a, b, b),
	                 0);
	ma = manifest_of(a, NULL);
	mb = manifest_of(b, NULL);
	GA_OK(goaccel_manifest_diff(&ch, ma, mb));
	goaccel_manifest_free(ma); /* the changes own their copies */
	assert_int_equal(goaccel_manifest_changes_count(ch), 6);
	c = goaccel_manifest_changes_byindex(ch, 0);
	assert_string_equal(c->path, "added");
	assert_int_equal(c->change, GOACCEL_CHANGE_ADDED);
	assert_null(c->old_entry);
	c = goaccel_manifest_changes_byindex(ch, 1);
	assert_string_equal(c->path, "docs/readme.txt");
	assert_int_equal(c->change, GOACCEL_CHANGE_REMOVED);
	assert_null(c->new_entry);
	c = goaccel_manifest_changes_byindex(ch, 2);
	assert_string_equal(c->path, "link");
	assert_int_equal(c->change, GOACCEL_CHANGE_TYPE);
	assert_int_equal(c->old_entry->type, GOACCEL_ENTRY_SYMLINK);
	assert_int_equal(c->new_entry->type, GOACCEL_ENTRY_FILE);
	c = goaccel_manifest_changes_byindex(ch, 3);
	assert_string_equal(c->path, "other");
	assert_int_equal(c->change, GOACCEL_CHANGE_MODE);
	c = goaccel_manifest_changes_byindex(ch, 4);
	assert_string_equal(c->path, "src/main.go");
	assert_int_equal(c->change, GOACCEL_CHANGE_CONTENT);
	c = goaccel_manifest_changes_byindex(ch, 5);
	assert_string_equal(c->path, "src/pkg/p.go");
	assert_int_equal(c->change, GOACCEL_CHANGE_CONTENT | GOACCEL_CHANGE_MODE);
	assert_null(goaccel_manifest_changes_byindex(ch, 6));
	GA_OK(goaccel_manifest_changes_to_text(&text, ch, 0));
	assert_string_equal(text, "added        added\n"
	                          "removed      docs/readme.txt\n"
	                          "type         link (symlink -> file)\n"
	                          "mode         other (now executable)\n"
	                          "content      src/main.go\n"
	                          "content+mode src/pkg/p.go (now executable)\n");
	goaccel_free(text);
	GA_OK(goaccel_manifest_changes_to_text(&text, ch, 2));
	assert_string_equal(text, "added        added\nremoved      docs/readme.txt\n... and 4 more\n");
	goaccel_free(text);
	goaccel_manifest_changes_free(ch);
	/* identical manifests: no changes */
	GA_OK(goaccel_manifest_diff(&ch, mb, mb));
	assert_int_equal(goaccel_manifest_changes_count(ch), 0);
	GA_OK(goaccel_manifest_changes_to_text(&text, ch, 0));
	assert_string_equal(text, "");
	goaccel_free(text);
	goaccel_manifest_changes_free(ch);
	goaccel_manifest_changes_free(NULL);
	goaccel_manifest_free(mb);
	free(a);
	free(b);
	tu_rmtree(dir);
	free(dir);
}

/* ---- hash_paths ----------------------------------------------------------------------------- */

static void test_hash__paths_equals_tree(void **state)
{
	goaccel_hash_options opts = GOACCEL_HASH_OPTIONS_INIT;
	goaccel_hash_stats st;
	char *dir = tu_tempdir("ga-hash-paths"), *tree = tu_path(dir, "tree"), *cache = tu_path(dir, "sc");
	goaccel_manifest *m, *pm = NULL;
	goaccel_digest dt, dp;
	const char **list;
	size_t i, n;
	(void)state;
	make_base(tree);
	assert_int_equal(tu_sh("cd '%s' && head -c 1000000 /dev/urandom > big && printf 'n' > 'new\nline'", tree), 0);
	m = manifest_of(tree, NULL);
	dt = *goaccel_manifest_digest(m);
	n = goaccel_manifest_entrycount(m);
	list = calloc(n + 1, sizeof(*list));
	for (i = 0; i < n; i++) /* reversed, with a duplicate: order and repeats do not matter */
		list[i] = goaccel_manifest_entry_byindex(m, n - 1 - i)->path;
	list[n] = list[0];
	opts.stat_cache = cache;
	opts.stats = &st;
	GA_OK(goaccel_hash_paths(&dp, &pm, tree, list, n + 1, &opts));
	assert_int_equal(goaccel_digest_cmp(&dp, &dt), 0);
	assert_int_equal(goaccel_manifest_entrycount(pm), n);
	goaccel_manifest_free(pm);
	/* the stat cache is shared with hash_tree */
	sleep(1);
	hash_of(tree, &opts);
	GA_OK(goaccel_hash_paths(&dp, NULL, tree, list, n, &opts));
	assert_int_equal(st.files_hashed, 0);
	assert_int_equal(goaccel_digest_cmp(&dp, &dt), 0);
	/* a subset is a different digest */
	GA_OK(goaccel_hash_paths(&dp, NULL, tree, list, n - 1, NULL));
	assert_int_not_equal(goaccel_digest_cmp(&dp, &dt), 0);
	free(list);
	goaccel_manifest_free(m);
	free(tree);
	free(cache);
	tu_rmtree(dir);
	free(dir);
}

static void test_hash__paths_errors(void **state)
{
	char *dir = tu_tempdir("ga-hash-perr"), *tree = tu_path(dir, "tree");
	goaccel_digest d;
	goaccel_hash_options opts = GOACCEL_HASH_OPTIONS_INIT;
	static const char *invalid[] = {"", "/abs", "a/../b", "a//b", "./a", "a/", "..", "a/."};
	size_t i;
	(void)state;
	make_base(tree);
	assert_int_equal(tu_sh("mkdir -p '%s/outside' && printf 's' > '%s/outside/s' && cd '%s' && "
	                       "ln -s ../outside esc && ln -s src alias",
	                       dir, dir, tree),
	                 0);
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		const char *one[1];
		one[0] = invalid[i];
		if (goaccel_hash_paths(&d, NULL, tree, one, 1, NULL) != GOACCEL_EINVALID)
			fail_msg("accepted \"%s\"", invalid[i]);
	}
	{
		const char *missing[] = {"src/main.go", "src/nope.go"};
		assert_int_equal(goaccel_hash_paths(&d, NULL, tree, missing, 2, NULL), GOACCEL_ENOTFOUND);
		assert_non_null(strstr(goaccel_error_last()->message, "src/nope.go"));
	}
	{
		const char *isdir[] = {"src"};
		assert_int_equal(goaccel_hash_paths(&d, NULL, tree, isdir, 1, NULL), GOACCEL_EINVALID);
		assert_non_null(strstr(goaccel_error_last()->message, "directory"));
	}
	{
		const char *escape[] = {"esc/s"};
		assert_int_equal(goaccel_hash_paths(&d, NULL, tree, escape, 1, NULL), GOACCEL_EUNSAFE);
		assert_non_null(strstr(goaccel_error_last()->message, "esc/s"));
	}
	{
		/* a parent link inside the root is fine; a listed link is a link unless followed */
		const char *via[] = {"alias/main.go"}, *direct[] = {"src/main.go"}, *lnk[] = {"link"};
		goaccel_digest a, b;
		GA_OK(goaccel_hash_paths(&a, NULL, tree, via, 1, NULL));
		GA_OK(goaccel_hash_paths(&b, NULL, tree, direct, 1, NULL));
		assert_int_not_equal(goaccel_digest_cmp(&a, &b), 0); /* the paths differ */
		GA_OK(goaccel_hash_paths(&a, NULL, tree, lnk, 1, NULL));
		opts.follow_symlinks = 1;
		GA_OK(goaccel_hash_paths(&b, NULL, tree, lnk, 1, &opts));
		assert_int_not_equal(goaccel_digest_cmp(&a, &b), 0);
		GA_OK(goaccel_hash_paths(&d, NULL, tree, NULL, 0, NULL)); /* empty list: the empty tree */
		assert_string_equal(hex_of(&d), "2194d569311f3aaee964ec73837c07e2f4955a278fbb4e25fe532b001b104af9");
	}
	{
		char *file = tu_path(tree, "other");
		const char *one[] = {"x"};
		assert_int_equal(goaccel_hash_paths(&d, NULL, file, one, 1, NULL), GOACCEL_EINVALID);
		free(file);
	}
	free(tree);
	tu_rmtree(dir);
	free(dir);
}

/* ---- bad input ------------------------------------------------------------------------------ */

static void test_hash__missing_root(void **state)
{
	goaccel_digest d;
	(void)state;
	assert_int_equal(goaccel_hash_tree(&d, NULL, "/nonexistent/goaccel/root", NULL), GOACCEL_ENOTFOUND);
	assert_non_null(strstr(goaccel_error_last()->message, "/nonexistent/goaccel/root"));
}

/* Runs hash_tree as an unprivileged user when we are root (root reads everything). */
static int hash_as_user(const char *root, char *msg, size_t msglen)
{
	int fds[2], status = 0;
	pid_t pid;
	ssize_t n;
	if (geteuid() != 0) {
		goaccel_digest d;
		int rc = goaccel_hash_tree(&d, NULL, root, NULL);
		snprintf(msg, msglen, "%s", goaccel_error_last()->message);
		return rc;
	}
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		goaccel_digest d;
		int rc;
		close(fds[0]);
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(100);
		rc = goaccel_hash_tree(&d, NULL, root, NULL);
		if (write(fds[1], goaccel_error_last()->message, strlen(goaccel_error_last()->message)) < 0)
			_exit(101);
		_exit(-rc);
	}
	close(fds[1]);
	n = read(fds[0], msg, msglen - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status));
	assert_true(WEXITSTATUS(status) < 100);
	return -WEXITSTATUS(status);
}

static void test_hash__unreadable_file_and_directory(void **state)
{
	char *dir = tu_tempdir("ga-hash-perm"), msg[1024];
	(void)state;
	tu_write(dir, "tree/ok", "ok");
	tu_write(dir, "tree/secret.txt", "no");
	tu_write(dir, "tree2/locked/f", "no");
	assert_int_equal(tu_sh("chmod 755 '%s' && chmod 000 '%s/tree/secret.txt' && chmod 000 '%s/tree2/locked'", dir,
	                       dir, dir),
	                 0);
	{
		char *tree = tu_path(dir, "tree");
		assert_int_equal(hash_as_user(tree, msg, sizeof(msg)), GOACCEL_ERROR);
		assert_non_null(strstr(msg, "secret.txt"));
		assert_non_null(strstr(msg, "ermission denied"));
		free(tree);
		tree = tu_path(dir, "tree2");
		assert_int_equal(hash_as_user(tree, msg, sizeof(msg)), GOACCEL_ERROR);
		assert_non_null(strstr(msg, "locked"));
		free(tree);
	}
	tu_rmtree(dir);
	free(dir);
}

/* A file that keeps changing while trees are hashed: every result is either a digest of a real
 * state or GOACCEL_ECHANGED naming the file, never anything else. */
typedef struct {
	const char *path, *gone; /* gone: outside the tree */
	volatile int stop;
	int mode; /* 0: size toggles, 1: the file disappears and comes back */
} churn_arg;

static void *churn(void *p)
{
	churn_arg *a = p;
	const char *gone = a->gone;
	int flip = 0;
	while (!a->stop) {
		if (a->mode == 0) {
			if (truncate(a->path, flip ? 3 * 1024 * 1024 : 5 * 1024 * 1024) < 0)
				break;
		} else if (rename(flip ? gone : a->path, flip ? a->path : gone) < 0) {
			break;
		}
		flip = !flip;
	}
	if (a->mode == 1 && flip)
		rename(gone, a->path);
	return NULL;
}

static void test_hash__changes_while_hashing(void **state)
{
	char *dir = tu_tempdir("ga-hash-churn"), *tree = tu_path(dir, "tree"), *file = tu_path(dir, "tree/sub/big");
	char *gone = tu_path(dir, "big.gone");
	int mode;
	(void)state;
	make_base(tree);
	for (mode = 0; mode < 2; mode++) {
		goaccel_digest states[2], d;
		pthread_t t;
		churn_arg a = {file, gone, 0, mode};
		int i, changed = 0, ok = 0;
		assert_int_equal(tu_sh("mkdir -p '%s/sub' && rm -f '%s' && truncate -s %d '%s'", tree, file,
		                       mode == 0 ? 3 * 1024 * 1024 : 4 * 1024 * 1024, file),
		                 0);
		states[0] = hash_of(tree, NULL);
		if (mode == 0)
			assert_int_equal(truncate(file, 5 * 1024 * 1024), 0);
		else
			assert_int_equal(unlink(file), 0);
		states[1] = hash_of(tree, NULL);
		if (mode == 1)
			assert_int_equal(tu_sh("truncate -s %d '%s'", 4 * 1024 * 1024, file), 0);
		assert_int_equal(pthread_create(&t, NULL, churn, &a), 0);
		for (i = 0; i < 15; i++) {
			int rc = goaccel_hash_tree(&d, NULL, tree, NULL);
			if (rc == 0) {
				if (goaccel_digest_cmp(&d, &states[0]) != 0 && goaccel_digest_cmp(&d, &states[1]) != 0)
					fail_msg("mode %d: a digest of no real state: %s", mode, hex_of(&d));
				ok++;
			} else {
				if (rc != GOACCEL_ECHANGED)
					fail_msg("mode %d: unexpected %d: %s", mode, rc, goaccel_error_last()->message);
				assert_non_null(strstr(goaccel_error_last()->message, "sub/big"));
				changed++;
			}
		}
		a.stop = 1;
		pthread_join(t, NULL);
		print_message("churn mode %d: %d consistent digests, %d ECHANGED\n", mode, ok, changed);
	}
	free(file);
	free(gone);
	free(tree);
	tu_rmtree(dir);
	free(dir);
}

/* Error messages escape names that are not printable. */
static void test_hash__odd_names_in_errors(void **state)
{
	char *dir = tu_tempdir("ga-hash-odd"), *tree = tu_path(dir, "tree");
	goaccel_digest d;
	(void)state;
	assert_int_equal(tu_sh("mkdir -p '%s' && mkfifo \"%s/$(printf 'bad\\nname\\377')\"", tree, tree), 0);
	assert_int_equal(goaccel_hash_tree(&d, NULL, tree, NULL), GOACCEL_EINVALID);
	assert_non_null(strstr(goaccel_error_last()->message, "bad\\nname\\xff"));
	free(tree);
	tu_rmtree(dir);
	free(dir);
}

/* Many files and large ones, on 1 and 4 threads: same digest, and the same as the reference. */
static void test_hash__threads_agree(void **state)
{
	char *dir = tu_tempdir("ga-hash-thr"), *tree = tu_path(dir, "tree");
	goaccel_hash_options opts = GOACCEL_HASH_OPTIONS_INIT;
	goaccel_digest one, four, all;
	(void)state;
	assert_int_equal(tu_sh("set -e; mkdir -p '%s' && cd '%s' && for d in $(seq 1 20); do mkdir -p d$d/e; "
	                       "for f in $(seq 1 25); do echo $d$f > d$d/e/f$f; done; done && "
	                       "head -c 3000000 /dev/urandom > big1 && head -c 2000000 /dev/urandom > d3/big2",
	                       tree, tree),
	                 0);
	opts.threads = 1;
	one = hash_of(tree, &opts);
	opts.threads = 4;
	four = hash_of(tree, &opts);
	opts.threads = 0;
	all = hash_of(tree, &opts);
	assert_int_equal(goaccel_digest_cmp(&one, &four), 0);
	assert_int_equal(goaccel_digest_cmp(&one, &all), 0);
	free(tree);
	tu_rmtree(dir);
	free(dir);
}

/* ---- libgit2 is initialised on first use ----------------------------------------------------- */

/* How many initialisations of libgit2 others hold (git_libgit2_init returns the new count). */
static int libgit2_holders(void)
{
	int n = git_libgit2_init();
	git_libgit2_shutdown();
	return n - 1;
}

static void *hash_with_gitignore(void *dir)
{
	goaccel_hash_options opts = GOACCEL_HASH_OPTIONS_INIT;
	goaccel_digest d;
	opts.gitignore = 1;
	return goaccel_hash_tree(&d, NULL, dir, &opts) < 0 ? dir : NULL;
}

/* goaccel_init() does not initialise libgit2 (milliseconds of CPU in every process); the first
 * call that uses it does, once even when threads race to it, and the last goaccel_shutdown()
 * releases it. */
static void test_hash__libgit2_initialised_on_first_use(void **state)
{
	char *dir = tu_tempdir("ga-hash-lazy");
	pthread_t t[4];
	void *failed;
	int i;
	(void)state;
	assert_int_equal(tu_sh("cd '%s' && git init -q . && echo '*.tmp' > .gitignore && touch a.go b.tmp", dir), 0);
	/* from a shut-down library (the group setup holds one reference; earlier tests used libgit2) */
	assert_int_equal(goaccel_shutdown(), 0);
	assert_int_equal(libgit2_holders(), 0);
	assert_int_equal(goaccel_init(), 1);
	assert_int_equal(libgit2_holders(), 0);
	hash_of(dir, NULL); /* no gitignore: no libgit2 */
	assert_int_equal(libgit2_holders(), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hash_with_gitignore, dir), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &failed), 0);
		assert_null(failed);
	}
	assert_int_equal(libgit2_holders(), 1);
	/* a nested init/shutdown pair does not release it */
	assert_int_equal(goaccel_init(), 2);
	assert_int_equal(goaccel_shutdown(), 1);
	assert_int_equal(libgit2_holders(), 1);
	assert_int_equal(goaccel_shutdown(), 0);
	assert_int_equal(libgit2_holders(), 0);
	/* initialised again by the next use after a re-init; the group teardown drops this one */
	assert_int_equal(goaccel_init(), 1);
	assert_null(hash_with_gitignore(dir));
	assert_int_equal(libgit2_holders(), 1);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash__doc_examples),
		cmocka_unit_test(test_hash__reference_implementation),
		cmocka_unit_test(test_hash__file_root_and_options),
		cmocka_unit_test(test_hash__mutations_change_the_digest),
		cmocka_unit_test(test_hash__irrelevant_changes_keep_the_digest),
		cmocka_unit_test(test_hash__excluded_files_are_irrelevant),
		cmocka_unit_test(test_hash__stat_cache_warm_run_reads_nothing),
		cmocka_unit_test(test_hash__stat_cache_damage_is_ignored),
		cmocka_unit_test(test_hash__racy_rule),
		cmocka_unit_test(test_hash__racy_same_size_change),
		cmocka_unit_test(test_hash__dockerignore_matching),
		cmocka_unit_test(test_hash__dockerignore_bad_patterns),
		cmocka_unit_test(test_hash__patterns_select_entries),
		cmocka_unit_test(test_hash__gitignore_matches_git),
		cmocka_unit_test(test_hash__gitignore_global_excludes),
		cmocka_unit_test(test_hash__symlinks),
		cmocka_unit_test(test_hash__manifest_round_trip),
		cmocka_unit_test(test_hash__manifest_rejects_bad_input),
		cmocka_unit_test(test_hash__manifest_diff),
		cmocka_unit_test(test_hash__paths_equals_tree),
		cmocka_unit_test(test_hash__paths_errors),
		cmocka_unit_test(test_hash__missing_root),
		cmocka_unit_test(test_hash__unreadable_file_and_directory),
		cmocka_unit_test(test_hash__changes_while_hashing),
		cmocka_unit_test(test_hash__odd_names_in_errors),
		cmocka_unit_test(test_hash__threads_agree),
		cmocka_unit_test(test_hash__libgit2_initialised_on_first_use),
	};
	return cmocka_run_group_tests_name("hash", tests, tu_group_setup, tu_group_teardown);
}
