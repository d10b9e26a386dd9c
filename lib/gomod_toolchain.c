/* gomod layer: the toolchain identity — what the go command hashes into its action IDs
 * (cmd/go/internal/work buildActionID), read from `go env -json` run in the module directory,
 * plus the C compiler's version line when cgo is on (gccToolID). Cached in the process. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "gomod_internal.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/spawn.h"
#include "util/strarray.h"

extern char **environ;

struct goaccel_toolchain {
	goaccel_toolchain_field *fields; /* sorted by name */
	size_t count;
	char *go_path;
	goaccel_strarray strings;
};

int goaccel_toolchain_options_init(goaccel_toolchain_options *opts, unsigned int version)
{
	GA_INIT_STRUCTURE(opts, version, goaccel_toolchain_options, GOACCEL_TOOLCHAIN_OPTIONS_INIT);
	return 0;
}

void goaccel_toolchain_free(goaccel_toolchain *tc)
{
	if (!tc)
		return;
	free(tc->fields);
	free(tc->go_path);
	goaccel_strarray_dispose(&tc->strings);
	free(tc);
}

size_t goaccel_toolchain_field_count(const goaccel_toolchain *tc) { return tc ? tc->count : 0; }
const char *goaccel_toolchain_go_path(const goaccel_toolchain *tc) { return tc ? tc->go_path : NULL; }

const goaccel_toolchain_field *goaccel_toolchain_field_byindex(const goaccel_toolchain *tc, size_t i)
{
	return tc && i < tc->count ? &tc->fields[i] : NULL;
}

const char *goaccel_toolchain_get(const goaccel_toolchain *tc, const char *name)
{
	size_t i;
	if (!tc || !name)
		return NULL;
	for (i = 0; i < tc->count; i++)
		if (strcmp(tc->fields[i].name, name) == 0)
			return tc->fields[i].value;
	return NULL;
}

static int tc_add(goaccel_toolchain *tc, const char *name, const char *value)
{
	goaccel_toolchain_field *p = realloc(tc->fields, (tc->count + 1) * sizeof(*p));
	if (!p)
		return ga_error_oom();
	tc->fields = p;
	if (ga_strarray_add(&tc->strings, name) < 0 || ga_strarray_add(&tc->strings, value) < 0)
		return GOACCEL_ERROR;
	p[tc->count].name = tc->strings.strings[tc->strings.count - 2];
	p[tc->count].value = tc->strings.strings[tc->strings.count - 1];
	tc->count++;
	return 0;
}

static int cmp_field(const void *a, const void *b)
{
	return strcmp(((const goaccel_toolchain_field *)a)->name, ((const goaccel_toolchain_field *)b)->name);
}

static int tc_copy(goaccel_toolchain **out, const goaccel_toolchain *src)
{
	goaccel_toolchain *tc = calloc(1, sizeof(*tc));
	size_t i;
	*out = NULL;
	if (!tc || !(tc->go_path = strdup(src->go_path))) {
		goaccel_toolchain_free(tc);
		return ga_error_oom();
	}
	for (i = 0; i < src->count; i++)
		if (tc_add(tc, src->fields[i].name, src->fields[i].value) < 0) {
			goaccel_toolchain_free(tc);
			return GOACCEL_ERROR;
		}
	*out = tc;
	return 0;
}

int goaccel_toolchain_digest(goaccel_digest *out, const goaccel_toolchain *tc)
{
	static const char tag[8] = {'g', 'a', 't', 'c', 0, 0, 0, 1};
	ga_buf b = GA_BUF_INIT;
	size_t i;
	int rc = 0;
	GA_ASSERT_ARG(out && tc);
	rc = ga_buf_put(&b, tag, sizeof(tag));
	for (i = 0; rc == 0 && i < tc->count; i++) {
		const goaccel_toolchain_field *f = &tc->fields[i];
		if (ga_buf_put_u64be(&b, strlen(f->name)) < 0 || ga_buf_puts(&b, f->name) < 0 ||
		    ga_buf_put_u64be(&b, strlen(f->value)) < 0 || ga_buf_puts(&b, f->value) < 0)
			rc = GOACCEL_ERROR;
	}
	if (rc == 0)
		rc = goaccel_digest_buffer(out, b.ptr, b.size);
	ga_buf_dispose(&b);
	return rc;
}

int goaccel_toolchain_to_json(char **out, const goaccel_toolchain *tc)
{
	json_t *o;
	size_t i;
	GA_ASSERT_ARG(out && tc);
	*out = NULL;
	if (!(o = json_object()))
		return ga_error_oom();
	for (i = 0; i < tc->count; i++) {
		json_t *v = json_string(tc->fields[i].value);
		if (!v)
			v = json_string("(not UTF-8)");
		if (json_object_set_new(o, tc->fields[i].name, v) < 0) {
			json_decref(o);
			return ga_error_oom();
		}
	}
	*out = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(o);
	return *out ? 0 : ga_error_oom();
}

/* ---- the in-process cache --------------------------------------------------------------------- */

typedef struct ga_tc_entry {
	struct ga_tc_entry *next;
	char *key;
	char *cc_path; /* the C compiler whose version line is cached, re-checked on a hit */
	char *cc_stamp;
	goaccel_toolchain *tc;
} ga_tc_entry;

static pthread_mutex_t tc_lock = PTHREAD_MUTEX_INITIALIZER;
static ga_tc_entry *tc_cache;

static void entry_free(ga_tc_entry *e)
{
	if (!e)
		return;
	free(e->key);
	free(e->cc_path);
	free(e->cc_stamp);
	goaccel_toolchain_free(e->tc);
	free(e);
}

void goaccel_toolchain_cache_clear(void)
{
	ga_tc_entry *e, *next;
	pthread_mutex_lock(&tc_lock);
	e = tc_cache;
	tc_cache = NULL;
	pthread_mutex_unlock(&tc_lock);
	for (; e; e = next) {
		next = e->next;
		entry_free(e);
	}
}

/* path, size, mtime (ns), inode of a file, or "-" when it does not exist. */
static int stamp(ga_buf *b, const char *path)
{
	struct stat st;
	if (!path || stat(path, &st) < 0)
		return ga_buf_puts(b, "-\n");
	return ga_buf_printf(b, "%s %lld %lld.%09ld %llu\n", path, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
	                     st.st_mtim.tv_nsec, (unsigned long long)st.st_ino);
}

static int env_relevant(const char *e)
{
	static const char *const names[] = {"CC=", "CXX=", "FC=", "PATH=", "HOME=", "XDG_CONFIG_HOME=", "AR=",
		"PKG_CONFIG=", "GCCGO=", "LC_ALL=", "LANG="};
	size_t i;
	if (strncmp(e, "GO", 2) == 0 || strncmp(e, "CGO_", 4) == 0)
		return 1;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strncmp(e, names[i], strlen(names[i])) == 0)
			return 1;
	return 0;
}

/* The `go` and `toolchain` lines of a go.mod / go.work (they decide a toolchain switch). The file
 * content's digest stands in when it does not parse. */
static int version_lines(ga_buf *b, const char *path, int work)
{
	goaccel_gomod *m = NULL;
	goaccel_gowork *w = NULL;
	int rc;
	if (!path || !ga_exists(path))
		return ga_buf_puts(b, "-\n");
	rc = work ? goaccel_gowork_parse_file(&w, path) : goaccel_gomod_parse_file(&m, path);
	if (rc < 0) {
		goaccel_digest d;
		char hex[GOACCEL_DIGEST_HEXSIZE + 1];
		goaccel_error_clear();
		if (goaccel_digest_file(&d, path) < 0)
			return ga_buf_puts(b, "?\n");
		goaccel_digest_fmt(hex, &d);
		return ga_buf_printf(b, "%s content %s\n", path, hex);
	}
	rc = ga_buf_printf(b, "%s go=%s toolchain=%s\n", path,
	                   work ? (goaccel_gowork_go_version(w) ? goaccel_gowork_go_version(w) : "")
	                        : (goaccel_gomod_go_version(m) ? goaccel_gomod_go_version(m) : ""),
	                   work ? (goaccel_gowork_toolchain(w) ? goaccel_gowork_toolchain(w) : "")
	                        : (goaccel_gomod_toolchain(m) ? goaccel_gomod_toolchain(m) : ""));
	goaccel_gomod_free(m);
	goaccel_gowork_free(w);
	return rc;
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cache_key(ga_buf *key, const char *go_path, const char *dir, const char *const *envp)
{
	const char *const *e = envp ? envp : (const char *const *)environ;
	const char **rel = NULL;
	size_t n = 0, i, total = 0;
	char *envfile = NULL, *workfile = NULL, *modfile = NULL, *d;
	int rc = 0;
	for (i = 0; e[i]; i++)
		total++;
	if (!(rel = calloc(total + 1, sizeof(*rel))))
		return ga_error_oom();
	for (i = 0; e[i]; i++)
		if (env_relevant(e[i]))
			rel[n++] = e[i];
	qsort(rel, n, sizeof(*rel), cmp_cstr);
	if ((rc = stamp(key, go_path)) < 0 || (rc = ga_buf_printf(key, "dir %s\n", dir)) < 0)
		goto done;
	for (i = 0; i < n; i++)
		if ((rc = ga_buf_puts(key, rel[i])) < 0 || (rc = ga_buf_putc(key, '\n')) < 0)
			goto done;
	envfile = ga_gomod_goenv_file(envp);
	if ((rc = stamp(key, envfile)) < 0)
		goto done;
	if (goaccel_gomod_find_work(&workfile, dir, envp) < 0)
		goaccel_error_clear();
	/* the nearest go.mod upward */
	if (!(d = ga_gomod_abs_clean(NULL, dir))) {
		rc = GOACCEL_ERROR;
		goto done;
	}
	for (;;) {
		char *slash;
		free(modfile);
		modfile = ga_path_join(strcmp(d, "/") == 0 ? "" : d, "go.mod");
		if (!modfile || ga_exists(modfile) || strcmp(d, "/") == 0)
			break;
		slash = strrchr(d, '/');
		if (slash == d)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	free(d);
	if ((rc = version_lines(key, modfile, 0)) < 0 || (rc = version_lines(key, workfile, 1)) < 0)
		goto done;
done:
	free(rel);
	free(envfile);
	free(workfile);
	free(modfile);
	return rc;
}

/* ---- running go env and the C compiler ------------------------------------------------------------ */

/* The first line of `cc -### -x c -c -` that has a "version" field followed by a number — the
 * tool ID Go's gccToolID records. */
static int cc_version(char **out, char **cc_path, const char *cc, const char *dir, const char *const *envp)
{
	const char *const *e = envp ? envp : (const char *const *)environ;
	const char **env2 = NULL;
	char *exe = NULL, *line, *next;
	const char *argv[] = {NULL, "-###", "-x", "c", "-c", "-", NULL};
	ga_buf outb = GA_BUF_INIT, errb = GA_BUF_INIT;
	ga_spawn_opts so;
	size_t n = 0, i;
	int status = 0, rc;
	*out = NULL;
	*cc_path = NULL;
	exe = ga_memdup_str(cc, strcspn(cc, " \t"));
	for (i = 0; e[i]; i++)
		n++;
	if (!exe || !(env2 = calloc(n + 2, sizeof(*env2)))) {
		rc = ga_error_oom();
		goto done;
	}
	for (i = 0, n = 0; e[i]; i++)
		if (strncmp(e[i], "LC_ALL=", 7) != 0)
			env2[n++] = e[i];
	env2[n++] = "LC_ALL=C"; /* untranslated output, as Go forces */
	argv[0] = exe;
	memset(&so, 0, sizeof(so));
	so.argv = argv;
	so.envp = env2;
	so.cwd = dir;
	so.out = &outb;
	so.err = &errb;
	if ((rc = ga_spawn_which(cc_path, exe, envp)) < 0 || (rc = ga_spawn_run(&status, &so)) < 0) {
		/* Go records "CC ID ERROR" and goes on; so do we */
		rc = ga_buf_printf(&errb, "\nerror: %s", goaccel_error_last()->message);
		goaccel_error_clear();
		if (rc == 0)
			*out = strdup("error: C compiler not found");
		rc = *out ? 0 : ga_error_oom();
		goto done;
	}
	if (ga_buf_put(&errb, outb.ptr ? outb.ptr : "", outb.size) < 0) {
		rc = GOACCEL_ERROR;
		goto done;
	}
	for (line = errb.ptr ? errb.ptr : ""; *line && !*out; line = next) {
		char *tok, *save = NULL, *copy;
		int prev_version = 0;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (!(copy = strdup(line))) {
			rc = ga_error_oom();
			goto done;
		}
		for (tok = strtok_r(copy, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
			size_t tl = strlen(tok);
			if (prev_version && tok[0] >= '0' && tok[0] <= '9') {
				*out = strdup(line);
				break;
			}
			if (tl && tok[tl - 1] == ':')
				break;
			prev_version = strcmp(tok, "version") == 0;
		}
		free(copy);
	}
	if (!*out)
		*out = strdup("error: no version line from the C compiler");
	rc = *out ? 0 : ga_error_oom();
done:
	free(exe);
	free(env2);
	ga_buf_dispose(&outb);
	ga_buf_dispose(&errb);
	return rc;
}

static const char *arch_var(const char *goarch)
{
	static const char *const map[][2] = {{"amd64", "GOAMD64"}, {"arm", "GOARM"}, {"arm64", "GOARM64"},
		{"386", "GO386"}, {"mips", "GOMIPS"}, {"mipsle", "GOMIPS"}, {"mips64", "GOMIPS64"},
		{"mips64le", "GOMIPS64"}, {"ppc64", "GOPPC64"}, {"ppc64le", "GOPPC64"}, {"riscv64", "GORISCV64"},
		{"wasm", "GOWASM"}, {"loong64", "GOLOONG64"}};
	size_t i;
	for (i = 0; goarch && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(goarch, map[i][0]) == 0)
			return map[i][1];
	return NULL;
}

static int add_json_field(goaccel_toolchain *tc, json_t *env, const char *name)
{
	const char *v = json_string_value(json_object_get(env, name));
	return v ? tc_add(tc, name, v) : 0;
}

static int build_identity(goaccel_toolchain *tc, json_t *env, const char *dir, const char *const *envp,
                          char **cc_path)
{
	static const char *const always[] = {"GOVERSION", "GOOS", "GOARCH", "GOEXPERIMENT", "GOFIPS140", "GOFLAGS",
		"CGO_ENABLED"};
	static const char *const cgo[] = {"CC", "CXX", "FC", "CGO_CFLAGS", "CGO_CPPFLAGS", "CGO_CXXFLAGS",
		"CGO_FFLAGS", "CGO_LDFLAGS"};
	static const char *const magic[] = {"GOCLOBBERDEADHASH", "GOSSAFUNC", "GOSSADIR", "GOCOMPILEDEBUG"};
	const char *av = arch_var(json_string_value(json_object_get(env, "GOARCH")));
	const char *cgo_on = json_string_value(json_object_get(env, "CGO_ENABLED"));
	size_t i;
	int rc;
	if (!json_string_value(json_object_get(env, "GOVERSION")))
		return ga_error(GOACCEL_EBUILD, GOACCEL_ERROR_GOMOD, "go env -json: no GOVERSION in the output");
	for (i = 0; i < sizeof(always) / sizeof(always[0]); i++)
		if ((rc = add_json_field(tc, env, always[i])) < 0)
			return rc;
	if (av && (rc = add_json_field(tc, env, av)) < 0)
		return rc;
	/* read by the compiler from the process environment, not from go env (buildActionID "magic") */
	for (i = 0; i < sizeof(magic) / sizeof(magic[0]); i++) {
		const char *v = ga_env_get(envp, magic[i]);
		if (v && v[0] && (rc = tc_add(tc, magic[i], v)) < 0)
			return rc;
	}
	if (cgo_on && strcmp(cgo_on, "1") == 0) {
		const char *cc = json_string_value(json_object_get(env, "CC"));
		char *ver = NULL;
		for (i = 0; i < sizeof(cgo) / sizeof(cgo[0]); i++)
			if ((rc = add_json_field(tc, env, cgo[i])) < 0)
				return rc;
		if (cc && cc[0]) {
			if ((rc = cc_version(&ver, cc_path, cc, dir, envp)) < 0)
				return rc;
			rc = tc_add(tc, "CC_VERSION", ver);
			free(ver);
			if (rc < 0)
				return rc;
		}
	}
	qsort(tc->fields, tc->count, sizeof(*tc->fields), cmp_field);
	return 0;
}

static int run_go_env(goaccel_toolchain **out, char **cc_path, const char *go_path, const char *dir,
                      const char *const *envp)
{
	const char *argv[] = {go_path, "env", "-json", NULL};
	ga_buf outb = GA_BUF_INIT, errb = GA_BUF_INIT;
	ga_spawn_opts so;
	json_t *env = NULL;
	json_error_t jerr;
	goaccel_toolchain *tc = NULL;
	int status = 0, rc;
	*out = NULL;
	memset(&so, 0, sizeof(so));
	so.argv = argv;
	so.envp = envp;
	so.cwd = dir;
	so.out = &outb;
	so.err = &errb;
	if ((rc = ga_spawn_run(&status, &so)) < 0)
		goto done;
	if (status != 0) {
		rc = ga_error(GOACCEL_EBUILD, GOACCEL_ERROR_GOMOD, "%s env -json (in %s) exited with %d: %s", go_path, dir,
		              status, errb.ptr ? errb.ptr : "");
		goto done;
	}
	if (!(env = json_loadb(outb.ptr ? outb.ptr : "", outb.size, 0, &jerr)) || !json_is_object(env)) {
		rc = ga_error(GOACCEL_EBUILD, GOACCEL_ERROR_JSON, "%s env -json: unreadable output: %s", go_path,
		              env ? "not an object" : jerr.text);
		goto done;
	}
	if (!(tc = calloc(1, sizeof(*tc))) || !(tc->go_path = strdup(go_path))) {
		rc = ga_error_oom();
		goto done;
	}
	if ((rc = build_identity(tc, env, dir, envp, cc_path)) < 0)
		goto done;
	*out = tc;
	tc = NULL;
done:
	goaccel_toolchain_free(tc);
	json_decref(env);
	ga_buf_dispose(&outb);
	ga_buf_dispose(&errb);
	return rc;
}

static int cc_stamp(char **out, const char *cc_path)
{
	ga_buf b = GA_BUF_INIT;
	*out = NULL;
	if (!cc_path)
		return 0;
	if (stamp(&b, cc_path) < 0) {
		ga_buf_dispose(&b);
		return GOACCEL_ERROR;
	}
	*out = ga_buf_detach(&b);
	return 0;
}

static int cache_lookup(goaccel_toolchain **out, const char *key)
{
	ga_tc_entry *e;
	int rc = GOACCEL_ENOTFOUND;
	pthread_mutex_lock(&tc_lock);
	for (e = tc_cache; e; e = e->next) {
		char *now = NULL;
		if (strcmp(e->key, key) != 0)
			continue;
		if (e->cc_path && (cc_stamp(&now, e->cc_path) < 0 || strcmp(now, e->cc_stamp) != 0)) {
			free(now);
			break; /* the C compiler changed: run again */
		}
		free(now);
		rc = tc_copy(out, e->tc);
		break;
	}
	pthread_mutex_unlock(&tc_lock);
	return rc;
}

static void cache_store(const char *key, const goaccel_toolchain *tc, const char *cc_path)
{
	ga_tc_entry *e = calloc(1, sizeof(*e)), **pp;
	if (!e || !(e->key = strdup(key)) || tc_copy(&e->tc, tc) < 0 ||
	    (cc_path && (!(e->cc_path = strdup(cc_path)) || cc_stamp(&e->cc_stamp, cc_path) < 0))) {
		entry_free(e);
		goaccel_error_clear(); /* caching is best effort */
		return;
	}
	pthread_mutex_lock(&tc_lock);
	for (pp = &tc_cache; *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->key, key) == 0) { /* replace a stale entry */
			ga_tc_entry *old = *pp;
			e->next = old->next;
			*pp = e;
			pthread_mutex_unlock(&tc_lock);
			entry_free(old);
			return;
		}
	}
	e->next = tc_cache;
	tc_cache = e;
	pthread_mutex_unlock(&tc_lock);
}

int goaccel_go_toolchain(goaccel_toolchain **out, const char *module_dir, const char *const *envp,
                         const goaccel_toolchain_options *opts)
{
	char *go_path = NULL, *dir = NULL, *cc_path = NULL;
	ga_buf key = GA_BUF_INIT;
	int rc;
	GA_ASSERT_ARG(out);
	GA_CHECK_VERSION(opts, GOACCEL_TOOLCHAIN_OPTIONS_VERSION, "goaccel_toolchain_options");
	*out = NULL;
	if ((rc = ga_spawn_which(&go_path, opts && opts->go ? opts->go : "go", envp)) < 0)
		goto done;
	if (!(dir = ga_gomod_abs_clean(NULL, module_dir ? module_dir : "."))) {
		rc = GOACCEL_ERROR;
		goto done;
	}
	if ((rc = cache_key(&key, go_path, dir, envp)) < 0)
		goto done;
	if (!(opts && opts->no_cache) && (rc = cache_lookup(out, key.ptr)) != GOACCEL_ENOTFOUND)
		goto done;
	if ((rc = run_go_env(out, &cc_path, go_path, dir, envp)) < 0)
		goto done;
	cache_store(key.ptr, *out, cc_path);
done:
	free(go_path);
	free(dir);
	free(cc_path);
	ga_buf_dispose(&key);
	return rc;
}
