/*
 * compute2.h - a second integer workload for benchmarks, unlike compute.h's single
 * loop: CRC-32 over a buffer through a byte table (byte loads, shifts, XOR), a
 * sieve of Eratosthenes (byte stores, nested loops, many short blocks), and a
 * recursive quicksort (calls, returns, stack traffic, data-dependent branches).
 * All arithmetic is 32-bit, so the 64-bit guest, the 32-bit guest and the native
 * twin (compute2-native.c) print the same checksum.
 */
#ifndef GUEST_COMPUTE2_H
#define GUEST_COMPUTE2_H

#include <stdint.h>

#define C2_BUF 16384
#define C2_SIEVE 65536
#define C2_SORT 4096

struct compute2_state {
	uint32_t crc_table[256];
	uint8_t buf[C2_BUF];
	uint8_t composite[C2_SIEVE];
	uint32_t arr[C2_SORT];
};

static uint32_t c2_crc32(const struct compute2_state *s, const uint8_t *p, uint32_t n)
{
	uint32_t crc = 0xffffffffu;

	for (uint32_t i = 0; i < n; i++)
		crc = s->crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static uint32_t c2_sieve(struct compute2_state *s, uint32_t limit)
{
	uint32_t count = 0;

	for (uint32_t i = 0; i < limit; i++)
		s->composite[i] = 0;
	for (uint32_t i = 2; i < limit; i++) {
		if (s->composite[i])
			continue;
		count++;
		for (uint32_t j = i * 2; j < limit; j += i)
			s->composite[j] = 1;
	}
	return count;
}

static void c2_qsort(uint32_t *a, int lo, int hi)
{
	while (lo < hi) {
		uint32_t pivot = a[lo + (hi - lo) / 2];
		int i = lo, j = hi;

		while (i <= j) {
			while (a[i] < pivot)
				i++;
			while (a[j] > pivot)
				j--;
			if (i <= j) {
				uint32_t t = a[i];

				a[i++] = a[j];
				a[j--] = t;
			}
		}
		/* recurse into the smaller half, loop on the larger one */
		if (j - lo < hi - i) {
			c2_qsort(a, lo, j);
			lo = i;
		} else {
			c2_qsort(a, i, hi);
			hi = j;
		}
	}
}

static uint32_t compute2_run(struct compute2_state *s, uint32_t rounds)
{
	uint32_t sum = 0, x = 12345;

	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		s->crc_table[i] = c;
	}
	for (uint32_t r = 0; r < rounds; r++) {
		for (uint32_t i = 0; i < C2_BUF; i++) {
			x = x * 1103515245u + 12345u;
			s->buf[i] = (uint8_t)(x >> 16);
		}
		sum = (sum << 3 | sum >> 29) ^ c2_crc32(s, s->buf, C2_BUF);
		sum += c2_sieve(s, C2_SIEVE - (r & 1023));
		for (uint32_t i = 0; i < C2_SORT; i++) {
			x = x * 1103515245u + 12345u;
			s->arr[i] = x ^ (x >> 15);
		}
		c2_qsort(s->arr, 0, C2_SORT - 1);
		for (uint32_t i = 0; i < C2_SORT; i += 64)
			sum = sum * 31u + s->arr[i];
	}
	return sum;
}

#endif
