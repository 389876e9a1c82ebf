/* server_main.h — the entry point main.c calls. */
#ifndef ZK_SERVER_MAIN_H
#define ZK_SERVER_MAIN_H

#include "config.h"

/* Runs a standalone server with cfg until SIGTERM/SIGINT; returns the exit code. */
int server_run(zk_config *cfg);

#endif
