/*
 * fuzz_datadir.c — a hostile or corrupt data directory: the transaction log
 * (server/txnlog.c), snapshot files (server/snapfile.c) and the recovery
 * that loads them (server/persist.c: newest valid snapshot, tree and
 * session table, log replay through txn_apply), then the Zab-side
 * operations on the same files (reload, TRUNC truncation, purge).
 *
 * Input: [flags u8][truncate zxid u64], then files [kind u8][zxid u64]
 * [len u16][content]: kind & 3 picks log.<zxid>, snapshot.<zxid>,
 * snapshot.<zxid>.tmp or acceptedEpoch; with kind & 0x80 the harness
 * first fixes every checksum in the content (log header and record CRCs,
 * snapshot header, body CRC and trailer length), so the fuzzer gets past
 * them to what they protect.  flags: bit 0 replays the log (standalone;
 * else an ensemble member's recovery), bit 1 truncates after the zxid,
 * bit 2 purges.
 *
 * Checked: recovery either succeeds or refuses with a message; after a
 * success the tree survives a snapshot round trip and the last zxid is at
 * least the tree's.  ASan/UBSan catch any out-of-bounds read or overflow in
 * the loaders.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "config.h"
#include "persist.h"
#include "request.h"
#include "server.h"
#include "snapfile.h"
#include "zk/crc32c.h"

static char *base;          /* the dataDir (owned by this process) */
static char *log_dir;       /* base/zkfs-v1 */
static zk_config cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    zk_log_enabled = false;
    const char *shm = g_file_test("/dev/shm", G_FILE_TEST_IS_DIR) ? "/dev/shm" : "/tmp";
    char *tmpl = g_strdup_printf("%s/zkfuzz-datadir.XXXXXX", shm);
    base = mkdtemp(tmpl);
    if (!base)
        abort();
    log_dir = g_build_filename(base, "zkfs-v1", NULL);
    char *text = g_strdup_printf("tickTime=2000\ndataDir=%s\nclientPort=2181\npreAllocSize=64\n", base);
    char *err = NULL;
    if (zk_config_parse_string(text, "fuzz.cfg", NULL, &cfg, NULL, NULL, &err) < 0)
        abort();
    g_free(text);
    return 0;
}

static void clean_dir(void)
{
    DIR *d = opendir(log_dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *p = g_build_filename(log_dir, e->d_name, NULL);
        unlink(p);
        g_free(p);
    }
    closedir(d);
}

/* Rewrites the CRCs of a log file (docs/formats.md section 1). */
static void fix_log(uint8_t *b, size_t n)
{
    if (n < 32)
        return;
    zk_put_be32(b + 24, crc32c(0, b, 24));
    size_t pos = 32;
    while (n - pos >= 16) {
        uint32_t len = zk_be32(b + pos);
        if (len < 8 || len > n - pos - 8)
            break;
        zk_put_be32(b + pos + 4, crc32c(0, b + pos + 8, len));
        pos += 8 + len;
    }
}

/* Rewrites a snapshot's header CRC, trailer length, body CRC and end magic. */
static void fix_snapshot(uint8_t *b, size_t n)
{
    if (n < 40)
        return;
    zk_put_be32(b + 16, crc32c(0, b, 16));
    size_t body = n - 40;
    zk_put_be64(b + 24 + body, body);
    zk_put_be32(b + 32 + body, crc32c(0, b + 24, body));
    zk_put_be32(b + 36 + body, 0x5A4B5345u);
}

static void write_file(int kind, uint64_t zxid, uint8_t *p, size_t len, bool fix)
{
    char name[64];
    switch (kind & 3) {
    case 0:
        snprintf(name, sizeof name, "log.%016llx", (unsigned long long)zxid);
        if (fix)
            fix_log(p, len);
        break;
    case 1:
        snprintf(name, sizeof name, "snapshot.%016llx", (unsigned long long)zxid);
        if (fix)
            fix_snapshot(p, len);
        break;
    case 2:
        snprintf(name, sizeof name, "snapshot.%016llx.tmp", (unsigned long long)zxid);
        break;
    default:
        snprintf(name, sizeof name, "acceptedEpoch");
        break;
    }
    char *path = g_build_filename(log_dir, name, NULL);
    if (!g_file_set_contents(path, (const char *)p, (gssize)len, NULL))
        abort();
    g_free(path);
}

static void check_tree(const zk_server *s)
{
    jute_writer w;
    jw_init(&w, 4096);
    persist_serialize((zk_server *)s, &w);
    jute_reader r;
    jr_init(&r, w.buf, w.len);
    char *err = NULL;
    zk_tree *t = tree_deserialize(&r, &err);
    FZ_CHECK(t != NULL, "the recovered tree does not survive a snapshot: %s", err ? err : "?");
    FZ_CHECK(tree_node_count(t) == tree_node_count(s->tree), "a snapshot round trip loses nodes");
    tree_free(t);
    jw_free(&w);
    FZ_CHECK(s->last_zxid >= s->tree->last_processed_zxid, "last zxid 0x%llx below the tree's 0x%llx",
             (long long)s->last_zxid, (long long)s->tree->last_processed_zxid);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input in = { data, size };
    uint8_t flags = fz_u8(&in);
    int64_t trunc_zxid = (int64_t)fz_u64(&in);
    g_mkdir_with_parents(log_dir, 0755);
    clean_dir();
    int files = 0;
    while (fz_more(&in) && files < 12) {
        uint8_t kind = fz_u8(&in);
        uint64_t zxid = fz_u64(&in);
        const uint8_t *p;
        size_t len = fz_chunk(&in, &p);
        uint8_t *copy = g_malloc(len + 1);
        if (len)
            memcpy(copy, p, len);
        write_file(kind, zxid, copy, len, kind & 0x80);
        g_free(copy);
        files++;
    }
    zk_server s;
    server_init(&s, &cfg);
    char *err = NULL;
    if (persist_recover(&s, flags & 1, &err) < 0) {
        FZ_CHECK(err && *err, "recovery refused without a message");
        g_free(err);
    } else {
        FZ_CHECK(err == NULL, "recovery succeeded with an error message");
        check_tree(&s);
        if (flags & 2) {
            if (txnlog_truncate_after(s.log, trunc_zxid, &err) == 0) {
                snapfile_drop_after(s.data_dir, trunc_zxid);
                if (persist_reload(&s, &err) == 0)
                    check_tree(&s);
            }
            g_free(err);
            err = NULL;
        }
        if (flags & 4) {
            int64_t oldest = snapfile_purge(s.data_dir, 1);
            if (oldest > 0)
                txnlog_purge_before(s.log, oldest);
        }
    }
    server_destroy(&s);
    clean_dir();
    return 0;
}
