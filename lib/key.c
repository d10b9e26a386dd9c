/* key layer: step keys — a canonical, versioned, length-prefixed encoding of (kind, parent,
 * named fields), its SHA-256, a JSON form and field-by-field diffs. docs/keys.md is the
 * specification; the encoder below follows it section by section. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "goaccel/key.h"
#include "gomod_internal.h"
#include "util/buf.h"
#include "util/err.h"

/* The tag that starts every encoding: names the format before the version number. */
static const char KEY_TAG[12] = {'g', 'o', 'a', 'c', 'c', 'e', 'l', '.', 'k', 'e', 'y', '\n'};

struct goaccel_key {
	char *kind;
	int has_parent;
	goaccel_digest parent;
	goaccel_key_field *fields; /* sorted by name (bytewise); names unique */
	size_t count, cap;
};

static int is_text(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		size_t sz;
		if (s[i] == '\0' || ga_utf8_decode((const unsigned char *)s + i, len - i, &sz) < 0)
			return 0;
		i += sz;
	}
	return 1;
}

static int key_error(int code, const char *fmt, const char *a)
{
	return ga_error(code, GOACCEL_ERROR_KEY, fmt, a ? a : "");
}

int goaccel_key_new(goaccel_key **out, const char *kind)
{
	goaccel_key *k;
	GA_ASSERT_ARG(out);
	*out = NULL;
	GA_ASSERT_ARG(kind && kind[0]);
	if (!is_text(kind, strlen(kind)))
		return key_error(GOACCEL_EINVALID, "key kind '%s' is not UTF-8", kind);
	if (!(k = calloc(1, sizeof(*k))) || !(k->kind = strdup(kind))) {
		free(k);
		return ga_error_oom();
	}
	*out = k;
	return 0;
}

void goaccel_key_free(goaccel_key *k)
{
	size_t i;
	if (!k)
		return;
	for (i = 0; i < k->count; i++) {
		free((char *)k->fields[i].name);
		free((char *)k->fields[i].value);
	}
	free(k->fields);
	free(k->kind);
	free(k);
}

/* Bytewise order of names (strcmp: names hold no NUL). Binary search; *found says whether the
 * name is present; the return value is its index or the insertion point. */
static size_t field_find(const goaccel_key *k, const char *name, int *found)
{
	size_t lo = 0, hi = k->count;
	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(k->fields[mid].name, name);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int field_insert(goaccel_key *k, const char *name, goaccel_key_field_type type, const void *value,
                        size_t len, const goaccel_digest *digest)
{
	goaccel_key_field *f;
	size_t at;
	int found;
	char *nm = NULL, *val = NULL;
	GA_ASSERT_ARG(k && name);
	if (!name[0] || name[0] == '@' || !is_text(name, strlen(name)))
		return key_error(GOACCEL_EINVALID, "key field name '%s': empty, not UTF-8, or starting with '@' (reserved)", name);
	at = field_find(k, name, &found);
	if (found)
		return key_error(GOACCEL_EEXISTS, "key field '%s' is already set", name);
	if (k->count == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 16;
		goaccel_key_field *p = realloc(k->fields, cap * sizeof(*p));
		if (!p)
			return ga_error_oom();
		k->fields = p;
		k->cap = cap;
	}
	nm = strdup(name);
	if (type == GOACCEL_KEY_FIELD_DIGEST) {
		if ((val = malloc(GOACCEL_DIGEST_HEXSIZE + 1)) != NULL)
			goaccel_digest_fmt(val, digest);
		len = GOACCEL_DIGEST_HEXSIZE;
	} else if ((val = malloc(len + 1)) != NULL) {
		if (len)
			memcpy(val, value, len);
		val[len] = '\0';
	}
	if (!nm || !val) {
		free(nm);
		free(val);
		return ga_error_oom();
	}
	memmove(&k->fields[at + 1], &k->fields[at], (k->count - at) * sizeof(*f));
	f = &k->fields[at];
	memset(f, 0, sizeof(*f));
	f->name = nm;
	f->type = type;
	f->value = val;
	f->value_len = len;
	if (digest)
		f->digest = *digest;
	k->count++;
	return 0;
}

int goaccel_key_add_bytes(goaccel_key *k, const char *name, const void *value, size_t len)
{
	GA_ASSERT_ARG(value || len == 0);
	return field_insert(k, name, GOACCEL_KEY_FIELD_STRING, value, len, NULL);
}

int goaccel_key_add_string(goaccel_key *k, const char *name, const char *value)
{
	GA_ASSERT_ARG(value);
	return field_insert(k, name, GOACCEL_KEY_FIELD_STRING, value, strlen(value), NULL);
}

int goaccel_key_add_digest(goaccel_key *k, const char *name, const goaccel_digest *digest)
{
	GA_ASSERT_ARG(digest);
	return field_insert(k, name, GOACCEL_KEY_FIELD_DIGEST, NULL, 0, digest);
}

int goaccel_key_set_parent(goaccel_key *k, const goaccel_digest *parent)
{
	GA_ASSERT_ARG(k);
	k->has_parent = parent != NULL;
	if (parent)
		k->parent = *parent;
	else
		memset(&k->parent, 0, sizeof(k->parent));
	return 0;
}

const char *goaccel_key_kind(const goaccel_key *k) { return k ? k->kind : NULL; }
const goaccel_digest *goaccel_key_parent(const goaccel_key *k) { return k && k->has_parent ? &k->parent : NULL; }
size_t goaccel_key_field_count(const goaccel_key *k) { return k ? k->count : 0; }

const goaccel_key_field *goaccel_key_field_byindex(const goaccel_key *k, size_t i)
{
	return k && i < k->count ? &k->fields[i] : NULL;
}

const goaccel_key_field *goaccel_key_field_byname(const goaccel_key *k, const char *name)
{
	int found;
	size_t at;
	if (!k || !name)
		return NULL;
	at = field_find(k, name, &found);
	return found ? &k->fields[at] : NULL;
}

/* ---- encoding (docs/keys.md, "Encoding, version 1") ------------------------------------------ */

static int put_str(ga_buf *b, const void *s, size_t len)
{
	if (ga_buf_put_u64be(b, (uint64_t)len) < 0 || ga_buf_put(b, s, len) < 0)
		return GOACCEL_ERROR;
	return 0;
}

static int key_encode_buf(ga_buf *b, const goaccel_key *k)
{
	size_t i;
	unsigned char type;
	if (ga_buf_put(b, KEY_TAG, sizeof(KEY_TAG)) < 0 || ga_buf_put_u32be(b, GOACCEL_KEY_ENCODING_VERSION) < 0 ||
	    put_str(b, k->kind, strlen(k->kind)) < 0 || ga_buf_putc(b, (char)(k->has_parent ? 1 : 0)) < 0 ||
	    (k->has_parent && ga_buf_put(b, k->parent.id, GOACCEL_DIGEST_SIZE) < 0) ||
	    ga_buf_put_u64be(b, (uint64_t)k->count) < 0)
		return GOACCEL_ERROR;
	for (i = 0; i < k->count; i++) {
		const goaccel_key_field *f = &k->fields[i];
		type = (unsigned char)f->type;
		if (put_str(b, f->name, strlen(f->name)) < 0 || ga_buf_put(b, &type, 1) < 0)
			return GOACCEL_ERROR;
		if (f->type == GOACCEL_KEY_FIELD_DIGEST ? put_str(b, f->digest.id, GOACCEL_DIGEST_SIZE) < 0
		                                        : put_str(b, f->value, f->value_len) < 0)
			return GOACCEL_ERROR;
	}
	return 0;
}

int goaccel_key_encode(unsigned char **out, size_t *out_len, const goaccel_key *k)
{
	ga_buf b = GA_BUF_INIT;
	GA_ASSERT_ARG(out && out_len && k);
	*out = NULL;
	*out_len = 0;
	if (key_encode_buf(&b, k) < 0) {
		ga_buf_dispose(&b);
		return GOACCEL_ERROR;
	}
	*out_len = b.size;
	*out = (unsigned char *)ga_buf_detach(&b);
	return 0;
}

int goaccel_key_finish(goaccel_digest *out, const goaccel_key *k)
{
	ga_buf b = GA_BUF_INIT;
	int rc;
	GA_ASSERT_ARG(out && k);
	if ((rc = key_encode_buf(&b, k)) == 0)
		rc = goaccel_digest_buffer(out, b.ptr, b.size);
	ga_buf_dispose(&b);
	return rc;
}

/* ---- JSON ------------------------------------------------------------------------------------- */

static json_t *field_json(const goaccel_key_field *f)
{
	json_t *o = json_object(), *v = NULL;
	const char *type = "string";
	if (!o)
		return NULL;
	if (f->type == GOACCEL_KEY_FIELD_DIGEST) {
		type = "digest";
		v = json_string(f->value);
	} else if (is_text(f->value, f->value_len)) {
		v = json_stringn(f->value, f->value_len);
	} else {
		char *b64 = malloc(4 * ((f->value_len + 2) / 3) + 1);
		type = "bytes";
		if (b64) {
			EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)f->value, (int)f->value_len);
			v = json_string(b64);
			free(b64);
		}
	}
	if (!v || json_object_set_new(o, "name", json_string(f->name)) < 0 ||
	    json_object_set_new(o, "type", json_string(type)) < 0 || json_object_set_new(o, "value", v) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int goaccel_key_to_json(char **out, const goaccel_key *k)
{
	json_t *root = NULL, *fields = NULL;
	char hex[GOACCEL_DIGEST_HEXSIZE + 1];
	goaccel_digest id;
	size_t i;
	int rc = GOACCEL_ERROR;
	GA_ASSERT_ARG(out && k);
	*out = NULL;
	if ((rc = goaccel_key_finish(&id, k)) < 0)
		return rc;
	rc = GOACCEL_ERROR;
	if (!(root = json_object()) || !(fields = json_array()))
		goto oom;
	if (json_object_set_new(root, "version", json_integer(GOACCEL_KEY_ENCODING_VERSION)) < 0 ||
	    json_object_set_new(root, "kind", json_string(k->kind)) < 0)
		goto oom;
	if (k->has_parent) {
		goaccel_digest_fmt(hex, &k->parent);
		if (json_object_set_new(root, "parent", json_string(hex)) < 0)
			goto oom;
	} else if (json_object_set_new(root, "parent", json_null()) < 0) {
		goto oom;
	}
	goaccel_digest_fmt(hex, &id);
	if (json_object_set_new(root, "key", json_string(hex)) < 0)
		goto oom;
	for (i = 0; i < k->count; i++) {
		json_t *f = field_json(&k->fields[i]);
		if (!f || json_array_append_new(fields, f) < 0)
			goto oom;
	}
	if (json_object_set(root, "fields", fields) < 0)
		goto oom;
	if (!(*out = json_dumps(root, JSON_PRESERVE_ORDER | JSON_COMPACT)))
		goto oom;
	rc = 0;
	goto done;
oom:
	/* jansson fails only on allocation (or invalid UTF-8 in a kind or name) */
	rc = ga_error(GOACCEL_ERROR, GOACCEL_ERROR_JSON, "key '%s': cannot build JSON (out of memory or a kind/name "
	              "that is not UTF-8)", k->kind);
done:
	json_decref(fields);
	json_decref(root);
	return rc;
}

static int json_bad(const char *member)
{
	return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_KEY, "key JSON: missing or malformed member '%s'", member);
}

static int field_from_json(goaccel_key *k, json_t *f, size_t index)
{
	const char *name = json_string_value(json_object_get(f, "name"));
	const char *type = json_string_value(json_object_get(f, "type"));
	json_t *value = json_object_get(f, "value");
	const char *sv = json_string_value(value);
	char where[64];
	snprintf(where, sizeof(where), "fields[%zu]", index);
	if (!name || !type || !sv)
		return json_bad(where);
	if (strcmp(type, "string") == 0)
		return goaccel_key_add_bytes(k, name, sv, json_string_length(value));
	if (strcmp(type, "digest") == 0) {
		goaccel_digest d;
		if (goaccel_digest_parse(&d, sv) < 0)
			return json_bad(where);
		return goaccel_key_add_digest(k, name, &d);
	}
	if (strcmp(type, "bytes") == 0) {
		size_t len = strlen(sv), pad = 0;
		unsigned char *raw;
		int n, rc;
		if (len % 4)
			return json_bad(where);
		if (!(raw = malloc(len / 4 * 3 + 1)))
			return ga_error_oom();
		n = EVP_DecodeBlock(raw, (const unsigned char *)sv, (int)len);
		while (pad < 2 && len > pad && sv[len - 1 - pad] == '=')
			pad++;
		rc = n < 0 ? json_bad(where) : goaccel_key_add_bytes(k, name, raw, (size_t)n - pad);
		free(raw);
		return rc;
	}
	return json_bad(where);
}

int goaccel_key_from_json(goaccel_key **out, const char *text)
{
	json_error_t jerr;
	json_t *root = NULL, *fields, *parent, *f, *version;
	goaccel_key *k = NULL;
	const char *kind, *keyhex;
	size_t i;
	int rc;
	GA_ASSERT_ARG(out && text);
	*out = NULL;
	if (!(root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr)))
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_JSON, "key JSON: line %d: %s", jerr.line, jerr.text);
	version = json_object_get(root, "version");
	if (!json_is_integer(version)) {
		rc = json_bad("version");
		goto done;
	}
	if (json_integer_value(version) != GOACCEL_KEY_ENCODING_VERSION) {
		rc = ga_error(GOACCEL_EVERSION, GOACCEL_ERROR_KEY, "key JSON: encoding version %lld, this library reads %d",
		              (long long)json_integer_value(version), GOACCEL_KEY_ENCODING_VERSION);
		goto done;
	}
	if (!(kind = json_string_value(json_object_get(root, "kind"))) || !kind[0]) {
		rc = json_bad("kind");
		goto done;
	}
	if ((rc = goaccel_key_new(&k, kind)) < 0)
		goto done;
	parent = json_object_get(root, "parent");
	if (parent && !json_is_null(parent)) {
		goaccel_digest p;
		if (!json_is_string(parent) || goaccel_digest_parse(&p, json_string_value(parent)) < 0) {
			rc = json_bad("parent");
			goto done;
		}
		goaccel_key_set_parent(k, &p);
	}
	fields = json_object_get(root, "fields");
	if (!json_is_array(fields)) {
		rc = json_bad("fields");
		goto done;
	}
	json_array_foreach(fields, i, f) {
		if ((rc = field_from_json(k, f, i)) < 0)
			goto done;
	}
	if ((keyhex = json_string_value(json_object_get(root, "key"))) != NULL) {
		goaccel_digest want, got;
		if (goaccel_digest_parse(&want, keyhex) < 0) {
			rc = json_bad("key");
			goto done;
		}
		if ((rc = goaccel_key_finish(&got, k)) < 0)
			goto done;
		if (goaccel_digest_cmp(&want, &got) != 0) {
			rc = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_KEY, "key JSON: 'key' %s does not match its fields", keyhex);
			goto done;
		}
	}
	*out = k;
	k = NULL;
	rc = 0;
done:
	goaccel_key_free(k);
	json_decref(root);
	return rc;
}

/* ---- diffs ------------------------------------------------------------------------------------ */

struct goaccel_key_diff {
	goaccel_key_diff_entry *entries;
	size_t count;
	char **strings; /* owned copies of names and values */
	size_t nstrings;
};

void goaccel_key_diff_free(goaccel_key_diff *d)
{
	size_t i;
	if (!d)
		return;
	for (i = 0; i < d->nstrings; i++)
		free(d->strings[i]);
	free(d->strings);
	free(d->entries);
	free(d);
}

static const char *diff_keep(goaccel_key_diff *d, const char *s)
{
	char *c;
	if (!s)
		return NULL;
	if (!(c = strdup(s)))
		return NULL;
	d->strings[d->nstrings++] = c;
	return c;
}

static int diff_add(goaccel_key_diff *d, const char *name, goaccel_key_change change, const char *old_v, const char *new_v)
{
	goaccel_key_diff_entry *e = &d->entries[d->count];
	e->change = change;
	if (!(e->name = diff_keep(d, name)) || (old_v && !(e->old_value = diff_keep(d, old_v))) ||
	    (new_v && !(e->new_value = diff_keep(d, new_v))))
		return ga_error_oom();
	if (!old_v)
		e->old_value = NULL;
	if (!new_v)
		e->new_value = NULL;
	d->count++;
	return 0;
}

static int field_equal(const goaccel_key_field *a, const goaccel_key_field *b)
{
	return a->type == b->type && a->value_len == b->value_len && memcmp(a->value, b->value, a->value_len) == 0;
}

int goaccel_key_diff_new(goaccel_key_diff **out, const goaccel_key *a, const goaccel_key *b)
{
	goaccel_key_diff *d;
	size_t i = 0, j = 0, max;
	char ha[GOACCEL_DIGEST_HEXSIZE + 1], hb[GOACCEL_DIGEST_HEXSIZE + 1];
	int rc = 0;
	GA_ASSERT_ARG(out && a && b);
	*out = NULL;
	max = a->count + b->count + 2;
	if (!(d = calloc(1, sizeof(*d))) || !(d->entries = calloc(max, sizeof(*d->entries))) ||
	    !(d->strings = calloc(max * 3, sizeof(char *)))) {
		goaccel_key_diff_free(d);
		return ga_error_oom();
	}
	if (strcmp(a->kind, b->kind) != 0 && (rc = diff_add(d, "@kind", GOACCEL_KEY_CHANGED, a->kind, b->kind)) < 0)
		goto done;
	goaccel_digest_fmt(ha, &a->parent);
	goaccel_digest_fmt(hb, &b->parent);
	if ((a->has_parent != b->has_parent || (a->has_parent && strcmp(ha, hb) != 0)) &&
	    (rc = diff_add(d, "@parent", !a->has_parent ? GOACCEL_KEY_ADDED : !b->has_parent ? GOACCEL_KEY_REMOVED
	                                                                                     : GOACCEL_KEY_CHANGED,
	                   a->has_parent ? ha : NULL, b->has_parent ? hb : NULL)) < 0)
		goto done;
	while (i < a->count || j < b->count) {
		int c = i == a->count ? 1 : j == b->count ? -1 : strcmp(a->fields[i].name, b->fields[j].name);
		if (c < 0) {
			rc = diff_add(d, a->fields[i].name, GOACCEL_KEY_REMOVED, a->fields[i].value, NULL);
			i++;
		} else if (c > 0) {
			rc = diff_add(d, b->fields[j].name, GOACCEL_KEY_ADDED, NULL, b->fields[j].value);
			j++;
		} else {
			if (!field_equal(&a->fields[i], &b->fields[j]))
				rc = diff_add(d, a->fields[i].name, GOACCEL_KEY_CHANGED, a->fields[i].value, b->fields[j].value);
			i++;
			j++;
		}
		if (rc < 0)
			goto done;
	}
	*out = d;
	d = NULL;
done:
	goaccel_key_diff_free(d);
	return rc;
}

size_t goaccel_key_diff_entrycount(const goaccel_key_diff *d) { return d ? d->count : 0; }

const goaccel_key_diff_entry *goaccel_key_diff_entry_byindex(const goaccel_key_diff *d, size_t i)
{
	return d && i < d->count ? &d->entries[i] : NULL;
}

static json_t *json_str_or_null(const char *s)
{
	json_t *v;
	if (!s)
		return json_null();
	/* a value that is not UTF-8 is shown with its bytes replaced, for humans only */
	if ((v = json_string(s)) != NULL)
		return v;
	return json_string("(binary value)");
}

int goaccel_key_diff_to_json(char **out, const goaccel_key_diff *d)
{
	static const char *const change_names[] = {"", "added", "removed", "changed"};
	json_t *arr;
	size_t i;
	GA_ASSERT_ARG(out && d);
	*out = NULL;
	if (!(arr = json_array()))
		return ga_error_oom();
	for (i = 0; i < d->count; i++) {
		const goaccel_key_diff_entry *e = &d->entries[i];
		json_t *o = json_object();
		if (!o || json_array_append_new(arr, o) < 0 || json_object_set_new(o, "name", json_str_or_null(e->name)) < 0 ||
		    json_object_set_new(o, "change", json_string(change_names[e->change])) < 0 ||
		    json_object_set_new(o, "old", json_str_or_null(e->old_value)) < 0 ||
		    json_object_set_new(o, "new", json_str_or_null(e->new_value)) < 0) {
			json_decref(arr);
			return ga_error_oom();
		}
	}
	*out = json_dumps(arr, JSON_PRESERVE_ORDER | JSON_COMPACT);
	json_decref(arr);
	return *out ? 0 : ga_error_oom();
}
