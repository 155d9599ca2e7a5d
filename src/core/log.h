/* log.h - one line per event on stderr; journald adds the time. When
 * stderr is the journal (JOURNAL_STREAM names it), each line starts with
 * its syslog priority instead of the program's name: <3> fatal, <4> warn,
 * <5> notice, <6> info, <7> debug. */
#ifndef TLSWATCH_LOG_H
#define TLSWATCH_LOG_H

/* verbose > 0 enables log_debug. */
void log_init(const char *progname, int verbose);
int log_verbose(void);

/* Control characters (C0, DEL, C1) and bytes that are not UTF-8 in the
 * formatted line are escaped as term_escape does (\n, \xNN), so
 * peer-controlled text cannot forge or split log lines. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));  /* appends strerror(errno) */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Lines already escaped (configuration errors, FILE:LINE: first so that
 * editors can jump to them) as they are, one per line of text: with the
 * priority's prefix on the journal (error: <3>, else warning <4>), without
 * the program's name elsewhere. */
void log_lines(int error, const char *text);
__attribute__((noreturn)) void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
