/* Usage and prune (goaccel/store.h): LRU eviction of actions, refs and mount instances by age
 * and total size, and collection of unreferenced blobs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_internal.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/strarray.h"

/* ---- walking the fan-out directories ------------------------------------------------------- */

int ga_store_walk_fanout(goaccel_store *s, const char *dir, const char *suffix, ga_fanout_cb cb,
                         void *payload)
{
	char *top = ga_store_sub(s, "%s", dir);
	DIR *d = NULL;
	struct dirent *de;
	int error = 0;
	size_t slen = strlen(suffix);
	if (!top)
		return GOACCEL_ERROR;
	if ((d = opendir(top)) == NULL) {
		error = errno == ENOENT ? 0 : ga_error_os(GOACCEL_ERROR, errno, "%s: opendir", top);
		goto done;
	}
	while (!error && (de = readdir(d)) != NULL) {
		DIR *sub;
		struct dirent *fe;
		char *subpath;
		if (strlen(de->d_name) != 2 || !ga_store_hex_ok(de->d_name, 2))
			continue;
		if ((subpath = ga_path_join(top, de->d_name)) == NULL) {
			error = GOACCEL_ERROR;
			break;
		}
		if ((sub = opendir(subpath)) == NULL) {
			free(subpath);
			continue;
		}
		while (!error && (fe = readdir(sub)) != NULL) {
			struct stat st;
			char *fpath;
			size_t n = strlen(fe->d_name);
			if (n != GOACCEL_DIGEST_HEXSIZE + slen || strcmp(fe->d_name + GOACCEL_DIGEST_HEXSIZE, suffix) ||
			    !ga_store_hex_ok(fe->d_name, GOACCEL_DIGEST_HEXSIZE) ||
			    strncmp(fe->d_name, de->d_name, 2))
				continue;
			if ((fpath = ga_path_join(subpath, fe->d_name)) == NULL) {
				error = GOACCEL_ERROR;
				break;
			}
			if (lstat(fpath, &st) == 0 && S_ISREG(st.st_mode)) {
				char hex[GOACCEL_DIGEST_HEXSIZE + 1];
				memcpy(hex, fe->d_name, GOACCEL_DIGEST_HEXSIZE);
				hex[GOACCEL_DIGEST_HEXSIZE] = '\0';
				error = cb(fpath, hex, &st, payload);
			}
			free(fpath);
		}
		closedir(sub);
		free(subpath);
	}
done:
	if (d)
		closedir(d);
	free(top);
	return error;
}

/* ---- usage --------------------------------------------------------------------------------- */

static int count_blob(const char *path, const char *hex, const struct stat *st, void *p)
{
	goaccel_store_usage *u = p;
	(void)path;
	(void)hex;
	u->blobs++;
	u->blob_bytes += (uint64_t)st->st_size;
	return 0;
}

static int count_action(const char *path, const char *hex, const struct stat *st, void *p)
{
	goaccel_store_usage *u = p;
	(void)path;
	(void)hex;
	u->actions++;
	u->action_bytes += (uint64_t)st->st_size;
	return 0;
}

static int count_ref(const char *path, const char *hex, const struct stat *st, void *p)
{
	goaccel_store_usage *u = p;
	(void)path;
	(void)hex;
	u->refs++;
	u->ref_bytes += (uint64_t)st->st_size;
	return 0;
}

int goaccel_store_usage_get(goaccel_store_usage *out, goaccel_store *s)
{
	goaccel_mount_list *l = NULL;
	int error;
	size_t i;
	GA_ASSERT_ARG(out && s);
	memset(out, 0, sizeof(*out));
	if ((error = ga_store_walk_fanout(s, "blobs/sha256", "", count_blob, out)) < 0 ||
	    (error = ga_store_walk_fanout(s, "actions", ".json", count_action, out)) < 0 ||
	    (error = ga_store_walk_fanout(s, "refs", ".json", count_ref, out)) < 0 ||
	    (error = goaccel_mount_list_get(&l, s, 1)) < 0)
		return error;
	for (i = 0; i < goaccel_mount_list_count(l); i++) {
		out->mounts++;
		out->mount_bytes += goaccel_mount_list_byindex(l, i)->bytes;
	}
	goaccel_mount_list_free(l);
	out->total_bytes = out->blob_bytes + out->action_bytes + out->ref_bytes + out->mount_bytes;
	return 0;
}

/* ---- prune --------------------------------------------------------------------------------- */

typedef struct {
	goaccel_digest d;
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	char *path;
	uint64_t size;
	int64_t mtime;
	uint32_t refs;
	int gone;
} pblob;

/* A unit of eviction: an action, a ref or a mount instance. */
typedef struct {
	goaccel_entry_kind kind;
	char *id;
	char *path;           /* record / ref file */
	uint64_t size;        /* its own bytes */
	int64_t last;         /* last use */
	size_t *blobs;        /* indexes into blobs[] it keeps alive */
	size_t nblobs;
	char *mount_id;       /* mounts */
	unsigned int instance;
	int gone;
} punit;

typedef struct {
	goaccel_store *s;
	const goaccel_prune_options *o;
	goaccel_prune_result *r;
	pblob *blobs;
	size_t nblobs, capblobs;
	punit *units;
	size_t nunits, capunits;
	uint64_t total;
	int64_t now;
} pstate;

static int cmp_blob(const void *a, const void *b)
{
	return goaccel_digest_cmp(&((const pblob *)a)->d, &((const pblob *)b)->d);
}

static pblob *find_blob(pstate *p, const goaccel_digest *d)
{
	pblob key;
	key.d = *d;
	if (!p->nblobs)
		return NULL;
	return bsearch(&key, p->blobs, p->nblobs, sizeof(pblob), cmp_blob);
}

static int scan_blob(const char *path, const char *hex, const struct stat *st, void *payload)
{
	pstate *p = payload;
	pblob *b;
	if (p->nblobs == p->capblobs) {
		pblob *nb = realloc(p->blobs, (p->capblobs = p->capblobs ? p->capblobs * 2 : 256) * sizeof(*nb));
		if (!nb)
			return ga_error_oom();
		p->blobs = nb;
	}
	b = &p->blobs[p->nblobs];
	memset(b, 0, sizeof(*b));
	if (goaccel_digest_parse(&b->d, hex) < 0)
		return 0;
	if ((b->path = strdup(path)) == NULL)
		return ga_error_oom();
	memcpy(b->hex, hex, sizeof(b->hex));
	b->size = (uint64_t)st->st_size;
	b->mtime = ga_stat_mtime_ns(st);
	p->nblobs++;
	p->total += b->size;
	return 0;
}

static punit *new_unit(pstate *p, goaccel_entry_kind kind)
{
	punit *u;
	if (p->nunits == p->capunits) {
		punit *nu = realloc(p->units, (p->capunits = p->capunits ? p->capunits * 2 : 64) * sizeof(*nu));
		if (!nu) {
			ga_error_oom();
			return NULL;
		}
		p->units = nu;
	}
	u = &p->units[p->nunits++];
	memset(u, 0, sizeof(*u));
	u->kind = kind;
	return u;
}

static int link_blob(pstate *p, punit *u, const goaccel_digest *d)
{
	pblob *b = find_blob(p, d);
	if (!b)
		return 0; /* dangling: nothing to keep alive */
	u->blobs[u->nblobs++] = (size_t)(b - p->blobs);
	b->refs++;
	return 0;
}

static int read_small(ga_buf *b, const char *path)
{
	return ga_read_file(b, path, GA_RECORD_MAX);
}

static int scan_action(const char *path, const char *hex, const struct stat *st, void *payload)
{
	pstate *p = payload;
	ga_buf b = GA_BUF_INIT;
	ga_record r;
	goaccel_digest key;
	punit *u;
	size_t i;
	int error = 0;
	if (goaccel_digest_parse(&key, hex) < 0 || read_small(&b, path) < 0 ||
	    ga_record_parse(&r, b.ptr, b.size, &key, path) < 0) {
		/* unreadable or damaged: verify's business; it still takes space */
		p->total += (uint64_t)st->st_size;
		goaccel_error_clear();
		ga_buf_dispose(&b);
		return 0;
	}
	ga_buf_dispose(&b);
	if ((u = new_unit(p, GOACCEL_ENTRY_ACTION)) == NULL) {
		error = GOACCEL_ERROR;
		goto done;
	}
	u->size = (uint64_t)st->st_size;
	u->last = ga_stat_mtime_ns(st);
	p->total += u->size;
	if ((u->path = strdup(path)) == NULL || (u->id = malloc(strlen(r.kind) + 66)) == NULL ||
	    (r.count && (u->blobs = calloc(r.count, sizeof(size_t))) == NULL)) {
		error = ga_error_oom();
		goto done;
	}
	snprintf(u->id, strlen(r.kind) + 66, "%s/%s", r.kind, hex);
	for (i = 0; i < r.count; i++)
		link_blob(p, u, &r.outputs[i].digest);
done:
	ga_record_dispose(&r);
	return error;
}

static int scan_ref(const char *path, const char *hex, const struct stat *st, void *payload)
{
	pstate *p = payload;
	ga_buf b = GA_BUF_INIT;
	goaccel_digest nd, blob;
	char *name = NULL;
	punit *u;
	int error = 0;
	if (goaccel_digest_parse(&nd, hex) < 0 || read_small(&b, path) < 0 ||
	    ga_ref_parse(&name, &blob, b.ptr, b.size, &nd, path) < 0) {
		p->total += (uint64_t)st->st_size;
		goaccel_error_clear();
		ga_buf_dispose(&b);
		return 0;
	}
	ga_buf_dispose(&b);
	if ((u = new_unit(p, GOACCEL_ENTRY_REF)) == NULL) {
		free(name);
		return GOACCEL_ERROR;
	}
	u->id = name;
	u->size = (uint64_t)st->st_size;
	u->last = ga_stat_mtime_ns(st);
	p->total += u->size;
	if ((u->path = strdup(path)) == NULL || (u->blobs = calloc(1, sizeof(size_t))) == NULL)
		error = ga_error_oom();
	else
		link_blob(p, u, &blob);
	return error;
}

static int scan_mount(const char *id, unsigned int instance, void *payload)
{
	pstate *p = payload;
	punit *u = new_unit(p, GOACCEL_ENTRY_MOUNT);
	char *data;
	uint64_t files;
	char label[GA_MOUNT_ID_MAX + 16];
	int error;
	if (!u)
		return GOACCEL_ERROR;
	if (instance)
		snprintf(label, sizeof(label), "%s@%u", id, instance);
	else
		snprintf(label, sizeof(label), "%s", id);
	u->instance = instance;
	u->last = ga_mount_last_used(p->s, id, instance);
	if ((u->id = strdup(label)) == NULL || (u->mount_id = strdup(id)) == NULL ||
	    (data = ga_store_sub(p->s, "mounts/%s/%u/data", id, instance)) == NULL)
		return ga_error_oom();
	error = ga_tree_usage(&u->size, &files, data);
	free(data);
	p->total += u->size;
	return error;
}

static int scan_mounts(pstate *p)
{
	return ga_mount_foreach_instance(p->s, scan_mount, p);
}

static int allowed(pstate *p, goaccel_entry_kind kind, const char *id)
{
	unsigned int kinds = p->o->kinds ? p->o->kinds
	                                 : (GOACCEL_ENTRY_BLOB | GOACCEL_ENTRY_ACTION |
	                                    GOACCEL_ENTRY_MOUNT | GOACCEL_ENTRY_REF);
	if (!(kinds & (unsigned int)kind))
		return 0;
	return !p->o->id_glob || fnmatch(p->o->id_glob, id, 0) == 0;
}

static int emit(pstate *p, goaccel_entry_kind kind, const char *id, uint64_t bytes, int64_t last,
                const char *reason)
{
	goaccel_prune_event ev;
	if (!p->o->callback)
		return 0;
	ev.kind = kind;
	ev.id = id;
	ev.bytes = bytes;
	ev.last_used_ns = last;
	ev.reason = reason;
	if (p->o->callback(&ev, p->o->payload) != 0)
		return ga_error(GOACCEL_EUSER, GOACCEL_ERROR_CALLBACK, "prune cancelled by its callback");
	return 0;
}

static int drop_blob(pstate *p, pblob *b)
{
	if (!p->o->dry_run && unlink(b->path) < 0 && errno != ENOENT)
		return ga_error_os(GOACCEL_ERROR, errno, "%s: unlink", b->path);
	b->gone = 1;
	p->total -= b->size;
	p->r->blobs++;
	p->r->bytes_freed += b->size;
	return 0;
}

/* Removes a unit; *skipped is set for a mount that is in use. */
static int drop_unit(pstate *p, punit *u, const char *reason, int *skipped)
{
	uint64_t bytes = u->size;
	size_t i;
	int error = 0;
	*skipped = 0;
	if (u->kind == GOACCEL_ENTRY_MOUNT) {
		int fd;
		error = ga_mount_lock(&fd, p->s, u->mount_id, u->instance, 1, 0, 0);
		if (error == GOACCEL_ELOCKED || error == GOACCEL_ENOTFOUND) {
			if (error == GOACCEL_ELOCKED)
				p->r->mounts_in_use++;
			goaccel_error_clear();
			*skipped = 1;
			return 0;
		}
		if (error < 0)
			return error;
		if (p->o->dry_run)
			close(fd);
		else if ((error = ga_mount_remove_locked(p->s, u->mount_id, u->instance, fd)) < 0)
			return error;
		p->r->mounts++;
	} else {
		if (!p->o->dry_run && unlink(u->path) < 0 && errno != ENOENT)
			return ga_error_os(GOACCEL_ERROR, errno, "%s: unlink", u->path);
		if (u->kind == GOACCEL_ENTRY_ACTION)
			p->r->actions++;
		else
			p->r->refs++;
	}
	u->gone = 1;
	p->total -= u->size;
	p->r->bytes_freed += u->size;
	/* Blobs only this unit used go with it. */
	for (i = 0; i < u->nblobs; i++) {
		pblob *b = &p->blobs[u->blobs[i]];
		if (--b->refs == 0 && !b->gone) {
			if ((error = drop_blob(p, b)) < 0)
				return error;
			bytes += b->size;
		}
	}
	return emit(p, u->kind, u->id, bytes, u->last, reason);
}

static int collect_unreferenced(pstate *p)
{
	int64_t grace = p->o->blob_grace_ns < 0 ? 0 : p->o->blob_grace_ns;
	size_t i;
	int error;
	for (i = 0; i < p->nblobs; i++) {
		pblob *b = &p->blobs[i];
		if (b->refs || b->gone || b->mtime > p->now - grace || !allowed(p, GOACCEL_ENTRY_BLOB, b->hex))
			continue;
		if ((error = drop_blob(p, b)) < 0 ||
		    (error = emit(p, GOACCEL_ENTRY_BLOB, b->hex, b->size, b->mtime, "unreferenced")) < 0)
			return error;
	}
	return 0;
}

static int cmp_unit_lru(const void *a, const void *b)
{
	const punit *x = *(punit *const *)a, *y = *(punit *const *)b;
	return x->last < y->last ? -1 : x->last > y->last;
}

static int evict(pstate *p)
{
	punit **order = NULL;
	size_t i, n = 0;
	int error = 0, skipped;
	if (p->nunits && (order = malloc(p->nunits * sizeof(*order))) == NULL)
		return ga_error_oom();
	for (i = 0; i < p->nunits; i++)
		if (allowed(p, p->units[i].kind, p->units[i].id))
			order[n++] = &p->units[i];
	if (n)
		qsort(order, n, sizeof(*order), cmp_unit_lru);
	if (p->o->keep_duration_ns > 0) {
		for (i = 0; i < n && !error; i++)
			if (!order[i]->gone && order[i]->last < p->now - p->o->keep_duration_ns)
				error = drop_unit(p, order[i], "expired", &skipped);
	}
	if (p->o->max_bytes > 0) {
		for (i = 0; i < n && !error && p->total > p->o->max_bytes; i++)
			if (!order[i]->gone)
				error = drop_unit(p, order[i], "size", &skipped);
	}
	free(order);
	return error;
}

int goaccel_prune_options_init(goaccel_prune_options *opts, unsigned int version)
{
	GA_INIT_STRUCTURE(opts, version, goaccel_prune_options, GOACCEL_PRUNE_OPTIONS_INIT);
	return 0;
}

int goaccel_store_prune(goaccel_prune_result *out, goaccel_store *s, const goaccel_prune_options *opts)
{
	goaccel_prune_options o = GOACCEL_PRUNE_OPTIONS_INIT;
	goaccel_prune_result r;
	pstate p;
	int error, gc = -1;
	size_t i;
	GA_ASSERT_ARG(s);
	GA_CHECK_VERSION(opts, GOACCEL_PRUNE_OPTIONS_VERSION, "goaccel_prune_options");
	if (opts)
		o = *opts;
	memset(&r, 0, sizeof(r));
	memset(&p, 0, sizeof(p));
	p.s = s;
	p.o = &o;
	p.r = &r;
	p.now = ga_now_ns();
	/* Mounts are measured before the GC lock: they have their own locks, and walking a big
	 * module cache should not hold up puts. */
	if ((error = scan_mounts(&p)) < 0)
		goto done;
	/* Exclusive GC lock: no put is between writing its blobs and its record. */
	if ((error = ga_store_gc_lock(&gc, s, 1)) < 0)
		goto done;
	if ((error = ga_store_walk_fanout(s, "blobs/sha256", "", scan_blob, &p)) < 0)
		goto done;
	if (p.nblobs)
		qsort(p.blobs, p.nblobs, sizeof(pblob), cmp_blob);
	if ((error = ga_store_walk_fanout(s, "actions", ".json", scan_action, &p)) < 0 ||
	    (error = ga_store_walk_fanout(s, "refs", ".json", scan_ref, &p)) < 0)
		goto done;
	r.bytes_before = p.total;
	if ((error = collect_unreferenced(&p)) < 0 || (error = evict(&p)) < 0)
		goto done;
	r.bytes_after = p.total;
done:
	ga_store_gc_unlock(gc);
	for (i = 0; i < p.nblobs; i++)
		free(p.blobs[i].path);
	for (i = 0; i < p.nunits; i++) {
		free(p.units[i].id);
		free(p.units[i].path);
		free(p.units[i].blobs);
		free(p.units[i].mount_id);
	}
	free(p.blobs);
	free(p.units);
	if (out)
		*out = r;
	return error;
}
