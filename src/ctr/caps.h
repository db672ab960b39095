/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_CTR_CAPS_H
#define CABIN_CTR_CAPS_H

#include <jansson.h>
#include <stdint.h>

struct cabin_err;

/* The five capability sets of process.capabilities, as bitmasks (bit = CAP_x). */
struct ctr_caps {
	uint64_t bounding, effective, inheritable, permitted, ambient;
	int present; /* sets to apply (always, since a missing field means empty sets) */
};

/**
 * ctr_caps_parse() - parse process.capabilities; an unknown name is an error naming the set
 * and the value. A capability the running kernel or the caller's bounding set lacks is
 * an error too (never silently dropped).
 */
int ctr_caps_parse(json_t *caps, struct ctr_caps *out, struct cabin_err **err);

/**
 * ctr_caps_apply() - in the container process after setuid/setgid: drop from the bounding
 * set, then set effective/permitted/inheritable, then raise ambient.
 */
int ctr_caps_apply(const struct ctr_caps *caps, struct cabin_err **err);

/**
 * ctr_caps_keep_for_setuid() - call before changing uid so permitted caps survive
 * (PR_SET_KEEPCAPS), as runc does.
 */
int ctr_caps_keep_for_setuid(struct cabin_err **err);

/** ctr_caps_names() - JSON array of every capability name this kernel knows (features). */
json_t *ctr_caps_names(void);

#endif
