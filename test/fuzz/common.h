/*
 * common.h — what every fuzz harness under test/fuzz/ shares: a cursor over
 * the fuzzer's input (fixed-size fields and length-prefixed chunks, never
 * reading past the end), and FZ_CHECK, which turns a broken invariant into
 * an abort that libFuzzer reports (with the message) like any crash.
 *
 * Each harness is one file test/fuzz/fuzz_NAME.c defining
 * LLVMFuzzerTestOneInput (and possibly LLVMFuzzerInitialize); its input
 * format is described at the top of that file.  test/fuzz/README.md says
 * how to run, replay and minimise.
 */
#ifndef ZK_FUZZ_COMMON_H
#define ZK_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The unread part of the input (borrowed). */
typedef struct fz_input {
    const uint8_t *p;
    size_t n;
} fz_input;

/* Bytes left. */
static inline bool fz_more(const fz_input *in) { return in->n > 0; }

/* The next byte, or 0 at the end. */
uint8_t fz_u8(fz_input *in);
/* The next big-endian 16/32/64-bit values (missing bytes read as 0). */
uint16_t fz_u16(fz_input *in);
uint32_t fz_u32(fz_input *in);
uint64_t fz_u64(fz_input *in);
/* A chunk: a 16-bit big-endian length, then that many bytes (fewer at the
 * end of the input).  *p points into the input; returns the length. */
size_t fz_chunk(fz_input *in, const uint8_t **p);
/* The rest of the input (possibly empty); the cursor is left at the end. */
size_t fz_rest(fz_input *in, const uint8_t **p);

/* Aborts with a message when cond is false (an invariant of the code under
 * test is broken: libFuzzer reports it as a crash and saves the input). */
#define FZ_CHECK(cond, ...)                                                   \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__,        \
                    __LINE__, #cond);                                         \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
            abort();                                                          \
        }                                                                     \
    } while (0)

#endif
