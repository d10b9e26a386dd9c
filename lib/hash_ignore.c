/* .dockerignore-syntax patterns (the hash layer's selection rules).
 *
 * The semantics are moby/patternmatcher's, which BuildKit and `docker build` use:
 *  - a pattern is trimmed, a leading '!' makes it a re-include, it is cleaned like Go's
 *    filepath.Clean and a leading '/' is dropped; patterns are anchored at the root;
 *  - '*' matches any run of characters other than '/', '?' one character other than '/',
 *    '[...]' a class (ranges, '^' negates, '\' escapes), '\x' the character x, and '**' any
 *    number of directories ("**" + "/" matches zero or more leading directories, a trailing "**"
 *    anything);
 *  - a path is excluded when the last pattern that matches it or one of its parent directories is
 *    not a re-include;
 *  - an excluded directory is skipped unless a re-include pattern's text starts with the
 *    directory's path (BuildKit's walker rule, so "!dir/keep" works below an excluded "dir").
 * Patterns are matched with a small NFA over UTF-8 characters (invalid bytes count as one
 * character each), so matching is linear in the path length whatever the pattern.
 */
#include <stdlib.h>
#include <string.h>

#include "goaccel/errors.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/hash_internal.h"

enum tok_kind { T_LIT, T_STAR, T_QUEST, T_CLASS, T_DSTAR_SLASH, T_DSTAR_END };

#define RUNE_INVALID_BASE GA_UTF8_INVALID_BASE

typedef struct {
	uint32_t lo, hi;
} crange;

typedef struct {
	unsigned char kind;
	unsigned char negated;
	uint32_t rune;          /* T_LIT */
	uint32_t first, nrange; /* T_CLASS: ranges[first .. first+nrange) */
} tok;

typedef struct {
	char *text; /* the cleaned pattern, without '!' */
	size_t textlen;
	int exclusion;
	tok *toks;
	size_t ntoks;
	crange *ranges;
	size_t nranges;
	int type; /* how patternmatcher matches it: M_EXACT, M_PREFIX, M_SUFFIX or M_REGEXP */
	/* Necessary conditions checked before running the NFA (M_REGEXP only). */
	size_t prefix_len; /* literal bytes every match starts with */
	size_t suffix_len; /* literal bytes every match ends with */
	char *lit;         /* those bytes: the prefix, then the suffix */
	size_t litlen;     /* where the suffix starts in lit */
} pattern;

/* patternmatcher's match types: its compile() picks one while scanning the pattern, and only
 * M_REGEXP goes through a regular expression (with RE2's rules: '.' does not match a newline,
 * bytes that are not UTF-8 read as U+FFFD). */
enum { M_EXACT, M_PREFIX, M_SUFFIX, M_REGEXP };

struct ga_ignore {
	pattern *pats;
	size_t count, alloc;
	int has_exclusions;
};

/* ---- UTF-8 ---------------------------------------------------------------------------------- */

uint32_t ga_hash_utf8_next(const unsigned char *s, size_t len, size_t *width)
{
	uint32_t c = s[0], min;
	size_t n, i;
	if (c < 0x80) {
		*width = 1;
		return c;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2, c &= 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3, c &= 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4, c &= 0x07, min = 0x10000;
	} else {
		goto invalid;
	}
	if (len < n)
		goto invalid;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			goto invalid;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		goto invalid;
	*width = n;
	return c;
invalid:
	*width = 1;
	return RUNE_INVALID_BASE + s[0];
}

/* ---- cleaning (Go's filepath.Clean, ported) ------------------------------------------------- */

/* Writes Clean(path) into out (at least len + 2 bytes); returns its length. */
static size_t clean_path(char *out, const char *path, size_t n)
{
	size_t r = 0, w = 0, dotdot = 0;
	int rooted;
	if (n == 0) {
		out[0] = '.';
		return 1;
	}
	rooted = path[0] == '/';
	if (rooted) {
		out[w++] = '/';
		r = dotdot = 1;
	}
	while (r < n) {
		if (path[r] == '/') {
			r++;
		} else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/')) {
			r++;
		} else if (path[r] == '.' && path[r + 1] == '.' && (r + 2 == n || path[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				w--;
				while (w > dotdot && out[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.';
				out[w++] = '.';
				dotdot = w;
			}
		} else {
			if ((rooted && w != 1) || (!rooted && w != 0))
				out[w++] = '/';
			for (; r < n && path[r] != '/'; r++)
				out[w++] = path[r];
		}
	}
	if (w == 0)
		out[w++] = '.';
	return w;
}

/* ---- compiling ------------------------------------------------------------------------------ */

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static void trim(const char **s, size_t *len)
{
	while (*len && is_space(**s))
		(*s)++, (*len)--;
	while (*len && is_space((*s)[*len - 1]))
		(*len)--;
}

static int bad_pattern(const char *source, size_t line, const char *what)
{
	if (line)
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_HASH, "%s:%zu: %s", source, line, what);
	return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_HASH, "%s: %s", source, what);
}

static int push_tok(pattern *p, size_t *alloc, const tok *t)
{
	if (p->ntoks == *alloc) {
		size_t n = *alloc ? *alloc * 2 : 8;
		tok *nt = realloc(p->toks, n * sizeof(*nt));
		if (!nt)
			return ga_error_oom();
		p->toks = nt;
		*alloc = n;
	}
	p->toks[p->ntoks++] = *t;
	return 0;
}

static int push_range(pattern *p, size_t *alloc, uint32_t lo, uint32_t hi)
{
	if (p->nranges == *alloc) {
		size_t n = *alloc ? *alloc * 2 : 4;
		crange *nr = realloc(p->ranges, n * sizeof(*nr));
		if (!nr)
			return ga_error_oom();
		p->ranges = nr;
		*alloc = n;
	}
	p->ranges[p->nranges].lo = lo;
	p->ranges[p->nranges].hi = hi;
	p->nranges++;
	return 0;
}

/* One class member (filepath.Match's getEsc): '-' and ']' must be escaped, '\' escapes. */
static int class_char(uint32_t *out, const unsigned char *s, size_t len, size_t *i)
{
	size_t w;
	if (*i >= len || s[*i] == '-' || s[*i] == ']')
		return -1;
	if (s[*i] == '\\') {
		(*i)++;
		if (*i >= len)
			return -1;
	}
	*out = ga_hash_utf8_next(s + *i, len - *i, &w);
	*i += w;
	return 0;
}

static int compile_class(pattern *p, size_t *ralloc, const unsigned char *s, size_t len, size_t *i, tok *t)
{
	t->kind = T_CLASS;
	t->first = (uint32_t)p->nranges;
	t->nrange = 0;
	t->negated = 0;
	if (*i < len && s[*i] == '^') {
		t->negated = 1;
		(*i)++;
	}
	for (;;) {
		uint32_t lo, hi;
		if (*i < len && s[*i] == ']' && t->nrange > 0) {
			(*i)++;
			return 0;
		}
		if (class_char(&lo, s, len, i) < 0)
			return -1;
		hi = lo;
		if (*i < len && s[*i] == '-') {
			(*i)++;
			if (class_char(&hi, s, len, i) < 0)
				return -1;
		}
		if (hi < lo)
			return -1;
		if (push_range(p, ralloc, lo, hi) < 0)
			return -2;
		t->nrange++;
	}
}

static int compile(pattern *p, const char *source, size_t line)
{
	const unsigned char *s = (const unsigned char *)p->text;
	size_t len = p->textlen, i = 0, talloc = 0, ralloc = 0, w;
	int rc, type = M_EXACT;
	while (i < len) {
		int first = i == 0;
		tok t;
		memset(&t, 0, sizeof(t));
		if (s[i] == '*') {
			i++;
			if (i < len && s[i] == '*') {
				i++;
				if (i < len && s[i] == '/')
					i++;
				if (i == len) {
					t.kind = T_DSTAR_END;
					type = type == M_EXACT ? M_PREFIX : M_REGEXP;
				} else {
					t.kind = T_DSTAR_SLASH;
					type = M_REGEXP;
				}
				if (first)
					type = M_SUFFIX;
			} else {
				t.kind = T_STAR;
				type = M_REGEXP;
			}
		} else if (s[i] == '?') {
			i++;
			t.kind = T_QUEST;
			type = M_REGEXP;
		} else if (s[i] == '[') {
			i++;
			if ((rc = compile_class(p, &ralloc, s, len, &i, &t)) == -2)
				return GOACCEL_ERROR;
			if (rc < 0)
				return bad_pattern(source, line, "syntax error in pattern (character class)");
			type = M_REGEXP;
		} else if (s[i] == '\\') {
			i++;
			if (i == len)
				return bad_pattern(source, line, "syntax error in pattern (trailing backslash)");
			t.kind = T_LIT;
			t.rune = ga_hash_utf8_next(s + i, len - i, &w);
			i += w;
			type = M_REGEXP;
		} else {
			if (s[i] == ']')
				type = M_REGEXP;
			t.kind = T_LIT;
			t.rune = ga_hash_utf8_next(s + i, len - i, &w);
			i += w;
		}
		if (push_tok(p, &talloc, &t) < 0)
			return GOACCEL_ERROR;
	}
	p->type = type;
	return 0;
}

static size_t rune_encode(char *out, uint32_t r)
{
	if (r >= RUNE_INVALID_BASE) {
		out[0] = (char)(r - RUNE_INVALID_BASE);
		return 1;
	}
	if (r < 0x80) {
		out[0] = (char)r;
		return 1;
	}
	if (r < 0x800) {
		out[0] = (char)(0xc0 | (r >> 6));
		out[1] = (char)(0x80 | (r & 0x3f));
		return 2;
	}
	if (r < 0x10000) {
		out[0] = (char)(0xe0 | (r >> 12));
		out[1] = (char)(0x80 | ((r >> 6) & 0x3f));
		out[2] = (char)(0x80 | (r & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (r >> 18));
	out[1] = (char)(0x80 | ((r >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((r >> 6) & 0x3f));
	out[3] = (char)(0x80 | (r & 0x3f));
	return 4;
}

/* RE2 reads a byte that is not UTF-8 as U+FFFD, in the pattern and in the path alike. */
static uint32_t re2_rune(uint32_t r)
{
	return r >= RUNE_INVALID_BASE ? 0xfffd : r;
}

/* Literal runs at both ends of a M_REGEXP pattern let most non-matching paths be rejected with
 * a memcmp. Not when a literal is U+FFFD, which also matches any invalid byte. */
static int analyse(pattern *p)
{
	size_t i, j, n = 0;
	if (p->type != M_REGEXP)
		return 0;
	for (i = 0; i < p->ntoks; i++)
		if (p->toks[i].kind == T_LIT && re2_rune(p->toks[i].rune) == 0xfffd)
			return 0;
	if ((p->lit = malloc(4 * p->ntoks + 1)) == NULL)
		return ga_error_oom();
	for (i = 0; i < p->ntoks && p->toks[i].kind == T_LIT; i++)
		n += rune_encode(p->lit + n, p->toks[i].rune);
	p->prefix_len = p->litlen = n;
	for (j = p->ntoks; j > i && p->toks[j - 1].kind == T_LIT; j--)
		;
	for (; j < p->ntoks; j++)
		n += rune_encode(p->lit + n, p->toks[j].rune);
	p->suffix_len = n - p->litlen;
	return 0;
}

static void pattern_dispose(pattern *p)
{
	free(p->text);
	free(p->toks);
	free(p->ranges);
	free(p->lit);
}

/* ---- matching ------------------------------------------------------------------------------- */

static int class_has(const pattern *p, const tok *t, uint32_t r)
{
	uint32_t i;
	int in = 0;
	for (i = 0; i < t->nrange && !in; i++)
		in = r >= p->ranges[t->first + i].lo && r <= p->ranges[t->first + i].hi;
	return in != t->negated;
}

/* States: 2*i = before token i, 2*i+1 = inside the ".* then slash" part of a T_DSTAR_SLASH; 2*ntoks = accept.
 * add() puts a state and its epsilon closure into a set. */
static void add(const pattern *p, unsigned char *set, size_t s)
{
	while (!set[s]) {
		size_t i = s / 2;
		set[s] = 1;
		if (s % 2 || i >= p->ntoks)
			return;
		switch (p->toks[i].kind) {
		case T_DSTAR_SLASH:
			set[s + 1] = 1;
			s += 2;
			break;
		case T_STAR:
		case T_DSTAR_END:
			s += 2;
			break;
		default:
			return;
		}
	}
}

static int nfa_match(const pattern *p, const unsigned char *s, size_t len)
{
	size_t nstates = 2 * p->ntoks + 1, i, st;
	unsigned char local[2][256], *cur, *next, *heap = NULL;
	int result;
	if (nstates <= sizeof(local[0])) {
		cur = local[0], next = local[1];
	} else {
		if ((heap = calloc(2, nstates)) == NULL)
			return 0; /* cannot happen in practice; "no match" is the safe answer for a filter */
		cur = heap, next = heap + nstates;
	}
	memset(cur, 0, nstates);
	add(p, cur, 0);
	for (i = 0; i < len;) {
		size_t w;
		uint32_t r = re2_rune(ga_hash_utf8_next(s + i, len - i, &w));
		int any = 0;
		memset(next, 0, nstates);
		for (st = 0; st + 1 < nstates; st++) {
			const tok *t;
			if (!cur[st])
				continue;
			t = &p->toks[st / 2];
			if (st % 2) { /* inside the ".* then slash" part; RE2's '.' stops at a newline */
				if (r == '/')
					add(p, next, st + 1), any = 1;
				if (r != '\n')
					add(p, next, st), any = 1;
				continue;
			}
			switch (t->kind) {
			case T_LIT:
				if (r == re2_rune(t->rune))
					add(p, next, st + 2), any = 1;
				break;
			case T_QUEST:
				if (r != '/')
					add(p, next, st + 2), any = 1;
				break;
			case T_CLASS:
				if (class_has(p, t, r))
					add(p, next, st + 2), any = 1;
				break;
			case T_STAR:
				if (r != '/')
					add(p, next, st), any = 1;
				break;
			case T_DSTAR_END:
				if (r != '\n')
					add(p, next, st), any = 1;
				break;
			default:
				break;
			}
		}
		if (!any) {
			free(heap);
			return 0;
		}
		unsigned char *tmp = cur;
		cur = next, next = tmp;
		i += w;
	}
	result = cur[nstates - 1];
	free(heap);
	return result;
}

static int pattern_match(const pattern *p, const char *path, size_t len)
{
	switch (p->type) {
	case M_EXACT:
		return len == p->textlen && memcmp(path, p->text, len) == 0;
	case M_PREFIX: /* "abc**": the text before the stars */
		return len >= p->textlen - 2 && memcmp(path, p->text, p->textlen - 2) == 0;
	case M_SUFFIX: { /* "**abc": the text after the stars, and "**\/abc" matches "abc" too */
		const char *suffix = p->text + 2;
		size_t n = p->textlen - 2;
		if (len >= n && memcmp(path + len - n, suffix, n) == 0)
			return 1;
		return n > 0 && suffix[0] == '/' && len == n - 1 && memcmp(path, suffix + 1, n - 1) == 0;
	}
	default:
		break;
	}
	if (len < p->prefix_len + p->suffix_len)
		return 0;
	if (p->prefix_len && memcmp(path, p->lit, p->prefix_len) != 0)
		return 0;
	if (p->suffix_len && memcmp(path + len - p->suffix_len, p->lit + p->litlen, p->suffix_len) != 0)
		return 0;
	return nfa_match(p, (const unsigned char *)path, len);
}

/* ---- the public (internal) API ------------------------------------------------------------- */

int ga_ignore_new(ga_ignore **out)
{
	GA_ASSERT_ARG(out);
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		return ga_error_oom();
	return 0;
}

void ga_ignore_free(ga_ignore *ig)
{
	size_t i;
	if (!ig)
		return;
	for (i = 0; i < ig->count; i++)
		pattern_dispose(&ig->pats[i]);
	free(ig->pats);
	free(ig);
}

size_t ga_ignore_count(const ga_ignore *ig)
{
	return ig ? ig->count : 0;
}

int ga_ignore_add_pattern(ga_ignore *ig, const char *text, size_t len, const char *source, size_t line)
{
	pattern p;
	int exclusion = 0, error;
	GA_ASSERT_ARG(ig);
	GA_ASSERT_ARG(text || len == 0);
	memset(&p, 0, sizeof(p));
	if (memchr(text, '\0', len))
		return bad_pattern(source, line, "pattern contains a NUL byte");
	trim(&text, &len);
	if (len == 0)
		return 0;
	if (text[0] == '!') {
		exclusion = 1;
		text++, len--;
		trim(&text, &len);
		if (len == 0)
			return bad_pattern(source, line, "illegal exclusion pattern: \"!\"");
	}
	if ((p.text = malloc(len + 3)) == NULL)
		return ga_error_oom();
	p.textlen = clean_path(p.text, text, len);
	if (p.textlen > 1 && p.text[0] == '/')
		memmove(p.text, p.text + 1, --p.textlen);
	p.text[p.textlen] = '\0';
	/* patternmatcher cleans "!" + pattern once more, which turns "!/" into "!" */
	if (exclusion && p.textlen == 1 && p.text[0] == '/') {
		error = bad_pattern(source, line, "illegal exclusion pattern: \"!\"");
		goto done;
	}
	p.exclusion = exclusion;
	if ((error = compile(&p, source, line)) < 0 || (error = analyse(&p)) < 0)
		goto done;
	if (ig->count == ig->alloc) {
		size_t n = ig->alloc ? ig->alloc * 2 : 8;
		pattern *np = realloc(ig->pats, n * sizeof(*np));
		if (!np) {
			error = ga_error_oom();
			goto done;
		}
		ig->pats = np;
		ig->alloc = n;
	}
	ig->pats[ig->count++] = p;
	ig->has_exclusions |= exclusion;
	memset(&p, 0, sizeof(p));
done:
	pattern_dispose(&p);
	return error;
}

int ga_ignore_add_buffer(ga_ignore *ig, const char *data, size_t len, const char *source)
{
	size_t pos = 0, line = 0;
	int error;
	GA_ASSERT_ARG(ig);
	GA_ASSERT_ARG(data || len == 0);
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (pos < len) {
		const char *start = data + pos, *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;
		pos += n + (nl ? 1 : 0);
		line++;
		/* moby's ReadAll: a comment is a line that starts with '#', before any trimming */
		if (n && start[0] == '#')
			continue;
		if ((error = ga_ignore_add_pattern(ig, start, n, source, line)) < 0)
			return error;
	}
	return 0;
}

int ga_ignore_add_file(ga_ignore *ig, const char *path)
{
	ga_buf buf = GA_BUF_INIT;
	int error;
	GA_ASSERT_ARG(ig);
	GA_ASSERT_ARG(path);
	if ((error = ga_read_file(&buf, path, 16 * 1024 * 1024)) < 0)
		goto done;
	error = ga_ignore_add_buffer(ig, buf.ptr ? buf.ptr : "", buf.size, path);
done:
	ga_buf_dispose(&buf);
	return error;
}

int ga_ignore_pattern_matches(const ga_ignore *ig, size_t index, const char *path, size_t len)
{
	if (!ig || index >= ig->count || !path)
		return 0;
	return pattern_match(&ig->pats[index], path, len);
}

/* The decision for one path, exactly as BuildKit's walker makes it (fsutil's filterFS.Walk with
 * patternmatcher's MatchesUsingParentResults): a pattern that matched the parent directory counts
 * as matching; otherwise it is only evaluated when it could change the running result (a
 * re-include while excluded, an exclude while not), and then against the path itself. hits_out
 * records which patterns counted as matching, for the children of a directory. */
static int evaluate(const ga_ignore *ig, const char *path, size_t len, const unsigned char *parent_hits,
                    unsigned char *hits_out)
{
	size_t i;
	int matched = 0;
	for (i = 0; i < ig->count; i++) {
		const pattern *p = &ig->pats[i];
		int m = parent_hits && parent_hits[i];
		if (!m) {
			if (p->exclusion != matched) {
				if (hits_out)
					hits_out[i] = 0;
				continue;
			}
			m = pattern_match(p, path, len);
		}
		if (hits_out)
			hits_out[i] = (unsigned char)m;
		if (m)
			matched = !p->exclusion;
	}
	return matched;
}

int ga_ignore_eval(const ga_ignore *ig, const char *path, size_t len, const unsigned char *parent_hits,
                   unsigned char *hits_out)
{
	if (!ig || ig->count == 0)
		return 0;
	return evaluate(ig, path, len, parent_hits, hits_out);
}

int ga_ignore_excluded(const ga_ignore *ig, const char *path, size_t len)
{
	unsigned char *hits = NULL;
	size_t i;
	int result;
	if (!ig || ig->count == 0)
		return 0;
	if ((hits = calloc(ig->count, 2)) == NULL)
		return 0;
	/* Each parent directory in turn, from the top, accumulating the hits. */
	for (i = 0; i < len; i++) {
		if (path[i] != '/')
			continue;
		evaluate(ig, path, i, hits, hits + ig->count);
		memcpy(hits, hits + ig->count, ig->count);
	}
	result = evaluate(ig, path, len, hits, NULL);
	free(hits);
	return result;
}

/* fsutil's patternWithoutTrailingGlob: the text without a trailing slash-star-star, then slash-star. */
static size_t trimmed_len(const pattern *p)
{
	size_t n = p->textlen;
	if (n >= 3 && memcmp(p->text + n - 3, "/**", 3) == 0)
		n -= 3;
	if (n >= 2 && memcmp(p->text + n - 2, "/*", 2) == 0)
		n -= 2;
	return n;
}

int ga_ignore_can_skip_dir(const ga_ignore *ig, const char *path, size_t len)
{
	size_t i;
	if (!ig || !ig->has_exclusions)
		return 1;
	/* With a re-include that has glob characters (after the trailing glob is trimmed) anything
	 * below could come back: BuildKit then walks every excluded directory. */
	for (i = 0; i < ig->count; i++) {
		const pattern *p = &ig->pats[i];
		size_t n = trimmed_len(p), j;
		if (!p->exclusion)
			continue;
		for (j = 0; j < n; j++)
			if (strchr("*[]?^\\", p->text[j]))
				return 0;
	}
	/* Otherwise only a re-include whose text lies below the directory keeps it. */
	for (i = 0; i < ig->count; i++) {
		const pattern *p = &ig->pats[i];
		size_t n = trimmed_len(p);
		if (p->exclusion && n >= len && memcmp(p->text, path, len) == 0 && (n == len || p->text[len] == '/'))
			return 0;
	}
	return 1;
}
