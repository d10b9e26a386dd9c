/* Internal: setting the thread-local error. Every layer reports failures through these. */
#ifndef GOACCEL_UTIL_ERR_H
#define GOACCEL_UTIL_ERR_H

#include "goaccel/errors.h"

/* Sets the last error to a formatted message and returns code, so callers can write
 * `return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_HASH, "%s: not a directory", path);` */
int ga_error(int code, int klass, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Like ga_error, appending ": strerror(errnum)". The code is chosen from errnum when code is 0:
 * ENOENT/ENOTDIR -> GOACCEL_ENOTFOUND, EEXIST -> GOACCEL_EEXISTS, else GOACCEL_ERROR. */
int ga_error_os(int code, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Appends OpenSSL's queued error text and clears the queue. */
int ga_error_ssl(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Appends libgit2's last error text. */
int ga_error_git(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Out of memory: a static message, no allocation. */
int ga_error_oom(void);

/* Records a code on the current message (when a caller maps one failure to another code). */
int ga_error_recode(int code);

/* Argument checks that set an error and return instead of aborting, in release builds too. */
#define GA_ASSERT_ARG(expr)                                                                    \
	do {                                                                                   \
		if (!(expr))                                                                   \
			return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_INVALID,               \
			                "invalid argument: '%s' failed in %s", #expr, __func__); \
	} while (0)

#define GA_ASSERT_ARG_PTR(expr, retval)                                                        \
	do {                                                                                   \
		if (!(expr)) {                                                                 \
			ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_INVALID,                      \
			         "invalid argument: '%s' failed in %s", #expr, __func__);      \
			return retval;                                                         \
		}                                                                              \
	} while (0)

/* Implements the *_options_init(opts, version) functions: checks the version, then copies the
 * INIT template into the caller's struct. */
#define GA_INIT_STRUCTURE(ptr, version, type, tmpl)                                            \
	do {                                                                                   \
		type ga__t = tmpl;                                                             \
		GA_ASSERT_ARG(ptr);                                                            \
		if ((version) != ga__t.version)                                                \
			return ga_error(GOACCEL_EVERSION, GOACCEL_ERROR_INVALID,               \
			                "%s: unsupported options version %u", #type,          \
			                (unsigned)(version));                                  \
		*(ptr) = ga__t;                                                                \
	} while (0)

/* Checks a caller's options struct version (NULL means defaults and is fine). */
#define GA_CHECK_VERSION(opts, expected, name)                                                 \
	do {                                                                                   \
		if ((opts) && (opts)->version != (expected))                                   \
			return ga_error(GOACCEL_EVERSION, GOACCEL_ERROR_INVALID,               \
			                "%s: unsupported options version %u", name,           \
			                (unsigned)(opts)->version);                            \
	} while (0)

#endif
