/* Fuzzes goaccel_digest_parse: any byte string either parses to a digest that formats back to
 * the same hex, or is rejected with an error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "goaccel/goaccel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	goaccel_digest d;
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (goaccel_digest_parse(&d, s) == 0) {
		const char *h = strncmp(s, "sha256:", 7) == 0 ? s + 7 : s;
		goaccel_digest_fmt(hex, &d);
		if (strcasecmp(hex, h) != 0)
			abort();
	}
	free(s);
	return 0;
}
