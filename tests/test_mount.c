/* mount layer: SHARED / LOCKED / PRIVATE sharing within and across processes, timeouts, a dead
 * holder releasing its lock, last use and size, listing and removal. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "store_fixtures.h"
#include "store_internal.h"
#include "util/fs.h"

static goaccel_mount_options timeout_opts(int64_t ms)
{
	goaccel_mount_options o = GOACCEL_MOUNT_OPTIONS_INIT;
	o.timeout_ms = ms;
	return o;
}

/* A forked child shares its parent's open file descriptions, flock locks included (POSIX
 * semantics, as with Go's own flock-based locks): the children here drop them first, as a
 * child that execs does through O_CLOEXEC. */
static void close_inherited(int keep)
{
	int fd;
	for (fd = 3; fd < 1024; fd++)
		if (fd != keep)
			close(fd);
}

/* Forks a child that acquires id with sharing and then writes one byte to the pipe and waits
 * to be killed. Returns its pid once it holds the mount. */
static pid_t hold_in_child(const char *root, const char *id, goaccel_mount_sharing sharing)
{
	int fds[2];
	pid_t pid;
	char c;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		goaccel_store *s = NULL;
		goaccel_mount *m = NULL;
		close_inherited(fds[1]);
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed test */
		if (goaccel_store_open(&s, root, NULL) < 0 ||
		    goaccel_mount_acquire(&m, s, id, sharing, NULL) < 0)
			_exit(1);
		if (write(fds[1], "x", 1) != 1)
			_exit(2);
		for (;;)
			pause();
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &c, 1), 1);
	close(fds[0]);
	return pid;
}

static void kill_child(pid_t pid)
{
	int st;
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

static void test_mount__shared_holders_coexist(void **state)
{
	tf_store *fx = *state;
	char *dir = fx->dir;
	goaccel_store *s = fx->s;
	goaccel_mount *a = NULL, *b = NULL, *c = NULL;
	goaccel_mount_options o = timeout_opts(100);
	pid_t child;
	GA_OK(goaccel_mount_acquire(&a, s, "gomod", GOACCEL_MOUNT_SHARED, NULL));
	GA_OK(goaccel_mount_acquire(&b, s, "gomod", GOACCEL_MOUNT_SHARED, &o));
	assert_string_equal(goaccel_mount_path(a), goaccel_mount_path(b));
	assert_string_equal(goaccel_mount_id(a), "gomod");
	assert_int_equal(goaccel_mount_instance(a), 0);
	assert_int_equal(goaccel_mount_sharing_of(b), GOACCEL_MOUNT_SHARED);
	assert_true(ga_exists(goaccel_mount_path(a)));
	/* another process shares it too */
	child = hold_in_child(dir, "gomod", GOACCEL_MOUNT_SHARED);
	/* but a LOCKED holder has to wait, and gives up at the timeout */
	assert_int_equal(goaccel_mount_acquire(&c, s, "gomod", GOACCEL_MOUNT_LOCKED, &o), GOACCEL_ELOCKED);
	assert_non_null(strstr(goaccel_error_last()->message, "gomod"));
	assert_null(c);
	GA_OK(goaccel_mount_release(a));
	GA_OK(goaccel_mount_release(b));
	assert_int_equal(goaccel_mount_acquire(&c, s, "gomod", GOACCEL_MOUNT_LOCKED, &o), GOACCEL_ELOCKED);
	kill_child(child);
	GA_OK(goaccel_mount_acquire(&c, s, "gomod", GOACCEL_MOUNT_LOCKED, &o));
	GA_OK(goaccel_mount_release(c));
	GA_OK(goaccel_mount_release(NULL));
}

static void test_mount__locked_excludes_across_processes_and_dies_with_its_holder(void **state)
{
	tf_store *fx = *state;
	char *dir = fx->dir;
	goaccel_store *s = fx->s;
	goaccel_mount *m = NULL;
	goaccel_mount_options o = timeout_opts(150);
	pid_t child;
	int64_t t0;
	child = hold_in_child(dir, "gobuild", GOACCEL_MOUNT_LOCKED);
	t0 = ga_monotonic_ns();
	assert_int_equal(goaccel_mount_acquire(&m, s, "gobuild", GOACCEL_MOUNT_LOCKED, &o), GOACCEL_ELOCKED);
	assert_true(ga_monotonic_ns() - t0 >= 100 * 1000000); /* it did wait */
	assert_int_equal(goaccel_mount_acquire(&m, s, "gobuild", GOACCEL_MOUNT_SHARED, &o), GOACCEL_ELOCKED);
	o.timeout_ms = 0;
	assert_int_equal(goaccel_mount_acquire(&m, s, "gobuild", GOACCEL_MOUNT_LOCKED, &o), GOACCEL_ELOCKED);
	/* kill -9: the kernel drops the flock, the mount is free */
	kill_child(child);
	GA_OK(goaccel_mount_acquire(&m, s, "gobuild", GOACCEL_MOUNT_LOCKED, &o));
	/* two LOCKED acquisitions in one process exclude each other too */
	{
		goaccel_mount *m2 = NULL;
		assert_int_equal(goaccel_mount_acquire(&m2, s, "gobuild", GOACCEL_MOUNT_LOCKED, &o),
		                 GOACCEL_ELOCKED);
	}
	GA_OK(goaccel_mount_release(m));
}

/* A waiter blocked on a LOCKED mount gets it when the holder releases, within its timeout. */
static void test_mount__waiter_gets_the_lock_on_release(void **state)
{
	tf_store *fx = *state;
	char *dir = fx->dir;
	goaccel_store *s = fx->s;
	goaccel_mount *m = NULL;
	goaccel_mount_options o = timeout_opts(5000);
	pid_t child;
	int st;
	GA_OK(goaccel_mount_acquire(&m, s, "x", GOACCEL_MOUNT_LOCKED, NULL));
	child = fork();
	if (child == 0) {
		goaccel_store *cs = NULL;
		goaccel_mount *cm = NULL;
		close_inherited(-1);
		if (goaccel_store_open(&cs, dir, NULL) < 0)
			_exit(1);
		_exit(goaccel_mount_acquire(&cm, cs, "x", GOACCEL_MOUNT_LOCKED, &o) == 0 ? 0 : 3);
	}
	{
		struct timespec ts = {0, 200 * 1000000};
		nanosleep(&ts, NULL);
	}
	GA_OK(goaccel_mount_release(m));
	waitpid(child, &st, 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* A waiter whose mount is removed while it waits starts over on a fresh instance rather than
 * sharing the removed lock file. */
static void test_mount__removed_while_waiting(void **state)
{
	tf_store *fx = *state;
	char *dir = fx->dir;
	goaccel_store *s = fx->s;
	int fd, st;
	goaccel_mount_options o = timeout_opts(5000);
	pid_t child;
	GA_OK(ga_mount_lock(&fd, s, "gone", 0, 1, 0, 1));
	tu_write(dir, "mounts/gone/0/data/old-file", "old");
	child = fork();
	if (child == 0) {
		goaccel_store *cs = NULL;
		goaccel_mount *cm = NULL;
		char p[4096];
		close_inherited(-1);
		if (goaccel_store_open(&cs, dir, NULL) < 0)
			_exit(1);
		if (goaccel_mount_acquire(&cm, cs, "gone", GOACCEL_MOUNT_LOCKED, &o) < 0)
			_exit(2);
		snprintf(p, sizeof(p), "%s/old-file", goaccel_mount_path(cm));
		_exit(ga_exists(p) ? 3 : 0);
	}
	{
		struct timespec ts = {0, 200 * 1000000};
		nanosleep(&ts, NULL);
	}
	GA_OK(ga_mount_remove_locked(s, "gone", 0, fd));
	waitpid(child, &st, 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_mount__private_gets_its_own_instance(void **state)
{
	tf_store *fx = *state;
	char *dir = fx->dir;
	goaccel_store *s = fx->s;
	goaccel_mount *a = NULL, *b = NULL, *c = NULL, *d = NULL;
	goaccel_mount_list *l;
	pid_t child;
	GA_OK(goaccel_mount_acquire(&a, s, "cache", GOACCEL_MOUNT_PRIVATE, NULL));
	assert_int_equal(goaccel_mount_instance(a), 0); /* the main instance when idle */
	GA_OK(goaccel_mount_acquire(&b, s, "cache", GOACCEL_MOUNT_PRIVATE, NULL));
	assert_int_equal(goaccel_mount_instance(b), 1);
	assert_string_not_equal(goaccel_mount_path(a), goaccel_mount_path(b));
	tu_write(goaccel_mount_path(b), "mine", "b's");
	child = hold_in_child(dir, "cache", GOACCEL_MOUNT_PRIVATE); /* takes instance 2 */
	GA_OK(goaccel_mount_release(b));
	/* an idle extra instance is reused, with its content */
	GA_OK(goaccel_mount_acquire(&c, s, "cache", GOACCEL_MOUNT_PRIVATE, NULL));
	assert_int_equal(goaccel_mount_instance(c), 1);
	{
		char *p = tu_path(goaccel_mount_path(c), "mine");
		assert_true(ga_exists(p));
		free(p);
	}
	GA_OK(goaccel_mount_acquire(&d, s, "cache", GOACCEL_MOUNT_PRIVATE, NULL));
	assert_int_equal(goaccel_mount_instance(d), 3);
	GA_OK(goaccel_mount_list_get(&l, s, 1));
	assert_int_equal(goaccel_mount_list_count(l), 4);
	assert_int_equal(goaccel_mount_list_byindex(l, 1)->instance, 1);
	assert_int_equal(goaccel_mount_list_byindex(l, 1)->bytes, 3);
	assert_int_equal(goaccel_mount_list_byindex(l, 1)->files, 1);
	assert_int_equal(goaccel_mount_list_byindex(l, 2)->in_use, 1); /* the child's */
	assert_null(goaccel_mount_list_byindex(l, 4));
	goaccel_mount_list_free(l);
	kill_child(child);
	GA_OK(goaccel_mount_release(a));
	GA_OK(goaccel_mount_release(c));
	GA_OK(goaccel_mount_release(d));
}

static void test_mount__last_use_and_size(void **state)
{
	tf_store *fx = *state;
	goaccel_store *s = fx->s;
	goaccel_mount *m = NULL;
	goaccel_mount_list *l;
	const goaccel_mount_info *mi;
	int64_t before;
	char *lock;
	struct timespec ts[2] = {{1000000000, 0}, {1000000000, 0}};
	GA_OK(goaccel_mount_acquire(&m, s, "gomod", GOACCEL_MOUNT_SHARED, NULL));
	tu_write(goaccel_mount_path(m), "a/b/c.txt", "12345");
	tu_write(goaccel_mount_path(m), "d.txt", "123");
	GA_OK(goaccel_mount_release(m));
	lock = ga_store_sub(s, "mounts/gomod/0/lock");
	assert_int_equal(utimensat(AT_FDCWD, lock, ts, 0), 0);
	GA_OK(goaccel_mount_list_get(&l, s, 1));
	mi = goaccel_mount_list_byindex(l, 0);
	assert_string_equal(mi->id, "gomod");
	assert_int_equal(mi->bytes, 8);
	assert_int_equal(mi->files, 4); /* a, a/b, a/b/c.txt, d.txt */
	assert_int_equal(mi->last_used_ns, INT64_C(1000000000) * 1000000000);
	assert_int_equal(mi->in_use, 0);
	goaccel_mount_list_free(l);
	before = ga_now_ns() - 1000000000;
	GA_OK(goaccel_mount_acquire(&m, s, "gomod", GOACCEL_MOUNT_SHARED, NULL));
	GA_OK(goaccel_mount_release(m));
	GA_OK(goaccel_mount_list_get(&l, s, 0));
	assert_true(goaccel_mount_list_byindex(l, 0)->last_used_ns >= before);
	assert_int_equal(goaccel_mount_list_byindex(l, 0)->bytes, 0); /* not measured */
	goaccel_mount_list_free(l);
	free(lock);
}

static void test_mount__remove_readonly_and_busy(void **state)
{
	tf_store *fx = *state;
	char *dir = fx->dir;
	goaccel_store *s = fx->s;
	goaccel_mount *m = NULL;
	char *data;
	pid_t child;
	GA_OK(goaccel_mount_acquire(&m, s, "gomod", GOACCEL_MOUNT_LOCKED, NULL));
	data = strdup(goaccel_mount_path(m));
	tu_write(data, "golang.org/x/mod@v0.1.0/go.mod", "module golang.org/x/mod\n");
	assert_int_equal(tu_sh("chmod -R a-w '%s/golang.org'", data), 0);
	GA_OK(goaccel_mount_release(m));
	child = hold_in_child(dir, "gomod", GOACCEL_MOUNT_SHARED);
	assert_int_equal(goaccel_mount_remove(s, "gomod", 50), GOACCEL_ELOCKED);
	assert_true(ga_exists(data));
	kill_child(child);
	GA_OK(goaccel_mount_remove(s, "gomod", 50));
	assert_false(ga_exists(data));
	assert_int_equal(goaccel_mount_remove(s, "gomod", 50), GOACCEL_ENOTFOUND);
	free(data);
}

static void test_mount__bad_arguments(void **state)
{
	tf_store *fx = *state;
	goaccel_store *s = fx->s;
	goaccel_mount *m = NULL;
	goaccel_mount_options o = GOACCEL_MOUNT_OPTIONS_INIT;
	const char *bad[] = {"", ".hidden", "a/b", "..", "with space", NULL};
	size_t i;
	for (i = 0; bad[i]; i++)
		assert_int_equal(goaccel_mount_acquire(&m, s, bad[i], GOACCEL_MOUNT_SHARED, NULL),
		                 GOACCEL_EINVALID);
	assert_int_equal(goaccel_mount_acquire(&m, s, NULL, GOACCEL_MOUNT_SHARED, NULL), GOACCEL_EINVALID);
	assert_int_equal(goaccel_mount_acquire(&m, s, "ok", (goaccel_mount_sharing)7, NULL), GOACCEL_EINVALID);
	o.version = 42;
	assert_int_equal(goaccel_mount_acquire(&m, s, "ok", GOACCEL_MOUNT_SHARED, &o), GOACCEL_EVERSION);
	assert_int_equal(goaccel_mount_options_init(&o, 42), GOACCEL_EVERSION);
	GA_OK(goaccel_mount_options_init(&o, GOACCEL_MOUNT_OPTIONS_VERSION));
	assert_int_equal(o.timeout_ms, 600000);
	assert_null(goaccel_mount_path(NULL));
	goaccel_mount_list_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mount__shared_holders_coexist, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_mount__locked_excludes_across_processes_and_dies_with_its_holder, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_mount__waiter_gets_the_lock_on_release, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_mount__removed_while_waiting, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_mount__private_gets_its_own_instance, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_mount__last_use_and_size, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_mount__remove_readonly_and_busy, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_mount__bad_arguments, tf_setup, tf_teardown),
	};
	return cmocka_run_group_tests(tests, tu_group_setup, tu_group_teardown);
}
