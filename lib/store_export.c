/* Export: selected mounts, action records with their blobs, and refs into one tar + zstd
 * archive, optionally only what changed since an earlier export (goaccel/store.h). The archive
 * format is specified in docs/store.md ("Export archives"). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/dl_archive.h"
#include <jansson.h>

#include "store_internal.h"
#include "store_archive.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/strarray.h"

int goaccel_export_options_init(goaccel_export_options *opts, unsigned int version)
{
	GA_INIT_STRUCTURE(opts, version, goaccel_export_options, GOACCEL_EXPORT_OPTIONS_INIT);
	return 0;
}

int ga_archive_error(int code, struct archive *a, const char *fmt, const char *arg)
{
	char msg[1024];
	snprintf(msg, sizeof(msg), fmt, arg);
	return ga_error(code, GOACCEL_ERROR_ARCHIVE, "%s: %s", msg,
	                a && archive_error_string(a) ? archive_error_string(a) : "unknown libarchive error");
}

/* ---- manifests ----------------------------------------------------------------------------- */

int ga_manifest_check(json_t *m, const char *display)
{
	json_t *v;
	const char *sections[] = {"blobs", "actions", "refs", "mounts"};
	size_t i;
	if (!json_is_object(m))
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_STORE, "%s: manifest is not an object", display);
	v = json_object_get(m, "format");
	if (!json_is_string(v) || strcmp(json_string_value(v), GA_MANIFEST_FORMAT))
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_STORE, "%s: not a goaccel export manifest",
		                display);
	v = json_object_get(m, "version");
	if (!json_is_integer(v) || json_integer_value(v) != GA_EXPORT_VERSION)
		return ga_error(GOACCEL_EVERSION, GOACCEL_ERROR_STORE,
		                "%s: manifest version is not %d", display, GA_EXPORT_VERSION);
	for (i = 0; i < 4; i++)
		if (!json_is_object(json_object_get(m, sections[i])))
			return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_STORE, "%s: manifest lacks \"%s\"",
			                display, sections[i]);
	return 0;
}

/* Reads the manifest of an earlier export: a manifest JSON file, or an archive whose last entry
 * is the manifest. *digest_out receives the digest of the manifest's bytes. */
static int load_base(json_t **out, goaccel_digest *digest_out, const char *path)
{
	ga_buf b = GA_BUF_INIT;
	struct archive *a = NULL;
	struct archive_entry *e;
	json_error_t jerr;
	int error = 0, fd, found = 0;
	char c = 0;
	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return ga_error_os(0, errno, "base %s: open", path);
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	if (c == '{') {
		if ((error = ga_read_file(&b, path, GA_MANIFEST_MAX)) < 0)
			goto done;
	} else {
		a = archive_read_new();
		archive_read_support_filter_zstd(a);
		archive_read_support_format_tar(a);
		if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
			error = ga_archive_error(GOACCEL_EINVALID, a, "base %s", path);
			goto done;
		}
		for (;;) {
			int r = archive_read_next_header(a, &e);
			if (r == ARCHIVE_EOF)
				break;
			if (r < ARCHIVE_WARN) {
				error = ga_archive_error(GOACCEL_ECORRUPT, a, "base %s", path);
				goto done;
			}
			if (strcmp(archive_entry_pathname(e), GA_MANIFEST_ENTRY) == 0) {
				char buf[65536];
				ssize_t n;
				ga_buf_clear(&b);
				while ((n = archive_read_data(a, buf, sizeof(buf))) > 0) {
					if (b.size + (size_t)n > GA_MANIFEST_MAX) {
						error = ga_error(GOACCEL_ELIMIT, GOACCEL_ERROR_STORE,
						                 "base %s: manifest too large", path);
						goto done;
					}
					if ((error = ga_buf_put(&b, buf, (size_t)n)) < 0)
						goto done;
				}
				if (n < 0) {
					error = ga_archive_error(GOACCEL_ECORRUPT, a, "base %s", path);
					goto done;
				}
				found = 1;
			}
		}
		if (!found) {
			error = ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_STORE, "base %s: no %s in it", path,
			                 GA_MANIFEST_ENTRY);
			goto done;
		}
	}
	if ((error = goaccel_digest_buffer(digest_out, b.ptr ? b.ptr : "", b.size)) < 0)
		goto done;
	if ((*out = json_loadb(b.ptr ? b.ptr : "", b.size, 0, &jerr)) == NULL) {
		error = ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_JSON, "base %s: %s", path, jerr.text);
		goto done;
	}
	if ((error = ga_manifest_check(*out, path)) < 0) {
		json_decref(*out);
		*out = NULL;
	}
done:
	if (a)
		archive_read_free(a);
	ga_buf_dispose(&b);
	return error;
}

/* ---- writing ------------------------------------------------------------------------------- */

/* The archive is written on a thread of its own: the walking thread reads and hashes files and
 * queues headers and data; the writer thread formats the tar and compresses it. Like
 * `tar | zstd`, reading and compressing overlap. */
typedef struct xmsg {
	struct xmsg *next;
	int kind; /* XMSG_HEADER, XMSG_DATA */
	char *name;
	unsigned int type, perm;
	uint64_t size;
	int64_t mtime_ns;
	char *symlink;
	char *data;
	size_t len;
} xmsg;

enum { XMSG_HEADER, XMSG_DATA };
#define XQUEUE_MAX_BYTES (32u << 20)

typedef struct {
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t nonempty, space;
	xmsg *head, *tail;
	size_t queued;
	int done;  /* no more messages */
	int error; /* the writer's failure, if any */
	int klass;
	char message[1024];
} xqueue;

typedef struct {
	goaccel_store *s;
	const goaccel_export_options *o;
	goaccel_transfer_result *r;
	struct archive *a;
	struct archive_entry *e;
	json_t *base;     /* base manifest or NULL */
	json_t *manifest; /* the one we write */
	xqueue q;
} xstate;

static void xmsg_free(xmsg *m)
{
	if (!m)
		return;
	free(m->name);
	free(m->symlink);
	free(m->data);
	free(m);
}

static int writer_apply(xstate *x, xmsg *m)
{
	if (m->kind == XMSG_DATA) {
		if (archive_write_data(x->a, m->data, m->len) != (la_ssize_t)m->len)
			return ga_archive_error(GOACCEL_ERROR, x->a, "%s", "writing data");
		return 0;
	}
	archive_entry_clear(x->e);
	archive_entry_set_pathname(x->e, m->name);
	archive_entry_set_filetype(x->e, m->type);
	archive_entry_set_perm(x->e, m->perm & 0777);
	archive_entry_set_size(x->e, m->type == AE_IFREG ? (la_int64_t)m->size : 0);
	archive_entry_set_mtime(x->e, m->mtime_ns / 1000000000, (long)(m->mtime_ns % 1000000000));
	archive_entry_set_uid(x->e, 0);
	archive_entry_set_gid(x->e, 0);
	if (m->symlink)
		archive_entry_set_symlink(x->e, m->symlink);
	if (archive_write_header(x->a, x->e) != ARCHIVE_OK)
		return ga_archive_error(GOACCEL_ERROR, x->a, "writing entry %s", m->name);
	return 0;
}

static void *writer_main(void *arg)
{
	xstate *x = arg;
	xqueue *q = &x->q;
	for (;;) {
		xmsg *m;
		int failed;
		pthread_mutex_lock(&q->mu);
		while (!q->head && !q->done)
			pthread_cond_wait(&q->nonempty, &q->mu);
		if (!q->head) {
			pthread_mutex_unlock(&q->mu);
			break;
		}
		m = q->head;
		q->head = m->next;
		if (!q->head)
			q->tail = NULL;
		q->queued -= m->len + 512;
		failed = q->error;
		pthread_cond_signal(&q->space);
		pthread_mutex_unlock(&q->mu);
		if (!failed && writer_apply(x, m) < 0) {
			/* the error is this thread's last error: hand it over */
			const goaccel_error *e = goaccel_error_last();
			pthread_mutex_lock(&q->mu);
			q->error = e->code ? e->code : GOACCEL_ERROR;
			q->klass = e->klass;
			snprintf(q->message, sizeof(q->message), "%s", e->message);
			pthread_cond_broadcast(&q->space);
			pthread_mutex_unlock(&q->mu);
		}
		xmsg_free(m);
	}
	return NULL;
}

static int queue_start(xstate *x)
{
	xqueue *q = &x->q;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->nonempty, NULL);
	pthread_cond_init(&q->space, NULL);
	if (pthread_create(&q->thread, NULL, writer_main, x) != 0) {
		pthread_mutex_destroy(&q->mu);
		pthread_cond_destroy(&q->nonempty);
		pthread_cond_destroy(&q->space);
		return ga_error(GOACCEL_ERROR, GOACCEL_ERROR_OS, "export: cannot start the writer thread");
	}
	q->started = 1;
	return 0;
}

/* Lets the writer drain the queue and stop; returns its error, if any. */
static int queue_finish(xstate *x)
{
	xqueue *q = &x->q;
	int error = 0;
	if (!q->started)
		return 0;
	pthread_mutex_lock(&q->mu);
	q->done = 1;
	pthread_cond_signal(&q->nonempty);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->thread, NULL);
	q->started = 0;
	if (q->error)
		error = ga_error(q->error, q->klass, "%s", q->message);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->nonempty);
	pthread_cond_destroy(&q->space);
	return error;
}

/* Queues a message (taking it), waiting while the queue is full. */
static int enqueue(xstate *x, xmsg *m)
{
	xqueue *q = &x->q;
	int error = 0;
	pthread_mutex_lock(&q->mu);
	while (!q->error && q->queued > XQUEUE_MAX_BYTES)
		pthread_cond_wait(&q->space, &q->mu);
	if (q->error) {
		error = ga_error(q->error, q->klass, "%s", q->message);
		xmsg_free(m);
	} else {
		m->next = NULL;
		if (q->tail)
			q->tail->next = m;
		else
			q->head = m;
		q->tail = m;
		q->queued += m->len + 512;
		pthread_cond_signal(&q->nonempty);
	}
	pthread_mutex_unlock(&q->mu);
	return error;
}

static int write_header(xstate *x, const char *name, mode_t type, unsigned int perm, uint64_t size,
                        int64_t mtime_ns, const char *symlink)
{
	xmsg *m = calloc(1, sizeof(*m));
	if (!m || (m->name = strdup(name)) == NULL || (symlink && (m->symlink = strdup(symlink)) == NULL)) {
		xmsg_free(m);
		return ga_error_oom();
	}
	m->kind = XMSG_HEADER;
	m->type = (unsigned int)type;
	m->perm = perm;
	m->size = size;
	m->mtime_ns = mtime_ns;
	return enqueue(x, m);
}

/* Queues data, taking buf (len bytes). */
static int write_data(xstate *x, char *buf, size_t len)
{
	xmsg *m = calloc(1, sizeof(*m));
	if (!m) {
		free(buf);
		return ga_error_oom();
	}
	m->kind = XMSG_DATA;
	m->data = buf;
	m->len = len;
	return enqueue(x, m);
}

static int write_buffer_entry(xstate *x, const char *name, const void *data, size_t len)
{
	char *copy;
	int error;
	if ((error = write_header(x, name, AE_IFREG, 0644, len, ga_now_ns(), NULL)) < 0)
		return error;
	if (!len)
		return 0;
	if ((copy = malloc(len)) == NULL)
		return ga_error_oom();
	memcpy(copy, data, len);
	if ((error = write_data(x, copy, len)) == 0)
		x->r->bytes += len;
	return error;
}

/* Streams fd (size bytes from offset 0) into the current entry, digesting what is written. */
static int write_fd_data(xstate *x, int fd, uint64_t size, goaccel_digest *digest, const char *display)
{
	goaccel_digest_ctx *ctx = NULL;
	uint64_t off = 0;
	int error;
	if ((error = goaccel_digest_ctx_new(&ctx)) < 0)
		return error;
	while (off < size) {
		size_t want = size - off > GA_IO_CHUNK ? GA_IO_CHUNK : (size_t)(size - off);
		char *buf = malloc(want);
		ssize_t n;
		if (!buf) {
			error = ga_error_oom();
			goto done;
		}
		while ((n = pread(fd, buf, want, (off_t)off)) < 0 && errno == EINTR)
			;
		if (n <= 0) {
			free(buf);
			error = n < 0 ? ga_error_os(GOACCEL_ERROR, errno, "%s: read", display)
			              : ga_error(GOACCEL_ECHANGED, GOACCEL_ERROR_STORE,
			                         "%s: shrank while exported", display);
			goto done;
		}
		if ((error = goaccel_digest_ctx_update(ctx, buf, (size_t)n)) < 0) {
			free(buf);
			goto done;
		}
		if ((error = write_data(x, buf, (size_t)n)) < 0)
			goto done;
		off += (uint64_t)n;
	}
	error = digest ? goaccel_digest_ctx_finish(digest, ctx) : 0;
	x->r->bytes += size;
done:
	goaccel_digest_ctx_free(ctx);
	return error;
}

static char *digest_hex(const goaccel_digest *d, char hex[GOACCEL_DIGEST_HEXSIZE + 1])
{
	goaccel_digest_fmt(hex, d);
	return hex;
}

/* ---- actions, blobs, refs ------------------------------------------------------------------ */

typedef struct {
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	ga_buf bytes;
	ga_record rec;
} xrecord;

typedef struct {
	xstate *x;
	xrecord *items;
	size_t count, cap;
	int refs; /* collecting refs rather than actions */
} xcollect;

static int collect_cb(const char *path, const char *hex, const struct stat *st, void *payload)
{
	xcollect *c = payload;
	xrecord *it;
	goaccel_digest d;
	(void)st;
	if (c->count == c->cap) {
		xrecord *n = realloc(c->items, (c->cap = c->cap ? c->cap * 2 : 64) * sizeof(*n));
		if (!n)
			return ga_error_oom();
		c->items = n;
	}
	it = &c->items[c->count];
	memset(it, 0, sizeof(*it));
	memcpy(it->hex, hex, sizeof(it->hex));
	goaccel_digest_parse(&d, hex);
	if (ga_read_file(&it->bytes, path, GA_RECORD_MAX) < 0)
		goto skip;
	if (c->refs) {
		goaccel_digest blob;
		if (ga_ref_parse(NULL, &blob, it->bytes.ptr, it->bytes.size, &d, path) < 0)
			goto skip;
		/* a ref is kept as a one-output record so blobs are handled alike */
		if ((it->rec.outputs = calloc(1, sizeof(ga_record_output))) == NULL)
			return ga_error_oom();
		it->rec.outputs[0].digest = blob;
		it->rec.outputs[0].size = UINT64_MAX; /* size unknown: any */
		it->rec.count = 1;
	} else {
		char id[GA_KIND_MAX + GOACCEL_DIGEST_HEXSIZE + 2];
		if (ga_record_parse(&it->rec, it->bytes.ptr, it->bytes.size, &d, path) < 0)
			goto skip;
		snprintf(id, sizeof(id), "%s/%s", it->rec.kind, hex);
		if (c->x->o->actions_glob && fnmatch(c->x->o->actions_glob, id, 0) != 0) {
			ga_record_dispose(&it->rec);
			ga_buf_dispose(&it->bytes);
			return 0;
		}
	}
	c->count++;
	return 0;
skip:
	/* damaged entries are verify's business, not the archive's */
	goaccel_error_clear();
	ga_record_dispose(&it->rec);
	ga_buf_dispose(&it->bytes);
	return 0;
}

static int cmp_xrecord(const void *a, const void *b)
{
	return strcmp(((const xrecord *)a)->hex, ((const xrecord *)b)->hex);
}

static void collect_dispose(xcollect *c)
{
	size_t i;
	for (i = 0; i < c->count; i++) {
		ga_buf_dispose(&c->items[i].bytes);
		ga_record_dispose(&c->items[i].rec);
	}
	free(c->items);
}

/* Writes a blob (unless the base has it) after verifying it; returns GOACCEL_ENOTFOUND /
 * GOACCEL_ECORRUPT when it cannot be exported. */
static int export_blob(xstate *x, const goaccel_digest *d, uint64_t expect_size)
{
	char hex[GOACCEL_DIGEST_HEXSIZE + 1], name[128];
	json_t *blobs = json_object_get(x->manifest, "blobs");
	int fd = -1, error;
	uint64_t size;
	digest_hex(d, hex);
	if (json_object_get(blobs, hex))
		return 0; /* already written for another record */
	if ((error = ga_store_blob_open_verified(&fd, &size, x->s, d, NULL)) < 0)
		return error;
	if (expect_size != UINT64_MAX && size != expect_size) {
		close(fd);
		return GOACCEL_ECORRUPT;
	}
	json_object_set_new(blobs, hex, json_integer((json_int_t)size));
	if (x->base && json_object_get(json_object_get(x->base, "blobs"), hex)) {
		x->r->unchanged++;
		close(fd);
		return 0;
	}
	snprintf(name, sizeof(name), "blobs/%s", hex);
	if ((error = write_header(x, name, AE_IFREG, 0444, size, ga_now_ns(), NULL)) == 0)
		error = write_fd_data(x, fd, size, NULL, name);
	close(fd);
	if (error == 0)
		x->r->blobs++;
	return error;
}

static int export_records(xstate *x, int refs)
{
	xcollect c;
	size_t i, j;
	int error = 0;
	const char *section = refs ? "refs" : "actions";
	memset(&c, 0, sizeof(c));
	c.x = x;
	c.refs = refs;
	if ((error = ga_store_walk_fanout(x->s, section, ".json", collect_cb, &c)) < 0)
		goto done;
	if (c.count)
		qsort(c.items, c.count, sizeof(*c.items), cmp_xrecord);
	for (i = 0; i < c.count; i++) {
		xrecord *it = &c.items[i];
		goaccel_digest fd;
		char fhex[GOACCEL_DIGEST_HEXSIZE + 1], name[128];
		json_t *bsec;
		int usable = 1;
		for (j = 0; usable && j < it->rec.count; j++) {
			error = export_blob(x, &it->rec.outputs[j].digest, it->rec.outputs[j].size);
			if (error == GOACCEL_ENOTFOUND || error == GOACCEL_ECORRUPT) {
				goaccel_error_clear();
				usable = 0; /* dangling: not exported */
				error = 0;
			} else if (error < 0) {
				goto done;
			}
		}
		if (!usable)
			continue;
		if ((error = goaccel_digest_buffer(&fd, it->bytes.ptr, it->bytes.size)) < 0)
			goto done;
		digest_hex(&fd, fhex);
		json_object_set_new(json_object_get(x->manifest, section), it->hex, json_string(fhex));
		bsec = x->base ? json_object_get(x->base, section) : NULL;
		if (bsec && json_is_string(json_object_get(bsec, it->hex)) &&
		    !strcmp(json_string_value(json_object_get(bsec, it->hex)), fhex)) {
			x->r->unchanged++;
			continue;
		}
		snprintf(name, sizeof(name), "%s/%s.json", section, it->hex);
		if ((error = write_buffer_entry(x, name, it->bytes.ptr, it->bytes.size)) < 0)
			goto done;
		if (refs)
			x->r->refs++;
		else
			x->r->actions++;
	}
done:
	collect_dispose(&c);
	return error;
}

/* ---- mounts -------------------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The base's entry for a mount path, if it matches type/mode/size (and, for symlinks, target). */
static json_t *base_entry(xstate *x, const char *id, const char *rel)
{
	json_t *m;
	if (!x->base)
		return NULL;
	m = json_object_get(json_object_get(x->base, "mounts"), id);
	return m ? json_object_get(m, rel) : NULL;
}

static int same_meta(json_t *b, const char *type, unsigned int mode, uint64_t size)
{
	return b && json_is_string(json_object_get(b, "type")) &&
	       !strcmp(json_string_value(json_object_get(b, "type")), type) &&
	       json_integer_value(json_object_get(b, "mode")) == (json_int_t)mode &&
	       (strcmp(type, "file") || json_integer_value(json_object_get(b, "size")) == (json_int_t)size);
}

static int export_tree(xstate *x, const char *id, json_t *mman, int dirfd, const char *rel, int depth);

static int export_node(xstate *x, const char *id, json_t *mman, int dirfd, const char *name,
                       const char *rel)
{
	struct stat st;
	char *aname = NULL;
	unsigned int mode;
	json_t *b = base_entry(x, id, rel);
	int error = 0;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return ga_error_os(0, errno, "mount %s: %s: stat", id, rel);
	mode = (unsigned int)st.st_mode & 0777;
	if ((aname = malloc(strlen(id) + strlen(rel) + 16)) == NULL)
		return ga_error_oom();
	sprintf(aname, "mounts/%s/%s", id, strcmp(rel, ".") ? rel : "");
	if (S_ISDIR(st.st_mode)) {
		int sub;
		json_object_set_new(mman, rel, json_pack("{s:s, s:i}", "type", "dir", "mode", (int)mode));
		if (same_meta(b, "dir", mode, 0))
			x->r->unchanged++;
		else if ((error = write_header(x, aname, AE_IFDIR, mode, 0, ga_stat_mtime_ns(&st), NULL)) == 0)
			x->r->files++;
		if (error < 0)
			goto done;
		if ((sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
			error = ga_error_os(GOACCEL_ERROR, errno, "mount %s: %s: open", id, rel);
			goto done;
		}
		error = export_tree(x, id, mman, sub, rel, 0);
		close(sub);
	} else if (S_ISLNK(st.st_mode)) {
		char target[GA_NAME_MAX + 1];
		ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
		if (n < 0) {
			error = ga_error_os(GOACCEL_ERROR, errno, "mount %s: %s: readlink", id, rel);
			goto done;
		}
		target[n] = '\0';
		json_object_set_new(mman, rel, json_pack("{s:s, s:i, s:s}", "type", "symlink", "mode", 0777,
		                                         "target", target));
		if (same_meta(b, "symlink", 0777, 0) && json_is_string(json_object_get(b, "target")) &&
		    !strcmp(json_string_value(json_object_get(b, "target")), target))
			x->r->unchanged++;
		else if ((error = write_header(x, aname, AE_IFLNK, 0777, 0, ga_stat_mtime_ns(&st), target)) == 0)
			x->r->files++;
	} else if (S_ISREG(st.st_mode)) {
		int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
		goaccel_digest d;
		char hex[GOACCEL_DIGEST_HEXSIZE + 1];
		if (fd < 0) {
			error = ga_error_os(GOACCEL_ERROR, errno, "mount %s: %s: open", id, rel);
			goto done;
		}
		if (same_meta(b, "file", mode, (uint64_t)st.st_size)) {
			/* same size and mode: compare content digests to decide */
			uint64_t got;
			if ((error = ga_store_digest_fd(&d, &got, fd, rel)) == 0 && got == (uint64_t)st.st_size &&
			    json_is_string(json_object_get(b, "digest")) &&
			    !strcmp(json_string_value(json_object_get(b, "digest")), digest_hex(&d, hex))) {
				x->r->unchanged++;
				goto record_file;
			}
			if (error < 0) {
				close(fd);
				goto done;
			}
		}
		if ((error = write_header(x, aname, AE_IFREG, mode, (uint64_t)st.st_size,
		                          ga_stat_mtime_ns(&st), NULL)) < 0 ||
		    (error = write_fd_data(x, fd, (uint64_t)st.st_size, &d, aname)) < 0) {
			close(fd);
			goto done;
		}
		x->r->files++;
	record_file:
		close(fd);
		json_object_set_new(mman, rel, json_pack("{s:s, s:i, s:I, s:s}", "type", "file", "mode",
		                                         (int)mode, "size", (json_int_t)st.st_size,
		                                         "digest", digest_hex(&d, hex)));
	}
	/* sockets, FIFOs and devices have no place in a cache: left out */
done:
	free(aname);
	return error;
}

static int export_tree(xstate *x, const char *id, json_t *mman, int dirfd, const char *rel, int depth)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int fd, error = 0;
	(void)depth;
	if ((fd = dup(dirfd)) < 0)
		return ga_error_os(GOACCEL_ERROR, errno, "mount %s: dup", id);
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return ga_error_os(GOACCEL_ERROR, errno, "mount %s: %s: opendir", id, rel);
	}
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 32) * sizeof(*nn));
			if (!nn) {
				error = ga_error_oom();
				goto done;
			}
			names = nn;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			error = ga_error_oom();
			goto done;
		}
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n && !error; i++) {
		struct stat mst;
		/* a directory marked "not for export": the marker alone stands for its content */
		if (!strcmp(names[i], GOACCEL_MOUNT_NOEXPORT_MARKER) &&
		    fstatat(dirfd, names[i], &mst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(mst.st_mode)) {
			size_t j;
			for (j = 0; j < n; j++)
				if (j != i)
					free(names[j]);
			names[0] = names[i];
			n = 1;
			break;
		}
	}
	for (i = 0; i < n && !error; i++) {
		char *child = strcmp(rel, ".") ? ga_path_join(rel, names[i]) : strdup(names[i]);
		if (!child) {
			error = ga_error_oom();
			break;
		}
		error = export_node(x, id, mman, dirfd, names[i], child);
		free(child);
	}
done:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return error;
}

static int export_mount(xstate *x, const char *id, int required)
{
	int lockfd = -1, error;
	json_t *mman;
	int64_t timeout = x->o->lock_timeout_ms;
	if ((error = ga_store_valid_mount_id(id)) < 0)
		return error;
	error = ga_mount_lock(&lockfd, x->s, id, 0, 1, timeout, 0);
	if (error == GOACCEL_ENOTFOUND && !required) {
		goaccel_error_clear();
		return 0;
	}
	if (error < 0)
		return error;
	mman = json_object();
	json_object_set_new(json_object_get(x->manifest, "mounts"), id, mman);
	{
		/* the mount's root directory is the node "." (its mode is recorded too) */
		char *parent = ga_store_sub(x->s, "mounts/%s/0", id);
		int parentfd = parent ? open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
		if (parentfd < 0) {
			error = ga_error_os(GOACCEL_ERROR, errno, "mount %s: open", id);
			free(parent);
			goto done;
		}
		free(parent);
		error = export_node(x, id, mman, parentfd, "data", ".");
		close(parentfd);
	}
	if (error == 0)
		x->r->mounts++;
done:
	if (lockfd >= 0) {
		ga_mount_touch(lockfd, id);
		close(lockfd);
	}
	return error;
}

static int export_mounts(xstate *x)
{
	goaccel_strarray ids = {0};
	size_t i;
	int error = 0;
	if (x->o->all_mounts) {
		if ((error = ga_mount_ids(&ids, x->s)) < 0)
			return error;
	} else {
		for (i = 0; i < x->o->mounts_count && !error; i++)
			error = ga_strarray_add(&ids, x->o->mounts[i]);
		if (!error)
			ga_strarray_sort_unique(&ids);
	}
	for (i = 0; i < ids.count && !error; i++)
		error = export_mount(x, ids.strings[i], !x->o->all_mounts);
	goaccel_strarray_dispose(&ids);
	return error;
}

/* ---- the entry point ----------------------------------------------------------------------- */

static int open_writer(xstate *x, int fd)
{
	char val[32];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	x->a = archive_write_new();
	x->e = archive_entry_new();
	if (!x->a || !x->e)
		return ga_error_oom();
	if (archive_write_add_filter_zstd(x->a) != ARCHIVE_OK ||
	    archive_write_set_format_pax_restricted(x->a) != ARCHIVE_OK)
		return ga_archive_error(GOACCEL_ERROR, x->a, "%s", "archive setup");
	snprintf(val, sizeof(val), "%d", x->o->compression_level > 0 ? x->o->compression_level : 3);
	if (archive_write_set_filter_option(x->a, "zstd", "compression-level", val) != ARCHIVE_OK)
		return ga_archive_error(GOACCEL_EINVALID, x->a, "%s", "zstd compression level");
	snprintf(val, sizeof(val), "%u", x->o->threads ? x->o->threads : (unsigned)(ncpu > 0 ? ncpu : 1));
	/* older libarchive lacks the option: single-threaded then */
	archive_write_set_filter_option(x->a, "zstd", "threads", val);
	/* big output writes: 1 MiB instead of tar's 10 KiB records (the compressed stream has no
	 * record structure to keep) */
	archive_write_set_bytes_per_block(x->a, 1 << 20);
	archive_write_set_bytes_in_last_block(x->a, 1);
	if (archive_write_open_fd(x->a, fd) != ARCHIVE_OK)
		return ga_archive_error(GOACCEL_ERROR, x->a, "%s", "opening the archive");
	return 0;
}

int goaccel_store_export(goaccel_transfer_result *out, goaccel_store *s, const char *path,
                         const goaccel_export_options *opts)
{
	goaccel_export_options o = GOACCEL_EXPORT_OPTIONS_INIT;
	goaccel_transfer_result r;
	xstate x;
	goaccel_digest base_digest;
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	char *tmp = NULL, *mtext = NULL, *htext = NULL;
	int fd = -1, error = 0;
	json_t *header = NULL;
	GA_ASSERT_ARG(s && path);
	GA_CHECK_VERSION(opts, GOACCEL_EXPORT_OPTIONS_VERSION, "goaccel_export_options");
	if (opts)
		o = *opts;
	if (o.compression_level < 0 || o.compression_level > 19)
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_STORE, "zstd level %d is not in 1..19",
		                o.compression_level);
	if ((error = ga_archive_load()) < 0)
		return error;
	memset(&r, 0, sizeof(r));
	memset(&x, 0, sizeof(x));
	x.s = s;
	x.o = &o;
	x.r = &r;
	if (o.base && (error = load_base(&x.base, &base_digest, o.base)) < 0)
		goto done;
	x.manifest = json_pack("{s:s, s:i, s:{}, s:{}, s:{}, s:{}}", "format", GA_MANIFEST_FORMAT,
	                       "version", GA_EXPORT_VERSION, "blobs", "actions", "refs", "mounts");
	header = json_pack("{s:s, s:i, s:I, s:o}", "format", GA_EXPORT_FORMAT, "version",
	                   GA_EXPORT_VERSION, "created_ns", (json_int_t)ga_now_ns(), "base",
	                   x.base ? json_string(digest_hex(&base_digest, hex)) : json_null());
	if (!x.manifest || !header) {
		error = ga_error_oom();
		goto done;
	}
	if ((tmp = malloc(strlen(path) + 16)) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	sprintf(tmp, "%s.tmp.XXXXXX", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: create", tmp);
		free(tmp);
		tmp = NULL;
		goto done;
	}
	if ((error = open_writer(&x, fd)) < 0 || (error = queue_start(&x)) < 0)
		goto done;
	if ((htext = json_dumps(header, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	if ((error = write_buffer_entry(&x, GA_HEADER_ENTRY, htext, strlen(htext))) < 0)
		goto done;
	if (o.actions && (error = export_records(&x, 0)) < 0)
		goto done;
	if (o.refs && (error = export_records(&x, 1)) < 0)
		goto done;
	if ((error = export_mounts(&x)) < 0)
		goto done;
	if ((mtext = json_dumps(x.manifest, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	/* The manifest is the last entry: an archive cut short anywhere lacks it. */
	if ((error = write_buffer_entry(&x, GA_MANIFEST_ENTRY, mtext, strlen(mtext))) < 0 ||
	    (error = queue_finish(&x)) < 0)
		goto done;
	if (archive_write_close(x.a) != ARCHIVE_OK) {
		error = ga_archive_error(GOACCEL_ERROR, x.a, "%s", "finishing the archive");
		goto done;
	}
	if (fchmod(fd, 0644) < 0 || (s->fsync && fsync(fd) < 0)) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: finish", tmp);
		goto done;
	}
	if (o.manifest_out &&
	    (error = ga_write_file_atomic(o.manifest_out, mtext, strlen(mtext), 0644, s->fsync)) < 0)
		goto done;
	if (ga_rename_replace(AT_FDCWD, tmp, AT_FDCWD, path) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: rename into place", path);
		goto done;
	}
	free(tmp);
	tmp = NULL;
done:
	if (x.q.started) {
		/* a failure on this side: the writer still has to stop; keep our error */
		char msg[1024];
		int code = goaccel_error_last()->code, klass = goaccel_error_last()->klass;
		snprintf(msg, sizeof(msg), "%s", goaccel_error_last()->message);
		queue_finish(&x);
		ga_error(code, klass, "%s", msg);
	}
	if (x.a)
		archive_write_free(x.a);
	if (x.e)
		archive_entry_free(x.e);
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(htext);
	free(mtext);
	json_decref(header);
	json_decref(x.manifest);
	json_decref(x.base);
	if (out)
		*out = r;
	return error;
}
