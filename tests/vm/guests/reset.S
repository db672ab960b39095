/* Asks the i8042 to pulse the reset line (0xFE to port 0x64): the VM ends with 0. */
#include "guest16.h"
	.code16
	.text
	.globl _start
_start:
	SETUP16
	PUTS msg
	mov $0xfe, %al
	outb %al, $0x64
	EXIT 99 /* not reached if the reset ends the VM */
1:	hlt
	jmp 1b
	PUTS16_FN
msg:	.asciz "rebooting\n"
	RESET_VECTOR
