/* testpki.c - the test PKI for cmocka test files (testpki.h). */
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
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "core/util.h"
#include "testpki.h"

static char pki_dir[256];

char *
pki_path(const char *file)
{
	return xasprintf("%s/%s", pki_dir, file);
}

void
pem_load(struct pem *p, const char *file)
{
	gnutls_x509_crt_t *crts;
	gnutls_datum_t d;
	unsigned n, i;
	char *path = pki_path(file);

	memset(p, 0, sizeof(*p));
	assert_int_equal(gnutls_load_file(path, &d), 0);
	assert_int_equal(gnutls_x509_crt_list_import2(&crts, &n, &d,
	    GNUTLS_X509_FMT_PEM, 0), 0);
	assert_true(n > 0 && n <= TESTPKI_MAXCERTS);
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
pem_free(struct pem *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		gnutls_free(p->raw[i].data);
	p->n = 0;
}

static int
run_pki(const char *script, const char *dir)
{
	pid_t pid;
	int st;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		execlp("sh", "sh", script, dir, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) == -1)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

void
testpki_remove(void)
{
	DIR *d;
	struct dirent *e;
	char *p;

	if (pki_dir[0] == '\0' || (d = opendir(pki_dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		p = pki_path(e->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(pki_dir);
	pki_dir[0] = '\0';
}

int
testpki_make(const char *name)
{
	return testpki_make_script("pki.sh", name);
}

int
testpki_make_script(const char *file, const char *name)
{
	const char *srcdir = getenv("TEST_SRCDIR");
	const char *tmp = getenv("TMPDIR");
	char *script;

	snprintf(pki_dir, sizeof(pki_dir), "%s/%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
	if (mkdtemp(pki_dir) == NULL) {
		perror("mkdtemp");
		pki_dir[0] = '\0';
		return -1;
	}
	script = srcdir && *srcdir ? xasprintf("%s/%s", srcdir, file) :
	    xasprintf("tests/%s", file);
	if (run_pki(script, pki_dir) == -1) {
		fprintf(stderr, "sh %s %s failed\n", script, pki_dir);
		free(script);
		testpki_remove();
		return -1;
	}
	free(script);
	return 0;
}

/* A record for the first certificate of file NAME: its DER or its public
 * key, exact or hashed. The caller frees r->data. */
void
pki_tlsa(struct dns_tlsa *r, unsigned usage, unsigned selector, unsigned mtype,
         const char *name)
{
	struct pem p;
	gnutls_datum_t src = { NULL, 0 }, spki = { NULL, 0 };
	gnutls_x509_crt_t crt;
	gnutls_pubkey_t pub;

	pem_load(&p, name);
	if (selector == 1) {
		assert_int_equal(gnutls_x509_crt_init(&crt), 0);
		assert_int_equal(gnutls_x509_crt_import(crt, &p.raw[0], GNUTLS_X509_FMT_DER), 0);
		assert_int_equal(gnutls_pubkey_init(&pub), 0);
		assert_int_equal(gnutls_pubkey_import_x509(pub, crt, 0), 0);
		assert_int_equal(gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &spki), 0);
		gnutls_pubkey_deinit(pub);
		gnutls_x509_crt_deinit(crt);
		src = spki;
	} else {
		src = p.raw[0];
	}
	r->usage = (uint8_t)usage;
	r->selector = (uint8_t)selector;
	r->mtype = (uint8_t)mtype;
	if (mtype == 0) {
		r->len = src.size;
		r->data = xmalloc(src.size);
		memcpy(r->data, src.data, src.size);
	} else {
		r->len = mtype == 1 ? 32 : 64;
		r->data = xmalloc(r->len);
		assert_int_equal(gnutls_hash_fast(mtype == 1 ? GNUTLS_DIG_SHA256 :
		    GNUTLS_DIG_SHA512, src.data, src.size, r->data), 0);
	}
	gnutls_free(spki.data);
	pem_free(&p);
}
