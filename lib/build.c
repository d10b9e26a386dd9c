/* The Go build pipeline (goaccel/build.h): toolchain -> deps -> build -> extract. */
#include <stdlib.h>

#include "build_internal.h"
#include "util/err.h"

int goaccel_go_build(goaccel_build_result **out, const char *module_dir,
                     const goaccel_build_options *opts)
{
	GA_ASSERT_ARG(out && module_dir);
	GA_CHECK_VERSION(opts, GOACCEL_BUILD_OPTIONS_VERSION, "goaccel_build_options");
	*out = NULL;
	/* Interim: the pipeline lands once the hash, gomod, store and image layers are on main. */
	return ga_error(GOACCEL_ERROR, GOACCEL_ERROR_BUILD,
	                "%s: goaccel_go_build is not implemented yet in this build", module_dir);
}
