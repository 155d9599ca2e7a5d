/*
 * fuzz_filesd.c - file_sd documents (src/conf/filesd.c, jansson and
 * libyaml underneath) as a hostile generator of target files writes them.
 *
 * Input: byte 0 picks the format (bit 0: YAML); the rest is the document.
 *
 * Invariants: a result xor errors; errors are lines that each start with
 * the file's name, printable, at most FILESD_MAX_ERRORS + 1 of them; at
 * most FILESD_MAX_TARGETS targets, each of which parses again as a /probe
 * target to the same host and port, with labels sorted, unique, valid by
 * the one label rule, without "__" names, values UTF-8 without NUL, a
 * module never empty; YAML positions 1-based, JSON's 0; the same input
 * read twice gives the same targets.
 *
 * A plain libFuzzer harness (LLVMFuzzerTestOneInput); it joins the
 * tests/fuzz/ build once that lands.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/filesd.h"
#include "conf/ptarget.h"
#include "core/util.h"

#include "check.h"

static void
check_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int n;

		if (*p < 0x80) {
			p++;
			continue;
		}
		n = utf8_seq(p);
		CHECK(n > 0, "invalid UTF-8 in a label value");
		p += n;
	}
}

static void
check_errors(const char *errors, const char *name)
{
	size_t lines = 0, nl = strlen(name);
	const char *line = errors;

	CHECK(*errors != '\0', "empty errors");
	while (line != NULL) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);

		lines++;
		CHECK(len > nl && memcmp(line, name, nl) == 0 && line[nl] == ':',
		    "an error line does not start with the file name: %.*s", (int)len, line);
		for (size_t i = 0; i < len; i++)
			CHECK((unsigned char)line[i] >= 0x20 && line[i] != 0x7f,
			    "control byte 0x%02x in an error", (unsigned char)line[i]);
		line = end ? end + 1 : NULL;
	}
	CHECK(lines <= FILESD_MAX_ERRORS + 1, "%zu error lines", lines);
}

static void
check_target(const struct filesd_target *t, int yaml)
{
	struct ptarget again;
	const char *msg = ptarget_parse(t->target, &again);

	CHECK(msg == NULL, "a kept target does not parse again: %s", msg);
	CHECK(strcmp(again.host, t->addr.host) == 0 && again.port == t->addr.port &&
	    again.starttls == t->addr.starttls, "the target parses to something else again");
	ptarget_fini(&again);
	CHECK(t->module == NULL || *t->module != '\0', "an empty module");
	CHECK(yaml ? t->line > 0 && t->column > 0 : t->line == 0 && t->column == 0,
	    "position %d:%d", t->line, t->column);
	for (size_t i = 0; i < t->nlabels; i++) {
		CHECK(conf_label_check(t->labels[i].name) == CONF_LABEL_OK,
		    "label name \"%s\" kept", t->labels[i].name);
		if (i > 0)
			CHECK(strcmp(t->labels[i - 1].name, t->labels[i].name) < 0,
			    "labels not sorted or not unique");
		check_utf8(t->labels[i].value);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum filesd_format f;
	const char *name;
	struct filesd *a, *b;
	char *ea = NULL, *eb = NULL;

	if (size < 1)
		return 0;
	f = (data[0] & 1) ? FILESD_YAML : FILESD_JSON;
	name = f == FILESD_YAML ? "t.yml" : "t.json";
	a = filesd_parse(name, f, (const char *)data + 1, size - 1, &ea);
	CHECK((a == NULL) != (ea == NULL), "a result and errors, or neither");
	if (a == NULL) {
		check_errors(ea, name);
	} else {
		CHECK(a->ntargets <= FILESD_MAX_TARGETS, "%zu targets", a->ntargets);
		for (size_t i = 0; i < a->ntargets; i++)
			check_target(&a->targets[i], f == FILESD_YAML);
	}
	b = filesd_parse(name, f, (const char *)data + 1, size - 1, &eb);
	CHECK((a == NULL) == (b == NULL), "read twice, once accepted and once not");
	if (a != NULL) {
		CHECK(a->ntargets == b->ntargets, "read twice, different counts");
		for (size_t i = 0; i < a->ntargets; i++)
			CHECK(strcmp(a->targets[i].target, b->targets[i].target) == 0,
			    "read twice, different targets");
	} else {
		CHECK(strcmp(ea, eb) == 0, "read twice, different errors");
	}
	filesd_free(a);
	filesd_free(b);
	free(ea);
	free(eb);
	return 0;
}
