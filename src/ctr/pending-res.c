/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Build-time stand-ins for capabilities, seccomp and process limits, compiled only
 * while src/ctr/{caps,seccomp,limits}.c are absent (see mk/ctr.mk). Every entry point
 * refuses a config that uses the feature, so nothing is silently ignored.
 */
#include <errno.h>

#include "ctr/caps.h"
#include "ctr/limits.h"
#include "ctr/seccomp.h"
#include "lib/error.h"

#define REFUSE(field) cabin_err_make(err, ENOTSUP, "`%s` is not supported by this build", field)

#ifndef HAVE_CTR_CAPS
int ctr_caps_parse(json_t *caps, struct ctr_caps *out, struct cabin_err **err)
{
	out->present = 0;
	return caps ? REFUSE("process.capabilities") : 0;
}
int ctr_caps_apply(const struct ctr_caps *caps, struct cabin_err **err)
{
	return 0;
}
int ctr_caps_keep_for_setuid(struct cabin_err **err)
{
	return 0;
}
json_t *ctr_caps_names(void)
{
	return json_array();
}
#endif

#ifndef HAVE_CTR_SECCOMP
int ctr_seccomp_prepare(json_t *seccomp, struct ctr_seccomp **out, struct cabin_err **err)
{
	*out = NULL;
	return seccomp ? REFUSE("linux.seccomp") : 0;
}
int ctr_seccomp_apply(struct ctr_seccomp *sc, int *notify_fd, struct cabin_err **err)
{
	*notify_fd = -1;
	return 0;
}
const char *ctr_seccomp_listener_path(const struct ctr_seccomp *sc)
{
	return 0;
}
void ctr_seccomp_free(struct ctr_seccomp *sc)
{
}
#endif

#ifndef HAVE_CTR_LIMITS
int ctr_rlimits_validate(json_t *rlimits, struct cabin_err **err)
{
	return rlimits ? REFUSE("process.rlimits") : 0;
}
int ctr_rlimits_apply(json_t *rlimits, struct cabin_err **err)
{
	return 0;
}
int ctr_sysctl_validate(json_t *sysctl, struct cabin_err **err)
{
	return json_object_size(sysctl) ? REFUSE("linux.sysctl") : 0;
}
int ctr_sysctl_apply(json_t *sysctl, struct cabin_err **err)
{
	return 0;
}
int ctr_personality_validate(json_t *pers, struct cabin_err **err)
{
	return pers ? REFUSE("linux.personality") : 0;
}
int ctr_personality_apply(json_t *pers, struct cabin_err **err)
{
	return 0;
}
int ctr_ioprio_validate(json_t *ioprio, struct cabin_err **err)
{
	return ioprio ? REFUSE("process.ioPriority") : 0;
}
int ctr_ioprio_apply(json_t *ioprio, struct cabin_err **err)
{
	return 0;
}
int ctr_oom_score_adj_apply(pid_t pid, json_t *adj, struct cabin_err **err)
{
	return adj ? REFUSE("process.oomScoreAdj") : 0;
}
#endif
