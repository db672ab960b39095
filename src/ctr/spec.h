/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_CTR_SPEC_H
#define CABIN_CTR_SPEC_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

struct cabin_err;

/*
 * A parsed and validated config.json (runtime-spec 1.2). Every string points into
 * @json, which the spec owns: the spec must outlive every use of them. Parsing happens
 * once, in the runtime, before anything is created, so that every schema error is one
 * line naming the field and nothing is left behind.
 */

enum ctr_mount_kind {
	CTR_MOUNT_FS,	/* a new filesystem instance (proc, tmpfs, ...) */
	CTR_MOUNT_BIND, /* bind or rbind */
	CTR_MOUNT_CGROUP,
};

struct ctr_mount {
	const char *dest;
	const char *type;
	const char *source;
	enum ctr_mount_kind kind;
	int recursive;		 /* rbind, or r* propagation */
	unsigned long flags;	 /* MS_* for mount(2) */
	unsigned long attr_set;	 /* MOUNT_ATTR_* for bind mounts */
	unsigned long attr_clr;	 /* MOUNT_ATTR_* cleared (rw, suid, dev, exec, ...) */
	unsigned long rattr_set; /* recursive options (rro, rnosuid, ...): every submount */
	unsigned long rattr_clr;
	unsigned long propagation; /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE or 0 */
	int idmap;		   /* "idmap"/"ridmap" or uidMappings given */
	json_t *uid_mappings, *gid_mappings;
	char *data;    /* remaining options joined by ',' (owned) */
	int userns_fd; /* user namespace of uidMappings for idmap, or -1 (owned) */
	int tree_fd;   /* bind: source tree opened by the runtime (open_tree), or -1 (owned) */
	int tmpcopyup; /* tmpfs: start with a copy of the directory it covers */
};

struct ctr_device {
	const char *path;
	mode_t type; /* S_IFCHR, S_IFBLK, S_IFIFO */
	unsigned major, minor;
	mode_t mode;
	uid_t uid;
	gid_t gid;
};

struct ctr_ns_join {
	int flag; /* CLONE_NEW* */
	const char *path;
};

#define CTR_NS_MAX 8

struct ctr_spec {
	json_t *json;
	char *raw; /* the bytes `json` was parsed from, when loaded from a file */
	size_t raw_len;
	char *bundle; /* absolute */
	char *rootfs; /* absolute */
	int root_readonly;

	/* process */
	json_t *process;
	char **args; /* owned vector of borrowed strings */
	char **env;
	const char *cwd;
	uid_t uid;
	gid_t gid;
	gid_t *add_gids;
	size_t n_add_gids;
	int umask; /* -1 when unset */
	int terminal;
	unsigned short cons_height, cons_width;
	int no_new_privs;
	json_t *oom_score_adj;
	json_t *caps, *rlimits, *ioprio;

	const char *hostname, *domainname;

	struct ctr_mount *mounts;
	size_t n_mounts;

	int ns_new;    /* CLONE_NEW* flags of namespaces to create */
	int ns_joined; /* CLONE_NEW* flags of namespaces joined by path */
	struct ctr_ns_join joins[CTR_NS_MAX];
	size_t n_joins;
	json_t *uid_mappings, *gid_mappings;

	struct ctr_device *devices;
	size_t n_devices;
	unsigned long rootfs_propagation; /* 0: default */
	char **masked, **readonly;	  /* owned vectors of borrowed strings */

	json_t *sysctl, *seccomp, *resources, *personality, *hooks, *annotations;
	const char *cgroups_path;
	long long *time_offsets; /* monotonic secs, nsecs, boottime secs, nsecs; or NULL */
	long long time_offsets_buf[4];
};

/**
 * ctr_spec_load() - read, parse and validate @bundle/config.json
 * Errors name the file and the field: "config.json: `process.args` must be ...".
 */
int ctr_spec_load(const char *bundle, struct ctr_spec **out, struct cabin_err **err);

/** ctr_spec_parse() - validate an already parsed document (takes a reference to @json). */
int ctr_spec_parse(json_t *json, const char *bundle, struct ctr_spec **out, struct cabin_err **err);

/**
 * ctr_spec_parse_process() - validate a process object (config.json `process`, or the
 * file of `exec --process`) into the process fields of @spec. @field prefixes errors.
 * @src names the document in errors; NULL is config.json, "" none.
 */
int ctr_spec_parse_process(json_t *proc, const char *field, const char *src, struct ctr_spec *spec,
			   struct cabin_err **err);

void ctr_spec_free(struct ctr_spec *spec);
static inline void ctr_spec_free_cleanup(struct ctr_spec **s)
{
	ctr_spec_free(*s);
	*s = NULL;
}
#define cleanup_spec __attribute__((cleanup(ctr_spec_free_cleanup)))

/** ctr_ns_flag() - CLONE_NEW* of a runtime-spec namespace type name, or 0. */
int ctr_ns_flag(const char *type);
/** ctr_ns_proc_name() - the /proc/PID/ns entry of a CLONE_NEW* flag. */
const char *ctr_ns_proc_name(int flag);

/** ctr_signal_parse() - "KILL", "SIGKILL" or "9" to a signal number; -1 if unknown. */
int ctr_signal_parse(const char *s);

/** ctr_spec_default() - the config.json `cabin spec` writes (runc-compatible). */
json_t *ctr_spec_default(int rootless);

#endif
