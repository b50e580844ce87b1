// SPDX-License-Identifier: GPL-2.0
/*
 * GSI routing, KVM_CREATE_IRQCHIP and the split irqchip.
 *
 * A GSI (the number of KVM_IRQ_LINE, an irqfd, the PIT's line) reaches
 * the guest through the routes the table gives it: a pin of the PIC pair
 * and/or of the IOAPIC, or one MSI.  The table is immutable once
 * published: KVM_SET_GSI_ROUTING builds a new one, swaps it under
 * irq_lock and frees the old one after a grace period of the VM's own
 * SRCU domain, mvm->arch.irq_srcu, so raising a line (any context:
 * hrtimers, eventfd wakeups) only needs srcu_read_lock().  As KVM: plain
 * RCU would make every routing update wait for all of the host's CPUs,
 * and VMMs update the table often (each MSI-X vector a guest driver
 * programs); the expedited SRCU wait is for this VM's readers only.
 *
 * Lock order: mvm->lock (KVM_CREATE_IRQCHIP) -> mvm->slots_lock (bus
 * registration); irq_lock (table and ack-notifier updates) is a mutex
 * taken with neither.  The PIC and IOAPIC spinlocks are leaves apart
 * from the LAPIC delivery the IOAPIC calls with its lock held, and are
 * taken with interrupts off since lines are raised from hard IRQ
 * context.  Ack notifiers are called with no device lock held.
 */
#include <linux/nospec.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>
#include <asm/apicdef.h>
#include "x86.h"
#include "irq.h"
#include "irqchip.h"

/* One route of a GSI: the validated form of a kvm_irq_routing_entry. */
struct mvm_irq_route {
	u32 gsi;
	u32 type;			/* KVM_IRQ_ROUTING_IRQCHIP or _MSI */
	union {
		struct {
			u32 irqchip;	/* KVM_IRQCHIP_* */
			u32 pin;	/* PIC: 0-15 (slave 8-15), IOAPIC 0-23 */
		} irqchip;
		struct {
			u32 address_lo;
			u32 address_hi;
			u32 data;
		} msi;
	};
};

struct mvm_irq_routing_table {
	/* (irqchip, pin) -> GSI or -1, for the ack notifiers (KVM's chip[]). */
	s16 chip_gsi[MVM_NR_IRQCHIPS][MVM_IOAPIC_NUM_PINS];
	/*
	 * Split irqchip: vectors of the level-triggered MSI routes of the
	 * GSIs of userspace's IOAPIC, whose EOIs userspace must see.
	 */
	DECLARE_BITMAP(eoi_exit_vectors, 256);
	u32 nr;
	struct mvm_irq_route routes[];	/* sorted by GSI */
};

static struct mvm_irq_routing_table *mvm_routing_locked(struct mvm *mvm)
{
	return rcu_dereference_protected(mvm->arch.irq_routing,
					 lockdep_is_held(&mvm->arch.irq_lock));
}

/* ------------------------------------------------------------------ */
/* MSIs                                                                 */

/*
 * With KVM_X2APIC_API_USE_32BIT_IDS, bits 31:8 of the address's high
 * half hold bits 31:8 of the destination; bits 7:0 must then be zero
 * (KVM's kvm_msi_route_invalid()).
 */
static bool mvm_msi_x2apic_format(struct mvm *mvm)
{
	return READ_ONCE(mvm->arch.x2apic_api_flags) &
	       KVM_X2APIC_API_USE_32BIT_IDS;
}

static bool mvm_msi_invalid(struct mvm *mvm, u32 address_hi)
{
	return mvm_msi_x2apic_format(mvm) && (address_hi & 0xff);
}

/*
 * The interrupt message of an MSI (SDM vol. 3A 10.11.1, 10.11.2): the
 * destination in address bits 19:12 (and, in KVM's x2APIC format, bits
 * 31:8 of the high half), RH bit 3, DM bit 2; the vector, delivery mode
 * and trigger mode in the data.  Edge or level, an MSI is an assertion.
 */
static void mvm_msi_to_lapic_irq(struct mvm *mvm, u32 address_lo,
				 u32 address_hi, u32 data,
				 struct mvm_lapic_irq *irq)
{
	irq->dest_id = (address_lo >> 12) & 0xff;
	if (mvm_msi_x2apic_format(mvm))
		irq->dest_id |= address_hi & 0xffffff00;
	irq->vector = data & 0xff;
	irq->delivery_mode = data & APIC_MODE_MASK;	/* bits 10:8 */
	irq->dest_logical = address_lo & BIT(2);
	irq->msi_redir_hint = address_lo & BIT(3);
	irq->trig_level = data & BIT(15);
	irq->level = true;
	irq->shorthand = APIC_DEST_NOSHORT;
}

static int mvm_deliver_msi(struct mvm *mvm, u32 address_lo, u32 address_hi,
			   u32 data)
{
	struct mvm_lapic_irq irq;

	if (mvm_msi_invalid(mvm, address_hi))
		return -EINVAL;
	mvm_msi_to_lapic_irq(mvm, address_lo, address_hi, data, &irq);
	return mvm_irq_delivery_to_apic(mvm, NULL, &irq);
}

int mvm_set_msi(struct mvm *mvm, const struct kvm_msi *msi)
{
	return mvm_deliver_msi(mvm, msi->address_lo, msi->address_hi,
			       msi->data);
}

/* ------------------------------------------------------------------ */
/* Raising a GSI                                                        */

static int mvm_route_set(struct mvm *mvm, const struct mvm_irq_route *r,
			 int irq_source_id, int level, bool line_status)
{
	if (r->type == KVM_IRQ_ROUTING_MSI) {
		if (mvm_msi_invalid(mvm, r->msi.address_hi))
			return -EINVAL;
		/* An MSI has no line to lower. */
		if (!level)
			return -1;
		return mvm_deliver_msi(mvm, r->msi.address_lo,
				       r->msi.address_hi, r->msi.data);
	}
	if (r->irqchip.irqchip == KVM_IRQCHIP_IOAPIC)
		return mvm_ioapic_set_irq(mvm, r->irqchip.pin, irq_source_id,
					  level, line_status);
	return mvm_pic_set_irq(mvm, r->irqchip.pin, irq_source_id, level);
}

/* The first route of @gsi in the sorted table, or t->nr. */
static u32 mvm_first_route(const struct mvm_irq_routing_table *t, u32 gsi)
{
	u32 lo = 0, hi = t->nr;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (t->routes[mid].gsi < gsi)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Both the PIC and the IOAPIC see GSIs 0-15: which one the guest uses
 * cannot be known, so the line is driven on both (as on a PC, where the
 * ISA lines go to both).  The results add up as KVM's kvm_set_irq().
 */
int mvm_set_irq(struct mvm *mvm, int irq_source_id, u32 gsi, int level,
		bool line_status)
{
	struct mvm_irq_route routes[MVM_NR_IRQCHIPS];
	struct mvm_irq_routing_table *t;
	int n = 0, ret = -1, idx;
	u32 i;

	idx = srcu_read_lock(&mvm->arch.irq_srcu);
	t = srcu_dereference(mvm->arch.irq_routing, &mvm->arch.irq_srcu);
	if (t) {
		for (i = mvm_first_route(t, gsi);
		     i < t->nr && t->routes[i].gsi == gsi &&
		     n < MVM_NR_IRQCHIPS; i++)
			routes[n++] = t->routes[i];
	}
	srcu_read_unlock(&mvm->arch.irq_srcu, idx);

	while (n--) {
		int r = mvm_route_set(mvm, &routes[n], irq_source_id, level,
				      line_status);

		if (r < 0)
			continue;
		ret = r + (ret < 0 ? 0 : ret);
	}
	return ret;
}

int mvm_arch_set_irq(struct mvm *mvm, int irq_source_id, u32 gsi, int level)
{
	return mvm_set_irq(mvm, irq_source_id, gsi, level, false);
}

bool mvm_arch_irqchip_in_kernel(struct mvm *mvm)
{
	return mvm_irqchip_in_kernel(mvm);
}

/* ------------------------------------------------------------------ */
/* The routing table                                                    */

static int mvm_route_cmp(const void *a, const void *b)
{
	const struct mvm_irq_route *r1 = a, *r2 = b;

	if (r1->gsi != r2->gsi)
		return r1->gsi < r2->gsi ? -1 : 1;
	return 0;
}

/* One entry, as KVM's kvm_set_routing_entry() accepts it. */
static int mvm_route_from_user(struct mvm *mvm, struct mvm_irq_route *r,
			       const struct kvm_irq_routing_entry *ue)
{
	r->gsi = ue->gsi;
	r->type = ue->type;

	switch (ue->type) {
	case KVM_IRQ_ROUTING_IRQCHIP:
		if (ue->flags)
			return -EINVAL;
		/* The split irqchip's PIC and IOAPIC are in userspace. */
		if (mvm_irqchip_split(mvm))
			return -EINVAL;
		r->irqchip.irqchip = ue->u.irqchip.irqchip;
		r->irqchip.pin = ue->u.irqchip.pin;
		switch (ue->u.irqchip.irqchip) {
		case KVM_IRQCHIP_PIC_MASTER:
		case KVM_IRQCHIP_PIC_SLAVE:
			if (ue->u.irqchip.pin >= MVM_PIC_NUM_PINS / 2)
				return -EINVAL;
			if (ue->u.irqchip.irqchip == KVM_IRQCHIP_PIC_SLAVE)
				r->irqchip.pin += MVM_PIC_NUM_PINS / 2;
			return 0;
		case KVM_IRQCHIP_IOAPIC:
			if (ue->u.irqchip.pin >= MVM_IOAPIC_NUM_PINS)
				return -EINVAL;
			return 0;
		default:
			return -EINVAL;
		}
	case KVM_IRQ_ROUTING_MSI:
		/* A device id is accepted and unused, as on KVM x86. */
		if (ue->flags & ~KVM_MSI_VALID_DEVID)
			return -EINVAL;
		if (mvm_msi_invalid(mvm, ue->u.msi.address_hi))
			return -EINVAL;
		r->msi.address_lo = ue->u.msi.address_lo;
		r->msi.address_hi = ue->u.msi.address_hi;
		r->msi.data = ue->u.msi.data;
		return 0;
	default:
		/* No Hyper-V SynIC or Xen event channels. */
		return -EINVAL;
	}
}

/*
 * A GSI may have one route per irqchip, or else exactly one route (an
 * MSI): KVM's setup_routing_entry().  @t is sorted.
 */
static bool mvm_routes_conflict(const struct mvm_irq_routing_table *t)
{
	u32 i, j;

	for (i = 0; i < t->nr; i = j) {
		for (j = i + 1; j < t->nr && t->routes[j].gsi == t->routes[i].gsi;
		     j++) {
			const struct mvm_irq_route *a = &t->routes[j];
			u32 k;

			for (k = i; k < j; k++) {
				const struct mvm_irq_route *b = &t->routes[k];

				if (a->type != KVM_IRQ_ROUTING_IRQCHIP ||
				    b->type != KVM_IRQ_ROUTING_IRQCHIP ||
				    a->irqchip.irqchip == b->irqchip.irqchip)
					return true;
			}
		}
	}
	return false;
}

/* Build, validate and publish a table of @nr entries (kernel memory). */
static int mvm_set_irq_routing(struct mvm *mvm,
			       const struct kvm_irq_routing_entry *ue, u32 nr)
{
	struct mvm_irq_routing_table *new, *old;
	u8 nr_reserved = mvm->arch.nr_reserved_ioapic_pins;
	u32 i;
	int r;

	for (i = 0; i < nr; i++)
		if (ue[i].gsi >= MVM_MAX_IRQ_ROUTES)
			return -EINVAL;

	new = kvzalloc(struct_size(new, routes, nr), GFP_KERNEL_ACCOUNT);
	if (!new)
		return -ENOMEM;
	new->nr = nr;
	memset(new->chip_gsi, 0xff, sizeof(new->chip_gsi));

	for (i = 0; i < nr; i++) {
		struct mvm_irq_route *route = &new->routes[i];

		r = mvm_route_from_user(mvm, route, &ue[i]);
		if (r)
			goto out_free;
		/* In the caller's order: the last of duplicates wins, as KVM. */
		if (route->type == KVM_IRQ_ROUTING_IRQCHIP)
			new->chip_gsi[route->irqchip.irqchip][route->irqchip.pin] =
				route->gsi;
	}
	sort(new->routes, nr, sizeof(new->routes[0]), mvm_route_cmp, NULL);
	r = -EINVAL;
	if (mvm_routes_conflict(new))
		goto out_free;

	/*
	 * Split irqchip: the EOIs of level-triggered MSIs of userspace's
	 * IOAPIC pins (KVM's kvm_scan_ioapic_routes(), without the
	 * destination filter: a vector whose EOI reaches this point had its
	 * TMR bit set, so it arrived level-triggered).
	 */
	for (i = 0; i < nr; i++) {
		const struct mvm_irq_route *route = &new->routes[i];

		if (route->gsi < nr_reserved &&
		    route->type == KVM_IRQ_ROUTING_MSI &&
		    (route->msi.data & BIT(15)))
			__set_bit(route->msi.data & 0xff, new->eoi_exit_vectors);
	}

	mutex_lock(&mvm->arch.irq_lock);
	old = mvm_routing_locked(mvm);
	rcu_assign_pointer(mvm->arch.irq_routing, new);
	mutex_unlock(&mvm->arch.irq_lock);

	synchronize_srcu_expedited(&mvm->arch.irq_srcu);
	kvfree(old);
	return 0;

out_free:
	kvfree(new);
	return r;
}

/*
 * KVM's default routes (irq_comm.c): GSI n to IOAPIC pin n, and for the
 * 16 ISA lines also to PIC pin n.  No GSI 0 -> IOAPIC pin 2 override:
 * KVM leaves that to the firmware's MADT (its IOAPIC pin 0 is GSI 0).
 */
static int mvm_setup_default_irq_routing(struct mvm *mvm)
{
	struct kvm_irq_routing_entry *ue;
	int i, n = 0, r;

	ue = kcalloc(MVM_IOAPIC_NUM_PINS + MVM_PIC_NUM_PINS, sizeof(*ue),
		     GFP_KERNEL);
	if (!ue)
		return -ENOMEM;
	for (i = 0; i < MVM_IOAPIC_NUM_PINS; i++) {
		ue[n].gsi = i;
		ue[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		ue[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		ue[n].u.irqchip.pin = i;
		n++;
		if (i >= MVM_PIC_NUM_PINS)
			continue;
		ue[n].gsi = i;
		ue[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		ue[n].u.irqchip.irqchip = i < 8 ? KVM_IRQCHIP_PIC_MASTER :
						  KVM_IRQCHIP_PIC_SLAVE;
		ue[n].u.irqchip.pin = i % 8;
		n++;
	}
	r = mvm_set_irq_routing(mvm, ue, n);
	kfree(ue);
	return r;
}

/* ------------------------------------------------------------------ */
/* Ack notifiers                                                        */

void mvm_register_irq_ack_notifier(struct mvm *mvm,
				   struct mvm_irq_ack_notifier *kian)
{
	mutex_lock(&mvm->arch.irq_lock);
	hlist_add_head_rcu(&kian->link, &mvm->arch.irq_ack_notifier_list);
	mutex_unlock(&mvm->arch.irq_lock);
}

void mvm_unregister_irq_ack_notifier(struct mvm *mvm,
				     struct mvm_irq_ack_notifier *kian)
{
	mutex_lock(&mvm->arch.irq_lock);
	hlist_del_init_rcu(&kian->link);
	mutex_unlock(&mvm->arch.irq_lock);
	synchronize_srcu(&mvm->arch.irq_srcu);
}

/*
 * Any context, no device lock held: the notifiers (irqfd resample, PIT
 * reinjection) may raise lines again.  They run under irq_srcu and must
 * not sleep (they are called from hard IRQ context too).
 */
void mvm_notify_acked_irq(struct mvm *mvm, unsigned int irqchip,
			  unsigned int pin)
{
	struct mvm_irq_ack_notifier *kian;
	struct mvm_irq_routing_table *t;
	int gsi = -1, idx;

	if (irqchip >= MVM_NR_IRQCHIPS || pin >= MVM_IOAPIC_NUM_PINS)
		return;

	idx = srcu_read_lock(&mvm->arch.irq_srcu);
	t = srcu_dereference(mvm->arch.irq_routing, &mvm->arch.irq_srcu);
	if (t)
		gsi = t->chip_gsi[irqchip][pin];
	if (gsi >= 0)
		hlist_for_each_entry_srcu(kian, &mvm->arch.irq_ack_notifier_list,
					  link,
					  srcu_read_lock_held(&mvm->arch.irq_srcu))
			if (kian->gsi == gsi)
				kian->irq_acked(kian);
	srcu_read_unlock(&mvm->arch.irq_srcu, idx);
}

/*
 * The vCPU's own thread, at the EOI of a vector whose TMR bit was set.
 * A directed EOI (SVR bit 12) is the LAPIC's business: it does not call.
 */
void mvm_apic_eoi_broadcast(struct mvm_vcpu *vcpu, int vector)
{
	struct mvm *mvm = vcpu->mvm;
	struct mvm_irq_routing_table *t;
	bool exit;
	int idx;

	if (mvm_irqchip_full(mvm)) {
		mvm_ioapic_eoi(vcpu, vector);
		return;
	}
	if (!mvm_irqchip_split(mvm) || vector < 0 || vector > 255)
		return;

	idx = srcu_read_lock(&mvm->arch.irq_srcu);
	t = srcu_dereference(mvm->arch.irq_routing, &mvm->arch.irq_srcu);
	exit = t && test_bit(vector, t->eoi_exit_vectors);
	srcu_read_unlock(&mvm->arch.irq_srcu, idx);
	if (exit) {
		vcpu->arch.pending_ioapic_eoi = vector;
		set_bit(MVM_REQ_IOAPIC_EOI_EXIT, &vcpu->requests);
	}
}

/* ------------------------------------------------------------------ */
/* VM ioctls                                                            */

/*
 * mvm->lock held: an irqchip (full or split) may still be chosen.  KVM's
 * order: -EEXIST once one exists, -EINVAL once a vCPU does.
 */
static int mvm_irqchip_may_create(struct mvm *mvm)
{
	lockdep_assert_held(&mvm->lock);
	if (mvm_irqchip_in_kernel(mvm))
		return -EEXIST;
	if (mvm->created_vcpus)
		return -EINVAL;
	return 0;
}

static int mvm_create_irqchip(struct mvm *mvm)
{
	int r;

	mutex_lock(&mvm->lock);
	r = mvm_irqchip_may_create(mvm);
	if (r)
		goto out;

	r = mvm_pic_create(mvm);
	if (r)
		goto out;
	r = mvm_ioapic_create(mvm);
	if (r)
		goto out_pic;
	r = mvm_setup_default_irq_routing(mvm);
	if (r)
		goto out_ioapic;
	/* The devices and routes first, then the mode that exposes them. */
	smp_store_release(&mvm->arch.irqchip_mode, MVM_IRQCHIP_KERNEL);
	mutex_unlock(&mvm->lock);
	return 0;

out_ioapic:
	mvm_ioapic_destroy(mvm);
out_pic:
	mvm_pic_destroy(mvm);
out:
	mutex_unlock(&mvm->lock);
	return r;
}

static long mvm_ioctl_irq_line(struct mvm *mvm, void __user *argp,
			       bool line_status)
{
	struct kvm_irq_level event;

	if (copy_from_user(&event, argp, sizeof(event)))
		return -EFAULT;
	if (!mvm_irqchip_in_kernel(mvm))
		return -ENXIO;
	event.status = mvm_set_irq(mvm, MVM_USERSPACE_IRQ_SOURCE_ID,
				   event.irq, event.level, line_status);
	if (line_status && copy_to_user(argp, &event, sizeof(event)))
		return -EFAULT;
	return 0;
}

static long mvm_ioctl_set_gsi_routing(struct mvm *mvm, void __user *argp)
{
	struct kvm_irq_routing __user *urouting = argp;
	struct kvm_irq_routing_entry *entries = NULL;
	struct kvm_irq_routing routing;
	long r;

	if (copy_from_user(&routing, urouting, sizeof(routing)))
		return -EFAULT;
	/*
	 * GSI routes feed an in-kernel irqchip; without one KVM refuses
	 * every table (kvm_arch_can_set_irq_routing()) after reading the
	 * header, and so do we.
	 */
	if (!mvm_irqchip_in_kernel(mvm))
		return -EINVAL;
	if (routing.nr > MVM_MAX_IRQ_ROUTES || routing.flags)
		return -EINVAL;
	if (routing.nr) {
		entries = vmemdup_user(urouting->entries,
				       array_size(sizeof(*entries),
						  routing.nr));
		if (IS_ERR(entries))
			return PTR_ERR(entries);
	}
	r = mvm_set_irq_routing(mvm, entries, routing.nr);
	kvfree(entries);
	return r;
}

static long mvm_ioctl_signal_msi(struct mvm *mvm, void __user *argp)
{
	struct kvm_msi msi;

	if (copy_from_user(&msi, argp, sizeof(msi)))
		return -EFAULT;
	if (!mvm_irqchip_in_kernel(mvm) || (msi.flags & ~KVM_MSI_VALID_DEVID))
		return -EINVAL;
	/*
	 * KVM returns kvm_set_msi()'s result as is: the number of APICs
	 * that took it, and -1 (-EPERM to userspace) when none did.
	 */
	return mvm_set_msi(mvm, &msi);
}

static long mvm_ioctl_irqchip_state(struct mvm *mvm, void __user *argp,
				    bool set)
{
	struct kvm_irqchip *chip;
	long r;

	chip = memdup_user(argp, sizeof(*chip));
	if (IS_ERR(chip))
		return PTR_ERR(chip);
	r = -ENXIO;
	if (!mvm_irqchip_full(mvm))
		goto out;

	r = 0;
	switch (chip->chip_id) {
	case KVM_IRQCHIP_PIC_MASTER:
	case KVM_IRQCHIP_PIC_SLAVE:
		if (set)
			mvm_pic_set_state(mvm, chip->chip_id, &chip->chip.pic);
		else
			mvm_pic_get_state(mvm, chip->chip_id, &chip->chip.pic);
		break;
	case KVM_IRQCHIP_IOAPIC:
		if (set)
			mvm_ioapic_set_state(mvm, &chip->chip.ioapic);
		else
			mvm_ioapic_get_state(mvm, &chip->chip.ioapic);
		break;
	default:
		r = -EINVAL;
		break;
	}
	if (set)
		mvm_pic_update(mvm);	/* as KVM, whatever the chip id */
	else if (!r && copy_to_user(argp, chip, sizeof(*chip)))
		r = -EFAULT;
out:
	kfree(chip);
	return r;
}

long mvm_irq_vm_ioctl(struct mvm *mvm, unsigned int ioctl, unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	switch (ioctl) {
	case KVM_CREATE_IRQCHIP:
		return mvm_create_irqchip(mvm);
	case KVM_IRQ_LINE:
	case KVM_IRQ_LINE_STATUS:
		return mvm_ioctl_irq_line(mvm, argp,
					  ioctl == KVM_IRQ_LINE_STATUS);
	case KVM_SET_GSI_ROUTING:
		return mvm_ioctl_set_gsi_routing(mvm, argp);
	case KVM_SIGNAL_MSI:
		return mvm_ioctl_signal_msi(mvm, argp);
	case KVM_GET_IRQCHIP:
		return mvm_ioctl_irqchip_state(mvm, argp, false);
	case KVM_SET_IRQCHIP:
		return mvm_ioctl_irqchip_state(mvm, argp, true);
	default:
		return -ENOTTY;
	}
}

/* As KVM's MAX_NR_RESERVED_IOAPIC_PINS. */
#define MVM_MAX_RESERVED_IOAPIC_PINS	48

/*
 * KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP): LAPICs in the kernel, the PIC and
 * IOAPIC in userspace, whose @nr_ioapic_pins first GSIs' level-triggered
 * EOIs are reported as KVM_EXIT_IOAPIC_EOI.  Before any vCPU, once.  The
 * routing table starts empty (KVM's kvm_setup_empty_irq_routing()): only
 * MSI routes can be added.
 */
int mvm_enable_split_irqchip(struct mvm *mvm, u64 nr_ioapic_pins)
{
	int r;

	if (nr_ioapic_pins > MVM_MAX_RESERVED_IOAPIC_PINS)
		return -EINVAL;
	mutex_lock(&mvm->lock);
	r = mvm_irqchip_may_create(mvm);
	if (r)
		goto out;
	mvm->arch.nr_reserved_ioapic_pins = nr_ioapic_pins;
	/* The pin count before the mode: mvm_irqchip_mode()'s acquire. */
	smp_store_release(&mvm->arch.irqchip_mode, MVM_IRQCHIP_SPLIT);
	r = 0;
out:
	mutex_unlock(&mvm->lock);
	return r;
}

/* VM destruction: no vCPU is left, the PIT is gone. */
void mvm_irqchip_destroy(struct mvm *mvm)
{
	mvm_ioapic_destroy(mvm);
	mvm_pic_destroy(mvm);
	kvfree(rcu_dereference_protected(mvm->arch.irq_routing, 1));
	RCU_INIT_POINTER(mvm->arch.irq_routing, NULL);
}
