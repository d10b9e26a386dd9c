#include "wrapper.h"
#include "_cgo_export.h"

/* The build progress trampoline (see wrapper.h). */
static int gobind_build_progress(const goaccel_build_event *event, void *payload)
{
	return gobindBuildProgress((goaccel_build_event *)event, (uintptr_t)payload);
}

void gobind_build_set_progress(goaccel_build_options *opts, uintptr_t handle)
{
	opts->progress = gobind_build_progress;
	opts->payload = (void *)handle;
}
