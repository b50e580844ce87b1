// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include "mvm_util.h"

static void fatal(const char *what)
{
	fprintf(stderr, "mvm_util: %s: %s\n", what, strerror(errno));
	abort();
}

const char *mvm_dev_path(void)
{
	const char *p = getenv("MVM_DEV");

	return p && *p ? p : "/dev/kvm";
}

int mvm_open_dev(void)
{
	int fd = open(mvm_dev_path(), O_RDWR | O_CLOEXEC);

	if (fd < 0)
		fatal(mvm_dev_path());
	return fd;
}

bool mvm_on_kvm(void)
{
	const char *p = getenv("MVM_IMPL");

	return p && !strcmp(p, "kvm");
}

bool mvm_cpu_is_amd(void)
{
	unsigned int a, b, c, d;

	asm volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
	return b == 0x68747541;	/* "Auth" */
}

bool mvm_kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		fatal("uname");
	return ma > major || (ma == major && mi >= minor);
}

int guest_add_vcpu(struct mvm_guest *g, int id, struct kvm_run **run)
{
	int fd = ioctl(g->vm_fd, KVM_CREATE_VCPU, id);
	long size = ioctl(g->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);

	if (fd < 0 || size < 4096)
		fatal("KVM_CREATE_VCPU");
	*run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (*run == MAP_FAILED)
		fatal("mmap kvm_run");
	return fd;
}

void guest_create_vm(struct mvm_guest *g, size_t mem_size)
{
	struct kvm_userspace_memory_region r = { .slot = 0 };

	memset(g, 0, sizeof(*g));
	g->sys_fd = mvm_open_dev();
	g->vm_fd = ioctl(g->sys_fd, KVM_CREATE_VM, 0);
	if (g->vm_fd < 0)
		fatal("KVM_CREATE_VM");
	g->mem_size = mem_size;
	g->mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (g->mem == MAP_FAILED)
		fatal("mmap guest memory");
	r.memory_size = mem_size;
	r.userspace_addr = (uintptr_t)g->mem;
	if (ioctl(g->vm_fd, KVM_SET_USER_MEMORY_REGION, &r))
		fatal("KVM_SET_USER_MEMORY_REGION");
	g->vcpu_fd = -1;
}

void guest_create(struct mvm_guest *g, size_t mem_size)
{
	guest_create_vm(g, mem_size);
	g->vcpu_fd = guest_add_vcpu(g, 0, &g->run);
}

void guest_destroy(struct mvm_guest *g)
{
	/* The whole vCPU mmap: a page left mapped keeps the VM alive. */
	if (g->run)
		munmap(g->run, ioctl(g->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0));
	close(g->vcpu_fd);
	close(g->vm_fd);
	close(g->sys_fd);
	munmap(g->mem, g->mem_size);
}

void guest_load(struct mvm_guest *g, uint64_t gpa, const void *code, size_t len)
{
	memcpy(g->mem + gpa, code, len);
}

static void set_regs_rip(int vcpu_fd, uint64_t rip)
{
	struct kvm_regs regs = { .rip = rip, .rflags = 2, .rsp = 0x8000 };

	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs))
		fatal("KVM_SET_REGS");
}

void guest_set_real_mode(struct mvm_guest *g, int vcpu_fd, uint64_t ip)
{
	struct kvm_sregs sregs;

	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs))
		fatal("KVM_GET_SREGS");
	sregs.cs.selector = 0;
	sregs.cs.base = 0;
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs))
		fatal("KVM_SET_SREGS");
	set_regs_rip(vcpu_fd, ip);
}

void guest_set_prot32(struct mvm_guest *g, int vcpu_fd, uint64_t eip)
{
	struct kvm_sregs sregs;

	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs))
		fatal("KVM_GET_SREGS");
	mvm_guest_write_gdt(g->mem);
	mvm_guest_flat_sregs(&sregs, false);
	sregs.cs.selector = MVM_GUEST_CS32;
	sregs.cr0 = 0x11;		/* PE, ET */
	sregs.cr4 = 0;
	sregs.efer = 0;
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs))
		fatal("KVM_SET_SREGS");
	set_regs_rip(vcpu_fd, eip);
}

void guest_build_tables(struct mvm_guest *g)
{
	mvm_guest_write_tables(g->mem);
}

void guest_set_long_mode(struct mvm_guest *g, int vcpu_fd, uint64_t rip)
{
	if (mvm_guest_set_long_mode(vcpu_fd, g->mem))
		fatal("KVM_GET/SET_SREGS for long mode");
	set_regs_rip(vcpu_fd, rip);
}

void guest_set_supported_cpuid(struct mvm_guest *g, int vcpu_fd)
{
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[256];
	} cpuid = { .c.nent = 256 };

	if (ioctl(g->sys_fd, KVM_GET_SUPPORTED_CPUID, &cpuid))
		fatal("KVM_GET_SUPPORTED_CPUID");
	if (ioctl(vcpu_fd, KVM_SET_CPUID2, &cpuid))
		fatal("KVM_SET_CPUID2");
}

void guest_use_idt(struct mvm_guest *g, int vcpu_fd)
{
	struct kvm_sregs s;

	if (ioctl(vcpu_fd, KVM_GET_SREGS, &s))
		fatal("KVM_GET_SREGS");
	s.idt.base = GUEST_IDT;
	s.idt.limit = 16 * 32 - 1;
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &s))
		fatal("KVM_SET_SREGS");
}

void guest_set_idt_gate(struct mvm_guest *g, int vector, uint64_t handler)
{
	uint64_t *gate = (uint64_t *)(g->mem + GUEST_IDT + vector * 16);

	gate[0] = (handler & 0xffff) | (0x8ULL << 16) | (0x8eULL << 40) |
		  ((handler >> 16) & 0xffff) << 48;
	gate[1] = handler >> 32;
}

int guest_run(int vcpu_fd)
{
	return ioctl(vcpu_fd, KVM_RUN, 0) ? -errno : 0;
}

/* The rig reads our output through a pipe: line-buffer it so a test
 * that hangs still shows how far it got. */
static void __attribute__((constructor)) mvm_util_line_buffered(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}

uint64_t vcpu_rdmsr(int fd, uint32_t index)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = { .h.nmsrs = 1, .e.index = index };

	if (ioctl(fd, KVM_GET_MSRS, &m) != 1)
		return MVM_MSR_BAD;
	return m.e.data;
}

bool vcpu_wrmsr(int fd, uint32_t index, uint64_t data)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = { .h.nmsrs = 1, .e.index = index, .e.data = data };

	return ioctl(fd, KVM_SET_MSRS, &m) == 1;
}

bool host_tsc_is_clocksource(void)
{
	char cs[32] = "";
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/"
			"current_clocksource", "r");

	if (!f)
		return false;
	if (fscanf(f, "%31s", cs) != 1)
		cs[0] = 0;
	fclose(f);
	return !strcmp(cs, "tsc");
}

const char *mvm_tracefs(void)
{
	struct stat st;

	if (!stat("/sys/kernel/tracing/events", &st))
		return "/sys/kernel/tracing";
	if (!stat("/sys/kernel/debug/tracing/events", &st))
		return "/sys/kernel/debug/tracing";
	return NULL;
}

int mvm_write_file_in(const char *dir, const char *name, const char *val)
{
	char path[256];
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -1;
	r = write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -1;
	close(fd);
	return r;
}

long mvm_read_num(const char *dir, const char *file)
{
	char path[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}
