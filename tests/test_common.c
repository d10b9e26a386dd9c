/* common + errors layer: init/shutdown, version, the thread-local error. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util/err.h"
#include "util/spawn.h"
#include "util/fs.h"
#include "util/strarray.h"

static void test_common__init_is_reference_counted(void **state)
{
	(void)state;
	assert_int_equal(goaccel_init(), 2); /* the group setup holds one */
	assert_int_equal(goaccel_init(), 3);
	assert_int_equal(goaccel_shutdown(), 2);
	assert_int_equal(goaccel_shutdown(), 1);
}

static void test_common__version_matches_headers(void **state)
{
	int ma = -1, mi = -1, pa = -1;
	(void)state;
	assert_string_equal(goaccel_version(&ma, &mi, &pa), GOACCEL_VERSION);
	assert_int_equal(ma, GOACCEL_VERSION_MAJOR);
	assert_int_equal(mi, GOACCEL_VERSION_MINOR);
	assert_int_equal(pa, GOACCEL_VERSION_PATCH);
	assert_non_null(goaccel_version(NULL, NULL, NULL));
}

static void test_common__error_last_is_never_null(void **state)
{
	(void)state;
	goaccel_error_clear();
	assert_non_null(goaccel_error_last());
	assert_string_equal(goaccel_error_last()->message, "no error");
	assert_int_equal(goaccel_error_last()->code, GOACCEL_OK);
}

static void test_common__error_names_the_path(void **state)
{
	goaccel_digest d;
	(void)state;
	assert_int_equal(goaccel_digest_file(&d, "/nonexistent/dir/file.go"), GOACCEL_ENOTFOUND);
	assert_non_null(strstr(goaccel_error_last()->message, "/nonexistent/dir/file.go"));
	assert_non_null(strstr(goaccel_error_last()->message, "No such file"));
	assert_int_equal(goaccel_error_last()->code, GOACCEL_ENOTFOUND);
	assert_int_equal(goaccel_error_last()->klass, GOACCEL_ERROR_OS);
}

static void test_common__bad_argument_returns_not_aborts(void **state)
{
	(void)state;
	assert_int_equal(goaccel_digest_buffer(NULL, "x", 1), GOACCEL_EINVALID);
	assert_non_null(strstr(goaccel_error_last()->message, "invalid argument"));
	assert_int_equal(goaccel_digest_fmt(NULL, NULL), GOACCEL_EINVALID);
}

static void *other_thread(void *arg)
{
	(void)arg;
	/* A fresh thread sees no error, whatever the main thread did. */
	return (void *)(intptr_t)(goaccel_error_last()->code == GOACCEL_OK &&
	                          strcmp(goaccel_error_last()->message, "no error") == 0);
}

static void test_common__error_is_thread_local(void **state)
{
	pthread_t t;
	void *ok = NULL;
	(void)state;
	ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_STORE, "main thread failure");
	assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
	pthread_join(t, &ok);
	assert_true((intptr_t)ok);
	assert_string_equal(goaccel_error_last()->message, "main thread failure");
}

static void test_common__error_code_names(void **state)
{
	(void)state;
	assert_string_equal(goaccel_error_code_name(GOACCEL_ELOCKED), "GOACCEL_ELOCKED");
	assert_string_equal(goaccel_error_code_name(-999), "GOACCEL_E?");
	goaccel_error_set_str(GOACCEL_ERROR_CALLBACK, "user said stop");
	assert_int_equal(goaccel_error_last()->code, GOACCEL_EUSER);
	assert_string_equal(goaccel_error_last()->message, "user said stop");
}

static void test_common__spawn_captures_output_and_status(void **state)
{
	const char *argv[] = {"sh", "-c", "echo out; echo err >&2; exit 3", NULL};
	ga_buf out = GA_BUF_INIT, err = GA_BUF_INIT;
	ga_spawn_opts o = {0};
	int status = -1;
	(void)state;
	o.argv = argv;
	o.out = &out;
	o.err = &err;
	GA_OK(ga_spawn_run(&status, &o));
	assert_int_equal(status, 3);
	assert_string_equal(out.ptr, "out\n");
	assert_string_equal(err.ptr, "err\n");
	ga_buf_dispose(&out);
	ga_buf_dispose(&err);
}

static int cancel_at_once(const char *d, size_t n, int s, void *p)
{
	(void)d, (void)n, (void)s, (void)p;
	return 1;
}

static void test_common__spawn_cancel_kills_child(void **state)
{
	const char *argv[] = {"sh", "-c", "echo started; sleep 30", NULL};
	ga_spawn_opts o = {0};
	int status = -1;
	int64_t t0 = ga_monotonic_ns();
	(void)state;
	o.argv = argv;
	o.output = cancel_at_once;
	assert_int_equal(ga_spawn_run(&status, &o), GOACCEL_EUSER);
	assert_true(ga_monotonic_ns() - t0 < 10LL * 1000000000);
}

static void test_common__spawn_missing_program(void **state)
{
	const char *argv[] = {"goaccel-no-such-program", NULL};
	ga_spawn_opts o = {0};
	int status;
	(void)state;
	o.argv = argv;
	assert_int_equal(ga_spawn_run(&status, &o), GOACCEL_ENOTFOUND);
	assert_non_null(strstr(goaccel_error_last()->message, "goaccel-no-such-program"));
}

static void test_common__rm_rf_removes_read_only_trees(void **state)
{
	char *dir = tu_tempdir("ga-rmrf");
	(void)state;
	tu_write(dir, "mod/pkg@v1/a.go", "package a\n");
	assert_int_equal(tu_sh("chmod -R a-w %s/mod", dir), 0);
	GA_OK(ga_rm_rf(dir));
	assert_false(ga_exists(dir));
	free(dir);
}

static void test_common__strarray_sort_unique(void **state)
{
	goaccel_strarray a = {NULL, 0};
	const char *in[] = {"b", "a", "c", "a", "b", "a/b", "a-b"};
	size_t i;
	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		GA_OK(ga_strarray_add(&a, in[i]));
	ga_strarray_sort_unique(&a);
	assert_int_equal(a.count, 5);
	assert_string_equal(a.strings[0], "a");
	assert_string_equal(a.strings[1], "a-b");
	assert_string_equal(a.strings[2], "a/b");
	assert_true(ga_strarray_contains(&a, "c"));
	assert_false(ga_strarray_contains(&a, "d"));
	goaccel_strarray_dispose(&a);
	assert_null(a.strings);
	goaccel_strarray_dispose(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_common__init_is_reference_counted),
		cmocka_unit_test(test_common__version_matches_headers),
		cmocka_unit_test(test_common__error_last_is_never_null),
		cmocka_unit_test(test_common__error_names_the_path),
		cmocka_unit_test(test_common__bad_argument_returns_not_aborts),
		cmocka_unit_test(test_common__error_is_thread_local),
		cmocka_unit_test(test_common__error_code_names),
		cmocka_unit_test(test_common__spawn_captures_output_and_status),
		cmocka_unit_test(test_common__spawn_cancel_kills_child),
		cmocka_unit_test(test_common__spawn_missing_program),
		cmocka_unit_test(test_common__rm_rf_removes_read_only_trees),
		cmocka_unit_test(test_common__strarray_sort_unique),
	};
	return cmocka_run_group_tests_name("common", tests, tu_group_setup, tu_group_teardown);
}
