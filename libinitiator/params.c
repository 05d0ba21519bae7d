/* Login key negotiation (RFC 7143 §6.2, §13): offers, answers checked
 * against the result functions, target proposals answered. The key
 * table itself is in params_table.c. See params.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "params_int.h"


/* Per-key progress in one login. */
enum kstate {
	KS_IDLE = 0,    /* not mentioned yet */
	KS_OFFERED,     /* we proposed, no answer yet */
	KS_DONE,        /* settled: answered by the target, or we answered it */
};

struct kslot {
	uint8_t state;
	bool have_value;     /* value holds the outcome (else the default applies) */
	bool target_declared;
	uint32_t offer;      /* what we proposed (bool 0/1, number, list: bit mask) */
	uint32_t value;
};

struct params_nego {
	struct iscsi_params wish;
	enum iscsi_session_type type;
	bool leading;
	struct kslot k[K_COUNT];
	/* Declarations of the target. */
	int32_t tpgt;
	uint32_t target_mrdsl;
	char alias[ISCSI_TARGET_ALIAS_MAX + 1];
	struct text_list answers;
};

static bool is_reserved_value(const char *v)
{
	/* §6.2: these constants are never values proposed for a key. */
	return strcmp(v, "Reject") == 0 || strcmp(v, "Irrelevant") == 0 ||
	       strcmp(v, "NotUnderstood") == 0;
}

/* Parse one value of key d: Yes/No, a number in range, or one list item
 * (index). -EINVAL for syntax, -ERANGE for a number out of lo..hi. */
static int parse_value(const struct param_def *d, const char *s, size_t len, uint32_t *ret)
{
	if (d->type == PT_BOOL) {
		if (len == 3 && strncmp(s, "Yes", 3) == 0)
			*ret = 1;
		else if (len == 2 && strncmp(s, "No", 2) == 0)
			*ret = 0;
		else
			return -EINVAL;
		return 0;
	}
	if (d->type == PT_LIST) {
		for (unsigned i = 0; i < d->n_values; i++)
			if (strlen(d->values[i]) == len && strncmp(d->values[i], s, len) == 0) {
				*ret = i;
				return 0;
			}
		return -EINVAL;
	}
	if (d->type == PT_NUM) {
		char buf[32];
		uint64_t v;

		if (len == 0 || len >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (params_parse_number(buf, &v) < 0)
			return -EINVAL;
		if (v < d->lo || v > d->hi)
			return -ERANGE;
		*ret = (uint32_t)v;
		return 0;
	}
	return -EINVAL;
}

/* Could v be the outcome of the key's result function given our offer?
 * (§6.2.2: selecting a value not admissible is a protocol error.) */
static bool admissible(const struct param_def *d, uint32_t offer, uint32_t v)
{
	switch (d->rule) {
	case PR_MIN:
		return v >= d->lo && v <= offer;
	case PR_MAX:
		return v >= offer && v <= d->hi;
	case PR_OR:
		return offer ? v == 1 : true;
	case PR_AND:
		return offer ? true : v == 0;
	case PR_FIRST:
		return v < 32 && (offer & (1u << v));
	case PR_DECLARE:
		return true;
	}
	return false;
}

static const char *rule_name(enum prule r)
{
	switch (r) {
	case PR_MIN: return "min()";
	case PR_MAX: return "max()";
	case PR_AND: return "AND";
	case PR_OR: return "OR";
	case PR_FIRST: return "a value from our list";
	case PR_DECLARE: return "declaration";
	}
	return "?";
}

/* The digests we accept, as a bit mask over digest_values, and the offer
 * string in our order of preference. */
static uint32_t digest_mask(uint8_t wish)
{
	switch (wish) {
	case ISCSI_DIGEST_CRC32C: return 1u << ISCSI_DIGEST_CRC32C;
	case ISCSI_DIGEST_CRC32C_NONE:
	case ISCSI_DIGEST_NONE_CRC32C: return 3u;
	default: return 1u << ISCSI_DIGEST_NONE;
	}
}

static bool relevant(const struct params_nego *n, const struct param_def *d)
{
	if (n->type == ISCSI_SESSION_DISCOVERY && (d->flags & PF_NOT_DISC))
		return false;
	if (!n->leading && (d->flags & PF_LO))
		return false;
	return true;
}

struct params_nego *params_nego_new(const struct iscsi_params *wish, enum iscsi_session_type type,
				    bool leading)
{
	struct params_nego *n;

	if (!wish || params_validate_wishes(wish, NULL, 0) < 0 ||
	    (type != ISCSI_SESSION_NORMAL && type != ISCSI_SESSION_DISCOVERY)) {
		errno = EINVAL;
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->wish = *wish;
	n->type = type;
	n->leading = leading;
	n->tpgt = -1;
	text_list_init(&n->answers);
	return n;
}

void params_nego_free(struct params_nego *n)
{
	if (!n)
		return;
	text_list_free(&n->answers);
	free(n);
}

/* Our value for key d as a wish (bool 0/1, number, list mask). */
static uint32_t wish_value(const struct params_nego *n, const struct param_def *d, size_t k)
{
	if (k == K_HEADER_DIGEST)
		return digest_mask(n->wish.header_digest);
	if (k == K_DATA_DIGEST)
		return digest_mask(n->wish.data_digest);
	if (k == K_TASK_REPORTING)
		return 1u << ISCSI_TASK_REPORTING_RFC3720;
	return params_get_num(&n->wish, d);
}

int params_nego_offer(struct params_nego *n, struct text_list *out)
{
	for (size_t k = 0; k < K_COUNT; k++) {
		const struct param_def *d = &params_defs[k];
		struct kslot *s = &n->k[k];
		char buf[32];
		const char *v;
		int r;

		if (!(d->flags & PF_OFFER) || s->state != KS_IDLE || !relevant(n, d))
			continue;
		if (k == K_HEADER_DIGEST)
			v = params_digest_name(n->wish.header_digest);
		else if (k == K_DATA_DIGEST)
			v = params_digest_name(n->wish.data_digest);
		else if (d->type == PT_BOOL)
			v = params_get_num(&n->wish, d) ? "Yes" : "No";
		else {
			snprintf(buf, sizeof(buf), "%u", params_get_num(&n->wish, d));
			v = buf;
		}
		r = text_list_add(out, d->name, v);
		if (r < 0)
			return r;
		s->offer = wish_value(n, d, k);
		/* Declarations need no answer (§6.2): settled once sent. */
		s->state = d->rule == PR_DECLARE ? KS_DONE : KS_OFFERED;
	}
	return 0;
}

static int add_answer(struct params_nego *n, const char *key, const char *value)
{
	return text_list_add(&n->answers, key, value);
}

/* A declaration by the target. */
static int receive_declaration(struct params_nego *n, size_t k, const char *v, char *err, size_t errlen)
{
	const struct param_def *d = &params_defs[k];
	struct kslot *s = &n->k[k];
	uint32_t num;

	if (!(d->flags & PF_BY_TARGET))
		return 0; /* an initiator-only declaration: nothing to do with it */
	switch (k) {
	case K_TARGET_ALIAS:
		if (strlen(v) > ISCSI_TARGET_ALIAS_MAX) {
			errbuf_set(err, errlen, "target sent a TargetAlias longer than %d bytes",
				ISCSI_TARGET_ALIAS_MAX);
			return -EPROTO;
		}
		if (s->target_declared && strcmp(n->alias, v) != 0)
			goto redeclared;
		snprintf(n->alias, sizeof(n->alias), "%s", v);
		break;
	case K_TPGT:
	case K_MRDSL:
		if (parse_value(d, v, strlen(v), &num) < 0) {
			errbuf_set(err, errlen, "target declared %s=%.32s, not a number in %u..%u",
				d->name, v, d->lo, d->hi);
			return -EPROTO;
		}
		if (k == K_TPGT) {
			if (s->target_declared && n->tpgt != (int32_t)num)
				goto redeclared;
			n->tpgt = (int32_t)num;
		} else {
			if (s->target_declared && n->target_mrdsl != num)
				goto redeclared;
			n->target_mrdsl = num;
		}
		break;
	default:
		/* TargetAddress outside a redirect carries nothing we use. */
		break;
	}
	s->target_declared = true;
	return 0;

redeclared:
	/* §6.2: a declaration may not change during a login. */
	errbuf_set(err, errlen, "target declared %s twice with different values", d->name);
	return -EPROTO;
}

/* The target answered a key we offered. */
static int receive_answer(struct params_nego *n, size_t k, const char *v, char *err, size_t errlen)
{
	const struct param_def *d = &params_defs[k];
	struct kslot *s = &n->k[k];
	uint32_t num;
	int r;

	if (strcmp(v, "Irrelevant") == 0) {
		/* §6.2: not a failure. We only offer keys relevant to this
		 * session, so the outcome is what an unanswered offer gives:
		 * our offer where it fixes the result alone (AND offered No,
		 * OR offered Yes: ImmediateData=No must not turn into the
		 * default Yes), else the default, which for a list must be
		 * one we accept (a required CRC32C digest must not silently
		 * become None). */
		s->state = KS_DONE;
		s->have_value = false;
		if ((d->rule == PR_AND && s->offer == 0) || (d->rule == PR_OR && s->offer == 1)) {
			s->have_value = true;
			s->value = s->offer;
		} else if (d->type == PT_LIST && !admissible(d, s->offer, d->def)) {
			errbuf_set(err, errlen, "target answered %s=Irrelevant and the default %s is not acceptable",
				d->name, d->values[d->def]);
			return -EPROTO;
		}
		return 0;
	}
	if (strcmp(v, "Reject") == 0 || strcmp(v, "NotUnderstood") == 0) {
		/* §6.2: after Reject the key keeps its default value; fail
		 * when that value is one we could not live with. */
		if (!admissible(d, s->offer, d->def)) {
			errbuf_set(err, errlen, "target answered %s=%s and the default %s is not acceptable",
				d->name, v, d->type == PT_LIST ? d->values[d->def] : "value");
			return -EPROTO;
		}
		s->state = KS_DONE;
		s->have_value = false;
		return 0;
	}
	r = parse_value(d, v, strlen(v), &num);
	if (r == -ERANGE) {
		errbuf_set(err, errlen, "target answered %s=%.32s, outside %u..%u", d->name, v, d->lo, d->hi);
		return -EPROTO;
	}
	if (r < 0) {
		/* §6.2.1: the selection of a value not proposed is a
		 * protocol error. */
		errbuf_set(err, errlen, "target answered %s=%.32s, which is not a value we offered",
			d->name, v);
		return -EPROTO;
	}
	if (!admissible(d, s->offer, num)) {
		errbuf_set(err, errlen, "target answered %s=%.32s, not allowed by %s of our offer",
			d->name, v, rule_name(d->rule));
		return -EPROTO;
	}
	s->state = KS_DONE;
	s->have_value = true;
	s->value = num;
	return 0;
}

/* Our answer to a target proposal for key k; *ret_value is the outcome.
 * Returns the text to send ("Reject" when nothing we support fits). */
static const char *compute_answer(const struct params_nego *n, size_t k, const char *v, uint32_t *ret_value,
				  bool *ret_have, char *buf, size_t buflen)
{
	const struct param_def *d = &params_defs[k];
	uint32_t wish = wish_value(n, d, k), num;

	*ret_have = false;
	if (d->type == PT_LIST) {
		size_t pos = 0, len;
		const char *item;

		/* §6.2.1: the first value of the proposer's list that we
		 * support; values we do not understand are skipped. */
		while (params_next_item(v, &pos, &item, &len) > 0) {
			if (parse_value(d, item, len, &num) == 0 && (wish & (1u << num))) {
				*ret_value = num;
				*ret_have = true;
				return d->values[num];
			}
		}
		return "Reject";
	}
	if (parse_value(d, v, strlen(v), &num) < 0)
		return "Reject"; /* §6.2.2: a value not admissible MAY be answered Reject */
	switch (d->rule) {
	case PR_MIN: num = num < wish ? num : wish; break;
	case PR_MAX: num = num > wish ? num : wish; break;
	case PR_AND: num = num && wish; break;
	case PR_OR: num = num || wish; break;
	default: break;
	}
	*ret_value = num;
	*ret_have = true;
	if (d->type == PT_BOOL)
		return num ? "Yes" : "No";
	snprintf(buf, buflen, "%u", num);
	return buf;
}

/* The target proposed key k (we did not offer it). */
static int receive_proposal(struct params_nego *n, size_t k, const char *v, bool final, char *err,
			    size_t errlen)
{
	const struct param_def *d = &params_defs[k];
	struct kslot *s = &n->k[k];
	const char *ans;
	char buf[32];
	bool have = false, optional = false;
	uint32_t num = 0;

	if (is_reserved_value(v)) {
		/* §6.2: using these constants as proposals is a protocol error. */
		errbuf_set(err, errlen, "target sent %s=%s for a key we did not offer", d->name, v);
		return -EPROTO;
	}
	if (d->type == PT_OBSOLETE) {
		/* §13.25: answer Reject (never NotUnderstood). */
		ans = "Reject";
		optional = true; /* markers stay off either way */
	} else if (d->type == PT_FFPO) {
		ans = "Reject";
		optional = true;
	} else if (!relevant(n, d)) {
		ans = "Irrelevant";
		optional = true;
	} else {
		ans = compute_answer(n, k, v, &num, &have, buf, sizeof(buf));
		/* §6.2.2: an answer is optional when the received value fixes
		 * the outcome alone (AND with No, OR with Yes). */
		if (have && d->type == PT_BOOL &&
		    ((d->rule == PR_AND && strcmp(v, "No") == 0) || (d->rule == PR_OR && strcmp(v, "Yes") == 0)))
			optional = true;
	}
	s->state = KS_DONE;
	s->have_value = have;
	s->value = num;
	if (final) {
		if (optional)
			return 0;
		/* §11.13.6 (RFC 3720 §10.13.6): a response with T=1 must not
		 * hold keys that need an answer within the stage; after the
		 * final response there is no request left to answer in. */
		errbuf_set(err, errlen, "target proposed %s=%.32s in its final login response", d->name, v);
		return -EPROTO;
	}
	return add_answer(n, d->name, ans);
}

int params_nego_receive(struct params_nego *n, const struct text_list *in, unsigned stage, bool final,
			char *err, size_t errlen)
{
	for (size_t i = 0; i < in->n; i++) {
		const char *key = in->kv[i].key, *v = in->kv[i].value;
		int k = params_find_key(key), r;
		const struct param_def *d;
		struct kslot *s;

		if (k < 0) {
			/* §6.2, §13.22: unknown and X-/X#/Z- keys are answered
			 * NotUnderstood; nothing to answer after the final
			 * response, and nothing lost by ignoring them. */
			if (final || is_reserved_value(v))
				continue;
			if (text_find(&n->answers, key))
				continue;
			r = add_answer(n, key, "NotUnderstood");
			if (r < 0)
				return r;
			continue;
		}
		d = &params_defs[k];
		s = &n->k[k];
		if (d->type == PT_SECURITY) {
			if (stage == 0)
				continue; /* login.c's */
			/* §6.3: security keys belong to the security stage. */
			errbuf_set(err, errlen, "target sent %s in the operational stage", key);
			return -EPROTO;
		}
		if (d->rule == PR_DECLARE && d->type != PT_OBSOLETE && d->type != PT_FFPO) {
			r = receive_declaration(n, (size_t)k, v, err, errlen);
		} else if (s->state == KS_OFFERED) {
			r = receive_answer(n, (size_t)k, v, err, errlen);
		} else if (s->state == KS_DONE) {
			uint32_t num;

			/* §6.2: renegotiating a key is not allowed. A repeat of
			 * the settled value is harmless and tolerated. */
			if (s->have_value && parse_value(d, v, strlen(v), &num) == 0 && num == s->value)
				continue;
			errbuf_set(err, errlen, "target negotiated %s a second time (%.32s)", key, v);
			return -EPROTO;
		} else {
			r = receive_proposal(n, (size_t)k, v, final, err, errlen);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

bool params_nego_pending(const struct params_nego *n)
{
	return n->answers.n > 0;
}

int params_nego_answer(struct params_nego *n, struct text_list *out)
{
	for (size_t i = 0; i < n->answers.n; i++) {
		int r = text_list_add(out, n->answers.kv[i].key, n->answers.kv[i].value);

		if (r < 0)
			return r;
	}
	text_list_clear(&n->answers);
	return 0;
}

int params_nego_result(const struct params_nego *n, struct iscsi_params *ret, char *err, size_t errlen)
{
	struct iscsi_params p;

	params_init_defaults(&p);
	for (size_t k = 0; k < K_COUNT; k++) {
		const struct param_def *d = &params_defs[k];
		const struct kslot *s = &n->k[k];

		if (d->off == NOFIELD || d->rule == PR_DECLARE || !relevant(n, d))
			continue;
		if (s->state == KS_DONE && s->have_value) {
			params_put_num(&p, d, s->value);
		} else if (s->state == KS_OFFERED) {
			/* Unanswered offer. §6.2.2: for AND offered No and OR
			 * offered Yes the offer is the outcome. Otherwise the
			 * target runs with the default, which must be one we
			 * accept (this matters for digests). */
			if ((d->rule == PR_AND && s->offer == 0) || (d->rule == PR_OR && s->offer == 1)) {
				params_put_num(&p, d, s->offer);
			} else if (d->type == PT_LIST && !admissible(d, s->offer, d->def)) {
				errbuf_set(err, errlen, "target did not answer %s", d->name);
				return -EPROTO;
			}
		}
	}
	p.max_recv_dsl = n->wish.max_recv_dsl;
	/* What we may send: the target's declaration (§13.12; 8192 when it
	 * declared nothing), capped by MaxXmitDataSegmentLength if set. */
	p.max_xmit_dsl = n->k[K_MRDSL].target_declared ? n->target_mrdsl : 8192;
	if (n->wish.max_xmit_dsl != 0 && n->wish.max_xmit_dsl < p.max_xmit_dsl)
		p.max_xmit_dsl = n->wish.max_xmit_dsl;
	/* §13.14: FirstBurstLength MUST NOT exceed MaxBurstLength. min() on
	 * both can still produce that (target lowered only MaxBurstLength);
	 * a smaller first burst is always safe, so clamp. */
	if (p.first_burst_length > p.max_burst_length)
		p.first_burst_length = p.max_burst_length;
	p.tpgt = n->tpgt;
	snprintf(p.target_alias, sizeof(p.target_alias), "%s", n->alias);
	*ret = p;
	return 0;
}
