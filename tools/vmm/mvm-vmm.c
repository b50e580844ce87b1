// SPDX-License-Identifier: GPL-2.0
/*
 * mvm-vmm: a small, complete VMM on the KVM API.
 *
 * It creates a VM with one vCPU and one memory slot, loads a flat 64-bit
 * guest image at 0x100000, builds an identity map of the first 4 GiB with
 * 2 MiB pages (tools/lib/mvm/guest_setup.c), enters the guest directly in
 * long mode, and serves its exits:
 * bytes written to COM1 (port 0x3f8) go to stdout, a byte written to port
 * 0xf4 is the guest's exit status, HLT ends the run.
 *
 * usage: mvm-vmm [-d device] [-m MiB] guest.bin
 * The device defaults to $MVM_DEV, then /dev/mvm, then /dev/kvm.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kvm.h>
#include "guest_setup.h"

#define GUEST_LOAD_ADDR	0x100000UL
#define COM1_PORT	0x3f8
#define EXIT_PORT	0xf4

static void die(const char *what)
{
	perror(what);
	exit(125);
}

static int open_device(const char *dev)
{
	const char *candidates[] = { dev, getenv("MVM_DEV"), "/dev/mvm",
				     "/dev/kvm" };
	unsigned int i;

	for (i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		int fd;

		if (!candidates[i])
			continue;
		fd = open(candidates[i], O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			fprintf(stderr, "mvm-vmm: using %s\n", candidates[i]);
			return fd;
		}
		if (dev)	/* an explicit -d must work */
			die(candidates[i]);
	}
	fprintf(stderr, "mvm-vmm: no /dev/mvm or /dev/kvm (is mvm.ko loaded?)\n");
	exit(125);
}

static size_t load_image(const char *path, uint8_t *mem, size_t mem_size)
{
	size_t max = mem_size - GUEST_LOAD_ADDR, n;
	FILE *f = fopen(path, "rb");

	if (!f)
		die(path);
	n = fread(mem + GUEST_LOAD_ADDR, 1, max, f);
	if (ferror(f))
		die(path);
	if (!feof(f)) {
		fprintf(stderr, "mvm-vmm: %s does not fit in guest memory\n", path);
		exit(125);
	}
	fclose(f);
	return n;
}

/* Long mode on the shared tables (tools/lib/mvm), entry at the image. */
static void setup_long_mode(int vcpu_fd, uint8_t *mem)
{
	struct kvm_regs regs;

	if (mvm_guest_set_long_mode(vcpu_fd, mem) < 0)
		die("KVM_GET/SET_SREGS");

	memset(&regs, 0, sizeof(regs));
	regs.rip = GUEST_LOAD_ADDR;
	regs.rsp = GUEST_LOAD_ADDR;	/* the stack grows down below the image */
	regs.rflags = 0x2;
	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");
}

static void set_cpuid(int sys_fd, int vcpu_fd)
{
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[256];
	} cpuid = { .c.nent = 256 };

	if (ioctl(sys_fd, KVM_GET_SUPPORTED_CPUID, &cpuid) < 0)
		die("KVM_GET_SUPPORTED_CPUID");
	if (ioctl(vcpu_fd, KVM_SET_CPUID2, &cpuid) < 0)
		die("KVM_SET_CPUID2");
}

int main(int argc, char **argv)
{
	size_t mem_size = 64UL << 20;
	const char *dev = NULL;
	int sys_fd, vm_fd, vcpu_fd, opt, status = -1;
	struct kvm_userspace_memory_region region;
	struct kvm_run *run;
	uint8_t *mem;
	long mmap_size;

	while ((opt = getopt(argc, argv, "d:m:")) != -1) {
		switch (opt) {
		case 'd':
			dev = optarg;
			break;
		case 'm':
			mem_size = strtoul(optarg, NULL, 0) << 20;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1 || mem_size < (4UL << 20) || mem_size > (1UL << 30))
		goto usage;

	sys_fd = open_device(dev);
	if (ioctl(sys_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		fprintf(stderr, "mvm-vmm: unexpected KVM API version\n");
		return 125;
	}
	vm_fd = ioctl(sys_fd, KVM_CREATE_VM, 0);
	if (vm_fd < 0)
		die("KVM_CREATE_VM");

	/* Guest memory is ordinary anonymous memory of this process. */
	mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap guest memory");
	load_image(argv[optind], mem, mem_size);

	region = (struct kvm_userspace_memory_region) {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = mem_size,
		.userspace_addr = (uintptr_t)mem,
	};
	if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("KVM_SET_USER_MEMORY_REGION");

	vcpu_fd = ioctl(vm_fd, KVM_CREATE_VCPU, 0);
	if (vcpu_fd < 0)
		die("KVM_CREATE_VCPU");
	mmap_size = ioctl(sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size < (long)sizeof(*run))
		die("KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   vcpu_fd, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");

	set_cpuid(sys_fd, vcpu_fd);
	setup_long_mode(vcpu_fd, mem);

	for (;;) {
		uint8_t *data;

		if (ioctl(vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			die("KVM_RUN");
		}
		data = (uint8_t *)run + run->io.data_offset;

		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			if (run->io.direction == KVM_EXIT_IO_OUT &&
			    run->io.port == COM1_PORT) {
				fwrite(data, run->io.size, run->io.count, stdout);
				fflush(stdout);
			} else if (run->io.direction == KVM_EXIT_IO_OUT &&
				   run->io.port == EXIT_PORT) {
				status = data[0];
			} else if (run->io.direction == KVM_EXIT_IO_IN) {
				/* No device here: reads float high. */
				memset(data, 0xff, run->io.size * run->io.count);
			}
			break;
		case KVM_EXIT_HLT:
			fprintf(stderr, "mvm-vmm: guest halted, status %d\n",
				status);
			return status < 0 ? 125 : status;
		case KVM_EXIT_SHUTDOWN:
			fprintf(stderr, "mvm-vmm: guest triple fault\n");
			return 125;
		case KVM_EXIT_INTERNAL_ERROR:
			fprintf(stderr, "mvm-vmm: internal error, suberror %u\n",
				run->internal.suberror);
			return 125;
		case KVM_EXIT_FAIL_ENTRY:
			fprintf(stderr, "mvm-vmm: entry failed, reason 0x%llx\n",
				(unsigned long long)
				run->fail_entry.hardware_entry_failure_reason);
			return 125;
		default:
			fprintf(stderr, "mvm-vmm: unhandled exit %u\n",
				run->exit_reason);
			return 125;
		}
	}

usage:
	fprintf(stderr, "usage: %s [-d device] [-m MiB] guest.bin\n", argv[0]);
	return 2;
}
