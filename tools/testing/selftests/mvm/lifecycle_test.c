// SPDX-License-Identifier: GPL-2.0
/*
 * VM and vCPU lifetime: many VMs created and destroyed, every close
 * order, mappings that outlive their fds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

static void add_slot(struct __test_metadata *_metadata, int vm, void *mem,
		     size_t size)
{
	struct kvm_userspace_memory_region r = {
		.slot = 0, .memory_size = size, .userspace_addr = (__u64)mem,
	};

	ASSERT_EQ(0, ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r));
}

/*
 * 1,000 VMs (MVM_NR_VMS overrides): Debian's KVM needs about 30 ms per VM
 * under QEMU's TCG, so the rig asks for fewer there.
 */
TEST(create_destroy_many_vms)
{
	const char *env = getenv("MVM_NR_VMS");
	int n = env ? atoi(env) : 1000;
	int sys = mvm_open_dev(), i;
	struct timespec t0, t1;
	size_t size = 64 * 1024;
	void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, mem);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		int vm = ioctl(sys, KVM_CREATE_VM, 0), vcpu;

		ASSERT_GE(vm, 0) TH_LOG("VM %d: %s", i, strerror(errno));
		add_slot(_metadata, vm, mem, size);
		vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
		ASSERT_GE(vcpu, 0);
		close(vcpu);
		close(vm);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	TH_LOG("%d VMs in %.1f s", n, t1.tv_sec - t0.tv_sec +
	       (t1.tv_nsec - t0.tv_nsec) / 1e9);
	munmap(mem, size);
	close(sys);
}

/* The VM fd goes first; its vCPU keeps working until it goes too. */
TEST(close_vm_before_vcpu)
{
	struct mvm_guest g;
	struct kvm_regs regs;

	guest_create(&g, 1 << 20);
	close(g.vm_fd);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_REGS, &regs));
	ASSERT_EQ(0xfff0, regs.rip);
	close(g.vcpu_fd);
	munmap(g.run, 4096);
	munmap(g.mem, g.mem_size);
	close(g.sys_fd);
}

TEST(close_vcpu_before_vm)
{
	struct mvm_guest g;

	guest_create(&g, 1 << 20);
	close(g.vcpu_fd);
	ASSERT_EQ(0, ioctl(g.vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) - 1);
	close(g.vm_fd);
	munmap(g.run, 4096);
	munmap(g.mem, g.mem_size);
	close(g.sys_fd);
}

/*
 * The kvm_run mapping outlives every fd: two mappings of the same page stay
 * one page, as KVM's vCPU mmap maps the vCPU's own kvm_run page.
 */
TEST(mapping_outlives_fds)
{
	long size;
	struct mvm_guest g;
	struct kvm_run *second;

	guest_create(&g, 1 << 20);
	size = ioctl(g.sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	ASSERT_GE(size, 4096);
	second = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      g.vcpu_fd, 0);
	ASSERT_NE(MAP_FAILED, second);
	close(g.vcpu_fd);
	close(g.vm_fd);
	close(g.sys_fd);
	g.run->immediate_exit = 1;
	ASSERT_EQ(1, second->immediate_exit);
	second->immediate_exit = 0;
	ASSERT_EQ(0, g.run->immediate_exit);
	munmap(second, size);
	munmap(g.run, 4096);
	munmap(g.mem, g.mem_size);
}

/*
 * Guest memory unmapped by the VMM while the slot still points at it: the
 * guest's first fetch finds no page behind the slot and KVM_RUN fails with
 * EFAULT, as KVM's page fault handler returns for an address it cannot
 * resolve.
 */
TEST(memory_unmapped_under_slot)
{
	struct mvm_guest g;

	guest_create(&g, 1 << 20);
	guest_set_real_mode(&g, g.vcpu_fd, 0x1000);
	munmap(g.mem, g.mem_size);
	ASSERT_EQ(-EFAULT, guest_run(g.vcpu_fd))
		TH_LOG("exit reason %u", g.run->exit_reason);
	close(g.vcpu_fd);
	close(g.vm_fd);
	close(g.sys_fd);
	munmap(g.run, 4096);
}

/*
 * Free memory in kB: the buddy allocator's free pages plus the pages on
 * the per-CPU lists (/proc/zoneinfo "count:"), which MemFree leaves out;
 * and Slab of /proc/meminfo.  stat_refresh first folds the per-CPU
 * counter deltas into the totals.
 */
static void memory_state(long *free_kb, long *slab_kb)
{
	FILE *f = fopen("/proc/sys/vm/stat_refresh", "w");
	char line[256];
	long pages = 0, n;

	if (f) {
		fputs("1\n", f);
		fclose(f);
	}
	*free_kb = *slab_kb = -1;
	f = fopen("/proc/zoneinfo", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " pages free %ld", &n) == 1 ||
		    sscanf(line, " count: %ld", &n) == 1)
			pages += n;
	fclose(f);
	*free_kb = pages * (getpagesize() / 1024);
	f = fopen("/proc/meminfo", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		sscanf(line, "Slab: %ld kB", slab_kb);
	fclose(f);
}

#define TEARDOWN_VCPUS	16
#define TEARDOWN_ROUNDS	32

/* A VM with TEARDOWN_VCPUS vCPUs; fds[0] is the VM, then the vCPUs. */
static void create_full_vm(struct __test_metadata *_metadata, int sys,
			   int *fds)
{
	int i;

	fds[0] = ioctl(sys, KVM_CREATE_VM, 0);
	ASSERT_GE(fds[0], 0) TH_LOG("KVM_CREATE_VM: %s", strerror(errno));
	for (i = 1; i <= TEARDOWN_VCPUS; i++) {
		fds[i] = ioctl(fds[0], KVM_CREATE_VCPU, i - 1);
		ASSERT_GE(fds[i], 0) TH_LOG("vCPU %d: %s", i - 1,
					    strerror(errno));
	}
}

/* The VM fd first, then the vCPUs, last one first. */
static void close_full_vm(int *fds)
{
	int i;

	close(fds[0]);
	for (i = TEARDOWN_VCPUS; i >= 1; i--)
		close(fds[i]);
}

/*
 * Closing every fd frees the VM and its vCPUs.  First the measures are shown
 * to see a leak: TEARDOWN_ROUNDS VMs kept open, as a leak of all of them
 * would look.  Then as many VMs are created and closed one after the other:
 * free memory and slab must come back to within a quarter of what the open
 * VMs held, so a leak of even a quarter of the vCPUs fails.  The slack is for
 * freed slab pages and per-CPU page lists the kernel keeps; the open VMs
 * go first so those caches are warm when the closed ones are measured.
 */
TEST(many_vcpus_then_close_all)
{
	static int held[TEARDOWN_ROUNDS][TEARDOWN_VCPUS + 1];
	int sys = mvm_open_dev(), fds[TEARDOWN_VCPUS + 1], i;
	long free0, slab0, free1, slab1, free2, slab2;

	/* One round first: the caches every VM uses exist from now on. */
	create_full_vm(_metadata, sys, fds);
	close_full_vm(fds);
	memory_state(&free0, &slab0);
	ASSERT_GT(free0, 0);

	for (i = 0; i < TEARDOWN_ROUNDS; i++)
		create_full_vm(_metadata, sys, held[i]);
	memory_state(&free1, &slab1);
	for (i = 0; i < TEARDOWN_ROUNDS; i++)
		close_full_vm(held[i]);

	for (i = 0; i < TEARDOWN_ROUNDS; i++) {
		create_full_vm(_metadata, sys, fds);
		close_full_vm(fds);
	}
	memory_state(&free2, &slab2);
	close(sys);

	TH_LOG("%d VMs of %d vCPUs open: %ld kB used, slab %+ld kB; closed one by one: %ld kB, slab %+ld kB",
	       TEARDOWN_ROUNDS, TEARDOWN_VCPUS, free0 - free1, slab1 - slab0,
	       free0 - free2, slab2 - slab0);
	ASSERT_GT(slab0, 0);
	/*
	 * The measures see a leak: each open vCPU holds at least its kvm_run
	 * page and 1 kB of slab (its struct).
	 */
	ASSERT_GE(free0 - free1, TEARDOWN_ROUNDS * TEARDOWN_VCPUS * 4);
	ASSERT_GE(slab1 - slab0, TEARDOWN_ROUNDS * TEARDOWN_VCPUS);
	/* And closed VMs give it back. */
	ASSERT_LT(free0 - free2, (free0 - free1) / 4);
	ASSERT_LT(slab2 - slab0, (slab1 - slab0) / 4);
}

TEST_HARNESS_MAIN
