/* Named refs (goaccel/store.h) and creating paths inside a directory without following
 * symlinks. Ref format: docs/store.md, "Refs". */
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
#include "util/strarray.h"

/* ---- refs ---------------------------------------------------------------------------------- */

int ga_ref_encode(ga_buf *out, const char *name, const goaccel_digest *blob)
{
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	json_t *j;
	char *s;
	int error = 0;
	goaccel_digest_fmt(hex, blob);
	j = json_pack("{s:i, s:s, s:s}", "version", GA_RECORD_VERSION, "name", name, "digest", hex);
	if (!j)
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_STORE, "ref name is not valid UTF-8");
	if ((s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		error = ga_error_oom();
	else
		error = ga_buf_puts(out, s);
	free(s);
	json_decref(j);
	return error;
}

int ga_ref_parse(char **name_out, goaccel_digest *digest_out, const char *data, size_t len,
                 const goaccel_digest *expect, const char *display)
{
	json_t *j = NULL, *v;
	json_error_t jerr;
	const char *name;
	goaccel_digest nd;
	int error = 0;
	if ((j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL || !json_is_object(j)) {
		error = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_STORE, "ref %s: not JSON: %s", display,
		                 j ? "not an object" : jerr.text);
		goto done;
	}
	v = json_object_get(j, "version");
	if (!json_is_integer(v) || json_integer_value(v) != GA_RECORD_VERSION) {
		error = ga_error(GOACCEL_EVERSION, GOACCEL_ERROR_STORE, "ref %s: unknown version", display);
		goto done;
	}
	v = json_object_get(j, "name");
	if (!json_is_string(v) || !*(name = json_string_value(v)) ||
	    strlen(name) > GA_REF_NAME_MAX || strlen(name) != json_string_length(v)) {
		error = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_STORE, "ref %s: bad name", display);
		goto done;
	}
	if ((error = goaccel_digest_buffer(&nd, name, strlen(name))) < 0)
		goto done;
	if (expect && goaccel_digest_cmp(&nd, expect) != 0) {
		error = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_STORE,
		                 "ref %s: name does not match the file name", display);
		goto done;
	}
	v = json_object_get(j, "digest");
	if (!json_is_string(v) || strlen(json_string_value(v)) != GOACCEL_DIGEST_HEXSIZE ||
	    !ga_store_hex_ok(json_string_value(v), GOACCEL_DIGEST_HEXSIZE) ||
	    goaccel_digest_parse(digest_out, json_string_value(v)) < 0) {
		error = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_STORE, "ref %s: bad digest", display);
		goto done;
	}
	if (name_out && (*name_out = strdup(name)) == NULL)
		error = ga_error_oom();
done:
	json_decref(j);
	return error;
}

static int ref_name_check(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > GA_REF_NAME_MAX)
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_STORE,
		                "ref name must be 1 to %d bytes", GA_REF_NAME_MAX);
	return 0;
}

int goaccel_store_ref_set(goaccel_store *s, const char *name, const goaccel_digest *blob)
{
	goaccel_digest nd;
	ga_buf b = GA_BUF_INIT;
	char *final = NULL;
	int error, gc = -1;
	GA_ASSERT_ARG(s && name && blob);
	if ((error = ref_name_check(name)) < 0 || (error = ga_ref_encode(&b, name, blob)) < 0 ||
	    (error = goaccel_digest_buffer(&nd, name, strlen(name))) < 0)
		goto done;
	if ((final = ga_store_ref_path(s, &nd)) == NULL) {
		error = GOACCEL_ERROR;
		goto done;
	}
	/* Shared GC lock: the blob checked here cannot be collected before the ref names it. */
	if ((error = ga_store_gc_lock(&gc, s, 0)) < 0)
		goto done;
	if (goaccel_store_blob_exists(s, blob) != 1) {
		char hex[GOACCEL_DIGEST_HEXSIZE + 1];
		goaccel_digest_fmt(hex, blob);
		error = ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_STORE,
		                 "ref '%s': blob %s is not in the store", name, hex);
		goto done;
	}
	error = ga_store_write_file(s, final, b.ptr, b.size);
done:
	ga_store_gc_unlock(gc);
	free(final);
	ga_buf_dispose(&b);
	return error;
}

int goaccel_store_ref_get(goaccel_digest *out, goaccel_store *s, const char *name)
{
	return goaccel_store_ref_get_ext(out, s, name, NULL);
}

int goaccel_store_ref_get_ext(goaccel_digest *out, goaccel_store *s, const char *name,
                              const goaccel_lookup_options *opts)
{
	goaccel_digest nd;
	ga_buf b = GA_BUF_INIT;
	char *path = NULL;
	int error, peek;
	GA_ASSERT_ARG(out && s && name);
	GA_CHECK_VERSION(opts, GOACCEL_LOOKUP_OPTIONS_VERSION, "goaccel_lookup_options");
	if (opts && (opts->flags & ~GOACCEL_LOOKUP_PEEK))
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_STORE,
		                "goaccel_lookup_options: unknown flags 0x%x", opts->flags);
	peek = opts && (opts->flags & GOACCEL_LOOKUP_PEEK);
	if ((error = ref_name_check(name)) < 0 ||
	    (error = goaccel_digest_buffer(&nd, name, strlen(name))) < 0)
		goto done;
	if ((path = ga_store_ref_path(s, &nd)) == NULL) {
		error = GOACCEL_ERROR;
		goto done;
	}
	if ((error = ga_read_file(&b, path, GA_RECORD_MAX)) < 0) {
		if (error == GOACCEL_ENOTFOUND)
			ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_STORE, "no ref named '%s'", name);
		goto done;
	}
	if ((error = ga_ref_parse(NULL, out, b.ptr, b.size, &nd, path)) < 0) {
		if (!peek)
			unlink(path);
		ga_error_recode(error = GOACCEL_ECORRUPT);
		goto done;
	}
	if (!peek)
		utimensat(AT_FDCWD, path, NULL, AT_SYMLINK_NOFOLLOW); /* last use, for prune */
done:
	free(path);
	ga_buf_dispose(&b);
	return error;
}

int goaccel_store_ref_remove(goaccel_store *s, const char *name)
{
	goaccel_digest nd;
	char *path = NULL;
	int error;
	GA_ASSERT_ARG(s && name);
	if ((error = ref_name_check(name)) < 0 ||
	    (error = goaccel_digest_buffer(&nd, name, strlen(name))) < 0)
		return error;
	if ((path = ga_store_ref_path(s, &nd)) == NULL)
		return GOACCEL_ERROR;
	if (unlink(path) < 0)
		error = errno == ENOENT
		                ? ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_STORE, "no ref named '%s'", name)
		                : ga_error_os(GOACCEL_ERROR, errno, "%s: unlink", path);
	free(path);
	return error;
}

typedef struct {
	goaccel_ref_cb cb;
	void *payload;
} ref_walk;

static int each_ref(const char *path, const char *hex, const struct stat *st, void *payload)
{
	ref_walk *w = payload;
	ga_buf b = GA_BUF_INIT;
	goaccel_digest nd;
	goaccel_ref_entry e;
	char *name = NULL;
	int error = 0;
	if (goaccel_digest_parse(&nd, hex) < 0 || ga_read_file(&b, path, GA_RECORD_MAX) < 0 ||
	    ga_ref_parse(&name, &e.blob, b.ptr ? b.ptr : "", b.size, &nd, path) < 0) {
		goaccel_error_clear(); /* gone meanwhile, or damaged: verify's business */
		goto done;
	}
	e.name = name;
	e.last_used_ns = ga_stat_mtime_ns(st);
	if (w->cb(&e, w->payload) != 0)
		error = ga_error(GOACCEL_EUSER, GOACCEL_ERROR_CALLBACK, "ref listing stopped by its callback");
done:
	free(name);
	ga_buf_dispose(&b);
	return error;
}

int goaccel_store_ref_foreach(goaccel_store *s, goaccel_ref_cb cb, void *payload)
{
	ref_walk w;
	GA_ASSERT_ARG(s && cb);
	w.cb = cb;
	w.payload = payload;
	return ga_store_walk_fanout(s, "refs", ".json", each_ref, &w);
}

/* ---- safe paths ---------------------------------------------------------------------------- */

int ga_open_parent_nofollow(int *parent_fd, const char **base, int dirfd, const char *rel,
                            mode_t mkdir_mode, const char *display)
{
	return ga_open_parent_nofollow_ex(parent_fd, base, dirfd, rel, mkdir_mode, display, NULL);
}

int ga_open_parent_nofollow_ex(int *parent_fd, const char **base, int dirfd, const char *rel,
                               mode_t mkdir_mode, const char *display, goaccel_strarray *created)
{
	const char *p = rel, *slash;
	char comp[256 + 1];
	int fd = dup(dirfd), error = 0;
	if (fd < 0)
		return ga_error_os(GOACCEL_ERROR, errno, "%s: dup", display);
	while ((slash = strchr(p, '/')) != NULL) {
		size_t n = (size_t)(slash - p);
		int next;
		if (n == 0 || n >= sizeof(comp)) {
			error = ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_STORE,
			                 "%s: bad path component", display);
			goto done;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && mkdir_mode) {
			if (mkdirat(fd, comp, mkdir_mode) == 0) {
				if (created && (error = ga_strarray_take(created, strndup(rel, (size_t)(slash - rel)))) < 0)
					goto done;
			} else if (errno != EEXIST) {
				error = ga_error_os(GOACCEL_ERROR, errno, "%s: mkdir %s", display, comp);
				goto done;
			}
			next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (next < 0) {
			if (errno == ELOOP || errno == ENOTDIR)
				error = ga_error(GOACCEL_EUNSAFE, GOACCEL_ERROR_STORE,
				                 "%s: '%s' on the way is a symlink or not a directory",
				                 display, comp);
			else
				error = ga_error_os(0, errno, "%s: open %s", display, comp);
			goto done;
		}
		close(fd);
		fd = next;
		p = slash + 1;
	}
	*parent_fd = fd;
	*base = p;
	fd = -1;
done:
	if (fd >= 0)
		close(fd);
	return error;
}
