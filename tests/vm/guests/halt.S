/* Prints, then halts with interrupts disabled: the VM ends with status 0. */
#include "guest16.h"
	.code16
	.text
	.globl _start
_start:
	SETUP16
	PUTS msg
	cli
1:	hlt
	jmp 1b
	PUTS16_FN
msg:	.asciz "halting\n"
	RESET_VECTOR
