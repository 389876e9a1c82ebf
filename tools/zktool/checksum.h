/*
 * checksum.h — the two checksums of Apache ZooKeeper's files that zkserver
 * itself does not use: Adler-32 (java.util.zip.Adler32: every txn log
 * record and the snapshot seals) and CRC-32 (java.util.zip.CRC32, IEEE
 * 802.3: the per-znode digest of DigestCalculator).
 */
#ifndef ZKTOOL_CHECKSUM_H
#define ZKTOOL_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* Adler-32 of len bytes continuing from adler (start with 1). */
uint32_t zt_adler32(uint32_t adler, const void *buf, size_t len);

/* CRC-32 (reflected polynomial 0xEDB88320, as zlib and java.util.zip.CRC32)
 * of len bytes continuing from crc (start with 0). */
uint32_t zt_crc32(uint32_t crc, const void *buf, size_t len);

#endif
