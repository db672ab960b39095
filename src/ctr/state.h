/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_CTR_STATE_H
#define CABIN_CTR_STATE_H

#include <jansson.h>
#include <sys/types.h>

struct cabin_err;

/*
 * The state directory: <root>/<id>/state.json, written atomically once the container
 * is created, plus exec.fifo while the init waits for `start`. It is all a later
 * `cabin` process needs: the runtime does not stay around after `create`.
 */

enum ctr_status {
	CTR_CREATING, /* directory exists, no state.json: create in progress or interrupted */
	CTR_CREATED,
	CTR_RUNNING,
	CTR_PAUSED,
	CTR_STOPPED,
};

struct ctr_state {
	char *id;
	pid_t pid;
	unsigned long long start_time; /* /proc/PID/stat field 22: detects pid reuse */
	char *bundle;
	char *rootfs;
	char *created; /* RFC 3339 */
	char *cgroup;  /* ctr_cgroup_to_string(), or NULL */
	char *config;  /* path of config.json */
	uid_t owner;
	json_t *annotations;	  /* object (owned reference) */
	json_t *poststop;	  /* hooks.poststop array, run by delete (owned reference) */
	json_t *process;	  /* the container's process object, defaults for exec */
	int ns_pid;		  /* the container has its own pid namespace */
	unsigned long long pidns; /* its inode (/proc/PID/ns/pid), 0 if unknown */
	json_t *foreign;	  /* [[pid, start time]...]: in the cgroup before us, or NULL */
};

/** ctr_id_validate() - container IDs: [A-Za-z0-9][A-Za-z0-9_+.-]*, at most 1024 bytes. */
int ctr_id_validate(const char *id, struct cabin_err **err);

/** ctr_state_dir() - "<root>/<id>" (caller frees). */
char *ctr_state_dir(const char *root, const char *id);

/**
 * ctr_state_dir_make() - make the state directory @id under the runtime's root @rootfd,
 * exclusively: "container `ID` already exists" if it does. An emptied one that a delete
 * kept is taken when there is one (see ctr_state_dir_remove()).
 */
int ctr_state_dir_make(int rootfd, const char *id, struct cabin_err **err);

/**
 * ctr_state_dir_remove() - remove the state directory @id under @rootfd and all it holds
 * (nothing if it is gone). The emptied directory may be kept under a name that is no
 * container ID, for ctr_state_dir_make() to reuse.
 */
int ctr_state_dir_remove(int rootfd, const char *id, struct cabin_err **err);

/** ctr_state_save() - write state.json into @dirfd atomically. */
int ctr_state_save(int dirfd, const struct ctr_state *st, struct cabin_err **err);

/*
 * state.json encoded ahead of time but for pid, start_time and pidns: create encodes it
 * before it clones the init, when writing memory costs nothing more, and only fills in
 * the init's numbers after the clone, while every page the runtime writes to is still
 * shared with the init and gets copied first.
 */
struct ctr_state_text {
	char *buf; /* the object without its closing brace, room for the rest */
	size_t len;
};

/** ctr_state_render() - encode @st but its cgroup, pid, start_time and pidns into @out. */
int ctr_state_render(const struct ctr_state *st, struct ctr_state_text *out,
		     struct cabin_err **err);

/**
 * ctr_state_text_save() - complete @t with the cgroup, pid, start_time and pidns of @st (its other
 * members are those @t was rendered from) and write it as state.json, atomically.
 */
int ctr_state_text_save(int dirfd, struct ctr_state_text *t, const struct ctr_state *st,
			struct cabin_err **err);

void ctr_state_text_free(struct ctr_state_text *t);

/**
 * ctr_state_load() - read <root>/<id>/state.json. A directory without state.json (an
 * interrupted create) gives a state with pid 0 and status CTR_CREATING.
 * Return: 0, or <0 with "container `ID` does not exist".
 */
int ctr_state_load(const char *root, const char *id, struct ctr_state **out,
		   struct cabin_err **err);

/** ctr_state_status() - derive the status from the live process, the fifo and the freezer. */
enum ctr_status ctr_state_status(const char *root, const struct ctr_state *st);

/** ctr_status_name() - "created", "running", ... */
const char *ctr_status_name(enum ctr_status s);

/** ctr_state_to_json() - the runtime-spec state object (for `state` and hooks). */
json_t *ctr_state_to_json(const struct ctr_state *st, enum ctr_status status);

/** ctr_proc_start_time() - start time of @pid in clock ticks since boot, 0 if gone. */
unsigned long long ctr_proc_start_time(pid_t pid);

/** ctr_state_alive() - the init still runs (same pid, same start time). */
int ctr_state_alive(const struct ctr_state *st);

/**
 * ctr_state_owns_pid() - is @pid one of the container's processes? With a shared,
 * pre-existing cgroup, not everything in it is: the container's own processes are those
 * in its pid namespace (or one below it), or, without a pid namespace of its own, those
 * that were not in the cgroup before the init. A process that is exiting (its
 * namespace can no longer be read) counts as the container's.
 */
int ctr_state_owns_pid(const struct ctr_state *st, pid_t pid);

/** ctr_state_pidns() - the inode of /proc/@pid/ns/pid, 0 if unreadable. */
unsigned long long ctr_state_pidns(pid_t pid);

/** ctr_state_pidns_pidfd() - the same from a pidfd (Linux 6.11), 0 if it cannot tell. */
unsigned long long ctr_state_pidns_pidfd(int pidfd);

void ctr_state_free(struct ctr_state *st);
static inline void ctr_state_free_cleanup(struct ctr_state **s)
{
	ctr_state_free(*s);
	*s = NULL;
}
#define cleanup_state __attribute__((cleanup(ctr_state_free_cleanup)))

#endif
