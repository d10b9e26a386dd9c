/*
 * libgoaccel — the Go build pipeline: the seed's Dockerfile as one call.
 *
 * goaccel_go_build() builds a Go module the way a BuildKit Dockerfile with cache mounts does,
 * without a daemon:
 *
 *   1. toolchain — the identity of the `go` command that will run (GOVERSION, GOOS, GOARCH, ...),
 *      cached, so that a no-change rebuild starts no go process at all;
 *   2. deps      — `go mod download` with GOMODCACHE on the store's `gomod` cache mount. Keyed by
 *      go.mod, go.sum, go.work, go.work.sum, the toolchain and GOPROXY/GOPRIVATE/GONOSUMDB/
 *      GONOPROXY/GONOSUMCHECK/GOINSECURE/GOFLAGS. A hit skips it;
 *   3. build     — `go build` with GOMODCACHE and GOCACHE on their mounts (stable paths, so Go's
 *      own per-package cache hits). Keyed by the digest of exactly the files `go build` can read
 *      (so a README or `_test.go` edit hits, a git-ignored generated `.go` file or an embedded
 *      asset never goes unnoticed), the deps key, the toolchain, the packages, tags, ldflags,
 *      gcflags, trimpath, buildvcs, CGO_ENABLED, GOOS/GOARCH and any extra environment. A hit
 *      restores the binaries from the store and starts no go process; a miss saves them;
 *   4. extract   — the binaries and any SRC:DST copies into an output directory and/or an OCI
 *      image layout (optionally on a base image), like `COPY --from=builder`.
 *
 * The result says, per step, hit or miss, the key, the duration and — on a miss — what differs
 * from the previous build of the same target (which files, which flags, which toolchain fields).
 * Progress events (step start/end, go's output as it arrives, periodic ticks) go to a callback;
 * a non-zero return from it cancels the build and stops the go process group.
 *
 * Simple use:
 *
 *     goaccel_build_options opts = GOACCEL_BUILD_OPTIONS_INIT;
 *     goaccel_build_result *res = NULL;
 *     opts.output_dir = "out";
 *     if (goaccel_go_build(&res, "examples/app", &opts) < 0)
 *             fprintf(stderr, "%s\n", goaccel_error_last()->message);
 *     else
 *             printf("build step: %s\n", goaccel_build_status_name(
 *                     goaccel_build_result_status(res, GOACCEL_BUILD_STEP_BUILD)));
 *     goaccel_build_result_free(res);
 *
 * docs/build.md describes the keys, the refs kept for explanations and the environment given to
 * go.
 */
#ifndef INCLUDE_goaccel_build_h__
#define INCLUDE_goaccel_build_h__

#include "common.h"
#include "digest.h"

GOACCEL_BEGIN_DECL

/** The steps of a build, in the order they run. */
typedef enum {
	GOACCEL_BUILD_STEP_TOOLCHAIN = 0, /**< identify the go toolchain (cached) */
	GOACCEL_BUILD_STEP_DEPS = 1,      /**< go mod download onto the gomod mount */
	GOACCEL_BUILD_STEP_BUILD = 2,     /**< go build with both cache mounts */
	GOACCEL_BUILD_STEP_EXTRACT = 3,   /**< copy artifacts to the output dir / OCI image */
	GOACCEL_BUILD_STEP_COUNT = 4
} goaccel_build_step;

/** What happened to a step. */
typedef enum {
	GOACCEL_BUILD_STATUS_NONE = 0,  /**< the step did not run (an earlier step failed, dry run) */
	GOACCEL_BUILD_STATUS_HIT = 1,   /**< its key was in the store: nothing was run */
	GOACCEL_BUILD_STATUS_MISS = 2,  /**< its key was not in the store: it ran (or would run) */
	GOACCEL_BUILD_STATUS_SKIPPED = 3, /**< nothing to do (no go.mod requirements, no output) */
	GOACCEL_BUILD_STATUS_FAILED = 4 /**< it ran and failed */
} goaccel_build_status;

/** The kinds of progress event. */
typedef enum {
	GOACCEL_BUILD_EVENT_STEP_START = 0, /**< a step begins; `message` says what it will do */
	GOACCEL_BUILD_EVENT_STEP_END = 1,   /**< a step ended; `status`, `key`, `elapsed_ns` set */
	GOACCEL_BUILD_EVENT_OUTPUT = 2,     /**< bytes written by go; `data`, `len`, `stream` set */
	GOACCEL_BUILD_EVENT_TICK = 3,       /**< about every 100 ms while go runs (for live timers) */
	GOACCEL_BUILD_EVENT_COMMAND = 4     /**< a child is about to start; `message` is its argv */
} goaccel_build_event_type;

/**
 * A progress event. Everything it points to is borrowed and valid only during the callback.
 */
typedef struct {
	goaccel_build_event_type type;
	goaccel_build_step step;
	goaccel_build_status status; /**< STEP_END: the outcome */
	int64_t elapsed_ns;          /**< time since the step started */
	const goaccel_digest *key;   /**< STEP_END: the step's key, or NULL if it has none */
	const char *message;         /**< STEP_START, STEP_END (one-line explanation), COMMAND */
	const char *data;            /**< OUTPUT: the bytes (not NUL-terminated) */
	size_t len;                  /**< OUTPUT: how many */
	int stream;                  /**< OUTPUT: 1 stdout, 2 stderr */
} goaccel_build_event;

/**
 * Receives progress events. Called in the thread that called goaccel_go_build(). Return 0 to go
 * on; any other value cancels the build: the running go process group is killed, nothing is
 * saved for the cancelled step, and goaccel_go_build() returns GOACCEL_EUSER.
 */
typedef int (*goaccel_build_progress_cb)(const goaccel_build_event *event, void *payload);

/** An extra file or directory copied into the output, like `COPY --from=builder SRC DST`. */
typedef struct {
	const char *src; /**< relative to the module directory (a file or directory) */
	const char *dst; /**< relative to the output root / image root; a trailing '/' puts src in it */
} goaccel_build_copy;

/** Options for goaccel_go_build(). Initialise with GOACCEL_BUILD_OPTIONS_INIT. */
typedef struct {
	unsigned int version;

	/** The cache (store) root; NULL = $GOACCEL_CACHE, $XDG_CACHE_HOME/goaccel, ~/.cache/goaccel. */
	const char *cache_dir;

	/** Packages to build, as given to `go build`; none = "." (the module's root package). */
	const char *const *packages;
	size_t package_count;

	/** `-tags`, `-ldflags`, `-gcflags` values (NULL = not given). Part of the build key. */
	const char *tags;
	const char *ldflags;
	const char *gcflags;

	/** `-trimpath` (default 1) and `-buildvcs` (default 0). Part of the build key. */
	int trimpath;
	int buildvcs;

	/** CGO_ENABLED given to go: 0 (default: static binaries for images), 1, or -1 to take the
	 *  environment's (or go's own default). Part of the build key. */
	int cgo;

	/** GOOS / GOARCH to build for; NULL = the environment's, else the host's. */
	const char *goos;
	const char *goarch;

	/** Extra "NAME=VALUE" variables for go (GOAMD64, GOEXPERIMENT, CC, ...). Part of both keys. */
	const char *const *env;
	size_t env_count;

	/** The environment go is started from (PATH finds go; HOME, GOPROXY, ...); NULL = the
	 *  calling process's. GOMODCACHE and GOCACHE in it are replaced by the mounts. */
	const char *const *envp;

	/** Where the binaries (and copies) are written; NULL = nowhere. Created if missing; files
	 *  of the same names are replaced, nothing else in it is touched. */
	const char *output_dir;

	/** A directory inside the output tree (and the image) for the binaries; NULL = its root. */
	const char *bin_dir;

	/** Extra copies from the module directory into the output tree and the image. */
	const goaccel_build_copy *copies;
	size_t copy_count;

	/** Write an OCI image layout to this directory (NULL = no image), tagged image_ref
	 *  (NULL = "latest"). Its one layer is the output tree; its entrypoint the first binary. */
	const char *image_dir;
	const char *image_ref;

	/** A base image: an OCI layout directory and a ref in it (NULL = no base, FROM scratch). */
	const char *base_dir;
	const char *base_ref;

	/** The name under which this build is remembered for explanations ("what changed since the
	 *  previous build of the same target"); NULL = derived from the module path and packages. */
	const char *target;

	/** Compute every key and look it up, run nothing and write nothing (`goaccel explain`). The
	 *  result says which steps would hit and, for misses, what changed. */
	int dry_run;

	/** Progress callback (may be NULL) and its payload. */
	goaccel_build_progress_cb progress;
	void *payload;

	/* The image's configuration (the final stage's ENV, ENTRYPOINT, CMD, WORKDIR, USER, LABEL).
	 * Only with image_dir; none of it is part of a step key (the image is written afresh by
	 * every build). Values set here replace those inherited from base_dir's image. */

	/** Environment variables of the image, "NAME=VALUE" each (Dockerfile ENV). Not go's
	 *  environment: that is env. */
	const char *const *image_env;
	size_t image_env_count;

	/** The entrypoint, argv form (Dockerfile ENTRYPOINT ["..."]). None given: with image_cmd
	 *  the base's entrypoint (if any) is kept, as a Dockerfile with only CMD does; without
	 *  image_cmd the entrypoint is the first binary ("/<bin_dir>/<name>"). One empty string
	 *  ("") clears the entrypoint, inherited ones included (ENTRYPOINT []). */
	const char *const *image_entrypoint;
	size_t image_entrypoint_count;

	/** The command, argv form (Dockerfile CMD ["..."]); none = the base's, or none. */
	const char *const *image_cmd;
	size_t image_cmd_count;

	/** The working directory and the user ("uid", "uid:gid", "name") of the image; NULL =
	 *  the base's, or none. */
	const char *image_workdir;
	const char *image_user;

	/** Labels of the image, "KEY=VALUE" each (Dockerfile LABEL). */
	const char *const *image_labels;
	size_t image_label_count;
} goaccel_build_options;

/* Version 2 appended the image_* fields. A version-1 struct (the fields up to payload, as
 * compiled against the earlier header) is still accepted by goaccel_go_build() and
 * goaccel_build_options_init(), which then neither read nor write past payload. */
#define GOACCEL_BUILD_OPTIONS_VERSION 2
#define GOACCEL_BUILD_OPTIONS_INIT                                                                 \
	{ GOACCEL_BUILD_OPTIONS_VERSION, NULL, NULL, 0, NULL, NULL, NULL, 1, 0, 0, NULL, NULL, NULL, \
	  0, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL,                 \
	  NULL, 0, NULL, 0, NULL, 0, NULL, NULL, NULL, 0 }

/**
 * Initialises an options struct to the defaults, for bindings that cannot use the macro.
 * version 1 initialises only the fields of a version-1 struct (up to payload).
 * @return 0, GOACCEL_EINVALID for NULL, GOACCEL_EVERSION for an unknown version.
 */
GOACCEL_EXTERN(int) goaccel_build_options_init(goaccel_build_options *opts, unsigned int version);

/** The result of a build. Opaque; free with goaccel_build_result_free(). */
typedef struct goaccel_build_result goaccel_build_result;

/** How one change between two builds is described. */
typedef enum {
	GOACCEL_BUILD_CHANGE_FILE = 0,      /**< an input file was added, removed or modified */
	GOACCEL_BUILD_CHANGE_FIELD = 1,     /**< a flag, environment variable or key input changed */
	GOACCEL_BUILD_CHANGE_TOOLCHAIN = 2, /**< a toolchain field (GOVERSION, GOROOT, ...) changed */
	GOACCEL_BUILD_CHANGE_FIRST = 3      /**< no previous build of this target is known */
} goaccel_build_change_kind;

/** One reason a step missed. Borrowed from its result. */
typedef struct {
	goaccel_build_change_kind kind;
	const char *name;      /**< the file path or field name (NULL for FIRST) */
	const char *what;      /**< "added", "removed", "modified", or "changed" */
	const char *old_value; /**< for fields: the previous value, or NULL (absent/unknown) */
	const char *new_value; /**< for fields: the new value, or NULL (absent) */
} goaccel_build_change;

/** One binary the build produced. Borrowed from its result. */
typedef struct {
	const char *name;     /**< the file name go gave it ("orders") */
	const char *path;     /**< where it was written in output_dir, or NULL without one */
	goaccel_digest digest; /**< SHA-256 of its content */
	uint64_t size;
	unsigned int mode;    /**< permission bits */
} goaccel_build_output;

/**
 * Builds a Go module: toolchain → deps → build → extract, each step cached in the store.
 *
 * @param out        receives the result on success (the caller frees it); NULL on failure
 * @param module_dir the directory holding go.mod
 * @param opts       options, NULL for the defaults
 * @return 0 on success (including a build that was entirely served from the cache);
 *         GOACCEL_EBUILD when go mod download or go build failed: the message carries go's
 *         output (the compiler's diagnostics) and nothing was saved for that step;
 *         GOACCEL_ENOTFOUND when module_dir has no go.mod or go is not in PATH;
 *         GOACCEL_EINVALID for bad options (a copy escaping its root, a malformed env entry);
 *         GOACCEL_EUSER when the progress callback cancelled;
 *         GOACCEL_ELOCKED when a cache mount could not be acquired; other codes from the
 *         layers below (store, hash, gomod, image), with their messages.
 *
 * Thread-safe: concurrent builds (in threads or processes) may share a store; Go's own caches
 * are safe to share and identical step outputs are stored once.
 */
GOACCEL_EXTERN(int) goaccel_go_build(goaccel_build_result **out, const char *module_dir,
                                     const goaccel_build_options *opts);

/** The status of a step (GOACCEL_BUILD_STATUS_NONE for a NULL result or an unknown step). */
GOACCEL_EXTERN(goaccel_build_status) goaccel_build_result_status(const goaccel_build_result *res,
                                                                 goaccel_build_step step);

/** The key of a step, or NULL if it has none (extract, or a step that did not run). Borrowed. */
GOACCEL_EXTERN(const goaccel_digest *) goaccel_build_result_key(const goaccel_build_result *res,
                                                                goaccel_build_step step);

/** How long the step took in this build, in nanoseconds. */
GOACCEL_EXTERN(int64_t) goaccel_build_result_duration_ns(const goaccel_build_result *res,
                                                         goaccel_build_step step);

/** For a hit: how long the step took when it originally ran (the time this hit saved); 0 else. */
GOACCEL_EXTERN(int64_t) goaccel_build_result_saved_ns(const goaccel_build_result *res,
                                                      goaccel_build_step step);

/** A one-line human explanation of the step's outcome ("hit", "3 files changed: main.go, ...",
 *  "ldflags changed", "first build of this target"). Never NULL; borrowed. */
GOACCEL_EXTERN(const char *) goaccel_build_result_explanation(const goaccel_build_result *res,
                                                              goaccel_build_step step);

/** The number of recorded changes behind a miss of the step (0 for a hit). */
GOACCEL_EXTERN(size_t) goaccel_build_result_change_count(const goaccel_build_result *res,
                                                         goaccel_build_step step);

/** The i-th change behind a miss, or NULL when out of range. Borrowed. */
GOACCEL_EXTERN(const goaccel_build_change *) goaccel_build_result_change_byindex(
	const goaccel_build_result *res, goaccel_build_step step, size_t i);

/** The number of binaries the build produced (or, for a dry run that hits, would restore). */
GOACCEL_EXTERN(size_t) goaccel_build_result_output_count(const goaccel_build_result *res);

/** The i-th binary, or NULL when out of range. Borrowed. */
GOACCEL_EXTERN(const goaccel_build_output *) goaccel_build_result_output_byindex(
	const goaccel_build_result *res, size_t i);

/** The digest of the OCI image manifest written, or NULL when no image was asked for. */
GOACCEL_EXTERN(const goaccel_digest *) goaccel_build_result_image_digest(
	const goaccel_build_result *res);

/**
 * The whole result as one JSON document (the `goaccel build --json` output; the format is in
 * docs/build.md). *out is a NUL-terminated string freed with goaccel_free().
 * @return 0, GOACCEL_EINVALID for NULL arguments, GOACCEL_ERROR when out of memory.
 */
GOACCEL_EXTERN(int) goaccel_build_result_to_json(char **out, const goaccel_build_result *res);

/** Frees a result. NULL is a no-op. */
GOACCEL_EXTERN(void) goaccel_build_result_free(goaccel_build_result *res);

/** "toolchain", "deps", "build", "extract"; "?" for anything else. Static. */
GOACCEL_EXTERN(const char *) goaccel_build_step_name(goaccel_build_step step);

/** "none", "hit", "miss", "skipped", "failed"; "?" for anything else. Static. */
GOACCEL_EXTERN(const char *) goaccel_build_status_name(goaccel_build_status status);

GOACCEL_END_DECL

#endif
