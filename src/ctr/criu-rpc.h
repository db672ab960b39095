/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_CTR_CRIU_RPC_H
#define CABIN_CTR_CRIU_RPC_H

#include <stddef.h>
#include <stdint.h>

/*
 * The RPC of `criu swrk` (CRIU's images/rpc.proto, proto2), as runc drives it through
 * go-criu: one criu_req per SOCK_SEQPACKET message, one criu_resp back. Only the fields
 * cabin sends or reads are encoded here, by hand: a protobuf library (and its code
 * generator) for a dozen fields is not worth a build dependency. Field numbers are those of
 * CRIU 3.x, which only ever adds fields.
 */

enum ctr_criu_req_type {
	CTR_CRIU_EMPTY = 0,
	CTR_CRIU_DUMP = 1,
	CTR_CRIU_RESTORE = 2,
	CTR_CRIU_CHECK = 3,
	CTR_CRIU_PRE_DUMP = 4,
	CTR_CRIU_NOTIFY = 6,
	CTR_CRIU_FEATURE_CHECK = 9,
	CTR_CRIU_VERSION = 10,
};

/* criu_cg_mode */
enum ctr_criu_cg_mode {
	CTR_CRIU_CG_SOFT = 3,
	CTR_CRIU_CG_FULL = 4,
	CTR_CRIU_CG_STRICT = 5,
};

struct ctr_criu_kv {
	const char *key, *val;
};

struct ctr_criu_fd {
	const char *key;
	int fd;
};

/* criu_opts: strings NULL, fds -1 and numbers 0 are left out; so are false booleans. */
struct ctr_criu_opts {
	int images_dir_fd;
	int work_dir_fd;
	int status_fd;
	int pid;
	int log_level;
	const char *log_file, *root, *parent_img, *freeze_cgroup, *config_file;
	const char *lsm_profile, *lsm_mount_context;
	int leave_running, ext_unix_sk, tcp_established, evasive_devices, shell_job, file_locks,
		notify_scripts, track_mem, auto_dedup, manage_cgroups, rst_sibling,
		orphan_pts_master, lazy_pages;
	int manage_cgroups_mode; /* enum ctr_criu_cg_mode, 0: CRIU's default */
	unsigned empty_ns;	 /* CLONE_NEW* of namespaces created but not restored */
	const char *ps_address;	 /* page server, with ps_port */
	int ps_port;
	struct ctr_criu_kv *ext_mnt; /* mount point in the image -> path at restore */
	size_t n_ext_mnt;
	struct ctr_criu_fd *inherit_fd;
	size_t n_inherit_fd;
	struct ctr_criu_kv *cg_root; /* key: controller (or NULL), val: path */
	size_t n_cg_root;
	struct ctr_criu_kv *join_ns; /* key: ns name, val: ns file */
	size_t n_join_ns;
	const char **external;
	size_t n_external;
};

/* criu_features, in a FEATURE_CHECK request and its answer: 1 set, 0 clear, -1 absent */
struct ctr_criu_features {
	int mem_track, lazy_pages;
};

/**
 * ctr_criu_opts_init() - every fd -1, everything else unset.
 */
void ctr_criu_opts_init(struct ctr_criu_opts *o);

/**
 * ctr_criu_req_encode() - serialize a criu_req.
 * @opts: criu_opts, or NULL (VERSION, NOTIFY answers)
 * @notify_success: > 0 sets notify_success (the answer to a NOTIFY)
 * @feat: criu_features for FEATURE_CHECK, or NULL
 * @out: the message (caller frees)
 * Return: its length.
 */
size_t ctr_criu_req_encode(enum ctr_criu_req_type type, const struct ctr_criu_opts *opts,
			   int notify_success, const struct ctr_criu_features *feat, uint8_t **out);

struct ctr_criu_resp {
	int type;
	int success;
	int restore_pid; /* criu_restore_resp.pid, 0 if absent */
	char script[64]; /* criu_notify.script ("" if absent; truncated) */
	int notify_pid;	 /* criu_notify.pid */
	int cr_errno;	 /* 0 if absent */
	char cr_errmsg[512];
	int version_major, version_minor, version_sublevel; /* criu_version, -1 if absent */
	struct ctr_criu_features features;
};

/**
 * ctr_criu_resp_decode() - parse a criu_resp. Unknown fields are skipped; a truncated or
 * malformed message is an error (the peer is CRIU, but a crash mid-write must not be
 * taken for an answer). Strings too long for their buffer are truncated.
 * Return: 0, or -EBADMSG.
 */
int ctr_criu_resp_decode(const uint8_t *buf, size_t len, struct ctr_criu_resp *r);

#endif
