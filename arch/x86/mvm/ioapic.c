// SPDX-License-Identifier: GPL-2.0
/*
 * The I/O APIC (Intel 82093AA datasheet): 24 pins, each with a 64-bit
 * redirection entry that turns an edge or a level on the pin into an
 * interrupt message for the local APICs.  Software reaches it through two
 * MMIO registers, IOREGSEL (offset 0x00) selecting an indirect register
 * and IOWIN (0x10) reading or writing it: ID (0), version (1), arbitration
 * (2), redirection entries (0x10 + 2 * pin, low then high half).
 *
 * As KVM: version 0x11 (no EOI register), Remote IRR cleared by the EOI
 * broadcast of the LAPICs (mvm_ioapic_eoi()) or by making the entry
 * edge-triggered (what Linux does where there is no EOI register).
 *
 * The lock is taken with interrupts off: lines are raised from hrtimers.
 * Delivery to the LAPICs (any context) happens with it held.
 */
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <asm/apicdef.h>
#include "x86.h"
#include "irq.h"
#include "irqchip.h"

#define IOAPIC_BASE		0xfec00000ULL
#define IOAPIC_MMIO_LEN		0x100
#define IOAPIC_VERSION		0x11

#define IOAPIC_REG_SELECT	0x00
#define IOAPIC_REG_WINDOW	0x10

#define IOAPIC_REG_ID		0x00
#define IOAPIC_REG_VERSION	0x01
#define IOAPIC_REG_ARB		0x02
#define IOAPIC_REG_REDTBL	0x10

/* Redirection entry fields (82093AA 3.2.4). */
#define IOREDTBL_VECTOR		GENMASK_ULL(7, 0)
#define IOREDTBL_DELMODE	GENMASK_ULL(10, 8)
#define IOREDTBL_DESTMODE	BIT_ULL(11)	/* 1: logical */
#define IOREDTBL_DELIVS		BIT_ULL(12)	/* read-only */
#define IOREDTBL_INTPOL		BIT_ULL(13)
#define IOREDTBL_REMOTE_IRR	BIT_ULL(14)	/* read-only */
#define IOREDTBL_TRIGGER	BIT_ULL(15)	/* 1: level */
#define IOREDTBL_MASK		BIT_ULL(16)
#define IOREDTBL_DEST_SHIFT	56

/*
 * A level interrupt that is still asserted at its EOI is delivered again
 * at once; after this many in a row the redelivery waits 10 ms (as KVM,
 * as real hardware is slower than a re-entry), so that a guest that never
 * quiets its device still makes progress, and so does the host.
 */
#define IOAPIC_SUCCESSIVE_IRQ_MAX	10000

struct mvm_ioapic {
	struct mvm *mvm;
	struct mvm_io_device dev;
	spinlock_t lock;
	/* The state of KVM_GET_IRQCHIP (struct kvm_ioapic_state). */
	u64 base_address;
	u32 ioregsel;
	u32 id;
	u32 irr;		/* pins asserted (edges: latched until lowered) */
	u32 irr_delivered;	/* edges already sent */
	u64 redirtbl[MVM_IOAPIC_NUM_PINS];
	/* Per pin, the sources driving it (mvm_irq_line_state()). */
	unsigned long irq_states[MVM_IOAPIC_NUM_PINS];
	u32 successive_eois[MVM_IOAPIC_NUM_PINS];
	struct delayed_work eoi_inject;
	/*
	 * The vectors of the redirection entries: an EOI of any other
	 * vector is none of the IOAPIC's business (KVM's
	 * ioapic_handled_vectors).  Written under the lock, read without.
	 */
	DECLARE_BITMAP(entry_vectors, 256);
};

/* After any change of redirtbl[].  Lock held. */
static void ioapic_update_entry_vectors(struct mvm_ioapic *ioapic)
{
	DECLARE_BITMAP(vectors, 256);
	int pin, i;

	bitmap_zero(vectors, 256);
	for (pin = 0; pin < MVM_IOAPIC_NUM_PINS; pin++)
		__set_bit(ioapic->redirtbl[pin] & IOREDTBL_VECTOR, vectors);
	for (i = 0; i < BITS_TO_LONGS(256); i++)
		WRITE_ONCE(ioapic->entry_vectors[i], vectors[i]);
}

static bool ioapic_entry_level(u64 e)
{
	return e & IOREDTBL_TRIGGER;
}

/* Send pin @pin's message if the entry lets it through.  Lock held. */
static int ioapic_service(struct mvm_ioapic *ioapic, int pin)
{
	u64 e = ioapic->redirtbl[pin];
	struct mvm_lapic_irq irq;
	int ret;

	if ((e & IOREDTBL_MASK) ||
	    (ioapic_entry_level(e) && (e & IOREDTBL_REMOTE_IRR)))
		return -1;

	irq.vector = e & IOREDTBL_VECTOR;
	irq.delivery_mode = e & IOREDTBL_DELMODE;	/* APIC_DM_* */
	irq.dest_logical = e & IOREDTBL_DESTMODE;
	irq.trig_level = ioapic_entry_level(e);
	irq.level = true;
	irq.shorthand = APIC_DEST_NOSHORT;
	irq.dest_id = e >> IOREDTBL_DEST_SHIFT;
	irq.msi_redir_hint = false;

	if (!irq.trig_level)
		ioapic->irr_delivered |= BIT(pin);

	ret = mvm_irq_delivery_to_apic(ioapic->mvm, NULL, &irq);
	/*
	 * Remote IRR: a LAPIC accepted a level interrupt and owes an EOI.
	 * As KVM, also when none was addressed (ret -1), so that a line
	 * without a destination does not storm.
	 */
	if (ret && irq.trig_level)
		ioapic->redirtbl[pin] |= IOREDTBL_REMOTE_IRR;
	return ret;
}

/* @level: the pin's line, all sources OR-ed.  Lock held. */
static int ioapic_set_line(struct mvm_ioapic *ioapic, int pin, int level)
{
	u32 mask = BIT(pin), old_irr = ioapic->irr;

	if (!level) {
		ioapic->irr &= ~mask;
		return 1;
	}

	ioapic->irr |= mask;
	if (!ioapic_entry_level(ioapic->redirtbl[pin])) {
		ioapic->irr_delivered &= ~mask;
		/* Already high: no new edge (coalesced). */
		if (old_irr & mask)
			return 0;
	}
	return ioapic_service(ioapic, pin);
}

int mvm_ioapic_set_irq(struct mvm *mvm, int pin, int irq_source_id,
		       int level, bool line_status)
{
	struct mvm_ioapic *ioapic = mvm->arch.vioapic;
	unsigned long flags;
	int ret, line;

	if (!ioapic || pin < 0 || pin >= MVM_IOAPIC_NUM_PINS)
		return -1;
	/*
	 * line_status would ask for KVM's RTC (pin 8) EOI tracking, which
	 * needs per-vCPU destination maps the LAPIC does not report: pin 8
	 * is treated as any other edge pin.
	 */
	spin_lock_irqsave(&ioapic->lock, flags);
	line = mvm_irq_line_state(&ioapic->irq_states[pin], irq_source_id,
				  level);
	ret = ioapic_set_line(ioapic, pin, line);
	spin_unlock_irqrestore(&ioapic->lock, flags);
	return ret;
}

static u32 ioapic_read_indirect(struct mvm_ioapic *ioapic)
{
	u32 pin;
	u64 e;

	switch (ioapic->ioregsel) {
	case IOAPIC_REG_VERSION:
		/* Maximum redirection entry in 23:16, version in 7:0. */
		return ((MVM_IOAPIC_NUM_PINS - 1) << 16) | IOAPIC_VERSION;
	case IOAPIC_REG_ID:
	case IOAPIC_REG_ARB:
		return (ioapic->id & 0xf) << 24;
	default:
		pin = (ioapic->ioregsel - IOAPIC_REG_REDTBL) >> 1;
		/* Below 0x10 or past the table: all ones, as KVM. */
		e = ~0ULL;
		if (ioapic->ioregsel >= IOAPIC_REG_REDTBL &&
		    pin < MVM_IOAPIC_NUM_PINS)
			e = ioapic->redirtbl[array_index_nospec(pin,
						MVM_IOAPIC_NUM_PINS)];
		return (ioapic->ioregsel & 1) ? e >> 32 : (u32)e;
	}
}

static void ioapic_write_indirect(struct mvm_ioapic *ioapic, u32 val)
{
	u64 *e, keep;
	u32 pin;

	switch (ioapic->ioregsel) {
	case IOAPIC_REG_ID:
		ioapic->id = (val >> 24) & 0xf;
		return;
	case IOAPIC_REG_VERSION:
	case IOAPIC_REG_ARB:
		return;		/* read-only */
	}
	if (ioapic->ioregsel < IOAPIC_REG_REDTBL)
		return;
	pin = (ioapic->ioregsel - IOAPIC_REG_REDTBL) >> 1;
	if (pin >= MVM_IOAPIC_NUM_PINS)
		return;
	pin = array_index_nospec(pin, MVM_IOAPIC_NUM_PINS);
	e = &ioapic->redirtbl[pin];

	/* Delivery Status and Remote IRR are read-only. */
	keep = *e & (IOREDTBL_DELIVS | IOREDTBL_REMOTE_IRR);
	if (ioapic->ioregsel & 1)
		*e = (*e & 0xffffffffULL) | ((u64)val << 32);
	else
		*e = (*e & ~0xffffffffULL) | val;
	*e = (*e & ~(IOREDTBL_DELIVS | IOREDTBL_REMOTE_IRR)) | keep;
	ioapic_update_entry_vectors(ioapic);

	/*
	 * An edge-triggered entry has no Remote IRR: switching an entry to
	 * edge clears it, which Linux relies on to "EOI" an IOAPIC without
	 * an EOI register (as KVM does).
	 */
	if (!ioapic_entry_level(*e))
		*e &= ~IOREDTBL_REMOTE_IRR;

	/* A level line held high while masked fires once unmasked. */
	if (ioapic_entry_level(*e) && (ioapic->irr & BIT(pin)))
		ioapic_service(ioapic, pin);
}

static struct mvm_ioapic *to_ioapic(struct mvm_io_device *dev)
{
	return container_of(dev, struct mvm_ioapic, dev);
}

static bool ioapic_in_range(struct mvm_ioapic *ioapic, gpa_t addr)
{
	return addr >= ioapic->base_address &&
	       addr < ioapic->base_address + IOAPIC_MMIO_LEN;
}

static int ioapic_mmio_read(struct mvm_vcpu *vcpu, struct mvm_io_device *dev,
			    gpa_t addr, int len, void *val)
{
	struct mvm_ioapic *ioapic = to_ioapic(dev);
	unsigned long flags;
	u64 result = 0;

	if (!ioapic_in_range(ioapic, addr))
		return -EOPNOTSUPP;

	spin_lock_irqsave(&ioapic->lock, flags);
	switch (addr & 0xff) {
	case IOAPIC_REG_SELECT:
		result = ioapic->ioregsel;
		break;
	case IOAPIC_REG_WINDOW:
		result = ioapic_read_indirect(ioapic);
		break;
	}
	spin_unlock_irqrestore(&ioapic->lock, flags);

	if (len == 1 || len == 2 || len == 4 || len == 8)
		memcpy(val, &result, len);
	return 0;
}

static int ioapic_mmio_write(struct mvm_vcpu *vcpu, struct mvm_io_device *dev,
			     gpa_t addr, int len, const void *val)
{
	struct mvm_ioapic *ioapic = to_ioapic(dev);
	unsigned long flags;
	u32 data;

	if (!ioapic_in_range(ioapic, addr))
		return -EOPNOTSUPP;

	switch (len) {
	case 8:
	case 4:
		data = *(const u32 *)val;
		break;
	case 2:
		data = *(const u16 *)val;
		break;
	case 1:
		data = *(const u8 *)val;
		break;
	default:
		return 0;
	}

	spin_lock_irqsave(&ioapic->lock, flags);
	switch (addr & 0xff) {
	case IOAPIC_REG_SELECT:
		ioapic->ioregsel = data & 0xff;
		break;
	case IOAPIC_REG_WINDOW:
		ioapic_write_indirect(ioapic, data);
		break;
	}
	spin_unlock_irqrestore(&ioapic->lock, flags);
	return 0;
}

static const struct mvm_io_device_ops ioapic_mmio_ops = {
	.read = ioapic_mmio_read,
	.write = ioapic_mmio_write,
};

/* The storm's deferred redelivery (IOAPIC_SUCCESSIVE_IRQ_MAX). */
static void ioapic_eoi_inject_work(struct work_struct *work)
{
	struct mvm_ioapic *ioapic = container_of(to_delayed_work(work),
						 struct mvm_ioapic,
						 eoi_inject);
	unsigned long flags;
	int pin;

	spin_lock_irqsave(&ioapic->lock, flags);
	for (pin = 0; pin < MVM_IOAPIC_NUM_PINS; pin++) {
		u64 e = ioapic->redirtbl[pin];

		if (ioapic_entry_level(e) && (ioapic->irr & BIT(pin)) &&
		    !(e & IOREDTBL_REMOTE_IRR))
			ioapic_service(ioapic, pin);
	}
	spin_unlock_irqrestore(&ioapic->lock, flags);
}

/*
 * The EOI broadcast of @vector (SDM vol. 3A 10.8.5): every level entry
 * with that vector gets its Remote IRR cleared, and fires again if its
 * line is still asserted.  The ack notifiers of every entry with that
 * vector, edge ones too (the PIT's reinjection), run first and without
 * the lock: an irqfd resampler lowers the line there, and may raise it
 * again through this IOAPIC.
 */
void mvm_ioapic_eoi(struct mvm_vcpu *vcpu, int vector)
{
	struct mvm_ioapic *ioapic = vcpu->mvm->arch.vioapic;
	unsigned long flags, pins = 0;
	int pin;

	if (!ioapic || vector < 0 || vector > 255 ||
	    !test_bit(vector, ioapic->entry_vectors))
		return;

	spin_lock_irqsave(&ioapic->lock, flags);
	for (pin = 0; pin < MVM_IOAPIC_NUM_PINS; pin++)
		if ((ioapic->redirtbl[pin] & IOREDTBL_VECTOR) == vector)
			__set_bit(pin, &pins);
	spin_unlock_irqrestore(&ioapic->lock, flags);

	for_each_set_bit(pin, &pins, MVM_IOAPIC_NUM_PINS)
		mvm_notify_acked_irq(vcpu->mvm, KVM_IRQCHIP_IOAPIC, pin);

	spin_lock_irqsave(&ioapic->lock, flags);
	for_each_set_bit(pin, &pins, MVM_IOAPIC_NUM_PINS) {
		u64 *e = &ioapic->redirtbl[pin];

		if (!ioapic_entry_level(*e))
			continue;
		*e &= ~IOREDTBL_REMOTE_IRR;
		if ((*e & IOREDTBL_MASK) || !(ioapic->irr & BIT(pin))) {
			ioapic->successive_eois[pin] = 0;
			continue;
		}
		if (++ioapic->successive_eois[pin] == IOAPIC_SUCCESSIVE_IRQ_MAX) {
			ioapic->successive_eois[pin] = 0;
			schedule_delayed_work(&ioapic->eoi_inject, HZ / 100);
		} else {
			ioapic_service(ioapic, pin);
		}
	}
	spin_unlock_irqrestore(&ioapic->lock, flags);
}

/* ------------------------------------------------------------------ */
/* KVM_GET_IRQCHIP / KVM_SET_IRQCHIP                                    */

void mvm_ioapic_get_state(struct mvm *mvm, struct kvm_ioapic_state *state)
{
	struct mvm_ioapic *ioapic = mvm->arch.vioapic;
	unsigned long flags;
	int pin;

	memset(state, 0, sizeof(*state));
	spin_lock_irqsave(&ioapic->lock, flags);
	state->base_address = ioapic->base_address;
	state->ioregsel = ioapic->ioregsel;
	state->id = ioapic->id;
	/* Edges already delivered are not pending (as KVM). */
	state->irr = ioapic->irr & ~ioapic->irr_delivered;
	for (pin = 0; pin < MVM_IOAPIC_NUM_PINS; pin++)
		state->redirtbl[pin].bits = ioapic->redirtbl[pin];
	spin_unlock_irqrestore(&ioapic->lock, flags);
}

/* The pending pins of @state are raised again, as KVM's kvm_set_ioapic(). */
void mvm_ioapic_set_state(struct mvm *mvm,
			  const struct kvm_ioapic_state *state)
{
	struct mvm_ioapic *ioapic = mvm->arch.vioapic;
	unsigned long flags, irr = state->irr;
	int pin;

	spin_lock_irqsave(&ioapic->lock, flags);
	ioapic->base_address = state->base_address;
	ioapic->ioregsel = state->ioregsel;
	ioapic->id = state->id;
	for (pin = 0; pin < MVM_IOAPIC_NUM_PINS; pin++)
		ioapic->redirtbl[pin] = state->redirtbl[pin].bits;
	ioapic_update_entry_vectors(ioapic);
	ioapic->irr = 0;
	ioapic->irr_delivered = 0;
	for_each_set_bit(pin, &irr, MVM_IOAPIC_NUM_PINS)
		ioapic_set_line(ioapic, pin, 1);
	spin_unlock_irqrestore(&ioapic->lock, flags);
}

/* ------------------------------------------------------------------ */

int mvm_ioapic_create(struct mvm *mvm)
{
	struct mvm_ioapic *ioapic;
	int pin, r;

	ioapic = kzalloc(sizeof(*ioapic), GFP_KERNEL_ACCOUNT);
	if (!ioapic)
		return -ENOMEM;
	ioapic->mvm = mvm;
	spin_lock_init(&ioapic->lock);
	INIT_DELAYED_WORK(&ioapic->eoi_inject, ioapic_eoi_inject_work);
	ioapic->base_address = IOAPIC_BASE;
	/* Reset: every entry masked (82093AA 3.2.4). */
	for (pin = 0; pin < MVM_IOAPIC_NUM_PINS; pin++)
		ioapic->redirtbl[pin] = IOREDTBL_MASK;
	ioapic_update_entry_vectors(ioapic);
	ioapic->dev.ops = &ioapic_mmio_ops;

	mutex_lock(&mvm->slots_lock);
	r = mvm_io_bus_register_dev(mvm, MVM_MMIO_BUS, IOAPIC_BASE,
				    IOAPIC_MMIO_LEN, &ioapic->dev);
	mutex_unlock(&mvm->slots_lock);
	if (r) {
		kfree(ioapic);
		return r;
	}
	mvm->arch.vioapic = ioapic;
	return 0;
}

void mvm_ioapic_destroy(struct mvm *mvm)
{
	struct mvm_ioapic *ioapic = mvm->arch.vioapic;

	if (!ioapic)
		return;
	cancel_delayed_work_sync(&ioapic->eoi_inject);
	mutex_lock(&mvm->slots_lock);
	mvm_io_bus_unregister_dev(mvm, MVM_MMIO_BUS, &ioapic->dev);
	mutex_unlock(&mvm->slots_lock);
	mvm->arch.vioapic = NULL;
	kfree(ioapic);
}
