/*
 * A fake PVH kernel: ELF with XEN_ELFNOTE_PHYS32_ENTRY, entered in flat 32-bit
 * protected mode with EBX = hvm_start_info. Prints the command line and exits
 * with the first byte of the first module (the initrd), or 0x40 without one.
 */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4, 4, 18          /* namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long pvh_start
	.text
	.code32
	.globl _start
_start:
pvh_start:
	cmpl $0x336ec578, (%ebx)   /* magic */
	jne 5f
	mov 24(%ebx), %esi         /* cmdline_paddr */
	mov $0x3f8, %dx
1:	movb (%esi), %al
	test %al, %al
	jz 2f
	outb %al, %dx
	inc %esi
	jmp 1b
2:	mov $'\n', %al
	outb %al, %dx
	mov $0x40, %al
	cmpl $0, 12(%ebx)          /* nr_modules */
	je 3f
	mov 16(%ebx), %esi         /* modlist_paddr */
	mov (%esi), %esi           /* first module's paddr */
	movb (%esi), %al
3:	mov $0x501, %dx
	outb %al, %dx
4:	hlt
	jmp 4b
5:	mov $0x501, %dx
	mov $0x41, %al
	outb %al, %dx
	jmp 4b
