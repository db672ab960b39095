/* SPDX-License-Identifier: GPL-2.0-or-later */
/* state.json: atomic save and load, and the status derived from the live process. */
#include <fcntl.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctr/state.h"
#include "lib/error.h"
#include "unit/tap.h"

int main(void)
{
	char root[] = "/tmp/cabin-state-test.XXXXXX", dir[128], fifo[160];
	struct ctr_state st = { 0 }, *ld = NULL;
	struct cabin_err *err = NULL;
	json_t *j;
	pid_t child;
	int dfd;

	tap_plan(14);
	if (!mkdtemp(root))
		return 1;
	snprintf(dir, sizeof(dir), "%s/c1", root);
	mkdir(dir, 0700);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);

	/* a live process: our child, blocked */
	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	st.id = (char *)"c1";
	st.pid = child;
	st.start_time = ctr_proc_start_time(child);
	st.bundle = (char *)"/b";
	st.rootfs = (char *)"/b/rootfs";
	st.created = (char *)"2026-01-01T00:00:00Z";
	st.annotations = json_pack("{s:s}", "k", "v");
	tap_ok(st.start_time > 0, "start time of a live process");
	tap_ok(ctr_proc_start_time(child) == st.start_time, "start time is stable");
	tap_ok(ctr_state_save(dfd, &st, &err) == 0, "save state.json");
	tap_ok(ctr_state_load(root, "c1", &ld, &err) == 0 && ld->pid == child &&
		       ld->start_time == st.start_time && !strcmp(ld->bundle, "/b"),
	       "load what was saved");
	tap_ok(ctr_state_status(root, ld) == CTR_RUNNING, "a live init without a fifo is running");
	snprintf(fifo, sizeof(fifo), "%s/exec.fifo", dir);
	mkfifo(fifo, 0600);
	tap_ok(ctr_state_status(root, ld) == CTR_CREATED, "a live init with exec.fifo is created");
	unlink(fifo);
	j = ctr_state_to_json(ld, CTR_RUNNING);
	tap_ok(!strcmp(json_string_value(json_object_get(j, "status")), "running") &&
		       json_integer_value(json_object_get(j, "pid")) == child &&
		       !strcmp(json_string_value(
				       json_object_get(json_object_get(j, "annotations"), "k")),
			       "v") &&
		       json_object_get(j, "ociVersion"),
	       "state JSON has the runtime-spec fields");
	json_decref(j);

	/* pid reuse: same pid, another start time */
	ld->start_time++;
	tap_ok(ctr_state_status(root, ld) == CTR_STOPPED, "a different start time means stopped");
	ld->start_time--;
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	tap_ok(ctr_state_status(root, ld) == CTR_STOPPED, "a dead init is stopped");
	j = ctr_state_to_json(ld, CTR_STOPPED);
	tap_ok(json_integer_value(json_object_get(j, "pid")) == 0, "a stopped container has pid 0");
	json_decref(j);
	ctr_state_free(ld);
	ld = NULL;

	/* an interrupted create: directory without state.json */
	snprintf(dir, sizeof(dir), "%s/c2", root);
	mkdir(dir, 0700);
	tap_ok(ctr_state_load(root, "c2", &ld, &err) == 0 && ld->pid == 0 &&
		       ctr_state_status(root, ld) == CTR_CREATING,
	       "a directory without state.json is an interrupted create");
	ctr_state_free(ld);
	ld = NULL;
	tap_ok(ctr_state_load(root, "nope", &ld, &err) < 0 &&
		       strstr(cabin_err_msg(err), "does not exist"),
	       "an unknown id is an error");
	cabin_err_release(&err);
	tap_ok(ctr_state_load(root, "../etc", &ld, &err) < 0, "ids cannot leave the root");
	cabin_err_release(&err);
	tap_ok(ctr_proc_start_time(0) == 0 && ctr_proc_start_time(-1) == 0,
	       "no start time for invalid pids");

	json_decref(st.annotations);
	close(dfd);
	{
		char cmd[160];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		if (system(cmd) != 0)
			tap_diag("cleanup of %s failed", root);
	}
	return tap_done();
}
