/* .gitignore rules through libgit2, exactly as git applies them: every .gitignore from the
 * repository's top to the path, .git/info/exclude, and (only when asked) the user's global
 * excludes. Paths tracked in the index are never ignored, as in git.
 *
 * Global excludes are switched off without touching libgit2's process-wide settings: the
 * repository gets a configuration made of its own .git/config plus a read-only backend that
 * sets core.excludesFile to /dev/null at the lowest level. libgit2 would otherwise fall back to
 * ~/.config/git/ignore when no configuration names an excludes file. A repository that sets
 * core.excludesFile in its own .git/config still gets it, as with git.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>
#include <git2/sys/config.h>
#include <git2/sys/repository.h>

#include "goaccel/errors.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/hash_internal.h"

struct ga_gitignore {
	git_repository *repo;
	git_index *index;
	char *prefix; /* root relative to the work tree, with a trailing '/', or "" */
	size_t prefixlen;
	pthread_mutex_t lock;
	ga_buf scratch; /* guarded by lock */
};

/* ---- a read-only config backend: core.excludesfile = /dev/null ------------------------------ */

#define EXCLUDES_KEY "core.excludesfile"
#define EXCLUDES_VALUE "/dev/null"

typedef struct {
	git_config_iterator parent;
	int done;
} defaults_iter;

static void entry_free(git_config_entry *e)
{
	free(e);
}

static git_config_entry *make_entry(void)
{
	git_config_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->name = EXCLUDES_KEY;
	e->value = EXCLUDES_VALUE;
	e->level = GIT_CONFIG_LEVEL_PROGRAMDATA;
	e->free = entry_free;
	return e;
}

static int db_open(git_config_backend *b, git_config_level_t level, const git_repository *repo)
{
	(void)b, (void)level, (void)repo;
	return 0;
}

static int db_get(git_config_backend *b, const char *key, git_config_entry **out)
{
	(void)b;
	if (strcmp(key, EXCLUDES_KEY) != 0)
		return GIT_ENOTFOUND;
	if ((*out = make_entry()) == NULL)
		return -1;
	return 0;
}

static int db_readonly(git_config_backend *b, const char *key, const char *value)
{
	(void)b, (void)key, (void)value;
	git_error_set_str(GIT_ERROR_CONFIG, "goaccel: read-only configuration");
	return -1;
}

static int db_readonly_multivar(git_config_backend *b, const char *name, const char *regexp, const char *value)
{
	(void)b, (void)name, (void)regexp, (void)value;
	git_error_set_str(GIT_ERROR_CONFIG, "goaccel: read-only configuration");
	return -1;
}

static int db_del(git_config_backend *b, const char *key)
{
	return db_readonly(b, key, NULL);
}

static int db_del_multivar(git_config_backend *b, const char *key, const char *regexp)
{
	return db_readonly(b, key, regexp);
}

static int iter_next(git_config_entry **out, git_config_iterator *it)
{
	/* libgit2 owns iterator entries: hand out a static one */
	static git_config_entry entry = {EXCLUDES_KEY, EXCLUDES_VALUE, 0, GIT_CONFIG_LEVEL_PROGRAMDATA, NULL, NULL};
	defaults_iter *di = (defaults_iter *)it;
	if (di->done)
		return GIT_ITEROVER;
	di->done = 1;
	*out = &entry;
	return 0;
}

static void iter_free(git_config_iterator *it)
{
	free(it);
}

static int db_iterator(git_config_iterator **out, git_config_backend *b)
{
	defaults_iter *it = calloc(1, sizeof(*it));
	if (!it)
		return -1;
	it->parent.backend = b;
	it->parent.next = iter_next;
	it->parent.free = iter_free;
	*out = &it->parent;
	return 0;
}

static int db_lock(git_config_backend *b)
{
	(void)b;
	return 0;
}

static int db_unlock(git_config_backend *b, int success)
{
	(void)b, (void)success;
	return 0;
}

static void db_free(git_config_backend *b)
{
	free(b);
}

static int defaults_backend_new(git_config_backend **out);

static int db_snapshot(git_config_backend **out, git_config_backend *b)
{
	(void)b;
	return defaults_backend_new(out);
}

static int defaults_backend_new(git_config_backend **out)
{
	git_config_backend *b = calloc(1, sizeof(*b));
	if (!b)
		return -1;
	if (git_config_init_backend(b, GIT_CONFIG_BACKEND_VERSION) < 0) {
		free(b);
		return -1;
	}
	b->readonly = 1;
	b->open = db_open;
	b->get = db_get;
	b->set = db_readonly;
	b->set_multivar = db_readonly_multivar;
	b->del = db_del;
	b->del_multivar = db_del_multivar;
	b->iterator = db_iterator;
	b->snapshot = db_snapshot;
	b->lock = db_lock;
	b->unlock = db_unlock;
	b->free = db_free;
	*out = b;
	return 0;
}

/* The repository's own configuration only, plus the defaults backend. */
static int restrict_config(git_repository *repo)
{
	git_config *cfg = NULL;
	git_config_backend *defaults = NULL;
	char *local = NULL;
	int error;
	if (git_config_new(&cfg) < 0) {
		error = ga_error_git(GOACCEL_ERROR, "gitignore: creating a configuration");
		goto done;
	}
	if ((local = ga_path_join(git_repository_commondir(repo), "config")) == NULL) {
		error = GOACCEL_ERROR;
		goto done;
	}
	if (ga_exists(local) && git_config_add_file_ondisk(cfg, local, GIT_CONFIG_LEVEL_LOCAL, repo, 0) < 0) {
		error = ga_error_git(GOACCEL_ERROR, "gitignore: reading %s", local);
		goto done;
	}
	if (defaults_backend_new(&defaults) < 0) {
		error = ga_error_oom();
		goto done;
	}
	if (git_config_add_backend(cfg, defaults, GIT_CONFIG_LEVEL_PROGRAMDATA, repo, 0) < 0) {
		db_free(defaults);
		error = ga_error_git(GOACCEL_ERROR, "gitignore: configuring the repository");
		goto done;
	}
	git_repository_set_config(repo, cfg);
	error = 0;
done:
	git_config_free(cfg);
	free(local);
	return error;
}

/* ---- opening -------------------------------------------------------------------------------- */

/* root relative to the work tree ("" or "sub/dir/"), or NULL when root is not inside it. */
static int compute_prefix(char **out, const char *workdir, const char *root_real)
{
	char *wd_real = realpath(workdir, NULL);
	size_t wl;
	int error = 0;
	*out = NULL;
	if (!wd_real)
		return ga_error_os(GOACCEL_ERROR, errno, "gitignore: %s: realpath", workdir);
	wl = strlen(wd_real);
	if (strcmp(wd_real, root_real) == 0) {
		*out = strdup("");
	} else if ((wl == 1 && root_real[0] == '/') ||
	           (strncmp(wd_real, root_real, wl) == 0 && root_real[wl] == '/')) {
		const char *rest = root_real + (wl == 1 ? 1 : wl + 1);
		size_t n = strlen(rest);
		if ((*out = malloc(n + 2)) != NULL) {
			memcpy(*out, rest, n);
			(*out)[n] = '/';
			(*out)[n + 1] = '\0';
		}
	} else {
		goto done;
	}
	if (!*out)
		error = ga_error_oom();
done:
	free(wd_real);
	return error;
}

int ga_gitignore_open(ga_gitignore **out, const char *root_real, int global_excludes)
{
	ga_gitignore *gi = NULL;
	git_repository *repo = NULL;
	char *prefix = NULL;
	int rc, error = 0;
	GA_ASSERT_ARG(out);
	GA_ASSERT_ARG(root_real);
	*out = NULL;
	rc = git_repository_open_ext(&repo, root_real, 0, NULL);
	if (rc == GIT_ENOTFOUND)
		goto done;
	if (rc < 0) {
		error = ga_error_git(GOACCEL_ERROR, "gitignore: opening the repository of %s", root_real);
		goto done;
	}
	if (git_repository_is_bare(repo) || !git_repository_workdir(repo))
		goto done;
	if ((error = compute_prefix(&prefix, git_repository_workdir(repo), root_real)) < 0 || !prefix)
		goto done;
	/* Hashing inside .git itself: nothing there is subject to ignore rules. */
	if (strncmp(prefix, ".git/", 5) == 0)
		goto done;
	if (!global_excludes && (error = restrict_config(repo)) < 0)
		goto done;
	if ((gi = calloc(1, sizeof(*gi))) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	pthread_mutex_init(&gi->lock, NULL);
	if (git_repository_index(&gi->index, repo) < 0) {
		error = ga_error_git(GOACCEL_ERROR, "gitignore: reading the index of %s", root_real);
		goto done;
	}
	gi->repo = repo;
	gi->prefix = prefix;
	gi->prefixlen = strlen(prefix);
	repo = NULL;
	prefix = NULL;
	*out = gi;
	gi = NULL;
done:
	ga_gitignore_free(gi);
	git_repository_free(repo);
	free(prefix);
	return error;
}

int ga_gitignore_check(int *ignored, ga_gitignore *gi, const char *relpath, int is_dir)
{
	int error = 0, ign = 0;
	GA_ASSERT_ARG(ignored);
	GA_ASSERT_ARG(gi);
	GA_ASSERT_ARG(relpath);
	*ignored = 0;
	pthread_mutex_lock(&gi->lock);
	ga_buf_clear(&gi->scratch);
	if ((error = ga_buf_put(&gi->scratch, gi->prefix, gi->prefixlen)) < 0 ||
	    (error = ga_buf_puts(&gi->scratch, relpath)) < 0)
		goto done;
	if (git_ignore_path_is_ignored(&ign, gi->repo, gi->scratch.ptr) < 0) {
		error = ga_error_git(GOACCEL_ERROR, "gitignore: checking %s", gi->scratch.ptr);
		goto done;
	}
	if (!ign)
		goto done;
	/* Tracked paths are never ignored; a directory holding tracked files must be walked. */
	if (is_dir) {
		if ((error = ga_buf_putc(&gi->scratch, '/')) < 0)
			goto done;
		if (git_index_find_prefix(NULL, gi->index, gi->scratch.ptr) == 0)
			ign = 0;
	} else if (git_index_get_bypath(gi->index, gi->scratch.ptr, 0) != NULL) {
		ign = 0;
	}
	*ignored = ign;
done:
	pthread_mutex_unlock(&gi->lock);
	return error;
}

void ga_gitignore_free(ga_gitignore *gi)
{
	if (!gi)
		return;
	git_index_free(gi->index);
	git_repository_free(gi->repo);
	free(gi->prefix);
	ga_buf_dispose(&gi->scratch);
	pthread_mutex_destroy(&gi->lock);
	free(gi);
}
