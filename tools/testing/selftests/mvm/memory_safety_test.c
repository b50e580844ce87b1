// SPDX-License-Identifier: GPL-2.0
/*
 * Memory safety of the nested page tables and of the memory behind them.
 *
 * - A guest touching many pages of several slots, high GPAs included,
 *   reaches exactly the VMM's memory behind each gfn, both ways, and does
 *   not livelock.  On an AMD host with 5-level paging (the rig's svm57)
 *   this needs 5-level nested tables: a 4-level NPT walked at 5 levels
 *   maps guest pages as page tables.
 * - Slots beyond the host's MAXPHYADDR are refused with -EINVAL, as by
 *   KVM (kvm_arch_prepare_memory_region()); the last gfn below it works.
 * - Guest memory is not locked: a VMM without CAP_IPC_LOCK and with a
 *   small RLIMIT_MEMLOCK runs a guest touching more than the limit, and
 *   VmLck stays 0, also when another process drops the VM's last
 *   reference (mvm once pinned and charged the pins; KVM never did).
 * - Guest writes to a MAP_SHARED file-backed slot reach the file.
 * - Moving a slot over its old range leaves no stale leaf (the zap runs in
 *   batches that drop mmu_lock).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

#define VMM_KEY		0x5a5a5a5a00000000UL
#define GUEST_KEY	0xa5a5a5a500000000UL
#define WINDOW_VA(k)	((4UL + (k)) << 30)	/* guest VA of window k */
#define WINDOW_PD(k)	(0x20000UL + (k) * 0x1000)	/* its page directory */
#define MAX_WINDOWS	8

/*
 * For RCX pages from VA RSI (GPA RDX): count in R8 the pages whose
 * qword 1 is not GPA ^ R9 (what the VMM wrote), and store GPA ^ R10 in
 * qword 0.  Then report on port 0x80.
 */
GUEST_CODE_BLOB(g_pattern, ".code64",
	"1: mov %rdx, %rax\n xor %r9, %rax\n cmp %rax, 8(%rsi)\n je 2f\n"
	"inc %r8\n"
	"2: mov %rdx, %rax\n xor %r10, %rax\n mov %rax, (%rsi)\n"
	"add $4096, %rsi\n add $4096, %rdx\n dec %rcx\n jnz 1b\n"
	"out %al, $0x80\n hlt\n");

/* Touch RCX pages from VA RSI, one byte each, then report. */
GUEST_CODE_BLOB(g_touch, ".code64",
	"1: movb $1, (%rsi)\n add $4096, %rsi\n dec %rcx\n jnz 1b\n"
	"out %al, $0x80\n hlt\n");

static void on_alarm(int sig)
{
}

/* KVM_RUN fails with EINTR instead of hanging if the guest livelocks. */
static void arm_watchdog(unsigned int seconds)
{
	struct sigaction sa = { .sa_handler = on_alarm };

	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART */
	alarm(seconds);
}

static unsigned int host_phys_bits(void)
{
	unsigned int a, b, c, d;

	asm volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
		     : "a"(0x80000000), "c"(0));
	if (a < 0x80000008)
		return 36;
	asm volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
		     : "a"(0x80000008), "c"(0));
	return a & 0xff;
}

/* Map guest VA WINDOW_VA(k) to GPA @gpa (2 MiB aligned) for @size bytes. */
static void map_window(struct mvm_guest *g, int k, uint64_t gpa, size_t size)
{
	uint64_t *pdpt = (uint64_t *)(g->mem + GUEST_PML4 + 0x1000);
	uint64_t *pd = (uint64_t *)(g->mem + WINDOW_PD(k));
	size_t i;

	memset(pd, 0, 4096);
	pdpt[4 + k] = WINDOW_PD(k) | 3;
	for (i = 0; i < size >> 21; i++)
		pd[i] = (gpa + (i << 21)) | 0x83;
}

/* A guest in long mode with the supported CPUID (its MAXPHYADDR). */
static void guest_setup(struct mvm_guest *g, const void *code, size_t len)
{
	guest_create(g, 2 << 20);
	guest_load(g, GUEST_CODE, code, len);
	guest_set_long_mode(g, g->vcpu_fd, GUEST_CODE);
	guest_set_supported_cpuid(g, g->vcpu_fd);
}

/* Run the blob at GUEST_CODE with the given registers; 0 or -errno. */
static int run_blob(struct __test_metadata *_metadata, struct mvm_guest *g,
		    struct kvm_regs *regs)
{
	int r;

	regs->rip = GUEST_CODE;
	regs->rflags = 2;
	regs->rsp = 0x8000;
	EXPECT_EQ(0, ioctl(g->vcpu_fd, KVM_SET_REGS, regs));
	r = guest_run(g->vcpu_fd);
	if (!r) {
		EXPECT_EQ(KVM_EXIT_IO, g->run->exit_reason);
		EXPECT_EQ(0x80, g->run->io.port);
		EXPECT_EQ(0, ioctl(g->vcpu_fd, KVM_GET_REGS, regs));
	}
	return r;
}

/*
 * Close every reference to the VM, the whole kvm_run mapping included
 * (it holds the vCPU file), so that the VM is destroyed now.
 */
static void guest_close(struct mvm_guest *g)
{
	long size = ioctl(g->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);

	munmap(g->run, size);
	close(g->vcpu_fd);
	close(g->vm_fd);
	close(g->sys_fd);
}

static int add_slot(struct mvm_guest *g, int slot, uint64_t gpa, void *hva,
		    size_t size)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	return ioctl(g->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) ? -errno : 0;
}

static void *anon(size_t size)
{
	return mmap(NULL, size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
}

TEST(high_gpa_slots_round_trip)
{
	const size_t size = 4 << 20;
	unsigned int bits = host_phys_bits();
	uint64_t top = 1ULL << bits, candidates[] = {
		4ULL << 30,			/* just above the 4 GiB map */
		(1ULL << 39) - (2 << 20),	/* across a level-4 entry */
		(top >> 1) + (6 << 20),
		(1ULL << 47) - (2 << 20),	/* across a level-5 entry (<=57) */
		top - size,			/* the last gfn the host has */
	};
	uint64_t gpas[MAX_WINDOWS];
	uint8_t *hvas[MAX_WINDOWS];
	struct mvm_guest g;
	struct kvm_regs regs;
	int i, n = 0;
	size_t p;

	guest_setup(&g, g_pattern_start, BLOB_LEN(g_pattern));
	for (i = 0; i < (int)(sizeof(candidates) / sizeof(candidates[0])); i++) {
		uint64_t gpa = candidates[i];

		if (gpa + size > top || (n && gpa < gpas[n - 1] + size))
			continue;
		gpas[n] = gpa;
		hvas[n] = anon(size);
		ASSERT_NE(MAP_FAILED, hvas[n]);
		for (p = 0; p < size; p += 4096)
			*(uint64_t *)(hvas[n] + p + 8) = (gpa + p) ^ VMM_KEY;
		ASSERT_EQ(0, add_slot(&g, 1 + n, gpa, hvas[n], size))
			TH_LOG("slot at 0x%llx (MAXPHYADDR %u)",
			       (unsigned long long)gpa, bits);
		map_window(&g, n, gpa, size);
		n++;
	}
	TH_LOG("%d slots of %zu MiB up to GPA 0x%llx (MAXPHYADDR %u)", n,
	       size >> 20, (unsigned long long)(gpas[n - 1] + size), bits);
	ASSERT_GE(n, 2);

	arm_watchdog(240);
	for (i = 0; i < n; i++) {
		memset(&regs, 0, sizeof(regs));
		regs.rsi = WINDOW_VA(i);
		regs.rdx = gpas[i];
		regs.rcx = size / 4096;
		regs.r9 = VMM_KEY;
		regs.r10 = GUEST_KEY;
		ASSERT_EQ(0, run_blob(_metadata, &g, &regs))
			TH_LOG("KVM_RUN on slot at 0x%llx (EINTR: livelock)",
			       (unsigned long long)gpas[i]);
		ASSERT_EQ(0, regs.r8)
			TH_LOG("guest saw %llu pages of the slot at 0x%llx wrong",
			       (unsigned long long)regs.r8,
			       (unsigned long long)gpas[i]);
	}
	alarm(0);

	for (i = 0; i < n; i++) {
		for (p = 0; p < size; p += 4096) {
			uint64_t *q = (uint64_t *)(hvas[i] + p);

			ASSERT_EQ((gpas[i] + p) ^ GUEST_KEY, q[0])
				TH_LOG("GPA 0x%llx", (unsigned long long)(gpas[i] + p));
			ASSERT_EQ((gpas[i] + p) ^ VMM_KEY, q[1]);
		}
	}
	/* Nothing else got written: the low slot's spare pages are zero. */
	for (p = 0x100000; p < (2 << 20); p += 8)
		ASSERT_EQ(0, *(uint64_t *)(g.mem + p)) TH_LOG("offset 0x%zx", p);
	guest_destroy(&g);
}

TEST(slot_beyond_maxphyaddr_einval)
{
	unsigned int bits = host_phys_bits();
	uint64_t top = 1ULL << bits;
	struct mvm_guest g;
	void *mem = anon(8 << 20);

	ASSERT_NE(MAP_FAILED, mem);
	guest_create(&g, 2 << 20);
	/* Above MAXPHYADDR, across it, and where a 4-level index wraps. */
	EXPECT_EQ(-EINVAL, add_slot(&g, 1, top, mem, 4096));
	EXPECT_EQ(-EINVAL, add_slot(&g, 1, top - 4096, mem, 8192));
	if (bits < 48) {
		EXPECT_EQ(-EINVAL, add_slot(&g, 1, 1ULL << 48, mem, 4096));
		EXPECT_EQ(-EINVAL, add_slot(&g, 1, (1ULL << 48) + (1ULL << 30),
					    mem, 4 << 20));
	}
	/* Moving a slot there is refused too. */
	ASSERT_EQ(0, add_slot(&g, 1, 1ULL << 32, mem, 8192));
	EXPECT_EQ(-EINVAL, add_slot(&g, 1, top, mem, 8192));
	/* The last page below MAXPHYADDR is fine. */
	EXPECT_EQ(0, add_slot(&g, 1, top - 8192, mem, 8192));
	guest_destroy(&g);
	munmap(mem, 8 << 20);
}

/* VmLck of this process, in KiB: mm->locked_vm. */
static long vmlck_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

static int drop_cap_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[0].effective &= ~(1U << CAP_IPC_LOCK);
	data[0].permitted &= ~(1U << CAP_IPC_LOCK);
	data[0].inheritable &= ~(1U << CAP_IPC_LOCK);
	return syscall(SYS_capset, &hdr, data);
}

TEST(guest_memory_not_locked)
{
	const size_t limit = 8 << 20, size = 24 << 20;
	struct rlimit rl = { .rlim_cur = limit, .rlim_max = limit };
	struct kvm_userspace_memory_region r = { .slot = 1 };
	struct mvm_guest g;
	struct kvm_regs regs;
	void *big;
	int ret;

	ASSERT_EQ(0, drop_cap_ipc_lock());
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
	ASSERT_EQ(0, vmlck_kib());

	guest_setup(&g, g_touch_start, BLOB_LEN(g_touch));
	big = anon(size);
	ASSERT_NE(MAP_FAILED, big);
	ASSERT_EQ(0, add_slot(&g, 1, 1ULL << 30, big, size));
	map_window(&g, 0, 1ULL << 30, size);

	/* 4 MiB: within the limit, on both. */
	arm_watchdog(240);
	memset(&regs, 0, sizeof(regs));
	regs.rsi = WINDOW_VA(0);
	regs.rcx = 1024;
	ASSERT_EQ(0, run_blob(_metadata, &g, &regs));
	TH_LOG("VmLck %ld kB after 4 MiB", vmlck_kib());
	EXPECT_EQ(0, vmlck_kib());

	/* The remaining 20 MiB: beyond the limit, which does not apply. */
	memset(&regs, 0, sizeof(regs));
	regs.rsi = WINDOW_VA(0) + (4 << 20);
	regs.rcx = (size - (4 << 20)) / 4096;
	ret = run_blob(_metadata, &g, &regs);
	alarm(0);
	TH_LOG("KVM_RUN: %d, VmLck %ld kB", ret, vmlck_kib());
	EXPECT_EQ(0, ret);
	EXPECT_EQ(0, vmlck_kib());

	r.userspace_addr = (uintptr_t)big;
	ASSERT_EQ(0, ioctl(g.vm_fd, KVM_SET_USER_MEMORY_REGION, &r));
	EXPECT_EQ(0, vmlck_kib());
	guest_close(&g);
	EXPECT_EQ(0, vmlck_kib());
	munmap(g.mem, g.mem_size);
	munmap(big, size);
}

/*
 * The VM's last reference goes from a child: nothing was charged to the
 * parent's mm, nor to the child's.
 */
TEST(last_reference_from_another_process)
{
	const size_t size = 8 << 20;
	struct mvm_guest g;
	struct kvm_regs regs;
	int status, pipefd[2];
	void *big;
	pid_t pid;
	char c;

	guest_setup(&g, g_touch_start, BLOB_LEN(g_touch));
	big = anon(size);
	ASSERT_NE(MAP_FAILED, big);
	ASSERT_EQ(0, add_slot(&g, 1, 1ULL << 30, big, size));
	map_window(&g, 0, 1ULL << 30, size);
	arm_watchdog(240);
	memset(&regs, 0, sizeof(regs));
	regs.rsi = WINDOW_VA(0);
	regs.rcx = size / 4096;
	ASSERT_EQ(0, run_blob(_metadata, &g, &regs));
	alarm(0);
	TH_LOG("VmLck %ld kB with the guest's memory mapped", vmlck_kib());
	EXPECT_EQ(0, vmlck_kib());

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		/* Hold the VM until the parent has closed its fds. */
		close(pipefd[1]);
		if (read(pipefd[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(pipefd[0]);
	guest_close(&g);
	/* The child still holds the VM. */
	EXPECT_EQ(0, vmlck_kib());
	close(pipefd[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	/* The child's exit was the VM's last fput (done before it is reaped). */
	EXPECT_EQ(0, vmlck_kib());
	munmap(g.mem, g.mem_size);
	munmap(big, size);
}

TEST(shared_file_slot_keeps_guest_writes)
{
	const size_t size = 4 << 20;
	const uint64_t gpa = 1ULL << 30;
	struct mvm_guest g;
	struct kvm_regs regs;
	uint64_t q[2];
	uint8_t *shared;
	size_t p;
	int fd;

	fd = memfd_create("mvm-guest", 0);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, ftruncate(fd, size));
	shared = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, shared);
	for (p = 0; p < size; p += 4096)
		*(uint64_t *)(shared + p + 8) = (gpa + p) ^ VMM_KEY;

	guest_setup(&g, g_pattern_start, BLOB_LEN(g_pattern));
	ASSERT_EQ(0, add_slot(&g, 1, gpa, shared, size));
	map_window(&g, 0, gpa, size);
	arm_watchdog(240);
	memset(&regs, 0, sizeof(regs));
	regs.rsi = WINDOW_VA(0);
	regs.rdx = gpa;
	regs.rcx = size / 4096;
	regs.r9 = VMM_KEY;
	regs.r10 = GUEST_KEY;
	ASSERT_EQ(0, run_blob(_metadata, &g, &regs));
	alarm(0);
	ASSERT_EQ(0, regs.r8);

	/* Delete the slot (zaps its leaves), drop the mapping, read the file. */
	ASSERT_EQ(0, add_slot(&g, 1, gpa, shared, 0));
	ASSERT_EQ(0, munmap(shared, size));
	for (p = 0; p < size; p += 4096) {
		ASSERT_EQ(sizeof(q), pread(fd, q, sizeof(q), p));
		ASSERT_EQ((gpa + p) ^ GUEST_KEY, q[0])
			TH_LOG("file offset 0x%zx", p);
		ASSERT_EQ((gpa + p) ^ VMM_KEY, q[1]);
	}
	guest_destroy(&g);
	close(fd);
}

/*
 * Moving a slot over part of its old range zaps every old leaf, in several
 * batches (2048 leaves), and the guest then sees each gfn's new page.
 */
TEST(slot_move_rezaps_overlap)
{
	const size_t size = 8 << 20, shift = 4 << 20;
	const uint64_t gpa = 1ULL << 30;
	struct mvm_guest g;
	struct kvm_regs regs;
	uint8_t *hva;
	size_t p;

	hva = anon(size);
	ASSERT_NE(MAP_FAILED, hva);
	guest_setup(&g, g_pattern_start, BLOB_LEN(g_pattern));
	ASSERT_EQ(0, add_slot(&g, 1, gpa, hva, size));
	map_window(&g, 0, gpa, size + shift);
	arm_watchdog(240);

	for (p = 0; p < size; p += 4096)
		*(uint64_t *)(hva + p + 8) = (gpa + p) ^ VMM_KEY;
	memset(&regs, 0, sizeof(regs));
	regs.rsi = WINDOW_VA(0);
	regs.rdx = gpa;
	regs.rcx = size / 4096;
	regs.r9 = VMM_KEY;
	regs.r10 = GUEST_KEY;
	ASSERT_EQ(0, run_blob(_metadata, &g, &regs));
	ASSERT_EQ(0, regs.r8);

	/* Up by 4 MiB: the old upper half's gfns now hit the lower pages. */
	ASSERT_EQ(0, add_slot(&g, 1, gpa + shift, hva, size));
	for (p = 0; p < size; p += 4096)
		*(uint64_t *)(hva + p + 8) = (gpa + shift + p) ^ VMM_KEY;
	memset(&regs, 0, sizeof(regs));
	regs.rsi = WINDOW_VA(0) + shift;
	regs.rdx = gpa + shift;
	regs.rcx = size / 4096;
	regs.r9 = VMM_KEY;
	regs.r10 = GUEST_KEY;
	ASSERT_EQ(0, run_blob(_metadata, &g, &regs));
	alarm(0);
	ASSERT_EQ(0, regs.r8)
		TH_LOG("%llu pages still mapped as before the move",
		       (unsigned long long)regs.r8);
	for (p = 0; p < size; p += 4096)
		ASSERT_EQ((gpa + shift + p) ^ GUEST_KEY, *(uint64_t *)(hva + p));
	guest_destroy(&g);
	munmap(hva, size);
}

TEST_HARNESS_MAIN
