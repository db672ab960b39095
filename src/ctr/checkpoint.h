/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_CTR_CHECKPOINT_H
#define CABIN_CTR_CHECKPOINT_H

struct cabin_err;

/*
 * checkpoint and restore through CRIU (`criu swrk` and its RPC, as runc does). CRIU is a
 * separate program found in PATH; where `criu check` fails (a kernel CRIU does not
 * support), both commands fail with that reason before anything is created or changed.
 */

struct ctr_criu_common {
	const char *criu;	/* the criu program (--criu), NULL: `criu` in PATH */
	const char *image_path; /* NULL: ./checkpoint, as runc */
	const char *work_path;	/* logs and work files; NULL: the image directory */
	int tcp_established, ext_unix_sk, shell_job, file_locks, auto_dedup, lazy_pages;
	int manage_cgroups_mode; /* enum ctr_criu_cg_mode, 0: CRIU's default (soft) */
	unsigned empty_ns;	 /* CLONE_NEW* created empty at restore (--empty-ns) */
};

struct ctr_checkpoint_opts {
	const char *root, *id;
	struct ctr_criu_common c;
	const char *parent_path; /* relative to image_path (pre-dump chains) */
	int leave_running, pre_dump;
	int status_fd;		/* --status-fd with --lazy-pages, or -1 */
	const char *ps_address; /* --page-server ADDRESS:PORT */
	int ps_port;
};

struct ctr_restore_opts {
	const char *root, *id;
	struct ctr_criu_common c;
	const char *bundle; /* NULL: . */
	const char *pid_file, *console_socket;
	int detach, no_subreaper, no_pivot, no_cgroups;
	const char *lsm_profile, *lsm_mount_context;
};

/**
 * ctr_criu_check() - run `@criu check` (NULL: `criu` in PATH): 0 when CRIU can work on this host,
 * else an error naming CRIU's own reason (the failing check) or a missing `criu` program.
 * A check that does not answer in 30 s (CABIN_CRIU_CHECK_TIMEOUT seconds) is killed with
 * what it started, and is an error.
 */
int ctr_criu_check(const char *criu, struct cabin_err **err);

/**
 * ctr_checkpoint() - dump a running or paused container into the image directory. Unless
 * --leave-running or --pre-dump, the container is gone afterwards (deleted, as runc).
 * Arguments (--parent-path) and the container's state are checked before CRIU runs; an
 * image directory this call created is removed again on failure.
 */
int ctr_checkpoint(const struct ctr_checkpoint_opts *o, struct cabin_err **err);

/**
 * ctr_restore() - create container @o->id from the bundle and restore its processes from
 * the image directory. Return: with --detach 0, else the restored init's exit status
 * (the container is deleted once it exits, as `run`).
 */
int ctr_restore(const struct ctr_restore_opts *o, struct cabin_err **err);

#endif
