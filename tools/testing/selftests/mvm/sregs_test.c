// SPDX-License-Identifier: GPL-2.0
/*
 * Register state at the edges of what VM entry takes.  A real-mode #GP
 * is delivered without an error code (SDM 26.2.1.3: an error code with
 * CR0.PE=0 fails VM entry).
 */
#include <sys/ioctl.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

/*
 * Real mode: WRMSR to an MSR nobody has raises #GP(0).  In real mode the
 * exception pushes FLAGS, CS and IP and no error code (SDM 6.13, APM
 * 8.4.1); injecting one with an error code fails VM entry on VT-x.
 */
GUEST_CODE_BLOB(g_rm_wrmsr, ".code16",
	"mov $0xdeadbeef, %ecx\n"
	"xor %eax, %eax\n"
	"xor %edx, %edx\n"
	"rm_wrmsr_insn:\n"
	"wrmsr\n"
	"hlt\n"
	".fill 0x100 - (. - g_rm_wrmsr_start), 1, 0x90\n"
	"out %al, $0x0d\n"
	"hlt\n");
extern const uint8_t rm_wrmsr_insn[];

TEST(real_mode_gp_no_error_code)
{
	uint16_t ip = rm_wrmsr_insn - g_rm_wrmsr_start;
	uint16_t *ivt, *stack;
	struct kvm_sregs s;
	struct kvm_regs r;
	struct mvm_guest g;

	guest_create(&g, 1 << 21);
	guest_load(&g, GUEST_CODE, g_rm_wrmsr_start, BLOB_LEN(g_rm_wrmsr));
	guest_set_real_mode(&g, g.vcpu_fd, 0);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_SREGS, &s));
	s.cs.selector = GUEST_CODE >> 4;
	s.cs.base = GUEST_CODE;
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_SREGS, &s));
	ivt = (uint16_t *)g.mem;
	ivt[13 * 2] = 0x100;			/* #GP handler: offset ... */
	ivt[13 * 2 + 1] = GUEST_CODE >> 4;	/* ... and segment */

	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	ASSERT_EQ(KVM_EXIT_IO, g.run->exit_reason);
	ASSERT_EQ(0x0d, g.run->io.port);

	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_SREGS, &s));
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_REGS, &r));
	ASSERT_EQ(0, s.ss.base);
	/* Three words on the stack (set up at 0x8000): IP, CS, FLAGS. */
	ASSERT_EQ(0x8000 - 6, r.rsp & 0xffff);
	stack = (uint16_t *)(g.mem + 0x8000 - 6);
	EXPECT_EQ(ip, stack[0]);
	EXPECT_EQ(GUEST_CODE >> 4, stack[1]);
	EXPECT_EQ(2, stack[2] & 0x2);
	guest_destroy(&g);
}

TEST_HARNESS_MAIN
