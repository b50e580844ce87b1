/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mvm_compat.h: every difference between the kernel series mvm builds for,
 * in one place.  Built and tested: Debian's 6.1 and 6.12 cloud kernels
 * (tools/testing/rig/kver.sh).  Each wrapper names the kernel change it
 * follows; where a feature test works (a macro that appeared or went away)
 * it is used instead of a version number.  The version boundaries between
 * 6.1 and 6.12 come from the named commits and are not built here.
 *
 * Code calls the mvm_* name always, never the kernel's, so that exit and
 * run paths stay free of #if.
 */
#ifndef __LINUX_MVM_COMPAT_H
#define __LINUX_MVM_COMPAT_H

#include <linux/version.h>
#include <linux/compiler.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/kvm.h>
#include <linux/rcupdate.h>
#include <linux/smp.h>

/*
 * smp_send_reschedule() became a macro that fires the ipi_send_cpu
 * tracepoint in v6.4 ("trace: Add trace_ipi_send_cpu()"), and its users
 * must see that tracepoint's declaration.  On older kernels this header
 * only declares the ipi_raise/entry/exit tracepoints: harmless.  Included
 * here, before any file of ours defines CREATE_TRACE_POINTS.
 */
#include <trace/events/ipi.h>

/*
 * The one version test; checkpatch's LINUX_VERSION_CODE warning is about
 * in-tree code, and this header exists because mvm is built out of tree.
 */
#define MVM_KERNEL_AT_LEAST(major, minor) \
	(LINUX_VERSION_CODE >= KERNEL_VERSION(major, minor, 0))

/*
 * eventfd_signal() lost its count argument in v6.8 ("eventfd: simplify
 * eventfd_signal()", 3652117f8548): it always adds 1.
 */
static inline void mvm_eventfd_signal(struct eventfd_ctx *ctx)
{
#if MVM_KERNEL_AT_LEAST(6, 8)
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

/*
 * struct fd is read through fd_file() since v6.11 ("introduce fd_file(),
 * convert all accessors to it"), and since v6.12 the file pointer is no
 * longer a member ("struct fd: representation change").  Older kernels
 * have the member and no accessor.
 */
#ifndef fd_file
#define fd_file(f)	((f).file)
#endif

/*
 * rcu_virt_note_context_switch() lost its unused cpu argument in v6.4
 * ("rcu: Remove unused 'cpu' in rcu_virt_note_context_switch()").
 */
static __always_inline void mvm_rcu_virt_note_context_switch(void)
{
#if MVM_KERNEL_AT_LEAST(6, 4)
	rcu_virt_note_context_switch();
#else
	rcu_virt_note_context_switch(smp_processor_id());
#endif
}

/*
 * The kernel's view of kvm_run.immediate_exit is named
 * immediate_exit__unsafe since v6.10 ("KVM: Ensure new code that
 * references immediate_exit gets extra scrutiny"): userspace may write it
 * at any time, so every read is a READ_ONCE() of the shared page.  The
 * uapi layout and userspace's name are unchanged.
 */
static __always_inline bool mvm_run_immediate_exit(struct kvm_run *run)
{
#if MVM_KERNEL_AT_LEAST(6, 10)
	return READ_ONCE(run->immediate_exit__unsafe);
#else
	return READ_ONCE(run->immediate_exit);
#endif
}

/*
 * KVM_TRACE_ENABLE, KVM_TRACE_PAUSE and KVM_TRACE_DISABLE, the ioctls of
 * KVM's long-removed trace facility, were answered with -EOPNOTSUPP until
 * v6.8 ("KVM: remove deprecated UAPIs") dropped them from <linux/kvm.h>;
 * since then KVM treats them as any unknown ioctl.  mvm answers like the
 * KVM of the kernel it is built for.
 */
static inline bool mvm_is_kvm_trace_ioctl(unsigned int ioctl)
{
#ifdef KVM_TRACE_ENABLE
	return ioctl == KVM_TRACE_ENABLE || ioctl == KVM_TRACE_PAUSE ||
	       ioctl == KVM_TRACE_DISABLE;
#else
	return false;
#endif
}

/*
 * Two answers of KVM's ioctls that changed between Debian's 6.1 and 6.12
 * KVM (read in both kernels' sources; the commits lie in between, so the
 * boundary is 6.12 here), and which mvm gives like the KVM of the kernel it
 * is built for:
 *
 * KVM_CREATE_PIT(2) needs the in-kernel PIC (KVM_CREATE_IRQCHIP) first,
 * and fails with -ENOENT without it; 6.1 created a PIT alone.
 */
static inline bool mvm_pit_needs_pic(void)
{
	return MVM_KERNEL_AT_LEAST(6, 12);
}

/*
 * KVM_SET_SREGS checks EFER as a WRMSR would (kvm_is_valid_sregs() ends in
 * kvm_valid_efer()): reserved bits, and LME/LMA or NX without the vCPU's
 * CPUID saying LM or NX, are -EINVAL; 6.1 took EFER as it was.
 */
static inline bool mvm_sregs_check_efer(void)
{
	return MVM_KERNEL_AT_LEAST(6, 12);
}

#endif /* __LINUX_MVM_COMPAT_H */
