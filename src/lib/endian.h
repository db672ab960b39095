/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_LIB_ENDIAN_H
#define CABIN_LIB_ENDIAN_H

#include <stdint.h>

/*
 * Little-endian loads and stores at any alignment, for the structures cabin reads from
 * kernel images and writes into guest memory (boot protocol, MP table, ACPI).
 */
static inline uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)get_le16(p) | (uint32_t)get_le16(p + 2) << 16;
}

static inline uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

/*
 * byte_checksum() - the byte that makes @p[0..@n) sum to zero modulo 256, given that the
 * checksum byte itself is still 0 (MP table and ACPI tables).
 */
static inline uint8_t byte_checksum(const uint8_t *p, unsigned long n)
{
	uint8_t sum = 0;

	for (unsigned long i = 0; i < n; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)-sum;
}

#endif
