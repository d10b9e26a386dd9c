/* Internal: deterministic parallel gzip (lib/image_pgz.c, docs/image.md §3). */
#ifndef GOACCEL_IMAGE_PGZ_H
#define GOACCEL_IMAGE_PGZ_H

#include <stddef.h>
#include <stdint.h>

/* Input bytes per independently compressed block. Part of the format: changing it changes the
 * blob bytes of every layer larger than one block (bump GA_LAYER_ENCODING_VERSION). */
#define GA_PGZ_BLOCK (128 * 1024)

typedef struct ga_pgz ga_pgz;

/* Receives compressed bytes in order, always from the thread calling write/finish. Returns 0
 * or a negative error code (which write/finish then return). */
typedef int (*ga_pgz_output_cb)(const void *data, size_t len, void *payload);

/* threads <= 1 compresses in the caller's thread; the bytes are the same either way. */
int ga_pgz_new(ga_pgz **out, int level, unsigned threads, ga_pgz_output_cb output, void *payload);
int ga_pgz_write(ga_pgz *g, const void *data, size_t len);
/* Compresses what is left, emits it and the gzip trailer. Call once. */
int ga_pgz_finish(ga_pgz *g);
void ga_pgz_free(ga_pgz *g);
/* Online CPUs, at most 8. */
unsigned ga_pgz_default_threads(void);

#endif
