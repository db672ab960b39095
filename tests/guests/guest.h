/*
 * guest.h - the tiny runtime of cabin's C test guests (32-bit and 64-bit):
 * port and MMIO accessors, serial output, a minimal printf, and guest_exit(),
 * which reports a status through the VMM's exit port. Freestanding: no libc.
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define SERIAL_PORT 0x3f8
#define EXIT_PORT 0x501
#define STACK_TOP 0x90000

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint32_t mmio_read32(uintptr_t addr)
{
	return *(volatile uint32_t *)addr;
}
static inline void mmio_write32(uintptr_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}
static inline uint8_t mmio_read8(uintptr_t addr)
{
	return *(volatile uint8_t *)addr;
}
static inline void barrier(void)
{
	__asm__ volatile("" ::: "memory");
}

void serial_putc(char c);
void serial_puts(const char *s);
/* printf subset: %s %c %d %u %x %lx %lu %llx, width and 0-padding (e.g. %08x). */
void gprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void gvprintf(const char *fmt, va_list ap);
/* guest_exit() - write @status to the exit port (what returning from guest_main does). */
__attribute__((noreturn)) void guest_exit(int status);
/*
 * guest_exit_clean() - the same after zeroing the general registers other than
 * the two the port write needs: for guests whose registers depend on timing
 * (interrupt counts, polling loops), so final register dumps still compare equal.
 */
__attribute__((noreturn)) void guest_exit_clean(int status);

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

int guest_main(void);

#endif
