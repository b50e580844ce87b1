// SPDX-License-Identifier: GPL-2.0
/*
 * mvm AMD-V backend: one VMCB per vCPU, nested paging, VMRUN.
 *
 * References are to the AMD64 Architecture Programmer's Manual, vol. 2
 * ("APM"), chapter 15 "Secure Virtual Machine".
 *
 * State: the VMCB is ordinary memory, so the vCPU's RAX, RSP and RIP are
 * copied between vcpu->arch.regs[] and the VMCB around every VMRUN and
 * regs[] stays authoritative; everything else is read and written in the
 * VMCB directly.  The guest's FS/GS/TR/LDTR, KERNEL_GS_BASE, STAR family
 * and SYSENTER MSRs live in the VMCB too and are switched with
 * VMLOAD/VMSAVE around VMRUN (svm_entry.S).
 */
#define pr_fmt(fmt) "mvm: svm: " fmt

#include <linux/module.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <asm/irq_vectors.h>
#include <asm/svm.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include "x86.h"
#include "trace.h"

/* CPUID Fn8000_000A EDX (APM 15.4 / CPUID spec). */
#define SVM_FEATURE_NPT		BIT(0)
#define SVM_FEATURE_NRIPS	BIT(3)
#define SVM_FEATURE_FLUSHASID	BIT(6)

#define IOPM_SIZE		(3 * PAGE_SIZE)	/* APM 15.10.1: 12 KiB */
#define MSRPM_SIZE		(2 * PAGE_SIZE)	/* APM 15.11: 8 KiB */

struct vcpu_svm {
	struct mvm_vcpu vcpu;		/* first: the core allocates us */
	struct vmcb *vmcb;
	phys_addr_t vmcb_pa;
	u64 asid_generation;		/* of the CPU that gave our ASID */
	int asid_cpu;			/* CPU whose ASID space we use, -1 */
	bool tlb_flush_pending;
	u64 next_rip;			/* skip target, set per exit */
	/*
	 * CR4 as the guest sees it.  Reads and writes are intercepted: the
	 * VMCB's CR4 also carries the host's MCE bit (a machine check with
	 * CR4.MCE clear shuts the processor down), and PKE, OSXSAVE ... are
	 * checked against what the guest was offered (cr.c).
	 */
	unsigned long guest_cr4;

	/*
	 * NMI blocking, which an SVM guest's VMCB does not hold (no vNMI):
	 * set when an NMI is injected, cleared once the guest has executed
	 * the IRET that ends its handler (APM 15.20 "NMIs are blocked until
	 * the next IRET").  The IRET is intercepted (awaiting_iret at RIP
	 * nmi_iret_rip): blocking ends when RIP has moved past it.  While an
	 * NMI waits for that, the guest may be single-stepped (TF) over the
	 * instruction in the way: nmi_singlestep, with the guest's own TF/RF
	 * in nmi_singlestep_guest_rflags.  As KVM without vNMI.
	 */
	bool nmi_masked;
	bool awaiting_iret;
	unsigned long nmi_iret_rip;
	bool nmi_singlestep;
	unsigned long nmi_singlestep_guest_rflags;
};

/*
 * Per-CPU state.  ASIDs are handed out per CPU by generation, as KVM
 * does: a vCPU that arrives on a CPU, or whose generation is stale, takes
 * the next free ASID there; running out starts a new generation with a
 * full TLB flush.  A vCPU moving between CPUs thus never meets stale
 * translations of its own.
 */
struct svm_cpu_data {
	struct page *hsave;		/* VM_HSAVE_PA area (APM 15.30.4) */
	struct page *host_vmsave;	/* host FS/GS/TR/... across VMRUN */
	u64 asid_generation;
	u32 next_asid;
	u32 max_asid;
};

static DEFINE_PER_CPU(struct svm_cpu_data, svm_cpu_data);
static u32 svm_features;		/* CPUID Fn8000_000A EDX */
static u32 svm_nr_asids;
static void *svm_iopm;			/* all ones: every port intercepted */
static void *svm_msrpm;			/* all ones: every MSR intercepted */
static unsigned long svm_host_cr4_mce;	/* X86_CR4_MCE if the host has it */

asmlinkage void __svm_vcpu_run(unsigned long vmcb_pa, unsigned long *regs,
			       unsigned long host_save_pa);

static inline struct vcpu_svm *to_svm(struct mvm_vcpu *vcpu)
{
	return container_of(vcpu, struct vcpu_svm, vcpu);
}

static inline void svm_clgi(void)
{
	asm volatile("clgi" ::: "memory");
}

static inline void svm_stgi(void)
{
	asm volatile("stgi" ::: "memory");
}

static void svm_set_intercept(struct vmcb *vmcb, int bit)
{
	vmcb->control.intercepts[bit / 32] |= BIT(bit % 32);
}

static void svm_clr_intercept(struct vmcb *vmcb, int bit)
{
	vmcb->control.intercepts[bit / 32] &= ~BIT(bit % 32);
}

/* DR6 as VMRUN loads it: nothing pending, so a #DB exit tells the cause. */
#define SVM_DR6_CLEAN		0xffff0ff0ULL

/* ------------------------------------------------------------------ */
/* Probe and per-CPU enable                                             */

int svm_probe(const char **why)
{
	u64 vm_cr;

	if (cpuid_eax(0x80000000) < SVM_CPUID_FUNC) {
		*why = "no CPUID leaf 0x8000000a";
		return -ENODEV;
	}
	rdmsrl(MSR_VM_CR, vm_cr);
	if (vm_cr & SVM_VM_CR_SVM_DIS_MASK) {
		*why = "SVM disabled by BIOS (VM_CR.SVMDIS)";
		return -ENODEV;
	}
	svm_features = cpuid_edx(SVM_CPUID_FUNC);
	if (!(svm_features & SVM_FEATURE_NPT)) {
		*why = "no nested paging (NPT)";
		return -ENODEV;
	}
	svm_host_cr4_mce = __read_cr4() & X86_CR4_MCE;
	svm_nr_asids = cpuid_ebx(SVM_CPUID_FUNC);
	if (svm_nr_asids < 2) {
		*why = "no guest ASIDs";
		return -ENODEV;
	}
	return 0;
}

static void svm_hardware_unsetup(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct svm_cpu_data *sd = per_cpu_ptr(&svm_cpu_data, cpu);

		if (sd->hsave)
			__free_page(sd->hsave);
		if (sd->host_vmsave)
			__free_page(sd->host_vmsave);
		sd->hsave = sd->host_vmsave = NULL;
	}
	free_pages((unsigned long)svm_iopm, get_order(IOPM_SIZE));
	free_pages((unsigned long)svm_msrpm, get_order(MSRPM_SIZE));
	svm_iopm = svm_msrpm = NULL;
}

static int svm_hardware_setup(void)
{
	int cpu;

	svm_iopm = (void *)__get_free_pages(GFP_KERNEL, get_order(IOPM_SIZE));
	svm_msrpm = (void *)__get_free_pages(GFP_KERNEL, get_order(MSRPM_SIZE));
	if (!svm_iopm || !svm_msrpm)
		goto nomem;
	memset(svm_iopm, 0xff, PAGE_SIZE << get_order(IOPM_SIZE));
	memset(svm_msrpm, 0xff, PAGE_SIZE << get_order(MSRPM_SIZE));

	for_each_possible_cpu(cpu) {
		struct svm_cpu_data *sd = per_cpu_ptr(&svm_cpu_data, cpu);

		sd->hsave = alloc_page(GFP_KERNEL | __GFP_ZERO);
		sd->host_vmsave = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!sd->hsave || !sd->host_vmsave)
			goto nomem;
	}
	pr_info("NPT, %u ASIDs%s%s\n", svm_nr_asids,
		svm_features & SVM_FEATURE_NRIPS ? ", NRIP save" : "",
		svm_features & SVM_FEATURE_FLUSHASID ? ", flush by ASID" : "");
	return 0;
nomem:
	svm_hardware_unsetup();
	return -ENOMEM;
}

/* This CPU, IRQs off (APM 15.4: EFER.SVME enables SVM). */
static int svm_hardware_enable(void)
{
	struct svm_cpu_data *sd = this_cpu_ptr(&svm_cpu_data);
	u64 efer;

	rdmsrl(MSR_EFER, efer);
	if (efer & EFER_SVME)
		return -EBUSY;	/* another hypervisor owns SVM here */

	wrmsrl(MSR_EFER, efer | EFER_SVME);
	wrmsrl(MSR_VM_HSAVE_PA, page_to_phys(sd->hsave));

	/* Start a new ASID generation: nothing of ours is in this TLB. */
	sd->max_asid = svm_nr_asids - 1;
	sd->next_asid = sd->max_asid + 1;
	sd->asid_generation++;
	return 0;
}

static void svm_hardware_disable(void)
{
	u64 efer;

	wrmsrl(MSR_VM_HSAVE_PA, 0);
	rdmsrl(MSR_EFER, efer);
	wrmsrl(MSR_EFER, efer & ~EFER_SVME);
}

/* ------------------------------------------------------------------ */
/* VM and vCPU                                                          */

static int svm_vcpu_create(struct mvm_vcpu *vcpu)
{
	struct vcpu_svm *svm = to_svm(vcpu);
	struct page *page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);

	if (!page)
		return -ENOMEM;
	svm->vmcb = page_address(page);
	svm->vmcb_pa = page_to_phys(page);
	svm->asid_cpu = -1;
	return 0;
}

static void svm_vcpu_free(struct mvm_vcpu *vcpu)
{
	struct vcpu_svm *svm = to_svm(vcpu);

	if (svm->vmcb)
		free_page((unsigned long)svm->vmcb);
}

static void svm_init_seg(struct vmcb_seg *seg, u16 type)
{
	seg->selector = 0;
	seg->attrib = SVM_SELECTOR_P_MASK | SVM_SELECTOR_S_MASK | type;
	seg->limit = 0xffff;
	seg->base = 0;
}

static void svm_init_sys_seg(struct vmcb_seg *seg, u16 type)
{
	seg->selector = 0;
	seg->attrib = SVM_SELECTOR_P_MASK | type;
	seg->limit = 0xffff;
	seg->base = 0;
}

/* Power-on state, APM 14.1.3 "Processor Initialization State". */
static void svm_vcpu_reset(struct mvm_vcpu *vcpu)
{
	struct vcpu_svm *svm = to_svm(vcpu);
	struct vmcb *vmcb = svm->vmcb;
	struct vmcb_control_area *c = &vmcb->control;
	struct vmcb_save_area *s = &vmcb->save;

	memset(vmcb, 0, sizeof(*vmcb));

	/* What the hypervisor must see (APM 15.9-15.14). */
	svm_set_intercept(vmcb, INTERCEPT_INTR);
	svm_set_intercept(vmcb, INTERCEPT_NMI);
	svm_set_intercept(vmcb, INTERCEPT_CPUID);
	svm_set_intercept(vmcb, INTERCEPT_HLT);
	svm_set_intercept(vmcb, INTERCEPT_INVLPGA);
	svm_set_intercept(vmcb, INTERCEPT_IOIO_PROT);
	svm_set_intercept(vmcb, INTERCEPT_MSR_PROT);
	svm_set_intercept(vmcb, INTERCEPT_SHUTDOWN);
	svm_set_intercept(vmcb, INTERCEPT_VMRUN);	/* required by VMRUN */
	svm_set_intercept(vmcb, INTERCEPT_VMMCALL);
	svm_set_intercept(vmcb, INTERCEPT_VMLOAD);
	svm_set_intercept(vmcb, INTERCEPT_VMSAVE);
	svm_set_intercept(vmcb, INTERCEPT_STGI);
	svm_set_intercept(vmcb, INTERCEPT_CLGI);
	svm_set_intercept(vmcb, INTERCEPT_SKINIT);
	svm_set_intercept(vmcb, INTERCEPT_RDTSCP);	/* not in guest CPUID */
	svm_set_intercept(vmcb, INTERCEPT_MONITOR);
	svm_set_intercept(vmcb, INTERCEPT_MWAIT);
	svm_set_intercept(vmcb, INTERCEPT_XSETBV);
	/*
	 * The PAUSE filter (APM 15.14.4), KVM's rule and defaults: only
	 * where the CPU filters (else every PAUSE would exit), intercepting
	 * after 3000 PAUSEs, or with the threshold those that come at most
	 * 128 cycles apart.  A spinning vCPU then gives its CPU to a
	 * preempted sibling (mvm_handle_pause()).
	 */
	if (boot_cpu_has(X86_FEATURE_PAUSEFILTER)) {
		c->pause_filter_count = 3000;
		if (boot_cpu_has(X86_FEATURE_PFTHRESHOLD))
			c->pause_filter_thresh = 128;
		svm_set_intercept(vmcb, INTERCEPT_PAUSE);
	}
	/* INVD would drop the host's dirty cache lines; WBINVD is a DoS. */
	svm_set_intercept(vmcb, INTERCEPT_INVD);
	svm_set_intercept(vmcb, INTERCEPT_WBINVD);
	/* No PMU for the guest: host counters stay the host's. */
	svm_set_intercept(vmcb, INTERCEPT_RDPMC);
	/* CR4: see vcpu_svm.guest_cr4. */
	svm_set_intercept(vmcb, INTERCEPT_CR4_READ);
	svm_set_intercept(vmcb, INTERCEPT_CR4_WRITE);
	/*
	 * CR8 writes: the TPR is userspace's (kvm_run->cr8), and a lower
	 * one is reported (KVM_EXIT_SET_TPR), as KVM does with no in-kernel
	 * APIC.  Reads see V_TPR, loaded from vcpu->arch.cr8 at each entry.
	 */
	svm_set_intercept(vmcb, INTERCEPT_CR8_WRITE);
	/*
	 * Every debug register access: the guest must never see the host's
	 * breakpoint addresses; x86.c switches DR0-3 when the guest uses
	 * them (APM 15.12).
	 */
	c->intercepts[INTERCEPT_DR] = 0x00ff00ff;
	/*
	 * #DB and #AC: a guest could otherwise make their delivery fault
	 * again forever inside the CPU, with no exit (CVE-2015-8104,
	 * CVE-2015-5307).  #MC: a machine check is the host's.
	 */
	c->intercepts[INTERCEPT_EXCEPTION] = BIT(DB_VECTOR) | BIT(AC_VECTOR) |
					     BIT(MC_VECTOR);

	c->iopm_base_pa = __pa(svm_iopm);
	c->msrpm_base_pa = __pa(svm_msrpm);
	/* Host interrupts stay the host's while the guest runs (15.21.1). */
	c->int_ctl = V_INTR_MASKING_MASK;
	c->nested_ctl = SVM_NESTED_CTL_NP_ENABLE;
	c->nested_cr3 = vcpu->mvm->arch.mmu.root_hpa;

	/* Type 3 (data, accessed) and 0xb (code, accessed), as KVM reports. */
	svm_init_seg(&s->es, SVM_SELECTOR_WRITE_MASK | 1);
	svm_init_seg(&s->ss, SVM_SELECTOR_WRITE_MASK | 1);
	svm_init_seg(&s->ds, SVM_SELECTOR_WRITE_MASK | 1);
	svm_init_seg(&s->fs, SVM_SELECTOR_WRITE_MASK | 1);
	svm_init_seg(&s->gs, SVM_SELECTOR_WRITE_MASK | 1);
	svm_init_seg(&s->cs, SVM_SELECTOR_READ_MASK | SVM_SELECTOR_CODE_MASK | 1);
	s->cs.selector = 0xf000;
	s->cs.base = 0xffff0000;
	svm_init_sys_seg(&s->ldtr, 2);		/* LDT */
	svm_init_sys_seg(&s->tr, 3);		/* busy 16-bit TSS */

	/* CRs, EFER (with SVME), RFLAGS, DR7, PAT: mvm_set_reset_registers(). */
	s->dr6 = SVM_DR6_CLEAN;
	s->rip = 0xfff0;

	svm->asid_cpu = -1;
	svm->next_rip = 0;
	svm->nmi_masked = false;
	svm->awaiting_iret = false;
	svm->nmi_singlestep = false;
}

/*
 * The vCPU arrives on @cpu.  Nothing is loaded into the CPU here: VMRUN
 * takes all guest state from memory.  The ASID is checked at entry.
 */
static void svm_vcpu_load(struct mvm_vcpu *vcpu, int cpu)
{
}

static void svm_vcpu_put(struct mvm_vcpu *vcpu)
{
}

/* Preemption off.  Pick this CPU's ASID for the vCPU (see svm_cpu_data). */
static void svm_assign_asid(struct vcpu_svm *svm)
{
	struct svm_cpu_data *sd = this_cpu_ptr(&svm_cpu_data);
	struct vmcb_control_area *c = &svm->vmcb->control;
	int cpu = smp_processor_id();

	if (svm->asid_cpu == cpu && svm->asid_generation == sd->asid_generation) {
		if (svm->tlb_flush_pending)
			c->tlb_ctl = svm_features & SVM_FEATURE_FLUSHASID ?
				     TLB_CONTROL_FLUSH_ASID :
				     TLB_CONTROL_FLUSH_ALL_ASID;
		svm->tlb_flush_pending = false;
		return;
	}
	if (sd->next_asid > sd->max_asid) {
		sd->asid_generation++;
		sd->next_asid = 1;
		c->tlb_ctl = TLB_CONTROL_FLUSH_ALL_ASID;
	} else if (svm->tlb_flush_pending) {
		c->tlb_ctl = svm_features & SVM_FEATURE_FLUSHASID ?
			     TLB_CONTROL_FLUSH_ASID : TLB_CONTROL_FLUSH_ALL_ASID;
	}
	svm->tlb_flush_pending = false;
	svm->asid_cpu = cpu;
	svm->asid_generation = sd->asid_generation;
	c->asid = sd->next_asid++;
}

static void svm_flush_tlb(struct mvm_vcpu *vcpu)
{
	to_svm(vcpu)->tlb_flush_pending = true;
}

/* ------------------------------------------------------------------ */
/* Register state                                                       */

/* regs[] is authoritative for RAX/RSP/RIP on SVM: nothing to fetch. */
static void svm_cache_reg(struct mvm_vcpu *vcpu, enum mvm_reg reg)
{
	__set_bit(reg, &vcpu->arch.regs_avail);
}

/* TF and RF that svm_enable_nmi_window() added are not the guest's. */
static unsigned long svm_get_rflags(struct mvm_vcpu *vcpu)
{
	struct vcpu_svm *svm = to_svm(vcpu);
	unsigned long rflags = svm->vmcb->save.rflags;

	if (unlikely(svm->nmi_singlestep)) {
		rflags &= ~(X86_EFLAGS_TF | X86_EFLAGS_RF);
		rflags |= svm->nmi_singlestep_guest_rflags &
			  (X86_EFLAGS_TF | X86_EFLAGS_RF);
	}
	return rflags;
}

static void svm_set_rflags(struct mvm_vcpu *vcpu, unsigned long rflags)
{
	struct vcpu_svm *svm = to_svm(vcpu);

	if (unlikely(svm->nmi_singlestep)) {
		svm->nmi_singlestep_guest_rflags = rflags;
		rflags |= X86_EFLAGS_TF | X86_EFLAGS_RF;
	}
	svm->vmcb->save.rflags = rflags;
}

static struct vmcb_seg *svm_seg(struct vcpu_svm *svm, int seg)
{
	struct vmcb_save_area *s = &svm->vmcb->save;

	switch (seg) {
	case VCPU_SREG_CS: return &s->cs;
	case VCPU_SREG_DS: return &s->ds;
	case VCPU_SREG_ES: return &s->es;
	case VCPU_SREG_FS: return &s->fs;
	case VCPU_SREG_GS: return &s->gs;
	case VCPU_SREG_SS: return &s->ss;
	case VCPU_SREG_TR: return &s->tr;
	default:	   return &s->ldtr;
	}
}

/* APM 15.5.1: VMCB segment attributes are descriptor bits 40-47, 52-55. */
static void svm_get_segment(struct mvm_vcpu *vcpu, struct kvm_segment *var,
			    int seg)
{
	struct vcpu_svm *svm = to_svm(vcpu);
	struct vmcb_seg *s = svm_seg(svm, seg);

	memset(var, 0, sizeof(*var));
	var->base = s->base;
	var->limit = s->limit;
	var->selector = s->selector;
	var->type = s->attrib & SVM_SELECTOR_TYPE_MASK;
	var->s = (s->attrib >> SVM_SELECTOR_S_SHIFT) & 1;
	var->dpl = (s->attrib >> SVM_SELECTOR_DPL_SHIFT) & 3;
	var->present = (s->attrib >> SVM_SELECTOR_P_SHIFT) & 1;
	var->avl = (s->attrib >> SVM_SELECTOR_AVL_SHIFT) & 1;
	var->l = (s->attrib >> SVM_SELECTOR_L_SHIFT) & 1;
	var->db = (s->attrib >> SVM_SELECTOR_DB_SHIFT) & 1;
	var->g = (s->attrib >> SVM_SELECTOR_G_SHIFT) & 1;
	var->unusable = !var->present;

	switch (seg) {
	case VCPU_SREG_TR:
		/* The busy bit is not kept by all implementations. */
		var->type |= 0x2;
		break;
	case VCPU_SREG_SS:
		/* The CPL is kept in the VMCB, not in SS.attrib (15.5.1). */
		var->dpl = svm->vmcb->save.cpl;
		if (var->unusable)
			var->db = 0;
		break;
	}
}

static void svm_set_segment(struct mvm_vcpu *vcpu,
			    const struct kvm_segment *var, int seg)
{
	struct vcpu_svm *svm = to_svm(vcpu);
	struct vmcb_seg *s = svm_seg(svm, seg);

	s->base = var->base;
	s->limit = var->limit;
	s->selector = var->selector;
	/*
	 * The VMCB has no "unusable": such a segment is one that is not
	 * present, and keeps its other attributes as KVM keeps them (an
	 * emulated CPU may take the CPL from SS.DPL rather than VMCB.CPL).
	 */
	s->attrib = (var->type & SVM_SELECTOR_TYPE_MASK) |
		    (var->s & 1) << SVM_SELECTOR_S_SHIFT |
		    (var->dpl & 3) << SVM_SELECTOR_DPL_SHIFT |
		    (var->present && !var->unusable) << SVM_SELECTOR_P_SHIFT |
		    (var->avl & 1) << SVM_SELECTOR_AVL_SHIFT |
		    (var->l & 1) << SVM_SELECTOR_L_SHIFT |
		    (var->db & 1) << SVM_SELECTOR_DB_SHIFT |
		    (var->g & 1) << SVM_SELECTOR_G_SHIFT;
	if (seg == VCPU_SREG_SS)
		svm->vmcb->save.cpl = var->dpl & 3;
}

static void svm_get_idt(struct mvm_vcpu *vcpu, struct desc_ptr *dt)
{
	dt->size = to_svm(vcpu)->vmcb->save.idtr.limit;
	dt->address = to_svm(vcpu)->vmcb->save.idtr.base;
}

static void svm_set_idt(struct mvm_vcpu *vcpu, const struct desc_ptr *dt)
{
	to_svm(vcpu)->vmcb->save.idtr.limit = dt->size;
	to_svm(vcpu)->vmcb->save.idtr.base = dt->address;
}

static void svm_get_gdt(struct mvm_vcpu *vcpu, struct desc_ptr *dt)
{
	dt->size = to_svm(vcpu)->vmcb->save.gdtr.limit;
	dt->address = to_svm(vcpu)->vmcb->save.gdtr.base;
}

static void svm_set_gdt(struct mvm_vcpu *vcpu, const struct desc_ptr *dt)
{
	to_svm(vcpu)->vmcb->save.gdtr.limit = dt->size;
	to_svm(vcpu)->vmcb->save.gdtr.base = dt->address;
}

/*
 * With nested paging the guest owns CR0, CR3 and CR4 outright: no CR
 * intercepts, the VMCB holds the values the guest sees.
 */
static unsigned long svm_get_cr(struct mvm_vcpu *vcpu, int cr)
{
	struct vmcb_save_area *s = &to_svm(vcpu)->vmcb->save;

	switch (cr) {
	case 0: return s->cr0;
	case 2: return s->cr2;
	case 3: return s->cr3;
	default: return to_svm(vcpu)->guest_cr4;
	}
}

static void svm_set_cr(struct mvm_vcpu *vcpu, int cr, unsigned long val)
{
	struct vmcb_save_area *s = &to_svm(vcpu)->vmcb->save;

	switch (cr) {
	case 0:
		/* EFER.LMA was updated first (mvm_set_cr0()). */
		s->cr0 = val;
		break;
	case 2:
		s->cr2 = val;
		break;
	case 3:
		s->cr3 = val;
		break;
	default:
		to_svm(vcpu)->guest_cr4 = val;
		s->cr4 = val | svm_host_cr4_mce;
		break;
	}
}

static u64 svm_get_efer(struct mvm_vcpu *vcpu)
{
	return to_svm(vcpu)->vmcb->save.efer & ~EFER_SVME;
}

static void svm_set_efer(struct mvm_vcpu *vcpu, u64 efer)
{
	to_svm(vcpu)->vmcb->save.efer = efer | EFER_SVME;
}

/* The VMCB keeps the CPL itself (APM 15.5.1). */
static int svm_get_cpl(struct mvm_vcpu *vcpu)
{
	return to_svm(vcpu)->vmcb->save.cpl;
}

static void svm_set_dr7(struct mvm_vcpu *vcpu, unsigned long val)
{
	to_svm(vcpu)->vmcb->save.dr7 = val;
}

/* One shadow bit covers STI and MOV SS (APM 15.21.5): report both. */
static u32 svm_get_interrupt_shadow(struct mvm_vcpu *vcpu)
{
	if (to_svm(vcpu)->vmcb->control.int_state & SVM_INTERRUPT_SHADOW_MASK)
		return MVM_X86_SHADOW_INT_STI | MVM_X86_SHADOW_INT_MOV_SS;
	return 0;
}

static void svm_set_interrupt_shadow(struct mvm_vcpu *vcpu, u32 mask)
{
	struct vmcb_control_area *c = &to_svm(vcpu)->vmcb->control;

	c->int_state = (c->int_state & ~SVM_INTERRUPT_SHADOW_MASK) |
		       (mask ? SVM_INTERRUPT_SHADOW_MASK : 0);
}

static int svm_get_msr(struct mvm_vcpu *vcpu, u32 index, u64 *data)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;

	switch (index) {
	case MSR_STAR:			*data = vmcb->save.star; break;
	case MSR_LSTAR:			*data = vmcb->save.lstar; break;
	case MSR_CSTAR:			*data = vmcb->save.cstar; break;
	case MSR_SYSCALL_MASK:		*data = vmcb->save.sfmask; break;
	case MSR_KERNEL_GS_BASE:	*data = vmcb->save.kernel_gs_base; break;
	case MSR_FS_BASE:		*data = vmcb->save.fs.base; break;
	case MSR_GS_BASE:		*data = vmcb->save.gs.base; break;
	case MSR_IA32_SYSENTER_CS:	*data = vmcb->save.sysenter_cs; break;
	case MSR_IA32_SYSENTER_ESP:	*data = vmcb->save.sysenter_esp; break;
	case MSR_IA32_SYSENTER_EIP:	*data = vmcb->save.sysenter_eip; break;
	case MSR_IA32_CR_PAT:		*data = vmcb->save.g_pat; break;
	default:
		return 1;
	}
	return 0;
}

static int svm_set_msr(struct mvm_vcpu *vcpu, u32 index, u64 data,
		       bool host_initiated)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;

	switch (index) {
	case MSR_STAR:			vmcb->save.star = data; break;
	case MSR_LSTAR:			vmcb->save.lstar = data; break;
	case MSR_CSTAR:			vmcb->save.cstar = data; break;
	case MSR_SYSCALL_MASK:		vmcb->save.sfmask = data; break;
	case MSR_KERNEL_GS_BASE:	vmcb->save.kernel_gs_base = data; break;
	case MSR_FS_BASE:		vmcb->save.fs.base = data; break;
	case MSR_GS_BASE:		vmcb->save.gs.base = data; break;
	case MSR_IA32_SYSENTER_CS:	vmcb->save.sysenter_cs = data; break;
	case MSR_IA32_SYSENTER_ESP:	vmcb->save.sysenter_esp = data; break;
	case MSR_IA32_SYSENTER_EIP:	vmcb->save.sysenter_eip = data; break;
	case MSR_IA32_CR_PAT:		vmcb->save.g_pat = data; break;
	default:
		return 1;
	}
	return 0;
}

static u64 svm_get_tsc_offset(struct mvm_vcpu *vcpu)
{
	return to_svm(vcpu)->vmcb->control.tsc_offset;
}

static void svm_set_tsc_offset(struct mvm_vcpu *vcpu, u64 offset)
{
	to_svm(vcpu)->vmcb->control.tsc_offset = offset;
}

static void svm_skip_instruction(struct mvm_vcpu *vcpu)
{
	mvm_rip_write(vcpu, to_svm(vcpu)->next_rip);
	svm_set_interrupt_shadow(vcpu, 0);
}

/* ------------------------------------------------------------------ */
/* Event injection (APM 15.20 EVENTINJ, 15.21 interrupts)               */

static void svm_inject_exception(struct mvm_vcpu *vcpu)
{
	struct vmcb_control_area *c = &to_svm(vcpu)->vmcb->control;
	struct mvm_queued_exception *ex = &vcpu->arch.exception;

	c->event_inj = ex->vector | SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_EXEPT;
	/* Real mode exceptions push no error code (APM 8.4.1, as KVM). */
	if (ex->has_error_code && (to_svm(vcpu)->vmcb->save.cr0 & X86_CR0_PE)) {
		c->event_inj |= SVM_EVTINJ_VALID_ERR;
		c->event_inj_err = ex->error_code;
	}
}

/*
 * EVENTINJ delivers an external interrupt whatever RFLAGS.IF and the
 * shadow say (APM 15.20): events.c only asks when the guest allows it,
 * or userspace forced it with KVM_INTERRUPT.  A software interrupt that
 * an exit interrupted is not re-injected (see svm_complete_interrupts()).
 */
static void svm_inject_irq(struct mvm_vcpu *vcpu)
{
	to_svm(vcpu)->vmcb->control.event_inj = vcpu->arch.interrupt.nr |
		SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_INTR;
}

static void svm_inject_nmi(struct mvm_vcpu *vcpu)
{
	struct vcpu_svm *svm = to_svm(vcpu);

	svm->vmcb->control.event_inj = SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_NMI |
				       NMI_VECTOR;
	svm->nmi_masked = true;
	svm_set_intercept(svm->vmcb, INTERCEPT_IRET);
}

/* GIF is always 1 while a guest runs under mvm (no nested SVM). */
static bool svm_interrupt_allowed(struct mvm_vcpu *vcpu)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;

	return (svm_get_rflags(vcpu) & X86_EFLAGS_IF) &&
	       !(vmcb->control.int_state & SVM_INTERRUPT_SHADOW_MASK);
}

static bool svm_nmi_allowed(struct mvm_vcpu *vcpu)
{
	struct vcpu_svm *svm = to_svm(vcpu);

	return !svm->nmi_masked &&
	       !(svm->vmcb->control.int_state & SVM_INTERRUPT_SHADOW_MASK);
}

/*
 * A virtual interrupt (V_IRQ) of the highest priority, intercepted: the
 * processor takes it, so exits with VINTR, as soon as the guest could
 * take an interrupt (APM 15.21.4).  It is never delivered; the real one
 * goes through EVENTINJ.  As KVM's svm_set_vintr().
 */
static void svm_enable_irq_window(struct mvm_vcpu *vcpu)
{
	struct vmcb_control_area *c = &to_svm(vcpu)->vmcb->control;

	svm_set_intercept(to_svm(vcpu)->vmcb, INTERCEPT_VINTR);
	c->int_vector = 0;
	c->int_ctl &= ~V_INTR_PRIO_MASK;
	c->int_ctl |= V_IRQ_MASK | (0xf << V_INTR_PRIO_SHIFT);
}

static void svm_clear_vintr(struct vcpu_svm *svm)
{
	svm_clr_intercept(svm->vmcb, INTERCEPT_VINTR);
	svm->vmcb->control.int_ctl &= ~V_IRQ_INJECTION_BITS_MASK;
}

/*
 * Without vNMI there is no NMI-window exit.  While NMIs are blocked, the
 * intercepted IRET says when blocking ends; otherwise (an interrupt
 * shadow, an event being injected, an IRET already intercepted but not
 * yet executed) single-step the guest over what is in the way: the #DB
 * intercept comes back after one instruction.  As KVM.
 */
static void svm_enable_nmi_window(struct mvm_vcpu *vcpu)
{
	struct vcpu_svm *svm = to_svm(vcpu);

	if (svm->nmi_masked && !svm->awaiting_iret)
		return;
	if (svm->nmi_singlestep)
		return;
	svm->nmi_singlestep_guest_rflags = svm->vmcb->save.rflags;
	svm->nmi_singlestep = true;
	svm->vmcb->save.rflags |= X86_EFLAGS_TF | X86_EFLAGS_RF;
}

static void svm_disable_nmi_singlestep(struct vcpu_svm *svm)
{
	unsigned long keep = svm->nmi_singlestep_guest_rflags &
			     (X86_EFLAGS_TF | X86_EFLAGS_RF);

	svm->nmi_singlestep = false;
	svm->vmcb->save.rflags &= ~(X86_EFLAGS_TF | X86_EFLAGS_RF);
	svm->vmcb->save.rflags |= keep;
}

static bool svm_get_nmi_mask(struct mvm_vcpu *vcpu)
{
	return to_svm(vcpu)->nmi_masked;
}

static void svm_set_nmi_mask(struct mvm_vcpu *vcpu, bool masked)
{
	struct vcpu_svm *svm = to_svm(vcpu);

	svm->nmi_masked = masked;
	svm->awaiting_iret = false;
	if (masked)
		svm_set_intercept(svm->vmcb, INTERCEPT_IRET);
	else
		svm_clr_intercept(svm->vmcb, INTERCEPT_IRET);
}

static void svm_dump_seg(const char *name, struct vmcb_seg *s)
{
	pr_err("  %-4s sel 0x%04x attr 0x%04x limit 0x%08x base 0x%016llx\n",
	       name, s->selector, s->attrib, s->limit, s->base);
}

static void svm_dump_state(struct mvm_vcpu *vcpu)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	struct vmcb_control_area *c = &vmcb->control;
	struct vmcb_save_area *s = &vmcb->save;

	pr_err("VMCB of vcpu %u:\n", vcpu->vcpu_id);
	pr_err("  intercepts %08x %08x %08x %08x %08x %08x\n",
	       c->intercepts[0], c->intercepts[1], c->intercepts[2],
	       c->intercepts[3], c->intercepts[4], c->intercepts[5]);
	pr_err("  asid %u tlb_ctl %u int_ctl 0x%x int_state 0x%x nested_ctl 0x%llx ncr3 0x%llx\n",
	       c->asid, c->tlb_ctl, c->int_ctl, c->int_state, c->nested_ctl,
	       c->nested_cr3);
	pr_err("  exit_code 0x%x info1 0x%llx info2 0x%llx int_info 0x%x err 0x%x\n",
	       c->exit_code, c->exit_info_1, c->exit_info_2, c->exit_int_info,
	       c->exit_int_info_err);
	pr_err("  event_inj 0x%x err 0x%x next_rip 0x%llx\n",
	       c->event_inj, c->event_inj_err, c->next_rip);
	svm_dump_seg("cs", &s->cs);
	svm_dump_seg("ss", &s->ss);
	svm_dump_seg("ds", &s->ds);
	svm_dump_seg("es", &s->es);
	svm_dump_seg("fs", &s->fs);
	svm_dump_seg("gs", &s->gs);
	svm_dump_seg("tr", &s->tr);
	svm_dump_seg("ldtr", &s->ldtr);
	svm_dump_seg("gdtr", &s->gdtr);
	svm_dump_seg("idtr", &s->idtr);
	pr_err("  cpl %u efer 0x%llx cr0 0x%llx cr3 0x%llx cr4 0x%llx cr2 0x%llx\n",
	       s->cpl, s->efer, s->cr0, s->cr3, s->cr4, s->cr2);
	pr_err("  rip 0x%llx rsp 0x%llx rax 0x%llx rflags 0x%llx dr7 0x%llx g_pat 0x%llx\n",
	       s->rip, s->rsp, s->rax, s->rflags, s->dr7, s->g_pat);
}

/* ------------------------------------------------------------------ */
/* Entry                                                                */

static void svm_vcpu_run(struct mvm_vcpu *vcpu)
{
	struct vcpu_svm *svm = to_svm(vcpu);
	struct vmcb *vmcb = svm->vmcb;
	unsigned long *regs = vcpu->arch.regs;
	struct svm_cpu_data *sd = this_cpu_ptr(&svm_cpu_data);

	svm_assign_asid(svm);

	vmcb->save.rax = regs[MVM_REG_RAX];
	vmcb->save.rsp = regs[MVM_REG_RSP];
	vmcb->save.rip = regs[MVM_REG_RIP];
	/* No VMCB state caching: every field is reloaded (APM 15.15). */
	vmcb->control.clean = 0;

	/*
	 * With V_INTR_MASKING the host's RFLAGS.IF at VMRUN decides whether
	 * physical interrupts reach us as #VMEXIT(INTR) (APM 15.21.1): it
	 * must be set, or a guest spinning with no other exit would hold the
	 * CPU.  GIF=0 keeps interrupts out of the host code around VMRUN.
	 */
	/* V_TPR is the TPR userspace sees (kvm_run->cr8). */
	vmcb->control.int_ctl = (vmcb->control.int_ctl & ~V_TPR_MASK) |
				(vcpu->arch.cr8 & V_TPR_MASK);

	svm_clgi();
	raw_local_irq_enable();
	__svm_vcpu_run(svm->vmcb_pa, regs, page_to_phys(sd->host_vmsave));
	raw_local_irq_disable();
	svm_stgi();

	/* The #MC exit bypassed the host's handler (APM 15.12). */
	if (unlikely(vmcb->control.exit_code == SVM_EXIT_EXCP_BASE + MC_VECTOR))
		mvm_host_machine_check();

	regs[MVM_REG_RAX] = vmcb->save.rax;
	regs[MVM_REG_RSP] = vmcb->save.rsp;
	regs[MVM_REG_RIP] = vmcb->save.rip;
	vcpu->arch.regs_avail = ~0UL;
	vcpu->arch.regs_dirty = 0;

	vmcb->control.tlb_ctl = TLB_CONTROL_DO_NOTHING;
	vmcb->control.event_inj = 0;
}

/*
 * After every exit, before it is handled: what was injected at the entry
 * has been delivered, unless EXITINTINFO (APM 15.7.2) says the exit
 * interrupted its delivery (a nested page fault on the guest's IDT or
 * stack, say).  Then it goes back to the common state as injected and
 * the next entry delivers it again, with its error code.  A software
 * interrupt (INTn) is not: RIP still points at the instruction, which
 * raises it again when it re-executes.
 */
static void svm_complete_interrupts(struct vcpu_svm *svm)
{
	struct mvm_vcpu *vcpu = &svm->vcpu;
	struct vmcb_control_area *c = &svm->vmcb->control;
	u32 info = c->exit_int_info;
	u8 vector = info & SVM_EXITINTINFO_VEC_MASK;

	/* The IRET that ended the NMI handler has now executed. */
	if (unlikely(svm->awaiting_iret) &&
	    vcpu->arch.regs[MVM_REG_RIP] != svm->nmi_iret_rip) {
		svm->nmi_masked = false;
		svm->awaiting_iret = false;
		set_bit(MVM_REQ_EVENT, &vcpu->requests);
	}

	mvm_clear_injected_events(vcpu);
	if (likely(!(info & SVM_EXITINTINFO_VALID)))
		return;

	switch (info & SVM_EXITINTINFO_TYPE_MASK) {
	case SVM_EXITINTINFO_TYPE_NMI:
		vcpu->arch.nmi_injected = true;
		set_bit(MVM_REQ_EVENT, &vcpu->requests);
		break;
	case SVM_EXITINTINFO_TYPE_EXEPT:
		/* INT3/INTO: like INTn, RIP is at the instruction. */
		if (vector == BP_VECTOR || vector == OF_VECTOR)
			break;
		mvm_requeue_exception(vcpu, vector,
				      info & SVM_EXITINTINFO_VALID_ERR,
				      c->exit_int_info_err, 0);
		break;
	case SVM_EXITINTINFO_TYPE_INTR:
		mvm_queue_interrupt(vcpu, vector, false, 0);
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Exit handlers                                                        */

static int svm_handle_msr(struct mvm_vcpu *vcpu)
{
	if (to_svm(vcpu)->vmcb->control.exit_info_1)
		return mvm_emulate_wrmsr(vcpu);
	return mvm_emulate_rdmsr(vcpu);
}

/* APM 15.10.2: EXITINFO1 describes the access, EXITINFO2 is the next RIP. */
static int svm_handle_ioio(struct mvm_vcpu *vcpu)
{
	struct vmcb_control_area *c = &to_svm(vcpu)->vmcb->control;
	u32 info = c->exit_info_1;
	int size = (info & SVM_IOIO_SIZE_MASK) >> SVM_IOIO_SIZE_SHIFT;

	to_svm(vcpu)->next_rip = c->exit_info_2;
	return mvm_handle_pio(vcpu, info >> 16, size, info & SVM_IOIO_TYPE_MASK,
			      info & SVM_IOIO_STR_MASK);
}

/* APM 15.25.6: EXITINFO1 is a #PF-style error code, EXITINFO2 the GPA. */
static int svm_handle_npf(struct mvm_vcpu *vcpu)
{
	struct vmcb_control_area *c = &to_svm(vcpu)->vmcb->control;

	return mvm_handle_gpa_fault(vcpu, c->exit_info_2,
				    c->exit_info_1 & MVM_ACC_WRITE,
				    c->exit_info_1 & MVM_ACC_FETCH);
}

/* Without NRIP save the PAUSE is simply executed again: it is a hint. */
static int svm_handle_pause(struct mvm_vcpu *vcpu)
{
	if (!(svm_features & SVM_FEATURE_NRIPS)) {
		mvm_vcpu_on_spin(vcpu);
		return 1;
	}
	return mvm_handle_pause(vcpu);
}

static int svm_handle_shutdown(struct mvm_vcpu *vcpu)
{
	/* The VMCB is undefined after a shutdown (APM 15.11): start over. */
	svm_vcpu_reset(vcpu);
	mvm_set_reset_registers(vcpu);
	mvm_events_reset(vcpu);
	return mvm_handle_triple_fault(vcpu);
}

/*
 * The register operand of an intercepted MOV CR/DR: in EXITINFO1 with
 * decode assists (APM 15.33), else decoded from the instruction, which
 * also gives the skip length when there is no NRIP save.  False when it
 * could not be had; *ret is then what the exit handler returns.
 */
static bool svm_mov_cr_dr_gpr(struct mvm_vcpu *vcpu, int *gpr, int *ret)
{
	struct vcpu_svm *svm = to_svm(vcpu);
	int reg, len, r;

	if (boot_cpu_has(X86_FEATURE_DECODEASSISTS)) {
		*gpr = svm->vmcb->control.exit_info_1 & 15;
		return true;
	}
	r = mvm_decode_mov_cr_dr(vcpu, &reg, gpr, &len);
	if (r) {
		/* 1: a fault was queued; else the bytes changed under us. */
		*ret = r > 0 ? 1 : mvm_emulation_failed(vcpu);
		return false;
	}
	if (!(svm_features & SVM_FEATURE_NRIPS))
		svm->next_rip = vcpu->arch.regs[MVM_REG_RIP] + len;
	return true;
}

static int svm_handle_cr4(struct mvm_vcpu *vcpu)
{
	struct vcpu_svm *svm = to_svm(vcpu);
	int gpr, ret;

	if (!svm_mov_cr_dr_gpr(vcpu, &gpr, &ret))
		return ret;
	if (svm->vmcb->control.exit_code == SVM_EXIT_WRITE_CR4)
		return mvm_emulate_set_cr4(vcpu, mvm_register_read(vcpu, gpr));
	mvm_register_write(vcpu, gpr, svm->guest_cr4);
	svm_skip_instruction(vcpu);
	return 1;
}

/* SVM_EXIT_READ_DR0..7, SVM_EXIT_WRITE_DR0..7 (APM 15.12). */
static int svm_handle_dr(struct mvm_vcpu *vcpu)
{
	u32 exit_code = to_svm(vcpu)->vmcb->control.exit_code;
	int gpr, ret;

	if (!svm_mov_cr_dr_gpr(vcpu, &gpr, &ret))
		return ret;
	return mvm_emulate_mov_dr(vcpu, exit_code & 7, gpr,
				  exit_code >= SVM_EXIT_WRITE_DR0);
}

/*
 * The processor wrote the #DB's cause into the VMCB's DR6, which is
 * loaded clean at every VMRUN; the guest reads its DR6 from cr.c.
 */
static int svm_handle_db(struct mvm_vcpu *vcpu)
{
	struct vcpu_svm *svm = to_svm(vcpu);
	struct vmcb_save_area *s = &svm->vmcb->save;
	unsigned long dr6 = s->dr6;

	s->dr6 = SVM_DR6_CLEAN;
	/* Our own single step toward an NMI window: not the guest's #DB. */
	if (svm->nmi_singlestep) {
		svm_disable_nmi_singlestep(svm);
		set_bit(MVM_REQ_EVENT, &vcpu->requests);
		return 1;
	}
	return mvm_reflect_db(vcpu, dr6);
}

/* The V_IRQ of svm_enable_irq_window() was taken: the window is open. */
static int svm_handle_vintr(struct mvm_vcpu *vcpu)
{
	svm_clear_vintr(to_svm(vcpu));
	set_bit(MVM_REQ_EVENT, &vcpu->requests);
	return 1;
}

/*
 * The guest is about to IRET, which unblocks NMIs once it completes:
 * the next exit with RIP elsewhere (svm_complete_interrupts()).
 */
static int svm_handle_iret(struct mvm_vcpu *vcpu)
{
	struct vcpu_svm *svm = to_svm(vcpu);

	svm_clr_intercept(svm->vmcb, INTERCEPT_IRET);
	svm->awaiting_iret = true;
	svm->nmi_iret_rip = vcpu->arch.regs[MVM_REG_RIP];
	set_bit(MVM_REQ_EVENT, &vcpu->requests);
	return 1;
}

/* MOV to CR8 (APM 15.9): userspace keeps the TPR, see cr.c. */
static int svm_handle_cr8_write(struct mvm_vcpu *vcpu)
{
	int gpr, ret;

	if (!svm_mov_cr_dr_gpr(vcpu, &gpr, &ret))
		return ret;
	return mvm_emulate_set_cr8(vcpu, mvm_register_read(vcpu, gpr));
}

static int svm_handle_ac(struct mvm_vcpu *vcpu)
{
	mvm_queue_exception(vcpu, AC_VECTOR, true,
			    to_svm(vcpu)->vmcb->control.exit_info_1);
	return 1;
}

/*
 * Interrupts and NMIs are taken by the host once mvm_vcpu_enter_guest()
 * enables interrupts, machine checks were handed to the host's handler in
 * svm_vcpu_run(): mvm_handle_host_event() re-enters.
 */
static int (*const svm_exit_handlers[])(struct mvm_vcpu *vcpu) = {
	[SVM_EXIT_INTR]		= mvm_handle_host_event,
	[SVM_EXIT_NMI]		= mvm_handle_host_event,
	[SVM_EXIT_CPUID]	= mvm_emulate_cpuid,
	[SVM_EXIT_HLT]		= mvm_emulate_halt,
	[SVM_EXIT_INVLPGA]	= mvm_handle_ud,
	[SVM_EXIT_IOIO]		= svm_handle_ioio,
	[SVM_EXIT_MSR]		= svm_handle_msr,
	[SVM_EXIT_SHUTDOWN]	= svm_handle_shutdown,
	[SVM_EXIT_VMRUN]	= mvm_handle_ud,
	[SVM_EXIT_VMMCALL]	= mvm_emulate_hypercall,
	[SVM_EXIT_VMLOAD]	= mvm_handle_ud,
	[SVM_EXIT_VMSAVE]	= mvm_handle_ud,
	[SVM_EXIT_STGI]		= mvm_handle_ud,
	[SVM_EXIT_CLGI]		= mvm_handle_ud,
	[SVM_EXIT_SKINIT]	= mvm_handle_ud,
	[SVM_EXIT_RDTSCP]	= mvm_handle_ud,
	[SVM_EXIT_MONITOR]	= mvm_emulate_nop,
	[SVM_EXIT_MWAIT]	= mvm_emulate_nop,
	[SVM_EXIT_READ_CR4]	= svm_handle_cr4,
	[SVM_EXIT_WRITE_CR4]	= svm_handle_cr4,
	[SVM_EXIT_WRITE_CR8]	= svm_handle_cr8_write,
	[SVM_EXIT_VINTR]	= svm_handle_vintr,
	[SVM_EXIT_IRET]		= svm_handle_iret,
	[SVM_EXIT_READ_DR0 ... SVM_EXIT_READ_DR7]	= svm_handle_dr,
	[SVM_EXIT_WRITE_DR0 ... SVM_EXIT_WRITE_DR7]	= svm_handle_dr,
	[SVM_EXIT_EXCP_BASE + DB_VECTOR]	= svm_handle_db,
	[SVM_EXIT_EXCP_BASE + AC_VECTOR]	= svm_handle_ac,
	[SVM_EXIT_EXCP_BASE + MC_VECTOR]	= mvm_handle_host_event,
	[SVM_EXIT_XSETBV]	= mvm_emulate_xsetbv,
	[SVM_EXIT_NPF]		= svm_handle_npf,
	[SVM_EXIT_INVD]		= mvm_emulate_nop,
	[SVM_EXIT_WBINVD]	= mvm_emulate_nop,
	[SVM_EXIT_RDPMC]	= mvm_emulate_rdpmc,
	[SVM_EXIT_PAUSE]	= svm_handle_pause,
};

/*
 * Without NRIP save (QEMU's TCG has none) the next RIP of an intercepted
 * instruction is known from its fixed encoding.
 */
static u8 svm_insn_len(u32 exit_code)
{
	switch (exit_code) {
	case SVM_EXIT_HLT:
		return 1;
	case SVM_EXIT_CPUID:
	case SVM_EXIT_MSR:
	case SVM_EXIT_INVD:
	case SVM_EXIT_WBINVD:
	case SVM_EXIT_RDPMC:
		return 2;
	case SVM_EXIT_VMMCALL:
	case SVM_EXIT_XSETBV:
	case SVM_EXIT_MONITOR:
	case SVM_EXIT_MWAIT:
		return 3;
	default:
		return 0;
	}
}

/* SVM exit codes below 0x100 (APM vol. 2 appendix C) in the neutral list. */
static const u8 svm_stat_reasons[0x100] = {
	[SVM_EXIT_READ_CR0 ... SVM_EXIT_WRITE_CR8 + 7]	= MVM_EXIT_STAT_CR_ACCESS,
	[SVM_EXIT_READ_DR0 ... SVM_EXIT_WRITE_DR7 + 8]	= MVM_EXIT_STAT_DR_ACCESS,
	[SVM_EXIT_EXCP_BASE ... SVM_EXIT_LAST_EXCP]	= MVM_EXIT_STAT_EXCEPTION_NMI,
	[SVM_EXIT_EXCP_BASE + MC_VECTOR]	= MVM_EXIT_STAT_MACHINE_CHECK,
	[SVM_EXIT_INTR]		= MVM_EXIT_STAT_EXTERNAL_INTERRUPT,
	[SVM_EXIT_NMI]		= MVM_EXIT_STAT_EXCEPTION_NMI,
	[SVM_EXIT_VINTR]	= MVM_EXIT_STAT_INTERRUPT_WINDOW,
	[SVM_EXIT_RDPMC]	= MVM_EXIT_STAT_RDPMC,
	[SVM_EXIT_CPUID]	= MVM_EXIT_STAT_CPUID,
	/* mvm intercepts IRET only to open an NMI window. */
	[SVM_EXIT_IRET]		= MVM_EXIT_STAT_NMI_WINDOW,
	[SVM_EXIT_INVD]		= MVM_EXIT_STAT_NOP_INSN,
	[SVM_EXIT_HLT]		= MVM_EXIT_STAT_HLT,
	[SVM_EXIT_INVLPGA]	= MVM_EXIT_STAT_VIRT_INSN,
	[SVM_EXIT_IOIO]		= MVM_EXIT_STAT_IO,
	[SVM_EXIT_MSR]		= MVM_EXIT_STAT_MSR_READ,
	[SVM_EXIT_SHUTDOWN]	= MVM_EXIT_STAT_TRIPLE_FAULT,
	[SVM_EXIT_VMRUN]	= MVM_EXIT_STAT_VIRT_INSN,
	[SVM_EXIT_VMMCALL]	= MVM_EXIT_STAT_HYPERCALL,
	[SVM_EXIT_VMLOAD ... SVM_EXIT_SKINIT]	= MVM_EXIT_STAT_VIRT_INSN,
	[SVM_EXIT_WBINVD ... SVM_EXIT_MWAIT]	= MVM_EXIT_STAT_NOP_INSN,
	[SVM_EXIT_XSETBV]	= MVM_EXIT_STAT_XSETBV,
};

/* The neutral reason, and the raw code as an index of exits_vendor[]. */
static enum mvm_exit_stat svm_stat_reason(struct vmcb_control_area *c,
					  unsigned int *vendor)
{
	u32 code = c->exit_code;

	if (likely(code < 0xf0)) {
		*vendor = code;
		/* EXITINFO1: 0 RDMSR, 1 WRMSR (APM vol. 2 15.11). */
		if (code == SVM_EXIT_MSR && c->exit_info_1)
			return MVM_EXIT_STAT_MSR_WRITE;
		return svm_stat_reasons[code];
	}
	*vendor = code >= SVM_EXIT_NPF && code < SVM_EXIT_NPF + 0x0f ?
		  0xf0 + code - SVM_EXIT_NPF : MVM_STAT_VENDOR_REASONS - 1;
	if (code == SVM_EXIT_NPF)
		return MVM_EXIT_STAT_NPF;
	if (code == SVM_EXIT_ERR)
		return MVM_EXIT_STAT_FAILED_ENTRY;
	return MVM_EXIT_STAT_OTHER;
}

static int svm_handle_exit(struct mvm_vcpu *vcpu)
{
	struct vcpu_svm *svm = to_svm(vcpu);
	struct vmcb_control_area *c = &svm->vmcb->control;
	u32 exit_code = c->exit_code;
	enum mvm_exit_stat reason;
	unsigned int vendor;

	reason = svm_stat_reason(c, &vendor);
	mvm_stat_exit_reason(vcpu, reason, vendor);

	trace_mvm_exit(vcpu, "svm", exit_code, c->exit_info_1, c->exit_info_2);

	if (unlikely(exit_code == SVM_EXIT_ERR))
		return mvm_handle_fail_entry(vcpu, exit_code);

	svm_complete_interrupts(svm);

	if (svm_features & SVM_FEATURE_NRIPS)
		svm->next_rip = c->next_rip;
	else
		svm->next_rip = vcpu->arch.regs[MVM_REG_RIP] +
				svm_insn_len(exit_code);

	if (exit_code < ARRAY_SIZE(svm_exit_handlers) &&
	    svm_exit_handlers[exit_code])
		return svm_exit_handlers[exit_code](vcpu);
	return mvm_handle_unknown_exit(vcpu, exit_code);
}

/*
 * APM vol. 2 15.25.1: nested tables have the host's format and page
 * sizes; 2 MiB always, 1 GiB where the CPU has 1 GiB pages (CPUID
 * Fn8000_0001_EDX[Page1GB], X86_FEATURE_GBPAGES; APM vol. 2 5.3.5).
 */
static int svm_npt_max_leaf_level(void)
{
	return boot_cpu_has(X86_FEATURE_GBPAGES) ? PG_LEVEL_1G : PG_LEVEL_2M;
}

const struct mvm_x86_ops svm_x86_ops = {
	.name			= "svm",
	.vm_size		= sizeof(struct mvm),
	.vcpu_size		= sizeof(struct vcpu_svm),
	.hardware_setup		= svm_hardware_setup,
	.hardware_unsetup	= svm_hardware_unsetup,
	.hardware_enable	= svm_hardware_enable,
	.hardware_disable	= svm_hardware_disable,
	.vcpu_create		= svm_vcpu_create,
	.vcpu_free		= svm_vcpu_free,
	.vcpu_reset		= svm_vcpu_reset,
	.vcpu_load		= svm_vcpu_load,
	.vcpu_put		= svm_vcpu_put,
	.vcpu_run		= svm_vcpu_run,
	.handle_exit		= svm_handle_exit,
	.flush_tlb		= svm_flush_tlb,
	.cache_reg		= svm_cache_reg,
	.get_rflags		= svm_get_rflags,
	.set_rflags		= svm_set_rflags,
	.get_segment		= svm_get_segment,
	.set_segment		= svm_set_segment,
	.get_idt		= svm_get_idt,
	.set_idt		= svm_set_idt,
	.get_gdt		= svm_get_gdt,
	.set_gdt		= svm_set_gdt,
	.get_cr			= svm_get_cr,
	.set_cr			= svm_set_cr,
	.get_efer		= svm_get_efer,
	.set_efer		= svm_set_efer,
	.get_cpl		= svm_get_cpl,
	.set_dr7		= svm_set_dr7,
	.get_msr		= svm_get_msr,
	.set_msr		= svm_set_msr,
	.get_tsc_offset		= svm_get_tsc_offset,
	.set_tsc_offset		= svm_set_tsc_offset,
	.skip_instruction	= svm_skip_instruction,
	.inject_exception	= svm_inject_exception,
	.inject_irq		= svm_inject_irq,
	.inject_nmi		= svm_inject_nmi,
	.interrupt_allowed	= svm_interrupt_allowed,
	.nmi_allowed		= svm_nmi_allowed,
	.enable_irq_window	= svm_enable_irq_window,
	.enable_nmi_window	= svm_enable_nmi_window,
	.get_interrupt_shadow	= svm_get_interrupt_shadow,
	.set_interrupt_shadow	= svm_set_interrupt_shadow,
	.get_nmi_mask		= svm_get_nmi_mask,
	.set_nmi_mask		= svm_set_nmi_mask,
	.dump_state		= svm_dump_state,
	/* APM 15.25.5: nested accesses are user accesses; leaves are WB. */
	.npt_table_bits		= _PAGE_PRESENT | _PAGE_RW | _PAGE_USER |
				  _PAGE_ACCESSED,
	.npt_present_mask	= _PAGE_PRESENT,
	.npt_leaf_ro_bits	= _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED,
	.npt_leaf_writable_bit	= _PAGE_RW | _PAGE_DIRTY,
	/*
	 * The NPT walk has the host's depth, not a depth of our choosing
	 * (APM vol. 2 section 15.25: the nested tables are walked in the host's
	 * paging mode at VMRUN, 5-level when the host's CR4.LA57 is set).
	 */
	.npt_host_depth		= true,
	.npt_max_leaf_level	= svm_npt_max_leaf_level,
};
