/* iSNS client calls over one connection, and iscsiadm's iSNS discovery
 * (RFC 4171 §5.6.5). See isns_disc.h. */
#include "isns_disc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "errbuf.h"
#include "errors.h"
#include "netio.h"

#define REQ_MAX 2048    /* our requests: a few names and addresses */

__attribute__((format(printf, 2, 3)))
static void dbg(const struct isns_conn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->o->debug < 2)
		return;
	fprintf(stderr, "%s: isns: ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static unsigned secs(unsigned v)
{
	return v ? v : ISNS_TIMEOUT_DEFAULT;
}

static const char *iname_of(const struct isns_conn *c)
{
	return c->o->initiator_name;
}

static const char *eid_of(const struct isns_conn *c)
{
	return c->o->entity_id && *c->o->entity_id ? c->o->entity_id : c->o->initiator_name;
}

int isns_conn_open(struct isns_conn *c, const struct isns_disc_opts *o, char *err, size_t errlen)
{
	struct portal p = *o->server;
	char cerr[200] = "";

	memset(c, 0, sizeof(*c));
	c->o = o;
	c->fd = -1;
	if (o->io) {
		c->io = *o->io;
	} else {
		c->io = discover_tcp_io;
		c->io.ctx = (void *)o->binder;
	}
	isns_rx_init(&c->rx, o->limits);
	uint16_t x;
	if (getrandom(&x, sizeof(x), 0) != sizeof(x))
		x = (uint16_t)getpid();
	c->xid = x;
	p.tpgt = -1;
	if (portal_format(&p, c->where, sizeof(c->where)) < 0)
		snprintf(c->where, sizeof(c->where), "%s", "(server)");
	dbg(c, "connecting to %s", c->where);
	uint64_t deadline = netio_now_ms() + (uint64_t)secs(o->connect_timeout) * 1000u;
	int fd = c->io.connect(c->io.ctx, &p, o->iface, deadline, cerr, sizeof(cerr));
	if (fd < 0) {
		if (fd == -ETIMEDOUT)
			errbuf_set(err, errlen, "cannot connect to the iSNS server %s: timed out after %u s", c->where,
				   secs(o->connect_timeout));
		else
			errbuf_set(err, errlen, "cannot connect to the iSNS server %s: %s", c->where,
				   cerr[0] ? cerr : strerror(-fd));
		isns_rx_free(&c->rx);
		return fd;
	}
	c->fd = fd;
	return 0;
}

void isns_conn_close(struct isns_conn *c)
{
	if (c->fd >= 0)
		c->io.close(c->io.ctx, c->fd);
	c->fd = -1;
	isns_rx_free(&c->rx);
}

static int io_err(struct isns_conn *c, int r, const char *what, char *err, size_t errlen)
{
	if (r == -ETIMEDOUT)
		errbuf_set(err, errlen, "no answer from the iSNS server %s to %s within %u s", c->where, what,
			   secs(c->o->call_timeout));
	else if (r == -ECONNRESET)
		errbuf_set(err, errlen, "the iSNS server %s closed the connection before answering %s", c->where,
			   what);
	else
		errbuf_set(err, errlen, "connection to the iSNS server %s failed during %s: %s", c->where, what,
			   strerror(-r));
	return r;
}

/* The next whole message from the server. */
static int recv_msg(struct isns_conn *c, struct isns_msg *ret, uint64_t deadline, const char *what, char *err,
		    size_t errlen)
{
	char why[ISNS_ERR_MAX];

	for (;;) {
		uint8_t *dst;
		size_t want;
		int r = isns_rx_space(&c->rx, &dst, &want);
		if (r < 0)
			return r;
		r = c->io.read_exact(c->io.ctx, c->fd, dst, want, deadline);
		if (r < 0)
			return io_err(c, r, what, err, errlen);
		why[0] = '\0';
		r = isns_rx_commit(&c->rx, want, why, sizeof(why));
		if (r == 1)
			r = isns_rx_take(&c->rx, ret, why, sizeof(why));
		else if (r == 0)
			continue;
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			errbuf_set(err, errlen, "the iSNS server %s sent a bad answer to %s: %s", c->where, what, why);
			return r;
		}
		return 0;
	}
}

int isns_conn_call(struct isns_conn *c, uint16_t function, uint16_t flags, const struct isns_buf *payload,
		   struct isns_msg *ret, char *err, size_t errlen)
{
	uint8_t out[ISNS_HDR_LEN + REQ_MAX];
	const char *what = isns_function_name(function);

	if (payload->full || payload->len > REQ_MAX)
		return -ENOBUFS;
	uint16_t xid = ++c->xid;
	isns_pdu_header(function, (uint16_t)(flags | ISNS_F_CLIENT), xid, payload->len, out);
	memcpy(out + ISNS_HDR_LEN, payload->p, payload->len);
	/* One deadline for the request and its whole answer: a server that
	 * drips PDUs or never ends its message cannot hold us longer. */
	uint64_t deadline = netio_now_ms() + (uint64_t)secs(c->o->call_timeout) * 1000u;
	dbg(c, "%s (transaction %u) to %s", what, xid, c->where);
	int r = c->io.write_all(c->io.ctx, c->fd, out, ISNS_HDR_LEN + payload->len, deadline);
	if (r < 0)
		return io_err(c, r, what, err, errlen);
	for (unsigned stray = 0;; stray++) {
		struct isns_msg m;
		if (stray > ISNS_MAX_STRAY) {
			errbuf_set(err, errlen, "the iSNS server %s sent more than %d messages that do not answer %s",
				   c->where, ISNS_MAX_STRAY, what);
			return -EPROTO;
		}
		r = recv_msg(c, &m, deadline, what, err, errlen);
		if (r < 0)
			return r;
		if (m.xid == xid && m.function == (function | ISNS_RSP)) {
			dbg(c, "%s: status %u (%s), %zu attributes", isns_function_name(m.function), m.status,
			    isns_status_str(m.status), m.n_attrs);
			*ret = m;
			return 0;
		}
		if (m.xid == xid && isns_msg_is_response(&m)) {
			errbuf_set(err, errlen, "the iSNS server %s answered %s with %s", c->where, what,
				   isns_function_name(m.function));
			isns_msg_free(&m);
			return -EPROTO;
		}
		/* An answer to something earlier, or a request of the server's
		 * own: not what we wait for. */
		dbg(c, "ignoring %s (transaction %u)", isns_function_name(m.function), m.xid);
		isns_msg_free(&m);
	}
}

static int refused(struct isns_conn *c, const struct isns_msg *m, const char *what, char *err, size_t errlen)
{
	errbuf_set(err, errlen, "the iSNS server %s refused %s: %s (status %u)", c->where, what,
		   isns_status_str(m->status), m->status);
	return (int)(m->status > 0x7fffffffu ? 0x7fffffff : m->status);
}

/* Moves the targets of one into all (one is left empty); *cap: the
 * targets all has room for, grown by doubling. */
static int result_take(struct st_result *all, size_t *cap, struct st_result *one)
{
	if (all->n + one->n > ST_MAX_TARGETS)
		return -E2BIG;
	if (all->n + one->n > *cap) {
		size_t c = *cap ? *cap : 16;
		while (c < all->n + one->n)
			c *= 2;
		struct st_target *v = realloc(all->targets, c * sizeof(*v));
		if (!v)
			return -ENOMEM;
		all->targets = v;
		*cap = c;
	}
	if (one->n)
		memcpy(all->targets + all->n, one->targets, one->n * sizeof(*one->targets));
	all->n += one->n;
	for (size_t i = 0; i < one->n_skipped; i++) {
		if (i < ST_SKIP_NOTES)
			st_result_skip(all, "%s", one->skipped[i]);
		else
			st_result_skip(all, "(more)");
	}
	free(one->targets);
	st_result_init(one);
	return 0;
}

static int query_one_by_one(struct isns_conn *c, struct st_result *ret, char *err, size_t errlen);

int isns_query_targets(struct isns_conn *c, const char *target, struct st_result *ret, char *err, size_t errlen)
{
	uint8_t buf[REQ_MAX];
	struct isns_buf b;
	struct isns_msg m;
	struct isns_query_stats st;
	char why[ISNS_ERR_MAX] = "";

	isns_buf_init(&b, buf, sizeof(buf));
	int r = isns_build_query(&b, iname_of(c), target);
	if (r < 0) {
		errbuf_set(err, errlen, "cannot build the iSNS query: %s", strerror(-r));
		return r;
	}
	r = isns_conn_call(c, ISNS_DEV_ATTR_QRY, 0, &b, &m, err, errlen);
	if (r < 0)
		return r;
	if (m.status == ISNS_INTERNAL_ERROR && !target) {
		/* open-isns's isnsd answers a query whose answer would not
		 * fit its one-PDU message (about 50 targets) this way: ask
		 * for the names one by one, then each target's portals. */
		isns_msg_free(&m);
		dbg(c, "the server refused the list of all targets (internal error): asking target by target");
		return query_one_by_one(c, ret, err, errlen);
	}
	if (m.status != ISNS_OK) {
		r = refused(c, &m, "the query", err, errlen);
		isns_msg_free(&m);
		return r;
	}
	r = isns_query_result(&m, ret, &st, why, sizeof(why));
	isns_msg_free(&m);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		errbuf_set(err, errlen, "bad answer to the query from the iSNS server %s: %s", c->where, why);
		return r;
	}
	dbg(c, "%zu portal groups, %zu not usable, %zu targets", st.pgs, st.skipped, ret->n);
	return 0;
}

/* DevGetNext from the first target node to the last (No Such Entry),
 * and a DevAttrQry for each name. Bounded: ST_MAX_TARGETS names, and a
 * name must not come back (a server that loops is an error). */
static int query_one_by_one(struct isns_conn *c, struct st_result *ret, char *err, size_t errlen)
{
	struct st_result all, one;
	size_t cap = 0;
	char last[NAME_MAX_LEN + 1] = "";
	int r = 0;

	st_result_init(&all);
	for (size_t round = 0;; round++) {
		uint8_t buf[REQ_MAX];
		struct isns_buf b;
		struct isns_msg m;
		char name[NAME_MAX_LEN + 1];

		if (round > ST_MAX_TARGETS) {
			errbuf_set(err, errlen, "the iSNS server %s lists more than %d targets", c->where, ST_MAX_TARGETS);
			r = -E2BIG;
			break;
		}
		isns_buf_init(&b, buf, sizeof(buf));
		r = isns_build_getnext(&b, iname_of(c), last[0] ? last : NULL);
		if (r < 0) {
			errbuf_set(err, errlen, "cannot build the iSNS DevGetNext: %s", strerror(-r));
			break;
		}
		r = isns_conn_call(c, ISNS_DEV_GET_NEXT, 0, &b, &m, err, errlen);
		if (r < 0)
			break;
		if (m.status == ISNS_NO_SUCH_ENTRY) {
			isns_msg_free(&m);
			break;                  /* past the last one */
		}
		if (m.status != ISNS_OK) {
			r = refused(c, &m, "DevGetNext", err, errlen);
			isns_msg_free(&m);
			break;
		}
		bool target = true;
		r = m.n_attrs && m.attrs[0].tag == ISNS_TAG_ISCSI_NAME ? isns_attr_str(&m.attrs[0], name, sizeof(name)) : -EPROTO;
		for (size_t i = m.delim + 1; r == 0 && i < m.n_attrs; i++) {
			uint32_t type;
			if (m.attrs[i].tag == ISNS_TAG_ISCSI_NODE_TYPE && isns_attr_u32(&m.attrs[i], &type) == 0)
				target = type & ISNS_NODE_TARGET;
		}
		isns_msg_free(&m);
		if (r < 0 || !name[0]) {
			errbuf_set(err, errlen, "bad DevGetNext answer from the iSNS server %s: no valid iSCSI Name",
				   c->where);
			r = -EPROTO;
			break;
		}
		bool seen = !strcmp(name, last);
		for (size_t i = 0; !seen && i < all.n; i++)
			seen = !strcmp(all.targets[i].name, name);
		if (seen) {
			errbuf_set(err, errlen, "the iSNS server %s lists %s twice in DevGetNext", c->where, name);
			r = -EPROTO;
			break;
		}
		snprintf(last, sizeof(last), "%s", name);
		if (!target)
			continue;
		char why[128];
		if (name_validate(name, why, sizeof(why)) < 0) {
			/* skipped as a whole answer's would be (isns.h) */
			char shown[100];
			name_escape(name, strlen(name), shown, sizeof(shown));
			st_result_skip(&all, "node \"%s\": not a valid iSCSI name: %s", shown, why);
			continue;
		}
		r = isns_query_targets(c, name, &one, err, errlen);
		if (r == ISNS_NO_SUCH_ENTRY) {
			r = 0;                  /* gone meanwhile */
			continue;
		}
		if (r != 0)
			break;
		r = result_take(&all, &cap, &one);
		st_result_free(&one);
		if (r < 0) {
			errbuf_set(err, errlen, "%s", r == -E2BIG ? "too many targets" : strerror(-r));
			break;
		}
	}
	if (r == 0 && all.n == 0 && all.n_skipped) {
		errbuf_set(err, errlen, "the iSNS server %s lists no target with a valid iSCSI name: %s", c->where,
			   all.skipped[0]);
		r = -EPROTO;
	}
	if (r != 0) {
		st_result_free(&all);
		return r;
	}
	dbg(c, "%zu targets, one by one", all.n);
	*ret = all;
	return 0;
}

static int simple_call(struct isns_conn *c, uint16_t function, uint16_t flags, const struct isns_buf *b,
		       const char *what, uint32_t *ret_period, char *err, size_t errlen)
{
	struct isns_msg m;
	int r = isns_conn_call(c, function, flags, b, &m, err, errlen);

	if (r < 0)
		return r;
	if (m.status != ISNS_OK) {
		r = refused(c, &m, what, err, errlen);
		isns_msg_free(&m);
		return r;
	}
	if (ret_period) {
		*ret_period = 0;
		for (size_t i = 0; i < m.n_attrs; i++)
			if (m.attrs[i].tag == ISNS_TAG_REGISTRATION_PERIOD &&
			    isns_attr_u32(&m.attrs[i], ret_period) == 0)
				break;
	}
	isns_msg_free(&m);
	return 0;
}

int isns_register(struct isns_conn *c, const struct isns_reg *reg, uint32_t *ret_period, char *err,
		  size_t errlen)
{
	uint8_t buf[REQ_MAX];
	struct isns_buf b;
	struct isns_reg r = *reg;

	r.iname = iname_of(c);
	r.eid = eid_of(c);
	isns_buf_init(&b, buf, sizeof(buf));
	int e = isns_build_reg(&b, &r);
	if (e < 0) {
		errbuf_set(err, errlen, "cannot build the iSNS registration: %s", strerror(-e));
		return e;
	}
	return simple_call(c, ISNS_DEV_ATTR_REG, ISNS_F_REPLACE, &b, "the registration", ret_period, err, errlen);
}

int isns_register_scn(struct isns_conn *c, uint32_t bitmap, char *err, size_t errlen)
{
	uint8_t buf[REQ_MAX];
	struct isns_buf b;

	isns_buf_init(&b, buf, sizeof(buf));
	int e = isns_build_scn_reg(&b, iname_of(c), bitmap);
	if (e < 0) {
		errbuf_set(err, errlen, "cannot build the SCN registration: %s", strerror(-e));
		return e;
	}
	return simple_call(c, ISNS_SCN_REG, 0, &b, "the SCN registration", NULL, err, errlen);
}

int isns_deregister(struct isns_conn *c, char *err, size_t errlen)
{
	uint8_t buf[REQ_MAX];
	struct isns_buf b;

	isns_buf_init(&b, buf, sizeof(buf));
	int e = isns_build_dereg(&b, iname_of(c), eid_of(c));
	if (e < 0) {
		errbuf_set(err, errlen, "cannot build the iSNS deregistration: %s", strerror(-e));
		return e;
	}
	return simple_call(c, ISNS_DEV_DEREG, 0, &b, "the deregistration", NULL, err, errlen);
}

int discover_isns(const struct isns_disc_opts *o, struct st_result *ret, char *msg, size_t msglen)
{
	struct isns_conn c;
	struct st_result res;
	char why[400] = "";
	bool registered = false;
	int code = 0, r;

	msg[0] = '\0';
	st_result_init(&res);
	if (!o->initiator_name || !*o->initiator_name) {
		snprintf(msg, msglen, "iSNS discovery needs an initiator name");
		return ISCSI_ERR_INVAL;
	}
	r = isns_conn_open(&c, o, why, sizeof(why));
	if (r < 0) {
		snprintf(msg, msglen, "iSNS discovery failed: %s", why);
		return r == -EINVAL || r == -EAFNOSUPPORT ? ISCSI_ERR_INVAL : ISCSI_ERR_ISNS_QUERY;
	}
	r = isns_query_targets(&c, NULL, &res, why, sizeof(why));
	if (r == ISNS_SOURCE_UNKNOWN) {
		/* The server answers only nodes it knows: register for the
		 * length of this query (open-iscsi does the same). */
		dbg(&c, "the server does not know %s: registering", o->initiator_name);
		r = isns_register(&c, &(struct isns_reg){ 0 }, NULL, why, sizeof(why));
		if (r != 0) {
			code = r == -ENOMEM ? ISCSI_ERR_NOMEM : ISCSI_ERR_ISNS_REG_FAILED;
			snprintf(msg, msglen, "iSNS discovery failed: %s", why);
			goto out;
		}
		registered = true;
		r = isns_query_targets(&c, NULL, &res, why, sizeof(why));
	}
	if (r != 0) {
		code = r == -ENOMEM ? ISCSI_ERR_NOMEM : ISCSI_ERR_ISNS_QUERY;
		snprintf(msg, msglen, "iSNS discovery failed: %s", why);
	}
	if (registered) {
		char derr[400];
		if (isns_deregister(&c, derr, sizeof(derr)) != 0)
			dbg(&c, "%s", derr);
	}
out:
	isns_conn_close(&c);
	if (code) {
		st_result_free(&res);
		return code;
	}
	*ret = res;
	return 0;
}

int disc_targets_from_result(const struct st_result *r, struct disc_target **ret, size_t *ret_n)
{
	size_t n = 0, k = 0;

	for (size_t i = 0; i < r->n; i++)
		n += r->targets[i].n_portals;
	struct disc_target *v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < r->n; i++)
		for (size_t p = 0; p < r->targets[i].n_portals; p++)
			v[k++] = (struct disc_target){ r->targets[i].name, r->targets[i].portals[p].host,
						       r->targets[i].portals[p].port, r->targets[i].portals[p].tpgt };
	*ret = v;
	*ret_n = k;
	return 0;
}
