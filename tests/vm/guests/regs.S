/*
 * Loads known values into the general registers and exits from a fixed address,
 * so --dump-regs output can be checked (and compared between accelerators).
 */
#include "guest16.h"
	.code16
	.text
	.globl _start
_start:
	SETUP16
	mov $0x11111111, %ebx
	mov $0x22222222, %ecx
	mov $0x33333333, %esi
	mov $0x44444444, %edi
	mov $0x55555555, %ebp
	mov $0x6000, %esp
	mov $EXIT_PORT, %edx
	mov $0x00000005, %eax
	jmp exit_insn
	.org 0x100
exit_insn:
	outb %al, %dx /* at 0x100: one byte */
1:	hlt
	jmp 1b
	RESET_VECTOR
