/* Fuzzes the readers of the layer cache's own files, which a crash, a full disk or another
 * program can leave damaged: layer records (DIR/layers-v1/<key>.json and store action info) and
 * the stat cache (DIR/stat-v1/<root>.json). Damage must read as "no entry", never as a crash or
 * a wrong digest taken from a malformed field. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ga_layer_record r;
	json_t *entries;
	const char *key;
	json_t *v;
	if (ga_layer_parse_record(&r, (const char *)data, size)) {
		if (r.media_type[0] && ga_oci_media_kind(r.media_type) != GA_MT_LAYER)
			abort();
	}
	entries = ga_stat_cache_parse((const char *)data, size);
	if (!json_is_object(entries))
		abort();
	/* look every entry up with the stat values it claims: only well-formed ones may match */
	json_object_foreach(entries, key, v) {
		struct stat st;
		goaccel_digest d;
		memset(&st, 0, sizeof(st));
		if (json_is_array(v) && json_array_size(v) == 6) {
			json_int_t m = json_integer_value(json_array_get(v, 3));
			json_int_t c = json_integer_value(json_array_get(v, 4));
			st.st_dev = (dev_t)json_integer_value(json_array_get(v, 0));
			st.st_ino = (ino_t)json_integer_value(json_array_get(v, 1));
			st.st_size = (off_t)json_integer_value(json_array_get(v, 2));
			st.st_mtim.tv_sec = m / 1000000000;
			st.st_mtim.tv_nsec = m % 1000000000;
			st.st_ctim.tv_sec = c / 1000000000;
			st.st_ctim.tv_nsec = c % 1000000000;
		}
		if (ga_stat_cache_lookup(&d, entries, key, &st) &&
		    !json_is_string(json_array_get(v, 5)))
			abort();
	}
	json_decref(entries);
	return 0;
}
