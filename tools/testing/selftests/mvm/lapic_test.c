// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel local APIC (split irqchip: KVM_CAP_SPLIT_IRQCHIP): its
 * RESET state and KVM_GET/SET_LAPIC, the xAPIC page and the x2APIC MSRs
 * as the guest sees them (#GP cases included), self-IPIs and IPIs to
 * another vCPU, the timer in one-shot, periodic and TSC-deadline modes,
 * TPR and CR8 holding an interrupt back, TMR for a level-triggered
 * vector, NMI through the ICR, and INIT + SIPI starting vCPU 1.
 *
 * Guests end with an OUT, never HLT: with the APIC in the kernel, HLT
 * sleeps in KVM_RUN until an interrupt.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

#define MEM_SIZE	(1 << 21)
#define HANDLERS	0x18000UL	/* interrupt handlers */
#define AP_CODE		0x12000UL	/* vCPU 1's long-mode code */
#define DATA		0x30000UL	/* counters, see below */
#define RESULTS		0x31000UL	/* R(n): the guest's findings */
#define IDT_LIMIT	(128 * 16 - 1)	/* gates 0-127 at GPA 0 */

/*
 * Counters at DATA, u64 each: [0] interrupts on vCPU 0's handlers,
 * [1] on vCPU 1's, [2] #GP, [3] NMI, [4] vCPU 1 ready, [5] vCPU 0 done,
 * [6] lowest-priority interrupts.
 */
#define CNT(i)		(DATA + 8 * (i))
#define S(x)		#x
#define XS(x)		S(x)
#define R(n)		XS(RESULTS) "+" #n "*8"
#define C(n)		XS(DATA) "+" #n "*8"

#define APIC_BASE_MSR_VAL	0xfee00000UL

/* The handlers, loaded at HANDLERS for every test. */
GUEST_CODE_BLOB(g_handlers, ".code64",
	/* Fixed interrupt on vCPU 0, xAPIC EOI. */
	"h_xirq0: push %rcx\n mov $0xfee00000, %ecx\n"
	"incq " C(0) "\n movl $0, 0xb0(%rcx)\n pop %rcx\n iretq\n"
	/* ... on vCPU 1. */
	"h_xirq1: push %rcx\n mov $0xfee00000, %ecx\n"
	"incq " C(1) "\n movl $0, 0xb0(%rcx)\n pop %rcx\n iretq\n"
	/* Lowest priority: whichever vCPU takes it. */
	"h_lowest: push %rcx\n mov $0xfee00000, %ecx\n"
	"lock incq " C(6) "\n movl $0, 0xb0(%rcx)\n pop %rcx\n iretq\n"
	/* x2APIC EOI: WRMSR 0x80b. */
	"h_x2irq: push %rax\n push %rcx\n push %rdx\n incq " C(0) "\n"
	"mov $0x80b, %ecx\n xor %eax, %eax\n xor %edx, %edx\n wrmsr\n"
	"pop %rdx\n pop %rcx\n pop %rax\n iretq\n"
	/* Vector 0x60: note TMR and ISR (0x60 is bit 0 of word 3) first. */
	"h_level: push %rax\n push %rcx\n push %rdx\n"
	"mov $0xfee00000, %ecx\n mov " C(0) ", %rdx\n"
	"mov 0x1b0(%rcx), %eax\n mov %eax, " XS(RESULTS) "+0x100(,%rdx,8)\n"
	"mov 0x130(%rcx), %eax\n mov %eax, " XS(RESULTS) "+0x200(,%rdx,8)\n"
	"movl $0, 0xb0(%rcx)\n incq " C(0) "\n"
	"pop %rdx\n pop %rcx\n pop %rax\n iretq\n"
	/* x2APIC, either vCPU: counts in [1]. */
	"h_x2irq1: push %rax\n push %rcx\n push %rdx\n lock incq " C(1) "\n"
	"mov $0x80b, %ecx\n xor %eax, %eax\n xor %edx, %edx\n wrmsr\n"
	"pop %rdx\n pop %rcx\n pop %rax\n iretq\n"
	"h_nmi: incq " C(3) "\n iretq\n"
	/* #GP from RDMSR/WRMSR (2 bytes): count it and skip the instruction. */
	"h_gp: incq " C(2) "\n addq $2, 8(%rsp)\n add $8, %rsp\n iretq\n");
extern const uint8_t h_xirq0[], h_xirq1[], h_lowest[], h_x2irq[], h_level[],
	h_x2irq1[], h_nmi[], h_gp[];

#define HANDLER(label)	(HANDLERS + ((label) - g_handlers_start))

struct lapic_vm {
	struct mvm_guest g;
	int fd1;		/* vCPU 1, or -1 */
	struct kvm_run *run1;
};

static uint64_t *data(struct lapic_vm *v)
{
	return (uint64_t *)(v->g.mem + DATA);
}

static uint64_t *results(struct lapic_vm *v)
{
	return (uint64_t *)(v->g.mem + RESULTS);
}

static void set_gate(struct mvm_guest *g, int vector, uint64_t handler)
{
	uint64_t *gate = (uint64_t *)(g->mem + vector * 16);

	gate[0] = (handler & 0xffff) | (0x8ULL << 16) | (0x8eULL << 40) |
		  ((handler >> 16) & 0xffff) << 48;
	gate[1] = handler >> 32;
}

/* 64-bit mode at @rip with the IDT at 0 and the stack at @rsp. */
static void vcpu_long_mode(struct lapic_vm *v, int fd, uint64_t rip,
			   uint64_t rsp)
{
	struct kvm_sregs s;
	struct kvm_regs regs;

	guest_set_long_mode(&v->g, fd, rip);
	ioctl(fd, KVM_GET_SREGS, &s);
	s.idt.base = 0;
	s.idt.limit = IDT_LIMIT;
	ioctl(fd, KVM_SET_SREGS, &s);
	ioctl(fd, KVM_GET_REGS, &regs);
	regs.rsp = rsp;
	ioctl(fd, KVM_SET_REGS, &regs);
}

/*
 * A VM with the split irqchip (LAPICs in the kernel), @nr vCPUs, vCPU 0
 * in 64-bit mode at GUEST_CODE running @code.
 */
static void lapic_vm_create(struct __test_metadata *_metadata,
			    struct lapic_vm *v, int nr, const uint8_t *code,
			    size_t len)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP,
				      .args[0] = 24 };
	struct kvm_userspace_memory_region r = { .slot = 0 };
	struct mvm_guest *g = &v->g;

	memset(v, 0, sizeof(*v));
	v->fd1 = -1;
	g->sys_fd = mvm_open_dev();
	g->vm_fd = ioctl(g->sys_fd, KVM_CREATE_VM, 0);
	ASSERT_LE(0, g->vm_fd);
	ASSERT_EQ(0, ioctl(g->vm_fd, KVM_ENABLE_CAP, &cap));
	g->mem_size = MEM_SIZE;
	g->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, g->mem);
	r.memory_size = MEM_SIZE;
	r.userspace_addr = (uintptr_t)g->mem;
	ASSERT_EQ(0, ioctl(g->vm_fd, KVM_SET_USER_MEMORY_REGION, &r));
	g->vcpu_fd = guest_add_vcpu(g, 0, &g->run);
	if (nr > 1)
		v->fd1 = guest_add_vcpu(g, 1, &v->run1);

	guest_load(g, HANDLERS, g_handlers_start, BLOB_LEN(g_handlers));
	if (code) {
		guest_load(g, GUEST_CODE, code, len);
		vcpu_long_mode(v, g->vcpu_fd, GUEST_CODE, 0x8000);
	}
}

static void lapic_vm_destroy(struct lapic_vm *v)
{
	if (v->fd1 >= 0) {
		munmap(v->run1, 4096);
		close(v->fd1);
	}
	guest_destroy(&v->g);
}

static void get_lapic(struct __test_metadata *_metadata, int fd,
		      struct kvm_lapic_state *s)
{
	memset(s, 0xaa, sizeof(*s));
	ASSERT_EQ(0, ioctl(fd, KVM_GET_LAPIC, s));
}

static uint32_t reg(const struct kvm_lapic_state *s, int off)
{
	return *(const uint32_t *)(s->regs + off);
}

static void set_reg(struct kvm_lapic_state *s, int off, uint32_t val)
{
	*(uint32_t *)(s->regs + off) = val;
}

/* Run @fd until an OUT to @port. */
static void run_to_port(struct __test_metadata *_metadata, int fd,
			struct kvm_run *run, int port)
{
	ASSERT_EQ(0, guest_run(fd));
	ASSERT_EQ(KVM_EXIT_IO, run->exit_reason)
		TH_LOG("exit reason %u", run->exit_reason);
	ASSERT_EQ(port, run->io.port);
}

/* The supported CPUID, with TSC deadline (leaf 1 ECX[24]) if asked. */
static void set_cpuid(struct __test_metadata *_metadata, struct lapic_vm *v,
		      int fd, bool tsc_deadline)
{
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[256];
	} cpuid = { .c.nent = 256 };
	unsigned int i;

	ASSERT_EQ(0, ioctl(v->g.sys_fd, KVM_GET_SUPPORTED_CPUID, &cpuid));
	for (i = 0; i < cpuid.c.nent; i++) {
		if (cpuid.e[i].function != 1)
			continue;
		EXPECT_TRUE(cpuid.e[i].ecx & (1u << 21));	/* x2APIC */
		if (tsc_deadline)
			cpuid.e[i].ecx |= 1u << 24;
	}
	ASSERT_EQ(0, ioctl(fd, KVM_SET_CPUID2, &cpuid));
}

/* ------------------------------------------------------------------ */

/* RESET: SDM 10.4.7.1 as KVM shows it; APs wait for INIT/SIPI. */
TEST(reset_state)
{
	struct kvm_mp_state mp;
	struct kvm_lapic_state s;
	struct lapic_vm v;
	int i, cpu;

	lapic_vm_create(_metadata, &v, 2, NULL, 0);
	for (cpu = 0; cpu < 2; cpu++) {
		int fd = cpu ? v.fd1 : v.g.vcpu_fd;

		get_lapic(_metadata, fd, &s);
		EXPECT_EQ((uint32_t)cpu << 24, reg(&s, 0x20));	/* ID */
		EXPECT_EQ(0x50014, reg(&s, 0x30));	/* version 0x14, 6 LVTs */
		EXPECT_EQ(0, reg(&s, 0x80));		/* TPR */
		EXPECT_EQ(0, reg(&s, 0xa0));		/* PPR */
		EXPECT_EQ(0, reg(&s, 0xd0));		/* LDR */
		EXPECT_EQ(0xffffffff, reg(&s, 0xe0));	/* DFR: flat */
		EXPECT_EQ(0xff, reg(&s, 0xf0));		/* SVR: disabled */
		for (i = 0; i < 8; i++) {
			EXPECT_EQ(0, reg(&s, 0x100 + 16 * i));	/* ISR */
			EXPECT_EQ(0, reg(&s, 0x180 + 16 * i));	/* TMR */
			EXPECT_EQ(0, reg(&s, 0x200 + 16 * i));	/* IRR */
		}
		EXPECT_EQ(0x10000, reg(&s, 0x320));	/* LVT timer */
		EXPECT_EQ(0x10000, reg(&s, 0x330));
		EXPECT_EQ(0x10000, reg(&s, 0x340));
		/* The BSP's LINT0 takes ExtINT (KVM's LINT0 quirk). */
		EXPECT_EQ(cpu ? 0x10000 : 0x700, reg(&s, 0x350));
		EXPECT_EQ(0x10000, reg(&s, 0x360));
		EXPECT_EQ(0x10000, reg(&s, 0x370));
		EXPECT_EQ(0, reg(&s, 0x380));		/* TMICT */
		EXPECT_EQ(0, reg(&s, 0x3e0));		/* TDCR */
		EXPECT_EQ(cpu ? 0xfee00800 : 0xfee00900,
			  vcpu_rdmsr(fd, 0x1b));
		ASSERT_EQ(0, ioctl(fd, KVM_GET_MP_STATE, &mp));
		EXPECT_EQ(cpu ? KVM_MP_STATE_UNINITIALIZED :
			  KVM_MP_STATE_RUNNABLE, mp.mp_state);
	}
	lapic_vm_destroy(&v);
}

/* KVM_SET_LAPIC then KVM_GET_LAPIC gives the same page; CR8 is TPR[7:4]. */
TEST(get_set_round_trip)
{
	struct kvm_lapic_state s, t;
	struct kvm_sregs sregs;
	struct lapic_vm v;

	lapic_vm_create(_metadata, &v, 1, NULL, 0);
	get_lapic(_metadata, v.g.vcpu_fd, &s);
	set_reg(&s, 0x20, 0x07000000);		/* ID */
	set_reg(&s, 0x80, 0x35);		/* TPR */
	set_reg(&s, 0xd0, 0x04000000);		/* LDR */
	set_reg(&s, 0xe0, 0x0fffffff);		/* DFR: cluster */
	set_reg(&s, 0xf0, 0x1ff);		/* SVR: enabled */
	set_reg(&s, 0x350, 0x10700);
	set_reg(&s, 0x360, 0x400);		/* LINT1: NMI */
	set_reg(&s, 0x370, 0xfe);		/* error */
	set_reg(&s, 0x3e0, 0xb);		/* divide by 1 */
	ASSERT_EQ(0, ioctl(v.g.vcpu_fd, KVM_SET_LAPIC, &s));
	get_lapic(_metadata, v.g.vcpu_fd, &t);
	EXPECT_EQ(0x07000000, reg(&t, 0x20));
	EXPECT_EQ(0x35, reg(&t, 0x80));
	EXPECT_EQ(0x35, reg(&t, 0xa0));		/* PPR = TPR: nothing in service */
	EXPECT_EQ(0x04000000, reg(&t, 0xd0));
	EXPECT_EQ(0x0fffffff, reg(&t, 0xe0));
	EXPECT_EQ(0x1ff, reg(&t, 0xf0));
	EXPECT_EQ(0x10700, reg(&t, 0x350));
	EXPECT_EQ(0x400, reg(&t, 0x360));
	EXPECT_EQ(0xfe, reg(&t, 0x370));
	EXPECT_EQ(0xb, reg(&t, 0x3e0));
	ASSERT_EQ(0, ioctl(v.g.vcpu_fd, KVM_GET_SREGS, &sregs));
	EXPECT_EQ(3, sregs.cr8);
	EXPECT_EQ(0xfee00900, sregs.apic_base);

	/* KVM_SET_SREGS's CR8 is the APIC's TPR. */
	sregs.cr8 = 9;
	ASSERT_EQ(0, ioctl(v.g.vcpu_fd, KVM_SET_SREGS, &sregs));
	get_lapic(_metadata, v.g.vcpu_fd, &t);
	EXPECT_EQ(0x90, reg(&t, 0x80));
	lapic_vm_destroy(&v);
}

/* In x2APIC mode KVM_GET_LAPIC shows the ID as KVM_CAP_X2APIC_API says. */
TEST(x2apic_id_format)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_X2APIC_API,
				      .args[0] = KVM_X2APIC_API_USE_32BIT_IDS };
	struct kvm_lapic_state s;
	struct lapic_vm v;

	lapic_vm_create(_metadata, &v, 2, NULL, 0);
	set_cpuid(_metadata, &v, v.fd1, false);
	/* Without x2APIC in CPUID the bit is reserved. */
	EXPECT_FALSE(vcpu_wrmsr(v.g.vcpu_fd, 0x1b, 0xfee00d00));
	ASSERT_TRUE(vcpu_wrmsr(v.fd1, 0x1b, 0xfee00c00));
	get_lapic(_metadata, v.fd1, &s);
	EXPECT_EQ(1u << 24, reg(&s, 0x20));
	EXPECT_EQ(2, reg(&s, 0xd0));		/* cluster 0, bit 1 */
	/* Set with the xAPIC-style ID: accepted, LDR recomputed. */
	set_reg(&s, 0xd0, 0x12345678);
	ASSERT_EQ(0, ioctl(v.fd1, KVM_SET_LAPIC, &s));
	get_lapic(_metadata, v.fd1, &s);
	EXPECT_EQ(2, reg(&s, 0xd0));

	ASSERT_EQ(0, ioctl(v.g.vm_fd, KVM_ENABLE_CAP, &cap));
	get_lapic(_metadata, v.fd1, &s);
	EXPECT_EQ(1, reg(&s, 0x20));
	ASSERT_EQ(0, ioctl(v.fd1, KVM_SET_LAPIC, &s));
	set_reg(&s, 0x20, 5);
	EXPECT_EQ(-1, ioctl(v.fd1, KVM_SET_LAPIC, &s));
	EXPECT_EQ(EINVAL, errno);
	lapic_vm_destroy(&v);
}

/* Registers through the xAPIC page, from the guest. */
GUEST_CODE_BLOB(g_mmio, ".code64",
	"mov $0xfee00000, %ebx\n"
	"mov 0x20(%rbx), %eax\n mov %eax, " R(0) "\n"
	"mov 0x30(%rbx), %eax\n mov %eax, " R(1) "\n"
	"movl $0x50, 0x80(%rbx)\n mov 0x80(%rbx), %eax\n mov %eax, " R(2) "\n"
	"mov 0xa0(%rbx), %eax\n mov %eax, " R(3) "\n"
	"movl $0x1ff, 0xf0(%rbx)\n mov 0xf0(%rbx), %eax\n mov %eax, " R(4) "\n"
	"movl $0x12345678, 0x30(%rbx)\n mov 0x30(%rbx), %eax\n mov %eax, " R(5) "\n"
	"movl $0x0f00ffff, 0xd0(%rbx)\n mov 0xd0(%rbx), %eax\n mov %eax, " R(6) "\n"
	"movl $0, 0xe0(%rbx)\n mov 0xe0(%rbx), %eax\n mov %eax, " R(7) "\n"
	"movl $0x1234, 0x280(%rbx)\n mov 0x280(%rbx), %eax\n mov %eax, " R(8) "\n"
	"movl $0x3ffff, 0x360(%rbx)\n mov 0x360(%rbx), %eax\n mov %eax, " R(9) "\n"
	"movzbl 0x30(%rbx), %eax\n mov %eax, " R(10) "\n"
	"movzwl 0x32(%rbx), %eax\n mov %eax, " R(11) "\n"
	"movl $0xbbbb, 0x3e0(%rbx)\n mov 0x3e0(%rbx), %eax\n mov %eax, " R(12) "\n"
	"movl $0x05000000, 0x20(%rbx)\n mov 0x20(%rbx), %eax\n mov %eax, " R(13) "\n"
	"movl $0x3ffff, 0x320(%rbx)\n mov 0x320(%rbx), %eax\n mov %eax, " R(14) "\n"
	"movl $0x1ff, 0x100(%rbx)\n mov 0x100(%rbx), %eax\n mov %eax, " R(15) "\n"
	/* SVR software-disable masks the LVTs. */
	"movl $0x5c, 0x340(%rbx)\n movl $0xff, 0xf0(%rbx)\n"
	"mov 0x340(%rbx), %eax\n mov %eax, " R(16) "\n"
	"out %al, $0x80\n");

TEST(xapic_mmio_registers)
{
	struct kvm_lapic_state s;
	struct kvm_sregs sregs;
	struct lapic_vm v;
	uint64_t *r;

	lapic_vm_create(_metadata, &v, 1, g_mmio_start, BLOB_LEN(g_mmio));
	r = results(&v);
	run_to_port(_metadata, v.g.vcpu_fd, v.g.run, 0x80);
	EXPECT_EQ(0, r[0]);			/* ID */
	EXPECT_EQ(0x50014, r[1]);		/* version */
	/* TPR[3:0] is not kept by KVM's V_TPR sync on AMD: not tested. */
	EXPECT_EQ(0x50, r[2]);			/* TPR */
	EXPECT_EQ(0x50, r[3]);			/* PPR = TPR, nothing in service */
	EXPECT_EQ(0x1ff, r[4]);			/* SVR */
	EXPECT_EQ(0x50014, r[5]);		/* version is read-only */
	EXPECT_EQ(0x0f000000, r[6]);		/* LDR: bits 31:24 */
	EXPECT_EQ(0x0fffffff, r[7]);		/* DFR: cluster */
	EXPECT_EQ(0, r[8]);			/* ESR: no errors */
	EXPECT_EQ(0x1f7ff, r[9]);		/* LINT1's writable bits */
	EXPECT_EQ(0x14, r[10]);			/* byte read */
	EXPECT_EQ(0x5, r[11]);			/* 16-bit read: max LVT */
	EXPECT_EQ(0xb, r[12]);			/* TDCR bits 3, 1:0 */
	EXPECT_EQ(0x05000000, r[13]);		/* ID is writable in xAPIC */
	EXPECT_EQ(0x110ff, r[14]);		/* no CPUID: no timer modes */
	EXPECT_EQ(0, r[15]);			/* ISR is read-only */
	EXPECT_EQ(0x1005c, r[16]);		/* masked by SVR disable */

	get_lapic(_metadata, v.g.vcpu_fd, &s);
	EXPECT_EQ(0x05000000, reg(&s, 0x20));
	EXPECT_EQ(0x50, reg(&s, 0x80));
	ASSERT_EQ(0, ioctl(v.g.vcpu_fd, KVM_GET_SREGS, &sregs));
	EXPECT_EQ(5, sregs.cr8);
	lapic_vm_destroy(&v);
}

/*
 * x2APIC: enabled through IA32_APIC_BASE, registers as MSRs, and the
 * #GPs: before x2APIC mode, DFR, writes to read-only registers, ICR2 and
 * ARBPRI (gone in x2APIC), reserved registers, reserved bits (SELF_IPI,
 * bits 63:32, ICR), a non-zero ESR write, and the mode transitions the
 * SDM forbids (x2APIC -> xAPIC, disabled -> x2APIC).
 */
#define GP_STEP(n)	"mov " C(2) ", %r9\n mov %r9, " R(n) "\n"
GUEST_CODE_BLOB(g_x2apic, ".code64",
	"mov $0x802, %ecx\n rdmsr\n" GP_STEP(0)
	"mov $0x1b, %ecx\n rdmsr\n or $0x400, %eax\n wrmsr\n" GP_STEP(1)
	"mov $0x802, %ecx\n rdmsr\n mov %eax, " R(2) "\n"
	"mov $0x803, %ecx\n rdmsr\n mov %eax, " R(3) "\n"
	"mov $0x80d, %ecx\n rdmsr\n mov %eax, " R(4) "\n"
	"mov $0x808, %ecx\n mov $0x40, %eax\n xor %edx, %edx\n wrmsr\n"
	"rdmsr\n mov %eax, " R(5) "\n"
	"mov $0x80e, %ecx\n rdmsr\n" GP_STEP(6)
	"mov $0x802, %ecx\n xor %eax, %eax\n xor %edx, %edx\n wrmsr\n" GP_STEP(7)
	"mov $0x803, %ecx\n wrmsr\n" GP_STEP(8)
	"mov $0x831, %ecx\n rdmsr\n" GP_STEP(9)
	"mov $0x809, %ecx\n rdmsr\n" GP_STEP(10)
	"mov $0x804, %ecx\n rdmsr\n" GP_STEP(11)
	"mov $0x83f, %ecx\n mov $0x100, %eax\n xor %edx, %edx\n wrmsr\n" GP_STEP(12)
	"mov $0x808, %ecx\n mov $0x10, %eax\n mov $1, %edx\n wrmsr\n" GP_STEP(13)
	"mov $0x830, %ecx\n mov $0x2000, %eax\n xor %edx, %edx\n wrmsr\n" GP_STEP(14)
	"mov $0x80a, %ecx\n xor %eax, %eax\n wrmsr\n" GP_STEP(15)
	"mov $0x828, %ecx\n mov $1, %eax\n wrmsr\n" GP_STEP(16)
	"mov $0x828, %ecx\n xor %eax, %eax\n wrmsr\n" GP_STEP(17)
	/* The xAPIC page reads all ones in x2APIC mode (KVM's MMIO hole). */
	"mov $0xfee00000, %ebx\n mov 0x30(%rbx), %eax\n mov %eax, " R(18) "\n"
	"mov $0x1b, %ecx\n rdmsr\n and $~0x400, %eax\n wrmsr\n" GP_STEP(19)
	"rdmsr\n and $~0xc00, %eax\n wrmsr\n" GP_STEP(20)
	"rdmsr\n or $0xc00, %eax\n wrmsr\n" GP_STEP(21)
	"rdmsr\n mov %eax, " R(22) "\n"
	"out %al, $0x80\n");

TEST(x2apic_msrs)
{
	struct lapic_vm v;
	uint64_t *r;

	lapic_vm_create(_metadata, &v, 1, g_x2apic_start, BLOB_LEN(g_x2apic));
	set_cpuid(_metadata, &v, v.g.vcpu_fd, false);
	set_gate(&v.g, 13, HANDLER(h_gp));
	r = results(&v);
	run_to_port(_metadata, v.g.vcpu_fd, v.g.run, 0x80);
	EXPECT_EQ(1, r[0]);		/* not in x2APIC mode yet */
	EXPECT_EQ(1, r[1]);		/* xAPIC -> x2APIC is fine */
	EXPECT_EQ(0, r[2]);		/* x2APIC ID */
	EXPECT_EQ(0x1050014, r[3]);	/* + EOI-broadcast suppression */
	EXPECT_EQ(1, r[4]);		/* LDR: cluster 0, bit 0 */
	EXPECT_EQ(0x40, r[5]);		/* TPR */
	EXPECT_EQ(2, r[6]);		/* DFR */
	EXPECT_EQ(3, r[7]);		/* ID is read-only */
	EXPECT_EQ(4, r[8]);		/* version */
	EXPECT_EQ(5, r[9]);		/* ICR2 */
	EXPECT_EQ(6, r[10]);		/* ARBPRI */
	EXPECT_EQ(7, r[11]);		/* reserved 0x804 */
	EXPECT_EQ(8, r[12]);		/* SELF_IPI bits 31:8 */
	EXPECT_EQ(9, r[13]);		/* bits 63:32 */
	EXPECT_EQ(10, r[14]);		/* ICR bit 13 */
	EXPECT_EQ(11, r[15]);		/* PPR is read-only */
	EXPECT_EQ(12, r[16]);		/* ESR: non-zero */
	EXPECT_EQ(12, r[17]);		/* ESR: zero is fine */
	EXPECT_EQ(0xffffffff, r[18]);
	EXPECT_EQ(13, r[19]);		/* x2APIC -> xAPIC */
	EXPECT_EQ(13, r[20]);		/* x2APIC -> disabled */
	EXPECT_EQ(14, r[21]);		/* disabled -> x2APIC */
	EXPECT_EQ(0xfee00100, r[22]);
	lapic_vm_destroy(&v);
}

/*
 * Self-IPIs: a fixed IPI dropped while the APIC is software-disabled,
 * then ICR with the self shorthand (xAPIC), the SELF_IPI MSR and the ICR
 * MSR (x2APIC).  Each handler counts and EOIs.
 */
GUEST_CODE_BLOB(g_self, ".code64",
	"mov $0xfee00000, %ebx\n"
	"sti\n movl $0x40040, 0x300(%rbx)\n"
	"mov 0x220(%rbx), %eax\n mov %eax, " R(0) "\n"
	"mov " C(0) ", %rax\n mov %rax, " R(1) "\n"
	"movl $0x1ff, 0xf0(%rbx)\n"
	"movl $0x40040, 0x300(%rbx)\n"
	"1: cmpq $1, " C(0) "\n jne 1b\n"
	"mov 0x300(%rbx), %eax\n mov %eax, " R(2) "\n"
	"cli\n mov $0x1b, %ecx\n rdmsr\n or $0x400, %eax\n wrmsr\n sti\n"
	"mov $0x83f, %ecx\n mov $0x41, %eax\n xor %edx, %edx\n wrmsr\n"
	"2: cmpq $2, " C(0) "\n jne 2b\n"
	"mov $0x830, %ecx\n mov $0x40041, %eax\n wrmsr\n"
	"3: cmpq $3, " C(0) "\n jne 3b\n"
	"rdmsr\n mov %eax, " R(3) "\n mov %edx, " R(4) "\n"
	"cli\n out %al, $0x80\n");

TEST(self_ipi)
{
	struct lapic_vm v;
	uint64_t *r;

	lapic_vm_create(_metadata, &v, 1, g_self_start, BLOB_LEN(g_self));
	set_cpuid(_metadata, &v, v.g.vcpu_fd, false);
	set_gate(&v.g, 0x40, HANDLER(h_xirq0));
	set_gate(&v.g, 0x41, HANDLER(h_x2irq));
	r = results(&v);
	run_to_port(_metadata, v.g.vcpu_fd, v.g.run, 0x80);
	EXPECT_EQ(0, r[0]);		/* not in IRR: SVR disabled */
	EXPECT_EQ(0, r[1]);
	EXPECT_EQ(0x40040, r[2]);	/* ICR reads back, not busy */
	EXPECT_EQ(0x40041, r[3]);
	EXPECT_EQ(0, r[4]);
	EXPECT_EQ(3, data(&v)[0]);
	lapic_vm_destroy(&v);
}

/*
 * vCPU 0 sends fixed IPIs to vCPU 1 (physical, logical flat, all but
 * self), then lowest-priority ones to both: each reaches one vCPU.
 */
GUEST_CODE_BLOB(g_ipi_ap, ".code64",
	"mov $0xfee00000, %ebx\n"
	"movl $0x1ff, 0xf0(%rbx)\n"
	"movl $0x02000000, 0xd0(%rbx)\n"
	"sti\n movq $1, " C(4) "\n"
	"1: cmpq $1, " C(5) "\n jne 1b\n"
	"cli\n out %al, $0x81\n");

GUEST_CODE_BLOB(g_ipi_bsp, ".code64",
	"mov $0xfee00000, %ebx\n"
	"movl $0x1ff, 0xf0(%rbx)\n"
	"movl $0x01000000, 0xd0(%rbx)\n"
	"sti\n"
	"1: cmpq $1, " C(4) "\n jne 1b\n"
	"movl $0x01000000, 0x310(%rbx)\n movl $0x42, 0x300(%rbx)\n"
	"2: cmpq $1, " C(1) "\n jne 2b\n"
	"movl $0x02000000, 0x310(%rbx)\n movl $0x842, 0x300(%rbx)\n"
	"3: cmpq $2, " C(1) "\n jne 3b\n"
	"movl $0xc0042, 0x300(%rbx)\n"
	"4: cmpq $3, " C(1) "\n jne 4b\n"
	"mov 0x300(%rbx), %eax\n mov %eax, " R(0) "\n"
	"movl $0x03000000, 0x310(%rbx)\n"
	"mov $8, %esi\n"
	"5: movl $0x943, 0x300(%rbx)\n"
	"mov $9, %edi\n sub %esi, %edi\n"
	"6: cmp " C(6) ", %rdi\n jne 6b\n"
	"dec %esi\n jnz 5b\n"
	"mov " C(0) ", %rax\n mov %rax, " R(1) "\n"
	"movq $1, " C(5) "\n"
	"cli\n out %al, $0x80\n");

struct runner {
	int fd;
	int result;
};

static void *run_thread(void *arg)
{
	struct runner *r = arg;
	int i;

	/* KVM returns -EAGAIN from a KVM_RUN that only took INIT/SIPI. */
	for (i = 0; i < 1000; i++) {
		r->result = guest_run(r->fd);
		if (r->result != -EAGAIN)
			break;
	}
	return NULL;
}

static void start_ap(struct __test_metadata *_metadata, struct lapic_vm *v,
		     const uint8_t *code, size_t len)
{
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };

	guest_load(&v->g, AP_CODE, code, len);
	vcpu_long_mode(v, v->fd1, AP_CODE, 0x9000);
	ASSERT_EQ(0, ioctl(v->fd1, KVM_SET_MP_STATE, &mp));
}

TEST(ipi_to_other_vcpu)
{
	struct runner ap;
	struct lapic_vm v;
	pthread_t th;

	lapic_vm_create(_metadata, &v, 2, g_ipi_bsp_start, BLOB_LEN(g_ipi_bsp));
	start_ap(_metadata, &v, g_ipi_ap_start, BLOB_LEN(g_ipi_ap));
	set_gate(&v.g, 0x42, HANDLER(h_xirq1));
	set_gate(&v.g, 0x43, HANDLER(h_lowest));
	ap.fd = v.fd1;
	ASSERT_EQ(0, pthread_create(&th, NULL, run_thread, &ap));
	run_to_port(_metadata, v.g.vcpu_fd, v.g.run, 0x80);
	pthread_join(th, NULL);
	ASSERT_EQ(0, ap.result);
	EXPECT_EQ(KVM_EXIT_IO, v.run1->exit_reason);
	EXPECT_EQ(0x81, v.run1->io.port);
	EXPECT_EQ(3, data(&v)[1]);
	EXPECT_EQ(0, results(&v)[1]);	/* vCPU 0's own vector never came */
	EXPECT_EQ(0xc0042, results(&v)[0]);
	EXPECT_EQ(8, data(&v)[6]);	/* each lowest-priority IPI once */
	lapic_vm_destroy(&v);
}

/*
 * The timer: one-shot (current count 0 once it fired, decreasing while
 * it runs), then periodic until three more interrupts.
 */
GUEST_CODE_BLOB(g_timer, ".code64",
	"mov $0xfee00000, %ebx\n"
	"movl $0x1ff, 0xf0(%rbx)\n"
	"movl $0xb, 0x3e0(%rbx)\n"
	"movl $0x50, 0x320(%rbx)\n"
	"sti\n movl $1000000, 0x380(%rbx)\n"
	"1: cmpq $1, " C(0) "\n jne 1b\n"
	"mov 0x390(%rbx), %eax\n mov %eax, " R(0) "\n"
	"movl $0xffffffff, 0x380(%rbx)\n"
	"mov 0x390(%rbx), %eax\n mov %eax, " R(1) "\n"
	"mov $100000, %ecx\n 2: loop 2b\n"
	"mov 0x390(%rbx), %eax\n mov %eax, " R(2) "\n"
	"movl $0, 0x380(%rbx)\n"
	"mov 0x390(%rbx), %eax\n mov %eax, " R(3) "\n"
	"movl $0x20051, 0x320(%rbx)\n"
	"movl $500000, 0x380(%rbx)\n"
	"3: cmpq $4, " C(0) "\n jb 3b\n"
	"movl $0x10051, 0x320(%rbx)\n movl $0, 0x380(%rbx)\n"
	"cli\n out %al, $0x80\n");

TEST(timer_oneshot_and_periodic)
{
	struct lapic_vm v;
	uint64_t *r;

	lapic_vm_create(_metadata, &v, 1, g_timer_start, BLOB_LEN(g_timer));
	set_cpuid(_metadata, &v, v.g.vcpu_fd, false);
	set_gate(&v.g, 0x50, HANDLER(h_xirq0));
	set_gate(&v.g, 0x51, HANDLER(h_xirq0));
	r = results(&v);
	run_to_port(_metadata, v.g.vcpu_fd, v.g.run, 0x80);
	EXPECT_EQ(0, r[0]);
	EXPECT_NE(0, r[1]);
	EXPECT_GT(r[1], r[2]);		/* counting down */
	EXPECT_NE(0, r[2]);
	EXPECT_EQ(0, r[3]);		/* TMICT 0 stops it */
	/* One-shot once, periodic at least three times until masked. */
	EXPECT_LE(4, data(&v)[0]);
	lapic_vm_destroy(&v);
}

/*
 * TSC-deadline mode (with the CPUID bit): fires once the guest TSC
 * passes IA32_TSC_DEADLINE, which then reads 0; a deadline in the past
 * fires at once; TMICT is ignored.  R12 holds the TSC rate in kHz.
 */
GUEST_CODE_BLOB(g_tscdl, ".code64",
	"mov $0xfee00000, %ebx\n"
	"movl $0x1ff, 0xf0(%rbx)\n"
	"movl $0x40052, 0x320(%rbx)\n"
	"mov 0x320(%rbx), %eax\n mov %eax, " R(0) "\n"
	"sti\n"
	"imul $50, %r12\n"		/* 50 ms */
	"rdtsc\n shl $32, %rdx\n or %rdx, %rax\n add %r12, %rax\n"
	"mov %rax, %r13\n mov %rax, %rdx\n shr $32, %rdx\n"
	"mov $0x6e0, %ecx\n wrmsr\n"
	"rdmsr\n shl $32, %rdx\n or %rdx, %rax\n mov %rax, " R(1) "\n"
	"mov %r13, " R(2) "\n"
	"1: cmpq $1, " C(0) "\n jne 1b\n"
	"rdtsc\n shl $32, %rdx\n or %rdx, %rax\n mov %rax, " R(3) "\n"
	"rdmsr\n mov %eax, " R(4) "\n mov %edx, " R(5) "\n"
	"mov $1, %eax\n xor %edx, %edx\n wrmsr\n"
	"2: cmpq $2, " C(0) "\n jne 2b\n"
	"movl $1000, 0x380(%rbx)\n mov 0x380(%rbx), %eax\n mov %eax, " R(6) "\n"
	"cli\n out %al, $0x80\n");

TEST(timer_tsc_deadline)
{
	struct kvm_regs regs;
	struct lapic_vm v;
	uint64_t *r;
	int khz;

	lapic_vm_create(_metadata, &v, 1, g_tscdl_start, BLOB_LEN(g_tscdl));
	set_cpuid(_metadata, &v, v.g.vcpu_fd, true);
	set_gate(&v.g, 0x52, HANDLER(h_xirq0));
	khz = ioctl(v.g.vcpu_fd, KVM_GET_TSC_KHZ);
	ASSERT_LT(0, khz);
	ASSERT_EQ(0, ioctl(v.g.vcpu_fd, KVM_GET_REGS, &regs));
	regs.r12 = khz;
	ASSERT_EQ(0, ioctl(v.g.vcpu_fd, KVM_SET_REGS, &regs));
	r = results(&v);
	run_to_port(_metadata, v.g.vcpu_fd, v.g.run, 0x80);
	EXPECT_EQ(0x40052, r[0]);
	EXPECT_EQ(r[2], r[1]);		/* reads back while armed */
	EXPECT_GE(r[3], r[2]);		/* not before the deadline */
	EXPECT_EQ(0, r[4]);
	EXPECT_EQ(0, r[5]);
	EXPECT_EQ(0, r[6]);
	EXPECT_EQ(2, data(&v)[0]);
	lapic_vm_destroy(&v);
}

/*
 * TPR (through the page) and CR8 hold back an interrupt whose class is
 * not above theirs (SDM 10.8.3.1, 10.8.6.1) until lowered.
 */
GUEST_CODE_BLOB(g_tpr, ".code64",
	"mov $0xfee00000, %ebx\n"
	"movl $0x1ff, 0xf0(%rbx)\n"
	"movl $0x50, 0x80(%rbx)\n"
	"sti\n movl $0x40045, 0x300(%rbx)\n"
	"mov 0x80(%rbx), %eax\n"
	"mov " C(0) ", %rax\n mov %rax, " R(0) "\n"
	"mov 0x220(%rbx), %eax\n mov %eax, " R(1) "\n"
	"mov 0xa0(%rbx), %eax\n mov %eax, " R(2) "\n"
	"movl $0x40, 0x80(%rbx)\n"
	"mov 0x80(%rbx), %eax\n"
	"mov " C(0) ", %rax\n mov %rax, " R(3) "\n"
	"movl $0x3f, 0x80(%rbx)\n"
	"1: cmpq $1, " C(0) "\n jne 1b\n"
	"mov $6, %eax\n mov %rax, %cr8\n"
	"mov 0x80(%rbx), %eax\n mov %eax, " R(4) "\n"
	"movl $0x40065, 0x300(%rbx)\n"
	"mov 0x80(%rbx), %eax\n"
	"mov " C(0) ", %rax\n mov %rax, " R(5) "\n"
	"mov %cr8, %rax\n mov %rax, " R(6) "\n"
	"xor %eax, %eax\n mov %rax, %cr8\n"
	"2: cmpq $2, " C(0) "\n jne 2b\n"
	"cli\n out %al, $0x80\n");

TEST(tpr_and_cr8_mask)
{
	struct kvm_sregs sregs;
	struct lapic_vm v;
	uint64_t *r;

	lapic_vm_create(_metadata, &v, 1, g_tpr_start, BLOB_LEN(g_tpr));
	set_gate(&v.g, 0x45, HANDLER(h_xirq0));
	set_gate(&v.g, 0x65, HANDLER(h_xirq0));
	r = results(&v);
	/* With the APIC in the kernel KVM_RUN does not take run->cr8. */
	v.g.run->cr8 = 0xff;
	run_to_port(_metadata, v.g.vcpu_fd, v.g.run, 0x80);
	EXPECT_EQ(0, r[0]);
	EXPECT_EQ(1u << 5, r[1]);	/* 0x45 waits in IRR */
	EXPECT_EQ(0x50, r[2]);
	EXPECT_EQ(0, r[3]);		/* class 4 is not above TPR class 4 */
	EXPECT_EQ(0x60, r[4]);		/* CR8 is TPR[7:4] */
	EXPECT_EQ(1, r[5]);
	EXPECT_EQ(6, r[6]);
	EXPECT_EQ(2, data(&v)[0]);
	ASSERT_EQ(0, ioctl(v.g.vcpu_fd, KVM_GET_SREGS, &sregs));
	EXPECT_EQ(0, sregs.cr8);
	lapic_vm_destroy(&v);
}

/*
 * A level-triggered fixed IPI sets its TMR bit (the handler sees TMR and
 * ISR); the bit stays after EOI until an edge-triggered one of the same
 * vector arrives.
 */
GUEST_CODE_BLOB(g_level, ".code64",
	"mov $0xfee00000, %ebx\n"
	"movl $0x1ff, 0xf0(%rbx)\n"
	"sti\n movl $0x4c060, 0x300(%rbx)\n"
	"1: cmpq $1, " C(0) "\n jne 1b\n"
	"mov 0x1b0(%rbx), %eax\n mov %eax, " R(0) "\n"
	"mov 0x130(%rbx), %eax\n mov %eax, " R(1) "\n"
	"movl $0x44060, 0x300(%rbx)\n"
	"2: cmpq $2, " C(0) "\n jne 2b\n"
	"mov 0x1b0(%rbx), %eax\n mov %eax, " R(2) "\n"
	"cli\n out %al, $0x80\n");

TEST(level_triggered_tmr)
{
	struct lapic_vm v;
	uint64_t *r;

	lapic_vm_create(_metadata, &v, 1, g_level_start, BLOB_LEN(g_level));
	set_gate(&v.g, 0x60, HANDLER(h_level));
	r = results(&v);
	run_to_port(_metadata, v.g.vcpu_fd, v.g.run, 0x80);
	EXPECT_EQ(1, r[0x100 / 8]);	/* TMR in the level handler */
	EXPECT_EQ(1, r[0x200 / 8]);	/* ISR */
	EXPECT_EQ(1, r[0]);		/* TMR kept after EOI */
	EXPECT_EQ(0, r[1]);		/* ISR cleared by EOI */
	EXPECT_EQ(0, r[0x100 / 8 + 1]);	/* edge: TMR cleared */
	EXPECT_EQ(1, r[0x200 / 8 + 1]);
	EXPECT_EQ(0, r[2]);
	lapic_vm_destroy(&v);
}

/* NMI through the ICR: delivered with IF=0 and the APIC software-disabled. */
GUEST_CODE_BLOB(g_nmi, ".code64",
	"mov $0xfee00000, %ebx\n"
	"cli\n movl $0x40400, 0x300(%rbx)\n"
	"1: cmpq $1, " C(3) "\n jne 1b\n"
	"movl $0x1ff, 0xf0(%rbx)\n"
	"movl $0x40400, 0x300(%rbx)\n"
	"2: cmpq $2, " C(3) "\n jne 2b\n"
	"out %al, $0x80\n");

TEST(nmi_by_icr)
{
	struct lapic_vm v;

	lapic_vm_create(_metadata, &v, 1, g_nmi_start, BLOB_LEN(g_nmi));
	set_gate(&v.g, 2, HANDLER(h_nmi));
	run_to_port(_metadata, v.g.vcpu_fd, v.g.run, 0x80);
	EXPECT_EQ(2, data(&v)[3]);
	lapic_vm_destroy(&v);
}

/*
 * INIT and SIPI from vCPU 0 start vCPU 1, which waited in
 * KVM_MP_STATE_UNINITIALIZED, in real mode at vector 0x20: CS 0x2000,
 * base 0x20000, IP 0.
 */
GUEST_CODE_BLOB(g_init_bsp, ".code64",
	"mov $0xfee00000, %ebx\n"
	"movl $0x1ff, 0xf0(%rbx)\n"
	"movl $0x01000000, 0x310(%rbx)\n movl $0x4500, 0x300(%rbx)\n"
	"movl $0x01000000, 0x310(%rbx)\n movl $0x4620, 0x300(%rbx)\n"
	"out %al, $0x80\n");

GUEST_CODE_BLOB(g_init_ap, ".code16",
	"mov $0x5a5a, %ax\n out %ax, $0x91\n 1: jmp 1b\n");

TEST(init_sipi_starts_ap)
{
	struct kvm_mp_state mp;
	struct kvm_sregs sregs;
	struct runner ap;
	struct lapic_vm v;
	pthread_t th;

	lapic_vm_create(_metadata, &v, 2, g_init_bsp_start,
			BLOB_LEN(g_init_bsp));
	guest_load(&v.g, 0x20000, g_init_ap_start, BLOB_LEN(g_init_ap));
	ap.fd = v.fd1;
	ASSERT_EQ(0, pthread_create(&th, NULL, run_thread, &ap));
	/* vCPU 1 waits: it must not run before its SIPI. */
	usleep(50000);
	run_to_port(_metadata, v.g.vcpu_fd, v.g.run, 0x80);
	pthread_join(th, NULL);
	ASSERT_EQ(0, ap.result);
	ASSERT_EQ(KVM_EXIT_IO, v.run1->exit_reason);
	EXPECT_EQ(0x91, v.run1->io.port);
	EXPECT_EQ(0x5a5a, *(uint16_t *)((uint8_t *)v.run1 +
					v.run1->io.data_offset));
	ASSERT_EQ(0, ioctl(v.fd1, KVM_GET_SREGS, &sregs));
	EXPECT_EQ(0x2000, sregs.cs.selector);
	EXPECT_EQ(0x20000, sregs.cs.base);
	EXPECT_EQ(0, sregs.cr0 & 1);
	ASSERT_EQ(0, ioctl(v.fd1, KVM_GET_MP_STATE, &mp));
	EXPECT_EQ(KVM_MP_STATE_RUNNABLE, mp.mp_state);
	lapic_vm_destroy(&v);
}

/*
 * x2APIC IPIs from vCPU 0: physical to id 1, logical to cluster 0 bit 1
 * (vCPU 1's fixed LDR), and the physical broadcast 0xffffffff, which
 * reaches both vCPUs.
 */
#define X2APIC_ON	"mov $0x1b, %ecx\n rdmsr\n or $0x400, %eax\n wrmsr\n" \
			"mov $0x80f, %ecx\n mov $0x1ff, %eax\n xor %edx, %edx\n wrmsr\n"
GUEST_CODE_BLOB(g_x2ipi_ap, ".code64",
	X2APIC_ON
	"sti\n movq $1, " C(4) "\n"
	"1: cmpq $1, " C(5) "\n jne 1b\n"
	"cli\n out %al, $0x81\n");

GUEST_CODE_BLOB(g_x2ipi_bsp, ".code64",
	X2APIC_ON
	"sti\n"
	"1: cmpq $1, " C(4) "\n jne 1b\n"
	"mov $0x830, %ecx\n"
	"mov $1, %edx\n mov $0x44, %eax\n wrmsr\n"
	"2: cmpq $1, " C(1) "\n jne 2b\n"
	"mov $2, %edx\n mov $0x844, %eax\n wrmsr\n"
	"3: cmpq $2, " C(1) "\n jne 3b\n"
	"mov $0xffffffff, %edx\n mov $0x44, %eax\n wrmsr\n"
	"4: cmpq $4, " C(1) "\n jb 4b\n"
	"rdmsr\n mov %eax, " R(0) "\n mov %edx, " R(1) "\n"
	"movq $1, " C(5) "\n"
	"cli\n out %al, $0x80\n");

TEST(x2apic_ipi_to_other_vcpu)
{
	struct runner ap;
	struct lapic_vm v;
	pthread_t th;

	lapic_vm_create(_metadata, &v, 2, g_x2ipi_bsp_start,
			BLOB_LEN(g_x2ipi_bsp));
	set_cpuid(_metadata, &v, v.g.vcpu_fd, false);
	set_cpuid(_metadata, &v, v.fd1, false);
	start_ap(_metadata, &v, g_x2ipi_ap_start, BLOB_LEN(g_x2ipi_ap));
	set_gate(&v.g, 0x44, HANDLER(h_x2irq1));
	ap.fd = v.fd1;
	ASSERT_EQ(0, pthread_create(&th, NULL, run_thread, &ap));
	run_to_port(_metadata, v.g.vcpu_fd, v.g.run, 0x80);
	pthread_join(th, NULL);
	ASSERT_EQ(0, ap.result);
	EXPECT_EQ(0x81, v.run1->io.port);
	EXPECT_EQ(4, data(&v)[1]);
	EXPECT_EQ(0x44, results(&v)[0]);	/* ICR reads back, 64 bits */
	EXPECT_EQ(0xffffffff, results(&v)[1]);
	lapic_vm_destroy(&v);
}

/*
 * KVM_SET_LAPIC with a one-shot timer counting (TMICT, TMCCT): the count
 * goes on from TMCCT, KVM_GET_LAPIC reads it going down, and it fires.
 */
GUEST_CODE_BLOB(g_restore, ".code64",
	"sti\n"
	"1: cmpq $1, " C(0) "\n jne 1b\n"
	"cli\n out %al, $0x80\n");

TEST(set_lapic_restores_timer)
{
	struct kvm_lapic_state s;
	struct lapic_vm v;

	lapic_vm_create(_metadata, &v, 1, g_restore_start, BLOB_LEN(g_restore));
	set_gate(&v.g, 0x50, HANDLER(h_xirq0));
	get_lapic(_metadata, v.g.vcpu_fd, &s);
	set_reg(&s, 0xf0, 0x1ff);
	set_reg(&s, 0x320, 0x50);		/* one-shot, vector 0x50 */
	set_reg(&s, 0x3e0, 0xb);		/* divide by 1: 1 ns ticks */
	set_reg(&s, 0x380, 0xffffffff);
	set_reg(&s, 0x390, 20000000);		/* 20 ms left */
	ASSERT_EQ(0, ioctl(v.g.vcpu_fd, KVM_SET_LAPIC, &s));
	get_lapic(_metadata, v.g.vcpu_fd, &s);
	EXPECT_LT(0, reg(&s, 0x390));
	EXPECT_GE(20000000, reg(&s, 0x390));
	run_to_port(_metadata, v.g.vcpu_fd, v.g.run, 0x80);
	EXPECT_EQ(1, data(&v)[0]);
	get_lapic(_metadata, v.g.vcpu_fd, &s);
	EXPECT_EQ(0, reg(&s, 0x390));		/* expired */
	lapic_vm_destroy(&v);
}

/*
 * INIT to a vCPU running 64-bit code with paging: it stops, comes back
 * in real mode at the SIPI vector with EFER, CR4 and CR0.PG/PE clear,
 * RDX the processor signature, and its MSRs kept (SDM table 9-1).
 */
/*
 * The spinning vCPUs exit at every turn (CPUID): under Bochs a guest
 * spinning without exits with IF=0 keeps the one-CPU host from its timer
 * interrupt, and the other vCPU's thread would never run (KVM alike).
 */
GUEST_CODE_BLOB(g_spin_ap, ".code64",
	"movq $1, " C(4) "\n 1: xor %eax, %eax\n cpuid\n jmp 1b\n");

/*
 * The sender enables its APIC first, as an OS does: KVM 6.1 builds its
 * APIC map before a new vCPU is online and rebuilds it only on an APIC
 * change, so until one happens an IPI does not find vCPU 1.
 */
GUEST_CODE_BLOB(g_init_running, ".code64",
	"mov $0xfee00000, %esi\n"
	"movl $0x1ff, 0xf0(%rsi)\n"
	"1: xor %eax, %eax\n cpuid\n cmpq $1, " C(4) "\n jne 1b\n"
	"movl $0x01000000, 0x310(%rsi)\n movl $0x4500, 0x300(%rsi)\n"
	"movl $0x01000000, 0x310(%rsi)\n movl $0x4620, 0x300(%rsi)\n"
	"out %al, $0x80\n");

#define MSR_STAR	0xc0000081

TEST(init_resets_running_ap)
{
	struct kvm_mp_state mp;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct runner ap;
	struct lapic_vm v;
	pthread_t th;

	lapic_vm_create(_metadata, &v, 2, g_init_running_start,
			BLOB_LEN(g_init_running));
	start_ap(_metadata, &v, g_spin_ap_start, BLOB_LEN(g_spin_ap));
	guest_load(&v.g, 0x20000, g_init_ap_start, BLOB_LEN(g_init_ap));
	ASSERT_TRUE(vcpu_wrmsr(v.fd1, MSR_STAR, 0x0023001000000000ULL));
	ap.fd = v.fd1;
	ASSERT_EQ(0, pthread_create(&th, NULL, run_thread, &ap));
	run_to_port(_metadata, v.g.vcpu_fd, v.g.run, 0x80);
	pthread_join(th, NULL);
	ASSERT_EQ(0, ap.result);
	ASSERT_EQ(KVM_EXIT_IO, v.run1->exit_reason);
	EXPECT_EQ(0x91, v.run1->io.port);
	ASSERT_EQ(0, ioctl(v.fd1, KVM_GET_SREGS, &sregs));
	EXPECT_EQ(0x2000, sregs.cs.selector);
	EXPECT_EQ(0x20000, sregs.cs.base);
	EXPECT_EQ(0, sregs.cr0 & 0x80000001);
	EXPECT_EQ(0, sregs.cr4);
	EXPECT_EQ(0, sregs.efer);
	EXPECT_EQ(0, sregs.cr3);
	EXPECT_EQ(0xffff, sregs.ds.limit);
	EXPECT_EQ(0, sregs.ds.base);
	EXPECT_EQ(0xfee00800, sregs.apic_base);
	ASSERT_EQ(0, ioctl(v.fd1, KVM_GET_REGS, &regs));
	EXPECT_EQ(0x600, regs.rdx);
	EXPECT_EQ(2, regs.rflags);
	EXPECT_EQ(0x0023001000000000ULL, vcpu_rdmsr(v.fd1, MSR_STAR));
	ASSERT_EQ(0, ioctl(v.fd1, KVM_GET_MP_STATE, &mp));
	EXPECT_EQ(KVM_MP_STATE_RUNNABLE, mp.mp_state);
	lapic_vm_destroy(&v);
}

/* Without an irqchip there is no LAPIC to get or set (KVM: -EINVAL). */
TEST(no_lapic_without_irqchip)
{
	struct kvm_lapic_state s;
	struct mvm_guest g;

	guest_create(&g, MEM_SIZE);
	EXPECT_EQ(-1, ioctl(g.vcpu_fd, KVM_GET_LAPIC, &s));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(g.vcpu_fd, KVM_SET_LAPIC, &s));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(1, ioctl(g.sys_fd, KVM_CHECK_EXTENSION,
			   KVM_CAP_TSC_DEADLINE_TIMER));
	guest_destroy(&g);
}

TEST_HARNESS_MAIN
