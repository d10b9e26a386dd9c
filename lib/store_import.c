/* Import: merging an export archive into a store, treating it as hostile (goaccel/store.h).
 *
 * Nothing from the archive becomes visible until it is complete and checked: blobs are hashed
 * into temporary files and renamed into place only when they match their names; mount entries
 * are staged in a temporary directory and swapped in whole (RENAME_EXCHANGE) after the
 * manifest, the archive's last entry, was read; records and refs are installed last, each
 * atomically. An archive cut short anywhere lacks the manifest and installs no record or mount.
 * Every path is created relative to a directory fd, one component at a time, never following a
 * symlink, so no entry can write outside the staging directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/dl_archive.h"
#include <jansson.h>

#include "store_archive.h"
#include "store_internal.h"
#include "util/err.h"
#include "util/fs.h"

#define DEFAULT_MAX_ENTRY (UINT64_C(4) << 30)
#define DEFAULT_MAX_TOTAL (UINT64_C(64) << 30)
#define DEFAULT_MAX_ENTRIES UINT64_C(4000000)

typedef struct {
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	ga_buf bytes;
	ga_record rec;         /* actions */
	goaccel_digest blob;   /* refs */
} ipending;

typedef struct {
	ipending *items;
	size_t count, cap;
} ilist;

typedef struct {
	goaccel_store *s;
	goaccel_import_options o;
	goaccel_transfer_result *r;
	struct archive *a;
	char *staging;   /* tmp/<owner>.<n>.d */
	int stagefd;
	json_t *mounts;  /* id -> {"dirs": {rel: mode}, "files": {rel: digest hex}} */
	json_t *manifest;
	ilist actions, refs;
	uint64_t total, entries;
	int header_seen;
	char *buf;
	/* The directories of the last mount entry, kept open: entries come depth-first, so most
	 * share the previous one's parent. */
	char cur_id[GA_MOUNT_ID_MAX + 1];
	int cur_mfd;
	char *cur_parent;
	int cur_pfd;
	char entry[GA_NAME_MAX + 256]; /* the entry being read, for messages */
} istate;

int goaccel_import_options_init(goaccel_import_options *opts, unsigned int version)
{
	GA_INIT_STRUCTURE(opts, version, goaccel_import_options, GOACCEL_IMPORT_OPTIONS_INIT);
	return 0;
}

static char *digest_hex_str(const goaccel_digest *d, char hex[GOACCEL_DIGEST_HEXSIZE + 1])
{
	goaccel_digest_fmt(hex, d);
	return hex;
}

static int refuse(istate *im, int code, const char *why)
{
	return ga_error(code, GOACCEL_ERROR_STORE, "archive entry '%s': %s", im->entry, why);
}

static int damaged(istate *im)
{
	return ga_archive_error(GOACCEL_ECORRUPT, im->a, "archive damaged or truncated at '%s'",
	                        im->entry[0] ? im->entry : "(start)");
}

/* ---- reading entry data -------------------------------------------------------------------- */

static int read_small(istate *im, ga_buf *out, uint64_t max)
{
	for (;;) {
		la_ssize_t n = archive_read_data(im->a, im->buf, GA_IO_CHUNK);
		if (n < 0)
			return damaged(im);
		if (n == 0)
			return 0;
		if (out->size + (uint64_t)n > max)
			return refuse(im, GOACCEL_ELIMIT, "larger than its limit");
		if (ga_buf_put(out, im->buf, (size_t)n) < 0)
			return GOACCEL_ERROR;
	}
}

/* Streams the entry's data into fd, digesting it; checks the size against the header's. */
static int read_to_fd(istate *im, int fd, uint64_t expect, goaccel_digest *digest)
{
	goaccel_digest_ctx *ctx = NULL;
	uint64_t got = 0;
	int error;
	if ((error = goaccel_digest_ctx_new(&ctx)) < 0)
		return error;
	for (;;) {
		la_ssize_t n = archive_read_data(im->a, im->buf, GA_IO_CHUNK);
		if (n < 0) {
			error = damaged(im);
			goto done;
		}
		if (n == 0)
			break;
		got += (uint64_t)n;
		if (got > expect) {
			error = refuse(im, GOACCEL_ELIMIT, "more data than its header says");
			goto done;
		}
		if ((error = goaccel_digest_ctx_update(ctx, im->buf, (size_t)n)) < 0 ||
		    (error = ga_write_all(fd, im->buf, (size_t)n, im->entry)) < 0)
			goto done;
	}
	if (got != expect) {
		error = refuse(im, GOACCEL_ECORRUPT, "shorter than its header says");
		goto done;
	}
	error = goaccel_digest_ctx_finish(digest, ctx);
done:
	goaccel_digest_ctx_free(ctx);
	return error;
}

/* ---- blobs, records, refs ------------------------------------------------------------------ */

static int import_blob(istate *im, const char *hex, uint64_t size)
{
	goaccel_digest want, got;
	char *tmp = NULL, *final = NULL;
	int fd = -1, error;
	goaccel_digest_parse(&want, hex);
	if ((error = ga_store_tmp_file(&tmp, &fd, im->s)) < 0)
		return error;
	if ((error = read_to_fd(im, fd, size, &got)) < 0)
		goto done;
	if (goaccel_digest_cmp(&want, &got) != 0) {
		error = refuse(im, GOACCEL_ECORRUPT, "content does not match its digest");
		goto done;
	}
	if ((final = ga_store_blob_path(im->s, &want)) == NULL) {
		error = GOACCEL_ERROR;
		goto done;
	}
	error = ga_store_tmp_commit(im->s, fd, tmp, final);
	fd = -1;
	if (error == 0)
		im->r->blobs++;
done:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	free(final);
	im->r->bytes += size;
	return error;
}

static ipending *list_add(ilist *l)
{
	if (l->count == l->cap) {
		ipending *n = realloc(l->items, (l->cap = l->cap ? l->cap * 2 : 32) * sizeof(*n));
		if (!n) {
			ga_error_oom();
			return NULL;
		}
		l->items = n;
	}
	memset(&l->items[l->count], 0, sizeof(ipending));
	return &l->items[l->count++];
}

static void list_dispose(ilist *l)
{
	size_t i;
	for (i = 0; i < l->count; i++) {
		ga_buf_dispose(&l->items[i].bytes);
		ga_record_dispose(&l->items[i].rec);
	}
	free(l->items);
}

static int import_record(istate *im, const char *hex, int ref)
{
	ipending *p = list_add(ref ? &im->refs : &im->actions);
	goaccel_digest d;
	int error;
	if (!p)
		return GOACCEL_ERROR;
	memcpy(p->hex, hex, GOACCEL_DIGEST_HEXSIZE + 1);
	goaccel_digest_parse(&d, hex);
	if ((error = read_small(im, &p->bytes, GA_RECORD_MAX)) < 0)
		return error;
	error = ref ? ga_ref_parse(NULL, &p->blob, p->bytes.ptr ? p->bytes.ptr : "", p->bytes.size, &d,
	                           im->entry)
	            : ga_record_parse(&p->rec, p->bytes.ptr ? p->bytes.ptr : "", p->bytes.size, &d,
	                              im->entry);
	if (error < 0) {
		char msg[600];
		snprintf(msg, sizeof(msg), "malformed: %s", goaccel_error_last()->message);
		return refuse(im, GOACCEL_EINVALID, msg);
	}
	im->r->bytes += p->bytes.size;
	return 0;
}

/* ---- mount entries ------------------------------------------------------------------------- */

/* A symlink target may only climb with leading ".." (no more than the link's depth) and then
 * descend: with every parent a real directory, it then resolves inside the mount whatever other
 * links it meets. */
static int symlink_target_ok(const char *rel, const char *target)
{
	size_t depth = 0, ups = 0;
	const char *p;
	int descending = 0;
	if (!*target || target[0] == '/' || strlen(target) > GA_NAME_MAX)
		return 0;
	for (p = rel; *p; p++)
		depth += *p == '/';
	for (p = target;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.'))
			return 0;
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (descending || ++ups > depth)
				return 0;
		} else {
			descending = 1;
		}
		if (!slash)
			break;
		p = slash + 1;
	}
	return 1;
}

static void drop_cached_dirs(istate *im)
{
	if (im->cur_pfd >= 0)
		close(im->cur_pfd);
	if (im->cur_mfd >= 0)
		close(im->cur_mfd);
	im->cur_pfd = im->cur_mfd = -1;
	im->cur_id[0] = '\0';
	free(im->cur_parent);
	im->cur_parent = NULL;
}

static json_t *mount_state(istate *im, const char *id, int *stagefd_out)
{
	json_t *m = json_object_get(im->mounts, id);
	if (!m) {
		if (mkdirat(im->stagefd, id, 0700) < 0 && errno != EEXIST) {
			ga_error_os(GOACCEL_ERROR, errno, "%s/%s: mkdir", im->staging, id);
			return NULL;
		}
		m = json_pack("{s:{}, s:{}}", "dirs", "files");
		json_object_set_new(im->mounts, id, m);
	}
	if (strcmp(im->cur_id, id) != 0) {
		drop_cached_dirs(im);
		im->cur_mfd = openat(im->stagefd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (im->cur_mfd < 0) {
			ga_error_os(GOACCEL_ERROR, errno, "%s/%s: open", im->staging, id);
			return NULL;
		}
		memcpy(im->cur_id, id, strlen(id) + 1); /* a valid id fits */
	}
	*stagefd_out = im->cur_mfd;
	return m;
}

/* The parent directory of rel inside the mount (created as needed), from the cache when it is
 * the previous entry's. Borrowed: the caller does not close it. */
static int entry_parent(int *pfd, const char **base, istate *im, int mfd, const char *rel)
{
	const char *slash = strrchr(rel, '/');
	size_t plen = slash ? (size_t)(slash - rel) : 0;
	int error, fd;
	if (im->cur_parent && strlen(im->cur_parent) == plen && !strncmp(im->cur_parent, rel, plen)) {
		*pfd = im->cur_pfd;
		*base = slash ? slash + 1 : rel;
		return 0;
	}
	if ((error = ga_open_parent_nofollow(&fd, base, mfd, rel, 0700, im->entry)) < 0)
		return error;
	if (im->cur_pfd >= 0)
		close(im->cur_pfd);
	free(im->cur_parent);
	im->cur_pfd = fd;
	if ((im->cur_parent = strndup(rel, plen)) == NULL)
		return ga_error_oom();
	*pfd = fd;
	return 0;
}

static int mount_file(istate *im, json_t *m, int parent, const char *base, const char *rel,
                      struct archive_entry *e)
{
	int fd, error;
	goaccel_digest d;
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	struct timespec ts[2];
	fd = openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EEXIST ? refuse(im, GOACCEL_EUNSAFE, "duplicate entry")
		                       : ga_error_os(GOACCEL_ERROR, errno, "staging %s", im->entry);
	if ((error = read_to_fd(im, fd, (uint64_t)archive_entry_size(e), &d)) == 0) {
		ts[0].tv_sec = ts[1].tv_sec = archive_entry_mtime(e);
		ts[0].tv_nsec = ts[1].tv_nsec = archive_entry_mtime_nsec(e);
		futimens(fd, ts);
		if (fchmod(fd, archive_entry_perm(e) & 0777) < 0)
			error = ga_error_os(GOACCEL_ERROR, errno, "staging %s: chmod", im->entry);
	}
	close(fd);
	if (error == 0) {
		json_object_set_new(json_object_get(m, "files"), rel, json_string(digest_hex_str(&d, hex)));
		im->r->bytes += (uint64_t)archive_entry_size(e);
	}
	return error;
}

static int mount_hardlink(istate *im, json_t *m, const char *id, int mfd, int parent,
                          const char *base, const char *rel, const char *target)
{
	size_t plen = strlen("mounts/") + strlen(id) + 1;
	const char *trel, *tbase;
	int tparent = -1, error;
	struct stat st;
	json_t *digest;
	if (strncmp(target, "mounts/", 7) || strncmp(target + 7, id, strlen(id)) || target[plen - 1] != '/')
		return refuse(im, GOACCEL_EUNSAFE, "hard link to outside its mount");
	trel = target + plen;
	if (ga_store_valid_relpath(trel, "hard link target") < 0)
		return refuse(im, GOACCEL_EUNSAFE, "hard link target with '..', '.' or an empty component");
	if ((error = ga_open_parent_nofollow(&tparent, &tbase, mfd, trel, 0, im->entry)) < 0)
		return error == GOACCEL_EUNSAFE || error == GOACCEL_ENOTFOUND
		               ? refuse(im, GOACCEL_EUNSAFE, "hard link to a file not in the archive")
		               : error;
	if (fstatat(tparent, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
	    !(digest = json_object_get(json_object_get(m, "files"), trel))) {
		close(tparent);
		return refuse(im, GOACCEL_EUNSAFE, "hard link to something not a file of the archive");
	}
	if (linkat(tparent, tbase, parent, base, 0) < 0)
		error = errno == EEXIST ? refuse(im, GOACCEL_EUNSAFE, "duplicate entry")
		                        : ga_error_os(GOACCEL_ERROR, errno, "staging %s: link", im->entry);
	else
		json_object_set(json_object_get(m, "files"), rel, digest);
	close(tparent);
	return error;
}

static int import_mount_entry(istate *im, const char *id, const char *rel, struct archive_entry *e)
{
	int mfd = -1, parent = -1, error = 0;
	const char *base;
	json_t *m;
	unsigned int type = archive_entry_filetype(e);
	const char *hard = archive_entry_hardlink(e);
	if ((m = mount_state(im, id, &mfd)) == NULL)
		return GOACCEL_ERROR;
	if (!rel) { /* the mount's root directory: its mode */
		json_object_set_new(json_object_get(m, "dirs"), ".",
		                    json_integer(archive_entry_perm(e) & 0777));
		goto done;
	}
	if ((error = entry_parent(&parent, &base, im, mfd, rel)) < 0) {
		if (error == GOACCEL_EUNSAFE)
			error = refuse(im, GOACCEL_EUNSAFE, "a parent is a symlink or a file");
		goto done;
	}
	if (hard) {
		error = mount_hardlink(im, m, id, mfd, parent, base, rel, hard);
	} else if (type == AE_IFDIR) {
		struct stat st;
		if (mkdirat(parent, base, 0700) < 0 &&
		    (errno != EEXIST || fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		     !S_ISDIR(st.st_mode) || json_object_get(json_object_get(m, "dirs"), rel))) {
			error = refuse(im, GOACCEL_EUNSAFE, "duplicate entry");
			goto done;
		}
		json_object_set_new(json_object_get(m, "dirs"), rel, json_integer(archive_entry_perm(e) & 0777));
	} else if (type == AE_IFLNK) {
		const char *target = archive_entry_symlink(e);
		if (!target || !symlink_target_ok(rel, target)) {
			error = refuse(im, GOACCEL_EUNSAFE, "symlink pointing outside its mount");
			goto done;
		}
		if (symlinkat(target, parent, base) < 0)
			error = errno == EEXIST ? refuse(im, GOACCEL_EUNSAFE, "duplicate entry")
			                        : ga_error_os(GOACCEL_ERROR, errno, "staging %s", im->entry);
	} else {
		error = mount_file(im, m, parent, base, rel, e);
	}
	if (error == 0)
		im->r->files++;
done:
	return error;
}

/* ---- classifying entries ------------------------------------------------------------------- */

static int check_name(istate *im, char *name, unsigned int type)
{
	const char *p = name;
	size_t len = strlen(name);
	if (name[0] == '/')
		return refuse(im, GOACCEL_EUNSAFE, "absolute path");
	if (type == AE_IFDIR && len > 1 && name[len - 1] == '/')
		name[--len] = '\0';
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return refuse(im, GOACCEL_EUNSAFE, "path with a '..' component");
		if (n == 0 || (n == 1 && p[0] == '.'))
			return refuse(im, GOACCEL_EUNSAFE, "path with an empty or '.' component");
		if (!slash)
			break;
		p = slash + 1;
	}
	return 0;
}

static int check_type(istate *im, struct archive_entry *e)
{
	unsigned int type = archive_entry_filetype(e);
	mode_t mode = archive_entry_mode(e);
	if (archive_entry_hardlink(e))
		return 0;
	switch (type) {
	case AE_IFREG:
	case AE_IFDIR:
	case AE_IFLNK:
		break;
	case AE_IFCHR:
	case AE_IFBLK:
		return refuse(im, GOACCEL_EUNSAFE, "device file");
	case AE_IFIFO:
		return refuse(im, GOACCEL_EUNSAFE, "FIFO");
	case AE_IFSOCK:
		return refuse(im, GOACCEL_EUNSAFE, "socket");
	default:
		return refuse(im, GOACCEL_EUNSAFE, "unknown file type");
	}
	if (mode & (S_ISUID | S_ISGID))
		return refuse(im, GOACCEL_EUNSAFE, "setuid/setgid bit");
	return 0;
}

static int check_size(istate *im, struct archive_entry *e)
{
	la_int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
	if (size < 0)
		return refuse(im, GOACCEL_EINVALID, "negative size");
	if ((uint64_t)size > im->o.max_entry_size)
		return refuse(im, GOACCEL_ELIMIT, "larger than the size limit");
	im->total += (uint64_t)size;
	if (im->total > im->o.max_total_size)
		return refuse(im, GOACCEL_ELIMIT, "the archive exceeds the total size limit");
	return 0;
}

static int is_hex_name(const char *s, const char *suffix)
{
	size_t n = strlen(s), sl = strlen(suffix);
	return n == GOACCEL_DIGEST_HEXSIZE + sl && ga_store_hex_ok(s, GOACCEL_DIGEST_HEXSIZE) &&
	       !strcmp(s + GOACCEL_DIGEST_HEXSIZE, suffix);
}

static int read_header_entry(istate *im, unsigned int type)
{
	ga_buf b = GA_BUF_INIT;
	json_t *j = NULL, *v;
	int error;
	if (strcmp(im->entry, GA_HEADER_ENTRY) || type != AE_IFREG)
		return ga_error(GOACCEL_EVERSION, GOACCEL_ERROR_STORE,
		                "not a goaccel export archive (first entry is '%s', not %s)", im->entry,
		                GA_HEADER_ENTRY);
	if ((error = read_small(im, &b, GA_HEADER_MAX)) < 0)
		goto done;
	j = json_loadb(b.ptr ? b.ptr : "", b.size, 0, NULL);
	v = json_object_get(j, "format");
	if (!json_is_object(j) || !json_is_string(v) || strcmp(json_string_value(v), GA_EXPORT_FORMAT)) {
		error = ga_error(GOACCEL_EVERSION, GOACCEL_ERROR_STORE, "not a goaccel export archive");
		goto done;
	}
	v = json_object_get(j, "version");
	if (!json_is_integer(v) || json_integer_value(v) != GA_EXPORT_VERSION) {
		error = ga_error(GOACCEL_EVERSION, GOACCEL_ERROR_STORE,
		                 "export archive version is not %d", GA_EXPORT_VERSION);
		goto done;
	}
	im->header_seen = 1;
done:
	json_decref(j);
	ga_buf_dispose(&b);
	return error;
}

static int read_manifest_entry(istate *im)
{
	ga_buf b = GA_BUF_INIT;
	json_error_t jerr;
	int error;
	if ((error = read_small(im, &b, GA_MANIFEST_MAX)) < 0)
		goto done;
	if ((im->manifest = json_loadb(b.ptr ? b.ptr : "", b.size, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		error = refuse(im, GOACCEL_EINVALID, "manifest is not JSON");
		goto done;
	}
	error = ga_manifest_check(im->manifest, im->entry);
done:
	ga_buf_dispose(&b);
	return error;
}

static int import_entry(istate *im, struct archive_entry *e)
{
	const char *raw = archive_entry_pathname(e);
	unsigned int type = archive_entry_filetype(e);
	char *name = im->entry, *slash;
	int error;
	if (!raw || strlen(raw) >= sizeof(im->entry) - 1) {
		snprintf(im->entry, sizeof(im->entry), "%.200s...", raw ? raw : "(no name)");
		return refuse(im, GOACCEL_EUNSAFE, "missing or overlong name");
	}
	snprintf(im->entry, sizeof(im->entry), "%s", raw);
	if (++im->entries > im->o.max_entries)
		return refuse(im, GOACCEL_ELIMIT, "too many entries");
	if ((error = check_name(im, name, type)) < 0 || (error = check_type(im, e)) < 0 ||
	    (error = check_size(im, e)) < 0)
		return error;
	if (!im->header_seen)
		return read_header_entry(im, type);
	if (im->manifest)
		return refuse(im, GOACCEL_EUNSAFE, "entry after the manifest");
	if (!strcmp(name, GA_MANIFEST_ENTRY) && type == AE_IFREG && !archive_entry_hardlink(e))
		return read_manifest_entry(im);
	if (!strncmp(name, "mounts/", 7)) {
		char id[GA_MOUNT_ID_MAX + 2];
		const char *rest = name + 7;
		size_t n;
		slash = strchr(rest, '/');
		n = slash ? (size_t)(slash - rest) : strlen(rest);
		if (n == 0 || n > GA_MOUNT_ID_MAX)
			return refuse(im, GOACCEL_EUNSAFE, "bad mount id");
		memcpy(id, rest, n);
		id[n] = '\0';
		if (ga_store_valid_mount_id(id) < 0)
			return refuse(im, GOACCEL_EUNSAFE, "bad mount id");
		if (!slash && (type != AE_IFDIR || archive_entry_hardlink(e)))
			return refuse(im, GOACCEL_EUNSAFE, "a mount's root must be a directory");
		return import_mount_entry(im, id, slash ? slash + 1 : NULL, e);
	}
	if (type != AE_IFREG || archive_entry_hardlink(e))
		return refuse(im, GOACCEL_EUNSAFE, "unexpected entry (not a regular file)");
	if (!strncmp(name, "blobs/", 6) && is_hex_name(name + 6, ""))
		return import_blob(im, name + 6, (uint64_t)archive_entry_size(e));
	if (!strncmp(name, "actions/", 8) && is_hex_name(name + 8, ".json")) {
		char hex[GOACCEL_DIGEST_HEXSIZE + 1];
		snprintf(hex, sizeof(hex), "%s", name + 8);
		return import_record(im, hex, 0);
	}
	if (!strncmp(name, "refs/", 5) && is_hex_name(name + 5, ".json")) {
		char hex[GOACCEL_DIGEST_HEXSIZE + 1];
		snprintf(hex, sizeof(hex), "%s", name + 5);
		return import_record(im, hex, 1);
	}
	return refuse(im, GOACCEL_EUNSAFE, "unexpected entry");
}

/* ---- checking against the manifest --------------------------------------------------------- */

static int manifest_says(json_t *section, const char *key, const char *hex)
{
	json_t *v = json_object_get(section, key);
	return json_is_string(v) && !strcmp(json_string_value(v), hex);
}

static int check_against_manifest(istate *im)
{
	const char *id, *rel;
	json_t *m, *digest;
	size_t i;
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	json_t *mm = json_object_get(im->manifest, "mounts");
	json_object_foreach(im->mounts, id, m) {
		json_t *mine = json_object_get(mm, id);
		json_object_foreach(json_object_get(m, "files"), rel, digest) {
			json_t *ent = json_object_get(mine, rel);
			if (!json_is_object(ent) || !json_is_string(json_object_get(ent, "digest")) ||
			    strcmp(json_string_value(json_object_get(ent, "digest")), json_string_value(digest)))
				return ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_STORE,
				                "archive entry 'mounts/%s/%s' does not match the manifest", id, rel);
		}
	}
	for (i = 0; i < im->actions.count + im->refs.count; i++) {
		int ref = i >= im->actions.count;
		ipending *p = ref ? &im->refs.items[i - im->actions.count] : &im->actions.items[i];
		goaccel_digest d;
		goaccel_digest_buffer(&d, p->bytes.ptr ? p->bytes.ptr : "", p->bytes.size);
		if (!manifest_says(json_object_get(im->manifest, ref ? "refs" : "actions"), p->hex,
		                   digest_hex_str(&d, hex)))
			return ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_STORE,
			                "archive entry '%s/%s.json' does not match the manifest",
			                ref ? "refs" : "actions", p->hex);
	}
	return 0;
}

/* ---- committing mounts --------------------------------------------------------------------- */

/* Adds what the mount has and the archive does not to the staged tree (hard links: the files
 * are not copied). */
static int merge_tree(int stage, int data, const char *display, int depth)
{
	DIR *d;
	struct dirent *de;
	int fd, error = 0;
	if (depth > 1024)
		return ga_error(GOACCEL_ERROR, GOACCEL_ERROR_STORE, "%s: tree too deep", display);
	if ((fd = dup(data)) < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return ga_error_os(GOACCEL_ERROR, errno, "%s: opendir", display);
	}
	while (!error && (de = readdir(d)) != NULL) {
		struct stat ds, ss;
		int have;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(data, de->d_name, &ds, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		have = fstatat(stage, de->d_name, &ss, AT_SYMLINK_NOFOLLOW) == 0;
		if (have && !(S_ISDIR(ss.st_mode) && S_ISDIR(ds.st_mode)))
			continue; /* the archive's entry wins */
		if (S_ISDIR(ds.st_mode)) {
			int sd, dd;
			if (!have && mkdirat(stage, de->d_name, 0700) < 0) {
				error = ga_error_os(GOACCEL_ERROR, errno, "%s: mkdir %s", display, de->d_name);
				break;
			}
			sd = openat(stage, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			dd = openat(data, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sd >= 0 && dd >= 0)
				error = merge_tree(sd, dd, display, depth + 1);
			else if (sd < 0)
				error = ga_error_os(GOACCEL_ERROR, errno, "%s: open %s", display, de->d_name);
			/* an unreadable directory of the mount (dd < 0) stays out */
			if (sd >= 0)
				close(sd);
			if (dd >= 0)
				close(dd);
		} else if (S_ISREG(ds.st_mode)) {
			if (linkat(data, de->d_name, stage, de->d_name, 0) < 0) {
				int in = openat(data, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
				if (in < 0)
					continue;
				error = ga_store_copy_fd_at(in, (uint64_t)ds.st_size, stage, de->d_name, display,
				                            ds.st_mode & 0777, 1, 0);
				close(in);
			}
		} else if (S_ISLNK(ds.st_mode)) {
			char target[GA_NAME_MAX + 1];
			ssize_t n = readlinkat(data, de->d_name, target, sizeof(target) - 1);
			if (n >= 0) {
				target[n] = '\0';
				if (symlinkat(target, stage, de->d_name) < 0)
					error = ga_error_os(GOACCEL_ERROR, errno, "%s: symlink %s", display, de->d_name);
			}
		}
	}
	closedir(d);
	return error;
}

/* Sets every staged directory's mode, children first: the archive's, else the mount's, else
 * 0755 (always with u+rx, so the tree stays walkable). */
static int apply_modes(int stage, int data, json_t *dirs, const char *rel, const char *display, int depth)
{
	DIR *d;
	struct dirent *de;
	int fd, error = 0;
	if (depth > 1024)
		return ga_error(GOACCEL_ERROR, GOACCEL_ERROR_STORE, "%s: tree too deep", display);
	if ((fd = dup(stage)) < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return ga_error_os(GOACCEL_ERROR, errno, "%s: opendir", display);
	}
	while (!error && (de = readdir(d)) != NULL) {
		struct stat ss, ds;
		int sd, dd = -1;
		char *child;
		json_t *mode;
		unsigned int m = 0755;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(stage, de->d_name, &ss, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(ss.st_mode))
			continue;
		if ((child = *rel ? ga_path_join(rel, de->d_name) : strdup(de->d_name)) == NULL) {
			error = ga_error_oom();
			break;
		}
		if ((sd = openat(stage, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
			error = ga_error_os(GOACCEL_ERROR, errno, "%s: open %s", display, child);
			free(child);
			break;
		}
		if (data >= 0)
			dd = openat(data, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		error = apply_modes(sd, dd, dirs, child, display, depth + 1);
		if ((mode = json_object_get(dirs, child)) != NULL)
			m = (unsigned int)json_integer_value(mode);
		else if (dd >= 0 && fstat(dd, &ds) == 0)
			m = ds.st_mode & 0777;
		if (!error && fchmod(sd, (m | 0500) & 0777) < 0)
			error = ga_error_os(GOACCEL_ERROR, errno, "%s: chmod %s", display, child);
		close(sd);
		if (dd >= 0)
			close(dd);
		free(child);
	}
	closedir(d);
	return error;
}

static int swap_in(const char *staged, const char *data)
{
	if (renameat2(AT_FDCWD, staged, AT_FDCWD, data, RENAME_EXCHANGE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return ga_error_os(GOACCEL_ERROR, errno, "%s: swapping in the imported mount", data);
	{
		/* no RENAME_EXCHANGE here: a short window without the directory (under the lock) */
		size_t n = strlen(staged);
		char *old = malloc(n + 8);
		int error = 0;
		if (!old)
			return ga_error_oom();
		snprintf(old, n + 8, "%s.old", staged);
		if (rename(data, old) < 0 || rename(staged, data) < 0 || rename(old, staged) < 0)
			error = ga_error_os(GOACCEL_ERROR, errno, "%s: swapping in the imported mount", data);
		free(old);
		return error;
	}
}

static int commit_mount(istate *im, const char *id, json_t *m)
{
	int lockfd = -1, stage = -1, data = -1, error;
	char *staged = NULL, *datapath = NULL, *display = NULL;
	json_t *rootmode = json_object_get(json_object_get(m, "dirs"), ".");
	if ((error = ga_mount_lock(&lockfd, im->s, id, 0, 1, im->o.lock_timeout_ms, 1)) < 0)
		return error;
	if ((staged = ga_path_join(im->staging, id)) == NULL ||
	    (datapath = ga_store_sub(im->s, "mounts/%s/0/data", id)) == NULL ||
	    (display = ga_store_sub(im->s, "mounts/%s", id)) == NULL) {
		error = GOACCEL_ERROR;
		goto done;
	}
	if ((stage = open(staged, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    (data = open(datapath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "mount %s: open", id);
		goto done;
	}
	if ((error = merge_tree(stage, data, display, 0)) < 0 ||
	    (error = apply_modes(stage, data, json_object_get(m, "dirs"), "", display, 0)) < 0)
		goto done;
	if (fchmod(stage, ((rootmode ? (unsigned int)json_integer_value(rootmode) : 0755) | 0500) & 0777) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: chmod", staged);
		goto done;
	}
	if ((error = swap_in(staged, datapath)) == 0)
		im->r->mounts++;
done:
	if (stage >= 0)
		close(stage);
	if (data >= 0)
		close(data);
	if (lockfd >= 0) {
		ga_mount_touch(lockfd, id);
		close(lockfd);
	}
	free(staged);
	free(datapath);
	free(display);
	return error;
}

/* ---- committing records -------------------------------------------------------------------- */

static int blob_present(goaccel_store *s, const goaccel_digest *d, uint64_t size)
{
	char *p = ga_store_blob_path(s, d);
	struct stat st;
	int ok = p && lstat(p, &st) == 0 && S_ISREG(st.st_mode) &&
	         (size == UINT64_MAX || (uint64_t)st.st_size == size);
	free(p);
	return ok;
}

static int install_bytes(istate *im, const char *final, const ga_buf *bytes)
{
	char *tmp = NULL;
	int fd = -1, error;
	if ((error = ga_store_tmp_file(&tmp, &fd, im->s)) < 0)
		return error;
	if ((error = ga_write_all(fd, bytes->ptr ? bytes->ptr : "", bytes->size, tmp)) == 0 &&
	    (error = ga_store_maybe_sync(im->s, fd, tmp)) == 0) {
		fchmod(fd, 0444);
		close(fd);
		fd = -1;
		error = ga_store_install(im->s, tmp, final);
	}
	if (fd >= 0)
		close(fd);
	if (error < 0)
		unlink(tmp);
	free(tmp);
	return error;
}

static int commit_records(istate *im)
{
	size_t i, j;
	int error = 0;
	for (i = 0; i < im->actions.count + im->refs.count && !error; i++) {
		int ref = i >= im->actions.count, ok = 1;
		ipending *p = ref ? &im->refs.items[i - im->actions.count] : &im->actions.items[i];
		goaccel_digest d;
		char *final;
		goaccel_digest_parse(&d, p->hex);
		if (ref)
			ok = blob_present(im->s, &p->blob, UINT64_MAX);
		for (j = 0; !ref && ok && j < p->rec.count; j++)
			ok = blob_present(im->s, &p->rec.outputs[j].digest, p->rec.outputs[j].size);
		if (!ok) {
			im->r->skipped++; /* its blobs are neither in the archive nor in the store */
			continue;
		}
		if ((final = ref ? ga_store_ref_path(im->s, &d) : ga_store_action_path(im->s, &d)) == NULL)
			return GOACCEL_ERROR;
		error = install_bytes(im, final, &p->bytes);
		free(final);
		if (!error) {
			if (ref)
				im->r->refs++;
			else
				im->r->actions++;
		}
	}
	return error;
}

/* ---- the entry points ---------------------------------------------------------------------- */

static int run_import(istate *im)
{
	struct archive_entry *e;
	const char *id;
	json_t *m;
	int error = 0, r, gc = -1;
	/* Shared GC lock: prune cannot collect the blobs we install before their records land. */
	if ((error = ga_store_gc_lock(&gc, im->s, 0)) < 0)
		return error;
	if ((error = ga_store_tmp_dir(&im->staging, im->s)) < 0)
		goto done;
	if ((im->stagefd = open(im->staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: open", im->staging);
		goto done;
	}
	for (;;) {
		im->entry[0] = '\0';
		r = archive_read_next_header(im->a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			error = damaged(im);
			goto done;
		}
		if ((error = import_entry(im, e)) < 0)
			goto done;
	}
	if (!im->header_seen) {
		error = ga_error(GOACCEL_EVERSION, GOACCEL_ERROR_STORE, "not a goaccel export archive (empty)");
		goto done;
	}
	drop_cached_dirs(im);
	if (!im->manifest) {
		error = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_STORE,
		                 "archive truncated: it ends before its manifest");
		goto done;
	}
	if ((error = check_against_manifest(im)) < 0)
		goto done;
	json_object_foreach(im->mounts, id, m) {
		if ((error = commit_mount(im, id, m)) < 0)
			goto done;
	}
	error = commit_records(im);
done:
	drop_cached_dirs(im);
	if (im->stagefd >= 0)
		close(im->stagefd);
	if (im->staging) {
		/* keep the import's own error message if the cleanup fails too */
		char msg[1024];
		int code = goaccel_error_last()->code, klass = goaccel_error_last()->klass;
		snprintf(msg, sizeof(msg), "%s", goaccel_error_last()->message);
		if (ga_rm_rf(im->staging) < 0 && error < 0)
			ga_error(code, klass, "%s", msg);
		free(im->staging);
	}
	ga_store_gc_unlock(gc);
	return error;
}

static int import_with(goaccel_transfer_result *out, goaccel_store *s, struct archive *a,
                       const goaccel_import_options *opts)
{
	istate im;
	goaccel_transfer_result r;
	int error;
	memset(&im, 0, sizeof(im));
	memset(&r, 0, sizeof(r));
	im.s = s;
	im.a = a;
	im.r = &r;
	im.stagefd = -1;
	im.cur_mfd = im.cur_pfd = -1;
	im.o = *opts;
	if (!im.o.max_entry_size)
		im.o.max_entry_size = DEFAULT_MAX_ENTRY;
	if (!im.o.max_total_size)
		im.o.max_total_size = DEFAULT_MAX_TOTAL;
	if (!im.o.max_entries)
		im.o.max_entries = DEFAULT_MAX_ENTRIES;
	if ((im.buf = malloc(GA_IO_CHUNK)) == NULL || (im.mounts = json_object()) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	error = run_import(&im);
done:
	json_decref(im.mounts);
	json_decref(im.manifest);
	list_dispose(&im.actions);
	list_dispose(&im.refs);
	free(im.buf);
	if (out)
		*out = r;
	return error;
}

static struct archive *new_reader(void)
{
	struct archive *a = archive_read_new();
	if (!a)
		return NULL;
	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	return a;
}

int goaccel_store_import(goaccel_transfer_result *out, goaccel_store *s, const char *path,
                         const goaccel_import_options *opts)
{
	goaccel_import_options o = GOACCEL_IMPORT_OPTIONS_INIT;
	struct archive *a;
	int error;
	GA_ASSERT_ARG(s && path);
	GA_CHECK_VERSION(opts, GOACCEL_IMPORT_OPTIONS_VERSION, "goaccel_import_options");
	if (opts)
		o = *opts;
	if (out)
		memset(out, 0, sizeof(*out));
	if (!ga_exists(path))
		return ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_STORE, "%s: no such archive", path);
	if ((error = ga_archive_load()) < 0)
		return error;
	if ((a = new_reader()) == NULL)
		return ga_error_oom();
	if (archive_read_open_filename(a, path, 1 << 17) != ARCHIVE_OK) {
		error = ga_archive_error(GOACCEL_EINVALID, a, "%s", path);
		goto done;
	}
	error = import_with(out, s, a, &o);
done:
	archive_read_free(a);
	return error;
}

int ga_store_import_memory(goaccel_transfer_result *out, goaccel_store *s, const void *data,
                           size_t len, const goaccel_import_options *opts)
{
	goaccel_import_options o = GOACCEL_IMPORT_OPTIONS_INIT;
	struct archive *a;
	int error;
	if (opts)
		o = *opts;
	if ((error = ga_archive_load()) < 0)
		return error;
	if ((a = new_reader()) == NULL)
		return ga_error_oom();
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		error = ga_archive_error(GOACCEL_EINVALID, a, "%s", "archive in memory");
		goto done;
	}
	error = import_with(out, s, a, &o);
done:
	archive_read_free(a);
	return error;
}
