/* Library initialisation and version (goaccel/common.h, goaccel/version.h). */
#include <pthread.h>
#include <stdlib.h>

#include <git2.h>

#include "goaccel/common.h"
#include "goaccel/errors.h"
#include "goaccel/version.h"
#include "util/err.h"

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static int init_count;

int goaccel_init(void)
{
	int ret;
	pthread_mutex_lock(&init_lock);
	if (init_count == 0) {
		int rc = git_libgit2_init();
		if (rc < 0) {
			ret = ga_error_git(GOACCEL_ERROR, "initialising libgit2");
			goto done;
		}
	}
	ret = ++init_count;
done:
	pthread_mutex_unlock(&init_lock);
	return ret;
}

int goaccel_shutdown(void)
{
	int ret;
	pthread_mutex_lock(&init_lock);
	if (init_count > 0 && --init_count == 0)
		git_libgit2_shutdown();
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
