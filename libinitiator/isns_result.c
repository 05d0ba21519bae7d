/* What an initiator reads out of iSNSP messages: the targets of a
 * DevAttrQry response, the events of an SCN, and the answers it owes a
 * server (RFC 4171 §5.6.5, §5.7.5). See isns.h. */
#include "isns.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "names.h"

/* ---------- DevAttrQry response -> targets ---------- */

/* One Portal Group object being read (§6.5): its key is the PG iSCSI
 * Name with the PG Portal IP Address and Port; the PG Tag says which
 * portal group of the node the portal serves, or (NULL, zero length)
 * that the node must not be reached through it (§6.5.4). */
struct pg {
	bool open, have_addr, have_port, have_tag;
	char name[NAME_MAX_LEN + 1];
	char addr[64];
	int family;
	uint32_t port;
	uint32_t tag;
	bool bad;                       /* name is not a valid iSCSI name: skipped (name escaped) */
	char why[128];                  /* why not */
};

struct qctx {
	struct st_result *res;
	size_t cap;
	size_t total;                   /* portals */
	size_t last;                    /* target of the last portal added */
	char (*other)[NAME_MAX_LEN + 1]; /* nodes that are no targets */
	size_t n_other, cap_other;
	struct isns_query_stats st;
	bool node_bad;                  /* the last iSCSI Name is not valid */
	char first_bad[ST_ERR_MAX];     /* the error were all skipped */
	char last_noted[NAME_MAX_LEN + 1];
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4)))
static int bad(struct qctx *q, int r, const char *fmt, ...)
{
	va_list ap;

	if (q->err && q->errlen) {
		va_start(ap, fmt);
		vsnprintf(q->err, q->errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

static size_t target_find(struct qctx *q, const char *name)
{
	struct st_result *r = q->res;

	if (q->last < r->n && strcmp(r->targets[q->last].name, name) == 0)
		return q->last;
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->targets[i].name, name) == 0)
			return i;
	return r->n;
}

static int add_portal(struct qctx *q, const char *name, const struct portal *p)
{
	struct st_result *r = q->res;
	size_t i = target_find(q, name);

	if (i == r->n) {
		if (r->n >= ST_MAX_TARGETS) {
			errbuf_set(q->err, q->errlen, "the iSNS server lists more than %d targets", ST_MAX_TARGETS);
			return -E2BIG;
		}
		if (r->n == q->cap) {
			size_t ncap = q->cap ? q->cap * 2 : 16;
			struct st_target *nt = realloc(r->targets, ncap * sizeof(*nt));
			if (!nt)
				return -ENOMEM;
			r->targets = nt;
			q->cap = ncap;
		}
		memset(&r->targets[i], 0, sizeof(r->targets[i]));
		snprintf(r->targets[i].name, sizeof(r->targets[i].name), "%s", name);
		r->n++;
	}
	q->last = i;
	struct st_target *t = &r->targets[i];
	for (size_t k = 0; k < t->n_portals; k++)
		if (portal_equal(&t->portals[k], p) && t->portals[k].tpgt == p->tpgt)
			return 0;
	if (t->n_portals >= ST_MAX_PORTALS) {
		errbuf_set(q->err, q->errlen, "the iSNS server lists more than %d portals for target %s",
			   ST_MAX_PORTALS, name);
		return -E2BIG;
	}
	if (q->total >= ST_MAX_PORTALS_TOTAL) {
		errbuf_set(q->err, q->errlen, "the iSNS server lists more than %d portals", ST_MAX_PORTALS_TOTAL);
		return -E2BIG;
	}
	size_t n = t->n_portals;
	if (n == 0 || (n & (n - 1)) == 0) {
		struct portal *np = realloc(t->portals, (n ? n * 2 : 1) * sizeof(*np));
		if (!np)
			return -ENOMEM;
		t->portals = np;
	}
	t->portals[t->n_portals++] = *p;
	q->total++;
	return 0;
}

static bool addr_unspecified(const char *a)
{
	return strcmp(a, "0.0.0.0") == 0 || strcmp(a, "::") == 0;
}

/* The Portal Group object read so far is complete: keep its portal. */
static int pg_flush(struct qctx *q, struct pg *g)
{
	if (!g->open)
		return 0;
	g->open = false;
	q->st.pgs++;
	if (!g->have_addr || !g->have_port)
		return bad(q, -EPROTO, "the iSNS server sent a Portal Group of %s without its portal address and port",
			   g->name);
	if ((g->port & 0xffffu) == 0)
		return bad(q, -EPROTO, "the iSNS server sent a Portal Group of %s with port 0", g->name);
	/* No tag: not to be used for this node (§6.5.4). UDP: no iSCSI
	 * portal. The wildcard address: nowhere to connect to. */
	/* A target whose name we reject: skipped, noted once (the other
	 * targets are used, as open-iscsi uses them; see sendtargets.h). */
	if (g->bad) {
		q->st.skipped++;
		if (strcmp(q->last_noted, g->name) == 0)
			return 0;
		if (q->res->n_skipped == 0)
			errbuf_set(q->first_bad, sizeof(q->first_bad),
				   "the iSNS server sent a Portal Group name that is not a valid iSCSI name: %s", g->why);
		st_result_skip(q->res, "Portal Group of \"%s\": not a valid iSCSI name: %s", g->name, g->why);
		snprintf(q->last_noted, sizeof(q->last_noted), "%s", g->name);
		return 0;
	}
	if (!g->have_tag || (g->port & ISNS_PORT_UDP) || addr_unspecified(g->addr)) {
		q->st.skipped++;
		return 0;
	}
	struct portal p = { .port = (uint16_t)(g->port & 0xffffu), .tpgt = (int)g->tag, .family = g->family };
	snprintf(p.host, sizeof(p.host), "%s", g->addr);
	return add_portal(q, g->name, &p);
}

/* 0, or 1 when the string is not a valid iSCSI name (why says so), or
 * -EPROTO when it is no string of a name's length at all. */
static int read_name(struct qctx *q, const struct isns_attr *a, char *buf, size_t cap, const char *what, char *why,
		     size_t whylen)
{
	int r = isns_attr_str(a, buf, cap);

	if (r == -ENAMETOOLONG)
		return bad(q, -EPROTO, "the iSNS server sent %s longer than an iSCSI name may be", what);
	if (r < 0)
		return bad(q, -EPROTO, "the iSNS server sent %s that is not a NUL-terminated string", what);
	return name_validate(buf, why, whylen) < 0 ? 1 : 0;
}

static int note_other(struct qctx *q, const char *name)
{
	if (q->n_other == q->cap_other) {
		if (q->n_other >= ST_MAX_TARGETS) {
			errbuf_set(q->err, q->errlen, "the iSNS server lists more than %d nodes", ST_MAX_TARGETS);
			return -E2BIG;
		}
		size_t ncap = q->cap_other ? q->cap_other * 2 : 8;
		void *nv = realloc(q->other, ncap * sizeof(*q->other));
		if (!nv)
			return -ENOMEM;
		q->other = nv;
		q->cap_other = ncap;
	}
	snprintf(q->other[q->n_other++], sizeof(*q->other), "%s", name);
	return 0;
}

static int query_attr(struct qctx *q, const struct isns_attr *a, struct pg *g, char *node)
{
	uint32_t v;
	char why[128];
	int r;

	switch (a->tag) {
	case ISNS_TAG_ISCSI_NAME:
		if ((r = pg_flush(q, g)) < 0)
			return r;
		r = read_name(q, a, node, NAME_MAX_LEN + 1, "a node name", why, sizeof(why));
		/* Its Portal Groups, which name it too, say it is skipped. */
		q->node_bad = r == 1;
		return r < 0 ? r : 0;
	case ISNS_TAG_ISCSI_NODE_TYPE:
		if (q->node_bad)
			return 0;
		if (!node[0] || isns_attr_u32(a, &v) < 0)
			return bad(q, -EPROTO, "the iSNS server sent a malformed iSCSI Node Type");
		/* A node that is no target (the query asked for targets, but a
		 * server may answer with more): its portal groups are not ours
		 * to log in to. */
		return (v & ISNS_NODE_TARGET) ? 0 : note_other(q, node);
	case ISNS_TAG_PG_ISCSI_NAME:
		if ((r = pg_flush(q, g)) < 0)
			return r;
		memset(g, 0, sizeof(*g));
		g->open = true;
		r = read_name(q, a, g->name, sizeof(g->name), "a Portal Group name", g->why, sizeof(g->why));
		g->bad = r == 1;
		if (g->bad) {
			/* from here on only printed: made safe to print */
			char raw[sizeof(g->name)];
			memcpy(raw, g->name, sizeof(raw));
			name_escape(raw, strlen(raw), g->name, 100);
		}
		return r < 0 ? r : 0;
	case ISNS_TAG_PG_PORTAL_IP:
		if (!g->open || g->have_addr)
			return bad(q, -EPROTO, "the iSNS server sent a Portal Group address outside a Portal Group");
		if (isns_attr_addr(a, g->addr, sizeof(g->addr), &g->family) < 0)
			return bad(q, -EPROTO, "the iSNS server sent a Portal Group address of %s that is not 16 bytes",
				   g->name);
		g->have_addr = true;
		return 0;
	case ISNS_TAG_PG_PORTAL_PORT:
		if (!g->open || g->have_port || isns_attr_u32(a, &g->port) < 0)
			return bad(q, -EPROTO, "the iSNS server sent a malformed Portal Group port");
		g->have_port = true;
		return 0;
	case ISNS_TAG_PG_TAG:
		if (!g->open)
			return bad(q, -EPROTO, "the iSNS server sent a Portal Group Tag outside a Portal Group");
		if (a->len == 0)
			return 0;       /* NULL PGT */
		if (isns_attr_u32(a, &g->tag) < 0 || g->tag > 65535)
			return bad(q, -EPROTO, "the iSNS server sent a malformed Portal Group Tag for %s", g->name);
		g->have_tag = true;
		return 0;
	default:
		/* Portals, entities, indexes, what a newer server adds: the
		 * Portal Groups say all an initiator needs. */
		return 0;
	}
}

/* Targets that turned out to be other kinds of nodes go. */
static void drop_others(struct qctx *q)
{
	struct st_result *r = q->res;
	size_t k = 0;

	for (size_t i = 0; i < r->n; i++) {
		bool other = false;
		for (size_t j = 0; j < q->n_other && !other; j++)
			other = strcmp(q->other[j], r->targets[i].name) == 0;
		if (other) {
			q->st.skipped += r->targets[i].n_portals;
			free(r->targets[i].portals);
			continue;
		}
		r->targets[k++] = r->targets[i];
	}
	r->n = k;
}

int isns_query_result(const struct isns_msg *m, struct st_result *ret, struct isns_query_stats *stats, char *err,
		      size_t errlen)
{
	struct st_result res;
	struct qctx q = { .res = &res, .err = err, .errlen = errlen };
	struct pg g = { 0 };
	char node[NAME_MAX_LEN + 1] = "";
	int r = 0;

	st_result_init(&res);
	/* Operating attributes follow the Delimiter; a response without
	 * one carries them alone. */
	size_t from = m->delim < m->n_attrs ? m->delim + 1 : 0;
	for (size_t i = from; r == 0 && i < m->n_attrs; i++) {
		if (m->attrs[i].tag == ISNS_TAG_DELIMITER) {
			r = bad(&q, -EPROTO, "the iSNS server sent a second Delimiter");
			break;
		}
		r = query_attr(&q, &m->attrs[i], &g, node);
	}
	if (r == 0)
		r = pg_flush(&q, &g);
	if (r == 0)
		drop_others(&q);
	if (r == 0 && res.n == 0 && res.n_skipped)
		r = bad(&q, -EPROTO, "%s", q.first_bad);   /* none valid */
	free(q.other);
	if (r < 0) {
		st_result_free(&res);
		return r;
	}
	if (stats)
		*stats = q.st;
	*ret = res;
	return 0;
}

/* ---------- SCN ---------- */

int isns_scn_parse(const struct isns_msg *m, char *dest, size_t destlen, struct isns_scn_event *ev, size_t max,
		   size_t *ret_n, char *err, size_t errlen)
{
	size_t n = 0;
	bool want_name = false;

	if (m->function != ISNS_SCN || m->n_attrs == 0 || m->attrs[0].tag != ISNS_TAG_ISCSI_NAME ||
	    isns_attr_str(&m->attrs[0], dest, destlen) < 0) {
		errbuf_set(err, errlen, "SCN without its destination iSCSI Name");
		return -EPROTO;
	}
	/* §5.6.5.9: destination, timestamp, then for each event its SCN
	 * bitmap and the name of the node it is about (management SCNs add
	 * DD IDs, which need no answer here). */
	for (size_t i = 1; i < m->n_attrs; i++) {
		const struct isns_attr *a = &m->attrs[i];
		uint32_t v;
		if (a->tag == ISNS_TAG_ISCSI_SCN_BITMAP) {
			if (want_name || isns_attr_u32(a, &v) < 0) {
				errbuf_set(err, errlen, "SCN with a malformed or unnamed event");
				return -EPROTO;
			}
			if (n < max) {
				ev[n].bitmap = v;
				ev[n].name[0] = '\0';
			}
			n++;
			want_name = true;
		} else if (a->tag == ISNS_TAG_ISCSI_NAME && want_name) {
			char name[sizeof(ev->name)];
			if (isns_attr_str(a, name, sizeof(name)) < 0) {
				errbuf_set(err, errlen, "SCN with a malformed node name");
				return -EPROTO;
			}
			if (n <= max)
				memcpy(ev[n - 1].name, name, sizeof(name));
			want_name = false;
		}
	}
	if (want_name) {
		errbuf_set(err, errlen, "SCN whose last event names no node");
		return -EPROTO;
	}
	*ret_n = n;
	return 0;
}

/* ---------- answers to the server ---------- */

int isns_build_answer(const struct isns_msg *req, uint32_t status, uint8_t *out, size_t cap, size_t *ret_len)
{
	struct isns_buf b;

	if (isns_msg_is_response(req) || cap < ISNS_HDR_LEN)
		return -EINVAL;
	isns_buf_init(&b, out + ISNS_HDR_LEN, cap - ISNS_HDR_LEN);
	isns_put_raw32(&b, status);
	if (req->function == ISNS_SCN && req->n_attrs && status == ISNS_OK) {
		/* §5.7.5.9: the SCN's destination attribute */
		const struct isns_attr *a = &req->attrs[0];
		isns_put_raw32(&b, a->tag);
		isns_put_raw32(&b, a->len);
		if (!b.full && b.cap - b.len >= a->len) {
			memcpy(b.p + b.len, a->val, a->len);
			b.len += a->len;
		} else {
			b.full = true;
		}
	} else if (req->function == ISNS_ESI && status == ISNS_OK) {
		/* §5.7.5.13: the ESI's attributes, echoed */
		if (!b.full && b.cap - b.len >= req->len) {
			if (req->len)
				memcpy(b.p + b.len, req->data, req->len);
			b.len += req->len;
		} else {
			b.full = true;
		}
	}
	if (b.full || b.len > ISNS_PDU_PAYLOAD_MAX)
		return -ENOBUFS;
	isns_pdu_header((uint16_t)(req->function | ISNS_RSP), ISNS_F_CLIENT, req->xid, b.len, out);
	*ret_len = ISNS_HDR_LEN + b.len;
	return 0;
}

/* ---------- names ---------- */

const char *isns_status_str(uint32_t status)
{
	static const char *const s[] = {
		[ISNS_OK] = "successful",
		[ISNS_UNKNOWN_ERROR] = "unknown error",
		[ISNS_MSG_FORMAT_ERROR] = "message format error",
		[ISNS_INVALID_REGISTRATION] = "invalid registration",
		[ISNS_INVALID_QUERY] = "invalid query",
		[ISNS_SOURCE_UNKNOWN] = "source unknown",
		[ISNS_SOURCE_ABSENT] = "source absent",
		[ISNS_SOURCE_UNAUTHORIZED] = "source unauthorized",
		[ISNS_NO_SUCH_ENTRY] = "no such entry",
		[ISNS_VERSION_NOT_SUPPORTED] = "version not supported",
		[ISNS_INTERNAL_ERROR] = "internal error",
		[ISNS_BUSY] = "busy",
		[ISNS_OPTION_NOT_UNDERSTOOD] = "option not understood",
		[ISNS_INVALID_UPDATE] = "invalid update",
		[ISNS_MSG_NOT_SUPPORTED] = "message not supported",
		[ISNS_SCN_EVENT_REJECTED] = "SCN event rejected",
		[ISNS_SCN_REG_REJECTED] = "SCN registration rejected",
		[ISNS_ATTR_NOT_IMPLEMENTED] = "attribute not implemented",
		[19] = "FC_DOMAIN_ID not available",
		[20] = "FC_DOMAIN_ID not allocated",
		[ISNS_ESI_NOT_AVAILABLE] = "ESI not available",
		[ISNS_INVALID_DEREG] = "invalid deregistration",
		[ISNS_REG_FEATURE_NOT_SUPPORTED] = "registration feature not supported",
	};
	if (status < sizeof(s) / sizeof(s[0]) && s[status])
		return s[status];
	return "unknown status";
}

const char *isns_function_name(uint16_t function)
{
	static const char *const f[] = {
		[ISNS_DEV_ATTR_REG] = "DevAttrReg", [ISNS_DEV_ATTR_QRY] = "DevAttrQry",
		[ISNS_DEV_GET_NEXT] = "DevGetNext", [ISNS_DEV_DEREG] = "DevDereg",
		[ISNS_SCN_REG] = "SCNReg",          [ISNS_SCN_DEREG] = "SCNDereg",
		[ISNS_SCN_EVENT] = "SCNEvent",      [ISNS_SCN] = "SCN",
		[9] = "DDReg",                      [10] = "DDDereg",
		[11] = "DDSReg",                    [12] = "DDSDereg",
		[ISNS_ESI] = "ESI",                 [ISNS_HEARTBEAT] = "Heartbeat",
	};
	static const char *const rsp[] = {
		[ISNS_DEV_ATTR_REG] = "DevAttrRegRsp", [ISNS_DEV_ATTR_QRY] = "DevAttrQryRsp",
		[ISNS_DEV_GET_NEXT] = "DevGetNextRsp", [ISNS_DEV_DEREG] = "DevDeregRsp",
		[ISNS_SCN_REG] = "SCNRegRsp",          [ISNS_SCN_DEREG] = "SCNDeregRsp",
		[ISNS_SCN_EVENT] = "SCNEventRsp",      [ISNS_SCN] = "SCNRsp",
		[9] = "DDRegRsp",                      [10] = "DDDeregRsp",
		[11] = "DDSRegRsp",                    [12] = "DDSDeregRsp",
		[ISNS_ESI] = "ESIRsp",
	};
	uint16_t base = function & (uint16_t)~ISNS_RSP;
	const char *const *t = (function & ISNS_RSP) ? rsp : f;
	size_t n = (function & ISNS_RSP) ? sizeof(rsp) / sizeof(rsp[0]) : sizeof(f) / sizeof(f[0]);

	if (base < n && t[base])
		return t[base];
	return (function & ISNS_RSP) ? "unknown response" : "unknown function";
}

const char *isns_scn_event_str(uint32_t bitmap)
{
	if (bitmap & ISNS_SCN_OBJECT_ADDED)
		return "added";
	if (bitmap & ISNS_SCN_OBJECT_REMOVED)
		return "removed";
	if (bitmap & ISNS_SCN_OBJECT_UPDATED)
		return "updated";
	if (bitmap & ISNS_SCN_DD_MEMBER_ADDED)
		return "added to a discovery domain";
	if (bitmap & ISNS_SCN_DD_MEMBER_REMOVED)
		return "removed from a discovery domain";
	return "changed";
}
