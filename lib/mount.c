/* Cache mounts: acquire/release with SHARED, LOCKED and PRIVATE sharing across processes
 * (goaccel/mount.h). The lock protocol lives in store_mounts.c, shared with prune and
 * export/import. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "store_internal.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/strarray.h"

struct goaccel_mount {
	goaccel_store *store;
	char *id;
	char *path;
	unsigned int instance;
	goaccel_mount_sharing sharing;
	int fd;
};

struct goaccel_mount_list {
	goaccel_mount_info *items;
	size_t count;
};

int goaccel_mount_options_init(goaccel_mount_options *opts, unsigned int version)
{
	GA_INIT_STRUCTURE(opts, version, goaccel_mount_options, GOACCEL_MOUNT_OPTIONS_INIT);
	return 0;
}

/* PRIVATE: the first idle instance (main first), else a new one. Never waits. */
static int acquire_private(int *fd_out, unsigned int *instance, goaccel_store *s, const char *id)
{
	unsigned int *list = NULL, next = 0;
	size_t n = 0, i;
	int error, tries;
	for (tries = 0; tries < 1000; tries++) {
		free(list);
		list = NULL;
		if ((error = ga_mount_instances(&list, &n, s, id)) < 0)
			goto done;
		/* the main instance is tried even when it does not exist yet (it is created) */
		error = ga_mount_lock(fd_out, s, id, 0, 1, 0, 1);
		if (error == 0) {
			*instance = 0;
			goto done;
		}
		if (error != GOACCEL_ELOCKED)
			goto done;
		next = 1;
		for (i = 0; i < n; i++) {
			if (list[i] == 0)
				continue;
			error = ga_mount_lock(fd_out, s, id, list[i], 1, 0, 0);
			if (error == 0) {
				*instance = list[i];
				goto done;
			}
			if (error != GOACCEL_ELOCKED && error != GOACCEL_ENOTFOUND)
				goto done;
			next = list[i] + 1;
		}
		/* Claim a new instance number by creating its directory exclusively. */
		{
			char *dir = ga_mount_instance_dir(s, id, next);
			int made, err;
			if (!dir) {
				error = GOACCEL_ERROR;
				goto done;
			}
			made = mkdir(dir, 0700) == 0;
			err = made ? 0 : errno;
			free(dir);
			/* ENOENT: a prune removed the mount's directory since the main instance was
			 * tried; the next round's lock of the main instance creates it again. */
			if (!made && (err == EEXIST || err == ENOENT))
				continue;
			if (!made) {
				error = ga_error_os(GOACCEL_ERROR, err, "mount %s@%u: mkdir", id, next);
				goto done;
			}
		}
		error = ga_mount_lock(fd_out, s, id, next, 1, 0, 1);
		if (error == 0) {
			*instance = next;
			goto done;
		}
		if (error != GOACCEL_ELOCKED)
			goto done;
	}
	error = ga_error(GOACCEL_ELOCKED, GOACCEL_ERROR_MOUNT, "mount %s: no private instance", id);
done:
	free(list);
	return error;
}

int goaccel_mount_acquire(goaccel_mount **out, goaccel_store *s, const char *id,
                          goaccel_mount_sharing sharing, const goaccel_mount_options *opts)
{
	goaccel_mount_options o = GOACCEL_MOUNT_OPTIONS_INIT;
	goaccel_mount *m = NULL;
	int fd = -1, error;
	unsigned int instance = 0;
	GA_ASSERT_ARG(out && s);
	*out = NULL;
	GA_CHECK_VERSION(opts, GOACCEL_MOUNT_OPTIONS_VERSION, "goaccel_mount_options");
	if (opts)
		o = *opts;
	if ((error = ga_store_valid_mount_id(id)) < 0)
		return error;
	switch (sharing) {
	case GOACCEL_MOUNT_SHARED:
		error = ga_mount_lock(&fd, s, id, 0, 0, o.timeout_ms, 1);
		break;
	case GOACCEL_MOUNT_LOCKED:
		error = ga_mount_lock(&fd, s, id, 0, 1, o.timeout_ms, 1);
		break;
	case GOACCEL_MOUNT_PRIVATE:
		error = acquire_private(&fd, &instance, s, id);
		break;
	default:
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_MOUNT, "mount %s: unknown sharing %d",
		                id, (int)sharing);
	}
	if (error < 0)
		return error;
	ga_mount_touch(fd, id);
	if ((m = calloc(1, sizeof(*m))) == NULL || (m->id = strdup(id)) == NULL ||
	    (m->path = ga_store_sub(s, "mounts/%s/%u/data", id, instance)) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	m->store = s;
	m->instance = instance;
	m->sharing = sharing;
	m->fd = fd;
	fd = -1;
	*out = m;
	m = NULL;
done:
	if (m) {
		free(m->id);
		free(m->path);
		free(m);
	}
	if (fd >= 0)
		close(fd);
	return error;
}

const char *goaccel_mount_path(const goaccel_mount *m)
{
	return m ? m->path : NULL;
}

const char *goaccel_mount_id(const goaccel_mount *m)
{
	return m ? m->id : NULL;
}

unsigned int goaccel_mount_instance(const goaccel_mount *m)
{
	return m ? m->instance : 0;
}

goaccel_mount_sharing goaccel_mount_sharing_of(const goaccel_mount *m)
{
	return m ? m->sharing : GOACCEL_MOUNT_SHARED;
}

int goaccel_mount_release(goaccel_mount *m)
{
	int error;
	if (!m)
		return 0;
	error = ga_mount_touch(m->fd, m->id);
	close(m->fd);
	free(m->id);
	free(m->path);
	free(m);
	return error;
}

/* ---- listing and removal ------------------------------------------------------------------- */

static int in_use(goaccel_store *s, const char *id, unsigned int instance)
{
	char *lock = ga_store_sub(s, "mounts/%s/%u/lock", id, instance);
	int fd, busy = 0;
	if (!lock)
		return 0;
	if ((fd = open(lock, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0) {
		/* An exclusive probe conflicts with every holder, shared or exclusive. */
		if (flock(fd, LOCK_EX | LOCK_NB) < 0)
			busy = errno == EWOULDBLOCK;
		close(fd);
	}
	free(lock);
	return busy;
}

typedef struct {
	goaccel_store *s;
	goaccel_mount_list *l;
	size_t cap;
	int with_sizes;
} list_walk;

static int list_instance(const char *id, unsigned int instance, void *payload)
{
	list_walk *w = payload;
	goaccel_mount_list *l = w->l;
	goaccel_mount_info *mi;
	if (l->count == w->cap) {
		goaccel_mount_info *na = realloc(l->items, (w->cap = w->cap ? w->cap * 2 : 8) * sizeof(*na));
		if (!na)
			return ga_error_oom();
		l->items = na;
	}
	mi = &l->items[l->count];
	memset(mi, 0, sizeof(*mi));
	if ((mi->id = strdup(id)) == NULL ||
	    (mi->path = ga_store_sub(w->s, "mounts/%s/%u/data", id, instance)) == NULL) {
		free((char *)mi->id);
		return ga_error_oom();
	}
	l->count++;
	mi->instance = instance;
	mi->last_used_ns = ga_mount_last_used(w->s, mi->id, mi->instance);
	mi->in_use = in_use(w->s, mi->id, mi->instance);
	return w->with_sizes ? ga_tree_usage(&mi->bytes, &mi->files, mi->path) : 0;
}

int goaccel_mount_list_get(goaccel_mount_list **out, goaccel_store *s, int with_sizes)
{
	list_walk w;
	int error;
	GA_ASSERT_ARG(out && s);
	*out = NULL;
	memset(&w, 0, sizeof(w));
	w.s = s;
	w.with_sizes = with_sizes;
	if ((w.l = calloc(1, sizeof(*w.l))) == NULL)
		return ga_error_oom();
	if ((error = ga_mount_foreach_instance(s, list_instance, &w)) < 0) {
		goaccel_mount_list_free(w.l);
		return error;
	}
	*out = w.l;
	return 0;
}

size_t goaccel_mount_list_count(const goaccel_mount_list *l)
{
	return l ? l->count : 0;
}

const goaccel_mount_info *goaccel_mount_list_byindex(const goaccel_mount_list *l, size_t i)
{
	return l && i < l->count ? &l->items[i] : NULL;
}

void goaccel_mount_list_free(goaccel_mount_list *l)
{
	size_t i;
	if (!l)
		return;
	for (i = 0; i < l->count; i++) {
		free((char *)l->items[i].id);
		free((char *)l->items[i].path);
	}
	free(l->items);
	free(l);
}

int goaccel_mount_remove(goaccel_store *s, const char *id, int64_t timeout_ms)
{
	unsigned int *inst = NULL;
	size_t n = 0, i;
	int error, busy = 0;
	GA_ASSERT_ARG(s);
	if ((error = ga_store_valid_mount_id(id)) < 0)
		return error;
	if ((error = ga_mount_instances(&inst, &n, s, id)) < 0)
		return error;
	if (n == 0) {
		error = ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_MOUNT, "no mount named %s", id);
		goto done;
	}
	for (i = 0; i < n; i++) {
		int fd;
		error = ga_mount_lock(&fd, s, id, inst[i], 1, timeout_ms, 0);
		if (error == GOACCEL_ELOCKED) {
			busy = 1;
			continue;
		}
		if (error == GOACCEL_ENOTFOUND)
			continue;
		if (error < 0 || (error = ga_mount_remove_locked(s, id, inst[i], fd)) < 0)
			goto done;
	}
	error = busy ? ga_error(GOACCEL_ELOCKED, GOACCEL_ERROR_MOUNT,
	                        "mount %s: an instance is still in use", id)
	             : 0;
done:
	free(inst);
	return error;
}
