/* common.c — the fuzz input cursor (see common.h). */
#include "common.h"

uint8_t fz_u8(fz_input *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

uint16_t fz_u16(fz_input *in)
{
    uint16_t hi = fz_u8(in);
    return (uint16_t)(hi << 8 | fz_u8(in));
}

uint32_t fz_u32(fz_input *in)
{
    uint32_t hi = fz_u16(in);
    return hi << 16 | fz_u16(in);
}

uint64_t fz_u64(fz_input *in)
{
    uint64_t hi = fz_u32(in);
    return hi << 32 | fz_u32(in);
}

size_t fz_chunk(fz_input *in, const uint8_t **p)
{
    size_t len = fz_u16(in);
    if (len > in->n)
        len = in->n;
    *p = in->p;
    in->p += len;
    in->n -= len;
    return len;
}

size_t fz_rest(fz_input *in, const uint8_t **p)
{
    size_t len = in->n;
    *p = in->p;
    in->p += len;
    in->n = 0;
    return len;
}
