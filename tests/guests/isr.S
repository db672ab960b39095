/*
 * isr: interrupt and exception entry stubs for vectors 0..47, for 32-bit
 * (entry32 guests) and 64-bit (entry64 guests) builds. Each stub pushes a dummy
 * error code where the CPU pushes none, then the vector, saves the general
 * registers and calls trap(frame). trap() may change the saved instruction
 * pointer to resume elsewhere. isr_table holds the stubs' addresses for
 * idt_init() in idt.c.
 *
 * The stubs return without IRET: KVM's instruction emulator, which executes
 * all guest ring-0 code on hosts whose KVM is a software implementation for
 * nested guests (kvm_pvm), only implements IRET (and INT n) in real mode. At
 * the same privilege level IRET only reloads the flags, CS and the instruction
 * pointer (and in 64-bit mode the stack pointer), so POPF followed by a (far)
 * return does the same. POPF may set IF one instruction early: an interrupt
 * taken there nests on the same stack and returns through the same path.
 */
	.macro STUB v
	.globl isr\v
isr\v:
	.if (\v == 8) || ((\v >= 10) && (\v <= 14)) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30)
	.else
	push $0
	.endif
	push $\v
	jmp isr_common
	.endm

	.text
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	STUB \v
	.endr

#ifdef __x86_64__
isr_common:
	push %rax
	push %rcx
	push %rdx
	push %rbx
	push %rbp
	push %rsi
	push %rdi
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rdi
	cld
	call trap
	/*
	 * Frame: 15 registers, vector, error, rip, cs, rflags, rsp, ss. Store rflags and
	 * rip just below the interrupted rsp (no red zone in these guests) and keep
	 * that new rsp in the vector slot: the two stores may overlap the CPU's
	 * ss/rsp slots, which are read first and not needed afterwards.
	 */
	mov 20*8(%rsp), %rax	/* interrupted rsp */
	mov 17*8(%rsp), %rcx	/* rip */
	mov 19*8(%rsp), %rdx	/* rflags */
	sub $16, %rax
	mov %rcx, 8(%rax)
	mov %rdx, (%rax)
	mov %rax, 15*8(%rsp)
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rdi
	pop %rsi
	pop %rbp
	pop %rbx
	pop %rdx
	pop %rcx
	pop %rax
	mov (%rsp), %rsp	/* the new rsp from the vector slot */
	popfq
	ret

	.section .rodata
	.balign 8
	.globl isr_table
isr_table:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	.quad isr\v
	.endr
#else
isr_common:
	pusha
	push %esp
	cld
	call trap
	add $4, %esp
	popa
	add $8, %esp		/* vector, error code */
	/* Stack: eip, cs, eflags. */
	pushl 8(%esp)
	popfl
	lret $4

	.section .rodata
	.balign 4
	.globl isr_table
isr_table:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	.long isr\v
	.endr
#endif
