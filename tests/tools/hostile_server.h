/* What the scripted hostile peers of the tests (hostile_target: iSCSI,
 * hostile_isns: iSNS) share: the command line (-m MODE -p PORT -n COUNT),
 * whole reads and writes, and the server around one connection: listen
 * on 127.0.0.1, print the port, one child process per connection. */
#ifndef HOSTILE_SERVER_H
#define HOSTILE_SERVER_H

#include <stddef.h>

struct hs_mode {
	const char *name;
	int mode;
};

struct hs_args {
	int mode;
	unsigned port;          /* asked for (0: any); the bound one after hs_run */
	unsigned count;         /* -n, 0 when not given */
};

/* Parses -m/-p/-n (a mode is required); prints the usage with the mode
 * names and exits 2 on anything else. */
void hs_parse_args(int argc, char **argv, const char *prog, const struct hs_mode *modes, size_t nmodes,
		   struct hs_args *ret);

/* 0, or -1 at EOF or on an error (EINTR retried). */
int hs_read_full(int fd, void *buf, size_t len);
int hs_write_full(int fd, const void *buf, size_t len);

/* Listens on 127.0.0.1:a->port, stores the bound port in a->port, prints
 * it on stdout, then forever: accept, fork, serve(fd, data) in the child
 * (TCP_NODELAY; killed with the server; at most alarm_s seconds), which
 * then exits. Returns 1 only when listening or accepting fails. */
int hs_run(const char *prog, struct hs_args *a, unsigned alarm_s, void (*serve)(int fd, void *data), void *data);

#endif
