/* notify.c - tell the service manager how we are (sd_notify(3)).
 *
 * With libsystemd found by configure, its sd_notify and sd_watchdog_enabled
 * do the work. Without it, the protocol is small enough to speak here: one
 * datagram of "KEY=VALUE" lines to the AF_UNIX socket named by
 * $NOTIFY_SOCKET (a path, or '@' for the abstract namespace). Either way
 * the build and the daemon work where there is no systemd at all. */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "core/log.h"
#include "serve/notify.h"
#include "core/util.h"

#ifdef HAVE_LIBSYSTEMD

const char *
notify_implementation(void)
{
	return "libsystemd";
}

int
notify_send(const char *msg)
{
	int r = sd_notify(0, msg);

	if (r < 0) {
		errno = -r;
		return -1;
	}
	return 0;
}

uint64_t
notify_watchdog_usec(void)
{
	uint64_t usec = 0;

	return sd_watchdog_enabled(0, &usec) > 0 ? usec : 0;
}

#else

const char *
notify_implementation(void)
{
	return "builtin";
}

int
notify_send(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	size_t plen;
	ssize_t n;
	int fd;

	if (path == NULL || path[0] == '\0')
		return 0;
	if ((path[0] != '/' && path[0] != '@') ||
	    (plen = strlen(path)) >= sizeof(sun.sun_path)) {
		errno = EINVAL;
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';   /* abstract: no terminating NUL counted */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen +
	    (path[0] == '@' ? 0 : 1));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sun, len);
	close(fd);
	return n == (ssize_t)strlen(msg) ? 0 : -1;
}

uint64_t
notify_watchdog_usec(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	unsigned long long v;
	char *end;

	if (usec == NULL)
		return 0;
	/* WATCHDOG_PID names the process meant; a child must not ping. */
	if (pid != NULL && strtoull(pid, NULL, 10) != (unsigned long long)getpid())
		return 0;
	errno = 0;
	v = strtoull(usec, &end, 10);
	if (errno != 0 || end == usec || *end != '\0' || v == 0)
		return 0;
	return v;
}

#endif

/* Failures are logged once: a broken notify socket would repeat forever. */
static void
send_logged(const char *msg)
{
	static int warned;

	if (notify_send(msg) == -1 && !warned) {
		warned = 1;
		log_warn("cannot notify the service manager");
	}
}

void
notify_ready(const char *status)
{
	char *msg = xasprintf("READY=1\nSTATUS=%s", status);

	send_logged(msg);
	free(msg);
}

void
notify_reloading(void)
{
	struct timespec ts;
	char msg[96];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ull +
	    (unsigned long long)ts.tv_nsec / 1000ull);
	send_logged(msg);
}

void
notify_stopping(void)
{
	send_logged("STOPPING=1");
}

void
notify_status(const char *status)
{
	char *msg = xasprintf("STATUS=%s", status);

	send_logged(msg);
	free(msg);
}

void
notify_watchdog(void)
{
	send_logged("WATCHDOG=1");
}
