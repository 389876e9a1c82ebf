/*
 * crc32c.h — CRC-32C (Castagnoli polynomial 0x1EDC6F41, reflected form
 * 0x82F63B78), the checksum used by the transaction log and snapshot files.
 */
#ifndef ZK_CRC32C_H
#define ZK_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * Extends the checksum `crc` over `len` bytes at `buf` and returns the new
 * checksum.  Start a fresh checksum with crc = 0; the usual pre- and
 * post-inversion is applied internally, so calls chain:
 *   crc32c(crc32c(0, a, n), b, m) == crc32c(0, a||b, n+m)
 * and crc32c(0, "123456789", 9) == 0xE3069283.  `buf` is only read and may
 * be NULL when len == 0.  Thread-safe (the tables are built once).
 */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

#endif
