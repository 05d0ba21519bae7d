/* Internal: the schema rows behind record.h. Only record*.c and config.c
 * include this. */
#ifndef LIBINITIATOR_RECORD_INT_H
#define LIBINITIATOR_RECORD_INT_H

#include <stddef.h>

#include "record.h"

enum rec_ftype {
	REC_T_STR,      /* char array of .size bytes */
	REC_T_INT,      /* int, range .min...max */
	REC_T_BOOL,     /* bool, "Yes"/"No" */
	REC_T_ENUM,     /* int-sized enum, value i is .words[i] */
	REC_T_IGNORE,   /* legacy key: accepted on load, never stored or printed */
};

enum rec_check {
	REC_C_TEXT,        /* printable, no control characters */
	REC_C_NAME,        /* iSCSI name (names.h) */
	REC_C_HOST,        /* portal address: IP or host name */
	REC_C_IFACE_NAME,
	REC_C_NETDEV,
	REC_C_IPADDR,      /* IPv4 or IPv6 literal */
	REC_C_HWADDR,      /* MAC address */
	REC_C_TRANSPORT,
	REC_C_CHAP_ALGS,
	REC_C_TOKEN,       /* one word of printable ASCII */
};

#define REC_F_SECRET   0x0001u  /* masked unless asked */
#define REC_F_HIDDEN   0x0002u  /* never printed */
#define REC_F_IDENT    0x0004u  /* identifies the record: not updatable */
#define REC_F_NODE_RW  0x0008u  /* iface.* key updatable inside a node record */
#define REC_F_IPV4     0x0010u  /* iface: printed unless the name has "ipv6" */
#define REC_F_IPV6     0x0020u  /* iface: printed only when it has */
#define REC_F_ST       0x0040u  /* discovery: sendtargets records only */
#define REC_F_ISNS     0x0080u  /* discovery: iSNS records only */
#define REC_F_POW2     0x0100u  /* number must be a power of two */
#define REC_F_ZERO_OK  0x0200u  /* 0 allowed besides min..max */

struct rec_field {
	const char *key;
	enum rec_ftype type;
	enum rec_check check;
	unsigned flags;
	size_t offset;
	size_t size;
	int min;
	int max;
	const char *const *words;   /* REC_T_ENUM, NULL-terminated */
};

#define REC_S_NODE_IFACE 0x1u   /* the iface block embedded in a node record */

struct rec_section {
	const struct rec_field *fields;
	size_t n;
	size_t base;                /* offset of the section's struct in the record */
	unsigned flags;
};

struct rec_schema {
	const struct rec_section *sections;
	size_t n;
	size_t extras_offset;       /* struct rec_extras inside the record */
};

const struct rec_schema *rec_schema_get(enum rec_kind kind);

/* Find a key: the row and the absolute offset of its field; NULL if the
 * kind has no such key. *ret_section_flags gets the section's flags. */
const struct rec_field *rec_schema_find(enum rec_kind kind, const char *key, size_t *ret_base,
					unsigned *ret_section_flags);

/* Whether a row is printed for this record (iface IPv4/IPv6 blocks,
 * discovery type blocks, hidden rows). */
int rec_field_visible(enum rec_kind kind, const void *rec, const struct rec_field *f, size_t base);

#endif
