// SPDX-License-Identifier: GPL-2.0
/* Placeholder: the vmx backend is being written. */
#include "x86.h"

int vmx_probe(const char **why)
{
	*why = "vmx backend not implemented yet";
	return -ENODEV;
}

struct mvm_x86_ops vmx_x86_ops = {
	.name = "vmx",
};
