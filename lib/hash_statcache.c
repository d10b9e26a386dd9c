/* The persistent stat cache: (device, inode, size, mtime, ctime, mode) -> content digest.
 *
 * The file format (docs/hashing.md, "Stat cache") is a fixed header, fixed-size big-endian
 * records sorted by (device, inode), and a SHA-256 trailer over everything before it. Anything
 * that does not check out exactly - wrong magic, version, length, order or checksum - makes the
 * whole file count as absent: the cache may cost time, never correctness.
 *
 * Racy entries (git's rule): a record is trusted only if the file's mtime and ctime are in an
 * earlier second than the stamp, the coarse clock reading taken when the run that wrote the
 * record started. A file modified after its content was read gets a timestamp no older than
 * that stamp, so a later change that keeps size and (coarse) timestamps cannot hide behind the
 * record. Comparing whole seconds keeps this true on file systems with 1-second timestamps.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "goaccel/errors.h"
#include "util/err.h"
#include "util/hash_internal.h"

#define MAGIC "gastatc\0"
#define HEADER_SIZE 32
#define REC_SIZE 76
#define TRAILER_SIZE 32
#define MAX_FILE_SIZE ((size_t)1 << 31)

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;
	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static uint32_t get_u32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static int rec_cmp(const void *a, const void *b)
{
	const ga_statcache_rec *x = a, *y = b;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return 0;
}

static int corrupt(const char *what)
{
	return ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_HASH, "stat cache: %s", what);
}

static uint64_t rec_dev(const unsigned char *r)
{
	return get_u64(r);
}

static uint64_t rec_ino(const unsigned char *r)
{
	return get_u64(r + 8);
}

static int key_cmp(uint64_t dev_a, uint64_t ino_a, uint64_t dev_b, uint64_t ino_b)
{
	if (dev_a != dev_b)
		return dev_a < dev_b ? -1 : 1;
	if (ino_a != ino_b)
		return ino_a < ino_b ? -1 : 1;
	return 0;
}

int ga_statcache_parse(ga_statcache *sc, const unsigned char *data, size_t len)
{
	goaccel_digest sum;
	uint64_t count;
	size_t i;
	int error;
	GA_ASSERT_ARG(sc);
	GA_ASSERT_ARG(data || len == 0);
	memset(sc, 0, sizeof(*sc));
	if (len < HEADER_SIZE + TRAILER_SIZE || memcmp(data, MAGIC, 8) != 0)
		return corrupt("not a stat cache (bad magic or too short)");
	if (get_u32(data + 8) != GA_STATCACHE_VERSION)
		return ga_error(GOACCEL_EVERSION, GOACCEL_ERROR_HASH, "stat cache: version %u, expected %u",
		                get_u32(data + 8), GA_STATCACHE_VERSION);
	if (get_u32(data + 12) != REC_SIZE)
		return corrupt("unexpected record size");
	count = get_u64(data + 24);
	if (count > (len - HEADER_SIZE - TRAILER_SIZE) / REC_SIZE ||
	    len != HEADER_SIZE + TRAILER_SIZE + count * REC_SIZE)
		return corrupt("length does not match the record count (truncated?)");
	if ((error = goaccel_digest_buffer(&sum, data, len - TRAILER_SIZE)) < 0)
		return error;
	if (memcmp(sum.id, data + len - TRAILER_SIZE, TRAILER_SIZE) != 0)
		return corrupt("checksum mismatch");
	for (i = 1; i < count; i++) {
		const unsigned char *a = data + HEADER_SIZE + (i - 1) * REC_SIZE, *b = a + REC_SIZE;
		if (key_cmp(rec_dev(a), rec_ino(a), rec_dev(b), rec_ino(b)) >= 0)
			return corrupt("records out of order");
	}
	sc->raw = data + HEADER_SIZE;
	sc->count = count;
	sc->stamp_ns = (int64_t)get_u64(data + 16);
	sc->loaded = 1;
	return 0;
}

void ga_statcache_get(const ga_statcache *sc, size_t i, ga_statcache_rec *r)
{
	const unsigned char *p = sc->raw + i * REC_SIZE;
	r->dev = get_u64(p);
	r->ino = get_u64(p + 8);
	r->size = get_u64(p + 16);
	r->mtime_ns = (int64_t)get_u64(p + 24);
	r->ctime_ns = (int64_t)get_u64(p + 32);
	r->mode = get_u32(p + 40);
	memcpy(r->digest.id, p + 44, GOACCEL_DIGEST_SIZE);
}

static int read_all(unsigned char **out, size_t *len, const char *path)
{
	struct stat st;
	unsigned char *data = NULL;
	size_t got = 0;
	int fd, error = 0;
	*out = NULL;
	*len = 0;
	/* O_NONBLOCK: a FIFO at the path must not hang the open (it is rejected below) */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
		return ga_error_os(0, errno, "%s: open", path);
	if (fstat(fd, &st) < 0) {
		error = ga_error_os(GOACCEL_ERROR, errno, "%s: stat", path);
		goto done;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_FILE_SIZE) {
		error = ga_error(GOACCEL_ECORRUPT, GOACCEL_ERROR_HASH, "%s: not a stat cache file", path);
		goto done;
	}
	if ((data = malloc((size_t)st.st_size + 1)) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error = ga_error_os(GOACCEL_ERROR, errno, "%s: read", path);
			goto done;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	*out = data;
	*len = got;
	data = NULL;
done:
	free(data);
	close(fd);
	return error;
}

int ga_statcache_load(ga_statcache *sc, const char *path)
{
	unsigned char *data = NULL;
	size_t len = 0;
	int error;
	GA_ASSERT_ARG(sc);
	GA_ASSERT_ARG(path);
	memset(sc, 0, sizeof(*sc));
	error = read_all(&data, &len, path);
	if (error == 0 && ga_statcache_parse(sc, data, len) == 0) {
		sc->owned = data; /* the records stay in the buffer */
		return 0;
	}
	if (error == GOACCEL_ENOTFOUND) {
		error = 0;
		goto done;
	}
	if (error == GOACCEL_ECORRUPT) {
		sc->rejected = 1;
		error = 0;
		goto done;
	}
	if (error < 0)
		goto done;
	/* Invalid files are ignored, then rewritten by the caller. */
	memset(sc, 0, sizeof(*sc));
	sc->rejected = 1;
	goaccel_error_clear();
done:
	free(data);
	return error;
}

/* Binary search of [lo, hi): the index of the record, or -(insertion point) - 1. */
static long long search(const ga_statcache *sc, size_t lo, size_t hi, uint64_t dev, uint64_t ino)
{
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const unsigned char *r = sc->raw + mid * REC_SIZE;
		int c = key_cmp(rec_dev(r), rec_ino(r), dev, ino);
		if (c == 0)
			return (long long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long long)lo - 1;
}

#define WINDOW 128

int ga_statcache_find(const ga_statcache *sc, uint64_t dev, uint64_t ino, ga_statcache_rec *rec, size_t *hint)
{
	long long at = -1;
	int found = 0;
	if (!sc || !sc->count)
		return 0;
	/* The records are sorted by inode and a directory's files tend to have nearby inodes, so the
	 * previous lookup's neighbourhood is searched first: it is still in the CPU cache. */
	if (hint && *hint < sc->count) {
		size_t lo = *hint > WINDOW ? *hint - WINDOW : 0;
		size_t hi = sc->count - *hint > WINDOW ? *hint + WINDOW : sc->count;
		const unsigned char *first = sc->raw + lo * REC_SIZE, *last = sc->raw + (hi - 1) * REC_SIZE;
		if (key_cmp(rec_dev(first), rec_ino(first), dev, ino) <= 0 &&
		    key_cmp(rec_dev(last), rec_ino(last), dev, ino) >= 0) {
			at = search(sc, lo, hi, dev, ino);
			found = 1;
		}
	}
	if (!found)
		at = search(sc, 0, sc->count, dev, ino);
	if (hint)
		*hint = at >= 0 ? (size_t)at : (size_t)(-at - 1);
	if (at < 0)
		return 0;
	if (rec)
		ga_statcache_get(sc, (size_t)at, rec);
	return 1;
}

static int64_t floor_sec(int64_t ns)
{
	int64_t s = ns / 1000000000;
	return (ns % 1000000000 < 0) ? s - 1 : s;
}

int ga_statcache_valid(const ga_statcache *sc, const ga_statcache_rec *rec, uint64_t size, int64_t mtime_ns,
                       int64_t ctime_ns, uint32_t mode, int *racy)
{
	int64_t newest;
	if (racy)
		*racy = 0;
	if (!sc || !rec || rec->size != size || rec->mtime_ns != mtime_ns || rec->ctime_ns != ctime_ns ||
	    rec->mode != mode)
		return 0;
	newest = mtime_ns > ctime_ns ? mtime_ns : ctime_ns;
	if (floor_sec(newest) >= floor_sec(sc->stamp_ns)) {
		if (racy)
			*racy = 1;
		return 0;
	}
	return 1;
}

int ga_statcache_serialize(ga_buf *out, ga_statcache_rec *recs, size_t count, int64_t stamp_ns)
{
	goaccel_digest sum;
	size_t i, n = 0;
	int error;
	GA_ASSERT_ARG(out);
	GA_ASSERT_ARG(recs || count == 0);
	if (count)
		qsort(recs, count, sizeof(*recs), rec_cmp);
	/* keep the last of equal keys (callers append newer records after older ones) */
	for (i = 0; i < count; i++) {
		if (n && rec_cmp(&recs[n - 1], &recs[i]) == 0)
			recs[n - 1] = recs[i];
		else
			recs[n++] = recs[i];
	}
	if ((error = ga_buf_grow(out, HEADER_SIZE + TRAILER_SIZE + n * REC_SIZE)) < 0 ||
	    (error = ga_buf_put(out, MAGIC, 8)) < 0 || (error = ga_buf_put_u32be(out, GA_STATCACHE_VERSION)) < 0 ||
	    (error = ga_buf_put_u32be(out, REC_SIZE)) < 0 || (error = ga_buf_put_u64be(out, (uint64_t)stamp_ns)) < 0 ||
	    (error = ga_buf_put_u64be(out, n)) < 0)
		return error;
	for (i = 0; i < n; i++) {
		const ga_statcache_rec *r = &recs[i];
		if ((error = ga_buf_put_u64be(out, r->dev)) < 0 || (error = ga_buf_put_u64be(out, r->ino)) < 0 ||
		    (error = ga_buf_put_u64be(out, r->size)) < 0 ||
		    (error = ga_buf_put_u64be(out, (uint64_t)r->mtime_ns)) < 0 ||
		    (error = ga_buf_put_u64be(out, (uint64_t)r->ctime_ns)) < 0 ||
		    (error = ga_buf_put_u32be(out, r->mode)) < 0 ||
		    (error = ga_buf_put(out, r->digest.id, GOACCEL_DIGEST_SIZE)) < 0)
			return error;
	}
	if ((error = goaccel_digest_buffer(&sum, out->ptr, out->size)) < 0)
		return error;
	return ga_buf_put(out, sum.id, GOACCEL_DIGEST_SIZE);
}

void ga_statcache_dispose(ga_statcache *sc)
{
	if (!sc)
		return;
	free(sc->owned);
	memset(sc, 0, sizeof(*sc));
}
