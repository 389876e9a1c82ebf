/*
 * vectors.h — the unit tests' shared helpers: reading the test vector
 * files of test/vectors/, hex decoding, damaging a file on purpose
 * (linked into every unit-test binary; run the tests from the repository
 * root).
 */
#ifndef ZK_TEST_VECTORS_H
#define ZK_TEST_VECTORS_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zk/proto.h"

/* The lines of a vector file (g_strfreev the result); fails the running
 * test if the file cannot be read. */
char **vectors_read_lines(const char *path);

/* The non-empty lines of a vector file, each split on tabs: a GPtrArray of
 * char** (free with g_ptr_array_free(rows, TRUE)). */
GPtrArray *vectors_read_rows(const char *path);

/* Lowercase or uppercase hex into a g_malloc'd buffer (NUL-terminated for
 * convenience); *len_out gets the byte count. */
uint8_t *vectors_unhex(const char *hex, size_t *len_out);

/* A Stat as the Java vectors print it: its 11 numbers separated by sep;
 * g_malloc'd (the caller frees it). */
char *unit_stat_str(const zk_stat *s, char sep);

/* Makes a fresh directory /tmp/<name>-XXXXXX into dir (cap bytes);
 * false if it cannot. */
bool unit_tempdir_make(char *dir, size_t cap, const char *name);

/* Removes a directory made by unit_tempdir_make and the files in it (it
 * must hold no subdirectories). */
void unit_tempdir_remove(const char *dir);

/* XORs the byte at offset off of the file at path with mask (applying it
 * twice restores the file); fails the running test on an I/O error. */
void unit_flip_byte(const char *path, uint64_t off, uint8_t mask);

#endif
