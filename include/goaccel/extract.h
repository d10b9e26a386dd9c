/*
 * libgoaccel — extracting artifacts out of a stage root (`COPY --from` semantics).
 *
 * A multi-stage build copies only its artifacts (the binary, tzdata, CA certificates) out of the
 * build stage into the final one. goaccel_extract() does that copy between two directories on
 * the local file system with the semantics of Dockerfile's `COPY --from=<stage> <src> <dst>`:
 *
 * - `src` is resolved inside the source root as if that root were `/`: intermediate symbolic
 *   links are followed *within* the root (an absolute link target restarts at the root), and a
 *   path or link that would climb above the root with `..` is refused (GOACCEL_EUNSAFE). A
 *   symbolic link named by `src` itself is followed too, like COPY does.
 * - A directory is copied recursively: its *contents* land in `dst` (COPY semantics, not
 *   `cp -r`). Symbolic links inside it are copied as links, their targets untouched.
 * - A file lands at `dst`, or at `dst/<basename>` when `dst` ends with '/' or is an existing
 *   directory.
 * - `dst` is resolved inside the destination root the same way, so a link already present in
 *   the destination cannot redirect the copy outside it. Missing parents of `dst` are created
 *   with fixed metadata (options: parent_mode, parent_uid/gid, and the epoch as mtime), never
 *   with the caller's umask or clock.
 * - Mode and owner are the source's unless the item sets them. Files hard-linked to each other
 *   inside one goaccel_extract() call stay hard-linked in the destination.
 * - Modification times are kept, clamped to SOURCE_DATE_EPOCH, or set to it (options).
 * - A missing `src` is GOACCEL_ENOTFOUND naming the source path.
 *
 * Regular files are copied with reflinks where the file system allows (btrfs, xfs), else with
 * copy_file_range.
 */
#ifndef INCLUDE_goaccel_extract_h__
#define INCLUDE_goaccel_extract_h__

#include "common.h"

GOACCEL_BEGIN_DECL

/** "Keep the source's value" for the uid, gid and mode fields of goaccel_extract_item. */
#define GOACCEL_EXTRACT_KEEP (-1)

/** One `COPY --from` source/destination pair. A plain value struct. */
typedef struct {
	/** Source path inside src_root, '/'-separated; a leading '/' is optional. Required. */
	const char *src;
	/** Destination inside dst_root. A trailing '/' means "into this directory". Required. */
	const char *dst;
	/** Owner for every copied entry (like `--chown`), or GOACCEL_EXTRACT_KEEP. */
	int64_t uid;
	/** Group for every copied entry, or GOACCEL_EXTRACT_KEEP. */
	int64_t gid;
	/** Permission bits (07777) for every copied entry (like `--chmod`), or GOACCEL_EXTRACT_KEEP. */
	int mode;
} goaccel_extract_item;

/** An item copying src to dst with the source's owner and mode. */
#define GOACCEL_EXTRACT_ITEM(src, dst)                                                          \
	{ (src), (dst), GOACCEL_EXTRACT_KEEP, GOACCEL_EXTRACT_KEEP, GOACCEL_EXTRACT_KEEP }

/** What happens to the modification times of copied entries. */
typedef enum {
	/** Keep the source's mtime; without an epoch this is the default. */
	GOACCEL_EXTRACT_MTIME_KEEP = 0,
	/** mtime = min(source mtime, epoch); the default when an epoch is given. */
	GOACCEL_EXTRACT_MTIME_CLAMP = 1,
	/** mtime = epoch for every copied entry. */
	GOACCEL_EXTRACT_MTIME_SET = 2,
	/** Default: CLAMP when source_date_epoch >= 0, else KEEP. */
	GOACCEL_EXTRACT_MTIME_DEFAULT = 3,
} goaccel_extract_mtime;

/** Options of goaccel_extract(). Initialise with GOACCEL_EXTRACT_OPTIONS_INIT. */
typedef struct {
	unsigned int version; /**< GOACCEL_EXTRACT_OPTIONS_VERSION */
	/** SOURCE_DATE_EPOCH in seconds, or -1 (default) for none. */
	int64_t source_date_epoch;
	/** How mtimes are treated; see goaccel_extract_mtime. */
	goaccel_extract_mtime mtime;
	/** Mode of parent directories that have to be created (default 0755). */
	unsigned int parent_mode;
	/** Owner of created parent directories (default 0), or GOACCEL_EXTRACT_KEEP to leave them
	 *  owned by the calling process. A caller without the privilege to chown (not root) keeps
	 *  them as its own unless strict_owner is set. */
	int64_t parent_uid;
	/** Group of created parent directories (default 0), or GOACCEL_EXTRACT_KEEP. */
	int64_t parent_gid;
	/** Copy extended attributes (default 1). security.selinux is never copied; attributes the
	 *  destination file system does not support are skipped. */
	int xattrs;
	/** When non-zero, failing to give an entry its *kept* source owner, or a created parent its
	 *  parent_uid/gid (an unprivileged caller), is an error. Default 0: the entry stays owned by
	 *  the caller. An owner set explicitly in an item must always succeed. */
	int strict_owner;
	/** Replace an existing non-directory destination entry (default 1, like COPY). When 0,
	 *  an existing entry is GOACCEL_EEXISTS. */
	int overwrite;
} goaccel_extract_options;

#define GOACCEL_EXTRACT_OPTIONS_VERSION 1
#define GOACCEL_EXTRACT_OPTIONS_INIT                                                            \
	{ GOACCEL_EXTRACT_OPTIONS_VERSION, -1, GOACCEL_EXTRACT_MTIME_DEFAULT, 0755, 0, 0, 1, 0, 1 }

/**
 * Initialises an options struct to the defaults (for bindings that cannot use the macro).
 * @return 0, GOACCEL_EINVALID for NULL, GOACCEL_EVERSION for an unknown version.
 */
GOACCEL_EXTERN(int) goaccel_extract_options_init(goaccel_extract_options *opts, unsigned int version);

/**
 * Copies items from src_root into dst_root with `COPY --from` semantics (see the top of this
 * header). Items are processed in order; a later item may overwrite what an earlier one wrote.
 *
 * dst_root must exist. Nothing is rolled back on failure: the destination may hold part of the
 * copy. Thread-safe for distinct destinations.
 *
 * @param dst_root  the destination root (the final stage's file system)
 * @param src_root  the source root (the build stage's file system)
 * @param items     the copies to make (may be NULL when n is 0)
 * @param opts      NULL for defaults
 * @return 0;
 *         GOACCEL_ENOTFOUND when a src (named in the message) or a root does not exist;
 *         GOACCEL_EUNSAFE when a src or dst path or a symbolic link on the way climbs out of its
 *         root, or when too many links are chained (a loop);
 *         GOACCEL_EINVALID for a bad argument (NULL, a mode above 07777, an empty src) or a
 *         destination whose parent is not a directory;
 *         GOACCEL_EEXISTS when overwrite is 0 and a destination exists, or a directory would
 *         replace a file;
 *         GOACCEL_EVERSION for an unknown options version;
 *         GOACCEL_ERROR for an I/O failure (the message names the path and errno's text).
 */
GOACCEL_EXTERN(int) goaccel_extract(const char *dst_root, const char *src_root,
                                    const goaccel_extract_item *items, size_t n,
                                    const goaccel_extract_options *opts);

GOACCEL_END_DECL

#endif
