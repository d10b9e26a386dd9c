/* gomod layer: the build-input selection — exactly the files the go command can read when it
 * builds the packages under a root (docs/keys.md, "Build inputs").
 *
 * The walk follows `go help packages` (names starting with "." or "_" and "testdata" are
 * ignored; a directory with its own go.mod is another module) and go/build's list of source
 * extensions. //go:embed directives are found the way go/build finds them (a Go scanner over a
 * file that imports "embed": line comments only, never text inside strings or block comments)
 * and parsed like go/ast.ParseDirective + Directive.ParseArgs (quoted and unquoted patterns);
 * patterns are resolved like cmd/go's resolveEmbed (path.Match globs, directories walked without
 * "."/"_" names unless "all:", stopping at nested modules). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gomod_internal.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/strarray.h"

typedef struct {
	const char *root;      /* absolute or as given */
	goaccel_strarray *out; /* relative paths */
	int tests;
} ga_sel;

int goaccel_gomod_inputs_options_init(goaccel_gomod_inputs_options *opts, unsigned int version)
{
	GA_INIT_STRUCTURE(opts, version, goaccel_gomod_inputs_options, GOACCEL_GOMOD_INPUTS_OPTIONS_INIT);
	return 0;
}

static char *rel_join(const char *rel, const char *name)
{
	return rel[0] ? ga_path_join(rel, name) : strdup(name);
}

static char *abs_of(const ga_sel *s, const char *rel)
{
	return rel[0] ? ga_path_join(s->root, rel) : strdup(s->root);
}

static int has_gomod(const char *absdir)
{
	char *p = ga_path_join(absdir, "go.mod");
	struct stat st;
	int r = p && stat(p, &st) == 0;
	free(p);
	return r;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* go/build's source file kinds (goodOSArchFile aside: every OS/arch is selected). */
static int is_source_name(const char *name)
{
	static const char *const exts[] = {".go", ".s", ".S", ".sx", ".c", ".h", ".cc", ".cpp", ".cxx", ".hh",
		".hpp", ".hxx", ".m", ".f", ".F", ".for", ".f90", ".syso", ".swig", ".swigcxx"};
	const char *dot = strrchr(name, '.');
	size_t i;
	if (strcmp(name, "default.pgo") == 0)
		return 1;
	if (!dot)
		return 0;
	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		if (strcmp(dot, exts[i]) == 0)
			return 1;
	return 0;
}

/* ---- path.Match (Go's, for one path element) ------------------------------------------------- */

static long next_rune(const char **p, const char *end)
{
	size_t sz;
	long r = ga_utf8_decode((const unsigned char *)*p, (size_t)(end - *p), &sz);
	*p += sz;
	return r < 0 ? 0xFFFD : r;
}

/* getEsc: one (possibly escaped) class character; -1 for a bad pattern. */
static long get_esc(const char **p, const char *end)
{
	if (*p >= end || **p == '-' || **p == ']')
		return -1;
	if (**p == '\\') {
		(*p)++;
		if (*p >= end)
			return -1;
	}
	return next_rune(p, end);
}

/* matchChunk: 1 matched (*rest set), 0 not, -1 bad pattern. */
static int match_chunk(const char *chunk, const char *cend, const char *s, const char *send, const char **rest)
{
	int failed = 0;
	while (chunk < cend) {
		if (!failed && s >= send)
			failed = 1;
		switch (*chunk) {
		case '[': {
			long r = 0, lo, hi;
			int match = 0, nrange = 0, negated = 0;
			if (!failed)
				r = next_rune(&s, send);
			chunk++;
			if (chunk < cend && *chunk == '^') {
				negated = 1;
				chunk++;
			}
			for (;;) {
				if (chunk < cend && *chunk == ']' && nrange > 0) {
					chunk++;
					break;
				}
				if ((lo = get_esc(&chunk, cend)) < 0)
					return -1;
				hi = lo;
				if (chunk < cend && *chunk == '-') {
					chunk++;
					if ((hi = get_esc(&chunk, cend)) < 0)
						return -1;
				}
				if (lo <= r && r <= hi)
					match = 1;
				nrange++;
			}
			if (match == negated)
				failed = 1;
			break;
		}
		case '?':
			if (!failed) {
				if (*s == '/')
					failed = 1;
				next_rune(&s, send);
			}
			chunk++;
			break;
		case '\\':
			chunk++;
			if (chunk >= cend)
				return -1;
			/* fallthrough */
		default:
			if (!failed) {
				if (*chunk != *s)
					failed = 1;
				s++;
			}
			chunk++;
		}
	}
	if (failed)
		return 0;
	*rest = s;
	return 1;
}

static void scan_chunk(const char **pat, const char *pend, int *star, const char **chunk, const char **cend)
{
	const char *p = *pat;
	int inrange = 0;
	*star = 0;
	while (p < pend && *p == '*') {
		p++;
		*star = 1;
	}
	*chunk = p;
	for (; p < pend; p++) {
		if (*p == '\\') {
			if (p + 1 < pend)
				p++;
		} else if (*p == '[') {
			inrange = 1;
		} else if (*p == ']') {
			inrange = 0;
		} else if (*p == '*' && !inrange) {
			break;
		}
	}
	*cend = p;
	*pat = p;
}

/* path.Match(pattern, name): 1, 0, or -1 for a malformed pattern (checked in full, as Go does). */
int ga_go_match(const char *pattern, const char *name)
{
	const char *pat = pattern, *pend = pattern + strlen(pattern);
	const char *s = name, *send = name + strlen(name);
	while (pat < pend) {
		int star, ok;
		const char *chunk, *cend, *t = NULL;
		scan_chunk(&pat, pend, &star, &chunk, &cend);
		if (star && chunk == cend)
			return memchr(s, '/', (size_t)(send - s)) == NULL;
		ok = match_chunk(chunk, cend, s, send, &t);
		if (ok == 1 && (t == send || pat < pend)) {
			s = t;
			continue;
		}
		if (ok < 0)
			return -1;
		if (star) {
			const char *i;
			int advanced = 0;
			for (i = s; i < send && *i != '/'; i++) {
				ok = match_chunk(chunk, cend, i + 1, send, &t);
				if (ok == 1) {
					if (pat >= pend && t < send)
						continue;
					s = t;
					advanced = 1;
					break;
				}
				if (ok < 0)
					return -1;
			}
			if (advanced)
				continue;
		}
		/* no match: the rest of the pattern must still be well formed */
		while (pat < pend) {
			scan_chunk(&pat, pend, &star, &chunk, &cend);
			if (match_chunk(chunk, cend, "", "", &t) < 0)
				return -1;
		}
		return 0;
	}
	return s == send;
}

/* ---- //go:embed directives --------------------------------------------------------------------- */

typedef struct {
	const char *p, *end;
} ga_scan;

/* Skips a Go string, raw string or rune literal starting at p (the quote). */
static void skip_literal(ga_scan *sc)
{
	char q = *sc->p++;
	while (sc->p < sc->end) {
		char c = *sc->p++;
		if (c == q)
			return;
		if (q != '`' && c == '\\' && sc->p < sc->end)
			sc->p++;
		else if (q != '`' && c == '\n')
			return; /* unterminated: the compiler reports it */
	}
}

static int is_ident_byte(unsigned char c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

/* Next token for the import scan: returns its kind ('i' identifier, 's' string literal, or the
 * punctuation byte, 0 at the end) and its extent. Comments are skipped. */
static int next_token(ga_scan *sc, const char **tok, size_t *len)
{
	for (;;) {
		while (sc->p < sc->end && (*sc->p == ' ' || *sc->p == '\t' || *sc->p == '\n' || *sc->p == '\r'))
			sc->p++;
		if (sc->p >= sc->end)
			return 0;
		if (sc->p + 1 < sc->end && sc->p[0] == '/' && sc->p[1] == '/') {
			while (sc->p < sc->end && *sc->p != '\n')
				sc->p++;
			continue;
		}
		if (sc->p + 1 < sc->end && sc->p[0] == '/' && sc->p[1] == '*') {
			const char *e = memmem(sc->p + 2, (size_t)(sc->end - sc->p - 2), "*/", 2);
			sc->p = e ? e + 2 : sc->end;
			continue;
		}
		break;
	}
	*tok = sc->p;
	if (*sc->p == '"' || *sc->p == '`' || *sc->p == '\'') {
		skip_literal(sc);
		*len = (size_t)(sc->p - *tok);
		return **tok == '\'' ? '\'' : 's';
	}
	if (is_ident_byte((unsigned char)*sc->p)) {
		while (sc->p < sc->end && is_ident_byte((unsigned char)*sc->p))
			sc->p++;
		*len = (size_t)(sc->p - *tok);
		return 'i';
	}
	*len = 1;
	return (unsigned char)*sc->p++;
}

static int tok_is(const char *tok, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(tok, word, len) == 0;
}

/* 1 when the file's import section imports "embed" (go/build readGoInfo's hasEmbed). */
static int imports_embed(const char *data, size_t len)
{
	ga_scan sc = {data, data + len};
	const char *tok;
	size_t tl;
	int k, found = 0;
	if (next_token(&sc, &tok, &tl) != 'i' || !tok_is(tok, tl, "package") || next_token(&sc, &tok, &tl) != 'i')
		return 0;
	for (;;) {
		k = next_token(&sc, &tok, &tl);
		if (k == ';')
			continue;
		if (k != 'i' || !tok_is(tok, tl, "import"))
			return found;
		k = next_token(&sc, &tok, &tl);
		if (k == '(') {
			while ((k = next_token(&sc, &tok, &tl)) != ')' && k != 0) {
				if (k == 's' && tok_is(tok, tl, "\"embed\""))
					found = 1;
				if (k == 's' && tok_is(tok, tl, "`embed`"))
					found = 1;
			}
			if (k == 0)
				return found;
		} else {
			if (k == 'i' || k == '.' || k == '_')
				k = next_token(&sc, &tok, &tl);
			if (k == 's' && (tok_is(tok, tl, "\"embed\"") || tok_is(tok, tl, "`embed`")))
				found = 1;
		}
	}
}

/* Directive.ParseArgs for the text after "//go:embed": appends each pattern to pats. Returns 0,
 * 1 when the line is malformed (Go ignores such a line here; the compiler reports it), or
 * GOACCEL_ERROR. */
static int parse_embed_args(goaccel_strarray *pats, const char *s, size_t len)
{
	goaccel_strarray tmp = {NULL, 0};
	const char *end = s + len;
	size_t i;
	int rc = 0;
	for (;;) {
		size_t sz;
		/* skip Unicode white space */
		while (s < end && ga_unicode_is_space(ga_utf8_decode((const unsigned char *)s, (size_t)(end - s), &sz)))
			s += sz;
		if (s >= end)
			break;
		if (*s == '"' || *s == '`') {
			size_t q = ga_go_quoted_prefix(s, (size_t)(end - s));
			ga_buf b = GA_BUF_INIT;
			if (q == 0 || (s + q < end && !ga_unicode_is_space(ga_utf8_decode((const unsigned char *)s + q,
			                                                                     (size_t)(end - s - q), &sz)))) {
				rc = 1;
				goto done;
			}
			if ((rc = ga_go_unquote(&b, s, q)) != 0 || (rc = ga_strarray_add(&tmp, b.ptr ? b.ptr : "")) < 0) {
				ga_buf_dispose(&b);
				goto done;
			}
			ga_buf_dispose(&b);
			s += q;
		} else {
			const char *start = s;
			char *arg;
			while (s < end && !ga_unicode_is_space(ga_utf8_decode((const unsigned char *)s, (size_t)(end - s), &sz)))
				s += sz;
			if (!(arg = ga_memdup_str(start, (size_t)(s - start))) || (rc = ga_strarray_take(&tmp, arg)) < 0) {
				rc = rc < 0 ? rc : ga_error_oom();
				goto done;
			}
		}
	}
	for (i = 0; i < tmp.count; i++)
		if ((rc = ga_strarray_add(pats, tmp.strings[i])) < 0)
			goto done;
done:
	goaccel_strarray_dispose(&tmp);
	return rc;
}

/* The //go:embed patterns of one Go source file (go/build readGoInfo: only when the file imports
 * "embed"; a go/scanner pass that sees line comments outside literals). */
int ga_gomod_embed_patterns(goaccel_strarray *pats, const char *data, size_t len)
{
	ga_scan sc = {data, data + len};
	int rc;
	if (!memmem(data, len, "//go:embed", 10) || !imports_embed(data, len))
		return 0;
	while (sc.p < sc.end) {
		char c = *sc.p;
		if (c == '"' || c == '`' || c == '\'') {
			skip_literal(&sc);
		} else if (c == '/' && sc.p + 1 < sc.end && sc.p[1] == '*') {
			const char *e = memmem(sc.p + 2, (size_t)(sc.end - sc.p - 2), "*/", 2);
			sc.p = e ? e + 2 : sc.end;
		} else if (c == '/' && sc.p + 1 < sc.end && sc.p[1] == '/') {
			const char *start = sc.p, *eol = memchr(sc.p, '\n', (size_t)(sc.end - sc.p)), *name, *args;
			size_t sz;
			if (!eol)
				eol = sc.end;
			sc.p = eol;
			/* the comment text (go/scanner drops a trailing \r) */
			if (eol > start && eol[-1] == '\r')
				eol--;
			if ((size_t)(eol - start) < 10 || memcmp(start, "//go:embed", 10) != 0)
				continue;
			/* ast.ParseDirective: the name runs to the first space and must be "embed" */
			name = start + 5;
			args = start + 10;
			if (args < eol && !ga_unicode_is_space(ga_utf8_decode((const unsigned char *)args, (size_t)(eol - args), &sz)))
				continue;
			(void)name;
			while (eol > args) { /* TrimRightFunc(unicode.IsSpace) on ASCII blanks */
				char t = eol[-1];
				if (t != ' ' && t != '\t' && t != '\v' && t != '\f')
					break;
				eol--;
			}
			if ((rc = parse_embed_args(pats, args, (size_t)(eol - args))) < 0)
				return rc;
		} else {
			sc.p++;
		}
	}
	return 0;
}

/* ---- resolving patterns (cmd/go resolveEmbed) ------------------------------------------------- */

static int add_rel(ga_sel *s, const char *rel)
{
	return ga_strarray_add(s->out, rel);
}

/* The walk of an embedded directory: regular files; names starting with "." or "_" only with
 * all:; bad names, nested modules and symlinks skipped. */
static int embed_walk_dir(ga_sel *s, const char *rel, int all)
{
	char *abs = abs_of(s, rel);
	DIR *d = NULL;
	struct dirent *de;
	int rc = 0;
	if (!abs)
		return GOACCEL_ERROR;
	if (!(d = opendir(abs))) {
		free(abs);
		return 0; /* unreadable: Go fails the build; nothing to select */
	}
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		char *crel, *cabs;
		struct stat st;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		if (ga_gomod_bad_file_name(n) || ((n[0] == '.' || n[0] == '_') && !all))
			continue;
		if (!(crel = ga_path_join(rel, n)) || !(cabs = ga_path_join(abs, n))) {
			free(crel);
			rc = ga_error_oom();
			break;
		}
		if (lstat(cabs, &st) == 0) {
			if (S_ISDIR(st.st_mode)) {
				if (!has_gomod(cabs))
					rc = embed_walk_dir(s, crel, all);
			} else if (S_ISREG(st.st_mode)) {
				rc = add_rel(s, crel);
			}
		}
		free(crel);
		free(cabs);
		if (rc < 0)
			break;
	}
	closedir(d);
	free(abs);
	return rc;
}

/* A glob match at pkgrel/mrel: checks Go's rules along the path, then selects it. */
static int embed_select_match(ga_sel *s, const char *pkgrel, const char *mrel, int all)
{
	char *rel = rel_join(pkgrel, mrel), *abs = NULL, *path = NULL;
	struct stat st;
	int rc = 0;
	if (!rel || !(abs = abs_of(s, rel)) || !(path = strdup(mrel))) {
		rc = ga_error_oom();
		goto done;
	}
	/* every element from the match up to the package directory: a valid name, a real directory
	 * above the match, not the root of another module */
	for (;;) {
		char *slash = strrchr(path, '/');
		const char *elem = slash ? slash + 1 : path;
		char *eabs = NULL, *erel = rel_join(pkgrel, path);
		struct stat est;
		int bad;
		if (!erel || !(eabs = abs_of(s, erel))) {
			free(erel);
			rc = ga_error_oom();
			goto done;
		}
		bad = ga_gomod_bad_file_name(elem) || lstat(eabs, &est) < 0 ||
		      (strcmp(path, mrel) != 0 && !S_ISDIR(est.st_mode)) || (S_ISDIR(est.st_mode) && has_gomod(eabs));
		free(erel);
		free(eabs);
		if (bad)
			goto done; /* Go refuses this match; the build fails there */
		if (!slash)
			break;
		*slash = '\0';
	}
	if (lstat(abs, &st) < 0)
		goto done;
	if (S_ISDIR(st.st_mode))
		rc = embed_walk_dir(s, rel, all);
	else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
		rc = add_rel(s, rel); /* a symlink only embeds with GODEBUG=embedfollowsymlinks=1 */
done:
	free(rel);
	free(abs);
	free(path);
	return rc;
}

static int has_meta(const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (s[i] == '*' || s[i] == '?' || s[i] == '[' || s[i] == '\\')
			return 1;
	return 0;
}

/* filepath.Glob, one element at a time below pkgrel: mrel is what matched so far. */
static int embed_glob(ga_sel *s, const char *pkgrel, const char *mrel, const char *pat, int all)
{
	size_t n = strcspn(pat, "/");
	const char *rest = pat[n] ? pat + n + 1 : NULL;
	char *elem = ga_memdup_str(pat, n), *dirrel = NULL, *dirabs = NULL;
	DIR *d = NULL;
	struct dirent *de;
	int rc = 0;
	if (!elem)
		return ga_error_oom();
	if (!(dirrel = mrel[0] ? rel_join(pkgrel, mrel) : strdup(pkgrel)) || !(dirabs = abs_of(s, dirrel))) {
		rc = ga_error_oom();
		goto done;
	}
	if (!has_meta(elem, n)) {
		char *m = mrel[0] ? ga_path_join(mrel, elem) : strdup(elem), *mabs = m ? ga_path_join(dirabs, elem) : NULL;
		struct stat st;
		if (!m || !mabs)
			rc = ga_error_oom();
		else if (lstat(mabs, &st) == 0)
			rc = rest ? (S_ISDIR(st.st_mode) ? embed_glob(s, pkgrel, m, rest, all) : 0)
			          : embed_select_match(s, pkgrel, m, all);
		free(m);
		free(mabs);
		goto done;
	}
	if (!(d = opendir(dirabs)))
		goto done;
	while ((de = readdir(d)) != NULL) {
		char *m;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (ga_go_match(elem, de->d_name) != 1)
			continue;
		if (!(m = mrel[0] ? ga_path_join(mrel, de->d_name) : strdup(de->d_name))) {
			rc = ga_error_oom();
			break;
		}
		if (rest) {
			char *mabs = ga_path_join(dirabs, de->d_name);
			struct stat st;
			if (mabs && stat(mabs, &st) == 0 && S_ISDIR(st.st_mode))
				rc = embed_glob(s, pkgrel, m, rest, all);
			free(mabs);
		} else {
			rc = embed_select_match(s, pkgrel, m, all);
		}
		free(m);
		if (rc < 0)
			break;
	}
done:
	if (d)
		closedir(d);
	free(elem);
	free(dirrel);
	free(dirabs);
	return rc;
}

/* fs.ValidPath(p) && p != "." */
static int valid_embed_pattern(const char *p)
{
	const char *e;
	if (!*p || strcmp(p, ".") == 0)
		return 0;
	for (;;) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		e = p + n;
		if (!*e)
			return 1;
		p = e + 1;
	}
}

static int resolve_embed(ga_sel *s, const char *pkgrel, const char *pattern)
{
	int all = strncmp(pattern, "all:", 4) == 0;
	const char *glob = all ? pattern + 4 : pattern;
	if (ga_go_match(glob, "") < 0 || !valid_embed_pattern(glob))
		return 0; /* "invalid pattern syntax": the build fails in Go */
	return embed_glob(s, pkgrel, "", glob, all);
}

static int scan_go_file(ga_sel *s, const char *dirrel, const char *abs)
{
	ga_buf data = GA_BUF_INIT;
	goaccel_strarray pats = {NULL, 0};
	size_t i;
	int rc;
	if ((rc = ga_read_file(&data, abs, GA_GOMOD_MAX_FILE)) < 0) {
		/* an unreadable or dangling file is still selected; Go reports it */
		goaccel_error_clear();
		rc = 0;
		goto done;
	}
	if ((rc = ga_gomod_embed_patterns(&pats, data.ptr ? data.ptr : "", data.size)) < 0)
		goto done;
	for (i = 0; i < pats.count; i++)
		if ((rc = resolve_embed(s, dirrel, pats.strings[i])) < 0)
			goto done;
done:
	ga_buf_dispose(&data);
	goaccel_strarray_dispose(&pats);
	return rc;
}

/* ---- the package walk ------------------------------------------------------------------------- */

/* Everything below a testdata directory (tests only: a test may read any of it). */
static int add_tree(ga_sel *s, const char *rel)
{
	char *abs = abs_of(s, rel);
	DIR *d;
	struct dirent *de;
	int rc = 0;
	if (!abs)
		return ga_error_oom();
	if (!(d = opendir(abs))) {
		free(abs);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		char *crel, *cabs;
		struct stat st;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		crel = ga_path_join(rel, de->d_name);
		cabs = ga_path_join(abs, de->d_name);
		if (!crel || !cabs)
			rc = ga_error_oom();
		else if (lstat(cabs, &st) == 0)
			rc = S_ISDIR(st.st_mode) ? add_tree(s, crel) : (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) ? add_rel(s, crel) : 0;
		free(crel);
		free(cabs);
		if (rc < 0)
			break;
	}
	closedir(d);
	free(abs);
	return rc;
}

static int walk_dir(ga_sel *s, const char *rel, int in_vendor)
{
	char *abs = abs_of(s, rel);
	DIR *d = NULL;
	struct dirent *de;
	int rc = 0;
	if (!abs)
		return ga_error_oom();
	if (!(d = opendir(abs))) {
		rc = ga_error_os(0, errno, "%s: cannot read directory", abs);
		free(abs);
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		char *crel = NULL, *cabs = NULL;
		struct stat st;
		if (n[0] == '.' || n[0] == '_')
			continue; /* "." and "_" names are ignored by the go tool (and ".", "..") */
		if (!(crel = rel_join(rel, n)) || !(cabs = ga_path_join(abs, n))) {
			free(crel);
			rc = ga_error_oom();
			break;
		}
		if (lstat(cabs, &st) < 0) {
			/* vanished while we looked: not an input */
		} else if (S_ISDIR(st.st_mode)) {
			if (strcmp(n, "testdata") == 0) {
				if (s->tests)
					rc = add_tree(s, crel);
			} else if (!rel[0] && strcmp(n, "vendor") == 0) {
				rc = walk_dir(s, crel, 1);
			} else if (in_vendor || !has_gomod(cabs)) {
				rc = walk_dir(s, crel, in_vendor);
			}
		} else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
			int test = ends_with(n, "_test.go");
			if (test && !s->tests) {
				/* not read by go build */
			} else if (is_source_name(n)) {
				rc = add_rel(s, crel);
				if (rc == 0 && ends_with(n, ".go"))
					rc = scan_go_file(s, rel, cabs);
			} else if (in_vendor && strcmp(rel, "vendor") == 0 && strcmp(n, "modules.txt") == 0) {
				rc = add_rel(s, crel);
			}
		}
		free(crel);
		free(cabs);
		if (rc < 0)
			break;
	}
	closedir(d);
	free(abs);
	return rc;
}

static int add_if_file(ga_sel *s, const char *name)
{
	char *abs = ga_path_join(s->root, name);
	struct stat st;
	int rc = 0;
	if (!abs)
		return ga_error_oom();
	if (lstat(abs, &st) == 0 && (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)))
		rc = add_rel(s, name);
	free(abs);
	return rc;
}

int goaccel_gomod_build_inputs(goaccel_strarray *out, const char *root, const goaccel_gomod_inputs_options *opts)
{
	ga_sel s;
	struct stat st;
	int rc;
	GA_ASSERT_ARG(out && root);
	GA_CHECK_VERSION(opts, GOACCEL_GOMOD_INPUTS_OPTIONS_VERSION, "goaccel_gomod_inputs_options");
	memset(out, 0, sizeof(*out));
	if (stat(root, &st) < 0)
		return ga_error_os(0, errno, "%s", root);
	if (!S_ISDIR(st.st_mode))
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_GOMOD, "%s: not a directory", root);
	s.root = root;
	s.out = out;
	s.tests = opts ? opts->tests : 0;
	if ((rc = add_if_file(&s, "go.work")) < 0 || (rc = add_if_file(&s, "go.work.sum")) < 0)
		goto done;
	if (!has_gomod(root)) {
		/* a workspace directory: its other files belong to no module; only a workspace vendor/ */
		char *vendor = ga_path_join(root, "vendor");
		struct stat vst;
		if (!vendor) {
			rc = ga_error_oom();
			goto done;
		}
		if (lstat(vendor, &vst) == 0 && S_ISDIR(vst.st_mode))
			rc = walk_dir(&s, "vendor", 1);
		free(vendor);
		goto done;
	}
	if ((rc = add_if_file(&s, "go.mod")) < 0 || (rc = add_if_file(&s, "go.sum")) < 0)
		goto done;
	rc = walk_dir(&s, "", 0);
done:
	if (rc < 0)
		goaccel_strarray_dispose(out);
	else
		ga_strarray_sort_unique(out);
	return rc;
}
