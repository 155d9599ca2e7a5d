/* handshake.c - the handshake limit: the least a GnuTLS client can spend on
 * one probe's work (connect, handshake with SNI, receive the chain, verify it
 * with the hostname), in a plain blocking loop. The benchmark reports
 * tlswatchd's CPU per probe as a multiple of this.
 *
 * With --no-verify the chain is received but not verified: the floor of a
 * probe whose verdict is reused for an unchanged chain (tlswatchd verifies
 * a chain once, then only handshakes).
 *
 * With --rate R the handshakes start R a second (each waits for its slot on
 * the monotonic clock) instead of back to back: the pace of the daemon it
 * is compared with, which sleeps between probes as this loop then does. A
 * CPU that idles between handshakes spends more time on each (caches,
 * branch predictors and clock speed cool down), so a floor measured back
 * to back is lower than one measured at the daemon's duty cycle.
 *
 * usage: handshake [--no-verify] [--rate R] HOST PORT SERVER_NAME CA_FILE COUNT [PRIORITY]
 * prints: handshakes=N failures=N cpu_seconds=S cpu_ms_per_handshake=X */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int verify = 1;

static int
one(const struct sockaddr_in *sin, const char *name, gnutls_certificate_credentials_t cred,
    const char *priority)
{
	gnutls_session_t s;
	unsigned int status = 0, n = 0;
	int fd, rc, ok = 0;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd == -1 || connect(fd, (const struct sockaddr *)sin, sizeof(*sin)) == -1) {
		if (fd != -1)
			close(fd);
		return 0;
	}
	gnutls_init(&s, GNUTLS_CLIENT);
	if (priority)
		gnutls_priority_set_direct(s, priority, NULL);
	else
		gnutls_set_default_priority(s);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_server_name_set(s, GNUTLS_NAME_DNS, name, strlen(name));
	gnutls_transport_set_int(s, fd);
	do
		rc = gnutls_handshake(s);
	while (rc < 0 && !gnutls_error_is_fatal(rc));
	if (rc == 0 && gnutls_certificate_get_peers(s, &n) != NULL && n > 0 &&
	    (!verify || (gnutls_certificate_verify_peers3(s, name, &status) == 0 && status == 0)))
		ok = 1;
	if (rc == 0)
		gnutls_bye(s, GNUTLS_SHUT_WR);
	gnutls_deinit(s);
	close(fd);
	return ok;
}

int
main(int argc, char **argv)
{
	gnutls_certificate_credentials_t cred;
	struct sockaddr_in sin;
	struct timespec slot;
	double rate = 0;
	long count, fails = 0;
	double t0, t1;

	if (argc > 1 && strcmp(argv[1], "--no-verify") == 0) {
		verify = 0;
		argv++;
		argc--;
	}
	if (argc > 2 && strcmp(argv[1], "--rate") == 0) {
		rate = atof(argv[2]);
		if (!(rate > 0)) {
			fprintf(stderr, "handshake: --rate %s: not a positive number\n", argv[2]);
			return 2;
		}
		argv += 2;
		argc -= 2;
	}
	if (argc < 6 || argc > 7) {
		fprintf(stderr, "usage: handshake [--no-verify] [--rate R] HOST PORT SERVER_NAME "
		    "CA_FILE COUNT [PRIORITY]\n");
		return 2;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) {
		fprintf(stderr, "handshake: %s: not an IPv4 address\n", argv[1]);
		return 2;
	}
	count = atol(argv[5]);
	gnutls_certificate_allocate_credentials(&cred);
	if (gnutls_certificate_set_x509_trust_file(cred, argv[4], GNUTLS_X509_FMT_PEM) <= 0) {
		fprintf(stderr, "handshake: %s: no CA certificates\n", argv[4]);
		return 2;
	}
	/* one unmeasured round trip: libraries warm, server reachable */
	if (!one(&sin, argv[3], cred, argc == 7 ? argv[6] : NULL)) {
		fprintf(stderr, "handshake: the first handshake with %s:%s failed\n", argv[1], argv[2]);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &slot);
	t0 = cpu_seconds();
	for (long i = 0; i < count; i++) {
		if (rate > 0) {
			long step = (long)(1e9 / rate);

			slot.tv_nsec += step % 1000000000L;
			slot.tv_sec += step / 1000000000L + slot.tv_nsec / 1000000000L;
			slot.tv_nsec %= 1000000000L;
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &slot, NULL) == EINTR)
				;
		}
		if (!one(&sin, argv[3], cred, argc == 7 ? argv[6] : NULL))
			fails++;
	}
	t1 = cpu_seconds();
	printf("handshakes=%ld failures=%ld cpu_seconds=%.3f cpu_ms_per_handshake=%.4f\n",
	    count, fails, t1 - t0, (t1 - t0) * 1000.0 / (double)count);
	gnutls_certificate_free_credentials(cred);
	return fails ? 1 : 0;
}
