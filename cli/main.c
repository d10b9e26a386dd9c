/* The goaccel command: dispatch, usage and exit codes. Uses only the public API. Each command
 * group lives in its own file: build.c (build, explain), hash.c, gomod.c, cache.c. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: goaccel <command> [options]\n"
	        "\n"
	        "BuildKit-style caching for Go builds, without a daemon: the seed's Dockerfile\n"
	        "(go mod download + go build with cache mounts + COPY --from) as one command.\n"
	        "\n"
	        "commands:\n"
	        "  build [DIR]          build the Go module in DIR (default .): deps, build, extract steps,\n"
	        "                       each cached; a no-change rebuild runs no go process at all\n"
	        "  explain [DIR]        say which steps of `build` would hit or miss, and why (runs nothing)\n"
	        "  hash PATH            the tree digest of a file or directory\n"
	        "  gomod inputs|h1|verify|toolchain\n"
	        "                       what a Go build reads; Go's h1: hashes; go.sum checks\n"
	        "  cache du|ls|stats|prune|verify|export|import\n"
	        "                       inspect and maintain the cache store\n"
	        "  version              print the library version\n"
	        "  digest FILE...       print the SHA-256 of files\n"
	        "\n"
	        "`goaccel <command> --help` describes a command's options. The cache lives in\n"
	        "$GOACCEL_CACHE, else $XDG_CACHE_HOME/goaccel, else ~/.cache/goaccel (--cache DIR).\n"
	        "\n"
	        "exit codes:\n"
	        "  0    success\n"
	        "  1    failure (I/O, bad input, missing file; the message says which)\n"
	        "  2    usage error\n"
	        "  3    go build or go mod download failed (the compiler's output is shown)\n"
	        "  4    a verification found problems (cache verify, gomod verify)\n"
	        "  5    a cache mount stayed locked by another process\n"
	        "  130  interrupted\n");
}

static int cmd_version(void)
{
	printf("goaccel %s\n", goaccel_version(NULL, NULL, NULL));
	return 0;
}

static int cmd_digest(int argc, char **argv)
{
	int i;
	for (i = 0; i < argc; i++) {
		goaccel_digest d;
		char hex[GOACCEL_DIGEST_HEXSIZE + 1];
		if (goaccel_digest_file(&d, argv[i]) < 0)
			return cli_fail("digest");
		goaccel_digest_fmt(hex, &d);
		printf("sha256:%s  %s\n", hex, argv[i]);
	}
	return 0;
}

static void on_sigint(int sig)
{
	(void)sig;
	cli_interrupted = 1;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	const char *cmd;
	int rc;
	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (goaccel_init() < 0)
		return cli_fail("init");
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version"))
		rc = cmd_version();
	else if (!strcmp(cmd, "digest"))
		rc = cmd_digest(argc - 2, argv + 2);
	else if (!strcmp(cmd, "build"))
		rc = cmd_build(argc - 1, argv + 1, 0);
	else if (!strcmp(cmd, "explain"))
		rc = cmd_build(argc - 1, argv + 1, 1);
	else if (!strcmp(cmd, "hash"))
		rc = cmd_hash(argc - 1, argv + 1);
	else if (!strcmp(cmd, "gomod"))
		rc = cmd_gomod(argc - 1, argv + 1);
	else if (!strcmp(cmd, "cache"))
		rc = cmd_cache(argc - 1, argv + 1);
	else {
		fprintf(stderr, "goaccel: unknown command '%s'\n\n", cmd);
		usage(stderr);
		rc = CLI_USAGE;
	}
	goaccel_shutdown();
	return rc;
}
