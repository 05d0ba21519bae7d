/* iSCSI text key=value data (RFC 7143 §6.1).
 *
 * A text data segment is a series of "key=value" pairs, each followed by
 * one NUL byte. Login and Text PDUs carry them; a pair may be split across
 * PDUs that have the C (continue) bit set, so the receiver first assembles
 * the raw bytes of all PDUs of one logical text data segment (LTDS) with
 * struct text_asm and parses the whole at the end.
 *
 * Syntax accepted (what a peer may send):
 *   key    1..TEXT_KEY_MAX bytes of letters, digits, '.', '-', '+', '@',
 *          '_' (the standard-label set of §6.1). The first character is not
 *          required to be a capital letter, because RFC 7144 defines
 *          "iSCSIProtocolLevel". "X#" (IANA-registered public extension
 *          keys, e.g. X#NodeArchitecture, RFC 7143 §13.26) is accepted as
 *          a prefix; "X-" private keys (§13.22) need no special case.
 *   value  0..TEXT_VALUE_MAX bytes; no control characters (0x00-0x1f,
 *          0x7f). Bytes >= 0x80 are allowed because aliases are UTF-8
 *          (§6.1 iSCSI-local-name-value); per-key syntax is the caller's.
 *   The NUL after the last pair may be missing (accepted), and NUL bytes
 *   after the last pair (padding some targets add) are ignored. An empty
 *   pair between two pairs is a syntax error.
 *
 * Keys are case sensitive (§6.1) and text_find() compares exactly.
 */
#ifndef LIBINITIATOR_TEXT_H
#define LIBINITIATOR_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TEXT_KEY_MAX 63            /* RFC 7143 §6.1: key names at most 63 bytes */
#define TEXT_VALUE_MAX 8192        /* hard ceiling; per-key limits are the caller's */
#define TEXT_MAX_KEYS 256          /* per negotiation (cap) */
#define TEXT_MAX_BYTES 65536       /* total bytes assembled across Continue PDUs (cap) */
/* Ceiling for text_asm_init_max(): discovery responses list every target
 * and portal, which can exceed TEXT_MAX_BYTES on large arrays. */
#define TEXT_ASM_HARD_MAX (16u * 1024u * 1024u)

struct text_kv { char *key; char *value; };
struct text_list { struct text_kv *kv; size_t n; size_t cap; };

void text_list_init(struct text_list *l);
/* Frees (and wipes) the contents; l is reusable after text_list_init(). */
void text_list_free(struct text_list *l);
/* Wipes keys and values with explicit_bzero() and frees them; keeps the
 * array, so l stays usable (n == 0). Used for lists that held secrets. */
void text_list_clear(struct text_list *l);
/* Appends a copy of key=value. Returns 0, -EINVAL (NULL, empty key, bad
 * key characters, control characters in value), -E2BIG (key over
 * TEXT_KEY_MAX, value over TEXT_VALUE_MAX, list already TEXT_MAX_KEYS
 * long), -EEXIST (key already present), -ENOMEM. */
int text_list_add(struct text_list *l, const char *key, const char *value);
/* The value of key, or NULL when absent. */
const char *text_find(const struct text_list *l, const char *key);

/* "k=v\0k=v\0...", malloc'd (never NULL on success, even for an empty
 * list, where *ret_len is 0); the caller frees it. */
int text_encode(const struct text_list *l, uint8_t **ret_buf, size_t *ret_len);

/* Parses one complete segment into *ret, which is overwritten on success
 * (its previous contents are not freed: pass an empty or uninitialised
 * list) and untouched on failure. Returns 0, -EPROTO (no '=', empty key,
 * bad key characters, control characters in a value, key or value too
 * long, empty pair), -EEXIST (duplicate key: RFC 7143 §6 forbids
 * repeating a key in one negotiation), -E2BIG (more than TEXT_MAX_KEYS
 * pairs or more than TEXT_MAX_BYTES bytes), -ENOMEM. */
int text_parse(const uint8_t *data, size_t len, struct text_list *ret);

/* Ordered, allocation-free walk over a segment that may repeat keys
 * (SendTargets responses repeat TargetName and TargetAddress). Pointers
 * refer into the data; key and value are NOT NUL-terminated in general
 * (use the lengths). The same syntax rules as text_parse() apply. */
struct text_pair {
	const char *key;
	size_t key_len;
	const char *value;
	size_t value_len;
};
struct text_iter { const uint8_t *data; size_t len; size_t off; };
void text_iter_init(struct text_iter *it, const uint8_t *data, size_t len);
/* 1 and *ret filled with the next pair, 0 at the end, -EPROTO on bad
 * syntax (the iterator then stays at the bad pair). */
int text_iter_next(struct text_iter *it, struct text_pair *ret);

/* Character class checks, exported for callers that build keys/values. */
int text_key_valid(const char *key, size_t len);
int text_value_valid(const char *value, size_t len);

/* Assembly across Continue (C-bit) PDUs (RFC 7143 §11.10.2, §11.13.2): a
 * key=value pair may be split across PDUs. */
struct text_asm {
	uint8_t *buf;
	size_t len;
	size_t cap;
	size_t max;
	bool plain;        /* holds no secret: not wiped (text_asm_init_plain) */
};
/* max_bytes <= TEXT_MAX_BYTES (larger or 0 means TEXT_MAX_BYTES). */
void text_asm_init(struct text_asm *a, size_t max_bytes);
/* Like text_asm_init() with a ceiling up to TEXT_ASM_HARD_MAX, for
 * segments that are walked with text_iter rather than text_parse. */
void text_asm_init_max(struct text_asm *a, size_t max_bytes);
/* Like text_asm_init_max(), for text that holds no secret (a SendTargets
 * answer: target names and addresses): it grows with realloc() and is
 * freed without wiping, which for a 1000-target answer saves copying
 * and clearing every intermediate buffer. */
void text_asm_init_plain(struct text_asm *a, size_t max_bytes);
/* Appends raw bytes. -E2BIG past max (nothing appended), -ENOMEM. */
int text_asm_feed(struct text_asm *a, const uint8_t *data, size_t len);
/* Parses all assembled bytes with text_parse(), then resets (also on
 * failure, so the next LTDS starts empty). */
int text_asm_finish(struct text_asm *a, struct text_list *ret);
/* The bytes assembled so far (borrowed; valid until the next feed, reset
 * or free). */
const uint8_t *text_asm_data(const struct text_asm *a, size_t *ret_len);
/* Wipes and empties the buffer, keeping the limit. */
void text_asm_reset(struct text_asm *a);
/* Wipes and frees; a is reusable after text_asm_init(). NULL is a no-op. */
void text_asm_free(struct text_asm *a);

#endif
