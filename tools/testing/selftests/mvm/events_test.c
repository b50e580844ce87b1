// SPDX-License-Identifier: GPL-2.0
/*
 * Event injection with the interrupt controller in userspace, as QEMU's
 * kernel-irqchip=off uses it: KVM_INTERRUPT, request_interrupt_window and
 * KVM_EXIT_IRQ_WINDOW_OPEN, ready_for_interrupt_injection and if_flag,
 * the STI and MOV SS interrupt shadows, KVM_NMI and the NMI window, an
 * event re-injected after a nested page fault during its delivery,
 * exceptions set with KVM_SET_VCPU_EVENTS (error code, CR2, #DF and
 * triple fault), and the KVM_GET/SET_VCPU_EVENTS state itself.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

#define PIO_DATA(g)	((uint8_t *)(g)->run + (g)->run->io.data_offset)
#define PIO_U32(g)	(*(uint32_t *)PIO_DATA(g))

/* 128 gates at GPA 0: below the GDT at 0x800. */
#define IDT_LIMIT_128	(128 * 16 - 1)
#define IRQ_VECTOR	0x30

#define SHADOW_MOV_SS	0x01	/* KVM_X86_SHADOW_INT_MOV_SS */
#define SHADOW_STI	0x02	/* KVM_X86_SHADOW_INT_STI */

#define HANDLER(blob, label)	(GUEST_CODE + ((label) - blob##_start))

static void set_idt(struct mvm_guest *g, uint64_t base, uint16_t limit)
{
	struct kvm_sregs s;

	if (ioctl(g->vcpu_fd, KVM_GET_SREGS, &s))
		abort();
	s.idt.base = base;
	s.idt.limit = limit;
	if (ioctl(g->vcpu_fd, KVM_SET_SREGS, &s))
		abort();
}

/* A 64-bit interrupt gate, CS 0x08, in the table at @idt. */
static void write_gate(uint8_t *idt, int vector, uint64_t handler)
{
	uint64_t *gate = (uint64_t *)(idt + vector * 16);

	gate[0] = (handler & 0xffff) | (0x8ULL << 16) | (0x8eULL << 40) |
		  ((handler >> 16) & 0xffff) << 48;
	gate[1] = handler >> 32;
}

static void ev_guest(struct mvm_guest *g, const uint8_t *start, size_t len)
{
	guest_create(g, 1 << 21);
	guest_load(g, GUEST_CODE, start, len);
	guest_set_long_mode(g, g->vcpu_fd, GUEST_CODE);
	set_idt(g, GUEST_IDT, IDT_LIMIT_128);
}

static void run_expect(struct __test_metadata *_metadata,
		       struct mvm_guest *g, uint32_t reason)
{
	ASSERT_EQ(0, guest_run(g->vcpu_fd));
	ASSERT_EQ(reason, g->run->exit_reason)
		TH_LOG("exit %u (io port 0x%x), want %u", g->run->exit_reason,
		       g->run->io.port, reason);
}

static void run_expect_io(struct __test_metadata *_metadata,
			  struct mvm_guest *g, int port)
{
	run_expect(_metadata, g, KVM_EXIT_IO);
	ASSERT_EQ(port, g->run->io.port);
}

static int kvm_interrupt(struct mvm_guest *g, uint32_t irq)
{
	struct kvm_interrupt i = { .irq = irq };

	return ioctl(g->vcpu_fd, KVM_INTERRUPT, &i) ? -errno : 0;
}

static void get_events(struct __test_metadata *_metadata,
		       struct mvm_guest *g, struct kvm_vcpu_events *ev)
{
	memset(ev, 0xaa, sizeof(*ev));
	ASSERT_EQ(0, ioctl(g->vcpu_fd, KVM_GET_VCPU_EVENTS, ev));
}

/* ------------------------------------------------------------------ */

/*
 * IF=0: no window.  Once STI has run and its shadow is over, a requested
 * window exits with KVM_EXIT_IRQ_WINDOW_OPEN, and the interrupt userspace
 * then queues is taken at once.
 */
GUEST_CODE_BLOB(g_irqwin, ".code64",
	"cli\n"
	"xor %r8d, %r8d\n"
	"out %al, $0x80\n"
	"sti\n"
	"1: test %r8d, %r8d\n jz 1b\n"
	"out %al, $0x82\n"
	"hlt\n"
	"irqwin_irq: mov $1, %r8d\n mov $0x30, %eax\n out %eax, $0x83\n iretq\n");
extern const uint8_t irqwin_irq[];

TEST(irq_window_opens_when_if_set)
{
	struct mvm_guest g;

	ev_guest(&g, g_irqwin_start, BLOB_LEN(g_irqwin));
	write_gate(g.mem + GUEST_IDT, IRQ_VECTOR, HANDLER(g_irqwin, irqwin_irq));

	run_expect_io(_metadata, &g, 0x80);
	EXPECT_EQ(0, g.run->if_flag);
	EXPECT_EQ(0, g.run->ready_for_interrupt_injection);

	g.run->request_interrupt_window = 1;
	run_expect(_metadata, &g, KVM_EXIT_IRQ_WINDOW_OPEN);
	EXPECT_EQ(1, g.run->if_flag);
	EXPECT_EQ(1, g.run->ready_for_interrupt_injection);

	ASSERT_EQ(0, kvm_interrupt(&g, IRQ_VECTOR));
	g.run->request_interrupt_window = 0;
	run_expect_io(_metadata, &g, 0x83);
	ASSERT_EQ(0x30, PIO_U32(&g));
	run_expect_io(_metadata, &g, 0x82);
	run_expect(_metadata, &g, KVM_EXIT_HLT);
	guest_destroy(&g);
}

/*
 * An exit inside the STI shadow and one inside the MOV SS shadow: the
 * window stays shut (no IRQ_WINDOW_OPEN, not ready) until the
 * instruction in the shadow has completed.
 */
GUEST_CODE_BLOB(g_shadow, ".code64",
	"cli\n"
	"xor %r8d, %r8d\n"
	"out %al, $0x80\n"
	"sti\n"
	"out %al, $0x81\n"		/* in the STI shadow */
	"1: test %r8d, %r8d\n jz 1b\n"
	"out %al, $0x82\n"
	"xor %r8d, %r8d\n"
	"mov %ss, %ecx\n mov %ecx, %ss\n"
	"out %al, $0x84\n"		/* in the MOV SS shadow */
	"2: test %r8d, %r8d\n jz 2b\n"
	"out %al, $0x85\n"
	"hlt\n"
	"shadow_irq: mov $1, %r8d\n out %al, $0x83\n iretq\n");
extern const uint8_t shadow_irq[];

TEST(no_injection_in_shadow)
{
	struct kvm_vcpu_events ev;
	struct mvm_guest g;

	ev_guest(&g, g_shadow_start, BLOB_LEN(g_shadow));
	write_gate(g.mem + GUEST_IDT, IRQ_VECTOR, HANDLER(g_shadow, shadow_irq));

	run_expect_io(_metadata, &g, 0x80);
	g.run->request_interrupt_window = 1;
	run_expect_io(_metadata, &g, 0x81);
	EXPECT_EQ(1, g.run->if_flag);
	EXPECT_EQ(0, g.run->ready_for_interrupt_injection);
	get_events(_metadata, &g, &ev);
	EXPECT_TRUE(ev.flags & KVM_VCPUEVENT_VALID_SHADOW);
	EXPECT_TRUE(ev.interrupt.shadow & SHADOW_STI)
		TH_LOG("shadow 0x%x", ev.interrupt.shadow);

	run_expect(_metadata, &g, KVM_EXIT_IRQ_WINDOW_OPEN);
	ASSERT_EQ(0, kvm_interrupt(&g, IRQ_VECTOR));
	g.run->request_interrupt_window = 0;
	run_expect_io(_metadata, &g, 0x83);
	run_expect_io(_metadata, &g, 0x82);

	run_expect_io(_metadata, &g, 0x84);
	EXPECT_EQ(1, g.run->if_flag);
	EXPECT_EQ(0, g.run->ready_for_interrupt_injection);
	get_events(_metadata, &g, &ev);
	EXPECT_TRUE(ev.interrupt.shadow & SHADOW_MOV_SS)
		TH_LOG("shadow 0x%x", ev.interrupt.shadow);
	g.run->request_interrupt_window = 1;
	run_expect(_metadata, &g, KVM_EXIT_IRQ_WINDOW_OPEN);
	ASSERT_EQ(0, kvm_interrupt(&g, IRQ_VECTOR));
	g.run->request_interrupt_window = 0;
	run_expect_io(_metadata, &g, 0x83);
	run_expect_io(_metadata, &g, 0x85);
	run_expect(_metadata, &g, KVM_EXIT_HLT);
	guest_destroy(&g);
}

/*
 * KVM_NMI while the guest is in its NMI handler: the NMI stays pending,
 * NMIs masked, until the handler's IRET, and is delivered right after
 * it (never nested).  RFLAGS.IF does not matter for NMIs.
 */
GUEST_CODE_BLOB(g_nmi, ".code64",
	"cli\n"
	"xor %r9d, %r9d\n"
	"out %al, $0x80\n"
	"out %al, $0x86\n"
	"hlt\n"
	"nmi_handler: inc %r9d\n mov %r9d, %eax\n out %eax, $0x90\n"
	"out %eax, $0x91\n dec %r9d\n iretq\n");
extern const uint8_t nmi_handler[];

TEST(nmi_window)
{
	struct kvm_vcpu_events ev;
	struct mvm_guest g;

	ev_guest(&g, g_nmi_start, BLOB_LEN(g_nmi));
	write_gate(g.mem + GUEST_IDT, 2, HANDLER(g_nmi, nmi_handler));

	run_expect_io(_metadata, &g, 0x80);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_NMI));
	run_expect_io(_metadata, &g, 0x90);
	ASSERT_EQ(1, PIO_U32(&g));

	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_NMI));
	get_events(_metadata, &g, &ev);
	EXPECT_EQ(1, ev.nmi.masked);
	EXPECT_EQ(1, ev.nmi.pending);
	EXPECT_EQ(0, ev.nmi.injected);

	run_expect_io(_metadata, &g, 0x91);	/* not nested */
	run_expect_io(_metadata, &g, 0x90);	/* after the IRET */
	ASSERT_EQ(1, PIO_U32(&g));
	run_expect_io(_metadata, &g, 0x91);
	run_expect_io(_metadata, &g, 0x86);
	get_events(_metadata, &g, &ev);
	EXPECT_EQ(0, ev.nmi.masked);
	EXPECT_EQ(0, ev.nmi.pending);
	run_expect(_metadata, &g, KVM_EXIT_HLT);
	guest_destroy(&g);
}

/*
 * The IDT and every stack are in memslots the guest has never touched,
 * so delivering each event takes nested page faults on the gate and on
 * the pushes: an external interrupt, a #GP, an NMI, INT n and INT3 must
 * still arrive exactly once, the #GP with its error code, INT n and INT3
 * returning past the instruction.
 */
#define REINJ_IDT	0x200000UL
#define REINJ_STACK_A	0x300000UL
#define REINJ_STACK_B	0x400000UL
#define REINJ_STACK_C	0x500000UL
#define REINJ_STACK_D	0x600000UL
#define REINJ_STACK_E	0x700000UL

GUEST_CODE_BLOB(g_reinj, ".code64",
	"xor %r8d, %r8d\n xor %r10d, %r10d\n"
	"sti\n"
	"out %al, $0x80\n"
	"1: test %r8d, %r8d\n jz 1b\n"
	"mov $0x401000, %rsp\n"
	"mov $0x28, %eax\n"
	"mov %eax, %ds\n"		/* beyond the GDT limit: #GP(0x28) */
	"out %al, $0x86\n"
	"xor %r11d, %r11d\n xor %r12d, %r12d\n xor %r13d, %r13d\n"
	"mov $0x501000, %rsp\n"
	"out %al, $0x89\n"		/* the VMM sends an NMI */
	"2: test %r11d, %r11d\n jz 2b\n"
	"mov $0x601000, %rsp\n"
	"int $0x31\n"
	"reinj_after_int: mov $0x701000, %rsp\n"
	"int3\n"
	"reinj_after_bp: out %al, $0x8a\n"
	"hlt\n"
	"reinj_nmi: inc %r11d\n mov %rsp, %rax\n out %eax, $0x8b\n"
	"mov %r11d, %eax\n out %eax, $0x8c\n iretq\n"
	"reinj_int: inc %r12d\n mov (%rsp), %rax\n out %eax, $0x8d\n"
	"mov %r12d, %eax\n out %eax, $0x8e\n iretq\n"
	"reinj_bp: inc %r13d\n mov (%rsp), %rax\n out %eax, $0x8f\n"
	"mov %r13d, %eax\n out %eax, $0x90\n iretq\n"
	"reinj_irq: inc %r8d\n mov %rsp, %rax\n out %eax, $0x83\n"
	"mov %r8d, %eax\n out %eax, $0x84\n iretq\n"
	"reinj_gp: inc %r10d\n pop %rax\n out %eax, $0x85\n"
	"mov %rsp, %rax\n out %eax, $0x87\n"
	"mov %r10d, %eax\n out %eax, $0x88\n"
	"addq $2, (%rsp)\n iretq\n");
extern const uint8_t reinj_irq[], reinj_gp[], reinj_nmi[], reinj_int[],
	reinj_bp[], reinj_after_int[], reinj_after_bp[];

static uint8_t *add_slot(struct __test_metadata *_metadata,
			 struct mvm_guest *g, int slot, uint64_t gpa)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .guest_phys_addr = gpa, .memory_size = 0x1000,
	};
	uint8_t *mem = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	EXPECT_NE(MAP_FAILED, mem);
	r.userspace_addr = (uintptr_t)mem;
	EXPECT_EQ(0, ioctl(g->vm_fd, KVM_SET_USER_MEMORY_REGION, &r));
	return mem;
}

TEST(reinject_after_npf_in_delivery)
{
	struct kvm_regs regs;
	struct mvm_guest g;
	uint8_t *idt;

	ev_guest(&g, g_reinj_start, BLOB_LEN(g_reinj));
	idt = add_slot(_metadata, &g, 1, REINJ_IDT);
	add_slot(_metadata, &g, 2, REINJ_STACK_A);
	add_slot(_metadata, &g, 3, REINJ_STACK_B);
	add_slot(_metadata, &g, 4, REINJ_STACK_C);
	add_slot(_metadata, &g, 5, REINJ_STACK_D);
	add_slot(_metadata, &g, 6, REINJ_STACK_E);
	write_gate(idt, IRQ_VECTOR, HANDLER(g_reinj, reinj_irq));
	write_gate(idt, 13, HANDLER(g_reinj, reinj_gp));
	write_gate(idt, 2, HANDLER(g_reinj, reinj_nmi));
	write_gate(idt, 0x31, HANDLER(g_reinj, reinj_int));
	write_gate(idt, 3, HANDLER(g_reinj, reinj_bp));
	set_idt(&g, REINJ_IDT, IDT_LIMIT_128);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_REGS, &regs));
	regs.rsp = REINJ_STACK_A + 0x1000;
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_REGS, &regs));

	run_expect_io(_metadata, &g, 0x80);
	ASSERT_EQ(0, kvm_interrupt(&g, IRQ_VECTOR));
	run_expect_io(_metadata, &g, 0x83);
	ASSERT_EQ(REINJ_STACK_A + 0x1000 - 40, PIO_U32(&g));
	run_expect_io(_metadata, &g, 0x84);
	ASSERT_EQ(1, PIO_U32(&g));

	run_expect_io(_metadata, &g, 0x85);
	ASSERT_EQ(0x28, PIO_U32(&g));
	run_expect_io(_metadata, &g, 0x87);
	ASSERT_EQ(REINJ_STACK_B + 0x1000 - 40, PIO_U32(&g));
	run_expect_io(_metadata, &g, 0x88);
	ASSERT_EQ(1, PIO_U32(&g));
	run_expect_io(_metadata, &g, 0x86);

	run_expect_io(_metadata, &g, 0x89);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_NMI));
	run_expect_io(_metadata, &g, 0x8b);
	ASSERT_EQ(REINJ_STACK_C + 0x1000 - 40, PIO_U32(&g));
	run_expect_io(_metadata, &g, 0x8c);
	ASSERT_EQ(1, PIO_U32(&g));

	run_expect_io(_metadata, &g, 0x8d);
	ASSERT_EQ(HANDLER(g_reinj, reinj_after_int), PIO_U32(&g));
	run_expect_io(_metadata, &g, 0x8e);
	ASSERT_EQ(1, PIO_U32(&g));
	run_expect_io(_metadata, &g, 0x8f);
	ASSERT_EQ(HANDLER(g_reinj, reinj_after_bp), PIO_U32(&g));
	run_expect_io(_metadata, &g, 0x90);
	ASSERT_EQ(1, PIO_U32(&g));
	run_expect_io(_metadata, &g, 0x8a);
	run_expect(_metadata, &g, KVM_EXIT_HLT);
	guest_destroy(&g);
}

/*
 * A #PF set by userspace (KVM_SET_SREGS for CR2, KVM_SET_VCPU_EVENTS for
 * the exception) arrives with its error code, CR2 and the RIP of the
 * next instruction (the OUT that exited was completed first).
 */
GUEST_CODE_BLOB(g_pf, ".code64",
	"out %al, $0x80\n"
	"hlt\n"
	"pf_handler: mov %cr2, %rax\n out %eax, $0x81\n"
	"pop %rax\n out %eax, $0x82\n"
	"mov (%rsp), %rax\n out %eax, $0x83\n hlt\n");
extern const uint8_t pf_handler[];

TEST(exception_with_error_code_and_cr2)
{
	struct kvm_vcpu_events ev;
	struct kvm_sregs s;
	struct mvm_guest g;

	ev_guest(&g, g_pf_start, BLOB_LEN(g_pf));
	write_gate(g.mem + GUEST_IDT, 14, HANDLER(g_pf, pf_handler));
	run_expect_io(_metadata, &g, 0x80);

	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_SREGS, &s));
	s.cr2 = 0xdead000;
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_SREGS, &s));
	get_events(_metadata, &g, &ev);
	ev.flags = 0;
	ev.exception.injected = 1;
	ev.exception.nr = 14;
	ev.exception.has_error_code = 1;
	ev.exception.error_code = 0x6;
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_VCPU_EVENTS, &ev));
	get_events(_metadata, &g, &ev);
	EXPECT_EQ(1, ev.exception.injected);
	EXPECT_EQ(14, ev.exception.nr);
	EXPECT_EQ(1, ev.exception.has_error_code);
	EXPECT_EQ(0x6, ev.exception.error_code);

	run_expect_io(_metadata, &g, 0x81);
	ASSERT_EQ(0xdead000, PIO_U32(&g));
	run_expect_io(_metadata, &g, 0x82);
	ASSERT_EQ(0x6, PIO_U32(&g));
	run_expect_io(_metadata, &g, 0x83);
	ASSERT_EQ(GUEST_CODE + 2, PIO_U32(&g));
	run_expect(_metadata, &g, KVM_EXIT_HLT);
	get_events(_metadata, &g, &ev);
	EXPECT_EQ(0, ev.exception.injected);
	guest_destroy(&g);
}

/*
 * An injected #GP, then #PF, whose gate lies beyond the IDT limit: the
 * delivery raises #GP, a double fault (SDM vol. 3A table 6-5), delivered
 * through gate 8 with error code 0; with no gate 8 either, a triple
 * fault: KVM_EXIT_SHUTDOWN.
 */
GUEST_CODE_BLOB(g_df, ".code64",
	"out %al, $0x80\n"
	"hlt\n"
	"df_handler: pop %rax\n out %eax, $0x88\n hlt\n");
extern const uint8_t df_handler[];

static void inject_exception(struct __test_metadata *_metadata,
			     struct mvm_guest *g, int nr, uint32_t error_code)
{
	struct kvm_vcpu_events ev;

	get_events(_metadata, g, &ev);
	ev.flags = 0;
	ev.exception.injected = 1;
	ev.exception.nr = nr;
	ev.exception.has_error_code = 1;
	ev.exception.error_code = error_code;
	ASSERT_EQ(0, ioctl(g->vcpu_fd, KVM_SET_VCPU_EVENTS, &ev));
}

TEST(double_and_triple_fault)
{
	static const int vectors[] = { 13, 14 };
	struct mvm_guest g;
	int i;

	for (i = 0; i < 2; i++) {
		ev_guest(&g, g_df_start, BLOB_LEN(g_df));
		write_gate(g.mem + GUEST_IDT, 8, HANDLER(g_df, df_handler));
		set_idt(&g, GUEST_IDT, 9 * 16 - 1);
		run_expect_io(_metadata, &g, 0x80);
		inject_exception(_metadata, &g, vectors[i], 0);
		run_expect_io(_metadata, &g, 0x88);
		ASSERT_EQ(0, PIO_U32(&g)) TH_LOG("vector %d", vectors[i]);
		guest_destroy(&g);
	}

	ev_guest(&g, g_df_start, BLOB_LEN(g_df));
	set_idt(&g, GUEST_IDT, 0);
	run_expect_io(_metadata, &g, 0x80);
	inject_exception(_metadata, &g, 13, 0);
	run_expect(_metadata, &g, KVM_EXIT_SHUTDOWN);
	guest_destroy(&g);
}

/*
 * KVM_INTERRUPT while RFLAGS.IF=0, which a VMM should not do (it is not
 * ready_for_interrupt_injection): KVM queues the vector as injected and
 * the hardware decides.  AMD-V delivers it regardless of IF (APM 15.20);
 * VT-x refuses the entry (SDM 26.3.1.4: IF must be 1 to inject an
 * external interrupt), which KVM reports as KVM_EXIT_FAIL_ENTRY.
 */
GUEST_CODE_BLOB(g_if0, ".code64",
	"cli\n"
	"out %al, $0x80\n"
	"out %al, $0x81\n"
	"hlt\n"
	"if0_irq: pushfq\n pop %rax\n out %eax, $0x83\n iretq\n");
extern const uint8_t if0_irq[];

TEST(interrupt_while_if_clear)
{
	struct mvm_guest g;

	ev_guest(&g, g_if0_start, BLOB_LEN(g_if0));
	write_gate(g.mem + GUEST_IDT, IRQ_VECTOR, HANDLER(g_if0, if0_irq));
	run_expect_io(_metadata, &g, 0x80);
	EXPECT_EQ(0, g.run->ready_for_interrupt_injection);
	ASSERT_EQ(0, kvm_interrupt(&g, IRQ_VECTOR));
	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	if (mvm_cpu_is_amd()) {
		ASSERT_EQ(KVM_EXIT_IO, g.run->exit_reason);
		ASSERT_EQ(0x83, g.run->io.port);
		run_expect_io(_metadata, &g, 0x81);
		run_expect(_metadata, &g, KVM_EXIT_HLT);
	} else {
		ASSERT_EQ(KVM_EXIT_FAIL_ENTRY, g.run->exit_reason)
			TH_LOG("exit %u", g.run->exit_reason);
	}
	guest_destroy(&g);
}

/* What KVM_SET_VCPU_EVENTS accepts comes back from KVM_GET_VCPU_EVENTS. */
TEST(vcpu_events_round_trip)
{
	struct kvm_vcpu_events ev, out;
	struct kvm_sregs s;
	struct mvm_guest g;

	guest_create(&g, 1 << 21);
	get_events(_metadata, &g, &ev);
	EXPECT_TRUE(ev.flags & KVM_VCPUEVENT_VALID_NMI_PENDING);
	EXPECT_TRUE(ev.flags & KVM_VCPUEVENT_VALID_SHADOW);
	EXPECT_EQ(0, ev.exception.injected);
	EXPECT_EQ(0, ev.interrupt.injected);
	EXPECT_EQ(0, ev.nmi.pending);
	EXPECT_EQ(0, ev.nmi.masked);
	EXPECT_EQ(0, ev.smi.smm);

	memset(&ev, 0, sizeof(ev));
	ev.flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW;
	ev.exception.injected = 1;
	ev.exception.nr = 13;
	ev.exception.has_error_code = 1;
	ev.exception.error_code = 0x1234;
	ev.interrupt.injected = 1;
	ev.interrupt.nr = 0x31;
	ev.interrupt.shadow = SHADOW_STI;
	ev.nmi.pending = 1;
	ev.nmi.masked = 1;
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_VCPU_EVENTS, &ev));
	get_events(_metadata, &g, &out);
	EXPECT_EQ(1, out.exception.injected);
	EXPECT_EQ(13, out.exception.nr);
	EXPECT_EQ(1, out.exception.has_error_code);
	EXPECT_EQ(0x1234, out.exception.error_code);
	EXPECT_EQ(1, out.interrupt.injected);
	EXPECT_EQ(0x31, out.interrupt.nr);
	EXPECT_TRUE(out.interrupt.shadow & SHADOW_STI);
	EXPECT_EQ(1, out.nmi.pending);
	EXPECT_EQ(1, out.nmi.masked);
	EXPECT_EQ(0, out.nmi.injected);

	/* The injected interrupt shows in KVM_GET_SREGS's bitmap. */
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_SREGS, &s));
	EXPECT_EQ(1ULL << (0x31 - 0), s.interrupt_bitmap[0]);

	/* Clearing everything (NMI pending only with its flag). */
	memset(&ev, 0, sizeof(ev));
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_VCPU_EVENTS, &ev));
	get_events(_metadata, &g, &out);
	EXPECT_EQ(0, out.exception.injected);
	EXPECT_EQ(0, out.interrupt.injected);
	EXPECT_EQ(1, out.nmi.pending);
	EXPECT_EQ(0, out.nmi.masked);
	ev.flags = KVM_VCPUEVENT_VALID_NMI_PENDING;
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_VCPU_EVENTS, &ev));
	get_events(_metadata, &g, &out);
	EXPECT_EQ(0, out.nmi.pending);

	/* KVM_SET_SREGS queues the lowest vector of its bitmap. */
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_SREGS, &s));
	s.interrupt_bitmap[1] = (1ULL << 3) | (1ULL << 9);	/* 0x43, 0x49 */
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_SREGS, &s));
	get_events(_metadata, &g, &out);
	EXPECT_EQ(1, out.interrupt.injected);
	EXPECT_EQ(0x43, out.interrupt.nr);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_SREGS, &s));
	EXPECT_EQ(0, s.interrupt_bitmap[0]);
	EXPECT_EQ(1ULL << 3, s.interrupt_bitmap[1]);

	/* What KVM refuses. */
	memset(&ev, 0, sizeof(ev));
	ev.flags = 1u << 31;
	EXPECT_EQ(-1, ioctl(g.vcpu_fd, KVM_SET_VCPU_EVENTS, &ev));
	EXPECT_EQ(EINVAL, errno);
	ev.flags = KVM_VCPUEVENT_VALID_PAYLOAD;	/* capability not enabled */
	EXPECT_EQ(-1, ioctl(g.vcpu_fd, KVM_SET_VCPU_EVENTS, &ev));
	EXPECT_EQ(EINVAL, errno);
	ev.flags = 0;
	ev.exception.injected = 1;
	ev.exception.nr = 2;			/* NMI is no exception */
	EXPECT_EQ(-1, ioctl(g.vcpu_fd, KVM_SET_VCPU_EVENTS, &ev));
	EXPECT_EQ(EINVAL, errno);
	ev.exception.nr = 32;
	EXPECT_EQ(-1, ioctl(g.vcpu_fd, KVM_SET_VCPU_EVENTS, &ev));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, kvm_interrupt(&g, 256));
	EXPECT_EQ(0, kvm_interrupt(&g, 255));
	guest_destroy(&g);
}

/* The capabilities QEMU checks before it uses these ioctls. */
TEST(capabilities)
{
	int fd = mvm_open_dev();

	EXPECT_LT(0, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_VCPU_EVENTS));
	EXPECT_LT(0, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_NMI));
	close(fd);
}

TEST_HARNESS_MAIN
