/* The key table of RFC 7143 §13 and the value syntax: defaults, wishes,
 * digests, numbers. See params.h and params_int.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "errbuf.h"
#include "params_int.h"

static const char *const digest_values[] = { "None", "CRC32C" };
static const char *const task_reporting_values[] = { "RFC3720", "ResponseFence", "FastAbort" };

#define F(field) offsetof(struct iscsi_params, field)
#define BOTH (PF_BY_TARGET | PF_BY_INIT)
#define LO_SW (PF_LO | PF_SESSION)

/* The key table. X-/X#/Z- extension keys and anything else not here are
 * answered NotUnderstood (§6.2, §13.22). */
const struct param_def params_defs[K_COUNT] = {
	/* §13.1 None, CRC32C|None, first in the proposer's order; CO */
	[K_HEADER_DIGEST] = { "HeaderDigest", PT_LIST, PR_FIRST, 0, 1, ISCSI_DIGEST_NONE,
			      F(header_digest), digest_values, 2, BOTH | PF_OFFER },
	[K_DATA_DIGEST] = { "DataDigest", PT_LIST, PR_FIRST, 0, 1, ISCSI_DIGEST_NONE,
			    F(data_digest), digest_values, 2, BOTH | PF_OFFER },
	/* §13.2 1, 1..65535, min(); LO, SW, irrelevant to discovery */
	[K_MAX_CONNECTIONS] = { "MaxConnections", PT_NUM, PR_MIN, 1, 65535, 1,
				F(max_connections), NULL, 0, BOTH | LO_SW | PF_NOT_DISC | PF_OFFER },
	/* §13.3 full feature phase only: never valid in a login */
	[K_SEND_TARGETS] = { "SendTargets", PT_FFPO, PR_DECLARE, 0, 0, 0, NOFIELD, NULL, 0, PF_BY_INIT },
	/* §13.4-13.5 IO, declared by the initiator (login.c sends them) */
	[K_TARGET_NAME] = { "TargetName", PT_STRING, PR_DECLARE, 0, 0, 0, NOFIELD, NULL, 0,
			    PF_BY_INIT | PF_SESSION },
	[K_INITIATOR_NAME] = { "InitiatorName", PT_STRING, PR_DECLARE, 0, 0, 0, NOFIELD, NULL, 0,
			       PF_BY_INIT | PF_SESSION },
	/* §13.6 declared by the target, ALL, up to 255 bytes */
	[K_TARGET_ALIAS] = { "TargetAlias", PT_STRING, PR_DECLARE, 0, 0, 0, NOFIELD, NULL, 0,
			     PF_BY_TARGET | PF_SESSION },
	/* §13.7 declared by the initiator, ALL (login.c sends it) */
	[K_INITIATOR_ALIAS] = { "InitiatorAlias", PT_STRING, PR_DECLARE, 0, 0, 0, NOFIELD, NULL, 0,
				PF_BY_INIT | PF_SESSION },
	/* §13.8 declared by the target; in a login only with a redirect
	 * (login.c reads it there) */
	[K_TARGET_ADDRESS] = { "TargetAddress", PT_STRING, PR_DECLARE, 0, 0, 0, NOFIELD, NULL, 0,
			       PF_BY_TARGET | PF_SESSION },
	/* §13.9 0..65535, declared by the target, IO */
	[K_TPGT] = { "TargetPortalGroupTag", PT_NUM, PR_DECLARE, 0, 65535, 0, NOFIELD, NULL, 0,
		     PF_BY_TARGET | PF_SESSION },
	/* §13.10 Yes, OR; LO, SW, irrelevant to discovery */
	[K_INITIAL_R2T] = { "InitialR2T", PT_BOOL, PR_OR, 0, 1, 1, F(initial_r2t), NULL, 0,
			    BOTH | LO_SW | PF_NOT_DISC | PF_OFFER },
	/* §13.11 Yes, AND; LO, SW, irrelevant to discovery */
	[K_IMMEDIATE_DATA] = { "ImmediateData", PT_BOOL, PR_AND, 0, 1, 1, F(immediate_data), NULL, 0,
			       BOTH | LO_SW | PF_NOT_DISC | PF_OFFER },
	/* §13.12 8192, 512..2^24-1, declarative per direction; CO, ALL */
	[K_MRDSL] = { "MaxRecvDataSegmentLength", PT_NUM, PR_DECLARE, 512, MAX_DSL, 8192,
		      F(max_recv_dsl), NULL, 0, BOTH | PF_OFFER },
	/* §13.13 262144, 512..2^24-1, min(); LO, SW, irrelevant to discovery */
	[K_MAX_BURST] = { "MaxBurstLength", PT_NUM, PR_MIN, 512, MAX_DSL, 262144,
			  F(max_burst_length), NULL, 0, BOTH | LO_SW | PF_NOT_DISC | PF_OFFER },
	/* §13.14 65536, 512..2^24-1, min(), <= MaxBurstLength; LO, SW,
	 * irrelevant to discovery */
	[K_FIRST_BURST] = { "FirstBurstLength", PT_NUM, PR_MIN, 512, MAX_DSL, 65536,
			    F(first_burst_length), NULL, 0, BOTH | LO_SW | PF_NOT_DISC | PF_OFFER },
	/* §13.15 2, 0..3600, max(); LO, SW */
	[K_TIME2WAIT] = { "DefaultTime2Wait", PT_NUM, PR_MAX, 0, 3600, 2,
			  F(default_time2wait), NULL, 0, BOTH | LO_SW | PF_OFFER },
	/* §13.16 20, 0..3600, min(); LO, SW */
	[K_TIME2RETAIN] = { "DefaultTime2Retain", PT_NUM, PR_MIN, 0, 3600, 20,
			    F(default_time2retain), NULL, 0, BOTH | LO_SW | PF_OFFER },
	/* §13.17 1, 1..65535, min(); LO, SW, irrelevant to discovery */
	[K_MAX_R2T] = { "MaxOutstandingR2T", PT_NUM, PR_MIN, 1, 65535, 1,
			F(max_outstanding_r2t), NULL, 0, BOTH | LO_SW | PF_NOT_DISC | PF_OFFER },
	/* §13.18 Yes, OR; LO, SW, irrelevant to discovery */
	[K_PDU_IN_ORDER] = { "DataPDUInOrder", PT_BOOL, PR_OR, 0, 1, 1, F(data_pdu_in_order), NULL, 0,
			     BOTH | LO_SW | PF_NOT_DISC | PF_OFFER },
	/* §13.19 Yes, OR; LO, SW, irrelevant to discovery */
	[K_SEQ_IN_ORDER] = { "DataSequenceInOrder", PT_BOOL, PR_OR, 0, 1, 1,
			     F(data_sequence_in_order), NULL, 0,
			     BOTH | LO_SW | PF_NOT_DISC | PF_OFFER },
	/* §13.20 0, 0..2, min(); LO, SW */
	[K_ERL] = { "ErrorRecoveryLevel", PT_NUM, PR_MIN, 0, 2, 0, F(error_recovery_level), NULL, 0,
		    BOTH | LO_SW | PF_OFFER },
	/* §13.21 Normal, declared by the initiator, LO (login.c sends it) */
	[K_SESSION_TYPE] = { "SessionType", PT_STRING, PR_DECLARE, 0, 0, 0, NOFIELD, NULL, 0,
			     PF_BY_INIT | LO_SW },
	/* §12 security stage only; login.c negotiates them */
	[K_AUTH_METHOD] = { "AuthMethod", PT_SECURITY, PR_FIRST, 0, 0, 0, NOFIELD, NULL, 0, BOTH },
	[K_CHAP_A] = { "CHAP_A", PT_SECURITY, PR_FIRST, 0, 0, 0, NOFIELD, NULL, 0, BOTH },
	[K_CHAP_I] = { "CHAP_I", PT_SECURITY, PR_DECLARE, 0, 0, 0, NOFIELD, NULL, 0, BOTH },
	[K_CHAP_C] = { "CHAP_C", PT_SECURITY, PR_DECLARE, 0, 0, 0, NOFIELD, NULL, 0, BOTH },
	[K_CHAP_N] = { "CHAP_N", PT_SECURITY, PR_DECLARE, 0, 0, 0, NOFIELD, NULL, 0, BOTH },
	[K_CHAP_R] = { "CHAP_R", PT_SECURITY, PR_DECLARE, 0, 0, 0, NOFIELD, NULL, 0, BOTH },
	/* §13.25 obsolete: answer Reject, never NotUnderstood; never offered */
	[K_OF_MARKER] = { "OFMarker", PT_OBSOLETE, PR_AND, 0, 0, 0, NOFIELD, NULL, 0, BOTH },
	[K_IF_MARKER] = { "IFMarker", PT_OBSOLETE, PR_AND, 0, 0, 0, NOFIELD, NULL, 0, BOTH },
	[K_OF_MARK_INT] = { "OFMarkInt", PT_OBSOLETE, PR_DECLARE, 0, 0, 0, NOFIELD, NULL, 0, BOTH },
	[K_IF_MARK_INT] = { "IFMarkInt", PT_OBSOLETE, PR_DECLARE, 0, 0, 0, NOFIELD, NULL, 0, BOTH },
	/* §13.23 RFC3720, list, first acceptable; LO, SW, irrelevant to
	 * discovery. Not offered (open-iscsi does not); answered when the
	 * target proposes it: the kernel data path implements RFC3720 only. */
	[K_TASK_REPORTING] = { "TaskReporting", PT_LIST, PR_FIRST, 0, 2, ISCSI_TASK_REPORTING_RFC3720,
			       F(task_reporting), task_reporting_values, 3,
			       BOTH | LO_SW | PF_NOT_DISC },
	/* §13.24, RFC 7144 §2.1 0, 0..31, min(); LO, SW, irrelevant to discovery.
	 * Not offered; answered when proposed. */
	[K_PROTOCOL_LEVEL] = { "iSCSIProtocolLevel", PT_NUM, PR_MIN, 0, 31, 0, F(protocol_level),
			       NULL, 0, BOTH | LO_SW | PF_NOT_DISC },
};

void params_init_defaults(struct iscsi_params *p)
{
	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < K_COUNT; i++) {
		const struct param_def *d = &params_defs[i];

		if (d->off == NOFIELD)
			continue;
		if (d->type == PT_BOOL)
			*(bool *)((char *)p + d->off) = d->def != 0;
		else if (d->type == PT_NUM)
			*(uint32_t *)((char *)p + d->off) = d->def;
		else if (d->type == PT_LIST)
			*(uint8_t *)((char *)p + d->off) = (uint8_t)d->def;
	}
	p->max_xmit_dsl = 8192;
	p->tpgt = -1;
}

void params_init_wishes(struct iscsi_params *p)
{
	params_init_defaults(p);
	p->max_recv_dsl = 262144;
	p->max_xmit_dsl = 0;
	p->first_burst_length = 262144;
	p->max_burst_length = 16776192;
	p->immediate_data = true;
	p->initial_r2t = false;
	p->header_digest = ISCSI_DIGEST_NONE;
	p->data_digest = ISCSI_DIGEST_NONE;
	p->max_outstanding_r2t = 1;
	p->default_time2wait = 2;
	p->default_time2retain = 0;
	p->error_recovery_level = 0;
	p->max_connections = 1;
	/* RFC 7144 §2.1: 1 is RFC 7143 compliance. Only used when a target
	 * proposes the key. */
	p->protocol_level = 1;
}

uint32_t params_get_num(const struct iscsi_params *p, const struct param_def *d)
{
	if (d->type == PT_BOOL)
		return *(const bool *)((const char *)p + d->off) ? 1 : 0;
	if (d->type == PT_LIST)
		return *(const uint8_t *)((const char *)p + d->off);
	return *(const uint32_t *)((const char *)p + d->off);
}

void params_put_num(struct iscsi_params *p, const struct param_def *d, uint32_t v)
{
	if (d->type == PT_BOOL)
		*(bool *)((char *)p + d->off) = v != 0;
	else if (d->type == PT_LIST)
		*(uint8_t *)((char *)p + d->off) = (uint8_t)v;
	else
		*(uint32_t *)((char *)p + d->off) = v;
}

int params_validate_wishes(const struct iscsi_params *w, char *err, size_t errlen)
{
	if (w->header_digest > ISCSI_DIGEST_NONE_CRC32C || w->data_digest > ISCSI_DIGEST_NONE_CRC32C) {
		errbuf_set(err, errlen, "invalid digest setting");
		return -EINVAL;
	}
	for (size_t i = 0; i < K_COUNT; i++) {
		const struct param_def *d = &params_defs[i];
		uint32_t v;

		if (d->off == NOFIELD || d->type != PT_NUM)
			continue;
		v = params_get_num(w, d);
		if (v < d->lo || v > d->hi) {
			errbuf_set(err, errlen, "%s=%u is outside %u..%u", d->name, v, d->lo, d->hi);
			return -EINVAL;
		}
	}
	if (w->max_xmit_dsl != 0 && (w->max_xmit_dsl < 512 || w->max_xmit_dsl > MAX_DSL)) {
		errbuf_set(err, errlen, "MaxXmitDataSegmentLength=%u is outside 512..%u (or 0)",
			w->max_xmit_dsl, MAX_DSL);
		return -EINVAL;
	}
	if (w->first_burst_length > w->max_burst_length) {
		/* RFC 7143 §13.14: FirstBurstLength MUST NOT exceed MaxBurstLength. */
		errbuf_set(err, errlen, "FirstBurstLength %u exceeds MaxBurstLength %u",
			w->first_burst_length, w->max_burst_length);
		return -EINVAL;
	}
	return 0;
}

static const char *const digest_wish_names[] = {
	[ISCSI_DIGEST_NONE] = "None",
	[ISCSI_DIGEST_CRC32C] = "CRC32C",
	[ISCSI_DIGEST_CRC32C_NONE] = "CRC32C,None",
	[ISCSI_DIGEST_NONE_CRC32C] = "None,CRC32C",
};

const char *params_digest_name(uint8_t d)
{
	return d <= ISCSI_DIGEST_NONE_CRC32C ? digest_wish_names[d] : NULL;
}

/* One list item of s (from *pos up to ',' or the end), blanks trimmed. */
int params_next_item(const char *s, size_t *pos, const char **ret_item, size_t *ret_len)
{
	size_t i = *pos, start, end;

	if (s[i] == '\0')
		return 0;
	end = i;
	while (s[end] != '\0' && s[end] != ',')
		end++;
	*pos = s[end] == ',' ? end + 1 : end;
	start = i;
	while (start < end && (s[start] == ' ' || s[start] == '\t'))
		start++;
	while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t'))
		end--;
	*ret_item = s + start;
	*ret_len = end - start;
	return 1;
}

int params_digest_parse(const char *s, uint8_t *ret)
{
	size_t pos = 0, len, n = 0;
	const char *item;
	int order[2];

	if (!s)
		return -EINVAL;
	while (params_next_item(s, &pos, &item, &len) > 0) {
		int v;

		if (len == 4 && strncasecmp(item, "None", 4) == 0)
			v = ISCSI_DIGEST_NONE;
		else if (len == 6 && strncasecmp(item, "CRC32C", 6) == 0)
			v = ISCSI_DIGEST_CRC32C;
		else
			return -EINVAL;
		if (n == 2 || (n == 1 && order[0] == v))
			return -EINVAL;
		order[n++] = v;
	}
	if (n == 0)
		return -EINVAL;
	if (n == 1)
		*ret = (uint8_t)order[0];
	else
		*ret = order[0] == ISCSI_DIGEST_CRC32C ? ISCSI_DIGEST_CRC32C_NONE : ISCSI_DIGEST_NONE_CRC32C;
	return 0;
}

bool params_key_is_security(const char *key)
{
	for (size_t i = 0; i < K_COUNT; i++)
		if (params_defs[i].type == PT_SECURITY && strcmp(params_defs[i].name, key) == 0)
			return true;
	return false;
}

int params_parse_number(const char *s, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i = 0;

	if (!s || s[0] == '\0')
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		i = 2;
		if (s[i] == '\0')
			return -EINVAL;
		for (; s[i]; i++) {
			unsigned c = (unsigned char)s[i], d;

			if (c >= '0' && c <= '9')
				d = c - '0';
			else if (c >= 'a' && c <= 'f')
				d = c - 'a' + 10;
			else if (c >= 'A' && c <= 'F')
				d = c - 'A' + 10;
			else
				return -EINVAL;
			if (v > (UINT64_MAX >> 4))
				return -EINVAL;
			v = (v << 4) | d;
		}
	} else {
		for (; s[i]; i++) {
			unsigned c = (unsigned char)s[i];

			if (c < '0' || c > '9')
				return -EINVAL;
			if (v > (UINT64_MAX - (c - '0')) / 10)
				return -EINVAL;
			v = v * 10 + (c - '0');
		}
	}
	*ret = v;
	return 0;
}

int params_find_key(const char *name)
{
	for (size_t i = 0; i < K_COUNT; i++)
		if (strcmp(params_defs[i].name, name) == 0)
			return (int)i;
	return -1;
}
