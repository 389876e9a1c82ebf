/*
 * jstring.h — client strings as Apache's Java server sees them.  jute's
 * readString decodes bytes with new String(bytes, UTF_8) (JDK rules: a
 * malformed sequence becomes U+FFFD), so two different byte strings can be
 * one Java string, and its writeString sends each UTF-16 unit back in 1-3
 * bytes (a 4-byte character comes back as two 3-byte surrogates, U+0000 as
 * one 00 byte).
 */
#ifndef ZK_SERVER_JSTRING_H
#define ZK_SERVER_JSTRING_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

#include "zk/jute.h"

/* Appends to out the bytes Apache sends back for the client string s[0..n). */
void jstring_jute_echo(GByteArray *out, const uint8_t *s, size_t n);

/*
 * The watch-table key of a path from the wire (g_malloc'd, NUL-terminated):
 * one key per Java string.  The Java string is written as standard UTF-8,
 * so a valid path is its own key (node paths and wire paths meet), except
 * that U+0000 is written C0 80 (the key stays a C string, and no valid
 * UTF-8 holds C0).  Apache's watch tables also take the null string
 * (addWatch of a null path): its key is the single byte FF, which no
 * UTF-8 string holds.  Apache keys watches by the Java string and never
 * validates those paths, so "/a\0b" is a key of its own that no event
 * ever matches, never "/a".
 */
char *jstring_watch_key(jute_view v);

/* Writes a watch key (jstring_watch_key) as the jute string Apache sends
 * for it in an event: C0 80 back to a 00 byte, a 4-byte character as two
 * 3-byte surrogates (writeString goes by UTF-16 unit). */
void jstring_write_key(jute_writer *w, const char *key);

/* The length of the Java string of s[0..n) in UTF-16 units (String.length()
 * after jute's readString): what Apache counts for a path in mntr's
 * approximate_data_size (DataTree: path.length() + data length). */
size_t jstring_utf16_len(const char *s, size_t n);

#endif
