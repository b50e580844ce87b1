/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMLAUNCH/VMRESUME and back (SDM vol. 3, 26 "VM Entries", 27.5 "Loading
 * Host State").  The VMCS holds the guest's RSP, RIP and RFLAGS; this file
 * moves the other general-purpose registers.  A VM exit lands on
 * vmx_vmexit (HOST_RIP) with RSP = HOST_RSP, written here before entry.
 */
#include <linux/linkage.h>
#include <linux/objtool.h>
#include <asm/asm.h>
#include "entry_regs.h"
#include <asm/unwind_hints.h>
#include <asm/segment.h>
#include <asm/nospec-branch.h>
#include <asm/msr-index.h>
#include <asm/percpu.h>

#define HOST_RSP_FIELD	0x6c14

	.text

/*
 * int __vmx_vcpu_run(unsigned long *regs, bool launched)
 * Returns 0 after a VM exit, 1 if VMLAUNCH/VMRESUME failed (VMfail).
 */
SYM_FUNC_START(__vmx_vcpu_run)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
	push	%rdi			/* regs, found again at 0(%rsp) on exit */

	mov	$HOST_RSP_FIELD, %rdx
	vmwrite	%rsp, %rdx

	/* CF: launched.  The MOVs below leave it alone, VERW only ZF. */
	bt	$0, %esi

	mov	VCPU_RAX(%rdi), %rax
	mov	VCPU_RCX(%rdi), %rcx
	mov	VCPU_RDX(%rdi), %rdx
	mov	VCPU_RBX(%rdi), %rbx
	mov	VCPU_RBP(%rdi), %rbp
	mov	VCPU_RSI(%rdi), %rsi
	mov	VCPU_R8(%rdi), %r8
	mov	VCPU_R9(%rdi), %r9
	mov	VCPU_R10(%rdi), %r10
	mov	VCPU_R11(%rdi), %r11
	mov	VCPU_R12(%rdi), %r12
	mov	VCPU_R13(%rdi), %r13
	mov	VCPU_R14(%rdi), %r14
	mov	VCPU_R15(%rdi), %r15
	mov	VCPU_RDI(%rdi), %rdi

	/* MDS and friends: clear CPU buffers the guest could sample. */
	CLEAR_CPU_BUFFERS

	jnc	.Lvmlaunch
	UNWIND_HINT_SAVE
	vmresume
	jmp	.Lvmfail
.Lvmlaunch:
	vmlaunch
	jmp	.Lvmfail

/*
 * Reached by VM exit through HOST_RIP, never by an indirect branch, so no
 * ENDBR: tell objtool the address is taken on purpose (kernels with
 * CONFIG_X86_KERNEL_IBT, e.g. Debian's 6.12, check every taken address).
 */
SYM_INNER_LABEL(vmx_vmexit, SYM_L_GLOBAL)
	ANNOTATE_NOENDBR
	UNWIND_HINT_RESTORE
	push	%rax
	mov	8(%rsp), %rax
	MVM_STORE_GUEST_GPRS_BUT_RAX %rax
	popq	VCPU_RAX(%rax)
	xor	%ebx, %ebx		/* return value: 0, VM exit */

.Lclear_regs:
	/* Leave no guest value in a register the host might speculate on. */
	MVM_CLEAR_GPRS_BUT_RBX

	/*
	 * Before the first RET the guest could have steered: refill the
	 * return stack buffer (retpoline/IBRS hosts; one call with eIBRS).
	 */
	FILL_RETURN_BUFFER %rcx, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT, \
			   X86_FEATURE_RSB_VMEXIT_LITE

	/*
	 * Legacy IBRS protects the host only from predictions made before
	 * the last write of SPEC_CTRL: write it again after the guest ran.
	 * The guest never gets SPEC_CTRL, so the host's value is the one.
	 */
	ALTERNATIVE "jmp .Lspec_ctrl_done", "", X86_FEATURE_KERNEL_IBRS
	mov	$MSR_IA32_SPEC_CTRL, %ecx
	mov	PER_CPU_VAR(x86_spec_ctrl_current), %eax
	mov	PER_CPU_VAR(x86_spec_ctrl_current + 4), %edx
	wrmsr
	lfence
.Lspec_ctrl_done:

	/* Branch history injection (BHI): clear what the guest left. */
	CLEAR_BRANCH_HISTORY_VMEXIT

	mov	%ebx, %eax
	pop	%rdi
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET

.Lvmfail:
	mov	$1, %ebx
	jmp	.Lclear_regs
SYM_FUNC_END(__vmx_vcpu_run)

/*
 * void vmx_do_interrupt_irqoff(unsigned long entry)
 *
 * An external interrupt acknowledged on VM exit (SDM 24.7.1) is handed to
 * the host's IDT entry @entry as if the CPU had delivered it: an
 * interrupt frame on an aligned stack, then a call that the handler's
 * IRET returns from (SDM vol. 3A 6.14.2).
 */
SYM_FUNC_START(vmx_do_interrupt_irqoff)
	push	%rbp
	mov	%rsp, %rbp
	and	$-16, %rsp
	push	$__KERNEL_DS
	push	%rbp
	pushf
	push	$__KERNEL_CS
	CALL_NOSPEC rdi
	leave
	RET
SYM_FUNC_END(vmx_do_interrupt_irqoff)
