/* .gitignore rules, exactly as git applies them.
 *
 * libgit2 provides the repository (discovery, work tree, git directory), the index (tracked
 * paths are never ignored) and the configuration (core.excludesFile, core.ignoreCase). The
 * patterns themselves are evaluated here with git's rules (dir.c + wildmatch), because libgit2's
 * own matcher (git_ignore_path_is_ignored, 1.5) differs from git: it drops a negative pattern
 * that does not negate an earlier rule of the same file, so "*.log" at the top and "!keep.log"
 * in sub/.gitignore ignore sub/keep.log in libgit2 but not in git; it also lets a negative
 * pattern re-include a file below an ignored directory, and treats a symbolic link to a
 * directory as a directory. Every rule below is checked against `git ls-files --others
 * --exclude-standard` by the test suites.
 *
 * git's rules, in short: each ignore file is a list of patterns; the last pattern of a list that
 * matches decides. Lists are consulted from the most specific: the .gitignore of the path's own
 * directory, then of each parent up to the top of the work tree, then .git/info/exclude, then
 * core.excludesFile. A pattern without '/' (other than a trailing one) matches the base name at
 * any depth below its .gitignore; otherwise it matches the path relative to the .gitignore's
 * directory with wildmatch's WM_PATHNAME rules. A trailing '/' matches directories only. Nothing
 * below an ignored directory is looked at, so it cannot be re-included.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/dl_git.h"

#include "common_internal.h"
#include "goaccel/errors.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/hash_internal.h"

#define MAX_IGNORE_FILE (64 * 1024 * 1024)

#define F_NEGATIVE 1u
#define F_MUSTBEDIR 2u
#define F_NODIR 4u

typedef struct {
	char *text; /* without the '!' and the trailing '/' */
	size_t len;
	size_t nowild; /* length of the leading part without glob characters */
	unsigned flags;
} gi_pattern;

struct ga_gitignore_rules {
	gi_pattern *pats;
	size_t count;
	char *base; /* directory of the file relative to the work tree, "" or "dir/" */
	size_t baselen;
};

struct ga_gitignore {
	git_repository *repo;
	git_index *index;
	char *prefix; /* root relative to the work tree, with a trailing '/', or "" */
	size_t prefixlen;
	int icase;
	ga_gitignore_rules **ancestors; /* .gitignore of the work tree top .. root's parent */
	size_t nancestors;
	ga_gitignore_rules *info_exclude, *excludes_file;
	int root_ignored;
	pthread_mutex_t lock; /* the index is not safe for concurrent lookups */
};

/* ---- wildmatch ------------------------------------------------------------------------------ */

enum { WM_MATCH = 0, WM_NOMATCH = 1, WM_ABORT_ALL = -1, WM_ABORT_TO_STARSTAR = -2 };

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int glob_special(int c)
{
	return c == '*' || c == '?' || c == '[' || c == '\\';
}

static int in_named_class(const char *name, size_t n, int c)
{
#define IS(s) (n == sizeof(s) - 1 && memcmp(name, s, n) == 0)
	if (IS("alnum"))
		return (c >= '0' && c <= '9') || (lower(c) >= 'a' && lower(c) <= 'z');
	if (IS("alpha"))
		return lower(c) >= 'a' && lower(c) <= 'z';
	if (IS("blank"))
		return c == ' ' || c == '\t';
	if (IS("cntrl"))
		return c < 0x20 || c == 0x7f;
	if (IS("digit"))
		return c >= '0' && c <= '9';
	if (IS("graph"))
		return c > 0x20 && c < 0x7f;
	if (IS("lower"))
		return c >= 'a' && c <= 'z';
	if (IS("print"))
		return c >= 0x20 && c < 0x7f;
	if (IS("punct"))
		return c > 0x20 && c < 0x7f && !((c >= '0' && c <= '9') || (lower(c) >= 'a' && lower(c) <= 'z'));
	if (IS("space"))
		return c == ' ' || (c >= '\t' && c <= '\r');
	if (IS("upper"))
		return c >= 'A' && c <= 'Z';
	if (IS("xdigit"))
		return (c >= '0' && c <= '9') || (lower(c) >= 'a' && lower(c) <= 'f');
	return -1;
#undef IS
}

/* A bracket expression at p (just after '['), against text character t. Returns 1/0 for
 * match/no match with *end after the closing ']', or -1 when the class is malformed. */
static int match_class(const unsigned char *p, const unsigned char *pend, int t, int icase,
                       const unsigned char **end)
{
	int negated = 0, matched = 0, prev = -1;
	if (p < pend && (*p == '!' || *p == '^')) {
		negated = 1;
		p++;
	}
	/* the first character, even ']', is a member */
	for (int first = 1;; first = 0) {
		int c;
		if (p >= pend)
			return -1;
		c = *p;
		if (c == ']' && !first)
			break;
		if (c == '\\') {
			if (++p >= pend)
				return -1;
			c = *p;
			if (t == c)
				matched = 1;
			prev = c;
		} else if (c == '-' && prev >= 0 && p + 1 < pend && p[1] != ']') {
			int hi = *++p;
			if (hi == '\\') {
				if (++p >= pend)
					return -1;
				hi = *p;
			}
			if ((t >= prev && t <= hi) ||
			    (icase && t >= 'a' && t <= 'z' && t - 32 >= prev && t - 32 <= hi))
				matched = 1;
			prev = -1;
		} else if (c == '[' && p + 1 < pend && p[1] == ':') {
			const unsigned char *s = p + 2, *q = s;
			while (q < pend && *q != ']')
				q++;
			if (q >= pend)
				return -1;
			if (q - s < 1 || q[-1] != ':') {
				/* no ":]": an ordinary '[' */
				if (t == '[')
					matched = 1;
				prev = '[';
			} else {
				size_t n = (size_t)(q - s - 1);
				int r = in_named_class((const char *)s, n, t);
				if (r < 0)
					return -1;
				/* the text character is already folded; [:upper:] takes lower case then */
				if (r || (icase && n == 5 && memcmp(s, "upper", 5) == 0 && t >= 'a' && t <= 'z'))
					matched = 1;
				p = q;
				prev = -1;
			}
		} else {
			if (t == c)
				matched = 1;
			prev = c;
		}
		p++;
	}
	*end = p + 1;
	return matched != negated;
}

static const unsigned char *find_byte(const unsigned char *t, const unsigned char *tend, int c)
{
	return memchr(t, c, (size_t)(tend - t));
}

static int wild(const unsigned char *pstart, const unsigned char *p, const unsigned char *pend,
                const unsigned char *t, const unsigned char *tend, int pathname, int icase)
{
	for (; p < pend; p++, t++) {
		int pc = *p, tc, r;
		if (t >= tend && pc != '*')
			return WM_ABORT_ALL;
		tc = t < tend ? *t : 0;
		if (icase) {
			tc = lower(tc);
			pc = lower(pc);
		}
		switch (pc) {
		case '\\':
			if (++p >= pend)
				return WM_NOMATCH; /* a trailing backslash matches nothing */
			pc = *p; /* as in git, the escaped character is not case-folded */
			if (tc != pc)
				return WM_NOMATCH;
			continue;
		case '?':
			if (pathname && tc == '/')
				return WM_NOMATCH;
			continue;
		case '[': {
			const unsigned char *end;
			r = match_class(p + 1, pend, tc, icase, &end);
			if (r < 0)
				return WM_ABORT_ALL;
			if (!r || (pathname && tc == '/'))
				return WM_NOMATCH;
			p = end - 1;
			continue;
		}
		case '*': {
			int match_slash;
			if (p + 1 < pend && p[1] == '*') {
				const unsigned char *before = p - 1;
				while (p + 1 < pend && p[1] == '*')
					p++;
				p++; /* first character after the stars */
				if ((before < pstart || *before == '/') &&
				    (p == pend || *p == '/' || (*p == '\\' && p + 1 < pend && p[1] == '/'))) {
					/* "**" as a whole component: also try matching no directory at all */
					if (p < pend && *p == '/' &&
					    wild(p + 1, p + 1, pend, t, tend, pathname, icase) == WM_MATCH)
						return WM_MATCH;
					match_slash = 1;
				} else {
					match_slash = !pathname;
				}
			} else {
				p++;
				match_slash = !pathname;
			}
			if (p == pend) {
				if (!match_slash && find_byte(t, tend, '/'))
					return WM_NOMATCH;
				return WM_MATCH;
			}
			if (!match_slash && *p == '/') {
				/* one star then a slash: the rest of this component */
				const unsigned char *slash = find_byte(t, tend, '/');
				if (!slash)
					return WM_NOMATCH;
				t = slash;
				break; /* the loop consumes the slash of both */
			}
			for (;;) {
				if (t >= tend)
					return WM_ABORT_ALL;
				if (!glob_special(*p)) {
					/* skip ahead to the next occurrence of the literal that follows */
					int want = icase ? lower(*p) : *p;
					while (t < tend && (match_slash || *t != '/') && (icase ? lower(*t) : *t) != want)
						t++;
					if (t >= tend || (icase ? lower(*t) : *t) != want)
						return WM_NOMATCH;
				}
				r = wild(p, p, pend, t, tend, pathname, icase);
				if (r != WM_NOMATCH) {
					if (!match_slash || r != WM_ABORT_TO_STARSTAR)
						return r;
				} else if (!match_slash && *t == '/') {
					return WM_ABORT_TO_STARSTAR;
				}
				t++;
			}
		}
		default:
			if (tc != pc)
				return WM_NOMATCH;
			continue;
		}
		/* reached from the "star slash" case: p is at the slash, t at the text's slash */
		if (p >= pend)
			break;
	}
	return t < tend ? WM_NOMATCH : WM_MATCH;
}

int ga_gitignore_wildmatch(const char *pattern, size_t plen, const char *text, size_t tlen, int pathname, int icase)
{
	const unsigned char *p = (const unsigned char *)pattern;
	return wild(p, p, p + plen, (const unsigned char *)text, (const unsigned char *)text + tlen, pathname, icase) ==
	       WM_MATCH;
}

/* ---- ignore files --------------------------------------------------------------------------- */

/* git's trim_trailing_spaces: trailing spaces go, unless escaped with a backslash. */
static size_t trim_trailing_spaces(const char *s, size_t len)
{
	size_t i, last_space = (size_t)-1;
	for (i = 0; i < len; i++) {
		if (s[i] == ' ') {
			if (last_space == (size_t)-1)
				last_space = i;
		} else if (s[i] == '\\') {
			if (++i >= len)
				return len;
			last_space = (size_t)-1;
		} else {
			last_space = (size_t)-1;
		}
	}
	return last_space == (size_t)-1 ? len : last_space;
}

static int add_rule(ga_gitignore_rules *r, size_t *alloc, const char *s, size_t len)
{
	gi_pattern *p;
	size_t i;
	if (r->count == *alloc) {
		size_t n = *alloc ? *alloc * 2 : 8;
		gi_pattern *np = realloc(r->pats, n * sizeof(*np));
		if (!np)
			return ga_error_oom();
		r->pats = np;
		*alloc = n;
	}
	p = &r->pats[r->count];
	memset(p, 0, sizeof(*p));
	if (len && s[0] == '!') {
		p->flags |= F_NEGATIVE;
		s++, len--;
	}
	if (len && s[len - 1] == '/') {
		p->flags |= F_MUSTBEDIR;
		len--;
	}
	if (!memchr(s, '/', len))
		p->flags |= F_NODIR;
	for (i = 0; i < len && !glob_special((unsigned char)s[i]); i++)
		;
	p->nowild = i;
	if ((p->text = malloc(len + 1)) == NULL)
		return ga_error_oom();
	memcpy(p->text, s, len);
	p->text[len] = '\0';
	p->len = len;
	r->count++;
	return 0;
}

int ga_gitignore_rules_parse(ga_gitignore_rules **out, const char *data, size_t len, const char *base)
{
	ga_gitignore_rules *r;
	size_t pos = 0, alloc = 0;
	int error = 0;
	GA_ASSERT_ARG(out);
	GA_ASSERT_ARG(data || len == 0);
	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL || (r->base = strdup(base ? base : "")) == NULL) {
		ga_gitignore_rules_free(r);
		return ga_error_oom();
	}
	r->baselen = strlen(r->base);
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (pos < len && error == 0) {
		const char *line = data + pos, *nl = memchr(line, '\n', len - pos), *nul;
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		pos += n + 1;
		if (n == 0 || line[0] == '#')
			continue;
		if (n && line[n - 1] == '\r')
			n--;
		/* git handles each line as a C string: a NUL byte ends it */
		if ((nul = memchr(line, '\0', n)) != NULL)
			n = (size_t)(nul - line);
		error = add_rule(r, &alloc, line, trim_trailing_spaces(line, n));
	}
	if (error < 0) {
		ga_gitignore_rules_free(r);
		return error;
	}
	*out = r;
	return 0;
}

void ga_gitignore_rules_free(ga_gitignore_rules *r)
{
	size_t i;
	if (!r)
		return;
	for (i = 0; i < r->count; i++)
		free(r->pats[i].text);
	free(r->pats);
	free(r->base);
	free(r);
}

static int name_eq(const char *a, const char *b, size_t n, int icase)
{
	size_t i;
	if (!icase)
		return memcmp(a, b, n) == 0;
	for (i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return 0;
	return 1;
}

/* git's match_pathname: the path relative to the rule file's directory, the literal prefix
 * compared first and the rest with WM_PATHNAME (so the rest starts a new pattern for '**'). */
static int match_pathname(const ga_gitignore_rules *r, const gi_pattern *p, const char *path, size_t len,
                          int icase)
{
	const char *pat = p->text, *name;
	size_t plen = p->len, prefix = p->nowild, namelen, baselen = r->baselen ? r->baselen - 1 : 0;
	if (plen && pat[0] == '/') {
		pat++, plen--;
		prefix = prefix ? prefix - 1 : 0;
	}
	if (len < baselen + 1 || (baselen && path[baselen] != '/') || !name_eq(path, r->base, baselen, icase))
		return 0;
	namelen = baselen ? len - baselen - 1 : len;
	name = path + len - namelen;
	if (prefix) {
		if (prefix > namelen || !name_eq(pat, name, prefix, icase))
			return 0;
		pat += prefix, plen -= prefix;
		name += prefix, namelen -= prefix;
		if (!plen && !namelen)
			return 1;
	}
	return ga_gitignore_wildmatch(pat, plen, name, namelen, 1, icase);
}

int ga_gitignore_rules_match(const ga_gitignore_rules *r, const char *path, size_t len, int is_dir, int icase)
{
	const char *slash, *base;
	size_t i, blen;
	if (!r)
		return -1;
	slash = len ? memrchr(path, '/', len) : NULL;
	base = slash ? slash + 1 : path;
	blen = len - (size_t)(base - path);
	for (i = r->count; i-- > 0;) {
		const gi_pattern *p = &r->pats[i];
		int m;
		if ((p->flags & F_MUSTBEDIR) && !is_dir)
			continue;
		if (p->flags & F_NODIR) {
			if (p->nowild == p->len)
				m = p->len == blen && name_eq(p->text, base, blen, icase);
			else
				m = ga_gitignore_wildmatch(p->text, p->len, base, blen, 0, icase);
		} else {
			m = match_pathname(r, p, path, len, icase);
		}
		if (m)
			return (p->flags & F_NEGATIVE) ? 0 : 1;
	}
	return -1;
}

/* ---- the repository ------------------------------------------------------------------------- */

/* Reads an ignore file. A missing file, a directory or a symbolic link (git does not follow
 * in-tree links to ignore files) gives no rules. */
static int read_rules(ga_gitignore_rules **out, int dirfd, const char *path, const char *base)
{
	ga_buf buf = GA_BUF_INIT;
	struct stat st;
	int fd, error = 0;
	*out = NULL;
	if ((fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY)) < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP || errno == EISDIR)
			return 0;
		return ga_error_os(GOACCEL_ERROR, errno, "%s%s: open", base, path);
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		goto done;
	if (st.st_size > MAX_IGNORE_FILE) {
		error = ga_error(GOACCEL_ELIMIT, GOACCEL_ERROR_HASH, "%s%s: ignore file larger than 64 MiB", base, path);
		goto done;
	}
	for (;;) {
		ssize_t n;
		if ((error = ga_buf_grow(&buf, 65536)) < 0)
			goto done;
		n = read(fd, buf.ptr + buf.size, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error = ga_error_os(GOACCEL_ERROR, errno, "%s%s: read", base, path);
			goto done;
		}
		if (n == 0)
			break;
		buf.size += (size_t)n;
	}
	error = ga_gitignore_rules_parse(out, buf.ptr ? buf.ptr : "", buf.size, base);
done:
	close(fd);
	ga_buf_dispose(&buf);
	return error;
}

/* root relative to the work tree ("" or "sub/dir/"), or NULL when root is not inside it. */
static int compute_prefix(char **out, const char *workdir, const char *root_real)
{
	char *wd_real = realpath(workdir, NULL);
	size_t wl;
	int error = 0;
	*out = NULL;
	if (!wd_real)
		return ga_error_os(GOACCEL_ERROR, errno, "gitignore: %s: realpath", workdir);
	wl = strlen(wd_real);
	if (strcmp(wd_real, root_real) == 0) {
		*out = strdup("");
	} else if ((wl == 1 && root_real[0] == '/') ||
	           (strncmp(wd_real, root_real, wl) == 0 && root_real[wl] == '/')) {
		const char *rest = root_real + (wl == 1 ? 1 : wl + 1);
		size_t n = strlen(rest);
		if ((*out = malloc(n + 2)) != NULL) {
			memcpy(*out, rest, n);
			(*out)[n] = '/';
			(*out)[n + 1] = '\0';
		}
	} else {
		goto done;
	}
	if (!*out)
		error = ga_error_oom();
done:
	free(wd_real);
	return error;
}

/* The first existing "<dir>/ignore" of libgit2's XDG search path (git's default excludes file). */
static int xdg_ignore_file(char **out)
{
	git_buf paths = {NULL, 0, 0};
	const char *p;
	*out = NULL;
	if (git_libgit2_opts(GIT_OPT_GET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, &paths) < 0)
		return ga_error_git(GOACCEL_ERROR, "gitignore: XDG search path");
	for (p = paths.ptr; p && *p;) {
		const char *sep = strchr(p, GIT_PATH_LIST_SEPARATOR);
		size_t n = sep ? (size_t)(sep - p) : strlen(p);
		char *dir = strndup(p, n), *file = dir ? ga_path_join(dir, "ignore") : NULL;
		free(dir);
		if (file && ga_exists(file)) {
			*out = file;
			break;
		}
		free(file);
		p = sep ? sep + 1 : p + n;
	}
	git_buf_dispose(&paths);
	return 0;
}

/* core.excludesFile and core.ignoreCase: from the repository's own configuration only, unless
 * global excludes are wanted (then the user's and system configuration, and the XDG default). */
static int read_config(ga_gitignore *gi, int global_excludes, char **excludes_file)
{
	git_config *cfg = NULL, *local = NULL, *use;
	git_buf path = {NULL, 0, 0};
	int error = 0, v = 0;
	*excludes_file = NULL;
	if (git_repository_config_snapshot(&cfg, gi->repo) < 0)
		return ga_error_git(GOACCEL_ERROR, "gitignore: reading the configuration");
	use = cfg;
	if (!global_excludes) {
		if (git_config_open_level(&local, cfg, GIT_CONFIG_LEVEL_LOCAL) < 0) {
			git_error_clear();
			goto done; /* no local configuration: defaults */
		}
		use = local;
	}
	if (git_config_get_bool(&v, use, "core.ignorecase") == 0)
		gi->icase = v;
	if (git_config_get_path(&path, use, "core.excludesfile") == 0) {
		if ((*excludes_file = strdup(path.ptr)) == NULL)
			error = ga_error_oom();
	} else if (global_excludes) {
		error = xdg_ignore_file(excludes_file);
	}
	git_error_clear();
done:
	git_buf_dispose(&path);
	git_config_free(local);
	git_config_free(cfg);
	return error;
}

static int load_global_lists(ga_gitignore *gi, int global_excludes)
{
	char *info = NULL, *excl = NULL;
	int error;
	if ((error = read_config(gi, global_excludes, &excl)) < 0)
		goto done;
	if ((info = ga_path_join(git_repository_commondir(gi->repo), "info/exclude")) == NULL) {
		error = GOACCEL_ERROR;
		goto done;
	}
	if ((error = read_rules(&gi->info_exclude, AT_FDCWD, info, "")) < 0)
		goto done;
	if (excl)
		error = read_rules(&gi->excludes_file, AT_FDCWD, excl, "");
done:
	free(info);
	free(excl);
	return error;
}

/* The .gitignore files of the work tree's top down to root's parent, and whether one of those
 * directories (or root itself) is ignored. */
static int load_ancestors(ga_gitignore *gi, const char *workdir)
{
	size_t i, n = 0;
	int error = 0, ignored = 0;
	for (i = 0; i < gi->prefixlen; i++)
		n += gi->prefix[i] == '/';
	if ((gi->ancestors = calloc(n + 1, sizeof(*gi->ancestors))) == NULL)
		return ga_error_oom();
	/* the top (base "") then each directory of the prefix except the last (root itself) */
	for (i = 0; i <= gi->prefixlen && (size_t)gi->nancestors < n; i++) {
		if (i == 0 || gi->prefix[i - 1] == '/') {
			char *base = strndup(gi->prefix, i), *file = NULL;
			if (!base || (file = ga_path_join(workdir, i ? base : ".gitignore")) == NULL) {
				free(base);
				return ga_error_oom();
			}
			if (i) {
				char *f2 = ga_path_join(file, ".gitignore");
				free(file);
				file = f2;
			}
			error = file ? read_rules(&gi->ancestors[gi->nancestors], AT_FDCWD, file, base) : ga_error_oom();
			free(file);
			free(base);
			if (error < 0)
				return error;
			gi->nancestors++;
		}
	}
	/* is one of root's directories (prefix components, root included) ignored? */
	for (i = 0; i < gi->prefixlen && !ignored; i++) {
		const ga_gitignore_rules *stack[256];
		size_t depth = 0, j, k = 0;
		if (gi->prefix[i] != '/')
			continue;
		/* the lists of the directories above prefix[0..i): ancestors[0 .. (number of '/' before i)] */
		for (j = 0; j < i; j++)
			k += gi->prefix[j] == '/';
		for (j = k + 1; j-- > 0 && depth < 256;)
			if (j < gi->nancestors)
				stack[depth++] = gi->ancestors[j];
		error = ga_gitignore_check(&ignored, NULL, gi, stack, depth, gi->prefix, i, 1, 0, 1);
		if (error < 0)
			return error;
	}
	gi->root_ignored = ignored;
	return 0;
}

int ga_gitignore_open(ga_gitignore **out, const char *root_real, int global_excludes)
{
	ga_gitignore *gi = NULL;
	git_repository *repo = NULL;
	char *prefix = NULL;
	int rc, error = 0;
	GA_ASSERT_ARG(out);
	GA_ASSERT_ARG(root_real);
	*out = NULL;
	if ((error = ga_git_init()) < 0)
		return error; /* not done: libgit2 may not be loaded, so nothing of it may be called */
	rc = git_repository_open_ext(&repo, root_real, 0, NULL);
	if (rc == GIT_ENOTFOUND) {
		git_error_clear();
		goto done;
	}
	if (rc < 0) {
		error = ga_error_git(GOACCEL_ERROR, "gitignore: opening the repository of %s", root_real);
		goto done;
	}
	if (git_repository_is_bare(repo) || !git_repository_workdir(repo))
		goto done;
	if ((error = compute_prefix(&prefix, git_repository_workdir(repo), root_real)) < 0 || !prefix)
		goto done;
	/* Hashing inside .git itself: nothing there is subject to ignore rules. */
	if (strncmp(prefix, ".git/", 5) == 0)
		goto done;
	if ((gi = calloc(1, sizeof(*gi))) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	pthread_mutex_init(&gi->lock, NULL);
	gi->repo = repo;
	gi->prefix = prefix;
	gi->prefixlen = strlen(prefix);
	repo = NULL;
	prefix = NULL;
	if (git_repository_index(&gi->index, gi->repo) < 0) {
		error = ga_error_git(GOACCEL_ERROR, "gitignore: reading the index of %s", root_real);
		goto done;
	}
	if ((error = load_global_lists(gi, global_excludes)) < 0 ||
	    (error = load_ancestors(gi, git_repository_workdir(gi->repo))) < 0)
		goto done;
	*out = gi;
	gi = NULL;
done:
	ga_gitignore_free(gi);
	git_repository_free(repo);
	free(prefix);
	return error;
}

int ga_gitignore_load(ga_gitignore_rules **out, ga_gitignore *gi, int dirfd, const char *relpath)
{
	char *base;
	size_t n;
	int error;
	GA_ASSERT_ARG(out);
	GA_ASSERT_ARG(gi);
	*out = NULL;
	n = strlen(relpath);
	if ((base = malloc(gi->prefixlen + n + 2)) == NULL)
		return ga_error_oom();
	memcpy(base, gi->prefix, gi->prefixlen);
	memcpy(base + gi->prefixlen, relpath, n);
	if (n)
		base[gi->prefixlen + n++] = '/';
	base[gi->prefixlen + n] = '\0';
	error = read_rules(out, dirfd, ".gitignore", base);
	free(base);
	return error;
}

int ga_gitignore_root_ignored(const ga_gitignore *gi)
{
	return gi ? gi->root_ignored : 0;
}

size_t ga_gitignore_ancestors(const ga_gitignore *gi, const ga_gitignore_rules *const **out)
{
	*out = (const ga_gitignore_rules *const *)gi->ancestors;
	return gi->nancestors;
}

/* Tracked paths are never ignored; a directory holding tracked files must be walked. */
static int tracked(ga_gitignore *gi, const char *wpath, int is_dir)
{
	int t;
	pthread_mutex_lock(&gi->lock);
	if (is_dir)
		t = git_index_find_prefix(NULL, gi->index, wpath) == 0;
	else
		t = git_index_get_bypath(gi->index, wpath, 0) != NULL;
	pthread_mutex_unlock(&gi->lock);
	return t;
}

int ga_gitignore_check(int *ignored, int *dir_ignored, ga_gitignore *gi, const ga_gitignore_rules *const *stack,
                       size_t depth, const char *relpath, size_t len, int is_dir, int parent_ignored,
                       int path_is_workdir_relative)
{
	ga_buf path = GA_BUF_INIT;
	size_t i;
	int error = 0, ign = 0, m = -1;
	GA_ASSERT_ARG(ignored);
	GA_ASSERT_ARG(gi);
	GA_ASSERT_ARG(relpath);
	*ignored = 0;
	if (dir_ignored)
		*dir_ignored = 0;
	if ((!path_is_workdir_relative && (error = ga_buf_put(&path, gi->prefix, gi->prefixlen)) < 0) ||
	    (error = ga_buf_put(&path, relpath, len)) < 0)
		goto done;
	if (parent_ignored) {
		ign = 1; /* git never looks inside an ignored directory */
	} else {
		for (i = 0; i < depth && m < 0; i++)
			m = ga_gitignore_rules_match(stack[i], path.ptr, path.size, is_dir, gi->icase);
		if (m < 0)
			m = ga_gitignore_rules_match(gi->info_exclude, path.ptr, path.size, is_dir, gi->icase);
		if (m < 0)
			m = ga_gitignore_rules_match(gi->excludes_file, path.ptr, path.size, is_dir, gi->icase);
		ign = m > 0;
	}
	if (!ign)
		goto done;
	if (is_dir && (error = ga_buf_putc(&path, '/')) < 0)
		goto done;
	if (tracked(gi, path.ptr, is_dir)) {
		if (is_dir && dir_ignored)
			*dir_ignored = 1;
		goto done;
	}
	*ignored = 1;
done:
	ga_buf_dispose(&path);
	return error;
}

void ga_gitignore_free(ga_gitignore *gi)
{
	size_t i;
	if (!gi)
		return;
	for (i = 0; i < gi->nancestors; i++)
		ga_gitignore_rules_free(gi->ancestors[i]);
	free(gi->ancestors);
	ga_gitignore_rules_free(gi->info_exclude);
	ga_gitignore_rules_free(gi->excludes_file);
	git_index_free(gi->index);
	git_repository_free(gi->repo);
	free(gi->prefix);
	pthread_mutex_destroy(&gi->lock);
	free(gi);
}
