/* Verify (+repair): rehash every blob, parse every record and ref, find dangling ones and the
 * temporary files of processes that died (goaccel/store.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_internal.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/strarray.h"

typedef struct {
	goaccel_store *s;
	const goaccel_verify_options *o;
	goaccel_verify_result *r;
	goaccel_digest *bad_blobs; /* corrupt blobs left in place (no repair) */
	size_t nbad, capbad;
	char first[1024];
} vstate;

/* Reports a problem; removes the entry when repairing (remove: a function doing it, returning
 * 0 on success). */
static int report(vstate *v, goaccel_verify_problem problem, const char *path, const char *detail,
                  int (*remove)(const char *path))
{
	goaccel_verify_event ev;
	uint64_t *counter = NULL;
	switch (problem) {
	case GOACCEL_VERIFY_CORRUPT_BLOB: counter = &v->r->corrupt_blobs; break;
	case GOACCEL_VERIFY_BAD_RECORD: counter = &v->r->bad_records; break;
	case GOACCEL_VERIFY_DANGLING_RECORD: counter = &v->r->dangling_records; break;
	case GOACCEL_VERIFY_DANGLING_REF: counter = &v->r->dangling_refs; break;
	case GOACCEL_VERIFY_TEMP_FILE: counter = &v->r->temp_files; break;
	case GOACCEL_VERIFY_STRAY: counter = &v->r->stray; break;
	}
	(*counter)++;
	v->r->problems++;
	ev.problem = problem;
	ev.path = path;
	ev.detail = detail;
	ev.repaired = 0;
	if (v->o->repair && remove && remove(path) == 0) {
		ev.repaired = 1;
		v->r->repaired++;
	} else if (!v->first[0]) {
		snprintf(v->first, sizeof(v->first), "%s: %s", path, detail);
	}
	if (v->o->callback && v->o->callback(&ev, v->o->payload) != 0)
		return ga_error(GOACCEL_EUSER, GOACCEL_ERROR_CALLBACK, "verify cancelled by its callback");
	return 0;
}

static int remove_file(const char *path)
{
	return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

static int remove_empty_dir(const char *path)
{
	return rmdir(path) == 0 || errno == ENOENT ? 0 : -1;
}

static int remove_tree(const char *path)
{
	int error = ga_rm_rf(path);
	if (error)
		goaccel_error_clear();
	return error;
}

/* ---- blobs --------------------------------------------------------------------------------- */

static int check_blob(const char *path, const char *hex, const struct stat *st, void *payload)
{
	vstate *v = payload;
	goaccel_digest want, got;
	int fd, error;
	(void)st;
	v->r->blobs++;
	if (goaccel_digest_parse(&want, hex) < 0)
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY)) < 0)
		return 0; /* removed meanwhile */
	error = ga_store_digest_fd(&got, NULL, fd, path);
	close(fd);
	if (error < 0)
		return error;
	if (goaccel_digest_cmp(&want, &got) == 0)
		return 0;
	{
		goaccel_store_counters c = {0};
		c.corrupt = 1;
		ga_stats_add(v->s, "", &c);
	}
	if (!v->o->repair) {
		if (v->nbad == v->capbad) {
			goaccel_digest *n = realloc(v->bad_blobs, (v->capbad = v->capbad ? v->capbad * 2 : 16) * sizeof(*n));
			if (!n)
				return ga_error_oom();
			v->bad_blobs = n;
		}
		v->bad_blobs[v->nbad++] = want;
	}
	return report(v, GOACCEL_VERIFY_CORRUPT_BLOB, path, "content does not match its digest",
	              remove_file);
}

static int blob_usable(vstate *v, const goaccel_digest *d, uint64_t size)
{
	char *p = ga_store_blob_path(v->s, d);
	struct stat st;
	size_t i;
	int ok;
	if (!p)
		return 0;
	ok = lstat(p, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == size;
	free(p);
	for (i = 0; ok && i < v->nbad; i++)
		if (goaccel_digest_cmp(&v->bad_blobs[i], d) == 0)
			ok = 0;
	return ok;
}

/* ---- records and refs ---------------------------------------------------------------------- */

static int check_action(const char *path, const char *hex, const struct stat *st, void *payload)
{
	vstate *v = payload;
	ga_buf b = GA_BUF_INIT;
	ga_record r;
	goaccel_digest key;
	size_t i;
	int error = 0;
	(void)st;
	v->r->actions++;
	goaccel_digest_parse(&key, hex);
	if ((error = ga_read_file(&b, path, GA_RECORD_MAX)) == GOACCEL_ENOTFOUND) {
		ga_buf_dispose(&b);
		return 0;
	}
	if (error < 0 || ga_record_parse(&r, b.ptr, b.size, &key, path) < 0) {
		char detail[600];
		snprintf(detail, sizeof(detail), "%s", goaccel_error_last()->message);
		ga_buf_dispose(&b);
		return report(v, GOACCEL_VERIFY_BAD_RECORD, path, detail, remove_file);
	}
	ga_buf_dispose(&b);
	for (i = 0; i < r.count; i++) {
		if (!blob_usable(v, &r.outputs[i].digest, r.outputs[i].size)) {
			char detail[GA_NAME_MAX + 128];
			snprintf(detail, sizeof(detail), "output %s: blob missing, damaged or of the wrong size",
			         r.outputs[i].name);
			error = report(v, GOACCEL_VERIFY_DANGLING_RECORD, path, detail, remove_file);
			break;
		}
	}
	ga_record_dispose(&r);
	return error;
}

static int check_ref(const char *path, const char *hex, const struct stat *st, void *payload)
{
	vstate *v = payload;
	ga_buf b = GA_BUF_INIT;
	goaccel_digest nd, blob;
	char *p;
	struct stat bst;
	int error;
	(void)st;
	v->r->refs++;
	goaccel_digest_parse(&nd, hex);
	if ((error = ga_read_file(&b, path, GA_RECORD_MAX)) == GOACCEL_ENOTFOUND) {
		ga_buf_dispose(&b);
		return 0;
	}
	if (error < 0 || ga_ref_parse(NULL, &blob, b.ptr, b.size, &nd, path) < 0) {
		char detail[600];
		snprintf(detail, sizeof(detail), "%s", goaccel_error_last()->message);
		ga_buf_dispose(&b);
		return report(v, GOACCEL_VERIFY_BAD_RECORD, path, detail, remove_file);
	}
	ga_buf_dispose(&b);
	if ((p = ga_store_blob_path(v->s, &blob)) == NULL)
		return GOACCEL_ERROR;
	error = 0;
	if (lstat(p, &bst) < 0 || !blob_usable(v, &blob, (uint64_t)bst.st_size))
		error = report(v, GOACCEL_VERIFY_DANGLING_REF, path, "its blob is missing or damaged",
		               remove_file);
	free(p);
	return error;
}

/* ---- names that do not belong -------------------------------------------------------------- */

/* Reports entries of a fan-out tree (dir/XX/<hex><suffix>) that do not fit its naming. */
static int check_fanout_names(vstate *v, const char *dir, const char *suffix)
{
	char *top = ga_store_sub(v->s, "%s", dir);
	DIR *d;
	struct dirent *de;
	int error = 0;
	size_t slen = strlen(suffix);
	if (!top)
		return GOACCEL_ERROR;
	if ((d = opendir(top)) == NULL) {
		free(top);
		return 0;
	}
	while (!error && (de = readdir(d)) != NULL) {
		char *sub = NULL;
		DIR *sd;
		struct dirent *fe;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((sub = ga_path_join(top, de->d_name)) == NULL) {
			error = GOACCEL_ERROR;
			break;
		}
		if (!strcmp(dir, "blobs") && !strcmp(de->d_name, "sha256")) {
			free(sub);
			continue;
		}
		if (strlen(de->d_name) != 2 || !ga_store_hex_ok(de->d_name, 2) || strcmp(dir, "blobs") == 0 ||
		    (sd = opendir(sub)) == NULL) {
			error = report(v, GOACCEL_VERIFY_STRAY, sub, "does not belong to the store layout",
			               remove_tree);
			free(sub);
			continue;
		}
		while (!error && (fe = readdir(sd)) != NULL) {
			size_t n = strlen(fe->d_name);
			struct stat st;
			char *fp;
			if (!strcmp(fe->d_name, ".") || !strcmp(fe->d_name, ".."))
				continue;
			if ((fp = ga_path_join(sub, fe->d_name)) == NULL) {
				error = GOACCEL_ERROR;
				break;
			}
			if (n != GOACCEL_DIGEST_HEXSIZE + slen || strcmp(fe->d_name + GOACCEL_DIGEST_HEXSIZE, suffix) ||
			    !ga_store_hex_ok(fe->d_name, GOACCEL_DIGEST_HEXSIZE) ||
			    strncmp(fe->d_name, de->d_name, 2) || lstat(fp, &st) < 0 || !S_ISREG(st.st_mode))
				error = report(v, GOACCEL_VERIFY_STRAY, fp, "does not belong to the store layout",
				               remove_tree);
			free(fp);
		}
		closedir(sd);
		free(sub);
	}
	closedir(d);
	free(top);
	return error;
}

/* 1 if the owner of tmp/<owner>.* still runs (holds its lock), else 0. */
static int owner_alive(vstate *v, const char *name)
{
	char owner[17];
	char *lock;
	int fd, alive = 0;
	if (strlen(name) < 17 || name[16] != '.' || !ga_store_hex_ok(name, 16))
		return 0;
	memcpy(owner, name, 16);
	owner[16] = '\0';
	if ((lock = ga_store_sub(v->s, "tmp/%s.lock", owner)) == NULL)
		return 1; /* be safe */
	if ((fd = open(lock, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0) {
		alive = flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
		close(fd);
	}
	free(lock);
	return alive;
}

static int check_tmp(vstate *v)
{
	char *top = ga_store_sub(v->s, "tmp");
	DIR *d;
	struct dirent *de;
	int error = 0;
	if (!top)
		return GOACCEL_ERROR;
	if ((d = opendir(top)) == NULL) {
		free(top);
		return 0;
	}
	while (!error && (de = readdir(d)) != NULL) {
		char *p;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (owner_alive(v, de->d_name))
			continue;
		if ((p = ga_path_join(top, de->d_name)) == NULL) {
			error = GOACCEL_ERROR;
			break;
		}
		error = report(v, GOACCEL_VERIFY_TEMP_FILE, p, "left by a process that is gone",
		               remove_tree);
		free(p);
	}
	closedir(d);
	free(top);
	return error;
}

/* A mount instance without a lock file (a PRIVATE claim interrupted before it took its lock). */
static int check_mount(const char *id, unsigned int instance, void *payload)
{
	vstate *v = payload;
	char *lock = ga_store_sub(v->s, "mounts/%s/%u/lock", id, instance);
	char *dir = ga_mount_instance_dir(v->s, id, instance);
	int error = 0;
	if (!lock || !dir)
		error = GOACCEL_ERROR;
	else if (!ga_exists(lock) && ga_exists(dir))
		/* only an empty one is removed: a process may be creating its lock now */
		error = report(v, GOACCEL_VERIFY_TEMP_FILE, dir,
		               "mount instance without a lock file (interrupted creation)",
		               remove_empty_dir);
	free(lock);
	free(dir);
	return error;
}

static int check_mounts(vstate *v)
{
	return ga_mount_foreach_instance(v->s, check_mount, v);
}

static int check_top(vstate *v)
{
	static const char *const known[] = {GA_STORE_MARKER, "blobs", "actions", "refs", "mounts",
	                                    "tmp", "stats.db", "stats.db-wal", "stats.db-shm",
	                                    "stats.db-journal", "gc.lock"};
	DIR *d = opendir(v->s->root);
	struct dirent *de;
	int error = 0;
	if (!d)
		return ga_error_os(GOACCEL_ERROR, errno, "%s: opendir", v->s->root);
	while (!error && (de = readdir(d)) != NULL) {
		size_t i;
		int ok = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
		for (i = 0; !ok && i < sizeof(known) / sizeof(known[0]); i++)
			ok = !strcmp(de->d_name, known[i]);
		if (!ok) {
			char *p = ga_path_join(v->s->root, de->d_name);
			if (!p) {
				error = GOACCEL_ERROR;
				break;
			}
			/* Not ours to delete: reported only. */
			error = report(v, GOACCEL_VERIFY_STRAY, p, "unknown entry in the store root", NULL);
			free(p);
		}
	}
	closedir(d);
	return error;
}

int goaccel_verify_options_init(goaccel_verify_options *opts, unsigned int version)
{
	GA_INIT_STRUCTURE(opts, version, goaccel_verify_options, GOACCEL_VERIFY_OPTIONS_INIT);
	return 0;
}

int goaccel_store_verify(goaccel_verify_result *out, goaccel_store *s, const goaccel_verify_options *opts)
{
	goaccel_verify_options o = GOACCEL_VERIFY_OPTIONS_INIT;
	goaccel_verify_result r;
	vstate v;
	int error, gc = -1;
	GA_ASSERT_ARG(s);
	GA_CHECK_VERSION(opts, GOACCEL_VERIFY_OPTIONS_VERSION, "goaccel_verify_options");
	if (opts)
		o = *opts;
	memset(&r, 0, sizeof(r));
	memset(&v, 0, sizeof(v));
	v.s = s;
	v.o = &o;
	v.r = &r;
	/* Shared GC lock: prune does not remove entries under us; puts and lookups go on. */
	if ((error = ga_store_gc_lock(&gc, s, 0)) < 0)
		goto done;
	if ((error = check_top(&v)) < 0 || (error = check_tmp(&v)) < 0 ||
	    (error = check_fanout_names(&v, "blobs", "")) < 0 ||
	    (error = check_fanout_names(&v, "blobs/sha256", "")) < 0 ||
	    (error = check_fanout_names(&v, "actions", ".json")) < 0 ||
	    (error = check_fanout_names(&v, "refs", ".json")) < 0 ||
	    (error = ga_store_walk_fanout(s, "blobs/sha256", "", check_blob, &v)) < 0 ||
	    (error = ga_store_walk_fanout(s, "actions", ".json", check_action, &v)) < 0 ||
	    (error = ga_store_walk_fanout(s, "refs", ".json", check_ref, &v)) < 0 ||
	    (error = check_mounts(&v)) < 0)
		goto done;
	if (r.problems > r.repaired)
		error = ga_error(GOACCEL_EMISMATCH, GOACCEL_ERROR_STORE,
		                 "store %s: %llu problem(s), e.g. %s", s->root,
		                 (unsigned long long)(r.problems - r.repaired), v.first);
done:
	ga_store_gc_unlock(gc);
	free(v.bad_blobs);
	if (out)
		*out = r;
	return error;
}
