// SPDX-License-Identifier: GPL-2.0
/*
 * coexist A B [EIO]: while a VM of hypervisor A lives, B's KVM_CREATE_VM
 * fails with EBUSY (EIO: KVM of Linux 6.12, whose failure to turn
 * virtualization on is -EIO); once it is gone, B creates one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

int main(int argc, char **argv)
{
	int a, b, vm_a, vm_b, refusal;

	/* coexist -busy DEV: DEV's KVM_CREATE_VM fails with EBUSY. */
	if (argc == 3 && !strcmp(argv[1], "-busy")) {
		a = open(argv[2], O_RDWR);
		if (a < 0) {
			perror("open");
			return 1;
		}
		vm_a = ioctl(a, KVM_CREATE_VM, 0);
		if (vm_a >= 0 || errno != EBUSY) {
			printf("not ok: %s created a VM, or failed otherwise (%d, %s)\n",
			       argv[2], vm_a, strerror(errno));
			return 1;
		}
		printf("ok: %s refused with EBUSY\n", argv[2]);
		return 0;
	}
	if (argc != 3 && argc != 4)
		return 2;
	refusal = argc == 4 && !strcmp(argv[3], "EIO") ? EIO : EBUSY;
	a = open(argv[1], O_RDWR);
	b = open(argv[2], O_RDWR);
	if (a < 0 || b < 0) {
		perror("open");
		return 1;
	}
	vm_a = ioctl(a, KVM_CREATE_VM, 0);
	if (vm_a < 0) {
		perror("KVM_CREATE_VM on A");
		return 1;
	}
	vm_b = ioctl(b, KVM_CREATE_VM, 0);
	if (vm_b >= 0 || errno != refusal) {
		printf("not ok: %s VM created while %s has one (%d, %s)\n",
		       argv[2], argv[1], vm_b, strerror(errno));
		return 1;
	}
	printf("ok: %s refused with %s while %s has a VM\n", argv[2],
	       strerror(refusal), argv[1]);
	close(vm_a);
	vm_b = ioctl(b, KVM_CREATE_VM, 0);
	if (vm_b < 0) {
		printf("not ok: %s cannot create a VM after %s's is gone: %s\n",
		       argv[2], argv[1], strerror(errno));
		return 1;
	}
	printf("ok: %s creates a VM once %s has none\n", argv[2], argv[1]);
	close(vm_b);
	return 0;
}
