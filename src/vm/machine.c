/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine's lifecycle. machine_create() runs a fixed table of phases
 * (kvmtool's core_init..late_init, built explicitly instead of with
 * constructors): memory, accelerator VM, bus and legacy devices, virtio
 * devices, boot image, vCPUs. m->phases_done counts the phases that
 * completed; machine_destroy() undoes exactly those, in reverse, so a failure
 * in any phase unwinds cleanly and nothing here ever exits the process.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/intel-iommu.h"
#include "hw/legacy.h"
#include "hw/pci.h"
#include "hw/serial-8250.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "vm/machine.h"
#include "vm/x86/boot.h"

int machine_irq_line(struct machine *m, unsigned int gsi, int level)
{
	if (!m->accel || !m->accel->irq_line)
		return -ENODEV;
	return m->accel->irq_line(m, gsi, level);
}

/*
 * Called with m->lock held: the lock orders kicks against machine_run() marking
 * the threads joined, so a thread is never signalled after pthread_join().
 */
static void kick_all(struct machine *m)
{
	if (m->threads_joined || !m->accel || !m->accel->vcpu_kick)
		return;
	for (unsigned int i = 0; i < m->nr_vcpus; i++)
		if (m->vcpus[i])
			m->accel->vcpu_kick(m->vcpus[i]);
}

static void stop(struct machine *m, int status, const char *cause)
{
	pthread_mutex_lock(&m->lock);
	if (!m->stopping) {
		m->exit_status = status;
		if (cause)
			snprintf(m->end_msg, sizeof(m->end_msg), "%s", cause);
		__atomic_store_n(&m->stopping, 1, __ATOMIC_SEQ_CST);
	}
	pthread_cond_broadcast(&m->cond);
	kick_all(m);
	pthread_mutex_unlock(&m->lock);
}

void machine_stop(struct machine *m, int status)
{
	stop(m, status, NULL);
}

void machine_stop_cause(struct machine *m, int status, const char *fmt, ...)
{
	char cause[sizeof(m->end_msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cause, sizeof(cause), fmt, ap);
	va_end(ap);
	stop(m, status, cause);
}

void machine_mem_written(struct machine *m, const void *hva, uint64_t len)
{
	uint64_t gpa;

	if (!len || !m->accel || !m->accel->mem_written)
		return;
	if (vm_mem_gpa(&m->mem, hva, len, &gpa) == 0)
		m->accel->mem_written(m, gpa, len);
}

int machine_dma_rw(struct machine *m, uint16_t sid, uint64_t addr, void *buf, uint64_t len,
		   int is_write)
{
	uint8_t *p = buf;

	while (len) {
		uint64_t gpa = addr, n = len;
		uint8_t *hva;

		if (m->iommu) {
			uint64_t avail = 0;

			if (m->iommu->dma_translate(m->iommu_opaque, sid, addr, is_write, &gpa,
						    &avail) < 0)
				return -EFAULT;
			if (avail < n)
				n = avail;
		}
		/* the bus address is the device's to choose: only guest RAM is reached */
		hva = vm_mem_ptr(&m->mem, gpa, n);
		if (!hva)
			return -EFAULT;
		if (is_write) {
			memcpy(hva, p, n);
			machine_mem_written(m, hva, n);
		} else {
			memcpy(p, hva, n);
		}
		p += n;
		addr += n;
		len -= n;
	}
	return 0;
}

int machine_msi_remap(struct machine *m, int sid, uint64_t *addr, uint32_t *data)
{
	if (!m->iommu)
		return 0;
	return m->iommu->msi_remap(m->iommu_opaque, sid, addr, data);
}

int machine_msi(struct machine *m, int sid, uint64_t addr, uint32_t data)
{
	int ret = machine_msi_remap(m, sid, &addr, &data);

	if (ret < 0)
		return ret;
	if (!m->accel || !m->accel->msi)
		return -ENODEV;
	return m->accel->msi(m, addr, data);
}

int machine_dev_add(struct machine *m, const struct machine_dev *d)
{
	if (m->nr_devs >= MACHINE_MAX_DEVS)
		return -ENOSPC;
	m->devs[m->nr_devs++] = *d;
	return 0;
}

int machine_mmio_slot(struct machine *m, uint64_t *base, unsigned int *gsi)
{
	if (m->next_mmio_slot >= MACHINE_MMIO_SLOTS)
		return -ENOSPC;
	*base = MACHINE_MMIO_BASE + m->next_mmio_slot * MACHINE_MMIO_SLOT_SIZE;
	*gsi = MACHINE_MMIO_GSI_BASE + m->next_mmio_slot;
	m->next_mmio_slot++;
	return 0;
}

/* Tear down attached devices, newest first, until only @keep remain. */
static void devs_fini_to(struct machine *m, unsigned int keep)
{
	while (m->nr_devs > keep) {
		struct machine_dev *d = &m->devs[--m->nr_devs];

		if (d->fini)
			d->fini(d->opaque);
	}
}

void machine_devs_fini(struct machine *m)
{
	devs_fini_to(m, 0);
}

/* --- phases ------------------------------------------------------------------------------ */

struct machine_priv {
	struct x86_boot_state boot;
	unsigned int legacy_devs; /* m->nr_devs after the legacy phase */
};

static struct machine_priv *priv(struct machine *m)
{
	return m->boot_priv;
}

static int phase_mem_init(struct machine *m, struct cabin_err **err)
{
	return vm_mem_init(&m->mem, m->cfg->mem_size, m->cfg->mem_flags, err);
}

static void phase_mem_fini(struct machine *m)
{
	vm_mem_fini(&m->mem);
}

static int phase_accel_init(struct machine *m, struct cabin_err **err)
{
	int ret = m->accel->vm_init(m, err);

	if (ret < 0) {
		/* vm_init may have half-built its state; its fini accepts that. */
		m->accel->vm_fini(m);
		return cabin_err_wrap(err, "set up the `%s` accelerator", m->accel->name);
	}
	return 0;
}

static void phase_accel_fini(struct machine *m)
{
	m->accel->vm_fini(m);
}

static int phase_legacy_init(struct machine *m, struct cabin_err **err)
{
	int ret;

	ret = hw_serial_attach(m, HW_SERIAL_COM1_PORT, HW_SERIAL_COM1_IRQ, m->cfg->console_in,
			       m->cfg->console_out, err);
	if (ret >= 0)
		ret = hw_i8042_attach(m, err);
	if (ret >= 0)
		ret = hw_rtc_attach(m, err);
	if (ret >= 0)
		ret = hw_exit_port_attach(m, err);
	if (ret >= 0)
		ret = hw_debug_port_attach(m, err);
	if (ret >= 0)
		ret = hw_fw_cfg_attach(m, err);
	if (ret >= 0 && m->cfg->iommu && !m->cfg->pci)
		ret = cabin_err_make(err, EINVAL, "an IOMMU needs a PCI host");
	if (ret >= 0 && m->cfg->pci)
		ret = hw_pci_attach(m, err);
	else if (ret >= 0)
		ret = hw_pci_none_attach(m, err);
	if (ret >= 0 && m->cfg->iommu)
		ret = hw_vtd_attach(m, m->cfg->iommu == MACHINE_IOMMU_VTD, err);
	if (ret >= 0 && m->cfg->debug_exit)
		ret = hw_testdev_attach(m, m->cfg->debug_exit_port, err);
	if (ret < 0) {
		devs_fini_to(m, 0);
		m->pci = NULL;
		m->iommu = NULL;
		return ret;
	}
	priv(m)->legacy_devs = m->nr_devs;
	return 0;
}

static void phase_legacy_fini(struct machine *m)
{
	devs_fini_to(m, 0);
	m->pci = NULL;
	m->iommu = NULL;
	m->iommu_opaque = NULL;
	memset(&m->bus, 0, sizeof(m->bus));
}

static int phase_virtio_init(struct machine *m, struct cabin_err **err)
{
	int ret;

	if (!m->cfg->attach_devices)
		return 0;
	ret = m->cfg->attach_devices(m, m->cfg->attach_opaque, err);
	if (ret < 0)
		devs_fini_to(m, priv(m)->legacy_devs);
	return ret;
}

static void phase_virtio_fini(struct machine *m)
{
	devs_fini_to(m, priv(m)->legacy_devs);
}

/* Base command line, then each device's announcement, then the tail ("-- args"). */
static char *build_cmdline(struct machine *m)
{
	size_t cap = 256, n = 0;
	char *s = xmalloc(cap);
	const char *parts[MACHINE_MAX_DEVS + 2];
	unsigned int np = 0;

	s[0] = 0;
	if (m->cfg->cmdline && *m->cfg->cmdline)
		parts[np++] = m->cfg->cmdline;
	for (unsigned int i = 0; i < m->nr_devs; i++)
		if (m->devs[i].cmdline[0])
			parts[np++] = m->devs[i].cmdline;
	if (m->cfg->cmdline_tail && *m->cfg->cmdline_tail)
		parts[np++] = m->cfg->cmdline_tail;
	for (unsigned int i = 0; i < np; i++) {
		size_t l = strnlen(parts[i], 1 << 20);

		while (n + l + 2 > cap)
			cap *= 2, s = xrealloc(s, cap);
		if (n)
			s[n++] = ' ';
		memcpy(s + n, parts[i], l);
		n += l;
		s[n] = 0;
	}
	return s;
}

static int phase_boot_init(struct machine *m, struct cabin_err **err)
{
	const struct machine_config *c = m->cfg;
	char *cmdline = build_cmdline(m);
	int ret;

	ret = x86_boot_load(m, c->kernel, c->initrd, cmdline, c->cmdline_tail, c->firmware,
			    c->firmware_data, c->firmware_len, &priv(m)->boot, err);
	if (ret >= 0 && c->kernel)
		log_debug("kernel command line: %s", cmdline);
	free(cmdline);
	return ret;
}

static int phase_vcpus_init(struct machine *m, struct cabin_err **err)
{
	int ret;

	for (unsigned int i = 0; i < m->nr_vcpus; i++) {
		ret = m->accel->vcpu_init(m, i, err);
		if (ret >= 0)
			ret = x86_boot_apply(m->vcpus[i], &priv(m)->boot, err);
		if (ret < 0) {
			for (unsigned int j = 0; j <= i; j++)
				if (m->vcpus[j])
					m->accel->vcpu_fini(m->vcpus[j]);
			return cabin_err_wrap(err, "create vcpu `%u`", i);
		}
	}
	return 0;
}

static void phase_vcpus_fini(struct machine *m)
{
	for (unsigned int i = m->nr_vcpus; i-- > 0;)
		if (m->vcpus[i])
			m->accel->vcpu_fini(m->vcpus[i]);
}

static const struct machine_phase {
	const char *name;
	int (*init)(struct machine *m, struct cabin_err **err);
	void (*fini)(struct machine *m);
} phases[] = {
	{ "memory", phase_mem_init, phase_mem_fini },
	{ "accelerator", phase_accel_init, phase_accel_fini },
	{ "devices", phase_legacy_init, phase_legacy_fini },
	{ "virtio", phase_virtio_init, phase_virtio_fini },
	{ "boot", phase_boot_init, NULL },
	{ "vcpus", phase_vcpus_init, phase_vcpus_fini },
};

void machine_destroy(struct machine *m)
{
	if (!m)
		return;
	while (m->phases_done > 0) {
		const struct machine_phase *p = &phases[--m->phases_done];

		if (p->fini)
			p->fini(m);
	}
	free(m->boot_priv);
	pthread_cond_destroy(&m->cond);
	pthread_rwlock_destroy(&m->mmio_lock);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

int machine_create(const struct machine_config *cfg, struct machine **out, struct cabin_err **err)
{
	struct machine *m;
	int ret;

	if (!cfg->accel)
		return cabin_err_make(err, EINVAL, "no accelerator");
	if (cfg->nr_vcpus < 1 || cfg->nr_vcpus > MACHINE_MAX_VCPUS)
		return cabin_err_make(err, EINVAL, "`%u` vCPUs: need 1 to %d", cfg->nr_vcpus,
				      MACHINE_MAX_VCPUS);
	m = xcalloc(1, sizeof(*m));
	m->cfg = cfg;
	m->accel = cfg->accel;
	m->nr_vcpus = cfg->nr_vcpus;
	m->mem.memfd = -1;
	m->boot_priv = xcalloc(1, sizeof(struct machine_priv));
	pthread_mutex_init(&m->lock, NULL);
	pthread_rwlock_init(&m->mmio_lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
		ret = phases[i].init(m, err);
		if (ret < 0) {
			cabin_err_wrap(err, "machine %s", phases[i].name);
			machine_destroy(m);
			return ret;
		}
		m->phases_done = (unsigned int)i + 1;
	}
	*out = m;
	return 0;
}

/* --- running ----------------------------------------------------------------------------- */

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	char name[16];

	snprintf(name, sizeof(name), "vcpu%u", v->index);
	pthread_setname_np(pthread_self(), name);
	vm_vcpu_loop(v);
	return NULL;
}

int machine_run(struct machine *m, struct cabin_err **err)
{
	sigset_t all, old;
	unsigned int started = 0;
	int ret = 0;

	/* vCPU threads take no process signals; the accelerator unblocks its kick signal. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_mutex_lock(&m->lock);
	for (; started < m->nr_vcpus; started++) {
		m->nr_running++;
		ret = pthread_create(&m->vcpus[started]->thread, NULL, vcpu_thread,
				     m->vcpus[started]);
		if (ret) {
			m->nr_running--;
			break;
		}
	}
	pthread_mutex_unlock(&m->lock);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		machine_stop(m, 1);
		cabin_err_make(err, ret, "start vcpu thread `%u`", started);
	}

	pthread_mutex_lock(&m->lock);
	while (m->nr_running > 0)
		pthread_cond_wait(&m->cond, &m->lock);
	m->threads_joined = 1;
	pthread_mutex_unlock(&m->lock);
	for (unsigned int i = 0; i < started; i++)
		pthread_join(m->vcpus[i]->thread, NULL);
	if (ret)
		return -ret;
	if (m->vcpu_error && m->err_msg[0])
		log_error("%s", m->err_msg);
	else if (m->end_msg[0])
		fprintf(stderr, "cabin: %s (exit status %d)\n", m->end_msg, m->exit_status);
	return m->exit_status;
}

int machine_pause(struct machine *m)
{
	pthread_mutex_lock(&m->lock);
	if (m->stopping) {
		pthread_mutex_unlock(&m->lock);
		return -ESRCH;
	}
	__atomic_store_n(&m->pause_req, 1, __ATOMIC_SEQ_CST);
	kick_all(m);
	while (m->nr_parked < m->nr_running && !m->stopping)
		pthread_cond_wait(&m->cond, &m->lock);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

int machine_resume(struct machine *m)
{
	pthread_mutex_lock(&m->lock);
	__atomic_store_n(&m->pause_req, 0, __ATOMIC_SEQ_CST);
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

int machine_is_paused(struct machine *m)
{
	return __atomic_load_n(&m->pause_req, __ATOMIC_SEQ_CST) != 0;
}

int machine_dump_regs(struct machine *m, const char *path, struct cabin_err **err)
{
	struct x86_regs r;
	struct x86_sregs s;
	struct x86_fpu fp;
	FILE *f;
	int ret;

	if (!m->vcpus[0])
		return cabin_err_make(err, ENODEV, "no vcpu 0 to dump");
	ret = m->accel->get_regs(m->vcpus[0], &r);
	if (ret >= 0)
		ret = m->accel->get_sregs(m->vcpus[0], &s);
	memset(&fp, 0, sizeof(fp));
	if (ret >= 0 && m->accel->get_fpu)
		ret = m->accel->get_fpu(m->vcpus[0], &fp);
	if (ret < 0)
		return cabin_err_make(err, -ret, "read the registers of vcpu 0");
	f = fopen(path, "we");
	if (!f)
		return cabin_err_make(err, errno, "open `%s`", path);
	const struct {
		const char *name;
		uint64_t v;
	} rows[] = {
		{ "rax", r.rax }, { "rbx", r.rbx },	  { "rcx", r.rcx }, { "rdx", r.rdx },
		{ "rsi", r.rsi }, { "rdi", r.rdi },	  { "rsp", r.rsp }, { "rbp", r.rbp },
		{ "r8", r.r8 },	  { "r9", r.r9 },	  { "r10", r.r10 }, { "r11", r.r11 },
		{ "r12", r.r12 }, { "r13", r.r13 },	  { "r14", r.r14 }, { "r15", r.r15 },
		{ "rip", r.rip }, { "rflags", r.rflags }, { "cr0", s.cr0 }, { "cr3", s.cr3 },
		{ "cr4", s.cr4 }, { "efer", s.efer },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		fprintf(f, "%s=0x%016llx\n", rows[i].name, (unsigned long long)rows[i].v);
	/* x87 and SSE state: the last instruction/operand pointers are left out */
	fprintf(f, "fcw=0x%04x\nfsw=0x%04x\nftw=0x%02x\nmxcsr=0x%08x\n", fp.fcw, fp.fsw, fp.ftw,
		fp.mxcsr);
	for (int i = 0; i < 8; i++) {
		uint64_t mant;
		uint16_t se;

		memcpy(&mant, fp.st[i], 8);
		memcpy(&se, fp.st[i] + 8, 2);
		fprintf(f, "st%d=0x%04x%016llx\n", i, se, (unsigned long long)mant);
	}
	for (int i = 0; i < 16; i++) {
		uint64_t lo, hi;

		memcpy(&lo, fp.xmm[i], 8);
		memcpy(&hi, fp.xmm[i] + 8, 8);
		fprintf(f, "xmm%d=0x%016llx%016llx\n", i, (unsigned long long)hi,
			(unsigned long long)lo);
	}
	if (fclose(f) != 0)
		return cabin_err_make(err, errno, "write `%s`", path);
	return 0;
}
