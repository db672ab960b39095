/*
 * compute: a long-mode guest that runs compute_run() (compute.h) for
 * COMPUTE_ITERS iterations and prints the checksum, for benchmarks of the
 * accelerators (compute.bin) and, with few iterations, for the test suite
 * (compute-small.bin). compute-native prints the same line on the host.
 */
#include "guest.h"
#include "compute.h"

#ifndef COMPUTE_ITERS
#define COMPUTE_ITERS 1000
#endif

static uint64_t table[COMPUTE_TABLE];

int guest_main(void)
{
	uint64_t sum = compute_run(COMPUTE_ITERS, table);

	gprintf("compute: %lu iterations, checksum %016lx\n", (unsigned long)COMPUTE_ITERS, sum);
	return 0;
}

/* No exceptions are expected; entry64 still links the IDT code. */
void trap(void *f);
void trap(void *f)
{
	guest_exit(3);
}
