/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: differential testing of the software CPU. Each input is
 * guest code with its initial registers, flags and data (tests/unit/emu-diff.h),
 * run once with the host code of decoded blocks (src/emu/jit-x86_64.c) and once
 * with the interpreter alone; any difference in the architectural state
 * afterwards (registers, RFLAGS, segments, control registers, x87/SSE state,
 * memory, the exception delivered, the exit, the instruction count) aborts with
 * a description. Built with -fsanitize=fuzzer,address,undefined, so out-of-bounds
 * accesses and undefined behaviour of the emulator are findings too.
 *
 * Reproduce a finding: `tests/fuzz/fuzz-emu CRASH-FILE`; CABIN_FUZZ_EMU_SHOW=1
 * prints each input's instruction count and result.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "unit/emu-diff.h"

static struct ediff D;
static int show;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (ediff_init(&D) < 0) {
		fprintf(stderr,
			"fuzz-emu: cannot set up the two machines (no JIT on this host?)\n");
		exit(1);
	}
	show = getenv("CABIN_FUZZ_EMU_SHOW") != NULL;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int r = ediff_run(&D, data, size);

	if (show && r >= 0)
		fprintf(stderr, "fuzz-emu: %llu instructions, %s\n", (unsigned long long)D.icount,
			r ? "DIFFERENT" : "same");
	if (r > 0) {
		fprintf(stderr,
			"fuzz-emu: the JIT and the interpreter differ after %llu "
			"instructions (mode %d):\n%s",
			(unsigned long long)D.icount, data[EDIFF_H_MODE] & 3, D.why);
		abort();
	}
	return 0;
}
