/* fourlw.c — four-letter words (temporary minimal version). */
#include "server.h"

#include <string.h>

bool fourlw_handle(zk_conn *c, uint32_t word)
{
    char w[5] = { (char)(word >> 24), (char)(word >> 16), (char)(word >> 8), (char)word, 0 };
    if (!zk_fourlw_known(w))
        return false;
    if (!zk_config_fourlw_enabled(c->srv->cfg, w)) {
        char *msg = g_strdup_printf("%s is not executed because it is not in the whitelist.\n", w);
        conn_send_raw(c, msg, strlen(msg));
        g_free(msg);
    } else if (strcmp(w, "ruok") == 0) {
        conn_send_raw(c, "imok", 4);
    } else if (strcmp(w, "srvr") == 0) {
        char *msg = g_strdup_printf("Zookeeper version: 3.8.0-zkfs\nLatency min/avg/max: 0/0.0/0\nReceived: %" G_GUINT64_FORMAT "\nSent: %" G_GUINT64_FORMAT "\nConnections: %u\nOutstanding: %d\nZxid: 0x%" G_GINT64_MODIFIER "x\nMode: standalone\nNode count: %u\n",
                                    c->srv->packets_received, c->srv->packets_sent,
                                    g_hash_table_size(c->srv->conns), c->srv->outstanding,
                                    c->srv->tree->last_processed_zxid, tree_node_count(c->srv->tree) + 1);
        conn_send_raw(c, msg, strlen(msg));
        g_free(msg);
    }
    conn_close_after_flush(c);
    return true;
}
