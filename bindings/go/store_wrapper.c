#include <stdlib.h>
#include <string.h>
#include "wrapper.h"
#include "_cgo_export.h"

static int gobind_prune_callback(const goaccel_prune_event *event, void *payload)
{
	return gobindPruneEvent((goaccel_prune_event *)event, (uintptr_t)payload);
}

void gobind_prune_set_callback(goaccel_prune_options *opts, uintptr_t handle)
{
	opts->callback = gobind_prune_callback;
	opts->payload = (void *)handle;
}

static int gobind_verify_callback(const goaccel_verify_event *event, void *payload)
{
	return gobindVerifyEvent((goaccel_verify_event *)event, (uintptr_t)payload);
}

void gobind_verify_set_callback(goaccel_verify_options *opts, uintptr_t handle)
{
	opts->callback = gobind_verify_callback;
	opts->payload = (void *)handle;
}

static int gobind_collect_ref(const goaccel_ref_entry *ref, void *payload)
{
	gobind_refs *l = payload;
	char *name;
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		goaccel_ref_entry *items = realloc(l->items, cap * sizeof(*items));
		if (items == NULL)
			return -1;
		l->items = items;
		l->cap = cap;
	}
	if ((name = strdup(ref->name)) == NULL)
		return -1;
	l->items[l->count] = *ref;
	l->items[l->count++].name = name;
	return 0;
}

/* GOACCEL_EUSER from the library means only that a copy failed: out of memory. */
int gobind_refs_get(gobind_refs *out, goaccel_store *store)
{
	int ret;
	memset(out, 0, sizeof(*out));
	ret = goaccel_store_ref_foreach(store, gobind_collect_ref, out);
	if (ret < 0)
		gobind_refs_free(out);
	return ret;
}

void gobind_refs_free(gobind_refs *refs)
{
	size_t i;
	for (i = 0; i < refs->count; i++)
		free((void *)refs->items[i].name);
	free(refs->items);
	memset(refs, 0, sizeof(*refs));
}
