/* The run-time loader of libgit2 (lib/util/dl_git.h, docs/dependencies.md). */
#define GA_DL_NO_RENAME
#include "goaccel/errors.h"
#include "util/dl_git.h"
#include "util/dl_load.h"

#ifndef GA_LIBGIT2_SONAME
#error "GA_LIBGIT2_SONAME (the SONAME to dlopen) is set by CMakeLists.txt"
#endif

#define GA_DL_TABLE ga_dl_git
GA_DL_DEFINE_LOADER(ga_dl_git_table, ga_dl_git, GA_DL_GIT_FUNCS,
                    GA_LIBGIT2_SONAME, GOACCEL_ERROR_GIT,
                    ga_dl_git_load, ga_dl_git_loaded)
