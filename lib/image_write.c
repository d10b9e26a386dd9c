/*
 * image: writing an image as an OCI image layout or as a docker-archive tarball
 * (docs/image.md, "Output").
 */
#include "util/dl_archive.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_object.h"
#include "util/err.h"
#include "util/fs.h"

#define MAX_INDEX_JSON (16u << 20)

/* ---- OCI image layout ---------------------------------------------------------------------- */

/* OCI's grammar for org.opencontainers.image.ref.name:
 * ref = component ("/" component)*, component = alnum (separator alnum)*,
 * separator = [-._:@+] | "--". */
static int valid_ref(const char *ref)
{
	const char *p = ref;
	int need_alnum = 1;
	if (!*p)
		return 0;
	while (*p) {
		char c = *p;
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (alnum) {
			need_alnum = 0;
			p++;
			continue;
		}
		if (need_alnum)
			return 0;
		if (c == '-' && p[1] == '-')
			p += 2;
		else if (strchr("-._:@+/", c))
			p++;
		else
			return 0;
		need_alnum = 1;
	}
	return !need_alnum;
}

static char *blob_dest(const char *blobs, const goaccel_digest *d)
{
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	goaccel_digest_fmt(hex, d);
	return ga_path_join(blobs, hex);
}

static int present_with_size(const char *path, uint64_t size)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == size;
}

/* Copies a blob file into blobs/ unless it is there with the right size (blobs are named by
 * their digest; like skopeo and umoci, an existing blob is trusted). */
static int put_blob_file(const char *blobs, const char *src, const goaccel_digest *d, uint64_t size)
{
	char *dest = blob_dest(blobs, d), *tmp = NULL;
	int fd, error = 0;
	if (!dest)
		return ga_error_oom();
	if (present_with_size(dest, size))
		goto done;
	if ((tmp = ga_path_join(blobs, ".tmp-blob-XXXXXX")) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: create", tmp);
		goto done;
	}
	close(fd);
	if ((error = ga_copy_file(src, tmp, 0644, 0)) < 0)
		goto done;
	if (!present_with_size(tmp, size)) {
		error = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_IMAGE,
		                 "%s: does not have the recorded size %llu", src, (unsigned long long)size);
		goto done;
	}
	if (rename(tmp, dest) < 0)
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: rename into place", dest);
done:
	if (error && tmp)
		unlink(tmp);
	free(tmp);
	free(dest);
	return error;
}

static int put_blob_bytes(goaccel_digest *out, const char *blobs, const char *data, size_t len)
{
	char *dest;
	int error;
	if ((error = goaccel_digest_buffer(out, data, len)) < 0)
		return error;
	if ((dest = blob_dest(blobs, out)) == NULL)
		return ga_error_oom();
	if (!present_with_size(dest, len))
		error = ga_write_file_atomic(dest, data, len, 0644, 0);
	free(dest);
	return error;
}

static json_t *descriptor(const char *media_type, const goaccel_digest *d, uint64_t size)
{
	char dstr[72];
	ga_digest_str(dstr, d);
	return json_pack("{sssssI}", "mediaType", media_type, "digest", dstr, "size", (json_int_t)size);
}

/* Makes the config and manifest documents; the manifest's bytes are returned in *manifest. */
static int make_manifest(char **manifest, char **config, const goaccel_image *img)
{
	json_t *cfg = NULL, *layers = NULL, *doc = NULL;
	goaccel_digest cd;
	size_t i;
	int error = 0;
	*manifest = *config = NULL;
	if ((cfg = ga_image_config_doc(img)) == NULL || (*config = ga_json_dump(cfg)) == NULL) {
		error = GOACCEL_ERROR;
		goto done;
	}
	if ((error = goaccel_digest_buffer(&cd, *config, strlen(*config))) < 0)
		goto done;
	if ((layers = json_array()) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	for (i = 0; i < img->nlayers; i++)
		if (json_array_append_new(layers, descriptor(img->layers[i].media_type, &img->layers[i].digest,
		                                             img->layers[i].size)) < 0) {
			error = ga_error_oom();
			goto done;
		}
	doc = json_pack("{sisssoso}", "schemaVersion", 2, "mediaType", GA_MT_OCI_MANIFEST, "config",
	                descriptor(GA_MT_OCI_CONFIG, &cd, strlen(*config)), "layers", layers);
	layers = NULL;
	if (!doc || (*manifest = ga_json_dump(doc)) == NULL)
		error = ga_error_oom();
done:
	json_decref(cfg);
	json_decref(layers);
	json_decref(doc);
	if (error) {
		free(*config);
		free(*manifest);
		*config = *manifest = NULL;
	}
	return error;
}

static int ensure_layout_file(const char *dir)
{
	static const char content[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	char *path = ga_path_join(dir, "oci-layout");
	ga_buf b = GA_BUF_INIT;
	int error;
	if (!path)
		return ga_error_oom();
	error = ga_read_file(&b, path, 1 << 16);
	if (error == GOACCEL_ENOTFOUND)
		error = ga_write_file_atomic(path, content, sizeof(content) - 1, 0644, 0);
	else if (error == 0)
		error = ga_oci_check_layout(b.ptr, b.size, path);
	ga_buf_dispose(&b);
	free(path);
	return error;
}

/* index.json: the existing entries except those named ref, then ours. */
static int write_index(const char *dir, const goaccel_image *img, const goaccel_digest *md,
                       size_t mlen, const char *ref)
{
	char *path = ga_path_join(dir, "index.json"), *text = NULL;
	ga_buf b = GA_BUF_INIT;
	json_t *doc = NULL, *manifests = NULL, *entry = NULL, *plat;
	size_t i;
	int error;
	if (!path)
		return ga_error_oom();
	error = ga_read_file(&b, path, MAX_INDEX_JSON);
	if (error == 0) {
		ga_oci_index check;
		json_t *old;
		/* validate fully before keeping anything of it */
		if ((error = ga_oci_parse_index(&check, b.ptr, b.size, path)) < 0)
			goto done;
		ga_oci_index_dispose(&check);
		old = json_object_get(doc = json_loadb(b.ptr, b.size, 0, NULL), "manifests");
		if ((manifests = json_array()) == NULL) {
			error = ga_error_oom();
			goto done;
		}
		for (i = 0; i < json_array_size(old); i++) {
			json_t *e = json_array_get(old, i);
			const char *name = json_string_value(
				json_object_get(json_object_get(e, "annotations"), GA_REF_NAME_ANNOTATION));
			if (ref && name && !strcmp(name, ref))
				continue;
			json_array_append(manifests, e);
		}
	} else if (error == GOACCEL_ENOTFOUND) {
		goaccel_error_clear();
		error = 0;
		doc = json_object();
		manifests = json_array();
	} else {
		goto done;
	}
	if (!doc || !manifests || (entry = descriptor(GA_MT_OCI_MANIFEST, md, mlen)) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	plat = json_pack("{ssss}", "os", img->os, "architecture", img->architecture);
	if (plat && img->variant)
		json_object_set_new(plat, "variant", json_string(img->variant));
	json_object_set_new(entry, "platform", plat);
	if (ref)
		json_object_set_new(entry, "annotations", json_pack("{ss}", GA_REF_NAME_ANNOTATION, ref));
	json_array_append_new(manifests, entry);
	json_object_set_new(doc, "schemaVersion", json_integer(2));
	json_object_set_new(doc, "mediaType", json_string(GA_MT_OCI_LAYOUT_INDEX));
	json_object_set(doc, "manifests", manifests);
	if ((text = ga_json_dump(doc)) == NULL) {
		error = GOACCEL_ERROR;
		goto done;
	}
	error = ga_write_file_atomic(path, text, strlen(text), 0644, 0);
done:
	free(text);
	json_decref(manifests);
	json_decref(doc);
	ga_buf_dispose(&b);
	free(path);
	return error;
}

int goaccel_image_write_oci(goaccel_digest *manifest_out, goaccel_image *img, const char *dir,
                            const char *ref)
{
	char *blobs = NULL, *manifest = NULL, *config = NULL;
	goaccel_digest md, cd;
	size_t i;
	int error;
	GA_ASSERT_ARG(img);
	GA_ASSERT_ARG(dir);
	if (ref && !valid_ref(ref))
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE,
		                "ref '%.100s' is not a valid org.opencontainers.image.ref.name", ref);
	if ((blobs = ga_path_join(dir, "blobs/sha256")) == NULL)
		return ga_error_oom();
	if ((error = ga_mkdir_p(blobs, 0755)) < 0 || (error = ensure_layout_file(dir)) < 0)
		goto done;
	for (i = 0; i < img->nlayers; i++)
		if ((error = put_blob_file(blobs, img->layers[i].blob_path, &img->layers[i].digest,
		                           img->layers[i].size)) < 0)
			goto done;
	if ((error = make_manifest(&manifest, &config, img)) < 0 ||
	    (error = put_blob_bytes(&cd, blobs, config, strlen(config))) < 0 ||
	    (error = put_blob_bytes(&md, blobs, manifest, strlen(manifest))) < 0 ||
	    (error = write_index(dir, img, &md, strlen(manifest), ref)) < 0)
		goto done;
	if (manifest_out)
		*manifest_out = md;
done:
	free(blobs);
	free(manifest);
	free(config);
	return error;
}

/* ---- docker-archive ---------------------------------------------------------------------- */

typedef struct {
	struct archive *a;
	struct archive_entry *e;
	const char *path;
	int64_t epoch;
} tar_out;

static int tar_fail(tar_out *t, const char *what)
{
	return ga_error(GOACCEL_ERROR, GOACCEL_ERROR_ARCHIVE, "%s: %s: %s", t->path, what,
	                archive_error_string(t->a) ? archive_error_string(t->a) : "libarchive failed");
}

static int tar_header(tar_out *t, const char *name, uint64_t size)
{
	archive_entry_clear(t->e);
	archive_entry_set_pathname(t->e, name);
	archive_entry_set_filetype(t->e, AE_IFREG);
	archive_entry_set_perm(t->e, 0644);
	archive_entry_set_uid(t->e, 0);
	archive_entry_set_gid(t->e, 0);
	archive_entry_set_uname(t->e, "");
	archive_entry_set_gname(t->e, "");
	archive_entry_set_mtime(t->e, (time_t)t->epoch, 0);
	archive_entry_set_size(t->e, (la_int64_t)size);
	if (archive_write_header(t->a, t->e) != ARCHIVE_OK)
		return tar_fail(t, name);
	return 0;
}

static int tar_bytes(tar_out *t, const char *name, const char *data, size_t len)
{
	int error;
	if ((error = tar_header(t, name, len)) < 0)
		return error;
	if (len && archive_write_data(t->a, data, len) != (la_ssize_t)len)
		return tar_fail(t, name);
	return 0;
}

static int tar_file(tar_out *t, const char *name, const char *src)
{
	int fd, error = 0;
	struct stat st;
	char *buf = NULL;
	uint64_t left;
	if ((fd = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return ga_error_os(0, errno, "%s: open", src);
	if (fstat(fd, &st) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: stat", src);
		goto done;
	}
	if ((buf = malloc(GA_IO_CHUNK)) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	if ((error = tar_header(t, name, (uint64_t)st.st_size)) < 0)
		goto done;
	for (left = (uint64_t)st.st_size; left > 0;) {
		ssize_t n = read(fd, buf, left < GA_IO_CHUNK ? (size_t)left : GA_IO_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			error = n < 0 ? ga_error_os(GOACCEL_ERROR, errno, "%s: read", src)
			              : ga_error(GOACCEL_ECHANGED, GOACCEL_ERROR_IMAGE, "%s: shrank", src);
			goto done;
		}
		if (archive_write_data(t->a, buf, (size_t)n) != n) {
			error = tar_fail(t, name);
			goto done;
		}
		left -= (uint64_t)n;
	}
done:
	free(buf);
	close(fd);
	return error;
}

/* Decompresses a layer blob (gzip, zstd or plain tar) into dest, checking its diff_id. */
static int decompress_layer(const ga_layer *l, const char *dest)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	goaccel_digest_ctx *ctx = NULL;
	goaccel_digest got;
	char *buf = malloc(GA_IO_CHUNK);
	int fd = -1, error = 0;
	if (!a || !buf) {
		error = ga_error_oom();
		goto done;
	}
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_format_raw(a);
	if ((error = goaccel_digest_ctx_new(&ctx)) < 0)
		goto done;
	if ((fd = open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: create", dest);
		goto done;
	}
	if (archive_read_open_filename(a, l->blob_path, GA_IO_CHUNK) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		error = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_ARCHIVE, "%s: %s", l->blob_path,
		                 archive_error_string(a) ? archive_error_string(a) : "cannot read");
		goto done;
	}
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, GA_IO_CHUNK);
		if (n == 0)
			break;
		if (n < 0) {
			error = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_ARCHIVE, "%s: %s", l->blob_path,
			                 archive_error_string(a) ? archive_error_string(a) : "cannot read");
			goto done;
		}
		if ((error = goaccel_digest_ctx_update(ctx, buf, (size_t)n)) < 0 ||
		    (error = ga_write_all(fd, buf, (size_t)n, dest)) < 0)
			goto done;
	}
	if ((error = goaccel_digest_ctx_finish(&got, ctx)) < 0)
		goto done;
	if (goaccel_digest_cmp(&got, &l->diff_id) != 0) {
		char want[72];
		ga_digest_str(want, &l->diff_id);
		error = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_IMAGE,
		                 "%s: does not decompress to its diff_id %s", l->blob_path, want);
	}
done:
	if (fd >= 0 && close(fd) < 0 && !error)
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: close", dest);
	goaccel_digest_ctx_free(ctx);
	archive_read_free(a);
	free(buf);
	return error;
}

/* "name" -> "name:latest"; a tag must be a reasonable reference (no spaces or controls). */
static int normalize_tag(char **out, const char *tag)
{
	const char *p, *slash = strrchr(tag, '/');
	size_t len = strlen(tag);
	if (!len || len > 255)
		goto bad;
	for (p = tag; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '"' || *p == '\\' || (unsigned char)*p >= 0x7f)
			goto bad;
	if (strchr(slash ? slash : tag, ':') || strchr(tag, '@'))
		*out = strdup(tag);
	else if ((*out = malloc(len + 8)) != NULL)
		snprintf(*out, len + 8, "%s:latest", tag);
	return *out ? 0 : ga_error_oom();
bad:
	return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_IMAGE, "tag '%.100s' is not a valid reference", tag);
}

static int archive_manifest(char **out, const goaccel_image *img, const char *config_name,
                            const char *tag)
{
	json_t *layers = json_array(), *tags = json_array(), *doc = NULL;
	char hex[GOACCEL_DIGEST_HEXSIZE + 1], name[GOACCEL_DIGEST_HEXSIZE + 8];
	size_t i;
	for (i = 0; layers && i < img->nlayers; i++) {
		goaccel_digest_fmt(hex, &img->layers[i].diff_id);
		snprintf(name, sizeof(name), "%s.tar", hex);
		json_array_append_new(layers, json_string(name));
	}
	if (tags && tag)
		json_array_append_new(tags, json_string(tag));
	if (layers && tags)
		doc = json_pack("[{sssOsO}]", "Config", config_name, "RepoTags", tags, "Layers", layers);
	*out = doc ? ga_json_dump(doc) : NULL;
	json_decref(doc);
	json_decref(layers);
	json_decref(tags);
	return *out ? 0 : ga_error_oom();
}

static int write_archive_entries(tar_out *t, goaccel_image *img, const char *tag)
{
	char *manifest = NULL, *config = NULL, *amanifest = NULL, *tmp = NULL;
	char hex[GOACCEL_DIGEST_HEXSIZE + 1], name[GOACCEL_DIGEST_HEXSIZE + 8];
	const char *scratch;
	goaccel_digest cd;
	size_t i, j;
	int error;
	if ((error = make_manifest(&manifest, &config, img)) < 0 ||
	    (error = goaccel_digest_buffer(&cd, config, strlen(config))) < 0 ||
	    (error = ga_image_tmp_dir(&scratch, img)) < 0)
		goto done;
	if ((tmp = ga_path_join(scratch, "layer.tar")) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	for (i = 0; i < img->nlayers; i++) {
		const ga_layer *l = &img->layers[i];
		int dup = 0;
		for (j = 0; j < i; j++)
			dup |= goaccel_digest_cmp(&img->layers[j].diff_id, &l->diff_id) == 0;
		if (dup)
			continue;
		goaccel_digest_fmt(hex, &l->diff_id);
		snprintf(name, sizeof(name), "%s.tar", hex);
		if ((error = decompress_layer(l, tmp)) < 0 || (error = tar_file(t, name, tmp)) < 0)
			goto done;
		unlink(tmp);
	}
	goaccel_digest_fmt(hex, &cd);
	snprintf(name, sizeof(name), "%s.json", hex);
	if ((error = tar_bytes(t, name, config, strlen(config))) < 0 ||
	    (error = archive_manifest(&amanifest, img, name, tag)) < 0 ||
	    (error = tar_bytes(t, "manifest.json", amanifest, strlen(amanifest))) < 0)
		goto done;
done:
	if (tmp)
		unlink(tmp);
	free(tmp);
	free(manifest);
	free(config);
	free(amanifest);
	return error;
}

int goaccel_image_write_docker_archive(goaccel_image *img, const char *path, const char *tag)
{
	tar_out t = {NULL, NULL, path, 0};
	char *tmp = NULL, *ntag = NULL;
	int fd = -1, error;
	GA_ASSERT_ARG(img);
	GA_ASSERT_ARG(path);
	if ((error = ga_archive_load()) < 0)
		return error;
	if (tag && (error = normalize_tag(&ntag, tag)) < 0)
		return error;
	t.epoch = img->epoch;
	if ((tmp = malloc(strlen(path) + 16)) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	snprintf(tmp, strlen(path) + 16, "%s.tmp.XXXXXX", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: create", tmp);
		free(tmp);
		tmp = NULL;
		goto done;
	}
	t.a = archive_write_new();
	t.e = archive_entry_new();
	if (!t.a || !t.e) {
		error = ga_error_oom();
		goto done;
	}
	if (archive_write_set_format_pax_restricted(t.a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(t.a, 0) != ARCHIVE_OK ||
	    archive_write_open_fd(t.a, fd) != ARCHIVE_OK) {
		error = tar_fail(&t, "open");
		goto done;
	}
	if ((error = write_archive_entries(&t, img, ntag)) < 0)
		goto done;
	if (archive_write_close(t.a) != ARCHIVE_OK) {
		error = tar_fail(&t, "close");
		goto done;
	}
	if (fchmod(fd, 0644) < 0 || close(fd) < 0) {
		fd = -1;
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: close", tmp);
		goto done;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: rename into place", path);
done:
	if (t.a)
		archive_write_free(t.a);
	archive_entry_free(t.e);
	if (fd >= 0)
		close(fd);
	if (error && tmp)
		unlink(tmp);
	free(tmp);
	free(ntag);
	return error;
}
