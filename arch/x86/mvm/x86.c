// SPDX-License-Identifier: GPL-2.0
/*
 * mvm x86 common layer: vendor selection, the vCPU lifecycle, the vCPU
 * state ioctls and the KVM_RUN loop shared by VT-x and AMD-V.  By
 * subject, like KVM: CPUID in cpuid.c, MSRs in msr.c, control and debug
 * registers in cr.c, port I/O in pio.c, nested page faults in mmu.c, the
 * exits that need no more than a line or two of rules in exits.c.
 *
 * One exit, end to end: the vendor's vcpu_run op enters the guest and
 * returns at the next VM exit; mvm_vcpu_enter_guest() re-enables
 * interrupts so the host services whatever caused an interrupt exit, then
 * calls the vendor's handle_exit op, which looks the exit up in its
 * handler table and usually calls one of the mvm_emulate_* / mvm_handle_*
 * helpers.  They return 1 to re-enter at once (the loop in
 * mvm_arch_vcpu_run() "keeps rolling"), or 0 after filling kvm_run for
 * userspace.
 */
#define pr_fmt(fmt) "mvm: " fmt

#include <linux/module.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/stat.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vtime.h>
#include <linux/context_tracking.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>
#include <asm/debugreg.h>
#include <asm/hw_breakpoint.h>
#include <asm/msr-index.h>
#include <asm/special_insns.h>
#include <asm/nospec-branch.h>
#include <asm/processor.h>
#include "x86.h"
#include "irq.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

/*
 * The VM whose vCPU last ran on each CPU: a vCPU of another VM arriving
 * there first flushes the indirect branch predictors (IBPB), so that one
 * guest cannot steer another's speculation (Spectre v2).  Ids, not
 * pointers: a freed VM's address may come back.
 */
static DEFINE_PER_CPU(u64, mvm_last_vm_ibpb_id);
static atomic64_t mvm_next_ibpb_id = ATOMIC64_INIT(0);

const struct mvm_x86_ops *mvm_x86_ops __read_mostly;

static u64 mvm_host_xcr0 __read_mostly;
u64 mvm_supported_xcr0 __read_mostly;

/* ------------------------------------------------------------------ */
/* Module init: pick the vendor                                         */

int mvm_arch_init(void)
{
	const char *why = NULL;
	bool vmx, svm;
	int r;

	/* Raw CPUID: the kernel hides VMX when firmware disabled it. */
	vmx = cpuid_ecx(1) & BIT(5);
	svm = cpuid_eax(0x80000000) >= 0x80000001 &&
	      (cpuid_ecx(0x80000001) & BIT(2));

	if (vmx && !vmx_probe(&why))
		mvm_x86_ops = &vmx_x86_ops;
	else if (svm && !svm_probe(&why))
		mvm_x86_ops = &svm_x86_ops;

	if (!mvm_x86_ops) {
		if (!vmx && !svm)
			pr_err("CPU has neither VT-x nor AMD-V (no svm/vmx in CPUID)\n");
		else
			pr_err("CPU has %s but mvm cannot use it: %s\n",
			       vmx ? "VT-x" : "AMD-V", why ? why : "unknown");
		return -ENODEV;
	}

	if (boot_cpu_has(X86_FEATURE_XSAVE)) {
		mvm_host_xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);
		mvm_supported_xcr0 = mvm_host_xcr0 &
			(XFEATURE_MASK_FP | XFEATURE_MASK_SSE | XFEATURE_MASK_YMM |
			 XFEATURE_MASK_AVX512);
	}

	r = mvm_x86_ops->hardware_setup();
	if (r)
		goto out;
	r = mvm_hw_init();
	if (r)
		goto out_unsetup;
	preempt_notifier_inc();
	pr_info("using %s\n", mvm_x86_ops->name);
	return 0;

out_unsetup:
	mvm_x86_ops->hardware_unsetup();
out:
	mvm_x86_ops = NULL;
	return r;
}

void mvm_arch_exit(void)
{
	if (!mvm_x86_ops)
		return;
	preempt_notifier_dec();
	mvm_hw_exit();
	mvm_x86_ops->hardware_unsetup();
	mvm_x86_ops = NULL;
}

int mvm_arch_check_extension(struct mvm *mvm, long ext)
{
	switch (ext) {
	case KVM_CAP_SET_TSS_ADDR:
	case KVM_CAP_SET_IDENTITY_MAP_ADDR:
	case KVM_CAP_EXT_CPUID:
	case KVM_CAP_IMMEDIATE_EXIT:
	case KVM_CAP_READONLY_MEM:
	case KVM_CAP_VCPU_EVENTS:
	case KVM_CAP_USER_NMI:
	case KVM_CAP_MP_STATE:
	case KVM_CAP_DEBUGREGS:
	case KVM_CAP_GET_TSC_KHZ:
	case KVM_CAP_GET_MSR_FEATURES:
	case KVM_CAP_XSAVE:	/* without XSAVE: the FXSAVE image, as KVM */
		return 1;
	case KVM_CAP_XCRS:
		return boot_cpu_has(X86_FEATURE_XSAVE);
	case KVM_CAP_MCE:
		return MVM_MAX_MCE_BANKS;
	case KVM_CAP_PIT:		/* the in-kernel 8254: pit.c */
	case KVM_CAP_PIT2:
	case KVM_CAP_PIT_STATE2:
	case KVM_CAP_REINJECT_CONTROL:
		return 1;
	case KVM_CAP_ADJUST_CLOCK:
		return KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME |
		       KVM_CLOCK_HOST_TSC;
	case KVM_CAP_SPLIT_IRQCHIP:
	case KVM_CAP_IRQCHIP:
	case KVM_CAP_IRQ_INJECT_STATUS:
	case KVM_CAP_SIGNAL_MSI:
	case KVM_CAP_TSC_DEADLINE_TIMER:
		return 1;
	case KVM_CAP_X2APIC_API:
		return KVM_X2APIC_API_USE_32BIT_IDS |
		       KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK;
	case KVM_CAP_XSAVE2:
		return mvm_xsave2_size();
	default:
		return 0;
	}
}

/* ------------------------------------------------------------------ */
/* Requests and kicks                                                   */

static void mvm_kick_ipi(void *unused)
{
	/* The interrupt itself forced the VM exit; nothing else to do. */
}

/*
 * Post @req to every vCPU and wait until none is still running guest code
 * that predates it.  A vCPU sets vcpu->mode before it reads requests with
 * interrupts off; we set the request before reading vcpu->mode: either it
 * sees the request, or we see it in the guest and interrupt it.  The IPI
 * is handled only once that CPU has left the guest and enabled interrupts.
 */
void mvm_make_all_vcpus_request(struct mvm *mvm, int req)
{
	cpumask_var_t cpus;
	bool have_mask;
	int i, me;

	/* Not GFP_KERNEL: MMU notifier aging calls us under spinlocks. */
	have_mask = zalloc_cpumask_var(&cpus, GFP_ATOMIC | __GFP_NOWARN);
	me = get_cpu();
	for (i = 0; i < atomic_read(&mvm->online_vcpus); i++) {
		struct mvm_vcpu *vcpu = mvm->vcpus[i];
		int cpu;

		set_bit(req, &vcpu->requests);
		/* The request before the mode: pairs with the entry's. */
		smp_mb__after_atomic();
		cpu = READ_ONCE(vcpu->cpu);
		/* EXITING: a kick's IPI may not have landed yet; wait too. */
		if (READ_ONCE(vcpu->mode) != MVM_OUTSIDE_GUEST_MODE &&
		    cpu >= 0 && cpu != me) {
			if (have_mask)
				cpumask_set_cpu(cpu, cpus);
			else
				smp_call_function_single(cpu, mvm_kick_ipi, NULL, 1);
		}
	}
	if (have_mask) {
		smp_call_function_many(cpus, mvm_kick_ipi, NULL, 1);
		free_cpumask_var(cpus);
	}
	put_cpu();
}

/*
 * Any context (hard IRQ, spinlocks held): the caller has already made
 * its event visible (an IRR bit, a request bit) and it must be followed
 * by the vCPU soon.  A vCPU sleeping in HLT is woken (its thread
 * re-checks for events once awake, mvm_vcpu_block()).  A vCPU in guest
 * mode on another CPU gets a reschedule IPI: any host interrupt makes
 * the guest exit, and the thread reads requests again before the next
 * entry.  This pairs with mvm_vcpu_enter_guest(), which sets
 * IN_GUEST_MODE (full barrier) before it reads requests: the caller's
 * write comes before our read of vcpu->mode (a locked cmpxchg), so
 * either the vCPU sees the event before entry or we see it in guest
 * mode.  The cmpxchg to EXITING lets only the first of several kicks
 * send an IPI.  On the vCPU's own CPU there is nothing to do: the
 * thread is not in the guest there (IRQs are off from IN_GUEST_MODE to
 * the exit) and reads requests before it enters again.
 */
void mvm_vcpu_kick(struct mvm_vcpu *vcpu)
{
	int me, cpu;

	if (rcuwait_wake_up(&vcpu->wait))
		return;

	me = get_cpu();
	if (cmpxchg(&vcpu->mode, MVM_IN_GUEST_MODE, MVM_EXITING_GUEST_MODE) ==
	    MVM_IN_GUEST_MODE) {
		/*
		 * The thread may migrate after this read: an IPI to its old
		 * CPU is harmless, since migrating took it out of the guest.
		 */
		cpu = READ_ONCE(vcpu->cpu);
		if (cpu != me && (unsigned int)cpu < nr_cpu_ids &&
		    cpu_online(cpu))
			smp_send_reschedule(cpu);
	}
	put_cpu();
}

void mvm_arch_flush_memslot(struct mvm *mvm, const struct mvm_memory_slot *slot)
{
	mvm_mmu_zap_gfn_range(mvm, slot->base_gfn, slot->base_gfn + slot->npages);
}

bool mvm_arch_write_protect_mask(struct mvm *mvm, gfn_t base,
				 unsigned long mask)
{
	return mvm_mmu_write_protect_mask(mvm, base, mask);
}

void mvm_arch_flush_remote_tlbs(struct mvm *mvm)
{
	mvm_make_all_vcpus_request(mvm, MVM_REQ_TLB_FLUSH);
}

/* ------------------------------------------------------------------ */
/* VM                                                                   */

struct mvm *mvm_arch_alloc_vm(void)
{
	return kzalloc(mvm_x86_ops->vm_size, GFP_KERNEL_ACCOUNT);
}

void mvm_arch_free_vm(struct mvm *mvm)
{
	kfree(mvm);
}

int mvm_arch_vm_init(struct mvm *mvm)
{
	int r;

	r = init_srcu_struct(&mvm->arch.irq_srcu);
	if (r)
		return r;
	mutex_init(&mvm->arch.irq_lock);
	INIT_HLIST_HEAD(&mvm->arch.irq_ack_notifier_list);
	mvm->arch.ibpb_id = atomic64_inc_return(&mvm_next_ibpb_id);
	mvm_tsc_vm_init(mvm);
	mvm_kvmclock_vm_init(mvm);
	r = mvm_mmu_init(mvm);
	if (r)
		cleanup_srcu_struct(&mvm->arch.irq_srcu);
	return r;
}

/*
 * The PIT's timer and worker raise GSI 0, and the PIC and IOAPIC then
 * look at the vCPUs: they must stop before the vCPUs go.
 */
/*
 * VM destruction, before the vCPUs are freed: stop every interrupt source
 * that runs on its own (the PIT's timer and worker, the IOAPIC's delayed
 * storm redelivery), since delivery walks the vCPUs.  The LAPIC timers go
 * with their vCPUs and deliver only to their own APIC.  KVM orders it so
 * too (kvm_arch_sync_events(), then kvm_destroy_vcpus()).
 */
void mvm_arch_sync_events(struct mvm *mvm)
{
	mvm_pit_destroy(mvm);
	mvm_irqchip_destroy(mvm);
	/* Its callbacks flush the vCPUs: gone before they are. */
	mvm_mmu_notifier_unregister(mvm);
}

void mvm_arch_vm_destroy(struct mvm *mvm)
{
	mvm_mmu_destroy(mvm);
	cleanup_srcu_struct(&mvm->arch.irq_srcu);
}

/* KVM_ENABLE_CAP on the VM fd (api.rst 7.x). */
static int mvm_vm_enable_cap(struct mvm *mvm, struct kvm_enable_cap *cap)
{
	int r;

	if (cap->flags)
		return -EINVAL;

	switch (cap->cap) {
	case KVM_CAP_SPLIT_IRQCHIP:
		return mvm_enable_split_irqchip(mvm, cap->args[0]);
	case KVM_CAP_X2APIC_API:
		/* 32-bit x2APIC ids in LAPIC state and MSIs (lapic.c). */
		if (cap->args[0] & ~(u64)(KVM_X2APIC_API_USE_32BIT_IDS |
				      KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK))
			return -EINVAL;
		mutex_lock(&mvm->lock);
		r = 0;
		mvm->arch.x2apic_api_flags = cap->args[0];
		mutex_unlock(&mvm->lock);
		return r;
	default:
		return -EINVAL;
	}
}

long mvm_arch_vm_ioctl(struct mvm *mvm, unsigned int ioctl, unsigned long arg)
{
	long r;

	switch (ioctl) {
	case KVM_ENABLE_CAP: {
		struct kvm_enable_cap cap;

		if (copy_from_user(&cap, (void __user *)arg, sizeof(cap)))
			return -EFAULT;
		return mvm_vm_enable_cap(mvm, &cap);
	}
	case KVM_SET_TSS_ADDR:
		/*
		 * Only VT-x without unrestricted guest needs this TSS; we
		 * require unrestricted guest.  Keep KVM's VMX range check.
		 */
		if (arg > (unsigned int)(-3 * PAGE_SIZE))
			return -EINVAL;
		mvm->arch.tss_addr = arg;
		return 0;
	case KVM_GET_CLOCK:
		return mvm_vm_get_clock(mvm, (void __user *)arg);
	case KVM_SET_CLOCK:
		return mvm_vm_set_clock(mvm, (void __user *)arg);
	case KVM_SET_IDENTITY_MAP_ADDR: {
		u64 addr;

		mutex_lock(&mvm->lock);
		r = -EINVAL;
		if (mvm->created_vcpus)
			goto out_unlock;
		r = -EFAULT;
		if (copy_from_user(&addr, (void __user *)arg, sizeof(addr)))
			goto out_unlock;
		mvm->arch.identity_map_addr = addr;
		r = 0;
out_unlock:
		mutex_unlock(&mvm->lock);
		return r;
	}
	default:
		r = mvm_irq_vm_ioctl(mvm, ioctl, arg);
		if (r == -ENOTTY)
			r = mvm_pit_vm_ioctl(mvm, ioctl, arg);
		return r;
	}
}

/* ------------------------------------------------------------------ */
/* vCPU load/put: the vendor state follows the thread between CPUs      */

static inline struct mvm_vcpu *preempt_notifier_to_vcpu(struct preempt_notifier *pn)
{
	return container_of(pn, struct mvm_vcpu, preempt_notifier);
}

/* Preemption off: bind the vCPU to @cpu. */
static void mvm_vcpu_arrive(struct mvm_vcpu *vcpu, int cpu)
{
	u64 id = vcpu->mvm->arch.ibpb_id;

	if (unlikely(this_cpu_read(mvm_last_vm_ibpb_id) != id)) {
		this_cpu_write(mvm_last_vm_ibpb_id, id);
		indirect_branch_prediction_barrier();
	}
	mvm_x86_ops->vcpu_load(vcpu, cpu);
	WRITE_ONCE(vcpu->cpu, cpu);
	vcpu->arch.l1tf_flush_l1d = true;
}

static void mvm_sched_in(struct preempt_notifier *pn, int cpu)
{
	struct mvm_vcpu *vcpu = preempt_notifier_to_vcpu(pn);

	WRITE_ONCE(vcpu->preempted, false);
	mvm_vcpu_arrive(vcpu, cpu);
}

static void mvm_sched_out(struct preempt_notifier *pn, struct task_struct *next)
{
	struct mvm_vcpu *vcpu = preempt_notifier_to_vcpu(pn);

	/* Still runnable: preempted, a candidate for mvm_vcpu_on_spin(). */
	if (task_is_running(current))
		WRITE_ONCE(vcpu->preempted, true);
	WRITE_ONCE(vcpu->cpu, -1);
	mvm_x86_ops->vcpu_put(vcpu);
}

static struct preempt_ops mvm_preempt_ops = {
	.sched_in = mvm_sched_in,
	.sched_out = mvm_sched_out,
};

/*
 * Make the vendor state (the VMCS on VT-x) current on this CPU for the
 * duration of an ioctl; the preempt notifier moves it if we migrate.
 */
void mvm_vcpu_load(struct mvm_vcpu *vcpu)
{
	int cpu = get_cpu();

	preempt_notifier_register(&vcpu->preempt_notifier);
	mvm_vcpu_arrive(vcpu, cpu);
	put_cpu();
}

void mvm_vcpu_put(struct mvm_vcpu *vcpu)
{
	preempt_disable();
	WRITE_ONCE(vcpu->preempted, false);	/* back to userspace */
	WRITE_ONCE(vcpu->cpu, -1);
	mvm_x86_ops->vcpu_put(vcpu);
	preempt_notifier_unregister(&vcpu->preempt_notifier);
	preempt_enable();
}

/* ------------------------------------------------------------------ */
/* vCPU create / reset / free                                           */

/* The vendor's vCPU struct, which embeds struct mvm_vcpu. */
struct mvm_vcpu *mvm_arch_alloc_vcpu(void)
{
	return kzalloc(mvm_x86_ops->vcpu_size, GFP_KERNEL_ACCOUNT);
}

void mvm_arch_free_vcpu(struct mvm_vcpu *vcpu)
{
	kfree(vcpu);
}

/*
 * The RESET values of the registers that live in the VMCS/VMCB (SDM vol.
 * 3A 10.1.1 table 10-1, APM vol. 2 14.1.3), written through the vendor
 * ops after the vendor's vcpu_reset set up its VMCS/VMCB.  The segment
 * registers stay with the vendors: each encodes their hidden attributes
 * its own way, and KVM reports a different TR type on each.
 */
void mvm_set_reset_registers(struct mvm_vcpu *vcpu)
{
	const struct mvm_x86_ops *ops = mvm_x86_ops;
	struct desc_ptr dt = { .size = 0xffff, .address = 0 };

	ops->set_efer(vcpu, 0);
	ops->set_cr(vcpu, 0, X86_CR0_NW | X86_CR0_CD | X86_CR0_ET);
	ops->set_cr(vcpu, 3, 0);
	mvm_write_cr4(vcpu, 0);
	ops->set_gdt(vcpu, &dt);
	ops->set_idt(vcpu, &dt);
	ops->set_rflags(vcpu, X86_EFLAGS_FIXED);
	ops->set_dr7(vcpu, MVM_DR7_FIXED_1);
	ops->set_msr(vcpu, MSR_IA32_CR_PAT, MVM_PAT_RESET, true);
	/* The TSC counts on through a reset (tsc.c). */
	ops->set_tsc_offset(vcpu, vcpu->arch.tsc_offset);
}

/*
 * INIT (SDM vol. 3A 9.1, table 9-1; KVM's kvm_vcpu_reset(init_event)):
 * the registers of RESET, except that CR0.CD/NW, the MSRs (PAT, SYSCALL
 * and SYSENTER ones, EFER aside), XCR0, the FPU/SSE state and the TSC are
 * kept.  Written through the ops rather than the vendor's vcpu_reset,
 * which rebuilds the whole VMCS/VMCB, MSRs included.
 */
static void mvm_vcpu_init_registers(struct mvm_vcpu *vcpu)
{
	const struct mvm_x86_ops *ops = mvm_x86_ops;
	struct kvm_cpuid_entry2 *leaf1 = mvm_find_cpuid_entry(vcpu, 1, 0);
	struct desc_ptr dt = { .size = 0xffff, .address = 0 };
	unsigned long cr0 = ops->get_cr(vcpu, 0);
	struct kvm_segment seg = {
		.limit = 0xffff, .type = 3, .present = 1, .s = 1,
	};
	static const int data_segs[] = {
		VCPU_SREG_ES, VCPU_SREG_SS, VCPU_SREG_DS, VCPU_SREG_FS,
		VCPU_SREG_GS,
	};
	int i;

	ops->set_efer(vcpu, 0);
	ops->set_cr(vcpu, 0, X86_CR0_ET | (cr0 & (X86_CR0_CD | X86_CR0_NW)));
	ops->set_cr(vcpu, 2, 0);
	ops->set_cr(vcpu, 3, 0);
	mvm_write_cr4(vcpu, 0);

	for (i = 0; i < ARRAY_SIZE(data_segs); i++)
		ops->set_segment(vcpu, &seg, data_segs[i]);
	seg.type = 0xb;
	seg.selector = 0xf000;
	seg.base = 0xffff0000;
	ops->set_segment(vcpu, &seg, VCPU_SREG_CS);
	/* LDTR and TR as at RESET; TR keeps the type its vendor reports. */
	memset(&seg, 0, sizeof(seg));
	seg.limit = 0xffff;
	seg.present = 1;
	seg.type = 2;
	ops->set_segment(vcpu, &seg, VCPU_SREG_LDTR);
	ops->get_segment(vcpu, &seg, VCPU_SREG_TR);
	seg.selector = 0;
	seg.base = 0;
	seg.limit = 0xffff;
	ops->set_segment(vcpu, &seg, VCPU_SREG_TR);
	ops->set_gdt(vcpu, &dt);
	ops->set_idt(vcpu, &dt);
	ops->set_rflags(vcpu, X86_EFLAGS_FIXED);
	ops->set_dr7(vcpu, MVM_DR7_FIXED_1);
	ops->set_interrupt_shadow(vcpu, 0);
	ops->set_nmi_mask(vcpu, false);
	ops->flush_tlb(vcpu);

	memset(vcpu->arch.regs, 0, sizeof(vcpu->arch.regs));
	vcpu->arch.regs[MVM_REG_RDX] = leaf1 ? leaf1->eax : 0x600;
	vcpu->arch.regs[MVM_REG_RIP] = 0xfff0;
	vcpu->arch.regs_avail = ~0UL;
	vcpu->arch.regs_dirty = ~0UL;
}

/* Architectural RESET, as KVM's kvm_vcpu_reset() leaves it; or INIT. */
void mvm_vcpu_reset(struct mvm_vcpu *vcpu, bool init_event)
{
	struct mvm_vcpu_arch *arch = &vcpu->arch;

	if (init_event) {
		mvm_vcpu_init_registers(vcpu);
	} else {
		mvm_x86_ops->vcpu_reset(vcpu);
		mvm_set_reset_registers(vcpu);

		memset(arch->regs, 0, sizeof(arch->regs));
		/* RDX: the processor signature (CPUID.1:EAX); KVM's 0x600. */
		arch->regs[MVM_REG_RDX] = 0x600;
		arch->regs[MVM_REG_RIP] = 0xfff0;
		arch->regs_avail = ~0UL;
		arch->regs_dirty = ~0UL;

		arch->misc_enable = MSR_IA32_MISC_ENABLE_PEBS_UNAVAIL |
				    MSR_IA32_MISC_ENABLE_BTS_UNAVAIL;
		arch->xcr0 = XFEATURE_MASK_FP;
		arch->pkru = 0;
		arch->pkru_switched = false;
	}

	/*
	 * With an in-kernel LAPIC, as in KVM, only the BSP (vCPU id 0)
	 * starts running after RESET; the APs wait for INIT and SIPI (SDM
	 * vol. 3A 8.4.1), or for userspace to set their mp_state.  After
	 * INIT, mvm_apic_accept_events() decides.
	 */
	if (!init_event && mvm_lapic_in_kernel(vcpu) && vcpu->vcpu_id != 0)
		arch->mp_state = KVM_MP_STATE_UNINITIALIZED;
	else
		arch->mp_state = KVM_MP_STATE_RUNNABLE;
	arch->cr8 = 0;
	/* The APIC base MSR (0xfee00900 on the BSP), and the APIC itself. */
	mvm_lapic_reset(vcpu, init_event);
	memset(arch->db, 0, sizeof(arch->db));
	arch->dr6 = MVM_DR6_FIXED_1;
	arch->dr7 = MVM_DR7_FIXED_1;	/* and in the VMCS/VMCB, above */
	mvm_events_reset(vcpu);
	arch->complete_userspace_io = NULL;
	set_bit(MVM_REQ_EVENT, &vcpu->requests);
}

int mvm_arch_vcpu_create(struct mvm_vcpu *vcpu)
{
	int r;

	/* Creating the VMCS/VMCB needs the hardware on (see hw.c). */
	if (mvm_arch_rebooting())
		return -EIO;

	preempt_notifier_init(&vcpu->preempt_notifier, &mvm_preempt_ops);
	rcuwait_init(&vcpu->wait);

	if (!fpu_alloc_guest_fpstate(&vcpu->arch.guest_fpu))
		return -ENOMEM;

	r = mvm_entry_work_init(vcpu);
	if (r)
		goto out_fpu;

	r = mvm_x86_ops->vcpu_create(vcpu);
	if (r)
		goto out_shim;

	if (mvm_irqchip_in_kernel(vcpu->mvm)) {
		r = mvm_lapic_create(vcpu);
		if (r)
			goto out_vendor;
	}

	mvm_vcpu_load(vcpu);
	mvm_vcpu_reset(vcpu, false);
	mvm_msr_vcpu_init(vcpu);
	mvm_tsc_vcpu_init(vcpu);
	mvm_vcpu_put(vcpu);
	/* With an in-kernel APIC the APs wait for INIT and SIPI (as KVM). */
	if (mvm_lapic_in_kernel(vcpu) && vcpu->vcpu_id != 0)
		vcpu->arch.mp_state = KVM_MP_STATE_UNINITIALIZED;
	return 0;

out_vendor:
	mvm_x86_ops->vcpu_free(vcpu);
out_shim:
	mvm_entry_work_free(vcpu);
out_fpu:
	fpu_free_guest_fpstate(&vcpu->arch.guest_fpu);
	return r;
}

/* Undoes mvm_arch_vcpu_create() and what the vCPU gathered since. */
void mvm_arch_vcpu_destroy(struct mvm_vcpu *vcpu)
{
	mvm_lapic_free(vcpu);
	mvm_x86_ops->vcpu_free(vcpu);
	mvm_mmu_free_page_cache(vcpu);
	mvm_entry_work_free(vcpu);
	fpu_free_guest_fpstate(&vcpu->arch.guest_fpu);
	kvfree(vcpu->arch.cpuid_entries);
}

/* ------------------------------------------------------------------ */
/* /dev/mvm ioctls                                                      */

long mvm_arch_dev_ioctl(unsigned int ioctl, unsigned long arg)
{
	switch (ioctl) {
	case KVM_GET_SUPPORTED_CPUID:
		return mvm_dev_get_supported_cpuid((void __user *)arg);
	case KVM_GET_MSR_INDEX_LIST:
		return mvm_dev_get_msr_index_list((void __user *)arg);
	case KVM_GET_MSR_FEATURE_INDEX_LIST:
		return mvm_dev_get_feature_msr_index_list((void __user *)arg);
	case KVM_GET_MSRS:
		return mvm_dev_get_feature_msrs((void __user *)arg);
	case KVM_X86_GET_MCE_CAP_SUPPORTED:
		return mvm_dev_get_mce_cap_supported((void __user *)arg);
	default:
		return -EINVAL;
	}
}

/* ------------------------------------------------------------------ */
/* KVM_GET/SET_REGS, KVM_GET/SET_SREGS                                  */

static void mvm_get_regs(struct mvm_vcpu *vcpu, struct kvm_regs *regs)
{
	regs->rax = mvm_register_read(vcpu, MVM_REG_RAX);
	regs->rbx = mvm_register_read(vcpu, MVM_REG_RBX);
	regs->rcx = mvm_register_read(vcpu, MVM_REG_RCX);
	regs->rdx = mvm_register_read(vcpu, MVM_REG_RDX);
	regs->rsi = mvm_register_read(vcpu, MVM_REG_RSI);
	regs->rdi = mvm_register_read(vcpu, MVM_REG_RDI);
	regs->rsp = mvm_register_read(vcpu, MVM_REG_RSP);
	regs->rbp = mvm_register_read(vcpu, MVM_REG_RBP);
	regs->r8 = mvm_register_read(vcpu, MVM_REG_R8);
	regs->r9 = mvm_register_read(vcpu, MVM_REG_R9);
	regs->r10 = mvm_register_read(vcpu, MVM_REG_R10);
	regs->r11 = mvm_register_read(vcpu, MVM_REG_R11);
	regs->r12 = mvm_register_read(vcpu, MVM_REG_R12);
	regs->r13 = mvm_register_read(vcpu, MVM_REG_R13);
	regs->r14 = mvm_register_read(vcpu, MVM_REG_R14);
	regs->r15 = mvm_register_read(vcpu, MVM_REG_R15);
	regs->rip = mvm_rip_read(vcpu);
	regs->rflags = mvm_x86_ops->get_rflags(vcpu);
}

static void mvm_set_regs(struct mvm_vcpu *vcpu, const struct kvm_regs *regs)
{
	mvm_register_write(vcpu, MVM_REG_RAX, regs->rax);
	mvm_register_write(vcpu, MVM_REG_RBX, regs->rbx);
	mvm_register_write(vcpu, MVM_REG_RCX, regs->rcx);
	mvm_register_write(vcpu, MVM_REG_RDX, regs->rdx);
	mvm_register_write(vcpu, MVM_REG_RSI, regs->rsi);
	mvm_register_write(vcpu, MVM_REG_RDI, regs->rdi);
	mvm_register_write(vcpu, MVM_REG_RSP, regs->rsp);
	mvm_register_write(vcpu, MVM_REG_RBP, regs->rbp);
	mvm_register_write(vcpu, MVM_REG_R8, regs->r8);
	mvm_register_write(vcpu, MVM_REG_R9, regs->r9);
	mvm_register_write(vcpu, MVM_REG_R10, regs->r10);
	mvm_register_write(vcpu, MVM_REG_R11, regs->r11);
	mvm_register_write(vcpu, MVM_REG_R12, regs->r12);
	mvm_register_write(vcpu, MVM_REG_R13, regs->r13);
	mvm_register_write(vcpu, MVM_REG_R14, regs->r14);
	mvm_register_write(vcpu, MVM_REG_R15, regs->r15);
	mvm_rip_write(vcpu, regs->rip);
	mvm_x86_ops->set_rflags(vcpu, regs->rflags | X86_EFLAGS_FIXED);
	/* As KVM: new registers discard an exception not yet delivered. */
	vcpu->arch.exception.pending = false;
	set_bit(MVM_REQ_EVENT, &vcpu->requests);
}

static void mvm_get_sregs(struct mvm_vcpu *vcpu, struct kvm_sregs *sregs)
{
	const struct mvm_x86_ops *ops = mvm_x86_ops;
	struct desc_ptr dt;

	memset(sregs, 0, sizeof(*sregs));
	ops->get_segment(vcpu, &sregs->cs, VCPU_SREG_CS);
	ops->get_segment(vcpu, &sregs->ds, VCPU_SREG_DS);
	ops->get_segment(vcpu, &sregs->es, VCPU_SREG_ES);
	ops->get_segment(vcpu, &sregs->fs, VCPU_SREG_FS);
	ops->get_segment(vcpu, &sregs->gs, VCPU_SREG_GS);
	ops->get_segment(vcpu, &sregs->ss, VCPU_SREG_SS);
	ops->get_segment(vcpu, &sregs->tr, VCPU_SREG_TR);
	ops->get_segment(vcpu, &sregs->ldt, VCPU_SREG_LDTR);
	ops->get_idt(vcpu, &dt);
	sregs->idt.limit = dt.size;
	sregs->idt.base = dt.address;
	ops->get_gdt(vcpu, &dt);
	sregs->gdt.limit = dt.size;
	sregs->gdt.base = dt.address;
	sregs->cr0 = ops->get_cr(vcpu, 0);
	sregs->cr2 = ops->get_cr(vcpu, 2);
	sregs->cr3 = ops->get_cr(vcpu, 3);
	sregs->cr4 = ops->get_cr(vcpu, 4);
	sregs->cr8 = vcpu->arch.cr8;
	sregs->efer = ops->get_efer(vcpu);
	sregs->apic_base = vcpu->arch.apic_base;
	mvm_get_interrupt_bitmap(vcpu, sregs->interrupt_bitmap);
}


/*
 * EFER in KVM_SET_SREGS, for kernels whose KVM checks it there
 * (mvm_sregs_check_efer()): the bits mvm gives a guest, each only if the
 * vCPU's CPUID has it (leaf 0x80000001 EDX: LM, NX), as KVM's
 * kvm_valid_efer().  SCE is not tied to CPUID there.
 */
static bool mvm_valid_sregs_efer(struct mvm_vcpu *vcpu, u64 efer)
{
	struct kvm_cpuid_entry2 *e = mvm_find_cpuid_entry(vcpu, 0x80000001, 0);
	u32 edx = e ? e->edx : 0;

	if (efer & ~(u64)(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX))
		return false;
	if ((efer & (EFER_LME | EFER_LMA)) && !(edx & BIT(29)))
		return false;
	return !(efer & EFER_NX) || (edx & BIT(20));
}

/*
 * kvm_is_valid_sregs() in Linux 6.1, plus the APIC base check.  Like that
 * KVM it does not check EFER: reserved EFER bits fail VM entry (APM
 * 15.5.1, SDM 26.3.1.1), which KVM_RUN reports as KVM_EXIT_FAIL_ENTRY.
 * Built for 6.12, it does, as that KVM (mvm_valid_sregs_efer()).
 */
static bool mvm_valid_sregs(struct mvm_vcpu *vcpu,
			    const struct kvm_sregs *sregs)
{
	if ((sregs->efer & EFER_LME) && (sregs->cr0 & X86_CR0_PG)) {
		if (!(sregs->cr4 & X86_CR4_PAE) || !(sregs->efer & EFER_LMA))
			return false;
		if (sregs->cr3 & GENMASK_ULL(63, mvm_guest_maxphyaddr(vcpu)))
			return false;
	} else {
		if ((sregs->efer & EFER_LMA) || sregs->cs.l)
			return false;
	}
	/* kvm_is_valid_cr0(): what MOV to CR0 would #GP on (SDM 2.5). */
	if (upper_32_bits(sregs->cr0))
		return false;
	if ((sregs->cr0 & X86_CR0_NW) && !(sregs->cr0 & X86_CR0_CD))
		return false;
	if ((sregs->cr0 & X86_CR0_PG) && !(sregs->cr0 & X86_CR0_PE))
		return false;
	if (sregs->cr4 & mvm_cr4_reserved_bits())
		return false;
	if (mvm_sregs_check_efer() && !mvm_valid_sregs_efer(vcpu, sregs->efer))
		return false;
	return mvm_valid_apic_base(vcpu, sregs->apic_base);
}

static int mvm_set_sregs(struct mvm_vcpu *vcpu, const struct kvm_sregs *sregs)
{
	const struct mvm_x86_ops *ops = mvm_x86_ops;
	struct desc_ptr dt;

	if (!mvm_valid_sregs(vcpu, sregs))
		return -EINVAL;

	mvm_set_apic_base(vcpu, sregs->apic_base, true);
	if (mvm_lapic_in_kernel(vcpu))
		mvm_lapic_set_cr8(vcpu, sregs->cr8);
	else
		vcpu->arch.cr8 = sregs->cr8;
	ops->set_cr(vcpu, 2, sregs->cr2);
	ops->set_cr(vcpu, 3, sregs->cr3);
	ops->set_efer(vcpu, sregs->efer);
	mvm_set_cr0(vcpu, sregs->cr0);
	mvm_write_cr4(vcpu, sregs->cr4);

	ops->set_segment(vcpu, &sregs->cs, VCPU_SREG_CS);
	ops->set_segment(vcpu, &sregs->ds, VCPU_SREG_DS);
	ops->set_segment(vcpu, &sregs->es, VCPU_SREG_ES);
	ops->set_segment(vcpu, &sregs->fs, VCPU_SREG_FS);
	ops->set_segment(vcpu, &sregs->gs, VCPU_SREG_GS);
	ops->set_segment(vcpu, &sregs->ss, VCPU_SREG_SS);
	ops->set_segment(vcpu, &sregs->tr, VCPU_SREG_TR);
	ops->set_segment(vcpu, &sregs->ldt, VCPU_SREG_LDTR);

	dt.size = sregs->idt.limit;
	dt.address = sregs->idt.base;
	ops->set_idt(vcpu, &dt);
	dt.size = sregs->gdt.limit;
	dt.address = sregs->gdt.base;
	ops->set_gdt(vcpu, &dt);

	mvm_set_interrupt_bitmap(vcpu, sregs->interrupt_bitmap);
	return 0;
}

long mvm_arch_vcpu_ioctl(struct mvm_vcpu *vcpu, unsigned int ioctl,
			 unsigned long arg)
{
	void __user *argp = (void __user *)arg;
	long r;

	switch (ioctl) {
	case KVM_GET_REGS: {
		struct kvm_regs regs;

		mvm_vcpu_load(vcpu);
		mvm_get_regs(vcpu, &regs);
		mvm_vcpu_put(vcpu);
		return copy_to_user(argp, &regs, sizeof(regs)) ? -EFAULT : 0;
	}
	case KVM_SET_REGS: {
		struct kvm_regs regs;

		if (copy_from_user(&regs, argp, sizeof(regs)))
			return -EFAULT;
		mvm_vcpu_load(vcpu);
		mvm_set_regs(vcpu, &regs);
		mvm_vcpu_put(vcpu);
		return 0;
	}
	case KVM_GET_SREGS: {
		struct kvm_sregs sregs;

		mvm_vcpu_load(vcpu);
		mvm_get_sregs(vcpu, &sregs);
		mvm_vcpu_put(vcpu);
		return copy_to_user(argp, &sregs, sizeof(sregs)) ? -EFAULT : 0;
	}
	case KVM_SET_SREGS: {
		struct kvm_sregs sregs;

		if (copy_from_user(&sregs, argp, sizeof(sregs)))
			return -EFAULT;
		mvm_vcpu_load(vcpu);
		r = mvm_set_sregs(vcpu, &sregs);
		mvm_vcpu_put(vcpu);
		return r;
	}
	case KVM_SET_CPUID2:
		return mvm_vcpu_set_cpuid2(vcpu, argp);
	case KVM_GET_CPUID2:
		return mvm_vcpu_get_cpuid2(vcpu, argp);
	case KVM_GET_MSRS:
	case KVM_SET_MSRS:
		mvm_vcpu_load(vcpu);
		r = mvm_vcpu_msr_io(vcpu, argp, ioctl == KVM_SET_MSRS);
		mvm_vcpu_put(vcpu);
		return r;
	case KVM_INTERRUPT:
		return mvm_vcpu_ioctl_interrupt(vcpu, argp);
	case KVM_NMI:
		return mvm_vcpu_ioctl_nmi(vcpu);
	case KVM_GET_VCPU_EVENTS:
		return mvm_vcpu_ioctl_get_vcpu_events(vcpu, argp);
	case KVM_SET_VCPU_EVENTS:
		return mvm_vcpu_ioctl_set_vcpu_events(vcpu, argp);
	case KVM_GET_MP_STATE:
	case KVM_SET_MP_STATE:
	case KVM_GET_FPU:
	case KVM_SET_FPU:
	case KVM_GET_XSAVE:
	case KVM_GET_XSAVE2:
	case KVM_SET_XSAVE:
	case KVM_GET_XCRS:
	case KVM_SET_XCRS:
	case KVM_GET_DEBUGREGS:
	case KVM_SET_DEBUGREGS:
		mvm_vcpu_load(vcpu);
		r = mvm_vcpu_state_ioctl(vcpu, ioctl, argp);
		mvm_vcpu_put(vcpu);
		return r;
	case KVM_SET_VAPIC_ADDR: {
		struct kvm_vapic_addr va;

		/*
		 * The TPR shadow page of QEMU's kvmvapic option ROM, used
		 * only with KVM_CAP_VAPIC, which mvm does not offer (no TPR
		 * access reporting).  QEMU's APIC reset still writes 0
		 * ("none"): accepted, as by KVM; a page is refused.
		 */
		if (copy_from_user(&va, argp, sizeof(va)))
			return -EFAULT;
		if (!mvm_lapic_in_kernel(vcpu) || va.vapic_addr)
			return -EINVAL;
		return 0;
	}
	case KVM_GET_LAPIC:
		return mvm_vcpu_ioctl_get_lapic(vcpu, argp);
	case KVM_SET_LAPIC:
		return mvm_vcpu_ioctl_set_lapic(vcpu, argp);
	case KVM_X86_SETUP_MCE:
		return mvm_vcpu_setup_mce(vcpu, argp);
	case KVM_X86_SET_MCE:
		mvm_vcpu_load(vcpu);
		r = mvm_vcpu_set_mce(vcpu, argp);
		mvm_vcpu_put(vcpu);
		return r;
	case KVM_GET_TSC_KHZ:
		return vcpu->arch.tsc_khz;
	case KVM_SET_TSC_KHZ:
		return mvm_vcpu_set_tsc_khz(vcpu, arg);
	default:
		return -EINVAL;
	}
}

/* ------------------------------------------------------------------ */
/* The run loop                                                         */

/* Context tracking and time accounting, as for a return to user mode. */
static __always_inline void mvm_guest_enter_irqoff(void)
{
	if (vtime_accounting_enabled_this_cpu())
		vtime_guest_enter(current);
	else
		current->flags |= PF_VCPU;

	/*
	 * Guest mode is an RCU quiescent state, like user mode: tell
	 * context tracking, or RCU directly when context tracking is off.
	 */
	if (!context_tracking_guest_enter())
		mvm_rcu_virt_note_context_switch();
}

static __always_inline void mvm_guest_exit_irqoff(void)
{
	context_tracking_guest_exit();
}

static __always_inline void mvm_guest_timing_exit_irqoff(void)
{
	if (vtime_accounting_enabled_this_cpu())
		vtime_guest_exit(current);
	else
		current->flags &= ~PF_VCPU;
}

/*
 * The guest enabled a breakpoint: its DR0-3 must be in the hardware while
 * it runs (DR7 comes from the VMCS/VMCB).  Host breakpoints are disarmed
 * first so that none fires on a guest address in the host.
 */
static void mvm_load_guest_drs(struct mvm_vcpu *vcpu)
{
	set_debugreg(0, 7);
	set_debugreg(vcpu->arch.db[0], 0);
	set_debugreg(vcpu->arch.db[1], 1);
	set_debugreg(vcpu->arch.db[2], 2);
	set_debugreg(vcpu->arch.db[3], 3);
}

static void mvm_put_guest_drs(void)
{
	if (hw_breakpoint_active())
		hw_breakpoint_restore();	/* DR0-3, DR6, DR7 */
	else
		set_debugreg(MVM_DR7_FIXED_1, 7);
}

/* Fill what kvm_run reports on every exit (post_kvm_run_save in KVM). */
static void mvm_post_run_save(struct mvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	run->if_flag = !!(mvm_x86_ops->get_rflags(vcpu) & X86_EFLAGS_IF);
	run->cr8 = vcpu->arch.cr8;
	run->apic_base = vcpu->arch.apic_base;
	run->ready_for_interrupt_injection =
		mvm_ready_for_interrupt_injection(vcpu);
}

/* KVM_EXIT_IOAPIC_EOI for the vector mvm_apic_eoi_broadcast() left. */
static int mvm_ioapic_eoi_exit(struct mvm_vcpu *vcpu)
{
	clear_bit(MVM_REQ_IOAPIC_EOI_EXIT, &vcpu->requests);
	vcpu->run->exit_reason = KVM_EXIT_IOAPIC_EOI;
	vcpu->run->eoi.vector = vcpu->arch.pending_ioapic_eoi;
	return 0;
}

/*
 * Statistics of the run loop (include/linux/mvm_host.h): one RDTSC just
 * before the entry and one just after the exit give the time in the
 * guest and, with the next entry (or the return to userspace), each
 * exit's latency in mvm.  TSCs of different CPUs may differ a little:
 * a stretch that seems to go backwards counts as 0.
 */
static __always_inline u64 mvm_stat_cycles(u64 from, u64 to)
{
	return (s64)(to - from) > 0 ? to - from : 0;
}

/* KVM_STATS_TYPE_LOG_HIST: bucket 0 is [0, 1), bucket i [2^(i-1), 2^i). */
static __always_inline void mvm_stat_log_hist(u64 *hist, u64 value)
{
	hist[min_t(unsigned int, fls64(value), MVM_STAT_HIST_BUCKETS - 1)]++;
}

/* The exit of the last entry is over at @now: count its latency. */
static __always_inline void mvm_stat_exit_done(struct mvm_vcpu *vcpu, u64 now)
{
	struct mvm_vcpu_stat_clock *c = &vcpu->stat_clock;
	u64 cycles;

	if (!c->exit_open)
		return;
	c->exit_open = false;
	cycles = mvm_stat_cycles(c->exit_tsc, now);
	mvm_stat_log_hist(vcpu->stat.exit_latency_hist[c->reason], cycles);
	if (cycles > vcpu->stat.exit_latency_max)
		vcpu->stat.exit_latency_max = cycles;
}

/* KVM_RUN begins: the time since it last returned was userspace's. */
static void mvm_stat_run_begin(struct mvm_vcpu *vcpu)
{
	struct mvm_vcpu_stat_clock *c = &vcpu->stat_clock;
	u64 now = rdtsc();

	if (c->return_tsc)
		vcpu->stat.user_cycles += mvm_stat_cycles(c->return_tsc, now);
	c->mark_tsc = now;
}

/* KVM_RUN returns @r: to userspace with kvm_run->exit_reason, or not. */
static void mvm_stat_run_end(struct mvm_vcpu *vcpu, int r)
{
	struct mvm_vcpu_stat_clock *c = &vcpu->stat_clock;
	u64 now = rdtsc();

	mvm_stat_exit_done(vcpu, now);
	vcpu->stat.mvm_cycles += mvm_stat_cycles(c->mark_tsc, now);
	c->return_tsc = now;
	if (r == 0 || r == -EINTR) {
		/* -EINTR is KVM_EXIT_INTR, even where exit_reason is stale. */
		u32 reason = r ? KVM_EXIT_INTR : vcpu->run->exit_reason;

		vcpu->stat.userspace_exits++;
		vcpu->stat.userspace_exits_by_reason[min_t(u32, reason,
							   MVM_STAT_USER_REASONS - 1)]++;
	}
}

/* 1: keep going, 0: back to userspace, <0: error. */
static int mvm_vcpu_enter_guest(struct mvm_vcpu *vcpu)
{
	struct mvm_vcpu_stat_clock *clock = &vcpu->stat_clock;
	u64 now;
	int r;

	bool switch_xcr0, guest_drs;
	u32 host_pkru = 0;

	/*
	 * Work that sleeps or writes guest memory: before preemption and
	 * interrupts are off.  One plain test on the common path.
	 */
	if (unlikely(READ_ONCE(vcpu->requests) &
		     (BIT(MVM_REQ_CLOCK_UPDATE) | BIT(MVM_REQ_APIC_EVENTS) |
		      BIT(MVM_REQ_IOAPIC_EOI_EXIT)))) {
		/*
		 * Split irqchip: userspace's IOAPIC hears the EOI first.  Only
		 * this thread sets the request (the guest's EOI), so it cannot
		 * appear later, before entry.
		 */
		if (test_bit(MVM_REQ_IOAPIC_EOI_EXIT, &vcpu->requests))
			return mvm_ioapic_eoi_exit(vcpu);
		if (test_and_clear_bit(MVM_REQ_APIC_EVENTS, &vcpu->requests) &&
		    mvm_apic_accept_events(vcpu) &&
		    vcpu->arch.mp_state != KVM_MP_STATE_RUNNABLE)
			return 1;	/* INIT: wait for the SIPI */
		if (test_bit(MVM_REQ_CLOCK_UPDATE, &vcpu->requests)) {
			clear_bit(MVM_REQ_CLOCK_UPDATE, &vcpu->requests);
			mvm_kvmclock_update(vcpu);
		}
	}

	preempt_disable();
	local_irq_disable();

	/* The mode before the requests: pairs with mvm_vcpu_kick()'s. */
	smp_store_mb(vcpu->mode, MVM_IN_GUEST_MODE);
	if (unlikely(READ_ONCE(vcpu->requests))) {
		if (test_and_clear_bit(MVM_REQ_TLB_FLUSH, &vcpu->requests)) {
			mvm_x86_ops->flush_tlb(vcpu);
			vcpu->stat.tlb_flush++;
		}
	}
	/* An INIT/SIPI that came after the check at the top: go round. */
	if (unlikely(mvm_entry_work_pending() || !mvm_hw_enabled_this_cpu() ||
		     (READ_ONCE(vcpu->requests) &
		      (BIT(MVM_REQ_TRIPLE_FAULT) | BIT(MVM_REQ_CLOCK_UPDATE) |
		       BIT(MVM_REQ_APIC_EVENTS))))) {
		vcpu->mode = MVM_OUTSIDE_GUEST_MODE;
		local_irq_enable();
		preempt_enable();
		if (!mvm_hw_enabled_this_cpu())
			return -EIO;	/* the system is rebooting */
		if (test_and_clear_bit(MVM_REQ_TRIPLE_FAULT, &vcpu->requests))
			return mvm_handle_triple_fault(vcpu);
		return mvm_handle_entry_work(vcpu) ? -EINTR : 1;
	}

	/* Past the last bail-out: what is injected now is entered with. */
	if (unlikely(test_bit(MVM_REQ_EVENT, &vcpu->requests) ||
		     vcpu->run->request_interrupt_window)) {
		clear_bit(MVM_REQ_EVENT, &vcpu->requests);
		mvm_inject_pending_events(vcpu);
		if (mvm_userspace_wants_irq_window(vcpu))
			mvm_x86_ops->enable_irq_window(vcpu);
	}

	/*
	 * The guest's FPU registers were saved away if anything used the FPU
	 * since the last exit (a softirq's kernel_fpu_begin(), a context
	 * switch): put them back, or the guest runs on someone else's.
	 */
	if (test_thread_flag(TIF_NEED_FPU_LOAD))
		switch_fpu_return();

	switch_xcr0 = mvm_host_xcr0 && vcpu->arch.xcr0 != mvm_host_xcr0;
	if (switch_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, vcpu->arch.xcr0);
	if (unlikely(vcpu->arch.pkru_switched)) {
		host_pkru = rdpkru();
		if (vcpu->arch.pkru != host_pkru)
			wrpkru(vcpu->arch.pkru);
	}
	guest_drs = vcpu->arch.dr7 & MVM_DR7_BP_ENABLED;
	if (unlikely(guest_drs))
		mvm_load_guest_drs(vcpu);
	/* Last before the entry: the timer interrupt is not seen early. */
	if (unlikely(vcpu->arch.timer_expired_deadline))
		mvm_lapic_wait_expired_timer(vcpu);

	trace_mvm_entry(vcpu);
	now = rdtsc();
	mvm_stat_exit_done(vcpu, now);
	vcpu->stat.mvm_cycles += mvm_stat_cycles(clock->mark_tsc, now);
	clock->entry_tsc = now;
	mvm_guest_enter_irqoff();
	mvm_x86_ops->vcpu_run(vcpu);
	mvm_guest_exit_irqoff();
	now = rdtsc();
	vcpu->stat.guest_cycles += mvm_stat_cycles(clock->entry_tsc, now);
	mvm_stat_log_hist(vcpu->stat.guest_time_hist,
			  mvm_stat_cycles(clock->entry_tsc, now));
	clock->exit_tsc = now;
	clock->mark_tsc = now;
	/* The backend's handle_exit names the reason (mvm_stat_exit_reason()). */
	clock->reason = MVM_EXIT_STAT_OTHER;
	clock->exit_open = true;

	/*
	 * Before interrupts: nothing of the host may run with the guest's
	 * PKRU, breakpoints or XCR0.  A VM exit disables the host's
	 * breakpoints (DR7 = 0x400): re-arm them.
	 */
	if (unlikely(guest_drs || hw_breakpoint_active()))
		mvm_put_guest_drs();
	if (unlikely(vcpu->arch.pkru_switched)) {
		vcpu->arch.pkru = rdpkru();
		if (vcpu->arch.pkru != host_pkru)
			wrpkru(host_pkru);
	}
	if (switch_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, mvm_host_xcr0);
	/* VMSCAPE: the VMM must not run on predictions the guest trained. */
	if (cpu_feature_enabled(X86_FEATURE_IBPB_EXIT_TO_USER))
		this_cpu_write(x86_ibpb_exit_to_user, true);
	vcpu->mode = MVM_OUTSIDE_GUEST_MODE;

	/*
	 * Let the host take the interrupt or NMI that made the guest exit,
	 * still accounting the time as guest time, as KVM does.
	 */
	local_irq_enable();
	vcpu->stat.exits++;
	local_irq_disable();
	mvm_guest_timing_exit_irqoff();
	local_irq_enable();
	preempt_enable();

	r = mvm_x86_ops->handle_exit(vcpu);
	if (r > 0)
		vcpu->stat.kernel_exits++;
	return r;
}

/* ------------------------------------------------------------------ */
/* HLT and wait-for-SIPI: the vCPU's thread sleeps                      */

/* The guest executes instructions (KVM's kvm_vcpu_running()). */
static bool mvm_vcpu_running(struct mvm_vcpu *vcpu)
{
	return vcpu->arch.mp_state == KVM_MP_STATE_RUNNABLE;
}

/*
 * Something would end HLT (SDM vol. 2A "HLT": an enabled interrupt, NMI,
 * INIT, SMI; vol. 3A 8.4: INIT and SIPI for a vCPU waiting for them), in
 * KVM's kvm_vcpu_has_events() terms: an exception to deliver, an NMI
 * queued (even if NMIs are blocked, as KVM_REQ_NMI) or pending and
 * deliverable, an interrupt the guest accepts now (IF=1, no interrupt
 * shadow), INIT or SIPI pending at the LAPIC.
 */
static bool mvm_vcpu_has_events(struct mvm_vcpu *vcpu)
{
	const struct mvm_x86_ops *ops = mvm_x86_ops;

	if (mvm_lapic_in_kernel(vcpu) && mvm_apic_has_pending_events(vcpu))
		return true;
	if (vcpu->arch.exception.pending || vcpu->arch.exception.injected)
		return true;
	if (atomic_read(&vcpu->arch.nmi_queued) ||
	    (vcpu->arch.nmi_pending && ops->nmi_allowed(vcpu)))
		return true;
	return mvm_cpu_has_interrupt(vcpu) && ops->interrupt_allowed(vcpu);
}

/*
 * What ends the wait of a vCPU in @vcpu's mp_state: any event for HLT
 * (HALTED, AP_RESET_HOLD); only INIT or SIPI for a vCPU that waits for a
 * SIPI (UNINITIALIZED, INIT_RECEIVED: SDM vol. 3A 8.4.1; NMIs and
 * interrupts are not taken there, so a wait that ended for one would only
 * start again, spinning).
 */
static bool mvm_vcpu_has_wake_events(struct mvm_vcpu *vcpu)
{
	switch (vcpu->arch.mp_state) {
	case KVM_MP_STATE_HALTED:
	case KVM_MP_STATE_AP_RESET_HOLD:
		return mvm_vcpu_has_events(vcpu);
	default:
		return mvm_lapic_in_kernel(vcpu) &&
		       mvm_apic_has_pending_events(vcpu);
	}
}

/* Requests only the vCPU's thread can act on, with a halted guest too. */
#define MVM_BLOCK_EXIT_REQUESTS	(BIT(MVM_REQ_TRIPLE_FAULT) |		\
				 BIT(MVM_REQ_IOAPIC_EOI_EXIT))

/* Wake the thread: it is runnable, or must go to userspace, or ... */
static bool mvm_vcpu_should_wake(struct mvm_vcpu *vcpu)
{
	if (mvm_vcpu_running(vcpu) || mvm_vcpu_has_wake_events(vcpu))
		return true;
	if (READ_ONCE(vcpu->requests) &
	    (MVM_BLOCK_EXIT_REQUESTS | BIT(MVM_REQ_UNBLOCK)))
		return true;
	return signal_pending(current);
}

/*
 * Before sleeping in HLT, watch for a wake-up event for up to this many
 * ns, as KVM's halt_poll_ns: a wake-up that comes within it saves two
 * context switches, at the price of a CPU kept busy.  Off by default:
 * see Documentation/virt/mvm/performance.rst, "Halt polling".
 */
static unsigned int halt_poll_ns;
module_param(halt_poll_ns, uint, 0644);
MODULE_PARM_DESC(halt_poll_ns, "ns to poll for an event before a halted vCPU sleeps (0: off)");

/*
 * Poll with preemption on; stop as soon as another task wants this CPU
 * (the waker may be one) or it is time to reschedule.
 */
static bool mvm_vcpu_poll(struct mvm_vcpu *vcpu)
{
	unsigned int ns = READ_ONCE(halt_poll_ns);
	ktime_t stop;

	if (!ns)
		return false;
	stop = ktime_add_ns(ktime_get(), ns);
	do {
		if (mvm_vcpu_should_wake(vcpu))
			return true;
		cpu_relax();
	} while (single_task_running() && !need_resched() &&
		 ktime_before(ktime_get(), stop));
	return false;
}

/*
 * Sleep until mvm_vcpu_should_wake(), TASK_INTERRUPTIBLE, with the vCPU
 * still loaded: the preempt notifiers put it when the thread sleeps and
 * load it again on whatever CPU it wakes up.  Every event source sets its
 * state first and then calls mvm_vcpu_kick(), whose rcuwait_wake_up()
 * has a full barrier before it reads vcpu->wait; set_current_state() has
 * one between our publication in vcpu->wait / the task state and the
 * checks.  So either the check sees the event or the waker sees us.
 */
static void mvm_vcpu_sleep(struct mvm_vcpu *vcpu)
{
	prepare_to_rcuwait(&vcpu->wait);
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (mvm_vcpu_should_wake(vcpu))
			break;
		schedule();
	}
	finish_rcuwait(&vcpu->wait);	/* and TASK_RUNNING */
}

/*
 * A vCPU that does not run guest code: HALTED (HLT with the LAPIC in the
 * kernel), INIT_RECEIVED (waiting for a SIPI), AP_RESET_HOLD.  1 to go
 * round the run loop, 0 for userspace, <0 an errno, as the exit
 * handlers.  On an event, HALTED becomes RUNNABLE (the guest resumes
 * after its HLT, where the interrupt is delivered); INIT and SIPI change
 * mp_state only through the LAPIC (mvm_apic_accept_events()).  A signal
 * leaves mp_state as it is: the next KVM_RUN sleeps again.
 */
static int mvm_vcpu_block(struct mvm_vcpu *vcpu)
{
	unsigned long reqs;

	mvm_apic_accept_events(vcpu);
	if (mvm_vcpu_running(vcpu))
		return 1;

	if (!mvm_vcpu_has_wake_events(vcpu)) {
		u64 start = rdtsc();

		/* Only HLT polls: a SIPI is rare and not worth a busy CPU. */
		if (vcpu->arch.mp_state != KVM_MP_STATE_HALTED ||
		    !mvm_vcpu_poll(vcpu))
			mvm_vcpu_sleep(vcpu);
		vcpu->stat.halt_cycles += mvm_stat_cycles(start, rdtsc());
		mvm_apic_accept_events(vcpu);
	}

	reqs = READ_ONCE(vcpu->requests);
	if (unlikely(reqs & MVM_BLOCK_EXIT_REQUESTS)) {
		if (test_and_clear_bit(MVM_REQ_TRIPLE_FAULT, &vcpu->requests))
			return mvm_handle_triple_fault(vcpu);
		if (test_bit(MVM_REQ_IOAPIC_EOI_EXIT, &vcpu->requests))
			return mvm_ioapic_eoi_exit(vcpu);
	}
	clear_bit(MVM_REQ_UNBLOCK, &vcpu->requests);

	if (!mvm_vcpu_running(vcpu) && !mvm_vcpu_has_wake_events(vcpu)) {
		/* A signal (or UNBLOCK): the caller handles entry work. */
		return 1;
	}

	switch (vcpu->arch.mp_state) {
	case KVM_MP_STATE_HALTED:
	case KVM_MP_STATE_AP_RESET_HOLD:
		vcpu->arch.mp_state = KVM_MP_STATE_RUNNABLE;
		vcpu->stat.halt_wakeups++;
		/* Whatever woke it is injected at this entry. */
		set_bit(MVM_REQ_EVENT, &vcpu->requests);
		break;
	default:
		/* INIT_RECEIVED: only a SIPI (accept_events) starts it. */
		break;
	}
	return 1;
}

/*
 * KVM_RUN on an AP that never got INIT (KVM's behaviour, kept for its
 * ABI): sleep once, until an event or a signal, and return -EAGAIN so
 * that userspace calls KVM_RUN again, or -EINTR (KVM_EXIT_INTR).
 */
static int mvm_vcpu_wait_uninitialized(struct mvm_vcpu *vcpu)
{
	if (mvm_run_immediate_exit(vcpu->run))
		return -EINTR;
	if (!mvm_vcpu_has_wake_events(vcpu))
		mvm_vcpu_sleep(vcpu);
	mvm_apic_accept_events(vcpu);
	if (signal_pending(current)) {
		vcpu->run->exit_reason = KVM_EXIT_INTR;
		vcpu->stat.signal_exits++;
		return -EINTR;
	}
	return -EAGAIN;
}

int mvm_arch_vcpu_run(struct mvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	int r;

	lockdep_assert_held(&vcpu->mutex);
	mvm_stat_run_begin(vcpu);
	mvm_vcpu_load(vcpu);
	fpu_swap_kvm_fpstate(&vcpu->arch.guest_fpu, true);
	run->flags = 0;

	if (unlikely(vcpu->arch.mp_state == KVM_MP_STATE_UNINITIALIZED)) {
		r = mvm_vcpu_wait_uninitialized(vcpu);
		goto out;
	}

	/*
	 * The TPR userspace's interrupt controller holds (KVM re-syncs it);
	 * with the APIC in the kernel the TPR is the APIC's, and KVM ignores
	 * run->cr8.
	 */
	if (!mvm_lapic_in_kernel(vcpu)) {
		if (run->cr8 & ~0xfULL) {
			r = -EINVAL;
			goto out;
		}
		vcpu->arch.cr8 = run->cr8;
	}

	/* Finish the PIO/MMIO userspace just served, then honour immediate_exit. */
	if (vcpu->arch.complete_userspace_io) {
		int (*complete)(struct mvm_vcpu *) = vcpu->arch.complete_userspace_io;

		vcpu->arch.complete_userspace_io = NULL;
		r = complete(vcpu);
		if (r <= 0)
			goto out;
	}
	if (mvm_run_immediate_exit(run)) {
		r = -EINTR;
		goto out;
	}

	vcpu->arch.ran_once = true;
	do {
		if (likely(mvm_vcpu_running(vcpu))) {
			r = mvm_vcpu_enter_guest(vcpu);
		} else {
			r = mvm_vcpu_block(vcpu);
			/* Woken by a signal, or to reschedule: as before entry. */
			if (r > 0 && !mvm_vcpu_running(vcpu) &&
			    mvm_entry_work_pending())
				r = mvm_handle_entry_work(vcpu) ? -EINTR : 1;
		}
		/*
		 * Userspace's PIC waits to KVM_INTERRUPT: the window is open
		 * (with the PIC in the kernel the request means nothing).
		 */
		if (r > 0 && unlikely(run->request_interrupt_window) &&
		    !mvm_irqchip_full(vcpu->mvm) &&
		    mvm_ready_for_interrupt_injection(vcpu)) {
			run->exit_reason = KVM_EXIT_IRQ_WINDOW_OPEN;
			r = 0;
		}
	} while (r > 0);

out:
	mvm_post_run_save(vcpu);
	fpu_swap_kvm_fpstate(&vcpu->arch.guest_fpu, false);
	mvm_vcpu_put(vcpu);
	mvm_stat_run_end(vcpu, r);
	return r;
}
