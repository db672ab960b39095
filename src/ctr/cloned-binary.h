/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_CTR_CLONED_BINARY_H
#define CABIN_CTR_CLONED_BINARY_H

struct cabin_err;

/**
 * ctr_cloned_binary_ensure() - make sure this process runs from a sealed memfd copy of
 * its binary, re-executing itself with the same arguments if it does not. Call before
 * anything is created or started: on success the function either returns 0 (already
 * a sealed copy) or does not return at all.
 * Return: 0, or <0 with @err set when the copy or the re-exec failed.
 */
int ctr_cloned_binary_ensure(struct cabin_err **err);

#endif
