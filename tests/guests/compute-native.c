/*
 * compute-native: the compute guest's workload (compute.h) as a host program,
 * for comparing the emulator with native execution.
 *   compute-native [ITERATIONS]   (default 20000000, as compute.bin)
 * Prints the same line as the guest.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "compute.h"

int main(int argc, char **argv)
{
	static uint64_t table[COMPUTE_TABLE];
	uint64_t iters = argc > 1 ? strtoull(argv[1], NULL, 0) : 20000000;
	uint64_t sum = compute_run(iters, table);

	printf("compute: %" PRIu64 " iterations, checksum %016" PRIx64 "\n", iters, sum);
	return 0;
}
