// SPDX-License-Identifier: GPL-2.0
/*
 * mvm: the device, VM and vCPU file descriptors (vendor-neutral).
 *
 * The ioctl ABI is KVM's (<linux/kvm.h>); the errno of every error path
 * follows virt/kvm/kvm_main.c in Linux 6.1 so that KVM programs see the
 * same answers.  See Documentation/virt/mvm/api.rst for the differences.
 */
#define pr_fmt(fmt) "mvm: " fmt

#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/namei.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/mvm_host.h>

MODULE_AUTHOR("mvm developers");
MODULE_DESCRIPTION("mvm: a minimal KVM-compatible hypervisor for x86");
MODULE_LICENSE("GPL");

char *mvm_devname = "mvm";
module_param_named(devname, mvm_devname, charp, 0444);
MODULE_PARM_DESC(devname, "name of the device node (default mvm; kvm for /dev/kvm)");

/* KVM's fixed misc minor, used when we stand in for /dev/kvm. */
#define MVM_KVM_MINOR	232

static const struct file_operations mvm_vm_fops;
static const struct file_operations mvm_vcpu_fops;

/* ------------------------------------------------------------------ */
/* VM lifetime                                                          */

/*
 * One vCPU, made and unmade in one place: mvm_vcpu_alloc() sets up in
 * the order struct, kvm_run page, PIO page, arch state, and unwinds in
 * reverse on failure; mvm_vcpu_free() undoes it all in that same reverse
 * order.  The vCPU is not yet visible to anyone.
 */
static struct mvm_vcpu *mvm_vcpu_alloc(struct mvm *mvm, u32 id)
{
	struct mvm_vcpu *vcpu;
	int r = -ENOMEM;

	vcpu = mvm_arch_alloc_vcpu();
	if (!vcpu)
		return ERR_PTR(-ENOMEM);
	vcpu->mvm = mvm;
	vcpu->vcpu_id = id;
	vcpu->cpu = -1;
	mutex_init(&vcpu->mutex);

	vcpu->run = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vcpu->run)
		goto out_vcpu;
	vcpu->pio_data = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vcpu->pio_data)
		goto out_run;
	r = mvm_arch_vcpu_create(vcpu);
	if (r)
		goto out_pio;
	return vcpu;

out_pio:
	free_page((unsigned long)vcpu->pio_data);
out_run:
	free_page((unsigned long)vcpu->run);
out_vcpu:
	mvm_arch_free_vcpu(vcpu);
	return ERR_PTR(r);
}

static void mvm_vcpu_free(struct mvm_vcpu *vcpu)
{
	mvm_arch_vcpu_destroy(vcpu);
	put_pid(rcu_dereference_protected(vcpu->pid, 1));
	free_page((unsigned long)vcpu->pio_data);
	free_page((unsigned long)vcpu->run);
	mvm_arch_free_vcpu(vcpu);
}

static void mvm_destroy_vm(struct mvm *mvm)
{
	int i;

	/* No debugfs reader may find the VM from here on. */
	mvm_vm_debugfs_destroy(mvm);
	/*
	 * Then, nothing may inject into the vCPUs' LAPICs any more: an
	 * irqfd's signal, the PIT's timer.
	 */
	mvm_eventfd_release(mvm);
	mvm_arch_sync_events(mvm);
	for (i = 0; i < atomic_read(&mvm->online_vcpus); i++) {
		struct mvm_vcpu *vcpu = mvm->vcpus[i];

		mvm->vcpus[i] = NULL;
		mvm_vcpu_free(vcpu);
	}
	mvm_arch_vm_destroy(mvm);
	mvm_io_bus_destroy(mvm);
	mvm_free_memslots(mvm);
	cleanup_srcu_struct(&mvm->srcu);
	mmdrop(mvm->mm);
	mvm_arch_free_vm(mvm);
	mvm_arch_hardware_disable_all();
}

void mvm_get_vm(struct mvm *mvm)
{
	refcount_inc(&mvm->users);
}

bool mvm_get_vm_safe(struct mvm *mvm)
{
	return refcount_inc_not_zero(&mvm->users);
}

void mvm_put_vm(struct mvm *mvm)
{
	if (refcount_dec_and_test(&mvm->users))
		mvm_destroy_vm(mvm);
}

static struct mvm *mvm_create_vm(unsigned long type)
{
	struct mvm *mvm;
	int r;

	/* x86 KVM has one VM type, 0 (kvm_arch_init_vm()). */
	if (type)
		return ERR_PTR(-EINVAL);

	mvm = mvm_arch_alloc_vm();
	if (!mvm)
		return ERR_PTR(-ENOMEM);

	mutex_init(&mvm->lock);
	mutex_init(&mvm->slots_lock);
	spin_lock_init(&mvm->mmu_lock);
	refcount_set(&mvm->users, 1);
	mvm->mm = current->mm;
	mmgrab(mvm->mm);

	r = init_srcu_struct(&mvm->srcu);
	if (r)
		goto out_mm;
	mvm_eventfd_init(mvm);

	mvm->memslots = kvzalloc(sizeof(struct mvm_memslots), GFP_KERNEL_ACCOUNT);
	if (!mvm->memslots) {
		r = -ENOMEM;
		goto out_srcu;
	}

	/* Before any VMCS/VMCB exists: -EBUSY if another hypervisor owns VMX/SVM. */
	r = mvm_arch_hardware_enable_all();
	if (r)
		goto out_slots;

	r = mvm_arch_vm_init(mvm);
	if (r)
		goto out_hw;

	return mvm;

out_hw:
	mvm_arch_hardware_disable_all();
out_slots:
	kvfree(rcu_dereference_protected(mvm->memslots, 1));
out_srcu:
	cleanup_srcu_struct(&mvm->srcu);
out_mm:
	mmdrop(mvm->mm);
	mvm_arch_free_vm(mvm);
	return ERR_PTR(r);
}

static int mvm_dev_ioctl_create_vm(unsigned long type)
{
	struct file *file;
	struct mvm *mvm;
	int fd;

	mvm = mvm_create_vm(type);
	if (IS_ERR(mvm))
		return PTR_ERR(mvm);

	/* The fd number first: it names the VM's debugfs directory. */
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		mvm_put_vm(mvm);
		return fd;
	}
	file = anon_inode_getfile("mvm-vm", &mvm_vm_fops, mvm, O_RDWR);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		mvm_put_vm(mvm);
		return PTR_ERR(file);
	}
	mvm_vm_debugfs_create(mvm, fd);
	fd_install(fd, file);
	return fd;
}

/* ------------------------------------------------------------------ */
/* vCPU fd                                                              */

static vm_fault_t mvm_vcpu_fault(struct vm_fault *vmf)
{
	struct mvm_vcpu *vcpu = vmf->vma->vm_file->private_data;
	struct page *page;

	if (vmf->pgoff == 0)
		page = virt_to_page(vcpu->run);
	else if (vmf->pgoff == KVM_PIO_PAGE_OFFSET)
		page = virt_to_page(vcpu->pio_data);
	else
		return VM_FAULT_SIGBUS;

	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct mvm_vcpu_vm_ops = {
	.fault = mvm_vcpu_fault,
};

static int mvm_vcpu_mmap(struct file *file, struct vm_area_struct *vma)
{
	vma->vm_ops = &mvm_vcpu_vm_ops;
	return 0;
}

static int mvm_vcpu_release(struct inode *inode, struct file *filp)
{
	struct mvm_vcpu *vcpu = filp->private_data;

	mvm_put_vm(vcpu->mvm);
	return 0;
}

/*
 * KVM_SET_SIGNAL_MASK: while the vCPU is in KVM_RUN its thread runs with
 * this mask, the thread's own being kept in current->real_blocked (as
 * KVM's kvm_sigset_activate/deactivate do; only current touches it).
 * A signal the mask lets through makes KVM_RUN return -EINTR.
 */
static void mvm_sigset_activate(struct mvm_vcpu *vcpu)
{
	if (vcpu->sigset_active)
		sigprocmask(SIG_SETMASK, &vcpu->sigset, &current->real_blocked);
}

static void mvm_sigset_deactivate(struct mvm_vcpu *vcpu)
{
	if (!vcpu->sigset_active)
		return;
	sigprocmask(SIG_SETMASK, &current->real_blocked, NULL);
	sigemptyset(&current->real_blocked);
}

static long mvm_vcpu_set_signal_mask(struct mvm_vcpu *vcpu,
				     struct kvm_signal_mask __user *umask)
{
	struct kvm_signal_mask mask;
	sigset_t sigset;

	if (!umask) {
		vcpu->sigset_active = false;
		return 0;
	}
	if (copy_from_user(&mask, umask, sizeof(mask)))
		return -EFAULT;
	if (mask.len != sizeof(sigset))
		return -EINVAL;
	if (copy_from_user(&sigset, umask->sigset, sizeof(sigset)))
		return -EFAULT;
	/* SIGKILL and SIGSTOP cannot be blocked. */
	sigdelsetmask(&sigset, sigmask(SIGKILL) | sigmask(SIGSTOP));
	vcpu->sigset = sigset;
	vcpu->sigset_active = true;
	return 0;
}

/*
 * The thread that runs the vCPU changed (the first KVM_RUN, or the VMM
 * moved the vCPU to another thread): mvm_vcpu_on_spin() yields to the new
 * one.  Rare, so the old pid simply waits out the readers.
 */
static void mvm_vcpu_set_pid(struct mvm_vcpu *vcpu)
{
	struct pid *old = rcu_dereference_protected(vcpu->pid,
						     lockdep_is_held(&vcpu->mutex));

	rcu_assign_pointer(vcpu->pid, get_task_pid(current, PIDTYPE_PID));
	if (old) {
		synchronize_rcu();
		put_pid(old);
	}
}

static long mvm_vcpu_ioctl(struct file *filp, unsigned int ioctl,
			   unsigned long arg)
{
	struct mvm_vcpu *vcpu = filp->private_data;
	long r;

	/* A vCPU belongs to the address space that created its VM. */
	if (vcpu->mvm->mm != current->mm)
		return -EIO;
	if (unlikely(_IOC_TYPE(ioctl) != KVMIO))
		return -EINVAL;
	/* Not behind vcpu->mutex: a monitor need not wait for KVM_RUN. */
	if (ioctl == KVM_GET_STATS_FD)
		return mvm_vcpu_get_stats_fd(vcpu);

	if (mutex_lock_killable(&vcpu->mutex))
		return -EINTR;

	/* VMX/SVM is off for good: no vendor state may be touched. */
	if (unlikely(mvm_arch_rebooting())) {
		r = -EIO;
		goto out;
	}

	switch (ioctl) {
	case KVM_RUN:
		r = -EINVAL;
		if (arg)
			break;
		if (unlikely(rcu_access_pointer(vcpu->pid) != task_pid(current)))
			mvm_vcpu_set_pid(vcpu);
		mvm_sigset_activate(vcpu);
		r = mvm_arch_vcpu_run(vcpu);
		mvm_sigset_deactivate(vcpu);
		break;
	case KVM_SET_SIGNAL_MASK:
		r = mvm_vcpu_set_signal_mask(vcpu, (void __user *)arg);
		break;
	default:
		r = mvm_arch_vcpu_ioctl(vcpu, ioctl, arg);
		break;
	}

out:
	mutex_unlock(&vcpu->mutex);
	return r;
}

static const struct file_operations mvm_vcpu_fops = {
	.owner		= THIS_MODULE,
	.release	= mvm_vcpu_release,
	.unlocked_ioctl	= mvm_vcpu_ioctl,
	.compat_ioctl	= mvm_vcpu_ioctl,
	.mmap		= mvm_vcpu_mmap,
	.llseek		= noop_llseek,
};

/*
 * The guest spins in a PAUSE loop (VMX PAUSE-loop exiting, SVM's PAUSE
 * filter): likely it waits for a lock or a flag that another vCPU will
 * release, and on a busy host that vCPU's thread may be waiting for a CPU
 * (the lock-holder preemption problem).  Give this CPU to a sibling whose
 * thread was preempted inside KVM_RUN, round robin from the last one
 * boosted so that every sibling gets its turn, as KVM's
 * kvm_vcpu_on_spin() does.  A sibling that sleeps (HLT, waiting for a
 * SIPI) or runs is not a candidate.  Process context, preemptible.
 */
void mvm_vcpu_on_spin(struct mvm_vcpu *me)
{
	struct mvm *mvm = me->mvm;
	int n = atomic_read(&mvm->online_vcpus);
	int start = READ_ONCE(mvm->last_boosted_vcpu);
	int i;

	smp_rmb();	/* vcpus[i] is published before online_vcpus counts it */
	for (i = 1; i <= n; i++) {
		int idx = (start + i) % n;
		struct mvm_vcpu *vcpu = mvm->vcpus[idx];
		struct task_struct *task;
		int yielded;

		if (vcpu == me || !READ_ONCE(vcpu->preempted))
			continue;
		rcu_read_lock();
		task = get_pid_task(rcu_dereference(vcpu->pid), PIDTYPE_PID);
		rcu_read_unlock();
		if (!task)
			continue;
		yielded = yield_to(task, true);
		put_task_struct(task);
		if (yielded > 0) {
			WRITE_ONCE(mvm->last_boosted_vcpu, idx);
			break;
		}
		if (yielded < 0)	/* nobody else wants this CPU */
			break;
	}
}

static struct mvm_vcpu *mvm_get_vcpu_by_id(struct mvm *mvm, u32 id)
{
	int i;

	lockdep_assert_held(&mvm->lock);
	for (i = 0; i < atomic_read(&mvm->online_vcpus); i++)
		if (mvm->vcpus[i]->vcpu_id == id)
			return mvm->vcpus[i];
	return NULL;
}

static int mvm_vm_ioctl_create_vcpu(struct mvm *mvm, unsigned long id)
{
	struct mvm_vcpu *vcpu;
	char name[32];
	int r, idx;

	/* Same checks, in the same order, as kvm_vm_ioctl_create_vcpu(). */
	if (id >= MVM_MAX_VCPU_IDS)
		return -EINVAL;

	mutex_lock(&mvm->lock);
	if (mvm->created_vcpus >= MVM_MAX_VCPUS) {
		mutex_unlock(&mvm->lock);
		return -EINVAL;
	}
	mvm->created_vcpus++;
	mutex_unlock(&mvm->lock);

	vcpu = mvm_vcpu_alloc(mvm, id);
	if (IS_ERR(vcpu)) {
		r = PTR_ERR(vcpu);
		goto out_count;
	}

	mutex_lock(&mvm->lock);
	if (mvm_get_vcpu_by_id(mvm, id)) {
		r = -EEXIST;
		goto out_unlock;
	}

	idx = atomic_read(&mvm->online_vcpus);
	vcpu->vcpu_idx = idx;
	mvm->vcpus[idx] = vcpu;

	/*
	 * The fd number is predictable, so another thread can issue ioctls
	 * on it as soon as it is installed, before online_vcpus counts the
	 * vCPU; a KVM_RUN then would miss mvm_make_all_vcpus_request()'s TLB
	 * flushes.  Hold vcpu->mutex, which every vCPU ioctl takes, until
	 * the vCPU is counted, as later KVM versions do.
	 */
	mutex_lock(&vcpu->mutex);
	/* The vCPU fd holds a reference on the VM: any close order works. */
	mvm_get_vm(mvm);
	snprintf(name, sizeof(name), "mvm-vcpu:%lu", id);
	r = anon_inode_getfd(name, &mvm_vcpu_fops, vcpu, O_RDWR | O_CLOEXEC);
	if (r < 0) {
		mutex_unlock(&vcpu->mutex);
		mvm->vcpus[idx] = NULL;
		refcount_dec(&mvm->users);
		goto out_unlock;
	}

	/* Publish vcpus[idx] before the count that makes it visible. */
	smp_wmb();
	atomic_inc(&mvm->online_vcpus);
	mutex_unlock(&vcpu->mutex);
	mutex_unlock(&mvm->lock);
	return r;

out_unlock:
	mutex_unlock(&mvm->lock);
	mvm_vcpu_free(vcpu);
out_count:
	mutex_lock(&mvm->lock);
	mvm->created_vcpus--;
	mutex_unlock(&mvm->lock);
	return r;
}

/* ------------------------------------------------------------------ */
/* Capabilities                                                         */

static long mvm_check_extension(struct mvm *mvm, long ext)
{
	switch (ext) {
	case KVM_CAP_USER_MEMORY:
	case KVM_CAP_DESTROY_MEMORY_REGION_WORKS:
	case KVM_CAP_JOIN_MEMORY_REGIONS_WORKS:
	case KVM_CAP_INTERNAL_ERROR_DATA:
	case KVM_CAP_CHECK_EXTENSION_VM:
	case KVM_CAP_IOEVENTFD:
	case KVM_CAP_IOEVENTFD_ANY_LENGTH:
	case KVM_CAP_IOEVENTFD_NO_LENGTH:
	case KVM_CAP_IRQFD:
	case KVM_CAP_IRQFD_RESAMPLE:
	case KVM_CAP_SYNC_MMU:		/* the MMU notifier (mmu.c) */
	case KVM_CAP_BINARY_STATS_FD:
		return 1;
	case KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2:
		return MVM_DIRTY_LOG_MANUAL_CAPS;
	case KVM_CAP_NR_MEMSLOTS:
		return MVM_USER_MEM_SLOTS;
	case KVM_CAP_NR_VCPUS:
		return min_t(int, num_online_cpus(), MVM_MAX_VCPUS);
	case KVM_CAP_MAX_VCPUS:
		return MVM_MAX_VCPUS;
	case KVM_CAP_MAX_VCPU_ID:
		return MVM_MAX_VCPU_IDS;
	case KVM_CAP_IRQ_ROUTING:
		/*
		 * KVM_SET_GSI_ROUTING exists with KVM's semantics for a VM
		 * without an in-kernel irqchip (see mvm_vm_ioctl()).  QEMU
		 * requires the capability even with kernel-irqchip=off.
		 */
		return MVM_MAX_IRQ_ROUTES;
	default:
		return mvm_arch_check_extension(mvm, ext);
	}
}

/* ------------------------------------------------------------------ */
/* VM fd                                                                */

static int mvm_vm_release(struct inode *inode, struct file *filp)
{
	mvm_put_vm(filp->private_data);
	return 0;
}

static long mvm_vm_ioctl(struct file *filp, unsigned int ioctl,
			 unsigned long arg)
{
	struct mvm *mvm = filp->private_data;
	void __user *argp = (void __user *)arg;
	long r;

	if (mvm->mm != current->mm)
		return -EIO;

	switch (ioctl) {
	case KVM_CREATE_VCPU:
		r = mvm_vm_ioctl_create_vcpu(mvm, arg);
		break;
	case KVM_SET_USER_MEMORY_REGION: {
		struct kvm_userspace_memory_region mem;

		r = -EFAULT;
		if (copy_from_user(&mem, argp, sizeof(mem)))
			break;
		r = mvm_set_memory_region(mvm, &mem);
		break;
	}
	case KVM_CHECK_EXTENSION:
		r = mvm_check_extension(mvm, arg);
		break;
	case KVM_GET_DIRTY_LOG: {
		struct kvm_dirty_log log;

		r = -EFAULT;
		if (copy_from_user(&log, argp, sizeof(log)))
			break;
		r = mvm_get_dirty_log(mvm, &log);
		break;
	}
	case KVM_CLEAR_DIRTY_LOG: {
		struct kvm_clear_dirty_log log;

		r = -EFAULT;
		if (copy_from_user(&log, argp, sizeof(log)))
			break;
		r = mvm_clear_dirty_log(mvm, &log);
		break;
	}
	case KVM_ENABLE_CAP: {
		struct kvm_enable_cap cap;

		/* The generic capability here, the others in the arch. */
		r = -EFAULT;
		if (copy_from_user(&cap, argp, sizeof(cap)))
			break;
		if (cap.cap == KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)
			r = mvm_enable_manual_dirty_log(mvm, &cap);
		else
			r = mvm_arch_vm_ioctl(mvm, ioctl, arg);
		break;
	}
	case KVM_GET_STATS_FD:
		r = mvm_vm_get_stats_fd(mvm);
		break;
	case KVM_IRQFD: {
		struct kvm_irqfd data;

		r = -EFAULT;
		if (copy_from_user(&data, argp, sizeof(data)))
			break;
		r = mvm_irqfd(mvm, &data);
		break;
	}
	case KVM_IOEVENTFD: {
		struct kvm_ioeventfd data;

		r = -EFAULT;
		if (copy_from_user(&data, argp, sizeof(data)))
			break;
		r = mvm_ioeventfd(mvm, &data);
		break;
	}
	default:
		r = mvm_arch_vm_ioctl(mvm, ioctl, arg);
		break;
	}
	return r;
}

static const struct file_operations mvm_vm_fops = {
	.owner		= THIS_MODULE,
	.release	= mvm_vm_release,
	.unlocked_ioctl	= mvm_vm_ioctl,
	.compat_ioctl	= mvm_vm_ioctl,
	.llseek		= noop_llseek,
};

/* ------------------------------------------------------------------ */
/* /dev/mvm                                                             */

static long mvm_dev_ioctl(struct file *filp, unsigned int ioctl,
			  unsigned long arg)
{
	switch (ioctl) {
	case KVM_GET_API_VERSION:
		if (arg)
			return -EINVAL;
		return MVM_API_VERSION;
	case KVM_CREATE_VM:
		return mvm_dev_ioctl_create_vm(arg);
	case KVM_CHECK_EXTENSION:
		return mvm_check_extension(NULL, arg);
	case KVM_GET_VCPU_MMAP_SIZE:
		if (arg)
			return -EINVAL;
		return MVM_VCPU_MMAP_PAGES * PAGE_SIZE;
	default:
		if (mvm_is_kvm_trace_ioctl(ioctl))
			return -EOPNOTSUPP;
		return mvm_arch_dev_ioctl(ioctl, arg);
	}
}

static const struct file_operations mvm_chardev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= mvm_dev_ioctl,
	.compat_ioctl	= mvm_dev_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice mvm_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.fops = &mvm_chardev_fops,
};

/*
 * misc_register() only refuses a taken minor; a taken *name* makes sysfs
 * complain loudly.  Look for the name first so that a clash is one clear
 * log line and -EBUSY.
 */
static bool mvm_devname_taken(const char *name)
{
	struct path path;
	char *p;
	int r;

	p = kasprintf(GFP_KERNEL, "/sys/class/misc/%s", name);
	if (!p)
		return false;
	r = kern_path(p, 0, &path);
	kfree(p);
	if (r)
		return false;
	path_put(&path);
	return true;
}

static int __init mvm_init(void)
{
	int r;

	if (!*mvm_devname || strchr(mvm_devname, '/') ||
	    strlen(mvm_devname) > 32) {
		pr_err("invalid devname '%s'\n", mvm_devname);
		return -EINVAL;
	}

	r = mvm_arch_init();
	if (r)
		return r;

	r = mvm_irqfd_init();
	if (r)
		goto out_arch;

	r = mvm_stats_init();
	if (r)
		goto out_irqfd;

	if (mvm_devname_taken(mvm_devname)) {
		pr_err("/dev/%s is taken by another driver (is kvm loaded?)\n",
		       mvm_devname);
		r = -EBUSY;
		goto out_stats;
	}

	mvm_dev.name = mvm_devname;
	if (!strcmp(mvm_devname, "kvm"))
		mvm_dev.minor = MVM_KVM_MINOR;
	r = misc_register(&mvm_dev);
	if (r) {
		pr_err("cannot register /dev/%s: %d\n", mvm_devname, r);
		goto out_stats;
	}
	return 0;

out_stats:
	mvm_stats_exit();
out_irqfd:
	mvm_irqfd_exit();
out_arch:
	mvm_arch_exit();
	return r;
}

static void __exit mvm_exit(void)
{
	misc_deregister(&mvm_dev);
	mvm_stats_exit();
	mvm_irqfd_exit();
	mvm_arch_exit();
}

module_init(mvm_init);
module_exit(mvm_exit);
