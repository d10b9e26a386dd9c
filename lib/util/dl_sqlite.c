/* The run-time loader of SQLite (lib/util/dl_sqlite.h, docs/dependencies.md). */
#define GA_DL_NO_RENAME
#include "goaccel/errors.h"
#include "util/dl_sqlite.h"
#include "util/dl_load.h"

#ifndef GA_LIBSQLITE3_SONAME
#error "GA_LIBSQLITE3_SONAME (the SONAME to dlopen) is set by CMakeLists.txt"
#endif

ga_dl_sqlite_table ga_dl_sqlite;

static const char *const names[] = {
#define GA_DL_NAME(name) #name,
	GA_DL_SQLITE_FUNCS(GA_DL_NAME)
#undef GA_DL_NAME
};

static ga_dl_library library = {GA_LIBSQLITE3_SONAME, GOACCEL_ERROR_SQLITE, PTHREAD_MUTEX_INITIALIZER, 0};

/* dlsym() returns an object pointer; POSIX guarantees it converts to the function's type. */
static void fill(void *const *addrs)
{
	size_t i = 0;
#define GA_DL_FILL(name) ga_dl_sqlite.name = (__typeof__(ga_dl_sqlite.name))addrs[i++];
	GA_DL_SQLITE_FUNCS(GA_DL_FILL)
#undef GA_DL_FILL
}

int ga_sqlite_load(void)
{
	return ga_dl_load(&library, names, sizeof(names) / sizeof(names[0]), fill);
}

int ga_dl_sqlite_loaded(void)
{
	return atomic_load_explicit(&library.loaded, memory_order_acquire);
}
