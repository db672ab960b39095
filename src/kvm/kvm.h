/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_KVM_KVM_H
#define CABIN_KVM_KVM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "vm/machine.h"

/* Fixed addresses KVM needs on Intel for real mode (inside the 3-4 GiB hole, below the LAPIC). */
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ULL
#define KVM_TSS_ADDR 0xfffbd000ULL

#define KVM_MAX_IOEVENTFDS 64

struct kvm_ioevent {
	uint64_t addr;
	uint32_t len;
	uint64_t datamatch;
	int has_datamatch;
	int fd;
};

/* Per-VM state, m->accel_priv. */
struct kvm_vm {
	int sys_fd;
	int vm_fd;
	int run_size;
	struct kvm_cpuid2 *cpuid; /* KVM_GET_SUPPORTED_CPUID, patched per vCPU */
	pthread_mutex_t lock;
	struct kvm_ioevent ioevents[KVM_MAX_IOEVENTFDS];
	unsigned int nr_ioevents;
};

/* Per-vCPU state; the generic struct vcpu is embedded so v->accel is this. */
struct kvm_vcpu {
	struct vcpu v;
	int fd;
	struct kvm_run *run;
	int started;   /* the thread is in vcpu_run() and can be signalled */
	int has_timer; /* idle-poll timer of this thread */
	timer_t timer;
};

/** kvm_cpuid_setup() - give vCPU @index the supported CPUID, with the hypervisor bit and its APIC
 * ID. */
int kvm_cpuid_setup(struct kvm_vm *kvm, int vcpu_fd, unsigned int index, unsigned int nr_vcpus,
		    struct cabin_err **err);

/** kvm_cpuid_fetch() - read KVM_GET_SUPPORTED_CPUID into @kvm->cpuid. */
int kvm_cpuid_fetch(struct kvm_vm *kvm, struct cabin_err **err);

/** kvm_kick_signal() - the signal that kicks a vCPU thread out of KVM_RUN. */
int kvm_kick_signal(void);

int kvm_vcpu_init(struct machine *m, unsigned int index, struct cabin_err **err);
void kvm_vcpu_fini(struct vcpu *v);
int kvm_vcpu_run(struct vcpu *v, struct accel_exit *exit);
void kvm_vcpu_kick(struct vcpu *v);
int kvm_get_regs(struct vcpu *v, struct x86_regs *regs);
int kvm_set_regs(struct vcpu *v, const struct x86_regs *regs);
int kvm_get_sregs(struct vcpu *v, struct x86_sregs *sregs);
int kvm_set_sregs(struct vcpu *v, const struct x86_sregs *sregs);
int kvm_get_fpu(struct vcpu *v, struct x86_fpu *fpu);
int kvm_set_fpu(struct vcpu *v, const struct x86_fpu *fpu);
int kvm_set_msrs(struct vcpu *v, const uint32_t *idx, const uint64_t *val, unsigned int n);

#endif
