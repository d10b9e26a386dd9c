/* digest layer: published SHA-256 vectors, streaming, whole files, hex round trips. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static void expect_hex(const goaccel_digest *d, const char *hex)
{
	char buf[GOACCEL_DIGEST_HEXSIZE + 1];
	GA_OK(goaccel_digest_fmt(buf, d));
	assert_string_equal(buf, hex);
}

/* FIPS 180-2 / NIST CAVS test vectors. */
static void test_digest__published_vectors(void **state)
{
	goaccel_digest d;
	(void)state;
	GA_OK(goaccel_digest_buffer(&d, "", 0));
	expect_hex(&d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	GA_OK(goaccel_digest_buffer(&d, "abc", 3));
	expect_hex(&d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	GA_OK(goaccel_digest_buffer(&d, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56));
	expect_hex(&d, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_digest__million_a_streaming(void **state)
{
	goaccel_digest_ctx *ctx;
	goaccel_digest d;
	char chunk[1000];
	int i;
	(void)state;
	memset(chunk, 'a', sizeof(chunk));
	GA_OK(goaccel_digest_ctx_new(&ctx));
	for (i = 0; i < 1000; i++)
		GA_OK(goaccel_digest_ctx_update(ctx, chunk, sizeof(chunk)));
	GA_OK(goaccel_digest_ctx_finish(&d, ctx));
	expect_hex(&d, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	/* finish resets the context: it can be reused */
	GA_OK(goaccel_digest_ctx_update(ctx, "abc", 3));
	GA_OK(goaccel_digest_ctx_finish(&d, ctx));
	expect_hex(&d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	goaccel_digest_ctx_free(ctx);
	goaccel_digest_ctx_free(NULL);
}

/* A multi-megabyte file read in chunks gives the same digest as sha256sum. */
static void test_digest__large_file_matches_sha256sum(void **state)
{
	char *dir = tu_tempdir("ga-digest");
	char *path = tu_path(dir, "big.bin");
	size_t len = 7 * 1024 * 1024 + 12345, i;
	unsigned char *data = malloc(len);
	goaccel_digest d, d2;
	char hex[65], *expected;
	(void)state;
	for (i = 0; i < len; i++)
		data[i] = (unsigned char)(i * 2654435761u >> 13);
	tu_write_bytes(dir, "big.bin", data, len);
	GA_OK(goaccel_digest_file(&d, path));
	GA_OK(goaccel_digest_buffer(&d2, data, len));
	assert_int_equal(goaccel_digest_cmp(&d, &d2), 0);
	expected = tu_sh_out("sha256sum %s | cut -c1-64", path);
	GA_OK(goaccel_digest_fmt(hex, &d));
	assert_string_equal(hex, expected);
	free(expected);
	free(data);
	free(path);
	tu_rmtree(dir);
	free(dir);
}

static void test_digest__file_errors_name_the_path(void **state)
{
	goaccel_digest d;
	char *dir = tu_tempdir("ga-digest");
	(void)state;
	assert_int_equal(goaccel_digest_file(&d, dir), GOACCEL_EINVALID);
	assert_non_null(strstr(goaccel_error_last()->message, dir));
	assert_int_equal(goaccel_digest_file(&d, "/no/such/file"), GOACCEL_ENOTFOUND);
	assert_non_null(strstr(goaccel_error_last()->message, "/no/such/file"));
	tu_rmtree(dir);
	free(dir);
}

static void test_digest__parse_round_trip(void **state)
{
	goaccel_digest d, p;
	char hex[65];
	(void)state;
	GA_OK(goaccel_digest_buffer(&d, "abc", 3));
	GA_OK(goaccel_digest_fmt(hex, &d));
	GA_OK(goaccel_digest_parse(&p, hex));
	assert_int_equal(goaccel_digest_cmp(&d, &p), 0);
	GA_OK(goaccel_digest_parse(&p, "sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
	assert_int_equal(goaccel_digest_cmp(&d, &p), 0);
	assert_int_equal(goaccel_digest_parse(&p, "abc"), GOACCEL_EINVALID);
	assert_non_null(strstr(goaccel_error_last()->message, "'abc'"));
	assert_int_equal(goaccel_digest_parse(&p, "sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), GOACCEL_EINVALID);
	assert_int_equal(goaccel_digest_parse(&p, "zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), GOACCEL_EINVALID);
	assert_int_equal(goaccel_digest_parse(&p, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad00"), GOACCEL_EINVALID);
}

static void test_digest__compare_and_zero(void **state)
{
	goaccel_digest a, b, z;
	(void)state;
	memset(&z, 0, sizeof(z));
	GA_OK(goaccel_digest_buffer(&a, "a", 1));
	GA_OK(goaccel_digest_buffer(&b, "b", 1));
	assert_true(goaccel_digest_cmp(&a, &b) != 0);
	assert_int_equal(goaccel_digest_cmp(&a, &b) < 0, goaccel_digest_cmp(&b, &a) > 0);
	assert_int_equal(goaccel_digest_cmp(&a, &a), 0);
	assert_true(goaccel_digest_is_zero(&z));
	assert_false(goaccel_digest_is_zero(&a));
	assert_true(goaccel_digest_cmp(NULL, &a) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest__published_vectors),
		cmocka_unit_test(test_digest__million_a_streaming),
		cmocka_unit_test(test_digest__large_file_matches_sha256sum),
		cmocka_unit_test(test_digest__file_errors_name_the_path),
		cmocka_unit_test(test_digest__parse_round_trip),
		cmocka_unit_test(test_digest__compare_and_zero),
	};
	return cmocka_run_group_tests_name("digest", tests, tu_group_setup, tu_group_teardown);
}
