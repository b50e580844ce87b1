// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel I/O bus: the port and MMIO ranges served in the kernel
 * (PIC, PIT, IOAPIC, ioeventfds) before an access goes to userspace.
 *
 * A bus is an array of ranges sorted by address, found by binary search.
 * It is never changed in place: registration builds a new array under
 * mvm->slots_lock and publishes it with RCU; the exit paths read it under
 * mvm->srcu, so a device may sleep-free serve an access while the array is
 * being replaced, and a device is unregistered (synchronize_srcu) before
 * its owner frees it.
 */
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/mvm_host.h>

static int mvm_io_range_cmp(const void *a, const void *b)
{
	const struct mvm_io_range *r1 = a, *r2 = b;

	if (r1->addr < r2->addr)
		return -1;
	if (r1->addr > r2->addr)
		return 1;
	return 0;
}

static struct mvm_io_bus *mvm_get_bus(struct mvm *mvm, enum mvm_bus idx)
{
	return srcu_dereference_check(mvm->buses[idx], &mvm->srcu,
				      lockdep_is_held(&mvm->slots_lock));
}

int mvm_io_bus_register_dev(struct mvm *mvm, enum mvm_bus idx, gpa_t addr,
			    int len, struct mvm_io_device *dev)
{
	struct mvm_io_bus *old, *new;
	int nr;

	lockdep_assert_held(&mvm->slots_lock);
	old = mvm_get_bus(mvm, idx);
	nr = old ? old->nr : 0;
	if (nr >= MVM_IO_BUS_MAX_DEVS)
		return -ENOSPC;

	new = kmalloc(struct_size(new, range, nr + 1), GFP_KERNEL_ACCOUNT);
	if (!new)
		return -ENOMEM;
	if (old)
		memcpy(new->range, old->range, nr * sizeof(new->range[0]));
	new->range[nr].addr = addr;
	new->range[nr].len = len;
	new->range[nr].dev = dev;
	new->nr = nr + 1;
	sort(new->range, new->nr, sizeof(new->range[0]), mvm_io_range_cmp,
	     NULL);

	rcu_assign_pointer(mvm->buses[idx], new);
	synchronize_srcu_expedited(&mvm->srcu);
	kfree(old);
	return 0;
}

/* Copy @from's ranges other than @dev's to @to (which may be @from). */
static void mvm_io_bus_copy_without(struct mvm_io_bus *to,
				    const struct mvm_io_bus *from,
				    const struct mvm_io_device *dev)
{
	int i, nr = from->nr, j = 0;

	for (i = 0; i < nr; i++)
		if (from->range[i].dev != dev)
			to->range[j++] = from->range[i];
	to->nr = j;
}

/* Every range of @dev goes; the caller may free @dev on return. */
void mvm_io_bus_unregister_dev(struct mvm *mvm, enum mvm_bus idx,
			       struct mvm_io_device *dev)
{
	struct mvm_io_bus *old, *new;

	lockdep_assert_held(&mvm->slots_lock);
	old = mvm_get_bus(mvm, idx);
	if (!old)
		return;

	new = kmalloc(struct_size(new, range, old->nr), GFP_KERNEL_ACCOUNT);
	if (!new) {
		/*
		 * Removal cannot fail: without memory for a copy, take the
		 * bus away while the old array is edited in place (accesses
		 * meanwhile go to userspace, as on a bus without devices).
		 */
		rcu_assign_pointer(mvm->buses[idx], NULL);
		synchronize_srcu_expedited(&mvm->srcu);
		mvm_io_bus_copy_without(old, old, dev);
		rcu_assign_pointer(mvm->buses[idx], old);
		return;
	}
	mvm_io_bus_copy_without(new, old, dev);
	rcu_assign_pointer(mvm->buses[idx], new);
	synchronize_srcu_expedited(&mvm->srcu);
	kfree(old);
}

void mvm_io_bus_destroy(struct mvm *mvm)
{
	int i;

	for (i = 0; i < MVM_NR_BUSES; i++)
		kfree(rcu_dereference_protected(mvm->buses[i], 1));
}

/* The last range starting at or below @addr, or -1. */
static int mvm_io_bus_last_below(struct mvm_io_bus *bus, gpa_t addr)
{
	int lo = 0, hi = bus->nr - 1, found = -1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;

		if (bus->range[mid].addr <= addr) {
			found = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return found;
}

static bool mvm_io_range_covers(const struct mvm_io_range *r, gpa_t addr,
				int len)
{
	return addr >= r->addr && addr + len <= r->addr + r->len;
}

static int mvm_io_bus_access(struct mvm_vcpu *vcpu, enum mvm_bus idx,
			     gpa_t addr, int len, void *val, bool write)
{
	struct mvm *mvm = vcpu->mvm;
	struct mvm_io_bus *bus;
	int i, srcu_idx, r = -EOPNOTSUPP;

	srcu_idx = srcu_read_lock(&mvm->srcu);
	bus = srcu_dereference(mvm->buses[idx], &mvm->srcu);
	if (!bus)
		goto out;
	/*
	 * Ranges may overlap (ioeventfds with different datamatch on one
	 * address): try every range that starts at or below @addr and
	 * covers the access, nearest first.  The bus holds a few dozen
	 * ranges, and the nearest is nearly always the one.
	 */
	for (i = mvm_io_bus_last_below(bus, addr); i >= 0; i--) {
		struct mvm_io_device *dev = bus->range[i].dev;

		if (!mvm_io_range_covers(&bus->range[i], addr, len))
			continue;
		if (write)
			r = dev->ops->write ? dev->ops->write(vcpu, dev, addr,
							      len, val) :
					      -EOPNOTSUPP;
		else
			r = dev->ops->read ? dev->ops->read(vcpu, dev, addr,
							    len, val) :
					     -EOPNOTSUPP;
		if (r != -EOPNOTSUPP)
			break;
	}
out:
	srcu_read_unlock(&mvm->srcu, srcu_idx);
	return r;
}

int mvm_io_bus_write(struct mvm_vcpu *vcpu, enum mvm_bus idx, gpa_t addr,
		     int len, const void *val)
{
	return mvm_io_bus_access(vcpu, idx, addr, len, (void *)val, true);
}

int mvm_io_bus_read(struct mvm_vcpu *vcpu, enum mvm_bus idx, gpa_t addr,
		    int len, void *val)
{
	return mvm_io_bus_access(vcpu, idx, addr, len, val, false);
}
