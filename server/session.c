/* session.c — the session table and expiry (see session.h). */
#include "session.h"

#include <string.h>

void session_table_init(session_table *st, int64_t server_id, int32_t tick_ms, int64_t now_wall_ms)
{
    st->by_id = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
    st->tick_ms = tick_ms > 0 ? tick_ms : 2000;
    /* SessionTrackerImpl.initializeNextSessionId: (now << 24) >>> 8 | id << 56 */
    uint64_t v = ((uint64_t)now_wall_ms << 24) >> 8;
    st->next_id = (int64_t)(v | ((uint64_t)server_id << 56));
}

void session_table_destroy(session_table *st)
{
    if (st->by_id)
        g_hash_table_destroy(st->by_id);
    st->by_id = NULL;
}

int64_t session_next_id(session_table *st)
{
    return st->next_id++;
}

static int64_t round_to_tick(const session_table *st, int64_t t)
{
    return (t / st->tick_ms + 1) * st->tick_ms;
}

zk_session *session_add(session_table *st, int64_t id, int32_t timeout, int64_t now_ms)
{
    zk_session *s = g_hash_table_lookup(st->by_id, &id);
    if (!s) {
        s = g_new0(zk_session, 1);
        s->id = id;
        g_hash_table_insert(st->by_id, &s->id, s);
    }
    s->timeout = timeout;
    s->closing = false;
    session_touch(st, s, now_ms);
    return s;
}

zk_session *session_get(const session_table *st, int64_t id)
{
    return g_hash_table_lookup(st->by_id, &id);
}

void session_remove(session_table *st, int64_t id)
{
    g_hash_table_remove(st->by_id, &id);
}

void session_touch(session_table *st, zk_session *s, int64_t now_ms)
{
    int64_t t = round_to_tick(st, now_ms + s->timeout);
    if (t > s->expire_at)
        s->expire_at = t;
}

GArray *session_expired(session_table *st, int64_t now_ms)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(int64_t));
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, st->by_id);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        zk_session *s = v;
        if (!s->closing && s->expire_at <= now_ms)
            g_array_append_val(out, s->id);
    }
    return out;
}

/* java.util.Random: 48-bit LCG. */
static uint64_t jrandom_seed(int64_t seed)
{
    return ((uint64_t)seed ^ 0x5DEECE66DULL) & ((1ULL << 48) - 1);
}

static int32_t jrandom_next32(uint64_t *seed)
{
    *seed = (*seed * 0x5DEECE66DULL + 0xBULL) & ((1ULL << 48) - 1);
    return (int32_t)(*seed >> 16);
}

void session_password(int64_t id, uint8_t out[16])
{
    /* ZooKeeperServer.generatePasswd: new Random(id ^ superSecret).nextBytes(16) */
    uint64_t seed = jrandom_seed(id ^ 0XB3415C00LL);
    for (int i = 0; i < 16;) {
        int32_t rnd = jrandom_next32(&seed);
        for (int n = 4; n-- > 0 && i < 16; rnd >>= 8)
            out[i++] = (uint8_t)rnd;
    }
}
