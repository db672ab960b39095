/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The emulator as a machine accelerator (struct accel_ops): VM and vCPU
 * lifetime, the vCPU run loop (timers on the virtual clock, HLT waiting for
 * an interrupt without spinning, INIT/SIPI), register access in KVM's
 * conventions, and the port-I/O/MMIO exits the shared machine loop handles.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "emu/emu.h"
#include "emu/jit.h"
#include "lib/error.h"
#include "lib/util.h"
#include "vm/machine.h"

#define IOAPIC_BASE 0xfec00000ULL
#define RUN_BATCH 65536
/* how often a CPU that only INIT, SIPI or NMI can wake re-reports that it is idle */
#define IDLE_POLL_MS 10

/* ---- wake-ups ---- */

void emu_cpu_wake(struct emu_cpu *c)
{
	pthread_mutex_lock(&c->lock);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

void emu_vm_wake(struct emu_vm *vm)
{
	for (unsigned int i = 0; i < vm->m->nr_vcpus; i++)
		if (vm->m->vcpus[i] && vm->m->vcpus[i]->accel)
			emu_cpu_wake(vm->m->vcpus[i]->accel);
}

/* ---- I/O from the interpreter ---- */

static int own_port(uint16_t port)
{
	return port == 0x20 || port == 0x21 || port == 0xa0 || port == 0xa1 || port == 0x4d0 ||
	       port == 0x4d1 || (port >= 0x40 && port <= 0x43) || port == 0x61;
}

static void advance_clock(struct emu_cpu *c);

static int own_io(struct emu_cpu *c, uint16_t port, int size, int is_write, uint32_t *val)
{
	struct emu_vm *vm = c->vm;
	uint32_t v = 0, out = 0;

	/* the PIT must see the instructions this CPU ran since its batch began */
	advance_clock(c);
	/* the irqchip ports are byte-wide; wider accesses hit consecutive ports */
	for (int i = 0; i < size; i++) {
		uint16_t p = (uint16_t)(port + i);

		v = is_write ? (*val >> (8 * i)) & 0xff : 0xff;
		if (own_port(p)) {
			pthread_mutex_lock(&vm->lock);
			if ((p >= 0x40 && p <= 0x43) || p == 0x61)
				emu_pit_io(vm, p, is_write, &v);
			else
				emu_pic_io(vm, p, is_write, &v);
			pthread_mutex_unlock(&vm->lock);
		}
		out |= (v & 0xff) << (8 * i);
	}
	if (!is_write)
		*val = out;
	return 1;
}

int emu_io_in(struct emu_cpu *c, uint16_t port, int size, uint32_t *val)
{
	struct accel_exit *e = c->exit;

	if (UNLIKELY(c->dbg_active))
		emu_dbg_io(c, port, (unsigned int)size);
	if (own_port(port)) {
		emu_charge(c, EMU_CYC_PIO);
		return own_io(c, port, size, 0, val);
	}
	if (c->io.pending == 1 && c->io.have_data) {
		/* the replay of an IN that went out as an exit: it completes now */
		*val = 0;
		memcpy(val, c->io_buf, (size_t)size);
		c->io.pending = 0;
		c->io.have_data = 0;
		emu_charge(c, EMU_CYC_PIO);
		return 1;
	}
	if (c->exit_ready) {
		/* one exit per instruction: a second one completes on the bus directly */
		uint8_t buf[4] = { 0xff, 0xff, 0xff, 0xff };

		bus_access(&c->m->bus, BUS_PIO, port, buf, (uint32_t)size, 0);
		*val = 0;
		memcpy(val, buf, (size_t)size);
		emu_charge(c, EMU_CYC_PIO);
		return 1;
	}
	e->reason = ACCEL_EXIT_IO;
	e->io.port = port;
	e->io.size = (uint8_t)size;
	e->io.is_write = 0;
	e->io.count = 1;
	e->io.data = c->io_buf;
	memset(c->io_buf, 0xff, 4);
	c->io.pending = 1;
	c->io.have_data = 0;
	c->exit_ready = 1;
	c->stop_block = 1;
	return 0;
}

void emu_io_out(struct emu_cpu *c, uint16_t port, int size, uint32_t val)
{
	struct accel_exit *e = c->exit;

	if (UNLIKELY(c->dbg_active))
		emu_dbg_io(c, port, (unsigned int)size);
	emu_charge(c, EMU_CYC_PIO);
	if (own_port(port)) {
		own_io(c, port, size, 1, &val);
		return;
	}
	if (c->exit_ready) {
		bus_access(&c->m->bus, BUS_PIO, port, &val, (uint32_t)size, 1);
		return;
	}
	e->reason = ACCEL_EXIT_IO;
	e->io.port = port;
	e->io.size = (uint8_t)size;
	e->io.is_write = 1;
	e->io.count = 1;
	e->io.data = c->io_buf;
	memcpy(c->io_buf, &val, (size_t)size);
	c->exit_ready = 1;
	c->stop_block = 1;
}

/* a device access made from this thread, not as an exit */
static void mmio_inline(struct emu_cpu *c, uint64_t pa, void *data, unsigned int len, int is_write)
{
	if (!c->mmio_wlocked)
		pthread_rwlock_rdlock(&c->m->mmio_lock);
	if (!is_write)
		memset(data, 0xff, len);
	if (pa >= IOAPIC_BASE && pa < IOAPIC_BASE + 0x1000) {
		pthread_mutex_lock(&c->vm->lock);
		emu_ioapic_mmio(c->vm, pa - IOAPIC_BASE, data, len, is_write);
		pthread_mutex_unlock(&c->vm->lock);
	} else {
		bus_access(&c->m->bus, BUS_MMIO, pa, data, len, is_write);
	}
	if (!c->mmio_wlocked)
		pthread_rwlock_unlock(&c->m->mmio_lock);
}

int emu_mmio(struct emu_cpu *c, uint64_t pa, void *data, unsigned int len, int is_write)
{
	struct accel_exit *e = c->exit;

	/* the xAPIC page; in x2APIC mode (EXTD) the registers are MSRs only */
	if ((c->apic_base & 0xc00) == 0x800 && (pa & ~0xfffULL) == (c->apic_base & ~0xfffULL))
		return emu_lapic_mmio(c, pa & 0xfff, data, len, is_write);
	if (c->locked_insn) {
		/*
		 * A LOCKed read-modify-write: hold the machine's MMIO lock for writing
		 * from its first device access to the end of the instruction, and access
		 * the device from here, so that nothing another vCPU does to device memory
		 * falls between the read and the write.
		 */
		if (!c->mmio_wlocked) {
			pthread_rwlock_wrlock(&c->m->mmio_lock);
			c->mmio_wlocked = 1;
		}
		for (unsigned int o = 0; o < len; o += 8)
			mmio_inline(c, pa + o, (uint8_t *)data + o, len - o < 8 ? len - o : 8,
				    is_write);
		return 0;
	}
	if (pa >= IOAPIC_BASE && pa < IOAPIC_BASE + 0x1000) {
		mmio_inline(c, pa, data, len, is_write);
		return 0;
	}
	if (len > 8) {
		/*
		 * Wider than an exit carries (16-byte SSE accesses): split. A read
		 * cannot go out as exits, since the replayed instruction would bring
		 * back only the last piece's data and ask for the first one again,
		 * forever: its pieces go to the bus from this thread, as accesses
		 * made while an exit is pending already do.
		 */
		for (unsigned int o = 0; o < len; o += 8) {
			unsigned int n = len - o < 8 ? len - o : 8;

			if (is_write)
				emu_mmio(c, pa + o, (uint8_t *)data + o, n, 1);
			else
				mmio_inline(c, pa + o, (uint8_t *)data + o, n, 0);
		}
		return 0;
	}
	if (!is_write) {
		if (c->io.pending == 2 && c->io.have_data && c->io.addr == pa && c->io.len == len) {
			memcpy(data, c->io_buf, len);
			c->io.pending = 0;
			c->io.have_data = 0;
			return 0;
		}
		if (c->exit_ready) {
			mmio_inline(c, pa, data, len, 0);
			return 0;
		}
		e->reason = ACCEL_EXIT_MMIO;
		e->mmio.addr = pa;
		e->mmio.len = len;
		e->mmio.is_write = 0;
		e->mmio.data = c->io_buf;
		memset(c->io_buf, 0xff, 8);
		c->io.pending = 2;
		c->io.addr = pa;
		c->io.len = len;
		c->io.have_data = 0;
		c->exit_ready = 1;
		/* abandon the instruction; it runs again once the data is there */
		c->exc_vector = -2;
		longjmp(c->jb, 1);
	}
	if (c->exit_ready) {
		mmio_inline(c, pa, data, len, 1);
		return 0;
	}
	e->reason = ACCEL_EXIT_MMIO;
	e->mmio.addr = pa;
	e->mmio.len = len;
	e->mmio.is_write = 1;
	e->mmio.data = c->io_buf;
	memcpy(c->io_buf, data, len);
	c->exit_ready = 1;
	c->stop_block = 1;
	return 0;
}

/* ---- interrupts ---- */

void emu_intr_poll(struct emu_cpu *c)
{
	int vec;

	c->intr_hint = 0;
	if (c->nmi_pending && !c->nmi_blocked) {
		c->nmi_pending = 0;
		c->nmi_blocked = 1;
		c->intr_hint = 1;
		emu_deliver(c, EXC_NMI, INT_EXT, 0, 0);
		return;
	}
	if (!(c->flags & FL_IF))
		return;
	vec = emu_lapic_pending(c);
	if (vec >= 0) {
		emu_lapic_ack(c, vec);
		c->intr_hint = 1;
		c->insn_rip = c->rip;
		emu_deliver(c, vec, INT_EXT, 0, 0);
		return;
	}
	if (emu_lapic_accept_pic(c)) {
		pthread_mutex_lock(&c->vm->lock);
		if (emu_pic_has_intr(c->vm)) {
			vec = emu_pic_ack(c->vm);
			pthread_mutex_unlock(&c->vm->lock);
			c->intr_hint = 1;
			c->insn_rip = c->rip;
			emu_deliver(c, vec, INT_EXT, 0, 0);
			return;
		}
		pthread_mutex_unlock(&c->vm->lock);
	}
}

/* is an interrupt ready for this CPU (ignoring IF)? */
static int intr_ready(struct emu_cpu *c)
{
	int r;

	if (c->nmi_pending && !c->nmi_blocked)
		return 2;
	if (emu_lapic_pending(c) >= 0)
		return 1;
	if (!emu_lapic_accept_pic(c))
		return 0;
	pthread_mutex_lock(&c->vm->lock);
	r = emu_pic_has_intr(c->vm);
	pthread_mutex_unlock(&c->vm->lock);
	return r;
}

/* ---- VM and vCPU lifetime ---- */

struct emu_vm *emu_vm_new(struct machine *m)
{
	struct emu_vm *vm = calloc(1, sizeof(*vm));
	uint64_t top = 0;

	if (!vm)
		return NULL;
	vm->m = m;
	pthread_mutex_init(&vm->lock, NULL);
	for (unsigned int i = 0; i < m->mem.nr_regions; i++) {
		uint64_t end = m->mem.regions[i].gpa + m->mem.regions[i].size;

		if (end > top)
			top = end;
	}
	vm->nr_pages = (top + 4095) >> 12;
	vm->page_gen = calloc(vm->nr_pages ? vm->nr_pages : 1, sizeof(*vm->page_gen));
	vm->code_page = calloc(vm->nr_pages ? vm->nr_pages : 1, 1);
	if (!vm->page_gen || !vm->code_page) {
		emu_vm_free(vm);
		return NULL;
	}
	for (int i = 0; i < 24; i++)
		vm->ioapic.redir[i] = 0x10000;
	for (int i = 0; i < 3; i++) {
		vm->pit[i].null = 1;
		vm->pit[i].gate = i != 2;
	}
	return vm;
}

void emu_vm_free(struct emu_vm *vm)
{
	if (!vm)
		return;
	free(vm->page_gen);
	free(vm->code_page);
	pthread_mutex_destroy(&vm->lock);
	free(vm);
}

/*
 * The decoded-block tags and instruction arena (about 18 MiB) are read at every
 * block start: in 4 KiB pages nearly every lookup missed the host's TLB (on a
 * virtualised host a two-level walk), so they ask for transparent huge pages where
 * the host offers them (madvise mode).
 */
#define BLOCKS_ALIGN ((size_t)2 << 20)

static void *alloc_huge(size_t bytes)
{
	void *p = NULL;

	bytes = (bytes + BLOCKS_ALIGN - 1) & ~(BLOCKS_ALIGN - 1);
	if (posix_memalign(&p, BLOCKS_ALIGN, bytes))
		return NULL;
#ifdef MADV_HUGEPAGE
	madvise(p, bytes, MADV_HUGEPAGE); /* a hint: 4 KiB pages work too */
#endif
	memset(p, 0, bytes);
	return p;
}

/* CABIN_EMU_JIT_HOT=N (1..EMU_JIT_HOT): translate a block when it starts for the Nth time */
static uint16_t jit_hot0(void)
{
	const char *e = getenv("CABIN_EMU_JIT_HOT");
	long n = e ? strtol(e, NULL, 10) : 0;

	if (n < 1 || n > EMU_JIT_HOT)
		return 0;
	return (uint16_t)(EMU_JIT_HOT - n);
}

struct emu_cpu *emu_cpu_new(struct machine *m, struct emu_vm *vm, unsigned int index)
{
	struct emu_cpu *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->blocks = alloc_huge((size_t)BLOCK_CACHE * sizeof(struct emu_block));
	c->insns = alloc_huge((size_t)EMU_INSN_ARENA * sizeof(struct emu_insn));
	if (!c->blocks || !c->insns) {
		free(c->blocks);
		free(c->insns);
		free(c);
		return NULL;
	}
	for (unsigned int i = 0; i < BLOCK_CACHE; i++)
		c->blocks[i].key = ~0ULL;
	c->jit = emu_jit_new(c);
	c->jit_hot0 = jit_hot0();
	c->m = m;
	c->vm = vm;
	c->index = index;
	c->sipi_vector = -1;
	c->tlb_nlog = TLB_LOG + 1; /* the reset's flush sweeps every (zeroed) slot */
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	emu_cpu_reset(c);
	return c;
}

void emu_cpu_free(struct emu_cpu *c)
{
	if (!c)
		return;
	if (getenv("CABIN_EMU_STATS"))
		fprintf(stderr,
			"emu cpu %u: %llu instructions, %lu blocks started by the run loop, %lu "
			"decoded, %lu translated, %lu exits linked; instruction arena full %lu "
			"times, code cache flushed %lu times\n",
			c->index, (unsigned long long)c->icount, c->stat_lookups, c->stat_decodes,
			c->stat_jits, c->stat_links, c->insn_flushes, emu_jit_flushes(c->jit));
	emu_jit_free(c->jit);
	free(c->blocks);
	free(c->insns);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c);
}

static int emu_probe(char *why, size_t whylen)
{
	snprintf(why, whylen, "software emulation");
	return 0;
}

static int emu_vm_init(struct machine *m, struct cabin_err **err)
{
	struct emu_vm *vm = emu_vm_new(m);

	if (!vm)
		return cabin_err_make(err, ENOMEM, "emulator: allocate VM state");
	clock_gettime(CLOCK_MONOTONIC, &vm->t_start);
	{
		const char *t = getenv("CABIN_EMU_TRACE");

		vm->trace_exc = t && strstr(t, "exc") ? 200 : 0;
	}
	m->accel_priv = vm;
	return 0;
}

/*
 * CABIN_EMU_STATS=1 prints, when the VM ends, how many guest instructions ran
 * and how fast (bench/emu.sh reads this line).
 */
static void print_stats(struct emu_vm *vm)
{
	struct timespec t;
	double s;
	const char *e = getenv("CABIN_EMU_STATS");

	if (!e || !*e || !strcmp(e, "0"))
		return;
	clock_gettime(CLOCK_MONOTONIC, &t);
	s = (double)(t.tv_sec - vm->t_start.tv_sec) +
	    (double)(t.tv_nsec - vm->t_start.tv_nsec) / 1e9;
	fprintf(stderr, "emu: %llu instructions in %.3f s, %.1f MIPS\n",
		(unsigned long long)vm->total_insns, s,
		s > 0 ? (double)vm->total_insns / s / 1e6 : 0.0);
}

static void emu_vm_fini(struct machine *m)
{
	if (m->accel_priv)
		print_stats(m->accel_priv);
	emu_vm_free(m->accel_priv);
	m->accel_priv = NULL;
}

static int emu_vcpu_init(struct machine *m, unsigned int index, struct cabin_err **err)
{
	struct vcpu *v;
	struct emu_cpu *c;

	if (index >= MACHINE_MAX_VCPUS)
		return cabin_err_make(err, EINVAL, "emulator: vcpu index `%u`", index);
	v = calloc(1, sizeof(*v));
	if (!v)
		return cabin_err_make(err, ENOMEM, "emulator: allocate vcpu `%u`", index);
	c = emu_cpu_new(m, m->accel_priv, index);
	if (!c) {
		free(v);
		return cabin_err_make(err, ENOMEM, "emulator: allocate vcpu `%u`", index);
	}
	v->m = m;
	v->index = index;
	v->accel = c;
	m->vcpus[index] = v;
	return 0;
}

static void emu_vcpu_fini(struct vcpu *v)
{
	if (!v)
		return;
	if (v->m && v->index < MACHINE_MAX_VCPUS && v->m->vcpus[v->index] == v)
		v->m->vcpus[v->index] = NULL;
	emu_cpu_free(v->accel);
	free(v);
}

/* ---- run loop ---- */

/* Called with c->lock held. A SIPI latched after the INIT stays for take_events(). */
static void do_init(struct emu_cpu *c)
{
	/* as KVM: the BSP restarts at the reset vector, APs wait for a STARTUP IPI */
	emu_cpu_reset(c);
	c->state = c->index == 0 ? EMU_RUNNING : EMU_WAIT_SIPI;
}

/* Called with c->lock held: start in real mode at vector << 12 (CS = vector << 8, IP = 0). */
static void do_sipi(struct emu_cpu *c, int vector)
{
	c->state = EMU_RUNNING;
	c->seg[SEG_CS].selector = (uint16_t)(vector << 8);
	c->seg[SEG_CS].base = (uint64_t)vector << 12;
	c->rip = 0;
	c->intr_hint = 1; /* interrupts latched while it waited are polled once it runs */
	emu_update_mode(c);
}

/*
 * Take a latched INIT, then a latched SIPI, as KVM's kvm_apic_accept_events:
 * INIT resets into wait-for-SIPI (the BSP into the reset vector); a SIPI starts
 * the CPU only from wait-for-SIPI and is dropped otherwise. A SIPI is not taken
 * while another INIT waits: INIT, INIT, SIPI must end with the CPU running.
 * Both transitions happen under c->lock, so cpu_quiescent() on another thread
 * never sees the CPU between "SIPI consumed" and "running".
 */
static void take_events(struct emu_cpu *c)
{
	pthread_mutex_lock(&c->lock);
	if (c->init_pending) {
		c->init_pending = 0;
		do_init(c);
	}
	if (!c->init_pending && c->sipi_vector >= 0) {
		int vec = c->sipi_vector;

		c->sipi_vector = -1;
		if (c->state == EMU_WAIT_SIPI)
			do_sipi(c, vec);
	}
	pthread_mutex_unlock(&c->lock);
}

static void advance_clock(struct emu_cpu *c)
{
	uint64_t n = c->icount - c->icount_base;

	if (n || c->stall) {
		__atomic_fetch_add(&c->vm->vclock_ns, n * EMU_NS_PER_INSN + c->stall,
				   __ATOMIC_RELAXED);
		__atomic_fetch_add(&c->vm->total_insns, n, __ATOMIC_RELAXED);
		c->icount_base = c->icount;
		c->stall = 0;
	}
}

static void run_timers(struct emu_cpu *c)
{
	uint64_t now = emu_now(c->vm);

	pthread_mutex_lock(&c->vm->lock);
	emu_pit_advance(c->vm, now);
	pthread_mutex_unlock(&c->vm->lock);
	emu_lapic_timer(c, now);
}

static uint64_t next_deadline(struct emu_cpu *c)
{
	uint64_t d = emu_lapic_next_deadline(c), p;

	if (c->index == 0) {
		pthread_mutex_lock(&c->vm->lock);
		p = emu_pit_next_deadline(c->vm);
		pthread_mutex_unlock(&c->vm->lock);
		if (p && (!d || p < d))
			d = p;
	}
	return d;
}

/* move the virtual clock forward to @t (an idle CPU skips to its next timer) */
static void clock_skip_to(struct emu_vm *vm, uint64_t t)
{
	uint64_t cur = emu_now(vm);

	while (cur < t && !__atomic_compare_exchange_n(&vm->vclock_ns, &cur, t, 0, __ATOMIC_RELAXED,
						       __ATOMIC_RELAXED))
		;
}

/*
 * The virtual clock may jump to an idle CPU's next timer only when no other CPU
 * can run: otherwise a CPU sleeping on a timeout would see it expire before the
 * others (other host threads) had a chance to make progress.
 */
static int others_idle(struct emu_cpu *c)
{
	struct machine *m = c->m;

	for (unsigned int i = 0; i < m->nr_vcpus; i++) {
		struct emu_cpu *o = m->vcpus[i] ? m->vcpus[i]->accel : NULL;

		if (!o || o == c)
			continue;
		if (o->init_pending || o->sipi_vector >= 0)
			return 0;
		if (o->state == EMU_RUNNING)
			return 0;
		if (o->state == EMU_HALTED && o->intr_hint)
			return 0;
	}
	return 1;
}

/*
 * Can @o run again only through INIT, SIPI or NMI? That is: it waits for a
 * SIPI or is halted with interrupts off, and none of those events is latched.
 */
static int cpu_quiescent(struct emu_cpu *o)
{
	int q;

	pthread_mutex_lock(&o->lock);
	if (o->init_pending || o->sipi_vector >= 0 || o->nmi_pending)
		q = 0;
	else if (o->state == EMU_WAIT_SIPI)
		q = 1;
	else
		q = o->state == EMU_HALTED && !(o->flags & FL_IF);
	pthread_mutex_unlock(&o->lock);
	return q;
}

static int others_quiescent(struct emu_cpu *c)
{
	struct machine *m = c->m;

	for (unsigned int i = 0; i < m->nr_vcpus; i++) {
		struct emu_cpu *o = m->vcpus[i] ? m->vcpus[i]->accel : NULL;

		if (o && o != c && !cpu_quiescent(o))
			return 0;
	}
	return 1;
}

static void wait_event(struct emu_cpu *c, int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long)ms * 1000000L;
	while (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->lock);
	if (!c->kick && !c->init_pending && c->sipi_vector < 0 && !c->intr_hint && !c->m->stopping)
		pthread_cond_timedwait(&c->cond, &c->lock, &ts);
	pthread_mutex_unlock(&c->lock);
}

/*
 * This CPU waits for a SIPI or is halted with interrupts off. Report that as
 * ACCEL_EXIT_HLT with IF clear, as KVM's path does for the HALTED and
 * wait-for-SIPI MP states, so vm_vcpu_loop() counts it idle and ends the guest
 * once every vCPU is. vm_vcpu_loop() marks a vCPU busy again only at its next
 * I/O or MMIO exit, so a CPU just started by a SIPI would still count as idle
 * there: report only when every other CPU is quiescent too, else the guest
 * could end between a SIPI and the started CPU's first instruction. Between
 * two reports wait IDLE_POLL_MS (or until an event) instead of spinning.
 * Returns 1 when @exit is filled.
 */
static int idle_exit(struct emu_cpu *c, struct accel_exit *exit)
{
	if (!c->idle_reported && others_quiescent(c)) {
		c->idle_reported = 1;
		exit->reason = ACCEL_EXIT_HLT;
		return 1;
	}
	c->idle_reported = 0;
	wait_event(c, IDLE_POLL_MS);
	return 0;
}

static int emu_vcpu_run(struct vcpu *v, struct accel_exit *exit)
{
	struct emu_cpu *c = v->accel;

	c->exit = exit;
	if (c->io.pending)
		c->io.have_data = 1; /* the machine filled io_buf for the replay */
	c->exit_ready = 0;
	for (;;) {
		uint64_t dl, now;

		if (__atomic_exchange_n(&c->kick, 0, __ATOMIC_SEQ_CST) || c->m->stopping) {
			exit->reason = ACCEL_EXIT_INTR;
			return 0;
		}
		take_events(c);
		if (c->state == EMU_WAIT_SIPI) {
			c->intr_hint = 0; /* interrupts stay latched; only INIT/SIPI wake it */
			if (idle_exit(c, exit))
				return 0;
			continue;
		}
		run_timers(c);
		if (c->state == EMU_HALTED) {
			/* clear the hint first: a device raising a line from now on sets it again
			 */
			c->intr_hint = 0;
			int ready = intr_ready(c);

			if (ready) {
				if ((c->flags & FL_IF) || ready == 2) {
					c->state = EMU_RUNNING;
					c->intr_hint = 1;
					/* leaving the halt takes time (cycle model, emu.h) */
					c->stall += EMU_CYC_HLT_WAKE;
					advance_clock(c);
				}
			}
			if (c->state == EMU_HALTED) {
				if (!(c->flags & FL_IF)) {
					/* stays halted: only INIT (or NMI) ends this */
					if (idle_exit(c, exit))
						return 0;
					continue;
				}
				dl = next_deadline(c);
				if (dl && others_idle(c)) {
					/* idle: jump the virtual clock to the next timer event */
					clock_skip_to(c->vm, dl);
					continue;
				}
				/* other CPUs run: they advance the clock; re-check it every ms */
				wait_event(c, dl ? 1 : 50);
				continue;
			}
		}
		now = emu_now(c->vm);
		dl = next_deadline(c);
		c->budget = RUN_BATCH;
		if (dl && dl > now && (dl - now) / EMU_NS_PER_INSN < c->budget)
			c->budget = (dl - now) / EMU_NS_PER_INSN + 1;
		c->icount_base = c->icount;
		c->idle_reported = 0;
		emu_exec(c);
		advance_clock(c);
		if (c->exit_ready)
			return 0;
	}
}

static void emu_vcpu_kick(struct vcpu *v)
{
	struct emu_cpu *c = v->accel;

	__atomic_store_n(&c->kick, 1, __ATOMIC_SEQ_CST);
	emu_cpu_wake(c);
}

static int emu_irq_line(struct machine *m, unsigned int gsi, int level)
{
	struct emu_vm *vm = m->accel_priv;

	if (!vm || gsi >= 24)
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	/* as KVM's default routing: GSI n drives PIC pin n (n < 16) and IOAPIC pin n (0 -> 2) */
	if (gsi < 16)
		emu_pic_set_irq(vm, gsi, level);
	emu_ioapic_set_irq(vm, gsi == 0 ? 2 : gsi, level);
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

/*
 * A message-signalled interrupt in the compatibility format, from a device or an
 * IOMMU on any thread: the local APICs take it as the IOAPIC's messages, with no
 * irqchip lock (deliver_to() locks each target CPU).
 */
static int emu_msi(struct machine *m, uint64_t addr, uint32_t data)
{
	struct emu_vm *vm = m->accel_priv;

	if (!vm || (addr >> 20) != 0xfee)
		return -EINVAL;
	emu_deliver_msi(vm, (uint32_t)(addr >> 12) & 0xff, (int)(data & 0xff),
			(int)((data >> 8) & 7), (int)((addr >> 2) & 1), (int)((data >> 15) & 1));
	return 0;
}

/* ---- registers ---- */

static int emu_get_regs(struct vcpu *v, struct x86_regs *r)
{
	struct emu_cpu *c = v->accel;

	r->rax = c->r[0];
	r->rcx = c->r[1];
	r->rdx = c->r[2];
	r->rbx = c->r[3];
	r->rsp = c->r[4];
	r->rbp = c->r[5];
	r->rsi = c->r[6];
	r->rdi = c->r[7];
	r->r8 = c->r[8];
	r->r9 = c->r[9];
	r->r10 = c->r[10];
	r->r11 = c->r[11];
	r->r12 = c->r[12];
	r->r13 = c->r[13];
	r->r14 = c->r[14];
	r->r15 = c->r[15];
	r->rip = c->rip;
	r->rflags = emu_flags_get(c) | 2;
	return 0;
}

static int emu_set_regs(struct vcpu *v, const struct x86_regs *r)
{
	struct emu_cpu *c = v->accel;

	c->r[0] = r->rax;
	c->r[1] = r->rcx;
	c->r[2] = r->rdx;
	c->r[3] = r->rbx;
	c->r[4] = r->rsp;
	c->r[5] = r->rbp;
	c->r[6] = r->rsi;
	c->r[7] = r->rdi;
	c->r[8] = r->r8;
	c->r[9] = r->r9;
	c->r[10] = r->r10;
	c->r[11] = r->r11;
	c->r[12] = r->r12;
	c->r[13] = r->r13;
	c->r[14] = r->r14;
	c->r[15] = r->r15;
	c->rip = r->rip;
	emu_flags_set(c, r->rflags | 2);
	emu_update_mode(c);
	return 0;
}

static int emu_get_fpu(struct vcpu *v, struct x86_fpu *f)
{
	emu_fpu_get(v->accel, f);
	return 0;
}

static int emu_set_fpu(struct vcpu *v, const struct x86_fpu *f)
{
	return emu_fpu_set(v->accel, f);
}

static int emu_get_sregs(struct vcpu *v, struct x86_sregs *s)
{
	struct emu_cpu *c = v->accel;

	s->es = c->seg[SEG_ES];
	s->cs = c->seg[SEG_CS];
	s->ss = c->seg[SEG_SS];
	s->ds = c->seg[SEG_DS];
	s->fs = c->seg[SEG_FS];
	s->gs = c->seg[SEG_GS];
	s->tr = c->seg[SEG_TR];
	s->ldt = c->seg[SEG_LDT];
	s->gdt = c->gdt;
	s->idt = c->idt;
	s->cr0 = c->cr0;
	s->cr2 = c->cr2;
	s->cr3 = c->cr3;
	s->cr4 = c->cr4;
	s->cr8 = c->cr8;
	s->efer = c->efer;
	s->apic_base = c->apic_base;
	return 0;
}

static int emu_set_sregs(struct vcpu *v, const struct x86_sregs *s)
{
	struct emu_cpu *c = v->accel;

	c->seg[SEG_ES] = s->es;
	c->seg[SEG_CS] = s->cs;
	c->seg[SEG_SS] = s->ss;
	c->seg[SEG_DS] = s->ds;
	c->seg[SEG_FS] = s->fs;
	c->seg[SEG_GS] = s->gs;
	c->seg[SEG_TR] = s->tr;
	c->seg[SEG_LDT] = s->ldt;
	c->gdt = s->gdt;
	c->idt = s->idt;
	c->cr0 = s->cr0 | CR0_ET;
	c->cr2 = s->cr2;
	c->cr3 = s->cr3;
	c->cr4 = s->cr4;
	c->cr8 = s->cr8;
	c->lapic.tpr = (uint32_t)(s->cr8 << 4);
	c->efer = s->efer;
	if (s->apic_base)
		c->apic_base = s->apic_base;
	if (!(c->cr0 & CR0_PE))
		c->cpl = 0;
	else if (c->flags & FL_VM)
		c->cpl = 3;
	else
		c->cpl = s->ss.dpl;
	emu_tlb_flush(c, 0);
	emu_update_mode(c);
	if (c->index != 0 && c->state == EMU_WAIT_SIPI)
		c->state = EMU_RUNNING; /* boot code set this CPU up directly */
	return 0;
}

static int emu_set_msrs(struct vcpu *v, const uint32_t *idx, const uint64_t *val, unsigned int n)
{
	struct emu_cpu *c = v->accel;
	unsigned int i;

	for (i = 0; i < n; i++)
		if (emu_write_msr(c, idx[i], val[i]))
			break;
	return (int)i;
}

/* A device wrote guest RAM: what was decoded from those pages is stale (see virtq_push). */
static void emu_mem_written(struct machine *m, uint64_t gpa, uint64_t len)
{
	struct emu_vm *vm = m->accel_priv;

	while (vm && len) {
		unsigned int n = len > (1u << 30) ? 1u << 30 : (unsigned int)len;

		emu_code_write(vm, gpa, n);
		gpa += n;
		len -= n;
	}
}

const struct accel_ops emu_accel_ops = {
	.name = "emu",
	.kind = ACCEL_EMU,
	.probe = emu_probe,
	.vm_init = emu_vm_init,
	.vm_fini = emu_vm_fini,
	.vcpu_init = emu_vcpu_init,
	.vcpu_fini = emu_vcpu_fini,
	.vcpu_run = emu_vcpu_run,
	.get_regs = emu_get_regs,
	.set_regs = emu_set_regs,
	.get_sregs = emu_get_sregs,
	.get_fpu = emu_get_fpu,
	.set_fpu = emu_set_fpu,
	.set_sregs = emu_set_sregs,
	.set_msrs = emu_set_msrs,
	.irq_line = emu_irq_line,
	.msi = emu_msi,
	.vcpu_kick = emu_vcpu_kick,
	.ioeventfd = NULL,
	.irqfd = NULL,
	.mem_written = emu_mem_written,
};
