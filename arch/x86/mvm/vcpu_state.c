// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU state that userspace saves and restores beyond the registers:
 * KVM_GET/SET_MP_STATE, KVM_GET/SET_FPU, KVM_GET/SET_XSAVE(2),
 * KVM_GET/SET_XCRS and KVM_GET/SET_DEBUGREGS, with the checks and errno
 * of KVM in Linux 6.1 (arch/x86/kvm/x86.c).  Called with the vCPU loaded
 * (the DR7 of KVM_SET_DEBUGREGS goes into the VMCS/VMCB).
 *
 * The guest's FPU state is in vcpu->arch.guest_fpu between KVM_RUNs (the
 * run loop swaps it in and out), so the ioctls copy it with the FPU
 * core's own helpers, which validate an XSAVE image as the kernel does
 * for signal frames and ptrace.
 */
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>
#include <asm/fpu/types.h>
#include <asm/fpu/xstate.h>
#include <asm/apicdef.h>
#include "x86.h"
#include "irq.h"

/* The XSAVE components KVM_GET/SET_XSAVE carry: XCR0's, and PKRU. */
static u64 mvm_xsave_features(void)
{
	u64 features = mvm_supported_xcr0 | XFEATURE_MASK_FPSSE;

	if (boot_cpu_has(X86_FEATURE_OSPKE))
		features |= XFEATURE_MASK_PKRU;
	return features;
}

/*
 * Only what the guest's CPUID offers goes out, as KVM does, so that the
 * image restores on another host with more features; FP and SSE always.
 */
static u64 mvm_guest_xsave_features(struct mvm_vcpu *vcpu)
{
	u64 features = mvm_guest_supported_xcr0(vcpu) | XFEATURE_MASK_FPSSE;

	if (boot_cpu_has(X86_FEATURE_OSPKE) && mvm_guest_cpuid_has(vcpu, 7, 2, 3))
		features |= XFEATURE_MASK_PKRU;
	return features;
}

/* SDM vol. 1 13.3: the XCR0 values XSETBV accepts, for this guest. */
bool mvm_valid_xcr0(struct mvm_vcpu *vcpu, u64 xcr0)
{
	if (!(xcr0 & XFEATURE_MASK_FP))
		return false;
	if ((xcr0 & XFEATURE_MASK_YMM) && !(xcr0 & XFEATURE_MASK_SSE))
		return false;
	if (xcr0 & ~(mvm_guest_supported_xcr0(vcpu) | XFEATURE_MASK_FP))
		return false;
	if (xcr0 & XFEATURE_MASK_AVX512) {
		if (!(xcr0 & XFEATURE_MASK_YMM))
			return false;
		if ((xcr0 & XFEATURE_MASK_AVX512) != XFEATURE_MASK_AVX512)
			return false;
	}
	return true;
}

static int mvm_get_xsave(struct mvm_vcpu *vcpu, void __user *argp,
			 unsigned int size)
{
	u8 *buf;
	int r = 0;

	buf = kzalloc(size, GFP_KERNEL_ACCOUNT);
	if (!buf)
		return -ENOMEM;
	fpu_copy_guest_fpstate_to_uabi(&vcpu->arch.guest_fpu, buf, size,
				       mvm_guest_xsave_features(vcpu),
				       vcpu->arch.pkru);
	if (copy_to_user(argp, buf, size))
		r = -EFAULT;
	kfree(buf);
	return r;
}

static int mvm_set_xsave(struct mvm_vcpu *vcpu, void __user *argp)
{
	void *buf;
	int r;

	/* As KVM: the image is as large as the guest's FPU state. */
	buf = memdup_user(argp, vcpu->arch.guest_fpu.uabi_size);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	/* XSTATE_BV beyond what mvm saves, or a bad header: -EINVAL. */
	r = fpu_copy_uabi_to_guest_fpstate(&vcpu->arch.guest_fpu, buf,
					   mvm_xsave_features(),
					   &vcpu->arch.pkru);
	kfree(buf);
	return r;
}

/* KVM's GET/SET_FPU: the legacy region of the FXSAVE image, no MXCSR. */
static void mvm_get_fpu(struct mvm_vcpu *vcpu, struct kvm_fpu *fpu)
{
	struct fxregs_state *fx = &vcpu->arch.guest_fpu.fpstate->regs.fxsave;

	memset(fpu, 0, sizeof(*fpu));
	memcpy(fpu->fpr, fx->st_space, sizeof(fpu->fpr));
	fpu->fcw = fx->cwd;
	fpu->fsw = fx->swd;
	fpu->ftwx = fx->twd;
	fpu->last_opcode = fx->fop;
	fpu->last_ip = fx->rip;
	fpu->last_dp = fx->rdp;
	memcpy(fpu->xmm, fx->xmm_space, sizeof(fpu->xmm));
}

static void mvm_set_fpu(struct mvm_vcpu *vcpu, const struct kvm_fpu *fpu)
{
	struct fxregs_state *fx = &vcpu->arch.guest_fpu.fpstate->regs.fxsave;

	memcpy(fx->st_space, fpu->fpr, sizeof(fpu->fpr));
	fx->cwd = fpu->fcw;
	fx->swd = fpu->fsw;
	fx->twd = fpu->ftwx;
	fx->fop = fpu->last_opcode;
	fx->rip = fpu->last_ip;
	fx->rdp = fpu->last_dp;
	memcpy(fx->xmm_space, fpu->xmm, sizeof(fpu->xmm));
	/*
	 * Mark x87 and SSE as in use in XSTATE_BV, or XRSTOR would load
	 * their init state instead (SDM vol. 1 13.8.1) into a vCPU that has
	 * not used them yet.
	 */
	if (boot_cpu_has(X86_FEATURE_XSAVE))
		vcpu->arch.guest_fpu.fpstate->regs.xsave.header.xfeatures |=
			XFEATURE_MASK_FPSSE;
}

static void mvm_get_xcrs(struct mvm_vcpu *vcpu, struct kvm_xcrs *xcrs)
{
	memset(xcrs, 0, sizeof(*xcrs));
	if (!boot_cpu_has(X86_FEATURE_XSAVE))
		return;
	xcrs->nr_xcrs = 1;
	xcrs->xcrs[0].xcr = XCR_XFEATURE_ENABLED_MASK;
	xcrs->xcrs[0].value = vcpu->arch.xcr0;
}

static int mvm_set_xcrs(struct mvm_vcpu *vcpu, const struct kvm_xcrs *xcrs)
{
	u32 i;

	if (!boot_cpu_has(X86_FEATURE_XSAVE))
		return -EINVAL;
	if (xcrs->nr_xcrs > KVM_MAX_XCRS || xcrs->flags)
		return -EINVAL;
	/* Only XCR0 exists; other indices are skipped, as by KVM. */
	for (i = 0; i < xcrs->nr_xcrs; i++) {
		if (xcrs->xcrs[i].xcr != XCR_XFEATURE_ENABLED_MASK)
			continue;
		if (!mvm_valid_xcr0(vcpu, xcrs->xcrs[i].value))
			return -EINVAL;
		vcpu->arch.xcr0 = xcrs->xcrs[i].value;
		break;
	}
	return 0;
}

static void mvm_get_debugregs(struct mvm_vcpu *vcpu, struct kvm_debugregs *d)
{
	memset(d, 0, sizeof(*d));
	memcpy(d->db, vcpu->arch.db, sizeof(d->db));
	d->dr6 = vcpu->arch.dr6;
	d->dr7 = vcpu->arch.dr7;
}

static int mvm_set_debugregs(struct mvm_vcpu *vcpu,
			     const struct kvm_debugregs *d)
{
	/* Bits 63:32 of DR6 and DR7 are reserved: MOV to them #GPs. */
	if (d->flags || upper_32_bits(d->dr6) || upper_32_bits(d->dr7))
		return -EINVAL;
	memcpy(vcpu->arch.db, d->db, sizeof(vcpu->arch.db));
	/* As KVM, the values as given: no fixed bits forced in. */
	vcpu->arch.dr6 = d->dr6;
	vcpu->arch.dr7 = d->dr7;
	mvm_x86_ops->set_dr7(vcpu, d->dr7);
	return 0;
}

/*
 * KVM_SET_MP_STATE, with KVM 6.1's rules (kvm_arch_vcpu_ioctl_set_mpstate).
 * Without an in-kernel local APIC a vCPU is always runnable: HLT goes to
 * userspace (KVM_EXIT_HLT) and there is no INIT or SIPI to wait for, so
 * only RUNNABLE is accepted.  With one, the run loop honours every x86
 * state (x86.c, mvm_vcpu_block()): UNINITIALIZED and INIT_RECEIVED wait
 * for INIT/SIPI, HALTED and AP_RESET_HOLD for an event.  SIPI_RECEIVED is
 * not a state of its own: it means INIT_RECEIVED with a SIPI pending,
 * which the LAPIC takes at the next KVM_RUN or KVM_GET_MP_STATE.  mvm has
 * no SMM and no nested VMX, so INIT and SIPI are never blocked.
 */
static int mvm_set_mp_state(struct mvm_vcpu *vcpu, const struct kvm_mp_state *mp)
{
	switch (mp->mp_state) {
	case KVM_MP_STATE_RUNNABLE:
		break;
	case KVM_MP_STATE_UNINITIALIZED:
	case KVM_MP_STATE_HALTED:
	case KVM_MP_STATE_AP_RESET_HOLD:
	case KVM_MP_STATE_INIT_RECEIVED:
	case KVM_MP_STATE_SIPI_RECEIVED:
		if (!mvm_lapic_in_kernel(vcpu))
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}

	if (mp->mp_state == KVM_MP_STATE_SIPI_RECEIVED) {
		/*
		 * A SIPI to this vCPU alone (the self shorthand reaches it
		 * whatever its APIC ID).  KVM reuses the LAPIC's last SIPI
		 * vector; irq.h has no way to it, so vector 0, which is the
		 * LAPIC's until a SIPI arrives.
		 */
		struct mvm_lapic_irq sipi = {
			.delivery_mode = APIC_DM_STARTUP,
			.level = true,
			.shorthand = APIC_DEST_SELF,
		};

		vcpu->arch.mp_state = KVM_MP_STATE_INIT_RECEIVED;
		mvm_irq_delivery_to_apic(vcpu->mvm, vcpu, &sipi);
	} else {
		vcpu->arch.mp_state = mp->mp_state;
	}
	set_bit(MVM_REQ_EVENT, &vcpu->requests);
	return 0;
}

long mvm_vcpu_state_ioctl(struct mvm_vcpu *vcpu, unsigned int ioctl,
			  void __user *argp)
{
	union {
		struct kvm_mp_state mp;
		struct kvm_fpu fpu;
		struct kvm_xcrs xcrs;
		struct kvm_debugregs dbg;
	} *u;
	long r;

	/*
	 * XSAVE images are big: allocate.  A confidential FPU state (not
	 * used by mvm) would be skipped by KVM without an error.
	 */
	switch (ioctl) {
	case KVM_GET_XSAVE:
		if (vcpu->arch.guest_fpu.uabi_size > sizeof(struct kvm_xsave))
			return -EINVAL;
		return mvm_get_xsave(vcpu, argp, sizeof(struct kvm_xsave));
	case KVM_GET_XSAVE2:
		/* Never more than KVM_CAP_XSAVE2 told userspace to allocate. */
		return mvm_get_xsave(vcpu, argp,
				     min_t(u32, vcpu->arch.guest_fpu.uabi_size,
					   mvm_xsave2_size()));
	case KVM_SET_XSAVE:
		return mvm_set_xsave(vcpu, argp);
	}

	u = kzalloc(sizeof(*u), GFP_KERNEL_ACCOUNT);
	if (!u)
		return -ENOMEM;

	r = 0;
	switch (ioctl) {
	case KVM_GET_MP_STATE:
		/* A pending INIT or SIPI shows as the state it leads to. */
		if (mvm_lapic_in_kernel(vcpu))
			mvm_apic_accept_events(vcpu);
		u->mp.mp_state = vcpu->arch.mp_state;
		if (copy_to_user(argp, &u->mp, sizeof(u->mp)))
			r = -EFAULT;
		break;
	case KVM_SET_MP_STATE:
		if (copy_from_user(&u->mp, argp, sizeof(u->mp)))
			r = -EFAULT;
		else
			r = mvm_set_mp_state(vcpu, &u->mp);
		break;
	case KVM_GET_FPU:
		mvm_get_fpu(vcpu, &u->fpu);
		if (copy_to_user(argp, &u->fpu, sizeof(u->fpu)))
			r = -EFAULT;
		break;
	case KVM_SET_FPU:
		if (copy_from_user(&u->fpu, argp, sizeof(u->fpu)))
			r = -EFAULT;
		else
			mvm_set_fpu(vcpu, &u->fpu);
		break;
	case KVM_GET_XCRS:
		mvm_get_xcrs(vcpu, &u->xcrs);
		if (copy_to_user(argp, &u->xcrs, sizeof(u->xcrs)))
			r = -EFAULT;
		break;
	case KVM_SET_XCRS:
		if (copy_from_user(&u->xcrs, argp, sizeof(u->xcrs)))
			r = -EFAULT;
		else
			r = mvm_set_xcrs(vcpu, &u->xcrs);
		break;
	case KVM_GET_DEBUGREGS:
		mvm_get_debugregs(vcpu, &u->dbg);
		if (copy_to_user(argp, &u->dbg, sizeof(u->dbg)))
			r = -EFAULT;
		break;
	case KVM_SET_DEBUGREGS:
		if (copy_from_user(&u->dbg, argp, sizeof(u->dbg)))
			r = -EFAULT;
		else
			r = mvm_set_debugregs(vcpu, &u->dbg);
		break;
	default:
		r = -EINVAL;
		break;
	}
	kfree(u);
	return r;
}

/*
 * KVM_CAP_XSAVE2: the size of KVM_GET_XSAVE2's image, at least 4096: the
 * guest FPU state's user ABI size, that of the host's XCR0 less the
 * components allocated on demand (AMX tile data).
 */
int mvm_xsave2_size(void)
{
	u64 xcr0;

	if (!boot_cpu_has(X86_FEATURE_XSAVE))
		return sizeof(struct kvm_xsave);
	xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK) & ~XFEATURE_MASK_USER_DYNAMIC;
	return max_t(u32, mvm_xstate_size(xcr0), sizeof(struct kvm_xsave));
}
