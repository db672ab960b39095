/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_CTR_SECCOMP_H
#define CABIN_CTR_SECCOMP_H

#include <jansson.h>

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
 */
int ctr_seccomp_apply(struct ctr_seccomp *sc, int *notify_fd, struct cabin_err **err);

/** ctr_seccomp_listener_path() - linux.seccomp.listenerPath, or NULL. */
const char *ctr_seccomp_listener_path(const struct ctr_seccomp *sc);

void ctr_seccomp_free(struct ctr_seccomp *sc);

#endif
