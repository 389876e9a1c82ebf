/*
 * fourlw.h — four-letter words (fourlw.c) and the server-state queries
 * they and the admin paths share (mode, serving state, version).
 */
#ifndef ZK_FOURLW_H
#define ZK_FOURLW_H

#include <stdbool.h>
#include <stdint.h>

typedef struct zk_server zk_server;
typedef struct zk_conn zk_conn;

/* If `word` is a four-letter word, answers it on c and returns true. */
bool fourlw_handle(zk_conn *c, uint32_t word);
/* True while the server serves clients (the 4lw "running" state: standalone,
 * or an ensemble member in a synced quorum). */
bool server_is_serving(const zk_server *s);
/* The Mode srvr prints: "standalone", "leader", "follower", "observer", "looking". */
const char *server_mode_name(const zk_server *s);
/* "3.8.0-zkfs-1, built on <date> UTC", as srvr prints it. */
const char *server_version(void);

#endif
