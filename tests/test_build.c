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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build__options_init),
		cmocka_unit_test(test_build__names),
		cmocka_unit_test(test_build__result_accessors_and_json),
	};
	return cmocka_run_group_tests(tests, tu_group_setup, tu_group_teardown);
}
