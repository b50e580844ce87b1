// SPDX-License-Identifier: GPL-2.0
/*
 * The two cascaded 8259A PICs.  STUB: replaced by the irqchip work.
 */
#include "x86.h"
#include "irq.h"

int mvm_pic_create(struct mvm *mvm)
{
	return -ENOSYS;
}

void mvm_pic_destroy(struct mvm *mvm)
{
}

int mvm_pic_set_irq(struct mvm *mvm, int pin, int irq_source_id, int level)
{
	return -1;
}

bool mvm_pic_has_output(struct mvm *mvm)
{
	return false;
}

int mvm_pic_read_irq(struct mvm *mvm)
{
	return -1;
}
