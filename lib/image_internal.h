/* Internal: shared between lib/image*.c (layers, OCI reading/writing, the image object). */
#ifndef GOACCEL_IMAGE_INTERNAL_H
#define GOACCEL_IMAGE_INTERNAL_H

#include <stdint.h>
#include <jansson.h>

#include "goaccel/image.h"
#include "util/buf.h"

/* Versions of the formats documented in docs/image.md. A change to the tar encoding or to the
 * cache key bumps GA_LAYER_ENCODING_VERSION, which is part of every layer key. */
#define GA_LAYER_ENCODING_VERSION 1

/* Media types. */
#define GA_MT_OCI_LAYOUT_INDEX "application/vnd.oci.image.index.v1+json"
#define GA_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define GA_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define GA_MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define GA_MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define GA_MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define GA_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define GA_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define GA_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define GA_MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar"
#define GA_MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define GA_REF_NAME_ANNOTATION "org.opencontainers.image.ref.name"
/* The store action kind of a cached layer, and the mount holding the stat cache. */
#define GA_LAYER_ACTION_KIND "image-layer"
#define GA_STATCACHE_MOUNT "goaccel-image-statcache"

/* What a media type names. */
typedef enum {
	GA_MT_UNKNOWN = 0,
	GA_MT_INDEX,    /* OCI image index or Docker manifest list */
	GA_MT_MANIFEST, /* OCI or Docker schema 2 image manifest */
	GA_MT_CONFIG,   /* image configuration */
	GA_MT_LAYER,    /* a layer; ga_oci_layer_media_type() gives its OCI name */
} ga_media_kind;

ga_media_kind ga_oci_media_kind(const char *media_type);
/* The OCI media type of a layer media type (Docker types mapped), or NULL if not a layer. */
const char *ga_oci_layer_media_type(const char *media_type);

/* A content descriptor read from a manifest or an index. */
typedef struct {
	char *media_type;
	goaccel_digest digest;
	uint64_t size;
	char *ref_name; /* org.opencontainers.image.ref.name, or NULL */
	char *os, *architecture, *variant; /* platform (index entries), or NULL */
} ga_descriptor;

void ga_descriptor_dispose(ga_descriptor *d);

typedef struct {
	ga_descriptor *entries;
	size_t count;
} ga_oci_index;

typedef struct {
	ga_descriptor config;
	ga_descriptor *layers;
	size_t nlayers;
} ga_oci_manifest;

/*
 * Parsers of outside data (fuzzed: fuzz/fuzz_image_*.c). name is the file name used in error
 * messages. All return 0 or GOACCEL_EINVALID (bad JSON, a missing or malformed field, an
 * unknown media type — the field is named), GOACCEL_ERROR (OOM). The output is the caller's.
 */
int ga_oci_parse_index(ga_oci_index *out, const char *json, size_t len, const char *name);
void ga_oci_index_dispose(ga_oci_index *idx);
int ga_oci_parse_manifest(ga_oci_manifest *out, const char *json, size_t len, const char *name);
void ga_oci_manifest_dispose(ga_oci_manifest *m);
/* Parses and checks an image config; *out is a new reference (json_decref). *ndiff_ids
 * receives the number of rootfs.diff_ids. */
int ga_oci_parse_config(json_t **out, size_t *ndiff_ids, const char *json, size_t len, const char *name);
/* Checks oci-layout content: 0, GOACCEL_EINVALID (bad JSON), GOACCEL_EVERSION (not 1.x). */
int ga_oci_check_layout(const char *json, size_t len, const char *name);

/* One layer of an image. */
typedef struct {
	goaccel_digest digest;
	goaccel_digest diff_id;
	uint64_t size;
	char *media_type;
	char *blob_path; /* where the blob can be read */
	int from_base;
	int cache_hit;
	goaccel_action *action; /* store mode: keeps the blob from being pruned while in use */
} ga_layer;

/* Deterministic layer writing (lib/image_layer.c). */
typedef struct {
	goaccel_store *store;  /* layer cache as store actions (takes precedence over cache_dir) */
	const char *stat_dir;  /* where the stat cache lives (cache_dir, or the store's mount) */
	const char *cache_dir; /* NULL: no cache */
	const char *tmp_dir;   /* where blobs go without a cache */
	int64_t epoch;
	int gzip_level; /* 0: uncompressed */
	unsigned threads; /* compression threads (the bytes do not depend on it) */
	const goaccel_layer_options *opts;
} ga_layer_params;

/* Builds (or finds in the cache) the layer for root; fills *out (blob_path and media_type are
 * new strings). */
int ga_layer_build(ga_layer *out, const char *root, const ga_layer_params *params);
/* Writes the uncompressed tar only. */
int ga_layer_write_tar(goaccel_digest *diff_id, const char *tar_path, const char *root,
                       const ga_layer_params *params);

/* A layer cache record (DIR/layers-v1/<key>.json, or a store action's info): the fields found
 * and well-formed are flagged; media_type is "" unless it names a layer type. Returns 1 for a
 * JSON object, 0 otherwise. Fuzzed (fuzz/fuzz_image_cache.c). */
typedef struct {
	goaccel_digest digest, diff_id;
	uint64_t size;
	int has_digest, has_diff_id, has_size;
	char media_type[96];
} ga_layer_record;
int ga_layer_parse_record(ga_layer_record *out, const char *json, size_t len);
/* The stat cache file's entries object (a new reference); anything unreadable gives {}. */
json_t *ga_stat_cache_parse(const char *json, size_t len);
struct stat;
/* 1 and the digest when the entry for rel matches st exactly. */
int ga_stat_cache_lookup(goaccel_digest *out, json_t *cache, const char *rel, const struct stat *st);

/* Resolves the epoch option: GOACCEL_IMAGE_EPOCH_FROM_ENV reads $SOURCE_DATE_EPOCH. */
int ga_image_epoch(int64_t *out, int64_t opt);
/* RFC 3339 UTC ("1970-01-01T00:00:00Z") into buf (at least 32 bytes). */
void ga_image_rfc3339(char *buf, size_t size, int64_t epoch);

/* "sha256:<hex>" into buf (72 bytes). */
void ga_digest_str(char buf[72], const goaccel_digest *d);

/* Canonical JSON of a value (sorted keys, compact, no trailing newline); NULL on OOM. */
char *ga_json_dump(const json_t *v);

#endif
