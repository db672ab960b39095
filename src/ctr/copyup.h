/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_CTR_COPYUP_H
#define CABIN_CTR_COPYUP_H

struct cabin_err;

/**
 * ctr_copyup() - copy the tree under directory fd @from into directory fd @to: files,
 * directories, symlinks and fifos with their modes, owners and times (device nodes are
 * skipped). For the `tmpcopyup` mount option: a tmpfs starts with what it covers.
 * Nothing is followed out of @from: every step is relative to a directory fd, with
 * O_NOFOLLOW. Depth is bounded.
 */
int ctr_copyup(int from, int to, struct cabin_err **err);

#endif
