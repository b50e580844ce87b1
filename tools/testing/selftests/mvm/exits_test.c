// SPDX-License-Identifier: GPL-2.0
/*
 * The exits a VMM sees, in a 64-bit guest: port I/O of every width and
 * the string forms, HLT, CPUID from the VMM's table, MSRs and #GP on an
 * unknown one, hypercalls, triple fault, signals and immediate_exit.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

#define PIO_DATA(g)	((uint8_t *)(g)->run + (g)->run->io.data_offset)

static void run_expect_io(struct __test_metadata *_metadata,
			  struct mvm_guest *g, int dir, int port, int size)
{
	ASSERT_EQ(0, guest_run(g->vcpu_fd));
	ASSERT_EQ(KVM_EXIT_IO, g->run->exit_reason);
	TH_LOG("io dir %d port 0x%x size %d count %u data 0x%x",
	       g->run->io.direction, g->run->io.port, g->run->io.size,
	       g->run->io.count, *PIO_DATA(g));
	ASSERT_EQ(dir, g->run->io.direction);
	ASSERT_EQ(port, g->run->io.port);
	ASSERT_EQ(size, g->run->io.size);
}

static void run_expect_hlt(struct __test_metadata *_metadata,
			   struct mvm_guest *g)
{
	ASSERT_EQ(0, guest_run(g->vcpu_fd));
	ASSERT_EQ(KVM_EXIT_HLT, g->run->exit_reason);
}

static void long_guest(struct mvm_guest *g, const uint8_t *start, size_t len)
{
	guest_create(g, 1 << 21);
	guest_load(g, GUEST_CODE, start, len);
	guest_set_long_mode(g, g->vcpu_fd, GUEST_CODE);
}

GUEST_CODE_BLOB(g_pio_out, ".code64",
	"mov $0x80, %dx\n"
	"mov $0x11, %al\n out %al, %dx\n"
	"mov $0x2233, %ax\n out %ax, %dx\n"
	"mov $0x44556677, %eax\n out %eax, %dx\n"
	"out %al, $0x81\n"
	"hlt\n");

TEST(pio_out_widths)
{
	struct mvm_guest g;

	long_guest(&g, g_pio_out_start, BLOB_LEN(g_pio_out));
	run_expect_io(_metadata, &g, KVM_EXIT_IO_OUT, 0x80, 1);
	ASSERT_EQ(1, g.run->io.count);
	ASSERT_EQ(0x11, *PIO_DATA(&g));
	run_expect_io(_metadata, &g, KVM_EXIT_IO_OUT, 0x80, 2);
	ASSERT_EQ(0x2233, *(uint16_t *)PIO_DATA(&g));
	run_expect_io(_metadata, &g, KVM_EXIT_IO_OUT, 0x80, 4);
	ASSERT_EQ(0x44556677, *(uint32_t *)PIO_DATA(&g));
	run_expect_io(_metadata, &g, KVM_EXIT_IO_OUT, 0x81, 1);
	ASSERT_EQ(0x77, *PIO_DATA(&g));
	run_expect_hlt(_metadata, &g);
	guest_destroy(&g);
}

/* Each IN is echoed back by an OUT of the register it filled. */
GUEST_CODE_BLOB(g_pio_in, ".code64",
	"mov $-1, %rax\n"
	"mov $0x80, %dx\n"
	"in %dx, %al\n mov %rax, %rbx\n"
	"in %dx, %ax\n mov %rax, %rcx\n"
	"in %dx, %eax\n mov %rax, %rsi\n"
	"mov $0x90, %dx\n"
	"mov %rbx, %rax\n out %eax, %dx\n shr $32, %rax\n out %eax, %dx\n"
	"mov %rcx, %rax\n out %eax, %dx\n shr $32, %rax\n out %eax, %dx\n"
	"mov %rsi, %rax\n out %eax, %dx\n shr $32, %rax\n out %eax, %dx\n"
	"hlt\n");

TEST(pio_in_widths)
{
	static const uint32_t want[] = {
		0xffffffab, 0xffffffff,	/* IN AL merges into RAX */
		0xffffcdef, 0xffffffff,	/* IN AX merges */
		0x89abcdef, 0x00000000,	/* IN EAX zero-extends */
	};
	struct mvm_guest g;
	int i;

	long_guest(&g, g_pio_in_start, BLOB_LEN(g_pio_in));
	run_expect_io(_metadata, &g, KVM_EXIT_IO_IN, 0x80, 1);
	*PIO_DATA(&g) = 0xab;
	run_expect_io(_metadata, &g, KVM_EXIT_IO_IN, 0x80, 2);
	*(uint16_t *)PIO_DATA(&g) = 0xcdef;
	run_expect_io(_metadata, &g, KVM_EXIT_IO_IN, 0x80, 4);
	*(uint32_t *)PIO_DATA(&g) = 0x89abcdef;
	for (i = 0; i < 6; i++) {
		run_expect_io(_metadata, &g, KVM_EXIT_IO_OUT, 0x90, 4);
		ASSERT_EQ(want[i], *(uint32_t *)PIO_DATA(&g)) TH_LOG("word %d", i);
	}
	run_expect_hlt(_metadata, &g);
	guest_destroy(&g);
}

/*
 * OUTS/INS with and without REP, both directions of DF.  Userspace may see
 * the elements batched into any number of exits: only the byte stream,
 * the final registers and the memory written are asserted.
 */
GUEST_CODE_BLOB(g_string, ".code64",
	"mov $0x80, %dx\n"
	"lea src(%rip), %rsi\n outsb\n"		/* 1 byte: 'a' */
	"mov $4, %rcx\n rep outsb\n"		/* "bcde" */
	"lea src+9(%rip), %rsi\n std\n mov $3, %rcx\n rep outsb\n cld\n" /* "jih" */
	"lea dst(%rip), %rdi\n mov $6, %rcx\n rep insb\n"	/* forward */
	"lea dst+11(%rip), %rdi\n std\n mov $3, %rcx\n rep insb\n cld\n"
	"mov %rcx, %rax\n out %eax, $0x82\n"	/* RCX left at 0 */
	"hlt\n"
	"src: .ascii \"abcdefghij\"\n"
	"dst: .fill 16, 1, 0\n");

TEST(pio_string)
{
	struct mvm_guest g;
	char out[16] = {}, *dst;
	int n = 0, in = 0;
	const char *in_data = "123456789";

	long_guest(&g, g_string_start, BLOB_LEN(g_string));
	while (n < 8) {
		run_expect_io(_metadata, &g, KVM_EXIT_IO_OUT, 0x80, 1);
		ASSERT_GE(g.run->io.count, 1);
		ASSERT_LE(n + g.run->io.count, 8);
		memcpy(out + n, PIO_DATA(&g), g.run->io.count);
		n += g.run->io.count;
	}
	ASSERT_STREQ("abcdejih", out);
	while (in < 9) {
		run_expect_io(_metadata, &g, KVM_EXIT_IO_IN, 0x80, 1);
		ASSERT_GE(g.run->io.count, 1);
		ASSERT_LE(in + g.run->io.count, 9);
		memcpy(PIO_DATA(&g), in_data + in, g.run->io.count);
		in += g.run->io.count;
	}
	run_expect_io(_metadata, &g, KVM_EXIT_IO_OUT, 0x82, 4);
	ASSERT_EQ(0, *(uint32_t *)PIO_DATA(&g));
	run_expect_hlt(_metadata, &g);
	dst = (char *)g.mem + GUEST_CODE + (g_string_end - g_string_start) - 16;
	/* Forward: "123456" at dst; backward from dst+11: '7','8','9' at 11,10,9. */
	ASSERT_EQ(0, memcmp(dst, "123456\0\0\0" "987", 12));
	guest_destroy(&g);
}

GUEST_CODE_BLOB(g_hlt, ".code64", "hlt\n hlt\n");

TEST(hlt_rip)
{
	struct mvm_guest g;
	struct kvm_regs r;

	long_guest(&g, g_hlt_start, BLOB_LEN(g_hlt));
	run_expect_hlt(_metadata, &g);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_REGS, &r));
	ASSERT_EQ(GUEST_CODE + 1, r.rip);
	run_expect_hlt(_metadata, &g);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_REGS, &r));
	ASSERT_EQ(GUEST_CODE + 2, r.rip);
	guest_destroy(&g);
}

GUEST_CODE_BLOB(g_cpuid, ".code64",
	"mov $0x40000000, %eax\n xor %ecx, %ecx\n cpuid\n"
	"mov %eax, %r8d\n mov %ebx, %eax\n out %eax, $0x80\n"
	"mov %ecx, %eax\n out %eax, $0x80\n mov %edx, %eax\n out %eax, $0x80\n"
	"mov %r8d, %eax\n out %eax, $0x80\n"
	"hlt\n");

TEST(cpuid_from_table)
{
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[2];
	} cpuid = { .c.nent = 2 };
	static const uint32_t want[] = { 0x6d766d21, 0x12345678, 0xcafef00d,
					 0x40000000 };
	struct mvm_guest g;
	int i;

	long_guest(&g, g_cpuid_start, BLOB_LEN(g_cpuid));
	cpuid.e[0].function = 0;
	cpuid.e[0].eax = 0xd;
	cpuid.e[1].function = 0x40000000;
	cpuid.e[1].eax = 0x40000000;
	cpuid.e[1].ebx = 0x6d766d21;
	cpuid.e[1].ecx = 0x12345678;
	cpuid.e[1].edx = 0xcafef00d;
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_CPUID2, &cpuid));
	for (i = 0; i < 4; i++) {
		run_expect_io(_metadata, &g, KVM_EXIT_IO_OUT, 0x80, 4);
		ASSERT_EQ(want[i], *(uint32_t *)PIO_DATA(&g));
	}
	run_expect_hlt(_metadata, &g);
	guest_destroy(&g);
}

/*
 * WRMSR/RDMSR of a known MSR round trip; RDMSR of an unknown one raises
 * #GP, caught by the guest's own IDT handler.
 */
GUEST_CODE_BLOB(g_msr, ".code64",
	"mov $0xc0000082, %ecx\n mov $0x81234560, %eax\n mov $0xffffffff, %edx\n"
	"wrmsr\n xor %eax, %eax\n xor %edx, %edx\n rdmsr\n"
	"out %eax, $0x80\n mov %edx, %eax\n out %eax, $0x80\n"
	"mov $0xdeadbeef, %ecx\n rdmsr\n"
	"mov $0xbad, %eax\n out %eax, $0x80\n hlt\n"
	"gp_handler: mov $0x6b, %eax\n out %eax, $0x81\n"
	"pop %rax\n out %eax, $0x81\n hlt\n");

extern const uint8_t gp_handler[];

TEST(msr_round_trip_and_gp)
{
	struct mvm_guest g;

	long_guest(&g, g_msr_start, BLOB_LEN(g_msr));
	/* IDT at 0 (page 0 is free), #GP gate. */
	guest_use_idt(&g, g.vcpu_fd);
	guest_set_idt_gate(&g, 13, GUEST_CODE + (gp_handler - g_msr_start));

	run_expect_io(_metadata, &g, KVM_EXIT_IO_OUT, 0x80, 4);
	ASSERT_EQ(0x81234560, *(uint32_t *)PIO_DATA(&g));
	run_expect_io(_metadata, &g, KVM_EXIT_IO_OUT, 0x80, 4);
	ASSERT_EQ(0xffffffff, *(uint32_t *)PIO_DATA(&g));
	/* #GP, not the 0xbad report. */
	run_expect_io(_metadata, &g, KVM_EXIT_IO_OUT, 0x81, 4);
	ASSERT_EQ(0x6b, *(uint32_t *)PIO_DATA(&g));
	run_expect_io(_metadata, &g, KVM_EXIT_IO_OUT, 0x81, 4);
	ASSERT_EQ(0, *(uint32_t *)PIO_DATA(&g)) TH_LOG("#GP error code");
	run_expect_hlt(_metadata, &g);
	guest_destroy(&g);
}

GUEST_CODE_BLOB(g_vmcall, ".code64",
	"mov $0x7fff, %eax\n vmcall\n out %eax, $0x80\n hlt\n");
GUEST_CODE_BLOB(g_vmmcall, ".code64",
	"mov $0x7fff, %eax\n vmmcall\n out %eax, $0x80\n hlt\n");

TEST(hypercall_unknown_enosys)
{
	struct mvm_guest g;

	if (mvm_cpu_is_amd())
		long_guest(&g, g_vmmcall_start, BLOB_LEN(g_vmmcall));
	else
		long_guest(&g, g_vmcall_start, BLOB_LEN(g_vmcall));
	run_expect_io(_metadata, &g, KVM_EXIT_IO_OUT, 0x80, 4);
	ASSERT_EQ((uint32_t)-1000, *(uint32_t *)PIO_DATA(&g));	/* -KVM_ENOSYS */
	run_expect_hlt(_metadata, &g);
	guest_destroy(&g);
}

GUEST_CODE_BLOB(g_ud2, ".code64", "ud2\n");

TEST(triple_fault_shutdown)
{
	struct mvm_guest g;

	/* No IDT: #UD cannot be delivered, nor #DF: shutdown. */
	long_guest(&g, g_ud2_start, BLOB_LEN(g_ud2));
	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	ASSERT_EQ(KVM_EXIT_SHUTDOWN, g.run->exit_reason);
	guest_destroy(&g);
}

GUEST_CODE_BLOB(g_spin, ".code64", "1: jmp 1b\n");

static void on_signal(int sig)
{
}

struct kicker {
	pthread_t target;
	volatile int stop;
};

static void *kick_until_stopped(void *arg)
{
	struct kicker *k = arg;

	while (!k->stop) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		if (!k->stop)
			pthread_kill(k->target, SIGUSR1);
	}
	return NULL;
}

TEST(signal_interrupts_run)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct kicker k = { .target = pthread_self() };
	struct mvm_guest g;
	pthread_t th;
	int r;

	sigaction(SIGUSR1, &sa, NULL);
	long_guest(&g, g_spin_start, BLOB_LEN(g_spin));
	/*
	 * Spin with interrupts enabled, as a real guest would.  (External
	 * interrupts exit the guest whatever its RFLAGS.IF, but Bochs does
	 * not deliver a local APIC interrupt as a VM exit while the guest's
	 * IF is clear.)
	 */
	{
		struct kvm_regs r;

		ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_REGS, &r));
		r.rflags |= 0x200;
		ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_REGS, &r));
	}
	ASSERT_EQ(0, pthread_create(&th, NULL, kick_until_stopped, &k));
	r = guest_run(g.vcpu_fd);
	k.stop = 1;
	pthread_join(th, NULL);
	ASSERT_EQ(-EINTR, r);
	ASSERT_EQ(KVM_EXIT_INTR, g.run->exit_reason);

	/* immediate_exit: back at once, guest not entered. */
	g.run->immediate_exit = 1;
	ASSERT_EQ(-EINTR, guest_run(g.vcpu_fd));
	g.run->immediate_exit = 0;
	guest_destroy(&g);
}

/* A pending OUT is completed before immediate_exit is honoured. */
TEST(immediate_exit_completes_pio)
{
	struct mvm_guest g;
	struct kvm_regs r;

	long_guest(&g, g_pio_out_start, BLOB_LEN(g_pio_out));
	run_expect_io(_metadata, &g, KVM_EXIT_IO_OUT, 0x80, 1);
	g.run->immediate_exit = 1;
	ASSERT_EQ(-EINTR, guest_run(g.vcpu_fd));
	g.run->immediate_exit = 0;
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_REGS, &r));
	/* Past "mov $0x80,%dx; mov $0x11,%al; out %al,%dx". */
	ASSERT_EQ(GUEST_CODE + 4 + 2 + 1, r.rip);
	run_expect_io(_metadata, &g, KVM_EXIT_IO_OUT, 0x80, 2);
	guest_destroy(&g);
}

TEST_HARNESS_MAIN
