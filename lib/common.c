/* Library initialisation and version (goaccel/common.h, goaccel/version.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "util/dl_git.h"

#include "goaccel/common.h"
#include "goaccel/errors.h"
#include "goaccel/version.h"
#include "common_internal.h"
#include "util/err.h"

/* init_lock guards init_count and the initialisation of libgit2; git_ready is also read without
 * the lock (the fast path of ga_git_init) and only written under it. */
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static int init_count;
static atomic_int git_ready;

int goaccel_init(void)
{
	int ret;
	pthread_mutex_lock(&init_lock);
	ret = ++init_count;
	pthread_mutex_unlock(&init_lock);
	return ret;
}

int ga_git_init(void)
{
	int error = 0;
	if (atomic_load_explicit(&git_ready, memory_order_acquire))
		return 0;
	pthread_mutex_lock(&init_lock);
	if (!atomic_load_explicit(&git_ready, memory_order_relaxed)) {
		/* libgit2 is loaded with dlopen() on first use (util/dl_git.h); a failed load's error
		 * names the SONAME and dlerror()'s message. Not ga_error_git() on a failed init:
		 * libgit2's error state is not usable when it failed to start. */
		if ((error = ga_dl_git_load()) == 0) {
			if (git_libgit2_init() < 0)
				error = ga_error(GOACCEL_ERROR, GOACCEL_ERROR_GIT, "initialising libgit2");
			else
				atomic_store_explicit(&git_ready, 1, memory_order_release);
		}
	}
	pthread_mutex_unlock(&init_lock);
	return error;
}

int goaccel_shutdown(void)
{
	int ret;
	pthread_mutex_lock(&init_lock);
	if (init_count > 0 && --init_count == 0 && atomic_load_explicit(&git_ready, memory_order_relaxed)) {
		git_libgit2_shutdown();
		atomic_store_explicit(&git_ready, 0, memory_order_release);
	}
	ret = init_count;
	pthread_mutex_unlock(&init_lock);
	return ret;
}

void goaccel_free(void *ptr)
{
	free(ptr);
}

const char *goaccel_version(int *major, int *minor, int *patch)
{
	if (major)
		*major = GOACCEL_VERSION_MAJOR;
	if (minor)
		*minor = GOACCEL_VERSION_MINOR;
	if (patch)
		*patch = GOACCEL_VERSION_PATCH;
	return GOACCEL_VERSION;
}

void goaccel_strarray_dispose(goaccel_strarray *array)
{
	size_t i;
	if (!array)
		return;
	for (i = 0; i < array->count; i++)
		free(array->strings[i]);
	free(array->strings);
	array->strings = NULL;
	array->count = 0;
}
