/* gomod layer: go.mod/go.work parsing, input roots, the build-input selection (checked against
 * `go list`), Go's h1: hashes (real go.sum lines, Go's own test data, `go mod download -json`
 * on a local file:// GOPROXY), go.sum verification and the toolchain identity (real `go`). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "testutil.h"
#include "util/strarray.h"

#define GO_TXTAR_QUOTE "/usr/local/go/src/cmd/go/testdata/mod/rsc.io_quote_v1.5.1.txt"

/* ---- helpers ---------------------------------------------------------------------------------- */

/* Writes the files of a txtar archive (text) under dir. Names starting with "." (txtar's .mod and
 * .info of Go's module test data) are written only when keep_dot. Returns the file count. */
static int write_txtar(const char *dir, const char *text, int keep_dot)
{
	const char *p = strstr(text, "-- ");
	int n = 0;
	while (p) {
		const char *name = p + 3, *name_end = strstr(name, " --\n"), *body, *next;
		char *nm, *content;
		if (!name_end)
			break;
		body = name_end + 4;
		if (strncmp(body, "-- ", 3) == 0) {
			next = body; /* an empty member */
		} else {
			next = strstr(body, "\n-- ");
			next = next ? next + 1 : NULL;
		}
		nm = strndup(name, (size_t)(name_end - name));
		content = strndup(body, next ? (size_t)(next - body) : strlen(body));
		if (keep_dot || nm[0] != '.') {
			tu_write(dir, nm, content);
			n++;
		}
		free(nm);
		free(content);
		p = next;
	}
	return n;
}

/* The content of one txtar member, or NULL. malloc'd. */
static char *txtar_member(const char *text, const char *member)
{
	char marker[256];
	const char *p, *end;
	snprintf(marker, sizeof(marker), "-- %s --\n", member);
	if (!(p = strstr(text, marker)))
		return NULL;
	p += strlen(marker);
	end = strstr(p, "\n-- ");
	return strndup(p, end ? (size_t)(end - p + 1) : strlen(p));
}

static char *join_list(const goaccel_strarray *a)
{
	size_t i, len = 1;
	char *s;
	for (i = 0; i < a->count; i++)
		len += strlen(a->strings[i]) + 1;
	s = calloc(1, len);
	for (i = 0; i < a->count; i++) {
		strcat(s, a->strings[i]);
		strcat(s, "\n");
	}
	return s;
}

static void expect_list(const goaccel_strarray *a, const char *want)
{
	char *got = join_list(a);
	if (strcmp(got, want) != 0)
		fail_msg("selection differs\n--- got ---\n%s--- want ---\n%s", got, want);
	free(got);
}

/* An environment for the go command that cannot reach the network. extra ("K=V") overrides a
 * default of the same name. */
static char **hermetic_env(const char *tmp, const char *proxy_dir, const char *extra)
{
	char **env = calloc(16, sizeof(char *));
	int n = 0, i;
	const char *path = getenv("PATH"), *home = getenv("HOME");
	asprintf(&env[n++], "PATH=%s", path ? path : "/usr/local/go/bin:/usr/bin:/bin");
	asprintf(&env[n++], "HOME=%s", home ? home : tmp);
	asprintf(&env[n++], "GOPROXY=%s%s", proxy_dir ? "file://" : "off", proxy_dir ? proxy_dir : "");
	env[n++] = strdup("GOSUMDB=off");
	env[n++] = strdup("GOFLAGS=-mod=mod");
	env[n++] = strdup("GOTOOLCHAIN=local");
	asprintf(&env[n++], "GOMODCACHE=%s/modcache", tmp);
	asprintf(&env[n++], "GOCACHE=%s/gocache", tmp);
	env[n++] = strdup("GOENV=off");
	if (extra) {
		size_t klen = strcspn(extra, "=") + 1;
		for (i = 0; i < n; i++)
			if (strncmp(env[i], extra, klen) == 0)
				break;
		if (i < n)
			free(env[i]);
		else
			n++;
		env[i] = strdup(extra);
	}
	return env;
}

static void free_env(char **env)
{
	int i;
	for (i = 0; env[i]; i++)
		free(env[i]);
	free(env);
}

/* "K=V K=V" shell prefix from an env array. */
static char *env_prefix(char **env)
{
	size_t len = 8;
	int i;
	char *s;
	for (i = 0; env[i]; i++)
		len += strlen(env[i]) + 4;
	s = calloc(1, len + 8);
	strcpy(s, "env -i ");
	for (i = 0; env[i]; i++) {
		strcat(s, "'");
		strcat(s, env[i]);
		strcat(s, "' ");
	}
	return s;
}

/* ---- parsers ---------------------------------------------------------------------------------- */

static const char FULL_GOMOD[] =
	"// leading comment\n"
	"module example.com/app\n"
	"\n"
	"go 1.22.1\n"
	"toolchain go1.22.3\n"
	"godebug panicnil=1\n"
	"godebug (\n"
	"\tasynctimerchan=0\n"
	")\n"
	"require (\n"
	"\texample.com/a v1.2.3\n"
	"\texample.com/b/v2 v2.0.0 // indirect\n"
	"\t\"example.com/quoted\" v0.1\n"
	")\n"
	"require gopkg.in/yaml.v3 v3.0.1\n"
	"exclude example.com/a v1.2.2\n"
	"replace example.com/a => ../a\n"
	"replace example.com/b/v2 v2.0.0 => example.com/fork/v2 v2.0.1\n"
	"replace (\n"
	"\texample.com/c => /abs/c\n"
	")\n"
	"// broke the API\n"
	"retract v1.0.0\n"
	"retract [v1.1.0, v1.1.9] // too slow\n"
	"tool example.com/tool\n"
	"ignore ./node_modules\n";

static void test_gomod__parse_every_directive(void **state)
{
	goaccel_gomod *m;
	const goaccel_gomod_module *r;
	const goaccel_gomod_replace *rp;
	const goaccel_gomod_retract *rt;
	(void)state;
	GA_OK(goaccel_gomod_parse(&m, "x/go.mod", FULL_GOMOD, strlen(FULL_GOMOD)));
	assert_string_equal(goaccel_gomod_module_path(m), "example.com/app");
	assert_string_equal(goaccel_gomod_go_version(m), "1.22.1");
	assert_string_equal(goaccel_gomod_toolchain(m), "go1.22.3");
	assert_int_equal(goaccel_gomod_godebug_count(m), 2);
	assert_string_equal(goaccel_gomod_godebug_byindex(m, 1)->key, "asynctimerchan");
	assert_string_equal(goaccel_gomod_godebug_byindex(m, 1)->value, "0");
	assert_int_equal(goaccel_gomod_require_count(m), 4);
	r = goaccel_gomod_require_byindex(m, 1);
	assert_string_equal(r->path, "example.com/b/v2");
	assert_int_equal(r->indirect, 1);
	assert_int_equal(r->line, 12);
	assert_int_equal(goaccel_gomod_require_byindex(m, 0)->indirect, 0);
	r = goaccel_gomod_require_byindex(m, 2);
	assert_string_equal(r->path, "example.com/quoted");
	assert_string_equal(r->version, "v0.1.0"); /* canonical, as Go stores it */
	assert_string_equal(goaccel_gomod_require_byindex(m, 3)->path, "gopkg.in/yaml.v3");
	assert_null(goaccel_gomod_require_byindex(m, 4));
	assert_int_equal(goaccel_gomod_exclude_count(m), 1);
	assert_string_equal(goaccel_gomod_exclude_byindex(m, 0)->version, "v1.2.2");
	assert_int_equal(goaccel_gomod_replace_count(m), 3);
	rp = goaccel_gomod_replace_byindex(m, 0);
	assert_true(rp->is_dir);
	assert_null(rp->old_version);
	assert_string_equal(rp->new_path, "../a");
	assert_null(rp->new_version);
	rp = goaccel_gomod_replace_byindex(m, 1);
	assert_false(rp->is_dir);
	assert_string_equal(rp->old_version, "v2.0.0");
	assert_string_equal(rp->new_path, "example.com/fork/v2");
	assert_string_equal(rp->new_version, "v2.0.1");
	assert_true(goaccel_gomod_replace_byindex(m, 2)->is_dir);
	assert_int_equal(goaccel_gomod_retract_count(m), 2);
	rt = goaccel_gomod_retract_byindex(m, 0);
	assert_string_equal(rt->low, "v1.0.0");
	assert_string_equal(rt->high, "v1.0.0");
	assert_string_equal(rt->rationale, "broke the API");
	rt = goaccel_gomod_retract_byindex(m, 1);
	assert_string_equal(rt->low, "v1.1.0");
	assert_string_equal(rt->high, "v1.1.9");
	assert_string_equal(rt->rationale, "too slow");
	goaccel_gomod_free(m);
	goaccel_gomod_free(NULL);
}

/* Malformed input names the file and the line; each of these is rejected by Go too. */
static void test_gomod__errors_name_file_and_line(void **state)
{
	static const struct {
		const char *text;
		const char *where;
		const char *what;
	} cases[] = {
		{"module a\nfoo bar\n", "bad/go.mod:2:", "unknown directive: foo"},
		{"module a\n\nrequire example.com/x 1.2.3\n", "bad/go.mod:3:", "must be of the form v1.2.3"},
		{"module a\ngo 1.22\ngo 1.23\n", "bad/go.mod:3:", "repeated go statement"},
		{"module a\ngo one\n", "bad/go.mod:2:", "invalid go version"},
		{"module a\nrequire (\n\texample.com/x v1.0.0\n", "bad/go.mod:", "unterminated block"},
		{"module a\nreplace example.com/x => example.com/y\n", "bad/go.mod:2:", "must be directory path"},
		{"module a\nreplace example.com/x => ../y v1.0.0\n", "bad/go.mod:2:", "cannot have version"},
		{"module a\nrequire example.com/x/v2 v1.0.0\n", "bad/go.mod:2:", "major version"},
		{"module \"a\n", "bad/go.mod:1:", "newline in string"},
		{"module a /* no */\n", "bad/go.mod:1:", "// comments"},
		{"module a\nmodule b\n", "bad/go.mod:2:", "repeated module"},
		{"module a\ntoolchain 1.22\n", "bad/go.mod:2:", "invalid toolchain"},
		{"module a\ngodebug x\n", "bad/go.mod:2:", "usage: godebug"},
		{"module a\ngo (\n1.22\n)\n", "bad/go.mod:3:", "unknown block type"},
		{"module a\nretract [v1.0.0 v1.1.0]\n", "bad/go.mod:2:", "expected ','"},
		{"module 'a'\n", "bad/go.mod:1:", "cannot contain quote"},
		{"module a\nrequire example.com/x v1.0.0 extra\n", "bad/go.mod:2:", "usage: require"},
	};
	size_t i;
	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		goaccel_gomod *m = (goaccel_gomod *)1;
		const char *msg;
		int rc = goaccel_gomod_parse(&m, "bad/go.mod", cases[i].text, strlen(cases[i].text));
		if (rc != GOACCEL_EINVALID)
			fail_msg("case %zu accepted (%d): %s", i, rc, cases[i].text);
		assert_null(m);
		msg = goaccel_error_last()->message;
		if (!strstr(msg, cases[i].where) || !strstr(msg, cases[i].what))
			fail_msg("case %zu: message '%s' lacks '%s' / '%s'", i, msg, cases[i].where, cases[i].what);
	}
	/* the same inputs, through the go command: it refuses them too (checked once, on a sample) */
}

/* Our parser agrees with the go command on what is malformed: a sample of the cases above run
 * through `go mod edit -json`. */
static void test_gomod__go_agrees_on_malformed(void **state)
{
	static const char *bad[] = {"module a\nfoo bar\n", "module a\nrequire example.com/x 1.2.3\n",
		"module a\ngo 1.22\ngo 1.23\n", "module a\nreplace example.com/x => example.com/y\n"};
	static const char *good[] = {"module a\n", FULL_GOMOD};
	char *dir = tu_tempdir("ga-gomod-go");
	size_t i;
	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]) + 2; i++) {
		const char *text = i < 4 ? bad[i] : good[i - 4];
		goaccel_gomod *m = NULL;
		int ours, gos;
		tu_write(dir, "go.mod", text);
		ours = goaccel_gomod_parse(&m, "go.mod", text, strlen(text));
		gos = tu_sh("cd %s && GOTOOLCHAIN=local GOFLAGS= GOPROXY=off go mod edit -json >/dev/null 2>&1", dir);
		if ((ours == 0) != (gos == 0))
			fail_msg("disagree on %s: ours %d, go %d", text, ours, gos);
		goaccel_gomod_free(m);
	}
	tu_rmtree(dir);
	free(dir);
}

static void test_gomod__parse_gowork(void **state)
{
	static const char text[] = "go 1.22\n\nuse (\n\t./app\n\t\"./with space\"\n)\nuse ../lib // shared\n"
	                           "replace example.com/x v1.0.0 => ./x\ngodebug default=go1.21\n";
	goaccel_gowork *w;
	(void)state;
	GA_OK(goaccel_gowork_parse(&w, NULL, text, strlen(text)));
	assert_string_equal(goaccel_gowork_go_version(w), "1.22");
	assert_null(goaccel_gowork_toolchain(w));
	assert_int_equal(goaccel_gowork_use_count(w), 3);
	assert_string_equal(goaccel_gowork_use_byindex(w, 0), "./app");
	assert_string_equal(goaccel_gowork_use_byindex(w, 1), "./with space");
	assert_string_equal(goaccel_gowork_use_byindex(w, 2), "../lib");
	assert_null(goaccel_gowork_use_byindex(w, 3));
	assert_int_equal(goaccel_gowork_replace_count(w), 1);
	assert_true(goaccel_gowork_replace_byindex(w, 0)->is_dir);
	assert_int_equal(goaccel_gowork_godebug_count(w), 1);
	goaccel_gowork_free(w);
	assert_int_equal(goaccel_gowork_parse(&w, NULL, "go 1.22\nrequire x v1.0.0\n", 25), GOACCEL_EINVALID);
	assert_non_null(strstr(goaccel_error_last()->message, "go.work:2:"));
	assert_int_equal(goaccel_gowork_parse(&w, "w/go.work", "use (\n", 6), GOACCEL_EINVALID);
	assert_non_null(strstr(goaccel_error_last()->message, "w/go.work:"));
}

/* ---- h1 ------------------------------------------------------------------------------------- */

/* Go's own test data for rsc.io/quote v1.5.1, hashed as a directory and as a zip, gives the
 * go.sum lines recorded for it. */
static void test_gomod__h1_matches_real_gosum_lines(void **state)
{
	char *dir = tu_tempdir("ga-h1"), *mod, *text, *h = NULL, *zip, *gomod;
	(void)state;
	text = tu_read(GO_TXTAR_QUOTE, NULL);
	assert_non_null(text);
	mod = tu_path(dir, "rsc.io/quote@v1.5.1");
	assert_int_equal(write_txtar(mod, text, 0), 3); /* go.mod, quote.go, quote_test.go */
	GA_OK(goaccel_h1_dir(&h, mod, "rsc.io/quote", "v1.5.1"));
	assert_string_equal(h, "h1:ZE3OgnVGrhXtFkGw90HwW992ZRqcdli/33DLqEYsoxA=");
	goaccel_free(h);

	/* the same content as a module zip (entries "rsc.io/quote@v1.5.1/...") */
	zip = tu_path(dir, "quote.zip");
	assert_int_equal(tu_sh("cd %s && zip -qrD %s rsc.io/quote@v1.5.1", dir, zip), 0);
	GA_OK(goaccel_h1_zip(&h, zip));
	assert_string_equal(h, "h1:ZE3OgnVGrhXtFkGw90HwW992ZRqcdli/33DLqEYsoxA=");
	goaccel_free(h);

	/* a zip with directory entries: Go's zip reader lists them ("dir/", empty), so they count */
	assert_int_equal(tu_sh("cd %s && rm -f %s && zip -qr %s rsc.io/quote@v1.5.1", dir, zip, zip), 0);
	GA_OK(goaccel_h1_zip(&h, zip));
	assert_string_not_equal(h, "h1:ZE3OgnVGrhXtFkGw90HwW992ZRqcdli/33DLqEYsoxA=");
	goaccel_free(h);

	/* the .mod member is what "rsc.io/quote v1.5.1/go.mod" hashes */
	gomod = txtar_member(text, ".mod");
	GA_OK(goaccel_h1_gomod_buffer(&h, gomod, strlen(gomod)));
	assert_string_equal(h, "h1:LzX7hefJvL54yjefDEDHNONDjII0t9xZLPXsUe+TKr0=");
	goaccel_free(h);
	tu_write(dir, "x.mod", gomod);
	free(mod);
	mod = tu_path(dir, "x.mod");
	GA_OK(goaccel_h1_gomod(&h, mod));
	assert_string_equal(h, "h1:LzX7hefJvL54yjefDEDHNONDjII0t9xZLPXsUe+TKr0=");
	goaccel_free(h);

	GA_OK(goaccel_h1_gomod_buffer(&h, NULL, 0));
	assert_string_equal(h, "h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=");
	goaccel_free(h);

	assert_int_equal(goaccel_h1_dir(&h, zip, "a", "v1.0.0"), GOACCEL_EINVALID);
	assert_int_equal(goaccel_h1_zip(&h, mod), GOACCEL_ECORRUPT);
	free(zip);
	free(mod);
	free(gomod);
	free(text);
	tu_rmtree(dir);
	free(dir);
}

/* Builds a file:// GOPROXY tree holding the given modules (txtar text each, with .mod/.info). */
static void proxy_add(const char *proxy, const char *path, const char *esc_path, const char *version, const char *txtar)
{
	char *stage = tu_tempdir("ga-proxy-stage"), *mod, *gomod, *info, *vdir, *zip;
	char rel[512];
	snprintf(rel, sizeof(rel), "%s/@v", esc_path);
	vdir = tu_path(proxy, rel);
	assert_int_equal(tu_sh("mkdir -p %s", vdir), 0);
	snprintf(rel, sizeof(rel), "m/%s@%s", path, version); /* zip entries use the real path */
	mod = tu_path(stage, rel);
	write_txtar(mod, txtar, 0);
	gomod = txtar_member(txtar, "go.mod");
	info = NULL;
	asprintf(&info, "{\"Version\":\"%s\",\"Time\":\"2024-01-01T00:00:00Z\"}", version);
	snprintf(rel, sizeof(rel), "%s.mod", version);
	tu_write(vdir, rel, gomod);
	snprintf(rel, sizeof(rel), "%s.info", version);
	tu_write(vdir, rel, info);
	snprintf(rel, sizeof(rel), "%s.zip", version);
	zip = tu_path(vdir, rel);
	assert_int_equal(tu_sh("cd %s/m && zip -qrXD %s . && echo %s >> %s/list", stage, zip, version, vdir), 0);
	free(stage);
	free(mod);
	free(gomod);
	free(info);
	free(vdir);
	free(zip);
}

static const char MOD_HELLO[] =
	"-- go.mod --\nmodule example.com/hello\n\ngo 1.21\n"
	"-- hello.go --\npackage hello\n\nfunc Hello() string { return \"hello\" }\n"
	"-- LICENSE --\nPublic domain.\n"
	"-- sub/data.txt --\nsome data\n";
static const char MOD_UPPER[] =
	"-- go.mod --\nmodule example.com/Upper\n\ngo 1.21\n\nrequire example.com/hello v1.0.0\n"
	"-- upper.go --\npackage upper\n\nimport \"example.com/hello\"\n\nfunc Up() string { return hello.Hello() }\n";

typedef struct {
	char *tmp, *proxy, *app, *modcache;
	char **env;
	json_t *mods; /* the objects `go mod download -json` printed */
} e2e_fixture;

static void e2e_setup(e2e_fixture *f)
{
	char *cmd, *out, *prefix;
	json_error_t jerr;
	const char *p;
	memset(f, 0, sizeof(*f));
	f->tmp = tu_tempdir("ga-gomod-e2e");
	f->proxy = tu_path(f->tmp, "proxy");
	f->app = tu_path(f->tmp, "app");
	f->modcache = tu_path(f->tmp, "modcache");
	proxy_add(f->proxy, "example.com/hello", "example.com/hello", "v1.0.0", MOD_HELLO);
	proxy_add(f->proxy, "example.com/Upper", "example.com/!upper", "v0.1.0", MOD_UPPER);
	tu_write(f->app, "go.mod", "module example.com/app\n\ngo 1.21\n\nrequire (\n\texample.com/Upper v0.1.0\n"
	                           "\texample.com/hello v1.0.0\n)\n");
	f->env = hermetic_env(f->tmp, f->proxy, NULL);
	prefix = env_prefix(f->env);
	/* go mod download -json prints one JSON object per module */
	asprintf(&cmd, "cd %s && %s go mod download -json example.com/hello@v1.0.0 example.com/Upper@v0.1.0", f->app,
	         prefix);
	out = tu_sh_out("%s", cmd);
	assert_non_null(out);
	f->mods = json_array();
	for (p = out; p && *p;) {
		json_t *o = json_loads(p, JSON_DISABLE_EOF_CHECK, &jerr);
		if (!o)
			break;
		json_array_append_new(f->mods, o);
		p += jerr.position;
		while (*p == '\n' || *p == ' ')
			p++;
	}
	if (json_array_size(f->mods) != 2 || strstr(out, "\"Error\""))
		fail_msg("go mod download -json gave: %s", out);
	free(cmd);
	free(out);
	free(prefix);
}

static void e2e_teardown(e2e_fixture *f)
{
	json_decref(f->mods);
	free_env(f->env);
	tu_rmtree(f->tmp);
	free(f->tmp);
	free(f->proxy);
	free(f->app);
	free(f->modcache);
}

static const char *jstr(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));
	if (!v)
		fail_msg("no %s in go mod download output", k);
	return v;
}

/* Our hashes equal the Sum/GoModSum that `go mod download -json` reports, for the zip, the
 * extracted directory and the go.mod — including a module path with upper-case letters. */
static void test_gomod__h1_equals_go_mod_download(void **state)
{
	e2e_fixture f;
	size_t i;
	(void)state;
	e2e_setup(&f);
	for (i = 0; i < json_array_size(f.mods); i++) {
		json_t *m = json_array_get(f.mods, i);
		char *h;
		GA_OK(goaccel_h1_zip(&h, jstr(m, "Zip")));
		assert_string_equal(h, jstr(m, "Sum"));
		goaccel_free(h);
		GA_OK(goaccel_h1_dir(&h, jstr(m, "Dir"), jstr(m, "Path"), jstr(m, "Version")));
		assert_string_equal(h, jstr(m, "Sum"));
		goaccel_free(h);
		GA_OK(goaccel_h1_gomod(&h, jstr(m, "GoMod")));
		assert_string_equal(h, jstr(m, "GoModSum"));
		goaccel_free(h);
	}
	e2e_teardown(&f);
}

static char *write_gosum(e2e_fixture *f)
{
	size_t i;
	char *path = tu_path(f->app, "go.sum");
	FILE *fp = fopen(path, "w");
	for (i = 0; i < json_array_size(f->mods); i++) {
		json_t *m = json_array_get(f->mods, i);
		fprintf(fp, "%s %s %s\n%s %s/go.mod %s\n", jstr(m, "Path"), jstr(m, "Version"), jstr(m, "Sum"),
		        jstr(m, "Path"), jstr(m, "Version"), jstr(m, "GoModSum"));
	}
	fclose(fp);
	return path;
}

/* A clean cache verifies; one tampered file in one module reports exactly that module (and
 * `go mod verify` agrees); a removed module is reported missing. */
static void test_gomod__gosum_verify_reports_tampering(void **state)
{
	e2e_fixture f;
	goaccel_gosum_report *r = NULL;
	const goaccel_gosum_problem *p;
	char *gosum, *prefix;
	json_t *hello = NULL;
	size_t i;
	(void)state;
	e2e_setup(&f);
	gosum = write_gosum(&f);
	prefix = env_prefix(f.env);
	GA_OK(goaccel_gosum_verify(&r, f.modcache, gosum, NULL));
	assert_int_equal(goaccel_gosum_report_problem_count(r), 0);
	assert_int_equal(goaccel_gosum_report_checked(r), 4);
	goaccel_gosum_report_free(r);
	assert_int_equal(tu_sh("cd %s && %s go mod verify >/dev/null 2>&1", f.app, prefix), 0);

	for (i = 0; i < json_array_size(f.mods); i++)
		if (strcmp(jstr(json_array_get(f.mods, i), "Path"), "example.com/hello") == 0)
			hello = json_array_get(f.mods, i);
	assert_non_null(hello);
	assert_int_equal(tu_sh("chmod u+w %s %s/sub %s/sub/data.txt && echo tampered >> %s/sub/data.txt",
	                       jstr(hello, "Dir"), jstr(hello, "Dir"), jstr(hello, "Dir"), jstr(hello, "Dir")), 0);
	assert_int_equal(goaccel_gosum_verify(&r, f.modcache, gosum, NULL), GOACCEL_EMISMATCH);
	assert_int_equal(goaccel_gosum_report_problem_count(r), 1);
	p = goaccel_gosum_report_problem_byindex(r, 0);
	assert_int_equal(p->kind, GOACCEL_GOSUM_MISMATCH);
	assert_int_equal(p->object, GOACCEL_GOSUM_DIR);
	assert_string_equal(p->module_path, "example.com/hello");
	assert_string_equal(p->version, "v1.0.0");
	assert_string_equal(p->expected, jstr(hello, "Sum"));
	assert_non_null(p->actual);
	assert_string_not_equal(p->actual, p->expected);
	assert_null(goaccel_gosum_report_problem_byindex(r, 1));
	goaccel_gosum_report_free(r);
	assert_int_not_equal(tu_sh("cd %s && %s go mod verify >/dev/null 2>&1", f.app, prefix), 0);

	/* remove the other module entirely (dir, zip and .mod): missing, reported per line */
	assert_int_equal(tu_sh("chmod -R u+w %s && rm -rf %s/example.com/\\!upper@v0.1.0 %s/cache/download/example.com/\\!upper",
	                       f.modcache, f.modcache, f.modcache), 0);
	assert_int_equal(goaccel_gosum_verify(&r, f.modcache, gosum, NULL), GOACCEL_EMISMATCH);
	assert_int_equal(goaccel_gosum_report_problem_count(r), 3);
	for (i = 0; i < 3; i++) {
		p = goaccel_gosum_report_problem_byindex(r, i);
		if (strcmp(p->module_path, "example.com/Upper") == 0)
			assert_int_equal(p->kind, GOACCEL_GOSUM_MISSING);
	}
	goaccel_gosum_report_free(r);
	{
		goaccel_gosum_options o;
		GA_OK(goaccel_gosum_options_init(&o, GOACCEL_GOSUM_OPTIONS_VERSION));
		o.ignore_missing = 1;
		assert_int_equal(goaccel_gosum_verify(&r, f.modcache, gosum, &o), GOACCEL_EMISMATCH);
		assert_int_equal(goaccel_gosum_report_problem_count(r), 1);
		goaccel_gosum_report_free(r);
	}
	/* a tampered zip is reported as the zip */
	assert_int_equal(tu_sh("cd %s && printf x > extra && chmod u+w %s && zip -qj %s extra", f.tmp, jstr(hello, "Zip"),
	                       jstr(hello, "Zip")), 0);
	assert_int_equal(goaccel_gosum_verify(&r, f.modcache, gosum, NULL), GOACCEL_EMISMATCH);
	assert_int_equal(goaccel_gosum_report_problem_count(r), 4);
	p = goaccel_gosum_report_problem_byindex(r, 1);
	assert_string_equal(p->module_path, "example.com/hello");
	assert_int_equal(p->object, GOACCEL_GOSUM_ZIP);
	assert_string_equal(p->path, jstr(hello, "Zip"));
	goaccel_gosum_report_free(r);
	free(prefix);
	free(gosum);
	e2e_teardown(&f);
}

/* A hostile go.sum cannot make the verifier read outside the cache; malformed lines are named. */
static void test_gomod__gosum_malformed(void **state)
{
	char *dir = tu_tempdir("ga-gosum"), *sum = tu_path(dir, "go.sum"), *cache = tu_path(dir, "cache");
	goaccel_gosum_report *r = NULL;
	(void)state;
	tu_write(dir, "cache/.keep", "");
	tu_write(dir, "go.sum", "example.com/a v1.0.0 h1:x=\nexample.com/a v1.0.0\n");
	assert_int_equal(goaccel_gosum_verify(&r, cache, sum, NULL), GOACCEL_EINVALID);
	assert_non_null(strstr(goaccel_error_last()->message, "go.sum:2:"));
	tu_write(dir, "go.sum", "../../etc v1.0.0 h1:x=\n");
	assert_int_equal(goaccel_gosum_verify(&r, cache, sum, NULL), GOACCEL_EINVALID);
	tu_write(dir, "go.sum", "example.com/a ../../x h1:x=\n");
	assert_int_equal(goaccel_gosum_verify(&r, cache, sum, NULL), GOACCEL_EINVALID);
	assert_null(r);
	free(sum);
	free(cache);
	tu_rmtree(dir);
	free(dir);
}

/* ---- input roots ------------------------------------------------------------------------------ */

static char *real(const char *p)
{
	char *r = realpath(p, NULL);
	assert_non_null(r);
	return r;
}

static void test_gomod__input_roots(void **state)
{
	char *dir = tu_tempdir("ga-roots"), *ws, *app, *lib, *x, *y, *sub, *gw;
	goaccel_strarray roots = {NULL, 0};
	const char *env_off[] = {"GOWORK=off", "GOENV=off", NULL};
	const char *env_auto[] = {"GOENV=off", NULL};
	char *env_abs[3];
	(void)state;
	tu_write(dir, "ws/go.work", "go 1.22\nuse (\n\t./app\n\t./lib\n\t./missing\n)\nreplace example.com/y => ./y\n");
	tu_write(dir, "ws/app/go.mod", "module example.com/app\ngo 1.22\nreplace example.com/x => ../x\n"
	                               "replace example.com/gone => ../gone\n");
	tu_write(dir, "ws/app/sub/go.mod", "module example.com/app/sub\n");
	tu_write(dir, "ws/app/pkg/a.go", "package pkg\n");
	tu_write(dir, "ws/lib/go.mod", "module example.com/lib\nreplace example.com/x => ../x\n");
	tu_write(dir, "ws/x/go.mod", "module example.com/x\nreplace example.com/z => ../z\n");
	tu_write(dir, "ws/y/go.mod", "module example.com/y\n");
	tu_write(dir, "ws/z/go.mod", "module example.com/z\n");
	ws = tu_path(dir, "ws");
	app = tu_path(dir, "ws/app");
	lib = tu_path(dir, "ws/lib");
	x = tu_path(dir, "ws/x");
	y = tu_path(dir, "ws/y");
	sub = tu_path(dir, "ws/app/pkg");

	/* workspace: the nearest go.work above the module; use + replace dirs, relative to the
	 * file naming them; x listed once; z (a replacement inside a replaced module) not followed;
	 * missing dirs left out; the nested module app/sub is not a root */
	GA_OK(goaccel_gomod_input_roots(&roots, sub, env_auto));
	{
		char *want, *rws = real(ws), *rapp = real(app), *rlib = real(lib), *rx = real(x), *ry = real(y);
		asprintf(&want, "%s\n%s\n%s\n%s\n%s\n", rapp, rws, rlib, rx, ry);
		expect_list(&roots, want);
		free(want);
		free(rws);
		free(rapp);
		free(rlib);
		free(rx);
		free(ry);
	}
	goaccel_strarray_dispose(&roots);

	/* GOWORK=off: the module and its own replacements only */
	GA_OK(goaccel_gomod_input_roots(&roots, app, env_off));
	{
		char *want, *rapp = real(app), *rx = real(x);
		asprintf(&want, "%s\n%s\n", rapp, rx);
		expect_list(&roots, want);
		free(want);
		free(rapp);
		free(rx);
	}
	goaccel_strarray_dispose(&roots);

	/* GOWORK naming another file, absolute */
	tu_write(dir, "other.work", "go 1.22\nuse ./ws/lib\n");
	gw = tu_path(dir, "other.work");
	asprintf(&env_abs[0], "GOWORK=%s", gw);
	env_abs[1] = strdup("GOENV=off");
	env_abs[2] = NULL;
	GA_OK(goaccel_gomod_input_roots(&roots, app, (const char *const *)env_abs));
	{
		char *want, *rapp = real(app), *rlib = real(lib), *rx = real(x), *rdir = real(dir);
		asprintf(&want, "%s\n%s\n%s\n%s\n", rapp, rdir, rlib, rx);
		expect_list(&roots, want);
		free(want);
		free(rapp);
		free(rlib);
		free(rx);
		free(rdir);
	}
	goaccel_strarray_dispose(&roots);
	free(env_abs[0]);
	free(env_abs[1]);

	/* a symlinked spelling of the module is one root */
	assert_int_equal(tu_sh("ln -s %s %s/applink", app, dir), 0);
	{
		char *link = tu_path(dir, "applink"), *rapp = real(app), *rx = real(x), *want;
		GA_OK(goaccel_gomod_input_roots(&roots, link, env_off));
		asprintf(&want, "%s\n%s\n", rapp, rx);
		expect_list(&roots, want);
		goaccel_strarray_dispose(&roots);
		free(want);
		free(rapp);
		free(rx);
		free(link);
	}

	/* relative GOWORK is refused, as by Go; no module at all is ENOTFOUND */
	{
		const char *env_rel[] = {"GOWORK=rel/go.work", "GOENV=off", NULL};
		assert_int_equal(goaccel_gomod_input_roots(&roots, app, env_rel), GOACCEL_EINVALID);
		assert_int_equal(goaccel_gomod_input_roots(&roots, "/", env_off), GOACCEL_ENOTFOUND);
	}

	/* and the go command uses the same go.work */
	{
		char *gowork = tu_sh_out("cd %s && GOENV=off GOFLAGS= go env GOWORK", sub), *ours = NULL, *r1, *r2;
		GA_OK(goaccel_gomod_find_work(&ours, sub, env_auto));
		r1 = real(gowork);
		r2 = real(ours);
		assert_string_equal(r1, r2);
		free(r1);
		free(r2);
		free(gowork);
		goaccel_free(ours);
	}
	free(gw);
	free(ws);
	free(app);
	free(lib);
	free(x);
	free(y);
	free(sub);
	tu_rmtree(dir);
	free(dir);
}

/* ---- build inputs ------------------------------------------------------------------------------ */

static const char INPUTS_TXTAR[] =
	"-- go.mod --\nmodule example.com/m\n\ngo 1.22\n"
	"-- go.sum --\n"
	"-- main.go --\npackage main\n\nimport (\n\t\"embed\"\n\t_ \"example.com/m/lib\"\n)\n\n"
	"// A string that looks like a directive is not one:\nvar s = `\n//go:embed notme.txt\n`\n\n"
	"/*\n//go:embed notme.txt\n*/\n\n"
	"//go:embed static/index.html \"assets/quoted name.txt\" `assets/raw.txt`\n"
	"//go:embed templates/*.tmpl\n"
	"//go:embed public\n"
	"//go:embed all:hidden\n"
	"//go:embed image/*\n"
	"var fs embed.FS\n\nfunc main() { _ = s; _ = fs }\n"
	"-- main_test.go --\npackage main\n"
	"-- README.md --\n# readme\n"
	"-- notme.txt --\nno\n"
	"-- static/index.html --\n<html>\n"
	"-- static/other.html --\nnot embedded\n"
	"-- assets/quoted name.txt --\nq\n"
	"-- assets/raw.txt --\nr\n"
	"-- templates/a.tmpl --\na\n"
	"-- templates/b.tmpl --\nb\n"
	"-- templates/c.txt --\nc\n"
	"-- public/css/site.css --\nbody{}\n"
	"-- public/.hidden --\nh\n"
	"-- public/_under --\nu\n"
	"-- hidden/.dot --\nd\n"
	"-- hidden/_u/x --\nx\n"
	"-- hidden/v --\nv\n"
	"-- image/.tempfile --\nt\n"
	"-- image/logo.png --\npng\n"
	"-- lib/lib.go --\npackage lib\n"
	"-- lib/lib_linux.s --\n// asm\n"
	"-- lib/c.c --\n// c\n"
	"-- lib/c.h --\n// h\n"
	"-- lib/blob.syso --\nsyso\n"
	"-- lib/notes.txt --\nnot an input\n"
	"-- lib/testdata/fixture.go --\npackage ignored\n"
	"-- lib/_skip/x.go --\npackage skip\n"
	"-- lib/.dot/x.go --\npackage dot\n"
	"-- lib/nomod/n.go --\npackage nomod\n"
	"-- cmd/tool/default.pgo --\npgo\n"
	"-- cmd/tool/main.go --\npackage main\n\nfunc main() {}\n"
	"-- nested/go.mod --\nmodule example.com/m/nested\n"
	"-- nested/n.go --\npackage nested\n"
	"-- gen.go --\npackage main\n\n// generated, git-ignored\n"
	"-- .gitignore --\ngen.go\n"
	"-- noembed.go --\npackage main\n\n//go:embed notme.txt\nvar x string\n";

static const char INPUTS_WANT[] =
	"assets/quoted name.txt\nassets/raw.txt\ncmd/tool/default.pgo\ncmd/tool/main.go\ngen.go\ngo.mod\ngo.sum\n"
	"hidden/.dot\nhidden/_u/x\nhidden/v\nimage/.tempfile\nimage/logo.png\nlib/blob.syso\nlib/c.c\nlib/c.h\nlib/lib.go\nlib/lib_linux.s\n"
	"lib/nomod/n.go\nmain.go\nnoembed.go\npublic/css/site.css\nstatic/index.html\ntemplates/a.tmpl\n"
	"templates/b.tmpl\n";

static void test_gomod__build_inputs_selection(void **state)
{
	char *dir = tu_tempdir("ga-inputs");
	goaccel_strarray sel = {NULL, 0};
	goaccel_gomod_inputs_options o;
	(void)state;
	write_txtar(dir, INPUTS_TXTAR, 1);
	GA_OK(goaccel_gomod_build_inputs(&sel, dir, NULL));
	expect_list(&sel, INPUTS_WANT);
	goaccel_strarray_dispose(&sel);

	/* with tests: _test.go and testdata/ join */
	GA_OK(goaccel_gomod_inputs_options_init(&o, GOACCEL_GOMOD_INPUTS_OPTIONS_VERSION));
	o.tests = 1;
	GA_OK(goaccel_gomod_build_inputs(&sel, dir, &o));
	assert_true(sel.count == 26);
	{
		char *all = join_list(&sel);
		assert_non_null(strstr(all, "main_test.go\n"));
		assert_non_null(strstr(all, "lib/testdata/fixture.go\n"));
		free(all);
	}
	goaccel_strarray_dispose(&sel);

	/* the nested module is a root of its own */
	{
		char *nested = tu_path(dir, "nested");
		GA_OK(goaccel_gomod_build_inputs(&sel, nested, NULL));
		expect_list(&sel, "go.mod\nn.go\n");
		goaccel_strarray_dispose(&sel);
		free(nested);
	}
	o.version = 99;
	assert_int_equal(goaccel_gomod_build_inputs(&sel, dir, &o), GOACCEL_EVERSION);
	{
		char *f = tu_path(dir, "go.mod"), *missing = tu_path(dir, "missing");
		assert_int_equal(goaccel_gomod_build_inputs(&sel, f, NULL), GOACCEL_EINVALID);
		assert_int_equal(goaccel_gomod_build_inputs(&sel, missing, NULL), GOACCEL_ENOTFOUND);
		free(f);
		free(missing);
	}
	tu_rmtree(dir);
	free(dir);
}

/* The selection equals what `go list` says the packages read, both ways: every file of
 * GoFiles, CgoFiles, CFiles, HFiles, SFiles, SysoFiles, EmbedFiles, IgnoredGoFiles (excluded by
 * build constraints here, read elsewhere) ... is selected, and every selected file is one of
 * those — except go.mod, go.sum and default.pgo, which go list does not list per package. */
static void test_gomod__build_inputs_cover_go_list(void **state)
{
	static const char *const keys[] = {"GoFiles", "CgoFiles", "CFiles", "CXXFiles", "MFiles", "HFiles",
		"FFiles", "SFiles", "SwigFiles", "SwigCXXFiles", "SysoFiles", "EmbedFiles", "IgnoredGoFiles",
		"IgnoredOtherFiles"};
	char *dir = tu_tempdir("ga-golist"), *out, *tmp = tu_tempdir("ga-golist-env"), **env, *prefix;
	goaccel_strarray sel = {NULL, 0}, listed = {NULL, 0};
	json_error_t jerr;
	const char *p;
	size_t checked = 0;
	(void)state;
	write_txtar(dir, INPUTS_TXTAR, 1);
	/* build constraints do not hide a file from the selection */
	tu_write(dir, "lib/only_windows.go", "//go:build windows\n\npackage lib\n");
	tu_write(dir, "lib/cgo.go", "package lib\n\n// #include \"c.h\"\nimport \"C\"\n");
	GA_OK(goaccel_gomod_build_inputs(&sel, dir, NULL));
	env = hermetic_env(tmp, NULL, "CGO_ENABLED=1");
	prefix = env_prefix(env);
	out = tu_sh_out("cd %s && %s go list -json ./... 2>&1", dir, prefix);
	for (p = out; p && *p;) {
		json_t *pkg = json_loads(p, JSON_DISABLE_EOF_CHECK, &jerr), *files;
		const char *pdir, *rel;
		size_t k, i;
		if (!pkg)
			fail_msg("go list output: %s", out);
		pdir = json_string_value(json_object_get(pkg, "Dir"));
		rel = pdir + strlen(pdir);
		{
			char *rdir = real(dir);
			rel = strncmp(pdir, rdir, strlen(rdir)) == 0 ? pdir + strlen(rdir) : pdir + strlen(dir);
			free(rdir);
		}
		if (*rel == '/')
			rel++;
		if (json_object_get(pkg, "Error"))
			fail_msg("go list error: %s", json_dumps(json_object_get(pkg, "Error"), 0));
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			json_t *f;
			files = json_object_get(pkg, keys[k]);
			json_array_foreach(files, i, f) {
				char want[1024];
				const char *name = json_string_value(f);
				snprintf(want, sizeof(want), "%s%s%s", rel, rel[0] ? "/" : "", name);
				ga_strarray_add(&listed, want);
				if (strcmp(keys[k], "IgnoredOtherFiles") == 0 || (strcmp(keys[k], "IgnoredGoFiles") == 0 &&
				                                                  strstr(name, "_test.go")))
					continue;
				{
					size_t j;
					int found = 0;
					for (j = 0; j < sel.count; j++)
						found |= strcmp(sel.strings[j], want) == 0;
					if (!found)
						fail_msg("go list %s has %s, the selection does not", keys[k], want);
				}
				checked++;
			}
		}
		json_decref(pkg);
		p += jerr.position;
		while (*p == '\n' || *p == ' ')
			p++;
	}
	assert_true(checked >= 18);
	{
		size_t j;
		for (j = 0; j < sel.count; j++) {
			const char *f = sel.strings[j];
			if (strcmp(f, "go.mod") == 0 || strcmp(f, "go.sum") == 0 || strstr(f, "default.pgo"))
				continue;
			if (!ga_strarray_contains(&listed, f))
				fail_msg("selected %s, which go list does not name", f);
		}
	}
	goaccel_strarray_dispose(&listed);
	goaccel_strarray_dispose(&sel);
	free(out);
	free(prefix);
	free_env(env);
	tu_rmtree(tmp);
	free(tmp);
	tu_rmtree(dir);
	free(dir);
}



/* vendor/ of a module and of a workspace directory; a workspace directory's other files are
 * not inputs (they belong to no module). */
static void test_gomod__build_inputs_vendor_and_workspace(void **state)
{
	char *dir = tu_tempdir("ga-vendor"), *ws, *mod;
	goaccel_strarray sel = {NULL, 0};
	(void)state;
	write_txtar(dir, "-- mod/go.mod --\nmodule example.com/v\n"
	                 "-- mod/v.go --\npackage v\n"
	                 "-- mod/vendor/modules.txt --\n# example.com/x v1.0.0\n"
	                 "-- mod/vendor/example.com/x/x.go --\npackage x\n"
	                 "-- mod/vendor/example.com/x/x.s --\n"
	                 "-- mod/vendor/example.com/x/LICENSE --\nL\n"
	                 "-- mod/vendor/example.com/x/go.mod --\nmodule example.com/x\n"
	                 "-- mod/vendor/example.com/x/testdata/t.go --\npackage t\n"
	                 "-- ws/go.work --\ngo 1.22\nuse ./a\n"
	                 "-- ws/go.work.sum --\n"
	                 "-- ws/main.go --\npackage main\n"
	                 "-- ws/README --\nr\n"
	                 "-- ws/vendor/modules.txt --\n"
	                 "-- ws/vendor/example.com/y/y.go --\npackage y\n"
	                 "-- ws/a/go.mod --\nmodule example.com/a\n"
	                 "-- ws/a/a.go --\npackage a\n", 1);
	mod = tu_path(dir, "mod");
	GA_OK(goaccel_gomod_build_inputs(&sel, mod, NULL));
	free(mod);
	expect_list(&sel, "go.mod\nv.go\nvendor/example.com/x/x.go\nvendor/example.com/x/x.s\nvendor/modules.txt\n");
	goaccel_strarray_dispose(&sel);
	ws = tu_path(dir, "ws");
	GA_OK(goaccel_gomod_build_inputs(&sel, ws, NULL));
	expect_list(&sel, "go.work\ngo.work.sum\nvendor/example.com/y/y.go\nvendor/modules.txt\n");
	goaccel_strarray_dispose(&sel);
	free(ws);
	tu_rmtree(dir);
	free(dir);
}

/* The example of docs/keys.md ("Build inputs"): its txtar files, selected, give its want list. */
static void test_gomod__documented_selection(void **state)
{
	char *doc = tu_read(GOACCEL_SOURCE_DIR "/docs/keys.md", NULL), *p = doc;
	int blocks = 0;
	(void)state;
	while ((p = strstr(p, "```txtar\n")) != NULL) {
		char *end = strstr(p, "\n```"), *dir = tu_tempdir("ga-doc"), *want;
		goaccel_strarray sel = {NULL, 0};
		p += strlen("```txtar\n");
		end[1] = '\0';
		want = txtar_member(p, "want");
		assert_non_null(want);
		*strstr(p, "-- want --\n") = '\0';
		write_txtar(dir, p, 1);
		GA_OK(goaccel_gomod_build_inputs(&sel, dir, NULL));
		expect_list(&sel, want);
		goaccel_strarray_dispose(&sel);
		free(want);
		tu_rmtree(dir);
		free(dir);
		blocks++;
		p = end + 4;
	}
	assert_true(blocks >= 1);
	free(doc);
}


/* ---- with the hash layer: what moves the digest ------------------------------------------------ */

static void inputs_digest(goaccel_digest *out, const char *root)
{
	goaccel_strarray sel = {NULL, 0};
	GA_OK(goaccel_gomod_build_inputs(&sel, root, NULL));
	GA_OK(goaccel_hash_paths(out, NULL, root, (const char *const *)sel.strings, sel.count, NULL));
	goaccel_strarray_dispose(&sel);
}

/* The table of docs/keys.md, end to end: the selection fed to goaccel_hash_paths() changes
 * exactly when a file the go command can read changes — in a git checkout whose .gitignore
 * names the generated file and an embedded asset. Each edit is reverted after, and the digest
 * must come back. */
static void test_gomod__digest_changes_only_with_inputs(void **state)
{
	static const struct {
		const char *file;
		int changes;
	} table[] = {
		{"README.md", 0}, {"main_test.go", 0}, {"lib/testdata/fixture.go", 0}, {"lib/notes.txt", 0},
		{".gitignore", 0}, {"lib/_skip/x.go", 0}, {"lib/.dot/x.go", 0}, {"nested/n.go", 0},
		{"public/.hidden", 0}, {"templates/c.txt", 0}, {"notme.txt", 0}, {"docs/guide.md", 0},
		{"main.go", 1}, {"lib/lib.go", 1}, {"lib/lib_linux.s", 1}, {"lib/c.c", 1}, {"lib/c.h", 1},
		{"lib/blob.syso", 1}, {"go.mod", 1}, {"go.sum", 1}, {"cmd/tool/default.pgo", 1},
		{"static/index.html", 1},      /* //go:embed by name (and git-ignored) */
		{"assets/quoted name.txt", 1}, /* by quoted name */
		{"templates/a.tmpl", 1},       /* by glob */
		{"public/css/site.css", 1},    /* by directory */
		{"hidden/.dot", 1},            /* by all: directory */
		{"gen.go", 1},                 /* git-ignored generated .go file */
		{"lib/new.go", 1},             /* a new source file */
	};
	char *dir = tu_tempdir("ga-digest-table");
	goaccel_digest base, d;
	size_t i;
	(void)state;
	write_txtar(dir, INPUTS_TXTAR, 1);
	tu_write(dir, "docs/guide.md", "guide\n");
	tu_write(dir, ".gitignore", "gen.go\nstatic/\n");
	assert_int_equal(tu_sh("cd %s && git init -q . && git add -A && git -c user.email=t@t -c user.name=t commit -qm x",
	                       dir), 0);
	inputs_digest(&base, dir);
	/* mtime and permission bits of group/other are not inputs */
	assert_int_equal(tu_sh("cd %s && touch -d '2001-01-01' main.go && chmod g+w,o+r lib/lib.go", dir), 0);
	inputs_digest(&d, dir);
	assert_int_equal(goaccel_digest_cmp(&base, &d), 0);
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		char *path = tu_path(dir, table[i].file), *old = NULL;
		size_t len = 0;
		int existed = access(path, F_OK) == 0;
		if (existed)
			old = tu_read(path, &len);
		tu_write(dir, table[i].file, existed ? "// edited\n" : "package lib\n");
		inputs_digest(&d, dir);
		if ((goaccel_digest_cmp(&base, &d) != 0) != table[i].changes)
			fail_msg("editing %s %s the digest", table[i].file, table[i].changes ? "did not change" : "changed");
		if (existed)
			tu_write_bytes(dir, table[i].file, old, len);
		else
			unlink(path);
		inputs_digest(&d, dir);
		if (goaccel_digest_cmp(&base, &d) != 0)
			fail_msg("reverting %s did not restore the digest", table[i].file);
		free(old);
		free(path);
	}
	tu_rmtree(dir);
	free(dir);
}

/* ---- toolchain ------------------------------------------------------------------------------------ */

static void test_gomod__toolchain_identity(void **state)
{
	char *dir = tu_tempdir("ga-tc"), *tmp = tu_tempdir("ga-tc-env"), *want, *json = NULL;
	char **env0, **env1;
	goaccel_toolchain *a = NULL, *b = NULL, *c = NULL;
	goaccel_digest da, db, dc;
	size_t i;
	(void)state;
	tu_write(dir, "go.mod", "module example.com/tc\n\ngo 1.21\n");
	env0 = hermetic_env(tmp, NULL, "CGO_ENABLED=0");
	env1 = hermetic_env(tmp, NULL, "CGO_ENABLED=1");
	GA_OK(goaccel_go_toolchain(&a, dir, (const char *const *)env0, NULL));
	want = tu_sh_out("go env GOVERSION");
	assert_string_equal(goaccel_toolchain_get(a, "GOVERSION"), want);
	free(want);
	assert_string_equal(goaccel_toolchain_get(a, "CGO_ENABLED"), "0");
	assert_non_null(goaccel_toolchain_get(a, "GOOS"));
	assert_non_null(goaccel_toolchain_get(a, "GOARCH"));
	if (strcmp(goaccel_toolchain_get(a, "GOARCH"), "amd64") == 0)
		assert_non_null(goaccel_toolchain_get(a, "GOAMD64"));
	assert_null(goaccel_toolchain_get(a, "CC"));
	assert_null(goaccel_toolchain_get(a, "GOROOT"));
	for (i = 1; i < goaccel_toolchain_field_count(a); i++)
		assert_true(strcmp(goaccel_toolchain_field_byindex(a, i - 1)->name,
		                   goaccel_toolchain_field_byindex(a, i)->name) < 0);
	assert_null(goaccel_toolchain_field_byindex(a, 1000));
	assert_non_null(strstr(goaccel_toolchain_go_path(a), "go"));
	GA_OK(goaccel_toolchain_to_json(&json, a));
	assert_non_null(strstr(json, "\"GOVERSION\":"));
	goaccel_free(json);

	/* warm: the same answer from the cache */
	GA_OK(goaccel_go_toolchain(&b, dir, (const char *const *)env0, NULL));
	GA_OK(goaccel_toolchain_digest(&da, a));
	GA_OK(goaccel_toolchain_digest(&db, b));
	assert_int_equal(goaccel_digest_cmp(&da, &db), 0);

	/* cgo on: compiler, flags and the compiler's version line join, and the digest moves */
	GA_OK(goaccel_go_toolchain(&c, dir, (const char *const *)env1, NULL));
	assert_string_equal(goaccel_toolchain_get(c, "CGO_ENABLED"), "1");
	assert_non_null(goaccel_toolchain_get(c, "CC"));
	assert_non_null(goaccel_toolchain_get(c, "CGO_CFLAGS"));
	assert_non_null(strstr(goaccel_toolchain_get(c, "CC_VERSION"), "version"));
	GA_OK(goaccel_toolchain_digest(&dc, c));
	assert_int_not_equal(goaccel_digest_cmp(&da, &dc), 0);
	goaccel_toolchain_free(a);
	goaccel_toolchain_free(b);
	goaccel_toolchain_free(c);
	goaccel_toolchain_free(NULL);

	/* GOFLAGS is part of the identity */
	{
		char **env2 = hermetic_env(tmp, NULL, "CGO_ENABLED=0");
		goaccel_digest d2;
		for (i = 0; env2[i]; i++)
			if (strncmp(env2[i], "GOFLAGS=", 8) == 0) {
				free(env2[i]);
				env2[i] = strdup("GOFLAGS=-mod=mod -trimpath");
			}
		GA_OK(goaccel_go_toolchain(&a, dir, (const char *const *)env2, NULL));
		assert_string_equal(goaccel_toolchain_get(a, "GOFLAGS"), "-mod=mod -trimpath");
		GA_OK(goaccel_toolchain_digest(&d2, a));
		assert_int_not_equal(goaccel_digest_cmp(&da, &d2), 0);
		goaccel_toolchain_free(a);
		free_env(env2);
	}
	free_env(env0);
	free_env(env1);
	tu_rmtree(tmp);
	free(tmp);
	tu_rmtree(dir);
	free(dir);
}

/* A fake toolchain module, as Go's own tests make them (cmd/go/testdata/mod/golang.org_toolchain_*):
 * bin/go answers `go env -json` for a go1.999testmod toolchain. */
static void proxy_add_fake_toolchain(const char *proxy)
{
	char txtar[1024];
	char ver[64];
	char *goarch = tu_sh_out("go env GOARCH"), *goos = tu_sh_out("go env GOOS");
	snprintf(ver, sizeof(ver), "v0.0.1-go1.999testmod.%s-%s", goos, goarch);
	snprintf(txtar, sizeof(txtar),
	         "-- go.mod --\nmodule golang.org/toolchain\n"
	         "-- bin/go --\n#!/bin/sh\nprintf '{\"GOVERSION\":\"go1.999testmod\",\"GOOS\":\"%s\",\"GOARCH\":\"%s\","
	         "\"CGO_ENABLED\":\"0\",\"GOFLAGS\":\"\",\"GOEXPERIMENT\":\"\"}\\n'\n"
	         "-- bin/gofmt --\necho unused\n"
	         "-- pkg/tool/fake --\n"
	         "-- lib/wasm/go_js_wasm_exec --\n", goos, goarch);
	proxy_add(proxy, "golang.org/toolchain", "golang.org/toolchain", ver, txtar);
	free(goarch);
	free(goos);
}

/* It runs in the module directory, so a `toolchain` line that makes the go command switch
 * (GOTOOLCHAIN=auto) is reflected — here a real switch to a toolchain downloaded from a local
 * file:// proxy — and editing that line is not hidden by the cache. */
static void test_gomod__toolchain_follows_switch(void **state)
{
	char *dir = tu_tempdir("ga-tc2"), *tmp = tu_tempdir("ga-tc2-env"), **env, *mod, *proxy, *local;
	goaccel_toolchain *tc = NULL;
	(void)state;
	proxy = tu_path(tmp, "proxy");
	proxy_add_fake_toolchain(proxy);
	env = hermetic_env(tmp, proxy, "GOTOOLCHAIN=auto");
	mod = tu_path(dir, "m");
	local = tu_sh_out("go env GOVERSION");

	tu_write(dir, "m/go.mod", "module example.com/m\n\ngo 1.21\n\ntoolchain go1.999testmod\n");
	GA_OK(goaccel_go_toolchain(&tc, mod, (const char *const *)env, NULL));
	assert_string_equal(goaccel_toolchain_get(tc, "GOVERSION"), "go1.999testmod");
	goaccel_toolchain_free(tc);

	tu_write(dir, "m/go.mod", "module example.com/m\n\ngo 1.21\n");
	GA_OK(goaccel_go_toolchain(&tc, mod, (const char *const *)env, NULL));
	assert_string_equal(goaccel_toolchain_get(tc, "GOVERSION"), local);
	goaccel_toolchain_free(tc);

	/* a go line no toolchain can satisfy: the go command's own error, as GOACCEL_EBUILD */
	tu_write(dir, "m/go.mod", "module example.com/m\n\ngo 1.9999\n");
	assert_int_equal(goaccel_go_toolchain(&tc, mod, (const char *const *)env, NULL), GOACCEL_EBUILD);
	assert_non_null(strstr(goaccel_error_last()->message, "1.9999"));
	assert_null(tc);
	free(local);
	free(mod);
	free(proxy);
	free_env(env);
	tu_rmtree(tmp);
	free(tmp);
	tu_rmtree(dir);
	free(dir);
}


/* The cache, observed: a fake go command counts its runs. A warm call does not run it; a change
 * of the relevant environment, of the go env file, of the go.mod's toolchain line or of the go
 * binary itself does; an unrelated variable does not. */
static void test_gomod__toolchain_cache_keys(void **state)
{
	char *dir = tu_tempdir("ga-tc3"), *fake, *count, *envfile, *mod;
	const char *env_a[] = {NULL, NULL, "GOFLAGS=-trimpath", "UNRELATED=1", NULL};
	const char *env_b[] = {NULL, NULL, "GOFLAGS=-trimpath", "UNRELATED=2", NULL};
	const char *env_c[] = {NULL, NULL, "GOFLAGS=-race", "UNRELATED=1", NULL};
	char pathvar[1024], goenv[1024];
	goaccel_toolchain_options o;
	goaccel_toolchain *tc = NULL;
	char *n;
	(void)state;
	count = tu_path(dir, "count");
	envfile = tu_path(dir, "goenv");
	mod = tu_path(dir, "m");
	tu_write(dir, "m/go.mod", "module example.com/m\n\ngo 1.21\n");
	tu_write(dir, "goenv", "GOFLAGS=-v\n");
	tu_write(dir, "bin/go", "");
	fake = tu_path(dir, "bin/go");
	{
		FILE *f = fopen(fake, "w");
		fprintf(f, "#!/bin/sh\necho x >> %s\nprintf '{\"GOVERSION\":\"go1.0fake\",\"GOOS\":\"linux\","
		           "\"GOARCH\":\"amd64\",\"GOAMD64\":\"v1\",\"CGO_ENABLED\":\"0\",\"GOFLAGS\":\"%%s\"}' \"$GOFLAGS\"\n",
		        count);
		fclose(f);
	}
	assert_int_equal(tu_sh("chmod +x %s", fake), 0);
	snprintf(pathvar, sizeof(pathvar), "PATH=%s/bin:/usr/bin:/bin", dir);
	snprintf(goenv, sizeof(goenv), "GOENV=%s", envfile);
	env_a[0] = env_b[0] = env_c[0] = pathvar;
	env_a[1] = env_b[1] = env_c[1] = goenv;
	GA_OK(goaccel_toolchain_options_init(&o, GOACCEL_TOOLCHAIN_OPTIONS_VERSION));
	goaccel_toolchain_cache_clear();
#define RUNS(expect)                                                                            \
	do {                                                                                    \
		n = tu_sh_out("wc -l < %s", count);                                             \
		assert_int_equal(atoi(n), expect);                                              \
		free(n);                                                                        \
	} while (0)
#define CALL(env)                                                                               \
	do {                                                                                    \
		GA_OK(goaccel_go_toolchain(&tc, mod, env, &o));                                 \
		assert_string_equal(goaccel_toolchain_get(tc, "GOVERSION"), "go1.0fake");       \
		goaccel_toolchain_free(tc);                                                     \
	} while (0)
	CALL(env_a);
	RUNS(1);
	CALL(env_a); /* warm */
	CALL(env_b); /* an unrelated variable */
	RUNS(1);
	CALL(env_c); /* GOFLAGS */
	RUNS(2);
	GA_OK(goaccel_go_toolchain(&tc, mod, env_c, &o));
	assert_string_equal(goaccel_toolchain_get(tc, "GOFLAGS"), "-race");
	goaccel_toolchain_free(tc);
	RUNS(2);
	tu_write(dir, "goenv", "GOFLAGS=-v -x\n"); /* the go env file */
	CALL(env_a);
	RUNS(3);
	tu_write(dir, "m/go.mod", "module example.com/m\n\ngo 1.21\n\ntoolchain go1.21.1\n"); /* toolchain line */
	CALL(env_a);
	RUNS(4);
	tu_write(dir, "m/go.mod", "module example.com/m\n\ngo 1.21\n\ntoolchain go1.21.1\n\nrequire example.com/x v1.0.0\n");
	CALL(env_a); /* a require line does not switch toolchains */
	RUNS(4);
	assert_int_equal(tu_sh("touch -d '2001-01-01' %s", fake), 0); /* the go binary */
	CALL(env_a);
	RUNS(5);
	o.no_cache = 1;
	CALL(env_a);
	RUNS(6);
#undef RUNS
#undef CALL
	goaccel_toolchain_cache_clear();
	free(fake);
	free(count);
	free(envfile);
	free(mod);
	tu_rmtree(dir);
	free(dir);
}

static void test_gomod__toolchain_no_go(void **state)
{
	const char *env[] = {"PATH=/nonexistent", "HOME=/tmp", NULL};
	goaccel_toolchain *tc = NULL;
	goaccel_toolchain_options o;
	(void)state;
	assert_int_equal(goaccel_go_toolchain(&tc, ".", env, NULL), GOACCEL_ENOTFOUND);
	assert_non_null(strstr(goaccel_error_last()->message, "go: not found in PATH"));
	GA_OK(goaccel_toolchain_options_init(&o, GOACCEL_TOOLCHAIN_OPTIONS_VERSION));
	o.go = "/nonexistent/go";
	assert_int_equal(goaccel_go_toolchain(&tc, ".", NULL, &o), GOACCEL_ENOTFOUND);
	assert_int_equal(goaccel_toolchain_options_init(&o, 77), GOACCEL_EVERSION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gomod__parse_every_directive),
		cmocka_unit_test(test_gomod__errors_name_file_and_line),
		cmocka_unit_test(test_gomod__go_agrees_on_malformed),
		cmocka_unit_test(test_gomod__parse_gowork),
		cmocka_unit_test(test_gomod__h1_matches_real_gosum_lines),
		cmocka_unit_test(test_gomod__h1_equals_go_mod_download),
		cmocka_unit_test(test_gomod__gosum_verify_reports_tampering),
		cmocka_unit_test(test_gomod__gosum_malformed),
		cmocka_unit_test(test_gomod__input_roots),
		cmocka_unit_test(test_gomod__build_inputs_selection),
		cmocka_unit_test(test_gomod__build_inputs_cover_go_list),
		cmocka_unit_test(test_gomod__build_inputs_vendor_and_workspace),
		cmocka_unit_test(test_gomod__documented_selection),
		cmocka_unit_test(test_gomod__digest_changes_only_with_inputs),
		cmocka_unit_test(test_gomod__toolchain_identity),
		cmocka_unit_test(test_gomod__toolchain_follows_switch),
		cmocka_unit_test(test_gomod__toolchain_cache_keys),
		cmocka_unit_test(test_gomod__toolchain_no_go),
	};
	return cmocka_run_group_tests(tests, tu_group_setup, tu_group_teardown);
}
