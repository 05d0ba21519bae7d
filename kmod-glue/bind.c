/* Binding a socket to an iface record (see bind.h). */
#include "bind.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "errbuf.h"
#include "errors.h"
#include "sysfs_int.h"

static bool is_set(const char *v)
{
	return v[0] && strcmp(v, "default") != 0;
}

bool bind_iface_wanted(const struct iface_rec *iface)
{
	return iface && (is_set(iface->netdev) || is_set(iface->hwaddress) || is_set(iface->ipaddress));
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "aa:bb:cc:dd:ee:ff" (or '-' between the bytes), nothing more. */
static int mac_parse(const char *s, unsigned char ret[6])
{
	for (int i = 0; i < 6; i++) {
		const char *p = s + 3 * i;
		int hi = hexval(p[0]), lo = hi < 0 ? -1 : hexval(p[1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		if (i < 5 ? p[2] != ':' && p[2] != '-' : p[2] != '\0')
			return -EINVAL;
		ret[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int bind_netdev_by_mac(const char *sysfs_root, const char *mac, char *ret, size_t len)
{
	unsigned char want[6], have[6];
	char dir[PATH_MAX], found[NAME_MAX + 1] = "";
	struct dirent *e;
	int r, n = 0;
	DIR *d;

	if (!mac || mac_parse(mac, want) < 0)
		return -EINVAL;
	r = sysfs_path(dir, sizeof(dir), "%s/class/net", sysfs_root_or_default(sysfs_root));
	if (r < 0)
		return r;
	d = sysfs_opendir(dir);
	if (!d)
		return errno == ENOENT ? -ENODEV : -errno;
	while ((e = readdir(d))) {
		char p[PATH_MAX], addr[64];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		if (sysfs_path(p, sizeof(p), "%s/%s/address", dir, e->d_name) < 0 ||
		    sysfs_read_abs(p, addr, sizeof(addr)) < 0 || mac_parse(addr, have) < 0 ||
		    memcmp(want, have, sizeof(want)) != 0)
			continue;
		if (sysfs_path(p, sizeof(p), "%s/%s/master", dir, e->d_name) == 0 && lstat(p, &st) == 0)
			continue;
		if (n++ == 0)
			snprintf(found, sizeof(found), "%s", e->d_name);
	}
	closedir(d);
	if (n == 0)
		return -ENODEV;
	if (n > 1)
		return -ENOTUNIQ;
	if (strlen(found) >= len)
		return -ENAMETOOLONG;
	memcpy(ret, found, strlen(found) + 1);
	return 0;
}

static const char *iface_name(const struct iface_rec *iface)
{
	return iface->name[0] ? iface->name : "default";
}

static int bind_device(int fd, const struct iface_rec *iface, const char *sysfs_root, char *err, size_t errlen)
{
	char dev[NAME_MAX + 1];
	int r;

	if (is_set(iface->netdev)) {
		snprintf(dev, sizeof(dev), "%s", iface->netdev);
	} else if (is_set(iface->hwaddress)) {
		r = bind_netdev_by_mac(sysfs_root, iface->hwaddress, dev, sizeof(dev));
		if (r == -EINVAL) {
			errbuf_set(err, errlen, "iface %s: invalid hardware address %s", iface_name(iface),
				   iface->hwaddress);
			return -EINVAL;
		}
		if (r == -ENOTUNIQ) {
			errbuf_set(err, errlen,
				   "iface %s: several network interfaces have hardware address %s; "
				   "name one in iface.net_ifacename", iface_name(iface), iface->hwaddress);
			return -EINVAL;
		}
		if (r < 0) {
			errbuf_set(err, errlen, "iface %s: no network interface has hardware address %s",
				   iface_name(iface), iface->hwaddress);
			return -ENODEV;
		}
	} else {
		return 0;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, (socklen_t)strlen(dev) + 1) < 0) {
		r = -errno;
		if (r == -ENODEV)
			errbuf_set(err, errlen, "iface %s: network interface %s does not exist", iface_name(iface),
				   dev);
		else
			errbuf_set(err, errlen, "iface %s: cannot bind to network interface %s: %s",
				   iface_name(iface), dev, strerror(-r));
		return r;
	}
	return 0;
}

static int bind_address(int fd, int family, const struct iface_rec *iface, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_PASSIVE };
	struct addrinfo *ai = NULL;
	int r;

	if (!is_set(iface->ipaddress))
		return 0;
	/* a numeric address: getaddrinfo() does not block here */
	if (getaddrinfo(iface->ipaddress, NULL, &hints, &ai) != 0 || !ai) {
		errbuf_set(err, errlen, "iface %s: %s is not an IP address", iface_name(iface), iface->ipaddress);
		return -EINVAL;
	}
	if (ai->ai_family != family) {
		errbuf_set(err, errlen, "iface %s: local address %s is not an %s address like the portal's",
			   iface_name(iface), iface->ipaddress, family == AF_INET6 ? "IPv6" : "IPv4");
		freeaddrinfo(ai);
		return -EAFNOSUPPORT;
	}
	r = bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ? -errno : 0;
	freeaddrinfo(ai);
	if (r < 0)
		errbuf_set(err, errlen, "iface %s: cannot use local address %s: %s", iface_name(iface),
			   iface->ipaddress, strerror(-r));
	return r;
}

int bind_iface(int fd, int family, const struct iface_rec *iface, const char *sysfs_root, char *err,
	       size_t errlen)
{
	int r;

	if (!bind_iface_wanted(iface))
		return 0;
	r = bind_device(fd, iface, sysfs_root, err, errlen);
	if (r < 0)
		return r;
	return bind_address(fd, family, iface, err, errlen);
}

int bind_iface_hook(void *sysfs_root, int fd, int family, const struct iface_rec *iface, char *err,
		    size_t errlen)
{
	return bind_iface(fd, family, iface, sysfs_root, err, errlen);
}

int bind_exit_code(int err)
{
	switch (err) {
	case 0:
		return 0;
	case -EINVAL:
	case -EAFNOSUPPORT:
		return ISCSI_ERR_INVAL;
	case -EPERM:
	case -EACCES:
		return ISCSI_ERR_ACCESS;
	default:
		return ISCSI_ERR_TRANS;
	}
}

bool bind_error_fatal(int err)
{
	return bind_exit_code(err) != ISCSI_ERR_TRANS;
}
