/* snapbody.c — snapshot body: tree + session table (see snapbody.h). */
#include "snapbody.h"

void snapbody_write(jute_writer *w, const zk_tree *t, const snap_session *sessions, size_t n)
{
    tree_serialize(t, w);
    jw_int(w, (int32_t)n);
    for (size_t i = 0; i < n; i++) {
        jw_long(w, sessions[i].id);
        jw_int(w, sessions[i].timeout);
    }
}

zk_tree *snapbody_read(const uint8_t *body, size_t len, GArray **sessions, char **err)
{
    *sessions = NULL;
    jute_reader r;
    jr_init(&r, body, len);
    zk_tree *t = tree_deserialize(&r, err);
    if (!t)
        return NULL;
    /* 12 bytes per session: a hostile count cannot drive the allocation. */
    int32_t n = jr_vector_len(&r, 12);
    GArray *out = g_array_sized_new(FALSE, FALSE, sizeof(snap_session), n > 0 ? (guint)n : 0);
    for (int32_t i = 0; i < n && jr_ok(&r); i++) {
        snap_session s;
        s.id = jr_long(&r);
        s.timeout = jr_int(&r);
        if (jr_ok(&r))
            g_array_append_val(out, s);
    }
    if (!jr_ok(&r)) {
        tree_free(t);
        g_array_free(out, TRUE);
        *err = g_strdup("snapshot: malformed session table");
        return NULL;
    }
    *sessions = out;
    return t;
}
