/* SPDX-License-Identifier: GPL-2.0-or-later */
/* config.json validation: every schema error is one line naming the field. */
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <linux/mount.h>

#include "ctr/spec.h"
#include "ctr/state.h"
#include "lib/error.h"
#include "unit/tap.h"

static const char base[] =
	"{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},"
	"\"process\":{\"args\":[\"/init\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}},"
	"\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"pid\"}]}}";

/* Parse @base with @patch merged in (json_object_update_recursive), expect @want in the error. */
static void expect(const char *patch, const char *want)
{
	json_t *j = json_loads(base, 0, NULL), *p = patch ? json_loads(patch, 0, NULL) : NULL;
	struct ctr_spec *s = NULL;
	struct cabin_err *err = NULL;
	int ret;

	if (p) {
		json_object_update_recursive(j, p);
		json_decref(p);
	}
	ret = ctr_spec_parse(j, "/bundle", &s, &err);
	if (!want) {
		tap_ok(ret == 0, "valid: %s%s%s", patch ? patch : "base", ret ? " -> " : "",
		       ret ? cabin_err_msg(err) : "");
	} else {
		int ok = ret < 0 && strstr(cabin_err_msg(err), want) &&
			 !strchr(cabin_err_msg(err), '\n');

		tap_ok(ok, "invalid: %s -> %s", patch, ret < 0 ? cabin_err_msg(err) : "(accepted)");
	}
	cabin_err_release(&err);
	ctr_spec_free(s);
	json_decref(j);
}

int main(void)
{
	json_t *j = json_loads(base, 0, NULL), *def;
	struct ctr_spec *s = NULL;
	struct cabin_err *err = NULL;

	tap_plan(45);
	expect(NULL, NULL);
	expect("{\"ociVersion\":2}", "`ociVersion` must be a string");
	expect("{\"ociVersion\":\"0.9\"}", "`ociVersion`");
	expect("{\"root\":5}", "`root` must be an object");
	expect("{\"root\":{\"path\":\"\"}}", "`root.path` must not be empty");
	expect("{\"process\":{\"args\":[]}}",
	       "`process.args` must be a non-empty array of strings");
	expect("{\"process\":{\"args\":[\"a\",1]}}", "`process.args` must be a non-empty array");
	expect("{\"process\":{\"cwd\":\"rel\"}}", "`process.cwd` must be an absolute path");
	expect("{\"process\":{\"user\":{\"uid\":-1}}}", "`process.user.uid` is out of range");
	expect("{\"process\":{\"user\":{\"uid\":\"0\"}}}", "`process.user.uid` must be an integer");
	expect("{\"process\":{\"user\":{\"additionalGids\":[1,\"x\"]}}}",
	       "`process.user.additionalGids[1]`");
	expect("{\"process\":{\"user\":{\"umask\":512}}}", "`process.user.umask` is out of range");
	expect("{\"process\":{\"env\":[\"NOEQUALS\"]}}", "`process.env[0]` must be KEY=VALUE");
	expect("{\"process\":{\"terminal\":\"yes\"}}", "`process.terminal` must be a boolean");
	expect("{\"process\":{\"consoleSize\":{\"height\":1}}}", "`process.consoleSize.width`");
	expect("{\"process\":{\"oomScoreAdj\":5000}}", "`process.oomScoreAdj` is out of range");
	expect("{\"hostname\":7}", "`hostname` must be a string");
	expect("{\"hostname\":\"h\"}", "`hostname` needs a uts namespace");
	expect("{\"mounts\":{}}", "`mounts` must be an array");
	expect("{\"mounts\":[{\"destination\":\"tmp\",\"type\":\"tmpfs\"}]}",
	       "`mounts[0].destination` must be an absolute path");
	expect("{\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\"}]}",
	       "`mounts[0].source` is required");
	expect("{\"mounts\":[{\"destination\":\"/x\"}]}", "`mounts[0].type` is required");
	expect("{\"mounts\":[{\"destination\":\"/x\",\"type\":\"tmpfs\",\"options\":[3]}]}",
	       "`mounts[0].options`");
	expect("{\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"bogus\"}]}}",
	       "unknown namespace type `bogus`");
	expect("{\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"mount\"}]}}",
	       "`mount` is listed twice");
	expect("{\"linux\":{\"namespaces\":[{\"type\":\"pid\"}]}}", NULL);
	expect("{\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"user\"}]}}",
	       "needs `linux.uidMappings`");
	expect("{\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":0}]}}",
	       "`linux.uidMappings[0].size` is out of range");
	expect("{\"linux\":{\"devices\":[{\"path\":\"/dev/x\",\"type\":\"q\"}]}}",
	       "`linux.devices[0].type` must be c, b, u or p");
	expect("{\"linux\":{\"devices\":[{\"path\":\"/dev/x\",\"type\":\"c\",\"major\":1}]}}",
	       "`linux.devices[0].minor` is required");
	expect("{\"linux\":{\"rootfsPropagation\":\"sideways\"}}",
	       "`linux.rootfsPropagation`: unknown value `sideways`");
	expect("{\"linux\":{\"maskedPaths\":[\"proc/kcore\"]}}", "`linux.maskedPaths`");
	expect("{\"hooks\":{\"prestart\":[{\"args\":[]}]}}",
	       "`hooks.prestart[0].path` is required");
	expect("{\"hooks\":{\"poststop\":[{\"path\":\"/bin/true\",\"timeout\":0}]}}",
	       "`hooks.poststop[0].timeout` is out of range");
	expect("{\"annotations\":{\"a\":1}}", "`annotations.a` must be a string");
	expect("{\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\",\"source\":\"/y\","
	       "\"options\":[\"rbind\",\"ro\",\"nosuid\",\"rslave\",\"size=1\"]}]}",
	       NULL);

	/* option parsing */
	json_object_update_recursive(
		j,
		json_loads("{\"mounts\":[{\"destination\":\"/x\",\"type\":\"tmpfs\","
			   "\"options\":[\"ro\",\"nodev\",\"size=64k\",\"mode=755\",\"shared\"]}]}",
			   0, NULL));
	tap_ok(ctr_spec_parse(j, "/b", &s, &err) == 0, "tmpfs mount parses");
	tap_ok(s && s->mounts[0].flags == (MS_RDONLY | MS_NODEV) &&
		       !strcmp(s->mounts[0].data, "size=64k,mode=755") &&
		       s->mounts[0].propagation == MS_SHARED,
	       "mount flags, data and propagation split");
	tap_ok(s && !strcmp(s->rootfs, "/b/rootfs"), "rootfs is relative to the bundle");
	ctr_spec_free(s);
	json_decref(j);

	/* the default spec is valid */
	def = ctr_spec_default(0);
	s = NULL;
	tap_ok(ctr_spec_parse(def, "/b", &s, &err) == 0 || strstr(cabin_err_msg(err), "supported"),
	       "`cabin spec` output validates");
	cabin_err_release(&err);
	ctr_spec_free(s);
	json_decref(def);

	tap_ok(ctr_signal_parse("KILL") == SIGKILL && ctr_signal_parse("SIGTERM") == SIGTERM &&
		       ctr_signal_parse("9") == 9 && ctr_signal_parse("RTMIN+1") == SIGRTMIN + 1,
	       "signal names and numbers");
	tap_ok(ctr_signal_parse("NOPE") < 0 && ctr_signal_parse("-1") < 0 &&
		       ctr_signal_parse("999") < 0,
	       "bad signals are refused");
	/* kill ID 0 checks that the init is alive, as kill(1) */
	tap_ok(ctr_signal_parse("0") == 0, "signal 0 is accepted");
	tap_ok(ctr_id_validate("abc-1.2_x+y", &err) == 0, "valid container id");
	tap_ok(ctr_id_validate("../x", &err) < 0 && ctr_id_validate("", &err) < 0 &&
		       ctr_id_validate("a/b", &err) < 0 && ctr_id_validate("-a", &err) < 0,
	       "ids with path characters are refused");
	cabin_err_release(&err);
	return tap_done();
}
