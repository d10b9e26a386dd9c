/* Fuzzes goaccel_manifest_from_json: any input is rejected or gives a manifest that serialises
 * back to JSON which loads again to the same digest and entries. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "goaccel/goaccel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	goaccel_manifest *m = NULL, *again = NULL;
	char *json = NULL;
	size_t i;
	if (goaccel_manifest_from_json(&m, (const char *)data, size) < 0)
		return 0;
	if (goaccel_manifest_to_json(&json, m) < 0 || goaccel_manifest_from_json(&again, json, strlen(json)) < 0)
		abort();
	if (goaccel_digest_cmp(goaccel_manifest_digest(m), goaccel_manifest_digest(again)) != 0 ||
	    goaccel_manifest_entrycount(m) != goaccel_manifest_entrycount(again))
		abort();
	for (i = 0; i < goaccel_manifest_entrycount(m); i++)
		if (strcmp(goaccel_manifest_entry_byindex(m, i)->path, goaccel_manifest_entry_byindex(again, i)->path) != 0 ||
		    goaccel_manifest_entry_bypath(m, goaccel_manifest_entry_byindex(m, i)->path) !=
		            goaccel_manifest_entry_byindex(m, i))
			abort();
	{
		goaccel_manifest_changes *ch = NULL;
		if (goaccel_manifest_diff(&ch, m, again) < 0 || goaccel_manifest_changes_count(ch) != 0)
			abort();
		goaccel_manifest_changes_free(ch);
	}
	goaccel_free(json);
	goaccel_manifest_free(again);
	goaccel_manifest_free(m);
	return 0;
}
