/*
 * String port I/O (one exit carries several elements): `rep outsb` of a line to
 * COM1, `rep insw` of 4 words from the unclaimed port 0x1234 (all ones) and
 * `rep insb` of 3 bytes of the serial scratch register after writing it.
 * Then 2000 more unclaimed reads, which the VMM logs with a rate limit.
 * Exits 9 when every element arrived, 20+ otherwise.
 */
#include "guest16.h"
	.code16
	.text
	.globl _start
_start:
	SETUP16
	mov $msg, %si
	mov $(msg_end - msg), %cx
	mov $COM1, %dx
	rep outsb
	/* es:di = 0:0x600 */
	xor %ax, %ax
	mov %ax, %es
	mov $0x600, %di
	movl $0, %es:(%di)
	movl $0, %es:4(%di)
	mov $0x1234, %dx
	mov $4, %cx
	rep insw
	cmpl $0xffffffff, %es:0x600
	jne bad1
	cmpl $0xffffffff, %es:0x604
	jne bad1
	mov $COM1 + 7, %dx
	mov $0x5a, %al
	outb %al, %dx
	mov $0x610, %di
	mov $3, %cx
	rep insb
	cmpw $0x5a5a, %es:0x610
	jne bad2
	cmpb $0x5a, %es:0x612
	jne bad2
	/* 2000 unclaimed reads: the VMM must log only a few of them */
	mov $0x1000, %di
	mov $2000, %cx
	mov $0x1234, %dx
	rep insb
	EXIT 9
1:	hlt
	jmp 1b
bad1:	EXIT 21
	jmp 1b
bad2:	EXIT 22
	jmp 1b
msg:	.ascii "string I/O: rep outsb works\n"
msg_end:
	RESET_VECTOR
