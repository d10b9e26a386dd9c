/* goaccel build / goaccel explain: the pipeline of goaccel/build.h with live progress. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

typedef struct {
	int tty;      /* redraw one live line per step */
	int json;     /* one JSON document at the end, nothing else on stdout */
	int verbose;  /* print the go commands and all of go's output */
	int dry_run;
	int line_shown; /* a live line is on screen */
	char step_msg[160]; /* the step's STEP_START message (events' strings are borrowed) */
	goaccel_build_step step;
} progress;

static void build_usage(FILE *f, int dry_run)
{
	fprintf(f,
	        "usage: goaccel %s [DIR] [options]\n"
	        "\n"
	        "%s"
	        "\n"
	        "  -p, --package PKG    a package to build (repeatable; default .)\n"
	        "  -o, --output DIR     write the binaries (and --copy files) into DIR\n"
	        "      --image DIR[:REF]  write an OCI image layout to DIR tagged REF (default latest)\n"
	        "      --base DIR:REF   start the image from this OCI layout (default: scratch)\n"
	        "      --copy SRC:DST   also copy SRC (in the module) to DST in the output/image (repeatable)\n"
	        "      --bin-dir DIR    put the binaries in DIR inside the output/image (default: its root)\n"
	        "      --tags TAGS      go build -tags\n"
	        "      --ldflags FLAGS  go build -ldflags (e.g. \"-s -w\")\n"
	        "      --gcflags FLAGS  go build -gcflags\n"
	        "      --goos OS, --goarch ARCH   target platform (default: the environment's)\n"
	        "      --cgo            CGO_ENABLED=1 (default 0: static binaries for images)\n"
	        "      --cgo-from-env   take CGO_ENABLED from the environment\n"
	        "      --no-trimpath    do not pass -trimpath\n"
	        "      --buildvcs       pass -buildvcs=true (default false)\n"
	        "      --env K=V        extra environment for go, part of the key (repeatable)\n"
	        "      --target NAME    the name under which this build is remembered for explanations\n"
	        "image configuration (with --image; like the final stage's Dockerfile instructions):\n"
	        "      --image-env K=V  ENV in the image (repeatable; --env is go's environment)\n"
	        "      --entrypoint ARG ENTRYPOINT, one argv element per flag (repeatable);\n"
	        "                       default: the first binary, unless --cmd is given;\n"
	        "                       --entrypoint '' clears it (ENTRYPOINT [])\n"
	        "      --cmd ARG        CMD, one argv element per flag (repeatable)\n"
	        "      --workdir DIR    WORKDIR of the image\n"
	        "      --user USER      USER of the image (uid, uid:gid or a name)\n"
	        "      --label K=V      a LABEL of the image (repeatable)\n"
	        "      --cache DIR      the cache store (default $GOACCEL_CACHE or ~/.cache/goaccel)\n"
	        "      --json           print one JSON document (docs/build.md) instead of progress\n"
	        "  -v, --verbose        show the go commands and all of their output\n"
	        "\n"
	        "exit codes: 0 ok, 1 failure, 2 usage, 3 go failed, 5 mount locked, 130 interrupted\n",
	        dry_run ? "explain" : "build",
	        dry_run ? "Computes every step key of `goaccel build` with the same options and says which\n"
	                  "steps would hit and, for each miss, what changed since the previous build of\n"
	                  "the same target (files, flags, toolchain fields). Runs no build.\n"
	                : "Builds a Go module like a BuildKit Dockerfile with cache mounts: toolchain, deps\n"
	                  "(go mod download), build (go build) and extract steps, each keyed by exactly its\n"
	                  "inputs. A step whose key is cached is not run; nothing changed = no go process.\n");
}

/* ---- progress rendering ---------------------------------------------------------------------- */

static const char *status_word(goaccel_build_status s, int dry_run)
{
	if (!dry_run)
		return goaccel_build_status_name(s);
	return s == GOACCEL_BUILD_STATUS_HIT ? "would hit" : s == GOACCEL_BUILD_STATUS_MISS ? "would miss"
	                                                                                 : goaccel_build_status_name(s);
}

static const char *status_color(goaccel_build_status s)
{
	switch (s) {
	case GOACCEL_BUILD_STATUS_HIT:
		return "\033[32m";
	case GOACCEL_BUILD_STATUS_MISS:
		return "\033[33m";
	case GOACCEL_BUILD_STATUS_FAILED:
		return "\033[31m";
	default:
		return "\033[2m";
	}
}

static void clear_line(progress *p)
{
	if (p->line_shown) {
		fputs("\r\033[K", stdout);
		p->line_shown = 0;
	}
}

static void draw_live(progress *p, int64_t elapsed)
{
	char d[32];
	cli_fmt_duration(d, sizeof(d), elapsed);
	fprintf(stdout, "\r\033[K  \033[36m>\033[0m %-9s %-8s %s  %s", goaccel_build_step_name(p->step),
	        "running", d, p->step_msg);
	fflush(stdout);
	p->line_shown = 1;
}

static void print_step_line(progress *p, const goaccel_build_event *ev)
{
	char d[32];
	cli_fmt_duration(d, sizeof(d), ev->elapsed_ns);
	if (p->tty) {
		clear_line(p);
		printf("  %s%-10s\033[0m %-9s %7s  %s\n", status_color(ev->status),
		       status_word(ev->status, p->dry_run), goaccel_build_step_name(ev->step), d,
		       ev->message ? ev->message : "");
	} else {
		printf("%s: %s (%s) %s\n", goaccel_build_step_name(ev->step),
		       status_word(ev->status, p->dry_run), d, ev->message ? ev->message : "");
	}
	fflush(stdout);
}

static int on_progress(const goaccel_build_event *ev, void *payload)
{
	progress *p = payload;
	if (cli_interrupted)
		return 1;
	if (p->json)
		return 0;
	switch (ev->type) {
	case GOACCEL_BUILD_EVENT_STEP_START:
		p->step = ev->step;
		snprintf(p->step_msg, sizeof(p->step_msg), "%s", ev->message ? ev->message : "");
		if (p->tty)
			draw_live(p, 0);
		break;
	case GOACCEL_BUILD_EVENT_COMMAND:
		if (p->verbose) {
			clear_line(p);
			fprintf(stderr, "$ %s\n", ev->message);
		}
		break;
	case GOACCEL_BUILD_EVENT_TICK:
		if (p->tty)
			draw_live(p, ev->elapsed_ns);
		break;
	case GOACCEL_BUILD_EVENT_OUTPUT:
		/* go's own output (compiler diagnostics, "go: downloading ..."), as it arrives */
		clear_line(p);
		fflush(stdout);
		fwrite(ev->data, 1, ev->len, stderr);
		fflush(stderr);
		break;
	case GOACCEL_BUILD_EVENT_STEP_END:
		print_step_line(p, ev);
		break;
	}
	return 0;
}

static void print_changes(const goaccel_build_result *res, goaccel_build_step step)
{
	static const char *kinds[] = {"file", "field", "toolchain", "first"};
	size_t i, n = goaccel_build_result_change_count(res, step);
	for (i = 0; i < n; i++) {
		const goaccel_build_change *c = goaccel_build_result_change_byindex(res, step, i);
		if (c->kind == GOACCEL_BUILD_CHANGE_FIRST)
			continue;
		if (c->old_value || c->new_value)
			printf("      %-9s %s: \"%s\" -> \"%s\"\n", kinds[c->kind], c->name,
			       c->old_value ? c->old_value : "", c->new_value ? c->new_value : "");
		else
			printf("      %-9s %s (%s)\n", kinds[c->kind], c->name, c->what);
	}
}

static void print_summary(const goaccel_build_result *res, int dry_run, int tty)
{
	int64_t total = 0, saved = 0;
	int hits = 0, misses = 0, i;
	size_t k;
	char d[32], s[32];
	for (i = 0; i < GOACCEL_BUILD_STEP_COUNT; i++) {
		goaccel_build_status st = goaccel_build_result_status(res, (goaccel_build_step)i);
		total += goaccel_build_result_duration_ns(res, (goaccel_build_step)i);
		saved += goaccel_build_result_saved_ns(res, (goaccel_build_step)i);
		hits += st == GOACCEL_BUILD_STATUS_HIT;
		misses += st == GOACCEL_BUILD_STATUS_MISS && i != GOACCEL_BUILD_STEP_EXTRACT;
	}
	if (dry_run) {
		for (i = GOACCEL_BUILD_STEP_DEPS; i <= GOACCEL_BUILD_STEP_BUILD; i++)
			print_changes(res, (goaccel_build_step)i);
		printf("explain: %d step%s would hit, %d would run\n", hits, hits == 1 ? "" : "s", misses);
		return;
	}
	for (k = 0; k < goaccel_build_result_output_count(res); k++) {
		const goaccel_build_output *o = goaccel_build_result_output_byindex(res, k);
		char b[32], dg[80];
		cli_fmt_bytes(b, sizeof(b), o->size);
		cli_fmt_digest(dg, &o->digest);
		printf("  %s  %s  %.19s\n", o->path ? o->path : o->name, b, dg);
	}
	if (goaccel_build_result_image_digest(res)) {
		char dg[80];
		cli_fmt_digest(dg, goaccel_build_result_image_digest(res));
		printf("  image manifest %s\n", dg);
	}
	cli_fmt_duration(d, sizeof(d), total);
	cli_fmt_duration(s, sizeof(s), saved);
	printf("%sbuild: %d hit%s, %d miss%s in %s (saved %s)%s\n", tty ? "\033[1m" : "", hits,
	       hits == 1 ? "" : "s", misses, misses == 1 ? "" : "es", d, s, tty ? "\033[0m" : "");
}

/* ---- JSON for failures ----------------------------------------------------------------------- */

static void json_string_out(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void print_json_error(int error)
{
	printf("{\n  \"format\": 1,\n  \"error\": {\n    \"code\": ");
	json_string_out(stdout, goaccel_error_code_name(error));
	printf(",\n    \"message\": ");
	json_string_out(stdout, goaccel_error_last()->message);
	printf("\n  }\n}\n");
}

/* ---- options ----------------------------------------------------------------------------- */

/* "DIR:REF" -> dir (a new string) + ref (borrowed), splitting at the last ':' when what follows
 * looks like a ref (no '/'). */
static char *split_ref(const char *arg, const char **ref)
{
	const char *colon = strrchr(arg, ':');
	if (colon && colon != arg && !strchr(colon + 1, '/') && colon[1]) {
		*ref = colon + 1;
		return strndup(arg, (size_t)(colon - arg));
	}
	*ref = NULL;
	return strdup(arg);
}

enum {
	OPT_IMAGE = 1000, OPT_BASE, OPT_COPY, OPT_BINDIR, OPT_TAGS, OPT_LDFLAGS, OPT_GCFLAGS,
	OPT_GOOS, OPT_GOARCH, OPT_CGO, OPT_CGO_ENV, OPT_NOTRIM, OPT_BUILDVCS, OPT_ENV, OPT_TARGET,
	OPT_CACHE, OPT_JSON, OPT_IMAGE_ENV, OPT_ENTRYPOINT, OPT_CMD, OPT_WORKDIR, OPT_USER, OPT_LABEL
};

static const struct option long_opts[] = {
	{"package", required_argument, NULL, 'p'}, {"output", required_argument, NULL, 'o'},
	{"image", required_argument, NULL, OPT_IMAGE}, {"base", required_argument, NULL, OPT_BASE},
	{"copy", required_argument, NULL, OPT_COPY}, {"bin-dir", required_argument, NULL, OPT_BINDIR},
	{"tags", required_argument, NULL, OPT_TAGS}, {"ldflags", required_argument, NULL, OPT_LDFLAGS},
	{"gcflags", required_argument, NULL, OPT_GCFLAGS}, {"goos", required_argument, NULL, OPT_GOOS},
	{"goarch", required_argument, NULL, OPT_GOARCH}, {"cgo", no_argument, NULL, OPT_CGO},
	{"cgo-from-env", no_argument, NULL, OPT_CGO_ENV}, {"no-trimpath", no_argument, NULL, OPT_NOTRIM},
	{"buildvcs", no_argument, NULL, OPT_BUILDVCS}, {"env", required_argument, NULL, OPT_ENV},
	{"target", required_argument, NULL, OPT_TARGET}, {"cache", required_argument, NULL, OPT_CACHE},
	{"json", no_argument, NULL, OPT_JSON}, {"verbose", no_argument, NULL, 'v'},
	{"image-env", required_argument, NULL, OPT_IMAGE_ENV},
	{"entrypoint", required_argument, NULL, OPT_ENTRYPOINT}, {"cmd", required_argument, NULL, OPT_CMD},
	{"workdir", required_argument, NULL, OPT_WORKDIR}, {"user", required_argument, NULL, OPT_USER},
	{"label", required_argument, NULL, OPT_LABEL},
	{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};

typedef struct {
	goaccel_build_options o;
	cli_list packages, env, image_env, entrypoint, cmd, labels;
	goaccel_build_copy *copies;
	char *image_dir, *base_dir;
	const char *dir;
} build_args;

static int add_copy(build_args *a, const char *arg, const char *cmd)
{
	const char *colon = strchr(arg, ':');
	goaccel_build_copy *c;
	if (!colon || colon == arg || !colon[1])
		return cli_usage_error(cmd, "--copy wants SRC:DST, got '%s'", arg);
	if ((c = realloc(a->copies, (a->o.copy_count + 1) * sizeof(*c))) == NULL)
		return CLI_FAIL;
	a->copies = c;
	/* the strings live in argv; src is cut at the colon in place */
	c[a->o.copy_count].src = arg;
	c[a->o.copy_count].dst = colon + 1;
	*(char *)colon = '\0';
	a->o.copy_count++;
	return 0;
}

/* An options array and its count from a list collected on the command line (borrowed). */
static void use_list(const char *const **v, size_t *n, const cli_list *l)
{
	*v = l->v;
	*n = l->n;
}

static int parse(build_args *a, progress *p, int argc, char **argv, const char *cmd)
{
	int c, rc;
	optind = 0;
	while ((c = getopt_long(argc, argv, "p:o:vh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'p': cli_list_add(&a->packages, optarg); break;
		case 'o': a->o.output_dir = optarg; break;
		case OPT_IMAGE: free(a->image_dir); a->image_dir = split_ref(optarg, &a->o.image_ref); break;
		case OPT_BASE: free(a->base_dir); a->base_dir = split_ref(optarg, &a->o.base_ref); break;
		case OPT_COPY:
			if ((rc = add_copy(a, optarg, cmd)) != 0)
				return rc;
			break;
		case OPT_BINDIR: a->o.bin_dir = optarg; break;
		case OPT_TAGS: a->o.tags = optarg; break;
		case OPT_LDFLAGS: a->o.ldflags = optarg; break;
		case OPT_GCFLAGS: a->o.gcflags = optarg; break;
		case OPT_GOOS: a->o.goos = optarg; break;
		case OPT_GOARCH: a->o.goarch = optarg; break;
		case OPT_CGO: a->o.cgo = 1; break;
		case OPT_CGO_ENV: a->o.cgo = -1; break;
		case OPT_NOTRIM: a->o.trimpath = 0; break;
		case OPT_BUILDVCS: a->o.buildvcs = 1; break;
		case OPT_ENV:
			if (!strchr(optarg, '=') || optarg[0] == '=')
				return cli_usage_error(cmd, "--env wants NAME=VALUE, got '%s'", optarg);
			cli_list_add(&a->env, optarg);
			break;
		case OPT_IMAGE_ENV:
		case OPT_LABEL:
			if (!strchr(optarg, '=') || optarg[0] == '=')
				return cli_usage_error(cmd, "--%s wants NAME=VALUE, got '%s'",
				                       c == OPT_LABEL ? "label" : "image-env", optarg);
			cli_list_add(c == OPT_LABEL ? &a->labels : &a->image_env, optarg);
			break;
		case OPT_ENTRYPOINT: cli_list_add(&a->entrypoint, optarg); break;
		case OPT_CMD: cli_list_add(&a->cmd, optarg); break;
		case OPT_WORKDIR: a->o.image_workdir = optarg; break;
		case OPT_USER: a->o.image_user = optarg; break;
		case OPT_TARGET: a->o.target = optarg; break;
		case OPT_CACHE: a->o.cache_dir = optarg; break;
		case OPT_JSON: p->json = 1; break;
		case 'v': p->verbose = 1; break;
		case 'h': build_usage(stdout, p->dry_run); return -1;
		default: return cli_usage_error(cmd, "bad option");
		}
	}
	if (optind < argc)
		a->dir = argv[optind++];
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (a->base_dir && !a->image_dir)
		return cli_usage_error(cmd, "--base needs --image");
	if (!a->image_dir && (a->image_env.n || a->entrypoint.n || a->cmd.n || a->labels.n ||
	                      a->o.image_workdir || a->o.image_user))
		return cli_usage_error(cmd, "--image-env, --entrypoint, --cmd, --workdir, --user and "
		                            "--label need --image");
	use_list(&a->o.image_env, &a->o.image_env_count, &a->image_env);
	use_list(&a->o.image_entrypoint, &a->o.image_entrypoint_count, &a->entrypoint);
	use_list(&a->o.image_cmd, &a->o.image_cmd_count, &a->cmd);
	use_list(&a->o.image_labels, &a->o.image_label_count, &a->labels);
	use_list(&a->o.packages, &a->o.package_count, &a->packages);
	use_list(&a->o.env, &a->o.env_count, &a->env);
	a->o.copies = a->copies;
	a->o.image_dir = a->image_dir;
	a->o.base_dir = a->base_dir;
	return 0;
}

int cmd_build(int argc, char **argv, int dry_run)
{
	build_args a;
	progress p;
	goaccel_build_result *res = NULL;
	const char *cmd = dry_run ? "explain" : "build";
	int rc, error;
	memset(&a, 0, sizeof(a));
	memset(&p, 0, sizeof(p));
	goaccel_build_options_init(&a.o, GOACCEL_BUILD_OPTIONS_VERSION);
	p.dry_run = dry_run;
	if ((rc = parse(&a, &p, argc, argv, cmd)) != 0) {
		rc = rc < 0 ? 0 : rc;
		goto done;
	}
	p.tty = !p.json && isatty(STDOUT_FILENO) && getenv("TERM") && strcmp(getenv("TERM"), "dumb");
	a.o.dry_run = dry_run;
	a.o.progress = on_progress;
	a.o.payload = &p;
	error = goaccel_go_build(&res, a.dir ? a.dir : ".", &a.o);
	clear_line(&p);
	if (error < 0) {
		if (p.json)
			print_json_error(error);
		rc = cli_fail(cmd);
		goto done;
	}
	if (p.json) {
		char *js = NULL;
		if (goaccel_build_result_to_json(&js, res) < 0) {
			rc = cli_fail(cmd);
			goto done;
		}
		printf("%s\n", js);
		goaccel_free(js);
	} else {
		print_summary(res, dry_run, p.tty);
	}
	rc = CLI_OK;
done:
	goaccel_build_result_free(res);
	cli_list_free(&a.packages);
	cli_list_free(&a.env);
	cli_list_free(&a.image_env);
	cli_list_free(&a.entrypoint);
	cli_list_free(&a.cmd);
	cli_list_free(&a.labels);
	free(a.copies);
	free(a.image_dir);
	free(a.base_dir);
	return rc;
}
