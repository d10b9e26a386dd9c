#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/err.h"

int ga_buf_grow(ga_buf *buf, size_t extra)
{
	size_t need = buf->size + extra + 1, n;
	char *p;
	if (need < buf->size)
		return ga_error_oom();
	if (need <= buf->asize)
		return 0;
	n = buf->asize ? buf->asize : 64;
	while (n < need)
		n = n + n / 2 + 64;
	if ((p = realloc(buf->ptr, n)) == NULL)
		return ga_error_oom();
	buf->ptr = p;
	buf->asize = n;
	return 0;
}

int ga_buf_put(ga_buf *buf, const void *data, size_t len)
{
	if (ga_buf_grow(buf, len) < 0)
		return GOACCEL_ERROR;
	if (len)
		memcpy(buf->ptr + buf->size, data, len);
	buf->size += len;
	buf->ptr[buf->size] = '\0';
	return 0;
}

int ga_buf_puts(ga_buf *buf, const char *str)
{
	return ga_buf_put(buf, str, strlen(str));
}

int ga_buf_putc(ga_buf *buf, char c)
{
	return ga_buf_put(buf, &c, 1);
}

int ga_buf_printf(ga_buf *buf, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return ga_error(GOACCEL_ERROR, GOACCEL_ERROR_INVALID, "format error");
	if (ga_buf_grow(buf, (size_t)n) < 0)
		return GOACCEL_ERROR;
	va_start(ap, fmt);
	vsnprintf(buf->ptr + buf->size, (size_t)n + 1, fmt, ap);
	va_end(ap);
	buf->size += (size_t)n;
	return 0;
}

int ga_buf_put_u32be(ga_buf *buf, uint32_t v)
{
	unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
	                      (unsigned char)(v >> 8), (unsigned char)v};
	return ga_buf_put(buf, b, sizeof(b));
}

int ga_buf_put_u64be(ga_buf *buf, uint64_t v)
{
	return ga_buf_put_u32be(buf, (uint32_t)(v >> 32)) < 0 ? GOACCEL_ERROR
	                                                     : ga_buf_put_u32be(buf, (uint32_t)v);
}

void ga_buf_clear(ga_buf *buf)
{
	buf->size = 0;
	if (buf->ptr)
		buf->ptr[0] = '\0';
}

char *ga_buf_detach(ga_buf *buf)
{
	char *p = buf->ptr;
	if (!p)
		p = strdup("");
	buf->ptr = NULL;
	buf->size = buf->asize = 0;
	return p;
}

void ga_buf_dispose(ga_buf *buf)
{
	free(buf->ptr);
	buf->ptr = NULL;
	buf->size = buf->asize = 0;
}
