/* Fuzzes the readers of an OCI layout's top files: index.json (and nested image indexes /
 * Docker manifest lists) and oci-layout. Any input parses into checked descriptors or is
 * rejected with an error; nothing else. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ga_oci_index idx;
	size_t i;
	if (ga_oci_parse_index(&idx, (const char *)data, size, "index.json") == 0) {
		for (i = 0; i < idx.count; i++) {
			const ga_descriptor *d = &idx.entries[i];
			/* every descriptor has a media type, and a platform has both halves */
			if (!d->media_type || (d->os && !d->architecture) || (!d->os && d->architecture))
				abort();
			(void)ga_oci_media_kind(d->media_type);
		}
		ga_oci_index_dispose(&idx);
	}
	(void)ga_oci_check_layout((const char *)data, size, "oci-layout");
	return 0;
}
