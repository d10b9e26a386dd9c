/* The shared run-time loader of libgit2, libarchive and SQLite (docs/dependencies.md). */
#include <dlfcn.h>
#include <stdlib.h>

#include "goaccel/errors.h"
#include "util/dl_load.h"
#include "util/err.h"

int ga_dl_load(ga_dl_library *lib, const char *const *names, size_t n,
               void (*fill)(void *const *addrs))
{
	void *handle = NULL, **addrs = NULL;
	const char *why;
	size_t i;
	int error = 0;
	if (atomic_load_explicit(&lib->loaded, memory_order_acquire))
		return 0;
	pthread_mutex_lock(&lib->lock);
	if (atomic_load_explicit(&lib->loaded, memory_order_relaxed))
		goto done;
	if ((addrs = calloc(n, sizeof(*addrs))) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	if ((handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		why = dlerror();
		error = ga_error(GOACCEL_ERROR, lib->klass, "loading %s: %s", lib->soname,
		                 why ? why : "dlopen failed");
		goto done;
	}
	for (i = 0; i < n; i++) {
		(void)dlerror();
		if ((addrs[i] = dlsym(handle, names[i])) == NULL) {
			why = dlerror();
			error = ga_error(GOACCEL_ERROR, lib->klass, "loading %s: symbol %s: %s", lib->soname,
			                 names[i], why ? why : "not found");
			goto done;
		}
	}
	fill(addrs);
	/* The handle is kept for the life of the process: the table points into the library. */
	handle = NULL;
	atomic_store_explicit(&lib->loaded, 1, memory_order_release);
done:
	if (handle)
		dlclose(handle);
	pthread_mutex_unlock(&lib->lock);
	free(addrs);
	return error;
}
