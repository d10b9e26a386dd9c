/* extract layer: COPY --from semantics, confinement to the roots, metadata, hard links. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

typedef struct {
	char *tmp;
	char *src;
	char *dst;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	f->tmp = tu_tempdir("ga-extract");
	f->src = tu_path(f->tmp, "src");
	f->dst = tu_path(f->tmp, "dst");
	mkdir(f->src, 0755);
	mkdir(f->dst, 0755);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	tu_rmtree(f->tmp);
	free(f->tmp);
	free(f->src);
	free(f->dst);
	free(f);
	return 0;
}

static struct stat lstat_rel(const char *root, const char *rel)
{
	struct stat st;
	char *p = tu_path(root, rel);
	if (lstat(p, &st) < 0)
		fail_msg("lstat %s: %s", p, strerror(errno));
	free(p);
	return st;
}

static int exists_rel(const char *root, const char *rel)
{
	struct stat st;
	char *p = tu_path(root, rel);
	int rc = lstat(p, &st) == 0;
	free(p);
	return rc;
}

static char *read_rel(const char *root, const char *rel)
{
	char *p = tu_path(root, rel), *s = tu_read(p, NULL);
	free(p);
	return s;
}

static void set_mtime(const char *root, const char *rel, time_t t)
{
	struct timespec ts[2] = {{t, 0}, {t, 0}};
	char *p = tu_path(root, rel);
	assert_int_equal(utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW), 0);
	free(p);
}

static void symlink_rel(const char *target, const char *root, const char *rel)
{
	char *p = tu_path(root, rel);
	assert_int_equal(symlink(target, p), 0);
	free(p);
}

static int extract1(fixture *f, const char *src, const char *dst, const goaccel_extract_options *o)
{
	goaccel_extract_item item = GOACCEL_EXTRACT_ITEM(src, dst);
	return goaccel_extract(f->dst, f->src, &item, 1, o);
}

/* A file lands at dst, inside dst when dst ends with '/', and inside an existing directory. */
static void test_extract__file_destinations(void **state)
{
	fixture *f = *state;
	char *s;
	tu_write(f->src, "app/bin/server", "binary");
	GA_OK(extract1(f, "/app/bin/server", "/usr/local/bin/srv", NULL));
	s = read_rel(f->dst, "usr/local/bin/srv");
	assert_string_equal(s, "binary");
	free(s);
	GA_OK(extract1(f, "app/bin/server", "/opt/", NULL));
	assert_true(S_ISREG(lstat_rel(f->dst, "opt/server").st_mode));
	/* an existing directory without the trailing slash */
	GA_OK(extract1(f, "app/bin/server", "/usr/local/bin", NULL));
	assert_true(S_ISREG(lstat_rel(f->dst, "usr/local/bin/server").st_mode));
	/* the destination root itself */
	GA_OK(extract1(f, "app/bin/server", "/", NULL));
	assert_true(S_ISREG(lstat_rel(f->dst, "server").st_mode));
}

/* A directory's contents are copied recursively; links inside stay links, targets untouched. */
static void test_extract__directory_contents_and_links(void **state)
{
	fixture *f = *state;
	char buf[256];
	ssize_t n;
	char *p;
	tu_write(f->src, "usr/share/zoneinfo/Asia/Shanghai", "TZif-shanghai");
	tu_write(f->src, "usr/share/zoneinfo/UTC", "TZif-utc");
	symlink_rel("Asia/Shanghai", f->src, "usr/share/zoneinfo/PRC");
	symlink_rel("/nonexistent/outside", f->src, "usr/share/zoneinfo/dangling");
	GA_OK(extract1(f, "/usr/share/zoneinfo", "/usr/share/zoneinfo", NULL));
	p = read_rel(f->dst, "usr/share/zoneinfo/Asia/Shanghai");
	assert_string_equal(p, "TZif-shanghai");
	free(p);
	assert_true(S_ISLNK(lstat_rel(f->dst, "usr/share/zoneinfo/PRC").st_mode));
	p = tu_path(f->dst, "usr/share/zoneinfo/dangling");
	n = readlink(p, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "/nonexistent/outside");
	free(p);
	/* contents, not the directory itself (COPY, not cp -r) */
	GA_OK(extract1(f, "usr/share/zoneinfo/Asia", "/tz", NULL));
	assert_true(exists_rel(f->dst, "tz/Shanghai"));
	assert_false(exists_rel(f->dst, "tz/Asia"));
}

/* Links met on the way are followed inside the root: an absolute target restarts at the root. */
static void test_extract__links_resolve_inside_root(void **state)
{
	fixture *f = *state;
	char *s;
	tu_write(f->src, "real/lib/libx.txt", "inside");
	symlink_rel("/real/lib", f->src, "lib");       /* absolute: relative to the stage root */
	symlink_rel("../real", f->src, "sub-parent");  /* relative, stays inside */
	tu_write(f->src, "d/.keep", "");
	symlink_rel("../../../real/../real/lib", f->src, "d/deep"); /* climbs above: refused */
	GA_OK(extract1(f, "/lib/libx.txt", "/a", NULL));
	s = read_rel(f->dst, "a");
	assert_string_equal(s, "inside");
	free(s);
	assert_int_equal(extract1(f, "/d/deep/libx.txt", "/b", NULL), GOACCEL_EUNSAFE);
	assert_false(exists_rel(f->dst, "b"));
	/* a final link is followed too (COPY of /etc/localtime gives a regular file) */
	symlink_rel("real/lib/libx.txt", f->src, "localtime");
	GA_OK(extract1(f, "/localtime", "/etc/", NULL));
	assert_true(S_ISREG(lstat_rel(f->dst, "etc/localtime").st_mode));
}

/* A src path climbing out with "..", or through a link to the host's /, is refused. */
static void test_extract__escape_is_refused(void **state)
{
	fixture *f = *state;
	const char *msg;
	tu_write(f->tmp, "secret", "host file next to the roots");
	assert_int_equal(extract1(f, "../secret", "/x", NULL), GOACCEL_EUNSAFE);
	msg = goaccel_error_last()->message;
	assert_non_null(strstr(msg, "../secret"));
	symlink_rel("../../..", f->src, "up");
	assert_int_equal(extract1(f, "up/secret", "/x", NULL), GOACCEL_EUNSAFE);
	/* an absolute link to the host's /etc means the stage's /etc, which does not exist */
	symlink_rel("/etc", f->src, "etc-link");
	assert_int_equal(extract1(f, "etc-link/passwd", "/x", NULL), GOACCEL_ENOTFOUND);
	assert_false(exists_rel(f->dst, "x"));
	/* a link loop ends with an error, not a hang */
	symlink_rel("loop2", f->src, "loop1");
	symlink_rel("loop1", f->src, "loop2");
	assert_int_equal(extract1(f, "loop1", "/x", NULL), GOACCEL_EUNSAFE);
}

/* A link already in the destination cannot redirect the copy outside the destination root. */
static void test_extract__destination_links_stay_inside(void **state)
{
	fixture *f = *state;
	char *outside = tu_path(f->tmp, "outside");
	tu_write(f->src, "file", "data");
	mkdir(outside, 0755);
	symlink_rel("../outside", f->dst, "out");
	assert_int_equal(extract1(f, "file", "/out/file", NULL), GOACCEL_EUNSAFE);
	assert_false(exists_rel(outside, "file"));
	/* an absolute link in the destination is resolved against the destination root */
	symlink_rel("/var/lib", f->dst, "data");
	GA_OK(extract1(f, "file", "/data/file", NULL));
	assert_true(exists_rel(f->dst, "var/lib/file"));
	free(outside);
}

static void test_extract__missing_src_is_named(void **state)
{
	fixture *f = *state;
	assert_int_equal(extract1(f, "/go/bin/missing-app", "/app", NULL), GOACCEL_ENOTFOUND);
	assert_non_null(strstr(goaccel_error_last()->message, "/go/bin/missing-app"));
	assert_int_equal(extract1(f, "", "/app", NULL), GOACCEL_EINVALID);
	{
		goaccel_extract_item item = GOACCEL_EXTRACT_ITEM("a", "b");
		assert_int_equal(goaccel_extract(NULL, f->src, &item, 1, NULL), GOACCEL_EINVALID);
		assert_int_equal(goaccel_extract(f->dst, "/nonexistent-root", &item, 1, NULL),
		                 GOACCEL_ENOTFOUND);
		item.mode = 010000;
		assert_int_equal(goaccel_extract(f->dst, f->src, &item, 1, NULL), GOACCEL_EINVALID);
	}
}

/* Created parents get fixed metadata (0755, 0:0, the epoch), whatever the umask. */
static void test_extract__parents_have_fixed_metadata(void **state)
{
	fixture *f = *state;
	goaccel_extract_options o = GOACCEL_EXTRACT_OPTIONS_INIT;
	mode_t old = umask(077);
	struct stat st;
	tu_write(f->src, "bin/app", "x");
	o.source_date_epoch = 1700000000;
	GA_OK(extract1(f, "bin/app", "/deep/er/path/app", &o));
	umask(old);
	st = lstat_rel(f->dst, "deep");
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(st.st_mtime, 1700000000);
	st = lstat_rel(f->dst, "deep/er/path");
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(st.st_mtime, 1700000000);
	if (geteuid() == 0) {
		assert_int_equal(st.st_uid, 0);
		assert_int_equal(st.st_gid, 0);
	}
	/* without an epoch: mtime 0, still not the clock */
	GA_OK(extract1(f, "bin/app", "/other/app", NULL));
	assert_int_equal(lstat_rel(f->dst, "other").st_mtime, 0);
}

/* Mode and owner are kept unless the item sets them. */
static void test_extract__mode_and_owner(void **state)
{
	fixture *f = *state;
	goaccel_extract_item items[2] = {GOACCEL_EXTRACT_ITEM("tree", "/kept"),
	                                 GOACCEL_EXTRACT_ITEM("tree", "/set")};
	char *p;
	struct stat st;
	tu_write(f->src, "tree/exe", "#!/bin/sh\n");
	tu_write(f->src, "tree/sub/data", "d");
	p = tu_path(f->src, "tree/exe");
	chmod(p, 04750);
	free(p);
	p = tu_path(f->src, "tree/sub");
	chmod(p, 0711);
	if (geteuid() == 0)
		assert_int_equal(chown(p, 4321, 8765), 0);
	free(p);
	items[1].mode = 0600;
	if (geteuid() == 0) {
		items[1].uid = 1000;
		items[1].gid = 2000;
	}
	GA_OK(goaccel_extract(f->dst, f->src, items, 2, NULL));
	assert_int_equal(lstat_rel(f->dst, "kept/exe").st_mode & 07777, 04750);
	st = lstat_rel(f->dst, "kept/sub");
	assert_int_equal(st.st_mode & 07777, 0711);
	if (geteuid() == 0) {
		assert_int_equal(st.st_uid, 4321);
		assert_int_equal(st.st_gid, 8765);
	}
	assert_int_equal(lstat_rel(f->dst, "set/exe").st_mode & 07777, 0600);
	st = lstat_rel(f->dst, "set/sub");
	assert_int_equal(st.st_mode & 07777, 0600);
	if (geteuid() == 0) {
		assert_int_equal(st.st_uid, 1000);
		assert_int_equal(st.st_gid, 2000);
		assert_int_equal(lstat_rel(f->dst, "set/sub/data").st_uid, 1000);
	}
}

/* Files hard-linked in the source stay hard-linked, within an item and across items. */
static void test_extract__hardlinks_preserved(void **state)
{
	fixture *f = *state;
	goaccel_extract_item items[2] = {GOACCEL_EXTRACT_ITEM("d", "/d"),
	                                 GOACCEL_EXTRACT_ITEM("d/a", "/elsewhere/c")};
	char *a, *b;
	struct stat sa, sb, sc;
	tu_write(f->src, "d/a", "shared");
	a = tu_path(f->src, "d/a");
	b = tu_path(f->src, "d/b");
	assert_int_equal(link(a, b), 0);
	GA_OK(goaccel_extract(f->dst, f->src, items, 2, NULL));
	sa = lstat_rel(f->dst, "d/a");
	sb = lstat_rel(f->dst, "d/b");
	sc = lstat_rel(f->dst, "elsewhere/c");
	assert_int_equal(sa.st_ino, sb.st_ino);
	assert_int_equal(sa.st_ino, sc.st_ino);
	assert_int_equal(sa.st_nlink, 3);
	free(a);
	free(b);
}

/* mtimes: kept by default, clamped to the epoch, or set to it. */
static void test_extract__mtime_clamping(void **state)
{
	fixture *f = *state;
	goaccel_extract_options o = GOACCEL_EXTRACT_OPTIONS_INIT;
	tu_write(f->src, "t/new", "n");
	tu_write(f->src, "t/old", "o");
	set_mtime(f->src, "t/new", 1900000000);
	set_mtime(f->src, "t/old", 1000000000);
	set_mtime(f->src, "t", 1900000000);
	GA_OK(extract1(f, "t", "/keep", NULL));
	assert_int_equal(lstat_rel(f->dst, "keep/new").st_mtime, 1900000000);
	o.source_date_epoch = 1500000000;
	GA_OK(extract1(f, "t", "/clamp", &o));
	assert_int_equal(lstat_rel(f->dst, "clamp/new").st_mtime, 1500000000);
	assert_int_equal(lstat_rel(f->dst, "clamp/old").st_mtime, 1000000000);
	assert_int_equal(lstat_rel(f->dst, "clamp").st_mtime, 1500000000);
	o.mtime = GOACCEL_EXTRACT_MTIME_SET;
	GA_OK(extract1(f, "t", "/set", &o));
	assert_int_equal(lstat_rel(f->dst, "set/old").st_mtime, 1500000000);
	o.source_date_epoch = -1;
	assert_int_equal(extract1(f, "t", "/bad", &o), GOACCEL_EINVALID);
}

static void test_extract__overwrite(void **state)
{
	fixture *f = *state;
	goaccel_extract_options o = GOACCEL_EXTRACT_OPTIONS_INIT;
	char *s;
	tu_write(f->src, "v", "new");
	tu_write(f->dst, "v", "old");
	GA_OK(extract1(f, "v", "/v", NULL));
	s = read_rel(f->dst, "v");
	assert_string_equal(s, "new");
	free(s);
	o.overwrite = 0;
	assert_int_equal(extract1(f, "v", "/v", &o), GOACCEL_EEXISTS);
	/* a directory is never replaced by a file */
	tu_write(f->src, "tree/sub", "file");
	tu_write(f->dst, "t2/sub/inner", "x");
	assert_int_equal(extract1(f, "tree", "/t2", NULL), GOACCEL_EEXISTS);
}

/* A read-only source directory (Go's module cache) is copied and keeps its mode. */
static void test_extract__readonly_tree(void **state)
{
	fixture *f = *state;
	char *p;
	tu_write(f->src, "ro/sub/file", "x");
	p = tu_path(f->src, "ro/sub/file");
	chmod(p, 0444);
	free(p);
	p = tu_path(f->src, "ro/sub");
	chmod(p, 0555);
	free(p);
	GA_OK(extract1(f, "ro", "/ro", NULL));
	assert_int_equal(lstat_rel(f->dst, "ro/sub").st_mode & 07777, 0555);
	assert_int_equal(lstat_rel(f->dst, "ro/sub/file").st_mode & 07777, 0444);
}

static void test_extract__xattrs_and_fifo(void **state)
{
	fixture *f = *state;
	char *p, val[32];
	ssize_t n;
	tu_write(f->src, "x/file", "x");
	p = tu_path(f->src, "x/file");
	if (setxattr(p, "user.goaccel", "v1", 2, 0) < 0) {
		free(p);
		skip();
	}
	free(p);
	p = tu_path(f->src, "x/pipe");
	assert_int_equal(mkfifo(p, 0640), 0);
	free(p);
	GA_OK(extract1(f, "x", "/y", NULL));
	p = tu_path(f->dst, "y/file");
	n = getxattr(p, "user.goaccel", val, sizeof(val));
	assert_int_equal(n, 2);
	assert_memory_equal(val, "v1", 2);
	free(p);
	assert_true(S_ISFIFO(lstat_rel(f->dst, "y/pipe").st_mode));
	assert_int_equal(lstat_rel(f->dst, "y/pipe").st_mode & 07777, 0640);
}

/* Without the privilege to chown (a CI runner), the defaults still work: parents and kept
 * owners stay the caller's; an explicit owner is an error. Runs in a child as nobody. */
static void test_extract__unprivileged_caller(void **state)
{
	fixture *f = *state;
	pid_t pid;
	int status;
	if (geteuid() != 0)
		skip(); /* already unprivileged: the other tests cover it */
	tu_write(f->src, "bin/app", "x");
	assert_int_equal(chmod(f->dst, 0777), 0);
	assert_int_equal(chmod(f->tmp, 0755), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		goaccel_extract_item item = GOACCEL_EXTRACT_ITEM("bin/app", "/deep/path/app");
		goaccel_extract_options o = GOACCEL_EXTRACT_OPTIONS_INIT;
		struct stat st;
		char *p;
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(10);
		if (goaccel_extract(f->dst, f->src, &item, 1, NULL) != 0)
			_exit(11);
		p = tu_path(f->dst, "deep/path");
		if (stat(p, &st) < 0 || st.st_uid != 65534 || (st.st_mode & 07777) != 0755)
			_exit(12);
		o.strict_owner = 1;
		item.dst = "/other/app";
		if (goaccel_extract(f->dst, f->src, &item, 1, &o) != GOACCEL_ERROR)
			_exit(13);
		item.dst = "/third/app";
		item.uid = 0;
		item.gid = 0;
		if (goaccel_extract(f->dst, f->src, &item, 1, NULL) != GOACCEL_ERROR)
			_exit(14);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_extract__options_init(void **state)
{
	goaccel_extract_options o;
	(void)state;
	GA_OK(goaccel_extract_options_init(&o, GOACCEL_EXTRACT_OPTIONS_VERSION));
	assert_int_equal(o.parent_mode, 0755);
	assert_int_equal(o.source_date_epoch, -1);
	assert_int_equal(goaccel_extract_options_init(&o, 99), GOACCEL_EVERSION);
	assert_int_equal(goaccel_extract_options_init(NULL, 1), GOACCEL_EINVALID);
	o.version = 7;
	assert_int_equal(goaccel_extract("/tmp", "/tmp", NULL, 0, &o), GOACCEL_EVERSION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_extract__file_destinations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extract__directory_contents_and_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extract__links_resolve_inside_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extract__escape_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extract__destination_links_stay_inside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extract__missing_src_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extract__parents_have_fixed_metadata, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extract__mode_and_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extract__hardlinks_preserved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extract__mtime_clamping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extract__overwrite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extract__readonly_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extract__xattrs_and_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extract__unprivileged_caller, setup, teardown),
		cmocka_unit_test(test_extract__options_init),
	};
	return cmocka_run_group_tests(tests, tu_group_setup, tu_group_teardown);
}
