/* gomod layer: small ports of Go library rules the rest of the layer relies on — string
 * unquoting (strconv), semantic versions (golang.org/x/mod/semver), module path escaping and
 * file-name checks (golang.org/x/mod/module). Each follows the Go function it names. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "gomod_internal.h"
#include "util/err.h"
#include "util/fs.h"

long ga_utf8_decode(const unsigned char *s, size_t len, size_t *size)
{
	long r;
	size_t n, i;
	unsigned char c = s[0];
	*size = 1;
	if (c < 0x80)
		return c;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, r = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, r = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, r = c & 0x07;
	else
		return -1;
	if (len < n)
		return -1;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return -1;
		r = (r << 6) | (s[i] & 0x3F);
	}
	/* overlong forms, surrogates and values past U+10FFFF are invalid, as in Go */
	if ((n == 3 && r < 0x800) || (n == 4 && (r < 0x10000 || r > 0x10FFFF)) ||
	    (r >= 0xD800 && r <= 0xDFFF))
		return -1;
	*size = n;
	return r;
}

int ga_unicode_is_space(long r)
{
	switch (r) {
	case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
	case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F:
	case 0x3000:
		return 1;
	default:
		return r >= 0x2000 && r <= 0x200A;
	}
}

static void put_utf8(char *dst, size_t *n, long r)
{
	if (r < 0x80) {
		dst[(*n)++] = (char)r;
	} else if (r < 0x800) {
		dst[(*n)++] = (char)(0xC0 | (r >> 6));
		dst[(*n)++] = (char)(0x80 | (r & 0x3F));
	} else if (r < 0x10000) {
		dst[(*n)++] = (char)(0xE0 | (r >> 12));
		dst[(*n)++] = (char)(0x80 | ((r >> 6) & 0x3F));
		dst[(*n)++] = (char)(0x80 | (r & 0x3F));
	} else {
		dst[(*n)++] = (char)(0xF0 | (r >> 18));
		dst[(*n)++] = (char)(0x80 | ((r >> 12) & 0x3F));
		dst[(*n)++] = (char)(0x80 | ((r >> 6) & 0x3F));
		dst[(*n)++] = (char)(0x80 | (r & 0x3F));
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One escape sequence of an interpreted string (strconv.UnquoteChar after the backslash).
 * s points after the '\\'. Returns bytes consumed, or 0 for a syntax error. */
static size_t unquote_escape(char *dst, size_t *n, const char *s, size_t len, char quote)
{
	size_t need, i;
	long v = 0;
	if (len == 0)
		return 0;
	switch (s[0]) {
	case 'a': dst[(*n)++] = '\a'; return 1;
	case 'b': dst[(*n)++] = '\b'; return 1;
	case 'f': dst[(*n)++] = '\f'; return 1;
	case 'n': dst[(*n)++] = '\n'; return 1;
	case 'r': dst[(*n)++] = '\r'; return 1;
	case 't': dst[(*n)++] = '\t'; return 1;
	case 'v': dst[(*n)++] = '\v'; return 1;
	case '\\': dst[(*n)++] = '\\'; return 1;
	case '\'': case '"':
		if (s[0] != quote)
			return 0;
		dst[(*n)++] = s[0];
		return 1;
	case 'x': case 'u': case 'U':
		need = s[0] == 'x' ? 2 : s[0] == 'u' ? 4 : 8;
		if (len < need + 1)
			return 0;
		for (i = 1; i <= need; i++) {
			int h = hexval(s[i]);
			if (h < 0)
				return 0;
			v = v * 16 + h;
		}
		if (s[0] == 'x') {
			dst[(*n)++] = (char)v; /* a raw byte */
			return need + 1;
		}
		if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
			return 0;
		put_utf8(dst, n, v);
		return need + 1;
	case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
		if (len < 3)
			return 0;
		for (i = 0; i < 3; i++) {
			if (s[i] < '0' || s[i] > '7')
				return 0;
			v = v * 8 + (s[i] - '0');
		}
		if (v > 255)
			return 0;
		dst[(*n)++] = (char)v;
		return 3;
	default:
		return 0;
	}
}

int ga_go_unquote(ga_buf *out, const char *s, size_t len)
{
	char quote, *dst;
	size_t i, n = 0;
	if (len < 2 || s[0] != s[len - 1] || (s[0] != '"' && s[0] != '`'))
		return 1;
	quote = s[0];
	s++;
	len -= 2;
	/* each input byte yields at most 3 output bytes (an invalid byte becomes U+FFFD) */
	if (len > SIZE_MAX / 3 - 4 || ga_buf_grow(out, len * 3 + 4) < 0)
		return GOACCEL_ERROR;
	dst = out->ptr + out->size;
	for (i = 0; i < len;) {
		if (quote == '`') {
			if (s[i] == '`')
				return 1;
			if (s[i] != '\r') /* raw strings drop carriage returns */
				dst[n++] = s[i];
			i++;
		} else if (s[i] == '"' || s[i] == '\n') {
			return 1;
		} else if (s[i] == '\\') {
			size_t used = unquote_escape(dst, &n, s + i + 1, len - i - 1, quote);
			if (!used)
				return 1;
			i += used + 1;
		} else {
			size_t sz;
			long r = ga_utf8_decode((const unsigned char *)s + i, len - i, &sz);
			if (r < 0) { /* Go decodes an invalid byte as U+FFFD */
				put_utf8(dst, &n, 0xFFFD);
			} else {
				memcpy(dst + n, s + i, sz);
				n += sz;
			}
			i += sz;
		}
	}
	out->size += n;
	out->ptr[out->size] = '\0';
	return 0;
}

size_t ga_go_quoted_prefix(const char *s, size_t len)
{
	size_t i;
	if (len == 0 || (s[0] != '"' && s[0] != '`'))
		return 0;
	for (i = 1; i < len; i++) {
		if (s[i] == s[0]) {
			ga_buf tmp = GA_BUF_INIT;
			int rc = ga_go_unquote(&tmp, s, i + 1);
			ga_buf_dispose(&tmp);
			return rc == 0 ? i + 1 : 0;
		}
		if (s[0] == '"' && s[i] == '\\')
			i++;
		else if (s[0] == '"' && s[i] == '\n')
			return 0;
	}
	return 0;
}

/* ---- semantic versions (golang.org/x/mod/semver) ---------------------------------------------- */

static int is_num_ident(const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* Parses a dot-separated list of identifiers ([0-9A-Za-z-]+), numeric ones without leading
 * zeros when strict_num. Returns the length consumed, or 0 when invalid. */
static size_t parse_idents(const char *s, int strict_num)
{
	size_t i = 0, start;
	for (;;) {
		start = i;
		while ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
		       (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-')
			i++;
		if (i == start)
			return 0;
		if (strict_num && is_num_ident(s + start, i - start) && i - start > 1 && s[start] == '0')
			return 0;
		if (s[i] != '.')
			return i;
		i++;
	}
}

static size_t parse_num(const char *s)
{
	size_t i = 0;
	while (s[i] >= '0' && s[i] <= '9')
		i++;
	if (i > 1 && s[0] == '0')
		return 0;
	return i;
}

int ga_semver_canonical(ga_buf *out, const char *v)
{
	const char *p = v;
	size_t n, pre_len = 0;
	const char *pre = NULL, *build = NULL;
	const char *major, *minor = NULL, *patch = NULL;
	size_t major_len, minor_len = 0, patch_len = 0;
	if (*p++ != 'v')
		return 1;
	major = p;
	if ((major_len = parse_num(p)) == 0)
		return 1;
	p += major_len;
	if (*p == '\0')
		goto format;
	if (*p++ != '.')
		return 1;
	minor = p;
	if ((minor_len = parse_num(p)) == 0)
		return 1;
	p += minor_len;
	if (*p == '\0')
		goto format;
	if (*p++ != '.')
		return 1;
	patch = p;
	if ((patch_len = parse_num(p)) == 0)
		return 1;
	p += patch_len;
	if (*p == '-') {
		pre = p;
		if ((n = parse_idents(p + 1, 1)) == 0)
			return 1;
		p += n + 1;
		pre_len = (size_t)(p - pre);
	}
	if (*p == '+') {
		build = p;
		if ((n = parse_idents(p + 1, 0)) == 0)
			return 1;
		p += n + 1;
	}
	if (*p != '\0')
		return 1;
format:
	if (ga_buf_putc(out, 'v') < 0 || ga_buf_put(out, major, major_len) < 0 ||
	    ga_buf_putc(out, '.') < 0 || ga_buf_put(out, minor ? minor : "0", minor ? minor_len : 1) < 0 ||
	    ga_buf_putc(out, '.') < 0 || ga_buf_put(out, patch ? patch : "0", patch ? patch_len : 1) < 0 ||
	    (pre && ga_buf_put(out, pre, pre_len) < 0) ||
	    (build && strcmp(build, "+incompatible") == 0 && ga_buf_puts(out, build) < 0))
		return GOACCEL_ERROR;
	return 0;
}

/* ---- module paths ------------------------------------------------------------------------------- */

int ga_gomod_escape(ga_buf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '!')
			return 1;
		if (*s >= 'A' && *s <= 'Z') {
			if (ga_buf_putc(out, '!') < 0 || ga_buf_putc(out, (char)(*s - 'A' + 'a')) < 0)
				return GOACCEL_ERROR;
		} else if (ga_buf_putc(out, *s) < 0) {
			return GOACCEL_ERROR;
		}
	}
	return 0;
}

int ga_gomod_is_dir_path(const char *ns)
{
	return strcmp(ns, ".") == 0 || strncmp(ns, "./", 2) == 0 || strncmp(ns, ".\\", 2) == 0 ||
	       strcmp(ns, "..") == 0 || strncmp(ns, "../", 3) == 0 || strncmp(ns, "..\\", 3) == 0 ||
	       ns[0] == '/' || ns[0] == '\\' ||
	       (((ns[0] >= 'A' && ns[0] <= 'Z') || (ns[0] >= 'a' && ns[0] <= 'z')) && ns[1] == ':');
}

static int file_name_rune_ok(long r)
{
	if (r < 0x80)
		return (r >= '0' && r <= '9') || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') ||
		       (r && strchr("!#$%&()+,-.=@[]^_{}~ ", (int)r) != NULL);
	/* Go asks unicode.IsLetter; without Unicode tables we accept every printable non-ASCII
	 * code point (an over-approximation: such a name is selected, Go may reject it). */
	return r > 0x9F && !ga_unicode_is_space(r);
}

int ga_gomod_bad_file_name(const char *name)
{
	static const char *const bad_windows[] = {"CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3",
		"COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5",
		"LPT6", "LPT7", "LPT8", "LPT9"};
	size_t len = strlen(name), i, dots = 0, short_len;
	const char *dot;
	if (len == 0 || strcmp(name, ".git") == 0 || strcmp(name, ".hg") == 0 ||
	    strcmp(name, ".svn") == 0 || strcmp(name, ".bzr") == 0)
		return 1;
	for (i = 0; i < len; i++)
		dots += name[i] == '.';
	if (dots == len || name[len - 1] == '.')
		return 1;
	for (i = 0; i < len;) {
		size_t sz;
		long r = ga_utf8_decode((const unsigned char *)name + i, len - i, &sz);
		if (r < 0 || !file_name_rune_ok(r))
			return 1;
		i += sz;
	}
	dot = strchr(name, '.');
	short_len = dot ? (size_t)(dot - name) : len;
	for (i = 0; i < sizeof(bad_windows) / sizeof(bad_windows[0]); i++)
		if (strlen(bad_windows[i]) == short_len && strncasecmp(bad_windows[i], name, short_len) == 0)
			return 1;
	return 0;
}

char *ga_memdup_str(const char *s, size_t len)
{
	char *p = malloc(len + 1);
	if (!p)
		return NULL;
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* ---- paths --------------------------------------------------------------------------------------- */

char *ga_gomod_abs_clean(const char *base, const char *path)
{
	ga_buf joined = GA_BUF_INIT, out = GA_BUF_INIT;
	char cwd[4096];
	const char *p;
	if (path[0] != '/') {
		if (!base || base[0] != '/') {
			if (!getcwd(cwd, sizeof(cwd))) {
				ga_error_os(0, errno, "getcwd");
				return NULL;
			}
			if (ga_buf_puts(&joined, cwd) < 0 || ga_buf_putc(&joined, '/') < 0)
				goto fail;
		}
		if (base && (ga_buf_puts(&joined, base) < 0 || ga_buf_putc(&joined, '/') < 0))
			goto fail;
	}
	if (ga_buf_puts(&joined, path) < 0)
		goto fail;
	/* lexical cleaning, as Go's filepath.Clean on an absolute path */
	for (p = joined.ptr; *p;) {
		const char *e;
		size_t n;
		while (*p == '/')
			p++;
		e = strchr(p, '/');
		n = e ? (size_t)(e - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* skip */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (out.size > 0 && out.ptr[out.size - 1] != '/')
				out.size--;
			if (out.size > 0)
				out.size--;
			if (out.ptr)
				out.ptr[out.size] = '\0';
		} else if (ga_buf_putc(&out, '/') < 0 || ga_buf_put(&out, p, n) < 0) {
			goto fail;
		}
		p += n;
	}
	if (out.size == 0 && ga_buf_putc(&out, '/') < 0)
		goto fail;
	ga_buf_dispose(&joined);
	return ga_buf_detach(&out);
fail:
	ga_buf_dispose(&joined);
	ga_buf_dispose(&out);
	return NULL;
}
