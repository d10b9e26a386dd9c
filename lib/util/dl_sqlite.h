/* Internal: SQLite, loaded at run time with dlopen() on first use (docs/dependencies.md).
 *
 * Only the persistent statistics (lib/store_stats.c) use SQLite, and a process that never opens
 * a store's statistics (hashing, gomod, key, image writing) should not pay for mapping and
 * relocating it: about 0.2 ms of CPU per process, a quarter of a warm no-change `goaccel hash`.
 * Same scheme as lib/util/dl_archive.h: a file that calls SQLite includes this header instead of
 * <sqlite3.h>, the names below are redefined to entries of a table of typed pointers, and the
 * code that can reach SQLite (db_get() in store_stats.c) calls ga_sqlite_load() first. */
#ifndef GOACCEL_UTIL_DL_SQLITE_H
#define GOACCEL_UTIL_DL_SQLITE_H

#include <sqlite3.h>

/* Every SQLite function libgoaccel calls, and nothing else. */
#define GA_DL_SQLITE_FUNCS(X) \
	X(sqlite3_bind_blob) \
	X(sqlite3_bind_int64) \
	X(sqlite3_bind_text) \
	X(sqlite3_busy_timeout) \
	X(sqlite3_close_v2) \
	X(sqlite3_column_double) \
	X(sqlite3_column_int64) \
	X(sqlite3_column_text) \
	X(sqlite3_errmsg) \
	X(sqlite3_exec) \
	X(sqlite3_finalize) \
	X(sqlite3_open_v2) \
	X(sqlite3_prepare_v2) \
	X(sqlite3_step)

typedef struct {
#define GA_DL_FIELD(name) __typeof__(&name) name;
	GA_DL_SQLITE_FUNCS(GA_DL_FIELD)
#undef GA_DL_FIELD
} ga_dl_sqlite_table;

/* Filled once by the loader; read only after a successful load. */
extern ga_dl_sqlite_table ga_dl_sqlite;

/* Loads SQLite (dlopen of the SONAME the build was configured against, then dlsym of every
 * function in the list) unless it is loaded already. Thread-safe; one atomic load after the
 * first success; SQLite stays loaded for the life of the process; a failed load is not
 * remembered. Returns 0, or GOACCEL_ERROR (class GOACCEL_ERROR_SQLITE) naming the SONAME and
 * dlerror()'s message. */
int ga_sqlite_load(void);

/* Non-zero when SQLite is loaded (acquire). Never loads it. */
int ga_dl_sqlite_loaded(void);

#ifndef GA_DL_NO_RENAME
#define sqlite3_bind_blob     (ga_dl_sqlite.sqlite3_bind_blob)
#define sqlite3_bind_int64    (ga_dl_sqlite.sqlite3_bind_int64)
#define sqlite3_bind_text     (ga_dl_sqlite.sqlite3_bind_text)
#define sqlite3_busy_timeout  (ga_dl_sqlite.sqlite3_busy_timeout)
#define sqlite3_close_v2      (ga_dl_sqlite.sqlite3_close_v2)
#define sqlite3_column_double (ga_dl_sqlite.sqlite3_column_double)
#define sqlite3_column_int64  (ga_dl_sqlite.sqlite3_column_int64)
#define sqlite3_column_text   (ga_dl_sqlite.sqlite3_column_text)
#define sqlite3_errmsg        (ga_dl_sqlite.sqlite3_errmsg)
#define sqlite3_exec          (ga_dl_sqlite.sqlite3_exec)
#define sqlite3_finalize      (ga_dl_sqlite.sqlite3_finalize)
#define sqlite3_open_v2       (ga_dl_sqlite.sqlite3_open_v2)
#define sqlite3_prepare_v2    (ga_dl_sqlite.sqlite3_prepare_v2)
#define sqlite3_step          (ga_dl_sqlite.sqlite3_step)
#endif

#endif
