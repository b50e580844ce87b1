/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mvm: vendor-neutral core objects shared by virt/mvm and arch/x86/mvm.
 *
 * Object lifetime
 * ---------------
 * A VM (struct mvm) is reference counted: the VM fd holds one reference and
 * every vCPU fd holds one more.  vCPUs are only ever freed together with
 * their VM, when the last reference goes, so the fds may be closed in any
 * order.  Every open fd also pins the module (file_operations.owner).
 *
 * Locks: the order, and the leaf locks of the backends, are written once,
 * in Documentation/virt/mvm/design.rst ("Lock order").
 *
 * Field annotations (here and in arch/x86/mvm/mvm_arch.h), after bhyve:
 *   C  const after creation (set before the object is published)
 *   L  mvm->lock
 *   M  vcpu->mutex
 *   S  written under mvm->slots_lock, read under mvm->srcu
 *   P  mvm->mmu_lock
 *   A  atomic: an atomic type, bitops, or READ_ONCE/WRITE_ONCE with the
 *      ordering described at the use
 *   T  the vCPU's thread holding vcpu->mutex, with preemption off
 */
#ifndef __LINUX_MVM_HOST_H
#define __LINUX_MVM_HOST_H

#include <linux/types.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/refcount.h>
#include <linux/srcu.h>
#include <linux/list.h>
#include <linux/preempt.h>
#include <linux/rcuwait.h>
#include <linux/kvm.h>
#include <linux/signal_types.h>
#include <linux/mvm_compat.h>

#include "mvm_arch.h"

#define MVM_API_VERSION		12

/* Limits reported through KVM_CHECK_EXTENSION. */
#define MVM_MAX_VCPUS		64	/* KVM_CAP_MAX_VCPUS, KVM_CAP_NR_VCPUS */
#define MVM_MAX_VCPU_IDS	1024	/* KVM_CAP_MAX_VCPU_ID */
#define MVM_MAX_IRQ_ROUTES	4096	/* KVM_CAP_IRQ_ROUTING, as KVM_MAX_IRQ_ROUTES */
#define MVM_USER_MEM_SLOTS	256	/* KVM_CAP_NR_MEMSLOTS */

/* vCPU mmap layout, as KVM's: page 0 is struct kvm_run, page 1 PIO data. */
#define MVM_VCPU_MMAP_PAGES	2

/* gpa_t, gfn_t, gva_t, hpa_t: the kernel's own names for these. */
#include <linux/kvm_types.h>

/*
 * One guest-physical memory region backed by host user memory.  Immutable
 * once published: an update builds a new struct mvm_memslots.
 */
struct mvm_memory_slot {
	u32 id;				/* kvm_userspace_memory_region.slot */
	u32 flags;			/* KVM_MEM_* */
	gfn_t base_gfn;
	unsigned long npages;
	unsigned long userspace_addr;
	/*
	 * KVM_MEM_LOG_DIRTY_PAGES: one bit per page (little-endian bit
	 * order, as KVM_GET_DIRTY_LOG copies it), then as many bits again
	 * for the harvest's copy; NULL when not logging.  Shared by the
	 * copies of the slot across updates; freed after SRCU readers.
	 */
	unsigned long *dirty_bitmap;
};

/*
 * The VM's slot set, published with rcu_assign_pointer() under
 * mvm->slots_lock and read under srcu_read_lock(&mvm->srcu).
 * slots[] is sorted by base_gfn (they never overlap) so a lookup is a
 * binary search; a slot is found by its id with a linear scan.
 */
struct mvm_memslots {
	int nr;
	struct mvm_memory_slot slots[MVM_USER_MEM_SLOTS];
};

struct mvm;
struct mvm_vcpu;
struct mvm_debugfs_stat;
struct dentry;

/*
 * The in-kernel I/O bus (virt/mvm/io_bus.c): port and MMIO ranges that
 * devices in the kernel (PIC, PIT, IOAPIC, ioeventfds) serve before an
 * access would go to userspace.  Registration under mvm->slots_lock;
 * lookups under mvm->srcu (the bus is replaced, never edited in place).
 */
enum mvm_bus {
	MVM_MMIO_BUS,
	MVM_PIO_BUS,
	MVM_NR_BUSES
};

struct mvm_io_device;

/*
 * Return 0 when the access was served, -EOPNOTSUPP when the device does
 * not take it (an ioeventfd whose datamatch differs): the bus then tries
 * the next device covering the address, and finally userspace.
 */
struct mvm_io_device_ops {
	int (*read)(struct mvm_vcpu *vcpu, struct mvm_io_device *dev,
		    gpa_t addr, int len, void *val);
	int (*write)(struct mvm_vcpu *vcpu, struct mvm_io_device *dev,
		     gpa_t addr, int len, const void *val);
};

struct mvm_io_device {
	const struct mvm_io_device_ops *ops;
};

struct mvm_io_range {
	gpa_t addr;
	int len;
	struct mvm_io_device *dev;
};

/* A bus: ranges sorted by address, replaced as a whole (RCU). */
struct mvm_io_bus {
	int nr;
	struct rcu_head rcu;
	struct mvm_io_range range[];
};

#define MVM_IO_BUS_MAX_DEVS	1000	/* as KVM's NR_IOBUS_DEVS */

int mvm_io_bus_register_dev(struct mvm *mvm, enum mvm_bus bus, gpa_t addr,
			    int len, struct mvm_io_device *dev);
void mvm_io_bus_unregister_dev(struct mvm *mvm, enum mvm_bus bus,
			       struct mvm_io_device *dev);
/* 0 when a device took the access, -EOPNOTSUPP when none did. */
int mvm_io_bus_write(struct mvm_vcpu *vcpu, enum mvm_bus bus, gpa_t addr,
		     int len, const void *val);
int mvm_io_bus_read(struct mvm_vcpu *vcpu, enum mvm_bus bus, gpa_t addr,
		    int len, void *val);
void mvm_io_bus_destroy(struct mvm *mvm);

/* Per-VM statistics: see struct mvm_vcpu_stat below. */
struct mvm_vm_stat {
	u64 pages_4k;		/* P: 4 KiB leaves mapped */
	u64 pages_2m;		/* P: 2 MiB leaves mapped */
	u64 pages_1g;		/* P: 1 GiB leaves mapped */
	u64 leaves_zapped;	/* P */
	/* Filled in when read (stats.c): */
	u64 memory_slots;	/* slots in use */
	u64 online_vcpus;
	u64 host_tsc_khz;	/* C: to turn the cycle counts into time */
};

struct mvm {
	struct mm_struct *mm;		/* C: creator's mm, mmgrab()ed */
	refcount_t users;		/* A: VM fd + one per vCPU fd */

	struct mutex lock;		/* vCPU creation */
	int created_vcpus;		/* L */
	atomic_t online_vcpus;		/* A: vcpus[0..online-1] are valid */
	struct mvm_vcpu *vcpus[MVM_MAX_VCPUS]; /* L; readers use online_vcpus */

	struct mutex slots_lock;	/* serializes memslot updates */
	struct mvm_memslots __rcu *memslots; /* S */
	/* KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2's flags; slots_lock. */
	u64 manual_dirty_log_protect;
	struct srcu_struct srcu;
	spinlock_t mmu_lock;		/* the nested page tables */

	struct mvm_io_bus __rcu *buses[MVM_NR_BUSES]; /* S */

	/* A: where mvm_vcpu_on_spin() starts its round-robin search. */
	int last_boosted_vcpu;

	/* virt/mvm/eventfd.c: KVM_IRQFD and KVM_IOEVENTFD. */
	struct {
		spinlock_t lock;	/* items */
		struct list_head items;	/* struct mvm_irqfd */
		struct list_head resampler_list; /* resample_lock */
		struct mutex resampler_lock;
	} irqfds;
	struct list_head ioeventfds;	/* S */

	struct mvm_vm_stat stat;
	char stats_id[KVM_STATS_NAME_SIZE];	/* C: "mvm-<pid>" */
	struct dentry *debugfs_dentry;	/* C: NULL without debugfs */
	struct mvm_debugfs_stat *debugfs_stats; /* C: its files' data */

	struct mvm_arch arch;
};

/*
 * vcpu->mode: whether a kick must interrupt the guest with an IPI.
 * EXITING: a kick already sent one (mvm_vcpu_kick()); set only by cmpxchg
 * from IN_GUEST, so later kicks do not send another.
 */
#define MVM_OUTSIDE_GUEST_MODE	0
#define MVM_IN_GUEST_MODE	1
#define MVM_EXITING_GUEST_MODE	2

/*
 * Statistics (virt/mvm/stats.c exports them: KVM_GET_STATS_FD, debugfs).
 * Every field is a u64 written by one owner without atomics or locks (the
 * vCPU's thread for vCPU stats, the lock named at the field for VM stats);
 * readers load whole aligned u64s, which x86-64 never tears, so a reader
 * sees each counter at some recent value.
 *
 * Exits by reason use one vendor-neutral list: each backend maps its VMX
 * basic exit reason or SVM exit code onto it (vmx_stat_reason(),
 * svm_stat_reason()) and also counts the raw vendor reason.  OTHER is 0,
 * so that a hole in a backend's mapping table means "other".  The names
 * are in virt/mvm/stats.c.
 */
enum mvm_exit_stat {
	MVM_EXIT_STAT_OTHER,
	MVM_EXIT_STAT_EXTERNAL_INTERRUPT,
	MVM_EXIT_STAT_EXCEPTION_NMI,
	MVM_EXIT_STAT_TRIPLE_FAULT,
	MVM_EXIT_STAT_INTERRUPT_WINDOW,
	MVM_EXIT_STAT_NMI_WINDOW,
	MVM_EXIT_STAT_CPUID,
	MVM_EXIT_STAT_HLT,
	MVM_EXIT_STAT_IO,
	MVM_EXIT_STAT_MSR_READ,
	MVM_EXIT_STAT_MSR_WRITE,
	MVM_EXIT_STAT_CR_ACCESS,
	MVM_EXIT_STAT_DR_ACCESS,
	MVM_EXIT_STAT_NPF,
	MVM_EXIT_STAT_HYPERCALL,
	MVM_EXIT_STAT_XSETBV,
	MVM_EXIT_STAT_VIRT_INSN,
	MVM_EXIT_STAT_NOP_INSN,
	MVM_EXIT_STAT_RDPMC,
	MVM_EXIT_STAT_MACHINE_CHECK,
	MVM_EXIT_STAT_FAILED_ENTRY,
	MVM_EXIT_STAT_NR
};

/* Buckets of the log2 histograms: [0], [1], [2, 3], ... [2^30, inf). */
#define MVM_STAT_HIST_BUCKETS	32
/* Exits to userspace by kvm_run->exit_reason: KVM_EXIT_* 0..38, 39+. */
#define MVM_STAT_USER_REASONS	40
/*
 * Raw vendor reasons: the VMX basic exit reason, or the SVM exit code
 * below 0xf0; SVM codes 0x400 (NPF) and up count at 0xf0 + (code - 0x400);
 * whatever else (a failed entry) at the last, 255.
 */
#define MVM_STAT_VENDOR_REASONS	256

struct mvm_vcpu_stat {
	u64 exits;
	u64 halt_exits;		/* KVM_EXIT_HLT, or HLT in the kernel */
	u64 io_exits;		/* KVM_EXIT_IO */
	u64 mmio_exits;		/* KVM_EXIT_MMIO */
	u64 signal_exits;
	u64 halt_wakeups;	/* HLT sleeps that ended runnable */
	u64 kernel_exits;	/* exits handled without userspace */
	u64 userspace_exits;	/* KVM_RUN returns (0 or -EINTR) */
	u64 irq_injections;	/* entries with an interrupt injected */
	u64 nmi_injections;
	u64 exception_injections;
	u64 npf_taken;		/* nested page faults */
	u64 npf_mapped;		/* ... resolved by mapping guest memory */
	u64 tlb_flush;		/* guest TLB flushes requested */
	/* TSC cycles: in the guest; in KVM_RUN outside it; out of KVM_RUN. */
	u64 guest_cycles;
	u64 mvm_cycles;
	u64 user_cycles;
	u64 halt_cycles;	/* part of mvm_cycles: asleep in HLT */
	u64 exit_latency_max;	/* peak of exit_latency_hist */
	u64 exits_by_reason[MVM_EXIT_STAT_NR];
	u64 userspace_exits_by_reason[MVM_STAT_USER_REASONS];
	u64 exits_vendor[MVM_STAT_VENDOR_REASONS];
	/* Cycles from VM entry to VM exit. */
	u64 guest_time_hist[MVM_STAT_HIST_BUCKETS];
	/*
	 * Cycles from a VM exit to the next VM entry, or to the return to
	 * userspace when the exit goes there (its time in mvm).
	 */
	u64 exit_latency_hist[MVM_EXIT_STAT_NR][MVM_STAT_HIST_BUCKETS];
};

/* The run loop's timestamps behind the cycle counts (x86.c).  T. */
struct mvm_vcpu_stat_clock {
	u64 entry_tsc;		/* last VM entry */
	u64 exit_tsc;		/* last VM exit */
	u64 mark_tsc;		/* start of the current stretch in mvm */
	u64 return_tsc;		/* last return to userspace, 0: none yet */
	enum mvm_exit_stat reason; /* of the exit at exit_tsc */
	bool exit_open;		/* its latency is not counted yet */
};


struct mvm_vcpu {
	struct mvm *mvm;		/* C */
	u32 vcpu_id;			/* C: userspace's id (APIC id) */
	int vcpu_idx;			/* C: index in mvm->vcpus[] */

	struct mutex mutex;		/* one ioctl at a time, held in KVM_RUN */
	struct kvm_run *run;		/* C: page 0 of the vCPU mmap */
	void *pio_data;			/* C: page 1 of the vCPU mmap */

	/* T to write, A to read: physical CPU while loaded, else -1. */
	int cpu;
	struct preempt_notifier preempt_notifier; /* M: reloads on migration */
	/* T to write, A to read: see mvm_make_all_vcpus_request(). */
	int mode;			/* MVM_*_GUEST_MODE */
	unsigned long requests;		/* A: MVM_REQ_* bits, bitops */
	/*
	 * The vCPU's thread while it sleeps in HLT or waits for INIT/SIPI
	 * (x86.c): published by the thread itself, read by
	 * mvm_vcpu_kick() under RCU (rcuwait_wake_up()).  A.
	 */
	struct rcuwait wait;

	/*
	 * Directed yield (mvm_vcpu_on_spin()).  @pid: the thread that last
	 * entered KVM_RUN; written by it under M, read under RCU by spinning
	 * siblings.  @preempted: that thread lost its CPU while runnable
	 * inside KVM_RUN; T to write (the preempt notifiers), A to read.
	 */
	struct pid __rcu *pid;
	bool preempted;

	/*
	 * KVM_SET_SIGNAL_MASK: the thread's signal mask while in KVM_RUN
	 * (mvm_main.c).  M.
	 */
	bool sigset_active;
	sigset_t sigset;

	struct mvm_vcpu_stat stat;	/* M */
	struct mvm_vcpu_stat_clock stat_clock; /* T */
	struct mvm_vcpu_arch arch;	/* see its own annotations */
};

/*
 * A backend names the exit it is about to handle: the neutral reason and
 * the raw vendor one (an index of exits_vendor[]).  The run loop counts
 * its latency (x86.c).
 */
static __always_inline void mvm_stat_exit_reason(struct mvm_vcpu *vcpu,
						 enum mvm_exit_stat reason,
						 unsigned int vendor)
{
	vcpu->stat_clock.reason = reason;
	vcpu->stat.exits_by_reason[reason]++;
	vcpu->stat.exits_vendor[min_t(unsigned int, vendor,
				      MVM_STAT_VENDOR_REASONS - 1)]++;
}

/* mmu.c, mmu_lock held: the gauge of leaves at @level (1: 4 KiB, 2, 3). */
static inline u64 *mvm_stat_leaves(struct mvm *mvm, int level)
{
	if (level == 3)
		return &mvm->stat.pages_1g;
	if (level == 2)
		return &mvm->stat.pages_2m;
	return &mvm->stat.pages_4k;
}

/* mmu.c, mmu_lock held: a leaf at @level went. */
static inline void mvm_stat_leaf_zapped(struct mvm *mvm, int level)
{
	(*mvm_stat_leaves(mvm, level))--;
	mvm->stat.leaves_zapped++;
}

/* virt/mvm/memslot.c */
int mvm_set_memory_region(struct mvm *mvm,
			  const struct kvm_userspace_memory_region *mem);
void mvm_free_memslots(struct mvm *mvm);
struct mvm_memory_slot *mvm_gfn_to_memslot(struct mvm *mvm, gfn_t gfn);
int mvm_read_guest(struct mvm *mvm, gpa_t gpa, void *data, unsigned long len);
/* What KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 offers (KVM's, on x86). */
#define MVM_DIRTY_LOG_MANUAL_CAPS	(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | \
					 KVM_DIRTY_LOG_INITIALLY_SET)
int mvm_enable_manual_dirty_log(struct mvm *mvm,
				const struct kvm_enable_cap *cap);
int mvm_get_dirty_log(struct mvm *mvm, const struct kvm_dirty_log *log);
int mvm_clear_dirty_log(struct mvm *mvm,
			const struct kvm_clear_dirty_log *log);
int mvm_write_guest(struct mvm *mvm, gpa_t gpa, const void *data,
		    unsigned long len);

static inline unsigned long mvm_gfn_to_hva(const struct mvm_memory_slot *slot,
					   gfn_t gfn)
{
	return slot->userspace_addr + ((gfn - slot->base_gfn) << PAGE_SHIFT);
}

static inline struct mvm_memslots *mvm_memslots(struct mvm *mvm)
{
	return srcu_dereference_check(mvm->memslots, &mvm->srcu,
				      lockdep_is_held(&mvm->slots_lock));
}

/* virt/mvm/mvm_main.c */
extern char *mvm_devname;
void mvm_vcpu_on_spin(struct mvm_vcpu *me);
void mvm_get_vm(struct mvm *mvm);
void mvm_put_vm(struct mvm *mvm);
/* A reference unless the VM is already going (debugfs readers). */
bool mvm_get_vm_safe(struct mvm *mvm);

/* virt/mvm/stats.c */
int mvm_stats_init(void);
void mvm_stats_exit(void);
int mvm_vm_get_stats_fd(struct mvm *mvm);
int mvm_vcpu_get_stats_fd(struct mvm_vcpu *vcpu);
void mvm_vm_debugfs_create(struct mvm *mvm, int fd);
void mvm_vm_debugfs_destroy(struct mvm *mvm);

/* virt/mvm/eventfd.c */
int mvm_irqfd_init(void);			/* module load: the shutdown workqueue */
void mvm_irqfd_exit(void);
int mvm_eventfd_init(struct mvm *mvm);
void mvm_eventfd_release(struct mvm *mvm);	/* VM destruction */
int mvm_irqfd(struct mvm *mvm, struct kvm_irqfd *args);
int mvm_ioeventfd(struct mvm *mvm, struct kvm_ioeventfd *args);
/* Raise / lower a GSI: the arch's mvm_set_irq() (irqfds use it). */
int mvm_arch_set_irq(struct mvm *mvm, int irq_source_id, u32 gsi, int level);
bool mvm_arch_irqchip_in_kernel(struct mvm *mvm);

/*
 * Architecture hooks called by virt/mvm.  arch/x86/mvm/x86.c implements
 * them on top of the vendor ops table.
 */
int mvm_arch_init(void);
void mvm_arch_exit(void);
int mvm_arch_check_extension(struct mvm *mvm, long ext);
long mvm_arch_dev_ioctl(unsigned int ioctl, unsigned long arg);
int mvm_arch_hardware_enable_all(void);
void mvm_arch_hardware_disable_all(void);
struct mvm *mvm_arch_alloc_vm(void);
void mvm_arch_free_vm(struct mvm *mvm);
int mvm_arch_vm_init(struct mvm *mvm);
/*
 * At VM destruction, before any vCPU is freed: stop what raises
 * interrupts on its own (the PIT's timer), as KVM's kvm_arch_sync_events.
 */
void mvm_arch_sync_events(struct mvm *mvm);
void mvm_arch_vm_destroy(struct mvm *mvm);
long mvm_arch_vm_ioctl(struct mvm *mvm, unsigned int ioctl,
		       unsigned long arg);
/* Paired: alloc/free the struct, create/destroy what it holds. */
struct mvm_vcpu *mvm_arch_alloc_vcpu(void);
void mvm_arch_free_vcpu(struct mvm_vcpu *vcpu);
int mvm_arch_vcpu_create(struct mvm_vcpu *vcpu);
void mvm_arch_vcpu_destroy(struct mvm_vcpu *vcpu);
long mvm_arch_vcpu_ioctl(struct mvm_vcpu *vcpu, unsigned int ioctl,
			 unsigned long arg);
int mvm_arch_vcpu_run(struct mvm_vcpu *vcpu);
/* A memslot was deleted or moved: zap its nested mappings. */
void mvm_arch_flush_memslot(struct mvm *mvm,
			    const struct mvm_memory_slot *slot);
/*
 * Dirty logging: with mmu_lock held, write-protect the pages @base + i for
 * the bits i of @mask; true if a TLB flush is needed, which the caller
 * does with mvm_arch_flush_remote_tlbs() after dropping the lock.
 */
bool mvm_arch_write_protect_mask(struct mvm *mvm, gfn_t base,
				 unsigned long mask);
void mvm_arch_flush_remote_tlbs(struct mvm *mvm);

/*
 * Set by the reboot notifier (arch/x86/mvm/hw.c) before it turns VMX/SVM
 * off on every CPU, and never cleared: from then on no VMCS/VMCB access
 * may run, so vCPU ioctls and vCPU creation fail with -EIO.
 */
extern bool mvm_rebooting;

static inline bool mvm_arch_rebooting(void)
{
	return READ_ONCE(mvm_rebooting);
}

#endif /* __LINUX_MVM_HOST_H */
