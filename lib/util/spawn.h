/* Internal: running child processes (go, cc) with posix_spawn and an explicit argv/envp — never
 * a shell. */
#ifndef GOACCEL_UTIL_SPAWN_H
#define GOACCEL_UTIL_SPAWN_H

#include <stddef.h>

#include "util/buf.h"

/* Receives output as it arrives; stream is 1 (stdout) or 2 (stderr). A non-zero return cancels:
 * the child's process group is killed and ga_spawn_run returns GOACCEL_EUSER. */
typedef int (*ga_spawn_output_cb)(const char *data, size_t len, int stream, void *payload);

typedef struct {
	const char *const *argv; /* argv[0] is looked up in envp's PATH unless it contains '/' */
	const char *const *envp; /* NULL: the caller's environment */
	const char *cwd;         /* NULL: the caller's working directory */
	ga_spawn_output_cb output;
	void *payload;
	ga_buf *out; /* if set, stdout is collected here */
	ga_buf *err; /* if set, stderr is collected here */
	/* Called about every 100 ms while the child runs; non-zero cancels like output's. */
	int (*poll)(void *payload);
} ga_spawn_opts;

/* Runs the child to completion. *status receives the exit code, or 128+signal if it was killed.
 * Returns 0 when the child ran (whatever its exit code), GOACCEL_ENOTFOUND when argv[0] cannot
 * be found, GOACCEL_EUSER when a callback cancelled, GOACCEL_ERROR otherwise. */
int ga_spawn_run(int *status, const ga_spawn_opts *opts);

/* Finds an executable in the PATH of envp (or of the environment when envp is NULL).
 * *out is a new string (free it). GOACCEL_ENOTFOUND when absent. */
int ga_spawn_which(char **out, const char *name, const char *const *envp);

/* Looks a variable up in an envp array (NULL: the environment). Borrowed; NULL if absent. */
const char *ga_env_get(const char *const *envp, const char *name);

#endif
