/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The opcode table, built once from the topic groups of exec-*.c: a slot per
 * (map, opcode, mandatory prefix), pointing at the entry that decodes and
 * executes that form. A group lists its entries in any order; PFX_ANY entries
 * are applied first so that a prefixed form (66/F3/F2 0F xx) overrides them.
 */
#include <pthread.h>
#include <stdio.h>

#include "emu/optab.h"

static const struct emu_opgroup *const groups[] = {
	&emu_ops_alu,	  &emu_ops_mov,	   &emu_ops_stack, &emu_ops_string,
	&emu_ops_control, &emu_ops_system, &emu_ops_fpu,   &emu_ops_sse,
};

static const struct emu_opdef *optab[4 * 256][4];
static unsigned int conflicts;
static pthread_once_t optab_once = PTHREAD_ONCE_INIT;

static void claim(unsigned int op, unsigned int pfx, const struct emu_opdef *d)
{
	const struct emu_opdef *old = optab[op][pfx];

	/* a prefixed entry overrides a PFX_ANY one; two of the same kind conflict */
	if (old && old->pfx == d->pfx) {
		conflicts++;
		fprintf(stderr, "emu: opcode %#x prefix %u has two entries\n", op, pfx);
	}
	optab[op][pfx] = d;
}

static void build(void)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
			for (size_t i = 0; i < groups[g]->n; i++) {
				const struct emu_opdef *d = &groups[g]->ops[i];
				int any = d->pfx == PFX_ANY;

				if (any != (pass == 0))
					continue;
				for (unsigned int op = d->first; op <= d->last && op < 4 * 256;
				     op++) {
					if (any) {
						for (unsigned int p = 0; p < 4; p++)
							claim(op, p, d);
					} else if (d->pfx < 4) {
						claim(op, d->pfx, d);
					}
				}
			}
		}
	}
}

const struct emu_opdef *emu_optab_lookup(unsigned int op, unsigned int pfx)
{
	pthread_once(&optab_once, build);
	if (op >= 4 * 256 || pfx >= 4)
		return NULL;
	return optab[op][pfx];
}

unsigned int emu_optab_conflicts(void)
{
	pthread_once(&optab_once, build);
	return conflicts;
}

void emu_optab_cpuid(uint32_t leaf, uint32_t out[4])
{
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		const struct emu_opgroup *gr = groups[g];

		switch (leaf) {
		case 1:
			out[2] |= gr->cpuid1_ecx;
			out[3] |= gr->cpuid1_edx;
			break;
		case 7:
			out[1] |= gr->cpuid7_ebx;
			out[2] |= gr->cpuid7_ecx;
			break;
		case 0x80000001:
			out[2] |= gr->cpuidx1_ecx;
			out[3] |= gr->cpuidx1_edx;
			break;
		default:
			break;
		}
	}
}
