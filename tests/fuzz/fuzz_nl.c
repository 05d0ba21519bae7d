/* libFuzzer harness: decode arbitrary bytes as a NETLINK_ISCSI datagram
 * the way the daemon does (iterate, decode stats), and check the
 * invariants the callers rely on. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a private copy, so out-of-bounds reads hit ASan's redzone */
	uint8_t *buf = malloc(size ? size : 1);
	struct nl_msg_iter it;
	struct nl_msg_info m;
	struct nl_stats st;
	int r, guard = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	nl_msg_iter_init(&it, buf, size);
	while ((r = nl_msg_iter_next(&it, &m)) != 0) {
		if (++guard > 100000 || it.off > size)
			abort();                        /* no progress or overrun */
		if (r < 0)
			continue;
		if (m.payload && (m.payload < buf || m.payload + m.payload_len > buf + size))
			abort();
		if (m.kind == NL_MSG_REPLY && m.iferror > 0)
			abort();
		if (m.kind == NL_MSG_STATS) {
			if (nl_stats_decode(&m, &st) != 0)
				abort();                    /* parse validated it */
			for (uint32_t i = 0; i < st.n_custom; i++)
				if (strlen(st.custom[i].desc) > ISCSI_STATS_CUSTOM_DESC_MAX)
					abort();
		}
		(void)nl_type_name(m.type);
		(void)nl_conn_error_name(m.error);
	}
	(void)nl_parse_msg(buf, size, &m);
	free(buf);
	return 0;
}
