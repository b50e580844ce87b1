// SPDX-License-Identifier: GPL-2.0
/*
 * The 8254 PIT.  STUB: replaced by the PIT work.
 */
#include "x86.h"
#include "irq.h"

long mvm_pit_vm_ioctl(struct mvm *mvm, unsigned int ioctl, unsigned long arg)
{
	return -ENOTTY;
}

void mvm_pit_destroy(struct mvm *mvm)
{
}
