/* The goaccel command. Uses only the public API (include/goaccel). */
#include <stdio.h>
#include <string.h>

#include <goaccel/goaccel.h>

static int fail(const char *what)
{
	const goaccel_error *e = goaccel_error_last();
	fprintf(stderr, "goaccel: %s: %s\n", what, e->message);
	return 1;
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
			return fail("digest");
		goaccel_digest_fmt(hex, &d);
		printf("sha256:%s  %s\n", hex, argv[i]);
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: goaccel <command> [args]\n\n"
	           "commands:\n"
	           "  version          print the library version\n"
	           "  digest FILE...   print the SHA-256 of files\n\n"
	           "exit codes: 0 success, 1 failure, 2 usage error\n");
}

int main(int argc, char **argv)
{
	int rc;
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (goaccel_init() < 0)
		return fail("init");
	if (!strcmp(argv[1], "version"))
		rc = cmd_version();
	else if (!strcmp(argv[1], "digest"))
		rc = cmd_digest(argc - 2, argv + 2);
	else {
		usage(stderr);
		rc = 2;
	}
	goaccel_shutdown();
	return rc;
}
