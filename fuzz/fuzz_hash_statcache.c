/* Fuzzes the stat cache parser: any input is rejected (corrupt / other version) or parses to
 * records that serialise back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "goaccel/goaccel.h"
#include "util/buf.h"
#include "util/hash_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ga_statcache sc;
	ga_buf buf = GA_BUF_INIT;
	size_t i;
	int rc = ga_statcache_parse(&sc, data, size);
	if (rc < 0) {
		if (rc != GOACCEL_ECORRUPT && rc != GOACCEL_EVERSION && rc != GOACCEL_ERROR)
			abort();
		return 0;
	}
	for (i = 0; i < sc.count; i++)
		if (ga_statcache_find(&sc, sc.recs[i].dev, sc.recs[i].ino) != &sc.recs[i])
			abort();
	if (ga_statcache_serialize(&buf, sc.recs, sc.count, sc.stamp_ns) < 0 || buf.size != size ||
	    memcmp(buf.ptr, data, size) != 0)
		abort();
	ga_buf_dispose(&buf);
	ga_statcache_dispose(&sc);
	return 0;
}
