/*
 * crc32c.h — CRC-32C (Castagnoli polynomial 0x1EDC6F41, reflected form
 * 0x82F63B78), the checksum used by the transaction log and snapshot files.
 */
#ifndef ZK_CRC32C_H
#define ZK_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Extends the checksum `crc` over `len` bytes at `buf` and returns the new
 * checksum.  Start a fresh checksum with crc = 0; the usual pre- and
 * post-inversion is applied internally, so calls chain:
 *   crc32c(crc32c(0, a, n), b, m) == crc32c(0, a||b, n+m)
 * and crc32c(0, "123456789", 9) == 0xE3069283.  `buf` is only read and may
 * be NULL when len == 0.  Thread-safe (the tables are built once).  Uses
 * the SSE4.2 instruction when the CPU has it, else crc32c_table().
 */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

/*
 * The same checksum (same arguments and value) computed with the portable
 * slicing-by-8 tables, whatever the CPU: crc32c()'s fallback, exposed so
 * that tests can compare both implementations.
 */
uint32_t crc32c_table(uint32_t crc, const void *buf, size_t len);

/*
 * The same checksum computed with the SSE4.2 `crc32` instruction; falls
 * back to crc32c_table() where crc32c_hw_supported() is false.
 */
uint32_t crc32c_hw(uint32_t crc, const void *buf, size_t len);

/* Whether this build on this CPU has the hardware CRC-32C (x86-64 with
 * SSE4.2, checked at run time). */
bool crc32c_hw_supported(void);

#endif
