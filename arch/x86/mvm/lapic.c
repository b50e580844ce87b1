// SPDX-License-Identifier: GPL-2.0
/*
 * The local APIC of each vCPU (SDM vol. 3A chapter 10), in the kernel
 * when the VM has an irqchip (KVM_CREATE_IRQCHIP or the split irqchip).
 *
 * The registers live in one 4 KiB page laid out as the xAPIC MMIO page
 * (SDM table 10-1), so that KVM_GET/SET_LAPIC is a copy of its first
 * 1 KiB and an x2APIC MSR is the register at (index - 0x800) << 4
 * (SDM 10.12.1.2).  The page is the vCPU's own: only its thread (KVM_RUN,
 * its ioctls) writes it, except for IRR and TMR, which any sender sets
 * with atomic bit operations from any context (another vCPU's ICR write,
 * an MSI, the IOAPIC, the timer's hrtimer callback).  Senders read the
 * addressing registers (ID, LDR, DFR, SVR) and the APIC base of every
 * APIC without a lock: a change of addressing races with an interrupt in
 * flight on hardware too.
 *
 * INIT and SIPI are recorded in pending_events and acted on by the
 * target's own thread (mvm_apic_accept_events()), which owns its
 * registers.  The timer is an hrtimer (HRTIMER_MODE_ABS_HARD, as KVM)
 * whose callback sets the timer vector in IRR and kicks the vCPU, so it
 * keeps firing while the vCPU's thread sleeps.
 */
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/math64.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/apicdef.h>
#include <asm/msr-index.h>
#include "x86.h"
#include "irq.h"

/* Version 0x14 (Pentium 4 / Xeon xAPIC, SDM 10.4.8), as KVM reports. */
#define MVM_APIC_VERSION	0x14
/* Timer, thermal, performance, LINT0, LINT1, error: no CMCI (mce.c). */
#define MVM_APIC_NR_LVT		6
#define MVM_APIC_BUS_CYCLE_NS	1	/* KVM's 1 GHz timer clock */
/* Shortest periodic timer period, as KVM's min_timer_period_us. */
#define MVM_APIC_MIN_PERIOD_NS	(200 * NSEC_PER_USEC)

#define APIC_SHORT_MASK		0xc0000
#define APIC_DEST_NOSHORT	0x0
#define APIC_BROADCAST		0xff
#define X2APIC_BROADCAST	0xffffffffU

/* Writable bits of the LVT entries (SDM figure 10-8), as KVM masks them. */
#define LVT_MASK	(APIC_LVT_MASKED | APIC_SEND_PENDING | APIC_VECTOR_MASK)
#define LINT_MASK	(LVT_MASK | APIC_MODE_MASK | APIC_INPUT_POLARITY | \
			 APIC_LVT_REMOTE_IRR | APIC_LVT_LEVEL_TRIGGER)
#define LVT_TIMER_MODE_MASK	(3 << 17)

static const u32 mvm_apic_lvt_mask[MVM_APIC_NR_LVT] = {
	LVT_MASK,			/* timer: the mode bits are added */
	LVT_MASK | APIC_MODE_MASK,	/* thermal */
	LVT_MASK | APIC_MODE_MASK,	/* performance counters */
	LINT_MASK,			/* LINT0 */
	LINT_MASK,			/* LINT1 */
	LVT_MASK,			/* error */
};

#define APIC_LVTx(i)		(APIC_LVTT + 0x10 * (i))

/* Reserved bits of the 64-bit x2APIC ICR (SDM 10.12.9), as KVM. */
#define X2APIC_ICR_RESERVED	(GENMASK_ULL(31, 20) | GENMASK_ULL(17, 16) | \
				 BIT_ULL(13))

/* pending_events bits. */
#define MVM_APIC_INIT		0
#define MVM_APIC_SIPI		1

struct mvm_lapic {
	struct mvm_vcpu *vcpu;
	void *regs;			/* the xAPIC page; see the top comment */
	gpa_t base_address;		/* T: APIC base MSR bits 51:12 */

	/* Timer.  T except where the callback's use is noted. */
	struct hrtimer timer;
	u32 timer_mode;			/* LVTT[18:17] in effect */
	u32 divide_count;		/* from TDCR: 1 ... 128 */
	s64 period_ns;			/* TMICT in ns (callback reads) */
	ktime_t target;			/* next expiry (callback advances) */
	u64 tsc_deadline;		/* IA32_TSC_DEADLINE (callback clears) */
	/* How early the hrtimer fires for a TSC deadline (see below). */
	u32 timer_advance_ns;

	/* INIT / SIPI received, acted on by the vCPU's thread.  A. */
	unsigned long pending_events;
	u8 sipi_vector;
	/* Lowest-priority arbitration: interrupts won so far.  A. */
	atomic_t arb_prio;
};

static inline u32 lapic_get_reg(struct mvm_lapic *apic, int off)
{
	return READ_ONCE(*(u32 *)(apic->regs + off));
}

static inline void lapic_set_reg(struct mvm_lapic *apic, int off, u32 val)
{
	WRITE_ONCE(*(u32 *)(apic->regs + off), val);
}

/*
 * IRR, ISR and TMR: 256 bits as eight 32-bit registers 16 bytes apart.
 * The atomic bitops work on the unsigned long holding a register and
 * the padding after it; bit numbers below 32 touch only the register.
 */
static inline unsigned long *lapic_vec_word(void *bitmap, int vec)
{
	return (unsigned long *)(bitmap + ((vec >> 5) << 4));
}

static inline bool lapic_test_vec(int vec, void *bitmap)
{
	return test_bit(vec & 31, lapic_vec_word(bitmap, vec));
}

static inline void lapic_set_vec(int vec, void *bitmap)
{
	set_bit(vec & 31, lapic_vec_word(bitmap, vec));
}

static inline void lapic_clear_vec(int vec, void *bitmap)
{
	clear_bit(vec & 31, lapic_vec_word(bitmap, vec));
}

static int lapic_find_highest_vec(void *bitmap)
{
	int i;

	for (i = 7; i >= 0; i--) {
		u32 v = READ_ONCE(*(u32 *)(bitmap + (i << 4)));

		if (v)
			return (i << 5) + fls(v) - 1;
	}
	return -1;
}

static inline bool lapic_hw_enabled(struct mvm_lapic *apic)
{
	return READ_ONCE(apic->vcpu->arch.apic_base) & MSR_IA32_APICBASE_ENABLE;
}

static inline bool lapic_sw_enabled(struct mvm_lapic *apic)
{
	return lapic_get_reg(apic, APIC_SPIV) & APIC_SPIV_APIC_ENABLED;
}

static inline bool lapic_enabled(struct mvm_lapic *apic)
{
	return lapic_hw_enabled(apic) && lapic_sw_enabled(apic);
}

static inline bool lapic_x2apic_mode(struct mvm_lapic *apic)
{
	return READ_ONCE(apic->vcpu->arch.apic_base) & X2APIC_ENABLE;
}

static inline u8 lapic_xapic_id(struct mvm_lapic *apic)
{
	return lapic_get_reg(apic, APIC_ID) >> 24;
}

/* The x2APIC ID is the vCPU id, as in KVM. */
static inline u32 lapic_x2apic_id(struct mvm_lapic *apic)
{
	return apic->vcpu->vcpu_id;
}

/* Logical x2APIC ID: cluster (id[19:4]) << 16 | 1 << id[3:0] (SDM 10.12.10.2). */
static inline u32 lapic_x2apic_ldr(u32 id)
{
	return ((id >> 4) << 16) | (1 << (id & 0xf));
}

/* KVM's "reset BSP": vCPU 0 (KVM_SET_BOOT_CPU_ID is not offered). */
static inline bool mvm_vcpu_is_reset_bsp(struct mvm_vcpu *vcpu)
{
	return vcpu->vcpu_id == 0;
}

/* ------------------------------------------------------------------ */
/* Priorities (SDM 10.8.3)                                              */

/*
 * PPR = TPR if TPR[7:4] >= ISRV[7:4], else ISRV[7:4] << 4, where ISRV is
 * the highest vector in service (SDM 10.8.3.1).  Returns the new PPR.
 */
static u32 lapic_update_ppr(struct mvm_lapic *apic)
{
	u32 tpr = lapic_get_reg(apic, APIC_TASKPRI);
	int isr = lapic_find_highest_vec(apic->regs + APIC_ISR);
	u32 isrv = isr < 0 ? 0 : isr;
	u32 ppr;

	if ((tpr & 0xf0) >= (isrv & 0xf0))
		ppr = tpr & 0xff;
	else
		ppr = isrv & 0xf0;
	lapic_set_reg(apic, APIC_PROCPRI, ppr);
	return ppr;
}

/* The highest IRR vector whose class is above the PPR's, or -1. */
static int lapic_irr_above(struct mvm_lapic *apic, u32 ppr)
{
	int irr = lapic_find_highest_vec(apic->regs + APIC_IRR);

	if (irr < 0 || (u32)(irr & 0xf0) <= ppr)
		return -1;
	return irr;
}

/*
 * TPR changed (MMIO, MSR, CR8, KVM_SET_LAPIC): CR8 follows (SDM
 * 10.8.6.1), and a lower PPR may let a held-back interrupt through.
 */
static void lapic_set_tpr(struct mvm_lapic *apic, u32 tpr)
{
	struct mvm_vcpu *vcpu = apic->vcpu;

	lapic_set_reg(apic, APIC_TASKPRI, tpr & 0xff);
	vcpu->arch.cr8 = (tpr >> 4) & 0xf;
	if (lapic_irr_above(apic, lapic_update_ppr(apic)) >= 0)
		set_bit(MVM_REQ_EVENT, &vcpu->requests);
}

/* ------------------------------------------------------------------ */
/* Accepting an interrupt message (SDM 10.6, 10.8.1)                    */

static void lapic_kick(struct mvm_vcpu *vcpu, int req)
{
	set_bit(req, &vcpu->requests);
	/*
	 * The request before reading vcpu->mode in the kick: the vCPU sets
	 * its mode before it reads requests (mvm_make_all_vcpus_request()).
	 */
	smp_mb__after_atomic();
	mvm_vcpu_kick(vcpu);
}

/*
 * Any context.  Returns 1 if this APIC accepted the message, as KVM's
 * __apic_accept_irq() counts for KVM_IRQ_LINE_STATUS.
 */
static int lapic_accept_irq(struct mvm_lapic *apic, u32 delivery_mode,
			    int vector, bool level, bool trig_level)
{
	struct mvm_vcpu *vcpu = apic->vcpu;

	switch (delivery_mode) {
	case APIC_DM_LOWEST:
		atomic_inc(&apic->arb_prio);
		fallthrough;
	case APIC_DM_FIXED:
		/* A level-triggered de-assert carries no interrupt. */
		if (unlikely(trig_level && !level))
			return 0;
		if (unlikely(!lapic_enabled(apic)))
			return 0;
		/* TMR before IRR: EOI must see how the vector came. */
		if (lapic_test_vec(vector, apic->regs + APIC_TMR) != trig_level) {
			if (trig_level)
				lapic_set_vec(vector, apic->regs + APIC_TMR);
			else
				lapic_clear_vec(vector, apic->regs + APIC_TMR);
		}
		lapic_set_vec(vector, apic->regs + APIC_IRR);
		lapic_kick(vcpu, MVM_REQ_EVENT);
		return 1;
	case APIC_DM_NMI:
		atomic_inc(&vcpu->arch.nmi_queued);
		lapic_kick(vcpu, MVM_REQ_EVENT);
		return 1;
	case APIC_DM_SMI:
		/* No SMM in mvm: accepted and dropped (KVM_CAP_X86_SMM is 0). */
		return 1;
	case APIC_DM_INIT:
		if (trig_level && !level)
			return 0;	/* INIT level de-assert: ignored */
		/* A new INIT discards a SIPI not yet taken, as KVM. */
		WRITE_ONCE(apic->pending_events, BIT(MVM_APIC_INIT));
		lapic_kick(vcpu, MVM_REQ_APIC_EVENTS);
		return 1;
	case APIC_DM_STARTUP:
		apic->sipi_vector = vector;
		/* The vector before the bit: mvm_apic_accept_events(). */
		smp_wmb();
		set_bit(MVM_APIC_SIPI, &apic->pending_events);
		lapic_kick(vcpu, MVM_REQ_APIC_EVENTS);
		return 1;
	default:
		/*
		 * ExtINT comes from the PIC through mvm_apic_accept_pic_intr();
		 * remote read is not supported by xAPICs.
		 */
		return 0;
	}
}

/* Logical destination match (SDM 10.6.2.2; x2APIC 10.12.10.2). */
static bool lapic_match_logical(struct mvm_lapic *apic, u32 mda)
{
	u32 ldr = lapic_get_reg(apic, APIC_LDR);

	if (lapic_x2apic_mode(apic))
		return (ldr >> 16) == (mda >> 16) && (ldr & mda & 0xffff);
	ldr >>= 24;
	switch (lapic_get_reg(apic, APIC_DFR)) {
	case APIC_DFR_FLAT:
		return ldr & mda;
	case APIC_DFR_CLUSTER:
		return (ldr >> 4) == (mda >> 4) && (ldr & mda & 0xf);
	default:
		return false;
	}
}

static bool lapic_match_dest(struct mvm_lapic *target, struct mvm_lapic *src,
			     const struct mvm_lapic_irq *irq)
{
	bool x2apic = lapic_x2apic_mode(target);
	u32 mda = irq->dest_id;
	u32 broadcast = x2apic ? X2APIC_BROADCAST : APIC_BROADCAST;

	switch (irq->shorthand) {
	case APIC_DEST_SELF:
		return target == src;
	case APIC_DEST_ALLINC:
		return true;
	case APIC_DEST_ALLBUT:
		return target != src;
	case APIC_DEST_NOSHORT:
		break;
	default:
		return false;
	}

	/*
	 * KVM's broadcast quirk: an IOAPIC or MSI message to 0xff reaches
	 * x2APIC-mode APICs as a broadcast too, unless userspace disabled
	 * the quirk with KVM_CAP_X2APIC_API.
	 */
	if (!src && mda == APIC_BROADCAST && x2apic &&
	    !(READ_ONCE(target->vcpu->mvm->arch.x2apic_api_flags) &
	      KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK))
		mda = X2APIC_BROADCAST;

	if (mda == broadcast)
		return true;
	if (irq->dest_logical)
		return lapic_match_logical(target, mda);
	/* An id an xAPIC cannot hold addresses the x2APIC id (KVM). */
	if (x2apic || mda > 0xff)
		return mda == lapic_x2apic_id(target);
	return mda == lapic_xapic_id(target);
}

/*
 * Any context: walks vcpus[0..online_vcpus) without a lock.  Fixed and
 * the other modes go to every APIC addressed; lowest priority to one of
 * them, the enabled APIC that has won the fewest lowest-priority
 * interrupts so far (first by vCPU index on a tie), which is KVM's
 * arbitration without vector hashing: simple, deterministic, and it
 * spreads the load.
 */
int mvm_irq_delivery_to_apic(struct mvm *mvm, struct mvm_vcpu *src,
			     const struct mvm_lapic_irq *irq)
{
	struct mvm_lapic *src_apic = src ? src->arch.apic : NULL;
	struct mvm_lapic *lowest = NULL;
	u32 mode = irq->delivery_mode;
	bool lowest_prio = mode == APIC_DM_LOWEST || irq->msi_redir_hint;
	int n = atomic_read(&mvm->online_vcpus);
	int i, r = -1;

	/* Physical broadcast in lowest priority: fixed, as KVM does. */
	if (lowest_prio && !irq->dest_logical && irq->dest_id == APIC_BROADCAST &&
	    irq->shorthand == APIC_DEST_NOSHORT) {
		lowest_prio = false;
		mode = APIC_DM_FIXED;
	}

	smp_rmb();	/* vcpus[i] is published before online_vcpus counts it */
	for (i = 0; i < n; i++) {
		struct mvm_lapic *apic = READ_ONCE(mvm->vcpus[i])->arch.apic;

		if (!apic || !lapic_hw_enabled(apic))
			continue;
		if (!lapic_match_dest(apic, src_apic, irq))
			continue;
		if (!lowest_prio) {
			if (r < 0)
				r = 0;
			r += lapic_accept_irq(apic, mode, irq->vector,
					      irq->level, irq->trig_level);
		} else if (lapic_sw_enabled(apic)) {
			if (!lowest || atomic_read(&apic->arb_prio) <
				       atomic_read(&lowest->arb_prio))
				lowest = apic;
		}
	}
	if (lowest)
		r = lapic_accept_irq(lowest, mode, irq->vector, irq->level,
				     irq->trig_level);
	return r;
}

/* An ICR write: the IPI it describes (SDM 10.6.1). */
static void lapic_send_ipi(struct mvm_lapic *apic, u32 low, u32 high)
{
	struct mvm_lapic_irq irq = {
		.vector = low & APIC_VECTOR_MASK,
		.delivery_mode = low & APIC_MODE_MASK,
		.dest_logical = low & APIC_DEST_LOGICAL,
		.level = low & APIC_INT_ASSERT,
		.trig_level = low & APIC_INT_LEVELTRIG,
		.shorthand = low & APIC_SHORT_MASK,
		.dest_id = lapic_x2apic_mode(apic) ? high : high >> 24,
	};

	mvm_irq_delivery_to_apic(apic->vcpu->mvm, apic->vcpu, &irq);
}

/* An LVT entry fires (the timer): SDM 10.5.1. */
static void lapic_deliver_lvt(struct mvm_lapic *apic, int reg)
{
	u32 lvt = lapic_get_reg(apic, reg);

	if (lapic_hw_enabled(apic) && !(lvt & APIC_LVT_MASKED))
		lapic_accept_irq(apic, lvt & APIC_MODE_MASK,
				 lvt & APIC_VECTOR_MASK, true,
				 lvt & APIC_LVT_LEVEL_TRIGGER);
}

/* ------------------------------------------------------------------ */
/* EOI and interrupt acknowledge                                        */

/* EOI (SDM 10.8.5): retire the highest vector in service. */
static void lapic_set_eoi(struct mvm_lapic *apic)
{
	struct mvm_vcpu *vcpu = apic->vcpu;
	int vector = lapic_find_highest_vec(apic->regs + APIC_ISR);

	if (vector < 0)
		return;
	lapic_clear_vec(vector, apic->regs + APIC_ISR);
	lapic_update_ppr(apic);
	/*
	 * A level-triggered vector: the EOI goes on to the IOAPIC, unless
	 * the guest asked for directed EOI (SVR[12], SDM 10.8.5) and the
	 * IOAPIC is the kernel's, which then expects its own EOI register
	 * (KVM suppresses only there; userspace's IOAPIC decides itself).
	 * An edge vector reaches the in-kernel IOAPIC too, for its ack
	 * notifiers (the PIT counts the ticks the guest took), as KVM.
	 */
	if (lapic_test_vec(vector, apic->regs + APIC_TMR)) {
		if (!(mvm_irqchip_full(vcpu->mvm) &&
		      (lapic_get_reg(apic, APIC_SPIV) &
		       APIC_SPIV_DIRECTED_EOI)))
			mvm_apic_eoi_broadcast(vcpu, vector);
	} else if (mvm_irqchip_full(vcpu->mvm)) {
		mvm_apic_eoi_broadcast(vcpu, vector);
	}
	set_bit(MVM_REQ_EVENT, &vcpu->requests);
}

int mvm_apic_has_interrupt(struct mvm_vcpu *vcpu)
{
	struct mvm_lapic *apic = vcpu->arch.apic;

	if (!apic || !lapic_hw_enabled(apic))
		return -1;
	return lapic_irr_above(apic, lapic_update_ppr(apic));
}

/* The interrupt acknowledge cycle: IRR -> ISR, PPR rises (SDM 10.8.4). */
int mvm_apic_get_interrupt(struct mvm_vcpu *vcpu)
{
	struct mvm_lapic *apic = vcpu->arch.apic;
	int vector = mvm_apic_has_interrupt(vcpu);

	if (vector < 0)
		return -1;
	lapic_clear_vec(vector, apic->regs + APIC_IRR);
	lapic_set_vec(vector, apic->regs + APIC_ISR);
	lapic_update_ppr(apic);
	return vector;
}

/*
 * The PIC's INTR reaches the CPU through LINT0 in ExtINT mode, or
 * directly when the APIC is disabled (SDM 10.4.3), as KVM 6.1's
 * kvm_apic_accept_pic_intr().  Only the BSP's LINT0 comes out of RESET
 * in ExtINT mode (mvm_lapic_reset()), so in practice the PIC reaches
 * vCPU 0 alone, as with KVM.
 */
bool mvm_apic_accept_pic_intr(struct mvm_vcpu *vcpu)
{
	struct mvm_lapic *apic = vcpu->arch.apic;
	u32 lvt0;

	if (!apic)
		return false;
	if (!lapic_hw_enabled(apic))
		return true;
	lvt0 = lapic_get_reg(apic, APIC_LVT0);
	return !(lvt0 & APIC_LVT_MASKED) &&
	       (lvt0 & APIC_MODE_MASK) == APIC_DM_EXTINT;
}

/* ------------------------------------------------------------------ */
/* Timer (SDM 10.5.4)                                                   */

/*
 * Timer advance, as KVM's lapic_timer_advance_ns: a TSC-deadline timer's
 * hrtimer fires early by timer_advance_ns, so that the wake-up of a
 * halted vCPU and the way to the entry happen before the deadline; the
 * entry then waits, interrupts off, until the guest's TSC reaches the
 * deadline (mvm_lapic_wait_expired_timer()): the guest never sees its
 * timer interrupt early, only less late.  The advance adapts to what the
 * wait measures: an eighth of each miss between 100 ns and 10 us is added
 * (late) or taken away (early), within 5 us.  -1 (the default): adaptive
 * from 1 us; 0: off; N: fixed at N ns.  Periodic and one-shot timers are
 * not advanced (their expiry is not a guest TSC value to wait for).
 */
static int lapic_timer_advance_ns = -1;
module_param(lapic_timer_advance_ns, int, 0444);
MODULE_PARM_DESC(lapic_timer_advance_ns,
		 "ns a TSC-deadline timer fires early to hide the entry latency (-1: adaptive)");

#define MVM_TIMER_ADVANCE_INIT_NS	1000
#define MVM_TIMER_ADVANCE_MAX_NS	5000
#define MVM_TIMER_ADVANCE_ADJUST_MIN_NS	100
#define MVM_TIMER_ADVANCE_ADJUST_MAX_NS	10000
#define MVM_TIMER_ADVANCE_ADJUST_STEP	8

static inline bool lapic_timer_periodic(struct mvm_lapic *apic)
{
	return apic->timer_mode == APIC_LVT_TIMER_PERIODIC;
}

static inline bool lapic_timer_tscdeadline(struct mvm_lapic *apic)
{
	return apic->timer_mode == APIC_LVT_TIMER_TSCDEADLINE;
}

static void lapic_update_divide_count(struct mvm_lapic *apic)
{
	u32 tdcr = lapic_get_reg(apic, APIC_TDCR);
	/* TDCR bits 3, 1:0: 000 = /2 ... 110 = /128, 111 = /1 (figure 10-10). */
	u32 shift = (((tdcr & 3) | ((tdcr & 8) >> 1)) + 1) & 7;

	apic->divide_count = 1 << shift;
}

static inline s64 lapic_count_to_ns(struct mvm_lapic *apic, u32 count)
{
	return (s64)count * MVM_APIC_BUS_CYCLE_NS * apic->divide_count;
}

/* A periodic timer no faster than KVM allows: hrtimers are not throttled. */
static void lapic_limit_period(struct mvm_lapic *apic)
{
	if (lapic_timer_periodic(apic) && apic->period_ns &&
	    apic->period_ns < MVM_APIC_MIN_PERIOD_NS)
		apic->period_ns = MVM_APIC_MIN_PERIOD_NS;
}

static enum hrtimer_restart lapic_timer_fn(struct hrtimer *timer)
{
	struct mvm_lapic *apic = container_of(timer, struct mvm_lapic, timer);

	/* Before the kick of the delivery: the entry waits for it. */
	if (lapic_timer_tscdeadline(apic) && apic->timer_advance_ns)
		WRITE_ONCE(apic->vcpu->arch.timer_expired_deadline,
			   apic->tsc_deadline);
	lapic_deliver_lvt(apic, APIC_LVTT);

	if (lapic_timer_periodic(apic) && apic->period_ns) {
		ktime_t now = ktime_get();

		/* Missed periods are not played back: one interrupt. */
		apic->target = ktime_add_ns(apic->target, apic->period_ns);
		if (ktime_before(apic->target, now))
			apic->target = now;
		hrtimer_set_expires(timer, apic->target);
		return HRTIMER_RESTART;
	}
	/* Fired: the deadline MSR reads 0 again (SDM 10.5.4.1), as KVM. */
	WRITE_ONCE(apic->tsc_deadline, 0);
	return HRTIMER_NORESTART;
}

static void lapic_cancel_timer(struct mvm_lapic *apic)
{
	hrtimer_cancel(&apic->timer);
}

/* TSC-deadline mode: arm for the guest TSC value apic->tsc_deadline. */
static void lapic_start_tscdeadline(struct mvm_lapic *apic)
{
	struct mvm_vcpu *vcpu = apic->vcpu;
	u64 deadline = apic->tsc_deadline;
	u32 khz = vcpu->arch.tsc_khz;
	unsigned long flags;
	u64 guest_tsc, ns;
	ktime_t now;

	if (!deadline || !khz)
		return;
	/* Read both clocks close together. */
	local_irq_save(flags);
	now = ktime_get();
	guest_tsc = mvm_read_guest_tsc(vcpu);
	local_irq_restore(flags);

	if (deadline <= guest_tsc) {
		lapic_deliver_lvt(apic, APIC_LVTT);
		apic->tsc_deadline = 0;
		return;
	}
	ns = mul_u64_u32_div(deadline - guest_tsc, NSEC_PER_MSEC, khz);
	ns = ns > apic->timer_advance_ns ? ns - apic->timer_advance_ns : 0;
	/* A deadline centuries away must not wrap into the past. */
	apic->target = ns < KTIME_MAX - now ? ktime_add_ns(now, ns) : KTIME_MAX;
	hrtimer_start(&apic->timer, apic->target, HRTIMER_MODE_ABS_HARD);
}

/*
 * Interrupts off, just before the entry: the TSC-deadline timer fired
 * early (timer advance).  Wait until the guest's TSC reaches the
 * deadline, and let the miss tune the advance.  Bounded by the advance
 * itself (at most 5 us), unless the host's clocks disagree.
 */
void mvm_lapic_wait_expired_timer(struct mvm_vcpu *vcpu)
{
	struct mvm_lapic *apic = vcpu->arch.apic;
	u64 deadline = vcpu->arch.timer_expired_deadline;
	u32 khz = vcpu->arch.tsc_khz;
	u64 guest_tsc, ns;
	bool early;

	WRITE_ONCE(vcpu->arch.timer_expired_deadline, 0);
	if (!apic || !khz)
		return;
	guest_tsc = mvm_read_guest_tsc(vcpu);
	early = guest_tsc < deadline;
	ns = mul_u64_u32_div(early ? deadline - guest_tsc : guest_tsc - deadline,
			     NSEC_PER_MSEC, khz);
	if (early)
		ndelay(min_t(u64, ns, MVM_TIMER_ADVANCE_MAX_NS));

	if (lapic_timer_advance_ns != -1 ||
	    ns < MVM_TIMER_ADVANCE_ADJUST_MIN_NS ||
	    ns > MVM_TIMER_ADVANCE_ADJUST_MAX_NS)
		return;
	if (early)
		apic->timer_advance_ns -= min_t(u32, apic->timer_advance_ns,
						ns / MVM_TIMER_ADVANCE_ADJUST_STEP);
	else
		apic->timer_advance_ns += ns / MVM_TIMER_ADVANCE_ADJUST_STEP;
	if (apic->timer_advance_ns > MVM_TIMER_ADVANCE_MAX_NS)
		apic->timer_advance_ns = MVM_TIMER_ADVANCE_INIT_NS;
}

/*
 * One-shot or periodic: start counting down, from @first_ns (restoring
 * a current count) or from the whole period.
 */
static void lapic_start_count(struct mvm_lapic *apic, s64 first_ns)
{
	ktime_t now = ktime_get();

	apic->period_ns = lapic_count_to_ns(apic, lapic_get_reg(apic, APIC_TMICT));
	if (!apic->period_ns)
		return;
	lapic_limit_period(apic);
	if (first_ns < 0 || first_ns > apic->period_ns)
		first_ns = apic->period_ns;
	apic->target = ktime_add_ns(now, first_ns);
	hrtimer_start(&apic->timer, apic->target, HRTIMER_MODE_ABS_HARD);
}

/* Current count: what is left of the period, in timer ticks. */
static u32 lapic_get_tmcct(struct mvm_lapic *apic)
{
	s64 remaining;

	if (lapic_timer_tscdeadline(apic) || !lapic_get_reg(apic, APIC_TMICT) ||
	    !apic->period_ns)
		return 0;
	remaining = ktime_to_ns(ktime_sub(apic->target, ktime_get()));
	if (remaining <= 0)
		return 0;
	remaining %= apic->period_ns;
	return div_u64(remaining, MVM_APIC_BUS_CYCLE_NS * apic->divide_count);
}

/*
 * LVTT written: a change into or out of TSC-deadline mode stops the
 * timer and clears TMICT and the deadline (SDM 10.5.4.1, as KVM).
 */
static void lapic_update_lvtt(struct mvm_lapic *apic)
{
	u32 mode = lapic_get_reg(apic, APIC_LVTT) & LVT_TIMER_MODE_MASK;

	if (mode == apic->timer_mode)
		return;
	if (lapic_timer_tscdeadline(apic) !=
	    (mode == APIC_LVT_TIMER_TSCDEADLINE)) {
		lapic_cancel_timer(apic);
		lapic_set_reg(apic, APIC_TMICT, 0);
		apic->period_ns = 0;
		apic->tsc_deadline = 0;
	}
	apic->timer_mode = mode;
	lapic_limit_period(apic);
}

/* TDCR changed while counting: the remaining ticks run at the new rate. */
static void lapic_update_divide(struct mvm_lapic *apic, u32 old_divide)
{
	s64 remaining;

	if (apic->divide_count == old_divide || !apic->period_ns ||
	    lapic_timer_tscdeadline(apic))
		return;
	lapic_cancel_timer(apic);
	remaining = ktime_to_ns(ktime_sub(apic->target, ktime_get()));
	if (remaining < 0)
		remaining = 0;
	remaining = div_u64((u64)remaining * apic->divide_count, old_divide);
	lapic_start_count(apic, remaining);
}

/* ------------------------------------------------------------------ */
/* Register access                                                      */

/*
 * LVTT's writable bits: the mode bits the guest's CPUID allows, none
 * before KVM_SET_CPUID2 gives leaf 1 (KVM's timer_mode_mask).
 */
static u32 lapic_lvtt_mask(struct mvm_lapic *apic)
{
	struct kvm_cpuid_entry2 *leaf1;
	u32 modes = 0;

	leaf1 = mvm_find_cpuid_entry(apic->vcpu, 1, 0);
	if (leaf1) {
		modes = APIC_LVT_TIMER_PERIODIC;
		if (leaf1->ecx & BIT(24))	/* TSC_DEADLINE */
			modes |= APIC_LVT_TIMER_TSCDEADLINE;
	}
	return mvm_apic_lvt_mask[0] | modes;
}

static void lapic_set_version(struct mvm_lapic *apic)
{
	struct mvm_vcpu *vcpu = apic->vcpu;
	u32 v = MVM_APIC_VERSION | ((MVM_APIC_NR_LVT - 1) << 16);

	/*
	 * EOI-broadcast suppression (SDM 10.8.5) only with x2APIC in the
	 * guest's CPUID and the IOAPIC in userspace: KVM's IOAPIC models
	 * the 82093AA, which has no EOI register for directed EOIs.
	 */
	if (mvm_guest_cpuid_has(vcpu, 1, 2, 21) && !mvm_irqchip_full(vcpu->mvm))
		v |= APIC_LVR_DIRECTED_EOI;
	lapic_set_reg(apic, APIC_LVR, v);
}

static void lapic_set_spiv(struct mvm_lapic *apic, u32 val)
{
	u32 mask = 0x3ff;
	int i;

	if (lapic_get_reg(apic, APIC_LVR) & APIC_LVR_DIRECTED_EOI)
		mask |= APIC_SPIV_DIRECTED_EOI;
	lapic_set_reg(apic, APIC_SPIV, val & mask);
	if (val & APIC_SPIV_APIC_ENABLED)
		return;
	/* Software disable masks every LVT entry (SDM 10.4.7.2). */
	for (i = 0; i < MVM_APIC_NR_LVT; i++)
		lapic_set_reg(apic, APIC_LVTx(i),
			      lapic_get_reg(apic, APIC_LVTx(i)) | APIC_LVT_MASKED);
	lapic_update_lvtt(apic);
}

#define REG_BIT(reg)		BIT_ULL((reg) >> 4)
#define REG_RANGE(reg, n)	(REG_BIT(reg) * (BIT_ULL(n) - 1))

/* Registers that can be read, as KVM's kvm_lapic_reg_read() (SDM 10-1). */
static bool lapic_reg_readable(struct mvm_lapic *apic, u32 reg)
{
	u64 valid = REG_BIT(APIC_ID) | REG_BIT(APIC_LVR) |
		    REG_BIT(APIC_TASKPRI) | REG_BIT(APIC_PROCPRI) |
		    REG_BIT(APIC_LDR) | REG_BIT(APIC_DFR) | REG_BIT(APIC_SPIV) |
		    REG_RANGE(APIC_ISR, 8) | REG_RANGE(APIC_TMR, 8) |
		    REG_RANGE(APIC_IRR, 8) | REG_BIT(APIC_ESR) |
		    REG_BIT(APIC_ICR) | REG_BIT(APIC_LVTT) |
		    REG_BIT(APIC_LVTTHMR) | REG_BIT(APIC_LVTPC) |
		    REG_BIT(APIC_LVT0) | REG_BIT(APIC_LVT1) |
		    REG_BIT(APIC_LVTERR) | REG_BIT(APIC_TMICT) |
		    REG_BIT(APIC_TMCCT) | REG_BIT(APIC_TDCR);

	/* ARBPRI and ICR2 do not exist in x2APIC mode (SDM table 10-6). */
	if (!lapic_x2apic_mode(apic))
		valid |= REG_BIT(APIC_ARBPRI) | REG_BIT(APIC_ICR2);
	return reg <= 0x3f0 && (valid & REG_BIT(reg));
}

/* The 32-bit register at @reg (16-byte aligned, readable). */
static u32 lapic_read_reg(struct mvm_lapic *apic, u32 reg)
{
	switch (reg) {
	case APIC_ARBPRI:
		return 0;	/* as KVM: no arbitration priority */
	case APIC_TMCCT:
		return lapic_get_tmcct(apic);
	case APIC_PROCPRI:
		return lapic_update_ppr(apic);
	default:
		return lapic_get_reg(apic, reg);
	}
}

/* A 32-bit register write: 0, or 1 if the register may not be written. */
static int lapic_write_reg(struct mvm_lapic *apic, u32 reg, u32 val)
{
	bool x2apic = lapic_x2apic_mode(apic);
	u32 old;
	int i;

	switch (reg) {
	case APIC_ID:
		if (x2apic)
			return 1;
		/* Only bits 31:24 exist in the xAPIC ID (KVM keeps 8 bits). */
		lapic_set_reg(apic, APIC_ID, val & 0xff000000);
		return 0;
	case APIC_TASKPRI:
		lapic_set_tpr(apic, val & 0xff);
		return 0;
	case APIC_EOI:
		lapic_set_eoi(apic);
		return 0;
	case APIC_LDR:
		if (x2apic)
			return 1;
		lapic_set_reg(apic, APIC_LDR, val & APIC_LDR_MASK);
		return 0;
	case APIC_DFR:
		if (x2apic)
			return 1;
		/* Bits 27:0 are reserved, read as ones (SDM 10.6.2.2). */
		lapic_set_reg(apic, APIC_DFR, val | 0x0fffffff);
		return 0;
	case APIC_SPIV:
		lapic_set_spiv(apic, val);
		return 0;
	case APIC_ICR:
		if (x2apic)
			return 1;	/* 64 bits through the MSR only */
		/* Delivery is immediate: never "send pending". */
		val &= ~APIC_ICR_BUSY;
		lapic_send_ipi(apic, val, lapic_get_reg(apic, APIC_ICR2));
		lapic_set_reg(apic, APIC_ICR, val);
		return 0;
	case APIC_ICR2:
		if (x2apic)
			return 1;
		lapic_set_reg(apic, APIC_ICR2, val & 0xff000000);
		return 0;
	case APIC_LVTTHMR:
	case APIC_LVTPC:
	case APIC_LVT0:
	case APIC_LVT1:
	case APIC_LVTERR:
		i = (reg - APIC_LVTT) >> 4;
		if (!lapic_sw_enabled(apic))
			val |= APIC_LVT_MASKED;
		lapic_set_reg(apic, reg, val & mvm_apic_lvt_mask[i]);
		return 0;
	case APIC_LVTT:
		if (!lapic_sw_enabled(apic))
			val |= APIC_LVT_MASKED;
		lapic_set_reg(apic, APIC_LVTT, val & lapic_lvtt_mask(apic));
		lapic_update_lvtt(apic);
		return 0;
	case APIC_TMICT:
		/* Ignored in TSC-deadline mode (SDM 10.5.4.1). */
		if (lapic_timer_tscdeadline(apic))
			return 0;
		lapic_cancel_timer(apic);
		lapic_set_reg(apic, APIC_TMICT, val);
		lapic_start_count(apic, -1);
		return 0;
	case APIC_TDCR:
		old = apic->divide_count;
		lapic_set_reg(apic, APIC_TDCR, val & 0xb);
		lapic_update_divide_count(apic);
		lapic_update_divide(apic, old);
		return 0;
	case APIC_ESR:
		/*
		 * mvm detects no APIC errors, so the write that latches them
		 * (SDM 10.5.3) latches 0.  x2APIC: a non-zero write #GPs.
		 */
		return x2apic && val ? 1 : 0;
	case APIC_SELF_IPI:
		/* x2APIC only; bits 31:8 reserved (SDM 10.12.11). */
		if (!x2apic || (val & ~APIC_VECTOR_MASK))
			return 1;
		lapic_send_ipi(apic, APIC_DEST_SELF | val, 0);
		return 0;
	default:
		/* Read-only (LVR, PPR, ISR, TMR, IRR, TMCCT) or reserved. */
		return 1;
	}
}

static inline bool lapic_in_page(struct mvm_lapic *apic, gpa_t gpa)
{
	return gpa >= apic->base_address &&
	       gpa < apic->base_address + PAGE_SIZE;
}

int mvm_lapic_mmio_read(struct mvm_vcpu *vcpu, gpa_t gpa, int len, void *val)
{
	struct mvm_lapic *apic = vcpu->arch.apic;
	u32 off, reg, data;

	if (!lapic_in_page(apic, gpa))
		return -EOPNOTSUPP;
	/*
	 * KVM_X86_QUIRK_LAPIC_MMIO_HOLE, on by default in KVM: while the
	 * APIC is disabled or in x2APIC mode its page reads all ones.
	 */
	if (!lapic_hw_enabled(apic) || lapic_x2apic_mode(apic)) {
		memset(val, 0xff, len);
		return 0;
	}
	off = gpa - apic->base_address;
	reg = off & ~0xf;
	/* A read that crosses a register, or of no register: 0, as KVM. */
	if ((off & 0xf) + len > 4 || !lapic_reg_readable(apic, reg)) {
		memset(val, 0, len);
		return 0;
	}
	data = lapic_read_reg(apic, reg);
	memcpy(val, (u8 *)&data + (off & 0xf), len);
	return 0;
}

int mvm_lapic_mmio_write(struct mvm_vcpu *vcpu, gpa_t gpa, int len,
			 const void *val)
{
	struct mvm_lapic *apic = vcpu->arch.apic;
	u32 off;

	if (!lapic_in_page(apic, gpa))
		return -EOPNOTSUPP;
	if (!lapic_hw_enabled(apic) || lapic_x2apic_mode(apic))
		return 0;	/* the MMIO hole quirk: dropped */
	off = gpa - apic->base_address;
	/*
	 * Registers are 16-byte aligned and accessed as 32 bits (SDM
	 * 10.4.1); KVM drops any other write.
	 */
	if (len != 4 || (off & 0xf))
		return 0;
	lapic_write_reg(apic, off, *(const u32 *)val);
	return 0;
}

/* ------------------------------------------------------------------ */
/* MSRs: x2APIC (0x800-0x8ff), IA32_TSC_DEADLINE                        */

bool mvm_is_lapic_msr(struct mvm_vcpu *vcpu, u32 index)
{
	return (index >= APIC_BASE_MSR && index <= APIC_BASE_MSR + 0xff) ||
	       index == MSR_IA32_TSC_DEADLINE;
}

int mvm_lapic_get_msr(struct mvm_vcpu *vcpu, u32 index, u64 *data)
{
	struct mvm_lapic *apic = vcpu->arch.apic;
	u32 reg = (index - APIC_BASE_MSR) << 4;

	if (index == MSR_IA32_TSC_DEADLINE) {
		/* As KVM: 0 unless the timer is in TSC-deadline mode. */
		*data = apic && lapic_hw_enabled(apic) &&
			lapic_timer_tscdeadline(apic) ?
			READ_ONCE(apic->tsc_deadline) : 0;
		return 0;
	}
	if (!apic || !lapic_x2apic_mode(apic) || reg == APIC_DFR)
		return 1;
	if (reg == APIC_ICR) {
		*data = lapic_get_reg(apic, APIC_ICR) |
			(u64)lapic_get_reg(apic, APIC_ICR2) << 32;
		return 0;
	}
	if (!lapic_reg_readable(apic, reg))
		return 1;
	*data = lapic_read_reg(apic, reg);
	return 0;
}

int mvm_lapic_set_msr(struct mvm_vcpu *vcpu, u32 index, u64 data,
		      bool host_initiated)
{
	struct mvm_lapic *apic = vcpu->arch.apic;
	u32 reg = (index - APIC_BASE_MSR) << 4;

	if (index == MSR_IA32_TSC_DEADLINE) {
		/* As KVM: ignored unless the timer is in TSC-deadline mode. */
		if (!apic || !lapic_hw_enabled(apic) ||
		    !lapic_timer_tscdeadline(apic))
			return 0;
		lapic_cancel_timer(apic);
		apic->tsc_deadline = data;
		lapic_start_tscdeadline(apic);
		return 0;
	}
	if (!apic || !lapic_x2apic_mode(apic))
		return 1;
	if (reg == APIC_ICR) {
		/* One 64-bit write sends the IPI (SDM 10.12.9). */
		if (data & X2APIC_ICR_RESERVED)
			return 1;
		data &= ~(u64)APIC_ICR_BUSY;
		lapic_send_ipi(apic, (u32)data, data >> 32);
		lapic_set_reg(apic, APIC_ICR, (u32)data);
		lapic_set_reg(apic, APIC_ICR2, data >> 32);
		return 0;
	}
	/* Bits 63:32 are reserved in every other register. */
	if (data >> 32)
		return 1;
	return lapic_write_reg(apic, reg, (u32)data);
}

/* ------------------------------------------------------------------ */
/* APIC base, CR8, reset                                                */

/*
 * IA32_APIC_BASE written, already validated (msr.c): global enable,
 * x2APIC mode, the page's address (SDM 10.4.4, 10.12.5).  Enabling sets
 * the xAPIC ID from the vCPU id, entering x2APIC mode the x2APIC ID and
 * its fixed logical ID, as KVM.
 */
void mvm_lapic_set_base(struct mvm_vcpu *vcpu, u64 value)
{
	struct mvm_lapic *apic = vcpu->arch.apic;
	u64 old = vcpu->arch.apic_base;

	WRITE_ONCE(vcpu->arch.apic_base, value);
	if (!apic)
		return;
	if ((old ^ value) & value & MSR_IA32_APICBASE_ENABLE)
		lapic_set_reg(apic, APIC_ID, vcpu->vcpu_id << 24);
	if ((old ^ value) & value & X2APIC_ENABLE) {
		lapic_set_reg(apic, APIC_ID, vcpu->vcpu_id);
		lapic_set_reg(apic, APIC_LDR, lapic_x2apic_ldr(vcpu->vcpu_id));
	}
	apic->base_address = value & MSR_IA32_APICBASE_BASE;
	set_bit(MVM_REQ_EVENT, &vcpu->requests);
}

void mvm_lapic_set_cr8(struct mvm_vcpu *vcpu, unsigned long cr8)
{
	lapic_set_tpr(vcpu->arch.apic, (cr8 & 0xf) << 4);
}

unsigned long mvm_lapic_get_cr8(struct mvm_vcpu *vcpu)
{
	return (lapic_get_reg(vcpu->arch.apic, APIC_TASKPRI) >> 4) & 0xf;
}

/* KVM_SET_CPUID2: LVR and the timer modes depend on the guest's CPUID. */
void mvm_lapic_after_set_cpuid(struct mvm_vcpu *vcpu)
{
	if (vcpu->arch.apic)
		lapic_set_version(vcpu->arch.apic);
}

/*
 * RESET (SDM 10.4.7.1) or INIT (10.4.7.3: the same except that the APIC
 * base, the ID and, in x2APIC mode, the LDR are kept).  The BSP's LINT0
 * comes up unmasked in ExtINT mode, as KVM's default
 * KVM_X86_QUIRK_LINT0_REENABLED does, so the PIC reaches it.
 */
void mvm_lapic_reset(struct mvm_vcpu *vcpu, bool init_event)
{
	struct mvm_lapic *apic = vcpu->arch.apic;
	int i;

	if (!init_event)
		mvm_lapic_set_base(vcpu, MVM_APIC_DEFAULT_BASE |
				   MSR_IA32_APICBASE_ENABLE |
				   (mvm_vcpu_is_reset_bsp(vcpu) ?
				    MSR_IA32_APICBASE_BSP : 0));
	if (!apic)
		return;

	lapic_cancel_timer(apic);
	if (!init_event)
		lapic_set_reg(apic, APIC_ID, vcpu->vcpu_id << 24);
	lapic_set_version(apic);
	for (i = 0; i < MVM_APIC_NR_LVT; i++)
		lapic_set_reg(apic, APIC_LVTx(i), APIC_LVT_MASKED);
	lapic_update_lvtt(apic);
	if (mvm_vcpu_is_reset_bsp(vcpu))
		lapic_set_reg(apic, APIC_LVT0, APIC_DM_EXTINT);
	lapic_set_reg(apic, APIC_DFR, APIC_DFR_FLAT);
	lapic_set_reg(apic, APIC_SPIV, 0xff);	/* the LVTs are masked above */
	lapic_set_reg(apic, APIC_TASKPRI, 0);
	if (!lapic_x2apic_mode(apic))
		lapic_set_reg(apic, APIC_LDR, 0);
	lapic_set_reg(apic, APIC_ESR, 0);
	lapic_set_reg(apic, APIC_ICR, 0);
	lapic_set_reg(apic, APIC_ICR2, 0);
	lapic_set_reg(apic, APIC_TDCR, 0);
	lapic_set_reg(apic, APIC_TMICT, 0);
	for (i = 0; i < 8; i++) {
		lapic_set_reg(apic, APIC_IRR + 0x10 * i, 0);
		lapic_set_reg(apic, APIC_ISR + 0x10 * i, 0);
		lapic_set_reg(apic, APIC_TMR + 0x10 * i, 0);
	}
	lapic_update_divide_count(apic);
	apic->period_ns = 0;
	apic->tsc_deadline = 0;
	lapic_update_ppr(apic);
	vcpu->arch.cr8 = 0;
	atomic_set(&apic->arb_prio, 0);
	if (!init_event)
		WRITE_ONCE(apic->pending_events, 0);
}

int mvm_lapic_create(struct mvm_vcpu *vcpu)
{
	struct mvm_lapic *apic;

	apic = kzalloc(sizeof(*apic), GFP_KERNEL_ACCOUNT);
	if (!apic)
		return -ENOMEM;
	apic->regs = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!apic->regs) {
		kfree(apic);
		return -ENOMEM;
	}
	apic->vcpu = vcpu;
	apic->divide_count = 2;
	apic->timer_advance_ns = lapic_timer_advance_ns == -1 ?
		MVM_TIMER_ADVANCE_INIT_NS :
		min_t(u32, max(lapic_timer_advance_ns, 0), MVM_TIMER_ADVANCE_MAX_NS);
	hrtimer_init(&apic->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_HARD);
	apic->timer.function = lapic_timer_fn;
	vcpu->arch.apic = apic;
	return 0;
}

void mvm_lapic_free(struct mvm_vcpu *vcpu)
{
	struct mvm_lapic *apic = vcpu->arch.apic;

	if (!apic)
		return;
	hrtimer_cancel(&apic->timer);
	free_page((unsigned long)apic->regs);
	kfree(apic);
	vcpu->arch.apic = NULL;
}

/* ------------------------------------------------------------------ */
/* INIT and SIPI (SDM 8.4, 10.4.7.3)                                    */

bool mvm_apic_has_pending_events(struct mvm_vcpu *vcpu)
{
	struct mvm_lapic *apic = vcpu->arch.apic;

	return apic && READ_ONCE(apic->pending_events);
}

/*
 * The vCPU's thread, with the vCPU loaded.  INIT resets the vCPU for
 * INIT (x86.c) and, except on the BSP, waits for a SIPI; a SIPI counts
 * only while waiting (KVM_MP_STATE_INIT_RECEIVED) and starts the vCPU in
 * real mode at vector << 12 (CS = vector << 8, IP = 0).
 */
bool mvm_apic_accept_events(struct mvm_vcpu *vcpu)
{
	struct mvm_lapic *apic = vcpu->arch.apic;
	bool taken = false;

	if (!apic || !READ_ONCE(apic->pending_events))
		return false;

	if (test_and_clear_bit(MVM_APIC_INIT, &apic->pending_events)) {
		mvm_vcpu_reset(vcpu, true);
		vcpu->arch.mp_state =
			vcpu->arch.apic_base & MSR_IA32_APICBASE_BSP ?
			KVM_MP_STATE_RUNNABLE : KVM_MP_STATE_INIT_RECEIVED;
		taken = true;
	}
	if (test_and_clear_bit(MVM_APIC_SIPI, &apic->pending_events) &&
	    vcpu->arch.mp_state == KVM_MP_STATE_INIT_RECEIVED) {
		struct kvm_segment cs;
		u8 vector;

		/* The bit before the vector: lapic_accept_irq(). */
		smp_rmb();
		vector = apic->sipi_vector;
		mvm_x86_ops->get_segment(vcpu, &cs, VCPU_SREG_CS);
		cs.selector = vector << 8;
		cs.base = (u64)vector << 12;
		mvm_x86_ops->set_segment(vcpu, &cs, VCPU_SREG_CS);
		mvm_rip_write(vcpu, 0);
		vcpu->arch.mp_state = KVM_MP_STATE_RUNNABLE;
		taken = true;
	}
	return taken;
}

/* ------------------------------------------------------------------ */
/* KVM_GET_LAPIC / KVM_SET_LAPIC                                        */

/*
 * In x2APIC mode userspace sees the ID as KVM shows it: the 32-bit id
 * with KVM_X2APIC_API_USE_32BIT_IDS, else id << 24 as an xAPIC would
 * hold it.  KVM_SET_LAPIC with 32-bit ids insists on the vCPU's id.
 */
static int lapic_state_fixup(struct mvm_vcpu *vcpu, struct kvm_lapic_state *s,
			     bool set)
{
	u32 *id = (u32 *)(s->regs + APIC_ID);
	u32 *ldr = (u32 *)(s->regs + APIC_LDR);

	if (!lapic_x2apic_mode(vcpu->arch.apic))
		return 0;
	if (READ_ONCE(vcpu->mvm->arch.x2apic_api_flags) &
	    KVM_X2APIC_API_USE_32BIT_IDS) {
		if (*id != vcpu->vcpu_id)
			return -EINVAL;
	} else if (set) {
		*id >>= 24;
	} else {
		*id <<= 24;
	}
	if (set)
		*ldr = lapic_x2apic_ldr(*id);
	return 0;
}

long mvm_vcpu_ioctl_get_lapic(struct mvm_vcpu *vcpu,
			      struct kvm_lapic_state __user *ustate)
{
	struct mvm_lapic *apic = vcpu->arch.apic;
	struct kvm_lapic_state *s;
	long r;

	if (!apic)
		return -EINVAL;
	s = kmalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s)
		return -ENOMEM;
	memcpy(s->regs, apic->regs, sizeof(s->regs));
	*(u32 *)(s->regs + APIC_TMCCT) = lapic_get_tmcct(apic);
	r = lapic_state_fixup(vcpu, s, false);
	if (!r && copy_to_user(ustate, s, sizeof(*s)))
		r = -EFAULT;
	kfree(s);
	return r;
}

long mvm_vcpu_ioctl_set_lapic(struct mvm_vcpu *vcpu,
			      struct kvm_lapic_state __user *ustate)
{
	struct mvm_lapic *apic = vcpu->arch.apic;
	struct kvm_lapic_state *s;
	u32 tmcct;
	long r;

	if (!apic)
		return -EINVAL;
	s = memdup_user(ustate, sizeof(*s));
	if (IS_ERR(s))
		return PTR_ERR(s);
	r = lapic_state_fixup(vcpu, s, true);
	if (r)
		goto out;

	lapic_cancel_timer(apic);
	memcpy(apic->regs, s->regs, sizeof(s->regs));
	lapic_set_version(apic);
	/* SPIV through its mask (directed EOI only if offered). */
	lapic_set_reg(apic, APIC_SPIV, lapic_get_reg(apic, APIC_SPIV) &
		      (0x3ff | (lapic_get_reg(apic, APIC_LVR) &
				APIC_LVR_DIRECTED_EOI ?
				APIC_SPIV_DIRECTED_EOI : 0)));
	lapic_set_tpr(apic, lapic_get_reg(apic, APIC_TASKPRI));
	lapic_update_lvtt(apic);
	lapic_update_divide_count(apic);
	/* The count goes on from the current count given, as KVM. */
	tmcct = lapic_get_reg(apic, APIC_TMCCT);
	lapic_set_reg(apic, APIC_TMCCT, 0);
	if (lapic_timer_tscdeadline(apic))
		lapic_start_tscdeadline(apic);
	else
		lapic_start_count(apic, tmcct ? lapic_count_to_ns(apic, tmcct) :
					lapic_timer_periodic(apic) ? -1 : 0);
	atomic_set(&apic->arb_prio, 0);
	set_bit(MVM_REQ_EVENT, &vcpu->requests);
out:
	kfree(s);
	return r;
}
