// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory is the VMM's ordinary memory, faulted in lazily: a guest
 * touching pages of a large slot grows the VMM's RSS by what it touched,
 * not by the slot's size.  And FPU state survives thousands of exits while
 * the host uses the FPU around it.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

#define BIG_GPA		0x40000000UL

/* Touch RCX pages from RSI on, one byte each, then report. */
GUEST_CODE_BLOB(g_touch, ".code64",
	"1: movb $1, (%rsi)\n add $4096, %rsi\n dec %rcx\n jnz 1b\n"
	"out %al, $0x80\n hlt\n");

static long rss_bytes(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * getpagesize();
}

static void touch(struct __test_metadata *_metadata, struct mvm_guest *g,
		  uint64_t gpa, unsigned long pages)
{
	struct kvm_regs regs;

	guest_set_long_mode(g, g->vcpu_fd, GUEST_CODE);
	ASSERT_EQ(0, ioctl(g->vcpu_fd, KVM_GET_REGS, &regs));
	regs.rsi = gpa;
	regs.rcx = pages;
	ASSERT_EQ(0, ioctl(g->vcpu_fd, KVM_SET_REGS, &regs));
	ASSERT_EQ(0, guest_run(g->vcpu_fd));
	ASSERT_EQ(KVM_EXIT_IO, g->run->exit_reason);
}

FIXTURE(slot) {};
FIXTURE_SETUP(slot) {}
FIXTURE_TEARDOWN(slot) {}

/*
 * KVM faults a 1 GiB slot in in about 20 s under TCG on an idle machine;
 * with the rig's four boots on two cores the harness' 30 s were too few.
 */
TEST_F_TIMEOUT(slot, large_slot_lazy_rss, 600)
{
	/* 1 GiB; Bochs is slower at faulting, so half of it there. */
	const char *vendor = getenv("MVM_VENDOR");
	unsigned long size = (vendor && !strcmp(vendor, "vmx")) ? 512UL << 20 :
			     1UL << 30;
	unsigned long pages = size / 4096;
	struct kvm_userspace_memory_region r = {
		.slot = 1, .guest_phys_addr = BIG_GPA, .memory_size = size,
	};
	struct mvm_guest g;
	long rss0, rss1, rss2;
	void *big;

	guest_create(&g, 1 << 21);
	guest_load(&g, GUEST_CODE, g_touch_start, BLOB_LEN(g_touch));
	big = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, big);
	r.userspace_addr = (uintptr_t)big;
	ASSERT_EQ(0, ioctl(g.vm_fd, KVM_SET_USER_MEMORY_REGION, &r));

	/* Warm up the small slot (code, page tables) first. */
	touch(_metadata, &g, BIG_GPA, 1);
	rss0 = rss_bytes();

	touch(_metadata, &g, BIG_GPA + 4096, pages / 4 - 1);
	rss1 = rss_bytes();
	TH_LOG("slot %lu MiB: RSS %ld MiB -> %ld MiB after a quarter",
	       size >> 20, rss0 >> 20, rss1 >> 20);
	ASSERT_GE(rss1 - rss0, (long)(size / 4) * 9 / 10);
	ASSERT_LE(rss1 - rss0, (long)(size / 4) + (16L << 20));

	touch(_metadata, &g, BIG_GPA + size / 4, pages - pages / 4);
	rss2 = rss_bytes();
	TH_LOG("RSS %ld MiB after all of it", rss2 >> 20);
	ASSERT_GE(rss2 - rss0, (long)size * 9 / 10);
	ASSERT_LE(rss2 - rss0, (long)size + (16L << 20));

	/* Deleting the slot and unmapping its memory frees it. */
	r.memory_size = 0;
	ASSERT_EQ(0, ioctl(g.vm_fd, KVM_SET_USER_MEMORY_REGION, &r));
	ASSERT_EQ(0, munmap(big, size));
	ASSERT_LE(rss_bytes(), rss0 + (16L << 20));
	guest_destroy(&g);
}

/*
 * The guest's FPU state survives exits while the host uses the FPU
 * around it: XMM0-15 (and their YMM upper halves where the host has AVX),
 * MXCSR and the x87 control word are loaded with distinct values, 1000
 * exits follow, then everything is checked.  The guest reports 0 on port
 * 0x81 if intact, else which check failed: 1-16 XMM, 17-32 YMM upper,
 * 33 MXCSR, 34 x87 CW.
 */
#define XMM_SET(i) "mov $(0x0101010101010101 * (" #i " + 1)), %rax\n movq %rax, %xmm" #i "\n" \
		   "pinsrq $1, %rax, %xmm" #i "\n"
#define XMM_CHK(i) "movq %xmm" #i ", %rax\n pextrq $1, %xmm" #i ", %rcx\n" \
		   "mov $(0x0101010101010101 * (" #i " + 1)), %rdx\n" \
		   "mov $(" #i " + 1), %ebx\n cmp %rdx, %rax\n jne 9f\n cmp %rdx, %rcx\n jne 9f\n"
/* YMM upper half of i: the XMM pattern of 15 - i. */
#define YMM_SET(i) "mov $(0x0101010101010101 * (16 - " #i ")), %rax\n movq %rax, %xmm15\n" \
		   "vinsertf128 $1, %xmm15, %ymm" #i ", %ymm" #i "\n"
#define YMM_CHK(i) "vextractf128 $1, %ymm" #i ", %xmm" #i "\n movq %xmm" #i ", %rax\n" \
		   "mov $(0x0101010101010101 * (16 - " #i ")), %rdx\n" \
		   "mov $(" #i " + 17), %ebx\n cmp %rdx, %rax\n jne 9f\n"
#define ALL16(m) m(0) m(1) m(2) m(3) m(4) m(5) m(6) m(7) m(8) m(9) m(10) \
		 m(11) m(12) m(13) m(14) m(15)
#define FPU_CTL_SET \
	"movl $0x3f80, -4(%rsp)\n ldmxcsr -4(%rsp)\n" \
	"movw $0x027f, -8(%rsp)\n fldcw -8(%rsp)\n"
#define FPU_CTL_CHK \
	"stmxcsr -4(%rsp)\n mov $33, %ebx\n cmpl $0x3f80, -4(%rsp)\n jne 9f\n" \
	"fnstcw -8(%rsp)\n mov $34, %ebx\n cmpw $0x027f, -8(%rsp)\n jne 9f\n"
#define EXIT_LOOP "mov $1000, %ecx\n 1: out %al, $0x80\n dec %ecx\n jnz 1b\n"

GUEST_CODE_BLOB(g_sse, ".code64",
	FPU_CTL_SET ALL16(XMM_SET) EXIT_LOOP ALL16(XMM_CHK) FPU_CTL_CHK
	"xor %ebx, %ebx\n"
	"9: mov %ebx, %eax\n out %eax, $0x81\n hlt\n");

/* The same with AVX: XCR0 = x87 | SSE | AVX first (needs CR4.OSXSAVE). */
GUEST_CODE_BLOB(g_avx, ".code64",
	"xor %ecx, %ecx\n xor %edx, %edx\n mov $7, %eax\n xsetbv\n"
	FPU_CTL_SET ALL16(YMM_SET) ALL16(XMM_SET) EXIT_LOOP
	ALL16(XMM_CHK) ALL16(YMM_CHK) FPU_CTL_CHK
	"xor %ebx, %ebx\n"
	"9: mov %ebx, %eax\n out %eax, $0x81\n hlt\n");

static volatile int stop_fpu_hogs;
static bool host_avx;

/* Other threads keep every part of the FPU busy, with their own MXCSR. */
static void *fpu_hog(void *arg)
{
	volatile double x = 1.0;
	unsigned int mxcsr = 0x1f80 | 0x6000;	/* round toward zero */

	asm volatile("ldmxcsr %0" :: "m"(mxcsr));
	while (!stop_fpu_hogs) {
		x = sqrt(x + 1.5) * 1.000001;
		asm volatile("fldpi\n fldpi\n faddp\n fstp %%st(0)\n"
			     "pcmpeqb %%xmm8, %%xmm8\n paddq %%xmm8, %%xmm9\n"
			     ::: "xmm8", "xmm9", "st");
		if (host_avx)
			asm volatile("vpcmpeqd %%xmm10, %%xmm10, %%xmm10\n"
				     "vinsertf128 $1, %%xmm10, %%ymm10, %%ymm10\n"
				     "vxorps %%ymm10, %%ymm11, %%ymm11\n"
				     ::: "xmm10", "xmm11");
	}
	return NULL;
}

static bool cpu_has_avx(void)
{
	unsigned int a, b, c, d, xcr0_lo, xcr0_hi;

	asm volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	if (!(c & (1u << 27)) || !(c & (1u << 28)))	/* OSXSAVE, AVX */
		return false;
	asm volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
	return (xcr0_lo & 6) == 6;
}

static void fpu_round(struct __test_metadata *_metadata, bool avx)
{
	struct mvm_guest g;
	volatile double y = 2.0;
	int exits = 0;

	guest_create(&g, 1 << 21);
	if (avx) {
		struct kvm_sregs s;

		guest_load(&g, GUEST_CODE, g_avx_start, BLOB_LEN(g_avx));
		guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE);
		guest_set_supported_cpuid(&g, g.vcpu_fd);
		ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_SREGS, &s));
		s.cr4 |= 0x40000;		/* OSXSAVE */
		ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_SREGS, &s));
	} else {
		guest_load(&g, GUEST_CODE, g_sse_start, BLOB_LEN(g_sse));
		guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE);
	}
	for (;;) {
		ASSERT_EQ(0, guest_run(g.vcpu_fd));
		if (g.run->exit_reason != KVM_EXIT_IO) {
			struct kvm_regs r;

			ioctl(g.vcpu_fd, KVM_GET_REGS, &r);
			TH_LOG("exit %u after %d exits, RIP at blob + 0x%llx",
			       g.run->exit_reason, exits, r.rip - GUEST_CODE);
		}
		ASSERT_EQ(KVM_EXIT_IO, g.run->exit_reason);
		if (g.run->io.port == 0x81)
			break;
		exits++;
		/* This thread's own FPU use between exits; sometimes yield. */
		y = sqrt(y * 3.0 + exits);
		if (!(exits % 64))
			sched_yield();
	}
	ASSERT_EQ(1000, exits);
	ASSERT_EQ(0, *(uint32_t *)((char *)g.run + g.run->io.data_offset))
		TH_LOG("failed check (1-16 XMM, 17-32 YMM high, 33 MXCSR, 34 FCW)");
	guest_destroy(&g);
}

FIXTURE(fpu) {};
FIXTURE_SETUP(fpu) {}
FIXTURE_TEARDOWN(fpu) {}

/*
 * MVM_FPU_ROUNDS (default 3) rounds of each: a corruption that shows
 * once in a hundred runs is still a bug, so the rig can ask for more
 * (MVMRIG_APPEND="MVM_FPU_ROUNDS=200", with MVMRIG_TIMEOUT to match).
 */
TEST_F_TIMEOUT(fpu, state_survives_exits, 3600)
{
	const char *env = getenv("MVM_FPU_ROUNDS");
	int rounds = env ? atoi(env) : 3, i;
	pthread_t hogs[3];
	bool guest_avx;

	host_avx = cpu_has_avx();
	/*
	 * QEMU 7.2's TCG raises #UD for VEX instructions in a nested guest
	 * (KVM and mvm alike): the YMM rounds run under Bochs' VT-x only.
	 */
	guest_avx = host_avx && !mvm_cpu_is_amd();
	TH_LOG("%d rounds, guest AVX %s", rounds, guest_avx ? "too" : "not here");
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_create(&hogs[i], NULL, fpu_hog, NULL));
	for (i = 0; i < rounds; i++) {
		fpu_round(_metadata, false);
		if (guest_avx)
			fpu_round(_metadata, true);
	}
	stop_fpu_hogs = 1;
	for (i = 0; i < 3; i++)
		pthread_join(hogs[i], NULL);
}

TEST_HARNESS_MAIN
