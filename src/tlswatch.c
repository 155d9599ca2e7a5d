/* tlswatch.c - the command-line tool. Each subcommand is one entry of the
 * table below: its name, its function, a one-line summary for the usage. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth.h"
#include "util.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static int cmd_hash_password(int argc, char **argv);

static const struct command commands[] = {
	{ "hash-password", cmd_hash_password,
	  "print a bcrypt hash of a password for web.basic_auth_users" },
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: tlswatch COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-15s %s\n", commands[i].name, commands[i].summary);
}

/* One line from fd, without its newline; echo off when fd is a terminal. */
static char *
read_password(FILE *in, const char *prompt, int *err)
{
	struct termios old, quiet;
	int tty = isatty(fileno(in));
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	*err = 0;
	if (tty) {
		fprintf(stderr, "%s", prompt);
		fflush(stderr);
		if (tcgetattr(fileno(in), &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			quiet.c_lflag |= ECHONL;
			tcsetattr(fileno(in), TCSAFLUSH, &quiet);
		} else {
			tty = 0;
		}
	}
	n = getline(&line, &cap, in);
	if (tty)
		tcsetattr(fileno(in), TCSAFLUSH, &old);
	if (n < 0) {
		*err = ferror(in) ? errno : 0;
		free(line);
		return NULL;
	}
	if (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	return line;
}

static void
wipe(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static int
cmd_hash_password(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cost", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long cost = AUTH_DEFAULT_COST;
	char *pw, *again = NULL, *hash, *err, *end;
	int ch, rerr;

	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			errno = 0;
			cost = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || cost < AUTH_MIN_COST ||
			    cost > AUTH_MAX_COST) {
				fprintf(stderr, "tlswatch hash-password: --cost must be "
				    "between %d and %d\n", AUTH_MIN_COST, AUTH_MAX_COST);
				return 2;
			}
			break;
		case 'h':
			printf("usage: tlswatch hash-password [--cost N]\n"
			    "  Reads a password (from the terminal without echo, twice, or one\n"
			    "  line of standard input) and prints its bcrypt hash.\n"
			    "  --cost N  2^N rounds, %d to %d (default %d)\n",
			    AUTH_MIN_COST, AUTH_MAX_COST, AUTH_DEFAULT_COST);
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "tlswatch hash-password: unexpected argument \"%s\"\n",
		    argv[optind]);
		return 2;
	}
	pw = read_password(stdin, "Password: ", &rerr);
	if (pw == NULL) {
		fprintf(stderr, "tlswatch hash-password: no password read%s%s\n",
		    rerr ? ": " : "", rerr ? strerror(rerr) : "");
		return 1;
	}
	if (isatty(fileno(stdin))) {
		again = read_password(stdin, "Again: ", &rerr);
		if (again == NULL || strcmp(pw, again) != 0) {
			fprintf(stderr, "tlswatch hash-password: the passwords differ\n");
			wipe(pw);
			wipe(again);
			return 1;
		}
	}
	if (*pw == '\0') {
		fprintf(stderr, "tlswatch hash-password: empty password refused\n");
		wipe(pw);
		wipe(again);
		return 1;
	}
	hash = auth_hash_password(pw, (unsigned)cost, &err);
	wipe(pw);
	wipe(again);
	if (hash == NULL) {
		fprintf(stderr, "tlswatch hash-password: %s\n", err);
		free(err);
		return 1;
	}
	printf("%s\n", hash);
	free(hash);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("tlswatch %s\n", PACKAGE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "tlswatch: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
