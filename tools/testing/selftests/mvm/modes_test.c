// SPDX-License-Identifier: GPL-2.0
/*
 * Guests in every CPU mode, each reporting through an OUT and stopping
 * with HLT: real mode (from the reset vector and flat), 32-bit protected
 * mode without paging, 32-bit paging with a 4 MiB page, PAE paging, and
 * 64-bit long mode.
 */
#include <string.h>
#include <sys/ioctl.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

#define REPORT(ch) "mov $0x3f8, %dx\n mov $" #ch ", %al\n out %al, %dx\n hlt\n"

GUEST_CODE_BLOB(g_real, ".code16", REPORT('R'));
GUEST_CODE_BLOB(g_prot32, ".code32", REPORT('P'));
GUEST_CODE_BLOB(g_long, ".code64", REPORT('L'));

static void expect_report(struct __test_metadata *_metadata,
			  struct mvm_guest *g, char ch)
{
	ASSERT_EQ(0, guest_run(g->vcpu_fd));
	ASSERT_EQ(KVM_EXIT_IO, g->run->exit_reason);
	ASSERT_EQ(KVM_EXIT_IO_OUT, g->run->io.direction);
	ASSERT_EQ(0x3f8, g->run->io.port);
	ASSERT_EQ(1, g->run->io.size);
	ASSERT_EQ(1, g->run->io.count);
	ASSERT_EQ(ch, *((char *)g->run + g->run->io.data_offset));
	ASSERT_EQ(0, guest_run(g->vcpu_fd));
	ASSERT_EQ(KVM_EXIT_HLT, g->run->exit_reason);
}

TEST(real_mode_reset_vector)
{
	struct kvm_userspace_memory_region r = { .slot = 1 };
	struct mvm_guest g;
	uint8_t *top;

	guest_create(&g, 1 << 20);
	/* 64 KiB at the top of 4 GiB: CS base 0xffff0000, IP 0xfff0. */
	top = g.mem + 0x80000;
	r.guest_phys_addr = 0xffff0000;
	r.memory_size = 0x10000;
	r.userspace_addr = (uintptr_t)top;
	ASSERT_EQ(0, ioctl(g.vm_fd, KVM_SET_USER_MEMORY_REGION, &r));
	memcpy(top + 0xfff0, g_real_start, BLOB_LEN(g_real));
	expect_report(_metadata, &g, 'R');
	guest_destroy(&g);
}

TEST(real_mode_flat)
{
	struct mvm_guest g;

	guest_create(&g, 1 << 20);
	guest_load(&g, GUEST_CODE, g_real_start, BLOB_LEN(g_real));
	guest_set_real_mode(&g, g.vcpu_fd, 0);
	/* CS base 0 with IP 0x10000 does not fit 16 bits: use CS=0x1000. */
	{
		struct kvm_sregs s;

		ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_SREGS, &s));
		s.cs.selector = 0x1000;
		s.cs.base = 0x10000;
		ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_SREGS, &s));
	}
	expect_report(_metadata, &g, 'R');
	guest_destroy(&g);
}

TEST(protected_mode_32)
{
	struct mvm_guest g;

	guest_create(&g, 1 << 20);
	guest_load(&g, GUEST_CODE, g_prot32_start, BLOB_LEN(g_prot32));
	guest_set_prot32(&g, g.vcpu_fd, GUEST_CODE);
	expect_report(_metadata, &g, 'P');
	guest_destroy(&g);
}

TEST(paging_32bit_pse)
{
	struct mvm_guest g;
	struct kvm_sregs s;
	uint32_t *pd;

	guest_create(&g, 1 << 22);
	guest_load(&g, GUEST_CODE, g_prot32_start, BLOB_LEN(g_prot32));
	guest_set_prot32(&g, g.vcpu_fd, GUEST_CODE);
	pd = (uint32_t *)(g.mem + 0x1000);
	pd[0] = 0x83;			/* 4 MiB page at 0: present, rw, PS */
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_SREGS, &s));
	s.cr3 = 0x1000;
	s.cr4 = 0x10;			/* PSE */
	s.cr0 |= 0x80000000;		/* PG */
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_SREGS, &s));
	expect_report(_metadata, &g, 'P');
	guest_destroy(&g);
}

TEST(paging_pae)
{
	struct mvm_guest g;
	struct kvm_sregs s;
	uint64_t *pdpt, *pd;

	guest_create(&g, 1 << 22);
	guest_load(&g, GUEST_CODE, g_prot32_start, BLOB_LEN(g_prot32));
	guest_set_prot32(&g, g.vcpu_fd, GUEST_CODE);
	pdpt = (uint64_t *)(g.mem + 0x1000);
	pd = (uint64_t *)(g.mem + 0x2000);
	pdpt[0] = 0x2000 | 1;		/* PDPTEs have only P (SDM 4.4.1) */
	pd[0] = 0x83;			/* 2 MiB page at 0 */
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_SREGS, &s));
	s.cr3 = 0x1000;
	s.cr4 = 0x20;			/* PAE */
	s.cr0 |= 0x80000000;
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_SREGS, &s));
	expect_report(_metadata, &g, 'P');
	guest_destroy(&g);
}

TEST(long_mode)
{
	struct mvm_guest g;

	guest_create(&g, 1 << 20);
	guest_load(&g, GUEST_CODE, g_long_start, BLOB_LEN(g_long));
	guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE);
	expect_report(_metadata, &g, 'L');
	guest_destroy(&g);
}

/*
 * The guest switches itself from real mode to protected mode to long
 * mode, with its own GDT and page tables (prepared by the test at
 * GUEST_GDT and GUEST_PML4), reporting after each step.
 */
GUEST_CODE_BLOB(g_switch, ".code16",
	"cli\n"
	"mov $0x3f8, %dx\n mov $'R', %al\n out %al, %dx\n"
	"lgdtl %cs:(gdtr - g_switch_start)\n"
	"mov %cr0, %eax\n or $1, %eax\n mov %eax, %cr0\n"
	"ljmpl $0x18, $(0x10000 + p32 - g_switch_start)\n"
	".code32\n"
	"p32: mov $0x10, %ax\n mov %ax, %ds\n mov %ax, %ss\n"
	"mov $0x3f8, %dx\n mov $'P', %al\n out %al, %dx\n"
	"mov %cr4, %eax\n or $0x20, %eax\n mov %eax, %cr4\n"
	"mov $0x1000, %eax\n mov %eax, %cr3\n"
	"mov $0xc0000080, %ecx\n rdmsr\n or $0x100, %eax\n wrmsr\n"
	"mov %cr0, %eax\n or $0x80000000, %eax\n mov %eax, %cr0\n"
	"ljmp $0x08, $(0x10000 + p64 - g_switch_start)\n"
	".code64\n"
	"p64: mov $0x3f8, %dx\n mov $'L', %al\n out %al, %dx\n hlt\n"
	".balign 8\n"
	"gdtr: .word 31\n .long 0x800\n");

TEST(switch_real_to_long)
{
	struct mvm_guest g;
	struct kvm_sregs s;
	const char *want = "RPL";
	int i;

	guest_create(&g, 1 << 22);
	/* KVM refuses EFER.LME unless CPUID says long mode exists. */
	guest_set_supported_cpuid(&g, g.vcpu_fd);
	/* Tables only: long mode is entered by the guest itself. */
	guest_build_tables(&g);
	guest_load(&g, GUEST_CODE, g_switch_start, BLOB_LEN(g_switch));
	/* The vCPU is at its reset state: move it to 0x1000:0. */
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_SREGS, &s));
	s.cs.selector = 0x1000;
	s.cs.base = 0x10000;
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_SREGS, &s));
	{
		struct kvm_regs r = { .rip = 0, .rflags = 2, .rsp = 0x8000 };

		ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_REGS, &r));
	}
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, guest_run(g.vcpu_fd));
		ASSERT_EQ(KVM_EXIT_IO, g.run->exit_reason) TH_LOG("step %d", i);
		ASSERT_EQ(want[i], *((char *)g.run + g.run->io.data_offset));
	}
	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	ASSERT_EQ(KVM_EXIT_HLT, g.run->exit_reason);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_SREGS, &s));
	ASSERT_EQ(0x500, s.efer & 0x500);
	guest_destroy(&g);
}

TEST_HARNESS_MAIN
