/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Local APIC (per vCPU, MMIO at APIC_BASE) and IOAPIC (MMIO 0xFEC00000),
 * modelled on what KVM's in-kernel irqchip shows a guest: xAPIC registers,
 * a timer on a 1 GHz bus clock (the VM's virtual nanoseconds) with one-shot,
 * periodic and TSC-deadline modes, EOI with
 * level-triggered IOAPIC acknowledgement, and ICR IPIs including INIT and
 * STARTUP so secondary CPUs can be started.
 */
#include <string.h>

#include "emu/emu.h"
#include "vm/machine.h"

#define LVT_TIMER 1
#define LVT_LINT0 4
#define LVT_LINT1 5
#define LVT_ERROR 6
#define LVT_MASKED 0x10000u
/* LVT timer mode (bits 18:17) */
#define TIMER_PERIODIC 1u
#define TIMER_TSCDL 2u

static unsigned int timer_mode(const struct emu_lapic *l)
{
	return (l->lvt[LVT_TIMER] >> 17) & 3;
}

static struct emu_cpu *cpu_of(struct emu_vm *vm, unsigned int i)
{
	return vm->m->vcpus[i] ? vm->m->vcpus[i]->accel : NULL;
}

void emu_lapic_reset(struct emu_cpu *c)
{
	struct emu_lapic *l = &c->lapic;

	memset(l, 0, sizeof(*l));
	l->id = c->index;
	l->dfr = 0xffffffffu;
	l->svr = 0xff;
	for (int i = 0; i < 7; i++)
		l->lvt[i] = LVT_MASKED;
	/* KVM re-enables LINT0 as ExtINT on the BSP so the PIC works out of reset */
	if (c->index == 0)
		l->lvt[LVT_LINT0] = 0x700;
}

static int apic_hw_enabled(const struct emu_cpu *c)
{
	return (c->apic_base & 0x800) != 0;
}

static int x2apic_mode(const struct emu_cpu *c)
{
	return (c->apic_base & 0xc00) == 0xc00;
}

static int apic_sw_enabled(const struct emu_cpu *c)
{
	return apic_hw_enabled(c) && (c->lapic.svr & 0x100);
}

static int highest(const uint32_t *v)
{
	for (int i = 7; i >= 0; i--)
		if (v[i])
			return i * 32 + 31 - __builtin_clz(v[i]);
	return -1;
}

static uint32_t ppr(const struct emu_lapic *l)
{
	int isrv = highest(l->isr);
	uint32_t isr = isrv < 0 ? 0 : (uint32_t)isrv;

	if ((l->tpr & 0xf0) >= (isr & 0xf0))
		return l->tpr & 0xff;
	return isr & 0xf0;
}

int emu_lapic_pending(struct emu_cpu *c)
{
	int v;

	if (!apic_hw_enabled(c))
		return -1;
	pthread_mutex_lock(&c->lock);
	v = highest(c->lapic.irr);
	if (v >= 0 && (uint32_t)(v & 0xf0) <= (ppr(&c->lapic) & 0xf0))
		v = -1;
	pthread_mutex_unlock(&c->lock);
	return v;
}

void emu_lapic_ack(struct emu_cpu *c, int vector)
{
	pthread_mutex_lock(&c->lock);
	c->lapic.irr[vector >> 5] &= ~(1u << (vector & 31));
	c->lapic.isr[vector >> 5] |= 1u << (vector & 31);
	pthread_mutex_unlock(&c->lock);
}

void emu_lapic_set_irq(struct emu_cpu *c, int vector, int level_trig)
{
	if (vector < 16 || !apic_sw_enabled(c))
		return;
	pthread_mutex_lock(&c->lock);
	c->lapic.irr[vector >> 5] |= 1u << (vector & 31);
	if (level_trig)
		c->lapic.tmr[vector >> 5] |= 1u << (vector & 31);
	else
		c->lapic.tmr[vector >> 5] &= ~(1u << (vector & 31));
	c->intr_hint = 1;
	pthread_mutex_unlock(&c->lock);
	emu_cpu_wake(c);
}

int emu_lapic_accept_pic(struct emu_cpu *c)
{
	uint32_t lvt0 = c->lapic.lvt[LVT_LINT0];

	if (c->index != 0)
		return 0;
	if (!apic_hw_enabled(c))
		return 1;
	return !(lvt0 & LVT_MASKED) && ((lvt0 >> 8) & 7) == 7;
}

static uint32_t timer_div(const struct emu_lapic *l)
{
	uint32_t v = (l->timer_div & 3) | ((l->timer_div & 8) >> 1);

	return v == 7 ? 1 : 2u << v;
}

static void timer_start(struct emu_cpu *c, uint64_t now)
{
	struct emu_lapic *l = &c->lapic;

	/* in TSC-deadline mode the initial count is ignored (SDM vol. 3 11.5.4.1) */
	if (timer_mode(l) == TIMER_TSCDL)
		return;
	l->timer_start = now;
	if (l->timer_init == 0)
		l->timer_deadline = 0;
	else
		l->timer_deadline = now + (uint64_t)l->timer_init * timer_div(l);
}

void emu_lapic_timer(struct emu_cpu *c, uint64_t now)
{
	struct emu_lapic *l = &c->lapic;
	uint32_t lvt = l->lvt[LVT_TIMER];

	if (!l->timer_deadline || now < l->timer_deadline)
		return;
	if (!(lvt & LVT_MASKED))
		emu_lapic_set_irq(c, (int)(lvt & 0xff), 0);
	if (((lvt >> 17) & 3) == TIMER_PERIODIC) {
		uint64_t period = (uint64_t)l->timer_init * timer_div(l);

		l->timer_start = l->timer_deadline;
		l->timer_deadline += period;
		if (l->timer_deadline <= now)
			l->timer_deadline = now + period - (now - l->timer_deadline) % period;
	} else {
		/* one-shot; a TSC deadline disarms itself and its MSR reads 0 again */
		l->timer_deadline = 0;
		l->tsc_deadline = 0;
	}
}

/* the virtual time at which the TSC of @c reaches @tsc (now if it has) */
static uint64_t tsc_to_ns(struct emu_cpu *c, uint64_t tsc, uint64_t now)
{
	uint64_t khz = EMU_TSC_KHZ / 1000000ULL, t;

	if (tsc <= c->tsc_offset)
		return now;
	t = tsc - c->tsc_offset;
	t = t / khz + (t % khz != 0);
	return t > now ? t : now;
}

/*
 * Arm the timer for the TSC deadline in l->tsc_deadline (0: disarmed). A deadline
 * already reached fires at once, so its interrupt is taken right after the WRMSR
 * (WRMSR ends the decoded block); a later one shorter than the current run batch
 * kicks the run loop, which then cuts the batch at the deadline.
 */
static void tscdl_arm(struct emu_cpu *c)
{
	struct emu_lapic *l = &c->lapic;
	uint64_t now = emu_cpu_now(c);

	if (!l->tsc_deadline) {
		l->timer_deadline = 0;
		return;
	}
	l->timer_deadline = tsc_to_ns(c, l->tsc_deadline, now);
	if (l->timer_deadline <= now) {
		emu_lapic_timer(c, now);
		c->stop_block = 1;
	} else if ((l->timer_deadline - now) / EMU_NS_PER_INSN < c->budget) {
		__atomic_store_n(&c->kick, 1, __ATOMIC_SEQ_CST);
	}
}

uint64_t emu_lapic_tscdl_read(struct emu_cpu *c)
{
	/* outside TSC-deadline mode the MSR reads 0 and ignores writes */
	return timer_mode(&c->lapic) == TIMER_TSCDL ? c->lapic.tsc_deadline : 0;
}

void emu_lapic_tscdl_write(struct emu_cpu *c, uint64_t val)
{
	if (timer_mode(&c->lapic) != TIMER_TSCDL)
		return;
	c->lapic.tsc_deadline = val;
	tscdl_arm(c);
}

void emu_lapic_tsc_changed(struct emu_cpu *c)
{
	if (timer_mode(&c->lapic) == TIMER_TSCDL && c->lapic.tsc_deadline)
		tscdl_arm(c);
}

uint64_t emu_lapic_next_deadline(struct emu_cpu *c)
{
	return c->lapic.timer_deadline;
}

/*
 * Does @t accept a message for @dest? @x2: the message has a 32-bit x2APIC
 * destination (ICR of a CPU in x2APIC mode), else an 8-bit xAPIC one (ICR in xAPIC
 * mode, MSI, IOAPIC). A target in x2APIC mode has a 32-bit ID and a logical ID of
 * cluster (bits 31:16) and member bitmap (15:0).
 */
static int apic_match(struct emu_cpu *t, uint32_t dest, int logical, int x2)
{
	uint32_t bcast = x2 ? 0xffffffffu : 0xffu;

	if (dest == bcast)
		return 1;
	if (x2apic_mode(t)) {
		if (!logical)
			return dest == t->lapic.id;
		return (t->lapic.ldr >> 16) == (dest >> 16) && (t->lapic.ldr & dest & 0xffff);
	}
	if (x2 && dest > 0xff)
		return 0;
	if (!logical)
		return dest == t->lapic.id;
	if ((t->lapic.dfr >> 28) == 0xf) /* flat */
		return ((t->lapic.ldr >> 24) & dest) != 0;
	/* cluster */
	return ((t->lapic.ldr >> 28) == (dest >> 4)) && ((t->lapic.ldr >> 24) & dest & 0xf);
}

/*
 * INIT and SIPI are latched here and taken by the target's own thread, in the
 * order they were sent (as KVM's pending_events): an INIT drops any SIPI sent
 * before it, since that SIPI would have found the CPU about to be reset anyway.
 */
static void send_init(struct emu_cpu *t)
{
	pthread_mutex_lock(&t->lock);
	t->init_pending = 1;
	t->sipi_vector = -1;
	pthread_mutex_unlock(&t->lock);
	emu_cpu_wake(t);
}

/*
 * A SIPI is latched whatever the target's state: an INIT sent just before it
 * may not have been taken yet, and the target decides when it takes the SIPI
 * (it starts only from wait-for-SIPI). The first one wins, as on hardware the
 * second SIPI of the MP sequence finds the AP already running.
 */
static void send_sipi(struct emu_cpu *t, int vector)
{
	pthread_mutex_lock(&t->lock);
	if (t->sipi_vector < 0)
		t->sipi_vector = vector;
	pthread_mutex_unlock(&t->lock);
	emu_cpu_wake(t);
}

static void deliver_to(struct emu_cpu *t, int mode, int vector, int level)
{
	switch (mode) {
	case 0:
	case 1:
		emu_lapic_set_irq(t, vector, level);
		break;
	case 5:
		send_init(t);
		break;
	case 6:
		send_sipi(t, vector);
		break;
	case 4:
		pthread_mutex_lock(&t->lock);
		t->nmi_pending = 1;
		t->intr_hint = 1;
		pthread_mutex_unlock(&t->lock);
		emu_cpu_wake(t);
		break;
	default: /* SMI, ExtINT */
		break;
	}
}

void emu_deliver_msi(struct emu_vm *vm, uint32_t dest, int vector, int mode, int logical,
		     int level_trig)
{
	for (unsigned int i = 0; i < vm->m->nr_vcpus; i++) {
		struct emu_cpu *t = cpu_of(vm, i);

		if (t && apic_match(t, dest, logical, 0)) {
			deliver_to(t, mode, vector, level_trig);
			if (mode == 1)
				break; /* lowest priority: the first match */
		}
	}
}

static void send_ipi(struct emu_cpu *c)
{
	struct emu_vm *vm = c->vm;
	int x2 = x2apic_mode(c);
	uint32_t lo = c->lapic.icr_lo, dest = x2 ? c->lapic.icr_hi : c->lapic.icr_hi >> 24;
	int mode = (int)((lo >> 8) & 7), vector = (int)(lo & 0xff), logical = (lo >> 11) & 1;
	int shorthand = (int)((lo >> 18) & 3);

	if (mode == 5 && !(lo & 0x4000) && (lo & 0x8000))
		return; /* INIT level de-assert */
	for (unsigned int i = 0; i < vm->m->nr_vcpus; i++) {
		struct emu_cpu *t = cpu_of(vm, i);
		int hit;

		if (!t)
			continue;
		switch (shorthand) {
		case 1:
			hit = t == c;
			break;
		case 2:
			hit = 1;
			break;
		case 3:
			hit = t != c;
			break;
		default:
			hit = apic_match(t, dest, logical, x2);
			break;
		}
		if (hit)
			deliver_to(t, mode, vector, 0);
	}
}

static void apic_eoi(struct emu_cpu *c)
{
	int v;
	int level;

	pthread_mutex_lock(&c->lock);
	v = highest(c->lapic.isr);
	level = 0;
	if (v >= 0) {
		c->lapic.isr[v >> 5] &= ~(1u << (v & 31));
		level = (c->lapic.tmr[v >> 5] >> (v & 31)) & 1;
	}
	c->intr_hint = 1;
	pthread_mutex_unlock(&c->lock);
	if (v >= 0 && level) {
		pthread_mutex_lock(&c->vm->lock);
		emu_ioapic_eoi(c->vm, v);
		pthread_mutex_unlock(&c->vm->lock);
	}
}

int emu_lapic_mmio(struct emu_cpu *c, uint64_t off, void *data, unsigned int len, int is_write)
{
	struct emu_lapic *l = &c->lapic;
	unsigned int reg = (unsigned int)(off & 0xff0);
	uint32_t v = 0;

	if (len != 4 || (off & 3)) {
		/* the xAPIC takes aligned 32-bit accesses; others read zero and are dropped */
		if (!is_write)
			memset(data, 0, len);
		return 0;
	}
	if (is_write) {
		memcpy(&v, data, 4);
		c->stop_block = 1; /* EOI, TPR, IPIs: let pending interrupts in promptly */
	}
	if (!is_write) {
		uint64_t now = emu_cpu_now(c);

		switch (reg) {
		case 0x20:
			v = l->id << 24;
			break;
		case 0x30:
			v = 0x50014;
			break; /* version 0x14, 6 LVT entries */
		case 0x80:
			v = l->tpr;
			break;
		case 0x90:
			v = 0;
			break;
		case 0xa0:
			pthread_mutex_lock(&c->lock);
			v = ppr(l);
			pthread_mutex_unlock(&c->lock);
			break;
		case 0xd0:
			v = l->ldr;
			break;
		case 0xe0:
			v = l->dfr;
			break;
		case 0xf0:
			v = l->svr;
			break;
		case 0x100 ... 0x170:
			v = l->isr[(reg - 0x100) >> 4];
			break;
		case 0x180 ... 0x1f0:
			v = l->tmr[(reg - 0x180) >> 4];
			break;
		case 0x200 ... 0x270:
			pthread_mutex_lock(&c->lock);
			v = l->irr[(reg - 0x200) >> 4];
			pthread_mutex_unlock(&c->lock);
			break;
		case 0x280:
			v = l->esr;
			break;
		case 0x300:
			v = l->icr_lo & ~0x1000u;
			break;
		case 0x310:
			v = l->icr_hi;
			break;
		case 0x2f0:
			v = l->lvt[0];
			break;
		case 0x320 ... 0x370:
			v = l->lvt[(reg - 0x310) >> 4];
			break;
		case 0x380:
			v = l->timer_init;
			break;
		case 0x390:
			if (timer_mode(l) == TIMER_TSCDL)
				v = 0; /* the current count reads 0 in TSC-deadline mode */
			else if (l->timer_deadline && now < l->timer_deadline)
				v = (uint32_t)((l->timer_deadline - now) / timer_div(l));
			else
				v = 0;
			break;
		case 0x3e0:
			v = l->timer_div;
			break;
		default:
			v = 0;
			break;
		}
		memcpy(data, &v, 4);
		return 0;
	}
	switch (reg) {
	case 0x20:
		l->id = v >> 24;
		break;
	case 0x80:
		l->tpr = v & 0xff;
		c->cr8 = (v >> 4) & 0xf;
		c->intr_hint = 1;
		break;
	case 0xb0:
		apic_eoi(c);
		break;
	case 0xd0:
		l->ldr = v & 0xff000000u;
		break;
	case 0xe0:
		l->dfr = v | 0x0fffffffu;
		break;
	case 0xf0:
		l->svr = v & 0x13ff;
		if (!(v & 0x100))
			for (int i = 0; i < 7; i++)
				l->lvt[i] |= LVT_MASKED;
		break;
	case 0x280:
		l->esr = 0;
		break;
	case 0x300:
		l->icr_lo = v & ~0x1000u;
		send_ipi(c);
		break;
	case 0x310:
		l->icr_hi = v & 0xff000000u;
		break;
	case 0x2f0:
	case 0x320 ... 0x370: {
		int i = reg == 0x2f0 ? 0 : (int)((reg - 0x310) >> 4);

		if (!(l->svr & 0x100))
			v |= LVT_MASKED;
		if (i == LVT_TIMER) {
			uint32_t old = l->lvt[i];

			/* mode 3 is reserved: it reads back as one-shot */
			if (((v >> 17) & 3) == 3)
				v &= ~(1u << 18);
			l->lvt[i] = v & 0x710ff;
			if (((old ^ v) >> 17) & 3) {
				l->timer_deadline = 0; /* a mode change disarms the timer */
				l->tsc_deadline = 0;
			}
		} else {
			l->lvt[i] = v & 0x1f7ff;
		}
		break;
	}
	case 0x380: {
		uint64_t now = emu_cpu_now(c);

		l->timer_init = v;
		timer_start(c, now);
		break;
	}
	case 0x3e0:
		l->timer_div = v & 0xb;
		break;
	default:
		break;
	}
	return 0;
}

/* ---- x2APIC: IA32_APIC_BASE and the MSRs 0x800-0x8ff ---- */

static uint32_t x2apic_ldr(uint32_t id)
{
	return ((id >> 4) << 16) | (1u << (id & 0xf));
}

int emu_lapic_set_base(struct emu_cpu *c, uint64_t val)
{
	uint64_t old = c->apic_base;
	int en = (val & 0x800) != 0, x2 = (val & 0x400) != 0;
	int oen = (old & 0x800) != 0, ox2 = (old & 0x400) != 0;

	/* bits 0-7 and 9 and those above MAXPHYADDR are reserved; BSP is read-only */
	if ((val & 0x2ffULL) || (val >> 40))
		return -1;
	/*
	 * Mode transitions (SDM vol. 3 10.12.5): EXTD without EN is invalid; x2APIC
	 * goes back to xAPIC only through disabled; disabled goes to x2APIC only
	 * through xAPIC.
	 */
	if ((x2 && !en) || (oen && ox2 && en && !x2) || (!oen && en && x2))
		return -1;
	c->apic_base = (val & ~0x1ffULL) | (c->index == 0 ? 0x100 : 0);
	if (oen && !en) {
		/* a disabled local APIC loses its state; CR8 stays, and the TPR with it */
		emu_lapic_reset(c);
		c->lapic.tpr = (uint32_t)(c->cr8 << 4);
	}
	if (!oen && en)
		c->lapic.id = c->index; /* the xAPIC ID starts over from the initial one */
	if (!ox2 && x2) {
		c->lapic.id = c->index; /* x2APIC ID: read-only, the initial APIC ID */
		c->lapic.ldr = x2apic_ldr(c->index);
	}
	c->intr_hint = 1;
	return 0;
}

int emu_lapic_msr_read(struct emu_cpu *c, uint32_t msr, uint64_t *val)
{
	unsigned int reg = (msr - 0x800) << 4;
	uint32_t v = 0;

	if (msr < 0x800 || msr > 0x8ff || !x2apic_mode(c))
		return -1;
	switch (reg) {
	case 0x20:	      /* ID */
	case 0x30:	      /* version */
	case 0x80:	      /* TPR */
	case 0xa0:	      /* PPR */
	case 0xd0:	      /* LDR */
	case 0xf0:	      /* SVR */
	case 0x100 ... 0x270: /* ISR TMR IRR */
	case 0x280:	      /* ESR */
	case 0x320 ... 0x370: /* LVTs; no CMCI (0x82f): the version says 6 entries */
	case 0x380:
	case 0x390:
	case 0x3e0: /* timer */
		emu_lapic_mmio(c, reg, &v, 4, 0);
		if (reg == 0x20)
			v = c->lapic.id; /* 32 bits, not shifted */
		*val = v;
		return 0;
	case 0x300: /* ICR: one 64-bit register */
		*val = ((uint64_t)c->lapic.icr_hi << 32) | (c->lapic.icr_lo & ~0x1000u);
		return 0;
	default: /* EOI and SELF IPI are write-only; DFR, APR, RRD and ICR2 are gone */
		return -1;
	}
}

int emu_lapic_msr_write(struct emu_cpu *c, uint32_t msr, uint64_t val)
{
	unsigned int reg = (msr - 0x800) << 4;
	uint32_t v = (uint32_t)val;

	if (msr < 0x800 || msr > 0x8ff || !x2apic_mode(c))
		return -1;
	if (reg != 0x300 && (val >> 32))
		return -1;
	switch (reg) {
	case 0x80: /* TPR */
	case 0xf0: /* SVR */
	case 0x320 ... 0x370:
	case 0x380:
	case 0x3e0:
		emu_lapic_mmio(c, reg, &v, 4, 1);
		return 0;
	case 0xb0:  /* EOI */
	case 0x280: /* ESR */
		if (v)
			return -1;
		emu_lapic_mmio(c, reg, &v, 4, 1);
		return 0;
	case 0x300: /* ICR: destination in bits 63:32; delivery status is read-only */
		c->lapic.icr_hi = (uint32_t)(val >> 32);
		c->lapic.icr_lo = v & ~0x1000u;
		c->stop_block = 1;
		send_ipi(c);
		return 0;
	case 0x3f0: /* SELF IPI: a fixed, edge-triggered interrupt to this CPU */
		if (v & ~0xffu)
			return -1;
		c->stop_block = 1;
		emu_lapic_set_irq(c, (int)(v & 0xff), 0);
		return 0;
	default: /* read-only (ID, version, PPR, LDR, ISR/TMR/IRR, current count) or absent */
		return -1;
	}
}

/* ---- IOAPIC ---- */

static void ioapic_service(struct emu_vm *vm, unsigned int pin)
{
	struct emu_ioapic *io = &vm->ioapic;
	uint64_t e = io->redir[pin];
	int level = (e >> 15) & 1;

	int mode = (int)((e >> 8) & 7), vector = (int)(e & 0xff), logical = (e >> 11) & 1;
	uint32_t dest = (uint32_t)(e >> 56);

	if (e & 0x10000)
		return;
	if (level && (e & (1ULL << 14)))
		return; /* remote IRR: waiting for EOI */
	if ((e & (1ULL << 48)) && vm->m->iommu_intremap) {
		/*
		 * Remappable format (VT-d 5.1.5.1): bits 63:49 and 11 hold an index into
		 * the interrupt remapping table, which the IOMMU turns into the message
		 * to deliver. A blocked request leaves remote IRR clear.
		 */
		uint32_t index = (uint32_t)((e >> 49) & 0x7fff) | (uint32_t)((e >> 11) & 1) << 15;
		uint64_t addr = 0xfee00000ull | (uint64_t)(index & 0x7fff) << 5 | 1u << 4 |
				(uint64_t)(index >> 15) << 2;
		uint32_t data = 0;

		if (machine_msi_remap(vm->m, MACHINE_SID_NONE, &addr, &data) < 0)
			return;
		mode = (int)((data >> 8) & 7);
		vector = (int)(data & 0xff);
		logical = (int)((addr >> 2) & 1);
		dest = (uint32_t)(addr >> 12) & 0xff;
	}
	if (level)
		io->redir[pin] |= 1ULL << 14;
	{

		for (unsigned int i = 0; i < vm->m->nr_vcpus; i++) {
			struct emu_cpu *t = cpu_of(vm, i);

			if (t && apic_match(t, dest, logical, 0)) {
				if (mode == 7) {
					t->intr_hint = 1;
					emu_cpu_wake(t);
				} else {
					deliver_to(t, mode, vector, level);
				}
				if (mode == 1)
					break;
			}
		}
	}
}

void emu_ioapic_set_irq(struct emu_vm *vm, unsigned int pin, int level)
{
	struct emu_ioapic *io = &vm->ioapic;
	uint32_t bit = 1u << pin;
	uint64_t e;

	if (pin >= 24)
		return;
	e = io->redir[pin];
	if ((e >> 15) & 1) { /* level */
		if (level) {
			io->lines |= bit;
			io->irr |= bit;
			ioapic_service(vm, pin);
		} else {
			io->lines &= ~bit;
			io->irr &= ~bit;
		}
	} else {
		if (level && !(io->lines & bit))
			ioapic_service(vm, pin);
		if (level)
			io->lines |= bit;
		else
			io->lines &= ~bit;
	}
}

void emu_ioapic_eoi(struct emu_vm *vm, int vector)
{
	struct emu_ioapic *io = &vm->ioapic;

	for (unsigned int pin = 0; pin < 24; pin++) {
		if ((io->redir[pin] & 0xff) != (uint64_t)vector || !(io->redir[pin] & (1ULL << 14)))
			continue;
		io->redir[pin] &= ~(1ULL << 14);
		if (io->lines & (1u << pin))
			ioapic_service(vm, pin);
	}
}

int emu_ioapic_mmio(struct emu_vm *vm, uint64_t off, void *data, unsigned int len, int is_write)
{
	struct emu_ioapic *io = &vm->ioapic;
	uint32_t v = 0;

	if (len != 4) {
		if (!is_write)
			memset(data, 0, len);
		return 0;
	}
	if (is_write)
		memcpy(&v, data, 4);
	if (off == 0) {
		if (is_write)
			io->ioregsel = v & 0xff;
		else
			memcpy(data, &io->ioregsel, 4);
		return 0;
	}
	if (off != 0x10) {
		if (!is_write)
			memset(data, 0, 4);
		return 0;
	}
	if (!is_write) {
		uint32_t r = io->ioregsel;

		if (r == 0)
			v = io->id << 24;
		else if (r == 1)
			v = 0x170011; /* 24 entries, version 0x11 */
		else if (r == 2)
			v = io->id << 24; /* arbitration ID: loaded from the ID, read-only */
		else if (r >= 0x10 && r < 0x10 + 48)
			v = (uint32_t)(io->redir[(r - 0x10) / 2] >> ((r & 1) * 32));
		memcpy(data, &v, 4);
		return 0;
	}
	{
		uint32_t r = io->ioregsel;

		if (r == 0) {
			io->id = (v >> 24) & 0xf;
		} else if (r >= 0x10 && r < 0x10 + 48) {
			unsigned int pin = (r - 0x10) / 2;
			uint64_t e = io->redir[pin];

			if (r & 1)
				e = (e & 0xffffffffULL) | ((uint64_t)v << 32);
			else /* delivery status and remote IRR are read-only */
				e = (e & ~0xffffffffULL) | (e & (1ULL << 14)) |
				    (v & ~(uint32_t)((1u << 12) | (1u << 14)));
			io->redir[pin] = e;
			if ((io->lines & (1u << pin)) && ((e >> 15) & 1))
				ioapic_service(vm, pin);
		}
	}
	return 0;
}
