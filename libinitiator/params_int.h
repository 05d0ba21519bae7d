/* Internals of the negotiation table shared by params_table.c (the
 * table, defaults, value syntax) and params.c (the negotiation). */
#ifndef LIBINITIATOR_PARAMS_INT_H
#define LIBINITIATOR_PARAMS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "params.h"

enum ptype {
	PT_BOOL,        /* Yes/No, Boolean result function */
	PT_NUM,         /* numerical value in lo..hi */
	PT_LIST,        /* list of values, the acceptor picks one */
	PT_STRING,      /* declarative text */
	PT_SECURITY,    /* negotiated by login.c (AuthMethod, CHAP_*) */
	PT_OBSOLETE,    /* RFC 3720 markers, obsoleted by RFC 7143 §13.25 */
	PT_FFPO,        /* full feature phase only (SendTargets) */
};

enum prule {
	PR_DECLARE,     /* declarative: the receiver does not answer */
	PR_MIN,
	PR_MAX,
	PR_AND,
	PR_OR,
	PR_FIRST,       /* first value of the proposer's list the acceptor supports */
};

#define PF_LO          0x01u /* leading connection only (LO) */
#define PF_NOT_DISC    0x02u /* Irrelevant when SessionType=Discovery */
#define PF_SESSION     0x04u /* session-wide (SW), else connection (CO) */
#define PF_BY_TARGET   0x08u /* the target may send it */
#define PF_BY_INIT     0x10u /* the initiator may send it */
#define PF_OFFER       0x20u /* we propose it in the operational stage */

struct param_def {
	const char *name;
	enum ptype type;
	enum prule rule;
	uint32_t lo, hi, def;
	size_t off;                     /* field in struct iscsi_params, or NOFIELD */
	const char *const *values;      /* PT_LIST: the values, index = stored value */
	unsigned n_values;
	unsigned flags;
};

#define NOFIELD ((size_t)-1)
#define MAX_DSL 16777215u /* 2^24-1 */

enum key {
	K_HEADER_DIGEST, K_DATA_DIGEST, K_MAX_CONNECTIONS, K_SEND_TARGETS,
	K_TARGET_NAME, K_INITIATOR_NAME, K_TARGET_ALIAS, K_INITIATOR_ALIAS,
	K_TARGET_ADDRESS, K_TPGT, K_INITIAL_R2T, K_IMMEDIATE_DATA, K_MRDSL,
	K_MAX_BURST, K_FIRST_BURST, K_TIME2WAIT, K_TIME2RETAIN, K_MAX_R2T,
	K_PDU_IN_ORDER, K_SEQ_IN_ORDER, K_ERL, K_SESSION_TYPE, K_AUTH_METHOD,
	K_CHAP_A, K_CHAP_I, K_CHAP_C, K_CHAP_N, K_CHAP_R, K_OF_MARKER,
	K_IF_MARKER, K_OF_MARK_INT, K_IF_MARK_INT, K_TASK_REPORTING,
	K_PROTOCOL_LEVEL,
	K_COUNT
};

/* The key table, indexed by enum key. */
extern const struct param_def params_defs[K_COUNT];

/* A key's field of p as a number (bool 0/1, list index, value). */
uint32_t params_get_num(const struct iscsi_params *p, const struct param_def *d);
void params_put_num(struct iscsi_params *p, const struct param_def *d, uint32_t v);
/* The table index of a key name, or -1. */
int params_find_key(const char *name);
/* One item of a comma list s from *pos, blanks trimmed; 0 at the end. */
int params_next_item(const char *s, size_t *pos, const char **ret_item, size_t *ret_len);

#endif
