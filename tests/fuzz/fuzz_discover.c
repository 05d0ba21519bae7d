/* The discovery driver (libinitiator/discover.c) against a fuzzed
 * target: the input is everything the "target" sends, read by the client
 * as a byte stream (every reconnect after a redirect continues it). The
 * first byte chooses the client's settings: bit 0 one-way CHAP, bit 1
 * mutual CHAP, bit 2 a small MaxRecvDataSegmentLength. Whatever arrives,
 * the client must end with an exit code, never crash, and every target it
 * returns must have a valid name and at least one portal.
 *
 * Seeds: tests/fuzz/corpus/fuzz_discover/ (transcripts recorded from
 * tgtd, plain and with discovery CHAP, behind one settings byte). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "discover.h"
#include "names.h"

struct stream {
	const uint8_t *data;
	size_t len;
	size_t off;
	unsigned connects;
};

static int s_connect(void *ctx, const struct portal *p, const struct iface_rec *iface, uint64_t deadline,
		     char *err, size_t errlen)
{
	struct stream *s = ctx;

	(void)p;
	(void)iface;
	(void)deadline;
	if (++s->connects > 16 || s->off >= s->len) {
		if (errlen)
			err[0] = '\0';
		return -ECONNREFUSED;
	}
	return 3;
}

static int s_write(void *ctx, int h, const void *buf, size_t len, uint64_t deadline)
{
	(void)ctx;
	(void)h;
	(void)buf;
	(void)len;
	(void)deadline;
	return 0;
}

static int s_read(void *ctx, int h, void *buf, size_t len, uint64_t deadline)
{
	struct stream *s = ctx;

	(void)h;
	(void)deadline;
	if (s->len - s->off < len) {
		s->off = s->len;
		return -ECONNRESET;
	}
	memcpy(buf, s->data + s->off, len);
	s->off += len;
	return 0;
}

static void s_close(void *ctx, int h)
{
	(void)ctx;
	(void)h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	struct stream s = { .data = data + 1, .len = size - 1 };
	struct discover_io io = { s_connect, s_write, s_read, s_close, &s };
	struct portal p = { .host = "127.0.0.1", .port = 3260, .tpgt = -1, .family = 2 };
	struct rec_auth auth;
	struct st_result res;
	char msg[DISCOVER_MSG_MAX];

	memset(&auth, 0, sizeof(auth));
	if (flags & 1) {
		strcpy(auth.username, "duser");
		strcpy(auth.password, "dsecret12345");
		if (flags & 2) {
			strcpy(auth.username_in, "tuser");
			strcpy(auth.password_in, "tsecret123456");
		}
		strcpy(auth.chap_algs, (flags & 8) ? "SHA256,MD5" : "MD5");
	}
	struct discover_opts o = {
		.portal = &p,
		.initiator_name = "iqn.2024-01.org.example:fuzz",
		.auth = &auth,
		.login_timeout = 1,
		.active_timeout = 1,
		.max_recv_dlength = (flags & 4) ? 512 : 32768,
		.io = &io,
		.isid_qualifier = 0x123456,   /* the seeds answer ISID 00023d123456 */
	};
	st_result_init(&res);
	int r = discover_sendtargets(&o, &res, msg, sizeof(msg));
	if (r == 0) {
		for (size_t i = 0; i < res.n; i++) {
			if (name_validate(res.targets[i].name, NULL, 0) != 0 || res.targets[i].n_portals == 0)
				abort();
		}
		st_result_free(&res);
	} else if (!msg[0]) {
		abort();   /* every failure says why */
	}
	return 0;
}
