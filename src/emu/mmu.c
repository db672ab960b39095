/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The emulated MMU: 2-level 32-bit, PAE and 4-level page walks with
 * accessed/dirty bits, U/S, R/W (CR0.WP) and NX checks and page-fault error
 * codes, SMEP, SMAP and protection keys; a direct-mapped software TLB caching host pointers per
 * linear page, whose flushes visit only the entries filled since the last one; and the tracking of
 * pages holding decoded instructions, so a guest write to such a page invalidates what was decoded
 * from it.
 */
#include <string.h>

#include "emu/emu.h"
#include "lib/util.h"
#include "vm/machine.h"

#define PTE_P 0x1ULL
#define PTE_W 0x2ULL
#define PTE_U 0x4ULL
#define PTE_A 0x20ULL
#define PTE_D 0x40ULL
#define PTE_PS 0x80ULL
#define PTE_G 0x100ULL
#define PTE_NX (1ULL << 63)

#define PF_P 0x1u
#define PF_W 0x2u
#define PF_U 0x4u
#define PF_RSVD 0x8u
#define PF_ID 0x10u

#define MAXPHY 40
#define ADDR_MASK (((1ULL << MAXPHY) - 1) & ~0xfffULL)
/* bits between MAXPHYADDR and 51 are reserved in PAE and 4-level entries */
#define RSVD_HIGH (((1ULL << 52) - 1) & ~((1ULL << MAXPHY) - 1))

/* remember that slot @i holds a translation, for the next flush */
static inline void tlb_log_add(struct emu_cpu *c, unsigned int i)
{
	if (c->tlb_nlog < TLB_LOG)
		c->tlb_log[c->tlb_nlog] = (uint16_t)i;
	if (c->tlb_nlog <= TLB_LOG)
		c->tlb_nlog++;
}

/* the same for a slot filled from a large page */
static inline void tlb_large_add(struct emu_cpu *c, unsigned int i)
{
	if (c->tlb_nlarge < TLB_LARGE_LOG)
		c->tlb_large_log[c->tlb_nlarge] = (uint16_t)i;
	if (c->tlb_nlarge <= TLB_LARGE_LOG)
		c->tlb_nlarge++;
}

/*
 * Drop every translation (but the global ones with @keep_global). Linux without
 * PCID writes CR3 at every context switch and, with page-table isolation, at every
 * kernel entry and exit: only the slots filled since the last flush are visited
 * (all of them once more than TLB_LOG were), and the global ones kept stay logged.
 * Invariant: every slot whose vpage is not 1 is in tlb_log, unless it overflowed.
 */
void emu_tlb_flush(struct emu_cpu *c, int keep_global)
{
	unsigned int n = c->tlb_nlog;

	c->tlb_epoch++;
	c->tlb_nlog = 0;
	c->tlb_nlarge = 0;
	for (unsigned int k = 0; k < (n > TLB_LOG ? TLB_SIZE : n); k++) {
		/* k < n: tlb_log_add() rewrites the log behind this reader */
		unsigned int i = n > TLB_LOG ? k : c->tlb_log[k];

		if (c->tlb[i].vpage == 1)
			continue;
		if (keep_global && (c->tlb[i].perm & TLB_GLOBAL)) {
			tlb_log_add(c, i);
			if (c->tlb[i].perm & TLB_LARGE)
				tlb_large_add(c, i);
		} else {
			c->tlb[i].vpage = 1;
		}
	}
}

void emu_tlb_flush_page(struct emu_cpu *c, uint64_t lin)
{
	uint64_t vpage = lin & ~0xfffULL;
	struct emu_tlb_entry *e = &c->tlb[(vpage >> 12) & (TLB_SIZE - 1)];

	c->tlb_epoch++;
	/* INVLPG drops the entry for @lin, global or not ... */
	if (e->vpage == vpage)
		e->vpage = 1;
	/*
	 * ... and, since a large page occupies many 4 KiB entries, every entry filled
	 * from a large page that could contain @lin (same 1 GiB region, the largest page).
	 * Entries of other pages stay: a guest flushing one page keeps its other mappings.
	 */
	if (!c->tlb_nlarge)
		return;
	if (c->tlb_nlarge <= TLB_LARGE_LOG) {
		unsigned int n = c->tlb_nlarge;

		c->tlb_nlarge = 0;
		for (unsigned int k = 0; k < n; k++) {
			unsigned int i = c->tlb_large_log[k];

			if (!(c->tlb[i].perm & TLB_LARGE) || c->tlb[i].vpage == 1)
				continue; /* refilled from a 4 KiB page, or dropped */
			if ((c->tlb[i].vpage >> 30) == (vpage >> 30))
				c->tlb[i].vpage = 1;
			else
				tlb_large_add(c, i); /* k < n: rewritten behind the reader */
		}
		return;
	}
	for (unsigned int k = 0; k < (c->tlb_nlog > TLB_LOG ? TLB_SIZE : c->tlb_nlog); k++) {
		unsigned int i = c->tlb_nlog > TLB_LOG ? k : c->tlb_log[k];

		if ((c->tlb[i].perm & TLB_LARGE) && c->tlb[i].vpage != 1 &&
		    (c->tlb[i].vpage >> 30) == (vpage >> 30))
			c->tlb[i].vpage = 1;
	}
}

uint8_t *emu_host_page(struct emu_cpu *c, uint64_t ppage)
{
	return vm_mem_ptr(&c->m->mem, ppage, 4096);
}

static uint64_t pte_read(struct emu_cpu *c, uint64_t pa, int wide)
{
	void *p = vm_mem_ptr(&c->m->mem, pa, wide ? 8 : 4);

	if (!p)
		return 0; /* page tables outside RAM read as not present */
	if (wide)
		return __atomic_load_n((uint64_t *)p, __ATOMIC_RELAXED);
	return __atomic_load_n((uint32_t *)p, __ATOMIC_RELAXED);
}

static void pte_set(struct emu_cpu *c, uint64_t pa, uint64_t bits, int wide)
{
	void *p = vm_mem_ptr(&c->m->mem, pa, wide ? 8 : 4);

	if (!p)
		return;
	if (wide)
		__atomic_fetch_or((uint64_t *)p, bits, __ATOMIC_RELAXED);
	else
		__atomic_fetch_or((uint32_t *)p, (uint32_t)bits, __ATOMIC_RELAXED);
	c->stop_block = 1;
	emu_code_write(c->vm, pa, wide ? 8 : 4);
}

/*
 * Walk the page tables for @lin. On success fills *pa, *permp (TLB_* bits) and
 * returns 0; on a fault returns the page-fault error code with bit 31 set.
 */
static int64_t walk(struct emu_cpu *c, uint64_t lin, int acc, int user, uint64_t *pa,
		    uint32_t *permp, int set_ad)
{
	int nxe = (c->efer & EFER_NXE) != 0;
	int wp = (c->cr0 & CR0_WP) != 0;
	uint64_t ent_addr[5], ent[5], rsvd;
	int levels, wide, lvl, n = 0;
	uint64_t table, page_mask = 0xfff, base;
	int w = 1, u = 1, nx = 0, pk_ad, pk_wd, smep_x, smap_block;
	uint32_t err = (acc == ACC_WRITE ? PF_W : 0) | (user ? PF_U : 0);
	uint32_t perm;

	/* I/D: a fetch, reported with SMEP or with NX under PAE/4-level paging */
	if (acc == ACC_EXEC && ((nxe && (c->cr4 & CR4_PAE)) || (c->cr4 & CR4_SMEP)))
		err |= PF_ID;
	if (c->efer & EFER_LMA) {
		levels = 4;
		wide = 1;
		table = c->cr3 & ADDR_MASK;
	} else if (c->cr4 & CR4_PAE) {
		uint64_t pdpte_addr = (c->cr3 & 0xffffffe0ULL) + ((lin >> 30) & 3) * 8;
		uint64_t pdpte = pte_read(c, pdpte_addr, 1);

		if (!(pdpte & PTE_P))
			return (int64_t)(err | 0x80000000u);
		if (pdpte & (RSVD_HIGH | 0x1e6ULL | PTE_NX))
			return (int64_t)(err | PF_P | PF_RSVD | 0x80000000u);
		levels = 2;
		wide = 1;
		table = pdpte & ADDR_MASK;
	} else {
		levels = 2;
		wide = 0;
		table = c->cr3 & 0xfffff000ULL;
	}
	rsvd = wide ? (RSVD_HIGH | (nxe ? 0 : PTE_NX)) : 0;

	for (lvl = levels; lvl >= 1; lvl--) {
		unsigned int shift =
			wide ? 12 + 9 * (unsigned int)(lvl - 1) : 12 + 10 * (unsigned int)(lvl - 1);
		uint64_t idx = wide ? (lin >> shift) & 511 : (lin >> shift) & 1023;
		uint64_t e, r = rsvd;

		ent_addr[n] = table + idx * (wide ? 8 : 4);
		e = ent[n] = pte_read(c, ent_addr[n], wide);
		n++;
		if (!(e & PTE_P))
			return (int64_t)(err | 0x80000000u);
		if (lvl == 4 && wide)
			r |= PTE_PS; /* PML4E.PS is reserved */
		if (e & r)
			return (int64_t)(err | PF_P | PF_RSVD | 0x80000000u);
		w &= (e & PTE_W) != 0;
		u &= (e & PTE_U) != 0;
		if (wide && nxe)
			nx |= (e & PTE_NX) != 0;
		if (lvl == 1)
			break;
		if ((e & PTE_PS) && (lvl == 2 || (lvl == 3 && wide))) {
			if (!wide && !(c->cr4 & CR4_PSE))
				goto not_large;
			page_mask = (1ULL << shift) - 1;
			if (wide) {
				/* bits 12..shift-1 of a large page entry are reserved except PAT */
				if (e & (page_mask & ~0x1fffULL))
					return (int64_t)(err | PF_P | PF_RSVD | 0x80000000u);
				base = e & ADDR_MASK & ~page_mask;
			} else {
				if (e & (1ULL << 21))
					return (int64_t)(err | PF_P | PF_RSVD | 0x80000000u);
				base = (e & 0xffc00000ULL) | (((e >> 13) & 0xff) << 32);
			}
			goto leaf;
		}
	not_large:
		table = e & (wide ? ADDR_MASK : 0xfffff000ULL);
	}
	base = ent[n - 1] & (wide ? ADDR_MASK : 0xfffff000ULL);
leaf:
	/*
	 * Access rights, SDM vol. 3 4.6.1. u: a user-mode address (U/S set at every
	 * level). SMEP: no supervisor fetch from a user-mode address. SMAP: no supervisor
	 * data access to one, unless CPL < 3 and EFLAGS.AC = 1. Protection keys (4.6.2,
	 * 4-level paging only): bits 62:59 of the leaf entry select 2 bits of PKRU (user-mode
	 * addresses, CR4.PKE) or IA32_PKRS (supervisor-mode addresses, CR4.PKS): AD denies
	 * data reads and writes, WD denies user writes, and supervisor writes when CR0.WP = 1.
	 * Instruction fetches ignore keys.
	 */
	pk_ad = pk_wd = 0;
	if (c->efer & EFER_LMA) {
		unsigned int key = (unsigned int)(ent[n - 1] >> 59) & 15;
		uint64_t rights = 0;

		if (u && (c->cr4 & CR4_PKE))
			rights = c->pkru >> (2 * key);
		else if (!u && (c->cr4 & CR4_PKS))
			rights = c->pkrs >> (2 * key);
		pk_ad = (int)(rights & 1);
		pk_wd = (int)((rights >> 1) & 1);
	}
	smep_x = u && (c->cr4 & CR4_SMEP);
	smap_block = u && (c->cr4 & CR4_SMAP) && !(c->cpl < 3 && (c->flags & FL_AC));
	if (acc != ACC_EXEC && (pk_ad || (acc == ACC_WRITE && pk_wd && (user || wp))))
		err |= PF_PK;
	if (user) {
		if (!u || (acc == ACC_WRITE && !w) || (acc == ACC_EXEC && nx) || (err & PF_PK))
			return (int64_t)(err | PF_P | 0x80000000u);
	} else if (acc == ACC_EXEC) {
		if (nx || smep_x)
			return (int64_t)(err | PF_P | 0x80000000u);
	} else if ((acc == ACC_WRITE && !w && wp) || smap_block || (err & PF_PK)) {
		return (int64_t)(err | PF_P | 0x80000000u);
	}

	if (set_ad) {
		for (int i = 0; i < n; i++) {
			uint64_t bits = PTE_A;

			if (i == n - 1 && acc == ACC_WRITE)
				bits |= PTE_D;
			if ((ent[i] & bits) != bits) {
				pte_set(c, ent_addr[i], bits, wide);
				ent[i] |= bits;
			}
		}
	}
	*pa = base | (lin & page_mask & ~0xfffULL);
	perm = 0;
	if (!pk_ad) {
		perm |= TLB_R_SUP;
		if ((w || !wp) && !(pk_wd && wp))
			perm |= TLB_W_SUP;
	}
	if (!nx && !smep_x)
		perm |= TLB_X_SUP;
	if (!u || !(c->cr4 & CR4_SMAP))
		perm |= TLB_SMAPOK;
	if (u) {
		if (!pk_ad) {
			perm |= TLB_R_USR;
			if (w && !pk_wd)
				perm |= TLB_W_USR;
		}
		if (!nx)
			perm |= TLB_X_USR;
	}
	if (ent[n - 1] & PTE_D)
		perm |= TLB_DIRTY;
	if ((ent[n - 1] & PTE_G) && (c->cr4 & CR4_PGE))
		perm |= TLB_GLOBAL;
	if (page_mask != 0xfff)
		perm |= TLB_LARGE;
	*permp = perm;
	return 0;
}

int64_t emu_mmu_translate(struct emu_cpu *c, uint64_t lin, int acc, int user, uint64_t *pa,
			  int set_ad)
{
	uint32_t perm;
	int64_t r;

	if (!(c->cr0 & CR0_PG)) {
		*pa = lin;
		return 0;
	}
	r = walk(c, lin & ~0xfffULL, acc, user, pa, &perm, set_ad);
	if (r == 0)
		*pa |= lin & 0xfff;
	return r;
}

struct emu_tlb_entry *emu_tlb_fill(struct emu_cpu *c, uint64_t lin, int acc, int user)
{
	uint64_t vpage = lin & ~0xfffULL, pa;
	struct emu_tlb_entry *e = &c->tlb[(vpage >> 12) & (TLB_SIZE - 1)];
	uint32_t perm;

	if (!(c->cr0 & CR0_PG)) {
		pa = vpage;
		perm = 0x7fu | TLB_SMAPOK; /* everything, dirty */
	} else {
		int64_t r = walk(c, vpage, acc, user, &pa, &perm, 1);

		if (r)
			emu_raise_pf(c, lin, (uint32_t)r & 0x7fffffffu);
	}
	if (e->vpage == 1)
		tlb_log_add(c, (unsigned int)(e - c->tlb));
	if (perm & TLB_LARGE)
		tlb_large_add(c, (unsigned int)(e - c->tlb));
	e->vpage = vpage;
	e->ppage = pa;
	e->host = emu_host_page(c, pa);
	e->perm = perm;
	/* a watched page: every read and write takes the slow path (checked above) */
	if (UNLIKELY(c->watch_active) && emu_dbg_page_watched(c, vpage))
		e->perm &= ~(TLB_R_SUP | TLB_W_SUP | TLB_R_USR | TLB_W_USR | TLB_DIRTY);
	return e;
}

static inline uint32_t need_perm(const struct emu_cpu *c, int acc, int user)
{
	static const uint32_t t[2][3] = {
		{ TLB_R_SUP, TLB_W_SUP | TLB_DIRTY, TLB_X_SUP },
		{ TLB_R_USR, TLB_W_USR | TLB_DIRTY, TLB_X_USR },
	};

	if (!user && acc != ACC_EXEC)
		return t[0][acc] | emu_tlb_need_smap(c);
	return t[user][acc];
}

/* translate one piece (not crossing a page) to a TLB entry with the needed rights */
static struct emu_tlb_entry *xlate(struct emu_cpu *c, uint64_t lin, int acc, int user)
{
	struct emu_tlb_entry *e = &c->tlb[(lin >> 12) & (TLB_SIZE - 1)];
	uint32_t need = need_perm(c, acc, user);

	if (e->vpage == (lin & ~0xfffULL) && (e->perm & need) == need)
		return e;
	e = emu_tlb_fill(c, lin, acc, user);
	return e;
}

void emu_phys_read(struct emu_cpu *c, uint64_t pa, void *dst, unsigned int len)
{
	void *p = vm_mem_ptr(&c->m->mem, pa, len);

	if (p) {
		memcpy(dst, p, len);
		return;
	}
	emu_mmio(c, pa, dst, len, 0);
}

void emu_phys_write(struct emu_cpu *c, uint64_t pa, const void *src, unsigned int len)
{
	void *p = vm_mem_ptr(&c->m->mem, pa, len);

	if (p) {
		c->stop_block = 1;
		emu_code_write(c->vm, pa, len);
		memcpy(p, src, len);
		return;
	}
	emu_mmio(c, pa, (void *)src, len, 1);
}

void emu_lin_read(struct emu_cpu *c, uint64_t lin, void *dst, unsigned int len, int acc, int user)
{
	uint8_t *d = dst;

	while (len) {
		unsigned int off = (unsigned int)(lin & 0xfff);
		unsigned int n = 4096 - off < len ? 4096 - off : len;
		struct emu_tlb_entry *e = xlate(c, lin, acc, user);

		if (UNLIKELY(c->watch_active) && acc != ACC_EXEC)
			emu_dbg_watch(c, lin, n, 0);
		if (e->host)
			memcpy(d, e->host + off, n);
		else
			emu_mmio(c, e->ppage | off, d, n, 0);
		d += n;
		len -= n;
		lin += n;
		if (!(c->efer & EFER_LMA))
			lin &= 0xffffffffULL;
	}
}

void emu_lin_write(struct emu_cpu *c, uint64_t lin, const void *src, unsigned int len, int user)
{
	const uint8_t *s = src;
	struct emu_tlb_entry *e[2];
	uint64_t l[2];
	unsigned int n[2], k = 0;

	/* check every page before writing any byte */
	while (len && k < 2) {
		unsigned int off = (unsigned int)(lin & 0xfff);

		n[k] = 4096 - off < len ? 4096 - off : len;
		l[k] = lin;
		e[k] = xlate(c, lin, ACC_WRITE, user);
		len -= n[k];
		lin += n[k];
		if (!(c->efer & EFER_LMA))
			lin &= 0xffffffffULL;
		k++;
	}
	if (k == 2) /* the first piece's entry may have been evicted by the second */
		e[0] = xlate(c, l[0], ACC_WRITE, user);
	for (unsigned int i = 0; i < k; i++) {
		unsigned int off = (unsigned int)(l[i] & 0xfff);

		if (UNLIKELY(c->watch_active))
			emu_dbg_watch(c, l[i], n[i], 1);
		if (e[i]->host) {
			if (c->vm->code_page[e[i]->ppage >> 12])
				c->stop_block = 1; /* the running block may be stale */
			emu_code_write(c->vm, e[i]->ppage | off, n[i]);
			memcpy(e[i]->host + off, s, n[i]);
		} else {
			emu_mmio(c, e[i]->ppage | off, (void *)s, n[i], 1);
		}
		s += n[i];
	}
}

void emu_code_write(struct emu_vm *vm, uint64_t pa, unsigned int len)
{
	uint64_t first = pa >> 12, last = (pa + len - 1) >> 12;

	for (uint64_t pg = first; pg <= last && pg < vm->nr_pages; pg++) {
		if (__atomic_load_n(&vm->code_page[pg], __ATOMIC_RELAXED)) {
			__atomic_store_n(&vm->code_page[pg], 0, __ATOMIC_RELAXED);
			__atomic_fetch_add(&vm->page_gen[pg], 1, __ATOMIC_RELEASE);
		}
	}
}
