/* Hostile SendTargets responses (RFC 7143 Appendix C). The bytes after the
 * first go through sendtargets_parse(), and through the discovery exchange
 * as Text Response PDUs of (first byte + 1) bytes each with the C bit set:
 * both must agree. Everything parsed must be safe: valid names, portals
 * that print and parse back, limits kept, printable error messages. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "sendtargets.h"

static void check_result(const struct st_result *r)
{
	size_t total = 0;

	CHECK(r->n <= ST_MAX_TARGETS);
	for (size_t i = 0; i < r->n; i++) {
		const struct st_target *t = &r->targets[i];
		CHECK(name_validate(t->name, NULL, 0) == 0);
		CHECK(strchr(t->name, '/') == NULL && strstr(t->name, "..") == NULL);
		CHECK(t->n_portals <= ST_MAX_PORTALS);
		total += t->n_portals;
		for (size_t j = 0; j < t->n_portals; j++) {
			char buf[300];
			struct portal back;
			CHECK(portal_format(&t->portals[j], buf, sizeof(buf)) == 0);
			CHECK(portal_parse(buf, &back, NULL, 0) == 0);
			CHECK(portal_equal(&t->portals[j], &back));
		}
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(r->targets[j].name, t->name) != 0);
	}
	CHECK(total <= ST_MAX_PORTALS_TOTAL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t chunk = (size_t)data[0] + 1;
	const uint8_t *d = data + 1;
	size_t n = size - 1;
	struct st_result r, r2;
	char err[ST_ERR_MAX] = "";

	int k = sendtargets_parse(d, n, &r, err, sizeof(err));
	if (k < 0) {
		CHECK(k == -EPROTO || k == -E2BIG);
		fuzz_check_err(err);
	} else {
		check_result(&r);
	}

	/* The same bytes through the exchange, in pieces. */
	struct st_exchange ex;
	struct pdu req, rsp;
	CHECK(st_exchange_start(&ex, 7, 1, 1, 1, 100, &req) == 0);
	size_t off = 0;
	int s;
	uint32_t statsn = 1;
	do {
		size_t len = n - off < chunk ? n - off : chunk;
		bool last = off + len == n;
		memset(&rsp, 0, sizeof(rsp));
		rsp.opcode = ISCSI_OP_TEXT_RSP;
		rsp.flags = last ? ISCSI_FLAG_FINAL : ISCSI_FLAG_CONTINUE;
		rsp.itt = 7;
		rsp.ttt = last ? ISCSI_RESERVED_TAG : 0x10;
		rsp.statsn = statsn++;
		rsp.exp_cmdsn = statsn;
		rsp.max_cmdsn = statsn + 10;
		rsp.data_len = (uint32_t)len;
		rsp.data = len ? d + off : NULL;
		off += len;
		s = st_exchange_step(&ex, &rsp, &req, &r2);
		if (!last && s >= 0) {
			CHECK(s == ST_STEP_SEND);
			CHECK(req.ttt == 0x10 && req.data_len == 0 && req.itt == 7);
			CHECK(req.exp_statsn == statsn);
		}
	} while (s == ST_STEP_SEND);

	size_t rounds = n ? (n + chunk - 1) / chunk : 1;
	if (rounds <= ST_MAX_ROUNDS) {
		if (k == 0) {
			CHECK(s == ST_STEP_DONE);
			CHECK(r2.n == r.n);
			for (size_t i = 0; i < r.n; i++) {
				CHECK(strcmp(r.targets[i].name, r2.targets[i].name) == 0);
				CHECK(r.targets[i].n_portals == r2.targets[i].n_portals);
			}
			st_result_free(&r2);
		} else {
			CHECK(s == k);
			fuzz_check_err(st_exchange_error(&ex));
		}
	} else if (s == ST_STEP_DONE) {
		st_result_free(&r2);
	}
	st_exchange_free(&ex);
	if (k == 0)
		st_result_free(&r);
	return 0;
}
