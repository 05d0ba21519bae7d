/* A test double of a carrier (iscsid/carrier.h) shaped like the userspace
 * one: each session is a "process" in a world that outlives iscsid
 * (struct dc_world), so a restarted layer adopts the ones still running;
 * the carrier logs in, out, rescans and reports after a delay on a timer,
 * never from inside a call, and keeps the carrier rules (carrier.h). Its
 * knobs make it fail, die in the batch of its login answer, lose and
 * regain connections, or die.
 *
 * Sessions get their ids from the layer (sid_min, as a uspace carrier
 * does) or from the double itself (own_sid, as the kernel does). */
#ifndef TESTS_DOUBLE_CARRIER_H
#define TESTS_DOUBLE_CARRIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "carrier.h"
#include "loop.h"
#include "record.h"
#include "session.h"

#define DC_MAX_PROCS 16

/* A session "process": it lives on when the carrier (iscsid) stops. */
struct dc_proc {
	bool alive;
	char carrier[16];                 /* the transport name of the carrier that started it */
	uint32_t sid, host_no;
	struct node_rec rec;
	enum session_state state;         /* LOGGED_IN or RECOVERY when it outlives iscsid */
	struct session *s;                /* the layer's entry while a carrier has it */
};

struct dc_world {
	struct dc_proc procs[DC_MAX_PROCS];
};

struct dc_config {
	const char *name;                 /* transport name: "double" */
	uint32_t sid_min;                 /* 0: the double's own ids from own_sid */
	uint32_t own_sid;                 /* the first id it gives itself */
	uint32_t host_no;                 /* reported with every session */
	unsigned delay_ms;                /* before each answer */
	bool no_stats;                    /* a carrier without counters */
};

struct double_carrier {
	struct carrier base;              /* first */
	struct carrier_ops ops;           /* a copy with name and sid_min set */
	struct loop *loop;
	struct dc_world *world;
	struct dc_config cfg;
	char log[1024];                   /* "login(T,flags) logout(1) rescan(2) ..." */
	/* knobs */
	int probe_status;                 /* non-zero: probe fails with it */
	int login_status;                 /* non-zero: the login fails with it */
	bool login_fail_keeps;            /* ... answered without ending the session first */
	bool die_with_login;              /* the session dies right after its login answer is decided */
	uint32_t fail_logout_sid;         /* this sid's logout fails (the session stays) */
	bool end_inside_logout;           /* logout ends the session from inside the call */
	uint32_t next_own_sid;
	struct dc_op *ops_head;           /* in flight */
};

struct double_carrier *double_carrier_new(struct loop *l, struct dc_world *w, const struct dc_config *cfg);

/* The connection of sid is lost / back / the process dies. */
void dc_lose(struct double_carrier *dc, uint32_t sid);
void dc_back(struct double_carrier *dc, uint32_t sid);
void dc_die(struct double_carrier *dc, uint32_t sid);

/* A running process in the world (as a previous iscsid left it). */
void dc_world_add(struct dc_world *w, const char *carrier, uint32_t sid, uint32_t host_no, const char *target,
		  const char *address, int port, enum session_state st);
size_t dc_world_alive(const struct dc_world *w);

#endif
