// SPDX-License-Identifier: GPL-2.0
/*
 * Switching VT-x / AMD-V on and off on every CPU.
 *
 * Like KVM, mvm holds the hardware only while at least one VM exists: the
 * first KVM_CREATE_VM enables it on every online CPU (VMXON, or EFER.SVME
 * plus the host save area), the last VM's destruction disables it.  CPUs
 * that come online meanwhile are enabled by the hotplug callback, CPUs
 * going offline are disabled, and a reboot disables every CPU.
 *
 * If another hypervisor (kvm_intel, kvm_amd) has the hardware on any CPU,
 * the vendor's hardware_enable() returns -EBUSY there; everything enabled
 * so far is undone and KVM_CREATE_VM fails with -EBUSY.
 *
 * Locking: cpus_read_lock() (or the hotplug thread's write hold) nests
 * outside mvm_hw_lock, which protects mvm_hw_users and, with the CPU
 * itself, the per-CPU mvm_hw_enabled flag.
 *
 * Emergency restart (panic, kexec): Linux 6.1 keeps a single "emergency
 * virt callback", which kvm_intel/kvm_amd take at module load; registering
 * a second one WARNs.  mvm therefore does not register one.  An orderly
 * reboot is covered by the reboot notifier below.
 */
#define pr_fmt(fmt) "mvm: " fmt

#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/reboot.h>
#include <linux/percpu.h>
#include <linux/smp.h>
#include "x86.h"

static DEFINE_MUTEX(mvm_hw_lock);
static int mvm_hw_users;		/* mvm_hw_lock; live VMs */
static DEFINE_PER_CPU(bool, mvm_hw_enabled);
bool mvm_rebooting __read_mostly;	/* no enabling, no vCPU ioctl once reboot began */
static enum cpuhp_state mvm_cpuhp_state;

/* On the current CPU, IRQs off. */
static int mvm_hw_enable_this_cpu(void)
{
	int r;

	if (__this_cpu_read(mvm_hw_enabled))
		return 0;
	r = mvm_x86_ops->hardware_enable();
	if (r)
		return r;
	__this_cpu_write(mvm_hw_enabled, true);
	return 0;
}

static void mvm_hw_disable_this_cpu(void)
{
	if (!__this_cpu_read(mvm_hw_enabled))
		return;
	mvm_x86_ops->hardware_disable();
	__this_cpu_write(mvm_hw_enabled, false);
}

static void mvm_hw_enable_ipi(void *data)
{
	atomic_t *failed = data;
	int r;

	r = mvm_hw_enable_this_cpu();
	if (r) {
		atomic_inc(failed);
		pr_err_ratelimited("cannot enable %s on CPU %d (%d)%s\n",
				   mvm_x86_ops->name, raw_smp_processor_id(), r,
				   r == -EBUSY ? ": in use by another hypervisor (kvm_intel/kvm_amd?)" : "");
	}
}

static void mvm_hw_disable_ipi(void *data)
{
	mvm_hw_disable_this_cpu();
}

int mvm_arch_hardware_enable_all(void)
{
	atomic_t failed = ATOMIC_INIT(0);
	int r = 0;

	cpus_read_lock();
	mutex_lock(&mvm_hw_lock);
	if (mvm_rebooting) {
		r = -EBUSY;
		goto out;
	}
	if (mvm_hw_users++ == 0) {
		on_each_cpu(mvm_hw_enable_ipi, &failed, 1);
		if (atomic_read(&failed)) {
			on_each_cpu(mvm_hw_disable_ipi, NULL, 1);
			mvm_hw_users--;
			r = -EBUSY;
		}
	}
out:
	mutex_unlock(&mvm_hw_lock);
	cpus_read_unlock();
	return r;
}

void mvm_arch_hardware_disable_all(void)
{
	cpus_read_lock();
	mutex_lock(&mvm_hw_lock);
	if (!WARN_ON_ONCE(mvm_hw_users <= 0) && --mvm_hw_users == 0)
		on_each_cpu(mvm_hw_disable_ipi, NULL, 1);
	mutex_unlock(&mvm_hw_lock);
	cpus_read_unlock();
}

/* cpuhp callbacks run on the CPU concerned, in the hotplug thread. */
static int mvm_cpu_online(unsigned int cpu)
{
	unsigned long flags;
	int r = 0;

	mutex_lock(&mvm_hw_lock);
	if (mvm_hw_users && !mvm_rebooting) {
		local_irq_save(flags);
		r = mvm_hw_enable_this_cpu();
		local_irq_restore(flags);
		if (r)
			pr_err("cannot enable %s on new CPU %u (%d)\n",
			       mvm_x86_ops->name, cpu, r);
	}
	mutex_unlock(&mvm_hw_lock);
	return r;
}

static int mvm_cpu_offline(unsigned int cpu)
{
	unsigned long flags;

	mutex_lock(&mvm_hw_lock);
	local_irq_save(flags);
	mvm_hw_disable_this_cpu();
	local_irq_restore(flags);
	mutex_unlock(&mvm_hw_lock);
	return 0;
}

static int mvm_reboot(struct notifier_block *nb, unsigned long code, void *v)
{
	/*
	 * VMX blocks INIT, so leave VMX operation before the reboot IPIs.
	 * VMs may still exist (their processes are being killed); they never
	 * run again because mvm_rebooting also stops new enables, and their
	 * vCPU ioctls and KVM_CREATE_VCPU fail with -EIO from now on, before
	 * any VMREAD/VMWRITE (mvm_vcpu_ioctl(), mvm_arch_vcpu_create()).
	 * An ioctl already past that check when this runs is not waited for:
	 * mvm's VMX instructions have no fault fixups (KVM's have, see
	 * kvm_spurious_fault()), so that window remains.
	 */
	pr_info("disabling %s for reboot\n", mvm_x86_ops->name);
	mutex_lock(&mvm_hw_lock);
	WRITE_ONCE(mvm_rebooting, true);
	on_each_cpu(mvm_hw_disable_ipi, NULL, 1);
	mutex_unlock(&mvm_hw_lock);
	return NOTIFY_OK;
}

static struct notifier_block mvm_reboot_nb = {
	.notifier_call = mvm_reboot,
	.priority = 0,
};

/* A vCPU may only enter the guest on a CPU where the hardware is on. */
bool mvm_hw_enabled_this_cpu(void)
{
	return __this_cpu_read(mvm_hw_enabled);
}

int mvm_hw_init(void)
{
	int r;

	r = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "mvm/cpu:online",
				      mvm_cpu_online, mvm_cpu_offline);
	if (r < 0)
		return r;
	mvm_cpuhp_state = r;
	register_reboot_notifier(&mvm_reboot_nb);
	return 0;
}

void mvm_hw_exit(void)
{
	unregister_reboot_notifier(&mvm_reboot_nb);
	cpuhp_remove_state_nocalls(mvm_cpuhp_state);
}
