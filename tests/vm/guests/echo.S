/*
 * Echoes what arrives on COM1 (polling LSR), prefixed by "<": used to see
 * whether the vCPU runs (pause/resume). 'q' ends the VM with status 5.
 */
#include "guest16.h"
	.code16
	.text
	.globl _start
_start:
	SETUP16
	PUTS msg
1:	mov $COM1 + 5, %dx
	inb %dx, %al
	test $1, %al
	jz 1b
	mov $COM1, %dx
	inb %dx, %al
	cmp $'q', %al
	je 2f
	mov %al, %bl
	mov $'<', %al
	outb %al, %dx
	mov %bl, %al
	outb %al, %dx
	jmp 1b
2:	EXIT 5
3:	hlt
	jmp 3b
	PUTS16_FN
msg:	.asciz "echo ready\n"
	RESET_VECTOR
