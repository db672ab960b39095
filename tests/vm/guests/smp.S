/*
 * SMP start: the BSP copies a real-mode trampoline to 0x8000, enables its LAPIC
 * and sends INIT + two SIPIs (vector 0x08) to APIC ID 1 through the in-kernel
 * LAPIC at 0xfee00000, then halts with interrupts off. The AP prints "AP up"
 * and exits with status 17. With one vCPU the IPIs go nowhere and the halted
 * BSP ends the VM with 0.
 */
#include "guest16.h"
#define LAPIC 0xfee00000
	.code16
	.text
	.globl _start
_start:
	SETUP16
	PUTS msg
	/* copy the trampoline to 0:8000 */
	xor %ax, %ax
	mov %ax, %es
	mov $ap_start, %si
	mov $0x8000, %di
	mov $(ap_end - ap_start), %cx
	rep movsb
	lgdtl gdtr
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x08, $LINEAR(pm)

	.code32
pm:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $LAPIC, %ebx
	orl $0x100, 0xf0(%ebx)        /* SVR: software-enable the LAPIC */
	movl $(1 << 24), 0x310(%ebx)  /* ICR high: destination APIC ID 1 */
	movl $0x00004500, 0x300(%ebx) /* INIT, assert */
	movl $(1 << 24), 0x310(%ebx)
	movl $0x00004608, 0x300(%ebx) /* STARTUP, vector 0x08 -> 0x8000 */
	movl $(1 << 24), 0x310(%ebx)
	movl $0x00004608, 0x300(%ebx) /* second SIPI, as the MP spec says */
	cli
1:	hlt
	jmp 1b

	.code16
/* Runs on the AP at 0800:0000 (copied there, so only relative addressing). */
ap_start:
	mov $0x3f8, %dx
	mov $'A', %al
	outb %al, %dx
	mov $'P', %al
	outb %al, %dx
	mov $' ', %al
	outb %al, %dx
	mov $'u', %al
	outb %al, %dx
	mov $'p', %al
	outb %al, %dx
	mov $'\n', %al
	outb %al, %dx
	mov $EXIT_PORT, %dx
	mov $17, %al
	outb %al, %dx
2:	cli
	hlt
	jmp 2b
ap_end:

	PUTS16_FN
msg:	.asciz "BSP sends INIT-SIPI\n"
	.balign 8
gdt:	.quad 0
	.quad 0x00cf9b000000ffff
	.quad 0x00cf93000000ffff
gdtr:	.word 3 * 8 - 1
	.long LINEAR(gdt)
	RESET_VECTOR
