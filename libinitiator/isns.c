/* iSNSP framing, attributes and the requests of an initiator (RFC 4171
 * §5, §6). See isns.h. */
#include "isns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "names.h"

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void set32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void set16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* ---------- writing ---------- */

void isns_buf_init(struct isns_buf *b, uint8_t *mem, size_t cap)
{
	b->p = mem;
	b->len = 0;
	b->cap = cap;
	b->full = false;
}

static uint8_t *reserve(struct isns_buf *b, size_t n)
{
	if (b->full || b->cap - b->len < n) {
		b->full = true;
		return NULL;
	}
	uint8_t *p = b->p + b->len;
	b->len += n;
	return p;
}

void isns_put_raw32(struct isns_buf *b, uint32_t v)
{
	uint8_t *p = reserve(b, 4);
	if (p)
		set32(p, v);
}

static void put_tl(struct isns_buf *b, uint32_t tag, uint32_t len)
{
	isns_put_raw32(b, tag);
	isns_put_raw32(b, len);
}

void isns_put_u32(struct isns_buf *b, uint32_t tag, uint32_t v)
{
	if (b->full || b->cap - b->len < 12) {
		b->full = true;
		return;
	}
	put_tl(b, tag, 4);
	isns_put_raw32(b, v);
}

void isns_put_nil(struct isns_buf *b, uint32_t tag)
{
	if (b->full || b->cap - b->len < 8) {
		b->full = true;
		return;
	}
	put_tl(b, tag, 0);
}

void isns_put_str(struct isns_buf *b, uint32_t tag, const char *s)
{
	size_t n = strlen(s) + 1, padded = (n + 3) & ~(size_t)3;

	if (b->full || padded > UINT32_MAX || b->cap - b->len < 8 + padded) {
		b->full = true;
		return;
	}
	put_tl(b, tag, (uint32_t)padded);
	uint8_t *p = reserve(b, padded);
	memset(p, 0, padded);
	memcpy(p, s, n - 1);
}

void isns_put_addr(struct isns_buf *b, uint32_t tag, const struct sockaddr *sa)
{
	uint8_t v[16] = { 0 };

	if (sa && sa->sa_family == AF_INET6) {
		memcpy(v, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	} else if (sa && sa->sa_family == AF_INET) {
		v[10] = 0xff;
		v[11] = 0xff;
		memcpy(v + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	}
	if (b->full || b->cap - b->len < 24) {
		b->full = true;
		return;
	}
	put_tl(b, tag, 16);
	memcpy(reserve(b, 16), v, 16);
}

void isns_pdu_header(uint16_t function, uint16_t flags, uint16_t xid, size_t len, uint8_t hdr[ISNS_HDR_LEN])
{
	set16(hdr, ISNS_VERSION);
	set16(hdr + 2, function);
	set16(hdr + 4, (uint16_t)len);
	set16(hdr + 6, (uint16_t)(flags | ISNS_F_FIRST | ISNS_F_LAST));
	set16(hdr + 8, xid);
	set16(hdr + 10, 0);
}

/* An iSCSI name as Source or key: at most 223 bytes (§6.4.1). */
static bool name_ok(const char *s)
{
	return s && *s && strlen(s) <= NAME_MAX_LEN;
}

static int built(const struct isns_buf *b)
{
	if (b->full)
		return -ENOBUFS;
	return b->len > ISNS_PDU_PAYLOAD_MAX ? -ENOBUFS : 0;
}

int isns_build_reg(struct isns_buf *b, const struct isns_reg *r)
{
	if (!name_ok(r->iname) || !r->eid || !*r->eid || strlen(r->eid) > 255 ||
	    (r->alias && strlen(r->alias) > 255))
		return -EINVAL;
	/* Source; Message Key: the entity; Delimiter; Operating Attributes:
	 * the entity, its portal, its node, each object's key first (§5.6.5.1). */
	isns_put_str(b, ISNS_TAG_ISCSI_NAME, r->iname);
	isns_put_str(b, ISNS_TAG_EID, r->eid);
	isns_put_nil(b, ISNS_TAG_DELIMITER);
	isns_put_str(b, ISNS_TAG_EID, r->eid);
	isns_put_u32(b, ISNS_TAG_ENTITY_PROTOCOL, ISNS_ENTITY_PROTOCOL_ISCSI);
	if (r->portal) {
		isns_put_addr(b, ISNS_TAG_PORTAL_IP, r->portal);
		isns_put_u32(b, ISNS_TAG_PORTAL_PORT, r->portal_port);
		if (r->scn_port)
			isns_put_u32(b, ISNS_TAG_SCN_PORT, r->scn_port);
	}
	isns_put_str(b, ISNS_TAG_ISCSI_NAME, r->iname);
	isns_put_u32(b, ISNS_TAG_ISCSI_NODE_TYPE, ISNS_NODE_INITIATOR);
	if (r->alias && *r->alias)
		isns_put_str(b, ISNS_TAG_ISCSI_ALIAS, r->alias);
	return built(b);
}

int isns_build_query(struct isns_buf *b, const char *iname, const char *target)
{
	static const uint32_t wanted[] = {
		ISNS_TAG_ISCSI_NAME,     ISNS_TAG_ISCSI_NODE_TYPE, ISNS_TAG_PORTAL_IP,
		ISNS_TAG_PORTAL_PORT,    ISNS_TAG_PG_ISCSI_NAME,   ISNS_TAG_PG_PORTAL_IP,
		ISNS_TAG_PG_PORTAL_PORT, ISNS_TAG_PG_TAG,
	};

	if (!name_ok(iname) || (target && !name_ok(target)))
		return -EINVAL;
	isns_put_str(b, ISNS_TAG_ISCSI_NAME, iname);
	if (target)
		isns_put_str(b, ISNS_TAG_ISCSI_NAME, target);
	else
		isns_put_u32(b, ISNS_TAG_ISCSI_NODE_TYPE, ISNS_NODE_TARGET);
	isns_put_nil(b, ISNS_TAG_DELIMITER);
	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
		isns_put_nil(b, wanted[i]);
	return built(b);
}

int isns_build_getnext(struct isns_buf *b, const char *iname, const char *last)
{
	if (!name_ok(iname) || (last && !name_ok(last)))
		return -EINVAL;
	isns_put_str(b, ISNS_TAG_ISCSI_NAME, iname);
	/* §5.6.5.3: a zero-length key asks for the first object */
	if (last)
		isns_put_str(b, ISNS_TAG_ISCSI_NAME, last);
	else
		isns_put_nil(b, ISNS_TAG_ISCSI_NAME);
	isns_put_nil(b, ISNS_TAG_DELIMITER);
	isns_put_u32(b, ISNS_TAG_ISCSI_NODE_TYPE, ISNS_NODE_TARGET);
	return built(b);
}

int isns_build_dereg(struct isns_buf *b, const char *iname, const char *eid)
{
	if (!name_ok(iname) || !eid || !*eid || strlen(eid) > 255)
		return -EINVAL;
	isns_put_str(b, ISNS_TAG_ISCSI_NAME, iname);
	isns_put_nil(b, ISNS_TAG_DELIMITER);
	isns_put_str(b, ISNS_TAG_EID, eid);
	return built(b);
}

int isns_build_scn_reg(struct isns_buf *b, const char *iname, uint32_t bitmap)
{
	if (!name_ok(iname))
		return -EINVAL;
	isns_put_str(b, ISNS_TAG_ISCSI_NAME, iname);
	isns_put_str(b, ISNS_TAG_ISCSI_NAME, iname);
	isns_put_nil(b, ISNS_TAG_DELIMITER);
	isns_put_u32(b, ISNS_TAG_ISCSI_SCN_BITMAP, bitmap);
	return built(b);
}

/* ---------- receiving ---------- */

void isns_rx_init(struct isns_rx *rx, const struct isns_limits *lim)
{
	memset(rx, 0, sizeof(*rx));
	if (lim) {
		rx->lim = *lim;
	} else {
		rx->lim.max_msg = ISNS_MAX_MSG;
		rx->lim.max_pdus = ISNS_MAX_PDUS;
		rx->lim.max_attrs = ISNS_MAX_ATTRS;
	}
}

void isns_rx_free(struct isns_rx *rx)
{
	if (!rx)
		return;
	free(rx->msg);
	rx->msg = NULL;
	rx->msg_len = rx->msg_cap = 0;
	rx->in_msg = rx->in_pdu = rx->ready = false;
	rx->hdr_have = 0;
}

int isns_rx_space(struct isns_rx *rx, uint8_t **ret_buf, size_t *ret_len)
{
	if (rx->ready)
		return -EBUSY;
	if (!rx->in_pdu) {
		*ret_buf = rx->hdr + rx->hdr_have;
		*ret_len = ISNS_HDR_LEN - rx->hdr_have;
		return 0;
	}
	/* The whole PDU's room was checked against the limits by its header. */
	size_t need = rx->msg_len + rx->pdu_len;
	if (need > rx->msg_cap) {
		size_t ncap = rx->msg_cap ? rx->msg_cap : 4096;
		while (ncap < need)
			ncap *= 2;
		if (ncap > rx->lim.max_msg)
			ncap = rx->lim.max_msg;
		uint8_t *nm = realloc(rx->msg, ncap);
		if (!nm)
			return -ENOMEM;
		rx->msg = nm;
		rx->msg_cap = ncap;
	}
	*ret_buf = rx->msg + rx->msg_len + rx->pdu_have;
	*ret_len = rx->pdu_len - rx->pdu_have;
	return 0;
}

/* A complete header in rx->hdr: check it against the message under way. */
static int take_header(struct isns_rx *rx, char *err, size_t errlen)
{
	uint16_t version = get16(rx->hdr), function = get16(rx->hdr + 2), len = get16(rx->hdr + 4);
	uint16_t flags = get16(rx->hdr + 6), xid = get16(rx->hdr + 8), seq = get16(rx->hdr + 10);

	rx->hdr_have = 0;
	if (version != ISNS_VERSION) {
		errbuf_set(err, errlen, "iSNSP version %u (only version 1 exists)", version);
		return -EPROTO;
	}
	if (flags & ISNS_F_AUTH) {
		/* Unicast messages rely on IPsec, not authentication blocks
		 * (§5.5.2); nothing asked for one. */
		errbuf_set(err, errlen, "%s PDU with an authentication block, which this initiator does not use",
			   isns_function_name(function));
		return -EPROTO;
	}
	if (!rx->in_msg) {
		if (!(flags & ISNS_F_FIRST)) {
			errbuf_set(err, errlen, "%s PDU (transaction %u, sequence %u) that starts no message",
				   isns_function_name(function), xid, seq);
			return -EPROTO;
		}
		if (seq != 0) {
			/* §5.1.6: the first PDU of a message has sequence 0 */
			errbuf_set(err, errlen, "first PDU of a %s message with sequence %u, not 0",
				   isns_function_name(function), seq);
			return -EPROTO;
		}
		rx->in_msg = true;
		rx->function = function;
		rx->flags = flags;
		rx->xid = xid;
		rx->next_seq = 0;
		rx->npdus = 0;
		rx->msg_len = 0;
	} else if ((flags & ISNS_F_FIRST) || function != rx->function || xid != rx->xid ||
		   seq != rx->next_seq) {
		/* §5.3: the PDUs of a message share function and transaction
		 * and come in sequence */
		errbuf_set(err, errlen,
			   "%s PDU (transaction %u, sequence %u) inside a %s message (transaction %u, sequence %u expected)",
			   isns_function_name(function), xid, seq, isns_function_name(rx->function), rx->xid,
			   rx->next_seq);
		return -EPROTO;
	}
	if (++rx->npdus > rx->lim.max_pdus) {
		errbuf_set(err, errlen, "%s message in more than %u PDUs", isns_function_name(function),
			   rx->lim.max_pdus);
		return -EMSGSIZE;
	}
	if ((size_t)len > rx->lim.max_msg - rx->msg_len) {
		errbuf_set(err, errlen, "%s message larger than %zu bytes", isns_function_name(function),
			   rx->lim.max_msg);
		return -EMSGSIZE;
	}
	rx->next_seq = (uint16_t)(seq + 1);
	rx->pdu_len = len;
	rx->pdu_have = 0;
	rx->in_pdu = true;
	if (flags & ISNS_F_LAST)
		rx->flags |= ISNS_F_LAST;
	return 0;
}

static int pdu_done(struct isns_rx *rx)
{
	rx->in_pdu = false;
	rx->msg_len += rx->pdu_len;
	if (rx->flags & ISNS_F_LAST) {
		rx->in_msg = false;
		rx->ready = true;
		return 1;
	}
	return 0;
}

int isns_rx_commit(struct isns_rx *rx, size_t n, char *err, size_t errlen)
{
	if (!rx->in_pdu) {
		rx->hdr_have += n;
		if (rx->hdr_have < ISNS_HDR_LEN)
			return 0;
		int r = take_header(rx, err, errlen);
		if (r < 0)
			return r;
		return rx->pdu_len == 0 ? pdu_done(rx) : 0;
	}
	rx->pdu_have += n;
	if (rx->pdu_have < rx->pdu_len)
		return 0;
	return pdu_done(rx);
}

void isns_msg_free(struct isns_msg *m)
{
	if (!m)
		return;
	free(m->data);
	free(m->attrs);
	memset(m, 0, sizeof(*m));
}

bool isns_msg_is_response(const struct isns_msg *m)
{
	return (m->function & ISNS_RSP) != 0;
}

/* Splits m->data into attributes (§5.5): m->data/len set. */
static int parse_attrs(struct isns_msg *m, const struct isns_limits *lim, char *err, size_t errlen)
{
	size_t pos = 0, cap = 0;
	const char *what = isns_function_name(m->function);

	m->n_attrs = 0;
	if (isns_msg_is_response(m)) {
		if (m->len < 4) {
			errbuf_set(err, errlen, "%s message without a status code", what);
			return -EPROTO;
		}
		m->status = get32(m->data);
		pos = 4;
	}
	m->delim = SIZE_MAX;
	while (pos < m->len) {
		if (m->len - pos < 8) {
			errbuf_set(err, errlen, "%s message ends inside an attribute header (byte %zu of %zu)", what,
				   pos, m->len);
			return -EPROTO;
		}
		uint32_t tag = get32(m->data + pos), alen = get32(m->data + pos + 4);
		if (alen % 4) {
			/* §5.5.1: values are padded to 4-byte boundaries */
			errbuf_set(err, errlen, "%s message: attribute %u has length %u, not a multiple of 4", what,
				   tag, alen);
			return -EPROTO;
		}
		if (alen > m->len - pos - 8) {
			errbuf_set(err, errlen, "%s message: attribute %u (%u bytes) runs past the end of the message",
				   what, tag, alen);
			return -EPROTO;
		}
		if (m->n_attrs >= lim->max_attrs) {
			errbuf_set(err, errlen, "%s message with more than %zu attributes", what, lim->max_attrs);
			return -EMSGSIZE;
		}
		if (m->n_attrs == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			if (ncap > lim->max_attrs)
				ncap = lim->max_attrs;
			struct isns_attr *na = realloc(m->attrs, ncap * sizeof(*na));
			if (!na)
				return -ENOMEM;
			m->attrs = na;
			cap = ncap;
		}
		if (tag == ISNS_TAG_DELIMITER) {
			if (alen) {
				errbuf_set(err, errlen, "%s message: a Delimiter with %u bytes of value", what, alen);
				return -EPROTO;
			}
			if (m->delim == SIZE_MAX)
				m->delim = m->n_attrs;
		}
		m->attrs[m->n_attrs++] = (struct isns_attr){ tag, alen, m->data + pos + 8 };
		pos += 8 + (size_t)alen;
	}
	if (m->delim == SIZE_MAX)
		m->delim = m->n_attrs;
	return 0;
}

int isns_rx_take(struct isns_rx *rx, struct isns_msg *ret, char *err, size_t errlen)
{
	struct isns_msg m = { 0 };

	if (!rx->ready)
		return -EAGAIN;
	rx->ready = false;
	m.function = rx->function;
	m.flags = rx->flags;
	m.xid = rx->xid;
	m.data = rx->msg;
	m.len = rx->msg_len;
	/* the payload moves to the message; the receiver starts afresh */
	rx->msg = NULL;
	rx->msg_len = rx->msg_cap = 0;
	int r = parse_attrs(&m, &rx->lim, err, errlen);
	if (r < 0) {
		isns_msg_free(&m);
		return r;
	}
	*ret = m;
	return 0;
}

int isns_msg_decode(const uint8_t *buf, size_t len, const struct isns_limits *lim, struct isns_msg *ret, char *err,
		    size_t errlen)
{
	struct isns_rx rx;
	size_t pos = 0;
	int r = 0;

	isns_rx_init(&rx, lim);
	while (r == 0) {
		uint8_t *dst;
		size_t want;
		r = isns_rx_space(&rx, &dst, &want);
		if (r < 0)
			break;
		if (len - pos < want) {
			errbuf_set(err, errlen, "message truncated after %zu bytes", len);
			r = -EPROTO;
			break;
		}
		memcpy(dst, buf + pos, want);
		pos += want;
		r = isns_rx_commit(&rx, want, err, errlen);
	}
	if (r == 1) {
		if (pos != len) {
			errbuf_set(err, errlen, "%zu bytes after the end of the message", len - pos);
			r = -EPROTO;
		} else {
			r = isns_rx_take(&rx, ret, err, errlen);
		}
	}
	isns_rx_free(&rx);
	return r;
}

/* ---------- attribute values ---------- */

int isns_attr_u32(const struct isns_attr *a, uint32_t *ret)
{
	if (a->len != 4)
		return -EPROTO;
	*ret = get32(a->val);
	return 0;
}

int isns_attr_str(const struct isns_attr *a, char *buf, size_t cap)
{
	const uint8_t *nul = a->len ? memchr(a->val, 0, a->len) : NULL;

	if (!nul)
		return -EPROTO;
	size_t n = (size_t)(nul - a->val);
	if (n + 1 > cap)
		return -ENAMETOOLONG;
	memcpy(buf, a->val, n + 1);
	return 0;
}

int isns_attr_addr(const struct isns_attr *a, char *buf, size_t cap, int *ret_family)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (a->len != 16)
		return -EPROTO;
	/* ::ffff:a.b.c.d, and the old ::a.b.c.d (but not :: and ::1) */
	bool compat = memcmp(a->val, v4mapped, 10) == 0 && a->val[10] == 0 && a->val[11] == 0 &&
		      get32(a->val + 12) > 1;
	if (memcmp(a->val, v4mapped, 12) == 0 || compat) {
		if (!inet_ntop(AF_INET, a->val + 12, buf, (socklen_t)cap))
			return -ENAMETOOLONG;
		*ret_family = AF_INET;
		return 0;
	}
	if (!inet_ntop(AF_INET6, a->val, buf, (socklen_t)cap))
		return -ENAMETOOLONG;
	*ret_family = AF_INET6;
	return 0;
}
