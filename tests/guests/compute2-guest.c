/*
 * compute2: the second benchmark workload (compute2.h) for COMPUTE2_ROUNDS rounds,
 * built as a long-mode guest (compute2.bin) and a 32-bit protected-mode guest
 * (compute2-32.bin); both print the checksum compute2-native prints on the host.
 */
#include "guest.h"
#include "compute2.h"

#ifndef COMPUTE2_ROUNDS
#define COMPUTE2_ROUNDS 10
#endif

static struct compute2_state state;

int guest_main(void)
{
	uint32_t sum = compute2_run(&state, COMPUTE2_ROUNDS);

	gprintf("compute2: %u rounds, checksum %08x\n", (unsigned int)COMPUTE2_ROUNDS,
		(unsigned int)sum);
	return 0;
}

/* No exceptions are expected; the entry code still links the IDT code. */
void trap(void *f);
void trap(void *f)
{
	guest_exit(3);
}
