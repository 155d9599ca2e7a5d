/* log.h - one line per event on stderr; journald adds the time. */
#ifndef TLSWATCH_LOG_H
#define TLSWATCH_LOG_H

/* verbose > 0 enables log_debug. */
void log_init(const char *progname, int verbose);
int log_verbose(void);

/* Control characters in the formatted line are escaped (\n, \xNN), so
 * peer-controlled text cannot forge or split log lines. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));  /* appends strerror(errno) */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
