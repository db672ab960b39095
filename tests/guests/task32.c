/*
 * task32: hardware task switches in 32-bit protected mode (SDM vol. 3 ch. 8).
 * LTR and its busy bit, CALL and JMP to a TSS and through a task gate, IRET
 * with EFLAGS.NT back to the caller, INT n and exceptions through task gates in
 * the IDT (the error code on the handler task's stack, a #DF task), CR3 and the
 * LDT from the new TSS (two page directories that map one linear page to
 * different frames), CR0.TS set by every switch, the faults of a switch (#TS
 * with the selector for a bad SS, #NP for a not-present DS, both taken in the
 * new task; #GP for a busy target; #TS for an IRET to a task that is not busy)
 * and the TSS I/O permission bitmap of a CPL 3 task.
 * The tables that a switch writes (GDT busy bits, TSSes) live in RAM (.bss).
 * KVM's instruction emulator does not switch tasks, so on hosts whose KVM is a
 * software implementation tests/vm/test-guests.sh runs this guest only under
 * emu and QEMU.
 */
#include "guest.h"
#include "idt.h"

struct tss32 {
	uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
	uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t es, cs, ss, ds, fs, gs, ldt;
	uint16_t trap, iomap;
} __attribute__((packed));

_Static_assert(sizeof(struct tss32) == 104, "32-bit TSS layout");

enum {
	SEL_CODE = 0x08,
	SEL_DATA = 0x10,
	SEL_MAIN = 0x18,
	SEL_A = 0x20,
	SEL_GATE_A = 0x28,
	SEL_DF = 0x30,
	SEL_GP = 0x38,
	SEL_FIX = 0x40,
	SEL_B = 0x48,
	SEL_UCODE = 0x50,
	SEL_UDATA = 0x58,
	SEL_U = 0x60,
	SEL_INT = 0x68,
	SEL_LDT = 0x70,
	SEL_NP = 0x78,
	SEL_SMALL = 0x80,  /* a TSS below the minimum limit 0x67 */
	SEL_NOTP = 0x88,   /* a TSS that is not present */
	SEL_T16 = 0x90,	   /* a 16-bit TSS */
	SEL_CODE_F = 0x98, /* 32-bit code based at 0xf0000, for the 16-bit task's 16-bit IP */
	GDT_ENTRIES = 20,
};

#define INT_VECTOR 0x2e
#define NP_VECTOR 0x2d
#define LINEAR_PROBE 0x40000000u /* mapped to MARK_MAIN or MARK_A by the two directories */
#define MARK_MAIN 0x400000u
#define MARK_A 0x800000u

/* the user task's TSS with an I/O permission bitmap for ports 0..0x3ff and its end byte */
struct utss {
	struct tss32 t;
	uint8_t iomap[0x400 / 8 + 1];
} __attribute__((packed));

static uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(8)));
static uint64_t ldt[2] __attribute__((aligned(8)));
static uint32_t pd_main[1024] __attribute__((aligned(4096)));
static uint32_t pd_a[1024] __attribute__((aligned(4096)));
static struct tss32 tss_main, tss_a, tss_df, tss_gp, tss_fix, tss_b, tss_int, tss_small;
static struct tss16 {
	uint16_t link, sp0, ss0, sp1, ss1, sp2, ss2, ip, flags;
	uint16_t ax, cx, dx, bx, sp, bp, si, di, es, cs, ss, ds, ldt;
} __attribute__((packed)) tss_16;

_Static_assert(sizeof(struct tss16) == 44, "16-bit TSS layout");
static struct utss tss_u;
static uint8_t stacks[7][2048] __attribute__((aligned(16)));
static const char ldt_mark[4] = { 'L', 'D', 'T', '1' };

/* what the handler tasks do this time, and what they saw */
static volatile int gp_mode, fix_mode;
static volatile uint32_t expect_at; /* where a fault in the old task is expected */
static volatile uint32_t a_first_eax, a_passes, int_passes;
static volatile uint32_t trap_vec, trap_err;
static volatile uintptr_t trap_resume, trap_ip;
static volatile uint32_t trap_dr6;

/* the tasks' code: a body in C, then IRET (or JMP) back, then again from the top */
extern const char task_16_entry[], bad_limit[], bad_present[], bad_rpl[];
extern const char task_a_entry[], task_df_entry[], task_gp_entry[], task_fix_entry[];
extern const char task_b_entry[], task_u_entry[], task_int_entry[];
extern const char u_in[], u_after_in[], u_out[], u_after_out[];
extern const char es_fault[], df_int[], ljmp_busy[], iret_bad[], ltr_busy[], ltr_busy_end[];
int a_body(void);
void df_body(uint32_t err);
void gp_body(uint32_t err);
void fix_body(uint32_t err);
void b_body(void);
void u_body(int step);
void int_body(void);

__asm__(".text\n"
	"task_a_entry:\n"
	"	mov %eax, a_first_eax\n"
	"1:	call a_body\n"
	"	test %eax, %eax\n"
	"	jz 2f\n"
	"	ljmp $0x18, $0\n" /* JMP back to the main task */
	"	jmp 1b\n"
	"2:	iret\n"
	"	jmp 1b\n"
	/* the exception tasks find the error code on their stack */
	"task_df_entry:\n"
	"	call df_body\n"
	"	add $4, %esp\n"
	"	iret\n"
	"	jmp task_df_entry\n"
	"task_gp_entry:\n"
	"	call gp_body\n"
	"	add $4, %esp\n"
	"	iret\n"
	"	jmp task_gp_entry\n"
	"task_fix_entry:\n"
	"	call fix_body\n"
	"	add $4, %esp\n"
	"	iret\n"
	"	jmp task_fix_entry\n"
	"task_b_entry:\n"
	"	call b_body\n"
	"	iret\n"
	"	jmp task_b_entry\n"
	"task_int_entry:\n"
	"	call int_body\n"
	"	iret\n"
	"	jmp task_int_entry\n"
	/* CPL 3, IOPL 0: port 0x70 is not in the bitmap, the word at 0x3ff reaches 0x400 */
	/* a task with a 16-bit TSS that returns at once: IRET with NT uses no stack */
	"task_16_entry:\n"
	"	iret\n"
	"	jmp task_16_entry\n"
	"task_u_entry:\n"
	"	push $0\n"
	"	call u_body\n"
	"	add $4, %esp\n"
	"u_in:	inb $0x70, %al\n"
	"u_after_in:\n"
	"	push $1\n"
	"	call u_body\n"
	"	add $4, %esp\n"
	"	mov $0x3ff, %dx\n"
	"u_out:	outw %ax, %dx\n"
	"u_after_out:\n"
	"	push $2\n"
	"	call u_body\n"
	"	add $4, %esp\n"
	"	iret\n"
	"	jmp task_u_entry\n");

static uint64_t seg_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	return (uint64_t)(limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) |
	       ((uint64_t)access << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
	       ((uint64_t)(flags & 0xf0) << 48) | ((uint64_t)(base >> 24) << 56);
}

static uint8_t desc_type(uint16_t sel)
{
	return (uint8_t)(gdt[sel >> 3] >> 40);
}

static uint32_t read_cr0(void)
{
	uint32_t v;

	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static uint16_t str(void)
{
	uint16_t v;

	__asm__ volatile("str %0" : "=r"(v));
	return v;
}

static uint32_t eflags(void)
{
	uint32_t v;

	__asm__ volatile("pushf\n\tpop %0" : "=r"(v));
	return v;
}

static void idt_set(int vector, uint64_t gate)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint32_t base;
	} d;

	__asm__ volatile("sidt %0" : "=m"(d));
	((volatile uint64_t *)d.base)[vector] = gate;
}

static uint64_t idt_get(int vector)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint32_t base;
	} d;

	__asm__ volatile("sidt %0" : "=m"(d));
	return ((volatile uint64_t *)d.base)[vector];
}

static uint64_t task_gate(uint16_t sel)
{
	return ((uint64_t)sel << 16) | (0x85ULL << 40);
}

/* a ring-0 task that starts at @eip on its own stack */
static void task_init(struct tss32 *t, const char *eip, int stack, uint32_t cr3)
{
	memset(t, 0, sizeof(*t));
	t->cr3 = cr3;
	t->eip = (uint32_t)eip;
	t->eflags = 2;
	t->esp = (uint32_t)&stacks[stack][sizeof(stacks[stack])];
	t->cs = SEL_CODE;
	t->ss = t->ds = t->es = t->fs = t->gs = SEL_DATA;
}

/* interrupt-gate exceptions (idt_init's stubs): resume at trap_resume */
void trap(struct trap_frame *f)
{
	if (!trap_resume) {
		gprintf("unexpected vector %u err %x at %x:%x\n", f->vector, f->error, f->cs,
			f->ip);
		guest_exit(3);
	}
	trap_vec = f->vector;
	trap_err = f->error;
	trap_ip = f->ip;
	if (f->vector == 1)
		__asm__ volatile("mov %%dr6, %0" : "=r"(trap_dr6));
	f->ip = trap_resume;
	trap_resume = 0;
}

int a_body(void)
{
	uint32_t fs0, probe = *(volatile uint32_t *)LINEAR_PROBE;

	__asm__ volatile("mov %%fs:0, %0" : "=r"(fs0));
	a_passes++;
	gprintf("A: pass %u tr %04x link %04x nt %u ts %u eax %08x fs:0 %c%c%c%c probe %c\n",
		a_passes, str(), tss_a.link, (eflags() >> 14) & 1, (read_cr0() >> 3) & 1,
		a_first_eax, fs0 & 0xff, (fs0 >> 8) & 0xff, (fs0 >> 16) & 0xff, fs0 >> 24,
		probe & 0xff);
	return a_passes == 3; /* the third pass came by JMP and leaves by JMP */
}

void df_body(uint32_t err)
{
	gprintf("df task: error %04x link %04x main at int+%u\n", err, tss_df.link,
		tss_main.eip - (uint32_t)df_int);
	tss_main.eip += 2; /* past the INT */
}

void gp_body(uint32_t err)
{
	switch (gp_mode) {
	case 0:
		gprintf("gp task: error %04x link %04x main at es_fault+%u\n", err, tss_gp.link,
			tss_main.eip - (uint32_t)es_fault);
		tss_main.eip += 2; /* past MOV ES */
		break;
	case 3:
	case 1:
		if (gp_mode == 3) {
			gprintf("gp task: error %04x link %04x main at +%u\n", err, tss_gp.link,
				tss_main.eip - expect_at);
			tss_main.eip += 7; /* past LCALL ptr16:32 */
			break;
		}
		gprintf("gp task: error %04x link %04x main at ljmp+%u\n", err, tss_gp.link,
			tss_main.eip - (uint32_t)ljmp_busy);
		tss_main.eip += 7; /* past LJMP ptr16:32 */
		break;
	default:
		if (tss_u.t.eip == (uint32_t)u_in) {
			gprintf("gp task: error %04x link %04x user at u_in\n", err, tss_gp.link);
			tss_u.t.eip = (uint32_t)u_after_in;
		} else if (tss_u.t.eip == (uint32_t)u_out) {
			gprintf("gp task: error %04x link %04x user at u_out\n", err, tss_gp.link);
			tss_u.t.eip = (uint32_t)u_after_out;
		} else {
			gprintf("gp task: error %04x at %08x\n", err, tss_u.t.eip);
			guest_exit(4);
		}
		break;
	}
}

void fix_body(uint32_t err)
{
	switch (fix_mode) {
	case 0: /* #TS: B's SS is a code segment */
		gprintf("fix task: #TS error %04x link %04x b.eip entry+%u\n", err, tss_fix.link,
			tss_b.eip - (uint32_t)task_b_entry);
		tss_b.ss = SEL_DATA;
		break;
	case 1: /* #NP: B's DS is not present */
		gprintf("fix task: #NP error %04x link %04x\n", err, tss_fix.link);
		tss_b.ds = SEL_DATA;
		break;
	case 4: /* #NP while #UD switches to B: EXT (bit 0) set; main resumes past its UD2 */
		gprintf("fix task: #NP error %04x link %04x (#UD delivery)\n", err, tss_fix.link);
		tss_b.ds = SEL_DATA;
		tss_main.eip += 2;
		break;
	case 3: /* a bad target TSS: the old task faults at its LCALL */
		gprintf("fix task: error %04x link %04x main at +%u\n", err, tss_fix.link,
			tss_main.eip - expect_at);
		tss_main.eip += 7;
		break;
	default: /* #TS: IRET to a task that is not busy */
		gprintf("fix task: #TS error %04x link %04x main at iret+%u nt %u\n", err,
			tss_fix.link, tss_main.eip - (uint32_t)iret_bad,
			(tss_main.eflags >> 14) & 1);
		tss_main.eflags &= ~0x4000u;
		tss_main.eip += 1;
		break;
	}
}

void b_body(void)
{
	uint16_t ss, ds;

	__asm__ volatile("mov %%ss, %0\n\tmov %%ds, %1" : "=r"(ss), "=r"(ds));
	gprintf("B: tr %04x link %04x ss %04x ds %04x\n", str(), tss_b.link, ss, ds);
}

void int_body(void)
{
	int_passes++;
	gprintf("int task: pass %u link %04x nt %u\n", int_passes, tss_int.link,
		(eflags() >> 14) & 1);
}

void u_body(int step)
{
	uint16_t cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	gprintf("user: step %d cs %04x iopl %u\n", step, cs, (eflags() >> 12) & 3);
}

static void setup(void)
{
	uint32_t cr3_main = (uint32_t)pd_main, cr3_a = (uint32_t)pd_a;

	/* 4 MiB pages: 0-4 MiB identity (user-accessible), the probe page differs */
	pd_main[0] = pd_a[0] = 0x87;
	pd_main[LINEAR_PROBE >> 22] = MARK_MAIN | 0x87;
	pd_a[LINEAR_PROBE >> 22] = MARK_A | 0x87;
	*(volatile uint32_t *)MARK_MAIN = 'M';
	*(volatile uint32_t *)MARK_A = 'A';
	__asm__ volatile("mov %0, %%cr3\n\t"
			 "mov %%cr4, %%eax\n\t"
			 "or $0x10, %%eax\n\t" /* PSE */
			 "mov %%eax, %%cr4\n\t"
			 "mov %%cr0, %%eax\n\t"
			 "or $0x80000000, %%eax\n\t"
			 "mov %%eax, %%cr0" ::"r"(cr3_main)
			 : "eax", "memory");

	gdt[SEL_CODE >> 3] = seg_desc(0, 0xfffff, 0x9a, 0xc0);
	gdt[SEL_DATA >> 3] = seg_desc(0, 0xfffff, 0x92, 0xc0);
	gdt[SEL_UCODE >> 3] = seg_desc(0, 0xfffff, 0xfa, 0xc0);
	gdt[SEL_UDATA >> 3] = seg_desc(0, 0xfffff, 0xf2, 0xc0);
	gdt[SEL_NP >> 3] = seg_desc(0, 0xfffff, 0x12, 0xc0); /* data, not present */
	gdt[SEL_LDT >> 3] = seg_desc((uint32_t)ldt, sizeof(ldt) - 1, 0x82, 0);
	ldt[0] = seg_desc((uint32_t)ldt_mark, 3, 0x92, 0);
	gdt[SEL_GATE_A >> 3] = task_gate(SEL_A);
#define TSS_DESC(sel, t) gdt[(sel) >> 3] = seg_desc((uint32_t) & (t), sizeof(t) - 1, 0x89, 0)
	TSS_DESC(SEL_MAIN, tss_main);
	TSS_DESC(SEL_A, tss_a);
	TSS_DESC(SEL_DF, tss_df);
	TSS_DESC(SEL_GP, tss_gp);
	TSS_DESC(SEL_FIX, tss_fix);
	TSS_DESC(SEL_B, tss_b);
	TSS_DESC(SEL_U, tss_u);
	TSS_DESC(SEL_INT, tss_int);
	gdt[SEL_SMALL >> 3] = seg_desc((uint32_t)&tss_small, 0x60, 0x89, 0);
	gdt[SEL_NOTP >> 3] = seg_desc((uint32_t)&tss_small, sizeof(tss_small) - 1, 0x09, 0);
	gdt[SEL_T16 >> 3] = seg_desc((uint32_t)&tss_16, sizeof(tss_16) - 1, 0x81, 0);
	gdt[SEL_CODE_F >> 3] = seg_desc(0xf0000, 0xffff, 0x9a, 0x40);

	struct __attribute__((packed)) {
		uint16_t limit;
		uint32_t base;
	} gd = { sizeof(gdt) - 1, (uint32_t)gdt };
	__asm__ volatile("lgdt %0\n\t"
			 "ljmp $0x08, $1f\n"
			 "1:\tmov $0x10, %%eax\n\t"
			 "mov %%eax, %%ds\n\t"
			 "mov %%eax, %%es\n\t"
			 "mov %%eax, %%ss\n\t"
			 "mov %%eax, %%fs\n\t"
			 "mov %%eax, %%gs" ::"m"(gd)
			 : "eax", "memory");

	memset(&tss_main, 0, sizeof(tss_main));
	tss_main.cr3 = cr3_main; /* CR3 is loaded from, never saved to, the TSS */
	task_init(&tss_a, task_a_entry, 0, cr3_a);
	tss_a.eax = 0x11111111;
	tss_a.fs = 0x04; /* LDT entry 0 */
	tss_a.ldt = SEL_LDT;
	task_init(&tss_df, task_df_entry, 1, cr3_main);
	task_init(&tss_gp, task_gp_entry, 2, cr3_main);
	task_init(&tss_fix, task_fix_entry, 3, cr3_main);
	task_init(&tss_int, task_int_entry, 4, cr3_main);
	task_init(&tss_u.t, task_u_entry, 5, cr3_main);
	tss_u.t.cs = SEL_UCODE | 3;
	tss_u.t.ss = tss_u.t.ds = tss_u.t.es = tss_u.t.fs = tss_u.t.gs = SEL_UDATA | 3;
	tss_u.t.iomap = sizeof(struct tss32);
	memset(tss_u.iomap, 0xff, sizeof(tss_u.iomap));
	tss_u.iomap[0x3f8 / 8] = 0; /* the serial port, 0x3f8-0x3ff */
}

int guest_main(void)
{
	uint32_t nt;

	gprintf("task32: hardware task switches\n");
	idt_init();
	setup();

	__asm__ volatile("ltr %w0" ::"r"(SEL_MAIN));
	gprintf("ltr: tr %04x type %02x\n", str(), desc_type(SEL_MAIN));
	trap_resume = (uintptr_t)ltr_busy_end;
	__asm__ volatile("ltr_busy: ltr %w0\n"
			 "ltr_busy_end:" ::"r"(SEL_MAIN)
			 : "memory");
	gprintf("ltr of a busy TSS: vector %u error %04x\n", trap_vec, trap_err);

	/* CALL to a TSS: nested (link, NT), CR3 and LDT of the new task, CR0.TS */
	__asm__ volatile("clts");
	__asm__ volatile("lcall $0x20, $0" ::: "memory");
	nt = (eflags() >> 14) & 1;
	gprintf("call: back in tr %04x nt %u ts %u main %02x A %02x\n", str(), nt,
		(read_cr0() >> 3) & 1, desc_type(SEL_MAIN), desc_type(SEL_A));
	__asm__ volatile("lcall $0x20, $0" ::: "memory");
	gprintf("call again: A resumed after its IRET, A %02x\n", desc_type(SEL_A));

	/* JMP through a task gate: no link, the old task is not busy while away */
	tss_a.link = 0;
	__asm__ volatile("ljmp $0x28, $0" ::: "memory");
	gprintf("jmp: back in tr %04x main %02x A %02x A.link %04x probe %c\n", str(),
		desc_type(SEL_MAIN), desc_type(SEL_A), tss_a.link,
		*(volatile uint32_t *)LINEAR_PROBE & 0xff);

	/* INT n through a task gate */
	idt_set(INT_VECTOR, task_gate(SEL_INT));
	__asm__ volatile("int $0x2e" ::: "memory");
	__asm__ volatile("int $0x2e" ::: "memory");
	gprintf("int: back, %u passes, int task %02x\n", int_passes, desc_type(SEL_INT));

	/* an exception with an error code through a task gate */
	uint64_t gp_gate = idt_get(13);
	idt_set(13, task_gate(SEL_GP));
	gp_mode = 0;
	__asm__ volatile("mov $0x1234, %%eax\n"
			 "es_fault: mov %%eax, %%es\n\t"
			 "mov $0x10, %%eax\n\t"
			 "mov %%eax, %%es" ::
				 : "eax", "memory");
	gprintf("es fault: back\n");

	/* JMP to a busy TSS (our own) */
	gp_mode = 1;
	__asm__ volatile("ljmp_busy: ljmp $0x18, $0" ::: "memory");
	gprintf("ljmp to a busy TSS: back\n");

	/* #DF through a task gate: #NP while delivering #NP */
	uint64_t np_gate = idt_get(11);
	idt_set(8, task_gate(SEL_DF));
	idt_set(NP_VECTOR, idt_get(NP_VECTOR) & ~(1ULL << 47));
	idt_set(11, np_gate & ~(1ULL << 47));
	__asm__ volatile("df_int: int $0x2d" ::: "memory");
	idt_set(11, np_gate);
	gprintf("df: back, df task %02x\n", desc_type(SEL_DF));

#ifdef TASK_FAULTS
	/*
	 * Faults of the switch itself, after its commit point: taken in the new task, whose
	 * TSS then holds its own first EIP (SDM vol. 3 8.3). #TS for SS, #NP for DS.
	 */
	idt_set(10, task_gate(SEL_FIX));
	idt_set(11, task_gate(SEL_FIX));
	fix_mode = 0;
	task_init(&tss_b, task_b_entry, 6, (uint32_t)pd_main);
	tss_b.ss = SEL_CODE;
	__asm__ volatile("lcall $0x48, $0" ::: "memory");
	fix_mode = 1;
	task_init(&tss_b, task_b_entry, 6, (uint32_t)pd_main);
	tss_b.ds = SEL_NP;
	__asm__ volatile("lcall $0x48, $0" ::: "memory");
	gprintf("bad task: back, B %02x fix %02x\n", desc_type(SEL_B), desc_type(SEL_FIX));

	/* the same fault in a switch started by an exception (#UD): EXT in its error code */
	fix_mode = 4;
	task_init(&tss_b, task_b_entry, 6, (uint32_t)pd_main);
	tss_b.ds = SEL_NP;
	uint64_t ud_gate = idt_get(6);
	idt_set(6, task_gate(SEL_B));
	__asm__ volatile("ud2" ::: "memory");
	idt_set(6, ud_gate);
	gprintf("#UD task: back, B %02x\n", desc_type(SEL_B));

	/* the T flag of a TSS: #DB with DR6.BT before the new task's first instruction */
	tss_int.trap = 1;
	trap_resume = tss_int.eip;
	__asm__ volatile("int $0x2e" ::: "memory");
	tss_int.trap = 0;
	gprintf("T flag: vector %u dr6.bt %u at int task +%u\n", trap_vec, (trap_dr6 >> 15) & 1,
		trap_ip - tss_int.eip);
	__asm__ volatile("mov %0, %%dr6" ::"r"(0xffff0ff0u));
	int_passes--;
#else
	idt_set(10, task_gate(SEL_FIX));
#endif

	/* IRET with NT to a task that is not busy: #TS(link) in the old task */
	fix_mode = 2;
	tss_main.link = SEL_A;
	__asm__ volatile("pushf\n\t"
			 "orl $0x4000, (%%esp)\n\t"
			 "popf\n"
			 "iret_bad: iret" ::
				 : "memory", "cc");
	gprintf("iret to a free task: back, nt %u\n", (eflags() >> 14) & 1);

	/* targets refused before the switch, in the old task: limit, present, RPL > DPL */
	fix_mode = 3;
	gp_mode = 3;
	idt_set(11, task_gate(SEL_FIX));
	expect_at = (uint32_t)bad_limit;
	__asm__ volatile("bad_limit: lcall $0x80, $0" ::: "memory");
	expect_at = (uint32_t)bad_present;
	__asm__ volatile("bad_present: lcall $0x88, $0" ::: "memory");
	expect_at = (uint32_t)bad_rpl;
	__asm__ volatile("bad_rpl: lcall $0x23, $0" ::: "memory");

	/* a 16-bit TSS: IP, FLAGS and the selectors in 16-bit slots */
	memset(&tss_16, 0, sizeof(tss_16));
	tss_16.ip = (uint16_t)((uint32_t)task_16_entry - 0xf0000);
	tss_16.flags = 2;
	tss_16.cs = SEL_CODE_F;
	tss_16.ss = tss_16.ds = tss_16.es = SEL_DATA;
	__asm__ volatile("lcall $0x90, $0" ::: "memory");
	gprintf("16-bit task: link %04x ip entry+%u type %02x\n", tss_16.link,
		tss_16.ip - (uint16_t)((uint32_t)task_16_entry - 0xf0000), desc_type(SEL_T16));
	__asm__ volatile("lcall $0x90, $0" ::: "memory");
	gprintf("16-bit task again: ip entry+%u\n",
		tss_16.ip - (uint16_t)((uint32_t)task_16_entry - 0xf0000));

	/* a CPL 3 task with IOPL 0: the TSS I/O bitmap decides */
	gp_mode = 2;
	__asm__ volatile("lcall $0x60, $0" ::: "memory");
	gprintf("user: back, U %02x\n", desc_type(SEL_U));

	idt_set(13, gp_gate);
	gprintf("task32: A %u passes, done\n", a_passes);
	return a_passes == 3 && int_passes == 2 ? 0 : 1;
}
