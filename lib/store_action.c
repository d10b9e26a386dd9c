/* Action records: step key -> outputs + metadata (goaccel/store.h). Record format in
 * docs/store.md ("Action records"). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "store_internal.h"
#include "util/err.h"
#include "util/fs.h"

struct goaccel_action {
	goaccel_store *store;
	ga_record rec;
	goaccel_action_output_info *infos;
	int *fds; /* verified blob fds, or NULL when there were too many outputs to keep open */
	int64_t last_used_ns;
};

/* ---- the record format --------------------------------------------------------------------- */

void ga_record_dispose(ga_record *r)
{
	size_t i;
	if (!r)
		return;
	for (i = 0; i < r->count; i++)
		free(r->outputs[i].name);
	free(r->outputs);
	free(r->info);
	memset(r, 0, sizeof(*r));
}

static int cmp_outputs(const void *a, const void *b)
{
	return strcmp(((const ga_record_output *)a)->name, ((const ga_record_output *)b)->name);
}

static int parse_digest_field(goaccel_digest *out, json_t *v)
{
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	if (!s || strlen(s) != GOACCEL_DIGEST_HEXSIZE || !ga_store_hex_ok(s, GOACCEL_DIGEST_HEXSIZE))
		return -1;
	return goaccel_digest_parse(out, s) < 0 ? -1 : 0;
}

static int bad(const char *display, const char *what)
{
	return ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_STORE, "action record %s: %s", display, what);
}

static int parse_outputs(ga_record *r, json_t *arr, const char *display)
{
	size_t i, n;
	if (!json_is_array(arr))
		return bad(display, "\"outputs\" is not an array");
	n = json_array_size(arr);
	if (n > 1000000)
		return bad(display, "too many outputs");
	if (n && (r->outputs = calloc(n, sizeof(*r->outputs))) == NULL)
		return ga_error_oom();
	for (i = 0; i < n; i++) {
		json_t *o = json_array_get(arr, i), *name, *mode, *size;
		ga_record_output *out = &r->outputs[i];
		if (!json_is_object(o))
			return bad(display, "an output is not an object");
		name = json_object_get(o, "name");
		mode = json_object_get(o, "mode");
		size = json_object_get(o, "size");
		if (!json_is_string(name) || strlen(json_string_value(name)) != json_string_length(name))
			return bad(display, "an output has no name");
		if (ga_store_valid_relpath(json_string_value(name), "output") < 0)
			return ga_error_recode(GOACCEL_ECORRUPT);
		if (!json_is_integer(mode) || json_integer_value(mode) < 0 || json_integer_value(mode) > 0777)
			return bad(display, "an output has a bad mode");
		if (!json_is_integer(size) || json_integer_value(size) < 0)
			return bad(display, "an output has a bad size");
		if (parse_digest_field(&out->digest, json_object_get(o, "digest")) < 0)
			return bad(display, "an output has a bad digest");
		if ((out->name = strdup(json_string_value(name))) == NULL)
			return ga_error_oom();
		out->mode = (unsigned int)json_integer_value(mode);
		out->size = (uint64_t)json_integer_value(size);
		r->count++;
	}
	if (r->count)
		qsort(r->outputs, r->count, sizeof(*r->outputs), cmp_outputs);
	for (i = 1; i < r->count; i++)
		if (!strcmp(r->outputs[i - 1].name, r->outputs[i].name))
			return bad(display, "two outputs have the same name");
	return 0;
}

int ga_record_parse(ga_record *r, const char *data, size_t len, const goaccel_digest *expect_key,
                    const char *display)
{
	json_t *j = NULL, *v;
	json_error_t jerr;
	int error = 0;
	memset(r, 0, sizeof(*r));
	if ((j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		error = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_STORE, "action record %s: not JSON: %s",
		                 display, jerr.text);
		goto done;
	}
	if (!json_is_object(j)) {
		error = bad(display, "not an object");
		goto done;
	}
	v = json_object_get(j, "version");
	if (!json_is_integer(v) || json_integer_value(v) != GA_RECORD_VERSION) {
		error = bad(display, "unknown record version");
		goto done;
	}
	if (parse_digest_field(&r->key, json_object_get(j, "key")) < 0) {
		error = bad(display, "bad \"key\"");
		goto done;
	}
	if (expect_key && goaccel_digest_cmp(&r->key, expect_key) != 0) {
		error = bad(display, "\"key\" does not match the file name");
		goto done;
	}
	v = json_object_get(j, "kind");
	if (!json_is_string(v) || ga_store_valid_kind(json_string_value(v)) < 0) {
		error = bad(display, "bad \"kind\"");
		goto done;
	}
	snprintf(r->kind, sizeof(r->kind), "%s", json_string_value(v));
	v = json_object_get(j, "created_ns");
	r->created_ns = json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
	v = json_object_get(j, "duration_ns");
	r->duration_ns = json_is_integer(v) && json_integer_value(v) > 0 ? (int64_t)json_integer_value(v) : 0;
	v = json_object_get(j, "info");
	if (json_is_string(v) && (r->info = strdup(json_string_value(v))) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	error = parse_outputs(r, json_object_get(j, "outputs"), display);
done:
	if (error < 0)
		ga_record_dispose(r);
	json_decref(j);
	return error;
}

static int record_encode(ga_buf *out, const ga_record *r)
{
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	json_t *j = json_object(), *arr = json_array();
	char *s = NULL;
	size_t i;
	int error = 0;
	goaccel_digest_fmt(hex, &r->key);
	json_object_set_new(j, "version", json_integer(GA_RECORD_VERSION));
	json_object_set_new(j, "key", json_string(hex));
	json_object_set_new(j, "kind", json_string(r->kind));
	json_object_set_new(j, "created_ns", json_integer(r->created_ns));
	json_object_set_new(j, "duration_ns", json_integer(r->duration_ns));
	if (r->info) {
		json_t *info = json_string(r->info);
		if (!info) {
			error = ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_STORE,
			                 "action info is not valid UTF-8");
			goto done;
		}
		json_object_set_new(j, "info", info);
	}
	for (i = 0; i < r->count; i++) {
		json_t *name = json_string(r->outputs[i].name);
		if (!name) {
			error = ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_STORE,
			                 "output name is not valid UTF-8");
			goto done;
		}
		goaccel_digest_fmt(hex, &r->outputs[i].digest);
		json_array_append_new(arr, json_pack("{s:o, s:i, s:I, s:s}", "name", name, "mode",
		                                     (int)r->outputs[i].mode, "size",
		                                     (json_int_t)r->outputs[i].size, "digest", hex));
	}
	json_object_set(j, "outputs", arr);
	if ((s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	if ((error = ga_buf_puts(out, s)) == 0)
		error = ga_buf_putc(out, '\n');
done:
	free(s);
	json_decref(arr);
	json_decref(j);
	return error;
}

/* ---- put ----------------------------------------------------------------------------------- */

static int put_output(ga_record_output *ro, goaccel_store *s, const goaccel_action_output *o)
{
	int error;
	if ((error = ga_store_valid_relpath(o->name, "output")) < 0)
		return error;
	if ((ro->name = strdup(o->name)) == NULL)
		return ga_error_oom();
	if (o->path) {
		struct stat st;
		int fd = open(o->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return ga_error_os(0, errno, "output %s: %s: open", o->name, o->path);
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_STORE,
			                "output %s: %s is not a regular file", o->name, o->path);
		}
		ro->mode = o->mode < 0 ? (unsigned int)(st.st_mode & 0777) : (unsigned int)o->mode & 0777;
		error = ga_store_blob_put_fd(&ro->digest, &ro->size, s, fd, o->path);
		close(fd);
		return error;
	}
	if (!o->data && o->size)
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_STORE, "output %s: no path and no data",
		                o->name);
	ro->mode = o->mode < 0 ? 0644 : (unsigned int)o->mode & 0777;
	ro->size = o->size;
	return goaccel_store_blob_put_buffer(&ro->digest, s, o->data, o->size);
}

static int write_record(goaccel_store *s, const ga_record *r)
{
	ga_buf b = GA_BUF_INIT;
	char *final = NULL;
	int error;
	if ((error = record_encode(&b, r)) < 0)
		goto done;
	if ((final = ga_store_action_path(s, &r->key)) == NULL) {
		error = GOACCEL_ERROR;
		goto done;
	}
	error = ga_store_write_file(s, final, b.ptr, b.size);
done:
	free(final);
	ga_buf_dispose(&b);
	return error;
}

int goaccel_store_action_put(goaccel_store *s, const goaccel_digest *key, const char *kind,
                             const goaccel_action_output *outputs, size_t n,
                             const goaccel_action_meta *meta)
{
	ga_record r;
	goaccel_store_counters c = {0};
	int error = 0, gc = -1;
	size_t i;
	GA_ASSERT_ARG(s && key && (outputs || n == 0));
	GA_CHECK_VERSION(meta, GOACCEL_ACTION_META_VERSION, "goaccel_action_meta");
	if ((error = ga_store_valid_kind(kind)) < 0)
		return error;
	memset(&r, 0, sizeof(r));
	r.key = *key;
	snprintf(r.kind, sizeof(r.kind), "%s", kind);
	r.created_ns = meta && meta->created_ns ? meta->created_ns : ga_now_ns();
	r.duration_ns = meta && meta->duration_ns > 0 ? meta->duration_ns : 0;
	if (meta && meta->info && (r.info = strdup(meta->info)) == NULL)
		return ga_error_oom();
	if (n && (r.outputs = calloc(n, sizeof(*r.outputs))) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	/* Shared GC lock: prune cannot collect our fresh blobs before the record names them. */
	if ((error = ga_store_gc_lock(&gc, s, 0)) < 0)
		goto done;
	for (i = 0; i < n; i++) {
		r.count = i + 1;
		if ((error = put_output(&r.outputs[i], s, &outputs[i])) < 0)
			goto done;
		c.bytes_put += r.outputs[i].size;
	}
	if (r.count)
		qsort(r.outputs, r.count, sizeof(*r.outputs), cmp_outputs);
	for (i = 1; i < r.count; i++) {
		if (!strcmp(r.outputs[i - 1].name, r.outputs[i].name)) {
			error = ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_STORE,
			                 "output %s: named twice", r.outputs[i].name);
			goto done;
		}
	}
	if ((error = write_record(s, &r)) < 0)
		goto done;
	c.puts = 1;
	ga_stats_add(s, kind, &c);
done:
	ga_store_gc_unlock(gc);
	ga_record_dispose(&r);
	return error;
}

/* ---- lookup -------------------------------------------------------------------------------- */

static void count_miss(goaccel_store *s, const char *kind, int corrupt)
{
	goaccel_store_counters c = {0};
	c.misses = 1;
	c.corrupt = corrupt ? 1 : 0;
	ga_stats_add(s, kind ? kind : "", &c);
}

int ga_action_unusable(goaccel_store *s, const char *path, int recfd, const char *kind,
                       int corrupt, const char *hex)
{
	char msg[512];
	snprintf(msg, sizeof(msg), "%s", goaccel_error_last()->message);
	if (s) {
		if (recfd >= 0)
			ga_store_unlink_if_same(path, recfd);
		count_miss(s, kind, corrupt);
	}
	return ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_STORE, "action %s is unusable: %s", hex, msg);
}

int ga_action_read_record(ga_record *r, int *fd_out, int64_t *mtime, goaccel_store *s,
                          const goaccel_digest *key, const char *path)
{
	ga_buf b = GA_BUF_INIT;
	struct stat st;
	int fd, error = 0;
	*fd_out = -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY)) < 0)
		return ga_error_os(0, errno, "action record %s", path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > GA_RECORD_MAX) {
		error = bad(path, "not a regular file of a sane size");
		goto done;
	}
	*mtime = ga_stat_mtime_ns(&st);
	if ((error = ga_buf_grow(&b, (size_t)st.st_size + 1)) < 0)
		goto done;
	while (b.size < (size_t)st.st_size) {
		ssize_t n = pread(fd, b.ptr + b.size, (size_t)st.st_size - b.size, (off_t)b.size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		b.size += (size_t)n;
	}
	error = ga_record_parse(r, b.ptr ? b.ptr : "", b.size, key, path);
done:
	(void)s;
	ga_buf_dispose(&b);
	*fd_out = fd;
	return error;
}

static void action_close_fds(goaccel_action *a)
{
	size_t i;
	if (!a->fds)
		return;
	for (i = 0; i < a->rec.count; i++)
		if (a->fds[i] >= 0)
			close(a->fds[i]);
	free(a->fds);
	a->fds = NULL;
}

/* Verifies every output blob; keeps them open when there are few. */
static int verify_outputs(goaccel_action *a, const char *kind, int peek)
{
	size_t i;
	int keep = a->rec.count <= GA_ACTION_KEEP_FDS, error = 0;
	if (keep && a->rec.count && (a->fds = malloc(a->rec.count * sizeof(int))) == NULL)
		return ga_error_oom();
	for (i = 0; keep && i < a->rec.count; i++)
		a->fds[i] = -1;
	for (i = 0; i < a->rec.count; i++) {
		int fd;
		uint64_t size;
		const ga_record_output *o = &a->rec.outputs[i];
		if ((error = ga_store_blob_open_checked(&fd, &size, a->store, &o->digest, kind, peek)) < 0)
			return error;
		if (size != o->size) {
			close(fd);
			return ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_STORE,
			                "output %s: blob has %llu bytes, the record says %llu", o->name,
			                (unsigned long long)size, (unsigned long long)o->size);
		}
		if (keep)
			a->fds[i] = fd;
		else
			close(fd);
	}
	return 0;
}

int goaccel_lookup_options_init(goaccel_lookup_options *opts, unsigned int version)
{
	GA_INIT_STRUCTURE(opts, version, goaccel_lookup_options, GOACCEL_LOOKUP_OPTIONS_INIT);
	return 0;
}

int goaccel_store_action_lookup(goaccel_action **out, goaccel_store *s, const char *kind,
                                const goaccel_digest *key)
{
	return goaccel_store_action_lookup_ext(out, s, kind, key, NULL);
}

int goaccel_store_action_lookup_ext(goaccel_action **out, goaccel_store *s, const char *kind,
                                    const goaccel_digest *key, const goaccel_lookup_options *opts)
{
	goaccel_action *a = NULL;
	char *path = NULL;
	int error, fd = -1, corrupt = 0, peek;
	goaccel_store_counters c = {0};
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	GA_ASSERT_ARG(out && s && key);
	*out = NULL;
	GA_CHECK_VERSION(opts, GOACCEL_LOOKUP_OPTIONS_VERSION, "goaccel_lookup_options");
	if (opts && (opts->flags & ~GOACCEL_LOOKUP_PEEK))
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_STORE,
		                "goaccel_lookup_options: unknown flags 0x%x", opts->flags);
	peek = opts && (opts->flags & GOACCEL_LOOKUP_PEEK);
	if (kind && ga_store_valid_kind(kind) < 0)
		return GOACCEL_EINVALID;
	goaccel_digest_fmt(hex, key);
	if ((path = ga_store_action_path(s, key)) == NULL)
		return GOACCEL_ERROR;
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	a->store = s;
	error = ga_action_read_record(&a->rec, &fd, &a->last_used_ns, s, key, path);
	if (error == GOACCEL_ENOTFOUND) {
		if (!peek)
			count_miss(s, kind, 0);
		error = ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_STORE, "no action record for %s", hex);
		goto done;
	}
	if (error == GOACCEL_ECORRUPT) {
		corrupt = 1;
		goto dangling;
	}
	if (error < 0)
		goto done;
	error = verify_outputs(a, kind ? kind : a->rec.kind, peek);
	if (error == GOACCEL_ECORRUPT) {
		corrupt = 0; /* the damaged blob was counted where it was met */
		goto dangling;
	}
	if (error == GOACCEL_ENOTFOUND)
		goto dangling;
	if (error < 0)
		goto done;
	if (!peek) {
		/* Last use, for prune's LRU order. */
		futimens(fd, NULL);
		c.hits = 1;
		c.time_saved_ns = (uint64_t)a->rec.duration_ns;
		ga_stats_add(s, kind ? kind : a->rec.kind, &c);
	}
	*out = a;
	a = NULL;
	error = 0;
	goto done;
dangling:
	/* The record is useless without its blobs: remove it (if it is still the file we read) and
	 * report a miss; a peek only reports it. */
	error = peek ? ga_action_unusable(NULL, NULL, -1, NULL, 0, hex)
	             : ga_action_unusable(s, path, fd,
	                                  kind ? kind : (a->rec.kind[0] ? a->rec.kind : NULL), corrupt,
	                                  hex);
done:
	if (fd >= 0)
		close(fd);
	goaccel_action_free(a);
	free(path);
	return error;
}

/* ---- restore ------------------------------------------------------------------------------- */

static int restore_one(goaccel_action *a, size_t i, int dirfd, const goaccel_restore_options *o)
{
	const ga_record_output *out = &a->rec.outputs[i];
	int parent = -1, fd = -1, error;
	const char *base;
	uint64_t size = out->size;
	/* Parents are opened one by one without following symlinks, then the file is written
	 * relative to the parent's fd: nothing can redirect it outside dest_dir. */
	if ((error = ga_open_parent_nofollow(&parent, &base, dirfd, out->name, 0755, out->name)) < 0)
		return error;
	if (a->fds && a->fds[i] >= 0) {
		fd = a->fds[i];
	} else if ((error = ga_store_blob_open_verified(&fd, &size, a->store, &out->digest,
	                                                a->rec.kind)) < 0) {
		goto done;
	}
	error = ga_store_copy_fd_at(fd, size, parent, base, out->name, out->mode, o->no_overwrite,
	                            o->no_reflink);
	if (error == GOACCEL_EEXISTS)
		ga_error(GOACCEL_EEXISTS, GOACCEL_ERROR_STORE, "output %s exists", out->name);
done:
	if (fd >= 0 && !(a->fds && a->fds[i] == fd))
		close(fd);
	if (parent >= 0)
		close(parent);
	return error;
}

int goaccel_action_restore(goaccel_action *a, const char *dest_dir, const goaccel_restore_options *opts)
{
	goaccel_restore_options o = GOACCEL_RESTORE_OPTIONS_INIT;
	goaccel_store_counters c = {0};
	int dirfd = -1, error = 0;
	size_t i;
	GA_ASSERT_ARG(a && dest_dir);
	GA_CHECK_VERSION(opts, GOACCEL_RESTORE_OPTIONS_VERSION, "goaccel_restore_options");
	if (opts)
		o = *opts;
	if ((error = ga_mkdir_p(dest_dir, 0755)) < 0)
		return error;
	if ((dirfd = open(dest_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return ga_error_os(0, errno, "%s: open", dest_dir);
	for (i = 0; i < a->rec.count; i++) {
		if ((error = restore_one(a, i, dirfd, &o)) < 0)
			goto done;
		c.bytes_restored += a->rec.outputs[i].size;
	}
done:
	if (c.bytes_restored)
		ga_stats_add(a->store, a->rec.kind, &c);
	close(dirfd);
	return error;
}

/* ---- for fetch (store_fetch.c) ------------------------------------------------------------ */

int ga_action_adopt(goaccel_action **out, goaccel_store *s, ga_record *rec, int64_t last_used_ns,
                    int *fds)
{
	goaccel_action *a = calloc(1, sizeof(*a));
	if (!a)
		return ga_error_oom();
	a->store = s;
	a->rec = *rec;
	memset(rec, 0, sizeof(*rec));
	a->last_used_ns = last_used_ns;
	a->fds = fds;
	*out = a;
	return 0;
}

/* ---- accessors ----------------------------------------------------------------------------- */

const goaccel_digest *goaccel_action_key(const goaccel_action *a)
{
	return a ? &a->rec.key : NULL;
}

const char *goaccel_action_kind(const goaccel_action *a)
{
	return a ? a->rec.kind : "";
}

size_t goaccel_action_output_count(const goaccel_action *a)
{
	return a ? a->rec.count : 0;
}

const goaccel_action_output_info *goaccel_action_output_byindex(const goaccel_action *a, size_t i)
{
	goaccel_action *m = (goaccel_action *)a;
	size_t k;
	if (!a || i >= a->rec.count)
		return NULL;
	if (!m->infos) {
		if ((m->infos = calloc(a->rec.count, sizeof(*m->infos))) == NULL)
			return NULL;
		for (k = 0; k < a->rec.count; k++) {
			m->infos[k].name = a->rec.outputs[k].name;
			m->infos[k].mode = a->rec.outputs[k].mode;
			m->infos[k].size = a->rec.outputs[k].size;
			m->infos[k].digest = a->rec.outputs[k].digest;
		}
	}
	return &m->infos[i];
}

int64_t goaccel_action_created(const goaccel_action *a)
{
	return a ? a->rec.created_ns : 0;
}

int64_t goaccel_action_last_used(const goaccel_action *a)
{
	return a ? a->last_used_ns : 0;
}

int64_t goaccel_action_duration(const goaccel_action *a)
{
	return a ? a->rec.duration_ns : 0;
}

const char *goaccel_action_info(const goaccel_action *a)
{
	return a ? a->rec.info : NULL;
}

void goaccel_action_free(goaccel_action *a)
{
	if (!a)
		return;
	action_close_fds(a);
	ga_record_dispose(&a->rec);
	free(a->infos);
	free(a);
}

int goaccel_store_action_remove(goaccel_store *s, const goaccel_digest *key)
{
	char *path;
	int error = 0;
	GA_ASSERT_ARG(s && key);
	if ((path = ga_store_action_path(s, key)) == NULL)
		return GOACCEL_ERROR;
	if (unlink(path) < 0)
		error = errno == ENOENT ? ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_STORE,
		                                   "no action record %s", path)
		                        : ga_error_os(GOACCEL_ERROR, errno, "%s: unlink", path);
	free(path);
	return error;
}
