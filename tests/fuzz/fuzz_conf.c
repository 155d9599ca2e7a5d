/*
 * fuzz_conf.c - configuration parsing (conf_parse): the input is written to
 * t.conf in a directory of its own and parsed, so libconfig reads it and
 * conf.c validates every setting as `tlswatchd -t` does, short of loading
 * the trust stores and client certificates it names (conf_load's GnuTLS
 * part, which would load the system store at every input and refuse the
 * seeds' placeholder PEM files). The directory
 * holds the files the seeds (tests/test_conf.c's configurations) name:
 * ca.pem, a certificate and key for the web block, an include file.
 * Durations (parse_duration_ms) are fed the raw input as well.
 *
 * The input may name any path (ca_file, @include, tls_cert_file): the
 * harness runs with standard input on /dev/null and without a controlling
 * terminal, so that no path it may name can block.
 *
 * Invariants: a config or errors, never both or neither; errors one per
 * line, each starting with the file, printable; an accepted config keeps
 * the promises of conf.h (unique names, sorted labels and users, positive
 * intervals, crit <= warn, shard in range), equals itself, and loads the
 * same twice.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"
#include "fuzz.h"
#include "core/util.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	(void)argc;
	(void)argv;
	if ((fd = open("/dev/null", O_RDONLY)) != -1) {
		dup2(fd, 0);
		close(fd);
	}
	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY)) != -1) {
		(void)ioctl(fd, TIOCNOTTY);
		close(fd);
	}
	if (chdir(fuzz_dir()) == -1) {
		perror(fuzz_dir());
		abort();
	}
	fuzz_write("ca.pem", fuzz_ca_pem, strlen(fuzz_ca_pem));
	fuzz_write("lab-ca.pem", fuzz_ca_pem, strlen(fuzz_ca_pem));
	fuzz_write("cert.pem", fuzz_good_pem, strlen(fuzz_good_pem));
	fuzz_write("key.pem", fuzz_good_key, strlen(fuzz_good_key));
	fuzz_write("c.pem", "x", 1);
	fuzz_write("k.pem", "x", 1);
	(void)mkdir("inc", 0755);
	fuzz_write("inc/targets.inc", "targets = ( { address = \"a.example:443\"; } );\n", 47);
	return 0;
}

static void
check_errors(const char *errors)
{
	const char *p = errors;

	FUZZ_CHECK(*p != '\0', "empty errors");
	while (*p) {
		const char *nl = strchr(p, '\n'), *end = nl ? nl : p + strlen(p);

		FUZZ_CHECK(end > p, "an empty line in the errors:\n%s", errors);
		FUZZ_CHECK(strncmp(p, "t.conf:", 7) == 0 || strncmp(p, "./", 2) == 0 || *p == '/',
		    "an error that names no file: \"%.*s\"", (int)(end - p), p);
		for (const char *q = p; q < end; q++)
			FUZZ_CHECK((unsigned char)*q >= 0x20 && *q != 0x7f,
			    "control byte 0x%02x in an error: \"%.*s\"", (unsigned char)*q,
			    (int)(end - p), p);
		p = nl ? nl + 1 : end;
		FUZZ_CHECK(nl == NULL || *p != '\0', "errors end with a newline");
	}
}

static void
check_conf(const struct conf *c)
{
	FUZZ_CHECK(c->nlisten >= 1, "no listen address");
	FUZZ_CHECK(c->interval_ms > 0 && c->timeout_ms > 0, "a zero interval or timeout");
	FUZZ_CHECK(c->concurrency >= 1 && c->concurrency <= CONF_MAX_CONCURRENCY,
	    "concurrency %u", c->concurrency);
	FUZZ_CHECK(c->shard_k >= 1 && c->shard_k <= c->shard_n && c->shard_n <= 4096,
	    "shard %u/%u", c->shard_k, c->shard_n);
	FUZZ_CHECK(threshold_in_order(&c->warn, &c->crit), "crit above warn");
	FUZZ_CHECK((c->warn.ms > 0) != (c->warn.fraction > 0) &&
	    (c->crit.ms > 0) != (c->crit.fraction > 0), "a threshold neither duration nor fraction");
	FUZZ_CHECK(c->warn.fraction < THRESHOLD_SCALE && c->crit.fraction < THRESHOLD_SCALE,
	    "a fraction of 100%% or more");
	FUZZ_CHECK(c->state_dir != NULL, "no state_dir");
	for (size_t i = 0; i < c->ntargets; i++) {
		const struct conf_target *t = &c->targets[i];

		FUZZ_CHECK(t->name && *t->name && t->address && t->host, "target %zu incomplete", i);
		FUZZ_CHECK(t->interval_ms > 0 && t->timeout_ms > 0, "target %s: zero interval",
		    t->name);
		FUZZ_CHECK(t->tls.starttls >= 0 && t->tls.starttls < STARTTLS_COUNT,
		    "target %s: starttls %d", t->name, t->tls.starttls);
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(c->targets[j].name, t->name) != 0, "two targets named %s",
			    t->name);
		for (size_t j = 1; j < t->nlabels; j++)
			FUZZ_CHECK(strcmp(t->labels[j - 1].name, t->labels[j].name) < 0,
			    "target %s: labels not sorted and unique", t->name);
		FUZZ_CHECK(conf_target_equal(t, t), "target %s differs from itself", t->name);
	}
	for (size_t j = 1; j < c->web.nusers; j++)
		FUZZ_CHECK(strcmp(c->web.users[j - 1].name, c->web.users[j].name) < 0,
		    "users not sorted and unique");
	FUZZ_CHECK(conf_web_equal(&c->web, &c->web), "the web block differs from itself");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *errors = NULL, *errors2 = NULL, *s = fuzz_str(data, size);
	struct conf *c, *c2;
	uint64_t ms;

	if (parse_duration_ms(s, &ms) == 0)
		FUZZ_CHECK(ms > 0, "the duration \"%s\" is zero", s);
	free(s);

	fuzz_write("t.conf", data, size);
	c = conf_parse("t.conf", &errors);
	FUZZ_CHECK((c == NULL) != (errors == NULL), "a config %s errors", c ? "and" : "nor");
	if (c == NULL) {
		check_errors(errors);
		/* the same file, the same errors */
		FUZZ_CHECK(conf_parse("t.conf", &errors2) == NULL && errors2 != NULL &&
		    strcmp(errors, errors2) == 0, "loaded twice, different errors");
		free(errors);
		free(errors2);
		return 0;
	}
	check_conf(c);
	c2 = conf_parse("t.conf", &errors2);
	FUZZ_CHECK(c2 != NULL, "accepted once, refused the next time: %s", errors2);
	FUZZ_CHECK(c2->ntargets == c->ntargets, "loaded twice, different targets");
	for (size_t i = 0; i < c->ntargets; i++)
		FUZZ_CHECK(conf_target_equal(&c->targets[i], &c2->targets[i]),
		    "target %s loaded twice, differently", c->targets[i].name);
	FUZZ_CHECK(conf_web_equal(&c->web, &c2->web), "the web block loaded twice, differently");
	conf_free(c);
	conf_free(c2);
	return 0;
}
