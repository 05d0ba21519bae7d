/* iSCSI text key=value data (RFC 7143 §6.1). See text.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "secmem.h"
#include "text.h"

/* RFC 7143 §6.1 standard-label: letters, digits, dot, minus, plus,
 * commercial at, underscore (a table: every key of a large SendTargets
 * answer is checked). */
static const bool key_chars[256] = {
	['a' ... 'z'] = true, ['A' ... 'Z'] = true, ['0' ... '9'] = true,
	['.'] = true, ['-'] = true, ['+'] = true, ['@'] = true, ['_'] = true,
};

static bool key_char(unsigned char c)
{
	return key_chars[c];
}

int text_key_valid(const char *key, size_t len)
{
	size_t i = 0;

	if (!key || len == 0 || len > TEXT_KEY_MAX)
		return 0;
	/* "X#..." names IANA-registered public extension keys (§13.26). */
	if (len > 2 && key[0] == 'X' && key[1] == '#')
		i = 2;
	for (; i < len; i++)
		if (!key_char((unsigned char)key[i]))
			return 0;
	return 1;
}

/* Whether any of the 8 bytes in x is below 0x20 or is 0x7f: the
 * "has less" and "has zero" word tests (exact for "any"; bytes from
 * 0x80 up never match), 8 bytes of a value per step. */
static bool word_has_ctl(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
	uint64_t del = x ^ (0x7fu * ones);

	return ((((x - 0x20u * ones) & ~x) | ((del - ones) & ~del)) & highs) != 0;
}

int text_value_valid(const char *value, size_t len)
{
	size_t i = 0;

	if (!value || len > TEXT_VALUE_MAX)
		return 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, value + i, sizeof(w));
		if (word_has_ctl(w))
			return 0;
	}
	for (; i < len; i++) {
		unsigned char c = (unsigned char)value[i];
		/* Control characters never appear in any value type of §6.1;
		 * rejecting them keeps terminal output and records safe. */
		if (c < 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

void text_list_init(struct text_list *l)
{
	l->kv = NULL;
	l->n = 0;
	l->cap = 0;
}

static void kv_wipe(struct text_kv *kv)
{
	if (kv->key) {
		explicit_bzero(kv->key, strlen(kv->key));
		free(kv->key);
	}
	if (kv->value) {
		explicit_bzero(kv->value, strlen(kv->value));
		free(kv->value);
	}
	kv->key = NULL;
	kv->value = NULL;
}

void text_list_clear(struct text_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		kv_wipe(&l->kv[i]);
	l->n = 0;
}

void text_list_free(struct text_list *l)
{
	if (!l)
		return;
	text_list_clear(l);
	free(l->kv);
	text_list_init(l);
}

const char *text_find(const struct text_list *l, const char *key)
{
	if (!l || !key)
		return NULL;
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->kv[i].key, key) == 0)
			return l->kv[i].value;
	return NULL;
}

static bool list_has_key(const struct text_list *l, const char *key, size_t klen)
{
	for (size_t i = 0; i < l->n; i++)
		if (strlen(l->kv[i].key) == klen && memcmp(l->kv[i].key, key, klen) == 0)
			return true;
	return false;
}

/* Appends without syntax checks (the callers checked). */
static int list_append(struct text_list *l, const char *key, size_t klen,
		       const char *value, size_t vlen)
{
	if (l->n >= TEXT_MAX_KEYS)
		return -E2BIG;
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		if (ncap > TEXT_MAX_KEYS)
			ncap = TEXT_MAX_KEYS;
		struct text_kv *nkv = realloc(l->kv, ncap * sizeof(*nkv));
		if (!nkv)
			return -ENOMEM;
		l->kv = nkv;
		l->cap = ncap;
	}
	char *k = strndup(key, klen);
	char *v = strndup(value, vlen);
	if (!k || !v) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	l->kv[l->n].key = k;
	l->kv[l->n].value = v;
	l->n++;
	return 0;
}

int text_list_add(struct text_list *l, const char *key, const char *value)
{
	if (!l || !key || !value)
		return -EINVAL;
	size_t klen = strlen(key), vlen = strlen(value);
	if (klen > TEXT_KEY_MAX || vlen > TEXT_VALUE_MAX)
		return -E2BIG;
	if (!text_key_valid(key, klen) || !text_value_valid(value, vlen))
		return -EINVAL;
	if (list_has_key(l, key, klen))
		return -EEXIST;
	return list_append(l, key, klen, value, vlen);
}

int text_encode(const struct text_list *l, uint8_t **ret_buf, size_t *ret_len)
{
	size_t total = 0;

	if (!l || !ret_buf || !ret_len)
		return -EINVAL;
	for (size_t i = 0; i < l->n; i++)
		total += strlen(l->kv[i].key) + 1 + strlen(l->kv[i].value) + 1;
	uint8_t *buf = malloc(total ? total : 1);
	if (!buf)
		return -ENOMEM;
	size_t off = 0;
	for (size_t i = 0; i < l->n; i++) {
		size_t kl = strlen(l->kv[i].key), vl = strlen(l->kv[i].value);
		memcpy(buf + off, l->kv[i].key, kl);
		off += kl;
		buf[off++] = '=';
		memcpy(buf + off, l->kv[i].value, vl);
		off += vl;
		buf[off++] = '\0';
	}
	*ret_buf = buf;
	*ret_len = total;
	return 0;
}

void text_iter_init(struct text_iter *it, const uint8_t *data, size_t len)
{
	it->data = data;
	it->len = data ? len : 0;
	it->off = 0;
}

static bool only_nuls(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

int text_iter_next(struct text_iter *it, struct text_pair *ret)
{
	size_t rem = it->len - it->off;

	if (rem == 0)   /* also covers data == NULL: no pointer arithmetic on it */
		return 0;
	const uint8_t *p = it->data + it->off;
	/* NULs after the last pair are padding, not empty pairs. */
	if (only_nuls(p, rem))
		return 0;
	const uint8_t *nul = memchr(p, '\0', rem);
	size_t plen = nul ? (size_t)(nul - p) : rem;
	if (plen == 0)
		return -EPROTO;   /* empty pair between two pairs */
	/* §6.1: the key is whatever precedes the first '='. */
	const uint8_t *eq = memchr(p, '=', plen);
	if (!eq)
		return -EPROTO;
	size_t klen = (size_t)(eq - p);
	size_t vlen = plen - klen - 1;
	if (!text_key_valid((const char *)p, klen) ||
	    !text_value_valid((const char *)eq + 1, vlen))
		return -EPROTO;
	ret->key = (const char *)p;
	ret->key_len = klen;
	ret->value = (const char *)eq + 1;
	ret->value_len = vlen;
	it->off += plen + (nul ? 1 : 0);
	return 1;
}

int text_parse(const uint8_t *data, size_t len, struct text_list *ret)
{
	struct text_list l;
	struct text_iter it;
	struct text_pair kv;
	int r;

	if (!ret || (!data && len))
		return -EINVAL;
	if (len > TEXT_MAX_BYTES)
		return -E2BIG;
	text_list_init(&l);
	text_iter_init(&it, data, len);
	while ((r = text_iter_next(&it, &kv)) > 0) {
		/* RFC 7143 §6: a key is negotiated at most once (SendTargets
		 * answers, which repeat keys, use text_iter instead). */
		if (list_has_key(&l, kv.key, kv.key_len)) {
			r = -EEXIST;
			break;
		}
		r = list_append(&l, kv.key, kv.key_len, kv.value, kv.value_len);
		if (r < 0)
			break;
	}
	if (r < 0) {
		text_list_free(&l);
		return r;
	}
	*ret = l;
	return 0;
}

void text_asm_init_max(struct text_asm *a, size_t max_bytes)
{
	a->buf = NULL;
	a->len = 0;
	a->cap = 0;
	a->max = (max_bytes == 0 || max_bytes > TEXT_ASM_HARD_MAX) ?
		 TEXT_ASM_HARD_MAX : max_bytes;
	a->plain = false;
}

void text_asm_init_plain(struct text_asm *a, size_t max_bytes)
{
	text_asm_init_max(a, max_bytes);
	a->plain = true;
}

void text_asm_init(struct text_asm *a, size_t max_bytes)
{
	text_asm_init_max(a, (max_bytes == 0 || max_bytes > TEXT_MAX_BYTES) ?
			  TEXT_MAX_BYTES : max_bytes);
}

int text_asm_feed(struct text_asm *a, const uint8_t *data, size_t len)
{
	if (len == 0)
		return 0;
	if (!data)
		return -EINVAL;
	if (len > a->max - a->len)
		return -E2BIG;
	if (a->len + len > a->cap) {
		size_t ncap = a->cap ? a->cap : 1024;
		while (ncap < a->len + len)
			ncap *= 2;
		if (ncap > a->max)
			ncap = a->max;
		/* the data may hold secrets (CHAP) unless plain */
		uint8_t *nbuf = a->plain ? realloc(a->buf, ncap) : secmem_grow(a->buf, a->len, a->cap, ncap);
		if (!nbuf)
			return -ENOMEM;
		a->buf = nbuf;
		a->cap = ncap;
	}
	memcpy(a->buf + a->len, data, len);
	a->len += len;
	return 0;
}

const uint8_t *text_asm_data(const struct text_asm *a, size_t *ret_len)
{
	*ret_len = a->len;
	return a->buf;
}

void text_asm_reset(struct text_asm *a)
{
	if (a->buf && !a->plain)
		explicit_bzero(a->buf, a->len);
	a->len = 0;
}

int text_asm_finish(struct text_asm *a, struct text_list *ret)
{
	int r = text_parse(a->buf, a->len, ret);
	text_asm_reset(a);
	return r;
}

void text_asm_free(struct text_asm *a)
{
	if (!a)
		return;
	if (a->buf) {
		if (!a->plain)
			explicit_bzero(a->buf, a->cap);
		free(a->buf);
	}
	a->buf = NULL;
	a->len = 0;
	a->cap = 0;
}
