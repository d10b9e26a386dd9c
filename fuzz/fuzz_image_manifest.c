/* Fuzzes the image manifest reader (OCI and Docker schema 2). An accepted manifest has a config
 * descriptor of a config media type and only layers with a known OCI layer media type. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ga_oci_manifest m;
	size_t i;
	if (ga_oci_parse_manifest(&m, (const char *)data, size, "manifest") != 0)
		return 0;
	if (ga_oci_media_kind(m.config.media_type) != GA_MT_CONFIG)
		abort();
	for (i = 0; i < m.nlayers; i++)
		if (ga_oci_media_kind(m.layers[i].media_type) != GA_MT_LAYER ||
		    !ga_oci_layer_media_type(m.layers[i].media_type))
			abort();
	ga_oci_manifest_dispose(&m);
	return 0;
}
