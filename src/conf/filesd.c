/* filesd.c - Prometheus file_sd documents into targets.
 *
 * A document is a list of groups, `[{"targets": [...], "labels": {...}}]`,
 * read as Prometheus's file discovery reads it (discovery/file): the format
 * by the file's extension, unknown keys refused in both formats, label
 * names [a-zA-Z_][a-zA-Z0-9_]*, label values UTF-8, a null group an error.
 * On top of that, what tlswatch needs: each target parses as a /probe
 * target (ptarget.c), the module comes from __param_module or __module (as
 * blackbox setups relabel it), other "__" labels are left out, and label
 * names the daemon uses itself are refused as in the configuration file.
 *
 * Parsing is jansson's and libyaml's. Each format is walked into the same
 * small description of a group, and one function checks groups, so the two
 * formats cannot drift apart. YAML aliases are followed (libyaml's loader
 * shares the anchored node, it does not copy it); the walk has a fixed
 * depth and every count is bounded, so no document makes it explode. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>
#include <yaml.h>

#include "conf/filesd.h"
#include "core/log.h"
#include "core/util.h"

/* A string from the document, with where it was (0: unknown). */
struct str {
	const char *s;
	size_t len;
	int line, col;
};

struct label_in {
	struct str name, value;
};

/* One group as either format describes it. */
struct group_in {
	size_t gi;               /* index in the document */
	int line, col;
	struct str *targets;
	size_t ntargets;
	struct label_in *labels;
	size_t nlabels;
};

struct ctx {
	const char *name;
	struct buf err;
	unsigned nerr;
	struct filesd *f;
	size_t cap;
	int stop;                /* too many targets or errors: stop walking */
};

/* Text from the document in an error: at most 64 bytes, in quotes, control
 * characters as \xNN, so that one error stays one line. */
static void
put_quoted(struct buf *b, const char *s, size_t len)
{
	size_t n = len < 64 ? len : 64;

	buf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			buf_printf(b, "\\x%02x", c);
		else
			buf_putc(b, (char)c);
	}
	buf_puts(b, n < len ? "\"..." : "\"");
}

static void __attribute__((format(printf, 5, 6)))
report(struct ctx *x, int line, int col, const char *path, const char *fmt, ...)
{
	struct buf msg;
	va_list ap;

	if (++x->nerr > FILESD_MAX_ERRORS) {
		x->stop = 1;
		return;
	}
	buf_puts(&x->err, x->name);
	if (line > 0)
		buf_printf(&x->err, ":%d:%d", line, col);
	buf_puts(&x->err, ": ");
	if (path != NULL && *path != '\0')
		buf_printf(&x->err, "%s: ", path);
	/* jansson's and libyaml's messages quote the input ("near '...'"):
	 * control characters are escaped there too, so one error stays one line */
	buf_init(&msg);
	va_start(ap, fmt);
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < msg.len; i++) {
		unsigned char c = (unsigned char)msg.data[i];

		if (c < 0x20 || c == 0x7f)
			buf_printf(&x->err, "\\x%02x", c);
		else
			buf_putc(&x->err, (char)c);
	}
	buf_free(&msg);
	buf_putc(&x->err, '\n');
}

/* report() with a quoted piece of the document after the message. */
static void
report_quoted(struct ctx *x, const struct str *at, const char *path, const char *msg,
              const struct str *what)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, msg);
	buf_putc(&b, ' ');
	put_quoted(&b, what->s, what->len);
	report(x, at->line, at->col, path, "%s", b.data);
	buf_free(&b);
}

static int
str_is(const struct str *s, const char *w)
{
	return s->len == strlen(w) && memcmp(s->s, w, s->len) == 0;
}

/* Well-formed UTF-8 without NUL, as a Prometheus label value must be. */
static int
valid_text(const struct str *s)
{
	const unsigned char *p = (const unsigned char *)s->s;

	if (memchr(s->s, '\0', s->len) != NULL)
		return 0;
	for (size_t i = 0; i < s->len;) {
		int n;

		if (p[i] < 0x80) {
			i++;
			continue;
		}
		n = utf8_seq(p + i);
		if (n <= 0 || (size_t)n > s->len - i)
			return 0;
		i += (size_t)n;
	}
	return 1;
}

static int
cmp_label(const void *a, const void *b)
{
	const struct conf_label *la = a, *lb = b;

	return strcmp(la->name, lb->name);
}

static void
free_labels(struct conf_label *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(l[i].name);
		free(l[i].value);
	}
	free(l);
}

/* The one check of a group, whichever format it came from. */
static void
add_group(struct ctx *x, const struct group_in *g)
{
	struct conf_label *labels;
	size_t nl = 0;
	const struct str *mod = NULL, *pmod = NULL;
	char path[96];
	int bad = 0;

	if (g->nlabels > FILESD_MAX_LABELS) {
		snprintf(path, sizeof(path), "[%zu].labels", g->gi);
		report(x, g->line, g->col, path, "more than %d labels", FILESD_MAX_LABELS);
		return;
	}
	labels = xcalloc(g->nlabels + 1, sizeof(*labels));
	for (size_t i = 0; i < g->nlabels; i++) {
		const struct label_in *l = &g->labels[i];
		char *name;

		snprintf(path, sizeof(path), "[%zu].labels", g->gi);
		if (!valid_text(&l->name) || l->name.len > FILESD_MAX_VALUE) {
			report_quoted(x, &l->name, path, "bad label name", &l->name);
			bad = 1;
			continue;
		}
		if (!valid_text(&l->value)) {
			report_quoted(x, &l->value, path, "label value is not UTF-8 text:", &l->name);
			bad = 1;
			continue;
		}
		if (l->value.len > FILESD_MAX_VALUE) {
			report_quoted(x, &l->value, path, "label value too long:", &l->name);
			bad = 1;
			continue;
		}
		if (str_is(&l->name, "__param_module")) {
			pmod = &l->value;
			continue;
		}
		if (str_is(&l->name, "__module")) {
			mod = &l->value;
			continue;
		}
		name = xstrndup(l->name.s, l->name.len);
		/* other "__" labels are Prometheus's business (relabelling) */
		if (strncmp(name, "__", 2) == 0) {
			free(name);
			continue;
		}
		switch (conf_label_check(name)) {
		case CONF_LABEL_OK:
			break;
		case CONF_LABEL_BAD:
			report_quoted(x, &l->name, path, "bad label name", &l->name);
			bad = 1;
			free(name);
			continue;
		case CONF_LABEL_RESERVED:
			report_quoted(x, &l->name, path, "reserved label name", &l->name);
			bad = 1;
			free(name);
			continue;
		}
		for (size_t j = 0; j < nl; j++) {
			if (strcmp(labels[j].name, name) == 0) {
				report_quoted(x, &l->name, path, "duplicate label", &l->name);
				bad = 1;
				break;
			}
		}
		labels[nl].name = name;
		labels[nl].value = xstrndup(l->value.s, l->value.len);
		nl++;
	}
	/* An empty module is no module, as an empty label is no label. */
	if (pmod != NULL && pmod->len == 0)
		pmod = NULL;
	if (mod != NULL && mod->len == 0)
		mod = NULL;
	if (pmod != NULL && mod != NULL &&
	    (pmod->len != mod->len || memcmp(pmod->s, mod->s, mod->len) != 0)) {
		snprintf(path, sizeof(path), "[%zu].labels", g->gi);
		report(x, pmod->line, pmod->col, path, "__module and __param_module differ");
		bad = 1;
	}
	if (pmod == NULL)
		pmod = mod;
	qsort(labels, nl, sizeof(*labels), cmp_label);

	for (size_t i = 0; i < g->ntargets && !x->stop; i++) {
		const struct str *s = &g->targets[i];
		struct filesd_target *t;
		struct ptarget pt;
		const char *msg;
		char *text;

		snprintf(path, sizeof(path), "[%zu].targets[%zu]", g->gi, i);
		if (x->f->ntargets >= FILESD_MAX_TARGETS) {
			report(x, s->line, s->col, path, "more than %d targets", FILESD_MAX_TARGETS);
			x->stop = 1;
			break;
		}
		if (memchr(s->s, '\0', s->len) != NULL) {
			report(x, s->line, s->col, path, "NUL in target");
			continue;
		}
		text = xstrndup(s->s, s->len);
		if ((msg = ptarget_parse(text, &pt)) != NULL) {
			struct str shown = *s;

			report_quoted(x, s, path, msg, &shown);
			free(text);
			continue;
		}
		if (bad) {
			/* the group's labels are wrong: keep nothing of it */
			ptarget_fini(&pt);
			free(text);
			continue;
		}
		if (x->f->ntargets == x->cap) {
			x->cap = x->cap ? 2 * x->cap : 16;
			x->f->targets = xreallocarray(x->f->targets, x->cap, sizeof(*x->f->targets));
		}
		t = &x->f->targets[x->f->ntargets++];
		memset(t, 0, sizeof(*t));
		t->target = text;
		t->addr = pt;
		t->module = pmod != NULL ? xstrndup(pmod->s, pmod->len) : NULL;
		t->group = g->gi;
		t->index = i;
		t->line = s->line;
		t->column = s->col;
		t->nlabels = nl;
		t->labels = xcalloc(nl + 1, sizeof(*t->labels));
		for (size_t j = 0; j < nl; j++) {
			t->labels[j].name = xstrdup(labels[j].name);
			t->labels[j].value = xstrdup(labels[j].value);
		}
	}
	free_labels(labels, nl);
}

/* A group's key: "targets" or "labels", each once (Go's encoding/json
 * matches field names case-insensitively, yaml.v2 does not). Puts v in
 * its slot; 0, or -1 after reporting an unknown or repeated key. */
static int
take_key(struct ctx *x, const struct str *k, int any_case, const char *path, void **targets,
         void **labels, void *v)
{
	int (*cmp)(const char *, const char *, size_t) = any_case ? strncasecmp : strncmp;
	void **slot = NULL;

	if (k->len == 7 && cmp(k->s, "targets", 7) == 0)
		slot = targets;
	else if (k->len == 6 && cmp(k->s, "labels", 6) == 0)
		slot = labels;
	if (slot == NULL) {
		report_quoted(x, k, path, "unknown key", k);
		return -1;
	}
	if (*slot != NULL) {
		report_quoted(x, k, path, "duplicate key", k);
		return -1;
	}
	*slot = v;
	return 0;
}

/* ------------------------------------------------------------------ JSON */

static struct str
json_str(json_t *j)
{
	struct str s = { json_string_value(j), json_string_length(j), 0, 0 };

	return s;
}

static void
json_group(struct ctx *x, size_t gi, json_t *g)
{
	struct group_in in = { .gi = gi };
	json_t *targets = NULL, *labels = NULL, *v;
	const char *key;
	char path[64];
	int bad = 0;

	snprintf(path, sizeof(path), "[%zu]", gi);
	if (json_is_null(g)) {
		report(x, 0, 0, path, "null group");
		return;
	}
	if (!json_is_object(g)) {
		report(x, 0, 0, path, "a group must be an object");
		return;
	}
	json_object_foreach(g, key, v) {
		struct str k = { key, strlen(key), 0, 0 };

		if (take_key(x, &k, 1, path, (void **)&targets, (void **)&labels, v) != 0)
			bad = 1;
	}
	if (bad)
		return;
	if (targets != NULL && !json_is_null(targets)) {
		size_t i;

		if (!json_is_array(targets)) {
			snprintf(path, sizeof(path), "[%zu].targets", gi);
			report(x, 0, 0, path, "must be a list of strings");
			return;
		}
		in.targets = xcalloc(json_array_size(targets) + 1, sizeof(*in.targets));
		json_array_foreach(targets, i, v) {
			if (!json_is_string(v)) {
				snprintf(path, sizeof(path), "[%zu].targets[%zu]", gi, i);
				report(x, 0, 0, path, "must be a string");
				bad = 1;
				continue;
			}
			in.targets[in.ntargets++] = json_str(v);
		}
	}
	if (labels != NULL && !json_is_null(labels)) {
		if (!json_is_object(labels)) {
			snprintf(path, sizeof(path), "[%zu].labels", gi);
			report(x, 0, 0, path, "must be an object of strings");
			free(in.targets);
			return;
		}
		in.labels = xcalloc(json_object_size(labels) + 1, sizeof(*in.labels));
		json_object_foreach(labels, key, v) {
			struct str k = { key, strlen(key), 0, 0 };

			if (!json_is_string(v)) {
				snprintf(path, sizeof(path), "[%zu].labels", gi);
				report_quoted(x, &k, path, "label value must be a string:", &k);
				bad = 1;
				continue;
			}
			in.labels[in.nlabels].name = k;
			in.labels[in.nlabels].value = json_str(v);
			in.nlabels++;
		}
	}
	if (!bad)
		add_group(x, &in);
	free(in.targets);
	free(in.labels);
}

static void
parse_json(struct ctx *x, const char *data, size_t len)
{
	json_error_t e;
	json_t *root, *g;
	size_t i;

	/* Duplicate keys are refused: Go keeps the last, which hides a
	 * mistake. A NUL in a string (\u0000) is refused by default. */
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &e);
	if (root == NULL) {
		report(x, e.line > 0 ? e.line : 0, e.column > 0 ? e.column : 0, NULL, "%s", e.text);
		return;
	}
	if (!json_is_array(root)) {
		report(x, 0, 0, NULL, "the document must be a list of groups");
		json_decref(root);
		return;
	}
	json_array_foreach(root, i, g) {
		if (x->stop)
			break;
		json_group(x, i, g);
	}
	json_decref(root);
}

/* ------------------------------------------------------------------ YAML */

static struct str
yaml_str(yaml_node_t *n)
{
	struct str s = { (const char *)n->data.scalar.value, n->data.scalar.length,
		(int)n->start_mark.line + 1, (int)n->start_mark.column + 1 };

	/* A plain null (~, null, nothing) is the empty string for a Go string. */
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (s.len == 0 || str_is(&s, "~") || str_is(&s, "null") || str_is(&s, "Null") ||
	    str_is(&s, "NULL")))
		s.len = 0;
	return s;
}

static int
yaml_is_null(yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE && yaml_str(n).len == 0 &&
	    n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static void
yaml_report(struct ctx *x, yaml_node_t *n, const char *path, const char *msg)
{
	report(x, (int)n->start_mark.line + 1, (int)n->start_mark.column + 1, path, "%s", msg);
}

static void
yaml_group(struct ctx *x, yaml_document_t *d, size_t gi, yaml_node_t *g)
{
	struct group_in in = { .gi = gi };
	yaml_node_t *targets = NULL, *labels = NULL;
	char path[64];
	int bad = 0;

	snprintf(path, sizeof(path), "[%zu]", gi);
	if (yaml_is_null(g)) {
		yaml_report(x, g, path, "null group");
		return;
	}
	if (g->type != YAML_MAPPING_NODE) {
		yaml_report(x, g, path, "a group must be a mapping");
		return;
	}
	in.line = (int)g->start_mark.line + 1;
	in.col = (int)g->start_mark.column + 1;
	for (yaml_node_pair_t *p = g->data.mapping.pairs.start; p < g->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);
		yaml_node_t *v = yaml_document_get_node(d, p->value);
		struct str ks;

		if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE) {
			yaml_report(x, k != NULL ? k : g, path, "keys must be strings");
			bad = 1;
			continue;
		}
		ks = yaml_str(k);
		if (take_key(x, &ks, 0, path, (void **)&targets, (void **)&labels, v) != 0)
			bad = 1;
	}
	if (bad)
		return;
	if (targets != NULL && !yaml_is_null(targets)) {
		yaml_node_item_t *it;
		size_t i = 0;

		if (targets->type != YAML_SEQUENCE_NODE) {
			snprintf(path, sizeof(path), "[%zu].targets", gi);
			yaml_report(x, targets, path, "must be a list of strings");
			return;
		}
		in.targets = xcalloc((size_t)(targets->data.sequence.items.top -
		    targets->data.sequence.items.start) + 1, sizeof(*in.targets));
		for (it = targets->data.sequence.items.start; it < targets->data.sequence.items.top;
		    it++, i++) {
			yaml_node_t *t = yaml_document_get_node(d, *it);

			if (t == NULL || t->type != YAML_SCALAR_NODE) {
				snprintf(path, sizeof(path), "[%zu].targets[%zu]", gi, i);
				yaml_report(x, t != NULL ? t : targets, path, "must be a string");
				bad = 1;
				continue;
			}
			in.targets[in.ntargets++] = yaml_str(t);
		}
	}
	if (labels != NULL && !yaml_is_null(labels)) {
		if (labels->type != YAML_MAPPING_NODE) {
			snprintf(path, sizeof(path), "[%zu].labels", gi);
			yaml_report(x, labels, path, "must be a mapping of strings");
			free(in.targets);
			return;
		}
		in.labels = xcalloc((size_t)(labels->data.mapping.pairs.top -
		    labels->data.mapping.pairs.start) + 1, sizeof(*in.labels));
		for (yaml_node_pair_t *p = labels->data.mapping.pairs.start;
		    p < labels->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(d, p->key);
			yaml_node_t *v = yaml_document_get_node(d, p->value);

			snprintf(path, sizeof(path), "[%zu].labels", gi);
			if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE ||
			    v->type != YAML_SCALAR_NODE) {
				yaml_report(x, k != NULL ? k : labels, path,
				    "labels must map strings to strings");
				bad = 1;
				continue;
			}
			in.labels[in.nlabels].name = yaml_str(k);
			in.labels[in.nlabels].value = yaml_str(v);
			in.nlabels++;
		}
	}
	if (!bad)
		add_group(x, &in);
	free(in.targets);
	free(in.labels);
}

static void
yaml_parse_error(struct ctx *x, yaml_parser_t *p)
{
	const char *problem = p->problem != NULL ? p->problem : "cannot parse";

	if (p->context != NULL)
		report(x, (int)p->problem_mark.line + 1, (int)p->problem_mark.column + 1, NULL,
		    "%s %s", problem, p->context);
	else
		report(x, (int)p->problem_mark.line + 1, (int)p->problem_mark.column + 1, NULL,
		    "%s", problem);
}

static void
parse_yaml(struct ctx *x, const char *data, size_t len)
{
	yaml_parser_t p;
	yaml_document_t d, more;
	yaml_node_t *root, *extra;

	if (!yaml_parser_initialize(&p))
		fatalx("out of memory setting up the YAML parser");
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	if (!yaml_parser_load(&p, &d)) {
		yaml_parse_error(x, &p);
		yaml_parser_delete(&p);
		return;
	}
	root = yaml_document_get_root_node(&d);
	/* One document, as Prometheus reads one. */
	if (root != NULL) {
		if (!yaml_parser_load(&p, &more)) {
			yaml_parse_error(x, &p);
		} else {
			extra = yaml_document_get_root_node(&more);
			if (extra != NULL)
				yaml_report(x, extra, NULL, "more than one YAML document");
			yaml_document_delete(&more);
		}
	}
	if (x->nerr == 0 && root != NULL && !yaml_is_null(root)) {
		if (root->type != YAML_SEQUENCE_NODE) {
			yaml_report(x, root, NULL, "the document must be a list of groups");
		} else {
			size_t i = 0;

			for (yaml_node_item_t *it = root->data.sequence.items.start;
			    it < root->data.sequence.items.top && !x->stop; it++, i++) {
				yaml_node_t *g = yaml_document_get_node(&d, *it);

				if (g != NULL)
					yaml_group(x, &d, i, g);
			}
		}
	}
	yaml_document_delete(&d);
	yaml_parser_delete(&p);
}

/* ---------------------------------------------------------------- public */

int
filesd_format_of(const char *path, enum filesd_format *f)
{
	const char *dot = strrchr(path, '.');

	if (dot == NULL || strchr(dot, '/') != NULL)
		return -1;
	if (strcasecmp(dot, ".json") == 0)
		*f = FILESD_JSON;
	else if (strcasecmp(dot, ".yml") == 0 || strcasecmp(dot, ".yaml") == 0)
		*f = FILESD_YAML;
	else
		return -1;
	return 0;
}

struct filesd *
filesd_parse(const char *name, enum filesd_format f, const char *data, size_t len, char **errors)
{
	struct ctx x = { .name = name };

	buf_init(&x.err);
	x.f = xcalloc(1, sizeof(*x.f));
	if (len > FILESD_MAX_BYTES)
		report(&x, 0, 0, NULL, "larger than %u bytes", FILESD_MAX_BYTES);
	else if (f == FILESD_JSON)
		parse_json(&x, data, len);
	else
		parse_yaml(&x, data, len);
	if (x.nerr > FILESD_MAX_ERRORS)
		buf_printf(&x.err, "%s: and %u more errors\n", name, x.nerr - FILESD_MAX_ERRORS);
	if (x.nerr > 0) {
		filesd_free(x.f);
		/* the last newline is the caller's to add */
		x.err.data[--x.err.len] = '\0';
		*errors = buf_steal(&x.err);
		return NULL;
	}
	buf_free(&x.err);
	*errors = NULL;
	return x.f;
}

char *
filesd_read(const char *path, size_t *len, char **errors)
{
	enum filesd_format f;
	struct stat st;
	struct buf b;
	char chunk[65536];
	size_t n;
	FILE *fp;

	*errors = NULL;
	if (filesd_format_of(path, &f) != 0) {
		*errors = xasprintf("%s: not a .json, .yml or .yaml file", path);
		return NULL;
	}
	if ((fp = fopen(path, "rb")) == NULL) {
		*errors = xasprintf("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
		*errors = xasprintf("%s: not a regular file", path);
		fclose(fp);
		return NULL;
	}
	/* At most one byte past the bound, however large the file or however
	 * it grows while it is read. */
	buf_init(&b);
	while (b.len <= FILESD_MAX_BYTES &&
	    (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(&b, chunk, n);
	if (ferror(fp)) {
		*errors = xasprintf("%s: %s", path, strerror(errno));
		fclose(fp);
		buf_free(&b);
		return NULL;
	}
	fclose(fp);
	*len = b.len;
	if (b.data == NULL)
		return xstrdup("");
	return buf_steal(&b);
}

struct filesd *
filesd_load(const char *path, char **errors)
{
	enum filesd_format f;
	struct filesd *r;
	size_t len = 0;
	char *data = filesd_read(path, &len, errors);

	if (data == NULL)
		return NULL;
	(void)filesd_format_of(path, &f);
	r = filesd_parse(path, f, data, len, errors);
	free(data);
	return r;
}

void
filesd_free(struct filesd *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->ntargets; i++) {
		struct filesd_target *t = &f->targets[i];

		free(t->target);
		ptarget_fini(&t->addr);
		free(t->module);
		free_labels(t->labels, t->nlabels);
	}
	free(f->targets);
	free(f);
}
