// SPDX-License-Identifier: GPL-2.0
/*
 * holdfd DEV vm|vcpu: create a VM (and a vCPU) on DEV, close every other
 * fd of that hypervisor so only the VM fd (or only the vCPU fd) is left,
 * print "ready" and keep it open until stdin reaches its end or the
 * process is killed.  busy.sh uses it to check that the module stays while
 * such an fd lives.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

int main(int argc, char **argv)
{
	int dev, vm, vcpu;
	char c;

	if (argc != 3 || (strcmp(argv[2], "vm") && strcmp(argv[2], "vcpu"))) {
		fprintf(stderr, "usage: holdfd DEV vm|vcpu\n");
		return 2;
	}
	dev = open(argv[1], O_RDWR);
	if (dev < 0) {
		perror(argv[1]);
		return 1;
	}
	vm = ioctl(dev, KVM_CREATE_VM, 0);
	if (vm < 0) {
		perror("KVM_CREATE_VM");
		return 1;
	}
	close(dev);
	if (!strcmp(argv[2], "vcpu")) {
		vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
		if (vcpu < 0) {
			perror("KVM_CREATE_VCPU");
			return 1;
		}
		close(vm);
	}
	printf("ready\n");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
