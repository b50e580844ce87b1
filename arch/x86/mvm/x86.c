// SPDX-License-Identifier: GPL-2.0
/*
 * mvm x86 common layer: vendor selection, vCPU state ioctls, CPUID and MSR
 * emulation, port I/O, and the KVM_RUN loop shared by VT-x and AMD-V.
 *
 * One exit, end to end: the vendor's vcpu_run op enters the guest and
 * returns at the next VM exit; mvm_vcpu_enter_guest() re-enables
 * interrupts so the host services whatever caused an interrupt exit, then
 * calls the vendor's handle_exit op, which looks the exit up in its
 * handler table and usually calls one of the mvm_emulate_* / mvm_handle_*
 * helpers below.  They return 1 to re-enter at once (the loop in
 * mvm_arch_vcpu_run() "keeps rolling"), or 0 after filling kvm_run for
 * userspace.
 */
#define pr_fmt(fmt) "mvm: " fmt

#include <linux/module.h>
#include <linux/mm.h>
#include <linux/ratelimit.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vtime.h>
#include <linux/context_tracking.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>
#include <asm/debugreg.h>
#include <asm/hw_breakpoint.h>
#include <asm/msr-index.h>
#include <asm/special_insns.h>
#include <asm/nospec-branch.h>
#include <asm/processor.h>
#include <linux/kvm_para.h>
#include "x86.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

/*
 * The VM whose vCPU last ran on each CPU: a vCPU of another VM arriving
 * there first flushes the indirect branch predictors (IBPB), so that one
 * guest cannot steer another's speculation (Spectre v2).  Ids, not
 * pointers: a freed VM's address may come back.
 */
static DEFINE_PER_CPU(u64, mvm_last_vm_ibpb_id);
static atomic64_t mvm_next_ibpb_id = ATOMIC64_INIT(0);

const struct mvm_x86_ops *mvm_x86_ops __read_mostly;

/*
 * DR6 and DR7 bits (SDM vol. 3B 17.2.3-17.2.4).  mvm offers no RTM, so
 * DR6.RTM (bit 16) reads as 1 and DR7.RTM (bit 11) as 0.
 */
#define MVM_DR6_FIXED_1		0xffff0ff0UL	/* also DR6 after reset */
#define MVM_DR6_VOLATILE	0x0000e00fUL	/* B0-B3, BD, BS, BT */
#define MVM_DR6_TRAP_BITS	0x0000000fUL	/* B0-B3: not sticky */
#define MVM_DR6_BD		BIT(13)
#define MVM_DR7_FIXED_1		0x00000400UL	/* also DR7 after reset */
#define MVM_DR7_VOLATILE	0xffff23ffUL
#define MVM_DR7_GD		BIT(13)
#define MVM_DR7_BP_ENABLED	0xffUL		/* L0, G0 ... L3, G3 */

static u64 mvm_host_xcr0 __read_mostly;
static u64 mvm_supported_xcr0 __read_mostly;

/* ------------------------------------------------------------------ */
/* Module init: pick the vendor                                         */

int mvm_arch_init(void)
{
	const char *why = NULL;
	bool vmx, svm;
	int r;

	/* Raw CPUID: the kernel hides VMX when firmware disabled it. */
	vmx = cpuid_ecx(1) & BIT(5);
	svm = cpuid_eax(0x80000000) >= 0x80000001 &&
	      (cpuid_ecx(0x80000001) & BIT(2));

	if (vmx && !vmx_probe(&why))
		mvm_x86_ops = &vmx_x86_ops;
	else if (svm && !svm_probe(&why))
		mvm_x86_ops = &svm_x86_ops;

	if (!mvm_x86_ops) {
		if (!vmx && !svm)
			pr_err("CPU has neither VT-x nor AMD-V (no svm/vmx in CPUID)\n");
		else
			pr_err("CPU has %s but mvm cannot use it: %s\n",
			       vmx ? "VT-x" : "AMD-V", why ? why : "unknown");
		return -ENODEV;
	}

	if (boot_cpu_has(X86_FEATURE_XSAVE)) {
		mvm_host_xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);
		mvm_supported_xcr0 = mvm_host_xcr0 &
			(XFEATURE_MASK_FP | XFEATURE_MASK_SSE | XFEATURE_MASK_YMM |
			 XFEATURE_MASK_AVX512);
	}

	r = mvm_x86_ops->hardware_setup();
	if (r)
		goto out;
	r = mvm_hw_init();
	if (r)
		goto out_unsetup;
	preempt_notifier_inc();
	pr_info("using %s\n", mvm_x86_ops->name);
	return 0;

out_unsetup:
	mvm_x86_ops->hardware_unsetup();
out:
	mvm_x86_ops = NULL;
	return r;
}

void mvm_arch_exit(void)
{
	if (!mvm_x86_ops)
		return;
	preempt_notifier_dec();
	mvm_hw_exit();
	mvm_x86_ops->hardware_unsetup();
	mvm_x86_ops = NULL;
}

int mvm_arch_check_extension(struct mvm *mvm, long ext)
{
	switch (ext) {
	case KVM_CAP_SET_TSS_ADDR:
	case KVM_CAP_SET_IDENTITY_MAP_ADDR:
	case KVM_CAP_EXT_CPUID:
	case KVM_CAP_IMMEDIATE_EXIT:
	case KVM_CAP_READONLY_MEM:
		return 1;
	default:
		return 0;
	}
}

/* ------------------------------------------------------------------ */
/* Requests and kicks                                                   */

static void mvm_kick_ipi(void *unused)
{
	/* The interrupt itself forced the VM exit; nothing else to do. */
}

/*
 * Post @req to every vCPU and wait until none is still running guest code
 * that predates it.  A vCPU sets vcpu->mode before it reads requests with
 * interrupts off; we set the request before reading vcpu->mode: either it
 * sees the request, or we see it in the guest and interrupt it.  The IPI
 * is handled only once that CPU has left the guest and enabled interrupts.
 */
void mvm_make_all_vcpus_request(struct mvm *mvm, int req)
{
	cpumask_var_t cpus;
	bool have_mask;
	int i, me;

	have_mask = zalloc_cpumask_var(&cpus, GFP_KERNEL);
	me = get_cpu();
	for (i = 0; i < atomic_read(&mvm->online_vcpus); i++) {
		struct mvm_vcpu *vcpu = mvm->vcpus[i];
		int cpu;

		set_bit(req, &vcpu->requests);
		smp_mb__after_atomic();
		cpu = READ_ONCE(vcpu->cpu);
		if (READ_ONCE(vcpu->mode) == MVM_IN_GUEST_MODE &&
		    cpu >= 0 && cpu != me) {
			if (have_mask)
				cpumask_set_cpu(cpu, cpus);
			else
				smp_call_function_single(cpu, mvm_kick_ipi, NULL, 1);
		}
	}
	if (have_mask) {
		smp_call_function_many(cpus, mvm_kick_ipi, NULL, 1);
		free_cpumask_var(cpus);
	}
	put_cpu();
}

void mvm_arch_flush_memslot(struct mvm *mvm, const struct mvm_memory_slot *slot)
{
	mvm_mmu_zap_gfn_range(mvm, slot->base_gfn, slot->base_gfn + slot->npages);
}

/* ------------------------------------------------------------------ */
/* VM                                                                   */

struct mvm *mvm_arch_alloc_vm(void)
{
	return kzalloc(mvm_x86_ops->vm_size, GFP_KERNEL_ACCOUNT);
}

void mvm_arch_free_vm(struct mvm *mvm)
{
	kfree(mvm);
}

int mvm_arch_vm_init(struct mvm *mvm)
{
	int r;

	mvm->arch.ibpb_id = atomic64_inc_return(&mvm_next_ibpb_id);
	r = mvm_mmu_init(mvm);
	if (r)
		return r;
	r = mvm_x86_ops->vm_init(mvm);
	if (r)
		mvm_mmu_destroy(mvm);
	return r;
}

void mvm_arch_vm_destroy(struct mvm *mvm)
{
	mvm_x86_ops->vm_destroy(mvm);
	mvm_mmu_destroy(mvm);
}

long mvm_arch_vm_ioctl(struct mvm *mvm, unsigned int ioctl, unsigned long arg)
{
	long r;

	switch (ioctl) {
	case KVM_SET_TSS_ADDR:
		/*
		 * Only VT-x without unrestricted guest needs this TSS; we
		 * require unrestricted guest.  Keep KVM's VMX range check.
		 */
		if (arg > (unsigned int)(-3 * PAGE_SIZE))
			return -EINVAL;
		mvm->arch.tss_addr = arg;
		return 0;
	case KVM_SET_IDENTITY_MAP_ADDR: {
		u64 addr;

		mutex_lock(&mvm->lock);
		r = -EINVAL;
		if (mvm->created_vcpus)
			goto out_unlock;
		r = -EFAULT;
		if (copy_from_user(&addr, (void __user *)arg, sizeof(addr)))
			goto out_unlock;
		mvm->arch.identity_map_addr = addr;
		r = 0;
out_unlock:
		mutex_unlock(&mvm->lock);
		return r;
	}
	default:
		return -ENOTTY;
	}
}

/* ------------------------------------------------------------------ */
/* vCPU load/put: the vendor state follows the thread between CPUs      */

static inline struct mvm_vcpu *preempt_notifier_to_vcpu(struct preempt_notifier *pn)
{
	return container_of(pn, struct mvm_vcpu, preempt_notifier);
}

/* Preemption off: bind the vCPU to @cpu. */
static void mvm_vcpu_arrive(struct mvm_vcpu *vcpu, int cpu)
{
	u64 id = vcpu->mvm->arch.ibpb_id;

	if (unlikely(this_cpu_read(mvm_last_vm_ibpb_id) != id)) {
		this_cpu_write(mvm_last_vm_ibpb_id, id);
		indirect_branch_prediction_barrier();
	}
	mvm_x86_ops->vcpu_load(vcpu, cpu);
	WRITE_ONCE(vcpu->cpu, cpu);
	vcpu->arch.l1tf_flush_l1d = true;
}

static void mvm_sched_in(struct preempt_notifier *pn, int cpu)
{
	mvm_vcpu_arrive(preempt_notifier_to_vcpu(pn), cpu);
}

static void mvm_sched_out(struct preempt_notifier *pn, struct task_struct *next)
{
	struct mvm_vcpu *vcpu = preempt_notifier_to_vcpu(pn);

	WRITE_ONCE(vcpu->cpu, -1);
	mvm_x86_ops->vcpu_put(vcpu);
}

static struct preempt_ops mvm_preempt_ops = {
	.sched_in = mvm_sched_in,
	.sched_out = mvm_sched_out,
};

/*
 * Make the vendor state (the VMCS on VT-x) current on this CPU for the
 * duration of an ioctl; the preempt notifier moves it if we migrate.
 */
static void mvm_vcpu_load(struct mvm_vcpu *vcpu)
{
	int cpu = get_cpu();

	preempt_notifier_register(&vcpu->preempt_notifier);
	mvm_vcpu_arrive(vcpu, cpu);
	put_cpu();
}

static void mvm_vcpu_put(struct mvm_vcpu *vcpu)
{
	preempt_disable();
	WRITE_ONCE(vcpu->cpu, -1);
	mvm_x86_ops->vcpu_put(vcpu);
	preempt_notifier_unregister(&vcpu->preempt_notifier);
	preempt_enable();
}

/* ------------------------------------------------------------------ */
/* vCPU create / reset / free                                           */

struct mvm_vcpu *mvm_arch_alloc_vcpu(void)
{
	/* Freed with kfree() by the core if creation fails early. */
	return kzalloc(mvm_x86_ops->vcpu_size, GFP_KERNEL_ACCOUNT);
}

/* Architectural RESET, as KVM's kvm_vcpu_reset() leaves it (no APIC). */
static void mvm_vcpu_reset(struct mvm_vcpu *vcpu)
{
	struct mvm_vcpu_arch *arch = &vcpu->arch;

	mvm_x86_ops->vcpu_reset(vcpu);

	memset(arch->regs, 0, sizeof(arch->regs));
	/* RDX holds the processor signature (CPUID.1:EAX); KVM uses 0x600. */
	arch->regs[MVM_REG_RDX] = 0x600;
	arch->regs[MVM_REG_RIP] = 0xfff0;
	arch->regs_avail = ~0UL;
	arch->regs_dirty = ~0UL;

	arch->apic_base = 0;
	arch->misc_enable = MSR_IA32_MISC_ENABLE_PEBS_UNAVAIL |
			    MSR_IA32_MISC_ENABLE_BTS_UNAVAIL;
	arch->xcr0 = XFEATURE_MASK_FP;
	arch->pkru = 0;
	arch->pkru_switched = false;
	arch->cr8 = 0;
	memset(arch->db, 0, sizeof(arch->db));
	arch->dr6 = MVM_DR6_FIXED_1;
	arch->dr7 = MVM_DR7_FIXED_1;	/* the vendor reset wrote it too */
	arch->exception_pending = false;
	arch->complete_userspace_io = NULL;
}

int mvm_arch_vcpu_create(struct mvm_vcpu *vcpu)
{
	int r;

	/* Creating the VMCS/VMCB needs the hardware on (see hw.c). */
	if (mvm_arch_rebooting())
		return -EIO;

	preempt_notifier_init(&vcpu->preempt_notifier, &mvm_preempt_ops);

	if (!fpu_alloc_guest_fpstate(&vcpu->arch.guest_fpu))
		return -ENOMEM;

	r = mvm_entry_work_init(vcpu);
	if (r)
		goto out_fpu;

	r = mvm_x86_ops->vcpu_create(vcpu);
	if (r)
		goto out_shim;

	mvm_vcpu_load(vcpu);
	mvm_vcpu_reset(vcpu);
	mvm_vcpu_put(vcpu);
	return 0;

out_shim:
	mvm_entry_work_free(vcpu);
out_fpu:
	fpu_free_guest_fpstate(&vcpu->arch.guest_fpu);
	return r;
}

void mvm_arch_vcpu_free(struct mvm_vcpu *vcpu)
{
	mvm_x86_ops->vcpu_free(vcpu);
	mvm_mmu_free_page_cache(vcpu);
	mvm_entry_work_free(vcpu);
	fpu_free_guest_fpstate(&vcpu->arch.guest_fpu);
	kvfree(vcpu->arch.cpuid_entries);
	kfree(vcpu);
}

/* ------------------------------------------------------------------ */
/* Exceptions                                                           */

void mvm_queue_exception(struct mvm_vcpu *vcpu, u8 vector,
			 bool has_error_code, u32 error_code)
{
	vcpu->arch.exception_pending = true;
	vcpu->arch.exception_vector = vector;
	vcpu->arch.exception_has_error_code = has_error_code;
	vcpu->arch.exception_error_code = error_code;
}

void mvm_inject_gp(struct mvm_vcpu *vcpu, u32 error_code)
{
	mvm_queue_exception(vcpu, GP_VECTOR, true, error_code);
}

void mvm_inject_ud(struct mvm_vcpu *vcpu)
{
	mvm_queue_exception(vcpu, UD_VECTOR, false, 0);
}

/* ------------------------------------------------------------------ */
/* Guest mode helpers                                                   */

static bool mvm_is_long_mode(struct mvm_vcpu *vcpu)
{
	return mvm_x86_ops->get_efer(vcpu) & EFER_LMA;
}

static bool mvm_is_64bit_mode(struct mvm_vcpu *vcpu)
{
	struct kvm_segment cs;

	if (!mvm_is_long_mode(vcpu))
		return false;
	mvm_x86_ops->get_segment(vcpu, &cs, VCPU_SREG_CS);
	return cs.l;
}

static int mvm_get_cpl(struct mvm_vcpu *vcpu)
{
	return mvm_x86_ops->get_cpl(vcpu);
}

/* ------------------------------------------------------------------ */
/* CPUID                                                                */

#define MVM_MAX_CPUID_ENTRIES	256

/*
 * What a guest may see: features mvm virtualizes correctly, by register.
 * Anything needing support mvm lacks (VMX/SVM in the guest, x2APIC and
 * TSC deadline without an in-kernel APIC, MONITOR/MWAIT, PMU, MTRR/MCA
 * MSRs, PKU, XSAVES, speculation-control MSRs) is left out.
 */
#define F(bit)	BIT(bit)
static const u32 mvm_cpuid_1_ecx = F(0) /* SSE3 */ | F(1) /* PCLMULQDQ */ |
	F(9) /* SSSE3 */ | F(12) /* FMA */ | F(13) /* CX16 */ |
	F(19) /* SSE4.1 */ | F(20) /* SSE4.2 */ | F(22) /* MOVBE */ |
	F(23) /* POPCNT */ | F(25) /* AES */ | F(26) /* XSAVE */ |
	F(28) /* AVX */ | F(29) /* F16C */ | F(30) /* RDRAND */;
static const u32 mvm_cpuid_1_edx = F(0) /* FPU */ | F(1) /* VME */ |
	F(2) /* DE */ | F(3) /* PSE */ | F(4) /* TSC */ | F(5) /* MSR */ |
	F(6) /* PAE */ | F(8) /* CX8 */ | F(9) /* APIC */ | F(11) /* SEP */ |
	F(13) /* PGE */ | F(15) /* CMOV */ | F(16) /* PAT */ |
	F(17) /* PSE36 */ | F(19) /* CLFLUSH */ | F(23) /* MMX */ |
	F(24) /* FXSR */ | F(25) /* SSE */ | F(26) /* SSE2 */;
static const u32 mvm_cpuid_7_ebx = F(0) /* FSGSBASE */ | F(3) /* BMI1 */ |
	F(5) /* AVX2 */ | F(7) /* SMEP */ | F(8) /* BMI2 */ | F(9) /* ERMS */ |
	F(16) /* AVX512F */ | F(17) /* AVX512DQ */ | F(18) /* RDSEED */ |
	F(19) /* ADX */ | F(20) /* SMAP */ | F(21) /* AVX512IFMA */ |
	F(23) /* CLFLUSHOPT */ | F(24) /* CLWB */ | F(28) /* AVX512CD */ |
	F(29) /* SHA */ | F(30) /* AVX512BW */ | F(31) /* AVX512VL */;
static const u32 mvm_cpuid_7_ecx = F(1) /* AVX512VBMI */ |
	F(6) /* AVX512VBMI2 */ | F(8) /* GFNI */ | F(9) /* VAES */ |
	F(10) /* VPCLMULQDQ */ | F(11) /* AVX512VNNI */ |
	F(12) /* AVX512BITALG */ | F(14) /* AVX512VPOPCNTDQ */;
static const u32 mvm_cpuid_7_edx = F(4) /* FSRM */;
static const u32 mvm_cpuid_8000_0001_ecx = F(0) /* LAHF */ | F(5) /* ABM */ |
	F(6) /* SSE4A */ | F(7) /* MISALIGNSSE */ | F(8) /* PREFETCHW */;
static const u32 mvm_cpuid_8000_0001_edx = F(11) /* SYSCALL */ |
	F(20) /* NX */ | F(22) /* MMXEXT */ | F(26) /* 1GB pages */ |
	F(29) /* LM */ |
	/* AMD mirrors these leaf-1 EDX bits here. */
	(mvm_cpuid_1_edx & (GENMASK(9, 0) | GENMASK(17, 12) | F(23) | F(24)));
#undef F

struct mvm_cpuid_array {
	struct kvm_cpuid_entry2 *entries;
	int nent;
	int max;
};

static int mvm_cpuid_add(struct mvm_cpuid_array *a, u32 function, u32 index,
			 u32 flags)
{
	struct kvm_cpuid_entry2 *e;

	if (a->nent >= a->max)
		return -E2BIG;
	e = &a->entries[a->nent++];
	memset(e, 0, sizeof(*e));
	e->function = function;
	e->index = index;
	e->flags = flags;
	cpuid_count(function, index, &e->eax, &e->ebx, &e->ecx, &e->edx);
	return 0;
}

/* XSAVE area size for the components in @xcr0 (CPUID.0xD sizes). */
static u32 mvm_xstate_size(u64 xcr0)
{
	u32 size = 512 + 64;	/* legacy area + XSAVE header */
	int i;

	for (i = 2; i < 64; i++) {
		u32 eax, ebx, ecx, edx;

		if (!(xcr0 & BIT_ULL(i)))
			continue;
		cpuid_count(0xd, i, &eax, &ebx, &ecx, &edx);
		size = max(size, eax + ebx);
	}
	return size;
}

static int mvm_fill_supported_cpuid(struct mvm_cpuid_array *a)
{
	u32 max_basic = min_t(u32, cpuid_eax(0), 0xd);
	u32 max_ext = min_t(u32, cpuid_eax(0x80000000), 0x80000008);
	bool avx = mvm_supported_xcr0 & XFEATURE_MASK_YMM;
	bool avx512 = (mvm_supported_xcr0 & XFEATURE_MASK_AVX512) ==
		      XFEATURE_MASK_AVX512;
	struct kvm_cpuid_entry2 *e;
	u32 f, i;
	int r;

	for (f = 0; f <= max_basic; f++) {
		switch (f) {
		case 0:
			r = mvm_cpuid_add(a, f, 0, 0);
			if (!r)
				a->entries[a->nent - 1].eax = max_basic;
			break;
		case 1:
			r = mvm_cpuid_add(a, f, 0, 0);
			if (r)
				break;
			e = &a->entries[a->nent - 1];
			e->ecx &= mvm_cpuid_1_ecx;
			if (!avx)
				e->ecx &= ~(BIT(12) | BIT(28) | BIT(29));
			if (!mvm_supported_xcr0)
				e->ecx &= ~BIT(26);
			e->ecx |= BIT(31);	/* running on a hypervisor */
			e->edx &= mvm_cpuid_1_edx;
			/* Initial APIC id and logical count are the VMM's. */
			e->ebx &= 0xffff;
			break;
		case 2:
			r = mvm_cpuid_add(a, f, 0, 0);
			break;
		case 4:
			for (i = 0; ; i++) {
				r = mvm_cpuid_add(a, f, i,
						  KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
				if (r || !(a->entries[a->nent - 1].eax & 0x1f))
					break;
			}
			break;
		case 7:
			r = mvm_cpuid_add(a, f, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
			if (r)
				break;
			e = &a->entries[a->nent - 1];
			e->eax = 0;	/* no subleaf 1 */
			e->ebx &= mvm_cpuid_7_ebx;
			if (!avx)
				e->ebx &= ~BIT(5);
			if (!avx512) {
				e->ebx &= ~(BIT(16) | BIT(17) | BIT(21) | BIT(28) |
					    BIT(30) | BIT(31));
				e->ecx &= ~(BIT(1) | BIT(6) | BIT(11) | BIT(12) |
					    BIT(14));
			}
			e->ecx &= mvm_cpuid_7_ecx;
			/* PKU with PKRU switched around the guest; OSPKE is dynamic. */
			if (boot_cpu_has(X86_FEATURE_OSPKE))
				e->ecx |= BIT(3);
			e->edx &= mvm_cpuid_7_edx;
			break;
		case 0xd:
			if (!mvm_supported_xcr0) {
				r = 0;
				break;
			}
			r = mvm_cpuid_add(a, f, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
			if (r)
				break;
			e = &a->entries[a->nent - 1];
			e->eax = (u32)mvm_supported_xcr0;
			e->edx = (u32)(mvm_supported_xcr0 >> 32);
			e->ecx = mvm_xstate_size(mvm_supported_xcr0);
			e->ebx = e->ecx;
			r = mvm_cpuid_add(a, f, 1, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
			if (r)
				break;
			e = &a->entries[a->nent - 1];
			/* XSAVEOPT, XSAVEC, XGETBV1; no XSAVES (no IA32_XSS). */
			e->eax &= BIT(0) | BIT(1) | BIT(2);
			e->ebx = e->ecx = e->edx = 0;
			for (i = 2; i < 64 && !r; i++)
				if (mvm_supported_xcr0 & BIT_ULL(i))
					r = mvm_cpuid_add(a, f, i,
							  KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
			break;
		default:
			/* Thermal, PMU, topology, ...: not virtualized. */
			r = 0;
			break;
		}
		if (r)
			return r;
	}

	for (f = 0x80000000; f <= max_ext; f++) {
		switch (f) {
		case 0x80000000:
			r = mvm_cpuid_add(a, f, 0, 0);
			if (!r)
				a->entries[a->nent - 1].eax = max_ext;
			break;
		case 0x80000001:
			r = mvm_cpuid_add(a, f, 0, 0);
			if (r)
				break;
			e = &a->entries[a->nent - 1];
			e->ecx &= mvm_cpuid_8000_0001_ecx;
			e->edx &= mvm_cpuid_8000_0001_edx;
			break;
		case 0x80000002 ... 0x80000006:
			r = mvm_cpuid_add(a, f, 0, 0);
			break;
		case 0x80000008:
			r = mvm_cpuid_add(a, f, 0, 0);
			if (r)
				break;
			e = &a->entries[a->nent - 1];
			e->eax &= 0xffff;	/* physical and linear address bits */
			e->ebx = e->ecx = e->edx = 0;
			break;
		default:
			r = 0;
			break;
		}
		if (r)
			return r;
	}
	return 0;
}

static long mvm_dev_get_supported_cpuid(struct kvm_cpuid2 __user *ucpuid)
{
	struct mvm_cpuid_array a = {};
	struct kvm_cpuid2 cpuid;
	long r;

	if (copy_from_user(&cpuid, ucpuid, sizeof(cpuid)))
		return -EFAULT;
	if (cpuid.nent < 1)
		return -E2BIG;
	a.max = min_t(u32, cpuid.nent, MVM_MAX_CPUID_ENTRIES);
	a.entries = kvcalloc(a.max, sizeof(*a.entries), GFP_KERNEL);
	if (!a.entries)
		return -ENOMEM;

	r = mvm_fill_supported_cpuid(&a);
	if (r)
		goto out;
	r = -EFAULT;
	if (copy_to_user(ucpuid->entries, a.entries, a.nent * sizeof(*a.entries)))
		goto out;
	cpuid.nent = a.nent;
	if (copy_to_user(ucpuid, &cpuid, sizeof(cpuid)))
		goto out;
	r = 0;
out:
	kvfree(a.entries);
	return r;
}

static struct kvm_cpuid_entry2 *mvm_find_cpuid_entry(struct mvm_vcpu *vcpu,
						      u32 function, u32 index)
{
	int i;

	for (i = 0; i < vcpu->arch.cpuid_nent; i++) {
		struct kvm_cpuid_entry2 *e = &vcpu->arch.cpuid_entries[i];

		if (e->function == function &&
		    (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     e->index == index))
			return e;
	}
	return NULL;
}

static long mvm_vcpu_set_cpuid2(struct mvm_vcpu *vcpu,
				struct kvm_cpuid2 __user *ucpuid)
{
	struct kvm_cpuid_entry2 *entries = NULL;
	struct kvm_cpuid2 cpuid;

	if (copy_from_user(&cpuid, ucpuid, sizeof(cpuid)))
		return -EFAULT;
	if (cpuid.nent > MVM_MAX_CPUID_ENTRIES)
		return -E2BIG;
	if (cpuid.nent) {
		entries = vmemdup_user(ucpuid->entries,
				       array_size(sizeof(*entries), cpuid.nent));
		if (IS_ERR(entries))
			return PTR_ERR(entries);
	}

	/*
	 * As KVM since 5.16: once the vCPU has run, CPUID may only be set
	 * again to exactly the same table.
	 */
	if (vcpu->arch.ran_once) {
		bool same = cpuid.nent == vcpu->arch.cpuid_nent &&
			!memcmp(entries, vcpu->arch.cpuid_entries,
				cpuid.nent * sizeof(*entries));

		kvfree(entries);
		return same ? 0 : -EINVAL;
	}

	kvfree(vcpu->arch.cpuid_entries);
	vcpu->arch.cpuid_entries = entries;
	vcpu->arch.cpuid_nent = cpuid.nent;
	return 0;
}

static long mvm_vcpu_get_cpuid2(struct mvm_vcpu *vcpu,
				struct kvm_cpuid2 __user *ucpuid)
{
	struct kvm_cpuid2 cpuid;

	if (copy_from_user(&cpuid, ucpuid, sizeof(cpuid)))
		return -EFAULT;
	if (cpuid.nent < vcpu->arch.cpuid_nent)
		return -E2BIG;
	if (copy_to_user(ucpuid->entries, vcpu->arch.cpuid_entries,
			 vcpu->arch.cpuid_nent * sizeof(struct kvm_cpuid_entry2)))
		return -EFAULT;
	cpuid.nent = vcpu->arch.cpuid_nent;
	if (copy_to_user(ucpuid, &cpuid, sizeof(cpuid)))
		return -EFAULT;
	return 0;
}

int mvm_emulate_cpuid(struct mvm_vcpu *vcpu)
{
	u32 function = mvm_register_read(vcpu, MVM_REG_RAX);
	u32 index = mvm_register_read(vcpu, MVM_REG_RCX);
	struct kvm_cpuid_entry2 *e;
	u32 eax = 0, ebx = 0, ecx = 0, edx = 0;

	/* A leaf the VMM did not set reads as zeros. */
	e = mvm_find_cpuid_entry(vcpu, function, index);
	if (e) {
		eax = e->eax;
		ebx = e->ebx;
		ecx = e->ecx;
		edx = e->edx;
		/* Bits that follow guest state, as on hardware. */
		if (function == 1) {
			ecx &= ~BIT(27);
			if (mvm_x86_ops->get_cr(vcpu, 4) & X86_CR4_OSXSAVE)
				ecx |= BIT(27);
		} else if (function == 7 && index == 0) {
			ecx &= ~BIT(4);
			if (vcpu->arch.pkru_switched)
				ecx |= BIT(4);	/* OSPKE: CR4.PKE */
		} else if (function == 0xd && (index == 0 || index == 1)) {
			ebx = mvm_xstate_size(vcpu->arch.xcr0);
		}
	}
	mvm_register_write(vcpu, MVM_REG_RAX, eax);
	mvm_register_write(vcpu, MVM_REG_RBX, ebx);
	mvm_register_write(vcpu, MVM_REG_RCX, ecx);
	mvm_register_write(vcpu, MVM_REG_RDX, edx);
	mvm_x86_ops->skip_instruction(vcpu);
	return 1;
}

/* ------------------------------------------------------------------ */
/* XSETBV                                                               */

int mvm_emulate_xsetbv(struct mvm_vcpu *vcpu)
{
	u32 index = mvm_register_read(vcpu, MVM_REG_RCX);
	u64 xcr0 = (mvm_register_read(vcpu, MVM_REG_RDX) << 32) |
		   (u32)mvm_register_read(vcpu, MVM_REG_RAX);

	/* SDM vol. 2 XSETBV and 13.3: what makes a write to XCR0 fault. */
	if (mvm_get_cpl(vcpu) != 0 || index != XCR_XFEATURE_ENABLED_MASK ||
	    !(xcr0 & XFEATURE_MASK_FP) || (xcr0 & ~mvm_supported_xcr0) ||
	    ((xcr0 & XFEATURE_MASK_YMM) && !(xcr0 & XFEATURE_MASK_SSE)) ||
	    ((xcr0 & XFEATURE_MASK_AVX512) &&
	     (xcr0 & XFEATURE_MASK_AVX512) != XFEATURE_MASK_AVX512) ||
	    ((xcr0 & XFEATURE_MASK_AVX512) && !(xcr0 & XFEATURE_MASK_YMM))) {
		mvm_inject_gp(vcpu, 0);
		return 1;
	}
	vcpu->arch.xcr0 = xcr0;
	mvm_x86_ops->skip_instruction(vcpu);
	return 1;
}

/* ------------------------------------------------------------------ */
/* MSRs                                                                 */

#define MVM_MAX_IO_MSRS		256

/* KVM_GET_MSR_INDEX_LIST: what KVM_GET/SET_MSRS save and restore. */
static const u32 mvm_msrs_to_save[] = {
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	MSR_STAR, MSR_CSTAR, MSR_KERNEL_GS_BASE, MSR_SYSCALL_MASK, MSR_LSTAR,
	MSR_IA32_TSC, MSR_IA32_CR_PAT, MSR_IA32_MISC_ENABLE, MSR_EFER,
	MSR_IA32_APICBASE,
};

static bool mvm_valid_efer(struct mvm_vcpu *vcpu, u64 efer)
{
	return !(efer & ~(u64)(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX));
}

static int mvm_set_efer(struct mvm_vcpu *vcpu, u64 efer, bool host)
{
	u64 old = mvm_x86_ops->get_efer(vcpu);

	if (!mvm_valid_efer(vcpu, efer))
		return 1;
	if (!host) {
		/* A guest may only enable what its CPUID offers (as KVM). */
		struct kvm_cpuid_entry2 *e = mvm_find_cpuid_entry(vcpu, 0x80000001, 0);
		u32 edx = e ? e->edx : 0;

		if (((efer & EFER_LME) && !(edx & BIT(29))) ||
		    ((efer & EFER_NX) && !(edx & BIT(20))) ||
		    ((efer & EFER_SCE) && !(edx & BIT(11))))
			return 1;
		/* SDM 2.2.1: LME may not change while paging is on. */
		if ((mvm_x86_ops->get_cr(vcpu, 0) & X86_CR0_PG) &&
		    ((efer ^ old) & EFER_LME))
			return 1;
	}
	/*
	 * LMA is the processor's, not software's: a write from the host
	 * keeps it too (as KVM's set_efer()).  Only KVM_SET_SREGS sets it.
	 */
	efer = (efer & ~EFER_LMA) | (old & EFER_LMA);
	mvm_x86_ops->set_efer(vcpu, efer);
	return 0;
}

static bool mvm_valid_apic_base(u64 data)
{
	u64 reserved = GENMASK_ULL(63, boot_cpu_data.x86_phys_bits) | 0x2ff |
		       X2APIC_ENABLE;

	/* x2APIC mode without xAPIC enable is invalid (SDM 10.12.5). */
	return !(data & reserved);
}

/* 0 on success, 1 to fault (#GP for the guest, stop for the host). */
static int mvm_get_msr(struct mvm_vcpu *vcpu, u32 index, u64 *data)
{
	if (!mvm_x86_ops->get_msr(vcpu, index, data))
		return 0;

	switch (index) {
	case MSR_EFER:
		*data = mvm_x86_ops->get_efer(vcpu);
		return 0;
	case MSR_IA32_APICBASE:
		*data = vcpu->arch.apic_base;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		*data = vcpu->arch.misc_enable;
		return 0;
	case MSR_IA32_UCODE_REV:
		*data = 0x100000000ULL;
		return 0;
	case MSR_IA32_PLATFORM_ID:
	case MSR_K7_HWCR:
		*data = 0;
		return 0;
	default:
		return 1;
	}
}

/*
 * Sign-extend @la from bit 47.  Linear addresses are 48 bits wide for
 * every mvm guest: mvm exposes no LA57 in CPUID and refuses CR4.LA57, so
 * there is no 57-bit case.
 */
static u64 mvm_canonical_address(u64 la)
{
	return (u64)((s64)(la << 16) >> 16);
}

static int mvm_set_msr(struct mvm_vcpu *vcpu, u32 index, u64 data, bool host)
{
	/*
	 * Addresses in MSRs, checked here once for both vendors and for
	 * guest (#GP) and host (KVM_SET_MSRS stops) writes alike, as KVM's
	 * __kvm_set_msr() does.  A non-canonical base or SYSCALL target
	 * faults WRMSR (SDM vol. 2 WRMSR).  Stored anyway it would fail VM
	 * entry (FS/GS base, SDM 26.3.1.2) or fault the host's WRMSR that
	 * loads it (VT-x switches LSTAR, CSTAR, KERNEL_GS_BASE by hand).
	 */
	switch (index) {
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_KERNEL_GS_BASE:
	case MSR_LSTAR:
	case MSR_CSTAR:
		if (mvm_canonical_address(data) != data)
			return 1;
		break;
	case MSR_IA32_SYSENTER_EIP:
	case MSR_IA32_SYSENTER_ESP:
		/*
		 * Intel faults a non-canonical value, AMD ignores bits 63:32
		 * (SYSENTER is 32-bit only there).  Like KVM, accept it and
		 * make it canonical: VM entry requires that (SDM 26.3.1.1).
		 */
		data = mvm_canonical_address(data);
		break;
	}

	switch (index) {
	case MSR_EFER:
		return mvm_set_efer(vcpu, data, host);
	case MSR_IA32_APICBASE:
		if (!mvm_valid_apic_base(data))
			return 1;
		vcpu->arch.apic_base = data;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		vcpu->arch.misc_enable = data;
		return 0;
	case MSR_IA32_UCODE_REV:
	case MSR_K7_HWCR:
		/* Writes are accepted and dropped, as KVM does. */
		return 0;
	default:
		return mvm_x86_ops->set_msr(vcpu, index, data, host);
	}
}

int mvm_emulate_rdmsr(struct mvm_vcpu *vcpu)
{
	u32 index = mvm_register_read(vcpu, MVM_REG_RCX);
	u64 data;

	if (mvm_get_msr(vcpu, index, &data)) {
		mvm_inject_gp(vcpu, 0);
		return 1;
	}
	mvm_register_write(vcpu, MVM_REG_RAX, (u32)data);
	mvm_register_write(vcpu, MVM_REG_RDX, data >> 32);
	mvm_x86_ops->skip_instruction(vcpu);
	return 1;
}

int mvm_emulate_wrmsr(struct mvm_vcpu *vcpu)
{
	u32 index = mvm_register_read(vcpu, MVM_REG_RCX);
	u64 data = (mvm_register_read(vcpu, MVM_REG_RDX) << 32) |
		   (u32)mvm_register_read(vcpu, MVM_REG_RAX);

	if (mvm_set_msr(vcpu, index, data, false)) {
		mvm_inject_gp(vcpu, 0);
		return 1;
	}
	mvm_x86_ops->skip_instruction(vcpu);
	return 1;
}

static long mvm_dev_get_msr_index_list(struct kvm_msr_list __user *ulist)
{
	struct kvm_msr_list list;
	u32 n;

	if (copy_from_user(&list, ulist, sizeof(list)))
		return -EFAULT;
	n = list.nmsrs;
	list.nmsrs = ARRAY_SIZE(mvm_msrs_to_save);
	if (copy_to_user(ulist, &list, sizeof(list)))
		return -EFAULT;
	if (n < list.nmsrs)
		return -E2BIG;
	if (copy_to_user(ulist->indices, mvm_msrs_to_save,
			 sizeof(mvm_msrs_to_save)))
		return -EFAULT;
	return 0;
}

/* KVM_GET_MSRS / KVM_SET_MSRS: returns how many entries were processed. */
static long mvm_vcpu_msr_io(struct mvm_vcpu *vcpu, struct kvm_msrs __user *umsrs,
			    bool set)
{
	struct kvm_msr_entry *entries;
	struct kvm_msrs msrs;
	long r;
	u32 i;

	if (copy_from_user(&msrs, umsrs, sizeof(msrs)))
		return -EFAULT;
	if (msrs.nmsrs >= MVM_MAX_IO_MSRS)
		return -E2BIG;

	entries = memdup_user(umsrs->entries, msrs.nmsrs * sizeof(*entries));
	if (IS_ERR(entries))
		return PTR_ERR(entries);

	for (i = 0; i < msrs.nmsrs; i++) {
		if (set ? mvm_set_msr(vcpu, entries[i].index, entries[i].data, true)
			: mvm_get_msr(vcpu, entries[i].index, &entries[i].data))
			break;
	}
	r = i;
	if (!set && copy_to_user(umsrs->entries, entries,
				 msrs.nmsrs * sizeof(*entries)))
		r = -EFAULT;
	kfree(entries);
	return r;
}

long mvm_arch_dev_ioctl(unsigned int ioctl, unsigned long arg)
{
	switch (ioctl) {
	case KVM_GET_SUPPORTED_CPUID:
		return mvm_dev_get_supported_cpuid((void __user *)arg);
	case KVM_GET_MSR_INDEX_LIST:
		return mvm_dev_get_msr_index_list((void __user *)arg);
	default:
		return -EINVAL;
	}
}

/* ------------------------------------------------------------------ */
/* KVM_GET/SET_REGS, KVM_GET/SET_SREGS                                  */

static void mvm_get_regs(struct mvm_vcpu *vcpu, struct kvm_regs *regs)
{
	regs->rax = mvm_register_read(vcpu, MVM_REG_RAX);
	regs->rbx = mvm_register_read(vcpu, MVM_REG_RBX);
	regs->rcx = mvm_register_read(vcpu, MVM_REG_RCX);
	regs->rdx = mvm_register_read(vcpu, MVM_REG_RDX);
	regs->rsi = mvm_register_read(vcpu, MVM_REG_RSI);
	regs->rdi = mvm_register_read(vcpu, MVM_REG_RDI);
	regs->rsp = mvm_register_read(vcpu, MVM_REG_RSP);
	regs->rbp = mvm_register_read(vcpu, MVM_REG_RBP);
	regs->r8 = mvm_register_read(vcpu, MVM_REG_R8);
	regs->r9 = mvm_register_read(vcpu, MVM_REG_R9);
	regs->r10 = mvm_register_read(vcpu, MVM_REG_R10);
	regs->r11 = mvm_register_read(vcpu, MVM_REG_R11);
	regs->r12 = mvm_register_read(vcpu, MVM_REG_R12);
	regs->r13 = mvm_register_read(vcpu, MVM_REG_R13);
	regs->r14 = mvm_register_read(vcpu, MVM_REG_R14);
	regs->r15 = mvm_register_read(vcpu, MVM_REG_R15);
	regs->rip = mvm_rip_read(vcpu);
	regs->rflags = mvm_x86_ops->get_rflags(vcpu);
}

static void mvm_set_regs(struct mvm_vcpu *vcpu, const struct kvm_regs *regs)
{
	mvm_register_write(vcpu, MVM_REG_RAX, regs->rax);
	mvm_register_write(vcpu, MVM_REG_RBX, regs->rbx);
	mvm_register_write(vcpu, MVM_REG_RCX, regs->rcx);
	mvm_register_write(vcpu, MVM_REG_RDX, regs->rdx);
	mvm_register_write(vcpu, MVM_REG_RSI, regs->rsi);
	mvm_register_write(vcpu, MVM_REG_RDI, regs->rdi);
	mvm_register_write(vcpu, MVM_REG_RSP, regs->rsp);
	mvm_register_write(vcpu, MVM_REG_RBP, regs->rbp);
	mvm_register_write(vcpu, MVM_REG_R8, regs->r8);
	mvm_register_write(vcpu, MVM_REG_R9, regs->r9);
	mvm_register_write(vcpu, MVM_REG_R10, regs->r10);
	mvm_register_write(vcpu, MVM_REG_R11, regs->r11);
	mvm_register_write(vcpu, MVM_REG_R12, regs->r12);
	mvm_register_write(vcpu, MVM_REG_R13, regs->r13);
	mvm_register_write(vcpu, MVM_REG_R14, regs->r14);
	mvm_register_write(vcpu, MVM_REG_R15, regs->r15);
	mvm_rip_write(vcpu, regs->rip);
	mvm_x86_ops->set_rflags(vcpu, regs->rflags | X86_EFLAGS_FIXED);
	/* As KVM: new registers discard an exception not yet delivered. */
	vcpu->arch.exception_pending = false;
}

static void mvm_get_sregs(struct mvm_vcpu *vcpu, struct kvm_sregs *sregs)
{
	const struct mvm_x86_ops *ops = mvm_x86_ops;
	struct desc_ptr dt;

	memset(sregs, 0, sizeof(*sregs));
	ops->get_segment(vcpu, &sregs->cs, VCPU_SREG_CS);
	ops->get_segment(vcpu, &sregs->ds, VCPU_SREG_DS);
	ops->get_segment(vcpu, &sregs->es, VCPU_SREG_ES);
	ops->get_segment(vcpu, &sregs->fs, VCPU_SREG_FS);
	ops->get_segment(vcpu, &sregs->gs, VCPU_SREG_GS);
	ops->get_segment(vcpu, &sregs->ss, VCPU_SREG_SS);
	ops->get_segment(vcpu, &sregs->tr, VCPU_SREG_TR);
	ops->get_segment(vcpu, &sregs->ldt, VCPU_SREG_LDTR);
	ops->get_idt(vcpu, &dt);
	sregs->idt.limit = dt.size;
	sregs->idt.base = dt.address;
	ops->get_gdt(vcpu, &dt);
	sregs->gdt.limit = dt.size;
	sregs->gdt.base = dt.address;
	sregs->cr0 = ops->get_cr(vcpu, 0);
	sregs->cr2 = ops->get_cr(vcpu, 2);
	sregs->cr3 = ops->get_cr(vcpu, 3);
	sregs->cr4 = ops->get_cr(vcpu, 4);
	sregs->cr8 = vcpu->arch.cr8;
	sregs->efer = ops->get_efer(vcpu);
	sregs->apic_base = vcpu->arch.apic_base;
}

/* CR4 bits a guest may set (SDM 2.5), given what CPUID can expose. */
static u64 mvm_cr4_reserved_bits(void)
{
	u64 valid = X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE |
		    X86_CR4_PSE | X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE |
		    X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;

	if (boot_cpu_has(X86_FEATURE_FSGSBASE))
		valid |= X86_CR4_FSGSBASE;
	if (mvm_supported_xcr0)
		valid |= X86_CR4_OSXSAVE;
	if (boot_cpu_has(X86_FEATURE_SMEP))
		valid |= X86_CR4_SMEP;
	if (boot_cpu_has(X86_FEATURE_SMAP))
		valid |= X86_CR4_SMAP;
	/* PKRU is switched around the guest (mvm_vcpu_enter_guest()). */
	if (boot_cpu_has(X86_FEATURE_OSPKE))
		valid |= X86_CR4_PKE;
	/*
	 * As KVM, KVM_SET_SREGS accepts PCIDs when the host has them (VM
	 * entry checks only that they are on in IA-32e mode, SDM 26.3.1.1);
	 * the guest's own MOV to CR4 also needs PCID in its CPUID.
	 */
	if (boot_cpu_has(X86_FEATURE_PCID))
		valid |= X86_CR4_PCIDE;
	return ~valid;
}

/* The guest's MAXPHYADDR: CPUID 0x80000008 EAX[7:0], else 36 (as KVM). */
static int mvm_guest_maxphyaddr(struct mvm_vcpu *vcpu)
{
	struct kvm_cpuid_entry2 *e = mvm_find_cpuid_entry(vcpu, 0x80000000, 0);

	if (!e || e->eax < 0x80000008)
		return 36;
	e = mvm_find_cpuid_entry(vcpu, 0x80000008, 0);
	return e ? e->eax & 0xff : 36;
}

/*
 * kvm_is_valid_sregs() in Linux 6.1, plus the APIC base check.  Like KVM
 * it does not check EFER: reserved EFER bits fail VM entry (APM 15.5.1,
 * SDM 26.3.1.1), which KVM_RUN reports as KVM_EXIT_FAIL_ENTRY.
 */
static bool mvm_valid_sregs(struct mvm_vcpu *vcpu,
			    const struct kvm_sregs *sregs)
{
	if ((sregs->efer & EFER_LME) && (sregs->cr0 & X86_CR0_PG)) {
		if (!(sregs->cr4 & X86_CR4_PAE) || !(sregs->efer & EFER_LMA))
			return false;
		if (sregs->cr3 & GENMASK_ULL(63, mvm_guest_maxphyaddr(vcpu)))
			return false;
	} else {
		if ((sregs->efer & EFER_LMA) || sregs->cs.l)
			return false;
	}
	/* kvm_is_valid_cr0(): what MOV to CR0 would #GP on (SDM 2.5). */
	if (upper_32_bits(sregs->cr0))
		return false;
	if ((sregs->cr0 & X86_CR0_NW) && !(sregs->cr0 & X86_CR0_CD))
		return false;
	if ((sregs->cr0 & X86_CR0_PG) && !(sregs->cr0 & X86_CR0_PE))
		return false;
	if (sregs->cr4 & mvm_cr4_reserved_bits())
		return false;
	return mvm_valid_apic_base(sregs->apic_base);
}

static int mvm_set_sregs(struct mvm_vcpu *vcpu, const struct kvm_sregs *sregs)
{
	const struct mvm_x86_ops *ops = mvm_x86_ops;
	struct desc_ptr dt;
	int i;

	if (!mvm_valid_sregs(vcpu, sregs))
		return -EINVAL;
	/* Without an interrupt controller there is nothing to inject into. */
	for (i = 0; i < ARRAY_SIZE(sregs->interrupt_bitmap); i++)
		if (sregs->interrupt_bitmap[i])
			return -EINVAL;

	vcpu->arch.cr8 = sregs->cr8;
	vcpu->arch.apic_base = sregs->apic_base;
	ops->set_cr(vcpu, 2, sregs->cr2);
	ops->set_cr(vcpu, 3, sregs->cr3);
	ops->set_efer(vcpu, sregs->efer);
	ops->set_cr(vcpu, 0, sregs->cr0);
	mvm_write_cr4(vcpu, sregs->cr4);

	ops->set_segment(vcpu, &sregs->cs, VCPU_SREG_CS);
	ops->set_segment(vcpu, &sregs->ds, VCPU_SREG_DS);
	ops->set_segment(vcpu, &sregs->es, VCPU_SREG_ES);
	ops->set_segment(vcpu, &sregs->fs, VCPU_SREG_FS);
	ops->set_segment(vcpu, &sregs->gs, VCPU_SREG_GS);
	ops->set_segment(vcpu, &sregs->ss, VCPU_SREG_SS);
	ops->set_segment(vcpu, &sregs->tr, VCPU_SREG_TR);
	ops->set_segment(vcpu, &sregs->ldt, VCPU_SREG_LDTR);

	dt.size = sregs->idt.limit;
	dt.address = sregs->idt.base;
	ops->set_idt(vcpu, &dt);
	dt.size = sregs->gdt.limit;
	dt.address = sregs->gdt.base;
	ops->set_gdt(vcpu, &dt);

	vcpu->arch.exception_pending = false;
	return 0;
}

long mvm_arch_vcpu_ioctl(struct mvm_vcpu *vcpu, unsigned int ioctl,
			 unsigned long arg)
{
	void __user *argp = (void __user *)arg;
	long r;

	switch (ioctl) {
	case KVM_GET_REGS: {
		struct kvm_regs regs;

		mvm_vcpu_load(vcpu);
		mvm_get_regs(vcpu, &regs);
		mvm_vcpu_put(vcpu);
		return copy_to_user(argp, &regs, sizeof(regs)) ? -EFAULT : 0;
	}
	case KVM_SET_REGS: {
		struct kvm_regs regs;

		if (copy_from_user(&regs, argp, sizeof(regs)))
			return -EFAULT;
		mvm_vcpu_load(vcpu);
		mvm_set_regs(vcpu, &regs);
		mvm_vcpu_put(vcpu);
		return 0;
	}
	case KVM_GET_SREGS: {
		struct kvm_sregs sregs;

		mvm_vcpu_load(vcpu);
		mvm_get_sregs(vcpu, &sregs);
		mvm_vcpu_put(vcpu);
		return copy_to_user(argp, &sregs, sizeof(sregs)) ? -EFAULT : 0;
	}
	case KVM_SET_SREGS: {
		struct kvm_sregs sregs;

		if (copy_from_user(&sregs, argp, sizeof(sregs)))
			return -EFAULT;
		mvm_vcpu_load(vcpu);
		r = mvm_set_sregs(vcpu, &sregs);
		mvm_vcpu_put(vcpu);
		return r;
	}
	case KVM_SET_CPUID2:
		return mvm_vcpu_set_cpuid2(vcpu, argp);
	case KVM_GET_CPUID2:
		return mvm_vcpu_get_cpuid2(vcpu, argp);
	case KVM_GET_MSRS:
	case KVM_SET_MSRS:
		mvm_vcpu_load(vcpu);
		r = mvm_vcpu_msr_io(vcpu, argp, ioctl == KVM_SET_MSRS);
		mvm_vcpu_put(vcpu);
		return r;
	default:
		return -EINVAL;
	}
}

/* ------------------------------------------------------------------ */
/* Control and debug registers                                          */

/* A CPUID feature bit of the guest's own table. */
static bool mvm_guest_cpuid_has(struct mvm_vcpu *vcpu, u32 function,
				int reg, int bit)
{
	struct kvm_cpuid_entry2 *e = mvm_find_cpuid_entry(vcpu, function, 0);
	u32 regs[4];

	if (!e)
		return false;
	regs[0] = e->eax;
	regs[1] = e->ebx;
	regs[2] = e->ecx;
	regs[3] = e->edx;
	return regs[reg] & BIT(bit);
}

/*
 * CR4 bits the guest may not set: those the host cannot give it, and
 * those its CPUID does not offer (SDM vol. 3A 2.5: reserved bits #GP).
 */
static u64 mvm_cr4_guest_reserved_bits(struct mvm_vcpu *vcpu)
{
	u64 rsvd = mvm_cr4_reserved_bits();

	if (!mvm_guest_cpuid_has(vcpu, 1, 2, 26))
		rsvd |= X86_CR4_OSXSAVE;
	if (!mvm_guest_cpuid_has(vcpu, 1, 2, 17))
		rsvd |= X86_CR4_PCIDE;
	if (!mvm_guest_cpuid_has(vcpu, 7, 1, 0))
		rsvd |= X86_CR4_FSGSBASE;
	if (!mvm_guest_cpuid_has(vcpu, 7, 1, 7))
		rsvd |= X86_CR4_SMEP;
	if (!mvm_guest_cpuid_has(vcpu, 7, 1, 20))
		rsvd |= X86_CR4_SMAP;
	if (!mvm_guest_cpuid_has(vcpu, 7, 2, 3))
		rsvd |= X86_CR4_PKE;
	return rsvd;
}

void mvm_write_cr4(struct mvm_vcpu *vcpu, unsigned long val)
{
	mvm_x86_ops->set_cr(vcpu, 4, val);
	vcpu->arch.pkru_switched = val & X86_CR4_PKE;
}

/*
 * MOV to CR4.  Both vendors intercept every write to a bit the host
 * depends on (MCE, PKE, VMXE, ...), so the rules are checked here once.
 */
int mvm_emulate_set_cr4(struct mvm_vcpu *vcpu, unsigned long val)
{
	unsigned long old = mvm_x86_ops->get_cr(vcpu, 4);

	if ((val & mvm_cr4_guest_reserved_bits(vcpu)) ||
	    (mvm_is_long_mode(vcpu) && !(val & X86_CR4_PAE))) {
		mvm_inject_gp(vcpu, 0);
		return 1;
	}
	mvm_write_cr4(vcpu, val);
	/*
	 * The write never reached the processor, so neither did the TLB
	 * flush it implies (SDM vol. 3A 4.10.4.1).
	 */
	if ((old ^ val) & (X86_CR4_PGE | X86_CR4_PAE | X86_CR4_PSE |
			   X86_CR4_SMEP | X86_CR4_SMAP | X86_CR4_PKE))
		mvm_x86_ops->flush_tlb(vcpu);
	mvm_x86_ops->skip_instruction(vcpu);
	return 1;
}

/*
 * MOV to CR8.  Without an in-kernel APIC the TPR is only a value that
 * userspace reads in kvm_run->cr8; it must never reach the physical TPR,
 * which would mask the host's own interrupts.
 */
int mvm_emulate_set_cr8(struct mvm_vcpu *vcpu, unsigned long val)
{
	if (val & ~0xfUL) {
		mvm_inject_gp(vcpu, 0);
		return 1;
	}
	vcpu->arch.cr8 = val;
	mvm_x86_ops->skip_instruction(vcpu);
	return 1;
}

static void mvm_set_guest_dr7(struct mvm_vcpu *vcpu, unsigned long val)
{
	vcpu->arch.dr7 = (val & MVM_DR7_VOLATILE) | MVM_DR7_FIXED_1;
	mvm_x86_ops->set_dr7(vcpu, vcpu->arch.dr7);
}

int mvm_reflect_db(struct mvm_vcpu *vcpu, unsigned long dr6)
{
	struct mvm_vcpu_arch *arch = &vcpu->arch;

	/* B0-B3 describe this #DB only; BD, BS and BT stay set. */
	arch->dr6 = (arch->dr6 & MVM_DR6_VOLATILE & ~MVM_DR6_TRAP_BITS) |
		    (dr6 & MVM_DR6_VOLATILE) | MVM_DR6_FIXED_1;
	/* Delivering #DB clears DR7.GD (SDM vol. 3B 17.2.4). */
	if (arch->dr7 & MVM_DR7_GD)
		mvm_set_guest_dr7(vcpu, arch->dr7 & ~MVM_DR7_GD);
	mvm_queue_exception(vcpu, DB_VECTOR, false, 0);
	return 1;
}

/*
 * MOV to or from a debug register (SDM vol. 3B 17.2, vol. 2 "MOV--Move
 * to/from Debug Registers").  Always intercepted: the guest never reads
 * the host's breakpoint addresses, and its own values reach the hardware
 * only while it runs (mvm_vcpu_enter_guest()).
 */
int mvm_emulate_mov_dr(struct mvm_vcpu *vcpu, int dr, int gpr, bool to_dr)
{
	struct mvm_vcpu_arch *arch = &vcpu->arch;
	bool mode64 = mvm_is_64bit_mode(vcpu);
	unsigned long val;

	if (mvm_get_cpl(vcpu)) {
		mvm_inject_gp(vcpu, 0);
		return 1;
	}
	if (dr == 4 || dr == 5) {
		/* DR4/DR5 alias DR6/DR7 unless CR4.DE. */
		if (mvm_x86_ops->get_cr(vcpu, 4) & X86_CR4_DE) {
			mvm_inject_ud(vcpu);
			return 1;
		}
		dr += 2;
	}
	if (dr > 7) {
		mvm_inject_ud(vcpu);
		return 1;
	}
	/* General detect: the access faults with DR6.BD instead. */
	if (arch->dr7 & MVM_DR7_GD)
		return mvm_reflect_db(vcpu, MVM_DR6_BD);

	if (to_dr) {
		val = mvm_register_read(vcpu, gpr);
		if (!mode64)
			val = (u32)val;
		switch (dr) {
		case 6:
		case 7:
			if (val >> 32) {
				mvm_inject_gp(vcpu, 0);
				return 1;
			}
			if (dr == 6)
				arch->dr6 = (val & MVM_DR6_VOLATILE) |
					    MVM_DR6_FIXED_1;
			else
				mvm_set_guest_dr7(vcpu, val);
			break;
		default:
			arch->db[dr] = val;
			break;
		}
	} else {
		val = dr < 4 ? arch->db[dr] : dr == 6 ? arch->dr6 : arch->dr7;
		mvm_register_write(vcpu, gpr, mode64 ? val : (u32)val);
	}
	mvm_x86_ops->skip_instruction(vcpu);
	return 1;
}

/* ------------------------------------------------------------------ */
/* Simple exits                                                         */

int mvm_emulate_halt(struct mvm_vcpu *vcpu)
{
	/* No interrupt controller in the kernel yet: userspace decides. */
	mvm_x86_ops->skip_instruction(vcpu);
	vcpu->stat.halt_exits++;
	vcpu->run->exit_reason = KVM_EXIT_HLT;
	return 0;
}

int mvm_emulate_hypercall(struct mvm_vcpu *vcpu)
{
	unsigned long nr = mvm_register_read(vcpu, MVM_REG_RAX);
	bool mode64 = mvm_is_64bit_mode(vcpu);
	long ret;

	/* KVM's convention: nr in RAX, result in RAX (KVM_HC_*, -KVM_E*). */
	if (!mode64)
		nr &= 0xffffffff;
	if (mvm_get_cpl(vcpu) != 0)
		ret = -KVM_EPERM;
	else if (nr == KVM_HC_VAPIC_POLL_IRQ)
		ret = 0;
	else
		ret = -KVM_ENOSYS;
	if (!mode64)
		ret = (u32)ret;
	mvm_register_write(vcpu, MVM_REG_RAX, ret);
	mvm_x86_ops->skip_instruction(vcpu);
	return 1;
}

/* An instruction mvm had to decode could not be (it changed under us). */
int mvm_emulation_failed(struct mvm_vcpu *vcpu)
{
	vcpu->run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	vcpu->run->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
	vcpu->run->internal.ndata = 0;
	return 0;
}

int mvm_handle_triple_fault(struct mvm_vcpu *vcpu)
{
	vcpu->run->exit_reason = KVM_EXIT_SHUTDOWN;
	return 0;
}

/*
 * A guest or VMM can make every entry fail or exit oddly, and a dump is
 * some fifteen lines: let one through per interval, whichever vCPU.
 */
static DEFINE_RATELIMIT_STATE(mvm_dump_ratelimit, DEFAULT_RATELIMIT_INTERVAL, 1);

static void mvm_dump_state_ratelimited(struct mvm_vcpu *vcpu)
{
	if (__ratelimit(&mvm_dump_ratelimit))
		mvm_x86_ops->dump_state(vcpu);
}

int mvm_handle_unknown_exit(struct mvm_vcpu *vcpu, u64 reason)
{
	struct kvm_run *run = vcpu->run;

	pr_err_ratelimited("vcpu %u: unexpected exit reason 0x%llx\n",
			   vcpu->vcpu_id, reason);
	mvm_dump_state_ratelimited(vcpu);
	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->internal.suberror = KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON;
	run->internal.ndata = 2;
	run->internal.data[0] = reason;
	run->internal.data[1] = raw_smp_processor_id();
	return 0;
}

int mvm_handle_fail_entry(struct mvm_vcpu *vcpu, u64 reason)
{
	struct kvm_run *run = vcpu->run;

	pr_err_ratelimited("vcpu %u: VM entry failed, reason 0x%llx\n",
			   vcpu->vcpu_id, reason);
	mvm_dump_state_ratelimited(vcpu);
	run->exit_reason = KVM_EXIT_FAIL_ENTRY;
	run->fail_entry.hardware_entry_failure_reason = reason;
	run->fail_entry.cpu = raw_smp_processor_id();
	return 0;
}

/* ------------------------------------------------------------------ */
/* Port I/O                                                             */

/*
 * String I/O follows KVM's emulator so that KVM programs see the same
 * exits: OUTS hands one element per exit; INS reads ahead as many
 * elements as fit in the current page (and in 1 KiB) in one exit.  RIP
 * stays on the instruction until the last iteration completes.
 */
#define MVM_PIO_READAHEAD	1024

static u64 mvm_addr_mask(int addr_size)
{
	return addr_size == 8 ? ~0ULL : (1ULL << (addr_size * 8)) - 1;
}

static unsigned long mvm_seg_base(struct mvm_vcpu *vcpu, int seg)
{
	struct kvm_segment s;

	/* In 64-bit mode only FS and GS have a base (SDM 3.4.4). */
	if (mvm_is_64bit_mode(vcpu) && seg != VCPU_SREG_FS && seg != VCPU_SREG_GS)
		return 0;
	mvm_x86_ops->get_segment(vcpu, &s, seg);
	return s.base;
}

static void mvm_pio_exit(struct mvm_vcpu *vcpu, u32 count)
{
	struct kvm_run *run = vcpu->run;

	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = vcpu->arch.pio.in ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT;
	run->io.size = vcpu->arch.pio.size;
	run->io.port = vcpu->arch.pio.port;
	run->io.count = count;
	run->io.data_offset = KVM_PIO_PAGE_OFFSET * PAGE_SIZE;
	vcpu->arch.pio.count = count;
	vcpu->arch.pio.rip = mvm_rip_read(vcpu);
	vcpu->stat.io_exits++;
}

/*
 * Userspace may move RIP (KVM_SET_REGS) before the next KVM_RUN; then the
 * I/O instruction is abandoned and nothing is completed, as with KVM.
 */
static bool mvm_pio_abandoned(struct mvm_vcpu *vcpu)
{
	return mvm_rip_read(vcpu) != vcpu->arch.pio.rip;
}

static int mvm_complete_pio_out(struct mvm_vcpu *vcpu)
{
	if (mvm_pio_abandoned(vcpu))
		return 1;
	mvm_x86_ops->skip_instruction(vcpu);
	return 1;
}

static int mvm_complete_pio_in(struct mvm_vcpu *vcpu)
{
	int size = vcpu->arch.pio.size;
	unsigned long rax = 0;

	if (mvm_pio_abandoned(vcpu))
		return 1;
	/* A 32-bit IN zero-extends into RAX; narrower ones merge. */
	if (size < 4)
		rax = mvm_register_read(vcpu, MVM_REG_RAX);
	memcpy(&rax, vcpu->pio_data, size);
	mvm_register_write(vcpu, MVM_REG_RAX, rax);
	mvm_x86_ops->skip_instruction(vcpu);
	return 1;
}

/* Update RSI/RDI and RCX after @n string iterations; 1 when done. */
static bool mvm_string_advance(struct mvm_vcpu *vcpu, enum mvm_reg index_reg,
			       u32 n, int addr_size)
{
	struct mvm_pio *pio = &vcpu->arch.pio;
	u64 mask = mvm_addr_mask(addr_size);
	bool df = mvm_x86_ops->get_rflags(vcpu) & X86_EFLAGS_DF;
	u64 delta = (u64)n * pio->size;
	u64 val = mvm_register_read(vcpu, index_reg);
	u64 rcx;

	val = (val & ~mask) | ((df ? val - delta : val + delta) & mask);
	mvm_register_write(vcpu, index_reg, val);
	if (!pio->rep)
		return true;
	rcx = mvm_register_read(vcpu, MVM_REG_RCX);
	rcx = (rcx & ~mask) | (((rcx & mask) - n) & mask);
	mvm_register_write(vcpu, MVM_REG_RCX, rcx);
	return !(rcx & mask);
}

static int mvm_complete_string(struct mvm_vcpu *vcpu, enum mvm_reg index_reg)
{
	struct mvm_pio *pio = &vcpu->arch.pio;

	if (mvm_string_advance(vcpu, index_reg, pio->count, pio->addr_size))
		mvm_x86_ops->skip_instruction(vcpu);
	/* Otherwise RIP stays: the next entry re-executes the REP. */
	return 1;
}

static int mvm_complete_outs(struct mvm_vcpu *vcpu)
{
	if (mvm_pio_abandoned(vcpu))
		return 1;
	return mvm_complete_string(vcpu, MVM_REG_RSI);
}

static int mvm_complete_ins(struct mvm_vcpu *vcpu)
{
	struct mvm_pio *pio = &vcpu->arch.pio;
	bool df = mvm_x86_ops->get_rflags(vcpu) & X86_EFLAGS_DF;
	u64 linear = pio->linear;
	u32 pf_error, i;
	int r;

	if (mvm_pio_abandoned(vcpu))
		return 1;
	if (!df) {
		r = mvm_write_guest_virt(vcpu, linear, vcpu->pio_data,
					 pio->count * pio->size, MVM_ACC_WRITE,
					 &pf_error);
	} else {
		for (i = 0, r = 0; i < pio->count && !r; i++)
			r = mvm_write_guest_virt(vcpu, linear - i * pio->size,
						 vcpu->pio_data + i * pio->size,
						 pio->size, MVM_ACC_WRITE,
						 &pf_error);
	}
	if (r == -EFAULT) {
		mvm_inject_page_fault(vcpu, linear, pf_error);
		return 1;
	}
	if (r)
		return r;
	return mvm_complete_string(vcpu, MVM_REG_RDI);
}

int mvm_handle_pio(struct mvm_vcpu *vcpu, u16 port, int size, bool in,
		   bool string, bool rep, int addr_size, int seg)
{
	struct mvm_pio *pio = &vcpu->arch.pio;
	u64 mask, count = 1, linear, index;
	bool df;
	u32 pf_error;
	int r;

	pio->port = port;
	pio->size = size;
	pio->in = in;
	pio->string = string;
	pio->rep = rep;

	if (!string) {
		if (in) {
			vcpu->arch.complete_userspace_io = mvm_complete_pio_in;
		} else {
			unsigned long rax = mvm_register_read(vcpu, MVM_REG_RAX);

			memcpy(vcpu->pio_data, &rax, size);
			vcpu->arch.complete_userspace_io = mvm_complete_pio_out;
		}
		mvm_pio_exit(vcpu, 1);
		return 0;
	}

	/* Decoding and copying reach guest memory: host code (L1TF). */
	vcpu->arch.l1tf_flush_l1d = true;
	/* Trust the instruction's own prefixes over the exit information. */
	r = mvm_decode_string_io(vcpu, &rep, &addr_size, &seg);
	if (r)
		return r == -EFAULT ? 1 : 0;	/* #PF queued, or internal error */
	pio->rep = rep;

	mask = mvm_addr_mask(addr_size);
	if (rep) {
		count = mvm_register_read(vcpu, MVM_REG_RCX) & mask;
		if (!count) {
			/* REP with RCX = 0 does nothing. */
			mvm_x86_ops->skip_instruction(vcpu);
			return 1;
		}
	}
	df = mvm_x86_ops->get_rflags(vcpu) & X86_EFLAGS_DF;

	if (in) {
		/* INS: ES:rDI, no override (SDM vol. 2 INS). */
		u64 in_page;

		index = mvm_register_read(vcpu, MVM_REG_RDI) & mask;
		linear = mvm_seg_base(vcpu, VCPU_SREG_ES) + index;
		in_page = df ? offset_in_page(linear) + size :
			       PAGE_SIZE - offset_in_page(linear);
		count = min3(count, in_page / size,
			     (u64)MVM_PIO_READAHEAD / size);
		count = max_t(u64, count, 1);
		vcpu->arch.complete_userspace_io = mvm_complete_ins;
	} else {
		/* OUTS: seg:rSI, one element per exit. */
		index = mvm_register_read(vcpu, MVM_REG_RSI) & mask;
		linear = mvm_seg_base(vcpu, seg) + index;
		count = 1;
		r = mvm_read_guest_virt(vcpu, linear, vcpu->pio_data, size, 0,
					&pf_error);
		if (r == -EFAULT) {
			mvm_inject_page_fault(vcpu, linear, pf_error);
			return 1;
		}
		if (r)
			return r;
		vcpu->arch.complete_userspace_io = mvm_complete_outs;
	}
	if (!mvm_is_64bit_mode(vcpu))
		linear &= 0xffffffff;
	pio->linear = linear;
	pio->addr_size = addr_size;
	mvm_pio_exit(vcpu, count);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Nested page faults                                                   */

int mvm_handle_gpa_fault(struct mvm_vcpu *vcpu, gpa_t gpa, bool write,
			 bool fetch)
{
	struct mvm *mvm = vcpu->mvm;
	struct mvm_memory_slot *slot;
	int idx, r;

	idx = srcu_read_lock(&mvm->srcu);
	slot = mvm_gfn_to_memslot(mvm, gpa >> PAGE_SHIFT);
	if (slot && !(write && (slot->flags & KVM_MEM_READONLY))) {
		r = mvm_mmu_map_gfn(vcpu, slot, gpa >> PAGE_SHIFT, write);
		srcu_read_unlock(&mvm->srcu, idx);
		return r ? r : 1;
	}
	srcu_read_unlock(&mvm->srcu, idx);

	/*
	 * Emulation reads guest memory through the host: flush the L1D
	 * before the next entry (L1TF).  Mapping a page above does not, as
	 * in KVM, whose EPT-violation path does not ask for a flush either.
	 */
	vcpu->arch.l1tf_flush_l1d = true;
	if (fetch) {
		/* Code in MMIO space cannot be emulated. */
		vcpu->run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
		vcpu->run->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
		vcpu->run->internal.ndata = 0;
		return 0;
	}
	return mvm_emulate_mmio(vcpu, gpa, write);
}

/* ------------------------------------------------------------------ */
/* The run loop                                                         */

/* Context tracking and time accounting, as for a return to user mode. */
static __always_inline void mvm_guest_enter_irqoff(void)
{
	if (vtime_accounting_enabled_this_cpu())
		vtime_guest_enter(current);
	else
		current->flags |= PF_VCPU;

	/*
	 * Guest mode is an RCU quiescent state, like user mode: tell
	 * context tracking, or RCU directly when context tracking is off.
	 */
	if (!context_tracking_guest_enter())
		rcu_virt_note_context_switch(smp_processor_id());
}

static __always_inline void mvm_guest_exit_irqoff(void)
{
	context_tracking_guest_exit();
}

static __always_inline void mvm_guest_timing_exit_irqoff(void)
{
	if (vtime_accounting_enabled_this_cpu())
		vtime_guest_exit(current);
	else
		current->flags &= ~PF_VCPU;
}

/*
 * The guest enabled a breakpoint: its DR0-3 must be in the hardware while
 * it runs (DR7 comes from the VMCS/VMCB).  Host breakpoints are disarmed
 * first so that none fires on a guest address in the host.
 */
static void mvm_load_guest_drs(struct mvm_vcpu *vcpu)
{
	set_debugreg(0, 7);
	set_debugreg(vcpu->arch.db[0], 0);
	set_debugreg(vcpu->arch.db[1], 1);
	set_debugreg(vcpu->arch.db[2], 2);
	set_debugreg(vcpu->arch.db[3], 3);
}

static void mvm_put_guest_drs(void)
{
	if (hw_breakpoint_active())
		hw_breakpoint_restore();	/* DR0-3, DR6, DR7 */
	else
		set_debugreg(MVM_DR7_FIXED_1, 7);
}

/* Fill what kvm_run reports on every exit (post_kvm_run_save in KVM). */
static void mvm_post_run_save(struct mvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	run->if_flag = !!(mvm_x86_ops->get_rflags(vcpu) & X86_EFLAGS_IF);
	run->cr8 = vcpu->arch.cr8;
	run->apic_base = vcpu->arch.apic_base;
	run->ready_for_interrupt_injection = 0;
}

/* 1: keep going, 0: back to userspace, <0: error. */
static int mvm_vcpu_enter_guest(struct mvm_vcpu *vcpu)
{
	bool switch_xcr0, guest_drs;
	u32 host_pkru = 0;

	preempt_disable();
	local_irq_disable();

	smp_store_mb(vcpu->mode, MVM_IN_GUEST_MODE);
	if (unlikely(READ_ONCE(vcpu->requests))) {
		if (test_and_clear_bit(MVM_REQ_TLB_FLUSH, &vcpu->requests))
			mvm_x86_ops->flush_tlb(vcpu);
	}
	if (unlikely(mvm_entry_work_pending() || !mvm_hw_enabled_this_cpu())) {
		vcpu->mode = MVM_OUTSIDE_GUEST_MODE;
		local_irq_enable();
		preempt_enable();
		if (!mvm_hw_enabled_this_cpu())
			return -EIO;	/* the system is rebooting */
		return mvm_handle_entry_work(vcpu) ? -EINTR : 1;
	}

	if (vcpu->arch.exception_pending) {
		mvm_x86_ops->inject_exception(vcpu);
		vcpu->arch.exception_pending = false;
	}

	/*
	 * The guest's FPU registers were saved away if anything used the FPU
	 * since the last exit (a softirq's kernel_fpu_begin(), a context
	 * switch): put them back, or the guest runs on someone else's.
	 */
	if (test_thread_flag(TIF_NEED_FPU_LOAD))
		switch_fpu_return();

	switch_xcr0 = mvm_host_xcr0 && vcpu->arch.xcr0 != mvm_host_xcr0;
	if (switch_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, vcpu->arch.xcr0);
	if (unlikely(vcpu->arch.pkru_switched)) {
		host_pkru = rdpkru();
		if (vcpu->arch.pkru != host_pkru)
			wrpkru(vcpu->arch.pkru);
	}
	guest_drs = vcpu->arch.dr7 & MVM_DR7_BP_ENABLED;
	if (unlikely(guest_drs))
		mvm_load_guest_drs(vcpu);

	trace_mvm_entry(vcpu);
	mvm_guest_enter_irqoff();
	mvm_x86_ops->vcpu_run(vcpu);
	mvm_guest_exit_irqoff();

	/*
	 * Before interrupts: nothing of the host may run with the guest's
	 * PKRU, breakpoints or XCR0.  A VM exit disables the host's
	 * breakpoints (DR7 = 0x400): re-arm them.
	 */
	if (unlikely(guest_drs || hw_breakpoint_active()))
		mvm_put_guest_drs();
	if (unlikely(vcpu->arch.pkru_switched)) {
		vcpu->arch.pkru = rdpkru();
		if (vcpu->arch.pkru != host_pkru)
			wrpkru(host_pkru);
	}
	if (switch_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, mvm_host_xcr0);
	/* VMSCAPE: the VMM must not run on predictions the guest trained. */
	if (cpu_feature_enabled(X86_FEATURE_IBPB_EXIT_TO_USER))
		this_cpu_write(x86_ibpb_exit_to_user, true);
	vcpu->mode = MVM_OUTSIDE_GUEST_MODE;

	/*
	 * Let the host take the interrupt or NMI that made the guest exit,
	 * still accounting the time as guest time, as KVM does.
	 */
	local_irq_enable();
	vcpu->stat.exits++;
	local_irq_disable();
	mvm_guest_timing_exit_irqoff();
	local_irq_enable();
	preempt_enable();

	return mvm_x86_ops->handle_exit(vcpu);
}

int mvm_arch_vcpu_run(struct mvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	int r;

	mvm_vcpu_load(vcpu);
	fpu_swap_kvm_fpstate(&vcpu->arch.guest_fpu, true);
	run->flags = 0;

	/* Finish the PIO/MMIO userspace just served, then honour immediate_exit. */
	if (vcpu->arch.complete_userspace_io) {
		int (*complete)(struct mvm_vcpu *) = vcpu->arch.complete_userspace_io;

		vcpu->arch.complete_userspace_io = NULL;
		r = complete(vcpu);
		if (r <= 0)
			goto out;
	}
	if (READ_ONCE(run->immediate_exit)) {
		r = -EINTR;
		goto out;
	}

	vcpu->arch.ran_once = true;
	do {
		r = mvm_vcpu_enter_guest(vcpu);
	} while (r > 0);

out:
	mvm_post_run_save(vcpu);
	fpu_swap_kvm_fpstate(&vcpu->arch.guest_fpu, false);
	mvm_vcpu_put(vcpu);
	return r;
}
