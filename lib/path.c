/* path.c — ZooKeeper path validation (Apache's PathUtils.validatePath). */
#include "zk/path.h"

#include <stdint.h>
#include <string.h>

/* Decodes one UTF-8 code point; invalid sequences decode to U+FFFD like Java. */
static uint32_t next_cp(const unsigned char **pp, const unsigned char *end)
{
    const unsigned char *p = *pp;
    uint32_t cp;
    int n;
    if (*p < 0x80) { cp = *p; n = 1; }
    else if ((*p & 0xE0) == 0xC0) { cp = *p & 0x1F; n = 2; }
    else if ((*p & 0xF0) == 0xE0) { cp = *p & 0x0F; n = 3; }
    else if ((*p & 0xF8) == 0xF0) { cp = *p & 0x07; n = 4; }
    else { *pp = p + 1; return 0xFFFD; }
    if (end - p < n) { *pp = end; return 0xFFFD; }
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) { *pp = p + i; return 0xFFFD; }
        cp = cp << 6 | (p[i] & 0x3F);
    }
    *pp = p + n;
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000))
        return 0xFFFD;  /* overlong: malformed for Java's decoder */
    return cp;
}

static bool bad_char(uint32_t c)
{
    return (c > 0x0000 && c <= 0x001f) || (c >= 0x007f && c <= 0x009f) ||
           (c >= 0xd800 && c <= 0xf8ff) || (c >= 0xfff0 && c <= 0xffff) ||
           c >= 0x10000;   /* a surrogate pair in Java's UTF-16 */
}

bool zk_path_valid(const char *path, size_t len)
{
    if (!path || len == 0 || path[0] != '/')
        return false;
    if (len == 1)
        return true;
    if (path[len - 1] == '/')
        return false;
    const unsigned char *p = (const unsigned char *)path, *end = p + len;
    size_t seg_start = 1;
    for (size_t i = 1; i <= len; i++) {
        if (i == len || path[i] == '/') {
            size_t seg = i - seg_start;
            if (seg == 0)
                return false;   /* empty node name */
            if ((seg == 1 && path[seg_start] == '.') ||
                (seg == 2 && path[seg_start] == '.' && path[seg_start + 1] == '.'))
                return false;   /* relative paths */
            seg_start = i + 1;
        }
    }
    while (p < end) {
        if (*p == 0)
            return false;
        uint32_t c = next_cp(&p, end);
        if (bad_char(c))
            return false;
    }
    return true;
}
