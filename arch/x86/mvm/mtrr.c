// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's MTRRs (SDM vol. 3A 11.11), offered in CPUID.1:EDX.MTRR.
 * They are storage only, as in KVM for a guest without assigned devices:
 * they do not change how mvm maps guest memory.  The checks are
 * WRMSR's (#GP on reserved bits and undefined types) and KVM's layout:
 * fixed ranges, 8 variable ranges, write-combining.
 */
#include <asm/msr-index.h>
#include "x86.h"

/* The first variable-range MTRR, IA32_MTRR_PHYSBASE0 (SDM 11.11.2.3). */
#define MVM_MTRR_PHYSBASE0	0x200

/* MTRRcap (SDM 11.11.1): VCNT, FIX (bit 8), WC (bit 10); no SMRR. */
#define MVM_MTRR_CAP		(MVM_NR_VAR_MTRR | BIT(8) | BIT(10))

/* UC, WC, WT, WP, WB (SDM 11.11.2): 2, 3 and 7 and up are reserved. */
static bool mvm_valid_mtrr_type(u64 t)
{
	return t < 8 && (BIT(t) & 0x73);
}

/* Index into mvm_mtrr_state.fixed[] of a fixed-range MTRR, or -1. */
static int mvm_fixed_mtrr_index(u32 msr)
{
	switch (msr) {
	case MSR_MTRRfix64K_00000:
		return 0;
	case MSR_MTRRfix16K_80000:
	case MSR_MTRRfix16K_A0000:
		return 1 + msr - MSR_MTRRfix16K_80000;
	case MSR_MTRRfix4K_C0000 ... MSR_MTRRfix4K_F8000:
		return 3 + msr - MSR_MTRRfix4K_C0000;
	default:
		return -1;
	}
}

static bool mvm_is_var_mtrr(u32 msr)
{
	return msr >= MVM_MTRR_PHYSBASE0 &&
	       msr < MVM_MTRR_PHYSBASE0 + 2 * MVM_NR_VAR_MTRR;
}

/* Whether @msr is one of the MTRRs mtrr.c handles. */
bool mvm_is_mtrr_msr(u32 msr)
{
	return msr == MSR_MTRRcap || msr == MSR_MTRRdefType ||
	       mvm_fixed_mtrr_index(msr) >= 0 || mvm_is_var_mtrr(msr);
}

int mvm_get_mtrr(struct mvm_vcpu *vcpu, u32 msr, u64 *data)
{
	struct mvm_mtrr_state *m = &vcpu->arch.mtrr;
	int i;

	if (msr == MSR_MTRRcap) {
		*data = MVM_MTRR_CAP;
		return 0;
	}
	if (msr == MSR_MTRRdefType) {
		*data = m->def_type;
		return 0;
	}
	i = mvm_fixed_mtrr_index(msr);
	if (i >= 0) {
		*data = m->fixed[i];
		return 0;
	}
	if (mvm_is_var_mtrr(msr)) {
		*data = m->var[msr - MVM_MTRR_PHYSBASE0];
		return 0;
	}
	return 1;
}

int mvm_set_mtrr(struct mvm_vcpu *vcpu, u32 msr, u64 data)
{
	struct mvm_mtrr_state *m = &vcpu->arch.mtrr;
	u64 reserved;
	int i;

	if (msr == MSR_MTRRdefType) {
		/* Type (7:0), FE (10), E (11). */
		if ((data & ~0xcffULL) || !mvm_valid_mtrr_type(data & 0xff))
			return 1;
		m->def_type = data;
		return 0;
	}
	i = mvm_fixed_mtrr_index(msr);
	if (i >= 0) {
		int b;

		for (b = 0; b < 8; b++)
			if (!mvm_valid_mtrr_type((data >> (b * 8)) & 0xff))
				return 1;
		m->fixed[i] = data;
		return 0;
	}
	if (!mvm_is_var_mtrr(msr))
		return 1;	/* MTRRcap is read-only */

	/* Address bits above the guest's MAXPHYADDR are reserved. */
	reserved = GENMASK_ULL(63, mvm_guest_maxphyaddr(vcpu));
	if (!(msr & 1)) {
		/* PHYSBASE: type (7:0), bits 11:8 reserved. */
		if (!mvm_valid_mtrr_type(data & 0xff))
			return 1;
		reserved |= 0xf00;
	} else {
		/* PHYSMASK: V (11), bits 10:0 reserved. */
		reserved |= 0x7ff;
	}
	if (data & reserved)
		return 1;
	m->var[msr - MVM_MTRR_PHYSBASE0] = data;
	return 0;
}
