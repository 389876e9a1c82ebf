/*
 * jtext.h — text exactly as Apache ZooKeeper's Java tools print it: the
 * JDK's UTF-8 decoding (malformed input becomes U+FFFD), jute's
 * ToStringOutputArchive (what Record.toString() prints), the JDK 17 en_US
 * date formats, Long.toHexString, java.util.HashMap<Long,...> iteration
 * order and Jackson's JSON string quoting.  Everything appends UTF-8 to a
 * GString.  docs/formats.md ("Apache's formats") says where each is used.
 */
#ifndef ZKTOOL_JTEXT_H
#define ZKTOOL_JTEXT_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* new String(bytes, UTF_8) printed as UTF-8: each maximal ill-formed
 * subsequence becomes one U+FFFD, as the JDK's decoder does. */
void jtext_utf8(GString *out, const void *bytes, size_t len);

/* Long.toHexString(v): lowercase, no leading zeros, two's complement. */
void jtext_hex(GString *out, int64_t v);
/* String.format("%#016x", v): "0x" and at least 14 hex digits. */
void jtext_hex016(GString *out, int64_t v);

/* DateFormat.getDateTimeInstance(SHORT, LONG) in en_US, local time zone:
 * "12/3/26, 1:28:31 PM UTC". */
void jtext_date_short_long(GString *out, int64_t epoch_ms);
/* java.util.Date.toString(): "Thu Jan 01 00:00:00 UTC 1970". */
void jtext_date_string(GString *out, int64_t epoch_ms);

/* Jackson's JsonStringEncoder.quoteAsString of the Java string decoded
 * from bytes (no surrounding quotes). */
void jtext_json_quote(GString *out, const void *bytes, size_t len);

/*
 * java.util.HashMap<Long,V> filled by put(keys[0]), put(keys[1]), ...
 * from its default capacity: writes the indexes (into keys) of its
 * distinct keys in iteration order to order[] and returns how many.  A
 * repeated key keeps its first position.  (Bins treeified by eight or more
 * colliding keys are not emulated.)
 */
size_t jtext_long_map_order(const int64_t *keys, size_t n, size_t *order);

/* jute's ToStringOutputArchive: Record.toString() of generated records. */
typedef struct jts {
    GString *out;       /* not owned */
    bool first;
} jts;

void jts_init(jts *a, GString *out);
/* tag NULL or "" is the top-level record (its end prints a newline). */
void jts_start_record(jts *a, const char *tag);
void jts_end_record(jts *a, const char *tag);
void jts_long(jts *a, int64_t v);
void jts_bool(jts *a, bool v);
/* A ustring (len -1: null, printed as nothing), quoted and %-escaped. */
void jts_string(jts *a, const void *bytes, int32_t len);
/* A buffer as '#' + Integer.toHexString of each signed byte; null or empty: nothing. */
void jts_buffer(jts *a, const void *bytes, int32_t len);
void jts_start_vector(jts *a);
void jts_end_vector(jts *a);

#endif
