/* lib.c - serial output, printf and exit for the C test guests (see guest.h). */
#include "guest.h"

void serial_putc(char c)
{
	/*
	 * The VMM's UART accepts a byte whenever it is written (THR always empty),
	 * so there is no LSR polling: every guest makes the same exits under every
	 * accelerator.
	 */
	outb(SERIAL_PORT, (uint8_t)c);
}

void serial_puts(const char *s)
{
	while (*s)
		serial_putc(*s++);
}

static void put_num(unsigned long long v, unsigned int base, int width, char pad)
{
	char buf[24];
	int n = 0;

	/* Hex never divides, so 64-bit values print on 32-bit guests without libgcc. */
	do {
		unsigned int d;
		if (base == 16) {
			d = v & 15;
			v >>= 4;
		} else {
			unsigned long lv = (unsigned long)v;
			d = lv % 10;
			v = lv / 10;
		}
		buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
	} while (v && n < (int)sizeof(buf));
	while (width > n) {
		serial_putc(pad);
		width--;
	}
	while (n)
		serial_putc(buf[--n]);
}

void gvprintf(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		int width = 0, longs = 0;
		char pad = ' ';

		if (*fmt != '%') {
			serial_putc(*fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}
		switch (*fmt) {
		case 's':
			serial_puts(va_arg(ap, const char *));
			break;
		case 'c':
			serial_putc((char)va_arg(ap, int));
			break;
		case 'd': {
			long v = longs ? va_arg(ap, long) : va_arg(ap, int);
			if (v < 0) {
				serial_putc('-');
				v = -v;
			}
			put_num((unsigned long)v, 10, width, pad);
			break;
		}
		case 'u':
			put_num(longs ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int), 10,
				width, pad);
			break;
		case 'x':
			if (longs >= 2)
				put_num(va_arg(ap, unsigned long long), 16, width, pad);
			else if (longs)
				put_num(va_arg(ap, unsigned long), 16, width, pad);
			else
				put_num(va_arg(ap, unsigned int), 16, width, pad);
			break;
		case '%':
			serial_putc('%');
			break;
		default:
			serial_putc('?');
			break;
		}
	}
}

void gprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gvprintf(fmt, ap);
	va_end(ap);
}

void guest_exit(int status)
{
	outb(EXIT_PORT, (uint8_t)status);
	/* Only reached if the VMM ignores the port: stop here for good. */
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest_exit_clean(int status)
{
	/*
	 * Clear the registers a guest's timing can leave behind (poll counters,
	 * tick counts), so the final register dump is the same under every
	 * accelerator; then write the status to the exit port.
	 */
#ifdef __x86_64__
	__asm__ volatile("xor %%ebx, %%ebx\n\t"
			 "xor %%ecx, %%ecx\n\t"
			 "xor %%esi, %%esi\n\t"
			 "xor %%edi, %%edi\n\t"
			 "xor %%ebp, %%ebp\n\t"
			 "xor %%r8d, %%r8d\n\t"
			 "xor %%r9d, %%r9d\n\t"
			 "xor %%r10d, %%r10d\n\t"
			 "xor %%r11d, %%r11d\n\t"
			 "xor %%r12d, %%r12d\n\t"
			 "xor %%r13d, %%r13d\n\t"
			 "xor %%r14d, %%r14d\n\t"
			 "xor %%r15d, %%r15d\n\t"
			 "outb %%al, %%dx\n"
			 "1:\tcli\n\t"
			 "hlt\n\t"
			 "jmp 1b"
			 :
			 : "a"(status & 0xff), "d"(EXIT_PORT));
#else
	__asm__ volatile("xor %%ebx, %%ebx\n\t"
			 "xor %%ecx, %%ecx\n\t"
			 "xor %%esi, %%esi\n\t"
			 "xor %%edi, %%edi\n\t"
			 "xor %%ebp, %%ebp\n\t"
			 "outb %%al, %%dx\n"
			 "1:\tcli\n\t"
			 "hlt\n\t"
			 "jmp 1b"
			 :
			 : "a"(status & 0xff), "d"(EXIT_PORT));
#endif
	__builtin_unreachable();
}

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}
