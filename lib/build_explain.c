/* "Why did this step miss?": the record of the previous build of a target, kept as a store ref
 * ("build/<target>" -> a JSON blob with both step keys and the input manifests), and the
 * comparison of a new key against it (docs/build.md, "Explanations"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "build_internal.h"
#include "util/buf.h"
#include "util/err.h"

#define RECORD_FORMAT 1
#define EXPLAIN_ITEMS 6 /* changes named in the one-line explanation before "and N more" */
#define RECORD_MAX (64u << 20)

static char *ref_name(const char *target)
{
	ga_buf b = GA_BUF_INIT;
	if (ga_buf_puts(&b, "build/") < 0 || ga_buf_puts(&b, target) < 0) {
		ga_buf_dispose(&b);
		return NULL;
	}
	return ga_buf_detach(&b);
}

/* A library JSON string (key, manifest) as a jansson value to embed. */
static json_t *embed(char *text)
{
	json_error_t jerr;
	json_t *v = text ? json_loads(text, 0, &jerr) : NULL;
	goaccel_free(text);
	return v;
}

static json_t *record_doc(const goaccel_key *deps_key, const goaccel_key *build_key,
                          const ga_build_root_manifest *roots, size_t nroots)
{
	json_t *doc = json_object(), *mans = json_object();
	char *s = NULL;
	size_t i;
	if (!doc || !mans)
		goto fail;
	json_object_set_new(doc, "format", json_integer(RECORD_FORMAT));
	if (goaccel_key_to_json(&s, deps_key) < 0 || json_object_set_new(doc, "deps", embed(s)) < 0)
		goto fail;
	if (goaccel_key_to_json(&s, build_key) < 0 || json_object_set_new(doc, "build", embed(s)) < 0)
		goto fail;
	for (i = 0; i < nroots; i++) {
		if (!roots[i].manifest)
			continue;
		if (goaccel_manifest_to_json(&s, roots[i].manifest) < 0 ||
		    json_object_set_new(mans, roots[i].rel, embed(s)) < 0)
			goto fail;
	}
	json_object_set_new(doc, "manifests", mans);
	return doc;
fail:
	json_decref(mans);
	json_decref(doc);
	return NULL;
}

int ga_build_remember(goaccel_store *store, const char *target, const goaccel_key *deps_key,
                      const goaccel_key *build_key, const ga_build_root_manifest *roots,
                      size_t nroots)
{
	json_t *doc = record_doc(deps_key, build_key, roots, nroots);
	char *text = NULL, *ref = ref_name(target);
	goaccel_digest want, have, put;
	int error = 0;
	if (!doc || !ref) {
		error = ga_error(GOACCEL_ERROR, GOACCEL_ERROR_BUILD,
		                 "%s: cannot encode the build record", target);
		goto done;
	}
	if ((text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	if ((error = goaccel_digest_buffer(&want, text, strlen(text))) < 0)
		goto done;
	/* A no-change rebuild writes nothing: the ref already names this very record. */
	if (goaccel_store_ref_get(&have, store, ref) == 0 && goaccel_digest_cmp(&have, &want) == 0 &&
	    goaccel_store_blob_exists(store, &want) == 1)
		goto done;
	if ((error = goaccel_store_blob_put_buffer(&put, store, text, strlen(text))) < 0)
		goto done;
	error = goaccel_store_ref_set(store, ref, &put);
done:
	free(text);
	free(ref);
	json_decref(doc);
	return error;
}

/* The previous record of target, or NULL (none, or unreadable: explained as a first build). */
static json_t *load_record(goaccel_store *store, const char *target)
{
	char *ref = ref_name(target);
	goaccel_digest d;
	void *data = NULL;
	size_t len = 0;
	json_error_t jerr;
	json_t *doc = NULL;
	/* a peek: explaining (a dry run too) is not a use of the ref */
	goaccel_lookup_options peek = GOACCEL_LOOKUP_OPTIONS_INIT;
	peek.flags = GOACCEL_LOOKUP_PEEK;
	if (ref && goaccel_store_ref_get_ext(&d, store, ref, &peek) == 0 &&
	    goaccel_store_blob_get(&data, &len, store, &d, RECORD_MAX) == 0)
		doc = json_loadb(data, len, 0, &jerr);
	if (doc && json_integer_value(json_object_get(doc, "format")) != RECORD_FORMAT) {
		json_decref(doc);
		doc = NULL;
	}
	goaccel_free(data);
	free(ref);
	goaccel_error_clear();
	return doc;
}

static int load_embedded_key(goaccel_key **out, json_t *v)
{
	char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;
	int error = s ? goaccel_key_from_json(out, s) : GOACCEL_ENOTFOUND;
	free(s);
	return error;
}

static goaccel_manifest *load_embedded_manifest(json_t *record, const char *rel)
{
	json_t *v = json_object_get(json_object_get(record, "manifests"), rel);
	char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;
	goaccel_manifest *m = NULL;
	if (s && goaccel_manifest_from_json(&m, s, strlen(s)) < 0)
		m = NULL;
	free(s);
	return m;
}

static const char *file_change_word(unsigned int change)
{
	if (change & GOACCEL_CHANGE_ADDED)
		return "added";
	if (change & GOACCEL_CHANGE_REMOVED)
		return "removed";
	if (change & GOACCEL_CHANGE_TYPE)
		return "type changed";
	if (change & GOACCEL_CHANGE_CONTENT)
		return "modified";
	return "mode changed";
}

/* The files that changed in one input root, named relative to the main module. */
static int explain_root(goaccel_build_result *res, goaccel_build_step step, json_t *record,
                        const ga_build_root_manifest *root)
{
	goaccel_manifest *old = load_embedded_manifest(record, root->rel);
	goaccel_manifest_changes *ch = NULL;
	size_t i, n;
	int error = 0;
	if (!old || !root->manifest || goaccel_manifest_diff(&ch, old, root->manifest) < 0) {
		error = ga_build_result_add_change(res, step, GOACCEL_BUILD_CHANGE_FILE, root->rel,
		                                   "modified", NULL, NULL);
		goto done;
	}
	n = goaccel_manifest_changes_count(ch);
	for (i = 0; i < n && error == 0; i++) {
		const goaccel_manifest_change *c = goaccel_manifest_changes_byindex(ch, i);
		ga_buf path = GA_BUF_INIT;
		if (strcmp(root->rel, ".") != 0 &&
		    (ga_buf_puts(&path, root->rel) < 0 || ga_buf_putc(&path, '/') < 0))
			error = GOACCEL_ERROR;
		if (!error && ga_buf_puts(&path, c->path) < 0)
			error = GOACCEL_ERROR;
		if (!error)
			error = ga_build_result_add_change(res, step, GOACCEL_BUILD_CHANGE_FILE, path.ptr,
			                                   file_change_word(c->change), NULL, NULL);
		ga_buf_dispose(&path);
	}
done:
	goaccel_manifest_changes_free(ch);
	goaccel_manifest_free(old);
	return error;
}

static const char *key_change_word(goaccel_key_change c)
{
	return c == GOACCEL_KEY_ADDED ? "added" : c == GOACCEL_KEY_REMOVED ? "removed" : "changed";
}

static int explain_entry(goaccel_build_result *res, goaccel_build_step step, json_t *record,
                         const goaccel_key_diff_entry *e, const ga_build_root_manifest *roots,
                         size_t nroots)
{
	const char *n = e->name, *what = key_change_word(e->change);
	size_t i;
	if (strcmp(n, "@kind") == 0)
		return 0;
	if (strcmp(n, "@parent") == 0)
		return ga_build_result_add_change(res, step, GOACCEL_BUILD_CHANGE_FIELD, "deps",
		                                  "changed", e->old_value, e->new_value);
	if (strncmp(n, "inputs:", 7) == 0) {
		for (i = 0; i < nroots; i++)
			if (strcmp(roots[i].rel, n + 7) == 0)
				return explain_root(res, step, record, &roots[i]);
		return ga_build_result_add_change(res, step, GOACCEL_BUILD_CHANGE_FILE, n + 7, what,
		                                  NULL, NULL);
	}
	if (strncmp(n, "file:", 5) == 0)
		return ga_build_result_add_change(res, step, GOACCEL_BUILD_CHANGE_FILE, n + 5,
		                                  e->change == GOACCEL_KEY_CHANGED ? "modified" : what,
		                                  NULL, NULL);
	if (strncmp(n, "toolchain:", 10) == 0)
		return ga_build_result_add_change(res, step, GOACCEL_BUILD_CHANGE_TOOLCHAIN, n + 10,
		                                  what, e->old_value, e->new_value);
	if (strncmp(n, "env:", 4) == 0 || strncmp(n, "flag:", 5) == 0)
		n = strchr(n, ':') + 1;
	return ga_build_result_add_change(res, step, GOACCEL_BUILD_CHANGE_FIELD, n, what,
	                                  e->old_value, e->new_value);
}

/* "3 changes: main.go modified; ldflags "-s" -> "-s -w"; and 1 more" */
static int summarise(goaccel_build_result *res, goaccel_build_step step)
{
	const ga_build_step_result *s = &res->steps[step];
	ga_buf b = GA_BUF_INIT;
	size_t i;
	int error = 0;
	ga_buf_printf(&b, "%zu change%s: ", s->change_count, s->change_count == 1 ? "" : "s");
	for (i = 0; i < s->change_count && i < EXPLAIN_ITEMS; i++) {
		const goaccel_build_change *c = &s->changes[i];
		if (i)
			ga_buf_puts(&b, "; ");
		if (c->kind == GOACCEL_BUILD_CHANGE_FILE || (!c->old_value && !c->new_value))
			ga_buf_printf(&b, "%s %s", c->name, c->what);
		else
			ga_buf_printf(&b, "%s \"%s\" -> \"%s\"", c->name, c->old_value ? c->old_value : "",
			              c->new_value ? c->new_value : "");
	}
	if (s->change_count > EXPLAIN_ITEMS)
		ga_buf_printf(&b, "; and %zu more", s->change_count - EXPLAIN_ITEMS);
	if (!b.ptr)
		return ga_error_oom();
	error = ga_build_result_explain(res, step, "%s", b.ptr);
	ga_buf_dispose(&b);
	return error;
}

int ga_build_explain_miss(goaccel_build_result *res, goaccel_build_step step, goaccel_store *store,
                          const char *target, const goaccel_key *key,
                          const ga_build_root_manifest *roots, size_t nroots)
{
	json_t *record = load_record(store, target);
	goaccel_key *old = NULL;
	goaccel_key_diff *diff = NULL;
	size_t i, n;
	int error = 0;
	if (!record || load_embedded_key(&old, json_object_get(record, step == GOACCEL_BUILD_STEP_DEPS
	                                                                  ? "deps" : "build")) < 0) {
		goaccel_error_clear();
		if ((error = ga_build_result_add_change(res, step, GOACCEL_BUILD_CHANGE_FIRST, NULL,
		                                        "first", NULL, NULL)) == 0)
			error = ga_build_result_explain(res, step, "no earlier build of this target is recorded");
		goto done;
	}
	if ((error = goaccel_key_diff_new(&diff, old, key)) < 0)
		goto done;
	n = goaccel_key_diff_entrycount(diff);
	for (i = 0; i < n && error == 0; i++)
		error = explain_entry(res, step, record, goaccel_key_diff_entry_byindex(diff, i), roots,
		                      nroots);
	if (error == 0 && res->steps[step].change_count == 0)
		error = ga_build_result_explain(res, step, "same inputs as the previous build, but its "
		                                "outputs are no longer in the store (pruned?)");
	else if (error == 0)
		error = summarise(res, step);
done:
	goaccel_key_diff_free(diff);
	goaccel_key_free(old);
	json_decref(record);
	return error;
}
