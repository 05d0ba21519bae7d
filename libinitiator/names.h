/* iSCSI names (RFC 3720 §3.2.6, RFC 7143 §4.2.7) and portal addresses.
 *
 * Names come from hostile peers (SendTargets, login redirects) and become
 * directory names in the node database, so validation is about safety as
 * much as about syntax: a name that passes name_validate() never contains
 * '/', "..", whitespace, control characters or non-ASCII bytes, is never
 * empty and is at most NAME_MAX_LEN bytes.
 *
 * Accepted forms:
 *   iqn.YYYY-MM.<reversed domain>[:<unique part>]
 *       month 01..12; domain labels of letters, digits and '-';
 *       unique part of letters, digits, '-', '.', ':', '_'.
 *   eui.<16 hex digits>
 *   naa.<16 or 32 hex digits>
 * Uppercase ASCII letters are accepted and kept as they are: RFC 3722 maps
 * them to lowercase for comparison, but real targets (e.g. Synology's
 * "...:DiskStation.Target-1...") announce mixed case and expect to be
 * addressed exactly as announced. '_' in the unique part is accepted for
 * the same reason. The type prefix itself must be lowercase.
 */
#ifndef LIBINITIATOR_NAMES_H
#define LIBINITIATOR_NAMES_H

#include <stddef.h>
#include <stdint.h>

#define NAME_MAX_LEN 223           /* RFC 3720 §3.2.6.1: 223 bytes */
#define PORTAL_DEFAULT_PORT 3260   /* IANA iSCSI port, implied when TargetAddress has none (§13.8) */
#define PORTAL_HOST_MAX 255

/* 0 when name is valid; -EINVAL otherwise with a reason in err (err may be
 * NULL; the text never quotes the name itself, so it is safe to print). */
int name_validate(const char *name, char *err, size_t errlen);

struct portal {
	char host[PORTAL_HOST_MAX + 1]; /* IPv6 without brackets, zone kept ("fe80::1%eth0") */
	uint16_t port;
	int tpgt;                       /* -1 when absent */
	int family;                     /* AF_INET, AF_INET6, AF_UNSPEC for hostname */
};

/* Parses "ip[:port][,tpgt]", "[ipv6][:port][,tpgt]", a bare IPv6 address
 * (no brackets: the whole string before ",tpgt" is the address, as
 * open-iscsi accepts), IPv6 with a zone id ("fe80::1%eth0"), or an RFC 1123
 * host name. Port 1..65535, default 3260; tpgt 0..65535, -1 when absent.
 * Returns 0, or -EINVAL with a reason in err; ret untouched on failure. */
int portal_parse(const char *s, struct portal *ret, char *err, size_t errlen);

/* open-iscsi's printing: "192.0.2.1:3260,1", "[fd00::1]:3260,1",
 * "host:3260" (no ",tpgt" when tpgt is -1). 0, or -ENOBUFS when len is too
 * small (buf then holds a truncated string). */
int portal_format(const struct portal *p, char *buf, size_t len);

/* Validation helpers used by portal_parse(), exported for config and
 * command line checks. */
int host_name_valid(const char *s);
int portal_equal(const struct portal *a, const struct portal *b);

/* Text a peer or a file system gave (a name that failed name_validate(),
 * a directory name) made safe to print in a message: bytes outside
 * printable ASCII, '\\' and '"' become \xHH; when out (outlen bytes, at
 * least 8) is too small, the text is cut and ends in "...". out is
 * always NUL-terminated. */
void name_escape(const char *s, size_t len, char *out, size_t outlen);

#endif
