/* Shared helpers for the cmocka suites: temporary directories and small file fixtures. */
#ifndef GOACCEL_TESTUTIL_H
#define GOACCEL_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/types.h>

#include "goaccel/goaccel.h"

/* Asserts a libgoaccel call returned 0, printing goaccel_error_last() otherwise. */
#define GA_OK(expr)                                                                             \
	do {                                                                                    \
		int ga__rc = (expr);                                                            \
		if (ga__rc != 0)                                                                \
			fail_msg("%s returned %d: %s", #expr, ga__rc, goaccel_error_last()->message); \
	} while (0)

/* A fresh temporary directory (removed with tu_rmtree). Returns a malloc'd path. */
char *tu_tempdir(const char *prefix);
/* rm -rf, read-only trees included. */
void tu_rmtree(const char *path);
/* Writes a file under dir (creating parents); returns nothing, fails the test on error. */
void tu_write(const char *dir, const char *rel, const char *content);
void tu_write_bytes(const char *dir, const char *rel, const void *data, size_t len);
/* Reads a whole file (malloc'd, NUL-terminated); *len may be NULL. */
char *tu_read(const char *path, size_t *len);
/* "dir/rel" joined; malloc'd. */
char *tu_path(const char *dir, const char *rel);
/* Runs a shell command line (tests may use a shell; the library never does). Returns exit code. */
int tu_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Runs a shell command and returns its stdout (malloc'd, trailing newline stripped). */
char *tu_sh_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Per-test setup/teardown that call goaccel_init/goaccel_shutdown. */
int tu_group_setup(void **state);
int tu_group_teardown(void **state);

#endif
