/* The run-time loader of SQLite (lib/util/dl_sqlite.h, docs/dependencies.md). */
#define GA_DL_NO_RENAME
#include "goaccel/errors.h"
#include "util/dl_sqlite.h"
#include "util/dl_load.h"

#ifndef GA_LIBSQLITE3_SONAME
#error "GA_LIBSQLITE3_SONAME (the SONAME to dlopen) is set by CMakeLists.txt"
#endif

#define GA_DL_TABLE ga_dl_sqlite
GA_DL_DEFINE_LOADER(ga_dl_sqlite_table, ga_dl_sqlite, GA_DL_SQLITE_FUNCS,
                    GA_LIBSQLITE3_SONAME, GOACCEL_ERROR_SQLITE,
                    ga_sqlite_load, ga_dl_sqlite_loaded)
