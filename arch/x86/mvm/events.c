// SPDX-License-Identifier: GPL-2.0
/*
 * Events for the guest: exceptions, NMIs and interrupts, from wherever
 * they come (mvm's own emulation, userspace's KVM_INTERRUPT, KVM_NMI and
 * KVM_SET_VCPU_EVENTS, and, with the in-kernel LAPIC of a later change,
 * the interrupt controller), kept in one vendor-neutral state
 * (mvm_vcpu_arch.exception, .interrupt, .nmi_*) and handed to the
 * hardware's event injection (SDM vol. 3C 26.6 "Event Injection", APM
 * vol. 2 15.20 "Event Injection") by mvm_inject_pending_events() just
 * before each entry, in the priority order of KVM's
 * kvm_check_and_inject_events().
 *
 * An exit can interrupt the delivery of an event (a nested page fault on
 * the IDT or the stack, say): the vendor reports it in the IDT-vectoring
 * information (SDM 27.2.4) or EXITINTINFO (APM 15.7.2) and its
 * complete_interrupts step puts it back here as "injected", through
 * mvm_requeue_exception() / mvm_queue_interrupt() / nmi_injected, so that
 * the next entry delivers it again, once.
 */
#include <linux/uaccess.h>
#include <asm/irq_vectors.h>
#include <asm/trapnr.h>
#include "x86.h"
#include "irq.h"

/* Exception classes for double-fault detection (SDM vol. 3A table 6-5). */
enum mvm_exception_class {
	MVM_EXCPT_BENIGN,
	MVM_EXCPT_CONTRIBUTORY,
	MVM_EXCPT_PF,
};

static enum mvm_exception_class mvm_exception_class(u8 vector)
{
	switch (vector) {
	case PF_VECTOR:
		return MVM_EXCPT_PF;
	case DE_VECTOR:
	case TS_VECTOR:
	case NP_VECTOR:
	case SS_VECTOR:
	case GP_VECTOR:
		return MVM_EXCPT_CONTRIBUTORY;
	default:
		return MVM_EXCPT_BENIGN;
	}
}

/* INT3 and INTO are software exceptions: delivered after the instruction. */
static bool mvm_exception_is_soft(u8 vector)
{
	return vector == BP_VECTOR || vector == OF_VECTOR;
}

static bool mvm_exception_is_fault(u8 vector)
{
	return vector != DB_VECTOR && vector != DF_VECTOR &&
	       vector != MC_VECTOR && !mvm_exception_is_soft(vector);
}

static void mvm_deliver_payload(struct mvm_vcpu *vcpu)
{
	struct mvm_queued_exception *ex = &vcpu->arch.exception;

	if (!ex->has_payload)
		return;
	if (ex->vector == PF_VECTOR)
		mvm_x86_ops->set_cr(vcpu, 2, ex->payload);
	ex->has_payload = false;
	ex->payload = 0;
}

/*
 * Queue an exception, as KVM's kvm_multiple_exception(): a second
 * exception while one is pending or being delivered becomes #DF when
 * SDM vol. 3A table 6-5 says so, a third (anything during #DF delivery)
 * shuts the vCPU down (KVM_EXIT_SHUTDOWN); otherwise the new one replaces
 * the old, which the guest will raise again when it re-executes.
 * @reinject: the event the last exit interrupted, delivered again as is.
 */
static void mvm_multiple_exception(struct mvm_vcpu *vcpu, u8 vector,
				   bool has_error_code, u32 error_code,
				   bool has_payload, u64 payload, bool reinject)
{
	struct mvm_queued_exception *ex = &vcpu->arch.exception;
	enum mvm_exception_class prev, next;

	set_bit(MVM_REQ_EVENT, &vcpu->requests);

	if (ex->pending || ex->injected) {
		if (ex->vector == DF_VECTOR) {
			set_bit(MVM_REQ_TRIPLE_FAULT, &vcpu->requests);
			return;
		}
		prev = mvm_exception_class(ex->vector);
		next = mvm_exception_class(vector);
		if ((prev == MVM_EXCPT_CONTRIBUTORY &&
		     next == MVM_EXCPT_CONTRIBUTORY) ||
		    (prev == MVM_EXCPT_PF && next != MVM_EXCPT_BENIGN)) {
			ex->pending = false;
			ex->injected = false;
			mvm_multiple_exception(vcpu, DF_VECTOR, true, 0,
					       false, 0, false);
			return;
		}
	}

	ex->pending = !reinject;
	ex->injected = reinject;
	ex->vector = vector;
	ex->has_error_code = has_error_code;
	ex->error_code = error_code;
	ex->has_payload = has_payload && !reinject;
	ex->payload = ex->has_payload ? payload : 0;
	mvm_deliver_payload(vcpu);
}

void mvm_queue_exception(struct mvm_vcpu *vcpu, u8 vector,
			 bool has_error_code, u32 error_code)
{
	mvm_multiple_exception(vcpu, vector, has_error_code, error_code,
			       false, 0, false);
}

void mvm_queue_exception_payload(struct mvm_vcpu *vcpu, u8 vector,
				 bool has_error_code, u32 error_code,
				 u64 payload)
{
	mvm_multiple_exception(vcpu, vector, has_error_code, error_code,
			       true, payload, false);
}

void mvm_requeue_exception(struct mvm_vcpu *vcpu, u8 vector,
			   bool has_error_code, u32 error_code, u8 insn_len)
{
	mvm_multiple_exception(vcpu, vector, has_error_code, error_code,
			       false, 0, true);
	vcpu->arch.exception.insn_len = insn_len;
}

void mvm_queue_interrupt(struct mvm_vcpu *vcpu, u8 vector, bool soft,
			 u8 insn_len)
{
	vcpu->arch.interrupt.injected = true;
	vcpu->arch.interrupt.soft = soft;
	vcpu->arch.interrupt.nr = vector;
	vcpu->arch.interrupt.insn_len = insn_len;
	set_bit(MVM_REQ_EVENT, &vcpu->requests);
}

/*
 * Called by a vendor's complete_interrupts step at every exit, before
 * the exit is handled: nothing injected at the last entry is still
 * "injected" unless the exit reports it interrupted (then requeued).
 */
void mvm_clear_injected_events(struct mvm_vcpu *vcpu)
{
	vcpu->arch.exception.pending = false;
	vcpu->arch.exception.injected = false;
	vcpu->arch.interrupt.injected = false;
	vcpu->arch.nmi_injected = false;
}

/* An injected event must be delivered before any new one. */
static bool mvm_event_needs_reinjection(struct mvm_vcpu *vcpu)
{
	return vcpu->arch.exception.injected || vcpu->arch.interrupt.injected ||
	       vcpu->arch.nmi_injected;
}

/*
 * KVM_NMI (and later other vCPUs' LAPICs) count NMIs into nmi_queued;
 * at most two are kept: one being handled and one latched, or one if
 * NMIs are blocked or one is being delivered (SDM vol. 3A 6.7.1; KVM's
 * process_nmi()).
 */
static void mvm_process_nmi(struct mvm_vcpu *vcpu)
{
	unsigned int limit = 2;

	if (!atomic_read(&vcpu->arch.nmi_queued))
		return;
	if (mvm_x86_ops->get_nmi_mask(vcpu) || vcpu->arch.nmi_injected)
		limit = 1;
	vcpu->arch.nmi_pending += atomic_xchg(&vcpu->arch.nmi_queued, 0);
	vcpu->arch.nmi_pending = min(vcpu->arch.nmi_pending, limit);
	if (vcpu->arch.nmi_pending)
		set_bit(MVM_REQ_EVENT, &vcpu->requests);
}

/*
 * The interrupt sources that can be acknowledged at an instruction
 * boundary.  With the interrupt controller in userspace there are none:
 * KVM_INTERRUPT queues its vector straight as "injected" (as KVM does).
 * With the in-kernel LAPIC: its highest vector above the PPR, else the
 * PIC's output (KVM_CREATE_IRQCHIP) or the ExtINT userspace's PIC queued
 * (split irqchip) when LINT0 takes ExtINT (KVM's kvm_cpu_has_interrupt()).
 */
static bool mvm_cpu_has_extint(struct mvm_vcpu *vcpu)
{
	if (!mvm_apic_accept_pic_intr(vcpu))
		return false;
	if (mvm_irqchip_split(vcpu->mvm))
		return vcpu->arch.pending_external_vector >= 0;
	return mvm_pic_has_output(vcpu->mvm);
}

bool mvm_cpu_has_interrupt(struct mvm_vcpu *vcpu)
{
	if (!mvm_lapic_in_kernel(vcpu))
		return false;
	return mvm_cpu_has_extint(vcpu) || mvm_apic_has_interrupt(vcpu) >= 0;
}

int mvm_cpu_get_interrupt(struct mvm_vcpu *vcpu)
{
	if (!mvm_lapic_in_kernel(vcpu))
		return -1;
	if (mvm_cpu_has_extint(vcpu)) {
		int vector;

		if (!mvm_irqchip_split(vcpu->mvm))
			return mvm_pic_read_irq(vcpu->mvm);
		vector = vcpu->arch.pending_external_vector;
		vcpu->arch.pending_external_vector = -1;
		return vector;
	}
	return mvm_apic_get_interrupt(vcpu);
}

/*
 * IRQs off, the vCPU about to enter (the last point where the entry
 * could still be abandoned is behind us, so nothing written here needs
 * cancelling).  KVM's kvm_check_and_inject_events() order: re-inject
 * what the last exit interrupted, then a pending exception, then NMI,
 * then an interrupt; each new event only if nothing was injected, and a
 * window exit is requested for what must wait.
 */
void mvm_inject_pending_events(struct mvm_vcpu *vcpu)
{
	const struct mvm_x86_ops *ops = mvm_x86_ops;
	struct mvm_vcpu_arch *arch = &vcpu->arch;
	bool can_inject;

	if (arch->exception.injected)
		ops->inject_exception(vcpu);
	else if (arch->exception.pending)
		;	/* delivered below, before the interrupted event */
	else if (arch->nmi_injected)
		ops->inject_nmi(vcpu);
	else if (arch->interrupt.injected)
		ops->inject_irq(vcpu);

	can_inject = !mvm_event_needs_reinjection(vcpu);

	if (arch->exception.pending) {
		/*
		 * A fault pushes RFLAGS.RF=1 (SDM vol. 3A 17.3.1.1); traps
		 * (#DB, INT3, INTO) and aborts (#DF, #MC) do not.
		 */
		if (mvm_exception_is_fault(arch->exception.vector))
			ops->set_rflags(vcpu, ops->get_rflags(vcpu) |
					      X86_EFLAGS_RF);
		arch->exception.insn_len = 0;
		ops->inject_exception(vcpu);
		vcpu->stat.exception_injections++;
		arch->exception.pending = false;
		arch->exception.injected = true;
		can_inject = false;
	}

	mvm_process_nmi(vcpu);
	if (arch->nmi_pending) {
		if (can_inject && ops->nmi_allowed(vcpu)) {
			arch->nmi_pending--;
			arch->nmi_injected = true;
			ops->inject_nmi(vcpu);
			vcpu->stat.nmi_injections++;
			can_inject = false;
		}
		if (arch->nmi_pending)
			ops->enable_nmi_window(vcpu);
	}

	if (mvm_cpu_has_interrupt(vcpu)) {
		if (can_inject && ops->interrupt_allowed(vcpu)) {
			int vector = mvm_cpu_get_interrupt(vcpu);

			/* -1: the source withdrew it (a PIC spurious is a vector). */
			if (vector >= 0) {
				mvm_queue_interrupt(vcpu, vector, false, 0);
				ops->inject_irq(vcpu);
				vcpu->stat.irq_injections++;
			}
		}
		if (mvm_cpu_has_interrupt(vcpu))
			ops->enable_irq_window(vcpu);
	}
}

/*
 * kvm_run->ready_for_interrupt_injection: userspace may KVM_INTERRUPT
 * now and have it taken at once (KVM's
 * kvm_vcpu_ready_for_interrupt_injection()).
 */
bool mvm_ready_for_interrupt_injection(struct mvm_vcpu *vcpu)
{
	if (!(mvm_x86_ops->interrupt_allowed(vcpu) &&
	      !mvm_event_needs_reinjection(vcpu) &&
	      !vcpu->arch.exception.pending))
		return false;
	/*
	 * With an in-kernel LAPIC userspace's KVM_INTERRUPT is an ExtINT
	 * (split irqchip): there must be room for it and LINT0 must take
	 * it (KVM's kvm_cpu_accept_dm_intr()).
	 */
	if (!mvm_lapic_in_kernel(vcpu))
		return true;
	return !mvm_cpu_has_extint(vcpu) && mvm_apic_accept_pic_intr(vcpu);
}

/*
 * Userspace's interrupt controller asks for an interrupt-window exit
 * (kvm_run->request_interrupt_window; ignored with the PIC in the kernel)
 * and could have its interrupt accepted: no ExtINT is still waiting and
 * LINT0 takes one.  Only then is the window opened, or a guest whose
 * LINT0 is masked would exit at every entry and never run (KVM's
 * dm_request_for_irq_injection() && kvm_cpu_accept_dm_intr()).
 */
bool mvm_userspace_wants_irq_window(struct mvm_vcpu *vcpu)
{
	if (!vcpu->run->request_interrupt_window ||
	    mvm_irqchip_full(vcpu->mvm))
		return false;
	if (!mvm_lapic_in_kernel(vcpu))
		return true;
	return !mvm_cpu_has_extint(vcpu) && mvm_apic_accept_pic_intr(vcpu);
}

void mvm_events_reset(struct mvm_vcpu *vcpu)
{
	memset(&vcpu->arch.exception, 0, sizeof(vcpu->arch.exception));
	memset(&vcpu->arch.interrupt, 0, sizeof(vcpu->arch.interrupt));
	atomic_set(&vcpu->arch.nmi_queued, 0);
	vcpu->arch.nmi_pending = 0;
	vcpu->arch.nmi_injected = false;
	vcpu->arch.pending_external_vector = -1;
}

/* ------------------------------------------------------------------ */
/* ioctls                                                               */

/*
 * KVM_INTERRUPT with the interrupt controller in userspace: the vector is
 * delivered at the next entry whatever RFLAGS.IF says (KVM queues it as
 * injected); userspace is to wait for ready_for_interrupt_injection.
 * With the split irqchip it is the output of userspace's PIC, an ExtINT
 * acknowledged through LINT0 when the guest can take it; with the PIC in
 * the kernel there is no such thing (KVM's kvm_vcpu_ioctl_interrupt()).
 */
long mvm_vcpu_ioctl_interrupt(struct mvm_vcpu *vcpu,
			      struct kvm_interrupt __user *uirq)
{
	struct kvm_interrupt irq;

	if (copy_from_user(&irq, uirq, sizeof(irq)))
		return -EFAULT;
	if (irq.irq >= KVM_NR_INTERRUPTS)
		return -EINVAL;
	if (!mvm_irqchip_in_kernel(vcpu->mvm)) {
		mvm_queue_interrupt(vcpu, irq.irq, false, 0);
		vcpu->stat.irq_injections++;
		return 0;
	}
	if (mvm_irqchip_full(vcpu->mvm))
		return -ENXIO;
	if (vcpu->arch.pending_external_vector != -1)
		return -EEXIST;
	vcpu->arch.pending_external_vector = irq.irq;
	set_bit(MVM_REQ_EVENT, &vcpu->requests);
	return 0;
}

long mvm_vcpu_ioctl_nmi(struct mvm_vcpu *vcpu)
{
	atomic_inc(&vcpu->arch.nmi_queued);
	set_bit(MVM_REQ_EVENT, &vcpu->requests);
	return 0;
}

/* The vCPU is loaded.  KVM's kvm_vcpu_ioctl_x86_get_vcpu_events(). */
static void mvm_get_vcpu_events(struct mvm_vcpu *vcpu,
				struct kvm_vcpu_events *ev)
{
	struct mvm_queued_exception *ex = &vcpu->arch.exception;

	mvm_process_nmi(vcpu);
	memset(ev, 0, sizeof(*ev));

	/*
	 * No instruction length in the ABI: a software exception is not
	 * reported, the guest raises it again from the same RIP.  Without
	 * KVM_CAP_EXCEPTION_PAYLOAD pending and injected are one.
	 */
	if (!mvm_exception_is_soft(ex->vector))
		ev->exception.injected = ex->injected || ex->pending;
	ev->exception.nr = ex->vector;
	ev->exception.has_error_code = ex->has_error_code;
	ev->exception.error_code = ex->error_code;

	ev->interrupt.injected = vcpu->arch.interrupt.injected &&
				 !vcpu->arch.interrupt.soft;
	ev->interrupt.nr = vcpu->arch.interrupt.nr;
	ev->interrupt.shadow = mvm_x86_ops->get_interrupt_shadow(vcpu);

	ev->nmi.injected = vcpu->arch.nmi_injected;
	ev->nmi.pending = vcpu->arch.nmi_pending != 0;
	ev->nmi.masked = mvm_x86_ops->get_nmi_mask(vcpu);

	/* No SMM: smi stays zero and VALID_SMM is not claimed. */
	ev->flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW;
}

/* The vCPU is loaded.  KVM's kvm_vcpu_ioctl_x86_set_vcpu_events(). */
static int mvm_set_vcpu_events(struct mvm_vcpu *vcpu,
			       const struct kvm_vcpu_events *ev)
{
	struct mvm_queued_exception *ex = &vcpu->arch.exception;

	if (ev->flags & ~(KVM_VCPUEVENT_VALID_NMI_PENDING |
			  KVM_VCPUEVENT_VALID_SIPI_VECTOR |
			  KVM_VCPUEVENT_VALID_SHADOW |
			  KVM_VCPUEVENT_VALID_SMM))
		return -EINVAL;	/* PAYLOAD, TRIPLE_FAULT: not enabled */
	if (ev->exception.injected &&
	    (ev->exception.nr > 31 || ev->exception.nr == NMI_VECTOR))
		return -EINVAL;
	/* No SMM: only "not in SMM, nothing pending" can be set. */
	if ((ev->flags & KVM_VCPUEVENT_VALID_SMM) &&
	    (ev->smi.smm || ev->smi.pending))
		return -EINVAL;

	mvm_process_nmi(vcpu);

	/* Without KVM_CAP_EXCEPTION_PAYLOAD, exception.pending is ignored. */
	ex->injected = ev->exception.injected;
	ex->pending = false;
	ex->vector = ev->exception.nr;
	ex->has_error_code = ev->exception.has_error_code;
	ex->error_code = ev->exception.error_code;
	ex->has_payload = false;
	ex->payload = 0;
	ex->insn_len = 0;

	vcpu->arch.interrupt.injected = ev->interrupt.injected;
	vcpu->arch.interrupt.nr = ev->interrupt.nr;
	vcpu->arch.interrupt.soft = ev->interrupt.soft;
	vcpu->arch.interrupt.insn_len = 0;
	if (ev->flags & KVM_VCPUEVENT_VALID_SHADOW)
		mvm_x86_ops->set_interrupt_shadow(vcpu, ev->interrupt.shadow);

	vcpu->arch.nmi_injected = ev->nmi.injected;
	if (ev->flags & KVM_VCPUEVENT_VALID_NMI_PENDING)
		vcpu->arch.nmi_pending = ev->nmi.pending;
	mvm_x86_ops->set_nmi_mask(vcpu, ev->nmi.masked);

	/* sipi_vector: no in-kernel LAPIC to hold it yet. */
	set_bit(MVM_REQ_EVENT, &vcpu->requests);
	return 0;
}

long mvm_vcpu_ioctl_get_vcpu_events(struct mvm_vcpu *vcpu,
				    struct kvm_vcpu_events __user *uev)
{
	struct kvm_vcpu_events ev;

	mvm_vcpu_load(vcpu);
	mvm_get_vcpu_events(vcpu, &ev);
	mvm_vcpu_put(vcpu);
	return copy_to_user(uev, &ev, sizeof(ev)) ? -EFAULT : 0;
}

long mvm_vcpu_ioctl_set_vcpu_events(struct mvm_vcpu *vcpu,
				    struct kvm_vcpu_events __user *uev)
{
	struct kvm_vcpu_events ev;
	int r;

	if (copy_from_user(&ev, uev, sizeof(ev)))
		return -EFAULT;
	mvm_vcpu_load(vcpu);
	r = mvm_set_vcpu_events(vcpu, &ev);
	mvm_vcpu_put(vcpu);
	return r;
}

/* KVM_GET_SREGS: an injected (not software) interrupt shows in the bitmap. */
void mvm_get_interrupt_bitmap(struct mvm_vcpu *vcpu, u64 *bitmap)
{
	if (vcpu->arch.interrupt.injected && !vcpu->arch.interrupt.soft)
		__set_bit(vcpu->arch.interrupt.nr, (unsigned long *)bitmap);
}

/* KVM_SET_SREGS: the lowest vector set is queued as injected, as KVM. */
void mvm_set_interrupt_bitmap(struct mvm_vcpu *vcpu, const u64 *bitmap)
{
	unsigned long vec = find_first_bit((const unsigned long *)bitmap,
					   KVM_NR_INTERRUPTS);

	if (vec < KVM_NR_INTERRUPTS)
		mvm_queue_interrupt(vcpu, vec, false, 0);
}
