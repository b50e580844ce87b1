// SPDX-License-Identifier: GPL-2.0
/*
 * The local APIC of each vCPU (SDM vol. 3A chapter 10).  STUB: replaced by
 * the lapic work.
 */
#include "x86.h"
#include "irq.h"

int mvm_lapic_create(struct mvm_vcpu *vcpu)
{
	return -ENOSYS;
}

void mvm_lapic_free(struct mvm_vcpu *vcpu)
{
}

void mvm_lapic_reset(struct mvm_vcpu *vcpu, bool init_event)
{
}

int mvm_lapic_mmio_read(struct mvm_vcpu *vcpu, gpa_t gpa, int len, void *val)
{
	return -EOPNOTSUPP;
}

int mvm_lapic_mmio_write(struct mvm_vcpu *vcpu, gpa_t gpa, int len,
			 const void *val)
{
	return -EOPNOTSUPP;
}

bool mvm_is_lapic_msr(struct mvm_vcpu *vcpu, u32 index)
{
	return false;
}

int mvm_lapic_get_msr(struct mvm_vcpu *vcpu, u32 index, u64 *data)
{
	return 1;
}

int mvm_lapic_set_msr(struct mvm_vcpu *vcpu, u32 index, u64 data,
		      bool host_initiated)
{
	return 1;
}

void mvm_lapic_set_base(struct mvm_vcpu *vcpu, u64 value)
{
}

void mvm_lapic_set_cr8(struct mvm_vcpu *vcpu, unsigned long cr8)
{
}

unsigned long mvm_lapic_get_cr8(struct mvm_vcpu *vcpu)
{
	return 0;
}

int mvm_apic_has_interrupt(struct mvm_vcpu *vcpu)
{
	return -1;
}

int mvm_apic_get_interrupt(struct mvm_vcpu *vcpu)
{
	return -1;
}

bool mvm_apic_accept_pic_intr(struct mvm_vcpu *vcpu)
{
	return false;
}

int mvm_irq_delivery_to_apic(struct mvm *mvm, struct mvm_vcpu *src,
			     const struct mvm_lapic_irq *irq)
{
	return -1;
}

bool mvm_apic_accept_events(struct mvm_vcpu *vcpu)
{
	return false;
}

bool mvm_apic_has_pending_events(struct mvm_vcpu *vcpu)
{
	return false;
}

long mvm_vcpu_ioctl_get_lapic(struct mvm_vcpu *vcpu,
			      struct kvm_lapic_state __user *ustate)
{
	return -ENXIO;
}

long mvm_vcpu_ioctl_set_lapic(struct mvm_vcpu *vcpu,
			      struct kvm_lapic_state __user *ustate)
{
	return -ENXIO;
}
