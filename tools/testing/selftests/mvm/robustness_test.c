// SPDX-License-Identifier: GPL-2.0
/*
 * What a guest or its VMM must not be able to do to the host.
 *
 * - The instruction fetch behind an MMIO or string I/O exit meets a hole:
 *   the next page is outside every memslot, the VMM unmapped the code
 *   page, or the guest's own page tables no longer map the instruction's
 *   tail.  Each ends in a clean exit, an error from KVM_RUN, or the #PF
 *   hardware would raise; never in a host crash.
 * - Non-canonical addresses written to MSRs, by the guest and by
 *   KVM_SET_MSRS.
 * - vCPU creation when the fd cannot be installed, and vCPU fds used while
 *   other vCPUs are being created.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

#define MMIO_GPA	0xc0000000ULL
#define SLOT_END	0x200000ULL	/* slot 0 is [0, 2 MiB): a hole above */
#define OUTS_DATA	0x30000ULL
#define PIO_DATA(g)	((uint8_t *)(g)->run + (g)->run->io.data_offset)

static void set_gprs(struct __test_metadata *_metadata, int vcpu_fd,
		     uint64_t rsi, uint64_t rcx, uint64_t rdx)
{
	struct kvm_regs regs;

	ASSERT_EQ(0, ioctl(vcpu_fd, KVM_GET_REGS, &regs));
	regs.rsi = rsi;
	regs.rcx = rcx;
	regs.rdx = rdx;
	ASSERT_EQ(0, ioctl(vcpu_fd, KVM_SET_REGS, &regs));
}

static void expect_emulation_error(struct __test_metadata *_metadata,
				   struct mvm_guest *g)
{
	ASSERT_EQ(KVM_EXIT_INTERNAL_ERROR, g->run->exit_reason);
	ASSERT_EQ(KVM_INTERNAL_ERROR_EMULATION, g->run->internal.suberror);
}

/* ------------------------------------------------------------------ */
/* An MMIO instruction next to a page outside every memslot            */

GUEST_CODE_BLOB(g_jump_rax, ".code64",
	"mov $0xc0000000, %esi\n"
	"jmp *%rax\n");

static void jump_guest(struct __test_metadata *_metadata, struct mvm_guest *g,
		       uint64_t target)
{
	struct kvm_regs regs;

	guest_create(g, SLOT_END);
	guest_load(g, GUEST_CODE, g_jump_rax_start, BLOB_LEN(g_jump_rax));
	guest_set_long_mode(g, g->vcpu_fd, GUEST_CODE);
	ASSERT_EQ(0, ioctl(g->vcpu_fd, KVM_GET_REGS, &regs));
	regs.rax = target;
	ASSERT_EQ(0, ioctl(g->vcpu_fd, KVM_SET_REGS, &regs));
}

/*
 * "mov (%rsi), %eax" in the last two bytes of the slot: decoded from
 * exactly those bytes, the read completes, and the next fetch (from the
 * hole) is an emulation failure.
 */
TEST(mmio_insn_ends_at_hole)
{
	struct kvm_regs regs;
	struct mvm_guest g;
	uint32_t data = 0x12345678;

	jump_guest(_metadata, &g, SLOT_END - 2);
	g.mem[SLOT_END - 2] = 0x8b;
	g.mem[SLOT_END - 1] = 0x06;

	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	ASSERT_EQ(KVM_EXIT_MMIO, g.run->exit_reason);
	ASSERT_EQ(MMIO_GPA, g.run->mmio.phys_addr);
	ASSERT_EQ(4, g.run->mmio.len);
	ASSERT_EQ(0, g.run->mmio.is_write);
	memcpy(g.run->mmio.data, &data, 4);

	/* Complete the read without entering the guest again. */
	g.run->immediate_exit = 1;
	ASSERT_EQ(-EINTR, guest_run(g.vcpu_fd));
	g.run->immediate_exit = 0;
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_REGS, &regs));
	ASSERT_EQ(data, regs.rax);
	ASSERT_EQ(SLOT_END, regs.rip);

	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	expect_emulation_error(_metadata, &g);
	guest_destroy(&g);
}

/* The same instruction with its ModRM byte in the hole: never an MMIO exit. */
TEST(mmio_insn_straddles_hole)
{
	struct mvm_guest g;

	jump_guest(_metadata, &g, SLOT_END - 1);
	g.mem[SLOT_END - 1] = 0x8b;

	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	expect_emulation_error(_metadata, &g);
	guest_destroy(&g);
}

/* ------------------------------------------------------------------ */
/* The VMM unmaps the guest's code page                                 */

/*
 * The instruction starts its page, so a fetch that read "to the end of
 * the page" would read 4 KiB.  KVM notices the unmapping (MMU notifier)
 * and fails KVM_RUN with -EFAULT when the guest fetches again, and so
 * does mvm; an emulation failure (the fetch for the exit fails after the
 * guest ran on a stale mapping) is also accepted.
 */
GUEST_CODE_BLOB(g_mmio_loop, ".code64", "1: mov (%rsi), %eax\n jmp 1b\n");
GUEST_CODE_BLOB(g_outs_loop, ".code64", "1: outsb\n jmp 1b\n");

static void run_after_code_unmapped(struct __test_metadata *_metadata,
				    const uint8_t *code, size_t len,
				    uint64_t rsi, bool mmio)
{
	struct mvm_guest g;
	int r;

	guest_create(&g, SLOT_END);
	guest_load(&g, GUEST_CODE, code, len);
	guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE);
	set_gprs(_metadata, g.vcpu_fd, rsi, 0, 0x80);

	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	ASSERT_EQ(mmio ? KVM_EXIT_MMIO : KVM_EXIT_IO, g.run->exit_reason);

	ASSERT_EQ(0, munmap(g.mem + GUEST_CODE, 4096));
	r = guest_run(g.vcpu_fd);
	TH_LOG("KVM_RUN %d, exit reason %u", r, g.run->exit_reason);
	if (r != -EFAULT) {
		ASSERT_EQ(0, r);
		expect_emulation_error(_metadata, &g);
	}
	guest_destroy(&g);
}

TEST(mmio_code_page_unmapped)
{
	run_after_code_unmapped(_metadata, g_mmio_loop_start,
				BLOB_LEN(g_mmio_loop), MMIO_GPA, true);
}

TEST(outs_code_page_unmapped)
{
	run_after_code_unmapped(_metadata, g_outs_loop_start,
				BLOB_LEN(g_outs_loop), OUTS_DATA, false);
}

/*
 * The VMM deletes the slot that holds the guest's code while an MMIO read
 * is pending: the read completes into EAX, and the fetch of the next
 * instruction from the hole is an emulation failure.
 */
TEST(mmio_code_slot_deleted)
{
	struct kvm_userspace_memory_region r = {
		.slot = 1, .guest_phys_addr = 0x400000, .memory_size = 4096,
	};
	struct kvm_regs regs;
	struct mvm_guest g;
	uint32_t data = 0xfeedf00d;
	uint8_t *code;

	guest_create(&g, SLOT_END);
	code = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, code);
	memcpy(code, g_mmio_loop_start, BLOB_LEN(g_mmio_loop));
	r.userspace_addr = (uintptr_t)code;
	ASSERT_EQ(0, ioctl(g.vm_fd, KVM_SET_USER_MEMORY_REGION, &r));
	guest_set_long_mode(&g, g.vcpu_fd, r.guest_phys_addr);
	set_gprs(_metadata, g.vcpu_fd, MMIO_GPA, 0, 0);

	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	ASSERT_EQ(KVM_EXIT_MMIO, g.run->exit_reason);
	memcpy(g.run->mmio.data, &data, 4);
	r.memory_size = 0;
	ASSERT_EQ(0, ioctl(g.vm_fd, KVM_SET_USER_MEMORY_REGION, &r));

	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	expect_emulation_error(_metadata, &g);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_REGS, &regs));
	ASSERT_EQ(data, regs.rax);
	ASSERT_EQ(r.guest_phys_addr + 2, regs.rip);	/* the JMP */
	munmap(code, 4096);
	guest_destroy(&g);
}

/* ------------------------------------------------------------------ */
/* The guest unmaps the tail of its own instruction                     */

/*
 * 4 KiB pages for the first 2 MiB.  A two-byte instruction straddles
 * 0x11fff/0x12000; the guest executes code on both pages (so a TLB may
 * hold them), clears the present bit of the second one's PTE without
 * INVLPG, and jumps to the instruction.  The CPU may fetch it through the
 * stale TLB entry and exit for the MMIO or I/O; the hypervisor's own walk
 * then finds the page not present and must raise the #PF the guest would
 * get from hardware at 0x12000, not decode a truncated instruction.
 * Either way the guest's #PF handler reports CR2, the error code and the
 * faulting RIP.  The guest touches every page it needs (writing the page
 * table) before the flip: a nested page fault in between would make an
 * emulated CPU drop its TLB and fault natively.
 */
#define PF_PT		0x20000ULL
#define PF_INSN		0x11fffULL
#define PF_TAIL_PAGE	0x12000ULL
#define PF_RET1		0x11ff0ULL
#define PF_RET2		0x12010ULL
#define PF_HANDLER	0x13000ULL

GUEST_CODE_BLOB(g_pte_flip, ".code64",
	"andq $-1, 0x20090\n"			/* PTE of PF_TAIL_PAGE */
	"andq $-1, 0x6000\n"			/* PDE of MMIO_GPA */
	"mov $0x11ff0, %eax\n call *%rax\n"	/* PF_RET1 */
	"mov $0x12010, %eax\n call *%rax\n"	/* PF_RET2 */
	"andq $-2, 0x20090\n"
	"mov $0x11fff, %eax\n jmp *%rax\n");	/* PF_INSN */
GUEST_CODE_BLOB(g_pf_report, ".code64",
	"mov %cr2, %rax\n out %eax, $0x90\n"
	"pop %rax\n out %eax, $0x90\n"		/* error code */
	"pop %rax\n out %eax, $0x90\n"		/* RIP */
	"hlt\n");

static void expect_port90(struct __test_metadata *_metadata,
			  struct mvm_guest *g, uint32_t want, const char *what)
{
	ASSERT_EQ(0, guest_run(g->vcpu_fd));
	ASSERT_EQ(KVM_EXIT_IO, g->run->exit_reason)
		TH_LOG("%s: exit %u, expected the #PF handler's report", what,
		       g->run->exit_reason);
	ASSERT_EQ(0x90, g->run->io.port) TH_LOG("%s: port 0x%x", what,
						g->run->io.port);
	ASSERT_EQ(want, *(uint32_t *)PIO_DATA(g)) TH_LOG("%s", what);
}

static void run_with_tail_unmapped(struct __test_metadata *_metadata,
				   uint8_t b0, uint8_t b1, uint64_t rsi)
{
	uint64_t *pd, *pt;
	struct mvm_guest g;
	int i;

	guest_create(&g, SLOT_END);
	guest_load(&g, GUEST_CODE, g_pte_flip_start, BLOB_LEN(g_pte_flip));
	guest_load(&g, PF_HANDLER, g_pf_report_start, BLOB_LEN(g_pf_report));
	guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE);
	pd = (uint64_t *)(g.mem + GUEST_PML4 + 0x2000);
	pt = (uint64_t *)(g.mem + PF_PT);
	for (i = 0; i < 512; i++)
		pt[i] = ((uint64_t)i << 12) | 3;
	pd[0] = PF_PT | 3;
	guest_use_idt(&g, g.vcpu_fd);
	guest_set_idt_gate(&g, 14, PF_HANDLER);
	g.mem[PF_INSN] = b0;
	g.mem[PF_INSN + 1] = b1;
	g.mem[PF_INSN + 2] = 0xf4;		/* hlt */
	g.mem[PF_RET1] = 0xc3;			/* ret */
	g.mem[PF_RET2] = 0xc3;
	set_gprs(_metadata, g.vcpu_fd, rsi, 1, 0x80);

	expect_port90(_metadata, &g, PF_TAIL_PAGE, "CR2");
	expect_port90(_metadata, &g, 0, "error code");
	expect_port90(_metadata, &g, PF_INSN, "RIP");
	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	ASSERT_EQ(KVM_EXIT_HLT, g.run->exit_reason);
	guest_destroy(&g);
}

/* mov (%rsi), %eax */
TEST(mmio_insn_tail_not_present)
{
	run_with_tail_unmapped(_metadata, 0x8b, 0x06, MMIO_GPA);
}

/* rep outsb: the REP prefix alone fits before the page boundary. */
TEST(outs_insn_tail_not_present)
{
	run_with_tail_unmapped(_metadata, 0xf3, 0x6e, OUTS_DATA);
}

/* ------------------------------------------------------------------ */
/* Non-canonical addresses in MSRs                                      */

#define MSR_IA32_SYSENTER_EIP	0x176
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_STAR		0xc0000081
#define MSR_FS_BASE		0xc0000100
#define MSR_GS_BASE		0xc0000101
#define MSR_KERNEL_GS_BASE	0xc0000102

static const uint32_t address_msrs[] = {
	MSR_LSTAR, MSR_CSTAR, MSR_KERNEL_GS_BASE, MSR_FS_BASE, MSR_GS_BASE,
};

#define GOOD_ADDR	0xffff800000001000ULL
#define BAD_ADDR	0x0000800000000000ULL
#define BAD_SYSENTER	0x0000800012345678ULL

struct msr_list {
	struct kvm_msrs h;
	struct kvm_msr_entry e[4];
};

static int set_msrs(int vcpu_fd, int n, const uint32_t *idx,
		    const uint64_t *val)
{
	struct msr_list m = { .h.nmsrs = n };
	int i;

	for (i = 0; i < n; i++) {
		m.e[i].index = idx[i];
		m.e[i].data = val[i];
	}
	return ioctl(vcpu_fd, KVM_SET_MSRS, &m);
}

static uint64_t get_msr(struct __test_metadata *_metadata, int vcpu_fd,
			uint32_t index)
{
	struct msr_list m = { .h.nmsrs = 1, .e[0].index = index };

	EXPECT_EQ(1, ioctl(vcpu_fd, KVM_GET_MSRS, &m));
	return m.e[0].data;
}

/* AMD keeps only bits 31:0 of SYSENTER_EIP (KVM on AMD reads back those). */
/* Not canonical with 57-bit addresses either. */
#define BAD_ADDR_LA57	0x0100000000000000ULL

/*
 * KVM of 6.12 checks the addresses of a host's KVM_SET_MSRS against the
 * widest the vCPU could use: 57 bits on a host with 5-level paging (the
 * svm57 boot), where 6.1's (and mvm) used 48.
 */
static bool host_writes_57_bits(void)
{
	char line[4096];
	bool la57 = false;
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && !la57 && fgets(line, sizeof(line), f))
		la57 = !strncmp(line, "flags", 5) && strstr(line, " la57");
	if (f)
		fclose(f);
	return la57 && mvm_kernel_at_least(6, 12);
}

static bool sysenter_canonical_or_low(uint64_t v)
{
	return v == (BAD_SYSENTER | 0xffff000000000000ULL) ||
	       v == (uint32_t)BAD_SYSENTER ||
	       (host_writes_57_bits() && v == BAD_SYSENTER);
}

/* KVM_SET_MSRS stops at a non-canonical address and reports how far it got. */
TEST(set_msrs_noncanonical)
{
	uint64_t bad = host_writes_57_bits() ? BAD_ADDR_LA57 : BAD_ADDR;
	struct mvm_guest g;
	uint32_t idx[3];
	uint64_t val[3];
	int i;

	guest_create(&g, SLOT_END);
	for (i = 0; i < ARRAY_SIZE(address_msrs); i++) {
		idx[0] = address_msrs[i];
		val[0] = GOOD_ADDR;
		ASSERT_EQ(1, set_msrs(g.vcpu_fd, 1, idx, val));
		val[0] = bad;
		ASSERT_EQ(0, set_msrs(g.vcpu_fd, 1, idx, val))
			TH_LOG("MSR 0x%x accepted 0x%llx", idx[0],
			       (unsigned long long)bad);
		ASSERT_EQ(GOOD_ADDR, get_msr(_metadata, g.vcpu_fd, idx[0]));
	}

	idx[0] = MSR_STAR;
	val[0] = 0x0023001000000000ULL;
	idx[1] = MSR_LSTAR;
	val[1] = bad;
	idx[2] = MSR_CSTAR;
	val[2] = GOOD_ADDR + 0x1000;
	ASSERT_EQ(1, set_msrs(g.vcpu_fd, 3, idx, val));
	ASSERT_EQ(val[0], get_msr(_metadata, g.vcpu_fd, MSR_STAR));
	ASSERT_EQ(GOOD_ADDR, get_msr(_metadata, g.vcpu_fd, MSR_LSTAR));
	ASSERT_EQ(GOOD_ADDR, get_msr(_metadata, g.vcpu_fd, MSR_CSTAR));

	/* SYSENTER_EIP is accepted and made canonical, as KVM does. */
	idx[0] = MSR_IA32_SYSENTER_EIP;
	val[0] = BAD_SYSENTER;
	ASSERT_EQ(1, set_msrs(g.vcpu_fd, 1, idx, val));
	ASSERT_TRUE(sysenter_canonical_or_low(get_msr(_metadata, g.vcpu_fd,
						      MSR_IA32_SYSENTER_EIP)));
	guest_destroy(&g);
}

/*
 * The guest writes a non-canonical address to each MSR and reports
 * whether WRMSR raised #GP (its handler skips the WRMSR) and what RDMSR
 * reads back.  mvm intercepts these MSRs: #GP and the old value.  KVM
 * lets the CPU handle some of them (on AMD all five), and the emulated
 * CPUs of the rig differ there (QEMU's TCG takes the value, and
 * sign-extends some), so under KVM only consistency is asserted.
 */
GUEST_CODE_BLOB(g_wrmsr, ".code64",
	"lea rb_msrs(%rip), %rbx\n"
	"1: mov (%rbx), %ecx\n test %ecx, %ecx\n jz 2f\n"
	"xor %r8d, %r8d\n mov 4(%rbx), %eax\n mov 8(%rbx), %edx\n wrmsr\n"
	"mov %r8d, %eax\n out %eax, $0x80\n"
	"rdmsr\n out %eax, $0x80\n mov %edx, %eax\n out %eax, $0x80\n"
	"add $12, %rbx\n jmp 1b\n"
	"2: hlt\n"
	"rb_gp_handler: mov $1, %r8d\n add $8, %rsp\n addq $2, (%rsp)\n iretq\n"
	"rb_msrs:\n"
	".long 0xc0000082, 0, 0x8000\n"
	".long 0xc0000083, 0, 0x8000\n"
	".long 0xc0000102, 0, 0x8000\n"
	".long 0xc0000100, 0, 0x8000\n"
	".long 0xc0000101, 0, 0x8000\n"
	".long 0x176, 0x12345678, 0x8000\n"
	".long 0\n");

extern const uint8_t rb_gp_handler[];

static uint32_t next_out(struct __test_metadata *_metadata, struct mvm_guest *g)
{
	EXPECT_EQ(0, guest_run(g->vcpu_fd));
	EXPECT_EQ(KVM_EXIT_IO, g->run->exit_reason);
	EXPECT_EQ(0x80, g->run->io.port);
	return *(uint32_t *)PIO_DATA(g);
}

TEST(wrmsr_noncanonical)
{
	struct mvm_guest g;
	uint32_t idx[1];
	uint64_t val[1] = { GOOD_ADDR };
	int i;

	guest_create(&g, SLOT_END);
	guest_load(&g, GUEST_CODE, g_wrmsr_start, BLOB_LEN(g_wrmsr));
	guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE);
	guest_use_idt(&g, g.vcpu_fd);
	guest_set_idt_gate(&g, 13, GUEST_CODE + (rb_gp_handler - g_wrmsr_start));
	for (i = 0; i < ARRAY_SIZE(address_msrs); i++) {
		idx[0] = address_msrs[i];
		ASSERT_EQ(1, set_msrs(g.vcpu_fd, 1, idx, val));
	}

	for (i = 0; i <= ARRAY_SIZE(address_msrs); i++) {
		bool sysenter = i == ARRAY_SIZE(address_msrs);
		uint32_t gp = next_out(_metadata, &g);
		uint64_t v = next_out(_metadata, &g);

		v |= (uint64_t)next_out(_metadata, &g) << 32;
		TH_LOG("MSR %d: #GP %u, reads 0x%llx", i, gp,
		       (unsigned long long)v);
		if (sysenter && !mvm_on_kvm()) {
			/* Accepted and made canonical, as KVM's own path. */
			ASSERT_EQ(0, gp);
			ASSERT_TRUE(sysenter_canonical_or_low(v));
		} else if (sysenter) {
			/* Intel CPUs fault, AMD ones take bits 31:0 at least. */
			if (!gp)
				ASSERT_EQ((uint32_t)BAD_SYSENTER, (uint32_t)v);
		} else {
			if (!mvm_on_kvm())
				ASSERT_EQ(1, gp);
			if (gp) {
				ASSERT_EQ(GOOD_ADDR, v);
			} else {
				/* QEMU's CPU may sign-extend it. */
				ASSERT_TRUE(v == BAD_ADDR ||
					    v == (BAD_ADDR | 0xffff000000000000ULL));
			}
		}
	}
	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	ASSERT_EQ(KVM_EXIT_HLT, g.run->exit_reason);
	guest_destroy(&g);
}

/* ------------------------------------------------------------------ */
/* vCPU creation                                                        */

/* No fd left: KVM_CREATE_VCPU fails with EMFILE and leaves no trace. */
TEST(create_vcpu_without_fd)
{
	struct rlimit old, lim;
	struct mvm_guest g;
	struct kvm_run *run;
	int next, fd;

	guest_create(&g, SLOT_END);
	next = dup(0);
	ASSERT_GE(next, 0);
	close(next);
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &old));
	lim = old;
	lim.rlim_cur = next;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &lim));
	fd = ioctl(g.vm_fd, KVM_CREATE_VCPU, 1);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &old));
	ASSERT_EQ(-1, fd);
	ASSERT_EQ(EMFILE, errno);

	/* The same id is free again, and the new vCPU runs. */
	fd = guest_add_vcpu(&g, 1, &run);
	ASSERT_GE(fd, 0);
	guest_set_real_mode(&g, fd, 0x1000);
	g.mem[0x1000] = 0xf4;		/* hlt */
	ASSERT_EQ(0, guest_run(fd));
	ASSERT_EQ(KVM_EXIT_HLT, run->exit_reason);
	munmap(run, 4096);
	close(fd);
	guest_destroy(&g);
}

/*
 * Another thread issues ioctls on the fd number the next vCPU will get,
 * while it is being created: they fail (not a vCPU fd yet) or act on a
 * complete, counted vCPU.
 */
struct fd_guesser {
	volatile int target;
	volatile bool stop;
	int hits;
};

static void *guess_fds(void *arg)
{
	struct fd_guesser *f = arg;
	struct kvm_regs regs;

	while (!f->stop) {
		int fd = f->target;

		if (fd >= 0 && !ioctl(fd, KVM_GET_REGS, &regs))
			f->hits++;
	}
	return NULL;
}

TEST(vcpu_fd_used_during_creation)
{
	struct fd_guesser f = { .target = -1 };
	struct mvm_guest g;
	pthread_t t;
	int i, fds[16], next;

	guest_create(&g, SLOT_END);
	ASSERT_EQ(0, pthread_create(&t, NULL, guess_fds, &f));
	for (i = 0; i < 16; i++) {
		next = dup(0);
		ASSERT_GE(next, 0);
		close(next);
		f.target = next;
		fds[i] = ioctl(g.vm_fd, KVM_CREATE_VCPU, i + 1);
		ASSERT_GE(fds[i], 0);
	}
	f.stop = true;
	pthread_join(t, NULL);
	TH_LOG("%d ioctls reached a new vCPU", f.hits);
	for (i = 0; i < 16; i++)
		close(fds[i]);
	guest_destroy(&g);
}

TEST_HARNESS_MAIN
