// SPDX-License-Identifier: GPL-2.0
/*
 * Exit handlers common to both vendors that need no subject of their own:
 * HLT, the KVM hypercall, instructions the guest may not use (#UD) or that
 * do nothing for it, triple fault, and the exits mvm cannot handle.  The
 * vendors' exit tables point straight at them.
 */
#define pr_fmt(fmt) "mvm: " fmt

#include <linux/ratelimit.h>
#include <linux/kvm_para.h>
#include "x86.h"
#include "irq.h"

/*
 * HLT (SDM vol. 2A): with the LAPIC in the kernel the vCPU's thread
 * sleeps in the run loop until an interrupt, NMI, INIT or SIPI is there
 * for it (mvm_vcpu_block()), as KVM does; without it, the interrupt
 * controller is userspace's, which decides when the vCPU runs again
 * (KVM_EXIT_HLT).  RIP moves past the HLT first, which also ends an STI
 * interrupt shadow: an interrupt then arrives after the HLT.
 */
int mvm_emulate_halt(struct mvm_vcpu *vcpu)
{
	mvm_x86_ops->skip_instruction(vcpu);
	vcpu->stat.halt_exits++;
	if (mvm_lapic_in_kernel(vcpu)) {
		vcpu->arch.mp_state = KVM_MP_STATE_HALTED;
		return 1;
	}
	vcpu->run->exit_reason = KVM_EXIT_HLT;
	return 0;
}

int mvm_emulate_hypercall(struct mvm_vcpu *vcpu)
{
	unsigned long nr = mvm_register_read(vcpu, MVM_REG_RAX);
	bool mode64 = mvm_is_64bit_mode(vcpu);
	long ret;

	/* KVM's convention: nr in RAX, result in RAX (KVM_HC_*, -KVM_E*). */
	if (!mode64)
		nr &= 0xffffffff;
	if (mvm_get_cpl(vcpu) != 0)
		ret = -KVM_EPERM;
	else if (nr == KVM_HC_VAPIC_POLL_IRQ)
		ret = 0;
	else
		ret = -KVM_ENOSYS;
	if (!mode64)
		ret = (u32)ret;
	mvm_register_write(vcpu, MVM_REG_RAX, ret);
	mvm_x86_ops->skip_instruction(vcpu);
	return 1;
}

/* An instruction mvm had to decode could not be (it changed under us). */
int mvm_emulation_failed(struct mvm_vcpu *vcpu)
{
	vcpu->run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	vcpu->run->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
	vcpu->run->internal.ndata = 0;
	return 0;
}

int mvm_handle_triple_fault(struct mvm_vcpu *vcpu)
{
	vcpu->run->exit_reason = KVM_EXIT_SHUTDOWN;
	return 0;
}

/*
 * A guest or VMM can make every entry fail or exit oddly, and a dump is
 * some fifteen lines: let one through per interval, whichever vCPU.
 */
static DEFINE_RATELIMIT_STATE(mvm_dump_ratelimit, DEFAULT_RATELIMIT_INTERVAL, 1);

static void mvm_dump_state_ratelimited(struct mvm_vcpu *vcpu)
{
	if (__ratelimit(&mvm_dump_ratelimit))
		mvm_x86_ops->dump_state(vcpu);
}

int mvm_handle_unknown_exit(struct mvm_vcpu *vcpu, u64 reason)
{
	struct kvm_run *run = vcpu->run;

	pr_err_ratelimited("vcpu %u: unexpected exit reason 0x%llx\n",
			   vcpu->vcpu_id, reason);
	mvm_dump_state_ratelimited(vcpu);
	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->internal.suberror = KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON;
	run->internal.ndata = 2;
	run->internal.data[0] = reason;
	run->internal.data[1] = raw_smp_processor_id();
	return 0;
}

int mvm_handle_fail_entry(struct mvm_vcpu *vcpu, u64 reason)
{
	struct kvm_run *run = vcpu->run;

	pr_err_ratelimited("vcpu %u: VM entry failed, reason 0x%llx\n",
			   vcpu->vcpu_id, reason);
	mvm_dump_state_ratelimited(vcpu);
	run->exit_reason = KVM_EXIT_FAIL_ENTRY;
	run->fail_entry.hardware_entry_failure_reason = reason;
	run->fail_entry.cpu = raw_smp_processor_id();
	return 0;
}

/*
 * Nothing for the guest: the exit was for the host's sake (an interrupt,
 * NMI or machine check, which the vendor's vcpu_run handed to the host's
 * handlers or which it takes once interrupts are on again).
 */
int mvm_handle_host_event(struct mvm_vcpu *vcpu)
{
	return 1;
}

/*
 * Instructions this guest may not use: VMX and SVM instructions (no
 * nested virtualization), RDTSCP (not offered in CPUID).
 */
int mvm_handle_ud(struct mvm_vcpu *vcpu)
{
	mvm_inject_ud(vcpu);
	return 1;
}

/*
 * INVD, WBINVD: the guest's caches are coherent with ours; MONITOR,
 * MWAIT: no C-states for the guest.  No-ops, as in KVM.
 */
int mvm_emulate_nop(struct mvm_vcpu *vcpu)
{
	mvm_x86_ops->skip_instruction(vcpu);
	return 1;
}

/*
 * A PAUSE-loop exit (VMX, SDM 26.1.3 "PAUSE-loop exiting") or a filtered
 * PAUSE intercept (SVM, APM 15.14.4): the guest spins, let a preempted
 * sibling run (mvm_vcpu_on_spin()), then continue after the PAUSE.  The
 * exit is also where the host takes its own pending interrupts: a guest
 * that spins with interrupts off exits here too.
 */
int mvm_handle_pause(struct mvm_vcpu *vcpu)
{
	mvm_vcpu_on_spin(vcpu);
	return mvm_emulate_nop(vcpu);
}

/* No PMU for the guest: host counters stay the host's. */
int mvm_emulate_rdpmc(struct mvm_vcpu *vcpu)
{
	mvm_inject_gp(vcpu, 0);
	return 1;
}
