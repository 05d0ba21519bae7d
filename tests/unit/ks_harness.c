/* The daemon around the kernel session path (ks_harness.h). */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "fake_kernel.h"
#include "fake_sysfs.h"
#include "ks_harness.h"
#include "log.h"
#include "nl.h"
#include "sysfs.h"

struct loop *lp;
struct iscsid d;
struct kctx *kc;
struct carrier *kcar;
int lfd = -1;
int port;
char *mountinfo;


void on_done(void *data, const struct transport_result *res)
{
	struct answer *a = data;
	a->done = true;
	a->res = *res;
	a->res.devices = NULL;
	a->res.stats = NULL;
	for (size_t i = 0; i < res->ndevices; i++) {
		strcat(a->devs, res->devices[i]);
		strcat(a->devs, " ");
	}
	/* stats: keep two values for the checks */
	for (size_t i = 0; i < res->nstats; i++)
		if (!strcmp(res->stats[i].name, "scsicmd_pdus") || !strcmp(res->stats[i].name, "eh_abort_cnt")) {
			char b[64];
			snprintf(b, sizeof(b), "%s=%llu%s ", res->stats[i].name,
				 (unsigned long long)res->stats[i].value, res->stats[i].extended ? "x" : "");
			strcat(a->devs, b);
		}
}

static bool (*poll_cond)(void);

static void on_poll(struct loop *l, void *data)
{
	struct loop_timer *t = data;
	if (poll_cond())
		loop_exit(l, 0);
	else
		loop_timer_arm(l, t, 5);
}

static void on_deadline(struct loop *l, void *data)
{
	(void)data;
	loop_exit(l, 1);
}

bool run_until(bool (*cond)(void), unsigned ms)
{
	struct loop_timer poll, dl;
	poll_cond = cond;
	loop_timer_init(&poll, on_poll, &poll);
	loop_timer_init(&dl, on_deadline, NULL);
	loop_timer_arm(lp, &poll, 0);
	loop_timer_arm(lp, &dl, ms);
	int r = loop_run(lp);
	loop_timer_disarm(lp, &poll);
	loop_timer_disarm(lp, &dl);
	return r == 0;
}

static struct answer *cur;
static bool answered(void)
{
	return cur->done;
}

bool wait_answer(struct answer *a, unsigned ms)
{
	cur = a;
	return run_until(answered, ms);
}

static uint32_t want_type;
static size_t want_n;
static bool have_requests(void)
{
	return count(want_type) >= want_n;
}

bool wait_requests(uint32_t type, size_t n, unsigned ms)
{
	want_type = type;
	want_n = n;
	return run_until(have_requests, ms);
}

void ks_setup(void)
{
	memset(&fk, 0, sizeof(fk));
	fk.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ck_assert_int_ge(fk.efd, 0);
	fk.next_sid = 1;
	fk.next_host = 3;
	fk.statsn = 100;
	fk.sysfs = fake_sysfs_new();
	fake_add_transport(fk.sysfs, "tcp", "1", "0x39");
	mountinfo = NULL;

	/* a listener that never answers: the scripted kernel plays the target */
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 16), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
	port = ntohs(sa.sin_port);

	memset(&d, 0, sizeof(d));
	config_init(&d.config);
	snprintf(d.iname.name, sizeof(d.iname.name), "iqn.2005-03.org.example:initiator");
	d.have_iname = true;
	ck_assert_int_eq(paths_init(&d.paths, fk.sysfs), 0);
	ck_assert_int_eq(loop_new(&lp), 0);
	d.loop = lp;
	log_init(true, 0);
	ks_start(NULL);
}

static bool started;
static void on_started(void *data, const struct transport_result *res)
{
	(void)data;
	ck_assert_msg(res->status == 0, "adoption: %d %s", res->status, res->message);
	started = true;
}

static bool is_started(void)
{
	return started;
}

void ks_start(const char *proc_netlink)
{
	struct nl_iscsi_io io = { .fd = fk.efd, .send = fk_send, .recv = fk_recv };
	struct nl_iscsi *nl;
	ck_assert_int_eq(nl_iscsi_open_io(&io, &nl), 0);
	nl_iscsi_set_handle(nl, 1);
	struct carrier_kernel_config kcfg = {
		.sysfs_root = fk.sysfs, .modprobe = "", .daemon = &d, .devdir = fk.sysfs, .nl = nl,
		.proc_netlink = proc_netlink ? proc_netlink : "/nonexistent",
	};
	ck_assert_int_eq(session_layer_new(lp, &d.sessions), 0);
	ck_assert_int_eq(carrier_kernel_new(lp, &kcfg, &kcar), 0);
	ck_assert_int_eq(session_layer_add_carrier(d.sessions, kcar), 0);
	started = false;
	ck_assert_int_eq(session_adopt_all(d.sessions, on_started, NULL), 0);
	ck_assert(!started);                  /* never answered from inside the call */
	ck_assert(run_until(is_started, 5000));
	kc = carrier_kernel_kctx(kcar);
	ck_assert_ptr_nonnull(kc);
}

void ks_stop(void)
{
	session_layer_free(d.sessions);
	d.sessions = NULL;
	kc = NULL;
	kcar = NULL;
}

void ks_teardown(void)
{
	ks_stop();
	loop_free(lp);
	close(lfd);
	while (fk.head < fk.tail)
		free(fk.q[fk.head++]);
	close(fk.efd);
	if (mountinfo) {
		unlink(mountinfo);
		free(mountinfo);
	}
	fake_sysfs_free(fk.sysfs);
}

void make_rec(struct node_rec *r, const char *target, bool scan)
{
	node_rec_init(r);
	snprintf(r->name, sizeof(r->name), "%s", target);
	snprintf(r->conn.address, sizeof(r->conn.address), "127.0.0.1");
	r->conn.port = port;
	r->tpgt = 1;
	r->conn.login_timeout = 5;
	r->session.initial_login_retry_max = 1;
	r->session.scan = scan ? REC_SCAN_AUTO : REC_SCAN_MANUAL;
}

const char *scan_file(uint32_t host, char *buf, size_t len)
{
	char rel[128];
	snprintf(rel, sizeof(rel), "class/scsi_host/host%u/scan", host);
	if (sysfs_read_attr(fk.sysfs, rel, buf, len) < 0)
		buf[0] = '\0';
	return buf;
}

uint32_t login_ok(struct answer *a, const char *target, bool scan)
{
	struct node_rec rec;
	make_rec(&rec, target, scan);
	struct transport_login tl = { .rec = &rec, .flags = 0 };
	memset(a, 0, sizeof(*a));
	ck_assert_int_eq(session_login(d.sessions, &tl, on_done, a), 0);
	ck_assert(!a->done);                  /* never answered from inside the call */
	ck_assert(wait_answer(a, 5000));
	ck_assert_msg(a->res.status == 0, "login: %d %s", a->res.status, a->res.message);
	return a->res.sid;
}


void ks_login_start(struct answer *a, struct node_rec *rec, uint32_t flags)
{
	struct transport_login tl = { .rec = rec, .flags = flags };
	memset(a, 0, sizeof(*a));
	ck_assert_int_eq(session_login(d.sessions, &tl, on_done, a), 0);
	ck_assert(!a->done);                  /* never answered from inside the call */
}

void ks_restart(const char *proc_netlink)
{
	ks_stop();
	ks_start(proc_netlink);
}
