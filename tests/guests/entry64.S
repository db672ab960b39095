/*
 * entry64: reset vector -> 32-bit protected mode -> 64-bit long mode, then
 * guest_main(). Builds 4-level page tables in low RAM identity-mapping the
 * first 2 MiB with one large page (PML4 0x1000, PDPT 0x2000, PD 0x3000),
 * enables CR4.PAE, EFER.LME and EFER.NXE, turns on CR0.PG and far-jumps to a
 * 64-bit code segment. The PD's other entries are the guest's to fill in.
 */
#include "asm.h"

#define PML4 0x1000
#define PDPT 0x2000
#define PD 0x3000

	.code16
	.section .text.entry, "ax"
	.globl _start
_start:
	cli
	cld
	lgdtl %cs:R(gdt_desc)
	mov %cr0, %eax
	or $1, %eax
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
	/* Clear the three tables (RAM is zero at reset, but do not rely on it). */
	mov $PML4, %edi
	mov $(3 * 4096 / 4), %ecx
	xor %eax, %eax
	rep stosl
	movl $(PDPT | 3), PML4	/* present, writable */
	movl $(PD | 3), PDPT
	movl $0x83, PD		/* 2 MiB page at 0: present, writable, PS */
	mov %cr4, %eax
	or $(1 << 5), %eax	/* PAE */
	mov %eax, %cr4
	mov $PML4, %eax
	mov %eax, %cr3
	mov $0xc0000080, %ecx	/* EFER */
	rdmsr
	or $((1 << 8) | (1 << 11)), %eax	/* LME, NXE */
	wrmsr
	mov %cr0, %eax
	or $((1 << 31) | (1 << 16)), %eax	/* PG, WP */
	mov %eax, %cr0
	ljmp $SEL_CODE64, $start64

	.code64
start64:
	xor %eax, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %fs
	mov %eax, %gs
	mov $SEL_DATA, %eax
	mov %eax, %ss
	mov $STACK_TOP, %esp
	lea __bss_start(%rip), %rdi
	lea __bss_end(%rip), %rcx
	sub %rdi, %rcx
	xor %eax, %eax
	rep stosb
	call guest_main
	mov %eax, %edi
	call guest_exit
1:	hlt
	jmp 1b

	/* data stays in .text.entry: see R() in asm.h */
	.balign 8
	.globl gdt64
gdt64:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: 32-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
	.quad 0x00af9a000000ffff	/* 0x18: 64-bit code (L=1) */
gdt_end:
gdt_desc:
	.word gdt_end - gdt64 - 1
	.long gdt64

	.section .reset, "ax"
	.code16
	ljmp $0xf000, $0	/* _start is at 0xf0000 */
