/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_CTR_CGROUP_H
#define CABIN_CTR_CGROUP_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

struct cabin_err;

/*
 * The cgroupfs manager: cgroup v1, v2 and hybrid hosts (v1 controllers plus an
 * unified cgroup2 mount without controllers). No systemd.
 */
struct ctr_cgroup;

enum ctr_cgroup_mode {
	CTR_CGROUP_V1,
	CTR_CGROUP_V2,
	CTR_CGROUP_HYBRID,
};

/** ctr_cgroup_host_mode() - the host's cgroup layout, detected once from /proc/self/mountinfo. */
enum ctr_cgroup_mode ctr_cgroup_host_mode(void);

/**
 * ctr_cgroup_validate() - check linux.resources before anything is created, so that an
 * impossible limit fails `create` with an error naming the field and nothing is left behind.
 * Checks types and ranges that are wrong on every host: memory.limit -1 or >= 1 MiB,
 * reservation/swap >= -1, swap (memory+swap) >= limit and only with a limit, reservation <=
 * limit, swappiness 0..100, cpu.shares 2..262144, quota >= 1000 us or -1, period
 * 1000..1000000 us, idle 0/1, cpus/mems list syntax, blockIO weights 10..1000 and device
 * numbers, devices type a/b/c and access within rwm, hugepage sizes like `2MB`, unified
 * keys (no `/`, no cgroup core file but cgroup.max.*). Host-specific refusals (kmem,
 * missing controllers, values the kernel rejects) fail in create/update naming the file.
 * Also run by ctr_cgroup_create() and ctr_cgroup_update().
 */
int ctr_cgroup_validate(json_t *resources, struct cabin_err **err);

/**
 * ctr_cgroup_create() - create the container's cgroup(s), apply @resources, move @pid in
 * @cgroups_path: linux.cgroupsPath. NULL or "" -> the relative path "<id>" (runc's). An
 *                absolute path is taken from each hierarchy's root; a relative one from the
 *                caller's own cgroup in that hierarchy (on pure v2 from its parent, as runc
 *                does, since the caller's cgroup holds processes). The systemd form
 *                "slice:prefix:name" and `..` components are errors naming the value.
 * @pid: moved into every hierarchy after the limits are written; 0: nobody.
 * On v1 and hybrid hosts a directory is made in every mounted v1 hierarchy and, on hybrid
 * hosts, in the cgroup2 one too. Directories this call creates (and the "cabin" parent of
 * the default path) are removed again by ctr_cgroup_destroy() once empty.
 * Without permission to create (rootless) and with no @resources, hierarchies are skipped.
 * On failure everything created is removed.
 */
int ctr_cgroup_create(const char *cgroups_path, const char *id, json_t *resources, pid_t pid,
		      struct ctr_cgroup **out, struct cabin_err **err);

/**
 * ctr_cgroup_plan() - the first half of ctr_cgroup_create(): resolve the directories,
 * create nothing. Their names can then be recorded (state.json) before they exist, so
 * that a runtime killed in the middle leaves nothing `delete` cannot find.
 */
int ctr_cgroup_plan(const char *cgroups_path, const char *id, struct ctr_cgroup **out,
		    struct cabin_err **err);

/**
 * ctr_cgroup_make() - the second half: create the planned directories and apply
 * @resources; on failure remove what was made. Hierarchies we may not write are dropped
 * from @cg when no limit needs them (rootless).
 */
int ctr_cgroup_make(struct ctr_cgroup *cg, json_t *resources, struct cabin_err **err);

/**
 * ctr_cgroup_make_v2() - ctr_cgroup_make() in steps, so that the v1 directories can be
 * made while the new init builds its filesystem: first the cgroup2 directory only (what
 * clone3(CLONE_INTO_CGROUP) needs), with no limit written; on failure it is removed.
 */
int ctr_cgroup_make_v2(struct ctr_cgroup *cg, json_t *resources, struct cabin_err **err);

/**
 * ctr_cgroup_make_v1() - the second step: the v1 directories, no limit written, of the
 * hierarchies from *@pos (0 at first) on. On failure the v1 directories made are removed.
 */
int ctr_cgroup_make_v1(struct ctr_cgroup *cg, json_t *resources, size_t *pos,
		       struct cabin_err **err);

/**
 * ctr_cgroup_make_v1_next() - ctr_cgroup_make_v1() one hierarchy at a time, from *@pos
 * on. Return: 1 when one was made (or dropped, as ctr_cgroup_make_v1() drops them), 0
 * when none is left, -1 on failure (the v1 directories made are removed).
 */
int ctr_cgroup_make_v1_next(struct ctr_cgroup *cg, json_t *resources, size_t *pos,
			    struct cabin_err **err);

/**
 * ctr_cgroup_limit() - the last step: write @resources into every hierarchy. Nothing is
 * removed on failure: the directories may hold the init by then (ctr_cgroup_destroy()).
 */
int ctr_cgroup_limit(struct ctr_cgroup *cg, json_t *resources, struct cabin_err **err);

/** ctr_cgroup_n_v1() - how many v1 hierarchies @cg has a directory in. */
size_t ctr_cgroup_n_v1(const struct ctr_cgroup *cg);

/**
 * ctr_cgroup_populated() - the first of @cg's directories that already holds processes
 * (a pre-existing linux.cgroupsPath shared with others), or NULL.
 */
const char *ctr_cgroup_populated(struct ctr_cgroup *cg);

/*
 * When linux.resources has device rules, create/update append the defaults runc and crun
 * use after them: mknod of any c/b device, and /dev/null, zero, full, random, urandom,
 * tty, console, ptmx, pts/N (c 136:*) and net/tun. linux.devices entries get no rule of
 * their own, as with runc: a deny-all keeps them inaccessible unless a rule allows them.
 */

/**
 * ctr_cgroup_mountinfo() - the text of /proc/self/mountinfo as the last cgroup resolve of
 * this process read it, or NULL. A process forked since then into a new mount namespace
 * (a copy of ours) finds the host's cgroup mounts there without formatting every mount
 * again; one that joined another mount namespace must read its own.
 */
const char *ctr_cgroup_mountinfo(void);

/** ctr_cgroup_to_string() - serialization for state.json (caller frees). */
char *ctr_cgroup_to_string(const struct ctr_cgroup *cg);

/** ctr_cgroup_from_string() - reopen a cgroup saved with ctr_cgroup_to_string(). */
int ctr_cgroup_from_string(const char *s, struct ctr_cgroup **out, struct cabin_err **err);

/*
 * Joining a cgroup without the global lock. A write of a pid to cgroup.procs takes the
 * write side of cgroup_threadgroup_rwsem, whose first taker waits for an RCU grace
 * period (8-16 ms on the machines measured, more than the rest of a start). Two ways in
 * skip it: a v1 `tasks` file written "0" by the thread that moves (Linux moves itself
 * without the lock, see cgroup_procs_write_start()), and clone3(CLONE_INTO_CGROUP)
 * (Linux 5.7), which places a new process in a cgroup2 directory as it is created.
 */
#define CTR_CGROUP_JOIN_MAX 16

struct ctr_cgroup_join {
	int tasks[CTR_CGROUP_JOIN_MAX]; /* v1: the container's `tasks` files, open for writing */
	size_t n;
	int v2dir; /* the container's cgroup2 directory (CLONE_INTO_CGROUP), or -1 */
};

#define CTR_CGROUP_JOIN_V1 1u /* the `tasks` files of the v1 hierarchies */
#define CTR_CGROUP_JOIN_V2 2u /* the cgroup2 directory */

/**
 * ctr_cgroup_join_open() - open what a new process needs to join @cg by itself: the
 * `tasks` file of each v1 hierarchy and the cgroup2 directory, as @which says
 * (CTR_CGROUP_JOIN_V1 | CTR_CGROUP_JOIN_V2). @j is reset first.
 */
int ctr_cgroup_join_open(struct ctr_cgroup *cg, struct ctr_cgroup_join *j, unsigned which,
			 struct cabin_err **err);

/**
 * ctr_cgroup_join_self() - in the new process: join each v1 hierarchy of @j (write "0"
 * to its `tasks`); the caller must be single-threaded. Closes every fd of @j.
 */
int ctr_cgroup_join_self(struct ctr_cgroup_join *j, struct cabin_err **err);

/** ctr_cgroup_join_close() - close the fds of @j (idempotent). */
void ctr_cgroup_join_close(struct ctr_cgroup_join *j);

/**
 * ctr_cgroup_enter_v2() - move @pid into the cgroup2 directory of @cg only, when
 * clone3(CLONE_INTO_CGROUP) could not place it (no cgroup2 directory: nothing to do).
 */
int ctr_cgroup_enter_v2(struct ctr_cgroup *cg, pid_t pid, struct cabin_err **err);

/** ctr_cgroup_enter() - move @pid into the container's cgroup(s) (exec). */
int ctr_cgroup_enter(struct ctr_cgroup *cg, pid_t pid, struct cabin_err **err);

/**
 * ctr_cgroup_enter_sub() - exec --cgroup: move @pid into sub-cgroups of the container's.
 * @subs: "PATH" (every hierarchy) or "CTRL[,CTRL]:PATH" (the hierarchies of those
 *        controllers), PATH relative to the container's cgroup; `..` is refused, an
 *        unknown controller too. Hierarchies no entry names get the container's cgroup.
 */
int ctr_cgroup_enter_sub(struct ctr_cgroup *cg, pid_t pid, const char *const *subs, size_t n,
			 struct cabin_err **err);

/** ctr_cgroup_update() - apply new linux.resources (cabin update). */
int ctr_cgroup_update(struct ctr_cgroup *cg, json_t *resources, struct cabin_err **err);

/** ctr_cgroup_freeze() - freeze (1) or thaw (0) every process; waits until done. */
int ctr_cgroup_freeze(struct ctr_cgroup *cg, int frozen, struct cabin_err **err);

/**
 * ctr_cgroup_freezer_dir() - the directory whose freezer stops the container (v1 freezer,
 * else cgroup v2), for CRIU's freeze_cgroup; NULL without one. Owned by @cg.
 */
const char *ctr_cgroup_freezer_dir(struct ctr_cgroup *cg);

/** ctr_cgroup_is_frozen() - 1 frozen, 0 not, <0 error. */
int ctr_cgroup_is_frozen(struct ctr_cgroup *cg);

/** ctr_cgroup_pids() - every pid in the container's cgroup (caller frees *pids). */
int ctr_cgroup_pids(struct ctr_cgroup *cg, pid_t **pids, size_t *n, struct cabin_err **err);

/** ctr_cgroup_kill_all() - send @sig to every process in the cgroup (kill --all). */
int ctr_cgroup_kill_all(struct ctr_cgroup *cg, int sig, struct cabin_err **err);

/**
 * ctr_cgroup_kill_leftovers() - kill --all of a stopped container: send @sig to what is left
 * in the cgroup if cabin created it; a missing, empty or pre-existing cgroup is left alone.
 */
int ctr_cgroup_kill_leftovers(struct ctr_cgroup *cg, int sig, struct cabin_err **err);

/**
 * ctr_cgroup_exists_any() - 1 if the directory of @cg exists in any hierarchy (or cannot
 * be told not to), 0 when none does yet.
 */
int ctr_cgroup_exists_any(const struct ctr_cgroup *cg);

/**
 * ctr_cgroup_destroy() - SIGKILL what is left, wait until empty, remove the directories.
 * Succeeds when they are already gone.
 */
int ctr_cgroup_destroy(struct ctr_cgroup *cg, struct cabin_err **err);

/** ctr_cgroup_stats() - memory/pids/cpu usage as JSON (for `events --stats`-style output). */
json_t *ctr_cgroup_stats(struct ctr_cgroup *cg);

/**
 * ctr_cgroup_oom_count() - a counter that grows with each OOM event of the container's
 * memory cgroup (v2 memory.events `oom`, v1 memory.oom_control `oom_kill`).
 * Return: 0, or -1 when there is no memory controller to read.
 */
int ctr_cgroup_oom_count(struct ctr_cgroup *cg, uint64_t *count);

/**
 * ctr_cgroup_memory_limit() - the memory limit in force (UINT64_MAX: none).
 * Return: 0, or -1 without a memory controller.
 */
int ctr_cgroup_memory_limit(struct ctr_cgroup *cg, uint64_t *limit);

/**
 * ctr_cgroup_set_owner() - a cgroup may be shared with processes that are not the
 * container's (a pre-existing linux.cgroupsPath). With an owner set, ctr_cgroup_pids()
 * lists, and kill_all() and destroy() signal, only the processes @owns accepts, and
 * destroy() leaves a cgroup that still holds others in place.
 */
void ctr_cgroup_set_owner(struct ctr_cgroup *cg, int (*owns)(const void *opaque, pid_t pid),
			  const void *opaque);

/** ctr_cgroup_foreign_pid() - a process in the cgroup that is not the owner's, or 0. */
pid_t ctr_cgroup_foreign_pid(struct ctr_cgroup *cg);

void ctr_cgroup_free(struct ctr_cgroup *cg);

#endif
