/* systemd notification and socket activation (see sdnotify.h). */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sdnotify.h"

int sdnotify_send(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t salen;

	if (!path || !*path)
		return 0;
	size_t n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sa.sun_path))
		return -EINVAL;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';   /* abstract namespace; length counts */
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/'));

	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	int r = 0;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int parse_uint(const char *s, unsigned long *ret)
{
	char *end;
	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int sdnotify_listen_fd(int *ret_fd)
{
	unsigned long pid, nfds;
	int r = 0;

	if (parse_uint(getenv("LISTEN_PID"), &pid) < 0 || pid != (unsigned long)getpid() ||
	    parse_uint(getenv("LISTEN_FDS"), &nfds) < 0 || nfds == 0)
		goto out;
	if (nfds > 64)
		nfds = 64;
	/* iscsid serves one socket; others (a unit misconfiguration) are
	 * closed so they do not leak into children. */
	for (unsigned long i = 1; i < nfds; i++)
		close(SDNOTIFY_LISTEN_FDS_START + (int)i);

	int fd = SDNOTIFY_LISTEN_FDS_START, v;
	socklen_t len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) < 0) {
		r = errno == ENOTSOCK ? -ENOTSOCK : -errno;
		goto out;
	}
	if (v != AF_UNIX) {
		r = -EINVAL;
		goto out;
	}
	len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len) < 0 || v != SOCK_STREAM) {
		r = -EINVAL;
		goto out;
	}
	len = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) < 0 || !v) {
		r = -EINVAL;
		goto out;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	*ret_fd = fd;
	r = 1;
out:
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return r;
}
