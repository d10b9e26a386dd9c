/* Output stamps: "the files in this output directory are exactly the outputs of build key K".
 *
 * `go build -o out/` writes nothing when out/app is already the binary it would link; a
 * no-change `goaccel build -o out/` should not copy a 70 MB binary either, nor re-read it from the
 * store to verify it. After writing the outputs of a build into an output directory, the build
 * layer records, on its goaccel-state mount, the key and, per output, its digest and the file's
 * identity as the file system reports it (device, inode, size, mtime and ctime in ns). ctime
 * cannot be set by anyone but the kernel, so a file whose identity is unchanged has not been
 * written since: when the key and every identity match, the outputs are already in place. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "build_internal.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"

#define STAMP_FORMAT 1

static char *stamp_path(const char *state_dir, const char *out_dir)
{
	goaccel_digest d;
	char hex[GOACCEL_DIGEST_HEXSIZE + 1], name[64];
	if (goaccel_digest_buffer(&d, out_dir, strlen(out_dir)) < 0)
		return NULL;
	goaccel_digest_fmt(hex, &d);
	snprintf(name, sizeof(name), "outputs-%.24s.json", hex);
	return ga_path_join(state_dir, name);
}

static json_t *identity(const struct stat *st)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I}", "dev", (json_int_t)st->st_dev, "ino",
	                 (json_int_t)st->st_ino, "size", (json_int_t)st->st_size, "mtime_ns",
	                 (json_int_t)(st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec),
	                 "ctime_ns", (json_int_t)(st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec));
}

int ga_build_outputs_record(const char *state_dir, const char *out_dir, const goaccel_digest *key,
                            int64_t duration_ns, const goaccel_build_output *outputs, size_t n)
{
	char *path = stamp_path(state_dir, out_dir), *text = NULL;
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	json_t *doc = NULL, *arr = json_array();
	size_t i;
	int error = 0;
	if (!path || !arr) {
		error = ga_error_oom();
		goto done;
	}
	for (i = 0; i < n; i++) {
		struct stat st;
		json_t *o;
		if (!outputs[i].path || lstat(outputs[i].path, &st) < 0 || !S_ISREG(st.st_mode))
			goto done; /* nothing to vouch for: no stamp */
		goaccel_digest_fmt(hex, &outputs[i].digest);
		o = json_pack("{s:s, s:s, s:I, s:i, s:o}", "name", outputs[i].name, "digest", hex,
		              "size", (json_int_t)outputs[i].size, "mode", (int)outputs[i].mode,
		              "file", identity(&st));
		if (!o || json_array_append_new(arr, o) < 0) {
			error = ga_error_oom();
			goto done;
		}
	}
	goaccel_digest_fmt(hex, key);
	doc = json_pack("{s:i, s:s, s:s, s:I, s:O}", "format", STAMP_FORMAT, "dir", out_dir, "key", hex,
	                "duration_ns", (json_int_t)duration_ns, "outputs", arr);
	if (!doc || (text = json_dumps(doc, JSON_COMPACT)) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	error = ga_write_file_atomic(path, text, strlen(text), 0644, 0);
done:
	free(text);
	json_decref(doc);
	json_decref(arr);
	free(path);
	return error;
}

/* 1 when the recorded identity is the file's identity now. */
static int same_file(json_t *rec, const char *path)
{
	struct stat st;
	json_t *now;
	int same;
	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || (now = identity(&st)) == NULL)
		return 0;
	same = json_equal(now, rec);
	json_decref(now);
	return same;
}

/* The stamp of out_dir, or NULL (none, unreadable, another format). */
static json_t *load_stamp(const char *state_dir, const char *out_dir)
{
	char *path = stamp_path(state_dir, out_dir);
	ga_buf text = GA_BUF_INIT;
	json_error_t jerr;
	json_t *doc = NULL;
	if (path && ga_read_file(&text, path, 1 << 20) == 0)
		doc = json_loads(text.ptr, 0, &jerr);
	if (doc && (json_integer_value(json_object_get(doc, "format")) != STAMP_FORMAT ||
	            !json_is_string(json_object_get(doc, "key")) ||
	            !json_is_array(json_object_get(doc, "outputs")))) {
		json_decref(doc);
		doc = NULL;
	}
	ga_buf_dispose(&text);
	free(path);
	goaccel_error_clear();
	return doc;
}

/* 1 when the stamped output o is the file under out_dir now. */
static int stamped_file_same(json_t *o, const char *out_dir, const char *bin_dir)
{
	const char *name = json_string_value(json_object_get(o, "name"));
	char *file = NULL;
	int same;
	if (!name || strchr(name, '/') || !strcmp(name, "..") ||
	    asprintf(&file, "%s/%s%s%s", out_dir, bin_dir ? bin_dir : "", bin_dir && *bin_dir ? "/" : "", name) < 0)
		return 0;
	same = same_file(json_object_get(o, "file"), file);
	free(file);
	return same;
}

int ga_build_output_in_place(const char *state_dir, const char *out_dir, const char *bin_dir,
                             const char *name, const goaccel_digest *digest)
{
	json_t *doc = load_stamp(state_dir, out_dir), *o;
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	size_t i;
	int in_place = 0;
	goaccel_digest_fmt(hex, digest);
	json_array_foreach(doc ? json_object_get(doc, "outputs") : NULL, i, o) {
		const char *n = json_string_value(json_object_get(o, "name"));
		const char *dg = json_string_value(json_object_get(o, "digest"));
		if (n && dg && strcmp(n, name) == 0 && strcmp(dg, hex) == 0)
			in_place = stamped_file_same(o, out_dir, bin_dir);
	}
	json_decref(doc);
	return in_place;
}

int ga_build_outputs_current(int *current, int64_t *duration_ns, goaccel_build_result *res,
                             const char *state_dir, const char *out_dir, const char *shown_dir,
                             const char *bin_dir, const goaccel_digest *key)
{
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	json_t *doc = load_stamp(state_dir, out_dir), *o;
	size_t i, before = res->output_count;
	int error = 0;
	*current = 0;
	goaccel_digest_fmt(hex, key);
	if (!doc || strcmp(json_string_value(json_object_get(doc, "key")), hex) != 0 ||
	    json_array_size(json_object_get(doc, "outputs")) == 0)
		goto done; /* no stamp, or one of another build: not current */
	json_array_foreach(json_object_get(doc, "outputs"), i, o) {
		if (!stamped_file_same(o, out_dir, bin_dir))
			goto done;
	}
	/* Every output is in place: describe them as a hit would. */
	json_array_foreach(json_object_get(doc, "outputs"), i, o) {
		goaccel_digest d;
		char *file = NULL;
		const char *name = json_string_value(json_object_get(o, "name"));
		const char *dg = json_string_value(json_object_get(o, "digest"));
		int bad = !dg || goaccel_digest_parse(&d, dg) < 0 ||
		          asprintf(&file, "%s/%s%s%s", shown_dir, bin_dir ? bin_dir : "",
		                   bin_dir && *bin_dir ? "/" : "", name) < 0;
		if (!bad)
			bad = ga_build_result_add_output(res, name, file, &d,
			                                 (uint64_t)json_integer_value(json_object_get(o, "size")),
			                                 (unsigned)json_integer_value(json_object_get(o, "mode"))) < 0;
		free(file);
		if (bad) {
			/* a damaged stamp: forget what was added, take the ordinary path */
			while (res->output_count > before) {
				res->output_count--;
				free((char *)res->outputs[res->output_count].name);
				free((char *)res->outputs[res->output_count].path);
			}
			goto done;
		}
	}
	*duration_ns = json_integer_value(json_object_get(doc, "duration_ns"));
	*current = 1;
done:
	goaccel_error_clear();
	json_decref(doc);
	return error;
}
