/*
 * image: parsing OCI / Docker schema 2 documents (index.json, image indexes, manifests,
 * configs, oci-layout). Everything here reads outside data: every field is checked for type and
 * range, and errors name the file and the field. Fuzzed by fuzz/fuzz_image_*.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_internal.h"
#include "util/err.h"

static const struct {
	const char *type;
	ga_media_kind kind;
	const char *oci; /* OCI name of a layer type */
} media_types[] = {
	{GA_MT_OCI_LAYOUT_INDEX, GA_MT_INDEX, NULL},
	{GA_MT_DOCKER_LIST, GA_MT_INDEX, NULL},
	{GA_MT_OCI_MANIFEST, GA_MT_MANIFEST, NULL},
	{GA_MT_DOCKER_MANIFEST, GA_MT_MANIFEST, NULL},
	{GA_MT_OCI_CONFIG, GA_MT_CONFIG, NULL},
	{GA_MT_DOCKER_CONFIG, GA_MT_CONFIG, NULL},
	{GA_MT_OCI_LAYER, GA_MT_LAYER, GA_MT_OCI_LAYER},
	{GA_MT_OCI_LAYER_GZIP, GA_MT_LAYER, GA_MT_OCI_LAYER_GZIP},
	{GA_MT_OCI_LAYER_ZSTD, GA_MT_LAYER, GA_MT_OCI_LAYER_ZSTD},
	{"application/vnd.oci.image.layer.nondistributable.v1.tar", GA_MT_LAYER,
	 "application/vnd.oci.image.layer.nondistributable.v1.tar"},
	{"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", GA_MT_LAYER,
	 "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"},
	{"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", GA_MT_LAYER,
	 "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"},
	{GA_MT_DOCKER_LAYER, GA_MT_LAYER, GA_MT_OCI_LAYER},
	{GA_MT_DOCKER_LAYER_GZIP, GA_MT_LAYER, GA_MT_OCI_LAYER_GZIP},
	{"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", GA_MT_LAYER,
	 "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"},
};

ga_media_kind ga_oci_media_kind(const char *media_type)
{
	size_t i;
	for (i = 0; media_type && i < sizeof(media_types) / sizeof(media_types[0]); i++)
		if (!strcmp(media_types[i].type, media_type))
			return media_types[i].kind;
	return GA_MT_UNKNOWN;
}

const char *ga_oci_layer_media_type(const char *media_type)
{
	size_t i;
	for (i = 0; media_type && i < sizeof(media_types) / sizeof(media_types[0]); i++)
		if (!strcmp(media_types[i].type, media_type))
			return media_types[i].oci;
	return NULL;
}

void ga_digest_str(char buf[72], const goaccel_digest *d)
{
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	goaccel_digest_fmt(hex, d);
	snprintf(buf, 72, "sha256:%s", hex);
}

char *ga_json_dump(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	if (!s)
		ga_error_oom();
	return s;
}

void ga_descriptor_dispose(ga_descriptor *d)
{
	if (!d)
		return;
	free(d->media_type);
	free(d->ref_name);
	free(d->os);
	free(d->architecture);
	free(d->variant);
	memset(d, 0, sizeof(*d));
}

static json_t *load_json(const char *json, size_t len, const char *name, int *error)
{
	json_error_t jerr;
	json_t *v = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!v) {
		*error = ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_JSON, "%s: bad JSON at line %d column %d: %s",
		                  name, jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		*error = ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_JSON, "%s: not a JSON object", name);
		return NULL;
	}
	*error = 0;
	return v;
}

static int bad_field(const char *name, const char *field, const char *why)
{
	return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE, "%s: %s: %s", name, field, why);
}

/* An optional string field: *out is NULL when absent; a non-string is an error. */
static int opt_string(char **out, json_t *obj, const char *key, const char *name, const char *field)
{
	json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return bad_field(name, field, "must be a string");
	if ((*out = strdup(json_string_value(v))) == NULL)
		return ga_error_oom();
	return 0;
}

static int check_schema_version(json_t *doc, const char *name)
{
	json_t *v = json_object_get(doc, "schemaVersion");
	if (!json_is_integer(v) || json_integer_value(v) != 2)
		return bad_field(name, "schemaVersion", "must be the integer 2");
	return 0;
}

static int parse_digest_field(goaccel_digest *out, json_t *v, const char *name, const char *field)
{
	const char *s = json_string_value(v);
	if (!s)
		return bad_field(name, field, "must be a string \"sha256:<hex>\"");
	if (strncmp(s, "sha256:", 7) != 0)
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE,
		                "%s: %s: unsupported digest '%.80s' (only sha256 is supported)", name,
		                field, s);
	if (goaccel_digest_parse(out, s) < 0)
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE, "%s: %s: malformed digest '%.80s'",
		                name, field, s);
	return 0;
}

static int parse_descriptor(ga_descriptor *d, json_t *obj, const char *name, const char *field)
{
	json_t *size, *ann, *plat;
	char sub[160];
	int error;
	memset(d, 0, sizeof(*d));
	if (!json_is_object(obj))
		return bad_field(name, field, "must be an object");
	snprintf(sub, sizeof(sub), "%s.mediaType", field);
	if ((error = opt_string(&d->media_type, obj, "mediaType", name, sub)) < 0)
		goto done;
	if (!d->media_type) {
		error = bad_field(name, sub, "missing");
		goto done;
	}
	snprintf(sub, sizeof(sub), "%s.digest", field);
	if ((error = parse_digest_field(&d->digest, json_object_get(obj, "digest"), name, sub)) < 0)
		goto done;
	size = json_object_get(obj, "size");
	if (!json_is_integer(size) || json_integer_value(size) < 0) {
		snprintf(sub, sizeof(sub), "%s.size", field);
		error = bad_field(name, sub, "must be a non-negative integer");
		goto done;
	}
	d->size = (uint64_t)json_integer_value(size);
	if ((ann = json_object_get(obj, "annotations")) != NULL) {
		if (!json_is_object(ann)) {
			snprintf(sub, sizeof(sub), "%s.annotations", field);
			error = bad_field(name, sub, "must be an object");
			goto done;
		}
		snprintf(sub, sizeof(sub), "%s.annotations[%s]", field, GA_REF_NAME_ANNOTATION);
		if ((error = opt_string(&d->ref_name, ann, GA_REF_NAME_ANNOTATION, name, sub)) < 0)
			goto done;
	}
	if ((plat = json_object_get(obj, "platform")) != NULL) {
		snprintf(sub, sizeof(sub), "%s.platform", field);
		if (!json_is_object(plat)) {
			error = bad_field(name, sub, "must be an object");
			goto done;
		}
		if ((error = opt_string(&d->os, plat, "os", name, sub)) < 0 ||
		    (error = opt_string(&d->architecture, plat, "architecture", name, sub)) < 0 ||
		    (error = opt_string(&d->variant, plat, "variant", name, sub)) < 0)
			goto done;
		if (!d->os || !d->architecture) {
			error = bad_field(name, sub, "needs os and architecture");
			goto done;
		}
	}
done:
	if (error)
		ga_descriptor_dispose(d);
	return error;
}

void ga_oci_index_dispose(ga_oci_index *idx)
{
	size_t i;
	if (!idx)
		return;
	for (i = 0; i < idx->count; i++)
		ga_descriptor_dispose(&idx->entries[i]);
	free(idx->entries);
	idx->entries = NULL;
	idx->count = 0;
}

int ga_oci_parse_index(ga_oci_index *out, const char *json, size_t len, const char *name)
{
	json_t *doc, *mt, *manifests;
	size_t i;
	int error;
	memset(out, 0, sizeof(*out));
	if ((doc = load_json(json, len, name, &error)) == NULL)
		return error;
	if ((error = check_schema_version(doc, name)) < 0)
		goto done;
	mt = json_object_get(doc, "mediaType");
	if (mt && (!json_is_string(mt) || ga_oci_media_kind(json_string_value(mt)) != GA_MT_INDEX)) {
		error = ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE,
		                 "%s: mediaType: unknown media type '%.100s' for an image index", name,
		                 json_is_string(mt) ? json_string_value(mt) : "(not a string)");
		goto done;
	}
	manifests = json_object_get(doc, "manifests");
	if (!json_is_array(manifests)) {
		error = bad_field(name, "manifests", "must be an array");
		goto done;
	}
	if (json_array_size(manifests) &&
	    (out->entries = calloc(json_array_size(manifests), sizeof(*out->entries))) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	for (i = 0; i < json_array_size(manifests); i++) {
		char field[48];
		snprintf(field, sizeof(field), "manifests[%zu]", i);
		if ((error = parse_descriptor(&out->entries[i], json_array_get(manifests, i), name, field)) < 0)
			goto done;
		out->count++;
	}
done:
	json_decref(doc);
	if (error)
		ga_oci_index_dispose(out);
	return error;
}

void ga_oci_manifest_dispose(ga_oci_manifest *m)
{
	size_t i;
	if (!m)
		return;
	ga_descriptor_dispose(&m->config);
	for (i = 0; i < m->nlayers; i++)
		ga_descriptor_dispose(&m->layers[i]);
	free(m->layers);
	m->layers = NULL;
	m->nlayers = 0;
}

static int unknown_type(const char *name, const char *field, const char *type, const char *what)
{
	return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE,
	                "%s: %s: unknown media type '%.100s' for %s", name, field, type, what);
}

int ga_oci_parse_manifest(ga_oci_manifest *out, const char *json, size_t len, const char *name)
{
	json_t *doc, *mt, *layers;
	size_t i;
	int error;
	memset(out, 0, sizeof(*out));
	if ((doc = load_json(json, len, name, &error)) == NULL)
		return error;
	if ((error = check_schema_version(doc, name)) < 0)
		goto done;
	mt = json_object_get(doc, "mediaType");
	if (mt && (!json_is_string(mt) || ga_oci_media_kind(json_string_value(mt)) != GA_MT_MANIFEST)) {
		error = unknown_type(name, "mediaType",
		                     json_is_string(mt) ? json_string_value(mt) : "(not a string)",
		                     "an image manifest");
		goto done;
	}
	if ((error = parse_descriptor(&out->config, json_object_get(doc, "config"), name, "config")) < 0)
		goto done;
	if (ga_oci_media_kind(out->config.media_type) != GA_MT_CONFIG) {
		error = unknown_type(name, "config.mediaType", out->config.media_type, "an image config");
		goto done;
	}
	layers = json_object_get(doc, "layers");
	if (!json_is_array(layers)) {
		error = bad_field(name, "layers", "must be an array");
		goto done;
	}
	if (json_array_size(layers) &&
	    (out->layers = calloc(json_array_size(layers), sizeof(*out->layers))) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	for (i = 0; i < json_array_size(layers); i++) {
		char field[48];
		snprintf(field, sizeof(field), "layers[%zu]", i);
		if ((error = parse_descriptor(&out->layers[i], json_array_get(layers, i), name, field)) < 0)
			goto done;
		out->nlayers++;
		if (ga_oci_media_kind(out->layers[i].media_type) != GA_MT_LAYER) {
			snprintf(field, sizeof(field), "layers[%zu].mediaType", i);
			error = unknown_type(name, field, out->layers[i].media_type, "a layer");
			goto done;
		}
	}
done:
	json_decref(doc);
	if (error)
		ga_oci_manifest_dispose(out);
	return error;
}

static int check_string_array(json_t *arr, const char *name, const char *field)
{
	size_t i;
	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return bad_field(name, field, "must be an array of strings");
	for (i = 0; i < json_array_size(arr); i++)
		if (!json_is_string(json_array_get(arr, i)))
			return bad_field(name, field, "must be an array of strings");
	return 0;
}

static int check_object_field(json_t *obj, const char *key, const char *name, const char *field)
{
	json_t *v = json_object_get(obj, key);
	if (v && !json_is_null(v) && !json_is_object(v))
		return bad_field(name, field, "must be an object");
	return 0;
}

/* The parts of config.config this library reads or rewrites must have the right types. */
static int check_exec_config(json_t *c, const char *name)
{
	const char *k;
	json_t *v, *lv;
	int error;
	if (!c || json_is_null(c))
		return 0;
	if (!json_is_object(c))
		return bad_field(name, "config", "must be an object");
	if ((error = check_string_array(json_object_get(c, "Env"), name, "config.Env")) < 0 ||
	    (error = check_string_array(json_object_get(c, "Entrypoint"), name, "config.Entrypoint")) < 0 ||
	    (error = check_string_array(json_object_get(c, "Cmd"), name, "config.Cmd")) < 0 ||
	    (error = check_object_field(c, "Labels", name, "config.Labels")) < 0 ||
	    (error = check_object_field(c, "ExposedPorts", name, "config.ExposedPorts")) < 0 ||
	    (error = check_object_field(c, "Volumes", name, "config.Volumes")) < 0)
		return error;
	if ((v = json_object_get(c, "Labels")) != NULL && json_is_object(v))
		json_object_foreach(v, k, lv)
			if (!json_is_string(lv))
				return bad_field(name, "config.Labels", "values must be strings");
	return 0;
}

int ga_oci_parse_config(json_t **out, size_t *ndiff_ids, const char *json, size_t len, const char *name)
{
	json_t *doc, *rootfs, *ids, *hist, *c;
	size_t i;
	int error;
	*out = NULL;
	*ndiff_ids = 0;
	if ((doc = load_json(json, len, name, &error)) == NULL)
		return error;
	if (!json_is_string(json_object_get(doc, "architecture")) ||
	    !json_is_string(json_object_get(doc, "os"))) {
		error = bad_field(name, "architecture/os", "must be strings");
		goto done;
	}
	if (json_object_get(doc, "variant") && !json_is_string(json_object_get(doc, "variant"))) {
		error = bad_field(name, "variant", "must be a string");
		goto done;
	}
	rootfs = json_object_get(doc, "rootfs");
	if (!json_is_object(rootfs) || !json_is_string(json_object_get(rootfs, "type")) ||
	    strcmp(json_string_value(json_object_get(rootfs, "type")), "layers") != 0) {
		error = bad_field(name, "rootfs", "must be an object with type \"layers\"");
		goto done;
	}
	ids = json_object_get(rootfs, "diff_ids");
	if (!json_is_array(ids)) {
		error = bad_field(name, "rootfs.diff_ids", "must be an array");
		goto done;
	}
	for (i = 0; i < json_array_size(ids); i++) {
		goaccel_digest d;
		char field[48];
		snprintf(field, sizeof(field), "rootfs.diff_ids[%zu]", i);
		if ((error = parse_digest_field(&d, json_array_get(ids, i), name, field)) < 0)
			goto done;
	}
	hist = json_object_get(doc, "history");
	if (hist) {
		if (!json_is_array(hist)) {
			error = bad_field(name, "history", "must be an array");
			goto done;
		}
		for (i = 0; i < json_array_size(hist); i++)
			if (!json_is_object(json_array_get(hist, i))) {
				error = bad_field(name, "history", "entries must be objects");
				goto done;
			}
	}
	c = json_object_get(doc, "config");
	if ((error = check_exec_config(c, name)) < 0)
		goto done;
	*ndiff_ids = json_array_size(ids);
	*out = doc;
	doc = NULL;
done:
	json_decref(doc);
	return error;
}

int ga_oci_check_layout(const char *json, size_t len, const char *name)
{
	json_t *doc, *v;
	int error;
	if ((doc = load_json(json, len, name, &error)) == NULL)
		return error;
	v = json_object_get(doc, "imageLayoutVersion");
	if (!json_is_string(v))
		error = bad_field(name, "imageLayoutVersion", "must be a string");
	else if (strncmp(json_string_value(v), "1.", 2) != 0)
		error = ga_error(GOACCEL_EVERSION, GOACCEL_ERROR_IMAGE,
		                 "%s: imageLayoutVersion '%.40s' is not supported (1.x is)", name,
		                 json_string_value(v));
	json_decref(doc);
	return error;
}
