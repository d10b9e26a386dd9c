/* Internal: the pieces of the hash layer (lib/hash*.c), exposed to each other, to the tests and
 * to the fuzz targets. Nothing here is exported from the shared library. */
#ifndef GOACCEL_UTIL_HASH_INTERNAL_H
#define GOACCEL_UTIL_HASH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "goaccel/hash.h"
#include "util/buf.h"
#include "util/sha256.h"

/* ---- .dockerignore patterns (lib/hash_ignore.c) ---------------------------------------------- */

typedef struct ga_ignore ga_ignore;

int ga_ignore_new(ga_ignore **out);
void ga_ignore_free(ga_ignore *ig);
/* Adds one pattern as a list item (no comment handling). source/line name it in errors
 * (line 0: "pattern N" of a list). GOACCEL_EINVALID for a malformed pattern. */
int ga_ignore_add_pattern(ga_ignore *ig, const char *pattern, size_t len, const char *source, size_t line);
/* Parses the content of a .dockerignore-syntax file (BOM, '#' comments, one pattern a line). */
int ga_ignore_add_buffer(ga_ignore *ig, const char *data, size_t len, const char *source);
/* Reads and parses a file (GOACCEL_ENOTFOUND when missing; limited to 16 MiB). */
int ga_ignore_add_file(ga_ignore *ig, const char *path);
size_t ga_ignore_count(const ga_ignore *ig);
/* 1 if the relative path is excluded: the last pattern matching it or one of its parent
 * directories decides (moby/patternmatcher MatchesOrParentMatches). */
int ga_ignore_excluded(const ga_ignore *ig, const char *path, size_t len);
/* The walk's form of ga_ignore_excluded: parent_hits (NULL at the top) holds, per pattern, whether
 * it matched a parent directory; hits_out (ga_ignore_count bytes, for directories) receives the
 * same for this path. Returns 1 if the path is excluded. */
int ga_ignore_eval(const ga_ignore *ig, const char *path, size_t len, const unsigned char *parent_hits,
                   unsigned char *hits_out);
/* For an excluded directory: 1 if the walk may skip it, i.e. no '!' pattern could re-include
 * something below it (BuildKit's rule), else 0. */
int ga_ignore_can_skip_dir(const ga_ignore *ig, const char *path, size_t len);
/* Matches one pattern (already normalised) against a whole path; for tests and fuzzing. */
int ga_ignore_pattern_matches(const ga_ignore *ig, size_t index, const char *path, size_t len);

/* ---- .gitignore rules (lib/hash_gitignore.c) ---------------------------------------------- */

typedef struct ga_gitignore ga_gitignore;
typedef struct ga_gitignore_rules ga_gitignore_rules;

/* git's wildmatch: pathname = WM_PATHNAME ('*', '?', '[...]' do not match '/'; '**' as a whole
 * component matches any number of directories), icase = WM_CASEFOLD. 1 on a match. */
int ga_gitignore_wildmatch(const char *pattern, size_t plen, const char *text, size_t tlen, int pathname, int icase);
/* Parses an ignore file's content; base is its directory relative to the work tree ("" or
 * "dir/"). Never fails on content (git accepts any line); GOACCEL_ERROR when out of memory. */
int ga_gitignore_rules_parse(ga_gitignore_rules **out, const char *data, size_t len, const char *base);
/* The last pattern of the list matching the work-tree-relative path: 1 = ignore, 0 = a negative
 * pattern (not ignored), -1 = no pattern matches. */
int ga_gitignore_rules_match(const ga_gitignore_rules *r, const char *path, size_t len, int is_dir, int icase);
void ga_gitignore_rules_free(ga_gitignore_rules *r);

/* Opens the repository containing root_real (an absolute path without symbolic links), reads
 * .git/info/exclude, core.excludesFile (the repository's own configuration only, unless
 * global_excludes) and the .gitignore files of root's parent directories. *out is NULL (and 0
 * returned) when root is not inside a work tree. Thread-safe afterwards. */
int ga_gitignore_open(ga_gitignore **out, const char *root_real, int global_excludes);
/* Reads the .gitignore of a directory (open as dirfd; relpath relative to root, "" for root). */
int ga_gitignore_load(ga_gitignore_rules **out, ga_gitignore *gi, int dirfd, const char *relpath);
/* 1 if root itself or one of its parent directories is ignored (only tracked files count). */
int ga_gitignore_root_ignored(const ga_gitignore *gi);
/* The .gitignore rules of root's parent directories, top first (entries may be NULL). */
size_t ga_gitignore_ancestors(const ga_gitignore *gi, const ga_gitignore_rules *const **out);
/* Decides a path: stack holds the rules of its directory and each parent, deepest first (NULL
 * entries allowed). *ignored = 1 if git ignores it and it is not tracked. A directory that is
 * ignored but holds tracked files is walked: *dir_ignored is set instead, and its children are
 * then checked with parent_ignored (nothing below an ignored directory is re-included).
 * relpath is relative to root, or to the work tree if path_is_workdir_relative. */
int ga_gitignore_check(int *ignored, int *dir_ignored, ga_gitignore *gi, const ga_gitignore_rules *const *stack,
                       size_t depth, const char *relpath, size_t len, int is_dir, int parent_ignored,
                       int path_is_workdir_relative);
void ga_gitignore_free(ga_gitignore *gi);

/* ---- the stat cache (lib/hash_statcache.c) --------------------------------------------------- */

typedef struct {
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
	uint32_t mode;
	goaccel_digest digest;
} ga_statcache_rec;

typedef struct {
	const unsigned char *raw; /* count serialised records, sorted by (dev, ino), unique */
	size_t count;
	int64_t stamp_ns; /* when the run that wrote the file started (CLOCK_REALTIME_COARSE) */
	int loaded;       /* a valid file was read */
	int rejected;     /* a file existed but was invalid */
	unsigned char *owned; /* the file's bytes when loaded from a file */
} ga_statcache;

#define GA_STATCACHE_VERSION 1

/* Checks a serialised cache; the records are then read in place (data must outlive sc).
 * 0, or GOACCEL_ECORRUPT / GOACCEL_EVERSION (sc left empty). */
int ga_statcache_parse(ga_statcache *sc, const unsigned char *data, size_t len);
/* Decodes record i. */
void ga_statcache_get(const ga_statcache *sc, size_t i, ga_statcache_rec *rec);
/* Loads path: a missing file gives an empty cache; an invalid one an empty cache with rejected
 * set. Only I/O failures other than ENOENT are errors. */
int ga_statcache_load(ga_statcache *sc, const char *path);
/* 1 and *rec (may be NULL) filled when there is a record for (dev, ino), else 0. hint (may be
 * NULL) carries the position of the previous lookup, to search near it first. */
int ga_statcache_find(const ga_statcache *sc, uint64_t dev, uint64_t ino, ga_statcache_rec *rec, size_t *hint);
/* 1 if rec is a trustworthy digest for a file with the given stat values: every field equal and
 * the record not racy (its mtime/ctime second is older than the stamp's second). */
int ga_statcache_valid(const ga_statcache *sc, const ga_statcache_rec *rec, uint64_t size, int64_t mtime_ns,
                       int64_t ctime_ns, uint32_t mode, int *racy);
/* Serialises records (sorted and deduplicated here) with a stamp. */
int ga_statcache_serialize(ga_buf *out, ga_statcache_rec *recs, size_t count, int64_t stamp_ns);
void ga_statcache_dispose(ga_statcache *sc);

/* ---- manifests (lib/hash_manifest.c) --------------------------------------------------------- */

struct goaccel_manifest {
	goaccel_manifest_entry *entries; /* paths and link targets owned: in arena or malloc'd each */
	size_t count, alloc;
	goaccel_digest digest;
	char *arena; /* path bytes of entries added with ga_manifest_add */
	size_t arena_size, arena_used;
};

/* capacity entries and arena_bytes of path text (both may be 0) reserved up front. */
int ga_manifest_new(goaccel_manifest **out, size_t capacity, size_t arena_bytes);
/* Appends an entry, copying path (into the arena when it has room) and taking ownership of
 * link_target (freed on failure too). */
int ga_manifest_add(goaccel_manifest *m, const char *path, size_t pathlen, goaccel_entry_type type, unsigned exec,
                    uint64_t size, const goaccel_digest *digest, char *link_target);
/* Appends an entry, taking ownership of path and link_target (freed on failure too). */
int ga_manifest_push(goaccel_manifest *m, char *path, goaccel_entry_type type, unsigned exec, uint64_t size,
                     const goaccel_digest *digest, char *link_target);
/* Computes the tree digest of the entries (which must be in bytewise path order). */
int ga_tree_digest(goaccel_digest *out, const goaccel_manifest_entry *entries, size_t count);

/* The same encoding streamed entry by entry (count announced up front, as the format says). */
typedef struct {
	ga_sha256_ctx sha;
	ga_buf buf;
	uint64_t expected, added;
} ga_tree_enc;
int ga_tree_enc_start(ga_tree_enc *e, uint64_t count);
int ga_tree_enc_add(ga_tree_enc *e, const char *path, size_t len, goaccel_entry_type type, unsigned exec,
                    uint64_t size, const goaccel_digest *digest);
int ga_tree_enc_finish(goaccel_digest *out, ga_tree_enc *e);
void ga_tree_enc_dispose(ga_tree_enc *e);

/* ---- shared helpers (lib/hash_manifest.c) ---------------------------------------------------- */

/* Decodes one UTF-8 character of s (len > 0) and its width. An invalid byte b decodes as the
 * value GA_UTF8_INVALID_BASE + b with width 1 (defined in lib/hash_ignore.c). */
#define GA_UTF8_INVALID_BASE 0x110000u
uint32_t ga_hash_utf8_next(const unsigned char *s, size_t len, size_t *width);
/* 1 if s[0..len) is valid UTF-8 (no overlongs, surrogates or values above U+10FFFF). */
int ga_hash_utf8_valid(const char *s, size_t len);
/* Appends s with non-printable bytes escaped (\n, \t, \\, \xNN); valid UTF-8 is kept. */
int ga_hash_put_escaped(ga_buf *buf, const char *s, size_t len);
/* A malloc'd escaped copy for error messages ("?" when out of memory: never NULL). */
char *ga_hash_escape(const char *s);
void ga_hash_escape_free(char *s);
/* 1 if path is a valid relative entry path: non-empty components separated by single '/', none
 * "." or "..", no NUL. */
int ga_hash_relpath_valid(const char *path, size_t len);

#endif
