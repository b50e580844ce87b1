/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMLAUNCH/VMRESUME and back (SDM vol. 3, 26 "VM Entries", 27.5 "Loading
 * Host State").  The VMCS holds the guest's RSP, RIP and RFLAGS; this file
 * moves the other general-purpose registers.  A VM exit lands on
 * vmx_vmexit (HOST_RIP) with RSP = HOST_RSP, written here before entry.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/kvm_vcpu_regs.h>
#include <asm/unwind_hints.h>
#include <asm/segment.h>
#include <asm/nospec-branch.h>
#include <asm/msr-index.h>
#include <asm/percpu.h>

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

SYM_INNER_LABEL(vmx_vmexit, SYM_L_GLOBAL)
	UNWIND_HINT_RESTORE
	push	%rax
	mov	8(%rsp), %rax
	mov	%rcx, VCPU_RCX(%rax)
	mov	%rdx, VCPU_RDX(%rax)
	mov	%rbx, VCPU_RBX(%rax)
	mov	%rbp, VCPU_RBP(%rax)
	mov	%rsi, VCPU_RSI(%rax)
	mov	%rdi, VCPU_RDI(%rax)
	mov	%r8, VCPU_R8(%rax)
	mov	%r9, VCPU_R9(%rax)
	mov	%r10, VCPU_R10(%rax)
	mov	%r11, VCPU_R11(%rax)
	mov	%r12, VCPU_R12(%rax)
	mov	%r13, VCPU_R13(%rax)
	mov	%r14, VCPU_R14(%rax)
	mov	%r15, VCPU_R15(%rax)
	popq	VCPU_RAX(%rax)
	xor	%ebx, %ebx		/* return value: 0, VM exit */

.Lclear_regs:
	/*
	 * Leave no guest value in a register the host might speculate on,
	 * not even in those reloaded from the stack below.
	 */
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
