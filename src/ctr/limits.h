/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_CTR_LIMITS_H
#define CABIN_CTR_LIMITS_H

#include <jansson.h>
#include <sys/types.h>

struct cabin_err;

/*
 * Small per-process settings of the runtime-spec, each validated in the runtime
 * (before fork) and applied in the container process.
 */

/** ctr_rlimits_validate()/apply() - process.rlimits (type names, soft <= hard). */
int ctr_rlimits_validate(json_t *rlimits, struct cabin_err **err);
int ctr_rlimits_apply(json_t *rlimits, struct cabin_err **err);

/** ctr_sysctl_validate()/apply() - linux.sysctl; apply writes /proc/sys inside the container. */
int ctr_sysctl_validate(json_t *sysctl, struct cabin_err **err);
int ctr_sysctl_apply(json_t *sysctl, struct cabin_err **err);

/**
 * ctr_sysctl_validate_ns() - ctr_sysctl_validate() plus runc's namespace rule: kernel.msg*,
 * kernel.sem, kernel.shm* and fs.mqueue.* need an `ipc` entry in @namespaces (linux.namespaces),
 * net.* a `network` entry, kernel.hostname/domainname a `uts` entry. @namespaces NULL: names only.
 */
int ctr_sysctl_validate_ns(json_t *sysctl, json_t *namespaces, struct cabin_err **err);

/** ctr_personality_validate()/apply() - linux.personality (LINUX, LINUX32). */
int ctr_personality_validate(json_t *pers, struct cabin_err **err);
int ctr_personality_apply(json_t *pers, struct cabin_err **err);

/** ctr_ioprio_validate()/apply() - process.ioPriority (class + priority). */
int ctr_ioprio_validate(json_t *ioprio, struct cabin_err **err);
int ctr_ioprio_apply(json_t *ioprio, struct cabin_err **err);

/** ctr_oom_score_adj_apply() - process.oomScoreAdj for @pid (-1000..1000). */
int ctr_oom_score_adj_apply(pid_t pid, json_t *adj, struct cabin_err **err);

#endif
