/* Internal: helpers shared by the files of the gomod layer (lib/gomod_*.c). */
#ifndef GOACCEL_GOMOD_INTERNAL_H
#define GOACCEL_GOMOD_INTERNAL_H

#include <stddef.h>

#include "goaccel/gomod.h"
#include "util/buf.h"

/* Largest go.mod / go.work / go.sum / Go source file the layer reads. */
#define GA_GOMOD_MAX_FILE (16u * 1024 * 1024)

/* Go's strconv.Unquote for "..." and `...` literals: appends the value to out.
 * Returns 0, 1 for a syntax error (nothing reported), or GOACCEL_ERROR (memory). */
int ga_go_unquote(ga_buf *out, const char *s, size_t len);

/* Length of the longest prefix of s that is a quoted Go string (strconv.QuotedPrefix),
 * or 0 when s does not start with one. */
size_t ga_go_quoted_prefix(const char *s, size_t len);

/* golang.org/x/mod/module.CanonicalVersion: "v1.2" -> "v1.2.0", build metadata dropped except
 * "+incompatible". Appends to out; returns 0, 1 when v is not a semantic version, or
 * GOACCEL_ERROR. */
int ga_semver_canonical(ga_buf *out, const char *v);

/* golang.org/x/mod/module.EscapePath / EscapeVersion: upper-case letters become "!" + lower.
 * Appends to out; returns 0, 1 for a string that cannot be escaped ("!" inside), or
 * GOACCEL_ERROR. */
int ga_gomod_escape(ga_buf *out, const char *s);

/* 1 when ns is a directory path in a replace directive (modfile.IsDirectoryPath). */
int ga_gomod_is_dir_path(const char *ns);

/* Decodes one UTF-8 sequence at s (len > 0): the code point, or -1 for an invalid sequence;
 * *size receives the bytes consumed (1 for invalid). */
long ga_utf8_decode(const unsigned char *s, size_t len, size_t *size);

/* unicode.IsSpace. */
int ga_unicode_is_space(long r);

/* module.CheckFilePath's rule for one path element: 1 when name is not an acceptable file name in
 * a module zip (Go's isBadEmbedName also rejects .git, .hg, .svn, .bzr). */
int ga_gomod_bad_file_name(const char *name);

/* "dir" made absolute and lexically cleaned (no realpath). Caller frees. */
char *ga_gomod_abs_clean(const char *base, const char *path);

/* The go env file (`go env -w`): $GOENV, else $XDG_CONFIG_HOME/go/env, else
 * $HOME/.config/go/env. NULL when there is none ("off" or no home). Caller frees. */
char *ga_gomod_goenv_file(const char *const *envp);

/* A variable as the go command sees it: envp first, then the go env file. *out is NULL when
 * unset; caller frees. 0 or GOACCEL_ERROR. */
int ga_gomod_getenv(char **out, const char *const *envp, const char *name);

/* Go's path.Match for one name: 1 match, 0 no match, -1 malformed pattern (checked in full). */
int ga_go_match(const char *pattern, const char *name);

/* The //go:embed patterns of one Go source file, as go/build finds them (only when the file
 * imports "embed"), appended to pats. 0 or GOACCEL_ERROR. */
int ga_gomod_embed_patterns(goaccel_strarray *pats, const char *data, size_t len);

/* A NUL-terminated copy of len bytes at s (which need not be terminated). NULL on OOM. */
char *ga_memdup_str(const char *s, size_t len);

#endif
