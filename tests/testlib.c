/* testlib.c - certificates made at test time and a GnuTLS server on a test
 * thread (testlib.h). Every wait is bounded: sockets have timeouts, the
 * server stops when told, a loop runs until a deadline. */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/loop.h"
#include "core/util.h"
#include "testlib.h"

/* ------------------------------------------------------------ certificates */

static void
add_san(gnutls_x509_crt_t crt, const char *san)
{
	unsigned char ip[16];

	if (strncmp(san, "DNS:", 4) == 0) {
		assert_int_equal(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME,
		    san + 4, (unsigned)strlen(san + 4), GNUTLS_FSAN_APPEND), 0);
	} else if (strncmp(san, "IP:", 3) == 0) {
		int v6 = strchr(san + 3, ':') != NULL;

		assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, san + 3, ip), 1);
		assert_int_equal(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS,
		    ip, v6 ? 16 : 4, GNUTLS_FSAN_APPEND), 0);
	} else if (strncmp(san, "email:", 6) == 0) {
		assert_int_equal(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_RFC822NAME,
		    san + 6, (unsigned)strlen(san + 6), GNUTLS_FSAN_APPEND), 0);
	} else if (strncmp(san, "URI:", 4) == 0) {
		assert_int_equal(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_URI,
		    san + 4, (unsigned)strlen(san + 4), GNUTLS_FSAN_APPEND), 0);
	} else {
		fail_msg("unknown SAN %s", san);
	}
}

void
tc_make(struct tc *out, const struct tc_spec *spec, const struct tc *issuer)
{
	static const unsigned char one[1] = { 1 };
	time_t now = time(NULL);
	gnutls_datum_t d;

	memset(out, 0, sizeof(*out));
	assert_int_equal(gnutls_x509_privkey_init(&out->key), 0);
	if (spec->rsa_bits)
		assert_int_equal(gnutls_x509_privkey_generate(out->key, GNUTLS_PK_RSA,
		    spec->rsa_bits, 0), 0);
	else
		assert_int_equal(gnutls_x509_privkey_generate(out->key, GNUTLS_PK_ECDSA,
		    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), 0);
	assert_int_equal(gnutls_x509_crt_init(&out->crt), 0);
	assert_int_equal(gnutls_x509_crt_set_version(out->crt, 3), 0);
	assert_int_equal(gnutls_x509_crt_set_serial(out->crt, spec->serial ? spec->serial : one,
	    spec->serial ? spec->serial_len : sizeof(one)), 0);
	assert_int_equal(gnutls_x509_crt_set_activation_time(out->crt,
	    spec->not_before ? (time_t)spec->not_before : now - 3600), 0);
	assert_int_equal(gnutls_x509_crt_set_expiration_time(out->crt,
	    spec->not_after ? (time_t)spec->not_after : now + 30 * 86400), 0);
	if (spec->cn)
		assert_int_equal(gnutls_x509_crt_set_dn_by_oid(out->crt,
		    GNUTLS_OID_X520_COMMON_NAME, 0, spec->cn, (unsigned)strlen(spec->cn)), 0);
	assert_int_equal(gnutls_x509_crt_set_key(out->crt, out->key), 0);
	if (spec->ca) {
		assert_int_equal(gnutls_x509_crt_set_basic_constraints(out->crt, 1, -1), 0);
		assert_int_equal(gnutls_x509_crt_set_key_usage(out->crt,
		    GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN), 0);
	} else {
		assert_int_equal(gnutls_x509_crt_set_key_usage(out->crt,
		    GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_ENCIPHERMENT), 0);
		assert_int_equal(gnutls_x509_crt_set_key_purpose_oid(out->crt,
		    GNUTLS_KP_TLS_WWW_SERVER, 0), 0);
	}
	for (const char *const *s = spec->sans; s && *s; s++)
		add_san(out->crt, *s);
	/* key identifiers, as a CA tool writes them, so issuers are matched */
	{
		unsigned char id[64];
		size_t idlen = sizeof(id);

		assert_int_equal(gnutls_x509_crt_get_key_id(out->crt, 0, id, &idlen), 0);
		assert_int_equal(gnutls_x509_crt_set_subject_key_id(out->crt, id, idlen), 0);
		if (issuer) {
			idlen = sizeof(id);
			assert_int_equal(gnutls_x509_crt_get_subject_key_id(issuer->crt, id,
			    &idlen, NULL), 0);
			assert_int_equal(gnutls_x509_crt_set_authority_key_id(out->crt, id,
			    idlen), 0);
		}
	}
	assert_int_equal(gnutls_x509_crt_sign2(out->crt, issuer ? issuer->crt : out->crt,
	    issuer ? issuer->key : out->key, GNUTLS_DIG_SHA256, 0), 0);
	assert_int_equal(gnutls_x509_crt_export2(out->crt, GNUTLS_X509_FMT_DER, &d), 0);
	out->der.data = xmalloc(d.size);
	memcpy((void *)out->der.data, d.data, d.size);
	out->der.len = d.size;
	gnutls_free(d.data);
}

void
tc_free(struct tc *c)
{
	if (c->crt)
		gnutls_x509_crt_deinit(c->crt);
	if (c->key)
		gnutls_x509_privkey_deinit(c->key);
	free((void *)c->der.data);
	memset(c, 0, sizeof(*c));
}

static void
put_pem(FILE *f, gnutls_x509_crt_t crt)
{
	gnutls_datum_t d;

	assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d), 0);
	assert_int_equal(fwrite(d.data, 1, d.size, f), d.size);
	gnutls_free(d.data);
}

void
tc_write(const struct tc *c, const struct tc *const *more, const char *path,
    const char *key_path)
{
	FILE *f = fopen(path, "w");
	gnutls_datum_t d;

	assert_non_null(f);
	put_pem(f, c->crt);
	for (const struct tc *const *m = more; m && *m; m++)
		put_pem(f, (*m)->crt);
	assert_int_equal(fclose(f), 0);
	if (key_path == NULL)
		return;
	assert_non_null(f = fopen(key_path, "w"));
	assert_int_equal(gnutls_x509_privkey_export2(c->key, GNUTLS_X509_FMT_PEM, &d), 0);
	assert_int_equal(fwrite(d.data, 1, d.size, f), d.size);
	gnutls_free(d.data);
	assert_int_equal(fclose(f), 0);
}

/* ------------------------------------------------------------ server */

static void
serve_one(struct ts *s, int fd)
{
	gnutls_session_t session;
	struct timeval tv = { 5, 0 };
	int rc;

	/* bounded: a client that stalls cannot hold the test */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (gnutls_init(&session, GNUTLS_SERVER) < 0)
		return;
	gnutls_set_default_priority(session);
	gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, s->cred);
	gnutls_transport_set_int(session, fd);
	do {
		rc = gnutls_handshake(session);
	} while (rc < 0 && !gnutls_error_is_fatal(rc));
	if (rc == 0) {
		pthread_mutex_lock(&s->lock);
		s->handshakes++;
		pthread_mutex_unlock(&s->lock);
		(void)gnutls_bye(session, GNUTLS_SHUT_WR);
	}
	gnutls_deinit(session);
}

static void *
server_main(void *arg)
{
	struct ts *s = arg;
	int held[64];
	size_t nheld = 0;

	for (;;) {
		struct pollfd p[2] = { { s->fd, POLLIN, 0 }, { s->stop_pipe[0], POLLIN, 0 } };
		int fd;

		if (poll(p, 2, 1000) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		if ((fd = accept(s->fd, NULL, NULL)) == -1)
			continue;
		pthread_mutex_lock(&s->lock);
		s->accepted++;
		pthread_mutex_unlock(&s->lock);
		switch (s->mode) {
		case TS_HANDSHAKE:
			serve_one(s, fd);
			close(fd);
			break;
		case TS_SILENT:
			if (nheld < ARRAY_SIZE(held))
				held[nheld++] = fd;
			else
				close(fd);
			break;
		case TS_CLOSE:
			close(fd);
			break;
		}
	}
	for (size_t i = 0; i < nheld; i++)
		close(held[i]);
	return NULL;
}

static int
bind_port(const char *host, uint16_t port, uint16_t *bound)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, v6 = strchr(host, ':') != NULL;

	memset(&ss, 0, sizeof(ss));
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -1;
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -1;
		len = sizeof(*a);
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 || listen(fd, 64) == -1) {
		close(fd);
		return -1;
	}
	len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	*bound = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

static int
ts_cred(struct ts *s, const struct tc *const *chain, size_t n, const unsigned char *staple,
    size_t staple_len)
{
	gnutls_x509_crt_t crts[8];

	assert_true(n >= 1 && n <= ARRAY_SIZE(crts));
	for (size_t i = 0; i < n; i++)
		crts[i] = chain[i]->crt;
	assert_int_equal(gnutls_certificate_allocate_credentials(&s->cred), 0);
	assert_int_equal(gnutls_certificate_set_x509_key(s->cred, crts, (unsigned)n,
	    chain[0]->key), 0);
	if (staple) {
		gnutls_datum_t d = { (unsigned char *)staple, (unsigned)staple_len };

		/* bytes of the test's choosing, not a response for this leaf */
		gnutls_certificate_set_flags(s->cred, GNUTLS_CERTIFICATE_SKIP_OCSP_RESPONSE_CHECK);
		assert_int_equal(gnutls_certificate_set_ocsp_status_request_mem(s->cred, &d, 0,
		    GNUTLS_X509_FMT_DER), 0);
	}
	return 0;
}

static int
ts_run(struct ts *s, const char *host, uint16_t port, enum ts_mode mode)
{
	s->mode = mode;
	s->handshakes = s->accepted = 0;
	if ((s->fd = bind_port(host, port, &s->port)) == -1)
		return -1;
	assert_int_equal(pipe(s->stop_pipe), 0);
	pthread_mutex_init(&s->lock, NULL);
	assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
	s->family = host;
	return 0;
}

int
ts_start(struct ts *s, const char *host, const struct tc *const *chain, size_t n,
    const unsigned char *staple, size_t staple_len, enum ts_mode mode)
{
	return ts_start_at(s, host, 0, chain, n, staple, staple_len, mode);
}

int
ts_start_at(struct ts *s, const char *host, uint16_t port, const struct tc *const *chain,
    size_t n, const unsigned char *staple, size_t staple_len, enum ts_mode mode)
{
	memset(s, 0, sizeof(*s));
	ts_cred(s, chain, n, staple, staple_len);
	if (ts_run(s, host, port, mode) == -1) {
		gnutls_certificate_free_credentials(s->cred);
		return -1;
	}
	return 0;
}

static void
ts_halt(struct ts *s)
{
	assert_int_equal(write(s->stop_pipe[1], "x", 1), 1);
	pthread_join(s->thread, NULL);
	close(s->fd);
	close(s->stop_pipe[0]);
	close(s->stop_pipe[1]);
	pthread_mutex_destroy(&s->lock);
}

void
ts_stop(struct ts *s)
{
	ts_halt(s);
	gnutls_certificate_free_credentials(s->cred);
}

unsigned
ts_handshakes(struct ts *s)
{
	unsigned n;

	pthread_mutex_lock(&s->lock);
	n = s->handshakes;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* ------------------------------------------------------------ files */

char *
tl_slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	struct buf b;
	char chunk[4096];
	size_t n;

	if (f == NULL)
		return NULL;
	buf_init(&b);
	buf_puts(&b, "");
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	return buf_steal(&b);
}

void
tl_rm_rf(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (d == NULL) {
		unlink(path);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		char *p;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		p = xasprintf("%s/%s", path, e->d_name);
		tl_rm_rf(p);
		free(p);
	}
	closedir(d);
	rmdir(path);
}

static char log_path[64];
static int log_saved = -1;

void
tl_log_start(void)
{
	int fd;

	snprintf(log_path, sizeof(log_path), "/tmp/testlib.%d.log", (int)getpid());
	assert_true((fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	fflush(stderr);
	log_saved = dup(2);
	assert_int_equal(dup2(fd, 2), 2);
	close(fd);
}

char *
tl_log_stop(void)
{
	char *text;

	fflush(stderr);
	assert_int_equal(dup2(log_saved, 2), 2);
	close(log_saved);
	text = tl_slurp(log_path);
	unlink(log_path);
	assert_non_null(text);
	return text;
}

size_t
tl_count(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

unsigned
ts_wait_handshakes(struct ts *s, unsigned n, uint64_t ms)
{
	uint64_t end = mono_ms() + ms;
	unsigned got;

	while ((got = ts_handshakes(s)) < n && mono_ms() < end)
		usleep(10 * 1000);
	return got;
}

int
tl_run_until(struct loop *l, const int *done, uint64_t ms)
{
	uint64_t end = mono_ms() + ms;

	while (!*done) {
		uint64_t now = mono_ms();

		if (now >= end)
			return -1;
		if (loop_run_once(l, (int64_t)(end - now)) == -1)
			return -1;
	}
	return 0;
}
