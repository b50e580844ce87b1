// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_IOEVENTFD and KVM_IRQFD: eventfds standing for guest I/O writes and
 * for interrupt lines (Documentation/virt/kvm/api.rst, "KVM_IOEVENTFD"
 * and "KVM_IRQFD"), with KVM's validation and errnos.
 *
 * An ioeventfd is a device on the in-kernel I/O bus (io_bus.c) at one
 * port or MMIO address: a guest write that matches it signals the eventfd
 * and completes in the kernel; any other access goes on to the next device
 * on the bus, and finally to userspace.  Reads are never taken.
 *
 * An irqfd is a wait queue entry on the eventfd.  A signal (EPOLLIN)
 * raises the irqfd's GSI straight from the wakeup callback: irq.h promises
 * that mvm_set_irq() may be called in any context (the controllers take
 * spinlocks, routes are read under RCU), so nothing needs a work item.
 * KVM defers every route but MSIs to a worker; injecting here has no
 * worker latency and nothing to flush when the irqfd goes.  The GSI is
 * routed anew on every signal, so KVM_SET_GSI_ROUTING needs no hook here.
 * Closing the eventfd (EPOLLHUP), KVM_IRQFD deassign and VM destruction
 * deactivate an irqfd (off mvm->irqfds.items) and leave the rest to a
 * shutdown work item, which takes the entry off the wait queue (no wakeup
 * runs after that) and frees it; irqfds hold no VM reference, so every
 * path that must see them gone flushes the workqueue.
 *
 * A resampling irqfd (KVM_IRQFD_FLAG_RESAMPLE) is level-triggered: its
 * signal asserts the GSI from MVM_IRQFD_RESAMPLE_IRQ_SOURCE_ID, and the
 * guest's EOI (an ack notifier on the GSI) de-asserts it and signals the
 * resamplefd, so that userspace re-triggers it if its device still wants
 * the line.  The irqfds of one GSI share one resampler, as they share the
 * source ID.
 *
 * The injection runs under the eventfd's wait queue lock: nothing on the
 * path of mvm_set_irq() may signal an eventfd, and ack notifiers are
 * called without the controllers' locks held (the resampler's ack raises
 * and lowers the line itself).
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/mvm_host.h>
#include "irq.h"

/* ------------------------------------------------------------------ */
/* ioeventfd                                                            */

/*
 * KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY: x86 KVM accepts it and registers
 * the ioeventfd on a bus that no x86 access ever reaches; so do we, with
 * a bus number of its own that only the collision check and deassign see.
 */
#define MVM_IOEVENTFD_CCW_BUS	MVM_NR_BUSES

/* The widest access an exit puts on a bus: an 8-byte MOV. */
#define MVM_IOEVENTFD_MAX_ACCESS	8

struct mvm_ioeventfd {
	struct list_head link;		/* mvm->ioeventfds, S */
	struct mvm_io_device dev;
	struct eventfd_ctx *eventfd;
	u64 addr;
	u64 datamatch;
	int len;			/* 1, 2, 4, 8; 0: any width */
	int bus;			/* enum mvm_bus, MVM_IOEVENTFD_CCW_BUS */
	bool wildcard;			/* no DATAMATCH: any value */
};

static int mvm_ioeventfd_write(struct mvm_vcpu *vcpu,
			       struct mvm_io_device *dev, gpa_t addr, int len,
			       const void *val)
{
	struct mvm_ioeventfd *p = container_of(dev, struct mvm_ioeventfd, dev);
	u64 data = 0;

	/* The address is exact; a length, when given, too. */
	if (addr != p->addr)
		return -EOPNOTSUPP;
	if (p->len) {
		if (len != p->len)
			return -EOPNOTSUPP;
		if (!p->wildcard) {
			/* Little-endian, as the guest wrote it. */
			memcpy(&data, val, len);
			if (data != p->datamatch)
				return -EOPNOTSUPP;
		}
	}
	mvm_eventfd_signal(p->eventfd);
	return 0;
}

static const struct mvm_io_device_ops mvm_ioeventfd_ops = {
	.write = mvm_ioeventfd_write,
};

/*
 * The bus range: the access itself for a length, else every width that
 * starts at the address (the write op checks the address is exact), cut
 * short where the address space wraps.
 */
static int mvm_ioeventfd_span(const struct mvm_ioeventfd *p)
{
	u64 room = -p->addr;

	if (p->len)
		return p->len;
	if (room && room < MVM_IOEVENTFD_MAX_ACCESS)
		return room;
	return MVM_IOEVENTFD_MAX_ACCESS;
}

static int mvm_ioeventfd_bus(u32 flags)
{
	if (flags & KVM_IOEVENTFD_FLAG_PIO)
		return MVM_PIO_BUS;
	if (flags & KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY)
		return MVM_IOEVENTFD_CCW_BUS;
	return MVM_MMIO_BUS;
}

/*
 * As KVM: two ioeventfds on one bus and address collide unless both have
 * the same length with different datamatch values (a length 0 one
 * collides with every other).
 */
static bool mvm_ioeventfd_collides(struct mvm *mvm,
				   const struct mvm_ioeventfd *p)
{
	struct mvm_ioeventfd *q;

	lockdep_assert_held(&mvm->slots_lock);
	list_for_each_entry(q, &mvm->ioeventfds, link) {
		if (q->bus != p->bus || q->addr != p->addr)
			continue;
		if (!q->len || !p->len)
			return true;
		if (q->len == p->len &&
		    (q->wildcard || p->wildcard || q->datamatch == p->datamatch))
			return true;
	}
	return false;
}

/* Off the bus (no write runs on return), off the list, freed. */
static void mvm_ioeventfd_free(struct mvm *mvm, struct mvm_ioeventfd *p)
{
	lockdep_assert_held(&mvm->slots_lock);
	if (p->bus != MVM_IOEVENTFD_CCW_BUS)
		mvm_io_bus_unregister_dev(mvm, p->bus, &p->dev);
	list_del(&p->link);
	eventfd_ctx_put(p->eventfd);
	kfree(p);
}

static int mvm_ioeventfd_assign(struct mvm *mvm,
				const struct kvm_ioeventfd *args)
{
	struct eventfd_ctx *eventfd;
	struct mvm_ioeventfd *p;
	int r;

	/* KVM's checks, in KVM's order (the errno of the first that fails). */
	switch (args->len) {
	case 0:
	case 1:
	case 2:
	case 4:
	case 8:
		break;
	default:
		return -EINVAL;
	}
	if (args->addr + args->len < args->addr)
		return -EINVAL;
	if (args->flags & ~KVM_IOEVENTFD_VALID_FLAG_MASK)
		return -EINVAL;
	/* Any width and a value to compare cannot go together. */
	if (!args->len && (args->flags & KVM_IOEVENTFD_FLAG_DATAMATCH))
		return -EINVAL;

	eventfd = eventfd_ctx_fdget(args->fd);
	if (IS_ERR(eventfd))
		return PTR_ERR(eventfd);

	p = kzalloc(sizeof(*p), GFP_KERNEL_ACCOUNT);
	if (!p) {
		eventfd_ctx_put(eventfd);
		return -ENOMEM;
	}
	p->dev.ops = &mvm_ioeventfd_ops;
	p->eventfd = eventfd;
	p->addr = args->addr;
	p->len = args->len;
	p->bus = mvm_ioeventfd_bus(args->flags);
	if (args->flags & KVM_IOEVENTFD_FLAG_DATAMATCH)
		p->datamatch = args->datamatch;
	else
		p->wildcard = true;

	mutex_lock(&mvm->slots_lock);
	r = 0;
	if (mvm_ioeventfd_collides(mvm, p))
		r = -EEXIST;
	else if (p->bus != MVM_IOEVENTFD_CCW_BUS)
		r = mvm_io_bus_register_dev(mvm, p->bus, p->addr,
					    mvm_ioeventfd_span(p), &p->dev);
	if (!r)
		list_add_tail(&p->link, &mvm->ioeventfds);
	mutex_unlock(&mvm->slots_lock);

	if (r) {
		eventfd_ctx_put(eventfd);
		kfree(p);
	}
	return r;
}

/* The one ioeventfd registered with exactly these arguments. */
static int mvm_ioeventfd_deassign(struct mvm *mvm,
				  const struct kvm_ioeventfd *args)
{
	bool wildcard = !(args->flags & KVM_IOEVENTFD_FLAG_DATAMATCH);
	int bus = mvm_ioeventfd_bus(args->flags);
	struct eventfd_ctx *eventfd;
	struct mvm_ioeventfd *p;
	int r = -ENOENT;

	eventfd = eventfd_ctx_fdget(args->fd);
	if (IS_ERR(eventfd))
		return PTR_ERR(eventfd);

	mutex_lock(&mvm->slots_lock);
	list_for_each_entry(p, &mvm->ioeventfds, link) {
		if (p->bus != bus || p->eventfd != eventfd ||
		    p->addr != args->addr || p->len != args->len ||
		    p->wildcard != wildcard)
			continue;
		if (!wildcard && p->datamatch != args->datamatch)
			continue;
		mvm_ioeventfd_free(mvm, p);
		r = 0;
		break;
	}
	mutex_unlock(&mvm->slots_lock);

	eventfd_ctx_put(eventfd);
	return r;
}

int mvm_ioeventfd(struct mvm *mvm, struct kvm_ioeventfd *args)
{
	if (args->flags & KVM_IOEVENTFD_FLAG_DEASSIGN)
		return mvm_ioeventfd_deassign(mvm, args);
	return mvm_ioeventfd_assign(mvm, args);
}

/* ------------------------------------------------------------------ */
/* irqfd                                                                */

/*
 * Shutdown work of every VM's irqfds: one queue of our own, so that
 * deassign and VM destruction can wait for all of it.
 */
static struct workqueue_struct *mvm_irqfd_cleanup_wq;

struct mvm_irqfd_resampler {
	struct mvm *mvm;
	/* struct mvm_irqfd.resampler_link: RCU, written under resampler_lock */
	struct list_head irqfds;
	struct list_head link;		/* mvm->irqfds.resampler_list */
	struct mvm_irq_ack_notifier notifier;
};

struct mvm_irqfd {
	struct mvm *mvm;
	struct eventfd_ctx *eventfd;
	u32 gsi;
	/* mvm->irqfds.items under irqfds.lock; empty once deactivated. */
	struct list_head link;
	wait_queue_entry_t wait;	/* on the eventfd's wait queue */
	poll_table pt;
	struct work_struct shutdown;
	/* Resampling irqfds only (NULL otherwise). */
	struct mvm_irqfd_resampler *resampler;
	struct eventfd_ctx *resamplefd;
	struct list_head resampler_link;
};

static void mvm_irqfd_inject(struct mvm_irqfd *irqfd)
{
	struct mvm *mvm = irqfd->mvm;

	if (irqfd->resampler) {
		/* Held until the guest's EOI: mvm_irqfd_resampler_ack(). */
		mvm_arch_set_irq(mvm, MVM_IRQFD_RESAMPLE_IRQ_SOURCE_ID,
				 irqfd->gsi, 1);
	} else {
		/* An edge. */
		mvm_arch_set_irq(mvm, MVM_USERSPACE_IRQ_SOURCE_ID,
				 irqfd->gsi, 1);
		mvm_arch_set_irq(mvm, MVM_USERSPACE_IRQ_SOURCE_ID,
				 irqfd->gsi, 0);
	}
}

/*
 * The guest acknowledged the GSI.  The irqfds of the GSI share the source
 * ID, so the line is lowered once, then every resamplefd is signalled: a
 * lowering per irqfd could undo an assertion that came in between.
 */
static void mvm_irqfd_resampler_ack(struct mvm_irq_ack_notifier *kian)
{
	struct mvm_irqfd_resampler *rs =
		container_of(kian, struct mvm_irqfd_resampler, notifier);
	struct mvm_irqfd *irqfd;

	mvm_arch_set_irq(rs->mvm, MVM_IRQFD_RESAMPLE_IRQ_SOURCE_ID,
			 rs->notifier.gsi, 0);

	rcu_read_lock();
	list_for_each_entry_rcu(irqfd, &rs->irqfds, resampler_link)
		mvm_eventfd_signal(irqfd->resamplefd);
	rcu_read_unlock();
}

/* Join (or start) the resampler of the irqfd's GSI. */
static int mvm_irqfd_resampler_attach(struct mvm_irqfd *irqfd)
{
	struct mvm *mvm = irqfd->mvm;
	struct mvm_irqfd_resampler *rs;

	mutex_lock(&mvm->irqfds.resampler_lock);
	list_for_each_entry(rs, &mvm->irqfds.resampler_list, link)
		if (rs->notifier.gsi == irqfd->gsi)
			goto found;

	rs = kzalloc(sizeof(*rs), GFP_KERNEL_ACCOUNT);
	if (!rs) {
		mutex_unlock(&mvm->irqfds.resampler_lock);
		return -ENOMEM;
	}
	rs->mvm = mvm;
	INIT_LIST_HEAD(&rs->irqfds);
	rs->notifier.gsi = irqfd->gsi;
	rs->notifier.irq_acked = mvm_irqfd_resampler_ack;
	list_add(&rs->link, &mvm->irqfds.resampler_list);
	mvm_register_irq_ack_notifier(mvm, &rs->notifier);
found:
	irqfd->resampler = rs;
	list_add_rcu(&irqfd->resampler_link, &rs->irqfds);
	mutex_unlock(&mvm->irqfds.resampler_lock);
	return 0;
}

/*
 * Leave the resampler; the last irqfd out lowers the line and ends it.
 * On return no ack signals the irqfd's resamplefd any more.
 */
static void mvm_irqfd_resampler_detach(struct mvm_irqfd *irqfd)
{
	struct mvm_irqfd_resampler *rs = irqfd->resampler;
	struct mvm *mvm = irqfd->mvm;

	mutex_lock(&mvm->irqfds.resampler_lock);
	list_del_rcu(&irqfd->resampler_link);
	synchronize_rcu();
	if (list_empty(&rs->irqfds)) {
		list_del(&rs->link);
		mvm_unregister_irq_ack_notifier(mvm, &rs->notifier);
		mvm_arch_set_irq(mvm, MVM_IRQFD_RESAMPLE_IRQ_SOURCE_ID,
				 rs->notifier.gsi, 0);
		/* The unregistration waited for every ack in progress. */
		kfree(rs);
	}
	mutex_unlock(&mvm->irqfds.resampler_lock);
}

static void mvm_irqfd_shutdown(struct work_struct *work)
{
	struct mvm_irqfd *irqfd = container_of(work, struct mvm_irqfd,
					       shutdown);
	u64 count;

	/* Let an assign that is still polling the eventfd finish. */
	synchronize_rcu();
	/*
	 * Under the wait queue's lock, which every wakeup holds: none runs
	 * on return and none will.
	 */
	eventfd_ctx_remove_wait_queue(irqfd->eventfd, &irqfd->wait, &count);
	if (irqfd->resampler) {
		mvm_irqfd_resampler_detach(irqfd);
		eventfd_ctx_put(irqfd->resamplefd);
	}
	eventfd_ctx_put(irqfd->eventfd);
	kfree(irqfd);
}

/* Under irqfds.lock: off the list, and queued for shutdown. */
static void mvm_irqfd_deactivate(struct mvm_irqfd *irqfd)
{
	lockdep_assert_held(&irqfd->mvm->irqfds.lock);
	list_del_init(&irqfd->link);
	queue_work(mvm_irqfd_cleanup_wq, &irqfd->shutdown);
}

/* Called with the eventfd's wait queue lock held, IRQs off. */
static int mvm_irqfd_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			    int sync, void *key)
{
	struct mvm_irqfd *irqfd = container_of(wait, struct mvm_irqfd, wait);
	__poll_t flags = key_to_poll(key);
	struct mvm *mvm = irqfd->mvm;
	int ret = 0;

	if (flags & EPOLLIN) {
		u64 count;

		/* The count is ours: no other waiter wakes (priority entry). */
		eventfd_ctx_do_read(irqfd->eventfd, &count);
		mvm_irqfd_inject(irqfd);
		ret = 1;
	}

	if (flags & EPOLLHUP) {
		unsigned long iflags;

		/*
		 * The eventfd is going.  Deassign or VM destruction may have
		 * deactivated the irqfd already; its shutdown then waits for
		 * this wait queue lock, so the irqfd is still here.
		 */
		spin_lock_irqsave(&mvm->irqfds.lock, iflags);
		if (!list_empty(&irqfd->link))
			mvm_irqfd_deactivate(irqfd);
		spin_unlock_irqrestore(&mvm->irqfds.lock, iflags);
	}
	return ret;
}

static void mvm_irqfd_queue_proc(struct file *file, wait_queue_head_t *wqh,
				 poll_table *pt)
{
	struct mvm_irqfd *irqfd = container_of(pt, struct mvm_irqfd, pt);

	add_wait_queue_priority(wqh, &irqfd->wait);
}

static int mvm_irqfd_assign(struct mvm *mvm, const struct kvm_irqfd *args)
{
	bool resample = args->flags & KVM_IRQFD_FLAG_RESAMPLE;
	struct mvm_irqfd *irqfd, *other;
	struct eventfd_ctx *eventfd;
	__poll_t events;
	struct fd f;
	int r;

	/*
	 * As KVM (kvm_arch_irqfd_allowed()): an irqfd needs the LAPICs in
	 * the kernel, a resampling one the IOAPIC and PIC too, whose EOIs
	 * end the level.
	 */
	if (resample ? !mvm_irqchip_full(mvm) : !mvm_arch_irqchip_in_kernel(mvm))
		return -EINVAL;

	irqfd = kzalloc(sizeof(*irqfd), GFP_KERNEL_ACCOUNT);
	if (!irqfd)
		return -ENOMEM;
	irqfd->mvm = mvm;
	irqfd->gsi = args->gsi;
	INIT_LIST_HEAD(&irqfd->link);
	INIT_LIST_HEAD(&irqfd->resampler_link);
	INIT_WORK(&irqfd->shutdown, mvm_irqfd_shutdown);
	init_waitqueue_func_entry(&irqfd->wait, mvm_irqfd_wakeup);
	init_poll_funcptr(&irqfd->pt, mvm_irqfd_queue_proc);

	/* Held to the end: the eventfd cannot be released (EPOLLHUP) meanwhile. */
	f = fdget(args->fd);
	if (!fd_file(f)) {
		r = -EBADF;
		goto out_free;
	}
	eventfd = eventfd_ctx_fileget(fd_file(f));
	if (IS_ERR(eventfd)) {
		r = PTR_ERR(eventfd);
		goto out_fdput;
	}
	irqfd->eventfd = eventfd;

	if (resample) {
		irqfd->resamplefd = eventfd_ctx_fdget(args->resamplefd);
		if (IS_ERR(irqfd->resamplefd)) {
			r = PTR_ERR(irqfd->resamplefd);
			irqfd->resamplefd = NULL;
			goto out_put;
		}
		r = mvm_irqfd_resampler_attach(irqfd);
		if (r)
			goto out_put;
	}

	/*
	 * Once on the list, a deassign on another thread may deactivate the
	 * irqfd; its shutdown starts with synchronize_rcu(), so it waits for
	 * this section, until the entry is on the wait queue.
	 */
	rcu_read_lock();
	spin_lock_irq(&mvm->irqfds.lock);
	r = 0;
	list_for_each_entry(other, &mvm->irqfds.items, link) {
		if (other->eventfd == eventfd) {
			/* One GSI per eventfd. */
			r = -EBUSY;
			break;
		}
	}
	if (!r)
		list_add_tail(&irqfd->link, &mvm->irqfds.items);
	spin_unlock_irq(&mvm->irqfds.lock);
	if (r) {
		rcu_read_unlock();
		goto out_detach;
	}

	/* A signal from before the assignment counts too. */
	events = vfs_poll(fd_file(f), &irqfd->pt);
	if (events & EPOLLIN)
		mvm_irqfd_inject(irqfd);
	rcu_read_unlock();

	fdput(f);
	return 0;

out_detach:
	if (irqfd->resampler)
		mvm_irqfd_resampler_detach(irqfd);
out_put:
	if (irqfd->resamplefd)
		eventfd_ctx_put(irqfd->resamplefd);
	eventfd_ctx_put(eventfd);
out_fdput:
	fdput(f);
out_free:
	kfree(irqfd);
	return r;
}

/*
 * Every irqfd of (fd, gsi), none being no error (as KVM).  On return the
 * GSI gets no more interrupts from them.
 */
static int mvm_irqfd_deassign(struct mvm *mvm, const struct kvm_irqfd *args)
{
	struct mvm_irqfd *irqfd, *tmp;
	struct eventfd_ctx *eventfd;

	eventfd = eventfd_ctx_fdget(args->fd);
	if (IS_ERR(eventfd))
		return PTR_ERR(eventfd);

	spin_lock_irq(&mvm->irqfds.lock);
	list_for_each_entry_safe(irqfd, tmp, &mvm->irqfds.items, link)
		if (irqfd->eventfd == eventfd && irqfd->gsi == args->gsi)
			mvm_irqfd_deactivate(irqfd);
	spin_unlock_irq(&mvm->irqfds.lock);
	eventfd_ctx_put(eventfd);

	flush_workqueue(mvm_irqfd_cleanup_wq);
	return 0;
}

int mvm_irqfd(struct mvm *mvm, struct kvm_irqfd *args)
{
	if (args->flags & ~(KVM_IRQFD_FLAG_DEASSIGN | KVM_IRQFD_FLAG_RESAMPLE))
		return -EINVAL;
	if (args->flags & KVM_IRQFD_FLAG_DEASSIGN)
		return mvm_irqfd_deassign(mvm, args);
	return mvm_irqfd_assign(mvm, args);
}

/* ------------------------------------------------------------------ */

int mvm_irqfd_init(void)
{
	mvm_irqfd_cleanup_wq = alloc_workqueue("mvm-irqfd-cleanup", 0, 0);
	return mvm_irqfd_cleanup_wq ? 0 : -ENOMEM;
}

void mvm_irqfd_exit(void)
{
	destroy_workqueue(mvm_irqfd_cleanup_wq);
}

int mvm_eventfd_init(struct mvm *mvm)
{
	spin_lock_init(&mvm->irqfds.lock);
	INIT_LIST_HEAD(&mvm->irqfds.items);
	INIT_LIST_HEAD(&mvm->irqfds.resampler_list);
	mutex_init(&mvm->irqfds.resampler_lock);
	INIT_LIST_HEAD(&mvm->ioeventfds);
	return 0;
}

/*
 * VM destruction, while the vCPUs and the irqchip still exist (nobody
 * runs the vCPUs any more): every irqfd shut down, every ioeventfd gone.
 */
void mvm_eventfd_release(struct mvm *mvm)
{
	struct mvm_ioeventfd *p, *tmp_p;
	struct mvm_irqfd *irqfd, *tmp;

	spin_lock_irq(&mvm->irqfds.lock);
	list_for_each_entry_safe(irqfd, tmp, &mvm->irqfds.items, link)
		mvm_irqfd_deactivate(irqfd);
	spin_unlock_irq(&mvm->irqfds.lock);
	/* Those an EPOLLHUP deactivated before are on the queue as well. */
	flush_workqueue(mvm_irqfd_cleanup_wq);

	mutex_lock(&mvm->slots_lock);
	list_for_each_entry_safe(p, tmp_p, &mvm->ioeventfds, link)
		mvm_ioeventfd_free(mvm, p);
	mutex_unlock(&mvm->slots_lock);
}
