/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mvm-vmm: what its three files share.
 *   mvm-vmm.c  the VM, its vCPU threads, their exits, the small devices
 *   linux.c    the Linux x86 boot protocol and the MP table
 *   uart.c     the 16550 UART on COM1: the guest's console
 */
#ifndef MVM_VMM_H
#define MVM_VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

/*
 * Guest physical memory: RAM from 0 up to the PCI hole at 3 GiB, the rest
 * of it from 4 GiB up, as on a PC.  The 1 GiB below 4 GiB holds, on real
 * machines, devices: here only the in-kernel IOAPIC (0xfec00000) and local
 * APICs (0xfee00000) live there.
 */
#define GUEST_HOLE_START	0xc0000000ULL
#define GUEST_HIGH_START	0x100000000ULL

struct vm {
	int sys_fd;		/* /dev/kvm or /dev/mvm */
	int vm_fd;
	uint8_t *mem;		/* all guest RAM, one host mapping */
	uint64_t ram_size;	/* bytes of RAM */
	uint64_t low_ram_end;	/* RAM [0, low_ram_end) ... */
	uint64_t high_ram_size;	/* ... and [4 GiB, 4 GiB + high_ram_size) */
	int nr_vcpus;
	bool verbose;		/* -v: log unhandled ports and MMIO */
};

/* The host address of guest physical @gpa, or NULL outside RAM. */
void *gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len);

/* End the run: restore the terminal, print why, exit with @status. */
void vmm_exit(int status, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

/* linux.c */
/* Is @image (@size bytes) a bzImage (boot.rst: "HdrS" at 0x202)? */
bool is_bzimage(const uint8_t *image, size_t size);
/*
 * Load the bzImage @image, the initramfs @initrd (may be NULL) and the
 * command line @cmdline into guest memory; write boot_params, the e820
 * map and the MP table for vm->nr_vcpus CPUs.  Exits on error.
 */
void linux_load(struct vm *vm, const uint8_t *image, size_t image_size,
		const uint8_t *initrd, size_t initrd_size, const char *cmdline);
/* Put the boot vCPU at the kernel's 64-bit entry point (linux_load first). */
void linux_setup_boot_cpu(struct vm *vm, int vcpu_fd);

/* uart.c: the 8 ports of COM1 from 0x3f8, its interrupt on IRQ 4. */
#define COM1_BASE	0x3f8
#define COM1_IRQ	4
/* Start feeding stdin to the guest; @terminal: stdin is one, in raw mode. */
void uart_init(struct vm *vm, bool terminal);
void uart_out(uint16_t offset, uint8_t value);
uint8_t uart_in(uint16_t offset);

#endif
