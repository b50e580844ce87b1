/* SPDX-License-Identifier: GPL-2.0 */
/*
 * For the vendors' entry code (svm/svm_entry.S, vmx/vmx_entry.S): where
 * each guest GPR lives in mvm_vcpu_arch.regs[] (the order of KVM's
 * asm/kvm_vcpu_regs.h), and the store of the guest's GPRs after an exit,
 * which is the same for both: only how RAX is saved and what follows
 * depend on the instruction that returned (VMRUN or a VM exit).
 */
#ifndef __ARCH_X86_MVM_ENTRY_REGS_H
#define __ARCH_X86_MVM_ENTRY_REGS_H

#include <asm/kvm_vcpu_regs.h>

#define VCPU_RAX	(__VCPU_REGS_RAX * 8)
#define VCPU_RCX	(__VCPU_REGS_RCX * 8)
#define VCPU_RDX	(__VCPU_REGS_RDX * 8)
#define VCPU_RBX	(__VCPU_REGS_RBX * 8)
#define VCPU_RBP	(__VCPU_REGS_RBP * 8)
#define VCPU_RSI	(__VCPU_REGS_RSI * 8)
#define VCPU_RDI	(__VCPU_REGS_RDI * 8)
#define VCPU_R8		(__VCPU_REGS_R8 * 8)
#define VCPU_R9		(__VCPU_REGS_R9 * 8)
#define VCPU_R10	(__VCPU_REGS_R10 * 8)
#define VCPU_R11	(__VCPU_REGS_R11 * 8)
#define VCPU_R12	(__VCPU_REGS_R12 * 8)
#define VCPU_R13	(__VCPU_REGS_R13 * 8)
#define VCPU_R14	(__VCPU_REGS_R14 * 8)
#define VCPU_R15	(__VCPU_REGS_R15 * 8)

#ifdef __ASSEMBLY__
/* Every guest GPR but RAX (which holds @regs) into regs[] at @regs. */
.macro MVM_STORE_GUEST_GPRS_BUT_RAX regs:req
	mov	%rcx, VCPU_RCX(\regs)
	mov	%rdx, VCPU_RDX(\regs)
	mov	%rbx, VCPU_RBX(\regs)
	mov	%rbp, VCPU_RBP(\regs)
	mov	%rsi, VCPU_RSI(\regs)
	mov	%rdi, VCPU_RDI(\regs)
	mov	%r8, VCPU_R8(\regs)
	mov	%r9, VCPU_R9(\regs)
	mov	%r10, VCPU_R10(\regs)
	mov	%r11, VCPU_R11(\regs)
	mov	%r12, VCPU_R12(\regs)
	mov	%r13, VCPU_R13(\regs)
	mov	%r14, VCPU_R14(\regs)
	mov	%r15, VCPU_R15(\regs)
.endm

/*
 * Zero every GPR but RSP and RBX (which VMX's path uses for its return
 * value; AMD-V's clears it itself), so that the host never speculates on
 * a guest value, not even in those reloaded from the stack afterwards.
 */
.macro MVM_CLEAR_GPRS_BUT_RBX
	xor	%eax, %eax
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%ebp, %ebp
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d
	xor	%r12d, %r12d
	xor	%r13d, %r13d
	xor	%r14d, %r14d
	xor	%r15d, %r15d
.endm
#endif

#endif /* __ARCH_X86_MVM_ENTRY_REGS_H */
