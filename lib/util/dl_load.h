/* Internal: the shared part of the run-time loaders of lib/util/dl_git.c and dl_archive.c. */
#ifndef GOACCEL_UTIL_DL_LOAD_H
#define GOACCEL_UTIL_DL_LOAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

typedef struct {
	const char *soname;        /* what dlopen() opens, e.g. "libgit2.so.1.5" */
	int klass;                 /* the goaccel_error_class of a failure */
	pthread_mutex_t lock;      /* serialises loading */
	atomic_int loaded;         /* 1 once every symbol is in the table (release/acquire) */
} ga_dl_library;

/* Opens lib->soname (RTLD_NOW | RTLD_LOCAL) and resolves names[0..n) into slots[0..n), under
 * lib->lock, unless lib->loaded is set already. The caller's table is filled by fill(), which
 * receives the resolved addresses in order and copies them into its typed fields, before
 * lib->loaded is published. Returns 0 or GOACCEL_ERROR (error set, the handle closed). */
int ga_dl_load(ga_dl_library *lib, const char *const *names, size_t n,
               void (*fill)(void *const *addrs));

#endif
