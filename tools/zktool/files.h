/*
 * files.h — the few file operations zktool needs beyond the server's
 * modules: syncing a directory, writing a whole file durably, copying one
 * (for backups).
 */
#ifndef ZKTOOL_FILES_H
#define ZKTOOL_FILES_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

/* Maps a whole file read-only.  Returns the mapping (g_mapped_file_unref
 * it) and sets *buf (never NULL: "" for an empty file) and *len, or NULL
 * with *err ("PATH: reason", g_strdup'd). */
GMappedFile *zt_map_file(const char *path, const uint8_t **buf, size_t *len, char **err);

/* fsync of a directory (after creating, renaming or removing in it); 0 or -1. */
int zt_sync_dir(const char *dir);

/* Writes path durably: a temp file, fsync, rename, fsync of the directory.
 * Returns 0 or -1 with *err (g_strdup'd). */
int zt_write_file(const char *path, const void *data, size_t len, char **err);

/* Copies from into a new file to (which must not exist), synced.  Returns 0
 * or -1 with *err. */
int zt_copy_file(const char *from, const char *to, char **err);

#endif
