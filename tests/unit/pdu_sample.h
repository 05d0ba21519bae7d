/* Shared helpers for the PDU codec tests (test_pdu.c, test_pdu_errors.c). */
#ifndef TESTS_UNIT_PDU_SAMPLE_H
#define TESTS_UNIT_PDU_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pdu.h"

#define N_OPS 18

extern const struct pdu_opts login_opts, ff_opts, all_opts[4];
extern uint8_t wire[4096];
extern const uint8_t payload[21];
extern const uint8_t ahs_ecdb[8];
extern const uint8_t all_ops[N_OPS];

/* Field-by-field equality; AHS and data compared by content. */
bool pdu_same(const struct pdu *a, const struct pdu *b);
/* A PDU of opcode op with every field it has set to a distinct value. */
void sample(uint8_t op, struct pdu *p);
/* Encode p into wire (must succeed); returns the length. */
size_t encode_ok(const struct pdu *p, const struct pdu_opts *o);
/* Decode wire[0..len) expecting want_rc, check ret untouched; the cause. */
enum pdu_error decode_err(size_t len, enum pdu_dir dir, const struct pdu_opts *o, int want_rc);

#endif
