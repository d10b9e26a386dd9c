/* gomod layer: which go.work is in effect and which directories feed a build — the go command's
 * own resolution (cmd/go/internal/modload: FindGoWork, findModuleRoot, replacements of the main
 * modules). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gomod_internal.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/spawn.h"
#include "util/strarray.h"

static int is_regular(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *ga_gomod_goenv_file(const char *const *envp)
{
	const char *goenv = ga_env_get(envp, "GOENV"), *xdg, *home;
	ga_buf b = GA_BUF_INIT;
	if (goenv && goenv[0])
		return strcmp(goenv, "off") == 0 ? NULL : strdup(goenv);
	if ((xdg = ga_env_get(envp, "XDG_CONFIG_HOME")) && xdg[0] == '/')
		ga_buf_printf(&b, "%s/go/env", xdg);
	else if ((home = ga_env_get(envp, "HOME")) && home[0])
		ga_buf_printf(&b, "%s/.config/go/env", home);
	else
		return NULL;
	return ga_buf_detach(&b);
}

/* A variable as the go command sees it: the environment first, then the go env file. *out is
 * NULL when unset. Caller frees. */
int ga_gomod_getenv(char **out, const char *const *envp, const char *name)
{
	const char *v = ga_env_get(envp, name);
	char *file = NULL, *line, *next;
	ga_buf data = GA_BUF_INIT;
	size_t n = strlen(name);
	*out = NULL;
	if (v)
		return (*out = strdup(v)) ? 0 : ga_error_oom();
	if (!(file = ga_gomod_goenv_file(envp)) || ga_read_file(&data, file, 1 << 20) < 0) {
		goaccel_error_clear();
		goto done;
	}
	for (line = data.ptr; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strncmp(line, name, n) == 0 && line[n] == '=') {
			free(*out);
			if (!(*out = strdup(line + n + 1)))
				return ga_error_oom();
		}
	}
done:
	free(file);
	ga_buf_dispose(&data);
	return 0;
}

int goaccel_gomod_find_work(char **out, const char *module_dir, const char *const *envp)
{
	char *gowork = NULL, *dir = NULL;
	int rc;
	GA_ASSERT_ARG(out);
	*out = NULL;
	if ((rc = ga_gomod_getenv(&gowork, envp, "GOWORK")) < 0)
		return rc;
	if (gowork && strcmp(gowork, "off") == 0) {
		rc = ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_GOMOD, "GOWORK=off: no go.work in use");
		goto done;
	}
	if (gowork && gowork[0]) {
		if (gowork[0] != '/') {
			rc = ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_GOMOD, "invalid GOWORK: not an absolute path: %s", gowork);
			goto done;
		}
		*out = ga_gomod_abs_clean(NULL, gowork);
		rc = *out ? 0 : GOACCEL_ERROR;
		goto done;
	}
	if (!(dir = ga_gomod_abs_clean(NULL, module_dir ? module_dir : "."))) {
		rc = GOACCEL_ERROR;
		goto done;
	}
	for (;;) {
		char *f = ga_path_join(strcmp(dir, "/") == 0 ? "" : dir, "go.work");
		char *slash;
		if (!f) {
			rc = GOACCEL_ERROR;
			goto done;
		}
		if (is_regular(f)) {
			*out = f;
			rc = 0;
			goto done;
		}
		free(f);
		if (strcmp(dir, "/") == 0)
			break;
		slash = strrchr(dir, '/');
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	rc = ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_GOMOD, "no go.work in %s or any parent", module_dir ? module_dir : ".");
done:
	free(gowork);
	free(dir);
	return rc;
}

/* The nearest directory at or above dir holding a go.mod file (modload.findModuleRoot). */
static int find_module_root(char **out, const char *dir)
{
	char *d = ga_gomod_abs_clean(NULL, dir);
	*out = NULL;
	if (!d)
		return GOACCEL_ERROR;
	for (;;) {
		char *f = ga_path_join(strcmp(d, "/") == 0 ? "" : d, "go.mod"), *slash;
		int found;
		if (!f) {
			free(d);
			return GOACCEL_ERROR;
		}
		found = is_regular(f);
		free(f);
		if (found) {
			*out = d;
			return 0;
		}
		if (strcmp(d, "/") == 0)
			break;
		slash = strrchr(d, '/');
		if (slash == d)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	free(d);
	return GOACCEL_ENOTFOUND;
}

/* Adds base/rel (or rel when absolute) after realpath(3); a missing directory is left out. */
static int add_root(goaccel_strarray *roots, const char *base, const char *rel)
{
	char *joined = ga_gomod_abs_clean(base, rel), real[PATH_MAX];
	int rc = 0;
	if (!joined)
		return GOACCEL_ERROR;
	if (realpath(joined, real) && is_dir(real))
		rc = ga_strarray_add(roots, real);
	free(joined);
	return rc;
}

static char *dir_of(const char *file)
{
	char *d = strdup(file), *slash;
	if (!d)
		return NULL;
	slash = strrchr(d, '/');
	if (slash == d)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	return d;
}

/* The local directory replacements of the go.mod in moddir (relative to moddir). */
static int add_replacements(goaccel_strarray *roots, const char *moddir)
{
	goaccel_gomod *m = NULL;
	char *path = ga_path_join(moddir, "go.mod");
	size_t i;
	int rc;
	if (!path)
		return GOACCEL_ERROR;
	if ((rc = goaccel_gomod_parse_file(&m, path)) == GOACCEL_ENOTFOUND) {
		/* a `use` directory without go.mod: Go reports it; nothing to follow here */
		goaccel_error_clear();
		rc = 0;
		goto done;
	}
	if (rc < 0)
		goto done;
	for (i = 0; i < goaccel_gomod_replace_count(m); i++) {
		const goaccel_gomod_replace *r = goaccel_gomod_replace_byindex(m, i);
		if (r->is_dir && (rc = add_root(roots, moddir, r->new_path)) < 0)
			goto done;
	}
done:
	goaccel_gomod_free(m);
	free(path);
	return rc;
}

static int add_workspace(goaccel_strarray *roots, const char *workfile)
{
	goaccel_gowork *w = NULL;
	goaccel_strarray uses = {NULL, 0};
	char *wdir = dir_of(workfile);
	size_t i;
	int rc;
	if (!wdir)
		return ga_error_oom();
	if ((rc = goaccel_gowork_parse_file(&w, workfile)) < 0 || (rc = add_root(roots, NULL, wdir)) < 0)
		goto done;
	for (i = 0; i < goaccel_gowork_use_count(w); i++)
		if ((rc = add_root(&uses, wdir, goaccel_gowork_use_byindex(w, i))) < 0)
			goto done;
	/* each workspace module is a main module: its own replacements apply (not theirs in turn) */
	for (i = 0; i < uses.count; i++)
		if ((rc = ga_strarray_add(roots, uses.strings[i])) < 0 || (rc = add_replacements(roots, uses.strings[i])) < 0)
			goto done;
	for (i = 0; i < goaccel_gowork_replace_count(w); i++) {
		const goaccel_gomod_replace *r = goaccel_gowork_replace_byindex(w, i);
		if (r->is_dir && (rc = add_root(roots, wdir, r->new_path)) < 0)
			goto done;
	}
done:
	goaccel_strarray_dispose(&uses);
	goaccel_gowork_free(w);
	free(wdir);
	return rc;
}

int goaccel_gomod_input_roots(goaccel_strarray *out, const char *module_dir, const char *const *envp)
{
	goaccel_strarray roots = {NULL, 0};
	char *modroot = NULL, *workfile = NULL, *main_real = NULL, real[PATH_MAX];
	size_t i;
	int rc;
	GA_ASSERT_ARG(out && module_dir);
	memset(out, 0, sizeof(*out));
	if ((rc = find_module_root(&modroot, module_dir)) < 0 && rc != GOACCEL_ENOTFOUND)
		goto done;
	if ((rc = goaccel_gomod_find_work(&workfile, module_dir, envp)) < 0 && rc != GOACCEL_ENOTFOUND)
		goto done;
	goaccel_error_clear();
	if (!modroot && !workfile) {
		rc = ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_GOMOD, "%s: no go.mod in it or any parent directory "
		              "(and no go.work)", module_dir);
		goto done;
	}
	if (modroot) {
		if (!realpath(modroot, real)) {
			rc = ga_error_os(0, errno, "%s", modroot);
			goto done;
		}
		if ((rc = ga_strarray_add(&roots, real)) < 0 || (rc = add_replacements(&roots, real)) < 0)
			goto done;
	}
	if (workfile && (rc = add_workspace(&roots, workfile)) < 0)
		goto done;
	if (roots.count == 0) {
		rc = ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_GOMOD, "%s: the go.work directory does not exist", workfile);
		goto done;
	}
	/* the main module first, the rest in bytewise order, each once */
	if (!(main_real = strdup(roots.strings[0]))) {
		rc = ga_error_oom();
		goto done;
	}
	ga_strarray_sort_unique(&roots);
	if ((rc = ga_strarray_add(out, main_real)) < 0)
		goto done;
	for (i = 0; i < roots.count; i++)
		if (strcmp(roots.strings[i], main_real) != 0 && (rc = ga_strarray_add(out, roots.strings[i])) < 0)
			goto done;
	rc = 0;
done:
	if (rc < 0)
		goaccel_strarray_dispose(out);
	goaccel_strarray_dispose(&roots);
	free(modroot);
	free(workfile);
	free(main_real);
	return rc;
}
