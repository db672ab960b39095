/* Reports a 32-bit status with outl: 7 is passed through, as it fits in a byte. */
#include "guest16.h"
	.code16
	.text
	.globl _start
_start:
	SETUP16
	mov $EXIT_PORT, %dx
	mov $7, %eax
	outl %eax, %dx
1:	hlt
	jmp 1b
	RESET_VECTOR
