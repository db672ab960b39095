/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine lifecycle and the shared vCPU loop, driven by a scripted fake
 * accelerator: no KVM and no emulator, so every exit path (port I/O, string
 * I/O, MMIO, halt, shutdown, internal errors) is checked deterministically.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/error.h"
#include "unit/tap.h"
#include "vm/machine.h"

#define MAX_STEPS 8

struct step {
	enum accel_exit_reason reason;
	uint64_t addr; /* port or MMIO address */
	uint32_t size, count;
	int is_write;
	uint8_t data[16];
	int ret; /* vcpu_run's return value */
};

struct fake_vcpu {
	struct vcpu v;
	const struct step *script;
	unsigned int n, pos;
	uint8_t buf[64];
	struct x86_regs regs;
};

static const struct step *scripts[4];
static unsigned int script_len[4];
static uint8_t last_read[4][16];
static uint8_t (*record_reads)[16]; /* when set: vCPU 0's read of step i lands in [i] */

static int f_probe(char *why, size_t len)
{
	return 0;
}
static int f_vm_init(struct machine *m, struct cabin_err **err)
{
	return 0;
}
static void f_vm_fini(struct machine *m)
{
}
static int f_vcpu_init(struct machine *m, unsigned int i, struct cabin_err **err)
{
	struct fake_vcpu *f = calloc(1, sizeof(*f));

	f->v.m = m;
	f->v.index = i;
	f->v.accel = f;
	f->script = scripts[i];
	f->n = script_len[i];
	m->vcpus[i] = &f->v;
	return 0;
}
static void f_vcpu_fini(struct vcpu *v)
{
	free(v->accel);
}

/* Each call returns the next scripted exit; past the end, the vCPU halts with IF=0. */
static int f_vcpu_run(struct vcpu *v, struct accel_exit *ex)
{
	struct fake_vcpu *f = v->accel;
	const struct step *s;

	/* What the loop wrote into the previous read's buffer. */
	if (f->pos > 0 && !f->script[f->pos - 1].is_write) {
		memcpy(last_read[v->index], f->buf, 16);
		if (record_reads && v->index == 0 && f->pos - 1 < 16)
			memcpy(record_reads[f->pos - 1], f->buf, 16);
	}
	if (f->pos >= f->n) {
		f->regs.rflags = 0x2;
		ex->reason = ACCEL_EXIT_HLT;
		return 0;
	}
	s = &f->script[f->pos++];
	if (s->ret)
		return s->ret;
	ex->reason = s->reason;
	memset(f->buf, 0, sizeof(f->buf));
	memcpy(f->buf, s->data, sizeof(s->data));
	if (s->reason == ACCEL_EXIT_IO) {
		ex->io.port = (uint16_t)s->addr;
		ex->io.size = (uint8_t)s->size;
		ex->io.count = s->count ? s->count : 1;
		ex->io.is_write = (uint8_t)s->is_write;
		ex->io.data = f->buf;
	} else if (s->reason == ACCEL_EXIT_MMIO) {
		ex->mmio.addr = s->addr;
		ex->mmio.len = s->size;
		ex->mmio.is_write = (uint8_t)s->is_write;
		ex->mmio.data = f->buf;
	} else if (s->reason == ACCEL_EXIT_INTERNAL) {
		memcpy(ex->internal.msg, "scripted failure", 17);
	}
	return 0;
}
static int f_get_regs(struct vcpu *v, struct x86_regs *r)
{
	*r = ((struct fake_vcpu *)v->accel)->regs;
	return 0;
}
static int f_set_regs(struct vcpu *v, const struct x86_regs *r)
{
	return 0;
}
static int f_get_sregs(struct vcpu *v, struct x86_sregs *s)
{
	memset(s, 0, sizeof(*s));
	return 0;
}
static int f_set_sregs(struct vcpu *v, const struct x86_sregs *s)
{
	return 0;
}
static int f_set_msrs(struct vcpu *v, const uint32_t *i, const uint64_t *val, unsigned int n)
{
	return 0;
}
static int f_irq_line(struct machine *m, unsigned int gsi, int level)
{
	return 0;
}
static void f_kick(struct vcpu *v)
{
}

static const struct accel_ops fake_ops = {
	.name = "fake",
	.kind = ACCEL_EMU,
	.probe = f_probe,
	.vm_init = f_vm_init,
	.vm_fini = f_vm_fini,
	.vcpu_init = f_vcpu_init,
	.vcpu_fini = f_vcpu_fini,
	.vcpu_run = f_vcpu_run,
	.get_regs = f_get_regs,
	.set_regs = f_set_regs,
	.get_sregs = f_get_sregs,
	.set_sregs = f_set_sregs,
	.set_msrs = f_set_msrs,
	.irq_line = f_irq_line,
	.vcpu_kick = f_kick,
};

static uint8_t firmware[16] = { 0xf4 };
static int debug_exit_port; /* > 0: run() attaches --debug-exit at this port */

/* Run one machine with @nr vCPUs; console output is returned in @out. */
static int run(unsigned int nr, char *out, size_t outlen)
{
	struct machine_config cfg = {
		.accel = &fake_ops,
		.mem_size = 2ull << 20,
		.nr_vcpus = nr,
		.firmware_data = firmware,
		.firmware_len = sizeof(firmware),
		.console_in = -1,
	};
	struct machine *m = NULL;
	struct cabin_err *err = NULL;
	int pipefd[2], ret;
	ssize_t n;

	if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0)
		abort();
	cfg.console_out = pipefd[1];
	cfg.debug_exit = debug_exit_port > 0;
	cfg.debug_exit_port = (uint16_t)debug_exit_port;
	ret = machine_create(&cfg, &m, &err);
	if (ret < 0) {
		tap_diag("machine_create: %s", cabin_err_msg(err));
		cabin_err_release(&err);
		return -1000;
	}
	ret = machine_run(m, &err);
	machine_destroy(m);
	close(pipefd[1]);
	n = read(pipefd[0], out, outlen - 1);
	out[n > 0 ? n : 0] = 0;
	close(pipefd[0]);
	return ret;
}

#define IOW(port, sz, ...)                                                                         \
	{                                                                                          \
		ACCEL_EXIT_IO, port, sz, 1, 1, { __VA_ARGS__ }, 0                                  \
	}
#define IOR(port, sz)                                                                              \
	{                                                                                          \
		ACCEL_EXIT_IO, port, sz, 1, 0, { 0 }, 0                                            \
	}

/* ports 0xcf8-0xcff without a PCI host bridge: all-ones reads, dropped writes, no warning */
static void pci_ports(void)
{
	static const struct step s[] = { IOW(0xcf8, 4, 0, 0, 0, 0x80), IOR(0xcfc, 4), IOR(0xcfe, 2),
					 IOW(0x501, 1, 5) };
	uint8_t reads[16][16];
	char out[64], log[512];
	int p[2], saved = dup(2), ret;
	ssize_t n;

	if (saved < 0 || pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0 || dup2(p[1], 2) < 0)
		abort();
	memset(reads, 0, sizeof(reads));
	record_reads = reads;
	scripts[0] = s, script_len[0] = 4;
	ret = run(1, out, sizeof(out));
	record_reads = NULL;
	dup2(saved, 2);
	close(saved);
	close(p[1]);
	n = read(p[0], log, sizeof(log) - 1);
	log[n > 0 ? n : 0] = 0;
	close(p[0]);
	tap_ok(ret == 5 && !memcmp(reads[1], "\xff\xff\xff\xff", 4) &&
		       !memcmp(reads[2], "\xff\xff", 2),
	       "PCI configuration ports without a host bridge read all ones (%d)", ret);
	tap_ok(!strstr(log, "unclaimed"), "and are not logged as unclaimed (`%s`)", log);
}

int main(void)
{
	char out[256];
	int ret;

	tap_plan(29);

	static const struct step s1[] = { IOW(0x3f8, 1, 'h'), IOW(0x3f8, 1, 'i'), IOW(0x501, 1, 7),
					  IOW(0x3f8, 1, 'X') };
	scripts[0] = s1, script_len[0] = 4;
	ret = run(1, out, sizeof(out));
	tap_ok(ret == 7, "a byte written to port 0x501 is the exit status (%d)", ret);
	tap_ok(!strcmp(out, "hi"), "serial output before the exit, nothing after (`%s`)", out);

	static const struct step s2[] = { { ACCEL_EXIT_IO, 0x3f8, 1, 5, 1, "hello", 0 },
					  IOW(0x501, 4, 0x34, 0x12, 0, 0) };
	scripts[0] = s2, script_len[0] = 2;
	ret = run(1, out, sizeof(out));
	tap_ok(!strcmp(out, "hello"), "string I/O: every element of a rep outsb (`%s`)", out);
	tap_ok(ret == 255, "a dword status above 255 reads as 255 (%d)", ret);

	static const struct step s3[] = { { ACCEL_EXIT_MMIO, 0xd0000000ull, 4, 0, 0, { 0 }, 0 },
					  { ACCEL_EXIT_MMIO, 0xd0000000ull, 4, 0, 1, { 1 }, 0 },
					  IOR(0x1234, 2) };
	scripts[0] = s3, script_len[0] = 3;
	memset(last_read, 0, sizeof(last_read));
	ret = run(1, out, sizeof(out));
	tap_ok(ret == MACHINE_EXIT_HALTED,
	       "unclaimed MMIO and ports do not end the VM; halt with IF=0 does, with %d (%d)",
	       MACHINE_EXIT_HALTED, ret);
	tap_ok(last_read[0][0] == 0xff && last_read[0][1] == 0xff && last_read[0][2] == 0,
	       "an unclaimed port read returns all ones, only its size");

	static const struct step s4[] = { IOR(0x3fd, 1), IOW(0x501, 1, 3) };
	scripts[0] = s4, script_len[0] = 2;
	memset(last_read, 0, sizeof(last_read));
	ret = run(1, out, sizeof(out));
	tap_ok(last_read[0][0] == 0x60, "serial LSR reads THR empty / TEMT (0x%x)",
	       last_read[0][0]);

	static const struct step s5[] = { { ACCEL_EXIT_SHUTDOWN, 0, 0, 0, 0, { 0 }, 0 } };
	scripts[0] = s5, script_len[0] = 1;
	ret = run(1, out, sizeof(out));
	tap_ok(ret == MACHINE_EXIT_TRIPLE_FAULT, "shutdown (triple fault) ends the VM with %d (%d)",
	       MACHINE_EXIT_TRIPLE_FAULT, ret);

	static const struct step s6[] = { { ACCEL_EXIT_INTERNAL, 0, 0, 0, 0, { 0 }, 0 } };
	scripts[0] = s6, script_len[0] = 1;
	tap_ok(run(1, out, sizeof(out)) == 1, "an accelerator internal error ends the VM with 1");

	static const struct step s7[] = { { ACCEL_EXIT_IO, 0, 0, 0, 0, { 0 }, -EIO } };
	scripts[0] = s7, script_len[0] = 1;
	tap_ok(run(1, out, sizeof(out)) == 1, "a failing vcpu_run ends the VM with 1");

	static const struct step s8[] = { IOW(0x64, 1, 0xfe), IOW(0x501, 1, 9) };
	scripts[0] = s8, script_len[0] = 2;
	tap_ok(run(1, out, sizeof(out)) == 0, "i8042 reset (0xfe to port 0x64) ends the VM with 0");

	static const struct step s9[] = { IOW(0x501, 1, 5), IOW(0x501, 1, 6) };
	scripts[0] = s9, script_len[0] = 2;
	tap_ok(run(1, out, sizeof(out)) == 5, "the first exit status wins");

	/* Two vCPUs: vCPU 0 halts at once; the VM goes on until vCPU 1 reports. */
	static const struct step s10[] = { IOW(0x3f8, 1, 'a'), IOW(0x3f8, 1, 'b'),
					   IOW(0x501, 1, 11) };
	scripts[0] = NULL, script_len[0] = 0;
	scripts[1] = s10, script_len[1] = 3;
	ret = run(2, out, sizeof(out));
	tap_ok(ret == 11, "with one vCPU halted, another still ends the VM with its status (%d)",
	       ret);
	tap_ok(!strcmp(out, "ab"), "output of the second vCPU (`%s`)", out);

	scripts[1] = NULL, script_len[1] = 0;
	ret = run(2, out, sizeof(out));
	tap_ok(ret == MACHINE_EXIT_HALTED, "every vCPU halted with IF=0: the VM ends with %d (%d)",
	       MACHINE_EXIT_HALTED, ret);
	tap_ok(MACHINE_EXIT_HALTED != MACHINE_EXIT_TRIPLE_FAULT &&
		       MACHINE_EXIT_HALTED != MACHINE_EXIT_STOPPED &&
		       MACHINE_EXIT_TRIPLE_FAULT != MACHINE_EXIT_STOPPED && MACHINE_EXIT_HALTED &&
		       MACHINE_EXIT_ERROR != MACHINE_EXIT_HALTED,
	       "the end statuses are distinct and non-zero");
	scripts[1] = NULL, script_len[1] = 0;

	/* fw_cfg: signature, CPU count, RAM size, unknown item; byte reads of port 0x511 */
	static const struct step s11[] = {
		IOW(0x510, 2, 0, 0), IOR(0x511, 1),	     IOR(0x511, 1), IOR(0x511, 1),
		IOR(0x511, 1),	     IOW(0x510, 2, 5, 0),    IOR(0x511, 1), IOR(0x511, 1),
		IOR(0x511, 1),	     IOW(0x510, 2, 3, 0),    IOR(0x511, 1), IOR(0x511, 1),
		IOR(0x511, 1),	     IOW(0x510, 2, 0x11, 0), IOR(0x511, 1),
	};
	static uint8_t rd[16][16];
	scripts[0] = s11, script_len[0] = 15;
	memset(rd, 0, sizeof(rd));
	{
		char sig[5] = { 0 };

		record_reads = rd;
		run(3, out, sizeof(out));
		record_reads = NULL;
		for (int i = 0; i < 4; i++)
			sig[i] = (char)rd[i + 1][0];
		tap_ok(!strcmp(sig, "QEMU"), "fw_cfg signature reads `QEMU` (`%s`)", sig);
		tap_ok(rd[6][0] == 3 && rd[7][0] == 0 && rd[8][0] == 0,
		       "fw_cfg NB_CPUS is the vCPU count, then zeros (%u %u %u)", rd[6][0],
		       rd[7][0], rd[8][0]);
		tap_ok(rd[10][0] == 0 && rd[11][0] == 0 && rd[12][0] == 0x20,
		       "fw_cfg RAM_SIZE is the memory size, little-endian (%02x %02x %02x)",
		       rd[10][0], rd[11][0], rd[12][0]);
		tap_ok(rd[14][0] == 0, "an unknown fw_cfg item reads as zeros");
	}

	/* --debug-exit: V ends the VM with (V << 1) | 1; pc-testdev reads back port 0xe0 */
	static const struct step s12[] = {
		IOW(0xe0, 4, 0x78, 0x56, 0x34, 0x12),
		IOR(0xe0, 2),
		IOW(0xf4, 4, 0x21, 0, 0, 0),
		IOW(0x501, 1, 9),
	};
	/* pc-testdev memory at 0xff000000 reads back what was written */
	static const struct step s12m[] = {
		{ ACCEL_EXIT_MMIO, 0xff00fff8ULL, 8, 1, 1, { 1, 2, 3, 4, 5, 6, 7, 8 }, 0 },
		{ ACCEL_EXIT_MMIO, 0xff00fffcULL, 4, 1, 0, { 0 }, 0 },
		IOW(0xf4, 4, 0x21, 0, 0, 0),
	};
	memset(rd, 0, sizeof(rd));
	debug_exit_port = 0xf4;
	scripts[0] = s12, script_len[0] = 4;
	record_reads = rd;
	ret = run(1, out, sizeof(out));
	record_reads = NULL;
	tap_ok(ret == 0x43, "--debug-exit: writing 0x21 ends the VM with 0x43 (0x%x)", ret);
	tap_ok(rd[1][0] == 0x78 && rd[1][1] == 0x56 && rd[1][2] == 0,
	       "pc-testdev port 0xe0 reads back what was written, at the read's size");
	memset(rd, 0, sizeof(rd));
	scripts[0] = s12m, script_len[0] = 3;
	record_reads = rd;
	ret = run(1, out, sizeof(out));
	record_reads = NULL;
	tap_ok(ret == 0x43 && rd[1][0] == 5 && rd[1][3] == 8,
	       "pc-testdev memory at 0xff000000 reads back what was written (%u %u)", rd[1][0],
	       rd[1][3]);
	static const struct step s13[] = { IOW(0xf4, 1, 0) };
	scripts[0] = s13, script_len[0] = 1;
	ret = run(1, out, sizeof(out));
	tap_ok(ret == 1, "--debug-exit 0 gives 1, never success (%d)", ret);
	static const struct step s14[] = { IOW(0xf4, 4, 0x80, 0, 0, 0) };
	scripts[0] = s14, script_len[0] = 1;
	ret = run(1, out, sizeof(out));
	tap_ok(ret == 1, "--debug-exit keeps the low 8 bits of 2V+1, as a process status (%d)",
	       ret);
	debug_exit_port = 0;
	static const struct step s15[] = { IOW(0xf4, 1, 5), IOW(0x501, 1, 6) };
	scripts[0] = s15, script_len[0] = 2;
	ret = run(1, out, sizeof(out));
	tap_ok(ret == 6, "without --debug-exit port 0xf4 is not an exit (%d)", ret);

	pci_ports();

	struct machine_config bad = { .accel = &fake_ops, .mem_size = 2ull << 20, .nr_vcpus = 0 };
	struct machine *m = NULL;
	struct cabin_err *err = NULL;

	tap_ok(machine_create(&bad, &m, &err) < 0 && err && strstr(err->msg, "vCPUs"),
	       "zero vCPUs is refused");
	cabin_err_release(&err);
	return tap_done();
}
