/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/error.h"
#include "vm/mem.h"

int vm_mem_init(struct vm_mem *mem, uint64_t size, unsigned int flags, struct cabin_err **err)
{
	int mflags = MAP_SHARED | MAP_NORESERVE;
	uint64_t low;

	memset(mem, 0, sizeof(*mem));
	mem->memfd = -1;
	if (size < (1ULL << 20) || size > (1ULL << 40))
		return cabin_err_make(err, EINVAL,
				      "guest memory size `%llu` out of range (1 MiB-1 TiB)",
				      (unsigned long long)size);
	size = (size + 0xfff) & ~0xfffULL;

	if (flags & VM_MEM_MEMFD) {
		unsigned int mfd = MFD_CLOEXEC | ((flags & VM_MEM_HUGEPAGES) ? MFD_HUGETLB : 0);

		mem->memfd = memfd_create("cabin-guest-ram", mfd);
		if (mem->memfd < 0)
			return cabin_err_make(err, errno, "memfd_create for guest memory");
		if (ftruncate(mem->memfd, (off_t)size) < 0)
			return cabin_err_make(err, errno, "size guest memory to `%llu`",
					      (unsigned long long)size);
		mem->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mem->memfd, 0);
	} else {
		mflags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
		if (flags & VM_MEM_HUGEPAGES)
			mflags |= MAP_HUGETLB;
		mem->base = mmap(NULL, size, PROT_READ | PROT_WRITE, mflags, -1, 0);
	}
	if (mem->base == MAP_FAILED) {
		mem->base = NULL;
		return cabin_err_make(err, errno, "map `%llu` bytes of guest memory",
				      (unsigned long long)size);
	}
	mem->map_size = size;
	mem->ram_size = size;
	madvise(mem->base, size, MADV_MERGEABLE);

	low = size < VM_MEM_HOLE_START ? size : VM_MEM_HOLE_START;
	mem->regions[0] = (struct vm_mem_region){ .gpa = 0, .size = low, .hva = mem->base };
	mem->nr_regions = 1;
	if (size > low) {
		mem->regions[1] = (struct vm_mem_region){ .gpa = VM_MEM_HOLE_END,
							  .size = size - low,
							  .hva = mem->base + low };
		mem->nr_regions = 2;
	}
	return 0;
}

void vm_mem_fini(struct vm_mem *mem)
{
	if (mem->base)
		munmap(mem->base, mem->map_size);
	if (mem->memfd >= 0)
		close(mem->memfd);
	memset(mem, 0, sizeof(*mem));
	mem->memfd = -1;
}

void *vm_mem_ptr(const struct vm_mem *mem, uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		const struct vm_mem_region *r = &mem->regions[i];

		/* Written so that no sum can overflow: gpa - r->gpa <= r->size first. */
		if (gpa >= r->gpa && gpa - r->gpa <= r->size && len <= r->size - (gpa - r->gpa))
			return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

int vm_mem_read(const struct vm_mem *mem, uint64_t gpa, void *dst, uint64_t len)
{
	void *p = vm_mem_ptr(mem, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

int vm_mem_write(const struct vm_mem *mem, uint64_t gpa, const void *src, uint64_t len)
{
	void *p = vm_mem_ptr(mem, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}

int vm_mem_gpa(const struct vm_mem *mem, const void *hva, uint64_t len, uint64_t *gpa)
{
	uintptr_t h = (uintptr_t)hva;

	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		const struct vm_mem_region *r = &mem->regions[i];
		uintptr_t start = (uintptr_t)r->hva;

		if (h >= start && h - start <= r->size && len <= r->size - (h - start)) {
			*gpa = r->gpa + (h - start);
			return 0;
		}
	}
	return -EFAULT;
}
