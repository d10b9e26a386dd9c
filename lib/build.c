/* The Go build pipeline (goaccel/build.h): toolchain -> deps -> build -> extract.
 *
 * The keys are computed first (toolchain identity, go.mod/go.sum, the build inputs), then each
 * step is looked up; only the steps that miss start a go process. The deps step's download is
 * deferred until the build step is known to miss: a build whose outputs are in the store needs
 * no module cache at all (a fresh machine with an imported store). docs/build.md has the details. */
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/file.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build_internal.h"
#include "goaccel/extract.h"
#include "goaccel/gomod.h"
#include "goaccel/image.h"
#include "goaccel/mount.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/spawn.h"
#include "util/strarray.h"

extern char **environ;

#define DEPS_KIND "go-mod-download"
#define BUILD_KIND "go-build"
#define GOMOD_MOUNT "gomod"
#define GOCACHE_MOUNT "gobuild"
#define STATE_MOUNT "goaccel-state"
#define LOG_MAX (256u * 1024u) /* go output kept for an error message */
/* File times come from a coarse clock (a few ms behind): a binary go writes in this build is
 * still newer than its start minus this. */
#define WORK_MTIME_SLACK 20000000LL
#define WORK_DIR "work"
#define WORK_MAX_AGE_S (7 * 86400) /* an unused stable work dir is emptied after this */

/* Toolchain fields that are settings of the build rather than properties of the toolchain:
 * named env:<NAME> in the build key, so explanations call them flags. */
static const char *const setting_fields[] = {"CGO_ENABLED", "GOARCH", "GOFLAGS", "GOOS"};

/* Environment variables that decide where `go mod download` fetches from and what it checks. */
static const char *const deps_env[] = {"GOAUTH", "GOFLAGS", "GOINSECURE", "GONOPROXY",
                                       "GONOSUMDB", "GOPRIVATE", "GOPROXY", "GOSUMDB", "GOVCS"};

typedef struct {
	const goaccel_build_options *o;
	goaccel_build_result *res;
	char *dir;                    /* realpath of the module directory (where go runs) */
	goaccel_strarray roots;       /* input roots; [0] is the main module */
	ga_build_root_manifest *mans; /* per root: relative name and manifest */
	char *target;
	goaccel_store *store;
	goaccel_mount *gomod, *gocache, *state;
	goaccel_strarray env; /* the environment go runs with */
	const char **envv;    /* env.strings + NULL */
	ga_build_toolchain tc;
	goaccel_key *deps_key, *build_key;
	goaccel_digest deps_id, build_id;
	goaccel_action *deps_act, *build_act;
	int deps_ready; /* the gomod mount holds the modules of deps_id */
	char *stage;    /* the binaries */
	char *tree;     /* the output tree (binaries + copies) */
	char *gowork;   /* where go build writes the binaries: stage, or a stable work dir */
	int work_fd;    /* the lock of the stable work dir (-1: none) */
	char *work_stamp; /* the identity of the binary left in the stable work dir */
	int outputs_written; /* run_build wrote the binaries into the output directory */
	int fetched;         /* the build step's hit restored its binaries as it was looked up */
	ga_buf log;     /* go's output, for an error message */
	goaccel_build_step cur;
	int64_t cur_start;
	int cancelled;
	int workspace;    /* a go.work is in use */
	int outputs_current; /* the output directory holds this build's outputs already */
	int64_t stamp_duration_ns;
	int64_t build_duration_ns; /* of the go build run by this build (a miss) */
	char *out_abs;    /* realpath of the output directory */
	int quiet_stdout; /* go's stdout is not output (go list in the deps step) */
	int64_t keys_ns; /* time spent computing and looking up the deps and build keys */
} ga_build;

/* ---- progress ------------------------------------------------------------------------------ */

static int callback_cancelled(void)
{
	const goaccel_error *e = goaccel_error_last();
	if (e->klass == GOACCEL_ERROR_CALLBACK && e->code == GOACCEL_EUSER)
		return GOACCEL_EUSER;
	return ga_error(GOACCEL_EUSER, GOACCEL_ERROR_CALLBACK, "build cancelled by the progress callback");
}

static goaccel_build_event new_event(goaccel_build_event_type type)
{
	goaccel_build_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	return ev;
}

static int emit(ga_build *b, goaccel_build_event *ev)
{
	ev->step = b->cur;
	ev->elapsed_ns = ga_monotonic_ns() - b->cur_start;
	if (!b->o->progress || b->cancelled)
		return b->cancelled ? GOACCEL_EUSER : 0;
	if (b->o->progress(ev, b->o->payload) != 0) {
		b->cancelled = 1;
		return callback_cancelled();
	}
	return 0;
}

static int step_start(ga_build *b, goaccel_build_step step, const char *message)
{
	goaccel_build_event ev = new_event(GOACCEL_BUILD_EVENT_STEP_START);
	b->cur = step;
	b->cur_start = ga_monotonic_ns();
	ev.message = message;
	return emit(b, &ev);
}

static int step_end(ga_build *b, goaccel_build_status status)
{
	ga_build_step_result *s = &b->res->steps[b->cur];
	goaccel_build_event ev = new_event(GOACCEL_BUILD_EVENT_STEP_END);
	s->status = status;
	s->duration_ns = ga_monotonic_ns() - b->cur_start;
	if (!s->explanation && status == GOACCEL_BUILD_STATUS_HIT)
		ga_build_result_explain(b->res, b->cur, "cached");
	ev.status = status;
	ev.key = s->has_key ? &s->key : NULL;
	ev.message = s->explanation ? s->explanation : "";
	return emit(b, &ev);
}

/* ---- setup ------------------------------------------------------------------------------- */

/* to relative to from (both absolute, canonical): "a/b", "../x", or ".". */
static char *relative_path(const char *from, const char *to)
{
	ga_buf b = GA_BUF_INIT;
	size_t common = 0, i;
	const char *rest;
	for (i = 0; from[i] && from[i] == to[i]; i++)
		if (from[i] == '/')
			common = i;
	if (!from[i] && (to[i] == '/' || !to[i]))
		common = i; /* from is a prefix of to at a component boundary */
	else if (!to[i] && from[i] == '/')
		common = i;
	rest = to + common;
	for (i = common; from[i]; i++)
		if (from[i] == '/' && ga_buf_puts(&b, b.size ? "/.." : "..") < 0)
			goto oom;
	while (*rest == '/')
		rest++;
	if (*rest && ((b.size && ga_buf_putc(&b, '/') < 0) || ga_buf_puts(&b, rest) < 0))
		goto oom;
	if (!b.size && ga_buf_putc(&b, '.') < 0)
		goto oom;
	return ga_buf_detach(&b);
oom:
	ga_buf_dispose(&b);
	return NULL;
}

static int env_name_eq(const char *entry, const char *name)
{
	size_t n = strlen(name);
	return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

static int overridden(const ga_build *b, const char *entry)
{
	static const char *const ours[] = {"GOMODCACHE", "GOCACHE", "GOFLAGS"};
	size_t i;
	for (i = 0; i < sizeof(ours) / sizeof(*ours); i++)
		if (env_name_eq(entry, ours[i]))
			return 1;
	if ((b->o->cgo >= 0 && env_name_eq(entry, "CGO_ENABLED")) ||
	    (b->o->goos && env_name_eq(entry, "GOOS")) || (b->o->goarch && env_name_eq(entry, "GOARCH")))
		return 1;
	for (i = 0; i < b->o->env_count; i++) {
		const char *eq = strchr(b->o->env[i], '=');
		if (strncmp(entry, b->o->env[i], (size_t)(eq - b->o->env[i]) + 1) == 0)
			return 1;
	}
	return 0;
}

static int env_addf(goaccel_strarray *env, const char *name, const char *value)
{
	ga_buf e = GA_BUF_INIT;
	if (ga_buf_printf(&e, "%s=%s", name, value) < 0)
		return GOACCEL_ERROR;
	return ga_strarray_take(env, ga_buf_detach(&e));
}

/* The environment go runs with: the caller's, with both caches on their mounts, -modcacherw
 * (so the module cache can be pruned and replaced), and the build's own settings. */
static int make_env(ga_build *b)
{
	const char *const *base = b->o->envp ? b->o->envp : (const char *const *)environ;
	const char *goflags = ga_env_get(base, "GOFLAGS");
	ga_buf flags = GA_BUF_INIT;
	size_t i;
	int error = 0;
	for (; *base && error == 0; base++)
		if (strchr(*base, '=') && !overridden(b, *base))
			error = ga_strarray_add(&b->env, *base);
	if (error == 0 && goflags && *goflags && !strstr(goflags, "-modcacherw"))
		error = ga_buf_printf(&flags, "%s -modcacherw", goflags);
	else if (error == 0)
		error = ga_buf_puts(&flags, goflags && *goflags ? goflags : "-modcacherw");
	if (error == 0)
		error = env_addf(&b->env, "GOFLAGS", flags.ptr);
	ga_buf_dispose(&flags);
	if (error == 0)
		error = env_addf(&b->env, "GOMODCACHE", goaccel_mount_path(b->gomod));
	if (error == 0)
		error = env_addf(&b->env, "GOCACHE", goaccel_mount_path(b->gocache));
	if (error == 0 && b->o->cgo >= 0)
		error = env_addf(&b->env, "CGO_ENABLED", b->o->cgo ? "1" : "0");
	if (error == 0 && b->o->goos)
		error = env_addf(&b->env, "GOOS", b->o->goos);
	if (error == 0 && b->o->goarch)
		error = env_addf(&b->env, "GOARCH", b->o->goarch);
	for (i = 0; i < b->o->env_count && error == 0; i++)
		error = ga_strarray_add(&b->env, b->o->env[i]);
	if (error == 0 && (b->envv = calloc(b->env.count + 1, sizeof(char *))) == NULL)
		error = ga_error_oom();
	for (i = 0; error == 0 && i < b->env.count; i++)
		b->envv[i] = b->env.strings[i];
	return error;
}

/* Every entry of a list is "NAME=VALUE" with a non-empty name. */
static int check_pairs(const char *what, const char *const *list, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		const char *eq = list && list[i] ? strchr(list[i], '=') : NULL;
		if (!eq || eq == list[i])
			return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_BUILD, "%s[%zu]: '%s' is not NAME=VALUE",
			                what, i, list && list[i] ? list[i] : "(null)");
	}
	return 0;
}

static int check_argv(const char *what, const char *const *argv, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!argv || !argv[i])
			return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_BUILD, "%s[%zu] is NULL", what, i);
	return 0;
}

static int check_options(const goaccel_build_options *o)
{
	size_t i;
	int error;
	if ((error = check_pairs("env", o->env, o->env_count)) < 0)
		return error;
	for (i = 0; i < o->package_count; i++)
		if (!o->packages[i] || !*o->packages[i])
			return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_BUILD, "packages[%zu] is empty", i);
	for (i = 0; i < o->copy_count; i++)
		if (!o->copies[i].src || !*o->copies[i].src || !o->copies[i].dst || !*o->copies[i].dst)
			return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_BUILD, "copies[%zu] needs src and dst", i);
	if (!o->image_dir && o->base_dir)
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_BUILD, "base_dir is set without image_dir");
	if (!o->image_dir && (o->image_env_count || o->image_entrypoint_count || o->image_cmd_count ||
	                      o->image_workdir || o->image_user || o->image_label_count))
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_BUILD,
		                "image configuration (image_env, image_cmd, ...) is set without image_dir");
	if ((error = check_pairs("image_env", o->image_env, o->image_env_count)) < 0 ||
	    (error = check_pairs("image_labels", o->image_labels, o->image_label_count)) < 0 ||
	    (error = check_argv("image_entrypoint", o->image_entrypoint, o->image_entrypoint_count)) < 0)
		return error;
	return check_argv("image_cmd", o->image_cmd, o->image_cmd_count);
}

static int default_target(ga_build *b)
{
	goaccel_gomod *mod = NULL;
	char *gomod = ga_path_join(b->roots.strings[0], "go.mod");
	char *rel = relative_path(b->roots.strings[0], b->dir);
	ga_buf t = GA_BUF_INIT;
	size_t i;
	int error;
	if (!gomod || !rel) {
		error = ga_error_oom();
		goto done;
	}
	if ((error = goaccel_gomod_parse_file(&mod, gomod)) < 0)
		goto done;
	ga_buf_puts(&t, goaccel_gomod_module_path(mod) ? goaccel_gomod_module_path(mod) : gomod);
	if (strcmp(rel, ".") != 0)
		ga_buf_printf(&t, " (%s)", rel);
	if (b->o->package_count == 0)
		ga_buf_puts(&t, " .");
	for (i = 0; i < b->o->package_count; i++)
		ga_buf_printf(&t, " %s", b->o->packages[i]);
	if (!t.ptr) {
		error = ga_error_oom();
		goto done;
	}
	b->target = ga_buf_detach(&t);
done:
	ga_buf_dispose(&t);
	goaccel_gomod_free(mod);
	free(gomod);
	free(rel);
	return error;
}

static int setup(ga_build *b, const char *module_dir)
{
	size_t i;
	int error;
	if ((b->dir = realpath(module_dir, NULL)) == NULL)
		return ga_error_os(0, errno, "%s: module directory", module_dir);
	if ((error = goaccel_gomod_input_roots(&b->roots, b->dir, b->o->envp)) < 0)
		return error;
	if ((b->mans = calloc(b->roots.count, sizeof(*b->mans))) == NULL)
		return ga_error_oom();
	for (i = 0; i < b->roots.count; i++)
		if ((b->mans[i].rel = relative_path(b->roots.strings[0], b->roots.strings[i])) == NULL)
			return ga_error_oom();
	if (b->o->target)
		b->target = strdup(b->o->target);
	else if ((error = default_target(b)) < 0)
		return error;
	if (!b->target)
		return ga_error_oom();
	if ((error = ga_build_result_new(&b->res, b->dir, b->target, b->o->dry_run)) < 0 ||
	    (error = goaccel_store_open(&b->store, b->o->cache_dir, NULL)) < 0)
		return error;
	/* Stable paths: the same directory for every build, so Go's own cache keys line up. */
	if ((error = goaccel_mount_acquire(&b->gomod, b->store, GOMOD_MOUNT, GOACCEL_MOUNT_SHARED, NULL)) < 0 ||
	    (error = goaccel_mount_acquire(&b->gocache, b->store, GOCACHE_MOUNT, GOACCEL_MOUNT_SHARED, NULL)) < 0 ||
	    (error = goaccel_mount_acquire(&b->state, b->store, STATE_MOUNT, GOACCEL_MOUNT_SHARED, NULL)) < 0)
		return error;
	return make_env(b);
}

/* ---- keys ---------------------------------------------------------------------------------- */

static int add_file_field(goaccel_key *k, const char *rel_dir, const char *dir, const char *name)
{
	char *path = ga_path_join(dir, name), *field = NULL;
	goaccel_digest d;
	ga_buf f = GA_BUF_INIT;
	int error;
	if (!path)
		return ga_error_oom();
	if (strcmp(rel_dir, ".") == 0)
		error = ga_buf_printf(&f, "file:%s", name);
	else
		error = ga_buf_printf(&f, "file:%s/%s", rel_dir, name);
	if (error < 0)
		goto done;
	field = ga_buf_detach(&f);
	error = goaccel_digest_file(&d, path);
	if (error == GOACCEL_ENOTFOUND) {
		goaccel_error_clear();
		error = goaccel_key_add_string(k, field, "absent");
	} else if (error == 0) {
		error = goaccel_key_add_digest(k, field, &d);
	}
done:
	free(field);
	free(path);
	return error;
}

static int add_toolchain_fields(goaccel_key *k, const ga_build_toolchain *tc, int all)
{
	size_t i, j;
	int error = 0;
	for (i = 0; i < tc->names.count && error == 0; i++) {
		const char *name = tc->names.strings[i], *prefix = "toolchain:";
		ga_buf f = GA_BUF_INIT;
		if (!all && strcmp(name, "GOVERSION") != 0)
			continue; /* the module cache does not depend on the target platform */
		for (j = 0; j < sizeof(setting_fields) / sizeof(*setting_fields); j++)
			if (strcmp(name, setting_fields[j]) == 0)
				prefix = "env:";
		if ((error = ga_buf_printf(&f, "%s%s", prefix, name)) == 0)
			error = goaccel_key_add_string(k, f.ptr, tc->values.strings[i]);
		ga_buf_dispose(&f);
	}
	return error;
}

static int deps_key(ga_build *b)
{
	char *work = NULL, *workdir = NULL, *rel = NULL;
	size_t i;
	int error;
	if ((error = goaccel_key_new(&b->deps_key, DEPS_KIND)) < 0)
		return error;
	for (i = 0; i < b->roots.count && error == 0; i++) {
		if ((error = add_file_field(b->deps_key, b->mans[i].rel, b->roots.strings[i], "go.mod")) == 0)
			error = add_file_field(b->deps_key, b->mans[i].rel, b->roots.strings[i], "go.sum");
	}
	if (error == 0 && goaccel_gomod_find_work(&work, b->dir, (const char *const *)b->envv) == 0) {
		char *slash = strrchr(work, '/');
		ga_buf pk = GA_BUF_INIT;
		b->workspace = 1;
		for (i = 0; i < b->o->package_count; i++)
			ga_buf_printf(&pk, "%s%s", i ? "\n" : "", b->o->packages[i]);
		/* what the deps step downloads in workspace mode depends on the packages */
		error = goaccel_key_add_string(b->deps_key, "packages", pk.ptr ? pk.ptr : ".");
		ga_buf_dispose(&pk);
		workdir = strndup(work, slash && slash != work ? (size_t)(slash - work) : 1);
		if (error == 0 && (!workdir || (rel = relative_path(b->roots.strings[0], workdir)) == NULL))
			error = ga_error_oom();
		if (error == 0 && (error = add_file_field(b->deps_key, rel, workdir, "go.work")) == 0)
			error = add_file_field(b->deps_key, rel, workdir, "go.work.sum");
	}
	goaccel_error_clear();
	for (i = 0; i < sizeof(deps_env) / sizeof(*deps_env) && error == 0; i++) {
		const char *v = ga_env_get((const char *const *)b->envv, deps_env[i]);
		char name[64];
		snprintf(name, sizeof(name), "env:%s", deps_env[i]);
		error = goaccel_key_add_string(b->deps_key, name, v ? v : "");
	}
	if (error == 0)
		error = add_toolchain_fields(b->deps_key, &b->tc, 0);
	if (error == 0)
		error = goaccel_key_finish(&b->deps_id, b->deps_key);
	free(work);
	free(workdir);
	free(rel);
	return error;
}

static int hash_root(ga_build *b, size_t i, goaccel_digest *out)
{
	goaccel_strarray files = {NULL, 0};
	goaccel_hash_options ho = GOACCEL_HASH_OPTIONS_INIT;
	goaccel_digest pathid;
	char hex[GOACCEL_DIGEST_HEXSIZE + 1], name[64];
	int error;
	/* One stat cache per checkout directory, kept on the build layer's own mount. */
	if ((error = goaccel_digest_buffer(&pathid, b->roots.strings[i], strlen(b->roots.strings[i]))) < 0)
		return error;
	goaccel_digest_fmt(hex, &pathid);
	snprintf(name, sizeof(name), "statcache-%.24s", hex);
	ho.stat_cache = ga_path_join(goaccel_mount_path(b->state), name);
	if (!ho.stat_cache)
		return ga_error_oom();
	if ((error = goaccel_gomod_build_inputs(&files, b->roots.strings[i], NULL)) == 0)
		error = goaccel_hash_paths(out, &b->mans[i].manifest, b->roots.strings[i],
		                           (const char *const *)files.strings, files.count, &ho);
	goaccel_strarray_dispose(&files);
	free((char *)ho.stat_cache);
	return error;
}

static int add_flag(goaccel_key *k, const char *name, const char *value)
{
	return goaccel_key_add_string(k, name, value ? value : "");
}

static int build_key(ga_build *b)
{
	ga_buf pk = GA_BUF_INIT;
	char *rel = NULL;
	size_t i;
	int error;
	if ((error = goaccel_key_new(&b->build_key, BUILD_KIND)) < 0 ||
	    (error = goaccel_key_set_parent(b->build_key, &b->deps_id)) < 0)
		return error;
	for (i = 0; i < b->roots.count && error == 0; i++) {
		goaccel_digest d;
		ga_buf f = GA_BUF_INIT;
		if ((error = hash_root(b, i, &d)) == 0 &&
		    (error = ga_buf_printf(&f, "inputs:%s", b->mans[i].rel)) == 0)
			error = goaccel_key_add_digest(b->build_key, f.ptr, &d);
		ga_buf_dispose(&f);
	}
	if (error < 0)
		goto done;
	if ((rel = relative_path(b->roots.strings[0], b->dir)) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	for (i = 0; i < b->o->package_count; i++)
		ga_buf_printf(&pk, "%s%s", i ? "\n" : "", b->o->packages[i]);
	if ((error = add_flag(b->build_key, "dir", rel)) < 0 ||
	    (error = add_flag(b->build_key, "packages", b->o->package_count ? pk.ptr : ".")) < 0 ||
	    (error = add_flag(b->build_key, "flag:tags", b->o->tags)) < 0 ||
	    (error = add_flag(b->build_key, "flag:ldflags", b->o->ldflags)) < 0 ||
	    (error = add_flag(b->build_key, "flag:gcflags", b->o->gcflags)) < 0 ||
	    (error = add_flag(b->build_key, "flag:trimpath", b->o->trimpath ? "true" : "false")) < 0 ||
	    (error = add_flag(b->build_key, "flag:buildvcs", b->o->buildvcs ? "true" : "false")) < 0)
		goto done;
	/* Without -trimpath the binary records where the sources were. */
	if (!b->o->trimpath && (error = add_flag(b->build_key, "abs-dir", b->dir)) < 0)
		goto done;
	if ((error = add_toolchain_fields(b->build_key, &b->tc, 1)) < 0)
		goto done;
	for (i = 0; i < b->o->env_count && error == 0; i++) {
		const char *eq = strchr(b->o->env[i], '=');
		ga_buf f = GA_BUF_INIT;
		if ((error = ga_buf_printf(&f, "env:%.*s", (int)(eq - b->o->env[i]), b->o->env[i])) == 0)
			error = goaccel_key_add_string(b->build_key, f.ptr, eq + 1);
		if (error == GOACCEL_EEXISTS) /* GOOS=... given as env: go env reported it already */
			error = 0;
		ga_buf_dispose(&f);
	}
	goaccel_error_clear();
	if (error == 0)
		error = goaccel_key_finish(&b->build_id, b->build_key);
done:
	ga_buf_dispose(&pk);
	free(rel);
	return error;
}

/* ---- running go ----------------------------------------------------------------------------- */

static int on_output(const char *data, size_t len, int stream, void *payload)
{
	ga_build *b = payload;
	goaccel_build_event ev = new_event(GOACCEL_BUILD_EVENT_OUTPUT);
	if (stream == 1 && b->quiet_stdout)
		return 0;
	if (b->log.size < LOG_MAX)
		ga_buf_put(&b->log, data, len);
	ev.data = data;
	ev.len = len;
	ev.stream = stream;
	return emit(b, &ev) != 0;
}

static int on_tick(void *payload)
{
	ga_build *b = payload;
	goaccel_build_event ev = new_event(GOACCEL_BUILD_EVENT_TICK);
	return emit(b, &ev) != 0;
}

static int run_go(ga_build *b, const char *const *argv, const char *what)
{
	goaccel_build_event ev = new_event(GOACCEL_BUILD_EVENT_COMMAND);
	ga_spawn_opts so = {0};
	ga_buf cmd = GA_BUF_INIT;
	int status = 0, error;
	size_t i;
	for (i = 0; argv[i]; i++)
		ga_buf_printf(&cmd, "%s%s", i ? " " : "", argv[i]);
	ev.message = cmd.ptr ? cmd.ptr : "go";
	error = emit(b, &ev);
	ga_buf_dispose(&cmd);
	if (error < 0)
		return error;
	ga_buf_clear(&b->log);
	so.argv = argv;
	so.envp = (const char *const *)b->envv;
	so.cwd = b->dir;
	so.output = on_output;
	so.poll = on_tick;
	so.payload = b;
	if ((error = ga_spawn_run(&status, &so)) < 0)
		return error == GOACCEL_EUSER ? callback_cancelled() : error;
	if (status != 0)
		return ga_error(GOACCEL_EBUILD, GOACCEL_ERROR_BUILD, "%s failed (exit %d) in %s:\n%s",
		                what, status, b->dir, b->log.ptr ? b->log.ptr : "");
	return 0;
}

static char *deps_marker(ga_build *b)
{
	char hex[GOACCEL_DIGEST_HEXSIZE + 1], rel[128];
	goaccel_digest_fmt(hex, &b->deps_id);
	snprintf(rel, sizeof(rel), ".goaccel/deps/%s", hex);
	return ga_path_join(goaccel_mount_path(b->gomod), rel);
}

/* go mod download onto the gomod mount, then record the step and mark the mount. */
static int run_deps(ga_build *b)
{
	static const char *const argv[] = {"go", "mod", "download", NULL};
	goaccel_action_meta meta = GOACCEL_ACTION_META_INIT;
	goaccel_action_output out = {"deps.json", NULL, 0644, NULL, 0};
	char *marker = deps_marker(b), *slash, *json = NULL;
	int64_t start = ga_monotonic_ns();
	int error;
	const char **list = NULL;
	size_t i, n = 0;
	if (!marker)
		return ga_error_oom();
	if (b->workspace) {
		/* `go mod download` in workspace mode looks the workspace's own modules up in the
		 * proxy and fails; loading the packages downloads exactly what they need. */
		if ((list = calloc(b->o->package_count + 6, sizeof(*list))) == NULL) {
			error = ga_error_oom();
			goto done;
		}
		list[n++] = "go";
		list[n++] = "list";
		list[n++] = "-deps";
		list[n++] = "-test=false";
		for (i = 0; i < b->o->package_count; i++)
			list[n++] = b->o->packages[i];
		if (b->o->package_count == 0)
			list[n++] = ".";
		b->quiet_stdout = 1;
		error = run_go(b, list, "go list -deps (workspace mode)");
		b->quiet_stdout = 0;
	} else {
		error = run_go(b, argv, "go mod download");
	}
	if (error < 0)
		goto done;
	meta.duration_ns = ga_monotonic_ns() - start;
	/* The modules live on the mount; the record keeps the key's fields, for inspection. */
	if ((error = goaccel_key_to_json(&json, b->deps_key)) < 0)
		goto done;
	out.data = json;
	out.size = strlen(json);
	if ((error = goaccel_store_action_put(b->store, &b->deps_id, DEPS_KIND, &out, 1, &meta)) < 0)
		goto done;
	slash = strrchr(marker, '/');
	*slash = '\0';
	error = ga_mkdir_p(marker, 0755);
	*slash = '/';
	if (error == 0)
		error = ga_write_file_atomic(marker, "", 0, 0644, 0);
	b->deps_ready = error == 0;
done:
	free(list);
	goaccel_free(json);
	free(marker);
	return error;
}

/* "NAME DEV INO SIZE MTIME_NS CTIME_NS": a file's identity as the file system reports it. Any
 * write, chmod, link or replacement changes it (ctime is set only by the kernel). */
static int file_identity(char *buf, size_t len, const char *dir, const char *name)
{
	struct stat st;
	char *path = ga_path_join(dir, name);
	int ok = path && lstat(path, &st) == 0 && S_ISREG(st.st_mode);
	free(path);
	if (ok)
		snprintf(buf, len, "%s %llu %llu %lld %lld %lld\n", name, (unsigned long long)st.st_dev,
		         (unsigned long long)st.st_ino, (long long)st.st_size,
		         (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec,
		         (long long)st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec);
	return ok;
}

/* After a build in the stable work dir: the identity of the binary go left there (which the
 * output directory may share, as a hard link), checked before the next build uses it. */
static int stamp_workdir(ga_build *b, const goaccel_strarray *names)
{
	char id[PATH_MAX + 128];
	if (names->count == 1 && file_identity(id, sizeof(id), b->gowork, names->strings[0]))
		return ga_write_file_atomic(b->work_stamp, id, strlen(id), 0600, 0);
	if (unlink(b->work_stamp) < 0 && errno != ENOENT)
		return ga_error_os(GOACCEL_ERROR, errno, "%s: unlink", b->work_stamp);
	return 0;
}

/* The regular files go left in dir. In a stable work dir (fresh_after > 0), go links only what
 * is out of date, so an older file is an output too, unless a file was written in this build
 * beside it: then the older one is a leftover (the binary's name changed) and is removed. */
static int list_stage(goaccel_strarray *names, const char *dir, int64_t fresh_after)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	goaccel_strarray old = {NULL, 0};
	size_t fresh = 0, i;
	int error = 0;
	if (!d)
		return ga_error_os(0, errno, "%s: opendir", dir);
	while ((e = readdir(d)) != NULL && error == 0) {
		struct stat st;
		if (e->d_name[0] == '.' || fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (fresh_after > 0 && st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec < fresh_after)
			error = ga_strarray_add(&old, e->d_name);
		else if ((error = ga_strarray_add(names, e->d_name)) == 0)
			fresh++;
	}
	for (i = 0; i < old.count && error == 0; i++) {
		if (fresh == 0)
			error = ga_strarray_add(names, old.strings[i]);
		else if (unlinkat(dirfd(d), old.strings[i], 0) < 0 && errno != ENOENT)
			error = ga_error_os(GOACCEL_ERROR, errno, "%s/%s: unlink", dir, old.strings[i]);
	}
	closedir(d);
	goaccel_strarray_dispose(&old);
	ga_strarray_sort_unique(names);
	return error;
}

/* Puts src at dir/name through a temporary name renamed over the old file, so that a reader of
 * the output never sees a half-written binary: a hard link when allowed (link != 0, same file
 * system), else a copy. */
static int write_output_file(const char *src, const char *dir, const char *name, mode_t mode,
                             int link_ok)
{
	static int counter;
	char *dst = ga_path_join(dir, name), *tmp = NULL;
	struct stat a, b;
	int error = 0;
	if (!dst || asprintf(&tmp, "%s/.%s.goaccel-%ld-%d", dir, name, (long)getpid(),
	                     __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED)) < 0) {
		free(dst);
		return ga_error_oom();
	}
	if (link_ok && stat(src, &a) == 0 && lstat(dst, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino)
		goto done; /* dst is src already (renaming a link over itself would do nothing) */
	if (!link_ok || link(src, tmp) < 0)
		error = ga_copy_file(src, tmp, mode, 1);
	if (error == 0 && rename(tmp, dst) < 0)
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: rename to %s", tmp, dst);
	if (error < 0)
		unlink(tmp);
done:
	free(tmp);
	free(dst);
	return error;
}

/* Work done beside the store's copy of the outputs, on the other core: their digests (for the
 * result and the output stamp: reading the record back would verify every blob once more) and,
 * when go built in the stable work dir, the copy into the output directory. */
typedef struct {
	const goaccel_action_output *outs;
	size_t n;
	goaccel_digest *digests;
	const char *out_dir;   /* also write each output here (NULL: no) */
	const char *state_dir; /* with out_abs and bin_dir: skip an output already in place */
	const char *out_abs;
	const char *bin_dir;
	int error;
	char message[512];
} output_job;

static void *hash_and_write_outputs(void *payload)
{
	output_job *job = payload;
	size_t i;
	for (i = 0; i < job->n && job->error == 0; i++) {
		const goaccel_action_output *o = &job->outs[i];
		struct stat st;
		if ((job->error = goaccel_digest_file(&job->digests[i], o->path)) < 0 || !job->out_dir)
			continue;
		if (job->out_abs && ga_build_output_in_place(job->state_dir, job->out_abs, job->bin_dir,
		                                             o->name, &job->digests[i]))
			continue; /* the same bytes are there already (a relink that changed nothing) */
		if (stat(o->path, &st) < 0)
			job->error = ga_error_os(0, errno, "%s: stat", o->path);
		else /* a hard link: see "The stable work dir" in docs/build.md for why that is safe */
			job->error = write_output_file(o->path, job->out_dir, o->name, st.st_mode & 0777, 1);
	}
	if (job->error < 0) /* the error is thread-local: carry its text to the building thread */
		snprintf(job->message, sizeof(job->message), "%s", goaccel_error_last()->message);
	return NULL;
}

static const char *bin_dir_rel(const ga_build *b)
{
	const char *bd = b->o->bin_dir;
	while (bd && *bd == '/')
		bd++;
	return bd && *bd ? bd : NULL;
}

static char *bin_path(const ga_build *b, const char *root, const char *name);

/* Saves the outputs go wrote (names, in b->gowork) under the build key, computing their digests
 * meanwhile and, from the stable work dir, writing them to the output directory. */
static int save_outputs(ga_build *b, const goaccel_strarray *names, const goaccel_action_meta *meta)
{
	goaccel_action_output *outs = NULL;
	output_job job;
	char *out_dir = NULL;
	pthread_t th;
	size_t i;
	int threaded, error = 0;
	memset(&job, 0, sizeof(job));
	if ((names->count && (outs = calloc(names->count, sizeof(*outs))) == NULL) ||
	    (job.digests = calloc(names->count + 1, sizeof(*job.digests))) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	for (i = 0; i < names->count && error == 0; i++) {
		outs[i].name = names->strings[i];
		outs[i].mode = -1;
		if ((outs[i].path = ga_path_join(b->gowork, names->strings[i])) == NULL)
			error = ga_error_oom();
	}
	if (error < 0)
		goto done;
	job.outs = outs;
	job.n = names->count;
	if (b->work_fd >= 0 && b->o->output_dir && !b->o->image_dir) {
		if ((out_dir = bin_path(b, b->o->output_dir, "")) == NULL) {
			error = ga_error_oom();
			goto done;
		}
		if ((error = ga_mkdir_p(out_dir, 0755)) < 0)
			goto done;
		job.out_dir = out_dir;
		job.state_dir = goaccel_mount_path(b->state);
		job.out_abs = b->out_abs;
		job.bin_dir = bin_dir_rel(b);
	}
	threaded = pthread_create(&th, NULL, hash_and_write_outputs, &job) == 0;
	error = goaccel_store_action_put(b->store, &b->build_id, BUILD_KIND, outs, names->count, meta);
	if (threaded)
		pthread_join(th, NULL);
	else
		hash_and_write_outputs(&job);
	if (error == 0 && job.error < 0)
		error = ga_error(job.error, GOACCEL_ERROR_BUILD, "%s", job.message);
	b->outputs_written = error == 0 && job.out_dir != NULL;
	if (error == 0 && b->work_fd >= 0)
		error = stamp_workdir(b, names);
	for (i = 0; i < names->count && error == 0; i++) {
		struct stat st;
		if (stat(outs[i].path, &st) < 0) {
			error = ga_error_os(0, errno, "%s: stat", outs[i].path);
			break;
		}
		error = ga_build_result_add_output(b->res, names->strings[i], NULL, &job.digests[i],
		                                   (uint64_t)st.st_size, st.st_mode & 0777);
		/* an image is made from the output tree: the binaries join it there */
		if (error == 0 && b->stage && strcmp(b->stage, b->gowork) != 0)
			error = write_output_file(outs[i].path, b->stage, names->strings[i], st.st_mode & 0777, 0);
	}
done:
	for (i = 0; outs && i < names->count; i++)
		free((char *)outs[i].path);
	free(outs);
	free(job.digests);
	free(out_dir);
	return error;
}

static int run_build(ga_build *b)
{
	const char *argv[32];
	goaccel_strarray names = {NULL, 0};
	goaccel_action_meta meta = GOACCEL_ACTION_META_INIT;
	char *odir = NULL;
	int64_t start = ga_monotonic_ns(), wall_start = ga_now_ns();
	size_t n = 0, i;
	int error;
	const char **av = NULL;
	if ((odir = malloc(strlen(b->gowork) + 2)) == NULL)
		return ga_error_oom();
	sprintf(odir, "%s/", b->gowork); /* a trailing slash: binaries go into the directory */
	argv[n++] = "go";
	argv[n++] = "build";
	argv[n++] = "-o";
	argv[n++] = odir;
	if (b->o->trimpath)
		argv[n++] = "-trimpath";
	argv[n++] = b->o->buildvcs ? "-buildvcs=true" : "-buildvcs=false";
	if (b->o->tags)
		argv[n++] = "-tags", argv[n++] = b->o->tags;
	if (b->o->ldflags)
		argv[n++] = "-ldflags", argv[n++] = b->o->ldflags;
	if (b->o->gcflags)
		argv[n++] = "-gcflags", argv[n++] = b->o->gcflags;
	if ((av = calloc(n + b->o->package_count + 2, sizeof(*av))) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	memcpy(av, argv, n * sizeof(*av));
	for (i = 0; i < b->o->package_count; i++)
		av[n++] = b->o->packages[i];
	if (b->o->package_count == 0)
		av[n++] = ".";
	if ((error = run_go(b, av, "go build")) < 0 ||
	    (error = list_stage(&names, b->gowork, b->work_fd >= 0 ? wall_start - WORK_MTIME_SLACK : 0)) < 0)
		goto done;
	meta.duration_ns = ga_monotonic_ns() - start;
	b->build_duration_ns = meta.duration_ns;
	error = save_outputs(b, &names, &meta);
done:
	free(av);
	free(odir);
	goaccel_strarray_dispose(&names);
	return error;
}

/* ---- steps ---------------------------------------------------------------------------------- */

static void set_key(ga_build *b, goaccel_build_step step, const goaccel_digest *key)
{
	b->res->steps[step].has_key = 1;
	b->res->steps[step].key = *key;
}

static int toolchain_step(ga_build *b)
{
	goaccel_digest key;
	int hit = 0, error;
	if ((error = step_start(b, GOACCEL_BUILD_STEP_TOOLCHAIN, "identify the go toolchain")) < 0)
		return error;
	if ((error = ga_build_toolchain_get(&b->tc, &hit, &key, b->store, b->dir,
	                                    (const char *const *)b->envv, b->o->dry_run)) < 0)
		return error;
	set_key(b, GOACCEL_BUILD_STEP_TOOLCHAIN, &key);
	if (!hit)
		ga_build_result_explain(b->res, GOACCEL_BUILD_STEP_TOOLCHAIN,
		                        "go binary or its environment not seen before: ran go env");
	return step_end(b, hit ? GOACCEL_BUILD_STATUS_HIT : GOACCEL_BUILD_STATUS_MISS);
}

/* Looks a step key up (a dry run only peeks: no statistics, no last-used time); ENOTFOUND is a
 * miss (*act NULL), anything else an error. */
static int lookup(goaccel_action **act, ga_build *b, const char *kind, const goaccel_digest *key)
{
	goaccel_lookup_options lo = GOACCEL_LOOKUP_OPTIONS_INIT;
	int error;
	lo.flags = b->o->dry_run ? GOACCEL_LOOKUP_PEEK : 0;
	error = goaccel_store_action_lookup_ext(act, b->store, kind, key, &lo);
	if (error == GOACCEL_ENOTFOUND) {
		*act = NULL;
		goaccel_error_clear();
		return 0;
	}
	return error;
}

static int deps_step(ga_build *b, int build_hit)
{
	ga_build_step_result *s = &b->res->steps[GOACCEL_BUILD_STEP_DEPS];
	char *marker;
	int error;
	if ((error = step_start(b, GOACCEL_BUILD_STEP_DEPS,
	                        b->workspace ? "go list -deps (workspace)" : "go mod download")) < 0)
		return error;
	set_key(b, GOACCEL_BUILD_STEP_DEPS, &b->deps_id);
	if ((marker = deps_marker(b)) == NULL)
		return ga_error_oom();
	b->deps_ready = ga_exists(marker);
	free(marker);
	if (b->deps_act) {
		s->saved_ns = goaccel_action_duration(b->deps_act);
		if (b->deps_ready || build_hit || b->o->dry_run)
			return step_end(b, GOACCEL_BUILD_STATUS_HIT);
		/* Recorded, but this machine's module cache lacks the modules (a fresh machine that
		 * imported only actions, or a pruned mount): the build step needs them. */
		ga_build_result_explain(b->res, GOACCEL_BUILD_STEP_DEPS,
		                        "recorded, but the gomod mount lacks the modules: downloading");
	} else {
		if (build_hit && !b->o->dry_run) {
			ga_build_result_explain(b->res, GOACCEL_BUILD_STEP_DEPS,
			                        "not needed: the build outputs are cached");
			return step_end(b, GOACCEL_BUILD_STATUS_SKIPPED);
		}
		if ((error = ga_build_explain_miss(b->res, GOACCEL_BUILD_STEP_DEPS, b->store, b->target,
		                                   b->deps_key, NULL, 0)) < 0)
			return error;
	}
	if (!b->o->dry_run && (error = run_deps(b)) < 0) {
		s->status = GOACCEL_BUILD_STATUS_FAILED;
		s->duration_ns = ga_monotonic_ns() - b->cur_start;
		return error;
	}
	return step_end(b, GOACCEL_BUILD_STATUS_MISS);
}

static int record_outputs(ga_build *b)
{
	size_t i, n = goaccel_action_output_count(b->build_act);
	int error = 0;
	for (i = 0; i < n && error == 0; i++) {
		const goaccel_action_output_info *o = goaccel_action_output_byindex(b->build_act, i);
		error = ga_build_result_add_output(b->res, o->name, NULL, &o->digest, o->size, o->mode);
	}
	return error;
}

static int build_step(ga_build *b)
{
	ga_build_step_result *s = &b->res->steps[GOACCEL_BUILD_STEP_BUILD];
	int error;
	if ((error = step_start(b, GOACCEL_BUILD_STEP_BUILD, "go build")) < 0)
		return error;
	b->cur_start -= b->keys_ns; /* the inputs were hashed before the deps step: count it here */
	set_key(b, GOACCEL_BUILD_STEP_BUILD, &b->build_id);
	if (b->outputs_current) {
		goaccel_store_counters hit;
		memset(&hit, 0, sizeof(hit));
		hit.hits = 1;
		hit.time_saved_ns = (uint64_t)(b->stamp_duration_ns > 0 ? b->stamp_duration_ns : 0);
		s->saved_ns = b->stamp_duration_ns;
		/* counted as the hit it is, though the store was not read */
		if ((error = goaccel_store_stats_add(b->store, BUILD_KIND, &hit)) < 0)
			return error;
		ga_build_result_explain(b->res, GOACCEL_BUILD_STEP_BUILD,
		                        "cached: the output directory holds these outputs already");
		return step_end(b, GOACCEL_BUILD_STATUS_HIT);
	}
	if (b->build_act) {
		s->saved_ns = goaccel_action_duration(b->build_act);
		if ((error = record_outputs(b)) < 0)
			return error;
		if (b->stage && !b->fetched && (error = goaccel_action_restore(b->build_act, b->stage, NULL)) < 0)
			return error;
		return step_end(b, GOACCEL_BUILD_STATUS_HIT);
	}
	if ((error = ga_build_explain_miss(b->res, GOACCEL_BUILD_STEP_BUILD, b->store, b->target,
	                                   b->build_key, b->mans, b->roots.count)) < 0)
		return error;
	if (b->o->dry_run)
		return step_end(b, GOACCEL_BUILD_STATUS_MISS);
	if ((error = run_build(b)) < 0) {
		s->status = GOACCEL_BUILD_STATUS_FAILED;
		s->duration_ns = ga_monotonic_ns() - b->cur_start;
		return error;
	}
	return step_end(b, GOACCEL_BUILD_STATUS_MISS);
}

/* ---- extract -------------------------------------------------------------------------------- */

static char *bin_path(const ga_build *b, const char *root, const char *name)
{
	ga_buf p = GA_BUF_INIT;
	const char *bd = b->o->bin_dir;
	while (bd && *bd == '/')
		bd++;
	if (root)
		ga_buf_printf(&p, "%s/", root);
	if (bd && *bd)
		ga_buf_printf(&p, "%s/", bd);
	ga_buf_puts(&p, name);
	return p.ptr ? ga_buf_detach(&p) : NULL;
}

/* The --copy items, from the module directory into dest: the image's tree (where the build step
 * put the binaries at <tree>/<bin_dir>/ already) or the output directory. */
static int copy_items(ga_build *b, const char *dest, goaccel_extract_options *xo)
{
	goaccel_extract_item *items;
	size_t i;
	int error;
	if (b->o->copy_count == 0)
		return 0;
	if ((items = calloc(b->o->copy_count, sizeof(*items))) == NULL)
		return ga_error_oom();
	for (i = 0; i < b->o->copy_count; i++) {
		goaccel_extract_item it = GOACCEL_EXTRACT_ITEM(b->o->copies[i].src, b->o->copies[i].dst);
		items[i] = it;
	}
	error = goaccel_extract(dest, b->dir, items, b->o->copy_count, xo);
	free(items);
	return error;
}

static int set_output_paths(ga_build *b)
{
	size_t i;
	for (i = 0; i < b->res->output_count; i++) {
		goaccel_build_output *o = &b->res->outputs[i];
		if ((o->path = bin_path(b, b->o->output_dir, o->name)) == NULL)
			return ga_error_oom();
	}
	return 0;
}

/* Remembers that the output directory now holds this build's outputs. */
static int stamp_outputs(ga_build *b)
{
	char *abs = realpath(b->o->output_dir, NULL);
	int error;
	if (!abs)
		return ga_error_os(0, errno, "%s: realpath", b->o->output_dir);
	free(b->out_abs);
	b->out_abs = abs;
	error = ga_build_outputs_record(goaccel_mount_path(b->state), abs, &b->build_id,
	                                b->build_act ? goaccel_action_duration(b->build_act)
	                                             : b->build_duration_ns,
	                                b->res->outputs, b->res->output_count);
	return error;
}

/* The binaries are in the output directory: the copies join them, and the stamp records them. */
static int finish_output(ga_build *b, goaccel_extract_options *xo)
{
	int error;
	if ((error = copy_items(b, b->o->output_dir, xo)) == 0 && (error = set_output_paths(b)) == 0)
		error = stamp_outputs(b);
	return error;
}

static int move_into_output(ga_build *b, goaccel_extract_options *xo)
{
	char *dir = bin_path(b, b->o->output_dir, "");
	size_t i;
	int error = 0;
	if (!dir)
		return ga_error_oom();
	if ((error = ga_mkdir_p(dir, 0755)) < 0)
		goto done;
	for (i = 0; i < b->res->output_count && error == 0; i++) {
		const char *name = b->res->outputs[i].name;
		char *src = ga_path_join(b->stage, name), *dst = ga_path_join(dir, name);
		if (!src || !dst)
			error = ga_error_oom();
		else if (rename(src, dst) < 0) {
			/* another file system: copy, COPY --from style */
			goaccel_extract_item it = GOACCEL_EXTRACT_ITEM(name, "/");
			if (errno == EXDEV)
				error = goaccel_extract(dir, b->stage, &it, 1, xo);
			else
				error = ga_error_os(GOACCEL_ERROR, errno, "%s: rename to %s", src, dst);
		}
		free(src);
		free(dst);
	}
	if (error == 0)
		error = finish_output(b, xo);
done:
	free(dir);
	return error;
}

static int write_output_dir(ga_build *b, goaccel_extract_options *xo)
{
	goaccel_extract_item all = GOACCEL_EXTRACT_ITEM("/", "/");
	int error;
	if ((error = ga_mkdir_p(b->o->output_dir, 0755)) < 0)
		return error;
	if (!b->tree) {
		/* A hit with no image: the outputs go from the store straight to their place (each
		 * file replaced atomically), and the copies from the module directory. */
		char *dir = bin_path(b, b->o->output_dir, "");
		if (!dir)
			return ga_error_oom();
		if (!b->fetched && (error = ga_mkdir_p(dir, 0755)) == 0)
			error = goaccel_action_restore(b->build_act, dir, NULL);
		free(dir);
		if (error == 0)
			error = finish_output(b, xo);
		return error;
	}
	if ((error = goaccel_extract(b->o->output_dir, b->tree, &all, 1, xo)) == 0 &&
	    (error = set_output_paths(b)) == 0)
		error = stamp_outputs(b);
	return error;
}

/* A "NAME=VALUE" entry through a setter taking the name and the value. */
static int set_pair(goaccel_image *img, const char *entry,
                    int (*set)(goaccel_image *, const char *, const char *))
{
	const char *eq = strchr(entry, '=');
	char *name = strndup(entry, (size_t)(eq - entry));
	int error = name ? set(img, name, eq + 1) : ga_error_oom();
	free(name);
	return error;
}

/* The final stage's ENV, CMD, WORKDIR, USER and LABELs (the entrypoint is set by the caller). */
static int configure_image(goaccel_image *img, const goaccel_build_options *o)
{
	size_t i;
	int error = 0;
	for (i = 0; i < o->image_env_count && error == 0; i++)
		error = set_pair(img, o->image_env[i], goaccel_image_set_env);
	for (i = 0; i < o->image_label_count && error == 0; i++)
		error = set_pair(img, o->image_labels[i], goaccel_image_set_label);
	if (error == 0 && o->image_cmd_count)
		error = goaccel_image_set_cmd(img, o->image_cmd, o->image_cmd_count);
	if (error == 0 && o->image_workdir)
		error = goaccel_image_set_workdir(img, o->image_workdir);
	if (error == 0 && o->image_user)
		error = goaccel_image_set_user(img, o->image_user);
	return error;
}

static int write_image(ga_build *b)
{
	goaccel_image *img = NULL;
	goaccel_image_options io = GOACCEL_IMAGE_OPTIONS_INIT;
	char *layers = ga_path_join(goaccel_mount_path(b->state), "layers"), *entry = NULL;
	const char *goos = NULL;
	size_t i;
	int error;
	if (!layers)
		return ga_error_oom();
	for (i = 0; i < b->tc.names.count; i++)
		if (strcmp(b->tc.names.strings[i], "GOOS") == 0)
			goos = b->tc.values.strings[i];
	io.layer_cache = layers;
	if ((error = goaccel_image_new(&img, &io)) < 0)
		goto done;
	if (b->o->base_dir && (error = goaccel_image_set_base(img, b->o->base_dir, b->o->base_ref)) < 0)
		goto done;
	if ((error = goaccel_image_add_layer_dir(img, b->tree, NULL)) < 0)
		goto done;
	for (i = 0; i < b->tc.names.count && error == 0; i++)
		if (strcmp(b->tc.names.strings[i], "GOARCH") == 0 && goos)
			error = goaccel_image_set_platform(img, goos, b->tc.values.strings[i], NULL);
	if (error == 0 && b->o->image_entrypoint_count == 1 && !*b->o->image_entrypoint[0])
		error = goaccel_image_set_entrypoint(img, NULL, 0); /* [""]: clear (ENTRYPOINT []) */
	else if (error == 0 && b->o->image_entrypoint_count)
		error = goaccel_image_set_entrypoint(img, b->o->image_entrypoint, b->o->image_entrypoint_count);
	else if (error == 0 && !b->o->image_cmd_count && b->res->output_count) {
		ga_buf e = GA_BUF_INIT;
		char *rel = bin_path(b, NULL, b->res->outputs[0].name);
		if (rel && ga_buf_printf(&e, "/%s", rel) == 0)
			entry = ga_buf_detach(&e);
		free(rel);
		if (!entry)
			error = ga_error_oom();
		else
			error = goaccel_image_set_entrypoint(img, (const char *const *)&entry, 1);
	}
	if (error == 0)
		error = configure_image(img, b->o);
	if (error == 0 &&
	    (error = goaccel_image_write_oci(&b->res->image_digest, img, b->o->image_dir,
	                                     b->o->image_ref ? b->o->image_ref : "latest")) == 0)
		b->res->has_image = 1;
done:
	goaccel_image_free(img);
	free(entry);
	free(layers);
	return error;
}

static int extract_step(ga_build *b)
{
	goaccel_extract_options xo = GOACCEL_EXTRACT_OPTIONS_INIT;
	int error;
	if ((error = step_start(b, GOACCEL_BUILD_STEP_EXTRACT, "copy the artifacts")) < 0)
		return error;
	if (b->o->dry_run || (!b->o->output_dir && !b->o->image_dir)) {
		ga_build_result_explain(b->res, GOACCEL_BUILD_STEP_EXTRACT,
		                        b->o->dry_run ? "dry run" : "no output directory or image asked for");
		return step_end(b, GOACCEL_BUILD_STATUS_SKIPPED);
	}
	/* Created directories belong to whoever runs the build, as cp would leave them. */
	xo.parent_uid = GOACCEL_EXTRACT_KEEP;
	xo.parent_gid = GOACCEL_EXTRACT_KEEP;
	if (b->outputs_written || (b->tree && b->o->output_dir && !b->o->image_dir)) {
		/* A miss without an image: the binaries go has just written were copied from the
		 * stable work dir while the store saved them, or are moved into place now (the
		 * store has its own copy). */
		if ((error = b->outputs_written ? finish_output(b, &xo) : move_into_output(b, &xo)) < 0) {
			b->res->steps[GOACCEL_BUILD_STEP_EXTRACT].status = GOACCEL_BUILD_STATUS_FAILED;
			return error;
		}
		ga_build_result_explain(b->res, GOACCEL_BUILD_STEP_EXTRACT, "%zu binar%s to the output directory",
		                        b->res->output_count, b->res->output_count == 1 ? "y" : "ies");
		return step_end(b, GOACCEL_BUILD_STATUS_MISS);
	}
	if (b->outputs_current) {
		if ((error = copy_items(b, b->o->output_dir, &xo)) < 0) {
			b->res->steps[GOACCEL_BUILD_STEP_EXTRACT].status = GOACCEL_BUILD_STATUS_FAILED;
			return error;
		}
		ga_build_result_explain(b->res, GOACCEL_BUILD_STEP_EXTRACT,
		                        "the output directory is up to date%s",
		                        b->o->copy_count ? " (copies refreshed)" : "");
		return step_end(b, b->o->copy_count ? GOACCEL_BUILD_STATUS_MISS : GOACCEL_BUILD_STATUS_SKIPPED);
	}
	if ((b->tree && (error = copy_items(b, b->tree, &xo)) < 0) ||
	    (b->o->output_dir && (error = write_output_dir(b, &xo)) < 0) ||
	    (b->o->image_dir && (error = write_image(b)) < 0)) {
		b->res->steps[GOACCEL_BUILD_STEP_EXTRACT].status = GOACCEL_BUILD_STATUS_FAILED;
		return error;
	}
	ga_build_result_explain(b->res, GOACCEL_BUILD_STEP_EXTRACT, "%zu binar%s%s%s",
	                        b->res->output_count, b->res->output_count == 1 ? "y" : "ies",
	                        b->o->output_dir ? " to the output directory" : "",
	                        b->o->image_dir ? (b->o->output_dir ? " and an image" : " to an image") : "");
	return step_end(b, GOACCEL_BUILD_STATUS_MISS);
}

/* Whether the output directory already holds exactly this build's outputs (an output stamp,
 * lib/build_outstamp.c): then neither the store nor the files are read or written. Only for
 * builds without an image (an image is made from a fresh tree). */
static int check_outputs(ga_build *b)
{
	const char *bd = b->o->bin_dir;
	if (b->o->dry_run || !b->o->output_dir || b->o->image_dir)
		return 0;
	if ((b->out_abs = realpath(b->o->output_dir, NULL)) == NULL)
		return 0; /* not there yet */
	while (bd && *bd == '/')
		bd++;
	return ga_build_outputs_current(&b->outputs_current, &b->stamp_duration_ns, b->res,
	                                goaccel_mount_path(b->state), b->out_abs, b->o->output_dir, bd,
	                                &b->build_id);
}

/* Output trees left behind by a build that was killed: removed once a day old (a live build's
 * tree is at most as old as that build). Failures are ignored: this is housekeeping. */
static void remove_stale_trees(const char *tmp)
{
	DIR *d = opendir(tmp);
	struct dirent *e;
	int64_t day_ago = ga_now_ns() / 1000000000 - 86400;
	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		char *p;
		if (strncmp(e->d_name, "tree-", 5) != 0 || (p = ga_path_join(tmp, e->d_name)) == NULL)
			continue;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && st.st_mtime < day_ago)
			ga_rm_rf(p);
		free(p);
	}
	closedir(d);
	goaccel_error_clear();
}

/* Stable work dirs left unused for a week are emptied (their binaries only serve go's up-to-date
 * check); one in use is locked and skipped. Failures are ignored: this is housekeeping. */
static void empty_stale_workdirs(const char *base, const char *own)
{
	DIR *d = opendir(base);
	struct dirent *e;
	int64_t cutoff = ga_now_ns() / 1000000000 - WORK_MAX_AGE_S;
	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		struct stat st;
		char *lock, *dir;
		int fd;
		if (len < 6 || strcmp(e->d_name + len - 5, ".lock") != 0 || strncmp(e->d_name, own, len - 5) == 0 ||
		    fstatat(dirfd(d), e->d_name, &st, 0) < 0 || st.st_mtime >= cutoff)
			continue;
		lock = ga_path_join(base, e->d_name);
		dir = lock ? strndup(lock, strlen(lock) - 5) : NULL;
		fd = lock ? open(lock, O_RDWR | O_CLOEXEC) : -1;
		if (fd >= 0 && dir && flock(fd, LOCK_EX | LOCK_NB) == 0)
			ga_rm_rf(dir); /* the lock file stays: a waiter may hold it open */
		if (fd >= 0)
			close(fd);
		free(lock);
		free(dir);
	}
	closedir(d);
	goaccel_error_clear();
}

/* The stable directory go builds one package into (docs/build.md, "The stable work dir"): the
 * same path for the same module directory, package and settings, so that `go build` finds its
 * previous binary there and skips the link when nothing it links changed (a go.mod edit, say).
 * Locked while in use; *used = 0 when another build holds it or the build has several packages
 * (then go builds into a fresh directory, as before). */
/* Marks dir (the stable work dirs' parent) as not for export: its binaries are in the store too,
 * and another machine's go would relink anyway. Best effort: without the marker they only make
 * exports bigger. */
static void mark_noexport(const char *dir)
{
	static const char text[] = "The stable work dirs of goaccel build: local state, left out of "
	                           "`goaccel cache export` (docs/build.md).\n";
	char *path = ga_path_join(dir, GOACCEL_MOUNT_NOEXPORT_MARKER);
	if (path && !ga_exists(path) &&
	    ga_write_file_atomic(path, text, sizeof(text) - 1, 0644, 0) < 0)
		goaccel_error_clear();
	free(path);
}

static int acquire_workdir(ga_build *b, int *used)
{
	const char *pkg = b->o->package_count ? b->o->packages[0] : ".";
	ga_buf id = GA_BUF_INIT;
	goaccel_digest d;
	char hex[GOACCEL_DIGEST_HEXSIZE + 1], name[40];
	char *base = NULL, *dir = NULL, *lock = NULL;
	DIR *dh;
	struct dirent *e;
	size_t i;
	int fd = -1, error;
	*used = 0;
	if (b->o->package_count > 1 || strstr(pkg, "..."))
		return 0; /* several binaries: a leftover one could not be told from a current one */
	ga_buf_printf(&id, "dir=%s\npackage=%s\ntags=%s\nldflags=%s\ngcflags=%s\ntrimpath=%d\n"
	              "buildvcs=%d\ncgo=%d\ngoos=%s\ngoarch=%s\n", b->dir, pkg, b->o->tags ? b->o->tags : "",
	              b->o->ldflags ? b->o->ldflags : "", b->o->gcflags ? b->o->gcflags : "",
	              b->o->trimpath, b->o->buildvcs, b->o->cgo, b->o->goos ? b->o->goos : "",
	              b->o->goarch ? b->o->goarch : "");
	for (i = 0; i < b->o->env_count; i++)
		ga_buf_printf(&id, "env=%s\n", b->o->env[i]);
	if (!id.ptr || (error = goaccel_digest_buffer(&d, id.ptr, id.size)) < 0) {
		error = id.ptr ? error : ga_error_oom();
		goto done;
	}
	goaccel_digest_fmt(hex, &d);
	snprintf(name, sizeof(name), "%.32s", hex);
	if ((base = ga_path_join(goaccel_mount_path(b->state), WORK_DIR)) == NULL ||
	    (dir = ga_path_join(base, name)) == NULL || asprintf(&lock, "%s.lock", dir) < 0) {
		lock = NULL;
		error = ga_error_oom();
		goto done;
	}
	if ((error = ga_mkdir_p(base, 0700)) < 0)
		goto done;
	mark_noexport(base);
	if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: open", lock);
		goto done;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			error = ga_error_os(GOACCEL_ERROR, errno, "%s: flock", lock);
		goto done; /* a concurrent build of the same package uses it: build elsewhere */
	}
	futimens(fd, NULL); /* last used, for empty_stale_workdirs() */
	if ((error = ga_mkdir_p(dir, 0755)) < 0)
		goto done;
	if (asprintf(&b->work_stamp, "%s.stamp", dir) < 0) {
		b->work_stamp = NULL;
		error = ga_error_oom();
		goto done;
	}
	/* Anything but the one binary the last build left there, unchanged since (it may be linked
	 * from an output directory, where someone could have written to it), is not go's doing:
	 * start afresh, and go links anew. */
	if ((dh = opendir(dir)) != NULL) {
		size_t n = 0, other = 0;
		char first[NAME_MAX + 1] = "", have[PATH_MAX + 128], want[PATH_MAX + 128];
		ga_buf stamp = GA_BUF_INIT;
		while ((e = readdir(dh)) != NULL) {
			struct stat st;
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			if (fstatat(dirfd(dh), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
			    n++ == 0)
				snprintf(first, sizeof(first), "%s", e->d_name);
			else if (!S_ISREG(st.st_mode))
				other++;
		}
		closedir(dh);
		if (n == 1 && !other) {
			snprintf(want, sizeof(want), "%s", "");
			if (ga_read_file(&stamp, b->work_stamp, sizeof(want) - 1) == 0 && stamp.ptr)
				snprintf(want, sizeof(want), "%s", stamp.ptr);
			goaccel_error_clear();
			if (!file_identity(have, sizeof(have), dir, first) || strcmp(have, want) != 0)
				other = 1;
		}
		ga_buf_dispose(&stamp);
		if ((n > 1 || other) && ((error = ga_rm_rf(dir)) < 0 || (error = ga_mkdir_p(dir, 0755)) < 0))
			goto done;
	}
	empty_stale_workdirs(base, name);
	b->gowork = dir;
	dir = NULL;
	b->work_fd = fd;
	fd = -1;
	*used = 1;
done:
	if (fd >= 0)
		close(fd);
	ga_buf_dispose(&id);
	free(base);
	free(dir);
	free(lock);
	return error;
}

/* The output tree an image is made from, and in it the directory for the binaries. On the
 * store's file system, so that restoring outputs can reflink where it allows. */
static int make_tree(ga_build *b)
{
	const char *bd = bin_dir_rel(b);
	char *tmp;
	int error;
	if ((tmp = ga_path_join(goaccel_mount_path(b->state), "tmp")) == NULL ||
	    (b->tree = ga_path_join(tmp, "tree-XXXXXX")) == NULL) {
		free(tmp);
		return ga_error_oom();
	}
	if ((error = ga_mkdir_p(tmp, 0700)) == 0)
		remove_stale_trees(tmp);
	free(tmp);
	if (error < 0)
		return error;
	if (!mkdtemp(b->tree))
		return ga_error_os(GOACCEL_ERROR, errno, "%s: mkdtemp", b->tree);
	if ((b->stage = bd ? ga_path_join(b->tree, bd) : strdup(b->tree)) == NULL)
		return ga_error_oom();
	return ga_mkdir_p(b->stage, 0755);
}

/* Where go writes the binaries on a miss: the stable work dir when it can, else the output
 * tree's binary directory (one copy less than building elsewhere and copying in). */
static int make_gowork(ga_build *b)
{
	int error, stable = 0;
	if ((error = acquire_workdir(b, &stable)) < 0 || stable)
		return error;
	if (!b->tree && (error = make_tree(b)) < 0)
		return error;
	if ((b->gowork = strdup(b->stage)) == NULL)
		return ga_error_oom();
	return 0;
}

/* The build step's lookup. A hit with somewhere to put the binaries (the output directory, or
 * the tree of an image) restores them in the same pass (goaccel_store_action_fetch(): each blob
 * is read once and verified while it is copied, instead of hashed by the lookup and then copied
 * by the restore); a dry run only peeks. */
static int lookup_build(ga_build *b)
{
	char *dest;
	int error;
	if (b->o->dry_run || (!b->o->output_dir && !b->stage))
		return lookup(&b->build_act, b, BUILD_KIND, &b->build_id);
	if ((dest = b->stage ? strdup(b->stage) : bin_path(b, b->o->output_dir, "")) == NULL)
		return ga_error_oom();
	error = goaccel_store_action_fetch(&b->build_act, b->store, BUILD_KIND, &b->build_id, dest, NULL);
	free(dest);
	if (error == GOACCEL_ENOTFOUND) {
		b->build_act = NULL;
		goaccel_error_clear();
		return 0;
	}
	b->fetched = error == 0;
	return error;
}

/* ---- the pipeline --------------------------------------------------------------------------- */

static void dispose(ga_build *b)
{
	size_t i;
	for (i = 0; b->mans && i < b->roots.count; i++) {
		free((char *)b->mans[i].rel);
		goaccel_manifest_free(b->mans[i].manifest);
	}
	free(b->mans);
	goaccel_strarray_dispose(&b->roots);
	goaccel_action_free(b->deps_act);
	goaccel_action_free(b->build_act);
	goaccel_key_free(b->deps_key);
	goaccel_key_free(b->build_key);
	ga_build_toolchain_dispose(&b->tc);
	goaccel_mount_release(b->gomod);
	goaccel_mount_release(b->gocache);
	goaccel_mount_release(b->state);
	goaccel_store_free(b->store);
	if (b->tree)
		ga_rm_rf(b->tree);
	free(b->stage);
	free(b->tree);
	free(b->gowork);
	free(b->work_stamp);
	if (b->work_fd >= 0)
		close(b->work_fd);
	free(b->envv);
	goaccel_strarray_dispose(&b->env);
	ga_buf_dispose(&b->log);
	free(b->target);
	free(b->dir);
	free(b->out_abs);
	goaccel_build_result_free(b->res);
}

int goaccel_go_build(goaccel_build_result **out, const char *module_dir,
                     const goaccel_build_options *opts)
{
	goaccel_build_options defaults = GOACCEL_BUILD_OPTIONS_INIT;
	ga_build b;
	int error;
	GA_ASSERT_ARG(out && module_dir);
	if (opts && opts->version == 1) {
		/* a version-1 struct ends after payload: take its fields, default the rest */
		memcpy(&defaults, opts, GA_BUILD_OPTIONS_V1_SIZE);
		defaults.version = GOACCEL_BUILD_OPTIONS_VERSION;
		opts = &defaults;
	}
	GA_CHECK_VERSION(opts, GOACCEL_BUILD_OPTIONS_VERSION, "goaccel_build_options");
	*out = NULL;
	memset(&b, 0, sizeof(b));
	b.work_fd = -1;
	b.o = opts ? opts : &defaults;
	if ((error = check_options(b.o)) < 0 || (error = setup(&b, module_dir)) < 0)
		goto done;
	if ((error = toolchain_step(&b)) < 0)
		goto done;
	/* Both keys and both lookups first: whether the download is needed depends on the build. */
	b.keys_ns = ga_monotonic_ns();
	if ((error = deps_key(&b)) < 0 || (error = lookup(&b.deps_act, &b, DEPS_KIND, &b.deps_id)) < 0 ||
	    (error = build_key(&b)) < 0 || (error = check_outputs(&b)) < 0 ||
	    (!b.o->dry_run && b.o->image_dir && (error = make_tree(&b)) < 0) ||
	    (!b.outputs_current && (error = lookup_build(&b)) < 0))
		goto done;
	b.keys_ns = ga_monotonic_ns() - b.keys_ns;
	if (!b.o->dry_run && !b.build_act && !b.outputs_current && (error = make_gowork(&b)) < 0)
		goto done;
	if ((error = deps_step(&b, b.build_act != NULL || b.outputs_current)) < 0 || (error = build_step(&b)) < 0 || (error = extract_step(&b)) < 0)
		goto done;
	if (!b.o->dry_run && (error = ga_build_remember(b.store, b.target, b.deps_key, b.build_key,
	                                                b.mans, b.roots.count)) < 0)
		goto done;
	*out = b.res;
	b.res = NULL;
done:
	dispose(&b);
	return error;
}
