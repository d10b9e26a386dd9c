/* Internal: SHA-256 through OpenSSL's low-level SHA256_Init/Update/Final.
 *
 * Why not EVP: in OpenSSL 3 the first EVP digest of a process reads openssl.cnf and activates the
 * default provider, ~0.6-1 ms of CPU that every goaccel process paid once (docs/dependencies.md).
 * The low-level functions run the same code (the default provider's SHA-256 is built on them,
 * SHA-NI included) without the provider machinery. OpenSSL 3 marks them deprecated; they are
 * still part of its API and of Debian's libcrypto.so.3, and the deprecation warning is silenced
 * here only. SHA-256 is not configurable through openssl.cnf in any way libgoaccel relies on: a
 * digest is a digest. */
#ifndef GOACCEL_UTIL_SHA256_H
#define GOACCEL_UTIL_SHA256_H

#include <stddef.h>
#include <openssl/sha.h>

typedef SHA256_CTX ga_sha256_ctx;

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

/* Each returns 1 on success, 0 on failure (OpenSSL's convention; they do not fail in practice). */
static inline int ga_sha256_init(ga_sha256_ctx *c)
{
	return SHA256_Init(c);
}

static inline int ga_sha256_update(ga_sha256_ctx *c, const void *data, size_t len)
{
	return len ? SHA256_Update(c, data, len) : 1;
}

/* Writes the 32-byte digest to md; c must be initialised again before reuse. */
static inline int ga_sha256_final(unsigned char *md, ga_sha256_ctx *c)
{
	return SHA256_Final(md, c);
}

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif
