/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-emu-diff: inputs of the differential fuzzer (tests/fuzz/fuzz-emu.c) that
 * once made the host code of decoded blocks and the interpreter disagree, each
 * run through tests/unit/emu-diff.h: both sides must end in the same state.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "unit/emu-diff.h"
#include "unit/tap.h"

static struct ediff D;

struct repro {
	const char *what;
	uint8_t hdr[4]; /* mode, limit, chunk, place */
	uint8_t flags;
	uint32_t regs[16];
	const char *code;
	size_t len;
	int timed; /* also check that it takes under a second (no host split lock) */
};

#define CODE(s) s, sizeof(s) - 1, 0
#define TIMED_CODE(s) s, sizeof(s) - 1, 1

static const struct repro repros[] = {
	{ "64-bit: a loop of ADD and a store, translated at once",
	  { 0x00, 40, 0, 0 },
	  0,
	  { 0, 0x20, 0x40000000 },
	  CODE("\x48\x01\xc8\x89\x43\x10\xff\xc9\x75\xf6\xf4") },
	/*
	 * cmp bh,0xff; #UD (ff /7): the fetch's page walk set accessed bits, which asked
	 * the interpreter to stop the block after the CMP (so the CMP was counted), while
	 * the host code ran on into the #UD (so it was not)
	 */
	{ "instruction count at a fault in a block whose page was walked for its fetch",
	  { 0x00, 0x10, 0, 0 },
	  0,
	  { 0 },
	  CODE("\x80\xff\xff\xff\xff") },
	/*
	 * xchg [rbx],eax; lock add [rbx],eax; lock cmpxchg8b [rbx]; lock btc dword [rbx],5
	 * at 0x2003e, across a cache line: done as host atomics they were split locks, which
	 * this host's split-lock detection stalled for tens of seconds each
	 */
	{ "LOCKed operands across a host cache line take no split lock",
	  { 0x00, 0x10, 0, 0 },
	  0,
	  { 0, 0, 0, 0x3e },
	  TIMED_CODE("\x87\x03\xf0\x01\x03\xf0\x0f\xc7\x0b\xf0\x0f\xba\x3b\x05\xf4") },
	{ "the same in 32-bit protected mode with paging",
	  { 0x01, 0x10, 0, 0 },
	  0,
	  { 0 },
	  CODE("\x80\xff\xff\xff\xff") },
};

static int run(const struct repro *r)
{
	uint8_t in[EDIFF_HDR + 256];
	size_t n = EDIFF_HDR + r->len;
	int res;

	memset(in, 0, sizeof(in));
	memcpy(in, r->hdr, 4);
	in[EDIFF_H_FLAGS] = r->flags;
	for (int i = 0; i < 16; i++) {
		/* kind 6 (zero) unless given */
		uint32_t v = r->regs[i] ? r->regs[i] : 6u << 29;

		memcpy(in + EDIFF_H_REGS + 4 * i, &v, 4);
	}
	memcpy(in + EDIFF_HDR, r->code, r->len);
	res = ediff_run(&D, in, n);
	if (res)
		printf("# %s", D.why);
	return res;
}

static int nr_timed(void)
{
	int n = 0;

	for (size_t i = 0; i < sizeof(repros) / sizeof(repros[0]); i++)
		n += repros[i].timed;
	return n;
}

int main(void)
{
	size_t nr = sizeof(repros) / sizeof(repros[0]);

	if (ediff_init(&D) < 0) {
		printf("1..0 # SKIP no JIT on this host, or no memory for two machines\n");
		return 77;
	}
	tap_plan((int)nr + 1 + nr_timed());
	for (size_t i = 0; i < nr; i++) {
		struct timespec t0, t1;
		double secs;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		tap_ok(run(&repros[i]) == 0, "%s", repros[i].what);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		if (repros[i].timed)
			tap_ok(secs < 1.0, "... in %.3f s (%llu instructions)", secs,
			       (unsigned long long)D.icount);
		if (i == 0)
			tap_ok(ediff_translated(&D) > 0, "the JIT side ran host code (%u blocks)",
			       ediff_translated(&D));
	}
	ediff_fini(&D);
	return tap_failed ? 1 : 0;
}
