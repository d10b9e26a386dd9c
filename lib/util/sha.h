/* Internal: digest helpers shared by layers (implemented in lib/digest.c). */
#ifndef GOACCEL_UTIL_SHA_H
#define GOACCEL_UTIL_SHA_H

#include <stdint.h>
#include "goaccel/digest.h"

/* Digests everything readable from fd (until EOF); path is only used in messages.
 * *size_out (may be NULL) receives the number of bytes read. */
int ga_digest_fd(goaccel_digest *out, int fd, const char *path, uint64_t *size_out);

#endif
