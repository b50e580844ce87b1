// SPDX-License-Identifier: GPL-2.0
/*
 * mvm Intel VT-x backend: one VMCS per vCPU, EPT, unrestricted guest.
 *
 * References are to the Intel SDM vol. 3C, chapters 23-29 ("SDM").
 *
 * VMCS residency: a VMCS is made current on a CPU by vmx_vcpu_load(),
 * called by the common layer's preempt notifier whenever the vCPU thread
 * is scheduled in (and around state ioctls).  If the vCPU last ran on
 * another CPU, its VMCS is first VMCLEARed there by IPI (SDM 24.11.1: a
 * VMCS may be active on one CPU only).  vmx_vcpu_put() leaves the VMCS
 * loaded, so an ordinary exit costs no VMPTRLD.
 *
 * Guest MSRs that the VMCS cannot switch (KERNEL_GS_BASE and the SYSCALL
 * MSRs) are loaded in vmx_vcpu_load() and the host's restored in
 * vmx_vcpu_put(): the host kernel does not use them between the two.
 */
#define pr_fmt(fmt) "mvm: vmx: " fmt

#include <linux/module.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/smp.h>
#include <asm/vmx.h>
#include <asm/msr.h>
#include <asm/desc.h>
#include <asm/tlbflush.h>
#include <asm/special_insns.h>
#include <asm/cpu_entry_area.h>
#include <asm/hardirq.h>
#include <asm/processor.h>
#include <asm/nospec-branch.h>
#include <asm/debugreg.h>
#include "x86.h"
#include "trace.h"

#define VMX_NR_MSRS_SWITCHED	5

/* SDM 24.2: a VMCS or VMXON region starts with the revision id. */
struct vmcs_hdr {
	u32 revision_id;
	u32 abort;
};

struct vcpu_vmx {
	struct mvm_vcpu vcpu;		/* first: the core allocates us */
	struct vmcs_hdr *vmcs;		/* one page */
	int loaded_cpu;			/* CPU where the VMCS is active, -1 */
	bool launched;			/* VMLAUNCH done since VMCLEAR */
	struct list_head loaded_link;	/* per-CPU list, IRQs off */
	u16 vpid;
	bool tlb_flush_pending;
	u32 exit_reason;		/* ~0 after VMfail */

	/* Host state cached to skip VMWRITEs when unchanged. */
	unsigned long host_cr3, host_cr4;

	/* KERNEL_GS_BASE, STAR, LSTAR, CSTAR, SFMASK: guest and host. */
	u64 guest_msrs[VMX_NR_MSRS_SWITCHED];
	u64 host_msrs[VMX_NR_MSRS_SWITCHED];
	bool guest_msrs_loaded;

	/*
	 * Host state a VM exit does not restore (SDM 27.5.2): the data
	 * segment selectors and LDTR become null, the TR limit 0x67, the
	 * GDT limit 0xffff and IA32_DEBUGCTL 0.  Saved by vmx_vcpu_load(),
	 * put back by vmx_vcpu_put(), DEBUGCTL after each exit.
	 */
	u16 host_ds, host_es, host_fs, host_gs, host_ldt;
	struct desc_ptr host_gdt;
	u64 host_debugctl;
};

/*
 * CR4 bits the guest may change without an exit (as KVM's
 * KVM_POSSIBLE_CR4_GUEST_BITS); every other bit is the host's to check
 * (MCE, PKE, VMXE, ...): SDM 25.3 "guest/host masks and read shadows".
 */
#define VMX_CR4_GUEST_OWNED	(X86_CR4_PVI | X86_CR4_DE | X86_CR4_TSD | \
				 X86_CR4_PCE | X86_CR4_OSFXSR |		\
				 X86_CR4_OSXMMEXCPT | X86_CR4_PGE |	\
				 X86_CR4_FSGSBASE)

static const u32 vmx_switched_msrs[VMX_NR_MSRS_SWITCHED] = {
	MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK,
};

/* Control values computed once from the capability MSRs. */
static struct {
	u32 revision;
	u32 pin, proc, proc2, exit, entry;
	u64 ept_vpid_cap;
	bool has_vpid;
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	/*
	 * A machine check with CR4.MCE clear shuts the processor down: the
	 * guest runs with the host's CR4.MCE and sees its own in the shadow.
	 */
	unsigned long host_cr4_mce;
} vmx_caps;

static DEFINE_PER_CPU(struct vmcs_hdr *, vmxon_region);
static DEFINE_PER_CPU(struct vmcs_hdr *, current_vmcs);
/*
 * loaded_vmcss (changed on its CPU with IRQs off) and vpid_lock are leaf
 * locks: see "Lock order" in Documentation/virt/mvm/design.rst.
 */
static DEFINE_PER_CPU(struct list_head, loaded_vmcss);
static DEFINE_SPINLOCK(vpid_lock);
static unsigned long *vpid_bitmap;	/* vpid_lock; 65536 bits, bit 0 = host */
static void *vmx_msr_bitmap;		/* all ones: every MSR intercepted */

/*
 * L1 Terminal Fault: a guest can read whatever the host left in the L1
 * data cache through a not-present entry of its own page tables.  When
 * the CPU is affected and the host kernel's own mitigation asks for
 * flushing, the L1D is flushed before entry as KVM does: with l1tf=flush
 * (the default), only when host code that may have touched secrets ran
 * since the last entry (vcpu->arch.l1tf_flush_l1d, or an interrupt on
 * this CPU: the kernel's irq entry sets a per-CPU flag); with l1tf=full,
 * before every entry.
 */
static DEFINE_STATIC_KEY_FALSE(vmx_l1d_flush_on_entry);
static bool vmx_l1d_flush_always __read_mostly;

/*
 * SDM vol. 3D A.10: IA32_VMX_EPT_VPID_CAP bit 16 allows EPT PDEs that map
 * 2 MiB, bit 17 EPT PDPTEs that map 1 GiB (vol. 3C 29.3.2, tables 29-2
 * and 29-4).
 */
static int vmx_ept_max_leaf_level(void)
{
	if (vmx_caps.ept_vpid_cap & VMX_EPT_1GB_PAGE_BIT)
		return PG_LEVEL_1G;
	if (vmx_caps.ept_vpid_cap & VMX_EPT_2MB_PAGE_BIT)
		return PG_LEVEL_2M;
	return PG_LEVEL_4K;
}
#define VMX_L1D_FLUSH_SIZE	(64 * 1024)	/* twice any L1D: displaces all */
static void *vmx_l1d_flush_buf;			/* no FLUSH_CMD MSR: read this */

static void vmx_l1d_flush(struct mvm_vcpu *vcpu)
{
	bool flush = vcpu->arch.l1tf_flush_l1d || kvm_get_cpu_l1tf_flush_l1d();
	int i;

	vcpu->arch.l1tf_flush_l1d = false;
	kvm_clear_cpu_l1tf_flush_l1d();
	if (!flush && !vmx_l1d_flush_always)
		return;
	if (static_cpu_has(X86_FEATURE_FLUSH_L1D)) {
		native_wrmsrl(MSR_IA32_FLUSH_CMD, L1D_FLUSH);
		return;
	}
	/* Touch the pages first so no TLB miss interrupts the sweep. */
	for (i = 0; i < VMX_L1D_FLUSH_SIZE; i += PAGE_SIZE)
		READ_ONCE(((u8 *)vmx_l1d_flush_buf)[i]);
	for (i = 0; i < VMX_L1D_FLUSH_SIZE; i += L1_CACHE_BYTES)
		READ_ONCE(((u8 *)vmx_l1d_flush_buf)[i]);
}

static int vmx_setup_l1d_flush(void)
{
	u64 arch_cap = 0;

	if (!boot_cpu_has_bug(X86_BUG_L1TF) ||
	    l1tf_mitigation == L1TF_MITIGATION_OFF)
		return 0;
	/* Our own hypervisor may say that it flushes for us. */
	if (boot_cpu_has(X86_FEATURE_ARCH_CAPABILITIES))
		rdmsrl(MSR_IA32_ARCH_CAPABILITIES, arch_cap);
	if (arch_cap & ARCH_CAP_SKIP_VMENTRY_L1DFLUSH)
		return 0;
	if (!boot_cpu_has(X86_FEATURE_FLUSH_L1D)) {
		vmx_l1d_flush_buf = vzalloc(VMX_L1D_FLUSH_SIZE);
		if (!vmx_l1d_flush_buf)
			return -ENOMEM;
	}
	vmx_l1d_flush_always = l1tf_mitigation == L1TF_MITIGATION_FULL ||
			       l1tf_mitigation == L1TF_MITIGATION_FULL_FORCE;
	static_branch_enable(&vmx_l1d_flush_on_entry);
	return 0;
}

asmlinkage int __vmx_vcpu_run(unsigned long *regs, bool launched);
asmlinkage void vmx_do_interrupt_irqoff(unsigned long entry);
extern const char vmx_vmexit[];

static inline struct vcpu_vmx *to_vmx(struct mvm_vcpu *vcpu)
{
	return container_of(vcpu, struct vcpu_vmx, vcpu);
}

/* ------------------------------------------------------------------ */
/* VMX instructions (SDM vol. 3C 30; CF or ZF set means failure)        */

static __always_inline unsigned long vmcs_read(unsigned long field)
{
	unsigned long value;

	asm volatile("vmread %1, %0" : "=rm"(value) : "r"(field) : "cc");
	return value;
}

static __always_inline void vmcs_write(unsigned long field, unsigned long value)
{
	bool fail;

	asm volatile("vmwrite %[v], %[f]; setna %[fail]"
		     : [fail] "=qm"(fail) : [v] "rm"(value), [f] "r"(field)
		     : "cc");
	if (unlikely(fail))
		pr_err_ratelimited("vmwrite 0x%lx = 0x%lx failed (error %lu)\n",
				   field, value, vmcs_read(VM_INSTRUCTION_ERROR));
}

static int vmx_vmxon(u64 pa)
{
	bool fail;

	asm volatile("vmxon %[pa]; setna %[fail]"
		     : [fail] "=qm"(fail) : [pa] "m"(pa) : "cc", "memory");
	return fail ? -EIO : 0;
}

static void vmx_vmxoff(void)
{
	asm volatile("vmxoff" ::: "cc", "memory");
}

static void vmcs_clear(struct vmcs_hdr *vmcs)
{
	u64 pa = __pa(vmcs);
	bool fail;

	asm volatile("vmclear %[pa]; setna %[fail]"
		     : [fail] "=qm"(fail) : [pa] "m"(pa) : "cc", "memory");
	if (fail)
		pr_err_ratelimited("vmclear of %llx failed\n", pa);
}

static void vmcs_load(struct vmcs_hdr *vmcs)
{
	u64 pa = __pa(vmcs);
	bool fail;

	asm volatile("vmptrld %[pa]; setna %[fail]"
		     : [fail] "=qm"(fail) : [pa] "m"(pa) : "cc", "memory");
	if (fail)
		pr_err_ratelimited("vmptrld of %llx failed\n", pa);
}

static void vmx_invept(unsigned long type, u64 eptp)
{
	struct { u64 eptp, reserved; } desc = { eptp, 0 };

	asm volatile("invept %0, %1" :: "m"(desc), "r"(type) : "cc", "memory");
}

static void vmx_invvpid(unsigned long type, u16 vpid)
{
	struct { u64 vpid, gva; } desc = { vpid, 0 };

	asm volatile("invvpid %0, %1" :: "m"(desc), "r"(type) : "cc", "memory");
}

/* ------------------------------------------------------------------ */
/* Probe                                                                */

/*
 * SDM A.3-A.5: the low 32 bits of a capability MSR are the controls that
 * must be 1, the high 32 those that may be 1.
 */
static int vmx_adjust_controls(u32 required, u32 optional, u32 msr, u32 *result)
{
	u32 must, may;
	u64 v;

	rdmsrl(msr, v);
	must = (u32)v;
	may = v >> 32;
	if (required & ~may)
		return -ENODEV;
	*result = ((required | optional) & may) | must;
	return 0;
}

int vmx_probe(const char **why)
{
	u64 basic, feat;
	bool true_ctls;
	u32 cap;

	rdmsrl(MSR_IA32_FEAT_CTL, feat);
	if (!(feat & FEAT_CTL_LOCKED) ||
	    !(feat & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX)) {
		*why = "VMX disabled by BIOS (IA32_FEATURE_CONTROL)";
		return -ENODEV;
	}

	rdmsrl(MSR_IA32_VMX_BASIC, basic);
	vmx_caps.revision = basic & 0x7fffffff;
	true_ctls = basic & VMX_BASIC_TRUE_CTLS;

	/*
	 * CR8 exiting: there is no TPR shadow, so a guest MOV to CR8 would
	 * set the physical TPR and mask the host's interrupts.  MOV DR
	 * exiting: the debug registers are switched by hand (x86.c).
	 * RDPMC: no PMU for the guest.  MONITOR/MWAIT: no C-states.
	 */
	/*
	 * Virtual NMIs and the window exits: the guest's NMI blocking in
	 * the interruptibility state, exits when an interrupt or NMI could
	 * be delivered (SDM 25.2, 26.7.5-26.7.6).  The window controls are
	 * required here and set only on demand.
	 */
	if (vmx_adjust_controls(PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING |
				PIN_BASED_VIRTUAL_NMIS,
				0, true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS :
				MSR_IA32_VMX_PINBASED_CTLS, &vmx_caps.pin) ||
	    vmx_adjust_controls(CPU_BASED_HLT_EXITING |
				CPU_BASED_CR8_LOAD_EXITING |
				CPU_BASED_CR8_STORE_EXITING |
				CPU_BASED_MOV_DR_EXITING |
				CPU_BASED_RDPMC_EXITING |
				CPU_BASED_MONITOR_EXITING |
				CPU_BASED_MWAIT_EXITING |
				CPU_BASED_UNCOND_IO_EXITING |
				CPU_BASED_INTR_WINDOW_EXITING |
				CPU_BASED_NMI_WINDOW_EXITING |
				CPU_BASED_USE_MSR_BITMAPS |
				CPU_BASED_USE_TSC_OFFSETTING |
				CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, 0,
				true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS :
				MSR_IA32_VMX_PROCBASED_CTLS, &vmx_caps.proc)) {
		*why = "missing basic VMX controls";
		return -ENODEV;
	}
	/*
	 * PAUSE-loop exiting where the CPU has it (SDM 26.1.3): a vCPU
	 * spinning on a lock whose holder's thread is preempted gives its
	 * CPU away (mvm_handle_pause()), as under KVM.
	 */
	if (vmx_adjust_controls(SECONDARY_EXEC_ENABLE_EPT |
				SECONDARY_EXEC_UNRESTRICTED_GUEST |
				SECONDARY_EXEC_WBINVD_EXITING,
				SECONDARY_EXEC_ENABLE_VPID |
				SECONDARY_EXEC_PAUSE_LOOP_EXITING,
				MSR_IA32_VMX_PROCBASED_CTLS2, &vmx_caps.proc2)) {
		*why = "no EPT, unrestricted guest or WBINVD exiting";
		return -ENODEV;
	}
	/*
	 * Acknowledge interrupts on exit and hand them to the host's IDT
	 * (vmx_handle_external_interrupt_irqoff()): leaving them pending in
	 * the local APIC does not make Bochs exit a guest spinning with
	 * RFLAGS.IF clear.
	 */
	/* Debug controls: the guest's DR7 and DEBUGCTL, never the host's. */
	if (vmx_adjust_controls(VM_EXIT_HOST_ADDR_SPACE_SIZE |
				VM_EXIT_ACK_INTR_ON_EXIT |
				VM_EXIT_SAVE_DEBUG_CONTROLS |
				VM_EXIT_SAVE_IA32_PAT | VM_EXIT_LOAD_IA32_PAT |
				VM_EXIT_SAVE_IA32_EFER | VM_EXIT_LOAD_IA32_EFER,
				0, true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS :
				MSR_IA32_VMX_EXIT_CTLS, &vmx_caps.exit) ||
	    vmx_adjust_controls(VM_ENTRY_LOAD_IA32_PAT | VM_ENTRY_LOAD_IA32_EFER |
				VM_ENTRY_LOAD_DEBUG_CONTROLS,
				0, true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS :
				MSR_IA32_VMX_ENTRY_CTLS, &vmx_caps.entry)) {
		*why = "missing PAT/EFER/debug switching controls";
		return -ENODEV;
	}
	/* Guests must not see CR3 accesses trap: EPT makes them harmless. */
	vmx_caps.proc &= ~(CPU_BASED_CR3_LOAD_EXITING | CPU_BASED_CR3_STORE_EXITING |
			   CPU_BASED_INTR_WINDOW_EXITING |
			   CPU_BASED_NMI_WINDOW_EXITING);
	vmx_caps.entry &= ~VM_ENTRY_IA32E_MODE;

	rdmsrl(MSR_IA32_VMX_EPT_VPID_CAP, vmx_caps.ept_vpid_cap);
	cap = vmx_caps.ept_vpid_cap;
	if (!(cap & VMX_EPT_PAGE_WALK_4_BIT) || !(cap & VMX_EPTP_WB_BIT) ||
	    !(cap & VMX_EPT_INVEPT_BIT)) {
		*why = "EPT lacks 4-level walks, WB or INVEPT";
		return -ENODEV;
	}
	vmx_caps.has_vpid = (vmx_caps.proc2 & SECONDARY_EXEC_ENABLE_VPID) &&
			    (vmx_caps.ept_vpid_cap & VMX_VPID_INVVPID_BIT);
	if (!vmx_caps.has_vpid)
		vmx_caps.proc2 &= ~SECONDARY_EXEC_ENABLE_VPID;

	rdmsrl(MSR_IA32_VMX_CR0_FIXED0, vmx_caps.cr0_fixed0);
	rdmsrl(MSR_IA32_VMX_CR0_FIXED1, vmx_caps.cr0_fixed1);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED0, vmx_caps.cr4_fixed0);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED1, vmx_caps.cr4_fixed1);
	vmx_caps.host_cr4_mce = __read_cr4() & X86_CR4_MCE;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Per-CPU enable                                                       */

static void vmx_hardware_unsetup(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		free_page((unsigned long)per_cpu(vmxon_region, cpu));
		per_cpu(vmxon_region, cpu) = NULL;
	}
	free_page((unsigned long)vmx_msr_bitmap);
	bitmap_free(vpid_bitmap);
	static_branch_disable(&vmx_l1d_flush_on_entry);
	vfree(vmx_l1d_flush_buf);
	vmx_l1d_flush_buf = NULL;
	vmx_msr_bitmap = NULL;
	vpid_bitmap = NULL;
}

static int vmx_hardware_setup(void)
{
	int cpu;

	vmx_msr_bitmap = (void *)__get_free_page(GFP_KERNEL);
	vpid_bitmap = bitmap_zalloc(1 << 16, GFP_KERNEL);
	if (!vmx_msr_bitmap || !vpid_bitmap)
		goto nomem;
	memset(vmx_msr_bitmap, 0xff, PAGE_SIZE);
	__set_bit(0, vpid_bitmap);

	for_each_possible_cpu(cpu) {
		struct vmcs_hdr *v = (void *)get_zeroed_page(GFP_KERNEL);

		if (!v)
			goto nomem;
		v->revision_id = vmx_caps.revision;
		per_cpu(vmxon_region, cpu) = v;
		INIT_LIST_HEAD(&per_cpu(loaded_vmcss, cpu));
	}
	if (vmx_setup_l1d_flush())
		goto nomem;
	pr_info("EPT, unrestricted guest%s%s\n", vmx_caps.has_vpid ? ", VPID" : "",
		static_key_enabled(&vmx_l1d_flush_on_entry) ?
		", L1D flush on entry" : "");
	return 0;
nomem:
	vmx_hardware_unsetup();
	return -ENOMEM;
}

/* This CPU, IRQs off (SDM 23.7 "Enabling and Entering VMX Operation"). */
static int vmx_hardware_enable(void)
{
	u64 feat;
	int r;

	if (__read_cr4() & X86_CR4_VMXE)
		return -EBUSY;	/* another hypervisor is in VMX operation */
	rdmsrl(MSR_IA32_FEAT_CTL, feat);
	if (!(feat & FEAT_CTL_LOCKED) ||
	    !(feat & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX))
		return -ENODEV;

	cr4_set_bits(X86_CR4_VMXE);
	r = vmx_vmxon(__pa(this_cpu_read(vmxon_region)));
	if (r) {
		cr4_clear_bits(X86_CR4_VMXE);
		return r;
	}
	this_cpu_write(current_vmcs, NULL);
	/* EPT and VPID translations of an earlier owner must not survive. */
	vmx_invept(VMX_EPT_EXTENT_GLOBAL, 0);
	if (vmx_caps.has_vpid)
		vmx_invvpid(VMX_VPID_EXTENT_ALL_CONTEXT, 0);
	return 0;
}

/* On the VMCS's CPU, IRQs off: loaded_vmcss is per-CPU (design.rst). */
static void vmx_clear_loaded(struct vcpu_vmx *vmx)
{
	lockdep_assert_irqs_disabled();
	vmcs_clear(vmx->vmcs);
	if (this_cpu_read(current_vmcs) == vmx->vmcs)
		this_cpu_write(current_vmcs, NULL);
	list_del(&vmx->loaded_link);
	/* Other CPUs read these without the IPI's ordering. */
	smp_wmb();
	vmx->launched = false;
	WRITE_ONCE(vmx->loaded_cpu, -1);
}

static void vmx_hardware_disable(void)
{
	struct vcpu_vmx *vmx, *tmp;

	/* VMXOFF with an active VMCS would lose its state (SDM 24.11.1). */
	list_for_each_entry_safe(vmx, tmp, this_cpu_ptr(&loaded_vmcss), loaded_link)
		vmx_clear_loaded(vmx);
	vmx_vmxoff();
	cr4_clear_bits(X86_CR4_VMXE);
}

/* ------------------------------------------------------------------ */
/* vCPU load/put                                                        */

static void vmx_clear_ipi(void *data)
{
	struct vcpu_vmx *vmx = data;

	if (vmx->loaded_cpu == smp_processor_id())
		vmx_clear_loaded(vmx);
}

static void vmx_clear_vmcs(struct vcpu_vmx *vmx)
{
	int cpu = READ_ONCE(vmx->loaded_cpu);

	if (cpu >= 0)
		smp_call_function_single(cpu, vmx_clear_ipi, vmx, 1);
}

static u64 vmx_eptp(struct mvm_vcpu *vcpu)
{
	struct mvm_mmu *mmu = &vcpu->mvm->arch.mmu;

	/* SDM 25.6.11: WB (6), walk length - 1 in bits 5:3. */
	return mmu->root_hpa | ((mmu->levels - 1) << 3) | 6;
}

static void vmx_vcpu_load(struct mvm_vcpu *vcpu, int cpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	unsigned long flags, fsbase;
	int i;

	if (vmx->loaded_cpu != cpu) {
		vmx_clear_vmcs(vmx);
		local_irq_save(flags);
		list_add(&vmx->loaded_link, this_cpu_ptr(&loaded_vmcss));
		local_irq_restore(flags);
		vmx->loaded_cpu = cpu;
		/* Translations cached on this CPU may be stale. */
		vmx->tlb_flush_pending = true;
	}
	if (this_cpu_read(current_vmcs) != vmx->vmcs) {
		vmcs_load(vmx->vmcs);
		this_cpu_write(current_vmcs, vmx->vmcs);

		/* Per-CPU host state (SDM 24.5). */
		vmcs_write(HOST_TR_BASE, (unsigned long)&get_cpu_entry_area(cpu)->tss.x86_tss);
		vmcs_write(HOST_GDTR_BASE, (unsigned long)get_cpu_gdt_ro(cpu));
		vmcs_write(HOST_GS_BASE, cpu_kernelmode_gs_base(cpu));
		vmcs_write(HOST_IA32_SYSENTER_ESP,
			   (unsigned long)(cpu_entry_stack(cpu) + 1));
	}
	/* The task's own FS base: thread.fsbase is only saved on switch. */
	rdmsrl(MSR_FS_BASE, fsbase);
	vmcs_write(HOST_FS_BASE, fsbase);
	vmx->host_debugctl = get_debugctlmsr();

	if (!vmx->guest_msrs_loaded) {
		for (i = 0; i < VMX_NR_MSRS_SWITCHED; i++) {
			rdmsrl(vmx_switched_msrs[i], vmx->host_msrs[i]);
			wrmsrl(vmx_switched_msrs[i], vmx->guest_msrs[i]);
		}
		vmx->guest_msrs_loaded = true;

		/*
		 * SDM 26.2.3: host selectors must have RPL and TI clear;
		 * others (a 32-bit or LDT-using VMM) are reloaded by hand.
		 */
		savesegment(ds, vmx->host_ds);
		savesegment(es, vmx->host_es);
		savesegment(fs, vmx->host_fs);
		savesegment(gs, vmx->host_gs);
		asm volatile("sldt %0" : "=rm"(vmx->host_ldt));
		vmcs_write(HOST_FS_SELECTOR, vmx->host_fs & 7 ? 0 : vmx->host_fs);
		vmcs_write(HOST_GS_SELECTOR, vmx->host_gs & 7 ? 0 : vmx->host_gs);
	}
	native_store_gdt(&vmx->host_gdt);
}

static void vmx_vcpu_put(struct mvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	int i;

	if (vmx->guest_msrs_loaded) {
		for (i = 0; i < VMX_NR_MSRS_SWITCHED; i++)
			rdmsrl(vmx_switched_msrs[i], vmx->guest_msrs[i]);
		/* Before KERNEL_GS_BASE: loading GS clobbers it. */
		if (vmx->host_ldt)
			asm volatile("lldt %0" :: "rm"(vmx->host_ldt));
		if (vmx->host_gs & 7)
			load_gs_index(vmx->host_gs);
		if (vmx->host_fs & 7)
			loadsegment(fs, vmx->host_fs);
		if (vmx->host_ds | vmx->host_es) {
			loadsegment(ds, vmx->host_ds);
			loadsegment(es, vmx->host_es);
		}
		for (i = 0; i < VMX_NR_MSRS_SWITCHED; i++)
			wrmsrl(vmx_switched_msrs[i], vmx->host_msrs[i]);
		vmx->guest_msrs_loaded = false;
	}
	/*
	 * A VM exit leaves the TR limit at 0x67, cutting off the I/O bitmap
	 * of ioperm() tasks, and the GDT limit at 0xffff (SDM 27.5.2).
	 */
	invalidate_tss_limit();
	load_gdt(&vmx->host_gdt);
}

/* ------------------------------------------------------------------ */
/* VM and vCPU                                                          */

static int vmx_vcpu_create(struct mvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);

	vmx->vmcs = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vmx->vmcs)
		return -ENOMEM;
	vmx->vmcs->revision_id = vmx_caps.revision;
	vmx->loaded_cpu = -1;
	INIT_LIST_HEAD(&vmx->loaded_link);

	if (vmx_caps.has_vpid) {
		spin_lock(&vpid_lock);
		vmx->vpid = find_first_zero_bit(vpid_bitmap, 1 << 16);
		if (vmx->vpid < (1 << 16) && vmx->vpid)
			__set_bit(vmx->vpid, vpid_bitmap);
		else
			vmx->vpid = 0;	/* none left: flush on every entry */
		spin_unlock(&vpid_lock);
	}
	return 0;
}

static void vmx_vcpu_free(struct mvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);

	vmx_clear_vmcs(vmx);
	if (vmx->vpid) {
		spin_lock(&vpid_lock);
		__clear_bit(vmx->vpid, vpid_bitmap);
		spin_unlock(&vpid_lock);
	}
	free_page((unsigned long)vmx->vmcs);
}

static void vmx_set_seg_regs(unsigned long sel, unsigned long base,
			     unsigned long limit, unsigned long ar,
			     u16 selector, u32 access)
{
	vmcs_write(sel, selector);
	vmcs_write(base, 0);
	vmcs_write(limit, 0xffff);
	vmcs_write(ar, access);
}

/* Reset state, SDM vol. 3A 10.1.1 "Processor State After Reset". */
static void vmx_vcpu_reset(struct mvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	struct desc_ptr idt;
	u64 v;

	/* Controls. */
	vmcs_write(PIN_BASED_VM_EXEC_CONTROL, vmx_caps.pin);
	vmcs_write(CPU_BASED_VM_EXEC_CONTROL, vmx_caps.proc);
	vmcs_write(SECONDARY_VM_EXEC_CONTROL, vmx_caps.proc2);
	vmcs_write(VM_EXIT_CONTROLS, vmx_caps.exit);
	vmcs_write(VM_ENTRY_CONTROLS, vmx_caps.entry);
	/*
	 * #DB and #AC: a guest could otherwise make their delivery fault
	 * again forever inside the CPU, with no exit (CVE-2015-8104,
	 * CVE-2015-5307).  #MC: a machine check is the host's.
	 */
	vmcs_write(EXCEPTION_BITMAP, BIT(DB_VECTOR) | BIT(AC_VECTOR) |
				     BIT(MC_VECTOR));
	vmcs_write(MSR_BITMAP, __pa(vmx_msr_bitmap));
	if (vmx_caps.proc2 & SECONDARY_EXEC_PAUSE_LOOP_EXITING) {
		/*
		 * KVM's defaults, in TSC cycles: PAUSEs at most PLE_GAP apart
		 * are one loop, which exits once it spans PLE_WINDOW.
		 */
		vmcs_write(PLE_GAP, 128);
		vmcs_write(PLE_WINDOW, 4096);
	}
	vmcs_write(EPT_POINTER, vmx_eptp(vcpu));
	if (vmx->vpid)
		vmcs_write(VIRTUAL_PROCESSOR_ID, vmx->vpid);
	vmcs_write(VMCS_LINK_POINTER, -1ULL);
	vmcs_write(VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, 0);
	/* PG and NE are the hypervisor's in CR0 (SDM 25.3). */
	vmcs_write(CR0_GUEST_HOST_MASK, X86_CR0_PG | X86_CR0_NE);
	vmcs_write(CR4_GUEST_HOST_MASK, ~(unsigned long)VMX_CR4_GUEST_OWNED);

	/* Host state that is the same on every CPU (SDM 24.5). */
	vmcs_write(HOST_CR0, read_cr0());
	vmx->host_cr3 = __read_cr3();
	vmcs_write(HOST_CR3, vmx->host_cr3);
	vmx->host_cr4 = __read_cr4();
	vmcs_write(HOST_CR4, vmx->host_cr4);
	vmcs_write(HOST_CS_SELECTOR, __KERNEL_CS);
	vmcs_write(HOST_SS_SELECTOR, __KERNEL_DS);
	vmcs_write(HOST_DS_SELECTOR, 0);
	vmcs_write(HOST_ES_SELECTOR, 0);
	vmcs_write(HOST_FS_SELECTOR, 0);
	vmcs_write(HOST_GS_SELECTOR, 0);
	vmcs_write(HOST_TR_SELECTOR, GDT_ENTRY_TSS * 8);
	store_idt(&idt);
	vmcs_write(HOST_IDTR_BASE, idt.address);
	vmcs_write(HOST_RIP, (unsigned long)vmx_vmexit);
	rdmsrl(MSR_IA32_SYSENTER_CS, v);
	vmcs_write(HOST_IA32_SYSENTER_CS, v);
	rdmsrl(MSR_IA32_SYSENTER_EIP, v);
	vmcs_write(HOST_IA32_SYSENTER_EIP, v);
	rdmsrl(MSR_IA32_CR_PAT, v);
	vmcs_write(HOST_IA32_PAT, v);
	rdmsrl(MSR_EFER, v);
	vmcs_write(HOST_IA32_EFER, v);

	/* Guest state. */
	vmx_set_seg_regs(GUEST_ES_SELECTOR, GUEST_ES_BASE, GUEST_ES_LIMIT,
			 GUEST_ES_AR_BYTES, 0, 0x93);
	vmx_set_seg_regs(GUEST_SS_SELECTOR, GUEST_SS_BASE, GUEST_SS_LIMIT,
			 GUEST_SS_AR_BYTES, 0, 0x93);
	vmx_set_seg_regs(GUEST_DS_SELECTOR, GUEST_DS_BASE, GUEST_DS_LIMIT,
			 GUEST_DS_AR_BYTES, 0, 0x93);
	vmx_set_seg_regs(GUEST_FS_SELECTOR, GUEST_FS_BASE, GUEST_FS_LIMIT,
			 GUEST_FS_AR_BYTES, 0, 0x93);
	vmx_set_seg_regs(GUEST_GS_SELECTOR, GUEST_GS_BASE, GUEST_GS_LIMIT,
			 GUEST_GS_AR_BYTES, 0, 0x93);
	vmx_set_seg_regs(GUEST_CS_SELECTOR, GUEST_CS_BASE, GUEST_CS_LIMIT,
			 GUEST_CS_AR_BYTES, 0xf000, 0x9b);
	vmcs_write(GUEST_CS_BASE, 0xffff0000);
	vmx_set_seg_regs(GUEST_TR_SELECTOR, GUEST_TR_BASE, GUEST_TR_LIMIT,
			 GUEST_TR_AR_BYTES, 0, 0x8b);
	vmx_set_seg_regs(GUEST_LDTR_SELECTOR, GUEST_LDTR_BASE, GUEST_LDTR_LIMIT,
			 GUEST_LDTR_AR_BYTES, 0, 0x82);

	/* CRs, EFER, GDTR/IDTR, RFLAGS, DR7, PAT, TSC offset: mvm_set_reset_registers(). */
	vmcs_write(GUEST_IA32_DEBUGCTL, 0);
	vmcs_write(GUEST_RIP, 0xfff0);
	vmcs_write(GUEST_RSP, 0);
	vmcs_write(GUEST_SYSENTER_CS, 0);
	vmcs_write(GUEST_SYSENTER_ESP, 0);
	vmcs_write(GUEST_SYSENTER_EIP, 0);
	vmcs_write(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, 0);

	memset(vmx->guest_msrs, 0, sizeof(vmx->guest_msrs));
	if (vmx->guest_msrs_loaded) {
		int i;

		for (i = 0; i < VMX_NR_MSRS_SWITCHED; i++)
			wrmsrl(vmx_switched_msrs[i], 0);
	}
	vmx->tlb_flush_pending = true;
}

static void vmx_flush_tlb(struct mvm_vcpu *vcpu)
{
	to_vmx(vcpu)->tlb_flush_pending = true;
}

/* ------------------------------------------------------------------ */
/* Register state                                                       */

static void vmx_cache_reg(struct mvm_vcpu *vcpu, enum mvm_reg reg)
{
	switch (reg) {
	case MVM_REG_RSP:
		vcpu->arch.regs[reg] = vmcs_read(GUEST_RSP);
		break;
	case MVM_REG_RIP:
		vcpu->arch.regs[reg] = vmcs_read(GUEST_RIP);
		break;
	default:
		break;
	}
	__set_bit(reg, &vcpu->arch.regs_avail);
}

static unsigned long vmx_get_rflags(struct mvm_vcpu *vcpu)
{
	return vmcs_read(GUEST_RFLAGS);
}

static void vmx_set_rflags(struct mvm_vcpu *vcpu, unsigned long rflags)
{
	vmcs_write(GUEST_RFLAGS, rflags);
}

/* VMCS field encodings of ES..GS, TR, LDTR step by 2 (SDM B.1.2-B.3.3). */
static const struct {
	u32 selector, base, limit, ar;
} vmx_segs[] = {
	[VCPU_SREG_ES]	 = { GUEST_ES_SELECTOR, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_AR_BYTES },
	[VCPU_SREG_CS]	 = { GUEST_CS_SELECTOR, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_AR_BYTES },
	[VCPU_SREG_SS]	 = { GUEST_SS_SELECTOR, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_AR_BYTES },
	[VCPU_SREG_DS]	 = { GUEST_DS_SELECTOR, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_AR_BYTES },
	[VCPU_SREG_FS]	 = { GUEST_FS_SELECTOR, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_AR_BYTES },
	[VCPU_SREG_GS]	 = { GUEST_GS_SELECTOR, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_AR_BYTES },
	[VCPU_SREG_TR]	 = { GUEST_TR_SELECTOR, GUEST_TR_BASE, GUEST_TR_LIMIT, GUEST_TR_AR_BYTES },
	[VCPU_SREG_LDTR] = { GUEST_LDTR_SELECTOR, GUEST_LDTR_BASE, GUEST_LDTR_LIMIT, GUEST_LDTR_AR_BYTES },
};

/* SDM 24.4.1 table 24-2: access rights; bit 16 = unusable. */
static void vmx_get_segment(struct mvm_vcpu *vcpu, struct kvm_segment *var,
			    int seg)
{
	u32 ar = vmcs_read(vmx_segs[seg].ar);

	memset(var, 0, sizeof(*var));
	var->selector = vmcs_read(vmx_segs[seg].selector);
	var->base = vmcs_read(vmx_segs[seg].base);
	var->limit = vmcs_read(vmx_segs[seg].limit);
	var->unusable = (ar >> 16) & 1;
	var->type = ar & 15;
	var->s = (ar >> 4) & 1;
	var->dpl = (ar >> 5) & 3;
	var->present = !var->unusable;
	var->avl = (ar >> 12) & 1;
	var->l = (ar >> 13) & 1;
	var->db = (ar >> 14) & 1;
	var->g = (ar >> 15) & 1;
}

static void vmx_set_segment(struct mvm_vcpu *vcpu,
			    const struct kvm_segment *var, int seg)
{
	u32 ar, type = var->type & 15;

	/*
	 * A segment register's cached descriptor is always accessed; with
	 * unrestricted guest VM entry checks bit 0 of the type of every
	 * usable segment but LDTR (SDM 26.3.1.2).  KVM sets it for the
	 * VMMs that pass it clear.
	 */
	if (seg != VCPU_SREG_LDTR)
		type |= 1;
	/*
	 * An unusable segment keeps its other attributes, as in KVM: VM
	 * entry still checks some of them, e.g. SS.DPL is 0 with CR0.PE=0.
	 */
	ar = type | (var->s & 1) << 4 | (var->dpl & 3) << 5 |
	     (var->present & 1) << 7 | (var->avl & 1) << 12 |
	     (var->l & 1) << 13 | (var->db & 1) << 14 | (var->g & 1) << 15;
	if (var->unusable || !var->present)
		ar |= 1 << 16;
	vmcs_write(vmx_segs[seg].selector, var->selector);
	vmcs_write(vmx_segs[seg].base, var->base);
	vmcs_write(vmx_segs[seg].limit, var->limit);
	vmcs_write(vmx_segs[seg].ar, ar);
}

static void vmx_get_idt(struct mvm_vcpu *vcpu, struct desc_ptr *dt)
{
	dt->size = vmcs_read(GUEST_IDTR_LIMIT);
	dt->address = vmcs_read(GUEST_IDTR_BASE);
}

static void vmx_set_idt(struct mvm_vcpu *vcpu, const struct desc_ptr *dt)
{
	vmcs_write(GUEST_IDTR_LIMIT, dt->size);
	vmcs_write(GUEST_IDTR_BASE, dt->address);
}

static void vmx_get_gdt(struct mvm_vcpu *vcpu, struct desc_ptr *dt)
{
	dt->size = vmcs_read(GUEST_GDTR_LIMIT);
	dt->address = vmcs_read(GUEST_GDTR_BASE);
}

static void vmx_set_gdt(struct mvm_vcpu *vcpu, const struct desc_ptr *dt)
{
	vmcs_write(GUEST_GDTR_LIMIT, dt->size);
	vmcs_write(GUEST_GDTR_BASE, dt->address);
}

static u64 vmx_get_efer(struct mvm_vcpu *vcpu)
{
	return vmcs_read(GUEST_IA32_EFER);
}

/* The "IA-32e mode guest" entry control is EFER.LMA (SDM 26.3.1.1). */
static void vmx_set_efer(struct mvm_vcpu *vcpu, u64 efer)
{
	u32 entry = vmcs_read(VM_ENTRY_CONTROLS);

	vmcs_write(GUEST_IA32_EFER, efer);
	if (efer & EFER_LMA)
		entry |= VM_ENTRY_IA32E_MODE;
	else
		entry &= ~VM_ENTRY_IA32E_MODE;
	vmcs_write(VM_ENTRY_CONTROLS, entry);
}

/*
 * With EPT and PAE paging the CPU takes the PDPTEs from the VMCS at entry
 * (SDM 26.3.2.4); after a guest MOV to CR3 it keeps them there itself.
 */
static void vmx_load_pdptrs(struct mvm_vcpu *vcpu)
{
	u64 cr0 = vmcs_read(CR0_READ_SHADOW), cr4 = vmcs_read(CR4_READ_SHADOW);
	u64 pdpte[4] = {};

	if (!(cr0 & X86_CR0_PG) || !(cr4 & X86_CR4_PAE) ||
	    (vmx_get_efer(vcpu) & EFER_LMA))
		return;
	mvm_read_guest(vcpu->mvm, vmcs_read(GUEST_CR3) & ~0x1fULL, pdpte,
		       sizeof(pdpte));
	vmcs_write(GUEST_PDPTR0, pdpte[0]);
	vmcs_write(GUEST_PDPTR1, pdpte[1]);
	vmcs_write(GUEST_PDPTR2, pdpte[2]);
	vmcs_write(GUEST_PDPTR3, pdpte[3]);
}

static unsigned long vmx_get_cr(struct mvm_vcpu *vcpu, int cr)
{
	switch (cr) {
	case 0:
		return (vmcs_read(GUEST_CR0) & ~(X86_CR0_PG | X86_CR0_NE)) |
		       (vmcs_read(CR0_READ_SHADOW) & (X86_CR0_PG | X86_CR0_NE));
	case 2:
		return vcpu->arch.cr2;
	case 3:
		return vmcs_read(GUEST_CR3);
	default:
		return (vmcs_read(GUEST_CR4) & VMX_CR4_GUEST_OWNED) |
		       (vmcs_read(CR4_READ_SHADOW) & ~VMX_CR4_GUEST_OWNED);
	}
}

static void vmx_set_cr(struct mvm_vcpu *vcpu, int cr, unsigned long val)
{
	switch (cr) {
	case 0:
		/* EFER.LMA was updated first (mvm_set_cr0()). */
		vmcs_write(CR0_READ_SHADOW, val);
		vmcs_write(GUEST_CR0, val | X86_CR0_NE);
		vmx_load_pdptrs(vcpu);
		break;
	case 2:
		vcpu->arch.cr2 = val;
		break;
	case 3:
		vmcs_write(GUEST_CR3, val);
		vmx_load_pdptrs(vcpu);
		break;
	default:
		vmcs_write(CR4_READ_SHADOW, val);
		vmcs_write(GUEST_CR4, val | X86_CR4_VMXE | vmx_caps.host_cr4_mce);
		vmx_load_pdptrs(vcpu);
		break;
	}
}

/*
 * CPL is SS.DPL in protected mode (SDM 5.5); 0 in real mode, 3 in
 * virtual-8086 mode.
 */
static int vmx_get_cpl(struct mvm_vcpu *vcpu)
{
	if (!(vmcs_read(GUEST_CR0) & X86_CR0_PE))
		return 0;
	if (vmcs_read(GUEST_RFLAGS) & X86_EFLAGS_VM)
		return 3;
	return (vmcs_read(GUEST_SS_AR_BYTES) >> 5) & 3;
}

static void vmx_set_dr7(struct mvm_vcpu *vcpu, unsigned long val)
{
	vmcs_write(GUEST_DR7, val);
}

/* SDM 24.4.2 table 24-3: the interruptibility state. */
static u32 vmx_get_interrupt_shadow(struct mvm_vcpu *vcpu)
{
	u32 v = vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
	u32 mask = 0;

	if (v & GUEST_INTR_STATE_STI)
		mask |= MVM_X86_SHADOW_INT_STI;
	if (v & GUEST_INTR_STATE_MOV_SS)
		mask |= MVM_X86_SHADOW_INT_MOV_SS;
	return mask;
}

static void vmx_set_interrupt_shadow(struct mvm_vcpu *vcpu, u32 mask)
{
	u32 old = vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
	u32 v = old & ~(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS);

	if (mask & MVM_X86_SHADOW_INT_MOV_SS)
		v |= GUEST_INTR_STATE_MOV_SS;
	else if (mask & MVM_X86_SHADOW_INT_STI)
		v |= GUEST_INTR_STATE_STI;
	if (v != old)
		vmcs_write(GUEST_INTERRUPTIBILITY_INFO, v);
}

static int vmx_switched_msr_index(u32 index)
{
	int i;

	for (i = 0; i < VMX_NR_MSRS_SWITCHED; i++)
		if (vmx_switched_msrs[i] == index)
			return i;
	return -1;
}

static int vmx_get_msr(struct mvm_vcpu *vcpu, u32 index, u64 *data)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	int i = vmx_switched_msr_index(index);

	if (i >= 0) {
		if (vmx->guest_msrs_loaded)
			rdmsrl(index, *data);
		else
			*data = vmx->guest_msrs[i];
		return 0;
	}
	switch (index) {
	case MSR_FS_BASE:		*data = vmcs_read(GUEST_FS_BASE); break;
	case MSR_GS_BASE:		*data = vmcs_read(GUEST_GS_BASE); break;
	case MSR_IA32_SYSENTER_CS:	*data = vmcs_read(GUEST_SYSENTER_CS); break;
	case MSR_IA32_SYSENTER_ESP:	*data = vmcs_read(GUEST_SYSENTER_ESP); break;
	case MSR_IA32_SYSENTER_EIP:	*data = vmcs_read(GUEST_SYSENTER_EIP); break;
	case MSR_IA32_CR_PAT:		*data = vmcs_read(GUEST_IA32_PAT); break;
	default:
		return 1;
	}
	return 0;
}

static int vmx_set_msr(struct mvm_vcpu *vcpu, u32 index, u64 data,
		       bool host_initiated)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	int i = vmx_switched_msr_index(index);

	if (i >= 0) {
		/* mvm_set_msr() refused non-canonical addresses already. */
		vmx->guest_msrs[i] = data;
		if (vmx->guest_msrs_loaded)
			wrmsrl(index, data);
		return 0;
	}
	switch (index) {
	case MSR_FS_BASE:		vmcs_write(GUEST_FS_BASE, data); break;
	case MSR_GS_BASE:		vmcs_write(GUEST_GS_BASE, data); break;
	case MSR_IA32_SYSENTER_CS:	vmcs_write(GUEST_SYSENTER_CS, data); break;
	case MSR_IA32_SYSENTER_ESP:	vmcs_write(GUEST_SYSENTER_ESP, data); break;
	case MSR_IA32_SYSENTER_EIP:	vmcs_write(GUEST_SYSENTER_EIP, data); break;
	case MSR_IA32_CR_PAT:		vmcs_write(GUEST_IA32_PAT, data); break;
	default:
		return 1;
	}
	return 0;
}

static u64 vmx_get_tsc_offset(struct mvm_vcpu *vcpu)
{
	return vmcs_read(TSC_OFFSET);
}

static void vmx_set_tsc_offset(struct mvm_vcpu *vcpu, u64 offset)
{
	vmcs_write(TSC_OFFSET, offset);
}

static void vmx_skip_instruction(struct mvm_vcpu *vcpu)
{
	mvm_rip_write(vcpu, mvm_rip_read(vcpu) +
			    vmcs_read(VM_EXIT_INSTRUCTION_LEN));
	vmx_set_interrupt_shadow(vcpu, 0);
}

/* ------------------------------------------------------------------ */
/* Event injection (SDM 26.6), windows (26.7.5-6), blocking (24.4.2)    */

static void vmx_inject_exception(struct mvm_vcpu *vcpu)
{
	struct mvm_queued_exception *ex = &vcpu->arch.exception;
	u32 info = ex->vector | INTR_INFO_VALID_MASK;

	/*
	 * An INT3/INTO interrupted mid-delivery goes back as a software
	 * exception with its length, so that the return address is past it.
	 */
	if (ex->insn_len) {
		info |= INTR_TYPE_SOFT_EXCEPTION;
		vmcs_write(VM_ENTRY_INSTRUCTION_LEN, ex->insn_len);
	} else {
		info |= INTR_TYPE_HARD_EXCEPTION;
	}
	/*
	 * Real mode exceptions push no error code, and VM entry fails if
	 * one is to be delivered with CR0.PE=0 or has bits 31:16 set (SDM
	 * 26.2.1.3): drop those bits, as KVM does.
	 */
	if (ex->has_error_code && (vmcs_read(GUEST_CR0) & X86_CR0_PE)) {
		info |= INTR_INFO_DELIVER_CODE_MASK;
		vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, (u16)ex->error_code);
	}
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, info);
}

static void vmx_inject_irq(struct mvm_vcpu *vcpu)
{
	struct mvm_queued_interrupt *intr = &vcpu->arch.interrupt;
	u32 info = intr->nr | INTR_INFO_VALID_MASK;

	if (intr->soft) {
		info |= INTR_TYPE_SOFT_INTR;
		vmcs_write(VM_ENTRY_INSTRUCTION_LEN, intr->insn_len);
	} else {
		info |= INTR_TYPE_EXT_INTR;
	}
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, info);
}

/* With virtual NMIs, delivery sets blocking by NMI until IRET (26.6.1.2). */
static void vmx_inject_nmi(struct mvm_vcpu *vcpu)
{
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, NMI_VECTOR | INTR_TYPE_NMI_INTR |
					     INTR_INFO_VALID_MASK);
}

static bool vmx_interrupt_allowed(struct mvm_vcpu *vcpu)
{
	return (vmcs_read(GUEST_RFLAGS) & X86_EFLAGS_IF) &&
	       !(vmcs_read(GUEST_INTERRUPTIBILITY_INFO) &
		 (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS));
}

/* As KVM: STI blocking also holds NMIs back (some CPUs do, 24.4.2). */
static bool vmx_nmi_allowed(struct mvm_vcpu *vcpu)
{
	return !(vmcs_read(GUEST_INTERRUPTIBILITY_INFO) &
		 (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS |
		  GUEST_INTR_STATE_NMI));
}

static void vmx_exec_control_set(u32 bits, bool on)
{
	u32 old = vmcs_read(CPU_BASED_VM_EXEC_CONTROL);
	u32 v = on ? old | bits : old & ~bits;

	if (v != old)
		vmcs_write(CPU_BASED_VM_EXEC_CONTROL, v);
}

static void vmx_enable_irq_window(struct mvm_vcpu *vcpu)
{
	vmx_exec_control_set(CPU_BASED_INTR_WINDOW_EXITING, true);
}

/*
 * An NMI-window exit may not come while STI blocking lasts (SDM 26.7.6
 * leaves it to the model): wait for the interrupt window instead, as KVM.
 */
static void vmx_enable_nmi_window(struct mvm_vcpu *vcpu)
{
	if (vmcs_read(GUEST_INTERRUPTIBILITY_INFO) & GUEST_INTR_STATE_STI)
		vmx_enable_irq_window(vcpu);
	else
		vmx_exec_control_set(CPU_BASED_NMI_WINDOW_EXITING, true);
}

static bool vmx_get_nmi_mask(struct mvm_vcpu *vcpu)
{
	return vmcs_read(GUEST_INTERRUPTIBILITY_INFO) & GUEST_INTR_STATE_NMI;
}

static void vmx_set_nmi_mask(struct mvm_vcpu *vcpu, bool masked)
{
	u32 old = vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
	u32 v = masked ? old | GUEST_INTR_STATE_NMI :
			 old & ~GUEST_INTR_STATE_NMI;

	if (v != old)
		vmcs_write(GUEST_INTERRUPTIBILITY_INFO, v);
}

static void vmx_dump_state(struct mvm_vcpu *vcpu)
{
	int s;

	pr_err("VMCS of vcpu %u:\n", vcpu->vcpu_id);
	pr_err("  exit reason 0x%lx qual 0x%lx intr 0x%lx idt 0x%lx insn err %lu\n",
	       vmcs_read(VM_EXIT_REASON), vmcs_read(EXIT_QUALIFICATION),
	       vmcs_read(VM_EXIT_INTR_INFO), vmcs_read(IDT_VECTORING_INFO_FIELD),
	       vmcs_read(VM_INSTRUCTION_ERROR));
	pr_err("  pin 0x%lx proc 0x%lx proc2 0x%lx entry 0x%lx exit 0x%lx eptp 0x%lx\n",
	       vmcs_read(PIN_BASED_VM_EXEC_CONTROL),
	       vmcs_read(CPU_BASED_VM_EXEC_CONTROL),
	       vmcs_read(SECONDARY_VM_EXEC_CONTROL), vmcs_read(VM_ENTRY_CONTROLS),
	       vmcs_read(VM_EXIT_CONTROLS), vmcs_read(EPT_POINTER));
	pr_err("  rip 0x%lx rsp 0x%lx rflags 0x%lx cr0 0x%lx/0x%lx cr3 0x%lx cr4 0x%lx/0x%lx efer 0x%lx\n",
	       vmcs_read(GUEST_RIP), vmcs_read(GUEST_RSP),
	       vmcs_read(GUEST_RFLAGS), vmcs_read(GUEST_CR0),
	       vmcs_read(CR0_READ_SHADOW), vmcs_read(GUEST_CR3),
	       vmcs_read(GUEST_CR4), vmcs_read(CR4_READ_SHADOW),
	       vmcs_read(GUEST_IA32_EFER));
	for (s = VCPU_SREG_ES; s <= VCPU_SREG_LDTR; s++)
		pr_err("  seg %d sel 0x%04lx base 0x%016lx limit 0x%08lx ar 0x%05lx\n",
		       s, vmcs_read(vmx_segs[s].selector),
		       vmcs_read(vmx_segs[s].base), vmcs_read(vmx_segs[s].limit),
		       vmcs_read(vmx_segs[s].ar));
	pr_err("  activity %lu interruptibility 0x%lx entry intr 0x%lx\n",
	       vmcs_read(GUEST_ACTIVITY_STATE),
	       vmcs_read(GUEST_INTERRUPTIBILITY_INFO),
	       vmcs_read(VM_ENTRY_INTR_INFO_FIELD));
}

/* ------------------------------------------------------------------ */
/* Entry                                                                */

static void vmx_vcpu_run(struct mvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	unsigned long *regs = vcpu->arch.regs;
	unsigned long cr3, cr4;
	int fail;

	/* Host CR3 (a new PCID after a flush) and CR4 may change. */
	cr3 = __read_cr3();
	if (unlikely(cr3 != vmx->host_cr3)) {
		vmcs_write(HOST_CR3, cr3);
		vmx->host_cr3 = cr3;
	}
	cr4 = __read_cr4();
	if (unlikely(cr4 != vmx->host_cr4)) {
		vmcs_write(HOST_CR4, cr4);
		vmx->host_cr4 = cr4;
	}
	if (vmx->tlb_flush_pending || !vmx->vpid) {
		vmx_invept(VMX_EPT_EXTENT_CONTEXT, vmx_eptp(vcpu));
		if (vmx->vpid)
			vmx_invvpid(VMX_VPID_EXTENT_SINGLE_CONTEXT, vmx->vpid);
		vmx->tlb_flush_pending = false;
	}

	if (test_bit(MVM_REG_RSP, &vcpu->arch.regs_dirty))
		vmcs_write(GUEST_RSP, regs[MVM_REG_RSP]);
	if (test_bit(MVM_REG_RIP, &vcpu->arch.regs_dirty))
		vmcs_write(GUEST_RIP, regs[MVM_REG_RIP]);
	vcpu->arch.regs_dirty = 0;

	/* CR2 is not in the VMCS (SDM 27.3.1 note). */
	if (native_read_cr2() != vcpu->arch.cr2)
		native_write_cr2(vcpu->arch.cr2);
	if (static_branch_unlikely(&vmx_l1d_flush_on_entry))
		vmx_l1d_flush(vcpu);

	fail = __vmx_vcpu_run(regs, vmx->launched);

	vcpu->arch.cr2 = native_read_cr2();
	/* A VM exit clears IA32_DEBUGCTL (SDM 27.5.1). */
	if (unlikely(vmx->host_debugctl))
		update_debugctlmsr(vmx->host_debugctl);

	vcpu->arch.regs_avail &= ~(BIT(MVM_REG_RSP) | BIT(MVM_REG_RIP));
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, 0);

	if (unlikely(fail)) {
		vmx->exit_reason = ~0u;
		return;
	}
	vmx->launched = true;
	vmx->exit_reason = vmcs_read(VM_EXIT_REASON);

	/*
	 * An NMI that exited the guest belongs to the host: run its handler
	 * now, before interrupts are enabled.  INT 2 does not block further
	 * NMIs the way a real NMI does; acceptable for a handler that
	 * completes quickly.
	 */
	if ((u16)vmx->exit_reason == EXIT_REASON_EXTERNAL_INTERRUPT) {
		u32 intr = vmcs_read(VM_EXIT_INTR_INFO);
		struct desc_ptr idt;
		gate_desc *gate;

		if (intr & INTR_INFO_VALID_MASK) {
			store_idt(&idt);
			gate = (gate_desc *)idt.address + (intr & INTR_INFO_VECTOR_MASK);
			vmx_do_interrupt_irqoff(gate_offset(gate));
		}
	}
	if ((u16)vmx->exit_reason == EXIT_REASON_EXCEPTION_NMI) {
		u32 intr = vmcs_read(VM_EXIT_INTR_INFO);

		if ((intr & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_NMI_INTR)
			asm volatile("int $2");
		else if ((intr & INTR_INFO_VECTOR_MASK) == MC_VECTOR)
			mvm_host_machine_check();
	}
	if ((u16)vmx->exit_reason == EXIT_REASON_MCE_DURING_VMENTRY)
		mvm_host_machine_check();
}

/*
 * After every exit, before it is handled: what was injected at the entry
 * has been delivered, unless the IDT-vectoring information (SDM 27.2.4)
 * says the exit interrupted its delivery (an EPT violation on the IDT or
 * the stack, say).  Then it goes back to the common state as injected
 * and is delivered again at the next entry, with its error code, and
 * with its instruction length for INTn/INT3/INTO (SDM 27.2.5).  Host
 * interrupts never show here: they exit before being acknowledged.  The
 * one VMREAD is all an ordinary exit costs.
 */
static void vmx_complete_interrupts(struct mvm_vcpu *vcpu)
{
	u32 info = vmcs_read(IDT_VECTORING_INFO_FIELD);
	u8 vector = info & VECTORING_INFO_VECTOR_MASK;
	u8 len = 0;

	mvm_clear_injected_events(vcpu);
	if (likely(!(info & VECTORING_INFO_VALID_MASK)))
		return;

	switch (info & VECTORING_INFO_TYPE_MASK) {
	case INTR_TYPE_NMI_INTR:
		/*
		 * Delivery did not complete, so NMIs are not blocked by it:
		 * clear the bit the exit may have left (SDM 27.7.1.2), or
		 * the re-injection would fail the entry.
		 */
		vcpu->arch.nmi_injected = true;
		vmx_set_nmi_mask(vcpu, false);
		set_bit(MVM_REQ_EVENT, &vcpu->requests);
		break;
	case INTR_TYPE_SOFT_EXCEPTION:
		len = vmcs_read(VM_EXIT_INSTRUCTION_LEN);
		fallthrough;
	case INTR_TYPE_HARD_EXCEPTION:
		mvm_requeue_exception(vcpu, vector,
				      info & VECTORING_INFO_DELIVER_CODE_MASK,
				      (info & VECTORING_INFO_DELIVER_CODE_MASK) ?
				      vmcs_read(IDT_VECTORING_ERROR_CODE) : 0,
				      len);
		break;
	case INTR_TYPE_SOFT_INTR:
		len = vmcs_read(VM_EXIT_INSTRUCTION_LEN);
		fallthrough;
	case INTR_TYPE_EXT_INTR:
		mvm_queue_interrupt(vcpu, vector,
				    (info & VECTORING_INFO_TYPE_MASK) ==
				    INTR_TYPE_SOFT_INTR, len);
		break;
	default:
		/* ICEBP: the instruction re-executes and raises it again. */
		break;
	}
}

/*
 * An exit from an IRET that had unblocked NMIs before faulting: the guest
 * resumes before the IRET, so NMIs are blocked again (SDM 27.2.3).
 */
static void vmx_recover_nmi_blocking(struct mvm_vcpu *vcpu,
				     bool unblocked_by_iret)
{
	if (unblocked_by_iret &&
	    !(vmcs_read(IDT_VECTORING_INFO_FIELD) & VECTORING_INFO_VALID_MASK))
		vmx_set_nmi_mask(vcpu, true);
}

/* ------------------------------------------------------------------ */
/* Exit handlers                                                        */

/* SDM 27.2.2: the exception in VM-exit interruption information. */
static int vmx_handle_exception_nmi(struct mvm_vcpu *vcpu)
{
	u32 intr = vmcs_read(VM_EXIT_INTR_INFO);
	u32 type = intr & INTR_INFO_INTR_TYPE_MASK;

	if (type == INTR_TYPE_NMI_INTR)
		return 1;	/* handled in vmx_vcpu_run() */
	vmx_recover_nmi_blocking(vcpu, intr & INTR_INFO_UNBLOCK_NMI);

	switch (intr & INTR_INFO_VECTOR_MASK) {
	case DB_VECTOR:
		/*
		 * The exit qualification has DR6's layout (table 27-1).  An
		 * ICEBP (type: privileged software exception) faults on the
		 * instruction; step over it before delivering.
		 */
		if (type == INTR_TYPE_PRIV_SW_EXCEPTION)
			vmx_skip_instruction(vcpu);
		return mvm_reflect_db(vcpu, vmcs_read(EXIT_QUALIFICATION));
	case AC_VECTOR:
		mvm_queue_exception(vcpu, AC_VECTOR, true,
				    vmcs_read(VM_EXIT_INTR_ERROR_CODE));
		return 1;
	case MC_VECTOR:
		return 1;	/* the host's, handled in vmx_vcpu_run() */
	default:
		/* Not in the exception bitmap. */
		return mvm_handle_unknown_exit(vcpu, EXIT_REASON_EXCEPTION_NMI);
	}
}

/* SDM 27.2.1 table 27-3: MOV to CR0/CR4 touching the host-owned bits. */
static int vmx_handle_cr(struct mvm_vcpu *vcpu)
{
	unsigned long qual = vmcs_read(EXIT_QUALIFICATION);
	int cr = qual & 15, type = (qual >> 4) & 3, reg = (qual >> 8) & 15;
	unsigned long val;

	if (type == 1 && cr == 8) {
		/* MOV from CR8 (CR8-store exiting). */
		mvm_register_write(vcpu, reg, vcpu->arch.cr8);
		vmx_skip_instruction(vcpu);
		return 1;
	}
	if (type != 0)
		return mvm_handle_unknown_exit(vcpu, EXIT_REASON_CR_ACCESS);
	val = mvm_register_read(vcpu, reg);

	switch (cr) {
	case 0:
		return mvm_emulate_set_cr0(vcpu, val);
	case 4:
		return mvm_emulate_set_cr4(vcpu, val);
	case 8:
		return mvm_emulate_set_cr8(vcpu, val);
	default:
		return mvm_handle_unknown_exit(vcpu, EXIT_REASON_CR_ACCESS);
	}
}

/* SDM 27.2.1 table 27-5: size, direction, string, port. */
static int vmx_handle_io(struct mvm_vcpu *vcpu)
{
	unsigned long qual = vmcs_read(EXIT_QUALIFICATION);

	return mvm_handle_pio(vcpu, qual >> 16, (qual & 7) + 1, qual & 8,
			      qual & 16);
}

/* SDM 27.2.1 table 27-4: MOV DR. */
static int vmx_handle_dr(struct mvm_vcpu *vcpu)
{
	unsigned long qual = vmcs_read(EXIT_QUALIFICATION);

	return mvm_emulate_mov_dr(vcpu, qual & 7, (qual >> 8) & 15,
				  !(qual & 16));
}

/* SDM 28.2.3.2 table 28-7: bit 1 write, bit 2 instruction fetch. */
static int vmx_handle_ept_violation(struct mvm_vcpu *vcpu)
{
	unsigned long qual = vmcs_read(EXIT_QUALIFICATION);

	vmx_recover_nmi_blocking(vcpu, qual & INTR_INFO_UNBLOCK_NMI);
	return mvm_handle_gpa_fault(vcpu, vmcs_read(GUEST_PHYSICAL_ADDRESS),
				    qual & 2, qual & 4);
}

/* Our EPT entries are never malformed; say so instead of looping. */
static int vmx_handle_ept_misconfig(struct mvm_vcpu *vcpu)
{
	pr_err_ratelimited("EPT misconfiguration at GPA 0x%lx\n",
			   vmcs_read(GUEST_PHYSICAL_ADDRESS));
	return mvm_handle_unknown_exit(vcpu, EXIT_REASON_EPT_MISCONFIG);
}

/* SDM 26.7.5-26.7.6: the guest can now take an interrupt / an NMI. */
static int vmx_handle_interrupt_window(struct mvm_vcpu *vcpu)
{
	vmx_exec_control_set(CPU_BASED_INTR_WINDOW_EXITING, false);
	set_bit(MVM_REQ_EVENT, &vcpu->requests);
	return 1;
}

static int vmx_handle_nmi_window(struct mvm_vcpu *vcpu)
{
	vmx_exec_control_set(CPU_BASED_NMI_WINDOW_EXITING, false);
	set_bit(MVM_REQ_EVENT, &vcpu->requests);
	return 1;
}

/*
 * External interrupts and machine checks during VM entry were handed to
 * the host's handlers in vmx_vcpu_run(): mvm_handle_host_event() re-enters.
 */
static int (*const vmx_exit_handlers[])(struct mvm_vcpu *vcpu) = {
	[EXIT_REASON_EXCEPTION_NMI]		= vmx_handle_exception_nmi,
	[EXIT_REASON_EXTERNAL_INTERRUPT]	= mvm_handle_host_event,
	[EXIT_REASON_TRIPLE_FAULT]		= mvm_handle_triple_fault,
	[EXIT_REASON_INTERRUPT_WINDOW]		= vmx_handle_interrupt_window,
	[EXIT_REASON_NMI_WINDOW]		= vmx_handle_nmi_window,
	[EXIT_REASON_CPUID]			= mvm_emulate_cpuid,
	[EXIT_REASON_HLT]			= mvm_emulate_halt,
	[EXIT_REASON_VMCALL]			= mvm_emulate_hypercall,
	[EXIT_REASON_VMCLEAR]			= mvm_handle_ud,
	[EXIT_REASON_VMLAUNCH]			= mvm_handle_ud,
	[EXIT_REASON_VMPTRLD]			= mvm_handle_ud,
	[EXIT_REASON_VMPTRST]			= mvm_handle_ud,
	[EXIT_REASON_VMREAD]			= mvm_handle_ud,
	[EXIT_REASON_VMRESUME]			= mvm_handle_ud,
	[EXIT_REASON_VMWRITE]			= mvm_handle_ud,
	[EXIT_REASON_VMOFF]			= mvm_handle_ud,
	[EXIT_REASON_VMON]			= mvm_handle_ud,
	[EXIT_REASON_INVEPT]			= mvm_handle_ud,
	[EXIT_REASON_INVVPID]			= mvm_handle_ud,
	[EXIT_REASON_CR_ACCESS]			= vmx_handle_cr,
	[EXIT_REASON_DR_ACCESS]			= vmx_handle_dr,
	[EXIT_REASON_INVD]			= mvm_emulate_nop,
	[EXIT_REASON_WBINVD]			= mvm_emulate_nop,
	[EXIT_REASON_MONITOR_INSTRUCTION]	= mvm_emulate_nop,
	[EXIT_REASON_MWAIT_INSTRUCTION]		= mvm_emulate_nop,
	[EXIT_REASON_RDPMC]			= mvm_emulate_rdpmc,
	[EXIT_REASON_MCE_DURING_VMENTRY]	= mvm_handle_host_event,
	[EXIT_REASON_IO_INSTRUCTION]		= vmx_handle_io,
	[EXIT_REASON_MSR_READ]			= mvm_emulate_rdmsr,
	[EXIT_REASON_MSR_WRITE]			= mvm_emulate_wrmsr,
	[EXIT_REASON_EPT_VIOLATION]		= vmx_handle_ept_violation,
	[EXIT_REASON_EPT_MISCONFIG]		= vmx_handle_ept_misconfig,
	[EXIT_REASON_XSETBV]			= mvm_emulate_xsetbv,
	[EXIT_REASON_PAUSE_INSTRUCTION]		= mvm_handle_pause,
};

/* VMX basic exit reasons (SDM vol. 3D appendix C) in the neutral list. */
static const u8 vmx_stat_reasons[] = {
	[EXIT_REASON_EXCEPTION_NMI]		= MVM_EXIT_STAT_EXCEPTION_NMI,
	[EXIT_REASON_EXTERNAL_INTERRUPT]	= MVM_EXIT_STAT_EXTERNAL_INTERRUPT,
	[EXIT_REASON_TRIPLE_FAULT]		= MVM_EXIT_STAT_TRIPLE_FAULT,
	[EXIT_REASON_INTERRUPT_WINDOW]		= MVM_EXIT_STAT_INTERRUPT_WINDOW,
	[EXIT_REASON_NMI_WINDOW]		= MVM_EXIT_STAT_NMI_WINDOW,
	[EXIT_REASON_CPUID]			= MVM_EXIT_STAT_CPUID,
	[EXIT_REASON_HLT]			= MVM_EXIT_STAT_HLT,
	[EXIT_REASON_INVD]			= MVM_EXIT_STAT_NOP_INSN,
	[EXIT_REASON_RDPMC]			= MVM_EXIT_STAT_RDPMC,
	[EXIT_REASON_VMCALL]			= MVM_EXIT_STAT_HYPERCALL,
	[EXIT_REASON_VMCLEAR ... EXIT_REASON_VMON] = MVM_EXIT_STAT_VIRT_INSN,
	[EXIT_REASON_CR_ACCESS]			= MVM_EXIT_STAT_CR_ACCESS,
	[EXIT_REASON_DR_ACCESS]			= MVM_EXIT_STAT_DR_ACCESS,
	[EXIT_REASON_IO_INSTRUCTION]		= MVM_EXIT_STAT_IO,
	[EXIT_REASON_MSR_READ]			= MVM_EXIT_STAT_MSR_READ,
	[EXIT_REASON_MSR_WRITE]			= MVM_EXIT_STAT_MSR_WRITE,
	[EXIT_REASON_INVALID_STATE]		= MVM_EXIT_STAT_FAILED_ENTRY,
	[EXIT_REASON_MSR_LOAD_FAIL]		= MVM_EXIT_STAT_FAILED_ENTRY,
	[EXIT_REASON_MWAIT_INSTRUCTION]		= MVM_EXIT_STAT_NOP_INSN,
	[EXIT_REASON_MONITOR_INSTRUCTION]	= MVM_EXIT_STAT_NOP_INSN,
	[EXIT_REASON_MCE_DURING_VMENTRY]	= MVM_EXIT_STAT_MACHINE_CHECK,
	[EXIT_REASON_EPT_VIOLATION]		= MVM_EXIT_STAT_NPF,
	[EXIT_REASON_EPT_MISCONFIG]		= MVM_EXIT_STAT_NPF,
	[EXIT_REASON_INVEPT]			= MVM_EXIT_STAT_VIRT_INSN,
	[EXIT_REASON_INVVPID]			= MVM_EXIT_STAT_VIRT_INSN,
	[EXIT_REASON_WBINVD]			= MVM_EXIT_STAT_NOP_INSN,
	[EXIT_REASON_XSETBV]			= MVM_EXIT_STAT_XSETBV,
};

static enum mvm_exit_stat vmx_stat_reason(u32 reason)
{
	u16 basic = reason;

	/* ~0: VMLAUNCH/VMRESUME failed (VMfail). */
	if (unlikely(reason == ~0u || (reason & VMX_EXIT_REASONS_FAILED_VMENTRY)))
		return MVM_EXIT_STAT_FAILED_ENTRY;
	if (unlikely(basic >= ARRAY_SIZE(vmx_stat_reasons)))
		return MVM_EXIT_STAT_OTHER;
	return vmx_stat_reasons[basic];
}

static int vmx_handle_exit(struct mvm_vcpu *vcpu)
{
	u32 reason = to_vmx(vcpu)->exit_reason;
	u16 basic = reason;

	mvm_stat_exit_reason(vcpu, vmx_stat_reason(reason), basic);

	if (unlikely(reason == ~0u)) {
		/* VMLAUNCH/VMRESUME failed: SDM 30.4 error numbers. */
		return mvm_handle_fail_entry(vcpu, vmcs_read(VM_INSTRUCTION_ERROR));
	}
	/* Two VMREADs that only the tracepoint needs. */
	if (trace_mvm_exit_enabled())
		trace_mvm_exit(vcpu, "vmx", reason, vmcs_read(EXIT_QUALIFICATION),
			       vmcs_read(VM_EXIT_INTR_INFO));
	if (unlikely(reason & VMX_EXIT_REASONS_FAILED_VMENTRY))
		return mvm_handle_fail_entry(vcpu, basic);

	vmx_complete_interrupts(vcpu);

	if (basic < ARRAY_SIZE(vmx_exit_handlers) && vmx_exit_handlers[basic])
		return vmx_exit_handlers[basic](vcpu);
	return mvm_handle_unknown_exit(vcpu, reason);
}

const struct mvm_x86_ops vmx_x86_ops = {
	.name			= "vmx",
	.vm_size		= sizeof(struct mvm),
	.vcpu_size		= sizeof(struct vcpu_vmx),
	.hardware_setup		= vmx_hardware_setup,
	.hardware_unsetup	= vmx_hardware_unsetup,
	.hardware_enable	= vmx_hardware_enable,
	.hardware_disable	= vmx_hardware_disable,
	.vcpu_create		= vmx_vcpu_create,
	.vcpu_free		= vmx_vcpu_free,
	.vcpu_reset		= vmx_vcpu_reset,
	.vcpu_load		= vmx_vcpu_load,
	.vcpu_put		= vmx_vcpu_put,
	.vcpu_run		= vmx_vcpu_run,
	.handle_exit		= vmx_handle_exit,
	.flush_tlb		= vmx_flush_tlb,
	.cache_reg		= vmx_cache_reg,
	.get_rflags		= vmx_get_rflags,
	.set_rflags		= vmx_set_rflags,
	.get_segment		= vmx_get_segment,
	.set_segment		= vmx_set_segment,
	.get_idt		= vmx_get_idt,
	.set_idt		= vmx_set_idt,
	.get_gdt		= vmx_get_gdt,
	.set_gdt		= vmx_set_gdt,
	.get_cr			= vmx_get_cr,
	.set_cr			= vmx_set_cr,
	.get_efer		= vmx_get_efer,
	.set_efer		= vmx_set_efer,
	.get_cpl		= vmx_get_cpl,
	.set_dr7		= vmx_set_dr7,
	.get_msr		= vmx_get_msr,
	.set_msr		= vmx_set_msr,
	.get_tsc_offset		= vmx_get_tsc_offset,
	.set_tsc_offset		= vmx_set_tsc_offset,
	.skip_instruction	= vmx_skip_instruction,
	.inject_exception	= vmx_inject_exception,
	.inject_irq		= vmx_inject_irq,
	.inject_nmi		= vmx_inject_nmi,
	.interrupt_allowed	= vmx_interrupt_allowed,
	.nmi_allowed		= vmx_nmi_allowed,
	.enable_irq_window	= vmx_enable_irq_window,
	.enable_nmi_window	= vmx_enable_nmi_window,
	.get_interrupt_shadow	= vmx_get_interrupt_shadow,
	.set_interrupt_shadow	= vmx_set_interrupt_shadow,
	.get_nmi_mask		= vmx_get_nmi_mask,
	.set_nmi_mask		= vmx_set_nmi_mask,
	.dump_state		= vmx_dump_state,
	/* SDM 29.3.2: R/W/X; leaves WB (type 6 in bits 5:3). */
	.npt_table_bits		= VMX_EPT_READABLE_MASK | VMX_EPT_WRITABLE_MASK |
				  VMX_EPT_EXECUTABLE_MASK,
	.npt_present_mask	= VMX_EPT_RWX_MASK,
	.npt_leaf_ro_bits	= VMX_EPT_READABLE_MASK | VMX_EPT_EXECUTABLE_MASK |
				  (6ULL << VMX_EPT_MT_EPTE_SHIFT),
	.npt_leaf_writable_bit	= VMX_EPT_WRITABLE_MASK,
	.npt_max_leaf_level	= vmx_ept_max_leaf_level,
	/*
	 * EPT's depth is ours to choose (EPTP bits 5:3), whatever the host's
	 * paging: 4 levels, which the probe requires, map 48 bits of GPA.
	 * Slots above 2^48 are refused even where MAXPHYADDR is 52 (see
	 * mvm_mmu_init()); KVM would use a 5-level EPT there.
	 */
};
