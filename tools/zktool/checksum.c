/* checksum.c — Adler-32 and CRC-32 (see checksum.h). */
#include "checksum.h"

#include <pthread.h>

#define ADLER_MOD 65521u
/* Largest n such that 255 n (n + 1) / 2 + (n + 1) (ADLER_MOD - 1) fits in
 * 32 bits: the sums may go that long without a modulo. */
#define ADLER_NMAX 5552u

uint32_t zt_adler32(uint32_t adler, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint32_t a = adler & 0xffff, b = adler >> 16;
    while (len > 0) {
        size_t n = len < ADLER_NMAX ? len : ADLER_NMAX;
        len -= n;
        while (n--) {
            a += *p++;
            b += a;
        }
        a %= ADLER_MOD;
        b %= ADLER_MOD;
    }
    return b << 16 | a;
}

static uint32_t crc32_table[256];
static pthread_once_t crc32_once = PTHREAD_ONCE_INIT;

static void crc32_build_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc32_table[i] = c;
    }
}

uint32_t zt_crc32(uint32_t crc, const void *buf, size_t len)
{
    pthread_once(&crc32_once, crc32_build_table);
    const uint8_t *p = buf;
    uint32_t c = ~crc;
    while (len--)
        c = crc32_table[(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}
