// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_IRQFD and KVM_IOEVENTFD.  STUB: replaced by the eventfd work.
 */
#include <linux/mvm_host.h>

int mvm_eventfd_init(struct mvm *mvm)
{
	spin_lock_init(&mvm->irqfds.lock);
	INIT_LIST_HEAD(&mvm->irqfds.items);
	INIT_LIST_HEAD(&mvm->irqfds.resampler_list);
	mutex_init(&mvm->irqfds.resampler_lock);
	INIT_LIST_HEAD(&mvm->ioeventfds);
	return 0;
}

void mvm_eventfd_release(struct mvm *mvm)
{
}

int mvm_irqfd(struct mvm *mvm, struct kvm_irqfd *args)
{
	return -EINVAL;
}

int mvm_ioeventfd(struct mvm *mvm, struct kvm_ioeventfd *args)
{
	return -EINVAL;
}
