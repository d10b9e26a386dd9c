/* bench/store helper: the timed operations of the store benchmark (bench/store/run drives it).
 *
 *   bench_store action SIZE_BYTES RUNS [verify-cache]
 *                                            put, warm lookup+restore and warm fetch (lookup
 *                                            and restore in one pass) of an action holding
 *                                            one SIZE_BYTES binary; baseline: a plain copy of
 *                                            the same file (copy_file_range, no verification);
 *                                            verify-cache opens the store with verify_cache
 *   bench_store mount-path ROOT ID           creates the mount and prints its directory
 *   bench_store export ROOT ARCHIVE          exports every mount of the store
 *   bench_store import ROOT ARCHIVE          imports an archive into the store
 *
 * Prints key=value lines (times in milliseconds). Uses only the public API. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <goaccel/goaccel.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int die(const char *what)
{
	fprintf(stderr, "bench_store: %s: %s\n", what, goaccel_error_last()->message);
	return 1;
}

static int plain_copy(const char *src, const char *dst)
{
	int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	struct stat st;
	off_t left;
	if (in < 0 || out < 0 || fstat(in, &st) < 0)
		return -1;
	left = st.st_size;
	while (left > 0) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
		if (n <= 0)
			return -1;
		left -= n;
	}
	close(in);
	close(out);
	return 0;
}

static int bench_action(size_t size, int runs, int verify_cache)
{
	goaccel_store_options so = GOACCEL_STORE_OPTIONS_INIT;
	char tmpl[] = "/tmp/ga-bench-store-XXXXXX";
	char *dir = mkdtemp(tmpl), path[4200], root[4200], dest[4200], copy[4200];
	goaccel_store *s = NULL;
	goaccel_digest key;
	goaccel_action_output out = {"bin/app", NULL, 0755, NULL, 0};
	goaccel_action_meta meta = GOACCEL_ACTION_META_INIT;
	double *put = calloc((size_t)runs, sizeof(double)), *hit = calloc((size_t)runs, sizeof(double));
	double *lookup = calloc((size_t)runs, sizeof(double)), *base = calloc((size_t)runs, sizeof(double));
	double *hit_cpu = calloc((size_t)runs, sizeof(double)), *base_cpu = calloc((size_t)runs, sizeof(double));
	double *fetch = calloc((size_t)runs, sizeof(double)), *fetch_cpu = calloc((size_t)runs, sizeof(double));
	char *buf = malloc(size);
	size_t i;
	int r;
	FILE *f;
	if (!dir || !put || !hit || !lookup || !base || !buf || !hit_cpu || !base_cpu || !fetch ||
	    !fetch_cpu)
		return 1;
	srand(42);
	for (i = 0; i < size; i++)
		buf[i] = (char)(rand() >> 7); /* incompressible, like a binary's code */
	snprintf(path, sizeof(path), "%s/app", dir);
	snprintf(root, sizeof(root), "%s/store", dir);
	snprintf(dest, sizeof(dest), "%s/out", dir);
	snprintf(copy, sizeof(copy), "%s/copy", dir);
	f = fopen(path, "wb");
	fwrite(buf, 1, size, f);
	fclose(f);
	chmod(path, 0755);
	so.verify_cache = verify_cache;
	if (goaccel_store_open(&s, root, &so) < 0)
		return die("open");
	goaccel_digest_buffer(&key, "bench-action", 12);
	out.path = path;
	meta.duration_ns = 1000000000;
	for (r = 0; r < runs; r++) {
		double t0 = now_ms();
		if (goaccel_store_action_put(s, &key, "gobuild", &out, 1, &meta) < 0)
			return die("put");
		put[r] = now_ms() - t0;
	}
	/* warm: the blob is in the page cache, as on a second build of the same target */
	for (r = 0; r < runs; r++) {
		goaccel_action *a = NULL;
		double c0 = cpu_ms(), t0 = now_ms(), t1;
		if (goaccel_store_action_lookup(&a, s, "gobuild", &key) < 0)
			return die("lookup");
		t1 = now_ms();
		if (goaccel_action_restore(a, dest, NULL) < 0)
			return die("restore");
		hit[r] = now_ms() - t0;
		hit_cpu[r] = cpu_ms() - c0;
		lookup[r] = t1 - t0;
		goaccel_action_free(a);
	}
	/* fetch and the plain copy alternate, so both see the same machine */
	for (r = 0; r < runs; r++) {
		double c0 = cpu_ms(), t0 = now_ms();
		if (goaccel_store_action_fetch(NULL, s, "gobuild", &key, dest, NULL) < 0)
			return die("fetch");
		fetch[r] = now_ms() - t0;
		fetch_cpu[r] = cpu_ms() - c0;
		c0 = cpu_ms();
		t0 = now_ms();
		if (plain_copy(path, copy) < 0)
			return 1;
		base[r] = now_ms() - t0;
		base_cpu[r] = cpu_ms() - c0;
	}
	printf("action_size_bytes=%zu\nruns=%d\n", size, runs);
	printf("put_ms=%.2f\n", median(put, runs));
	printf("lookup_ms=%.2f\n", median(lookup, runs));
	printf("lookup_restore_ms=%.2f\n", median(hit, runs));
	printf("lookup_restore_max_ms=%.2f\n", hit[runs - 1]);
	printf("fetch_ms=%.2f\n", median(fetch, runs));
	printf("fetch_cpu_ms=%.2f\n", median(fetch_cpu, runs));
	printf("plain_copy_ms=%.2f\n", median(base, runs));
	printf("lookup_restore_cpu_ms=%.2f\n", median(hit_cpu, runs));
	printf("plain_copy_cpu_ms=%.2f\n", median(base_cpu, runs));
	goaccel_store_free(s);
	{
		char cmd[4300];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return 1;
	}
	free(put);
	free(hit);
	free(lookup);
	free(base);
	free(hit_cpu);
	free(base_cpu);
	free(fetch);
	free(fetch_cpu);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	goaccel_store *s = NULL;
	int rc = 0;
	goaccel_init();
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "action")) {
		rc = bench_action((size_t)strtoull(argv[2], NULL, 10), atoi(argv[3]),
		                  argc == 5 && !strcmp(argv[4], "verify-cache"));
	} else if (argc == 4 && !strcmp(argv[1], "mount-path")) {
		goaccel_mount *m = NULL;
		if (goaccel_store_open(&s, argv[2], NULL) < 0 ||
		    goaccel_mount_acquire(&m, s, argv[3], GOACCEL_MOUNT_LOCKED, NULL) < 0)
			return die("mount");
		printf("%s\n", goaccel_mount_path(m));
		goaccel_mount_release(m);
	} else if (argc == 4 && !strcmp(argv[1], "export")) {
		goaccel_export_options o = GOACCEL_EXPORT_OPTIONS_INIT;
		goaccel_transfer_result r;
		double t0 = now_ms();
		o.all_mounts = 1;
		o.actions = 1;
		if (getenv("GOACCEL_BENCH_THREADS"))
			o.threads = (unsigned int)atoi(getenv("GOACCEL_BENCH_THREADS"));
		o.refs = 1;
		if (goaccel_store_open(&s, argv[2], NULL) < 0 || goaccel_store_export(&r, s, argv[3], &o) < 0)
			return die("export");
		printf("export_ms=%.1f\nfiles=%llu\nbytes=%llu\n", now_ms() - t0,
		       (unsigned long long)r.files, (unsigned long long)r.bytes);
	} else if (argc == 4 && !strcmp(argv[1], "import")) {
		goaccel_transfer_result r;
		double t0 = now_ms();
		if (goaccel_store_open(&s, argv[2], NULL) < 0 || goaccel_store_import(&r, s, argv[3], NULL) < 0)
			return die("import");
		printf("import_ms=%.1f\nfiles=%llu\nbytes=%llu\n", now_ms() - t0,
		       (unsigned long long)r.files, (unsigned long long)r.bytes);
	} else {
		fprintf(stderr, "usage: bench_store action SIZE RUNS | mount-path ROOT ID | "
		                "export ROOT ARCHIVE | import ROOT ARCHIVE\n");
		rc = 2;
	}
	goaccel_store_free(s);
	goaccel_shutdown();
	return rc;
}
