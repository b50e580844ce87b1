/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The x86 common layer and the vendor ops table that joins it to the
 * VT-x (vmx/) and AMD-V (svm/) backends.
 *
 * Contract of an exit handler (vendor tables call the common mvm_emulate_*
 * and mvm_handle_* helpers below): return 1 when the exit was handled in
 * the kernel and the guest may re-enter, 0 after filling vcpu->run for
 * userspace, or a negative errno that KVM_RUN returns.
 */
#ifndef __ARCH_X86_MVM_X86_H
#define __ARCH_X86_MVM_X86_H

#include <linux/mvm_host.h>
#include <asm/desc_defs.h>

struct mvm_x86_ops {
	const char *name;		/* "vmx" or "svm" */
	unsigned int vm_size;		/* the vendor's VM struct embeds struct mvm */
	unsigned int vcpu_size;		/* ... and its vCPU struct struct mvm_vcpu */

	/* Module load/unload: probe capabilities, per-CPU areas. */
	int (*hardware_setup)(void);
	void (*hardware_unsetup)(void);
	/* On this CPU, IRQs off: VMXON / EFER.SVME.  -EBUSY if in use. */
	int (*hardware_enable)(void);
	void (*hardware_disable)(void);

	int (*vcpu_create)(struct mvm_vcpu *vcpu);
	void (*vcpu_free)(struct mvm_vcpu *vcpu);
	/*
	 * Set the VMCS/VMCB up for RESET: controls, host state, and the
	 * segment registers in the vendor's encoding.  The other architectural
	 * values follow through the ops below (mvm_set_reset_registers()).
	 */
	void (*vcpu_reset)(struct mvm_vcpu *vcpu);
	/* Bind to / release the current physical CPU (preemption off). */
	void (*vcpu_load)(struct mvm_vcpu *vcpu, int cpu);
	void (*vcpu_put)(struct mvm_vcpu *vcpu);

	/* Enter the guest and come back at the next exit (IRQs off). */
	void (*vcpu_run)(struct mvm_vcpu *vcpu);
	/* Dispatch the exit through the vendor's handler table. */
	int (*handle_exit)(struct mvm_vcpu *vcpu);
	/* Flush the guest's TLB entries (nested page tables changed). */
	void (*flush_tlb)(struct mvm_vcpu *vcpu);

	/* Register state: see mvm_vcpu_arch.regs. */
	void (*cache_reg)(struct mvm_vcpu *vcpu, enum mvm_reg reg);
	unsigned long (*get_rflags)(struct mvm_vcpu *vcpu);
	void (*set_rflags)(struct mvm_vcpu *vcpu, unsigned long rflags);
	void (*get_segment)(struct mvm_vcpu *vcpu, struct kvm_segment *var,
			    int seg);
	void (*set_segment)(struct mvm_vcpu *vcpu,
			    const struct kvm_segment *var, int seg);
	void (*get_idt)(struct mvm_vcpu *vcpu, struct desc_ptr *dt);
	void (*set_idt)(struct mvm_vcpu *vcpu, const struct desc_ptr *dt);
	void (*get_gdt)(struct mvm_vcpu *vcpu, struct desc_ptr *dt);
	void (*set_gdt)(struct mvm_vcpu *vcpu, const struct desc_ptr *dt);
	/* cr is 0, 2, 3 or 4; guest-visible values. */
	unsigned long (*get_cr)(struct mvm_vcpu *vcpu, int cr);
	void (*set_cr)(struct mvm_vcpu *vcpu, int cr, unsigned long val);
	u64 (*get_efer)(struct mvm_vcpu *vcpu);
	void (*set_efer)(struct mvm_vcpu *vcpu, u64 efer);
	/* Current privilege level (SDM 5.5: SS.DPL; APM 15.5.1: VMCB CPL). */
	int (*get_cpl)(struct mvm_vcpu *vcpu);
	/* The guest's DR7 into the VMCS/VMCB (loaded at entry). */
	void (*set_dr7)(struct mvm_vcpu *vcpu, unsigned long val);

	/*
	 * MSRs whose state lives in the VMCS/VMCB.  Return 0, or 1 when the
	 * index is not the vendor's (the common layer then decides: #GP).
	 */
	int (*get_msr)(struct mvm_vcpu *vcpu, u32 index, u64 *data);
	int (*set_msr)(struct mvm_vcpu *vcpu, u32 index, u64 data,
		       bool host_initiated);
	/* What the hardware adds to the host's TSC while the guest runs. */
	u64 (*get_tsc_offset)(struct mvm_vcpu *vcpu);
	void (*set_tsc_offset)(struct mvm_vcpu *vcpu, u64 offset);

	/* Advance RIP past the instruction that caused the current exit. */
	void (*skip_instruction)(struct mvm_vcpu *vcpu);
	/*
	 * Event injection (events.c decides what and when; these only
	 * encode it, IRQs off just before entry).  inject_exception puts
	 * vcpu->arch.exception, inject_irq vcpu->arch.interrupt, inject_nmi
	 * an NMI into the VMCS/VMCB event-injection field.
	 */
	void (*inject_exception)(struct mvm_vcpu *vcpu);
	void (*inject_irq)(struct mvm_vcpu *vcpu);
	void (*inject_nmi)(struct mvm_vcpu *vcpu);
	/* Could an interrupt / NMI be delivered now (IF, shadow, NMI mask)? */
	bool (*interrupt_allowed)(struct mvm_vcpu *vcpu);
	bool (*nmi_allowed)(struct mvm_vcpu *vcpu);
	/* Exit as soon as it could (interrupt / NMI window). */
	void (*enable_irq_window)(struct mvm_vcpu *vcpu);
	void (*enable_nmi_window)(struct mvm_vcpu *vcpu);
	/* MVM_X86_SHADOW_INT_* (KVM's kvm_vcpu_events.interrupt.shadow). */
	u32 (*get_interrupt_shadow)(struct mvm_vcpu *vcpu);
	void (*set_interrupt_shadow)(struct mvm_vcpu *vcpu, u32 mask);
	/* NMIs blocked (by an NMI being handled, until IRET). */
	bool (*get_nmi_mask)(struct mvm_vcpu *vcpu);
	void (*set_nmi_mask)(struct mvm_vcpu *vcpu, bool masked);

	/* Print the VMCS/VMCB to the kernel log (unknown exit, failed entry). */
	void (*dump_state)(struct mvm_vcpu *vcpu);

	/* Nested page table entry bits (mmu.c builds the tables). */
	u64 npt_table_bits;		/* a present non-leaf entry */
	u64 npt_present_mask;		/* an entry is present if any is set */
	u64 npt_leaf_ro_bits;		/* a present read-only 4K leaf */
	u64 npt_leaf_writable_bit;	/* added for a writable leaf */
	/*
	 * The hardware walks the nested tables with the host's paging depth
	 * (NPT: 5 levels under CR4.LA57, APM vol. 2 15.25), else with the 4
	 * levels mvm chooses (EPT: the depth is in the EPTP).
	 */
	bool npt_host_depth;
	/*
	 * The largest leaf the nested tables may hold: 1 (4 KiB), 2 (2 MiB)
	 * or 3 (1 GiB), as the PG_LEVEL_* values.  EPT: capabilities, NPT:
	 * the host's page sizes.  mmu.c reads it once per VM.
	 */
	int (*npt_max_leaf_level)(void);
};

extern const struct mvm_x86_ops *mvm_x86_ops;
extern const struct mvm_x86_ops svm_x86_ops;
extern const struct mvm_x86_ops vmx_x86_ops;

/* The host's vendor: some MSRs exist only on AMD (as in KVM's SVM code). */
static inline bool mvm_vendor_is_svm(void)
{
	return mvm_x86_ops == &svm_x86_ops;
}

/* Vendor probing at module load: 0 if usable, else -ENODEV and *why set. */
int svm_probe(const char **why);
int vmx_probe(const char **why);

#define MVM_REQ_TLB_FLUSH	0
#define MVM_REQ_EVENT		1	/* events.c has something to inject */
#define MVM_REQ_TRIPLE_FAULT	2	/* KVM_EXIT_SHUTDOWN before entry */
#define MVM_REQ_CLOCK_UPDATE	3	/* rewrite the kvmclock structure */
#define MVM_REQ_IOAPIC_EOI_EXIT	4	/* split irqchip: KVM_EXIT_IOAPIC_EOI */
#define MVM_REQ_UNBLOCK		5	/* leave HLT: something became pending */
#define MVM_REQ_APIC_EVENTS	6	/* INIT or SIPI: mvm_apic_accept_events() */

/* kvm_vcpu_events.interrupt.shadow bits (KVM's KVM_X86_SHADOW_INT_*). */
#define MVM_X86_SHADOW_INT_MOV_SS	0x01
#define MVM_X86_SHADOW_INT_STI		0x02

/* entry_work.c */
int mvm_entry_work_init(struct mvm_vcpu *vcpu);
void mvm_entry_work_free(struct mvm_vcpu *vcpu);
int mvm_handle_entry_work(struct mvm_vcpu *vcpu);
bool mvm_entry_work_pending(void);

/* hw.c */
int mvm_hw_init(void);
void mvm_hw_exit(void);
bool mvm_hw_enabled_this_cpu(void);

void mvm_make_all_vcpus_request(struct mvm *mvm, int req);

static inline unsigned long mvm_register_read(struct mvm_vcpu *vcpu,
					      enum mvm_reg reg)
{
	if (!test_bit(reg, &vcpu->arch.regs_avail))
		mvm_x86_ops->cache_reg(vcpu, reg);
	return vcpu->arch.regs[reg];
}

static inline void mvm_register_write(struct mvm_vcpu *vcpu,
				      enum mvm_reg reg, unsigned long val)
{
	vcpu->arch.regs[reg] = val;
	__set_bit(reg, &vcpu->arch.regs_avail);
	__set_bit(reg, &vcpu->arch.regs_dirty);
}

static inline unsigned long mvm_rip_read(struct mvm_vcpu *vcpu)
{
	return mvm_register_read(vcpu, MVM_REG_RIP);
}

static inline void mvm_rip_write(struct mvm_vcpu *vcpu, unsigned long val)
{
	mvm_register_write(vcpu, MVM_REG_RIP, val);
}

/*
 * A machine check arrived while the guest ran and made it exit instead of
 * reaching the host's #MC handler: run that now, as KVM's
 * kvm_machine_check() does (do_machine_check() is not exported).
 */
static inline void mvm_host_machine_check(void)
{
	if (IS_ENABLED(CONFIG_X86_MCE))
		asm volatile("int $0x12");
}

/*
 * x86.c: vendor selection, vCPU lifecycle, state ioctls, the run loop.
 */
extern u64 mvm_supported_xcr0;	/* XCR0 bits a guest may enable */
/* IA32_PAT at RESET (SDM vol. 3A 11.12.4). */
#define MVM_PAT_RESET		0x0007040600070406ULL
/* RESET values of CRs, EFER, GDTR/IDTR, RFLAGS, DR7, PAT, TSC offset. */
void mvm_set_reset_registers(struct mvm_vcpu *vcpu);
/* RESET, or INIT (@init_event: SDM vol. 3A table 9-1, as KVM keeps it). */
void mvm_vcpu_reset(struct mvm_vcpu *vcpu, bool init_event);

/* Make the vendor state current for an ioctl (put undoes it). */
void mvm_vcpu_load(struct mvm_vcpu *vcpu);
void mvm_vcpu_put(struct mvm_vcpu *vcpu);

/*
 * events.c.  Queueing applies the double-fault rules (SDM vol. 3A table
 * 6-5); the _payload form sets CR2 for a #PF.  requeue: the event an exit
 * interrupted, delivered again unchanged (insn_len: INT3/INTO on VT-x).
 */
void mvm_queue_exception(struct mvm_vcpu *vcpu, u8 vector,
			 bool has_error_code, u32 error_code);
void mvm_queue_exception_payload(struct mvm_vcpu *vcpu, u8 vector,
				 bool has_error_code, u32 error_code,
				 u64 payload);
void mvm_requeue_exception(struct mvm_vcpu *vcpu, u8 vector,
			   bool has_error_code, u32 error_code, u8 insn_len);
void mvm_queue_interrupt(struct mvm_vcpu *vcpu, u8 vector, bool soft,
			 u8 insn_len);
void mvm_clear_injected_events(struct mvm_vcpu *vcpu);
void mvm_inject_pending_events(struct mvm_vcpu *vcpu);
bool mvm_ready_for_interrupt_injection(struct mvm_vcpu *vcpu);
bool mvm_userspace_wants_irq_window(struct mvm_vcpu *vcpu);
void mvm_events_reset(struct mvm_vcpu *vcpu);
long mvm_vcpu_ioctl_interrupt(struct mvm_vcpu *vcpu,
			      struct kvm_interrupt __user *uirq);
long mvm_vcpu_ioctl_nmi(struct mvm_vcpu *vcpu);
long mvm_vcpu_ioctl_get_vcpu_events(struct mvm_vcpu *vcpu,
				    struct kvm_vcpu_events __user *uev);
long mvm_vcpu_ioctl_set_vcpu_events(struct mvm_vcpu *vcpu,
				    struct kvm_vcpu_events __user *uev);
void mvm_get_interrupt_bitmap(struct mvm_vcpu *vcpu, u64 *bitmap);
void mvm_set_interrupt_bitmap(struct mvm_vcpu *vcpu, const u64 *bitmap);

static inline void mvm_inject_gp(struct mvm_vcpu *vcpu, u32 error_code)
{
	mvm_queue_exception(vcpu, GP_VECTOR, true, error_code);
}

static inline void mvm_inject_ud(struct mvm_vcpu *vcpu)
{
	mvm_queue_exception(vcpu, UD_VECTOR, false, 0);
}

static inline bool mvm_is_long_mode(struct mvm_vcpu *vcpu)
{
	return mvm_x86_ops->get_efer(vcpu) & EFER_LMA;
}

static inline bool mvm_is_64bit_mode(struct mvm_vcpu *vcpu)
{
	struct kvm_segment cs;

	if (!mvm_is_long_mode(vcpu))
		return false;
	mvm_x86_ops->get_segment(vcpu, &cs, VCPU_SREG_CS);
	return cs.l;
}

static inline int mvm_get_cpl(struct mvm_vcpu *vcpu)
{
	return mvm_x86_ops->get_cpl(vcpu);
}

/* exits.c: exit handlers the vendors' tables point at directly. */
int mvm_emulate_halt(struct mvm_vcpu *vcpu);
int mvm_emulate_hypercall(struct mvm_vcpu *vcpu);
int mvm_handle_triple_fault(struct mvm_vcpu *vcpu);
/* KVM_EXIT_INTERNAL_ERROR / KVM_INTERNAL_ERROR_EMULATION, no data. */
int mvm_emulation_failed(struct mvm_vcpu *vcpu);
int mvm_handle_unknown_exit(struct mvm_vcpu *vcpu, u64 reason);
int mvm_handle_fail_entry(struct mvm_vcpu *vcpu, u64 reason);
/* Re-enter: an interrupt, NMI or #MC exit the host has handled. */
int mvm_handle_host_event(struct mvm_vcpu *vcpu);
/* #UD: VMX/SVM instructions and RDTSCP. */
int mvm_handle_ud(struct mvm_vcpu *vcpu);
/* Skip the instruction: INVD, WBINVD, MONITOR, MWAIT. */
int mvm_emulate_nop(struct mvm_vcpu *vcpu);
int mvm_handle_pause(struct mvm_vcpu *vcpu);
/* #GP: no PMU for the guest. */
int mvm_emulate_rdpmc(struct mvm_vcpu *vcpu);

/* mce.c: machine-check banks for the guest (KVM_CAP_MCE). */
long mvm_dev_get_mce_cap_supported(u64 __user *ucap);
void mvm_mce_vcpu_reset(struct mvm_vcpu *vcpu);
long mvm_vcpu_setup_mce(struct mvm_vcpu *vcpu, u64 __user *ucap);
long mvm_vcpu_set_mce(struct mvm_vcpu *vcpu, struct kvm_x86_mce __user *umce);
bool mvm_is_mce_msr(u32 index);
int mvm_get_mce_msr(struct mvm_vcpu *vcpu, u32 index, u64 *data, bool host);
int mvm_set_mce_msr(struct mvm_vcpu *vcpu, u32 index, u64 data, bool host);

/* kvmclock.c: KVM's paravirtual clock. */
void mvm_kvmclock_vm_init(struct mvm *mvm);
void mvm_kvmclock_update(struct mvm_vcpu *vcpu);
bool mvm_is_kvmclock_msr(u32 index);
int mvm_get_kvmclock_msr(struct mvm_vcpu *vcpu, u32 index, u64 *data);
int mvm_set_kvmclock_msr(struct mvm_vcpu *vcpu, u32 index, u64 data);
long mvm_vm_get_clock(struct mvm *mvm, struct kvm_clock_data __user *udata);
long mvm_vm_set_clock(struct mvm *mvm, struct kvm_clock_data __user *udata);
void mvm_kvmclock_cpuid(struct kvm_cpuid_entry2 *signature,
			struct kvm_cpuid_entry2 *features);

/* cpuid.c */
long mvm_dev_get_supported_cpuid(struct kvm_cpuid2 __user *ucpuid);
long mvm_vcpu_set_cpuid2(struct mvm_vcpu *vcpu,
			 struct kvm_cpuid2 __user *ucpuid);
long mvm_vcpu_get_cpuid2(struct mvm_vcpu *vcpu,
			 struct kvm_cpuid2 __user *ucpuid);
int mvm_emulate_cpuid(struct mvm_vcpu *vcpu);
/* The guest's entry for @function/@index, or NULL. */
struct kvm_cpuid_entry2 *mvm_find_cpuid_entry(struct mvm_vcpu *vcpu,
					      u32 function, u32 index);
/* Bit @bit of register @reg (0 EAX ... 3 EDX) of the guest's leaf. */
bool mvm_guest_cpuid_has(struct mvm_vcpu *vcpu, u32 function, int reg,
			 int bit);
int mvm_guest_maxphyaddr(struct mvm_vcpu *vcpu);
/* XSAVE area size for the components in @xcr0. */
u32 mvm_xstate_size(u64 xcr0);
/* The XCR0 bits the guest's CPUID offers that mvm supports. */
u64 mvm_guest_supported_xcr0(struct mvm_vcpu *vcpu);

/* mtrr.c: the guest's MTRRs (0, or 1 to fault). */
bool mvm_is_mtrr_msr(u32 msr);
int mvm_get_mtrr(struct mvm_vcpu *vcpu, u32 msr, u64 *data);
int mvm_set_mtrr(struct mvm_vcpu *vcpu, u32 msr, u64 data);

/* tsc.c: guest time (the vCPU loaded for the writes). */
void mvm_tsc_vm_init(struct mvm *mvm);
void mvm_tsc_vcpu_init(struct mvm_vcpu *vcpu);
u64 mvm_read_guest_tsc(struct mvm_vcpu *vcpu);
/* A host-initiated TSC write, matched with the VM's other vCPUs. */
void mvm_tsc_synchronize(struct mvm_vcpu *vcpu, u64 data);
void mvm_guest_write_tsc(struct mvm_vcpu *vcpu, u64 data);
void mvm_set_tsc_adjust(struct mvm_vcpu *vcpu, u64 data, bool host);
long mvm_vcpu_set_tsc_khz(struct mvm_vcpu *vcpu, unsigned long arg);

/*
 * vcpu_state.c: KVM_GET/SET_MP_STATE, _FPU, _XSAVE(2), _XCRS,
 * _DEBUGREGS, with the vCPU loaded.
 */
long mvm_vcpu_state_ioctl(struct mvm_vcpu *vcpu, unsigned int ioctl,
			  void __user *argp);
/* KVM_CAP_XSAVE2: the size of KVM_GET_XSAVE2's buffer. */
int mvm_xsave2_size(void);
/* An XCR0 value XSETBV and KVM_SET_XCRS accept for this guest. */
bool mvm_valid_xcr0(struct mvm_vcpu *vcpu, u64 xcr0);

/* msr.c */
long mvm_dev_get_msr_index_list(struct kvm_msr_list __user *ulist);
/* KVM_GET_MSR_FEATURE_INDEX_LIST, and KVM_GET_MSRS on /dev/kvm. */
long mvm_dev_get_feature_msr_index_list(struct kvm_msr_list __user *ulist);
long mvm_dev_get_feature_msrs(struct kvm_msrs __user *umsrs);
/* The MSRs' values at vCPU creation. */
void mvm_msr_vcpu_init(struct mvm_vcpu *vcpu);
/* KVM_GET_MSRS / KVM_SET_MSRS: returns how many entries were processed. */
long mvm_vcpu_msr_io(struct mvm_vcpu *vcpu, struct kvm_msrs __user *umsrs,
		     bool set);
int mvm_emulate_rdmsr(struct mvm_vcpu *vcpu);
int mvm_emulate_wrmsr(struct mvm_vcpu *vcpu);
bool mvm_valid_apic_base(struct mvm_vcpu *vcpu, u64 data);
/* IA32_APIC_BASE: 0, or 1 for a value or transition that #GPs. */
int mvm_set_apic_base(struct mvm_vcpu *vcpu, u64 data, bool host);

/*
 * cr.c.  DR6 and DR7 bits (SDM vol. 3B 17.2.3-17.2.4).  mvm offers no
 * RTM, so DR6.RTM (bit 16) reads as 1 and DR7.RTM (bit 11) as 0.
 */
#define MVM_DR6_FIXED_1		0xffff0ff0UL	/* also DR6 after reset */
#define MVM_DR6_VOLATILE	0x0000e00fUL	/* B0-B3, BD, BS, BT */
#define MVM_DR6_TRAP_BITS	0x0000000fUL	/* B0-B3: not sticky */
#define MVM_DR6_BD		BIT(13)
#define MVM_DR7_FIXED_1		0x00000400UL	/* also DR7 after reset */
#define MVM_DR7_VOLATILE	0xffff23ffUL
#define MVM_DR7_GD		BIT(13)
#define MVM_DR7_BP_ENABLED	0xffUL		/* L0, G0 ... L3, G3 */
/* XSETBV: validates ECX/EDX:EAX against what the guest may enable (#GP). */
int mvm_emulate_xsetbv(struct mvm_vcpu *vcpu);
/* CR4 bits no guest may set (KVM_SET_SREGS checks these too). */
u64 mvm_cr4_reserved_bits(void);
/*
 * Intercepted #DB: @dr6 holds the cause in DR6's layout (B0-B3, BD, BS,
 * BT set when active).  Merges it into the guest's DR6 and reflects it.
 */
int mvm_reflect_db(struct mvm_vcpu *vcpu, unsigned long dr6);
/* MOV to/from DR@dr with GPR @gpr (@to_dr: the guest writes DR@dr). */
int mvm_emulate_mov_dr(struct mvm_vcpu *vcpu, int dr, int gpr, bool to_dr);
/* Every CR0 write goes through here (EFER.LMA follows CR0.PG). */
void mvm_set_cr0(struct mvm_vcpu *vcpu, unsigned long val);
/* MOV to CR0 / CR4 / CR8 from the guest. */
int mvm_emulate_set_cr0(struct mvm_vcpu *vcpu, unsigned long val);
int mvm_emulate_set_cr4(struct mvm_vcpu *vcpu, unsigned long val);
int mvm_emulate_set_cr8(struct mvm_vcpu *vcpu, unsigned long val);
/* Every CR4 write goes through here (PKRU switching follows CR4.PKE). */
void mvm_write_cr4(struct mvm_vcpu *vcpu, unsigned long val);

/* pio.c */
/*
 * A PIO instruction trapped: @size bytes (1, 2, 4) at @port, @in or out,
 * @string for INS/OUTS (whose prefixes are decoded from the instruction).
 */
int mvm_handle_pio(struct mvm_vcpu *vcpu, u16 port, int size, bool in,
		   bool string);
/*
 * REP, address size and segment of the INS/OUTS at CS:RIP from its
 * prefixes: 0, -EFAULT with #PF queued, or -EINVAL with kvm_run filled
 * for KVM_EXIT_INTERNAL_ERROR / KVM_INTERNAL_ERROR_EMULATION.
 */
int mvm_decode_string_io(struct mvm_vcpu *vcpu, bool *rep, int *addr_size,
			 int *seg);

/*
 * emulate.c: guest page-table walks (every paging mode) and the MMIO
 * instruction decoder.  @access is a mask of MVM_ACC_*.  On a guest page
 * fault they return -EFAULT with the #PF error code in *pf_error (the
 * caller injects #PF); -EINVAL for an address outside every memslot.
 */
#define MVM_ACC_WRITE	(1u << 1)	/* as the #PF error code bits */
#define MVM_ACC_USER	(1u << 2)
#define MVM_ACC_FETCH	(1u << 4)
int mvm_gva_to_gpa(struct mvm_vcpu *vcpu, gva_t gva, u32 access,
		   gpa_t *gpa, u32 *pf_error);
int mvm_read_guest_virt(struct mvm_vcpu *vcpu, gva_t gva, void *data,
			unsigned int len, u32 access, u32 *pf_error);
int mvm_write_guest_virt(struct mvm_vcpu *vcpu, gva_t gva, const void *data,
			 unsigned int len, u32 access, u32 *pf_error);
void mvm_inject_page_fault(struct mvm_vcpu *vcpu, gva_t gva, u32 pf_error);
/*
 * The guest touched @gpa outside every memslot: fetch and decode the
 * instruction at CS:RIP and hand the access to userspace as KVM_EXIT_MMIO
 * (0), or fail with KVM_EXIT_INTERNAL_ERROR / KVM_INTERNAL_ERROR_EMULATION
 * (0) carrying the instruction bytes, or inject a fault met while fetching
 * (1).  A read is completed, and RIP advanced, at the next KVM_RUN.
 */
int mvm_emulate_mmio(struct mvm_vcpu *vcpu, gpa_t gpa, bool write);
/*
 * Decode the MOV CR/DR at CS:RIP (0F 20-23 /r) for a vendor whose exit
 * information lacks the operands (SVM without decode assists): the
 * control/debug register number, the GPR and the instruction length.
 * 0, or 1 when a fault was queued for the guest (fetch #PF, #UD).
 */
int mvm_decode_mov_cr_dr(struct mvm_vcpu *vcpu, int *creg, int *gpr,
			 int *len);

/* The longest x86 instruction (SDM vol. 2 2.3.11). */
#define MVM_MAX_INSN_LEN	15

/* The instruction at CS:RIP, fetched piece by piece (mvm_fetch_insn()). */
struct mvm_insn_fetch {
	u8 bytes[MVM_MAX_INSN_LEN];
	unsigned int len;	/* bytes fetched so far */
	gva_t linear;		/* CS:RIP as a linear address */
	u32 access;		/* MVM_ACC_FETCH, and MVM_ACC_USER at CPL 3 */
	bool mode64;		/* 64-bit mode */
	bool def32;		/* 32-bit default operand/address size */
};
void mvm_insn_fetch_init(struct mvm_vcpu *vcpu, struct mvm_insn_fetch *f);
int mvm_fetch_insn(struct mvm_vcpu *vcpu, struct mvm_insn_fetch *f);
/* KVM_EXIT_INTERNAL_ERROR / EMULATION with the @len bytes fetched. */
void mvm_emulation_failure(struct mvm_vcpu *vcpu, const u8 *insn, int len);

/* mmu.c */
int mvm_mmu_init(struct mvm *mvm);
void mvm_mmu_destroy(struct mvm *mvm);
void mvm_mmu_zap_gfn_range(struct mvm *mvm, gfn_t start, gfn_t end);
int mvm_mmu_map_gfn(struct mvm_vcpu *vcpu, struct mvm_memory_slot *slot,
		    gfn_t gfn, bool write);
void mvm_mmu_free_page_cache(struct mvm_vcpu *vcpu);
void mvm_mmu_notifier_unregister(struct mvm *mvm);
bool mvm_mmu_write_protect_mask(struct mvm *mvm, gfn_t base,
				unsigned long mask);
/* A nested page fault at @gpa (@write / @fetch: the access). */
int mvm_handle_gpa_fault(struct mvm_vcpu *vcpu, gpa_t gpa, bool write,
			 bool fetch);

#endif /* __ARCH_X86_MVM_X86_H */
