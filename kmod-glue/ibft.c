/* Reading the iSCSI Boot Firmware Table from sysfs (see ibft.h). The
 * keys it becomes and the login records are in ibft_rec.c. */
#include "ibft.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bind.h"
#include "names.h"
#include "sysfs_int.h"

/* One entry (initiator, ethernetN, targetN) being read. */
struct rd {
	char dir[PATH_MAX];             /* absolute path of the entry */
	struct rec_diags *d;
	int fatal;                      /* -EACCES, -ENOMEM ...: stop everything */
	bool bad;                       /* a required value is missing or wrong */
};

/* OPTIONAL: absent is fine, a bad value is dropped. STRICT: absent is
 * fine, a bad value spoils the entry (CHAP settings: a login with part of
 * them could fail or reach the wrong target). REQUIRED: must be there. */
enum need { OPTIONAL, STRICT, REQUIRED };

static void diag(struct rd *e, enum rec_diag_level lvl, const char *attr, const char *why, const char *then)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", e->dir, attr);
	rec_diags_add(e->d, lvl, path, 0, "%s%s", why, then);
}

/* A value that is wrong: a required one spoils the entry, an optional one
 * is dropped. Either way it is shown: firmware should not say such things. */
static int reject(struct rd *e, enum need need, const char *attr, const char *why)
{
	if (need != OPTIONAL) {
		e->bad = true;
		diag(e, REC_DIAG_ERROR, attr, why, "; the entry is left out");
	} else {
		diag(e, REC_DIAG_ERROR, attr, why, "; ignored");
	}
	return -EINVAL;
}

/* Reads one attribute. 0 with the value, -ENOENT when absent (an error
 * for a required one), -EINVAL when unusable, or a fatal error. */
static int get(struct rd *e, enum need need, const char *attr, char *buf, size_t cap)
{
	char path[PATH_MAX];
	int r = sysfs_path(path, sizeof(path), "%s/%s", e->dir, attr);

	struct stat st;

	buf[0] = '\0';
	/* a constructed tree may hold anything: a FIFO would block the read */
	if (r == 0 && stat(path, &st) < 0)
		r = -errno;
	else if (r == 0 && !S_ISREG(st.st_mode))
		return reject(e, need, attr, "not a regular file");
	if (r == 0)
		r = sysfs_read_abs(path, buf, cap);
	switch (r) {
	case 0:
		return 0;
	case -ENOENT:
	case -ENODATA:
		buf[0] = '\0';
		if (need == REQUIRED) {
			e->bad = true;
			diag(e, REC_DIAG_ERROR, attr, "missing", "; the entry is left out");
		}
		return -ENOENT;
	case -EOVERFLOW:
		buf[0] = '\0';
		return reject(e, need, attr, "value too long");
	case -EACCES:
	case -EPERM:
	case -ENOMEM:
		e->fatal = r;
		diag(e, REC_DIAG_ERROR, attr, strerror(-r), "");
		return r;
	default:
		buf[0] = '\0';
		return reject(e, need, attr, strerror(-r));
	}
}

/* UTF-8 (no overlong forms, surrogates or values past U+10FFFF) without
 * control characters: text that prints as it is. */
static bool text_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned c = *p, n, v;
		if (c < 0x20 || c == 0x7f)
			return false;
		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			v = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			v = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			v = c & 0x07;
		} else {
			return false;
		}
		for (unsigned i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			v = v << 6 | (p[i] & 0x3f);
		}
		if ((n == 2 && (v < 0x800 || (v >= 0xd800 && v <= 0xdfff))) || (n == 3 && (v < 0x10000 || v > 0x10ffff)))
			return false;
		if (v >= 0x80 && v < 0xa0)          /* C1 controls */
			return false;
		p += n + 1;
	}
	return true;
}

static int get_text(struct rd *e, enum need need, const char *attr, char *buf, size_t cap)
{
	int r = get(e, need, attr, buf, cap);

	if (r == 0 && !text_ok(buf)) {
		buf[0] = '\0';
		return reject(e, need, attr, "not printable UTF-8 text");
	}
	return r;
}

/* Like get_text() for CHAP secrets: the reason never shows the value. */
static int get_secret(struct rd *e, enum need need, const char *attr, char *buf, size_t cap)
{
	int r = get(e, need, attr, buf, cap);

	if (r == 0 && !text_ok(buf)) {
		explicit_bzero(buf, cap);
		return reject(e, need, attr, "not printable UTF-8 text");
	}
	return r;
}

static int get_int(struct rd *e, enum need need, const char *attr, long lo, long hi, int *ret)
{
	char buf[32];
	uint32_t v;
	int r = get(e, need, attr, buf, sizeof(buf));

	if (r)
		return r;
	if (sysfs_parse_u32(buf, &v) < 0 || v < (unsigned long)lo || v > (unsigned long)hi) {
		char why[80];
		snprintf(why, sizeof(why), "not a number from %ld to %ld", lo, hi);
		return reject(e, need, attr, why);
	}
	*ret = (int)v;
	return 0;
}

static int get_addr(struct rd *e, enum need need, const char *attr, char *buf, size_t cap)
{
	unsigned char bin[16];
	int r = get(e, need, attr, buf, cap);

	if (r)
		return r;
	if (inet_pton(AF_INET, buf, bin) != 1 && inet_pton(AF_INET6, buf, bin) != 1) {
		buf[0] = '\0';
		return reject(e, need, attr, "not an IPv4 or IPv6 address");
	}
	return 0;
}

static int hexdigit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* aa:bb:cc:dd:ee:ff, kept in lower case. */
static int get_mac(struct rd *e, enum need need, const char *attr, char *buf, size_t cap)
{
	char v[32];
	int r = get(e, need, attr, v, sizeof(v));

	if (r)
		return r;
	bool ok = strlen(v) == 17;
	for (int i = 0; ok && i < 17; i++)
		ok = i % 3 == 2 ? v[i] == ':' : hexdigit(v[i]) >= 0;
	if (!ok || cap < 18)
		return reject(e, need, attr, "not a MAC address (aa:bb:cc:dd:ee:ff)");
	for (int i = 0; i < 17; i++)
		buf[i] = (char)(v[i] >= 'A' && v[i] <= 'F' ? v[i] - 'A' + 'a' : v[i]);
	buf[17] = '\0';
	return 0;
}

/* ---- entries ---- */

static int open_entry(struct rd *e, const char *base, const char *name, struct rec_diags *d)
{
	memset(e, 0, sizeof(*e));
	e->d = d;
	return sysfs_path(e->dir, sizeof(e->dir), "%s/%s", base, name);
}

/* A network device name found in sysfs: what the kernel allows. */
static bool ifname_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || (unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* The NIC's device through its `device` link: device/net/<name> (or the
 * older device/net:<name>). The first in name order, for a stable answer. */
static bool netdev_from_link(const struct rd *e, char *ret, size_t len)
{
	char path[PATH_MAX], best[NAME_MAX + 1] = "";
	const char *subdirs[] = { "device/net", "device" };

	for (int k = 0; k < 2 && !best[0]; k++) {
		if (sysfs_path(path, sizeof(path), "%s/%s", e->dir, subdirs[k]) < 0)
			continue;
		DIR *d = sysfs_opendir(path);
		if (!d)
			continue;
		struct dirent *de;
		while ((de = readdir(d))) {
			const char *n = de->d_name;
			if (k == 1) {
				if (strncmp(n, "net:", 4))
					continue;
				n += 4;
			}
			if (ifname_ok(n) && (!best[0] || strcmp(n, best) < 0))
				snprintf(best, sizeof(best), "%s", n);
		}
		closedir(d);
	}
	if (!best[0] || strlen(best) >= len)
		return false;
	memcpy(ret, best, strlen(best) + 1);
	return true;
}

static void read_nic(const char *root, struct rd *e, struct ibft_nic *n)
{
	memset(n, 0, sizeof(*n));
	n->origin = n->vlan = -1;
	if (get_int(e, REQUIRED, "index", 0, IBFT_MAX_INDEX, &n->index) == 0 &&
	    get_int(e, REQUIRED, "flags", 0, 255, &n->flags) == 0 && n->flags == 0) {
		/* an entry the firmware did not fill in */
		e->bad = true;
		rec_diags_add(e->d, REC_DIAG_WARNING, e->dir, 0, "flags 0: not a valid NIC entry; left out");
		return;
	}
	if (e->fatal || e->bad)
		return;
	(void)get_mac(e, REQUIRED, "mac", n->mac, sizeof(n->mac));
	(void)get_addr(e, OPTIONAL, "ip-addr", n->ipaddr, sizeof(n->ipaddr));
	(void)get_int(e, OPTIONAL, "prefix-len", 0, 128, &n->prefix_len);
	(void)get_addr(e, OPTIONAL, "subnet-mask", n->subnet_mask, sizeof(n->subnet_mask));
	(void)get_int(e, OPTIONAL, "origin", 0, 255, &n->origin);
	(void)get_addr(e, OPTIONAL, "gateway", n->gateway, sizeof(n->gateway));
	(void)get_addr(e, OPTIONAL, "primary-dns", n->primary_dns, sizeof(n->primary_dns));
	(void)get_addr(e, OPTIONAL, "secondary-dns", n->secondary_dns, sizeof(n->secondary_dns));
	(void)get_addr(e, OPTIONAL, "dhcp", n->dhcp, sizeof(n->dhcp));
	(void)get_int(e, OPTIONAL, "vlan", 0, 65535, &n->vlan);
	(void)get_text(e, OPTIONAL, "hostname", n->hostname, sizeof(n->hostname));
	if (e->fatal || e->bad)
		return;
	if (!netdev_from_link(e, n->netdev, sizeof(n->netdev))) {
		int r = bind_netdev_by_mac(root, n->mac, n->netdev, sizeof(n->netdev));
		if (r < 0) {
			n->netdev[0] = '\0';
			rec_diags_add(e->d, REC_DIAG_WARNING, e->dir, 0, "no network device %s MAC address %s",
				      r == -ENOTUNIQ ? "alone has its" : "has its", n->mac);
		}
	}
}

static void read_target(struct rd *e, struct ibft_target *t)
{
	char why[160];

	memset(t, 0, sizeof(*t));
	t->chap_type = -1;
	if (get_int(e, REQUIRED, "index", 0, IBFT_MAX_INDEX, &t->index) == 0 &&
	    get_int(e, REQUIRED, "flags", 0, 255, &t->flags) == 0 && t->flags == 0) {
		e->bad = true;
		rec_diags_add(e->d, REC_DIAG_WARNING, e->dir, 0, "flags 0: not a valid target entry; left out");
		return;
	}
	if (e->fatal || e->bad)
		return;
	if (get(e, REQUIRED, "target-name", t->name, sizeof(t->name)) == 0 &&
	    name_validate(t->name, why, sizeof(why)) < 0) {
		t->name[0] = '\0';
		reject(e, REQUIRED, "target-name", why);
	}
	(void)get_addr(e, REQUIRED, "ip-addr", t->ipaddr, sizeof(t->ipaddr));
	if (get_int(e, STRICT, "port", 0, 65535, &t->port) == -ENOENT || t->port == 0)
		t->port = PORTAL_DEFAULT_PORT;
	(void)get_int(e, REQUIRED, "nic-assoc", 0, IBFT_MAX_INDEX, &t->nic_assoc);
	if (get(e, OPTIONAL, "lun", t->lun, sizeof(t->lun)) == 0) {
		bool ok = t->lun[0] != '\0';
		for (const char *p = t->lun; ok && *p; p++)
			ok = hexdigit(*p) >= 0;
		if (!ok) {
			t->lun[0] = '\0';
			reject(e, OPTIONAL, "lun", "not hexadecimal");
		}
	}
	(void)get_int(e, OPTIONAL, "chap-type", 0, 255, &t->chap_type);
	/* a name without its secret (or the reverse) is kept as it is: the
	 * target's verdict on the login says what is wrong */
	(void)get_text(e, STRICT, "chap-name", t->chap_name, sizeof(t->chap_name));
	(void)get_secret(e, STRICT, "chap-secret", t->chap_secret, sizeof(t->chap_secret));
	(void)get_text(e, STRICT, "rev-chap-name", t->rev_chap_name, sizeof(t->rev_chap_name));
	(void)get_secret(e, STRICT, "rev-chap-name-secret", t->rev_chap_secret, sizeof(t->rev_chap_secret));
}

/* Which ethernetN / targetN exist: bits by N (0..IBFT_MAX_INDEX). */
static int list_entries(const char *dir, bool nics[IBFT_MAX_INDEX + 1], bool tgts[IBFT_MAX_INDEX + 1],
			bool *have_initiator, struct rec_diags *d)
{
	DIR *dp = sysfs_opendir(dir);
	struct dirent *de;

	if (!dp)
		return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -errno;
	while ((de = readdir(dp))) {
		char p[PATH_MAX];
		struct stat st;
		uint32_t n;
		bool *set = NULL;

		if (de->d_name[0] == '.')
			continue;
		if (sysfs_path(p, sizeof(p), "%s/%s", dir, de->d_name) < 0 || stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (!strcmp(de->d_name, "initiator")) {
			*have_initiator = true;
			continue;
		}
		if (sysfs_parse_prefixed(de->d_name, "ethernet", &n) == 0)
			set = nics;
		else if (sysfs_parse_prefixed(de->d_name, "target", &n) == 0)
			set = tgts;
		else
			continue;                   /* acpi_header and the like */
		if (n > IBFT_MAX_INDEX) {
			rec_diags_add(d, REC_DIAG_ERROR, p, 0, "index past %d: not an iBFT entry; ignored", IBFT_MAX_INDEX);
			continue;
		}
		set[n] = true;
	}
	closedir(dp);
	return 0;
}

static size_t count(const bool *v)
{
	size_t n = 0;
	for (int i = 0; i <= IBFT_MAX_INDEX; i++)
		n += v[i];
	return n;
}

int ibft_read(const char *sysfs_root, struct ibft *ret, struct rec_diags *diags)
{
	bool nic_at[IBFT_MAX_INDEX + 1] = { false }, tgt_at[IBFT_MAX_INDEX + 1] = { false };
	bool have_initiator = false;
	char dir[PATH_MAX];
	struct ibft t = { 0 };
	struct rd e;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = sysfs_path(dir, sizeof(dir), "%s/%s", sysfs_root_or_default(sysfs_root), IBFT_DIR);
	if (r < 0)
		return r;
	r = list_entries(dir, nic_at, tgt_at, &have_initiator, diags);
	if (r < 0)
		return r;

	if (!have_initiator) {
		/* open-iscsi reads nothing from a table without one */
		rec_diags_add(diags, REC_DIAG_ERROR, dir, 0, "no initiator entry: the table is incomplete");
		return 0;
	}
	if (open_entry(&e, dir, "initiator", diags) == 0) {
		char why[160];
		if (get(&e, OPTIONAL, "initiator-name", t.initiator_name, sizeof(t.initiator_name)) == 0 &&
		    name_validate(t.initiator_name, why, sizeof(why)) < 0) {
			t.initiator_name[0] = '\0';
			reject(&e, OPTIONAL, "initiator-name", why);
		}
		if (e.fatal)
			return e.fatal;
	}

	size_t nn = count(nic_at), nt = count(tgt_at);
	t.nics = calloc(nn ? nn : 1, sizeof(*t.nics));
	t.targets = calloc(nt ? nt : 1, sizeof(*t.targets));
	if (!t.nics || !t.targets) {
		ibft_free(&t);
		return -ENOMEM;
	}
	for (unsigned i = 0; i <= IBFT_MAX_INDEX; i++) {
		char name[32];
		if (!nic_at[i])
			continue;
		snprintf(name, sizeof(name), "ethernet%u", i);
		if (open_entry(&e, dir, name, diags) < 0)
			continue;
		read_nic(sysfs_root, &e, &t.nics[t.n_nics]);
		if (e.fatal) {
			ibft_free(&t);
			return e.fatal;
		}
		if (e.bad)
			continue;
		t.nics[t.n_nics].dir_index = i;
		t.n_nics++;
	}
	for (unsigned i = 0; i <= IBFT_MAX_INDEX; i++) {
		char name[32];
		if (!tgt_at[i])
			continue;
		snprintf(name, sizeof(name), "target%u", i);
		if (open_entry(&e, dir, name, diags) < 0)
			continue;
		struct ibft_target *tg = &t.targets[t.n_targets];
		read_target(&e, tg);
		if (e.fatal) {
			explicit_bzero(tg, sizeof(*tg));
			ibft_free(&t);
			return e.fatal;
		}
		if (e.bad) {
			explicit_bzero(tg, sizeof(*tg));
			continue;
		}
		size_t k;
		for (k = 0; k < t.n_nics && t.nics[k].index != tg->nic_assoc; k++)
			;
		if (k == t.n_nics) {
			rec_diags_add(diags, REC_DIAG_ERROR, e.dir, 0,
				      "nic-assoc %d names no valid NIC entry; the target is left out", tg->nic_assoc);
			explicit_bzero(tg, sizeof(*tg));
			continue;
		}
		tg->nic = k;
		tg->dir_index = i;
		t.n_targets++;
	}
	*ret = t;
	return 0;
}

void ibft_free(struct ibft *t)
{
	if (!t)
		return;
	if (t->targets)
		explicit_bzero(t->targets, t->n_targets * sizeof(*t->targets));
	free(t->targets);
	free(t->nics);
	memset(t, 0, sizeof(*t));
}
