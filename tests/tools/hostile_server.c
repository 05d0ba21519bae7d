/* The common half of the tests' scripted hostile peers (hostile_server.h). */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "hostile_server.h"

static void usage(const char *prog, const struct hs_mode *modes, size_t nmodes)
{
	fprintf(stderr, "usage: %s -m MODE [-p PORT] [-n COUNT]\nmodes:", prog);
	for (size_t i = 0; i < nmodes; i++)
		fprintf(stderr, " %s", modes[i].name);
	fputc('\n', stderr);
	exit(2);
}

void hs_parse_args(int argc, char **argv, const char *prog, const struct hs_mode *modes, size_t nmodes,
		   struct hs_args *ret)
{
	int have_mode = 0, opt;
	unsigned long port = 0;

	memset(ret, 0, sizeof(*ret));
	while ((opt = getopt(argc, argv, "m:p:n:")) != -1) {
		switch (opt) {
		case 'm':
			for (size_t i = 0; i < nmodes; i++)
				if (!strcmp(optarg, modes[i].name)) {
					ret->mode = modes[i].mode;
					have_mode = 1;
				}
			if (!have_mode)
				usage(prog, modes, nmodes);
			break;
		case 'p':
			port = strtoul(optarg, NULL, 10);
			break;
		case 'n':
			ret->count = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			usage(prog, modes, nmodes);
		}
	}
	if (!have_mode || port > 65535)
		usage(prog, modes, nmodes);
	ret->port = (unsigned)port;
}

int hs_read_full(int fd, void *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = read(fd, (char *)buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

int hs_write_full(int fd, const void *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(fd, (const char *)buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

int hs_run(const char *prog, struct hs_args *a, unsigned alarm_s, void (*serve)(int fd, void *data), void *data)
{
	setvbuf(stderr, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_IGN);   /* children are reaped automatically */
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)a->port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof(sa);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 64) ||
	    getsockname(ls, (struct sockaddr *)&sa, &sl)) {
		fprintf(stderr, "%s: listen: %s\n", prog, strerror(errno));
		return 1;
	}
	a->port = ntohs(sa.sin_port);
	printf("%u\n", a->port);
	fflush(stdout);

	for (;;) {
		int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fprintf(stderr, "%s: accept: %s\n", prog, strerror(errno));
			return 1;
		}
		pid_t pid = fork();
		if (pid == 0) {
			close(ls);
			/* Children must not outlive the server the test kills,
			 * nor run forever if it is never killed. */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			alarm(alarm_s);
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			serve(fd, data);
			close(fd);
			_exit(0);
		}
		close(fd);
	}
}
