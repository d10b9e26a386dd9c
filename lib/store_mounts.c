/* The on-disk layout of cache mounts and their lock protocol (docs/store.md, "Mounts").
 *
 *   mounts/<id>/<n>/lock   flock'ed: shared by SHARED holders, exclusive by LOCKED and PRIVATE
 *                          holders and by whoever removes the instance; its mtime is the last use
 *   mounts/<id>/<n>/data/  the directory handed to the holder
 *
 * Removing an instance unlinks its lock file while holding it exclusively. A process that was
 * waiting on the old lock file therefore checks, once it holds the lock, that the path still
 * names the file it locked, and starts over if not. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store_internal.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/strarray.h"

char *ga_mount_instance_dir(const goaccel_store *s, const char *id, unsigned int instance)
{
	return ga_store_sub(s, "mounts/%s/%u", id, instance);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* flock with a timeout: flock(2) cannot time out, so poll with a growing interval. */
static int flock_timeout(int fd, int exclusive, int64_t timeout_ms)
{
	int64_t deadline = ga_monotonic_ns() + timeout_ms * 1000000;
	long wait = 1;
	int op = (exclusive ? LOCK_EX : LOCK_SH);
	if (timeout_ms < 0) {
		while (flock(fd, op) < 0)
			if (errno != EINTR)
				return -errno;
		return 0;
	}
	for (;;) {
		if (flock(fd, op | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		if (ga_monotonic_ns() >= deadline)
			return -EWOULDBLOCK;
		sleep_ms(wait);
		if (wait < 50)
			wait *= 2;
	}
}

static int same_file(int fd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

int ga_mount_lock(int *fd_out, goaccel_store *s, const char *id, unsigned int instance,
                  int exclusive, int64_t timeout_ms, int create)
{
	char *dir = NULL, *lock = NULL, *data = NULL;
	int error = 0, attempt;
	int64_t start = ga_monotonic_ns();
	if ((dir = ga_mount_instance_dir(s, id, instance)) == NULL ||
	    (lock = ga_store_sub(s, "mounts/%s/%u/lock", id, instance)) == NULL ||
	    (data = ga_store_sub(s, "mounts/%s/%u/data", id, instance)) == NULL) {
		error = GOACCEL_ERROR;
		goto done;
	}
	for (attempt = 0;; attempt++) {
		int fd, rc;
		int64_t left = timeout_ms;
		if (create && (error = ga_mkdir_p(dir, 0700)) < 0) {
			/* A remover's rmdir of the (then empty) directory can race our mkdir -p:
			 * try again; a persistent failure (permissions) is reported. */
			if (attempt < 100)
				continue;
			goto done;
		}
		fd = open(lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);
		if (fd < 0) {
			if (errno == ENOENT && create && attempt < 1000)
				continue; /* removed between our mkdir and open: start over */
			error = errno == ENOENT ? ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_MOUNT,
			                                   "mount %s@%u does not exist", id, instance)
			                        : ga_error_os(GOACCEL_ERROR, errno, "%s: open", lock);
			goto done;
		}
		if (timeout_ms > 0) {
			left = timeout_ms - (ga_monotonic_ns() - start) / 1000000;
			if (left < 0)
				left = 0;
		}
		if ((rc = flock_timeout(fd, exclusive, left)) < 0) {
			close(fd);
			error = rc == -EWOULDBLOCK
			                ? ga_error(GOACCEL_ELOCKED, GOACCEL_ERROR_MOUNT,
			                           "mount %s@%u is busy (waited %lld ms)", id, instance,
			                           (long long)(timeout_ms < 0 ? 0 : timeout_ms))
			                : ga_error_os(GOACCEL_ERROR, -rc, "%s: flock", lock);
			goto done;
		}
		if (!same_file(fd, lock)) {
			close(fd); /* the instance was removed while we waited */
			if (!create) {
				error = ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_MOUNT,
				                 "mount %s@%u does not exist", id, instance);
				goto done;
			}
			if (attempt >= 1000) {
				error = ga_error(GOACCEL_ERROR, GOACCEL_ERROR_MOUNT,
				                 "mount %s@%u keeps being removed", id, instance);
				goto done;
			}
			continue;
		}
		if (mkdir(data, 0755) < 0 && errno != EEXIST) {
			error = ga_error_os(GOACCEL_ERROR, errno, "%s: mkdir", data);
			close(fd);
			goto done;
		}
		*fd_out = fd;
		break;
	}
done:
	free(dir);
	free(lock);
	free(data);
	return error;
}

int ga_mount_touch(int fd, const char *id)
{
	if (futimens(fd, NULL) < 0)
		return ga_error_os(GOACCEL_ERROR, errno, "mount %s: recording last use", id);
	return 0;
}

static int remove_all_but_lock(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int error = 0;
	if (!d)
		return errno == ENOENT ? 0 : ga_error_os(GOACCEL_ERROR, errno, "%s: opendir", dir);
	while (!error && (de = readdir(d)) != NULL) {
		char *sub;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !strcmp(de->d_name, "lock"))
			continue;
		if ((sub = ga_path_join(dir, de->d_name)) == NULL) {
			error = GOACCEL_ERROR;
			break;
		}
		error = ga_rm_rf(sub);
		free(sub);
	}
	closedir(d);
	return error;
}

int ga_mount_remove_locked(goaccel_store *s, const char *id, unsigned int instance, int fd)
{
	char *dir = ga_mount_instance_dir(s, id, instance), *data = NULL, *lock = NULL, *top = NULL;
	int error = 0;
	if (!dir || (data = ga_path_join(dir, "data")) == NULL ||
	    (lock = ga_path_join(dir, "lock")) == NULL || (top = ga_store_sub(s, "mounts/%s", id)) == NULL) {
		error = GOACCEL_ERROR;
		goto done;
	}
	if ((error = ga_rm_rf(data)) < 0)
		goto done;
	/* Anything else in the instance directory is not ours to keep; it goes while we still hold
	 * the lock, so no holder can be using it. */
	if ((error = remove_all_but_lock(dir)) < 0)
		goto done;
	/* The lock file goes while we hold it: waiters notice (same_file) and start over. */
	if (unlink(lock) < 0 && errno != ENOENT) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: unlink", lock);
		goto done;
	}
	/* From here on a new acquirer may already have recreated the lock and data in this
	 * directory: never remove recursively now. rmdir fails harmlessly (ENOTEMPTY) if so, and an
	 * acquirer that loses its directory to this rmdir starts over (ga_mount_lock). */
	rmdir(dir);
	rmdir(top); /* fails harmlessly while other instances (or a new acquirer) are there */
done:
	if (fd >= 0)
		close(fd);
	free(dir);
	free(data);
	free(lock);
	free(top);
	return error;
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;
	return x < y ? -1 : x > y;
}

static int parse_instance(const char *name, unsigned int *out)
{
	char *end;
	unsigned long v;
	if (!name[0] || (name[0] == '0' && name[1]) || name[0] < '0' || name[0] > '9')
		return 0;
	v = strtoul(name, &end, 10);
	if (*end || v > 1000000)
		return 0;
	*out = (unsigned int)v;
	return 1;
}

int ga_mount_instances(unsigned int **out, size_t *count, const goaccel_store *s, const char *id)
{
	char *top = ga_store_sub(s, "mounts/%s", id);
	DIR *d = NULL;
	struct dirent *de;
	unsigned int *arr = NULL, n;
	size_t cnt = 0, cap = 0;
	int error = 0;
	*out = NULL;
	*count = 0;
	if (!top)
		return GOACCEL_ERROR;
	if ((d = opendir(top)) == NULL) {
		error = errno == ENOENT ? 0 : ga_error_os(GOACCEL_ERROR, errno, "%s: opendir", top);
		goto done;
	}
	while ((de = readdir(d)) != NULL) {
		if (!parse_instance(de->d_name, &n))
			continue;
		if (cnt == cap) {
			unsigned int *na = realloc(arr, (cap = cap ? cap * 2 : 8) * sizeof(*arr));
			if (!na) {
				error = ga_error_oom();
				goto done;
			}
			arr = na;
		}
		arr[cnt++] = n;
	}
	if (cnt)
		qsort(arr, cnt, sizeof(*arr), cmp_uint);
	*out = arr;
	*count = cnt;
	arr = NULL;
done:
	if (d)
		closedir(d);
	free(arr);
	free(top);
	return error;
}

int ga_mount_foreach_instance(goaccel_store *s, ga_mount_instance_cb cb, void *payload)
{
	goaccel_strarray ids = {0};
	size_t i, j;
	int error;
	if ((error = ga_mount_ids(&ids, s)) < 0)
		return error;
	for (i = 0; !error && i < ids.count; i++) {
		unsigned int *inst = NULL;
		size_t n = 0;
		if ((error = ga_mount_instances(&inst, &n, s, ids.strings[i])) < 0)
			break;
		for (j = 0; !error && j < n; j++)
			error = cb(ids.strings[i], inst[j], payload);
		free(inst);
	}
	goaccel_strarray_dispose(&ids);
	return error;
}

int ga_mount_ids(goaccel_strarray *out, const goaccel_store *s)
{
	char *top = ga_store_sub(s, "mounts");
	DIR *d;
	struct dirent *de;
	int error = 0;
	memset(out, 0, sizeof(*out));
	if (!top)
		return GOACCEL_ERROR;
	if ((d = opendir(top)) == NULL) {
		error = errno == ENOENT ? 0 : ga_error_os(GOACCEL_ERROR, errno, "%s: opendir", top);
		free(top);
		return error;
	}
	while (!error && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || ga_store_valid_mount_id(de->d_name) < 0) {
			goaccel_error_clear();
			continue;
		}
		error = ga_strarray_add(out, de->d_name);
	}
	closedir(d);
	free(top);
	if (!error)
		ga_strarray_sort_unique(out);
	else
		goaccel_strarray_dispose(out);
	return error;
}

static int usage_at(uint64_t *bytes, uint64_t *files, int dirfd, const char *display, int depth)
{
	DIR *d;
	struct dirent *de;
	int fd, error = 0;
	if (depth > 4096)
		return ga_error(GOACCEL_ERROR, GOACCEL_ERROR_STORE, "%s: tree too deep", display);
	if ((fd = dup(dirfd)) < 0)
		return ga_error_os(GOACCEL_ERROR, errno, "%s: dup", display);
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return ga_error_os(GOACCEL_ERROR, errno, "%s: opendir", display);
	}
	while (!error && (de = readdir(d)) != NULL) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* removed meanwhile */
		(*files)++;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				continue; /* unreadable (0000) or gone: count what we can */
			error = usage_at(bytes, files, sub, display, depth + 1);
			close(sub);
		} else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
			*bytes += (uint64_t)st.st_size;
		}
	}
	closedir(d);
	return error;
}

int ga_tree_usage(uint64_t *bytes, uint64_t *files, const char *path)
{
	int fd, error;
	*bytes = 0;
	*files = 0;
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : ga_error_os(GOACCEL_ERROR, errno, "%s: open", path);
	error = usage_at(bytes, files, fd, path, 0);
	close(fd);
	return error;
}

int64_t ga_mount_last_used(const goaccel_store *s, const char *id, unsigned int instance)
{
	char *lock = ga_store_sub(s, "mounts/%s/%u/lock", id, instance);
	struct stat st;
	int64_t t = 0;
	if (lock && stat(lock, &st) == 0)
		t = ga_stat_mtime_ns(&st);
	free(lock);
	return t;
}
