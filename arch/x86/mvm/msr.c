// SPDX-License-Identifier: GPL-2.0
/*
 * MSRs: RDMSR/WRMSR exits and KVM_GET_MSRS / KVM_SET_MSRS.  The rules
 * that are not Intel's or AMD's are here; MSRs whose state lives in the
 * VMCS/VMCB go to the vendor's get_msr/set_msr ops.
 */
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/msr-index.h>
#include "x86.h"

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

bool mvm_valid_apic_base(u64 data)
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
	case MSR_IA32_TSC:
		*data = rdtsc() + mvm_x86_ops->get_tsc_offset(vcpu);
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

	switch (index) {
	case MSR_EFER:
		return mvm_set_efer(vcpu, data, host);
	case MSR_IA32_TSC:
		mvm_x86_ops->set_tsc_offset(vcpu, data - rdtsc());
		return 0;
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

long mvm_dev_get_msr_index_list(struct kvm_msr_list __user *ulist)
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

/* KVM_GET_MSRS / KVM_SET_MSRS: how many entries were processed. */
long mvm_vcpu_msr_io(struct mvm_vcpu *vcpu, struct kvm_msrs __user *umsrs,
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
