/* Fuzzes the //go:embed scanner (a Go source file in, patterns out) and Go's path.Match port
 * (first line: pattern, rest: name). Patterns never contain a newline: a directive is one line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gomod_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	goaccel_strarray pats = {NULL, 0};
	char *s = malloc(size + 1), *nl;
	size_t i;
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (ga_gomod_embed_patterns(&pats, s, size) == 0)
		for (i = 0; i < pats.count; i++)
			if (strchr(pats.strings[i], '\n') && !memchr(data, '\\', size))
				abort();
	goaccel_strarray_dispose(&pats);
	nl = strchr(s, '\n');
	if (nl) {
		int r;
		*nl = '\0';
		r = ga_go_match(s, nl + 1);
		if (r < -1 || r > 1)
			abort();
		/* a well-formed pattern without metacharacters matches exactly itself */
		if (!strpbrk(s, "*?[\\") && ga_go_match(s, s) != 1)
			abort();
	}
	free(s);
	return 0;
}
