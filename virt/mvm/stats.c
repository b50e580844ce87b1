// SPDX-License-Identifier: GPL-2.0
/*
 * mvm: statistics, in KVM's binary format (KVM_GET_STATS_FD on a VM or
 * vCPU fd, Documentation/virt/kvm/api.rst "KVM_GET_STATS_FD") and as one
 * debugfs file per statistic (/sys/kernel/debug/mvm/<pid>-<vm fd>/).
 *
 * The counters live in struct mvm_vm_stat and struct mvm_vcpu_stat
 * (include/linux/mvm_host.h), plain u64s that their owners bump without
 * atomics or locks.  The descriptor tables are built once at module load
 * from the field list below; a read snapshots the u64s one whole load at
 * a time and copies out whatever part of the file was asked for.
 *
 * File layout (every block 8-byte aligned, as api.rst requires):
 *   0                         struct kvm_stats_header
 *   MVM_STATS_ID_OFFSET       id string, KVM_STATS_NAME_SIZE bytes
 *   MVM_STATS_DESC_OFFSET     num_desc descriptors, each followed by its
 *                             name in KVM_STATS_NAME_SIZE bytes
 *   header.data_offset        the values, a u64 array in descriptor order
 */
#define pr_fmt(fmt) "mvm: " fmt

#include <linux/anon_inodes.h>
#include <linux/debugfs.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/mvm_host.h>
#include <asm/tsc.h>

#define MVM_STATS_ID_OFFSET	sizeof(struct kvm_stats_header)
#define MVM_STATS_DESC_OFFSET	(MVM_STATS_ID_OFFSET + KVM_STATS_NAME_SIZE)
/*
 * A descriptor is its fixed part and name_size bytes of name.  offsetof,
 * not sizeof: in 6.12's uapi header (not 6.1's) the kernel's view has the name
 * as a KVM_STATS_NAME_SIZE array (userspace's a flexible one), and the
 * layout userspace reads must not depend on the kernel built for.
 */
#define MVM_STATS_DESC_SIZE	(offsetof(struct kvm_stats_desc, name) + \
				 KVM_STATS_NAME_SIZE)
#define MVM_STATS_MAX_DESC	128

/* One statistic: what its descriptor says, kept for debugfs too. */
struct mvm_stat_info {
	char name[KVM_STATS_NAME_SIZE];
	u32 flags;		/* KVM_STATS_TYPE_* | KVM_STATS_UNIT_* | KVM_STATS_BASE_* */
	s16 exponent;
	u16 size;		/* u64 values */
	u32 offset;		/* bytes into the stat struct = into the data block */
	u32 bucket_size;	/* linear histograms */
};

struct mvm_stats_table {
	struct mvm_stat_info info[MVM_STATS_MAX_DESC];
	int nr;
	size_t data_size;	/* bytes: sizeof the stat struct */
	struct kvm_stats_header header;
	u8 *desc_block;		/* nr * MVM_STATS_DESC_SIZE bytes */
};

static struct mvm_stats_table *mvm_vm_stats, *mvm_vcpu_stats;
static struct dentry *mvm_debugfs_root;

/* Statistics exits_<name> and exit_latency_<name>. */
static const char *const mvm_exit_stat_names[MVM_EXIT_STAT_NR] = {
	[MVM_EXIT_STAT_OTHER] = "other",
	[MVM_EXIT_STAT_EXTERNAL_INTERRUPT] = "external_interrupt",
	[MVM_EXIT_STAT_EXCEPTION_NMI] = "exception_nmi",
	[MVM_EXIT_STAT_TRIPLE_FAULT] = "triple_fault",
	[MVM_EXIT_STAT_INTERRUPT_WINDOW] = "interrupt_window",
	[MVM_EXIT_STAT_NMI_WINDOW] = "nmi_window",
	[MVM_EXIT_STAT_CPUID] = "cpuid",
	[MVM_EXIT_STAT_HLT] = "hlt",
	[MVM_EXIT_STAT_IO] = "io",
	[MVM_EXIT_STAT_MSR_READ] = "msr_read",
	[MVM_EXIT_STAT_MSR_WRITE] = "msr_write",
	[MVM_EXIT_STAT_CR_ACCESS] = "cr_access",
	[MVM_EXIT_STAT_DR_ACCESS] = "dr_access",
	[MVM_EXIT_STAT_NPF] = "npf",
	[MVM_EXIT_STAT_HYPERCALL] = "hypercall",
	[MVM_EXIT_STAT_XSETBV] = "xsetbv",
	[MVM_EXIT_STAT_VIRT_INSN] = "virt_insn",
	[MVM_EXIT_STAT_NOP_INSN] = "nop_insn",
	[MVM_EXIT_STAT_RDPMC] = "rdpmc",
	[MVM_EXIT_STAT_MACHINE_CHECK] = "machine_check",
	[MVM_EXIT_STAT_FAILED_ENTRY] = "failed_entry",
};

/* ------------------------------------------------------------------ */
/* Descriptor tables                                                    */

static int mvm_stats_add(struct mvm_stats_table *t, const char *name,
			 u32 flags, u16 size, size_t offset, u32 bucket_size)
{
	struct mvm_stat_info *s;

	if (WARN_ON(t->nr >= MVM_STATS_MAX_DESC ||
		    strlen(name) >= KVM_STATS_NAME_SIZE ||
		    offset + size * sizeof(u64) > t->data_size))
		return -EINVAL;
	s = &t->info[t->nr++];
	strscpy(s->name, name, sizeof(s->name));
	s->flags = flags;
	s->exponent = 0;
	s->size = size;
	s->offset = offset;
	s->bucket_size = bucket_size;
	return 0;
}

#define MVM_COUNTER	(KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_NONE | KVM_STATS_BASE_POW10)
#define MVM_ICOUNTER	(KVM_STATS_TYPE_INSTANT | KVM_STATS_UNIT_NONE | KVM_STATS_BASE_POW10)
#define MVM_CYCLES	(KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_CYCLES | KVM_STATS_BASE_POW10)
#define MVM_PEAK_CYCLES	(KVM_STATS_TYPE_PEAK | KVM_STATS_UNIT_CYCLES | KVM_STATS_BASE_POW10)
#define MVM_LOG_CYCLES	(KVM_STATS_TYPE_LOG_HIST | KVM_STATS_UNIT_CYCLES | KVM_STATS_BASE_POW10)
#define MVM_LINEAR	(KVM_STATS_TYPE_LINEAR_HIST | KVM_STATS_UNIT_NONE | KVM_STATS_BASE_POW10)

#define VM_STAT(t, field, flags)					\
	mvm_stats_add(t, #field, flags, 1,				\
		      offsetof(struct mvm_vm_stat, field), 0)
#define VCPU_STAT(t, name, field, flags)				\
	mvm_stats_add(t, name, flags, 1,				\
		      offsetof(struct mvm_vcpu_stat, field), 0)

static int mvm_vm_stats_build(struct mvm_stats_table *t)
{
	int r = 0;

	t->data_size = sizeof(struct mvm_vm_stat);
	r |= VM_STAT(t, pages_4k, MVM_ICOUNTER);
	r |= VM_STAT(t, pages_2m, MVM_ICOUNTER);
	r |= VM_STAT(t, pages_1g, MVM_ICOUNTER);
	r |= VM_STAT(t, leaves_zapped, MVM_COUNTER);
	r |= VM_STAT(t, memory_slots, MVM_ICOUNTER);
	r |= VM_STAT(t, online_vcpus, MVM_ICOUNTER);
	r |= VM_STAT(t, host_tsc_khz, MVM_ICOUNTER);
	return r;
}

static int mvm_vcpu_stats_build(struct mvm_stats_table *t)
{
	char name[KVM_STATS_NAME_SIZE];
	int i, r = 0;

	t->data_size = sizeof(struct mvm_vcpu_stat);
	/* KVM's names where KVM has the same counter. */
	r |= VCPU_STAT(t, "exits", exits, MVM_COUNTER);
	r |= VCPU_STAT(t, "halt_exits", halt_exits, MVM_COUNTER);
	r |= VCPU_STAT(t, "io_exits", io_exits, MVM_COUNTER);
	r |= VCPU_STAT(t, "mmio_exits", mmio_exits, MVM_COUNTER);
	r |= VCPU_STAT(t, "signal_exits", signal_exits, MVM_COUNTER);
	r |= VCPU_STAT(t, "halt_wakeup", halt_wakeups, MVM_COUNTER);
	r |= VCPU_STAT(t, "kernel_exits", kernel_exits, MVM_COUNTER);
	r |= VCPU_STAT(t, "userspace_exits", userspace_exits, MVM_COUNTER);
	r |= VCPU_STAT(t, "irq_injections", irq_injections, MVM_COUNTER);
	r |= VCPU_STAT(t, "nmi_injections", nmi_injections, MVM_COUNTER);
	r |= VCPU_STAT(t, "exception_injections", exception_injections,
		       MVM_COUNTER);
	r |= VCPU_STAT(t, "npf_taken", npf_taken, MVM_COUNTER);
	r |= VCPU_STAT(t, "npf_mapped", npf_mapped, MVM_COUNTER);
	r |= VCPU_STAT(t, "tlb_flush", tlb_flush, MVM_COUNTER);
	r |= VCPU_STAT(t, "guest_cycles", guest_cycles, MVM_CYCLES);
	r |= VCPU_STAT(t, "mvm_cycles", mvm_cycles, MVM_CYCLES);
	r |= VCPU_STAT(t, "user_cycles", user_cycles, MVM_CYCLES);
	r |= VCPU_STAT(t, "halt_cycles", halt_cycles, MVM_CYCLES);
	r |= VCPU_STAT(t, "exit_latency_max", exit_latency_max,
		       MVM_PEAK_CYCLES);
	for (i = 0; i < MVM_EXIT_STAT_NR; i++) {
		snprintf(name, sizeof(name), "exits_%s", mvm_exit_stat_names[i]);
		r |= mvm_stats_add(t, name, MVM_COUNTER, 1,
				   offsetof(struct mvm_vcpu_stat,
					    exits_by_reason[i]), 0);
	}
	/* Bucket N counts kvm_run exit_reason N (the last, N and above). */
	r |= mvm_stats_add(t, "userspace_exits_by_reason", MVM_LINEAR,
			   MVM_STAT_USER_REASONS,
			   offsetof(struct mvm_vcpu_stat, userspace_exits_by_reason),
			   1);
	r |= mvm_stats_add(t, "exits_vendor", MVM_LINEAR,
			   MVM_STAT_VENDOR_REASONS,
			   offsetof(struct mvm_vcpu_stat, exits_vendor), 1);
	r |= mvm_stats_add(t, "guest_time_hist", MVM_LOG_CYCLES,
			   MVM_STAT_HIST_BUCKETS,
			   offsetof(struct mvm_vcpu_stat, guest_time_hist), 0);
	for (i = 0; i < MVM_EXIT_STAT_NR; i++) {
		snprintf(name, sizeof(name), "exit_latency_%s",
			 mvm_exit_stat_names[i]);
		r |= mvm_stats_add(t, name, MVM_LOG_CYCLES,
				   MVM_STAT_HIST_BUCKETS,
				   offsetof(struct mvm_vcpu_stat,
					    exit_latency_hist[i]), 0);
	}
	return r;
}

/* The header and the descriptor block, as the file shows them. */
static int mvm_stats_finish(struct mvm_stats_table *t)
{
	int i;

	t->desc_block = kcalloc(t->nr, MVM_STATS_DESC_SIZE, GFP_KERNEL);
	if (!t->desc_block)
		return -ENOMEM;
	for (i = 0; i < t->nr; i++) {
		struct kvm_stats_desc *d = (void *)(t->desc_block +
						    i * MVM_STATS_DESC_SIZE);
		const struct mvm_stat_info *s = &t->info[i];

		d->flags = s->flags;
		d->exponent = s->exponent;
		d->size = s->size;
		d->offset = s->offset;
		d->bucket_size = s->bucket_size;
		memcpy(d->name, s->name, KVM_STATS_NAME_SIZE);
	}
	t->header.flags = 0;
	t->header.name_size = KVM_STATS_NAME_SIZE;
	t->header.num_desc = t->nr;
	t->header.id_offset = MVM_STATS_ID_OFFSET;
	t->header.desc_offset = MVM_STATS_DESC_OFFSET;
	t->header.data_offset = MVM_STATS_DESC_OFFSET + t->nr * MVM_STATS_DESC_SIZE;
	return 0;
}

static struct mvm_stats_table *
mvm_stats_table_create(int (*build)(struct mvm_stats_table *t))
{
	struct mvm_stats_table *t;

	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return NULL;
	if (build(t) || mvm_stats_finish(t)) {
		kfree(t->desc_block);
		kfree(t);
		return NULL;
	}
	return t;
}

static void mvm_stats_table_free(struct mvm_stats_table *t)
{
	if (t)
		kfree(t->desc_block);
	kfree(t);
}

/* ------------------------------------------------------------------ */
/* Snapshots                                                            */

/*
 * Whole u64 loads, never a byte copy: a counter being bumped on another
 * CPU is then seen before or after, never half of each.
 */
static void mvm_stats_copy(u64 *dst, const u64 *src, size_t bytes)
{
	size_t i;

	for (i = 0; i < bytes / sizeof(u64); i++)
		dst[i] = READ_ONCE(src[i]);
}

static void mvm_vm_stats_snapshot(struct mvm *mvm, struct mvm_vm_stat *out)
{
	int idx;

	mvm_stats_copy((u64 *)out, (const u64 *)&mvm->stat, sizeof(*out));
	/* The slot set says how many slots there are: no counter to keep. */
	idx = srcu_read_lock(&mvm->srcu);
	out->memory_slots = mvm_memslots(mvm)->nr;
	srcu_read_unlock(&mvm->srcu, idx);
	out->online_vcpus = atomic_read(&mvm->online_vcpus);
}

/* ------------------------------------------------------------------ */
/* The stats fd                                                         */

/*
 * Copy [*pos, *pos + size) of the file out of its four blocks.  The data
 * block comes from @data, a snapshot the caller took.
 */
static ssize_t mvm_stats_read(const struct mvm_stats_table *t, const char *id,
			      const void *data, char __user *buf, size_t size,
			      loff_t *ppos)
{
	const struct kvm_stats_header *h = &t->header;
	char id_block[KVM_STATS_NAME_SIZE] = {};
	struct {
		size_t start, len;
		const void *src;
	} blocks[] = {
		{ 0, sizeof(*h), h },
		{ h->id_offset, KVM_STATS_NAME_SIZE, id_block },
		{ h->desc_offset, (size_t)t->nr * MVM_STATS_DESC_SIZE, t->desc_block },
		{ h->data_offset, t->data_size, data },
	};
	size_t end = h->data_offset + t->data_size;
	size_t pos, done = 0;
	int i;

	if (*ppos < 0)
		return -EINVAL;
	if (*ppos >= end)
		return 0;
	pos = *ppos;
	size = min(size, end - pos);
	strscpy(id_block, id, sizeof(id_block));

	for (i = 0; i < ARRAY_SIZE(blocks) && done < size; i++) {
		size_t b_end = blocks[i].start + blocks[i].len;
		size_t from, n;

		if (pos + done >= b_end)
			continue;
		/* The blocks are adjacent: nothing to fill in between. */
		from = pos + done - blocks[i].start;
		n = min(size - done, blocks[i].len - from);
		if (copy_to_user(buf + done, blocks[i].src + from, n))
			return done ? done : -EFAULT;
		done += n;
	}
	*ppos = pos + done;
	return done;
}

static loff_t mvm_stats_llseek(struct file *file, loff_t offset, int whence,
			       const struct mvm_stats_table *t)
{
	return fixed_size_llseek(file, offset, whence,
				 t->header.data_offset + t->data_size);
}

static ssize_t mvm_vm_stats_fd_read(struct file *file, char __user *buf,
				    size_t size, loff_t *ppos)
{
	struct mvm *mvm = file->private_data;
	struct mvm_vm_stat snap;

	mvm_vm_stats_snapshot(mvm, &snap);
	return mvm_stats_read(mvm_vm_stats, mvm->stats_id, &snap, buf, size,
			      ppos);
}

static loff_t mvm_vm_stats_fd_llseek(struct file *file, loff_t offset,
				     int whence)
{
	return mvm_stats_llseek(file, offset, whence, mvm_vm_stats);
}

static int mvm_vm_stats_fd_release(struct inode *inode, struct file *file)
{
	mvm_put_vm(file->private_data);
	return 0;
}

static const struct file_operations mvm_vm_stats_fops = {
	.owner		= THIS_MODULE,
	.read		= mvm_vm_stats_fd_read,
	.llseek		= mvm_vm_stats_fd_llseek,
	.release	= mvm_vm_stats_fd_release,
};

static ssize_t mvm_vcpu_stats_fd_read(struct file *file, char __user *buf,
				      size_t size, loff_t *ppos)
{
	struct mvm_vcpu *vcpu = file->private_data;
	char id[KVM_STATS_NAME_SIZE];
	struct mvm_vcpu_stat *snap;
	ssize_t r;

	snap = kmalloc(sizeof(*snap), GFP_KERNEL);
	if (!snap)
		return -ENOMEM;
	mvm_stats_copy((u64 *)snap, (const u64 *)&vcpu->stat, sizeof(*snap));
	snprintf(id, sizeof(id), "%s/vcpu-%u", vcpu->mvm->stats_id,
		 vcpu->vcpu_id);
	r = mvm_stats_read(mvm_vcpu_stats, id, snap, buf, size, ppos);
	kfree(snap);
	return r;
}

static loff_t mvm_vcpu_stats_fd_llseek(struct file *file, loff_t offset,
				       int whence)
{
	return mvm_stats_llseek(file, offset, whence, mvm_vcpu_stats);
}

static int mvm_vcpu_stats_fd_release(struct inode *inode, struct file *file)
{
	struct mvm_vcpu *vcpu = file->private_data;

	mvm_put_vm(vcpu->mvm);
	return 0;
}

static const struct file_operations mvm_vcpu_stats_fops = {
	.owner		= THIS_MODULE,
	.read		= mvm_vcpu_stats_fd_read,
	.llseek		= mvm_vcpu_stats_fd_llseek,
	.release	= mvm_vcpu_stats_fd_release,
};

/*
 * A read-only fd that holds a reference on the VM (the vCPUs go only with
 * it), so it outlives the VM and vCPU fds, as KVM's.
 */
static int mvm_stats_fd_create(struct mvm *mvm, const char *name,
			       const struct file_operations *fops, void *priv)
{
	struct file *file;
	int fd;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	file = anon_inode_getfile(name, fops, priv, O_RDONLY);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		return PTR_ERR(file);
	}
	mvm_get_vm(mvm);
	file->f_mode |= FMODE_PREAD;
	fd_install(fd, file);
	return fd;
}

int mvm_vm_get_stats_fd(struct mvm *mvm)
{
	return mvm_stats_fd_create(mvm, "mvm-vm-stats", &mvm_vm_stats_fops,
				   mvm);
}

int mvm_vcpu_get_stats_fd(struct mvm_vcpu *vcpu)
{
	char name[32];

	snprintf(name, sizeof(name), "mvm-vcpu-stats:%u", vcpu->vcpu_id);
	return mvm_stats_fd_create(vcpu->mvm, name, &mvm_vcpu_stats_fops, vcpu);
}

/* ------------------------------------------------------------------ */
/* debugfs: /sys/kernel/debug/mvm/<pid>-<vm fd>/<stat>                  */

/*
 * One file per statistic: VM statistics as they are, vCPU statistics
 * summed over the VM's vCPUs; a histogram is one line of its buckets.
 */
struct mvm_debugfs_stat {
	struct mvm *mvm;
	const struct mvm_stat_info *info;
	bool vcpu;
};

static int mvm_debugfs_stat_show(struct seq_file *m, void *unused)
{
	struct mvm_debugfs_stat *e = m->private;
	const struct mvm_stat_info *s = e->info;
	struct mvm *mvm = e->mvm;
	u64 *sum;
	int i, j, n;

	sum = kcalloc(s->size, sizeof(u64), GFP_KERNEL);
	if (!sum)
		return -ENOMEM;
	if (e->vcpu) {
		n = atomic_read(&mvm->online_vcpus);
		/* vcpus[0..n-1] were published before the count. */
		smp_rmb();
		for (i = 0; i < n; i++) {
			const u64 *v = (void *)&mvm->vcpus[i]->stat + s->offset;

			for (j = 0; j < s->size; j++)
				sum[j] += READ_ONCE(v[j]);
		}
	} else {
		struct mvm_vm_stat snap;

		mvm_vm_stats_snapshot(mvm, &snap);
		memcpy(sum, (void *)&snap + s->offset, s->size * sizeof(u64));
	}
	for (j = 0; j < s->size; j++)
		seq_printf(m, "%llu%c", sum[j], j + 1 < s->size ? ' ' : '\n');
	kfree(sum);
	return 0;
}

/*
 * debugfs keeps the entry alive while open() runs and
 * debugfs_remove_recursive() waits for it, so @e is valid here; the VM
 * may already be on its way out (users 0): then the file is gone.
 */
static int mvm_debugfs_stat_open(struct inode *inode, struct file *file)
{
	struct mvm_debugfs_stat *e = inode->i_private;
	int r;

	if (!mvm_get_vm_safe(e->mvm))
		return -ENOENT;
	r = single_open(file, mvm_debugfs_stat_show, e);
	if (r)
		mvm_put_vm(e->mvm);
	return r;
}

static int mvm_debugfs_stat_release(struct inode *inode, struct file *file)
{
	struct mvm_debugfs_stat *e = inode->i_private;

	single_release(inode, file);
	/* Possibly the last reference: removes this very directory. */
	mvm_put_vm(e->mvm);
	return 0;
}

static const struct file_operations mvm_debugfs_stat_fops = {
	.owner		= THIS_MODULE,
	.open		= mvm_debugfs_stat_open,
	.read		= seq_read,
	.llseek		= seq_lseek,
	.release	= mvm_debugfs_stat_release,
};

/* At creation, before the VM fd is installed: nothing can race with it. */
void mvm_vm_debugfs_create(struct mvm *mvm, int fd)
{
	struct mvm_debugfs_stat *e;
	char name[32];
	int i, n;

	snprintf(mvm->stats_id, sizeof(mvm->stats_id), "mvm-%d",
		 task_pid_nr(current));
	mvm->stat.host_tsc_khz = tsc_khz;
	if (IS_ERR_OR_NULL(mvm_debugfs_root))
		return;

	n = mvm_vm_stats->nr + mvm_vcpu_stats->nr;
	e = kcalloc(n, sizeof(*e), GFP_KERNEL_ACCOUNT);
	if (!e)
		return;
	snprintf(name, sizeof(name), "%d-%d", task_pid_nr(current), fd);
	mvm->debugfs_dentry = debugfs_create_dir(name, mvm_debugfs_root);
	if (IS_ERR(mvm->debugfs_dentry)) {
		/* A name still taken (an old VM's fd number): no files. */
		mvm->debugfs_dentry = NULL;
		kfree(e);
		return;
	}
	mvm->debugfs_stats = e;
	for (i = 0; i < n; i++, e++) {
		e->mvm = mvm;
		e->vcpu = i >= mvm_vm_stats->nr;
		e->info = e->vcpu ? &mvm_vcpu_stats->info[i - mvm_vm_stats->nr] :
				    &mvm_vm_stats->info[i];
		debugfs_create_file(e->info->name, 0444, mvm->debugfs_dentry, e,
				    &mvm_debugfs_stat_fops);
	}
}

/* First thing at VM destruction: waits for open()s in progress. */
void mvm_vm_debugfs_destroy(struct mvm *mvm)
{
	debugfs_remove_recursive(mvm->debugfs_dentry);
	mvm->debugfs_dentry = NULL;
	kfree(mvm->debugfs_stats);
	mvm->debugfs_stats = NULL;
}

/* ------------------------------------------------------------------ */

int mvm_stats_init(void)
{
	mvm_vm_stats = mvm_stats_table_create(mvm_vm_stats_build);
	mvm_vcpu_stats = mvm_stats_table_create(mvm_vcpu_stats_build);
	if (!mvm_vm_stats || !mvm_vcpu_stats) {
		mvm_stats_exit();
		return -ENOMEM;
	}
	/* Without debugfs (or a clash): the stats fds still work. */
	mvm_debugfs_root = debugfs_create_dir("mvm", NULL);
	return 0;
}

void mvm_stats_exit(void)
{
	if (!IS_ERR_OR_NULL(mvm_debugfs_root))
		debugfs_remove_recursive(mvm_debugfs_root);
	mvm_debugfs_root = NULL;
	mvm_stats_table_free(mvm_vcpu_stats);
	mvm_stats_table_free(mvm_vm_stats);
	mvm_vcpu_stats = NULL;
	mvm_vm_stats = NULL;
}
