/* Benchmark driver for the gomod layer (bench/gomod/run builds and runs it).
 *
 *   gomodbench toolchain MODULE_DIR WARM_ITERS
 *       cold: goaccel_go_toolchain with the cache bypassed (one `go env -json` each), 5 runs;
 *       warm: the cached call, WARM_ITERS runs. Prints "toolchain_cold_ms X", "toolchain_warm_us Y".
 *   gomodbench select ROOT ITERS
 *       goaccel_gomod_build_inputs on ROOT; prints "select_ms X files N" (mean over ITERS).
 *   gomodbench digest ROOT ITERS
 *       selection + goaccel_hash_paths (no stat cache); prints "select_hash_ms X".
 *   gomodbench h1 DIR ITERS
 *       goaccel_h1_dir; prints "h1_dir_ms X". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "goaccel/goaccel.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void check(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "%s: %s\n", what, goaccel_error_last()->message);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	int iters;
	double t0;
	if (argc != 4) {
		fprintf(stderr, "usage: gomodbench toolchain|select|digest|h1 DIR ITERS\n");
		return 2;
	}
	iters = atoi(argv[3]);
	goaccel_init();
	if (strcmp(argv[1], "toolchain") == 0) {
		goaccel_toolchain_options o = GOACCEL_TOOLCHAIN_OPTIONS_INIT;
		goaccel_toolchain *tc;
		int i;
		o.no_cache = 1;
		t0 = now_ms();
		for (i = 0; i < 5; i++) {
			check(goaccel_go_toolchain(&tc, argv[2], NULL, &o), "toolchain");
			goaccel_toolchain_free(tc);
		}
		printf("toolchain_cold_ms %.3f\n", (now_ms() - t0) / 5);
		check(goaccel_go_toolchain(&tc, argv[2], NULL, NULL), "toolchain"); /* fills the cache */
		goaccel_toolchain_free(tc);
		t0 = now_ms();
		for (i = 0; i < iters; i++) {
			check(goaccel_go_toolchain(&tc, argv[2], NULL, NULL), "toolchain");
			goaccel_toolchain_free(tc);
		}
		printf("toolchain_warm_us %.1f\n", (now_ms() - t0) * 1e3 / iters);
	} else if (strcmp(argv[1], "select") == 0 || strcmp(argv[1], "digest") == 0) {
		int i, hash = strcmp(argv[1], "digest") == 0;
		size_t n = 0;
		t0 = now_ms();
		for (i = 0; i < iters; i++) {
			goaccel_strarray sel = {NULL, 0};
			goaccel_digest d;
			check(goaccel_gomod_build_inputs(&sel, argv[2], NULL), "select");
			if (hash)
				check(goaccel_hash_paths(&d, NULL, argv[2], (const char *const *)sel.strings, sel.count, NULL),
				      "hash_paths");
			n = sel.count;
			goaccel_strarray_dispose(&sel);
		}
		printf("%s_ms %.3f files %zu\n", hash ? "select_hash" : "select", (now_ms() - t0) / iters, n);
	} else if (strcmp(argv[1], "h1") == 0) {
		int i;
		char *h = NULL;
		t0 = now_ms();
		for (i = 0; i < iters; i++) {
			goaccel_free(h);
			check(goaccel_h1_dir(&h, argv[2], "example.com/bench", "v1.0.0"), "h1_dir");
		}
		printf("h1_dir_ms %.3f %s\n", (now_ms() - t0) / iters, h);
		goaccel_free(h);
	}
	goaccel_shutdown();
	return 0;
}
