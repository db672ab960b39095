/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * process.capabilities: names resolved with libcap, checked against what the running
 * kernel knows and against the runtime's own bounding set, applied in the container
 * process with capset(2) and prctl(2).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "ctr/caps.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"

/* Highest capability number the running kernel knows (/proc/sys/kernel/cap_last_cap). */
static int last_cap(void)
{
	static int last = -1;
	struct cabin_err *err = NULL;
	char *buf = NULL;

	if (last >= 0)
		return last;
	if (fs_read_file("/proc/sys/kernel/cap_last_cap", 64, &buf, NULL, &err) == 0) {
		last = atoi(buf);
		free(buf);
	} else {
		cabin_err_release(&err);
		last = CAP_LAST_CAP;
	}
	if (last < 0 || last > 63)
		last = CAP_LAST_CAP;
	return last;
}

/*
 * Is @c in the runtime's bounding set? Read with prctl(2) rather than /proc/self/status
 * (the container process may have no /proc at all: no mount namespace, chroot only), and
 * only for the capabilities a config names, each once: @known says which are read.
 */
static int in_bounding(int c, uint64_t *known, uint64_t *set)
{
	uint64_t bit = 1ULL << c;

	if (!(*known & bit)) {
		*known |= bit;
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			*set |= bit;
	}
	return !!(*set & bit);
}

/* The permitted set of the calling thread, with capget(2) for the same reason. */
static int permitted_mask(uint64_t *out, struct cabin_err **err)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (capget(&hdr, data) < 0)
		return cabin_err_make(err, errno, "capget");
	*out = (uint64_t)data[0].permitted | ((uint64_t)data[1].permitted << 32);
	return 0;
}

/* "CAP_NET_ADMIN" -> 12; the CAP_ prefix is required, as in the runtime-spec. */
static int cap_number(const char *name, int *out)
{
	char lower[64];
	cap_value_t v;
	size_t i, n = strlen(name);

	if (n < 5 || n >= sizeof(lower) || strncmp(name, "CAP_", 4))
		return -1;
	for (i = 0; i <= n; i++)
		lower[i] = (char)tolower((unsigned char)name[i]);
	if (cap_from_name(lower, &v) < 0 || v < 0 || v > 63)
		return -1;
	*out = (int)v;
	return 0;
}

int ctr_caps_parse(json_t *caps, struct ctr_caps *out, struct cabin_err **err)
{
	static const char *const sets[] = { "bounding", "effective", "inheritable", "permitted",
					    "ambient" };
	uint64_t *masks[] = { &out->bounding, &out->effective, &out->inheritable, &out->permitted,
			      &out->ambient };
	uint64_t bnd = 0, bnd_known = 0;
	size_t s;

	memset(out, 0, sizeof(*out));
	/*
	 * No process.capabilities is not "keep the runtime's": that would hand a config
	 * that merely forgot the field every capability of root on the host. It means
	 * empty sets, bounding set included, as with runc.
	 */
	out->present = 1;
	if (!caps || json_is_null(caps))
		return 0;
	if (!json_is_object(caps))
		return cabin_err_make(err, 0, "process.capabilities: expected an object");
	out->present = 1;
	for (s = 0; s < sizeof(sets) / sizeof(sets[0]); s++) {
		json_t *a = json_object_get(caps, sets[s]), *e;
		size_t i;

		if (!a || json_is_null(a))
			continue;
		if (!json_is_array(a))
			return cabin_err_make(err, 0, "process.capabilities.%s: expected an array",
					      sets[s]);
		json_array_foreach(a, i, e)
		{
			const char *name = json_string_value(e);
			int c;

			if (!name)
				return cabin_err_make(
					err, 0, "process.capabilities.%s[%zu]: expected a string",
					sets[s], i);
			if (cap_number(name, &c) < 0)
				return cabin_err_make(
					err, 0, "process.capabilities.%s: unknown capability `%s`",
					sets[s], name);
			if (c > last_cap())
				return cabin_err_make(
					err, 0,
					"process.capabilities.%s: `%s` is not supported "
					"by the running kernel (last capability %d)",
					sets[s], name, last_cap());
			/*
			 * Nothing can put a capability back into a bounding set: if the runtime
			 * lacks it, the container cannot have it. Say so instead of silently
			 * running with less than was asked for.
			 */
			if (!in_bounding(c, &bnd_known, &bnd))
				return cabin_err_make(
					err, 0,
					"process.capabilities.%s: `%s` is not in the "
					"runtime's bounding set, so it cannot be granted",
					sets[s], name);
			*masks[s] |= 1ULL << c;
		}
	}
	return 0;
}

int ctr_caps_keep_for_setuid(struct cabin_err **err)
{
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return cabin_err_make(err, errno, "prctl PR_SET_KEEPCAPS");
	return 0;
}

static int set_proc(uint64_t eff, uint64_t prm, uint64_t inh, const char *what,
		    struct cabin_err **err)
{
	cap_t c = cap_init();
	int i, ret = 0;

	if (!c)
		return cabin_err_make(err, errno, "cap_init");
	for (i = 0; i <= last_cap(); i++) {
		cap_value_t v = i;

		if (eff & (1ULL << i))
			cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_SET);
		if (prm & (1ULL << i))
			cap_set_flag(c, CAP_PERMITTED, 1, &v, CAP_SET);
		if (inh & (1ULL << i))
			cap_set_flag(c, CAP_INHERITABLE, 1, &v, CAP_SET);
	}
	if (cap_set_proc(c) < 0)
		ret = cabin_err_make(
			err, errno,
			"%s: capset effective `%#llx` permitted `%#llx` inheritable `%#llx`", what,
			(unsigned long long)eff, (unsigned long long)prm, (unsigned long long)inh);
	cap_free(c);
	return ret;
}

static const char *name_of(int c, char *buf, size_t len)
{
	char *n = cap_to_name(c);
	size_t i;

	snprintf(buf, len, "%s", n ? n : "?");
	cap_free(n);
	for (i = 0; buf[i]; i++)
		buf[i] = (char)toupper((unsigned char)buf[i]);
	return buf;
}

int ctr_caps_apply(const struct ctr_caps *caps, struct cabin_err **err)
{
	uint64_t prm = 0;
	char nm[64];
	int i, ret;

	if (!caps || !caps->present)
		return 0;
	/*
	 * After setuid() with PR_SET_KEEPCAPS the effective set is empty but permitted is
	 * kept; dropping from the bounding set needs CAP_SETPCAP in effective, so raise
	 * effective to permitted first.
	 */
	ret = permitted_mask(&prm, err);
	if (ret < 0)
		return ret;
	ret = set_proc(prm, prm, caps->inheritable & prm, "process.capabilities", err);
	if (ret < 0) {
		/* inheritable may exceed what we may set before the drop; retry without it */
		cabin_err_release(err);
		if ((ret = set_proc(prm, prm, 0, "process.capabilities", err)) < 0)
			return ret;
	}
	for (i = 0; i <= last_cap(); i++) {
		if (caps->bounding & (1ULL << i))
			continue;
		/*
		 * Dropping what is not there succeeds too: the set is read only when the drop
		 * fails (no CAP_SETPCAP), to tell a capability already gone from an error.
		 */
		if (prctl(PR_CAPBSET_DROP, i, 0, 0, 0) < 0 &&
		    prctl(PR_CAPBSET_READ, i, 0, 0, 0) == 1)
			return cabin_err_make(err, errno,
					      "process.capabilities.bounding: drop `%s`",
					      name_of(i, nm, sizeof(nm)));
	}
	ret = set_proc(caps->effective, caps->permitted, caps->inheritable, "process.capabilities",
		       err);
	if (ret < 0)
		return ret;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return cabin_err_make(err, errno, "process.capabilities.ambient: clear");
	for (i = 0; i <= last_cap(); i++) {
		if (!(caps->ambient & (1ULL << i)))
			continue;
		/*
		 * The kernel requires the capability in both permitted and inheritable. Since
		 * CVE-2022-29162 default specs (runc spec, podman) leave inheritable empty but
		 * still list ambient capabilities; runc and crun warn and go on, and so do we.
		 */
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, i, 0, 0) < 0) {
			if (errno != EPERM)
				return cabin_err_make(err, errno,
						      "process.capabilities.ambient: raise `%s`",
						      name_of(i, nm, sizeof(nm)));
			log_debug("process.capabilities.ambient: `%s` not raised: it is not both "
				  "permitted and inheritable",
				  name_of(i, nm, sizeof(nm)));
		}
	}
	return 0;
}

json_t *ctr_caps_names(void)
{
	json_t *a = json_array();
	char nm[64];
	int i;

	for (i = 0; i <= last_cap(); i++) {
		name_of(i, nm, sizeof(nm));
		if (!strncmp(nm, "CAP_", 4))
			json_array_append_new(a, json_string(nm));
	}
	return a;
}
