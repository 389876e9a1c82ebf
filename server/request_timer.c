/*
 * request_timer.c — the pipeline's periodic work (request_tick): session
 * expiry (a replicated closeSession), container and TTL reaping (internal
 * deletes), all submitted through the pipeline like client writes.
 */
#include "conn.h"
#include "fourlw.h"
#include "persist.h"
#include "request.h"
#include "server.h"
#include "txn.h"

#include <string.h>

#include "jstring.h"
#include "metrics.h"
#include "quorum.h"
#include "zk/path.h"
#include "request_internal.h"

/* SessionTracker: sessions past their deadline are closed through the
 * pipeline (a replicated closeSession). */
static void expire_sessions(zk_server *s, int64_t now)
{
    GArray *expired = session_expired(&s->sessions, now);
    for (guint i = 0; i < expired->len; i++) {
        int64_t id = g_array_index(expired, int64_t, i);
        zk_session *ss = session_get(&s->sessions, id);
        LOG_INFO("Expiring session 0x%" G_GINT64_MODIFIER "x, timeout of %dms exceeded", id,
                 ss ? ss->timeout : 0);
        if (ss)
            ss->closing = true;
        metrics_count(MC_STALE_SESSIONS_EXPIRED, 1);   /* SessionTrackerImpl.run: stale_sessions_expired */
        request_submit_internal(s, id, ZK_OP_CLOSESESSION, NULL, 0);
    }
    g_array_free(expired, TRUE);
}

void request_tick(zk_server *s)
{
    int64_t now = loop_now_ms();
    /* Session deadlines are rounded to tick boundaries (ExpiryQueue), so the
     * connection and session scans run once per tickTime, not on every loop
     * tick; container reaping keeps its own interval. */
    bool boundary = now >= s->next_expiry_check_ms;
    if (boundary) {
        int32_t tick = s->cfg->tick_time > 0 ? s->cfg->tick_time : 2000;
        s->next_expiry_check_ms = (now / tick + 1) * tick;
        conn_close_idle_handshakes(s, now);
    }
    /* Sessions and containers are the leader's business in an ensemble. */
    if (s->quorum && !quorum_can_propose(s->quorum))
        return;
    if (boundary)
        expire_sessions(s, now);

    /* ContainerManager: empty containers that once had children, and
     * expired TTL nodes, are deleted through the pipeline. */
    int64_t wall = loop_wall_ms();
    if (now - s->last_container_check_ms >= s->cfg->container_check_interval_ms) {
        s->last_container_check_ms = now;
        GPtrArray *victims = g_ptr_array_new_with_free_func(g_free);
        GHashTableIter it;
        gpointer k;
        g_hash_table_iter_init(&it, s->tree->containers);
        while (g_hash_table_iter_next(&it, &k, NULL)) {
            zk_node *n = tree_get(s->tree, k);
            if (n && n->children.size == 0 && n->cversion > 0)
                g_ptr_array_add(victims, g_strdup(k));
        }
        g_hash_table_iter_init(&it, s->tree->ttls);
        while (g_hash_table_iter_next(&it, &k, NULL)) {
            zk_node *n = tree_get(s->tree, k);
            if (n && n->children.size == 0) {
                int64_t ttl = zk_owner_ttl(n->ephemeral_owner);
                if (ttl != 0 && wall - n->mtime > ttl)
                    g_ptr_array_add(victims, g_strdup(k));
            }
        }
        for (guint i = 0; i < victims->len; i++) {
            const char *p = g_ptr_array_index(victims, i);
            if (g_hash_table_lookup(s->change_by_path, p))
                continue;   /* something is already happening to it */
            request_submit_internal(s, 0, ZK_OP_DELETECONTAINER, (const uint8_t *)p, strlen(p));
        }
        g_ptr_array_free(victims, TRUE);
    }
}
