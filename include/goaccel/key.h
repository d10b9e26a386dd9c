/*
 * libgoaccel — step keys.
 *
 * A step key names the result of one build step by exactly what can change it: the step's kind
 * ("go-mod-download", "go-build", ...), named string fields (flags, environment, toolchain
 * identity), named input digests (trees, files) and an optional parent key (the step it builds
 * on). The key is the SHA-256 of a canonical, versioned, length-prefixed encoding in which the
 * fields are sorted by name — the order of the calls never matters — so the same logical inputs
 * give the same key from C, Python and Go. docs/keys.md specifies the encoding byte for byte.
 *
 * Keys also explain themselves: goaccel_key_to_json() shows every field, goaccel_key_from_json()
 * reads that back (the build layer keeps the JSON of the previous build of a target), and
 * goaccel_key_diff_new() names the fields that differ — "why did this miss?".
 *
 *     goaccel_key *k;
 *     goaccel_digest id;
 *     goaccel_key_new(&k, "go-build");
 *     goaccel_key_add_string(k, "env:GOFLAGS", "-trimpath");
 *     goaccel_key_add_digest(k, "inputs:.", &tree_digest);
 *     goaccel_key_set_parent(k, &deps_key);
 *     goaccel_key_finish(&id, k);
 *     goaccel_key_free(k);
 */
#ifndef INCLUDE_goaccel_key_h__
#define INCLUDE_goaccel_key_h__

#include "common.h"
#include "digest.h"

GOACCEL_BEGIN_DECL

/** The version of the key encoding this library writes (docs/keys.md). */
#define GOACCEL_KEY_ENCODING_VERSION 1

/** A key under construction, and its fields. Opaque; one thread at a time. */
typedef struct goaccel_key goaccel_key;

/** The type of a key field. */
typedef enum {
	GOACCEL_KEY_FIELD_STRING = 1, /**< arbitrary bytes (usually UTF-8 text) */
	GOACCEL_KEY_FIELD_DIGEST = 2, /**< a SHA-256 digest */
} goaccel_key_field_type;

/** One field, as returned by goaccel_key_field_byindex(). Strings borrowed from the key. */
typedef struct {
	const char *name;
	goaccel_key_field_type type;
	const char *value;    /**< the string, or the digest as 64 hex digits */
	size_t value_len;     /**< bytes in value (strings may hold NULs) */
	goaccel_digest digest; /**< the digest (all zero for strings) */
} goaccel_key_field;

/**
 * Starts a key of the given kind.
 * @param out   receives the builder (caller frees with goaccel_key_free())
 * @param kind  a non-empty step kind, e.g. "go-build"
 * @return 0; GOACCEL_EINVALID for NULL arguments or an empty kind; GOACCEL_ERROR (memory).
 */
GOACCEL_EXTERN(int) goaccel_key_new(goaccel_key **out, const char *kind);

/**
 * Adds a string field. Names are non-empty, unique within a key, and may not start with '@'
 * (reserved for "@kind" and "@parent" in diffs).
 * @return 0; GOACCEL_EEXISTS when the key already has a field of that name; GOACCEL_EINVALID
 *         for a bad name or NULL value; GOACCEL_ERROR (memory).
 */
GOACCEL_EXTERN(int) goaccel_key_add_string(goaccel_key *k, const char *name, const char *value);

/** Like goaccel_key_add_string() for a value of len bytes that may contain NULs. */
GOACCEL_EXTERN(int) goaccel_key_add_bytes(goaccel_key *k, const char *name, const void *value, size_t len);

/** Adds a digest field (same naming rules and return codes as goaccel_key_add_string()). */
GOACCEL_EXTERN(int) goaccel_key_add_digest(goaccel_key *k, const char *name, const goaccel_digest *digest);

/**
 * Sets (or, with NULL, clears) the parent key: the step this one builds on.
 * @return 0, or GOACCEL_EINVALID for a NULL k.
 */
GOACCEL_EXTERN(int) goaccel_key_set_parent(goaccel_key *k, const goaccel_digest *parent);

/**
 * Computes the key: SHA-256 of goaccel_key_encode()'s bytes. The builder is left intact (it can
 * be inspected, extended and finished again).
 * @return 0; GOACCEL_EINVALID; GOACCEL_ERROR (OpenSSL).
 */
GOACCEL_EXTERN(int) goaccel_key_finish(goaccel_digest *out, const goaccel_key *k);

/**
 * The canonical encoding (docs/keys.md) — what goaccel_key_finish() digests.
 * @param out      receives a malloc'd buffer (free with goaccel_free())
 * @param out_len  receives its length
 * @return 0; GOACCEL_EINVALID; GOACCEL_ERROR (memory).
 */
GOACCEL_EXTERN(int) goaccel_key_encode(unsigned char **out, size_t *out_len, const goaccel_key *k);

/** The kind. Borrowed. */
GOACCEL_EXTERN(const char *) goaccel_key_kind(const goaccel_key *k);
/** The parent, or NULL when none is set. Borrowed. */
GOACCEL_EXTERN(const goaccel_digest *) goaccel_key_parent(const goaccel_key *k);
/** Number of fields. */
GOACCEL_EXTERN(size_t) goaccel_key_field_count(const goaccel_key *k);
/** The i-th field in canonical (name) order; NULL when out of range. Borrowed; valid until the
 *  key is next modified or freed. */
GOACCEL_EXTERN(const goaccel_key_field *) goaccel_key_field_byindex(const goaccel_key *k, size_t i);
/** The field with that name, or NULL. Borrowed as above. */
GOACCEL_EXTERN(const goaccel_key_field *) goaccel_key_field_byname(const goaccel_key *k, const char *name);

/**
 * The key as JSON (docs/keys.md, "JSON form"):
 *   {"version":1,"kind":"go-build","parent":"<hex>"|null,"key":"<hex>",
 *    "fields":[{"name":"...","type":"string","value":"..."},
 *              {"name":"...","type":"digest","value":"<hex>"}, ...]}
 * Fields appear in canonical order. String values that are not valid UTF-8 or contain NUL are
 * written as {"type":"bytes","value":"<base64>"}. goaccel_key_from_json() reads it back.
 * @param out  receives a NUL-terminated string (free with goaccel_free())
 * @return 0; GOACCEL_EINVALID; GOACCEL_ERROR.
 */
GOACCEL_EXTERN(int) goaccel_key_to_json(char **out, const goaccel_key *k);

/**
 * Rebuilds a key from goaccel_key_to_json()'s output (for explaining a miss against a key
 * recorded by an earlier build). The "key" member, when present, must match the recomputed key.
 * @return 0; GOACCEL_EVERSION for another encoding version; GOACCEL_EINVALID for malformed JSON
 *         (the member is named); GOACCEL_ECORRUPT when "key" does not match; GOACCEL_ERROR.
 */
GOACCEL_EXTERN(int) goaccel_key_from_json(goaccel_key **out, const char *json);

/** Frees a key; NULL is a no-op. */
GOACCEL_EXTERN(void) goaccel_key_free(goaccel_key *k);

/* ---- explaining a miss ------------------------------------------------------------------------ */

/** How a field changed from the old key to the new one. */
typedef enum {
	GOACCEL_KEY_ADDED = 1,   /**< only the new key has it */
	GOACCEL_KEY_REMOVED = 2, /**< only the old key has it */
	GOACCEL_KEY_CHANGED = 3, /**< both have it, with different type or value */
} goaccel_key_change;

/** One difference. "@kind" and "@parent" stand for the kind and the parent. Borrowed strings;
 *  old_value / new_value are NULL on the side that lacks the field (hex for digests). */
typedef struct {
	const char *name;
	goaccel_key_change change;
	const char *old_value;
	const char *new_value;
} goaccel_key_diff_entry;

/** The differences between two keys. Opaque; free with goaccel_key_diff_free(). */
typedef struct goaccel_key_diff goaccel_key_diff;

/**
 * Compares two keys field by field. Entries are in name order ("@kind", "@parent" first). Two
 * keys with no differences have the same digest, and conversely.
 * @return 0; GOACCEL_EINVALID; GOACCEL_ERROR (memory). Thread-safe for distinct diffs.
 */
GOACCEL_EXTERN(int) goaccel_key_diff_new(goaccel_key_diff **out, const goaccel_key *old_key, const goaccel_key *new_key);
/** Number of differences (0: the keys are equal). */
GOACCEL_EXTERN(size_t) goaccel_key_diff_entrycount(const goaccel_key_diff *d);
/** The i-th difference; NULL when out of range. Borrowed. */
GOACCEL_EXTERN(const goaccel_key_diff_entry *) goaccel_key_diff_entry_byindex(const goaccel_key_diff *d, size_t i);
/** The differences as JSON: [{"name":..,"change":"added|removed|changed","old":..,"new":..}].
 *  Caller frees with goaccel_free(). */
GOACCEL_EXTERN(int) goaccel_key_diff_to_json(char **out, const goaccel_key_diff *d);
/** Frees a diff; NULL is a no-op. */
GOACCEL_EXTERN(void) goaccel_key_diff_free(goaccel_key_diff *d);

GOACCEL_END_DECL

#endif
