/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_BOX_BOX_H
#define CABIN_BOX_BOX_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cabin_err;
struct img_store;
struct net_port;

/*
 * Containers made from images, Docker's model on top of the OCI runtime (src/ctr): a
 * record per container under DATA_ROOT/containers/ID/ (container.json, the generated
 * bundle, the overlayfs upper and work directories, the log), a name per container under
 * DATA_ROOT/names/ (a symlink NAME -> ID, created exclusively: two containers never share
 * a name), and a monitor process per running container (conmon's role) that holds the
 * container's stdio or pty, writes its log, records its exit status and cleans up.
 */

/* a stop timeout not given: the container's --stop-timeout, else 10 s (-1 waits for ever) */
#define BOX_TIMEOUT_UNSET (-2)

struct box_run_opts {
	const char *data_root;
	const char *runtime_root; /* --root of the OCI runtime */
	const char *image;
	const char *name;
	char **cmd; /* after IMAGE; NULL: the image's Cmd */
	const char *entrypoint;
	int entrypoint_set;
	char **env; /* K=V, after --env-file lines */
	const char *workdir, *user;
	char **volumes; /* SRC:DST[:ro] */
	char **mounts;	/* --mount type=bind|volume|tmpfs,src=,dst=,ro */
	char **tmpfs;	/* DST[:OPTIONS] */
	const char *network;
	struct net_port *ports;
	size_t nports;
	char **publish; /* the -p strings, for ps and inspect */
	int64_t memory;
	int64_t cpu_quota; /* microseconds per 100 ms, from --cpus */
	int64_t pids_limit;
	int read_only, tty, interactive, detach, rm;
	const char *log_driver; /* json-file (default) or k8s-file */
	uint64_t log_max_size;	/* bytes; 0: no rotation */
	int log_max_file;
	const char *platform, *pull; /* pull policy: missing (default), always, never */
	/* -h, --add-host, --dns*: the container's /etc/hostname, /etc/hosts, resolv.conf */
	const char *hostname;
	char **add_hosts; /* HOST:IP */
	char **dns, **dns_search, **dns_options;
	/* security: capabilities, --privileged, --security-opt */
	char **cap_add, **cap_drop;
	int privileged, no_new_privs;
	const char *seccomp; /* NULL: none; "unconfined"; or a profile file */
	char **devices;	     /* HOST[:CTR[:rwm]] */
	char **group_add;
	char **ulimits; /* NAME=SOFT[:HARD] */
	int64_t shm_size;
	const char *stop_signal; /* or NULL: the image's StopSignal */
	int stop_timeout;	 /* seconds; -1: wait for ever; BOX_TIMEOUT_UNSET: 10 */
	char **labels;		 /* K=V */
	const char *restart;	 /* no, on-failure, always, unless-stopped; NULL: no */
	int restart_max;	 /* on-failure:N; 0: no limit */
	int init;		 /* --init: cabin-init as PID 1 */
	int create_only;	 /* `container create`: made, not started */
};

/**
 * box_run() - create a container from an image and start it under a monitor process.
 * With @o->detach: return once it runs (its ID printed by the caller, *@id set).
 * Otherwise stream its output (and stdin with -i, a pty with -t) and return its exit status.
 */
int box_run(const struct box_run_opts *o, char *id, struct cabin_err **err);

/**
 * box_start() - start a created or exited container (`container start`): a new monitor
 * runs it. Detached, return 0 once it runs (a running container is left as it is); with
 * @attach, stream its output (and our stdin with @interactive) as a foreground `run`
 * does and return its exit status.
 */
int box_start(const char *data_root, const char *id, int attach, int interactive,
	      struct cabin_err **err);

/** box_find() - the container named @ref (a name, an ID or a unique ID prefix). */
int box_find(const char *data_root, const char *ref, char id[65], struct cabin_err **err);

/** box_load() - the record of container @id (caller decrefs), its state made current. */
int box_load(const char *data_root, const char *id, json_t **rec, struct cabin_err **err);

/** box_list() - every container record, as a JSON array. */
json_t *box_list(const char *data_root);

/** box_status() - "created", "running", "exited" (a dead monitor counts as exited). */
const char *box_status(json_t *rec);

/** box_kill() - send @sig to the container's init. */
int box_kill(const char *data_root, const char *id, int sig, struct cabin_err **err);

/**
 * box_stop() - the image's StopSignal (default SIGTERM), then SIGKILL after @timeout
 * seconds; returns once the monitor recorded the exit.
 */
int box_stop(const char *data_root, const char *id, int timeout, struct cabin_err **err);

/** box_wait() - wait for the container to exit. Return: its exit code. */
int box_wait(const char *data_root, const char *id, struct cabin_err **err);

/** box_rm() - remove a stopped container (a running one with @force: killed first). */
int box_rm(const char *data_root, const char *id, int force, struct cabin_err **err);

struct box_logs_opts {
	int follow;
	long tail; /* -1: all */
	int timestamps;
};
/** box_logs() - print the container's log (stdout lines to stdout, stderr to stderr). */
int box_logs(const char *data_root, const char *id, const struct box_logs_opts *o,
	     struct cabin_err **err);

/**
 * box_exec() - run @argv in a running container (its env, cwd and user unless given).
 * Return: the process's exit status.
 */
int box_exec(const char *data_root, const char *id, char **argv, char **env, const char *workdir,
	     const char *user, int tty, int detach, struct cabin_err **err);

/** box_inspect() - Docker-shaped JSON of a container (caller decrefs). */
json_t *box_inspect(json_t *rec);

/** box_df() - containers' part of `system df`. */
void box_df(const char *data_root, size_t *total, size_t *running, uint64_t *size);
/** box_prune() - remove every exited container; bytes freed to *@freed. */
int box_prune(const char *data_root, uint64_t *freed);

/* Volumes: DATA_ROOT/volumes/NAME/_data. */
int box_volume_create(const char *data_root, const char *name, struct cabin_err **err);
int box_volume_rm(const char *data_root, const char *name, int force, struct cabin_err **err);
json_t *box_volume_list(const char *data_root);
/** box_volume_users() - how many containers mount volume @name. */
int box_volume_users(const char *data_root, const char *name);

/**
 * box_cap_normalize() - a --cap-add/--cap-drop name as Docker takes it: any case, with or
 * without CAP_, or ALL. Return: 0 with "CAP_X" or "ALL" in *@out (caller frees; @out may
 * be NULL to only check), -1 for a name this kernel does not know.
 */
int box_cap_normalize(const char *name, char **out);

/** box_add_host_split() - "HOST:IP", "HOST=IP" or "HOST:[V6]" into its parts (caller frees). */
int box_add_host_split(const char *spec, char **host, char **ip);

/**
 * box_init_path() - the host's cabin-init for --init: $CABIN_INIT, else next to this
 * binary, else /usr/local/libexec/cabin or /usr/libexec/cabin. Caller frees; NULL if none.
 */
char *box_init_path(void);

/** box_signal_parse() - "SIGUSR1", "USR1" or "10": the number, -1 if unknown. */
int box_signal_parse(const char *s);

/* Internal, shared by the box files. */

/** box_spec_build() - the OCI config.json of a container (see spec.c). */
int box_spec_build(const struct box_run_opts *o, json_t *imgcfg, const char *id, const char *rootfs,
		   const char *cdir, json_t **spec, json_t **mounts_rec, struct cabin_err **err);
/** box_record_extra() - the fields of the record that the run options add. */
int box_record_extra(const struct box_run_opts *o, json_t *imgcfg, json_t *spec, json_t *rec,
		     struct cabin_err **err);
/** box_caps_has() - will the container of @o hold capability @cap ("CAP_X")? */
int box_caps_has(const struct box_run_opts *o, const char *cap);
/** box_user_resolve() - "name[:group]" or "uid[:gid]" in the rootfs's passwd and group. */
int box_user_resolve(int rootfd, const char *user, uid_t *uid, gid_t *gid, json_t **extra,
		     char **home, struct cabin_err **err);
/**
 * box_monitor() - the monitor's main loop (monitor.c) for one run of the container; runs
 * in the forked monitor. Return: 1 when the restart policy asks for another run (the
 * record then says "restarting"), 0 when the container is done, <0 on failure.
 */
int box_monitor(const char *data_root, const char *id, int syncfd, int attach_in, int attach_out,
		int attach_err, struct cabin_err **err);
/** box_stop_requested() - has `stop` (or `rm -f`) been asked for this container? */
int box_stop_requested(const char *data_root, const char *id);
/** box_monitor_finish() - a restarting container that was stopped: record it exited. */
void box_monitor_finish(const char *data_root, const char *id);
/** box_record_save() - write a container record atomically. */
int box_record_save(const char *data_root, const char *id, json_t *rec, struct cabin_err **err);
/** box_cleanup_fs() - unmount the rootfs, detach the network, remove the directory. */
void box_cleanup(const char *data_root, const char *id, json_t *rec);
/** box_now() - RFC 3339 UTC with nanoseconds; caller frees. */
char *box_now(void);
/** box_proc_starttime() - field 22 of /proc/PID/stat, 0 if the process is gone. */
unsigned long long box_proc_starttime(pid_t pid);

/**
 * box_seccomp_default() - the seccomp profile of a container run without
 * --security-opt seccomp=, in Docker's profile format (see seccomp-default.c)
 */
json_t *box_seccomp_default(void);

#endif
