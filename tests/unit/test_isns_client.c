/* iscsid's iSNS client (iscsid/isns_client.h) and its SCN port
 * (iscsid/isns_scn.h) in-process, against a scripted iSNS server: a
 * forked hostile_server (tests/tools/hostile_server.c) on 127.0.0.1 that
 * answers with libinitiator's iSNSP encoder as its script file says and
 * writes each request it gets to an events file. iscsid's workers, the
 * node database (a temporary root) and the session layer (a test double
 * carrier named "tcp") are the real ones.
 *
 *   register   what DevAttrReg says (source, entity, portal, SCN port,
 *              node), the SCN port on the portal address only, the
 *              records written, the login to an automatic one
 *   refused    an error status: retried after 5 s, then 10 s, nothing
 *              in between (no busy loop), nothing written
 *   answers    a malformed and an oversized DevAttrQry answer: why in
 *              the log, one attempt, a retry announced, nothing written
 *   scn        an SCN brings a new target: written and logged in to;
 *              the records already there are not rewritten
 *   stop       a clean stop and an unset isns.address deregister
 *   scn port   at most 8 connections, 64 KiB messages, idle timeout,
 *              what is answered and what calls back */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "double_carrier.h"
#include "loop_wait.h"
#include "hostile_server.h"
#include "iscsid.h"
#include "isns.h"
#include "isns_client.h"
#include "isns_scn.h"
#include "log.h"
#include "loop.h"
#include "session.h"

#define INAME "iqn.2024-01.org.example:host"
#define T1 "iqn.2024-01.org.example.unit:t1"
#define T2 "iqn.2024-01.org.example.unit:t2"

static char dir[64], events[128], script[128], logpath[128];
static pid_t srv_pid = -1;
static unsigned srv_port;

/* ---- the scripted server (in its forked children) ---- */

__attribute__((format(printf, 1, 2)))
static void ev(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	int fd = open(events, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		dprintf(fd, "%llu %s\n", (unsigned long long)loop_now_ms(), line);
		close(fd);
	}
}

/* The script's value for key ("reg 8", "qry tlv", "target NAME"): the
 * nth line starting with key, or NULL. */
static const char *script_get(const char *key, int nth, char *buf, size_t len)
{
	FILE *f = fopen(script, "r");
	const char *r = NULL;
	size_t kl = strlen(key);
	while (f && fgets(buf, (int)len, f)) {
		buf[strcspn(buf, "\n")] = '\0';
		if (!strncmp(buf, key, kl) && buf[kl] == ' ' && nth-- == 0) {
			r = buf + kl + 1;
			break;
		}
	}
	if (f)
		fclose(f);
	return r;
}

static void send_one(int fd, uint16_t function, uint16_t flags, uint16_t xid, uint16_t seq, const uint8_t *p,
		     size_t len)
{
	uint8_t hdr[ISNS_HDR_LEN];
	isns_pdu_header(function, flags, xid, len, hdr);
	/* isns_pdu_header sets FIRST and LAST; the script's flags instead */
	hdr[6] = (uint8_t)((flags | ISNS_F_SERVER) >> 8);
	hdr[7] = (uint8_t)(flags | ISNS_F_SERVER);
	hdr[10] = (uint8_t)(seq >> 8);
	hdr[11] = (uint8_t)seq;
	if (hs_write_full(fd, hdr, sizeof(hdr)) || (len && hs_write_full(fd, p, len)))
		_exit(0);
}

static void answer_query(int fd, uint16_t xid)
{
	static uint8_t mem[65532];
	struct isns_buf b;
	char mode[64] = "ok", buf[256];
	const char *v = script_get("qry", 0, buf, sizeof(buf));

	if (v)
		snprintf(mode, sizeof(mode), "%s", v);
	isns_buf_init(&b, mem, sizeof(mem));
	isns_put_raw32(&b, ISNS_OK);
	if (!strcmp(mode, "tlv")) {
		/* an attribute running past the end of the message */
		isns_put_raw32(&b, ISNS_TAG_ISCSI_NAME);
		isns_put_raw32(&b, 1024);
		isns_put_raw32(&b, 0x69716e2e);
	} else if (!strcmp(mode, "huge")) {
		/* PDUs of 65532 bytes past the 4 MiB a message may have */
		memset(mem, 0, sizeof(mem));
		for (uint16_t seq = 0; seq < 70; seq++)
			send_one(fd, ISNS_DEV_ATTR_QRY | ISNS_RSP, seq ? 0 : ISNS_F_FIRST, xid, seq, mem, sizeof(mem));
		_exit(0);
	} else {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		isns_put_nil(&b, ISNS_TAG_DELIMITER);
		for (int i = 0; (v = script_get("target", i, buf, sizeof(buf))); i++) {
			isns_put_str(&b, ISNS_TAG_ISCSI_NAME, v);
			isns_put_u32(&b, ISNS_TAG_ISCSI_NODE_TYPE, ISNS_NODE_TARGET);
			isns_put_str(&b, ISNS_TAG_PG_ISCSI_NAME, v);
			isns_put_addr(&b, ISNS_TAG_PG_PORTAL_IP, (struct sockaddr *)&sa);
			isns_put_u32(&b, ISNS_TAG_PG_PORTAL_PORT, 3260);
			isns_put_u32(&b, ISNS_TAG_PG_TAG, 1);
		}
	}
	send_one(fd, ISNS_DEV_ATTR_QRY | ISNS_RSP, ISNS_F_FIRST | ISNS_F_LAST, xid, 0, mem, b.len);
}

static void answer_status(int fd, const struct isns_msg *m, uint32_t status)
{
	uint8_t b[4];
	struct isns_buf ib;
	isns_buf_init(&ib, b, sizeof(b));
	isns_put_raw32(&ib, status);
	send_one(fd, m->function | ISNS_RSP, ISNS_F_FIRST | ISNS_F_LAST, m->xid, 0, b, ib.len);
}

/* "REG flags=F src=S eid=E ip=A pport=P scn=P name=N type=T" */
static void log_reg(const struct isns_msg *m)
{
	char src[256] = "", eid[256] = "", ip[64] = "", name[256] = "", s[256];
	uint32_t pport = 0, scn = 0, type = 0;
	int fam;
	if (m->n_attrs)
		isns_attr_str(&m->attrs[0], src, sizeof(src));
	for (size_t i = m->delim + 1; i < m->n_attrs; i++) {
		const struct isns_attr *a = &m->attrs[i];
		if (a->tag == ISNS_TAG_EID)
			isns_attr_str(a, eid, sizeof(eid));
		else if (a->tag == ISNS_TAG_PORTAL_IP)
			isns_attr_addr(a, ip, sizeof(ip), &fam);
		else if (a->tag == ISNS_TAG_PORTAL_PORT)
			isns_attr_u32(a, &pport);
		else if (a->tag == ISNS_TAG_SCN_PORT)
			isns_attr_u32(a, &scn);
		else if (a->tag == ISNS_TAG_ISCSI_NAME && isns_attr_str(a, s, sizeof(s)) == 0)
			snprintf(name, sizeof(name), "%s", s);
		else if (a->tag == ISNS_TAG_ISCSI_NODE_TYPE)
			isns_attr_u32(a, &type);
	}
	ev("REG flags=%x src=%s eid=%s ip=%s pport=%u scn=%u name=%s type=%u", m->flags, src, eid, ip, pport, scn,
	   name, type);
}

static void serve(int fd, void *data)
{
	struct isns_rx rx;
	char why[ISNS_ERR_MAX], buf[64];

	(void)data;
	isns_rx_init(&rx, NULL);
	ev("CONN");
	for (;;) {
		uint8_t *p;
		size_t want;
		int r = 0;
		while (r == 0) {
			if (isns_rx_space(&rx, &p, &want) < 0)
				goto out;
			ssize_t k = read(fd, p, want);
			if (k <= 0)
				goto out;
			r = isns_rx_commit(&rx, (size_t)k, why, sizeof(why));
		}
		struct isns_msg m;
		if (r < 0 || isns_rx_take(&rx, &m, why, sizeof(why)) < 0)
			goto out;
		if (m.function == ISNS_DEV_ATTR_REG) {
			log_reg(&m);
			const char *v = script_get("reg", 0, buf, sizeof(buf));
			answer_status(fd, &m, v ? (uint32_t)atoi(v) : ISNS_OK);
		} else if (m.function == ISNS_DEV_ATTR_QRY) {
			ev("QRY");
			answer_query(fd, m.xid);
		} else {
			char src[256] = "";
			if (m.n_attrs)
				isns_attr_str(&m.attrs[0], src, sizeof(src));
			ev("%s src=%s", isns_function_name(m.function), src);
			answer_status(fd, &m, ISNS_OK);
		}
		isns_msg_free(&m);
	}
out:
	isns_rx_free(&rx);
}

static void server_start(void)
{
	int p[2];
	char line[32] = "";

	ck_assert_int_eq(pipe(p), 0);
	srv_pid = fork();
	ck_assert_int_ge(srv_pid, 0);
	if (srv_pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[0]);
		dup2(p[1], 1);
		struct hs_args a = { 0 };
		_exit(hs_run("isns-script", &a, 60, serve, NULL));
	}
	close(p[1]);
	ck_assert_int_gt(read(p[0], line, sizeof(line) - 1), 0);
	close(p[0]);
	srv_port = (unsigned)atoi(line);
	ck_assert_uint_gt(srv_port, 0);
}

/* ---- what the server got ---- */

static char evbuf[65536];

/* Lines of the events file whose event starts with what; the nth one's
 * text (after the time) in *ret_line and its time in *ret_ms. */
static int ev_count(const char *what, int nth, const char **ret_line, unsigned long long *ret_ms)
{
	FILE *f = fopen(events, "r");
	size_t n = f ? fread(evbuf, 1, sizeof(evbuf) - 1, f) : 0;
	int count = 0;
	if (f)
		fclose(f);
	evbuf[n] = '\0';
	for (char *l = evbuf, *nl; *l; l = nl + 1) {
		nl = strchr(l, '\n');
		if (!nl)
			break;
		*nl = '\0';
		char *sp = strchr(l, ' ');
		if (sp && !strncmp(sp + 1, what, strlen(what)) && count++ == nth) {
			if (ret_line)
				*ret_line = sp + 1;
			if (ret_ms)
				*ret_ms = strtoull(l, NULL, 10);
		}
	}
	return count;
}

static bool in_log(const char *s)
{
	static char b[65536];
	FILE *f = fopen(logpath, "r");
	size_t n = f ? fread(b, 1, sizeof(b) - 1, f) : 0;
	if (f)
		fclose(f);
	b[n] = '\0';
	return strstr(b, s) != NULL;
}

/* ---- the daemon around the client ---- */

static struct iscsid d;
static struct double_carrier *dbl;
static struct dc_world world;

static bool run_until(bool (*c)(void), unsigned ms)
{
	return loop_run_until(d.loop, c, 10, ms);
}

static bool never(void)
{
	return false;
}

static void write_script(const char *text)
{
	FILE *f = fopen(script, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* A temporary root, the server, and (client) a daemon configured for it. */
static void setup(const char *text, bool client)
{
	snprintf(dir, sizeof(dir), "/tmp/test_isns_client.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(events, sizeof(events), "%s/events", dir);
	snprintf(script, sizeof(script), "%s/script", dir);
	snprintf(logpath, sizeof(logpath), "%s/log", dir);
	write_script(text);
	/* the log where the test reads it */
	int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	dup2(fd, 2);
	close(fd);
	setvbuf(stderr, NULL, _IONBF, 0);
	log_init(true, 1);
	memset(&d, 0, sizeof(d));
	memset(&world, 0, sizeof(world));
	if (client)
		server_start();
	ck_assert_int_eq(loop_new(&d.loop), 0);
	if (!client)
		return;
	ck_assert_int_eq(paths_init(&d.paths, dir), 0);
	char conf[256];
	int n = snprintf(conf, sizeof(conf), "isns.address = 127.0.0.1\nisns.port = %u\nnode.startup = automatic\n",
			 srv_port);
	ck_assert_int_eq(config_parse(conf, (size_t)n, "iscsid.conf", &d.config, NULL), 0);
	snprintf(d.iname.name, sizeof(d.iname.name), "%s", INAME);
	d.have_iname = true;
	ck_assert_int_eq(session_layer_new(d.loop, &d.sessions), 0);
	struct dc_config dc = { .name = "tcp", .sid_min = 1, .delay_ms = 5 };
	dbl = double_carrier_new(d.loop, &world, &dc);
	ck_assert_int_eq(session_layer_add_carrier(d.sessions, &dbl->base), 0);
	ck_assert_int_eq(isns_client_new(&d, &d.isns), 0);
	isns_client_configure(d.isns);
}

static void teardown(void)
{
	if (d.isns) {
		isns_client_stop(d.isns);
		isns_client_free(d.isns);
	}
	session_layer_free(d.sessions);
	loop_free(d.loop);
	if (srv_pid > 0) {
		kill(srv_pid, SIGKILL);
		waitpid(srv_pid, NULL, 0);
	}
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static char rec1[256], rec2[256];

static bool rec1_there(void)
{
	return access(rec1, F_OK) == 0;
}
static bool rec2_there(void)
{
	return access(rec2, F_OK) == 0;
}
static bool queried(void)
{
	return ev_count("QRY", 0, NULL, NULL) > 0;
}
static bool registered(void)
{
	return ev_count("REG", 0, NULL, NULL) > 0 && in_log("iSNS: registered " INAME);
}
static bool deregistered(void)
{
	return ev_count("DevDereg", 0, NULL, NULL) > 0;
}

static unsigned count_str(const char *hay, const char *s)
{
	unsigned n = 0;
	for (const char *p = hay; (p = strstr(p, s)); p++)
		n++;
	return n;
}

static int connect_to(const char *addr, unsigned port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, addr, &sa.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* The SCN port the client registered. */
static unsigned reg_scn_port(void)
{
	const char *l;
	ck_assert_int_gt(ev_count("REG", 0, &l, NULL), 0);
	const char *p = strstr(l, " scn=");
	ck_assert_ptr_nonnull(p);
	return (unsigned)atoi(p + 5);
}

/* ---- the client ---- */

START_TEST(test_register)
{
	const char *l;

	setup("target " T1 "\n", true);
	snprintf(rec1, sizeof(rec1), "%s/nodes/%s/127.0.0.1,3260,1/default", dir, T1);
	ck_assert_msg(run_until(rec1_there, 10000), "no record for t1");
	ck_assert(run_until(registered, 2000));
	/* DevAttrReg: with Replace; source, entity, portal (the address the
	 * server sees, with the SCN port), the node, an initiator */
	ck_assert_int_eq(ev_count("REG", 0, &l, NULL), 1);
	unsigned sp = reg_scn_port();
	ck_assert_uint_gt(sp, 0);
	char want[512];
	snprintf(want, sizeof(want), "REG flags=%x src=" INAME " eid=" INAME " ip=127.0.0.1 pport=%u scn=%u name=" INAME
		 " type=%u", ISNS_F_CLIENT | ISNS_F_REPLACE | ISNS_F_FIRST | ISNS_F_LAST, sp, sp, ISNS_NODE_INITIATOR);
	ck_assert_str_eq(l, want);
	ck_assert_int_eq(ev_count("SCNReg src=" INAME, 0, NULL, NULL), 1);
	ck_assert_int_eq(ev_count("QRY", 0, NULL, NULL), 1);
	/* the SCN port: on our portal address, not on the host's others */
	int fd = connect_to("127.0.0.1", sp);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(connect_to("127.0.0.2", sp), -ECONNREFUSED);
	/* the new automatic record is logged in to, once */
	ck_assert(run_until(never, 300) == false);
	ck_assert_uint_eq(count_str(dbl->log, "login(" T1 ","), 1);
	ck_assert(in_log("1 node records added"));
	teardown();
}
END_TEST

START_TEST(test_refused)
{
	unsigned long long t0, t1;

	setup("reg 8\ntarget " T1 "\n", true);
	/* refused: no query, a retry in 5 s and nothing before it */
	ck_assert(!run_until(never, 3000));
	ck_assert_int_eq(ev_count("REG", 0, NULL, &t0), 1);
	ck_assert_int_eq(ev_count("QRY", 0, NULL, NULL), 0);
	ck_assert(in_log("iSNS: next attempt in 5 s"));
	ck_assert(in_log("status 8"));
	/* the address pass and the registration: two connections, no more */
	ck_assert_int_eq(ev_count("CONN", 0, NULL, NULL), 2);
	ck_assert(!run_until(never, 3000));
	ck_assert_int_eq(ev_count("REG", 0, NULL, NULL), 2);
	ev_count("REG", 1, NULL, &t1);
	ck_assert_uint_ge(t1 - t0, 4900);
	ck_assert_uint_le(t1 - t0, 5800);
	ck_assert(in_log("iSNS: next attempt in 10 s"));
	ck_assert_int_eq(ev_count("CONN", 0, NULL, NULL), 3);
	snprintf(rec1, sizeof(rec1), "%s/nodes", dir);
	ck_assert_int_ne(access(rec1, F_OK), 0);
	ck_assert_uint_eq(count_str(dbl->log, "login("), 0);
	teardown();
}
END_TEST

static bool retry_announced(void)
{
	return in_log("iSNS: next attempt in 5 s");
}

static void bad_answer(const char *mode, const char *why)
{
	char text[128];
	snprintf(text, sizeof(text), "qry %s\ntarget " T1 "\n", mode);
	setup(text, true);
	ck_assert_msg(run_until(retry_announced, 10000), "%s: no retry announced", mode);
	ck_assert_msg(in_log(why), "%s: the log does not say %s", mode, why);
	ck_assert(!run_until(never, 1500));
	ck_assert_int_eq(ev_count("QRY", 0, NULL, NULL), 1);
	snprintf(rec1, sizeof(rec1), "%s/nodes", dir);
	ck_assert_int_ne(access(rec1, F_OK), 0);
	teardown();
}

START_TEST(test_malformed)
{
	bad_answer("tlv", "runs past");
}
END_TEST

START_TEST(test_oversized)
{
	bad_answer("huge", "larger than");
}
END_TEST

/* An SCN (server to us) for dest: events[i] about names[i]. */
static size_t build_scn(uint8_t *out, size_t cap, const char *dest, uint32_t bitmap, const char *name)
{
	struct isns_buf b;
	isns_buf_init(&b, out + ISNS_HDR_LEN, cap - ISNS_HDR_LEN);
	isns_put_str(&b, ISNS_TAG_ISCSI_NAME, dest);
	isns_put_u32(&b, ISNS_TAG_ISCSI_SCN_BITMAP, bitmap);
	isns_put_str(&b, ISNS_TAG_ISCSI_NAME, name);
	ck_assert(!b.full);
	isns_pdu_header(ISNS_SCN, ISNS_F_SERVER, 77, b.len, out);
	return ISNS_HDR_LEN + b.len;
}

static int scn_fd;
static bool scn_answered(void)
{
	uint8_t c;
	return recv(scn_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) != -1 || errno != EAGAIN;
}

/* Sends an SCN to port and returns the status of its answer. */
static uint32_t send_scn(unsigned port, const char *dest, uint32_t bitmap, const char *name)
{
	uint8_t out[1024], in[1024];
	struct isns_msg m;
	char err[ISNS_ERR_MAX];
	size_t len = build_scn(out, sizeof(out), dest, bitmap, name);

	scn_fd = connect_to("127.0.0.1", port);
	ck_assert_int_ge(scn_fd, 0);
	ck_assert_int_eq(hs_write_full(scn_fd, out, len), 0);
	ck_assert(run_until(scn_answered, 3000));
	ssize_t k = recv(scn_fd, in, sizeof(in), 0);
	close(scn_fd);
	ck_assert_int_gt(k, ISNS_HDR_LEN);
	ck_assert_int_eq(isns_msg_decode(in, (size_t)k, NULL, &m, err, sizeof(err)), 0);
	ck_assert_uint_eq(m.function, ISNS_SCN | ISNS_RSP);
	ck_assert_uint_eq(m.xid, 77);
	uint32_t st = m.status;
	isns_msg_free(&m);
	return st;
}

START_TEST(test_scn)
{
	struct stat before, after;

	setup("target " T1 "\n", true);
	snprintf(rec1, sizeof(rec1), "%s/nodes/%s/127.0.0.1,3260,1/default", dir, T1);
	snprintf(rec2, sizeof(rec2), "%s/nodes/%s/127.0.0.1,3260,1/default", dir, T2);
	ck_assert(run_until(rec1_there, 10000));
	ck_assert(run_until(registered, 2000));
	ck_assert_int_eq(stat(rec1, &before), 0);
	/* t1's session ends (as a logout would): only a pass that took t1
	 * for new would log in to it again */
	ck_assert(!run_until(never, 200));
	ck_assert_uint_eq(count_str(dbl->log, "login(" T1 ","), 1);
	dc_die(dbl, 1);
	ck_assert(!run_until(never, 200));
	ck_assert_uint_eq(dc_world_alive(&world), 0);
	unsigned sp = reg_scn_port();
	/* for another node: refused, no pass */
	ck_assert_uint_eq(send_scn(sp, "iqn.2024-01.org.example:other", ISNS_SCN_OBJECT_ADDED, T2),
			  ISNS_SCN_EVENT_REJECTED);
	/* a removal: answered, no pass */
	ck_assert_uint_eq(send_scn(sp, INAME, ISNS_SCN_OBJECT_REMOVED, T2), ISNS_OK);
	ck_assert(!run_until(never, 500));
	ck_assert_int_eq(ev_count("QRY", 0, NULL, NULL), 1);
	/* t2 added: a pass, its record, a login to it */
	write_script("target " T1 "\ntarget " T2 "\n");
	ck_assert_uint_eq(send_scn(sp, INAME, ISNS_SCN_OBJECT_ADDED, T2), ISNS_OK);
	ck_assert_msg(run_until(rec2_there, 10000), "no record for t2 after the SCN");
	ck_assert_int_eq(ev_count("QRY", 0, NULL, NULL), 2);
	ck_assert(!run_until(never, 300));
	ck_assert_uint_eq(count_str(dbl->log, "login(" T2 ","), 1);
	/* t1 was there: neither rewritten nor logged in to again */
	ck_assert_uint_eq(count_str(dbl->log, "login(" T1 ","), 1);
	ck_assert_int_eq(stat(rec1, &after), 0);
	ck_assert_uint_eq(before.st_ino, after.st_ino);
	ck_assert(before.st_mtim.tv_sec == after.st_mtim.tv_sec && before.st_mtim.tv_nsec == after.st_mtim.tv_nsec);
	teardown();
}
END_TEST

START_TEST(test_stop)
{
	setup("target " T1 "\n", true);
	ck_assert(run_until(registered, 10000));
	ck_assert(run_until(queried, 5000));
	ck_assert_int_eq(ev_count("DevDereg", 0, NULL, NULL), 0);
	/* isns.address unset (SIGHUP): deregistered by a worker */
	d.config.isns_address[0] = '\0';
	isns_client_configure(d.isns);
	ck_assert(run_until(deregistered, 5000));
	ck_assert_int_eq(ev_count("DevDereg src=" INAME, 0, NULL, NULL), 1);
	/* set again, then a clean stop: deregistered before it returns */
	snprintf(d.config.isns_address, sizeof(d.config.isns_address), "127.0.0.1");
	isns_client_configure(d.isns);
	ck_assert(run_until(queried, 5000));
	ck_assert(!run_until(never, 300));
	int regs = ev_count("REG", 0, NULL, NULL);
	ck_assert_int_eq(regs, 2);
	isns_client_stop(d.isns);
	ck_assert_int_eq(ev_count("DevDereg src=" INAME, 0, NULL, NULL), 2);
	ck_assert(in_log("iSNS: deregistered " INAME " from the iSNS server 127.0.0.1:"));
	/* stopped: nothing more happens */
	ck_assert(!run_until(never, 300));
	ck_assert_int_eq(ev_count("REG", 0, NULL, NULL), regs);
	teardown();
}
END_TEST

/* ---- the SCN port alone ---- */

static unsigned wanted;
static void on_wanted(void *data)
{
	(void)data;
	wanted++;
}

static bool peer_closed(int fd)
{
	uint8_t c[4096];
	ssize_t k;
	while ((k = recv(fd, c, sizeof(c), MSG_DONTWAIT)) > 0)
		;
	return k == 0 || (k < 0 && errno != EAGAIN);
}

static int *watch;
static size_t nwatch;
static bool all_closed(void)
{
	for (size_t i = 0; i < nwatch; i++)
		if (!peer_closed(watch[i]))
			return false;
	return true;
}

START_TEST(test_scn_limits)
{
	struct isns_scn *s;
	int fds[9];   /* the limit is 8 */

	setup("", false);
	ck_assert_int_eq(isns_scn_open(d.loop, "127.0.0.1", INAME, 60000, on_wanted, NULL, &s), 0);
	unsigned port = isns_scn_port(s);
	ck_assert_str_eq(isns_scn_addr(s), "127.0.0.1");
	ck_assert_int_eq(connect_to("127.0.0.2", port), -ECONNREFUSED);
	/* answers, and what calls back */
	ck_assert_uint_eq(send_scn(port, INAME, ISNS_SCN_OBJECT_ADDED, T1), ISNS_OK);
	ck_assert_uint_eq(wanted, 1);
	ck_assert_uint_eq(send_scn(port, INAME, ISNS_SCN_DD_MEMBER_ADDED, T1), ISNS_OK);
	ck_assert_uint_eq(wanted, 2);
	ck_assert_uint_eq(send_scn(port, INAME, ISNS_SCN_OBJECT_ADDED, INAME), ISNS_OK);   /* ourselves */
	ck_assert_uint_eq(send_scn(port, INAME, ISNS_SCN_OBJECT_REMOVED, T1), ISNS_OK);
	ck_assert_uint_eq(send_scn(port, "iqn.2024-01.org.example:other", ISNS_SCN_OBJECT_ADDED, T1),
			  ISNS_SCN_EVENT_REJECTED);
	ck_assert_uint_eq(wanted, 2);

	/* 8 connections kept, the 9th closed at once */
	for (size_t i = 0; i <= 8; i++) {
		fds[i] = connect_to("127.0.0.1", port);
		ck_assert_int_ge(fds[i], 0);
	}
	ck_assert(!run_until(never, 300));
	for (size_t i = 0; i < 8; i++)
		ck_assert_msg(!peer_closed(fds[i]), "connection %zu closed", i);
	ck_assert(peer_closed(fds[8]));
	close(fds[8]);
	/* one closed frees its place */
	close(fds[0]);
	ck_assert(!run_until(never, 100));
	fds[0] = connect_to("127.0.0.1", port);
	ck_assert(!run_until(never, 200));
	ck_assert(!peer_closed(fds[0]));

	/* a message over 64 KiB: its connection closed, at once */
	close(fds[1]);
	ck_assert(!run_until(never, 100));
	int big = connect_to("127.0.0.1", port);
	static uint8_t pdu[ISNS_HDR_LEN + 65532];
	memset(pdu, 0, sizeof(pdu));
	bool closed = false;
	for (uint16_t seq = 0; seq < 2 && !closed; seq++) {
		isns_pdu_header(ISNS_SCN, ISNS_F_SERVER, 9, 65532, pdu);
		pdu[6] = (uint8_t)((ISNS_F_SERVER | (seq ? 0 : ISNS_F_FIRST)) >> 8);
		pdu[7] = 0;
		pdu[11] = (uint8_t)seq;
		for (size_t off = 0; off < sizeof(pdu) && !closed;) {
			ssize_t k = send(big, pdu + off, sizeof(pdu) - off, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (k > 0)
				off += (size_t)k;
			else if (errno == EAGAIN)
				run_until(never, 10);
			else
				closed = true;
		}
	}
	watch = &big;
	nwatch = 1;
	ck_assert_msg(run_until(all_closed, 2000), "an oversized message did not close its connection");
	close(big);
	ck_assert(in_log("on the SCN port: "));
	/* the others are still there */
	for (size_t i = 2; i < 8; i++)
		ck_assert(!peer_closed(fds[i]));
	isns_scn_close(s);
	for (size_t i = 0; i < 8; i++)
		if (i != 1)
			close(fds[i]);
	teardown();
}
END_TEST

START_TEST(test_scn_idle)
{
	struct isns_scn *s;
	int fds[3];

	setup("", false);
	ck_assert_int_eq(isns_scn_open(d.loop, NULL, INAME, 400, on_wanted, NULL, &s), 0);
	ck_assert_str_eq(isns_scn_addr(s), "");
	unsigned port = isns_scn_port(s);
	uint64_t t0 = loop_now_ms();
	for (size_t i = 0; i < 3; i++)
		fds[i] = connect_to("127.0.0.1", port);
	/* idle connections last their time, not less */
	ck_assert(!run_until(never, 250));
	for (size_t i = 0; i < 3; i++)
		ck_assert(!peer_closed(fds[i]));
	/* a message restarts the clock of its connection */
	uint8_t out[512];
	size_t len = build_scn(out, sizeof(out), INAME, ISNS_SCN_OBJECT_ADDED, T1);
	ck_assert_int_eq(hs_write_full(fds[2], out, len), 0);
	watch = fds;
	nwatch = 2;
	ck_assert(run_until(all_closed, 2000));
	uint64_t t1 = loop_now_ms();
	ck_assert_uint_ge(t1 - t0, 390);
	ck_assert(!peer_closed(fds[2]));
	watch = &fds[2];
	nwatch = 1;
	ck_assert(run_until(all_closed, 2000));
	ck_assert_uint_ge(loop_now_ms() - t0, 600);
	ck_assert_uint_eq(wanted, 1);
	isns_scn_close(s);
	for (size_t i = 0; i < 3; i++)
		close(fds[i]);
	teardown();
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("isns_client");
	TCase *tc = tcase_create("client");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_register);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_oversized);
	tcase_add_test(tc, test_scn);
	tcase_add_test(tc, test_stop);
	suite_add_tcase(s, tc);
	tc = tcase_create("scn port");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_scn_limits);
	tcase_add_test(tc, test_scn_idle);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
