// SPDX-License-Identifier: GPL-2.0
/*
 * System ioctls on the device: KVM_GET_API_VERSION, KVM_CHECK_EXTENSION,
 * KVM_CREATE_VM, KVM_GET_VCPU_MMAP_SIZE, and what KVM answers to wrong
 * calls (Linux 6.1 virt/kvm/kvm_main.c kvm_dev_ioctl()).
 */
#include <errno.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

TEST(api_version)
{
	int fd = mvm_open_dev();

	ASSERT_EQ(12, ioctl(fd, KVM_GET_API_VERSION, 0));
	/* A non-zero argument is refused. */
	ASSERT_EQ(-1, ioctl(fd, KVM_GET_API_VERSION, 1));
	ASSERT_EQ(EINVAL, errno);
	close(fd);
}

TEST(check_extension)
{
	int fd = mvm_open_dev();
	int nr_vcpus, max_vcpus, max_id;

	ASSERT_EQ(1, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY));
	ASSERT_GT(ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS), 0);
	nr_vcpus = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	max_vcpus = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	max_id = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPU_ID);
	ASSERT_GT(nr_vcpus, 0);
	ASSERT_GE(max_vcpus, nr_vcpus);
	ASSERT_GE(max_id, max_vcpus);
	ASSERT_EQ(1, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT));
	ASSERT_EQ(1, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_EXT_CPUID));
	/* Unknown and negative capabilities are simply absent. */
	ASSERT_EQ(0, ioctl(fd, KVM_CHECK_EXTENSION, 100000));
	ASSERT_EQ(0, ioctl(fd, KVM_CHECK_EXTENSION, -1));
	close(fd);
}

/* What mvm does not implement, it does not advertise. */
TEST(check_extension_mvm_only)
{
	int fd = mvm_open_dev();

	if (mvm_on_kvm())
		SKIP(close(fd); return, "mvm's own capability set");
	ASSERT_EQ(0, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO));
	ASSERT_EQ(0, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS));
	ASSERT_EQ(256, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS));
	close(fd);
}

TEST(create_vm_types)
{
	int fd = mvm_open_dev(), vm;

	vm = ioctl(fd, KVM_CREATE_VM, 0);
	ASSERT_GE(vm, 0);
	close(vm);
	ASSERT_EQ(-1, ioctl(fd, KVM_CREATE_VM, 1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, ioctl(fd, KVM_CREATE_VM, 0x12345678UL));
	ASSERT_EQ(EINVAL, errno);
	close(fd);
}

TEST(vcpu_mmap_size)
{
	int fd = mvm_open_dev();
	long size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);

	ASSERT_GE(size, 2 * getpagesize());
	if (!mvm_on_kvm())
		ASSERT_EQ(2 * getpagesize(), size);
	ASSERT_EQ(-1, ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 1));
	ASSERT_EQ(EINVAL, errno);
	close(fd);
}

TEST(unknown_and_misplaced_ioctls)
{
	int fd = mvm_open_dev();

	ASSERT_EQ(-1, ioctl(fd, _IO(KVMIO, 0xfe), 0));
	ASSERT_EQ(EINVAL, errno);
	/* A VM ioctl on the system fd. */
	ASSERT_EQ(-1, ioctl(fd, KVM_CREATE_VCPU, 0));
	ASSERT_EQ(EINVAL, errno);
	/* A vCPU ioctl on the system fd. */
	ASSERT_EQ(-1, ioctl(fd, KVM_RUN, 0));
	ASSERT_EQ(EINVAL, errno);
	close(fd);
}

TEST(bad_pointers)
{
	int fd = mvm_open_dev();

	ASSERT_EQ(-1, ioctl(fd, KVM_GET_SUPPORTED_CPUID, (void *)8));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, ioctl(fd, KVM_GET_MSR_INDEX_LIST, (void *)8));
	ASSERT_EQ(EFAULT, errno);
	close(fd);
}

TEST(supported_cpuid_e2big)
{
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[256];
	} cpuid = { .c.nent = 1 };
	int fd = mvm_open_dev();

	ASSERT_EQ(-1, ioctl(fd, KVM_GET_SUPPORTED_CPUID, &cpuid));
	ASSERT_EQ(E2BIG, errno);
	cpuid.c.nent = 0;
	ASSERT_EQ(-1, ioctl(fd, KVM_GET_SUPPORTED_CPUID, &cpuid));
	ASSERT_EQ(E2BIG, errno);
	cpuid.c.nent = 256;
	ASSERT_EQ(0, ioctl(fd, KVM_GET_SUPPORTED_CPUID, &cpuid));
	ASSERT_GT(cpuid.c.nent, 1);
	ASSERT_LE(cpuid.c.nent, 256);
	/* Leaf 0 is there and says how far the basic leaves go. */
	ASSERT_EQ(0, cpuid.e[0].function);
	ASSERT_GE(cpuid.e[0].eax, 1);
	close(fd);
}

TEST(msr_index_list)
{
	struct {
		struct kvm_msr_list l;
		__u32 idx[1024];
	} list = { .l.nmsrs = 0 };
	int fd = mvm_open_dev();
	__u32 n;

	ASSERT_EQ(-1, ioctl(fd, KVM_GET_MSR_INDEX_LIST, &list));
	ASSERT_EQ(E2BIG, errno);
	n = list.l.nmsrs;
	ASSERT_GT(n, 0);
	ASSERT_LE(n, 1024);
	ASSERT_EQ(0, ioctl(fd, KVM_GET_MSR_INDEX_LIST, &list));
	ASSERT_EQ(n, list.l.nmsrs);
	close(fd);
}

TEST_HARNESS_MAIN
