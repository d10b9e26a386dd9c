/* The run-time loader of libarchive (lib/util/dl_archive.h, docs/dependencies.md). */
#define GA_DL_NO_RENAME
#include "goaccel/errors.h"
#include "util/dl_archive.h"
#include "util/dl_load.h"

#ifndef GA_LIBARCHIVE_SONAME
#error "GA_LIBARCHIVE_SONAME (the SONAME to dlopen) is set by CMakeLists.txt"
#endif

#define GA_DL_TABLE ga_dl_archive
GA_DL_DEFINE_LOADER(ga_dl_archive_table, ga_dl_archive, GA_DL_ARCHIVE_FUNCS,
                    GA_LIBARCHIVE_SONAME, GOACCEL_ERROR_ARCHIVE,
                    ga_archive_load, ga_dl_archive_loaded)
