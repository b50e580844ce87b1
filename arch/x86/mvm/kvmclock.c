// SPDX-License-Identifier: GPL-2.0
/*
 * kvmclock: KVM's paravirtual clock (Documentation/virt/kvm/x86/msr.rst),
 * which a Linux guest uses to learn its TSC rate and as its clocksource.
 * Without it a guest calibrates the TSC against the PIT and the HPET,
 * which under a userspace interrupt controller and nested emulation
 * often fails, and then reads the HPET through an MMIO exit on every
 * clock read.
 *
 * The clock is one linear function of the host TSC for the whole VM:
 *
 *   kvmclock(host_tsc) = master_ns + kvmclock_offset +
 *                        (host_tsc - master_tsc) * 10^9 / tsc_khz / 1000
 *
 * fixed at VM creation (master_tsc/master_ns: the host TSC and boot-time
 * clock read together) and moved only by KVM_SET_CLOCK (kvmclock_offset).
 * Every vCPU's pvclock_vcpu_time_info describes that same function in its
 * own guest TSC (tsc_timestamp = master_tsc + its TSC offset), so the
 * vCPUs agree, and the structure is rewritten only when the function or
 * the vCPU's TSC offset changes, not at every entry or host CPU move.
 * This is KVM's "master clock" without its periodic resynchronisation to
 * the host's NTP-adjusted clock: over days the guest's clock can drift
 * from the host's by what NTP corrects, as a physical machine's does.
 *
 * The guest may trust the clock's monotonicity across vCPUs
 * (PVCLOCK_TSC_STABLE_BIT) only when the host's TSCs are synchronised and
 * run at a constant rate, as KVM's master clock requires.
 */
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <asm/kvm_para.h>
#include <asm/pvclock-abi.h>
#include <asm/tsc.h>
#include "x86.h"

static bool mvm_kvmclock_stable(void)
{
	return boot_cpu_has(X86_FEATURE_CONSTANT_TSC) && !check_tsc_unstable();
}

/*
 * The pvclock scale for a TSC of @khz: ns = ((delta << shift) * mul) >> 32
 * (a negative shift shifts right).  mul is kept in [2^31, 2^32) for
 * precision.
 */
static void mvm_kvmclock_scale(u32 khz, s8 *shift, u32 *mul)
{
	u64 hz = (u64)khz * 1000;
	s8 s = 0;

	while (hz <= NSEC_PER_SEC) {
		hz <<= 1;
		s++;
	}
	while (hz > 2 * NSEC_PER_SEC) {
		hz >>= 1;
		s--;
	}
	*shift = s;
	*mul = div64_u64((u64)NSEC_PER_SEC << 32, hz);
}

static u64 mvm_kvmclock_delta_ns(u64 delta)
{
	s8 shift;
	u32 mul;

	mvm_kvmclock_scale(tsc_khz, &shift, &mul);
	if (shift < 0)
		delta >>= -shift;
	else
		delta <<= shift;
	return mul_u64_u32_shr(delta, mul, 32);
}

void mvm_kvmclock_vm_init(struct mvm *mvm)
{
	struct mvm_arch *ma = &mvm->arch;
	unsigned long flags;

	seqcount_spinlock_init(&ma->kvmclock_seq, &ma->tsc_lock);
	local_irq_save(flags);
	ma->kvmclock_master_tsc = rdtsc();
	ma->kvmclock_master_ns = ktime_get_boottime_ns();
	local_irq_restore(flags);
	/* The guest's clock starts at 0 with the VM, as KVM's. */
	ma->kvmclock_offset = -(s64)ma->kvmclock_master_ns;
}

/* The VM's kvmclock at host TSC @host_tsc. */
static u64 mvm_kvmclock_at(struct mvm *mvm, u64 host_tsc)
{
	struct mvm_arch *ma = &mvm->arch;
	unsigned int seq;
	u64 ns;

	do {
		seq = read_seqcount_begin(&ma->kvmclock_seq);
		ns = ma->kvmclock_master_ns + ma->kvmclock_offset +
		     mvm_kvmclock_delta_ns(host_tsc - ma->kvmclock_master_tsc);
	} while (read_seqcount_retry(&ma->kvmclock_seq, seq));
	return ns;
}

/*
 * Before an entry that found MVM_REQ_CLOCK_UPDATE: write the vCPU's
 * pvclock_vcpu_time_info (KVM's kvm_guest_time_update() and
 * kvm_setup_guest_pvclock()).  The version is odd while the structure is
 * inconsistent; the guest retries its read until it sees the same even
 * version before and after.
 */
void mvm_kvmclock_update(struct mvm_vcpu *vcpu)
{
	struct mvm_arch *ma = &vcpu->mvm->arch;
	struct pvclock_vcpu_time_info pv = {};
	gpa_t gpa = vcpu->arch.kvmclock_system_time & ~1ULL;
	unsigned int seq;

	if (!(vcpu->arch.kvmclock_system_time & 1))
		return;

	do {
		seq = read_seqcount_begin(&ma->kvmclock_seq);
		pv.tsc_timestamp = ma->kvmclock_master_tsc + vcpu->arch.tsc_offset;
		pv.system_time = ma->kvmclock_master_ns + ma->kvmclock_offset;
	} while (read_seqcount_retry(&ma->kvmclock_seq, seq));
	mvm_kvmclock_scale(tsc_khz, &pv.tsc_shift, &pv.tsc_to_system_mul);
	if (mvm_kvmclock_stable())
		pv.flags |= PVCLOCK_TSC_STABLE_BIT;

	pv.version = ++vcpu->arch.kvmclock_version;	/* odd */
	if (mvm_write_guest(vcpu->mvm, gpa, &pv.version, sizeof(pv.version)))
		goto fail;
	/* The odd version is visible before any field changes... */
	smp_wmb();
	if (mvm_write_guest(vcpu->mvm, gpa, &pv, sizeof(pv)))
		goto fail;
	/* ... and every field before the even one (pvclock's seqcount). */
	smp_wmb();
	pv.version = ++vcpu->arch.kvmclock_version;	/* even */
	if (mvm_write_guest(vcpu->mvm, gpa, &pv.version, sizeof(pv.version)))
		goto fail;
	return;
fail:
	/* Not guest RAM (any more): the clock is off, as in KVM. */
	vcpu->arch.kvmclock_system_time &= ~1ULL;
}

/*
 * MSR_KVM_WALL_CLOCK(_NEW): the guest gives a GPA and reads there the
 * wall-clock time at which its kvmclock read 0 (KVM's
 * kvm_write_wall_clock()).
 */
static int mvm_kvmclock_write_wall_clock(struct mvm_vcpu *vcpu, gpa_t gpa)
{
	struct pvclock_wall_clock wc = {};
	u64 boot_ns;
	u32 version;

	boot_ns = ktime_get_real_ns() - mvm_kvmclock_at(vcpu->mvm, rdtsc());
	wc.nsec = do_div(boot_ns, NSEC_PER_SEC);
	wc.sec = (u32)boot_ns;

	if (mvm_read_guest(vcpu->mvm, gpa, &version, sizeof(version)))
		return 0;	/* KVM ignores a GPA outside guest RAM */
	version += (version & 1) + 1;	/* odd: being written */
	if (mvm_write_guest(vcpu->mvm, gpa, &version, sizeof(version)))
		return 0;
	wc.version = version + 1;
	mvm_write_guest(vcpu->mvm, gpa + sizeof(version),
			&wc.sec, sizeof(wc) - sizeof(version));
	/* The time before the even version that says it is complete. */
	smp_wmb();
	mvm_write_guest(vcpu->mvm, gpa, &wc.version, sizeof(wc.version));
	return 0;
}

bool mvm_is_kvmclock_msr(u32 index)
{
	return index == MSR_KVM_WALL_CLOCK || index == MSR_KVM_SYSTEM_TIME ||
	       index == MSR_KVM_WALL_CLOCK_NEW ||
	       index == MSR_KVM_SYSTEM_TIME_NEW;
}

/*
 * As KVM without KVM_CAP_ENFORCE_PV_FEATURE_CPUID: the MSRs work whether
 * or not the guest's CPUID leaf 0x40000001 offers them.
 */
int mvm_get_kvmclock_msr(struct mvm_vcpu *vcpu, u32 index, u64 *data)
{
	if (index == MSR_KVM_WALL_CLOCK || index == MSR_KVM_WALL_CLOCK_NEW)
		*data = vcpu->mvm->arch.kvmclock_wall_clock;
	else
		*data = vcpu->arch.kvmclock_system_time;
	return 0;
}

int mvm_set_kvmclock_msr(struct mvm_vcpu *vcpu, u32 index, u64 data)
{
	if (index == MSR_KVM_WALL_CLOCK || index == MSR_KVM_WALL_CLOCK_NEW) {
		vcpu->mvm->arch.kvmclock_wall_clock = data;
		return mvm_kvmclock_write_wall_clock(vcpu, data);
	}
	/* Bit 0 enables; the rest is the structure's GPA. */
	vcpu->arch.kvmclock_system_time = data;
	if (data & 1)
		set_bit(MVM_REQ_CLOCK_UPDATE, &vcpu->requests);
	return 0;
}

/* KVM_GET_CLOCK (KVM's get_kvmclock()). */
long mvm_vm_get_clock(struct mvm *mvm, struct kvm_clock_data __user *udata)
{
	struct kvm_clock_data data = {};
	unsigned long flags;
	u64 host_tsc;

	local_irq_save(flags);
	host_tsc = rdtsc();
	data.realtime = ktime_get_real_ns();
	local_irq_restore(flags);
	data.clock = mvm_kvmclock_at(mvm, host_tsc);
	data.host_tsc = host_tsc;
	data.flags = KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC;
	if (mvm_kvmclock_stable())
		data.flags |= KVM_CLOCK_TSC_STABLE;
	return copy_to_user(udata, &data, sizeof(data)) ? -EFAULT : 0;
}

/*
 * KVM_SET_CLOCK: the VM's kvmclock reads data.clock now (or, with
 * KVM_CLOCK_REALTIME, at the wall-clock time data.realtime, advanced by
 * what has passed since), as kvm_vm_ioctl_set_clock().
 */
long mvm_vm_set_clock(struct mvm *mvm, struct kvm_clock_data __user *udata)
{
	struct mvm_arch *ma = &mvm->arch;
	struct kvm_clock_data data;
	unsigned long flags;
	u64 host_tsc, now_real, clock;

	if (copy_from_user(&data, udata, sizeof(data)))
		return -EFAULT;
	if (data.flags & ~(KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME |
			   KVM_CLOCK_HOST_TSC))
		return -EINVAL;

	local_irq_save(flags);
	host_tsc = rdtsc();
	now_real = ktime_get_real_ns();
	local_irq_restore(flags);

	clock = data.clock;
	if ((data.flags & KVM_CLOCK_REALTIME) && now_real > data.realtime)
		clock += now_real - data.realtime;

	spin_lock_irqsave(&ma->tsc_lock, flags);
	write_seqcount_begin(&ma->kvmclock_seq);
	ma->kvmclock_offset += clock - (ma->kvmclock_master_ns +
					ma->kvmclock_offset +
					mvm_kvmclock_delta_ns(host_tsc -
							      ma->kvmclock_master_tsc));
	write_seqcount_end(&ma->kvmclock_seq);
	spin_unlock_irqrestore(&ma->tsc_lock, flags);

	mvm_make_all_vcpus_request(mvm, MVM_REQ_CLOCK_UPDATE);
	return 0;
}

/* CPUID 0x40000000-0x40000001 for KVM_GET_SUPPORTED_CPUID. */
void mvm_kvmclock_cpuid(struct kvm_cpuid_entry2 *signature,
			struct kvm_cpuid_entry2 *features)
{
	static const char sig[12] = "KVMKVMKVM\0\0";

	memset(signature, 0, sizeof(*signature));
	signature->function = KVM_CPUID_SIGNATURE;
	signature->eax = KVM_CPUID_FEATURES;
	memcpy(&signature->ebx, sig, 4);
	memcpy(&signature->ecx, sig + 4, 4);
	memcpy(&signature->edx, sig + 8, 4);

	memset(features, 0, sizeof(*features));
	features->function = KVM_CPUID_FEATURES;
	/*
	 * NOP_IO_DELAY is a hint that needs nothing from mvm: port 0x80
	 * delays are pointless on virtual hardware.
	 */
	features->eax = BIT(KVM_FEATURE_CLOCKSOURCE) |
			BIT(KVM_FEATURE_NOP_IO_DELAY) |
			BIT(KVM_FEATURE_CLOCKSOURCE2) |
			BIT(KVM_FEATURE_CLOCKSOURCE_STABLE_BIT);
}
