// SPDX-License-Identifier: GPL-2.0
/*
 * Machine check as KVM 6.1 offers it: KVM_CAP_MCE and
 * KVM_X86_GET_MCE_CAP_SUPPORTED, KVM_X86_SETUP_MCE's checks and the
 * banks' initial values, the values KVM_SET_MSRS and a guest's WRMSR may
 * write (SDM vol. 3B 16.3.2; APM vol. 2 9.3.1, HWCR.McStatusWrEn), and
 * KVM_X86_SET_MCE: an uncorrected error is #MC with the bank filled, or a
 * shutdown with CR4.MCE clear or MCG_STATUS.MCIP set; a corrected error
 * or an uncorrected one that needs no action (UCNA) only fills the bank,
 * and sets OVER when the bank already held one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

#define MSR_IA32_MCG_CAP	0x179
#define MSR_IA32_MCG_STATUS	0x17a
#define MSR_IA32_MCG_CTL	0x17b
#define MSR_MC_CTL(i)		(0x400 + 4 * (i))
#define MSR_MC_STATUS(i)	(0x401 + 4 * (i))
#define MSR_MC_ADDR(i)		(0x402 + 4 * (i))
#define MSR_MC_MISC(i)		(0x403 + 4 * (i))
#define MSR_K7_HWCR		0xc0010015

#define MCG_CTL_P		(1ULL << 8)
#define MCG_EXT_P		(1ULL << 9)
#define MCG_STATUS_EIPV		(1ULL << 1)
#define MCG_STATUS_MCIP		(1ULL << 2)
#define MCI_STATUS_VAL		(1ULL << 63)
#define MCI_STATUS_OVER		(1ULL << 62)
#define MCI_STATUS_UC		(1ULL << 61)
#define MCI_STATUS_EN		(1ULL << 60)
#define MCI_STATUS_MISCV	(1ULL << 59)
#define MCI_STATUS_ADDRV	(1ULL << 58)
#define MCI_STATUS_PCC		(1ULL << 57)
#define MCI_STATUS_S		(1ULL << 56)
#define HWCR_MCSTATUSWREN	(1ULL << 18)
#define X86_CR4_MCE		(1ULL << 6)

#define NR_BANKS	10
#define BAD		MVM_MSR_BAD

static uint64_t mce_cap_supported(struct __test_metadata *_metadata,
				  int sys)
{
	uint64_t cap = 0;

	EXPECT_EQ(0, ioctl(sys, KVM_X86_GET_MCE_CAP_SUPPORTED, &cap));
	return cap;
}

static int setup_mce(int fd, uint64_t cap)
{
	return ioctl(fd, KVM_X86_SETUP_MCE, &cap) ? errno : 0;
}

/*
 * At GUEST_CODE: OUT to 0x80 for ever.  The #MC handler reports
 * MC1_STATUS (RBX), MC1_ADDR (R12) and MCG_STATUS (R13) with OUT to 0x81.
 * mce_wr_status: WRMSR MC1_STATUS = R11 (R10 = 1 if it faulted), RBX =
 * MC1_STATUS, OUT to 0x82.
 */
GUEST_CODE_BLOB(g_mce, ".code64",
	"1: out %al, $0x80\n jmp 1b\n"
	"mce_mc_handler:\n"
	"mov $0x405, %ecx\n rdmsr\n shl $32, %rdx\n or %rdx, %rax\n"
	"mov %rax, %rbx\n"
	"mov $0x406, %ecx\n rdmsr\n shl $32, %rdx\n or %rdx, %rax\n"
	"mov %rax, %r12\n"
	"mov $0x17a, %ecx\n rdmsr\n shl $32, %rdx\n or %rdx, %rax\n"
	"mov %rax, %r13\n"
	"out %al, $0x81\n hlt\n"
	"mce_wr_status:\n"
	"xor %r10, %r10\n mov $0x405, %ecx\n mov %r11, %rax\n"
	"mov %r11, %rdx\n shr $32, %rdx\n wrmsr\n"
	"mov $0x405, %ecx\n rdmsr\n shl $32, %rdx\n or %rdx, %rax\n"
	"mov %rax, %rbx\n out %al, $0x82\n hlt\n"
	"mce_gp_handler: mov $1, %r10\n add $8, %rsp\n addq $2, (%rsp)\n"
	"iretq\n");
extern const uint8_t mce_mc_handler[], mce_wr_status[], mce_gp_handler[];

#define HANDLER(sym)	(GUEST_CODE + ((sym) - g_mce_start))

/* CPUID as supported, but with the vendor of leaf 0 AMD's or Intel's. */
static void set_cpuid_vendor(struct __test_metadata *_metadata,
			     struct mvm_guest *g, bool amd)
{
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[256];
	} cpuid = { .c.nent = 256 };
	unsigned int i;

	ASSERT_EQ(0, ioctl(g->sys_fd, KVM_GET_SUPPORTED_CPUID, &cpuid));
	for (i = 0; i < cpuid.c.nent; i++) {
		if (cpuid.e[i].function)
			continue;
		if (amd) {	/* "AuthenticAMD" */
			cpuid.e[i].ebx = 0x68747541;
			cpuid.e[i].edx = 0x69746e65;
			cpuid.e[i].ecx = 0x444d4163;
		} else {	/* "GenuineIntel" */
			cpuid.e[i].ebx = 0x756e6547;
			cpuid.e[i].edx = 0x49656e69;
			cpuid.e[i].ecx = 0x6c65746e;
		}
	}
	ASSERT_EQ(0, ioctl(g->vcpu_fd, KVM_SET_CPUID2, &cpuid));
}

/* A guest with NR_BANKS banks and MCG_CTL, at @rip, CR4.MCE as @mce. */
static void mce_guest(struct __test_metadata *_metadata, struct mvm_guest *g,
		      uint64_t rip, bool cr4_mce)
{
	struct kvm_regs regs;
	struct kvm_sregs s;

	guest_create(g, 1 << 20);
	guest_set_supported_cpuid(g, g->vcpu_fd);
	guest_load(g, GUEST_CODE, g_mce_start, BLOB_LEN(g_mce));
	guest_set_long_mode(g, g->vcpu_fd, rip);
	guest_use_idt(g, g->vcpu_fd);
	guest_set_idt_gate(g, 13, HANDLER(mce_gp_handler));
	guest_set_idt_gate(g, 18, HANDLER(mce_mc_handler));
	ASSERT_EQ(0, ioctl(g->vcpu_fd, KVM_GET_SREGS, &s));
	if (cr4_mce)
		s.cr4 |= X86_CR4_MCE;
	else
		s.cr4 &= ~X86_CR4_MCE;
	ASSERT_EQ(0, ioctl(g->vcpu_fd, KVM_SET_SREGS, &s));
	ASSERT_EQ(0, ioctl(g->vcpu_fd, KVM_GET_REGS, &regs));
	regs.rsp = 0x30000;
	ASSERT_EQ(0, ioctl(g->vcpu_fd, KVM_SET_REGS, &regs));
	ASSERT_EQ(0, setup_mce(g->vcpu_fd, MCG_CTL_P | NR_BANKS));
}

static void run_expect_io(struct __test_metadata *_metadata,
			  struct mvm_guest *g, int port)
{
	ASSERT_EQ(0, guest_run(g->vcpu_fd));
	ASSERT_EQ(KVM_EXIT_IO, g->run->exit_reason)
		TH_LOG("exit reason %d, port %d expected", g->run->exit_reason,
		       port);
	ASSERT_EQ(port, g->run->io.port);
}

static int set_mce(struct mvm_guest *g, int bank, uint64_t status,
		   uint64_t mcg_status, uint64_t addr)
{
	struct kvm_x86_mce mce;

	memset(&mce, 0, sizeof(mce));
	mce.bank = bank;
	mce.status = status;
	mce.mcg_status = mcg_status;
	mce.addr = addr;
	mce.misc = 0x86;
	return ioctl(g->vcpu_fd, KVM_X86_SET_MCE, &mce) ? errno : 0;
}

TEST(capabilities)
{
	int sys = mvm_open_dev(), banks;
	uint64_t cap;

	banks = ioctl(sys, KVM_CHECK_EXTENSION, KVM_CAP_MCE);
	EXPECT_LT(0, banks);
	EXPECT_GE(255, banks);
	cap = mce_cap_supported(_metadata, sys);
	TH_LOG("KVM_CAP_MCE %d, supported MCG_CAP %#llx", banks,
	       (unsigned long long)cap);
	EXPECT_TRUE(cap & MCG_CTL_P);
	/* The bank count is KVM_CAP_MCE's; KVM's supported MCG_CAP has 0. */
	EXPECT_EQ(0, cap & 0xff);
	EXPECT_EQ(-1, ioctl(sys, KVM_X86_GET_MCE_CAP_SUPPORTED, NULL));
	EXPECT_EQ(EFAULT, errno);
	close(sys);
}

TEST(setup_mce_checks_and_values)
{
	struct mvm_guest g;
	uint64_t cap;
	int banks, i;

	guest_create(&g, 1 << 20);
	banks = ioctl(g.sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_MCE);
	cap = mce_cap_supported(_metadata, g.sys_fd);
	ASSERT_LE(NR_BANKS, banks);

	/* Before SETUP_MCE, KVM's vCPU has the most banks, disabled. */
	EXPECT_EQ(banks, vcpu_rdmsr(g.vcpu_fd, MSR_IA32_MCG_CAP));
	EXPECT_EQ(0, vcpu_rdmsr(g.vcpu_fd, MSR_MC_CTL(banks - 1)));
	EXPECT_EQ(0, vcpu_rdmsr(g.vcpu_fd, MSR_MC_STATUS(0)));

	EXPECT_EQ(EINVAL, setup_mce(g.vcpu_fd, cap));		/* 0 banks */
	EXPECT_EQ(EINVAL, setup_mce(g.vcpu_fd, cap | (banks + 1)));
	EXPECT_EQ(EINVAL, setup_mce(g.vcpu_fd, MCG_EXT_P | 1));
	EXPECT_EQ(EINVAL, setup_mce(g.vcpu_fd, (1ULL << 32) | 1));
	EXPECT_EQ(-1, ioctl(g.vcpu_fd, KVM_X86_SETUP_MCE, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, setup_mce(g.vcpu_fd, cap | banks));

	/* KVM on AMD keeps only MCG_CAP bits 8:0 (SVM's setup_mce). */
	EXPECT_EQ(0, setup_mce(g.vcpu_fd, cap | NR_BANKS));
	EXPECT_EQ((cap | NR_BANKS) & (mvm_cpu_is_amd() ? 0x1ff : ~0ULL),
		  vcpu_rdmsr(g.vcpu_fd, MSR_IA32_MCG_CAP));
	EXPECT_EQ(~0ULL, vcpu_rdmsr(g.vcpu_fd, MSR_IA32_MCG_CTL));
	EXPECT_EQ(0, vcpu_rdmsr(g.vcpu_fd, MSR_IA32_MCG_STATUS));
	for (i = 0; i < NR_BANKS; i++) {
		EXPECT_EQ(~0ULL, vcpu_rdmsr(g.vcpu_fd, MSR_MC_CTL(i)));
		EXPECT_EQ(0, vcpu_rdmsr(g.vcpu_fd, MSR_MC_STATUS(i)));
	}
	/* Past the banks set up: no MSR. */
	EXPECT_EQ(BAD, vcpu_rdmsr(g.vcpu_fd, MSR_MC_CTL(NR_BANKS)));
	EXPECT_FALSE(vcpu_wrmsr(g.vcpu_fd, MSR_MC_CTL(NR_BANKS), 0));

	/* MCi_CTL: 0, or all ones but bits 10 and 0. */
	EXPECT_FALSE(vcpu_wrmsr(g.vcpu_fd, MSR_MC_CTL(1), 0x1234));
	EXPECT_FALSE(vcpu_wrmsr(g.vcpu_fd, MSR_MC_CTL(1), ~0ULL >> 1));
	EXPECT_EQ(~0ULL, vcpu_rdmsr(g.vcpu_fd, MSR_MC_CTL(1)));
	EXPECT_TRUE(vcpu_wrmsr(g.vcpu_fd, MSR_MC_CTL(1), ~0ULL & ~0x401ULL));
	EXPECT_EQ(~0x401ULL, vcpu_rdmsr(g.vcpu_fd, MSR_MC_CTL(1)));
	EXPECT_TRUE(vcpu_wrmsr(g.vcpu_fd, MSR_MC_CTL(1), 0));
	EXPECT_EQ(0, vcpu_rdmsr(g.vcpu_fd, MSR_MC_CTL(1)));
	/* MCG_CTL: 0 or all ones; MCG_CAP is read-only. */
	EXPECT_FALSE(vcpu_wrmsr(g.vcpu_fd, MSR_IA32_MCG_CTL, 1));
	EXPECT_TRUE(vcpu_wrmsr(g.vcpu_fd, MSR_IA32_MCG_CTL, 0));
	EXPECT_FALSE(vcpu_wrmsr(g.vcpu_fd, MSR_IA32_MCG_CAP, cap | 2));
	/* The VMM may write any MCi_STATUS (a migration's restore). */
	EXPECT_TRUE(vcpu_wrmsr(g.vcpu_fd, MSR_MC_STATUS(2), MCI_STATUS_VAL | 5));
	EXPECT_EQ(MCI_STATUS_VAL | 5, vcpu_rdmsr(g.vcpu_fd, MSR_MC_STATUS(2)));
	EXPECT_TRUE(vcpu_wrmsr(g.vcpu_fd, MSR_MC_ADDR(2), 0x1000));
	EXPECT_EQ(0x1000, vcpu_rdmsr(g.vcpu_fd, MSR_MC_ADDR(2)));
	guest_destroy(&g);
}

/* The guest's WRMSR of MC1_STATUS = @value: 1 if it faulted. */
static int guest_write_status(struct __test_metadata *_metadata, bool amd,
			      uint64_t hwcr, uint64_t value, uint64_t *after)
{
	struct kvm_regs regs;
	struct mvm_guest g;

	mce_guest(_metadata, &g, HANDLER(mce_wr_status), true);
	set_cpuid_vendor(_metadata, &g, amd);
	EXPECT_TRUE(vcpu_wrmsr(g.vcpu_fd, MSR_K7_HWCR, hwcr));
	EXPECT_TRUE(vcpu_wrmsr(g.vcpu_fd, MSR_MC_STATUS(1), 7));
	EXPECT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_REGS, &regs));
	regs.r11 = value;
	EXPECT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_REGS, &regs));
	run_expect_io(_metadata, &g, 0x82);
	EXPECT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_REGS, &regs));
	*after = regs.rbx;
	EXPECT_EQ(regs.rbx, vcpu_rdmsr(g.vcpu_fd, MSR_MC_STATUS(1)));
	guest_destroy(&g);
	return regs.r10;
}

TEST(guest_write_of_status)
{
	uint64_t v;
	int amd;

	for (amd = 0; amd < 2; amd++) {
		/* Clearing is always allowed. */
		EXPECT_EQ(0, guest_write_status(_metadata, amd, 0, 0, &v));
		EXPECT_EQ(0, v);
		/* Anything else #GPs ... */
		EXPECT_EQ(1, guest_write_status(_metadata, amd, 0, 0x55, &v));
		EXPECT_EQ(7, v);
		/* ... unless HWCR.McStatusWrEn is set on an AMD CPU. */
		EXPECT_EQ(!amd, guest_write_status(_metadata, amd,
						   HWCR_MCSTATUSWREN,
						   0x55, &v))
			TH_LOG("%s vendor", amd ? "AMD" : "Intel");
		EXPECT_EQ(amd ? 0x55 : 7, v);
	}
}

TEST(uncorrected_error_is_mc)
{
	const uint64_t status = MCI_STATUS_VAL | MCI_STATUS_UC |
				MCI_STATUS_EN | MCI_STATUS_ADDRV |
				MCI_STATUS_PCC | MCI_STATUS_S | 0x135;
	const uint64_t mcg = MCG_STATUS_MCIP | MCG_STATUS_EIPV;
	struct kvm_regs regs;
	struct mvm_guest g;

	mce_guest(_metadata, &g, GUEST_CODE, true);
	run_expect_io(_metadata, &g, 0x80);

	/* Bank and status the checks refuse. */
	EXPECT_EQ(EINVAL, set_mce(&g, NR_BANKS, status, mcg, 0));
	EXPECT_EQ(EINVAL, set_mce(&g, 1, status & ~MCI_STATUS_VAL, mcg, 0));

	ASSERT_EQ(0, set_mce(&g, 1, status, mcg, 0xabc000));
	run_expect_io(_metadata, &g, 0x81);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_REGS, &regs));
	EXPECT_EQ(status, regs.rbx);
	EXPECT_EQ(0xabc000, regs.r12);
	EXPECT_EQ(mcg, regs.r13);
	EXPECT_EQ(0x86, vcpu_rdmsr(g.vcpu_fd, MSR_MC_MISC(1)));

	/* Another while MCG_STATUS.MCIP is still set: shutdown. */
	ASSERT_EQ(0, set_mce(&g, 2, status, mcg, 0));
	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	EXPECT_EQ(KVM_EXIT_SHUTDOWN, g.run->exit_reason);
	guest_destroy(&g);
}

TEST(uncorrected_error_without_cr4_mce_shuts_down)
{
	const uint64_t status = MCI_STATUS_VAL | MCI_STATUS_UC |
				MCI_STATUS_EN | MCI_STATUS_PCC | MCI_STATUS_S;
	struct mvm_guest g;

	mce_guest(_metadata, &g, GUEST_CODE, false);
	run_expect_io(_metadata, &g, 0x80);
	ASSERT_EQ(0, set_mce(&g, 0, status, MCG_STATUS_MCIP, 0));
	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	EXPECT_EQ(KVM_EXIT_SHUTDOWN, g.run->exit_reason);
	guest_destroy(&g);
}

TEST(reporting_disabled_drops_uncorrected)
{
	const uint64_t status = MCI_STATUS_VAL | MCI_STATUS_UC |
				MCI_STATUS_EN | MCI_STATUS_PCC | MCI_STATUS_S;
	struct mvm_guest g;

	mce_guest(_metadata, &g, GUEST_CODE, true);
	run_expect_io(_metadata, &g, 0x80);
	/* MCi_CTL not all ones: the bank does not report. */
	ASSERT_TRUE(vcpu_wrmsr(g.vcpu_fd, MSR_MC_CTL(3), 0));
	ASSERT_EQ(0, set_mce(&g, 3, status, MCG_STATUS_MCIP, 0));
	run_expect_io(_metadata, &g, 0x80);
	EXPECT_EQ(0, vcpu_rdmsr(g.vcpu_fd, MSR_MC_STATUS(3)));
	/* MCG_CTL not all ones: no bank does. */
	ASSERT_TRUE(vcpu_wrmsr(g.vcpu_fd, MSR_IA32_MCG_CTL, 0));
	ASSERT_EQ(0, set_mce(&g, 4, status, MCG_STATUS_MCIP, 0));
	run_expect_io(_metadata, &g, 0x80);
	EXPECT_EQ(0, vcpu_rdmsr(g.vcpu_fd, MSR_MC_STATUS(4)));
	EXPECT_EQ(0, vcpu_rdmsr(g.vcpu_fd, MSR_IA32_MCG_STATUS));
	guest_destroy(&g);
}

TEST(corrected_and_ucna_errors_fill_the_bank)
{
	const uint64_t ce = MCI_STATUS_VAL | MCI_STATUS_EN |
			    MCI_STATUS_ADDRV | 0x9a;
	/* Uncorrected, no action needed: no PCC, S or AR, MCG_STATUS 0. */
	const uint64_t ucna = MCI_STATUS_VAL | MCI_STATUS_UC |
			      MCI_STATUS_EN | MCI_STATUS_ADDRV | 0x9b;
	struct mvm_guest g;

	mce_guest(_metadata, &g, GUEST_CODE, true);
	run_expect_io(_metadata, &g, 0x80);

	ASSERT_EQ(0, set_mce(&g, 1, ce, 0, 0x1000));
	run_expect_io(_metadata, &g, 0x80);	/* no #MC */
	EXPECT_EQ(ce, vcpu_rdmsr(g.vcpu_fd, MSR_MC_STATUS(1)));
	EXPECT_EQ(0x1000, vcpu_rdmsr(g.vcpu_fd, MSR_MC_ADDR(1)));
	EXPECT_EQ(0x86, vcpu_rdmsr(g.vcpu_fd, MSR_MC_MISC(1)));

	/* A second one overwrites it and says so. */
	ASSERT_EQ(0, set_mce(&g, 1, ce | 1, 0, 0x2000));
	run_expect_io(_metadata, &g, 0x80);
	EXPECT_EQ(ce | 1 | MCI_STATUS_OVER, vcpu_rdmsr(g.vcpu_fd, MSR_MC_STATUS(1)));
	EXPECT_EQ(0x2000, vcpu_rdmsr(g.vcpu_fd, MSR_MC_ADDR(1)));

	/* UCNA: filled as it is, no #MC. */
	ASSERT_EQ(0, set_mce(&g, 2, ucna, 0, 0x3000));
	run_expect_io(_metadata, &g, 0x80);
	EXPECT_EQ(ucna, vcpu_rdmsr(g.vcpu_fd, MSR_MC_STATUS(2)));
	EXPECT_EQ(0x3000, vcpu_rdmsr(g.vcpu_fd, MSR_MC_ADDR(2)));
	EXPECT_EQ(0, vcpu_rdmsr(g.vcpu_fd, MSR_IA32_MCG_STATUS));

	/* A corrected error leaves an uncorrected one, but sets OVER. */
	ASSERT_EQ(0, set_mce(&g, 2, ce, 0, 0x4000));
	run_expect_io(_metadata, &g, 0x80);
	EXPECT_EQ(ucna | MCI_STATUS_OVER, vcpu_rdmsr(g.vcpu_fd, MSR_MC_STATUS(2)));
	EXPECT_EQ(0x3000, vcpu_rdmsr(g.vcpu_fd, MSR_MC_ADDR(2)));
	guest_destroy(&g);
}

TEST_HARNESS_MAIN
