/* Hostile Login Responses into the login engine.
 *
 * Input: one selector byte, then PDUs, each as a 2-byte big-endian length
 * and that many bytes. The selector picks the configuration:
 *   bits 0-1  0 no auth, 1 one-way CHAP, 2/3 mutual CHAP
 *   bit 2     discovery session
 *   bit 3     requests cut into 64-byte parts (C=1)
 *   bit 4     TSIH 0x2a: a connection joining a session (non-leading)
 *   bit 5     CHAP_A list SHA3-256,SHA256,SHA1,MD5 (else MD5 only)
 *   bit 6     digests CRC32C,None wished
 * The names and secrets match tests/golden/login, whose responses seed
 * the corpus (tests/fuzz/corpus/fuzz_login/).
 *
 * Checks: login_step() never crashes and always leaves a defined state:
 * a SEND carries a valid Login Request, DONE carries sane values, FAILED
 * and RETRY_MD5 carry an exit code and a message, and after any end
 * further input is refused with -EINVAL. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "errors.h"
#include "login.h"
#include "pdu.h"

static void check_out(const struct login_out *out)
{
	switch (out->kind) {
	case LOGIN_SEND: {
		struct pdu_opts o = { .max_data_len = ISCSI_LOGIN_MAX_DSL };
		struct pdu p;
		size_t used = 0;

		CHECK(out->pdu && out->pdu_len >= ISCSI_BHS_LEN);
		CHECK(pdu_decode(out->pdu, out->pdu_len, PDU_DIR_TO_TARGET, &o, &p, &used, NULL) == 0);
		CHECK(used == out->pdu_len);
		CHECK(p.opcode == ISCSI_OP_LOGIN_REQ && p.immediate);
		CHECK(p.data_len == out->data_len);
		CHECK(!(pdu_login_transit(&p) && pdu_is_continue(&p)));
		CHECK(out->exit_code == 0);
		break;
	}
	case LOGIN_DONE: {
		const struct iscsi_params *pp = &out->result.params;

		CHECK(out->result.tsih != 0);
		CHECK(pp->first_burst_length <= pp->max_burst_length);
		CHECK(pp->max_burst_length >= 512 && pp->max_burst_length <= 0xffffff);
		CHECK(pp->max_xmit_dsl >= 512 && pp->max_xmit_dsl <= 0xffffff);
		CHECK(pp->header_digest <= 1 && pp->data_digest <= 1);
		CHECK(pp->error_recovery_level <= 2);
		CHECK(pp->tpgt >= -1 && pp->tpgt <= 65535);
		CHECK(memchr(pp->target_alias, '\0', sizeof(pp->target_alias)) != NULL);
		CHECK(out->exit_code == 0);
		break;
	}
	case LOGIN_REDIRECT:
		CHECK(out->redirect.portal.port != 0);
		CHECK(memchr(out->redirect.portal.host, '\0', sizeof(out->redirect.portal.host)) != NULL);
		CHECK(out->redirect.portal.host[0] != '\0');
		break;
	case LOGIN_FAILED:
	case LOGIN_RETRY_MD5:
		CHECK(out->exit_code > 0 && out->exit_code < ISCSI_ERR_MAX);
		CHECK(memchr(out->msg, '\0', sizeof(out->msg)) != NULL);
		CHECK(out->msg[0] != '\0');
		break;
	default:
		CHECK(0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum chap_alg all[] = { CHAP_ALG_SHA3_256, CHAP_ALG_SHA256, CHAP_ALG_SHA1, CHAP_ALG_MD5 };
	static const enum chap_alg md5[] = { CHAP_ALG_MD5 };
	struct login_config cfg;
	struct iscsi_params wishes;
	struct login_out out;
	struct login *l;
	uint8_t sel;
	size_t pos = 1;

	if (size < 1)
		return 0;
	sel = data[0];
	memset(&cfg, 0, sizeof(cfg));
	cfg.initiator_name = "iqn.2024-01.org.example:host";
	cfg.session_type = (sel & 4) ? ISCSI_SESSION_DISCOVERY : ISCSI_SESSION_NORMAL;
	cfg.target_name = (sel & 4) ? NULL : "iqn.2024-01.org.example:disk1";
	login_isid_make(1, cfg.isid);
	cfg.itt = 0x10;
	cfg.cmdsn = 1;
	if (sel & 3) {
		cfg.username = "alice";
		cfg.password = "initiator-secret-12";
	}
	if ((sel & 3) >= 2) {
		cfg.username_in = "disk1";
		cfg.password_in = "target-secret-34";
	}
	cfg.max_send_data = (sel & 8) ? 64 : 0;
	cfg.tsih = (sel & 16) ? 0x2a : 0;
	cfg.chap_algs = (sel & 32) ? all : md5;
	cfg.n_chap_algs = (sel & 32) ? 4 : 1;
	params_init_wishes(&wishes);
	if (sel & 64) {
		wishes.header_digest = ISCSI_DIGEST_CRC32C_NONE;
		wishes.data_digest = ISCSI_DIGEST_CRC32C;
	}
	cfg.wishes = &wishes;

	l = login_new(&cfg);
	CHECK(l != NULL);
	CHECK(login_start(l, &out) == 0);
	check_out(&out);
	while (pos + 2 <= size) {
		size_t len = (size_t)data[pos] << 8 | data[pos + 1];
		int r;

		pos += 2;
		if (len > size - pos)
			len = size - pos;
		r = login_step(l, data + pos, len, &out);
		pos += len;
		CHECK(r == 0 || r == -ENOMEM);
		check_out(&out);
		if (out.kind != LOGIN_SEND) {
			uint8_t junk[ISCSI_BHS_LEN] = { ISCSI_OP_LOGIN_RSP };

			CHECK(login_step(l, junk, sizeof(junk), &out) == -EINVAL);
			break;
		}
	}
	login_free(l);
	return 0;
}
