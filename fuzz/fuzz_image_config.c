/* Fuzzes the image config reader, then builds on an accepted config the way a base image is
 * used: it becomes the image's config, the setters rewrite it, and it is written out again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image_object.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *cfg = NULL;
	size_t ndiff = 0;
	goaccel_image_options o = GOACCEL_IMAGE_OPTIONS_INIT;
	goaccel_image *img = NULL;
	const char *argv[] = {"/app"};
	char *out = NULL;
	if (ga_oci_parse_config(&cfg, &ndiff, (const char *)data, size, "config") != 0)
		return 0;
	o.source_date_epoch = 0;
	if (goaccel_image_new(&img, &o) == 0 && ga_image_adopt_config(img, cfg) == 0) {
		goaccel_image_set_env(img, "TZ", "Asia/Shanghai");
		goaccel_image_set_env(img, "PATH", NULL);
		goaccel_image_set_label(img, "a", "b");
		goaccel_image_add_port(img, "8080/tcp");
		goaccel_image_set_entrypoint(img, argv, 1);
		if (goaccel_image_config_json(&out, img) == 0) {
			json_t *back = json_loads(out, 0, NULL);
			if (!back) /* what we write must be JSON */
				abort();
			json_decref(back);
		}
		goaccel_free(out);
	}
	goaccel_image_free(img);
	json_decref(cfg);
	return 0;
}
