/* Internal: a growable byte buffer, always NUL-terminated so it doubles as a string builder. */
#ifndef GOACCEL_UTIL_BUF_H
#define GOACCEL_UTIL_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	char *ptr;
	size_t size;  /* bytes used, not counting the NUL */
	size_t asize; /* bytes allocated */
} ga_buf;

#define GA_BUF_INIT {NULL, 0, 0}

/* All return 0 or GOACCEL_ERROR (out of memory, error set). */
int ga_buf_grow(ga_buf *buf, size_t extra);
int ga_buf_put(ga_buf *buf, const void *data, size_t len);
int ga_buf_puts(ga_buf *buf, const char *str);
int ga_buf_putc(ga_buf *buf, char c);
int ga_buf_printf(ga_buf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Big-endian fixed-width integers, for canonical binary encodings. */
int ga_buf_put_u32be(ga_buf *buf, uint32_t v);
int ga_buf_put_u64be(ga_buf *buf, uint64_t v);
void ga_buf_clear(ga_buf *buf);
/* Hands the string to the caller (never NULL on success: "" for an empty buffer). */
char *ga_buf_detach(ga_buf *buf);
void ga_buf_dispose(ga_buf *buf);

#endif
