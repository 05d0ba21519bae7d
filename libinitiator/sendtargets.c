/* SendTargets discovery (RFC 7143 §13.3, §13.8, Appendix C, §11.10, §11.11).
 * See sendtargets.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "sendtargets.h"

void st_result_init(struct st_result *r)
{
	r->targets = NULL;
	r->n = 0;
	r->n_skipped = 0;
}

void st_result_free(struct st_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->targets[i].portals);
	free(r->targets);
	st_result_init(r);
}

void st_result_skip(struct st_result *r, const char *fmt, ...)
{
	va_list ap;

	if (r->n_skipped < ST_SKIP_NOTES) {
		va_start(ap, fmt);
		vsnprintf(r->skipped[r->n_skipped], sizeof(r->skipped[0]), fmt, ap);
		va_end(ap);
	}
	r->n_skipped++;
}

static bool key_is(const struct text_pair *kv, const char *key)
{
	size_t n = strlen(key);
	return kv->key_len == n && memcmp(kv->key, key, n) == 0;
}

/* Which target carries a name: an open-addressing hash table of target
 * indexes (ps->slot, ps->slot_cap slots), so that a response of
 * thousands of targets is not parsed in time quadratic in their number
 * (a target may be named twice, and the second mention adds to the
 * first). A slot keeps the name's hash, so growing never hashes a name
 * again and most probes compare no string; idx is the target's index
 * + 1, 0 marks an empty slot. At most half full. */
struct st_name_slot {
	uint32_t idx;
	uint32_t hash;
};

static uint32_t name_hash(const char *name, size_t len)
{
	uint32_t h = 2166136261u;   /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)name[i]) * 16777619u;
	return h;
}

/* The slot of the name (hash h): the one holding its target, or the
 * empty one where it would go. ps->slot_cap is not 0. */
static struct st_name_slot *index_slot(const struct st_parse *ps, const char *name, uint32_t h)
{
	size_t mask = ps->slot_cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct st_name_slot *s = &ps->slot[i];
		if (s->idx == 0 || (s->hash == h && strcmp(ps->r.targets[s->idx - 1].name, name) == 0))
			return s;
	}
}

/* Enters target t (the last one added, hash h) into the index; grows it
 * when it would be more than half full. */
static int index_add(struct st_parse *ps, size_t t, uint32_t h)
{
	if (ps->r.n * 2 > ps->slot_cap) {
		size_t ncap = ps->slot_cap ? ps->slot_cap * 2 : 64;
		struct st_name_slot *n = calloc(ncap, sizeof(*n));
		if (!n)
			return -ENOMEM;
		for (size_t i = 0; i < ps->slot_cap; i++) {
			const struct st_name_slot *o = &ps->slot[i];
			if (o->idx == 0)
				continue;
			size_t j = o->hash & (ncap - 1);
			while (n[j].idx)
				j = (j + 1) & (ncap - 1);
			n[j] = *o;
		}
		free(ps->slot);
		ps->slot = n;
		ps->slot_cap = ncap;
	}
	*index_slot(ps, ps->r.targets[t].name, h) = (struct st_name_slot){ (uint32_t)t + 1, h };
	return 0;
}

static void st_parse_init(struct st_parse *ps)
{
	memset(ps, 0, sizeof(*ps));
	st_result_init(&ps->r);
	ps->cur = ST_CUR_NONE;
}

static void st_parse_free(struct st_parse *ps)
{
	st_result_free(&ps->r);
	free(ps->slot);
	st_parse_init(ps);
}

static int target_add(struct st_result *r, size_t *cap, const char *name,
		      char *err, size_t errlen)
{
	if (r->n >= ST_MAX_TARGETS) {
		errbuf_set(err, errlen, "SendTargets response lists more than %d targets",
			ST_MAX_TARGETS);
		return -E2BIG;
	}
	if (r->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		if (ncap > ST_MAX_TARGETS)
			ncap = ST_MAX_TARGETS;
		struct st_target *nt = realloc(r->targets, ncap * sizeof(*nt));
		if (!nt)
			return -ENOMEM;
		r->targets = nt;
		*cap = ncap;
	}
	struct st_target *t = &r->targets[r->n++];
	t->portals = NULL;
	t->n_portals = 0;
	t->bad_addr = false;
	/* name passed name_validate(): at most NAME_MAX_LEN bytes. */
	size_t n = strnlen(name, NAME_MAX_LEN);
	memcpy(t->name, name, n);
	t->name[n] = '\0';
	return 0;
}

static int portal_add(struct st_target *t, const struct portal *p, size_t *total,
		      char *err, size_t errlen)
{
	for (size_t i = 0; i < t->n_portals; i++)
		if (portal_equal(&t->portals[i], p))
			return 0;
	if (t->n_portals >= ST_MAX_PORTALS) {
		errbuf_set(err, errlen, "target %s has more than %d portals", t->name,
			ST_MAX_PORTALS);
		return -E2BIG;
	}
	if (*total >= ST_MAX_PORTALS_TOTAL) {
		errbuf_set(err, errlen, "SendTargets response lists more than %d portals",
			ST_MAX_PORTALS_TOTAL);
		return -E2BIG;
	}
	/* Grow by powers of two: n_portals is the capacity test. */
	size_t n = t->n_portals;
	if (n == 0 || (n & (n - 1)) == 0) {
		size_t ncap = n ? n * 2 : 1;
		struct portal *np = realloc(t->portals, ncap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		t->portals = np;
	}
	t->portals[t->n_portals++] = *p;
	(*total)++;
	return 0;
}

/* An entry left out: noted (the first few) and counted. first is the
 * reason in the words a response failing on it alone gets. */
__attribute__((format(printf, 3, 4)))
static void skip_entry(struct st_parse *ps, const char *first, const char *fmt, ...)
{
	struct st_result *r = &ps->r;
	char note[ST_SKIP_NOTE_MAX];
	va_list ap;

	if (r->n_skipped == 0)
		errbuf_set(ps->first_bad, sizeof(ps->first_bad), "%s", first);
	va_start(ap, fmt);
	vsnprintf(note, sizeof(note), fmt, ap);
	va_end(ap);
	st_result_skip(r, "%s", note);
}

/* Parses the pairs of data from ps->done up to limit (the end of a
 * pair), adding to ps; ps->done moves past each pair taken. The same
 * pairs in any number of calls give the same result as in one. */
static int parse_pairs(struct st_parse *ps, const uint8_t *data, size_t limit, char *err, size_t errlen)
{
	struct st_result *r = &ps->r;
	struct text_iter it;
	struct text_pair kv;
	int k;

	if (!r->targets) {
		/* Room for as many targets as the text at hand can hold (a
		 * pair "TargetName=" + a name of 4 or more bytes + NUL is at
		 * least 16 bytes): little copying while the array grows, and
		 * the pages of the part never used are never touched. */
		size_t most = limit / 16 + 1;
		if (most > ST_MAX_TARGETS)
			most = ST_MAX_TARGETS;
		if (most > 16) {
			r->targets = malloc(most * sizeof(*r->targets));
			if (!r->targets)
				return -ENOMEM;
			ps->cap = most;
		}
	}
	text_iter_init(&it, data, limit);
	it.off = ps->done;
	for (; (k = text_iter_next(&it, &kv)) > 0; ps->done = it.off) {
		char val[512];
		char why[128], first[ST_ERR_MAX], shown[100];
		int ret;

		bool is_name = key_is(&kv, "TargetName");
		if (!is_name && !key_is(&kv, "TargetAddress"))
			continue;   /* e.g. TargetAlias: not needed for discovery */
		/* Appendix C: an address belongs to the TargetName before. */
		if (!is_name && ps->cur == ST_CUR_NONE) {
			errbuf_set(err, errlen, "target sent a TargetAddress before any TargetName");
			return -EPROTO;
		}
		if (!is_name && ps->cur == ST_CUR_SKIP)
			continue;   /* of a target skipped already */
		if (kv.value_len >= sizeof(val)) {
			const char *key = is_name ? "TargetName" : "TargetAddress";
			name_escape(kv.value, kv.value_len, shown, sizeof(shown));
			errbuf_set(first, sizeof(first), "%s value of %zu bytes is too long", key, kv.value_len);
			skip_entry(ps, first, "%s \"%s\": %zu bytes, too long", key, shown, kv.value_len);
			if (is_name)
				ps->cur = ST_CUR_SKIP;
			else
				r->targets[ps->cur].bad_addr = true;
			continue;
		}
		memcpy(val, kv.value, kv.value_len);
		val[kv.value_len] = '\0';

		if (is_name) {
			if (name_validate(val, why, sizeof(why)) < 0) {
				name_escape(val, kv.value_len, shown, sizeof(shown));
				errbuf_set(first, sizeof(first), "target sent an invalid TargetName: %s", why);
				skip_entry(ps, first, "TargetName \"%s\": %s", shown, why);
				ps->cur = ST_CUR_SKIP;
				continue;
			}
			uint32_t h = name_hash(val, kv.value_len);
			const struct st_name_slot *slot = ps->slot_cap ? index_slot(ps, val, h) : NULL;
			if (slot && slot->idx) {
				ps->cur = slot->idx - 1;
				continue;
			}
			ret = target_add(r, &ps->cap, val, err, errlen);
			if (ret < 0)
				return ret;
			ps->cur = r->n - 1;
			ret = index_add(ps, ps->cur, h);
			if (ret < 0)
				return ret;
			continue;
		}
		/* TargetAddress of target ps->cur */
		struct portal p;
		/* Most targets of an array share its portals: an address
		 * spelled as the one before parses alike (portal_parse() is a
		 * function of the text alone). */
		const char *last = (const char *)data + ps->last_addr;
		if (ps->last_len && kv.value_len == ps->last_len && memcmp(kv.value, last, ps->last_len) == 0) {
			p = ps->last_p;
		} else {
			if (portal_parse(val, &p, why, sizeof(why)) < 0) {
				struct st_target *t = &r->targets[ps->cur];
				name_escape(val, kv.value_len, shown, sizeof(shown));
				errbuf_set(first, sizeof(first), "target %s has an invalid TargetAddress: %s",
					 t->name, why);
				skip_entry(ps, first, "TargetAddress \"%s\" of %s: %s", shown, t->name, why);
				t->bad_addr = true;
				continue;
			}
			ps->last_addr = (size_t)((const uint8_t *)kv.value - data);
			ps->last_len = kv.value_len;
			ps->last_p = p;
		}
		ret = portal_add(&r->targets[ps->cur], &p, &ps->total, err, errlen);
		if (ret < 0)
			return ret;
	}
	if (k < 0) {
		errbuf_set(err, errlen, "malformed key=value text in SendTargets response at byte %zu",
			it.off);
		return -EPROTO;
	}
	return 0;
}

/* After the last pair. A target whose TargetAddresses were all invalid
 * goes too: it did not say it is reachable through the discovery
 * portal, which is what a target that lists no address says (Appendix
 * C). A response that had entries, none of them valid, fails. */
static int parse_finish(struct st_parse *ps, char *err, size_t errlen)
{
	struct st_result *r = &ps->r;
	size_t k = 0;

	for (size_t i = 0; i < r->n; i++) {
		struct st_target *t = &r->targets[i];
		if (t->bad_addr && t->n_portals == 0) {
			char first[ST_ERR_MAX];
			errbuf_set(first, sizeof(first), "target %s has no valid TargetAddress", t->name);
			skip_entry(ps, first, "target %s: none of its TargetAddresses is valid", t->name);
			free(t->portals);
			continue;
		}
		r->targets[k++] = *t;
	}
	r->n = k;
	if (r->n == 0 && r->n_skipped) {
		if (r->n_skipped > 1)
			errbuf_set(err, errlen, "%s (and %zu more invalid entries)", ps->first_bad,
				   r->n_skipped - 1);
		else
			errbuf_set(err, errlen, "%s", ps->first_bad);
		return -EPROTO;
	}
	return 0;
}

int sendtargets_parse(const uint8_t *data, size_t len, struct st_result *ret,
		      char *err, size_t errlen)
{
	struct st_parse ps;
	int k;

	if (!ret || (!data && len))
		return -EINVAL;
	if (len > ST_MAX_BYTES) {
		errbuf_set(err, errlen, "SendTargets response larger than %u bytes", ST_MAX_BYTES);
		return -E2BIG;
	}
	st_parse_init(&ps);
	k = parse_pairs(&ps, data, len, err, errlen);
	if (k == 0)
		k = parse_finish(&ps, err, errlen);
	if (k < 0) {
		if (k == -ENOMEM)
			errbuf_set(err, errlen, "out of memory");
		st_parse_free(&ps);
		return k;
	}
	*ret = ps.r;
	st_result_init(&ps.r);
	st_parse_free(&ps);
	return 0;
}

int sendtargets_apply_default_portal(struct st_result *r, const struct portal *discovery)
{
	if (!r || !discovery)
		return -EINVAL;
	for (size_t i = 0; i < r->n; i++) {
		struct st_target *t = &r->targets[i];
		if (t->n_portals)
			continue;
		t->portals = malloc(sizeof(*t->portals));
		if (!t->portals)
			return -ENOMEM;
		t->portals[0] = *discovery;
		t->n_portals = 1;
	}
	return 0;
}

int sendtargets_build_request(const char *what, uint8_t *buf, size_t cap, size_t *ret_len)
{
	if (!buf || !ret_len)
		return -EINVAL;
	if (!what)
		what = "All";
	else if (*what && strcmp(what, "All") != 0 && name_validate(what, NULL, 0) < 0)
		return -EINVAL;
	int n = snprintf((char *)buf, cap, "SendTargets=%s", what);
	/* The NUL snprintf writes is the pair's terminator (§6.1). */
	if (n < 0 || (size_t)n + 1 > cap)
		return -ENOBUFS;
	*ret_len = (size_t)n + 1;
	return 0;
}

/* ---- the discovery Text exchange ---------------------------------- */

/* Serial number arithmetic (RFC 1982, RFC 7143 §4.2.2.1). */
static bool sn_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static int ex_fail(struct st_exchange *ex, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int ex_fail(struct st_exchange *ex, int r, const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(ex->err, sizeof(ex->err), fmt, ap);
		va_end(ap);
	}
	ex->active = false;
	text_asm_reset(&ex->data);
	st_parse_free(&ex->ps);
	return r;
}

/* A Text Request (RFC 7143 §11.10). Non-immediate while the command
 * window is open; when the target closed it (MaxCmdSN < CmdSN) an
 * immediate request is still allowed and does not consume a CmdSN. */
static void ex_request(struct st_exchange *ex, uint32_t ttt, const uint8_t *data,
		       size_t len, struct pdu *ret_req)
{
	struct pdu p;

	memset(&p, 0, sizeof(p));
	p.opcode = ISCSI_OP_TEXT_REQ;
	p.immediate = sn_lt(ex->max_cmdsn, ex->cmdsn);
	p.flags = ISCSI_FLAG_FINAL;   /* the initiator has nothing more to say */
	p.itt = ex->itt;
	p.ttt = ttt;
	p.cmdsn = ex->cmdsn;
	p.exp_statsn = ex->exp_statsn;
	p.data_len = (uint32_t)len;
	p.data = len ? data : NULL;
	if (!p.immediate)
		ex->cmdsn++;
	*ret_req = p;
}

int st_exchange_start(struct st_exchange *ex, uint32_t itt, uint32_t cmdsn,
		      uint32_t exp_statsn, uint32_t exp_cmdsn, uint32_t max_cmdsn,
		      struct pdu *ret_req)
{
	int r;

	if (!ex || !ret_req || itt == ISCSI_RESERVED_TAG)
		return -EINVAL;
	memset(ex, 0, sizeof(*ex));
	ex->itt = itt;
	ex->cmdsn = cmdsn;
	ex->exp_statsn = exp_statsn;
	ex->exp_cmdsn = exp_cmdsn;
	ex->max_cmdsn = max_cmdsn;
	text_asm_init_plain(&ex->data, ST_MAX_BYTES);
	st_parse_init(&ex->ps);
	r = sendtargets_build_request(NULL, ex->req, sizeof(ex->req), &ex->req_len);
	if (r < 0)
		return r;
	ex->active = true;
	/* §11.10.4: a new request carries TTT 0xffffffff. */
	ex_request(ex, ISCSI_RESERVED_TAG, ex->req, ex->req_len, ret_req);
	return 0;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int st_exchange_step(struct st_exchange *ex, const struct pdu *rsp,
		     struct pdu *ret_req, struct st_result *ret_result)
{
	if (!ex || !rsp || !ret_req || !ret_result)
		return -EINVAL;
	if (!ex->active) {
		snprintf(ex->err, sizeof(ex->err), "no SendTargets exchange in progress");
		return -EINVAL;
	}
	if (rsp->data_len && !rsp->data)
		return ex_fail(ex, -EINVAL, "PDU without its data segment");

	if (rsp->opcode == ISCSI_OP_REJECT) {
		/* §11.17: the data segment carries the rejected PDU's header;
		 * a Reject of another PDU (e.g. a NOP-Out) is not ours. Without
		 * that header, assume it is ours: only one request is out. */
		if (rsp->data_len >= ISCSI_BHS_LEN &&
		    ((rsp->data[0] & ISCSI_OPCODE_MASK) != ISCSI_OP_TEXT_REQ ||
		     be32(rsp->data + 16) != ex->itt))
			return ST_STEP_IGNORED;
		return ex_fail(ex, -EPROTO,
			       "target rejected the SendTargets request (reason 0x%02x)",
			       rsp->reject_reason);
	}
	if (rsp->opcode != ISCSI_OP_TEXT_RSP)
		return ex_fail(ex, -EPROTO,
			       "unexpected PDU (opcode 0x%02x) during SendTargets", rsp->opcode);
	if (rsp->itt != ex->itt)
		return ex_fail(ex, -EPROTO,
			       "Text Response for an unknown task tag 0x%08x", rsp->itt);

	bool final = pdu_is_final(rsp);
	bool cont = pdu_is_continue(rsp);
	/* §11.11.2: C=1 means more text follows, which F=1 contradicts. */
	if (final && cont)
		return ex_fail(ex, -EPROTO, "Text Response with both F and C bits set");
	/* §6.1: every key=value pair ends in a NUL, and a sender that cuts
	 * a pair across PDUs sets C=1 (§11.11.2) so the receiver joins the
	 * parts. tgtd does not: it cuts a long SendTargets answer every
	 * MaxRecvDataSegmentLength bytes, mid-pair, on PDUs with F=0 and
	 * C=0 (TTT set, more to fetch). A part that does not end in NUL
	 * cannot be complete text, so a non-final one is taken as
	 * continued whatever its C bit says; a final one has nothing to
	 * join and gets its NUL supplied below. */
	if (!final && !cont && rsp->data_len > 0 && rsp->data[rsp->data_len - 1] != 0)
		cont = true;

	/* §4.2.2.1: ExpCmdSN/MaxCmdSN are taken only when consistent. */
	if (!sn_lt(rsp->max_cmdsn, rsp->exp_cmdsn - 1)) {
		ex->exp_cmdsn = rsp->exp_cmdsn;
		ex->max_cmdsn = rsp->max_cmdsn;
	}
	ex->exp_statsn = rsp->statsn + 1;

	if (++ex->rounds > ST_MAX_ROUNDS)
		return ex_fail(ex, -E2BIG, "SendTargets response spans more than %d PDUs",
			       ST_MAX_ROUNDS);
	int r = text_asm_feed(&ex->data, rsp->data, rsp->data_len);
	if (r == -E2BIG)
		return ex_fail(ex, r, "SendTargets response larger than %u bytes", ST_MAX_BYTES);
	if (r < 0)
		return ex_fail(ex, r, "out of memory");
	if (!cont) {
		/* The logical text data segment ends here (§6.1). Its last NUL
		 * may be missing; supply it so the next segment's first pair
		 * does not run into this one's last. */
		size_t n;
		const uint8_t *d = text_asm_data(&ex->data, &n);
		if (n > 0 && d[n - 1] != 0) {
			static const uint8_t nul = 0;
			r = text_asm_feed(&ex->data, &nul, 1);
			if (r < 0)
				return ex_fail(ex, r, "SendTargets response larger than %u bytes",
					       ST_MAX_BYTES);
		}
	}

	if (!final) {
		/* §11.11.4: F=0 means the target has more to send; it MUST
		 * then give a TTT other than 0xffffffff, which the initiator
		 * echoes in an empty Text Request to ask for the rest. */
		if (rsp->ttt == ISCSI_RESERVED_TAG)
			return ex_fail(ex, -EPROTO,
				       "Text Response with F=0 but no Target Transfer Tag");
		ex_request(ex, rsp->ttt, NULL, 0, ret_req);
		return ST_STEP_SEND;
	}

	size_t n;
	const uint8_t *d = text_asm_data(&ex->data, &n);
	if (ex->ps_off) {
		r = sendtargets_parse(d, n, ret_result, ex->err, sizeof(ex->err));
	} else {
		/* the rest after what st_exchange_digest() took */
		r = parse_pairs(&ex->ps, d, n, ex->err, sizeof(ex->err));
		if (r == 0)
			r = parse_finish(&ex->ps, ex->err, sizeof(ex->err));
		if (r == -ENOMEM)
			errbuf_set(ex->err, sizeof(ex->err), "out of memory");
		if (r == 0) {
			*ret_result = ex->ps.r;
			st_result_init(&ex->ps.r);
		}
	}
	if (r < 0)
		return ex_fail(ex, r, NULL);
	ex->active = false;
	text_asm_reset(&ex->data);
	st_parse_free(&ex->ps);
	return ST_STEP_DONE;
}

void st_exchange_digest(struct st_exchange *ex)
{
	size_t n;

	if (!ex || !ex->active || ex->ps_off)
		return;
	const uint8_t *d = text_asm_data(&ex->data, &n);
	size_t done = ex->ps.done;
	if (n <= done + 1)
		return;
	/* Up to the NUL ending the last whole pair: a NUL after another
	 * NUL may be padding or an empty pair, which only the whole text
	 * tells apart; that is left to the last step. */
	const uint8_t *q = memrchr(d + done, 0, n - done);
	if (!q || q == d + done || q[-1] == 0)
		return;
	char err[ST_ERR_MAX];
	if (parse_pairs(&ex->ps, d, (size_t)(q - d) + 1, err, sizeof(err)) < 0) {
		/* Whatever went wrong, the last step parses the whole text
		 * anew and says so as it always did. */
		st_parse_free(&ex->ps);
		ex->ps_off = true;
	}
}

const char *st_exchange_error(const struct st_exchange *ex)
{
	return ex && ex->err[0] ? ex->err : "no error";
}

void st_exchange_free(struct st_exchange *ex)
{
	if (!ex)
		return;
	text_asm_free(&ex->data);
	st_parse_free(&ex->ps);
	ex->active = false;
}
