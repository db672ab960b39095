/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_CTR_CONTAINER_H
#define CABIN_CTR_CONTAINER_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

struct cabin_err;

/* The container engine: the lifecycle of the OCI runtime CLI. */

struct ctr_create_opts {
	const char *root; /* state directory (--root) */
	const char *id;
	const char *bundle;	    /* NULL: the current directory */
	const char *pid_file;	    /* --pid-file, or NULL */
	const char *console_socket; /* --console-socket, or NULL */
	int no_pivot;
	int detach;	       /* run: return once started */
	unsigned preserve_fds; /* --preserve-fds: fds 3..3+N-1 reach the process */
	int keep;	       /* run: leave the stopped container (no delete) */
	int no_subreaper;      /* run: do not become the child subreaper */
	int no_cgroups;	       /* --cgroup-manager disabled: create no cgroup */
};

/**
 * ctr_create() - create a container: namespaces, cgroup, filesystem, devices; the init
 * then waits on exec.fifo for ctr_start(). On any failure everything is removed (state
 * directory, cgroup, processes) and the error names what failed.
 */
int ctr_create(const struct ctr_create_opts *o, struct cabin_err **err);

/** ctr_start() - release a created container's init and run the poststart hooks. */
int ctr_start(const char *root, const char *id, struct cabin_err **err);

/**
 * ctr_run() - create + start; unless @o->detach, forward signals to the init, wait for
 * it, delete the container and return its exit status (128+N when killed by signal N).
 */
int ctr_run(const struct ctr_create_opts *o, struct cabin_err **err);

/** ctr_state_get() - the runtime-spec state of @id (caller decrefs). */
int ctr_state_get(const char *root, const char *id, json_t **out, struct cabin_err **err);

/** ctr_kill() - send @sig to the init, or with @all to every process of the container. */
int ctr_kill(const char *root, const char *id, int sig, int all, struct cabin_err **err);

/**
 * ctr_delete() - remove a stopped or created container. A running one needs @force:
 * everything is SIGKILLed first. Runs poststop hooks, destroys the cgroup, removes state.
 */
int ctr_delete(const char *root, const char *id, int force, struct cabin_err **err);

/** ctr_pause() - freeze (@pause = 1) or thaw a container. */
int ctr_pause(const char *root, const char *id, int pause, struct cabin_err **err);

/** ctr_pids() - the host pids of every process of the container. */
int ctr_pids(const char *root, const char *id, pid_t **pids, size_t *n, struct cabin_err **err);

/** ctr_update() - apply new linux.resources. */
int ctr_update(const char *root, const char *id, json_t *resources, struct cabin_err **err);

/**
 * ctr_stats() - resource usage of a running or created container (`events`): @data gets
 * the cgroup statistics (caller decrefs), @oom (if not NULL) its OOM event counter.
 * Fails when the container is gone or stopped.
 */
int ctr_stats(const char *root, const char *id, json_t **data, uint64_t *oom,
	      struct cabin_err **err);

/** ctr_list() - JSON array of the state of every container under @root. */
int ctr_list(const char *root, json_t **out, struct cabin_err **err);

struct ctr_exec_opts {
	const char *root;
	const char *id;
	json_t *process;	 /* a runtime-spec process object */
	const char *process_src; /* where it came from, for errors (NULL: config.json) */
	const char *pid_file;
	const char *console_socket;
	int detach;
	unsigned preserve_fds;
	int ignore_paused;	    /* --ignore-paused: exec into a frozen container */
	const char *const *cgroups; /* --cgroup [CONTROLLERS:]PATH, relative to the container's */
	size_t n_cgroups;
};

/**
 * ctr_exec() - run a new process in a running container (its namespaces, cgroup, and
 * the container's capabilities and seccomp unless @process says otherwise).
 * Return: the process's exit status (foreground), or 0 with @detach.
 */
int ctr_exec(const struct ctr_exec_opts *o, struct cabin_err **err);

/* Internal: shared by container.c and exec.c. */

/** ctr_sync_send() - one message on the runtime <-> init socket, with an optional fd. */
int ctr_sync_send(int sock, int type, int value, const char *text, int fd);
/** ctr_sync_recv() - receive one message; *fd gets a passed fd or -1. 0 on EOF. */
int ctr_sync_recv(int sock, int *type, int *value, char *text, size_t textlen, int *fd);

enum ctr_sync_type {
	CTR_SYNC_MAP_REQ = 1, /* init -> runtime: write uid/gid maps of pid `value` */
	CTR_SYNC_MAP_DONE,
	CTR_SYNC_PID,	    /* intermediate -> runtime: the init is pid `value` */
	CTR_SYNC_GO,	    /* runtime -> init: cgroup done; value = the init's host pid */
	CTR_SYNC_HOOKS_REQ, /* init -> runtime: run prestart/createRuntime hooks */
	CTR_SYNC_HOOKS_DONE,
	CTR_SYNC_TERMINAL, /* init -> runtime: the pty master (fd) */
	CTR_SYNC_READY,
	CTR_SYNC_ACK,
	CTR_SYNC_ERROR,	  /* text: one error line */
	CTR_SYNC_SECCOMP, /* init -> runtime: the seccomp notify fd, for listenerPath */
	CTR_SYNC_SECCOMP_DONE,
	CTR_SYNC_PLACED_REQ, /* init -> runtime: answered once the init is in its cgroups */
	CTR_SYNC_PLACED,
	CTR_SYNC_JOIN, /* runtime -> init: the v1 cgroups exist; their `tasks` files (fds) */
};

/** ctr_console_send() - pass a pty master to a --console-socket peer (SCM_RIGHTS). */
int ctr_console_send(int sock, int master, struct cabin_err **err);
/** ctr_console_connect() - connect to the unix socket at @path. */
int ctr_console_connect(const char *path, struct cabin_err **err);
/**
 * ctr_terminal_setup() - in the container: open a pty from /dev/ptmx, make its slave the
 * controlling terminal and stdio, set the size. Return: the master fd.
 */
int ctr_terminal_setup(unsigned short rows, unsigned short cols, struct cabin_err **err);
/**
 * ctr_terminal_proxy() - copy stdin -> @master and @master -> stdout, forward the signals
 * read from @sigfd to @pid, until @pid exits; its wait status goes to *@status.
 */
void ctr_terminal_proxy(int master, int sigfd, pid_t pid, int *status);

/** ctr_write_idmap() - write runtime-spec @maps to /proc/@pid/@file (uid_map, gid_map). */
int ctr_write_idmap(pid_t pid, const char *file, json_t *maps, struct cabin_err **err);

/** ctr_write_pid_file() - write @pid to @path atomically. */
int ctr_write_pid_file(const char *path, pid_t pid, struct cabin_err **err);

#endif
