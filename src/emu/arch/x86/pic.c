/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The 8259A pair (master at 0x20, slave at 0xA0 cascaded on IRQ2) with the
 * ELCR edge/level registers at 0x4D0/0x4D1, and the 8254 PIT at 0x40-0x43
 * with the port 0x61 gate/speaker bits. The PIT counts on the VM's virtual
 * clock (a function of executed instructions), so a guest sees the same
 * timer behaviour on every run. Callers hold vm->lock.
 */
#include "emu/emu.h"
#include "vm/machine.h"

/* ---- 8259A ---- */

static int pic_prio(const struct emu_pic *p, uint8_t mask)
{
	if (!mask)
		return 8;
	for (int i = 0; i < 8; i++)
		if (mask & (1u << ((i + p->prio_add) & 7)))
			return i;
	return 8;
}

/* highest-priority requested IRQ that beats the in-service ones, or -1 */
static int pic_get_irq(const struct emu_pic *p, int is_master)
{
	uint8_t req = p->irr & ~p->imr, isr = p->isr;
	int pr, cur;

	pr = pic_prio(p, req);
	if (pr == 8)
		return -1;
	if (p->special_mask)
		isr &= ~p->imr;
	if (is_master && p->init4 & 0x10) /* special fully nested: slave in service doesn't block */
		isr &= ~(1u << 2);
	cur = pic_prio(p, isr);
	if (pr < cur)
		return (pr + p->prio_add) & 7;
	return -1;
}

static void pic_update(struct emu_vm *vm)
{
	/* the master's output reaches the BSP through LINT0 */
	if (pic_get_irq(&vm->pic[0], 1) >= 0) {
		struct emu_cpu *c = vm->m->vcpus[0] ? vm->m->vcpus[0]->accel : NULL;

		if (c) {
			c->intr_hint = 1;
			emu_cpu_wake(c);
		}
	}
}

static void pic_set(struct emu_pic *p, int irq, int level)
{
	uint8_t bit = (uint8_t)(1u << irq);

	if (p->elcr & bit) {
		if (level) {
			p->irr |= bit;
			p->lines |= bit;
		} else {
			p->irr &= (uint8_t)~bit;
			p->lines &= (uint8_t)~bit;
		}
	} else {
		if (level) {
			if (!(p->lines & bit))
				p->irr |= bit;
			p->lines |= bit;
		} else {
			p->lines &= (uint8_t)~bit;
		}
	}
}

void emu_pic_set_irq(struct emu_vm *vm, unsigned int irq, int level)
{
	if (irq >= 16)
		return;
	pic_set(&vm->pic[irq >> 3], (int)(irq & 7), level);
	if (irq >= 8) {
		/* reflect the slave's output on master IRQ2 as a level */
		pic_set(&vm->pic[0], 2, pic_get_irq(&vm->pic[1], 0) >= 0);
	}
	pic_update(vm);
}

int emu_pic_has_intr(struct emu_vm *vm)
{
	return pic_get_irq(&vm->pic[0], 1) >= 0;
}

static void pic_intack(struct emu_pic *p, int irq)
{
	if (p->auto_eoi) {
		if (p->rotate)
			p->prio_add = (uint8_t)((irq + 1) & 7);
	} else {
		p->isr |= (uint8_t)(1u << irq);
	}
	if (!(p->elcr & (1u << irq)))
		p->irr &= (uint8_t) ~(1u << irq);
}

int emu_pic_ack(struct emu_vm *vm)
{
	int irq = pic_get_irq(&vm->pic[0], 1), vec;

	if (irq < 0)
		return vm->pic[0].vector_base | 7; /* spurious */
	pic_intack(&vm->pic[0], irq);
	if (irq == 2) {
		int irq2 = pic_get_irq(&vm->pic[1], 0);

		if (irq2 >= 0)
			pic_intack(&vm->pic[1], irq2);
		else
			irq2 = 7;
		vec = vm->pic[1].vector_base + irq2;
		pic_set(&vm->pic[0], 2, pic_get_irq(&vm->pic[1], 0) >= 0);
	} else {
		vec = vm->pic[0].vector_base + irq;
	}
	return vec;
}

static void pic_reset(struct emu_pic *p)
{
	uint8_t elcr = p->elcr;

	*p = (struct emu_pic){ 0 };
	p->elcr = elcr;
}

static uint32_t pic_poll(struct emu_vm *vm, int slave)
{
	struct emu_pic *p = &vm->pic[slave];
	int irq = pic_get_irq(p, !slave);

	if (irq < 0)
		return 0;
	pic_intack(p, irq);
	return 0x80u | (uint32_t)irq;
}

int emu_pic_io(struct emu_vm *vm, uint16_t port, int is_write, uint32_t *val)
{
	int slave;
	struct emu_pic *p;
	uint8_t v = (uint8_t)*val;

	if (port == 0x4d0 || port == 0x4d1) {
		p = &vm->pic[port & 1];
		if (is_write)
			p->elcr = v & (port == 0x4d0 ? 0xf8 : 0xde);
		else
			*val = p->elcr;
		return 0;
	}
	slave = (port & 0x80) != 0;
	p = &vm->pic[slave];
	if (!is_write) {
		if (p->poll) {
			p->poll = 0;
			*val = pic_poll(vm, slave);
		} else if (port & 1) {
			*val = p->imr;
		} else {
			*val = p->read_isr ? p->isr : p->irr;
		}
		return 0;
	}
	if (!(port & 1)) {
		if (v & 0x10) { /* ICW1 */
			pic_reset(p);
			p->icw_step = 2;
			p->init4 = v & 1;
			p->single = (v & 2) != 0;
		} else if (v & 0x08) { /* OCW3 */
			if (v & 4)
				p->poll = 1;
			if (v & 2)
				p->read_isr = v & 1;
			if (v & 0x40)
				p->special_mask = (v >> 5) & 1;
		} else { /* OCW2 */
			int cmd = v >> 5, irq;

			switch (cmd) {
			case 0:
			case 4:
				p->rotate = cmd == 4;
				break;
			case 1:
			case 5: /* non-specific EOI */
				irq = pic_prio(p, p->isr);
				if (irq != 8) {
					irq = (irq + p->prio_add) & 7;
					p->isr &= (uint8_t) ~(1u << irq);
					if (cmd == 5)
						p->prio_add = (uint8_t)((irq + 1) & 7);
				}
				break;
			case 3:
			case 7: /* specific EOI */
				irq = v & 7;
				p->isr &= (uint8_t) ~(1u << irq);
				if (cmd == 7)
					p->prio_add = (uint8_t)((irq + 1) & 7);
				break;
			case 6:
				p->prio_add = (uint8_t)(((v & 7) + 1) & 7);
				break;
			default:
				break;
			}
		}
	} else {
		switch (p->icw_step) {
		case 0: /* OCW1 */
			p->imr = v;
			break;
		case 2:
			p->vector_base = v & 0xf8;
			p->icw_step = p->single ? (p->init4 ? 4 : 0) : 3;
			break;
		case 3:
			p->icw_step = p->init4 ? 4 : 0;
			break;
		case 4:
			p->auto_eoi = (v >> 1) & 1;
			p->init4 = (uint8_t)(1 | (v & 0x10));
			p->icw_step = 0;
			break;
		default:
			p->icw_step = 0;
			break;
		}
	}
	if (slave)
		pic_set(&vm->pic[0], 2, pic_get_irq(&vm->pic[1], 0) >= 0);
	pic_update(vm);
	return 0;
}

/* ---- 8254 ---- */

#define PIT_HZ 1193182ULL

static uint64_t pit_ticks(uint64_t ns)
{
	return (uint64_t)((unsigned __int128)ns * PIT_HZ / 1000000000ULL);
}

static uint64_t pit_ns(uint64_t ticks)
{
	return (uint64_t)(((unsigned __int128)ticks * 1000000000ULL + PIT_HZ - 1) / PIT_HZ);
}

static uint32_t pit_reload(const struct emu_pit_channel *ch)
{
	return ch->reload ? ch->reload : 0x10000;
}

/* current counter value */
static uint32_t pit_count(struct emu_vm *vm, int n, uint64_t now)
{
	struct emu_pit_channel *ch = &vm->pit[n];
	uint64_t t = pit_ticks(now - ch->start_ns);
	uint32_t r = pit_reload(ch);

	switch (ch->mode) {
	case 0:
	case 1:
	case 4:
	case 5:
		return (uint32_t)((r - t) & 0xffff);
	case 3: /* square wave counts down by two, twice per period */
		return (uint32_t)((r - (t * 2) % r) & 0xfffe);
	default:
		return (uint32_t)(r - t % r);
	}
}

static int pit_out(struct emu_vm *vm, int n, uint64_t now)
{
	struct emu_pit_channel *ch = &vm->pit[n];
	uint64_t t = pit_ticks(now - ch->start_ns);
	uint32_t r = pit_reload(ch);

	switch (ch->mode) {
	case 0:
		return t >= r;
	case 1:
		return t >= r;
	case 2:
		return (t % r) != r - 1;
	case 3:
		return (t % r) < (r + 1) / 2;
	case 4:
	case 5:
		return t != r;
	default:
		return 1;
	}
}

static void pit_arm(struct emu_vm *vm, uint64_t now)
{
	struct emu_pit_channel *ch = &vm->pit[0];
	uint32_t r = pit_reload(ch);

	vm->pit_period = 0;
	vm->pit_next = 0;
	if (ch->null)
		return;
	switch (ch->mode) {
	case 2:
	case 3:
		vm->pit_period = pit_ns(r);
		vm->pit_next = ch->start_ns + vm->pit_period;
		break;
	case 0:
	case 4:
		vm->pit_next = ch->start_ns + pit_ns(r);
		break;
	default:
		break;
	}
	(void)now;
}

static void pit_irq0(struct emu_vm *vm)
{
	emu_pic_set_irq(vm, 0, 1);
	emu_pic_set_irq(vm, 0, 0);
	emu_ioapic_set_irq(vm, 2, 1);
	emu_ioapic_set_irq(vm, 2, 0);
}

void emu_pit_advance(struct emu_vm *vm, uint64_t now)
{
	if (!vm->pit_next || now < vm->pit_next)
		return;
	pit_irq0(vm);
	if (vm->pit_period) {
		vm->pit_next += vm->pit_period;
		if (vm->pit_next <= now) /* coalesce missed ticks */
			vm->pit_next = now - (now - vm->pit_next) % vm->pit_period + vm->pit_period;
	} else {
		vm->pit_next = 0;
	}
}

uint64_t emu_pit_next_deadline(struct emu_vm *vm)
{
	return vm->pit_next;
}

int emu_pit_io(struct emu_vm *vm, uint16_t port, int is_write, uint32_t *val)
{
	uint64_t now = emu_now(vm);
	uint8_t v = (uint8_t)*val;

	if (port == 0x61) {
		if (is_write) {
			int gate = v & 1;

			if (gate && !vm->pit[2].gate)
				vm->pit[2].start_ns = now; /* rising gate restarts channel 2 */
			vm->pit[2].gate = (uint8_t)gate;
			vm->port61 = v & 3;
		} else {
			int out = vm->pit[2].gate ? pit_out(vm, 2, now) : 0;

			*val = vm->port61 | (uint32_t)(out << 5) |
			       (uint32_t)(((now / 15000) & 1) << 4);
		}
		return 0;
	}
	if (port == 0x43) {
		int n = v >> 6;

		if (!is_write)
			return 0;
		if (n == 3) { /* read-back */
			for (int i = 0; i < 3; i++) {
				struct emu_pit_channel *ch = &vm->pit[i];

				if (!(v & (2 << i)))
					continue;
				if (!(v & 0x20) && !ch->latched) {
					ch->latch = (uint16_t)pit_count(vm, i, now);
					ch->latched = 1;
					ch->latch_read_state = 0;
				}
				if (!(v & 0x10) && !ch->status_latched) {
					ch->status = (uint8_t)((pit_out(vm, i, now) << 7) |
							       (ch->null << 6) | (ch->rw << 4) |
							       (ch->mode << 1) | ch->bcd);
					ch->status_latched = 1;
				}
			}
			return 0;
		}
		if (((v >> 4) & 3) == 0) { /* counter latch */
			struct emu_pit_channel *ch = &vm->pit[n];

			if (!ch->latched) {
				ch->latch = (uint16_t)pit_count(vm, n, now);
				ch->latched = 1;
				ch->latch_read_state = 0;
			}
			return 0;
		}
		vm->pit[n].rw = (v >> 4) & 3;
		vm->pit[n].mode = (v >> 1) & 7;
		if (vm->pit[n].mode > 5)
			vm->pit[n].mode &= 3;
		vm->pit[n].bcd = v & 1;
		vm->pit[n].write_hi = 0;
		vm->pit[n].read_hi = 0;
		vm->pit[n].null = 1;
		if (n == 0) {
			vm->pit_next = 0;
			vm->pit_period = 0;
		}
		return 0;
	}
	{
		int n = port & 3;
		struct emu_pit_channel *ch = &vm->pit[n];

		if (is_write) {
			int done = 0;

			switch (ch->rw) {
			case 1:
				ch->reload = v;
				done = 1;
				break;
			case 2:
				ch->reload = (uint16_t)(v << 8);
				done = 1;
				break;
			default:
				if (!ch->write_hi) {
					ch->wlo = v;
					ch->write_hi = 1;
				} else {
					ch->reload = (uint16_t)(ch->wlo | v << 8);
					ch->write_hi = 0;
					done = 1;
				}
				break;
			}
			if (done) {
				ch->start_ns = now;
				ch->null = 0;
				if (n == 0)
					pit_arm(vm, now);
			}
			return 0;
		}
		if (ch->status_latched) {
			ch->status_latched = 0;
			*val = ch->status;
			return 0;
		}
		{
			uint32_t cnt = ch->latched ? ch->latch : pit_count(vm, n, now);

			switch (ch->rw) {
			case 1:
				*val = cnt & 0xff;
				ch->latched = 0;
				break;
			case 2:
				*val = (cnt >> 8) & 0xff;
				ch->latched = 0;
				break;
			default:
				if (!ch->read_hi) {
					*val = cnt & 0xff;
					ch->read_hi = 1;
				} else {
					*val = (cnt >> 8) & 0xff;
					ch->read_hi = 0;
					ch->latched = 0;
				}
				break;
			}
		}
	}
	return 0;
}
