/* tfiles.h - target_files: targets from Prometheus file_sd documents,
 * watched with inotify and applied as a reload of only those targets. */
#ifndef TLSWATCH_TFILES_H
#define TLSWATCH_TFILES_H

#include <stddef.h>

#include "conf/conf.h"
#include "core/util.h"

struct loop;
struct tfiles;

/* Called when the set of targets changed (tfiles_targets again); the
 * previous set is freed after it returns, what was kept aside. */
typedef void (*tfiles_fn)(void *arg);

/* Load every file c's target_files patterns match, built with c's modules,
 * and watch their directories. prev (the tfiles of the configuration
 * before a reload, or NULL) gives the last good content of a file that is
 * broken now. Nothing is called back until tfiles_watch. */
struct tfiles *tfiles_new(struct loop *l, const struct conf *c, const struct tfiles *prev);
/* From now on, changes call fn(arg). */
void tfiles_watch(struct tfiles *tf, tfiles_fn fn, void *arg);
/* Accepts NULL. */
void tfiles_free(struct tfiles *tf);

/* The targets of every file, the files in name order, each file's in its
 * order. Each pointer stays valid while its entry is unchanged: an
 * unchanged entry keeps its pointer across changes (the scheduler keeps
 * such a target as it runs). */
const struct conf_target *const *tfiles_targets(const struct tfiles *tf, size_t *n);
/* Files matched now. */
size_t tfiles_count(const struct tfiles *tf);

/* tlswatch_target_file_last_load_successful{file} and
 * tlswatch_target_file_targets{file}. */
void tfiles_render_metrics(struct buf *b, const struct tfiles *tf);

#endif
