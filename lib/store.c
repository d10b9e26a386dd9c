/* The store: opening a root, its layout, temporary files, blobs and refs (goaccel/store.h).
 * The layout is specified in docs/store.md. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#include <jansson.h>

#include "store_internal.h"
#include "util/err.h"
#include "util/fs.h"

static const char *const layout_dirs[] = {"blobs", "blobs/sha256", "actions", "refs", "mounts", "tmp"};

/* ---- small helpers ------------------------------------------------------------------------- */

int64_t ga_stat_mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

char *ga_store_sub(const goaccel_store *s, const char *fmt, ...)
{
	va_list ap;
	size_t rlen = strlen(s->root);
	int n;
	char *out;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (out = malloc(rlen + 1 + (size_t)n + 1)) == NULL) {
		ga_error_oom();
		return NULL;
	}
	memcpy(out, s->root, rlen);
	out[rlen] = '/';
	va_start(ap, fmt);
	vsnprintf(out + rlen + 1, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return out;
}

static char *fanout_path(const goaccel_store *s, const char *dir, const goaccel_digest *d,
                         const char *suffix)
{
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	goaccel_digest_fmt(hex, d);
	return ga_store_sub(s, "%s/%.2s/%s%s", dir, hex, hex, suffix);
}

char *ga_store_blob_path(const goaccel_store *s, const goaccel_digest *d)
{
	return fanout_path(s, "blobs/sha256", d, "");
}

char *ga_store_action_path(const goaccel_store *s, const goaccel_digest *key)
{
	return fanout_path(s, "actions", key, ".json");
}

char *ga_store_ref_path(const goaccel_store *s, const goaccel_digest *name_digest)
{
	return fanout_path(s, "refs", name_digest, ".json");
}

static int name_chars_ok(const char *s, size_t max)
{
	size_t i, n = strlen(s);
	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int ga_store_valid_kind(const char *kind)
{
	if (!kind || !name_chars_ok(kind, GA_KIND_MAX))
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_STORE,
		                "invalid step kind '%s': use 1 to %d of [A-Za-z0-9._-]",
		                kind ? kind : "(null)", GA_KIND_MAX);
	return 0;
}

int ga_store_valid_mount_id(const char *id)
{
	if (!id || !name_chars_ok(id, GA_MOUNT_ID_MAX) || id[0] == '.')
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_MOUNT,
		                "invalid mount id '%s': use 1 to %d of [A-Za-z0-9._-], not starting "
		                "with '.'", id ? id : "(null)", GA_MOUNT_ID_MAX);
	return 0;
}

int ga_store_valid_relpath(const char *path, const char *what)
{
	const char *p = path, *slash;
	size_t len;
	if (!path || !*path)
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_STORE, "%s: empty path", what);
	len = strlen(path);
	if (len > GA_NAME_MAX)
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_STORE, "%s: path longer than %d bytes",
		                what, GA_NAME_MAX);
	if (path[0] == '/')
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_STORE, "%s: absolute path '%s'", what,
		                path);
	for (;;) {
		size_t n;
		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_STORE,
			                "%s: path '%s' has an empty, '.' or '..' component", what, path);
		if (!slash)
			break;
		p = slash + 1;
	}
	return 0;
}

int ga_store_hex_ok(const char *s, size_t len)
{
	size_t i;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* ---- options ------------------------------------------------------------------------------- */

int goaccel_store_options_init(goaccel_store_options *opts, unsigned int version)
{
	GA_INIT_STRUCTURE(opts, version, goaccel_store_options, GOACCEL_STORE_OPTIONS_INIT);
	return 0;
}

int goaccel_action_meta_init(goaccel_action_meta *meta, unsigned int version)
{
	GA_INIT_STRUCTURE(meta, version, goaccel_action_meta, GOACCEL_ACTION_META_INIT);
	return 0;
}

int goaccel_restore_options_init(goaccel_restore_options *opts, unsigned int version)
{
	GA_INIT_STRUCTURE(opts, version, goaccel_restore_options, GOACCEL_RESTORE_OPTIONS_INIT);
	return 0;
}

/* ---- opening ------------------------------------------------------------------------------- */

int goaccel_store_default_root(char **out)
{
	const char *v;
	ga_buf b = GA_BUF_INIT;
	GA_ASSERT_ARG(out);
	*out = NULL;
	if ((v = getenv("GOACCEL_CACHE")) != NULL && *v) {
		if (ga_buf_puts(&b, v) < 0)
			return GOACCEL_ERROR;
	} else if ((v = getenv("XDG_CACHE_HOME")) != NULL && v[0] == '/') {
		if (ga_buf_printf(&b, "%s/goaccel", v) < 0)
			return GOACCEL_ERROR;
	} else if ((v = getenv("HOME")) != NULL && *v) {
		if (ga_buf_printf(&b, "%s/.cache/goaccel", v) < 0)
			return GOACCEL_ERROR;
	} else {
		return ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_STORE,
		                "no store root: set GOACCEL_CACHE, XDG_CACHE_HOME or HOME");
	}
	*out = ga_buf_detach(&b);
	return 0;
}

/* mkdir -p where every directory we create gets 0700 (the cache root and, like ~/.cache, its
 * missing parents). */
static int mkdir_private(const char *path)
{
	mode_t old = umask(077);
	int error = ga_mkdir_p(path, 0700);
	umask(old);
	return error;
}

static int dir_is_empty(const char *path, int *empty)
{
	DIR *d = opendir(path);
	struct dirent *de;
	if (!d)
		return ga_error_os(0, errno, "%s: opendir", path);
	*empty = 1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			*empty = 0;
			break;
		}
	}
	closedir(d);
	return 0;
}

static int check_marker(const char *marker)
{
	ga_buf b = GA_BUF_INIT;
	json_t *j = NULL, *fmt, *ver;
	json_error_t jerr;
	int error;
	if ((error = ga_read_file(&b, marker, 65536)) < 0)
		goto done;
	if ((j = json_loadb(b.ptr, b.size, 0, &jerr)) == NULL || !json_is_object(j)) {
		error = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_STORE, "%s: not a store marker: %s",
		                 marker, jerr.text);
		goto done;
	}
	fmt = json_object_get(j, "format");
	ver = json_object_get(j, "version");
	if (!json_is_string(fmt) || strcmp(json_string_value(fmt), GA_STORE_FORMAT) ||
	    !json_is_integer(ver)) {
		error = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_STORE,
		                 "%s: not a goaccel store marker", marker);
		goto done;
	}
	if (json_integer_value(ver) != GA_STORE_VERSION)
		error = ga_error(GOACCEL_EVERSION, GOACCEL_ERROR_STORE,
		                 "%s: store layout version %lld; this build reads version %d", marker,
		                 (long long)json_integer_value(ver), GA_STORE_VERSION);
done:
	json_decref(j);
	ga_buf_dispose(&b);
	return error;
}

static int init_layout(const char *root, const char *marker, int no_create)
{
	struct stat st;
	int error = 0, empty = 0;
	size_t i;
	char buf[128];
	if (stat(root, &st) < 0) {
		if (errno != ENOENT)
			return ga_error_os(GOACCEL_ERROR, errno, "%s: stat", root);
		if (no_create)
			return ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_STORE, "%s: no store here", root);
		if ((error = mkdir_private(root)) < 0)
			return error;
	} else if (!S_ISDIR(st.st_mode)) {
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_STORE, "%s: not a directory", root);
	}
	if (ga_exists(marker))
		return check_marker(marker);
	if ((error = dir_is_empty(root, &empty)) < 0)
		return error;
	if (!empty)
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_STORE,
		                "%s: not empty and not a goaccel store (no %s)", root, GA_STORE_MARKER);
	if (no_create)
		return ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_STORE, "%s: no store here", root);
	for (i = 0; i < sizeof(layout_dirs) / sizeof(layout_dirs[0]); i++) {
		char *p = ga_path_join(root, layout_dirs[i]);
		if (!p)
			return GOACCEL_ERROR;
		error = (mkdir(p, 0755) < 0 && errno != EEXIST) ? ga_error_os(0, errno, "%s: mkdir", p) : 0;
		free(p);
		if (error < 0)
			return error;
	}
	/* The marker goes last: a directory with it is complete. Two processes creating the same
	 * store write the same bytes, so the race is harmless. */
	snprintf(buf, sizeof(buf), "{\"format\":\"%s\",\"version\":%d}\n", GA_STORE_FORMAT,
	         GA_STORE_VERSION);
	return ga_write_file_atomic(marker, buf, strlen(buf), 0444, 0);
}

/* Directories that might be missing in a store created by an older build of this version, or
 * removed by hand: recreated quietly. */
static int ensure_layout(const char *root)
{
	size_t i;
	for (i = 0; i < sizeof(layout_dirs) / sizeof(layout_dirs[0]); i++) {
		char *p = ga_path_join(root, layout_dirs[i]);
		int error;
		if (!p)
			return GOACCEL_ERROR;
		error = (mkdir(p, 0755) < 0 && errno != EEXIST) ? ga_error_os(0, errno, "%s: mkdir", p) : 0;
		free(p);
		if (error < 0)
			return error;
	}
	return 0;
}

int goaccel_store_open(goaccel_store **out, const char *root, const goaccel_store_options *opts)
{
	goaccel_store_options o = GOACCEL_STORE_OPTIONS_INIT;
	goaccel_store *s = NULL;
	char *def = NULL, *abs = NULL, *marker = NULL;
	int error = 0;
	GA_ASSERT_ARG(out);
	*out = NULL;
	GA_CHECK_VERSION(opts, GOACCEL_STORE_OPTIONS_VERSION, "goaccel_store_options");
	if (opts)
		o = *opts;
	if (!root) {
		if ((error = goaccel_store_default_root(&def)) < 0)
			goto done;
		root = def;
	}
	if (!*root) {
		error = ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_STORE, "empty store root");
		goto done;
	}
	if (root[0] != '/') {
		char cwd[4096];
		if (!getcwd(cwd, sizeof(cwd))) {
			error = ga_error_os(GOACCEL_ERROR, errno, "getcwd");
			goto done;
		}
		abs = ga_path_join(cwd, root);
	} else {
		abs = strdup(root);
	}
	if (!abs) {
		error = ga_error_oom();
		goto done;
	}
	while (strlen(abs) > 1 && abs[strlen(abs) - 1] == '/')
		abs[strlen(abs) - 1] = '\0';
	if ((marker = ga_path_join(abs, GA_STORE_MARKER)) == NULL) {
		error = GOACCEL_ERROR;
		goto done;
	}
	if ((error = init_layout(abs, marker, o.no_create)) < 0 || (error = ensure_layout(abs)) < 0)
		goto done;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->root = abs;
	abs = NULL;
	s->fsync = o.fsync;
	s->verify_cache = o.verify_cache;
	s->owner_fd = -1;
	*out = s;
done:
	free(def);
	free(abs);
	free(marker);
	return error;
}

void goaccel_store_free(goaccel_store *s)
{
	if (!s)
		return;
	ga_stats_close(s);
	if (s->owner_fd >= 0) {
		/* Our temporary files are all gone by now; the lock file goes with the handle. */
		char *p = ga_store_sub(s, "tmp/%s.lock", s->owner);
		if (p)
			unlink(p);
		free(p);
		close(s->owner_fd);
	}
	pthread_mutex_destroy(&s->lock);
	free(s->root);
	free(s);
}

const char *goaccel_store_path(const goaccel_store *s)
{
	return s ? s->root : "";
}

/* ---- temporary files ----------------------------------------------------------------------- */

static int ensure_owner(goaccel_store *s)
{
	int error = 0;
	pthread_mutex_lock(&s->lock);
	while (s->owner_fd < 0) {
		unsigned char rnd[8];
		char *p;
		int fd, i;
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
			error = ga_error_os(GOACCEL_ERROR, errno, "getrandom");
			break;
		}
		for (i = 0; i < 8; i++)
			snprintf(s->owner + 2 * i, 3, "%02x", rnd[i]);
		if ((p = ga_store_sub(s, "tmp/%s.lock", s->owner)) == NULL) {
			error = GOACCEL_ERROR;
			break;
		}
		fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno == EEXIST) {
			free(p);
			continue;
		}
		if (fd < 0) {
			error = ga_error_os(GOACCEL_ERROR, errno, "%s: create", p);
			free(p);
			break;
		}
		if (flock(fd, LOCK_EX) < 0) {
			error = ga_error_os(GOACCEL_ERROR, errno, "%s: flock", p);
			close(fd);
			unlink(p);
			free(p);
			break;
		}
		free(p);
		s->owner_fd = fd;
	}
	pthread_mutex_unlock(&s->lock);
	return error;
}

static char *tmp_name(goaccel_store *s, const char *suffix)
{
	uint64_t n = __atomic_add_fetch(&s->seq, 1, __ATOMIC_RELAXED);
	return ga_store_sub(s, "tmp/%s.%llu%s", s->owner, (unsigned long long)n, suffix);
}

int ga_store_tmp_file(char **path_out, int *fd_out, goaccel_store *s)
{
	char *p;
	int fd, error;
	if ((error = ensure_owner(s)) < 0)
		return error;
	if ((p = tmp_name(s, ".tmp")) == NULL)
		return GOACCEL_ERROR;
	if ((fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: create", p);
		free(p);
		return error;
	}
	*path_out = p;
	*fd_out = fd;
	return 0;
}

int ga_store_tmp_dir(char **path_out, goaccel_store *s)
{
	char *p;
	int error;
	if ((error = ensure_owner(s)) < 0)
		return error;
	if ((p = tmp_name(s, ".d")) == NULL)
		return GOACCEL_ERROR;
	if (mkdir(p, 0700) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: mkdir", p);
		free(p);
		return error;
	}
	*path_out = p;
	return 0;
}

int ga_rename_replace(int olddir, const char *oldname, int newdir, const char *newname)
{
	int tries;
	/* rename(2) over an existing file makes ext4 (auto_da_alloc) start writing the new file
	 * back before it returns, which costs as much as the copy itself for a big binary. Swapping
	 * the two names atomically and unlinking the old file does not, and replaces just as
	 * atomically. */
	for (tries = 0; tries < 8; tries++) {
		if (renameat2(olddir, oldname, newdir, newname, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno == EINVAL || errno == ENOSYS)
			break; /* no renameat2 flags here: plain rename */
		if (errno != EEXIST)
			return -1;
		if (renameat2(olddir, oldname, newdir, newname, RENAME_EXCHANGE) == 0) {
			unlinkat(olddir, oldname, 0); /* now the previous file */
			return 0;
		}
		if (errno == EINVAL || errno == ENOSYS)
			break;
		if (errno != ENOENT)
			return -1;
		/* the target went away between the two calls: try again */
	}
	return renameat(olddir, oldname, newdir, newname);
}

int ga_store_install(goaccel_store *s, const char *tmp, const char *final)
{
	(void)s;
	if (ga_rename_replace(AT_FDCWD, tmp, AT_FDCWD, final) == 0)
		return 0;
	if (errno == ENOENT) {
		char *dir = strdup(final), *slash;
		if (!dir)
			return ga_error_oom();
		slash = strrchr(dir, '/');
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			int e = errno;
			free(dir);
			return ga_error_os(GOACCEL_ERROR, e, "%s: mkdir", final);
		}
		free(dir);
		if (ga_rename_replace(AT_FDCWD, tmp, AT_FDCWD, final) == 0)
			return 0;
	}
	return ga_error_os(GOACCEL_ERROR, errno, "%s: rename into place", final);
}

int ga_store_maybe_sync(goaccel_store *s, int fd, const char *path)
{
	if (s->fsync && fsync(fd) < 0)
		return ga_error_os(GOACCEL_ERROR, errno, "%s: fsync", path);
	return 0;
}

void ga_store_unlink_if_same(const char *path, int fd)
{
	struct stat a, b;
	if (fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
		unlink(path);
}

/* ---- the GC lock --------------------------------------------------------------------------- */

int ga_store_gc_lock(int *fd_out, goaccel_store *s, int exclusive)
{
	char *p = ga_store_sub(s, "gc.lock");
	int fd, error = 0;
	if (!p)
		return GOACCEL_ERROR;
	if ((fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: open", p);
		goto done;
	}
	while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
		if (errno == EINTR)
			continue;
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: flock", p);
		close(fd);
		goto done;
	}
	*fd_out = fd;
done:
	free(p);
	return error;
}

void ga_store_gc_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* ---- blobs --------------------------------------------------------------------------------- */

int ga_store_digest_fd(goaccel_digest *out, uint64_t *size_out, int fd, const char *display)
{
	goaccel_digest_ctx *ctx = NULL;
	char *buf = NULL;
	uint64_t off = 0;
	int error;
	if ((error = goaccel_digest_ctx_new(&ctx)) < 0)
		return error;
	if ((buf = malloc(1 << 20)) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	for (;;) {
		ssize_t n = pread(fd, buf, 1 << 20, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error = ga_error_os(GOACCEL_ERROR, errno, "%s: read", display);
			goto done;
		}
		if (n == 0)
			break;
		if ((error = goaccel_digest_ctx_update(ctx, buf, (size_t)n)) < 0)
			goto done;
		off += (uint64_t)n;
	}
	if ((error = goaccel_digest_ctx_finish(out, ctx)) < 0)
		goto done;
	if (size_out)
		*size_out = off;
done:
	free(buf);
	goaccel_digest_ctx_free(ctx);
	return error;
}

int ga_store_blob_put_fd(goaccel_digest *out, uint64_t *size_out, goaccel_store *s, int in,
                         const char *display)
{
	goaccel_digest_ctx *ctx = NULL;
	char *tmp = NULL, *final = NULL, *buf = NULL;
	int fd = -1, error;
	uint64_t total = 0;
	if ((error = ga_store_tmp_file(&tmp, &fd, s)) < 0)
		return error;
	if ((error = goaccel_digest_ctx_new(&ctx)) < 0)
		goto done;
	if ((buf = malloc(1 << 20)) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	/* Hash exactly the bytes written: a source that changes under us still gives a blob that
	 * matches its name. */
	for (;;) {
		ssize_t n = read(in, buf, 1 << 20);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error = ga_error_os(GOACCEL_ERROR, errno, "%s: read", display);
			goto done;
		}
		if (n == 0)
			break;
		if ((error = goaccel_digest_ctx_update(ctx, buf, (size_t)n)) < 0 ||
		    (error = ga_write_all(fd, buf, (size_t)n, tmp)) < 0)
			goto done;
		total += (uint64_t)n;
	}
	if ((error = goaccel_digest_ctx_finish(out, ctx)) < 0)
		goto done;
	if ((final = ga_store_blob_path(s, out)) == NULL) {
		error = GOACCEL_ERROR;
		goto done;
	}
	/* Always rename over: the fresh copy also replaces a damaged one. */
	error = ga_store_tmp_commit(s, fd, tmp, final);
	fd = -1;
	if (error == 0 && size_out)
		*size_out = total;
done:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	free(final);
	free(buf);
	goaccel_digest_ctx_free(ctx);
	return error;
}

int goaccel_store_blob_put_file(goaccel_digest *out, goaccel_store *s, const char *path)
{
	int fd, error;
	struct stat st;
	GA_ASSERT_ARG(out && s && path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return ga_error_os(0, errno, "%s: open", path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		error = ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_STORE, "%s: not a regular file", path);
		goto done;
	}
	error = ga_store_blob_put_fd(out, NULL, s, fd, path);
done:
	close(fd);
	return error;
}

int ga_store_tmp_commit(goaccel_store *s, int fd, const char *tmp, const char *final)
{
	int error = 0;
	if (fchmod(fd, 0444) < 0)
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: chmod", tmp);
	else
		error = ga_store_maybe_sync(s, fd, tmp);
	if (close(fd) < 0 && error == 0)
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: close", tmp);
	if (error == 0)
		error = ga_store_install(s, tmp, final);
	if (error < 0)
		unlink(tmp);
	return error;
}

int ga_store_write_file(goaccel_store *s, const char *final, const void *data, size_t len)
{
	char *tmp = NULL;
	int fd = -1, error;
	if ((error = ga_store_tmp_file(&tmp, &fd, s)) < 0)
		return error;
	if ((error = ga_write_all(fd, data, len, tmp)) < 0) {
		close(fd);
		unlink(tmp);
	} else {
		error = ga_store_tmp_commit(s, fd, tmp, final);
	}
	free(tmp);
	return error;
}

int goaccel_store_blob_put_buffer(goaccel_digest *out, goaccel_store *s, const void *data, size_t len)
{
	char *final = NULL;
	int error;
	GA_ASSERT_ARG(out && s && (data || len == 0));
	if ((error = goaccel_digest_buffer(out, data, len)) < 0)
		return error;
	if ((final = ga_store_blob_path(s, out)) == NULL)
		return GOACCEL_ERROR;
	error = ga_store_write_file(s, final, data, len);
	free(final);
	return error;
}

int ga_store_blob_open_verified(int *fd_out, uint64_t *size_out, goaccel_store *s,
                                const goaccel_digest *d, const char *kind)
{
	return ga_store_blob_open_checked(fd_out, size_out, s, d, kind, 0);
}

int ga_store_blob_open_checked(int *fd_out, uint64_t *size_out, goaccel_store *s,
                               const goaccel_digest *d, const char *kind, int peek)
{
	char *path = ga_store_blob_path(s, d);
	int fd = -1, error = 0;
	struct stat st;
	goaccel_digest actual;
	uint64_t size = 0;
	if (!path)
		return GOACCEL_ERROR;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY)) < 0) {
		error = ga_error_os(0, errno, "blob %s", path);
		goto done;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		error = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_STORE, "blob %s: not a regular file", path);
		goto corrupt;
	}
	if (s->verify_cache && ga_stamp_matches(s, d, &st)) {
		size = (uint64_t)st.st_size; /* hashed whole before, and unchanged since */
	} else {
		if ((error = ga_store_digest_fd(&actual, &size, fd, path)) < 0)
			goto done;
		if (goaccel_digest_cmp(&actual, d) != 0) {
			error = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_STORE,
			                 "blob %s: content does not match its digest (removed)", path);
			goto corrupt;
		}
		if (s->verify_cache && !peek && size == (uint64_t)st.st_size)
			ga_stamp_record(s, d, &st);
	}
	*fd_out = fd;
	fd = -1;
	if (size_out)
		*size_out = size;
	goto done;
corrupt:
	if (peek) {
		ga_error_recode(GOACCEL_ECORRUPT);
		error = GOACCEL_ECORRUPT;
	} else {
		goaccel_store_counters c = {0};
		ga_store_unlink_if_same(path, fd);
		c.corrupt = 1;
		ga_stats_add(s, kind ? kind : "", &c);
		ga_error_recode(GOACCEL_ECORRUPT);
	}
done:
	if (fd >= 0)
		close(fd);
	free(path);
	return error;
}

int goaccel_store_blob_get(void **data, size_t *len, goaccel_store *s, const goaccel_digest *d,
                           size_t max_size)
{
	int fd = -1, error;
	uint64_t size;
	char *buf = NULL;
	size_t got = 0;
	goaccel_digest actual;
	GA_ASSERT_ARG(data && len && s && d);
	*data = NULL;
	*len = 0;
	/* Read once into memory and hash what we hold, so what we return is what we verified. */
	{
		char *path = ga_store_blob_path(s, d);
		struct stat st;
		if (!path)
			return GOACCEL_ERROR;
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
		if (fd < 0) {
			error = ga_error_os(0, errno, "blob %s", path);
			free(path);
			return error;
		}
		if (fstat(fd, &st) < 0) {
			error = ga_error_os(GOACCEL_ERROR, errno, "blob %s: stat", path);
			free(path);
			goto done;
		}
		free(path);
		size = (uint64_t)st.st_size;
	}
	if (max_size && size > max_size) {
		error = ga_error(GOACCEL_ELIMIT, GOACCEL_ERROR_STORE,
		                 "blob of %llu bytes is larger than the limit of %zu",
		                 (unsigned long long)size, max_size);
		goto done;
	}
	if ((buf = malloc((size_t)size + 1)) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	while (got < size) {
		ssize_t n = pread(fd, buf + got, (size_t)size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error = ga_error_os(GOACCEL_ERROR, errno, "blob read");
			goto done;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	if ((error = goaccel_digest_buffer(&actual, buf, got)) < 0)
		goto done;
	if (goaccel_digest_cmp(&actual, d) != 0) {
		goaccel_store_counters c = {0};
		char *path = ga_store_blob_path(s, d);
		if (path)
			ga_store_unlink_if_same(path, fd);
		c.corrupt = 1;
		ga_stats_add(s, "", &c);
		error = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_STORE,
		                 "blob %s: content does not match its digest (removed)",
		                 path ? path : "?");
		free(path);
		goto done;
	}
	*data = buf;
	*len = got;
	buf = NULL;
done:
	free(buf);
	if (fd >= 0)
		close(fd);
	return error;
}

int ga_store_tmp_at(int *fd_out, char *name, size_t name_size, int dirfd, const char *display)
{
	int tries, fd = -1;
	for (tries = 0; fd < 0; tries++) {
		unsigned char r[6];
		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
			memset(r, tries, sizeof(r));
		snprintf(name, name_size, ".goaccel-%02x%02x%02x%02x%02x%02x.tmp", r[0], r[1], r[2],
		         r[3], r[4], r[5]);
		fd = openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0 && (errno != EEXIST || tries > 100))
			return ga_error_os(0, errno, "%s: creating temporary file", display);
	}
	*fd_out = fd;
	return 0;
}

int ga_store_copy_content(int in, uint64_t size, int out, int no_reflink, int *cloned,
                          const char *display)
{
	char *buf = NULL;
	uint64_t off = 0;
	int error = 0;
	if (cloned)
		*cloned = 0;
	if (!no_reflink && ioctl(out, FICLONE, in) == 0) {
		if (cloned)
			*cloned = 1;
		return 0;
	}
	while (off < size) {
		loff_t ioff = (loff_t)off;
		ssize_t n = copy_file_range(in, &ioff, out, NULL, (size_t)(size - off), 0);
		if (n <= 0)
			break; /* EXDEV, ENOSYS, EINVAL: read/write from here */
		off += (uint64_t)n;
	}
	if (off >= size)
		return 0;
	if ((buf = malloc(GA_IO_CHUNK)) == NULL)
		return ga_error_oom();
	if (lseek(out, (off_t)off, SEEK_SET) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: seek", display);
		goto done;
	}
	while (off < size) {
		ssize_t n = pread(in, buf, GA_IO_CHUNK, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			error = n < 0 ? ga_error_os(GOACCEL_ERROR, errno, "%s: read blob", display)
			              : ga_error(GOACCEL_ECHANGED, GOACCEL_ERROR_STORE,
			                         "%s: blob shrank while copied", display);
			goto done;
		}
		if ((error = ga_write_all(out, buf, (size_t)n, display)) < 0)
			goto done;
		off += (uint64_t)n;
	}
done:
	free(buf);
	return error;
}

int ga_store_tmp_finish(int out, int dirfd, const char *tmp, const char *name, unsigned int mode,
                        int excl, const char *display)
{
	int error = 0;
	if (fchmod(out, mode & 0777) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: chmod", display);
		close(out);
		goto done;
	}
	if (close(out) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: close", display);
		goto done;
	}
	if (excl) {
		/* link(2) fails if name exists: no overwrite, and still atomic. */
		if (linkat(dirfd, tmp, dirfd, name, 0) < 0) {
			error = ga_error_os(0, errno, "%s", display);
			goto done;
		}
		unlinkat(dirfd, tmp, 0);
	} else if (ga_rename_replace(dirfd, tmp, dirfd, name) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: rename into place", display);
	}
done:
	if (error < 0)
		unlinkat(dirfd, tmp, 0);
	return error;
}

/* Copies fd's content into dirfd/name through a temporary name in the same directory, so name
 * appears whole or not at all. */
int ga_store_copy_fd_at(int in, uint64_t size, int dirfd, const char *name, const char *display,
                        unsigned int mode, int excl, int no_reflink)
{
	char tmp[GA_TMP_NAME_MAX];
	int out = -1, error;
	if ((error = ga_store_tmp_at(&out, tmp, sizeof(tmp), dirfd, display)) < 0)
		return error;
	if ((error = ga_store_copy_content(in, size, out, no_reflink, NULL, display)) < 0) {
		close(out);
		unlinkat(dirfd, tmp, 0);
		return error;
	}
	return ga_store_tmp_finish(out, dirfd, tmp, name, mode, excl, display);
}

int goaccel_store_blob_copy(goaccel_store *s, const goaccel_digest *d, const char *dest,
                            unsigned int mode)
{
	int fd = -1, dirfd = -1, error;
	uint64_t size;
	const char *slash, *base;
	char *dir = NULL;
	GA_ASSERT_ARG(s && d && dest && *dest);
	slash = strrchr(dest, '/');
	base = slash ? slash + 1 : dest;
	if (!*base)
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_STORE, "%s: not a file name", dest);
	if ((dir = slash ? strndup(dest, (size_t)(slash - dest)) : strdup(".")) == NULL)
		return ga_error_oom();
	if ((dirfd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		error = ga_error_os(0, errno, "%s: open directory", dest);
		goto done;
	}
	if ((error = ga_store_blob_open_verified(&fd, &size, s, d, NULL)) < 0)
		goto done;
	error = ga_store_copy_fd_at(fd, size, dirfd, base, dest, mode, 0, 0);
done:
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	free(dir);
	return error;
}

int goaccel_store_blob_path(char **out, const goaccel_store *s, const goaccel_digest *d)
{
	GA_ASSERT_ARG(out && s && d);
	*out = ga_store_blob_path(s, d);
	return *out ? 0 : GOACCEL_ERROR;
}

int goaccel_store_blob_exists(goaccel_store *s, const goaccel_digest *d)
{
	char *p;
	struct stat st;
	int r;
	GA_ASSERT_ARG(s && d);
	if ((p = ga_store_blob_path(s, d)) == NULL)
		return GOACCEL_ERROR;
	r = lstat(p, &st) == 0 && S_ISREG(st.st_mode);
	free(p);
	return r;
}
