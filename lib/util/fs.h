/* Internal: file-system helpers shared by the layers. All set the last error on failure and
 * name the path. */
#ifndef GOACCEL_UTIL_FS_H
#define GOACCEL_UTIL_FS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/buf.h"

/* Read size for streaming I/O. */
#define GA_IO_CHUNK (256 * 1024)

/* "a" + "/" + "b" into a new string (NULL and error on OOM). An empty a gives b. */
char *ga_path_join(const char *a, const char *b);

/* mkdir -p with the given mode for created directories. 0 or error. */
int ga_mkdir_p(const char *path, mode_t mode);

/* rm -rf that also removes read-only trees (Go's module cache: 0444 files, 0555 dirs) by
 * adding u+w to directories before descending. A missing path is success. Never follows
 * symlinks. */
int ga_rm_rf(const char *path);

/* Reads a whole file into buf (appending). GOACCEL_ENOTFOUND if missing. max_size 0 = no limit;
 * a larger file is GOACCEL_ELIMIT. */
int ga_read_file(ga_buf *buf, const char *path, size_t max_size);

/* Writes data to path atomically: a temporary file in the same directory, fsync (if sync),
 * rename over path. Readers see the old or the new content, never a mix. */
int ga_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, int sync);

/* Writes all of len bytes to fd, retrying on EINTR/short writes; path names it in errors. */
int ga_write_all(int fd, const void *data, size_t len, const char *path);

/* Copies a regular file: FICLONE reflink where the file system allows, else copy_file_range,
 * else read/write. dst is created with mode (exclusive if excl). */
int ga_copy_file(const char *src, const char *dst, mode_t mode, int excl);

/* A new temporary directory under $TMPDIR (or /tmp), named prefix-XXXXXX. Caller frees. */
int ga_mkdtemp(char **out, const char *prefix);

/* 1 if path exists (lstat), 0 if not. */
int ga_exists(const char *path);

/* Seconds + nanoseconds since the epoch, CLOCK_REALTIME / CLOCK_MONOTONIC. */
int64_t ga_now_ns(void);
int64_t ga_monotonic_ns(void);

#endif
