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
#include <linux/bitmap.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>
#include <linux/mvm_host.h>

#define MVM_MEM_VALID_FLAGS	(KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY)

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

/* Bytes of one half of a slot's dirty bitmap (KVM's, in longs). */
static unsigned long mvm_dirty_bitmap_bytes(const struct mvm_memory_slot *slot)
{
	return ALIGN(slot->npages, BITS_PER_LONG) / 8;
}

/* The second half: the harvest's copy, so that no ioctl allocates. */
static unsigned long *mvm_second_dirty_bitmap(const struct mvm_memory_slot *slot)
{
	return slot->dirty_bitmap +
	       mvm_dirty_bitmap_bytes(slot) / sizeof(unsigned long);
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
	unsigned long *old_bitmap = NULL, *new_bitmap = NULL;
	bool zap_old = false, zap_new;
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
		old_bitmap = old_slot.dirty_bitmap;
	}

	/*
	 * Dirty logging: a new bitmap when it starts (all set with
	 * KVM_DIRTY_LOG_INITIALLY_SET, as KVM), the old one kept while it
	 * goes on (a move), freed when it stops.
	 */
	if (npages && (mem->flags & KVM_MEM_LOG_DIRTY_PAGES)) {
		if (old_bitmap) {
			new_bitmap = old_bitmap;
			old_bitmap = NULL;
		} else {
			new_bitmap = kvzalloc(2 * (ALIGN(npages, BITS_PER_LONG) / 8),
					      GFP_KERNEL_ACCOUNT);
			if (!new_bitmap) {
				kvfree(new);
				goto out;
			}
			if (mvm->manual_dirty_log_protect &
			    KVM_DIRTY_LOG_INITIALLY_SET)
				bitmap_set(new_bitmap, 0, npages);
		}
	}
	/*
	 * Logging starts or stops in place: the slot's leaves go, so that
	 * the next write to each page faults (and is logged), and large
	 * leaves are split to 4 KiB on the way in and come back after (the
	 * zap also frees the tables it empties: mvm_mmu_zap_gfn_range()).
	 */
	zap_new = idx >= 0 && npages && !zap_old &&
		  ((mem->flags ^ old_slot.flags) & KVM_MEM_LOG_DIRTY_PAGES);

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
		slot->dirty_bitmap = new_bitmap;
	}

	mvm_install_memslots(mvm, new);
	if (zap_old || zap_new)
		mvm_arch_flush_memslot(mvm, &old_slot);
	/* No reader sees the old slot any more (mvm_install_memslots()). */
	kvfree(old_bitmap);
	r = 0;
out:
	mutex_unlock(&mvm->slots_lock);
	return r;
}

void mvm_free_memslots(struct mvm *mvm)
{
	struct mvm_memslots *slots = rcu_dereference_protected(mvm->memslots, 1);
	int i;

	for (i = 0; slots && i < slots->nr; i++)
		kvfree(slots->slots[i].dirty_bitmap);
	kvfree(slots);
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
		/* The kernel's writes are the guest's (kvmclock, emulation). */
		if (write && slot->dirty_bitmap)
			set_bit_le((gpa >> PAGE_SHIFT) - slot->base_gfn,
				   slot->dirty_bitmap);
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

/* ------------------------------------------------------------------ */
/* Dirty logging: KVM_GET_DIRTY_LOG, KVM_CLEAR_DIRTY_LOG                */

/*
 * KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2): with
 * KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE, KVM_GET_DIRTY_LOG only reports and
 * KVM_CLEAR_DIRTY_LOG re-arms; KVM_DIRTY_LOG_INITIALLY_SET only with it.
 */
int mvm_enable_manual_dirty_log(struct mvm *mvm, const struct kvm_enable_cap *cap)
{
	u64 allowed = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE;

	if (cap->args[0] & KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE)
		allowed = MVM_DIRTY_LOG_MANUAL_CAPS;
	if (cap->flags || (cap->args[0] & ~allowed))
		return -EINVAL;
	mutex_lock(&mvm->slots_lock);
	mvm->manual_dirty_log_protect = cap->args[0];
	mutex_unlock(&mvm->slots_lock);
	return 0;
}

/*
 * An id KVM's x86 would accept: two address spaces (SMM) and 32764 user
 * slots.  mvm has one and 256, but an id it cannot have is "no such slot"
 * (-ENOENT) here, as in KVM, not -EINVAL.
 */
static bool mvm_dirty_log_id_valid(u32 id)
{
	return (id >> 16) < 2 && (u16)id < 32764;
}

/* slots_lock held.  The logging slot @id names, or an errno as KVM's. */
static struct mvm_memory_slot *mvm_dirty_log_slot(struct mvm *mvm, u32 id,
						  int *r)
{
	struct mvm_memslots *slots = mvm_memslots(mvm);
	int idx;

	*r = -EINVAL;
	if (!mvm_dirty_log_id_valid(id))
		return NULL;
	*r = -ENOENT;
	if (id >> 16)
		return NULL;	/* no slots in the SMM address space */
	idx = mvm_memslot_index(slots, id);
	if (idx < 0 || !slots->slots[idx].dirty_bitmap)
		return NULL;
	*r = 0;
	return &slots->slots[idx];
}

/*
 * Clear the bits of @mask (bitmap word @word of @slot), which the caller
 * took from the log, and write-protect those pages' leaves so that the
 * next write faults and is logged.  mmu_lock held.
 */
static bool mvm_dirty_log_rearm(struct mvm *mvm, struct mvm_memory_slot *slot,
				unsigned long word, unsigned long mask)
{
	return mvm_arch_write_protect_mask(mvm, slot->base_gfn +
					   word * BITS_PER_LONG, mask);
}

/*
 * KVM_GET_DIRTY_LOG, as kvm_get_dirty_log_protect(): the pages written
 * since the last harvest.  Without manual protection the log is cleared
 * and the reported pages write-protected before the copy reaches
 * userspace: a write after the snapshot faults and is logged for the next
 * round, and one racing with it (through a TLB entry flushed before we
 * return) is in a page this round reports anyway.
 */
int mvm_get_dirty_log(struct mvm *mvm, const struct kvm_dirty_log *log)
{
	struct mvm_memory_slot *slot;
	unsigned long *bitmap, *buffer, n, i;
	bool flush = false;
	int r;

	mutex_lock(&mvm->slots_lock);
	slot = mvm_dirty_log_slot(mvm, log->slot, &r);
	if (!slot)
		goto out;

	bitmap = slot->dirty_bitmap;
	n = mvm_dirty_bitmap_bytes(slot);
	if (mvm->manual_dirty_log_protect) {
		buffer = bitmap;
	} else {
		buffer = mvm_second_dirty_bitmap(slot);
		memset(buffer, 0, n);
		spin_lock(&mvm->mmu_lock);
		for (i = 0; i < n / sizeof(long); i++) {
			unsigned long mask;

			if (!READ_ONCE(bitmap[i]))
				continue;
			mask = xchg(&bitmap[i], 0);
			buffer[i] = mask;
			flush |= mvm_dirty_log_rearm(mvm, slot, i, mask);
		}
		spin_unlock(&mvm->mmu_lock);
	}
	if (flush)
		mvm_arch_flush_remote_tlbs(mvm);
	r = copy_to_user(log->dirty_bitmap, buffer, n) ? -EFAULT : 0;
out:
	mutex_unlock(&mvm->slots_lock);
	return r;
}

/*
 * KVM_CLEAR_DIRTY_LOG, as kvm_clear_dirty_log_protect(): clear the bits
 * userspace passes, from a multiple of 64 pages on, for a multiple of 64
 * pages or up to the slot's end, and write-protect the pages whose bit
 * was actually set.  Bits beyond the slot are ignored.
 */
int mvm_clear_dirty_log(struct mvm *mvm, const struct kvm_clear_dirty_log *log)
{
	struct mvm_memory_slot *slot;
	unsigned long *bitmap, *buffer, n, i, words;
	bool flush = false;
	int r;

	if (!mvm_dirty_log_id_valid(log->slot) || (log->first_page & 63))
		return -EINVAL;

	mutex_lock(&mvm->slots_lock);
	slot = mvm_dirty_log_slot(mvm, log->slot, &r);
	if (!slot)
		goto out;

	r = -EINVAL;
	if (log->first_page > slot->npages ||
	    log->num_pages > slot->npages - log->first_page ||
	    (log->num_pages < slot->npages - log->first_page &&
	     (log->num_pages & 63)))
		goto out;

	bitmap = slot->dirty_bitmap;
	buffer = mvm_second_dirty_bitmap(slot);
	n = ALIGN(log->num_pages, BITS_PER_LONG) / 8;
	r = -EFAULT;
	if (copy_from_user(buffer, log->dirty_bitmap, n))
		goto out;

	words = DIV_ROUND_UP(log->num_pages, BITS_PER_LONG);
	spin_lock(&mvm->mmu_lock);
	for (i = 0; i < words; i++) {
		unsigned long w = log->first_page / BITS_PER_LONG + i;
		unsigned long mask = buffer[i];

		if (!mask)
			continue;
		/* Only what was set (never bits beyond the slot's end). */
		mask &= atomic_long_fetch_andnot(mask,
						 (atomic_long_t *)&bitmap[w]);
		if (mask)
			flush |= mvm_dirty_log_rearm(mvm, slot, w, mask);
	}
	spin_unlock(&mvm->mmu_lock);
	if (flush)
		mvm_arch_flush_remote_tlbs(mvm);
	r = 0;
out:
	mutex_unlock(&mvm->slots_lock);
	return r;
}
