/*
 * query.c - the status pages' parameters (query.h). A query string is the
 * requester's to write: every value is bounded, every word checked against
 * the caller's tables, and a query with anything wrong is refused whole, so
 * the page never shows something other than what was asked.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "serve/metrics.h"
#include "serve/query.h"

void
query_fini(struct query *q)
{
	for (size_t i = 0; i < q->nlabels; i++) {
		free(q->labels[i].name);
		free(q->labels[i].value);
	}
	free(q->text);
	free(q->issue);
	memset(q, 0, sizeof(*q));
	q->sort = -1;
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

int
query_text_match(const char *s, const char *needle)
{
	size_t n = strlen(needle);

	if (s == NULL)
		return 0;
	for (; *s; s++) {
		size_t i = 0;

		while (i < n && s[i] && lower((unsigned char)s[i]) == lower((unsigned char)needle[i]))
			i++;
		if (i == n)
			return 1;
	}
	return n == 0;
}

/* The index of word in names[0..n), or -1. */
static int
lookup(const char *const *names, size_t n, const char *word, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) == len && memcmp(names[i], word, len) == 0)
			return (int)i;
	return -1;
}

/* The table's words for a message: "a, b, c". */
static char *
words_of(const char *const *names, size_t n)
{
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", names[i]);
	return b.data ? buf_steal(&b) : xstrdup("");
}

/* A decimal number from lo to hi, digits only: 0, or -1. */
static int
number(const char *v, unsigned long long lo, unsigned long long hi, unsigned long long *out)
{
	char *end;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	*out = strtoull(v, &end, 10);
	return errno == 0 && *end == '\0' && *out >= lo && *out <= hi ? 0 : -1;
}

/* A comma-separated list of words of a table: bits or indices added. */
static int
word_list(const char *v, const char *const *names, size_t n, const char **bad, size_t *badlen,
    void (*add)(void *arg, int i), void *arg)
{
	for (const char *p = v; *p; ) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		int i;

		if (len > 0) {
			if ((i = lookup(names, n, p, len)) < 0) {
				*bad = p;
				*badlen = len;
				return -1;
			}
			add(arg, i);
		}
		p += len + (e != NULL);
	}
	return 0;
}

static void
add_state(void *arg, int i)
{
	*(uint64_t *)arg |= (uint64_t)1 << i;
}

struct colset {
	struct query *q;
	int full;
};

static void
add_column(void *arg, int i)
{
	struct colset *cs = arg;

	for (size_t k = 0; k < cs->q->ncolumns; k++)
		if (cs->q->columns[k] == i)
			return;         /* once each */
	if (cs->q->ncolumns == QUERY_MAX_COLUMNS)
		cs->full = 1;
	else
		cs->q->columns[cs->q->ncolumns++] = i;
}

/* The requester's word, quoted in a message: printable ASCII, anything else
 * '?' (the message is one line of plain text wherever it goes). */
static const char *
shown_word(const char *word, size_t len, char *tmp, size_t size)
{
	size_t n = len < size - 1 ? len : size - 1;

	for (size_t i = 0; i < n; i++)
		tmp[i] = word[i] >= 0x20 && word[i] < 0x7f ? word[i] : '?';
	tmp[n] = '\0';
	return tmp;
}

/* The message for a word that is not in its table (the word shown as
 * shown_word makes it). */
static char *
unknown_word(const char *param, const char *word, size_t len, const char *const *names,
    size_t n)
{
	char shown[64], *list = words_of(names, n), *msg;

	if (len > sizeof(shown) - 1)
		len = sizeof(shown) - 1;
	msg = xasprintf("%s: unknown value \"%s\" (one of: %s)", param,
	    shown_word(word, len, shown, sizeof(shown)), list);
	free(list);
	return msg;
}

static int
parse_one(struct query *q, const struct query_arg *a, const struct query_names *nm, char **err)
{
	const char *v = a->value ? a->value : "";
	unsigned long long n;
	const char *bad;
	size_t badlen;

	if (strlen(v) > QUERY_MAX_VALUE) {
		*err = xasprintf("%s: longer than %d bytes", a->name, QUERY_MAX_VALUE);
		return -1;
	}
	if (strcmp(a->name, "state") == 0) {
		if (word_list(v, nm->states, nm->nstates, &bad, &badlen, add_state, &q->states) == -1) {
			*err = unknown_word("state", bad, badlen, nm->states, nm->nstates);
			return -1;
		}
	} else if (strcmp(a->name, "label") == 0) {
		const char *eq = strchr(v, '=');
		char *name;

		if (*v == '\0')
			return 0;
		if (eq == NULL) {
			*err = xstrdup("label: NAME=VALUE wanted");
			return -1;
		}
		name = xstrndup(v, (size_t)(eq - v));
		if (!metrics_label_name_valid(name)) {
			free(name);
			*err = xstrdup("label: the name is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)");
			return -1;
		}
		if (q->nlabels == QUERY_MAX_LABELS) {
			free(name);
			*err = xasprintf("label: at most %d", QUERY_MAX_LABELS);
			return -1;
		}
		q->labels[q->nlabels].name = name;
		q->labels[q->nlabels++].value = xstrdup(eq + 1);
	} else if (strcmp(a->name, "q") == 0) {
		free(q->text);
		q->text = *v ? xstrdup(v) : NULL;
	} else if (strcmp(a->name, "issue") == 0) {
		free(q->issue);
		q->issue = *v ? xstrdup(v) : NULL;
	} else if (strcmp(a->name, "sort") == 0) {
		if (*v == '\0') {
			q->sort = -1;
		} else if ((q->sort = lookup(nm->columns, nm->ncolumns, v, strlen(v))) < 0) {
			*err = unknown_word("sort", v, strlen(v), nm->columns, nm->ncolumns);
			return -1;
		}
	} else if (strcmp(a->name, "order") == 0) {
		if (strcmp(v, "asc") != 0 && strcmp(v, "desc") != 0 && *v) {
			*err = xstrdup("order: asc or desc");
			return -1;
		}
		q->desc = strcmp(v, "desc") == 0;
	} else if (strcmp(a->name, "page") == 0) {
		if (*v && number(v, 1, QUERY_MAX_PAGE, &n) == -1) {
			*err = xasprintf("page: a number from 1 to %d", QUERY_MAX_PAGE);
			return -1;
		}
		q->page = *v ? (size_t)n : 1;
	} else if (strcmp(a->name, "per_page") == 0) {
		if (*v && number(v, 1, QUERY_MAX_PER_PAGE, &n) == -1) {
			*err = xasprintf("per_page: a number from 1 to %d", QUERY_MAX_PER_PAGE);
			return -1;
		}
		q->per_page = *v ? (size_t)n : 0;
	} else if (strcmp(a->name, "refresh") == 0) {
		if (*v && (number(v, 0, QUERY_MAX_REFRESH, &n) == -1 ||
		    (n != 0 && n < QUERY_MIN_REFRESH))) {
			*err = xasprintf("refresh: 0 (none) or seconds from %d to %d",
			    QUERY_MIN_REFRESH, QUERY_MAX_REFRESH);
			return -1;
		}
		q->refresh = *v ? (unsigned)n : 0;
	} else if (strcmp(a->name, "columns") == 0) {
		struct colset cs = { q, 0 };

		if (word_list(v, nm->columns, nm->ncolumns, &bad, &badlen, add_column, &cs) == -1) {
			*err = unknown_word("columns", bad, badlen, nm->columns, nm->ncolumns);
			return -1;
		}
		if (cs.full) {
			*err = xasprintf("columns: at most %d", QUERY_MAX_COLUMNS);
			return -1;
		}
	} else if (strcmp(a->name, "format") == 0) {
		if (strcmp(v, "pem") != 0 && strcmp(v, "html") != 0 && *v) {
			*err = xstrdup("format: pem or html");
			return -1;
		}
		q->pem = strcmp(v, "pem") == 0;
	}
	return 0;
}

int
query_parse(struct query *q, const struct query_arg *args, size_t n,
    const struct query_names *names, char **err)
{
	memset(q, 0, sizeof(*q));
	q->sort = -1;
	q->page = 1;
	*err = NULL;
	if (n > QUERY_MAX_ARGS) {
		*err = xasprintf("more than %d parameters", QUERY_MAX_ARGS);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (args[i].name == NULL)
			continue;
		if (parse_one(q, &args[i], names, err) == -1) {
			query_fini(q);
			return -1;
		}
	}
	return 0;
}
