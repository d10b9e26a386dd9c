/* build layer: options, result object and its JSON; the pipeline end to end with the real go. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "testutil.h"
#include "build_internal.h"

static void test_build__options_init(void **state)
{
	goaccel_build_options o, m = GOACCEL_BUILD_OPTIONS_INIT;
	(void)state;
	memset(&o, 0xff, sizeof(o));
	GA_OK(goaccel_build_options_init(&o, GOACCEL_BUILD_OPTIONS_VERSION));
	assert_memory_equal(&o, &m, sizeof(o));
	assert_int_equal(o.trimpath, 1);
	assert_int_equal(o.buildvcs, 0);
	assert_int_equal(o.cgo, 0);
	assert_null(o.progress);
	assert_null(o.image_env);
	assert_int_equal(o.image_cmd_count, 0);
	assert_null(o.image_user);
	assert_int_equal(o.image_label_count, 0);
	assert_int_equal(goaccel_build_options_init(&o, 99), GOACCEL_EVERSION);
	assert_int_equal(goaccel_build_options_init(NULL, 1), GOACCEL_EINVALID);
}

static void test_build__names(void **state)
{
	(void)state;
	assert_string_equal(goaccel_build_step_name(GOACCEL_BUILD_STEP_DEPS), "deps");
	assert_string_equal(goaccel_build_step_name(GOACCEL_BUILD_STEP_EXTRACT), "extract");
	assert_string_equal(goaccel_build_step_name((goaccel_build_step)42), "?");
	assert_string_equal(goaccel_build_status_name(GOACCEL_BUILD_STATUS_HIT), "hit");
	assert_string_equal(goaccel_build_status_name(GOACCEL_BUILD_STATUS_FAILED), "failed");
	assert_string_equal(goaccel_build_status_name((goaccel_build_status)-1), "?");
}

static void test_build__result_accessors_and_json(void **state)
{
	goaccel_build_result *res;
	goaccel_digest d;
	char *js;
	json_t *doc, *steps, *build;
	json_error_t jerr;
	(void)state;
	GA_OK(ga_build_result_new(&res, "/m", "example.com/m .", 0));
	GA_OK(goaccel_digest_buffer(&d, "k", 1));
	res->steps[GOACCEL_BUILD_STEP_DEPS].status = GOACCEL_BUILD_STATUS_HIT;
	res->steps[GOACCEL_BUILD_STEP_DEPS].saved_ns = 5000;
	res->steps[GOACCEL_BUILD_STEP_BUILD].status = GOACCEL_BUILD_STATUS_MISS;
	res->steps[GOACCEL_BUILD_STEP_BUILD].saved_ns = 7000; /* not a hit: reported as 0 */
	res->steps[GOACCEL_BUILD_STEP_BUILD].has_key = 1;
	res->steps[GOACCEL_BUILD_STEP_BUILD].key = d;
	GA_OK(ga_build_result_add_change(res, GOACCEL_BUILD_STEP_BUILD, GOACCEL_BUILD_CHANGE_FILE,
	                                 "main.go", "modified", NULL, NULL));
	GA_OK(ga_build_result_add_change(res, GOACCEL_BUILD_STEP_BUILD, GOACCEL_BUILD_CHANGE_FIELD,
	                                 "ldflags", "changed", "-s", "-s -w"));
	GA_OK(ga_build_result_explain(res, GOACCEL_BUILD_STEP_BUILD, "%d changes", 2));
	GA_OK(ga_build_result_add_output(res, "orders", "/out/orders", &d, 123, 0755));

	assert_int_equal(goaccel_build_result_status(res, GOACCEL_BUILD_STEP_BUILD),
	                 GOACCEL_BUILD_STATUS_MISS);
	assert_int_equal(goaccel_build_result_status(NULL, GOACCEL_BUILD_STEP_BUILD),
	                 GOACCEL_BUILD_STATUS_NONE);
	assert_null(goaccel_build_result_key(res, GOACCEL_BUILD_STEP_DEPS));
	assert_int_equal(goaccel_digest_cmp(goaccel_build_result_key(res, GOACCEL_BUILD_STEP_BUILD), &d), 0);
	assert_int_equal(goaccel_build_result_saved_ns(res, GOACCEL_BUILD_STEP_DEPS), 5000);
	assert_int_equal(goaccel_build_result_saved_ns(res, GOACCEL_BUILD_STEP_BUILD), 0);
	assert_string_equal(goaccel_build_result_explanation(res, GOACCEL_BUILD_STEP_BUILD), "2 changes");
	assert_string_equal(goaccel_build_result_explanation(res, GOACCEL_BUILD_STEP_DEPS), "");
	assert_int_equal(goaccel_build_result_change_count(res, GOACCEL_BUILD_STEP_BUILD), 2);
	assert_string_equal(goaccel_build_result_change_byindex(res, GOACCEL_BUILD_STEP_BUILD, 1)->new_value,
	                    "-s -w");
	assert_null(goaccel_build_result_change_byindex(res, GOACCEL_BUILD_STEP_BUILD, 2));
	assert_int_equal(goaccel_build_result_output_count(res), 1);
	assert_string_equal(goaccel_build_result_output_byindex(res, 0)->name, "orders");
	assert_null(goaccel_build_result_output_byindex(res, 1));
	assert_null(goaccel_build_result_image_digest(res));

	GA_OK(goaccel_build_result_to_json(&js, res));
	doc = json_loads(js, 0, &jerr);
	assert_non_null(doc);
	steps = json_object_get(doc, "steps");
	assert_int_equal(json_array_size(steps), GOACCEL_BUILD_STEP_COUNT);
	build = json_array_get(steps, GOACCEL_BUILD_STEP_BUILD);
	assert_string_equal(json_string_value(json_object_get(build, "status")), "miss");
	assert_string_equal(json_string_value(json_object_get(build, "key")),
	                    "sha256:8254c329a92850f6d539dd376f4816ee2764517da5e0235514af433164480d7a");
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(json_object_get(build, "changes"), 1), "old")), "-s");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "summary"), "hits")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "summary"), "saved_ns")), 5000);
	assert_true(json_is_null(json_object_get(doc, "image")));
	json_decref(doc);
	goaccel_free(js);
	goaccel_build_result_free(res);
	goaccel_build_result_free(NULL);
}


/* ---- the pipeline with the real go command ------------------------------------------------ */

/* One tiny module (no third-party modules: GOPROXY=off keeps it hermetic) and one store for the
 * pipeline tests, which run in order: cold, hit, changes, failures. A `go` wrapper first on PATH
 * logs every go process the library starts. */
static struct {
	char *dir, *mod, *store, *bin, *log, *out;
	char **envp;
	size_t envc;
} fx;

extern char **environ;

static void fx_env_add(const char *fmt, const char *value)
{
	char *e = NULL;
	assert_true(asprintf(&e, fmt, value) > 0);
	fx.envp = realloc(fx.envp, (fx.envc + 2) * sizeof(char *));
	fx.envp[fx.envc++] = e;
	fx.envp[fx.envc] = NULL;
}

static int fx_setup(void **state)
{
	char **e, *real_go, *wrapper;
	(void)state;
	tu_group_setup(state);
	fx.dir = tu_tempdir("ga-build");
	fx.mod = tu_path(fx.dir, "tiny");
	fx.store = tu_path(fx.dir, "store");
	fx.bin = tu_path(fx.dir, "bin");
	fx.log = tu_path(fx.dir, "go.log");
	fx.out = tu_path(fx.dir, "out");
	tu_write(fx.mod, "go.mod", "module example.com/tiny\n\ngo 1.22\n");
	tu_write(fx.mod, "main.go", "package main\n\nimport \"os\"\n\nvar version = \"dev\"\n\n"
	                            "func main() { os.Stdout.WriteString(\"tiny \" + version + \"\\n\") }\n");
	tu_write(fx.mod, "README.md", "# tiny\n");
	tu_write(fx.mod, "main_test.go", "package main\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {}\n");
	real_go = tu_sh_out("command -v go");
	assert_true(asprintf(&wrapper, "#!/bin/sh\necho \"$*\" >> %s\nexec %s \"$@\"\n", fx.log, real_go) > 0);
	tu_write(fx.bin, "go", wrapper);
	assert_int_equal(tu_sh("chmod +x %s/go", fx.bin), 0);
	for (e = environ; *e; e++)
		if (strncmp(*e, "PATH=", 5) && strncmp(*e, "GO", 2) && strncmp(*e, "CGO_", 4))
			fx_env_add("%s", *e);
	{
		/* the wrapper first, then the real go's directory */
		char *path = NULL;
		*strrchr(real_go, '/') = '\0';
		assert_true(asprintf(&path, "%s:%s:/usr/local/bin:/usr/bin:/bin", fx.bin, real_go) > 0);
		fx_env_add("PATH=%s", path);
		free(path);
	}
	fx_env_add("GOPROXY=%s", "off");
	fx_env_add("GOSUMDB=%s", "off");
	fx_env_add("GOTOOLCHAIN=%s", "local");
	fx_env_add("GOFLAGS=%s", "-buildvcs=false");
	free(wrapper);
	free(real_go);
	return 0;
}

static int fx_teardown(void **state)
{
	size_t i;
	tu_rmtree(fx.dir);
	for (i = 0; i < fx.envc; i++)
		free(fx.envp[i]);
	free(fx.envp);
	free(fx.dir);
	free(fx.mod);
	free(fx.store);
	free(fx.bin);
	free(fx.log);
	free(fx.out);
	return tu_group_teardown(state);
}

typedef struct {
	int starts, ends, commands, ticks, outputs, cancel_on_command;
	goaccel_build_step last_start;
	int order_ok;
} events;

static int on_event(const goaccel_build_event *ev, void *payload)
{
	events *e = payload;
	switch (ev->type) {
	case GOACCEL_BUILD_EVENT_STEP_START:
		if (ev->step != (goaccel_build_step)e->starts)
			e->order_ok = 0;
		e->last_start = ev->step;
		e->starts++;
		break;
	case GOACCEL_BUILD_EVENT_STEP_END:
		if (ev->step != e->last_start || ev->elapsed_ns < 0 || !ev->message)
			e->order_ok = 0;
		e->ends++;
		break;
	case GOACCEL_BUILD_EVENT_COMMAND:
		e->commands++;
		return e->cancel_on_command;
	case GOACCEL_BUILD_EVENT_TICK:
		e->ticks++;
		break;
	case GOACCEL_BUILD_EVENT_OUTPUT:
		e->outputs++;
		break;
	}
	return 0;
}

static goaccel_build_options fx_opts(events *ev)
{
	goaccel_build_options o = GOACCEL_BUILD_OPTIONS_INIT;
	o.cache_dir = fx.store;
	o.envp = (const char *const *)fx.envp;
	o.output_dir = fx.out;
	o.progress = ev ? on_event : NULL;
	o.payload = ev;
	return o;
}

static int go_calls(void)
{
	char *n = tu_sh_out("cat %s 2>/dev/null | wc -l", fx.log);
	int calls = atoi(n);
	free(n);
	tu_sh("rm -f %s", fx.log);
	return calls;
}

#define ST(res, step) goaccel_build_result_status(res, GOACCEL_BUILD_STEP_##step)

static void test_build__cold_then_no_go_process(void **state)
{
	goaccel_build_result *res = NULL;
	events ev = {0};
	goaccel_build_options o = fx_opts(&ev);
	char *out;
	(void)state;
	ev.order_ok = 1;
	go_calls();
	GA_OK(goaccel_go_build(&res, fx.mod, &o));
	assert_int_equal(ST(res, TOOLCHAIN), GOACCEL_BUILD_STATUS_MISS);
	assert_int_equal(ST(res, DEPS), GOACCEL_BUILD_STATUS_MISS);
	assert_int_equal(ST(res, BUILD), GOACCEL_BUILD_STATUS_MISS);
	assert_int_equal(ST(res, EXTRACT), GOACCEL_BUILD_STATUS_MISS);
	assert_int_equal(goaccel_build_result_change_byindex(res, GOACCEL_BUILD_STEP_BUILD, 0)->kind,
	                 GOACCEL_BUILD_CHANGE_FIRST);
	assert_int_equal(goaccel_build_result_output_count(res), 1);
	assert_string_equal(goaccel_build_result_output_byindex(res, 0)->name, "tiny");
	assert_non_null(goaccel_build_result_output_byindex(res, 0)->path);
	assert_true(ev.order_ok);
	assert_int_equal(ev.starts, 4);
	assert_int_equal(ev.ends, 4);
	assert_int_equal(ev.commands, 2); /* go mod download, go build (go env runs in gomod) */
	assert_true(go_calls() >= 3);     /* + go env */
	out = tu_sh_out("%s/tiny", fx.out);
	assert_string_equal(out, "tiny dev");
	free(out);
	goaccel_build_result_free(res);

	/* nothing changed: every step hits and no go process starts */
	tu_sh("rm -rf %s", fx.out);
	GA_OK(goaccel_go_build(&res, fx.mod, &o));
	assert_int_equal(ST(res, TOOLCHAIN), GOACCEL_BUILD_STATUS_HIT);
	assert_int_equal(ST(res, DEPS), GOACCEL_BUILD_STATUS_HIT);
	assert_int_equal(ST(res, BUILD), GOACCEL_BUILD_STATUS_HIT);
	assert_true(goaccel_build_result_saved_ns(res, GOACCEL_BUILD_STEP_BUILD) > 0);
	assert_int_equal(go_calls(), 0);
	out = tu_sh_out("%s/tiny", fx.out);
	assert_string_equal(out, "tiny dev");
	free(out);
	goaccel_build_result_free(res);

	/* the output directory holds these outputs already: nothing is read or written */
	GA_OK(goaccel_go_build(&res, fx.mod, &o));
	assert_int_equal(ST(res, BUILD), GOACCEL_BUILD_STATUS_HIT);
	assert_int_equal(ST(res, EXTRACT), GOACCEL_BUILD_STATUS_SKIPPED);
	assert_non_null(strstr(goaccel_build_result_explanation(res, GOACCEL_BUILD_STEP_BUILD),
	                       "output directory"));
	assert_int_equal(goaccel_build_result_output_count(res), 1);
	assert_non_null(strstr(goaccel_build_result_output_byindex(res, 0)->path, "/out/tiny"));
	goaccel_build_result_free(res);
	/* ... until the file changes */
	assert_int_equal(tu_sh("printf x >> %s/tiny", fx.out), 0);
	GA_OK(goaccel_go_build(&res, fx.mod, &o));
	assert_int_equal(ST(res, EXTRACT), GOACCEL_BUILD_STATUS_MISS);
	out = tu_sh_out("%s/tiny", fx.out);
	assert_string_equal(out, "tiny dev");
	free(out);
	goaccel_build_result_free(res);
	assert_int_equal(go_calls(), 0);
}

static void test_build__readme_and_test_files_are_not_inputs(void **state)
{
	goaccel_build_result *res = NULL;
	goaccel_build_options o = fx_opts(NULL);
	(void)state;
	tu_write(fx.mod, "README.md", "# tiny, documented\n");
	tu_write(fx.mod, "main_test.go", "package main\n\nimport \"testing\"\n\nfunc TestY(t *testing.T) {}\n");
	GA_OK(goaccel_go_build(&res, fx.mod, &o));
	assert_int_equal(ST(res, BUILD), GOACCEL_BUILD_STATUS_HIT);
	assert_int_equal(go_calls(), 0);
	goaccel_build_result_free(res);
}

static void test_build__explain_then_build_a_change(void **state)
{
	goaccel_build_result *res = NULL;
	goaccel_build_options o = fx_opts(NULL);
	const goaccel_build_change *c;
	char *out;
	(void)state;
	tu_write(fx.mod, "main.go", "package main\n\nimport \"os\"\n\nvar version = \"dev\"\n\n"
	                            "func main() { os.Stdout.WriteString(\"tiny! \" + version + \"\\n\") }\n");
	o.dry_run = 1;
	GA_OK(goaccel_go_build(&res, fx.mod, &o));
	assert_int_equal(ST(res, DEPS), GOACCEL_BUILD_STATUS_HIT);
	assert_int_equal(ST(res, BUILD), GOACCEL_BUILD_STATUS_MISS);
	assert_int_equal(ST(res, EXTRACT), GOACCEL_BUILD_STATUS_SKIPPED);
	assert_int_equal(goaccel_build_result_change_count(res, GOACCEL_BUILD_STEP_BUILD), 1);
	c = goaccel_build_result_change_byindex(res, GOACCEL_BUILD_STEP_BUILD, 0);
	assert_int_equal(c->kind, GOACCEL_BUILD_CHANGE_FILE);
	assert_string_equal(c->name, "main.go");
	assert_string_equal(c->what, "modified");
	assert_int_equal(go_calls(), 0); /* a dry run runs nothing */
	goaccel_build_result_free(res);

	o.dry_run = 0;
	GA_OK(goaccel_go_build(&res, fx.mod, &o));
	assert_int_equal(ST(res, DEPS), GOACCEL_BUILD_STATUS_HIT);
	assert_int_equal(ST(res, BUILD), GOACCEL_BUILD_STATUS_MISS);
	assert_string_equal(goaccel_build_result_explanation(res, GOACCEL_BUILD_STEP_BUILD),
	                    "1 change: main.go modified");
	assert_int_equal(go_calls(), 1);
	out = tu_sh_out("%s/tiny", fx.out);
	assert_string_equal(out, "tiny! dev");
	free(out);
	goaccel_build_result_free(res);
}

static void test_build__flags_are_in_the_key(void **state)
{
	goaccel_build_result *res = NULL;
	goaccel_build_options o = fx_opts(NULL);
	const goaccel_build_change *c;
	char *out;
	(void)state;
	o.ldflags = "-X main.version=7";
	GA_OK(goaccel_go_build(&res, fx.mod, &o));
	assert_int_equal(ST(res, BUILD), GOACCEL_BUILD_STATUS_MISS);
	assert_int_equal(goaccel_build_result_change_count(res, GOACCEL_BUILD_STEP_BUILD), 1);
	c = goaccel_build_result_change_byindex(res, GOACCEL_BUILD_STEP_BUILD, 0);
	assert_int_equal(c->kind, GOACCEL_BUILD_CHANGE_FIELD);
	assert_string_equal(c->name, "ldflags");
	assert_string_equal(c->old_value, "");
	assert_string_equal(c->new_value, "-X main.version=7");
	out = tu_sh_out("%s/tiny", fx.out);
	assert_string_equal(out, "tiny! 7");
	free(out);
	goaccel_build_result_free(res);
	go_calls();
}

static void test_build__compile_error_records_nothing(void **state)
{
	goaccel_build_result *res = (goaccel_build_result *)1;
	goaccel_build_options o = fx_opts(NULL);
	int rc;
	(void)state;
	tu_write(fx.mod, "broken.go", "package main\n\nfunc broken() { undefinedThing() }\n");
	rc = goaccel_go_build(&res, fx.mod, &o);
	assert_int_equal(rc, GOACCEL_EBUILD);
	assert_null(res);
	assert_non_null(strstr(goaccel_error_last()->message, "go build failed"));
	assert_non_null(strstr(goaccel_error_last()->message, "undefined: undefinedThing"));
	/* nothing was recorded: the same build still misses */
	o.dry_run = 1;
	GA_OK(goaccel_go_build(&res, fx.mod, &o));
	assert_int_equal(ST(res, BUILD), GOACCEL_BUILD_STATUS_MISS);
	goaccel_build_result_free(res);
	tu_sh("rm -f %s/broken.go", fx.mod);
	go_calls();
}

static void test_build__callback_cancels(void **state)
{
	goaccel_build_result *res = NULL;
	events ev = {0};
	goaccel_build_options o = fx_opts(&ev);
	(void)state;
	o.gcflags = "-N -l"; /* a new key: the build step must run, and is cancelled */
	ev.cancel_on_command = 1;
	assert_int_equal(goaccel_go_build(&res, fx.mod, &o), GOACCEL_EUSER);
	assert_null(res);
	assert_int_equal(ev.commands, 1);
	o.dry_run = 1;
	o.progress = NULL;
	GA_OK(goaccel_go_build(&res, fx.mod, &o));
	assert_int_equal(ST(res, BUILD), GOACCEL_BUILD_STATUS_MISS);
	goaccel_build_result_free(res);
	go_calls();
}

/* A struct compiled against the version-1 header ends after payload: init and go_build must
 * neither write nor read past it (ASan checks the exact-size heap block v1). */
static void test_build__version_1_options(void **state)
{
	goaccel_build_result *res = NULL;
	goaccel_build_options full = GOACCEL_BUILD_OPTIONS_INIT, got;
	unsigned char *v1 = malloc(GA_BUILD_OPTIONS_V1_SIZE);
	const char *bad_env[] = {"NOEQUALS"};
	(void)state;
	assert_non_null(v1);
	assert_true(GA_BUILD_OPTIONS_V1_SIZE < sizeof(goaccel_build_options));
	assert_int_equal(GA_BUILD_OPTIONS_V1_SIZE, offsetof(goaccel_build_options, image_env));
	GA_OK(goaccel_build_options_init((goaccel_build_options *)(void *)v1, 1));
	memset(&got, 0, sizeof(got));
	memcpy(&got, v1, GA_BUILD_OPTIONS_V1_SIZE);
	assert_int_equal(got.version, 1);
	full.version = 1;
	assert_memory_equal(&got, &full, GA_BUILD_OPTIONS_V1_SIZE);
	/* its fields are honoured ... */
	got.env = bad_env;
	got.env_count = 1;
	memcpy(v1, &got, GA_BUILD_OPTIONS_V1_SIZE);
	assert_int_equal(goaccel_go_build(&res, fx.mod, (goaccel_build_options *)(void *)v1),
	                 GOACCEL_EINVALID);
	assert_non_null(strstr(goaccel_error_last()->message, "NOEQUALS"));
	/* ... and the missing ones are the defaults */
	got.env = NULL;
	got.env_count = 0;
	memcpy(v1, &got, GA_BUILD_OPTIONS_V1_SIZE);
	assert_int_equal(goaccel_go_build(&res, "/nonexistent/module",
	                                  (goaccel_build_options *)(void *)v1),
	                 GOACCEL_ENOTFOUND);
	assert_null(res);
	free(v1);
}

static void test_build__bad_arguments(void **state)
{
	goaccel_build_result *res = NULL;
	goaccel_build_options o = fx_opts(NULL);
	const char *bad_env[] = {"NOEQUALS"};
	(void)state;
	assert_int_equal(goaccel_go_build(NULL, fx.mod, &o), GOACCEL_EINVALID);
	assert_int_equal(goaccel_go_build(&res, NULL, &o), GOACCEL_EINVALID);
	o.env = bad_env;
	o.env_count = 1;
	assert_int_equal(goaccel_go_build(&res, fx.mod, &o), GOACCEL_EINVALID);
	assert_non_null(strstr(goaccel_error_last()->message, "NOEQUALS"));
	o = fx_opts(NULL);
	o.version = 99;
	assert_int_equal(goaccel_go_build(&res, fx.mod, &o), GOACCEL_EVERSION);
	o = fx_opts(NULL);
	assert_int_equal(goaccel_go_build(&res, "/nonexistent/module", &o), GOACCEL_ENOTFOUND);
	assert_null(res);
	/* image configuration: only with an image, and NAME=VALUE pairs */
	o = fx_opts(NULL);
	o.image_user = "1000";
	assert_int_equal(goaccel_go_build(&res, fx.mod, &o), GOACCEL_EINVALID);
	assert_non_null(strstr(goaccel_error_last()->message, "without image_dir"));
	o = fx_opts(NULL);
	o.image_dir = "unused";
	o.image_labels = bad_env;
	o.image_label_count = 1;
	assert_int_equal(goaccel_go_build(&res, fx.mod, &o), GOACCEL_EINVALID);
	assert_non_null(strstr(goaccel_error_last()->message, "image_labels[0]"));
	o.image_labels = NULL;
	o.image_label_count = 0;
	o.image_cmd_count = 1; /* a count without its array */
	assert_int_equal(goaccel_go_build(&res, fx.mod, &o), GOACCEL_EINVALID);
	assert_non_null(strstr(goaccel_error_last()->message, "image_cmd[0]"));
	assert_null(res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build__options_init),
		cmocka_unit_test(test_build__names),
		cmocka_unit_test(test_build__result_accessors_and_json),
		cmocka_unit_test(test_build__cold_then_no_go_process),
		cmocka_unit_test(test_build__readme_and_test_files_are_not_inputs),
		cmocka_unit_test(test_build__explain_then_build_a_change),
		cmocka_unit_test(test_build__flags_are_in_the_key),
		cmocka_unit_test(test_build__compile_error_records_nothing),
		cmocka_unit_test(test_build__callback_cancels),
		cmocka_unit_test(test_build__bad_arguments),
		cmocka_unit_test(test_build__version_1_options),
	};
	return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
