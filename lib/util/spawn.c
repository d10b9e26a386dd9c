#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/err.h"
#include "util/fs.h"
#include "util/spawn.h"

extern char **environ;

const char *ga_env_get(const char *const *envp, const char *name)
{
	size_t n = strlen(name);
	const char *const *e = envp ? envp : (const char *const *)environ;
	for (; e && *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

static int is_executable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int ga_spawn_which(char **out, const char *name, const char *const *envp)
{
	const char *path, *p;
	if (strchr(name, '/')) {
		if (!is_executable(name))
			return ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_OS, "%s: not an executable", name);
		return (*out = strdup(name)) ? 0 : ga_error_oom();
	}
	path = ga_env_get(envp, "PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; ) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		ga_buf b = GA_BUF_INIT;
		if (ga_buf_put(&b, len ? p : ".", len ? len : 1) < 0 || ga_buf_putc(&b, '/') < 0 ||
		    ga_buf_puts(&b, name) < 0) {
			ga_buf_dispose(&b);
			return GOACCEL_ERROR;
		}
		if (is_executable(b.ptr)) {
			*out = ga_buf_detach(&b);
			return 0;
		}
		ga_buf_dispose(&b);
		if (!end)
			break;
		p = end + 1;
	}
	return ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_OS, "%s: not found in PATH (%s)", name, path);
}

static int drain(int *fd, int stream, const ga_spawn_opts *opts, int *cancelled)
{
	char buf[16384];
	ssize_t n = read(*fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return 0;
	}
	if (stream == 1 && opts->out && ga_buf_put(opts->out, buf, (size_t)n) < 0)
		return GOACCEL_ERROR;
	if (stream == 2 && opts->err && ga_buf_put(opts->err, buf, (size_t)n) < 0)
		return GOACCEL_ERROR;
	if (opts->output && !*cancelled && opts->output(buf, (size_t)n, stream, opts->payload))
		*cancelled = 1;
	return 0;
}

int ga_spawn_run(int *status, const ga_spawn_opts *opts)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int outp[2] = {-1, -1}, errp[2] = {-1, -1};
	int error = 0, cancelled = 0, rc, wstatus = 0;
	char *exe = NULL;
	pid_t pid = -1;

	GA_ASSERT_ARG(status && opts && opts->argv && opts->argv[0]);
	if ((error = ga_spawn_which(&exe, opts->argv[0], opts->envp)) < 0)
		return error;
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: pipe", exe);
		goto done;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	/* Its own process group, so cancelling also stops the compilers go starts. */
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	if (opts->cwd)
		posix_spawn_file_actions_addchdir_np(&fa, opts->cwd);
	rc = posix_spawn(&pid, exe, &fa, &attr, (char *const *)opts->argv,
	                 (char *const *)(opts->envp ? opts->envp : (const char *const *)environ));
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;
	if (rc != 0) {
		error = ga_error_os(rc == ENOENT ? GOACCEL_ENOTFOUND : GOACCEL_ERROR, rc,
		                    "%s: spawn (cwd %s)", exe, opts->cwd ? opts->cwd : ".");
		pid = -1;
		goto done;
	}
	while (outp[0] >= 0 || errp[0] >= 0) {
		struct pollfd pfd[2] = {{outp[0], POLLIN, 0}, {errp[0], POLLIN, 0}};
		int n = poll(pfd, 2, 100);
		if (n < 0 && errno != EINTR) {
			error = ga_error_os(GOACCEL_ERROR, errno, "poll");
			break;
		}
		if (n > 0 && pfd[0].revents && (error = drain(&outp[0], 1, opts, &cancelled)) < 0)
			break;
		if (n > 0 && pfd[1].revents && (error = drain(&errp[0], 2, opts, &cancelled)) < 0)
			break;
		if (!cancelled && opts->poll && opts->poll(opts->payload))
			cancelled = 1;
		if (cancelled)
			break;
	}
	if (cancelled || error) {
		kill(-pid, SIGTERM);
		kill(pid, SIGTERM);
	}
	while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	if (cancelled) {
		/* The group may still hold compilers that ignored SIGTERM. */
		kill(-pid, SIGKILL);
		error = ga_error(GOACCEL_EUSER, GOACCEL_ERROR_CALLBACK, "%s: cancelled by callback",
		                 opts->argv[0]);
	}
	*status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
done:
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	free(exe);
	return error;
}
