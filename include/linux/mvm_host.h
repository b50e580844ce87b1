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

struct mvm {
	struct mm_struct *mm;		/* C: creator's mm, mmgrab()ed */
	refcount_t users;		/* A: VM fd + one per vCPU fd */

	struct mutex lock;		/* vCPU creation */
	int created_vcpus;		/* L */
	atomic_t online_vcpus;		/* A: vcpus[0..online-1] are valid */
	struct mvm_vcpu *vcpus[MVM_MAX_VCPUS]; /* L; readers use online_vcpus */

	struct mutex slots_lock;	/* serializes memslot updates */
	struct mvm_memslots __rcu *memslots; /* S */
	struct srcu_struct srcu;
	spinlock_t mmu_lock;		/* the nested page tables */

	struct mvm_io_bus __rcu *buses[MVM_NR_BUSES]; /* S */

	/* virt/mvm/eventfd.c: KVM_IRQFD and KVM_IOEVENTFD. */
	struct {
		spinlock_t lock;	/* items */
		struct list_head items;	/* struct mvm_irqfd */
		struct list_head resampler_list; /* resample_lock */
		struct mutex resampler_lock;
	} irqfds;
	struct list_head ioeventfds;	/* S */

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

struct mvm_vcpu_stat {
	u64 exits;
	u64 halt_exits;
	u64 io_exits;
	u64 mmio_exits;
	u64 signal_exits;
	u64 halt_wakeups;	/* HLT sleeps that ended runnable */
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
	 * KVM_SET_SIGNAL_MASK: the thread's signal mask while in KVM_RUN
	 * (mvm_main.c).  M.
	 */
	bool sigset_active;
	sigset_t sigset;

	struct mvm_vcpu_stat stat;	/* M */
	struct mvm_vcpu_arch arch;	/* see its own annotations */
};

/* virt/mvm/memslot.c */
int mvm_set_memory_region(struct mvm *mvm,
			  const struct kvm_userspace_memory_region *mem);
void mvm_free_memslots(struct mvm *mvm);
struct mvm_memory_slot *mvm_gfn_to_memslot(struct mvm *mvm, gfn_t gfn);
int mvm_read_guest(struct mvm *mvm, gpa_t gpa, void *data, unsigned long len);
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
/* A memslot was deleted or moved: drop its mappings and page pins. */
void mvm_arch_flush_memslot(struct mvm *mvm,
			    const struct mvm_memory_slot *slot);

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
