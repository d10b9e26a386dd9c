/* Fuzzes the .gitignore parser and git's wildmatch: the input is an ignore file, optionally
 * followed by a NUL byte and newline-separated paths (a trailing '/' marks a directory). Parsing
 * never fails on content; matching never crashes; a pattern without glob characters matches
 * exactly itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "goaccel/goaccel.h"
#include "util/hash_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *nul = memchr(data, '\0', size);
	size_t rlen = nul ? (size_t)(nul - text) : size;
	ga_gitignore_rules *r = NULL;
	if (ga_gitignore_rules_parse(&r, text, rlen, "") < 0)
		abort();
	if (nul) {
		const char *p = nul + 1, *end = text + size;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p), i;
			int is_dir = len > 0 && p[len - 1] == '/', literal = 1;
			size_t plen = is_dir ? len - 1 : len;
			(void)ga_gitignore_rules_match(r, p, plen, is_dir, 0);
			(void)ga_gitignore_rules_match(r, p, plen, is_dir, 1);
			/* the line as a pattern against the other lines' text and itself */
			for (i = 0; i < plen; i++)
				if (strchr("*?[\\", p[i]) || p[i] == '\0')
					literal = 0;
			if (literal && plen && !ga_gitignore_wildmatch(p, plen, p, plen, 1, 0))
				abort();
			(void)ga_gitignore_wildmatch(p, plen, text, rlen, 1, 1);
			(void)ga_gitignore_wildmatch(text, rlen, p, plen, 0, 0);
			p += len + 1;
		}
	}
	ga_gitignore_rules_free(r);
	return 0;
}
