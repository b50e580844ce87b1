// SPDX-License-Identifier: GPL-2.0
/*
 * Control, debug and extended control registers: the intercepted MOV to
 * CR4/CR8, MOV to/from DR0-DR7, the #DB reflected into the guest, and
 * XSETBV.  Which bits a guest may set depends on what the host can give
 * it and on its own CPUID.
 */
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>
#include "x86.h"
#include "irq.h"

int mvm_emulate_xsetbv(struct mvm_vcpu *vcpu)
{
	u32 index = mvm_register_read(vcpu, MVM_REG_RCX);
	u64 xcr0 = (mvm_register_read(vcpu, MVM_REG_RDX) << 32) |
		   (u32)mvm_register_read(vcpu, MVM_REG_RAX);

	/*
	 * SDM vol. 2 XSETBV and 13.3: what makes a write to XCR0 fault; as
	 * KVM, only components the guest's CPUID offers may be enabled.
	 */
	if (mvm_get_cpl(vcpu) != 0 || index != XCR_XFEATURE_ENABLED_MASK ||
	    !mvm_valid_xcr0(vcpu, xcr0)) {
		mvm_inject_gp(vcpu, 0);
		return 1;
	}
	vcpu->arch.xcr0 = xcr0;
	mvm_x86_ops->skip_instruction(vcpu);
	return 1;
}

/* CR4 bits a guest may set (SDM 2.5), given what CPUID can expose. */
u64 mvm_cr4_reserved_bits(void)
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

/* ------------------------------------------------------------------ */
/* Control and debug registers                                          */


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

/*
 * Every CR0 write from mvm: turning paging on with EFER.LME set activates
 * long mode, turning it off leaves it (SDM vol. 3A 9.8.5, APM vol. 2
 * 14.6.1).  The hardware does this for the guest's own unintercepted
 * writes; the vendor's set_efer encodes LMA (VT-x: the IA-32e mode guest
 * entry control).
 */
void mvm_set_cr0(struct mvm_vcpu *vcpu, unsigned long val)
{
	const struct mvm_x86_ops *ops = mvm_x86_ops;
	unsigned long old = ops->get_cr(vcpu, 0);
	u64 efer = ops->get_efer(vcpu);

	if (efer & EFER_LME) {
		if (!(old & X86_CR0_PG) && (val & X86_CR0_PG))
			ops->set_efer(vcpu, efer | EFER_LMA);
		else if ((old & X86_CR0_PG) && !(val & X86_CR0_PG))
			ops->set_efer(vcpu, efer & ~EFER_LMA);
	}
	ops->set_cr(vcpu, 0, val);
}

/*
 * MOV to CR0, intercepted (VT-x) when it touches a bit the host owns.
 * SDM vol. 3A 2.5 and 9.8.5: what makes it raise #GP.
 */
int mvm_emulate_set_cr0(struct mvm_vcpu *vcpu, unsigned long val)
{
	if (((val & X86_CR0_PG) && !(val & X86_CR0_PE)) ||
	    ((val & X86_CR0_NW) && !(val & X86_CR0_CD)) ||
	    ((val & X86_CR0_PG) && (mvm_x86_ops->get_efer(vcpu) & EFER_LME) &&
	     !(mvm_x86_ops->get_cr(vcpu, 4) & X86_CR4_PAE)) ||
	    (val >> 32)) {
		mvm_inject_gp(vcpu, 0);
		return 1;
	}
	mvm_set_cr0(vcpu, val);
	mvm_x86_ops->skip_instruction(vcpu);
	return 1;
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
 * which would mask the host's own interrupts.  A lower TPR may unmask an
 * interrupt that userspace's APIC holds back: as KVM (VMX handle_cr, SVM
 * cr8_write_interception), exit with KVM_EXIT_SET_TPR so it can look.
 */
int mvm_emulate_set_cr8(struct mvm_vcpu *vcpu, unsigned long val)
{
	unsigned long prev = vcpu->arch.cr8;

	if (val & ~0xfUL) {
		mvm_inject_gp(vcpu, 0);
		return 1;
	}
	/* With the APIC in the kernel CR8 is TPR[7:4] (SDM 10.8.6.1). */
	if (mvm_lapic_in_kernel(vcpu)) {
		mvm_lapic_set_cr8(vcpu, val);
		mvm_x86_ops->skip_instruction(vcpu);
		return 1;
	}
	vcpu->arch.cr8 = val;
	mvm_x86_ops->skip_instruction(vcpu);
	if (prev <= val)
		return 1;
	vcpu->run->exit_reason = KVM_EXIT_SET_TPR;
	return 0;
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
