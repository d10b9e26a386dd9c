/* Manifests: the per-entry list behind a tree digest, the canonical tree encoding
 * (docs/hashing.md), its JSON form, and the diff of two manifests. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "goaccel/errors.h"
#include "goaccel/hash.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/hash_internal.h"

#define MANIFEST_FORMAT "goaccel-manifest"
#define MANIFEST_VERSION 1
#define TREE_MAGIC "goaccel-tree" /* followed by a NUL byte in the encoding */

/* ---- small helpers shared by the hash layer ------------------------------------------------- */

int ga_hash_utf8_valid(const char *s, size_t len)
{
	size_t i = 0, w;
	while (i < len) {
		if (ga_hash_utf8_next((const unsigned char *)s + i, len - i, &w) >= GA_UTF8_INVALID_BASE)
			return 0;
		i += w;
	}
	return 1;
}

int ga_hash_put_escaped(ga_buf *buf, const char *s, size_t len)
{
	size_t i = 0, w;
	int error = 0;
	while (i < len && error == 0) {
		const unsigned char *p = (const unsigned char *)s + i;
		uint32_t c = ga_hash_utf8_next(p, len - i, &w);
		if (c == '\\')
			error = ga_buf_puts(buf, "\\\\");
		else if (c == '\n')
			error = ga_buf_puts(buf, "\\n");
		else if (c == '\t')
			error = ga_buf_puts(buf, "\\t");
		else if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c >= GA_UTF8_INVALID_BASE)
			error = ga_buf_printf(buf, "\\x%02x", p[0]);
		else
			error = ga_buf_put(buf, p, w);
		i += w;
	}
	return error;
}

static char escape_fallback[] = "?";

char *ga_hash_escape(const char *s)
{
	ga_buf buf = GA_BUF_INIT;
	if (!s || ga_hash_put_escaped(&buf, s, strlen(s)) < 0 || ga_buf_put(&buf, "", 0) < 0) {
		ga_buf_dispose(&buf);
		return escape_fallback;
	}
	return ga_buf_detach(&buf);
}

void ga_hash_escape_free(char *s)
{
	if (s != escape_fallback)
		free(s);
}

int ga_hash_relpath_valid(const char *path, size_t len)
{
	size_t i = 0;
	if (len == 0 || memchr(path, '\0', len))
		return 0;
	while (i <= len) {
		const char *c = path + i, *slash = memchr(c, '/', len - i);
		size_t n = slash ? (size_t)(slash - c) : len - i;
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* ---- building ------------------------------------------------------------------------------- */

int ga_manifest_new(goaccel_manifest **out, size_t capacity, size_t arena_bytes)
{
	goaccel_manifest *m;
	GA_ASSERT_ARG(out);
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return ga_error_oom();
	if ((capacity && (m->entries = malloc(capacity * sizeof(*m->entries))) == NULL) ||
	    (arena_bytes && (m->arena = malloc(arena_bytes)) == NULL)) {
		free(m->entries);
		free(m);
		return ga_error_oom();
	}
	m->alloc = capacity;
	m->arena_size = arena_bytes;
	*out = m;
	return 0;
}

static int in_arena(const goaccel_manifest *m, const char *p)
{
	return m->arena && p >= m->arena && p < m->arena + m->arena_size;
}

int ga_manifest_add(goaccel_manifest *m, const char *path, size_t pathlen, goaccel_entry_type type, unsigned exec,
                    uint64_t size, const goaccel_digest *digest, char *link_target)
{
	char *copy;
	if (m->arena && m->arena_size - m->arena_used >= pathlen + 1) {
		copy = m->arena + m->arena_used;
		m->arena_used += pathlen + 1;
	} else if ((copy = malloc(pathlen + 1)) == NULL) {
		free(link_target);
		return ga_error_oom();
	}
	memcpy(copy, path, pathlen);
	copy[pathlen] = '\0';
	if (in_arena(m, copy) && m->count == m->alloc) {
		/* keep the arena bookkeeping simple: the entry array must not fail after the copy */
		size_t n = m->alloc ? m->alloc * 2 : 16;
		goaccel_manifest_entry *ne = realloc(m->entries, n * sizeof(*ne));
		if (!ne) {
			m->arena_used -= pathlen + 1;
			free(link_target);
			return ga_error_oom();
		}
		m->entries = ne;
		m->alloc = n;
	}
	return ga_manifest_push(m, copy, type, exec, size, digest, link_target);
}

int ga_manifest_push(goaccel_manifest *m, char *path, goaccel_entry_type type, unsigned exec, uint64_t size,
                     const goaccel_digest *digest, char *link_target)
{
	goaccel_manifest_entry *e;
	if (m->count == m->alloc) {
		size_t n = m->alloc ? m->alloc * 2 : 16;
		goaccel_manifest_entry *ne = realloc(m->entries, n * sizeof(*ne));
		if (!ne) {
			free(path);
			free(link_target);
			return ga_error_oom();
		}
		m->entries = ne;
		m->alloc = n;
	}
	e = &m->entries[m->count++];
	e->path = path;
	e->type = type;
	e->exec = exec ? 1 : 0;
	e->size = size;
	e->digest = *digest;
	e->link_target = link_target;
	return 0;
}

/* The canonical encoding (docs/hashing.md), streamed through SHA-256 in 64 KiB pieces. */
int ga_tree_enc_start(ga_tree_enc *e, uint64_t count)
{
	int error;
	memset(e, 0, sizeof(*e));
	if (ga_sha256_init(&e->sha) != 1)
		return ga_error_ssl("sha256: initialising tree digest");
	if ((error = ga_buf_grow(&e->buf, 70000)) < 0 || (error = ga_buf_put(&e->buf, TREE_MAGIC, sizeof(TREE_MAGIC))) < 0 ||
	    (error = ga_buf_put_u32be(&e->buf, GOACCEL_HASH_FORMAT_VERSION)) < 0 ||
	    (error = ga_buf_put_u64be(&e->buf, count)) < 0)
		return error;
	e->expected = count;
	return 0;
}

static int enc_flush(ga_tree_enc *e)
{
	if (ga_sha256_update(&e->sha, e->buf.ptr, e->buf.size) != 1)
		return ga_error_ssl("sha256: tree digest");
	ga_buf_clear(&e->buf);
	return 0;
}

int ga_tree_enc_add(ga_tree_enc *e, const char *path, size_t len, goaccel_entry_type type, unsigned exec,
                    uint64_t size, const goaccel_digest *digest)
{
	int error;
	if ((error = ga_buf_put_u32be(&e->buf, (uint32_t)len)) < 0 || (error = ga_buf_put(&e->buf, path, len)) < 0 ||
	    (error = ga_buf_putc(&e->buf, (char)type)) < 0 || (error = ga_buf_putc(&e->buf, exec ? 1 : 0)) < 0 ||
	    (error = ga_buf_put_u64be(&e->buf, size)) < 0 ||
	    (error = ga_buf_put(&e->buf, digest->id, GOACCEL_DIGEST_SIZE)) < 0)
		return error;
	e->added++;
	return e->buf.size >= 65536 ? enc_flush(e) : 0;
}

int ga_tree_enc_finish(goaccel_digest *out, ga_tree_enc *e)
{
	int error;
	if (e->added != e->expected)
		return ga_error(GOACCEL_ERROR, GOACCEL_ERROR_HASH, "tree digest: %llu entries announced, %llu added",
		                (unsigned long long)e->expected, (unsigned long long)e->added);
	if ((error = enc_flush(e)) < 0)
		return error;
	if (ga_sha256_final(out->id, &e->sha) != 1)
		return ga_error_ssl("sha256: finishing tree digest");
	return 0;
}

void ga_tree_enc_dispose(ga_tree_enc *e)
{
	ga_buf_dispose(&e->buf);
	memset(e, 0, sizeof(*e));
}

int ga_tree_digest(goaccel_digest *out, const goaccel_manifest_entry *entries, size_t count)
{
	ga_tree_enc e;
	size_t i;
	int error;
	if ((error = ga_tree_enc_start(&e, count)) < 0)
		goto done;
	for (i = 0; i < count; i++)
		if ((error = ga_tree_enc_add(&e, entries[i].path, strlen(entries[i].path), entries[i].type, entries[i].exec,
		                             entries[i].size, &entries[i].digest)) < 0)
			goto done;
	error = ga_tree_enc_finish(out, &e);
done:
	ga_tree_enc_dispose(&e);
	return error;
}

/* ---- accessors ------------------------------------------------------------------------------ */

size_t goaccel_manifest_entrycount(const goaccel_manifest *manifest)
{
	return manifest ? manifest->count : 0;
}

const goaccel_manifest_entry *goaccel_manifest_entry_byindex(const goaccel_manifest *manifest, size_t i)
{
	if (!manifest || i >= manifest->count)
		return NULL;
	return &manifest->entries[i];
}

const goaccel_manifest_entry *goaccel_manifest_entry_bypath(const goaccel_manifest *manifest, const char *path)
{
	size_t lo = 0, hi;
	if (!manifest || !path)
		return NULL;
	hi = manifest->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(manifest->entries[mid].path, path);
		if (c == 0)
			return &manifest->entries[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const goaccel_digest *goaccel_manifest_digest(const goaccel_manifest *manifest)
{
	return manifest ? &manifest->digest : NULL;
}

void goaccel_manifest_free(goaccel_manifest *manifest)
{
	size_t i;
	if (!manifest)
		return;
	for (i = 0; i < manifest->count; i++) {
		if (!in_arena(manifest, manifest->entries[i].path))
			free((char *)manifest->entries[i].path);
		free((char *)manifest->entries[i].link_target);
	}
	free(manifest->entries);
	free(manifest->arena);
	free(manifest);
}

/* ---- JSON ----------------------------------------------------------------------------------- */

static int set_bytes(json_t *obj, const char *key, const char *hexkey, const char *s)
{
	size_t len = strlen(s), i;
	json_t *v;
	if (ga_hash_utf8_valid(s, len)) {
		v = json_stringn(s, len);
		return v && json_object_set_new(obj, key, v) == 0 ? 0 : ga_error_oom();
	} else {
		static const char hex[] = "0123456789abcdef";
		char *h = malloc(2 * len + 1);
		if (!h)
			return ga_error_oom();
		for (i = 0; i < len; i++) {
			h[2 * i] = hex[(unsigned char)s[i] >> 4];
			h[2 * i + 1] = hex[(unsigned char)s[i] & 15];
		}
		h[2 * len] = '\0';
		v = json_string(h);
		free(h);
		return v && json_object_set_new(obj, hexkey, v) == 0 ? 0 : ga_error_oom();
	}
}

static json_t *entry_to_json(const goaccel_manifest_entry *e)
{
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	json_t *o = json_object();
	if (!o || set_bytes(o, "path", "path_hex", e->path) < 0 ||
	    json_object_set_new(o, "type", json_string(e->type == GOACCEL_ENTRY_SYMLINK ? "symlink" : "file")) ||
	    json_object_set_new(o, "exec", json_boolean(e->exec)) ||
	    json_object_set_new(o, "size", json_integer((json_int_t)e->size)))
		goto fail;
	goaccel_digest_fmt(hex, &e->digest);
	if (json_object_set_new(o, "digest", json_string(hex)))
		goto fail;
	if (e->type == GOACCEL_ENTRY_SYMLINK && set_bytes(o, "target", "target_hex", e->link_target) < 0)
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

int goaccel_manifest_to_json(char **out, const goaccel_manifest *manifest)
{
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	json_t *root = NULL, *arr = NULL;
	size_t i;
	int error = 0;
	GA_ASSERT_ARG(out);
	GA_ASSERT_ARG(manifest);
	*out = NULL;
	goaccel_digest_fmt(hex, &manifest->digest);
	if ((root = json_object()) == NULL || (arr = json_array()) == NULL ||
	    json_object_set_new(root, "format", json_string(MANIFEST_FORMAT)) ||
	    json_object_set_new(root, "version", json_integer(MANIFEST_VERSION)) ||
	    json_object_set_new(root, "digest", json_string(hex)) || json_object_set(root, "entries", arr)) {
		error = ga_error_oom();
		goto done;
	}
	for (i = 0; i < manifest->count; i++) {
		json_t *e = entry_to_json(&manifest->entries[i]);
		if (!e || json_array_append_new(arr, e)) {
			error = ga_error_oom();
			goto done;
		}
	}
	if ((*out = json_dumps(root, JSON_COMPACT)) == NULL)
		error = ga_error_oom();
done:
	json_decref(arr);
	json_decref(root);
	return error;
}

static int bad_field(size_t index, const char *what)
{
	if (index == (size_t)-1)
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_HASH, "manifest: %s", what);
	return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_HASH, "manifest: entries[%zu]: %s", index, what);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads "key" (a UTF-8 string) or "hexkey" (hex bytes) - exactly one of them - into a new
 * NUL-free string. */
static int get_bytes(char **out, json_t *o, const char *key, const char *hexkey, size_t index)
{
	json_t *s = json_object_get(o, key), *h = json_object_get(o, hexkey);
	const char *src;
	size_t len, i;
	*out = NULL;
	if ((s != NULL) == (h != NULL))
		return bad_field(index, s ? "both a string and a hex form" : "missing path or target");
	if (s) {
		if (!json_is_string(s))
			return bad_field(index, "not a string");
		src = json_string_value(s);
		len = json_string_length(s);
		if (memchr(src, '\0', len))
			return bad_field(index, "NUL byte in a name");
		if ((*out = strdup(src)) == NULL)
			return ga_error_oom();
		return 0;
	}
	if (!json_is_string(h) || (len = json_string_length(h)) % 2)
		return bad_field(index, "bad hex form");
	src = json_string_value(h);
	if ((*out = malloc(len / 2 + 1)) == NULL)
		return ga_error_oom();
	for (i = 0; i < len / 2; i++) {
		int hi = hexval(src[2 * i]), lo = hexval(src[2 * i + 1]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			free(*out);
			*out = NULL;
			return bad_field(index, "bad hex form");
		}
		(*out)[i] = (char)(hi << 4 | lo);
	}
	(*out)[len / 2] = '\0';
	return 0;
}

static int check_keys(json_t *o, const char *const *allowed, size_t index)
{
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v) {
		const char *const *a;
		int ok = 0;
		(void)v;
		for (a = allowed; *a && !ok; a++)
			ok = strcmp(*a, key) == 0;
		if (!ok) {
			char msg[128];
			snprintf(msg, sizeof(msg), "unknown field \"%.64s\"", key);
			return bad_field(index, msg);
		}
	}
	return 0;
}

static int entry_from_json(goaccel_manifest *m, json_t *o, size_t index)
{
	static const char *const keys[] = {"path", "path_hex", "type", "exec", "size", "digest",
	                                   "target", "target_hex", NULL};
	json_t *type, *exec, *size, *digest;
	char *path = NULL, *target = NULL;
	goaccel_entry_type t;
	goaccel_digest d;
	int error;
	if (!json_is_object(o))
		return bad_field(index, "not an object");
	if ((error = check_keys(o, keys, index)) < 0 || (error = get_bytes(&path, o, "path", "path_hex", index)) < 0)
		goto done;
	type = json_object_get(o, "type");
	exec = json_object_get(o, "exec");
	size = json_object_get(o, "size");
	digest = json_object_get(o, "digest");
	if (!json_is_string(type) || !json_is_boolean(exec) || !json_is_integer(size) || json_integer_value(size) < 0 ||
	    !json_is_string(digest) || goaccel_digest_parse(&d, json_string_value(digest)) < 0) {
		error = bad_field(index, "missing or malformed type, exec, size or digest");
		goto done;
	}
	if (strcmp(json_string_value(type), "file") == 0) {
		t = GOACCEL_ENTRY_FILE;
		if (json_object_get(o, "target") || json_object_get(o, "target_hex")) {
			error = bad_field(index, "a file with a link target");
			goto done;
		}
	} else if (strcmp(json_string_value(type), "symlink") == 0) {
		goaccel_digest td;
		t = GOACCEL_ENTRY_SYMLINK;
		if ((error = get_bytes(&target, o, "target", "target_hex", index)) < 0)
			goto done;
		if (json_is_true(exec) || !*target || (uint64_t)json_integer_value(size) != strlen(target)) {
			error = bad_field(index, "symlink with exec set, an empty target or a wrong size");
			goto done;
		}
		if ((error = goaccel_digest_buffer(&td, target, strlen(target))) < 0)
			goto done;
		if (goaccel_digest_cmp(&td, &d) != 0) {
			error = bad_field(index, "symlink digest does not match its target");
			goto done;
		}
	} else {
		error = bad_field(index, "unknown type");
		goto done;
	}
	error = ga_manifest_push(m, path, t, json_is_true(exec), (uint64_t)json_integer_value(size), &d, target);
	path = target = NULL;
done:
	free(path);
	free(target);
	return error;
}

/* Paths must be valid, strictly increasing, and no entry may also be a parent directory of
 * another (a file system cannot hold both). The empty path is allowed only alone. */
static int validate_paths(const goaccel_manifest *m)
{
	size_t i, j;
	for (i = 0; i < m->count; i++) {
		const char *p = m->entries[i].path;
		size_t len = strlen(p);
		if (len == 0 && m->count == 1)
			continue;
		if (!ga_hash_relpath_valid(p, len))
			return bad_field(i, "invalid path");
		if (i && strcmp(m->entries[i - 1].path, p) >= 0)
			return bad_field(i, "entries not in strictly increasing path order");
		for (j = 0; j < len; j++) {
			if (p[j] == '/') {
				char *parent = strndup(p, j);
				const goaccel_manifest_entry *e;
				if (!parent)
					return ga_error_oom();
				e = goaccel_manifest_entry_bypath(m, parent);
				free(parent);
				if (e)
					return bad_field(i, "path below an entry that is not a directory");
			}
		}
	}
	return 0;
}

int goaccel_manifest_from_json(goaccel_manifest **out, const char *json, size_t len)
{
	static const char *const keys[] = {"format", "version", "digest", "entries", NULL};
	goaccel_manifest *m = NULL;
	json_error_t jerr;
	json_t *root = NULL, *v, *entries;
	goaccel_digest recorded, computed;
	size_t i;
	int error;
	GA_ASSERT_ARG(out);
	GA_ASSERT_ARG(json || len == 0);
	*out = NULL;
	if ((root = json_loadb(json ? json : "", len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		error = ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_JSON, "manifest: line %d: %s", jerr.line, jerr.text);
		goto done;
	}
	if (!json_is_object(root)) {
		error = bad_field((size_t)-1, "not a JSON object");
		goto done;
	}
	v = json_object_get(root, "format");
	if (!json_is_string(v) || strcmp(json_string_value(v), MANIFEST_FORMAT) != 0) {
		error = bad_field((size_t)-1, "\"format\" is not \"" MANIFEST_FORMAT "\"");
		goto done;
	}
	v = json_object_get(root, "version");
	if (!json_is_integer(v)) {
		error = bad_field((size_t)-1, "\"version\" missing");
		goto done;
	}
	if (json_integer_value(v) != MANIFEST_VERSION) {
		error = ga_error(GOACCEL_EVERSION, GOACCEL_ERROR_HASH, "manifest: version %lld, expected %d",
		                 (long long)json_integer_value(v), MANIFEST_VERSION);
		goto done;
	}
	if ((error = check_keys(root, keys, (size_t)-1)) < 0)
		goto done;
	v = json_object_get(root, "digest");
	entries = json_object_get(root, "entries");
	if (!json_is_string(v) || goaccel_digest_parse(&recorded, json_string_value(v)) < 0 ||
	    !json_is_array(entries)) {
		error = bad_field((size_t)-1, "\"digest\" or \"entries\" missing or malformed");
		goto done;
	}
	if ((error = ga_manifest_new(&m, json_array_size(entries), 0)) < 0)
		goto done;
	for (i = 0; i < json_array_size(entries); i++)
		if ((error = entry_from_json(m, json_array_get(entries, i), i)) < 0)
			goto done;
	if ((error = validate_paths(m)) < 0 || (error = ga_tree_digest(&computed, m->entries, m->count)) < 0)
		goto done;
	if (goaccel_digest_cmp(&computed, &recorded) != 0) {
		error = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_HASH,
		                 "manifest: the recorded digest does not match its entries");
		goto done;
	}
	m->digest = computed;
	*out = m;
	m = NULL;
done:
	goaccel_manifest_free(m);
	json_decref(root);
	return error;
}

int goaccel_manifest_save(const goaccel_manifest *manifest, const char *path)
{
	char *json = NULL;
	int error;
	GA_ASSERT_ARG(manifest);
	GA_ASSERT_ARG(path);
	if ((error = goaccel_manifest_to_json(&json, manifest)) < 0)
		return error;
	error = ga_write_file_atomic(path, json, strlen(json), 0644, 0);
	free(json);
	return error;
}

int goaccel_manifest_load(goaccel_manifest **out, const char *path)
{
	ga_buf buf = GA_BUF_INIT;
	int error;
	GA_ASSERT_ARG(out);
	GA_ASSERT_ARG(path);
	*out = NULL;
	if ((error = ga_read_file(&buf, path, 0)) < 0)
		goto done;
	if ((error = goaccel_manifest_from_json(out, buf.ptr ? buf.ptr : "", buf.size)) < 0) {
		char *msg = strdup(goaccel_error_last()->message);
		int klass = goaccel_error_last()->klass;
		ga_error(error, klass, "%s: %s", path, msg ? msg : "invalid manifest");
		free(msg);
	}
done:
	ga_buf_dispose(&buf);
	return error;
}

/* ---- diffs ---------------------------------------------------------------------------------- */

struct goaccel_manifest_changes {
	goaccel_manifest_change *items;
	goaccel_manifest_entry *copies; /* old/new entries the items point to */
	size_t count, ncopies;
};

static int copy_entry(goaccel_manifest_entry *dst, const goaccel_manifest_entry *src)
{
	*dst = *src;
	dst->path = strdup(src->path);
	dst->link_target = src->link_target ? strdup(src->link_target) : NULL;
	if (!dst->path || (src->link_target && !dst->link_target))
		return ga_error_oom();
	return 0;
}

static unsigned int compare_entries(const goaccel_manifest_entry *a, const goaccel_manifest_entry *b)
{
	unsigned int c = 0;
	if (a->type != b->type)
		return GOACCEL_CHANGE_TYPE;
	if (a->size != b->size || goaccel_digest_cmp(&a->digest, &b->digest) != 0)
		c |= GOACCEL_CHANGE_CONTENT;
	if (a->exec != b->exec)
		c |= GOACCEL_CHANGE_MODE;
	return c;
}

int goaccel_manifest_diff(goaccel_manifest_changes **out, const goaccel_manifest *old_manifest,
                          const goaccel_manifest *new_manifest)
{
	goaccel_manifest_changes *ch = NULL;
	size_t i = 0, j = 0, max;
	int error = 0;
	GA_ASSERT_ARG(out);
	GA_ASSERT_ARG(old_manifest);
	GA_ASSERT_ARG(new_manifest);
	*out = NULL;
	max = old_manifest->count + new_manifest->count;
	if ((ch = calloc(1, sizeof(*ch))) == NULL ||
	    (max && ((ch->items = calloc(max, sizeof(*ch->items))) == NULL ||
	             (ch->copies = calloc(max, sizeof(*ch->copies))) == NULL))) {
		error = ga_error_oom();
		goto done;
	}
	while (i < old_manifest->count || j < new_manifest->count) {
		const goaccel_manifest_entry *a = i < old_manifest->count ? &old_manifest->entries[i] : NULL;
		const goaccel_manifest_entry *b = j < new_manifest->count ? &new_manifest->entries[j] : NULL;
		int c = !a ? 1 : !b ? -1 : strcmp(a->path, b->path);
		goaccel_manifest_change *item = &ch->items[ch->count];
		unsigned int change = c < 0 ? GOACCEL_CHANGE_REMOVED : c > 0 ? GOACCEL_CHANGE_ADDED : compare_entries(a, b);
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
		if (!change)
			continue;
		item->change = change;
		if (c <= 0) {
			if ((error = copy_entry(&ch->copies[ch->ncopies], a)) < 0) {
				ch->ncopies++;
				goto done;
			}
			item->old_entry = &ch->copies[ch->ncopies++];
		}
		if (c >= 0) {
			if ((error = copy_entry(&ch->copies[ch->ncopies], b)) < 0) {
				ch->ncopies++;
				goto done;
			}
			item->new_entry = &ch->copies[ch->ncopies++];
		}
		item->path = item->new_entry ? item->new_entry->path : item->old_entry->path;
		ch->count++;
	}
	*out = ch;
	ch = NULL;
done:
	goaccel_manifest_changes_free(ch);
	return error;
}

size_t goaccel_manifest_changes_count(const goaccel_manifest_changes *changes)
{
	return changes ? changes->count : 0;
}

const goaccel_manifest_change *goaccel_manifest_changes_byindex(const goaccel_manifest_changes *changes, size_t i)
{
	if (!changes || i >= changes->count)
		return NULL;
	return &changes->items[i];
}

static const char *change_word(const goaccel_manifest_change *c)
{
	switch (c->change) {
	case GOACCEL_CHANGE_ADDED:
		return "added";
	case GOACCEL_CHANGE_REMOVED:
		return "removed";
	case GOACCEL_CHANGE_CONTENT:
		return "content";
	case GOACCEL_CHANGE_MODE:
		return "mode";
	case GOACCEL_CHANGE_CONTENT | GOACCEL_CHANGE_MODE:
		return "content+mode";
	default:
		return "type";
	}
}

static const char *type_word(goaccel_entry_type t)
{
	return t == GOACCEL_ENTRY_SYMLINK ? "symlink" : "file";
}

int goaccel_manifest_changes_to_text(char **out, const goaccel_manifest_changes *changes, size_t limit)
{
	ga_buf buf = GA_BUF_INIT;
	size_t i;
	int error = 0;
	GA_ASSERT_ARG(out);
	GA_ASSERT_ARG(changes);
	*out = NULL;
	for (i = 0; i < changes->count && error == 0; i++) {
		const goaccel_manifest_change *c = &changes->items[i];
		if (limit && i == limit) {
			error = ga_buf_printf(&buf, "... and %zu more\n", changes->count - limit);
			break;
		}
		if ((error = ga_buf_printf(&buf, "%-12s ", change_word(c))) < 0 ||
		    (error = ga_hash_put_escaped(&buf, c->path, strlen(c->path))) < 0)
			break;
		if (c->change & GOACCEL_CHANGE_MODE)
			error = ga_buf_puts(&buf, c->new_entry->exec ? " (now executable)" : " (no longer executable)");
		else if (c->change == GOACCEL_CHANGE_TYPE)
			error = ga_buf_printf(&buf, " (%s -> %s)", type_word(c->old_entry->type), type_word(c->new_entry->type));
		if (error == 0)
			error = ga_buf_putc(&buf, '\n');
	}
	if (error == 0)
		*out = ga_buf_detach(&buf);
	ga_buf_dispose(&buf);
	return error;
}

void goaccel_manifest_changes_free(goaccel_manifest_changes *changes)
{
	size_t i;
	if (!changes)
		return;
	for (i = 0; i < changes->ncopies; i++) {
		free((char *)changes->copies[i].path);
		free((char *)changes->copies[i].link_target);
	}
	free(changes->copies);
	free(changes->items);
	free(changes);
}
