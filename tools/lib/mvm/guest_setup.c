// SPDX-License-Identifier: GPL-2.0
/*
 * Guest set-up shared by the selftests, the example VMM and the benchmark
 * (guest_setup.h).
 */
#include <sys/ioctl.h>
#include "guest_setup.h"

#define CR0_PE		(1UL << 0)
#define CR0_MP		(1UL << 1)
#define CR0_ET		(1UL << 4)
#define CR0_NE		(1UL << 5)
#define CR0_PG		(1UL << 31)
#define CR4_PAE		(1UL << 5)
#define CR4_OSFXSR	(1UL << 9)
#define CR4_OSXMMEXCPT	(1UL << 10)
#define EFER_LME	(1UL << 8)
#define EFER_LMA	(1UL << 10)

#define PTE_PRESENT	(1ULL << 0)
#define PTE_WRITABLE	(1ULL << 1)
#define PDE_LARGE	(1ULL << 7)

void mvm_guest_write_gdt(uint8_t *mem)
{
	uint64_t *gdt = (uint64_t *)(mem + MVM_GUEST_GDT);

	gdt[0] = 0;
	gdt[MVM_GUEST_CS64 / 8] = 0x00af9b000000ffffULL;	/* L, P, code */
	gdt[MVM_GUEST_DS / 8] = 0x00cf93000000ffffULL;		/* G, D/B, data */
	gdt[MVM_GUEST_CS32 / 8] = 0x00cf9b000000ffffULL;	/* G, D/B, code */
}

/*
 * 4-level paging, 2 MiB pages (SDM vol. 3 4.5): PML4, PDPT, 4 PDs.  Only
 * the entries in use are written: guest memory starts out zeroed.
 */
void mvm_guest_write_tables(uint8_t *mem)
{
	uint64_t *pml4 = (uint64_t *)(mem + MVM_GUEST_PML4);
	uint64_t *pdpt = pml4 + 512, *pd = pml4 + 1024;
	int i;

	mvm_guest_write_gdt(mem);
	pml4[0] = (MVM_GUEST_PML4 + 0x1000) | PTE_PRESENT | PTE_WRITABLE;
	for (i = 0; i < 4; i++)
		pdpt[i] = (MVM_GUEST_PML4 + 0x2000 + i * 0x1000) |
			  PTE_PRESENT | PTE_WRITABLE;
	for (i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | PTE_PRESENT | PTE_WRITABLE |
			PDE_LARGE;
}

void mvm_guest_flat_sregs(struct kvm_sregs *sregs, bool code64)
{
	struct kvm_segment seg = {
		.base = 0, .limit = 0xffffffff, .selector = MVM_GUEST_CS64,
		.type = 0xb, .present = 1, .s = 1, .l = code64, .db = !code64,
		.g = 1,
	};

	sregs->gdt.base = MVM_GUEST_GDT;
	sregs->gdt.limit = 4 * 8 - 1;
	sregs->idt.base = MVM_GUEST_IDT;
	sregs->idt.limit = 0;
	sregs->cs = seg;
	seg.selector = MVM_GUEST_DS;
	seg.type = 0x3;
	seg.l = 0;
	seg.db = 1;
	sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = seg;
}

int mvm_guest_set_long_mode(int vcpu_fd, uint8_t *mem)
{
	struct kvm_sregs sregs;

	mvm_guest_write_tables(mem);
	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return -1;
	mvm_guest_flat_sregs(&sregs, true);
	sregs.cr3 = MVM_GUEST_PML4;
	sregs.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	sregs.cr0 = CR0_PG | CR0_NE | CR0_ET | CR0_MP | CR0_PE;
	sregs.efer = EFER_LME | EFER_LMA;
	return ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0 ? -1 : 0;
}
