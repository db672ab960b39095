/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_CTR_PROCESS_H
#define CABIN_CTR_PROCESS_H

struct cabin_err;
struct ctr_caps;
struct ctr_spec;

#include <stddef.h>

/**
 * ctr_process_find_exec() - find process.args[0] in the container's PATH, as execvp(3)
 * would, inside the container's root, so a missing program fails before anything runs.
 * @out: the path to execve (caller frees)
 */
int ctr_process_find_exec(const struct ctr_spec *s, char **out, struct cabin_err **err);

/**
 * ctr_process_set_identity() - process.user (additionalGids, gid, uid) and then the
 * capability sets, keeping permitted capabilities across the uid change.
 */
int ctr_process_set_identity(const struct ctr_spec *s, const struct ctr_caps *caps,
			     struct cabin_err **err);

/**
 * ctr_process_close_fds() - close every fd but stdio, the @preserve_fds that follow it
 * (--preserve-fds) and the @n fds of @keep (the sync socket, exec.fifo), before the
 * process's cwd is entered or anything of the container runs.
 */
int ctr_process_close_fds(unsigned preserve_fds, const int *keep, size_t n, struct cabin_err **err);

/**
 * ctr_process_chdir() - chdir to process.cwd (unless @done: the first chdir, before the
 * user switch, worked) and check that it lies inside the container's root.
 */
int ctr_process_chdir(const char *cwd, int done, struct cabin_err **err);

#endif
