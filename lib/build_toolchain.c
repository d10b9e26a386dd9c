/* The toolchain identity of a build, remembered in the store across processes.
 *
 * goaccel_go_toolchain() (gomod layer) runs `go env -json` and caches the answer in the process.
 * A command-line tool is a new process every time, and a no-change rebuild must start no go
 * process at all, so the build layer records the identity as a store action keyed by everything
 * the go command's answer depends on: the go binary (resolved path, size, mtime, inode), every
 * environment variable the go command reads (GO*, CGO_*, CC, CXX, FC, PATH, HOME,
 * XDG_CONFIG_HOME), the content of its env file, and the go/toolchain lines of go.mod and go.work
 * (a `toolchain` line can switch toolchains). docs/build.md lists the key's fields. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "build_internal.h"
#include "goaccel/gomod.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/spawn.h"
#include "util/strarray.h"

#define TOOLCHAIN_KIND "go-toolchain"
#define TOOLCHAIN_OUTPUT "toolchain.json"

void ga_build_toolchain_dispose(ga_build_toolchain *tc)
{
	goaccel_strarray_dispose(&tc->names);
	goaccel_strarray_dispose(&tc->values);
}

static int env_name_is_read_by_go(const char *entry)
{
	static const char *const exact[] = {"CC=", "CXX=", "FC=", "PATH=", "HOME=", "XDG_CONFIG_HOME="};
	size_t i;
	if (strncmp(entry, "GOACCEL_", 8) == 0)
		return 0; /* ours, not go's */
	if (strncmp(entry, "GO", 2) == 0 || strncmp(entry, "CGO_", 4) == 0)
		return 1;
	for (i = 0; i < sizeof(exact) / sizeof(*exact); i++)
		if (strncmp(entry, exact[i], strlen(exact[i])) == 0)
			return 1;
	return 0;
}

/* The env file the go command reads (`go env GOENV`): $GOENV, else $XDG_CONFIG_HOME/go/env,
 * else $HOME/.config/go/env. Its digest, or "absent". */
static int add_goenv_file(goaccel_key *k, const char *const *envp)
{
	const char *goenv = ga_env_get(envp, "GOENV"), *xdg = ga_env_get(envp, "XDG_CONFIG_HOME");
	const char *home = ga_env_get(envp, "HOME");
	char *path = NULL;
	goaccel_digest d;
	int error;
	if (goenv && *goenv)
		path = strdup(strcmp(goenv, "off") ? goenv : "/dev/null/off");
	else if (xdg && *xdg)
		path = ga_path_join(xdg, "go/env");
	else if (home && *home)
		path = ga_path_join(home, ".config/go/env");
	if (!path || (error = goaccel_digest_file(&d, path)) == GOACCEL_ENOTFOUND ||
	    error == GOACCEL_EINVALID)
		error = goaccel_key_add_string(k, "goenv", "absent");
	else if (error == 0)
		error = goaccel_key_add_digest(k, "goenv", &d);
	free(path);
	return error;
}

/* The go and toolchain lines of the go.mod and go.work in effect (a missing file adds nothing;
 * a malformed one is left for the go command to report). */
static int add_version_lines(goaccel_key *k, const char *dir, const char *const *envp)
{
	goaccel_strarray roots = {NULL, 0};
	goaccel_gomod *mod = NULL;
	goaccel_gowork *work = NULL;
	char *gomod = NULL, *workpath = NULL;
	int error = 0;
	if (goaccel_gomod_input_roots(&roots, dir, envp) == 0 && roots.count > 0 &&
	    (gomod = ga_path_join(roots.strings[0], "go.mod")) != NULL &&
	    goaccel_gomod_parse_file(&mod, gomod) == 0) {
		const char *v = goaccel_gomod_go_version(mod), *t = goaccel_gomod_toolchain(mod);
		if ((error = goaccel_key_add_string(k, "go.mod:go", v ? v : "")) < 0 ||
		    (error = goaccel_key_add_string(k, "go.mod:toolchain", t ? t : "")) < 0)
			goto done;
	}
	if (goaccel_gomod_find_work(&workpath, dir, envp) == 0 &&
	    goaccel_gowork_parse_file(&work, workpath) == 0) {
		const char *v = goaccel_gowork_go_version(work), *t = goaccel_gowork_toolchain(work);
		if ((error = goaccel_key_add_string(k, "go.work:go", v ? v : "")) < 0 ||
		    (error = goaccel_key_add_string(k, "go.work:toolchain", t ? t : "")) < 0)
			goto done;
	}
done:
	goaccel_error_clear();
	goaccel_strarray_dispose(&roots);
	goaccel_gomod_free(mod);
	goaccel_gowork_free(work);
	free(gomod);
	goaccel_free(workpath);
	return error;
}

static int toolchain_key(goaccel_digest *out, const char *dir, const char *const *envp)
{
	goaccel_key *k = NULL;
	char *go = NULL, stat_str[96];
	struct stat st;
	const char *const *e;
	int error;
	if ((error = ga_spawn_which(&go, "go", envp)) < 0)
		return error;
	if (stat(go, &st) < 0) {
		error = ga_error_os(0, errno, "%s: stat", go);
		goto done;
	}
	snprintf(stat_str, sizeof(stat_str), "size=%lld mtime=%lld.%09ld ino=%llu dev=%llu",
	         (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
	         (unsigned long long)st.st_ino, (unsigned long long)st.st_dev);
	if ((error = goaccel_key_new(&k, TOOLCHAIN_KIND)) < 0 ||
	    (error = goaccel_key_add_string(k, "go", go)) < 0 ||
	    (error = goaccel_key_add_string(k, "go:stat", stat_str)) < 0 ||
	    (error = add_goenv_file(k, envp)) < 0 || (error = add_version_lines(k, dir, envp)) < 0)
		goto done;
	for (e = envp; *e; e++) {
		const char *eq = strchr(*e, '=');
		ga_buf name = GA_BUF_INIT;
		if (!eq || !env_name_is_read_by_go(*e))
			continue;
		if (ga_buf_puts(&name, "env:") < 0 || ga_buf_put(&name, *e, (size_t)(eq - *e)) < 0) {
			ga_buf_dispose(&name);
			error = GOACCEL_ERROR;
			goto done;
		}
		error = goaccel_key_add_string(k, name.ptr, eq + 1);
		ga_buf_dispose(&name);
		if (error == GOACCEL_EEXISTS)
			error = 0; /* a duplicated variable: the first one is what getenv sees */
		else if (error < 0)
			goto done;
	}
	error = goaccel_key_finish(out, k);
done:
	goaccel_key_free(k);
	free(go);
	return error;
}

static int fields_from_json(ga_build_toolchain *out, const char *data, size_t len)
{
	json_error_t jerr;
	json_t *doc = json_loadb(data, len, 0, &jerr), *v;
	const char *name;
	int error = 0;
	if (!json_is_object(doc)) {
		error = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_BUILD,
		                 "recorded toolchain identity is not a JSON object: %s", jerr.text);
		goto done;
	}
	/* jansson iterates in hash order; the names are sorted afterwards with their values. */
	json_object_foreach(doc, name, v) {
		if (!json_is_string(v)) {
			error = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_BUILD,
			                 "recorded toolchain field %s is not a string", name);
			goto done;
		}
		if ((error = ga_strarray_add(&out->names, name)) < 0 ||
		    (error = ga_strarray_add(&out->values, json_string_value(v))) < 0)
			goto done;
	}
	/* insertion sort of the pairs by name (a few dozen fields) */
	for (size_t i = 1; i < out->names.count; i++)
		for (size_t j = i; j > 0 && strcmp(out->names.strings[j - 1], out->names.strings[j]) > 0; j--) {
			char *t = out->names.strings[j];
			out->names.strings[j] = out->names.strings[j - 1];
			out->names.strings[j - 1] = t;
			t = out->values.strings[j];
			out->values.strings[j] = out->values.strings[j - 1];
			out->values.strings[j - 1] = t;
		}
done:
	json_decref(doc);
	return error;
}

static int from_store(ga_build_toolchain *out, goaccel_store *store, const goaccel_digest *key,
                      int dry_run)
{
	goaccel_lookup_options lo = GOACCEL_LOOKUP_OPTIONS_INIT;
	goaccel_action *act = NULL;
	const goaccel_action_output_info *info;
	void *data = NULL;
	size_t len = 0;
	int error;
	lo.flags = dry_run ? GOACCEL_LOOKUP_PEEK : 0; /* an explanation counts nothing */
	if ((error = goaccel_store_action_lookup_ext(&act, store, TOOLCHAIN_KIND, key, &lo)) < 0)
		return error;
	info = goaccel_action_output_byindex(act, 0);
	if (!info || strcmp(info->name, TOOLCHAIN_OUTPUT) != 0) {
		error = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_BUILD, "toolchain record has no %s",
		                 TOOLCHAIN_OUTPUT);
		goto done;
	}
	if ((error = goaccel_store_blob_get(&data, &len, store, &info->digest, 1 << 20)) < 0)
		goto done;
	error = fields_from_json(out, data, len);
done:
	goaccel_free(data);
	goaccel_action_free(act);
	return error;
}

static int from_go(ga_build_toolchain *out, goaccel_store *store, const goaccel_digest *key,
                   const char *dir, const char *const *envp, int dry_run)
{
	goaccel_toolchain *tc = NULL;
	goaccel_action_output o = {TOOLCHAIN_OUTPUT, NULL, 0644, NULL, 0};
	goaccel_action_meta meta = GOACCEL_ACTION_META_INIT;
	char *json = NULL;
	int64_t start = ga_monotonic_ns();
	size_t i, n;
	int error;
	if ((error = goaccel_go_toolchain(&tc, dir, envp, NULL)) < 0)
		return error;
	n = goaccel_toolchain_field_count(tc);
	for (i = 0; i < n; i++) {
		const goaccel_toolchain_field *f = goaccel_toolchain_field_byindex(tc, i);
		if ((error = ga_strarray_add(&out->names, f->name)) < 0 ||
		    (error = ga_strarray_add(&out->values, f->value)) < 0)
			goto done;
	}
	if (dry_run)
		goto done;
	if ((error = goaccel_toolchain_to_json(&json, tc)) < 0)
		goto done;
	o.data = json;
	o.size = strlen(json);
	meta.duration_ns = ga_monotonic_ns() - start;
	error = goaccel_store_action_put(store, key, TOOLCHAIN_KIND, &o, 1, &meta);
done:
	goaccel_free(json);
	goaccel_toolchain_free(tc);
	return error;
}

int ga_build_toolchain_get(ga_build_toolchain *out, int *hit, goaccel_digest *key_out,
                           goaccel_store *store, const char *dir, const char *const *envp,
                           int dry_run)
{
	int error;
	memset(out, 0, sizeof(*out));
	if ((error = toolchain_key(key_out, dir, envp)) < 0)
		return error;
	error = from_store(out, store, key_out, dry_run);
	if (error == 0) {
		*hit = 1;
		return 0;
	}
	/* A missing or unreadable record: ask the go command (and record its answer). */
	ga_build_toolchain_dispose(out);
	if (error != GOACCEL_ENOTFOUND && error != GOACCEL_ECORRUPT)
		return error;
	*hit = 0;
	if ((error = from_go(out, store, key_out, dir, envp, dry_run)) < 0)
		ga_build_toolchain_dispose(out);
	return error;
}
