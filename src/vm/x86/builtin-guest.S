/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The built-in test guest of `cabin vm run` when no kernel can boot here: a
 * 512-byte real-mode firmware image (it ends at 1 MiB, so the reset vector at
 * F000:FFF0 is its last 16 bytes). It prints a greeting on COM1 and reports
 * exit status 0 on the exit port 0x501. Position independent: the message is
 * found through call/pop, so the image may sit anywhere below 1 MiB.
 */
	.section .rodata.x86_builtin_guest, "a"
	.globl x86_builtin_guest
	.globl x86_builtin_guest_end
	.code16
x86_builtin_guest:
start:
	cli
	cld
	call 1f
1:	pop %si
	add $(msg - 1b), %si
	mov %cs, %ax
	mov %ax, %ds
	mov $0x3f8, %dx
2:	lodsb
	test %al, %al
	jz 3f
	outb %al, %dx
	jmp 2b
3:	mov $0x501, %dx
	xor %al, %al
	outb %al, %dx
4:	hlt
	jmp 4b
msg:
	.asciz "Hello from cabin's built-in test guest (x86 real mode, serial port, exit port).\r\n"
	.org 512 - 16
reset:
	jmp start
	.org 512
x86_builtin_guest_end:
	.code64
	.section .note.GNU-stack, "", @progbits
