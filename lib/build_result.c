/* The build result (goaccel/build.h): per-step outcome, explanations, outputs and their JSON. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "build_internal.h"
#include "util/buf.h"
#include "util/err.h"

static const char *step_names[GOACCEL_BUILD_STEP_COUNT] = {"toolchain", "deps", "build", "extract"};
static const char *status_names[] = {"none", "hit", "miss", "skipped", "failed"};
static const char *change_kind_names[] = {"file", "field", "toolchain", "first"};

const char *goaccel_build_step_name(goaccel_build_step step)
{
	return (unsigned)step < GOACCEL_BUILD_STEP_COUNT ? step_names[step] : "?";
}

const char *goaccel_build_status_name(goaccel_build_status status)
{
	return (unsigned)status < sizeof(status_names) / sizeof(*status_names) ? status_names[status]
	                                                                        : "?";
}

int goaccel_build_options_init(goaccel_build_options *opts, unsigned int version)
{
	goaccel_build_options tmpl = GOACCEL_BUILD_OPTIONS_INIT;
	GA_ASSERT_ARG(opts);
	if (version == 1) {
		/* the caller's struct ends after payload: write nothing beyond it */
		tmpl.version = 1;
		memcpy(opts, &tmpl, GA_BUILD_OPTIONS_V1_SIZE);
		return 0;
	}
	GA_INIT_STRUCTURE(opts, version, goaccel_build_options, GOACCEL_BUILD_OPTIONS_INIT);
	return 0;
}

static char *dup_or_null(const char *s, int *failed)
{
	char *d;
	if (!s)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*failed = 1;
	return d;
}

int ga_build_result_new(goaccel_build_result **out, const char *module_dir, const char *target,
                        int dry_run)
{
	goaccel_build_result *res = calloc(1, sizeof(*res));
	int failed = 0;
	if (!res)
		return ga_error_oom();
	res->module_dir = dup_or_null(module_dir, &failed);
	res->target = dup_or_null(target, &failed);
	res->dry_run = dry_run;
	if (failed) {
		goaccel_build_result_free(res);
		return ga_error_oom();
	}
	*out = res;
	return 0;
}

int ga_build_result_add_change(goaccel_build_result *res, goaccel_build_step step,
                               goaccel_build_change_kind kind, const char *name,
                               const char *what, const char *old_value, const char *new_value)
{
	ga_build_step_result *s = &res->steps[step];
	goaccel_build_change *c;
	int failed = 0;
	if (s->change_count == s->change_alloc) {
		size_t n = s->change_alloc ? s->change_alloc * 2 : 8;
		goaccel_build_change *p = realloc(s->changes, n * sizeof(*p));
		if (!p)
			return ga_error_oom();
		s->changes = p;
		s->change_alloc = n;
	}
	c = &s->changes[s->change_count];
	c->kind = kind;
	c->name = dup_or_null(name, &failed);
	c->what = dup_or_null(what, &failed);
	c->old_value = dup_or_null(old_value, &failed);
	c->new_value = dup_or_null(new_value, &failed);
	s->change_count++; /* counted even on failure, so free() releases what was copied */
	return failed ? ga_error_oom() : 0;
}

int ga_build_result_explain(goaccel_build_result *res, goaccel_build_step step, const char *fmt,
                            ...)
{
	ga_buf b = GA_BUF_INIT;
	va_list ap;
	char *text;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || ga_buf_grow(&b, (size_t)n + 1) < 0)
		return ga_error_oom();
	va_start(ap, fmt);
	vsnprintf(b.ptr, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b.size = (size_t)n;
	text = ga_buf_detach(&b);
	free(res->steps[step].explanation);
	res->steps[step].explanation = text;
	return 0;
}

int ga_build_result_add_output(goaccel_build_result *res, const char *name, const char *path,
                               const goaccel_digest *digest, uint64_t size, unsigned int mode)
{
	goaccel_build_output *p = realloc(res->outputs, (res->output_count + 1) * sizeof(*p));
	int failed = 0;
	if (!p)
		return ga_error_oom();
	res->outputs = p;
	p = &res->outputs[res->output_count++];
	memset(p, 0, sizeof(*p));
	p->name = dup_or_null(name, &failed);
	p->path = dup_or_null(path, &failed);
	p->digest = *digest;
	p->size = size;
	p->mode = mode;
	return failed ? ga_error_oom() : 0;
}

static const ga_build_step_result *step_of(const goaccel_build_result *res, goaccel_build_step step)
{
	return res && (unsigned)step < GOACCEL_BUILD_STEP_COUNT ? &res->steps[step] : NULL;
}

goaccel_build_status goaccel_build_result_status(const goaccel_build_result *res,
                                                 goaccel_build_step step)
{
	const ga_build_step_result *s = step_of(res, step);
	return s ? s->status : GOACCEL_BUILD_STATUS_NONE;
}

const goaccel_digest *goaccel_build_result_key(const goaccel_build_result *res,
                                               goaccel_build_step step)
{
	const ga_build_step_result *s = step_of(res, step);
	return s && s->has_key ? &s->key : NULL;
}

int64_t goaccel_build_result_duration_ns(const goaccel_build_result *res, goaccel_build_step step)
{
	const ga_build_step_result *s = step_of(res, step);
	return s ? s->duration_ns : 0;
}

int64_t goaccel_build_result_saved_ns(const goaccel_build_result *res, goaccel_build_step step)
{
	const ga_build_step_result *s = step_of(res, step);
	return s && s->status == GOACCEL_BUILD_STATUS_HIT ? s->saved_ns : 0;
}

const char *goaccel_build_result_explanation(const goaccel_build_result *res,
                                             goaccel_build_step step)
{
	const ga_build_step_result *s = step_of(res, step);
	return s && s->explanation ? s->explanation : "";
}

size_t goaccel_build_result_change_count(const goaccel_build_result *res, goaccel_build_step step)
{
	const ga_build_step_result *s = step_of(res, step);
	return s ? s->change_count : 0;
}

const goaccel_build_change *goaccel_build_result_change_byindex(const goaccel_build_result *res,
                                                                goaccel_build_step step, size_t i)
{
	const ga_build_step_result *s = step_of(res, step);
	return s && i < s->change_count ? &s->changes[i] : NULL;
}

size_t goaccel_build_result_output_count(const goaccel_build_result *res)
{
	return res ? res->output_count : 0;
}

const goaccel_build_output *goaccel_build_result_output_byindex(const goaccel_build_result *res,
                                                                size_t i)
{
	return res && i < res->output_count ? &res->outputs[i] : NULL;
}

const goaccel_digest *goaccel_build_result_image_digest(const goaccel_build_result *res)
{
	return res && res->has_image ? &res->image_digest : NULL;
}

/* "sha256:<hex>" as a JSON string, or null. */
static json_t *json_digest(const goaccel_digest *d)
{
	char hex[GOACCEL_DIGEST_HEXSIZE + 1], s[8 + GOACCEL_DIGEST_HEXSIZE];
	if (!d)
		return json_null();
	goaccel_digest_fmt(hex, d);
	snprintf(s, sizeof(s), "sha256:%s", hex);
	return json_string(s);
}

static json_t *json_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *json_change(const goaccel_build_change *c)
{
	return json_pack("{s:s, s:o, s:o, s:o, s:o}", "kind", change_kind_names[c->kind], "name",
	                 json_str_or_null(c->name), "what", json_str_or_null(c->what), "old",
	                 json_str_or_null(c->old_value), "new", json_str_or_null(c->new_value));
}

static json_t *json_step(const goaccel_build_result *res, goaccel_build_step step)
{
	const ga_build_step_result *s = &res->steps[step];
	json_t *changes = json_array(), *o;
	size_t i;
	for (i = 0; changes && i < s->change_count; i++)
		json_array_append_new(changes, json_change(&s->changes[i]));
	o = json_pack("{s:s, s:s, s:o, s:I, s:I, s:s, s:o}", "step", step_names[step], "status",
	              goaccel_build_status_name(s->status), "key",
	              json_digest(s->has_key ? &s->key : NULL), "duration_ns",
	              (json_int_t)s->duration_ns, "saved_ns",
	              (json_int_t)goaccel_build_result_saved_ns(res, step), "explanation",
	              s->explanation ? s->explanation : "", "changes", changes);
	return o;
}

static json_t *json_output(const goaccel_build_output *o)
{
	return json_pack("{s:s, s:o, s:o, s:I, s:i}", "name", o->name, "path",
	                 json_str_or_null(o->path), "digest", json_digest(&o->digest), "size",
	                 (json_int_t)o->size, "mode", (int)o->mode);
}

static json_t *json_result(const goaccel_build_result *res)
{
	json_t *steps = json_array(), *outputs = json_array(), *summary;
	int64_t total = 0, saved = 0;
	int hits = 0, misses = 0, i;
	size_t k;
	for (i = 0; steps && i < GOACCEL_BUILD_STEP_COUNT; i++) {
		json_array_append_new(steps, json_step(res, (goaccel_build_step)i));
		total += res->steps[i].duration_ns;
		saved += goaccel_build_result_saved_ns(res, (goaccel_build_step)i);
		hits += res->steps[i].status == GOACCEL_BUILD_STATUS_HIT;
		misses += res->steps[i].status == GOACCEL_BUILD_STATUS_MISS;
	}
	for (k = 0; outputs && k < res->output_count; k++)
		json_array_append_new(outputs, json_output(&res->outputs[k]));
	summary = json_pack("{s:i, s:i, s:I, s:I}", "hits", hits, "misses", misses, "duration_ns",
	                    (json_int_t)total, "saved_ns", (json_int_t)saved);
	return json_pack("{s:i, s:o, s:o, s:b, s:o, s:o, s:o, s:o}", "format", 1, "module",
	                 json_str_or_null(res->module_dir), "target", json_str_or_null(res->target),
	                 "dry_run", res->dry_run, "steps", steps, "outputs", outputs, "image",
	                 res->has_image ? json_pack("{s:o}", "manifest", json_digest(&res->image_digest))
	                                : json_null(),
	                 "summary", summary);
}

int goaccel_build_result_to_json(char **out, const goaccel_build_result *res)
{
	json_t *doc;
	char *s;
	GA_ASSERT_ARG(out && res);
	if ((doc = json_result(res)) == NULL)
		return ga_error(GOACCEL_ERROR, GOACCEL_ERROR_JSON, "build result: cannot encode JSON");
	s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (!s)
		return ga_error_oom();
	/* jansson's allocator is malloc, so the caller frees with goaccel_free(). */
	*out = s;
	return 0;
}

static void step_dispose(ga_build_step_result *s)
{
	size_t i;
	for (i = 0; i < s->change_count; i++) {
		free((char *)s->changes[i].name);
		free((char *)s->changes[i].what);
		free((char *)s->changes[i].old_value);
		free((char *)s->changes[i].new_value);
	}
	free(s->changes);
	free(s->explanation);
}

void goaccel_build_result_free(goaccel_build_result *res)
{
	size_t i;
	if (!res)
		return;
	for (i = 0; i < GOACCEL_BUILD_STEP_COUNT; i++)
		step_dispose(&res->steps[i]);
	for (i = 0; i < res->output_count; i++) {
		free((char *)res->outputs[i].name);
		free((char *)res->outputs[i].path);
	}
	free(res->outputs);
	free(res->module_dir);
	free(res->target);
	free(res);
}
