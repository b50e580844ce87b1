// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU state a VMM saves and restores besides the registers, as QEMU uses
 * it: KVM_GET/SET_MP_STATE, KVM_GET/SET_FPU, KVM_GET/SET_XSAVE(2),
 * KVM_GET/SET_XCRS, KVM_GET/SET_DEBUGREGS, KVM_SET_SIGNAL_MASK,
 * KVM_SET_TSS_ADDR and KVM_SET_IDENTITY_MAP_ADDR, and the capabilities
 * that announce them.  Each case checks KVM 6.1's errno for bad input,
 * that a value set is read back, and that the guest sees what the VMM set
 * and the VMM sees what the guest wrote.
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

#define CR4_OSXSAVE		(1ULL << 18)
#define XSTATE_BV_OFFSET	512
#define XCOMP_BV_OFFSET		520
#define XMM_OFFSET(i)		(160 + 16 * (i))

static void *region(struct kvm_xsave *x, size_t off)
{
	return (uint8_t *)x->region + off;
}

/* ------------------------------------------------------------------ */

TEST(capabilities)
{
	int fd = mvm_open_dev();
	unsigned int a, b, c, d;
	bool xsave;

	/* OSXSAVE: the kernel uses XSAVE (Bochs' Linux does not). */
	__cpuid(1, a, b, c, d);
	xsave = c & (1u << 27);

	EXPECT_EQ(1, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MP_STATE));
	EXPECT_EQ(1, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_DEBUGREGS));
	EXPECT_EQ(1, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_TSS_ADDR));
	EXPECT_EQ(1, ioctl(fd, KVM_CHECK_EXTENSION,
			   KVM_CAP_SET_IDENTITY_MAP_ADDR));
	/* KVM_GET/SET_XSAVE work without XSAVE too (the FXSAVE image). */
	EXPECT_EQ(1, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE));
	EXPECT_EQ(xsave, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS));
	EXPECT_LE(4096, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2));
	/* Machine-check banks and kvmclock, on both. */
	EXPECT_LT(0, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MCE));
	EXPECT_LT(0, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_ADJUST_CLOCK));

	/*
	 * What QEMU would use if offered but mvm does not have: it must
	 * say no (under KVM they exist).
	 */
	if (!mvm_on_kvm()) {
		static const int absent[] = {
			KVM_CAP_SREGS2, KVM_CAP_SYS_ATTRIBUTES,
			KVM_CAP_X86_USER_SPACE_MSR, KVM_CAP_EXCEPTION_PAYLOAD,
			KVM_CAP_KVMCLOCK_CTRL,
			KVM_CAP_COALESCED_MMIO, KVM_CAP_COALESCED_PIO,
			KVM_CAP_TSC_CONTROL, KVM_CAP_NESTED_STATE,
			KVM_CAP_PIT2, KVM_CAP_X86_MSR_FILTER,
			KVM_CAP_VM_TSC_CONTROL, KVM_CAP_X86_SMM,
		};
		unsigned int i;

		for (i = 0; i < ARRAY_SIZE(absent); i++)
			EXPECT_EQ(0, ioctl(fd, KVM_CHECK_EXTENSION, absent[i]))
				TH_LOG("capability %d", absent[i]);
	}
	close(fd);
}

/* ------------------------------------------------------------------ */

GUEST_CODE_BLOB(g_hlt, ".code64", "hlt\n");

TEST(mp_state_is_runnable_without_apic)
{
	static const __u32 refused[] = {
		KVM_MP_STATE_UNINITIALIZED, KVM_MP_STATE_INIT_RECEIVED,
		KVM_MP_STATE_HALTED, KVM_MP_STATE_SIPI_RECEIVED,
		KVM_MP_STATE_STOPPED, KVM_MP_STATE_CHECK_STOP,
		KVM_MP_STATE_OPERATING, KVM_MP_STATE_LOAD,
		KVM_MP_STATE_AP_RESET_HOLD, 1000,
	};
	struct kvm_mp_state mp = { .mp_state = 1234 };
	struct mvm_guest g;
	unsigned int i;

	guest_create(&g, 1 << 20);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_MP_STATE, &mp));
	EXPECT_EQ(KVM_MP_STATE_RUNNABLE, mp.mp_state);

	/* Without an in-kernel LAPIC only RUNNABLE exists. */
	for (i = 0; i < ARRAY_SIZE(refused); i++) {
		mp.mp_state = refused[i];
		EXPECT_EQ(-1, ioctl(g.vcpu_fd, KVM_SET_MP_STATE, &mp));
		EXPECT_EQ(EINVAL, errno) TH_LOG("mp_state %u", refused[i]);
	}
	mp.mp_state = KVM_MP_STATE_RUNNABLE;
	EXPECT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_MP_STATE, &mp));

	/* HLT goes to userspace; the vCPU stays runnable. */
	guest_load(&g, GUEST_CODE, g_hlt_start, BLOB_LEN(g_hlt));
	guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE);
	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	EXPECT_EQ(KVM_EXIT_HLT, g.run->exit_reason);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_MP_STATE, &mp));
	EXPECT_EQ(KVM_MP_STATE_RUNNABLE, mp.mp_state);
	guest_destroy(&g);
}

/* ------------------------------------------------------------------ */

/*
 * RAX = XMM0[63:0], RBX = XMM1[63:0]; XMM3 = RCX, XMM7 = RDX; x87 control
 * word to 0x20000.
 */
GUEST_CODE_BLOB(g_sse, ".code64",
	"movq %xmm0, %rax\n movq %xmm1, %rbx\n"
	"movq %rcx, %xmm3\n movq %rdx, %xmm7\n"
	"fnstcw 0x20000\n hlt\n");

static void set_rcx_rdx(int fd, uint64_t rcx, uint64_t rdx)
{
	struct kvm_regs r;

	ioctl(fd, KVM_GET_REGS, &r);
	r.rcx = rcx;
	r.rdx = rdx;
	ioctl(fd, KVM_SET_REGS, &r);
}

TEST(fpu_round_trip)
{
	struct kvm_fpu fpu, back;
	struct kvm_regs regs;
	struct mvm_guest g;
	uint64_t v;
	int i;

	guest_create(&g, 1 << 20);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_FPU, &fpu));
	/* RESET/INIT: FCW 0x37f (SDM vol. 1 8.1.5). */
	EXPECT_EQ(0x37f, fpu.fcw);

	fpu.fcw = 0x27f;
	fpu.fsw = 0x0800;
	fpu.ftwx = 0x80;
	for (i = 0; i < 16; i++)
		memset(fpu.xmm[i], 0x11 * (i + 1), 16);
	for (i = 0; i < 8; i++)
		memset(fpu.fpr[i], 0x21 + i, 10);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_FPU, &fpu));
	memset(&back, 0xa5, sizeof(back));
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_FPU, &back));
	EXPECT_EQ(0, memcmp(fpu.fpr, back.fpr, sizeof(fpu.fpr)));
	EXPECT_EQ(0, memcmp(fpu.xmm, back.xmm, sizeof(fpu.xmm)));
	EXPECT_EQ(fpu.fcw, back.fcw);
	EXPECT_EQ(fpu.fsw, back.fsw);
	EXPECT_EQ(fpu.ftwx, back.ftwx);

	/* What the guest writes, KVM_GET_FPU reads. */
	guest_load(&g, GUEST_CODE, g_sse_start, BLOB_LEN(g_sse));
	guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE);
	set_rcx_rdx(g.vcpu_fd, 0x0123456789abcdefULL, 0xfedcba9876543210ULL);
	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	ASSERT_EQ(KVM_EXIT_HLT, g.run->exit_reason);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_FPU, &back));
	memcpy(&v, back.xmm[3], 8);
	EXPECT_EQ(0x0123456789abcdefULL, v);
	memcpy(&v, back.xmm[7], 8);
	EXPECT_EQ(0xfedcba9876543210ULL, v);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_REGS, &regs));
	(void)regs;
	guest_destroy(&g);
}

/* The byte offset of XSAVE component @i in the standard format. */
static unsigned int xstate_offset(int i)
{
	unsigned int a, b, c, d;

	__cpuid_count(0xd, i, a, b, c, d);
	return b;
}

static bool host_uses_xsave(void)
{
	unsigned int a, b, c, d;

	__cpuid(1, a, b, c, d);
	return c & (1u << 27);		/* OSXSAVE */
}

static bool host_has_avx(void)
{
	unsigned int a, b, c, d, lo, hi;

	__cpuid(1, a, b, c, d);
	if (!(c & (1u << 27)) || !(c & (1u << 28)))
		return false;
	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (lo & 6) == 6;
}

TEST(xsave_round_trip)
{
	struct kvm_xsave *x = calloc(1, sizeof(*x)), *back = calloc(1, sizeof(*x));
	struct kvm_regs regs;
	struct mvm_guest g;
	uint64_t v, bv;
	int size;

	guest_create(&g, 1 << 20);
	ASSERT_EQ(1, ioctl(g.sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE));
	/* KVM_GET_XSAVE gives the components the guest's CPUID offers. */
	guest_set_supported_cpuid(&g, g.vcpu_fd);

	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_XSAVE, x));
	/* Legacy region at RESET: FCW 0x37f, MXCSR 0x1f80. */
	EXPECT_EQ(0x37f, *(uint16_t *)region(x, 0));
	EXPECT_EQ(0x1f80, *(uint32_t *)region(x, 24));
	/* The standard (uncompacted) format. */
	EXPECT_EQ(0, *(uint64_t *)region(x, XCOMP_BV_OFFSET));

	/* XMM registers in, the same out. */
	memset(region(x, XMM_OFFSET(0)), 0x5a, 16 * 16);
	*(uint64_t *)region(x, XSTATE_BV_OFFSET) |= 3;	/* x87, SSE */
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_XSAVE, x));
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_XSAVE, back));
	EXPECT_EQ(0, memcmp(region(x, XMM_OFFSET(0)),
			    region(back, XMM_OFFSET(0)), 16 * 16));

	/* The guest sees them and its own writes come back. */
	guest_load(&g, GUEST_CODE, g_sse_start, BLOB_LEN(g_sse));
	guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE);
	set_rcx_rdx(g.vcpu_fd, 0x1122334455667788ULL, 0x99aabbccddeeff00ULL);
	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	ASSERT_EQ(KVM_EXIT_HLT, g.run->exit_reason);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_REGS, &regs));
	EXPECT_EQ(0x5a5a5a5a5a5a5a5aULL, regs.rax);
	EXPECT_EQ(0x5a5a5a5a5a5a5a5aULL, regs.rbx);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_XSAVE, back));
	memcpy(&v, region(back, XMM_OFFSET(3)), 8);
	EXPECT_EQ(0x1122334455667788ULL, v);
	memcpy(&v, region(back, XMM_OFFSET(7)), 8);
	EXPECT_EQ(0x99aabbccddeeff00ULL, v);

	/* KVM_GET_XSAVE2 gives the same image, in a buffer of CAP_XSAVE2. */
	size = ioctl(g.sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	if (size > 0) {
		uint8_t *big = malloc(size);

		memset(big, 0xee, size);
		ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_XSAVE2, big));
		EXPECT_EQ(0, memcmp(big, back->region, 4096));
		free(big);
	}

	/* A component no one supports, or the compacted format: EINVAL. */
	memcpy(x, back, sizeof(*x));
	bv = *(uint64_t *)region(x, XSTATE_BV_OFFSET);
	*(uint64_t *)region(x, XSTATE_BV_OFFSET) = bv | (1ULL << 62);
	EXPECT_EQ(-1, ioctl(g.vcpu_fd, KVM_SET_XSAVE, x));
	EXPECT_EQ(EINVAL, errno);
	*(uint64_t *)region(x, XSTATE_BV_OFFSET) = bv;
	if (host_uses_xsave()) {
		*(uint64_t *)region(x, XCOMP_BV_OFFSET) = (1ULL << 63) | bv;
		EXPECT_EQ(-1, ioctl(g.vcpu_fd, KVM_SET_XSAVE, x));
		EXPECT_EQ(EINVAL, errno);
	}

	/* The YMM upper halves, from the host only. */
	if (host_has_avx()) {
		unsigned int ymm = xstate_offset(2);

		memcpy(x, back, sizeof(*x));
		memset(region(x, ymm), 0x3c, 16 * 16);
		*(uint64_t *)region(x, XSTATE_BV_OFFSET) |= 4;
		ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_XSAVE, x));
		ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_XSAVE, back));
		EXPECT_EQ(0, memcmp(region(x, ymm), region(back, ymm), 256));
		EXPECT_EQ(4, *(uint64_t *)region(back, XSTATE_BV_OFFSET) & 4);
	}
	free(x);
	free(back);
	guest_destroy(&g);
}

/*
 * With XCR0 = x87 | SSE | AVX from KVM_SET_XCRS: R8 = XCR0 (XGETBV);
 * RAX = YMM0[191:128]; YMM4[191:128] = RCX.
 */
GUEST_CODE_BLOB(g_avx, ".code64",
	"mov %rcx, %r9\n xor %ecx, %ecx\n xgetbv\n mov %rax, %r8\n"
	"vextractf128 $1, %ymm0, %xmm1\n movq %xmm1, %rax\n"
	"movq %r9, %xmm5\n vinsertf128 $1, %xmm5, %ymm4, %ymm4\n hlt\n");

TEST(xcrs_and_guest_ymm)
{
	struct kvm_xsave *x = calloc(1, sizeof(*x));
	struct kvm_xcrs xcrs, back;
	struct kvm_sregs s;
	struct kvm_regs regs;
	struct mvm_guest g;
	unsigned int ymm;
	uint64_t v;

	guest_create(&g, 1 << 20);
	if (!host_uses_xsave()) {
		/* No XCR0 to get or set. */
		EXPECT_EQ(0, ioctl(g.sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS));
		ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_XCRS, &back));
		EXPECT_EQ(0, back.nr_xcrs);
		memset(&xcrs, 0, sizeof(xcrs));
		xcrs.nr_xcrs = 1;
		xcrs.xcrs[0].value = 1;
		EXPECT_EQ(-1, ioctl(g.vcpu_fd, KVM_SET_XCRS, &xcrs));
		EXPECT_EQ(EINVAL, errno);
		TH_LOG("the host kernel does not use XSAVE");
		goto out;
	}

	/* RESET: XCR0 = x87 only. */
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_XCRS, &back));
	EXPECT_EQ(1, back.nr_xcrs);
	EXPECT_EQ(0, back.xcrs[0].xcr);
	EXPECT_EQ(1, back.xcrs[0].value);

	guest_set_supported_cpuid(&g, g.vcpu_fd);
	memset(&xcrs, 0, sizeof(xcrs));
	xcrs.nr_xcrs = 1;
	/* XCR0 values XSETBV would #GP on: EINVAL. */
	xcrs.xcrs[0].value = 0;			/* no x87 */
	EXPECT_EQ(-1, ioctl(g.vcpu_fd, KVM_SET_XCRS, &xcrs));
	EXPECT_EQ(EINVAL, errno);
	xcrs.xcrs[0].value = 1ULL << 63;
	EXPECT_EQ(-1, ioctl(g.vcpu_fd, KVM_SET_XCRS, &xcrs));
	EXPECT_EQ(EINVAL, errno);
	if (host_has_avx()) {
		xcrs.xcrs[0].value = 5;		/* AVX without SSE */
		EXPECT_EQ(-1, ioctl(g.vcpu_fd, KVM_SET_XCRS, &xcrs));
		EXPECT_EQ(EINVAL, errno);
	}
	xcrs.xcrs[0].value = 3;
	xcrs.flags = 1;
	EXPECT_EQ(-1, ioctl(g.vcpu_fd, KVM_SET_XCRS, &xcrs));
	EXPECT_EQ(EINVAL, errno);
	xcrs.flags = 0;
	xcrs.nr_xcrs = KVM_MAX_XCRS + 1;
	EXPECT_EQ(-1, ioctl(g.vcpu_fd, KVM_SET_XCRS, &xcrs));
	EXPECT_EQ(EINVAL, errno);
	/* An XCR other than XCR0 is skipped. */
	xcrs.nr_xcrs = 1;
	xcrs.xcrs[0].xcr = 1;
	EXPECT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_XCRS, &xcrs));
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_XCRS, &back));
	EXPECT_EQ(1, back.xcrs[0].value);

	xcrs.xcrs[0].xcr = 0;
	xcrs.xcrs[0].value = host_has_avx() ? 7 : 3;
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_XCRS, &xcrs));
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_XCRS, &back));
	EXPECT_EQ(xcrs.xcrs[0].value, back.xcrs[0].value);

	/*
	 * QEMU 7.2's TCG raises #UD for VEX instructions in a nested guest
	 * (KVM and mvm alike): the guest's YMM half is for VT-x hosts whose
	 * kernel uses AVX (not the rig's Bochs, whose Linux has no XSAVE).
	 */
	if (!host_has_avx() || mvm_cpu_is_amd()) {
		TH_LOG("guest AVX: not here (Bochs' VT-x only, testing.rst)");
		goto out;
	}

	ymm = xstate_offset(2);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_XSAVE, x));
	memset(region(x, ymm), 0x6b, 16 * 16);
	*(uint64_t *)region(x, XSTATE_BV_OFFSET) |= 7;
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_XSAVE, x));

	guest_load(&g, GUEST_CODE, g_avx_start, BLOB_LEN(g_avx));
	guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_SREGS, &s));
	s.cr4 |= CR4_OSXSAVE;
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_SREGS, &s));
	set_rcx_rdx(g.vcpu_fd, 0x0f1e2d3c4b5a6978ULL, 0);
	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	ASSERT_EQ(KVM_EXIT_HLT, g.run->exit_reason);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_REGS, &regs));
	EXPECT_EQ(7, regs.r8);
	EXPECT_EQ(0x6b6b6b6b6b6b6b6bULL, regs.rax);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_XSAVE, x));
	memcpy(&v, region(x, ymm + 4 * 16), 8);
	EXPECT_EQ(0x0f1e2d3c4b5a6978ULL, v);
out:
	free(x);
	guest_destroy(&g);
}

/* ------------------------------------------------------------------ */

/*
 * Read DR0-3, DR6, DR7 into RAX, RBX, RCX, RDX, RSI, RDI; then DR0 =
 * 0x5000 and DR3 = 0x8000.  DR7 enables no breakpoint (see testing.rst:
 * QEMU's TCG and armed breakpoints in a nested guest).
 */
GUEST_CODE_BLOB(g_dr, ".code64",
	"mov %dr0, %rax\n mov %dr1, %rbx\n mov %dr2, %rcx\n mov %dr3, %rdx\n"
	"mov %dr6, %rsi\n mov %dr7, %rdi\n"
	"mov $0x5000, %r8\n mov %r8, %dr0\n"
	"mov $0x8000, %r8\n mov %r8, %dr3\n hlt\n");

TEST(debugregs)
{
	struct kvm_debugregs d, back;
	struct kvm_regs regs;
	struct mvm_guest g;

	guest_create(&g, 1 << 20);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_DEBUGREGS, &d));
	/* RESET (SDM vol. 3A table 10-1). */
	EXPECT_EQ(0, d.db[0] | d.db[1] | d.db[2] | d.db[3]);
	EXPECT_EQ(0xffff0ff0, d.dr6);
	EXPECT_EQ(0x400, d.dr7);
	EXPECT_EQ(0, d.flags);

	/* Flags, and bits 63:32 of DR6 or DR7: EINVAL. */
	back = d;
	back.flags = 1;
	EXPECT_EQ(-1, ioctl(g.vcpu_fd, KVM_SET_DEBUGREGS, &back));
	EXPECT_EQ(EINVAL, errno);
	back = d;
	back.dr6 |= 1ULL << 32;
	EXPECT_EQ(-1, ioctl(g.vcpu_fd, KVM_SET_DEBUGREGS, &back));
	EXPECT_EQ(EINVAL, errno);
	back = d;
	back.dr7 |= 1ULL << 40;
	EXPECT_EQ(-1, ioctl(g.vcpu_fd, KVM_SET_DEBUGREGS, &back));
	EXPECT_EQ(EINVAL, errno);

	d.db[0] = 0x1000;
	d.db[1] = 0x2000;
	d.db[2] = 0xffffffff80003000ULL;
	d.db[3] = 0x4000;
	d.dr6 = 0xffff0ff1;	/* B0 */
	d.dr7 = 0x600;		/* GE: enables no breakpoint */
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_DEBUGREGS, &d));
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_DEBUGREGS, &back));
	EXPECT_EQ(0, memcmp(d.db, back.db, sizeof(d.db)));
	EXPECT_EQ(d.dr6, back.dr6);
	EXPECT_EQ(d.dr7, back.dr7);

	guest_load(&g, GUEST_CODE, g_dr_start, BLOB_LEN(g_dr));
	guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE);
	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	ASSERT_EQ(KVM_EXIT_HLT, g.run->exit_reason);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_REGS, &regs));
	EXPECT_EQ(0x1000, regs.rax);
	EXPECT_EQ(0x2000, regs.rbx);
	EXPECT_EQ(0xffffffff80003000ULL, regs.rcx);
	EXPECT_EQ(0x4000, regs.rdx);
	EXPECT_EQ(0xffff0ff1, regs.rsi);
	EXPECT_EQ(0x600, regs.rdi);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_DEBUGREGS, &back));
	EXPECT_EQ(0x5000, back.db[0]);
	EXPECT_EQ(0x2000, back.db[1]);
	EXPECT_EQ(0x8000, back.db[3]);
	EXPECT_EQ(0x600, back.dr7);
	guest_destroy(&g);
}

/* ------------------------------------------------------------------ */

GUEST_CODE_BLOB(g_spin, ".code64", "1: jmp 1b\n");

static void on_signal(int sig)
{
}

struct kicker {
	pthread_t target;
	int sig;
	int delay_ms;
};

static void *kick(void *arg)
{
	struct kicker *k = arg;

	usleep(k->delay_ms * 1000);
	pthread_kill(k->target, k->sig);
	return NULL;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static int set_sigmask(int fd, const sigset_t *set)
{
	struct {
		struct kvm_signal_mask m;
		uint8_t bits[8];
	} arg = { .m.len = 8 };

	memcpy(arg.bits, set, 8);
	return ioctl(fd, KVM_SET_SIGNAL_MASK, &arg);
}

TEST(signal_mask_applies_in_kvm_run)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct kicker k1 = { .sig = SIGUSR1, .delay_ms = 100 };
	struct kicker k2 = { .sig = SIGUSR2, .delay_ms = 400 };
	struct { struct kvm_signal_mask m; uint8_t bits[16]; } bad;
	sigset_t blocked, vcpu_mask, now, pending;
	struct timespec t0;
	struct mvm_guest g;
	pthread_t th1, th2;
	siginfo_t si;
	int r;

	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	guest_create(&g, 1 << 20);
	guest_load(&g, GUEST_CODE, g_spin_start, BLOB_LEN(g_spin));
	guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE);
	/* IF=1: Bochs takes no interrupt exit from a spin with IF clear. */
	{
		struct kvm_regs regs;

		ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_REGS, &regs));
		regs.rflags |= 0x200;
		ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_REGS, &regs));
	}

	/* The length must be that of the kernel's sigset_t. */
	memset(&bad, 0, sizeof(bad));
	bad.m.len = 16;
	EXPECT_EQ(-1, ioctl(g.vcpu_fd, KVM_SET_SIGNAL_MASK, &bad));
	EXPECT_EQ(EINVAL, errno);
	bad.m.len = 4;
	EXPECT_EQ(-1, ioctl(g.vcpu_fd, KVM_SET_SIGNAL_MASK, &bad));
	EXPECT_EQ(EINVAL, errno);

	/* The thread blocks both; the vCPU's mask lets SIGUSR1 through. */
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGUSR1);
	sigaddset(&blocked, SIGUSR2);
	ASSERT_EQ(0, pthread_sigmask(SIG_BLOCK, &blocked, NULL));
	sigemptyset(&vcpu_mask);
	sigaddset(&vcpu_mask, SIGUSR2);
	ASSERT_EQ(0, set_sigmask(g.vcpu_fd, &vcpu_mask));

	k1.target = pthread_self();
	ASSERT_EQ(0, pthread_create(&th1, NULL, kick, &k1));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = guest_run(g.vcpu_fd);
	pthread_join(th1, NULL);
	EXPECT_EQ(-EINTR, r);
	EXPECT_EQ(KVM_EXIT_INTR, g.run->exit_reason);
	EXPECT_LE(90, ms_since(&t0));
	/* Back in userspace the thread's own mask is in force again... */
	ASSERT_EQ(0, pthread_sigmask(SIG_BLOCK, NULL, &now));
	EXPECT_TRUE(sigismember(&now, SIGUSR1));
	EXPECT_TRUE(sigismember(&now, SIGUSR2));
	/* ...so the signal is still pending, as QEMU expects. */
	sigpending(&pending);
	EXPECT_TRUE(sigismember(&pending, SIGUSR1));
	{
		struct timespec zero = { 0 };
		sigset_t one;

		sigemptyset(&one);
		sigaddset(&one, SIGUSR1);
		EXPECT_EQ(SIGUSR1, sigtimedwait(&one, &si, &zero));
	}

	/* A signal the vCPU's mask blocks does not stop KVM_RUN. */
	sigemptyset(&vcpu_mask);
	sigaddset(&vcpu_mask, SIGUSR1);
	ASSERT_EQ(0, set_sigmask(g.vcpu_fd, &vcpu_mask));
	k2.target = pthread_self();
	ASSERT_EQ(0, pthread_create(&th1, NULL, kick, &k1));
	ASSERT_EQ(0, pthread_create(&th2, NULL, kick, &k2));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = guest_run(g.vcpu_fd);
	pthread_join(th1, NULL);
	pthread_join(th2, NULL);
	EXPECT_EQ(-EINTR, r);
	EXPECT_LE(390, ms_since(&t0));
	sigpending(&pending);
	EXPECT_TRUE(sigismember(&pending, SIGUSR1));
	EXPECT_TRUE(sigismember(&pending, SIGUSR2));

	/* NULL removes the vCPU's mask. */
	EXPECT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_SIGNAL_MASK, NULL));
	guest_destroy(&g);
}

/* ------------------------------------------------------------------ */

TEST(tss_and_identity_map_addr)
{
	int sys = mvm_open_dev(), vm, vcpu;
	uint64_t addr = 0xfffbc000;

	vm = ioctl(sys, KVM_CREATE_VM, 0);
	ASSERT_LE(0, vm);
	/* KVM_SET_TSS_ADDR: three pages below 4 GiB. */
	EXPECT_EQ(-1, ioctl(vm, KVM_SET_TSS_ADDR, 0xfffff000UL));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, ioctl(vm, KVM_SET_TSS_ADDR, 0xfeffd000UL));

	/* KVM_SET_IDENTITY_MAP_ADDR: a pointer, before any vCPU. */
	EXPECT_EQ(-1, ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, &addr));
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	ASSERT_LE(0, vcpu);
	EXPECT_EQ(-1, ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, &addr));
	EXPECT_EQ(EINVAL, errno);
	close(vcpu);
	close(vm);
	close(sys);
}

TEST_HARNESS_MAIN
