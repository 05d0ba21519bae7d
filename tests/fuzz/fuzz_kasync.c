/* iscsid/kasync.c: Async Messages and Logout Responses as a target sends
 * them (through the kernel's RECV_PDU). Any input: no crash, no UB, and
 * the results stay in range. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "kasync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kasync a;
	uint8_t resp;
	unsigned t2w;

	if (kasync_parse(data, size, &a) == 0) {
		if (a.action > KASYNC_RENEGOTIATE || a.time2wait > KASYNC_T2W_MAX)
			abort();
	}
	if (kasync_logout_rsp(data, size, &resp, &t2w) == 0 && t2w > KASYNC_T2W_MAX)
		abort();
	return 0;
}
