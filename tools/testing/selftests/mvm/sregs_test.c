// SPDX-License-Identifier: GPL-2.0
/*
 * Edge-case register state from the VMM.  Each case starts from a valid
 * base state (real mode, 32-bit protected mode or 64-bit mode), changes
 * one thing through KVM_SET_SREGS (KVM_SET_REGS, KVM_SET_MSRS), runs a
 * guest that does OUT to port 0x80 and HLT, and checks what KVM gives:
 * the ioctl's errno, then the first exit.  A failed VM entry is expected
 * only where KVM fails it too; where KVM's result depends on the vendor
 * the case says so.  Also: a real-mode #GP is delivered without an
 * error code (SDM 26.2.1.3: an error code in real mode fails VM entry).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

#define X86_CR0_PE	(1ULL << 0)
#define X86_CR0_NW	(1ULL << 29)
#define X86_CR0_CD	(1ULL << 30)
#define X86_CR0_PG	(1ULL << 31)
#define X86_CR4_PAE	(1ULL << 5)
#define X86_CR4_PCIDE	(1ULL << 17)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)
#define EFER_NX		(1ULL << 11)
#define EFER_SVME	(1ULL << 12)
#define MSR_EFER	0xc0000080

#define PORT		0x80

/* OUT and HLT encode the same in 16-, 32- and 64-bit code. */
GUEST_CODE_BLOB(g_out_hlt, ".code16", "out %al, $0x80\n hlt\n");

enum base { REAL, PROT32, LONG };

struct state {
	struct kvm_sregs s;
	struct kvm_regs r;
	bool set_efer_msr;	/* KVM_SET_MSRS of EFER after KVM_SET_SREGS */
	uint64_t efer_msr;
};

/*
 * The result of one case: the errno of KVM_SET_SREGS (or of KVM_SET_REGS;
 * EPERM: KVM_SET_MSRS refused the write) and the first exit of KVM_RUN,
 * an exit reason or -errno of KVM_RUN (NOT_RUN: a set failed).
 */
#define NOT_RUN		(-1000)

struct result {
	int set_errno;
	int run;
};

struct sregs_case {
	const char *name;
	enum base base;
	void (*modify)(struct state *st);
	struct result amd, intel;	/* what KVM gives on each vendor */
	/* KVM_SET_SREGS refuses it (EINVAL) since 6.12: EFER checked there. */
	bool efer_refused_since_6_12;
};

#define MOD(name, body)							\
	static void mod_##name(struct state *st)			\
	{								\
		struct kvm_sregs *s = &st->s;				\
		struct kvm_regs *r = &st->r;				\
		(void)s; (void)r;					\
		body;							\
	}

/* An unusable segment whose other attributes are garbage. */
static void garbage_unusable(struct kvm_segment *seg)
{
	seg->unusable = 1;
	seg->present = 0;
	seg->type = 0x5;
	seg->s = 0;
	seg->dpl = 3;
	seg->db = 1;
	seg->l = 1;
	seg->g = 1;
	seg->avl = 1;
	seg->limit = 0x123;
	seg->base = 0x1234;
	seg->selector = 0x3b;
}

MOD(baseline, (void)st)
MOD(cr0_cd_nw, s->cr0 |= X86_CR0_CD | X86_CR0_NW)
MOD(cr0_nw_only, s->cr0 = (s->cr0 & ~X86_CR0_CD) | X86_CR0_NW)
MOD(cr0_pg_no_pe, s->cr0 = (s->cr0 & ~X86_CR0_PE) | X86_CR0_PG)
MOD(cr0_bit32, s->cr0 |= 1ULL << 32)
MOD(cr4_bit31, s->cr4 |= 1ULL << 31)
MOD(cr4_pcide, s->cr4 |= X86_CR4_PCIDE)
MOD(efer_lma_only, s->efer = EFER_LMA)
MOD(efer_nx, s->efer |= EFER_NX)
MOD(efer_svme, s->efer |= EFER_SVME)
MOD(efer_bit16, s->efer |= 1ULL << 16)
MOD(cs_l, s->cs.l = 1)
MOD(cs_l_d, s->cs.l = 1; s->cs.db = 1)
MOD(cs_compat, s->cs.l = 0; s->cs.db = 1)
MOD(cs_not_accessed, s->cs.type &= ~1)
MOD(ds_not_accessed, s->ds.type &= ~1)
MOD(ss_not_accessed, s->ss.type &= ~1)
MOD(ds_unusable_garbage, garbage_unusable(&s->ds))
MOD(ss_unusable_garbage, garbage_unusable(&s->ss))
MOD(ss_unusable, s->ss.unusable = 1; s->ss.present = 0)
MOD(cs_unusable, s->cs.unusable = 1; s->cs.present = 0)
MOD(ds_g_limit_low, s->ds.g = 1; s->ds.limit = 0x123)
MOD(ds_g_limit_bits, s->ds.g = 1; s->ds.limit = 0xfffff00f)
MOD(ds_nog_limit_big, s->ds.g = 0; s->ds.limit = 0x1fffff)
MOD(cs_g_limit_low, s->cs.g = 1; s->cs.limit = 0xfff00)
MOD(ss_dpl3, s->ss.dpl = 3)
MOD(cs_ss_dpl3, s->ss.dpl = 3; s->cs.dpl = 3; s->ss.selector |= 3;
	    s->cs.selector |= 3)
MOD(tr_type1, s->tr.type = 1)
MOD(tr_type3, s->tr.type = 3)
MOD(tr_type9, s->tr.type = 9)
MOD(tr_type11, s->tr.type = 11)
MOD(tr_unusable, s->tr.unusable = 1; s->tr.present = 0)
MOD(tr_s1, s->tr.type = 11; s->tr.s = 1)
MOD(ldt_unusable_garbage, garbage_unusable(&s->ldt))
MOD(ldt_type3, s->ldt.unusable = 0; s->ldt.present = 1; s->ldt.type = 3;
	    s->ldt.s = 0)
MOD(ldt_usable, s->ldt.unusable = 0; s->ldt.present = 1; s->ldt.type = 2;
	    s->ldt.s = 0; s->ldt.limit = 0xffff)
MOD(no_pae, s->cr4 &= ~X86_CR4_PAE)
MOD(no_lma, s->efer &= ~EFER_LMA)
MOD(lme_pg_no_pae, s->efer |= EFER_LME; s->cr0 |= X86_CR0_PG)
MOD(cr3_bit39, s->cr3 |= 1ULL << 39)
MOD(cr3_bit51, s->cr3 |= 1ULL << 51)
MOD(cr3_bit63, s->cr3 |= 1ULL << 63)
MOD(rflags_zero, r->rflags = 0)
MOD(rflags_vm, r->rflags |= 1ULL << 17)
MOD(rflags_bit22, r->rflags |= 1ULL << 22)
MOD(msr_efer_lma, st->set_efer_msr = true; st->efer_msr = EFER_LMA)
MOD(msr_efer_lme, st->set_efer_msr = true; st->efer_msr = EFER_LME)
MOD(msr_efer_bit16, st->set_efer_msr = true; st->efer_msr = 1ULL << 16)

#define IO	KVM_EXIT_IO
#define FAIL	KVM_EXIT_FAIL_ENTRY
#define SHUT	KVM_EXIT_SHUTDOWN

/* Same result on both vendors. */
#define C(b, m, err, res) \
	{ #b "_" #m, b, mod_##m, { err, res }, { err, res } }
/* KVM's result differs between AMD-V and VT-x. */
#define V(b, m, amd_err, amd_res, intel_err, intel_res) \
	{ #b "_" #m, b, mod_##m, { amd_err, amd_res }, { intel_err, intel_res } }
/* As C() and V() until 6.1; EINVAL from KVM_SET_SREGS on 6.12. */
#define C_EFER(b, m, err, res) \
	{ #b "_" #m, b, mod_##m, { err, res }, { err, res }, true }
#define V_EFER(b, m, amd_err, amd_res, intel_err, intel_res) \
	{ #b "_" #m, b, mod_##m, { amd_err, amd_res }, { intel_err, intel_res }, true }

static const struct sregs_case cases[] = {
	C(REAL, baseline, 0, IO),
	C(REAL, cr0_cd_nw, 0, IO),
	C(REAL, cr0_nw_only, EINVAL, NOT_RUN),
	C(REAL, cr0_pg_no_pe, EINVAL, NOT_RUN),
	C(REAL, cr0_bit32, EINVAL, NOT_RUN),
	C(REAL, cr4_bit31, EINVAL, NOT_RUN),
	V(REAL, cr4_pcide, EINVAL, NOT_RUN, 0, FAIL),
	C(REAL, efer_lma_only, EINVAL, NOT_RUN),
	C(REAL, cs_l, EINVAL, NOT_RUN),
	C(REAL, cs_not_accessed, 0, IO),
	C(REAL, ds_not_accessed, 0, IO),
	C(REAL, ss_not_accessed, 0, IO),
	C(REAL, ds_unusable_garbage, 0, IO),
	V(REAL, ss_unusable_garbage, 0, IO, 0, FAIL),
	V(REAL, cs_unusable, 0, IO, 0, FAIL),
	V(REAL, ds_g_limit_low, 0, IO, 0, FAIL),
	V(REAL, ds_nog_limit_big, 0, IO, 0, FAIL),
	V(REAL, ss_dpl3, 0, IO, 0, FAIL),
	V(REAL, tr_type1, 0, IO, 0, FAIL),
	C(REAL, tr_type3, 0, IO),
	V(REAL, tr_type9, 0, IO, 0, FAIL),
	C(REAL, tr_type11, 0, IO),
	V(REAL, tr_unusable, 0, IO, 0, FAIL),
	V(REAL, ldt_type3, 0, IO, 0, FAIL),
	C(REAL, ldt_unusable_garbage, 0, IO),
	C(REAL, rflags_zero, 0, IO),
	V(REAL, rflags_vm, 0, IO, 0, FAIL),

	C(PROT32, baseline, 0, IO),
	C(PROT32, cr0_nw_only, EINVAL, NOT_RUN),
	C(PROT32, cs_not_accessed, 0, IO),
	C(PROT32, ds_not_accessed, 0, IO),
	C(PROT32, ds_unusable_garbage, 0, IO),
	V(PROT32, ss_unusable_garbage, 0, SHUT, 0, IO),
	V(PROT32, ds_g_limit_low, 0, IO, 0, FAIL),
	V(PROT32, ds_g_limit_bits, 0, IO, 0, FAIL),
	V(PROT32, ds_nog_limit_big, 0, IO, 0, FAIL),
	V(PROT32, cs_g_limit_low, 0, IO, 0, FAIL),
	/*
	 * At CPL 3 the OUT needs the TSS I/O bitmap: KVM's reset TR is a
	 * 16-bit TSS on AMD (#GP, then triple fault) and a 32-bit one on
	 * Intel, whose bitmap (in guest memory full of 0xf4) allows port 0x80.
	 */
	V(PROT32, ss_dpl3, 0, SHUT, 0, IO),
	V(PROT32, cs_ss_dpl3, 0, SHUT, 0, IO),
	V(PROT32, tr_type1, 0, IO, 0, FAIL),
	C(PROT32, tr_type3, 0, IO),
	V(PROT32, tr_type9, 0, IO, 0, FAIL),
	C(PROT32, tr_type11, 0, IO),
	V(PROT32, tr_s1, 0, IO, 0, FAIL),
	C(PROT32, ldt_usable, 0, IO),
	V(PROT32, ldt_type3, 0, IO, 0, FAIL),
	C(PROT32, lme_pg_no_pae, EINVAL, NOT_RUN),
	C(PROT32, cs_l, EINVAL, NOT_RUN),

	C(LONG, baseline, 0, IO),
	C(LONG, cs_l_d, 0, FAIL),
	C(LONG, cs_compat, 0, IO),
	C(LONG, no_pae, EINVAL, NOT_RUN),
	C(LONG, no_lma, EINVAL, NOT_RUN),
	C(LONG, cr0_pg_no_pe, EINVAL, NOT_RUN),
	/* Beyond MAXPHYADDR, which is 36 without KVM_SET_CPUID2. */
	C(LONG, cr3_bit39, EINVAL, NOT_RUN),
	C(LONG, cr3_bit51, EINVAL, NOT_RUN),
	C(LONG, cr3_bit63, EINVAL, NOT_RUN),
	V(LONG, cr4_pcide, EINVAL, NOT_RUN, 0, IO),
	C(LONG, ss_unusable, 0, IO),
	V(LONG, ss_unusable_garbage, 0, SHUT, 0, IO),
	C(LONG, ds_unusable_garbage, 0, IO),
	C(LONG, ds_not_accessed, 0, IO),
	V(LONG, tr_type3, 0, IO, 0, FAIL),
	V(LONG, tr_type9, 0, IO, 0, FAIL),
	C(LONG, tr_type11, 0, IO),
	C(LONG, ldt_unusable_garbage, 0, IO),
	V(LONG, rflags_vm, 0, SHUT, 0, FAIL),
	V(LONG, rflags_bit22, 0, IO, 0, FAIL),

	/*
	 * KVM_SET_SREGS of 6.1 takes EFER as it is: what the CPU refuses
	 * fails VM entry.  That of 6.12 checks it as a WRMSR would: reserved
	 * bits, and NX or SVME without the vCPU's CPUID saying so (these
	 * vCPUs have no such CPUID), are EINVAL.  (Not here: EFER.LME alone
	 * in real mode, with which the rig's emulated AMD-V host, QEMU TCG,
	 * hung under KVM.)
	 */
	C_EFER(REAL, efer_nx, 0, IO),
	V_EFER(REAL, efer_svme, 0, IO, 0, FAIL),
	C_EFER(REAL, efer_bit16, 0, FAIL),
	C_EFER(LONG, efer_bit16, 0, FAIL),
	/* A host write of EFER keeps LMA as it is. */
	C(REAL, msr_efer_lma, 0, IO),
	C(LONG, msr_efer_lme, 0, IO),
	C(REAL, msr_efer_bit16, EPERM, NOT_RUN),
};

/* The base states, all with the OUT/HLT guest at GUEST_CODE. */
static void set_base(struct mvm_guest *g, enum base base)
{
	struct kvm_sregs s;

	switch (base) {
	case REAL:
		guest_set_real_mode(g, g->vcpu_fd, 0);
		ioctl(g->vcpu_fd, KVM_GET_SREGS, &s);
		s.cs.selector = GUEST_CODE >> 4;
		s.cs.base = GUEST_CODE;
		ioctl(g->vcpu_fd, KVM_SET_SREGS, &s);
		break;
	case PROT32:
		guest_set_prot32(g, g->vcpu_fd, GUEST_CODE);
		break;
	case LONG:
		guest_set_long_mode(g, g->vcpu_fd, GUEST_CODE);
		break;
	}
}

static const char *const base_names[] = { "real", "prot32", "long" };

/*
 * Run one case; return its result in *set_err and *run_res (see struct
 * result; an OUT to another port than 0x80 is 1000 + the port).
 */
static void run_case(const struct sregs_case *c, int *set_err, int *run_res)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} msrs = { .hdr.nmsrs = 1, .e.index = MSR_EFER };
	struct mvm_guest g;
	struct state st;
	int r;

	guest_create(&g, 1 << 21);
	/* A guest that goes astray meets HLT (real-mode IVT included). */
	memset(g.mem, 0xf4, g.mem_size);
	guest_load(&g, GUEST_CODE, g_out_hlt_start, BLOB_LEN(g_out_hlt));
	set_base(&g, c->base);
	memset(&st, 0, sizeof(st));
	ioctl(g.vcpu_fd, KVM_GET_SREGS, &st.s);
	ioctl(g.vcpu_fd, KVM_GET_REGS, &st.r);
	c->modify(&st);

	*run_res = NOT_RUN;
	*set_err = ioctl(g.vcpu_fd, KVM_SET_REGS, &st.r) ? errno : 0;
	if (!*set_err)
		*set_err = ioctl(g.vcpu_fd, KVM_SET_SREGS, &st.s) ? errno : 0;
	if (!*set_err && st.set_efer_msr) {
		msrs.e.data = st.efer_msr;
		r = ioctl(g.vcpu_fd, KVM_SET_MSRS, &msrs);
		/* Report a refused MSR write as EPERM: KVM_SET_MSRS says 0. */
		*set_err = r == 1 ? 0 : r == 0 ? EPERM : errno;
	}
	if (!*set_err) {
		/* A guest that never exits ends as -EINTR. */
		alarm(5);
		r = guest_run(g.vcpu_fd);
		alarm(0);
		*run_res = r ? r : (int)g.run->exit_reason;
		if (*run_res == KVM_EXIT_IO && g.run->io.port != PORT)
			*run_res = 1000 + g.run->io.port;
	}
	guest_destroy(&g);
}

static void on_alarm(int sig)
{
}

FIXTURE(sregs) {};
FIXTURE_SETUP(sregs) {}
FIXTURE_TEARDOWN(sregs) {}

/* Some 80 VMs: slow under an emulated CPU, hence the long timeout. */
TEST_F_TIMEOUT(sregs, edge_cases, 900)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	static const struct result efer_refused = { EINVAL, NOT_RUN };
	bool amd = mvm_cpu_is_amd();
	bool efer_checked = mvm_kernel_at_least(6, 12);
	int bad = 0;
	unsigned int i;

	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct sregs_case *c = &cases[i];
		const struct result *want = amd ? &c->amd : &c->intel;
		int set_err, run_res;

		if (c->efer_refused_since_6_12 && efer_checked)
			want = &efer_refused;

		printf("# %s ...\n", c->name);
		run_case(c, &set_err, &run_res);
		printf("# %-28s set %d run %d%s\n", c->name, set_err, run_res,
		       set_err == want->set_errno && run_res == want->run ?
		       "" : "  MISMATCH");
		if (set_err != want->set_errno || run_res != want->run) {
			TH_LOG("%s (%s base): want set %d run %d, got set %d run %d",
			       c->name, base_names[c->base], want->set_errno,
			       want->run, set_err, run_res);
			bad++;
		}
	}
	EXPECT_EQ(0, bad);
}

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
	set_base(&g, REAL);
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
