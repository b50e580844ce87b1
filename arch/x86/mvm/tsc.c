// SPDX-License-Identifier: GPL-2.0
/*
 * Guest time: the TSC the guest reads is the host's plus a per-vCPU
 * offset that the VMCS/VMCB apply in hardware (SDM vol. 3C 26.6.5, APM
 * vol. 2 15.30.5), so it counts on across exits and host CPU migrations
 * as the host TSC does.  mvm uses no TSC scaling: the guest's rate is the
 * host's (KVM_GET/SET_TSC_KHZ).
 *
 * Writes of the TSC follow KVM 6.1's rules (arch/x86/kvm/x86.c):
 * - from the host (KVM_SET_MSRS, and the vCPU's creation, which writes 0)
 *   they are matched with the VM's previous host write when they look like
 *   an attempt to synchronise the vCPUs: a 0, or a value within a second
 *   of where the previous write has advanced to since.  A matched write
 *   takes the previous write's offset, so the vCPUs of a VM that QEMU sets
 *   to TSC = 0 one after the other at reset count together;
 * - from the guest (WRMSR) they move this vCPU's offset and add the same
 *   amount to IA32_TSC_ADJUST (SDM vol. 3B 17.17.3), whose own writes
 *   move the offset too.
 */
#include "x86.h"
#include <linux/ktime.h>
#include <linux/timekeeping.h>
#include <linux/math64.h>
#include <asm/tsc.h>

/* KVM's default tolerance (tsc_tolerance_ppm) for "the host's rate". */
#define MVM_TSC_TOLERANCE_PPM	250

void mvm_tsc_vm_init(struct mvm *mvm)
{
	spin_lock_init(&mvm->arch.tsc_lock);
}

static void mvm_write_tsc_offset(struct mvm_vcpu *vcpu, u64 offset)
{
	vcpu->arch.tsc_offset = offset;
	mvm_x86_ops->set_tsc_offset(vcpu, offset);
}

/* The guest's TSC now. */
u64 mvm_read_guest_tsc(struct mvm_vcpu *vcpu)
{
	return rdtsc() + vcpu->arch.tsc_offset;
}

static u64 mvm_nsec_to_cycles(struct mvm_vcpu *vcpu, u64 nsec)
{
	return mul_u64_u32_div(nsec, vcpu->arch.tsc_khz, NSEC_PER_MSEC);
}

/* A host-initiated write of @data to the TSC (kvm_synchronize_tsc()). */
void mvm_tsc_synchronize(struct mvm_vcpu *vcpu, u64 data)
{
	struct mvm_arch *ma = &vcpu->mvm->arch;
	bool synchronizing = false;
	unsigned long flags;
	u64 offset, ns, elapsed;

	spin_lock_irqsave(&ma->tsc_lock, flags);
	offset = data - rdtsc();
	ns = ktime_get_boottime_ns();
	elapsed = ns - ma->last_tsc_nsec;

	if (vcpu->arch.tsc_khz) {
		if (data == 0) {
			/* A vCPU being created or reset. */
			synchronizing = true;
		} else {
			u64 expected = ma->last_tsc_write +
				       mvm_nsec_to_cycles(vcpu, elapsed);
			u64 one_second = vcpu->arch.tsc_khz * 1000ULL;

			synchronizing = data < expected + one_second &&
					data + one_second > expected;
		}
	}

	if (synchronizing && vcpu->arch.tsc_khz == ma->last_tsc_khz) {
		if (!check_tsc_unstable()) {
			offset = ma->cur_tsc_offset;
		} else {
			/* Host TSCs disagree: advance by the time passed. */
			data += mvm_nsec_to_cycles(vcpu, elapsed);
			offset = data - rdtsc();
		}
	} else {
		ma->cur_tsc_offset = offset;
	}
	ma->last_tsc_nsec = ns;
	ma->last_tsc_write = data;
	ma->last_tsc_khz = vcpu->arch.tsc_khz;
	mvm_write_tsc_offset(vcpu, offset);
	spin_unlock_irqrestore(&ma->tsc_lock, flags);
}

/* At creation, with the vCPU loaded: the host's rate, TSC = 0. */
void mvm_tsc_vcpu_init(struct mvm_vcpu *vcpu)
{
	vcpu->arch.tsc_khz = tsc_khz;
	vcpu->arch.tsc_adjust = 0;
	mvm_tsc_synchronize(vcpu, 0);
}

/* WRMSR to IA32_TSC from the guest: SDM 17.17.3, TSC_ADJUST follows. */
void mvm_guest_write_tsc(struct mvm_vcpu *vcpu, u64 data)
{
	u64 adj = (data - rdtsc()) - vcpu->arch.tsc_offset;

	mvm_write_tsc_offset(vcpu, vcpu->arch.tsc_offset + adj);
	vcpu->arch.tsc_adjust += adj;
}

/*
 * IA32_TSC_ADJUST.  A guest write moves the TSC by the change; a host
 * write only restores the value.  Without TSC_ADJUST in the guest's
 * CPUID writes are dropped, as by KVM.
 */
void mvm_set_tsc_adjust(struct mvm_vcpu *vcpu, u64 data, bool host)
{
	if (!mvm_guest_cpuid_has(vcpu, 7, 1, 1))
		return;
	if (!host) {
		s64 adj = data - vcpu->arch.tsc_adjust;

		mvm_write_tsc_offset(vcpu, vcpu->arch.tsc_offset + adj);
	}
	vcpu->arch.tsc_adjust = data;
}

static u32 mvm_adjust_khz(u32 khz, s32 ppm)
{
	return div_u64((u64)khz * (1000000 + ppm), 1000000);
}

/*
 * KVM_SET_TSC_KHZ.  Without TSC scaling only the host's rate, within
 * KVM's tolerance, can be given; 0 means the host's.  KVM 6.1 refuses a
 * lower rate with -EINVAL and fakes a higher one by "catching up" at
 * entries through kvmclock, which mvm lacks: -EINVAL for both.
 */
long mvm_vcpu_set_tsc_khz(struct mvm_vcpu *vcpu, unsigned long arg)
{
	u32 khz = (u32)arg;

	if (!khz)
		khz = tsc_khz;
	if (!khz || khz < mvm_adjust_khz(tsc_khz, -MVM_TSC_TOLERANCE_PPM) ||
	    khz > mvm_adjust_khz(tsc_khz, MVM_TSC_TOLERANCE_PPM))
		return -EINVAL;
	vcpu->arch.tsc_khz = khz;
	return 0;
}
