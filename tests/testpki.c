/* testpki.c - the certificate unit tests' shared set-up: a PKI made at
 * test time by a script of tests/, and PEM chains read from it. */
#include "config.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <gnutls/x509.h>

#include "core/util.h"
#include "testpki.h"

char *
test_pki_path(const char *dir, const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

void
test_pem_load(struct test_pem *p, const char *dir, const char *name)
{
	gnutls_x509_crt_t *crts;
	gnutls_datum_t d;
	unsigned n, i;
	char *path = test_pki_path(dir, name);

	memset(p, 0, sizeof(*p));
	if (gnutls_load_file(path, &d) < 0)
		fail_msg("cannot read %s", path);
	assert_int_equal(gnutls_x509_crt_list_import2(&crts, &n, &d,
	    GNUTLS_X509_FMT_PEM, 0), 0);
	assert_true(n > 0 && n <= TEST_PEM_MAX);
	for (i = 0; i < n; i++) {
		assert_int_equal(gnutls_x509_crt_export2(crts[i],
		    GNUTLS_X509_FMT_DER, &p->raw[i]), 0);
		p->der[i].data = p->raw[i].data;
		p->der[i].len = p->raw[i].size;
		gnutls_x509_crt_deinit(crts[i]);
	}
	p->n = n;
	gnutls_free(crts);
	gnutls_free(d.data);
	free(path);
}

void
test_pem_free(struct test_pem *p)
{
	for (size_t i = 0; i < p->n; i++)
		gnutls_free(p->raw[i].data);
	p->n = 0;
}

void
test_pki_remove(char *dir)
{
	DIR *d;
	struct dirent *e;

	if (dir[0] == '\0' || (d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char *p;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		p = test_pki_path(dir, e->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
	dir[0] = '\0';
}

int
test_pki_make(const char *script, const char *tag, char *dir, size_t size)
{
	const char *srcdir = getenv("TEST_SRCDIR"), *tmp = getenv("TMPDIR");
	char *path;
	pid_t pid;
	int st = -1;

	snprintf(dir, size, "%s/%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		dir[0] = '\0';
		return -1;
	}
	path = srcdir && *srcdir ? xasprintf("%s/%s", srcdir, script) :
	    xasprintf("tests/%s", script);
	if ((pid = fork()) == 0) {
		execlp("sh", "sh", path, dir, (char *)NULL);
		_exit(127);
	}
	if (pid == -1 || waitpid(pid, &st, 0) == -1 || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0) {
		fprintf(stderr, "sh %s %s failed\n", path, dir);
		free(path);
		test_pki_remove(dir);
		return -1;
	}
	free(path);
	return 0;
}
