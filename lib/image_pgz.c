/*
 * image: gzip in parallel, with output bytes that do not depend on the number of threads
 * (docs/image.md §3).
 *
 * The input is cut into blocks of GA_PGZ_BLOCK bytes. Each block is compressed on its own as a
 * raw deflate stream whose preset dictionary is the last 32 KiB of the previous block's input
 * (as pigz does), ended by a sync flush (an empty stored block, so the next one starts on a byte
 * boundary), the last one by Z_FINISH. The concatenation, between the 10-byte gzip header zlib
 * itself writes and the CRC-32 / ISIZE trailer, is one ordinary gzip member. Each block's bytes
 * depend only on its data, its dictionary and the level, so one thread or eight give the same
 * bytes, and a layer of one block is byte-identical to zlib's single-stream gzip output.
 *
 * The caller's thread fills blocks; workers compress them; the caller's thread emits finished
 * blocks in order (through the output callback), so the callback never runs concurrently.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "image_pgz.h"
#include "util/err.h"

#define DICT_SIZE (32 * 1024)

typedef struct {
	unsigned char *in;
	size_t in_len;
	unsigned char dict[DICT_SIZE];
	size_t dict_len;
	unsigned char *out;
	size_t out_len, out_cap;
	int last;
	int state; /* FREE, PENDING, RUNNING, DONE */
	int failed;
} pgz_job;

enum { JOB_FREE = 0, JOB_PENDING, JOB_RUNNING, JOB_DONE };

struct ga_pgz {
	int level;
	unsigned nthreads; /* worker threads; 0 = compress in the caller's thread */
	pthread_t *threads;
	unsigned started;
	pgz_job *jobs;
	size_t njobs;
	uint64_t head;    /* next block to emit */
	uint64_t tail;    /* block being filled */
	uint64_t taken;   /* next block a worker takes */
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	int sync_init;
	int stop;
	unsigned char prev[DICT_SIZE]; /* the last input bytes of the previous block */
	size_t prev_len;
	uLong crc;
	uint64_t total;
	int header_done;
	int error;
	ga_pgz_output_cb output;
	void *payload;
	z_stream inline_z; /* for nthreads == 0 */
	int inline_init;
};

static int compress_job(pgz_job *j, z_stream *z)
{
	int rc;
	size_t bound = deflateBound(z, (uLong)j->in_len) + 64;
	if (deflateReset(z) != Z_OK)
		return -1;
	if (j->dict_len && deflateSetDictionary(z, j->dict, (uInt)j->dict_len) != Z_OK)
		return -1;
	if (j->out_cap < bound) {
		unsigned char *p = realloc(j->out, bound);
		if (!p)
			return -1;
		j->out = p;
		j->out_cap = bound;
	}
	z->next_in = j->in;
	z->avail_in = (uInt)j->in_len;
	z->next_out = j->out;
	z->avail_out = (uInt)j->out_cap;
	rc = deflate(z, j->last ? Z_FINISH : Z_SYNC_FLUSH);
	if ((j->last && rc != Z_STREAM_END) || (!j->last && (rc != Z_OK || z->avail_in != 0)))
		return -1;
	j->out_len = j->out_cap - z->avail_out;
	return 0;
}

static int init_raw(z_stream *z, int level)
{
	memset(z, 0, sizeof(*z));
	return deflateInit2(z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK ? 0 : -1;
}

static void *worker(void *arg)
{
	ga_pgz *g = arg;
	z_stream z;
	int ok = init_raw(&z, g->level) == 0;
	pthread_mutex_lock(&g->mu);
	for (;;) {
		pgz_job *j;
		while (!g->stop && !(g->taken < g->tail && g->jobs[g->taken % g->njobs].state == JOB_PENDING))
			pthread_cond_wait(&g->work, &g->mu);
		if (g->stop)
			break;
		j = &g->jobs[g->taken++ % g->njobs];
		j->state = JOB_RUNNING;
		pthread_mutex_unlock(&g->mu);
		j->failed = !ok || compress_job(j, &z) < 0;
		pthread_mutex_lock(&g->mu);
		j->state = JOB_DONE;
		pthread_cond_broadcast(&g->done);
	}
	pthread_mutex_unlock(&g->mu);
	if (ok)
		deflateEnd(&z);
	return NULL;
}

static int emit(ga_pgz *g, const void *data, size_t len)
{
	int error;
	if (g->error)
		return g->error;
	if (len && (error = g->output(data, len, g->payload)) < 0)
		g->error = error;
	return g->error;
}

static int write_header(ga_pgz *g)
{
	/* what zlib writes for a gzip stream without a gz_header: no name, no time, OS 3 */
	unsigned char h[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
	h[8] = g->level == 9 ? 2 : (g->level < 2 ? 4 : 0);
	g->header_done = 1;
	return emit(g, h, sizeof(h));
}

/* Waits for the oldest block and emits it. Called with mu held (unlocks around output). */
static int emit_oldest(ga_pgz *g)
{
	pgz_job *j = &g->jobs[g->head % g->njobs];
	int error;
	while (j->state != JOB_DONE)
		pthread_cond_wait(&g->done, &g->mu);
	pthread_mutex_unlock(&g->mu);
	if (j->failed)
		error = g->error = ga_error(GOACCEL_ERROR, GOACCEL_ERROR_IMAGE, "deflate failed");
	else
		error = emit(g, j->out, j->out_len);
	pthread_mutex_lock(&g->mu);
	j->state = JOB_FREE;
	j->in_len = 0;
	g->head++;
	return error;
}

/* Hands the block being filled to the workers (or compresses it here) and starts the next. */
static int submit(ga_pgz *g, int last)
{
	pgz_job *j = &g->jobs[g->tail % g->njobs];
	size_t keep;
	int error = 0;
	memcpy(j->dict, g->prev, g->prev_len);
	j->dict_len = g->prev_len;
	j->last = last;
	/* the next block's dictionary: the last 32 KiB of input so far */
	keep = j->in_len >= DICT_SIZE ? DICT_SIZE : j->in_len;
	if (keep < DICT_SIZE && g->prev_len + keep > DICT_SIZE) {
		size_t drop = g->prev_len + keep - DICT_SIZE;
		memmove(g->prev, g->prev + drop, g->prev_len - drop);
		g->prev_len -= drop;
	} else if (keep == DICT_SIZE) {
		g->prev_len = 0;
	}
	memcpy(g->prev + g->prev_len, j->in + j->in_len - keep, keep);
	g->prev_len += keep;
	if (g->nthreads == 0) {
		j->failed = compress_job(j, &g->inline_z) < 0;
		j->state = JOB_DONE;
		if (j->failed)
			return g->error = ga_error(GOACCEL_ERROR, GOACCEL_ERROR_IMAGE, "deflate failed");
		error = emit(g, j->out, j->out_len);
		j->state = JOB_FREE;
		j->in_len = 0;
		g->head++;
		g->tail++;
		return error;
	}
	pthread_mutex_lock(&g->mu);
	j->state = JOB_PENDING;
	g->tail++;
	pthread_cond_broadcast(&g->work);
	/* keep at most njobs blocks in flight: emit the oldest before reusing its slot */
	while (!error && g->tail - g->head >= g->njobs)
		error = emit_oldest(g);
	pthread_mutex_unlock(&g->mu);
	return error;
}

int ga_pgz_new(ga_pgz **out, int level, unsigned threads, ga_pgz_output_cb output, void *payload)
{
	ga_pgz *g;
	size_t i;
	int error = 0;
	*out = NULL;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return ga_error_oom();
	g->level = level;
	g->output = output;
	g->payload = payload;
	g->crc = crc32(0L, Z_NULL, 0);
	g->nthreads = threads <= 1 ? 0 : threads;
	g->njobs = g->nthreads ? 2 * (size_t)g->nthreads : 1;
	if ((g->jobs = calloc(g->njobs, sizeof(*g->jobs))) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	for (i = 0; i < g->njobs; i++)
		if ((g->jobs[i].in = malloc(GA_PGZ_BLOCK)) == NULL) {
			error = ga_error_oom();
			goto done;
		}
	if (g->nthreads == 0) {
		if (init_raw(&g->inline_z, level) < 0) {
			error = ga_error(GOACCEL_ERROR, GOACCEL_ERROR_IMAGE, "deflateInit2 failed");
			goto done;
		}
		g->inline_init = 1;
	} else {
		if (pthread_mutex_init(&g->mu, NULL) != 0 || pthread_cond_init(&g->work, NULL) != 0 ||
		    pthread_cond_init(&g->done, NULL) != 0) {
			error = ga_error(GOACCEL_ERROR, GOACCEL_ERROR_IMAGE, "pthread init failed");
			goto done;
		}
		g->sync_init = 1;
		if ((g->threads = calloc(g->nthreads, sizeof(*g->threads))) == NULL) {
			error = ga_error_oom();
			goto done;
		}
		for (; g->started < g->nthreads; g->started++)
			if (pthread_create(&g->threads[g->started], NULL, worker, g) != 0) {
				error = ga_error(GOACCEL_ERROR, GOACCEL_ERROR_IMAGE, "pthread_create failed");
				goto done;
			}
	}
	*out = g;
	g = NULL;
done:
	ga_pgz_free(g);
	return error;
}

int ga_pgz_write(ga_pgz *g, const void *data, size_t len)
{
	const unsigned char *p = data;
	int error;
	if (!g->header_done && (error = write_header(g)) < 0)
		return error;
	g->crc = crc32(g->crc, p, (uInt)len);
	g->total += len;
	while (len > 0) {
		pgz_job *j = &g->jobs[g->tail % g->njobs];
		size_t n = GA_PGZ_BLOCK - j->in_len;
		if (n > len)
			n = len;
		memcpy(j->in + j->in_len, p, n);
		j->in_len += n;
		p += n;
		len -= n;
		/* a full block is submitted only when more input follows, so the last one is
		 * always the block that finish() flushes with Z_FINISH */
		if (j->in_len == GA_PGZ_BLOCK && len > 0 && (error = submit(g, 0)) < 0)
			return error;
	}
	return g->error;
}

int ga_pgz_finish(ga_pgz *g)
{
	unsigned char t[8];
	int error;
	if (!g->header_done && (error = write_header(g)) < 0)
		return error;
	if ((error = submit(g, 1)) < 0)
		return error;
	if (g->nthreads) {
		pthread_mutex_lock(&g->mu);
		while (!error && g->head < g->tail)
			error = emit_oldest(g);
		pthread_mutex_unlock(&g->mu);
		if (error)
			return error;
	}
	t[0] = (unsigned char)g->crc;
	t[1] = (unsigned char)(g->crc >> 8);
	t[2] = (unsigned char)(g->crc >> 16);
	t[3] = (unsigned char)(g->crc >> 24);
	t[4] = (unsigned char)g->total;
	t[5] = (unsigned char)(g->total >> 8);
	t[6] = (unsigned char)(g->total >> 16);
	t[7] = (unsigned char)(g->total >> 24);
	return emit(g, t, sizeof(t));
}

void ga_pgz_free(ga_pgz *g)
{
	size_t i;
	if (!g)
		return;
	if (g->sync_init) {
		pthread_mutex_lock(&g->mu);
		g->stop = 1;
		pthread_cond_broadcast(&g->work);
		pthread_mutex_unlock(&g->mu);
	}
	for (i = 0; i < g->started; i++)
		pthread_join(g->threads[i], NULL);
	if (g->sync_init) {
		pthread_mutex_destroy(&g->mu);
		pthread_cond_destroy(&g->work);
		pthread_cond_destroy(&g->done);
	}
	if (g->inline_init)
		deflateEnd(&g->inline_z);
	for (i = 0; g->jobs && i < g->njobs; i++) {
		free(g->jobs[i].in);
		free(g->jobs[i].out);
	}
	free(g->jobs);
	free(g->threads);
	free(g);
}

unsigned ga_pgz_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	return n > 8 ? 8 : (unsigned)n;
}
