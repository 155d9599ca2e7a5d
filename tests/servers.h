/* servers.h - real servers for the unit tests, started on 127.0.0.1 in a
 * directory of the test's own and stopped with it: nginx (HTTP), tinyproxy
 * (an HTTP proxy). Every wait has a deadline; a server that does not come
 * up fails the test with its log. */
#ifndef TLSWATCH_TEST_SERVERS_H
#define TLSWATCH_TEST_SERVERS_H

#include <stddef.h>
#include <sys/types.h>

struct server {
	pid_t pid;
	int port;
	char *dir;          /* its files: configuration, logs */
	char *log;          /* nginx: the access log; tinyproxy: its log */
};

/* A fresh directory under $TMPDIR (or /tmp); removed by tmpdir_remove. */
char *tmpdir_new(const char *what);
void tmpdir_remove(char *dir);

/* A TCP port on 127.0.0.1 nobody listens on (bound, then released). */
int free_port(void);

/* Write len bytes to path, or die. */
void write_file(const char *path, const void *data, size_t len);
/* Contents of path (NUL-terminated), or NULL. */
char *read_file(const char *path, size_t *len);

/* nginx serving www (a directory) on a free port, access log lines
 * "METHOD URI STATUS BYTES inm=[If-None-Match] ims=[If-Modified-Since]
 * via=[Via] ct=[Content-Type] cl=[Content-Length]" (unescaped). extra is spliced into
 * the server block (locations); may be NULL. */
struct server *nginx_start(const char *www, const char *extra);
/* tinyproxy on a free port, allowing 127.0.0.1, Via "tlswatch-test-proxy". */
struct server *tinyproxy_start(void);
/* SIGTERM, wait (at most 5 s, then SIGKILL), remove its directory, free. */
void server_stop(struct server *s);

/* Lines of s->log that contain needle (0 when the log is absent). */
size_t log_count(const struct server *s, const char *needle);
/* Wait until log_count(s, needle) >= n or timeout_ms passed; the count.
 * Short of n, the log goes to stderr for the reader of the failure. */
size_t log_wait(const struct server *s, const char *needle, size_t n, int timeout_ms);

#endif
