/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * process.capabilities: parse errors name the set and value; a child applies a reduced
 * set (as root and after setuid) and /proc/self/status shows exactly that set.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctr/caps.h"
#include "lib/error.h"
#include "unit/tap.h"

static json_t *J(const char *s)
{
	json_error_t je;
	json_t *j = json_loads(s, 0, &je);

	if (!j)
		abort();
	return j;
}

static unsigned long long status_mask(const char *key)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	unsigned long long v = ~0ULL;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			v = strtoull(line + strlen(key), NULL, 16);
	if (f)
		fclose(f);
	return v;
}

static void parse_err(const char *caps, const char *want, const char *what)
{
	struct cabin_err *err = NULL;
	struct ctr_caps c;
	json_t *j = J(caps);
	int ret = ctr_caps_parse(j, &c, &err);

	tap_ok(ret < 0 && strstr(cabin_err_msg(err), want), "%s: %s", what, cabin_err_msg(err));
	cabin_err_release(&err);
	json_decref(j);
}

/* Child: apply, then send CapEff CapPrm CapBnd CapAmb CapInh back. */
static int run_child(const struct ctr_caps *c, int setuid_to, unsigned long long out[5], char *msg,
		     size_t msglen)
{
	int p[2], st;
	pid_t pid;

	if (pipe(p) < 0)
		abort();
	pid = fork();
	if (pid == 0) {
		struct cabin_err *err = NULL;
		unsigned long long v[5];
		char buf[256] = "";

		close(p[0]);
		if (setuid_to >= 0) {
			if (ctr_caps_keep_for_setuid(&err) < 0 || setgid(setuid_to) < 0 ||
			    setuid(setuid_to) < 0)
				snprintf(buf, sizeof(buf), "setuid: %s", strerror(errno));
		}
		if (!*buf && ctr_caps_apply(c, &err) < 0)
			snprintf(buf, sizeof(buf), "%s", cabin_err_msg(err));
		v[0] = status_mask("CapEff:");
		v[1] = status_mask("CapPrm:");
		v[2] = status_mask("CapBnd:");
		v[3] = status_mask("CapAmb:");
		v[4] = status_mask("CapInh:");
		if (write(p[1], v, sizeof(v)) != sizeof(v) || write(p[1], buf, sizeof(buf)) < 0)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], out, 5 * sizeof(*out)) != (ssize_t)(5 * sizeof(*out)) ||
	    read(p[0], msg, msglen) < 0)
		snprintf(msg, msglen, "child died");
	close(p[0]);
	waitpid(pid, &st, 0);
	return *msg ? -1 : 0;
}

int main(void)
{
	struct cabin_err *err = NULL;
	struct ctr_caps c;
	unsigned long long v[5] = { 0 };
	char msg[256] = "";
	json_t *j, *names;
	int ret;
	/* CAP_CHOWN 0, CAP_KILL 5, CAP_SETGID 6, CAP_SETUID 7, CAP_NET_BIND_SERVICE 10 */
	const unsigned long long bnd = 1 << 0 | 1 << 5 | 1 << 6 | 1 << 7 | 1 << 10,
				 eff = 1 << 0 | 1 << 5 | 1 << 10, amb = 1 << 10;

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root\n");
		return 0;
	}
	parse_err("{\"bounding\":[\"CAP_NOPE\"]}",
		  "process.capabilities.bounding: unknown "
		  "capability `CAP_NOPE`",
		  "unknown name names set and value");
	parse_err("{\"effective\":[\"chown\"]}", "`chown`", "name without CAP_ refused");
	parse_err("{\"permitted\":\"CAP_CHOWN\"}", "process.capabilities.permitted",
		  "not an array");
	if (!(status_mask("CapBnd:") & (1ULL << 24)))
		parse_err("{\"bounding\":[\"CAP_CHOWN\",\"CAP_SYS_RESOURCE\"]}",
			  "`CAP_SYS_RESOURCE` is not in the runtime's bounding set",
			  "capability outside our bounding set is an error");
	else
		tap_skip("CAP_SYS_RESOURCE is in this host's bounding set");

	j = J("{\"bounding\":[\"CAP_CHOWN\",\"CAP_KILL\",\"CAP_SETGID\",\"CAP_SETUID\","
	      "\"CAP_NET_BIND_SERVICE\"],\"effective\":[\"CAP_CHOWN\",\"CAP_KILL\","
	      "\"CAP_NET_BIND_SERVICE\"],\"permitted\":[\"CAP_CHOWN\",\"CAP_KILL\","
	      "\"CAP_NET_BIND_SERVICE\"],\"inheritable\":[\"CAP_CHOWN\",\"CAP_KILL\","
	      "\"CAP_NET_BIND_SERVICE\"],\"ambient\":[\"CAP_NET_BIND_SERVICE\"]}");
	ret = ctr_caps_parse(j, &c, &err);
	json_decref(j);
	tap_ok(ret == 0 && c.present && c.bounding == bnd && c.effective == eff && c.ambient == amb,
	       "parse the five sets: %s", cabin_err_msg(err));
	cabin_err_release(&err);

	ret = run_child(&c, -1, v, msg, sizeof(msg));
	tap_ok(ret == 0, "apply as root: %s", msg);
	tap_ok(v[0] == eff && v[1] == eff && v[4] == eff, "CapEff/CapPrm/CapInh = %llx/%llx/%llx",
	       v[0], v[1], v[4]);
	tap_ok(v[2] == bnd, "CapBnd = %llx", v[2]);
	tap_ok(v[3] == amb, "CapAmb = %llx", v[3]);

	ret = run_child(&c, 65534, v, msg, sizeof(msg));
	tap_ok(ret == 0 && v[0] == eff && v[2] == bnd && v[3] == amb,
	       "apply after setuid(65534) with keepcaps: eff %llx bnd %llx amb %llx %s", v[0], v[2],
	       v[3], msg);

	/* ambient outside inheritable: skipped with a warning, as runc and crun do */
	c.ambient |= 1 << 6;
	ret = run_child(&c, -1, v, msg, sizeof(msg));
	tap_ok(ret == 0 && v[3] == amb && v[0] == eff,
	       "ambient not inheritable is skipped, the rest applies (amb %llx) %s", v[3], msg);

	names = ctr_caps_names();
	tap_ok(json_array_size(names) > 38 &&
		       !strcmp(json_string_value(json_array_get(names, 0)), "CAP_CHOWN"),
	       "names: %zu, first %s", json_array_size(names),
	       json_string_value(json_array_get(names, 0)));
	json_decref(names);
	tap_plan(tap_n);
	return tap_done();
}
