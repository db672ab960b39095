/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_VM_CTL_H
#define CABIN_VM_CTL_H

#include <stdint.h>

struct cabin_err;
struct machine;

/*
 * The control socket of a running VM (kvmtool kvm-ipc.c, LXC commands.c): a
 * unix stream socket DIR/NAME.sock that answers one typed request per
 * connection. Requests and replies are fixed-size structs, so a hostile
 * peer can at worst send garbage that fails the magic/type checks.
 */
enum vm_ctl_req {
	VM_CTL_INFO = 1, /* name, pid, state, cpus, memory */
	VM_CTL_STOP,	 /* end the VM (exit status MACHINE_EXIT_STOPPED) */
	VM_CTL_PAUSE,	 /* park every vCPU */
	VM_CTL_RESUME,	 /* let them run again */
	VM_CTL_REQ_MAX,
};

#define VM_CTL_MAGIC 0x43424e56u /* "VNBC" */

enum vm_ctl_state {
	VM_CTL_RUNNING,
	VM_CTL_PAUSED,
	VM_CTL_STOPPING,
};

struct vm_ctl_info {
	char name[64];
	int32_t pid;
	uint32_t state; /* enum vm_ctl_state */
	uint32_t cpus;
	uint32_t pad;
	uint64_t mem_bytes;
	char accel[16];
};

struct vm_ctl_request {
	uint32_t magic;
	uint32_t type; /* enum vm_ctl_req */
};

struct vm_ctl_reply {
	uint32_t magic;
	int32_t status; /* 0 or -errno */
	struct vm_ctl_info info;
};

struct vm_ctl;

/**
 * vm_ctl_start() - serve @m's control socket at @dir/@name.sock on a thread that
 * also turns SIGINT, SIGTERM and SIGHUP into machine_stop(128 + signal). The
 * caller must have blocked those signals in every thread.
 * Return: 0 with *@out set, or <0 with @err set (e.g. a VM of that name is running).
 */
int vm_ctl_start(struct machine *m, const char *dir, const char *name, struct vm_ctl **out,
		 struct cabin_err **err);

/** vm_ctl_stop() - end the thread and remove the socket; accepts NULL. */
void vm_ctl_stop(struct vm_ctl *c);

/**
 * vm_ctl_request() - send @type to the socket at @path and wait for the reply.
 * @info: filled from the reply (may be NULL)
 * Return: 0, the reply's -errno, or <0 with @err set when the VM cannot be reached.
 */
int vm_ctl_request(const char *path, enum vm_ctl_req type, struct vm_ctl_info *info,
		   struct cabin_err **err);

#endif
