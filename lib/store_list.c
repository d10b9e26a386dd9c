/* Listing action records (goaccel/store.h): a snapshot of actions/XX/<key>.json, read without
 * touching anything. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_internal.h"
#include "util/err.h"

typedef struct {
	ga_record rec;
	goaccel_action_output_info *outputs;
	goaccel_action_entry entry;
} list_item;

struct goaccel_action_list {
	list_item *items;
	size_t count, alloc;
	size_t skipped;
};

typedef struct {
	goaccel_store *s;
	const goaccel_action_list_options *o;
	goaccel_action_list *l;
} list_walk;

int goaccel_action_list_options_init(goaccel_action_list_options *opts, unsigned int version)
{
	GA_INIT_STRUCTURE(opts, version, goaccel_action_list_options, GOACCEL_ACTION_LIST_OPTIONS_INIT);
	return 0;
}

static int add_record(const char *path, const char *hex, const struct stat *st, void *payload)
{
	list_walk *w = payload;
	goaccel_action_list *l = w->l;
	goaccel_digest key;
	list_item *it;
	int fd = -1, error;
	int64_t mtime = 0;
	size_t i;
	char id[GA_KIND_MAX + 1 + GOACCEL_DIGEST_HEXSIZE + 1];
	if (goaccel_digest_parse(&key, hex) < 0) {
		goaccel_error_clear();
		return 0;
	}
	if (l->count == l->alloc) {
		size_t n = l->alloc ? 2 * l->alloc : 64;
		list_item *grown = realloc(l->items, n * sizeof(*grown));
		if (!grown)
			return ga_error_oom();
		l->items = grown;
		l->alloc = n;
	}
	it = &l->items[l->count];
	memset(it, 0, sizeof(*it));
	error = ga_action_read_record(&it->rec, &fd, &mtime, w->s, &key, path);
	if (fd >= 0)
		close(fd);
	if (error == GOACCEL_ENOTFOUND) { /* removed since the directory was read */
		goaccel_error_clear();
		return 0;
	}
	if (error == GOACCEL_ECORRUPT) {
		goaccel_error_clear();
		l->skipped++;
		return 0;
	}
	if (error < 0)
		return error;
	snprintf(id, sizeof(id), "%s/%s", it->rec.kind, hex);
	if ((w->o->kind && strcmp(w->o->kind, it->rec.kind)) ||
	    (w->o->glob && fnmatch(w->o->glob, id, 0) != 0)) {
		ga_record_dispose(&it->rec);
		return 0;
	}
	if (it->rec.count && (it->outputs = calloc(it->rec.count, sizeof(*it->outputs))) == NULL) {
		ga_record_dispose(&it->rec);
		return ga_error_oom();
	}
	for (i = 0; i < it->rec.count; i++) {
		it->outputs[i].name = it->rec.outputs[i].name;
		it->outputs[i].mode = it->rec.outputs[i].mode;
		it->outputs[i].size = it->rec.outputs[i].size;
		it->outputs[i].digest = it->rec.outputs[i].digest;
		it->entry.total_size += it->rec.outputs[i].size;
	}
	it->entry.key = it->rec.key;
	it->entry.kind = it->rec.kind;
	it->entry.created_ns = it->rec.created_ns;
	it->entry.last_used_ns = mtime;
	it->entry.duration_ns = it->rec.duration_ns;
	it->entry.info = it->rec.info;
	it->entry.output_count = it->rec.count;
	it->entry.outputs = it->outputs;
	it->entry.record_bytes = (uint64_t)st->st_size;
	l->count++;
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	return goaccel_digest_cmp(&((const list_item *)a)->entry.key, &((const list_item *)b)->entry.key);
}

static int cmp_last_used(const void *a, const void *b)
{
	const goaccel_action_entry *x = &((const list_item *)a)->entry, *y = &((const list_item *)b)->entry;
	if (x->last_used_ns != y->last_used_ns)
		return x->last_used_ns < y->last_used_ns ? -1 : 1;
	return goaccel_digest_cmp(&x->key, &y->key);
}

int goaccel_store_action_list_get(goaccel_action_list **out, goaccel_store *s,
                                  const goaccel_action_list_options *opts)
{
	goaccel_action_list_options o = GOACCEL_ACTION_LIST_OPTIONS_INIT;
	goaccel_action_list *l = NULL;
	list_walk w;
	size_t i;
	int error;
	GA_ASSERT_ARG(out && s);
	*out = NULL;
	GA_CHECK_VERSION(opts, GOACCEL_ACTION_LIST_OPTIONS_VERSION, "goaccel_action_list_options");
	if (opts)
		o = *opts;
	if (o.kind && (error = ga_store_valid_kind(o.kind)) < 0)
		return error;
	if (o.sort != GOACCEL_ACTION_SORT_KEY && o.sort != GOACCEL_ACTION_SORT_LAST_USED)
		return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_STORE,
		                "goaccel_action_list_options: unknown sort %d", (int)o.sort);
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return ga_error_oom();
	w.s = s;
	w.o = &o;
	w.l = l;
	if ((error = ga_store_walk_fanout(s, "actions", ".json", add_record, &w)) < 0)
		goto done;
	if (l->count)
		qsort(l->items, l->count, sizeof(*l->items),
		      o.sort == GOACCEL_ACTION_SORT_LAST_USED ? cmp_last_used : cmp_key);
	/* qsort moved the items: point each entry back at its own outputs and strings. */
	for (i = 0; i < l->count; i++) {
		list_item *it = &l->items[i];
		it->entry.kind = it->rec.kind;
		it->entry.info = it->rec.info;
		it->entry.outputs = it->outputs;
	}
	*out = l;
	l = NULL;
done:
	goaccel_action_list_free(l);
	return error;
}

size_t goaccel_action_list_count(const goaccel_action_list *l)
{
	return l ? l->count : 0;
}

const goaccel_action_entry *goaccel_action_list_byindex(const goaccel_action_list *l, size_t i)
{
	return l && i < l->count ? &l->items[i].entry : NULL;
}

size_t goaccel_action_list_skipped(const goaccel_action_list *l)
{
	return l ? l->skipped : 0;
}

void goaccel_action_list_free(goaccel_action_list *l)
{
	size_t i;
	if (!l)
		return;
	for (i = 0; i < l->count; i++) {
		ga_record_dispose(&l->items[i].rec);
		free(l->items[i].outputs);
	}
	free(l->items);
	free(l);
}
