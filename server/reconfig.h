/*
 * reconfig.h — dynamic reconfiguration (ZooKeeper 3.5+ `reconfig`, opcode
 * 16) on the server side: the checks and parsing PrepRequestProcessor
 * does before a reconfig becomes a transaction, its activation when the
 * transaction is committed (the membership in s->cfg, the dynamic config
 * file, the Zab core's quorum), and the recovery of a committed membership
 * at start-up.  docs/zab.md ("Dynamic reconfiguration") and
 * docs/configuration.md (reconfigEnabled, dynamicConfigFile) describe it.
 */
#ifndef ZK_SERVER_RECONFIG_H
#define ZK_SERVER_RECONFIG_H

#include <stdint.h>

#include "op.h"
#include "zab.h"
#include "server.h"

/*
 * PrepRequestProcessor's reconfig case up to (not including) the ACL check
 * on /zookeeper/config, in Apache 3.8's order: reconfigEnabled
 * (ZRECONFIGDISABLED), the session (ZSESSIONEXPIRED), standalone
 * (ZUNIMPLEMENTED), a reconfig already proposed and not committed
 * (ZRECONFIGINPROGRESS), fromConfig (ZBADVERSION), the incremental
 * (joining/leaving) or non-incremental (newMembers) input (ZBADARGUMENTS,
 * or ZMARSHALLINGERROR where Apache's Long.parseLong throws), at least 2
 * voters (1 with standaloneEnabled=false) (ZBADARGUMENTS), and a synced
 * quorum of the new voters (ZNEWCONFIGNOQUORUM).  On ZOK *text is the new
 * /zookeeper/config data, "version=<hex zxid>" last (g_malloc'd, the
 * caller frees it); otherwise *text is NULL.
 */
int reconfig_check(zk_server *s, int64_t session_id, const zk_reconfig_request *rq, int64_t zxid,
                   char **text);

/*
 * A reconfig transaction at zxid was applied (data/len: the new
 * /zookeeper/config data, borrowed).  Installs the membership in s->cfg
 * (peers, config_version), writes the dynamic config file and points the
 * static file at it, and asks the ensemble host to re-plan its links and
 * the Zab quorum (quorum_reconfigure).  Data that does not parse is logged
 * and ignored.
 */
void reconfig_activate(zk_server *s, int64_t zxid, const uint8_t *data, int32_t len);

/*
 * This server starts serving in an established epoch (leader with a synced
 * quorum, or learner after UPTODATE).  With reconfigEnabled, a membership
 * that never had a version (0: static server.N lines) gets epoch << 32,
 * the zxid of the epoch's NEWLEADER, as Apache's leader gives it
 * (ZOOKEEPER-1783): /zookeeper/config and the dynamic config file say so.
 */
void reconfig_established(zk_server *s, uint32_t epoch);

/*
 * If the encoded transaction txn (header + record, borrowed) is a reconfig,
 * returns its new member list as a g_malloc'd zab_peer array (*n entries;
 * the caller frees it), else (or if it does not parse) NULL.
 */
zab_peer *reconfig_txn_members(const uint8_t *txn, size_t len, int *n);

/*
 * Start-up and snapshot install: with reconfigEnabled, if /zookeeper/config
 * in the tree was set by a reconfig newer than s->cfg's membership (a crash between the commit
 * and the dynamic file, or a snapshot from the leader), adopts it with
 * reconfig_activate and returns true; else returns false.
 */
bool reconfig_adopt_tree(zk_server *s);

#endif /* ZK_SERVER_RECONFIG_H */
