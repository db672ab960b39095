/* A status above 255 (0x1234) must not read as success: it is reported as 255. */
#include "guest16.h"
	.code16
	.text
	.globl _start
_start:
	SETUP16
	mov $EXIT_PORT, %dx
	mov $0x1234, %eax
	outl %eax, %dx
1:	hlt
	jmp 1b
	RESET_VECTOR
