// SPDX-License-Identifier: GPL-2.0
/*
 * mvm: guest memory slots (KVM_SET_USER_MEMORY_REGION) and guest-physical
 * copies through them.
 *
 * An update copies the slot array, edits the copy, publishes it with
 * rcu_assign_pointer() and waits for SRCU readers, so the fault path never
 * blocks on an update.  Only then are the old slot's nested mappings
 * zapped: no reader can map that range again by then.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>
#include <linux/mvm_host.h>

/* Flags we implement; KVM_MEM_LOG_DIRTY_PAGES is not (yet). */
#define MVM_MEM_VALID_FLAGS	KVM_MEM_READONLY

/* KVM_MEM_MAX_NR_PAGES: a slot's page count fits in 31 bits. */
#define MVM_MEM_MAX_NR_PAGES	((1UL << 31) - 1)

static int mvm_memslot_index(struct mvm_memslots *slots, u32 id)
{
	int i;

	for (i = 0; i < slots->nr; i++)
		if (slots->slots[i].id == id)
			return i;
	return -1;
}

static bool mvm_memslot_overlaps(struct mvm_memslots *slots, u32 id,
				 gfn_t start, gfn_t end)
{
	int i;

	for (i = 0; i < slots->nr; i++) {
		struct mvm_memory_slot *s = &slots->slots[i];

		if (s->id == id)
			continue;
		if (start < s->base_gfn + s->npages && s->base_gfn < end)
			return true;
	}
	return false;
}

static int mvm_memslot_cmp(const void *a, const void *b)
{
	const struct mvm_memory_slot *x = a, *y = b;

	if (x->base_gfn < y->base_gfn)
		return -1;
	return x->base_gfn > y->base_gfn;
}

/* Publish @new, wait for readers of the old array, and free it. */
static void mvm_install_memslots(struct mvm *mvm, struct mvm_memslots *new)
{
	struct mvm_memslots *old = mvm_memslots(mvm);

	sort(new->slots, new->nr, sizeof(new->slots[0]), mvm_memslot_cmp, NULL);
	rcu_assign_pointer(mvm->memslots, new);
	synchronize_srcu_expedited(&mvm->srcu);
	kvfree(old);
}

/*
 * Validation and errno follow __kvm_set_memory_region() in Linux 6.1, in
 * the same order, so that a KVM program sees the same answers.
 */
int mvm_set_memory_region(struct mvm *mvm,
			  const struct kvm_userspace_memory_region *mem)
{
	struct mvm_memory_slot old_slot, *slot;
	struct mvm_memslots *slots, *new;
	bool zap_old = false;
	gfn_t base_gfn;
	unsigned long npages;
	int idx, r;

	if (mem->flags & ~MVM_MEM_VALID_FLAGS)
		return -EINVAL;
	/* One address space (no SMM) and the user slot range. */
	if ((mem->slot >> 16) || (u16)mem->slot >= MVM_USER_MEM_SLOTS)
		return -EINVAL;
	if ((mem->memory_size & (PAGE_SIZE - 1)) ||
	    mem->memory_size != (unsigned long)mem->memory_size)
		return -EINVAL;
	if (mem->guest_phys_addr & (PAGE_SIZE - 1))
		return -EINVAL;
	if ((mem->userspace_addr & (PAGE_SIZE - 1)) ||
	    mem->userspace_addr != untagged_addr(mem->userspace_addr) ||
	    !access_ok((void __user *)(unsigned long)mem->userspace_addr,
		       mem->memory_size))
		return -EINVAL;
	if (mem->guest_phys_addr + mem->memory_size < mem->guest_phys_addr)
		return -EINVAL;
	if ((mem->memory_size >> PAGE_SHIFT) > MVM_MEM_MAX_NR_PAGES)
		return -EINVAL;

	base_gfn = mem->guest_phys_addr >> PAGE_SHIFT;
	npages = mem->memory_size >> PAGE_SHIFT;

	mutex_lock(&mvm->slots_lock);
	slots = mvm_memslots(mvm);
	idx = mvm_memslot_index(slots, mem->slot);

	if (!npages) {
		/* Delete; deleting a slot that does not exist is an error. */
		r = -EINVAL;
		if (idx < 0)
			goto out;
	} else if (idx >= 0) {
		/* Modify: only a move or a flags change is allowed. */
		slot = &slots->slots[idx];
		r = -EINVAL;
		if (mem->userspace_addr != slot->userspace_addr ||
		    npages != slot->npages ||
		    ((mem->flags ^ slot->flags) & KVM_MEM_READONLY))
			goto out;
		r = 0;
		if (base_gfn == slot->base_gfn && mem->flags == slot->flags)
			goto out;
	}

	if (npages && (idx < 0 || base_gfn != slots->slots[idx].base_gfn)) {
		r = -EEXIST;
		if (mvm_memslot_overlaps(slots, mem->slot, base_gfn,
					 base_gfn + npages))
			goto out;
		/*
		 * As kvm_arch_prepare_memory_region(): nothing the nested
		 * tables cannot map (their depth, the host's MAXPHYADDR).
		 */
		r = -EINVAL;
		if (base_gfn + npages - 1 > mvm_arch_max_gfn(mvm))
			goto out;
	}

	r = -ENOMEM;
	new = kvmalloc(sizeof(*new), GFP_KERNEL_ACCOUNT);
	if (!new)
		goto out;
	memcpy(new, slots, sizeof(*new));

	if (idx >= 0) {
		old_slot = new->slots[idx];
		zap_old = !npages || base_gfn != old_slot.base_gfn;
	}

	if (!npages) {
		new->slots[idx] = new->slots[--new->nr];
	} else {
		if (idx < 0)
			idx = new->nr++;
		slot = &new->slots[idx];
		slot->id = mem->slot;
		slot->flags = mem->flags;
		slot->base_gfn = base_gfn;
		slot->npages = npages;
		slot->userspace_addr = mem->userspace_addr;
	}

	mvm_install_memslots(mvm, new);
	if (zap_old)
		mvm_arch_flush_memslot(mvm, &old_slot);
	r = 0;
out:
	mutex_unlock(&mvm->slots_lock);
	return r;
}

void mvm_free_memslots(struct mvm *mvm)
{
	kvfree(rcu_dereference_protected(mvm->memslots, 1));
	mvm->memslots = NULL;
}

/* Caller holds mvm->srcu (or slots_lock). */
struct mvm_memory_slot *mvm_gfn_to_memslot(struct mvm *mvm, gfn_t gfn)
{
	struct mvm_memslots *slots = mvm_memslots(mvm);
	int lo = 0, hi = slots->nr - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		struct mvm_memory_slot *s = &slots->slots[mid];

		if (gfn < s->base_gfn)
			hi = mid - 1;
		else if (gfn >= s->base_gfn + s->npages)
			lo = mid + 1;
		else
			return s;
	}
	return NULL;
}

/*
 * Copy to or from guest-physical memory through the slots' user mappings.
 * -EFAULT when a byte is outside every slot or the user mapping faults.
 */
static int mvm_access_guest(struct mvm *mvm, gpa_t gpa, void *data,
			    unsigned long len, bool write)
{
	int idx, r = 0;

	idx = srcu_read_lock(&mvm->srcu);
	while (len) {
		unsigned long off = offset_in_page(gpa);
		unsigned long n = min(len, PAGE_SIZE - off);
		struct mvm_memory_slot *slot;
		void __user *hva;

		slot = mvm_gfn_to_memslot(mvm, gpa >> PAGE_SHIFT);
		if (!slot || (write && (slot->flags & KVM_MEM_READONLY))) {
			r = -EFAULT;
			break;
		}
		hva = (void __user *)(mvm_gfn_to_hva(slot, gpa >> PAGE_SHIFT) + off);
		if (write ? copy_to_user(hva, data, n) : copy_from_user(data, hva, n)) {
			r = -EFAULT;
			break;
		}
		gpa += n;
		data += n;
		len -= n;
	}
	srcu_read_unlock(&mvm->srcu, idx);
	return r;
}

int mvm_read_guest(struct mvm *mvm, gpa_t gpa, void *data, unsigned long len)
{
	return mvm_access_guest(mvm, gpa, data, len, false);
}

int mvm_write_guest(struct mvm *mvm, gpa_t gpa, const void *data,
		    unsigned long len)
{
	return mvm_access_guest(mvm, gpa, (void *)data, len, true);
}
