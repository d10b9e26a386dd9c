/* goaccel cache: inspect and maintain the store (goaccel/store.h, goaccel/mount.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static void cache_usage(FILE *f)
{
	fprintf(f, "usage: goaccel cache <subcommand> [--cache DIR] [options]\n"
	           "\n"
	           "  du                      what the store holds: blobs, actions, refs, mounts, bytes\n"
	           "  ls [--kind KIND] [--glob GLOB] [--actions]\n"
	           "                          action records (least recently used first: size, last use,\n"
	           "                          outputs, how long the step took, KIND/KEY), then refs and\n"
	           "                          cache mounts; --kind, --glob (on KIND/KEY) or --actions list\n"
	           "                          only the matching action records\n"
	           "  stats [--json] [--reset]  hits, misses, time saved: per step kind counted so far,\n"
	           "                          then the total\n"
	           "  prune [--max-size SIZE] [--keep-duration DUR] [--glob GLOB] [--dry-run] [-v]\n"
	           "                          remove unreferenced blobs, entries unused for DUR (30s, 15m,\n"
	           "                          24h, 7d) and, least recently used first, whatever exceeds SIZE\n"
	           "                          (512M, 2G); mounts in use are never touched\n"
	           "  verify [--repair]       rehash every blob, check every record and ref\n"
	           "  export FILE [--mount ID]... [--no-mounts] [--no-actions] [--no-refs] [--base OLD]\n"
	           "                          write mounts, actions and refs to a tar+zstd archive (a delta\n"
	           "                          against OLD with --base); default: everything\n"
	           "  import FILE             merge an archive written by export (hostile-input safe)\n"
	           "\n"
	           "--cache DIR selects the store (default $GOACCEL_CACHE, $XDG_CACHE_HOME/goaccel,\n"
	           "~/.cache/goaccel).\n"
	           "\n"
	           "exit codes: 0 ok, 1 failure, 2 usage, 4 verify found problems, 5 a mount stayed locked\n");
}

static void fmt_age(char *buf, size_t size, int64_t when_ns)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	cli_fmt_duration(buf, size, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec - when_ns);
}

static int cache_du(goaccel_store *store)
{
	goaccel_store_usage u;
	char a[32], b[32], c[32], t[32];
	if (goaccel_store_usage_get(&u, store) < 0)
		return cli_fail("cache du");
	cli_fmt_bytes(a, sizeof(a), u.blob_bytes);
	cli_fmt_bytes(b, sizeof(b), u.action_bytes);
	cli_fmt_bytes(c, sizeof(c), u.mount_bytes);
	cli_fmt_bytes(t, sizeof(t), u.total_bytes);
	printf("blobs    %8llu  %s\n", (unsigned long long)u.blobs, a);
	printf("actions  %8llu  %s\n", (unsigned long long)u.actions, b);
	printf("refs     %8llu\n", (unsigned long long)u.refs);
	printf("mounts   %8llu  %s\n", (unsigned long long)u.mounts, c);
	printf("total              %s  (%s)\n", t, goaccel_store_path(store));
	return CLI_OK;
}

static int ls_entry(const goaccel_prune_event *ev, void *payload)
{
	static const char *kinds[] = {"", "blob", "action", "", "mount", "", "", "", "ref"};
	char b[32], age[32];
	(void)payload;
	cli_fmt_bytes(b, sizeof(b), ev->bytes);
	fmt_age(age, sizeof(age), ev->last_used_ns);
	printf("%-6s  %10s  used %8s ago  %s\n", (unsigned)ev->kind < 9 ? kinds[ev->kind] : "?", b, age,
	       ev->id);
	return 0;
}

static int ls_ref(const goaccel_ref_entry *ref, void *payload)
{
	char age[32], hex[GOACCEL_DIGEST_HEXSIZE + 1];
	(void)payload;
	goaccel_digest_fmt(hex, &ref->blob);
	fmt_age(age, sizeof(age), ref->last_used_ns);
	printf("%-6s  %10.10s  used %8s ago  %s\n", "ref", hex, age, ref->name);
	return cli_interrupted;
}

/* One line per entry, the id last: "action SIZE used AGO ago N outputs took DUR KIND/KEY",
 * "ref BLOB used AGO ago NAME", "mount SIZE used AGO ago ID (N files)". */
static int cache_ls(goaccel_store *store, int argc, char **argv)
{
	goaccel_action_list_options lo = GOACCEL_ACTION_LIST_OPTIONS_INIT;
	goaccel_action_list *al = NULL;
	goaccel_mount_list *ml = NULL;
	int k, rc = CLI_OK, refs = 1, mounts = 1;
	size_t i;
	for (k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--kind") && k + 1 < argc) {
			lo.kind = argv[++k];
			refs = mounts = 0;
		} else if (!strcmp(argv[k], "--glob") && k + 1 < argc) {
			lo.glob = argv[++k];
			refs = mounts = 0;
		} else if (!strcmp(argv[k], "--actions")) {
			refs = mounts = 0;
		} else {
			return cli_usage_error("cache ls", "bad argument '%s'", argv[k]);
		}
	}
	/* Least recently used first: the order prune removes them in. */
	lo.sort = GOACCEL_ACTION_SORT_LAST_USED;
	if (goaccel_store_action_list_get(&al, store, &lo) < 0) {
		rc = cli_fail("cache ls");
		goto done;
	}
	for (i = 0; i < goaccel_action_list_count(al) && !cli_interrupted; i++) {
		const goaccel_action_entry *e = goaccel_action_list_byindex(al, i);
		char b[32], age[32], took[32], hex[GOACCEL_DIGEST_HEXSIZE + 1];
		cli_fmt_bytes(b, sizeof(b), e->total_size);
		fmt_age(age, sizeof(age), e->last_used_ns);
		cli_fmt_duration(took, sizeof(took), e->duration_ns);
		goaccel_digest_fmt(hex, &e->key);
		printf("%-6s  %10s  used %8s ago  %3zu output%s  took %8s  %s/%s\n", "action", b, age,
		       e->output_count, e->output_count == 1 ? " " : "s", took, e->kind, hex);
	}
	if (goaccel_action_list_skipped(al))
		fprintf(stderr, "goaccel cache ls: %zu unreadable action records skipped (see cache verify)\n",
		        goaccel_action_list_skipped(al));
	if (refs && goaccel_store_ref_foreach(store, ls_ref, NULL) < 0 && !cli_interrupted) {
		rc = cli_fail("cache ls");
		goto done;
	}
	if (mounts && goaccel_mount_list_get(&ml, store, 1) < 0) {
		rc = cli_fail("cache ls");
		goto done;
	}
	for (i = 0; i < goaccel_mount_list_count(ml); i++) {
		const goaccel_mount_info *m = goaccel_mount_list_byindex(ml, i);
		char b[32], age[32], inst[16] = "";
		cli_fmt_bytes(b, sizeof(b), m->bytes);
		fmt_age(age, sizeof(age), m->last_used_ns);
		if (m->instance)
			snprintf(inst, sizeof(inst), "@%u", m->instance);
		printf("%-6s  %10s  used %8s ago  %s%s (%llu files)%s\n", "mount", b, age, m->id, inst,
		       (unsigned long long)m->files, m->in_use ? " in use" : "");
	}
done:
	goaccel_action_list_free(al);
	goaccel_mount_list_free(ml);
	return rc;
}

static void print_counters(const char *name, const goaccel_store_counters *c)
{
	char saved[32], rest[32];
	uint64_t lookups = c->hits + c->misses;
	cli_fmt_duration(saved, sizeof(saved), (int64_t)c->time_saved_ns);
	cli_fmt_bytes(rest, sizeof(rest), c->bytes_restored);
	printf("%-16s hits %6llu  misses %6llu  hit rate %5.1f%%  saved %9s  restored %10s  puts %llu"
	       "  corrupt %llu\n",
	       name, (unsigned long long)c->hits, (unsigned long long)c->misses,
	       lookups ? 100.0 * (double)c->hits / (double)lookups : 0.0, saved, rest,
	       (unsigned long long)c->puts, (unsigned long long)c->corrupt);
}

static int cache_stats(goaccel_store *store, int argc, char **argv)
{
	goaccel_strarray kinds = {NULL, 0};
	goaccel_store_counters c;
	int k, json = 0, reset = 0, rc = CLI_OK;
	size_t i;
	for (k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--json"))
			json = 1;
		else if (!strcmp(argv[k], "--reset"))
			reset = 1;
		else
			return cli_usage_error("cache stats", "bad argument '%s'", argv[k]);
	}
	if (reset)
		return goaccel_store_stats_reset(store) < 0 ? cli_fail("cache stats") : CLI_OK;
	if (json) {
		char *js = NULL;
		if (goaccel_store_stats_json(&js, store, 1) < 0)
			return cli_fail("cache stats");
		printf("%s\n", js);
		goaccel_free(js);
		return CLI_OK;
	}
	/* One line per step kind counted so far ("-": lookups made without a kind), then the total. */
	if (goaccel_store_stats_kinds(&kinds, store) < 0)
		return cli_fail("cache stats");
	for (i = 0; i < kinds.count; i++) {
		if (goaccel_store_stats(&c, store, kinds.strings[i]) < 0) {
			rc = cli_fail("cache stats");
			goto done;
		}
		print_counters(kinds.strings[i][0] ? kinds.strings[i] : "-", &c);
	}
	if (goaccel_store_stats(&c, store, NULL) < 0) {
		rc = cli_fail("cache stats");
		goto done;
	}
	print_counters("total", &c);
done:
	goaccel_strarray_dispose(&kinds);
	return rc;
}

static int prune_entry(const goaccel_prune_event *ev, void *payload)
{
	if (*(int *)payload)
		ls_entry(ev, NULL);
	return cli_interrupted;
}

static int cache_prune(goaccel_store *store, int argc, char **argv)
{
	goaccel_prune_options po = GOACCEL_PRUNE_OPTIONS_INIT;
	goaccel_prune_result r;
	char freed[32], before[32], after[32];
	int k, verbose = 0;
	for (k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--max-size") && k + 1 < argc) {
			if (cli_parse_bytes(&po.max_bytes, argv[++k]) < 0)
				return cli_usage_error("cache prune", "bad size '%s'", argv[k]);
		} else if (!strcmp(argv[k], "--keep-duration") && k + 1 < argc) {
			if (cli_parse_duration(&po.keep_duration_ns, argv[++k]) < 0)
				return cli_usage_error("cache prune", "bad duration '%s'", argv[k]);
		} else if (!strcmp(argv[k], "--glob") && k + 1 < argc) {
			po.id_glob = argv[++k];
		} else if (!strcmp(argv[k], "--dry-run")) {
			po.dry_run = 1;
		} else if (!strcmp(argv[k], "-v") || !strcmp(argv[k], "--verbose")) {
			verbose = 1;
		} else {
			return cli_usage_error("cache prune", "bad argument '%s'", argv[k]);
		}
	}
	po.callback = prune_entry;
	po.payload = &verbose;
	if (goaccel_store_prune(&r, store, &po) < 0)
		return cli_fail("cache prune");
	cli_fmt_bytes(freed, sizeof(freed), r.bytes_freed);
	cli_fmt_bytes(before, sizeof(before), r.bytes_before);
	cli_fmt_bytes(after, sizeof(after), r.bytes_after);
	printf("%s %llu blobs, %llu actions, %llu mounts, %llu refs: %s freed (%s -> %s)%s\n",
	       po.dry_run ? "would remove" : "removed", (unsigned long long)r.blobs,
	       (unsigned long long)r.actions, (unsigned long long)r.mounts, (unsigned long long)r.refs,
	       freed, before, after, r.mounts_in_use ? " (mounts in use kept)" : "");
	return CLI_OK;
}

static int verify_entry(const goaccel_verify_event *ev, void *payload)
{
	(void)payload;
	printf("%s: %s%s\n", ev->path, ev->detail, ev->repaired ? " (repaired)" : "");
	return cli_interrupted;
}

static int cache_verify(goaccel_store *store, int argc, char **argv)
{
	goaccel_verify_options vo = GOACCEL_VERIFY_OPTIONS_INIT;
	goaccel_verify_result r;
	int k, error;
	for (k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--repair"))
			vo.repair = 1;
		else
			return cli_usage_error("cache verify", "bad argument '%s'", argv[k]);
	}
	vo.callback = verify_entry;
	memset(&r, 0, sizeof(r));
	error = goaccel_store_verify(&r, store, &vo);
	if (error < 0 && error != GOACCEL_EMISMATCH)
		return cli_fail("cache verify");
	printf("checked %llu blobs, %llu actions, %llu refs: %llu problems, %llu repaired\n",
	       (unsigned long long)r.blobs, (unsigned long long)r.actions, (unsigned long long)r.refs,
	       (unsigned long long)r.problems, (unsigned long long)r.repaired);
	return error == GOACCEL_EMISMATCH ? CLI_MISMATCH : CLI_OK;
}

static void print_transfer(const char *verb, const char *path, const goaccel_transfer_result *t)
{
	char b[32];
	cli_fmt_bytes(b, sizeof(b), t->bytes);
	printf("%s %s: %llu actions, %llu blobs, %llu refs, %llu mounts (%llu files), %s%s\n", verb,
	       path, (unsigned long long)t->actions, (unsigned long long)t->blobs,
	       (unsigned long long)t->refs, (unsigned long long)t->mounts, (unsigned long long)t->files, b,
	       t->unchanged ? " (delta)" : "");
}

static int cache_export(goaccel_store *store, int argc, char **argv)
{
	goaccel_export_options eo = GOACCEL_EXPORT_OPTIONS_INIT;
	goaccel_transfer_result t;
	cli_list mounts = {NULL, 0};
	const char *path = NULL;
	int k, rc = CLI_OK, no_mounts = 0;
	eo.actions = 1;
	eo.refs = 1;
	for (k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--mount") && k + 1 < argc)
			cli_list_add(&mounts, argv[++k]);
		else if (!strcmp(argv[k], "--no-mounts"))
			no_mounts = 1;
		else if (!strcmp(argv[k], "--no-actions"))
			eo.actions = 0;
		else if (!strcmp(argv[k], "--no-refs"))
			eo.refs = 0;
		else if (!strcmp(argv[k], "--base") && k + 1 < argc)
			eo.base = argv[++k];
		else if (!strcmp(argv[k], "--manifest-out") && k + 1 < argc)
			eo.manifest_out = argv[++k];
		else if (argv[k][0] != '-' && !path)
			path = argv[k];
		else {
			rc = cli_usage_error("cache export", "bad argument '%s'", argv[k]);
			goto done;
		}
	}
	if (!path) {
		rc = cli_usage_error("cache export", "expected FILE");
		goto done;
	}
	eo.mounts = mounts.v;
	eo.mounts_count = mounts.n;
	eo.all_mounts = !no_mounts && mounts.n == 0;
	if (goaccel_store_export(&t, store, path, &eo) < 0) {
		rc = cli_fail("cache export");
		goto done;
	}
	print_transfer("exported to", path, &t);
done:
	cli_list_free(&mounts);
	return rc;
}

static int cache_import(goaccel_store *store, int argc, char **argv)
{
	goaccel_transfer_result t;
	if (argc != 2 || argv[1][0] == '-')
		return cli_usage_error("cache import", "expected FILE");
	if (goaccel_store_import(&t, store, argv[1], NULL) < 0)
		return cli_fail("cache import");
	print_transfer("imported from", argv[1], &t);
	return CLI_OK;
}

int cmd_cache(int argc, char **argv)
{
	goaccel_store *store = NULL;
	const char *root = NULL, *sub;
	char **args;
	int i, n = 0, rc;
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		cache_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	/* --cache DIR may appear anywhere; the rest goes to the subcommand. */
	if ((args = calloc((size_t)argc, sizeof(*args))) == NULL)
		return CLI_FAIL;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--cache") && i + 1 < argc)
			root = argv[++i];
		else
			args[n++] = argv[i];
	}
	for (i = 0; i < n; i++) {
		if (!strcmp(args[i], "--help") || !strcmp(args[i], "-h")) { /* goaccel cache ls --help */
			cache_usage(stdout);
			rc = CLI_OK;
			goto done;
		}
	}
	sub = n ? args[0] : "";
	if (strcmp(sub, "du") && strcmp(sub, "ls") && strcmp(sub, "stats") && strcmp(sub, "prune") &&
	    strcmp(sub, "verify") && strcmp(sub, "export") && strcmp(sub, "import")) {
		rc = cli_usage_error("cache", "unknown subcommand '%s'", sub);
		goto done;
	}
	if (goaccel_store_open(&store, root, NULL) < 0) {
		rc = cli_fail("cache");
		goto done;
	}
	if (!strcmp(sub, "du"))
		rc = n == 1 ? cache_du(store) : cli_usage_error("cache du", "no arguments expected");
	else if (!strcmp(sub, "ls"))
		rc = cache_ls(store, n, args);
	else if (!strcmp(sub, "stats"))
		rc = cache_stats(store, n, args);
	else if (!strcmp(sub, "prune"))
		rc = cache_prune(store, n, args);
	else if (!strcmp(sub, "verify"))
		rc = cache_verify(store, n, args);
	else if (!strcmp(sub, "export"))
		rc = cache_export(store, n, args);
	else
		rc = cache_import(store, n, args);
done:
	goaccel_store_free(store);
	free(args);
	return rc;
}
