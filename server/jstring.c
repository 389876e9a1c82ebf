/*
 * jstring.c — Java String semantics of client strings (see jstring.h): the
 * JDK's UTF-8 decoder, and the two encodings the server needs afterwards
 * (jute's writeString, and the canonical watch key).
 */
#include "jstring.h"

#include <stdbool.h>
#include <string.h>

typedef enum { ENC_JUTE, ENC_KEY } encoding;

/* Appends code point cp (never a lone surrogate) in the given encoding. */
static void put_cp(GByteArray *out, unsigned cp, encoding enc)
{
    uint8_t b[4];
    guint n;
    if (cp >= 0x10000 && enc == ENC_JUTE) {
        cp -= 0x10000;
        put_cp(out, 0xD800 | (cp >> 10), enc);   /* writeString: per UTF-16 unit */
        put_cp(out, 0xDC00 | (cp & 0x3FF), enc);
        return;
    }
    if (cp == 0 && enc == ENC_KEY) {
        b[0] = 0xC0;
        b[1] = 0x80;
        n = 2;
    } else if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xC0 | (cp >> 6));
        b[1] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xE0 | (cp >> 12));
        b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (uint8_t)(0xF0 | (cp >> 18));
        b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 4;
    }
    g_byte_array_append(out, b, n);
}

static bool is_cont(uint8_t b) { return (b & 0xC0) == 0x80; }

/* new String(s, UTF_8) (JDK rules: a malformed sequence becomes one U+FFFD,
 * and how many bytes it swallows depends on the lead byte), each code point
 * appended to out in encoding enc. */
static void decode(GByteArray *out, const uint8_t *s, size_t n, encoding enc)
{
    const unsigned repl = 0xFFFD;
    size_t i = 0;
    while (i < n) {
        uint8_t b1 = s[i++];
        if (b1 < 0x80) {
            put_cp(out, b1, enc);
        } else if (b1 >= 0xC2 && b1 <= 0xDF) {            /* two bytes */
            if (i >= n) {
                put_cp(out, repl, enc);
                break;
            }
            if (!is_cont(s[i])) {
                put_cp(out, repl, enc);                    /* s[i] is read again */
            } else {
                put_cp(out, ((b1 & 0x1Fu) << 6) | (s[i] & 0x3Fu), enc);
                i++;
            }
        } else if ((b1 & 0xF0) == 0xE0) {                   /* three bytes */
            bool overlong2 = i < n && b1 == 0xE0 && (s[i] & 0xE0) == 0x80;
            if (i + 1 < n) {
                uint8_t b2 = s[i], b3 = s[i + 1];
                if (overlong2 || !is_cont(b2) || !is_cont(b3)) {
                    put_cp(out, repl, enc);
                    i += (overlong2 || !is_cont(b2)) ? 0 : 1;   /* skip b1 (and b2 if it was fine) */
                } else {
                    unsigned c = ((b1 & 0x0Fu) << 12) | ((b2 & 0x3Fu) << 6) | (b3 & 0x3Fu);
                    put_cp(out, c >= 0xD800 && c <= 0xDFFF ? repl : c, enc);
                    i += 2;
                }
                continue;
            }
            put_cp(out, repl, enc);
            if (i < n && (overlong2 || !is_cont(s[i])))
                continue;                                  /* s[i] is read again */
            break;
        } else if ((b1 & 0xF8) == 0xF0) {                   /* four bytes */
            if (i + 2 < n) {
                uint8_t b2 = s[i], b3 = s[i + 1], b4 = s[i + 2];
                unsigned uc = ((b1 & 0x07u) << 18) | ((b2 & 0x3Fu) << 12) |
                              ((b3 & 0x3Fu) << 6) | (b4 & 0x3Fu);
                if (!is_cont(b2) || !is_cont(b3) || !is_cont(b4) || uc < 0x10000 || uc > 0x10FFFF) {
                    put_cp(out, repl, enc);
                    bool bad2 = b1 > 0xF4 || (b1 == 0xF0 && (b2 < 0x90 || b2 > 0xBF)) ||
                                (b1 == 0xF4 && (b2 & 0xF0) != 0x80) || !is_cont(b2);
                    i += bad2 ? 0 : !is_cont(b3) ? 1 : 2;
                } else {
                    put_cp(out, uc, enc);
                    i += 3;
                }
                continue;
            }
            bool bad2 = i < n && ((b1 == 0xF0 && (s[i] < 0x90 || s[i] > 0xBF)) ||
                                  (b1 == 0xF4 && (s[i] & 0xF0) != 0x80) || !is_cont(s[i]));
            put_cp(out, repl, enc);
            if (b1 > 0xF4 || bad2)
                continue;
            i++;
            if (i < n && !is_cont(s[i]))
                continue;
            break;
        } else {
            put_cp(out, repl, enc);
        }
    }
}

void jstring_jute_echo(GByteArray *out, const uint8_t *s, size_t n)
{
    decode(out, s, n, ENC_JUTE);
}

size_t jstring_utf16_len(const char *s, size_t n)
{
    size_t units = 0;
    size_t i;
    for (i = 0; i < n && (uint8_t)s[i] < 0x80; i++)
        units++;                           /* the usual case: all ASCII */
    if (i == n)
        return units;
    /* ENC_JUTE writes one UTF-16 unit as 1-3 bytes: count the lead bytes. */
    GByteArray *out = g_byte_array_sized_new((guint)(n - i) * 2);
    decode(out, (const uint8_t *)s + i, n - i, ENC_JUTE);
    for (guint j = 0; j < out->len; j++)
        if (!is_cont(out->data[j]))
            units++;
    g_byte_array_free(out, TRUE);
    return units;
}

char *jstring_watch_key(jute_view v)
{
    if (v.len < 0 || !v.ptr)
        return g_strdup(v.len < 0 ? "\xFF" : "");
    GByteArray *out = g_byte_array_sized_new((guint)v.len + 1);
    decode(out, (const uint8_t *)v.ptr, (size_t)v.len, ENC_KEY);
    g_byte_array_append(out, (const uint8_t *)"", 1);
    return (char *)g_byte_array_free(out, FALSE);
}

void jstring_write_key(jute_writer *w, const char *key)
{
    bool plain = true;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        if (*p == 0xC0 || *p >= 0xF0) {
            plain = false;
            break;
        }
    if (plain) {
        jw_string(w, key);
        return;
    }
    /* C0 80 back to a 00 byte; a 4-byte character as writeString sends it
     * (two 3-byte surrogates); everything else as it is. */
    GByteArray *out = g_byte_array_new();
    const uint8_t *p = (const uint8_t *)key;
    while (*p) {
        if (p[0] == 0xC0 && p[1] == 0x80) {
            g_byte_array_append(out, (const uint8_t *)"", 1);
            p += 2;
        } else if (p[0] >= 0xF0 && p[0] <= 0xF4 && is_cont(p[1]) && is_cont(p[2]) && is_cont(p[3])) {
            unsigned cp = ((p[0] & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) |
                          ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3Fu);
            put_cp(out, cp, ENC_JUTE);
            p += 4;
        } else {
            g_byte_array_append(out, p, 1);
            p++;
        }
    }
    jw_buffer(w, out->data, (int32_t)out->len);
    g_byte_array_free(out, TRUE);
}
