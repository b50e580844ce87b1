// SPDX-License-Identifier: GPL-2.0
/*
 * kvmclock (Documentation/virt/kvm/x86/msr.rst): the paravirtual CPUID
 * leaves; a guest that enables MSR_KVM_SYSTEM_TIME_NEW computes, with the
 * pvclock formula on its own TSC, a clock that is monotonic, runs at the
 * rate KVM_GET_TSC_KHZ gives, lies between KVM_GET_CLOCK read before and
 * after, moves with KVM_SET_CLOCK and agrees between vCPUs;
 * MSR_KVM_WALL_CLOCK_NEW gives the wall-clock time of kvmclock 0; the
 * flags of KVM_GET/SET_CLOCK.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

#define MSR_KVM_WALL_CLOCK_NEW		0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW		0x4b564d01
#define KVM_FEATURE_CLOCKSOURCE2	3
#define PVCLOCK_TSC_STABLE_BIT		(1 << 0)

#define PVCLOCK_GPA	0x20000UL	/* vCPU n's at + n * 64 */
#define WALL_GPA	0x20200UL
#define NSEC_PER_SEC	1000000000ULL
/* Nested emulation is slow: what may pass between two host reads. */
#define SLACK_NS	(200 * 1000 * 1000ULL)

struct pvclock_vcpu_time_info {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __attribute__((packed));

struct pvclock_wall_clock {
	uint32_t version;
	uint32_t sec;
	uint32_t nsec;
} __attribute__((packed));

/*
 * RSI = the pvclock structure's GPA.  Enable it, then for ever: read a
 * consistent version (R8), the TSC (R12) and the clock computed from them
 * with the pvclock formula (RBX), and OUT to port 0x80.
 */
GUEST_CODE_BLOB(g_clock, ".code64",
	"mov %rsi, %rax\n or $1, %rax\n mov %rax, %rdx\n shr $32, %rdx\n"
	"mov $0x4b564d01, %ecx\n wrmsr\n"
	"1: mov (%rsi), %r8d\n lfence\n"
	"rdtsc\n shl $32, %rdx\n or %rdx, %rax\n mov %rax, %r12\n"
	"sub 8(%rsi), %rax\n"
	"movsbq 28(%rsi), %rcx\n test %rcx, %rcx\n js 2f\n"
	"shl %cl, %rax\n jmp 3f\n"
	"2: neg %rcx\n shr %cl, %rax\n"
	"3: mov 24(%rsi), %edx\n mul %rdx\n shrd $32, %rdx, %rax\n"
	"add 16(%rsi), %rax\n mov %rax, %rbx\n lfence\n"
	"mov (%rsi), %r9d\n cmp %r8d, %r9d\n jne 1b\n"
	"test $1, %r8d\n jnz 1b\n"
	"out %al, $0x80\n jmp 1b\n");

/* MSR_KVM_WALL_CLOCK_NEW = RSI, then HLT. */
GUEST_CODE_BLOB(g_wall, ".code64",
	"mov %rsi, %rax\n mov %rax, %rdx\n shr $32, %rdx\n"
	"mov $0x4b564d00, %ecx\n wrmsr\n hlt\n");

struct sample {
	uint64_t clock, version, tsc;
};

static void set_rsi(struct __test_metadata *_metadata, int fd, uint64_t rsi)
{
	struct kvm_regs regs;

	ASSERT_EQ(0, ioctl(fd, KVM_GET_REGS, &regs));
	regs.rsi = rsi;
	ASSERT_EQ(0, ioctl(fd, KVM_SET_REGS, &regs));
}

static int clock_vcpu(struct __test_metadata *_metadata, struct mvm_guest *g,
		      int id, struct kvm_run **run)
{
	int fd = id ? guest_add_vcpu(g, id, run) : g->vcpu_fd;

	if (!id)
		*run = g->run;
	guest_set_supported_cpuid(g, fd);
	guest_set_long_mode(g, fd, GUEST_CODE);
	set_rsi(_metadata, fd, PVCLOCK_GPA + id * 64);
	return fd;
}

static void clock_guest(struct __test_metadata *_metadata,
			struct mvm_guest *g)
{
	guest_create(g, 1 << 20);
	guest_load(g, GUEST_CODE, g_clock_start, BLOB_LEN(g_clock));
	clock_vcpu(_metadata, g, 0, &g->run);
}

static struct sample sample(struct __test_metadata *_metadata, int fd,
			    struct kvm_run *run)
{
	struct sample s = { 0 };
	struct kvm_regs regs;

	EXPECT_EQ(0, guest_run(fd));
	EXPECT_EQ(KVM_EXIT_IO, run->exit_reason);
	EXPECT_EQ(0x80, run->io.port);
	EXPECT_EQ(0, ioctl(fd, KVM_GET_REGS, &regs));
	s.clock = regs.rbx;
	s.version = regs.r8;
	s.tsc = regs.r12;
	return s;
}

static struct kvm_clock_data get_clock(struct __test_metadata *_metadata,
				       int vm_fd)
{
	struct kvm_clock_data data;

	memset(&data, 0, sizeof(data));
	EXPECT_EQ(0, ioctl(vm_fd, KVM_GET_CLOCK, &data));
	return data;
}

static int64_t diff(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b);
}

TEST(cpuid_leaves)
{
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[256];
	} cpuid = { .c.nent = 256 };
	bool sig = false, features = false;
	int sys = mvm_open_dev();
	unsigned int i;
	char name[13];

	ASSERT_EQ(0, ioctl(sys, KVM_GET_SUPPORTED_CPUID, &cpuid));
	for (i = 0; i < cpuid.c.nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid.e[i];

		if (e->function == 0x40000000) {
			memcpy(name, &e->ebx, 4);
			memcpy(name + 4, &e->ecx, 4);
			memcpy(name + 8, &e->edx, 4);
			name[12] = 0;
			EXPECT_STREQ("KVMKVMKVM", name);
			EXPECT_LE(0x40000001, e->eax);
			sig = true;
		}
		if (e->function == 0x40000001) {
			EXPECT_TRUE(e->eax & (1 << KVM_FEATURE_CLOCKSOURCE2));
			features = true;
		}
	}
	EXPECT_TRUE(sig);
	EXPECT_TRUE(features);
	EXPECT_NE(0, ioctl(sys, KVM_CHECK_EXTENSION, KVM_CAP_ADJUST_CLOCK));
	close(sys);
}

TEST(pvclock_scale_and_monotonic)
{
	struct pvclock_vcpu_time_info *pv;
	struct kvm_clock_data before, after;
	struct sample s, prev = { 0 };
	unsigned __int128 ns;
	struct mvm_guest g;
	uint64_t khz, ticks;
	int i;

	SKIP_UNLESS_HOST_TSC_CLOCKSOURCE();

	clock_guest(_metadata, &g);
	pv = (void *)(g.mem + PVCLOCK_GPA);
	khz = ioctl(g.vcpu_fd, KVM_GET_TSC_KHZ);
	ASSERT_LT(0, (int64_t)khz);

	for (i = 0; i < 20; i++) {
		before = get_clock(_metadata, g.vm_fd);
		s = sample(_metadata, g.vcpu_fd, g.run);
		after = get_clock(_metadata, g.vm_fd);
		EXPECT_EQ(0, s.version & 1);
		EXPECT_NE(0, s.version);
		if (i)
			EXPECT_LE(prev.clock, s.clock) TH_LOG("exit %d", i);
		EXPECT_LE(diff(before.clock, s.clock), (int64_t)SLACK_NS)
			TH_LOG("guest %llu, KVM_GET_CLOCK before %llu",
			       (unsigned long long)s.clock,
			       (unsigned long long)before.clock);
		EXPECT_LE(diff(s.clock, after.clock), (int64_t)SLACK_NS)
			TH_LOG("guest %llu, KVM_GET_CLOCK after %llu",
			       (unsigned long long)s.clock,
			       (unsigned long long)after.clock);
		prev = s;
	}

	/* One second of guest TSC converts to one second, within 1%. */
	EXPECT_EQ(0, pv->version & 1);
	EXPECT_NE(0, pv->tsc_to_system_mul);
	EXPECT_LE(-32, pv->tsc_shift);
	EXPECT_GE(32, pv->tsc_shift);
	ticks = khz * 1000;
	if (pv->tsc_shift < 0)
		ticks >>= -pv->tsc_shift;
	else
		ticks <<= pv->tsc_shift;
	ns = ((unsigned __int128)ticks * pv->tsc_to_system_mul) >> 32;
	EXPECT_LT(NSEC_PER_SEC * 99 / 100, (uint64_t)ns);
	EXPECT_GT(NSEC_PER_SEC * 101 / 100, (uint64_t)ns);
	TH_LOG("%llu kHz: mul %u shift %d, flags %#x; KVM_GET_CLOCK flags %#x",
	       (unsigned long long)khz, pv->tsc_to_system_mul, pv->tsc_shift,
	       pv->flags, after.flags);

	/* Both say whether the clock is stable across vCPUs, or neither. */
	EXPECT_EQ(!!(pv->flags & PVCLOCK_TSC_STABLE_BIT),
		  !!(after.flags & KVM_CLOCK_TSC_STABLE));
	guest_destroy(&g);
}

TEST(get_and_set_clock_flags)
{
	struct kvm_clock_data data;
	struct timespec ts;
	struct mvm_guest g;
	uint64_t now;

	guest_create(&g, 1 << 20);
	data = get_clock(_metadata, g.vm_fd);
	clock_gettime(CLOCK_REALTIME, &ts);
	now = ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
	EXPECT_EQ(0, data.flags & ~(KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME |
				    KVM_CLOCK_HOST_TSC));
	/* The VM's clock starts near 0 when it is created. */
	EXPECT_GT(10 * NSEC_PER_SEC, data.clock);
	if (data.flags & KVM_CLOCK_REALTIME)
		EXPECT_GT(NSEC_PER_SEC, llabs(diff(now, data.realtime)));

	/* Flags KVM does not know. */
	data.flags = 1;
	EXPECT_EQ(-1, ioctl(g.vm_fd, KVM_SET_CLOCK, &data));
	EXPECT_EQ(EINVAL, errno);
	data.flags = 1 << 4;
	EXPECT_EQ(-1, ioctl(g.vm_fd, KVM_SET_CLOCK, &data));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(g.vm_fd, KVM_SET_CLOCK, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(g.vm_fd, KVM_GET_CLOCK, NULL));
	EXPECT_EQ(EFAULT, errno);

	/* Flags KVM_GET_CLOCK gave back are accepted. */
	data = get_clock(_metadata, g.vm_fd);
	EXPECT_EQ(0, ioctl(g.vm_fd, KVM_SET_CLOCK, &data));
	guest_destroy(&g);
}

TEST(set_clock_moves_guest_clock)
{
	const uint64_t jump = 1000 * NSEC_PER_SEC;
	struct kvm_clock_data data, after;
	struct mvm_guest g;
	struct sample s0, s1;

	clock_guest(_metadata, &g);
	s0 = sample(_metadata, g.vcpu_fd, g.run);

	data = get_clock(_metadata, g.vm_fd);
	data.clock += jump;
	data.flags = 0;
	ASSERT_EQ(0, ioctl(g.vm_fd, KVM_SET_CLOCK, &data));
	after = get_clock(_metadata, g.vm_fd);
	EXPECT_LE(data.clock, after.clock);
	EXPECT_GT(data.clock + SLACK_NS, after.clock);

	/* The guest's next read, after the next entry, moved with it. */
	s1 = sample(_metadata, g.vcpu_fd, g.run);
	after = get_clock(_metadata, g.vm_fd);
	EXPECT_NE(s0.version, s1.version);
	EXPECT_LE(diff(data.clock, s1.clock), (int64_t)SLACK_NS)
		TH_LOG("guest %llu, set %llu", (unsigned long long)s1.clock,
		       (unsigned long long)data.clock);
	EXPECT_LE(diff(s1.clock, after.clock), (int64_t)SLACK_NS);
	EXPECT_LE(s0.clock + jump, s1.clock);
	EXPECT_GT(s0.clock + jump + 10 * NSEC_PER_SEC, s1.clock);

	/* And back: the guest's clock goes back with it. */
	data = get_clock(_metadata, g.vm_fd);
	data.clock -= jump;
	ASSERT_EQ(0, ioctl(g.vm_fd, KVM_SET_CLOCK, &data));
	s0 = sample(_metadata, g.vcpu_fd, g.run);
	EXPECT_GT(s1.clock, s0.clock);
	EXPECT_LE(diff(data.clock, s0.clock), (int64_t)SLACK_NS);
	EXPECT_GT(data.clock + 10 * NSEC_PER_SEC, s0.clock);
	guest_destroy(&g);
}

TEST(wall_clock)
{
	struct pvclock_wall_clock *wc;
	struct kvm_clock_data data;
	struct timespec ts;
	struct mvm_guest g;
	int64_t boot_sec;

	guest_create(&g, 1 << 20);
	guest_set_supported_cpuid(&g, g.vcpu_fd);
	guest_load(&g, GUEST_CODE, g_wall_start, BLOB_LEN(g_wall));
	guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE);
	set_rsi(_metadata, g.vcpu_fd, WALL_GPA);
	wc = (void *)(g.mem + WALL_GPA);

	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	ASSERT_EQ(KVM_EXIT_HLT, g.run->exit_reason);
	data = get_clock(_metadata, g.vm_fd);
	clock_gettime(CLOCK_REALTIME, &ts);

	/* Realtime when kvmclock read 0. */
	boot_sec = ts.tv_sec - (int64_t)(data.clock / NSEC_PER_SEC);
	EXPECT_EQ(0, wc->version & 1);
	EXPECT_NE(0, wc->version);
	EXPECT_GT(NSEC_PER_SEC, wc->nsec);
	EXPECT_GE(2, llabs((int64_t)wc->sec - boot_sec))
		TH_LOG("wall clock %u s, expected %lld", wc->sec,
		       (long long)boot_sec);
	guest_destroy(&g);
}

TEST(vcpus_agree)
{
	struct sample a, b, c;
	struct kvm_run *run1;
	struct mvm_guest g;
	int fd1, i;

	SKIP_UNLESS_HOST_TSC_CLOCKSOURCE();

	clock_guest(_metadata, &g);
	fd1 = clock_vcpu(_metadata, &g, 1, &run1);

	/* In turn, each vCPU's clock is later than the other's last read. */
	for (i = 0; i < 5; i++) {
		a = sample(_metadata, g.vcpu_fd, g.run);
		b = sample(_metadata, fd1, run1);
		c = sample(_metadata, g.vcpu_fd, g.run);
		EXPECT_LE(diff(a.clock, b.clock), 1000 * 1000)
			TH_LOG("vCPU 0 %llu, then vCPU 1 %llu",
			       (unsigned long long)a.clock,
			       (unsigned long long)b.clock);
		EXPECT_LE(diff(b.clock, c.clock), 1000 * 1000)
			TH_LOG("vCPU 1 %llu, then vCPU 0 %llu",
			       (unsigned long long)b.clock,
			       (unsigned long long)c.clock);
	}
	close(fd1);
	guest_destroy(&g);
}

TEST_HARNESS_MAIN
