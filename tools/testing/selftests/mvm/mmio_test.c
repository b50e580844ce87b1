// SPDX-License-Identifier: GPL-2.0
/*
 * MMIO: accesses outside every memory slot become KVM_EXIT_MMIO, decoded
 * from the guest's instruction: writes and reads of 1, 2, 4 and 8 bytes,
 * the zero- and sign-extending loads, a read-only slot, and an
 * instruction the decoder does not know.
 */
#include <string.h>
#include <sys/ioctl.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

#define MMIO_GPA	0xc0000000ULL

/* Echo RAX as two 32-bit OUTs to port 0x90. */
#define ECHO_RAX "out %eax, $0x90\n shr $32, %rax\n out %eax, $0x90\n"

GUEST_CODE_BLOB(g_mmio, ".code64",
	"mov $0xc0000000, %esi\n"
	"movb $0x11, (%rsi)\n"
	"movw $0x2233, (%rsi)\n"
	"movl $0x44556677, (%rsi)\n"
	"mov $0x8899aabbccddeeff, %rax\n mov %rax, (%rsi)\n"
	"mov $0x1234, %ebx\n mov %bh, 8(%rsi)\n"
	"mov $-1, %rax\n movb (%rsi), %al\n" ECHO_RAX
	"mov $-1, %rax\n movzwl (%rsi), %eax\n" ECHO_RAX
	"mov $-1, %rax\n movswq (%rsi), %rax\n" ECHO_RAX
	"mov $-1, %rax\n movsbl (%rsi), %eax\n" ECHO_RAX
	"mov (%rsi), %rax\n" ECHO_RAX
	"movabs 0xc0000010, %eax\n" ECHO_RAX
	"hlt\n");

static void expect_mmio(struct __test_metadata *_metadata, struct mvm_guest *g,
			uint64_t gpa, int len, int is_write, uint64_t data)
{
	uint64_t got = 0;

	ASSERT_EQ(0, guest_run(g->vcpu_fd));
	ASSERT_EQ(KVM_EXIT_MMIO, g->run->exit_reason);
	ASSERT_EQ(gpa, g->run->mmio.phys_addr);
	ASSERT_EQ(len, g->run->mmio.len);
	ASSERT_EQ(is_write, g->run->mmio.is_write);
	if (is_write) {
		memcpy(&got, g->run->mmio.data, len);
		ASSERT_EQ(data, got);
	} else {
		memcpy(g->run->mmio.data, &data, len);
	}
}

static uint64_t echoed(struct __test_metadata *_metadata, struct mvm_guest *g)
{
	uint64_t v;

	ASSERT_EQ(0, guest_run(g->vcpu_fd));
	ASSERT_EQ(KVM_EXIT_IO, g->run->exit_reason);
	v = *(uint32_t *)((char *)g->run + g->run->io.data_offset);
	ASSERT_EQ(0, guest_run(g->vcpu_fd));
	ASSERT_EQ(KVM_EXIT_IO, g->run->exit_reason);
	return v | (uint64_t)*(uint32_t *)((char *)g->run + g->run->io.data_offset) << 32;
}

TEST(widths_and_extension)
{
	struct mvm_guest g;

	guest_create(&g, 1 << 21);
	guest_load(&g, GUEST_CODE, g_mmio_start, BLOB_LEN(g_mmio));
	guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE);

	expect_mmio(_metadata, &g, MMIO_GPA, 1, 1, 0x11);
	expect_mmio(_metadata, &g, MMIO_GPA, 2, 1, 0x2233);
	expect_mmio(_metadata, &g, MMIO_GPA, 4, 1, 0x44556677);
	expect_mmio(_metadata, &g, MMIO_GPA, 8, 1, 0x8899aabbccddeeffULL);
	expect_mmio(_metadata, &g, MMIO_GPA + 8, 1, 1, 0x12);	/* BH */

	expect_mmio(_metadata, &g, MMIO_GPA, 1, 0, 0x5a);
	ASSERT_EQ(0xffffffffffffff5aULL, echoed(_metadata, &g));
	expect_mmio(_metadata, &g, MMIO_GPA, 2, 0, 0x8001);
	ASSERT_EQ(0x8001ULL, echoed(_metadata, &g));
	expect_mmio(_metadata, &g, MMIO_GPA, 2, 0, 0x8001);
	ASSERT_EQ(0xffffffffffff8001ULL, echoed(_metadata, &g));
	expect_mmio(_metadata, &g, MMIO_GPA, 1, 0, 0x80);
	ASSERT_EQ(0xffffff80ULL, echoed(_metadata, &g));
	expect_mmio(_metadata, &g, MMIO_GPA, 8, 0, 0x1122334455667788ULL);
	ASSERT_EQ(0x1122334455667788ULL, echoed(_metadata, &g));
	expect_mmio(_metadata, &g, MMIO_GPA + 0x10, 4, 0, 0xcafe);
	ASSERT_EQ(0xcafeULL, echoed(_metadata, &g));

	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	ASSERT_EQ(KVM_EXIT_HLT, g.run->exit_reason);
	guest_destroy(&g);
}

/* Writes to a read-only slot are MMIO; reads come from memory. */
GUEST_CODE_BLOB(g_rom, ".code64",
	"mov $0x40000000, %esi\n"
	"mov (%rsi), %eax\n out %eax, $0x90\n"
	"movl $0x77, (%rsi)\n"
	"hlt\n");

TEST(readonly_slot)
{
	struct kvm_userspace_memory_region r = {
		.slot = 1, .flags = KVM_MEM_READONLY,
		.guest_phys_addr = 0x40000000, .memory_size = 0x1000,
	};
	struct mvm_guest g;

	guest_create(&g, 1 << 21);
	guest_load(&g, GUEST_CODE, g_rom_start, BLOB_LEN(g_rom));
	guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE);
	*(uint32_t *)(g.mem + 0x100000) = 0xabcd1234;
	r.userspace_addr = (uintptr_t)(g.mem + 0x100000);
	ASSERT_EQ(0, ioctl(g.vm_fd, KVM_SET_USER_MEMORY_REGION, &r));

	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	ASSERT_EQ(KVM_EXIT_IO, g.run->exit_reason);
	ASSERT_EQ(0xabcd1234, *(uint32_t *)((char *)g.run + g.run->io.data_offset));
	expect_mmio(_metadata, &g, 0x40000000, 4, 1, 0x77);
	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	ASSERT_EQ(KVM_EXIT_HLT, g.run->exit_reason);
	ASSERT_EQ(0xabcd1234, *(uint32_t *)(g.mem + 0x100000));
	guest_destroy(&g);
}

/* INC on MMIO is not among the moves mvm decodes (KVM emulates it). */
GUEST_CODE_BLOB(g_inc, ".code64",
	"mov $0xc0000000, %esi\n incl (%rsi)\n hlt\n");

TEST(undecodable_internal_error)
{
	struct mvm_guest g;

	if (mvm_on_kvm())
		SKIP(return, "KVM's full emulator handles INC on MMIO");
	guest_create(&g, 1 << 21);
	guest_load(&g, GUEST_CODE, g_inc_start, BLOB_LEN(g_inc));
	guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE);
	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	ASSERT_EQ(KVM_EXIT_INTERNAL_ERROR, g.run->exit_reason);
	ASSERT_EQ(KVM_INTERNAL_ERROR_EMULATION, g.run->emulation_failure.suberror);
	ASSERT_TRUE(g.run->emulation_failure.flags &
		    KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES);
	ASSERT_GE(g.run->emulation_failure.insn_size, 2);
	ASSERT_EQ(0xff, g.run->emulation_failure.insn_bytes[0]);
	guest_destroy(&g);
}

TEST_HARNESS_MAIN
