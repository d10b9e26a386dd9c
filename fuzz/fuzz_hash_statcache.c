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
	ga_statcache_rec *recs;
	size_t i, hint = 0;
	int rc = ga_statcache_parse(&sc, data, size);
	if (rc < 0) {
		if (rc != GOACCEL_ECORRUPT && rc != GOACCEL_EVERSION && rc != GOACCEL_ERROR)
			abort();
		return 0;
	}
	recs = calloc(sc.count + 1, sizeof(*recs));
	if (!recs)
		abort();
	for (i = 0; i < sc.count; i++) {
		ga_statcache_rec found;
		ga_statcache_get(&sc, i, &recs[i]);
		if (!ga_statcache_find(&sc, recs[i].dev, recs[i].ino, &found, (i % 2) ? &hint : NULL) || found.size != recs[i].size ||
		    found.mtime_ns != recs[i].mtime_ns || found.ctime_ns != recs[i].ctime_ns ||
		    found.mode != recs[i].mode || goaccel_digest_cmp(&found.digest, &recs[i].digest) != 0)
			abort();
	}
	if (ga_statcache_serialize(&buf, recs, sc.count, sc.stamp_ns) < 0 || buf.size != size ||
	    memcmp(buf.ptr, data, size) != 0)
		abort();
	free(recs);
	ga_buf_dispose(&buf);
	ga_statcache_dispose(&sc);
	return 0;
}
