/* bench/crl.c - what a large CRL costs tlswatchd: the time to parse and
 * verify it (crl_load), the memory its serial set keeps, and the time of
 * one lookup, for serials it lists and serials it does not.
 *
 *   bench/crl CRL.der ISSUER.der SERIALS.txt
 *
 * SERIALS.txt has one revoked serial in hex per line (openssl ca's
 * index.txt works: the fourth tab-separated field). Memory is the growth
 * of VmRSS from /proc/self/status across crl_load once the DER is freed,
 * and the set's own count of its heap (serials_memory). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "verdict/crl.h"
#include "verdict/serials.h"

static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *p;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) {
		perror(path);
		exit(1);
	}
	rewind(f);
	p = xmalloc((size_t)n + 1);
	if (fread(p, 1, (size_t)n, f) != (size_t)n) {
		perror(path);
		exit(1);
	}
	fclose(f);
	*len = (size_t)n;
	return p;
}

static long
rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
unhex(const char *s, unsigned char *out, size_t max)
{
	size_t n = strlen(s);

	if (n % 2 || n / 2 > max)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return (int)(n / 2);
}

int
main(int argc, char **argv)
{
	unsigned char *der, *issuer, (*keys)[SERIALS_MAX_LEN];
	size_t len, ilen, nkeys = 0, cap = 1024, *klen;
	struct crl *c;
	char *err, line[512];
	long before, after;
	double t0, t1;
	FILE *f;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	size_t hits = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: %s CRL.der ISSUER.der SERIALS.txt\n", argv[0]);
		return 2;
	}
	before = rss_kb();
	der = slurp(argv[1], &len);
	issuer = slurp(argv[2], &ilen);
	t0 = cpu_s();
	if (crl_load(der, len, issuer, ilen, &c, &err) == -1) {
		fprintf(stderr, "crl_load: %s\n", err);
		return 1;
	}
	t1 = cpu_s();
	free(der);
	after = rss_kb();
	printf("crl_bytes %zu\n", len);
	printf("crl_entries %zu\n", serials_count(c->revoked));
	printf("load_cpu_seconds %.3f\n", t1 - t0);
	printf("set_bytes %zu\n", serials_memory(c->revoked));
	printf("rss_growth_bytes %ld\n", (after - before) * 1024);

	keys = xmalloc(cap * sizeof(*keys));
	klen = xmalloc(cap * sizeof(*klen));
	if ((f = fopen(argv[3], "r")) == NULL) {
		perror(argv[3]);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *field = line, *tab;
		int k;

		/* an index.txt line: the serial is the fourth field */
		for (int i = 0; i < 3 && (tab = strchr(field, '\t')); i++)
			field = tab + 1;
		field[strcspn(field, "\t\n")] = '\0';
		if (nkeys == cap) {
			cap *= 2;
			keys = xreallocarray(keys, cap, sizeof(*keys));
			klen = xreallocarray(klen, cap, sizeof(*klen));
		}
		if ((k = unhex(field, keys[nkeys], SERIALS_MAX_LEN)) > 0)
			klen[nkeys++] = (size_t)k;
	}
	fclose(f);


	/* lookups: every listed serial, then as many absent ones */
	t0 = cpu_s();
	for (size_t i = 0; i < nkeys; i++)
		hits += (size_t)serials_find(c->revoked, keys[i], klen[i], NULL, NULL);
	t1 = cpu_s();
	printf("lookups_listed %zu\n", nkeys);
	printf("lookups_listed_found %zu\n", hits);
	printf("lookup_listed_ns %.1f\n", nkeys ? (t1 - t0) * 1e9 / (double)nkeys : 0.0);
	hits = 0;
	for (size_t i = 0; i < nkeys; i++) {
		for (size_t j = 0; j < klen[i]; j++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			keys[i][j] = (unsigned char)x;
		}
		keys[i][0] &= 0x7f;
	}
	t0 = cpu_s();
	for (size_t i = 0; i < nkeys; i++)
		hits += (size_t)serials_find(c->revoked, keys[i], klen[i], NULL, NULL);
	t1 = cpu_s();
	printf("lookups_absent_found %zu\n", hits);
	printf("lookup_absent_ns %.1f\n", nkeys ? (t1 - t0) * 1e9 / (double)nkeys : 0.0);
	crl_free(c);
	free(issuer);
	free(keys);
	free(klen);
	return 0;
}
