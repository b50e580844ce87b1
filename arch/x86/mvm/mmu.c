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
 * Mappings are built lazily and hold nothing: guest memory is ordinary
 * memory of the VMM, which the host may swap, migrate, merge (KSM),
 * compact or free at any time, as KVM allows.  A nested page fault inside
 * a memslot looks the page up with get_user_pages_fast() (a reference, not
 * a pin), installs a 4 KiB leaf, or a large leaf when a huge page backs
 * an aligned piece of the slot: a 2 MiB leaf for 2 MiB of a THP or of a
 * hugetlbfs page of 2 MiB or 1 GiB, a 1 GiB leaf for a 1 GiB hugetlbfs
 * page where the hardware has 1 GiB nested pages (mmu.max_leaf_level);
 * then it drops the reference again.  What keeps the leaf right is the
 * MMU notifier registered on the VMM's mm when the VM is created:
 *
 * - invalidate_range_start() raises mmu.invalidate_in_progress (and
 *   widens the hva range in progress), zaps every leaf that maps part of
 *   the range and flushes every vCPU's TLB before it returns, so that no
 *   guest access can reach the old page once the host changes its page
 *   table entry;
 * - invalidate_range_end() bumps mmu.invalidate_seq, then lowers the
 *   count;
 * - a fault reads invalidate_seq before looking the page up and installs
 *   the leaf under mmu_lock only if the count is unchanged and no
 *   invalidation of its address is in progress; else it maps nothing and
 *   the guest faults again (the lookup may have seen a page table entry
 *   that is going or gone).
 *
 * Every leaf therefore maps a page that the VMM's page tables map at that
 * moment, which is also why zapping may touch the page (mark it dirty):
 * it cannot have been freed while a leaf still mapped it.  A writable
 * leaf's page is marked dirty when the leaf goes, since the guest may have
 * written it without the host's page tables knowing (as KVM does).
 *
 * Aging (clear_flush_young, clear_young, test_young): NPT leaves have an
 * accessed bit that the hardware sets (APM vol. 2 15.25.7); mvm clears and
 * reads it.  mvm runs EPT without accessed/dirty flags (the EPTP's bit 6
 * is clear, SDM 29.3.5), so there a leaf is "young" while present and
 * aging zaps it, as KVM ages without A/D bits.
 *
 * A large leaf is all or nothing: an invalidation of any part of it (a
 * partial munmap or MADV_DONTNEED, a THP split, ...) zaps the whole leaf,
 * and the next faults map what backs the range then, in leaves as large
 * as that allows.
 *
 * Dirty logging (memslot.c): a slot with KVM_MEM_LOG_DIRTY_PAGES gets 4
 * KiB leaves only, read-only until the guest writes, and the write fault
 * sets the page's bit in the slot's bitmap before it installs a writable
 * leaf.  Harvesting the log write-protects the leaves of the pages it
 * reports (mvm_mmu_write_protect_mask()).
 *
 * Zapping walks the tables, not the gfns, so its cost is bounded by what
 * is mapped; when it may sleep it drops mmu_lock and reschedules every
 * MVM_ZAP_BATCH leaves, resuming at a cursor that only moves forward.
 * A zap of a memslot change (mvm_mmu_zap_gfn_range()) or of the notifier
 * also detaches the tables it leaves empty inside its range and frees
 * them after the flush, so that large leaves come back: after dirty
 * logging stops, and after the host collapses small pages of a range into
 * a huge page (khugepaged, MADV_COLLAPSE: it invalidates the whole range
 * first).  A table that still maps something stays (a 4 KiB invalidation
 * inside a 2 MiB range), as do tables aging empties, until the VM goes.
 *
 * Locking: mvm->mmu_lock (a spinlock) protects the tables and the
 * notifier's counters.  Lookups may sleep, so they happen before the lock
 * is taken, and table pages come from a per-vCPU cache filled beforehand
 * (GFP_KERNEL_ACCOUNT: the VMM's memory cgroup pays for its tables).
 */
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/io.h>
#include <linux/slab.h>
#include "x86.h"
#include "trace.h"

#define MVM_PT_ENTRIES		512
#define MVM_PTE_ADDR_MASK	GENMASK_ULL(51, 12)
/*
 * Bit 7 of a level-2 entry maps a 2 MiB page, of a level-3 entry a 1 GiB
 * page, in both formats (APM vol. 2 5.3.4, PDE.PS and PDPE.PS; SDM vol.
 * 3C 29.3.2, tables 29-2 and 29-4, bit 7 of an EPT PDPTE and PDE).  The
 * hardware allows the 1 GiB form only with a capability (mmu_init()).
 */
#define MVM_PTE_LARGE		BIT_ULL(7)
#define MVM_MAX_LEAF_LEVEL	3

/* Leaves zapped per hold of mmu_lock when the caller may sleep. */
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

/*
 * A present entry at @level is a leaf: always at level 1, with the large
 * bit at levels 2 (2 MiB) and 3 (1 GiB).  Bit 7 is reserved above.
 */
static bool mvm_pte_is_leaf(u64 pte, int level)
{
	return level == 1 ||
	       (level <= MVM_MAX_LEAF_LEVEL && (pte & MVM_PTE_LARGE));
}

/* The 4 KiB pages a leaf at @level maps: 1, 512 or 512 * 512. */
static unsigned long mvm_leaf_pages(int level)
{
	return 1UL << (9 * (level - 1));
}

static bool mvm_leaf_writable(u64 pte)
{
	return pte & mvm_x86_ops->npt_leaf_writable_bit;
}

/*
 * The accessed bit the hardware sets in a leaf: NPT's is the x86 one
 * (APM vol. 2 15.25.7); mvm's EPT has none (no A/D in the EPTP), so 0.
 */
static u64 mvm_leaf_accessed_bit(void)
{
	return mvm_vendor_is_svm() ? _PAGE_ACCESSED : 0;
}

/*
 * A leaf goes: the guest may have written a writable leaf's page behind
 * the host's page tables.  The page is still mapped by the VMM (see the
 * top of the file), so it is alive; SetPageDirty() as KVM's
 * kvm_set_pfn_dirty() in Linux 6.1.
 */
static void mvm_leaf_gone(u64 pte)
{
	if (mvm_leaf_writable(pte))
		SetPageDirty(mvm_pte_page(pte));
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

static const struct mmu_notifier_ops mvm_mmu_notifier_ops;

int mvm_mmu_init(struct mvm *mvm)
{
	struct mvm_mmu *mmu = &mvm->arch.mmu;
	unsigned int gpa_bits;
	int r;

	mmu->levels = mvm_x86_ops->npt_host_depth && pgtable_l5_enabled() ? 5 : 4;
	if (WARN_ON_ONCE(mmu->levels < 4 || mmu->levels > MVM_MMU_MAX_LEVELS))
		return -EIO;
	gpa_bits = min_t(unsigned int, mvm_host_phys_bits(),
			 PAGE_SHIFT + 9 * mmu->levels);
	mmu->max_gfn = (1ULL << (gpa_bits - PAGE_SHIFT)) - 1;
	/*
	 * The one place that decides which leaf sizes this VM's tables use:
	 * the vendor's capabilities (vmx.c, svm.c), capped at what mmu.c
	 * builds.
	 */
	mmu->max_leaf_level = clamp(mvm_x86_ops->npt_max_leaf_level(), 1,
				    MVM_MAX_LEAF_LEVEL);

	mmu->root = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!mmu->root)
		return -ENOMEM;
	mmu->root_hpa = __pa(mmu->root);

	/* The creator's mm (mvm->mm == current->mm here). */
	mmu->notifier.ops = &mvm_mmu_notifier_ops;
	r = mmu_notifier_register(&mmu->notifier, mvm->mm);
	if (r) {
		free_page((unsigned long)mmu->root);
		mmu->root = NULL;
		mmu->root_hpa = 0;
		return r;
	}
	mmu->notifier_registered = true;
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
 * mmu_lock held.  Return the entry at @target (1, 2 or 3) for @gfn,
 * building the path; or, if a larger leaf already maps @gfn, that leaf's
 * entry.
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
 * mmu_lock held.  The leaf mapping @gfn, or NULL; *@level is its level.
 */
static u64 *mvm_mmu_find_leaf(struct mvm *mvm, gfn_t gfn, int *level)
{
	struct mvm_mmu *mmu = &mvm->arch.mmu;
	u64 *table = mmu->root;
	int l;

	lockdep_assert_held(&mvm->mmu_lock);

	for (l = mmu->levels; l >= 1; l--) {
		u64 *pte = &table[mvm_pt_index(gfn, l)];

		if (!mvm_pte_present(*pte))
			return NULL;
		if (mvm_pte_is_leaf(*pte, l)) {
			*level = l;
			return pte;
		}
		table = mvm_pte_table(*pte);
	}
	return NULL;
}

/*
 * mmu_lock held.  Whether a fault that sampled invalidate_seq as @seq
 * before looking up the page at [@hva, @hva + @len) must not map it: an
 * invalidation that may cover it is in progress, or one ended since.
 */
static bool mvm_mmu_invalidate_retry(struct mvm *mvm, unsigned long seq,
				     unsigned long hva, unsigned long len)
{
	struct mvm_mmu *mmu = &mvm->arch.mmu;

	lockdep_assert_held(&mvm->mmu_lock);

	if (unlikely(mmu->invalidate_in_progress) &&
	    hva < mmu->invalidate_end && hva + len > mmu->invalidate_start)
		return true;
	return mmu->invalidate_seq != seq;
}

/* Flush every vCPU's guest TLB; see mvm_mmu_invalidate_range_start(). */
static void mvm_mmu_flush_all(struct mvm *mvm)
{
	mvm_make_all_vcpus_request(mvm, MVM_REQ_TLB_FLUSH);
}

/*
 * The level at which the VMM's page table maps @hva, writable: 3 for a
 * 1 GiB leaf (PUD), 2 for a 2 MiB leaf (PMD), else 1.  One entry tells it
 * for the whole range, where looking up each 4 KiB page would cost 512
 * (or 262144) lookups.  A lockless walk with interrupts off, as the fast
 * GUP walks and KVM's host_pfn_mapping_level(): on x86 a page table page
 * is freed only after an IPI or an RCU grace period, which interrupts off
 * hold back.  What it reads may be stale by the time the leaf goes in;
 * any change of the mapping comes with an invalidation, which the caller's
 * sequence check catches.
 */
static int mvm_host_mapping_level(struct mm_struct *mm, unsigned long hva)
{
	unsigned long flags;
	int level = 1;
	pgd_t pgd;
	p4d_t p4d;
	pud_t pud;
	pmd_t pmd;

	local_irq_save(flags);
	pgd = READ_ONCE(*pgd_offset(mm, hva));
	if (pgd_none(pgd))
		goto out;
	p4d = READ_ONCE(*p4d_offset(&pgd, hva));
	if (p4d_none(p4d) || !p4d_present(p4d))
		goto out;
	pud = READ_ONCE(*pud_offset(&p4d, hva));
	if (pud_none(pud) || !pud_present(pud))
		goto out;
	if (pud_leaf(pud)) {
		if (pud_write(pud))
			level = 3;
		goto out;
	}
	pmd = READ_ONCE(*pmd_offset(&pud, hva));
	if (!pmd_none(pmd) && pmd_present(pmd) && pmd_leaf(pmd) &&
	    pmd_write(pmd))
		level = 2;
out:
	local_irq_restore(flags);
	return level;
}

/*
 * Map the 2 MiB (@level 2) or 1 GiB (@level 3) around @gfn with one leaf,
 * if one huge page backs it: @page (looked up writable for @gfn) must be
 * part of a folio that holds the whole aligned range, at the same offset
 * (a 2 MiB or 1 GiB hugetlbfs page, or a THP, for a 2 MiB leaf; only a
 * 1 GiB hugetlbfs page is that large for a 1 GiB leaf); the slot must
 * cover the range, and the host address must have the same offset in
 * the leaf's size as the guest-physical one.  The VMM's page table must
 * map the range with one writable leaf of at least that size (so all of
 * it writable, to that folio); the notifier's sequence check covers the
 * whole range.  Returns 1 when mapped (or found mapped), 0 to fall back
 * to smaller leaves, -EAGAIN when an invalidation raced.
 */
static int mvm_mmu_map_large(struct mvm_vcpu *vcpu,
			     struct mvm_memory_slot *slot, gfn_t gfn,
			     struct page *page, unsigned long seq, int level)
{
	struct mvm *mvm = vcpu->mvm;
	unsigned long nr = mvm_leaf_pages(level);
	gfn_t base = ALIGN_DOWN(gfn, nr);
	unsigned long hva = mvm_gfn_to_hva(slot, base);
	unsigned long pfn = page_to_pfn(page) - (gfn - base);
	struct folio *folio = page_folio(page);
	u64 *ptep, pte;
	int r = 0;

	if (level > mvm->arch.mmu.max_leaf_level ||
	    base < slot->base_gfn ||
	    base + nr > slot->base_gfn + slot->npages ||
	    !IS_ALIGNED(hva, nr << PAGE_SHIFT) ||
	    !IS_ALIGNED(pfn, nr) || pfn < folio_pfn(folio) ||
	    pfn + nr > folio_pfn(folio) + folio_nr_pages(folio))
		return 0;

	/* The host may have split a THP, or remapped part, since. */
	if (mvm_host_mapping_level(mvm->mm, hva) < level)
		return 0;

	pte = PFN_PHYS(pfn) | mvm_x86_ops->npt_leaf_ro_bits |
	      mvm_x86_ops->npt_leaf_writable_bit | MVM_PTE_LARGE;
	spin_lock(&mvm->mmu_lock);
	if (mvm_mmu_invalidate_retry(mvm, seq, hva, nr << PAGE_SHIFT)) {
		r = -EAGAIN;
		goto out_unlock;
	}
	ptep = mvm_mmu_walk_alloc(vcpu, base, level);
	if (ptep && !mvm_pte_present(*ptep)) {
		WRITE_ONCE(*ptep, pte);
		mvm->arch.mmu.nr_mapped += nr;
		(*mvm_stat_leaves(mvm, level))++;
		trace_mvm_map_leaf(vcpu->mvm, base, level, true);
		r = 1;
	} else if (ptep && (*ptep & MVM_PTE_LARGE)) {
		r = 1;		/* another vCPU was first, or a larger leaf */
	}
	/* else: smaller leaves are already below; keep adding those. */
out_unlock:
	spin_unlock(&mvm->mmu_lock);
	return r;
}

/*
 * Look up the page behind @hva as KVM's hva_to_pfn() does: a write fault
 * needs it writable (which breaks copy-on-write); a read fault takes it
 * writable only if the VMM's page table already maps it so (fast lookup),
 * else read-only, so that reading guest memory does not copy KSM-merged,
 * shared-after-fork or zero pages.  A reference, dropped after mapping.
 */
static int mvm_mmu_get_page(unsigned long hva, bool write, bool may_write,
			    struct page **page, bool *writable)
{
	int n;

	*writable = false;
	if (write) {
		n = get_user_pages_fast(hva, 1, FOLL_WRITE, page);
		*writable = n == 1;
	} else {
		if (may_write && get_user_page_fast_only(hva, FOLL_WRITE, page)) {
			*writable = true;
			return 0;
		}
		n = get_user_pages_fast(hva, 1, 0, page);
	}
	if (n == 1)
		return 0;
	return n == -EINTR || n == -ERESTARTSYS ? -EINTR : -EFAULT;
}

/*
 * Map the page behind @gfn: writable if the VMA allows it and the slot is
 * neither read-only nor logging dirty pages on a read, so that a read
 * fault need not be followed by a write fault; read-only otherwise, in
 * which case a guest write that the VMA refuses is -EFAULT from KVM_RUN,
 * as with KVM.  Returns 0 also when an invalidation raced (nothing mapped;
 * the guest faults again).
 */
int mvm_mmu_map_gfn(struct mvm_vcpu *vcpu, struct mvm_memory_slot *slot,
		    gfn_t gfn, bool write)
{
	struct mvm *mvm = vcpu->mvm;
	struct mvm_mmu *mmu = &mvm->arch.mmu;
	unsigned long hva = mvm_gfn_to_hva(slot, gfn);
	bool logging = slot->dirty_bitmap;
	bool may_write = !(slot->flags & KVM_MEM_READONLY) && !logging;
	bool writable, flush_all = false;
	unsigned long seq;
	struct page *page;
	u64 *ptep, pte;
	int r;

	r = mvm_mmu_topup_cache(vcpu);
	if (r)
		return r;

	seq = READ_ONCE(mmu->invalidate_seq);
	/*
	 * The sequence before the VMM's page tables that the lookup reads
	 * (KVM's mmu_invalidate_seq does the same); the check under mmu_lock
	 * then catches any invalidation that ended after this point.
	 */
	smp_rmb();

	r = mvm_mmu_get_page(hva, write, may_write, &page, &writable);
	if (r)
		return r;

	if (writable && !logging && PageCompound(page)) {
		int level;

		/* The largest leaf the backing, the slot and the CPU allow. */
		for (level = mmu->max_leaf_level; level >= 2; level--) {
			r = mvm_mmu_map_large(vcpu, slot, gfn, page, seq, level);
			if (r) {
				put_page(page);
				return 0;	/* mapped, or retry after a race */
			}
		}
	}

	pte = page_to_phys(page) | mvm_x86_ops->npt_leaf_ro_bits;
	if (writable)
		pte |= mvm_x86_ops->npt_leaf_writable_bit;

	spin_lock(&mvm->mmu_lock);
	if (mvm_mmu_invalidate_retry(mvm, seq, hva, PAGE_SIZE))
		goto out_unlock;
	ptep = mvm_mmu_walk_alloc(vcpu, gfn, 1);
	if (!ptep) {
		r = -ENOMEM;
		goto out_unlock;
	}
	if (*ptep & MVM_PTE_LARGE) {
		/* A large leaf (writable) maps it: a stale TLB entry. */
		mvm_x86_ops->flush_tlb(vcpu);
		goto out_unlock;
	}
	if (mvm_pte_present(*ptep) &&
	    (mvm_leaf_writable(*ptep) || !writable)) {
		/*
		 * Mapped as well as we can (another vCPU was first), or a TLB
		 * entry older than an upgrade: flush this vCPU's before entry.
		 */
		mvm_x86_ops->flush_tlb(vcpu);
		goto out_unlock;
	}
	if (logging && writable)
		set_bit_le(gfn - slot->base_gfn, slot->dirty_bitmap);
	if (mvm_pte_present(*ptep)) {
		/*
		 * A read-only leaf becomes writable.  Same page: the stale
		 * read-only TLB entries can only fault again (then flushed
		 * above).  Another page cannot happen with the sequence check
		 * passed, but if it did, the old page must leave every TLB.
		 */
		if (mvm_pte_page(*ptep) != page)
			flush_all = true;
		mvm_leaf_gone(*ptep);
		mvm_x86_ops->flush_tlb(vcpu);
	} else {
		mmu->nr_mapped++;
		mvm->stat.pages_4k++;
	}
	WRITE_ONCE(*ptep, pte);
	trace_mvm_map_leaf(mvm, gfn, 1, writable);
out_unlock:
	spin_unlock(&mvm->mmu_lock);
	if (flush_all)
		mvm_mmu_flush_all(mvm);
	put_page(page);
	return r;
}

/* A resumable walk of [start, end): zap, age or write-protect leaves. */
struct mvm_zap {
	gfn_t start;			/* cursor: nothing below it is left */
	gfn_t end;
	unsigned long nr;		/* leaves changed in this batch */
	unsigned long max;		/* leaves per batch; 0: no limit */
	bool flush;			/* a leaf went or lost a permission */
	/*
	 * Zapping only: detach the tables inside [first, end) left empty,
	 * onto this list (NULL: keep them), to be freed after the flush.
	 */
	struct list_head *freed;
	gfn_t first;
};

/* Whether @table maps nothing. */
static bool mvm_mmu_table_empty(const u64 *table)
{
	unsigned int i;

	for (i = 0; i < MVM_PT_ENTRIES; i++)
		if (mvm_pte_present(table[i]))
			return false;
	return true;
}

/*
 * mmu_lock held.  Clear the leaves of [@zap->start, @zap->end) below
 * @table (at @level, covering gfns from @base).  Only present entries are
 * followed, so the cost is bounded by the tables, not by the size of the
 * range.  Return true, with the cursor at the first leaf not cleared, when
 * the batch is full.
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
			u64 *child = mvm_pte_table(pte);

			if (mvm_mmu_zap_table(mvm, child, level - 1, lo, zap))
				return true;
			/*
			 * A table of the range that maps nothing now goes
			 * (unless a vCPU mapped a page behind the cursor):
			 * else a larger leaf could never go there again,
			 * e.g. after dirty logging stops.
			 */
			if (zap->freed && lo >= zap->first &&
			    lo + span <= zap->end && mvm_mmu_table_empty(child)) {
				WRITE_ONCE(table[i], 0);
				list_add(&virt_to_page(child)->lru, zap->freed);
				zap->flush = true;
			}
			continue;
		}
		/* A large leaf overlapping the range goes whole. */
		if (zap->max && zap->nr == zap->max) {
			zap->start = max(lo, zap->start);
			return true;
		}
		WRITE_ONCE(table[i], 0);
		mvm_leaf_gone(pte);
		mvm_stat_leaf_zapped(mvm, level);
		mvm->arch.mmu.nr_mapped -= mvm_leaf_pages(level);
		zap->nr++;
		zap->flush = true;
	}
	return false;
}

/*
 * Unmap [@start, @end).  With @can_sleep, drop mmu_lock and reschedule
 * every MVM_ZAP_BATCH leaves (the cursor only moves up: leaves a vCPU
 * maps behind it are valid, the caller saw to that).  With @freed, also
 * detach the tables of the range left empty onto that list.  Returns
 * whether a leaf or a table went; the caller flushes the vCPUs' TLBs
 * before the pages (or the tables) may go.
 */
static bool mvm_mmu_zap_range(struct mvm *mvm, gfn_t start, gfn_t end,
			      bool can_sleep, struct list_head *freed)
{
	struct mvm_mmu *mmu = &mvm->arch.mmu;
	struct mvm_zap zap = {
		.start = start, .end = end,
		.max = can_sleep ? MVM_ZAP_BATCH : 0,
		.freed = freed, .first = start,
	};
	bool more;

	do {
		zap.nr = 0;
		spin_lock(&mvm->mmu_lock);
		/* Empty tables are worth a walk only to detach them. */
		more = (mmu->nr_mapped || freed) &&
		       mvm_mmu_zap_table(mvm, mmu->root, mmu->levels, 0, &zap);
		spin_unlock(&mvm->mmu_lock);
		if (more)
			cond_resched();
	} while (more);
	return zap.flush;
}

/* The tables a zap detached, once every vCPU has flushed. */
static void mvm_mmu_free_tables(struct list_head *freed)
{
	struct page *page, *next;

	list_for_each_entry_safe(page, next, freed, lru) {
		list_del(&page->lru);
		__free_page(page);
	}
}

/*
 * Unmap [@start, @end) and flush every vCPU's TLB: a memslot was deleted
 * or moved, or its dirty logging changed.  Caller may sleep.  A fatal
 * signal does not cut the zap short: leaves left behind would keep a
 * deleted slot's pages mapped.  The range's tables go too, so that the
 * next faults may map large leaves where small ones were (the 4 KiB
 * leaves of a logging slot, when logging stops); they are freed only
 * after the flush, since a vCPU's paging-structure caches may still
 * point to them until then (SDM vol. 3C 29.4, APM vol. 2 15.16).
 */
void mvm_mmu_zap_gfn_range(struct mvm *mvm, gfn_t start, gfn_t end)
{
	LIST_HEAD(freed);

	might_sleep();
	if (mvm_mmu_zap_range(mvm, start, end, true, &freed))
		mvm_mmu_flush_all(mvm);
	mvm_mmu_free_tables(&freed);
}

/*
 * mmu_lock held.  Write-protect the 4 KiB leaves of the gfns @base + i
 * for the bits i set in @mask (a dirty-log word).  Returns whether one
 * lost its write permission (the caller flushes).
 */
bool mvm_mmu_write_protect_mask(struct mvm *mvm, gfn_t base,
				unsigned long mask)
{
	u64 wbit = mvm_x86_ops->npt_leaf_writable_bit;
	bool flush = false;

	lockdep_assert_held(&mvm->mmu_lock);

	while (mask) {
		gfn_t gfn = base + __ffs(mask);
		int level;
		u64 *ptep = mvm_mmu_find_leaf(mvm, gfn, &level);

		mask &= mask - 1;
		if (!ptep || !(*ptep & wbit))
			continue;
		/* Logged slots have no large leaves (memslot.c zaps them). */
		if (WARN_ON_ONCE(level != 1))
			continue;
		SetPageDirty(mvm_pte_page(*ptep));
		WRITE_ONCE(*ptep, *ptep & ~wbit);
		flush = true;
	}
	return flush;
}

/* The gfn range of @slot that [@start, @end) of its hva range covers. */
static bool mvm_slot_hva_to_gfns(const struct mvm_memory_slot *slot,
				 unsigned long start, unsigned long end,
				 gfn_t *gfn_start, gfn_t *gfn_end)
{
	unsigned long s_start = slot->userspace_addr;
	unsigned long s_end = s_start + (slot->npages << PAGE_SHIFT);

	start = max(start, s_start);
	end = min(end, s_end);
	if (start >= end)
		return false;
	*gfn_start = slot->base_gfn + ((start - s_start) >> PAGE_SHIFT);
	*gfn_end = slot->base_gfn +
		   ((end - s_start + PAGE_SIZE - 1) >> PAGE_SHIFT);
	return true;
}

static struct mvm *mvm_from_notifier(struct mmu_notifier *mn)
{
	return container_of(mn, struct mvm, arch.mmu.notifier);
}

/*
 * The VMM's page table entries for [range->start, range->end) are about
 * to change (unmap, COW, swap-out, migration, KSM merge, mprotect,
 * MADV_DONTNEED, ...).  Zap the leaves that map any of it, and flush
 * every vCPU before returning, since the host frees or reuses the pages
 * as soon as its own TLB flush is done.
 *
 * Why returning after mvm_make_all_vcpus_request() is enough: it sets
 * MVM_REQ_TLB_FLUSH in every vCPU and then reads each vCPU's mode; a vCPU
 * publishes IN_GUEST_MODE with a full barrier before it reads its
 * requests with interrupts off (mvm_vcpu_enter_guest()).  So a vCPU
 * either sees the request and flushes (the vendor flushes the VM's ASID
 * or EPT context at that entry) or is seen in guest mode, and is sent an
 * IPI that we wait for: it runs only once that CPU has left the guest and
 * enabled interrupts, and the next entry sees the request.  A vCPU that
 * is outside the guest has no way to use the TLB before its next entry.
 * TLB entries left on a CPU the vCPU ran on before are flushed when it is
 * loaded there again (a new ASID on AMD-V, an EPT-context flush on VT-x).
 * Faults that looked the page up before we raised invalidate_in_progress
 * either mapped it before we took mmu_lock (we zap it) or find the count
 * raised or the sequence changed under mmu_lock and map nothing.
 */
static int mvm_mmu_invalidate_range_start(struct mmu_notifier *mn,
					  const struct mmu_notifier_range *range)
{
	struct mvm *mvm = mvm_from_notifier(mn);
	struct mvm_mmu *mmu = &mvm->arch.mmu;
	bool blockable = mmu_notifier_range_blockable(range);
	struct mvm_memslots *slots;
	bool flush = false;
	LIST_HEAD(freed);
	gfn_t gs, ge;
	int i, idx;

	idx = srcu_read_lock(&mvm->srcu);
	slots = srcu_dereference(mvm->memslots, &mvm->srcu);

	/*
	 * The OOM reaper cannot wait: refuse ranges that back guest memory
	 * (it then leaves them to the victim's exit, where release() runs).
	 */
	if (!blockable) {
		for (i = 0; i < slots->nr; i++) {
			if (mvm_slot_hva_to_gfns(&slots->slots[i], range->start,
						 range->end, &gs, &ge)) {
				srcu_read_unlock(&mvm->srcu, idx);
				return -EAGAIN;
			}
		}
	}

	spin_lock(&mvm->mmu_lock);
	if (!mmu->invalidate_in_progress++) {
		mmu->invalidate_start = range->start;
		mmu->invalidate_end = range->end;
	} else {
		mmu->invalidate_start = min(mmu->invalidate_start, range->start);
		mmu->invalidate_end = max(mmu->invalidate_end, range->end);
	}
	spin_unlock(&mvm->mmu_lock);

	/*
	 * The tables the zap leaves empty go too (after the flush): when the
	 * host collapses 4 KiB pages into a huge page (khugepaged,
	 * MADV_COLLAPSE), it invalidates the whole range, and the next fault
	 * may then map one large leaf where the small ones were, as KVM's
	 * does.
	 */
	for (i = 0; i < slots->nr; i++)
		if (mvm_slot_hva_to_gfns(&slots->slots[i], range->start,
					 range->end, &gs, &ge))
			flush |= mvm_mmu_zap_range(mvm, gs, ge, true, &freed);
	if (flush)
		mvm_mmu_flush_all(mvm);
	srcu_read_unlock(&mvm->srcu, idx);
	mvm_mmu_free_tables(&freed);
	return 0;
}

static void mvm_mmu_invalidate_range_end(struct mmu_notifier *mn,
					 const struct mmu_notifier_range *range)
{
	struct mvm *mvm = mvm_from_notifier(mn);
	struct mvm_mmu *mmu = &mvm->arch.mmu;

	/*
	 * The new sequence is visible to any fault that takes mmu_lock after
	 * the count drops: it cannot map a page it looked up before.
	 */
	spin_lock(&mvm->mmu_lock);
	mmu->invalidate_seq++;
	WARN_ON_ONCE(mmu->invalidate_in_progress <= 0);
	mmu->invalidate_in_progress--;
	spin_unlock(&mvm->mmu_lock);
}

/*
 * mmu_lock held.  Age the leaves of [@zap->start, @zap->end): clear the
 * accessed bits (NPT) or, without them (EPT), zap.  @clear false: only
 * test.  Returns whether any leaf was young.
 */
static bool mvm_mmu_age_table(struct mvm *mvm, u64 *table, int level,
			      gfn_t base, struct mvm_zap *zap, bool clear)
{
	gfn_t span = 1ULL << (9 * (level - 1));
	u64 abit = mvm_leaf_accessed_bit();
	unsigned int i = 0;
	bool young = false;

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
			young |= mvm_mmu_age_table(mvm, mvm_pte_table(pte),
						   level - 1, lo, zap, clear);
			continue;
		}
		if (abit) {
			if (!(pte & abit))
				continue;
			young = true;
			if (clear) {
				WRITE_ONCE(table[i], pte & ~abit);
				zap->flush = true;
			}
		} else {
			young = true;
			if (clear) {
				WRITE_ONCE(table[i], 0);
				mvm_leaf_gone(pte);
				mvm_stat_leaf_zapped(mvm, level);
				mvm->arch.mmu.nr_mapped -= mvm_leaf_pages(level);
				zap->flush = true;
			}
		}
	}
	return young;
}

/*
 * Aging, from the host's reclaim (with page table locks held: nothing
 * here sleeps).  A cleared accessed bit needs no flush to be correct, but
 * without one the hardware may not set it again (clear_young's contract);
 * a zapped leaf always needs one, since the page may go next.
 */
static int mvm_mmu_age_hva(struct mvm *mvm, unsigned long start,
			   unsigned long end, bool clear, bool flush_abit)
{
	struct mvm_memslots *slots;
	struct mvm_zap zap = { };
	bool young = false;
	int i, idx;

	idx = srcu_read_lock(&mvm->srcu);
	slots = srcu_dereference(mvm->memslots, &mvm->srcu);
	spin_lock(&mvm->mmu_lock);
	for (i = 0; i < slots->nr; i++) {
		if (!mvm_slot_hva_to_gfns(&slots->slots[i], start, end,
					  &zap.start, &zap.end))
			continue;
		young |= mvm_mmu_age_table(mvm, mvm->arch.mmu.root,
					   mvm->arch.mmu.levels, 0, &zap,
					   clear);
	}
	spin_unlock(&mvm->mmu_lock);
	if (zap.flush && (flush_abit || !mvm_leaf_accessed_bit()))
		mvm_mmu_flush_all(mvm);
	srcu_read_unlock(&mvm->srcu, idx);
	return young;
}

static int mvm_mmu_clear_flush_young(struct mmu_notifier *mn,
				     struct mm_struct *mm,
				     unsigned long start, unsigned long end)
{
	return mvm_mmu_age_hva(mvm_from_notifier(mn), start, end, true, true);
}

static int mvm_mmu_clear_young(struct mmu_notifier *mn, struct mm_struct *mm,
			       unsigned long start, unsigned long end)
{
	return mvm_mmu_age_hva(mvm_from_notifier(mn), start, end, true, false);
}

static int mvm_mmu_test_young(struct mmu_notifier *mn, struct mm_struct *mm,
			      unsigned long address)
{
	return mvm_mmu_age_hva(mvm_from_notifier(mn), address,
			       address + PAGE_SIZE, false, false);
}

/*
 * The mm is going (exit_mmap(), or unregistering): no page may stay
 * mapped.  The vCPUs still exist (mvm_mmu_notifier_unregister() runs
 * before they are freed).
 */
static void mvm_mmu_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct mvm *mvm = mvm_from_notifier(mn);

	if (mvm_mmu_zap_range(mvm, 0, mvm->arch.mmu.max_gfn + 1, true, NULL))
		mvm_mmu_flush_all(mvm);
}

static const struct mmu_notifier_ops mvm_mmu_notifier_ops = {
	.invalidate_range_start	= mvm_mmu_invalidate_range_start,
	.invalidate_range_end	= mvm_mmu_invalidate_range_end,
	.clear_flush_young	= mvm_mmu_clear_flush_young,
	.clear_young		= mvm_mmu_clear_young,
	.test_young		= mvm_mmu_test_young,
	.release		= mvm_mmu_release,
};

/*
 * VM destruction, before the vCPUs are freed (the callbacks flush them):
 * after this no callback runs, and release() has zapped every leaf.
 */
void mvm_mmu_notifier_unregister(struct mvm *mvm)
{
	struct mvm_mmu *mmu = &mvm->arch.mmu;

	if (!mmu->notifier_registered)
		return;
	mmu_notifier_unregister(&mmu->notifier, mvm->mm);
	mmu->notifier_registered = false;
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
			/* Nothing may be left mapped: release() zapped all. */
			WARN_ON_ONCE(1);
			mvm->arch.mmu.nr_mapped -= mvm_leaf_pages(level);
		}
	}
	free_page((unsigned long)table);
	if (level == 1)
		cond_resched();
}

/*
 * The VM is dead: no vCPU runs, nothing can map, and the notifier is gone
 * (its release() zapped every leaf).  Free the tables.  Process context.
 */
void mvm_mmu_destroy(struct mvm *mvm)
{
	struct mvm_mmu *mmu = &mvm->arch.mmu;

	might_sleep();
	if (!mmu->root)
		return;
	mvm_mmu_notifier_unregister(mvm);
	mvm_mmu_free_table(mvm, mmu->root, mmu->levels);
	WARN_ON_ONCE(mmu->nr_mapped);
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
		if (r == -EINTR) {
			vcpu->run->exit_reason = KVM_EXIT_INTR;
			return r;
		}
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
