/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CPUID for KVM vCPUs: what the host's KVM supports (KVM_GET_SUPPORTED_CPUID),
 * with the hypervisor bit set and each vCPU's own APIC ID, so that Linux sees
 * a virtual machine and numbers the CPUs the way the MP table does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm/kvm.h"
#include "lib/error.h"
#include "lib/xalloc.h"

#define CPUID_MAX_ENTRIES_LIMIT 1024

int kvm_cpuid_fetch(struct kvm_vm *kvm, struct cabin_err **err)
{
	for (unsigned int n = 64; n <= CPUID_MAX_ENTRIES_LIMIT; n *= 2) {
		struct kvm_cpuid2 *c = xcalloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));

		c->nent = n;
		if (ioctl(kvm->sys_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			free(kvm->cpuid);
			kvm->cpuid = c;
			return 0;
		}
		free(c);
		if (errno != E2BIG)
			return cabin_err_make(err, errno, "KVM_GET_SUPPORTED_CPUID");
	}
	return cabin_err_make(err, E2BIG, "KVM_GET_SUPPORTED_CPUID: more than `%d` entries",
			      CPUID_MAX_ENTRIES_LIMIT);
}

int kvm_cpuid_setup(struct kvm_vm *kvm, int vcpu_fd, unsigned int index, unsigned int nr_vcpus,
		    struct cabin_err **err)
{
	size_t sz = sizeof(*kvm->cpuid) + kvm->cpuid->nent * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *c = xmalloc(sz);
	int ret;

	memcpy(c, kvm->cpuid, sz);
	for (unsigned int i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			/* EBX[31:24] initial APIC ID, [23:16] logical processors per package. */
			e->ebx = (e->ebx & 0x0000ffff) | (index << 24) | ((nr_vcpus & 0xff) << 16);
			e->ecx |= 1u << 31; /* hypervisor present */
			if (nr_vcpus > 1)
				e->edx |= 1u << 28; /* HTT: the count in EBX is valid */
			break;
		case 0xb:
		case 0x1f:
			e->edx = index; /* x2APIC ID */
			break;
		case 6:
			e->ecx &= ~(1u << 3); /* no energy-performance bias MSR */
			break;
		default:
			break;
		}
	}
	ret = ioctl(vcpu_fd, KVM_SET_CPUID2, c);
	free(c);
	if (ret < 0)
		return cabin_err_make(err, errno, "KVM_SET_CPUID2 for vCPU `%u`", index);
	return 0;
}
