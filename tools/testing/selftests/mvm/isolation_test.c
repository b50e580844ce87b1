// SPDX-License-Identifier: GPL-2.0
/*
 * Nothing a guest does reaches the host: the TPR (CR8), the debug
 * registers, PKRU, CR4 bits the host depends on, the caches and the PMU.
 * And the VMM's own state survives KVM_RUN: its I/O permission bitmap
 * (ioperm), its LDT and segment selectors, its hardware breakpoints.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <asm/ldt.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

#define PIO_DATA32(g)	(*(uint32_t *)((uint8_t *)(g)->run + (g)->run->io.data_offset))

static void long_guest(struct mvm_guest *g, const uint8_t *start, size_t len)
{
	guest_create(g, 1 << 21);
	guest_load(g, GUEST_CODE, start, len);
	guest_set_long_mode(g, g->vcpu_fd, GUEST_CODE);
}

/* Run to the next exit, which must be an OUT to @port; its 32-bit value. */
static uint32_t run_out(struct __test_metadata *_metadata, struct mvm_guest *g,
			int port)
{
	EXPECT_EQ(0, guest_run(g->vcpu_fd));
	EXPECT_EQ(KVM_EXIT_IO, g->run->exit_reason);
	EXPECT_EQ(port, g->run->io.port);
	return PIO_DATA32(g);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The host still takes timer interrupts: a 20 ms sleep ends. */
static void host_keeps_ticking(struct __test_metadata *_metadata)
{
	double t0 = now();

	usleep(20000);
	ASSERT_GE(now() - t0, 0.019);
}

/*
 * CR8 is the TPR.  Without a TPR shadow, a guest MOV to CR8 that reached
 * the hardware would mask every host interrupt on this CPU.
 */
GUEST_CODE_BLOB(g_cr8, ".code64",
	"mov $15, %eax\n mov %rax, %cr8\n"
	"mov %cr8, %rax\n out %eax, $0x80\n"
	"xor %eax, %eax\n mov %rax, %cr8\n hlt\n");

TEST(cr8_stays_in_the_guest)
{
	struct mvm_guest g;
	uint32_t v;

	long_guest(&g, g_cr8_start, BLOB_LEN(g_cr8));
	v = run_out(_metadata, &g, 0x80);
	host_keeps_ticking(_metadata);
	/*
	 * The TPR is the VMM's (kvm_run->cr8): Intel exits on every CR8
	 * access, AMD on writes and reads V_TPR, loaded from kvm_run->cr8.
	 */
	EXPECT_EQ(15, v);
	EXPECT_EQ(15, g.run->cr8);
	/* A lowered TPR is reported first, as KVM does without an APIC. */
	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	ASSERT_EQ(KVM_EXIT_SET_TPR, g.run->exit_reason);
	EXPECT_EQ(0, g.run->cr8);
	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	ASSERT_EQ(KVM_EXIT_HLT, g.run->exit_reason);
	host_keeps_ticking(_metadata);
	guest_destroy(&g);
}

/*
 * The guest sees its own debug registers, never the host's: a hardware
 * watchpoint of the VMM stays invisible to it and keeps working after
 * KVM_RUN (a VM exit disables the host's breakpoints).
 */
GUEST_CODE_BLOB(g_dr, ".code64",
	"mov %dr0, %rax\n out %eax, $0x80\n"
	"mov %dr1, %rax\n out %eax, $0x80\n"
	"mov %dr2, %rax\n out %eax, $0x80\n"
	"mov %dr3, %rax\n out %eax, $0x80\n"
	"mov %dr6, %rax\n out %eax, $0x80\n"
	"mov %dr7, %rax\n out %eax, $0x80\n"
	/* Its own values, a breakpoint enabled on an address never used. */
	"mov $0x7ff000, %eax\n mov %rax, %dr0\n"
	"mov $0x7ff008, %eax\n mov %rax, %dr3\n"
	".byte 0xb8\n dr7_value: .long 0x000d0001\n"	/* mov $imm32, %eax */
	"mov %rax, %dr7\n"
	"out %al, $0x81\n"
	"mov %dr0, %rax\n out %eax, $0x82\n"
	"mov %dr3, %rax\n out %eax, $0x82\n"
	"mov %dr7, %rax\n out %eax, $0x82\n"
	"hlt\n");

extern const uint8_t dr7_value[];

static volatile long watched;

static int watch(void *addr)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_BREAKPOINT,
		.size = sizeof(attr),
		.bp_type = HW_BREAKPOINT_W,
		.bp_addr = (uintptr_t)addr,
		.bp_len = HW_BREAKPOINT_LEN_8,
		.exclude_kernel = 1,
		.exclude_hv = 1,
	};

	return syscall(__NR_perf_event_open, &attr, 0, -1, -1, 0);
}

static long long hits(int fd)
{
	long long n = -1;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return -1;
	return n;
}

TEST(debug_registers_are_the_guests)
{
	static const uint32_t reset[] = { 0, 0, 0, 0, 0xffff0ff0, 0x400 };
	long long before, after;
	struct mvm_guest g;
	bool fires;
	int fd, i;

	/*
	 * QEMU 7.2's TCG segfaults, now and then, when a nested guest runs
	 * while the host has a hardware watchpoint (seen in the rig under
	 * KVM and mvm alike): on AMD-V, which only QEMU emulates here, the
	 * guest side is checked; Bochs' VT-x checks both.
	 */
	if (mvm_cpu_is_amd()) {
		fd = -1;
		errno = ENOTSUP;
	} else {
		fd = watch((void *)&watched);
	}
	if (fd < 0)
		TH_LOG("no hardware breakpoint for the VMM (%s): guest side only",
		       strerror(errno));
	before = fd >= 0 ? hits(fd) : -1;
	watched++;
	fires = fd >= 0 && hits(fd) == before + 1;
	if (fd >= 0 && !fires)
		TH_LOG("the emulator does not fire data breakpoints: guest side only");

	long_guest(&g, g_dr_start, BLOB_LEN(g_dr));
	/*
	 * The guest arms its breakpoint (L0) only under Bochs: QEMU's TCG
	 * crashes on armed breakpoints in nested guests.
	 */
	if (mvm_cpu_is_amd())
		g.mem[GUEST_CODE + (dr7_value - g_dr_start)] = 0x00;
	for (i = 0; i < 6; i++)
		EXPECT_EQ(reset[i], run_out(_metadata, &g, 0x80))
			TH_LOG("DR%d at reset", i < 4 ? i : i + 2);
	run_out(_metadata, &g, 0x81);

	/* The host's watchpoint works after KVM_RUN, between exits too. */
	if (fires) {
		before = hits(fd);
		watched++;
		after = hits(fd);
		EXPECT_EQ(before + 1, after);
	}
	EXPECT_EQ(0x7ff000, run_out(_metadata, &g, 0x82));
	EXPECT_EQ(0x7ff008, run_out(_metadata, &g, 0x82));
	EXPECT_EQ(mvm_cpu_is_amd() ? 0x000d0400 : 0x000d0401,
		  run_out(_metadata, &g, 0x82));
	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	ASSERT_EQ(KVM_EXIT_HLT, g.run->exit_reason);
	if (fires) {
		before = hits(fd);
		watched++;
		EXPECT_EQ(before + 1, hits(fd));
	}
	if (fd >= 0)
		close(fd);
	guest_destroy(&g);
}

/*
 * #DB is intercepted (no endless delivery loops inside the CPU) and
 * reflected: a single-step trap reaches the guest's handler with DR6.BS.
 */
GUEST_CODE_BLOB(g_step, ".code64",
	"pushf\n orq $0x100, (%rsp)\n popf\n"
	"nop\n step_rip: nop\n"
	"mov $0xbad, %eax\n out %eax, $0x80\n hlt\n"
	"db_handler: mov %dr6, %rax\n out %eax, $0x81\n"
	"mov (%rsp), %rax\n out %eax, $0x81\n hlt\n");

extern const uint8_t db_handler[], step_rip[];

TEST(single_step_reaches_the_guest)
{
	struct mvm_guest g;

	long_guest(&g, g_step_start, BLOB_LEN(g_step));
	guest_use_idt(&g, g.vcpu_fd);
	guest_set_idt_gate(&g, 1, GUEST_CODE + (db_handler - g_step_start));
	EXPECT_EQ(0xffff4ff0, run_out(_metadata, &g, 0x81)) TH_LOG("DR6");
	/* Not after POPF, which set TF, but after the first NOP. */
	EXPECT_EQ(GUEST_CODE + (step_rip - g_step_start),
		  run_out(_metadata, &g, 0x81));
	guest_destroy(&g);
}

/*
 * CVE-2015-8104's shape: a write breakpoint on the top slot of the IST
 * stack that the #DB gate uses.  Each #DB delivery pushes there and so
 * raises the next #DB before the handler's first instruction, forever.
 * With #DB intercepted every delivery exits: the vCPU thread stays
 * killable and the host keeps ticking.
 */
#define LOOP_IST_TOP	0x9000UL
#define LOOP_TSS	0x9800UL

GUEST_CODE_BLOB(g_db_loop, ".code64",
	"mov $0x8ff8, %eax\n mov %rax, %dr0\n"
	"mov $0x000d0001, %eax\n mov %rax, %dr7\n"	/* L0, write, 8 bytes */
	"mov %rax, 0x8ff8\n"
	"out %al, $0x80\n hlt\n"
	"loop_db_handler: out %al, $0x81\n hlt\n");

extern const uint8_t loop_db_handler[];

static void on_usr1(int sig)
{
}

struct alarm_arg {
	pthread_t target;
	int ms;
};

static void *kick_after(void *arg)
{
	struct alarm_arg *a = arg;

	usleep(a->ms * 1000);
	pthread_kill(a->target, SIGUSR1);
	return NULL;
}

TEST(db_delivery_loop_stays_killable)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct alarm_arg a = { .target = pthread_self(), .ms = 300 };
	uint64_t *gdt, handler;
	struct kvm_sregs s;
	struct mvm_guest g;
	pthread_t th;
	int r;

	/*
	 * QEMU 7.2's TCG segfaults when a nested guest arms a data
	 * breakpoint (seen under KVM and mvm): Bochs' VT-x runs this one.
	 */
	if (mvm_cpu_is_amd()) {
		TH_LOG("not on QEMU's AMD-V: emulator crash; see testing.rst");
		return;
	}
	long_guest(&g, g_db_loop_start, BLOB_LEN(g_db_loop));
	/* A 64-bit TSS whose IST1 is LOOP_IST_TOP, GDT entries 4-5. */
	*(uint64_t *)(g.mem + LOOP_TSS + 0x24) = LOOP_IST_TOP;
	gdt = (uint64_t *)(g.mem + GUEST_GDT);
	gdt[4] = 0x67 | (LOOP_TSS & 0xffffff) << 16 | 0x8bULL << 40;
	gdt[5] = 0;
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_SREGS, &s));
	s.gdt.limit = 6 * 8 - 1;
	s.tr.selector = 0x20;
	s.tr.base = LOOP_TSS;
	s.tr.limit = 0x67;
	s.tr.type = 11;
	s.tr.present = 1;
	s.tr.s = 0;
	s.tr.unusable = 0;
	s.idt.base = GUEST_IDT;
	s.idt.limit = 16 * 32 - 1;
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_SREGS, &s));
	handler = GUEST_CODE + (loop_db_handler - g_db_loop_start);
	guest_set_idt_gate(&g, 1, handler);
	((uint64_t *)(g.mem + GUEST_IDT + 16))[0] |= 1ULL << 32;	/* IST1 */

	sigaction(SIGUSR1, &sa, NULL);
	ASSERT_EQ(0, pthread_create(&th, NULL, kick_after, &a));
	r = guest_run(g.vcpu_fd);
	pthread_join(th, NULL);
	EXPECT_EQ(-EINTR, r) TH_LOG("exit %u: no #DB loop?", g.run->exit_reason);
	host_keeps_ticking(_metadata);
	guest_destroy(&g);
}

/* A VMM that uses ioperm() keeps its I/O permissions across KVM_RUN. */
static sigjmp_buf fault_jmp;

static void on_fault(int sig)
{
	siglongjmp(fault_jmp, 1);
}

static bool outb_works(unsigned short port)
{
	struct sigaction sa = { .sa_handler = on_fault }, old;
	bool ok = false;

	sigaction(SIGSEGV, &sa, &old);
	if (!sigsetjmp(fault_jmp, 1)) {
		asm volatile("outb %%al, %%dx" :: "a"(0), "d"(port));
		ok = true;
	}
	sigaction(SIGSEGV, &old, NULL);
	return ok;
}

GUEST_CODE_BLOB(g_out, ".code64", "out %al, $0x80\n hlt\n");

TEST(ioperm_survives_run)
{
	struct mvm_guest g;

	ASSERT_EQ(0, ioperm(0x80, 1, 1));
	ASSERT_TRUE(outb_works(0x80));
	long_guest(&g, g_out_start, BLOB_LEN(g_out));
	run_out(_metadata, &g, 0x80);
	EXPECT_TRUE(outb_works(0x80)) TH_LOG("outb after KVM_RUN faulted");
	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	EXPECT_TRUE(outb_works(0x80));
	guest_destroy(&g);
	ioperm(0x80, 1, 0);
}

/*
 * A VMM whose GS comes from its LDT keeps both across KVM_RUN.  GS, not
 * FS: libc's TLS (malloc, errno, the pointer guard of sigsetjmp) lives at
 * FS, and this test must call into libc while the segment is loaded.
 */
static volatile uint32_t ldt_data = 0x5a5a1234;

static uint16_t read_gs(void)
{
	uint16_t sel;

	asm volatile("mov %%gs, %0" : "=r"(sel));
	return sel;
}

static uint32_t read_gs0(void)
{
	uint32_t v;

	asm volatile("movl %%gs:0, %0" : "=r"(v));
	return v;
}

TEST(ldt_and_gs_survive_run)
{
	struct user_desc d = {
		.entry_number = 0,
		.base_addr = (uintptr_t)&ldt_data,
		.limit = 0xfffff,
		.seg_32bit = 1,
		.limit_in_pages = 1,
		.useable = 1,
	};
	struct sigaction sa = { .sa_handler = on_fault }, old;
	uint16_t ldt_sel = 0x7;		/* LDT entry 0, RPL 3 */
	struct mvm_guest g;
	uint16_t gs_before;
	uint32_t v;

	ASSERT_LT((uintptr_t)&ldt_data, 1UL << 32);
	ASSERT_EQ(0, syscall(SYS_modify_ldt, 0x11, &d, sizeof(d)));
	long_guest(&g, g_out_start, BLOB_LEN(g_out));
	gs_before = read_gs();
	asm volatile("mov %0, %%gs" :: "r"(ldt_sel));
	ASSERT_EQ(0x5a5a1234, read_gs0());

	EXPECT_EQ(0, guest_run(g.vcpu_fd));
	EXPECT_EQ(KVM_EXIT_IO, g.run->exit_reason);
	EXPECT_EQ(ldt_sel, read_gs());
	if (read_gs() == ldt_sel)
		EXPECT_EQ(0x5a5a1234, read_gs0());
	/* The LDT itself is still loaded: the selector loads again. */
	sigaction(SIGSEGV, &sa, &old);
	if (!sigsetjmp(fault_jmp, 1)) {
		asm volatile("mov %0, %%gs" :: "r"(ldt_sel));
		v = read_gs0();
		EXPECT_EQ(0x5a5a1234, v);
	} else {
		EXPECT_TRUE(0) TH_LOG("loading an LDT selector faulted: LDTR lost");
	}
	sigaction(SIGSEGV, &old, NULL);
	asm volatile("mov %0, %%gs" :: "r"(gs_before));
	guest_destroy(&g);
}

/*
 * PKRU is the guest's while it runs and the VMM's otherwise.  Where the
 * guest is not offered PKU, setting CR4.PKE is #GP (no IDT: shutdown).
 */
GUEST_CODE_BLOB(g_pkru, ".code64",
	"mov %cr4, %rax\n or $0x400000, %rax\n mov %rax, %cr4\n"
	"xor %ecx, %ecx\n xor %edx, %edx\n mov $0xc, %eax\n"
	".byte 0x0f, 0x01, 0xef\n"	/* wrpkru */
	"out %al, $0x80\n"
	"xor %ecx, %ecx\n .byte 0x0f, 0x01, 0xee\n"	/* rdpkru */
	"out %eax, $0x81\n hlt\n");

static bool cpuid_bit(uint32_t leaf, int reg, int bit)
{
	uint32_t r[4];

	asm volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
		     : "a"(leaf), "c"(0));
	return r[reg] & (1u << bit);
}

static uint32_t host_rdpkru(void)
{
	uint32_t eax, edx;

	asm volatile(".byte 0x0f, 0x01, 0xee" : "=a"(eax), "=d"(edx) : "c"(0));
	return eax;
}

static void host_wrpkru(uint32_t v)
{
	asm volatile(".byte 0x0f, 0x01, 0xef" :: "a"(v), "c"(0), "d"(0));
}

static bool supported_cpuid_has_pku(int sys_fd)
{
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[256];
	} cpuid = { .c.nent = 256 };
	unsigned int i;

	if (ioctl(sys_fd, KVM_GET_SUPPORTED_CPUID, &cpuid))
		return false;
	for (i = 0; i < cpuid.c.nent; i++)
		if (cpuid.e[i].function == 7 && cpuid.e[i].index == 0)
			return cpuid.e[i].ecx & (1u << 3);
	return false;
}

TEST(pkru_stays_with_the_guest)
{
	bool host_pke = cpuid_bit(7, 2, 4);	/* OSPKE */
	uint32_t host_pkru = 0;
	struct mvm_guest g;

	long_guest(&g, g_pkru_start, BLOB_LEN(g_pkru));
	guest_set_supported_cpuid(&g, g.vcpu_fd);
	if (host_pke) {
		/* A distinctive value of our own. */
		host_wrpkru(0x55555550);
		host_pkru = host_rdpkru();
	}
	TH_LOG("host OSPKE %d, PKU offered %d", host_pke,
	       supported_cpuid_has_pku(g.sys_fd));

	if (!supported_cpuid_has_pku(g.sys_fd)) {
		ASSERT_EQ(0, guest_run(g.vcpu_fd));
		EXPECT_EQ(KVM_EXIT_SHUTDOWN, g.run->exit_reason)
			TH_LOG("CR4.PKE without PKU must #GP");
		if (host_pke)
			EXPECT_EQ(host_pkru, host_rdpkru());
		guest_destroy(&g);
		return;
	}
	ASSERT_TRUE(host_pke);
	run_out(_metadata, &g, 0x80);
	EXPECT_EQ(host_pkru, host_rdpkru()) TH_LOG("the guest's PKRU leaked");
	usleep(10000);			/* a context switch or two */
	EXPECT_EQ(host_pkru, host_rdpkru());
	EXPECT_EQ(0xc, run_out(_metadata, &g, 0x81)) TH_LOG("guest PKRU kept");
	EXPECT_EQ(host_pkru, host_rdpkru());
	guest_destroy(&g);
}

/*
 * The guest sees the CR4 it wrote, whatever bits the host keeps set in
 * the real register (MCE); a reserved bit is #GP; PGE toggles work.
 */
GUEST_CODE_BLOB(g_cr4, ".code64",
	"mov %cr4, %rax\n out %eax, $0x80\n"
	"mov %rax, %rbx\n or $0x80, %rax\n mov %rax, %cr4\n"	/* PGE on */
	"mov %cr4, %rax\n out %eax, $0x80\n"
	"mov %rbx, %rax\n mov %rax, %cr4\n"			/* PGE off */
	"mov %cr4, %rax\n out %eax, $0x80\n"
	"or $0x4000000, %rax\n mov %rax, %cr4\n"		/* reserved */
	"mov $0xbad, %eax\n out %eax, $0x80\n hlt\n"
	"gp_handler: mov %cr4, %rax\n out %eax, $0x81\n hlt\n");

extern const uint8_t gp_handler[];

TEST(cr4_is_the_guests)
{
	struct mvm_guest g;

	long_guest(&g, g_cr4_start, BLOB_LEN(g_cr4));
	guest_use_idt(&g, g.vcpu_fd);
	guest_set_idt_gate(&g, 13, GUEST_CODE + (gp_handler - g_cr4_start));
	EXPECT_EQ(0x620, run_out(_metadata, &g, 0x80));
	EXPECT_EQ(0x6a0, run_out(_metadata, &g, 0x80));
	EXPECT_EQ(0x620, run_out(_metadata, &g, 0x80));
	EXPECT_EQ(0x620, run_out(_metadata, &g, 0x81)) TH_LOG("#GP, CR4 unchanged");
	guest_destroy(&g);
}

/*
 * INVD, WBINVD, MONITOR and MWAIT never run natively (a guest could drop
 * the host's dirty cache lines, stall a socket, or park the CPU): they
 * are no-ops, as with KVM.  RDPMC never reads the host's counters: mvm
 * has no PMU and raises #GP (KVM may emulate a virtual PMU).
 */
GUEST_CODE_BLOB(g_nops, ".code64",
	"invd\n wbinvd\n"
	"mov $0x10000, %eax\n xor %ecx, %ecx\n xor %edx, %edx\n monitor\n"
	"xor %eax, %eax\n xor %ecx, %ecx\n mwait\n"
	"out %al, $0x80\n"
	"xor %ecx, %ecx\n rdpmc\n"
	"mov $0x600d, %eax\n out %eax, $0x81\n hlt\n"
	"gp_handler2: mov $0x6b, %eax\n out %eax, $0x81\n hlt\n");

extern const uint8_t gp_handler2[];

TEST(cache_monitor_pmc_instructions)
{
	struct mvm_guest g;
	uint32_t v;

	long_guest(&g, g_nops_start, BLOB_LEN(g_nops));
	guest_use_idt(&g, g.vcpu_fd);
	guest_set_idt_gate(&g, 13, GUEST_CODE + (gp_handler2 - g_nops_start));
	run_out(_metadata, &g, 0x80);
	v = run_out(_metadata, &g, 0x81);
	if (!mvm_on_kvm()) {
		EXPECT_EQ(0x6b, v) TH_LOG("RDPMC must #GP on mvm");
	} else {
		EXPECT_TRUE(v == 0x6b || v == 0x600d);
	}
	guest_destroy(&g);
}

TEST_HARNESS_MAIN
