/* CRC32C against RFC 7143 Appendix B.4 (same vectors as RFC 3720 B.4),
 * the CRC catalogue check value, a bit-at-a-time reference, and the
 * hardware path against the portable one. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

static const struct {
	const char *name;
	crc_fn fn;
} impls[] = {
	{ "crc32c", crc32c },
	{ "crc32c_sw", crc32c_sw },
	{ "crc32c_hw", crc32c_hw },
};
#define N_IMPLS (sizeof(impls) / sizeof(impls[0]))

/* One bit per step, straight from the definition: independent of the
 * tables and of the instruction. */
static uint32_t ref_crc32c(const uint8_t *p, size_t len)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < len; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ ((c & 1) ? 0x82f63b78u : 0);
	}
	return ~c;
}

/* The B.4 vectors, with the CRC bytes exactly as the RFC prints them (the
 * order they appear in the PDU). */
static void check_vector(const uint8_t *buf, size_t len, const uint8_t wire[4])
{
	for (size_t i = 0; i < N_IMPLS; i++) {
		uint8_t got[4];

		crc32c_put_digest(got, impls[i].fn(0, buf, len));
		ck_assert_msg(memcmp(got, wire, 4) == 0, "%s: %02x %02x %02x %02x", impls[i].name,
			      got[0], got[1], got[2], got[3]);
		ck_assert_uint_eq(crc32c_get_digest(wire), impls[i].fn(0, buf, len));
	}
	ck_assert_uint_eq(ref_crc32c(buf, len), crc32c_get_digest(wire));
}

START_TEST(test_rfc_zeros)
{
	uint8_t b[32];

	memset(b, 0, sizeof(b));
	check_vector(b, 32, (const uint8_t[]){ 0xaa, 0x36, 0x91, 0x8a });
}
END_TEST

START_TEST(test_rfc_ones)
{
	uint8_t b[32];

	memset(b, 0xff, sizeof(b));
	check_vector(b, 32, (const uint8_t[]){ 0x43, 0xab, 0xa8, 0x62 });
}
END_TEST

START_TEST(test_rfc_incrementing)
{
	uint8_t b[32];

	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)i;
	check_vector(b, 32, (const uint8_t[]){ 0x4e, 0x79, 0xdd, 0x46 });
}
END_TEST

START_TEST(test_rfc_decrementing)
{
	uint8_t b[32];

	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)(31 - i);
	check_vector(b, 32, (const uint8_t[]){ 0x5c, 0xdb, 0x3f, 0x11 });
}
END_TEST

/* B.4 "An iSCSI - SCSI Read (10) Command PDU". */
START_TEST(test_rfc_read10_pdu)
{
	static const uint8_t pdu[48] = {
		0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
		0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
		0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};

	check_vector(pdu, sizeof(pdu), (const uint8_t[]){ 0x56, 0x3a, 0x96, 0xd9 });
}
END_TEST

START_TEST(test_check_value_and_empty)
{
	for (size_t i = 0; i < N_IMPLS; i++) {
		ck_assert_uint_eq(impls[i].fn(0, "123456789", 9), 0xe3069283u);
		ck_assert_uint_eq(impls[i].fn(0, NULL, 0), 0);
		ck_assert_uint_eq(impls[i].fn(0x12345678u, "", 0), 0x12345678u);
	}
}
END_TEST

/* Lengths and alignments that cross every path: unaligned heads, the
 * 8-byte loop, the 3-way blocks of 256 and 2048 bytes, odd tails. */
START_TEST(test_random_lengths_alignments)
{
	enum { MAX = 3 * 2048 * 2 + 3 * 256 + 64 };
	uint8_t *buf = malloc(MAX + 16);
	unsigned seed = 12345;

	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < MAX + 16; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (uint8_t)(seed >> 16);
	}
	for (int iter = 0; iter < 400; iter++) {
		seed = seed * 1103515245u + 12345u;
		size_t off = (seed >> 8) % 16;
		seed = seed * 1103515245u + 12345u;
		size_t len = (seed >> 4) % MAX;

		if (iter < 40)
			len = (size_t)iter;   /* every tiny length */
		uint32_t want = ref_crc32c(buf + off, len);
		ck_assert_uint_eq(crc32c_sw(0, buf + off, len), want);
		ck_assert_uint_eq(crc32c_hw(0, buf + off, len), want);
		ck_assert_uint_eq(crc32c(0, buf + off, len), want);
	}
	/* Exact block boundaries. */
	static const size_t edges[] = { 767, 768, 769, 6143, 6144, 6145, 6144 + 768, 12288 };
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		ck_assert_uint_eq(crc32c_hw(0, buf + 1, edges[i]), ref_crc32c(buf + 1, edges[i]));
	free(buf);
}
END_TEST

START_TEST(test_chaining)
{
	uint8_t buf[5000];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	uint32_t whole = ref_crc32c(buf, sizeof(buf));
	for (size_t split = 0; split <= sizeof(buf); split += 333) {
		for (size_t i = 0; i < N_IMPLS; i++) {
			uint32_t c = impls[i].fn(0, buf, split);
			c = impls[i].fn(c, buf + split, sizeof(buf) - split);
			ck_assert_uint_eq(c, whole);
		}
	}
	/* Mixed: software then hardware. */
	ck_assert_uint_eq(crc32c_hw(crc32c_sw(0, buf, 1001), buf + 1001, sizeof(buf) - 1001), whole);
}
END_TEST

START_TEST(test_digest_byte_order)
{
	uint8_t out[4];

	crc32c_put_digest(out, 0x8a9136aau);
	ck_assert_int_eq(out[0], 0xaa);
	ck_assert_int_eq(out[3], 0x8a);
	ck_assert_uint_eq(crc32c_get_digest(out), 0x8a9136aau);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("crc32c");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_rfc_zeros);
	tcase_add_test(tc, test_rfc_ones);
	tcase_add_test(tc, test_rfc_incrementing);
	tcase_add_test(tc, test_rfc_decrementing);
	tcase_add_test(tc, test_rfc_read10_pdu);
	tcase_add_test(tc, test_check_value_and_empty);
	tcase_add_test(tc, test_random_lengths_alignments);
	tcase_add_test(tc, test_chaining);
	tcase_add_test(tc, test_digest_byte_order);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
