/* goaccel hash: tree digests and manifests (goaccel/hash.h). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void hash_usage(FILE *f)
{
	fprintf(f, "usage: goaccel hash PATH [options]\n"
	           "\n"
	           "Prints the tree digest of a file or directory (docs/hashing.md): paths, types, the\n"
	           "executable bit, sizes and contents; never mtimes, owners, umask bits or the root's path.\n"
	           "\n"
	           "      --exclude PATTERN   leave out paths matching a .dockerignore pattern (repeatable)\n"
	           "      --ignore-file FILE  read .dockerignore-syntax patterns from FILE\n"
	           "      --gitignore         leave out what git ignores\n"
	           "      --go-inputs         hash exactly the files `go build` reads in the module at PATH\n"
	           "      --stat-cache FILE   reuse digests of unchanged files across runs\n"
	           "      --follow-symlinks   hash what in-tree symbolic links point to\n"
	           "      --manifest          also list every entry (digest, x bit, size, path)\n"
	           "      --json              print the manifest as JSON\n"
	           "      --stats             print counters (files hashed, bytes read, cache hits)\n"
	           "\n"
	           "exit codes: 0 ok, 1 failure, 2 usage\n");
}

static void print_manifest(const goaccel_manifest *m)
{
	size_t i, n = goaccel_manifest_entrycount(m);
	for (i = 0; i < n; i++) {
		const goaccel_manifest_entry *e = goaccel_manifest_entry_byindex(m, i);
		char hex[GOACCEL_DIGEST_HEXSIZE + 1];
		goaccel_digest_fmt(hex, &e->digest);
		if (e->type == GOACCEL_ENTRY_SYMLINK)
			printf("%.16s  l %10llu  %s -> %s\n", hex, (unsigned long long)e->size, e->path,
			       e->link_target);
		else
			printf("%.16s  %c %10llu  %s\n", hex, e->exec ? 'x' : '-',
			       (unsigned long long)e->size, e->path);
	}
}

enum { H_EXCLUDE = 1000, H_IGNFILE, H_GITIGNORE, H_GOINPUTS, H_STATCACHE, H_FOLLOW, H_MANIFEST,
       H_JSON, H_STATS };

int cmd_hash(int argc, char **argv)
{
	static const struct option opts[] = {
		{"exclude", required_argument, NULL, H_EXCLUDE}, {"ignore-file", required_argument, NULL, H_IGNFILE},
		{"gitignore", no_argument, NULL, H_GITIGNORE}, {"go-inputs", no_argument, NULL, H_GOINPUTS},
		{"stat-cache", required_argument, NULL, H_STATCACHE}, {"follow-symlinks", no_argument, NULL, H_FOLLOW},
		{"manifest", no_argument, NULL, H_MANIFEST}, {"json", no_argument, NULL, H_JSON},
		{"stats", no_argument, NULL, H_STATS}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	goaccel_hash_options ho = GOACCEL_HASH_OPTIONS_INIT;
	goaccel_hash_stats st;
	goaccel_manifest *m = NULL;
	goaccel_strarray files = {NULL, 0};
	goaccel_digest d;
	cli_list excl = {NULL, 0};
	int c, rc = CLI_OK, manifest = 0, json = 0, stats = 0, go_inputs = 0, error;
	char hex[GOACCEL_DIGEST_HEXSIZE + 8];
	const char *path;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case H_EXCLUDE: cli_list_add(&excl, optarg); break;
		case H_IGNFILE: ho.ignore_file = optarg; break;
		case H_GITIGNORE: ho.gitignore = 1; break;
		case H_GOINPUTS: go_inputs = 1; break;
		case H_STATCACHE: ho.stat_cache = optarg; break;
		case H_FOLLOW: ho.follow_symlinks = 1; break;
		case H_MANIFEST: manifest = 1; break;
		case H_JSON: json = 1; break;
		case H_STATS: stats = 1; break;
		case 'h': hash_usage(stdout); goto done;
		default: rc = cli_usage_error("hash", "bad option"); goto done;
		}
	}
	if (optind != argc - 1) {
		rc = cli_usage_error("hash", "expected one PATH");
		goto done;
	}
	path = argv[optind];
	ho.exclude = excl.v;
	ho.exclude_count = excl.n;
	ho.stats = &st;
	if (go_inputs) {
		if ((error = goaccel_gomod_build_inputs(&files, path, NULL)) == 0)
			error = goaccel_hash_paths(&d, &m, path, (const char *const *)files.strings,
			                           files.count, &ho);
	} else {
		error = goaccel_hash_tree(&d, &m, path, &ho);
	}
	if (error < 0) {
		rc = cli_fail("hash");
		goto done;
	}
	if (json) {
		char *js = NULL;
		if (goaccel_manifest_to_json(&js, m) < 0) {
			rc = cli_fail("hash");
			goto done;
		}
		printf("%s\n", js);
		goaccel_free(js);
		goto done;
	}
	cli_fmt_digest(hex, &d);
	printf("%s  %s\n", hex, path);
	if (manifest)
		print_manifest(m);
	if (stats)
		printf("entries %llu, files hashed %llu (%llu bytes), stat-cache hits %llu, excluded %llu\n",
		       (unsigned long long)st.entries, (unsigned long long)st.files_hashed,
		       (unsigned long long)st.bytes_hashed, (unsigned long long)st.cache_hits,
		       (unsigned long long)st.excluded);
done:
	goaccel_manifest_free(m);
	goaccel_strarray_dispose(&files);
	cli_list_free(&excl);
	return rc;
}
