/*
 * crc32c.c — table-driven CRC-32C, slicing-by-8 (eight 256-entry tables,
 * built on first use under pthread_once), see include/zk/crc32c.h.
 */
#include "zk/crc32c.h"

#include <pthread.h>

#define CRC32C_POLY_REFLECTED 0x82F63B78u

/* crc32c_tables[k][b]: the CRC of byte b followed by k zero bytes. */
static uint32_t crc32c_tables[8][256];
static pthread_once_t crc32c_tables_once = PTHREAD_ONCE_INIT;

static void crc32c_build_tables(void)
{
    for (uint32_t byte = 0; byte < 256; byte++) {
        uint32_t crc = byte;
        for (int bit = 0; bit < 8; bit++)
            crc = (crc & 1) ? (crc >> 1) ^ CRC32C_POLY_REFLECTED : crc >> 1;
        crc32c_tables[0][byte] = crc;
    }
    for (uint32_t byte = 0; byte < 256; byte++) {
        uint32_t crc = crc32c_tables[0][byte];
        for (int k = 1; k < 8; k++) {
            crc = crc32c_tables[0][crc & 0xff] ^ (crc >> 8);
            crc32c_tables[k][byte] = crc;
        }
    }
}

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
    pthread_once(&crc32c_tables_once, crc32c_build_tables);
    const uint8_t *p = buf;
    uint32_t state = ~crc;

    /* Bytes one at a time until the end, or in groups of eight.  The
     * groups are assembled byte by byte, so alignment and host byte order
     * do not matter. */
    while (len >= 8) {
        uint32_t low = state ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
                                (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        uint32_t high = (uint32_t)p[4] | (uint32_t)p[5] << 8 |
                        (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
        state = crc32c_tables[7][low & 0xff] ^
                crc32c_tables[6][(low >> 8) & 0xff] ^
                crc32c_tables[5][(low >> 16) & 0xff] ^
                crc32c_tables[4][low >> 24] ^
                crc32c_tables[3][high & 0xff] ^
                crc32c_tables[2][(high >> 8) & 0xff] ^
                crc32c_tables[1][(high >> 16) & 0xff] ^
                crc32c_tables[0][high >> 24];
        p += 8;
        len -= 8;
    }
    while (len--)
        state = crc32c_tables[0][(state ^ *p++) & 0xff] ^ (state >> 8);
    return ~state;
}
