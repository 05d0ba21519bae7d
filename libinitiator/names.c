/* iSCSI names and portal addresses. See names.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "errbuf.h"
#include "names.h"

#define ZONE_MAX 15   /* IFNAMSIZ - 1: an interface name or index */

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Character classes by table: names are checked byte by byte, a
 * thousand of them per large SendTargets answer. */
enum {
	CC_ALNUM = 1,     /* letters, digits */
	CC_IQN = 2,       /* the unique part of an iqn name: alnum - . : _ */
	CC_NAME = 4,      /* allowed in any name: printable, not ' ' / \ */
	CC_LABEL = 8,     /* in a domain label: alnum - */
};
#define CC_ALL (CC_ALNUM | CC_IQN | CC_NAME | CC_LABEL)
static const unsigned char char_class[256] = {
	['!' ... ','] = CC_NAME, ['-'] = CC_NAME | CC_IQN | CC_LABEL, ['.'] = CC_NAME | CC_IQN,
	['0' ... '9'] = CC_ALL, [':'] = CC_NAME | CC_IQN, [';' ... '@'] = CC_NAME,
	['A' ... 'Z'] = CC_ALL, ['['] = CC_NAME, [']' ... '^'] = CC_NAME,
	['_'] = CC_NAME | CC_IQN, ['`'] = CC_NAME, ['a' ... 'z'] = CC_ALL, ['{' ... '~'] = CC_NAME,
};

static bool is_alnum(char c) { return char_class[(unsigned char)c] & CC_ALNUM; }
static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Domain labels (RFC 1123 §2.1): letters, digits, '-', not starting or
 * ending with '-', 1..63 bytes. The reversed domain of an iqn name is
 * checked with the same rule minus the '-' position rule, because vendors
 * use names such as "com.example-" rarely but harmlessly; an empty label
 * (and so "..") is always rejected. */
static bool labels_valid(const char *s, size_t len, bool strict_hyphen)
{
	size_t start = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && (char_class[(unsigned char)s[i]] & CC_LABEL))
			continue;   /* letter, digit, '-' */
		if (i < len && s[i] != '.')
			return false;
		size_t ll = i - start;
		if (ll == 0 || ll > 63)
			return false;
		if (strict_hyphen && (s[start] == '-' || s[i - 1] == '-'))
			return false;
		start = i + 1;
	}
	return true;
}

static int iqn_validate(const char *name, size_t len, char *err, size_t errlen)
{
	const char *p = name + 4;   /* after "iqn." */
	size_t rem = len - 4;

	/* RFC 3720 §3.2.6.3.1: iqn.yyyy-mm.<reversed domain>[:<unique>]. */
	if (rem < 8 || !is_digit(p[0]) || !is_digit(p[1]) || !is_digit(p[2]) ||
	    !is_digit(p[3]) || p[4] != '-' || !is_digit(p[5]) || !is_digit(p[6])) {
		errbuf_set(err, errlen, "iqn name lacks a yyyy-mm date after \"iqn.\"");
		return -EINVAL;
	}
	int month = (p[5] - '0') * 10 + (p[6] - '0');
	if (month < 1 || month > 12) {
		errbuf_set(err, errlen, "iqn name has an invalid month %02d", month);
		return -EINVAL;
	}
	if (p[7] != '.') {
		errbuf_set(err, errlen, "iqn name lacks '.' after the date");
		return -EINVAL;
	}
	p += 8;
	rem -= 8;
	const char *colon = memchr(p, ':', rem);
	size_t dlen = colon ? (size_t)(colon - p) : rem;
	if (!labels_valid(p, dlen, false)) {
		errbuf_set(err, errlen, "iqn name has an invalid naming authority (reversed domain name)");
		return -EINVAL;
	}
	if (colon) {
		for (const char *q = colon + 1; q < name + len; q++) {
			if (!(char_class[(unsigned char)*q] & CC_IQN)) {
				errbuf_set(err, errlen, "iqn name has an invalid character 0x%02x",
					(unsigned char)*q);
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int hex_validate(const char *name, size_t len, const char *type,
			size_t n1, size_t n2, char *err, size_t errlen)
{
	size_t n = len - 4;

	for (size_t i = 4; i < len; i++) {
		if (!is_hex(name[i])) {
			errbuf_set(err, errlen, "%s name must be hexadecimal digits after \"%s.\"",
				type, type);
			return -EINVAL;
		}
	}
	if (n != n1 && n != n2) {
		if (n1 == n2)
			errbuf_set(err, errlen, "%s name must have %zu hex digits, not %zu",
				type, n1, n);
		else
			errbuf_set(err, errlen, "%s name must have %zu or %zu hex digits, not %zu",
				type, n1, n2, n);
		return -EINVAL;
	}
	return 0;
}

int name_validate(const char *name, char *err, size_t errlen)
{
	if (!name || name[0] == '\0') {
		errbuf_set(err, errlen, "empty iSCSI name");
		return -EINVAL;
	}
	size_t len = strnlen(name, NAME_MAX_LEN + 1);
	if (len > NAME_MAX_LEN) {
		errbuf_set(err, errlen, "iSCSI name longer than %d bytes", NAME_MAX_LEN);
		return -EINVAL;
	}
	/* Safety first, whatever the type: the name becomes a path component
	 * and is printed on terminals. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!(char_class[c] & CC_NAME)) {   /* c <= 0x20, c >= 0x7f, '/', '\\' */
			errbuf_set(err, errlen, "iSCSI name contains an invalid character 0x%02x", c);
			return -EINVAL;
		}
	}
	if (strstr(name, "..")) {
		errbuf_set(err, errlen, "iSCSI name contains \"..\"");
		return -EINVAL;
	}
	if (len > 4 && strncmp(name, "iqn.", 4) == 0)
		return iqn_validate(name, len, err, errlen);
	if (len > 4 && strncmp(name, "eui.", 4) == 0)
		return hex_validate(name, len, "eui", 16, 16, err, errlen);
	if (len > 4 && strncmp(name, "naa.", 4) == 0)
		return hex_validate(name, len, "naa", 16, 32, err, errlen);
	errbuf_set(err, errlen, "iSCSI name must start with \"iqn.\", \"eui.\" or \"naa.\"");
	return -EINVAL;
}

int host_name_valid(const char *s)
{
	size_t len = s ? strlen(s) : 0;

	if (len == 0 || len > 254)
		return 0;
	if (s[len - 1] == '.')          /* fully qualified form */
		len--;
	if (len == 0 || len > 253 || !labels_valid(s, len, true))
		return 0;
	/* A name whose last label is all digits is a mistyped IPv4 address
	 * ("192.0.2", "300.1.1.1"), not a host name (RFC 3696 §2). */
	size_t i = len;
	while (i > 0 && s[i - 1] != '.')
		i--;
	for (size_t j = i; j < len; j++)
		if (!is_digit(s[j]))
			return 1;
	return 0;
}

/* Decimal 0..max, 1..5 digits, nothing else. */
static int parse_u16(const char *s, size_t len, unsigned max, unsigned *ret)
{
	unsigned v = 0;

	if (len == 0 || len > 5)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* IPv6 literal with optional "%zone"; stores the canonical text. */
static int ipv6_parse(const char *s, size_t len, char *out, size_t outlen)
{
	char addr[INET6_ADDRSTRLEN + 1];
	unsigned char bin[16];
	const char *pct = memchr(s, '%', len);
	size_t alen = pct ? (size_t)(pct - s) : len;

	if (alen == 0 || alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET6, addr, bin) != 1)
		return -EINVAL;
	if (!inet_ntop(AF_INET6, bin, addr, sizeof(addr)))
		return -EINVAL;
	size_t zlen = 0;
	if (pct) {
		zlen = len - alen - 1;
		if (zlen == 0 || zlen > ZONE_MAX)
			return -EINVAL;
		for (size_t i = 0; i < zlen; i++) {
			char c = pct[1 + i];
			if (!is_alnum(c) && c != '-' && c != '_' && c != '.')
				return -EINVAL;
		}
	}
	if (strlen(addr) + (pct ? 1 + zlen : 0) >= outlen)
		return -EINVAL;
	if (pct)
		snprintf(out, outlen, "%s%%%.*s", addr, (int)zlen, pct + 1);
	else
		snprintf(out, outlen, "%s", addr);
	return 0;
}

int portal_parse(const char *s, struct portal *ret, char *err, size_t errlen)
{
	struct portal p = { .port = PORTAL_DEFAULT_PORT, .tpgt = -1, .family = AF_UNSPEC };
	const char *host, *port = NULL;
	size_t hlen, plen = 0;

	if (!s || !*s) {
		errbuf_set(err, errlen, "empty portal address");
		return -EINVAL;
	}
	size_t len = strnlen(s, 512);
	if (len >= 512) {
		errbuf_set(err, errlen, "portal address too long");
		return -EINVAL;
	}
	/* ",tpgt" is always last and never part of an address. */
	const char *comma = memrchr(s, ',', len);
	if (comma) {
		unsigned t;
		if (parse_u16(comma + 1, len - (size_t)(comma - s) - 1, 65535, &t) < 0) {
			errbuf_set(err, errlen, "invalid portal group tag (0-65535)");
			return -EINVAL;
		}
		p.tpgt = (int)t;
		len = (size_t)(comma - s);
	}
	if (len > 0 && s[0] == '[') {
		const char *rb = memchr(s, ']', len);
		if (!rb) {
			errbuf_set(err, errlen, "missing ']' after IPv6 address");
			return -EINVAL;
		}
		host = s + 1;
		hlen = (size_t)(rb - host);
		size_t after = len - (size_t)(rb - s) - 1;
		if (after > 0) {
			if (rb[1] != ':') {
				errbuf_set(err, errlen, "unexpected text after ']'");
				return -EINVAL;
			}
			port = rb + 2;
			plen = after - 1;
		}
		if (ipv6_parse(host, hlen, p.host, sizeof(p.host)) < 0) {
			errbuf_set(err, errlen, "invalid IPv6 address in brackets");
			return -EINVAL;
		}
		p.family = AF_INET6;
	} else {
		const char *c1 = memchr(s, ':', len);
		const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 - s) - 1) : NULL;
		host = s;
		hlen = len;
		if (c1 && !c2) {
			hlen = (size_t)(c1 - s);
			port = c1 + 1;
			plen = len - hlen - 1;
		}
		if (c2) {
			/* Two or more colons and no brackets: a bare IPv6 address,
			 * whole, with no port (open-iscsi reads it the same way). */
			if (ipv6_parse(host, hlen, p.host, sizeof(p.host)) < 0) {
				errbuf_set(err, errlen, "invalid IPv6 address");
				return -EINVAL;
			}
			p.family = AF_INET6;
		} else {
			char tmp[PORTAL_HOST_MAX + 1];
			unsigned char bin[4];
			if (hlen == 0 || hlen >= sizeof(tmp)) {
				errbuf_set(err, errlen, hlen ? "host name too long" : "empty host");
				return -EINVAL;
			}
			memcpy(tmp, host, hlen);
			tmp[hlen] = '\0';
			if (inet_pton(AF_INET, tmp, bin) == 1) {
				p.family = AF_INET;
			} else if (host_name_valid(tmp)) {
				p.family = AF_UNSPEC;
			} else {
				errbuf_set(err, errlen, "invalid IPv4 address or host name");
				return -EINVAL;
			}
			memcpy(p.host, tmp, hlen + 1);
		}
	}
	if (port) {
		unsigned v;
		if (parse_u16(port, plen, 65535, &v) < 0 || v == 0) {
			errbuf_set(err, errlen, "invalid port (1-65535)");
			return -EINVAL;
		}
		p.port = (uint16_t)v;
	}
	*ret = p;
	return 0;
}

int portal_format(const struct portal *p, char *buf, size_t len)
{
	char tag[16] = "";
	int n;

	if (!p || !buf || len == 0)
		return -EINVAL;
	if (p->tpgt >= 0)
		snprintf(tag, sizeof(tag), ",%d", p->tpgt);
	if (p->family == AF_INET6 || strchr(p->host, ':'))
		n = snprintf(buf, len, "[%s]:%u%s", p->host, (unsigned)p->port, tag);
	else
		n = snprintf(buf, len, "%s:%u%s", p->host, (unsigned)p->port, tag);
	if (n < 0 || (size_t)n >= len)
		return -ENOBUFS;
	return 0;
}

int portal_equal(const struct portal *a, const struct portal *b)
{
	if (a->port != b->port || a->tpgt != b->tpgt || a->family != b->family)
		return 0;
	/* Host names are case-insensitive (RFC 4343); addresses are stored
	 * canonical, so either compare works for them. */
	return strcasecmp(a->host, b->host) == 0;
}

void name_escape(const char *s, size_t len, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, total = 0;

	if (outlen == 0)
		return;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		total += c >= 0x20 && c < 0x7f && c != '\\' && c != '"' ? 1 : 4;
	}
	bool cut = total + 1 > outlen;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		bool plain = c >= 0x20 && c < 0x7f && c != '\\' && c != '"';
		size_t need = plain ? 1 : 4;
		/* room for this byte, the "..." and the NUL */
		if (cut && o + need + 4 > outlen) {
			if (o + 4 <= outlen) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (plain) {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}
