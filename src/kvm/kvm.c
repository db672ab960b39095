/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The KVM accelerator: one VM fd with guest RAM registered as user memory
 * regions, the in-kernel irqchip (PIC + IOAPIC + LAPICs) and PIT, so timer and
 * interrupt delivery never leave the kernel. Device models stay in userspace
 * behind struct vm_bus; this file only knows KVM.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm/kvm.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/xalloc.h"

static int cpu_has_virt_flags(void)
{
	cleanup_fclose FILE *f = fopen("/proc/cpuinfo", "re");
	char line[4096];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		/* Whole words only: "vmx" and "svm" are flags, "svm_lock" is another. */
		for (char *tok = strtok(line + 5, " \t\n:"); tok; tok = strtok(NULL, " \t\n:"))
			if (!strcmp(tok, "vmx") || !strcmp(tok, "svm"))
				return 1;
		return 0;
	}
	return 0;
}

static int kvm_probe(char *why, size_t whylen)
{
	cleanup_close int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int ver;

	if (fd < 0) {
		snprintf(why, whylen, "cannot open `/dev/kvm`: %s", strerror(errno));
		return -1;
	}
	ver = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION) {
		snprintf(why, whylen, "`/dev/kvm` speaks API version `%d`, not `%d`", ver,
			 KVM_API_VERSION);
		return -1;
	}
	if (!cpu_has_virt_flags()) {
		snprintf(why, whylen, "no vmx/svm in /proc/cpuinfo: /dev/kvm is software-nested");
		return 0;
	}
	snprintf(why, whylen, "/dev/kvm with hardware virtualization (vmx/svm)");
	return 1;
}

static void kvm_vm_fini(struct machine *m)
{
	struct kvm_vm *kvm = m->accel_priv;

	if (!kvm)
		return;
	for (unsigned int i = 0; i < kvm->nr_ioevents; i++)
		close(kvm->ioevents[i].fd);
	if (kvm->vm_fd >= 0)
		close(kvm->vm_fd);
	if (kvm->sys_fd >= 0)
		close(kvm->sys_fd);
	free(kvm->cpuid);
	pthread_mutex_destroy(&kvm->lock);
	free(kvm);
	m->accel_priv = NULL;
}

static int kvm_vm_init(struct machine *m, struct cabin_err **err)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t idmap = KVM_IDENTITY_MAP_ADDR;
	struct kvm_vm *kvm = xcalloc(1, sizeof(*kvm));
	int ret;

	kvm->sys_fd = -1;
	kvm->vm_fd = -1;
	pthread_mutex_init(&kvm->lock, NULL);
	m->accel_priv = kvm;

	kvm->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm->sys_fd < 0)
		return cabin_err_make(err, errno, "open `/dev/kvm`");
	ret = ioctl(kvm->sys_fd, KVM_GET_API_VERSION, 0);
	if (ret != KVM_API_VERSION)
		return cabin_err_make(err, EINVAL, "`/dev/kvm` API version `%d`, need `%d`", ret,
				      KVM_API_VERSION);
	kvm->vm_fd = ioctl(kvm->sys_fd, KVM_CREATE_VM, 0);
	if (kvm->vm_fd < 0)
		return cabin_err_make(err, errno, "KVM_CREATE_VM");
	kvm->run_size = ioctl(kvm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm->run_size < (int)sizeof(struct kvm_run))
		return cabin_err_make(err, errno, "KVM_GET_VCPU_MMAP_SIZE");

	/* Intel needs these for real mode; AMD ignores them. Both sit in the MMIO hole. */
	if (ioctl(kvm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
		return cabin_err_make(err, errno, "KVM_SET_IDENTITY_MAP_ADDR");
	if (ioctl(kvm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0)
		return cabin_err_make(err, errno, "KVM_SET_TSS_ADDR");
	if (ioctl(kvm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return cabin_err_make(err, errno, "KVM_CREATE_IRQCHIP");
	if (ioctl(kvm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return cabin_err_make(err, errno, "KVM_CREATE_PIT2");

	for (unsigned int i = 0; i < m->mem.nr_regions; i++) {
		struct kvm_userspace_memory_region r = {
			.slot = i,
			.guest_phys_addr = m->mem.regions[i].gpa,
			.memory_size = m->mem.regions[i].size,
			.userspace_addr = (uint64_t)(uintptr_t)m->mem.regions[i].hva,
		};

		if (ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
			return cabin_err_make(err, errno, "KVM_SET_USER_MEMORY_REGION slot `%u`",
					      i);
	}
	return kvm_cpuid_fetch(kvm, err);
}

static int kvm_irq_line(struct machine *m, unsigned int gsi, int level)
{
	struct kvm_vm *kvm = m->accel_priv;
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	if (ioctl(kvm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		return -errno;
	return 0;
}

/* An MSI from a device model: KVM's in-kernel local APICs take it (KVM_CAP_SIGNAL_MSI). */
static int kvm_msi(struct machine *m, uint64_t addr, uint32_t data)
{
	struct kvm_vm *kvm = m->accel_priv;
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr,
		.address_hi = (uint32_t)(addr >> 32),
		.data = data,
	};

	if (ioctl(kvm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0)
		return -errno;
	return 0;
}

static int kvm_ioeventfd(struct machine *m, uint64_t addr, uint32_t len, uint64_t datamatch,
			 int has_datamatch, int fd)
{
	struct kvm_vm *kvm = m->accel_priv;
	struct kvm_ioeventfd io = {
		.datamatch = datamatch,
		.addr = addr,
		.len = len,
		.flags = has_datamatch ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0,
	};
	int ret = 0;

	pthread_mutex_lock(&kvm->lock);
	if (fd >= 0) {
		/* KVM keeps its own reference; ours lets the entry be deassigned later. */
		int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);

		if (dup_fd < 0) {
			ret = -errno;
		} else if (kvm->nr_ioevents >= KVM_MAX_IOEVENTFDS) {
			close(dup_fd);
			ret = -ENOSPC;
		} else {
			io.fd = fd;
			if (ioctl(kvm->vm_fd, KVM_IOEVENTFD, &io) < 0) {
				ret = -errno;
				close(dup_fd);
			} else {
				kvm->ioevents[kvm->nr_ioevents++] =
					(struct kvm_ioevent){ addr, len, datamatch, has_datamatch,
							      dup_fd };
			}
		}
	} else {
		ret = -ENOENT;
		for (unsigned int i = 0; i < kvm->nr_ioevents; i++) {
			struct kvm_ioevent *e = &kvm->ioevents[i];

			if (e->addr != addr || e->len != len || e->has_datamatch != has_datamatch ||
			    (has_datamatch && e->datamatch != datamatch))
				continue;
			io.fd = e->fd;
			io.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
			ret = ioctl(kvm->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
			close(e->fd);
			*e = kvm->ioevents[--kvm->nr_ioevents];
			break;
		}
	}
	pthread_mutex_unlock(&kvm->lock);
	return ret;
}

static int kvm_irqfd(struct machine *m, unsigned int gsi, int fd)
{
	struct kvm_vm *kvm = m->accel_priv;
	struct kvm_irqfd irq = { .fd = (uint32_t)fd, .gsi = gsi };

	if (fd < 0)
		return -EINVAL;
	if (ioctl(kvm->vm_fd, KVM_IRQFD, &irq) < 0)
		return -errno;
	return 0;
}

const struct accel_ops kvm_accel_ops = {
	.name = "kvm",
	.kind = ACCEL_KVM,
	.probe = kvm_probe,
	.vm_init = kvm_vm_init,
	.vm_fini = kvm_vm_fini,
	.vcpu_init = kvm_vcpu_init,
	.vcpu_fini = kvm_vcpu_fini,
	.vcpu_run = kvm_vcpu_run,
	.get_regs = kvm_get_regs,
	.set_regs = kvm_set_regs,
	.get_sregs = kvm_get_sregs,
	.set_sregs = kvm_set_sregs,
	.get_fpu = kvm_get_fpu,
	.set_fpu = kvm_set_fpu,
	.set_msrs = kvm_set_msrs,
	.irq_line = kvm_irq_line,
	.msi = kvm_msi,
	.vcpu_kick = kvm_vcpu_kick,
	.ioeventfd = kvm_ioeventfd,
	.irqfd = kvm_irqfd,
};
