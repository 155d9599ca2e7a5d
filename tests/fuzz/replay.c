/*
 * replay.c - main() for a harness built without libFuzzer: run
 * LLVMFuzzerTestOneInput once over each file named on the command line
 * (every file inside a directory, in name order). With no arguments, a
 * harness fuzz_NAME replays $TEST_SRCDIR/fuzz/corpus/NAME and
 * $TEST_SRCDIR/fuzz/regress/NAME, which is what `make check` runs, so every
 * build (gcc, clang, ASan) replays the seeds and every crash found before.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "core/util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static size_t replayed;

/* The whole of path, or NULL. */
static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[8192];
	size_t n;

	if (f == NULL)
		return NULL;
	buf_init(&b);
	buf_reserve(&b, 1);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	if (ferror(f)) {
		fclose(f);
		buf_free(&b);
		return NULL;
	}
	fclose(f);
	*len = b.len;
	return (unsigned char *)buf_steal(&b);
}

static int
run_file(const char *path)
{
	size_t len = 0;
	unsigned char *data = slurp(path, &len), *exact;

	if (data == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	/* an allocation of exactly the input's size, as libFuzzer gives it,
	 * so that a read past the end is a read past the allocation */
	exact = xmalloc(len ? len : 1);
	memcpy(exact, data, len);
	free(data);
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
	(void)LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	replayed++;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A file, or every regular file in a directory. missing_ok: a directory
 * that does not exist counts as empty (no crash found yet). */
static int
run_path(const char *path, int missing_ok)
{
	struct stat sb;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;
	int rc = 0;
	DIR *d;

	if (stat(path, &sb) == -1) {
		if (missing_ok && errno == ENOENT)
			return 0;
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode))
		return run_file(path);
	if ((d = opendir(path)) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xasprintf("%s/%s", path, e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (stat(names[i], &sb) == 0 && S_ISREG(sb.st_mode) && run_file(names[i]) == -1)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/'), *srcdir = getenv("TEST_SRCDIR");
	int rc = 0;

	base = base ? base + 1 : argv[0];
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			if (run_path(argv[i], 0) == -1)
				rc = 1;
	} else {
		/* fuzz_NAME (libtool and EXEEXT aside) replays its own corpus */
		char *name = xstrdup(strncmp(base, "fuzz_", 5) == 0 ? base + 5 : base);
		char *dot = strchr(name, '.'), *corpus, *regress;

		if (dot)
			*dot = '\0';
		if (srcdir == NULL) {
			fprintf(stderr, "usage: %s FILE|DIR... (or set TEST_SRCDIR)\n", argv[0]);
			return 2;
		}
		corpus = xasprintf("%s/fuzz/corpus/%s", srcdir, name);
		regress = xasprintf("%s/fuzz/regress/%s", srcdir, name);
		if (run_path(corpus, 0) == -1 || run_path(regress, 1) == -1)
			rc = 1;
		free(corpus);
		free(regress);
		free(name);
		/* an empty corpus would make this test prove nothing */
		if (rc == 0 && replayed == 0) {
			fprintf(stderr, "replay: no inputs in the corpus of %s\n", base);
			rc = 1;
		}
	}
	fprintf(stderr, "replay: %zu inputs, %s\n", replayed, rc ? "FAILED" : "no crash");
	return rc;
}
