// SPDX-License-Identifier: GPL-2.0
/*
 * Guest time: KVM_GET/SET_TSC_KHZ without TSC scaling; the TSC of a new
 * vCPU starts at 0 and the vCPUs of a VM count together (host writes close
 * in time are matched, as KVM's kvm_synchronize_tsc() does, so that QEMU's
 * TSC = 0 at reset gives every vCPU the same offset); the guest's TSC goes
 * on across exits and host CPU migration; a guest's write of the TSC moves
 * IA32_TSC_ADJUST and a write of IA32_TSC_ADJUST moves the TSC (SDM vol.
 * 3B 17.17.3).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

#define MSR_IA32_TSC		0x10
#define MSR_IA32_TSC_ADJUST	0x3b

static int64_t diff(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b);
}

TEST(tsc_khz)
{
	struct mvm_guest g;
	int khz, scaling;

	guest_create(&g, 1 << 20);
	ASSERT_EQ(1, ioctl(g.sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_GET_TSC_KHZ));
	scaling = ioctl(g.sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_CONTROL);
	khz = ioctl(g.vcpu_fd, KVM_GET_TSC_KHZ);
	ASSERT_LT(0, khz);
	TH_LOG("%d kHz, TSC scaling %s", khz, scaling > 0 ? "yes" : "no");

	/* The host's rate, as it is, as 0, and within 100 ppm. */
	EXPECT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_TSC_KHZ, khz));
	EXPECT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_TSC_KHZ, 0));
	EXPECT_EQ(khz, ioctl(g.vcpu_fd, KVM_GET_TSC_KHZ));
	EXPECT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_TSC_KHZ, khz + khz / 10000));
	EXPECT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_TSC_KHZ, khz));

	/* Half the rate needs scaling: without it, EINVAL. */
	if (scaling > 0) {
		EXPECT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_TSC_KHZ, khz / 2));
		EXPECT_EQ(khz / 2, ioctl(g.vcpu_fd, KVM_GET_TSC_KHZ));
	} else {
		EXPECT_EQ(-1, ioctl(g.vcpu_fd, KVM_SET_TSC_KHZ, khz / 2));
		EXPECT_EQ(EINVAL, errno);
	}
	guest_destroy(&g);
}

TEST(vcpus_count_together)
{
	struct kvm_run *run1;
	struct mvm_guest g;
	uint64_t t0, t1, ms;
	int fd1;

	SKIP_UNLESS_HOST_TSC_CLOCKSOURCE();

	guest_create(&g, 1 << 20);
	ms = ioctl(g.vcpu_fd, KVM_GET_TSC_KHZ);
	ASSERT_LT(0, ms);

	/* A new vCPU's TSC starts at 0, whatever the host's reads. */
	t0 = vcpu_rdmsr(g.vcpu_fd, MSR_IA32_TSC);
	EXPECT_GT(2000 * ms, t0) TH_LOG("TSC %llu", (unsigned long long)t0);

	/* One created later counts with it. */
	usleep(200 * 1000);
	fd1 = guest_add_vcpu(&g, 1, &run1);
	t0 = vcpu_rdmsr(g.vcpu_fd, MSR_IA32_TSC);
	t1 = vcpu_rdmsr(fd1, MSR_IA32_TSC);
	EXPECT_LT(llabs(diff(t1, t0)), 50 * ms);

	/* QEMU's reset: TSC = 0 on one vCPU, then on the other. */
	ASSERT_TRUE(vcpu_wrmsr(g.vcpu_fd, MSR_IA32_TSC, 0));
	usleep(200 * 1000);
	ASSERT_TRUE(vcpu_wrmsr(fd1, MSR_IA32_TSC, 0));
	t0 = vcpu_rdmsr(g.vcpu_fd, MSR_IA32_TSC);
	t1 = vcpu_rdmsr(fd1, MSR_IA32_TSC);
	EXPECT_LT(llabs(diff(t1, t0)), 50 * ms);
	EXPECT_LE(150 * ms, t0);

	/* A migration's restore: the same value on each, apart in time. */
	ASSERT_TRUE(vcpu_wrmsr(g.vcpu_fd, MSR_IA32_TSC, 1ULL << 44));
	usleep(200 * 1000);
	ASSERT_TRUE(vcpu_wrmsr(fd1, MSR_IA32_TSC, 1ULL << 44));
	t0 = vcpu_rdmsr(g.vcpu_fd, MSR_IA32_TSC);
	t1 = vcpu_rdmsr(fd1, MSR_IA32_TSC);
	EXPECT_LT(llabs(diff(t1, t0)), 50 * ms);

	/* A value far from where the VM's TSC is now is taken as it is. */
	ASSERT_TRUE(vcpu_wrmsr(fd1, MSR_IA32_TSC, 1ULL << 50));
	t0 = vcpu_rdmsr(g.vcpu_fd, MSR_IA32_TSC);
	t1 = vcpu_rdmsr(fd1, MSR_IA32_TSC);
	EXPECT_LT(llabs(diff(t1 - t0, (1ULL << 50) - (1ULL << 44))),
		  2000 * ms);
	/* Host writes leave TSC_ADJUST alone. */
	EXPECT_EQ(0, vcpu_rdmsr(fd1, MSR_IA32_TSC_ADJUST));
	close(fd1);
	guest_destroy(&g);
}

/* RBX = TSC, then OUT to port 0x80, for ever. */
GUEST_CODE_BLOB(g_rdtsc, ".code64",
	"1: rdtsc\n shl $32, %rdx\n or %rdx, %rax\n mov %rax, %rbx\n"
	"out %al, $0x80\n jmp 1b\n");

static uint64_t run_and_read(struct __test_metadata *_metadata, int fd,
			     struct kvm_run *run)
{
	struct kvm_regs regs;

	EXPECT_EQ(0, guest_run(fd));
	EXPECT_EQ(KVM_EXIT_IO, run->exit_reason);
	EXPECT_EQ(0, ioctl(fd, KVM_GET_REGS, &regs));
	return regs.rbx;
}

TEST(guest_tsc_monotonic_across_exits_and_cpus)
{
	int ncpu = sysconf(_SC_NPROCESSORS_ONLN), i;
	uint64_t prev = 0, t, host, a, b, c;
	struct kvm_run *run1;
	struct mvm_guest g;
	cpu_set_t set;
	int fd1;

	SKIP_UNLESS_HOST_TSC_CLOCKSOURCE();

	guest_create(&g, 1 << 20);
	guest_load(&g, GUEST_CODE, g_rdtsc_start, BLOB_LEN(g_rdtsc));
	guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE);
	fd1 = guest_add_vcpu(&g, 1, &run1);
	guest_set_long_mode(&g, fd1, GUEST_CODE);

	{
		char cs[32] = "?";
		FILE *f = fopen("/sys/devices/system/clocksource/"
				"clocksource0/current_clocksource", "r");

		if (f) {
			if (fscanf(f, "%31s", cs) != 1)
				strcpy(cs, "?");
			fclose(f);
		}
		TH_LOG("%d host CPUs, clocksource %s", ncpu, cs);
	}
	for (i = 0; i < 40; i++) {
		/* Move to another host CPU every other exit. */
		if (ncpu > 1 && i % 2 == 0) {
			CPU_ZERO(&set);
			CPU_SET((i / 2) % ncpu, &set);
			ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));
		}
		t = run_and_read(_metadata, g.vcpu_fd, g.run);
		host = vcpu_rdmsr(g.vcpu_fd, MSR_IA32_TSC);
		EXPECT_LT(prev, t) TH_LOG("round %d", i);
		EXPECT_LE(t, host);
		prev = t;
	}

	/* Two vCPUs read one clock: in turn, each later than the last. */
	a = run_and_read(_metadata, g.vcpu_fd, g.run);
	b = run_and_read(_metadata, fd1, run1);
	c = run_and_read(_metadata, g.vcpu_fd, g.run);
	EXPECT_LT(a, b);
	EXPECT_LT(b, c);
	close(fd1);
	guest_destroy(&g);
}

/*
 * TSC = 2^40 (WRMSR); R8 = TSC_ADJUST; R9 = TSC; TSC_ADJUST += R12;
 * R10 = TSC; R11 = TSC_ADJUST.
 */
GUEST_CODE_BLOB(g_adjust, ".code64",
	"mov $0x10, %ecx\n mov $0x100, %edx\n xor %eax, %eax\n wrmsr\n"
	"mov $0x3b, %ecx\n rdmsr\n shl $32, %rdx\n or %rdx, %rax\n mov %rax, %r8\n"
	"rdtsc\n shl $32, %rdx\n or %rdx, %rax\n mov %rax, %r9\n"
	"mov %r8, %rax\n add %r12, %rax\n mov %rax, %rdx\n shr $32, %rdx\n"
	"mov $0x3b, %ecx\n wrmsr\n"
	"rdtsc\n shl $32, %rdx\n or %rdx, %rax\n mov %rax, %r10\n"
	"mov $0x3b, %ecx\n rdmsr\n shl $32, %rdx\n or %rdx, %rax\n mov %rax, %r11\n"
	"hlt\n");

TEST(guest_writes_and_tsc_adjust)
{
	const uint64_t two40 = 1ULL << 40, step = 1ULL << 36;
	struct kvm_regs regs;
	struct mvm_guest g;
	uint64_t ms, before, after;

	SKIP_UNLESS_HOST_TSC_CLOCKSOURCE();

	guest_create(&g, 1 << 20);
	guest_set_supported_cpuid(&g, g.vcpu_fd);
	ms = ioctl(g.vcpu_fd, KVM_GET_TSC_KHZ);
	guest_load(&g, GUEST_CODE, g_adjust_start, BLOB_LEN(g_adjust));
	guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_REGS, &regs));
	regs.r12 = step;
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_REGS, &regs));
	ASSERT_EQ(0, vcpu_rdmsr(g.vcpu_fd, MSR_IA32_TSC_ADJUST));

	before = vcpu_rdmsr(g.vcpu_fd, MSR_IA32_TSC);
	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	ASSERT_EQ(KVM_EXIT_HLT, g.run->exit_reason);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_REGS, &regs));

	/* The write moved TSC_ADJUST by what it moved the TSC. */
	EXPECT_LE(two40 - before - 5000 * ms, regs.r8);
	EXPECT_GE(two40 - before, regs.r8);
	EXPECT_LE(two40, regs.r9);
	/* The write of TSC_ADJUST moved the TSC by the change. */
	EXPECT_LE(regs.r9 + step, regs.r10);
	EXPECT_GT(regs.r9 + step + 5000 * ms, regs.r10);
	EXPECT_EQ(regs.r8 + step, regs.r11);
	EXPECT_EQ(regs.r11, vcpu_rdmsr(g.vcpu_fd, MSR_IA32_TSC_ADJUST));

	/* The VMM's write of TSC_ADJUST restores it, the TSC stays. */
	before = vcpu_rdmsr(g.vcpu_fd, MSR_IA32_TSC);
	EXPECT_TRUE(vcpu_wrmsr(g.vcpu_fd, MSR_IA32_TSC_ADJUST, 12345));
	after = vcpu_rdmsr(g.vcpu_fd, MSR_IA32_TSC);
	EXPECT_EQ(12345, vcpu_rdmsr(g.vcpu_fd, MSR_IA32_TSC_ADJUST));
	EXPECT_LE(before, after);
	EXPECT_GT(before + 1000 * ms, after);
	guest_destroy(&g);
}

TEST_HARNESS_MAIN
