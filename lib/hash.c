/* Tree digests (goaccel/hash.h): walking, selecting, hashing on all cores, the stat cache.
 *
 * The walk is a pool of workers sharing two stacks of tasks: directories to list and large files
 * to hash. A worker lists a directory with one open directory descriptor (fstatat/readlinkat/
 * openat relative to it), decides for each entry whether it is selected, looks regular files up
 * in the stat cache, hashes small files on the spot and queues large ones so that several big
 * files are hashed in parallel. Every directory keeps its children sorted in git's tree order
 * (a directory sorts as its name plus '/'), so a depth-first visit yields the entries in bytewise
 * order of their full paths without a global sort. The calling thread is one of the workers.
 *
 * Files are opened with O_NOFOLLOW and checked against what the listing saw (device, inode,
 * size, timestamps) before and after they are read: a file that vanishes, is replaced or changes
 * while it is hashed is an error (GOACCEL_ECHANGED), never a silently wrong digest.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>


#include "goaccel/errors.h"
#include "goaccel/hash.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/hash_internal.h"
#include "util/sha256.h"

#define K_FILE 1
#define K_LINK 2
#define K_DIR 3

#define READ_CHUNK (1024 * 1024)  /* read size for large files */
#define INLINE_MAX (256 * 1024)   /* files up to this size are hashed by the worker that lists them */
#define MAX_THREADS 256

typedef struct hdir hdir;

typedef struct {
	char *path;       /* logical path relative to root ("" for a file root) */
	char *fspath;     /* where it lives relative to root when that differs (followed links) */
	uint32_t pathlen;
	uint32_t nameoff; /* offset of the last component in path */
	unsigned char kind, exec, known;
	uint64_t size, dev, ino;
	int64_t mtime_ns, ctime_ns;
	uint32_t mode;
	goaccel_digest digest;
	char *link_target;
	hdir *dir; /* K_DIR */
} hnode;

struct hdir {
	hnode *self; /* NULL for the root */
	hdir *parent;
	uint64_t dev, ino;
	unsigned char *hits; /* per-pattern "a parent directory matched" flags */
	int git_ignored;     /* git ignores this directory; it is walked for its tracked files */
	ga_gitignore_rules *girules; /* its own .gitignore */
	hnode **children;
	size_t nchildren;
};

typedef struct {
	int rootfd;
	char *root_real;
	size_t root_real_len;
	const char *root_arg;
	int follow;
	ga_ignore *ignore;
	ga_gitignore *git;
	ga_statcache cache;
	int use_cache;
	int64_t stamp_ns;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	hdir **dirq;
	size_t ndirq, adirq;
	hnode **fileq;
	size_t nfileq, afileq;
	unsigned int active;
	int finished;
	/* the pool: workers[0] is the caller's thread, which starts the others when queued work
	 * is waiting (a warm run of a small tree starts none) */
	void *workers;
	pthread_t *tids;
	unsigned int nthreads, started;
	int error;
	int error_klass;
	char error_msg[1024];
	goaccel_hash_stats stats; /* merged from the workers under lock */
} hctx;

typedef struct {
	hctx *ctx;
	ga_sha256_ctx sha;
	unsigned char *buf;  /* file reads */
	char *dents;         /* directory reads (getdents64) */
	size_t cache_hint;   /* where the last stat cache lookup landed */
	goaccel_hash_stats stats;
} hworker;

#define DENTS_SIZE (64 * 1024)

/* ---- small helpers -------------------------------------------------------------------------- */

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static void node_set_stat(hnode *n, const struct stat *st)
{
	n->size = (uint64_t)st->st_size;
	n->dev = (uint64_t)st->st_dev;
	n->ino = (uint64_t)st->st_ino;
	n->mtime_ns = ts_ns(&st->st_mtim);
	n->ctime_ns = ts_ns(&st->st_ctim);
	n->mode = (uint32_t)st->st_mode;
	n->exec = (st->st_mode & S_IXUSR) ? 1 : 0;
}

static const char *type_name(mode_t m)
{
	if (S_ISSOCK(m))
		return "socket";
	if (S_ISFIFO(m))
		return "FIFO";
	if (S_ISCHR(m))
		return "character device";
	if (S_ISBLK(m))
		return "block device";
	return "unknown file type";
}

/* Errors name the full path (root + relative), escaped when it is not printable. */
static int path_error(hctx *ctx, int code, int errnum, const char *rel, const char *fmt)
{
	char *full = ga_path_join(ctx->root_arg, rel);
	char *esc = ga_hash_escape(full ? full : rel);
	int rc;
	if (errnum)
		rc = ga_error_os(code, errnum, "%s: %s", esc, fmt);
	else
		rc = ga_error(code, GOACCEL_ERROR_HASH, "%s: %s", esc, fmt);
	ga_hash_escape_free(esc);
	free(full);
	return rc;
}

static void node_free(hnode *n);

static void dir_free(hdir *d)
{
	size_t i;
	if (!d)
		return;
	for (i = 0; i < d->nchildren; i++)
		node_free(d->children[i]);
	free(d->children);
	free(d->hits);
	ga_gitignore_rules_free(d->girules);
	free(d);
}

static void node_free(hnode *n)
{
	if (!n)
		return;
	free(n->fspath);
	free(n->link_target);
	dir_free(n->dir);
	free(n);
}

/* One allocation holds the node and its path. */
static hnode *node_new(const char *parent, size_t plen, const char *name, size_t nlen)
{
	size_t off = plen ? plen + 1 : 0;
	hnode *n = malloc(sizeof(*n) + off + nlen + 1);
	if (!n) {
		ga_error_oom();
		return NULL;
	}
	memset(n, 0, sizeof(*n));
	n->path = (char *)(n + 1);
	if (plen) {
		memcpy(n->path, parent, plen);
		n->path[plen] = '/';
	}
	memcpy(n->path + off, name, nlen);
	n->path[off + nlen] = '\0';
	n->pathlen = (uint32_t)(off + nlen);
	n->nameoff = (uint32_t)off;
	return n;
}

/* git's tree order: a directory compares as its name followed by '/'. */
static int child_cmp(const void *a, const void *b)
{
	const hnode *x = *(hnode *const *)a, *y = *(hnode *const *)b;
	const unsigned char *p = (const unsigned char *)x->path + x->nameoff;
	const unsigned char *q = (const unsigned char *)y->path + y->nameoff;
	size_t lp = x->pathlen - x->nameoff, lq = y->pathlen - y->nameoff, n = lp < lq ? lp : lq;
	int c = memcmp(p, q, n);
	unsigned cp, cq;
	if (c)
		return c;
	cp = lp > n ? p[n] : (x->kind == K_DIR ? '/' : 0);
	cq = lq > n ? q[n] : (y->kind == K_DIR ? '/' : 0);
	return (int)cp - (int)cq;
}

/* ---- the work queue ------------------------------------------------------------------------- */

static void fail(hctx *ctx, int error)
{
	const goaccel_error *e = goaccel_error_last();
	pthread_mutex_lock(&ctx->lock);
	if (!ctx->error) {
		ctx->error = error;
		ctx->error_klass = e->klass;
		snprintf(ctx->error_msg, sizeof(ctx->error_msg), "%s", e->message);
	}
	ctx->finished = 1;
	pthread_cond_broadcast(&ctx->cond);
	pthread_mutex_unlock(&ctx->lock);
}

static int grow(void **arr, size_t *alloc, size_t need, size_t elem)
{
	size_t n = *alloc ? *alloc : 64;
	void *p;
	if (need <= *alloc)
		return 0;
	while (n < need)
		n *= 2;
	if ((p = realloc(*arr, n * elem)) == NULL)
		return ga_error_oom();
	*arr = p;
	*alloc = n;
	return 0;
}

/* Queues the new directories and large files of one listing (under one lock). */
static int enqueue(hctx *ctx, hdir **dirs, size_t nd, hnode **files, size_t nf)
{
	int error = 0;
	if (nd == 0 && nf == 0)
		return 0;
	pthread_mutex_lock(&ctx->lock);
	if ((error = grow((void **)&ctx->dirq, &ctx->adirq, ctx->ndirq + nd, sizeof(hdir *))) < 0 ||
	    (error = grow((void **)&ctx->fileq, &ctx->afileq, ctx->nfileq + nf, sizeof(hnode *))) < 0)
		goto done;
	if (nd)
		memcpy(ctx->dirq + ctx->ndirq, dirs, nd * sizeof(hdir *));
	ctx->ndirq += nd;
	if (nf)
		memcpy(ctx->fileq + ctx->nfileq, files, nf * sizeof(hnode *));
	ctx->nfileq += nf;
	if (nd + nf > 1)
		pthread_cond_broadcast(&ctx->cond);
	else
		pthread_cond_signal(&ctx->cond);
done:
	pthread_mutex_unlock(&ctx->lock);
	return error;
}

/* ---- hashing -------------------------------------------------------------------------------- */

static int digest_bytes(hworker *w, goaccel_digest *out, const void *data, size_t len)
{
	if (ga_sha256_init(&w->sha) != 1 || ga_sha256_update(&w->sha, data, len) != 1 ||
	    ga_sha256_final(out->id, &w->sha) != 1)
		return ga_error_ssl("sha256");
	return 0;
}

static int same_file_state(const struct stat *a, const hnode *n)
{
	return (uint64_t)a->st_dev == n->dev && (uint64_t)a->st_ino == n->ino && (uint64_t)a->st_size == n->size &&
	       ts_ns(&a->st_mtim) == n->mtime_ns && ts_ns(&a->st_ctim) == n->ctime_ns;
}

/* Reads and digests a regular file, opened relative to dirfd, checking that it is the file the
 * listing saw and that it does not change while it is read. */
static int hash_file(hworker *w, hnode *n, int dirfd, const char *name)
{
	hctx *ctx = w->ctx;
	struct stat st;
	uint64_t total = 0;
	int fd, error = 0;
	/* O_NONBLOCK: should the file have been replaced by a FIFO, opening it must not hang. One
	 * fstat after reading suffices: any change since the listing's lstat shows there. */
	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK)) < 0) {
		if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR)
			return path_error(ctx, GOACCEL_ECHANGED, 0, n->path, "vanished or was replaced while hashing");
		return path_error(ctx, GOACCEL_ERROR, errno, n->path, "open");
	}
	if (n->size > INLINE_MAX)
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (ga_sha256_init(&w->sha) != 1) {
		error = ga_error_ssl("sha256");
		goto done;
	}
	/* Read exactly the listed size: growth or shrinkage shows in the fstat that follows. */
	while (total < n->size) {
		uint64_t left = n->size - total;
		ssize_t r = read(fd, w->buf, left < READ_CHUNK ? (size_t)left : READ_CHUNK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			break; /* not a regular file any more: the fstat below says so */
		if (r < 0) {
			error = path_error(ctx, GOACCEL_ERROR, errno, n->path, "read");
			goto done;
		}
		if (r == 0)
			break;
		total += (uint64_t)r;
		if (ga_sha256_update(&w->sha, w->buf, (size_t)r) != 1) {
			error = ga_error_ssl("sha256");
			goto done;
		}
	}
	if (ga_sha256_final(n->digest.id, &w->sha) != 1) {
		error = ga_error_ssl("sha256");
		goto done;
	}
	if (fstat(fd, &st) < 0) {
		error = path_error(ctx, GOACCEL_ERROR, errno, n->path, "stat");
		goto done;
	}
	if (total != n->size || !S_ISREG(st.st_mode) || !same_file_state(&st, n)) {
		error = path_error(ctx, GOACCEL_ECHANGED, 0, n->path, "changed size or content while being hashed");
		goto done;
	}
	n->known = 1;
	w->stats.files_hashed++;
	w->stats.bytes_hashed += total;
done:
	close(fd);
	return error;
}

/* The stat cache decides whether a regular file must be read. */
static int cached(hworker *w, hnode *n)
{
	hctx *ctx = w->ctx;
	ga_statcache_rec rec;
	int racy = 0;
	if (!ctx->use_cache)
		return 0;
	if (ga_statcache_find(&ctx->cache, n->dev, n->ino, &rec, &w->cache_hint) &&
	    ga_statcache_valid(&ctx->cache, &rec, n->size, n->mtime_ns, n->ctime_ns, n->mode, &racy)) {
		n->digest = rec.digest;
		n->known = 1;
		w->stats.cache_hits++;
		return 1;
	}
	if (racy)
		w->stats.cache_racy++;
	return 0;
}

/* readlinkat into a new string; the length must agree with the listing's size when known. */
static int read_link(hctx *ctx, char **out, int dirfd, const char *name, const char *rel, size_t hint)
{
	size_t size = hint + 1 > 64 ? hint + 1 : 64;
	char *buf = NULL;
	*out = NULL;
	for (;;) {
		ssize_t r;
		char *nb = realloc(buf, size);
		if (!nb) {
			free(buf);
			return ga_error_oom();
		}
		buf = nb;
		if ((r = readlinkat(dirfd, name, buf, size)) < 0) {
			int e = errno;
			free(buf);
			if (e == ENOENT || e == EINVAL)
				return path_error(ctx, GOACCEL_ECHANGED, 0, rel, "vanished or was replaced while hashing");
			return path_error(ctx, GOACCEL_ERROR, e, rel, "readlink");
		}
		if ((size_t)r < size) {
			buf[r] = '\0';
			*out = buf;
			return 0;
		}
		if (size > 1024 * 1024) {
			free(buf);
			return path_error(ctx, GOACCEL_EINVALID, 0, rel, "symbolic link target too long");
		}
		size *= 2;
	}
}

static int make_link(hworker *w, hnode *n, char *target)
{
	n->kind = K_LINK;
	n->exec = 0;
	n->link_target = target;
	n->size = strlen(target);
	n->known = 1;
	return digest_bytes(w, &n->digest, target, n->size);
}

/* ---- following symbolic links --------------------------------------------------------------- */

typedef enum { FOLLOW_NO, FOLLOW_FILE, FOLLOW_DIR } follow_result;

/* Resolves a link at fsrel (relative to root): FOLLOW_NO when it dangles or leaves root, else
 * the type of its target with *st filled and *target_rel set to the target relative to root. */
static int resolve_link(hctx *ctx, follow_result *res, struct stat *st, char **target_rel, const char *fsrel,
                        const char *logical)
{
	char *abs = ga_path_join(ctx->root_real, fsrel), *real = NULL;
	int error = 0;
	*res = FOLLOW_NO;
	*target_rel = NULL;
	if (!abs)
		return ga_error_oom();
	if ((real = realpath(abs, NULL)) == NULL) {
		if (errno == ELOOP)
			error = path_error(ctx, GOACCEL_EINVALID, 0, logical, "symbolic link cycle");
		else if (errno != ENOENT && errno != ENOTDIR)
			error = path_error(ctx, GOACCEL_ERROR, errno, logical, "resolving symbolic link");
		goto done;
	}
	if (strcmp(real, ctx->root_real) == 0) {
		error = path_error(ctx, GOACCEL_EINVALID, 0, logical, "symbolic link cycle (points at the root)");
		goto done;
	}
	if (strncmp(real, ctx->root_real, ctx->root_real_len) != 0 ||
	    (ctx->root_real_len > 1 && real[ctx->root_real_len] != '/'))
		goto done; /* outside root: hashed as a link */
	if (stat(real, st) < 0) {
		if (errno != ENOENT)
			error = path_error(ctx, GOACCEL_ERROR, errno, logical, "stat of link target");
		goto done;
	}
	if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode)) {
		error = path_error(ctx, GOACCEL_EINVALID, 0, logical, type_name(st->st_mode));
		goto done;
	}
	if ((*target_rel = strdup(real + ctx->root_real_len + (ctx->root_real_len > 1 ? 1 : 0))) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	*res = S_ISDIR(st->st_mode) ? FOLLOW_DIR : FOLLOW_FILE;
done:
	free(real);
	free(abs);
	return error;
}

static int is_ancestor(const hdir *d, const struct stat *st)
{
	for (; d; d = d->parent)
		if (d->dev == (uint64_t)st->st_dev && d->ino == (uint64_t)st->st_ino)
			return 1;
	return 0;
}

/* ---- listing a directory -------------------------------------------------------------------- */

typedef struct {
	hnode **nodes;
	size_t n, alloc;
	hdir **dirs;
	size_t nd, ad;
	hnode **big;
	size_t nb, ab;
	const ga_gitignore_rules **gistack; /* .gitignore rules that apply here, deepest first */
	size_t gidepth;
} listing;

static void listing_dispose(listing *l, int free_nodes)
{
	size_t i;
	if (free_nodes)
		for (i = 0; i < l->n; i++)
			node_free(l->nodes[i]);
	free(l->nodes);
	free(l->dirs);
	free(l->big);
	free(l->gistack);
	memset(l, 0, sizeof(*l));
}

static const char *fs_of(const hnode *n)
{
	return n->fspath ? n->fspath : n->path;
}

/* Decides whether an entry is selected; for directories, *hits receives the pattern flags and
 * *git_ignored whether git ignores the directory (walked only for its tracked files). */
static int select_entry(hctx *ctx, const listing *l, hdir *parent, hnode *n, int is_dir, int *selected,
                        unsigned char **hits, int *git_ignored)
{
	int error, ign = 0;
	*selected = 1;
	if (hits)
		*hits = NULL;
	if (ctx->ignore) {
		unsigned char *h = NULL;
		int ex;
		if (is_dir && (h = calloc(1, ga_ignore_count(ctx->ignore))) == NULL)
			return ga_error_oom();
		ex = ga_ignore_eval(ctx->ignore, n->path, n->pathlen, parent->hits, h);
		if (ex && (!is_dir || ga_ignore_can_skip_dir(ctx->ignore, n->path, n->pathlen))) {
			free(h);
			*selected = 0;
			return 0;
		}
		if (hits)
			*hits = h;
		else
			free(h);
	}
	if (ctx->git) {
		if ((error = ga_gitignore_check(&ign, git_ignored, ctx->git, l->gistack, l->gidepth, n->path, n->pathlen,
		                                is_dir, parent->git_ignored, 0)) < 0) {
			if (hits) {
				free(*hits);
				*hits = NULL;
			}
			return error;
		}
		if (ign) {
			*selected = 0;
			if (hits) {
				free(*hits);
				*hits = NULL;
			}
		}
	}
	return 0;
}

static int add_dir_child(hctx *ctx, listing *l, hdir *parent, hnode *n, const struct stat *st, unsigned char *hits,
                         int git_ignored)
{
	hdir *d = calloc(1, sizeof(*d));
	(void)ctx;
	if (!d) {
		free(hits);
		return ga_error_oom();
	}
	n->kind = K_DIR;
	n->dir = d;
	d->self = n;
	d->parent = parent;
	d->dev = (uint64_t)st->st_dev;
	d->ino = (uint64_t)st->st_ino;
	d->hits = hits;
	d->git_ignored = git_ignored;
	if (grow((void **)&l->dirs, &l->ad, l->nd + 1, sizeof(hdir *)) < 0)
		return GOACCEL_ERROR;
	l->dirs[l->nd++] = d;
	return 0;
}

static int add_file_child(hworker *w, listing *l, hnode *n, const struct stat *st, int dirfd, const char *name)
{
	n->kind = K_FILE;
	node_set_stat(n, st);
	if (cached(w, n))
		return 0;
	if (n->size <= INLINE_MAX)
		return hash_file(w, n, dirfd, name);
	if (grow((void **)&l->big, &l->ab, l->nb + 1, sizeof(hnode *)) < 0)
		return GOACCEL_ERROR;
	l->big[l->nb++] = n;
	return 0;
}

/* One directory entry: stat it, select it, and make it a file, link or directory child. */
static int list_entry(hworker *w, listing *l, hdir *d, int dirfd, const char *name)
{
	hctx *ctx = w->ctx;
	const char *dpath = d->self ? d->self->path : "";
	size_t dlen = d->self ? d->self->pathlen : 0;
	struct stat st;
	hnode *n;
	int selected, error = 0, is_dir, git_ignored = 0;
	unsigned char *hits = NULL;
	follow_result fr = FOLLOW_NO;
	char *target = NULL;

	if ((n = node_new(dpath, dlen, name, strlen(name))) == NULL)
		return GOACCEL_ERROR;
	if (grow((void **)&l->nodes, &l->alloc, l->n + 1, sizeof(hnode *)) < 0) {
		node_free(n);
		return GOACCEL_ERROR;
	}
	l->nodes[l->n++] = n; /* owned by the listing from here on */
	if (d->self && d->self->fspath && (n->fspath = ga_path_join(d->self->fspath, name)) == NULL)
		return GOACCEL_ERROR;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return path_error(ctx, GOACCEL_ECHANGED, 0, n->path, "vanished while hashing");
		return path_error(ctx, GOACCEL_ERROR, errno, n->path, "stat");
	}
	if (S_ISLNK(st.st_mode) && ctx->follow) {
		struct stat tst;
		if ((error = resolve_link(ctx, &fr, &tst, &target, fs_of(n), n->path)) < 0)
			goto done;
		if (fr != FOLLOW_NO) {
			st = tst;
			free(n->fspath);
			n->fspath = target;
			target = NULL;
		}
	}
	is_dir = S_ISDIR(st.st_mode);
	if ((error = select_entry(ctx, l, d, n, is_dir, &selected, is_dir ? &hits : NULL, &git_ignored)) < 0)
		goto done;
	if (!selected) {
		w->stats.excluded++;
		l->n--;
		node_free(n);
		goto done;
	}
	if (is_dir) {
		if (fr == FOLLOW_DIR && is_ancestor(d, &st)) {
			free(hits);
			error = path_error(ctx, GOACCEL_EINVALID, 0, n->path, "symbolic link cycle");
			goto done;
		}
		error = add_dir_child(ctx, l, d, n, &st, hits, git_ignored);
	} else if (S_ISREG(st.st_mode)) {
		if (fr == FOLLOW_FILE)
			error = add_file_child(w, l, n, &st, ctx->rootfd, n->fspath);
		else
			error = add_file_child(w, l, n, &st, dirfd, name);
	} else if (S_ISLNK(st.st_mode)) {
		char *t = NULL;
		if ((error = read_link(ctx, &t, dirfd, name, n->path, (size_t)st.st_size)) < 0)
			goto done;
		error = make_link(w, n, t);
	} else {
		error = path_error(ctx, GOACCEL_EINVALID, 0, n->path, type_name(st.st_mode));
	}
done:
	free(target);
	return error;
}

static int open_dir(hctx *ctx, hdir *d, int *out)
{
	const char *rel = d->self ? fs_of(d->self) : ".";
	const char *name = d->self ? d->self->path : "";
	struct stat st;
	int fd;
	*out = -1;
	if ((fd = openat(ctx->rootfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
			return path_error(ctx, GOACCEL_ECHANGED, 0, name, "vanished or was replaced while hashing");
		return path_error(ctx, GOACCEL_ERROR, errno, name, "open directory");
	}
	if (d->self && (fstat(fd, &st) < 0 || (uint64_t)st.st_dev != d->dev || (uint64_t)st.st_ino != d->ino)) {
		close(fd);
		return path_error(ctx, GOACCEL_ECHANGED, 0, name, "replaced while hashing");
	}
	*out = fd;
	return 0;
}

/* The .gitignore rules for the entries of d: its own file (read now), its parents', and those of
 * root's parent directories, deepest first. Not needed inside an ignored directory. */
static int gitignore_stack(hctx *ctx, listing *l, hdir *d, int fd)
{
	const ga_gitignore_rules *const *anc;
	size_t nanc, depth = 0, i;
	hdir *p;
	int error;
	if (!ctx->git || d->git_ignored)
		return 0;
	if ((error = ga_gitignore_load(&d->girules, ctx->git, fd, d->self ? d->self->path : "")) < 0)
		return error;
	nanc = ga_gitignore_ancestors(ctx->git, &anc);
	for (p = d; p; p = p->parent)
		depth++;
	if ((l->gistack = calloc(depth + nanc + 1, sizeof(*l->gistack))) == NULL)
		return ga_error_oom();
	for (p = d; p; p = p->parent)
		if (p->girules)
			l->gistack[l->gidepth++] = p->girules;
	for (i = nanc; i-- > 0;)
		if (anc[i])
			l->gistack[l->gidepth++] = anc[i];
	return 0;
}

/* Lists a directory with getdents64 on the descriptor open_dir returned (no DIR stream: that
 * would cost an fstat and fcntl per directory). */
static int process_dir(hworker *w, hdir *d)
{
	hctx *ctx = w->ctx;
	const char *dname = d->self ? d->self->path : "";
	listing l;
	int fd, error;
	memset(&l, 0, sizeof(l));
	if ((error = open_dir(ctx, d, &fd)) < 0)
		return error;
	if ((error = gitignore_stack(ctx, &l, d, fd)) < 0)
		goto done;
	w->stats.dirs++;
	for (;;) {
		ssize_t n = getdents64(fd, w->dents, DENTS_SIZE), off;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error = path_error(ctx, GOACCEL_ERROR, errno, dname, "reading directory");
			goto done;
		}
		if (n == 0)
			break;
		for (off = 0; off < n;) {
			struct dirent64 *de = (struct dirent64 *)(w->dents + off);
			const char *name = de->d_name;
			off += de->d_reclen;
			if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
				continue;
			if (strcmp(name, ".git") == 0) {
				w->stats.excluded++;
				continue;
			}
			if ((error = list_entry(w, &l, d, fd, name)) < 0)
				goto done;
		}
	}
	if (l.n)
		qsort(l.nodes, l.n, sizeof(hnode *), child_cmp);
	d->children = l.nodes;
	d->nchildren = l.n;
	l.nodes = NULL;
	l.n = 0;
	error = enqueue(ctx, l.dirs, l.nd, l.big, l.nb);
done:
	listing_dispose(&l, 1);
	close(fd);
	return error;
}

/* Large files are hashed from the queue, opened relative to the root. */
static int process_big(hworker *w, hnode *n)
{
	return hash_file(w, n, w->ctx->rootfd, fs_of(n));
}

/* ---- the pool ------------------------------------------------------------------------------- */

static void merge_stats(goaccel_hash_stats *into, const goaccel_hash_stats *s)
{
	into->dirs += s->dirs;
	into->excluded += s->excluded;
	into->files_hashed += s->files_hashed;
	into->bytes_hashed += s->bytes_hashed;
	into->cache_hits += s->cache_hits;
	into->cache_racy += s->cache_racy;
}

static void *thread_main(void *arg);
static int worker_init(hworker *w, hctx *ctx);

/* Called by the caller's thread with the lock held, after taking an item: starts another worker
 * for each item still queued, up to the pool's size. A thread that cannot start is not an error
 * (fewer threads do the same work). */
static void spawn_workers(hctx *ctx)
{
	hworker *ws = ctx->workers;
	size_t waiting = ctx->ndirq + ctx->nfileq;
	while (waiting-- > 0 && ctx->started + 1 < ctx->nthreads) {
		unsigned int i = ctx->started + 1;
		if (worker_init(&ws[i], ctx) < 0 || pthread_create(&ctx->tids[i], NULL, thread_main, &ws[i]) != 0) {
			ctx->nthreads = i; /* stop trying; ws[i] is disposed with the others */
			break;
		}
		ctx->started = i;
	}
}

static void worker_run(hworker *w)
{
	hctx *ctx = w->ctx;
	int spawner = w == (hworker *)ctx->workers;
	pthread_mutex_lock(&ctx->lock);
	for (;;) {
		hdir *d = NULL;
		hnode *n = NULL;
		int error;
		if (ctx->finished)
			break;
		if (ctx->ndirq)
			d = ctx->dirq[--ctx->ndirq];
		else if (ctx->nfileq)
			n = ctx->fileq[--ctx->nfileq];
		else if (ctx->active == 0) {
			ctx->finished = 1;
			pthread_cond_broadcast(&ctx->cond);
			break;
		} else {
			pthread_cond_wait(&ctx->cond, &ctx->lock);
			continue;
		}
		ctx->active++;
		if (spawner)
			spawn_workers(ctx);
		pthread_mutex_unlock(&ctx->lock);
		error = d ? process_dir(w, d) : process_big(w, n);
		if (error < 0)
			fail(ctx, error);
		pthread_mutex_lock(&ctx->lock);
		ctx->active--;
	}
	merge_stats(&ctx->stats, &w->stats);
	pthread_mutex_unlock(&ctx->lock);
}

static int worker_init(hworker *w, hctx *ctx)
{
	memset(w, 0, sizeof(*w));
	w->ctx = ctx;
	if ((w->buf = malloc(READ_CHUNK)) == NULL || (w->dents = malloc(DENTS_SIZE)) == NULL)
		return ga_error_oom();
	return 0;
}

static void worker_dispose(hworker *w)
{
	free(w->buf);
	free(w->dents);
}

static void *thread_main(void *arg)
{
	worker_run(arg);
	return NULL;
}

static unsigned int thread_count(const goaccel_hash_options *opts)
{
	long n;
	if (opts && opts->threads)
		return opts->threads > MAX_THREADS ? MAX_THREADS : opts->threads;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (unsigned int)n;
}

/* Runs the queued work on up to nthreads workers: the caller's thread, and others it starts
 * while work is waiting (spawn_workers). */
static int run_pool(hctx *ctx, unsigned int nthreads)
{
	hworker *ws = NULL;
	pthread_t *tids = NULL;
	unsigned int i;
	int error = 0;
	if ((ws = calloc(nthreads, sizeof(*ws))) == NULL || (tids = calloc(nthreads, sizeof(*tids))) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	if ((error = worker_init(&ws[0], ctx)) < 0)
		goto done;
	ctx->workers = ws;
	ctx->tids = tids;
	ctx->nthreads = nthreads;
	ctx->started = 0;
	worker_run(&ws[0]);
	/* no lock needed: only this thread starts workers, and it is done */
	for (i = 1; i <= ctx->started; i++)
		pthread_join(tids[i], NULL);
	if (ctx->error)
		error = ga_error(ctx->error, ctx->error_klass, "%s", ctx->error_msg);
done:
	if (ws)
		for (i = 0; i < nthreads; i++)
			worker_dispose(&ws[i]);
	ctx->workers = NULL;
	ctx->tids = NULL;
	free(ws);
	free(tids);
	return error;
}

/* ---- setup and results ---------------------------------------------------------------------- */

static int ctx_init(hctx *ctx, const char *root, const goaccel_hash_options *opts)
{
	struct timespec now;
	int error;
	memset(ctx, 0, sizeof(*ctx));
	ctx->rootfd = -1;
	ctx->root_arg = root;
	pthread_mutex_init(&ctx->lock, NULL);
	pthread_cond_init(&ctx->cond, NULL);
	/* The racy stamp: the coarse clock file systems use, read before anything is looked at. */
	clock_gettime(CLOCK_REALTIME_COARSE, &now);
	ctx->stamp_ns = ts_ns(&now);
	ctx->follow = opts && opts->follow_symlinks;
	if (opts && opts->stat_cache) {
		if ((error = ga_statcache_load(&ctx->cache, opts->stat_cache)) < 0)
			return error;
		ctx->use_cache = 1;
		ctx->stats.cache_loaded = ctx->cache.loaded;
		ctx->stats.cache_rejected = ctx->cache.rejected;
	}
	return 0;
}

static void ctx_dispose(hctx *ctx)
{
	if (ctx->rootfd >= 0)
		close(ctx->rootfd);
	free(ctx->root_real);
	ga_ignore_free(ctx->ignore);
	ga_gitignore_free(ctx->git);
	ga_statcache_dispose(&ctx->cache);
	free(ctx->dirq);
	free(ctx->fileq);
	pthread_mutex_destroy(&ctx->lock);
	pthread_cond_destroy(&ctx->cond);
}

static int open_root(hctx *ctx, const char *root, struct stat *st)
{
	if (stat(root, st) < 0)
		return ga_error_os(0, errno, "%s: hash root", root);
	if ((ctx->root_real = realpath(root, NULL)) == NULL)
		return ga_error_os(0, errno, "%s: realpath", root);
	ctx->root_real_len = strlen(ctx->root_real);
	if (S_ISDIR(st->st_mode)) {
		if ((ctx->rootfd = open(ctx->root_real, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			return ga_error_os(0, errno, "%s: open", root);
	} else if (!S_ISREG(st->st_mode)) {
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_HASH, "%s: not a file or directory (%s)", root,
		                type_name(st->st_mode));
	}
	return 0;
}

/* Collects the stat records of this run, then the still-trustworthy ones of the old file. */
typedef struct {
	ga_statcache_rec *recs;
	size_t n, alloc;
} recvec;

static int rec_add(recvec *v, const hnode *n)
{
	ga_statcache_rec *r;
	if (grow((void **)&v->recs, &v->alloc, v->n + 1, sizeof(*r)) < 0)
		return GOACCEL_ERROR;
	r = &v->recs[v->n++];
	r->dev = n->dev;
	r->ino = n->ino;
	r->size = n->size;
	r->mtime_ns = n->mtime_ns;
	r->ctime_ns = n->ctime_ns;
	r->mode = n->mode;
	r->digest = n->digest;
	return 0;
}

static int write_cache(hctx *ctx, const char *path, recvec *v)
{
	ga_buf buf = GA_BUF_INIT;
	recvec all = {NULL, 0, 0};
	size_t i;
	int error = 0;
	/* old records first so that this run's records win in ga_statcache_serialize */
	if ((error = grow((void **)&all.recs, &all.alloc, ctx->cache.count + v->n + 1, sizeof(*all.recs))) < 0)
		goto done;
	for (i = 0; i < ctx->cache.count; i++) {
		ga_statcache_rec r;
		int racy = 0;
		ga_statcache_get(&ctx->cache, i, &r);
		ga_statcache_valid(&ctx->cache, &r, r.size, r.mtime_ns, r.ctime_ns, r.mode, &racy);
		if (!racy)
			all.recs[all.n++] = r;
	}
	if (v->n)
		memcpy(all.recs + all.n, v->recs, v->n * sizeof(*v->recs));
	all.n += v->n;
	if ((error = ga_statcache_serialize(&buf, all.recs, all.n, ctx->stamp_ns)) < 0)
		goto done;
	if ((error = ga_write_file_atomic(path, buf.ptr, buf.size, 0600, 0)) < 0)
		goto done;
	ctx->stats.cache_written = 1;
done:
	free(all.recs);
	ga_buf_dispose(&buf);
	return error;
}

static size_t count_entries(const hdir *d, size_t *path_bytes)
{
	size_t i, n = 0;
	for (i = 0; i < d->nchildren; i++) {
		const hnode *c = d->children[i];
		if (c->kind == K_DIR) {
			n += count_entries(c->dir, path_bytes);
		} else {
			n++;
			*path_bytes += c->pathlen + 1;
		}
	}
	return n;
}

/* The stat cache is rewritten when this run read a file (new or racy records) or found no valid
 * cache; a warm run with nothing changed writes nothing. */
static int cache_needs_write(const hctx *ctx)
{
	return ctx->use_cache && (ctx->stats.files_hashed > 0 || !ctx->cache.loaded);
}

/* Where the entries go, in bytewise path order: a manifest when the caller wants one, else
 * straight into the digest; and the stat records when the cache will be rewritten. */
typedef struct {
	goaccel_manifest *m;
	ga_tree_enc enc;
	recvec *recs;
} emitter;

static int emit_one(emitter *em, hnode *n)
{
	goaccel_entry_type type = n->kind == K_FILE ? GOACCEL_ENTRY_FILE : GOACCEL_ENTRY_SYMLINK;
	int error;
	if (n->kind == K_FILE && em->recs && (error = rec_add(em->recs, n)) < 0)
		return error;
	if (!em->m)
		return ga_tree_enc_add(&em->enc, n->path, n->pathlen, type, n->exec, n->size, &n->digest);
	error = ga_manifest_add(em->m, n->path, n->pathlen, type, n->exec, n->size, &n->digest, n->link_target);
	n->link_target = NULL;
	return error;
}

static int emit_dir(emitter *em, hdir *d)
{
	size_t i;
	int error;
	for (i = 0; i < d->nchildren; i++) {
		hnode *n = d->children[i];
		if ((error = n->kind == K_DIR ? emit_dir(em, n->dir) : emit_one(em, n)) < 0)
			return error;
	}
	return 0;
}

/* Prepares an emitter for count entries of path_bytes of path text. */
static int emitter_start(emitter *em, recvec *recs, int want_manifest, size_t count, size_t path_bytes)
{
	int error;
	memset(em, 0, sizeof(*em));
	if (recs) {
		if ((recs->recs = malloc((count + 1) * sizeof(*recs->recs))) == NULL)
			return ga_error_oom();
		recs->alloc = count + 1;
		em->recs = recs;
	}
	if (want_manifest)
		return ga_manifest_new(&em->m, count, path_bytes);
	if ((error = ga_tree_enc_start(&em->enc, count)) < 0)
		return error;
	return 0;
}

static void emitter_dispose(emitter *em)
{
	goaccel_manifest_free(em->m);
	ga_tree_enc_dispose(&em->enc);
}

/* The digest, the stat cache, and the manifest handed to the caller (or freed). */
static int finish(hctx *ctx, goaccel_digest *out, goaccel_manifest **manifest_out, emitter *em,
                  const goaccel_hash_options *opts)
{
	goaccel_digest d;
	int error;
	if (em->m) {
		if ((error = ga_tree_digest(&em->m->digest, em->m->entries, em->m->count)) < 0)
			return error;
		d = em->m->digest;
		ctx->stats.entries = em->m->count;
	} else {
		if ((error = ga_tree_enc_finish(&d, &em->enc)) < 0)
			return error;
		ctx->stats.entries = em->enc.added;
	}
	if (cache_needs_write(ctx) && (error = write_cache(ctx, opts->stat_cache, em->recs)) < 0)
		return error;
	*out = d;
	if (manifest_out) {
		*manifest_out = em->m;
		em->m = NULL;
	}
	return 0;
}

static void report_stats(hctx *ctx, const goaccel_hash_options *opts)
{
	if (opts && opts->stats)
		*opts->stats = ctx->stats;
}

static int load_patterns(hctx *ctx, const goaccel_hash_options *opts)
{
	size_t i;
	int error;
	if (!opts || (!opts->ignore_file && !opts->exclude_count))
		return 0;
	if ((error = ga_ignore_new(&ctx->ignore)) < 0)
		return error;
	if (opts->ignore_file && (error = ga_ignore_add_file(ctx->ignore, opts->ignore_file)) < 0)
		return error;
	if (opts->exclude_count && !opts->exclude)
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_INVALID, "hash options: exclude is NULL");
	for (i = 0; i < opts->exclude_count; i++) {
		char source[64];
		if (!opts->exclude[i])
			return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_INVALID, "hash options: exclude[%zu] is NULL", i);
		snprintf(source, sizeof(source), "exclude[%zu]", i);
		if ((error = ga_ignore_add_pattern(ctx->ignore, opts->exclude[i], strlen(opts->exclude[i]), source, 0)) < 0)
			return error;
	}
	if (ga_ignore_count(ctx->ignore) == 0) {
		ga_ignore_free(ctx->ignore);
		ctx->ignore = NULL;
	}
	return 0;
}

/* A regular file as the root: one entry with the empty path. */
static int hash_root_file(hctx *ctx, emitter *em, const struct stat *st)
{
	hworker w;
	hnode *n = NULL;
	int error;
	if ((error = worker_init(&w, ctx)) < 0)
		goto done;
	if ((n = node_new("", 0, "", 0)) == NULL) {
		error = GOACCEL_ERROR;
		goto done;
	}
	n->kind = K_FILE;
	node_set_stat(n, st);
	if (!cached(&w, n) && (error = hash_file(&w, n, AT_FDCWD, ctx->root_real)) < 0)
		goto done;
	error = emit_one(em, n);
done:
	merge_stats(&ctx->stats, &w.stats);
	node_free(n);
	worker_dispose(&w);
	return error;
}

int goaccel_hash_options_init(goaccel_hash_options *opts, unsigned int version)
{
	GA_INIT_STRUCTURE(opts, version, goaccel_hash_options, GOACCEL_HASH_OPTIONS_INIT);
	return 0;
}

int goaccel_hash_tree(goaccel_digest *out, goaccel_manifest **manifest_out, const char *root,
                      const goaccel_hash_options *opts)
{
	hctx ctx;
	hdir *top = NULL;
	emitter em;
	recvec recs = {NULL, 0, 0};
	struct stat st;
	int error;
	GA_ASSERT_ARG(out);
	GA_ASSERT_ARG(root);
	GA_CHECK_VERSION(opts, GOACCEL_HASH_OPTIONS_VERSION, "goaccel_hash_options");
	memset(&em, 0, sizeof(em));
	if ((error = ctx_init(&ctx, root, opts)) < 0 || (error = load_patterns(&ctx, opts)) < 0 ||
	    (error = open_root(&ctx, root, &st)) < 0)
		goto done;
	if (S_ISREG(st.st_mode)) {
		if ((error = emitter_start(&em, ctx.use_cache ? &recs : NULL, manifest_out != NULL, 1, 1)) < 0 ||
		    (error = hash_root_file(&ctx, &em, &st)) < 0)
			goto done;
	} else {
		size_t count, path_bytes = 0;
		if (opts && opts->gitignore &&
		    (error = ga_gitignore_open(&ctx.git, ctx.root_real, opts->git_global_excludes)) < 0)
			goto done;
		if ((top = calloc(1, sizeof(*top))) == NULL) {
			error = ga_error_oom();
			goto done;
		}
		top->dev = (uint64_t)st.st_dev;
		top->ino = (uint64_t)st.st_ino;
		top->git_ignored = ga_gitignore_root_ignored(ctx.git);
		if ((error = enqueue(&ctx, &top, 1, NULL, 0)) < 0 ||
		    (error = run_pool(&ctx, thread_count(opts))) < 0)
			goto done;
		/* sized up front: a warm run should not spend its time growing arrays */
		count = count_entries(top, &path_bytes);
		if ((error = emitter_start(&em, cache_needs_write(&ctx) ? &recs : NULL, manifest_out != NULL, count,
		                           path_bytes)) < 0 ||
		    (error = emit_dir(&em, top)) < 0)
			goto done;
	}
	error = finish(&ctx, out, manifest_out, &em, opts);
done:
	report_stats(&ctx, opts);
	emitter_dispose(&em);
	dir_free(top);
	free(recs.recs);
	ctx_dispose(&ctx);
	return error;
}

/* ---- hashing a list of paths ---------------------------------------------------------------- */

static int relpath_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every parent directory of a listed path must resolve inside root (symbolic links included). */
static int check_parent(hctx *ctx, const char *rel, char **last_ok)
{
	const char *slash = strrchr(rel, '/');
	char *parent, *abs, *real;
	int error = 0;
	if (!slash)
		return 0;
	if ((parent = strndup(rel, (size_t)(slash - rel))) == NULL)
		return ga_error_oom();
	if (*last_ok && strcmp(*last_ok, parent) == 0) {
		free(parent);
		return 0;
	}
	if ((abs = ga_path_join(ctx->root_real, parent)) == NULL) {
		free(parent);
		return ga_error_oom();
	}
	if ((real = realpath(abs, NULL)) == NULL) {
		error = errno == ENOENT || errno == ENOTDIR ? path_error(ctx, GOACCEL_ENOTFOUND, errno, rel, "hash path")
		                                           : path_error(ctx, GOACCEL_ERROR, errno, rel, "hash path");
	} else if (strcmp(real, ctx->root_real) != 0 &&
	           (strncmp(real, ctx->root_real, ctx->root_real_len) != 0 ||
	            (ctx->root_real_len > 1 && real[ctx->root_real_len] != '/'))) {
		error = path_error(ctx, GOACCEL_EUNSAFE, 0, rel, "leads out of the root through a symbolic link");
	}
	free(real);
	free(abs);
	if (error == 0) {
		free(*last_ok);
		*last_ok = parent;
	} else {
		free(parent);
	}
	return error;
}

/* Prepares one listed path: stat it, follow it if asked, hash links and small files. */
static int prepare_path(hworker *w, hnode *n, hnode ***big, size_t *nb, size_t *ab)
{
	hctx *ctx = w->ctx;
	struct stat st;
	follow_result fr = FOLLOW_NO;
	char *target = NULL;
	int error = 0;
	if (fstatat(ctx->rootfd, n->path, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return path_error(ctx, GOACCEL_ENOTFOUND, errno, n->path, "hash path");
		return path_error(ctx, GOACCEL_ERROR, errno, n->path, "stat");
	}
	if (S_ISLNK(st.st_mode) && ctx->follow) {
		struct stat tst;
		if ((error = resolve_link(ctx, &fr, &tst, &target, n->path, n->path)) < 0)
			return error;
		if (fr == FOLLOW_DIR) {
			free(target);
			return path_error(ctx, GOACCEL_EINVALID, 0, n->path, "is a directory (through a symbolic link)");
		}
		if (fr == FOLLOW_FILE) {
			st = tst;
			n->fspath = target;
		}
	}
	if (S_ISDIR(st.st_mode))
		return path_error(ctx, GOACCEL_EINVALID, 0, n->path, "is a directory, not a file");
	if (S_ISLNK(st.st_mode)) {
		char *t = NULL;
		if ((error = read_link(ctx, &t, ctx->rootfd, n->path, n->path, (size_t)st.st_size)) < 0)
			return error;
		return make_link(w, n, t);
	}
	if (!S_ISREG(st.st_mode))
		return path_error(ctx, GOACCEL_EINVALID, 0, n->path, type_name(st.st_mode));
	n->kind = K_FILE;
	node_set_stat(n, &st);
	if (cached(w, n))
		return 0;
	if (grow((void **)big, ab, *nb + 1, sizeof(hnode *)) < 0)
		return GOACCEL_ERROR;
	(*big)[(*nb)++] = n;
	return 0;
}

int goaccel_hash_paths(goaccel_digest *out, goaccel_manifest **manifest_out, const char *root,
                       const char *const *relpaths, size_t count, const goaccel_hash_options *opts)
{
	hctx ctx;
	hworker w;
	const char **sorted = NULL;
	hnode **nodes = NULL, **big = NULL;
	size_t i, n = 0, nb = 0, ab = 0;
	emitter em;
	recvec recs = {NULL, 0, 0};
	char *last_ok = NULL;
	struct stat st;
	int error, winit = 0;
	GA_ASSERT_ARG(out);
	GA_ASSERT_ARG(root);
	GA_ASSERT_ARG(relpaths || count == 0);
	GA_CHECK_VERSION(opts, GOACCEL_HASH_OPTIONS_VERSION, "goaccel_hash_options");
	memset(&em, 0, sizeof(em));
	if ((error = ctx_init(&ctx, root, opts)) < 0 || (error = open_root(&ctx, root, &st)) < 0)
		goto done;
	if (!S_ISDIR(st.st_mode)) {
		error = ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_HASH, "%s: not a directory", root);
		goto done;
	}
	if ((count && ((sorted = malloc(count * sizeof(*sorted))) == NULL ||
	               (nodes = calloc(count, sizeof(*nodes))) == NULL))) {
		error = ga_error_oom();
		goto done;
	}
	for (i = 0; i < count; i++) {
		if (!relpaths[i] || !ga_hash_relpath_valid(relpaths[i], strlen(relpaths[i]))) {
			char *esc = ga_hash_escape(relpaths[i] ? relpaths[i] : "(null)");
			error = ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_HASH, "%s: invalid relative path \"%s\"", root, esc);
			ga_hash_escape_free(esc);
			goto done;
		}
		sorted[i] = relpaths[i];
	}
	if (count)
		qsort(sorted, count, sizeof(*sorted), relpath_cmp);
	if ((error = worker_init(&w, &ctx)) < 0) {
		winit = 1;
		goto done;
	}
	winit = 1;
	for (i = 0; i < count; i++) {
		if (i && strcmp(sorted[i - 1], sorted[i]) == 0)
			continue;
		if ((nodes[n] = node_new("", 0, sorted[i], strlen(sorted[i]))) == NULL) {
			error = GOACCEL_ERROR;
			goto done;
		}
		n++;
		if ((error = check_parent(&ctx, sorted[i], &last_ok)) < 0 ||
		    (error = prepare_path(&w, nodes[n - 1], &big, &nb, &ab)) < 0)
			goto done;
	}
	if ((error = enqueue(&ctx, NULL, 0, big, nb)) < 0 || (error = run_pool(&ctx, thread_count(opts))) < 0)
		goto done;
	{
		size_t bytes = 0;
		for (i = 0; i < n; i++)
			bytes += nodes[i]->pathlen + 1;
		if ((error = emitter_start(&em, cache_needs_write(&ctx) ? &recs : NULL, manifest_out != NULL, n, bytes)) < 0)
			goto done;
	}
	for (i = 0; i < n; i++)
		if ((error = emit_one(&em, nodes[i])) < 0)
			goto done;
	error = finish(&ctx, out, manifest_out, &em, opts);
done:
	if (winit) {
		merge_stats(&ctx.stats, &w.stats);
		worker_dispose(&w);
	}
	report_stats(&ctx, opts);
	for (i = 0; i < n; i++)
		node_free(nodes[i]);
	free(nodes);
	free(sorted);
	free(big);
	free(last_ok);
	free(recs.recs);
	emitter_dispose(&em);
	ctx_dispose(&ctx);
	return error;
}
