/* Loads an empty IDT and raises an exception: a triple fault, which ends the VM with 0. */
#include "guest16.h"
	.code16
	.text
	.globl _start
_start:
	SETUP16
	PUTS msg
	lidt idtr
	int3
	EXIT 99 /* not reached */
1:	hlt
	jmp 1b
	PUTS16_FN
msg:	.asciz "faulting\n"
idtr:	.word 0
	.long 0
	RESET_VECTOR
