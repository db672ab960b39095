/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cmd.h"
#include "ctr/caps.h"
#include "lib/cleanup.h"
#include "lib/error.h"

static const char usage[] = "usage: cabin features\n"
			    "Print what this runtime supports, as runtime-spec features.md.\n";

int cmd_features(int argc, char **argv, struct cabin_err **err)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	cleanup_json json_t *j = NULL;
	char *s;
	int c;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			return 0;
		}
		return cabin_err_make(err, 0, "features: bad option");
	}
	j = json_pack(
		"{s:s,s:s,s:[s,s,s,s,s,s],"
		"s:[s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s],"
		"s:{s:[s,s,s,s,s,s,s,s],s:o,s:{s:b,s:b,s:b,s:b,s:b},s:{s:b},s:{s:b},s:{s:b},"
		"s:{s:b,s:b}},s:{s:s,s:s}}",
		"ociVersionMin", "1.0.0", "ociVersionMax", CABIN_OCI_VERSION, "hooks", "prestart",
		"createRuntime", "createContainer", "startContainer", "poststart", "poststop",
		"mountOptions", "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync",
		"exec", "idmap", "lazytime", "loud", "mand", "noatime", "nodev", "nodiratime",
		"noexec", "nolazytime", "nomand", "norelatime", "nostrictatime", "nosuid",
		"nosymfollow", "private", "rbind", "relatime", "remount", "ridmap", "ro",
		"rprivate", "rshared", "rslave", "runbindable", "rw", "shared", "silent", "slave",
		"strictatime", "suid", "linux", "namespaces", "cgroup", "ipc", "mount", "network",
		"pid", "time", "user", "uts", "capabilities", ctr_caps_names(), "cgroup", "v1", 1,
		"v2", 1, "systemd", 0, "systemdUser", 0, "rdma", 0, "apparmor", "enabled", 0,
		"selinux", "enabled", 0, "intelRdt", "enabled", 0, "mountExtensions", "idmap", 1,
		"ridmap", 1, "annotations", "org.opencontainers.runc.checkpoint.enabled", "false",
		"run.oci.cabin.version", CABIN_VERSION);
	if (!j)
		return cabin_err_make(err, ENOMEM, "features: encode");
	{
		json_t *me = json_object_get(json_object_get(j, "linux"), "mountExtensions");
		json_t *idm = json_pack("{s:b}", "enabled", 1);

		json_object_set_new(me, "idmap", idm);
		json_object_del(me, "ridmap");
	}
	s = json_dumps(j, JSON_INDENT(2));
	puts(s);
	free(s);
	return 0;
}
