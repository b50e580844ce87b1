// SPDX-License-Identifier: GPL-2.0
/*
 * GSI routing, KVM_CREATE_IRQCHIP and the split irqchip.  STUB: replaced
 * by the irqchip work.
 */
#include <linux/uaccess.h>
#include "x86.h"
#include "irq.h"

int mvm_set_irq(struct mvm *mvm, int irq_source_id, u32 gsi, int level,
		bool line_status)
{
	return -EINVAL;
}

int mvm_set_msi(struct mvm *mvm, const struct kvm_msi *msi)
{
	return -EINVAL;
}

int mvm_arch_set_irq(struct mvm *mvm, int irq_source_id, u32 gsi, int level)
{
	return mvm_set_irq(mvm, irq_source_id, gsi, level, false);
}

bool mvm_arch_irqchip_in_kernel(struct mvm *mvm)
{
	return mvm_irqchip_in_kernel(mvm);
}

void mvm_register_irq_ack_notifier(struct mvm *mvm,
				   struct mvm_irq_ack_notifier *kian)
{
}

void mvm_unregister_irq_ack_notifier(struct mvm *mvm,
				     struct mvm_irq_ack_notifier *kian)
{
}

void mvm_notify_acked_irq(struct mvm *mvm, unsigned int irqchip,
			  unsigned int pin)
{
}

void mvm_apic_eoi_level(struct mvm_vcpu *vcpu, int vector)
{
}

long mvm_irq_vm_ioctl(struct mvm *mvm, unsigned int ioctl, unsigned long arg)
{
	struct kvm_irq_routing routing;

	switch (ioctl) {
	case KVM_SET_GSI_ROUTING:
		/*
		 * GSI routes feed an in-kernel irqchip; without one KVM
		 * refuses every table (kvm_arch_can_set_irq_routing()) after
		 * reading the header, and so do we.
		 */
		if (copy_from_user(&routing, (void __user *)arg,
				   sizeof(routing)))
			return -EFAULT;
		return -EINVAL;
	default:
		return -ENOTTY;
	}
}

/* As KVM's MAX_NR_RESERVED_IOAPIC_PINS. */
#define MVM_MAX_RESERVED_IOAPIC_PINS	48

/*
 * KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP): LAPICs in the kernel, the PIC and
 * IOAPIC in userspace, whose @nr_ioapic_pins first GSIs' level-triggered
 * EOIs are reported as KVM_EXIT_IOAPIC_EOI.  Before any vCPU, once.
 */
int mvm_enable_split_irqchip(struct mvm *mvm, u64 nr_ioapic_pins)
{
	int r;

	if (nr_ioapic_pins > MVM_MAX_RESERVED_IOAPIC_PINS)
		return -EINVAL;
	mutex_lock(&mvm->lock);
	r = -EEXIST;
	if (mvm_irqchip_in_kernel(mvm))
		goto out;
	r = -EINVAL;
	if (mvm->created_vcpus)
		goto out;
	mvm->arch.nr_reserved_ioapic_pins = nr_ioapic_pins;
	smp_store_release(&mvm->arch.irqchip_mode, MVM_IRQCHIP_SPLIT);
	r = 0;
out:
	mutex_unlock(&mvm->lock);
	return r;
}

void mvm_irqchip_destroy(struct mvm *mvm)
{
}
