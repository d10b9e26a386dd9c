/*
 * libgoaccel — Go modules: go.mod / go.work parsing, the inputs of a build, Go's h1: hashes,
 * go.sum verification and the toolchain identity.
 *
 * A Go build reads more than one directory: local `replace` targets and go.work members feed it
 * too, and the toolchain and its environment change the output as much as the sources do. This
 * layer answers, the way the go command itself does:
 *
 *  - what a go.mod / go.work says           goaccel_gomod_parse(), goaccel_gowork_parse()
 *  - which directories feed a build          goaccel_gomod_input_roots()
 *  - which files in them `go build` can read goaccel_gomod_build_inputs()  (→ goaccel_hash_paths)
 *  - Go's "h1:" checksums (go.sum)           goaccel_h1_dir(), goaccel_h1_zip(), goaccel_h1_gomod()
 *  - whether a module cache matches go.sum   goaccel_gosum_verify()
 *  - which toolchain builds, and how         goaccel_go_toolchain()
 *
 * The selection rules are specified in docs/keys.md ("Build inputs"); the parsers and hashes in
 * docs/gomod.md.
 */
#ifndef INCLUDE_goaccel_gomod_h__
#define INCLUDE_goaccel_gomod_h__

#include "common.h"
#include "digest.h"

GOACCEL_BEGIN_DECL

/* ---- go.mod ---------------------------------------------------------------------------------- */

/** A parsed go.mod file. Opaque; read it with the accessors below; free with goaccel_gomod_free(). */
typedef struct goaccel_gomod goaccel_gomod;

/** A module path and version (`require`, `exclude`, a replacement module). */
typedef struct {
	const char *path;    /**< module path, unquoted */
	const char *version; /**< semantic version, unquoted; NULL where the form has none */
	int indirect;        /**< 1 when the require line carries a `// indirect` comment */
	unsigned line;       /**< 1-based line of the directive in its file */
} goaccel_gomod_module;

/**
 * A `replace` directive: `old [old_version] => new [new_version]`.
 * When new_version is NULL the replacement is a local directory (new_path begins with "./",
 * "../", "/" or is "." / ".."), as in Go; it is resolved relative to the directory of the file
 * that names it.
 */
typedef struct {
	const char *old_path;
	const char *old_version; /**< NULL: every version of old_path is replaced */
	const char *new_path;    /**< module path, or a directory (see is_dir) */
	const char *new_version; /**< NULL when the replacement is a directory */
	int is_dir;              /**< 1 when new_path is a local directory */
	unsigned line;
} goaccel_gomod_replace;

/** A `retract` directive: one version (low == high) or an inclusive `[low, high]` interval. */
typedef struct {
	const char *low;
	const char *high;
	const char *rationale; /**< the comment before/after the directive, or "" */
	unsigned line;
} goaccel_gomod_retract;

/** A `godebug key=value` directive (go.mod and go.work). */
typedef struct {
	const char *key;
	const char *value;
	unsigned line;
} goaccel_gomod_godebug;

/**
 * Parses go.mod content.
 *
 * Follows the grammar of golang.org/x/mod/modfile (the go command's own parser): line and block
 * forms `verb ( ... )`, `//` comments, interpreted ("...") and raw (`...`) strings. Understands
 * module, go, toolchain, godebug, require, exclude, replace, retract; `tool` and `ignore`
 * directives are accepted and skipped. Unknown verbs are errors, as in Go's strict mode.
 *
 * @param out   receives the parsed file (caller owns; goaccel_gomod_free())
 * @param path  used only in error messages ("path:line: ..."); NULL reads as "go.mod"
 * @param data  the content (need not be NUL-terminated)
 * @param len   bytes in data
 * @return 0; GOACCEL_EINVALID for malformed input, with "file:line: what" in
 *         goaccel_error_last(); GOACCEL_ERROR when out of memory. Thread-safe.
 */
GOACCEL_EXTERN(int) goaccel_gomod_parse(goaccel_gomod **out, const char *path, const char *data, size_t len);

/**
 * Reads and parses a go.mod file. As goaccel_gomod_parse(), plus GOACCEL_ENOTFOUND when the file
 * does not exist and GOACCEL_ELIMIT beyond 16 MiB. Thread-safe.
 */
GOACCEL_EXTERN(int) goaccel_gomod_parse_file(goaccel_gomod **out, const char *path);

/** The `module` path, or NULL when the file has no module line. Borrowed from m. */
GOACCEL_EXTERN(const char *) goaccel_gomod_module_path(const goaccel_gomod *m);
/** The `go` version ("1.22.3"), or NULL. Borrowed. */
GOACCEL_EXTERN(const char *) goaccel_gomod_go_version(const goaccel_gomod *m);
/** The `toolchain` name ("go1.22.3"), or NULL. Borrowed. */
GOACCEL_EXTERN(const char *) goaccel_gomod_toolchain(const goaccel_gomod *m);

/*
 * Accessors. Each *_count() gives the number of directives of that kind (0 for a NULL m); each
 * *_byindex() the i-th in file order, or NULL when i is out of range or m is NULL. The structs
 * and their strings are borrowed from m and live until goaccel_gomod_free(m). A parsed file is
 * immutable: concurrent reads from several threads are safe.
 */
/** Number of `require` lines. */
GOACCEL_EXTERN(size_t) goaccel_gomod_require_count(const goaccel_gomod *m);
/** The i-th require in file order; NULL when i is out of range. Borrowed. */
GOACCEL_EXTERN(const goaccel_gomod_module *) goaccel_gomod_require_byindex(const goaccel_gomod *m, size_t i);
/** Number of `exclude` lines. */
GOACCEL_EXTERN(size_t) goaccel_gomod_exclude_count(const goaccel_gomod *m);
/** The i-th exclude (path, version); NULL when out of range. Borrowed. */
GOACCEL_EXTERN(const goaccel_gomod_module *) goaccel_gomod_exclude_byindex(const goaccel_gomod *m, size_t i);
/** Number of `replace` lines. */
GOACCEL_EXTERN(size_t) goaccel_gomod_replace_count(const goaccel_gomod *m);
/** The i-th replace; NULL when out of range. Borrowed. */
GOACCEL_EXTERN(const goaccel_gomod_replace *) goaccel_gomod_replace_byindex(const goaccel_gomod *m, size_t i);
/** Number of `retract` lines. */
GOACCEL_EXTERN(size_t) goaccel_gomod_retract_count(const goaccel_gomod *m);
/** The i-th retract; NULL when out of range. Borrowed. */
GOACCEL_EXTERN(const goaccel_gomod_retract *) goaccel_gomod_retract_byindex(const goaccel_gomod *m, size_t i);
/** Number of `godebug` settings. */
GOACCEL_EXTERN(size_t) goaccel_gomod_godebug_count(const goaccel_gomod *m);
/** The i-th godebug setting; NULL when out of range. Borrowed. */
GOACCEL_EXTERN(const goaccel_gomod_godebug *) goaccel_gomod_godebug_byindex(const goaccel_gomod *m, size_t i);

/** Frees a parsed go.mod; NULL is a no-op. */
GOACCEL_EXTERN(void) goaccel_gomod_free(goaccel_gomod *m);

/* ---- go.work --------------------------------------------------------------------------------- */

/** A parsed go.work file. Opaque; free with goaccel_gowork_free(). */
typedef struct goaccel_gowork goaccel_gowork;

/**
 * Parses go.work content: go, toolchain, godebug, use (directories, as written), replace.
 * Same grammar, error and ownership rules as goaccel_gomod_parse(); path defaults to "go.work".
 */
GOACCEL_EXTERN(int) goaccel_gowork_parse(goaccel_gowork **out, const char *path, const char *data, size_t len);
/** Reads and parses a go.work file (see goaccel_gomod_parse_file()). */
GOACCEL_EXTERN(int) goaccel_gowork_parse_file(goaccel_gowork **out, const char *path);

/* Accessors: as for go.mod (borrowed from w, NULL when out of range or w is NULL). */
/** The `go` version, or NULL. Borrowed. */
GOACCEL_EXTERN(const char *) goaccel_gowork_go_version(const goaccel_gowork *w);
/** The `toolchain` name, or NULL. Borrowed. */
GOACCEL_EXTERN(const char *) goaccel_gowork_toolchain(const goaccel_gowork *w);
/** Number of `use` directories. */
GOACCEL_EXTERN(size_t) goaccel_gowork_use_count(const goaccel_gowork *w);
/** The i-th `use` directory exactly as written (relative to the go.work's directory unless
 *  absolute); NULL when out of range. Borrowed. */
GOACCEL_EXTERN(const char *) goaccel_gowork_use_byindex(const goaccel_gowork *w, size_t i);
/** Number of `replace` lines. */
GOACCEL_EXTERN(size_t) goaccel_gowork_replace_count(const goaccel_gowork *w);
/** The i-th replace (local directories relative to the go.work's directory). Borrowed. */
GOACCEL_EXTERN(const goaccel_gomod_replace *) goaccel_gowork_replace_byindex(const goaccel_gowork *w, size_t i);
/** Number of `godebug` settings. */
GOACCEL_EXTERN(size_t) goaccel_gowork_godebug_count(const goaccel_gowork *w);
/** The i-th godebug setting. Borrowed. */
GOACCEL_EXTERN(const goaccel_gomod_godebug *) goaccel_gowork_godebug_byindex(const goaccel_gowork *w, size_t i);
/** Frees a parsed go.work; NULL is a no-op. */
GOACCEL_EXTERN(void) goaccel_gowork_free(goaccel_gowork *w);

/* ---- the inputs of a build ------------------------------------------------------------------- */

/**
 * Finds the go.work file the go command would use for a build in module_dir: $GOWORK from envp
 * (or from the go env file, as `go env -w` writes it) when set — "off" means none — else the
 * nearest go.work in module_dir or any parent directory.
 *
 * @param out         receives the absolute path (caller frees with goaccel_free())
 * @param module_dir  the directory the build runs in
 * @param envp        the environment the go command will get (NULL: this process's)
 * @return 0; GOACCEL_ENOTFOUND when no go.work is in use (GOWORK=off or none found);
 *         GOACCEL_EINVALID when GOWORK is set to a relative path (Go refuses it too).
 *         Thread-safe.
 */
GOACCEL_EXTERN(int) goaccel_gomod_find_work(char **out, const char *module_dir, const char *const *envp);

/**
 * The directories whose content feeds a build in module_dir, as the go command resolves them:
 *  - the main module: the nearest directory at or above module_dir that holds a go.mod;
 *  - when a go.work is in use (goaccel_gomod_find_work()): its directory (it holds go.work,
 *    go.work.sum and a workspace vendor/), every `use` directory, and the local directory
 *    targets of the go.work's `replace` directives;
 *  - the local directory targets of `replace` directives in the go.mod of every main module
 *    (the module, or each `use` module in workspace mode). Replacements inside replaced modules
 *    are not followed: Go ignores them too.
 * Each is resolved relative to the file that names it, made absolute with realpath(3) (so
 * symlinked spellings of one directory give one entry), and listed once. Directories that do not
 * exist are left out (Go reads a replacement only when it is needed; a missing one fails the
 * build in Go itself). Nested modules are separate roots: goaccel_gomod_build_inputs() on a root
 * never descends into a subdirectory that has its own go.mod.
 *
 * Order: out->strings[0] is the main module; the rest follow in bytewise order.
 *
 * @param out         receives the list (caller disposes with goaccel_strarray_dispose())
 * @param module_dir  the directory the build runs in (a module root or a package inside one)
 * @param envp        environment for GOWORK (NULL: this process's)
 * @return 0; GOACCEL_ENOTFOUND when no go.mod is found at or above module_dir;
 *         GOACCEL_EINVALID (file:line named) when a go.mod or go.work is malformed or GOWORK is
 *         relative; GOACCEL_ERROR on I/O failure. Thread-safe.
 */
GOACCEL_EXTERN(int) goaccel_gomod_input_roots(goaccel_strarray *out, const char *module_dir, const char *const *envp);

/** Options for goaccel_gomod_build_inputs(). */
typedef struct {
	unsigned int version;
	/** 1: also select what `go test` reads (_test.go files, their //go:embed targets and
	 *  testdata/ trees). Default 0: what `go build` reads. */
	int tests;
} goaccel_gomod_inputs_options;

#define GOACCEL_GOMOD_INPUTS_OPTIONS_VERSION 1
#define GOACCEL_GOMOD_INPUTS_OPTIONS_INIT {GOACCEL_GOMOD_INPUTS_OPTIONS_VERSION, 0}

/** Initialises opts to the defaults for the given version (for FFI). @return 0 or GOACCEL_EVERSION. */
GOACCEL_EXTERN(int) goaccel_gomod_inputs_options_init(goaccel_gomod_inputs_options *opts, unsigned int version);

/**
 * Selects exactly the files under root that the go command can read when it builds the
 * packages of root (a directory returned by goaccel_gomod_input_roots()), for
 * goaccel_hash_paths(). The rules (docs/keys.md, "Build inputs"):
 *
 *  - in: `.go` files other than `_test.go`; `.s .S .sx .c .h .cc .cpp .cxx .hh .hpp .hxx .m .f
 *    .F .for .f90 .syso .swig .swigcxx` files; `default.pgo`; go.mod, go.sum, go.work and
 *    go.work.sum at root; vendor/ (modules.txt and what the same rules select below it) when
 *    root has a vendor/ directory; every regular file a `//go:embed` directive of a selected
 *    `.go` file (that imports "embed") can match — names, globs, directories (without `.`/`_`
 *    names below them unless the pattern has `all:`), with Go's own pattern syntax and quoting;
 *  - out: directories Go ignores (`testdata`, names starting with `.` or `_`), subdirectories
 *    with their own go.mod (nested modules), `_test.go` files, everything else (README.md,
 *    docs, CI files). When root has no go.mod (a workspace directory), only go.work,
 *    go.work.sum and vendor/ are selected: its other files belong to no module.
 *  - ignore files (.gitignore, .dockerignore) play no part: a git-ignored generated `.go` file
 *    or an ignored embedded asset is still read by the compiler, so it is selected.
 *
 * Symbolic links are selected like the files they name when they match (a link named x.go is
 * selected); symlinked directories are not descended, as in Go's own package walk.
 *
 * @param out   receives root-relative, '/'-separated paths in bytewise (strcmp) order without
 *              duplicates (caller disposes with goaccel_strarray_dispose())
 * @param root  the directory to select from
 * @param opts  NULL for defaults
 * @return 0; GOACCEL_ENOTFOUND when root does not exist; GOACCEL_EINVALID when it is not a
 *         directory; GOACCEL_EVERSION for an unknown options version; GOACCEL_ERROR on an I/O
 *         failure (the path is named). Thread-safe.
 */
GOACCEL_EXTERN(int) goaccel_gomod_build_inputs(goaccel_strarray *out, const char *root,
                                               const goaccel_gomod_inputs_options *opts);

/* ---- Go's h1: hashes ------------------------------------------------------------------------- */

/**
 * Go's "h1:" hash of a directory holding module path@version (golang.org/x/mod dirhash.HashDir
 * with prefix "path@version"): every non-directory entry of the tree (symlinks are followed for
 * content, as Go's os.Open does), named "path@version/<relpath>", in sorted order; each line is
 * "<sha256 hex of content>  <name>\n"; the result is "h1:" + base64(sha256(lines)).
 * This is what Go checks an extracted module in GOMODCACHE against.
 *
 * @param out          receives "h1:...=" (caller frees with goaccel_free())
 * @param dir          the directory
 * @param module_path  e.g. "rsc.io/quote"
 * @param version      e.g. "v1.5.1"
 * @return 0; GOACCEL_ENOTFOUND / GOACCEL_EINVALID (not a directory); GOACCEL_EINVALID for a
 *         file name with a newline; GOACCEL_ERROR on I/O failure. Thread-safe.
 */
GOACCEL_EXTERN(int) goaccel_h1_dir(char **out, const char *dir, const char *module_path, const char *version);

/**
 * Go's "h1:" hash of a module zip (dirhash.HashZip): every entry name in the zip as stored
 * ("path@version/..."), read through libarchive. This is the hash go.sum records for a module.
 * @return 0; GOACCEL_ENOTFOUND; GOACCEL_ECORRUPT when the zip cannot be read (libarchive's
 *         message kept); GOACCEL_EINVALID for an entry name with a newline. Thread-safe.
 */
GOACCEL_EXTERN(int) goaccel_h1_zip(char **out, const char *zip_path);

/**
 * Go's "h1:" hash of a go.mod file's content, as recorded in go.sum's "path version/go.mod"
 * lines (one file named "go.mod"). goaccel_h1_gomod_buffer() hashes content in memory; the
 * empty content gives "h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=".
 * @return 0; GOACCEL_ENOTFOUND; GOACCEL_ERROR. Thread-safe.
 */
GOACCEL_EXTERN(int) goaccel_h1_gomod(char **out, const char *gomod_path);
/** goaccel_h1_gomod() over len bytes in memory (data may be NULL when len is 0). @return 0,
 *  GOACCEL_EINVALID or GOACCEL_ERROR. Thread-safe. */
GOACCEL_EXTERN(int) goaccel_h1_gomod_buffer(char **out, const void *data, size_t len);

/* ---- go.sum verification --------------------------------------------------------------------- */

/** What a verification problem concerns. */
typedef enum {
	GOACCEL_GOSUM_DIR = 1, /**< the extracted module directory  <modcache>/<path>@<version> */
	GOACCEL_GOSUM_ZIP,     /**< the downloaded zip <modcache>/cache/download/<path>/@v/<version>.zip */
	GOACCEL_GOSUM_GOMOD,   /**< the downloaded go.mod  .../@v/<version>.mod */
} goaccel_gosum_object;

/** What went wrong. */
typedef enum {
	GOACCEL_GOSUM_MISMATCH = 1, /**< the content hashes differently from go.sum */
	GOACCEL_GOSUM_MISSING,      /**< go.sum lists it but the cache has neither dir nor zip
	                              (or no .mod for a /go.mod line) */
	GOACCEL_GOSUM_UNREADABLE,   /**< it exists but could not be read (detail says why) */
} goaccel_gosum_problem_kind;

/** One problem found by goaccel_gosum_verify(). All strings borrowed from the report. */
typedef struct {
	goaccel_gosum_problem_kind kind;
	goaccel_gosum_object object;
	const char *module_path;
	const char *version;
	const char *expected; /**< the h1: from go.sum */
	const char *actual;   /**< the h1: computed, or NULL (missing / unreadable) */
	const char *path;     /**< the file or directory checked (the expected location if missing) */
	const char *detail;   /**< a human-readable sentence */
} goaccel_gosum_problem;

/** The result of a verification. Opaque; free with goaccel_gosum_report_free(). */
typedef struct goaccel_gosum_report goaccel_gosum_report;

/** Options for goaccel_gosum_verify(). */
typedef struct {
	unsigned int version;
	/** 1: do not report go.mod-only entries whose .mod file is absent (a cache that only ever
	 *  built needs no .mod of modules it never loaded). Default 0: report them. */
	int ignore_missing_gomod;
	/** 1: do not report modules that are absent altogether (check only what is present). */
	int ignore_missing;
} goaccel_gosum_options;

#define GOACCEL_GOSUM_OPTIONS_VERSION 1
#define GOACCEL_GOSUM_OPTIONS_INIT {GOACCEL_GOSUM_OPTIONS_VERSION, 0, 0}

/** Initialises opts to the defaults for the given version (for FFI). */
GOACCEL_EXTERN(int) goaccel_gosum_options_init(goaccel_gosum_options *opts, unsigned int version);

/**
 * Checks a module cache (the GOMODCACHE layout: extracted directories and cache/download zips
 * and .mod files, with Go's case-encoding of paths "!x") against a go.sum, like `go mod verify`:
 * for each "path version h1:" line the extracted directory (goaccel_h1_dir()) and the zip
 * (goaccel_h1_zip()) are each checked when present, and the module is missing when neither is;
 * for each "path version/go.mod h1:" line the .mod file is checked. Every problem is reported,
 * not just the first, so a cache mount restored from elsewhere can be checked before use.
 *
 * @param out       receives the report (also on GOACCEL_EMISMATCH; caller frees). May be NULL.
 * @param modcache  the module cache root (GOMODCACHE, e.g. ~/go/pkg/mod)
 * @param gosum     path of the go.sum file
 * @param opts      NULL for defaults
 * @return 0 when everything matches; GOACCEL_EMISMATCH when at least one problem was found
 *         (the report lists them; the message names the first); GOACCEL_EINVALID (file:line)
 *         for a malformed go.sum; GOACCEL_ENOTFOUND when go.sum or modcache is absent;
 *         GOACCEL_ERROR otherwise. Thread-safe.
 */
GOACCEL_EXTERN(int) goaccel_gosum_verify(goaccel_gosum_report **out, const char *modcache, const char *gosum,
                                         const goaccel_gosum_options *opts);

/** Number of go.sum module versions checked (h1 lines, go.mod lines counted separately). */
GOACCEL_EXTERN(size_t) goaccel_gosum_report_checked(const goaccel_gosum_report *r);
/** Number of problems found (0 for a clean cache or a NULL report). */
GOACCEL_EXTERN(size_t) goaccel_gosum_report_problem_count(const goaccel_gosum_report *r);
/** The i-th problem, in go.sum order; NULL when out of range. Borrowed. */
GOACCEL_EXTERN(const goaccel_gosum_problem *) goaccel_gosum_report_problem_byindex(const goaccel_gosum_report *r, size_t i);
/** Frees a report; NULL is a no-op. */
GOACCEL_EXTERN(void) goaccel_gosum_report_free(goaccel_gosum_report *r);

/* ---- toolchain identity ---------------------------------------------------------------------- */

/** What the go command puts into its action IDs. Opaque; free with goaccel_toolchain_free(). */
typedef struct goaccel_toolchain goaccel_toolchain;

/** One name/value pair of a toolchain identity. Strings borrowed from the toolchain. */
typedef struct {
	const char *name;
	const char *value;
} goaccel_toolchain_field;

/** Options for goaccel_go_toolchain(). */
typedef struct {
	unsigned int version;
	/** The go command to run (a path, or a name looked up in envp's PATH). NULL: "go". */
	const char *go;
	/** 1: bypass the in-process cache (always run `go env -json`). Default 0. */
	int no_cache;
} goaccel_toolchain_options;

#define GOACCEL_TOOLCHAIN_OPTIONS_VERSION 1
#define GOACCEL_TOOLCHAIN_OPTIONS_INIT {GOACCEL_TOOLCHAIN_OPTIONS_VERSION, NULL, 0}

/** Initialises opts to the defaults for the given version (for FFI). */
GOACCEL_EXTERN(int) goaccel_toolchain_options_init(goaccel_toolchain_options *opts, unsigned int version);

/**
 * Identifies the Go toolchain that a build in module_dir uses, by running `go env -json` there
 * (posix_spawn with an explicit argv and envp, never a shell; in module_dir, so a `toolchain`
 * line that makes the go command switch toolchains through GOTOOLCHAIN is reflected).
 *
 * The fields, sorted by name, are those Go hashes into its action IDs: GOVERSION, GOOS, GOARCH,
 * the architecture variable of GOARCH (GOAMD64, GOARM, GOARM64, GO386, GOMIPS, GOMIPS64,
 * GOPPC64, GORISCV64, GOWASM), GOEXPERIMENT, GOFIPS140, GOFLAGS, CGO_ENABLED and, when cgo is
 * enabled, CC, CXX, FC, CGO_CFLAGS, CGO_CPPFLAGS, CGO_CXXFLAGS, CGO_FFLAGS, CGO_LDFLAGS and
 * CC_VERSION (the C compiler's version line). Absolute paths of GOROOT/GOPATH are left out on
 * purpose (see docs/gomod.md).
 *
 * Cached in the process, keyed on the go binary (path, size, mtime), the environment variables
 * the go command reads (GO*, CGO_*, CC, CXX, FC, PATH, HOME, XDG_CONFIG_HOME), the go env file
 * and the `go`/`toolchain` lines of the go.mod and go.work in effect, so a warm call does no
 * process work.
 *
 * @param out         receives the identity (caller frees with goaccel_toolchain_free())
 * @param module_dir  the directory the build runs in (NULL: the current directory)
 * @param envp        the environment the go command gets (NULL: this process's)
 * @param opts        NULL for defaults
 * @return 0; GOACCEL_ENOTFOUND with "go: not found in PATH (...)" when there is no go command;
 *         GOACCEL_EBUILD when `go env` fails (its stderr is in the message — e.g. a toolchain
 *         switch that cannot download); GOACCEL_ERROR otherwise. Thread-safe.
 */
GOACCEL_EXTERN(int) goaccel_go_toolchain(goaccel_toolchain **out, const char *module_dir, const char *const *envp,
                                         const goaccel_toolchain_options *opts);

/** Number of fields (0 for NULL). An identity is immutable: reads are thread-safe. */
GOACCEL_EXTERN(size_t) goaccel_toolchain_field_count(const goaccel_toolchain *tc);
/** The i-th field (sorted by name); NULL when out of range. Borrowed. */
GOACCEL_EXTERN(const goaccel_toolchain_field *) goaccel_toolchain_field_byindex(const goaccel_toolchain *tc, size_t i);
/** The value of a field, or NULL if the identity has no such field. Borrowed. */
GOACCEL_EXTERN(const char *) goaccel_toolchain_get(const goaccel_toolchain *tc, const char *name);
/** The absolute path of the go command that was run. Borrowed. */
GOACCEL_EXTERN(const char *) goaccel_toolchain_go_path(const goaccel_toolchain *tc);
/**
 * The digest of the fields: SHA-256 over, for each field in name order, u64be(len(name)) name
 * u64be(len(value)) value, after the 8-byte tag "gatc\0\0\0\1" (docs/gomod.md).
 * @return 0 or GOACCEL_EINVALID.
 */
GOACCEL_EXTERN(int) goaccel_toolchain_digest(goaccel_digest *out, const goaccel_toolchain *tc);
/** The fields as a JSON object {"GOARCH": "amd64", ...} (caller frees with goaccel_free()). */
GOACCEL_EXTERN(int) goaccel_toolchain_to_json(char **out, const goaccel_toolchain *tc);
/** Frees a toolchain identity; NULL is a no-op. */
GOACCEL_EXTERN(void) goaccel_toolchain_free(goaccel_toolchain *tc);
/** Empties the in-process toolchain cache (tests; after installing a new toolchain). Thread-safe. */
GOACCEL_EXTERN(void) goaccel_toolchain_cache_clear(void);

GOACCEL_END_DECL

#endif
