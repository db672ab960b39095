/*
 * ap-trampoline: the real-mode code an AP runs after INIT-SIPI-SIPI. smp.c copies it
 * to AP_TRAMPOLINE (below 1 MiB, 4 KiB aligned: the SIPI vector is its page
 * number). It is position independent: it bumps the shared counter with a
 * locked add and halts for good with interrupts off.
 */
	.code16
	.section .rodata
	.globl ap_trampoline, ap_trampoline_end
ap_trampoline:
	cli
	xor %ax, %ax
	mov %ax, %ds
	lock incw 0x7000		/* AP_COUNTER in smp.c */
1:	hlt
	jmp 1b
ap_trampoline_end:
