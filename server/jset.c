/* jset.c — java.util.HashSet-compatible string set (see jset.h). */
#include "jset.h"

#include <glib.h>
#include <string.h>

int32_t jset_string_hash(const char *key)
{
    uint32_t h = 0;
    const unsigned char *p = (const unsigned char *)key;
    while (*p) {
        uint32_t cp;
        int n;
        if (*p < 0x80) { cp = *p; n = 1; }
        else if ((*p & 0xE0) == 0xC0) { cp = *p & 0x1F; n = 2; }
        else if ((*p & 0xF0) == 0xE0) { cp = *p & 0x0F; n = 3; }
        else if ((*p & 0xF8) == 0xF0) { cp = *p & 0x07; n = 4; }
        else { cp = 0xFFFD; n = 1; }
        for (int i = 1; i < n; i++) {
            if ((p[i] & 0xC0) != 0x80) { cp = 0xFFFD; n = i; break; }
            cp = cp << 6 | (p[i] & 0x3F);
        }
        p += n;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            h = 31 * h + (0xD800 + (cp >> 10));
            h = 31 * h + (0xDC00 + (cp & 0x3FF));
        } else {
            h = 31 * h + cp;
        }
    }
    return (int32_t)h;
}

static int32_t spread(int32_t h)
{
    uint32_t u = (uint32_t)h;
    return (int32_t)(u ^ (u >> 16));
}

static uint32_t table_size_for(uint32_t c)
{
    uint32_t n = 1;
    while (n < c)
        n <<= 1;
    return n;
}

void jset_init(jset *s, uint32_t initial_capacity)
{
    s->tab = NULL;
    s->cap = 0;
    s->size = 0;
    s->threshold = table_size_for(initial_capacity ? initial_capacity : 1);
}

void jset_clear(jset *s)
{
    for (uint32_t i = 0; i < s->cap; i++) {
        jset_entry *e = s->tab[i];
        while (e) {
            jset_entry *next = e->next;
            g_free(e);
            e = next;
        }
    }
    g_free(s->tab);
    s->tab = NULL;
    s->cap = 0;
    s->size = 0;
    s->threshold = 16;
}

static void resize(jset *s)
{
    uint32_t old_cap = s->cap;
    uint32_t new_cap;
    if (old_cap == 0) {
        new_cap = s->threshold ? s->threshold : 16;
    } else {
        new_cap = old_cap * 2;
    }
    jset_entry **nt = g_new0(jset_entry *, new_cap);
    for (uint32_t j = 0; j < old_cap; j++) {
        jset_entry *lo_head = NULL, *lo_tail = NULL, *hi_head = NULL, *hi_tail = NULL;
        for (jset_entry *e = s->tab[j], *next; e; e = next) {
            next = e->next;
            e->next = NULL;
            if (((uint32_t)e->hash & old_cap) == 0) {
                if (lo_tail) lo_tail->next = e; else lo_head = e;
                lo_tail = e;
            } else {
                if (hi_tail) hi_tail->next = e; else hi_head = e;
                hi_tail = e;
            }
        }
        nt[j] = lo_head;
        nt[j + old_cap] = hi_head;
    }
    g_free(s->tab);
    s->tab = nt;
    s->cap = new_cap;
    s->threshold = (uint32_t)(new_cap * 3 / 4);
}

bool jset_add(jset *s, const char *key, void *value)
{
    if (s->cap == 0)
        resize(s);
    int32_t h = spread(jset_string_hash(key));
    uint32_t idx = (uint32_t)h & (s->cap - 1);
    jset_entry *p = s->tab[idx];
    uint32_t chain = 0;
    jset_entry *tail = NULL;
    for (; p; p = p->next) {
        if (p->hash == h && strcmp(p->key, key) == 0)
            return false;
        tail = p;
        chain++;
    }
    jset_entry *e = g_new(jset_entry, 1);
    e->next = NULL;
    e->hash = h;
    e->key = key;
    e->value = value;
    if (tail) tail->next = e; else s->tab[idx] = e;
    /* HashMap.treeifyBin on a table smaller than 64 resizes instead. */
    if (chain >= 8 && s->cap < 64)
        resize(s);
    if (++s->size > s->threshold)
        resize(s);
    return true;
}

static jset_entry **find_slot(const jset *s, const char *key)
{
    if (s->cap == 0)
        return NULL;
    int32_t h = spread(jset_string_hash(key));
    jset_entry **pp = &s->tab[(uint32_t)h & (s->cap - 1)];
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->hash == h && strcmp((*pp)->key, key) == 0)
            return pp;
    return NULL;
}

void *jset_get(const jset *s, const char *key)
{
    jset_entry **pp = find_slot(s, key);
    return pp ? (*pp)->value : NULL;
}

bool jset_contains(const jset *s, const char *key)
{
    return find_slot(s, key) != NULL;
}

bool jset_remove(jset *s, const char *key)
{
    jset_entry **pp = find_slot(s, key);
    if (!pp)
        return false;
    jset_entry *e = *pp;
    *pp = e->next;
    g_free(e);
    s->size--;
    return true;
}

jset_entry *jset_first(const jset *s)
{
    for (uint32_t i = 0; i < s->cap; i++)
        if (s->tab[i])
            return s->tab[i];
    return NULL;
}

jset_entry *jset_next(const jset *s, const jset_entry *e)
{
    if (e->next)
        return e->next;
    for (uint32_t i = ((uint32_t)e->hash & (s->cap - 1)) + 1; i < s->cap; i++)
        if (s->tab[i])
            return s->tab[i];
    return NULL;
}
