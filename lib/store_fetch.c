/* goaccel_store_action_fetch(): lookup and restore in one pass (goaccel/store.h).
 *
 * A lookup verifies every output blob by reading and hashing it whole, and a restore then reads
 * it again to copy it. Fetch reads each blob once: the bytes of each chunk are read into a
 * buffer, written to a temporary file next to the output's final name, and hashed from that same
 * buffer — so the digest that is checked is the digest of exactly the bytes written. A large blob
 * is hashed on a second thread while the calling thread reads and writes the next chunks
 * (SHA-256 is serial within a blob; the copy is not, so the two overlap). Only when every output
 * matched its digest are the temporary files renamed into place; otherwise they are removed,
 * together with the directories this call created, and the fetch is a miss.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#include "store_internal.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/strarray.h"

/* Chunks handed from the copying thread to the hashing thread: small enough to still be in the
 * cache when they are hashed. */
#define FETCH_CHUNK (256 * 1024)
#define FETCH_SLOTS 8
/* Blobs at least this large are hashed on a second thread. */
#define FETCH_THREAD_MIN (2u << 20)

/* ---- copy + hash --------------------------------------------------------------------------- */

typedef struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *buf; /* FETCH_SLOTS chunks */
	size_t len[FETCH_SLOTS];
	uint64_t filled; /* chunks read and written (by the copying thread) */
	uint64_t hashed; /* chunks hashed (by the hashing thread) */
	int eof;         /* no more chunks will be filled */
	int failed;      /* the hashing thread failed: stop */
	goaccel_digest_ctx *ctx;
} pipe_state;

static void *hash_thread(void *arg)
{
	pipe_state *p = arg;
	for (;;) {
		size_t slot, len;
		pthread_mutex_lock(&p->mu);
		while (p->hashed == p->filled && !p->eof)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->hashed == p->filled) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		slot = (size_t)(p->hashed % FETCH_SLOTS);
		len = p->len[slot];
		pthread_mutex_unlock(&p->mu);
		if (goaccel_digest_ctx_update(p->ctx, p->buf + slot * FETCH_CHUNK, len) < 0) {
			pthread_mutex_lock(&p->mu);
			p->failed = 1;
			pthread_cond_broadcast(&p->cv);
			pthread_mutex_unlock(&p->mu);
			break;
		}
		pthread_mutex_lock(&p->mu);
		p->hashed++;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
	return NULL;
}

/* Reads n bytes of in at off into dst (fewer only at the end of the file). */
static int read_chunk(size_t *got, int in, char *dst, size_t n, uint64_t off, const char *display)
{
	size_t have = 0;
	while (have < n) {
		ssize_t r = pread(in, dst + have, n - have, (off_t)(off + have));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return ga_error_os(GOACCEL_ERROR, errno, "%s: read blob", display);
		if (r == 0)
			break;
		have += (size_t)r;
	}
	*got = have;
	return 0;
}

/*
 * Copies size bytes of in to out, hashing exactly the bytes written: *digest receives their
 * digest. A blob shorter than size gives GOACCEL_ECORRUPT (it is not the blob the record names).
 * With threaded, the hash runs on a second thread, chunk by chunk, behind the copy.
 */
static int copy_and_hash(goaccel_digest *digest, int in, int out, uint64_t size, int threaded,
                         const char *display)
{
	pipe_state p;
	pthread_t th;
	int started = 0, error = 0;
	uint64_t off = 0;
	memset(&p, 0, sizeof(p));
	if ((error = goaccel_digest_ctx_new(&p.ctx)) < 0)
		return error;
	if ((p.buf = malloc(threaded ? (size_t)FETCH_SLOTS * FETCH_CHUNK : FETCH_CHUNK)) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	if (threaded) {
		pthread_mutex_init(&p.mu, NULL);
		pthread_cond_init(&p.cv, NULL);
		started = pthread_create(&th, NULL, hash_thread, &p) == 0;
		if (!started) {
			pthread_mutex_destroy(&p.mu);
			pthread_cond_destroy(&p.cv);
		}
	}
	while (off < size) {
		size_t want = size - off < FETCH_CHUNK ? (size_t)(size - off) : FETCH_CHUNK, got = 0;
		size_t slot = 0;
		char *chunk;
		if (started) {
			pthread_mutex_lock(&p.mu);
			while (p.filled - p.hashed == FETCH_SLOTS && !p.failed)
				pthread_cond_wait(&p.cv, &p.mu);
			slot = (size_t)(p.filled % FETCH_SLOTS);
			if (p.failed)
				error = GOACCEL_ERROR;
			pthread_mutex_unlock(&p.mu);
			if (error < 0)
				break;
		}
		chunk = p.buf + slot * FETCH_CHUNK;
		if ((error = read_chunk(&got, in, chunk, want, off, display)) < 0)
			break;
		if (got < want) {
			error = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_STORE,
			                 "%s: blob has %llu bytes, the record says %llu", display,
			                 (unsigned long long)(off + got), (unsigned long long)size);
			break;
		}
		if ((error = ga_write_all(out, chunk, got, display)) < 0)
			break;
		off += got;
		if (started) {
			pthread_mutex_lock(&p.mu);
			p.len[slot] = got;
			p.filled++;
			pthread_cond_broadcast(&p.cv);
			pthread_mutex_unlock(&p.mu);
		} else if ((error = goaccel_digest_ctx_update(p.ctx, chunk, got)) < 0) {
			break;
		}
	}
	if (started) {
		pthread_mutex_lock(&p.mu);
		p.eof = 1;
		pthread_cond_broadcast(&p.cv);
		pthread_mutex_unlock(&p.mu);
		pthread_join(th, NULL);
		pthread_mutex_destroy(&p.mu);
		pthread_cond_destroy(&p.cv);
		if (p.failed && error == 0)
			error = ga_error(GOACCEL_ERROR, GOACCEL_ERROR_STORE, "%s: hashing failed", display);
	}
	if (error == 0)
		error = goaccel_digest_ctx_finish(digest, p.ctx);
done:
	free(p.buf);
	goaccel_digest_ctx_free(p.ctx);
	return error;
}

/* ---- fetch --------------------------------------------------------------------------------- */

typedef struct {
	const ga_record_output *o;
	int blob;   /* the blob, open */
	int parent; /* the output's directory inside dest_dir */
	const char *base;
	int out; /* the temporary file while it is written */
	char tmp[GA_TMP_NAME_MAX];
	int has_tmp;
} fetch_item;

typedef struct {
	goaccel_store *s;
	const goaccel_restore_options *opts;
	int dirfd;
	goaccel_strarray created; /* directories made inside dest_dir, relative, in creation order */
	fetch_item *items;
	size_t count;
} fetch_state;

/* Opens output i's blob: 0, GOACCEL_ENOTFOUND (gone: the record dangles), GOACCEL_ECORRUPT
 * (not a regular file, or not the size recorded and not the content named: removed, counted),
 * or an I/O error. A blob of the wrong size whose content matches its name means the record is
 * wrong: GOACCEL_ECORRUPT too, the blob staying. */
static int open_blob(fetch_state *f, fetch_item *it, const char *kind)
{
	char *path = ga_store_blob_path(f->s, &it->o->digest);
	struct stat st;
	int error = 0;
	if (!path)
		return GOACCEL_ERROR;
	if ((it->blob = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY)) < 0) {
		error = ga_error_os(0, errno, "blob %s", path);
		goto done;
	}
	if (fstat(it->blob, &st) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "blob %s: stat", path);
		goto done;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != it->o->size) {
		/* Let the full verification sort it out (and remove a damaged blob). */
		uint64_t size = 0;
		int fd = -1;
		close(it->blob);
		it->blob = -1;
		if ((error = ga_store_blob_open_verified(&fd, &size, f->s, &it->o->digest, kind)) < 0)
			goto done;
		close(fd);
		error = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_STORE,
		                 "output %s: blob has %llu bytes, the record says %llu", it->o->name,
		                 (unsigned long long)size, (unsigned long long)it->o->size);
	}
done:
	free(path);
	return error;
}

/* Opens output i's directory (creating what is missing, remembering it) and, with no_overwrite,
 * checks the output does not exist yet. */
static int open_parent(fetch_state *f, fetch_item *it)
{
	struct stat st;
	int error = ga_open_parent_nofollow_ex(&it->parent, &it->base, f->dirfd, it->o->name, 0755,
	                                       it->o->name, &f->created);
	if (error < 0)
		return error;
	if (f->opts->no_overwrite && fstatat(it->parent, it->base, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return ga_error(GOACCEL_EEXISTS, GOACCEL_ERROR_STORE, "output %s exists", it->o->name);
	return 0;
}

/* Writes output i to its temporary file and checks the digest of what was written. */
static int write_verified(fetch_state *f, fetch_item *it, const char *kind)
{
	struct stat st;
	goaccel_digest actual;
	int error, trusted;
	if ((error = ga_store_tmp_at(&it->out, it->tmp, sizeof(it->tmp), it->parent, it->o->name)) < 0)
		return error;
	it->has_tmp = 1;
	trusted = f->s->verify_cache && fstat(it->blob, &st) == 0 &&
	          ga_stamp_matches(f->s, &it->o->digest, &st);
	if (trusted)
		return ga_store_copy_content(it->blob, it->o->size, it->out, f->opts->no_reflink, NULL,
		                             it->o->name);
	if (!f->opts->no_reflink && ioctl(it->out, FICLONE, it->blob) == 0) {
		/* A clone shares the blob's extents: hash the restored file itself. */
		uint64_t size = 0;
		if ((error = ga_store_digest_fd(&actual, &size, it->out, it->o->name)) < 0)
			return error;
		if (size != it->o->size)
			goto mismatch;
	} else {
		error = copy_and_hash(&actual, it->blob, it->out, it->o->size,
		                      it->o->size >= FETCH_THREAD_MIN, it->o->name);
		if (error == GOACCEL_ECORRUPT)
			goto mismatch;
		if (error < 0)
			return error;
	}
	if (goaccel_digest_cmp(&actual, &it->o->digest) != 0)
		goto mismatch;
	if (f->s->verify_cache && fstat(it->blob, &st) == 0 && (uint64_t)st.st_size == it->o->size)
		ga_stamp_record(f->s, &it->o->digest, &st);
	return 0;
mismatch:
	{
		/* The blob is damaged: remove it (if it is still the file we read) and count it. */
		goaccel_store_counters c = {0};
		char *path = ga_store_blob_path(f->s, &it->o->digest);
		if (path)
			ga_store_unlink_if_same(path, it->blob);
		c.corrupt = 1;
		ga_stats_add(f->s, kind, &c);
		error = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_STORE,
		                 "blob %s: content does not match its digest (removed)", path ? path : "?");
		free(path);
		return error;
	}
}

/* Removes every temporary file and the directories this fetch created (deepest first). */
static void fetch_undo(fetch_state *f)
{
	size_t i;
	for (i = 0; i < f->count; i++) {
		fetch_item *it = &f->items[i];
		if (it->out >= 0) {
			close(it->out);
			it->out = -1;
		}
		if (it->has_tmp) {
			unlinkat(it->parent, it->tmp, 0);
			it->has_tmp = 0;
		}
	}
	for (i = f->created.count; i > 0; i--)
		unlinkat(f->dirfd, f->created.strings[i - 1], AT_REMOVEDIR);
}

/* mkdir -p dest_dir, remembering the highest directory it had to create (to remove on a miss). */
static int make_dest(char **made, const char *dest_dir)
{
	char *p = strdup(dest_dir), *slash;
	struct stat st;
	int error = 0;
	*made = NULL;
	if (!p)
		return ga_error_oom();
	while (*p && stat(p, &st) < 0 && errno == ENOENT) {
		free(*made);
		if ((*made = strdup(p)) == NULL) {
			error = ga_error_oom();
			goto done;
		}
		while ((slash = strrchr(p, '/')) != NULL && slash[1] == '\0' && slash > p)
			*slash = '\0'; /* trailing slashes */
		if ((slash = strrchr(p, '/')) == NULL || slash == p)
			break;
		*slash = '\0';
	}
	error = ga_mkdir_p(dest_dir, 0755);
done:
	free(p);
	if (error < 0) {
		free(*made);
		*made = NULL;
	}
	return error;
}

/* Removes dest_dir and its parents up to made (the first one this call created), if empty. */
static void unmake_dest(const char *dest_dir, const char *made)
{
	char *p;
	size_t stop;
	if (!made || (p = strdup(dest_dir)) == NULL)
		return;
	stop = strlen(made);
	for (;;) {
		char *slash;
		if (rmdir(p) < 0 || strlen(p) <= stop)
			break;
		if ((slash = strrchr(p, '/')) == NULL)
			break;
		*slash = '\0';
	}
	free(p);
}

int goaccel_store_action_fetch(goaccel_action **out, goaccel_store *s, const char *kind,
                               const goaccel_digest *key, const char *dest_dir,
                               const goaccel_restore_options *opts)
{
	goaccel_restore_options o = GOACCEL_RESTORE_OPTIONS_INIT;
	fetch_state f;
	ga_record rec;
	goaccel_store_counters c = {0};
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	char *path = NULL, *made = NULL;
	const char *count_kind;
	int64_t last_used = 0;
	int error, recfd = -1, *fds = NULL, corrupt_record = 0;
	size_t i;
	GA_ASSERT_ARG(s && key && dest_dir && *dest_dir);
	if (out)
		*out = NULL;
	GA_CHECK_VERSION(opts, GOACCEL_RESTORE_OPTIONS_VERSION, "goaccel_restore_options");
	if (opts)
		o = *opts;
	if (kind && ga_store_valid_kind(kind) < 0)
		return GOACCEL_EINVALID;
	memset(&f, 0, sizeof(f));
	memset(&rec, 0, sizeof(rec));
	f.s = s;
	f.opts = &o;
	f.dirfd = -1;
	goaccel_digest_fmt(hex, key);
	if ((path = ga_store_action_path(s, key)) == NULL)
		return GOACCEL_ERROR;
	error = ga_action_read_record(&rec, &recfd, &last_used, s, key, path);
	count_kind = kind ? kind : rec.kind;
	if (error == GOACCEL_ENOTFOUND) {
		c.misses = 1;
		ga_stats_add(s, kind ? kind : "", &c);
		error = ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_STORE, "no action record for %s", hex);
		goto done;
	}
	if (error == GOACCEL_ECORRUPT) {
		corrupt_record = 1;
		goto dangling;
	}
	if (error < 0)
		goto done;
	if (rec.count && (f.items = calloc(rec.count, sizeof(*f.items))) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	f.count = rec.count;
	for (i = 0; i < f.count; i++) {
		f.items[i].o = &rec.outputs[i];
		f.items[i].blob = f.items[i].parent = f.items[i].out = -1;
	}
	/* Every blob first: a missing one is a miss before anything is written. */
	for (i = 0; i < f.count; i++) {
		error = open_blob(&f, &f.items[i], count_kind);
		if (error == GOACCEL_ENOTFOUND || error == GOACCEL_ECORRUPT)
			goto dangling;
		if (error < 0)
			goto done;
	}
	if ((error = make_dest(&made, dest_dir)) < 0)
		goto done;
	if ((f.dirfd = open(dest_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		error = ga_error_os(0, errno, "%s: open", dest_dir);
		goto undo;
	}
	for (i = 0; i < f.count; i++)
		if ((error = open_parent(&f, &f.items[i])) < 0)
			goto undo;
	for (i = 0; i < f.count; i++) {
		error = write_verified(&f, &f.items[i], count_kind);
		if (error == GOACCEL_ECORRUPT)
			goto dangling;
		if (error < 0)
			goto undo;
	}
	/* All verified: into place, in name order. */
	for (i = 0; i < f.count; i++) {
		fetch_item *it = &f.items[i];
		error = ga_store_tmp_finish(it->out, it->parent, it->tmp, it->base, it->o->mode,
		                            o.no_overwrite, it->o->name);
		it->out = -1;
		it->has_tmp = 0;
		if (error == GOACCEL_EEXISTS)
			ga_error(GOACCEL_EEXISTS, GOACCEL_ERROR_STORE, "output %s exists", it->o->name);
		if (error < 0)
			goto undo;
		c.bytes_restored += it->o->size;
	}
	/* A hit: last use (for prune's LRU order) and the counters, in one update. */
	futimens(recfd, NULL);
	c.hits = 1;
	c.time_saved_ns = (uint64_t)rec.duration_ns;
	ga_stats_add(s, count_kind, &c);
	if (out) {
		if (f.count <= GA_ACTION_KEEP_FDS && f.count &&
		    (fds = malloc(f.count * sizeof(int))) != NULL) {
			for (i = 0; i < f.count; i++) {
				fds[i] = f.items[i].blob;
				f.items[i].blob = -1;
			}
		}
		if ((error = ga_action_adopt(out, s, &rec, last_used, fds)) < 0)
			goto done;
		fds = NULL;
	}
	error = 0;
	goto done;
dangling:
	/* The record is useless: leave nothing in dest_dir, remove it (if it is still the file we
	 * read) and report a miss (a damaged blob was counted corrupt where it was met). */
	fetch_undo(&f);
	unmake_dest(dest_dir, made);
	error = ga_action_unusable(s, path, recfd, count_kind[0] ? count_kind : NULL, corrupt_record,
	                           hex);
	goto done;
undo:
	{
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", goaccel_error_last()->message);
		fetch_undo(&f);
		unmake_dest(dest_dir, made);
		ga_error(error, GOACCEL_ERROR_STORE, "%s", msg);
	}
done:
	for (i = 0; i < f.count; i++) {
		if (f.items[i].blob >= 0)
			close(f.items[i].blob);
		if (f.items[i].parent >= 0)
			close(f.items[i].parent);
		if (f.items[i].out >= 0)
			close(f.items[i].out);
	}
	free(f.items);
	free(fds);
	goaccel_strarray_dispose(&f.created);
	if (f.dirfd >= 0)
		close(f.dirfd);
	if (recfd >= 0)
		close(recfd);
	ga_record_dispose(&rec);
	free(made);
	free(path);
	return error;
}
