// SPDX-License-Identifier: GPL-2.0
/*
 * VM ioctls: KVM_CREATE_VCPU limits, KVM_SET_USER_MEMORY_REGION
 * validation (Linux 6.1 __kvm_set_memory_region()), KVM_SET_TSS_ADDR,
 * KVM_SET_GSI_ROUTING without an irqchip, and ownership by the creating
 * process.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

FIXTURE(vm) {
	int sys, vm;
	void *mem;
	size_t size;
};

FIXTURE_SETUP(vm)
{
	self->sys = mvm_open_dev();
	self->vm = ioctl(self->sys, KVM_CREATE_VM, 0);
	ASSERT_GE(self->vm, 0);
	self->size = 16 * 4096;
	self->mem = mmap(NULL, self->size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
}

FIXTURE_TEARDOWN(vm)
{
	close(self->vm);
	close(self->sys);
	munmap(self->mem, self->size);
}

static int set_region(int vm, __u32 slot, __u32 flags, __u64 gpa, __u64 size,
		      __u64 uaddr)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = uaddr,
	};

	return ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r) ? errno : 0;
}

TEST_F(vm, create_vcpu_ids)
{
	int max_id = ioctl(self->sys, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPU_ID);
	int a, b;

	a = ioctl(self->vm, KVM_CREATE_VCPU, 0);
	ASSERT_GE(a, 0);
	ASSERT_EQ(-1, ioctl(self->vm, KVM_CREATE_VCPU, 0));
	ASSERT_EQ(EEXIST, errno);
	b = ioctl(self->vm, KVM_CREATE_VCPU, max_id - 1);
	ASSERT_GE(b, 0);
	ASSERT_EQ(-1, ioctl(self->vm, KVM_CREATE_VCPU, max_id));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, ioctl(self->vm, KVM_CREATE_VCPU, -1));
	ASSERT_EQ(EINVAL, errno);
	close(a);
	close(b);
}

TEST_F(vm, create_vcpu_max)
{
	int max = ioctl(self->sys, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	int *fds, i;

	/* KVM's limit is 1024 vCPUs: too slow to create under emulation. */
	if (mvm_on_kvm())
		SKIP(return, "KVM_CAP_MAX_VCPUS %d: too many to create here", max);
	fds = calloc(max, sizeof(*fds));
	for (i = 0; i < max; i++) {
		fds[i] = ioctl(self->vm, KVM_CREATE_VCPU, i);
		ASSERT_GE(fds[i], 0) TH_LOG("vcpu %d", i);
	}
	ASSERT_EQ(-1, ioctl(self->vm, KVM_CREATE_VCPU, max));
	ASSERT_EQ(EINVAL, errno);
	for (i = 0; i < max; i++)
		close(fds[i]);
	free(fds);
}

TEST_F(vm, memslot_valid)
{
	__u64 ua = (__u64)self->mem;

	ASSERT_EQ(0, set_region(self->vm, 0, 0, 0, self->size, ua));
	/* Same values again: nothing to change. */
	ASSERT_EQ(0, set_region(self->vm, 0, 0, 0, self->size, ua));
	/* Move. */
	ASSERT_EQ(0, set_region(self->vm, 0, 0, 0x100000, self->size, ua));
	/* Delete, then re-create at the old place. */
	ASSERT_EQ(0, set_region(self->vm, 0, 0, 0, 0, 0));
	ASSERT_EQ(0, set_region(self->vm, 0, 0, 0, self->size, ua));
	/* Read-only slots exist. */
	ASSERT_EQ(0, set_region(self->vm, 1, KVM_MEM_READONLY, 0x200000,
				self->size, ua));
}

TEST_F(vm, memslot_invalid)
{
	__u64 ua = (__u64)self->mem;
	int nslots = ioctl(self->sys, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);

	/* Unknown flags. */
	ASSERT_EQ(EINVAL, set_region(self->vm, 0, 1u << 7, 0, self->size, ua));
	/* Unaligned size, guest address, user address. */
	ASSERT_EQ(EINVAL, set_region(self->vm, 0, 0, 0, 100, ua));
	ASSERT_EQ(EINVAL, set_region(self->vm, 0, 0, 0x800, self->size, ua));
	ASSERT_EQ(EINVAL, set_region(self->vm, 0, 0, 0, self->size, ua + 1));
	/* Slot id out of range. */
	ASSERT_EQ(EINVAL, set_region(self->vm, nslots, 0, 0, self->size, ua));
	/* Kernel address as user memory. */
	ASSERT_EQ(EINVAL, set_region(self->vm, 0, 0, 0, self->size,
				     0xffff888000000000ULL));
	/* Guest range wrapping around. */
	ASSERT_EQ(EINVAL, set_region(self->vm, 0, 0, -4096ULL, 2 * 4096, ua));
	/* Deleting a slot that does not exist. */
	ASSERT_EQ(EINVAL, set_region(self->vm, 3, 0, 0, 0, 0));
	/* Overlap with another slot. */
	ASSERT_EQ(0, set_region(self->vm, 0, 0, 0, self->size, ua));
	ASSERT_EQ(EEXIST, set_region(self->vm, 1, 0, 4096, self->size, ua));
	/* Resizing, or changing the user address of, an existing slot. */
	ASSERT_EQ(EINVAL, set_region(self->vm, 0, 0, 0, 4096, ua));
	ASSERT_EQ(EINVAL, set_region(self->vm, 0, 0, 0, self->size, ua + 4096));
	/* Bad pointer. */
	ASSERT_EQ(-1, ioctl(self->vm, KVM_SET_USER_MEMORY_REGION, (void *)8));
	ASSERT_EQ(EFAULT, errno);
}

TEST_F(vm, tss_addr_and_unknown)
{
	ASSERT_EQ(0, ioctl(self->vm, KVM_SET_TSS_ADDR, 0xfffbd000));
	ASSERT_EQ(1, ioctl(self->vm, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY));
	ASSERT_EQ(-1, ioctl(self->vm, _IO(KVMIO, 0xfe), 0));
	ASSERT_EQ(ENOTTY, errno);
	/* System ioctls are not VM ioctls. */
	ASSERT_EQ(-1, ioctl(self->vm, KVM_GET_API_VERSION, 0));
	ASSERT_EQ(ENOTTY, errno);
}

/* A VM belongs to the address space that created it. */
TEST_F(vm, other_process)
{
	pid_t pid = fork();
	int status;

	ASSERT_GE(pid, 0);
	if (!pid) {
		int r = ioctl(self->vm, KVM_CREATE_VCPU, 0);

		_exit(r == -1 && errno == EIO ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

/*
 * GSI routes feed an in-kernel irqchip: KVM offers KVM_CAP_IRQ_ROUTING
 * (QEMU needs it) but refuses every table without KVM_CREATE_IRQCHIP,
 * after it has read the header.
 */
TEST_F(vm, gsi_routing_without_irqchip)
{
	struct {
		struct kvm_irq_routing h;
		struct kvm_irq_routing_entry e[1];
	} r;

	EXPECT_LT(0, ioctl(self->sys, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING));
	EXPECT_LT(0, ioctl(self->vm, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING));

	memset(&r, 0, sizeof(r));
	r.h.nr = 1;
	r.e[0].gsi = 0;
	r.e[0].type = KVM_IRQ_ROUTING_MSI;
	r.e[0].u.msi.address_lo = 0xfee00000;
	r.e[0].u.msi.data = 0x30;
	EXPECT_EQ(-1, ioctl(self->vm, KVM_SET_GSI_ROUTING, &r));
	EXPECT_EQ(EINVAL, errno);
	r.h.nr = 0;
	EXPECT_EQ(-1, ioctl(self->vm, KVM_SET_GSI_ROUTING, &r));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->vm, KVM_SET_GSI_ROUTING, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_HARNESS_MAIN
