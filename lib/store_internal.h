/* Internal: the store's handle and the helpers its files (store*.c) and the mount layer share.
 * The on-disk layout these implement is specified in docs/store.md. */
#ifndef GOACCEL_STORE_INTERNAL_H
#define GOACCEL_STORE_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "goaccel/store.h"
#include "goaccel/mount.h"
#include "util/buf.h"

#define GA_STORE_FORMAT "goaccel-store"
#define GA_STORE_VERSION 1
#define GA_STORE_MARKER "goaccel-store.json"
#define GA_RECORD_VERSION 1
#define GA_RECORD_MAX (16u * 1024 * 1024) /* largest action record or ref file we read */
#define GA_KIND_MAX 64
#define GA_MOUNT_ID_MAX 128
#define GA_NAME_MAX 4096 /* an output or mount path */
#define GA_REF_NAME_MAX 1024
/* Actions with at most this many outputs keep their blobs open from lookup to restore. */
#define GA_ACTION_KEEP_FDS 64

struct sqlite3;

struct goaccel_store {
	char *root;
	int fsync;
	pthread_mutex_t lock; /* guards owner_fd/owner and db */
	int owner_fd;         /* flock'ed tmp/<owner>.lock, -1 until the first temporary file */
	char owner[17];
	uint64_t seq; /* temporary names, atomic */
	struct sqlite3 *db;
	int db_failed;
	int verify_cache;
};

/* ---- paths (all return a new string or NULL with the error set) */
char *ga_store_sub(const goaccel_store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *ga_store_blob_path(const goaccel_store *s, const goaccel_digest *d);
char *ga_store_action_path(const goaccel_store *s, const goaccel_digest *key);
char *ga_store_ref_path(const goaccel_store *s, const goaccel_digest *name_digest);

/* ---- validation */
int ga_store_valid_kind(const char *kind);
int ga_store_valid_mount_id(const char *id);
/* A relative '/'-separated path with no empty, "." or ".." component; 0 or GOACCEL_EINVALID
 * naming what (the caller's message prefix is what). */
int ga_store_valid_relpath(const char *path, const char *what);
int ga_store_hex_ok(const char *s, size_t len);

/* ---- temporary files: tmp/<owner>.<seq>[suffix], owned by a flock'ed tmp/<owner>.lock so
 * verify can tell a live writer's file from a dead one's. */
int ga_store_tmp_file(char **path_out, int *fd_out, goaccel_store *s);
int ga_store_tmp_dir(char **path_out, goaccel_store *s);
/* renameat that atomically replaces newname without ext4's forced writeback (RENAME_EXCHANGE
 * + unlink when newname exists); -1 with errno on failure. */
int ga_rename_replace(int olddir, const char *oldname, int newdir, const char *newname);
/* Renames tmp to final, creating final's parent directory if needed (fan-out directories). */
int ga_store_install(goaccel_store *s, const char *tmp, const char *final);
/* Finishes a temporary file of the store: read-only (0444), synced if the store asks, closed
 * (always), renamed to final with ga_store_install(); on failure tmp is removed. */
int ga_store_tmp_commit(goaccel_store *s, int fd, const char *tmp, const char *final);
/* Writes data to final through a temporary file and ga_store_tmp_commit(). */
int ga_store_write_file(goaccel_store *s, const char *final, const void *data, size_t len);
/* fsync fd if the store asks for it. */
int ga_store_maybe_sync(goaccel_store *s, int fd, const char *path);

/* ---- blobs */
/* Streams from fd (until EOF) into a new blob, hashing what is written. */
int ga_store_blob_put_fd(goaccel_digest *out, uint64_t *size_out, goaccel_store *s, int fd,
                         const char *display);
/* Opens a blob and verifies it. On a mismatch the blob is removed (if it is still the file we
 * read), counted as corrupt under kind, and GOACCEL_ECORRUPT returned. */
int ga_store_blob_open_verified(int *fd_out, uint64_t *size_out, goaccel_store *s,
                                const goaccel_digest *d, const char *kind);
/* The same; with peek set nothing is written: a mismatch is reported (GOACCEL_ECORRUPT) but
 * neither removed nor counted, and no verify_cache stamp is recorded. */
int ga_store_blob_open_checked(int *fd_out, uint64_t *size_out, goaccel_store *s,
                               const goaccel_digest *d, const char *kind, int peek);
/* Destination files are written as dirfd/.goaccel-<12 hex>.tmp, then renamed into place. */
#define GA_TMP_NAME_MAX 40
/* Creates such a temporary file (mode 0600, exclusive, open for reading and writing); its name
 * goes to name. */
int ga_store_tmp_at(int *fd_out, char *name, size_t name_size, int dirfd, const char *display);
/* Copies size bytes of in to out: FICLONE first unless no_reflink (*cloned = 1 then; cloned may
 * be NULL), else copy_file_range, else read/write. */
int ga_store_copy_content(int in, uint64_t size, int out, int no_reflink, int *cloned,
                          const char *display);
/* Sets out's mode, closes it (always) and moves dirfd/tmp to dirfd/name: replacing it, or with
 * excl by link + unlink (fails if name exists). On failure tmp is removed. */
int ga_store_tmp_finish(int out, int dirfd, const char *tmp, const char *name, unsigned int mode,
                        int excl, const char *display);
/* Copies from a verified blob fd into dirfd/name (tmp + rename, or + link when excl), reflink
 * first unless no_reflink. display names the destination in errors. */
int ga_store_copy_fd_at(int in, uint64_t size, int dirfd, const char *name, const char *display,
                        unsigned int mode, int excl, int no_reflink);
/* Digests everything readable from fd from offset 0 (pread). */
int ga_store_digest_fd(goaccel_digest *out, uint64_t *size_out, int fd, const char *display);
/* Unlinks path only if it is still the inode fd refers to. */
void ga_store_unlink_if_same(const char *path, int fd);

/* ---- action records (store_action.c) */
typedef struct {
	char *name;
	unsigned int mode;
	uint64_t size;
	goaccel_digest digest;
} ga_record_output;

typedef struct {
	goaccel_digest key;
	char kind[GA_KIND_MAX + 1];
	int64_t created_ns;
	int64_t duration_ns;
	char *info;
	ga_record_output *outputs;
	size_t count;
} ga_record;

/* Parses and validates a record (the key inside must equal expect_key if given). */
int ga_record_parse(ga_record *out, const char *data, size_t len, const goaccel_digest *expect_key,
                    const char *display);
void ga_record_dispose(ga_record *r);

/* Reads and parses the record file of key at path; *fd_out keeps it open (to unlink it only if
 * it is still this one, or to mark it used), even on a parse error; *mtime its last use. */
int ga_action_read_record(ga_record *r, int *fd_out, int64_t *mtime, goaccel_store *s,
                          const goaccel_digest *key, const char *path);
/* Reports an unusable record as a miss (GOACCEL_ENOTFOUND, "action <hex> is unusable: <the
 * current error>"); unless s is NULL (a peek), also removes the record file if path still names
 * recfd's file, and counts a miss (and a corrupt entry if corrupt) under kind (NULL: ""). */
int ga_action_unusable(goaccel_store *s, const char *path, int recfd, const char *kind,
                       int corrupt, const char *hex);
/* Wraps a record into a new action, taking rec's contents (rec is zeroed) and fds (an array of
 * rec->count verified blob fds, or NULL). */
int ga_action_adopt(goaccel_action **out, goaccel_store *s, ga_record *rec, int64_t last_used_ns,
                    int *fds);

/* Ref file: {"version":1,"name":...,"digest":...}; checks the file name digest matches. */
int ga_ref_parse(char **name_out, goaccel_digest *digest_out, const char *data, size_t len,
                 const goaccel_digest *expect_name_digest, const char *display);
int ga_ref_encode(ga_buf *out, const char *name, const goaccel_digest *blob);

/* ---- stats (store_stats.c) */
int ga_stats_add(goaccel_store *s, const char *kind, const goaccel_store_counters *delta);
void ga_stats_close(goaccel_store *s);
/* Verification stamps (verify_cache): 1 if st matches the stamp of a whole-blob hash of d. */
int ga_stamp_matches(goaccel_store *s, const goaccel_digest *d, const struct stat *st);
void ga_stamp_record(goaccel_store *s, const goaccel_digest *d, const struct stat *st);

/* ---- the GC lock: puts hold it shared, prune's collection exclusive */
int ga_store_gc_lock(int *fd_out, goaccel_store *s, int exclusive);
void ga_store_gc_unlock(int fd);

/* ---- mount layout and lock protocol (store_mounts.c), shared with the mount layer */
char *ga_mount_instance_dir(const goaccel_store *s, const char *id, unsigned int instance);
/* Takes the instance lock (exclusive or shared) waiting up to timeout_ms (-1 forever, 0 try
 * once), creating the instance when create is set; the data directory exists on success.
 * GOACCEL_ELOCKED on timeout; GOACCEL_ENOTFOUND if !create and the instance does not exist. */
int ga_mount_lock(int *fd_out, goaccel_store *s, const char *id, unsigned int instance,
                  int exclusive, int64_t timeout_ms, int create);
/* Marks the instance used now (the lock file's mtime). */
int ga_mount_touch(int fd, const char *id);
/* Removes an instance whose lock fd is held exclusively (closes fd). */
int ga_mount_remove_locked(goaccel_store *s, const char *id, unsigned int instance, int fd);
/* Lists the instance numbers of a mount id, sorted. *out malloc'd. */
int ga_mount_instances(unsigned int **out, size_t *count, const goaccel_store *s, const char *id);
/* Lists mount ids (sorted). */
int ga_mount_ids(goaccel_strarray *out, const goaccel_store *s);
/* Calls cb for every instance of every mount (ids sorted, then instances); stops at the first
 * error cb returns. */
typedef int (*ga_mount_instance_cb)(const char *id, unsigned int instance, void *payload);
int ga_mount_foreach_instance(goaccel_store *s, ga_mount_instance_cb cb, void *payload);
/* Apparent bytes and entry count of a tree (not following symlinks). */
int ga_tree_usage(uint64_t *bytes, uint64_t *files, const char *path);
/* Last use of an instance (lock file mtime) in ns; 0 if unknown. */
int64_t ga_mount_last_used(const goaccel_store *s, const char *id, unsigned int instance);

/* ---- safe paths inside a directory (no symlink is followed) */
/* Opens (creating with mode when mkdir_mode != 0) every directory of rel's parent inside the
 * directory dirfd, never following a symlink; *parent_fd and *base (pointer into rel) on
 * success. GOACCEL_EUNSAFE when a component is a symlink or not a directory. */
int ga_open_parent_nofollow(int *parent_fd, const char **base, int dirfd, const char *rel,
                            mode_t mkdir_mode, const char *display);
/* The same; with created non-NULL, each directory it makes is appended to it (its path relative
 * to dirfd), in creation order. */
int ga_open_parent_nofollow_ex(int *parent_fd, const char **base, int dirfd, const char *rel,
                               mode_t mkdir_mode, const char *display, goaccel_strarray *created);

int64_t ga_stat_mtime_ns(const struct stat *st);

/* Calls cb for every regular file dir/XX/<64 hex><suffix> (dir relative to the root); other
 * names are skipped here (verify reports them). */
typedef int (*ga_fanout_cb)(const char *path, const char *hex, const struct stat *st, void *payload);
int ga_store_walk_fanout(goaccel_store *s, const char *dir, const char *suffix, ga_fanout_cb cb,
                         void *payload);

#endif
