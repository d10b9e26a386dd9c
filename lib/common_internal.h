/* Internal: library-wide state owned by lib/common.c. */
#ifndef GOACCEL_COMMON_INTERNAL_H
#define GOACCEL_COMMON_INTERNAL_H

/* Initialises libgit2 on first use. goaccel_init() does not: libgit2's initialisation costs
 * milliseconds of CPU (its TLS backend loads the system CA bundle), which a process that never
 * touches a repository should not pay. Every function that calls libgit2 calls this first.
 * Thread-safe; cheap after the first call (one atomic load). libgit2 stays initialised until the
 * last goaccel_shutdown(), which releases it; a later call initialises it again.
 * libgit2 itself is loaded here with dlopen() (lib/util/dl_git.h), so this also guards every
 * libgit2 call: nothing may call libgit2 before it succeeded.
 * Returns 0, or GOACCEL_ERROR (with the error set) if libgit2 could not be loaded (the message
 * names the SONAME and dlerror()'s) or failed to initialise. */
int ga_git_init(void);

#endif
