/* Internal: libgit2, loaded at run time with dlopen() on first use (docs/dependencies.md).
 *
 * libgoaccel does not link libgit2: Debian's libgit2 pulls in Kerberos/GSSAPI,
 * mbedTLS, libssh2, http-parser and PCRE2, whose loading and relocation cost every process
 * (every CLI run, every `import goaccel`) a millisecond before main, while only the gitignore
 * option of the hash layer needs libgit2.
 * A file that calls libgit2 includes this header instead of <git2.h>. The
 * header declares a table of correctly typed pointers to exactly the functions libgoaccel uses
 * (the X-macro list below) and redefines each of those names to its table entry, so call sites
 * keep reading like ordinary libgit2 calls. The entry points that can reach libgit2 call
 * ga_git_init() first; a name used but missing from the list stays an undefined symbol of
 * libgoaccel.so, which tests/sh/lazy_deps.sh rejects. */
#ifndef GOACCEL_UTIL_DL_GIT_H
#define GOACCEL_UTIL_DL_GIT_H

#include <git2.h>

/* Every libgit2 function libgoaccel calls, and nothing else. */
#define GA_DL_GIT_FUNCS(X) \
	X(git_buf_dispose) \
	X(git_config_free) \
	X(git_config_get_bool) \
	X(git_config_get_path) \
	X(git_config_open_level) \
	X(git_error_clear) \
	X(git_error_last) \
	X(git_index_find_prefix) \
	X(git_index_free) \
	X(git_index_get_bypath) \
	X(git_libgit2_init) \
	X(git_libgit2_opts) \
	X(git_libgit2_shutdown) \
	X(git_repository_commondir) \
	X(git_repository_config_snapshot) \
	X(git_repository_free) \
	X(git_repository_index) \
	X(git_repository_is_bare) \
	X(git_repository_open_ext) \
	X(git_repository_workdir)

typedef struct {
#define GA_DL_FIELD(name) __typeof__(&name) name;
	GA_DL_GIT_FUNCS(GA_DL_FIELD)
#undef GA_DL_FIELD
} ga_dl_git_table;

/* Filled once by the loader; read only after a successful load (which happens-before the read:
 * the same thread's load call, or ga_dl_git_loaded()). */
extern ga_dl_git_table ga_dl_git;

/* Loads libgit2 (dlopen of the SONAME the build was configured against, then dlsym of every
 * function in the list) unless it is loaded already. Thread-safe; after the first success it is
 * one atomic load. libgit2 stays loaded for the life of the process. A failed load is not
 * remembered: the next call tries again.
 * Returns 0, or GOACCEL_ERROR with an error (class GOACCEL_ERROR_GIT) naming the SONAME and
 * dlerror()'s message. */
int ga_dl_git_load(void);

/* Non-zero when libgit2 is loaded (acquire). Never loads it. */
int ga_dl_git_loaded(void);

#ifndef GA_DL_NO_RENAME
#define git_buf_dispose                (ga_dl_git.git_buf_dispose)
#define git_config_free                (ga_dl_git.git_config_free)
#define git_config_get_bool            (ga_dl_git.git_config_get_bool)
#define git_config_get_path            (ga_dl_git.git_config_get_path)
#define git_config_open_level          (ga_dl_git.git_config_open_level)
#define git_error_clear                (ga_dl_git.git_error_clear)
#define git_error_last                 (ga_dl_git.git_error_last)
#define git_index_find_prefix          (ga_dl_git.git_index_find_prefix)
#define git_index_free                 (ga_dl_git.git_index_free)
#define git_index_get_bypath           (ga_dl_git.git_index_get_bypath)
#define git_libgit2_init               (ga_dl_git.git_libgit2_init)
#define git_libgit2_opts               (ga_dl_git.git_libgit2_opts)
#define git_libgit2_shutdown           (ga_dl_git.git_libgit2_shutdown)
#define git_repository_commondir       (ga_dl_git.git_repository_commondir)
#define git_repository_config_snapshot (ga_dl_git.git_repository_config_snapshot)
#define git_repository_free            (ga_dl_git.git_repository_free)
#define git_repository_index           (ga_dl_git.git_repository_index)
#define git_repository_is_bare         (ga_dl_git.git_repository_is_bare)
#define git_repository_open_ext        (ga_dl_git.git_repository_open_ext)
#define git_repository_workdir         (ga_dl_git.git_repository_workdir)
#endif

#endif
