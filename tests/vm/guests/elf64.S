/* A fake ELF vmlinux with a 64-bit entry point (no PVH note): RSI = zero page. */
#include "kernel64.h"
	.text
	.code64
	.globl _start
_start:
	KERNEL64_BODY
