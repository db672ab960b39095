/*
 * entry32: reset vector -> 32-bit protected mode with flat segments, then
 * guest_main(). Loads a GDT (null, flat code 0x08, flat data 0x10), sets CR0.PE,
 * far-jumps to reload CS, clears .bss and calls the C entry with a stack at
 * STACK_TOP. guest_main's return value is the exit status written to EXIT_PORT.
 */
#include "asm.h"

	.code16
	.section .text.entry, "ax"
	.globl _start
_start:
	cli
	cld
	lgdtl %cs:R(gdt_desc)
	mov %cr0, %eax
	or $1, %eax		/* PE */
	mov %eax, %cr0
	ljmpl $SEL_CODE32, $start32

	.code32
start32:
	mov $SEL_DATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %ax, %fs
	mov %ax, %gs
	mov $STACK_TOP, %esp
	mov $__bss_start, %edi
	mov $__bss_end, %ecx
	sub %edi, %ecx
	xor %eax, %eax
	rep stosb
	call guest_main
	push %eax
	call guest_exit
1:	hlt
	jmp 1b

	/* data stays in .text.entry: see R() in asm.h */
	.balign 8
	.globl gdt32
gdt32:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: code, base 0, limit 4 GiB, 32-bit */
	.quad 0x00cf92000000ffff	/* 0x10: data, base 0, limit 4 GiB */
	.quad 0x00009a0f0000ffff	/* 0x18: 16-bit code, base 0xf0000 */
gdt_end:
gdt_desc:
	.word gdt_end - gdt32 - 1
	.long gdt32

	.section .reset, "ax"
	.code16
	ljmp $0xf000, $0	/* _start is at 0xf0000 */
