/* Fuzzes the .dockerignore parser and matcher: the input is a pattern file, optionally followed
 * by a NUL byte and newline-separated paths to match. Any input is either rejected with
 * GOACCEL_EINVALID or parsed; matching never crashes, and the walk's incremental evaluation
 * (parent hits carried down) agrees with the whole-path evaluation. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "goaccel/goaccel.h"
#include "util/hash_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_path(const ga_ignore *ig, const char *p, size_t len)
{
	size_t n = ga_ignore_count(ig), i;
	unsigned char *hits = calloc(n + 1, 2);
	int whole, incremental = 0;
	if (!hits)
		return;
	whole = ga_ignore_excluded(ig, p, len);
	for (i = 0; i <= len; i++) {
		if (i < len && p[i] != '/')
			continue;
		if (i == len) {
			incremental = ga_ignore_eval(ig, p, len, hits, NULL);
		} else {
			ga_ignore_eval(ig, p, i, hits, hits + n);
			memcpy(hits, hits + n, n);
		}
	}
	if (whole != incremental)
		abort();
	(void)ga_ignore_can_skip_dir(ig, p, len);
	for (i = 0; i < n; i++)
		(void)ga_ignore_pattern_matches(ig, i, p, len);
	free(hits);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *nul = memchr(data, '\0', size);
	size_t plen = nul ? (size_t)(nul - text) : size;
	ga_ignore *ig = NULL;
	if (ga_ignore_new(&ig) < 0)
		return 0;
	if (ga_ignore_add_buffer(ig, text, plen, "fuzz") == 0 && nul) {
		const char *p = nul + 1, *end = text + size;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
			if (!memchr(p, '\0', len))
				check_path(ig, p, len);
			p += len + 1;
		}
	} else if (goaccel_error_last()->code != GOACCEL_EINVALID && goaccel_error_last()->code != GOACCEL_OK) {
		/* only malformed patterns (or OOM) may fail */
		if (goaccel_error_last()->code != GOACCEL_ERROR)
			abort();
	}
	ga_ignore_free(ig);
	return 0;
}
