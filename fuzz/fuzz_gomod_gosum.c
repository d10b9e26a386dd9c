/* Fuzzes go.sum verification with hostile go.sum content against an empty module cache: it
 * either verifies, reports problems, or names a malformed line — and never touches a path
 * outside the cache (module paths with ".." or a leading "/" are refused). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "goaccel/goaccel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], sum[96], cache[96];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	goaccel_gosum_report *r = NULL;
	FILE *f;
	size_t i;
	int rc;
	if (!dir[0]) {
		strcpy(dir, "/tmp/ga-fuzz-gosum-XXXXXX");
		if (!mkdtemp(dir))
			abort();
		snprintf(sum, sizeof(sum), "%s/go.sum", dir);
		snprintf(cache, sizeof(cache), "%s/cache", dir);
		mkdir(cache, 0755);
	}
	if (!(f = fopen(sum, "wb")))
		abort();
	fwrite(data, 1, size, f);
	fclose(f);
	rc = goaccel_gosum_verify(&r, cache, sum, NULL);
	if (rc != 0 && rc != GOACCEL_EMISMATCH && rc != GOACCEL_EINVALID && rc != GOACCEL_ERROR)
		abort();
	for (i = 0; i < goaccel_gosum_report_problem_count(r); i++) {
		const goaccel_gosum_problem *p = goaccel_gosum_report_problem_byindex(r, i);
		if (strncmp(p->path, cache, strlen(cache)) != 0 || strstr(p->path, "/../"))
			abort();
		if (p->kind != GOACCEL_GOSUM_MISSING)
			abort(); /* the cache is empty */
	}
	goaccel_gosum_report_free(r);
	return 0;
}
