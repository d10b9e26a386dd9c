/*
 * libgoaccel — input hashing: tree digests, selection rules, a racy-safe stat cache, manifests.
 *
 * A tree digest is the SHA-256 of a canonical, versioned encoding of every selected entry of a
 * directory tree (docs/hashing.md specifies it byte for byte). Per entry it covers exactly:
 * the relative path ('/'-separated, entries in bytewise path order), the type (regular file or
 * symbolic link; a directory only through its content), the owner-executable bit, the size, the
 * SHA-256 of the content and, for a symbolic link, its target as stored. It never covers
 * timestamps, owners, inode numbers, group/other permission bits, the absolute root path or the
 * order in which the file system lists a directory. Two trees that can produce different build
 * outputs give different digests; two checkouts of the same commit on different machines give the
 * same digest.
 *
 * Simple API:
 *
 *     goaccel_digest d;
 *     goaccel_hash_options opts = GOACCEL_HASH_OPTIONS_INIT;
 *     opts.gitignore = 1;
 *     opts.stat_cache = "/home/me/.cache/goaccel/statcache";
 *     if (goaccel_hash_tree(&d, NULL, "/src/app", &opts) < 0)
 *             fprintf(stderr, "%s\n", goaccel_error_last()->message);
 *
 * Advanced: ask for a goaccel_manifest (the per-entry list), save it next to a cache entry, and
 * on the next miss load it and goaccel_manifest_diff() it against the new one to learn which
 * paths changed and how.
 */
#ifndef INCLUDE_goaccel_hash_h__
#define INCLUDE_goaccel_hash_h__

#include "common.h"
#include "digest.h"

GOACCEL_BEGIN_DECL

/** The version of the tree-digest encoding this library produces (docs/hashing.md). */
#define GOACCEL_HASH_FORMAT_VERSION 1

/** The type of a hashed entry. Directories appear only through the entries they contain. */
typedef enum {
	GOACCEL_ENTRY_FILE = 1,    /**< a regular file */
	GOACCEL_ENTRY_SYMLINK = 2, /**< a symbolic link, hashed as its target string */
} goaccel_entry_type;

/**
 * Counters filled in by a hash call when goaccel_hash_options.stats is set. Plain value.
 * Useful to see that a warm run did no reading (bytes_hashed == 0).
 */
typedef struct {
	uint64_t entries;       /**< entries in the digest (files + symbolic links) */
	uint64_t dirs;          /**< directories walked */
	uint64_t excluded;      /**< paths left out by patterns, .gitignore or the .git rule */
	uint64_t files_hashed;  /**< regular files whose content was read this call */
	uint64_t bytes_hashed;  /**< bytes of content read this call */
	uint64_t cache_hits;    /**< regular files whose digest came from the stat cache */
	uint64_t cache_racy;    /**< stat-cache entries that matched but were re-hashed (racy rule) */
	int cache_loaded;       /**< 1 if a valid stat cache was read */
	int cache_rejected;     /**< 1 if a stat cache existed but was corrupt/truncated/other version */
	int cache_written;      /**< 1 if the stat cache was (re)written */
} goaccel_hash_stats;

/**
 * Options for goaccel_hash_tree() and goaccel_hash_paths().
 *
 * Initialise with GOACCEL_HASH_OPTIONS_INIT or goaccel_hash_options_init(); NULL options mean
 * the defaults (no patterns, no .gitignore, no stat cache, all cores, symbolic links not
 * followed). Fields are only ever appended.
 */
typedef struct {
	unsigned int version; /**< GOACCEL_HASH_OPTIONS_VERSION */

	/**
	 * Exclude patterns in .dockerignore syntax with BuildKit's semantics, one pattern per string
	 * ("*.log", "!keep.log", "/build", "**\/testdata"). Applied after the patterns of
	 * ignore_file, so they can override them. Borrowed for the duration of the call.
	 * goaccel_hash_tree() only.
	 */
	const char *const *exclude;
	size_t exclude_count; /**< number of strings in exclude */

	/**
	 * A file of .dockerignore-syntax patterns (comments with '#', one pattern per line), or NULL.
	 * A missing file is GOACCEL_ENOTFOUND. goaccel_hash_tree() only.
	 */
	const char *ignore_file;

	/**
	 * Non-zero: leave out what git leaves out of `git ls-files --cached --others
	 * --exclude-standard`: every .gitignore of the repository containing root (nested ones, and
	 * those of root's parent directories), .git/info/exclude and the repository's own
	 * core.excludesFile. Files tracked in the index are kept even when a pattern names them, as in
	 * git. libgit2 provides the repository, index and configuration; the patterns follow git's
	 * rules exactly (docs/hashing.md says why not libgit2's matcher). When root is not inside a
	 * work tree this option has no effect. goaccel_hash_tree() only. The first call with this
	 * option initialises libgit2 (once per process, a few milliseconds; goaccel_init() does not).
	 */
	int gitignore;

	/**
	 * Non-zero: also honour the user's and the system's git configuration for ignore rules
	 * (core.excludesFile, ~/.config/git/ignore). Off by default so that a digest is the same on
	 * every machine. Only meaningful with gitignore.
	 */
	int git_global_excludes;

	/**
	 * A file for the persistent stat cache, or NULL for none. Created when missing (its
	 * directory must exist); a corrupt, truncated or other-version file is ignored and rewritten.
	 * Several processes may share one file (the last writer wins; every write is atomic).
	 */
	const char *stat_cache;

	/** Threads that walk and hash: 0 = one per online CPU, 1 = the calling thread only. */
	unsigned int threads;

	/**
	 * Non-zero: a symbolic link whose target resolves inside root is hashed as what it points
	 * to (a file's content, or a directory's entries under the link's path). A link that leaves
	 * root, or dangles, is still hashed as a link. A cycle is GOACCEL_EINVALID naming the link.
	 */
	int follow_symlinks;

	/** If not NULL, receives counters for this call (written on success and on failure). */
	goaccel_hash_stats *stats;
} goaccel_hash_options;

#define GOACCEL_HASH_OPTIONS_VERSION 1
#define GOACCEL_HASH_OPTIONS_INIT {GOACCEL_HASH_OPTIONS_VERSION, NULL, 0, NULL, 0, 0, NULL, 0, 0, NULL}

/**
 * Initialises an options struct to the defaults, for bindings that cannot use the macro.
 * @return 0, GOACCEL_EINVALID for NULL, GOACCEL_EVERSION for an unknown version.
 */
GOACCEL_EXTERN(int) goaccel_hash_options_init(goaccel_hash_options *opts, unsigned int version);

/** The per-entry list behind a tree digest. Opaque; immutable once returned. */
typedef struct goaccel_manifest goaccel_manifest;

/** One entry of a manifest. Borrowed from its manifest. */
typedef struct {
	const char *path;        /**< relative, '/'-separated; "" when the hashed root was a file */
	goaccel_entry_type type; /**< file or symbolic link */
	unsigned int exec;       /**< 1 if the owner-executable bit is set (files only) */
	uint64_t size;           /**< content size; for a symbolic link the length of its target */
	goaccel_digest digest;   /**< SHA-256 of the content (of the target string for a link) */
	const char *link_target; /**< the link's target as stored; NULL for files */
} goaccel_manifest_entry;

/**
 * Digests a file or a directory tree.
 *
 * root is followed if it is itself a symbolic link. A regular file as root gives a digest of one
 * entry with the empty path (the root's own name is not covered, like a directory root's
 * absolute path). Inside the tree symbolic links are hashed as links unless follow_symlinks is
 * set; `.git` (directory or file) is excluded at every depth. Sockets, FIFOs and device nodes
 * that are not excluded are an error.
 *
 * @param out           receives the tree digest
 * @param manifest_out  if not NULL, receives the per-entry list (caller frees it with
 *                      goaccel_manifest_free()); untouched on failure
 * @param root          the file or directory to hash
 * @param opts          options, or NULL for the defaults
 * @return 0 on success;
 *         GOACCEL_ENOTFOUND if root (or ignore_file) does not exist;
 *         GOACCEL_EINVALID for a bad argument, a malformed pattern (file and line named), an
 *         unsupported file type or a symbolic-link cycle (the path named);
 *         GOACCEL_ECHANGED if a file vanished or changed while it was read (the path named);
 *         GOACCEL_EVERSION for an unknown options version;
 *         GOACCEL_ERROR for I/O failures (unreadable file or directory: the path and errno text)
 *         and libgit2 failures.
 * Thread-safe: concurrent calls are fine (also on the same stat cache file).
 */
GOACCEL_EXTERN(int) goaccel_hash_tree(goaccel_digest *out, goaccel_manifest **manifest_out,
                                      const char *root, const goaccel_hash_options *opts);

/**
 * Digests exactly the listed entries of a tree, with the same per-entry encoding, digest format
 * and stat cache as goaccel_hash_tree(): hashing the list of every file hash_tree would select
 * gives the same digest.
 *
 * The paths are relative to root, '/'-separated, in any order (duplicates are merged). Each must
 * name a regular file or a symbolic link (hashed as a link unless follow_symlinks is set and it
 * resolves inside root). Selection options (exclude, ignore_file, gitignore) are NOT applied: a
 * file the caller lists is always in. A parent directory that is a symbolic link is followed only
 * when it resolves inside root.
 *
 * @param out           receives the digest
 * @param manifest_out  optional, as for goaccel_hash_tree()
 * @param root          the directory the paths are relative to
 * @param relpaths      count relative paths (borrowed)
 * @param opts          options, or NULL for the defaults
 * @return 0; GOACCEL_ENOTFOUND if root or a listed path does not exist (the path named);
 *         GOACCEL_EINVALID for a malformed path ("", absolute, "..", "." or empty components), a
 *         directory or special file in the list; GOACCEL_EUNSAFE when a path leads out of root
 *         through a symbolic link; GOACCEL_ECHANGED, GOACCEL_EVERSION, GOACCEL_ERROR as for
 *         goaccel_hash_tree(). Thread-safe.
 */
GOACCEL_EXTERN(int) goaccel_hash_paths(goaccel_digest *out, goaccel_manifest **manifest_out,
                                       const char *root, const char *const *relpaths, size_t count,
                                       const goaccel_hash_options *opts);

/* ---- manifests ------------------------------------------------------------------------------ */

/** Number of entries. 0 for NULL. Thread-safe (manifests are immutable). */
GOACCEL_EXTERN(size_t) goaccel_manifest_entrycount(const goaccel_manifest *manifest);

/**
 * The entry at index i, in bytewise path order. Borrowed from the manifest.
 * @return the entry, or NULL when manifest is NULL or i is out of range.
 */
GOACCEL_EXTERN(const goaccel_manifest_entry *) goaccel_manifest_entry_byindex(
	const goaccel_manifest *manifest, size_t i);

/**
 * The entry with the given path (binary search). Borrowed.
 * @return the entry, or NULL if there is none (or an argument is NULL).
 */
GOACCEL_EXTERN(const goaccel_manifest_entry *) goaccel_manifest_entry_bypath(
	const goaccel_manifest *manifest, const char *path);

/**
 * The tree digest of the manifest's entries (the value goaccel_hash_tree() returned with it).
 * Borrowed. NULL for a NULL manifest.
 */
GOACCEL_EXTERN(const goaccel_digest *) goaccel_manifest_digest(const goaccel_manifest *manifest);

/**
 * Serialises a manifest as JSON (the versioned format of docs/hashing.md; names that are not
 * valid UTF-8 are stored hex-encoded).
 * @param out  receives a NUL-terminated string; free it with goaccel_free()
 * @return 0, GOACCEL_EINVALID for NULL arguments, GOACCEL_ERROR when out of memory.
 */
GOACCEL_EXTERN(int) goaccel_manifest_to_json(char **out, const goaccel_manifest *manifest);

/**
 * Parses a manifest from its JSON form, validating every field, the entry order and the tree
 * digest it records (recomputed from the entries).
 * @param out  receives the manifest (free with goaccel_manifest_free())
 * @return 0; GOACCEL_EINVALID for malformed JSON or fields (the field named); GOACCEL_EVERSION
 *         for another format version; GOACCEL_ECORRUPT when the recorded digest does not match
 *         the entries.
 */
GOACCEL_EXTERN(int) goaccel_manifest_from_json(goaccel_manifest **out, const char *json, size_t len);

/**
 * Writes the JSON form to path atomically (a temporary file renamed over it).
 * @return 0, GOACCEL_EINVALID, GOACCEL_ERROR (I/O; the path named).
 */
GOACCEL_EXTERN(int) goaccel_manifest_save(const goaccel_manifest *manifest, const char *path);

/**
 * Reads a manifest written by goaccel_manifest_save().
 * @return 0; GOACCEL_ENOTFOUND if path does not exist; otherwise as goaccel_manifest_from_json()
 *         (the message names the path).
 */
GOACCEL_EXTERN(int) goaccel_manifest_load(goaccel_manifest **out, const char *path);

/** Frees a manifest. NULL is a no-op. */
GOACCEL_EXTERN(void) goaccel_manifest_free(goaccel_manifest *manifest);

/* ---- manifest diffs ------------------------------------------------------------------------- */

/** What changed for one path. CONTENT and MODE may be combined; the others stand alone. */
typedef enum {
	GOACCEL_CHANGE_ADDED = 1 << 0,   /**< only in the new manifest */
	GOACCEL_CHANGE_REMOVED = 1 << 1, /**< only in the old manifest */
	GOACCEL_CHANGE_CONTENT = 1 << 2, /**< same type, different content/size/link target */
	GOACCEL_CHANGE_MODE = 1 << 3,    /**< the executable bit changed */
	GOACCEL_CHANGE_TYPE = 1 << 4,    /**< a file became a symbolic link or back */
} goaccel_change;

/** One changed path. Borrowed from its goaccel_manifest_changes. */
typedef struct {
	const char *path;                        /**< the path */
	unsigned int change;                     /**< goaccel_change flags */
	const goaccel_manifest_entry *old_entry; /**< a copy owned by the diff; NULL when ADDED */
	const goaccel_manifest_entry *new_entry; /**< a copy owned by the diff; NULL when REMOVED */
} goaccel_manifest_change;

/** The result of goaccel_manifest_diff(). Opaque; owns copies of what it reports. */
typedef struct goaccel_manifest_changes goaccel_manifest_changes;

/**
 * Compares two manifests path by path: which paths were added, removed, or changed content,
 * executable bit or type. This is how a caller explains why a cache key changed.
 * @param out  receives the changes (free with goaccel_manifest_changes_free()); they stay valid
 *             after the manifests are freed
 * @return 0, GOACCEL_EINVALID for NULL arguments, GOACCEL_ERROR when out of memory.
 * Thread-safe.
 */
GOACCEL_EXTERN(int) goaccel_manifest_diff(goaccel_manifest_changes **out, const goaccel_manifest *old_manifest,
                                          const goaccel_manifest *new_manifest);

/** Number of changed paths (0 for NULL; identical manifests give none). */
GOACCEL_EXTERN(size_t) goaccel_manifest_changes_count(const goaccel_manifest_changes *changes);

/** The i-th change in bytewise path order, or NULL when out of range. Borrowed. */
GOACCEL_EXTERN(const goaccel_manifest_change *) goaccel_manifest_changes_byindex(
	const goaccel_manifest_changes *changes, size_t i);

/**
 * A human-readable summary, one line per change ("content  main.go", "added    x/y.go", ...),
 * for "why did this step miss?" messages. Bytes that are not printable ASCII or UTF-8 are
 * written as \xNN, a newline as \n, a backslash as \\.
 * @param out    receives the text (free with goaccel_free())
 * @param limit  at most this many lines, then "... and N more"; 0 = all
 * @return 0, GOACCEL_EINVALID, GOACCEL_ERROR (out of memory).
 */
GOACCEL_EXTERN(int) goaccel_manifest_changes_to_text(char **out, const goaccel_manifest_changes *changes,
                                                     size_t limit);

/** Frees the changes. NULL is a no-op. */
GOACCEL_EXTERN(void) goaccel_manifest_changes_free(goaccel_manifest_changes *changes);

GOACCEL_END_DECL

#endif
