/* goaccel gomod: what a Go build reads, Go's h1: hashes, go.sum verification, toolchain identity
 * (goaccel/gomod.h). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void gomod_usage(FILE *f)
{
	fprintf(f, "usage: goaccel gomod <subcommand> [options]\n"
	           "\n"
	           "  inputs [DIR] [--tests]     the files `go build` (or `go test`) reads: the input roots\n"
	           "                             (main module, go.work members, local replacements) and,\n"
	           "                             per root, exactly the selected files\n"
	           "  h1 DIR MODULE@VERSION      Go's h1: hash of an extracted module directory\n"
	           "  h1 --zip FILE              ... of a module zip (what go.sum records)\n"
	           "  h1 --mod FILE              ... of a go.mod file (go.sum's /go.mod lines)\n"
	           "  verify [GOSUM] [--modcache DIR | --cache DIR]\n"
	           "                             check a module cache against go.sum like `go mod verify`\n"
	           "                             (default GOSUM ./go.sum; default cache $GOMODCACHE, else\n"
	           "                             $GOPATH/pkg/mod, else ~/go/pkg/mod; --cache: the store's\n"
	           "                             gomod mount); --ignore-missing checks only what is there\n"
	           "  toolchain [DIR]            the toolchain identity a build in DIR would use\n"
	           "\n"
	           "exit codes: 0 ok, 1 failure, 2 usage, 4 verify found problems\n");
}

static int gomod_inputs(int argc, char **argv)
{
	goaccel_strarray roots = {NULL, 0};
	goaccel_gomod_inputs_options io = GOACCEL_GOMOD_INPUTS_OPTIONS_INIT;
	const char *dir = ".";
	size_t i, j;
	int rc = CLI_OK, k;
	for (k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--tests"))
			io.tests = 1;
		else if (argv[k][0] == '-')
			return cli_usage_error("gomod inputs", "bad option '%s'", argv[k]);
		else
			dir = argv[k];
	}
	if (goaccel_gomod_input_roots(&roots, dir, NULL) < 0)
		return cli_fail("gomod inputs");
	for (i = 0; i < roots.count && rc == CLI_OK; i++) {
		goaccel_strarray files = {NULL, 0};
		if (goaccel_gomod_build_inputs(&files, roots.strings[i], &io) < 0) {
			rc = cli_fail("gomod inputs");
			break;
		}
		printf("# root %s (%zu files)\n", roots.strings[i], files.count);
		for (j = 0; j < files.count; j++)
			printf("%s\n", files.strings[j]);
		goaccel_strarray_dispose(&files);
	}
	goaccel_strarray_dispose(&roots);
	return rc;
}

static int gomod_h1(int argc, char **argv)
{
	char *h = NULL;
	int error;
	if (argc == 3 && !strcmp(argv[1], "--zip"))
		error = goaccel_h1_zip(&h, argv[2]);
	else if (argc == 3 && !strcmp(argv[1], "--mod"))
		error = goaccel_h1_gomod(&h, argv[2]);
	else if (argc == 3 && argv[1][0] != '-') {
		char *at = strrchr(argv[2], '@'), *mod;
		if (!at || at == argv[2] || !at[1])
			return cli_usage_error("gomod h1", "expected MODULE@VERSION, got '%s'", argv[2]);
		mod = strndup(argv[2], (size_t)(at - argv[2]));
		error = mod ? goaccel_h1_dir(&h, argv[1], mod, at + 1) : GOACCEL_ERROR;
		free(mod);
	} else {
		return cli_usage_error("gomod h1", "expected DIR MODULE@VERSION, --zip FILE or --mod FILE");
	}
	if (error < 0)
		return cli_fail("gomod h1");
	printf("%s\n", h);
	goaccel_free(h);
	return CLI_OK;
}

static char *default_modcache(void)
{
	const char *v = getenv("GOMODCACHE"), *gp = getenv("GOPATH"), *home = getenv("HOME");
	char buf[4096];
	if (v && *v)
		return strdup(v);
	if (gp && *gp) {
		size_t n = strcspn(gp, ":");
		snprintf(buf, sizeof(buf), "%.*s/pkg/mod", (int)n, gp);
		return strdup(buf);
	}
	snprintf(buf, sizeof(buf), "%s/go/pkg/mod", home ? home : "");
	return strdup(buf);
}

static int gomod_verify(int argc, char **argv)
{
	goaccel_gosum_options go = GOACCEL_GOSUM_OPTIONS_INIT;
	goaccel_gosum_report *rep = NULL;
	goaccel_store *store = NULL;
	goaccel_mount *mount = NULL;
	const char *gosum = "go.sum", *cache = NULL;
	char *modcache = NULL;
	int k, error, rc = CLI_OK, use_store = 0;
	size_t i, n;
	for (k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--modcache") && k + 1 < argc)
			modcache = strdup(argv[++k]);
		else if (!strcmp(argv[k], "--cache") && k + 1 < argc)
			cache = argv[++k], use_store = 1;
		else if (!strcmp(argv[k], "--store"))
			use_store = 1;
		else if (!strcmp(argv[k], "--ignore-missing"))
			go.ignore_missing = 1;
		else if (argv[k][0] == '-')
			return cli_usage_error("gomod verify", "bad option '%s'", argv[k]);
		else
			gosum = argv[k];
	}
	if (use_store) {
		free(modcache);
		modcache = NULL;
		if (goaccel_store_open(&store, cache, NULL) < 0 ||
		    goaccel_mount_acquire(&mount, store, "gomod", GOACCEL_MOUNT_SHARED, NULL) < 0) {
			rc = cli_fail("gomod verify");
			goto done;
		}
		modcache = strdup(goaccel_mount_path(mount));
	} else if (!modcache) {
		modcache = default_modcache();
	}
	error = goaccel_gosum_verify(&rep, modcache, gosum, &go);
	if (error < 0 && error != GOACCEL_EMISMATCH) {
		rc = cli_fail("gomod verify");
		goto done;
	}
	n = goaccel_gosum_report_problem_count(rep);
	for (i = 0; i < n; i++) {
		const goaccel_gosum_problem *p = goaccel_gosum_report_problem_byindex(rep, i);
		printf("%s %s: %s\n", p->module_path, p->version, p->detail);
	}
	printf("%zu checked, %zu problem%s (%s against %s)\n", goaccel_gosum_report_checked(rep), n,
	       n == 1 ? "" : "s", modcache, gosum);
	rc = n ? CLI_MISMATCH : CLI_OK;
done:
	goaccel_gosum_report_free(rep);
	goaccel_mount_release(mount);
	goaccel_store_free(store);
	free(modcache);
	return rc;
}

static int gomod_toolchain(int argc, char **argv)
{
	goaccel_toolchain *tc = NULL;
	goaccel_digest d;
	char hex[GOACCEL_DIGEST_HEXSIZE + 8];
	size_t i;
	if (goaccel_go_toolchain(&tc, argc > 1 ? argv[1] : ".", NULL, NULL) < 0)
		return cli_fail("gomod toolchain");
	for (i = 0; i < goaccel_toolchain_field_count(tc); i++) {
		const goaccel_toolchain_field *f = goaccel_toolchain_field_byindex(tc, i);
		printf("%s=%s\n", f->name, f->value);
	}
	goaccel_toolchain_digest(&d, tc);
	cli_fmt_digest(hex, &d);
	printf("# go %s, identity %s\n", goaccel_toolchain_go_path(tc), hex);
	goaccel_toolchain_free(tc);
	return CLI_OK;
}

int cmd_gomod(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;
	if (!sub || !strcmp(sub, "--help") || !strcmp(sub, "-h")) {
		gomod_usage(sub ? stdout : stderr);
		return sub ? CLI_OK : CLI_USAGE;
	}
	if (!strcmp(sub, "inputs"))
		return gomod_inputs(argc - 1, argv + 1);
	if (!strcmp(sub, "h1"))
		return gomod_h1(argc - 1, argv + 1);
	if (!strcmp(sub, "verify"))
		return gomod_verify(argc - 1, argv + 1);
	if (!strcmp(sub, "toolchain"))
		return gomod_toolchain(argc - 1, argv + 1);
	return cli_usage_error("gomod", "unknown subcommand '%s'", sub);
}
