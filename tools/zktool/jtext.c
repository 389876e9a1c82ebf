/* jtext.c — Java-compatible text output (see jtext.h). */
#include "jtext.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- UTF-8 as the JDK decodes it -------------------------------------- */

/* The rules of JDK 17's String(bytes, UTF_8) (decodeUTF8_UTF16): which
 * bytes one U+FFFD replaces, including its particular handling of E0/ED/
 * F0/F4 sequences and of a sequence cut short by the end of the input. */

static bool cont(uint8_t b)
{
    return (b & 0xC0) == 0x80;
}

static bool bad3_2(uint8_t b1, uint8_t b2)
{
    return (b1 == 0xE0 && (b2 & 0xE0) == 0x80) || !cont(b2);
}

static bool bad4_2(uint8_t b1, uint8_t b2)
{
    return (b1 == 0xF0 && (b2 < 0x90 || b2 > 0xBF)) || (b1 == 0xF4 && (b2 & 0xF0) != 0x80) || !cont(b2);
}

static const char REPLACEMENT[] = "\xEF\xBF\xBD";

void jtext_utf8(GString *out, const void *bytes, size_t len)
{
    const uint8_t *p = bytes;
    size_t i = 0;
    while (i < len) {
        size_t at = i;
        uint8_t b1 = p[i++];
        if (b1 < 0x80) {
            g_string_append_c(out, (char)b1);
        } else if (b1 >= 0xC2 && b1 <= 0xDF) {
            if (i >= len) {
                g_string_append(out, REPLACEMENT);
                break;
            }
            if (!cont(p[i])) {
                g_string_append(out, REPLACEMENT);   /* the next byte starts afresh */
            } else {
                g_string_append_len(out, (const char *)p + at, 2);
                i++;
            }
        } else if ((b1 & 0xF0) == 0xE0) {
            if (i + 1 < len) {
                uint8_t b2 = p[i], b3 = p[i + 1];
                if (bad3_2(b1, b2) || !cont(b3)) {
                    g_string_append(out, REPLACEMENT);
                    i = at + (bad3_2(b1, b2) ? 1 : 2);
                } else {
                    unsigned c = (unsigned)(b1 & 0x0F) << 12 | (unsigned)(b2 & 0x3F) << 6 | (b3 & 0x3Fu);
                    if (c >= 0xD800 && c <= 0xDFFF)
                        g_string_append(out, REPLACEMENT);
                    else
                        g_string_append_len(out, (const char *)p + at, 3);
                    i += 2;
                }
                continue;
            }
            g_string_append(out, REPLACEMENT);
            if (i < len && bad3_2(b1, p[i]))
                continue;
            break;
        } else if ((b1 & 0xF8) == 0xF0) {
            if (i + 2 < len) {
                uint8_t b2 = p[i], b3 = p[i + 1], b4 = p[i + 2];
                unsigned uc = (unsigned)(b1 & 0x07) << 18 | (unsigned)(b2 & 0x3F) << 12 |
                              (unsigned)(b3 & 0x3F) << 6 | (b4 & 0x3Fu);
                if (!cont(b2) || !cont(b3) || !cont(b4) || uc < 0x10000 || uc > 0x10FFFF) {
                    g_string_append(out, REPLACEMENT);
                    i = at + (b1 > 0xF4 || bad4_2(b1, b2) ? 1 : !cont(b3) ? 2 : 3);
                } else {
                    g_string_append_len(out, (const char *)p + at, 4);
                    i += 3;
                }
                continue;
            }
            g_string_append(out, REPLACEMENT);
            if (b1 > 0xF4 || (i < len && bad4_2(b1, p[i])))
                continue;
            i++;
            if (i < len && !cont(p[i]))
                continue;
            break;
        } else {
            g_string_append(out, REPLACEMENT);
        }
    }
}

/* ---- numbers ----------------------------------------------------------- */

void jtext_hex(GString *out, int64_t v)
{
    g_string_append_printf(out, "%" G_GINT64_MODIFIER "x", (guint64)v);
}

void jtext_hex016(GString *out, int64_t v)
{
    g_string_append_printf(out, "0x%014" G_GINT64_MODIFIER "x", (guint64)v);
}

/* ---- dates ------------------------------------------------------------- */

/* Local broken-down time of epoch_ms (floor to the second). */
static void local_time(int64_t epoch_ms, struct tm *tm)
{
    int64_t secs = epoch_ms / 1000;
    if (epoch_ms % 1000 < 0)
        secs--;
    time_t t = (time_t)secs;
    if (!localtime_r(&t, tm))
        memset(tm, 0, sizeof *tm);
}

static const char *zone_name(const struct tm *tm)
{
    return tm->tm_zone && tm->tm_zone[0] ? tm->tm_zone : "UTC";
}

void jtext_date_short_long(GString *out, int64_t epoch_ms)
{
    struct tm tm;
    local_time(epoch_ms, &tm);
    int hour12 = tm.tm_hour % 12 == 0 ? 12 : tm.tm_hour % 12;
    int yy = (tm.tm_year + 1900) % 100;
    if (yy < 0)
        yy = -yy;
    g_string_append_printf(out, "%d/%d/%02d, %d:%02d:%02d %s %s", tm.tm_mon + 1, tm.tm_mday, yy,
                           hour12, tm.tm_min, tm.tm_sec, tm.tm_hour < 12 ? "AM" : "PM",
                           zone_name(&tm));
}

void jtext_date_string(GString *out, int64_t epoch_ms)
{
    static const char days[][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char months[][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    struct tm tm;
    local_time(epoch_ms, &tm);
    g_string_append_printf(out, "%s %s %02d %02d:%02d:%02d %s %d", days[tm.tm_wday % 7],
                           months[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                           zone_name(&tm), tm.tm_year + 1900);
}

/* ---- JSON -------------------------------------------------------------- */

void jtext_json_quote(GString *out, const void *bytes, size_t len)
{
    GString *s = g_string_new(NULL);
    jtext_utf8(s, bytes, len);
    for (gsize i = 0; i < s->len; i++) {
        unsigned char c = (unsigned char)s->str[i];
        switch (c) {
        case '"': g_string_append(out, "\\\""); break;
        case '\\': g_string_append(out, "\\\\"); break;
        case '\b': g_string_append(out, "\\b"); break;
        case '\t': g_string_append(out, "\\t"); break;
        case '\n': g_string_append(out, "\\n"); break;
        case '\f': g_string_append(out, "\\f"); break;
        case '\r': g_string_append(out, "\\r"); break;
        default:
            if (c < 0x20)
                g_string_append_printf(out, "\\u%04X", c);
            else
                g_string_append_c(out, (char)c);
        }
    }
    g_string_free(s, TRUE);
}

/* ---- HashMap<Long, V> order -------------------------------------------- */

typedef struct map_slot {
    size_t index;       /* into keys */
    uint32_t bucket;
} map_slot;

static int slot_cmp(const void *a, const void *b)
{
    const map_slot *x = a, *y = b;
    if (x->bucket != y->bucket)
        return x->bucket < y->bucket ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

size_t jtext_long_map_order(const int64_t *keys, size_t n, size_t *order)
{
    GHashTable *seen = g_hash_table_new(g_int64_hash, g_int64_equal);
    map_slot *slots = g_new(map_slot, n ? n : 1);
    size_t distinct = 0;
    uint64_t cap = 16, threshold = 12;
    for (size_t i = 0; i < n; i++) {
        if (g_hash_table_contains(seen, &keys[i]))
            continue;
        g_hash_table_add(seen, (gpointer)&keys[i]);
        slots[distinct++].index = i;
        if (distinct > threshold) {   /* ++size > threshold: resize() */
            cap *= 2;
            threshold *= 2;
        }
    }
    /* Resizing splits each bin in order, so the final table is the bins of
     * the final capacity, each in insertion order. */
    for (size_t i = 0; i < distinct; i++) {
        uint64_t v = (uint64_t)keys[slots[i].index];
        uint32_t h = (uint32_t)(v ^ (v >> 32));   /* Long.hashCode */
        h ^= h >> 16;                              /* HashMap.hash */
        slots[i].bucket = h & (uint32_t)(cap - 1);
    }
    qsort(slots, distinct, sizeof *slots, slot_cmp);
    for (size_t i = 0; i < distinct; i++)
        order[i] = slots[i].index;
    g_free(slots);
    g_hash_table_destroy(seen);
    return distinct;
}

/* ---- ToStringOutputArchive --------------------------------------------- */

static bool top_level(const char *tag)
{
    return !tag || !tag[0];
}

static void comma(jts *a)
{
    if (!a->first)
        g_string_append_c(a->out, ',');
    a->first = false;
}

void jts_init(jts *a, GString *out)
{
    a->out = out;
    a->first = true;
}

void jts_start_record(jts *a, const char *tag)
{
    if (top_level(tag))
        return;
    comma(a);
    g_string_append(a->out, "s{");
    a->first = true;
}

void jts_end_record(jts *a, const char *tag)
{
    if (top_level(tag)) {
        g_string_append_c(a->out, '\n');
        a->first = true;
    } else {
        g_string_append_c(a->out, '}');
        a->first = false;
    }
}

void jts_long(jts *a, int64_t v)
{
    comma(a);
    g_string_append_printf(a->out, "%" G_GINT64_FORMAT, v);
}

void jts_bool(jts *a, bool v)
{
    comma(a);
    g_string_append_c(a->out, v ? 'T' : 'F');
}

void jts_string(jts *a, const void *bytes, int32_t len)
{
    comma(a);
    if (len < 0)
        return;
    GString *s = g_string_new(NULL);
    jtext_utf8(s, bytes, (size_t)len);
    g_string_append_c(a->out, '\'');
    for (gsize i = 0; i < s->len; i++) {
        char c = s->str[i];
        switch (c) {
        case '\0': g_string_append(a->out, "%00"); break;
        case '\n': g_string_append(a->out, "%0A"); break;
        case '\r': g_string_append(a->out, "%0D"); break;
        case ',': g_string_append(a->out, "%2C"); break;
        case '}': g_string_append(a->out, "%7D"); break;
        case '%': g_string_append(a->out, "%25"); break;
        default: g_string_append_c(a->out, c);
        }
    }
    g_string_free(s, TRUE);
}

void jts_buffer(jts *a, const void *bytes, int32_t len)
{
    comma(a);
    if (len <= 0)
        return;
    const int8_t *p = bytes;
    g_string_append_c(a->out, '#');
    for (int32_t i = 0; i < len; i++)
        g_string_append_printf(a->out, "%x", (unsigned)(int32_t)p[i]);
}

void jts_start_vector(jts *a)
{
    comma(a);
    g_string_append(a->out, "v{");
    a->first = true;
}

void jts_end_vector(jts *a)
{
    g_string_append_c(a->out, '}');
    a->first = false;
}
