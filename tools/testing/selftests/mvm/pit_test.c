// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel 8254 PIT (KVM_CREATE_PIT2): the ioctls and their errnos,
 * KVM_GET/SET_PIT2 and KVM_GET/SET_PIT round trips, and what a guest sees
 * on ports 0x40-0x43 and 0x61: the control word, lobyte/hibyte/word
 * access, counter latch and read-back commands, the status byte, counter
 * 2's gate and OUT2 on port 0x61 (KVM_PIT_SPEAKER_DUMMY), and the counter
 * running at 1.193 MHz against the guest's TSC.  With an in-kernel irqchip
 * counter 0 interrupts the guest through the PIC and the IOAPIC.
 *
 * The guest runs a tiny interpreter of port operations the test writes to
 * its memory: the sequences run without an exit to userspace, so timing
 * between them is the emulator's, not this process's.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

#define PIT_HZ		1193182
#define PORT_CH0	0x40
#define PORT_CH2	0x42
#define PORT_CONTROL	0x43
#define PORT_SPEAKER	0x61
#define PORT_DONE	0x80	/* not the PIT's: an exit to us */

#define SPK_GATE2	0x01
#define SPK_DATA	0x02
#define SPK_OUT2	0x20

/* Control words: counter, access (1 LSB, 2 MSB, 3 LSB then MSB), mode. */
#define CW(ch, rw, mode, bcd)	((ch) << 6 | (rw) << 4 | (mode) << 1 | (bcd))
#define CW_LATCH(ch)		((ch) << 6)
/* Read-back: latch count (unless NO_COUNT) and status (unless NO_STATUS). */
#define RB_NO_COUNT		0x20
#define RB_NO_STATUS		0x10
#define RB(mask)		(0xc0 | (mask) << 1)

/* The interpreter's program and results (below 1 MiB guest memory). */
#define OPS_GPA		0x20000UL
#define RESULTS_GPA	0x30000UL
#define MAX_OPS		1024

enum {
	OP_END, OP_OUTB, OP_INB, OP_RDTSC, OP_SPIN, OP_POLL, OP_STI_WAIT,
	OP_MMIO32,
};

struct guest_op {
	uint8_t op;
	uint8_t pad;
	uint16_t port;
	uint32_t val;
	uint64_t arg;
};

/*
 * rsi: the next op, rdi: the next result.  OUTB val to port; INB port to
 * a result; RDTSC to a result; SPIN arg TSC cycles; POLL port until
 * (in & val) != 0, the cycles it took as a result (~0: arg cycles passed
 * without).  OP_STI_WAIT: interrupts on until the count at 0x9000
 * (the handlers' count) reaches val or arg cycles passed; the count as result.
 * MMIO32: val to the 32-bit word at address arg.  END: an OUT to PORT_DONE.
 */
GUEST_CODE_BLOB(g_interp, ".code64",
	"mov $0x20000, %esi\n"
	"mov $0x30000, %edi\n"
	"next: movzbl (%rsi), %eax\n"
	"movzwl 2(%rsi), %edx\n"
	"mov 4(%rsi), %ebx\n"
	"mov 8(%rsi), %rcx\n"
	"add $16, %rsi\n"
	"cmp $1, %eax\n je op_out\n"
	"cmp $2, %eax\n je op_in\n"
	"cmp $3, %eax\n je op_rdtsc\n"
	"cmp $4, %eax\n je op_spin\n"
	"cmp $5, %eax\n je op_poll\n"
	"cmp $6, %eax\n je op_sti_wait\n"
	"cmp $7, %eax\n je op_mmio\n"
	"out %al, $0x80\n"
	"jmp .\n"
	"op_out: mov %ebx, %eax\n out %al, %dx\n jmp next\n"
	"op_mmio: mov %ebx, (%rcx)\n jmp next\n"
	"op_in: xor %eax, %eax\n in %dx, %al\n"
	"store: mov %rax, (%rdi)\n add $8, %rdi\n jmp next\n"
	"op_rdtsc: rdtsc\n shl $32, %rdx\n or %rdx, %rax\n jmp store\n"
	"op_spin: rdtsc\n shl $32, %rdx\n or %rdx, %rax\n mov %rax, %r8\n"
	"1: rdtsc\n shl $32, %rdx\n or %rdx, %rax\n sub %r8, %rax\n"
	"cmp %rcx, %rax\n jb 1b\n jmp next\n"
	"op_poll: mov %edx, %r9d\n"
	"rdtsc\n shl $32, %rdx\n or %rdx, %rax\n mov %rax, %r8\n"
	"2: mov %r9d, %edx\n in %dx, %al\n test %bl, %al\n jnz 3f\n"
	"rdtsc\n shl $32, %rdx\n or %rdx, %rax\n sub %r8, %rax\n"
	"cmp %rcx, %rax\n jb 2b\n mov $-1, %rax\n jmp store\n"
	"3: rdtsc\n shl $32, %rdx\n or %rdx, %rax\n sub %r8, %rax\n"
	"jmp store\n"
	"op_sti_wait: rdtsc\n shl $32, %rdx\n or %rdx, %rax\n mov %rax, %r8\n"
	"sti\n"
	"4: mov 0x9000, %eax\n cmp %ebx, %eax\n jae 5f\n"
	"rdtsc\n shl $32, %rdx\n or %rdx, %rax\n sub %r8, %rax\n"
	"cmp %rcx, %rax\n jb 4b\n"
	"5: cli\n mov 0x9000, %eax\n jmp store\n"
	/* IRQ handlers: count, EOI to the PIC or the local APIC. */
	"pic_irq: incl 0x9000\n push %rax\n mov $0x20, %al\n out %al, $0x20\n"
	"pop %rax\n iretq\n"
	"apic_irq: incl 0x9000\n push %rax\n mov $0xfee000b0, %eax\n"
	"movl $0, (%rax)\n pop %rax\n iretq\n");
extern const uint8_t pic_irq[], apic_irq[];

struct pit_vm {
	struct mvm_guest g;
	struct guest_op *ops;
	uint64_t *results;
	int nr_ops;
	uint64_t tsc_khz;
	uint16_t idt_limit;	/* 0: none */
};

/*
 * A VM, its PIT created with @pit_flags (-1: no PIT), then a vCPU in long
 * mode running the interpreter.  @irqchip: KVM_CREATE_IRQCHIP first.
 */
/* KVM_CREATE_PIT(2) needs KVM_CREATE_IRQCHIP first since 6.12 (ENOENT). */
static bool pit_needs_pic(void)
{
	return mvm_kernel_at_least(6, 12);
}

/* A VM with the in-kernel irqchip and no vCPU (guest_destroy() works). */
static int vm_with_pic(struct mvm_guest *g)
{
	guest_create_vm(g, 1 << 20);
	g->vcpu_fd = -1;
	return ioctl(g->vm_fd, KVM_CREATE_IRQCHIP, 0);
}

static int pit_vm_create(struct pit_vm *vm, long pit_flags, bool irqchip)
{
	struct kvm_pit_config config = { .flags = pit_flags };
	struct mvm_guest *g = &vm->g;

	memset(vm, 0, sizeof(*vm));
	guest_create_vm(g, 1 << 21);
	/* Since 6.12 KVM makes a PIT only with its in-kernel PIC. */
	if (pit_needs_pic())
		irqchip = true;
	if (irqchip && ioctl(g->vm_fd, KVM_CREATE_IRQCHIP, 0))
		return -errno;
	if (pit_flags >= 0 && ioctl(g->vm_fd, KVM_CREATE_PIT2, &config))
		return -errno;
	g->vcpu_fd = guest_add_vcpu(g, 0, &g->run);
	guest_load(g, GUEST_CODE, g_interp_start, BLOB_LEN(g_interp));
	guest_set_long_mode(g, g->vcpu_fd, GUEST_CODE);
	vm->ops = (struct guest_op *)(g->mem + OPS_GPA);
	vm->results = (uint64_t *)(g->mem + RESULTS_GPA);
	vm->tsc_khz = ioctl(g->vcpu_fd, KVM_GET_TSC_KHZ);
	return 0;
}

static void op(struct pit_vm *vm, int code, int port, uint32_t val,
	       uint64_t arg)
{
	struct guest_op *o = &vm->ops[vm->nr_ops++];

	o->op = code;
	o->port = port;
	o->val = val;
	o->arg = arg;
	vm->ops[vm->nr_ops].op = OP_END;
}

static void outb(struct pit_vm *vm, int port, uint8_t val)
{
	op(vm, OP_OUTB, port, val, 0);
}

static void inb(struct pit_vm *vm, int port)
{
	op(vm, OP_INB, port, 0, 0);
}

static uint64_t ms_cycles(struct pit_vm *vm, uint64_t ms)
{
	return ms * vm->tsc_khz;
}

static void spin_ms(struct pit_vm *vm, uint64_t ms)
{
	op(vm, OP_SPIN, 0, 0, ms_cycles(vm, ms));
}

/* Counter @ch programmed: access LSB then MSB, @mode, the count. */
static void program(struct pit_vm *vm, int ch, int mode, bool bcd,
		    uint16_t count)
{
	outb(vm, PORT_CONTROL, CW(ch, 3, mode, bcd));
	outb(vm, PORT_CH0 + ch, count & 0xff);
	outb(vm, PORT_CH0 + ch, count >> 8);
}

/* Latch counter @ch and read it, LSB then MSB: two results. */
static void latch_read(struct pit_vm *vm, int ch)
{
	outb(vm, PORT_CONTROL, CW_LATCH(ch));
	inb(vm, PORT_CH0 + ch);
	inb(vm, PORT_CH0 + ch);
}

static uint16_t word(struct pit_vm *vm, int i)
{
	return vm->results[i] | vm->results[i + 1] << 8;
}

/* Run the program from its start to the END op; results from index 0. */
static void run_ops(struct __test_metadata *_metadata, struct pit_vm *vm)
{
	guest_set_long_mode(&vm->g, vm->g.vcpu_fd, GUEST_CODE);
	if (vm->idt_limit) {
		struct kvm_sregs sregs;

		ASSERT_EQ(0, ioctl(vm->g.vcpu_fd, KVM_GET_SREGS, &sregs));
		sregs.idt.base = GUEST_IDT;
		sregs.idt.limit = vm->idt_limit;
		ASSERT_EQ(0, ioctl(vm->g.vcpu_fd, KVM_SET_SREGS, &sregs));
	}
	memset(vm->results, 0xee, 8 * MAX_OPS);
	ASSERT_EQ(0, guest_run(vm->g.vcpu_fd));
	ASSERT_EQ(KVM_EXIT_IO, vm->g.run->exit_reason)
		TH_LOG("exit %u", vm->g.run->exit_reason);
	ASSERT_EQ(PORT_DONE, vm->g.run->io.port);
	vm->nr_ops = 0;
	vm->ops[0].op = OP_END;
}

static void get_pit2(struct __test_metadata *_metadata, struct pit_vm *vm,
		     struct kvm_pit_state2 *ps)
{
	memset(ps, 0xaa, sizeof(*ps));
	ASSERT_EQ(0, ioctl(vm->g.vm_fd, KVM_GET_PIT2, ps));
}

#define ASSERT_CREATED(vm, flags, irqchip)				\
	ASSERT_EQ(0, pit_vm_create(vm, flags, irqchip))

/* ------------------------------------------------------------------ */
/* ioctls                                                               */

TEST(capabilities)
{
	int fd = mvm_open_dev();

	EXPECT_EQ(1, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_PIT));
	EXPECT_EQ(1, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_PIT2));
	EXPECT_EQ(1, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_PIT_STATE2));
	EXPECT_EQ(1, ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_REINJECT_CONTROL));
	close(fd);
}

/*
 * Without a PIT every state ioctl says ENXIO; one PIT per VM (EEXIST,
 * whichever ioctl tries again); no irqchip needed until 6.1, the
 * in-kernel PIC since 6.12 (ENOENT without); creation after the vCPUs is
 * fine.
 */
TEST(create_errnos)
{
	struct kvm_reinject_control rc = { .pit_reinject = 0 };
	struct kvm_pit_config config = { .flags = 0 };
	struct kvm_pit_state2 ps2;
	struct kvm_pit_state ps;
	struct mvm_guest g;
	int pic;

	guest_create(&g, 1 << 20);
	memset(&ps, 0, sizeof(ps));
	memset(&ps2, 0, sizeof(ps2));
	EXPECT_EQ(-1, ioctl(g.vm_fd, KVM_GET_PIT2, &ps2));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, ioctl(g.vm_fd, KVM_SET_PIT2, &ps2));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, ioctl(g.vm_fd, KVM_GET_PIT, &ps));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, ioctl(g.vm_fd, KVM_SET_PIT, &ps));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, ioctl(g.vm_fd, KVM_REINJECT_CONTROL, &rc));
	EXPECT_EQ(ENXIO, errno);

	/* A bad pointer: EFAULT before the missing PIT is noticed. */
	EXPECT_EQ(-1, ioctl(g.vm_fd, KVM_SET_PIT2, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(g.vm_fd, KVM_CREATE_PIT2, (void *)8));
	EXPECT_EQ(EFAULT, errno);

	if (pit_needs_pic()) {
		EXPECT_EQ(-1, ioctl(g.vm_fd, KVM_CREATE_PIT2, &config));
		EXPECT_EQ(ENOENT, errno);
		EXPECT_EQ(-1, ioctl(g.vm_fd, KVM_CREATE_PIT));
		EXPECT_EQ(ENOENT, errno);
		/* The irqchip comes before the vCPUs: a VM without any. */
		guest_destroy(&g);
		ASSERT_EQ(0, vm_with_pic(&g));
	}
	ASSERT_EQ(0, ioctl(g.vm_fd, KVM_CREATE_PIT2, &config));
	EXPECT_EQ(-1, ioctl(g.vm_fd, KVM_CREATE_PIT2, &config));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(-1, ioctl(g.vm_fd, KVM_CREATE_PIT));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(0, ioctl(g.vm_fd, KVM_GET_PIT2, &ps2));
	EXPECT_EQ(0, ioctl(g.vm_fd, KVM_GET_PIT, &ps));
	EXPECT_EQ(0, ioctl(g.vm_fd, KVM_REINJECT_CONTROL, &rc));
	rc.pit_reinject = 1;
	EXPECT_EQ(0, ioctl(g.vm_fd, KVM_REINJECT_CONTROL, &rc));
	EXPECT_EQ(-1, ioctl(g.vm_fd, KVM_GET_PIT2, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	guest_destroy(&g);

	/* The first interface, and a VM closed with its PIT in place. */
	pic = 0;
	if (pit_needs_pic())
		pic = vm_with_pic(&g);
	else
		guest_create(&g, 1 << 20);
	ASSERT_EQ(0, pic);
	EXPECT_EQ(0, ioctl(g.vm_fd, KVM_CREATE_PIT));
	EXPECT_EQ(-1, ioctl(g.vm_fd, KVM_CREATE_PIT2, &config));
	EXPECT_EQ(EEXIST, errno);
	guest_destroy(&g);
}

/* After creation: no mode programmed, the largest count, gate 2 low. */
TEST(initial_state)
{
	struct kvm_pit_state2 ps;
	struct pit_vm vm;
	int i;

	ASSERT_CREATED(&vm, 0, false);
	get_pit2(_metadata, &vm, &ps);
	EXPECT_EQ(0, ps.flags);
	for (i = 0; i < 3; i++) {
		struct kvm_pit_channel_state *c = &ps.channels[i];

		EXPECT_EQ(0x10000, c->count) TH_LOG("channel %d", i);
		EXPECT_EQ(0xff, c->mode) TH_LOG("channel %d", i);
		EXPECT_EQ(i != 2, c->gate) TH_LOG("channel %d", i);
		EXPECT_EQ(0, c->count_latched);
		EXPECT_EQ(0, c->status_latched);
		EXPECT_EQ(0, c->rw_mode);
		EXPECT_EQ(0, c->bcd);
	}
	for (i = 0; i < 9; i++)
		EXPECT_EQ(0, ps.reserved[i]);
	guest_destroy(&vm.g);
}

/*
 * What KVM_SET_PIT2 sets KVM_GET_PIT2 returns (the flags as given), except
 * that each count is reloaded (0 reads back as 0x10000) and counters 1
 * and 2 restart from the time of the SET.  KVM_SET/GET_PIT the same
 * without the flags.
 */
TEST(state_round_trip)
{
	struct kvm_pit_state2 set, got;
	struct kvm_pit_state ps, ps_got;
	struct pit_vm vm;
	int i;

	ASSERT_CREATED(&vm, KVM_PIT_SPEAKER_DUMMY, false);
	memset(&set, 0, sizeof(set));
	for (i = 0; i < 3; i++) {
		struct kvm_pit_channel_state *c = &set.channels[i];

		c->count = i == 1 ? 0 : 1000 * (i + 1);
		c->latched_count = 0x1234 + i;
		c->count_latched = 3;
		c->status_latched = i & 1;
		c->status = 0x36;
		c->read_state = 4;
		c->write_state = 3;
		c->write_latch = 0x55;
		c->rw_mode = 3;
		c->mode = i == 2 ? 0 : 2 + i;
		c->bcd = 0;
		c->gate = 1;
	}
	set.flags = KVM_PIT_FLAGS_SPEAKER_DATA_ON;
	ASSERT_EQ(0, ioctl(vm.g.vm_fd, KVM_SET_PIT2, &set));
	get_pit2(_metadata, &vm, &got);
	EXPECT_EQ(set.flags, got.flags);
	for (i = 0; i < 9; i++)
		EXPECT_EQ(0, got.reserved[i]);
	for (i = 0; i < 3; i++) {
		struct kvm_pit_channel_state *s = &set.channels[i];
		struct kvm_pit_channel_state *c = &got.channels[i];

		EXPECT_EQ(s->count ? s->count : 0x10000, c->count);
		EXPECT_EQ(s->latched_count, c->latched_count);
		EXPECT_EQ(s->count_latched, c->count_latched);
		EXPECT_EQ(s->status_latched, c->status_latched);
		EXPECT_EQ(s->status, c->status);
		EXPECT_EQ(s->read_state, c->read_state);
		EXPECT_EQ(s->write_state, c->write_state);
		EXPECT_EQ(s->write_latch, c->write_latch);
		EXPECT_EQ(s->rw_mode, c->rw_mode);
		EXPECT_EQ(s->mode, c->mode);
		EXPECT_EQ(s->bcd, c->bcd);
		EXPECT_EQ(s->gate, c->gate);
	}

	/* HPET legacy mode is a flag like the others. */
	set.flags = KVM_PIT_FLAGS_HPET_LEGACY;
	ASSERT_EQ(0, ioctl(vm.g.vm_fd, KVM_SET_PIT2, &set));
	get_pit2(_metadata, &vm, &got);
	EXPECT_EQ(KVM_PIT_FLAGS_HPET_LEGACY, got.flags);
	set.flags = 0;
	ASSERT_EQ(0, ioctl(vm.g.vm_fd, KVM_SET_PIT2, &set));
	get_pit2(_metadata, &vm, &got);
	EXPECT_EQ(0, got.flags);

	/* The old interface: the channels only. */
	memcpy(ps.channels, set.channels, sizeof(ps.channels));
	ps.channels[0].count = 0x4321;
	ps.channels[0].mode = 0;
	ASSERT_EQ(0, ioctl(vm.g.vm_fd, KVM_SET_PIT, &ps));
	memset(&ps_got, 0xaa, sizeof(ps_got));
	ASSERT_EQ(0, ioctl(vm.g.vm_fd, KVM_GET_PIT, &ps_got));
	EXPECT_EQ(0x4321, ps_got.channels[0].count);
	EXPECT_EQ(0, ps_got.channels[0].mode);
	EXPECT_EQ(0x10000, ps_got.channels[1].count);
	EXPECT_EQ(3000, ps_got.channels[2].count);
	EXPECT_EQ(0x1234, ps_got.channels[0].latched_count);
	guest_destroy(&vm.g);
}

/* ------------------------------------------------------------------ */
/* Ports                                                                */

/*
 * The control word sets access, mode (6 and 7 are 2 and 3) and BCD; the
 * count written LSB only, MSB only, or LSB then MSB.  Checked both in
 * KVM_GET_PIT2 and in the status byte the read-back command latches.
 */
TEST(control_word_and_access)
{
	struct kvm_pit_state2 ps;
	struct pit_vm vm;

	ASSERT_CREATED(&vm, 0, false);

	/* LSB then MSB, mode 0; the first byte waits in write_latch. */
	outb(&vm, PORT_CONTROL, CW(2, 3, 0, 0));
	outb(&vm, PORT_CH2, 0x34);
	run_ops(_metadata, &vm);
	get_pit2(_metadata, &vm, &ps);
	EXPECT_EQ(0, ps.channels[2].mode);
	EXPECT_EQ(3, ps.channels[2].rw_mode);
	EXPECT_EQ(4, ps.channels[2].write_state);	/* MSB next */
	EXPECT_EQ(0x34, ps.channels[2].write_latch);
	EXPECT_EQ(0x10000, ps.channels[2].count);	/* not loaded yet */
	outb(&vm, PORT_CH2, 0x12);
	run_ops(_metadata, &vm);
	get_pit2(_metadata, &vm, &ps);
	EXPECT_EQ(0x1234, ps.channels[2].count);
	EXPECT_EQ(3, ps.channels[2].write_state);

	/* LSB only; MSB only; mode 6 is mode 2, mode 7 mode 3. */
	outb(&vm, PORT_CONTROL, CW(2, 1, 6, 0));
	outb(&vm, PORT_CH2, 0x80);
	run_ops(_metadata, &vm);
	get_pit2(_metadata, &vm, &ps);
	EXPECT_EQ(0x80, ps.channels[2].count);
	EXPECT_EQ(2, ps.channels[2].mode);
	EXPECT_EQ(1, ps.channels[2].rw_mode);
	outb(&vm, PORT_CONTROL, CW(1, 2, 7, 0));
	outb(&vm, PORT_CH0 + 1, 0x12);
	run_ops(_metadata, &vm);
	get_pit2(_metadata, &vm, &ps);
	EXPECT_EQ(0x1200, ps.channels[1].count);
	EXPECT_EQ(3, ps.channels[1].mode);
	EXPECT_EQ(2, ps.channels[1].rw_mode);

	/* Count 0 is the largest; BCD is kept. */
	outb(&vm, PORT_CONTROL, CW(2, 3, 4, 1));
	outb(&vm, PORT_CH2, 0);
	outb(&vm, PORT_CH2, 0);
	run_ops(_metadata, &vm);
	get_pit2(_metadata, &vm, &ps);
	EXPECT_EQ(0x10000, ps.channels[2].count);
	EXPECT_EQ(4, ps.channels[2].mode);
	EXPECT_EQ(1, ps.channels[2].bcd);

	/* Status bytes (bit 7 is OUT, bit 6 NULL COUNT: not compared). */
	outb(&vm, PORT_CONTROL, CW(2, 3, 0, 1));
	outb(&vm, PORT_CONTROL, RB(4) | RB_NO_COUNT);
	inb(&vm, PORT_CH2);
	outb(&vm, PORT_CONTROL, CW(1, 1, 3, 0));
	outb(&vm, PORT_CONTROL, CW(0, 2, 2, 0));
	outb(&vm, PORT_CONTROL, RB(3) | RB_NO_COUNT);
	inb(&vm, PORT_CH0 + 1);
	inb(&vm, PORT_CH0);
	run_ops(_metadata, &vm);
	EXPECT_EQ(0x31, vm.results[0] & 0x3f);
	EXPECT_EQ(0x16, vm.results[1] & 0x3f);
	EXPECT_EQ(0x24, vm.results[2] & 0x3f);

	/* A read of the control port does not disturb anything. */
	inb(&vm, PORT_CONTROL);
	run_ops(_metadata, &vm);
	get_pit2(_metadata, &vm, &ps);
	EXPECT_EQ(0, ps.channels[2].status_latched);
	EXPECT_EQ(0, ps.channels[2].count_latched);
	guest_destroy(&vm.g);
}

/*
 * The counter latch command holds the count until it is read, however
 * long that takes, and a second latch command before the read changes
 * nothing; the read-back command latches status and count together, the
 * status reads first.  Word access alternates LSB and MSB.
 */
TEST(latch_and_read_back)
{
	struct kvm_pit_state2 ps;
	struct pit_vm vm;
	uint16_t held, now;
	int try;

	ASSERT_CREATED(&vm, 0, false);
	ASSERT_LT(0, vm.tsc_khz);

	/*
	 * Mode 0 from 0xffff: 55 ms before the count wraps.  Latched, 5 ms
	 * spent, latched again (ignored): the value read is 5 ms older
	 * (about 5966 counts) than one latched now.  A host that stalled the
	 * guest long enough to wrap gets another try.
	 */
	for (try = 0; try < 5; try++) {
		program(&vm, 2, 0, false, 0xffff);
		outb(&vm, PORT_CONTROL, CW_LATCH(2));
		spin_ms(&vm, 5);
		latch_read(&vm, 2);
		latch_read(&vm, 2);
		run_ops(_metadata, &vm);
		held = word(&vm, 0);
		now = word(&vm, 2);
		if (held > now)
			break;
	}
	EXPECT_GT(held, now);
	EXPECT_LE(4000, held - now) TH_LOG("held %u now %u", held, now);

	/* Latched and left unread: the state says so. */
	outb(&vm, PORT_CONTROL, CW_LATCH(2));
	run_ops(_metadata, &vm);
	get_pit2(_metadata, &vm, &ps);
	EXPECT_EQ(3, ps.channels[2].count_latched);
	inb(&vm, PORT_CH2);
	run_ops(_metadata, &vm);
	get_pit2(_metadata, &vm, &ps);
	EXPECT_EQ(2, ps.channels[2].count_latched);	/* MSB left */
	inb(&vm, PORT_CH2);
	run_ops(_metadata, &vm);
	get_pit2(_metadata, &vm, &ps);
	EXPECT_EQ(0, ps.channels[2].count_latched);

	/* Read-back of count and status: status, LSB, MSB. */
	program(&vm, 2, 2, false, 0x5000);
	outb(&vm, PORT_CONTROL, RB(4));
	inb(&vm, PORT_CH2);
	inb(&vm, PORT_CH2);
	inb(&vm, PORT_CH2);
	run_ops(_metadata, &vm);
	EXPECT_EQ(0x34, vm.results[0] & 0x3f);
	EXPECT_GE(0x5000, word(&vm, 1));
	EXPECT_LT(0, word(&vm, 1));

	/* Count only, no status; then a live word read flips LSB/MSB. */
	outb(&vm, PORT_CONTROL, RB(4) | RB_NO_STATUS);
	run_ops(_metadata, &vm);
	get_pit2(_metadata, &vm, &ps);
	EXPECT_EQ(0, ps.channels[2].status_latched);
	EXPECT_EQ(3, ps.channels[2].count_latched);
	inb(&vm, PORT_CH2);
	inb(&vm, PORT_CH2);
	inb(&vm, PORT_CH2);
	run_ops(_metadata, &vm);
	get_pit2(_metadata, &vm, &ps);
	EXPECT_EQ(0, ps.channels[2].count_latched);
	EXPECT_EQ(4, ps.channels[2].read_state);	/* MSB next */

	/* Status only, of two counters at once. */
	outb(&vm, PORT_CONTROL, CW(1, 1, 3, 0));
	outb(&vm, PORT_CONTROL, RB(6) | RB_NO_COUNT);
	run_ops(_metadata, &vm);
	get_pit2(_metadata, &vm, &ps);
	EXPECT_EQ(0, ps.channels[0].status_latched);
	EXPECT_EQ(1, ps.channels[1].status_latched);
	EXPECT_EQ(1, ps.channels[2].status_latched);
	EXPECT_EQ(0x16, ps.channels[1].status & 0x3f);
	EXPECT_EQ(0, ps.channels[1].count_latched);
	guest_destroy(&vm.g);
}

static bool is_bcd(uint16_t v)
{
	int i;

	for (i = 0; i < 16; i += 4)
		if (((v >> i) & 0xf) > 9)
			return false;
	return true;
}

/*
 * A BCD counter counts four decimal digits (datasheet): from 5000 in
 * mode 2, every value read is BCD and at most 5000.  KVM counts binary
 * whatever the BCD bit says.
 */
TEST(bcd_counts_in_decimal)
{
	struct pit_vm vm;
	bool moved = false;
	int i;

	if (mvm_on_kvm())
		SKIP(return, "KVM's PIT counts in binary in BCD mode");
	ASSERT_CREATED(&vm, 0, false);
	ASSERT_LT(0, vm.tsc_khz);

	program(&vm, 2, 2, true, 0x5000);
	for (i = 0; i < 40; i++) {
		latch_read(&vm, 2);
		op(&vm, OP_SPIN, 0, 0, vm.tsc_khz / 7);
	}
	run_ops(_metadata, &vm);
	for (i = 0; i < 40; i++) {
		uint16_t v = word(&vm, 2 * i);

		EXPECT_TRUE(is_bcd(v)) TH_LOG("read %d: %#x", i, v);
		EXPECT_GE(0x5000, v) TH_LOG("read %d: %#x", i, v);
		if (v != word(&vm, 0))
			moved = true;
	}
	EXPECT_TRUE(moved);
	guest_destroy(&vm.g);
}

/*
 * The count runs at 1.193182 MHz: counter 2 in mode 0 read against the
 * guest's TSC (KVM_GET_TSC_KHZ) over about 20 ms.  Emulated hosts keep
 * time loosely: within a factor of 1.5, and a stalled try is retried.
 */
TEST(counter_rate)
{
	double pit_ms = 0, tsc_ms = 0;
	struct pit_vm vm;
	int try;

	SKIP_UNLESS_HOST_TSC_CLOCKSOURCE();
	ASSERT_CREATED(&vm, 0, false);
	ASSERT_LT(0, vm.tsc_khz);

	for (try = 0; try < 5; try++) {
		uint16_t c0, c1;
		uint64_t t0, t1;

		program(&vm, 2, 0, false, 0xffff);
		op(&vm, OP_RDTSC, 0, 0, 0);
		latch_read(&vm, 2);
		spin_ms(&vm, 20);
		op(&vm, OP_RDTSC, 0, 0, 0);
		latch_read(&vm, 2);
		run_ops(_metadata, &vm);
		t0 = vm.results[0];
		c0 = word(&vm, 1);
		t1 = vm.results[3];
		c1 = word(&vm, 4);
		pit_ms = (c0 - c1) * 1000.0 / PIT_HZ;
		tsc_ms = (double)(t1 - t0) / vm.tsc_khz;
		TH_LOG("try %d: counter %u -> %u (%.2f ms), TSC %.2f ms",
		       try, c0, c1, pit_ms, tsc_ms);
		if (c1 < c0 && pit_ms > tsc_ms / 1.5 && pit_ms < tsc_ms * 1.5)
			break;
	}
	EXPECT_LT(tsc_ms / 1.5, pit_ms);
	EXPECT_GT(tsc_ms * 1.5, pit_ms);
	guest_destroy(&vm.g);
}

/*
 * KVM_PIT_SPEAKER_DUMMY puts port 0x61 in the kernel: bit 0 is counter
 * 2's gate, bit 1 the speaker data (KVM_PIT_FLAGS_SPEAKER_DATA_ON), bit 5
 * OUT2.  In mode 0 OUT2 rises at terminal count; in mode 2 a rising gate
 * restarts the count.
 */
TEST(speaker_port_gate_and_out2)
{
	struct kvm_pit_state2 ps;
	struct pit_vm vm;
	int try;

	ASSERT_CREATED(&vm, KVM_PIT_SPEAKER_DUMMY, false);
	ASSERT_LT(0, vm.tsc_khz);

	outb(&vm, PORT_SPEAKER, SPK_GATE2 | SPK_DATA);
	inb(&vm, PORT_SPEAKER);
	run_ops(_metadata, &vm);
	EXPECT_EQ(SPK_GATE2 | SPK_DATA,
		  vm.results[0] & (SPK_GATE2 | SPK_DATA));
	get_pit2(_metadata, &vm, &ps);
	EXPECT_EQ(1, ps.channels[2].gate);
	EXPECT_EQ(KVM_PIT_FLAGS_SPEAKER_DATA_ON, ps.flags);

	outb(&vm, PORT_SPEAKER, 0);
	inb(&vm, PORT_SPEAKER);
	run_ops(_metadata, &vm);
	EXPECT_EQ(0, vm.results[0] & (SPK_GATE2 | SPK_DATA));
	get_pit2(_metadata, &vm, &ps);
	EXPECT_EQ(0, ps.channels[2].gate);
	EXPECT_EQ(0, ps.flags);

	/*
	 * Mode 0: OUT2 low while counting 55 ms, then high within 1 ms.  A
	 * loaded emulator host can make one sample come out short (the
	 * guest's TSC against the PIT's host clock; seen once on KVM under
	 * TCG with 5-level paging): up to five tries, as below.
	 */
	for (try = 0; try < 5; try++) {
		outb(&vm, PORT_SPEAKER, SPK_GATE2);
		program(&vm, 2, 0, false, 0xffff);
		inb(&vm, PORT_SPEAKER);
		program(&vm, 2, 0, false, 1193);
		op(&vm, OP_POLL, PORT_SPEAKER, SPK_OUT2, ms_cycles(&vm, 5000));
		run_ops(_metadata, &vm);
		TH_LOG("try %d: OUT2 rose after %llu TSC cycles", try,
		       (unsigned long long)vm.results[1]);
		if (vm.results[1] != ~0ULL &&
		    vm.results[1] >= ms_cycles(&vm, 1) * 9 / 10)
			break;
	}
	EXPECT_EQ(0, vm.results[0] & SPK_OUT2);
	EXPECT_NE(~0ULL, vm.results[1]);
	EXPECT_LE(ms_cycles(&vm, 1) * 9 / 10, vm.results[1]);

	/*
	 * Mode 2 with the gate low, 10 ms spent: the count is about 12000
	 * down; the gate rising reloads it (0xffff).
	 */
	for (try = 0; try < 5; try++) {
		uint16_t before, after;

		outb(&vm, PORT_SPEAKER, 0);
		program(&vm, 2, 2, false, 0xffff);
		spin_ms(&vm, 10);
		latch_read(&vm, 2);
		outb(&vm, PORT_SPEAKER, SPK_GATE2);
		latch_read(&vm, 2);
		run_ops(_metadata, &vm);
		before = word(&vm, 0);
		after = word(&vm, 2);
		TH_LOG("try %d: %u before the gate rose, %u after", try,
		       before, after);
		if (after > before + 6000)
			break;
	}
	EXPECT_GT(word(&vm, 2), word(&vm, 0) + 6000);
	guest_destroy(&vm.g);
}

/* Without KVM_PIT_SPEAKER_DUMMY port 0x61 is userspace's. */
TEST(speaker_port_in_userspace)
{
	struct pit_vm vm;

	ASSERT_CREATED(&vm, 0, false);
	inb(&vm, PORT_SPEAKER);
	ASSERT_EQ(0, guest_run(vm.g.vcpu_fd));
	ASSERT_EQ(KVM_EXIT_IO, vm.g.run->exit_reason);
	EXPECT_EQ(PORT_SPEAKER, vm.g.run->io.port);
	EXPECT_EQ(KVM_EXIT_IO_IN, vm.g.run->io.direction);
	guest_destroy(&vm.g);

	/* KVM_CREATE_PIT always had it in the kernel. */
	ASSERT_CREATED(&vm, -1, false);
	ASSERT_EQ(0, ioctl(vm.g.vm_fd, KVM_CREATE_PIT));
	inb(&vm, PORT_SPEAKER);
	run_ops(_metadata, &vm);
	guest_destroy(&vm.g);
}

/* ------------------------------------------------------------------ */
/* Counter 0 interrupts (with KVM_CREATE_IRQCHIP)                       */

#define PIC_VECTOR	0x20
#define IOAPIC_VECTOR	0x30
#define IOAPIC_BASE	0xfec00000UL
#define APIC_BASE	0xfee00000UL
#define PERIOD_10MS	11932		/* input clocks */

#define HANDLER(label)	(GUEST_CODE + ((label) - g_interp_start))

static bool have_irqchip(void)
{
	int fd = mvm_open_dev();
	int r = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP);

	close(fd);
	return r > 0;
}

#define SKIP_UNLESS_IRQCHIP()						\
	do {								\
		if (!have_irqchip())					\
			SKIP(return, "no in-kernel irqchip");		\
	} while (0)

/* The IDT at 0 with gates for the PIC's and the IOAPIC's vectors. */
static void irq_vm_create(struct __test_metadata *_metadata,
			  struct pit_vm *vm)
{
	ASSERT_CREATED(vm, 0, true);
	ASSERT_LT(0, vm->tsc_khz);
	vm->idt_limit = 128 * 16 - 1;
	guest_set_idt_gate(&vm->g, PIC_VECTOR, HANDLER(pic_irq));
	guest_set_idt_gate(&vm->g, IOAPIC_VECTOR, HANDLER(apic_irq));
}

/*
 * The 8259A pair initialized (ICW1-ICW4), IRQ0 at PIC_VECTOR the only
 * one unmasked.  The local APIC is left as at RESET: LINT0 in ExtINT
 * mode on the BSP (KVM's LINT0 quirk) carries the PIC's output.
 */
static void pic_setup(struct pit_vm *vm)
{
	outb(vm, 0x20, 0x11);
	outb(vm, 0x21, PIC_VECTOR);
	outb(vm, 0x21, 0x04);
	outb(vm, 0x21, 0x01);
	outb(vm, 0x21, 0xfe);
	outb(vm, 0xa0, 0x11);
	outb(vm, 0xa1, PIC_VECTOR + 8);
	outb(vm, 0xa1, 0x02);
	outb(vm, 0xa1, 0x01);
	outb(vm, 0xa1, 0xff);
}

/*
 * Both PICs masked; the local APIC enabled (SVR), LINT0 masked; IOAPIC
 * pin 0 (GSI 0 in the default routing) unmasked, edge, fixed, to APIC 0
 * at IOAPIC_VECTOR.
 */
static void ioapic_setup(struct pit_vm *vm)
{
	outb(vm, 0x21, 0xff);
	outb(vm, 0xa1, 0xff);
	op(vm, OP_MMIO32, 0, 0x1ff, APIC_BASE + 0xf0);
	op(vm, OP_MMIO32, 0, 0x10000, APIC_BASE + 0x350);
	op(vm, OP_MMIO32, 0, 0x11, IOAPIC_BASE);
	op(vm, OP_MMIO32, 0, 0, IOAPIC_BASE + 0x10);
	op(vm, OP_MMIO32, 0, 0x10, IOAPIC_BASE);
	op(vm, OP_MMIO32, 0, IOAPIC_VECTOR, IOAPIC_BASE + 0x10);
}

static void set_reinject(struct __test_metadata *_metadata,
			 struct pit_vm *vm, bool on)
{
	struct kvm_reinject_control rc = { .pit_reinject = on };

	ASSERT_EQ(0, ioctl(vm->g.vm_fd, KVM_REINJECT_CONTROL, &rc));
}

/* Interrupts on until @n arrived or @ms passed: the count as a result. */
static void sti_wait(struct pit_vm *vm, uint32_t n, uint64_t ms)
{
	op(vm, OP_STI_WAIT, 0, n, ms_cycles(vm, ms));
}

/*
 * Without a vCPU: counter 0 in mode 2 (set through KVM_SET_PIT2) raises
 * IRQ0 on the in-kernel PIC, whose IRR keeps the edge.  In HPET legacy
 * mode it does not.
 */
static uint8_t pic_master_irr(struct __test_metadata *_metadata, int vm_fd)
{
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_PIC_MASTER };

	EXPECT_EQ(0, ioctl(vm_fd, KVM_GET_IRQCHIP, &chip));
	return chip.chip.pic.irr;
}

static void clear_pic_master_irr(struct __test_metadata *_metadata,
				 int vm_fd)
{
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_PIC_MASTER };

	ASSERT_EQ(0, ioctl(vm_fd, KVM_GET_IRQCHIP, &chip));
	chip.chip.pic.irr = 0;
	ASSERT_EQ(0, ioctl(vm_fd, KVM_SET_IRQCHIP, &chip));
}

TEST(irq0_reaches_pic_without_vcpu)
{
	struct kvm_reinject_control rc = { .pit_reinject = 0 };
	struct kvm_pit_config config = { .flags = 0 };
	struct kvm_pit_state2 ps;
	int sys_fd, vm_fd, i;

	SKIP_UNLESS_IRQCHIP();
	sys_fd = mvm_open_dev();
	vm_fd = ioctl(sys_fd, KVM_CREATE_VM, 0);
	ASSERT_LE(0, vm_fd);
	ASSERT_EQ(0, ioctl(vm_fd, KVM_CREATE_IRQCHIP, 0));
	ASSERT_EQ(0, ioctl(vm_fd, KVM_CREATE_PIT2, &config));
	EXPECT_EQ(0, pic_master_irr(_metadata, vm_fd) & 1);

	/* Programmed but in HPET legacy mode: no IRQ0. */
	ASSERT_EQ(0, ioctl(vm_fd, KVM_GET_PIT2, &ps));
	ps.channels[0].mode = 2;
	ps.channels[0].count = PERIOD_10MS;
	ps.flags = KVM_PIT_FLAGS_HPET_LEGACY;
	ASSERT_EQ(0, ioctl(vm_fd, KVM_SET_PIT2, &ps));
	usleep(100 * 1000);
	EXPECT_EQ(0, pic_master_irr(_metadata, vm_fd) & 1);

	ps.flags = 0;
	ASSERT_EQ(0, ioctl(vm_fd, KVM_SET_PIT2, &ps));
	for (i = 0; i < 100 && !(pic_master_irr(_metadata, vm_fd) & 1); i++)
		usleep(10 * 1000);
	EXPECT_EQ(1, pic_master_irr(_metadata, vm_fd) & 1);

	/* HPET legacy stops the running timer too. */
	ps.flags = KVM_PIT_FLAGS_HPET_LEGACY;
	ASSERT_EQ(0, ioctl(vm_fd, KVM_SET_PIT2, &ps));
	clear_pic_master_irr(_metadata, vm_fd);
	usleep(100 * 1000);
	EXPECT_EQ(0, pic_master_irr(_metadata, vm_fd) & 1);

	/* Closed with the timer running (reinjection off: it keeps firing). */
	ASSERT_EQ(0, ioctl(vm_fd, KVM_REINJECT_CONTROL, &rc));
	ps.flags = 0;
	ps.channels[0].count = 100;	/* 84 us: below the minimum period */
	ASSERT_EQ(0, ioctl(vm_fd, KVM_SET_PIT2, &ps));
	usleep(20 * 1000);
	close(vm_fd);
	close(sys_fd);
}

/*
 * Counter 0 in mode 2 every 10 ms: ten interrupts, through the PIC or the
 * IOAPIC, whether or not ticks are reinjected.
 */
static void periodic_irqs(struct __test_metadata *_metadata, bool ioapic,
			  bool reinject)
{
	struct pit_vm vm;

	SKIP_UNLESS_IRQCHIP();
	irq_vm_create(_metadata, &vm);
	set_reinject(_metadata, &vm, reinject);
	if (ioapic)
		ioapic_setup(&vm);
	else
		pic_setup(&vm);
	program(&vm, 0, 2, false, PERIOD_10MS);
	sti_wait(&vm, 10, 10000);
	run_ops(_metadata, &vm);
	/*
	 * Reinjected ticks come back to back; and a guest descheduled for a
	 * period in its handler has the next tick pending at its iretq: the
	 * count may pass ten before the loop sees it.
	 */
	EXPECT_LE(10, vm.results[0]);
	guest_destroy(&vm.g);
}

TEST(irq0_periodic_pic)
{
	periodic_irqs(_metadata, false, true);
}

TEST(irq0_periodic_pic_no_reinject)
{
	periodic_irqs(_metadata, false, false);
}

TEST(irq0_periodic_ioapic)
{
	periodic_irqs(_metadata, true, true);
}

TEST(irq0_periodic_ioapic_no_reinject)
{
	periodic_irqs(_metadata, true, false);
}

/*
 * A VM closed while counter 0 ticks every 2 ms without reinjection, so
 * that ticks keep reaching the PIC as the VM goes: the PIT must stop
 * before the vCPUs do.  Three times.  (Not KVM's 200 us minimum period:
 * under Bochs each tick costs the nested host more than that.)
 */
TEST(irq0_close_while_ticking)
{
	struct kvm_reinject_control rc = { .pit_reinject = 0 };
	struct pit_vm vm;
	int i;

	SKIP_UNLESS_IRQCHIP();
	for (i = 0; i < 3; i++) {
		irq_vm_create(_metadata, &vm);
		ASSERT_EQ(0, ioctl(vm.g.vm_fd, KVM_REINJECT_CONTROL, &rc));
		pic_setup(&vm);
		program(&vm, 0, 2, false, 2386);
		sti_wait(&vm, 10, 10000);
		run_ops(_metadata, &vm);
		EXPECT_LE(10, vm.results[0]);
		guest_destroy(&vm.g);
	}
}

/* Mode 0 interrupts once, at terminal count. */
TEST(irq0_one_shot)
{
	struct pit_vm vm;

	SKIP_UNLESS_IRQCHIP();
	irq_vm_create(_metadata, &vm);
	pic_setup(&vm);
	program(&vm, 0, 0, false, PERIOD_10MS);
	sti_wait(&vm, 1, 10000);
	sti_wait(&vm, 2, 100);
	run_ops(_metadata, &vm);
	EXPECT_EQ(1, vm.results[0]);
	EXPECT_EQ(1, vm.results[1]);
	guest_destroy(&vm.g);
}

/*
 * KVM_PIT_FLAGS_HPET_LEGACY: the HPET drives IRQ0, counter 0 does not
 * (however the guest programs it); leaving the mode restarts it.
 */
TEST(irq0_hpet_legacy)
{
	struct kvm_pit_state2 ps;
	struct pit_vm vm;

	SKIP_UNLESS_IRQCHIP();
	irq_vm_create(_metadata, &vm);
	pic_setup(&vm);
	run_ops(_metadata, &vm);
	get_pit2(_metadata, &vm, &ps);
	ps.flags = KVM_PIT_FLAGS_HPET_LEGACY;
	ASSERT_EQ(0, ioctl(vm.g.vm_fd, KVM_SET_PIT2, &ps));

	program(&vm, 0, 2, false, PERIOD_10MS);
	sti_wait(&vm, 1, 100);
	run_ops(_metadata, &vm);
	EXPECT_EQ(0, vm.results[0]);

	get_pit2(_metadata, &vm, &ps);
	EXPECT_EQ(2, ps.channels[0].mode);
	ps.flags = 0;
	ASSERT_EQ(0, ioctl(vm.g.vm_fd, KVM_SET_PIT2, &ps));
	sti_wait(&vm, 3, 10000);
	run_ops(_metadata, &vm);
	EXPECT_LE(3, vm.results[0]);
	guest_destroy(&vm.g);
}

/*
 * Reinjection: ticks that fire while the guest has interrupts off are
 * delivered later, one per acknowledgement, so the guest's count of
 * interrupts keeps up with the periods that passed.  Without it they
 * merge into one.  200 ms with IF = 0 (20 periods), then interrupts on
 * until 25 arrived: the periods elapsed by then, against the count.
 */
static void catch_up(struct __test_metadata *_metadata, bool reinject,
		     double *periods)
{
	struct pit_vm vm;

	irq_vm_create(_metadata, &vm);
	set_reinject(_metadata, &vm, reinject);
	pic_setup(&vm);
	program(&vm, 0, 2, false, PERIOD_10MS);
	op(&vm, OP_RDTSC, 0, 0, 0);
	spin_ms(&vm, 200);
	sti_wait(&vm, 25, 10000);
	op(&vm, OP_RDTSC, 0, 0, 0);
	run_ops(_metadata, &vm);
	EXPECT_LE(25, vm.results[1]);
	*periods = (double)(vm.results[2] - vm.results[0]) / vm.tsc_khz / 10;
	TH_LOG("reinject %d: 25 interrupts after %.1f periods", reinject,
	       *periods);
	guest_destroy(&vm.g);
}

TEST(irq0_reinject_catches_up)
{
	double with, without;

	SKIP_UNLESS_IRQCHIP();
	catch_up(_metadata, true, &with);
	catch_up(_metadata, false, &without);
	/*
	 * About 25 with (the missed ticks come at once), at least 44
	 * without (one for the 20 missed, then one a period).
	 */
	EXPECT_LT(with + 10, without);
}

TEST_HARNESS_MAIN
