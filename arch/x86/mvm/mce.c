// SPDX-License-Identifier: GPL-2.0
/*
 * Machine-check architecture for the guest: the global MCG_* MSRs and the
 * banks' MCi_CTL/STATUS/ADDR/MISC (SDM vol. 3B ch. 16, "Machine-Check
 * Architecture"; APM vol. 2 ch. 9), with KVM's ABI: the VMM reads what
 * may be offered (KVM_X86_GET_MCE_CAP_SUPPORTED), chooses MCG_CAP with
 * KVM_X86_SETUP_MCE, and reports an error to the guest with
 * KVM_X86_SET_MCE, which fills a bank and raises #MC.
 *
 * No real machine check of the host ever reaches these banks: they are
 * storage the guest and the VMM see.  Unmodified QEMU needs them: it
 * always shows MCE and MCA in CPUID and saves and restores every bank.
 */
#include <linux/nospec.h>
#include <linux/uaccess.h>
#include <asm/mce.h>
#include <asm/msr-index.h>
#include "x86.h"

/*
 * What a VMM may put in MCG_CAP besides the bank count: MCG_CTL and
 * software error recovery.  No CMCI, LMCE or extended registers: each
 * needs state mvm does not emulate (an APIC LVT, feature control).  As
 * KVM's, the value KVM_X86_GET_MCE_CAP_SUPPORTED reports has no bank
 * count: the maximum is KVM_CAP_MCE's.
 */
#define MVM_MCE_CAP_SUPPORTED	(MCG_CTL_P | MCG_SER_P)

static unsigned int mvm_mce_banks(struct mvm_vcpu *vcpu)
{
	return vcpu->arch.mcg_cap & MCG_BANKCNT_MASK;
}

/* KVM_X86_GET_MCE_CAP_SUPPORTED on /dev/kvm. */
long mvm_dev_get_mce_cap_supported(u64 __user *ucap)
{
	u64 cap = MVM_MCE_CAP_SUPPORTED;

	return copy_to_user(ucap, &cap, sizeof(cap)) ? -EFAULT : 0;
}

/*
 * At vCPU creation, as KVM's kvm_arch_vcpu_create(): MCG_CAP says the
 * most banks, all disabled and empty, until KVM_X86_SETUP_MCE.
 */
void mvm_mce_vcpu_reset(struct mvm_vcpu *vcpu)
{
	vcpu->arch.mcg_cap = MVM_MAX_MCE_BANKS;
	vcpu->arch.mcg_status = 0;
	vcpu->arch.mcg_ctl = 0;
	memset(vcpu->arch.mce_banks, 0, sizeof(vcpu->arch.mce_banks));
}

/* KVM_X86_SETUP_MCE: KVM's checks and initial values. */
long mvm_vcpu_setup_mce(struct mvm_vcpu *vcpu, u64 __user *ucap)
{
	unsigned int bank, nr_banks;
	u64 cap;

	if (copy_from_user(&cap, ucap, sizeof(cap)))
		return -EFAULT;
	nr_banks = cap & MCG_BANKCNT_MASK;
	if (!nr_banks || nr_banks > MVM_MAX_MCE_BANKS)
		return -EINVAL;
	/* Bits 23:16 (MCG_EXT_CNT) are accepted as KVM does. */
	if (cap & ~(MVM_MCE_CAP_SUPPORTED | 0xffULL | 0xff0000ULL))
		return -EINVAL;

	/*
	 * AMD reserves MCG_CAP bits 63:9 (APM vol. 2, "Machine-Check
	 * Global-Capabilities Register"): KVM's SVM drops them after the
	 * checks above, and so do we.
	 */
	if (mvm_vendor_is_svm())
		cap &= 0x1ff;
	vcpu->arch.mcg_cap = cap;
	/* Everything enabled, as firmware leaves it (SDM 16.3.1.3, 16.3.2.1). */
	if (cap & MCG_CTL_P)
		vcpu->arch.mcg_ctl = ~0ULL;
	for (bank = 0; bank < nr_banks; bank++)
		vcpu->arch.mce_banks[bank * 4] = ~0ULL;
	return 0;
}

/*
 * An uncorrected error that needs no action (UCNA, SDM vol. 3B 16.10.3,
 * 16.9.3.3): no machine check in progress, not signalled as a machine
 * check, no corrupted context, no action required.
 */
static bool mvm_mce_is_ucna(const struct kvm_x86_mce *mce)
{
	return !mce->mcg_status &&
	       (mce->status & (MCI_STATUS_VAL | MCI_STATUS_UC)) ==
			(MCI_STATUS_VAL | MCI_STATUS_UC) &&
	       !(mce->status & (MCI_STATUS_PCC | MCI_STATUS_S | MCI_STATUS_AR));
}

/*
 * KVM_X86_SET_MCE: an error in @mce.bank, as kvm_vcpu_ioctl_x86_set_mce()
 * does.  An uncorrected error raises #MC unless reporting is disabled;
 * one while the guest is still handling the last (MCG_STATUS.MCIP) or
 * with CR4.MCE clear shuts the processor down (SDM vol. 3B 16.3.1.2,
 * MCIP; vol. 3A 6.15, interrupt 18, CR4.MCE clear).
 */
long mvm_vcpu_set_mce(struct mvm_vcpu *vcpu, struct kvm_x86_mce __user *umce)
{
	struct kvm_x86_mce mce;
	u64 *bank;

	if (copy_from_user(&mce, umce, sizeof(mce)))
		return -EFAULT;
	if (mce.bank >= mvm_mce_banks(vcpu) || !(mce.status & MCI_STATUS_VAL))
		return -EINVAL;
	bank = &vcpu->arch.mce_banks[array_index_nospec(mce.bank,
							 mvm_mce_banks(vcpu)) * 4];

	if (mvm_mce_is_ucna(&mce)) {
		/*
		 * Uncorrected, no action required: no #MC (SDM vol. 3B
		 * 16.10.3, UCNA is signalled by CMCI, which mvm does not
		 * offer), the bank is filled as it is, as KVM does.
		 */
		bank[1] = mce.status;
		bank[2] = mce.addr;
		bank[3] = mce.misc;
		vcpu->arch.mcg_status = mce.mcg_status;
		return 0;
	}

	if (mce.status & MCI_STATUS_UC) {
		/* Reporting of uncorrected errors disabled: dropped. */
		if ((vcpu->arch.mcg_cap & MCG_CTL_P) &&
		    vcpu->arch.mcg_ctl != ~0ULL)
			return 0;
		if (bank[0] != ~0ULL)
			return 0;
		if ((vcpu->arch.mcg_status & MCG_STATUS_MCIP) ||
		    !(mvm_x86_ops->get_cr(vcpu, 4) & X86_CR4_MCE)) {
			set_bit(MVM_REQ_TRIPLE_FAULT, &vcpu->requests);
			return 0;
		}
		if (bank[1] & MCI_STATUS_VAL)
			mce.status |= MCI_STATUS_OVER;
		vcpu->arch.mcg_status = mce.mcg_status;
		bank[1] = mce.status;
		bank[2] = mce.addr;
		bank[3] = mce.misc;
		mvm_queue_exception(vcpu, MC_VECTOR, false, 0);
	} else if (!(bank[1] & MCI_STATUS_VAL) || !(bank[1] & MCI_STATUS_UC)) {
		/* A corrected error does not overwrite an uncorrected one. */
		if (bank[1] & MCI_STATUS_VAL)
			mce.status |= MCI_STATUS_OVER;
		bank[1] = mce.status;
		bank[2] = mce.addr;
		bank[3] = mce.misc;
	} else {
		bank[1] |= MCI_STATUS_OVER;
	}
	return 0;
}

/* The guest's CPUID vendor is AMD's or Hygon's (KVM's test, leaf 0). */
static bool mvm_guest_cpuid_is_amd(struct mvm_vcpu *vcpu)
{
	struct kvm_cpuid_entry2 *e = mvm_find_cpuid_entry(vcpu, 0, 0);

	/* "AuthenticAMD" and "HygonGenuine" in EBX, EDX, ECX. */
	return e && ((e->ebx == 0x68747541 && e->edx == 0x69746e65 &&
		      e->ecx == 0x444d4163) ||
		     (e->ebx == 0x6f677948 && e->edx == 0x6e65476e &&
		      e->ecx == 0x656e6975));
}

bool mvm_is_mce_msr(u32 index)
{
	return index == MSR_IA32_MCG_CAP || index == MSR_IA32_MCG_STATUS ||
	       index == MSR_IA32_MCG_CTL || index == MSR_IA32_P5_MC_ADDR ||
	       index == MSR_IA32_P5_MC_TYPE ||
	       (index >= MSR_IA32_MC0_CTL &&
		index < MSR_IA32_MCx_CTL(MVM_MAX_MCE_BANKS));
}

/* The offset of a bank MSR in mce_banks[], or -1 past the banks set up. */
static int mvm_mce_bank_offset(struct mvm_vcpu *vcpu, u32 index)
{
	unsigned int nr = mvm_mce_banks(vcpu) * 4;
	unsigned int offset = index - MSR_IA32_MC0_CTL;

	if (offset >= nr)
		return -1;
	return array_index_nospec(offset, nr);
}

/* 0, or 1 to fault (#GP for the guest, stop KVM_GET_MSRS for the host). */
int mvm_get_mce_msr(struct mvm_vcpu *vcpu, u32 index, u64 *data, bool host)
{
	int offset;

	switch (index) {
	case MSR_IA32_P5_MC_ADDR:
	case MSR_IA32_P5_MC_TYPE:
		*data = 0;
		return 0;
	case MSR_IA32_MCG_CAP:
		*data = vcpu->arch.mcg_cap;
		return 0;
	case MSR_IA32_MCG_STATUS:
		*data = vcpu->arch.mcg_status;
		return 0;
	case MSR_IA32_MCG_CTL:
		/* Exists only with MCG_CTL_P; the host may read it anyway. */
		if (!(vcpu->arch.mcg_cap & MCG_CTL_P) && !host)
			return 1;
		*data = vcpu->arch.mcg_ctl;
		return 0;
	}
	offset = mvm_mce_bank_offset(vcpu, index);
	if (offset < 0)
		return 1;
	*data = vcpu->arch.mce_banks[offset];
	return 0;
}

int mvm_set_mce_msr(struct mvm_vcpu *vcpu, u32 index, u64 data, bool host)
{
	int offset;

	switch (index) {
	case MSR_IA32_P5_MC_ADDR:
	case MSR_IA32_P5_MC_TYPE:
	case MSR_IA32_MCG_CAP:		/* read-only; KVM_X86_SETUP_MCE sets it */
		return 1;
	case MSR_IA32_MCG_STATUS:
		vcpu->arch.mcg_status = data;
		return 0;
	case MSR_IA32_MCG_CTL:
		if (!(vcpu->arch.mcg_cap & MCG_CTL_P) && (data || !host))
			return 1;
		/* SDM 16.3.1.3: all ones or all zeros. */
		if (data && data != ~0ULL)
			return 1;
		vcpu->arch.mcg_ctl = data;
		return 0;
	}
	offset = mvm_mce_bank_offset(vcpu, index);
	if (offset < 0)
		return 1;
	switch (offset & 3) {
	case 0:
		/*
		 * MCi_CTL: all ones or zero (SDM 16.3.2.1), but as KVM also
		 * all ones but bit 10 (Linux's AMD K8 GART erratum workaround)
		 * and bit 0 (UnixWare ignoring corrected ECC errors).
		 */
		if (data && (data | BIT_ULL(10) | BIT_ULL(0)) != ~0ULL)
			return 1;
		break;
	case 1:
		/*
		 * MCi_STATUS: a guest may only clear it, except on AMD with
		 * HWCR.McStatusWrEn set (APM vol. 2 9.3.1).
		 */
		if (!host && data &&
		    !(mvm_guest_cpuid_is_amd(vcpu) &&
		      (vcpu->arch.hwcr & BIT_ULL(18))))
			return 1;
		break;
	}
	vcpu->arch.mce_banks[offset] = data;
	return 0;
}
