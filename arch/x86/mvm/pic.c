// SPDX-License-Identifier: GPL-2.0
/*
 * The two cascaded 8259A PICs of a PC (Intel 8259A datasheet): the master
 * at ports 0x20/0x21 with the slave's INT on its IR2, the slave at
 * 0xa0/0xa1, and the PIIX edge/level control registers (ELCR) at
 * 0x4d0/0x4d1, which decide, per pin, edge or level sensing (the ICW1
 * LTIM bit is ignored, as on the PIIX).
 *
 * The master's INT is the vCPUs' LINT0: a vCPU whose LVT0 takes ExtINT
 * asks mvm_pic_has_output() and runs the INTA cycle with
 * mvm_pic_read_irq() (events.c).
 *
 * Unlike KVM, special mask mode (OCW3) takes effect (a masked in-service
 * level does not hold back lower ones) and the poll command acknowledges
 * as an INTA would and returns bit 7 set with the level, per the
 * datasheet.
 *
 * The lock is taken with interrupts off: lines are raised from hrtimers.
 * What must not run under it (ack notifiers, the kick) is recorded and
 * done by pic_unlock().
 */
#include <linux/slab.h>
#include "x86.h"
#include "irq.h"
#include "irqchip.h"

#define PIC_MASTER_PORT		0x20
#define PIC_SLAVE_PORT		0xa0
#define PIC_ELCR_PORT		0x4d0
#define PIC_CASCADE_IR		2

struct mvm_pic {
	struct mvm *mvm;
	spinlock_t lock;
	/* 0 master, 1 slave: the state of KVM_GET_IRQCHIP. */
	struct kvm_pic_state pics[2];
	/* ICW1 SNGL: no ICW3 follows ICW2 (not in the ABI's state). */
	bool single[2];
	bool output;		/* the master's INT; A for has_output */
	bool wakeup_needed;	/* INT rose under the lock */
	u16 pending_acks;	/* pins whose EOI the notifiers must hear */
	unsigned long irq_states[MVM_PIC_NUM_PINS];
	struct mvm_io_device dev_master;
	struct mvm_io_device dev_slave;
	struct mvm_io_device dev_elcr;
};

static void pic_lock(struct mvm_pic *s, unsigned long *flags)
	__acquires(&s->lock)
{
	spin_lock_irqsave(&s->lock, *flags);
}

/*
 * Drop the lock, then tell the ack notifiers about EOIs (they may raise
 * lines on this PIC again) and wake the vCPU that takes INT.
 */
static void pic_unlock(struct mvm_pic *s, unsigned long flags)
	__releases(&s->lock)
{
	unsigned long acks = s->pending_acks;
	bool wakeup = s->wakeup_needed;
	struct mvm *mvm = s->mvm;
	int pin, i;

	s->pending_acks = 0;
	s->wakeup_needed = false;
	spin_unlock_irqrestore(&s->lock, flags);

	for_each_set_bit(pin, &acks, MVM_PIC_NUM_PINS)
		mvm_notify_acked_irq(mvm, pin < 8 ? KVM_IRQCHIP_PIC_MASTER :
						    KVM_IRQCHIP_PIC_SLAVE, pin);

	if (!wakeup)
		return;
	for (i = 0; i < atomic_read(&mvm->online_vcpus); i++) {
		struct mvm_vcpu *vcpu;

		/* Pairs with the smp_wmb() publishing vcpus[] before the count. */
		smp_rmb();
		vcpu = mvm->vcpus[i];
		if (mvm_lapic_in_kernel(vcpu) && mvm_apic_accept_pic_intr(vcpu)) {
			set_bit(MVM_REQ_EVENT, &vcpu->requests);
			mvm_vcpu_kick(vcpu);
			return;
		}
	}
}

static bool pic_is_slave(struct mvm_pic *s, struct kvm_pic_state *p)
{
	return p == &s->pics[1];
}

/*
 * Drive pin @irq of @p to @level.  An edge sets IRR on a rising edge
 * only; a level-sensed pin's IRR follows the line.  Returns as
 * KVM_IRQ_LINE_STATUS: -1 masked, 0 already requested, 1 new.
 */
static int pic_set_irq1(struct kvm_pic_state *p, int irq, int level)
{
	u8 mask = BIT(irq);
	int ret = 1;

	if (p->elcr & mask) {
		if (level) {
			ret = !(p->irr & mask);
			p->irr |= mask;
			p->last_irr |= mask;
		} else {
			p->irr &= ~mask;
			p->last_irr &= ~mask;
		}
	} else if (level) {
		if (!(p->last_irr & mask)) {
			ret = !(p->irr & mask);
			p->irr |= mask;
		}
		p->last_irr |= mask;
	} else {
		p->last_irr &= ~mask;
	}
	return (p->imr & mask) ? -1 : ret;
}

/*
 * The priority (0 highest) of the best request in @mask; IR(priority_add)
 * has priority 0 (rotation).  8 if none.
 */
static int pic_get_priority(struct kvm_pic_state *p, u8 mask)
{
	int priority;

	if (!mask)
		return 8;
	for (priority = 0; !(mask & BIT((priority + p->priority_add) & 7));
	     priority++)
		;
	return priority;
}

/* The pin @p would interrupt with now, or -1. */
static int pic_get_irq(struct mvm_pic *s, struct kvm_pic_state *p)
{
	int priority, cur_priority;
	u8 in_service;

	priority = pic_get_priority(p, p->irr & ~p->imr);
	if (priority == 8)
		return -1;

	in_service = p->isr;
	/* Special mask mode: masked levels in service do not block. */
	if (p->special_mask)
		in_service &= ~p->imr;
	/*
	 * Special fully nested mode: the master lets the slave interrupt
	 * while another slave interrupt is in service.
	 */
	if (p->special_fully_nested_mode && !pic_is_slave(s, p))
		in_service &= ~BIT(PIC_CASCADE_IR);
	cur_priority = pic_get_priority(p, in_service);
	if (priority >= cur_priority)
		return -1;
	return (priority + p->priority_add) & 7;
}

/* Recompute the cascade and INT after any change.  Lock held. */
static void pic_update_irq(struct mvm_pic *s)
{
	bool output;

	if (pic_get_irq(s, &s->pics[1]) >= 0) {
		/* The slave's INT pulses the master's IR2. */
		pic_set_irq1(&s->pics[0], PIC_CASCADE_IR, 1);
		pic_set_irq1(&s->pics[0], PIC_CASCADE_IR, 0);
	}
	output = pic_get_irq(s, &s->pics[0]) >= 0;
	if (output && !s->output)
		s->wakeup_needed = true;
	WRITE_ONCE(s->output, output);
}

static void pic_clear_isr(struct mvm_pic *s, struct kvm_pic_state *p,
			  int irq)
{
	p->isr &= ~BIT(irq);
	s->pending_acks |= BIT(irq + (pic_is_slave(s, p) ? 8 : 0));
}

/* The INTA of pin @irq: into service, with automatic EOI if set. */
static void pic_intack(struct mvm_pic *s, struct kvm_pic_state *p, int irq)
{
	p->isr |= BIT(irq);
	/* A level request stays until the line drops. */
	if (!(p->elcr & BIT(irq)))
		p->irr &= ~BIT(irq);
	if (p->auto_eoi) {
		if (p->rotate_on_auto_eoi)
			p->priority_add = (irq + 1) & 7;
		pic_clear_isr(s, p, irq);
	}
}

int mvm_pic_set_irq(struct mvm *mvm, int pin, int irq_source_id, int level)
{
	struct mvm_pic *s = mvm->arch.vpic;
	unsigned long flags;
	int ret, line;

	if (!s || pin < 0 || pin >= MVM_PIC_NUM_PINS)
		return -1;
	pic_lock(s, &flags);
	line = mvm_irq_line_state(&s->irq_states[pin], irq_source_id, level);
	ret = pic_set_irq1(&s->pics[pin >> 3], pin & 7, line);
	pic_update_irq(s);
	pic_unlock(s, flags);
	return ret;
}

bool mvm_pic_has_output(struct mvm *mvm)
{
	struct mvm_pic *s = mvm->arch.vpic;

	return s && READ_ONCE(s->output);
}

/*
 * The INTA cycle: the vector of the best request, acknowledged on the
 * master and, through IR2, the slave.  With nothing left to acknowledge
 * (the request went away), the PIC answers with IR7's vector without
 * setting ISR: the spurious interrupt (8259A datasheet, "Interrupt
 * Sequence").
 */
int mvm_pic_read_irq(struct mvm *mvm)
{
	struct mvm_pic *s = mvm->arch.vpic;
	struct kvm_pic_state *master, *slave;
	unsigned long flags;
	int irq, irq2, vector;

	if (!s)
		return -1;
	master = &s->pics[0];
	slave = &s->pics[1];

	pic_lock(s, &flags);
	irq = pic_get_irq(s, master);
	if (irq < 0) {
		vector = master->irq_base + 7;
	} else {
		pic_intack(s, master, irq);
		if (irq == PIC_CASCADE_IR) {
			irq2 = pic_get_irq(s, slave);
			if (irq2 >= 0)
				pic_intack(s, slave, irq2);
			else
				irq2 = 7;	/* spurious on the slave */
			vector = slave->irq_base + irq2;
		} else {
			vector = master->irq_base + irq;
		}
	}
	pic_update_irq(s);
	pic_unlock(s, flags);
	return vector;
}

/*
 * ICW1 (8259A datasheet, "Initialization Command Words"): the edge
 * detector is reset, IMR cleared, IR7 lowest priority, special mask off,
 * reads return IRR; without IC4 the ICW4 functions are cleared.  Edge
 * requests are dropped (their notifiers hear an ack: a PIT waiting for
 * one would wait forever); level requests stay.
 */
static void pic_icw1(struct mvm_pic *s, struct kvm_pic_state *p, u8 val)
{
	u8 edge_irr = p->irr & ~p->elcr;
	int irq;

	p->init4 = val & 1;
	s->single[pic_is_slave(s, p)] = val & 2;
	p->last_irr = 0;
	p->irr &= p->elcr;
	p->imr = 0;
	p->priority_add = 0;
	p->special_mask = 0;
	p->read_reg_select = 0;
	p->poll = 0;
	if (!p->init4) {
		p->special_fully_nested_mode = 0;
		p->auto_eoi = 0;
	}
	p->init_state = 1;
	for (irq = 0; irq < 8; irq++)
		if (edge_irr & BIT(irq))
			s->pending_acks |= BIT(irq + (pic_is_slave(s, p) ? 8 : 0));
}

/* OCW2: EOIs, rotation, priority. */
static void pic_ocw2(struct mvm_pic *s, struct kvm_pic_state *p, u8 val)
{
	int priority, irq;

	switch (val >> 5) {
	case 0:		/* rotate in automatic EOI mode: clear */
	case 4:		/* ... set */
		p->rotate_on_auto_eoi = val >> 7;
		return;
	case 1:		/* non-specific EOI */
	case 5:		/* rotate on non-specific EOI */
		priority = pic_get_priority(p, p->isr);
		if (priority == 8)
			return;
		irq = (priority + p->priority_add) & 7;
		if (val >> 5 == 5)
			p->priority_add = (irq + 1) & 7;
		pic_clear_isr(s, p, irq);
		break;
	case 3:		/* specific EOI */
		pic_clear_isr(s, p, val & 7);
		break;
	case 6:		/* set priority: IR(val & 7) lowest */
		p->priority_add = ((val & 7) + 1) & 7;
		break;
	case 7:		/* rotate on specific EOI */
		irq = val & 7;
		p->priority_add = (irq + 1) & 7;
		pic_clear_isr(s, p, irq);
		break;
	default:	/* 2: no operation */
		return;
	}
	pic_update_irq(s);
}

/* OCW3: poll, register read select, special mask. */
static void pic_ocw3(struct kvm_pic_state *p, u8 val)
{
	if (val & 0x04)
		p->poll = 1;
	if (val & 0x02)
		p->read_reg_select = val & 1;
	if (val & 0x40)
		p->special_mask = (val >> 5) & 1;
}

static void pic_write(struct mvm_pic *s, struct kvm_pic_state *p, int a0,
		      u8 val)
{
	bool slave = pic_is_slave(s, p);

	if (!a0) {
		if (val & 0x10)
			pic_icw1(s, p, val);
		else if (val & 0x08)
			pic_ocw3(p, val);
		else
			pic_ocw2(s, p, val);
		return;
	}

	switch (p->init_state) {
	case 0:		/* OCW1 */
		p->imr = val;
		pic_update_irq(s);
		break;
	case 1:		/* ICW2: vector base, bits 7:3 */
		p->irq_base = val & 0xf8;
		if (!s->single[slave])
			p->init_state = 2;
		else
			p->init_state = p->init4 ? 3 : 0;
		break;
	case 2:		/* ICW3: the cascade is wired, nothing to keep */
		p->init_state = p->init4 ? 3 : 0;
		break;
	case 3:		/* ICW4 */
		p->special_fully_nested_mode = (val >> 4) & 1;
		p->auto_eoi = (val >> 1) & 1;
		p->init_state = 0;
		break;
	}
}

/*
 * The poll command: this read is an INTA; bit 7 says whether there was a
 * request, bits 2:0 its level.
 */
static u8 pic_poll_read(struct mvm_pic *s, struct kvm_pic_state *p)
{
	int irq = pic_get_irq(s, p);

	if (irq < 0)
		return 0;
	if (pic_is_slave(s, p)) {
		/* The slave's request reached the master as IR2: gone. */
		s->pics[0].irr &= ~BIT(PIC_CASCADE_IR);
	}
	pic_intack(s, p, irq);
	pic_update_irq(s);
	return 0x80 | irq;
}

static u8 pic_read(struct mvm_pic *s, struct kvm_pic_state *p, int a0)
{
	if (p->poll) {
		p->poll = 0;
		return pic_poll_read(s, p);
	}
	if (a0)
		return p->imr;
	return p->read_reg_select ? p->isr : p->irr;
}

/* Byte accesses only, as KVM: others are dropped (reads see 0). */
static int pic_access(struct mvm_pic *s, gpa_t port, int len, u8 *val,
		      bool write)
{
	struct kvm_pic_state *p;
	unsigned long flags;

	if (len != 1) {
		if (!write)
			memset(val, 0, len);
		return 0;
	}

	pic_lock(s, &flags);
	switch (port) {
	case PIC_MASTER_PORT:
	case PIC_MASTER_PORT + 1:
	case PIC_SLAVE_PORT:
	case PIC_SLAVE_PORT + 1:
		p = &s->pics[port >= PIC_SLAVE_PORT];
		if (write)
			pic_write(s, p, port & 1, *val);
		else
			*val = pic_read(s, p, port & 1);
		break;
	case PIC_ELCR_PORT:
	case PIC_ELCR_PORT + 1:
		p = &s->pics[port & 1];
		if (write)
			p->elcr = *val & p->elcr_mask;
		else
			*val = p->elcr;
		break;
	}
	pic_unlock(s, flags);
	return 0;
}

#define DEFINE_PIC_DEV_OPS(name)					\
static int pic_##name##_read(struct mvm_vcpu *vcpu,			\
			     struct mvm_io_device *dev, gpa_t addr,	\
			     int len, void *val)			\
{									\
	return pic_access(container_of(dev, struct mvm_pic, dev_##name),\
			  addr, len, val, false);			\
}									\
static int pic_##name##_write(struct mvm_vcpu *vcpu,			\
			      struct mvm_io_device *dev, gpa_t addr,	\
			      int len, const void *val)			\
{									\
	return pic_access(container_of(dev, struct mvm_pic, dev_##name),\
			  addr, len, (u8 *)val, true);			\
}									\
static const struct mvm_io_device_ops pic_##name##_ops = {		\
	.read = pic_##name##_read,					\
	.write = pic_##name##_write,					\
}

DEFINE_PIC_DEV_OPS(master);
DEFINE_PIC_DEV_OPS(slave);
DEFINE_PIC_DEV_OPS(elcr);

/* ------------------------------------------------------------------ */
/* KVM_GET_IRQCHIP / KVM_SET_IRQCHIP                                    */

void mvm_pic_get_state(struct mvm *mvm, int chip, struct kvm_pic_state *state)
{
	struct mvm_pic *s = mvm->arch.vpic;
	unsigned long flags;

	spin_lock_irqsave(&s->lock, flags);
	*state = s->pics[chip];
	spin_unlock_irqrestore(&s->lock, flags);
}

void mvm_pic_set_state(struct mvm *mvm, int chip,
		       const struct kvm_pic_state *state)
{
	struct mvm_pic *s = mvm->arch.vpic;
	unsigned long flags;

	spin_lock_irqsave(&s->lock, flags);
	s->pics[chip] = *state;
	spin_unlock_irqrestore(&s->lock, flags);
}

void mvm_pic_update(struct mvm *mvm)
{
	struct mvm_pic *s = mvm->arch.vpic;
	unsigned long flags;

	if (!s)
		return;
	pic_lock(s, &flags);
	pic_update_irq(s);
	pic_unlock(s, flags);
}

/* ------------------------------------------------------------------ */

int mvm_pic_create(struct mvm *mvm)
{
	struct mvm_pic *s;
	int r;

	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s)
		return -ENOMEM;
	s->mvm = mvm;
	spin_lock_init(&s->lock);
	/* PIIX: IRQ 0, 1, 2 and 8, 13 are edge-only. */
	s->pics[0].elcr_mask = 0xf8;
	s->pics[1].elcr_mask = 0xde;
	s->dev_master.ops = &pic_master_ops;
	s->dev_slave.ops = &pic_slave_ops;
	s->dev_elcr.ops = &pic_elcr_ops;

	mutex_lock(&mvm->slots_lock);
	r = mvm_io_bus_register_dev(mvm, MVM_PIO_BUS, PIC_MASTER_PORT, 2,
				    &s->dev_master);
	if (r)
		goto out_unlock;
	r = mvm_io_bus_register_dev(mvm, MVM_PIO_BUS, PIC_SLAVE_PORT, 2,
				    &s->dev_slave);
	if (r)
		goto out_master;
	r = mvm_io_bus_register_dev(mvm, MVM_PIO_BUS, PIC_ELCR_PORT, 2,
				    &s->dev_elcr);
	if (r)
		goto out_slave;
	mutex_unlock(&mvm->slots_lock);
	mvm->arch.vpic = s;
	return 0;

out_slave:
	mvm_io_bus_unregister_dev(mvm, MVM_PIO_BUS, &s->dev_slave);
out_master:
	mvm_io_bus_unregister_dev(mvm, MVM_PIO_BUS, &s->dev_master);
out_unlock:
	mutex_unlock(&mvm->slots_lock);
	kfree(s);
	return r;
}

void mvm_pic_destroy(struct mvm *mvm)
{
	struct mvm_pic *s = mvm->arch.vpic;

	if (!s)
		return;
	mutex_lock(&mvm->slots_lock);
	mvm_io_bus_unregister_dev(mvm, MVM_PIO_BUS, &s->dev_master);
	mvm_io_bus_unregister_dev(mvm, MVM_PIO_BUS, &s->dev_slave);
	mvm_io_bus_unregister_dev(mvm, MVM_PIO_BUS, &s->dev_elcr);
	mutex_unlock(&mvm->slots_lock);
	mvm->arch.vpic = NULL;
	kfree(s);
}
