// SPDX-License-Identifier: GPL-2.0
/*
 * Booting Linux: the x86 boot protocol (the kernel's
 * Documentation/x86/boot.rst) in its 64-bit form, and the two ways a PC
 * firmware tells the kernel its CPUs and interrupt wiring: the MP table
 * (for kernels built with CONFIG_X86_MPPARSE) and ACPI's MADT (for all the
 * others, Debian's cloud kernel among them).
 *
 * A bootloader's job, cut to what a VMM needs:
 *  1. read the setup header that the bzImage carries at offset 0x1f1;
 *  2. copy the protected-mode kernel (the bzImage minus its real-mode
 *     setup code) to 1 MiB, the initramfs high in low memory, the command
 *     line somewhere below 640 KiB;
 *  3. fill in "boot_params" (the "zero page"): the setup header, where the
 *     initramfs and command line are, and the e820 memory map that a BIOS
 *     would have reported; write the tables a BIOS would have left (MP,
 *     ACPI);
 *  4. enter the kernel's 64-bit entry point in long mode, on page tables
 *     that identity-map what it touches, with RSI pointing at boot_params.
 * The kernel then decompresses itself and never looks back: everything
 * below is data it reads once.
 *
 * Guest physical layout (all below 1 MiB is ordinary RAM to the guest,
 * except the last KiB of base memory and the BIOS area, reserved in e820):
 *	0x00400	BIOS data area: where the EBDA is (the kernel reads it)
 *	0x00500	GDT for the boot (selectors 0x10 and 0x18, boot.rst)
 *	0x00800	unused GDT, 0x1000-0x6fff page tables (tools/lib/mvm)
 *	0x07000	boot_params ("zero page")
 *	0x08ff0	initial stack (the kernel sets its own almost at once)
 *	0x20000	kernel command line
 *	0x9fc00	MP floating pointer and MP configuration table ("EBDA")
 *	0xe0000	ACPI: RSDP, RSDT, MADT (in the BIOS area, as on a PC)
 *	0x100000	the protected-mode kernel
 *	...	the initramfs, as high as the kernel allows below 3 GiB
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <asm/bootparam.h>
#include <asm/e820.h>
#include "guest_setup.h"
#include "vmm.h"

#define BDA_EBDA_SEGMENT	0x40e	/* u16: EBDA segment */
#define BDA_BASE_MEM_KB		0x413	/* u16: KiB of base memory */
#define BOOT_GDT		0x500
#define BOOT_PARAMS		0x7000
#define BOOT_STACK		0x8ff0
#define BOOT_CMDLINE		0x20000
#define BOOT_CMDLINE_MAX	0x10000
#define EBDA_START		0x9fc00	/* 639 KiB: the last KiB of base RAM */
#define BIOS_START		0xe0000	/* the BIOS ROM area, up to 1 MiB */
#define ACPI_START		0xe0000
#define KERNEL_START		0x100000

/* boot.rst, "64-bit boot protocol": these selectors, 4 GiB flat. */
#define BOOT_CS			0x10
#define BOOT_DS			0x18

#define CR0_PE			(1ULL << 0)
#define CR0_MP			(1ULL << 1)
#define CR0_ET			(1ULL << 4)
#define CR0_NE			(1ULL << 5)
#define CR0_PG			(1ULL << 31)
#define CR4_PAE			(1ULL << 5)
#define EFER_LME		(1ULL << 8)
#define EFER_LMA		(1ULL << 10)

static void fail(const char *fmt, const char *what)
{
	fprintf(stderr, "mvm-vmm: ");
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\n");
	exit(125);
}

bool is_bzimage(const uint8_t *image, size_t size)
{
	const struct setup_header *hdr = (const void *)(image + 0x1f1);

	return size > 0x1000 && hdr->boot_flag == 0xaa55 &&
	       !memcmp(&hdr->header, "HdrS", 4);
}

/* e820: the memory map a PC BIOS reports through INT 15h, AX=E820h. */
static void add_e820(struct boot_params *bp, uint64_t addr, uint64_t size,
		     uint32_t type)
{
	struct boot_e820_entry *e = &bp->e820_table[bp->e820_entries++];

	e->addr = addr;
	e->size = size;
	e->type = type;
}

static void write_e820(struct vm *vm, struct boot_params *bp)
{
	/* Base memory, up to the EBDA that holds our MP table. */
	add_e820(bp, 0, EBDA_START, E820_RAM);
	add_e820(bp, EBDA_START, 0xa0000 - EBDA_START, E820_RESERVED);
	/* 0xa0000-0xdffff: VGA and option ROMs on a PC; a hole here. */
	add_e820(bp, BIOS_START, KERNEL_START - BIOS_START, E820_RESERVED);
	/* Extended memory: from 1 MiB to the PCI hole, then above 4 GiB. */
	add_e820(bp, KERNEL_START, vm->low_ram_end - KERNEL_START, E820_RAM);
	if (vm->high_ram_size)
		add_e820(bp, GUEST_HIGH_START, vm->high_ram_size, E820_RAM);
}

/*
 * The MP table (Intel MultiProcessor Specification 1.4, chapter 4): how a
 * kernel without ACPI learns its CPUs (their local APIC ids), the I/O
 * APIC, and which I/O APIC pin each ISA interrupt arrives on.  The kernel
 * looks for the 16-byte floating pointer "_MP_" in the first KiB of the
 * EBDA, the last KiB of base memory, or the BIOS ROM 0xf0000-0xfffff.
 */
struct mp_floating_pointer {
	char signature[4];	/* "_MP_" */
	uint32_t config_table;	/* physical address of the "PCMP" table */
	uint8_t length;		/* in 16-byte units: 1 */
	uint8_t spec_rev;	/* 4: version 1.4 */
	uint8_t checksum;	/* all 16 bytes sum to 0 */
	uint8_t features[5];	/* 0: there is a configuration table; no IMCR */
} __attribute__((packed));

struct mp_config_table {
	char signature[4];	/* "PCMP" */
	uint16_t length;	/* of the header and all entries */
	uint8_t spec_rev;
	uint8_t checksum;	/* the whole table sums to 0 */
	char oem_id[8];
	char product_id[12];
	uint32_t oem_table;
	uint16_t oem_table_size;
	uint16_t entry_count;
	uint32_t lapic_address;
	uint16_t ext_table_length;
	uint8_t ext_table_checksum;
	uint8_t reserved;
} __attribute__((packed));

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_IO_INTERRUPT, MP_LOCAL_INTERRUPT };

struct mp_processor {
	uint8_t type;		/* MP_PROCESSOR */
	uint8_t lapic_id;
	uint8_t lapic_version;
	uint8_t flags;		/* bit 0: enabled, bit 1: the boot CPU */
	uint32_t signature;	/* CPUID.1:EAX */
	uint32_t features;	/* CPUID.1:EDX */
	uint32_t reserved[2];
} __attribute__((packed));

struct mp_bus {
	uint8_t type;		/* MP_BUS */
	uint8_t bus_id;
	char bus_type[6];	/* "ISA   " */
} __attribute__((packed));

struct mp_ioapic {
	uint8_t type;		/* MP_IOAPIC */
	uint8_t ioapic_id;
	uint8_t version;
	uint8_t flags;		/* bit 0: enabled */
	uint32_t address;
} __attribute__((packed));

/* An I/O interrupt (to an I/O APIC pin) or a local one (to LINT0/1). */
struct mp_interrupt {
	uint8_t type;		/* MP_IO_INTERRUPT or MP_LOCAL_INTERRUPT */
	uint8_t irq_type;	/* INT, NMI, SMI, ExtINT */
	uint16_t flags;		/* 0: polarity and trigger as the bus says */
	uint8_t source_bus;
	uint8_t source_irq;
	uint8_t dest_apic;	/* 0xff: every local APIC */
	uint8_t dest_pin;	/* I/O APIC pin, or LINTn */
} __attribute__((packed));

enum { MP_INT, MP_NMI, MP_SMI, MP_EXTINT };

#define MP_BUS_ISA		0
#define LAPIC_ADDRESS		0xfee00000
#define LAPIC_VERSION		0x14	/* what the in-kernel LAPIC reports */
#define IOAPIC_ADDRESS		0xfec00000
#define IOAPIC_VERSION		0x11
#define ISA_IRQS		16
#define MAX_MP_CPUS		32	/* so that the table fits in its KiB */

static uint8_t checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return -sum;
}

static void write_mp_table(struct vm *vm)
{
	struct mp_floating_pointer *mpf = gpa_to_hva(vm, EBDA_START, 1024);
	struct mp_config_table *mpc = (void *)(mpf + 1);
	uint8_t *next = (uint8_t *)(mpc + 1);
	uint8_t ioapic_id = vm->nr_vcpus;	/* after the CPUs' APIC ids */
	struct mp_interrupt *irq;
	struct mp_ioapic *ioapic;
	struct mp_bus *bus;
	int i;

	/* The BIOS data area points the kernel at the EBDA. */
	*(uint16_t *)gpa_to_hva(vm, BDA_EBDA_SEGMENT, 2) = EBDA_START >> 4;
	*(uint16_t *)gpa_to_hva(vm, BDA_BASE_MEM_KB, 2) = EBDA_START >> 10;

	/* One processor entry per vCPU: its APIC id is its vCPU id. */
	for (i = 0; i < vm->nr_vcpus; i++) {
		struct mp_processor *cpu = (void *)next;

		cpu->type = MP_PROCESSOR;
		cpu->lapic_id = i;
		cpu->lapic_version = LAPIC_VERSION;
		cpu->flags = 1 | (i == 0 ? 2 : 0);	/* vCPU 0 boots */
		/* Linux reads only the id and flags; these are plausible. */
		cpu->signature = 0x600;			/* family 6 */
		cpu->features = 0x201;			/* FPU, APIC */
		next += sizeof(*cpu);
	}

	bus = (void *)next;
	bus->type = MP_BUS;
	bus->bus_id = MP_BUS_ISA;
	memcpy(bus->bus_type, "ISA   ", 6);
	next += sizeof(*bus);

	ioapic = (void *)next;
	ioapic->type = MP_IOAPIC;
	ioapic->ioapic_id = ioapic_id;
	ioapic->version = IOAPIC_VERSION;
	ioapic->flags = 1;
	ioapic->address = IOAPIC_ADDRESS;
	next += sizeof(*ioapic);

	/*
	 * ISA IRQ n arrives on I/O APIC pin n, for every n: that is how KVM
	 * wires them by default (GSI n drives PIC input n and I/O APIC pin
	 * n, and the in-kernel PIT raises GSI 0).  Real PCs and QEMU put
	 * the timer (IRQ 0) on pin 2 instead; QEMU installs its own GSI
	 * routing (KVM_SET_GSI_ROUTING) to match.  Without that, the table
	 * must say pin 0, or the kernel waits on a pin no timer drives.
	 */
	for (i = 0; i < ISA_IRQS; i++) {
		irq = (void *)next;
		irq->type = MP_IO_INTERRUPT;
		irq->irq_type = MP_INT;
		irq->source_bus = MP_BUS_ISA;
		irq->source_irq = i;
		irq->dest_apic = ioapic_id;
		irq->dest_pin = i;
		next += sizeof(*irq);
	}

	/*
	 * Every local APIC: the 8259 PIC's output on LINT0 (ExtINT, the
	 * "virtual wire" the kernel uses before it switches to the I/O APIC)
	 * and NMI on LINT1, as on a PC.
	 */
	for (i = 0; i < 2; i++) {
		irq = (void *)next;
		irq->type = MP_LOCAL_INTERRUPT;
		irq->irq_type = i == 0 ? MP_EXTINT : MP_NMI;
		irq->source_bus = MP_BUS_ISA;
		irq->source_irq = 0;
		irq->dest_apic = 0xff;
		irq->dest_pin = i;
		next += sizeof(*irq);
	}

	memcpy(mpc->signature, "PCMP", 4);
	mpc->length = next - (uint8_t *)mpc;
	mpc->spec_rev = 4;
	memcpy(mpc->oem_id, "MVM     ", 8);
	memcpy(mpc->product_id, "MVM-VMM     ", 12);
	mpc->entry_count = vm->nr_vcpus + 1 + 1 + ISA_IRQS + 2;
	mpc->lapic_address = LAPIC_ADDRESS;
	mpc->checksum = checksum(mpc, mpc->length);

	memcpy(mpf->signature, "_MP_", 4);
	mpf->config_table = EBDA_START + sizeof(*mpf);
	mpf->length = 1;
	mpf->spec_rev = 4;
	mpf->checksum = checksum(mpf, sizeof(*mpf));
}

/*
 * ACPI (specification 6.x, chapter 5): the firmware leaves a Root System
 * Description Pointer ("RSD PTR ") where the OS finds it (the EBDA or
 * 0xe0000-0xfffff; boot_params.acpi_rsdp_addr says it directly), which
 * points to a Root System Description Table listing the other tables.
 * Only one is needed here, the MADT ("APIC"): CPUs, I/O APIC, and how ISA
 * interrupts reach it.  There is no FADT and no DSDT (no AML, no power
 * button, no ACPI power-off): the kernel says it cannot load the ACPI
 * namespace and goes on with what the MADT told it, the PC's legacy
 * devices (PIC, PIT, RTC) included.
 */
struct acpi_rsdp {
	char signature[8];	/* "RSD PTR " */
	uint8_t checksum;	/* of these 20 bytes (ACPI 1.0 layout) */
	char oem_id[6];
	uint8_t revision;	/* 0: ACPI 1.0, an RSDT and no XSDT */
	uint32_t rsdt_address;
} __attribute__((packed));

struct acpi_header {		/* every table starts with it */
	char signature[4];
	uint32_t length;	/* of the whole table */
	uint8_t revision;
	uint8_t checksum;	/* the whole table sums to 0 */
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

struct acpi_madt {
	struct acpi_header header;	/* "APIC" */
	uint32_t lapic_address;
	uint32_t flags;			/* bit 0: there are 8259 PICs too */
} __attribute__((packed));

enum {
	MADT_LAPIC, MADT_IOAPIC, MADT_INTERRUPT_OVERRIDE, MADT_NMI_SOURCE,
	MADT_LAPIC_NMI,
};

struct madt_lapic {
	uint8_t type, length;
	uint8_t processor_uid;
	uint8_t apic_id;
	uint32_t flags;		/* bit 0: enabled */
} __attribute__((packed));

struct madt_ioapic {
	uint8_t type, length;
	uint8_t ioapic_id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;	/* its pin 0 is this global interrupt */
} __attribute__((packed));

struct madt_interrupt_override {
	uint8_t type, length;
	uint8_t bus;		/* 0: ISA */
	uint8_t source_irq;
	uint32_t gsi;
	uint16_t flags;		/* polarity (bits 1:0), trigger (3:2) */
} __attribute__((packed));

struct madt_lapic_nmi {
	uint8_t type, length;
	uint8_t processor_uid;	/* 0xff: all */
	uint16_t flags;
	uint8_t lint;
} __attribute__((packed));

static void acpi_fill_header(struct acpi_header *h, const char *signature,
			     uint32_t length, uint8_t revision)
{
	memcpy(h->signature, signature, 4);
	h->length = length;
	h->revision = revision;
	memcpy(h->oem_id, "MVM   ", 6);
	memcpy(h->oem_table_id, "MVMVMM  ", 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, "MVM ", 4);
	h->creator_revision = 1;
	h->checksum = checksum(h, length);
}

static uint64_t write_acpi_tables(struct vm *vm)
{
	struct acpi_rsdp *rsdp = gpa_to_hva(vm, ACPI_START, 0x10000);
	struct acpi_header *rsdt = (void *)((uint8_t *)rsdp + 0x40);
	struct acpi_madt *madt = (void *)((uint8_t *)rsdp + 0x80);
	struct madt_interrupt_override *override;
	uint8_t *next = (uint8_t *)(madt + 1);
	struct madt_lapic_nmi *nmi;
	struct madt_ioapic *ioapic;
	int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		struct madt_lapic *lapic = (void *)next;

		lapic->type = MADT_LAPIC;
		lapic->length = sizeof(*lapic);
		lapic->processor_uid = i;
		lapic->apic_id = i;
		lapic->flags = 1;
		next += sizeof(*lapic);
	}

	ioapic = (void *)next;
	ioapic->type = MADT_IOAPIC;
	ioapic->length = sizeof(*ioapic);
	ioapic->ioapic_id = vm->nr_vcpus;
	ioapic->address = IOAPIC_ADDRESS;
	ioapic->gsi_base = 0;
	next += sizeof(*ioapic);

	/*
	 * Without an override, ISA IRQ n is global interrupt n: I/O APIC
	 * pin n, as KVM wires them (see write_mp_table).  IRQ 0 still needs
	 * one: with no FADT the kernel takes IRQ 0 for the ACPI SCI (its
	 * FADT field reads 0) and, unless told otherwise, makes it level
	 * triggered and active low, which would silence the PIT.  Say
	 * "edge, active high" (flags 0x5) explicitly.
	 */
	override = (void *)next;
	override->type = MADT_INTERRUPT_OVERRIDE;
	override->length = sizeof(*override);
	override->bus = 0;
	override->source_irq = 0;
	override->gsi = 0;
	override->flags = 0x5;
	next += sizeof(*override);

	/* NMI arrives on LINT1 of every local APIC. */
	nmi = (void *)next;
	nmi->type = MADT_LAPIC_NMI;
	nmi->length = sizeof(*nmi);
	nmi->processor_uid = 0xff;
	nmi->flags = 0;
	nmi->lint = 1;
	next += sizeof(*nmi);

	madt->lapic_address = LAPIC_ADDRESS;
	madt->flags = 1;
	acpi_fill_header(&madt->header, "APIC", next - (uint8_t *)madt, 3);

	*(uint32_t *)(rsdt + 1) = ACPI_START + 0x80;	/* its one entry */
	acpi_fill_header(rsdt, "RSDT", sizeof(*rsdt) + 4, 1);

	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, "MVM   ", 6);
	rsdp->revision = 0;
	rsdp->rsdt_address = ACPI_START + 0x40;
	rsdp->checksum = checksum(rsdp, sizeof(*rsdp));
	return ACPI_START;
}

void linux_load(struct vm *vm, const uint8_t *image, size_t image_size,
		const uint8_t *initrd, size_t initrd_size, const char *cmdline)
{
	const struct setup_header *hdr = (const void *)(image + 0x1f1);
	struct boot_params *bp = gpa_to_hva(vm, BOOT_PARAMS, sizeof(*bp));
	size_t setup_size, kernel_size, hdr_end, cmdline_len;
	uint64_t initrd_max, initrd_addr = 0;

	if (vm->nr_vcpus > MAX_MP_CPUS)
		fail("%s", "at most 32 vCPUs (the MP table's space)");
	/*
	 * The 64-bit entry point exists since protocol 2.12 when the
	 * kernel says so in xloadflags.
	 */
	if (hdr->version < 0x20c || !(hdr->xloadflags & XLF_KERNEL_64))
		fail("%s", "kernel has no 64-bit entry point (boot protocol < 2.12)");

	/*
	 * The bzImage is the real-mode setup code (the boot sector and
	 * setup_sects sectors of 512 bytes; 0 means 4) followed by the
	 * protected-mode kernel, which goes to 1 MiB.  The kernel needs
	 * init_size bytes from there to decompress itself.
	 */
	setup_size = ((hdr->setup_sects ? hdr->setup_sects : 4) + 1) * 512;
	if (setup_size >= image_size)
		fail("%s", "bzImage truncated");
	kernel_size = image_size - setup_size;
	if (KERNEL_START + (uint64_t)hdr->init_size > vm->low_ram_end)
		fail("%s", "not enough memory for the kernel (-m)");
	memcpy(gpa_to_hva(vm, KERNEL_START, kernel_size), image + setup_size,
	       kernel_size);

	/*
	 * boot_params starts zeroed; the setup header goes at the same
	 * offset (0x1f1) as in the image.  It ends at 0x202 plus the byte at
	 * 0x201 (the jump instruction's offset).
	 */
	memset(bp, 0, sizeof(*bp));
	hdr_end = 0x202 + image[0x201];
	if (hdr_end > 0x1f1 + sizeof(bp->hdr))
		hdr_end = 0x1f1 + sizeof(bp->hdr);
	memcpy(&bp->hdr, hdr, hdr_end - 0x1f1);

	bp->hdr.type_of_loader = 0xff;	/* a loader with no assigned id */
	bp->hdr.vid_mode = 0xffff;	/* "normal": no video mode change */
	bp->hdr.loadflags |= LOADED_HIGH; /* the kernel is at 1 MiB */
	bp->hdr.code32_start = KERNEL_START;

	/* The command line, NUL-terminated, at most cmdline_size bytes. */
	cmdline_len = strlen(cmdline);
	if (cmdline_len >= BOOT_CMDLINE_MAX ||
	    cmdline_len > bp->hdr.cmdline_size)
		fail("%s", "command line too long");
	memcpy(gpa_to_hva(vm, BOOT_CMDLINE, cmdline_len + 1), cmdline,
	       cmdline_len + 1);
	bp->hdr.cmd_line_ptr = BOOT_CMDLINE;

	/*
	 * The initramfs: as high as possible (out of the decompressing
	 * kernel's way), page aligned, ending at or below initrd_addr_max
	 * (the highest address the kernel accepts for its last byte) and
	 * the end of low RAM.
	 */
	if (initrd) {
		initrd_max = (uint64_t)bp->hdr.initrd_addr_max + 1;
		if (initrd_max > vm->low_ram_end)
			initrd_max = vm->low_ram_end;
		if (initrd_size < initrd_max)
			initrd_addr = (initrd_max - initrd_size) & ~0xfffULL;
		if (initrd_addr < KERNEL_START + bp->hdr.init_size)
			fail("%s", "not enough memory for the initramfs (-m)");
		memcpy(gpa_to_hva(vm, initrd_addr, initrd_size), initrd,
		       initrd_size);
		bp->hdr.ramdisk_image = initrd_addr;
		bp->hdr.ramdisk_size = initrd_size;
	}

	write_e820(vm, bp);
	write_mp_table(vm);
	/* Since protocol 2.14 the kernel takes the RSDP's address here. */
	bp->acpi_rsdp_addr = write_acpi_tables(vm);
}

/*
 * boot.rst, "64-bit boot protocol": at the entry point (the protected-mode
 * kernel's start + 0x200, "startup_64"), the CPU is in 64-bit mode with
 * paging, the kernel, boot_params and the command line identity mapped;
 * a GDT has flat 4 GiB code and data descriptors at selectors 0x10 and
 * 0x18, CS is 0x10 and DS, ES, SS are 0x18; interrupts are disabled; RSI
 * holds the address of boot_params.
 */
void linux_setup_boot_cpu(struct vm *vm, int vcpu_fd)
{
	uint64_t *gdt = gpa_to_hva(vm, BOOT_GDT, 4 * 8);
	struct kvm_segment seg;
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	/*
	 * Descriptor bits (SDM vol. 3, 3.4.5): 0x00af9b... is present,
	 * ring 0, code execute/read, L (64-bit), G; 0x00cf93... is present,
	 * data read/write, D/B, G.  Base 0, limit 4 GiB.
	 */
	gdt[0] = gdt[1] = 0;
	gdt[BOOT_CS / 8] = 0x00af9b000000ffffULL;
	gdt[BOOT_DS / 8] = 0x00cf93000000ffffULL;

	/* The first 4 GiB identity mapped with 2 MiB pages. */
	mvm_guest_write_tables(vm->mem);

	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		vmm_exit(125, "KVM_GET_SREGS: %m");
	sregs.gdt.base = BOOT_GDT;
	sregs.gdt.limit = 4 * 8 - 1;
	/* The registers hold the descriptors' contents as well. */
	seg = (struct kvm_segment) {
		.base = 0, .limit = 0xffffffff, .selector = BOOT_CS,
		.type = 0xb, .present = 1, .s = 1, .l = 1, .g = 1,
	};
	sregs.cs = seg;
	seg = (struct kvm_segment) {
		.base = 0, .limit = 0xffffffff, .selector = BOOT_DS,
		.type = 0x3, .present = 1, .s = 1, .db = 1, .g = 1,
	};
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = seg;
	/* Long mode: PAE paging on our tables, EFER.LME and LMA. */
	sregs.cr3 = MVM_GUEST_PML4;
	sregs.cr4 = CR4_PAE;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_PG;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		vmm_exit(125, "KVM_SET_SREGS: %m");

	memset(&regs, 0, sizeof(regs));
	regs.rip = KERNEL_START + 0x200;	/* startup_64 */
	regs.rsi = BOOT_PARAMS;
	regs.rsp = BOOT_STACK;
	regs.rflags = 0x2;			/* IF clear; bit 1 is fixed */
	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0)
		vmm_exit(125, "KVM_SET_REGS: %m");
}
