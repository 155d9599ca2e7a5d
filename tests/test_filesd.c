/* test_filesd.c - file_sd documents in JSON and YAML: targets, labels and
 * modules read as Prometheus reads them, and every error with its file and
 * position (line and column as libyaml and jansson give them). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/filesd.h"
#include "probe/starttls.h"

static struct filesd *
parse(enum filesd_format f, const char *text, char **errors)
{
	return filesd_parse(f == FILESD_JSON ? "t.json" : "t.yml", f, text, strlen(text), errors);
}

static struct filesd *
parse_ok(enum filesd_format f, const char *text)
{
	char *errors = NULL;
	struct filesd *d = parse(f, text, &errors);

	if (d == NULL)
		fail_msg("refused: %s", errors);
	assert_null(errors);
	return d;
}

/* The error text, which must name the file; the caller frees. */
static char *
parse_bad(enum filesd_format f, const char *text)
{
	char *errors = NULL;
	struct filesd *d = parse(f, text, &errors);

	if (d != NULL)
		fail_msg("accepted: %s", text);
	assert_non_null(errors);
	assert_memory_equal(errors, f == FILESD_JSON ? "t.json" : "t.yml", f == FILESD_JSON ? 6 : 5);
	return errors;
}

static void
expect_error(enum filesd_format f, const char *text, const char *want)
{
	char *errors = parse_bad(f, text);

	if (strcmp(errors, want) != 0)
		fail_msg("for %s\n got: %s\nwant: %s", text, errors, want);
	free(errors);
}

static const char *
label(const struct filesd_target *t, const char *name)
{
	for (size_t i = 0; i < t->nlabels; i++)
		if (strcmp(t->labels[i].name, name) == 0)
			return t->labels[i].value;
	return NULL;
}

/* The same document in both formats gives the same targets. */
static void
check_example(const struct filesd *d, int yaml)
{
	assert_int_equal(d->ntargets, 4);
	assert_string_equal(d->targets[0].target, "web.example.org:443");
	assert_string_equal(d->targets[0].addr.host, "web.example.org");
	assert_int_equal(d->targets[0].addr.port, 443);
	assert_null(d->targets[0].module);
	assert_int_equal(d->targets[0].nlabels, 2);
	/* sorted by name, "__" labels left out */
	assert_string_equal(d->targets[0].labels[0].name, "env");
	assert_string_equal(d->targets[0].labels[0].value, "prod");
	assert_string_equal(d->targets[0].labels[1].name, "team");
	assert_string_equal(d->targets[0].labels[1].value, "web");
	assert_string_equal(d->targets[1].target, "[::1]:8443");
	assert_int_equal(d->targets[1].addr.host_is_ip, 1);
	assert_int_equal(d->targets[1].index, 1);
	assert_int_equal(d->targets[1].group, 0);

	assert_string_equal(d->targets[2].target, "smtp://mx.example.org");
	assert_int_equal(d->targets[2].addr.port, 25);
	assert_int_equal(d->targets[2].addr.starttls, STARTTLS_SMTP);
	assert_string_equal(d->targets[2].module, "mail");
	assert_int_equal(d->targets[2].group, 1);
	assert_int_equal(d->targets[2].nlabels, 0);
	assert_string_equal(d->targets[3].module, "mail");
	assert_string_equal(d->targets[3].addr.host, "imap.example.org");
	if (yaml) {
		assert_int_equal(d->targets[0].line, 1);
		assert_int_equal(d->targets[0].column, 13);
		assert_int_equal(d->targets[3].line, 7);
		assert_int_equal(d->targets[3].column, 7);
	} else {
		assert_int_equal(d->targets[0].line, 0);
	}
}

static void
test_json(void **state)
{
	static const char doc[] =
	    "[\n"
	    "  {\"targets\": [\"web.example.org:443\", \"[::1]:8443\"],\n"
	    "   \"labels\": {\"team\": \"web\", \"env\": \"prod\", \"__meta_x\": \"y\"}},\n"
	    "  {\"targets\": [\"smtp://mx.example.org\", \"imaps://imap.example.org\"],\n"
	    "   \"labels\": {\"__param_module\": \"mail\"}},\n"
	    "  {\"targets\": [], \"labels\": {\"a\": \"b\"}},\n"
	    "  {\"labels\": {\"a\": \"b\"}},\n"
	    "  {\"targets\": null, \"labels\": null}\n"
	    "]\n";
	struct filesd *d = parse_ok(FILESD_JSON, doc);

	(void)state;
	check_example(d, 0);
	filesd_free(d);

	/* an empty list is a valid file with no targets */
	d = parse_ok(FILESD_JSON, "[]");
	assert_int_equal(d->ntargets, 0);
	filesd_free(d);
	/* Go's encoding/json matches field names case-insensitively */
	d = parse_ok(FILESD_JSON, "[{\"Targets\": [\"a.test:1\"], \"LABELS\": {\"x\": \"y\"}}]");
	assert_int_equal(d->ntargets, 1);
	assert_string_equal(label(&d->targets[0], "x"), "y");
	filesd_free(d);
	filesd_free(NULL);
}

static void
test_yaml(void **state)
{
	static const char doc[] =
	    "- targets: [web.example.org:443, \"[::1]:8443\"]\n"
	    "  labels: {team: web, env: prod, __meta_x: y}\n"
	    "- labels:\n"
	    "    __module: mail\n"
	    "  targets:\n"
	    "    - smtp://mx.example.org\n"
	    "    - imaps://imap.example.org\n"
	    "- targets: []\n"
	    "- labels: {a: b}\n"
	    "- targets:\n"
	    "  labels: ~\n";
	struct filesd *d = parse_ok(FILESD_YAML, doc);

	(void)state;
	check_example(d, 1);
	filesd_free(d);

	/* an empty file, a null document and an empty list: no targets */
	d = parse_ok(FILESD_YAML, "");
	assert_int_equal(d->ntargets, 0);
	filesd_free(d);
	d = parse_ok(FILESD_YAML, "---\n");
	assert_int_equal(d->ntargets, 0);
	filesd_free(d);
	d = parse_ok(FILESD_YAML, "# nothing yet\n[]\n");
	assert_int_equal(d->ntargets, 0);
	filesd_free(d);

	/* scalars are strings, as for a Go string field */
	d = parse_ok(FILESD_YAML, "- targets: ['a.test:443']\n  labels: {tier: 443, on: true, "
	    "none: ~, quoted: \"~\"}\n");
	assert_string_equal(label(&d->targets[0], "tier"), "443");
	assert_string_equal(label(&d->targets[0], "on"), "true");
	assert_string_equal(label(&d->targets[0], "none"), "");
	assert_string_equal(label(&d->targets[0], "quoted"), "~");
	filesd_free(d);

	/* anchors and aliases, as hand-written files use them */
	d = parse_ok(FILESD_YAML, "- targets: &t [a.test:443, b.test:443]\n  labels: &l {env: prod}\n"
	    "- targets: *t\n  labels: *l\n");
	assert_int_equal(d->ntargets, 4);
	assert_string_equal(d->targets[3].target, "b.test:443");
	assert_string_equal(label(&d->targets[3], "env"), "prod");
	filesd_free(d);
}

static void
test_modules(void **state)
{
	struct filesd *d;

	(void)state;
	/* both set alike, or either one, or empty (no module) */
	d = parse_ok(FILESD_YAML, "- targets: [a.test:443]\n  labels: {__module: m, __param_module: m}\n"
	    "- targets: [b.test:443]\n  labels: {__module: \"\"}\n");
	assert_string_equal(d->targets[0].module, "m");
	assert_null(d->targets[1].module);
	filesd_free(d);
	expect_error(FILESD_YAML, "- targets: [a.test:443]\n  labels: {__module: a, __param_module: b}\n",
	    "t.yml:2:41: [0].labels: __module and __param_module differ");
}

static void
test_json_errors(void **state)
{
	(void)state;
	/* jansson's own messages and positions for what does not parse */
	expect_error(FILESD_JSON, "[{\"targets\": [\"a.test:1\"],}]",
	    "t.json:1:27: string or '}' expected near '}'");
	expect_error(FILESD_JSON, "", "t.json:1:0: '[' or '{' expected near end of file");
	expect_error(FILESD_JSON, "[{\"targets\": [], \"targets\": []}]",
	    "t.json:1:26: duplicate object key near '\"targets\"'");
	expect_error(FILESD_JSON, "[{\"labels\": {\"a\": \"\\u0000\"}}]",
	    "t.json:1:26: \\u0000 is not allowed without JSON_ALLOW_NUL near '\"\\u0000\"'");
	/* ours, with the path to what is wrong */
	expect_error(FILESD_JSON, "{\"targets\": []}", "t.json: the document must be a list of groups");
	expect_error(FILESD_JSON, "[null]", "t.json: [0]: null group");
	expect_error(FILESD_JSON, "[[]]", "t.json: [0]: a group must be an object");
	expect_error(FILESD_JSON, "[{\"targets\": [], \"label\": {}}]",
	    "t.json: [0]: unknown key \"label\"");
	expect_error(FILESD_JSON, "[{\"targets\": \"a.test:1\"}]",
	    "t.json: [0].targets: must be a list of strings");
	expect_error(FILESD_JSON, "[{\"targets\": [\"a.test:1\", 443]}]",
	    "t.json: [0].targets[1]: must be a string");
	expect_error(FILESD_JSON, "[{\"targets\": [\"a.test:1\"], \"labels\": []}]",
	    "t.json: [0].labels: must be an object of strings");
	expect_error(FILESD_JSON, "[{\"targets\": [\"a.test:1\"], \"labels\": {\"port\": 443}}]",
	    "t.json: [0].labels: label value must be a string: \"port\"");
	expect_error(FILESD_JSON, "[{}, {\"targets\": [\"a.test\"]}]",
	    "t.json: [1].targets[0]: missing port \"a.test\"");
	expect_error(FILESD_JSON, "[{\"targets\": [\"https://u:p@a.test/\"]}]",
	    "t.json: [0].targets[0]: URL with credentials refused \"https://u:p@a.test/\"");
	expect_error(FILESD_JSON, "[{\"targets\": [\"a.test:1\"], \"labels\": {\"team-x\": \"a\"}}]",
	    "t.json: [0].labels: bad label name \"team-x\"");
	expect_error(FILESD_JSON, "[{\"targets\": [\"a.test:1\"], \"labels\": {\"job\": \"a\"}}]",
	    "t.json: [0].labels: reserved label name \"job\"");
	/* every error is reported, each on its own line */
	expect_error(FILESD_JSON, "[{\"targets\": [\"a\", \"b:1\", \"c\"]}, null]",
	    "t.json: [0].targets[0]: missing port \"a\"\n"
	    "t.json: [0].targets[2]: missing port \"c\"\n"
	    "t.json: [1]: null group");
}

static void
test_yaml_errors(void **state)
{
	(void)state;
	/* libyaml's messages and positions */
	expect_error(FILESD_YAML, "- targets: [a.test:443\n",
	    "t.yml:2:1: did not find expected ',' or ']' while parsing a flow sequence");
	expect_error(FILESD_YAML, "- targets: [a]\n\tlabels: {}\n",
	    "t.yml:2:1: found character that cannot start any token while scanning for the next token");
	expect_error(FILESD_YAML, "- targets: []\n---\n- targets: []\n",
	    "t.yml:3:1: more than one YAML document");
	expect_error(FILESD_YAML, "- targets: *nope\n",
	    "t.yml:1:12: found undefined alias");
	/* ours, at the node's position */
	expect_error(FILESD_YAML, "targets: []\n", "t.yml:1:1: the document must be a list of groups");
	expect_error(FILESD_YAML, "- ~\n", "t.yml:1:3: [0]: null group");
	expect_error(FILESD_YAML, "- targets: []\n  label: {}\n", "t.yml:2:3: [0]: unknown key \"label\"");
	expect_error(FILESD_YAML, "- targets: []\n  targets: []\n",
	    "t.yml:2:3: [0]: duplicate key \"targets\"");
	expect_error(FILESD_YAML, "- targets:\n    - a.test:443\n    - [x]\n",
	    "t.yml:3:7: [0].targets[1]: must be a string");
	expect_error(FILESD_YAML, "- targets: [a.test:443]\n  labels: {a: [b]}\n",
	    "t.yml:2:12: [0].labels: labels must map strings to strings");
	expect_error(FILESD_YAML, "- targets: [a.test:443]\n  labels: {a: b, a: c}\n",
	    "t.yml:2:18: [0].labels: duplicate label \"a\"");
	expect_error(FILESD_YAML, "- targets: [a.test:443]\n  labels: {\"a\\nb\": c}\n",
	    "t.yml:2:12: [0].labels: bad label name \"a\\x0ab\"");
	expect_error(FILESD_YAML, "- targets: [a.test:443]\n  labels: {a: \"x\\0y\"}\n",
	    "t.yml:2:15: [0].labels: label value is not UTF-8 text: \"a\"");
	expect_error(FILESD_YAML, "- targets:\n  - https://a.test/\n  - http://b.test/\n",
	    "t.yml:3:5: [0].targets[1]: http:// has no TLS: use https:// \"http://b.test/\"");
	/* a group whose labels are wrong keeps none of its targets */
	expect_error(FILESD_YAML, "- targets: [a.test:443, b]\n  labels: {le: x}\n",
	    "t.yml:2:12: [0].labels: reserved label name \"le\"\n"
	    "t.yml:1:25: [0].targets[1]: missing port \"b\"");
}

static void
test_bounds(void **state)
{
	struct filesd *d;
	char *errors, *doc;
	size_t n = 0, cap = (size_t)FILESD_MAX_TARGETS * 12 + 64;

	(void)state;
	/* too many targets: refused, not truncated */
	doc = malloc(cap);
	n += (size_t)sprintf(doc, "[{\"targets\": [");
	for (int i = 0; i <= FILESD_MAX_TARGETS; i++)
		n += (size_t)sprintf(doc + n, "%s\"a.t:%d\"", i ? "," : "", i % 60000 + 1);
	n += (size_t)sprintf(doc + n, "]}]");
	assert_true(n < cap);
	d = filesd_parse("t.json", FILESD_JSON, doc, n, &errors);
	assert_null(d);
	assert_non_null(strstr(errors, "more than 100000 targets"));
	free(errors);

	/* the same list of 60000 through one alias 2 times is fine, 3 is not
	 * fine once it passes the bound */
	n = (size_t)sprintf(doc, "- targets: &t [");
	for (int i = 0; i < 40000; i++)
		n += (size_t)sprintf(doc + n, "%sa.t:%d", i ? "," : "", i + 1);
	n += (size_t)sprintf(doc + n, "]\n- targets: *t\n");
	d = filesd_parse("t.yml", FILESD_YAML, doc, n, &errors);
	assert_non_null(d);
	assert_int_equal(d->ntargets, 80000);
	filesd_free(d);
	n += (size_t)sprintf(doc + n, "- targets: *t\n- targets: *t\n- targets: *t\n");
	d = filesd_parse("t.yml", FILESD_YAML, doc, n, &errors);
	assert_null(d);
	assert_non_null(strstr(errors, "more than 100000 targets"));
	free(errors);

	/* too many labels in one group */
	n = (size_t)sprintf(doc, "- targets: [a.t:1]\n  labels: {");
	for (int i = 0; i <= FILESD_MAX_LABELS; i++)
		n += (size_t)sprintf(doc + n, "%sl%d: x", i ? ", " : "", i);
	n += (size_t)sprintf(doc + n, "}\n");
	d = filesd_parse("t.yml", FILESD_YAML, doc, n, &errors);
	assert_null(d);
	assert_string_equal(errors, "t.yml:1:3: [0].labels: more than 64 labels");
	free(errors);

	/* errors stop at FILESD_MAX_ERRORS, then say how many more */
	n = (size_t)sprintf(doc, "[");
	for (int i = 0; i < 30; i++)
		n += (size_t)sprintf(doc + n, "%snull", i ? "," : "");
	n += (size_t)sprintf(doc + n, "]");
	d = filesd_parse("t.json", FILESD_JSON, doc, n, &errors);
	assert_null(d);
	assert_non_null(strstr(errors, "t.json: [19]: null group\nt.json: and 1 more errors"));
	assert_null(strstr(errors, "[20]"));
	free(errors);

	/* a document larger than the bound is refused before parsing */
	d = filesd_parse("t.json", FILESD_JSON, doc, (size_t)FILESD_MAX_BYTES + 1, &errors);
	assert_null(d);
	assert_string_equal(errors, "t.json: larger than 16777216 bytes");
	free(errors);
	free(doc);
}

static void
test_load(void **state)
{
	char dir[] = "/tmp/test_filesd.XXXXXX", path[64];
	enum filesd_format f;
	struct filesd *d;
	char *errors;
	FILE *fp;

	(void)state;
	assert_int_equal(filesd_format_of("a/b.json", &f), 0);
	assert_int_equal(f, FILESD_JSON);
	assert_int_equal(filesd_format_of("b.YAML", &f), 0);
	assert_int_equal(f, FILESD_YAML);
	assert_int_equal(filesd_format_of("b.yml", &f), 0);
	assert_int_equal(f, FILESD_YAML);
	assert_int_equal(filesd_format_of("b.txt", &f), -1);
	assert_int_equal(filesd_format_of("a.json/b", &f), -1);
	assert_int_equal(filesd_format_of("json", &f), -1);

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.yml", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("- targets: [a.test:443]\n", fp);
	fclose(fp);
	d = filesd_load(path, &errors);
	assert_non_null(d);
	assert_int_equal(d->ntargets, 1);
	filesd_free(d);

	/* errors name the file as given */
	fp = fopen(path, "w");
	fputs("- targets: [a.test]\n", fp);
	fclose(fp);
	assert_null(filesd_load(path, &errors));
	assert_memory_equal(errors, path, strlen(path));
	assert_non_null(strstr(errors, ":1:13: [0].targets[0]: missing port"));
	free(errors);
	unlink(path);

	assert_null(filesd_load(path, &errors));
	assert_non_null(strstr(errors, "No such file or directory"));
	free(errors);
	assert_null(filesd_load(dir, &errors));
	assert_non_null(strstr(errors, "not a .json, .yml or .yaml file"));
	free(errors);
	snprintf(path, sizeof(path), "%s/d.json", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_null(filesd_load(path, &errors));
	assert_non_null(strstr(errors, "not a regular file"));
	free(errors);
	rmdir(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_yaml),
		cmocka_unit_test(test_modules),
		cmocka_unit_test(test_json_errors),
		cmocka_unit_test(test_yaml_errors),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
