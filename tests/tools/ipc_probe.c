/* A test client for iscsid's control socket: the well-behaved requests
 * (through iscsiadm/ipc_client.c) and the badly behaved ones a daemon
 * must survive. Prints "status=N", "message=..." and the answer's fields
 * one per line ("sid=3", "device=sdb"), and exits with the status.
 *
 *   ipc_probe SOCKET hello | state | reload | stop
 *   ipc_probe SOCKET hello-timeout MS HELLO waiting at most MS ms
 *   ipc_probe SOCKET login RECORD_FILE [FLAGS]
 *   ipc_probe SOCKET logout-sid SID | logout-node TARGET [PORTAL [IFACE]]
 *   ipc_probe SOCKET rescan [SID]
 *   ipc_probe SOCKET version N        HELLO with protocol version N
 *   ipc_probe SOCKET oversize         header announcing a 1 MiB payload
 *   ipc_probe SOCKET garbage          bytes without the magic
 *   ipc_probe SOCKET malformed        valid header, broken fields
 *   ipc_probe SOCKET badtype          unknown message type
 *   ipc_probe SOCKET half MS          half a header, then wait MS ms;
 *                                     prints "closed=<ms>" or "open"
 *   ipc_probe SOCKET noread MS        pipelines HELLOs and never reads the
 *                                     answers; after MS ms prints
 *                                     "dropped" or "open"
 *   ipc_probe SOCKET flood N          N connections at once, each HELLO;
 *                                     prints "ok=A busy=B failed=C"
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "ipc.h"
#include "ipc_client.h"

static void print_fields(const struct ipc_fields *f, const char *prefix)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct ipc_field *x = &f->v[i];
		char name[64];
		snprintf(name, sizeof(name), "%s", ipc_tag_name(x->tag));
		for (char *p = name; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
		if (x->tag == IPC_TAG_STATUS || x->tag == IPC_TAG_MESSAGE)
			continue;
		switch (x->type) {
		case IPC_T_U32:
		case IPC_T_U64:
			printf("%s%s=%llu\n", prefix, name, (unsigned long long)x->num);
			break;
		case IPC_T_STR:
			printf("%s%s=%s\n", prefix, name, x->str);
			break;
		case IPC_T_GROUP:
			printf("%s%s\n", prefix, name);
			print_fields(x->group, "  ");
			break;
		}
	}
}

static int report(int r, struct ipc_reply *rep)
{
	printf("status=%d\nmessage=%s\n", rep->status, rep->message);
	if (rep->msg)
		print_fields(&rep->msg->fields, "");
	ipc_reply_free(rep);
	return r;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int raw_connect(const char *path)
{
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("connect");
		exit(ISCSI_ERR_ISCSID_NOTCONN);
	}
	return fd;
}

/* Sends bytes as they are (ignoring EPIPE: the daemon may hang up early),
 * then reads one answer frame, whatever its version. */
static int raw_exchange(const char *path, const uint8_t *buf, size_t len)
{
	int fd = raw_connect(path);
	ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);
	(void)w;
	uint8_t frame[IPC_MAX_FRAME];
	size_t got = 0, want = IPC_HDR_LEN;
	struct ipc_hdr h;
	while (got < want) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 10000) <= 0) {
			printf("status=-1\nmessage=no answer\n");
			return 100;
		}
		ssize_t n = recv(fd, frame + got, want - got, 0);
		if (n <= 0) {
			printf("status=-1\nmessage=connection closed after %zu bytes\n", got);
			return 101;
		}
		got += (size_t)n;
		if (got == IPC_HDR_LEN) {
			if (ipc_hdr_decode(frame, got, &h) < 0 || h.len > IPC_MAX_PAYLOAD) {
				printf("status=-1\nmessage=undecodable answer\n");
				return 102;
			}
			want += h.len;
		}
	}
	close(fd);
	struct ipc_msg *m;
	if (ipc_frame_decode(frame, got, &m) < 0) {
		printf("status=-1\nmessage=undecodable answer\n");
		return 102;
	}
	uint32_t st = 0;
	ipc_get_u32(&m->fields, IPC_TAG_STATUS, &st);
	const char *msg = ipc_get_str(&m->fields, IPC_TAG_MESSAGE);
	printf("status=%u\nmessage=%s\nversion=%u\ntype=%u\nid=%u\n", st, msg ? msg : "", m->hdr.version,
	       m->hdr.type, m->hdr.id);
	ipc_msg_free(m);
	return (int)st;
}

static size_t build(uint16_t type, uint16_t version, uint8_t *out)
{
	struct ipc_hdr h = { .version = version, .type = type, .id = 0x1234 };
	ipc_hdr_encode(&h, out);
	return IPC_HDR_LEN;
}

static int do_half(const char *path, int ms)
{
	int fd = raw_connect(path);
	uint8_t b[IPC_HDR_LEN];
	build(IPC_MSG_HELLO, IPC_PROTO_VERSION, b);
	if (send(fd, b, 10, MSG_NOSIGNAL) != 10)
		return 1;
	int64_t t0 = now_ms();
	for (;;) {
		int left = (int)(t0 + ms - now_ms());
		if (left <= 0)
			break;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, left) > 0) {
			char c;
			if (recv(fd, &c, 1, 0) <= 0) {
				printf("closed=%lld\n", (long long)(now_ms() - t0));
				return 0;
			}
		}
	}
	printf("open\n");
	return 0;
}

static int do_noread(const char *path, int ms)
{
	enum { N = 8192 };
	int fd = raw_connect(path);
	uint8_t *buf = malloc((size_t)N * IPC_HDR_LEN);
	for (int i = 0; i < N; i++)
		build(IPC_MSG_HELLO, IPC_PROTO_VERSION, buf + (size_t)i * IPC_HDR_LEN);
	size_t off = 0, len = (size_t)N * IPC_HDR_LEN;
	int64_t t0 = now_ms();
	/* Push until the daemon stops taking more (its answers pile up). */
	while (off < len && now_ms() - t0 < 2000) {
		ssize_t n = send(fd, buf + off, len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			break;
		else
			usleep(10000);
	}
	free(buf);
	fprintf(stderr, "noread: sent %zu requests\n", off / IPC_HDR_LEN);
	usleep((useconds_t)ms * 1000);
	for (;;) {
		char b[65536];
		ssize_t n = recv(fd, b, sizeof(b), MSG_DONTWAIT);
		if (n > 0)
			continue;
		printf(n == 0 || errno == ECONNRESET ? "dropped\n" : "open\n");
		return 0;
	}
}

static int do_flood(const char *path, int n)
{
	int *fds = calloc((size_t)n, sizeof(int));
	int ok = 0, busy = 0, failed = 0;
	uint8_t req[IPC_HDR_LEN];
	build(IPC_MSG_HELLO, IPC_PROTO_VERSION, req);
	/* all connected before any request goes out */
	for (int i = 0; i < n; i++)
		fds[i] = raw_connect(path);
	for (int i = 0; i < n; i++) {
		ssize_t w = send(fds[i], req, sizeof(req), MSG_NOSIGNAL);
		(void)w;
	}
	for (int i = 0; i < n; i++) {
		uint8_t frame[4096];
		size_t got = 0;
		struct ipc_msg *m = NULL;
		struct ipc_hdr h;
		for (;;) {
			struct pollfd p = { .fd = fds[i], .events = POLLIN };
			if (poll(&p, 1, 10000) <= 0)
				break;
			ssize_t r = recv(fds[i], frame + got, sizeof(frame) - got, 0);
			if (r <= 0)
				break;
			got += (size_t)r;
			if (got >= IPC_HDR_LEN && ipc_hdr_decode(frame, got, &h) == 0 &&
			    got >= IPC_HDR_LEN + (size_t)h.len)
				break;
		}
		uint32_t st = 999;
		if (got >= IPC_HDR_LEN && ipc_hdr_decode(frame, got, &h) == 0 &&
		    got == IPC_HDR_LEN + (size_t)h.len && ipc_frame_decode(frame, got, &m) == 0)
			ipc_get_u32(&m->fields, IPC_TAG_STATUS, &st);
		if (st == 0)
			ok++;
		else if (st == ISCSI_ERR_AGAIN)
			busy++;
		else
			failed++;
		ipc_msg_free(m);
		close(fds[i]);
	}
	free(fds);
	printf("ok=%d busy=%d failed=%d\n", ok, busy, failed);
	return 0;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		perror(path);
		exit(ISCSI_ERR_INVAL);
	}
	char *buf = calloc(1, IPC_MAX_FRAME);
	size_t n = fread(buf, 1, IPC_MAX_FRAME - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	struct ipc_reply rep;
	if (argc < 3) {
		fprintf(stderr, "usage: ipc_probe SOCKET COMMAND [ARGS]\n");
		return 2;
	}
	const char *path = argv[1], *cmd = argv[2];
	const char *a1 = argc > 3 ? argv[3] : NULL;

	if (!strcmp(cmd, "hello"))
		return report(ipc_client_hello(path, &rep), &rep);
	if (!strcmp(cmd, "hello-timeout") && a1) {
		struct ipc_writer w;
		uint8_t *buf;
		size_t len;
		ipc_writer_init(&w, IPC_MSG_HELLO, 0, 77);
		if (ipc_writer_finish(&w, &buf, &len) < 0)
			return 2;
		int r = ipc_client_call(path, buf, len, atoi(a1), &rep);
		free(buf);
		return report(r, &rep);
	}
	if (!strcmp(cmd, "state"))
		return report(ipc_client_session_state(path, &rep), &rep);
	if (!strcmp(cmd, "reload"))
		return report(ipc_client_reload(path, &rep), &rep);
	if (!strcmp(cmd, "stop"))
		return report(ipc_client_stop(path, &rep), &rep);
	if (!strcmp(cmd, "login") && a1) {
		char *rec = slurp(a1);
		uint32_t flags = argc > 4 ? (uint32_t)strtoul(argv[4], NULL, 0) : 0;
		int r = ipc_client_login(path, rec, flags, &rep);
		free(rec);
		return report(r, &rep);
	}
	if (!strcmp(cmd, "logout-sid") && a1)
		return report(ipc_client_logout_sid(path, (uint32_t)strtoul(a1, NULL, 10), &rep), &rep);
	if (!strcmp(cmd, "logout-node") && a1)
		return report(ipc_client_logout_node(path, a1, argc > 4 ? argv[4] : NULL,
						     argc > 5 ? argv[5] : NULL, &rep), &rep);
	if (!strcmp(cmd, "rescan")) {
		uint32_t sid = a1 ? (uint32_t)strtoul(a1, NULL, 10) : 0;
		return report(ipc_client_rescan(path, a1 ? &sid : NULL, &rep), &rep);
	}
	if (!strcmp(cmd, "version") && a1) {
		uint8_t b[IPC_HDR_LEN];
		build(IPC_MSG_HELLO, (uint16_t)atoi(a1), b);
		return raw_exchange(path, b, sizeof(b));
	}
	if (!strcmp(cmd, "oversize")) {
		uint8_t b[IPC_HDR_LEN];
		struct ipc_hdr h = { .version = IPC_PROTO_VERSION, .type = IPC_MSG_LOGIN, .id = 9,
				     .len = 1u << 20 };
		ipc_hdr_encode(&h, b);
		return raw_exchange(path, b, sizeof(b));
	}
	if (!strcmp(cmd, "garbage")) {
		static const uint8_t b[IPC_HDR_LEN] = "GET / HTTP/1.0\r\n\r\n";
		return raw_exchange(path, b, sizeof(b));
	}
	if (!strcmp(cmd, "malformed")) {
		uint8_t b[IPC_HDR_LEN + 7];
		struct ipc_hdr h = { .version = IPC_PROTO_VERSION, .type = IPC_MSG_LOGIN, .id = 5, .len = 7 };
		ipc_hdr_encode(&h, b);
		memcpy(b + IPC_HDR_LEN, (uint8_t[]){ 0, 9, 0, 0, 0, 1, 0 }, 7);   /* SID of 1 byte */
		return raw_exchange(path, b, sizeof(b));
	}
	if (!strcmp(cmd, "badtype")) {
		uint8_t b[IPC_HDR_LEN];
		build(999, IPC_PROTO_VERSION, b);
		return raw_exchange(path, b, sizeof(b));
	}
	if (!strcmp(cmd, "half") && a1)
		return do_half(path, atoi(a1));
	if (!strcmp(cmd, "noread") && a1)
		return do_noread(path, atoi(a1));
	if (!strcmp(cmd, "flood") && a1)
		return do_flood(path, atoi(a1));
	fprintf(stderr, "ipc_probe: unknown command %s\n", cmd);
	return 2;
}
