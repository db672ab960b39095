/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "lib/error.h"
#include "unit/tap.h"
#include "vm/mem.h"

int main(void)
{
	struct vm_mem mem;
	struct cabin_err *err = NULL;
	uint64_t size = 64ull << 20;
	uint8_t buf[16] = { 1, 2, 3, 4 };
	int ret;

	tap_plan(22);
	ret = vm_mem_init(&mem, size, 0, &err);
	tap_ok(ret == 0, "64 MiB of guest memory");
	tap_ok(mem.nr_regions == 1 && mem.regions[0].gpa == 0 && mem.regions[0].size == size,
	       "one region from 0 below the hole");
	tap_ok(vm_mem_ptr(&mem, 0, size) == mem.base, "the whole of RAM is addressable");
	tap_ok(vm_mem_ptr(&mem, size - 1, 1) != NULL, "last byte");
	tap_ok(vm_mem_ptr(&mem, size - 1, 2) == NULL, "a range running one byte past the end");
	tap_ok(vm_mem_ptr(&mem, 0, size + 1) == NULL, "one byte more than all of RAM");
	tap_ok(vm_mem_ptr(&mem, size, 1) == NULL, "first byte past the end");
	tap_ok(vm_mem_ptr(&mem, UINT64_MAX - 3, 8) == NULL, "gpa + len overflowing 2^64");
	tap_ok(vm_mem_ptr(&mem, 16, UINT64_MAX - 8) == NULL, "a huge length");
	tap_ok(vm_mem_ptr(&mem, UINT64_MAX, UINT64_MAX) == NULL, "both at the maximum");
	tap_ok(vm_mem_write(&mem, 0x1000, buf, 4) == 0 && mem.base[0x1002] == 3,
	       "vm_mem_write lands in the mapping");
	memset(buf, 0, sizeof(buf));
	tap_ok(vm_mem_read(&mem, 0x1000, buf, 4) == 0 && buf[3] == 4, "vm_mem_read");
	tap_ok(vm_mem_read(&mem, size - 2, buf, 4) == -EFAULT, "read across the end is -EFAULT");
	tap_ok(vm_mem_write(&mem, UINT64_MAX - 1, buf, 4) == -EFAULT,
	       "write at a wrapping address is -EFAULT");
	vm_mem_fini(&mem);
	tap_ok(mem.base == NULL && mem.nr_regions == 0, "fini clears the struct");

	/* 3.5 GiB: 3 GiB below the hole, 512 MiB from 4 GiB (NORESERVE: nothing is touched). */
	ret = vm_mem_init(&mem, 3584ull << 20, 0, &err);
	tap_ok(ret == 0 && mem.nr_regions == 2, "RAM above 3 GiB moves above 4 GiB");
	tap_ok(mem.regions[1].gpa == VM_MEM_HOLE_END && mem.regions[1].size == (512ull << 20),
	       "second region at 4 GiB");
	tap_ok(vm_mem_ptr(&mem, VM_MEM_HOLE_START, 1) == NULL, "the hole is not RAM");
	tap_ok(vm_mem_ptr(&mem, VM_MEM_HOLE_START - 8, 16) == NULL,
	       "a range running into the hole is refused");
	tap_ok(vm_mem_ptr(&mem, VM_MEM_HOLE_END, 8) == mem.base + VM_MEM_HOLE_START,
	       "4 GiB maps to the host right after the low part");
	vm_mem_fini(&mem);

	ret = vm_mem_init(&mem, 4096, 0, &err);
	tap_ok(ret < 0 && err && strstr(err->msg, "out of range"), "too little memory is refused");
	cabin_err_release(&err);
	vm_mem_fini(&mem);
	ret = vm_mem_init(&mem, 2ull << 40, 0, &err);
	tap_ok(ret < 0 && err, "more than 1 TiB is refused");
	cabin_err_release(&err);
	vm_mem_fini(&mem);
	return tap_done();
}
