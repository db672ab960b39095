/*
 * compute.h - the integer workload shared by the compute guest and its native
 * twin (compute-native.c), so both print the same checksum: a xorshift64
 * generator feeding a 256-entry table with multiplies, rotates and adds. It
 * uses memory, 64-bit multiplies, shifts and data-dependent addressing, about
 * 20 instructions per iteration.
 */
#ifndef GUEST_COMPUTE_H
#define GUEST_COMPUTE_H

#include <stdint.h>

#define COMPUTE_TABLE 256

static inline uint64_t compute_run(uint64_t iters, uint64_t *table)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL, sum = 0;

	for (unsigned int i = 0; i < COMPUTE_TABLE; i++)
		table[i] = i * 0x100000001b3ULL;
	for (uint64_t i = 0; i < iters; i++) {
		uint64_t *t;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		t = &table[x & (COMPUTE_TABLE - 1)];
		*t += x ^ sum;
		sum = ((sum << 5) | (sum >> 59)) + *t * 0x2545f4914f6cdd1dULL + i;
	}
	return sum;
}

#endif
