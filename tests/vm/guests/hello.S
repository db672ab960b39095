/* Prints a line on COM1 and ends with exit status 42 (byte write to port 0x501). */
#include "guest16.h"
	.code16
	.text
	.globl _start
_start:
	SETUP16
	PUTS msg
	EXIT 42
1:	hlt
	jmp 1b
	PUTS16_FN
msg:	.asciz "hello from the test firmware\n"
	RESET_VECTOR
