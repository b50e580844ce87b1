// SPDX-License-Identifier: GPL-2.0
/*
 * The VM-wide interrupt controllers: KVM_CREATE_IRQCHIP (its ordering
 * errnos), KVM_GET/SET_IRQCHIP, KVM_SET_GSI_ROUTING's validation,
 * KVM_IRQ_LINE_STATUS results, and guests that take interrupts through
 * the 8259A pair (programmed with ICWs/OCWs), the IOAPIC (programmed
 * through IOREGSEL/IOWIN) edge and level (Remote IRR and the EOI that
 * re-fires a line still high), KVM_SIGNAL_MSI, and the split irqchip's
 * KVM_EXIT_IOAPIC_EOI and ExtINT KVM_INTERRUPT.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

#define PIO_U32(g)	(*(uint32_t *)((uint8_t *)(g)->run + (g)->run->io.data_offset))

#define IDT_LIMIT_128	(128 * 16 - 1)

#define REDIR_MASKED	(1ULL << 16)
#define REDIR_LEVEL	(1ULL << 15)
#define REDIR_REMOTE_IRR (1ULL << 14)

static int vm_ioctl_errno(int vm, unsigned long req, void *arg)
{
	return ioctl(vm, req, arg) ? errno : 0;
}

/* A VM with memory at 0 and, if @irqchip, KVM_CREATE_IRQCHIP: no vCPU. */
static void vm_create(struct mvm_guest *g, bool irqchip)
{
	guest_create_vm(g, 1 << 21);
	if (irqchip && ioctl(g->vm_fd, KVM_CREATE_IRQCHIP, 0))
		abort();
}

static void vm_destroy(struct mvm_guest *g)
{
	if (g->vcpu_fd >= 0) {
		guest_destroy(g);
		return;
	}
	close(g->vm_fd);
	close(g->sys_fd);
	munmap(g->mem, g->mem_size);
}

static int irq_line_status(struct mvm_guest *g, uint32_t gsi, int level)
{
	struct kvm_irq_level l = { .irq = gsi, .level = level };

	if (ioctl(g->vm_fd, KVM_IRQ_LINE_STATUS, &l))
		return -1000 - errno;
	return l.status;
}

static void get_chip(struct __test_metadata *_metadata, struct mvm_guest *g,
		     uint32_t id, struct kvm_irqchip *c)
{
	memset(c, 0, sizeof(*c));
	c->chip_id = id;
	ASSERT_EQ(0, ioctl(g->vm_fd, KVM_GET_IRQCHIP, c));
}

static void set_chip(struct __test_metadata *_metadata, struct mvm_guest *g,
		     struct kvm_irqchip *c)
{
	ASSERT_EQ(0, ioctl(g->vm_fd, KVM_SET_IRQCHIP, c));
}

/* A routing table of up to 8 entries. */
struct routing8 {
	struct kvm_irq_routing h;
	struct kvm_irq_routing_entry e[8];
};

static int set_routing(struct mvm_guest *g, struct routing8 *r, int nr)
{
	r->h.nr = nr;
	r->h.flags = 0;
	return vm_ioctl_errno(g->vm_fd, KVM_SET_GSI_ROUTING, r);
}

static void route_chip(struct kvm_irq_routing_entry *e, uint32_t gsi,
		       uint32_t chip, uint32_t pin)
{
	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_IRQCHIP;
	e->u.irqchip.irqchip = chip;
	e->u.irqchip.pin = pin;
}

static void route_msi(struct kvm_irq_routing_entry *e, uint32_t gsi,
		      uint32_t addr, uint32_t data)
{
	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_MSI;
	e->u.msi.address_lo = addr;
	e->u.msi.data = data;
}

/* ------------------------------------------------------------------ */
/* Without a guest                                                      */

TEST(capabilities)
{
	int sys = mvm_open_dev();

	EXPECT_EQ(1, ioctl(sys, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP));
	EXPECT_EQ(1, ioctl(sys, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_INJECT_STATUS));
	EXPECT_EQ(1, ioctl(sys, KVM_CHECK_EXTENSION, KVM_CAP_SIGNAL_MSI));
	EXPECT_LT(0, ioctl(sys, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING));
	close(sys);
}

/* Once, before any vCPU; not with the split irqchip, nor it after us. */
TEST(create_irqchip_ordering)
{
	struct kvm_enable_cap split = { .cap = KVM_CAP_SPLIT_IRQCHIP,
					.args = { 24 } };
	struct mvm_guest g;
	int vcpu;

	vm_create(&g, false);
	EXPECT_EQ(0, vm_ioctl_errno(g.vm_fd, KVM_CREATE_IRQCHIP, NULL));
	EXPECT_EQ(EEXIST, vm_ioctl_errno(g.vm_fd, KVM_CREATE_IRQCHIP, NULL));
	EXPECT_EQ(EEXIST, vm_ioctl_errno(g.vm_fd, KVM_ENABLE_CAP, &split));
	vm_destroy(&g);

	vm_create(&g, false);
	vcpu = ioctl(g.vm_fd, KVM_CREATE_VCPU, 0);
	ASSERT_LE(0, vcpu);
	EXPECT_EQ(EINVAL, vm_ioctl_errno(g.vm_fd, KVM_CREATE_IRQCHIP, NULL));
	close(vcpu);
	vm_destroy(&g);

	vm_create(&g, false);
	ASSERT_EQ(0, vm_ioctl_errno(g.vm_fd, KVM_ENABLE_CAP, &split));
	EXPECT_EQ(EEXIST, vm_ioctl_errno(g.vm_fd, KVM_CREATE_IRQCHIP, NULL));
	vm_destroy(&g);
}

TEST(errnos_without_full_irqchip)
{
	struct kvm_enable_cap split = { .cap = KVM_CAP_SPLIT_IRQCHIP,
					.args = { 24 } };
	struct kvm_irq_level line = { .irq = 4, .level = 1 };
	struct kvm_msi msi = { .address_lo = 0xfee00000, .data = 0x40 };
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };
	struct mvm_guest g;

	vm_create(&g, false);
	EXPECT_EQ(ENXIO, vm_ioctl_errno(g.vm_fd, KVM_IRQ_LINE, &line));
	EXPECT_EQ(ENXIO, vm_ioctl_errno(g.vm_fd, KVM_IRQ_LINE_STATUS, &line));
	EXPECT_EQ(ENXIO, vm_ioctl_errno(g.vm_fd, KVM_GET_IRQCHIP, &chip));
	EXPECT_EQ(ENXIO, vm_ioctl_errno(g.vm_fd, KVM_SET_IRQCHIP, &chip));
	EXPECT_EQ(EINVAL, vm_ioctl_errno(g.vm_fd, KVM_SIGNAL_MSI, &msi));
	vm_destroy(&g);

	/* Split: LAPICs only; the lines have no routes yet. */
	vm_create(&g, false);
	ASSERT_EQ(0, vm_ioctl_errno(g.vm_fd, KVM_ENABLE_CAP, &split));
	EXPECT_EQ(ENXIO, vm_ioctl_errno(g.vm_fd, KVM_GET_IRQCHIP, &chip));
	EXPECT_EQ(ENXIO, vm_ioctl_errno(g.vm_fd, KVM_SET_IRQCHIP, &chip));
	EXPECT_EQ(-1, irq_line_status(&g, 4, 1));
	vm_destroy(&g);
}

TEST(irqchip_state_round_trip)
{
	struct kvm_irqchip c, c2;
	struct mvm_guest g;
	int i;

	vm_create(&g, true);

	/* Reset state: PIIX ELCR masks, IOAPIC at its base, all masked. */
	get_chip(_metadata, &g, KVM_IRQCHIP_PIC_MASTER, &c);
	EXPECT_EQ(0xf8, c.chip.pic.elcr_mask);
	get_chip(_metadata, &g, KVM_IRQCHIP_PIC_SLAVE, &c);
	EXPECT_EQ(0xde, c.chip.pic.elcr_mask);
	get_chip(_metadata, &g, KVM_IRQCHIP_IOAPIC, &c);
	EXPECT_EQ(0xfec00000, c.chip.ioapic.base_address);
	for (i = 0; i < KVM_IOAPIC_NUM_PINS; i++)
		EXPECT_EQ(REDIR_MASKED, c.chip.ioapic.redirtbl[i].bits);

	get_chip(_metadata, &g, KVM_IRQCHIP_PIC_SLAVE, &c);
	c.chip.pic.imr = 0x5a;
	c.chip.pic.irq_base = 0x70;
	c.chip.pic.elcr = 0x02;
	c.chip.pic.priority_add = 3;
	c.chip.pic.auto_eoi = 1;
	set_chip(_metadata, &g, &c);
	get_chip(_metadata, &g, KVM_IRQCHIP_PIC_SLAVE, &c2);
	EXPECT_EQ(0, memcmp(&c.chip.pic, &c2.chip.pic, sizeof(c.chip.pic)));

	get_chip(_metadata, &g, KVM_IRQCHIP_IOAPIC, &c);
	c.chip.ioapic.id = 5;
	c.chip.ioapic.ioregsel = 0x12;
	c.chip.ioapic.redirtbl[7].bits = 0x0300000000000945ULL;
	set_chip(_metadata, &g, &c);
	get_chip(_metadata, &g, KVM_IRQCHIP_IOAPIC, &c2);
	EXPECT_EQ(5, c2.chip.ioapic.id);
	EXPECT_EQ(0x12, c2.chip.ioapic.ioregsel);
	EXPECT_EQ(0xfec00000, c2.chip.ioapic.base_address);
	EXPECT_EQ(0x0300000000000945ULL, c2.chip.ioapic.redirtbl[7].bits);
	EXPECT_EQ(REDIR_MASKED, c2.chip.ioapic.redirtbl[8].bits);

	c.chip_id = 3;
	EXPECT_EQ(EINVAL, vm_ioctl_errno(g.vm_fd, KVM_GET_IRQCHIP, &c));
	EXPECT_EQ(EINVAL, vm_ioctl_errno(g.vm_fd, KVM_SET_IRQCHIP, &c));
	vm_destroy(&g);
}

TEST(gsi_routing_validation)
{
	struct kvm_enable_cap split = { .cap = KVM_CAP_SPLIT_IRQCHIP,
					.args = { 24 } };
	struct kvm_irq_routing hdr = { 0 };
	struct routing8 r;
	struct mvm_guest g;

	vm_create(&g, true);

	hdr.nr = 4097;		/* > KVM_MAX_IRQ_ROUTES, checked first */
	EXPECT_EQ(EINVAL, vm_ioctl_errno(g.vm_fd, KVM_SET_GSI_ROUTING, &hdr));
	hdr.nr = 0;
	hdr.flags = 1;
	EXPECT_EQ(EINVAL, vm_ioctl_errno(g.vm_fd, KVM_SET_GSI_ROUTING, &hdr));

	route_chip(&r.e[0], 4096, KVM_IRQCHIP_IOAPIC, 1);
	EXPECT_EQ(EINVAL, set_routing(&g, &r, 1));
	route_chip(&r.e[0], 1, KVM_IRQCHIP_IOAPIC, 1);
	r.e[0].flags = 1;
	EXPECT_EQ(EINVAL, set_routing(&g, &r, 1));
	route_chip(&r.e[0], 1, 3, 1);
	EXPECT_EQ(EINVAL, set_routing(&g, &r, 1));
	route_chip(&r.e[0], 1, KVM_IRQCHIP_PIC_SLAVE, 8);
	EXPECT_EQ(EINVAL, set_routing(&g, &r, 1));
	route_chip(&r.e[0], 1, KVM_IRQCHIP_IOAPIC, 24);
	EXPECT_EQ(EINVAL, set_routing(&g, &r, 1));
	route_chip(&r.e[0], 1, KVM_IRQCHIP_IOAPIC, 1);
	r.e[0].type = 77;
	EXPECT_EQ(EINVAL, set_routing(&g, &r, 1));
	route_msi(&r.e[0], 1, 0xfee00000, 0x40);
	r.e[0].flags = 2;
	EXPECT_EQ(EINVAL, set_routing(&g, &r, 1));

	/* One route per irqchip per GSI, or else one MSI alone. */
	route_chip(&r.e[0], 9, KVM_IRQCHIP_IOAPIC, 9);
	route_chip(&r.e[1], 9, KVM_IRQCHIP_IOAPIC, 10);
	EXPECT_EQ(EINVAL, set_routing(&g, &r, 2));
	route_msi(&r.e[1], 9, 0xfee00000, 0x40);
	EXPECT_EQ(EINVAL, set_routing(&g, &r, 2));
	route_msi(&r.e[0], 9, 0xfee00000, 0x41);
	EXPECT_EQ(EINVAL, set_routing(&g, &r, 2));

	/* A refused table leaves the last one: GSI 20 reaches IOAPIC pin 20. */
	EXPECT_EQ(-1, irq_line_status(&g, 20, 1));	/* masked */
	EXPECT_EQ(1, irq_line_status(&g, 20, 0));

	route_chip(&r.e[0], 9, KVM_IRQCHIP_PIC_MASTER, 1);
	route_chip(&r.e[1], 9, KVM_IRQCHIP_PIC_SLAVE, 1);
	route_chip(&r.e[2], 9, KVM_IRQCHIP_IOAPIC, 9);
	route_msi(&r.e[3], 4095, 0xfee00000, 0x40);
	r.e[3].flags = KVM_MSI_VALID_DEVID;
	EXPECT_EQ(0, set_routing(&g, &r, 4));

	/* The old routes are gone: GSI 20 reaches nothing. */
	EXPECT_EQ(-1, irq_line_status(&g, 20, 1));
	EXPECT_EQ(0, set_routing(&g, &r, 0));
	EXPECT_EQ(-1, irq_line_status(&g, 9, 1));
	vm_destroy(&g);

	/* Split irqchip: MSI routes only. */
	vm_create(&g, false);
	ASSERT_EQ(0, vm_ioctl_errno(g.vm_fd, KVM_ENABLE_CAP, &split));
	route_chip(&r.e[0], 1, KVM_IRQCHIP_IOAPIC, 1);
	EXPECT_EQ(EINVAL, set_routing(&g, &r, 1));
	route_msi(&r.e[0], 1, 0xfee00000, 0x40);
	EXPECT_EQ(0, set_routing(&g, &r, 1));
	vm_destroy(&g);
}

/*
 * KVM_X2APIC_API_USE_32BIT_IDS: an MSI's address_hi carries destination
 * bits 31:8, and its bits 7:0 must then be zero, in routes and in
 * KVM_SIGNAL_MSI alike.
 */
TEST(msi_x2apic_format)
{
	struct kvm_enable_cap x2api = { .cap = KVM_CAP_X2APIC_API,
					.args = { KVM_X2APIC_API_USE_32BIT_IDS } };
	struct kvm_msi msi = { .address_lo = 0xfee00000, .address_hi = 1,
			       .data = 0x40 };
	struct routing8 r;
	struct mvm_guest g;

	vm_create(&g, true);
	route_msi(&r.e[0], 3, 0xfee00000, 0x40);
	r.e[0].u.msi.address_hi = 1;
	EXPECT_EQ(0, set_routing(&g, &r, 1));	/* ignored without the API */

	ASSERT_EQ(0, vm_ioctl_errno(g.vm_fd, KVM_ENABLE_CAP, &x2api));
	EXPECT_EQ(EINVAL, set_routing(&g, &r, 1));
	r.e[0].u.msi.address_hi = 0x100;
	EXPECT_EQ(0, set_routing(&g, &r, 1));
	EXPECT_EQ(EINVAL, vm_ioctl_errno(g.vm_fd, KVM_SIGNAL_MSI, &msi));
	vm_destroy(&g);
}

/*
 * Without vCPUs nothing is delivered: the statuses come from the PIC
 * (masked, new, coalesced) and the masked IOAPIC, added up per GSI.
 */
TEST(irq_line_status_results)
{
	struct kvm_irqchip c;
	struct mvm_guest g;

	vm_create(&g, true);

	/* Reset: PIC IMR 0, IOAPIC masked.  Edge pin 4: new, then held. */
	EXPECT_EQ(1, irq_line_status(&g, 4, 1));
	EXPECT_EQ(1, irq_line_status(&g, 4, 1));
	EXPECT_EQ(2, irq_line_status(&g, 4, 0));	/* both chips see it */
	get_chip(_metadata, &g, KVM_IRQCHIP_PIC_MASTER, &c);
	EXPECT_EQ(0x10, c.chip.pic.irr);

	/* Level pin 3 (ELCR): a second assertion is coalesced. */
	c.chip.pic.elcr = 0x08;
	set_chip(_metadata, &g, &c);
	EXPECT_EQ(1, irq_line_status(&g, 3, 1));
	EXPECT_EQ(0, irq_line_status(&g, 3, 1));
	EXPECT_EQ(2, irq_line_status(&g, 3, 0));
	get_chip(_metadata, &g, KVM_IRQCHIP_PIC_MASTER, &c);
	EXPECT_EQ(0x10, c.chip.pic.irr);	/* pin 3's request went with it */

	/* Masked on the PIC and the IOAPIC: not delivered. */
	c.chip.pic.imr = 0xff;
	set_chip(_metadata, &g, &c);
	EXPECT_EQ(-1, irq_line_status(&g, 6, 1));
	EXPECT_EQ(1, irq_line_status(&g, 6, 0));	/* the IOAPIC's low */

	/* Slave pins and the IOAPIC-only GSIs. */
	EXPECT_EQ(1, irq_line_status(&g, 12, 1));
	EXPECT_EQ(-1, irq_line_status(&g, 23, 1));
	/* No route. */
	EXPECT_EQ(-1, irq_line_status(&g, 24, 1));
	EXPECT_EQ(-1, irq_line_status(&g, 1000, 1));
	vm_destroy(&g);
}

struct line_toggler {
	int vm_fd;
	volatile bool stop;
	unsigned long raised;
};

static void *toggle_lines(void *arg)
{
	struct line_toggler *t = arg;
	struct kvm_irq_level l;
	uint32_t gsi = 0;

	while (!t->stop) {
		l.irq = gsi++ % 26;
		l.level = 1;
		ioctl(t->vm_fd, KVM_IRQ_LINE_STATUS, &l);
		l.level = 0;
		ioctl(t->vm_fd, KVM_IRQ_LINE, &l);
		t->raised++;
	}
	return NULL;
}

/*
 * Lines raised and lowered from two threads while the routing table and
 * the IOAPIC and PIC states are replaced 50 times, and the VM fd
 * closed under the last of them: nothing may crash or warn (the rig
 * checks the kernel log).
 */
TEST(routing_and_state_replaced_under_raised_lines)
{
	struct line_toggler t[2];
	struct kvm_irqchip c;
	pthread_t th[2];
	struct routing8 r;
	struct mvm_guest g;
	int i;

	vm_create(&g, true);
	/* Unmasked IOAPIC entries: delivery is attempted (no LAPIC). */
	get_chip(_metadata, &g, KVM_IRQCHIP_IOAPIC, &c);
	for (i = 0; i < KVM_IOAPIC_NUM_PINS; i++)
		c.chip.ioapic.redirtbl[i].bits = 0x40 + i +
						 (i & 1 ? REDIR_LEVEL : 0);
	set_chip(_metadata, &g, &c);

	for (i = 0; i < 2; i++) {
		t[i].vm_fd = g.vm_fd;
		t[i].stop = false;
		t[i].raised = 0;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, toggle_lines, &t[i]));
	}
	for (i = 0; i < 50; i++) {
		route_chip(&r.e[0], i % 24, KVM_IRQCHIP_IOAPIC, (i + 1) % 24);
		route_chip(&r.e[1], i % 24, KVM_IRQCHIP_PIC_MASTER, i % 8);
		route_msi(&r.e[2], 24, 0xfee00000, 0x50);
		route_chip(&r.e[3], 25, KVM_IRQCHIP_PIC_SLAVE, i % 8);
		ASSERT_EQ(0, set_routing(&g, &r, i % 5));
		get_chip(_metadata, &g, i & 1 ? KVM_IRQCHIP_IOAPIC :
					   KVM_IRQCHIP_PIC_SLAVE, &c);
		set_chip(_metadata, &g, &c);
	}
	/* (On one CPU the threads may not have run yet: no count check.) */
	t[0].stop = true;
	pthread_join(th[0], NULL);
	/* The other thread still raises lines as the VM goes. */
	vm_destroy(&g);
	t[1].stop = true;
	pthread_join(th[1], NULL);
}

/* ------------------------------------------------------------------ */
/* Guests                                                               */

/*
 * The guest: call the set-up routine at RDI, STI, report ready (port
 * 0x80), then report each interrupt taken (port 0x83: vector | count <<
 * 16) until userspace stops it.  The handlers count (R8) and EOI as R12
 * says: 0 master PIC, 1 slave and master PIC, 2 LAPIC, 3 none.  With
 * R13 set (level tests), the second interrupt exits on port 0x84 before
 * its EOI.  RSI, R14, R15: set-up parameters.
 */
GUEST_CODE_BLOB(g_irq, ".code64",
	"call *%rdi\n"
	"xor %r8d, %r8d\n"
	"xor %r11d, %r11d\n"
	"sti\n"
	"out %al, $0x80\n"
	"1: cmp %r11d, %r8d\n jne 2f\n pause\n jmp 1b\n"
	"2: mov %r8d, %r11d\n"
	"mov %r8d, %eax\n shl $16, %eax\n or %r9d, %eax\n"
	"out %eax, $0x83\n"
	"jmp 1b\n"

	/* Handlers: vector in R9, then the common part. */
	"irq_h23: mov $0x23, %r9d\n jmp irq_common\n"
	"irq_h2a: mov $0x2a, %r9d\n jmp irq_common\n"
	"irq_h45: mov $0x45, %r9d\n jmp irq_common\n"
	"irq_h4a: mov $0x4a, %r9d\n jmp irq_common\n"
	"irq_h51: mov $0x51, %r9d\n jmp irq_common\n"
	"irq_h57: mov $0x57, %r9d\n jmp irq_common\n"
	"irq_h60: mov $0x60, %r9d\n jmp irq_common\n"
	"irq_common:\n"
	"inc %r8d\n"
	"test %r13d, %r13d\n jz 3f\n"
	"cmp $2, %r8d\n jne 3f\n"
	"mov %r9d, %eax\n out %eax, $0x84\n"
	"3: cmp $2, %r12d\n je 5f\n"
	"cmp $3, %r12d\n je 6f\n"
	/* PIC: ISR before the EOI (OCW3 read ISR) into R10. */
	"mov $0x0b, %al\n out %al, $0x20\n in $0x20, %al\n movzbl %al, %r10d\n"
	"cmp $1, %r12d\n jne 4f\n"
	"mov $0x0b, %al\n out %al, $0xa0\n in $0xa0, %al\n"
	"movzbl %al, %eax\n shl $8, %eax\n or %eax, %r10d\n"
	"mov $0x20, %al\n out %al, $0xa0\n"
	"4: mov $0x20, %al\n out %al, $0x20\n"
	"jmp 6f\n"
	"5: mov $0xfee000b0, %rax\n movl $0, (%rax)\n"
	"6: iretq\n"

	/*
	 * Set-up: both PICs initialised, IMRs from R14 (master), R15; SI
	 * bits 7:0 are OR-ed into the master's ICW4, bits 15:8 go to its
	 * ELCR.
	 */
	"setup_pic:\n"
	"mov $0x11, %al\n out %al, $0x20\n"	/* ICW1: edge, cascade, IC4 */
	"mov $0x20, %al\n out %al, $0x21\n"	/* ICW2: vectors 0x20-0x27 */
	"mov $0x04, %al\n out %al, $0x21\n"	/* ICW3: slave on IR2 */
	"mov %esi, %eax\n or $0x01, %al\n out %al, $0x21\n" /* ICW4: 8086, SI */
	"mov $0x11, %al\n out %al, $0xa0\n"
	"mov $0x28, %al\n out %al, $0xa1\n"
	"mov $0x02, %al\n out %al, $0xa1\n"
	"mov $0x01, %al\n out %al, $0xa1\n"
	"mov %r14d, %eax\n out %al, $0x21\n"	/* OCW1 */
	"mov %r15d, %eax\n out %al, $0xa1\n"
	"mov %esi, %eax\n shr $8, %eax\n mov $0x4d0, %dx\n out %al, (%dx)\n"
	"ret\n"

	/* Set-up: the LAPIC software-enabled (SVR), PICs masked. */
	"setup_lapic:\n"
	"mov $0xff, %al\n out %al, $0x21\n out %al, $0xa1\n"
	"setup_svr:\n"
	"mov $0xfee000f0, %rax\n movl $0x1ff, (%rax)\n"
	"ret\n"

	/*
	 * Set-up: as setup_lapic, then IOAPIC entry R14 (pin) := R15 (low
	 * half; destination APIC 0), and the version register reported on
	 * port 0x86.
	 */
	"setup_ioapic:\n"
	"call setup_lapic\n"
	"mov $0xfec00000, %rbx\n"
	"lea 0x10(,%r14,2), %eax\n movl %eax, (%rbx)\n"
	"movl %r15d, 0x10(%rbx)\n"
	"lea 0x11(,%r14,2), %eax\n movl %eax, (%rbx)\n"
	"movl $0, 0x10(%rbx)\n"
	"movl $1, (%rbx)\n"
	"mov 0x10(%rbx), %eax\n"
	"out %eax, $0x86\n"
	"ret\n"

	"setup_none:\n ret\n");

extern const uint8_t irq_h23[], irq_h2a[], irq_h45[], irq_h4a[], irq_h51[],
	irq_h57[], irq_h60[], setup_pic[], setup_lapic[], setup_svr[],
	setup_ioapic[], setup_none[];

#define BLOB_ADDR(label)	(GUEST_CODE + ((label) - g_irq_start))

struct irq_regs {
	const uint8_t *setup;
	uint32_t eoi_mode, level_mode, p14, p15, psi;
};

static void guest_irq_start(struct __test_metadata *_metadata,
			    struct mvm_guest *g, const struct irq_regs *ir)
{
	struct kvm_regs regs;
	struct kvm_sregs s;

	g->vcpu_fd = guest_add_vcpu(g, 0, &g->run);
	guest_load(g, GUEST_CODE, g_irq_start, BLOB_LEN(g_irq));
	guest_set_long_mode(g, g->vcpu_fd, GUEST_CODE);
	ASSERT_EQ(0, ioctl(g->vcpu_fd, KVM_GET_SREGS, &s));
	s.idt.base = GUEST_IDT;
	s.idt.limit = IDT_LIMIT_128;
	ASSERT_EQ(0, ioctl(g->vcpu_fd, KVM_SET_SREGS, &s));
	guest_set_idt_gate(g, 0x23, BLOB_ADDR(irq_h23));
	guest_set_idt_gate(g, 0x2a, BLOB_ADDR(irq_h2a));
	guest_set_idt_gate(g, 0x45, BLOB_ADDR(irq_h45));
	guest_set_idt_gate(g, 0x4a, BLOB_ADDR(irq_h4a));
	guest_set_idt_gate(g, 0x51, BLOB_ADDR(irq_h51));
	guest_set_idt_gate(g, 0x57, BLOB_ADDR(irq_h57));
	guest_set_idt_gate(g, 0x60, BLOB_ADDR(irq_h60));

	ASSERT_EQ(0, ioctl(g->vcpu_fd, KVM_GET_REGS, &regs));
	regs.rdi = BLOB_ADDR(ir->setup);
	regs.r12 = ir->eoi_mode;
	regs.r13 = ir->level_mode;
	regs.r14 = ir->p14;
	regs.r15 = ir->p15;
	regs.rsi = ir->psi;
	ASSERT_EQ(0, ioctl(g->vcpu_fd, KVM_SET_REGS, &regs));
}

static void run_io(struct __test_metadata *_metadata, struct mvm_guest *g,
		   int port)
{
	ASSERT_EQ(0, guest_run(g->vcpu_fd));
	ASSERT_EQ(KVM_EXIT_IO, g->run->exit_reason)
		TH_LOG("exit %u, want KVM_EXIT_IO", g->run->exit_reason);
	ASSERT_EQ(port, g->run->io.port);
}

static uint64_t guest_reg(struct mvm_guest *g, int which)
{
	struct kvm_regs regs;

	if (ioctl(g->vcpu_fd, KVM_GET_REGS, &regs))
		abort();
	return which == 10 ? regs.r10 : regs.r8;
}

/* The 8259A pair: ICWs, OCW1, IRQ 3 on the master, IRQ 10 via IR2. */
TEST(pic_edge_interrupts)
{
	struct irq_regs ir = { .setup = setup_pic, .eoi_mode = 0,
			       .p14 = 0xf3, .p15 = 0xfb };
	struct kvm_interrupt intr = { .irq = 0x30 };
	struct kvm_irqchip c;
	struct mvm_guest g;

	vm_create(&g, true);
	guest_irq_start(_metadata, &g, &ir);
	/* The PIC is in the kernel: no userspace ExtINT. */
	EXPECT_EQ(-1, ioctl(g.vcpu_fd, KVM_INTERRUPT, &intr));
	EXPECT_EQ(ENXIO, errno);

	run_io(_metadata, &g, 0x80);
	get_chip(_metadata, &g, KVM_IRQCHIP_PIC_MASTER, &c);
	EXPECT_EQ(0x20, c.chip.pic.irq_base);
	EXPECT_EQ(0xf3, c.chip.pic.imr);
	EXPECT_EQ(0, c.chip.pic.init_state);

	EXPECT_EQ(1, irq_line_status(&g, 3, 1));
	EXPECT_EQ(2, irq_line_status(&g, 3, 0));
	run_io(_metadata, &g, 0x83);
	EXPECT_EQ(0x10023, PIO_U32(&g));
	EXPECT_EQ(0x08, guest_reg(&g, 10));	/* ISR had IR3 */
	get_chip(_metadata, &g, KVM_IRQCHIP_PIC_MASTER, &c);
	EXPECT_EQ(0, c.chip.pic.isr);		/* EOI'd */

	/* A masked pin stays requested in IRR. */
	EXPECT_EQ(-1, irq_line_status(&g, 5, 1));
	get_chip(_metadata, &g, KVM_IRQCHIP_PIC_MASTER, &c);
	EXPECT_EQ(0x20, c.chip.pic.irr & 0x20);

	/* Through the slave: its EOI and the master's. */
	{
		struct kvm_regs regs;

		ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_REGS, &regs));
		regs.r12 = 1;
		ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_REGS, &regs));
	}
	EXPECT_EQ(1, irq_line_status(&g, 10, 1));
	EXPECT_EQ(2, irq_line_status(&g, 10, 0));
	run_io(_metadata, &g, 0x83);
	EXPECT_EQ(0x2002a, PIO_U32(&g));
	EXPECT_EQ(0x0404, guest_reg(&g, 10));	/* slave IR2, master IR2 */
	vm_destroy(&g);
}

/* ICW4's AEOI: the INTA retires the interrupt, ISR stays clear. */
TEST(pic_auto_eoi)
{
	struct irq_regs ir = { .setup = setup_pic, .eoi_mode = 0,
			       .p14 = 0xf7, .p15 = 0xff, .psi = 0x02 };
	struct kvm_irqchip c;
	struct mvm_guest g;

	vm_create(&g, true);
	guest_irq_start(_metadata, &g, &ir);
	run_io(_metadata, &g, 0x80);
	get_chip(_metadata, &g, KVM_IRQCHIP_PIC_MASTER, &c);
	EXPECT_EQ(1, c.chip.pic.auto_eoi);
	EXPECT_EQ(1, c.chip.pic.init4);

	EXPECT_EQ(1, irq_line_status(&g, 3, 1));
	EXPECT_EQ(2, irq_line_status(&g, 3, 0));
	run_io(_metadata, &g, 0x83);
	EXPECT_EQ(0x10023, PIO_U32(&g));
	EXPECT_EQ(0, guest_reg(&g, 10));	/* nothing in service */
	vm_destroy(&g);
}

/*
 * ELCR (port 0x4d0) makes IR3 level-sensed: while the line stays high
 * the request survives the EOI and interrupts again; lowered, it stops.
 */
TEST(pic_level_interrupt_refires)
{
	struct irq_regs ir = { .setup = setup_pic, .eoi_mode = 0,
			       .level_mode = 1, .p14 = 0xf7, .p15 = 0xff,
			       .psi = 0x08 << 8 };
	struct kvm_irqchip c;
	struct mvm_guest g;

	vm_create(&g, true);
	guest_irq_start(_metadata, &g, &ir);
	run_io(_metadata, &g, 0x80);
	get_chip(_metadata, &g, KVM_IRQCHIP_PIC_MASTER, &c);
	EXPECT_EQ(0x08, c.chip.pic.elcr);

	EXPECT_EQ(1, irq_line_status(&g, 3, 1));
	run_io(_metadata, &g, 0x84);
	EXPECT_EQ(0x23, PIO_U32(&g));
	EXPECT_EQ(2, guest_reg(&g, 8));
	EXPECT_EQ(2, irq_line_status(&g, 3, 0));
	run_io(_metadata, &g, 0x83);
	EXPECT_EQ(0x20023, PIO_U32(&g));
	get_chip(_metadata, &g, KVM_IRQCHIP_PIC_MASTER, &c);
	EXPECT_EQ(0, c.chip.pic.irr & 0x08);
	EXPECT_EQ(0, c.chip.pic.isr);
	vm_destroy(&g);
}

/* The IOAPIC programmed through IOREGSEL/IOWIN: an edge on pin 5. */
TEST(ioapic_edge_interrupt)
{
	struct irq_regs ir = { .setup = setup_ioapic, .eoi_mode = 2,
			       .p14 = 5, .p15 = 0x45 };
	struct kvm_irqchip c;
	struct mvm_guest g;

	vm_create(&g, true);
	guest_irq_start(_metadata, &g, &ir);
	run_io(_metadata, &g, 0x86);
	EXPECT_EQ(0x170011, PIO_U32(&g));	/* 24 entries, version 0x11 */
	run_io(_metadata, &g, 0x80);
	get_chip(_metadata, &g, KVM_IRQCHIP_IOAPIC, &c);
	EXPECT_EQ(0x45, c.chip.ioapic.redirtbl[5].bits);

	EXPECT_EQ(1, irq_line_status(&g, 5, 1));
	EXPECT_EQ(0, irq_line_status(&g, 5, 1));	/* no new edge */
	EXPECT_EQ(1, irq_line_status(&g, 5, 0));
	run_io(_metadata, &g, 0x83);
	EXPECT_EQ(0x10045, PIO_U32(&g));
	vm_destroy(&g);
}

/*
 * A level-triggered pin held high: delivered, EOI'd while still high (so
 * Remote IRR clears and it fires again), lowered, EOI'd: no third time.
 */
TEST(ioapic_level_interrupt_refires)
{
	struct irq_regs ir = { .setup = setup_ioapic, .eoi_mode = 2,
			       .level_mode = 1, .p14 = 10,
			       .p15 = 0x4a | REDIR_LEVEL };
	struct kvm_irqchip c;
	struct mvm_guest g;

	vm_create(&g, true);
	guest_irq_start(_metadata, &g, &ir);
	run_io(_metadata, &g, 0x86);
	run_io(_metadata, &g, 0x80);

	EXPECT_EQ(1, irq_line_status(&g, 10, 1));
	EXPECT_EQ(-1, irq_line_status(&g, 10, 1));	/* Remote IRR set */
	run_io(_metadata, &g, 0x84);			/* the second one */
	EXPECT_EQ(0x4a, PIO_U32(&g));
	EXPECT_EQ(2, guest_reg(&g, 8));
	get_chip(_metadata, &g, KVM_IRQCHIP_IOAPIC, &c);
	EXPECT_EQ(REDIR_REMOTE_IRR, c.chip.ioapic.redirtbl[10].bits &
				    REDIR_REMOTE_IRR);
	EXPECT_EQ(1u << 10, c.chip.ioapic.irr & (1u << 10));

	EXPECT_EQ(1, irq_line_status(&g, 10, 0));
	run_io(_metadata, &g, 0x83);
	EXPECT_EQ(0x2004a, PIO_U32(&g));
	get_chip(_metadata, &g, KVM_IRQCHIP_IOAPIC, &c);
	EXPECT_EQ(0, c.chip.ioapic.redirtbl[10].bits & REDIR_REMOTE_IRR);
	EXPECT_EQ(0, c.chip.ioapic.irr & (1u << 10));
	vm_destroy(&g);
}

static void on_alarm(int sig)
{
}

/*
 * A level interrupt the guest EOIs without quieting its source: after
 * 10000 in a row the IOAPIC waits before the next one (as KVM), so the
 * guest's main loop gets to run.
 */
TEST(ioapic_level_storm_is_throttled)
{
	struct irq_regs ir = { .setup = setup_ioapic, .eoi_mode = 2,
			       .p14 = 11, .p15 = 0x4a | REDIR_LEVEL };
	struct sigaction sa = { .sa_handler = on_alarm };
	struct mvm_guest g;
	int r;

	/*
	 * Passed on KVM 6.1 in five rig runs, then once left the test in
	 * an unkillable sleep inside KVM (the L1 went idle until the rig's
	 * timeout, with the harness waiting): a hang takes the whole run
	 * down, so KVM is spared it.
	 */
	if (mvm_on_kvm())
		SKIP(return, "hung once inside KVM 6.1 (see kvm-skips.txt)");

	vm_create(&g, true);
	guest_irq_start(_metadata, &g, &ir);
	run_io(_metadata, &g, 0x86);
	run_io(_metadata, &g, 0x80);

	EXPECT_EQ(1, irq_line_status(&g, 11, 1));
	/* Without the throttle the guest never leaves its handler. */
	sigaction(SIGALRM, &sa, NULL);
	alarm(60);
	r = guest_run(g.vcpu_fd);
	alarm(0);
	ASSERT_EQ(0, r) TH_LOG("still storming after 60 s");
	ASSERT_EQ(KVM_EXIT_IO, g.run->exit_reason);
	ASSERT_EQ(0x83, g.run->io.port);
	/*
	 * 10000 before the pause; on a slow host the delayed one (10 ms)
	 * may come before the loop reports (seen once on KVM: 10001).
	 */
	EXPECT_LE(10000, PIO_U32(&g) >> 16);
	EXPECT_GT(30000, PIO_U32(&g) >> 16);
	EXPECT_EQ(0x4a, PIO_U32(&g) & 0xffff);
	EXPECT_EQ(1, irq_line_status(&g, 11, 0));
	vm_destroy(&g);
}

TEST(signal_msi)
{
	struct irq_regs ir = { .setup = setup_lapic, .eoi_mode = 2 };
	struct kvm_msi msi = { .address_lo = 0xfee00000, .data = 0x51 };
	struct mvm_guest g;

	vm_create(&g, true);
	guest_irq_start(_metadata, &g, &ir);
	run_io(_metadata, &g, 0x80);

	msi.flags = 2;
	EXPECT_EQ(EINVAL, vm_ioctl_errno(g.vm_fd, KVM_SIGNAL_MSI, &msi));
	msi.flags = 0;
	EXPECT_EQ(1, ioctl(g.vm_fd, KVM_SIGNAL_MSI, &msi));
	run_io(_metadata, &g, 0x83);
	EXPECT_EQ(0x10051, PIO_U32(&g));

	/* A device id is accepted (and ignored) on x86. */
	msi.flags = KVM_MSI_VALID_DEVID;
	msi.devid = 7;
	EXPECT_EQ(1, ioctl(g.vm_fd, KVM_SIGNAL_MSI, &msi));
	run_io(_metadata, &g, 0x83);
	EXPECT_EQ(0x20051, PIO_U32(&g));
	vm_destroy(&g);
}

/*
 * Split irqchip: GSI 7 of userspace's IOAPIC as a level MSI; its EOI
 * exits with KVM_EXIT_IOAPIC_EOI before the guest goes on.
 */
TEST(split_irqchip_ioapic_eoi_exit)
{
	struct kvm_enable_cap split = { .cap = KVM_CAP_SPLIT_IRQCHIP,
					.args = { 24 } };
	struct irq_regs ir = { .setup = setup_svr, .eoi_mode = 2 };
	struct routing8 r;
	struct mvm_guest g;

	vm_create(&g, false);
	ASSERT_EQ(0, vm_ioctl_errno(g.vm_fd, KVM_ENABLE_CAP, &split));
	route_msi(&r.e[0], 7, 0xfee00000, 0x57 | (1 << 15) | (1 << 14));
	route_msi(&r.e[1], 30, 0xfee00000, 0x51 | (1 << 15) | (1 << 14));
	ASSERT_EQ(0, set_routing(&g, &r, 2));
	guest_irq_start(_metadata, &g, &ir);
	run_io(_metadata, &g, 0x80);

	EXPECT_EQ(-1, irq_line_status(&g, 7, 0));	/* an MSI has no low */
	EXPECT_EQ(1, irq_line_status(&g, 7, 1));
	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	ASSERT_EQ(KVM_EXIT_IOAPIC_EOI, g.run->exit_reason)
		TH_LOG("exit %u", g.run->exit_reason);
	EXPECT_EQ(0x57, g.run->eoi.vector);
	run_io(_metadata, &g, 0x83);
	EXPECT_EQ(0x10057, PIO_U32(&g));

	/* GSI 30 is not one of userspace's IOAPIC pins: no exit. */
	EXPECT_EQ(1, irq_line_status(&g, 30, 1));
	run_io(_metadata, &g, 0x83);
	EXPECT_EQ(0x20051, PIO_U32(&g));
	vm_destroy(&g);
}

/* Split irqchip: KVM_INTERRUPT is userspace's PIC's ExtINT, one at a time. */
TEST(split_irqchip_extint)
{
	struct kvm_enable_cap split = { .cap = KVM_CAP_SPLIT_IRQCHIP,
					.args = { 24 } };
	struct irq_regs ir = { .setup = setup_none, .eoi_mode = 3 };
	struct kvm_interrupt intr = { .irq = 0x60 };
	struct mvm_guest g;

	vm_create(&g, false);
	ASSERT_EQ(0, vm_ioctl_errno(g.vm_fd, KVM_ENABLE_CAP, &split));
	guest_irq_start(_metadata, &g, &ir);
	EXPECT_EQ(0, ioctl(g.vcpu_fd, KVM_INTERRUPT, &intr));
	EXPECT_EQ(-1, ioctl(g.vcpu_fd, KVM_INTERRUPT, &intr));
	EXPECT_EQ(EEXIST, errno);
	run_io(_metadata, &g, 0x80);
	run_io(_metadata, &g, 0x83);
	EXPECT_EQ(0x10060, PIO_U32(&g));
	EXPECT_EQ(0, ioctl(g.vcpu_fd, KVM_INTERRUPT, &intr));
	run_io(_metadata, &g, 0x83);
	EXPECT_EQ(0x20060, PIO_U32(&g));
	vm_destroy(&g);
}

TEST_HARNESS_MAIN
