/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Between irq_routing.c and the VM-wide controllers it creates (pic.c,
 * ioapic.c): the KVM_GET_IRQCHIP / KVM_SET_IRQCHIP state.  Everything
 * else they share is in irq.h.
 */
#ifndef __ARCH_X86_MVM_IRQCHIP_H
#define __ARCH_X86_MVM_IRQCHIP_H

#include <asm/apicdef.h>
#include "irq.h"

/* ICR bits 19:18 = 00: no shorthand (not in <asm/apicdef.h>). */
#ifndef APIC_DEST_NOSHORT
#define APIC_DEST_NOSHORT	0x0
#endif

/* KVM_IRQCHIP_PIC_MASTER, _PIC_SLAVE, _IOAPIC: the irqchip of a route. */
#define MVM_NR_IRQCHIPS		3

/* @chip: 0 master, 1 slave (KVM_IRQCHIP_PIC_*). */
void mvm_pic_get_state(struct mvm *mvm, int chip, struct kvm_pic_state *state);
void mvm_pic_set_state(struct mvm *mvm, int chip,
		       const struct kvm_pic_state *state);
/* Re-evaluate INTR after a state change (KVM_SET_IRQCHIP). */
void mvm_pic_update(struct mvm *mvm);

void mvm_ioapic_get_state(struct mvm *mvm, struct kvm_ioapic_state *state);
void mvm_ioapic_set_state(struct mvm *mvm,
			  const struct kvm_ioapic_state *state);

/* KVM's __kvm_irq_line_state(): a pin is high if any source drives it. */
static inline int mvm_irq_line_state(unsigned long *sources, int source_id,
				     int level)
{
	if (level)
		__set_bit(source_id, sources);
	else
		__clear_bit(source_id, sources);
	return !!*sources;
}

#endif /* __ARCH_X86_MVM_IRQCHIP_H */
