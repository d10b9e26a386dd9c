/*
 * image_tool: a small driver of the extract and image APIs for the shell tests
 * (tests/sh/image_*.sh) and the benchmark (bench/image/run). Uses only the public API.
 *
 *   image_tool build --out DIR [--ref REF] [--base DIR[:REF]] [--cache DIR | --store DIR] [--epoch N]
 *                    [--level N] [--layer ROOT[=PREFIX]]... [--entrypoint ARG]... [--cmd ARG]...
 *                    [--env K=V]... [--workdir D] [--user U] [--label K=V]... [--port P]...
 *                    [--platform OS/ARCH[/VARIANT]] [--docker-archive PATH[=TAG]]
 *       prints {"manifest":"sha256:...","ms":...,"cpu_ms":...,"layers":[{"digest":..,"diff_id":..,"cache_hit":..}]}
 *   image_tool extract [--epoch N] DST_ROOT SRC_ROOT SRC:DST[:UID:GID:MODE]...
 *   image_tool tar [--epoch N] ROOT OUT.tar        prints the diff_id
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <goaccel/goaccel.h>

#define MAXN 64

static int fail(const char *what, int rc)
{
	fprintf(stderr, "image_tool: %s: %s (%s)\n", what, goaccel_error_last()->message,
	        goaccel_error_code_name(rc));
	return 1;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* user + system CPU time of this process, in ms: on a loaded machine it says what the work
 * costs when the wall clock also counts waiting for a core */
static double cpu_ms(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static void print_digest(const char *key, const goaccel_digest *d, const char *sep)
{
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	goaccel_digest_fmt(hex, d);
	printf("\"%s\":\"sha256:%s\"%s", key, hex, sep);
}

static int split_kv(char **k, char **v, char *arg)
{
	char *eq = strchr(arg, '=');
	if (!eq)
		return -1;
	*eq = '\0';
	*k = arg;
	*v = eq + 1;
	return 0;
}

static int cmd_build(int argc, char **argv)
{
	goaccel_image_options io = GOACCEL_IMAGE_OPTIONS_INIT;
	goaccel_image *img = NULL;
	goaccel_store *store = NULL;
	goaccel_digest manifest;
	const char *out = NULL, *ref = NULL, *base = NULL, *archive = NULL, *workdir = NULL, *user = NULL;
	const char *platform = NULL;
	char *layers[MAXN], *envs[MAXN], *labels[MAXN], *ports[MAXN];
	const char *ep[MAXN], *cmd[MAXN];
	size_t nl = 0, ne = 0, nlab = 0, np = 0, nep = 0, ncmd = 0, i;
	int rc = 1, err, set_ep = 0, set_cmd = 0;
	double t0, c0;
	for (i = 0; i < (size_t)argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < (size_t)argc ? argv[i + 1] : NULL;
		if (!v) {
			fprintf(stderr, "image_tool: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--out")) out = v;
		else if (!strcmp(a, "--ref")) ref = v;
		else if (!strcmp(a, "--base")) base = v;
		else if (!strcmp(a, "--cache")) io.layer_cache = v;
		else if (!strcmp(a, "--store")) {
			if ((err = goaccel_store_open(&store, v, NULL)) < 0)
				return fail("store", err);
			io.store = store;
		}
		else if (!strcmp(a, "--epoch")) io.source_date_epoch = atoll(v);
		else if (!strcmp(a, "--level")) io.gzip_level = atoi(v);
		else if (!strcmp(a, "--layer") && nl < MAXN) layers[nl++] = argv[i];
		else if (!strcmp(a, "--entrypoint") && nep < MAXN) { ep[nep++] = v; set_ep = 1; }
		else if (!strcmp(a, "--cmd") && ncmd < MAXN) { cmd[ncmd++] = v; set_cmd = 1; }
		else if (!strcmp(a, "--env") && ne < MAXN) envs[ne++] = argv[i];
		else if (!strcmp(a, "--label") && nlab < MAXN) labels[nlab++] = argv[i];
		else if (!strcmp(a, "--port") && np < MAXN) ports[np++] = argv[i];
		else if (!strcmp(a, "--workdir")) workdir = v;
		else if (!strcmp(a, "--user")) user = v;
		else if (!strcmp(a, "--platform")) platform = v;
		else if (!strcmp(a, "--docker-archive")) archive = v;
		else {
			fprintf(stderr, "image_tool: unknown option %s\n", a);
			return 2;
		}
	}
	if (!out && !archive) {
		fprintf(stderr, "image_tool build: --out or --docker-archive is required\n");
		return 2;
	}
	t0 = now_ms();
	c0 = cpu_ms();
	if ((err = goaccel_image_new(&img, &io)) < 0) {
		rc = fail("new", err);
		goto done;
	}
	if (platform) {
		char *p = strdup(platform), *os = p, *arch = strchr(p, '/'), *variant = NULL;
		if (arch) {
			*arch++ = '\0';
			if ((variant = strchr(arch, '/')) != NULL)
				*variant++ = '\0';
		}
		err = goaccel_image_set_platform(img, os, arch ? arch : "", variant);
		free(p);
		if (err < 0) {
			rc = fail("platform", err);
			goto done;
		}
	}
	if (base) {
		char *b = strdup(base), *colon = strrchr(b, ':');
		if (colon)
			*colon++ = '\0';
		err = goaccel_image_set_base(img, b, colon);
		free(b);
		if (err < 0) {
			rc = fail("base", err);
			goto done;
		}
	}
	for (i = 0; i < nl; i++) {
		goaccel_layer_options lo = GOACCEL_LAYER_OPTIONS_INIT;
		char *k, *v, created_by[512];
		if (split_kv(&k, &v, layers[i]) == 0)
			lo.prefix = v;
		else
			k = layers[i];
		/* never the host path: history is part of the config, and so of the digest */
		snprintf(created_by, sizeof(created_by), "image_tool: layer at /%s", lo.prefix ? lo.prefix : "");
		lo.created_by = created_by;
		if ((err = goaccel_image_add_layer_dir(img, k, &lo)) < 0) {
			rc = fail(k, err);
			goto done;
		}
	}
	if (set_cmd && (err = goaccel_image_set_cmd(img, cmd, ncmd)) < 0) {
		rc = fail("cmd", err);
		goto done;
	}
	if (set_ep && (err = goaccel_image_set_entrypoint(img, ep, nep)) < 0) {
		rc = fail("entrypoint", err);
		goto done;
	}
	for (i = 0; i < ne; i++) {
		char *k, *v;
		if (split_kv(&k, &v, envs[i]) < 0 || (err = goaccel_image_set_env(img, k, v)) < 0) {
			rc = fail("env", GOACCEL_EINVALID);
			goto done;
		}
	}
	for (i = 0; i < nlab; i++) {
		char *k, *v;
		if (split_kv(&k, &v, labels[i]) < 0 || (err = goaccel_image_set_label(img, k, v)) < 0) {
			rc = fail("label", GOACCEL_EINVALID);
			goto done;
		}
	}
	for (i = 0; i < np; i++)
		if ((err = goaccel_image_add_port(img, ports[i])) < 0) {
			rc = fail("port", err);
			goto done;
		}
	if ((workdir && (err = goaccel_image_set_workdir(img, workdir)) < 0) ||
	    (user && (err = goaccel_image_set_user(img, user)) < 0)) {
		rc = fail("workdir/user", err);
		goto done;
	}
	memset(&manifest, 0, sizeof(manifest));
	if (out && (err = goaccel_image_write_oci(&manifest, img, out, ref)) < 0) {
		rc = fail("write_oci", err);
		goto done;
	}
	if (archive) {
		char *p = strdup(archive), *tag = strchr(p, '=');
		if (tag)
			*tag++ = '\0';
		err = goaccel_image_write_docker_archive(img, p, tag);
		free(p);
		if (err < 0) {
			rc = fail("write_docker_archive", err);
			goto done;
		}
	}
	printf("{");
	print_digest("manifest", &manifest, ",");
	printf("\"ms\":%.3f,\"cpu_ms\":%.3f,\"layers\":[", now_ms() - t0, cpu_ms() - c0);
	for (i = 0; i < goaccel_image_layercount(img); i++) {
		goaccel_layer_info li;
		goaccel_image_layer_info(&li, img, i);
		printf("%s{", i ? "," : "");
		print_digest("digest", &li.digest, ",");
		print_digest("diff_id", &li.diff_id, ",");
		printf("\"size\":%llu,\"from_base\":%d,\"cache_hit\":%d}", (unsigned long long)li.size,
		       li.from_base, li.cache_hit);
	}
	printf("]}\n");
	rc = 0;
done:
	goaccel_image_free(img);
	goaccel_store_free(store);
	return rc;
}

static int cmd_extract(int argc, char **argv)
{
	goaccel_extract_options o = GOACCEL_EXTRACT_OPTIONS_INIT;
	goaccel_extract_item items[MAXN];
	size_t n = 0;
	int i = 0, err;
	if (argc > 1 && !strcmp(argv[0], "--epoch")) {
		o.source_date_epoch = atoll(argv[1]);
		i = 2;
	}
	if (argc - i < 3) {
		fprintf(stderr, "usage: image_tool extract [--epoch N] DST SRC SRC:DST[:UID:GID:MODE]...\n");
		return 2;
	}
	for (int j = i + 2; j < argc && n < MAXN; j++, n++) {
		char *spec = argv[j], *f[5] = {0};
		int k = 0;
		for (char *tok = strtok(spec, ":"); tok && k < 5; tok = strtok(NULL, ":"))
			f[k++] = tok;
		if (k != 2 && k != 5) {
			fprintf(stderr, "image_tool: bad item %s\n", argv[j]);
			return 2;
		}
		items[n].src = f[0];
		items[n].dst = f[1];
		items[n].uid = k == 5 ? atoll(f[2]) : GOACCEL_EXTRACT_KEEP;
		items[n].gid = k == 5 ? atoll(f[3]) : GOACCEL_EXTRACT_KEEP;
		items[n].mode = k == 5 ? (int)strtol(f[4], NULL, 8) : GOACCEL_EXTRACT_KEEP;
	}
	if ((err = goaccel_extract(argv[i], argv[i + 1], items, n, &o)) < 0)
		return fail("extract", err);
	return 0;
}

static int cmd_tar(int argc, char **argv)
{
	goaccel_digest d;
	int64_t epoch = GOACCEL_IMAGE_EPOCH_FROM_ENV;
	int i = 0, err;
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	if (argc > 1 && !strcmp(argv[0], "--epoch")) {
		epoch = atoll(argv[1]);
		i = 2;
	}
	if (argc - i != 2) {
		fprintf(stderr, "usage: image_tool tar [--epoch N] ROOT OUT.tar\n");
		return 2;
	}
	if ((err = goaccel_image_write_layer_tar(&d, argv[i + 1], argv[i], epoch, NULL)) < 0)
		return fail("tar", err);
	goaccel_digest_fmt(hex, &d);
	printf("sha256:%s\n", hex);
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 2;
	if (goaccel_init() < 0)
		return fail("init", -1);
	if (argc >= 2 && !strcmp(argv[1], "build"))
		rc = cmd_build(argc - 2, argv + 2);
	else if (argc >= 2 && !strcmp(argv[1], "extract"))
		rc = cmd_extract(argc - 2, argv + 2);
	else if (argc >= 2 && !strcmp(argv[1], "tar"))
		rc = cmd_tar(argc - 2, argv + 2);
	else
		fprintf(stderr, "usage: image_tool build|extract|tar ...\n");
	goaccel_shutdown();
	return rc;
}
