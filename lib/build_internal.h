/* Internal to the build layer (lib/build*.c): the result object and helpers shared by its files. */
#ifndef GOACCEL_BUILD_INTERNAL_H
#define GOACCEL_BUILD_INTERNAL_H

#include "goaccel/build.h"

typedef struct {
	goaccel_build_status status;
	int has_key;
	goaccel_digest key;
	int64_t duration_ns;
	int64_t saved_ns;
	char *explanation;
	goaccel_build_change *changes;
	size_t change_count;
	size_t change_alloc;
} ga_build_step_result;

struct goaccel_build_result {
	ga_build_step_result steps[GOACCEL_BUILD_STEP_COUNT];
	goaccel_build_output *outputs;
	size_t output_count;
	int has_image;
	goaccel_digest image_digest;
	char *module_dir;
	char *target;
	int dry_run;
};

int ga_build_result_new(goaccel_build_result **out, const char *module_dir, const char *target,
                        int dry_run);
/* Records a change behind a miss; strings are copied (any may be NULL). */
int ga_build_result_add_change(goaccel_build_result *res, goaccel_build_step step,
                               goaccel_build_change_kind kind, const char *name,
                               const char *what, const char *old_value, const char *new_value);
/* Replaces the step's explanation with a formatted one. */
int ga_build_result_explain(goaccel_build_result *res, goaccel_build_step step, const char *fmt,
                            ...) __attribute__((format(printf, 3, 4)));
/* Appends an output; name and path are copied (path may be NULL). */
int ga_build_result_add_output(goaccel_build_result *res, const char *name, const char *path,
                               const goaccel_digest *digest, uint64_t size, unsigned int mode);

#endif
