/*
 * real16: a real-mode guest. Prints through the 8250, checks arithmetic and
 * string instructions, port I/O on the UART scratch register, far jumps and
 * calls between segments that alias the same code, and a software interrupt
 * through a handler it installs in the IVT. Every value it prints is computed,
 * so a wrong instruction shows up as a wrong line in the serial output.
 */
#include "asm.h"

	.code16
	.section .text.entry, "ax"
	.globl _start
_start:
	cli
	cld
	xor %ax, %ax
	mov %ax, %ss
	mov $0x7000, %sp
	mov $0xf000, %ax
	mov %ax, %ds		/* strings live in the ROM segment */
	xor %ax, %ax
	mov %ax, %es		/* es: low RAM */

	mov $R(s_hello), %si
	call puts

	/* Arithmetic: sum 1..100 with loop, then mul, div, shifts and adc. */
	xor %ax, %ax
	mov $100, %cx
1:	add %cx, %ax
	loop 1b
	mov $R(s_sum), %si
	call puts
	call puthex16_nl		/* 13ba */

	mov $123, %ax
	mov $456, %bx
	mul %bx			/* dx:ax = 56088 = 0xdb18 */
	mov $7, %bx
	div %bx			/* ax = 8012 = 0x1f4c, dx = 4 */
	mov %dx, %bp
	mov $R(s_div), %si
	call puts
	call puthex16
	mov $' ', %al
	call putc
	mov %bp, %ax
	call puthex16_nl

	mov $0xfff0, %ax
	add $0x0020, %ax		/* carry out, ax = 0x0010 */
	mov $0x1234, %bx
	adc $0, %bx		/* bx = 0x1235 */
	shl $4, %bx		/* 0x2350 */
	sar $1, %bx		/* 0x11a8 */
	rol $8, %bx		/* 0xa811 */
	xor %ax, %bx		/* 0xa801 */
	mov $R(s_bits), %si
	call puts
	mov %bx, %ax
	call puthex16_nl

	/* 32-bit registers in real mode need the operand-size prefix. */
	mov $0x12345678, %eax
	mov $0x9abcdef0, %ebx
	add %ebx, %eax		/* 0xacf13568 */
	ror $16, %eax		/* 0x3568acf1 */
	mov %eax, %edx
	shr $16, %edx
	mov $R(s_wide), %si
	call puts
	push %ax
	mov %dx, %ax
	call puthex16
	pop %ax
	call puthex16_nl

	/* String instructions: copy a message to RAM, measure and compare it. */
	mov $R(s_copy), %si
	mov $0x0500, %di
	mov $s_copy_len, %cx
	rep movsb			/* ds:si (ROM) -> es:di (RAM) */
	mov $0x0500, %di
	xor %al, %al
	mov $0xffff, %cx
	repne scasb
	not %cx
	dec %cx			/* strlen of the copy */
	mov %cx, %bp
	mov $R(s_copy), %si
	mov $0x0500, %di
	mov %bp, %cx
	repe cmpsb
	mov $R(s_strok), %si
	je 2f
	mov $R(s_strbad), %si
2:	call puts
	mov %bp, %ax
	call puthex16_nl
	push %ds
	push %es
	pop %ds			/* print the RAM copy itself */
	mov $0x0500, %si
	call puts
	pop %ds

	/* Port I/O: the 8250 scratch register keeps what was written. */
	mov $0x3ff, %dx
	mov $0x5a, %al
	out %al, %dx
	xor %al, %al
	in %dx, %al
	mov %al, %bl
	mov $0xa5, %al
	out %al, %dx
	in %dx, %al
	mov %al, %bh
	mov $R(s_scr), %si
	call puts
	mov %bx, %ax
	call puthex16_nl

	/* Far jump to a segment aliasing the same code (cs=0xef00, ip+0x1000). */
	ljmp $0xef00, $(R(in_alias) + 0x1000)
in_alias:
	mov %cs, %ax
	mov $R(s_cs), %si
	call puts
	call puthex16_nl
	ljmp $0xf000, $R(back_home)
back_home:
	lcall $0xef00, $(R(far_fn) + 0x1000)
	mov $R(s_retf), %si
	call puts
	call puthex16_nl

	/* IVT entry 0x42 -> handler; int $0x42 must save and restore flags. */
	movw $R(int42), %es:(0x42 * 4)
	movw $0xf000, %es:(0x42 * 4 + 2)
	mov $0x1234, %ax
	stc
	int $0x42
	mov $0, %bx
	adc $0, %bx		/* carry flag survives the interrupt: bx = 1 */
	push %ax
	mov $R(s_int), %si
	call puts
	pop %ax
	call puthex16
	mov $' ', %al
	call putc
	mov %bx, %ax
	call puthex16_nl

	mov $R(s_done), %si
	call puts
	mov $EXIT_PORT, %dx
	xor %al, %al
	out %al, %dx
3:	hlt
	jmp 3b

/* far_fn: reached through lcall with cs=0xef00; returns cs in ax. */
far_fn:
	mov %cs, %ax
	lret

/* int42: ax += 1, sets bp to the handler's marker, changes flags (restored by iret). */
int42:
	push %si
	mov $R(s_inh), %si
	call puts
	pop %si
	inc %ax
	clc
	iret

/* putc: al -> serial. */
putc:
	push %dx
	mov $SERIAL_PORT, %dx
	out %al, %dx
	pop %dx
	ret

/* puts: NUL-terminated string at ds:si -> serial. */
puts:
	push %ax
1:	lodsb
	test %al, %al
	jz 2f
	call putc
	jmp 1b
2:	pop %ax
	ret

/* puthex16: ax as 4 hex digits; puthex16_nl adds a newline. Preserves ax. */
puthex16:
	push %ax
	push %bx
	push %cx
	mov %ax, %bx
	mov $4, %cx
1:	rol $4, %bx
	mov %bl, %al
	and $0xf, %al
	add $'0', %al
	cmp $'9', %al
	jbe 2f
	add $('a' - '9' - 1), %al
2:	call putc
	loop 1b
	pop %cx
	pop %bx
	pop %ax
	ret
puthex16_nl:
	call puthex16
	push %ax
	mov $'\n', %al
	call putc
	pop %ax
	ret

	/* data stays in .text.entry: see R() in asm.h */
s_hello:	.asciz "real16: hello from real mode\n"
s_sum:		.asciz "sum 1..100 = "
s_div:		.asciz "123*456/7 = "
s_bits:		.asciz "adc/shift/rotate = "
s_wide:		.asciz "32-bit add/ror = "
s_copy:		.asciz "copied by rep movsb\n"
	.set s_copy_len, . - s_copy
s_strok:	.asciz "strings equal, length "
s_strbad:	.asciz "strings differ, length "
s_scr:		.asciz "uart scratch = "
s_cs:		.asciz "far jump cs = "
s_retf:		.asciz "far call cs = "
s_inh:		.asciz "int 0x42 handler\n"
s_int:		.asciz "int 0x42 returned ax, carry = "
s_done:		.asciz "real16: done\n"

	.section .reset, "ax"
	ljmp $0xf000, $0	/* _start is at 0xf0000 */
