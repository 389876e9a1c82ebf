/*
 * jset.h — a string-keyed hash set whose iteration order is exactly that of
 * java.util.HashSet<String> (JDK 8+ HashMap: String.hashCode over UTF-16
 * code units, hash ^ (hash >>> 16), power-of-two tables, tail insertion,
 * order-preserving split on resize, load factor 0.75).
 *
 * Why: Apache ZooKeeper returns getChildren() lists and ephemeral lists in
 * HashSet order, and clients can observe that order.  Using the same
 * structure makes our replies byte-identical.  (Treeified bins — nine or
 * more colliding keys in one bucket of a table of 64 or more — are not
 * emulated; their iteration order then may differ.)
 *
 * Keys are NOT copied: the caller keeps each key alive while it is in the
 * set.  Each entry carries an opaque value pointer (not owned).
 */
#ifndef ZK_JSET_H
#define ZK_JSET_H

#include <stdbool.h>
#include <stdint.h>

typedef struct jset_entry {
    struct jset_entry *next;
    int32_t hash;
    const char *key;
    void *value;
} jset_entry;

typedef struct jset {
    jset_entry **tab;      /* owned; NULL until the first add */
    uint32_t cap;          /* table length (power of two) or 0 */
    uint32_t size;
    uint32_t threshold;    /* before allocation: the initial capacity */
} jset;

/* Initialises an empty set as `new HashSet<>(initial_capacity)` would. */
void jset_init(jset *s, uint32_t initial_capacity);
/* Frees the table and entries (not keys or values). */
void jset_clear(jset *s);
/* Adds key; returns false (and changes nothing) if it is already present. */
bool jset_add(jset *s, const char *key, void *value);
/* The value stored with key, or NULL. */
void *jset_get(const jset *s, const char *key);
bool jset_contains(const jset *s, const char *key);
/* Removes key; returns true if it was present. */
bool jset_remove(jset *s, const char *key);
/* Java's String.hashCode of a UTF-8 string (computed over UTF-16 units). */
int32_t jset_string_hash(const char *key);

/* Iteration in Java order: for (it = jset_first(s); it; it = jset_next(s, it)). */
jset_entry *jset_first(const jset *s);
jset_entry *jset_next(const jset *s, const jset_entry *e);

#endif
