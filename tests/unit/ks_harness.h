/* The daemon around iscsid's kernel carrier for unit tests: an event
 * loop, a struct iscsid with its session layer (session.h), the real
 * kernel carrier (carrier_kernel.c) beneath it talking to the scripted
 * kernel (fake_kernel.h) over nl_iscsi_open_io(), a fake sysfs tree, and
 * a real TCP listener on loopback for the connects (the scripted kernel
 * plays the target, so nothing is ever read from it). Requests go through
 * the layer, as the control handlers send them. Single-threaded test
 * programs: globals. */
#ifndef TESTS_KS_HARNESS_H
#define TESTS_KS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iscsid.h"
#include "ksession.h"
#include "loop.h"
#include "record.h"
#include "session.h"
#include "transport.h"

extern struct loop *lp;
extern struct iscsid d;
extern struct kctx *kc;          /* the kernel carrier's context (for looking inside) */
extern struct carrier *kcar;     /* the kernel carrier */
extern int lfd;                  /* the listener every record points at */
extern int port;
extern char *mountinfo;          /* a test's mountinfo file, removed by ks_teardown */

struct answer {
	bool done;
	struct transport_result res;
	char devs[256];
};

/* transport_done_fn: fills the struct answer data points at. */
void on_done(void *data, const struct transport_result *res);
/* Runs the loop until cond() holds (checked every 5 ms) or ms pass. */
bool run_until(bool (*cond)(void), unsigned ms);
bool wait_answer(struct answer *a, unsigned ms);
/* until the scripted kernel has seen n requests of this type */
bool wait_requests(uint32_t type, size_t n, unsigned ms);

void ks_setup(void);
void ks_teardown(void);
/* A session layer with a kernel carrier on the scripted kernel, started
 * as iscsid starts it (session_adopt_all: what the fake sysfs holds is
 * adopted); proc_netlink NULL: no netlink socket is alive. Sets d.sessions,
 * kcar, kc. */
void ks_start(const char *proc_netlink);
/* The layer and its carrier stop (sessions live on in the fake kernel). */
void ks_stop(void);
/* ks_stop, then ks_start: iscsid restarted. */
void ks_restart(const char *proc_netlink);

void make_rec(struct node_rec *r, const char *target, bool scan);
/* a successful login through the layer; returns the sid */
uint32_t login_ok(struct answer *a, const char *target, bool scan);
/* starts a login, returns without waiting */
void ks_login_start(struct answer *a, struct node_rec *rec, uint32_t flags);
const char *scan_file(uint32_t host, char *buf, size_t len);

#endif
