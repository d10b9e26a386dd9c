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
