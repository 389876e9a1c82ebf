/*
 * path.h — validation of znode paths exactly as Apache ZooKeeper's
 * PathUtils.validatePath: absolute, no trailing slash (except "/"), no
 * empty, "." or ".." components, no NUL and none of U+0001–001F,
 * U+007F–009F, U+D800–F8FF, U+FFF0–FFFF (invalid UTF-8 counts as U+FFFD).
 */
#ifndef ZK_PATH_H
#define ZK_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* True if the len bytes at path form a valid znode path. */
bool zk_path_valid(const char *path, size_t len);

#endif
