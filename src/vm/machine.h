/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_VM_MACHINE_H
#define CABIN_VM_MACHINE_H

#include <pthread.h>
#include <stdint.h>

#include "vm/accel.h"
#include "vm/bus.h"
#include "vm/mem.h"

struct cabin_err;
struct pci_bus;

#define MACHINE_MAX_VCPUS 32

/* Per-vCPU state shared by all accelerators; each accelerator embeds or points to its own. */
struct vcpu {
	struct machine *m;
	unsigned int index;
	pthread_t thread;
	void *accel; /* accelerator private state */
};

/*
 * A device attached to the machine, torn down in reverse order of attachment.
 * @cmdline announces it to a Linux guest, e.g. "virtio_mmio.device=4K@0xd0000000:5".
 */
struct machine_dev {
	const char *name;
	void *opaque;
	void (*fini)(void *opaque);
	char cmdline[128];
};

#define MACHINE_MAX_DEVS 32

/* virtio-mmio window (Firecracker's layout): 4 KiB slots from 0xd0000000, GSIs from 5. */
#define MACHINE_MMIO_BASE 0xd0000000ULL
#define MACHINE_MMIO_SLOT_SIZE 0x1000ULL
#define MACHINE_MMIO_SLOTS 18 /* GSIs 5..22: the IOAPIC has 24 pins */
#define MACHINE_MMIO_GSI_BASE 5
/* The PCI host's INTx lines, wired-OR onto the one IOAPIC pin the virtio-mmio slots leave. */
#define MACHINE_PCI_INTX_GSI 23

/* A requester ID (PCI bus << 8 | devfn) that no source has: the IOAPIC's requests. */
#define MACHINE_SID_NONE (-1)

/*
 * An IOMMU between the devices and the machine (hw/intel-iommu.c). Both calls
 * read the guest's tables and may record a fault there; any thread.
 */
struct vm_iommu_ops {
	/**
	 * dma_translate() - where a DMA of requester @sid at @iova goes: *@gpa, and in
	 * *@avail how many bytes from @iova map contiguously (at least 1).
	 * Return: 0, or -EFAULT when the request is blocked (a fault is recorded).
	 */
	int (*dma_translate)(void *opaque, uint16_t sid, uint64_t iova, int is_write, uint64_t *gpa,
			     uint64_t *avail);
	/**
	 * msi_remap() - an interrupt request (a write of @data to @addr in 0xfeexxxxx)
	 * from @sid (MACHINE_SID_NONE: no verifiable source): rewrite it in the
	 * compatibility format the local APICs take. Return: 0, or -EPERM when blocked.
	 */
	int (*msi_remap)(void *opaque, int sid, uint64_t *addr, uint32_t *data);
};

/*
 * The engine-neutral machine: guest memory, I/O buses, interrupt lines and
 * vCPUs, driven by one accelerator. Devices see only this and struct vm_bus.
 */
struct machine {
	const struct accel_ops *accel;
	void *accel_priv; /* accelerator's per-VM state */
	struct vm_mem mem;
	struct vm_bus bus;
	unsigned int nr_vcpus;
	struct vcpu *vcpus[MACHINE_MAX_VCPUS];
	/* Set once by whoever ends the VM (guest exit status, shutdown, stop request). */
	volatile int stopping;
	int exit_status;
	pthread_mutex_t lock;
	/*
	 * Device-memory accesses hold it for reading; an emulated LOCKed read-modify-write
	 * of device memory holds it for writing across its read and its write, so no other
	 * vCPU's access to any device falls between the two.
	 */
	pthread_rwlock_t mmio_lock;
	struct machine_dev devs[MACHINE_MAX_DEVS];
	unsigned int nr_devs;
	unsigned int next_mmio_slot;

	/* Added with the machine lifecycle (machine_create/run/destroy). */
	const struct machine_config *cfg;
	unsigned int phases_done; /* how many entries of the phase table ran */
	pthread_cond_t cond;	  /* pause/resume, vCPU parking, end of run */
	volatile int pause_req;	  /* vCPUs park at their next exit while set */
	unsigned int nr_parked;	  /* vCPUs parked because of pause_req */
	unsigned int nr_idle;	  /* vCPUs halted with interrupts disabled */
	unsigned int nr_running;  /* vCPU threads still in their loop */
	int threads_joined;	  /* vCPU threads are gone: nothing to kick */
	int vcpu_error;		  /* a vCPU hit an accelerator error (status 1) */
	char err_msg[160];	  /* first vCPU error, reported by machine_run */
	char end_msg[160];	  /* why the VM ended, when not by the guest's own report */
	void *console;		  /* the 8250 that is ttyS0 */
	uint64_t boot_entry;	  /* guest-physical entry point, for logs */
	void *boot_priv;	  /* machine.c's private state (boot vCPU state) */
	struct pci_bus *pci;	  /* the PCI host (hw/pci.c), when a PCI device was asked for */
	const struct vm_iommu_ops *iommu; /* the DMA/interrupt remapping unit, or NULL */
	void *iommu_opaque;
	int iommu_intremap; /* ... and it remaps interrupts too */
};

enum machine_iommu {
	MACHINE_IOMMU_NONE,
	MACHINE_IOMMU_VTD,     /* VT-d: DMA and interrupt remapping */
	MACHINE_IOMMU_VTD_DMA, /* VT-d without interrupt remapping (KVM's in-kernel IOAPIC) */
};

/*
 * What a machine is built from. Everything the guest sees is decided here;
 * the phases of machine_create() read it in a fixed order.
 */
struct machine_config {
	const struct accel_ops *accel;
	uint64_t mem_size;
	unsigned int mem_flags; /* enum vm_mem_flags */
	unsigned int nr_vcpus;
	const char *kernel;	   /* bzImage or ELF vmlinux, or NULL */
	const char *initrd;	   /* or NULL */
	const char *cmdline;	   /* base command line (defaults, --cmdline) */
	const char *cmdline_tail;  /* appended after the devices' fragments, e.g. "-- args" */
	const char *firmware;	   /* raw image ending at 1 MiB, or NULL */
	const void *firmware_data; /* built-in image used when firmware and kernel are NULL */
	size_t firmware_len;
	int debug_exit;		  /* attach isa-debug-exit and pc-testdev (hw/testdev.c) */
	uint16_t debug_exit_port; /* ... with the exit port here */
	int pci;		  /* a PCI host bridge (hw/pci.c) instead of hw/pci-none.c */
	int iommu;		  /* enum machine_iommu (hw/intel-iommu.c); needs pci */
	int console_in;		  /* fd the 8250 reads (-1: none) */
	int console_out;	  /* fd the 8250 writes */
	/* The virtio phase: attaches the devices; may be NULL. */
	int (*attach_devices)(struct machine *m, void *opaque, struct cabin_err **err);
	void *attach_opaque;
};

/**
 * machine_create() - build a machine, running the phases in order: core/memory,
 * accelerator VM, bus and legacy devices, virtio devices, firmware/boot, vCPUs.
 * On failure only the phases that ran are undone, in reverse.
 * Return: 0 with *@out set, or <0 with @err set.
 */
int machine_create(const struct machine_config *cfg, struct machine **out, struct cabin_err **err);

/**
 * machine_run() - run the vCPUs until the VM ends.
 * Return: the guest's exit status (exit port, --debug-exit, 0 for poweroff or reset),
 * one of the MACHINE_EXIT_* statuses, or <0 with @err set when the vCPUs could not start.
 */
int machine_run(struct machine *m, struct cabin_err **err);

/** machine_destroy() - undo every phase that ran, in reverse; accepts NULL. */
void machine_destroy(struct machine *m);

/** machine_pause() - kick every vCPU out and park it; returns once all are parked. */
int machine_pause(struct machine *m);

/** machine_resume() - let parked vCPUs run again. */
int machine_resume(struct machine *m);

/** machine_is_paused() - 1 while a pause is in effect. */
int machine_is_paused(struct machine *m);

/**
 * machine_dump_regs() - write vCPU 0's registers to @path, one "name=0x%016llx"
 * per line: rax..r15 rip rflags cr0 cr3 cr4 efer, exactly as the accelerator's
 * get_regs/get_sregs report them. Return: 0, or <0 with @err set.
 */
int machine_dump_regs(struct machine *m, const char *path, struct cabin_err **err);

/**
 * vm_vcpu_loop() - the vCPU loop shared by every accelerator: run, dispatch
 * port I/O and MMIO to the bus, end the VM on shutdown/errors, detect the
 * halted-with-interrupts-disabled idle state, park on pause. Returns when the
 * machine stops.
 */
void vm_vcpu_loop(struct vcpu *v);

/**
 * machine_dev_add() - record an attached device (its fini runs at machine teardown).
 * Return: 0, or -ENOSPC.
 */
int machine_dev_add(struct machine *m, const struct machine_dev *d);

/**
 * machine_mmio_slot() - allocate the next virtio-mmio slot: its base address and GSI.
 * Return: 0, or -ENOSPC when all MACHINE_MMIO_SLOTS are used.
 */
int machine_mmio_slot(struct machine *m, uint64_t *base, unsigned int *gsi);

/** machine_devs_fini() - tear down attached devices in reverse order. */
void machine_devs_fini(struct machine *m);

/**
 * machine_irq_line() - drive interrupt line @gsi of the machine's irqchip.
 * Used by devices; works the same for every accelerator. Return: 0 or -errno.
 */
int machine_irq_line(struct machine *m, unsigned int gsi, int level);

/**
 * machine_mem_written() - a device wrote guest RAM at host address @hva, @len bytes,
 * without the CPU: tell the accelerator (accel_ops.mem_written), so that no stale
 * decoded instructions run from it. Addresses outside RAM are ignored. Any thread.
 */
void machine_mem_written(struct machine *m, const void *hva, uint64_t len);

/**
 * machine_dma_rw() - a DMA of @len bytes by PCI requester @sid at bus address @addr:
 * through the IOMMU when there is one, then into guest RAM only. A write tells the
 * accelerator (machine_mem_written). Nothing is copied past the first byte that is
 * blocked or lies outside RAM. Return: 0, or -EFAULT.
 */
int machine_dma_rw(struct machine *m, uint16_t sid, uint64_t addr, void *buf, uint64_t len,
		   int is_write);

/**
 * machine_msi() - a message-signalled interrupt (a write of @data to @addr) from
 * requester @sid: remapped by the IOMMU when there is one, then delivered to the
 * local APICs. Return: 0, -EPERM when the IOMMU blocked it, -ENODEV when the
 * accelerator cannot take MSIs, or another -errno.
 */
int machine_msi(struct machine *m, int sid, uint64_t addr, uint32_t data);

/**
 * machine_msi_remap() - only the remapping step of machine_msi(), for interrupt
 * controllers that deliver themselves (the emulator's IOAPIC). Without an IOMMU the
 * message is left as it is. Return: 0, or -EPERM when blocked.
 */
int machine_msi_remap(struct machine *m, int sid, uint64_t *addr, uint32_t *data);

/** machine_stop() - end the VM with @status (first caller wins); kicks every vCPU. */
void machine_stop(struct machine *m, int status);

/*
 * Exit statuses of a VM that the guest did not end with a status of its own
 * (exit port 0x501, --debug-exit, ACPI poweroff or a reset request, which give
 * the value written or 0). `cabin vm run --help` documents them; a guest can
 * write the same values to the exit port, so machine_run() also prints one
 * line naming the cause for these.
 */
#define MACHINE_EXIT_ERROR 1	      /* accelerator or VMM failure */
#define MACHINE_EXIT_TRIPLE_FAULT 251 /* a triple fault (shutdown) */
#define MACHINE_EXIT_HALTED 252	      /* every vCPU halted with nothing left to wake it */
#define MACHINE_EXIT_STOPPED 253      /* `cabin vm stop` through the control socket */

/**
 * machine_stop_cause() - machine_stop() for the ends that are not the guest's own
 * report: @cause ("triple fault at rip ...") is printed by machine_run() as the
 * reason of the exit status, if this call is the one that ends the VM.
 */
void machine_stop_cause(struct machine *m, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
