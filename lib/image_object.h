/* Internal: the image object shared by lib/image.c and lib/image_write.c. */
#ifndef GOACCEL_IMAGE_OBJECT_H
#define GOACCEL_IMAGE_OBJECT_H

#include "image_internal.h"
#include "goaccel/mount.h"

struct goaccel_image {
	int64_t epoch;
	int gzip_level;
	unsigned threads;
	char *os, *architecture, *variant;
	int platform_set; /* the platform was chosen (options or set_platform): a base keeps its own otherwise */
	int cmd_set;      /* Cmd was set explicitly: set_entrypoint does not clear it */
	char *cache_dir;  /* layer cache, or NULL */
	goaccel_store *store;         /* layer cache in a store (borrowed), or NULL */
	goaccel_mount *stat_mount;    /* the store's mount holding the stat cache (SHARED) */
	char *tmp_dir;    /* private scratch directory, created on first use, removed by _free */
	json_t *base_config; /* the base's whole config document, or NULL */
	json_t *config;      /* the "config" section (Env, Entrypoint, ...) */
	json_t *history;     /* history entries, base first */
	ga_layer *layers;
	size_t nlayers, alayers;
};

/* The image's private scratch directory (created on first use). */
int ga_image_tmp_dir(const char **out, goaccel_image *img);
/* Takes a parsed base config (ga_oci_parse_config) as the image's starting config, history and
 * platform (unless chosen). cfg is not stolen. */
int ga_image_adopt_config(goaccel_image *img, json_t *cfg);
/* The config document as it would be written now (new reference), NULL on OOM. */
json_t *ga_image_config_doc(const goaccel_image *img);

#endif
