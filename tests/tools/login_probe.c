/* login_probe: log in to a real target with the login engine over a
 * blocking TCP socket and print a readable transcript.
 *
 *   login_probe -p HOST[:PORT] -t TARGET [-i INITIATOR] [-u USER -w PASS]
 *               [-U USER_IN -W PASS_IN] [-a ALGS] [-q]
 *   login_probe -p HOST[:PORT] -d ...     discovery session + SendTargets
 *
 * Prints every key sent and received (CHAP_R/CHAP_C values masked), the
 * negotiated parameters, the SendTargets list for discovery, then sends a
 * Logout and exits with the engine's exit code (0 on success, 24 for an
 * authentication failure, 19 for an unknown target, ...). A target that
 * refuses our CHAP_A list is retried once with MD5 only (LOGIN_RETRY_MD5);
 * redirects are followed up to three times.
 *
 * Passwords on the command line are visible in ps(1): this is a test tool
 * for loopback targets, not for real credentials. PASS may also be given
 * as "env:NAME" to read it from the environment.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "chap.h"
#include "errors.h"
#include "login.h"
#include "names.h"
#include "params.h"
#include "pdu.h"
#include "sendtargets.h"
#include "text.h"

#define IO_TIMEOUT_SEC 10
#define MAX_PDU (ISCSI_BHS_LEN + ISCSI_MAX_AHS_LEN + 1024 * 1024)

static bool quiet;

static void usage(void)
{
	fprintf(stderr, "usage: login_probe -p HOST[:PORT] (-t TARGET | -d) [-i INITIATOR] [-u USER -w PASS]\n"
			"                   [-U USER_IN -W PASS_IN] [-a ALGS] [-q]\n");
	exit(ISCSI_ERR_INVAL);
}

static int tcp_connect(const struct portal *p)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	struct timeval tv = { .tv_sec = IO_TIMEOUT_SEC };
	char port[8];
	int fd = -1, one = 1;

	snprintf(port, sizeof(port), "%u", p->port);
	if (getaddrinfo(p->host, port, &hints, &res) != 0)
		return -1;
	for (struct addrinfo *a = res; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int fd, uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = recv(fd, buf, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads one PDU without digests (none are used during login or in our
 * discovery sessions): BHS, AHS, padded data. */
static int read_pdu(int fd, uint8_t *buf, size_t cap, size_t *ret_len)
{
	size_t rest, dsl;

	if (read_all(fd, buf, ISCSI_BHS_LEN) < 0)
		return -1;
	dsl = (size_t)buf[5] << 16 | (size_t)buf[6] << 8 | buf[7];
	rest = (size_t)buf[4] * 4 + ((dsl + 3) & ~(size_t)3);
	if (ISCSI_BHS_LEN + rest > cap)
		return -1;
	if (read_all(fd, buf + ISCSI_BHS_LEN, rest) < 0)
		return -1;
	*ret_len = ISCSI_BHS_LEN + rest;
	return 0;
}

static void print_keys(const char *prefix, const uint8_t *data, size_t len)
{
	struct text_iter it;
	struct text_pair kv;
	int r;

	if (quiet)
		return;
	text_iter_init(&it, data, len);
	while ((r = text_iter_next(&it, &kv)) > 0) {
		bool mask = (kv.key_len == 6 && (memcmp(kv.key, "CHAP_R", 6) == 0 || memcmp(kv.key, "CHAP_C", 6) == 0));

		if (mask)
			printf("%s%.*s=<%zu characters>\n", prefix, (int)kv.key_len, kv.key, kv.value_len);
		else
			printf("%s%.*s=%.*s\n", prefix, (int)kv.key_len, kv.key, (int)kv.value_len, kv.value);
	}
	if (r < 0)
		printf("%s(%zu bytes that are not key=value text)\n", prefix, len);
}

static void print_login_pdu(const char *dir, const uint8_t *buf, size_t len)
{
	struct pdu_opts o = { .max_data_len = ISCSI_MAX_DSL };
	struct pdu p;

	if (quiet)
		return;
	if (pdu_decode(buf, len, PDU_DIR_ANY, &o, &p, NULL, NULL) < 0) {
		printf("%s (%zu bytes, not a valid PDU)\n", dir, len);
		return;
	}
	if (p.opcode == ISCSI_OP_LOGIN_RSP)
		printf("%s %s T=%d C=%d CSG=%u NSG=%u status=0x%02x%02x StatSN=%u TSIH=%u\n", dir,
		       pdu_opcode_name(p.opcode), pdu_login_transit(&p), pdu_is_continue(&p), pdu_login_csg(&p),
		       pdu_login_nsg(&p), p.status_class, p.status_detail, p.statsn, p.tsih);
	else if (p.opcode == ISCSI_OP_LOGIN_REQ)
		printf("%s %s T=%d C=%d CSG=%u NSG=%u CmdSN=%u ExpStatSN=%u\n", dir, pdu_opcode_name(p.opcode),
		       pdu_login_transit(&p), pdu_is_continue(&p), pdu_login_csg(&p), pdu_login_nsg(&p), p.cmdsn,
		       p.exp_statsn);
	else
		printf("%s %s\n", dir, pdu_opcode_name(p.opcode));
	print_keys("    ", p.data, p.data_len);
}

static void print_result(const struct login_result *r)
{
	const struct iscsi_params *p = &r->params;

	printf("login successful: TSIH %u, ExpStatSN %u, TPGT %d, alias '%s'%s%s\n", r->tsih, r->exp_statsn, p->tpgt,
	       p->target_alias, r->authenticated ? ", CHAP " : "",
	       r->authenticated ? (chap_alg_name(r->chap_alg) ? chap_alg_name(r->chap_alg) : "?") : "");
	if (r->target_authenticated)
		printf("target authenticated (mutual CHAP)\n");
	printf("  HeaderDigest=%s DataDigest=%s\n", params_digest_name(p->header_digest),
	       params_digest_name(p->data_digest));
	printf("  MaxRecvDataSegmentLength=%u MaxXmitDataSegmentLength=%u\n", p->max_recv_dsl, p->max_xmit_dsl);
	printf("  MaxBurstLength=%u FirstBurstLength=%u InitialR2T=%s ImmediateData=%s\n", p->max_burst_length,
	       p->first_burst_length, p->initial_r2t ? "Yes" : "No", p->immediate_data ? "Yes" : "No");
	printf("  MaxOutstandingR2T=%u ErrorRecoveryLevel=%u DefaultTime2Wait=%u DefaultTime2Retain=%u\n",
	       p->max_outstanding_r2t, p->error_recovery_level, p->default_time2wait, p->default_time2retain);
}

static int sendtargets(int fd, const struct login_result *res, uint8_t *buf)
{
	struct pdu_opts o = { .max_data_len = res->params.max_xmit_dsl };
	struct pdu_opts ro = { .max_data_len = res->params.max_recv_dsl };
	struct st_exchange ex;
	struct st_result targets;
	struct pdu req, rsp;
	size_t len = 0;
	int r;

	st_result_init(&targets);
	r = st_exchange_start(&ex, 0x100, res->cmdsn, res->exp_statsn, res->exp_cmdsn, res->max_cmdsn, &req);
	while (r >= 0) {
		if (pdu_encode(&req, &o, buf, MAX_PDU, &len) < 0 || write_all(fd, buf, len) < 0) {
			r = -EIO;
			break;
		}
		print_login_pdu(">", buf, len);
		if (read_pdu(fd, buf, MAX_PDU, &len) < 0 || pdu_decode(buf, len, PDU_DIR_TO_INITIATOR, &ro, &rsp, NULL,
								       NULL) < 0) {
			r = -EIO;
			break;
		}
		print_login_pdu("<", buf, len);
		r = st_exchange_step(&ex, &rsp, &req, &targets);
		if (r == ST_STEP_DONE)
			break;
	}
	if (r != ST_STEP_DONE) {
		printf("SendTargets failed: %s\n", r == -EIO ? "connection error" : st_exchange_error(&ex));
		st_exchange_free(&ex);
		return ISCSI_ERR_PDU_TIMEOUT;
	}
	for (size_t i = 0; i < targets.n; i++) {
		char addr[PORTAL_HOST_MAX + 32];

		if (targets.targets[i].n_portals == 0)
			printf("target %s (discovery portal)\n", targets.targets[i].name);
		for (size_t j = 0; j < targets.targets[i].n_portals; j++) {
			portal_format(&targets.targets[i].portals[j], addr, sizeof(addr));
			printf("target %s %s\n", targets.targets[i].name, addr);
		}
	}
	/* The Logout after it uses the exchange's sequence numbers. */
	((struct login_result *)res)->cmdsn = ex.cmdsn;
	((struct login_result *)res)->exp_statsn = ex.exp_statsn;
	st_result_free(&targets);
	st_exchange_free(&ex);
	return 0;
}

static void logout(int fd, const struct login_result *res, uint8_t *buf)
{
	size_t len = 0;
	uint8_t code = 0xff;

	if (login_build_logout(0x200, 0, res->cmdsn, res->exp_statsn, ISCSI_LOGOUT_CLOSE_SESSION, buf, MAX_PDU,
			       &len) < 0 || write_all(fd, buf, len) < 0) {
		printf("logout: cannot send\n");
		return;
	}
	print_login_pdu(">", buf, len);
	if (read_pdu(fd, buf, MAX_PDU, &len) < 0 || login_parse_logout_response(buf, len, 0x200, &code) < 0) {
		printf("logout: no valid Logout Response\n");
		return;
	}
	printf("logout response %u\n", code);
}

static const char *secret_arg(const char *s)
{
	if (s && strncmp(s, "env:", 4) == 0) {
		const char *v = getenv(s + 4);

		if (!v) {
			fprintf(stderr, "login_probe: %s is not set\n", s + 4);
			exit(ISCSI_ERR_INVAL);
		}
		return v;
	}
	return s;
}

int main(int argc, char **argv)
{
	struct login_config cfg;
	struct portal portal;
	enum chap_alg algs[CHAP_MAX_ALGS], md5 = CHAP_ALG_MD5;
	size_t n_algs = 0;
	char why[128];
	uint8_t *buf;
	int opt, code = ISCSI_ERR;
	bool discovery = false, md5_retry = false;
	const char *portal_arg = NULL;

	memset(&cfg, 0, sizeof(cfg));
	cfg.initiator_name = "iqn.2024-01.org.example.initiator:login-probe";
	cfg.session_type = ISCSI_SESSION_NORMAL;
	login_isid_make((uint32_t)getpid() & 0xffffff, cfg.isid);
	cfg.itt = 1;
	cfg.cmdsn = 1;
	while ((opt = getopt(argc, argv, "p:t:di:u:w:U:W:a:q")) != -1) {
		switch (opt) {
		case 'p': portal_arg = optarg; break;
		case 't': cfg.target_name = optarg; break;
		case 'd': discovery = true; break;
		case 'i': cfg.initiator_name = optarg; break;
		case 'u': cfg.username = optarg; break;
		case 'w': cfg.password = secret_arg(optarg); break;
		case 'U': cfg.username_in = optarg; break;
		case 'W': cfg.password_in = secret_arg(optarg); break;
		case 'a':
			if (chap_alg_list_parse(optarg, algs, &n_algs) < 0)
				usage();
			cfg.chap_algs = algs;
			cfg.n_chap_algs = n_algs;
			break;
		case 'q': quiet = true; break;
		default: usage();
		}
	}
	if (!portal_arg || optind != argc || portal_parse(portal_arg, &portal, why, sizeof(why)) < 0)
		usage();
	if (discovery) {
		cfg.session_type = ISCSI_SESSION_DISCOVERY;
		cfg.target_name = NULL;
	}
	if (login_config_check(&cfg, why, sizeof(why)) < 0) {
		fprintf(stderr, "login_probe: %s\n", why);
		return ISCSI_ERR_INVAL;
	}
	buf = malloc(MAX_PDU);
	if (!buf)
		return ISCSI_ERR_NOMEM;

	for (int attempt = 0; attempt < 5; attempt++) {
		struct login_out out;
		struct login *l;
		size_t len = 0;
		int fd = tcp_connect(&portal);

		printf("connect %s:%u%s\n", portal.host, portal.port, md5_retry ? " (retry with CHAP_A=5)" : "");
		if (fd < 0) {
			printf("cannot connect\n");
			code = ISCSI_ERR_TRANS;
			break;
		}
		l = login_new(&cfg);
		if (!l || login_start(l, &out) < 0) {
			close(fd);
			code = ISCSI_ERR_INTERNAL;
			login_free(l);
			break;
		}
		while (out.kind == LOGIN_SEND) {
			print_login_pdu(">", out.pdu, out.pdu_len);
			if (write_all(fd, out.pdu, out.pdu_len) < 0 || read_pdu(fd, buf, MAX_PDU, &len) < 0) {
				printf("connection lost during login\n");
				out.kind = LOGIN_FAILED;
				out.exit_code = ISCSI_ERR_TRANS;
				break;
			}
			print_login_pdu("<", buf, len);
			if (login_step(l, buf, len, &out) < 0 && out.kind == LOGIN_SEND)
				out.kind = LOGIN_FAILED;
		}
		login_free(l);
		switch (out.kind) {
		case LOGIN_DONE:
			print_result(&out.result);
			code = 0;
			if (discovery)
				code = sendtargets(fd, &out.result, buf);
			logout(fd, &out.result, buf);
			close(fd);
			free(buf);
			return code;
		case LOGIN_REDIRECT:
			printf("redirect: %s\n", out.msg);
			portal = out.redirect.portal;
			close(fd);
			continue;
		case LOGIN_RETRY_MD5:
			printf("login failed: %s\n", out.msg);
			close(fd);
			code = out.exit_code;
			if (md5_retry)
				goto out;
			md5_retry = true;
			cfg.chap_algs = &md5;
			cfg.n_chap_algs = 1;
			continue;
		default:
			printf("login failed (exit %d): %s\n", out.exit_code, out.msg);
			close(fd);
			code = out.exit_code;
			goto out;
		}
	}
out:
	free(buf);
	return code;
}
