/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_CTR_CGROUP_INTERNAL_H
#define CABIN_CTR_CGROUP_INTERNAL_H

/*
 * Shared between cgroup.c (hierarchy discovery, directories, lifecycle) and the two
 * resource back ends, cgroup-v1.c and cgroup-v2.c. Not part of the engine contract.
 */
#include <jansson.h>
#include <stdint.h>

#include "ctr/cgroup.h"

struct cabin_err;

#define CG_MAX_HIER 16

/* One mounted hierarchy the container has a directory in. */
struct cg_hier {
	char *mnt;	   /* mount point, e.g. /sys/fs/cgroup/memory */
	char *dir;	   /* the container's directory in it */
	char *top;	   /* first directory created by us (removed on destroy), or NULL */
	char *controllers; /* v1: "cpu,cpuacct" / "name=systemd"; v2: "" */
	int v2;
};

struct cg_manager_ops;

struct ctr_cgroup {
	enum ctr_cgroup_mode mode;
	const struct cg_manager_ops *ops; /* chosen once with the mode (cg_set_mode) */
	size_t n;
	struct cg_hier h[CG_MAX_HIER];
	/* which processes of the cgroup are the container's (ctr_cgroup_set_owner) */
	int (*owns)(const void *opaque, pid_t pid);
	const void *owner;
};

/*
 * What differs between a v1 (or hybrid) host and a pure v2 one, chosen once per cgroup
 * instead of branching on the mode in every operation (LXC's cgroup_ops, crun's
 * libcrun_cgroup_manager).
 */
struct cg_manager_ops {
	const char *name;
	/* the cgroup2 root is the host's (hybrid): enable no controller in it */
	int v2_root_is_hosts;
	/* write linux.resources (defaults already appended) */
	int (*apply)(struct ctr_cgroup *cg, json_t *res, int update, struct cabin_err **err);
	/* controllers to enable in the cgroup2 tree on the way down (caller frees) */
	char **(*v2_wanted)(const struct ctr_cgroup *cg, json_t *res);
	/* the hierarchy whose cgroup.procs lists the container's processes */
	struct cg_hier *(*procs_hier)(struct ctr_cgroup *cg);
	/* the freezer; *v2 set when it is cgroup.freeze rather than freezer.state */
	struct cg_hier *(*freezer_hier)(struct ctr_cgroup *cg, int *v2);
	/* the memory controller's hierarchy (OOM events, limit) */
	struct cg_hier *(*memory_hier)(struct ctr_cgroup *cg);
	/* usage figures into the "usage" objects of memory and cpu, and into pids */
	void (*stats)(struct ctr_cgroup *cg, json_t *mem, json_t *cpu, json_t *pids);
};

/** cg_set_mode() - set @cg's host mode and the manager ops that go with it. */
void cg_set_mode(struct ctr_cgroup *cg, enum ctr_cgroup_mode mode);

/** cg_mode_reset() - forget the detected host mode (after a mount namespace change). */
void cg_mode_reset(void);

/** cg_v1_find() - the v1 hierarchy carrying @controller, or NULL. */
struct cg_hier *cg_v1_find(struct ctr_cgroup *cg, const char *controller);
/** cg_v2() - the cgroup2 hierarchy, or NULL. */
struct cg_hier *cg_v2(struct ctr_cgroup *cg);

/**
 * cg_write() - write @val to @dir/@file; the error names the file, the value and @field
 * (the linux.resources field the value came from), so a kernel refusal is actionable.
 */
int cg_write(const char *dir, const char *file, const char *val, const char *field,
	     struct cabin_err **err);
/**
 * cg_check_usage() - memory.checkBeforeUpdate: refuse a new limit below the usage in
 * @dir/@usage_file (memory.usage_in_bytes on v1, memory.current on v2).
 */
int cg_check_usage(const char *dir, const char *usage_file, int64_t limit, struct cabin_err **err);

/** cg_read() - read @dir/@file (trailing newline removed); caller frees. */
int cg_read(const char *dir, const char *file, char **out, struct cabin_err **err);
/** cg_file_exists() - 1 when @dir/@file exists. */
int cg_file_exists(const char *dir, const char *file);

/** cg_json_int() - member @key of @obj as int64 into *v; 0 absent, 1 present, <0 bad type. */
int cg_json_int(json_t *obj, const char *key, int64_t *v, const char *field,
		struct cabin_err **err);

/** cg_v1_apply() / cg_v2_apply() - write linux.resources into the hierarchies. */
int cg_v1_apply(struct ctr_cgroup *cg, json_t *res, int update, struct cabin_err **err);
int cg_v2_apply(struct ctr_cgroup *cg, struct cg_hier *h, json_t *res, int update,
		struct cabin_err **err);

/*
 * The v2 writers of each resource group, also used on hybrid hosts for a controller that
 * is not mounted as v1 but is available in the cgroup2 hierarchy.
 */
int cg_v2_memory(const char *dir, json_t *m, int update, struct cabin_err **err);
int cg_v2_cpu(const char *dir, json_t *c, struct cabin_err **err);
int cg_v2_io(const char *dir, json_t *b, struct cabin_err **err);
int cg_v2_pids(const char *dir, json_t *p, struct cabin_err **err);
int cg_v2_hugetlb(const char *dir, json_t *a, struct cabin_err **err);
int cg_v2_rdma(const char *dir, json_t *r, struct cabin_err **err);

/**
 * cg_hybrid_v2() - on a hybrid host, the cgroup2 directory when @v1ctrl is not mounted
 * as v1 and the cgroup2 hierarchy offers @v2ctrl there; else NULL.
 */
struct cg_hier *cg_hybrid_v2(struct ctr_cgroup *cg, const char *v1ctrl, const char *v2ctrl);

/** cg_rdma_line() - "dev hca_handle=N hca_object=M" for rdma.max (-1 -> max). */
void cg_rdma_line(char *buf, size_t len, const char *dev, int64_t hh, int64_t ho);

/** cg_v2_shares_to_weight() - cpu.shares (2..262144) to cpu.weight (1..10000), as crun. */
uint64_t cg_v2_shares_to_weight(uint64_t shares);

/**
 * cg_v2_devices_attach() - compile linux.resources.devices into a BPF_PROG_TYPE_CGROUP_DEVICE
 * program and attach it to @dir (cgroup v2 has no devices.allow).
 */
int cg_v2_devices_attach(const char *dir, json_t *devices, struct cabin_err **err);

#endif
