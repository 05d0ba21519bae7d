/* iscsid's iSNS client: registration, State Change Notifications,
 * discovery and logins without a command (see isns_client.h). */
#include "isns_client.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "iscsid.h"
#include "isns.h"
#include "isns_disc.h"
#include "isns_scn.h"
#include "log.h"
#include "loop.h"
#include "names.h"
#include "nodedb.h"
#include "session.h"

#define OUT_MAX (1024u * 1024u)      /* what a pass reports back */
#define OUT_LINE_MAX 1024u
#define MAX_LOGINS_PER_PASS 1024u

#define SCN_BITMAP (ISNS_SCN_WANTED | ISNS_SCN_OBJECT_REMOVED | ISNS_SCN_DD_MEMBER_REMOVED)

enum job_kind { JOB_PASS, JOB_DEREG };

/* What a worker gets (copied into the fork; d is the fork's copy). */
struct job_req {
	const struct iscsid *d;
	enum job_kind kind;
	char host[REC_HOST_SIZE];
	int port;
	char iname[NAME_MAX_LEN + 1];
	char alias[INAME_ALIAS_MAX + 1];
	char iface[REC_IFACE_NAME_SIZE];
	uint16_t scn_port;                   /* 0: no SCN port yet */
	char scn_addr[NI_MAXHOST];           /* its address; "": all addresses */
};

struct isns_client {
	struct iscsid *d;
	struct loop *loop;
	bool on;
	char host[REC_HOST_SIZE];            /* the server now configured */
	int port;
	char iname[NAME_MAX_LEN + 1];
	char iface[REC_IFACE_NAME_SIZE];
	/* the registration in force, if any (what a clean stop removes) */
	bool registered;
	char reg_host[REC_HOST_SIZE];
	int reg_port;
	char reg_iname[NAME_MAX_LEN + 1];
	uint32_t period;
	/* the SCN port, on the address the server reaches us at */
	struct isns_scn *scn;
	unsigned moves;                      /* passes in a row that found it elsewhere */
	/* passes */
	struct loop_work *work;
	bool again;                          /* an SCN came during the pass */
	unsigned backoff_s;
	unsigned passes;
	struct loop_timer timer;
};

/* ---- in the worker (a fork; its log is the pipe) ---- */

__attribute__((format(printf, 2, 3)))
static void emit(int out, const char *fmt, ...)
{
	char line[OUT_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	/* one message a line, whatever the text holds */
	for (int i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[n++] = '\n';
	const char *p = line;
	while (n > 0) {
		ssize_t k = write(out, p, (size_t)n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			_exit(3);
		p += k;
		n -= (int)k;
	}
}

static bool same_node(const struct node_rec *a, const struct node_rec *b)
{
	return a->tpgt == b->tpgt && a->conn.port == b->conn.port && !strcmp(a->name, b->name) &&
	       !strcmp(a->conn.address, b->conn.address);
}

/* Writes the records (new ones only) and reports the new automatic ones. */
static void store(const struct job_req *q, const struct st_result *res, int out)
{
	struct nodedb *db = NULL;
	struct node_list before = { 0 }, after = { 0 };
	struct discovery_rec drec;
	struct disc_target *found = NULL;
	struct nodedb_merge_result mr;
	struct rec_diags diags;
	struct node_filter f;
	struct iface_rec ir;
	size_t nf = 0, nlogins = 0;

	int r = nodedb_open(&q->d->paths, &db);
	if (r < 0) {
		emit(out, "E cannot open the node database: %s", strerror(-r));
		return;
	}
	if (nodedb_disc_load(db, REC_DISC_ISNS, q->host, q->port, &drec, NULL) < 0) {
		drec = q->d->config.isns;
		snprintf(drec.address, sizeof(drec.address), "%s", q->host);
		drec.port = q->port;
	}
	node_filter_init(&f);
	f.iface = q->iface;
	rec_diags_init(&diags);
	if ((r = nodedb_iface_load(db, q->iface, &ir, NULL)) < 0) {
		emit(out, "E isns.iface %s: %s", q->iface, r == -ENOENT ? "no such iface" : strerror(-r));
		goto out;
	}
	if ((r = nodedb_node_find(db, &f, &before, NULL)) < 0 ||
	    (r = disc_targets_from_result(res, &found, &nf)) < 0 ||
	    (r = nodedb_disc_merge(db, &drec, &q->d->config.node, &ir, 1, found, nf, NODEDB_MERGE_NEW, NULL,
				   NULL, &mr, &diags)) < 0) {
		emit(out, "E cannot store the discovered nodes: %s", strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < res->n_skipped && i < ST_SKIP_NOTES; i++)
		emit(out, "W server %s: skipping invalid entry: %s", q->host, res->skipped[i]);
	if (res->n_skipped > ST_SKIP_NOTES)
		emit(out, "W server %s: skipping %zu more invalid entries", q->host, res->n_skipped - ST_SKIP_NOTES);
	emit(out, "Q %zu %zu %zu %zu %zu", res->n, nf, mr.added, mr.kept, mr.invalid);
	f.disc_type = REC_DISC_ISNS;
	f.disc_address = q->host;
	f.disc_port = q->port;
	if ((r = nodedb_node_find(db, &f, &after, NULL)) < 0) {
		emit(out, "E cannot read the node records back: %s", strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < after.n; i++) {
		const struct node_rec *a = &after.v[i].rec;
		bool old = false;
		for (size_t k = 0; k < before.n && !old; k++)
			old = same_node(a, &before.v[k].rec);
		if (old || (a->startup != REC_STARTUP_AUTOMATIC && a->conn.startup != REC_STARTUP_AUTOMATIC))
			continue;
		if (nlogins++ == MAX_LOGINS_PER_PASS) {
			emit(out, "W more than %u new automatic records: the others wait for a login command",
			     MAX_LOGINS_PER_PASS);
			break;
		}
		emit(out, "L %s %s %d %d %s", a->name, a->conn.address, a->conn.port, a->tpgt, q->iface);
	}
out:
	node_list_free(&before);   /* wipes the CHAP secrets */
	node_list_free(&after);
	rec_diags_free(&diags);
	free(found);
	nodedb_free(db);
}

static void job_child(const void *in, size_t inlen, int out)
{
	const struct job_req *q = in;
	struct portal server = { .tpgt = -1, .family = AF_UNSPEC };
	struct isns_conn conn;
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);
	struct st_result res;
	char why[400] = "";
	uint32_t period = 0;

	if (inlen != sizeof(*q))
		_exit(2);
	snprintf(server.host, sizeof(server.host), "%s", q->host);
	server.port = (uint16_t)q->port;
	struct isns_disc_opts o = {
		.server = &server,
		.initiator_name = q->iname,
		.connect_timeout = q->kind == JOB_DEREG ? ISNS_CLIENT_STOP_TIMEOUT : 10,
		.call_timeout = q->kind == JOB_DEREG ? ISNS_CLIENT_STOP_TIMEOUT : 10,
	};
	int r = isns_conn_open(&conn, &o, why, sizeof(why));
	if (r < 0) {
		emit(out, "E %s", why);
		return;
	}
	if (q->kind == JOB_DEREG) {
		r = isns_deregister(&conn, why, sizeof(why));
		if (r)
			emit(out, "E %s", why);
		else
			emit(out, "D");
		isns_conn_close(&conn);
		return;
	}
	/* our Portal: the address the server sees us at, where SCNs come */
	if (getsockname(conn.fd, (struct sockaddr *)&local, &llen) < 0) {
		emit(out, "E cannot tell the local address of the connection to the iSNS server: %s",
		     strerror(errno));
		goto close;
	}
	/* The SCN port listens on that address only (nothing else on the
	 * host's other addresses can reach it); when it listens elsewhere, or
	 * not yet, the daemon is told where to open it and the pass is tried
	 * again right after: registering now would give the server a port it
	 * cannot reach. "" (all addresses): the fallback, anything goes. */
	char laddr[NI_MAXHOST];
	if (getnameinfo((struct sockaddr *)&local, llen, laddr, sizeof(laddr), NULL, 0, NI_NUMERICHOST) != 0) {
		emit(out, "E cannot tell the local address of the connection to the iSNS server");
		goto close;
	}
	if (!q->scn_port || (q->scn_addr[0] && strcmp(q->scn_addr, laddr))) {
		emit(out, "A %s", laddr);
		goto close;
	}
	struct isns_reg reg = {
		.alias = q->alias,
		.portal = (const struct sockaddr *)&local,
		.portal_port = q->scn_port,
		.scn_port = q->scn_port,
	};
	r = isns_register(&conn, &reg, &period, why, sizeof(why));
	if (r) {
		emit(out, "E %s", why);
		goto close;
	}
	emit(out, "R %u", period);
	r = isns_register_scn(&conn, SCN_BITMAP, why, sizeof(why));
	if (r)
		emit(out, "W %s; new targets are found every %u s only", why,
		     period ? period / 2 : ISNS_CLIENT_REFRESH_S);
	st_result_init(&res);
	r = isns_query_targets(&conn, NULL, &res, why, sizeof(why));
	isns_conn_close(&conn);
	if (r) {
		emit(out, "E %s", why);
		st_result_free(&res);
		return;
	}
	store(q, &res, out);
	st_result_free(&res);
	return;
close:
	isns_conn_close(&conn);
}

/* ---- logins ---- */

struct login_op {
	struct node_rec rec;
	char what[NAME_MAX_LEN + REC_HOST_SIZE + REC_IFACE_NAME_SIZE + 64];
};

static void login_done(void *data, const struct transport_result *res)
{
	struct login_op *op = data;

	if (res->status == 0)
		log_info("iSNS: login to %s successful (session %u)", op->what, res->sid);
	else
		log_warnx("iSNS: login to %s failed: %s (%d)", op->what,
			  res->message[0] ? res->message : "no reason given", res->status);
	explicit_bzero(&op->rec.session.auth, sizeof(op->rec.session.auth));
	free(op);
}

static void login_new(struct isns_client *c, const char *target, const char *address, int port, int tpgt,
		      const char *iface)
{
	struct nodedb *db = NULL;
	struct login_op *op = calloc(1, sizeof(*op));

	if (!op || nodedb_open(&c->d->paths, &db) < 0) {
		log_warnx("iSNS: cannot log in to %s: out of memory or no node database", target);
		free(op);
		return;
	}
	int r = nodedb_node_load(db, target, address, port, tpgt, iface, &op->rec, NULL);
	nodedb_free(db);
	snprintf(op->what, sizeof(op->what), "[iface: %s, target: %s, portal: %s,%d]", iface, target, address, port);
	if (r < 0 || (op->rec.startup != REC_STARTUP_AUTOMATIC && op->rec.conn.startup != REC_STARTUP_AUTOMATIC)) {
		log_debug(1, "iSNS: %s: record gone or no longer automatic; no login", op->what);
		goto drop;
	}
	if (session_find_node(c->d->sessions, &op->rec)) {
		log_debug(1, "iSNS: %s: a session or login exists already", op->what);
		goto drop;
	}
	log_info("iSNS: logging in to %s (new target, node.startup = automatic)", op->what);
	struct transport_login tl = { .rec = &op->rec };
	if ((r = session_login(c->d->sessions, &tl, login_done, op)) < 0) {
		log_warnx("iSNS: cannot start the login to %s: %s", op->what, strerror(-r));
		goto drop;
	}
	return;
drop:
	explicit_bzero(&op->rec.session.auth, sizeof(op->rec.session.auth));
	free(op);
}

/* ---- passes ---- */

static void start_pass(struct isns_client *c, const char *why);

static void arm(struct isns_client *c, unsigned s)
{
	if (loop_timer_arm(c->loop, &c->timer, (uint64_t)s * 1000u) < 0)
		log_warnx("iSNS: cannot arm a timer: the next pass waits for a notification");
}

static void on_timer(struct loop *l, void *data)
{
	(void)l;
	start_pass(data, "refresh");
}

static void pass_failed(struct isns_client *c)
{
	c->backoff_s = c->backoff_s ? c->backoff_s * 2 : ISNS_CLIENT_RETRY_MIN_S;
	if (c->backoff_s > ISNS_CLIENT_RETRY_MAX_S)
		c->backoff_s = ISNS_CLIENT_RETRY_MAX_S;
	log_warnx("iSNS: next attempt in %u s", c->backoff_s);
	arm(c, c->backoff_s);
}

static void on_scn(void *data)
{
	start_pass(data, "state change notification");
}

/* The SCN port to the address addr of ours that the server reaches us
 * at (the Portal we register). 0 or -1. */
static int scn_move(struct isns_client *c, const char *addr)
{
	struct isns_scn *s = NULL;
	int r = -EADDRNOTAVAIL;

	/* A second pass in a row that finds the server reaching us from
	 * another address (a server name with several addresses, a route
	 * that keeps changing): no one address is known, so the port
	 * listens on all of them, as a port that receives either way. The
	 * same when that address cannot be bound (gone meanwhile). */
	if (c->moves++ > 0)
		log_warnx("iSNS: the server %s:%d is reached from changing addresses (now %s); state change "
			  "notifications are received on all addresses", c->host, c->port, addr);
	else if ((r = isns_scn_open(c->loop, addr, c->iname, ISNS_SCN_IDLE_MS, on_scn, c, &s)) < 0)
		log_warnx("iSNS: cannot listen for state change notifications on %s: %s; listening on all "
			  "addresses", addr, strerror(-r));
	if (r < 0 && (r = isns_scn_open(c->loop, NULL, c->iname, ISNS_SCN_IDLE_MS, on_scn, c, &s)) < 0) {
		log_warnx("iSNS: cannot open the port for state change notifications: %s", strerror(-r));
		return -1;
	}
	isns_scn_close(c->scn);
	c->scn = s;
	log_debug(1, "iSNS: SCN port %u on %s", isns_scn_port(s), isns_scn_addr(s)[0] ? addr : "all addresses");
	return 0;
}

static void pass_done(struct loop *l, int status, const void *out, size_t len, void *data)
{
	struct isns_client *c = data;
	const char *p = out, *end = p + len;
	bool ok = false, failed = false;
	char line[OUT_LINE_MAX + 1], moved[NI_MAXHOST] = "";

	(void)l;
	c->work = NULL;
	if (status < 0) {
		log_warnx("iSNS: the exchange with the iSNS server %s:%d %s", c->host, c->port,
			  status == -ETIMEDOUT ? "did not finish in time; stopped" : "ended abnormally");
		failed = true;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > OUT_LINE_MAX)
			n = OUT_LINE_MAX;
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl ? nl + 1 : end;
		unsigned u;
		size_t nt, np, na, nk, ni;
		char target[NAME_MAX_LEN + 1], addr[REC_HOST_SIZE], iface[REC_IFACE_NAME_SIZE];
		int port, tpgt;
		if (line[0] == 'R' && sscanf(line, "R %u", &u) == 1) {
			if (!c->registered || strcmp(c->reg_host, c->host) || c->reg_port != c->port)
				log_info("iSNS: registered %s with the iSNS server %s:%d (SCN port %u, registration "
					 "period %u s)", c->iname, c->host, c->port, c->scn ? isns_scn_port(c->scn) : 0, u);
			c->registered = true;
			c->moves = 0;
			snprintf(c->reg_host, sizeof(c->reg_host), "%s", c->host);
			c->reg_port = c->port;
			snprintf(c->reg_iname, sizeof(c->reg_iname), "%s", c->iname);
			c->period = u;
		} else if (line[0] == 'Q' && sscanf(line, "Q %zu %zu %zu %zu %zu", &nt, &np, &na, &nk, &ni) == 5) {
			ok = true;
			if (na || c->passes == 0)
				log_info("iSNS: the server lists %zu targets (%zu portals) for %s: %zu node records "
					 "added, %zu kept", nt, np, c->iname, na, nk);
			else
				log_debug(1, "iSNS: %zu targets, nothing new", nt);
			if (ni)
				log_warnx("iSNS: %zu portals with an invalid name or address skipped", ni);
		} else if (line[0] == 'L' && sscanf(line, "L %223s %255s %d %d %64s", target, addr, &port, &tpgt, iface) == 5) {
			login_new(c, target, addr, port, tpgt, iface);
		} else if (line[0] == 'A' && line[1] == ' ') {
			snprintf(moved, sizeof(moved), "%s", line + 2);
		} else if (line[0] == 'E' && line[1] == ' ') {
			log_warnx("iSNS: %s", line + 2);
			failed = true;
		} else if (line[0] == 'W' && line[1] == ' ') {
			log_warnx("iSNS: %s", line + 2);
		}
	}
	if (!c->on)
		return;
	if (moved[0] && !failed) {
		/* nothing registered yet: again at once, with the port moved */
		c->again = false;
		if (scn_move(c, moved) < 0)
			pass_failed(c);
		else
			start_pass(c, "SCN port opened");
		return;
	}
	c->passes++;
	if (failed || !ok) {
		if (!failed)
			log_warnx("iSNS: the exchange with %s:%d gave no result", c->host, c->port);
		pass_failed(c);
		return;
	}
	c->backoff_s = 0;
	if (c->again) {
		c->again = false;
		start_pass(c, "state change notification");
		return;
	}
	unsigned s = c->period ? c->period / 2 : ISNS_CLIENT_REFRESH_S;
	arm(c, s < ISNS_CLIENT_RETRY_MIN_S ? ISNS_CLIENT_RETRY_MIN_S : s);
}

static void fill_req(const struct isns_client *c, enum job_kind kind, struct job_req *q)
{
	memset(q, 0, sizeof(*q));
	q->d = c->d;
	q->kind = kind;
	if (c->scn) {
		q->scn_port = isns_scn_port(c->scn);
		snprintf(q->scn_addr, sizeof(q->scn_addr), "%s", isns_scn_addr(c->scn));
	}
	if (kind == JOB_DEREG) {
		snprintf(q->host, sizeof(q->host), "%s", c->reg_host);
		q->port = c->reg_port;
		snprintf(q->iname, sizeof(q->iname), "%s", c->reg_iname);
	} else {
		snprintf(q->host, sizeof(q->host), "%s", c->host);
		q->port = c->port;
		snprintf(q->iname, sizeof(q->iname), "%s", c->iname);
		snprintf(q->alias, sizeof(q->alias), "%s", c->d->iname.alias);
		snprintf(q->iface, sizeof(q->iface), "%s", c->iface);
	}
}

static void start_pass(struct isns_client *c, const char *why)
{
	struct job_req q;

	if (!c->on)
		return;
	if (c->work) {
		c->again = true;
		return;
	}
	loop_timer_disarm(c->loop, &c->timer);
	fill_req(c, JOB_PASS, &q);
	log_debug(1, "iSNS: pass (%s) against %s:%d", why, c->host, c->port);
	int r = loop_work_start(c->loop, job_child, &q, sizeof(q), OUT_MAX, ISNS_CLIENT_PASS_TIMEOUT_MS, pass_done,
				c, &c->work);
	if (r < 0) {
		c->work = NULL;
		log_warnx("iSNS: cannot start the exchange with the iSNS server: %s", strerror(-r));
		pass_failed(c);
	}
}

static void dereg_done(struct loop *l, int status, const void *out, size_t len, void *data)
{
	char *what = data;

	(void)l;
	if (status == 0 && len >= 1 && ((const char *)out)[0] == 'D')
		log_info("iSNS: deregistered from %s", what);
	else
		log_warnx("iSNS: deregistration from %s failed; the server drops the entity when its "
			  "registration period ends", what);
	free(what);
}

/* ---- the interface ---- */

int isns_client_new(struct iscsid *d, struct isns_client **ret)
{
	struct isns_client *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->d = d;
	c->loop = d->loop;
	loop_timer_init(&c->timer, on_timer, c);
	*ret = c;
	return 0;
}

/* Forget the registration in force (a worker removes it from the server). */
static void dereg_later(struct isns_client *c)
{
	struct job_req q;

	if (!c->registered)
		return;
	c->registered = false;
	char *what = malloc(REC_HOST_SIZE + 16);
	if (!what)
		return;
	snprintf(what, REC_HOST_SIZE + 16, "%s:%d", c->reg_host, c->reg_port);
	fill_req(c, JOB_DEREG, &q);
	struct loop_work *w;
	if (loop_work_start(c->loop, job_child, &q, sizeof(q), OUT_LINE_MAX, 30000, dereg_done, what, &w) < 0) {
		log_warnx("iSNS: cannot deregister from %s", what);
		free(what);
	}
}

void isns_client_configure(struct isns_client *c)
{
	const struct iscsi_config *cfg = &c->d->config;
	bool want = cfg->isns_address[0] && c->d->have_iname;

	if (cfg->isns_address[0] && !c->d->have_iname)
		log_warnx("iSNS: isns.address is set but there is no initiator name; not registering");
	if (want && c->on && !strcmp(c->host, cfg->isns_address) && c->port == cfg->isns_port &&
	    !strcmp(c->iname, c->d->iname.name)) {
		/* the iface only changes where new records go */
		snprintf(c->iface, sizeof(c->iface), "%s", cfg->isns_iface[0] ? cfg->isns_iface : "default");
		return;
	}
	/* off, or another server or name: start over */
	if (c->on) {
		loop_work_cancel(c->loop, c->work);
		c->work = NULL;
		c->again = false;
		loop_timer_disarm(c->loop, &c->timer);
		dereg_later(c);
		c->on = false;
		/* another server may reach us at another address */
		isns_scn_close(c->scn);
		c->scn = NULL;
		if (!want) {
			log_info("iSNS: isns.address unset; no longer registered with an iSNS server");
			return;
		}
	}
	if (!want)
		return;
	snprintf(c->host, sizeof(c->host), "%s", cfg->isns_address);
	c->port = cfg->isns_port;
	snprintf(c->iname, sizeof(c->iname), "%s", c->d->iname.name);
	snprintf(c->iface, sizeof(c->iface), "%s", cfg->isns_iface[0] ? cfg->isns_iface : "default");
	c->backoff_s = 0;
	c->passes = 0;
	c->moves = 0;
	/* the SCN port opens once the first pass tells the address the
	 * server reaches us at */
	c->on = true;
	log_info("iSNS: registering %s with the iSNS server %s:%d", c->iname, c->host, c->port);
	start_pass(c, "start");
}

void isns_client_stop(struct isns_client *c)
{
	if (!c)
		return;
	loop_work_cancel(c->loop, c->work);
	c->work = NULL;
	c->on = false;
	loop_timer_disarm(c->loop, &c->timer);
	isns_scn_close(c->scn);
	c->scn = NULL;
	if (!c->registered)
		return;
	c->registered = false;
	/* The loop has stopped: a child of our own, waited for with a bound,
	 * so that a server (or a name service) that does not answer cannot
	 * hold the stop. */
	struct job_req q;
	int p[2];
	fill_req(c, JOB_DEREG, &q);
	if (pipe2(p, O_CLOEXEC) < 0) {
		log_warn("iSNS: cannot deregister");
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		job_child(&q, sizeof(q), p[1]);
		_exit(0);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		log_warn("iSNS: cannot deregister");
		return;
	}
	int st = 0;
	bool done = false;
	for (int i = 0; i < (int)ISNS_CLIENT_STOP_TIMEOUT * 2 * 50 + 50 && !done; i++) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			done = true;
		else
			nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
	}
	if (!done) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	char buf[OUT_LINE_MAX] = "";
	ssize_t n = done ? read(p[0], buf, sizeof(buf) - 1) : -1;
	close(p[0]);
	if (n > 0 && buf[0] == 'D') {
		log_info("iSNS: deregistered %s from the iSNS server %s:%d", q.iname, q.host, q.port);
	} else {
		if (n > 2 && buf[0] == 'E') {
			buf[n] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
		}
		log_warnx("iSNS: deregistration from %s:%d failed: %s", q.host, q.port,
			  !done ? "no answer in time" : n > 2 && buf[0] == 'E' ? buf + 2 : "no answer");
	}
}

void isns_client_free(struct isns_client *c)
{
	if (!c)
		return;
	loop_work_cancel(c->loop, c->work);
	loop_timer_disarm(c->loop, &c->timer);
	isns_scn_close(c->scn);
	c->scn = NULL;
	free(c);
}
