/* query.h - the parameters of the status pages and the API, from the query
 * string: which targets (states, labels, text), in what order (a column,
 * up or down), which page of how many rows, which columns, how often the
 * page reloads itself, and the PEM download. Everything in it is the
 * requester's: bounded, and refused whole with a message when malformed.
 * The names of states and columns are the caller's tables (status.c), so
 * a state or column added there is a filter and a sort key here. */
#ifndef TLSWATCH_QUERY_H
#define TLSWATCH_QUERY_H

#include <stddef.h>
#include <stdint.h>

/* One parameter as the HTTP server decoded it; value may be NULL ("?x"). */
struct query_arg {
	const char *name;
	const char *value;
};

#define QUERY_MAX_ARGS 64          /* parameters read; more are refused */
#define QUERY_MAX_LABELS 8         /* label filters, all of which must hold */
#define QUERY_MAX_VALUE 256        /* bytes of any one value */
#define QUERY_MAX_COLUMNS 32
#define QUERY_MAX_STATES 64        /* a state set is a uint64_t */
#define QUERY_DEFAULT_PER_PAGE 250 /* the HTML page's; the API's default is all */
#define QUERY_MAX_PER_PAGE 5000
#define QUERY_MAX_PAGE 1000000000
#define QUERY_MIN_REFRESH 5        /* seconds */
#define QUERY_MAX_REFRESH 86400

struct query_label {
	char *name;
	char *value;
};

struct query {
	uint64_t states;            /* bit i: state i of the caller's table; 0: any */
	struct query_label labels[QUERY_MAX_LABELS];   /* name=value, every one */
	size_t nlabels;
	char *text;                 /* a substring, any case (ASCII); NULL: none */
	char *issue;                /* issue=WORD, as given (the caller checks the
	                             * word); NULL: none */
	int sort;                   /* a column of the caller's table; -1: default */
	int desc;                   /* order=desc */
	size_t page;                /* from 1 */
	size_t per_page;            /* 0: not given */
	unsigned refresh;           /* seconds; 0: none */
	int columns[QUERY_MAX_COLUMNS];   /* shown, in this order; none: the default */
	size_t ncolumns;
	int pem;                    /* format=pem */
};

/* The names a query may use: states[0..nstates) (at most QUERY_MAX_STATES)
 * and columns[0..ncolumns) (which may be sorted by). */
struct query_names {
	const char *const *states;
	size_t nstates;
	const char *const *columns;
	size_t ncolumns;
};

/* Parse args[0..n) into q: 0, or -1 with *err (allocated: which parameter,
 * what is wrong, what it may be) and q left empty. Parameters it does not
 * know are ignored (a form or a cache-buster may add some); known ones may
 * repeat where that means more (state, label, columns), the last one wins
 * otherwise. state takes names separated by commas; label takes
 * NAME=VALUE; an empty value means no filter, as an empty form field. */
int query_parse(struct query *q, const struct query_arg *args, size_t n,
                const struct query_names *names, char **err);
void query_fini(struct query *q);

/* Whether s holds needle, ASCII letters of either case alike. */
int query_text_match(const char *s, const char *needle);

#endif
