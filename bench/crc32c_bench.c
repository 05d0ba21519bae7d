/* CRC32C throughput: the portable slicing-by-8 path against the SSE4.2
 * path, over 64 KiB buffers (and a PDU-sized 8 KiB one). Not a test:
 * prints GB/s (10^9 bytes per second) and the ratio. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "crc32c.h"

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Repeat until at least min_s seconds have passed; return GB/s. */
static double measure(crc_fn fn, const uint8_t *buf, size_t len, double min_s,
		      uint32_t *sink)
{
	size_t iters = 0;
	uint32_t c = 0;
	double t0 = now(), t;

	do {
		for (int i = 0; i < 64; i++)
			c = fn(c, buf, len);
		iters += 64;
		t = now() - t0;
	} while (t < min_s);
	*sink ^= c;
	return (double)iters * (double)len / t / 1e9;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 65536, 8192 };
	double min_s = argc > 1 ? atof(argv[1]) : 1.0;
	uint32_t sink = 0;
	uint8_t *buf = malloc(65536);

	if (!buf)
		return 1;
	for (size_t i = 0; i < 65536; i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	if (crc32c_sw(0, buf, 65536) != crc32c_hw(0, buf, 65536)) {
		fprintf(stderr, "crc32c_bench: implementations disagree\n");
		free(buf);
		return 1;
	}
	printf("crc32c_hw available: %s\n", crc32c_hw_available() ? "yes (SSE4.2)" : "no");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		double sw = measure(crc32c_sw, buf, sizes[i], min_s, &sink);
		double hw = measure(crc32c_hw, buf, sizes[i], min_s, &sink);

		printf("%6zu-byte buffers: sw %6.2f GB/s  hw %6.2f GB/s  hw/sw %5.1fx\n",
		       sizes[i], sw, hw, hw / sw);
	}
	free(buf);
	return sink == 0xdeadbeef ? 2 : 0;   /* keep the results alive */
}
