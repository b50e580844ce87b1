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
 * section 15.25), so svm.c sets npt_levels from pgtable_l5_enabled(); EPT's
 * depth is ours to set in the EPTP and vmx.c keeps 4.  A VM's tables map
 * gfns up to mmu.max_gfn, the smaller of what the levels index and the
 * host's MAXPHYADDR; memslot.c refuses slots beyond it (-EINVAL, as
 * kvm_arch_prepare_memory_region() does), so mvm_pt_index() never sees a
 * gfn with bits above the root level's.
 *
 * Mappings are built lazily: a nested page fault inside a memslot pins the
 * host page behind the slot's userspace address and installs a 4 KiB leaf.
 * Every leaf owns exactly one pin, so zapping a leaf is the one place where
 * a page is unpinned; slot deletion, VM destruction and (later) an MMU
 * notifier's invalidate all go through mvm_mmu_zap_gfn_range().  Dirty
 * logging would clear the writable bit in the same walk; 2 MiB leaves
 * would stop the walk one level higher.
 *
 * Locking: mvm->mmu_lock (a spinlock) protects the tables and their
 * counters.  Pinning may sleep, so it happens before the lock is taken,
 * and table pages come from a per-vCPU cache filled beforehand.
 */
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/io.h>
#include <linux/slab.h>
#include "x86.h"

#define MVM_PT_ENTRIES		512
#define MVM_PTE_ADDR_MASK	GENMASK_ULL(51, 12)

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

	mmu->levels = mvm_x86_ops->npt_levels;
	if (WARN_ON_ONCE(mmu->levels < 4 || mmu->levels > MVM_MMU_MAX_LEVELS))
		return -EIO;
	gpa_bits = min_t(unsigned int, mvm_host_phys_bits(),
			 PAGE_SHIFT + 9 * mmu->levels);
	mmu->max_gfn = (1ULL << (gpa_bits - PAGE_SHIFT)) - 1;

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

/* mmu_lock held.  Return the level-1 entry for @gfn, building the path. */
static u64 *mvm_mmu_walk_alloc(struct mvm_vcpu *vcpu, gfn_t gfn)
{
	struct mvm_mmu *mmu = &vcpu->mvm->arch.mmu;
	u64 *table = mmu->root;
	int level;

	for (level = mmu->levels; level > 1; level--) {
		u64 *pte = &table[mvm_pt_index(gfn, level)];

		if (!mvm_pte_present(*pte)) {
			void *page;

			if (WARN_ON_ONCE(!vcpu->arch.mmu_page_cache_nr))
				return NULL;
			page = vcpu->arch.mmu_page_cache[--vcpu->arch.mmu_page_cache_nr];
			mmu->nr_tables++;
			WRITE_ONCE(*pte, __pa(page) | mvm_x86_ops->npt_table_bits);
		}
		table = mvm_pte_table(*pte);
	}
	return &table[mvm_pt_index(gfn, 1)];
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

	n = -EFAULT;
	if (writable)
		n = pin_user_pages_fast(hva, 1, FOLL_WRITE | FOLL_LONGTERM,
					&page);
	if (n != 1) {
		if (write)
			return n < 0 ? n : -EFAULT;
		writable = false;
		n = pin_user_pages_fast(hva, 1, FOLL_LONGTERM, &page);
		if (n != 1)
			return n < 0 ? n : -EFAULT;
	}

	pte = page_to_phys(page) | mvm_x86_ops->npt_leaf_ro_bits;
	if (writable)
		pte |= mvm_x86_ops->npt_leaf_writable_bit;

	spin_lock(&mvm->mmu_lock);
	ptep = mvm_mmu_walk_alloc(vcpu, gfn);
	if (!ptep) {
		r = -ENOMEM;
	} else if (!mvm_pte_present(*ptep)) {
		WRITE_ONCE(*ptep, pte);
		mvm->arch.mmu.nr_pinned++;
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

	if (old_page) {
		mvm_make_all_vcpus_request(mvm, MVM_REQ_TLB_FLUSH);
		unpin_user_page(old_page);
	}
	if (page)
		unpin_user_page(page);
	return r;
}

/*
 * Clear the leaves of [@start, @end) below @table (at @level, covering
 * gfns from @base) and collect their pages in @pages.
 */
static void mvm_mmu_zap_table(struct mvm *mvm, u64 *table, int level,
			      gfn_t base, gfn_t start, gfn_t end,
			      struct page **pages, unsigned long *nr)
{
	gfn_t span = 1ULL << (9 * (level - 1));
	unsigned int i;

	for (i = 0; i < MVM_PT_ENTRIES; i++) {
		gfn_t lo = base + i * span, hi = lo + span;
		u64 pte = table[i];

		if (hi <= start || lo >= end || !mvm_pte_present(pte))
			continue;
		if (level > 1) {
			mvm_mmu_zap_table(mvm, mvm_pte_table(pte), level - 1,
					  lo, start, end, pages, nr);
			continue;
		}
		WRITE_ONCE(table[i], 0);
		mvm->arch.mmu.nr_pinned--;
		pages[(*nr)++] = mvm_pte_page(pte);
	}
}

/*
 * Unmap [@start, @end) and drop the pins.  The pages are released only
 * after every vCPU has flushed its TLB, so the guest can never reach a page
 * the host has reused.  Caller may sleep.
 */
void mvm_mmu_zap_gfn_range(struct mvm *mvm, gfn_t start, gfn_t end)
{
	struct page **pages;
	unsigned long i, nr = 0, max;

	spin_lock(&mvm->mmu_lock);
	max = min_t(unsigned long, end - start, mvm->arch.mmu.nr_pinned);
	spin_unlock(&mvm->mmu_lock);
	if (!max)
		return;

	/*
	 * Leaves inside a deleted or moved slot's old range cannot appear
	 * once the new slot array is published (the fault path only maps
	 * inside slots), so @max bounds what this walk finds, except for
	 * leaves of a moved slot's new range overlapping the old one: those
	 * are counted in nr_pinned too, hence the re-check under the lock.
	 */
	pages = kvmalloc_array(max, sizeof(*pages), GFP_KERNEL_ACCOUNT);
	spin_lock(&mvm->mmu_lock);
	if (!pages || max < min_t(unsigned long, end - start,
				  mvm->arch.mmu.nr_pinned)) {
		/* No memory for the list, or it grew: zap in place, slowly. */
		spin_unlock(&mvm->mmu_lock);
		kvfree(pages);
		for (; start < end; start++) {
			struct page *page = NULL;

			spin_lock(&mvm->mmu_lock);
			mvm_mmu_zap_table(mvm, mvm->arch.mmu.root,
					  mvm->arch.mmu.levels, 0, start,
					  start + 1, &page, &nr);
			spin_unlock(&mvm->mmu_lock);
			if (page) {
				mvm_make_all_vcpus_request(mvm, MVM_REQ_TLB_FLUSH);
				unpin_user_page(page);
			}
			nr = 0;
			cond_resched();
		}
		return;
	}
	mvm_mmu_zap_table(mvm, mvm->arch.mmu.root, mvm->arch.mmu.levels, 0,
			  start, end, pages, &nr);
	spin_unlock(&mvm->mmu_lock);

	if (nr)
		mvm_make_all_vcpus_request(mvm, MVM_REQ_TLB_FLUSH);
	for (i = 0; i < nr; i++)
		unpin_user_page(pages[i]);
	kvfree(pages);
}

static void mvm_mmu_free_table(struct mvm *mvm, u64 *table, int level)
{
	unsigned int i;

	for (i = 0; i < MVM_PT_ENTRIES; i++) {
		u64 pte = table[i];

		if (!mvm_pte_present(pte))
			continue;
		if (level > 1) {
			mvm_mmu_free_table(mvm, mvm_pte_table(pte), level - 1);
		} else {
			unpin_user_page(mvm_pte_page(pte));
			mvm->arch.mmu.nr_pinned--;
		}
	}
	free_page((unsigned long)table);
}

/* The VM is dead: no vCPU runs, nothing can map.  Unpin and free all. */
void mvm_mmu_destroy(struct mvm *mvm)
{
	struct mvm_mmu *mmu = &mvm->arch.mmu;

	if (!mmu->root)
		return;
	mvm_mmu_free_table(mvm, mmu->root, mmu->levels);
	WARN_ON_ONCE(mmu->nr_pinned);
	mmu->root = NULL;
	mmu->root_hpa = 0;
}
