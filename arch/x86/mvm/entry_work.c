// SPDX-License-Identifier: GPL-2.0
/*
 * Pending task work before guest entry.
 *
 * The kernel's entry code gives hypervisors xfer_to_guest_mode_handle_work()
 * to run what would otherwise run on return to user mode (signals,
 * rescheduling, task work, rseq notification): the last two are not
 * reachable any other way from a module.  Its parameter is a struct
 * kvm_vcpu, of which it touches only ->run (exit_reason = KVM_EXIT_INTR)
 * and ->stat.signal_exits, on a pending signal.  mvm is not KVM, so each
 * vCPU carries a zeroed struct kvm_vcpu whose ->run is mvm's own run page;
 * this is the only file that sees <linux/kvm_host.h>.
 */
#include <linux/kvm_host.h>
#include <linux/entry-kvm.h>
#include <linux/slab.h>
#include "x86.h"

int mvm_entry_work_init(struct mvm_vcpu *vcpu)
{
	struct kvm_vcpu *shim = kzalloc(sizeof(*shim), GFP_KERNEL_ACCOUNT);

	if (!shim)
		return -ENOMEM;
	shim->run = vcpu->run;
	vcpu->arch.entry_work_shim = shim;
	return 0;
}

void mvm_entry_work_free(struct mvm_vcpu *vcpu)
{
	kfree(vcpu->arch.entry_work_shim);
	vcpu->arch.entry_work_shim = NULL;
}

/* IRQs on.  0 to go on, -EINTR (KVM_EXIT_INTR filled in) on a signal. */
int mvm_handle_entry_work(struct mvm_vcpu *vcpu)
{
	struct kvm_vcpu *shim = vcpu->arch.entry_work_shim;
	int r;

	r = xfer_to_guest_mode_handle_work(shim);
	if (r == -EINTR)
		vcpu->stat.signal_exits++;
	return r;
}

bool mvm_entry_work_pending(void)
{
	return __xfer_to_guest_mode_work_pending();
}
