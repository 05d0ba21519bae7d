/* The firmware's network through rtnetlink (see netcfg.h). */
#include "netcfg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "errbuf.h"

/* a request or its ACK: a few hundred bytes */
#define NETCFG_BUF 8192

struct addr {
	int family;
	unsigned char b[16];
	unsigned len;           /* 4 or 16 */
};

static bool addr_parse(const char *s, struct addr *ret)
{
	if (!s || !*s)
		return false;
	if (inet_pton(AF_INET, s, ret->b) == 1) {
		ret->family = AF_INET;
		ret->len = 4;
		return true;
	}
	if (inet_pton(AF_INET6, s, ret->b) == 1) {
		ret->family = AF_INET6;
		ret->len = 16;
		return true;
	}
	return false;
}

static bool same_subnet(const struct addr *a, const struct addr *b, int prefix)
{
	for (int i = 0; i < (int)a->len; i++) {
		int bits = prefix - 8 * i;
		unsigned char m = bits >= 8 ? 0xff : bits <= 0 ? 0 : (unsigned char)(0xff << (8 - bits));
		if ((a->b[i] & m) != (b->b[i] & m))
			return false;
	}
	return true;
}

int netcfg_mask_to_prefix(const char *mask)
{
	struct in_addr a;

	if (!mask || inet_pton(AF_INET, mask, &a) != 1)
		return -EINVAL;
	uint32_t m = ntohl(a.s_addr);
	int n = 0;
	while (n < 32 && (m & (0x80000000u >> n)))
		n++;
	if (n < 32 && (m << n) != 0)
		return -EINVAL;                 /* holes: not a prefix */
	return n;
}

/* One request, answered by an ACK: 0 or the kernel's negative errno. */
static int talk(struct mnl_socket *nl, struct nlmsghdr *h)
{
	char buf[NETCFG_BUF];
	uint32_t seq = h->nlmsg_seq, portid = mnl_socket_get_portid(nl);

	if (mnl_socket_sendto(nl, h, h->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return errno == EINTR ? -EINTR : -errno;
		int r = mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL);
		if (r < 0)
			return -errno;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

static struct nlmsghdr *start(char *buf, uint16_t type, uint16_t flags, uint32_t seq)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	h->nlmsg_seq = seq;
	return h;
}

static int link_up(struct mnl_socket *nl, unsigned idx, uint32_t seq)
{
	char buf[NETCFG_BUF];
	struct nlmsghdr *h = start(buf, RTM_NEWLINK, 0, seq);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)idx;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	return talk(nl, h);
}

static int add_address(struct mnl_socket *nl, unsigned idx, const struct addr *a, int prefix, uint32_t seq)
{
	char buf[NETCFG_BUF];
	struct nlmsghdr *h = start(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, seq);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(h, sizeof(*ifa));

	ifa->ifa_family = (unsigned char)a->family;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = idx;
	mnl_attr_put(h, IFA_LOCAL, a->len, a->b);
	mnl_attr_put(h, IFA_ADDRESS, a->len, a->b);
	return talk(nl, h);
}

static int add_route(struct mnl_socket *nl, unsigned idx, const struct addr *dst, const struct addr *via, uint32_t seq)
{
	char buf[NETCFG_BUF];
	struct nlmsghdr *h = start(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, seq);
	struct rtmsg *rt = mnl_nlmsg_put_extra_header(h, sizeof(*rt));

	rt->rtm_family = (unsigned char)dst->family;
	rt->rtm_dst_len = (unsigned char)(dst->len * 8);
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_protocol = RTPROT_BOOT;
	rt->rtm_scope = via ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rt->rtm_type = RTN_UNICAST;
	mnl_attr_put(h, RTA_DST, dst->len, dst->b);
	mnl_attr_put_u32(h, RTA_OIF, idx);
	if (via)
		mnl_attr_put(h, RTA_GATEWAY, via->len, via->b);
	return talk(nl, h);
}

int netcfg_apply(const struct netcfg_req *r, char *err, size_t errlen)
{
	struct addr local, dst, gw;
	bool have_gw = false;
	unsigned idx;

	if (!r || !r->ifname || !r->ifname[0]) {
		errbuf_set(err, errlen, "no network device named");
		return -EINVAL;
	}
	if (!addr_parse(r->address, &local)) {
		errbuf_set(err, errlen, "%s: no usable address in the firmware entry", r->ifname);
		return -EINVAL;
	}
	if (r->prefix_len < 1 || r->prefix_len > (int)local.len * 8) {
		errbuf_set(err, errlen, "%s: prefix length %d does not suit %s", r->ifname, r->prefix_len, r->address);
		return -EINVAL;
	}
	if (!addr_parse(r->target, &dst) || dst.family != local.family) {
		errbuf_set(err, errlen, "%s: target address %s is not an address of the NIC's family", r->ifname,
			   r->target ? r->target : "(none)");
		return -EINVAL;
	}
	if (r->gateway && r->gateway[0]) {
		if (!addr_parse(r->gateway, &gw) || gw.family != local.family) {
			errbuf_set(err, errlen, "%s: gateway %s is not an address of the NIC's family", r->ifname,
				   r->gateway);
			return -EINVAL;
		}
		have_gw = true;
	}
	bool direct = same_subnet(&local, &dst, r->prefix_len);
	if (!direct && !have_gw) {
		errbuf_set(err, errlen, "%s: target %s is outside %s/%d and the firmware names no gateway", r->ifname,
			   r->target, r->address, r->prefix_len);
		return -ENETUNREACH;
	}
	idx = if_nametoindex(r->ifname);
	if (!idx) {
		errbuf_set(err, errlen, "%s: no such network device", r->ifname);
		return -ENODEV;
	}

	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl) {
		int e = -errno;
		errbuf_set(err, errlen, "cannot open a routing socket: %s", strerror(-e));
		return e;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = -errno;
		mnl_socket_close(nl);
		errbuf_set(err, errlen, "cannot bind a routing socket: %s", strerror(-e));
		return e;
	}
	uint32_t seq = (uint32_t)time(NULL);
	const char *step = "bring the link up";
	int e = link_up(nl, idx, seq);
	if (!e) {
		step = "set its address";
		e = add_address(nl, idx, &local, r->prefix_len, seq + 1);
	}
	if (!e) {
		step = "add the route to the target";
		e = add_route(nl, idx, &dst, direct ? NULL : &gw, seq + 2);
	}
	mnl_socket_close(nl);
	if (e)
		errbuf_set(err, errlen, "%s: cannot %s: %s", r->ifname, step, strerror(-e));
	return e;
}
