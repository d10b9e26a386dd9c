#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

#include "util/err.h"
#include "util/fs.h"

char *ga_path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p;
	int slash;
	if (la == 0) {
		if ((p = strdup(b)) == NULL)
			ga_error_oom();
		return p;
	}
	slash = a[la - 1] != '/';
	if ((p = malloc(la + slash + lb + 1)) == NULL) {
		ga_error_oom();
		return NULL;
	}
	memcpy(p, a, la);
	if (slash)
		p[la] = '/';
	memcpy(p + la + slash, b, lb + 1);
	return p;
}

int ga_mkdir_p(const char *path, mode_t mode)
{
	char *tmp;
	size_t i, len;
	int error = 0;
	struct stat st;
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		return ga_error(GOACCEL_EEXISTS, GOACCEL_ERROR_OS, "%s: exists and is not a directory",
		                path);
	}
	if ((tmp = strdup(path)) == NULL)
		return ga_error_oom();
	len = strlen(tmp);
	for (i = 1; i <= len; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST) {
			error = ga_error_os(GOACCEL_ERROR, errno, "%s: mkdir", tmp);
			break;
		}
		if (i < len)
			tmp[i] = '/';
	}
	if (!error && (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)))
		error = ga_error(GOACCEL_ERROR, GOACCEL_ERROR_OS, "%s: not a directory after mkdir",
		                 path);
	free(tmp);
	return error;
}

static int rm_rf_at(int parent, const char *name, const char *display)
{
	struct stat st;
	int fd, error = 0;
	DIR *dir;
	struct dirent *de;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : ga_error_os(GOACCEL_ERROR, errno, "%s: stat", display);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(parent, name, 0) < 0 && errno != ENOENT)
			return ga_error_os(GOACCEL_ERROR, errno, "%s: unlink", display);
		return 0;
	}
	/* Read-only directories (Go's module cache) must be made writable to empty them. */
	if ((st.st_mode & 0700) != 0700)
		fchmodat(parent, name, (st.st_mode & 07777) | 0700, 0);
	if ((fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return ga_error_os(GOACCEL_ERROR, errno, "%s: open", display);
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return ga_error_os(GOACCEL_ERROR, errno, "%s: opendir", display);
	}
	while (!error && (de = readdir(dir)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		error = rm_rf_at(dirfd(dir), de->d_name, display);
	}
	closedir(dir);
	if (!error && unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: rmdir", display);
	return error;
}

int ga_rm_rf(const char *path)
{
	return rm_rf_at(AT_FDCWD, path, path);
}

int ga_read_file(ga_buf *buf, const char *path, size_t max_size)
{
	int fd, error = 0;
	struct stat st;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return ga_error_os(0, errno, "%s: open", path);
	if (fstat(fd, &st) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: stat", path);
		goto done;
	}
	if (S_ISDIR(st.st_mode)) {
		error = ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_OS, "%s: is a directory", path);
		goto done;
	}
	for (;;) {
		ssize_t n;
		if ((error = ga_buf_grow(buf, 65536)) < 0)
			goto done;
		n = read(fd, buf->ptr + buf->size, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error = ga_error_os(GOACCEL_ERROR, errno, "%s: read", path);
			goto done;
		}
		if (n == 0)
			break;
		buf->size += (size_t)n;
		buf->ptr[buf->size] = '\0';
		if (max_size && buf->size > max_size) {
			error = ga_error(GOACCEL_ELIMIT, GOACCEL_ERROR_OS,
			                 "%s: larger than the limit of %zu bytes", path, max_size);
			goto done;
		}
	}
done:
	close(fd);
	return error;
}

int ga_write_all(int fd, const void *data, size_t len, const char *path)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ga_error_os(GOACCEL_ERROR, errno, "%s: write", path);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ga_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, int sync)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 16);
	int fd = -1, error = 0;
	if (!tmp)
		return ga_error_oom();
	snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: creating temporary file", tmp);
		goto done;
	}
	if ((error = ga_write_all(fd, data, len, tmp)) < 0)
		goto done;
	if (fchmod(fd, mode) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: chmod", tmp);
		goto done;
	}
	if (sync && fsync(fd) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: fsync", tmp);
		goto done;
	}
	if (close(fd) < 0) {
		fd = -1;
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: close", tmp);
		goto done;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: rename into place", path);
done:
	if (fd >= 0)
		close(fd);
	if (error)
		unlink(tmp);
	free(tmp);
	return error;
}

int ga_copy_file(const char *src, const char *dst, mode_t mode, int excl)
{
	int in = -1, out = -1, error = 0;
	struct stat st;
	char *buf = NULL;
	if ((in = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return ga_error_os(0, errno, "%s: open", src);
	if (fstat(in, &st) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: stat", src);
		goto done;
	}
	out = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC | (excl ? O_EXCL : O_TRUNC), mode);
	if (out < 0) {
		error = ga_error_os(0, errno, "%s: create", dst);
		goto done;
	}
	if (ioctl(out, FICLONE, in) == 0)
		goto chmod;
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n == 0)
			goto chmod;
		if (n < 0)
			break; /* EXDEV, ENOSYS, EINVAL: fall back to read/write from where we are */
	}
	if ((buf = malloc(GA_IO_CHUNK)) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	for (;;) {
		ssize_t n = read(in, buf, GA_IO_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error = ga_error_os(GOACCEL_ERROR, errno, "%s: read", src);
			goto done;
		}
		if (n == 0)
			break;
		if ((error = ga_write_all(out, buf, (size_t)n, dst)) < 0)
			goto done;
	}
chmod:
	if (fchmod(out, mode) < 0)
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: chmod", dst);
done:
	free(buf);
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0 && !error)
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: close", dst);
	return error;
}

int ga_mkdtemp(char **out, const char *prefix)
{
	const char *tmpdir = getenv("TMPDIR");
	ga_buf b = GA_BUF_INIT;
	if (!tmpdir || !*tmpdir)
		tmpdir = "/tmp";
	if (ga_buf_printf(&b, "%s/%s-XXXXXX", tmpdir, prefix) < 0)
		return GOACCEL_ERROR;
	if (mkdtemp(b.ptr) == NULL) {
		int e = errno;
		ga_buf_dispose(&b);
		return ga_error_os(GOACCEL_ERROR, e, "%s/%s-XXXXXX: mkdtemp", tmpdir, prefix);
	}
	*out = ga_buf_detach(&b);
	return 0;
}

int ga_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

int64_t ga_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t ga_monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
