/* gomod layer: Go's "h1:" hashes (golang.org/x/mod/sumdb/dirhash Hash1, HashDir, HashZip) and
 * go.sum verification of a module cache (what `go mod verify` checks). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/dl_archive.h"
#include <openssl/evp.h>

#include "gomod_internal.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/strarray.h"

/* ---- Hash1 ------------------------------------------------------------------------------------ */

typedef struct {
	char *name;
	goaccel_digest digest;
	size_t index; /* order of appearance (zip duplicates) */
} ga_h1_file;

typedef struct {
	ga_h1_file *files;
	size_t count, cap;
} ga_h1_list;

static void h1_list_dispose(ga_h1_list *l)
{
	size_t i;
	for (i = 0; i < l->count; i++)
		free(l->files[i].name);
	free(l->files);
	memset(l, 0, sizeof(*l));
}

static int h1_list_add(ga_h1_list *l, const char *prefix, const char *name, const goaccel_digest *d)
{
	ga_h1_file *f;
	ga_buf b = GA_BUF_INIT;
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		ga_h1_file *p = realloc(l->files, cap * sizeof(*p));
		if (!p)
			return ga_error_oom();
		l->files = p;
		l->cap = cap;
	}
	if ((prefix && (ga_buf_puts(&b, prefix) < 0 || ga_buf_putc(&b, '/') < 0)) || ga_buf_puts(&b, name) < 0) {
		ga_buf_dispose(&b);
		return GOACCEL_ERROR;
	}
	if (strchr(b.ptr, '\n')) {
		ga_buf_dispose(&b);
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_GOMOD,
		                "dirhash: filenames with newlines are not supported: %s", name);
	}
	f = &l->files[l->count];
	f->name = ga_buf_detach(&b);
	f->digest = *d;
	f->index = l->count++;
	return 0;
}

static int cmp_h1_file(const void *a, const void *b)
{
	const ga_h1_file *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Hash1 over the (name, content digest) list: sorted by name; "hex  name\n" lines; base64. */
static int h1_finish(char **out, ga_h1_list *l)
{
	goaccel_digest_ctx *ctx = NULL;
	goaccel_digest sum;
	unsigned char b64[64];
	size_t i;
	int rc;
	qsort(l->files, l->count, sizeof(*l->files), cmp_h1_file);
	/* Go's HashZip maps each name to its last zip entry: duplicates all read that content */
	for (i = l->count; i-- > 1;)
		if (strcmp(l->files[i - 1].name, l->files[i].name) == 0)
			l->files[i - 1].digest = l->files[i].digest;
	if ((rc = goaccel_digest_ctx_new(&ctx)) < 0)
		goto done;
	for (i = 0; i < l->count; i++) {
		char hex[GOACCEL_DIGEST_HEXSIZE + 1];
		goaccel_digest_fmt(hex, &l->files[i].digest);
		if ((rc = goaccel_digest_ctx_update(ctx, hex, GOACCEL_DIGEST_HEXSIZE)) < 0 ||
		    (rc = goaccel_digest_ctx_update(ctx, "  ", 2)) < 0 ||
		    (rc = goaccel_digest_ctx_update(ctx, l->files[i].name, strlen(l->files[i].name))) < 0 ||
		    (rc = goaccel_digest_ctx_update(ctx, "\n", 1)) < 0)
			goto done;
	}
	if ((rc = goaccel_digest_ctx_finish(&sum, ctx)) < 0)
		goto done;
	EVP_EncodeBlock(b64, sum.id, GOACCEL_DIGEST_SIZE);
	if (!(*out = malloc(3 + strlen((char *)b64) + 1))) {
		rc = ga_error_oom();
		goto done;
	}
	sprintf(*out, "h1:%s", (char *)b64);
done:
	goaccel_digest_ctx_free(ctx);
	return rc;
}

/* ---- HashDir ---------------------------------------------------------------------------------- */

/* filepath.Walk: directories are descended (never through a symlink); everything else is a
 * file whose content is read with open(2), following a symlink as Go's os.Open does. */
static int h1_walk(ga_h1_list *l, const char *prefix, const char *abs, const char *rel)
{
	DIR *d = NULL;
	struct dirent *de;
	int rc = 0;
	if (!(d = opendir(abs)))
		return ga_error_os(0, errno, "%s: cannot read directory", abs);
	for (;;) {
		char *child = NULL, *crel = NULL;
		struct stat st;
		errno = 0;
		if (!(de = readdir(d))) {
			if (errno)
				rc = ga_error_os(0, errno, "%s: cannot read directory", abs);
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		child = ga_path_join(abs, de->d_name);
		crel = rel[0] ? ga_path_join(rel, de->d_name) : strdup(de->d_name);
		if (!child || !crel) {
			rc = ga_error_oom();
		} else if (lstat(child, &st) < 0) {
			rc = ga_error_os(0, errno, "%s: cannot stat", child);
		} else if (S_ISDIR(st.st_mode)) {
			rc = h1_walk(l, prefix, child, crel);
		} else {
			goaccel_digest dg;
			if ((rc = goaccel_digest_file(&dg, child)) == 0)
				rc = h1_list_add(l, prefix, crel, &dg);
		}
		free(child);
		free(crel);
		if (rc < 0)
			break;
	}
	closedir(d);
	return rc;
}

int goaccel_h1_dir(char **out, const char *dir, const char *module_path, const char *version)
{
	ga_h1_list l = {0};
	ga_buf prefix = GA_BUF_INIT;
	struct stat st;
	int rc;
	GA_ASSERT_ARG(out && dir && module_path && version);
	*out = NULL;
	if (stat(dir, &st) < 0)
		return ga_error_os(0, errno, "%s", dir);
	if (!S_ISDIR(st.st_mode))
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_GOMOD, "%s: not a directory", dir);
	if ((rc = ga_buf_printf(&prefix, "%s@%s", module_path, version)) < 0 ||
	    (rc = h1_walk(&l, prefix.ptr, dir, "")) < 0 || (rc = h1_finish(out, &l)) < 0)
		goto done;
done:
	h1_list_dispose(&l);
	ga_buf_dispose(&prefix);
	return rc;
}

/* ---- HashZip ---------------------------------------------------------------------------------- */

static int archive_err(int code, struct archive *a, const char *path)
{
	return ga_error(code, GOACCEL_ERROR_ARCHIVE, "%s: %s", path,
	                archive_error_string(a) ? archive_error_string(a) : "cannot read archive");
}

static int digest_entry(goaccel_digest *out, struct archive *a, const char *path)
{
	goaccel_digest_ctx *ctx = NULL;
	char buf[65536];
	la_ssize_t n;
	int rc;
	if ((rc = goaccel_digest_ctx_new(&ctx)) < 0)
		return rc;
	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
		if ((rc = goaccel_digest_ctx_update(ctx, buf, (size_t)n)) < 0)
			goto done;
	if (n < 0) {
		rc = archive_err(GOACCEL_ECORRUPT, a, path);
		goto done;
	}
	rc = goaccel_digest_ctx_finish(out, ctx);
done:
	goaccel_digest_ctx_free(ctx);
	return rc;
}

int goaccel_h1_zip(char **out, const char *zip_path)
{
	struct archive *a = NULL;
	struct archive_entry *e;
	ga_h1_list l = {0};
	int rc = 0, r;
	GA_ASSERT_ARG(out && zip_path);
	*out = NULL;
	if (!ga_exists(zip_path))
		return ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_GOMOD, "%s: no such file", zip_path);
	if ((rc = ga_archive_load()) < 0)
		return rc;
	if (!(a = archive_read_new()))
		return ga_error_oom();
	archive_read_support_format_zip(a);
	if (archive_read_open_filename(a, zip_path, 65536) != ARCHIVE_OK) {
		rc = archive_err(GOACCEL_ECORRUPT, a, zip_path);
		goto done;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *name = archive_entry_pathname(e);
		goaccel_digest dg;
		ga_buf nm = GA_BUF_INIT;
		if (!name)
			name = archive_entry_pathname_utf8(e);
		if (!name) {
			rc = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_ARCHIVE, "%s: an entry has no readable name", zip_path);
			goto done;
		}
		if ((rc = digest_entry(&dg, a, zip_path)) < 0)
			goto done;
		/* a directory entry is named "dir/" in the zip, as Go sees it */
		if ((rc = ga_buf_puts(&nm, name)) < 0 ||
		    (archive_entry_filetype(e) == AE_IFDIR && (nm.size == 0 || nm.ptr[nm.size - 1] != '/') &&
		     (rc = ga_buf_putc(&nm, '/')) < 0)) {
			ga_buf_dispose(&nm);
			goto done;
		}
		rc = h1_list_add(&l, NULL, nm.ptr, &dg);
		ga_buf_dispose(&nm);
		if (rc < 0)
			goto done;
	}
	if (r != ARCHIVE_EOF) {
		rc = archive_err(GOACCEL_ECORRUPT, a, zip_path);
		goto done;
	}
	rc = h1_finish(out, &l);
done:
	archive_read_free(a);
	h1_list_dispose(&l);
	return rc;
}

/* ---- go.mod ----------------------------------------------------------------------------------- */

int goaccel_h1_gomod_buffer(char **out, const void *data, size_t len)
{
	ga_h1_list l = {0};
	goaccel_digest dg;
	int rc;
	GA_ASSERT_ARG(out && (data || len == 0));
	*out = NULL;
	if ((rc = goaccel_digest_buffer(&dg, data ? data : "", len)) < 0 ||
	    (rc = h1_list_add(&l, NULL, "go.mod", &dg)) < 0)
		goto done;
	rc = h1_finish(out, &l);
done:
	h1_list_dispose(&l);
	return rc;
}

int goaccel_h1_gomod(char **out, const char *gomod_path)
{
	ga_h1_list l = {0};
	goaccel_digest dg;
	int rc;
	GA_ASSERT_ARG(out && gomod_path);
	*out = NULL;
	if ((rc = goaccel_digest_file(&dg, gomod_path)) < 0 || (rc = h1_list_add(&l, NULL, "go.mod", &dg)) < 0)
		goto done;
	rc = h1_finish(out, &l);
done:
	h1_list_dispose(&l);
	return rc;
}

/* ---- go.sum verification ------------------------------------------------------------------------ */

struct goaccel_gosum_report {
	goaccel_gosum_problem *problems;
	size_t count, cap, checked;
	goaccel_strarray strings;
};

int goaccel_gosum_options_init(goaccel_gosum_options *opts, unsigned int version)
{
	GA_INIT_STRUCTURE(opts, version, goaccel_gosum_options, GOACCEL_GOSUM_OPTIONS_INIT);
	return 0;
}

void goaccel_gosum_report_free(goaccel_gosum_report *r)
{
	if (!r)
		return;
	free(r->problems);
	goaccel_strarray_dispose(&r->strings);
	free(r);
}

size_t goaccel_gosum_report_checked(const goaccel_gosum_report *r) { return r ? r->checked : 0; }
size_t goaccel_gosum_report_problem_count(const goaccel_gosum_report *r) { return r ? r->count : 0; }

const goaccel_gosum_problem *goaccel_gosum_report_problem_byindex(const goaccel_gosum_report *r, size_t i)
{
	return r && i < r->count ? &r->problems[i] : NULL;
}

static const char *report_keep(goaccel_gosum_report *r, const char *s)
{
	if (!s)
		return NULL;
	return ga_strarray_add(&r->strings, s) < 0 ? NULL : r->strings.strings[r->strings.count - 1];
}

static int report_add(goaccel_gosum_report *r, goaccel_gosum_problem_kind kind, goaccel_gosum_object object,
                      const char *mod, const char *ver, const char *expected, const char *actual,
                      const char *path, const char *detail)
{
	goaccel_gosum_problem *p;
	if (r->count == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;
		goaccel_gosum_problem *n = realloc(r->problems, cap * sizeof(*n));
		if (!n)
			return ga_error_oom();
		r->problems = n;
		r->cap = cap;
	}
	p = &r->problems[r->count];
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->object = object;
	if (!(p->module_path = report_keep(r, mod)) || !(p->version = report_keep(r, ver)) ||
	    !(p->expected = report_keep(r, expected)) || (actual && !(p->actual = report_keep(r, actual))) ||
	    !(p->path = report_keep(r, path)) || !(p->detail = report_keep(r, detail)))
		return GOACCEL_ERROR;
	r->count++;
	return 0;
}

/* A go.sum path or version must stay inside the module cache: no empty, "." or ".." elements,
 * no absolute path, no backslash or NUL. */
static int safe_cache_name(const char *s, int allow_slash)
{
	const char *p = s;
	if (!*s || *s == '/')
		return 0;
	for (;;) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (memchr(p, '\\', n))
			return 0;
		if (!p[n])
			return 1;
		if (!allow_slash)
			return 0;
		p += n + 1;
	}
}

typedef struct {
	goaccel_gosum_report *report;
	const char *modcache;
	const goaccel_gosum_options *opts;
} ga_verify;

/* Computes one hash and compares it; records a problem when it differs or cannot be read. */
static int verify_one(ga_verify *v, goaccel_gosum_object obj, const char *mod, const char *ver,
                      const char *expected, const char *path)
{
	char *actual = NULL, detail[1024];
	int rc;
	if (obj == GOACCEL_GOSUM_DIR)
		rc = goaccel_h1_dir(&actual, path, mod, ver);
	else if (obj == GOACCEL_GOSUM_ZIP)
		rc = goaccel_h1_zip(&actual, path);
	else
		rc = goaccel_h1_gomod(&actual, path);
	if (rc < 0) {
		if (rc == GOACCEL_ERROR && goaccel_error_last()->klass == GOACCEL_ERROR_NOMEMORY)
			return rc;
		snprintf(detail, sizeof(detail), "%s %s: cannot hash %s: %s", mod, ver, path, goaccel_error_last()->message);
		return report_add(v->report, GOACCEL_GOSUM_UNREADABLE, obj, mod, ver, expected, NULL, path, detail);
	}
	if (strcmp(actual, expected) != 0) {
		snprintf(detail, sizeof(detail), "%s %s: %s has been modified: go.sum has %s, found %s", mod, ver,
		         obj == GOACCEL_GOSUM_DIR ? "dir" : obj == GOACCEL_GOSUM_ZIP ? "zip" : "go.mod", expected, actual);
		rc = report_add(v->report, GOACCEL_GOSUM_MISMATCH, obj, mod, ver, expected, actual, path, detail);
	}
	free(actual);
	return rc;
}

static int verify_line(ga_verify *v, const char *mod, const char *ver, const char *hash)
{
	ga_buf emod = GA_BUF_INIT, ever = GA_BUF_INIT, dir = GA_BUF_INIT, dl = GA_BUF_INIT;
	size_t vl = strlen(ver);
	int gomod = vl > 7 && strcmp(ver + vl - 7, "/go.mod") == 0, rc;
	char detail[1024];
	ga_buf bare = GA_BUF_INIT;
	if ((rc = ga_buf_put(&bare, ver, gomod ? vl - 7 : vl)) < 0 || (rc = ga_gomod_escape(&emod, mod)) != 0 ||
	    (rc = ga_gomod_escape(&ever, bare.ptr)) != 0) {
		if (rc > 0)
			rc = ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_GOMOD, "%s %s: invalid module path or version ('!')", mod, ver);
		goto done;
	}
	v->report->checked++;
	if ((rc = ga_buf_printf(&dl, "%s/cache/download/%s/@v/%s", v->modcache, emod.ptr, ever.ptr)) < 0)
		goto done;
	if (gomod) {
		if ((rc = ga_buf_puts(&dl, ".mod")) < 0)
			goto done;
		if (ga_exists(dl.ptr)) {
			rc = verify_one(v, GOACCEL_GOSUM_GOMOD, mod, bare.ptr, hash, dl.ptr);
		} else if (!v->opts->ignore_missing_gomod && !v->opts->ignore_missing) {
			snprintf(detail, sizeof(detail), "%s %s: missing go.mod %s", mod, bare.ptr, dl.ptr);
			rc = report_add(v->report, GOACCEL_GOSUM_MISSING, GOACCEL_GOSUM_GOMOD, mod, bare.ptr, hash, NULL, dl.ptr, detail);
		}
		goto done;
	}
	if ((rc = ga_buf_printf(&dir, "%s/%s@%s", v->modcache, emod.ptr, ever.ptr)) < 0 || (rc = ga_buf_puts(&dl, ".zip")) < 0)
		goto done;
	if (ga_exists(dir.ptr) && (rc = verify_one(v, GOACCEL_GOSUM_DIR, mod, ver, hash, dir.ptr)) < 0)
		goto done;
	if (ga_exists(dl.ptr) && (rc = verify_one(v, GOACCEL_GOSUM_ZIP, mod, ver, hash, dl.ptr)) < 0)
		goto done;
	if (!ga_exists(dir.ptr) && !ga_exists(dl.ptr) && !v->opts->ignore_missing) {
		snprintf(detail, sizeof(detail), "%s %s: missing: neither %s nor %s exists", mod, ver, dir.ptr, dl.ptr);
		rc = report_add(v->report, GOACCEL_GOSUM_MISSING, GOACCEL_GOSUM_DIR, mod, ver, hash, NULL, dir.ptr, detail);
	}
done:
	ga_buf_dispose(&emod);
	ga_buf_dispose(&ever);
	ga_buf_dispose(&dir);
	ga_buf_dispose(&dl);
	ga_buf_dispose(&bare);
	return rc;
}

/* Splits a go.sum line into whitespace-separated fields (strings.Fields, ASCII spaces). */
static size_t split_fields(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *p = line;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\v' || *p == '\f')
			*p++ = '\0';
		if (!*p)
			return n;
		if (n < max)
			f[n] = p;
		n++;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\v' && *p != '\f')
			p++;
	}
}

int goaccel_gosum_verify(goaccel_gosum_report **out, const char *modcache, const char *gosum,
                         const goaccel_gosum_options *opts)
{
	goaccel_gosum_options defaults = GOACCEL_GOSUM_OPTIONS_INIT;
	goaccel_gosum_report *r = NULL;
	ga_buf data = GA_BUF_INIT;
	ga_verify v;
	struct stat st;
	char *line, *next;
	unsigned lineno = 0;
	int rc;
	GA_ASSERT_ARG(modcache && gosum);
	GA_CHECK_VERSION(opts, GOACCEL_GOSUM_OPTIONS_VERSION, "goaccel_gosum_options");
	if (out)
		*out = NULL;
	if (stat(modcache, &st) < 0 || !S_ISDIR(st.st_mode))
		return ga_error(GOACCEL_ENOTFOUND, GOACCEL_ERROR_GOMOD, "%s: module cache not found", modcache);
	if ((rc = ga_read_file(&data, gosum, 0)) < 0)
		goto done;
	if (!(r = calloc(1, sizeof(*r)))) {
		rc = ga_error_oom();
		goto done;
	}
	v.report = r;
	v.modcache = modcache;
	v.opts = opts ? opts : &defaults;
	for (line = data.ptr ? data.ptr : ""; *line; line = next) {
		char *f[3];
		size_t n;
		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		n = split_fields(line, f, 3);
		if (n == 0)
			continue;
		if (n != 3) {
			rc = ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_GOMOD, "%s:%u: malformed go.sum: wrong number of fields %zu",
			              gosum, lineno, n);
			goto done;
		}
		{
			size_t vl = strlen(f[1]);
			int gm = vl > 7 && strcmp(f[1] + vl - 7, "/go.mod") == 0;
			char save = 0;
			if (gm) {
				save = f[1][vl - 7];
				f[1][vl - 7] = '\0';
			}
			if (!safe_cache_name(f[0], 1) || !safe_cache_name(f[1], 0) || f[0][0] == '-') {
				rc = ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_GOMOD, "%s:%u: malformed go.sum: invalid module path or version",
				              gosum, lineno);
				goto done;
			}
			if (gm)
				f[1][vl - 7] = save;
		}
		if (strncmp(f[2], "h1:", 3) != 0)
			continue; /* Go only knows h1 */
		if ((rc = verify_line(&v, f[0], f[1], f[2])) < 0)
			goto done;
	}
	if (r->count) {
		rc = ga_error(GOACCEL_EMISMATCH, GOACCEL_ERROR_GOMOD, "%s: %zu problem(s); first: %s", gosum, r->count,
		              r->problems[0].detail);
	}
	if (out) {
		*out = r;
		r = NULL;
	}
done:
	goaccel_gosum_report_free(r);
	ga_buf_dispose(&data);
	return rc;
}
