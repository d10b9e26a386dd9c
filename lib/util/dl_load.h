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

/* Defines a loader (used once per library, in lib/util/dl_<lib>.c, which first defines
 * GA_DL_TABLE as the name of its table variable): the table variable `table` of type `type`, filled from the X-macro list `funcs` by dlopen() of `soname`, and the two
 * functions `load_fn` (loads once; 0 or GOACCEL_ERROR of class `klass`) and `loaded_fn` (non-zero
 * once loaded, never loads). dlsym() returns an object pointer; POSIX guarantees it converts to
 * the function's type. */
#define GA_DL_NAME_(name) #name,
#define GA_DL_FILL_(name) GA_DL_TABLE.name = (__typeof__(GA_DL_TABLE.name))addrs[i++];
#define GA_DL_DEFINE_LOADER(type, table, funcs, soname, klass, load_fn, loaded_fn)              \
	type table;                                                                            \
	static const char *const ga_dl_names_[] = {funcs(GA_DL_NAME_)};                        \
	static ga_dl_library ga_dl_library_ = {soname, klass, PTHREAD_MUTEX_INITIALIZER, 0};   \
	static void ga_dl_fill_(void *const *addrs)                                            \
	{                                                                                      \
		size_t i = 0;                                                                  \
		funcs(GA_DL_FILL_)                                                              \
	}                                                                                      \
	int load_fn(void)                                                                      \
	{                                                                                      \
		return ga_dl_load(&ga_dl_library_, ga_dl_names_,                               \
		                  sizeof(ga_dl_names_) / sizeof(ga_dl_names_[0]), ga_dl_fill_);  \
	}                                                                                      \
	int loaded_fn(void)                                                                    \
	{                                                                                      \
		return atomic_load_explicit(&ga_dl_library_.loaded, memory_order_acquire);     \
	}

#endif
