// SPDX-License-Identifier: GPL-2.0
/*
 * CPUID: what mvm can offer a guest (KVM_GET_SUPPORTED_CPUID), the vCPU's
 * own table (KVM_SET_CPUID2 / KVM_GET_CPUID2), the CPUID exit, and the
 * lookups other code makes in the guest's table.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>
#include "x86.h"
#include "irq.h"

#define MVM_MAX_CPUID_ENTRIES	256

/*
 * What a guest may see: features mvm virtualizes correctly, by register.
 * Anything needing support mvm lacks (VMX/SVM in the guest, MONITOR/MWAIT,
 * PMU, XSAVES, speculation-control MSRs) is left out.  MCE/MCA: the banks
 * are mce.c's.  Some features are
 * mvm's own rather than the host's: the MTRRs and IA32_TSC_ADJUST are
 * emulated (mtrr.c, tsc.c), IA32_ARCH_CAPABILITIES reports what mvm
 * knows of the host's vulnerabilities (msr.c).
 */
#define F(bit)	BIT(bit)
static const u32 mvm_cpuid_1_ecx = F(0) /* SSE3 */ | F(1) /* PCLMULQDQ */ |
	F(9) /* SSSE3 */ | F(12) /* FMA */ | F(13) /* CX16 */ |
	F(19) /* SSE4.1 */ | F(20) /* SSE4.2 */ | F(22) /* MOVBE */ |
	F(23) /* POPCNT */ | F(25) /* AES */ | F(26) /* XSAVE */ |
	F(28) /* AVX */ | F(29) /* F16C */ | F(30) /* RDRAND */;
static const u32 mvm_cpuid_1_edx = F(0) /* FPU */ | F(1) /* VME */ |
	F(2) /* DE */ | F(3) /* PSE */ | F(4) /* TSC */ | F(5) /* MSR */ |
	F(6) /* PAE */ | F(7) /* MCE */ | F(8) /* CX8 */ | F(9) /* APIC */ |
	F(11) /* SEP */ | F(12) /* MTRR */ | F(13) /* PGE */ | F(14) /* MCA */ |
	F(15) /* CMOV */ | F(16) /* PAT */ |
	F(17) /* PSE36 */ | F(19) /* CLFLUSH */ | F(23) /* MMX */ |
	F(24) /* FXSR */ | F(25) /* SSE */ | F(26) /* SSE2 */;
static const u32 mvm_cpuid_7_ebx = F(0) /* FSGSBASE */ | F(3) /* BMI1 */ |
	F(5) /* AVX2 */ | F(7) /* SMEP */ | F(8) /* BMI2 */ | F(9) /* ERMS */ |
	F(16) /* AVX512F */ | F(17) /* AVX512DQ */ | F(18) /* RDSEED */ |
	F(19) /* ADX */ | F(20) /* SMAP */ | F(21) /* AVX512IFMA */ |
	F(23) /* CLFLUSHOPT */ | F(24) /* CLWB */ | F(28) /* AVX512CD */ |
	F(29) /* SHA */ | F(30) /* AVX512BW */ | F(31) /* AVX512VL */;
static const u32 mvm_cpuid_7_ecx = F(1) /* AVX512VBMI */ |
	F(6) /* AVX512VBMI2 */ | F(8) /* GFNI */ | F(9) /* VAES */ |
	F(10) /* VPCLMULQDQ */ | F(11) /* AVX512VNNI */ |
	F(12) /* AVX512BITALG */ | F(14) /* AVX512VPOPCNTDQ */;
static const u32 mvm_cpuid_7_edx = F(4) /* FSRM */;
/* Emulated by mvm whatever the host has. */
static const u32 mvm_cpuid_7_ebx_emulated = F(1) /* TSC_ADJUST */;
static const u32 mvm_cpuid_7_edx_emulated = F(29) /* ARCH_CAPABILITIES */;
static const u32 mvm_cpuid_8000_0001_ecx = F(0) /* LAHF */ | F(5) /* ABM */ |
	F(6) /* SSE4A */ | F(7) /* MISALIGNSSE */ | F(8) /* PREFETCHW */;
static const u32 mvm_cpuid_8000_0001_edx = F(11) /* SYSCALL */ |
	F(20) /* NX */ | F(22) /* MMXEXT */ | F(26) /* 1GB pages */ |
	F(29) /* LM */ |
	/* AMD mirrors these leaf-1 EDX bits here. */
	(mvm_cpuid_1_edx & (GENMASK(9, 0) | GENMASK(17, 12) | F(23) | F(24)));
#undef F

struct mvm_cpuid_array {
	struct kvm_cpuid_entry2 *entries;
	int nent;
	int max;
};

static int mvm_cpuid_add(struct mvm_cpuid_array *a, u32 function, u32 index,
			 u32 flags)
{
	struct kvm_cpuid_entry2 *e;

	if (a->nent >= a->max)
		return -E2BIG;
	e = &a->entries[a->nent++];
	memset(e, 0, sizeof(*e));
	e->function = function;
	e->index = index;
	e->flags = flags;
	cpuid_count(function, index, &e->eax, &e->ebx, &e->ecx, &e->edx);
	return 0;
}

/* XSAVE area size for the components in @xcr0 (CPUID.0xD sizes). */
u32 mvm_xstate_size(u64 xcr0)
{
	u32 size = 512 + 64;	/* legacy area + XSAVE header */
	int i;

	for (i = 2; i < 64; i++) {
		u32 eax, ebx, ecx, edx;

		if (!(xcr0 & BIT_ULL(i)))
			continue;
		cpuid_count(0xd, i, &eax, &ebx, &ecx, &edx);
		size = max(size, eax + ebx);
	}
	return size;
}

static int mvm_fill_supported_cpuid(struct mvm_cpuid_array *a)
{
	u32 max_basic = min_t(u32, cpuid_eax(0), 0xd);
	u32 max_ext = min_t(u32, cpuid_eax(0x80000000), 0x80000008);
	bool avx = mvm_supported_xcr0 & XFEATURE_MASK_YMM;
	bool avx512 = (mvm_supported_xcr0 & XFEATURE_MASK_AVX512) ==
		      XFEATURE_MASK_AVX512;
	struct kvm_cpuid_entry2 *e;
	u32 f, i;
	int r;

	for (f = 0; f <= max_basic; f++) {
		switch (f) {
		case 0:
			r = mvm_cpuid_add(a, f, 0, 0);
			if (!r)
				a->entries[a->nent - 1].eax = max_basic;
			break;
		case 1:
			r = mvm_cpuid_add(a, f, 0, 0);
			if (r)
				break;
			e = &a->entries[a->nent - 1];
			e->ecx &= mvm_cpuid_1_ecx;
			if (!avx)
				e->ecx &= ~(BIT(12) | BIT(28) | BIT(29));
			if (!mvm_supported_xcr0)
				e->ecx &= ~BIT(26);
			e->ecx |= BIT(31);	/* running on a hypervisor */
			/*
			 * x2APIC is emulated whatever the host has, as KVM
			 * (lapic.c); TSC deadline is not listed here but told
			 * by KVM_CAP_TSC_DEADLINE_TIMER, as KVM does.
			 */
			e->ecx |= BIT(21);
			e->edx &= mvm_cpuid_1_edx;
			/* Initial APIC id and logical count are the VMM's. */
			e->ebx &= 0xffff;
			break;
		case 2:
			r = mvm_cpuid_add(a, f, 0, 0);
			break;
		case 4:
			for (i = 0; ; i++) {
				r = mvm_cpuid_add(a, f, i,
						  KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
				if (r || !(a->entries[a->nent - 1].eax & 0x1f))
					break;
			}
			break;
		case 7:
			r = mvm_cpuid_add(a, f, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
			if (r)
				break;
			e = &a->entries[a->nent - 1];
			e->eax = 0;	/* no subleaf 1 */
			e->ebx &= mvm_cpuid_7_ebx;
			e->ebx |= mvm_cpuid_7_ebx_emulated;
			if (!avx)
				e->ebx &= ~BIT(5);
			if (!avx512) {
				e->ebx &= ~(BIT(16) | BIT(17) | BIT(21) | BIT(28) |
					    BIT(30) | BIT(31));
				e->ecx &= ~(BIT(1) | BIT(6) | BIT(11) | BIT(12) |
					    BIT(14));
			}
			e->ecx &= mvm_cpuid_7_ecx;
			/* PKU with PKRU switched around the guest; OSPKE is dynamic. */
			if (boot_cpu_has(X86_FEATURE_OSPKE))
				e->ecx |= BIT(3);
			e->edx &= mvm_cpuid_7_edx;
			e->edx |= mvm_cpuid_7_edx_emulated;
			break;
		case 0xd:
			if (!mvm_supported_xcr0) {
				r = 0;
				break;
			}
			r = mvm_cpuid_add(a, f, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
			if (r)
				break;
			e = &a->entries[a->nent - 1];
			e->eax = (u32)mvm_supported_xcr0;
			e->edx = (u32)(mvm_supported_xcr0 >> 32);
			e->ecx = mvm_xstate_size(mvm_supported_xcr0);
			e->ebx = e->ecx;
			r = mvm_cpuid_add(a, f, 1, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
			if (r)
				break;
			e = &a->entries[a->nent - 1];
			/* XSAVEOPT, XSAVEC, XGETBV1; no XSAVES (no IA32_XSS). */
			e->eax &= BIT(0) | BIT(1) | BIT(2);
			e->ebx = e->ecx = e->edx = 0;
			for (i = 2; i < 64 && !r; i++)
				if (mvm_supported_xcr0 & BIT_ULL(i))
					r = mvm_cpuid_add(a, f, i,
							  KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
			break;
		default:
			/* Thermal, PMU, topology, ...: not virtualized. */
			r = 0;
			break;
		}
		if (r)
			return r;
	}

	if (a->nent + 2 > a->max)
		return -E2BIG;
	mvm_kvmclock_cpuid(&a->entries[a->nent], &a->entries[a->nent + 1]);
	a->nent += 2;

	for (f = 0x80000000; f <= max_ext; f++) {
		switch (f) {
		case 0x80000000:
			r = mvm_cpuid_add(a, f, 0, 0);
			if (!r)
				a->entries[a->nent - 1].eax = max_ext;
			break;
		case 0x80000001:
			r = mvm_cpuid_add(a, f, 0, 0);
			if (r)
				break;
			e = &a->entries[a->nent - 1];
			e->ecx &= mvm_cpuid_8000_0001_ecx;
			e->edx &= mvm_cpuid_8000_0001_edx;
			break;
		case 0x80000002 ... 0x80000006:
			r = mvm_cpuid_add(a, f, 0, 0);
			break;
		case 0x80000008:
			r = mvm_cpuid_add(a, f, 0, 0);
			if (r)
				break;
			e = &a->entries[a->nent - 1];
			e->eax &= 0xffff;	/* physical and linear address bits */
			e->ebx = e->ecx = e->edx = 0;
			break;
		default:
			r = 0;
			break;
		}
		if (r)
			return r;
	}
	return 0;
}

long mvm_dev_get_supported_cpuid(struct kvm_cpuid2 __user *ucpuid)
{
	struct mvm_cpuid_array a = {};
	struct kvm_cpuid2 cpuid;
	long r;

	if (copy_from_user(&cpuid, ucpuid, sizeof(cpuid)))
		return -EFAULT;
	if (cpuid.nent < 1)
		return -E2BIG;
	a.max = min_t(u32, cpuid.nent, MVM_MAX_CPUID_ENTRIES);
	a.entries = kvcalloc(a.max, sizeof(*a.entries), GFP_KERNEL);
	if (!a.entries)
		return -ENOMEM;

	r = mvm_fill_supported_cpuid(&a);
	if (r)
		goto out;
	r = -EFAULT;
	if (copy_to_user(ucpuid->entries, a.entries, a.nent * sizeof(*a.entries)))
		goto out;
	cpuid.nent = a.nent;
	if (copy_to_user(ucpuid, &cpuid, sizeof(cpuid)))
		goto out;
	r = 0;
out:
	kvfree(a.entries);
	return r;
}

struct kvm_cpuid_entry2 *mvm_find_cpuid_entry(struct mvm_vcpu *vcpu,
					      u32 function, u32 index)
{
	int i;

	for (i = 0; i < vcpu->arch.cpuid_nent; i++) {
		struct kvm_cpuid_entry2 *e = &vcpu->arch.cpuid_entries[i];

		if (e->function == function &&
		    (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     e->index == index))
			return e;
	}
	return NULL;
}

long mvm_vcpu_set_cpuid2(struct mvm_vcpu *vcpu,
			 struct kvm_cpuid2 __user *ucpuid)
{
	struct kvm_cpuid_entry2 *entries = NULL;
	struct kvm_cpuid2 cpuid;

	if (copy_from_user(&cpuid, ucpuid, sizeof(cpuid)))
		return -EFAULT;
	if (cpuid.nent > MVM_MAX_CPUID_ENTRIES)
		return -E2BIG;
	if (cpuid.nent) {
		entries = vmemdup_user(ucpuid->entries,
				       array_size(sizeof(*entries), cpuid.nent));
		if (IS_ERR(entries))
			return PTR_ERR(entries);
	}

	/*
	 * As KVM since 5.16: once the vCPU has run, CPUID may only be set
	 * again to exactly the same table.
	 */
	if (vcpu->arch.ran_once) {
		bool same = cpuid.nent == vcpu->arch.cpuid_nent &&
			!memcmp(entries, vcpu->arch.cpuid_entries,
				cpuid.nent * sizeof(*entries));

		kvfree(entries);
		return same ? 0 : -EINVAL;
	}

	kvfree(vcpu->arch.cpuid_entries);
	vcpu->arch.cpuid_entries = entries;
	vcpu->arch.cpuid_nent = cpuid.nent;
	mvm_lapic_after_set_cpuid(vcpu);
	return 0;
}

long mvm_vcpu_get_cpuid2(struct mvm_vcpu *vcpu,
			 struct kvm_cpuid2 __user *ucpuid)
{
	struct kvm_cpuid2 cpuid;

	if (copy_from_user(&cpuid, ucpuid, sizeof(cpuid)))
		return -EFAULT;
	if (cpuid.nent < vcpu->arch.cpuid_nent)
		return -E2BIG;
	if (copy_to_user(ucpuid->entries, vcpu->arch.cpuid_entries,
			 vcpu->arch.cpuid_nent * sizeof(struct kvm_cpuid_entry2)))
		return -EFAULT;
	cpuid.nent = vcpu->arch.cpuid_nent;
	if (copy_to_user(ucpuid, &cpuid, sizeof(cpuid)))
		return -EFAULT;
	return 0;
}

int mvm_emulate_cpuid(struct mvm_vcpu *vcpu)
{
	u32 function = mvm_register_read(vcpu, MVM_REG_RAX);
	u32 index = mvm_register_read(vcpu, MVM_REG_RCX);
	struct kvm_cpuid_entry2 *e;
	u32 eax = 0, ebx = 0, ecx = 0, edx = 0;

	/* A leaf the VMM did not set reads as zeros. */
	e = mvm_find_cpuid_entry(vcpu, function, index);
	if (e) {
		eax = e->eax;
		ebx = e->ebx;
		ecx = e->ecx;
		edx = e->edx;
		/* Bits that follow guest state, as on hardware. */
		if (function == 1) {
			ecx &= ~BIT(27);
			if (mvm_x86_ops->get_cr(vcpu, 4) & X86_CR4_OSXSAVE)
				ecx |= BIT(27);
		} else if (function == 7 && index == 0) {
			ecx &= ~BIT(4);
			if (vcpu->arch.pkru_switched)
				ecx |= BIT(4);	/* OSPKE: CR4.PKE */
		} else if (function == 0xd && (index == 0 || index == 1)) {
			ebx = mvm_xstate_size(vcpu->arch.xcr0);
		}
	}
	mvm_register_write(vcpu, MVM_REG_RAX, eax);
	mvm_register_write(vcpu, MVM_REG_RBX, ebx);
	mvm_register_write(vcpu, MVM_REG_RCX, ecx);
	mvm_register_write(vcpu, MVM_REG_RDX, edx);
	mvm_x86_ops->skip_instruction(vcpu);
	return 1;
}

/* The guest's MAXPHYADDR: CPUID 0x80000008 EAX[7:0], else 36 (as KVM). */
int mvm_guest_maxphyaddr(struct mvm_vcpu *vcpu)
{
	struct kvm_cpuid_entry2 *e = mvm_find_cpuid_entry(vcpu, 0x80000000, 0);

	if (!e || e->eax < 0x80000008)
		return 36;
	e = mvm_find_cpuid_entry(vcpu, 0x80000008, 0);
	return e ? e->eax & 0xff : 36;
}

/* A CPUID feature bit of the guest's own table. */
bool mvm_guest_cpuid_has(struct mvm_vcpu *vcpu, u32 function, int reg,
			 int bit)
{
	struct kvm_cpuid_entry2 *e = mvm_find_cpuid_entry(vcpu, function, 0);
	u32 regs[4];

	if (!e)
		return false;
	regs[0] = e->eax;
	regs[1] = e->ebx;
	regs[2] = e->ecx;
	regs[3] = e->edx;
	return regs[reg] & BIT(bit);
}

/*
 * The XCR0 bits the guest may enable: those its CPUID leaf 0xD offers
 * that mvm supports (KVM's guest_supported_xcr0).
 */
u64 mvm_guest_supported_xcr0(struct mvm_vcpu *vcpu)
{
	struct kvm_cpuid_entry2 *e = mvm_find_cpuid_entry(vcpu, 0xd, 0);

	if (!e)
		return 0;
	return (e->eax | ((u64)e->edx << 32)) & mvm_supported_xcr0;
}
