/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_VM_ACCEL_H
#define CABIN_VM_ACCEL_H

#include <stddef.h>
#include <stdint.h>

struct cabin_err;
struct machine;
struct vcpu;

/*
 * The CPU accelerator interface. KVM (src/kvm) and the software emulator
 * (src/emu) each provide one const struct accel_ops; boot code and every device
 * model only ever see this interface, so one guest runs identically on both.
 *
 * Register state uses cabin's own x86 layout, not KVM's, so the emulator does
 * not depend on <linux/kvm.h>.
 */

struct x86_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
};

struct x86_segment {
	uint64_t base;
	uint32_t limit;
	uint16_t selector;
	uint8_t type, present, dpl, db, s, l, g, avl, unusable;
};

struct x86_dtable {
	uint64_t base;
	uint16_t limit;
};

struct x86_sregs {
	struct x86_segment cs, ds, es, fs, gs, ss, tr, ldt;
	struct x86_dtable gdt, idt;
	uint64_t cr0, cr2, cr3, cr4, cr8, efer, apic_base;
};

/* x87 and SSE state, in the terms of FXSAVE (and of KVM_GET_FPU) */
struct x86_fpu {
	uint8_t st[8][16]; /* ST(0)-ST(7), stack order: the 80-bit value in the low 10 bytes */
	uint16_t fcw, fsw; /* control and status word (TOP in status bits 11-13) */
	uint8_t ftw;	   /* abridged tag: bit i set when physical register i is not empty */
	uint16_t fop;	   /* last opcode */
	uint64_t fip, fdp; /* last instruction and operand pointers */
	uint32_t mxcsr;
	uint8_t xmm[16][16];
};

enum accel_exit_reason {
	ACCEL_EXIT_IO,	     /* port I/O: see exit.io */
	ACCEL_EXIT_MMIO,     /* access to guest-physical address not backed by RAM */
	ACCEL_EXIT_HLT,	     /* HLT with interrupts disabled, or no irqchip to wake it */
	ACCEL_EXIT_SHUTDOWN, /* triple fault / shutdown */
	ACCEL_EXIT_INTR,     /* vcpu_kick() or a signal interrupted the run */
	ACCEL_EXIT_INTERNAL, /* accelerator failure: see exit.internal */
};

struct accel_exit {
	enum accel_exit_reason reason;
	union {
		struct {
			uint16_t port;
			uint8_t size; /* 1, 2 or 4 */
			uint8_t is_write;
			uint32_t count; /* > 1 for string I/O (rep ins/outs) */
			uint8_t *data;	/* size * count bytes, owned by the accelerator;
					 * for reads the caller fills it before the next run */
		} io;
		struct {
			uint64_t addr;
			uint32_t len; /* 1..8 */
			uint8_t is_write;
			uint8_t *data; /* len bytes, as for io */
		} mmio;
		struct {
			uint32_t code;
			char msg[96];
		} internal;
	};
};

enum accel_kind {
	ACCEL_KVM,
	ACCEL_EMU,
};

struct accel_ops {
	const char *name;
	enum accel_kind kind;
	/**
	 * probe() - can this accelerator run here, and is it hardware-assisted?
	 * Writes a human-readable reason into @why. Return: 1 usable and
	 * hardware-assisted, 0 usable but not (e.g. nested software KVM), <0 unusable.
	 */
	int (*probe)(char *why, size_t whylen);
	/** vm_init() - create the VM, map m->mem, set up the irqchip and timer. */
	int (*vm_init)(struct machine *m, struct cabin_err **err);
	void (*vm_fini)(struct machine *m);
	/** vcpu_init() - create vCPU @index; the result is stored in m->vcpus[index]. */
	int (*vcpu_init)(struct machine *m, unsigned int index, struct cabin_err **err);
	void (*vcpu_fini)(struct vcpu *v);
	/** vcpu_run() - run until the next exit. Return: 0, or -errno (data plane). */
	int (*vcpu_run)(struct vcpu *v, struct accel_exit *exit);
	int (*get_regs)(struct vcpu *v, struct x86_regs *regs);
	int (*set_regs)(struct vcpu *v, const struct x86_regs *regs);
	int (*get_sregs)(struct vcpu *v, struct x86_sregs *sregs);
	int (*set_sregs)(struct vcpu *v, const struct x86_sregs *sregs);
	/** get_fpu()/set_fpu() - x87/SSE state; NULL only in test doubles. */
	int (*get_fpu)(struct vcpu *v, struct x86_fpu *fpu);
	int (*set_fpu)(struct vcpu *v, const struct x86_fpu *fpu);
	/** set_msrs() - boot-time MSRs (pairs of index, value). */
	int (*set_msrs)(struct vcpu *v, const uint32_t *idx, const uint64_t *val, unsigned int n);
	/** irq_line() - drive interrupt input @gsi of the irqchip (IOAPIC/PIC). */
	int (*irq_line)(struct machine *m, unsigned int gsi, int level);
	/**
	 * msi() - optional: deliver a message-signalled interrupt in the compatibility
	 * format (@addr 0xfeexxxxx: destination in bits 19:12, logical in bit 2; @data:
	 * vector, delivery mode in bits 10:8, trigger in bit 15). Any thread.
	 */
	int (*msi)(struct machine *m, uint64_t addr, uint32_t data);
	/** vcpu_kick() - make a running vcpu_run() return ACCEL_EXIT_INTR soon. Any thread. */
	void (*vcpu_kick)(struct vcpu *v);
	/**
	 * ioeventfd() - optional (NULL: unsupported): signal eventfd @fd on a guest write of
	 * @len bytes to MMIO @addr (matching @datamatch when @has_datamatch) instead of
	 * exiting. Used for virtio queue notifications. @fd < 0 removes it.
	 */
	int (*ioeventfd)(struct machine *m, uint64_t addr, uint32_t len, uint64_t datamatch,
			 int has_datamatch, int fd);
	/** irqfd() - optional: writing eventfd @fd raises edge interrupt @gsi. */
	int (*irqfd)(struct machine *m, unsigned int gsi, int fd);
	/**
	 * mem_written() - optional: a device wrote guest RAM [@gpa, @gpa + @len) behind the
	 * CPU's back (virtio buffers, DMA). The emulator drops what it decoded from those
	 * pages; hardware virtualization keeps its caches coherent itself (NULL). Any thread.
	 */
	void (*mem_written)(struct machine *m, uint64_t gpa, uint64_t len);
};

extern const struct accel_ops kvm_accel_ops;
extern const struct accel_ops emu_accel_ops;

#endif
