/* work.h - jobs that must not hold the event loop (password hashes, file
 * writes), run on worker threads; each job's completion comes back on the
 * loop thread. The one place the daemon uses threads. */
#ifndef TLSWATCH_WORK_H
#define TLSWATCH_WORK_H

#include <stddef.h>

struct loop;
struct work_pool;

/* Embed in the owner's job struct (container_of gets it back). The owner
 * keeps the job alive from work_submit until done has been called; a job
 * cannot be withdrawn, so an owner that goes away first marks its job and
 * lets done free it. */
struct work_job {
	/* On a worker thread: may touch only what the job owns (and log). */
	void (*run)(struct work_job *j);
	/* On the loop thread, after run; may free the job. */
	void (*done)(struct work_job *j);
	/* On the loop thread, while run goes on, after run called
	 * work_progress (NULL if it never does); never after done. */
	void (*progress)(struct work_job *j);
	struct work_job *next;      /* private to work.c */
	struct work_job *pnext;     /* private: progress reported */
	int reported;               /* private: in the progress list */
};

/* A pool of `threads` workers (at least 1) reporting to l. name goes to
 * the threads' names (ps -L, top -H), at most 15 bytes. NULL with *err
 * when a thread cannot be started. Worker threads block every signal, so
 * signals keep reaching the loop's signalfd. */
struct work_pool *work_pool_new(struct loop *l, unsigned threads, const char *name, char **err);

/* Run the pool's jobs from now on at inc more than the process's nice
 * (0 to 19; Linux keeps a nice per thread): work that can wait yields the
 * cores to the loop. */
void work_pool_set_nice(struct work_pool *p, int inc);

/* Queue j; jobs start in the order submitted. */
void work_submit(struct work_pool *p, struct work_job *j);
/* Queue j ahead of every job waiting (the next to start). */
void work_submit_first(struct work_pool *p, struct work_job *j);

/* From j's run, on its worker: have j's progress called on the loop
 * thread soon. Calls before the loop gets to it count once. */
void work_progress(struct work_pool *p, struct work_job *j);

/* Jobs submitted whose done has not been called yet. */
size_t work_pending(const struct work_pool *p);

/* Block until every job submitted so far has run, then call their done
 * callbacks here (for shutdown and tests; never on a hot path). */
void work_drain(struct work_pool *p);

/* Drain, stop the threads and free. Accepts NULL. */
void work_pool_free(struct work_pool *p);

#endif
