// SPDX-License-Identifier: GPL-2.0
/* Placeholder: the svm backend is being written. */
#include "x86.h"

int svm_probe(const char **why)
{
	*why = "svm backend not implemented yet";
	return -ENODEV;
}

struct mvm_x86_ops svm_x86_ops = {
	.name = "svm",
};
