/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMRUN and back (APM vol. 2, 15.5 "VMRUN Instruction", 15.6 "#VMEXIT").
 *
 * VMRUN saves and #VMEXIT restores the host's RSP, RIP, RAX, RFLAGS,
 * EFER, CR0/3/4, GDTR/IDTR and CS/SS/DS/ES; the guest's RAX, RSP and RIP
 * travel in the VMCB.  This file moves the other general-purpose
 * registers and uses VMSAVE/VMLOAD for the state VMRUN leaves alone (FS,
 * GS, TR, LDTR, KERNEL_GS_BASE, STAR/LSTAR/CSTAR/SFMASK, SYSENTER_*).
 * Called with GIF clear (CLGI), so no interrupt, NMI or #MC can see the
 * guest's GS base in the host.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include "entry_regs.h"
#include <asm/nospec-branch.h>

	.text

/*
 * void __svm_vcpu_run(unsigned long vmcb_pa, unsigned long *regs,
 *		       unsigned long host_save_pa)
 */
SYM_FUNC_START(__svm_vcpu_run)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx

	/* 16(%rsp): regs, 8(%rsp): host save area, 0(%rsp): VMCB */
	push	%rsi
	push	%rdx
	push	%rdi

	/* Host FS/GS/TR/LDTR and syscall MSRs, then the guest's. */
	mov	%rdx, %rax
	vmsave	%rax
	mov	%rdi, %rax
	vmload	%rax

	mov	VCPU_RCX(%rsi), %rcx
	mov	VCPU_RDX(%rsi), %rdx
	mov	VCPU_RBX(%rsi), %rbx
	mov	VCPU_RBP(%rsi), %rbp
	mov	VCPU_RDI(%rsi), %rdi
	mov	VCPU_R8(%rsi), %r8
	mov	VCPU_R9(%rsi), %r9
	mov	VCPU_R10(%rsi), %r10
	mov	VCPU_R11(%rsi), %r11
	mov	VCPU_R12(%rsi), %r12
	mov	VCPU_R13(%rsi), %r13
	mov	VCPU_R14(%rsi), %r14
	mov	VCPU_R15(%rsi), %r15
	mov	VCPU_RSI(%rsi), %rsi

	/* MDS and friends: clear CPU buffers the guest could sample. */
	VM_CLEAR_CPU_BUFFERS

	/* RAX = VMCB physical address; #VMEXIT gives it back. */
	vmrun	%rax
	vmsave	%rax

	mov	16(%rsp), %rax
	MVM_STORE_GUEST_GPRS_BUT_RAX %rax

	mov	8(%rsp), %rax
	vmload	%rax

	/*
	 * Before the first RET the guest could have steered: refill the
	 * return stack buffer on retpoline hosts, untrain RET predictions
	 * (Retbleed, SRSO), and IBPB where the host asks for it on every
	 * VM exit (VMSCAPE).  Interrupts are still off (GIF = 0).
	 */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RETPOLINE
	UNTRAIN_RET
	ALTERNATIVE "", "call entry_ibpb", X86_FEATURE_IBPB_ON_VMEXIT

	/* Leave no guest value in a register the host might speculate on. */
	xor	%ebx, %ebx
	MVM_CLEAR_GPRS_BUT_RBX

	add	$24, %rsp
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET
SYM_FUNC_END(__svm_vcpu_run)
