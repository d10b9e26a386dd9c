/*
 * ci-build: a custom build tool that embeds libgoaccel the way a CI runner would.
 *
 *     ci-build MODULE_DIR OUT_DIR [CACHE_DIR]
 *
 * It does by hand what goaccel_go_build() packages up, to show the lower layers:
 *   1. hash exactly the files `go build` reads (gomod + hash layers) and identify the toolchain;
 *   2. make a step key of them (key layer) and look it up in the store;
 *   3. on a miss: acquire the Go cache mounts, run `go build` with GOMODCACHE/GOCACHE on them,
 *      save the binaries as the step's outputs;
 *   4. restore the outputs and copy them into OUT_DIR with COPY --from semantics (extract).
 * It prints "hit" or "miss" and the key. Build: see CMakeLists.txt (find_package(goaccel)).
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <goaccel/goaccel.h>

extern char **environ;

#define CHECK(call)                                                                      \
	do {                                                                                 \
		if ((call) < 0) {                                                                \
			fprintf(stderr, "ci-build: %s: %s\n", #call, goaccel_error_last()->message); \
			goto done;                                                                   \
		}                                                                                \
	} while (0)

/* Runs `go build -trimpath -o STAGE/ .` in dir with both caches on their mounts. */
static int run_go_build(const char *dir, const char *stage, const char *modcache, const char *gocache)
{
	char out[4096], env_mod[4096], env_cache[4096];
	char *argv[] = {"go", "build", "-trimpath", "-o", out, ".", NULL};
	char **envp;
	size_t n = 0, i;
	pid_t pid;
	int status = -1;
	snprintf(out, sizeof(out), "%s/", stage);
	snprintf(env_mod, sizeof(env_mod), "GOMODCACHE=%s", modcache);
	snprintf(env_cache, sizeof(env_cache), "GOCACHE=%s", gocache);
	while (environ[n])
		n++;
	if ((envp = calloc(n + 3, sizeof(*envp))) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		envp[i] = environ[i];
	envp[n] = env_mod; /* later entries win for the go command (it reads the last one) */
	envp[n + 1] = env_cache;
	{
		posix_spawn_file_actions_t fa;
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addchdir_np(&fa, dir);
		if (posix_spawnp(&pid, "go", &fa, NULL, argv, envp) == 0)
			waitpid(pid, &status, 0);
		posix_spawn_file_actions_destroy(&fa);
	}
	free(envp);
	return status == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *dir, *out_dir;
	goaccel_store *store = NULL;
	goaccel_mount *gomod = NULL, *gocache = NULL;
	goaccel_toolchain *tc = NULL;
	goaccel_strarray inputs = {NULL, 0};
	goaccel_key *key = NULL;
	goaccel_action *action = NULL;
	goaccel_digest inputs_digest, tc_digest, id;
	char hex[GOACCEL_DIGEST_HEXSIZE + 1], stage[] = "/tmp/ci-build-XXXXXX";
	int rc = 1, error;
	size_t i;

	if (argc < 3) {
		fprintf(stderr, "usage: ci-build MODULE_DIR OUT_DIR [CACHE_DIR]\n");
		return 2;
	}
	dir = argv[1];
	out_dir = argv[2];
	if (goaccel_init() < 0 || !mkdtemp(stage))
		return 1;
	CHECK(goaccel_store_open(&store, argc > 3 ? argv[3] : NULL, NULL));

	/* 1. what the step depends on */
	CHECK(goaccel_gomod_build_inputs(&inputs, dir, NULL));
	CHECK(goaccel_hash_paths(&inputs_digest, NULL, dir, (const char *const *)inputs.strings,
	                         inputs.count, NULL));
	CHECK(goaccel_go_toolchain(&tc, dir, NULL, NULL));
	CHECK(goaccel_toolchain_digest(&tc_digest, tc));

	/* 2. the step key, looked up */
	CHECK(goaccel_key_new(&key, "ci-go-build"));
	CHECK(goaccel_key_add_digest(key, "inputs", &inputs_digest));
	CHECK(goaccel_key_add_digest(key, "toolchain", &tc_digest));
	CHECK(goaccel_key_add_string(key, "flags", "-trimpath"));
	CHECK(goaccel_key_finish(&id, key));
	goaccel_digest_fmt(hex, &id);

	error = goaccel_store_action_lookup(&action, store, "ci-go-build", &id);
	if (error == GOACCEL_ENOTFOUND) {
		/* 3. a miss: build with the caches mounted, save the binaries */
		goaccel_action_output outs[8];
		char *paths[8];
		size_t n = 0;
		printf("miss %s (%zu input files)\n", hex, inputs.count);
		CHECK(goaccel_mount_acquire(&gomod, store, "gomod", GOACCEL_MOUNT_SHARED, NULL));
		CHECK(goaccel_mount_acquire(&gocache, store, "gobuild", GOACCEL_MOUNT_SHARED, NULL));
		if (run_go_build(dir, stage, goaccel_mount_path(gomod), goaccel_mount_path(gocache)) < 0) {
			fprintf(stderr, "ci-build: go build failed\n");
			goto done;
		}
		{
			/* the module's binary is named after the last element of its path */
			goaccel_gomod *mod = NULL;
			char gomod_path[4096];
			const char *mp, *base;
			snprintf(gomod_path, sizeof(gomod_path), "%s/go.mod", dir);
			CHECK(goaccel_gomod_parse_file(&mod, gomod_path));
			mp = goaccel_gomod_module_path(mod);
			base = strrchr(mp, '/') ? strrchr(mp, '/') + 1 : mp;
			paths[n] = malloc(strlen(stage) + strlen(base) + 2);
			sprintf(paths[n], "%s/%s", stage, base);
			outs[n].name = strdup(base);
			outs[n].path = paths[n];
			outs[n].mode = -1;
			outs[n].data = NULL;
			outs[n].size = 0;
			n++;
			goaccel_gomod_free(mod);
		}
		error = goaccel_store_action_put(store, &id, "ci-go-build", outs, n, NULL);
		for (i = 0; i < n; i++) {
			free((char *)outs[i].name);
			free(paths[i]);
		}
		CHECK(error);
		CHECK(goaccel_store_action_lookup(&action, store, "ci-go-build", &id));
	} else {
		CHECK(error);
		printf("hit %s\n", hex);
	}

	/* 4. outputs out of the store, then COPY --from=stage / OUT_DIR/ */
	CHECK(goaccel_action_restore(action, stage, NULL));
	mkdir(out_dir, 0755); /* an existing OUT_DIR is fine */
	for (i = 0; i < goaccel_action_output_count(action); i++) {
		const goaccel_action_output_info *o = goaccel_action_output_byindex(action, i);
		goaccel_extract_item item = GOACCEL_EXTRACT_ITEM(o->name, "/");
		goaccel_extract_options xo = GOACCEL_EXTRACT_OPTIONS_INIT;
		xo.parent_uid = xo.parent_gid = GOACCEL_EXTRACT_KEEP;
		CHECK(goaccel_extract(out_dir, stage, &item, 1, &xo));
		printf("%s/%s\n", out_dir, o->name);
	}
	rc = 0;
done:
	{
		char cmd[64];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", stage); /* a tool may use a shell; the library never */
		if (system(cmd) != 0)
			rc = 1;
	}
	goaccel_action_free(action);
	goaccel_key_free(key);
	goaccel_strarray_dispose(&inputs);
	goaccel_toolchain_free(tc);
	goaccel_mount_release(gomod);
	goaccel_mount_release(gocache);
	goaccel_store_free(store);
	goaccel_shutdown();
	return rc;
}
