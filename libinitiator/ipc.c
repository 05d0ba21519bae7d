/* Control protocol codec: frames and TLV fields (see ipc.h, doc/ipc.md).
 * Every byte handed to the decoder may come from a hostile or buggy peer:
 * each length is checked against what is left before it is used. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"

struct tag_info {
	const char *name;
	uint8_t type;
	bool repeatable;
	uint32_t max;          /* strings: max bytes */
};

static const struct tag_info tags[IPC_TAG_MAX] = {
	[IPC_TAG_STATUS] = { "STATUS", IPC_T_U32, false, 0 },
	[IPC_TAG_MESSAGE] = { "MESSAGE", IPC_T_STR, false, IPC_MESSAGE_MAX },
	[IPC_TAG_DAEMON_VERSION] = { "DAEMON_VERSION", IPC_T_STR, false, IPC_SHORT_STR_MAX },
	[IPC_TAG_INITIATOR_NAME] = { "INITIATOR_NAME", IPC_T_STR, false, IPC_NAME_MAX },
	[IPC_TAG_INITIATOR_ALIAS] = { "INITIATOR_ALIAS", IPC_T_STR, false, IPC_SHORT_STR_MAX },
	[IPC_TAG_CONFIG_FILE] = { "CONFIG_FILE", IPC_T_STR, false, IPC_PATH_STR_MAX },
	[IPC_TAG_RECORD] = { "RECORD", IPC_T_STR, false, IPC_MAX_PAYLOAD },
	[IPC_TAG_LOGIN_FLAGS] = { "LOGIN_FLAGS", IPC_T_U32, false, 0 },
	[IPC_TAG_SID] = { "SID", IPC_T_U32, false, 0 },
	[IPC_TAG_HOST_NO] = { "HOST_NO", IPC_T_U32, false, 0 },
	[IPC_TAG_DEVICE] = { "DEVICE", IPC_T_STR, true, IPC_SHORT_STR_MAX },
	[IPC_TAG_TARGET_NAME] = { "TARGET_NAME", IPC_T_STR, false, IPC_NAME_MAX },
	[IPC_TAG_PORTAL] = { "PORTAL", IPC_T_STR, false, IPC_SHORT_STR_MAX },
	[IPC_TAG_IFACE] = { "IFACE", IPC_T_STR, false, IPC_SHORT_STR_MAX },
	[IPC_TAG_SESSION] = { "SESSION", IPC_T_GROUP, true, 0 },
	[IPC_TAG_SESSION_STATE] = { "SESSION_STATE", IPC_T_STR, false, IPC_SHORT_STR_MAX },
	[IPC_TAG_CONN_STATE] = { "CONN_STATE", IPC_T_STR, false, IPC_SHORT_STR_MAX },
	[IPC_TAG_PROTO_VERSION] = { "PROTO_VERSION", IPC_T_U32, false, 0 },
	[IPC_TAG_STAT] = { "STAT", IPC_T_GROUP, true, 0 },
	[IPC_TAG_STAT_NAME] = { "STAT_NAME", IPC_T_STR, false, IPC_SHORT_STR_MAX },
	[IPC_TAG_STAT_VALUE] = { "STAT_VALUE", IPC_T_U64, false, 0 },
	[IPC_TAG_STAT_EXTENDED] = { "STAT_EXTENDED", IPC_T_U32, false, 0 },
	[IPC_TAG_TRANSPORT] = { "TRANSPORT", IPC_T_STR, false, IPC_SHORT_STR_MAX },
	[IPC_TAG_TPGT] = { "TPGT", IPC_T_U32, false, 0 },
	[IPC_TAG_LOGINS] = { "LOGINS", IPC_T_U64, false, 0 },
	[IPC_TAG_RECOVERIES] = { "RECOVERIES", IPC_T_U64, false, 0 },
	[IPC_TAG_RECOVERY_MS] = { "RECOVERY_MS", IPC_T_U64, false, 0 },
	[IPC_TAG_LAST_LOGIN_MS] = { "LAST_LOGIN_MS", IPC_T_U64, false, 0 },
	[IPC_TAG_CONN_ERROR] = { "CONN_ERROR", IPC_T_GROUP, true, 0 },
	[IPC_TAG_LOGIN_BACKGROUND_MS] = { "LOGIN_BACKGROUND_MS", IPC_T_U32, false, 0 },
};

_Static_assert(IPC_TAG_MAX <= 64, "duplicate detection uses a 64-bit map");

static const char *const msg_names[IPC_MSG_MAX] = {
	[IPC_MSG_NONE] = "NONE",
	[IPC_MSG_HELLO] = "HELLO",
	[IPC_MSG_LOGIN] = "LOGIN",
	[IPC_MSG_LOGOUT] = "LOGOUT",
	[IPC_MSG_SESSION_LIST_STATE] = "SESSION_LIST_STATE",
	[IPC_MSG_RESCAN] = "RESCAN",
	[IPC_MSG_RELOAD] = "RELOAD",
	[IPC_MSG_STOP] = "STOP",
	[IPC_MSG_SESSION_STATS] = "SESSION_STATS",
};

/* Known tags for a peer of our version, or only the fixed-forever ones. */
static const struct tag_info *tag_lookup(uint16_t tag, bool fixed_only)
{
	if (tag == 0 || tag >= IPC_TAG_MAX)
		return NULL;
	if (fixed_only && tag != IPC_TAG_STATUS && tag != IPC_TAG_MESSAGE)
		return NULL;
	return &tags[tag];
}

const char *ipc_tag_name(uint16_t tag)
{
	const struct tag_info *t = tag_lookup(tag, false);
	return t ? t->name : "?";
}

const char *ipc_msg_type_name(uint16_t type)
{
	return type < IPC_MSG_MAX ? msg_names[type] : "?";
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int ipc_hdr_decode(const uint8_t *buf, size_t len, struct ipc_hdr *ret)
{
	if (!buf || !ret || len < IPC_HDR_LEN)
		return -EINVAL;
	if (memcmp(buf, IPC_MAGIC, 4) != 0)
		return -EBADMSG;
	ret->version = get16(buf + 4);
	ret->type = get16(buf + 6);
	ret->flags = get16(buf + 8);
	ret->reserved = get16(buf + 10);
	ret->id = get32(buf + 12);
	ret->len = get32(buf + 16);
	return 0;
}

int ipc_hdr_check(const struct ipc_hdr *h)
{
	if (h->version != IPC_PROTO_VERSION)
		return -EPROTONOSUPPORT;
	if (h->len > IPC_MAX_PAYLOAD)
		return -EMSGSIZE;
	return 0;
}

void ipc_hdr_encode(const struct ipc_hdr *h, uint8_t out[IPC_HDR_LEN])
{
	memcpy(out, IPC_MAGIC, 4);
	put16(out + 4, h->version);
	put16(out + 6, h->type);
	put16(out + 8, h->flags);
	put16(out + 10, h->reserved);
	put32(out + 12, h->id);
	put32(out + 16, h->len);
}

/* ---- decoding ---- */

static void fields_release(struct ipc_fields *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		/* RECORD strings hold CHAP secrets: wipe every string. */
		if (f->v[i].str)
			explicit_bzero((char *)f->v[i].str, strlen(f->v[i].str));
		free((char *)f->v[i].str);
		if (f->v[i].group) {
			fields_release(f->v[i].group);
			free(f->v[i].group);
		}
	}
	free(f->v);
	f->v = NULL;
	f->n = 0;
}

static int decode_fields(const uint8_t *p, size_t len, unsigned depth, bool fixed_only,
			 unsigned *budget, struct ipc_fields *out);

/* Fills one known field from its value bytes. */
static int decode_value(const struct tag_info *t, uint16_t tag, const uint8_t *val, uint32_t vlen,
			unsigned depth, bool fixed_only, unsigned *budget, struct ipc_field *f)
{
	f->tag = tag;
	f->type = t->type;
	f->len = vlen;
	switch (t->type) {
	case IPC_T_U32:
		if (vlen != 4)
			return -EBADMSG;
		f->num = get32(val);
		return 0;
	case IPC_T_U64:
		if (vlen != 8)
			return -EBADMSG;
		f->num = ((uint64_t)get32(val) << 32) | get32(val + 4);
		return 0;
	case IPC_T_STR: {
		if (vlen > t->max || memchr(val, 0, vlen))
			return -EBADMSG;
		char *s = malloc((size_t)vlen + 1);
		if (!s)
			return -ENOMEM;
		if (vlen)
			memcpy(s, val, vlen);
		s[vlen] = '\0';
		f->str = s;
		return 0;
	}
	case IPC_T_GROUP: {
		if (depth + 1 >= IPC_MAX_DEPTH)
			return -EBADMSG;
		struct ipc_fields *g = calloc(1, sizeof(*g));
		if (!g)
			return -ENOMEM;
		int r = decode_fields(val, vlen, depth + 1, fixed_only, budget, g);
		if (r < 0) {
			free(g);
			return r;
		}
		f->group = g;
		return 0;
	}
	}
	return -EBADMSG;
}

static int decode_fields(const uint8_t *p, size_t len, unsigned depth, bool fixed_only,
			 unsigned *budget, struct ipc_fields *out)
{
	size_t off, known = 0;

	/* Pass 1: framing, the field budget, and how many fields we keep. */
	for (off = 0; off < len;) {
		if (len - off < IPC_TLV_HDR_LEN)
			return -EBADMSG;
		uint16_t tag = get16(p + off);
		uint32_t vlen = get32(p + off + 2);
		off += IPC_TLV_HDR_LEN;
		if (vlen > len - off)
			return -EBADMSG;
		off += vlen;
		if (*budget == 0)
			return -EBADMSG;
		(*budget)--;
		if (tag_lookup(tag, fixed_only))
			known++;
	}

	struct ipc_fields f = { 0, NULL };
	if (known) {
		f.v = calloc(known, sizeof(*f.v));
		if (!f.v)
			return -ENOMEM;
	}

	/* Pass 2: values. Tags are below 64, so a bitmap finds duplicates. */
	uint64_t seen = 0;
	int r = 0;
	for (off = 0; off < len;) {
		uint16_t tag = get16(p + off);
		uint32_t vlen = get32(p + off + 2);
		const uint8_t *val = p + off + IPC_TLV_HDR_LEN;
		off += IPC_TLV_HDR_LEN + (size_t)vlen;

		const struct tag_info *t = tag_lookup(tag, fixed_only);
		if (!t)
			continue;       /* unknown: skip, a newer peer may send it */
		if (!t->repeatable && (seen & (UINT64_C(1) << tag))) {
			r = -EBADMSG;
			break;
		}
		seen |= UINT64_C(1) << tag;
		r = decode_value(t, tag, val, vlen, depth, fixed_only, budget, &f.v[f.n]);
		if (r < 0)
			break;
		f.n++;
	}
	if (r < 0) {
		fields_release(&f);
		return r;
	}
	*out = f;
	return 0;
}

int ipc_msg_decode(const struct ipc_hdr *hdr, const uint8_t *payload, size_t len,
		   struct ipc_msg **ret)
{
	if (!hdr || !ret || (len && !payload) || len != hdr->len)
		return -EINVAL;
	if (len > IPC_MAX_PAYLOAD)
		return -EMSGSIZE;

	struct ipc_msg *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->hdr = *hdr;
	unsigned budget = IPC_MAX_FIELDS;
	int r = decode_fields(payload, len, 0, hdr->version != IPC_PROTO_VERSION, &budget, &m->fields);
	if (r < 0) {
		free(m);
		return r;
	}
	*ret = m;
	return 0;
}

int ipc_frame_decode(const uint8_t *buf, size_t len, struct ipc_msg **ret)
{
	struct ipc_hdr h;
	int r = ipc_hdr_decode(buf, len, &h);
	if (r < 0)
		return r;
	if (h.len > IPC_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (len - IPC_HDR_LEN != h.len)
		return -EBADMSG;
	return ipc_msg_decode(&h, buf + IPC_HDR_LEN, h.len, ret);
}

void ipc_msg_free(struct ipc_msg *m)
{
	if (!m)
		return;
	fields_release(&m->fields);
	free(m);
}

const struct ipc_field *ipc_find(const struct ipc_fields *f, uint16_t tag)
{
	if (!f)
		return NULL;
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].tag == tag)
			return &f->v[i];
	return NULL;
}

int ipc_get_u32(const struct ipc_fields *f, uint16_t tag, uint32_t *ret)
{
	const struct ipc_field *x = ipc_find(f, tag);
	if (!x || x->type != IPC_T_U32)
		return -ENOENT;
	*ret = (uint32_t)x->num;
	return 0;
}

int ipc_get_u64(const struct ipc_fields *f, uint16_t tag, uint64_t *ret)
{
	const struct ipc_field *x = ipc_find(f, tag);
	if (!x || x->type != IPC_T_U64)
		return -ENOENT;
	*ret = x->num;
	return 0;
}

const char *ipc_get_str(const struct ipc_fields *f, uint16_t tag)
{
	const struct ipc_field *x = ipc_find(f, tag);
	return x && x->type == IPC_T_STR ? x->str : NULL;
}

size_t ipc_count(const struct ipc_fields *f, uint16_t tag)
{
	size_t n = 0;
	if (!f)
		return 0;
	for (size_t i = 0; i < f->n; i++)
		n += f->v[i].tag == tag;
	return n;
}

/* ---- encoding ---- */

void ipc_writer_init(struct ipc_writer *w, uint16_t type, uint16_t flags, uint32_t id)
{
	memset(w, 0, sizeof(*w));
	w->version = IPC_PROTO_VERSION;
	w->type = type;
	w->flags = flags;
	w->id = id;
	w->len = IPC_HDR_LEN;   /* header written by ipc_writer_finish() */
}

static uint8_t *reserve(struct ipc_writer *w, size_t n)
{
	if (w->err)
		return NULL;
	if (n > IPC_MAX_FRAME - w->len) {
		w->err = -EMSGSIZE;
		return NULL;
	}
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		while (cap < w->len + n)
			cap *= 2;
		if (cap > IPC_MAX_FRAME)
			cap = IPC_MAX_FRAME;
		/* Not realloc: the frame may hold a record with secrets, and
		 * the old block must be wiped before it is freed. */
		uint8_t *b = malloc(cap);
		if (!b) {
			w->err = -ENOMEM;
			return NULL;
		}
		if (w->buf) {
			memcpy(b, w->buf, w->len);
			explicit_bzero(w->buf, w->cap);
			free(w->buf);
		}
		w->buf = b;
		w->cap = cap;
	}
	uint8_t *p = w->buf + w->len;
	w->len += n;
	return p;
}

static void put_field(struct ipc_writer *w, uint16_t tag, const void *val, size_t len)
{
	if (w->err)
		return;
	if (w->nfields >= IPC_MAX_FIELDS) {
		w->err = -E2BIG;
		return;
	}
	uint8_t *p = reserve(w, IPC_TLV_HDR_LEN + len);
	if (!p)
		return;
	put16(p, tag);
	put32(p + 2, (uint32_t)len);
	if (len)
		memcpy(p + IPC_TLV_HDR_LEN, val, len);
	w->nfields++;
}

static bool tag_is(struct ipc_writer *w, uint16_t tag, uint8_t type)
{
	const struct tag_info *t = tag_lookup(tag, false);
	if (!t || t->type != type) {
		if (!w->err)
			w->err = -EINVAL;
		return false;
	}
	return true;
}

void ipc_put_u32(struct ipc_writer *w, uint16_t tag, uint32_t v)
{
	uint8_t b[4];
	if (!tag_is(w, tag, IPC_T_U32))
		return;
	put32(b, v);
	put_field(w, tag, b, sizeof(b));
}

void ipc_put_u64(struct ipc_writer *w, uint16_t tag, uint64_t v)
{
	uint8_t b[8];
	if (!tag_is(w, tag, IPC_T_U64))
		return;
	put32(b, (uint32_t)(v >> 32));
	put32(b + 4, (uint32_t)v);
	put_field(w, tag, b, sizeof(b));
}

void ipc_put_str(struct ipc_writer *w, uint16_t tag, const char *s)
{
	if (!tag_is(w, tag, IPC_T_STR))
		return;
	if (!s) {
		if (!w->err)
			w->err = -EINVAL;
		return;
	}
	size_t n = strlen(s);
	if (n > tags[tag].max) {
		if (!w->err)
			w->err = -E2BIG;
		return;
	}
	put_field(w, tag, s, n);
}

void ipc_put_raw(struct ipc_writer *w, uint16_t tag, const void *val, size_t len)
{
	if (len && !val) {
		if (!w->err)
			w->err = -EINVAL;
		return;
	}
	put_field(w, tag, val, len);
}

void ipc_group_begin(struct ipc_writer *w, uint16_t tag)
{
	if (!tag_is(w, tag, IPC_T_GROUP))
		return;
	if (w->depth + 1 >= IPC_MAX_DEPTH) {
		if (!w->err)
			w->err = -EINVAL;
		return;
	}
	size_t at = w->len;
	put_field(w, tag, NULL, 0);
	if (w->err)
		return;
	w->group_at[w->depth++] = at;
}

void ipc_group_end(struct ipc_writer *w)
{
	if (w->err)
		return;
	if (w->depth == 0) {
		w->err = -EINVAL;
		return;
	}
	size_t at = w->group_at[--w->depth];
	put32(w->buf + at + 2, (uint32_t)(w->len - at - IPC_TLV_HDR_LEN));
}

void ipc_writer_release(struct ipc_writer *w)
{
	if (w->buf)
		explicit_bzero(w->buf, w->cap);
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
}

int ipc_writer_finish(struct ipc_writer *w, uint8_t **ret_buf, size_t *ret_len)
{
	if (!w->err && w->depth)
		w->err = -EINVAL;
	if (!w->err && !w->buf) {
		/* empty payload: the buffer holds just the header */
		w->buf = malloc(IPC_HDR_LEN);
		if (!w->buf)
			w->err = -ENOMEM;
		else
			w->cap = IPC_HDR_LEN;
	}
	if (w->err) {
		int r = w->err;
		ipc_writer_release(w);
		return r;
	}
	struct ipc_hdr h = {
		.version = w->version,
		.type = w->type,
		.flags = w->flags,
		.id = w->id,
		.len = (uint32_t)(w->len - IPC_HDR_LEN),
	};
	ipc_hdr_encode(&h, w->buf);
	*ret_buf = w->buf;
	*ret_len = w->len;
	w->buf = NULL;
	w->len = w->cap = 0;
	return 0;
}

int ipc_error_encode(uint16_t type, uint32_t id, uint32_t status, const char *message,
		     uint8_t **ret_buf, size_t *ret_len)
{
	struct ipc_writer w;
	char msg[IPC_MESSAGE_MAX + 1];

	/* Truncate rather than fail: the error must get out. Strip NULs by
	 * construction (strlen) and cut at the limit. */
	snprintf(msg, sizeof(msg), "%s", message ? message : "");
	ipc_writer_init(&w, type, IPC_FLAG_RESPONSE, id);
	ipc_put_u32(&w, IPC_TAG_STATUS, status);
	ipc_put_str(&w, IPC_TAG_MESSAGE, msg);
	return ipc_writer_finish(&w, ret_buf, ret_len);
}
