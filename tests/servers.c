/* servers.c - start and stop the real servers unit tests talk to. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "servers.h"

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "servers: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static char * __attribute__((format(printf, 1, 2)))
sprintf_alloc(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		die("out of memory");
	va_end(ap);
	return s;
}

char *
tmpdir_new(const char *what)
{
	const char *base = getenv("TMPDIR");
	char *t = sprintf_alloc("%s/tlswatch-%s-XXXXXX", base && *base ? base : "/tmp", what);

	if (mkdtemp(t) == NULL)
		die("mkdtemp %s: %s", t, strerror(errno));
	return t;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == -1 && errno != ENOENT ? -1 : 0;
}

void
tmpdir_remove(char *dir)
{
	if (dir == NULL)
		return;
	(void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

int
free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&a, sizeof(a)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) == -1)
		die("free_port: %s", strerror(errno));
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

void
write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		die("write %s: %s", path, strerror(errno));
}

char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t n = 0, cap = 0;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (n + 4097 > cap) {
			cap = cap ? cap * 2 : 8192;
			if ((data = realloc(data, cap)) == NULL)
				die("out of memory");
		}
		size_t got = fread(data + n, 1, 4096, f);
		n += got;
		if (got < 4096)
			break;
	}
	fclose(f);
	data[n] = '\0';
	if (len)
		*len = n;
	return data;
}

static int
port_open(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd != -1 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd != -1)
		close(fd);
	return ok;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Run argv with output in dir/out, and wait (5 s at most) for the port. */
static void
spawn(struct server *s, char *const argv[])
{
	char *out = sprintf_alloc("%s/out", s->dir);
	int status;

	if ((s->pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (s->pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		if (port_open(s->port)) {
			free(out);
			return;
		}
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			char *text = read_file(out, NULL);
			die("%s exited before listening (status %d): %s", argv[0], status,
			    text ? text : "(no output)");
		}
		sleep_ms(10);
	}
	die("%s did not listen on 127.0.0.1:%d within 5 s; see %s", argv[0], s->port, out);
}

static struct server *
server_new(const char *what)
{
	struct server *s = calloc(1, sizeof(*s));

	if (s == NULL)
		die("out of memory");
	s->dir = tmpdir_new(what);
	s->port = free_port();
	return s;
}

struct server *
nginx_start(const char *www, const char *extra)
{
	struct server *s = server_new("nginx");
	char *conf = sprintf_alloc("%s/nginx.conf", s->dir);
	char *err = sprintf_alloc("%s/error.log", s->dir);
	char *text;

	s->log = sprintf_alloc("%s/access.log", s->dir);
	text = sprintf_alloc(
	    "daemon off;\n"
	    "master_process off;\n"
	    "worker_processes 1;\n"
	    "pid %1$s/nginx.pid;\n"
	    "error_log %1$s/error.log info;\n"
	    "events { worker_connections 256; }\n"
	    "http {\n"
	    "  client_body_temp_path %1$s; proxy_temp_path %1$s;\n"
	    "  fastcgi_temp_path %1$s; uwsgi_temp_path %1$s; scgi_temp_path %1$s;\n"
	    "  log_format t escape=none '$request_method $request_uri $status $body_bytes_sent "
	    "inm=[$http_if_none_match] ims=[$http_if_modified_since] via=[$http_via] "
	    "ct=[$http_content_type] cl=[$http_content_length]';\n"
	    "  access_log %1$s/access.log t;\n"
	    "  types { application/pkix-crl crl; application/pkix-cert cer; }\n"
	    "  default_type application/octet-stream;\n"
	    "  server {\n"
	    "    listen 127.0.0.1:%2$d;\n"
	    "    root %3$s;\n"
	    "    %4$s\n"
	    "  }\n"
	    "}\n", s->dir, s->port, www, extra ? extra : "");
	write_file(conf, text, strlen(text));
	char *argv[] = { "nginx", "-p", s->dir, "-e", err, "-c", conf, NULL };
	spawn(s, argv);
	free(text);
	free(conf);
	free(err);
	return s;
}

struct server *
tinyproxy_start(void)
{
	struct server *s = server_new("tinyproxy");
	char *conf = sprintf_alloc("%s/tinyproxy.conf", s->dir);
	char *text;

	s->log = sprintf_alloc("%s/tinyproxy.log", s->dir);
	text = sprintf_alloc(
	    "Port %d\n"
	    "Listen 127.0.0.1\n"
	    "Timeout 10\n"
	    "LogFile \"%s\"\n"
	    "LogLevel Info\n"
	    "PidFile \"%s/tinyproxy.pid\"\n"
	    "MaxClients 16\n"
	    "Allow 127.0.0.1\n"
	    "ViaProxyName \"tlswatch-test-proxy\"\n", s->port, s->log, s->dir);
	write_file(conf, text, strlen(text));
	char *argv[] = { "tinyproxy", "-d", "-c", conf, NULL };
	spawn(s, argv);
	free(text);
	free(conf);
	return s;
}

void
server_stop(struct server *s)
{
	int status;

	if (s == NULL)
		return;
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		for (int i = 0; i < 500; i++) {
			if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
				s->pid = 0;
				break;
			}
			sleep_ms(10);
		}
		if (s->pid > 0) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, &status, 0);
		}
	}
	tmpdir_remove(s->dir);
	free(s->log);
	free(s);
}

size_t
log_count(const struct server *s, const char *needle)
{
	char *text = read_file(s->log, NULL), *line, *next;
	size_t n = 0;

	if (text == NULL)
		return 0;
	for (line = text; line && *line; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strstr(line, needle) != NULL)
			n++;
	}
	free(text);
	return n;
}

size_t
log_wait(const struct server *s, const char *needle, size_t n, int timeout_ms)
{
	size_t c;

	for (int waited = 0; (c = log_count(s, needle)) < n && waited < timeout_ms; waited += 10)
		sleep_ms(10);
	if (c < n) {
		char *text = read_file(s->log, NULL);

		fprintf(stderr, "# %zu of %zu lines with \"%s\" in %s:\n%s", c, n, needle,
		    s->log, text ? text : "(no log)\n");
		free(text);
	}
	return c;
}
