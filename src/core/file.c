/* file.c - bounded reads and atomic writes of whole files. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "core/util.h"

char *
file_read_bounded(const char *path, size_t max, size_t *len)
{
	struct buf b;
	char chunk[65536];
	ssize_t n;
	int fd, saved;
	struct stat st;

	/* O_NONBLOCK: opening a FIFO would wait for a writer */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1)
		saved = errno;
	else if (S_ISREG(st.st_mode))
		saved = 0;
	else
		saved = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
	if (saved != 0) {
		close(fd);
		errno = saved;
		return NULL;
	}
	buf_init(&b);
	buf_reserve(&b, 1);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if ((size_t)n > max - b.len) {
			errno = EFBIG;
			goto fail;
		}
		buf_append(&b, chunk, (size_t)n);
	}
	close(fd);
	b.data[b.len] = '\0';
	if (len)
		*len = b.len;
	return buf_steal(&b);
fail:
	saved = errno;
	close(fd);
	buf_free(&b);
	errno = saved;
	return NULL;
}

const char *
file_strerror(int err)
{
	return err == EINVAL ? "not a regular file" : strerror(err);
}

static int
fsync_dir(const char *dir)
{
	int fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
file_write_atomic(const char *dir, const char *name, const void *data, size_t len,
    const char **what)
{
	char *tmp = xasprintf("%s/.%s.tmp", dir, name);
	char *path = xasprintf("%s/%s", dir, name);
	const char *p = data;
	int fd, saved;
	size_t off = 0;

	*what = "create";
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644)) == -1)
		goto fail;
	*what = "write";
	while (off < len) {
		ssize_t n = write(fd, p + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail_fd;
		}
		off += (size_t)n;
	}
	*what = "fsync";
	if (fsync(fd) == -1)
		goto fail_fd;
	*what = "close";
	if (close(fd) == -1) {
		fd = -1;
		goto fail_unlink;
	}
	fd = -1;
	*what = "rename";
	if (rename(tmp, path) == -1)
		goto fail_unlink;
	*what = "fsync the directory of";
	if (fsync_dir(dir) == -1)
		goto fail;
	free(tmp);
	free(path);
	return 0;
fail_fd:
	saved = errno;
	close(fd);
	errno = saved;
fail_unlink:
	saved = errno;
	unlink(tmp);
	errno = saved;
fail:
	saved = errno;
	free(tmp);
	free(path);
	errno = saved;
	return -1;
}

static int
mkdir_one(const char *path)
{
	return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

int
file_mkdir_p(const char *path)
{
	char *p = xstrdup(path);

	for (char *q = p + 1; *q; q++) {
		if (*q != '/')
			continue;
		*q = '\0';
		(void)mkdir_one(p);
		*q = '/';
	}
	free(p);
	return mkdir_one(path);
}

void
file_remove_tmp(const char *dir)
{
	struct dirent *e;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (e->d_name[0] == '.' && n > 5 && strcmp(e->d_name + n - 4, ".tmp") == 0)
			(void)unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}
