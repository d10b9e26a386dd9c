/* gomod layer: the go.mod and go.work parsers.
 *
 * A port of golang.org/x/mod/modfile's grammar (read.go) and its strict directive checks
 * (rule.go, work.go), so a file the go command accepts parses here and a file it rejects is
 * rejected with the same "file:line: what" shape. The lexer turns the whole file into tokens
 * first; the parser groups them into lines (a top-level "verb args" line, or the lines of a
 * "verb ( ... )" block) and each line is then checked and recorded by its directive. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gomod_internal.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/strarray.h"

/* ---- a small growable array ------------------------------------------------------------------ */

typedef struct {
	void *items;
	size_t count, cap;
} ga_vec;

static void *vec_push(ga_vec *v, size_t size)
{
	void *slot;
	if (v->count == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		void *p = realloc(v->items, cap * size);
		if (!p) {
			ga_error_oom();
			return NULL;
		}
		v->items = p;
		v->cap = cap;
	}
	slot = (char *)v->items + v->count++ * size;
	memset(slot, 0, size);
	return slot;
}

/* ---- the parsed files ------------------------------------------------------------------------- */

struct goaccel_gomod {
	const char *module, *go, *toolchain;
	ga_vec require, exclude, replace, retract, godebug;
	goaccel_strarray strings; /* owns every string the structs point to */
};

struct goaccel_gowork {
	const char *go, *toolchain;
	ga_vec use; /* const char * */
	ga_vec replace, godebug;
	goaccel_strarray strings;
};

/* ---- lexer (modfile/read.go readToken) ---------------------------------------------------------- */

enum {
	T_EOF = 256,
	T_NL,
	T_COMMENT,    /* a comment alone on its line (the newline included) */
	T_EOLCOMMENT, /* a comment after tokens: ends the line */
	T_STRING,
	T_IDENT,
};

typedef struct {
	int kind; /* a T_* value or one of ( ) [ ] { } , */
	const char *s;
	size_t len;
	unsigned line, col;
} ga_tok;

typedef struct {
	const char *file;
	const char *data;
	size_t len, pos;
	unsigned line, col;
	ga_vec toks;
	size_t next; /* parser cursor */
} ga_lex;

static int lex_error(const ga_lex *lx, unsigned line, unsigned col, const char *msg)
{
	return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_GOMOD, "%s:%u:%u: %s", lx->file, line, col, msg);
}

static void lex_advance(ga_lex *lx, size_t n)
{
	for (; n > 0 && lx->pos < lx->len; n--, lx->pos++) {
		if (lx->data[lx->pos] == '\n') {
			lx->line++;
			lx->col = 1;
		} else {
			lx->col++;
		}
	}
}

static int is_ident_at(const ga_lex *lx, size_t pos)
{
	unsigned char c = (unsigned char)lx->data[pos];
	size_t sz;
	long r;
	if (c < 0x80)
		return c > ' ' && c < 0x7f && !strchr("()[]{},", c);
	r = ga_utf8_decode((const unsigned char *)lx->data + pos, lx->len - pos, &sz);
	/* invalid UTF-8 decodes to U+FFFD in Go, which is printable */
	return r < 0 || (r > 0x9f && !ga_unicode_is_space(r));
}

static int lex_push(ga_lex *lx, int kind, size_t start, unsigned line, unsigned col)
{
	ga_tok *t = vec_push(&lx->toks, sizeof(ga_tok));
	if (!t)
		return GOACCEL_ERROR;
	t->kind = kind;
	t->s = lx->data + start;
	t->len = lx->pos - start;
	t->line = line;
	t->col = col;
	return 0;
}

static int lex_comment(ga_lex *lx)
{
	size_t start = lx->pos, i = start;
	unsigned line = lx->line, col = lx->col;
	int alone = 1;
	/* alone on its line when only blanks precede it since the last newline */
	while (i > 0 && lx->data[i - 1] != '\n') {
		char c = lx->data[--i];
		if (c != ' ' && c != '\t' && c != '\r' && c != '\v' && c != '\f')
			alone = 0;
	}
	while (lx->pos < lx->len && lx->data[lx->pos] != '\n')
		lex_advance(lx, 1);
	if (lx->pos < lx->len)
		lex_advance(lx, 1); /* the comment takes its newline */
	return lex_push(lx, alone ? T_COMMENT : T_EOLCOMMENT, start, line, col);
}

static int lex_string(ga_lex *lx)
{
	size_t start = lx->pos;
	unsigned line = lx->line, col = lx->col;
	char quote = lx->data[lx->pos];
	lex_advance(lx, 1);
	for (;;) {
		char c;
		if (lx->pos >= lx->len)
			return lex_error(lx, line, col, "unexpected EOF in string");
		if (lx->data[lx->pos] == '\n')
			return lex_error(lx, lx->line, lx->col, "unexpected newline in string");
		c = lx->data[lx->pos];
		lex_advance(lx, 1);
		if (c == quote)
			break;
		if (c == '\\' && quote != '`') {
			if (lx->pos >= lx->len)
				return lex_error(lx, line, col, "unexpected EOF in string");
			if (lx->data[lx->pos] == '\n')
				return lex_error(lx, lx->line, lx->col, "unexpected newline in string");
			lex_advance(lx, 1);
		}
	}
	return lex_push(lx, T_STRING, start, line, col);
}

static int lex_all(ga_lex *lx)
{
	for (;;) {
		size_t start;
		unsigned line, col;
		char c;
		while (lx->pos < lx->len) {
			c = lx->data[lx->pos];
			if (c == ' ' || c == '\t' || c == '\r') {
				lex_advance(lx, 1);
			} else if (c == '/' && lx->pos + 1 < lx->len && lx->data[lx->pos + 1] == '/') {
				int rc = lex_comment(lx);
				if (rc < 0)
					return rc;
			} else if (c == '/' && lx->pos + 1 < lx->len && lx->data[lx->pos + 1] == '*') {
				return lex_error(lx, lx->line, lx->col, "mod files must use // comments (not /* */ comments)");
			} else {
				break;
			}
		}
		start = lx->pos;
		line = lx->line;
		col = lx->col;
		if (lx->pos >= lx->len)
			return lex_push(lx, T_EOF, start, line, col);
		c = lx->data[lx->pos];
		if (c == '\n' || (c && strchr("()[]{},", c))) {
			lex_advance(lx, 1);
			if (lex_push(lx, c == '\n' ? T_NL : (unsigned char)c, start, line, col) < 0)
				return GOACCEL_ERROR;
			continue;
		}
		if (c == '"' || c == '`') {
			int rc = lex_string(lx);
			if (rc < 0)
				return rc;
			continue;
		}
		if (!is_ident_at(lx, lx->pos)) {
			char msg[64];
			snprintf(msg, sizeof(msg), "unexpected input character 0x%02x", (unsigned char)c);
			return lex_error(lx, line, col, msg);
		}
		while (lx->pos < lx->len && is_ident_at(lx, lx->pos)) {
			size_t sz = 1;
			if (lx->data[lx->pos] == '/' && lx->pos + 1 < lx->len && lx->data[lx->pos + 1] == '/')
				break;
			if (lx->data[lx->pos] == '/' && lx->pos + 1 < lx->len && lx->data[lx->pos + 1] == '*')
				return lex_error(lx, lx->line, lx->col, "mod files must use // comments (not /* */ comments)");
			if ((unsigned char)lx->data[lx->pos] >= 0x80)
				ga_utf8_decode((const unsigned char *)lx->data + lx->pos, lx->len - lx->pos, &sz);
			lex_advance(lx, sz);
		}
		if (lex_push(lx, T_IDENT, start, line, col) < 0)
			return GOACCEL_ERROR;
	}
}

/* ---- parser (modfile/read.go parseFile, parseStmt, parseLineBlock) --------------------------- */

/* A directive line: verb and arguments (raw token texts) plus its comments. */
typedef struct {
	const char *verb;
	size_t verb_len;
	ga_tok **args;
	size_t nargs;
	unsigned line;
	int in_block;
	ga_buf comment; /* the line's comments (before + suffix), "//" stripped, joined by \n */
	ga_buf block_comment;
} ga_line;

typedef int (*ga_line_fn)(void *file, ga_line *line, const char *fname);

static ga_tok *peek(ga_lex *lx)
{
	return &((ga_tok *)lx->toks.items)[lx->next];
}

static ga_tok *lex_next(ga_lex *lx)
{
	ga_tok *t = peek(lx);
	if (t->kind != T_EOF)
		lx->next++;
	return t;
}

static int is_eol(int kind)
{
	return kind == T_EOF || kind == T_EOLCOMMENT || kind == T_NL;
}

/* Appends the text of a comment token ("// x\n") without "//" and blanks to buf. */
static int add_comment(ga_buf *buf, const ga_tok *t)
{
	const char *s = t->s + 2, *e = t->s + t->len;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (buf->size && ga_buf_putc(buf, '\n') < 0)
		return GOACCEL_ERROR;
	return ga_buf_put(buf, s, (size_t)(e - s));
}

static void line_reset(ga_line *l)
{
	free(l->args);
	ga_buf_dispose(&l->comment);
	l->args = NULL;
	l->nargs = 0;
}

static int line_add_arg(ga_line *l, ga_tok *t)
{
	ga_tok **p = realloc(l->args, (l->nargs + 1) * sizeof(*p));
	if (!p)
		return ga_error_oom();
	l->args = p;
	l->args[l->nargs++] = t;
	return 0;
}

/* Reads the tokens of one line up to its end; a suffix comment joins the line's comments. */
static int read_line_tokens(ga_lex *lx, ga_line *l)
{
	for (;;) {
		ga_tok *t = lex_next(lx);
		if (is_eol(t->kind))
			return t->kind == T_EOLCOMMENT ? add_comment(&l->comment, t) : 0;
		if (line_add_arg(l, t) < 0)
			return GOACCEL_ERROR;
	}
}

static int parse_block(ga_lex *lx, ga_tok *verb, ga_buf *before, ga_line_fn fn, void *file)
{
	ga_buf pending = GA_BUF_INIT;
	ga_line l;
	int rc = 0;
	memset(&l, 0, sizeof(l));
	l.block_comment = *before; /* borrowed for the lines of the block */
	for (;;) {
		ga_tok *t = peek(lx);
		if (t->kind == T_EOLCOMMENT || t->kind == T_NL) {
			lex_next(lx);
		} else if (t->kind == T_COMMENT) {
			if ((rc = add_comment(&pending, lex_next(lx))) < 0)
				goto done;
		} else if (t->kind == T_EOF) {
			char msg[128];
			snprintf(msg, sizeof(msg), "syntax error (unterminated block started at %s:%u:%u)",
			         lx->file, verb->line, verb->col);
			rc = lex_error(lx, t->line, t->col, msg);
			goto done;
		} else if (t->kind == ')') {
			lex_next(lx);
			if (!is_eol(peek(lx)->kind)) {
				rc = lex_error(lx, t->line, t->col, "syntax error (expected newline after closing paren)");
				goto done;
			}
			lex_next(lx);
			goto done;
		} else {
			l.verb = verb->s;
			l.verb_len = verb->len;
			l.line = t->line;
			l.in_block = 1;
			l.comment = pending;
			memset(&pending, 0, sizeof(pending));
			if ((rc = read_line_tokens(lx, &l)) < 0 || (rc = fn(file, &l, lx->file)) < 0)
				goto done;
			line_reset(&l);
		}
	}
done:
	line_reset(&l);
	ga_buf_dispose(&pending);
	return rc;
}

static int parse_stmt(ga_lex *lx, ga_buf *before, ga_line_fn fn, void *file)
{
	ga_tok *first = lex_next(lx);
	ga_line l;
	int rc = 0;
	memset(&l, 0, sizeof(l));
	l.verb = first->s;
	l.verb_len = first->len;
	l.line = first->line;
	l.comment = *before;
	memset(before, 0, sizeof(*before));
	for (;;) {
		ga_tok *t = lex_next(lx);
		if (is_eol(t->kind)) {
			if (t->kind == T_EOLCOMMENT && (rc = add_comment(&l.comment, t)) < 0)
				goto done;
			rc = fn(file, &l, lx->file);
			goto done;
		}
		if (t->kind == '(') {
			int next = peek(lx)->kind;
			if (is_eol(next)) {
				if (l.nargs > 0) {
					rc = ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_GOMOD, "%s:%u: unknown block type: %.*s ...",
					              lx->file, first->line, (int)first->len, first->s);
					goto done;
				}
				rc = parse_block(lx, first, &l.comment, fn, file);
				goto done;
			}
			if (next == ')') {
				ga_tok *rp = lex_next(lx);
				if (is_eol(peek(lx)->kind)) { /* an empty block */
					lex_next(lx);
					goto done;
				}
				if ((rc = line_add_arg(&l, t)) < 0 || (rc = line_add_arg(&l, rp)) < 0)
					goto done;
				continue;
			}
		}
		if ((rc = line_add_arg(&l, t)) < 0)
			goto done;
	}
done:
	line_reset(&l);
	return rc;
}

static int parse_file(const char *fname, const char *data, size_t len, ga_line_fn fn, void *file)
{
	ga_lex lx;
	ga_buf pending = GA_BUF_INIT;
	int rc;
	memset(&lx, 0, sizeof(lx));
	lx.file = fname;
	lx.data = data;
	lx.len = len;
	lx.line = lx.col = 1;
	if ((rc = lex_all(&lx)) < 0)
		goto done;
	for (;;) {
		ga_tok *t = peek(&lx);
		if (t->kind == T_EOF)
			break;
		if (t->kind == T_NL) {
			lex_next(&lx);
			ga_buf_clear(&pending); /* a blank line ends a comment block */
		} else if (t->kind == T_COMMENT) {
			if ((rc = add_comment(&pending, lex_next(&lx))) < 0)
				goto done;
		} else if ((rc = parse_stmt(&lx, &pending, fn, file)) < 0) {
			goto done;
		}
	}
done:
	ga_buf_dispose(&pending);
	free(lx.toks.items);
	return rc;
}

/* ---- directive checks (modfile/rule.go) ----------------------------------------------------- */

static int line_error(const ga_line *l, const char *fname, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Reports "file:line: what" as GOACCEL_EINVALID (the go command's format). */
static int line_error(const ga_line *l, const char *fname, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_GOMOD, "%s:%u: %s", fname, l->line, msg);
}

static int verb_is(const ga_line *l, const char *verb)
{
	return strlen(verb) == l->verb_len && memcmp(l->verb, verb, l->verb_len) == 0;
}

static int arg_is(const ga_tok *t, const char *s)
{
	return strlen(s) == t->len && memcmp(t->s, s, t->len) == 0;
}

/* Copies a token's text into the file's string table. */
static const char *keep(goaccel_strarray *strs, const char *s, size_t len)
{
	char *p = ga_memdup_str(s, len);
	if (ga_strarray_take(strs, p) < 0)
		return NULL;
	return p;
}

/* modfile parseString: a "quoted" token is unquoted; other quotes are not allowed. */
static int parse_string(const char **out, goaccel_strarray *strs, const ga_tok *t, const ga_line *l, const char *fname)
{
	ga_buf b = GA_BUF_INIT;
	int rc;
	if (t->len > 0 && t->s[0] == '"') {
		if ((rc = ga_go_unquote(&b, t->s, t->len)) != 0) {
			ga_buf_dispose(&b);
			return rc < 0 ? rc : line_error(l, fname, "invalid quoted string: invalid syntax");
		}
		if (memchr(b.ptr ? b.ptr : "", '\0', b.size)) {
			ga_buf_dispose(&b);
			return line_error(l, fname, "invalid quoted string: NUL byte");
		}
		*out = keep(strs, b.ptr ? b.ptr : "", b.size);
		ga_buf_dispose(&b);
		return *out ? 0 : GOACCEL_ERROR;
	}
	if (memchr(t->s, '"', t->len) || memchr(t->s, '\'', t->len) || memchr(t->s, '`', t->len))
		return line_error(l, fname, "invalid quoted string: unquoted string cannot contain quote");
	*out = keep(strs, t->s, t->len);
	return *out ? 0 : GOACCEL_ERROR;
}

/* modfile parseVersion without a fixer: the version must be a semantic version; it is stored in
 * canonical form, as Go does. */
static int parse_version(const char **out, goaccel_strarray *strs, const ga_tok *t, const char *verb,
                         const char *path, const ga_line *l, const char *fname)
{
	const char *raw;
	ga_buf canon = GA_BUF_INIT;
	int rc;
	if ((rc = parse_string(&raw, strs, t, l, fname)) < 0)
		return rc;
	if ((rc = ga_semver_canonical(&canon, raw)) != 0) {
		char what[256];
		ga_buf_dispose(&canon);
		if (rc < 0)
			return rc;
		snprintf(what, sizeof(what), "%s %s", verb, path);
		return line_error(l, fname, "%s: version \"%s\" invalid: must be of the form v1.2.3", what, raw);
	}
	*out = keep(strs, canon.ptr, canon.size);
	ga_buf_dispose(&canon);
	return *out ? 0 : GOACCEL_ERROR;
}

/* module.SplitPathVersion's pathMajor ("", "/v2", ".v1"); returns 0 when the path is invalid. */
static int path_major(const char *path, const char **major)
{
	size_t n = strlen(path), i = n;
	int dot = 0;
	if (strncmp(path, "gopkg.in/", 9) == 0) {
		size_t j = n;
		if (n >= 9 && strcmp(path + n - 9, "-unstable") == 0)
			j -= 9;
		i = j;
		while (i > 0 && path[i - 1] >= '0' && path[i - 1] <= '9')
			i--;
		if (i <= 1 || path[i - 1] != 'v' || path[i - 2] != '.')
			return 0;
		*major = path + i - 2;
		if (j - (i - 2) <= 2 || (path[i] == '0' && j - i != 1))
			return 0;
		return 1;
	}
	while (i > 0 && ((path[i - 1] >= '0' && path[i - 1] <= '9') || path[i - 1] == '.')) {
		dot |= path[i - 1] == '.';
		i--;
	}
	if (i <= 1 || i == n || path[i - 1] != 'v' || path[i - 2] != '/') {
		*major = "";
		return 1;
	}
	*major = path + i - 2;
	if (dot || n - (i - 2) <= 2 || path[i] == '0' || strcmp(*major, "/v1") == 0)
		return 0;
	return 1;
}

/* module.CheckPathMajor for a canonical version. */
static int check_path_major(const char *v, const char *major)
{
	char m[32];
	size_t ml = strcspn(v, ".-+"), pl;
	if (ml >= sizeof(m))
		return 0;
	memcpy(m, v, ml);
	m[ml] = '\0';
	pl = strlen(major);
	if (major[0] == '.' && pl > 9 && strcmp(major + pl - 9, "-unstable") == 0)
		pl -= 9;
	if (strncmp(v, "v0.0.0-", 7) == 0 && pl == 3 && strncmp(major, ".v1", 3) == 0)
		return 1;
	if (pl == 0)
		return strcmp(m, "v0") == 0 || strcmp(m, "v1") == 0 || strstr(v, "+incompatible") != NULL;
	return pl - 1 == ml && strncmp(major + 1, m, ml) == 0;
}

static int check_module_version(const char *path, const char *v, const char *verb, const ga_line *l, const char *fname)
{
	const char *major;
	char what[256];
	snprintf(what, sizeof(what), "%s %s", verb, path);
	if (!path_major(path, &major))
		return line_error(l, fname, "%s: malformed module path \"%s\"", what, path);
	if (v && !check_path_major(v, major))
		return line_error(l, fname, "%s: version \"%s\" invalid: should match the module path's major version", what, v);
	return 0;
}

static int parse_replace(goaccel_gomod_replace *r, goaccel_strarray *strs, ga_line *l, const char *fname)
{
	size_t arrow = 2, n = l->nargs;
	int rc;
	const char *verb = "replace";
	if (n >= 2 && arg_is(l->args[1], "=>"))
		arrow = 1;
	if (n < arrow + 2 || n > arrow + 3 || !arg_is(l->args[arrow], "=>"))
		return line_error(l, fname, "usage: replace module/path [v1.2.3] => other/module v1.4\n"
		                  "\t or replace module/path [v1.2.3] => ../local/directory");
	r->line = l->line;
	if ((rc = parse_string(&r->old_path, strs, l->args[0], l, fname)) < 0 ||
	    (rc = check_module_version(r->old_path, NULL, verb, l, fname)) < 0)
		return rc;
	if (arrow == 2) {
		if ((rc = parse_version(&r->old_version, strs, l->args[1], verb, r->old_path, l, fname)) < 0 ||
		    (rc = check_module_version(r->old_path, r->old_version, verb, l, fname)) < 0)
			return rc;
	}
	if ((rc = parse_string(&r->new_path, strs, l->args[arrow + 1], l, fname)) < 0)
		return rc;
	r->is_dir = ga_gomod_is_dir_path(r->new_path);
	if (n == arrow + 2) {
		if (!r->is_dir)
			return line_error(l, fname, "%s", strchr(r->new_path, '@')
			                  ? "replacement module must match format 'path version', not 'path@version'"
			                  : "replacement module without version must be directory path (rooted or starting with . or ..)");
		if (strchr(r->new_path, '\\'))
			return line_error(l, fname, "replacement directory appears to be Windows path (on a non-windows system)");
		return 0;
	}
	if ((rc = parse_version(&r->new_version, strs, l->args[arrow + 2], verb, r->new_path, l, fname)) < 0)
		return rc;
	if (r->is_dir)
		return line_error(l, fname, "replacement module directory path \"%s\" cannot have version", r->new_path);
	return 0;
}

/* go, toolchain and godebug: the same rules in go.mod and go.work. */
static int is_go_version(const char *v)
{
	/* ^([1-9][0-9]*)\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))?([a-z]+[0-9]+)?$ */
	const char *p = v;
	int part;
	for (part = 0; part < 3; part++) {
		const char *s = p;
		if (part == 2 && *p != '.')
			break;
		if (part > 0) {
			if (*p != '.')
				return 0;
			s = ++p;
		}
		if (*p < '0' || *p > '9' || (part == 0 && *p == '0'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p - s > 1 && *s == '0')
			return 0;
	}
	if (*p >= 'a' && *p <= 'z') {
		while (*p >= 'a' && *p <= 'z')
			p++;
		if (*p < '0' || *p > '9')
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

static int add_common(const char **go, const char **toolchain, ga_vec *godebug, goaccel_strarray *strs,
                      ga_line *l, const char *fname, int *handled)
{
	const char *s;
	*handled = 1;
	if (verb_is(l, "go") || verb_is(l, "toolchain")) {
		int is_go = verb_is(l, "go");
		const char **slot = is_go ? go : toolchain;
		if (*slot)
			return line_error(l, fname, "repeated %s statement", is_go ? "go" : "toolchain");
		if (l->nargs != 1)
			return line_error(l, fname, "%s directive expects exactly one argument", is_go ? "go" : "toolchain");
		if (!(s = keep(strs, l->args[0]->s, l->args[0]->len)))
			return GOACCEL_ERROR;
		if (is_go && !is_go_version(s))
			return line_error(l, fname, "invalid go version '%s': must match format 1.23.0", s);
		if (!is_go && strcmp(s, "default") != 0 && !(strncmp(s, "go1", 3) == 0 && (s[3] == '\0' || s[3] == '.')))
			return line_error(l, fname, "invalid toolchain version '%s': must match format go1.23.0 or default", s);
		*slot = s;
		return 0;
	}
	if (verb_is(l, "godebug")) {
		goaccel_gomod_godebug *g;
		const char *eq;
		if (l->nargs != 1 || !(s = keep(strs, l->args[0]->s, l->args[0]->len)))
			return l->nargs != 1 ? line_error(l, fname, "usage: godebug key=value") : GOACCEL_ERROR;
		if (strpbrk(s, "\"`',") || !(eq = strchr(s, '=')))
			return line_error(l, fname, "usage: godebug key=value");
		if (!(g = vec_push(godebug, sizeof(*g))))
			return GOACCEL_ERROR;
		g->key = keep(strs, s, (size_t)(eq - s));
		g->value = eq + 1;
		g->line = l->line;
		return g->key ? 0 : GOACCEL_ERROR;
	}
	*handled = 0;
	return 0;
}

static int is_indirect(const ga_line *l)
{
	/* the suffix comment is the last line of l->comment; Go looks at exactly that comment */
	const char *c = l->comment.ptr ? l->comment.ptr : "", *last = strrchr(c, '\n');
	last = last ? last + 1 : c;
	return strcmp(last, "indirect") == 0 || strncmp(last, "indirect;", 9) == 0;
}

static int gomod_add_line(void *file, ga_line *l, const char *fname)
{
	goaccel_gomod *m = file;
	int handled, rc;
	char verb[64];
	if (l->in_block && !(verb_is(l, "module") || verb_is(l, "require") || verb_is(l, "exclude") ||
	                     verb_is(l, "replace") || verb_is(l, "retract") || verb_is(l, "tool") ||
	                     verb_is(l, "ignore") || verb_is(l, "godebug")))
		goto unknown_block;
	if ((rc = add_common(&m->go, &m->toolchain, &m->godebug, &m->strings, l, fname, &handled)) < 0 || handled)
		return rc;
	if (verb_is(l, "module")) {
		if (m->module)
			return line_error(l, fname, "repeated module statement");
		if (l->nargs != 1)
			return line_error(l, fname, "usage: module module/path");
		return parse_string(&m->module, &m->strings, l->args[0], l, fname);
	}
	if (verb_is(l, "require") || verb_is(l, "exclude")) {
		int req = verb_is(l, "require");
		goaccel_gomod_module *mv;
		if (l->nargs != 2)
			return line_error(l, fname, "usage: %s module/path v1.2.3", req ? "require" : "exclude");
		if (!(mv = vec_push(req ? &m->require : &m->exclude, sizeof(*mv))))
			return GOACCEL_ERROR;
		mv->line = l->line;
		if ((rc = parse_string(&mv->path, &m->strings, l->args[0], l, fname)) < 0 ||
		    (rc = parse_version(&mv->version, &m->strings, l->args[1], req ? "require" : "exclude", mv->path, l, fname)) < 0 ||
		    (rc = check_module_version(mv->path, mv->version, req ? "require" : "exclude", l, fname)) < 0)
			return rc;
		mv->indirect = req && is_indirect(l);
		return 0;
	}
	if (verb_is(l, "replace")) {
		goaccel_gomod_replace *r = vec_push(&m->replace, sizeof(*r));
		return r ? parse_replace(r, &m->strings, l, fname) : GOACCEL_ERROR;
	}
	if (verb_is(l, "retract")) {
		goaccel_gomod_retract *r = vec_push(&m->retract, sizeof(*r));
		size_t used;
		if (!r)
			return GOACCEL_ERROR;
		r->line = l->line;
		if (l->nargs == 0 || arg_is(l->args[0], "("))
			return line_error(l, fname, "expected '[' or version");
		if (!arg_is(l->args[0], "[")) {
			if ((rc = parse_version(&r->low, &m->strings, l->args[0], "retract", "", l, fname)) < 0)
				return rc;
			r->high = r->low;
			used = 1;
		} else {
			if (l->nargs < 2)
				return line_error(l, fname, "expected version after '['");
			if ((rc = parse_version(&r->low, &m->strings, l->args[1], "retract", "", l, fname)) < 0)
				return rc;
			if (l->nargs < 3 || !arg_is(l->args[2], ","))
				return line_error(l, fname, "expected ',' after version");
			if (l->nargs < 4)
				return line_error(l, fname, "expected version after ','");
			if ((rc = parse_version(&r->high, &m->strings, l->args[3], "retract", "", l, fname)) < 0)
				return rc;
			if (l->nargs < 5 || !arg_is(l->args[4], "]"))
				return line_error(l, fname, "expected ']' after version");
			used = 5;
		}
		if (l->nargs > used) {
			char tok[80];
			snprintf(tok, sizeof(tok), "%.*s", (int)(l->args[used]->len > 64 ? 64 : l->args[used]->len), l->args[used]->s);
			return line_error(l, fname, "unexpected token after version: %s", tok);
		}
		r->rationale = keep(&m->strings, l->comment.size ? l->comment.ptr : (l->block_comment.ptr ? l->block_comment.ptr : ""),
		                    l->comment.size ? l->comment.size : l->block_comment.size);
		return r->rationale ? 0 : GOACCEL_ERROR;
	}
	if (verb_is(l, "tool") || verb_is(l, "ignore")) {
		const char *s;
		if (l->nargs != 1)
			return line_error(l, fname, "%s directive expects exactly one argument",
			                  verb_is(l, "tool") ? "tool" : "ignore");
		return parse_string(&s, &m->strings, l->args[0], l, fname);
	}
	snprintf(verb, sizeof(verb), "%.*s", (int)(l->verb_len > 60 ? 60 : l->verb_len), l->verb);
	return line_error(l, fname, "unknown directive: %s", verb);
unknown_block:
	snprintf(verb, sizeof(verb), "%.*s", (int)(l->verb_len > 60 ? 60 : l->verb_len), l->verb);
	return line_error(l, fname, "unknown block type: %s", verb);
}

static int gowork_add_line(void *file, ga_line *l, const char *fname)
{
	goaccel_gowork *w = file;
	int handled, rc;
	char verb[64];
	if (l->in_block && !(verb_is(l, "use") || verb_is(l, "replace") || verb_is(l, "godebug"))) {
		snprintf(verb, sizeof(verb), "%.*s", (int)(l->verb_len > 60 ? 60 : l->verb_len), l->verb);
		return line_error(l, fname, "unknown block type: %s", verb);
	}
	if ((rc = add_common(&w->go, &w->toolchain, &w->godebug, &w->strings, l, fname, &handled)) < 0 || handled)
		return rc;
	if (verb_is(l, "use")) {
		const char **slot;
		if (l->nargs != 1)
			return line_error(l, fname, "usage: use local/dir");
		if (!(slot = vec_push(&w->use, sizeof(*slot))))
			return GOACCEL_ERROR;
		return parse_string(slot, &w->strings, l->args[0], l, fname);
	}
	if (verb_is(l, "replace")) {
		goaccel_gomod_replace *r = vec_push(&w->replace, sizeof(*r));
		return r ? parse_replace(r, &w->strings, l, fname) : GOACCEL_ERROR;
	}
	snprintf(verb, sizeof(verb), "%.*s", (int)(l->verb_len > 60 ? 60 : l->verb_len), l->verb);
	return line_error(l, fname, "unknown directive: %s", verb);
}

/* ---- public API --------------------------------------------------------------------------------- */

void goaccel_gomod_free(goaccel_gomod *m)
{
	if (!m)
		return;
	free(m->require.items);
	free(m->exclude.items);
	free(m->replace.items);
	free(m->retract.items);
	free(m->godebug.items);
	goaccel_strarray_dispose(&m->strings);
	free(m);
}

void goaccel_gowork_free(goaccel_gowork *w)
{
	if (!w)
		return;
	free(w->use.items);
	free(w->replace.items);
	free(w->godebug.items);
	goaccel_strarray_dispose(&w->strings);
	free(w);
}

int goaccel_gomod_parse(goaccel_gomod **out, const char *path, const char *data, size_t len)
{
	goaccel_gomod *m = NULL;
	int rc;
	GA_ASSERT_ARG(out);
	GA_ASSERT_ARG(data || len == 0);
	*out = NULL;
	if (!(m = calloc(1, sizeof(*m))))
		return ga_error_oom();
	if ((rc = parse_file(path ? path : "go.mod", data ? data : "", len, gomod_add_line, m)) < 0)
		goto done;
	*out = m;
	m = NULL;
done:
	goaccel_gomod_free(m);
	return rc;
}

int goaccel_gowork_parse(goaccel_gowork **out, const char *path, const char *data, size_t len)
{
	goaccel_gowork *w = NULL;
	int rc;
	GA_ASSERT_ARG(out);
	GA_ASSERT_ARG(data || len == 0);
	*out = NULL;
	if (!(w = calloc(1, sizeof(*w))))
		return ga_error_oom();
	if ((rc = parse_file(path ? path : "go.work", data ? data : "", len, gowork_add_line, w)) < 0)
		goto done;
	*out = w;
	w = NULL;
done:
	goaccel_gowork_free(w);
	return rc;
}

int goaccel_gomod_parse_file(goaccel_gomod **out, const char *path)
{
	ga_buf b = GA_BUF_INIT;
	int rc;
	GA_ASSERT_ARG(out && path);
	*out = NULL;
	if ((rc = ga_read_file(&b, path, GA_GOMOD_MAX_FILE)) == 0)
		rc = goaccel_gomod_parse(out, path, b.ptr ? b.ptr : "", b.size);
	ga_buf_dispose(&b);
	return rc;
}

int goaccel_gowork_parse_file(goaccel_gowork **out, const char *path)
{
	ga_buf b = GA_BUF_INIT;
	int rc;
	GA_ASSERT_ARG(out && path);
	*out = NULL;
	if ((rc = ga_read_file(&b, path, GA_GOMOD_MAX_FILE)) == 0)
		rc = goaccel_gowork_parse(out, path, b.ptr ? b.ptr : "", b.size);
	ga_buf_dispose(&b);
	return rc;
}

#define VEC_AT(type, vec, i) ((i) < (vec).count ? &((const type *)(vec).items)[i] : NULL)

const char *goaccel_gomod_module_path(const goaccel_gomod *m) { return m ? m->module : NULL; }
const char *goaccel_gomod_go_version(const goaccel_gomod *m) { return m ? m->go : NULL; }
const char *goaccel_gomod_toolchain(const goaccel_gomod *m) { return m ? m->toolchain : NULL; }
size_t goaccel_gomod_require_count(const goaccel_gomod *m) { return m ? m->require.count : 0; }
size_t goaccel_gomod_exclude_count(const goaccel_gomod *m) { return m ? m->exclude.count : 0; }
size_t goaccel_gomod_replace_count(const goaccel_gomod *m) { return m ? m->replace.count : 0; }
size_t goaccel_gomod_retract_count(const goaccel_gomod *m) { return m ? m->retract.count : 0; }
size_t goaccel_gomod_godebug_count(const goaccel_gomod *m) { return m ? m->godebug.count : 0; }

const goaccel_gomod_module *goaccel_gomod_require_byindex(const goaccel_gomod *m, size_t i)
{
	return m ? VEC_AT(goaccel_gomod_module, m->require, i) : NULL;
}

const goaccel_gomod_module *goaccel_gomod_exclude_byindex(const goaccel_gomod *m, size_t i)
{
	return m ? VEC_AT(goaccel_gomod_module, m->exclude, i) : NULL;
}

const goaccel_gomod_replace *goaccel_gomod_replace_byindex(const goaccel_gomod *m, size_t i)
{
	return m ? VEC_AT(goaccel_gomod_replace, m->replace, i) : NULL;
}

const goaccel_gomod_retract *goaccel_gomod_retract_byindex(const goaccel_gomod *m, size_t i)
{
	return m ? VEC_AT(goaccel_gomod_retract, m->retract, i) : NULL;
}

const goaccel_gomod_godebug *goaccel_gomod_godebug_byindex(const goaccel_gomod *m, size_t i)
{
	return m ? VEC_AT(goaccel_gomod_godebug, m->godebug, i) : NULL;
}

const char *goaccel_gowork_go_version(const goaccel_gowork *w) { return w ? w->go : NULL; }
const char *goaccel_gowork_toolchain(const goaccel_gowork *w) { return w ? w->toolchain : NULL; }
size_t goaccel_gowork_use_count(const goaccel_gowork *w) { return w ? w->use.count : 0; }
size_t goaccel_gowork_replace_count(const goaccel_gowork *w) { return w ? w->replace.count : 0; }
size_t goaccel_gowork_godebug_count(const goaccel_gowork *w) { return w ? w->godebug.count : 0; }

const char *goaccel_gowork_use_byindex(const goaccel_gowork *w, size_t i)
{
	if (!w || i >= w->use.count)
		return NULL;
	return ((const char **)w->use.items)[i];
}

const goaccel_gomod_replace *goaccel_gowork_replace_byindex(const goaccel_gowork *w, size_t i)
{
	return w ? VEC_AT(goaccel_gomod_replace, w->replace, i) : NULL;
}

const goaccel_gomod_godebug *goaccel_gowork_godebug_byindex(const goaccel_gowork *w, size_t i)
{
	return w ? VEC_AT(goaccel_gomod_godebug, w->godebug, i) : NULL;
}
