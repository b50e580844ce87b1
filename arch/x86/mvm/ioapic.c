// SPDX-License-Identifier: GPL-2.0
/*
 * The I/O APIC.  STUB: replaced by the irqchip work.
 */
#include "x86.h"
#include "irq.h"

int mvm_ioapic_create(struct mvm *mvm)
{
	return -ENOSYS;
}

void mvm_ioapic_destroy(struct mvm *mvm)
{
}

int mvm_ioapic_set_irq(struct mvm *mvm, int pin, int irq_source_id,
		       int level, bool line_status)
{
	return -1;
}

void mvm_ioapic_eoi(struct mvm_vcpu *vcpu, int vector)
{
}
