// SPDX-License-Identifier: GPL-2.0
/* Placeholder: guest page-table walker and MMIO decoder are being written. */
#include "x86.h"

int mvm_gva_to_gpa(struct mvm_vcpu *vcpu, gva_t gva, u32 access,
		   gpa_t *gpa, u32 *pf_error)
{
	return -EINVAL;
}

int mvm_read_guest_virt(struct mvm_vcpu *vcpu, gva_t gva, void *data,
			unsigned int len, u32 access, u32 *pf_error)
{
	return -EINVAL;
}

int mvm_write_guest_virt(struct mvm_vcpu *vcpu, gva_t gva, const void *data,
			 unsigned int len, u32 access, u32 *pf_error)
{
	return -EINVAL;
}

void mvm_inject_page_fault(struct mvm_vcpu *vcpu, gva_t gva, u32 pf_error)
{
}

int mvm_emulate_mmio(struct mvm_vcpu *vcpu, gpa_t gpa, bool write)
{
	return -EINVAL;
}
