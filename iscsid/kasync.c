/* Async Messages and Logout Responses from the target (kasync.h). */
#include <errno.h>
#include <stdbool.h>

#include "kasync.h"
#include "pdu.h"

static unsigned cap_t2w(unsigned v)
{
	return v > KASYNC_T2W_MAX ? KASYNC_T2W_MAX : v;
}

/* The data of a SCSI Async Event: SenseLength (2 bytes), then the sense
 * data in fixed (response code 0x70/0x71: ASC at 12) or descriptor
 * format (0x72/0x73: ASC at 2) (SPC-4 4.5). */
static bool sense_luns_changed(const uint8_t *d, size_t len)
{
	if (!d || len < 2)
		return false;
	size_t sl = (size_t)d[0] << 8 | d[1];
	const uint8_t *s = d + 2;
	if (sl > len - 2)
		sl = len - 2;
	if (sl < 1)
		return false;
	unsigned code = s[0] & 0x7f;
	size_t at;
	if (code == 0x70 || code == 0x71)
		at = 12;
	else if (code == 0x72 || code == 0x73)
		at = 2;
	else
		return false;
	/* 3F/0E: REPORTED LUNS DATA HAS CHANGED */
	return sl > at + 1 && s[at] == 0x3f && s[at + 1] == 0x0e;
}

int kasync_parse(const uint8_t *pdu, size_t len, struct kasync *ret)
{
	struct pdu p;
	if (!pdu || len < ISCSI_BHS_LEN ||
	    pdu_decode_split(pdu, pdu + ISCSI_BHS_LEN, len - ISCSI_BHS_LEN, PDU_DIR_TO_INITIATOR, NULL, &p, NULL) < 0 ||
	    p.opcode != ISCSI_OP_ASYNC_MSG)
		return -EPROTO;
	struct kasync a = { .action = KASYNC_IGNORE, .event = p.async_event };
	switch (p.async_event) {
	case ISCSI_ASYNC_SCSI_EVENT:
		if (sense_luns_changed(p.data, p.data_len))
			a.action = KASYNC_RESCAN;
		break;
	case ISCSI_ASYNC_LOGOUT_REQUEST:
		a.action = KASYNC_LOGOUT;
		break;
	case ISCSI_ASYNC_DROP_CONNECTION:
	case ISCSI_ASYNC_DROP_ALL:
		/* Parameter2: Time2Wait, Parameter3: Time2Retain */
		a.action = KASYNC_DROPPING;
		a.time2wait = cap_t2w(p.async_param[1]);
		break;
	case ISCSI_ASYNC_NEGOTIATE:
		a.action = KASYNC_RENEGOTIATE;
		break;
	default:
		break;
	}
	*ret = a;
	return 0;
}

int kasync_logout_rsp(const uint8_t *pdu, size_t len, uint8_t *ret_response, unsigned *ret_time2wait)
{
	struct pdu p;
	if (!pdu || len < ISCSI_BHS_LEN ||
	    pdu_decode_split(pdu, pdu + ISCSI_BHS_LEN, len - ISCSI_BHS_LEN, PDU_DIR_TO_INITIATOR, NULL, &p, NULL) < 0 ||
	    p.opcode != ISCSI_OP_LOGOUT_RSP)
		return -EPROTO;
	*ret_response = p.response;
	*ret_time2wait = cap_t2w(p.time2wait);
	return 0;
}
