/* Fuzzes goaccel_key_from_json (keys recorded by earlier builds are read back to explain
 * misses): anything accepted writes back to JSON that reads again to the same key. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "goaccel/goaccel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *json = NULL;
	goaccel_key *k = NULL, *k2 = NULL;
	goaccel_digest d1, d2;
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (goaccel_key_from_json(&k, s) == 0) {
		if (goaccel_key_to_json(&json, k) != 0 || goaccel_key_from_json(&k2, json) != 0)
			abort();
		if (goaccel_key_finish(&d1, k) != 0 || goaccel_key_finish(&d2, k2) != 0 || goaccel_digest_cmp(&d1, &d2))
			abort();
	}
	goaccel_free(json);
	goaccel_key_free(k);
	goaccel_key_free(k2);
	free(s);
	return 0;
}
