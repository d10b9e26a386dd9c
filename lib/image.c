/*
 * image: the image object — options, base images read from an OCI layout, layers, and the
 * configuration setters. Writers are in image_write.c, layers in image_layer.c, parsers in
 * image_oci.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image_internal.h"
#include "image_object.h"
#include "image_pgz.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/sha.h"

/* Manifests, indexes and configs larger than this are refused (GOACCEL_ELIMIT). */
#define MAX_JSON_BLOB (16u << 20)

#if defined(__x86_64__)
#define HOST_GOARCH "amd64"
#elif defined(__aarch64__)
#define HOST_GOARCH "arm64"
#elif defined(__i386__)
#define HOST_GOARCH "386"
#elif defined(__arm__)
#define HOST_GOARCH "arm"
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
#define HOST_GOARCH "ppc64le"
#elif defined(__s390x__)
#define HOST_GOARCH "s390x"
#elif defined(__riscv) && __riscv_xlen == 64
#define HOST_GOARCH "riscv64"
#else
#define HOST_GOARCH "unknown"
#endif

int goaccel_image_options_init(goaccel_image_options *opts, unsigned int version)
{
	GA_INIT_STRUCTURE(opts, version, goaccel_image_options, GOACCEL_IMAGE_OPTIONS_INIT);
	return 0;
}

int goaccel_layer_options_init(goaccel_layer_options *opts, unsigned int version)
{
	GA_INIT_STRUCTURE(opts, version, goaccel_layer_options, GOACCEL_LAYER_OPTIONS_INIT);
	return 0;
}

int ga_image_epoch(int64_t *out, int64_t opt)
{
	const char *env;
	char *end;
	long long v;
	if (opt >= 0) {
		*out = opt;
		return 0;
	}
	if (opt != GOACCEL_IMAGE_EPOCH_FROM_ENV)
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE, "source_date_epoch %lld is negative",
		                (long long)opt);
	env = getenv("SOURCE_DATE_EPOCH");
	if (!env || !*env) {
		*out = 0;
		return 0;
	}
	errno = 0;
	v = strtoll(env, &end, 10);
	if (errno || *end || v < 0 || v > 253402300799LL)
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE,
		                "SOURCE_DATE_EPOCH='%.40s' is not a number of seconds", env);
	*out = v;
	return 0;
}

void ga_image_rfc3339(char *buf, size_t size, int64_t epoch)
{
	time_t t = (time_t)epoch;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int set_str(char **dst, const char *value)
{
	char *copy = NULL;
	if (value && *value && (copy = strdup(value)) == NULL)
		return ga_error_oom();
	free(*dst);
	*dst = copy;
	return 0;
}

int goaccel_image_new(goaccel_image **out, const goaccel_image_options *opts)
{
	goaccel_image_options defaults = GOACCEL_IMAGE_OPTIONS_INIT;
	goaccel_image *img = NULL;
	int error;
	GA_ASSERT_ARG(out);
	*out = NULL;
	GA_CHECK_VERSION(opts, GOACCEL_IMAGE_OPTIONS_VERSION, "goaccel_image_options");
	if (!opts)
		opts = &defaults;
	if (opts->gzip_level < 0 || opts->gzip_level > 9)
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE, "gzip level %d is not 0..9",
		                opts->gzip_level);
	if ((img = calloc(1, sizeof(*img))) == NULL)
		return ga_error_oom();
	img->gzip_level = opts->gzip_level;
	img->threads = opts->threads ? opts->threads : ga_pgz_default_threads();
	if ((error = ga_image_epoch(&img->epoch, opts->source_date_epoch)) < 0)
		goto done;
	if ((error = set_str(&img->os, opts->os ? opts->os : "linux")) < 0 ||
	    (error = set_str(&img->architecture, opts->architecture ? opts->architecture : HOST_GOARCH)) < 0 ||
	    (error = set_str(&img->variant, opts->variant)) < 0)
		goto done;
	img->platform_set = opts->os || opts->architecture || opts->variant;
	if (opts->store) {
		img->store = opts->store;
		if ((error = goaccel_mount_acquire(&img->stat_mount, opts->store, GA_STATCACHE_MOUNT,
		                                   GOACCEL_MOUNT_SHARED, NULL)) < 0)
			goto done;
	} else if (opts->layer_cache) {
		if ((error = ga_mkdir_p(opts->layer_cache, 0755)) < 0)
			goto done;
		if ((img->cache_dir = strdup(opts->layer_cache)) == NULL) {
			error = ga_error_oom();
			goto done;
		}
	}
	if ((img->config = json_object()) == NULL || (img->history = json_array()) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	*out = img;
	img = NULL;
done:
	goaccel_image_free(img);
	return error;
}

static void layers_reset(goaccel_image *img)
{
	size_t i;
	for (i = 0; i < img->nlayers; i++) {
		free(img->layers[i].media_type);
		free(img->layers[i].blob_path);
		goaccel_action_free(img->layers[i].action);
	}
	free(img->layers);
	img->layers = NULL;
	img->nlayers = img->alayers = 0;
}

void goaccel_image_free(goaccel_image *img)
{
	if (!img)
		return;
	layers_reset(img);
	goaccel_mount_release(img->stat_mount);
	json_decref(img->config);
	json_decref(img->history);
	json_decref(img->base_config);
	free(img->os);
	free(img->architecture);
	free(img->variant);
	free(img->cache_dir);
	if (img->tmp_dir) {
		ga_rm_rf(img->tmp_dir);
		free(img->tmp_dir);
	}
	free(img);
}

int ga_image_tmp_dir(const char **out, goaccel_image *img)
{
	int error;
	if (!img->tmp_dir && (error = ga_mkdtemp(&img->tmp_dir, "goaccel-image")) < 0)
		return error;
	*out = img->tmp_dir;
	return 0;
}

static int layers_push(goaccel_image *img, ga_layer *layer)
{
	if (img->nlayers == img->alayers) {
		size_t n = img->alayers ? img->alayers * 2 : 8;
		ga_layer *p = realloc(img->layers, n * sizeof(*p));
		if (!p)
			return ga_error_oom();
		img->layers = p;
		img->alayers = n;
	}
	img->layers[img->nlayers++] = *layer;
	return 0;
}

/* ---- reading a base out of an OCI layout -------------------------------------------------- */

typedef struct {
	const char *dir;
	char *blobs; /* dir/blobs/sha256 */
} layout_reader;

static char *blob_file(const layout_reader *r, const goaccel_digest *d)
{
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	goaccel_digest_fmt(hex, d);
	return ga_path_join(r->blobs, hex);
}

/* Reads a JSON blob, checking its size and digest against the descriptor. */
static int read_json_blob(ga_buf *out, const layout_reader *r, const ga_descriptor *d)
{
	char *path = blob_file(r, &d->digest);
	goaccel_digest got;
	char want[72];
	int error;
	if (!path)
		return ga_error_oom();
	ga_digest_str(want, &d->digest);
	if (d->size > MAX_JSON_BLOB) {
		error = ga_error(GOACCEL_ELIMIT, GOACCEL_ERROR_IMAGE, "%s: %s of %llu bytes is too large",
		                 path, d->media_type, (unsigned long long)d->size);
		goto done;
	}
	if ((error = ga_read_file(out, path, MAX_JSON_BLOB)) < 0) {
		if (error == GOACCEL_ENOTFOUND)
			error = ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_IMAGE,
			                 "%s: blob %s (%s) is missing", r->dir, want, d->media_type);
		goto done;
	}
	if (out->size != d->size) {
		error = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_IMAGE,
		                 "%s: blob %s is %zu bytes, its descriptor says %llu", r->dir, want,
		                 out->size, (unsigned long long)d->size);
		goto done;
	}
	if ((error = goaccel_digest_buffer(&got, out->ptr, out->size)) < 0)
		goto done;
	if (goaccel_digest_cmp(&got, &d->digest) != 0)
		error = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_IMAGE,
		                 "%s: blob %s does not match its digest", r->dir, want);
done:
	free(path);
	return error;
}

static int verify_layer_blob(char **path_out, const layout_reader *r, const ga_descriptor *d)
{
	char *path = blob_file(r, &d->digest);
	goaccel_digest got;
	uint64_t size = 0;
	char want[72];
	int fd = -1, error;
	if (!path)
		return ga_error_oom();
	ga_digest_str(want, &d->digest);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		error = errno == ENOENT ? ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_IMAGE,
		                                   "%s: layer blob %s is missing", r->dir, want)
		                        : ga_error_os(GOACCEL_ERROR, errno, "%s: open", path);
		goto done;
	}
	if ((error = ga_digest_fd(&got, fd, path, &size)) < 0)
		goto done;
	if (size != d->size || goaccel_digest_cmp(&got, &d->digest) != 0) {
		error = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_IMAGE,
		                 "%s: layer blob %s does not match its descriptor (%llu bytes, expected %llu)",
		                 r->dir, want, (unsigned long long)size, (unsigned long long)d->size);
		goto done;
	}
	*path_out = path;
	path = NULL;
done:
	if (fd >= 0)
		close(fd);
	free(path);
	return error;
}

static int str_eq(const char *a, const char *b)
{
	return (!a || !*a) ? (!b || !*b) : (b && !strcmp(a, b));
}

/* Picks the entry of idx for the image's platform (a plain manifest without a platform counts
 * when it is the only candidate). */
static int pick_platform(const ga_descriptor **out, const goaccel_image *img,
                         const ga_descriptor *const *cand, size_t n, const char *where)
{
	size_t i;
	ga_buf list = GA_BUF_INIT;
	int error;
	if (n == 1 && !cand[0]->os) {
		*out = cand[0];
		return 0;
	}
	for (i = 0; i < n; i++) {
		const ga_descriptor *d = cand[i];
		if (d->os && !strcmp(d->os, img->os) && !strcmp(d->architecture, img->architecture) &&
		    (!img->variant || str_eq(d->variant, img->variant))) {
			*out = d;
			return 0;
		}
	}
	for (i = 0; i < n; i++)
		ga_buf_printf(&list, "%s%s/%s%s%s", i ? ", " : "", cand[i]->os ? cand[i]->os : "?",
		              cand[i]->architecture ? cand[i]->architecture : "?",
		              cand[i]->variant ? "/" : "", cand[i]->variant ? cand[i]->variant : "");
	error = ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_IMAGE,
	                 "%s: no manifest for platform %s/%s%s%s (present: %s)", where, img->os,
	                 img->architecture, img->variant ? "/" : "", img->variant ? img->variant : "",
	                 list.ptr ? list.ptr : "none");
	ga_buf_dispose(&list);
	return error;
}

/* Follows a descriptor (index or manifest) down to an image manifest. */
static int resolve_manifest(ga_oci_manifest *out, const layout_reader *r, const goaccel_image *img,
                            const ga_descriptor *d, int depth)
{
	ga_buf b = GA_BUF_INIT;
	ga_oci_index idx = {0};
	const ga_descriptor **cand = NULL, *pick;
	char name[96], dstr[72];
	size_t i;
	int error;
	ga_digest_str(dstr, &d->digest);
	snprintf(name, sizeof(name), "blob %.78s", dstr);
	switch (ga_oci_media_kind(d->media_type)) {
	case GA_MT_MANIFEST:
		if ((error = read_json_blob(&b, r, d)) == 0)
			error = ga_oci_parse_manifest(out, b.ptr, b.size, name);
		break;
	case GA_MT_INDEX:
		if (depth > 2) {
			error = ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE,
			                 "%s: image indexes nested too deeply", r->dir);
			break;
		}
		if ((error = read_json_blob(&b, r, d)) < 0 ||
		    (error = ga_oci_parse_index(&idx, b.ptr, b.size, name)) < 0)
			break;
		if (idx.count == 0) {
			error = ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_IMAGE, "%s: %s lists no manifests",
			                 r->dir, name);
			break;
		}
		if ((cand = calloc(idx.count, sizeof(*cand))) == NULL) {
			error = ga_error_oom();
			break;
		}
		for (i = 0; i < idx.count; i++)
			cand[i] = &idx.entries[i];
		if ((error = pick_platform(&pick, img, cand, idx.count, name)) == 0)
			error = resolve_manifest(out, r, img, pick, depth + 1);
		break;
	default:
		error = ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE,
		                 "%s: %s: unknown media type '%.100s' (not an image manifest or index)",
		                 r->dir, dstr, d->media_type);
	}
	free(cand);
	ga_oci_index_dispose(&idx);
	ga_buf_dispose(&b);
	return error;
}

/* Finds the descriptor(s) named ref in index.json and resolves them to a manifest. */
static int find_ref(ga_oci_manifest *out, const layout_reader *r, const goaccel_image *img,
                    const ga_oci_index *idx, const char *ref)
{
	const ga_descriptor **cand = NULL, *pick;
	ga_buf refs = GA_BUF_INIT;
	size_t i, n = 0;
	int error = 0;
	if ((cand = calloc(idx->count ? idx->count : 1, sizeof(*cand))) == NULL)
		return ga_error_oom();
	for (i = 0; i < idx->count; i++) {
		if (!ref || (idx->entries[i].ref_name && !strcmp(idx->entries[i].ref_name, ref)))
			cand[n++] = &idx->entries[i];
		ga_buf_printf(&refs, "%s'%s'", i ? ", " : "",
		              idx->entries[i].ref_name ? idx->entries[i].ref_name : "(none)");
	}
	if (n == 0) {
		error = ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_IMAGE,
		                 "%s/index.json: no manifest named '%s' (refs present: %s)", r->dir,
		                 ref ? ref : "", refs.ptr ? refs.ptr : "none");
		goto done;
	}
	if (!ref && n > 1 && idx->entries[0].ref_name) {
		error = ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE,
		                 "%s/index.json: %zu manifests and no ref given (refs present: %s)",
		                 r->dir, n, refs.ptr ? refs.ptr : "none");
		goto done;
	}
	if ((error = pick_platform(&pick, img, cand, n, "index.json")) < 0)
		goto done;
	error = resolve_manifest(out, r, img, pick, 0);
done:
	free(cand);
	ga_buf_dispose(&refs);
	return error;
}

int ga_image_adopt_config(goaccel_image *img, json_t *cfg)
{
	json_t *c = json_object_get(cfg, "config"), *h = json_object_get(cfg, "history");
	json_decref(img->config);
	json_decref(img->history);
	img->config = json_is_object(c) ? json_deep_copy(c) : json_object();
	img->history = json_is_array(h) ? json_deep_copy(h) : json_array();
	if (!img->config || !img->history)
		return ga_error_oom();
	if (!img->platform_set) {
		int error;
		const char *v = json_string_value(json_object_get(cfg, "variant"));
		if ((error = set_str(&img->os, json_string_value(json_object_get(cfg, "os")))) < 0 ||
		    (error = set_str(&img->architecture,
		                     json_string_value(json_object_get(cfg, "architecture")))) < 0 ||
		    (error = set_str(&img->variant, v)) < 0)
			return error;
	}
	json_decref(img->base_config);
	img->base_config = json_incref(cfg);
	return 0;
}

int goaccel_image_set_base(goaccel_image *img, const char *layout_dir, const char *ref)
{
	layout_reader r = {layout_dir, NULL};
	ga_buf b = GA_BUF_INIT;
	ga_oci_index idx = {0};
	ga_oci_manifest m = {0};
	json_t *cfg = NULL;
	size_t ndiff = 0, i;
	char *path = NULL, name[96];
	int error;
	GA_ASSERT_ARG(img);
	GA_ASSERT_ARG(layout_dir);
	for (i = 0; i < img->nlayers; i++)
		if (!img->layers[i].from_base)
			return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE,
			                "set_base: layers were already added to this image");
	if ((r.blobs = ga_path_join(layout_dir, "blobs/sha256")) == NULL ||
	    (path = ga_path_join(layout_dir, "oci-layout")) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	if ((error = ga_read_file(&b, path, 1 << 16)) < 0 ||
	    (error = ga_oci_check_layout(b.ptr, b.size, path)) < 0)
		goto done;
	free(path);
	ga_buf_clear(&b);
	if ((path = ga_path_join(layout_dir, "index.json")) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	if ((error = ga_read_file(&b, path, MAX_JSON_BLOB)) < 0 ||
	    (error = ga_oci_parse_index(&idx, b.ptr, b.size, path)) < 0 ||
	    (error = find_ref(&m, &r, img, &idx, ref)) < 0)
		goto done;
	ga_buf_clear(&b);
	if ((error = read_json_blob(&b, &r, &m.config)) < 0)
		goto done;
	ga_digest_str(name, &m.config.digest);
	if ((error = ga_oci_parse_config(&cfg, &ndiff, b.ptr, b.size, name)) < 0)
		goto done;
	if (ndiff != m.nlayers) {
		error = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_IMAGE,
		                 "%s: config %s lists %zu diff_ids for %zu layers", layout_dir, name,
		                 ndiff, m.nlayers);
		goto done;
	}
	layers_reset(img);
	for (i = 0; i < m.nlayers; i++) {
		ga_layer layer;
		memset(&layer, 0, sizeof(layer));
		layer.digest = m.layers[i].digest;
		layer.size = m.layers[i].size;
		layer.from_base = 1;
		goaccel_digest_parse(&layer.diff_id, json_string_value(json_array_get(
			json_object_get(json_object_get(cfg, "rootfs"), "diff_ids"), i)));
		if ((error = verify_layer_blob(&layer.blob_path, &r, &m.layers[i])) < 0)
			goto done;
		if ((layer.media_type = strdup(ga_oci_layer_media_type(m.layers[i].media_type))) == NULL ||
		    (error = layers_push(img, &layer)) < 0) {
			free(layer.blob_path);
			free(layer.media_type);
			error = error ? error : ga_error_oom();
			goto done;
		}
	}
	error = ga_image_adopt_config(img, cfg);
done:
	if (error)
		layers_reset(img);
	json_decref(cfg);
	ga_oci_manifest_dispose(&m);
	ga_oci_index_dispose(&idx);
	ga_buf_dispose(&b);
	free(path);
	free(r.blobs);
	return error;
}

static int valid_utf8_string(const char *s)
{
	json_t *j = json_string(s);
	int ok = j != NULL;
	json_decref(j);
	return ok;
}

/* ---- layers -------------------------------------------------------------------------------- */

static int add_history(goaccel_image *img, const goaccel_layer_options *o)
{
	char created[32];
	json_t *h;
	ga_image_rfc3339(created, sizeof(created), img->epoch);
	h = json_pack("{ssss}", "created", created, "created_by",
	              o->created_by ? o->created_by : "goaccel: layer from directory");
	if (!h)
		return ga_error_oom();
	if (o->comment && json_object_set_new(h, "comment", json_string(o->comment)) < 0) {
		json_decref(h);
		return ga_error_oom();
	}
	if (json_array_append_new(img->history, h) < 0)
		return ga_error_oom();
	return 0;
}

int goaccel_image_add_layer_dir(goaccel_image *img, const char *root, const goaccel_layer_options *opts)
{
	goaccel_layer_options defaults = GOACCEL_LAYER_OPTIONS_INIT;
	ga_layer_params p;
	ga_layer layer;
	const char *tmp = NULL;
	int error;
	GA_ASSERT_ARG(img);
	GA_ASSERT_ARG(root);
	GA_CHECK_VERSION(opts, GOACCEL_LAYER_OPTIONS_VERSION, "goaccel_layer_options");
	if (!opts)
		opts = &defaults;
	if ((opts->created_by && !valid_utf8_string(opts->created_by)) ||
	    (opts->comment && !valid_utf8_string(opts->comment)))
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE,
		                "layer options: created_by/comment must be UTF-8");
	if ((!img->cache_dir || img->store) && (error = ga_image_tmp_dir(&tmp, img)) < 0)
		return error;
	memset(&p, 0, sizeof(p));
	p.store = img->store;
	p.stat_dir = img->store ? goaccel_mount_path(img->stat_mount) : img->cache_dir;
	p.cache_dir = img->cache_dir;
	p.tmp_dir = tmp;
	p.epoch = img->epoch;
	p.gzip_level = img->gzip_level;
	p.threads = img->threads;
	p.opts = opts;
	if ((error = ga_layer_build(&layer, root, &p)) < 0)
		return error;
	if ((error = layers_push(img, &layer)) < 0) {
		free(layer.blob_path);
		free(layer.media_type);
		return error;
	}
	if ((error = add_history(img, opts)) < 0) {
		img->nlayers--;
		free(layer.blob_path);
		free(layer.media_type);
	}
	return error;
}

int goaccel_image_write_layer_tar(goaccel_digest *diff_id_out, const char *tar_path, const char *root,
                                  int64_t source_date_epoch, const goaccel_layer_options *opts)
{
	goaccel_layer_options defaults = GOACCEL_LAYER_OPTIONS_INIT;
	ga_layer_params p;
	goaccel_digest d;
	int error;
	GA_ASSERT_ARG(tar_path);
	GA_ASSERT_ARG(root);
	GA_CHECK_VERSION(opts, GOACCEL_LAYER_OPTIONS_VERSION, "goaccel_layer_options");
	memset(&p, 0, sizeof(p));
	p.opts = opts ? opts : &defaults;
	if ((error = ga_image_epoch(&p.epoch, source_date_epoch)) < 0 ||
	    (error = ga_layer_write_tar(&d, tar_path, root, &p)) < 0)
		return error;
	if (diff_id_out)
		*diff_id_out = d;
	return 0;
}

size_t goaccel_image_layercount(const goaccel_image *img)
{
	return img ? img->nlayers : 0;
}

int goaccel_image_layer_info(goaccel_layer_info *out, const goaccel_image *img, size_t idx)
{
	const ga_layer *l;
	GA_ASSERT_ARG(out);
	GA_ASSERT_ARG(img);
	if (idx >= img->nlayers)
		return ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_IMAGE, "layer %zu: the image has %zu",
		                idx, img->nlayers);
	l = &img->layers[idx];
	memset(out, 0, sizeof(*out));
	out->digest = l->digest;
	out->diff_id = l->diff_id;
	out->size = l->size;
	out->media_type = l->media_type;
	out->from_base = l->from_base;
	out->cache_hit = l->cache_hit;
	return 0;
}

/* ---- configuration ------------------------------------------------------------------------- */

static int set_argv(goaccel_image *img, const char *key, const char *const *argv, size_t argc)
{
	json_t *arr;
	size_t i;
	GA_ASSERT_ARG(img);
	GA_ASSERT_ARG(argv || argc == 0);
	if (argc == 0)
		return json_object_del(img->config, key), 0;
	if ((arr = json_array()) == NULL)
		return ga_error_oom();
	for (i = 0; i < argc; i++) {
		if (!argv[i] || !valid_utf8_string(argv[i])) {
			json_decref(arr);
			return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE,
			                "%s[%zu]: NULL or not UTF-8", key, i);
		}
		json_array_append_new(arr, json_string(argv[i]));
	}
	if (json_object_set_new(img->config, key, arr) < 0)
		return ga_error_oom();
	return 0;
}

int goaccel_image_set_entrypoint(goaccel_image *img, const char *const *argv, size_t argc)
{
	int error;
	GA_ASSERT_ARG(img);
	if ((error = set_argv(img, "Entrypoint", argv, argc)) < 0)
		return error;
	if (!img->cmd_set)
		json_object_del(img->config, "Cmd");
	return 0;
}

int goaccel_image_set_cmd(goaccel_image *img, const char *const *argv, size_t argc)
{
	int error;
	GA_ASSERT_ARG(img);
	if ((error = set_argv(img, "Cmd", argv, argc)) == 0)
		img->cmd_set = 1;
	return error;
}

int goaccel_image_set_env(goaccel_image *img, const char *name, const char *value)
{
	json_t *env, *fresh = NULL;
	size_t i, nlen;
	ga_buf b = GA_BUF_INIT;
	int error = 0, replaced = 0;
	GA_ASSERT_ARG(img);
	GA_ASSERT_ARG(name);
	nlen = strlen(name);
	if (!nlen || strchr(name, '=') || !valid_utf8_string(name) || (value && !valid_utf8_string(value)))
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE,
		                "env name '%s': must be non-empty UTF-8 without '='", name);
	env = json_object_get(img->config, "Env");
	if ((fresh = json_array()) == NULL)
		return ga_error_oom();
	if (value && (error = ga_buf_printf(&b, "%s=%s", name, value)) < 0)
		goto done;
	for (i = 0; json_is_array(env) && i < json_array_size(env); i++) {
		const char *s = json_string_value(json_array_get(env, i));
		if (s && !strncmp(s, name, nlen) && (s[nlen] == '=' || s[nlen] == '\0')) {
			if (value && !replaced)
				json_array_append_new(fresh, json_string(b.ptr));
			replaced = 1;
			continue;
		}
		json_array_append(fresh, json_array_get(env, i));
	}
	if (value && !replaced)
		json_array_append_new(fresh, json_string(b.ptr));
	if (json_array_size(fresh) == 0)
		json_object_del(img->config, "Env");
	else if (json_object_set(img->config, "Env", fresh) < 0)
		error = ga_error_oom();
done:
	json_decref(fresh);
	ga_buf_dispose(&b);
	return error;
}

static int set_config_string(goaccel_image *img, const char *key, const char *value)
{
	GA_ASSERT_ARG(img);
	if (!value || !*value)
		return json_object_del(img->config, key), 0;
	if (!valid_utf8_string(value))
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE, "%s: not UTF-8", key);
	if (json_object_set_new(img->config, key, json_string(value)) < 0)
		return ga_error_oom();
	return 0;
}

int goaccel_image_set_workdir(goaccel_image *img, const char *dir)
{
	return set_config_string(img, "WorkingDir", dir);
}

int goaccel_image_set_user(goaccel_image *img, const char *user)
{
	return set_config_string(img, "User", user);
}

/* Gets (creating) an object-valued field of config; a null or missing one becomes {}. */
static json_t *config_object(goaccel_image *img, const char *key)
{
	json_t *o = json_object_get(img->config, key);
	if (json_is_object(o))
		return o;
	o = json_object();
	if (!o || json_object_set_new(img->config, key, o) < 0) {
		ga_error_oom();
		return NULL;
	}
	return o;
}

int goaccel_image_set_label(goaccel_image *img, const char *key, const char *value)
{
	json_t *labels;
	GA_ASSERT_ARG(img);
	GA_ASSERT_ARG(key);
	if (!*key || !valid_utf8_string(key) || (value && !valid_utf8_string(value)))
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE, "label '%s': empty or not UTF-8", key);
	if (!value) {
		labels = json_object_get(img->config, "Labels");
		if (json_is_object(labels)) {
			json_object_del(labels, key);
			if (json_object_size(labels) == 0)
				json_object_del(img->config, "Labels");
		}
		return 0;
	}
	if ((labels = config_object(img, "Labels")) == NULL)
		return GOACCEL_ERROR;
	if (json_object_set_new(labels, key, json_string(value)) < 0)
		return ga_error_oom();
	return 0;
}

int goaccel_image_add_port(goaccel_image *img, const char *port)
{
	json_t *ports;
	char key[32];
	const char *proto = "tcp", *slash;
	char *end;
	long n;
	GA_ASSERT_ARG(img);
	GA_ASSERT_ARG(port);
	errno = 0;
	n = strtol(port, &end, 10);
	slash = end;
	if (end == port || errno || n < 1 || n > 65535 || (*slash && *slash != '/'))
		goto bad;
	if (*slash == '/') {
		proto = slash + 1;
		if (strcmp(proto, "tcp") && strcmp(proto, "udp") && strcmp(proto, "sctp"))
			goto bad;
	}
	snprintf(key, sizeof(key), "%ld/%s", n, proto);
	if ((ports = config_object(img, "ExposedPorts")) == NULL)
		return GOACCEL_ERROR;
	if (json_object_set_new(ports, key, json_object()) < 0)
		return ga_error_oom();
	return 0;
bad:
	return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE,
	                "port '%.40s': expected <1-65535>[/tcp|/udp|/sctp]", port);
}

int goaccel_image_set_platform(goaccel_image *img, const char *goos, const char *goarch,
                               const char *variant)
{
	int error;
	GA_ASSERT_ARG(img);
	GA_ASSERT_ARG(goos && *goos);
	GA_ASSERT_ARG(goarch && *goarch);
	if (!valid_utf8_string(goos) || !valid_utf8_string(goarch) ||
	    (variant && !valid_utf8_string(variant)))
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE, "platform: not UTF-8");
	if ((error = set_str(&img->os, goos)) < 0 || (error = set_str(&img->architecture, goarch)) < 0 ||
	    (error = set_str(&img->variant, variant)) < 0)
		return error;
	img->platform_set = 1;
	return 0;
}

/* The full config document as it is written (docs/image.md, "Config"). */
json_t *ga_image_config_doc(const goaccel_image *img)
{
	json_t *doc = img->base_config ? json_deep_copy(img->base_config) : json_object();
	json_t *ids = json_array(), *rootfs = NULL;
	char created[32], dstr[72];
	size_t i;
	if (!doc || !ids)
		goto oom;
	for (i = 0; i < img->nlayers; i++) {
		ga_digest_str(dstr, &img->layers[i].diff_id);
		if (json_array_append_new(ids, json_string(dstr)) < 0)
			goto oom;
	}
	rootfs = json_pack("{ssso}", "type", "layers", "diff_ids", ids);
	ids = NULL;
	ga_image_rfc3339(created, sizeof(created), img->epoch);
	if (!rootfs || json_object_set_new(doc, "rootfs", rootfs) < 0 ||
	    json_object_set_new(doc, "created", json_string(created)) < 0 ||
	    json_object_set_new(doc, "os", json_string(img->os)) < 0 ||
	    json_object_set_new(doc, "architecture", json_string(img->architecture)) < 0 ||
	    json_object_set(doc, "config", img->config) < 0 ||
	    json_object_set(doc, "history", img->history) < 0)
		goto oom;
	if (img->variant)
		json_object_set_new(doc, "variant", json_string(img->variant));
	else
		json_object_del(doc, "variant");
	return doc;
oom:
	json_decref(ids);
	json_decref(doc);
	ga_error_oom();
	return NULL;
}

int goaccel_image_config_json(char **out, const goaccel_image *img)
{
	json_t *doc;
	GA_ASSERT_ARG(out);
	GA_ASSERT_ARG(img);
	*out = NULL;
	if ((doc = ga_image_config_doc(img)) == NULL)
		return GOACCEL_ERROR;
	*out = ga_json_dump(doc);
	json_decref(doc);
	return *out ? 0 : GOACCEL_ERROR;
}
