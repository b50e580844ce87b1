// SPDX-License-Identifier: GPL-2.0
/*
 * VM and vCPU lifetime: many VMs created and destroyed, every close
 * order, mappings that outlive their fds.
 */
#include <errno.h>
#include <stdlib.h>
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

/* The kvm_run mapping outlives every fd. */
TEST(mapping_outlives_fds)
{
	struct mvm_guest g;

	guest_create(&g, 1 << 20);
	close(g.vcpu_fd);
	close(g.vm_fd);
	close(g.sys_fd);
	g.run->immediate_exit = 1;
	ASSERT_EQ(1, g.run->immediate_exit);
	munmap(g.run, 4096);
	munmap(g.mem, g.mem_size);
}

/* Guest memory unmapped by the VMM while the slot still points at it. */
TEST(memory_unmapped_under_slot)
{
	struct mvm_guest g;

	guest_create(&g, 1 << 20);
	munmap(g.mem, g.mem_size);
	close(g.vcpu_fd);
	close(g.vm_fd);
	close(g.sys_fd);
	munmap(g.run, 4096);
}

TEST(many_vcpus_then_close_all)
{
	int sys = mvm_open_dev();
	int vm = ioctl(sys, KVM_CREATE_VM, 0), fds[16], i;

	ASSERT_GE(vm, 0);
	for (i = 0; i < 16; i++) {
		fds[i] = ioctl(vm, KVM_CREATE_VCPU, i);
		ASSERT_GE(fds[i], 0);
	}
	close(vm);
	for (i = 15; i >= 0; i--)
		close(fds[i]);
	close(sys);
}

TEST_HARNESS_MAIN
