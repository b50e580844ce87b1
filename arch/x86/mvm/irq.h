/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The in-kernel interrupt controllers and the paths between them: one file
 * per device (lapic.c, ioapic.c, pic.c, pit.c), the GSI routing table that
 * joins interrupt lines and MSIs to them (irq_routing.c), and the I/O bus
 * that gives them, and ioeventfds, their ports and MMIO ranges
 * (virt/mvm/io_bus.c).  They reach the vendor backends only through the
 * event injection of events.c: a controller with something for a vCPU
 * sets MVM_REQ_EVENT and kicks it; events.c asks mvm_cpu_has_interrupt()
 * and acknowledges with mvm_cpu_get_interrupt() just before entry.
 *
 * Contexts: everything that raises an interrupt (mvm_set_irq(),
 * mvm_set_msi(), mvm_irq_delivery_to_apic(), mvm_vcpu_kick()) may be
 * called in atomic context (hrtimer callbacks, the eventfd wakeup of an
 * irqfd, with IRQs off): the devices protect their state with spinlocks,
 * the routing table is read under RCU.  Lock order: design.rst.
 */
#ifndef __ARCH_X86_MVM_IRQ_H
#define __ARCH_X86_MVM_IRQ_H

#include <linux/mvm_host.h>

/* mvm->arch.irqchip_mode (KVM's irqchip_mode). */
enum mvm_irqchip_mode {
	MVM_IRQCHIP_NONE,	/* every controller in userspace */
	MVM_IRQCHIP_KERNEL,	/* KVM_CREATE_IRQCHIP: PIC, IOAPIC, LAPICs */
	MVM_IRQCHIP_SPLIT,	/* KVM_CAP_SPLIT_IRQCHIP: LAPICs only */
};

/*
 * Written once, under mvm->lock, before any vCPU exists (creation
 * refuses afterwards); the smp_load_acquire pairs with the
 * smp_store_release that publishes the devices first.
 */
static inline enum mvm_irqchip_mode mvm_irqchip_mode(struct mvm *mvm)
{
	/* Pairs with the release in KVM_CREATE_IRQCHIP / the split cap. */
	return smp_load_acquire(&mvm->arch.irqchip_mode);
}

/* LAPICs in the kernel: KVM_CREATE_IRQCHIP or the split irqchip. */
static inline bool mvm_irqchip_in_kernel(struct mvm *mvm)
{
	return mvm_irqchip_mode(mvm) != MVM_IRQCHIP_NONE;
}

/* PIC and IOAPIC in the kernel too. */
static inline bool mvm_irqchip_full(struct mvm *mvm)
{
	return mvm_irqchip_mode(mvm) == MVM_IRQCHIP_KERNEL;
}

static inline bool mvm_irqchip_split(struct mvm *mvm)
{
	return mvm_irqchip_mode(mvm) == MVM_IRQCHIP_SPLIT;
}

/* The vCPU has an in-kernel local APIC (vcpu->arch.apic, C). */
static inline bool mvm_lapic_in_kernel(struct mvm_vcpu *vcpu)
{
	return vcpu->arch.apic != NULL;
}

/*
 * An interrupt message for the local APICs: an IPI from the ICR, an MSI,
 * an IOAPIC redirection entry (SDM vol. 3A 10.6.1, 10.11).
 */
struct mvm_lapic_irq {
	u32 vector;
	u32 delivery_mode;	/* APIC_DM_FIXED ... APIC_DM_EXTINT (<asm/apicdef.h>) */
	bool dest_logical;	/* APIC_DEST_LOGICAL */
	bool level;		/* assert (INIT de-assert is level == false) */
	bool trig_level;	/* level-triggered (sets TMR; EOI reaches the IOAPIC) */
	u32 shorthand;		/* APIC_DEST_NOSHORT, _SELF, _ALLINC, _ALLBUT */
	u32 dest_id;		/* 8 bits xAPIC, 32 bits x2APIC / KVM_X2APIC_API */
	bool msi_redir_hint;	/* MSI RH: lowest priority among the destinations */
};

/* ------------------------------------------------------------------ */
/* lapic.c: the local APIC of each vCPU (SDM vol. 3A chapter 10)       */

#define MVM_APIC_DEFAULT_BASE	0xfee00000ULL

/* At vCPU creation when the VM has an irqchip; freed with the vCPU. */
int mvm_lapic_create(struct mvm_vcpu *vcpu);
void mvm_lapic_wait_expired_timer(struct mvm_vcpu *vcpu);
void mvm_lapic_free(struct mvm_vcpu *vcpu);
/* RESET (init_event false) or INIT (true): SDM 10.4.7.1 / 10.4.7.3. */
void mvm_lapic_reset(struct mvm_vcpu *vcpu, bool init_event);

/*
 * xAPIC MMIO: called by the MMIO path for every access that misses the
 * memslots.  0 when @gpa is in this vCPU's enabled xAPIC page (handled),
 * -EOPNOTSUPP when it is not (the access goes on to the I/O bus).
 */
int mvm_lapic_mmio_read(struct mvm_vcpu *vcpu, gpa_t gpa, int len, void *val);
int mvm_lapic_mmio_write(struct mvm_vcpu *vcpu, gpa_t gpa, int len,
			 const void *val);

/*
 * x2APIC MSRs (0x800-0x8ff) and IA32_TSC_DEADLINE: true if @index is
 * one the in-kernel APIC owns; the accessors return 0, or 1 for #GP.
 */
bool mvm_is_lapic_msr(struct mvm_vcpu *vcpu, u32 index);
int mvm_lapic_get_msr(struct mvm_vcpu *vcpu, u32 index, u64 *data);
int mvm_lapic_set_msr(struct mvm_vcpu *vcpu, u32 index, u64 data,
		      bool host_initiated);
/* IA32_APIC_BASE written (already validated): xAPIC/x2APIC/disabled. */
void mvm_lapic_set_base(struct mvm_vcpu *vcpu, u64 value);
/* CR8 <-> TPR[7:4] (SDM 10.8.6.1). */
void mvm_lapic_set_cr8(struct mvm_vcpu *vcpu, unsigned long cr8);
unsigned long mvm_lapic_get_cr8(struct mvm_vcpu *vcpu);
/* KVM_SET_CPUID2: the version register and timer modes follow CPUID. */
void mvm_lapic_after_set_cpuid(struct mvm_vcpu *vcpu);

/*
 * For events.c.  has_interrupt: the highest-priority vector in IRR above
 * the PPR, or -1.  get_interrupt acknowledges it (IRR -> ISR, PPR), as
 * the CPU's interrupt acknowledge cycle.  accept_pic_intr: LINT0 is
 * unmasked in ExtINT mode (or the APIC is disabled), so the PIC's output
 * reaches this vCPU (SDM 10.5.1; only vCPU 0 in KVM's wiring).
 */
int mvm_apic_has_interrupt(struct mvm_vcpu *vcpu);
int mvm_apic_get_interrupt(struct mvm_vcpu *vcpu);
bool mvm_apic_accept_pic_intr(struct mvm_vcpu *vcpu);

/*
 * Deliver @irq to the local APICs it addresses (@src: the sender, for the
 * shorthands; NULL for IOAPIC/MSI).  Returns how many accepted it (as
 * KVM_IRQ_LINE_STATUS counts), or -1 if no APIC was addressed.  *Any
 * context*.  INIT and SIPI are recorded as pending APIC events the vCPU's
 * thread acts on (mvm_apic_accept_events()).
 */
int mvm_irq_delivery_to_apic(struct mvm *mvm, struct mvm_vcpu *src,
			     const struct mvm_lapic_irq *irq);

/*
 * The vCPU's thread, before entry and after waking: act on a pending
 * INIT (reset, mp_state INIT_RECEIVED) or SIPI (start at vector << 12,
 * RUNNABLE), SDM 8.4.  Returns true if an INIT or SIPI was taken.
 */
bool mvm_apic_accept_events(struct mvm_vcpu *vcpu);
bool mvm_apic_has_pending_events(struct mvm_vcpu *vcpu);	/* INIT/SIPI */

/* KVM_GET_LAPIC / KVM_SET_LAPIC (struct kvm_lapic_state: the 1 KiB page). */
long mvm_vcpu_ioctl_get_lapic(struct mvm_vcpu *vcpu,
			      struct kvm_lapic_state __user *ustate);
long mvm_vcpu_ioctl_set_lapic(struct mvm_vcpu *vcpu,
			      struct kvm_lapic_state __user *ustate);

/* ------------------------------------------------------------------ */
/* events.c: where the controllers meet injection                       */

/*
 * An interrupt (LAPIC or, through LINT0/ExtINT, the PIC; with the split
 * irqchip the ExtINT userspace queued with KVM_INTERRUPT) is waiting for
 * the guest to accept it; get_interrupt acknowledges it (the vector, or
 * -1).  Without an in-kernel irqchip: never.
 */
bool mvm_cpu_has_interrupt(struct mvm_vcpu *vcpu);
int mvm_cpu_get_interrupt(struct mvm_vcpu *vcpu);

/* ------------------------------------------------------------------ */
/* x86.c: waking a vCPU                                                 */

/*
 * Make sure @vcpu notices a new request or event soon: wake it if it
 * sleeps in HLT, interrupt it with an IPI if it runs guest code on
 * another CPU.  Any context.
 */
void mvm_vcpu_kick(struct mvm_vcpu *vcpu);

/* ------------------------------------------------------------------ */
/* irq_routing.c: GSIs, MSIs, KVM_CREATE_IRQCHIP, the split irqchip     */

/* The PIC's and IOAPIC's pin count: GSIs 0-15 reach both, 16-23 the IOAPIC. */
#define MVM_IOAPIC_NUM_PINS	24
#define MVM_PIC_NUM_PINS	16

/*
 * Raise (@level 1) or lower (0) GSI @gsi from @irq_source_id; returns as
 * KVM_IRQ_LINE_STATUS reports (>0 delivered, 0 coalesced, <0 not
 * delivered / -EINVAL).  Any context.
 */
int mvm_set_irq(struct mvm *mvm, int irq_source_id, u32 gsi, int level,
		bool line_status);
/* An MSI (KVM_SIGNAL_MSI, an MSI route). Any context. */
int mvm_set_msi(struct mvm *mvm, const struct kvm_msi *msi);

/* Interrupt sources (KVM's irq_source_id): OR-ed on each pin. */
#define MVM_USERSPACE_IRQ_SOURCE_ID		0
#define MVM_IRQFD_RESAMPLE_IRQ_SOURCE_ID	1
#define MVM_PIT_IRQ_SOURCE_ID			2

/*
 * Notified when the guest acknowledges (EOIs) the interrupt of GSI @gsi:
 * the IOAPIC on an EOI broadcast of a level-triggered vector, the PIC on
 * its EOI.  irqfd resample and PIT reinjection use this.
 */
struct mvm_irq_ack_notifier {
	struct hlist_node link;
	unsigned int gsi;
	void (*irq_acked)(struct mvm_irq_ack_notifier *kian);
};
void mvm_register_irq_ack_notifier(struct mvm *mvm,
				   struct mvm_irq_ack_notifier *kian);
void mvm_unregister_irq_ack_notifier(struct mvm *mvm,
				     struct mvm_irq_ack_notifier *kian);
/* The IOAPIC/PIC call this for pin @pin of @irqchip (KVM_IRQCHIP_*). */
void mvm_notify_acked_irq(struct mvm *mvm, unsigned int irqchip,
			  unsigned int pin);

/*
 * The LAPIC calls this on the EOI of a vector that was level-triggered
 * (TMR set) and, with the in-kernel IOAPIC, of any vector one of its
 * entries uses (KVM's ioapic_handled_vectors): the IOAPIC gets the EOI
 * broadcast, clears Remote IRR of level entries and tells the ack
 * notifiers of edge ones too (the PIT's reinjection through the IOAPIC
 * needs that).  With the split irqchip a level vector of the userspace
 * IOAPIC's pins becomes KVM_EXIT_IOAPIC_EOI (MVM_REQ_IOAPIC_EOI_EXIT)
 * before the next entry.  Cheap when no entry has the vector.
 */
void mvm_apic_eoi_broadcast(struct mvm_vcpu *vcpu, int vector);

/*
 * VM ioctls: KVM_CREATE_IRQCHIP, KVM_IRQ_LINE(_STATUS), KVM_SET_GSI_ROUTING,
 * KVM_SIGNAL_MSI, KVM_GET/SET_IRQCHIP; -ENOTTY when not one of them.
 */
long mvm_irq_vm_ioctl(struct mvm *mvm, unsigned int ioctl, unsigned long arg);
/* KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP) */
int mvm_enable_split_irqchip(struct mvm *mvm, u64 nr_ioapic_pins);
void mvm_irqchip_destroy(struct mvm *mvm);

/* ------------------------------------------------------------------ */
/* pic.c, ioapic.c: created by KVM_CREATE_IRQCHIP                       */

int mvm_pic_create(struct mvm *mvm);
void mvm_pic_destroy(struct mvm *mvm);
/* Level of pin 0-15 from @irq_source_id; returns as mvm_set_irq(). */
int mvm_pic_set_irq(struct mvm *mvm, int pin, int irq_source_id, int level);
/* INTR is asserted / the INTA cycle: the vector, or the spurious one. */
bool mvm_pic_has_output(struct mvm *mvm);
int mvm_pic_read_irq(struct mvm *mvm);

int mvm_ioapic_create(struct mvm *mvm);
void mvm_ioapic_destroy(struct mvm *mvm);
int mvm_ioapic_set_irq(struct mvm *mvm, int pin, int irq_source_id,
		       int level, bool line_status);
/* EOI broadcast of @vector (level-triggered) from @vcpu's LAPIC. */
void mvm_ioapic_eoi(struct mvm_vcpu *vcpu, int vector);

/* ------------------------------------------------------------------ */
/* pit.c: KVM_CREATE_PIT2 and friends; -ENOTTY when not one of them.   */

long mvm_pit_vm_ioctl(struct mvm *mvm, unsigned int ioctl, unsigned long arg);
void mvm_pit_destroy(struct mvm *mvm);

#endif /* __ARCH_X86_MVM_IRQ_H */
