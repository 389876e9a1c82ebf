/*
 * sdnotify.h — systemd's service notification protocol (sd_notify(3)),
 * spoken directly: one datagram of "KEY=value\n..." lines to the unix
 * socket named by $NOTIFY_SOCKET (a path, or "@name" for the abstract
 * namespace).  No libsystemd needed; without $NOTIFY_SOCKET nothing is
 * sent.  docs/operations.md says when zkserver sends what.
 */
#ifndef ZK_SDNOTIFY_H
#define ZK_SDNOTIFY_H

/*
 * Sends `state` (e.g. "READY=1\nSTATUS=serving") to $NOTIFY_SOCKET.
 * Returns 1 if sent, 0 if there is no $NOTIFY_SOCKET, -1 on an error
 * (bad socket name, send failure; errno set).  Never blocks for long: the
 * socket is non-blocking.
 */
int sdnotify_send(const char *state);

#endif
