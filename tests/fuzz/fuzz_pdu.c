/* libFuzzer harness for the PDU codec. Arbitrary bytes go to pdu_decode()
 * (and pdu_decode_split()) under several option sets; whatever decodes is
 * re-encoded, and the re-encoded bytes must decode to the same fields, the
 * same AHS and the same data (a round-trip oracle: abort() on mismatch).
 * Re-encoding must also be a fixed point: encoding the second decode gives
 * the same bytes again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "pdu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUT_CAP (ISCSI_BHS_LEN + ISCSI_MAX_AHS_LEN + 4 + ISCSI_MAX_DSL + 3 + 4)

static uint8_t out1[OUT_CAP], out2[OUT_CAP], fixed[1 << 20];

/* Field-by-field equality: the pointers differ by construction, so they are
 * compared by content. */
static bool pdu_same(const struct pdu *a, const struct pdu *b)
{
	struct pdu x, y;

	if (a->data_len != b->data_len || a->ahs_len_words != b->ahs_len_words)
		return false;
	if (a->data_len && memcmp(a->data, b->data, a->data_len) != 0)
		return false;
	if (a->ahs_len_words && memcmp(a->ahs, b->ahs, (size_t)a->ahs_len_words * 4) != 0)
		return false;
	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	x.data = y.data = NULL;
	x.ahs = y.ahs = NULL;
	/* Decoded structs start from memset(0) and are copied whole, so the
	 * padding bytes are zero too. */
	return memcmp(&x, &y, sizeof(x)) == 0;
}

static void roundtrip(const struct pdu *p, const struct pdu_opts *o, enum pdu_dir dir)
{
	struct pdu q, r;
	size_t len1, len2, used;
	enum pdu_error err;

	if (pdu_encode(p, o, out1, sizeof(out1), &len1) != 0)
		abort();   /* everything the decoder accepts must be encodable */
	if (len1 != pdu_wire_len(p, o))
		abort();
	if (pdu_decode(out1, len1, dir, o, &q, &used, &err) != 0 || used != len1)
		abort();
	if (!pdu_same(p, &q))
		abort();
	if (pdu_encode(&q, o, out2, sizeof(out2), &len2) != 0 || len2 != len1 ||
	    memcmp(out1, out2, len1) != 0)
		abort();

	/* The split form (kernel RECV_PDU) must agree when there is no AHS. */
	if (p->ahs_len_words == 0) {
		uint8_t bhs[ISCSI_BHS_LEN];
		struct pdu_opts plain = { .max_data_len = o->max_data_len };

		if (pdu_encode_bhs(p, o, bhs) != 0 || memcmp(bhs, out1, ISCSI_BHS_LEN) != 0)
			abort();
		if (pdu_decode_split(bhs, p->data, p->data_len, dir, &plain, &r, &err) != 0)
			abort();
		if (!pdu_same(p, &r))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct pdu_opts opts[] = {
		{ .max_data_len = ISCSI_LOGIN_MAX_DSL },
		{ .max_data_len = 262144, .header_digest = true, .data_digest = true },
		{ .max_data_len = 65536, .header_digest = true },
		{ .max_data_len = ISCSI_MAX_DSL, .data_digest = true },
	};
	static const enum pdu_dir dirs[] = {
		PDU_DIR_TO_INITIATOR, PDU_DIR_TO_TARGET, PDU_DIR_ANY,
	};

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
			struct pdu p;
			size_t used = 0;
			enum pdu_error err = PDU_OK;
			int r = pdu_decode(data, size, dirs[d], &opts[i], &p, &used, &err);

			if (r == 0) {
				if (err != PDU_OK || used > size)
					abort();
				roundtrip(&p, &opts[i], dirs[d]);
			} else if (err == PDU_OK) {
				abort();   /* every failure names a cause */
			}
			(void)pdu_strerror(err);
		}
	}

	/* Random bytes almost never carry a valid CRC32C, so also try a copy
	 * with correct digests written where the BHS says they go: this
	 * reaches the AHS, padding and data checks behind the digests. */
	if (size >= ISCSI_BHS_LEN && size <= sizeof(fixed)) {
		const struct pdu_opts *o = &opts[1 + data[size - 1] % 3];
		struct pdu p;

		memcpy(fixed, data, size);
		if (pdu_decode_bhs(fixed, PDU_DIR_ANY, o, &p, NULL) == 0 &&
		    ISCSI_BHS_LEN + pdu_rest_len(&p, o) <= size) {
			size_t off = ISCSI_BHS_LEN + (size_t)p.ahs_len_words * 4;
			size_t dlen = (p.data_len + 3u) & ~3u;

			if (o->header_digest) {
				crc32c_put_digest(fixed + off, crc32c(0, fixed, off));
				off += ISCSI_DIGEST_LEN;
			}
			if (o->data_digest && p.data_len > 0)
				crc32c_put_digest(fixed + off + dlen, crc32c(0, fixed + off, dlen));
			if (pdu_decode(fixed, size, PDU_DIR_ANY, o, &p, NULL, NULL) == 0)
				roundtrip(&p, o, PDU_DIR_ANY);
		}
	}

	/* The split decoder on the bytes after the BHS, without digests. */
	if (size >= ISCSI_BHS_LEN) {
		struct pdu p;
		enum pdu_error err;

		if (pdu_decode_split(data, data + ISCSI_BHS_LEN, size - ISCSI_BHS_LEN,
				     PDU_DIR_ANY, &opts[0], &p, &err) == 0)
			roundtrip(&p, &opts[0], PDU_DIR_ANY);
	}

	/* Digests must never crash whatever the length; the two paths agree. */
	if (crc32c_sw(0, data, size) != crc32c_hw(0, data, size))
		abort();
	return 0;
}
