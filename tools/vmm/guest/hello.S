/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The example guest: 64-bit code loaded at 0x100000 by mvm-vmm, entered in
 * long mode with an identity map of the first GiB.  It prints a greeting
 * on COM1 (port 0x3f8), asks the VMM for CPUID to show an in-kernel exit,
 * and reports its exit status on port 0xf4 (QEMU's isa-debug-exit port).
 */
	.code64
	.text
	.globl	_start
_start:
	lea	greeting(%rip), %rsi
	call	puts

	/* CPUID is answered by the hypervisor without leaving the kernel. */
	xor	%eax, %eax
	cpuid
	mov	%ebx, vendor(%rip)
	mov	%edx, vendor+4(%rip)
	mov	%ecx, vendor+8(%rip)
	lea	vendor_msg(%rip), %rsi
	call	puts
	lea	vendor(%rip), %rsi
	call	puts
	lea	newline(%rip), %rsi
	call	puts

	mov	$0xf4, %dx
	mov	$0, %al			/* exit status */
	out	%al, %dx
	hlt

/* Write the NUL-terminated string at %rsi to COM1. */
puts:
	mov	$0x3f8, %dx
1:	lodsb
	test	%al, %al
	jz	2f
	out	%al, %dx
	jmp	1b
2:	ret

	.data
greeting:	.asciz	"Hello from a guest running on mvm!\n"
vendor_msg:	.asciz	"CPUID vendor seen by the guest: "
newline:	.asciz	"\n"
vendor:		.fill	13, 1, 0
