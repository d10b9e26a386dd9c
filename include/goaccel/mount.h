/*
 * libgoaccel — cache mounts.
 *
 * A cache mount is a named directory inside a store ("gomod" for GOMODCACHE, "gobuild" for
 * GOCACHE, or any id) that builds keep across runs, like BuildKit's
 * `RUN --mount=type=cache,id=...,sharing=...`. Unlike BuildKit's, the sharing rules hold across
 * processes: they are enforced with flock(2) (the lock Go uses in its own module cache), so a
 * holder that dies, even by kill -9, releases its mount.
 *
 *   SHARED   many holders at once (Go's caches are safe for concurrent use). Waits while an
 *            exclusive holder (LOCKED, or PRIVATE on the main instance) has the mount.
 *   LOCKED   one holder; others wait up to the timeout, then get GOACCEL_ELOCKED.
 *   PRIVATE  a holder of its own: the main instance if it is idle, else an idle extra instance
 *            ("<id>@<n>"), else a new empty one. Never waits.
 *
 * Every mount records its last use (acquire and release), and goaccel_mount_list() reports
 * each instance's size and whether it is in use. Prune (goaccel/store.h) never touches a mount
 * that is held.
 *
 * Lock descriptors are close-on-exec, so child processes started with exec (go, cc) do not hold
 * the mount. A child forked without exec shares its parent's locks (flock semantics) until it
 * exits or closes them. The layout and lock protocol are specified in docs/store.md.
 */
#ifndef INCLUDE_goaccel_mount_h__
#define INCLUDE_goaccel_mount_h__

#include "common.h"
#include "store.h"

GOACCEL_BEGIN_DECL

/** A held cache mount. Opaque; one thread at a time; released with goaccel_mount_release(). */
typedef struct goaccel_mount goaccel_mount;

/** How a mount is shared between holders (BuildKit's sharing=shared|private|locked). */
typedef enum {
	GOACCEL_MOUNT_SHARED = 0,
	GOACCEL_MOUNT_PRIVATE = 1,
	GOACCEL_MOUNT_LOCKED = 2,
} goaccel_mount_sharing;

/** Options for goaccel_mount_acquire(). */
typedef struct {
	unsigned int version; /**< GOACCEL_MOUNT_OPTIONS_VERSION */
	/** How long SHARED and LOCKED wait for a conflicting holder (ms): 0 not at all, -1 forever.
	 *  Default 10 minutes. */
	int64_t timeout_ms;
} goaccel_mount_options;

#define GOACCEL_MOUNT_OPTIONS_VERSION 1
#define GOACCEL_MOUNT_OPTIONS_INIT {GOACCEL_MOUNT_OPTIONS_VERSION, 600000}

/** Initialises mount options to defaults. @return 0, GOACCEL_EINVALID, GOACCEL_EVERSION. */
GOACCEL_EXTERN(int) goaccel_mount_options_init(goaccel_mount_options *opts, unsigned int version);

/**
 * Acquires the mount named id in store, creating it (empty) if it does not exist.
 *
 * @param out      receives the mount; release it with goaccel_mount_release(). It refers to
 *                 store, which must outlive it.
 * @param id       [A-Za-z0-9._-], 1 to 128 characters, not starting with '.'
 * @param sharing  see goaccel_mount_sharing
 * @param opts     NULL for defaults
 * @return 0; GOACCEL_ELOCKED (the timeout passed); GOACCEL_EINVALID (bad id or sharing);
 *         GOACCEL_EVERSION; GOACCEL_ERROR (I/O). Thread-safe (each call holds its own lock,
 *         so two LOCKED acquisitions in one process also exclude each other).
 */
GOACCEL_EXTERN(int) goaccel_mount_acquire(goaccel_mount **out, goaccel_store *store,
                                          const char *id, goaccel_mount_sharing sharing,
                                          const goaccel_mount_options *opts);

/** The directory to use (absolute). Borrowed from the mount; valid until it is released. */
GOACCEL_EXTERN(const char *) goaccel_mount_path(const goaccel_mount *mount);

/** The mount's id. Borrowed. */
GOACCEL_EXTERN(const char *) goaccel_mount_id(const goaccel_mount *mount);

/** The instance: 0 for the main one, n > 0 for an extra PRIVATE instance. */
GOACCEL_EXTERN(unsigned int) goaccel_mount_instance(const goaccel_mount *mount);

/** The sharing the mount was acquired with. */
GOACCEL_EXTERN(goaccel_mount_sharing) goaccel_mount_sharing_of(const goaccel_mount *mount);

/**
 * Records the last use, releases the lock and frees the mount. NULL is a no-op.
 * @return 0, or GOACCEL_ERROR if the last-use time could not be recorded (the mount is
 *         released and freed all the same).
 */
GOACCEL_EXTERN(int) goaccel_mount_release(goaccel_mount *mount);

/** One mount instance, as listed by goaccel_mount_list(). */
typedef struct {
	const char *id;        /**< the mount id (borrowed from the list) */
	unsigned int instance; /**< 0 main, n > 0 extra PRIVATE instance */
	const char *path;      /**< its directory (borrowed from the list) */
	uint64_t bytes;        /**< apparent size of its files (0 unless sizes were asked for) */
	uint64_t files;        /**< files, directories and symlinks in it (idem) */
	int64_t last_used_ns;  /**< last acquire or release, ns since the epoch */
	int in_use;            /**< 1 if some process holds it right now */
} goaccel_mount_info;

/** A list of mount instances. Opaque; free with goaccel_mount_list_free(). */
typedef struct goaccel_mount_list goaccel_mount_list;

/**
 * Lists the mount instances of a store, sorted by id then instance.
 * @param with_sizes  non-zero: walk each instance to measure it (slower on big caches)
 * @return 0, GOACCEL_EINVALID, GOACCEL_ERROR. Thread-safe.
 */
GOACCEL_EXTERN(int) goaccel_mount_list_get(goaccel_mount_list **out, goaccel_store *store,
                                           int with_sizes);
/** Number of instances in the list. */
GOACCEL_EXTERN(size_t) goaccel_mount_list_count(const goaccel_mount_list *list);
/** Instance i, or NULL when out of range. Borrowed from the list. */
GOACCEL_EXTERN(const goaccel_mount_info *) goaccel_mount_list_byindex(const goaccel_mount_list *list,
                                                                      size_t i);
/** Frees a list. NULL is a no-op. */
GOACCEL_EXTERN(void) goaccel_mount_list_free(goaccel_mount_list *list);

/**
 * Removes a mount (every instance of it), waiting up to timeout_ms (-1 forever) for holders.
 * Read-only trees (Go's module cache) are removed too. Thread-safe.
 * @return 0; GOACCEL_ENOTFOUND; GOACCEL_ELOCKED (still held after the timeout; instances that
 *         were idle are removed); GOACCEL_EINVALID; GOACCEL_ERROR.
 */
GOACCEL_EXTERN(int) goaccel_mount_remove(goaccel_store *store, const char *id, int64_t timeout_ms);

GOACCEL_END_DECL

#endif
