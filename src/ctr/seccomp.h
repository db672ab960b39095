/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_CTR_SECCOMP_H
#define CABIN_CTR_SECCOMP_H

#include <jansson.h>
#include <sys/types.h>

struct cabin_err;
struct ctr_seccomp;

/**
 * ctr_seccomp_prepare() - compile linux.seccomp (libseccomp) in the runtime process,
 * before fork, so an unknown syscall name, action, architecture or flag is a clean
 * error naming it. @out is NULL when @seccomp is NULL.
 */
int ctr_seccomp_prepare(json_t *seccomp, struct ctr_seccomp **out, struct cabin_err **err);

/**
 * ctr_seccomp_apply() - load the filter in the container process, as the last step
 * before execve (after capabilities and no_new_privs). When the profile uses
 * SCMP_ACT_NOTIFY, *notify_fd receives the listener fd (else -1).
 *
 * Without no_new_privs (process.noNewPrivileges false, podman's default) the kernel accepts
 * a filter only from a task with CAP_SYS_ADMIN in its effective set, so then call this
 * BEFORE setuid/ctr_caps_apply(), as runc and crun do; the profile then also filters the
 * remaining setup. Otherwise it fails with EACCES and says so.
 */
int ctr_seccomp_apply(struct ctr_seccomp *sc, int *notify_fd, struct cabin_err **err);

/** ctr_seccomp_listener_path() - linux.seccomp.listenerPath, or NULL. */
const char *ctr_seccomp_listener_path(const struct ctr_seccomp *sc);

/** ctr_seccomp_uses_notify() - 1 when some rule uses SCMP_ACT_NOTIFY. */
int ctr_seccomp_uses_notify(const struct ctr_seccomp *sc);

/**
 * ctr_seccomp_send_listener() - send @notify_fd to linux.seccomp.listenerPath with the
 * runtime-spec "containerProcessState" message: {"ociVersion", "fds": ["seccompFd"], "pid",
 * "metadata" (listenerMetadata), "state"} and the fd as SCM_RIGHTS. @state is the container
 * state object (ociVersion, id, status, pid, bundle, annotations). Run in the runtime, after
 * the container process handed its notify fd back. @pid is the process the filter belongs
 * to (an exec'd one), 0 for the init (the state's pid). No-op without a listenerPath.
 */
int ctr_seccomp_send_listener(const struct ctr_seccomp *sc, int notify_fd, json_t *state, pid_t pid,
			      struct cabin_err **err);

void ctr_seccomp_free(struct ctr_seccomp *sc);

#endif
