/* A hostile iSNS server's byte stream (RFC 4171 §5). The bytes after the
 * first are fed to the receiver in pieces of (first byte + 1) bytes, as a
 * connection would deliver them; every message that comes out is read as
 * a DevAttrQry response (targets), as an SCN (events), and answered as
 * an SCN or ESI would be. Everything must be safe: limits kept, names
 * valid, portals that print and parse back, answers that decode again,
 * errors that are printable sentences. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "isns.h"

static void check_result(const struct st_result *r)
{
	size_t total = 0;

	CHECK(r->n <= ST_MAX_TARGETS);
	for (size_t i = 0; i < r->n; i++) {
		const struct st_target *t = &r->targets[i];
		CHECK(name_validate(t->name, NULL, 0) == 0);
		CHECK(t->n_portals >= 1 && t->n_portals <= ST_MAX_PORTALS);
		total += t->n_portals;
		for (size_t j = 0; j < t->n_portals; j++) {
			char buf[300];
			struct portal back;
			CHECK(t->portals[j].port != 0);
			CHECK(t->portals[j].tpgt >= 0 && t->portals[j].tpgt <= 65535);
			CHECK(portal_format(&t->portals[j], buf, sizeof(buf)) == 0);
			CHECK(portal_parse(buf, &back, NULL, 0) == 0);
			CHECK(portal_equal(&t->portals[j], &back));
		}
	}
	CHECK(total <= ST_MAX_PORTALS_TOTAL);
}

static void check_msg(const struct isns_msg *m, const struct isns_limits *lim)
{
	char err[ISNS_ERR_MAX] = "";
	struct st_result r;

	CHECK(m->len <= lim->max_msg);
	CHECK(m->n_attrs <= lim->max_attrs);
	CHECK(m->delim <= m->n_attrs);
	for (size_t i = 0; i < m->n_attrs; i++) {
		CHECK(m->attrs[i].len % 4 == 0);
		CHECK(m->attrs[i].val >= m->data && m->attrs[i].val + m->attrs[i].len <= m->data + m->len);
	}
	int k = isns_query_result(m, &r, NULL, err, sizeof(err));
	if (k < 0) {
		CHECK(k == -EPROTO || k == -E2BIG);
		fuzz_check_err(err);
	} else {
		check_result(&r);
		st_result_free(&r);
	}

	struct isns_scn_event ev[4];
	size_t n = 0;
	char dest[256];
	err[0] = '\0';
	k = isns_scn_parse(m, dest, sizeof(dest), ev, 4, &n, err, sizeof(err));
	if (k < 0) {
		CHECK(k == -EPROTO);
		fuzz_check_err(err);
	} else {
		CHECK(strlen(dest) < sizeof(dest));
		for (size_t i = 0; i < n && i < 4; i++)
			CHECK(strlen(ev[i].name) < sizeof(ev[i].name));
	}

	static uint8_t out[ISNS_HDR_LEN + ISNS_PDU_PAYLOAD_MAX];
	size_t len;
	k = isns_build_answer(m, ISNS_OK, out, sizeof(out), &len);
	if (k == 0) {
		struct isns_msg a;
		CHECK(isns_msg_decode(out, len, NULL, &a, err, sizeof(err)) == 0);
		CHECK(a.function == (m->function | ISNS_RSP) && a.xid == m->xid && a.status == 0);
		isns_msg_free(&a);
	} else {
		CHECK(k == -EINVAL || k == -ENOBUFS);
	}
}

/* The stream through a receiver with these limits. */
static void feed(const uint8_t *d, size_t n, size_t chunk, const struct isns_limits *lim)
{
	struct isns_rx rx;
	size_t off = 0;
	char err[ISNS_ERR_MAX] = "";

	isns_rx_init(&rx, lim);
	while (off < n) {
		uint8_t *dst;
		size_t want;
		CHECK(isns_rx_space(&rx, &dst, &want) == 0);
		CHECK(want > 0);
		size_t k = n - off < chunk ? n - off : chunk;
		if (k > want)
			k = want;
		memcpy(dst, d + off, k);
		off += k;
		int r = isns_rx_commit(&rx, k, err, sizeof(err));
		if (r < 0) {
			CHECK(r == -EPROTO || r == -EMSGSIZE);
			fuzz_check_err(err);
			break;
		}
		if (r == 1) {
			struct isns_msg m;
			r = isns_rx_take(&rx, &m, err, sizeof(err));
			if (r < 0) {
				CHECK(r == -EPROTO || r == -EMSGSIZE);
				fuzz_check_err(err);
				break;
			}
			check_msg(&m, &rx.lim);
			isns_msg_free(&m);
		}
	}
	isns_rx_free(&rx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t chunk = (size_t)data[0] + 1;
	struct isns_limits small = { .max_msg = 2048, .max_pdus = 8, .max_attrs = 64 };

	feed(data + 1, size - 1, chunk, NULL);
	feed(data + 1, size - 1, chunk, &small);
	return 0;
}
