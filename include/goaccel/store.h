/*
 * libgoaccel — the cache store.
 *
 * A store is a directory (the "root") shared by every process of one user that builds Go code:
 *
 *   - blobs: content-addressed files (SHA-256), written to a temporary file and renamed into
 *     place, verified on every read. A blob whose bytes no longer match its name is never
 *     served: it is removed and counted as corrupt (and the lookup that met it is a miss).
 *   - action records: a step key (a digest computed by the key layer) mapped to the outputs the
 *     step produced (relative name, mode, size, blob digest) and metadata (kind, created, last
 *     used, how long the step took). A record whose blobs are gone or corrupt is a miss.
 *   - named refs: small name -> blob pointers ("the previous build of this target"), used by the
 *     build layer to explain a miss.
 *   - cache mounts (goaccel/mount.h): named directories that builds share.
 *   - persistent statistics (hits, misses, corrupt entries, bytes restored, time saved), per
 *     store and per step kind, correct when many processes use the store at once.
 *
 * Everything here is safe to use from many processes at once, and a store handle may be used
 * from several threads at once. A process killed at any moment (kill -9) leaves the store valid:
 * nothing half-written is ever visible. The on-disk layout is specified in docs/store.md.
 *
 * Simple API first: open, action put/lookup/restore (goaccel_store_action_fetch does lookup and
 * restore in one pass; goaccel_store_action_lookup_ext can peek without counting), listing
 * action records, refs, stats. Maintenance (prune, verify, export/import) follows.
 */
#ifndef INCLUDE_goaccel_store_h__
#define INCLUDE_goaccel_store_h__

#include "common.h"
#include "digest.h"

GOACCEL_BEGIN_DECL

/** An open store. Opaque; thread-safe; free with goaccel_store_free(). */
typedef struct goaccel_store goaccel_store;

/** An action record read from a store. Opaque; one thread at a time; goaccel_action_free(). */
typedef struct goaccel_action goaccel_action;

/* ---------------------------------------------------------------------------------------------
 * Opening a store
 */

/** Options for goaccel_store_open(). */
typedef struct {
	unsigned int version; /**< GOACCEL_STORE_OPTIONS_VERSION */
	/** Non-zero: fail with GOACCEL_ENOTFOUND instead of creating a missing store. */
	int no_create;
	/**
	 * Non-zero: fsync blobs, records and refs before they are renamed into place, so they also
	 * survive a power loss (not only a killed process, which never loses data). Default 0, like
	 * Go's own build cache: a blob damaged by a power loss fails verification and is a miss.
	 */
	int fsync;
	/**
	 * Non-zero: a blob read again is rehashed only if its inode changed (device, inode, size,
	 * mtime or ctime differ from when it was last hashed whole); the stamps live in the
	 * statistics database. Any write, truncation or replacement of a blob changes its ctime, so
	 * tampering through the file system is still caught; what is not caught is damage below the
	 * file system (bit rot, a power loss without fsync). goaccel_store_verify() always rehashes.
	 * Default 0: every read hashes the whole blob.
	 */
	int verify_cache;
} goaccel_store_options;

#define GOACCEL_STORE_OPTIONS_VERSION 1
#define GOACCEL_STORE_OPTIONS_INIT {GOACCEL_STORE_OPTIONS_VERSION, 0, 0, 0}

/**
 * Initialises an options struct to its defaults (for bindings that cannot use the macro).
 * @return 0, GOACCEL_EINVALID (NULL opts) or GOACCEL_EVERSION (unknown version).
 */
GOACCEL_EXTERN(int) goaccel_store_options_init(goaccel_store_options *opts, unsigned int version);

/**
 * Writes the default store root into *out: $GOACCEL_CACHE if set and non-empty, else
 * $XDG_CACHE_HOME/goaccel if XDG_CACHE_HOME is an absolute path, else $HOME/.cache/goaccel.
 * The caller owns *out (goaccel_free()). Thread-safe.
 * @return 0; GOACCEL_ENOTFOUND when none of the variables is usable (no HOME);
 *         GOACCEL_ERROR when out of memory.
 */
GOACCEL_EXTERN(int) goaccel_store_default_root(char **out);

/**
 * Opens (and unless no_create, creates) the store at root.
 *
 * A new root is created with mode 0700 (its missing parents too); an existing root keeps its
 * mode. The layout version is checked: a store written by an incompatible format version is
 * refused rather than misread.
 *
 * @param out   receives the handle; the caller owns it (goaccel_store_free())
 * @param root  the store directory, or NULL for goaccel_store_default_root()
 * @param opts  NULL for defaults
 * @return 0; GOACCEL_ENOTFOUND (no root and no_create, or no default root); GOACCEL_EVERSION
 *         (another layout version, or unknown opts version); GOACCEL_EINVALID (root exists and
 *         is not a directory, or is a non-empty directory that is not a store);
 *         GOACCEL_ERROR (I/O). The message names the path.
 */
GOACCEL_EXTERN(int) goaccel_store_open(goaccel_store **out, const char *root,
                                       const goaccel_store_options *opts);

/** Closes a store handle. NULL is a no-op. Objects read from it (actions) must be freed first. */
GOACCEL_EXTERN(void) goaccel_store_free(goaccel_store *store);

/** The absolute root directory of the store. Borrowed from the handle; never NULL. */
GOACCEL_EXTERN(const char *) goaccel_store_path(const goaccel_store *store);

/* ---------------------------------------------------------------------------------------------
 * Blobs
 */

/**
 * Copies a regular file into the store as a blob. The digest is computed from the bytes written
 * to the store, so a file that changes while it is read still yields a blob that matches its
 * name. Putting a blob that exists replaces it by the fresh copy (which also repairs a damaged
 * one). Thread-safe.
 * @return 0; GOACCEL_ENOTFOUND (no such file); GOACCEL_EINVALID (not a regular file);
 *         GOACCEL_ERROR (I/O).
 */
GOACCEL_EXTERN(int) goaccel_store_blob_put_file(goaccel_digest *out, goaccel_store *store,
                                                const char *path);

/** Stores a buffer as a blob. Thread-safe. @return 0, GOACCEL_EINVALID, GOACCEL_ERROR. */
GOACCEL_EXTERN(int) goaccel_store_blob_put_buffer(goaccel_digest *out, goaccel_store *store,
                                                  const void *data, size_t len);

/**
 * Reads a whole blob into memory and verifies it. *data (NUL-terminated for convenience, the
 * NUL not counted in *len) belongs to the caller: goaccel_free(). Thread-safe.
 * @param max_size  0 for no limit; a larger blob gives GOACCEL_ELIMIT
 * @return 0; GOACCEL_ENOTFOUND (no such blob); GOACCEL_ECORRUPT (its bytes do not match its
 *         digest: it has been removed and counted as corrupt); GOACCEL_ELIMIT; GOACCEL_ERROR.
 */
GOACCEL_EXTERN(int) goaccel_store_blob_get(void **data, size_t *len, goaccel_store *store,
                                           const goaccel_digest *digest, size_t max_size);

/**
 * Copies a blob to dest (replacing it atomically), verified, by reflink where the file system
 * allows it and a copy otherwise, with the given permission bits (masked with 0777).
 * Thread-safe. @return as goaccel_store_blob_get(), without GOACCEL_ELIMIT.
 */
GOACCEL_EXTERN(int) goaccel_store_blob_copy(goaccel_store *store, const goaccel_digest *digest,
                                            const char *dest, unsigned int mode);

/**
 * The path where a blob lives (whether or not it exists). Reading it directly skips
 * verification; prefer goaccel_store_blob_get/_copy. *out belongs to the caller (goaccel_free()).
 * @return 0, GOACCEL_EINVALID, GOACCEL_ERROR (out of memory).
 */
GOACCEL_EXTERN(int) goaccel_store_blob_path(char **out, const goaccel_store *store,
                                            const goaccel_digest *digest);

/** 1 if the blob exists (not verified), 0 if not, negative on a bad argument. */
GOACCEL_EXTERN(int) goaccel_store_blob_exists(goaccel_store *store, const goaccel_digest *digest);

/* ---------------------------------------------------------------------------------------------
 * Action records
 */

/** One output to record with goaccel_store_action_put(). */
typedef struct {
	/** Relative '/'-separated name: no leading '/', no "." or ".." component, no empty one. */
	const char *name;
	/** The regular file to copy into the store; NULL to take data/size instead. */
	const char *path;
	/** Permission bits to restore (masked with 0777), or -1 for the source file's own. */
	int mode;
	const void *data; /**< the bytes when path is NULL */
	size_t size;      /**< their length when path is NULL */
} goaccel_action_output;

/** Metadata recorded with an action. */
typedef struct {
	unsigned int version; /**< GOACCEL_ACTION_META_VERSION */
	int64_t duration_ns;  /**< how long the step took: a later hit counts this as time saved */
	/** Free-form UTF-8 text (e.g. a JSON document) stored with the record; NULL for none. */
	const char *info;
	int64_t created_ns;   /**< creation time (ns since the epoch); 0 for now */
} goaccel_action_meta;

#define GOACCEL_ACTION_META_VERSION 1
#define GOACCEL_ACTION_META_INIT {GOACCEL_ACTION_META_VERSION, 0, NULL, 0}

/** Initialises a meta struct to its defaults. @return 0, GOACCEL_EINVALID, GOACCEL_EVERSION. */
GOACCEL_EXTERN(int) goaccel_action_meta_init(goaccel_action_meta *meta, unsigned int version);

/** An output of a recorded action, as returned by goaccel_action_output_byindex(). */
typedef struct {
	const char *name;      /**< relative name (borrowed from the action) */
	unsigned int mode;     /**< permission bits (0777 at most) */
	uint64_t size;         /**< bytes */
	goaccel_digest digest; /**< the blob holding the content */
} goaccel_action_output_info;

/**
 * Records the outputs of a step under its key, replacing an earlier record of the same key.
 *
 * Each output is copied into the store as a blob first; the record becomes visible atomically
 * once every blob is in place, so a concurrent lookup sees the old record, or the new one with
 * all its blobs. Also counts a put (and the bytes stored) in the statistics of kind.
 * Thread-safe.
 *
 * @param kind     the step kind ("gomod", "gobuild", ...): [A-Za-z0-9._-], 1 to 64 characters
 * @param outputs  n outputs (n may be 0); names must be distinct
 * @param meta     NULL for no metadata
 * @return 0; GOACCEL_EINVALID (a bad name, kind or duplicate, naming it); GOACCEL_ENOTFOUND
 *         (an output's file is missing); GOACCEL_ERROR (I/O).
 */
GOACCEL_EXTERN(int) goaccel_store_action_put(goaccel_store *store, const goaccel_digest *key,
                                             const char *kind, const goaccel_action_output *outputs,
                                             size_t n, const goaccel_action_meta *meta);

/**
 * Looks a step key up.
 *
 * A hit means the record exists, parses, and every output blob exists and matches its digest
 * (each blob is read and verified here, so a later restore cannot meet a damaged blob). A hit
 * marks the record as used now (for prune's LRU order) and adds one hit and the step's recorded
 * duration (time saved) to the statistics; a miss adds one miss; a damaged blob or record is
 * removed and also counted as corrupt. Statistics are counted under kind, or under the record's
 * own kind when kind is NULL (a miss with a NULL kind is counted under kind "").
 * The action keeps the output blobs open, so a concurrent prune cannot take them away before
 * goaccel_action_restore(). Thread-safe.
 *
 * @param out  receives the action; the caller owns it (goaccel_action_free()). It refers to
 *             store, which must outlive it.
 * @return 0 (hit); GOACCEL_ENOTFOUND (miss, including a dangling or corrupt record);
 *         GOACCEL_EINVALID; GOACCEL_ERROR (I/O).
 */
GOACCEL_EXTERN(int) goaccel_store_action_lookup(goaccel_action **out, goaccel_store *store,
                                                const char *kind, const goaccel_digest *key);

/** goaccel_lookup_options.flags: no statistics, last-used untouched, nothing removed: a damaged
 *  entry is only reported as a miss. For dry runs and explanations (goaccel explain). */
#define GOACCEL_LOOKUP_PEEK (1u << 0) /* no statistics, last-used untouched, nothing removed: a damaged entry is only reported as a miss */

/** Options for goaccel_store_action_lookup_ext(). */
typedef struct {
	unsigned int version; /**< GOACCEL_LOOKUP_OPTIONS_VERSION */
	unsigned int flags;   /**< GOACCEL_LOOKUP_* bits; 0 for an ordinary lookup */
} goaccel_lookup_options;

#define GOACCEL_LOOKUP_OPTIONS_VERSION 1
#define GOACCEL_LOOKUP_OPTIONS_INIT {GOACCEL_LOOKUP_OPTIONS_VERSION, 0}

/** Initialises lookup options to defaults. @return 0, GOACCEL_EINVALID, GOACCEL_EVERSION. */
GOACCEL_EXTERN(int) goaccel_lookup_options_init(goaccel_lookup_options *opts, unsigned int version);

/**
 * goaccel_store_action_lookup() with options. NULL opts is exactly goaccel_store_action_lookup().
 *
 * With GOACCEL_LOOKUP_PEEK the answer is the same (a hit needs the record and every output blob
 * to exist and match its digest, each blob being rehashed), but nothing is written: no hit, miss
 * or corrupt is counted, the record's last-used time stays as it was, and a damaged record or
 * blob is left where it is (it is only reported as a miss; the next ordinary lookup or verify
 * removes it). Thread-safe.
 *
 * @return as goaccel_store_action_lookup(); also GOACCEL_EVERSION (unknown opts version) and
 *         GOACCEL_EINVALID (unknown flag bits).
 */
GOACCEL_EXTERN(int) goaccel_store_action_lookup_ext(goaccel_action **out, goaccel_store *store,
                                                    const char *kind, const goaccel_digest *key,
                                                    const goaccel_lookup_options *opts);

/** Options for goaccel_action_restore(). */
typedef struct {
	unsigned int version; /**< GOACCEL_RESTORE_OPTIONS_VERSION */
	/** Non-zero: fail with GOACCEL_EEXISTS when an output already exists in dest_dir. */
	int no_overwrite;
	/** Non-zero: always copy bytes, never reflink (for measuring; the result is the same). */
	int no_reflink;
} goaccel_restore_options;

#define GOACCEL_RESTORE_OPTIONS_VERSION 1
#define GOACCEL_RESTORE_OPTIONS_INIT {GOACCEL_RESTORE_OPTIONS_VERSION, 0, 0}

/** Initialises restore options to defaults. @return 0, GOACCEL_EINVALID, GOACCEL_EVERSION. */
GOACCEL_EXTERN(int) goaccel_restore_options_init(goaccel_restore_options *opts, unsigned int version);

/**
 * Writes the action's outputs under dest_dir (created if missing), each with its recorded mode,
 * by reflink (FICLONE) where the file system allows it and a copy otherwise. Each file appears
 * atomically (temporary file + rename); missing parent directories are created 0755; a symlink
 * on the way inside dest_dir is refused (GOACCEL_EUNSAFE) rather than followed. Adds the bytes
 * restored to the statistics. Not thread-safe for one action object.
 * @return 0; GOACCEL_EEXISTS (no_overwrite and an output exists); GOACCEL_EUNSAFE;
 *         GOACCEL_ERROR (I/O). The message names the output.
 */
GOACCEL_EXTERN(int) goaccel_action_restore(goaccel_action *action, const char *dest_dir,
                                           const goaccel_restore_options *opts);

/**
 * Looks key up and restores its outputs into dest_dir in one pass: each blob is hashed while it
 * is copied (on a second thread for a large blob, which hashes the restored file's bytes while
 * the first copies them in), and a restored file is renamed into place only after its digest
 * matched — so a damaged blob never reaches dest_dir, and the whole blob is read once instead of
 * twice (lookup's verification, then restore's copy).
 *
 * A hit counts as goaccel_store_action_lookup() does (one hit, the time saved, last used now)
 * plus the bytes restored, as goaccel_action_restore() does. Every output is written to a
 * temporary file next to its final name first; only when all of them matched are they renamed
 * into place (in name order), so on a miss nothing new is left in dest_dir (directories this
 * call created are removed again). A blob that does not match is removed, counted corrupt, the
 * record is removed as lookup removes a dangling one, and the call returns GOACCEL_ENOTFOUND.
 * dest_dir is created (0755, with its parents) if missing; other semantics (modes, reflink,
 * no_overwrite, symlinks on the way refused) are goaccel_action_restore()'s.
 * With the store's verify_cache option, a blob whose stamp still matches is copied unhashed.
 * Thread-safe.
 *
 * @param out   receives the action (the caller owns it: goaccel_action_free()), as lookup
 *              gives it; NULL when the caller only wants the files
 * @param kind  the step kind to count under, or NULL for the record's own
 * @param opts  restore options; NULL for defaults
 * @return 0 (hit, files restored); GOACCEL_ENOTFOUND (miss: absent, dangling or corrupt);
 *         GOACCEL_EEXISTS (no_overwrite and an output exists; nothing restored, not counted);
 *         GOACCEL_EUNSAFE; GOACCEL_EINVALID; GOACCEL_EVERSION; GOACCEL_ERROR (I/O: nothing new
 *         is left in dest_dir).
 */
GOACCEL_EXTERN(int) goaccel_store_action_fetch(goaccel_action **out, goaccel_store *store,
                                               const char *kind, const goaccel_digest *key,
                                               const char *dest_dir,
                                               const goaccel_restore_options *opts);

/** The key of the action. Borrowed. */
GOACCEL_EXTERN(const goaccel_digest *) goaccel_action_key(const goaccel_action *action);
/** The step kind recorded with the action. Borrowed; never NULL. */
GOACCEL_EXTERN(const char *) goaccel_action_kind(const goaccel_action *action);
/** Number of outputs. */
GOACCEL_EXTERN(size_t) goaccel_action_output_count(const goaccel_action *action);
/** Output i (0-based, in name order), or NULL when out of range. Borrowed from the action. */
GOACCEL_EXTERN(const goaccel_action_output_info *) goaccel_action_output_byindex(
	const goaccel_action *action, size_t i);
/** When the record was created (ns since the epoch). */
GOACCEL_EXTERN(int64_t) goaccel_action_created(const goaccel_action *action);
/** When the record was used before this lookup (ns since the epoch). */
GOACCEL_EXTERN(int64_t) goaccel_action_last_used(const goaccel_action *action);
/** How long the step took when it ran (ns). */
GOACCEL_EXTERN(int64_t) goaccel_action_duration(const goaccel_action *action);
/** The free-form info stored with the record, or NULL. Borrowed. */
GOACCEL_EXTERN(const char *) goaccel_action_info(const goaccel_action *action);
/** Frees an action (closing the blobs it holds open). NULL is a no-op. */
GOACCEL_EXTERN(void) goaccel_action_free(goaccel_action *action);

/**
 * Removes the record of key (its blobs stay until prune collects them). Thread-safe.
 * @return 0, GOACCEL_ENOTFOUND, GOACCEL_EINVALID, GOACCEL_ERROR.
 */
GOACCEL_EXTERN(int) goaccel_store_action_remove(goaccel_store *store, const goaccel_digest *key);

/* ---------------------------------------------------------------------------------------------
 * Listing action records
 */

/** One action record, as listed by goaccel_store_action_list_get(). */
typedef struct {
	goaccel_digest key;   /**< the step key */
	const char *kind;     /**< the step kind (borrowed from the list) */
	int64_t created_ns;   /**< when the record was written (ns since the epoch) */
	int64_t last_used_ns; /**< its last hit, or its creation if it never had one */
	int64_t duration_ns;  /**< how long the step took when it ran */
	const char *info;     /**< the free-form info stored with it, or NULL (borrowed) */
	size_t output_count;  /**< number of outputs */
	/** The outputs, in name order (output_count of them; borrowed from the list). */
	const goaccel_action_output_info *outputs;
	uint64_t total_size;   /**< the sum of the outputs' sizes */
	uint64_t record_bytes; /**< the record file's own size */
} goaccel_action_entry;

/** A list of action records. Opaque; one thread at a time; goaccel_action_list_free(). */
typedef struct goaccel_action_list goaccel_action_list;

/** The order of a goaccel_action_list. */
typedef enum {
	GOACCEL_ACTION_SORT_KEY = 0,       /**< by key (bytewise) */
	GOACCEL_ACTION_SORT_LAST_USED = 1, /**< least recently used first (prune's order), then key */
} goaccel_action_sort;

/** Options for goaccel_store_action_list_get(). */
typedef struct {
	unsigned int version;     /**< GOACCEL_ACTION_LIST_OPTIONS_VERSION */
	const char *kind;         /**< only records of this step kind; NULL for all */
	/** fnmatch(3) glob on "<kind>/<key hex>" (as prune and export match actions); NULL for all. */
	const char *glob;
	goaccel_action_sort sort; /**< default GOACCEL_ACTION_SORT_KEY */
} goaccel_action_list_options;

#define GOACCEL_ACTION_LIST_OPTIONS_VERSION 1
#define GOACCEL_ACTION_LIST_OPTIONS_INIT \
	{GOACCEL_ACTION_LIST_OPTIONS_VERSION, NULL, NULL, GOACCEL_ACTION_SORT_KEY}

/** Initialises list options to defaults. @return 0, GOACCEL_EINVALID, GOACCEL_EVERSION. */
GOACCEL_EXTERN(int) goaccel_action_list_options_init(goaccel_action_list_options *opts,
                                                     unsigned int version);

/**
 * Lists the store's action records: a snapshot read from the records alone, so it is cheap
 * (blobs are neither read nor checked: a listed record may still be a miss if a blob is gone or
 * damaged; goaccel_store_verify() checks that). Nothing is counted and no last-used time is
 * changed. A record that cannot be read or parsed is skipped (and counted in
 * goaccel_action_list_skipped()); records put or removed while the listing runs may or may not
 * appear. Thread-safe.
 *
 * @param out   receives the list; the caller owns it (goaccel_action_list_free())
 * @param opts  NULL for defaults (every record, by key)
 * @return 0; GOACCEL_EINVALID (a bad kind or sort); GOACCEL_EVERSION; GOACCEL_ERROR (I/O).
 */
GOACCEL_EXTERN(int) goaccel_store_action_list_get(goaccel_action_list **out, goaccel_store *store,
                                                  const goaccel_action_list_options *opts);
/** Number of records in the list. */
GOACCEL_EXTERN(size_t) goaccel_action_list_count(const goaccel_action_list *list);
/** Record i (0-based, in the list's order), or NULL when out of range. Borrowed from the list. */
GOACCEL_EXTERN(const goaccel_action_entry *) goaccel_action_list_byindex(
	const goaccel_action_list *list, size_t i);
/** Records that were skipped because they could not be read or parsed. */
GOACCEL_EXTERN(size_t) goaccel_action_list_skipped(const goaccel_action_list *list);
/** Frees a list. NULL is a no-op. */
GOACCEL_EXTERN(void) goaccel_action_list_free(goaccel_action_list *list);

/* ---------------------------------------------------------------------------------------------
 * Named refs: name -> blob ("the previous build of this target", for explaining misses).
 * A ref keeps its blob alive through prune's garbage collection.
 */

/**
 * Points name at blob, atomically replacing the previous value. name is any UTF-8 string of 1 to
 * 1024 bytes. The blob must be in the store (put it first with goaccel_store_blob_put_*); from
 * then on the ref keeps it from being collected. A blob put less than prune's grace period ago
 * (10 minutes by default) cannot have been collected yet. Thread-safe.
 * @return 0; GOACCEL_ENOTFOUND (the blob is not in the store); GOACCEL_EINVALID; GOACCEL_ERROR.
 */
GOACCEL_EXTERN(int) goaccel_store_ref_set(goaccel_store *store, const char *name,
                                          const goaccel_digest *blob);

/**
 * Reads a ref. Thread-safe.
 * @return 0; GOACCEL_ENOTFOUND (no such ref); GOACCEL_ECORRUPT (unreadable ref file, which
 *         is removed); GOACCEL_EINVALID; GOACCEL_ERROR.
 */
GOACCEL_EXTERN(int) goaccel_store_ref_get(goaccel_digest *out, goaccel_store *store,
                                          const char *name);

/**
 * Reads a ref like goaccel_store_ref_get(); with GOACCEL_LOOKUP_PEEK in opts->flags it changes
 * nothing: the ref's last-use time stays, and an unreadable ref is reported (GOACCEL_ECORRUPT)
 * but not removed. NULL opts = goaccel_store_ref_get(). Thread-safe.
 * @return as goaccel_store_ref_get(); also GOACCEL_EVERSION, and GOACCEL_EINVALID for unknown
 *         flags.
 */
GOACCEL_EXTERN(int) goaccel_store_ref_get_ext(goaccel_digest *out, goaccel_store *store,
                                              const char *name, const goaccel_lookup_options *opts);

/** Removes a ref. Thread-safe. @return 0, GOACCEL_ENOTFOUND, GOACCEL_EINVALID, GOACCEL_ERROR. */
GOACCEL_EXTERN(int) goaccel_store_ref_remove(goaccel_store *store, const char *name);

/** A ref, as reported by goaccel_store_ref_foreach(). */
typedef struct {
	const char *name;     /**< the ref's name (borrowed for the duration of the callback) */
	goaccel_digest blob;  /**< the blob it points at */
	int64_t last_used_ns; /**< when it was last set or read (ns since the epoch) */
} goaccel_ref_entry;

/** Called for each ref; non-zero stops goaccel_store_ref_foreach(), which returns GOACCEL_EUSER. */
typedef int (*goaccel_ref_cb)(const goaccel_ref_entry *ref, void *payload);

/**
 * Calls cb for every readable ref, in no particular order, without reading or touching
 * anything else (no last-used time changes; an unreadable ref file is skipped: verify reports
 * it). Refs set or removed meanwhile may or may not be seen. Thread-safe.
 * @return 0; GOACCEL_EUSER (cb stopped it); GOACCEL_EINVALID; GOACCEL_ERROR (I/O).
 */
GOACCEL_EXTERN(int) goaccel_store_ref_foreach(goaccel_store *store, goaccel_ref_cb cb, void *payload);

/* ---------------------------------------------------------------------------------------------
 * Statistics: persistent counters, per store and per step kind.
 */

/** Counters for one step kind (or the sum over all kinds). */
typedef struct {
	uint64_t hits;           /**< lookups that found a valid record */
	uint64_t misses;         /**< lookups that did not (absent, dangling or corrupt) */
	uint64_t corrupt;        /**< damaged blobs or records met and removed */
	uint64_t bytes_restored; /**< bytes written by goaccel_action_restore() */
	uint64_t time_saved_ns;  /**< sum of the recorded step durations of the hits */
	uint64_t puts;           /**< records written by goaccel_store_action_put() */
	uint64_t bytes_put;      /**< output bytes recorded by those puts */
} goaccel_store_counters;

/**
 * Reads the counters of kind, or their sum over all kinds when kind is NULL. A kind never seen
 * gives zeroes. Thread-safe; consistent even while other processes update them.
 * @return 0, GOACCEL_EINVALID, GOACCEL_ERROR (the statistics database failed).
 */
GOACCEL_EXTERN(int) goaccel_store_stats(goaccel_store_counters *out, goaccel_store *store,
                                        const char *kind);

/**
 * Adds delta to the counters of kind (for callers that account for work done outside
 * lookup/restore/put). Atomic with respect to other processes. Thread-safe.
 * @return 0, GOACCEL_EINVALID, GOACCEL_ERROR.
 */
GOACCEL_EXTERN(int) goaccel_store_stats_add(goaccel_store *store, const char *kind,
                                            const goaccel_store_counters *delta);

/**
 * The statistics as JSON: {"version":1,"total":{counters},"kinds":{"<kind>":{counters},...}}
 * where counters has the fields of goaccel_store_counters under the same names (the hit rate
 * too, as "hit_rate", a number in [0,1] or null). With with_usage non-zero, also "usage":
 * {goaccel_store_usage fields}. *out belongs to the caller (goaccel_free()). Thread-safe.
 * @return 0, GOACCEL_EINVALID, GOACCEL_ERROR.
 */
GOACCEL_EXTERN(int) goaccel_store_stats_json(char **out, goaccel_store *store, int with_usage);

/**
 * The step kinds that have counters (anything counted under them since the last reset), sorted
 * bytewise. Misses of lookups made without a kind are counted under the kind "" (listed too).
 * The caller owns *out (goaccel_strarray_dispose()). Thread-safe.
 * @return 0, GOACCEL_EINVALID, GOACCEL_ERROR (the statistics database failed).
 */
GOACCEL_EXTERN(int) goaccel_store_stats_kinds(goaccel_strarray *out, goaccel_store *store);

/** Sets every counter back to zero. Thread-safe. @return 0, GOACCEL_EINVALID, GOACCEL_ERROR. */
GOACCEL_EXTERN(int) goaccel_store_stats_reset(goaccel_store *store);

/** What the store holds (apparent sizes: the bytes of the files). */
typedef struct {
	uint64_t blobs, blob_bytes;
	uint64_t actions, action_bytes; /**< records and their own bytes (not their blobs') */
	uint64_t refs;
	uint64_t mounts, mount_bytes;   /**< mount instances and the bytes of their files */
	uint64_t total_bytes;           /**< blob_bytes + action_bytes + ref_bytes + mount_bytes */
	uint64_t ref_bytes;             /**< the ref files' own bytes */
} goaccel_store_usage;

/** Measures the store by walking it. Thread-safe. @return 0, GOACCEL_EINVALID, GOACCEL_ERROR. */
GOACCEL_EXTERN(int) goaccel_store_usage_get(goaccel_store_usage *out, goaccel_store *store);

/* ---------------------------------------------------------------------------------------------
 * Prune
 */

/** What an entry reported by prune, verify or export is. */
typedef enum {
	GOACCEL_ENTRY_BLOB = 1,
	GOACCEL_ENTRY_ACTION = 2,
	GOACCEL_ENTRY_MOUNT = 4,
	GOACCEL_ENTRY_REF = 8,
	GOACCEL_ENTRY_TEMP = 16,
} goaccel_entry_kind;

/** An entry prune removes (or would remove, in a dry run). */
typedef struct {
	goaccel_entry_kind kind;
	/** blob: the digest hex; action: "<kind>/<key hex>"; mount: "<id>" or "<id>@<instance>";
	 *  ref: the ref name. Borrowed for the duration of the callback. */
	const char *id;
	uint64_t bytes;       /**< bytes freed (for an action: its record and the blobs only it used) */
	int64_t last_used_ns; /**< ns since the epoch */
	const char *reason;   /**< "unreferenced", "expired" or "size" */
} goaccel_prune_event;

/** Called for each entry removed; non-zero stops prune, which returns GOACCEL_EUSER. */
typedef int (*goaccel_prune_cb)(const goaccel_prune_event *event, void *payload);

/** Options for goaccel_store_prune(). */
typedef struct {
	unsigned int version; /**< GOACCEL_PRUNE_OPTIONS_VERSION */
	/** Keep the store's total bytes at or below this, removing least recently used entries
	 *  first; 0 for no size limit. */
	uint64_t max_bytes;
	/** Remove entries not used for longer than this (ns); 0 for no age limit. */
	int64_t keep_duration_ns;
	/** A mask of goaccel_entry_kind that prune may remove (BLOB means collecting unreferenced
	 *  blobs); 0 for all of blob, action, mount and ref. */
	unsigned int kinds;
	/** fnmatch(3) glob on the entry id (see goaccel_prune_event); NULL for all. */
	const char *id_glob;
	/** Non-zero: remove nothing, report what would go and how many bytes. */
	int dry_run;
	/** Unreferenced blobs younger than this (ns) are kept, so a blob just put for a ref that is
	 *  about to be set survives. Default 10 minutes; -1 for none. */
	int64_t blob_grace_ns;
	goaccel_prune_cb callback;
	void *payload;
} goaccel_prune_options;

#define GOACCEL_PRUNE_OPTIONS_VERSION 1
#define GOACCEL_PRUNE_OPTIONS_INIT \
	{GOACCEL_PRUNE_OPTIONS_VERSION, 0, 0, 0, NULL, 0, INT64_C(600000000000), NULL, NULL}

/** Initialises prune options to defaults. @return 0, GOACCEL_EINVALID, GOACCEL_EVERSION. */
GOACCEL_EXTERN(int) goaccel_prune_options_init(goaccel_prune_options *opts, unsigned int version);

/** What prune removed (or would remove). */
typedef struct {
	uint64_t blobs, actions, mounts, refs; /**< entries removed */
	uint64_t bytes_freed;
	uint64_t bytes_before, bytes_after;    /**< the store's total bytes */
	uint64_t mounts_in_use;                /**< mounts skipped because a holder had them */
} goaccel_prune_result;

/**
 * Removes entries by the policy in opts: first unreferenced blobs (past the grace period), then
 * entries unused for longer than keep_duration, then, while the store is larger than max_bytes,
 * the least recently used actions, mounts and refs; the blobs only they used go with them.
 * A mount instance that any process holds is never touched; read-only trees (Go's module cache)
 * are removed too. Safe against concurrent puts, lookups and mount acquisitions.
 * @param out  receives what was (or would be) removed; may be NULL
 * @param opts NULL: defaults, which only collect unreferenced blobs
 * @return 0; GOACCEL_EUSER (callback stopped it); GOACCEL_EINVALID; GOACCEL_EVERSION;
 *         GOACCEL_ERROR (I/O).
 */
GOACCEL_EXTERN(int) goaccel_store_prune(goaccel_prune_result *out, goaccel_store *store,
                                        const goaccel_prune_options *opts);

/* ---------------------------------------------------------------------------------------------
 * Verify
 */

/** A problem found by goaccel_store_verify(). */
typedef enum {
	GOACCEL_VERIFY_CORRUPT_BLOB = 1, /**< bytes do not match the name */
	GOACCEL_VERIFY_BAD_RECORD,       /**< an action record or ref that does not parse */
	GOACCEL_VERIFY_DANGLING_RECORD,  /**< an action whose output blob is missing */
	GOACCEL_VERIFY_DANGLING_REF,     /**< a ref whose blob is missing */
	GOACCEL_VERIFY_TEMP_FILE,        /**< a temporary file left by a process that died */
	GOACCEL_VERIFY_STRAY,            /**< a file that does not belong to the layout */
} goaccel_verify_problem;

/** One problem. Strings are borrowed for the duration of the callback. */
typedef struct {
	goaccel_verify_problem problem;
	const char *path;   /**< the file, absolute */
	const char *detail; /**< what is wrong */
	int repaired;       /**< 1 if repair removed it */
} goaccel_verify_event;

/** Called for each problem; non-zero stops verify (GOACCEL_EUSER). */
typedef int (*goaccel_verify_cb)(const goaccel_verify_event *event, void *payload);

/** Options for goaccel_store_verify(). */
typedef struct {
	unsigned int version; /**< GOACCEL_VERIFY_OPTIONS_VERSION */
	int repair;           /**< non-zero: remove what is damaged, dangling or left over */
	goaccel_verify_cb callback;
	void *payload;
} goaccel_verify_options;

#define GOACCEL_VERIFY_OPTIONS_VERSION 1
#define GOACCEL_VERIFY_OPTIONS_INIT {GOACCEL_VERIFY_OPTIONS_VERSION, 0, NULL, NULL}

/** Initialises verify options. @return 0, GOACCEL_EINVALID, GOACCEL_EVERSION. */
GOACCEL_EXTERN(int) goaccel_verify_options_init(goaccel_verify_options *opts, unsigned int version);

/** What verify checked and found. */
typedef struct {
	uint64_t blobs, actions, refs;   /**< entries checked */
	uint64_t corrupt_blobs, bad_records, dangling_records, dangling_refs, temp_files, stray;
	uint64_t problems;               /**< the sum of the above */
	uint64_t repaired;               /**< problems removed by repair */
} goaccel_verify_result;

/**
 * Checks every blob (rehashing it), record and ref, and looks for leftover temporary files
 * (those of processes that are still running are left alone). Corrupt entries met are counted
 * in the statistics. Safe while other processes use the store.
 * @param out  may be NULL
 * @return 0 when nothing is wrong or everything wrong was repaired; GOACCEL_EMISMATCH when
 *         problems remain (the message gives the first); GOACCEL_EUSER; GOACCEL_ERROR (I/O).
 */
GOACCEL_EXTERN(int) goaccel_store_verify(goaccel_verify_result *out, goaccel_store *store,
                                         const goaccel_verify_options *opts);

/* ---------------------------------------------------------------------------------------------
 * Export / import: carrying caches between machines (tar + zstd; format in docs/store.md)
 */

/** Options for goaccel_store_export(). */
typedef struct {
	unsigned int version; /**< GOACCEL_EXPORT_OPTIONS_VERSION */
	const char *const *mounts; /**< mount ids to export (their main instance) */
	size_t mounts_count;
	int all_mounts;            /**< non-zero: every mount (mounts is ignored) */
	int actions;               /**< non-zero: export action records with their blobs */
	/** fnmatch(3) glob on "<kind>/<key hex>" selecting the actions; NULL for all. */
	const char *actions_glob;
	int refs;                  /**< non-zero: export every ref with its blob */
	/**
	 * An earlier export (its archive, or the manifest JSON written to manifest_out): only what
	 * changed since is written. The archive's manifest still describes the whole state, so a
	 * later delta can be taken against this one. NULL: a full export.
	 */
	const char *base;
	/** If set, the manifest is also written to this path (usable as a later base). */
	const char *manifest_out;
	int compression_level;     /**< zstd level 1..19; 0 for the default (3) */
	unsigned int threads;      /**< zstd worker threads; 0 for one per core */
	/** How long to wait for a busy mount (ms; it is held LOCKED while read); -1 forever. */
	int64_t lock_timeout_ms;
} goaccel_export_options;

#define GOACCEL_EXPORT_OPTIONS_VERSION 1
#define GOACCEL_EXPORT_OPTIONS_INIT \
	{GOACCEL_EXPORT_OPTIONS_VERSION, NULL, 0, 0, 0, NULL, 0, NULL, NULL, 0, 0, 600000}

/** Initialises export options. @return 0, GOACCEL_EINVALID, GOACCEL_EVERSION. */
GOACCEL_EXTERN(int) goaccel_export_options_init(goaccel_export_options *opts, unsigned int version);

/** Counts for an export or an import. */
typedef struct {
	uint64_t blobs, actions, refs, mounts; /**< entries written / merged */
	uint64_t files;                        /**< mount files, directories and symlinks */
	uint64_t bytes;                        /**< content bytes (before compression) */
	uint64_t unchanged;                    /**< entries left out of a delta export */
	uint64_t skipped;                      /**< import: records whose blobs are unavailable */
} goaccel_transfer_result;

/**
 * The name of a marker file: a directory inside a mount that holds a regular file of this name
 * is exported as the directory and the marker only, never the rest of its content. For state
 * that is worth keeping on one machine but useless on another (the build layer's per-package
 * work dirs, whose binaries are also in the store), so it does not travel in CI cache archives.
 */
#define GOACCEL_MOUNT_NOEXPORT_MARKER ".goaccel-noexport"

/**
 * Writes the selected mounts, actions (with their blobs) and refs into one tar + zstd archive
 * at path (written to a temporary file and renamed, so path is never half-written). Mounts are
 * held LOCKED while they are read, so the archive has a consistent copy of each. In a mount,
 * the content of a directory holding GOACCEL_MOUNT_NOEXPORT_MARKER is left out.
 * @param out  may be NULL
 * @return 0; GOACCEL_ENOTFOUND (a named mount does not exist); GOACCEL_ELOCKED (a mount stayed
 *         busy); GOACCEL_EINVALID / GOACCEL_EVERSION (bad base); GOACCEL_ERROR (I/O).
 */
GOACCEL_EXTERN(int) goaccel_store_export(goaccel_transfer_result *out, goaccel_store *store,
                                         const char *path, const goaccel_export_options *opts);

/** Options for goaccel_store_import(). */
typedef struct {
	unsigned int version;    /**< GOACCEL_IMPORT_OPTIONS_VERSION */
	uint64_t max_entry_size; /**< largest file accepted; 0 for the default (4 GiB) */
	uint64_t max_total_size; /**< most bytes accepted in total; 0 for the default (64 GiB) */
	uint64_t max_entries;    /**< most entries accepted; 0 for the default (4 million) */
	int64_t lock_timeout_ms; /**< how long to wait for a busy mount; -1 forever */
} goaccel_import_options;

#define GOACCEL_IMPORT_OPTIONS_VERSION 1
#define GOACCEL_IMPORT_OPTIONS_INIT {GOACCEL_IMPORT_OPTIONS_VERSION, 0, 0, 0, 600000}

/** Initialises import options. @return 0, GOACCEL_EINVALID, GOACCEL_EVERSION. */
GOACCEL_EXTERN(int) goaccel_import_options_init(goaccel_import_options *opts, unsigned int version);

/**
 * Merges an archive written by goaccel_store_export() into the store. The archive is treated as
 * hostile: absolute paths, "..", symlinks or hard links pointing outside their mount, device
 * files, FIFOs, setuid/setgid bits, blobs that do not match their names, sizes over the limits
 * and unknown entries are refused with an error naming the entry, and nothing is written
 * outside the store. Blobs become visible only once verified; records and mounts only after the
 * whole archive was read successfully (each mount is swapped in atomically), so an interrupted
 * or truncated import leaves the store valid with nothing half-written visible.
 * Mount files present in the archive replace the store's; files the archive lacks are kept.
 * @param out  may be NULL
 * @return 0; GOACCEL_EUNSAFE (a forbidden entry); GOACCEL_ELIMIT; GOACCEL_ECORRUPT (a blob does
 *         not match its name, or the archive is truncated or damaged); GOACCEL_EVERSION (not a
 *         goaccel export of a known version); GOACCEL_EINVALID (malformed); GOACCEL_ELOCKED;
 *         GOACCEL_ENOTFOUND (no such file); GOACCEL_ERROR.
 */
GOACCEL_EXTERN(int) goaccel_store_import(goaccel_transfer_result *out, goaccel_store *store,
                                         const char *path, const goaccel_import_options *opts);

GOACCEL_END_DECL

#endif
