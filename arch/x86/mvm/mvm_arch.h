/* SPDX-License-Identifier: GPL-2.0 */
/*
 * x86 parts of struct mvm and struct mvm_vcpu (included by mvm_host.h).
 */
#ifndef __MVM_ARCH_H
#define __MVM_ARCH_H

#include <linux/atomic.h>
#include <linux/seqlock.h>
#include <linux/srcu.h>
#include <linux/spinlock_types.h>
#include <linux/types.h>
#include <linux/kvm.h>
#include <linux/kvm_types.h>
#include <linux/mmu_notifier.h>
#include <asm/fpu/api.h>
#include <asm/kvm_vcpu_regs.h>

struct mvm_vcpu;
struct mvm_lapic;
struct mvm_pic;
struct mvm_ioapic;
struct mvm_pit;
struct mvm_irq_routing_table;

#define MVM_MAX_MCE_BANKS	32	/* KVM_CAP_MCE, as KVM_MAX_MCE_BANKS */

/* Index into mvm_vcpu_arch.regs[]; the entry assembly relies on it. */
enum mvm_reg {
	MVM_REG_RAX = __VCPU_REGS_RAX,
	MVM_REG_RCX = __VCPU_REGS_RCX,
	MVM_REG_RDX = __VCPU_REGS_RDX,
	MVM_REG_RBX = __VCPU_REGS_RBX,
	MVM_REG_RSP = __VCPU_REGS_RSP,
	MVM_REG_RBP = __VCPU_REGS_RBP,
	MVM_REG_RSI = __VCPU_REGS_RSI,
	MVM_REG_RDI = __VCPU_REGS_RDI,
	MVM_REG_R8 = __VCPU_REGS_R8,
	MVM_REG_R9 = __VCPU_REGS_R9,
	MVM_REG_R10 = __VCPU_REGS_R10,
	MVM_REG_R11 = __VCPU_REGS_R11,
	MVM_REG_R12 = __VCPU_REGS_R12,
	MVM_REG_R13 = __VCPU_REGS_R13,
	MVM_REG_R14 = __VCPU_REGS_R14,
	MVM_REG_R15 = __VCPU_REGS_R15,
	MVM_REG_RIP,
	NR_MVM_REGS
};

/*
 * Segment register numbers, as KVM's (the same order as the SDM's segment
 * register encoding).  entry_work.c also sees KVM's own definition.
 */
#ifndef _ASM_X86_KVM_HOST_H
enum {
	VCPU_SREG_ES,
	VCPU_SREG_CS,
	VCPU_SREG_SS,
	VCPU_SREG_DS,
	VCPU_SREG_FS,
	VCPU_SREG_GS,
	VCPU_SREG_TR,
	VCPU_SREG_LDTR,
};
#endif

/*
 * The nested page tables (NPT or EPT) of one VM.  The walk and the locking
 * are vendor-neutral (mmu.c); only the entry bits and the depth come from
 * the vendor.
 */
#define MVM_MMU_MAX_LEVELS	5

/* Field annotations: see the legend in include/linux/mvm_host.h. */
struct mvm_mmu {
	u64 *root;			/* C: top-level table */
	phys_addr_t root_hpa;		/* C */
	int levels;			/* C: 4 or 5, the depth the hardware walks */
	int max_leaf_level;		/* C: 1 (4K), 2 (2M), 3 (1G): largest leaf */
	gfn_t max_gfn;			/* C: highest gfn a slot may cover */
	unsigned long nr_mapped;	/* P: 4 KiB pages mapped by leaves */

	/*
	 * The MMU notifier on the VM's mm (mmu.c, "Memory" in design.rst).
	 * A fault samples invalidate_seq before it looks the page up and
	 * maps it only if, under mmu_lock, the count is unchanged and no
	 * invalidation of its address is in progress.  invalidate_seq: P to
	 * write, read with READ_ONCE before the lookup.  The others: P.
	 */
	struct mmu_notifier notifier;
	bool notifier_registered;	/* C after creation */
	unsigned long invalidate_seq;
	long invalidate_in_progress;
	unsigned long invalidate_start;	/* hva union of those in progress */
	unsigned long invalidate_end;
};

/* The highest gfn a memslot may cover (memslot.c refuses the rest). */
#define mvm_arch_max_gfn(mvm)	((mvm)->arch.mmu.max_gfn)

struct mvm_arch {
	struct mvm_mmu mmu;
	u64 ibpb_id;			/* C: unique for the module's life */
	u32 tss_addr;			/* KVM_SET_TSS_ADDR, kept for ABI; unread */
	u64 identity_map_addr;		/* L: KVM_SET_IDENTITY_MAP_ADDR */

	/*
	 * The last host-initiated TSC write, which later ones close in time
	 * match (tsc.c, as KVM's kvm_synchronize_tsc()).  tsc_lock.
	 */
	spinlock_t tsc_lock;
	u64 last_tsc_nsec;		/* host boot time of the write */
	u64 last_tsc_write;		/* the value written */
	u32 last_tsc_khz;		/* the writer's TSC rate */
	u64 cur_tsc_offset;		/* the offset that write produced */

	/*
	 * kvmclock (kvmclock.c): the VM's clock as a linear function of the
	 * host TSC.  master_*: read together at creation, constant (C);
	 * kvmclock_offset: KVM_SET_CLOCK, written under tsc_lock inside
	 * kvmclock_seq.  kvmclock_wall_clock: the last MSR_KVM_WALL_CLOCK
	 * written, as KVM keeps it per VM (any vCPU's ioctl or exit).
	 */
	seqcount_spinlock_t kvmclock_seq;
	u64 kvmclock_master_tsc;
	u64 kvmclock_master_ns;
	s64 kvmclock_offset;
	u64 kvmclock_wall_clock;

	/*
	 * The in-kernel interrupt controllers (irq.h).  irqchip_mode: enum
	 * mvm_irqchip_mode, written once under lock before any vCPU exists,
	 * read with mvm_irqchip_mode().  The devices: C once published by
	 * that write, freed at VM destruction.  pit: L, created later.
	 */
	u8 irqchip_mode;
	u8 nr_reserved_ioapic_pins;	/* C: split irqchip, userspace's pins */
	struct mvm_pic *vpic;
	struct mvm_ioapic *vioapic;
	struct mvm_pit *vpit;
	/*
	 * KVM_SET_GSI_ROUTING: irq_srcu to read, irq_lock to replace.  The
	 * VM's own SRCU domain, as KVM's kvm->irq_srcu: a routing update
	 * waits with synchronize_srcu_expedited() for this VM's readers only
	 * (VMMs replace the table often, e.g. at each MSI-X vector change).
	 */
	struct srcu_struct irq_srcu;
	struct mvm_irq_routing_table __rcu *irq_routing;
	struct mutex irq_lock;
	/* mvm_irq_ack_notifier list: irq_srcu to walk, irq_lock to change. */
	struct hlist_head irq_ack_notifier_list;
	/* KVM_CAP_X2APIC_API flags (lapic.c): L. */
	u64 x2apic_api_flags;
};

/* Variable-range MTRRs mvm gives each vCPU (MTRRcap.VCNT), as KVM. */
#define MVM_NR_VAR_MTRR		8

/* The guest's MTRRs (SDM vol. 3A 11.11): storage only, see mtrr.c. */
struct mvm_mtrr_state {
	u64 def_type;
	u64 fixed[11];			/* 64K_00000, 16K_80000/A0000, 4K_* */
	u64 var[MVM_NR_VAR_MTRR * 2];	/* PHYSBASEn, PHYSMASKn */
};

/* A PIO exit in flight to userspace (KVM_EXIT_IO). */
struct mvm_pio {
	u16 port;
	u8 size;			/* 1, 2 or 4 */
	bool in;
	bool rep;			/* string: a REP prefix */
	u8 addr_size;			/* string: 2, 4 or 8 */
	u32 count;			/* iterations handed to userspace */
	u64 linear;			/* string: guest linear address of data */
	unsigned long rip;		/* of the instruction, at the exit */
};

/* An MMIO exit in flight to userspace (KVM_EXIT_MMIO). */
struct mvm_mmio {
	gpa_t gpa;
	u8 len;				/* 1..8 */
	bool write;
	u8 reg;				/* destination GPR for reads */
	u8 dst_size;			/* bytes written to reg (1, 2, 4, 8) */
	bool sign_extend;		/* MOVSX */
	u8 insn_len;			/* RIP advance once complete */
};

/* An exception for the guest (SDM vol. 3A 6.15, APM vol. 2 8.2). */
struct mvm_queued_exception {
	bool pending;
	bool injected;
	u8 vector;
	bool has_error_code;
	u32 error_code;
	/*
	 * The payload (CR2 of a #PF, DR6 bits of a #DB) is delivered into
	 * the register when the exception is queued, as KVM does without
	 * KVM_CAP_EXCEPTION_PAYLOAD; it is kept only to be reported.
	 */
	bool has_payload;
	u64 payload;
	u8 insn_len;			/* INT3/INTO re-injected on VT-x */
};

/* An interrupt for the guest: KVM_INTERRUPT, or an INTn interrupted. */
struct mvm_queued_interrupt {
	bool injected;
	bool soft;			/* INTn: insn_len is its length */
	u8 nr;
	u8 insn_len;
};

/*
 * Every field is M (vcpu->mutex: only the vCPU's own ioctls, KVM_RUN
 * included, touch them) unless annotated otherwise; legend in
 * include/linux/mvm_host.h.
 */
struct mvm_vcpu_arch {
	/*
	 * Guest GPRs and RIP.  RAX..R15 are always valid here except those
	 * a vendor keeps in hardware state (SVM: RAX, RSP, RIP in the VMCB;
	 * VMX: RSP, RIP in the VMCS); for those, regs_avail says whether
	 * regs[] holds the value and regs_dirty whether it must be written
	 * back before the next entry.  Use mvm_register_read/write().
	 */
	unsigned long regs[NR_MVM_REGS];
	unsigned long regs_avail;
	unsigned long regs_dirty;

	u64 apic_base;
	u64 misc_enable;
	/*
	 * KVM_MP_STATE_*: A (other vCPUs' INIT/SIPI only set pending APIC
	 * events; the vCPU's own thread changes mp_state).
	 */
	u32 mp_state;
	/* In-kernel local APIC (lapic.c), NULL without an irqchip.  C. */
	struct mvm_lapic *apic;
	/*
	 * The guest TSC deadline whose timer the LAPIC's hrtimer delivered
	 * early, by the timer advance: the entry waits for it
	 * (mvm_lapic_wait_expired_timer()).  0: none.  The hrtimer callback
	 * sets it, the vCPU's thread clears it.  A.
	 */
	u64 timer_expired_deadline;
	/*
	 * The split irqchip: an ExtINT vector userspace's PIC queued with
	 * KVM_INTERRUPT (-1: none), and the vector of a level-triggered EOI
	 * for userspace's IOAPIC (KVM_EXIT_IOAPIC_EOI).
	 */
	int pending_external_vector;
	u8 pending_ioapic_eoi;

	/*
	 * Guest time (tsc.c).  tsc_offset is what the VMCS/VMCB add to the
	 * host TSC; tsc_khz the rate KVM_GET_TSC_KHZ reports (the host's:
	 * no TSC scaling); tsc_adjust IA32_TSC_ADJUST (SDM 17.17.3).
	 */
	u64 tsc_offset;
	u32 tsc_khz;
	s64 tsc_adjust;

	/* MSRs that are only storage for mvm (msr.c, mtrr.c). */
	struct mvm_mtrr_state mtrr;
	u64 ucode_rev;			/* IA32_UCODE_REV, set by the host */
	u64 arch_capabilities;		/* IA32_ARCH_CAPABILITIES */
	u64 hwcr;			/* AMD HWCR: McStatusWrEn only */
	u64 vm_cr;			/* AMD VM_CR */
	u64 de_cfg;			/* AMD DE_CFG */
	/* MSR_KVM_SYSTEM_TIME(_NEW): GPA | enable (kvmclock.c). */
	u64 kvmclock_system_time;
	u32 kvmclock_version;		/* of the pvclock structure written */
	/* Machine-check banks (mce.c): MCi_CTL, _STATUS, _ADDR, _MISC. */
	u64 mcg_cap;
	u64 mcg_status;
	u64 mcg_ctl;
	u64 mce_banks[MVM_MAX_MCE_BANKS * 4];
	u64 xcr0;			/* guest XCR0, switched around entry */
	u32 pkru;			/* guest PKRU, switched while CR4.PKE */
	bool pkru_switched;		/* guest CR4.PKE: switch PKRU at entry */
	u64 cr8;			/* TPR as userspace sees it (no APIC) */

	/*
	 * Debug registers as the guest sees them.  Every MOV DR is
	 * intercepted (mvm_emulate_mov_dr()); DR0-3 reach the hardware only
	 * while the guest's DR7 enables a breakpoint, DR7 lives in the
	 * VMCS/VMCB too (set_dr7), DR6 only here.
	 */
	unsigned long db[4];
	unsigned long dr6;
	unsigned long dr7;
	unsigned long cr2;		/* VMX: not in the VMCS, switched by hand */
	bool ran_once;			/* CPUID is frozen after the first run */
	/*
	 * The host ran code since the last entry that may have brought
	 * secrets into the L1D (a new KVM_RUN, a reschedule, MMIO or string
	 * I/O emulation): on L1TF-affected CPUs VT-x flushes the L1D before
	 * the next entry.
	 */
	bool l1tf_flush_l1d;
	void *entry_work_shim;		/* see entry_work.c */

	/* CPUID table set by KVM_SET_CPUID2. */
	struct kvm_cpuid_entry2 *cpuid_entries;
	int cpuid_nent;

	struct fpu_guest guest_fpu;

	/*
	 * Events for the guest (events.c).  An event is "pending" while
	 * nothing has been committed for it yet, "injected" once it is in
	 * the VMCS/VMCB event-injection field or was reported by the
	 * IDT-vectoring information / EXITINTINFO of the last exit as
	 * interrupted mid-delivery: an injected event is delivered again,
	 * unchanged, before anything new.
	 */
	struct mvm_queued_exception exception;
	struct mvm_queued_interrupt interrupt;
	/* KVM_NMI (and, later, the local APIC's NMIs): any thread.  A. */
	atomic_t nmi_queued;
	unsigned int nmi_pending;	/* at most 2, as KVM */
	bool nmi_injected;

	/* Completion of an exit that went to userspace (PIO in, MMIO read). */
	int (*complete_userspace_io)(struct mvm_vcpu *vcpu);
	struct mvm_pio pio;
	struct mvm_mmio mmio;

	/* Preallocated table pages for the fault path (no allocation under
	 * mmu_lock). */
	void *mmu_page_cache[MVM_MMU_MAX_LEVELS - 1];
	int mmu_page_cache_nr;
};

#endif /* __MVM_ARCH_H */
