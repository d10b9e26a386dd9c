/* Internal to the build layer (lib/build*.c): the result object and helpers shared by its files. */
#ifndef GOACCEL_BUILD_INTERNAL_H
#define GOACCEL_BUILD_INTERNAL_H

#include <stddef.h>

#include "goaccel/build.h"
#include "goaccel/hash.h"
#include "goaccel/key.h"
#include "goaccel/store.h"

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

/* ---- build_toolchain.c: the toolchain identity, cached in the store across processes ---- */

/* Name/value pairs (sorted by name) of the toolchain identity. */
typedef struct {
	goaccel_strarray names;
	goaccel_strarray values;
} ga_build_toolchain;

void ga_build_toolchain_dispose(ga_build_toolchain *tc);

/* Identifies the go toolchain for a build in dir with environment envp (NULL-terminated),
 * answering from the store when the go binary, the environment the go command reads, its env
 * file and the go/toolchain lines of go.mod/go.work are unchanged (no go process), else running
 * `go env` through the gomod layer and recording the answer. *hit says which. */
int ga_build_toolchain_get(ga_build_toolchain *out, int *hit, goaccel_digest *key_out,
                           goaccel_store *store, const char *dir, const char *const *envp,
                           int dry_run);

/* ---- build_explain.c: the record of the previous build of a target, and miss explanations ---- */

/* One input root of the build step: its path relative to the main module and its manifest. */
typedef struct {
	const char *rel;
	goaccel_manifest *manifest;
} ga_build_root_manifest;

/* Fills the step's explanation and changes for a miss: what differs between key and the key
 * recorded for the same step by the previous build of target (file changes through the root
 * manifests for the build step). Never fails the build: problems reading an old record are
 * reported as "first build". */
int ga_build_explain_miss(goaccel_build_result *res, goaccel_build_step step, goaccel_store *store,
                          const char *target, const goaccel_key *key,
                          const ga_build_root_manifest *roots, size_t nroots);

/* Records this build (both keys and the root manifests) as the previous build of target. A
 * record identical to the current one is not rewritten. */
int ga_build_remember(goaccel_store *store, const char *target, const goaccel_key *deps_key,
                      const goaccel_key *build_key, const ga_build_root_manifest *roots,
                      size_t nroots);

/* ---- build_outstamp.c: outputs already in place in an output directory ---- */

/* Records that out_dir (absolute, with the bin_dir applied by the caller's paths) holds the n
 * outputs of the build with key, as the files are now. No stamp is written if an output file is
 * missing. */
int ga_build_outputs_record(const char *state_dir, const char *out_dir, const goaccel_digest *key,
                            int64_t duration_ns, const goaccel_build_output *outputs, size_t n);

/* *current = 1 when the stamp of out_dir (absolute) names key and every output file is unchanged
 * since it was written; the outputs are then added to res (their paths under shown_dir, the
 * directory as the caller named it) and *duration_ns is the recorded duration of the build they
 * came from. */
int ga_build_outputs_current(int *current, int64_t *duration_ns, goaccel_build_result *res,
                             const char *state_dir, const char *out_dir, const char *shown_dir,
                             const char *bin_dir, const goaccel_digest *key);

/* 1 when the stamp of out_dir (absolute) lists the output name with this digest and the file
 * out_dir/[bin_dir/]name is unchanged since it was written (whatever build key the stamp names);
 * 0 otherwise. Sets no error. */
int ga_build_output_in_place(const char *state_dir, const char *out_dir, const char *bin_dir,
                             const char *name, const goaccel_digest *digest);

/* The size of a version-1 goaccel_build_options: the fields up to payload (version 2 appended
 * the image_* fields). */
#define GA_BUILD_OPTIONS_V1_SIZE \
	(offsetof(goaccel_build_options, payload) + sizeof(((goaccel_build_options *)0)->payload))

#endif
