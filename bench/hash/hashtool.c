/* bench/hash/hashtool: hashes a tree with libgoaccel and prints the digest (and, with --stats,
 * the counters). Built by bench/hash/run against the build directory's static library. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <goaccel/goaccel.h>

static void usage(void)
{
	fprintf(stderr, "usage: hashtool [--threads N] [--cache FILE] [--gitignore] [--follow] "
	                "[--ignore-file FILE] [--exclude PATTERN]... [--manifest OUT] [--stats] [--repeat N] ROOT\n"
	                "       hashtool --init-only\n");
	exit(2);
}

int main(int argc, char **argv)
{
	goaccel_hash_options opts = GOACCEL_HASH_OPTIONS_INIT;
	goaccel_hash_stats stats;
	goaccel_manifest *m = NULL;
	goaccel_digest d;
	const char **excl = calloc((size_t)argc, sizeof(char *));
	const char *manifest = NULL, *root = NULL;
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	int i, show_stats = 0, rc, repeat = 1, r;
	opts.stats = &stats;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			opts.threads = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--cache") && i + 1 < argc)
			opts.stat_cache = argv[++i];
		else if (!strcmp(argv[i], "--gitignore"))
			opts.gitignore = 1;
		else if (!strcmp(argv[i], "--follow"))
			opts.follow_symlinks = 1;
		else if (!strcmp(argv[i], "--ignore-file") && i + 1 < argc)
			opts.ignore_file = argv[++i];
		else if (!strcmp(argv[i], "--exclude") && i + 1 < argc)
			excl[opts.exclude_count++] = argv[++i];
		else if (!strcmp(argv[i], "--manifest") && i + 1 < argc)
			manifest = argv[++i];
		else if (!strcmp(argv[i], "--stats"))
			show_stats = 1;
		else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
			repeat = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--init-only")) {
			/* what every process pays once: start-up, dynamic loading, goaccel_init() */
			rc = goaccel_init() < 0;
			goaccel_shutdown();
			free(excl);
			return rc;
		}
		else if (argv[i][0] == '-' || root)
			usage();
		else
			root = argv[i];
	}
	if (!root)
		usage();
	opts.exclude = excl;
	if (goaccel_init() < 0)
		return 1;
	/* --repeat: the per-call cost for a program that embeds the library (initialised once) */
	for (r = 0; r < (repeat > 0 ? repeat : 1); r++) {
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = goaccel_hash_tree(&d, manifest && r == 0 ? &m : NULL, root, &opts);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (rc < 0) {
			fprintf(stderr, "hashtool: %s (%s)\n", goaccel_error_last()->message, goaccel_error_code_name(rc));
			return 1;
		}
		if (repeat > 1)
			fprintf(stderr, "call %d: %.3f ms\n", r + 1,
			        (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	}
	goaccel_digest_fmt(hex, &d);
	printf("%s\n", hex);
	if (show_stats)
		fprintf(stderr,
		        "entries=%llu dirs=%llu excluded=%llu files_hashed=%llu bytes_hashed=%llu cache_hits=%llu "
		        "cache_racy=%llu cache_loaded=%d cache_rejected=%d cache_written=%d\n",
		        (unsigned long long)stats.entries, (unsigned long long)stats.dirs,
		        (unsigned long long)stats.excluded, (unsigned long long)stats.files_hashed,
		        (unsigned long long)stats.bytes_hashed, (unsigned long long)stats.cache_hits,
		        (unsigned long long)stats.cache_racy, stats.cache_loaded, stats.cache_rejected,
		        stats.cache_written);
	if (manifest && goaccel_manifest_save(m, manifest) < 0) {
		fprintf(stderr, "hashtool: %s\n", goaccel_error_last()->message);
		return 1;
	}
	goaccel_manifest_free(m);
	free(excl);
	goaccel_shutdown();
	return 0;
}
