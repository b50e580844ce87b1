// SPDX-License-Identifier: GPL-2.0
/*
 * Nested page tables (AMD NPT, Intel EPT), vendor-neutral.
 *
 * Both formats are radix trees of 512 8-byte entries indexed by 9 bits of
 * guest-physical address per level, exactly like x86-64 paging; they
 * differ only in the entry bits, which come from the vendor ops table
 * (npt_table_bits, npt_present_mask, npt_leaf_*).  See SDM vol. 3
 * section 29.3.2 (EPT translation) and APM vol. 2 section 15.25 (NPT).
 *
 * Depth: the tables must have the depth the hardware walks, or a leaf is
 * read as a table pointer and a guest page as a page table.  The NPT walk
 * has the host's depth (5 levels when the host runs with CR4.LA57, APM
 * section 15.25: svm.c sets npt_host_depth); EPT's depth is ours to set in
 * the EPTP and is 4.  A VM's tables map
 * gfns up to mmu.max_gfn, the smaller of what the levels index and the
 * host's MAXPHYADDR; memslot.c refuses slots beyond it (-EINVAL, as
 * kvm_arch_prepare_memory_region() does), so mvm_pt_index() never sees a
 * gfn with bits above the root level's.
 *
 * Mappings are built lazily: a nested page fault inside a memslot pins the
 * host page behind the slot's userspace address and installs a 4 KiB leaf,
 * or, when that page is part of a 2 MiB transparent huge page that backs
 * an aligned 2 MiB of the slot, pins all of it and installs a 2 MiB leaf
 * (as KVM maps THP-backed guest memory; a booting Linux guest then takes
 * a tenth of the nested page faults).  A leaf owns exactly one pin of
 * each 4 KiB page it maps, so zapping a leaf is the one place where pages
 * are unpinned; slot deletion, VM destruction and (later) an MMU
 * notifier's invalidate all go through mvm_mmu_zap_gfn_range() or, for
 * destruction, mvm_mmu_destroy().  A writable leaf's page is unpinned as
 * dirty (the guest may have written it behind the host's page tables,
 * which know nothing of it), so that writes to file-backed memory reach
 * the file.  Dirty logging would clear the writable bit in the same walk
 * (and split 2 MiB leaves).
 *
 * Pins are long-term, so they are charged to the VMM's RLIMIT_MEMLOCK
 * (mm->locked_vm of the VM's mm, as vfio does; CAP_IPC_LOCK bypasses the
 * limit): beyond it a fault fails and KVM_RUN returns -ENOMEM.  KVM does
 * not pin and charges nothing.  Charging takes mmap_lock for writing, so
 * it is done a batch of pages at a time into mmu.pin_credit, from which
 * a fault takes one page with an atomic; unpins give credit back and the
 * surplus beyond one batch is uncharged.  Destruction uncharges the rest
 * against the same mm (mmgrab()ed, so still there even after the VMM
 * exited).
 *
 * Zapping walks the tables, not the gfns, so its cost is bounded by the
 * tables and pins that exist; it drops mmu_lock and reschedules every
 * MVM_ZAP_BATCH leaves, resuming at a cursor that only moves forward.
 *
 * Locking: mvm->mmu_lock (a spinlock) protects the tables and their
 * counters.  Pinning and charging may sleep, so they happen before the
 * lock is taken, and table pages come from a per-vCPU cache filled
 * beforehand.
 */
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/io.h>
#include <linux/slab.h>
#include "x86.h"

#define MVM_PT_ENTRIES		512
#define MVM_PTE_ADDR_MASK	GENMASK_ULL(51, 12)
/*
 * Bit 7 of a level-2 entry maps a 2 MiB page in both formats (APM vol. 2
 * 5.3.4 PDE.PS; SDM vol. 3C 29.3.2 table 29-4, EPT PDE bit 7).
 */
#define MVM_PTE_LARGE		BIT_ULL(7)
#define MVM_LARGE_PAGES		512	/* 4 KiB pages in a 2 MiB leaf */

/* Pages charged to locked_vm at a time, and kept as credit after unpins. */
#define MVM_PIN_CHARGE_BATCH	512
/* Leaves zapped per hold of mmu_lock (one page of entries). */
#define MVM_ZAP_BATCH		(PAGE_SIZE / sizeof(u64))

static unsigned int mvm_pt_index(gfn_t gfn, int level)
{
	return (gfn >> (9 * (level - 1))) & (MVM_PT_ENTRIES - 1);
}

static bool mvm_pte_present(u64 pte)
{
	return pte & mvm_x86_ops->npt_present_mask;
}

static u64 *mvm_pte_table(u64 pte)
{
	return __va(pte & MVM_PTE_ADDR_MASK);
}

static struct page *mvm_pte_page(u64 pte)
{
	return pfn_to_page((pte & MVM_PTE_ADDR_MASK) >> PAGE_SHIFT);
}

/* A leaf at @level (a level-2 entry with the large bit maps 2 MiB). */
static bool mvm_pte_is_leaf(u64 pte, int level)
{
	return level == 1 || (level == 2 && (pte & MVM_PTE_LARGE));
}

/* The 4 KiB pages a leaf pins. */
static unsigned int mvm_leaf_pages(u64 pte)
{
	return pte & MVM_PTE_LARGE ? MVM_LARGE_PAGES : 1;
}

/* Drop the pins a leaf held; a writable leaf's pages may have been written. */
static void mvm_unpin_leaf(u64 pte)
{
	struct page *page = mvm_pte_page(pte);
	bool dirty = pte & mvm_x86_ops->npt_leaf_writable_bit;
	unsigned int i, n = mvm_leaf_pages(pte);

	for (i = 0; i < n; i++, page++) {
		if (dirty)
			unpin_user_pages_dirty_lock(&page, 1, true);
		else
			unpin_user_page(page);
	}
}

/*
 * The host's MAXPHYADDR as KVM takes it (kvm_get_shadow_phys_bits()):
 * CPUID's, since x86_phys_bits is reduced by SME/MKTME key bits that are
 * still address bits to the nested walk.
 */
static unsigned int mvm_host_phys_bits(void)
{
	if (boot_cpu_data.extended_cpuid_level >= 0x80000008)
		return cpuid_eax(0x80000008) & 0xff;
	return boot_cpu_data.x86_phys_bits;
}

int mvm_mmu_init(struct mvm *mvm)
{
	struct mvm_mmu *mmu = &mvm->arch.mmu;
	unsigned int gpa_bits;

	mmu->levels = mvm_x86_ops->npt_host_depth && pgtable_l5_enabled() ? 5 : 4;
	if (WARN_ON_ONCE(mmu->levels < 4 || mmu->levels > MVM_MMU_MAX_LEVELS))
		return -EIO;
	gpa_bits = min_t(unsigned int, mvm_host_phys_bits(),
			 PAGE_SHIFT + 9 * mmu->levels);
	mmu->max_gfn = (1ULL << (gpa_bits - PAGE_SHIFT)) - 1;
	atomic_long_set(&mmu->pin_credit, 0);
	mmu->large_leaves = mvm_x86_ops->npt_has_2m();

	mmu->root = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!mmu->root)
		return -ENOMEM;
	mmu->root_hpa = __pa(mmu->root);
	return 0;
}

/* Fill the vCPU's cache with the table pages one fault may need. */
static int mvm_mmu_topup_cache(struct mvm_vcpu *vcpu)
{
	struct mvm_vcpu_arch *arch = &vcpu->arch;
	int needed = vcpu->mvm->arch.mmu.levels - 1;

	while (arch->mmu_page_cache_nr < needed) {
		void *page = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);

		if (!page)
			return -ENOMEM;
		arch->mmu_page_cache[arch->mmu_page_cache_nr++] = page;
	}
	return 0;
}

void mvm_mmu_free_page_cache(struct mvm_vcpu *vcpu)
{
	while (vcpu->arch.mmu_page_cache_nr)
		free_page((unsigned long)
			  vcpu->arch.mmu_page_cache[--vcpu->arch.mmu_page_cache_nr]);
}

/*
 * Take one page of locked_vm credit for a new pin.  Usually an atomic;
 * when the credit is gone, charge a batch (or, near the limit, exactly
 * the one page) to the VM's mm.  -ENOMEM beyond RLIMIT_MEMLOCK.
 */
static int mvm_mmu_charge_pin(struct mvm *mvm)
{
	atomic_long_t *credit = &mvm->arch.mmu.pin_credit;

	if (likely(atomic_long_dec_if_positive(credit) >= 0))
		return 0;
	if (!account_locked_vm(mvm->mm, MVM_PIN_CHARGE_BATCH, true)) {
		atomic_long_add(MVM_PIN_CHARGE_BATCH - 1, credit);
		return 0;
	}
	return account_locked_vm(mvm->mm, 1, true);
}

/* The same for the @n pins of a 2 MiB leaf: from credit, else a charge. */
static int mvm_mmu_charge_pins(struct mvm *mvm, long n)
{
	atomic_long_t *credit = &mvm->arch.mmu.pin_credit;
	long old = atomic_long_read(credit);

	do {
		if (old < n)
			return account_locked_vm(mvm->mm, n, true);
	} while (!atomic_long_try_cmpxchg(credit, &old, old - n));
	return 0;
}

/* Uncharge the credit beyond @keep pages.  May sleep (mmap_lock). */
static void mvm_mmu_uncharge_surplus(struct mvm *mvm, long keep)
{
	atomic_long_t *credit = &mvm->arch.mmu.pin_credit;
	long old = atomic_long_read(credit);

	do {
		if (old <= keep)
			return;
	} while (!atomic_long_try_cmpxchg(credit, &old, keep));
	account_locked_vm(mvm->mm, old - keep, false);
}

/*
 * mmu_lock held.  Return the entry at @target (1 or 2) for @gfn, building
 * the path; or, if a 2 MiB leaf already maps @gfn, that leaf's entry.
 */
static u64 *mvm_mmu_walk_alloc(struct mvm_vcpu *vcpu, gfn_t gfn, int target)
{
	struct mvm_mmu *mmu = &vcpu->mvm->arch.mmu;
	u64 *table = mmu->root;
	int level;

	lockdep_assert_held(&vcpu->mvm->mmu_lock);

	for (level = mmu->levels; level > target; level--) {
		u64 *pte = &table[mvm_pt_index(gfn, level)];

		if (mvm_pte_present(*pte) && mvm_pte_is_leaf(*pte, level))
			return pte;
		if (!mvm_pte_present(*pte)) {
			void *page;

			if (WARN_ON_ONCE(!vcpu->arch.mmu_page_cache_nr))
				return NULL;
			page = vcpu->arch.mmu_page_cache[--vcpu->arch.mmu_page_cache_nr];
			WRITE_ONCE(*pte, __pa(page) | mvm_x86_ops->npt_table_bits);
		}
		table = mvm_pte_table(*pte);
	}
	return &table[mvm_pt_index(gfn, target)];
}

/*
 * Map the 2 MiB around @gfn with one leaf, if a PMD-sized transparent huge
 * page backs it: @page (pinned for @gfn, writable) must be part of one,
 * the slot must cover the aligned 2 MiB, and the host address must have
 * the same offset in 2 MiB as the guest-physical one.  All 512 pages are
 * pinned (each leaf owns one pin per 4 KiB page).  Returns 1 when mapped
 * (or found mapped), 0 to fall back to a 4 KiB leaf.
 */
static int mvm_mmu_map_large(struct mvm_vcpu *vcpu,
			     struct mvm_memory_slot *slot, gfn_t gfn,
			     struct page *page)
{
	struct mvm *mvm = vcpu->mvm;
	gfn_t base = ALIGN_DOWN(gfn, MVM_LARGE_PAGES);
	unsigned long hva = mvm_gfn_to_hva(slot, base);
	struct page *head = compound_head(page);
	struct page **pages;
	bool installed = false;
	u64 *ptep, pte;
	long n;
	int i, r = 0;

	if (!vcpu->mvm->arch.mmu.large_leaves ||
	    base < slot->base_gfn ||
	    base + MVM_LARGE_PAGES > slot->base_gfn + slot->npages ||
	    !IS_ALIGNED(hva, PMD_SIZE) ||
	    !PageTransHuge(head) ||
	    compound_order(head) != PMD_SHIFT - PAGE_SHIFT ||
	    page - head != gfn - base)
		return 0;

	pages = kmalloc_array(MVM_LARGE_PAGES, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return 0;
	if (mvm_mmu_charge_pins(mvm, MVM_LARGE_PAGES))
		goto out_free;
	n = pin_user_pages_fast(hva, MVM_LARGE_PAGES,
				FOLL_WRITE | FOLL_LONGTERM, pages);
	if (n < 0)
		n = 0;
	/* The host may have split the huge page since: all or nothing. */
	for (i = 0; i < n; i++)
		if (pages[i] != pages[0] + i)
			break;
	if (n != MVM_LARGE_PAGES || i != n ||
	    !IS_ALIGNED(page_to_pfn(pages[0]), MVM_LARGE_PAGES))
		goto out_unpin;

	pte = page_to_phys(pages[0]) | mvm_x86_ops->npt_leaf_ro_bits |
	      mvm_x86_ops->npt_leaf_writable_bit | MVM_PTE_LARGE;
	spin_lock(&mvm->mmu_lock);
	ptep = mvm_mmu_walk_alloc(vcpu, base, 2);
	if (ptep && !mvm_pte_present(*ptep)) {
		WRITE_ONCE(*ptep, pte);
		mvm->arch.mmu.nr_pinned += MVM_LARGE_PAGES;
		mvm->stat.pages_2m++;
		installed = true;
		r = 1;
	} else if (ptep && (*ptep & MVM_PTE_LARGE)) {
		r = 1;		/* another vCPU was first: drop our pins */
	}
	/* else: 4 KiB leaves are already below; keep adding those. */
	spin_unlock(&mvm->mmu_lock);
	if (installed) {
		kfree(pages);
		return 1;
	}
out_unpin:
	unpin_user_pages(pages, n);
	atomic_long_add(MVM_LARGE_PAGES, &mvm->arch.mmu.pin_credit);
out_free:
	kfree(pages);
	return r;
}

/*
 * Pin the page behind @gfn and map it.  Writable if the VMA allows it
 * (and the slot is not read-only), so that a read fault need not be
 * followed by a write fault; read-only otherwise, in which case a guest
 * write is -EFAULT from KVM_RUN, as with KVM.
 */
int mvm_mmu_map_gfn(struct mvm_vcpu *vcpu, struct mvm_memory_slot *slot,
		    gfn_t gfn, bool write)
{
	struct mvm *mvm = vcpu->mvm;
	unsigned long hva = mvm_gfn_to_hva(slot, gfn);
	bool writable = !(slot->flags & KVM_MEM_READONLY);
	struct page *page, *old_page = NULL;
	u64 *ptep, pte;
	long n;
	int r;

	r = mvm_mmu_topup_cache(vcpu);
	if (r)
		return r;
	r = mvm_mmu_charge_pin(mvm);
	if (r)
		return r;

	n = -EFAULT;
	if (writable)
		n = pin_user_pages_fast(hva, 1, FOLL_WRITE | FOLL_LONGTERM,
					&page);
	if (n != 1) {
		if (!write) {
			writable = false;
			n = pin_user_pages_fast(hva, 1, FOLL_LONGTERM, &page);
		}
		if (n != 1) {
			atomic_long_inc(&mvm->arch.mmu.pin_credit);
			return n < 0 ? n : -EFAULT;
		}
	}

	if (writable && PageTransCompound(page) &&
	    mvm_mmu_map_large(vcpu, slot, gfn, page)) {
		unpin_user_page(page);
		atomic_long_inc(&mvm->arch.mmu.pin_credit);
		return 0;
	}

	pte = page_to_phys(page) | mvm_x86_ops->npt_leaf_ro_bits;
	if (writable)
		pte |= mvm_x86_ops->npt_leaf_writable_bit;

	spin_lock(&mvm->mmu_lock);
	ptep = mvm_mmu_walk_alloc(vcpu, gfn, 1);
	if (!ptep) {
		r = -ENOMEM;
	} else if (*ptep & MVM_PTE_LARGE) {
		/* A 2 MiB leaf (always writable) maps it: drop our pin. */
	} else if (!mvm_pte_present(*ptep)) {
		WRITE_ONCE(*ptep, pte);
		mvm->arch.mmu.nr_pinned++;
		mvm->stat.pages_4k++;
		page = NULL;
	} else if (writable &&
		   !(*ptep & mvm_x86_ops->npt_leaf_writable_bit)) {
		/* Upgrade a read-only leaf: the old pin goes after a flush. */
		old_page = mvm_pte_page(*ptep);
		WRITE_ONCE(*ptep, pte);
		page = NULL;
	}
	/* else: another vCPU mapped it first; drop our pin. */
	spin_unlock(&mvm->mmu_lock);

	/* Neither page was mapped writable: plain unpins, credit back. */
	if (old_page) {
		mvm_make_all_vcpus_request(mvm, MVM_REQ_TLB_FLUSH);
		unpin_user_page(old_page);
		atomic_long_inc(&mvm->arch.mmu.pin_credit);
	}
	if (page) {
		unpin_user_page(page);
		atomic_long_inc(&mvm->arch.mmu.pin_credit);
	}
	return r;
}

/* A resumable zap of [start, end): the leaves cleared in one batch. */
struct mvm_zap {
	gfn_t start;			/* cursor: nothing below it is left */
	gfn_t end;
	u64 *leaves;			/* the cleared leaf entries */
	unsigned long nr, max;
	unsigned long pages;		/* 4 KiB pages they pin */
};

/*
 * mmu_lock held.  Clear the leaves of [@zap->start, @zap->end) below
 * @table (at @level, covering gfns from @base) into @zap->leaves.  Only
 * present entries are followed, so the cost is bounded by the tables, not
 * by the size of the range.  Return true, with the cursor at the first
 * leaf not cleared, when the batch is full.
 */
static bool mvm_mmu_zap_table(struct mvm *mvm, u64 *table, int level,
			      gfn_t base, struct mvm_zap *zap)
{
	gfn_t span = 1ULL << (9 * (level - 1));
	unsigned int i = 0;

	lockdep_assert_held(&mvm->mmu_lock);

	if (zap->start > base)
		i = (zap->start - base) / span;
	for (; i < MVM_PT_ENTRIES; i++) {
		gfn_t lo = base + i * span;
		u64 pte = table[i];

		if (lo >= zap->end)
			break;
		if (!mvm_pte_present(pte))
			continue;
		if (!mvm_pte_is_leaf(pte, level)) {
			if (mvm_mmu_zap_table(mvm, mvm_pte_table(pte),
					      level - 1, lo, zap))
				return true;
			continue;
		}
		/* A 2 MiB leaf overlapping the range goes whole. */
		if (zap->nr == zap->max) {
			zap->start = max(lo, zap->start);
			return true;
		}
		WRITE_ONCE(table[i], 0);
		mvm->arch.mmu.nr_pinned -= mvm_leaf_pages(pte);
		mvm_stat_leaf_zapped(mvm, pte & MVM_PTE_LARGE);
		zap->pages += mvm_leaf_pages(pte);
		zap->leaves[zap->nr++] = pte;
	}
	return false;
}

/*
 * Unmap [@start, @end) and drop the pins.  The pages are released only
 * after every vCPU has flushed its TLB, so the guest can never reach a page
 * the host has reused.  Caller may sleep.
 *
 * Each batch drops mmu_lock and reschedules.  A fatal signal does not cut
 * the zap short: the caller's slot is already gone, and leaves left behind
 * would keep its pages mapped.  The work is bounded by the pins the VMM
 * itself made (MVM_ZAP_BATCH leaves per batch, the cursor only moves up:
 * leaves a vCPU maps behind it in a moved slot's new range are valid and
 * are not revisited).
 */
void mvm_mmu_zap_gfn_range(struct mvm *mvm, gfn_t start, gfn_t end)
{
	struct mvm_mmu *mmu = &mvm->arch.mmu;
	u64 stack_leaves[16];
	struct mvm_zap zap = { .start = start, .end = end };
	unsigned long i;
	bool more;

	might_sleep();
	if (!READ_ONCE(mmu->nr_pinned))
		return;
	zap.leaves = kmalloc_array(MVM_ZAP_BATCH, sizeof(u64),
				   GFP_KERNEL | __GFP_NOWARN);
	zap.max = MVM_ZAP_BATCH;
	if (!zap.leaves) {
		zap.leaves = stack_leaves;
		zap.max = ARRAY_SIZE(stack_leaves);
	}

	do {
		zap.nr = 0;
		zap.pages = 0;
		spin_lock(&mvm->mmu_lock);
		more = mvm_mmu_zap_table(mvm, mmu->root, mmu->levels, 0, &zap);
		spin_unlock(&mvm->mmu_lock);

		if (zap.nr) {
			mvm_make_all_vcpus_request(mvm, MVM_REQ_TLB_FLUSH);
			for (i = 0; i < zap.nr; i++)
				mvm_unpin_leaf(zap.leaves[i]);
			atomic_long_add(zap.pages, &mmu->pin_credit);
		}
		cond_resched();
	} while (more);

	if (zap.leaves != stack_leaves)
		kfree(zap.leaves);
	mvm_mmu_uncharge_surplus(mvm, MVM_PIN_CHARGE_BATCH);
}

/* Free @table and everything below it; rescheduling every leaf table. */
static void mvm_mmu_free_table(struct mvm *mvm, u64 *table, int level)
{
	unsigned int i;

	for (i = 0; i < MVM_PT_ENTRIES; i++) {
		u64 pte = table[i];

		if (!mvm_pte_present(pte))
			continue;
		if (!mvm_pte_is_leaf(pte, level)) {
			mvm_mmu_free_table(mvm, mvm_pte_table(pte), level - 1);
		} else {
			mvm_unpin_leaf(pte);
			mvm->arch.mmu.nr_pinned -= mvm_leaf_pages(pte);
			atomic_long_add(mvm_leaf_pages(pte),
					&mvm->arch.mmu.pin_credit);
		}
	}
	free_page((unsigned long)table);
	if (level == 1)
		cond_resched();
}

/*
 * The VM is dead: no vCPU runs, nothing can map.  Unpin and free all, and
 * uncharge every pinned page from the VM's mm (current->mm may be another
 * process's, or gone, when the last reference goes from the last fput).
 * Process context: it sleeps.
 */
void mvm_mmu_destroy(struct mvm *mvm)
{
	struct mvm_mmu *mmu = &mvm->arch.mmu;

	might_sleep();
	if (!mmu->root)
		return;
	mvm_mmu_free_table(mvm, mmu->root, mmu->levels);
	WARN_ON_ONCE(mmu->nr_pinned);
	mvm_mmu_uncharge_surplus(mvm, 0);
	mmu->root = NULL;
	mmu->root_hpa = 0;
}

int mvm_handle_gpa_fault(struct mvm_vcpu *vcpu, gpa_t gpa, bool write,
			 bool fetch)
{
	struct mvm *mvm = vcpu->mvm;
	struct mvm_memory_slot *slot;
	int idx, r;

	vcpu->stat.npf_taken++;
	idx = srcu_read_lock(&mvm->srcu);
	slot = mvm_gfn_to_memslot(mvm, gpa >> PAGE_SHIFT);
	if (slot && !(write && (slot->flags & KVM_MEM_READONLY))) {
		r = mvm_mmu_map_gfn(vcpu, slot, gpa >> PAGE_SHIFT, write);
		srcu_read_unlock(&mvm->srcu, idx);
		vcpu->stat.npf_mapped += !r;
		return r ? r : 1;
	}
	srcu_read_unlock(&mvm->srcu, idx);

	/*
	 * Emulation reads guest memory through the host: flush the L1D
	 * before the next entry (L1TF).  Mapping a page above does not, as
	 * in KVM, whose EPT-violation path does not ask for a flush either.
	 */
	vcpu->arch.l1tf_flush_l1d = true;
	if (fetch) {
		/* Code in MMIO space cannot be emulated. */
		vcpu->run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
		vcpu->run->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
		vcpu->run->internal.ndata = 0;
		return 0;
	}
	return mvm_emulate_mmio(vcpu, gpa, write);
}
