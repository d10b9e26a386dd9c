/* SHA-256 digests through OpenSSL's low-level SHA-256 (goaccel/digest.h; why not EVP: util/sha256.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#include "goaccel/digest.h"
#include "goaccel/errors.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/sha.h"
#include "util/sha256.h"

struct goaccel_digest_ctx {
	ga_sha256_ctx sha;
};

static int ctx_start(ga_sha256_ctx *sha)
{
	if (ga_sha256_init(sha) != 1)
		return ga_error_ssl("sha256: initialising digest");
	return 0;
}

int goaccel_digest_ctx_new(goaccel_digest_ctx **out)
{
	goaccel_digest_ctx *ctx = NULL;
	int error;
	GA_ASSERT_ARG(out);
	*out = NULL;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return ga_error_oom();
	if ((error = ctx_start(&ctx->sha)) < 0)
		goto done;
	*out = ctx;
	ctx = NULL;
done:
	goaccel_digest_ctx_free(ctx);
	return error;
}

int goaccel_digest_ctx_update(goaccel_digest_ctx *ctx, const void *data, size_t len)
{
	GA_ASSERT_ARG(ctx);
	GA_ASSERT_ARG(data || len == 0);
	if (ga_sha256_update(&ctx->sha, data, len) != 1)
		return ga_error_ssl("sha256: updating digest");
	return 0;
}

int goaccel_digest_ctx_finish(goaccel_digest *out, goaccel_digest_ctx *ctx)
{
	GA_ASSERT_ARG(out);
	GA_ASSERT_ARG(ctx);
	if (ga_sha256_final(out->id, &ctx->sha) != 1)
		return ga_error_ssl("sha256: finishing digest");
	return ctx_start(&ctx->sha);
}

void goaccel_digest_ctx_free(goaccel_digest_ctx *ctx)
{
	if (!ctx)
		return;
	free(ctx);
}

int goaccel_digest_buffer(goaccel_digest *out, const void *data, size_t len)
{
	ga_sha256_ctx sha;
	GA_ASSERT_ARG(out);
	GA_ASSERT_ARG(data || len == 0);
	if (ga_sha256_init(&sha) != 1 || ga_sha256_update(&sha, data, len) != 1 ||
	    ga_sha256_final(out->id, &sha) != 1)
		return ga_error_ssl("sha256: digesting buffer");
	return 0;
}

int ga_digest_fd(goaccel_digest *out, int fd, const char *path, uint64_t *size_out)
{
	goaccel_digest_ctx *ctx = NULL;
	unsigned char *buf = NULL;
	uint64_t total = 0;
	int error;
	if ((error = goaccel_digest_ctx_new(&ctx)) < 0)
		return error;
	if ((buf = malloc(GA_IO_CHUNK)) == NULL) {
		error = ga_error_oom();
		goto done;
	}
	for (;;) {
		ssize_t n = read(fd, buf, GA_IO_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error = ga_error_os(GOACCEL_ERROR, errno, "%s: read", path);
			goto done;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		if ((error = goaccel_digest_ctx_update(ctx, buf, (size_t)n)) < 0)
			goto done;
	}
	if ((error = goaccel_digest_ctx_finish(out, ctx)) < 0)
		goto done;
	if (size_out)
		*size_out = total;
done:
	free(buf);
	goaccel_digest_ctx_free(ctx);
	return error;
}

int goaccel_digest_file(goaccel_digest *out, const char *path)
{
	struct stat st;
	int fd, error;
	GA_ASSERT_ARG(out);
	GA_ASSERT_ARG(path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return ga_error_os(0, errno, "%s: open", path);
	if (fstat(fd, &st) < 0) {
		error = ga_error_os(0, errno, "%s: stat", path);
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		error = ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_DIGEST, "%s: not a regular file", path);
		goto done;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	error = ga_digest_fd(out, fd, path, NULL);
done:
	close(fd);
	return error;
}

int goaccel_digest_fmt(char out[GOACCEL_DIGEST_HEXSIZE + 1], const goaccel_digest *digest)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;
	GA_ASSERT_ARG(out);
	GA_ASSERT_ARG(digest);
	for (i = 0; i < GOACCEL_DIGEST_SIZE; i++) {
		out[2 * i] = hex[digest->id[i] >> 4];
		out[2 * i + 1] = hex[digest->id[i] & 0xf];
	}
	out[GOACCEL_DIGEST_HEXSIZE] = '\0';
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int goaccel_digest_parse(goaccel_digest *out, const char *str)
{
	const char *p;
	size_t i;
	GA_ASSERT_ARG(out);
	GA_ASSERT_ARG(str);
	p = strncmp(str, "sha256:", 7) == 0 ? str + 7 : str;
	if (strlen(p) != GOACCEL_DIGEST_HEXSIZE)
		goto bad;
	for (i = 0; i < GOACCEL_DIGEST_SIZE; i++) {
		int hi = hexval(p[2 * i]), lo = hexval(p[2 * i + 1]);
		if (hi < 0 || lo < 0)
			goto bad;
		out->id[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
bad:
	return ga_error(GOACCEL_EINVALID, GOACCEL_ERROR_DIGEST,
	                "digest '%.80s': expected 64 hex digits, optionally after 'sha256:'", str);
}

int goaccel_digest_cmp(const goaccel_digest *a, const goaccel_digest *b)
{
	if (!a || !b)
		return (a != NULL) - (b != NULL);
	return memcmp(a->id, b->id, GOACCEL_DIGEST_SIZE);
}

int goaccel_digest_is_zero(const goaccel_digest *digest)
{
	static const goaccel_digest zero;
	return !digest || memcmp(digest->id, zero.id, GOACCEL_DIGEST_SIZE) == 0;
}
