/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * KVM vCPUs. Each runs KVM_RUN on its own thread (vm_vcpu_loop in src/vm/vcpu.c
 * drives it). Kicking uses one real-time signal that is blocked in the thread
 * and unblocked only inside KVM_RUN via KVM_SET_SIGNAL_MASK: a kick that
 * arrives before KVM_RUN is entered stays pending and makes KVM_RUN return
 * at once, so no kick is lost. The pending signal is then consumed with
 * sigtimedwait (as QEMU does), otherwise every later KVM_RUN would return EINTR.
 *
 * With the in-kernel LAPIC a HLT never leaves the kernel, so a guest that ends
 * with "cli; hlt" would sleep forever. A per-thread timer sends the same
 * signal every IDLE_POLL_NS; on that wakeup we look at the MP state and report
 * ACCEL_EXIT_HLT when the vCPU is halted (or was never started by a SIPI).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kvm/kvm.h"
#include "lib/error.h"
#include "lib/util.h"
#include "lib/xalloc.h"

#define IDLE_POLL_NS (10 * 1000 * 1000)

/* LAPIC local vector table registers and delivery modes (SDM vol. 3, 10.5.1). */
#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7

static void kick_handler(int sig)
{
	(void)sig;
}

int kvm_kick_signal(void)
{
	return SIGRTMIN + 2;
}

static uint32_t lapic_get(const struct kvm_lapic_state *l, unsigned int reg)
{
	uint32_t v;

	memcpy(&v, &l->regs[reg], sizeof(v));
	return v;
}

static void lapic_set(struct kvm_lapic_state *l, unsigned int reg, uint32_t v)
{
	memcpy(&l->regs[reg], &v, sizeof(v));
}

/* LINT0 = ExtINT (the 8259 PIC's output), LINT1 = NMI, as on a PC and in the MP table. */
static int lapic_setup(int fd)
{
	struct kvm_lapic_state l;

	if (ioctl(fd, KVM_GET_LAPIC, &l) < 0)
		return -errno;
	lapic_set(&l, APIC_LVT0, (lapic_get(&l, APIC_LVT0) & ~0x700u) | (APIC_MODE_EXTINT << 8));
	lapic_set(&l, APIC_LVT1, (lapic_get(&l, APIC_LVT1) & ~0x700u) | (APIC_MODE_NMI << 8));
	if (ioctl(fd, KVM_SET_LAPIC, &l) < 0)
		return -errno;
	return 0;
}

int kvm_vcpu_init(struct machine *m, unsigned int index, struct cabin_err **err)
{
	struct kvm_vm *kvm = m->accel_priv;
	struct kvm_vcpu *kv;
	struct sigaction sa = { .sa_handler = kick_handler };
	struct {
		struct kvm_signal_mask hdr;
		uint8_t set[8];
	} mask;
	sigset_t run_set;
	int ret;

	/* No SA_RESTART: the kick must interrupt, not restart, blocking calls. */
	sigemptyset(&sa.sa_mask);
	sigaction(kvm_kick_signal(), &sa, NULL);

	kv = xcalloc(1, sizeof(*kv));
	kv->v.m = m;
	kv->v.index = index;
	kv->v.accel = kv;
	kv->fd = ioctl(kvm->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (kv->fd < 0) {
		ret = cabin_err_make(err, errno, "KVM_CREATE_VCPU `%u`", index);
		goto err_free;
	}
	kv->run = mmap(NULL, kvm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, kv->fd, 0);
	if (kv->run == MAP_FAILED) {
		ret = cabin_err_make(err, errno, "map the run area of vCPU `%u`", index);
		goto err_close;
	}
	ret = kvm_cpuid_setup(kvm, kv->fd, index, m->nr_vcpus ? m->nr_vcpus : 1, err);
	if (ret < 0)
		goto err_unmap;
	ret = lapic_setup(kv->fd);
	if (ret < 0) {
		ret = cabin_err_make(err, -ret, "set up the LAPIC of vCPU `%u`", index);
		goto err_unmap;
	}
	/* Inside KVM_RUN every signal but the kick stays blocked (the kernel's sigset_t is 8
	 * bytes). */
	sigfillset(&run_set);
	sigdelset(&run_set, kvm_kick_signal());
	mask.hdr.len = 8;
	memcpy(mask.set, &run_set, 8);
	if (ioctl(kv->fd, KVM_SET_SIGNAL_MASK, &mask) < 0) {
		ret = cabin_err_make(err, errno, "KVM_SET_SIGNAL_MASK for vCPU `%u`", index);
		goto err_unmap;
	}
	m->vcpus[index] = &kv->v;
	return 0;

err_unmap:
	munmap(kv->run, kvm->run_size);
err_close:
	close(kv->fd);
err_free:
	free(kv);
	return ret;
}

void kvm_vcpu_fini(struct vcpu *v)
{
	struct kvm_vcpu *kv = v->accel;
	struct kvm_vm *kvm = v->m->accel_priv;

	if (kv->has_timer)
		timer_delete(kv->timer);
	munmap(kv->run, kvm->run_size);
	close(kv->fd);
	v->m->vcpus[v->index] = NULL;
	free(kv);
}

/* Runs on the vCPU's own thread: the timer signals this thread only. */
static void idle_timer_start(struct kvm_vcpu *kv)
{
	struct sigevent sev = { 0 };
	struct itimerspec its = {
		.it_interval = { 0, IDLE_POLL_NS },
		.it_value = { 0, IDLE_POLL_NS },
	};
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, kvm_kick_signal());
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = kvm_kick_signal();
	sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
	if (timer_create(CLOCK_MONOTONIC, &sev, &kv->timer) == 0) {
		kv->has_timer = 1;
		timer_settime(kv->timer, 0, &its, NULL);
	}
	__atomic_store_n(&kv->started, 1, __ATOMIC_SEQ_CST);
}

static void eat_kick_signals(void)
{
	struct timespec zero = { 0, 0 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, kvm_kick_signal());
	while (sigtimedwait(&set, NULL, &zero) > 0)
		;
}

/* After an interrupted KVM_RUN: is the vCPU halted, or still waiting for its SIPI? */
static int vcpu_is_idle(struct kvm_vcpu *kv)
{
	struct kvm_mp_state mp;

	if (ioctl(kv->fd, KVM_GET_MP_STATE, &mp) < 0)
		return 0;
	return mp.mp_state == KVM_MP_STATE_HALTED || mp.mp_state == KVM_MP_STATE_UNINITIALIZED ||
	       mp.mp_state == KVM_MP_STATE_INIT_RECEIVED;
}

int kvm_vcpu_run(struct vcpu *v, struct accel_exit *exit)
{
	struct kvm_vcpu *kv = v->accel;
	struct kvm_run *run = kv->run;
	int ret;

	if (UNLIKELY(!kv->started))
		idle_timer_start(kv);
	ret = ioctl(kv->fd, KVM_RUN, 0);
	if (ret < 0) {
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
		eat_kick_signals();
		exit->reason = vcpu_is_idle(kv) ? ACCEL_EXIT_HLT : ACCEL_EXIT_INTR;
		return 0;
	}
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		exit->reason = ACCEL_EXIT_IO;
		exit->io.port = run->io.port;
		exit->io.size = run->io.size;
		exit->io.is_write = run->io.direction == KVM_EXIT_IO_OUT;
		exit->io.count = run->io.count;
		exit->io.data = (uint8_t *)run + run->io.data_offset;
		/* The data must lie inside the shared run area KVM mapped for us. */
		if (run->io.data_offset + (uint64_t)run->io.size * run->io.count >
		    (uint64_t)((struct kvm_vm *)v->m->accel_priv)->run_size) {
			exit->reason = ACCEL_EXIT_INTERNAL;
			exit->internal.code = 0;
			snprintf(exit->internal.msg, sizeof(exit->internal.msg),
				 "port I/O data outside the run area");
		}
		return 0;
	case KVM_EXIT_MMIO:
		exit->reason = ACCEL_EXIT_MMIO;
		exit->mmio.addr = run->mmio.phys_addr;
		exit->mmio.len = run->mmio.len > 8 ? 8 : run->mmio.len;
		exit->mmio.is_write = run->mmio.is_write;
		exit->mmio.data = run->mmio.data;
		return 0;
	case KVM_EXIT_HLT:
		exit->reason = ACCEL_EXIT_HLT;
		return 0;
	case KVM_EXIT_SHUTDOWN:
		exit->reason = ACCEL_EXIT_SHUTDOWN;
		return 0;
	case KVM_EXIT_SYSTEM_EVENT:
		exit->reason = ACCEL_EXIT_SHUTDOWN;
		return 0;
	case KVM_EXIT_INTR:
		exit->reason = ACCEL_EXIT_INTR;
		return 0;
	case KVM_EXIT_INTERNAL_ERROR:
		exit->reason = ACCEL_EXIT_INTERNAL;
		exit->internal.code = run->internal.suberror;
		snprintf(exit->internal.msg, sizeof(exit->internal.msg),
			 "KVM internal error, suberror `%u`%s", run->internal.suberror,
			 run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
				 ? " (emulation failure)"
				 : "");
		return 0;
	case KVM_EXIT_FAIL_ENTRY:
		exit->reason = ACCEL_EXIT_INTERNAL;
		exit->internal.code = (uint32_t)run->fail_entry.hardware_entry_failure_reason;
		snprintf(exit->internal.msg, sizeof(exit->internal.msg),
			 "KVM entry failed, hardware reason `0x%llx`",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return 0;
	default:
		exit->reason = ACCEL_EXIT_INTERNAL;
		exit->internal.code = run->exit_reason;
		snprintf(exit->internal.msg, sizeof(exit->internal.msg),
			 "unhandled KVM exit reason `%u`", run->exit_reason);
		return 0;
	}
}

void kvm_vcpu_kick(struct vcpu *v)
{
	struct kvm_vcpu *kv = v->accel;

	if (__atomic_load_n(&kv->started, __ATOMIC_SEQ_CST))
		pthread_kill(v->thread, kvm_kick_signal());
}

int kvm_get_regs(struct vcpu *v, struct x86_regs *r)
{
	struct kvm_vcpu *kv = v->accel;
	struct kvm_regs k;

	if (ioctl(kv->fd, KVM_GET_REGS, &k) < 0)
		return -errno;
	*r = (struct x86_regs){ k.rax, k.rbx, k.rcx, k.rdx, k.rsi, k.rdi, k.rsp, k.rbp, k.r8,
				k.r9,  k.r10, k.r11, k.r12, k.r13, k.r14, k.r15, k.rip, k.rflags };
	return 0;
}

int kvm_set_regs(struct vcpu *v, const struct x86_regs *r)
{
	struct kvm_vcpu *kv = v->accel;
	struct kvm_regs k = { r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi,
			      r->rsp, r->rbp, r->r8,  r->r9,  r->r10, r->r11,
			      r->r12, r->r13, r->r14, r->r15, r->rip, r->rflags };

	if (ioctl(kv->fd, KVM_SET_REGS, &k) < 0)
		return -errno;
	return 0;
}

static void seg_from_kvm(struct x86_segment *s, const struct kvm_segment *k)
{
	*s = (struct x86_segment){ .base = k->base,
				   .limit = k->limit,
				   .selector = k->selector,
				   .type = k->type,
				   .present = k->present,
				   .dpl = k->dpl,
				   .db = k->db,
				   .s = k->s,
				   .l = k->l,
				   .g = k->g,
				   .avl = k->avl,
				   .unusable = k->unusable };
}

static void seg_to_kvm(struct kvm_segment *k, const struct x86_segment *s)
{
	*k = (struct kvm_segment){ .base = s->base,
				   .limit = s->limit,
				   .selector = s->selector,
				   .type = s->type,
				   .present = s->present,
				   .dpl = s->dpl,
				   .db = s->db,
				   .s = s->s,
				   .l = s->l,
				   .g = s->g,
				   .avl = s->avl,
				   .unusable = s->unusable };
}

/*
 * From the XSAVE image (KVM_GET_XSAVE): a component whose XSTATE_BV bit is
 * clear is in its initial configuration (x87: FNINIT's; SSE: XMM zero and
 * MXCSR 0x1f80), whatever its bytes hold. KVM_GET_FPU returns those bytes
 * as they are, which is not the state when the host skipped saving a
 * component in its initial configuration.
 */
static int fpu_from_xsave(struct kvm_vcpu *kv, struct x86_fpu *f)
{
	struct kvm_xsave *x = calloc(1, sizeof(*x));
	const uint8_t *b;
	uint64_t bv;

	if (!x)
		return -ENOMEM;
	if (ioctl(kv->fd, KVM_GET_XSAVE, x) < 0) {
		free(x);
		return -errno;
	}
	b = (const uint8_t *)x->region;
	memcpy(&bv, b + 512, 8);
	memset(f, 0, sizeof(*f));
	if (bv & 1) {
		memcpy(&f->fcw, b, 2);
		memcpy(&f->fsw, b + 2, 2);
		f->ftw = b[4];
		memcpy(&f->fop, b + 6, 2);
		memcpy(&f->fip, b + 8, 8);
		memcpy(&f->fdp, b + 16, 8);
		for (int i = 0; i < 8; i++)
			memcpy(f->st[i], b + 32 + 16 * i, 10);
	} else {
		f->fcw = 0x37f;
	}
	if (bv & 2) {
		memcpy(&f->mxcsr, b + 24, 4);
		memcpy(f->xmm, b + 160, sizeof(f->xmm));
	} else {
		f->mxcsr = 0x1f80;
	}
	free(x);
	return 0;
}

int kvm_get_fpu(struct vcpu *v, struct x86_fpu *f)
{
	struct kvm_vcpu *kv = v->accel;
	struct kvm_fpu k;

	if (fpu_from_xsave(kv, f) == 0)
		return 0;
	if (ioctl(kv->fd, KVM_GET_FPU, &k) < 0)
		return -errno;
	memset(f, 0, sizeof(*f));
	for (int i = 0; i < 8; i++)
		memcpy(f->st[i], k.fpr[i], 10);
	f->fcw = k.fcw;
	f->fsw = k.fsw;
	f->ftw = k.ftwx;
	f->fop = k.last_opcode;
	f->fip = k.last_ip;
	f->fdp = k.last_dp;
	f->mxcsr = k.mxcsr;
	memcpy(f->xmm, k.xmm, sizeof(f->xmm));
	return 0;
}

int kvm_set_fpu(struct vcpu *v, const struct x86_fpu *f)
{
	struct kvm_vcpu *kv = v->accel;
	struct kvm_fpu k;

	memset(&k, 0, sizeof(k));
	for (int i = 0; i < 8; i++)
		memcpy(k.fpr[i], f->st[i], 10);
	k.fcw = f->fcw;
	k.fsw = f->fsw;
	k.ftwx = f->ftw;
	k.last_opcode = f->fop;
	k.last_ip = f->fip;
	k.last_dp = f->fdp;
	k.mxcsr = f->mxcsr;
	memcpy(k.xmm, f->xmm, sizeof(k.xmm));
	if (ioctl(kv->fd, KVM_SET_FPU, &k) < 0)
		return -errno;
	return 0;
}

int kvm_get_sregs(struct vcpu *v, struct x86_sregs *s)
{
	struct kvm_vcpu *kv = v->accel;
	struct kvm_sregs k;

	if (ioctl(kv->fd, KVM_GET_SREGS, &k) < 0)
		return -errno;
	seg_from_kvm(&s->cs, &k.cs);
	seg_from_kvm(&s->ds, &k.ds);
	seg_from_kvm(&s->es, &k.es);
	seg_from_kvm(&s->fs, &k.fs);
	seg_from_kvm(&s->gs, &k.gs);
	seg_from_kvm(&s->ss, &k.ss);
	seg_from_kvm(&s->tr, &k.tr);
	seg_from_kvm(&s->ldt, &k.ldt);
	s->gdt = (struct x86_dtable){ k.gdt.base, k.gdt.limit };
	s->idt = (struct x86_dtable){ k.idt.base, k.idt.limit };
	s->cr0 = k.cr0;
	s->cr2 = k.cr2;
	s->cr3 = k.cr3;
	s->cr4 = k.cr4;
	s->cr8 = k.cr8;
	s->efer = k.efer;
	s->apic_base = k.apic_base;
	return 0;
}

int kvm_set_sregs(struct vcpu *v, const struct x86_sregs *s)
{
	struct kvm_vcpu *kv = v->accel;
	struct kvm_sregs k;

	/* Start from KVM's view so the pending-interrupt bitmap is preserved. */
	if (ioctl(kv->fd, KVM_GET_SREGS, &k) < 0)
		return -errno;
	seg_to_kvm(&k.cs, &s->cs);
	seg_to_kvm(&k.ds, &s->ds);
	seg_to_kvm(&k.es, &s->es);
	seg_to_kvm(&k.fs, &s->fs);
	seg_to_kvm(&k.gs, &s->gs);
	seg_to_kvm(&k.ss, &s->ss);
	seg_to_kvm(&k.tr, &s->tr);
	seg_to_kvm(&k.ldt, &s->ldt);
	k.gdt.base = s->gdt.base;
	k.gdt.limit = s->gdt.limit;
	k.idt.base = s->idt.base;
	k.idt.limit = s->idt.limit;
	k.cr0 = s->cr0;
	k.cr2 = s->cr2;
	k.cr3 = s->cr3;
	k.cr4 = s->cr4;
	k.cr8 = s->cr8;
	k.efer = s->efer;
	k.apic_base = s->apic_base;
	if (ioctl(kv->fd, KVM_SET_SREGS, &k) < 0)
		return -errno;
	return 0;
}

int kvm_set_msrs(struct vcpu *v, const uint32_t *idx, const uint64_t *val, unsigned int n)
{
	struct kvm_vcpu *kv = v->accel;
	struct kvm_msrs *msrs;
	int ret;

	if (n > 256)
		return -E2BIG;
	msrs = xcalloc(1, sizeof(*msrs) + n * sizeof(struct kvm_msr_entry));
	msrs->nmsrs = n;
	for (unsigned int i = 0; i < n; i++) {
		msrs->entries[i].index = idx[i];
		msrs->entries[i].data = val[i];
	}
	ret = ioctl(kv->fd, KVM_SET_MSRS, msrs);
	free(msrs);
	if (ret < 0)
		return -errno;
	/* KVM_SET_MSRS returns how many it set; stopping short means one was refused. */
	return (unsigned int)ret == n ? 0 : -EINVAL;
}
