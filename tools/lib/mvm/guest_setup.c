// SPDX-License-Identifier: GPL-2.0
/*
 * Guest set-up shared by the selftests, the example VMM and the benchmark
 * (guest_setup.h).
 */
#include <string.h>
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

#define CPUID_EXT_MAX		0x80000000u
#define CPUID_EXT_FEATURES	0x80000001u
#define CPUID_EDX_LM		(1u << 29)
#define MAX_CPUID_ENTRIES	256
#define CPUID_SLOT_UNUSED	0xffffffffu

/*
 * A VMM sets a vCPU's CPUID before its registers, and KVM of newer kernels
 * depends on it: Debian's 6.12 refuses KVM_SET_SREGS with EFER.LME (EINVAL)
 * unless the vCPU's CPUID has long mode (leaf 0x80000001 EDX.LM), where 6.1
 * did not look.  A vCPU whose table lacks the bit gets it added, with leaf
 * 0x80000000 to reach that leaf; every other entry stays as it was (none,
 * for most tests).
 */
static int mvm_guest_cpuid_add_lm(int vcpu_fd)
{
	static struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[MAX_CPUID_ENTRIES];
	} cpuid;
	struct kvm_cpuid_entry2 *max = NULL, *ext = NULL;
	uint32_t i;

	/*
	 * KVM of 6.1 reports the number of entries neither when
	 * KVM_GET_CPUID2 succeeds (nent stays as given) nor with E2BIG (not
	 * copied back): mark every slot, and the first still marked after
	 * the call ends the vCPU's table.  Real entries have zero padding.
	 */
	memset(&cpuid, 0, sizeof(cpuid));
	cpuid.c.nent = MAX_CPUID_ENTRIES;
	for (i = 0; i < MAX_CPUID_ENTRIES; i++)
		cpuid.e[i].padding[0] = CPUID_SLOT_UNUSED;
	if (ioctl(vcpu_fd, KVM_GET_CPUID2, &cpuid) < 0)
		return -1;
	for (i = 0; i < cpuid.c.nent; i++)
		if (cpuid.e[i].padding[0] == CPUID_SLOT_UNUSED)
			break;
	cpuid.c.nent = i;
	if (cpuid.c.nent > MAX_CPUID_ENTRIES - 2)
		return -1;
	for (i = 0; i < cpuid.c.nent; i++)
		cpuid.e[i].padding[0] = 0;
	for (i = 0; i < cpuid.c.nent; i++) {
		if (cpuid.e[i].function == CPUID_EXT_MAX)
			max = &cpuid.e[i];
		if (cpuid.e[i].function == CPUID_EXT_FEATURES)
			ext = &cpuid.e[i];
	}
	if (ext && (ext->edx & CPUID_EDX_LM))
		return 0;
	if (!max) {
		max = &cpuid.e[cpuid.c.nent++];
		max->function = CPUID_EXT_MAX;
	}
	if (max->eax < CPUID_EXT_FEATURES)
		max->eax = CPUID_EXT_FEATURES;
	if (!ext) {
		ext = &cpuid.e[cpuid.c.nent++];
		ext->function = CPUID_EXT_FEATURES;
	}
	ext->edx |= CPUID_EDX_LM;
	return ioctl(vcpu_fd, KVM_SET_CPUID2, &cpuid) < 0 ? -1 : 0;
}

int mvm_guest_set_long_mode(int vcpu_fd, uint8_t *mem)
{
	struct kvm_sregs sregs;

	mvm_guest_write_tables(mem);
	if (mvm_guest_cpuid_add_lm(vcpu_fd))
		return -1;
	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return -1;
	mvm_guest_flat_sregs(&sregs, true);
	sregs.cr3 = MVM_GUEST_PML4;
	sregs.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	sregs.cr0 = CR0_PG | CR0_NE | CR0_ET | CR0_MP | CR0_PE;
	sregs.efer = EFER_LME | EFER_LMA;
	return ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0 ? -1 : 0;
}
