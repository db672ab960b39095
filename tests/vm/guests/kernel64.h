/*
 * The body of the fake 64-bit kernels (bzImage and ELF): entered in long mode
 * with RSI = zero page, as Linux's startup_64. Prints the command line the VMM
 * put at cmd_line_ptr, then exits with the first byte of the initrd (or 0x40
 * when there is none). Position independent: it runs wherever it was loaded.
 */
.macro KERNEL64_BODY
	mov 0x228(%rsi), %ebx      /* cmd_line_ptr */
	mov $0x3f8, %dx
1:	movb (%rbx), %al
	test %al, %al
	jz 2f
	outb %al, %dx
	inc %rbx
	jmp 1b
2:	mov $'\n', %al
	outb %al, %dx
	mov $0x40, %al
	mov 0x21c(%rsi), %ecx      /* ramdisk_size */
	test %ecx, %ecx
	jz 3f
	mov 0x218(%rsi), %ebx      /* ramdisk_image */
	movb (%rbx), %al
3:	mov $0x501, %dx
	outb %al, %dx
4:	hlt
	jmp 4b
.endm
