/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_VM_MEM_H
#define CABIN_VM_MEM_H

#include <stdint.h>

struct cabin_err;

/*
 * Guest physical memory. On x86 RAM above 3 GiB is moved above 4 GiB so the
 * 3-4 GiB hole is free for MMIO devices (virtio-mmio, IOAPIC, LAPIC), as in
 * Firecracker and kvmtool.
 */
#define VM_MEM_MAX_REGIONS 4
#define VM_MEM_HOLE_START 0xc0000000ULL
#define VM_MEM_HOLE_END 0x100000000ULL

enum vm_mem_flags {
	VM_MEM_MEMFD = 1 << 0,	   /* back RAM with a memfd (shareable, sealable) */
	VM_MEM_HUGEPAGES = 1 << 1, /* MAP_HUGETLB / MFD_HUGETLB; fails if none reserved */
};

struct vm_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

struct vm_mem {
	struct vm_mem_region regions[VM_MEM_MAX_REGIONS];
	unsigned int nr_regions;
	uint64_t ram_size; /* total RAM bytes */
	uint8_t *base;	   /* the one host mapping all regions live in */
	uint64_t map_size;
	int memfd; /* -1 unless VM_MEM_MEMFD */
};

/**
 * vm_mem_init() - allocate @size bytes of guest RAM (x86 layout, see above)
 * @flags: enum vm_mem_flags
 *
 * Return: 0, or <0 with @err set. vm_mem_fini() releases a partial init too.
 */
int vm_mem_init(struct vm_mem *mem, uint64_t size, unsigned int flags, struct cabin_err **err);

/** vm_mem_fini() - unmap guest RAM; safe on a zeroed or failed struct. */
void vm_mem_fini(struct vm_mem *mem);

/**
 * vm_mem_ptr() - host pointer for guest range [@gpa, @gpa + @len)
 *
 * Every address that comes from a guest goes through here: the range must lie
 * wholly inside one RAM region, and the sum is checked for overflow.
 * Return: host pointer, or NULL when any byte is outside guest RAM.
 */
void *vm_mem_ptr(const struct vm_mem *mem, uint64_t gpa, uint64_t len);

/** vm_mem_read()/vm_mem_write() - copy to/from guest RAM. Return: 0 or -EFAULT. */
int vm_mem_read(const struct vm_mem *mem, uint64_t gpa, void *dst, uint64_t len);
int vm_mem_write(const struct vm_mem *mem, uint64_t gpa, const void *src, uint64_t len);

/**
 * vm_mem_gpa() - the guest-physical address of host range [@hva, @hva + @len),
 * which must lie wholly inside one RAM region. Return: 0 with *@gpa set, or -EFAULT.
 */
int vm_mem_gpa(const struct vm_mem *mem, const void *hva, uint64_t len, uint64_t *gpa);

#endif
