/* store layer: blobs, action records, refs, stats, prune, verify, export/import (hostile
 * archives included), and the multi-process stress and kill -9 crash tests.
 *
 * The executable doubles as the worker of the multi-process tests:
 *   test_store --worker ROOT SECONDS SEED OUTFILE    one stress worker (used by the stress test;
 *                                                    it puts, looks up + restores or fetches,
 *                                                    acquires mounts, prunes, sets refs)
 *   test_store --stress SECONDS                      the stress test alone (tests/sh/store_stress.sh)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "testutil.h"
#include "store_fixtures.h"
#include "store_internal.h"
#include "store_archive.h"
#include "util/fs.h"

/* ---- helpers ------------------------------------------------------------------------------- */

static void key_of(goaccel_digest *k, const char *text)
{
	GA_OK(goaccel_digest_buffer(k, text, strlen(text)));
}

static void put_simple(goaccel_store *s, const char *keytext, const char *kind, const char *name,
                       const char *content, int64_t duration)
{
	goaccel_digest k;
	goaccel_action_output o = {name, NULL, 0644, content, strlen(content)};
	goaccel_action_meta meta = GOACCEL_ACTION_META_INIT;
	meta.duration_ns = duration;
	key_of(&k, keytext);
	GA_OK(goaccel_store_action_put(s, &k, kind, &o, 1, &meta));
}

static unsigned int file_mode(const char *path)
{
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	return (unsigned int)st.st_mode & 07777;
}

static void set_age(const char *path, int64_t seconds_ago)
{
	struct timespec ts[2];
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - seconds_ago;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static char *action_file(goaccel_store *s, const char *keytext)
{
	goaccel_digest k;
	key_of(&k, keytext);
	return ga_store_action_path(s, &k);
}

static void expect_clean(goaccel_store *s)
{
	goaccel_verify_result vr;
	int rc = goaccel_store_verify(&vr, s, NULL);
	if (rc != 0)
		fail_msg("verify: %s", goaccel_error_last()->message);
	assert_int_equal(vr.problems, 0);
}

static size_t count_files(const char *dir)
{
	char *out = tu_sh_out("find '%s' -type f 2>/dev/null | wc -l", dir);
	size_t n = (size_t)strtoul(out, NULL, 10);
	free(out);
	return n;
}

/* ---- opening ------------------------------------------------------------------------------- */

static void test_store__default_root(void **state)
{
	char *root;
	char *saved_cache = getenv("GOACCEL_CACHE") ? strdup(getenv("GOACCEL_CACHE")) : NULL;
	char *saved_xdg = getenv("XDG_CACHE_HOME") ? strdup(getenv("XDG_CACHE_HOME")) : NULL;
	char *saved_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	(void)state;
	setenv("GOACCEL_CACHE", "/x/cache", 1);
	GA_OK(goaccel_store_default_root(&root));
	assert_string_equal(root, "/x/cache");
	goaccel_free(root);
	unsetenv("GOACCEL_CACHE");
	setenv("XDG_CACHE_HOME", "/x/xdg", 1);
	GA_OK(goaccel_store_default_root(&root));
	assert_string_equal(root, "/x/xdg/goaccel");
	goaccel_free(root);
	setenv("XDG_CACHE_HOME", "relative", 1); /* ignored: the spec wants an absolute path */
	setenv("HOME", "/x/home", 1);
	GA_OK(goaccel_store_default_root(&root));
	assert_string_equal(root, "/x/home/.cache/goaccel");
	goaccel_free(root);
	unsetenv("XDG_CACHE_HOME");
	unsetenv("HOME");
	assert_int_equal(goaccel_store_default_root(&root), GOACCEL_ENOTFOUND);
	if (saved_cache)
		setenv("GOACCEL_CACHE", saved_cache, 1);
	if (saved_xdg)
		setenv("XDG_CACHE_HOME", saved_xdg, 1);
	if (saved_home)
		setenv("HOME", saved_home, 1);
	free(saved_cache);
	free(saved_xdg);
	free(saved_home);
}

static void test_store__open_creates_private_versioned_root(void **state)
{
	char *dir = tu_tempdir("ga-store");
	char *root = tu_path(dir, "a/b/cache"), *marker, *other;
	goaccel_store *s = NULL;
	goaccel_store_options o = GOACCEL_STORE_OPTIONS_INIT;
	mode_t old = umask(0);
	(void)state;
	s = open_store(root);
	umask(old);
	assert_int_equal(file_mode(root), 0700);
	assert_string_equal(goaccel_store_path(s), root);
	marker = tu_path(root, "goaccel-store.json");
	assert_true(ga_exists(marker));
	goaccel_store_free(s);
	/* reopening is fine; a newer layout is refused, not misread */
	s = open_store(root);
	goaccel_store_free(s);
	chmod(marker, 0644);
	tu_write(root, "goaccel-store.json", "{\"format\":\"goaccel-store\",\"version\":2}");
	assert_int_equal(goaccel_store_open(&s, root, NULL), GOACCEL_EVERSION);
	assert_null(s);
	/* a non-empty directory that is not a store is left alone */
	other = tu_path(dir, "home");
	tu_write(other, "precious.txt", "x");
	assert_int_equal(goaccel_store_open(&s, other, NULL), GOACCEL_EINVALID);
	assert_non_null(strstr(goaccel_error_last()->message, "not a goaccel store"));
	free(other);
	other = tu_path(dir, "missing");
	o.no_create = 1;
	assert_int_equal(goaccel_store_open(&s, other, &o), GOACCEL_ENOTFOUND);
	assert_false(ga_exists(other));
	o.version = 99;
	assert_int_equal(goaccel_store_open(&s, other, &o), GOACCEL_EVERSION);
	assert_int_equal(goaccel_store_open(NULL, other, NULL), GOACCEL_EINVALID);
	goaccel_store_free(NULL);
	free(other);
	free(marker);
	free(root);
	tu_rmtree(dir);
	free(dir);
}

/* ---- blobs --------------------------------------------------------------------------------- */

static void test_store__blobs_roundtrip_and_match_sha256sum(void **state)
{
	tf_store *fx = *state;
	char *dir = fx->dir;
	goaccel_store *s = fx->s;
	goaccel_digest d, d2;
	char hex[65], *path, *sum, *src;
	void *data;
	size_t len;
	GA_OK(goaccel_store_blob_put_buffer(&d, s, "hello blob", 10));
	GA_OK(goaccel_store_blob_get(&data, &len, s, &d, 0));
	assert_int_equal(len, 10);
	assert_memory_equal(data, "hello blob", 10);
	goaccel_free(data);
	assert_int_equal(goaccel_store_blob_get(&data, &len, s, &d, 5), GOACCEL_ELIMIT);
	assert_int_equal(goaccel_store_blob_exists(s, &d), 1);
	GA_OK(goaccel_store_blob_path(&path, s, &d));
	sum = tu_sh_out("sha256sum '%s' | cut -c1-64", path);
	goaccel_digest_fmt(hex, &d);
	assert_string_equal(sum, hex);
	assert_non_null(strstr(path, "/blobs/sha256/"));
	assert_int_equal(file_mode(path), 0444);
	free(sum);
	goaccel_free(path);
	/* from a file: same bytes, same digest, stored once */
	tu_write(dir, "../src-blob.txt", "hello blob");
	src = tu_path(dir, "../src-blob.txt");
	GA_OK(goaccel_store_blob_put_file(&d2, s, src));
	assert_int_equal(goaccel_digest_cmp(&d, &d2), 0);
	unlink(src);
	assert_int_equal(goaccel_store_blob_put_file(&d2, s, src), GOACCEL_ENOTFOUND);
	assert_int_equal(goaccel_store_blob_put_file(&d2, s, dir), GOACCEL_EINVALID);
	free(src);
	/* copy out, with a mode */
	src = tu_path(dir, "../copied-blob");
	GA_OK(goaccel_store_blob_copy(s, &d, src, 0750));
	assert_int_equal(file_mode(src), 0750);
	data = tu_read(src, &len);
	assert_int_equal(len, 10);
	free(data);
	unlink(src);
	free(src);
	GA_OK(goaccel_digest_buffer(&d2, "absent", 6));
	assert_int_equal(goaccel_store_blob_get(&data, &len, s, &d2, 0), GOACCEL_ENOTFOUND);
	assert_int_equal(goaccel_store_blob_exists(s, &d2), 0);
	expect_clean(s);
}

static void test_store__corrupt_blob_is_removed_and_counted(void **state)
{
	tf_store *fx = *state;
	goaccel_store *s = fx->s;
	goaccel_digest d;
	goaccel_store_counters c;
	char *path;
	void *data;
	size_t len;
	GA_OK(goaccel_store_blob_put_buffer(&d, s, "original", 8));
	GA_OK(goaccel_store_blob_path(&path, s, &d));
	chmod(path, 0644);
	tu_sh("printf 'tampered' > '%s'", path);
	assert_int_equal(goaccel_store_blob_get(&data, &len, s, &d, 0), GOACCEL_ECORRUPT);
	assert_non_null(strstr(goaccel_error_last()->message, "does not match"));
	assert_false(ga_exists(path));
	GA_OK(goaccel_store_stats(&c, s, NULL));
	assert_int_equal(c.corrupt, 1);
	/* putting it again repairs it */
	GA_OK(goaccel_store_blob_put_buffer(&d, s, "original", 8));
	GA_OK(goaccel_store_blob_get(&data, &len, s, &d, 0));
	goaccel_free(data);
	goaccel_free(path);
}

/* ---- actions ------------------------------------------------------------------------------- */

static void test_store__action_put_lookup_restore(void **state)
{
	tf_store *fx = *state;
	char *dir = fx->dir, *src = tu_path(dir, "src");
	char *dest = tu_path(dir, "out"), *p, *bin;
	goaccel_store *s = fx->s;
	goaccel_digest k;
	goaccel_action *a = NULL;
	goaccel_action_output outs[2];
	goaccel_action_meta meta = GOACCEL_ACTION_META_INIT;
	goaccel_store_counters c;
	const goaccel_action_output_info *oi;
	size_t len;
	mode_t old;
	tu_write(src, "app", "#!/bin/sh\necho hi\n");
	bin = tu_path(src, "app");
	chmod(bin, 0755);
	outs[0] = (goaccel_action_output){"bin/app", bin, -1, NULL, 0};
	outs[1] = (goaccel_action_output){"log.txt", NULL, 0600, "built ok\n", 9};
	meta.duration_ns = 1500000000;
	meta.info = "{\"step\":\"build\"}";
	key_of(&k, "key-1");
	GA_OK(goaccel_store_action_put(s, &k, "gobuild", outs, 2, &meta));
	GA_OK(goaccel_store_action_lookup(&a, s, "gobuild", &k));
	assert_string_equal(goaccel_action_kind(a), "gobuild");
	assert_int_equal(goaccel_digest_cmp(goaccel_action_key(a), &k), 0);
	assert_int_equal(goaccel_action_output_count(a), 2);
	oi = goaccel_action_output_byindex(a, 0);
	assert_string_equal(oi->name, "bin/app");
	assert_int_equal(oi->mode, 0755);
	assert_int_equal(oi->size, 18);
	oi = goaccel_action_output_byindex(a, 1);
	assert_string_equal(oi->name, "log.txt");
	assert_int_equal(oi->mode, 0600);
	assert_null(goaccel_action_output_byindex(a, 2));
	assert_int_equal(goaccel_action_duration(a), 1500000000);
	assert_string_equal(goaccel_action_info(a), "{\"step\":\"build\"}");
	assert_true(goaccel_action_created(a) > 0);
	assert_true(goaccel_action_last_used(a) > 0);
	/* modes are restored exactly, whatever the umask */
	old = umask(077);
	GA_OK(goaccel_action_restore(a, dest, NULL));
	umask(old);
	p = tu_path(dest, "bin/app");
	assert_int_equal(file_mode(p), 0755);
	free(bin);
	bin = tu_read(p, &len);
	assert_string_equal(bin, "#!/bin/sh\necho hi\n");
	assert_int_equal(tu_sh("'%s' | grep -q hi", p), 0);
	free(p);
	p = tu_path(dest, "log.txt");
	assert_int_equal(file_mode(p), 0600);
	free(p);
	/* restore again over the existing files; no_overwrite refuses */
	GA_OK(goaccel_action_restore(a, dest, NULL));
	{
		goaccel_restore_options ro = GOACCEL_RESTORE_OPTIONS_INIT;
		ro.no_overwrite = 1;
		assert_int_equal(goaccel_action_restore(a, dest, &ro), GOACCEL_EEXISTS);
		ro.no_overwrite = 0;
		ro.no_reflink = 1;
		GA_OK(goaccel_action_restore(a, dest, &ro));
	}
	assert_int_equal(count_files(dest), 2); /* no temporary file left behind */
	goaccel_action_free(a);
	GA_OK(goaccel_store_stats(&c, s, "gobuild"));
	assert_int_equal(c.hits, 1);
	assert_int_equal(c.misses, 0);
	assert_int_equal(c.puts, 1);
	assert_int_equal(c.bytes_put, 27);
	assert_int_equal(c.time_saved_ns, 1500000000);
	assert_int_equal(c.bytes_restored, 3 * 27);
	/* a miss */
	key_of(&k, "key-absent");
	assert_int_equal(goaccel_store_action_lookup(&a, s, "gobuild", &k), GOACCEL_ENOTFOUND);
	assert_null(a);
	GA_OK(goaccel_store_stats(&c, s, "gobuild"));
	assert_int_equal(c.misses, 1);
	expect_clean(s);
	free(bin);
	free(src);
	free(dest);
}

static void test_store__action_rejects_bad_names(void **state)
{
	tf_store *fx = *state;
	goaccel_store *s = fx->s;
	goaccel_digest k;
	const char *bad[] = {"../x", "/abs", "a//b", ".", "a/./b", "a/..", "", NULL};
	size_t i;
	key_of(&k, "k");
	for (i = 0; bad[i]; i++) {
		goaccel_action_output o = {bad[i], NULL, 0644, "x", 1};
		assert_int_equal(goaccel_store_action_put(s, &k, "gobuild", &o, 1, NULL), GOACCEL_EINVALID);
	}
	{
		goaccel_action_output o[2] = {{"same", NULL, 0644, "x", 1}, {"same", NULL, 0644, "y", 1}};
		assert_int_equal(goaccel_store_action_put(s, &k, "gobuild", o, 2, NULL), GOACCEL_EINVALID);
		assert_non_null(strstr(goaccel_error_last()->message, "same"));
		assert_int_equal(goaccel_store_action_put(s, &k, "bad kind", o, 1, NULL), GOACCEL_EINVALID);
		assert_int_equal(goaccel_store_action_put(s, &k, NULL, o, 1, NULL), GOACCEL_EINVALID);
	}
	/* nothing half-made: no record */
	assert_int_equal(goaccel_store_action_remove(s, &k), GOACCEL_ENOTFOUND);
}

static void test_store__damaged_or_dangling_records_are_misses(void **state)
{
	tf_store *fx = *state;
	goaccel_store *s = fx->s;
	goaccel_action *a = NULL;
	goaccel_digest k, bd;
	goaccel_store_counters c;
	char *rec, *blob;
	/* a record whose blob is gone */
	put_simple(s, "dangling", "gobuild", "out", "payload-1", 10);
	GA_OK(goaccel_digest_buffer(&bd, "payload-1", 9));
	GA_OK(goaccel_store_blob_path(&blob, s, &bd));
	unlink(blob);
	key_of(&k, "dangling");
	assert_int_equal(goaccel_store_action_lookup(&a, s, NULL, &k), GOACCEL_ENOTFOUND);
	rec = action_file(s, "dangling");
	assert_false(ga_exists(rec)); /* the useless record went too */
	free(rec);
	goaccel_free(blob);
	/* a record whose blob is damaged */
	put_simple(s, "damaged", "gobuild", "out", "payload-2", 10);
	GA_OK(goaccel_digest_buffer(&bd, "payload-2", 9));
	GA_OK(goaccel_store_blob_path(&blob, s, &bd));
	chmod(blob, 0644);
	tu_sh("printf 'payload-X' > '%s'", blob);
	key_of(&k, "damaged");
	assert_int_equal(goaccel_store_action_lookup(&a, s, "gobuild", &k), GOACCEL_ENOTFOUND);
	assert_false(ga_exists(blob));
	goaccel_free(blob);
	/* a record that is not JSON */
	put_simple(s, "garbage", "gobuild", "out", "payload-3", 10);
	rec = action_file(s, "garbage");
	chmod(rec, 0644);
	tu_sh("printf '{not json' > '%s'", rec);
	key_of(&k, "garbage");
	assert_int_equal(goaccel_store_action_lookup(&a, s, "gobuild", &k), GOACCEL_ENOTFOUND);
	assert_non_null(strstr(goaccel_error_last()->message, "unusable"));
	assert_false(ga_exists(rec));
	free(rec);
	GA_OK(goaccel_store_stats(&c, s, NULL));
	assert_int_equal(c.misses, 3);
	assert_int_equal(c.corrupt, 2);
	assert_int_equal(c.hits, 0);
}

static int64_t mtime_of(const char *path)
{
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	return ga_stat_mtime_ns(&st);
}

/* GOACCEL_LOOKUP_PEEK answers like a lookup but writes nothing: no counter, no last-used time,
 * no removal of a damaged entry (the next ordinary lookup still removes it). */
static void test_store__lookup_peek_counts_nothing(void **state)
{
	tf_store *fx = *state;
	goaccel_store *s = fx->s;
	goaccel_lookup_options lo;
	goaccel_action *a = NULL;
	goaccel_digest k, bd;
	goaccel_store_counters c;
	char *rec, *blob;
	int64_t before;
	GA_OK(goaccel_lookup_options_init(&lo, GOACCEL_LOOKUP_OPTIONS_VERSION));
	assert_int_equal(lo.flags, 0);
	assert_int_equal(goaccel_lookup_options_init(&lo, 99), GOACCEL_EVERSION);
	lo.flags = GOACCEL_LOOKUP_PEEK;
	put_simple(s, "k", "gobuild", "out", "payload-1", 10);
	key_of(&k, "k");
	rec = action_file(s, "k");
	set_age(rec, 3600);
	before = mtime_of(rec);
	/* a hit, with the outputs readable, and nothing counted or touched */
	GA_OK(goaccel_store_action_lookup_ext(&a, s, "gobuild", &k, &lo));
	assert_int_equal(goaccel_action_output_count(a), 1);
	assert_int_equal(goaccel_action_output_byindex(a, 0)->size, 9);
	goaccel_action_free(a);
	assert_int_equal(mtime_of(rec), before);
	/* a miss */
	key_of(&bd, "absent");
	assert_int_equal(goaccel_store_action_lookup_ext(&a, s, "gobuild", &bd, &lo), GOACCEL_ENOTFOUND);
	assert_null(a);
	GA_OK(goaccel_store_stats(&c, s, NULL));
	assert_int_equal(c.hits + c.misses + c.corrupt + c.time_saved_ns, 0);
	/* a damaged blob: a miss, but the blob and the record stay */
	GA_OK(goaccel_digest_buffer(&bd, "payload-1", 9));
	GA_OK(goaccel_store_blob_path(&blob, s, &bd));
	chmod(blob, 0644);
	tu_sh("printf 'payload-X' > '%s'", blob);
	assert_int_equal(goaccel_store_action_lookup_ext(&a, s, "gobuild", &k, &lo), GOACCEL_ENOTFOUND);
	assert_true(ga_exists(blob));
	assert_true(ga_exists(rec));
	/* a record that is not JSON: a miss, left in place */
	put_simple(s, "garbage", "gobuild", "out", "payload-3", 10);
	{
		char *rec2 = action_file(s, "garbage");
		goaccel_digest k2;
		chmod(rec2, 0644);
		tu_sh("printf '{not json' > '%s'", rec2);
		key_of(&k2, "garbage");
		assert_int_equal(goaccel_store_action_lookup_ext(&a, s, NULL, &k2, &lo), GOACCEL_ENOTFOUND);
		assert_true(ga_exists(rec2));
		free(rec2);
	}
	GA_OK(goaccel_store_stats(&c, s, NULL));
	assert_int_equal(c.hits + c.misses + c.corrupt, 0);
	/* bad options */
	lo.flags = 1u << 7;
	assert_int_equal(goaccel_store_action_lookup_ext(&a, s, NULL, &k, &lo), GOACCEL_EINVALID);
	lo.flags = 0;
	lo.version = 42;
	assert_int_equal(goaccel_store_action_lookup_ext(&a, s, NULL, &k, &lo), GOACCEL_EVERSION);
	/* NULL options: an ordinary lookup, which now removes the damaged entry and counts it */
	assert_int_equal(goaccel_store_action_lookup_ext(&a, s, "gobuild", &k, NULL), GOACCEL_ENOTFOUND);
	assert_false(ga_exists(blob));
	assert_false(ga_exists(rec));
	GA_OK(goaccel_store_stats(&c, s, NULL));
	assert_int_equal(c.misses, 1);
	assert_int_equal(c.corrupt, 1);
	goaccel_free(blob);
	free(rec);
}

/* Fills buf with n pseudo-random bytes (a fixed sequence per seed). */
static void fill_bytes(unsigned char *buf, size_t n, uint32_t seed)
{
	size_t i;
	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (unsigned char)(seed >> 16);
	}
}

/* fetch = lookup + restore in one pass; a blob that does not match never reaches dest_dir. */
static void test_store__fetch_restores_and_verifies_in_one_pass(void **state)
{
	tf_store *fx = *state;
	char *dir = fx->dir;
	char *dest = tu_path(dir, "out"), *dest2 = tu_path(dir, "out2"), *p, *blob;
	goaccel_store *s = fx->s;
	goaccel_digest k, bd;
	goaccel_action *a = NULL;
	goaccel_action_output outs[3];
	goaccel_action_meta meta = GOACCEL_ACTION_META_INIT;
	goaccel_store_counters c;
	goaccel_restore_options ro = GOACCEL_RESTORE_OPTIONS_INIT;
	size_t big = (5u << 20) + 12345, len, i;
	unsigned char *data = malloc(big);
	char *got;
	assert_non_null(data);
	fill_bytes(data, big, 7);
	outs[0] = (goaccel_action_output){"bin/app", NULL, 0755, data, big};
	outs[1] = (goaccel_action_output){"log.txt", NULL, 0600, "built ok\n", 9};
	outs[2] = (goaccel_action_output){"empty", NULL, 0644, "", 0};
	meta.duration_ns = 2000;
	key_of(&k, "fetch-1");
	GA_OK(goaccel_store_action_put(s, &k, "gobuild", outs, 3, &meta));
	/* a hit: the files, their modes, the counters of a lookup and a restore */
	GA_OK(goaccel_store_action_fetch(&a, s, "gobuild", &k, dest, NULL));
	assert_int_equal(goaccel_action_output_count(a), 3);
	goaccel_action_free(a);
	p = tu_path(dest, "bin/app");
	got = tu_read(p, &len);
	assert_int_equal(len, big);
	assert_memory_equal(got, data, big);
	assert_int_equal(file_mode(p), 0755);
	free(got);
	free(p);
	p = tu_path(dest, "log.txt");
	assert_int_equal(file_mode(p), 0600);
	free(p);
	assert_int_equal(count_files(dest), 3);
	GA_OK(goaccel_store_stats(&c, s, "gobuild"));
	assert_int_equal(c.hits, 1);
	assert_int_equal(c.time_saved_ns, 2000);
	assert_int_equal(c.bytes_restored, big + 9);
	/* again, over the existing files, with out NULL and without reflink */
	ro.no_reflink = 1;
	GA_OK(goaccel_store_action_fetch(NULL, s, NULL, &k, dest, &ro));
	assert_int_equal(count_files(dest), 3);
	/* no_overwrite: refused, nothing counted as restored */
	ro.no_overwrite = 1;
	assert_int_equal(goaccel_store_action_fetch(NULL, s, NULL, &k, dest, &ro), GOACCEL_EEXISTS);
	assert_int_equal(count_files(dest), 3);
	ro.no_overwrite = 0;
	/* a miss leaves no directory behind */
	key_of(&bd, "absent");
	assert_int_equal(goaccel_store_action_fetch(NULL, s, "gobuild", &bd, dest2, NULL), GOACCEL_ENOTFOUND);
	assert_false(ga_exists(dest2));
	/* a blob damaged in its last byte (same size): nothing new in dest_dir or dest2, the blob
	 * and the record removed, a miss and a corrupt entry counted */
	GA_OK(goaccel_digest_buffer(&bd, data, big));
	GA_OK(goaccel_store_blob_path(&blob, s, &bd));
	chmod(blob, 0644);
	assert_int_equal(tu_sh("printf 'Z' | dd of='%s' bs=1 seek=%zu conv=notrunc status=none", blob, big - 1), 0);
	GA_OK(goaccel_store_stats_reset(s));
	assert_int_equal(goaccel_store_action_fetch(&a, s, "gobuild", &k, dest2, NULL), GOACCEL_ENOTFOUND);
	assert_null(a);
	assert_false(ga_exists(dest2));
	assert_false(ga_exists(blob));
	assert_int_equal(goaccel_store_action_remove(s, &k), GOACCEL_ENOTFOUND);
	GA_OK(goaccel_store_stats(&c, s, "gobuild"));
	assert_int_equal(c.hits, 0);
	assert_int_equal(c.misses, 1);
	assert_int_equal(c.corrupt, 1);
	assert_int_equal(c.bytes_restored, 0);
	/* the same into a directory that holds the old outputs: they are left as they were */
	GA_OK(goaccel_store_action_put(s, &k, "gobuild", outs, 3, &meta));
	chmod(blob, 0644);
	assert_int_equal(tu_sh("printf 'Z' | dd of='%s' bs=1 seek=1 conv=notrunc status=none", blob), 0);
	p = tu_path(dest, "bin/app");
	unlink(p);
	assert_int_equal(goaccel_store_action_fetch(NULL, s, "gobuild", &k, dest, NULL), GOACCEL_ENOTFOUND);
	assert_false(ga_exists(p));
	assert_int_equal(count_files(dest), 2);
	free(p);
	/* a symlink on the way is refused */
	GA_OK(goaccel_store_action_put(s, &k, "gobuild", outs, 3, &meta));
	tu_rmtree(dest);
	assert_int_equal(ga_mkdir_p(dest2, 0755), 0);
	assert_int_equal(ga_mkdir_p(dest, 0755), 0);
	assert_int_equal(tu_sh("ln -s '%s' '%s/bin'", dest2, dest), 0);
	assert_int_equal(goaccel_store_action_fetch(NULL, s, NULL, &k, dest, NULL), GOACCEL_EUNSAFE);
	assert_int_equal(count_files(dest2), 0);
	/* many outputs (more than are kept open between lookup and restore) */
	{
		goaccel_action_output many[GA_ACTION_KEEP_FDS + 6];
		char names[GA_ACTION_KEEP_FDS + 6][16];
		for (i = 0; i < GA_ACTION_KEEP_FDS + 6; i++) {
			snprintf(names[i], sizeof(names[i]), "d%zu/f%zu", i % 5, i);
			many[i] = (goaccel_action_output){names[i], NULL, 0644, names[i], strlen(names[i])};
		}
		key_of(&k, "fetch-many");
		GA_OK(goaccel_store_action_put(s, &k, "gobuild", many, GA_ACTION_KEEP_FDS + 6, NULL));
		tu_rmtree(dest2);
		GA_OK(goaccel_store_action_fetch(NULL, s, NULL, &k, dest2, NULL));
		assert_int_equal(count_files(dest2), GA_ACTION_KEEP_FDS + 6);
		p = tu_path(dest2, "d3/f8");
		got = tu_read(p, &len);
		assert_string_equal(got, "d3/f8");
		free(got);
		free(p);
	}
	expect_clean(s);
	goaccel_free(blob);
	free(data);
	free(dest);
	free(dest2);
}

/* Listing records: every field, filters, orders; a damaged record is skipped; nothing counted. */
static void test_store__action_list(void **state)
{
	tf_store *fx = *state;
	goaccel_store *s = fx->s;
	goaccel_action_list_options lo;
	goaccel_action_list *l = NULL;
	const goaccel_action_entry *e;
	goaccel_store_counters c;
	goaccel_digest ka, kb, kc;
	char *rec, hex[GOACCEL_DIGEST_HEXSIZE + 1], glob[80];
	size_t i;
	GA_OK(goaccel_action_list_options_init(&lo, GOACCEL_ACTION_LIST_OPTIONS_VERSION));
	assert_int_equal(goaccel_action_list_options_init(&lo, 0), GOACCEL_EVERSION);
	/* empty store */
	GA_OK(goaccel_store_action_list_get(&l, s, NULL));
	assert_int_equal(goaccel_action_list_count(l), 0);
	assert_null(goaccel_action_list_byindex(l, 0));
	goaccel_action_list_free(l);
	{
		goaccel_action_output o[2] = {{"z/bin", NULL, 0755, "binary!", 7}, {"a.log", NULL, 0600, "log", 3}};
		goaccel_action_meta meta = GOACCEL_ACTION_META_INIT;
		meta.duration_ns = 42;
		meta.info = "{\"x\":1}";
		meta.created_ns = 1000;
		key_of(&ka, "a");
		GA_OK(goaccel_store_action_put(s, &ka, "gobuild", o, 2, &meta));
	}
	put_simple(s, "b", "gomod", "out", "bbb", 5);
	put_simple(s, "c", "gobuild", "out", "ccc", 6);
	put_simple(s, "broken", "gobuild", "out", "ddd", 7);
	key_of(&kb, "b");
	key_of(&kc, "c");
	/* ages: b oldest, then a, then c */
	rec = action_file(s, "b");
	set_age(rec, 300);
	free(rec);
	rec = action_file(s, "a");
	set_age(rec, 200);
	free(rec);
	rec = action_file(s, "c");
	set_age(rec, 100);
	free(rec);
	rec = action_file(s, "broken");
	chmod(rec, 0644);
	tu_sh("printf 'nope' > '%s'", rec);
	free(rec);
	GA_OK(goaccel_store_action_list_get(&l, s, NULL));
	assert_int_equal(goaccel_action_list_count(l), 3);
	assert_int_equal(goaccel_action_list_skipped(l), 1);
	for (i = 1; i < 3; i++) /* by key */
		assert_true(goaccel_digest_cmp(&goaccel_action_list_byindex(l, i - 1)->key,
		                               &goaccel_action_list_byindex(l, i)->key) < 0);
	for (i = 0; i < 3; i++) {
		e = goaccel_action_list_byindex(l, i);
		if (goaccel_digest_cmp(&e->key, &ka) == 0)
			break;
	}
	assert_true(i < 3);
	assert_string_equal(e->kind, "gobuild");
	assert_int_equal(e->created_ns, 1000);
	assert_int_equal(e->duration_ns, 42);
	assert_string_equal(e->info, "{\"x\":1}");
	assert_int_equal(e->output_count, 2);
	assert_string_equal(e->outputs[0].name, "a.log");
	assert_int_equal(e->outputs[0].mode, 0600);
	assert_string_equal(e->outputs[1].name, "z/bin");
	assert_int_equal(e->outputs[1].size, 7);
	assert_int_equal(e->total_size, 10);
	assert_true(e->record_bytes > 100);
	assert_true(e->last_used_ns < ga_now_ns() - INT64_C(150) * 1000000000);
	goaccel_action_list_free(l);
	/* least recently used first, one kind, a glob */
	lo.sort = GOACCEL_ACTION_SORT_LAST_USED;
	GA_OK(goaccel_store_action_list_get(&l, s, &lo));
	assert_int_equal(goaccel_action_list_count(l), 3);
	assert_int_equal(goaccel_digest_cmp(&goaccel_action_list_byindex(l, 0)->key, &kb), 0);
	assert_int_equal(goaccel_digest_cmp(&goaccel_action_list_byindex(l, 1)->key, &ka), 0);
	assert_int_equal(goaccel_digest_cmp(&goaccel_action_list_byindex(l, 2)->key, &kc), 0);
	assert_int_equal(goaccel_action_list_byindex(l, 0)->duration_ns, 5);
	goaccel_action_list_free(l);
	lo.kind = "gobuild";
	GA_OK(goaccel_store_action_list_get(&l, s, &lo));
	assert_int_equal(goaccel_action_list_count(l), 2);
	assert_string_equal(goaccel_action_list_byindex(l, 0)->kind, "gobuild");
	goaccel_action_list_free(l);
	lo.kind = NULL;
	goaccel_digest_fmt(hex, &kc);
	snprintf(glob, sizeof(glob), "*/%.6s*", hex);
	lo.glob = glob;
	GA_OK(goaccel_store_action_list_get(&l, s, &lo));
	assert_int_equal(goaccel_action_list_count(l), 1);
	assert_int_equal(goaccel_digest_cmp(&goaccel_action_list_byindex(l, 0)->key, &kc), 0);
	goaccel_action_list_free(l);
	/* bad options */
	lo.glob = NULL;
	lo.kind = "bad kind";
	assert_int_equal(goaccel_store_action_list_get(&l, s, &lo), GOACCEL_EINVALID);
	lo.kind = NULL;
	lo.sort = (goaccel_action_sort)9;
	assert_int_equal(goaccel_store_action_list_get(&l, s, &lo), GOACCEL_EINVALID);
	assert_null(l);
	/* listing counted nothing and touched nothing */
	GA_OK(goaccel_store_stats(&c, s, NULL));
	assert_int_equal(c.hits + c.misses + c.corrupt, 0);
	rec = action_file(s, "c");
	{
		struct stat st;
		assert_int_equal(stat(rec, &st), 0);
		assert_true(st.st_mtime <= time(NULL) - 99);
	}
	free(rec);
}

static void test_store__restore_never_follows_symlinks_out(void **state)
{
	tf_store *fx = *state;
	char *dir = fx->dir;
	char *dest = tu_path(dir, "dest"), *outside = tu_path(dir, "outside");
	goaccel_store *s = fx->s;
	goaccel_action *a = NULL;
	goaccel_digest k;
	put_simple(s, "k", "gobuild", "bin/app", "binary", 1);
	assert_int_equal(ga_mkdir_p(dest, 0755), 0);
	assert_int_equal(ga_mkdir_p(outside, 0755), 0);
	assert_int_equal(tu_sh("ln -s '%s' '%s/bin'", outside, dest), 0);
	key_of(&k, "k");
	GA_OK(goaccel_store_action_lookup(&a, s, NULL, &k));
	assert_int_equal(goaccel_action_restore(a, dest, NULL), GOACCEL_EUNSAFE);
	assert_int_equal(count_files(outside), 0);
	goaccel_action_free(a);
	free(dest);
	free(outside);
}

/* verify_cache: a blob hashed whole once is trusted while its inode is unchanged; any write to
 * it (even one that puts the old mtime back) changes its ctime and forces a full hash. */
static void test_store__verify_cache_still_catches_tampering(void **state)
{
	char *dir = tu_tempdir("ga-store");
	goaccel_store_options so = GOACCEL_STORE_OPTIONS_INIT;
	goaccel_store *s = NULL;
	goaccel_action *a = NULL;
	goaccel_digest k, bd;
	struct stat st;
	char *blob;
	(void)state;
	so.verify_cache = 1;
	GA_OK(goaccel_store_open(&s, dir, &so));
	put_simple(s, "k", "gobuild", "out", "trusted bytes", 1);
	GA_OK(goaccel_digest_buffer(&bd, "trusted bytes", 13));
	blob = ga_store_blob_path(s, &bd);
	assert_int_equal(stat(blob, &st), 0);
	assert_int_equal(ga_stamp_matches(s, &bd, &st), 0);
	key_of(&k, "k");
	GA_OK(goaccel_store_action_lookup(&a, s, NULL, &k));
	goaccel_action_free(a);
	assert_int_equal(ga_stamp_matches(s, &bd, &st), 1); /* the next read skips the hash */
	GA_OK(goaccel_store_action_lookup(&a, s, NULL, &k));
	goaccel_action_free(a);
	/* same size, old mtime put back: the ctime still moves */
	chmod(blob, 0644);
	assert_int_equal(tu_sh("cp -p '%s' /tmp/ga-ref-$$ && printf 'TAMPERED byte' > '%s' && "
	                       "touch -r /tmp/ga-ref-$$ '%s' && rm /tmp/ga-ref-$$", blob, blob, blob), 0);
	chmod(blob, 0444);
	assert_int_equal(goaccel_store_action_lookup(&a, s, NULL, &k), GOACCEL_ENOTFOUND);
	assert_false(ga_exists(blob));
	/* fetch: a fresh blob is hashed (and stamped), a stamped one copied unhashed, a tampered one
	 * still caught before anything reaches the destination */
	{
		char *dest = tu_path(dir, "dest"), *out = tu_path(dir, "dest/out"), *got;
		size_t len;
		put_simple(s, "k", "gobuild", "out", "trusted bytes", 1);
		assert_int_equal(stat(blob, &st), 0);
		assert_int_equal(ga_stamp_matches(s, &bd, &st), 0);
		GA_OK(goaccel_store_action_fetch(NULL, s, NULL, &k, dest, NULL));
		assert_int_equal(ga_stamp_matches(s, &bd, &st), 1);
		GA_OK(goaccel_store_action_fetch(NULL, s, NULL, &k, dest, NULL));
		got = tu_read(out, &len);
		assert_string_equal(got, "trusted bytes");
		free(got);
		unlink(out);
		chmod(blob, 0644);
		assert_int_equal(tu_sh("cp -p '%s' /tmp/ga-ref-$$ && printf 'TAMPERED byte' > '%s' && "
		                       "touch -r /tmp/ga-ref-$$ '%s' && rm /tmp/ga-ref-$$", blob, blob, blob), 0);
		chmod(blob, 0444);
		assert_int_equal(goaccel_store_action_fetch(NULL, s, NULL, &k, dest, NULL), GOACCEL_ENOTFOUND);
		assert_false(ga_exists(out));
		assert_false(ga_exists(blob));
		free(dest);
		free(out);
	}
	free(blob);
	goaccel_store_free(s);
	tu_rmtree(dir);
	free(dir);
}

/* ---- refs ---------------------------------------------------------------------------------- */

typedef struct {
	int count, named, second, stop_after;
} ref_seen;

static int see_ref(const goaccel_ref_entry *e, void *payload)
{
	ref_seen *r = payload;
	goaccel_digest b1;
	r->count++;
	if (!strcmp(e->name, "build/github.com/acme/app ./cmd/server (linux/amd64) ✓"))
		r->named++;
	if (!strcmp(e->name, "second")) {
		GA_OK(goaccel_digest_buffer(&b1, "{\"key\":1}", 9));
		assert_int_equal(goaccel_digest_cmp(&e->blob, &b1), 0);
		r->second++;
	}
	assert_true(e->last_used_ns > 0);
	return r->stop_after && r->count >= r->stop_after;
}

static void test_store__refs(void **state)
{
	tf_store *fx = *state;
	goaccel_store *s = fx->s;
	goaccel_digest b1, b2, got, nd;
	char *path;
	const char *name = "build/github.com/acme/app ./cmd/server (linux/amd64) ✓";
	GA_OK(goaccel_store_blob_put_buffer(&b1, s, "{\"key\":1}", 9));
	GA_OK(goaccel_store_blob_put_buffer(&b2, s, "{\"key\":2}", 9));
	assert_int_equal(goaccel_store_ref_get(&got, s, name), GOACCEL_ENOTFOUND);
	GA_OK(goaccel_store_ref_set(s, name, &b1));
	GA_OK(goaccel_store_ref_get(&got, s, name));
	assert_int_equal(goaccel_digest_cmp(&got, &b1), 0);
	GA_OK(goaccel_store_ref_set(s, name, &b2));
	GA_OK(goaccel_store_ref_get(&got, s, name));
	assert_int_equal(goaccel_digest_cmp(&got, &b2), 0);
	assert_int_equal(goaccel_store_ref_set(s, "", &b1), GOACCEL_EINVALID);
	{
		goaccel_digest absent;
		GA_OK(goaccel_digest_buffer(&absent, "never stored", 12));
		assert_int_equal(goaccel_store_ref_set(s, "dangling", &absent), GOACCEL_ENOTFOUND);
		assert_int_equal(goaccel_store_ref_get(&got, s, "dangling"), GOACCEL_ENOTFOUND);
	}
	expect_clean(s);
	/* listing: every readable ref once; a callback can stop it */
	GA_OK(goaccel_store_ref_set(s, "second", &b1));
	{
		ref_seen seen = {0, 0, 0, 0};
		GA_OK(goaccel_store_ref_foreach(s, see_ref, &seen));
		assert_int_equal(seen.count, 2);
		assert_int_equal(seen.named, 1);
		assert_int_equal(seen.second, 1);
		seen.stop_after = 1;
		seen.count = 0;
		assert_int_equal(goaccel_store_ref_foreach(s, see_ref, &seen), GOACCEL_EUSER);
		assert_int_equal(seen.count, 1);
	}
	GA_OK(goaccel_store_ref_remove(s, "second"));
	/* a damaged ref file is skipped by the listing, reported and removed by a get */
	GA_OK(goaccel_digest_buffer(&nd, name, strlen(name)));
	path = ga_store_ref_path(s, &nd);
	chmod(path, 0644);
	tu_sh("printf '[]' > '%s'", path);
	{
		ref_seen seen = {0, 0, 0, 0};
		GA_OK(goaccel_store_ref_foreach(s, see_ref, &seen));
		assert_int_equal(seen.count, 0);
	}
	{
		/* a peek reports the damage and leaves the file; a plain get removes it */
		goaccel_lookup_options lo = GOACCEL_LOOKUP_OPTIONS_INIT;
		lo.flags = GOACCEL_LOOKUP_PEEK;
		assert_int_equal(goaccel_store_ref_get_ext(&got, s, name, &lo), GOACCEL_ECORRUPT);
		assert_true(ga_exists(path));
	}
	assert_int_equal(goaccel_store_ref_get(&got, s, name), GOACCEL_ECORRUPT);
	assert_false(ga_exists(path));
	GA_OK(goaccel_store_ref_set(s, name, &b1));
	{
		/* a peek leaves the last-use time alone; a get moves it to now */
		goaccel_lookup_options lo = GOACCEL_LOOKUP_OPTIONS_INIT;
		struct stat st;
		tu_sh("touch -h -d '2001-01-01 00:00:00' '%s'", path);
		lo.flags = GOACCEL_LOOKUP_PEEK;
		GA_OK(goaccel_store_ref_get_ext(&got, s, name, &lo));
		assert_int_equal(goaccel_digest_cmp(&got, &b1), 0);
		assert_int_equal(lstat(path, &st), 0);
		assert_true(st.st_mtime < 1000000000 + 86400 * 366);
		lo.flags = 0x80;
		assert_int_equal(goaccel_store_ref_get_ext(&got, s, name, &lo), GOACCEL_EINVALID);
		lo.flags = 0;
		lo.version = 99;
		assert_int_equal(goaccel_store_ref_get_ext(&got, s, name, &lo), GOACCEL_EVERSION);
		GA_OK(goaccel_store_ref_get_ext(&got, s, name, NULL));
		assert_int_equal(lstat(path, &st), 0);
		assert_true(st.st_mtime > 1700000000);
	}
	GA_OK(goaccel_store_ref_remove(s, name));
	assert_int_equal(goaccel_store_ref_remove(s, name), GOACCEL_ENOTFOUND);
	free(path);
}

/* ---- stats --------------------------------------------------------------------------------- */

static void test_store__stats_json_and_reset(void **state)
{
	tf_store *fx = *state;
	goaccel_store *s = fx->s;
	goaccel_action *a = NULL;
	goaccel_digest k;
	char *js;
	json_t *j;
	put_simple(s, "k1", "gomod", "x", "content", 2000);
	key_of(&k, "k1");
	GA_OK(goaccel_store_action_lookup(&a, s, "gomod", &k));
	goaccel_action_free(a);
	key_of(&k, "k2");
	assert_int_equal(goaccel_store_action_lookup(&a, s, "gobuild", &k), GOACCEL_ENOTFOUND);
	GA_OK(goaccel_store_stats_json(&js, s, 1));
	j = json_loads(js, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "total"), "hits")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "total"), "misses")), 1);
	assert_true(json_real_value(json_object_get(json_object_get(j, "total"), "hit_rate")) == 0.5);
	assert_int_equal(json_integer_value(json_object_get(
	                         json_object_get(json_object_get(j, "kinds"), "gomod"), "time_saved_ns")),
	                 2000);
	assert_int_equal(json_integer_value(json_object_get(
	                         json_object_get(json_object_get(j, "kinds"), "gobuild"), "misses")),
	                 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "usage"), "actions")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "usage"), "blobs")), 1);
	json_decref(j);
	goaccel_free(js);
	/* the kinds counted so far, sorted; a kind-less miss is counted under "" */
	key_of(&k, "k3");
	assert_int_equal(goaccel_store_action_lookup(&a, s, NULL, &k), GOACCEL_ENOTFOUND);
	{
		goaccel_strarray kinds;
		GA_OK(goaccel_store_stats_kinds(&kinds, s));
		assert_int_equal(kinds.count, 3);
		assert_string_equal(kinds.strings[0], "");
		assert_string_equal(kinds.strings[1], "gobuild");
		assert_string_equal(kinds.strings[2], "gomod");
		goaccel_strarray_dispose(&kinds);
		GA_OK(goaccel_store_stats_reset(s));
		GA_OK(goaccel_store_stats_kinds(&kinds, s));
		assert_int_equal(kinds.count, 0);
		goaccel_strarray_dispose(&kinds);
	}
	GA_OK(goaccel_store_stats_json(&js, s, 0));
	j = json_loads(js, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "total"), "hits")), 0);
	assert_true(json_is_null(json_object_get(json_object_get(j, "total"), "hit_rate")));
	json_decref(j);
	goaccel_free(js);
}

/* Several processes add to the same counters at once: nothing is lost. */
static void test_store__stats_exact_across_processes(void **state)
{
	tf_store *fx = *state;
	char *dir = fx->dir;
	goaccel_store *s = fx->s;
	goaccel_store_counters c;
	int i, nproc = 6, per = 150;
	for (i = 0; i < nproc; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			goaccel_store *cs = NULL;
			int j;
			goaccel_store_counters d = {0};
			d.hits = 1;
			d.bytes_restored = 3;
			if (goaccel_store_open(&cs, dir, NULL) < 0)
				_exit(1);
			for (j = 0; j < per; j++)
				if (goaccel_store_stats_add(cs, i % 2 ? "gomod" : "gobuild", &d) < 0)
					_exit(2);
			goaccel_store_free(cs);
			_exit(0);
		}
	}
	for (i = 0; i < nproc; i++) {
		int st;
		wait(&st);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	GA_OK(goaccel_store_stats(&c, s, NULL));
	assert_int_equal(c.hits, (uint64_t)(nproc * per));
	assert_int_equal(c.bytes_restored, (uint64_t)(3 * nproc * per));
	GA_OK(goaccel_store_stats(&c, s, "gomod"));
	assert_int_equal(c.hits, (uint64_t)(nproc / 2 * per));
}

/* ---- prune --------------------------------------------------------------------------------- */

typedef struct {
	int events;
	char seen[2048];
} prune_log;

static int log_prune(const goaccel_prune_event *ev, void *payload)
{
	prune_log *l = payload;
	l->events++;
	strncat(l->seen, ev->id, sizeof(l->seen) - strlen(l->seen) - 2);
	strcat(l->seen, ";");
	return 0;
}

static void test_store__prune_lru_by_size_and_age(void **state)
{
	tf_store *fx = *state;
	goaccel_store *s = fx->s;
	goaccel_prune_options po = GOACCEL_PRUNE_OPTIONS_INIT;
	goaccel_prune_result pr;
	goaccel_store_usage u;
	goaccel_action *a = NULL;
	goaccel_digest k;
	prune_log log;
	char big[4096], *p;
	int i;
	for (i = 0; i < 4; i++) {
		char key[16];
		memset(big, 'a' + i, sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		snprintf(key, sizeof(key), "k%d", i);
		put_simple(s, key, i < 2 ? "gomod" : "gobuild", "out", big, 1);
		p = action_file(s, key);
		set_age(p, 3600 * (10 - i)); /* k0 oldest ... k3 newest */
		free(p);
	}
	GA_OK(goaccel_store_usage_get(&u, s));
	assert_int_equal(u.actions, 4);
	assert_int_equal(u.blobs, 4);
	/* dry run: reports, removes nothing */
	memset(&log, 0, sizeof(log));
	po.max_bytes = u.total_bytes - 1;
	po.dry_run = 1;
	po.callback = log_prune;
	po.payload = &log;
	GA_OK(goaccel_store_prune(&pr, s, &po));
	assert_int_equal(pr.actions, 1);
	assert_int_equal(pr.blobs, 1);
	assert_true(pr.bytes_freed >= 4095);
	assert_int_equal(pr.bytes_before, u.total_bytes);
	assert_non_null(strstr(log.seen, "gomod/"));
	GA_OK(goaccel_store_usage_get(&u, s));
	assert_int_equal(u.actions, 4);
	/* for real: the least recently used goes first */
	po.dry_run = 0;
	GA_OK(goaccel_store_prune(&pr, s, &po));
	assert_int_equal(pr.actions, 1);
	key_of(&k, "k0");
	assert_int_equal(goaccel_store_action_lookup(&a, s, NULL, &k), GOACCEL_ENOTFOUND);
	key_of(&k, "k1");
	GA_OK(goaccel_store_action_lookup(&a, s, NULL, &k)); /* k1 is now the most recently used */
	goaccel_action_free(a);
	/* age: unused for more than 7.5 hours -> k2 (8h) goes, k3 (7h) stays */
	memset(&po, 0, sizeof(po));
	GA_OK(goaccel_prune_options_init(&po, GOACCEL_PRUNE_OPTIONS_VERSION));
	po.keep_duration_ns = INT64_C(27000) * 1000000000;
	GA_OK(goaccel_store_prune(&pr, s, &po));
	assert_int_equal(pr.actions, 1);
	key_of(&k, "k2");
	assert_int_equal(goaccel_store_action_lookup(&a, s, NULL, &k), GOACCEL_ENOTFOUND);
	key_of(&k, "k3");
	GA_OK(goaccel_store_action_lookup(&a, s, NULL, &k));
	goaccel_action_free(a);
	/* a filter: only gobuild actions may go */
	po.keep_duration_ns = 0;
	po.max_bytes = 1;
	po.kinds = GOACCEL_ENTRY_ACTION;
	po.id_glob = "gobuild/*";
	GA_OK(goaccel_store_prune(&pr, s, &po));
	assert_int_equal(pr.actions, 1);
	key_of(&k, "k1");
	GA_OK(goaccel_store_action_lookup(&a, s, NULL, &k));
	goaccel_action_free(a);
	expect_clean(s);
}

static void test_store__prune_collects_unreferenced_blobs_after_grace(void **state)
{
	tf_store *fx = *state;
	goaccel_store *s = fx->s;
	goaccel_prune_options po = GOACCEL_PRUNE_OPTIONS_INIT;
	goaccel_prune_result pr;
	goaccel_digest shared, lone, refd;
	char *p;
	put_simple(s, "a", "gobuild", "out", "shared-content", 1);
	put_simple(s, "b", "gobuild", "out", "shared-content", 1);
	GA_OK(goaccel_digest_buffer(&shared, "shared-content", 14));
	GA_OK(goaccel_store_blob_put_buffer(&lone, s, "nobody uses me", 14));
	GA_OK(goaccel_store_blob_put_buffer(&refd, s, "a ref uses me", 13));
	GA_OK(goaccel_store_ref_set(s, "target", &refd));
	/* within the grace period nothing goes; prune and usage agree on the size */
	GA_OK(goaccel_store_prune(&pr, s, NULL));
	assert_int_equal(pr.blobs, 0);
	{
		goaccel_store_usage u;
		GA_OK(goaccel_store_usage_get(&u, s));
		assert_int_equal(u.refs, 1);
		assert_true(u.ref_bytes > 0);
		assert_int_equal(pr.bytes_before, u.total_bytes);
		assert_int_equal(pr.bytes_after, u.total_bytes);
	}
	p = ga_store_blob_path(s, &lone);
	set_age(p, 3600);
	free(p);
	p = ga_store_blob_path(s, &refd);
	set_age(p, 3600);
	free(p);
	GA_OK(goaccel_store_prune(&pr, s, NULL));
	assert_int_equal(pr.blobs, 1);
	assert_int_equal(pr.bytes_freed, 14);
	assert_int_equal(goaccel_store_blob_exists(s, &lone), 0);
	assert_int_equal(goaccel_store_blob_exists(s, &refd), 1);
	/* removing one user of a shared blob keeps it; removing both frees it */
	po.max_bytes = 1;
	po.kinds = GOACCEL_ENTRY_ACTION;
	po.id_glob = "*";
	p = action_file(s, "a");
	set_age(p, 100);
	free(p);
	po.max_bytes = 0;
	po.keep_duration_ns = INT64_C(50) * 1000000000;
	GA_OK(goaccel_store_prune(&pr, s, &po));
	assert_int_equal(pr.actions, 1);
	assert_int_equal(pr.blobs, 0);
	assert_int_equal(goaccel_store_blob_exists(s, &shared), 1);
	p = action_file(s, "b");
	set_age(p, 100);
	free(p);
	GA_OK(goaccel_store_prune(&pr, s, &po));
	assert_int_equal(pr.actions, 1);
	assert_int_equal(pr.blobs, 1);
	assert_int_equal(goaccel_store_blob_exists(s, &shared), 0);
	expect_clean(s);
}

static void make_readonly_modcache(const char *data)
{
	/* the shape of Go's module cache: 0444 files in 0555 directories */
	tu_write(data, "cache/download/example.com/m/@v/v1.0.0.zip", "zipbytes");
	tu_write(data, "example.com/m@v1.0.0/go.mod", "module example.com/m\n");
	tu_write(data, "example.com/m@v1.0.0/m.go", "package m\n");
	assert_int_equal(tu_sh("chmod -R a-w '%s'/example.com '%s'/cache", data, data), 0);
}

static void test_store__prune_skips_mounts_in_use_and_removes_readonly_trees(void **state)
{
	tf_store *fx = *state;
	goaccel_store *s = fx->s;
	goaccel_mount *m = NULL, *busy = NULL;
	goaccel_prune_options po = GOACCEL_PRUNE_OPTIONS_INIT;
	goaccel_prune_result pr;
	goaccel_mount_list *l;
	char *data;
	GA_OK(goaccel_mount_acquire(&m, s, "gomod", GOACCEL_MOUNT_SHARED, NULL));
	data = strdup(goaccel_mount_path(m));
	make_readonly_modcache(data);
	GA_OK(goaccel_mount_release(m));
	GA_OK(goaccel_mount_acquire(&busy, s, "gobuild", GOACCEL_MOUNT_SHARED, NULL));
	tu_write(goaccel_mount_path(busy), "00/abc-d", "build cache entry");
	po.max_bytes = 1;
	po.kinds = GOACCEL_ENTRY_MOUNT;
	GA_OK(goaccel_store_prune(&pr, s, &po));
	assert_int_equal(pr.mounts, 1);
	assert_int_equal(pr.mounts_in_use, 1);
	assert_false(ga_exists(data));
	assert_true(ga_exists(goaccel_mount_path(busy)));
	GA_OK(goaccel_mount_list_get(&l, s, 1));
	assert_int_equal(goaccel_mount_list_count(l), 1);
	assert_string_equal(goaccel_mount_list_byindex(l, 0)->id, "gobuild");
	assert_int_equal(goaccel_mount_list_byindex(l, 0)->in_use, 1);
	assert_int_equal(goaccel_mount_list_byindex(l, 0)->bytes, 17);
	goaccel_mount_list_free(l);
	GA_OK(goaccel_mount_release(busy));
	GA_OK(goaccel_store_prune(&pr, s, &po));
	assert_int_equal(pr.mounts, 1);
	GA_OK(goaccel_mount_list_get(&l, s, 0));
	assert_int_equal(goaccel_mount_list_count(l), 0);
	goaccel_mount_list_free(l);
	expect_clean(s);
	free(data);
}

/* ---- verify -------------------------------------------------------------------------------- */

static int count_events(const goaccel_verify_event *ev, void *payload)
{
	(*(int *)payload)++;
	assert_non_null(ev->path);
	assert_non_null(ev->detail);
	return 0;
}

static void test_store__verify_reports_and_repairs(void **state)
{
	tf_store *fx = *state;
	char *dir = fx->dir;
	goaccel_store *s = fx->s;
	goaccel_verify_options vo = GOACCEL_VERIFY_OPTIONS_INIT;
	goaccel_verify_result vr;
	goaccel_digest d, r;
	char *p;
	int events = 0;
	put_simple(s, "good", "gobuild", "out", "good", 1);
	put_simple(s, "corrupt", "gobuild", "out", "will be damaged", 1);
	put_simple(s, "dangling", "gobuild", "out", "will vanish", 1);
	GA_OK(goaccel_digest_buffer(&d, "will be damaged", 15));
	p = ga_store_blob_path(s, &d);
	chmod(p, 0644);
	tu_sh("printf 'x' >> '%s'", p);
	free(p);
	GA_OK(goaccel_digest_buffer(&d, "will vanish", 11));
	p = ga_store_blob_path(s, &d);
	unlink(p);
	free(p);
	p = action_file(s, "good");
	free(p);
	tu_write(dir, "actions/ab/" "abababababababababababababababababababababababababababababababab.json", "nope");
	GA_OK(goaccel_store_blob_put_buffer(&r, s, "ref-target", 10));
	GA_OK(goaccel_store_ref_set(s, "r", &r));
	p = ga_store_blob_path(s, &r);
	unlink(p);
	free(p);
	/* a dead process's temporary file: an owner lock nobody holds */
	tu_write(dir, "tmp/0123456789abcdef.lock", "");
	tu_write(dir, "tmp/0123456789abcdef.7.tmp", "half a blob");
	tu_write(dir, "blobs/sha256/zz", "stray");
	vo.callback = count_events;
	vo.payload = &events;
	assert_int_equal(goaccel_store_verify(&vr, s, &vo), GOACCEL_EMISMATCH);
	assert_int_equal(vr.corrupt_blobs, 1);
	assert_int_equal(vr.bad_records, 1);
	assert_int_equal(vr.dangling_records, 2); /* the vanished blob and the damaged one */
	assert_int_equal(vr.dangling_refs, 1);
	assert_int_equal(vr.temp_files, 2);
	assert_int_equal(vr.stray, 1);
	assert_int_equal(vr.problems, 8);
	assert_int_equal(events, 8);
	assert_int_equal(vr.repaired, 0);
	vo.repair = 1;
	GA_OK(goaccel_store_verify(&vr, s, &vo));
	assert_int_equal(vr.repaired, 8);
	expect_clean(s);
	/* our own live temporary files are not leftovers */
	{
		char *tmp;
		int fd;
		GA_OK(ga_store_tmp_file(&tmp, &fd, s));
		expect_clean(s);
		close(fd);
		unlink(tmp);
		free(tmp);
	}
}

/* ---- export / import ----------------------------------------------------------------------- */

static void fill_mount(goaccel_store *s, const char *id)
{
	goaccel_mount *m = NULL;
	const char *p;
	GA_OK(goaccel_mount_acquire(&m, s, id, GOACCEL_MOUNT_LOCKED, NULL));
	p = goaccel_mount_path(m);
	tu_write(p, "a.txt", "alpha");
	tu_write(p, "sub/deeper/b.bin", "beta beta");
	tu_write(p, "sub/exe", "#!/bin/sh\n");
	assert_int_equal(tu_sh("chmod 755 '%s/sub/exe' && ln -s deeper/b.bin '%s/sub/link' && "
	                       "ln -s ../a.txt '%s/sub/up'", p, p, p), 0);
	make_readonly_modcache(p);
	GA_OK(goaccel_mount_release(m));
}

/* A listing of a tree with types, modes, sizes, link targets and content digests. */
static char *tree_listing(const char *dir)
{
	return tu_sh_out("cd '%s' && find . -printf '%%p %%y %%m %%s %%l\\n' | sort && "
	                 "find . -type f -exec sha256sum {} + | sort", dir);
}

static char *mount_listing(goaccel_store *s, const char *id)
{
	char *p = ga_store_sub(s, "mounts/%s/0/data", id);
	char *l = tree_listing(p);
	free(p);
	return l;
}

/* Two stores (src, dst) in one temporary directory, for export/import tests. */
typedef struct {
	char *dir, *src, *dst, *arch;
	goaccel_store *s, *t;
} xfer_fx;

static void xfer_open(xfer_fx *f, const char *arch_name)
{
	f->dir = tu_tempdir("ga-store");
	f->src = tu_path(f->dir, "src");
	f->dst = tu_path(f->dir, "dst");
	f->arch = tu_path(f->dir, arch_name);
	f->s = open_store(f->src);
	f->t = open_store(f->dst);
}

static void xfer_close(xfer_fx *f)
{
	goaccel_store_free(f->s);
	goaccel_store_free(f->t);
	free(f->src);
	free(f->dst);
	free(f->arch);
	tu_rmtree(f->dir);
	free(f->dir);
}

static void test_store__export_import_roundtrip(void **state)
{
	xfer_fx f;
	char *dir, *arch, *l1, *l2;
	goaccel_store *s, *t;
	goaccel_export_options eo = GOACCEL_EXPORT_OPTIONS_INIT;
	goaccel_transfer_result xr, ir;
	goaccel_action *a = NULL;
	goaccel_digest k, b, got;
	const char *mounts[] = {"gomod"};
	(void)state;
	xfer_open(&f, "cache.tar.zst");
	dir = f.dir;
	arch = f.arch;
	s = f.s;
	t = f.t;
	put_simple(s, "k1", "gobuild", "bin/app", "app-binary", 7);
	put_simple(s, "k2", "gomod", "go.sum", "sums", 3);
	GA_OK(goaccel_store_blob_put_buffer(&b, s, "prev-key", 8));
	GA_OK(goaccel_store_ref_set(s, "target/app", &b));
	fill_mount(s, "gomod");
	fill_mount(s, "other");
	eo.mounts = mounts;
	eo.mounts_count = 1;
	eo.actions = 1;
	eo.refs = 1;
	GA_OK(goaccel_store_export(&xr, s, arch, &eo));
	assert_int_equal(xr.actions, 2);
	assert_int_equal(xr.refs, 1);
	assert_int_equal(xr.blobs, 3);
	assert_int_equal(xr.mounts, 1);
	assert_true(xr.files >= 10);
	/* a real tar + zstd archive: the tools read it */
	assert_int_equal(tu_sh("tar -I zstd -tf '%s' | grep -q '^mounts/gomod/sub/deeper/b.bin$'", arch), 0);
	assert_int_equal(tu_sh("tar -I zstd -tf '%s' | head -1 | grep -q '^goaccel-export.json$'", arch), 0);
	assert_int_equal(tu_sh("tar -I zstd -tf '%s' | tail -1 | grep -q '^manifest.json$'", arch), 0);
	GA_OK(goaccel_store_import(&ir, t, arch, NULL));
	assert_int_equal(ir.actions, 2);
	assert_int_equal(ir.refs, 1);
	assert_int_equal(ir.mounts, 1);
	assert_int_equal(ir.skipped, 0);
	l1 = mount_listing(s, "gomod");
	l2 = mount_listing(t, "gomod");
	assert_string_equal(l1, l2);
	free(l1);
	free(l2);
	key_of(&k, "k1");
	GA_OK(goaccel_store_action_lookup(&a, t, NULL, &k));
	assert_int_equal(goaccel_action_duration(a), 7);
	goaccel_action_free(a);
	GA_OK(goaccel_store_ref_get(&got, t, "target/app"));
	assert_int_equal(goaccel_digest_cmp(&got, &b), 0);
	expect_clean(t);
	/* importing again merges: same result */
	GA_OK(goaccel_store_import(&ir, t, arch, NULL));
	l1 = mount_listing(s, "gomod");
	l2 = mount_listing(t, "gomod");
	assert_string_equal(l1, l2);
	free(l1);
	free(l2);
	expect_clean(t);
	expect_clean(s);
	/* a failure half-way (a named mount that does not exist, after the actions were written)
	 * leaves no archive and no temporary file behind */
	{
		const char *missing[] = {"no-such-mount"};
		char *bad = tu_path(dir, "bad.tar.zst");
		eo.mounts = missing;
		assert_int_equal(goaccel_store_export(&xr, s, bad, &eo), GOACCEL_ENOTFOUND);
		assert_non_null(strstr(goaccel_error_last()->message, "no-such-mount"));
		assert_false(ga_exists(bad));
		assert_int_equal(tu_sh("ls '%s' | grep -q tmp", dir), 1);
		free(bad);
	}
	xfer_close(&f);
}

/* A directory that holds GOACCEL_MOUNT_NOEXPORT_MARKER (a regular file) travels as itself and
 * the marker only; a directory of that name is no marker. */
static void test_store__export_leaves_out_noexport_dirs(void **state)
{
	xfer_fx f;
	char *arch, *p;
	goaccel_store *s, *t;
	goaccel_export_options eo = GOACCEL_EXPORT_OPTIONS_INIT;
	goaccel_transfer_result xr, ir;
	goaccel_mount *m = NULL;
	const char *mounts[] = {"state"};
	(void)state;
	xfer_open(&f, "cache.tar.zst");
	arch = f.arch;
	s = f.s;
	t = f.t;
	GA_OK(goaccel_mount_acquire(&m, s, "state", GOACCEL_MOUNT_LOCKED, NULL));
	p = strdup(goaccel_mount_path(m));
	tu_write(p, "keep/file", "kept");
	tu_write(p, "work/" GOACCEL_MOUNT_NOEXPORT_MARKER, "local only\n");
	tu_write(p, "work/0123/app", "a binary");
	tu_write(p, "work/0123.lock", "");
	tu_write(p, "fake/" GOACCEL_MOUNT_NOEXPORT_MARKER "/inside", "a dir, not a marker");
	tu_write(p, "fake/sibling", "exported");
	GA_OK(goaccel_mount_release(m));
	eo.mounts = mounts;
	eo.mounts_count = 1;
	GA_OK(goaccel_store_export(&xr, s, arch, &eo));
	assert_int_equal(tu_sh("tar -I zstd -tf '%s' | grep -qx 'mounts/state/keep/file'", arch), 0);
	assert_int_equal(tu_sh("tar -I zstd -tf '%s' | grep -qx 'mounts/state/work/%s'", arch,
	                       GOACCEL_MOUNT_NOEXPORT_MARKER), 0);
	assert_int_equal(tu_sh("tar -I zstd -tf '%s' | grep -q '^mounts/state/work/0123'", arch), 1);
	assert_int_equal(tu_sh("tar -I zstd -tf '%s' | grep -qx 'mounts/state/fake/sibling'", arch), 0);
	assert_int_equal(tu_sh("tar -I zstd -tf '%s' | grep -qx 'mounts/state/fake/%s/inside'", arch,
	                       GOACCEL_MOUNT_NOEXPORT_MARKER), 0);
	GA_OK(goaccel_store_import(&ir, t, arch, NULL));
	assert_int_equal(ir.mounts, 1);
	free(p);
	p = ga_store_sub(t, "mounts/state/0/data");
	assert_int_equal(tu_sh("test -f '%s/work/%s' && test -f '%s/keep/file' && "
	                       "test -f '%s/fake/sibling' && ! test -e '%s/work/0123'",
	                       p, GOACCEL_MOUNT_NOEXPORT_MARKER, p, p, p), 0);
	expect_clean(t);
	free(p);
	xfer_close(&f);
}

static void test_store__export_delta_since_base(void **state)
{
	char *dir = tu_tempdir("ga-store"), *src = tu_path(dir, "src"), *dst = tu_path(dir, "dst");
	char *full = tu_path(dir, "full.tar.zst"), *delta = tu_path(dir, "delta.tar.zst");
	char *man = tu_path(dir, "full.manifest.json"), *l1, *l2, *count;
	goaccel_store *s = open_store(src), *t = open_store(dst);
	goaccel_export_options eo = GOACCEL_EXPORT_OPTIONS_INIT;
	goaccel_transfer_result xr, ir;
	goaccel_mount *m = NULL;
	goaccel_action *a = NULL;
	goaccel_digest k;
	(void)state;
	put_simple(s, "k1", "gobuild", "bin/app", "app-binary", 7);
	fill_mount(s, "gomod");
	eo.all_mounts = 1;
	eo.actions = 1;
	eo.manifest_out = man;
	GA_OK(goaccel_store_export(&xr, s, full, &eo));
	/* change a little: one new file, one changed file, one new action */
	GA_OK(goaccel_mount_acquire(&m, s, "gomod", GOACCEL_MOUNT_LOCKED, NULL));
	tu_write(goaccel_mount_path(m), "new.txt", "new");
	tu_write(goaccel_mount_path(m), "a.txt", "alpha, changed");
	GA_OK(goaccel_mount_release(m));
	put_simple(s, "k2", "gobuild", "bin/other", "other-binary", 9);
	eo.manifest_out = NULL;
	eo.base = full;
	GA_OK(goaccel_store_export(&xr, s, delta, &eo));
	assert_int_equal(xr.actions, 1);
	assert_int_equal(xr.blobs, 1);
	assert_int_equal(xr.files, 2); /* new.txt and a.txt */
	assert_true(xr.unchanged >= 10);
	count = tu_sh_out("tar -I zstd -tf '%s' | grep -c '^mounts/'", delta);
	assert_string_equal(count, "2");
	free(count);
	/* the base may also be the manifest file */
	eo.base = man;
	GA_OK(goaccel_store_export(&xr, s, delta, &eo));
	assert_int_equal(xr.actions, 1);
	/* the full archive, then the delta, give the source's state */
	GA_OK(goaccel_store_import(&ir, t, full, NULL));
	GA_OK(goaccel_store_import(&ir, t, delta, NULL));
	l1 = mount_listing(s, "gomod");
	l2 = mount_listing(t, "gomod");
	assert_string_equal(l1, l2);
	free(l1);
	free(l2);
	key_of(&k, "k2");
	GA_OK(goaccel_store_action_lookup(&a, t, NULL, &k));
	goaccel_action_free(a);
	expect_clean(t);
	/* a delta alone on an empty store: records whose blobs are missing are skipped */
	goaccel_store_free(t);
	tu_rmtree(dst);
	t = open_store(dst);
	put_simple(s, "k3", "gobuild", "bin/app", "app-binary", 7); /* blob in the base only */
	eo.base = full;
	GA_OK(goaccel_store_export(&xr, s, delta, &eo));
	GA_OK(goaccel_store_import(&ir, t, delta, NULL));
	assert_int_equal(ir.skipped, 1);
	key_of(&k, "k3");
	assert_int_equal(goaccel_store_action_lookup(&a, t, NULL, &k), GOACCEL_ENOTFOUND);
	expect_clean(t);
	goaccel_store_free(s);
	goaccel_store_free(t);
	free(src);
	free(dst);
	free(full);
	free(delta);
	free(man);
	tu_rmtree(dir);
	free(dir);
}

/* Every attack is refused with a message naming the entry, nothing is written outside the
 * store, and the store stays valid with nothing from the archive visible. */
#define BIG10 "0123456789"
#define BIG100 BIG10 BIG10 BIG10 BIG10 BIG10 BIG10 BIG10 BIG10 BIG10 BIG10
#define BIG300 BIG100 BIG100 BIG100

typedef struct {
	const char *what;
	tf_entry entries[6];
	int code;
	const char *entry; /* expected in the message */
} attack;

static void test_store__import_refuses_hostile_archives(void **state)
{
	static const attack attacks[] = {
		{"absolute path", {TF_HEADER, {"/tmp/ga-pwned", AE_IFREG, 0644, "x", NULL, NULL, -1}, TF_MANIFEST, TF_END},
		 GOACCEL_EUNSAFE, "/tmp/ga-pwned"},
		{"absolute mount path", {TF_HEADER, {"mounts/m/../../../../outside/pwned", AE_IFREG, 0644, "x", NULL, NULL, -1}, TF_MANIFEST, TF_END},
		 GOACCEL_EUNSAFE, "outside/pwned"},
		{"dot-dot", {TF_HEADER, {"../pwned", AE_IFREG, 0644, "x", NULL, NULL, -1}, TF_MANIFEST, TF_END},
		 GOACCEL_EUNSAFE, "../pwned"},
		{"symlink escaping", {TF_HEADER, {"mounts/m/", AE_IFDIR, 0755, NULL, NULL, NULL, -1},
		  {"mounts/m/esc", AE_IFLNK, 0777, NULL, "../../../../outside", NULL, -1}, TF_MANIFEST, TF_END},
		 GOACCEL_EUNSAFE, "mounts/m/esc"},
		{"absolute symlink", {TF_HEADER, {"mounts/m/abs", AE_IFLNK, 0777, NULL, "/etc", NULL, -1}, TF_MANIFEST, TF_END},
		 GOACCEL_EUNSAFE, "mounts/m/abs"},
		{"write through a symlink", {TF_HEADER, {"mounts/m/d", AE_IFLNK, 0777, NULL, "sub", NULL, -1},
		  {"mounts/m/d/pwned", AE_IFREG, 0644, "x", NULL, NULL, -1}, TF_MANIFEST, TF_END},
		 GOACCEL_EUNSAFE, "mounts/m/d/pwned"},
		{"hardlink escaping", {TF_HEADER, {"mounts/m/h", AE_IFREG, 0644, NULL, NULL, "/etc/passwd", -1}, TF_MANIFEST, TF_END},
		 GOACCEL_EUNSAFE, "mounts/m/h"},
		{"hardlink to another mount", {TF_HEADER, {"mounts/a/f", AE_IFREG, 0644, "x", NULL, NULL, -1},
		  {"mounts/b/h", AE_IFREG, 0644, NULL, NULL, "mounts/a/f", -1}, TF_MANIFEST, TF_END},
		 GOACCEL_EUNSAFE, "mounts/b/h"},
		{"hardlink with dot-dot", {TF_HEADER, {"mounts/m/h", AE_IFREG, 0644, NULL, NULL, "mounts/m/../../x", -1}, TF_MANIFEST, TF_END},
		 GOACCEL_EUNSAFE, "mounts/m/h"},
		{"character device", {TF_HEADER, {"mounts/m/null", AE_IFCHR, 0666, NULL, NULL, NULL, -1}, TF_MANIFEST, TF_END},
		 GOACCEL_EUNSAFE, "mounts/m/null"},
		{"block device", {TF_HEADER, {"mounts/m/sda", AE_IFBLK, 0666, NULL, NULL, NULL, -1}, TF_MANIFEST, TF_END},
		 GOACCEL_EUNSAFE, "mounts/m/sda"},
		{"fifo", {TF_HEADER, {"mounts/m/fifo", AE_IFIFO, 0644, NULL, NULL, NULL, -1}, TF_MANIFEST, TF_END},
		 GOACCEL_EUNSAFE, "mounts/m/fifo"},
		{"setuid", {TF_HEADER, {"mounts/m/su", AE_IFREG, 04755, "x", NULL, NULL, -1}, TF_MANIFEST, TF_END},
		 GOACCEL_EUNSAFE, "mounts/m/su"},
		{"setgid", {TF_HEADER, {"mounts/m/sg", AE_IFREG, 02755, "x", NULL, NULL, -1}, TF_MANIFEST, TF_END},
		 GOACCEL_EUNSAFE, "mounts/m/sg"},
		{"oversize", {TF_HEADER, {"mounts/m/big", AE_IFREG, 0644, BIG300, NULL, NULL, -1}, TF_MANIFEST, TF_END},
		 GOACCEL_ELIMIT, "mounts/m/big"},
		{"blob not matching its name", {TF_HEADER,
		  {"blobs/0000000000000000000000000000000000000000000000000000000000000000", AE_IFREG, 0444, "x", NULL, NULL, -1},
		  TF_MANIFEST, TF_END}, GOACCEL_ECORRUPT, "blobs/0000"},
		{"unknown entry", {TF_HEADER, {"etc/cron.d/x", AE_IFREG, 0644, "x", NULL, NULL, -1}, TF_MANIFEST, TF_END},
		 GOACCEL_EUNSAFE, "etc/cron.d/x"},
		{"entry after the manifest", {TF_HEADER, TF_MANIFEST, {"mounts/m/late", AE_IFREG, 0644, "x", NULL, NULL, -1}, TF_END},
		 GOACCEL_EUNSAFE, "mounts/m/late"},
		{"mount file not in the manifest", {TF_HEADER, {"mounts/m/f", AE_IFREG, 0644, "x", NULL, NULL, -1}, TF_MANIFEST, TF_END},
		 GOACCEL_ECORRUPT, "mounts/m/f"},
		{"no header", {{"mounts/m/f", AE_IFREG, 0644, "x", NULL, NULL, -1}, TF_MANIFEST, TF_END},
		 GOACCEL_EVERSION, "mounts/m/f"},
		{"no manifest (truncated at an entry boundary)", {TF_HEADER, {"mounts/m/", AE_IFDIR, 0755, NULL, NULL, NULL, -1}, TF_END},
		 GOACCEL_ECORRUPT, "manifest"},
		{"bad mount id", {TF_HEADER, {"mounts/.hidden/f", AE_IFREG, 0644, "x", NULL, NULL, -1}, TF_MANIFEST, TF_END},
		 GOACCEL_EUNSAFE, "mounts/.hidden/f"},
		{"malformed record", {TF_HEADER,
		  {"actions/1111111111111111111111111111111111111111111111111111111111111111.json", AE_IFREG, 0644, "{\"version\":1}", NULL, NULL, -1},
		  TF_MANIFEST, TF_END}, GOACCEL_EINVALID, "actions/1111"},
	};
	tf_store *fx = *state;
	char *dir = fx->dir, *outside = tu_path(dir, "outside");
	char *arch = tu_path(dir, "evil.tar");
	goaccel_store *s = fx->s;
	goaccel_import_options io = GOACCEL_IMPORT_OPTIONS_INIT;
	size_t i;
	assert_int_equal(ga_mkdir_p(outside, 0755), 0);
	io.max_entry_size = 250; /* the header and manifest fit, BIG300 does not */
	for (i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
		const attack *at = &attacks[i];
		int zstd = (int)(i % 2), rc;
		goaccel_mount_list *l;
		assert_int_equal(tf_write_archive(arch, at->entries, zstd), 0);
		rc = goaccel_store_import(NULL, s, arch, &io);
		if (rc != at->code || !strstr(goaccel_error_last()->message, at->entry))
			fail_msg("%s: import returned %d (%s), wanted %d naming %s", at->what, rc,
			         goaccel_error_last()->message, at->code, at->entry);
		assert_int_equal(count_files(outside), 0);
		assert_false(ga_exists("/tmp/ga-pwned"));
		GA_OK(goaccel_mount_list_get(&l, s, 0));
		assert_int_equal(goaccel_mount_list_count(l), 0); /* nothing half-imported is visible */
		goaccel_mount_list_free(l);
		expect_clean(s);
	}
	free(outside);
	free(arch);
}

/* Inside links are fine: a symlink climbing no higher than its mount, a hard link to a file of
 * the same mount. */
static void test_store__import_accepts_links_inside_the_mount(void **state)
{
	char *dir = tu_tempdir("ga-store"), *src = tu_path(dir, "src"), *dst = tu_path(dir, "dst");
	char *arch = tu_path(dir, "a.tar"), *p, *text;
	goaccel_store *t = open_store(dst);
	goaccel_transfer_result ir;
	goaccel_digest d;
	char hex[65], manifest[1024];
	(void)state;
	GA_OK(goaccel_digest_buffer(&d, "x", 1));
	goaccel_digest_fmt(hex, &d);
	snprintf(manifest, sizeof(manifest),
	         "{\"format\":\"goaccel-export-manifest\",\"version\":1,\"blobs\":{},\"actions\":{},"
	         "\"refs\":{},\"mounts\":{\"m\":{\"d/f\":{\"type\":\"file\",\"mode\":420,\"size\":1,"
	         "\"digest\":\"%s\"},\"d/h\":{\"type\":\"file\",\"mode\":420,\"size\":1,\"digest\":\"%s\"}}}}",
	         hex, hex);
	{
		tf_entry e[] = {TF_HEADER,
		                {"mounts/m/d/f", AE_IFREG, 0644, "x", NULL, NULL, -1},
		                {"mounts/m/d/h", AE_IFREG, 0644, NULL, NULL, "mounts/m/d/f", -1},
		                {"mounts/m/d/up", AE_IFLNK, 0777, NULL, "../d/f", NULL, -1},
		                {"manifest.json", AE_IFREG, 0644, manifest, NULL, NULL, -1},
		                TF_END};
		assert_int_equal(tf_write_archive(arch, e, 1), 0);
	}
	GA_OK(goaccel_store_import(&ir, t, arch, NULL));
	assert_int_equal(ir.mounts, 1);
	p = ga_store_sub(t, "mounts/m/0/data/d/up");
	text = tu_read(p, NULL);
	assert_string_equal(text, "x");
	free(text);
	free(p);
	expect_clean(t);
	goaccel_store_free(t);
	free(src);
	free(dst);
	free(arch);
	tu_rmtree(dir);
	free(dir);
}

/* The fuzz corpus's valid seed (written by Python's tarfile, not by us) imports whole. */
static void test_store__import_foreign_tar_from_the_fuzz_corpus(void **state)
{
	tf_store *fx = *state;
	goaccel_store *s = fx->s;
	goaccel_transfer_result ir;
	goaccel_action *a = NULL;
	goaccel_digest k, got;
	char *p, *text;
	const char *seeds[] = {GOACCEL_SOURCE_DIR "/fuzz/corpus/store_import/valid.tar",
	                       GOACCEL_SOURCE_DIR "/fuzz/corpus/store_import/valid.tar.zst"};
	size_t i;
	for (i = 0; i < 2; i++) {
		GA_OK(goaccel_store_import(&ir, s, seeds[i], NULL));
		assert_int_equal(ir.actions, 1);
		assert_int_equal(ir.refs, 1);
		assert_int_equal(ir.mounts, 1);
		assert_int_equal(ir.files, 4); /* the root directory is not counted */
	}
	key_of(&k, "key");
	GA_OK(goaccel_store_action_lookup(&a, s, "gobuild", &k));
	goaccel_action_free(a);
	GA_OK(goaccel_store_ref_get(&got, s, "target"));
	p = ga_store_sub(s, "mounts/gomod/0/data/m@v1/h.go");
	text = tu_read(p, NULL);
	assert_string_equal(text, "package m\n");
	assert_int_equal(file_mode(p), 0444);
	free(text);
	free(p);
	p = ga_store_sub(s, "mounts/gomod/0/data/m@v1");
	assert_int_equal(file_mode(p), 0555);
	free(p);
	expect_clean(s);
}

/* An archive cut anywhere is refused and leaves nothing from it visible. */
static void test_store__import_truncated_archives(void **state)
{
	xfer_fx f;
	char *arch, *cut;
	goaccel_store *s, *t;
	goaccel_export_options eo = GOACCEL_EXPORT_OPTIONS_INIT;
	goaccel_store_usage u;
	struct stat st;
	off_t len, at;
	int i;
	(void)state;
	xfer_open(&f, "full.tar.zst");
	arch = f.arch;
	cut = tu_path(f.dir, "cut.tar.zst");
	s = f.s;
	t = f.t;
	put_simple(s, "k1", "gobuild", "bin/app", "app-binary", 7);
	fill_mount(s, "gomod");
	eo.all_mounts = 1;
	eo.actions = 1;
	GA_OK(goaccel_store_export(NULL, s, arch, &eo));
	assert_int_equal(stat(arch, &st), 0);
	len = st.st_size;
	for (i = 1; i <= 12; i++) {
		goaccel_mount_list *l;
		int rc;
		at = len * i / 13;
		assert_int_equal(tu_sh("head -c %lld '%s' > '%s'", (long long)at, arch, cut), 0);
		rc = goaccel_store_import(NULL, t, cut, NULL);
		if (rc != GOACCEL_ECORRUPT && rc != GOACCEL_EINVALID && rc != GOACCEL_EVERSION)
			fail_msg("cut at %lld: import returned %d (%s)", (long long)at, rc,
			         goaccel_error_last()->message);
		GA_OK(goaccel_mount_list_get(&l, t, 0));
		assert_int_equal(goaccel_mount_list_count(l), 0);
		goaccel_mount_list_free(l);
		GA_OK(goaccel_store_usage_get(&u, t));
		assert_int_equal(u.actions, 0);
		expect_clean(t);
	}
	GA_OK(goaccel_store_import(NULL, t, arch, NULL));
	GA_OK(goaccel_store_usage_get(&u, t));
	assert_int_equal(u.actions, 1);
	assert_int_equal(goaccel_store_import(NULL, t, "/nonexistent.tar.zst", NULL), GOACCEL_ENOTFOUND);
	free(cut);
	xfer_close(&f);
}

/* ---- docs/store.md's worked examples ------------------------------------------------------ */

/* The fenced block that follows "<!-- example:NAME -->" in docs/store.md (malloc'd). */
static char *doc_example(const char *doc, const char *name)
{
	char marker[128];
	const char *p, *start, *end;
	snprintf(marker, sizeof(marker), "<!-- example:%s -->", name);
	p = strstr(doc, marker);
	if (!p)
		fail_msg("docs/store.md has no example %s", name);
	start = strstr(p, "```");
	start = strchr(start, '\n') + 1;
	end = strstr(start, "\n```");
	return strndup(start, (size_t)(end - start));
}

static char *strip_nl(char *s)
{
	size_t n = strlen(s);
	while (n && s[n - 1] == '\n')
		s[--n] = '\0';
	return s;
}

static void test_store__docs_examples_match(void **state)
{
	tf_store *fx = *state;
	char *dir = fx->dir, *doc = tu_read(GOACCEL_SOURCE_DIR "/docs/store.md", NULL);
	goaccel_store *s = fx->s;
	goaccel_digest k, b;
	goaccel_action_output o = {"bin/app", NULL, 0755, "hello", 5};
	goaccel_action_meta m = GOACCEL_ACTION_META_INIT;
	char *want, *got, *p;
	m.duration_ns = INT64_C(2500000000);
	m.created_ns = INT64_C(1700000000000000000);
	m.info = "go build ./cmd/app";
	key_of(&k, "example-key");
	GA_OK(goaccel_store_action_put(s, &k, "gobuild", &o, 1, &m));
	GA_OK(goaccel_store_blob_put_buffer(&b, s, "hello", 5));
	GA_OK(goaccel_store_ref_set(s, "build/app", &b));

	want = doc_example(doc, "marker");
	p = tu_path(dir, "goaccel-store.json");
	got = strip_nl(tu_read(p, NULL));
	assert_string_equal(got, want);
	free(want);
	free(got);
	free(p);

	want = doc_example(doc, "blob-path");
	p = ga_store_blob_path(s, &b);
	assert_string_equal(p + strlen(dir) + 1, want);
	free(want);
	free(p);

	want = doc_example(doc, "record");
	p = ga_store_action_path(s, &k);
	assert_non_null(strstr(doc, p + strlen(dir) + 1)); /* the path the text gives */
	got = tu_read(p, NULL);
	assert_true(got[strlen(got) - 1] == '\n');
	assert_string_equal(strip_nl(got), want);
	free(want);
	free(got);
	free(p);

	want = doc_example(doc, "ref");
	GA_OK(goaccel_digest_buffer(&k, "build/app", 9));
	p = ga_store_ref_path(s, &k);
	assert_non_null(strstr(doc, p + strlen(dir) + 1));
	got = tu_read(p, NULL);
	assert_string_equal(got, want);
	free(want);
	free(got);
	free(p);

	free(doc);
}

/* ---- the multi-process stress test --------------------------------------------------------- */

/* Deterministic content for (key, output): any hit must restore exactly these bytes. */
static size_t stress_content(char *buf, size_t cap, unsigned int key, unsigned int idx)
{
	unsigned int x = key * 2654435761u + idx * 40503u + 1;
	size_t n = 1 + (x % 200000), i;
	if (n > cap)
		n = cap;
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (char)x;
	}
	return n;
}

static int stress_worker(const char *root, double seconds, unsigned int seed, const char *outfile)
{
	goaccel_store *s = NULL;
	char *buf = malloc(200001), *buf2 = malloc(200001), restore_dir[4096];
	unsigned long hits = 0, misses = 0, ops = 0, puts = 0;
	int64_t end = ga_monotonic_ns() + (int64_t)(seconds * 1e9);
	FILE *f;
	if (!buf || !buf2 || goaccel_store_open(&s, root, NULL) < 0)
		return 10;
	srand(seed);
	snprintf(restore_dir, sizeof(restore_dir), "%s-restore-%u", root, seed);
	while (ga_monotonic_ns() < end) {
		int op = rand() % 100;
		unsigned int key = (unsigned int)rand() % 48;
		char keytext[32];
		goaccel_digest k;
		ops++;
		snprintf(keytext, sizeof(keytext), "stress-%u", key);
		goaccel_digest_buffer(&k, keytext, strlen(keytext));
		if (op < 30) { /* put */
			goaccel_action_output o[3];
			size_t n = 1 + key % 3, i;
			char *data[3];
			for (i = 0; i < n; i++) {
				static char names[3][8] = {"bin/a", "bin/b", "log"};
				data[i] = malloc(200001);
				o[i].name = names[i];
				o[i].path = NULL;
				o[i].mode = 0644;
				o[i].data = data[i];
				o[i].size = stress_content(data[i], 200001, key, (unsigned int)i);
			}
			if (goaccel_store_action_put(s, &k, "stress", o, n, NULL) < 0) {
				fprintf(stderr, "worker %u: put: %s\n", seed, goaccel_error_last()->message);
				return 11;
			}
			puts++;
			for (i = 0; i < n; i++)
				free(data[i]);
		} else if (op < 70) { /* lookup + restore, or fetch; check every byte */
			goaccel_action *a = NULL;
			int fetch = op & 1;
			int rc = fetch ? goaccel_store_action_fetch(&a, s, "stress", &k, restore_dir, NULL)
			               : goaccel_store_action_lookup(&a, s, "stress", &k);
			size_t i;
			if (rc == GOACCEL_ENOTFOUND) {
				misses++;
				continue;
			}
			if (rc < 0) {
				fprintf(stderr, "worker %u: %s: %s\n", seed, fetch ? "fetch" : "lookup",
				        goaccel_error_last()->message);
				return 12;
			}
			hits++;
			if (!fetch && goaccel_action_restore(a, restore_dir, NULL) < 0) {
				fprintf(stderr, "worker %u: restore: %s\n", seed, goaccel_error_last()->message);
				return 13;
			}
			for (i = 0; i < goaccel_action_output_count(a); i++) {
				const goaccel_action_output_info *oi = goaccel_action_output_byindex(a, i);
				char path[4200];
				size_t want = stress_content(buf, 200001, key, (unsigned int)i), got;
				FILE *rf;
				snprintf(path, sizeof(path), "%s/%s", restore_dir, oi->name);
				rf = fopen(path, "rb");
				got = rf ? fread(buf2, 1, 200001, rf) : 0;
				if (rf)
					fclose(rf);
				if (got != want || memcmp(buf, buf2, want) != 0) {
					fprintf(stderr, "worker %u: restored %s of key %u is wrong\n", seed, oi->name, key);
					return 14;
				}
			}
			goaccel_action_free(a);
		} else if (op < 88) { /* mounts: exclusivity must hold across processes */
			goaccel_mount *m = NULL;
			goaccel_mount_options mo = GOACCEL_MOUNT_OPTIONS_INIT;
			goaccel_mount_sharing sh = (goaccel_mount_sharing)(rand() % 3);
			char flag[4200];
			int rc, fd;
			mo.timeout_ms = 2000;
			rc = goaccel_mount_acquire(&m, s, key % 2 ? "gomod" : "gobuild", sh, &mo);
			if (rc == GOACCEL_ELOCKED)
				continue;
			if (rc < 0) {
				fprintf(stderr, "worker %u: acquire: %s\n", seed, goaccel_error_last()->message);
				return 15;
			}
			snprintf(flag, sizeof(flag), "%s/.exclusive", goaccel_mount_path(m));
			if (sh == GOACCEL_MOUNT_SHARED) {
				if (ga_exists(flag)) {
					fprintf(stderr, "worker %u: a SHARED holder saw an exclusive one\n", seed);
					return 16;
				}
				snprintf(flag, sizeof(flag), "%s/shared-%u-%lu", goaccel_mount_path(m), seed, ops);
				tu_write(goaccel_mount_path(m), flag + strlen(goaccel_mount_path(m)) + 1, "s");
			} else {
				fd = open(flag, O_CREAT | O_EXCL | O_WRONLY, 0644);
				if (fd < 0) {
					fprintf(stderr, "worker %u: two exclusive holders of %s\n", seed, flag);
					return 17;
				}
				close(fd);
				tu_write(goaccel_mount_path(m), "sub/file", "exclusive write");
				unlink(flag);
			}
			goaccel_mount_release(m);
		} else if (op < 92) { /* prune */
			goaccel_prune_options po = GOACCEL_PRUNE_OPTIONS_INIT;
			po.max_bytes = (uint64_t)(rand() % 4000000);
			po.blob_grace_ns = -1; /* as aggressive as it gets */
			if (goaccel_store_prune(NULL, s, &po) < 0) {
				fprintf(stderr, "worker %u: prune: %s\n", seed, goaccel_error_last()->message);
				return 18;
			}
		} else { /* refs and plain blobs */
			goaccel_digest b, got;
			void *data;
			size_t len, n = stress_content(buf, 4096, key, 9);
			int rc;
			if (goaccel_store_blob_put_buffer(&b, s, buf, n) < 0) {
				fprintf(stderr, "worker %u: blob: %s\n", seed, goaccel_error_last()->message);
				return 19;
			}
			/* with no grace period a prune may collect the blob before the ref names it:
			 * then ref_set says so instead of leaving a dangling ref */
			rc = goaccel_store_ref_set(s, keytext, &b);
			if (rc < 0 && rc != GOACCEL_ENOTFOUND) {
				fprintf(stderr, "worker %u: ref: %s\n", seed, goaccel_error_last()->message);
				return 19;
			}
			if (goaccel_store_ref_get(&got, s, keytext) == 0 &&
			    goaccel_store_blob_get(&data, &len, s, &got, 0) == 0) {
				if (len != n || memcmp(data, buf, n)) {
					fprintf(stderr, "worker %u: ref blob is wrong\n", seed);
					return 20;
				}
				goaccel_free(data);
			}
		}
	}
	goaccel_store_free(s);
	ga_rm_rf(restore_dir);
	free(buf);
	free(buf2);
	if ((f = fopen(outfile, "w")) == NULL)
		return 21;
	fprintf(f, "%lu %lu %lu %lu\n", hits, misses, puts, ops);
	fclose(f);
	return 0;
}

static const char *self_exe(void)
{
	static char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	path[n > 0 ? n : 0] = '\0';
	return path;
}

/* Runs nproc workers for seconds on one store, then checks the stats add up and verify finds
 * nothing wrong. Returns 0 or a failure message. */
static const char *run_stress(double seconds, int nproc, int verbose)
{
	static char msg[512];
	char *dir = tu_tempdir("ga-stress"), *root = tu_path(dir, "store");
	pid_t pids[64];
	unsigned long hits = 0, misses = 0, puts = 0, ops = 0;
	goaccel_store *s = NULL;
	goaccel_store_counters c;
	goaccel_verify_result vr;
	int i;
	char secs[32];
	msg[0] = '\0';
	if (goaccel_store_open(&s, root, NULL) < 0)
		return "cannot open the store";
	snprintf(secs, sizeof(secs), "%.1f", seconds);
	for (i = 0; i < nproc; i++) {
		char seed[16], out[4200];
		snprintf(seed, sizeof(seed), "%d", i + 1);
		snprintf(out, sizeof(out), "%s/worker-%d.out", dir, i);
		if ((pids[i] = fork()) == 0) {
			execl(self_exe(), self_exe(), "--worker", root, secs, seed, out, (char *)NULL);
			_exit(127);
		}
	}
	for (i = 0; i < nproc; i++) {
		int st;
		waitpid(pids[i], &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			snprintf(msg, sizeof(msg), "worker %d failed with status %d", i, st);
			goto done;
		}
	}
	for (i = 0; i < nproc; i++) {
		char out[4200];
		unsigned long h, m, p, o;
		FILE *f;
		snprintf(out, sizeof(out), "%s/worker-%d.out", dir, i);
		if ((f = fopen(out, "r")) == NULL || fscanf(f, "%lu %lu %lu %lu", &h, &m, &p, &o) != 4) {
			snprintf(msg, sizeof(msg), "worker %d wrote no result", i);
			if (f)
				fclose(f);
			goto done;
		}
		fclose(f);
		hits += h;
		misses += m;
		puts += p;
		ops += o;
	}
	if (goaccel_store_stats(&c, s, "stress") < 0) {
		snprintf(msg, sizeof(msg), "stats: %s", goaccel_error_last()->message);
		goto done;
	}
	if (verbose)
		printf("stress: %d processes, %.1f s, %lu operations: %lu puts, %lu hits, %lu misses\n",
		       nproc, seconds, ops, puts, hits, misses);
	if (c.hits != hits || c.misses != misses || c.puts != puts || c.corrupt != 0) {
		snprintf(msg, sizeof(msg),
		         "stats disagree: store says %llu hits %llu misses %llu puts %llu corrupt; workers "
		         "saw %lu hits %lu misses %lu puts",
		         (unsigned long long)c.hits, (unsigned long long)c.misses,
		         (unsigned long long)c.puts, (unsigned long long)c.corrupt, hits, misses, puts);
		goto done;
	}
	if (goaccel_store_verify(&vr, s, NULL) != 0 || vr.problems) {
		snprintf(msg, sizeof(msg), "verify after the stress: %s", goaccel_error_last()->message);
		goto done;
	}
	if (hits == 0 || puts == 0)
		snprintf(msg, sizeof(msg), "the stress did too little (%lu hits, %lu puts)", hits, puts);
done:
	goaccel_store_free(s);
	ga_rm_rf(dir);
	free(root);
	free(dir);
	return msg[0] ? msg : NULL;
}

static void test_store__stress_8_processes(void **state)
{
	const char *env = getenv("GOACCEL_STRESS_SECONDS");
	double seconds = env ? atof(env) : 4.0;
	const char *err;
	(void)state;
	if ((err = run_stress(seconds, 8, 1)) != NULL)
		fail_msg("%s", err);
}

/* ---- the kill -9 crash test ---------------------------------------------------------------- */

static void crash_child(const char *root, const char *arch, unsigned int seed)
{
	goaccel_store *s = NULL;
	char *buf = malloc(3 << 20);
	unsigned int n = 0;
	int fd;
	for (fd = 3; fd < 1024; fd++)
		close(fd); /* the parent's flock'ed descriptors are not ours */
	if (!buf || goaccel_store_open(&s, root, NULL) < 0)
		_exit(1);
	srand(seed);
	for (;; n++) {
		if (rand() % 3 == 0) {
			goaccel_store_import(NULL, s, arch, NULL);
		} else {
			unsigned int key = (unsigned int)rand() % 16;
			char keytext[32];
			goaccel_digest k;
			goaccel_action_output o = {"bin/big", NULL, 0755, buf, 0};
			snprintf(keytext, sizeof(keytext), "crash-%u", key);
			goaccel_digest_buffer(&k, keytext, strlen(keytext));
			o.size = stress_content(buf, 200001, key, 0) * 10;
			memset(buf + o.size / 10, (int)key, o.size - o.size / 10);
			goaccel_store_action_put(s, &k, "crash", &o, 1, NULL);
		}
	}
}

static void test_store__crash_kill9_leaves_store_valid(void **state)
{
	const char *env = getenv("GOACCEL_CRASH_KILLS");
	int kills = env ? atoi(env) : 60, i;
	char *dir = tu_tempdir("ga-crash"), *root = tu_path(dir, "store"), *srcroot = tu_path(dir, "src");
	char *arch = tu_path(dir, "cache.tar.zst"), *expected;
	goaccel_store *src = open_store(srcroot), *s = open_store(root);
	goaccel_export_options eo = GOACCEL_EXPORT_OPTIONS_INIT;
	goaccel_verify_options vo = GOACCEL_VERIFY_OPTIONS_INIT;
	goaccel_verify_result vr;
	unsigned int seed = (unsigned int)time(NULL);
	(void)state;
	/* an archive with a mount of many files and a few actions to import over and over */
	{
		goaccel_mount *m = NULL;
		char name[64];
		GA_OK(goaccel_mount_acquire(&m, src, "gomod", GOACCEL_MOUNT_LOCKED, NULL));
		for (i = 0; i < 300; i++) {
			snprintf(name, sizeof(name), "mod%d@v1.0.0/file%d.go", i % 30, i);
			tu_write(goaccel_mount_path(m), name, "package p // some content to compress\n");
		}
		GA_OK(goaccel_mount_release(m));
		for (i = 0; i < 5; i++) {
			char key[16], content[64];
			snprintf(key, sizeof(key), "imp%d", i);
			snprintf(content, sizeof(content), "imported-binary-%d", i);
			put_simple(src, key, "imported", "bin/x", content, 5);
		}
		eo.all_mounts = 1;
		eo.actions = 1;
		GA_OK(goaccel_store_export(NULL, src, arch, &eo));
		expected = mount_listing(src, "gomod");
	}
	printf("crash test: %d kills (seed %u)\n", kills, seed);
	srand(seed);
	for (i = 0; i < kills; i++) {
		pid_t pid = fork();
		int st;
		struct timespec ts;
		goaccel_mount_list *l;
		if (pid == 0)
			crash_child(root, arch, seed + (unsigned int)i);
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(5 + rand() % 120) * 1000000L;
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		/* no damaged or dangling entry is visible; leftover temporary files are allowed */
		if (goaccel_store_verify(&vr, s, NULL) < 0 && goaccel_error_last()->code != GOACCEL_EMISMATCH)
			fail_msg("verify: %s", goaccel_error_last()->message);
		if (vr.corrupt_blobs || vr.bad_records || vr.dangling_records || vr.dangling_refs || vr.stray)
			fail_msg("after kill %d: %s", i, goaccel_error_last()->message);
		/* the imported mount is there whole or not at all */
		GA_OK(goaccel_mount_list_get(&l, s, 0));
		if (goaccel_mount_list_count(l) == 1) {
			char *got = mount_listing(s, "gomod");
			size_t files = count_files(goaccel_mount_list_byindex(l, 0)->path);
			if (files != 0 && strcmp(got, expected) != 0)
				fail_msg("after kill %d the mount is half-imported", i);
			free(got);
		}
		goaccel_mount_list_free(l);
	}
	/* every visible record restores what was put */
	{
		goaccel_action *a = NULL;
		goaccel_digest k;
		char keytext[32];
		for (i = 0; i < 16; i++) {
			snprintf(keytext, sizeof(keytext), "crash-%d", i);
			key_of(&k, keytext);
			if (goaccel_store_action_lookup(&a, s, "crash", &k) == 0) {
				GA_OK(goaccel_action_restore(a, dir, NULL));
				goaccel_action_free(a);
			}
		}
	}
	vo.repair = 1;
	GA_OK(goaccel_store_verify(&vr, s, &vo));
	expect_clean(s);
	free(expected);
	goaccel_store_free(src);
	goaccel_store_free(s);
	free(root);
	free(srcroot);
	free(arch);
	tu_rmtree(dir);
	free(dir);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store__default_root),
		cmocka_unit_test(test_store__open_creates_private_versioned_root),
		cmocka_unit_test_setup_teardown(test_store__blobs_roundtrip_and_match_sha256sum, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_store__corrupt_blob_is_removed_and_counted, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_store__action_put_lookup_restore, tf_setup_sub, tf_teardown),
		cmocka_unit_test_setup_teardown(test_store__action_rejects_bad_names, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_store__damaged_or_dangling_records_are_misses, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_store__lookup_peek_counts_nothing, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_store__fetch_restores_and_verifies_in_one_pass, tf_setup_sub, tf_teardown),
		cmocka_unit_test_setup_teardown(test_store__action_list, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_store__restore_never_follows_symlinks_out, tf_setup_sub, tf_teardown),
		cmocka_unit_test(test_store__verify_cache_still_catches_tampering),
		cmocka_unit_test_setup_teardown(test_store__refs, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_store__stats_json_and_reset, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_store__stats_exact_across_processes, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_store__prune_lru_by_size_and_age, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_store__prune_collects_unreferenced_blobs_after_grace, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_store__prune_skips_mounts_in_use_and_removes_readonly_trees, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_store__verify_reports_and_repairs, tf_setup, tf_teardown),
		cmocka_unit_test(test_store__export_import_roundtrip),
		cmocka_unit_test(test_store__export_leaves_out_noexport_dirs),
		cmocka_unit_test(test_store__export_delta_since_base),
		cmocka_unit_test_setup_teardown(test_store__import_refuses_hostile_archives, tf_setup_sub, tf_teardown),
		cmocka_unit_test(test_store__import_accepts_links_inside_the_mount),
		cmocka_unit_test_setup_teardown(test_store__import_foreign_tar_from_the_fuzz_corpus, tf_setup, tf_teardown),
		cmocka_unit_test(test_store__import_truncated_archives),
		cmocka_unit_test_setup_teardown(test_store__docs_examples_match, tf_setup, tf_teardown),
		cmocka_unit_test(test_store__stress_8_processes),
		cmocka_unit_test(test_store__crash_kill9_leaves_store_valid),
	};
	if (argc == 6 && !strcmp(argv[1], "--worker")) {
		int rc;
		goaccel_init();
		rc = stress_worker(argv[2], atof(argv[3]), (unsigned int)atoi(argv[4]), argv[5]);
		goaccel_shutdown();
		return rc;
	}
	if (argc == 3 && !strcmp(argv[1], "--stress")) {
		const char *err;
		goaccel_init();
		err = run_stress(atof(argv[2]), 8, 1);
		goaccel_shutdown();
		if (err)
			fprintf(stderr, "stress failed: %s\n", err);
		return err ? 1 : 0;
	}
	return cmocka_run_group_tests(tests, tu_group_setup, tu_group_teardown);
}
