/*
 * libgoaccel — SHA-256 digests.
 *
 * Every content address in libgoaccel is a SHA-256 digest computed through OpenSSL's EVP
 * interface. A goaccel_digest is a plain value: copy it, compare it, print it as 64 lowercase hex
 * digits, or as "sha256:<hex>" where OCI formats want the algorithm named.
 */
#ifndef INCLUDE_goaccel_digest_h__
#define INCLUDE_goaccel_digest_h__

#include "common.h"

GOACCEL_BEGIN_DECL

#define GOACCEL_DIGEST_SIZE 32    /**< bytes in a digest */
#define GOACCEL_DIGEST_HEXSIZE 64 /**< hex digits in a formatted digest (without the NUL) */

/** A SHA-256 digest. A plain value; the all-zero digest means "unset". */
typedef struct {
	unsigned char id[GOACCEL_DIGEST_SIZE];
} goaccel_digest;

/** A streaming digest computation. Opaque; one thread at a time. */
typedef struct goaccel_digest_ctx goaccel_digest_ctx;

/**
 * Digests a buffer in one call. Thread-safe.
 * @param out   receives the digest
 * @param data  the bytes (may be NULL when len is 0)
 * @return 0, GOACCEL_EINVALID for a NULL out (or NULL data with len > 0), GOACCEL_ERROR if
 *         OpenSSL fails (OpenSSL's message is kept).
 */
GOACCEL_EXTERN(int) goaccel_digest_buffer(goaccel_digest *out, const void *data, size_t len);

/**
 * Digests a whole file, reading it in chunks (constant memory). Thread-safe.
 * @return 0; GOACCEL_ENOTFOUND if the path does not exist; GOACCEL_EINVALID if it is not a
 *         regular file; GOACCEL_ERROR on a read or OpenSSL failure. The message names the path.
 */
GOACCEL_EXTERN(int) goaccel_digest_file(goaccel_digest *out, const char *path);

/**
 * Starts a streaming computation. The caller owns *out and frees it with
 * goaccel_digest_ctx_free(). @return 0, GOACCEL_EINVALID, or GOACCEL_ERROR (OpenSSL).
 */
GOACCEL_EXTERN(int) goaccel_digest_ctx_new(goaccel_digest_ctx **out);

/** Adds bytes. @return 0, GOACCEL_EINVALID, or GOACCEL_ERROR (OpenSSL). */
GOACCEL_EXTERN(int) goaccel_digest_ctx_update(goaccel_digest_ctx *ctx, const void *data, size_t len);

/**
 * Finishes the computation into *out and resets ctx so it can be reused.
 * @return 0, GOACCEL_EINVALID, or GOACCEL_ERROR (OpenSSL).
 */
GOACCEL_EXTERN(int) goaccel_digest_ctx_finish(goaccel_digest *out, goaccel_digest_ctx *ctx);

/** Frees a streaming context. NULL is a no-op. */
GOACCEL_EXTERN(void) goaccel_digest_ctx_free(goaccel_digest_ctx *ctx);

/**
 * Formats a digest as 64 lowercase hex digits and a NUL into out (65 bytes).
 * @return 0, or GOACCEL_EINVALID for a NULL argument.
 */
GOACCEL_EXTERN(int) goaccel_digest_fmt(char out[GOACCEL_DIGEST_HEXSIZE + 1], const goaccel_digest *digest);

/**
 * Parses 64 hex digits (either case), optionally prefixed with "sha256:". Nothing may follow.
 * @return 0, or GOACCEL_EINVALID with a message quoting the input.
 */
GOACCEL_EXTERN(int) goaccel_digest_parse(goaccel_digest *out, const char *str);

/** Compares two digests bytewise: <0, 0 or >0, like memcmp. NULL sorts first. */
GOACCEL_EXTERN(int) goaccel_digest_cmp(const goaccel_digest *a, const goaccel_digest *b);

/** 1 if the digest is all zeroes ("unset"), else 0. NULL counts as zero. */
GOACCEL_EXTERN(int) goaccel_digest_is_zero(const goaccel_digest *digest);

GOACCEL_END_DECL

#endif
