/*
 * libgoaccel — common definitions: export macros, library initialisation.
 *
 * Every program that uses libgoaccel calls goaccel_init() once before any other function and
 * goaccel_shutdown() when it is done. The calls are reference counted, so a library that embeds
 * libgoaccel and the program that embeds that library may both call them.
 */
#ifndef INCLUDE_goaccel_common_h__
#define INCLUDE_goaccel_common_h__

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define GOACCEL_BEGIN_DECL extern "C" {
#define GOACCEL_END_DECL }
#else
#define GOACCEL_BEGIN_DECL
#define GOACCEL_END_DECL
#endif

/** Declares a public function: `GOACCEL_EXTERN(int) goaccel_x(void);`. The only exported names. */
#if defined(__GNUC__) || defined(__clang__)
#define GOACCEL_EXTERN(type) extern __attribute__((visibility("default"))) type
#else
#define GOACCEL_EXTERN(type) extern type
#endif

/** Marks a public function that will be removed in a later minor version. */
#if defined(__GNUC__) || defined(__clang__)
#define GOACCEL_DEPRECATED(msg) __attribute__((deprecated(msg)))
#else
#define GOACCEL_DEPRECATED(msg)
#endif

GOACCEL_BEGIN_DECL

/**
 * Initialises the library.
 *
 * Reference counted: each successful call must be matched by one goaccel_shutdown().
 * Thread-safe. Cheap: libgit2, which only the hash layer's .gitignore option uses, is initialised
 * on its first use (once per process, thread-safe), not here, so a process that never reads a
 * repository does not pay for it; a failure to initialise it is reported by the call that needed
 * it (GOACCEL_ERROR, class GOACCEL_ERROR_GIT).
 *
 * @return the number of initialisations now in force (>= 1). (The return type keeps room for a
 *         negative GOACCEL_E* code, which the current version never returns.)
 */
GOACCEL_EXTERN(int) goaccel_init(void);

/**
 * Drops one reference taken by goaccel_init(); the last one releases global state (libgit2, if
 * a call had initialised it; a later goaccel_init() and use initialise it again).
 * Thread-safe. Calling it more often than goaccel_init() is harmless.
 *
 * @return the number of initialisations still in force (0 when the library is shut down).
 */
GOACCEL_EXTERN(int) goaccel_shutdown(void);

/**
 * Frees memory that the library returned to the caller as a plain allocation (strings, arrays
 * documented as "free with goaccel_free()"). NULL is a no-op. Thread-safe.
 */
GOACCEL_EXTERN(void) goaccel_free(void *ptr);

/**
 * A list of strings returned by the library (paths, module names). The caller owns it and
 * releases the strings with goaccel_strarray_dispose(); the struct itself is usually on the
 * caller's stack.
 */
typedef struct {
	char **strings;
	size_t count;
} goaccel_strarray;

/** Frees the strings of an array and zeroes it. NULL and an empty array are no-ops. */
GOACCEL_EXTERN(void) goaccel_strarray_dispose(goaccel_strarray *array);

GOACCEL_END_DECL

#endif
