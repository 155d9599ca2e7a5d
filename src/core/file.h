/* file.h - whole-file I/O with the promises the state directory makes: reads
 * bounded in size, writes atomic (the old file or the new, whatever
 * happens). Blocking: call from a worker (core/work.h) or at start-up. */
#ifndef TLSWATCH_FILE_H
#define TLSWATCH_FILE_H

#include <stddef.h>

/* The contents of path, NUL-terminated, at most max bytes. NULL with errno
 * (EFBIG when larger; EINVAL when not a regular file: a FIFO or a device is
 * never opened for a wait or read without end). Symbolic links are not
 * followed. */
char *file_read_bounded(const char *path, size_t max, size_t *len);
/* strerror for file_read_bounded's errno: "not a regular file" for EINVAL. */
const char *file_strerror(int err);

/* Write data to dir/name atomically: a temporary .NAME.tmp in dir, fsynced,
 * renamed over name, and dir fsynced. 0, or -1 with errno and *what the
 * step that failed ("create", "write", "rename", ...). */
int file_write_atomic(const char *dir, const char *name, const void *data, size_t len,
                      const char **what);

/* mkdir -p path (mode 0755). 0, or -1 with errno. */
int file_mkdir_p(const char *path);

/* Remove the temporary files (.NAME.tmp) a crash left in dir. */
void file_remove_tmp(const char *dir);

#endif
