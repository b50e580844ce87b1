// SPDX-License-Identifier: GPL-2.0
/*
 * MSRs: RDMSR/WRMSR exits and KVM_GET_MSRS / KVM_SET_MSRS.  The rules
 * that are not Intel's or AMD's are here; MSRs whose state lives in the
 * VMCS/VMCB go to the vendor's get_msr/set_msr ops.
 */
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/apicdef.h>
#include <asm/msr-index.h>
#include <asm/cpufeature.h>
#include <asm/svm.h>
#include <asm/kvm_para.h>
#include "x86.h"
#include "irq.h"

#define MVM_MAX_IO_MSRS		256

/*
 * KVM_GET_MSR_INDEX_LIST: what KVM_GET/SET_MSRS save and restore.  Every
 * one of them reads and writes back from the host, whatever the guest's
 * CPUID (QEMU checks that KVM_SET_MSRS takes them all).
 */
static const u32 mvm_msrs_to_save[] = {
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	MSR_STAR, MSR_CSTAR, MSR_KERNEL_GS_BASE, MSR_SYSCALL_MASK, MSR_LSTAR,
	MSR_IA32_TSC, MSR_IA32_CR_PAT, MSR_IA32_MISC_ENABLE, MSR_EFER,
	MSR_IA32_APICBASE, MSR_IA32_TSC_ADJUST, MSR_IA32_ARCH_CAPABILITIES,
	MSR_IA32_UCODE_REV, MSR_IA32_MCG_STATUS, MSR_IA32_MCG_CTL,
	MSR_KVM_WALL_CLOCK, MSR_KVM_SYSTEM_TIME, MSR_KVM_WALL_CLOCK_NEW,
	MSR_KVM_SYSTEM_TIME_NEW, MSR_IA32_TSC_DEADLINE,
};

/*
 * KVM_GET_MSR_FEATURE_INDEX_LIST: MSRs that describe what a guest may be
 * told, read on /dev/kvm with KVM_GET_MSRS.  DE_CFG is AMD's only.
 */
static const u32 mvm_feature_msrs[] = {
	MSR_IA32_ARCH_CAPABILITIES, MSR_IA32_UCODE_REV, MSR_AMD64_DE_CFG,
};

/* MISC_ENABLE bits a guest may not change (KVM's PMU_RO_MASK). */
#define MVM_MISC_ENABLE_RO	(MSR_IA32_MISC_ENABLE_PEBS_UNAVAIL | \
				 MSR_IA32_MISC_ENABLE_BTS_UNAVAIL)

/* ARCH_CAPABILITIES bits passed on from the host as they are. */
#define MVM_ARCH_CAP_FROM_HOST	(ARCH_CAP_RDCL_NO | ARCH_CAP_RSBA | \
	ARCH_CAP_SSB_NO | ARCH_CAP_MDS_NO | ARCH_CAP_PSCHANGE_MC_NO | \
	ARCH_CAP_TAA_NO | ARCH_CAP_SBDR_SSDP_NO | ARCH_CAP_FBSDP_NO | \
	ARCH_CAP_PSDP_NO | ARCH_CAP_FB_CLEAR | ARCH_CAP_RRSBA | \
	ARCH_CAP_BHI_NO | ARCH_CAP_PBRSB_NO | ARCH_CAP_GDS_NO | \
	ARCH_CAP_RFDS_NO | ARCH_CAP_ITS_NO)

/*
 * IA32_ARCH_CAPABILITIES for guests: the "not affected" bits the host
 * has, or that follow from the kernel's own findings (as KVM's
 * kvm_get_arch_capabilities()).  Nothing that needs an MSR mvm does not
 * emulate (TSX_CTRL, IBRS_ALL without SPEC_CTRL) and no VMX hints.
 */
static u64 mvm_arch_capabilities(void)
{
	u64 data = 0;

	if (boot_cpu_has(X86_FEATURE_ARCH_CAPABILITIES)) {
		rdmsrl(MSR_IA32_ARCH_CAPABILITIES, data);
		data &= MVM_ARCH_CAP_FROM_HOST;
	}
	if (!boot_cpu_has_bug(X86_BUG_CPU_MELTDOWN))
		data |= ARCH_CAP_RDCL_NO;
	if (!boot_cpu_has_bug(X86_BUG_SPEC_STORE_BYPASS))
		data |= ARCH_CAP_SSB_NO;
	if (!boot_cpu_has_bug(X86_BUG_MDS))
		data |= ARCH_CAP_MDS_NO;
	if (!boot_cpu_has_bug(X86_BUG_RFDS))
		data |= ARCH_CAP_RFDS_NO;
	if (!boot_cpu_has_bug(X86_BUG_ITS))
		data |= ARCH_CAP_ITS_NO;
	if (!boot_cpu_has_bug(X86_BUG_GDS))
		data |= ARCH_CAP_GDS_NO;
	/* mvm offers no RTM: the guest cannot be exposed to TAA. */
	data &= ~ARCH_CAP_TAA_NO;
	return data;
}

/* AMD DE_CFG: only LFENCE_SERIALIZE, when the host has it set. */
static u64 mvm_de_cfg(void)
{
	return boot_cpu_has(X86_FEATURE_LFENCE_RDTSC) ?
	       MSR_AMD64_DE_CFG_LFENCE_SERIALIZE : 0;
}

/* A feature MSR's value (KVM_GET_MSRS on /dev/kvm): 0, or 1 if none. */
static int mvm_get_feature_msr(u32 index, u64 *data)
{
	switch (index) {
	case MSR_IA32_ARCH_CAPABILITIES:
		*data = mvm_arch_capabilities();
		return 0;
	case MSR_IA32_UCODE_REV:
		*data = 0;
		rdmsrl_safe(MSR_IA32_UCODE_REV, data);
		return 0;
	case MSR_AMD64_DE_CFG:
		if (!mvm_vendor_is_svm())
			return 1;
		*data = mvm_de_cfg();
		return 0;
	default:
		return 1;
	}
}

/* The MSRs' values when a vCPU is created (KVM's kvm_arch_vcpu_create()). */
void mvm_msr_vcpu_init(struct mvm_vcpu *vcpu)
{
	/* KVM's: a revision Linux accepts on each vendor's CPUs. */
	vcpu->arch.ucode_rev = mvm_vendor_is_svm() ? 0x01000065 : 0x100000000ULL;
	vcpu->arch.arch_capabilities = mvm_arch_capabilities();
	vcpu->arch.de_cfg = 0;
	vcpu->arch.hwcr = 0;
	vcpu->arch.vm_cr = 0;
	mvm_mce_vcpu_reset(vcpu);
	vcpu->arch.kvmclock_system_time = 0;
}

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

/*
 * Reserved bits: above MAXPHYADDR, 7:0 and 9, and x2APIC enable unless
 * the guest's CPUID offers x2APIC (KVM's kvm_set_apic_base()); x2APIC
 * mode without the global enable is invalid (SDM 10.12.5).
 */
bool mvm_valid_apic_base(struct mvm_vcpu *vcpu, u64 data)
{
	u64 reserved = GENMASK_ULL(63, boot_cpu_data.x86_phys_bits) | 0x2ff;

	if (!mvm_guest_cpuid_has(vcpu, 1, 2, 21))
		reserved |= X2APIC_ENABLE;
	if (data & reserved)
		return false;
	return !((data & X2APIC_ENABLE) && !(data & MSR_IA32_APICBASE_ENABLE));
}

/*
 * The guest may not go from x2APIC to xAPIC mode, nor from disabled to
 * x2APIC, in one write (SDM 10.12.5 figure 10-27); the host may.
 */
int mvm_set_apic_base(struct mvm_vcpu *vcpu, u64 data, bool host)
{
	u64 old = vcpu->arch.apic_base;
	u64 modes = MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE;

	if (!mvm_valid_apic_base(vcpu, data))
		return 1;
	if (!host) {
		if ((old & modes) == modes &&
		    (data & modes) == MSR_IA32_APICBASE_ENABLE)
			return 1;
		if (!(old & modes) && (data & modes) == modes)
			return 1;
	}
	mvm_lapic_set_base(vcpu, data);
	return 0;
}

/*
 * MSRs a guest may read as 0 and whose writes are dropped (or, for some,
 * must be 0), as KVM does: model-specific MSRs Linux touches on some
 * CPUs, harmless to fake.
 */
static bool mvm_msr_reads_zero(u32 index)
{
	switch (index) {
	case MSR_IA32_PLATFORM_ID:
	case MSR_IA32_EBL_CR_POWERON:
	case MSR_AMD64_SYSCFG:
	case MSR_K8_TSEG_ADDR:
	case MSR_K8_TSEG_MASK:
	case MSR_VM_HSAVE_PA:
	case MSR_K8_INT_PENDING_MSG:
	case MSR_AMD64_NB_CFG:
	case MSR_FAM10H_MMIO_CONF_BASE:
	case MSR_AMD64_BU_CFG2:
	case MSR_IA32_PERF_CTL:
	case MSR_AMD64_DC_CFG:
	case MSR_AMD64_TW_CFG:
	case MSR_F15H_EX_CFG:
		return true;
	default:
		return false;
	}
}

/* 0 on success, 1 to fault (#GP for the guest, stop for the host). */
static int mvm_get_msr(struct mvm_vcpu *vcpu, u32 index, u64 *data,
		       bool host)
{
	struct mvm_vcpu_arch *arch = &vcpu->arch;

	if (!mvm_x86_ops->get_msr(vcpu, index, data))
		return 0;
	if (mvm_is_lapic_msr(vcpu, index))
		return mvm_lapic_get_msr(vcpu, index, data);
	if (mvm_is_mtrr_msr(index))
		return mvm_get_mtrr(vcpu, index, data);
	if (mvm_is_mce_msr(index))
		return mvm_get_mce_msr(vcpu, index, data, host);
	if (mvm_is_kvmclock_msr(index))
		return mvm_get_kvmclock_msr(vcpu, index, data);
	if (mvm_msr_reads_zero(index)) {
		*data = 0;
		return 0;
	}

	switch (index) {
	case MSR_EFER:
		*data = mvm_x86_ops->get_efer(vcpu);
		return 0;
	case MSR_IA32_TSC:
		*data = mvm_read_guest_tsc(vcpu);
		return 0;
	case MSR_IA32_TSC_ADJUST:
		*data = arch->tsc_adjust;
		return 0;
	case MSR_IA32_APICBASE:
		*data = arch->apic_base;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		*data = arch->misc_enable;
		return 0;
	case MSR_IA32_UCODE_REV:
		*data = arch->ucode_rev;
		return 0;
	case MSR_IA32_ARCH_CAPABILITIES:
		if (!host && !mvm_guest_cpuid_has(vcpu, 7, 3, 29))
			return 1;
		*data = arch->arch_capabilities;
		return 0;
	case MSR_K7_HWCR:
		*data = arch->hwcr;
		return 0;
	case MSR_VM_CR:
		if (!mvm_vendor_is_svm())
			return 1;
		*data = arch->vm_cr;
		return 0;
	case MSR_AMD64_DE_CFG:
		if (!mvm_vendor_is_svm())
			return 1;
		*data = arch->de_cfg;
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

/* PAT entries must be valid memory types (SDM 11.12.2; APM 7.8.1). */
static bool mvm_valid_pat(u64 pat)
{
	int i;

	for (i = 0; i < 8; i++) {
		u8 t = pat >> (i * 8);

		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

static int mvm_set_msr(struct mvm_vcpu *vcpu, u32 index, u64 data, bool host)
{
	/*
	 * Addresses in MSRs and the PAT's memory types, checked here once for
	 * both vendors and for guest (#GP) and host (KVM_SET_MSRS stops)
	 * writes alike, as KVM's __kvm_set_msr() does.  A non-canonical base or SYSCALL target
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
	case MSR_IA32_CR_PAT:
		if (!mvm_valid_pat(data))
			return 1;
		break;
	}

	if (mvm_is_lapic_msr(vcpu, index))
		return mvm_lapic_set_msr(vcpu, index, data, host);
	if (mvm_is_mtrr_msr(index))
		return mvm_set_mtrr(vcpu, index, data);
	if (mvm_is_mce_msr(index))
		return mvm_set_mce_msr(vcpu, index, data, host);
	if (mvm_is_kvmclock_msr(index))
		return mvm_set_kvmclock_msr(vcpu, index, data);

	switch (index) {
	case MSR_EFER:
		return mvm_set_efer(vcpu, data, host);
	case MSR_IA32_TSC:
		if (host)
			mvm_tsc_synchronize(vcpu, data);
		else
			mvm_guest_write_tsc(vcpu, data);
		return 0;
	case MSR_IA32_TSC_ADJUST:
		mvm_set_tsc_adjust(vcpu, data, host);
		return 0;
	case MSR_IA32_APICBASE:
		return mvm_set_apic_base(vcpu, data, host);
	case MSR_IA32_MISC_ENABLE:
		if (!host) {
			u64 old = vcpu->arch.misc_enable;

			/* PEBS/BTS_UNAVAIL are read-only, EMON ignores writes. */
			if ((old ^ data) & MVM_MISC_ENABLE_RO)
				return 1;
			data = (data & ~MSR_IA32_MISC_ENABLE_EMON) |
			       (old & MSR_IA32_MISC_ENABLE_EMON);
		}
		vcpu->arch.misc_enable = data;
		return 0;
	case MSR_IA32_UCODE_REV:
		/* The host sets the revision; a guest's write loads nothing. */
		if (host)
			vcpu->arch.ucode_rev = data;
		return 0;
	case MSR_IA32_ARCH_CAPABILITIES:
		if (!host)
			return 1;
		vcpu->arch.arch_capabilities = data;
		return 0;
	case MSR_IA32_UCODE_WRITE:
	case MSR_VM_HSAVE_PA:
	case MSR_AMD64_PATCH_LOADER:
	case MSR_AMD64_NB_CFG:
	case MSR_AMD64_BU_CFG2:
	case MSR_AMD64_DC_CFG:
	case MSR_AMD64_TW_CFG:
	case MSR_F15H_EX_CFG:
		/* Accepted and dropped, as KVM does. */
		return 0;
	case MSR_FAM10H_MMIO_CONF_BASE:
		return data ? 1 : 0;
	case MSR_K7_HWCR:
		/*
		 * As KVM: flush filter, IGNNE and TLB cache disable are
		 * ignored; McStatusWrEn (bit 18) is the only bit kept.
		 */
		data &= ~(u64)(BIT(3) | BIT(6) | BIT(8));
		if (data && data != BIT_ULL(18))
			return 1;
		vcpu->arch.hwcr = data;
		return 0;
	case MSR_VM_CR: {
		u64 mask = SVM_VM_CR_VALID_MASK;

		if (!mvm_vendor_is_svm() || (data & ~SVM_VM_CR_VALID_MASK))
			return 1;
		/* APM 15.30.1: once SVMDIS is set, LOCK and SVMDIS stick. */
		if (vcpu->arch.vm_cr & SVM_VM_CR_SVM_DIS_MASK)
			mask &= ~(SVM_VM_CR_SVM_LOCK_MASK | SVM_VM_CR_SVM_DIS_MASK);
		vcpu->arch.vm_cr = (vcpu->arch.vm_cr & ~mask) | (data & mask);
		return 0;
	}
	case MSR_AMD64_DE_CFG:
		/* Only bits the host offers; the guest may not change any. */
		if (!mvm_vendor_is_svm() || (data & ~mvm_de_cfg()) ||
		    (!host && data != mvm_de_cfg()))
			return 1;
		vcpu->arch.de_cfg = data;
		return 0;
	default:
		return mvm_x86_ops->set_msr(vcpu, index, data, host);
	}
}

int mvm_emulate_rdmsr(struct mvm_vcpu *vcpu)
{
	u32 index = mvm_register_read(vcpu, MVM_REG_RCX);
	u64 data;

	if (mvm_get_msr(vcpu, index, &data, false)) {
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

static long mvm_copy_msr_list(struct kvm_msr_list __user *ulist,
			      const u32 *indices, u32 n)
{
	struct kvm_msr_list list;
	u32 room;

	if (copy_from_user(&list, ulist, sizeof(list)))
		return -EFAULT;
	room = list.nmsrs;
	list.nmsrs = n;
	if (copy_to_user(ulist, &list, sizeof(list)))
		return -EFAULT;
	if (room < n)
		return -E2BIG;
	if (copy_to_user(ulist->indices, indices, n * sizeof(u32)))
		return -EFAULT;
	return 0;
}

long mvm_dev_get_msr_index_list(struct kvm_msr_list __user *ulist)
{
	return mvm_copy_msr_list(ulist, mvm_msrs_to_save,
				 ARRAY_SIZE(mvm_msrs_to_save));
}

long mvm_dev_get_feature_msr_index_list(struct kvm_msr_list __user *ulist)
{
	/* DE_CFG, last in the table, is AMD's only. */
	return mvm_copy_msr_list(ulist, mvm_feature_msrs,
				 ARRAY_SIZE(mvm_feature_msrs) -
				 !mvm_vendor_is_svm());
}

/*
 * One KVM_GET_MSRS / KVM_SET_MSRS: @do_msr on each entry in turn until
 * one fails; returns how many were processed (KVM's msr_io()).  @vcpu is
 * NULL for the feature MSRs of /dev/kvm.
 */
static long mvm_msr_io(struct mvm_vcpu *vcpu, struct kvm_msrs __user *umsrs,
		       int (*do_msr)(struct mvm_vcpu *vcpu,
				     struct kvm_msr_entry *e),
		       bool writeback)
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

	for (i = 0; i < msrs.nmsrs; i++)
		if (do_msr(vcpu, &entries[i]))
			break;
	r = i;
	if (writeback && copy_to_user(umsrs->entries, entries,
				      msrs.nmsrs * sizeof(*entries)))
		r = -EFAULT;
	kfree(entries);
	return r;
}

static int mvm_do_get_feature_msr(struct mvm_vcpu *vcpu,
				  struct kvm_msr_entry *e)
{
	return mvm_get_feature_msr(e->index, &e->data);
}

static int mvm_do_get_msr(struct mvm_vcpu *vcpu, struct kvm_msr_entry *e)
{
	return mvm_get_msr(vcpu, e->index, &e->data, true);
}

static int mvm_do_set_msr(struct mvm_vcpu *vcpu, struct kvm_msr_entry *e)
{
	return mvm_set_msr(vcpu, e->index, e->data, true);
}

/* KVM_GET_MSRS on /dev/kvm: how many feature MSRs were read. */
long mvm_dev_get_feature_msrs(struct kvm_msrs __user *umsrs)
{
	return mvm_msr_io(NULL, umsrs, mvm_do_get_feature_msr, true);
}

/* KVM_GET_MSRS / KVM_SET_MSRS: how many entries were processed. */
long mvm_vcpu_msr_io(struct mvm_vcpu *vcpu, struct kvm_msrs __user *umsrs,
		     bool set)
{
	return set ? mvm_msr_io(vcpu, umsrs, mvm_do_set_msr, false) :
		     mvm_msr_io(vcpu, umsrs, mvm_do_get_msr, true);
}
