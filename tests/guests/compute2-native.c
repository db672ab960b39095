/*
 * compute2-native: the second benchmark workload (compute2.h) as a host program.
 *   compute2-native [ROUNDS]   (default 40, as compute2.bin)
 * Prints the same line as the guests.
 */
#include <stdio.h>
#include <stdlib.h>

#include "compute2.h"

int main(int argc, char **argv)
{
	static struct compute2_state state;
	uint32_t rounds = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 40;

	printf("compute2: %u rounds, checksum %08x\n", rounds, compute2_run(&state, rounds));
	return 0;
}
