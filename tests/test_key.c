/* key layer: the canonical encoding (checked against the worked examples in docs/keys.md),
 * order independence, naming rules, JSON round trips and diffs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static void hex_of(char *out, const unsigned char *data, size_t len)
{
	size_t i;
	for (i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", data[i]);
	out[2 * len] = '\0';
}

static void digest_hex(char out[65], const goaccel_digest *d)
{
	GA_OK(goaccel_digest_fmt(out, d));
}

/* One `key-example` block of docs/keys.md. */
typedef struct {
	char *kind, *parent, *encoding, *key;
	char *lines[32]; /* "string NAME VALUE" / "digest NAME HEX" */
	size_t n;
} key_example;

static void example_free(key_example *e)
{
	size_t i;
	free(e->kind);
	free(e->parent);
	free(e->encoding);
	free(e->key);
	for (i = 0; i < e->n; i++)
		free(e->lines[i]);
}

static void add_line(goaccel_key *k, const char *line)
{
	const char *name = strchr(line, ' ') + 1, *sp = strchr(name, ' ');
	char *nm = sp ? strndup(name, (size_t)(sp - name)) : strdup(name);
	const char *value = sp ? sp + 1 : "";
	if (strncmp(line, "string ", 7) == 0) {
		GA_OK(goaccel_key_add_string(k, nm, value));
	} else {
		goaccel_digest d;
		GA_OK(goaccel_digest_parse(&d, value));
		GA_OK(goaccel_key_add_digest(k, nm, &d));
	}
	free(nm);
}

static void check_example(const key_example *e, int reverse)
{
	goaccel_key *k;
	goaccel_digest id;
	unsigned char *enc;
	size_t len, i;
	char *hex, khex[65];
	GA_OK(goaccel_key_new(&k, e->kind));
	if (e->parent) {
		goaccel_digest p;
		GA_OK(goaccel_digest_parse(&p, e->parent));
		GA_OK(goaccel_key_set_parent(k, &p));
	}
	for (i = 0; i < e->n; i++)
		add_line(k, e->lines[reverse ? e->n - 1 - i : i]);
	GA_OK(goaccel_key_encode(&enc, &len, k));
	hex = malloc(2 * len + 1);
	hex_of(hex, enc, len);
	assert_string_equal(hex, e->encoding);
	GA_OK(goaccel_key_finish(&id, k));
	digest_hex(khex, &id);
	assert_string_equal(khex, e->key);
	free(hex);
	goaccel_free(enc);
	goaccel_key_free(k);
}

/* Every `key-example` block of docs/keys.md reproduces its encoding and key, whatever the order
 * of the calls. */
static void test_key__documented_examples(void **state)
{
	char *doc = tu_read(GOACCEL_SOURCE_DIR "/docs/keys.md", NULL), *p = doc;
	int blocks = 0;
	(void)state;
	while ((p = strstr(p, "```key-example\n")) != NULL) {
		char *end = strstr(p, "\n```"), *line;
		key_example e;
		memset(&e, 0, sizeof(e));
		p += strlen("```key-example\n");
		*end = '\0';
		for (line = strtok(p, "\n"); line; line = strtok(NULL, "\n")) {
			if (strncmp(line, "kind ", 5) == 0) {
				e.kind = strdup(line + 5);
			} else if (strncmp(line, "parent ", 7) == 0) {
				e.parent = strdup(line + 7);
			} else if (strncmp(line, "encoding ", 9) == 0) {
				size_t old = e.encoding ? strlen(e.encoding) : 0;
				e.encoding = realloc(e.encoding, old + strlen(line + 9) + 1);
				strcpy(e.encoding + old, line + 9);
			} else if (strncmp(line, "key ", 4) == 0) {
				e.key = strdup(line + 4);
			} else if (strncmp(line, "string ", 7) == 0 || strncmp(line, "digest ", 7) == 0) {
				e.lines[e.n++] = strdup(line);
			} else {
				fail_msg("docs/keys.md: unknown example line '%s'", line);
			}
		}
		assert_non_null(e.kind);
		assert_non_null(e.encoding);
		assert_non_null(e.key);
		check_example(&e, 0);
		check_example(&e, 1);
		example_free(&e);
		blocks++;
		p = end + 4;
	}
	assert_true(blocks >= 3);
	free(doc);
}

static void test_key__order_and_boundaries(void **state)
{
	static const char *names[] = {"b", "a", "ab", "a b", "Z", "\xc3\xa9t\xc3\xa9", "env:GOOS", "env:GO"};
	goaccel_key *k1, *k2;
	goaccel_digest d1, d2;
	size_t i;
	(void)state;
	GA_OK(goaccel_key_new(&k1, "step"));
	GA_OK(goaccel_key_new(&k2, "step"));
	for (i = 0; i < 8; i++) {
		GA_OK(goaccel_key_add_string(k1, names[i], names[(i + 3) % 8]));
		GA_OK(goaccel_key_add_string(k2, names[7 - i], names[(7 - i + 3) % 8]));
	}
	GA_OK(goaccel_key_finish(&d1, k1));
	GA_OK(goaccel_key_finish(&d2, k2));
	assert_int_equal(goaccel_digest_cmp(&d1, &d2), 0);
	/* fields come back in canonical (bytewise) order */
	for (i = 1; i < goaccel_key_field_count(k1); i++)
		assert_true(strcmp(goaccel_key_field_byindex(k1, i - 1)->name, goaccel_key_field_byindex(k1, i)->name) < 0);
	assert_string_equal(goaccel_key_field_byindex(k1, 0)->name, "Z");
	assert_null(goaccel_key_field_byindex(k1, 8));
	assert_string_equal(goaccel_key_field_byname(k1, "ab")->value, names[(2 + 3) % 8]);
	assert_null(goaccel_key_field_byname(k1, "nope"));
	goaccel_key_free(k1);
	goaccel_key_free(k2);

	/* a value cannot move a field boundary: ("a" = "bc") differs from ("ab" = "c") */
	GA_OK(goaccel_key_new(&k1, "s"));
	GA_OK(goaccel_key_new(&k2, "s"));
	GA_OK(goaccel_key_add_string(k1, "a", "bc"));
	GA_OK(goaccel_key_add_string(k2, "ab", "c"));
	GA_OK(goaccel_key_finish(&d1, k1));
	GA_OK(goaccel_key_finish(&d2, k2));
	assert_int_not_equal(goaccel_digest_cmp(&d1, &d2), 0);
	goaccel_key_free(k1);
	goaccel_key_free(k2);

	/* a string that spells a digest's hex is not that digest; kind and parent count */
	{
		goaccel_digest z;
		char hex[65];
		goaccel_digest_buffer(&z, "x", 1);
		digest_hex(hex, &z);
		GA_OK(goaccel_key_new(&k1, "s"));
		GA_OK(goaccel_key_new(&k2, "s"));
		GA_OK(goaccel_key_add_string(k1, "f", hex));
		GA_OK(goaccel_key_add_digest(k2, "f", &z));
		GA_OK(goaccel_key_finish(&d1, k1));
		GA_OK(goaccel_key_finish(&d2, k2));
		assert_int_not_equal(goaccel_digest_cmp(&d1, &d2), 0);
		GA_OK(goaccel_key_set_parent(k1, &z));
		GA_OK(goaccel_key_finish(&d2, k1));
		assert_int_not_equal(goaccel_digest_cmp(&d1, &d2), 0);
		assert_non_null(goaccel_key_parent(k1));
		GA_OK(goaccel_key_set_parent(k1, NULL));
		assert_null(goaccel_key_parent(k1));
		GA_OK(goaccel_key_finish(&d2, k1));
		assert_int_equal(goaccel_digest_cmp(&d1, &d2), 0);
		goaccel_key_free(k1);
		goaccel_key_free(k2);
	}
}

static void test_key__naming_rules(void **state)
{
	goaccel_key *k = NULL;
	goaccel_digest d;
	(void)state;
	assert_int_equal(goaccel_key_new(&k, ""), GOACCEL_EINVALID);
	assert_int_equal(goaccel_key_new(&k, NULL), GOACCEL_EINVALID);
	assert_int_equal(goaccel_key_new(NULL, "x"), GOACCEL_EINVALID);
	assert_int_equal(goaccel_key_new(&k, "bad\xff"), GOACCEL_EINVALID);
	GA_OK(goaccel_key_new(&k, "go-build"));
	assert_string_equal(goaccel_key_kind(k), "go-build");
	GA_OK(goaccel_key_add_string(k, "x", "1"));
	assert_int_equal(goaccel_key_add_string(k, "x", "2"), GOACCEL_EEXISTS);
	assert_non_null(strstr(goaccel_error_last()->message, "'x'"));
	memset(&d, 1, sizeof(d));
	assert_int_equal(goaccel_key_add_digest(k, "x", &d), GOACCEL_EEXISTS);
	assert_int_equal(goaccel_key_add_string(k, "", "v"), GOACCEL_EINVALID);
	assert_int_equal(goaccel_key_add_string(k, "@kind", "v"), GOACCEL_EINVALID);
	assert_int_equal(goaccel_key_add_string(k, "n", NULL), GOACCEL_EINVALID);
	assert_int_equal(goaccel_key_add_digest(k, "n", NULL), GOACCEL_EINVALID);
	assert_int_equal(goaccel_key_add_string(NULL, "n", "v"), GOACCEL_EINVALID);
	assert_int_equal(goaccel_key_finish(&d, NULL), GOACCEL_EINVALID);
	assert_int_equal(goaccel_key_field_count(k), 1);
	goaccel_key_free(k);
	goaccel_key_free(NULL);
}

static void test_key__json_round_trip(void **state)
{
	goaccel_key *k, *back = NULL;
	goaccel_digest d, d1, d2;
	char *json = NULL, *json2 = NULL;
	(void)state;
	goaccel_digest_buffer(&d, "abc", 3);
	GA_OK(goaccel_key_new(&k, "go-build"));
	GA_OK(goaccel_key_set_parent(k, &d));
	GA_OK(goaccel_key_add_string(k, "env:GOFLAGS", "-trimpath \"quoted\"\n"));
	GA_OK(goaccel_key_add_digest(k, "inputs:.", &d));
	GA_OK(goaccel_key_add_bytes(k, "raw", "a\0b\xff", 4));
	GA_OK(goaccel_key_add_string(k, "utf8", "h\xc3\xa9"));
	GA_OK(goaccel_key_to_json(&json, k));
	assert_non_null(strstr(json, "\"version\":1"));
	assert_non_null(strstr(json, "\"type\":\"bytes\""));
	assert_non_null(strstr(json, "\"type\":\"digest\""));
	GA_OK(goaccel_key_from_json(&back, json));
	GA_OK(goaccel_key_finish(&d1, k));
	GA_OK(goaccel_key_finish(&d2, back));
	assert_int_equal(goaccel_digest_cmp(&d1, &d2), 0);
	assert_int_equal(goaccel_key_field_byname(back, "raw")->value_len, 4);
	assert_memory_equal(goaccel_key_field_byname(back, "raw")->value, "a\0b\xff", 4);
	GA_OK(goaccel_key_to_json(&json2, back));
	assert_string_equal(json, json2);
	goaccel_key_free(back);
	goaccel_free(json2);

	/* a changed field no longer matches the recorded key */
	{
		char *t = strdup(json), *at = strstr(t, "-trimpath");
		at[1] = 'T';
		assert_int_equal(goaccel_key_from_json(&back, t), GOACCEL_ECORRUPT);
		free(t);
	}
	assert_int_equal(goaccel_key_from_json(&back, "{\"version\":2,\"kind\":\"x\",\"fields\":[]}"), GOACCEL_EVERSION);
	assert_int_equal(goaccel_key_from_json(&back, "{\"version\":1,\"fields\":[]}"), GOACCEL_EINVALID);
	assert_non_null(strstr(goaccel_error_last()->message, "kind"));
	assert_int_equal(goaccel_key_from_json(&back, "{\"version\":1,\"kind\":\"x\",\"fields\":[{\"name\":\"a\"}]}"),
	                 GOACCEL_EINVALID);
	assert_non_null(strstr(goaccel_error_last()->message, "fields[0]"));
	assert_int_equal(goaccel_key_from_json(&back, "{\"version\":1,\"kind\":\"x\",\"fields\":[{\"name\":\"a\",\"type\":"
	                                              "\"string\",\"value\":\"1\"},{\"name\":\"a\",\"type\":\"string\","
	                                              "\"value\":\"2\"}]}"),
	                 GOACCEL_EEXISTS);
	assert_int_equal(goaccel_key_from_json(&back, "not json"), GOACCEL_EINVALID);
	assert_null(back);
	/* without "key" (hand-written JSON) it is accepted and recomputed */
	GA_OK(goaccel_key_from_json(&back, "{\"version\":1,\"kind\":\"go-mod-download\",\"parent\":null,\"fields\":[]}"));
	GA_OK(goaccel_key_finish(&d1, back));
	digest_hex(json2 = malloc(65), &d1);
	assert_string_equal(json2, "384458be12f98d32a7057a488892776a91cb9bc1ca77e66d9e32136d424fda28");
	free(json2);
	goaccel_key_free(back);
	goaccel_free(json);
	goaccel_key_free(k);
}

static void test_key__diff_names_what_changed(void **state)
{
	goaccel_key *a, *b;
	goaccel_key_diff *d;
	const goaccel_key_diff_entry *e;
	goaccel_digest x, y;
	char *json;
	(void)state;
	goaccel_digest_buffer(&x, "x", 1);
	goaccel_digest_buffer(&y, "y", 1);
	GA_OK(goaccel_key_new(&a, "go-build"));
	GA_OK(goaccel_key_new(&b, "go-build"));
	GA_OK(goaccel_key_add_string(a, "env:GOFLAGS", "-trimpath"));
	GA_OK(goaccel_key_add_string(b, "env:GOFLAGS", "-trimpath"));
	GA_OK(goaccel_key_add_digest(a, "inputs:.", &x));
	GA_OK(goaccel_key_add_digest(b, "inputs:.", &x));
	GA_OK(goaccel_key_diff_new(&d, a, b));
	assert_int_equal(goaccel_key_diff_entrycount(d), 0);
	goaccel_key_diff_free(d);

	goaccel_key_free(b);
	GA_OK(goaccel_key_new(&b, "go-test"));
	GA_OK(goaccel_key_set_parent(b, &y));
	GA_OK(goaccel_key_add_string(b, "env:GOFLAGS", "-trimpath -race"));
	GA_OK(goaccel_key_add_digest(b, "inputs:.", &y));
	GA_OK(goaccel_key_add_string(b, "target", "./..."));
	GA_OK(goaccel_key_add_string(a, "old", "gone"));
	GA_OK(goaccel_key_diff_new(&d, a, b));
	assert_int_equal(goaccel_key_diff_entrycount(d), 6);
	e = goaccel_key_diff_entry_byindex(d, 0);
	assert_string_equal(e->name, "@kind");
	assert_string_equal(e->old_value, "go-build");
	assert_string_equal(e->new_value, "go-test");
	e = goaccel_key_diff_entry_byindex(d, 1);
	assert_string_equal(e->name, "@parent");
	assert_int_equal(e->change, GOACCEL_KEY_ADDED);
	assert_null(e->old_value);
	e = goaccel_key_diff_entry_byindex(d, 2);
	assert_string_equal(e->name, "env:GOFLAGS");
	assert_int_equal(e->change, GOACCEL_KEY_CHANGED);
	assert_string_equal(e->new_value, "-trimpath -race");
	e = goaccel_key_diff_entry_byindex(d, 3);
	assert_string_equal(e->name, "inputs:.");
	assert_int_equal(e->change, GOACCEL_KEY_CHANGED);
	e = goaccel_key_diff_entry_byindex(d, 4);
	assert_string_equal(e->name, "old");
	assert_int_equal(e->change, GOACCEL_KEY_REMOVED);
	assert_null(e->new_value);
	e = goaccel_key_diff_entry_byindex(d, 5);
	assert_string_equal(e->name, "target");
	assert_int_equal(e->change, GOACCEL_KEY_ADDED);
	assert_null(goaccel_key_diff_entry_byindex(d, 6));
	GA_OK(goaccel_key_diff_to_json(&json, d));
	assert_non_null(strstr(json, "{\"name\":\"env:GOFLAGS\",\"change\":\"changed\",\"old\":\"-trimpath\","
	                             "\"new\":\"-trimpath -race\"}"));
	goaccel_free(json);
	goaccel_key_diff_free(d);
	goaccel_key_diff_free(NULL);

	/* a digest field replaced by a string of the same text is a change of type */
	goaccel_key_free(a);
	goaccel_key_free(b);
	{
		char hex[65];
		digest_hex(hex, &x);
		GA_OK(goaccel_key_new(&a, "k"));
		GA_OK(goaccel_key_new(&b, "k"));
		GA_OK(goaccel_key_add_digest(a, "f", &x));
		GA_OK(goaccel_key_add_string(b, "f", hex));
		GA_OK(goaccel_key_diff_new(&d, a, b));
		assert_int_equal(goaccel_key_diff_entrycount(d), 1);
		goaccel_key_diff_free(d);
	}
	goaccel_key_free(a);
	goaccel_key_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key__documented_examples),
		cmocka_unit_test(test_key__order_and_boundaries),
		cmocka_unit_test(test_key__naming_rules),
		cmocka_unit_test(test_key__json_round_trip),
		cmocka_unit_test(test_key__diff_names_what_changed),
	};
	return cmocka_run_group_tests(tests, tu_group_setup, tu_group_teardown);
}
