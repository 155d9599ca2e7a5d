/* notify.h - the systemd notification protocol (Type=notify, watchdog). */
#ifndef TLSWATCH_NOTIFY_H
#define TLSWATCH_NOTIFY_H

#include <stdint.h>

/* Send one notification ("READY=1", "STATUS=..."); no-op when the service
 * manager did not ask for any ($NOTIFY_SOCKET unset). 0, or -1 on error. */
int notify_send(const char *msg);
/* READY=1 with a status line. */
void notify_ready(const char *status);
/* RELOADING=1 with MONOTONIC_USEC (systemd 253+ wants it; older ignore it). */
void notify_reloading(void);
void notify_stopping(void);
void notify_status(const char *status);
void notify_watchdog(void);
/* The watchdog interval systemd expects pings within, in microseconds;
 * 0 when no watchdog is asked for. */
uint64_t notify_watchdog_usec(void);
/* "libsystemd" or "builtin": which implementation is compiled in. */
const char *notify_implementation(void);

#endif
