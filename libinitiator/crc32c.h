/* CRC32C (Castagnoli, reflected, polynomial 0x82F63B78), the iSCSI header
 * and data digest (RFC 7143 §13.1, Appendix B.4).
 *
 * crc32c(0, buf, len) is the standard CRC-32C of buf (initial value and
 * final XOR 0xffffffff are applied inside), e.g. "123456789" -> 0xe3069283.
 * Calls chain: crc32c(crc32c(0, a, n), b, m) == CRC of a followed by b.
 *
 * On the wire the digest is sent least-significant byte first (the B.4
 * example of 32 zero bytes prints "aa 36 91 8a" for the value 0x8a9136aa):
 * use crc32c_put_digest()/crc32c_get_digest().
 */
#ifndef LIBINITIATOR_CRC32C_H
#define LIBINITIATOR_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fastest implementation this CPU has. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

/* Portable slicing-by-8 implementation. */
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);

/* SSE4.2 crc32 instruction; falls back to crc32c_sw() when
 * crc32c_hw_available() is false, so it is always safe to call. */
uint32_t crc32c_hw(uint32_t crc, const void *buf, size_t len);
bool crc32c_hw_available(void);

static inline void crc32c_put_digest(uint8_t out[4], uint32_t crc)
{
	out[0] = (uint8_t)crc;
	out[1] = (uint8_t)(crc >> 8);
	out[2] = (uint8_t)(crc >> 16);
	out[3] = (uint8_t)(crc >> 24);
}

static inline uint32_t crc32c_get_digest(const uint8_t in[4])
{
	return (uint32_t)in[0] | (uint32_t)in[1] << 8 | (uint32_t)in[2] << 16 |
	       (uint32_t)in[3] << 24;
}

#endif
