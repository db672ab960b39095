/*
 * Touches what no device claims: port 0x1234 (reads 0xff) and, from 32-bit
 * protected mode, MMIO at 0xd0000000 (first virtio slot, empty here: reads all
 * ones) and 0xfe000000. The VMM must log and carry on; the guest then exits 3.
 * Exits 10/11 if a read does not return all ones.
 */
#include "guest16.h"
	.code16
	.text
	.globl _start
_start:
	SETUP16
	mov $0x1234, %dx
	inb %dx, %al
	cmp $0xff, %al
	jne bad_pio
	lgdtl gdtr
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x08, $LINEAR(pm)
bad_pio:
	EXIT 10
1:	hlt
	jmp 1b

	.code32
pm:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $0xd0000000, %ebx
	movl $0x12345678, (%ebx)
	mov (%ebx), %eax
	cmp $0xffffffff, %eax
	jne bad_mmio
	mov $0xfe000000, %ebx
	movb $1, (%ebx)
	mov $LINEAR(msg), %esi
	mov $COM1, %dx
2:	lodsb
	test %al, %al
	jz 3f
	outb %al, %dx
	jmp 2b
3:	mov $EXIT_PORT, %dx
	mov $3, %al
	outb %al, %dx
4:	hlt
	jmp 4b
bad_mmio:
	mov $EXIT_PORT, %dx
	mov $11, %al
	outb %al, %dx
	jmp 4b

msg:	.asciz "still alive\n"
	.balign 8
gdt:	.quad 0
	.quad 0x00cf9b000000ffff /* 0x08: flat 32-bit code */
	.quad 0x00cf93000000ffff /* 0x10: flat data */
gdtr:	.word 3 * 8 - 1
	.long LINEAR(gdt)
	.code16
	RESET_VECTOR
