/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest set-up shared by the selftests, the example VMM and the benchmark:
 * a flat GDT and a 4-level identity map of the first 4 GiB with 2 MiB
 * pages, written into guest memory at fixed low addresses, and the vCPU
 * state that enters 64-bit mode directly.  Guest memory must start at
 * GPA 0 and hold at least MVM_GUEST_TABLES_END bytes; code goes above.
 */
#ifndef MVM_GUEST_SETUP_H
#define MVM_GUEST_SETUP_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

#define MVM_GUEST_IDT		0x0UL	/* left to the guest: limit 0 */
#define MVM_GUEST_GDT		0x800UL
#define MVM_GUEST_PML4		0x1000UL /* then the PDPT and 4 PDs */
#define MVM_GUEST_TABLES_END	0x7000UL

/* GDT selectors. */
#define MVM_GUEST_CS64		0x08
#define MVM_GUEST_DS		0x10
#define MVM_GUEST_CS32		0x18

/* The GDT: null, 64-bit code, data, 32-bit code. */
void mvm_guest_write_gdt(uint8_t *mem);
/* The GDT and the identity map of 4 GiB at MVM_GUEST_PML4. */
void mvm_guest_write_tables(uint8_t *mem);
/* GDTR at the GDT, an empty IDTR, flat 4 GiB segments: CS 64-bit if
 * @code64, else 32-bit (selector MVM_GUEST_CS64 either way). */
void mvm_guest_flat_sregs(struct kvm_sregs *sregs, bool code64);
/*
 * Write the tables and put the vCPU in 64-bit mode with paging (CR0.PG,
 * CR4.PAE, EFER.LME/LMA) on them.  The registers are the caller's.
 * Returns 0, or -1 with errno set by the failing ioctl.
 */
int mvm_guest_set_long_mode(int vcpu_fd, uint8_t *mem);

#endif
