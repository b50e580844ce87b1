// SPDX-License-Identifier: GPL-2.0
/*
 * HLT with the local APIC in the kernel (KVM_CAP_SPLIT_IRQCHIP): the vCPU's
 * thread sleeps in KVM_RUN instead of exiting with KVM_EXIT_HLT, and wakes
 * for what ends HLT on hardware: a LAPIC timer, an IPI from another vCPU,
 * an NMI (also with IF=0, where a pending interrupt does not), and for a
 * signal (-EINTR, KVM_EXIT_INTR, mp_state unchanged); with the full
 * irqchip also for KVM_IRQ_LINE and an irqfd through the IOAPIC.  A guest that
 * interrupts itself without end stays killable.  KVM_GET/SET_MP_STATE:
 * the states, their errnos, the APs that start UNINITIALIZED, SIPI_RECEIVED.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

#define DONE_PORT	0xf4
/* Data shared by guest and test, above the code. */
#define DATA		0x20000UL
#define FLAG		(DATA + 0x00)	/* the interrupt handler ran */
#define READY		(DATA + 0x08)	/* the receiving vCPU is set up */
#define COUNTER		(DATA + 0x10)	/* storm: interrupts taken */
#define NMI_MARK	(DATA + 0x18)	/* the NMI handler ran */
/* Handlers, one page each. */
#define H_NMI		0x11000UL
#define H_FLAG		0x12000UL
#define H_STORM		0x13000UL
#define VEC_SELF	0x40
#define VEC_TIMER	0x41
#define VEC_IPI		0x42
#define VEC_STORM	0x43
/* 0x50 gates at GPA 0: below the GDT at 0x800. */
#define IDT_LIMIT	(0x50 * 16 - 1)

/* xAPIC registers (SDM vol. 3A table 10-1), through RAX: 0xfee00000
 * does not fit a sign-extended 32-bit displacement. */
#define APIC_REG(off)	"mov $0xfee00" #off ", %eax\n"
#define APIC_ENABLE	APIC_REG(0f0) "movl $0x1ff, (%rax)\n"
#define DONE		"mov $0xf4, %dx\n out %al, %dx\n"
/* Wait in HLT, IF=1, until FLAG: STI's shadow covers the HLT (no lost
 * wake-up between the test and the HLT). */
#define WAIT_FLAG	"1: cli\n cmpl $0, 0x20000\n jne 2f\n sti\n hlt\n jmp 1b\n 2:\n"

GUEST_CODE_BLOB(h_nmi, ".code64", "movl $1, 0x20018\n iretq\n");
GUEST_CODE_BLOB(h_flag, ".code64",
	"push %rax\n movl $1, 0x20000\n" APIC_REG(0b0) "movl $0, (%rax)\n"
	"pop %rax\n iretq\n");
/* Take an interrupt, EOI, send the next one to ourselves. */
GUEST_CODE_BLOB(h_storm, ".code64",
	"push %rax\n incq 0x20010\n" APIC_REG(0b0) "movl $0, (%rax)\n"
	APIC_REG(300) "movl $0x40043, (%rax)\n pop %rax\n iretq\n");

GUEST_CODE_BLOB(g_hlt_if0, ".code64", "cli\n hlt\n" DONE);
/* An interrupt pending in IRR (a self-IPI), IF=0: HLT must stay. */
GUEST_CODE_BLOB(g_irq_if0, ".code64",
	APIC_ENABLE "cli\n" APIC_REG(300) "movl $0x40040, (%rax)\n hlt\n" DONE);
/* One-shot LAPIC timer, divide by 1, then HLT until it fires. */
GUEST_CODE_BLOB(g_timer, ".code64",
	APIC_ENABLE APIC_REG(3e0) "movl $0xb, (%rax)\n"
	APIC_REG(320) "movl $0x41, (%rax)\n"
	APIC_REG(380) "movl $100000, (%rax)\n" WAIT_FLAG DONE);
/* vCPU 0, started once vCPU 1 is ready: a fixed IPI to APIC ID 1. */
GUEST_CODE_BLOB(g_ipi_send, ".code64",
	APIC_ENABLE APIC_REG(310) "movl $0x01000000, (%rax)\n"
	APIC_REG(300) "movl $0x42, (%rax)\n" DONE);
GUEST_CODE_BLOB(g_ipi_recv, ".code64",
	APIC_ENABLE "movl $1, 0x20008\n" WAIT_FLAG DONE);
GUEST_CODE_BLOB(g_storm, ".code64",
	APIC_ENABLE "sti\n" APIC_REG(300) "movl $0x40043, (%rax)\n"
	"1: hlt\n jmp 1b\n");
GUEST_CODE_BLOB(g_done, ".code64", DONE);
/*
 * IOAPIC pins 20 and 21 (GSIs 20, 21: no PIC behind them) to vector 0x40,
 * fixed, edge, APIC ID 0 (82093AA redirection table, index 0x10 + 2 pin).
 */
#define IOAPIC_PIN(lo, hi)	"movl $" #lo ", (%rax)\n movl $0x40, 0x10(%rax)\n" \
				"movl $" #hi ", (%rax)\n movl $0, 0x10(%rax)\n"
GUEST_CODE_BLOB(g_ioapic_wait, ".code64",
	APIC_ENABLE "mov $0xfec00000, %eax\n" IOAPIC_PIN(0x38, 0x39)
	IOAPIC_PIN(0x3a, 0x3b) "movl $1, 0x20008\n" WAIT_FLAG DONE);

static void on_sigusr1(int sig)
{
	(void)sig;	/* only to interrupt KVM_RUN */
}

/*
 * A VM whose vCPUs have in-kernel LAPICs (the split irqchip: LAPICs in
 * the kernel, PIC and IOAPIC in userspace).  vCPU 0 is g->vcpu_fd; @fd1,
 * if not NULL, gets vCPU 1.
 */
static void irqchip_guest_mode(struct mvm_guest *g, int *fd1,
			       struct kvm_run **run1, bool full)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_SPLIT_IRQCHIP, .args = { 24 },
	};
	struct sigaction sa = { .sa_handler = on_sigusr1 };

	sigaction(SIGUSR1, &sa, NULL);
	guest_create_vm(g, 1 << 21);
	if (full ? ioctl(g->vm_fd, KVM_CREATE_IRQCHIP, 0) :
		   ioctl(g->vm_fd, KVM_ENABLE_CAP, &cap))
		abort();
	g->vcpu_fd = guest_add_vcpu(g, 0, &g->run);
	if (fd1)
		*fd1 = guest_add_vcpu(g, 1, run1);
	guest_load(g, H_NMI, h_nmi_start, BLOB_LEN(h_nmi));
	guest_load(g, H_FLAG, h_flag_start, BLOB_LEN(h_flag));
	guest_load(g, H_STORM, h_storm_start, BLOB_LEN(h_storm));
	guest_set_idt_gate(g, 2, H_NMI);
	guest_set_idt_gate(g, VEC_SELF, H_FLAG);
	guest_set_idt_gate(g, VEC_TIMER, H_FLAG);
	guest_set_idt_gate(g, VEC_IPI, H_FLAG);
	guest_set_idt_gate(g, VEC_STORM, H_STORM);
}

static void irqchip_guest(struct mvm_guest *g, int *fd1, struct kvm_run **run1)
{
	irqchip_guest_mode(g, fd1, run1, false);
}

/* 64-bit mode at @rip with its own stack below @rsp, the handlers' IDT. */
static void vcpu_start_at(struct mvm_guest *g, int fd, uint64_t rip,
			  uint64_t rsp)
{
	struct kvm_sregs s;
	struct kvm_regs regs;

	guest_set_long_mode(g, fd, rip);
	if (ioctl(fd, KVM_GET_SREGS, &s))
		abort();
	s.idt.base = GUEST_IDT;
	s.idt.limit = IDT_LIMIT;
	if (ioctl(fd, KVM_SET_SREGS, &s))
		abort();
	if (ioctl(fd, KVM_GET_REGS, &regs))
		abort();
	regs.rsp = rsp;
	if (ioctl(fd, KVM_SET_REGS, &regs))
		abort();
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* One KVM_RUN on its own thread. */
struct runner {
	int fd;
	pthread_t th;
	volatile int done;
	int err;		/* 0 or -errno */
};

static void *runner_fn(void *arg)
{
	struct runner *r = arg;

	r->err = guest_run(r->fd);
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void runner_start(struct runner *r, int fd)
{
	r->fd = fd;
	r->done = 0;
	r->err = 1;
	if (pthread_create(&r->th, NULL, runner_fn, r))
		abort();
}

/* Wait up to @ms for KVM_RUN to return; true if it did (then joined). */
static bool runner_wait(struct runner *r, unsigned int ms)
{
	uint64_t end = now_ms() + ms;

	while (!__atomic_load_n(&r->done, __ATOMIC_ACQUIRE)) {
		if (now_ms() > end)
			return false;
		sleep_ms(2);
	}
	pthread_join(r->th, NULL);
	return true;
}

/*
 * SIGUSR1 until KVM_RUN returns (a signal that lands before the thread
 * is in KVM_RUN is only handled in userspace: send again).  False if it
 * still had not returned after 5 s: the vCPU was not interruptible.
 */
static bool runner_stop(struct runner *r)
{
	uint64_t end = now_ms() + 5000;

	while (!__atomic_load_n(&r->done, __ATOMIC_ACQUIRE)) {
		if (now_ms() > end)
			return false;
		pthread_kill(r->th, SIGUSR1);
		sleep_ms(10);
	}
	pthread_join(r->th, NULL);
	return true;
}

static uint32_t get_mp_state(int fd)
{
	struct kvm_mp_state mp = { .mp_state = 0xdead };

	if (ioctl(fd, KVM_GET_MP_STATE, &mp))
		return 0xdead;
	return mp.mp_state;
}

static int set_mp_state(int fd, uint32_t state)
{
	struct kvm_mp_state mp = { .mp_state = state };

	return ioctl(fd, KVM_SET_MP_STATE, &mp) ? -errno : 0;
}

static uint64_t rip_of(int fd)
{
	struct kvm_regs regs;

	if (ioctl(fd, KVM_GET_REGS, &regs))
		return ~0ULL;
	return regs.rip;
}

static uint64_t data(struct mvm_guest *g, uint64_t gpa)
{
	return __atomic_load_n((uint64_t *)(g->mem + gpa), __ATOMIC_ACQUIRE);
}

/* The run ended at the guest's OUT to DONE_PORT. */
static bool at_done(struct kvm_run *run)
{
	return run->exit_reason == KVM_EXIT_IO && run->io.port == DONE_PORT;
}

/*
 * HLT (IF=0) does not come back to userspace: KVM_RUN sleeps until a
 * signal, which returns -EINTR with KVM_EXIT_INTR and leaves the vCPU
 * HALTED after the HLT; the next KVM_RUN sleeps again.
 */
TEST(hlt_sleeps_until_signal)
{
	struct mvm_guest g;
	struct runner r;
	int i;

	irqchip_guest(&g, NULL, NULL);
	guest_load(&g, GUEST_CODE, g_hlt_if0_start, BLOB_LEN(g_hlt_if0));
	vcpu_start_at(&g, g.vcpu_fd, GUEST_CODE, 0x8000);

	for (i = 0; i < 2; i++) {
		runner_start(&r, g.vcpu_fd);
		sleep_ms(300);
		ASSERT_FALSE(__atomic_load_n(&r.done, __ATOMIC_ACQUIRE)) {
			TH_LOG("KVM_RUN returned: err %d exit_reason %u",
			       r.err, g.run->exit_reason);
		}
		ASSERT_TRUE(runner_stop(&r));
		ASSERT_EQ(-EINTR, r.err);
		ASSERT_EQ(KVM_EXIT_INTR, g.run->exit_reason);
		ASSERT_EQ(KVM_MP_STATE_HALTED, get_mp_state(g.vcpu_fd));
		ASSERT_EQ(GUEST_CODE + 2, rip_of(g.vcpu_fd));	/* cli; hlt */
	}
	guest_destroy(&g);
}

/* A halted vCPU with IF=0 wakes for an NMI: handler, then past the HLT. */
TEST(hlt_if0_wakes_on_nmi)
{
	struct mvm_guest g;
	struct runner r;

	irqchip_guest(&g, NULL, NULL);
	guest_load(&g, GUEST_CODE, g_hlt_if0_start, BLOB_LEN(g_hlt_if0));
	vcpu_start_at(&g, g.vcpu_fd, GUEST_CODE, 0x8000);

	runner_start(&r, g.vcpu_fd);
	sleep_ms(100);
	ASSERT_TRUE(runner_stop(&r));
	ASSERT_EQ(-EINTR, r.err);
	ASSERT_EQ(KVM_MP_STATE_HALTED, get_mp_state(g.vcpu_fd));

	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_NMI));
	runner_start(&r, g.vcpu_fd);
	if (!runner_wait(&r, 5000)) {
		runner_stop(&r);
		ASSERT_TRUE(0) TH_LOG("the NMI did not wake the vCPU");
	}
	ASSERT_EQ(0, r.err);
	ASSERT_TRUE(at_done(g.run));
	ASSERT_EQ(1, data(&g, NMI_MARK));
	ASSERT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(g.vcpu_fd));
	guest_destroy(&g);
}

/*
 * An interrupt in the LAPIC's IRR does not end HLT with IF=0 (SDM vol.
 * 2A, HLT); an NMI does, and the interrupt is still not taken after it.
 */
TEST(hlt_if0_ignores_interrupt_until_nmi)
{
	struct mvm_guest g;
	struct runner r;

	irqchip_guest(&g, NULL, NULL);
	guest_load(&g, GUEST_CODE, g_irq_if0_start, BLOB_LEN(g_irq_if0));
	vcpu_start_at(&g, g.vcpu_fd, GUEST_CODE, 0x8000);

	runner_start(&r, g.vcpu_fd);
	sleep_ms(300);
	ASSERT_FALSE(__atomic_load_n(&r.done, __ATOMIC_ACQUIRE)) {
		TH_LOG("KVM_RUN returned: err %d exit_reason %u", r.err,
		       g.run->exit_reason);
	}
	ASSERT_TRUE(runner_stop(&r));
	ASSERT_EQ(-EINTR, r.err);
	ASSERT_EQ(KVM_MP_STATE_HALTED, get_mp_state(g.vcpu_fd));
	ASSERT_EQ(0, data(&g, FLAG));

	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_NMI));
	runner_start(&r, g.vcpu_fd);
	if (!runner_wait(&r, 5000)) {
		runner_stop(&r);
		ASSERT_TRUE(0) TH_LOG("the NMI did not wake the vCPU");
	}
	ASSERT_TRUE(at_done(g.run));
	ASSERT_EQ(1, data(&g, NMI_MARK));
	ASSERT_EQ(0, data(&g, FLAG));
	guest_destroy(&g);
}

/* A one-shot LAPIC timer wakes the halted vCPU inside one KVM_RUN. */
TEST(hlt_wakes_on_lapic_timer)
{
	struct mvm_guest g;
	struct runner r;

	irqchip_guest(&g, NULL, NULL);
	guest_load(&g, GUEST_CODE, g_timer_start, BLOB_LEN(g_timer));
	vcpu_start_at(&g, g.vcpu_fd, GUEST_CODE, 0x8000);

	runner_start(&r, g.vcpu_fd);
	if (!runner_wait(&r, 5000)) {
		runner_stop(&r);
		ASSERT_TRUE(0) TH_LOG("the timer did not wake the vCPU");
	}
	ASSERT_EQ(0, r.err);
	ASSERT_TRUE(at_done(g.run)) {
		TH_LOG("exit_reason %u", g.run->exit_reason);
	}
	ASSERT_EQ(1, data(&g, FLAG));
	guest_destroy(&g);
}

/* vCPU 0's fixed IPI wakes vCPU 1 from HLT; no exit to userspace. */
TEST(hlt_wakes_on_ipi)
{
	struct kvm_run *run1;
	struct mvm_guest g;
	struct runner r0, r1;
	uint64_t end;
	int fd1;

	irqchip_guest(&g, &fd1, &run1);
	guest_load(&g, GUEST_CODE, g_ipi_send_start, BLOB_LEN(g_ipi_send));
	guest_load(&g, GUEST_CODE + 0x800, g_ipi_recv_start,
		   BLOB_LEN(g_ipi_recv));
	vcpu_start_at(&g, g.vcpu_fd, GUEST_CODE, 0x8000);
	vcpu_start_at(&g, fd1, GUEST_CODE + 0x800, 0x9000);
	/* An AP starts waiting for INIT/SIPI: let it run now. */
	ASSERT_EQ(0, set_mp_state(fd1, KVM_MP_STATE_RUNNABLE));

	/*
	 * vCPU 0 starts only once vCPU 1 is ready: a guest spinning for it
	 * would depend on the host preempting its thread (one CPU in the
	 * rig; under Bochs that did not happen within minutes on KVM).
	 */
	runner_start(&r1, fd1);
	end = now_ms() + 5000;
	while (!data(&g, READY) && now_ms() < end &&
	       !__atomic_load_n(&r1.done, __ATOMIC_ACQUIRE))
		sleep_ms(5);
	ASSERT_EQ(1, data(&g, READY)) {
		runner_stop(&r1);
		TH_LOG("vCPU 1 did not start: err %d exit_reason %u", r1.err,
		       run1->exit_reason);
	}
	sleep_ms(50);		/* into HLT; the guest loop copes either way */
	runner_start(&r0, g.vcpu_fd);
	if (!runner_wait(&r0, 5000)) {
		runner_stop(&r0);
		runner_stop(&r1);
		ASSERT_TRUE(0) TH_LOG("vCPU 0 did not finish");
	}
	ASSERT_TRUE(at_done(g.run));
	if (!runner_wait(&r1, 5000)) {
		runner_stop(&r1);
		ASSERT_TRUE(0) TH_LOG("the IPI did not wake vCPU 1");
	}
	ASSERT_EQ(0, r1.err);
	ASSERT_TRUE(at_done(run1)) {
		TH_LOG("vCPU 1 exit_reason %u", run1->exit_reason);
	}
	ASSERT_EQ(1, data(&g, FLAG));
	close(fd1);
	guest_destroy(&g);
}

/*
 * The full irqchip (KVM_CREATE_IRQCHIP): the guest routes IOAPIC pins 20
 * and 21 to itself and halts; @raise (KVM_IRQ_LINE, an irqfd) asserts
 * one of them from this thread while the vCPU sleeps in KVM_RUN.
 */
static void wake_through_ioapic(struct __test_metadata *_metadata,
				void (*raise)(struct __test_metadata *,
					      struct mvm_guest *))
{
	struct mvm_guest g;
	struct runner r;
	uint64_t end;

	irqchip_guest_mode(&g, NULL, NULL, true);
	guest_load(&g, GUEST_CODE, g_ioapic_wait_start,
		   BLOB_LEN(g_ioapic_wait));
	vcpu_start_at(&g, g.vcpu_fd, GUEST_CODE, 0x8000);

	runner_start(&r, g.vcpu_fd);
	end = now_ms() + 5000;
	while (!data(&g, READY) && now_ms() < end &&
	       !__atomic_load_n(&r.done, __ATOMIC_ACQUIRE))
		sleep_ms(5);
	sleep_ms(100);		/* into HLT */
	ASSERT_FALSE(__atomic_load_n(&r.done, __ATOMIC_ACQUIRE)) {
		runner_wait(&r, 0);
		TH_LOG("KVM_RUN returned %d, exit_reason %u", r.err,
		       g.run->exit_reason);
	}
	ASSERT_EQ(1, data(&g, READY));
	ASSERT_EQ(0, data(&g, FLAG));
	raise(_metadata, &g);
	if (!runner_wait(&r, 5000)) {
		runner_stop(&r);
		ASSERT_TRUE(0) TH_LOG("the interrupt did not wake the vCPU");
	}
	ASSERT_EQ(0, r.err);
	ASSERT_TRUE(at_done(g.run));
	ASSERT_EQ(1, data(&g, FLAG));
	guest_destroy(&g);
}

static void raise_irq_line(struct __test_metadata *_metadata,
			   struct mvm_guest *g)
{
	struct kvm_irq_level irq = { .irq = 20, .level = 1 };

	ASSERT_EQ(0, ioctl(g->vm_fd, KVM_IRQ_LINE, &irq));
	irq.level = 0;
	ASSERT_EQ(0, ioctl(g->vm_fd, KVM_IRQ_LINE, &irq));
}

static void raise_irqfd(struct __test_metadata *_metadata,
			struct mvm_guest *g)
{
	struct kvm_irqfd irqfd = { .gsi = 21 };
	uint64_t one = 1;
	int efd = eventfd(0, EFD_CLOEXEC);

	ASSERT_LE(0, efd);
	irqfd.fd = efd;
	ASSERT_EQ(0, ioctl(g->vm_fd, KVM_IRQFD, &irqfd));
	ASSERT_EQ(8, write(efd, &one, 8));
	/* The fd stays with the VM until guest_destroy(). */
}

/* KVM_IRQ_LINE on an IOAPIC pin wakes the halted vCPU. */
TEST(hlt_wakes_on_irq_line)
{
	wake_through_ioapic(_metadata, raise_irq_line);
}

/* An irqfd's eventfd write, from another thread, wakes it. */
TEST(hlt_wakes_on_irqfd)
{
	wake_through_ioapic(_metadata, raise_irqfd);
}

/*
 * A guest that sends itself an IPI from its handler, for ever: it makes
 * progress, and a signal still stops KVM_RUN.
 */
TEST(self_ipi_storm_stays_killable)
{
	struct mvm_guest g;
	struct runner r;
	uint64_t n1, n2;

	irqchip_guest(&g, NULL, NULL);
	guest_load(&g, GUEST_CODE, g_storm_start, BLOB_LEN(g_storm));
	vcpu_start_at(&g, g.vcpu_fd, GUEST_CODE, 0x8000);

	runner_start(&r, g.vcpu_fd);
	sleep_ms(300);
	n1 = data(&g, COUNTER);
	sleep_ms(200);
	n2 = data(&g, COUNTER);
	ASSERT_TRUE(runner_stop(&r));
	ASSERT_EQ(-EINTR, r.err) {
		TH_LOG("exit_reason %u", g.run->exit_reason);
	}
	ASSERT_EQ(KVM_EXIT_INTR, g.run->exit_reason);
	ASSERT_GT(n1, 0);
	ASSERT_GT(n2, n1);
	guest_destroy(&g);
}

/* Without an in-kernel LAPIC only RUNNABLE exists, and HLT exits. */
TEST(mp_state_without_irqchip)
{
	static const uint32_t refused[] = {
		KVM_MP_STATE_UNINITIALIZED, KVM_MP_STATE_INIT_RECEIVED,
		KVM_MP_STATE_HALTED, KVM_MP_STATE_SIPI_RECEIVED,
		KVM_MP_STATE_AP_RESET_HOLD, KVM_MP_STATE_STOPPED, 100,
	};
	struct mvm_guest g;
	unsigned int i;

	guest_create(&g, 1 << 21);
	guest_load(&g, GUEST_CODE, g_hlt_if0_start, BLOB_LEN(g_hlt_if0));
	guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE);
	ASSERT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(g.vcpu_fd));
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		ASSERT_EQ(-EINVAL, set_mp_state(g.vcpu_fd, refused[i]));
	ASSERT_EQ(0, set_mp_state(g.vcpu_fd, KVM_MP_STATE_RUNNABLE));
	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	ASSERT_EQ(KVM_EXIT_HLT, g.run->exit_reason);
	ASSERT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(g.vcpu_fd));
	guest_destroy(&g);
}

/*
 * With in-kernel LAPICs the BSP starts RUNNABLE and the AP UNINITIALIZED;
 * every x86 state round-trips; s390's and unknown ones are refused.
 */
TEST(mp_state_round_trip)
{
	static const uint32_t states[] = {
		KVM_MP_STATE_UNINITIALIZED, KVM_MP_STATE_INIT_RECEIVED,
		KVM_MP_STATE_HALTED, KVM_MP_STATE_AP_RESET_HOLD,
		KVM_MP_STATE_RUNNABLE,
	};
	static const uint32_t refused[] = {
		KVM_MP_STATE_STOPPED, KVM_MP_STATE_CHECK_STOP,
		KVM_MP_STATE_OPERATING, KVM_MP_STATE_LOAD, 10, 0xffffffff,
	};
	struct kvm_run *run1;
	struct mvm_guest g;
	unsigned int i;
	int fd1;

	irqchip_guest(&g, &fd1, &run1);
	ASSERT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(g.vcpu_fd));
	ASSERT_EQ(KVM_MP_STATE_UNINITIALIZED, get_mp_state(fd1));
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		ASSERT_EQ(0, set_mp_state(fd1, states[i]));
		ASSERT_EQ(states[i], get_mp_state(fd1));
		ASSERT_EQ(0, set_mp_state(g.vcpu_fd, states[i]));
		ASSERT_EQ(states[i], get_mp_state(g.vcpu_fd));
	}
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		ASSERT_EQ(-EINVAL, set_mp_state(fd1, refused[i]));
		ASSERT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(fd1));
	}
	close(fd1);
	guest_destroy(&g);
}

/*
 * A vCPU that does not run guest code (an AP before INIT, one waiting for
 * SIPI, one set HALTED) sleeps in KVM_RUN until a signal; immediate_exit
 * returns at once; the state stays.  Set RUNNABLE, it runs.
 */
TEST(waiting_states_sleep_until_signal)
{
	static const uint32_t states[] = {
		KVM_MP_STATE_UNINITIALIZED, KVM_MP_STATE_INIT_RECEIVED,
		KVM_MP_STATE_HALTED,
	};
	struct kvm_run *run1;
	struct mvm_guest g;
	struct runner r;
	unsigned int i;
	int fd1;

	irqchip_guest(&g, &fd1, &run1);
	guest_load(&g, GUEST_CODE, g_done_start, BLOB_LEN(g_done));
	vcpu_start_at(&g, fd1, GUEST_CODE, 0x8000);
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		ASSERT_EQ(0, set_mp_state(fd1, states[i]));

		run1->immediate_exit = 1;
		ASSERT_EQ(-EINTR, guest_run(fd1));
		run1->immediate_exit = 0;

		runner_start(&r, fd1);
		sleep_ms(200);
		ASSERT_FALSE(__atomic_load_n(&r.done, __ATOMIC_ACQUIRE)) {
			TH_LOG("state %u: KVM_RUN returned %d, exit_reason %u",
			       states[i], r.err, run1->exit_reason);
		}
		ASSERT_TRUE(runner_stop(&r));
		ASSERT_EQ(-EINTR, r.err);
		ASSERT_EQ(KVM_EXIT_INTR, run1->exit_reason);
		ASSERT_EQ(states[i], get_mp_state(fd1));
	}
	ASSERT_EQ(0, set_mp_state(fd1, KVM_MP_STATE_RUNNABLE));
	ASSERT_EQ(0, guest_run(fd1));
	ASSERT_TRUE(at_done(run1));
	close(fd1);
	guest_destroy(&g);
}

/*
 * SIPI_RECEIVED is INIT_RECEIVED with a SIPI pending: the LAPIC takes it
 * at once, and the AP starts in real mode at vector << 12 (SDM vol. 3A
 * 8.4.4.1; the vector is 0 before any SIPI).
 */
TEST(sipi_received_starts_the_ap)
{
	struct kvm_run *run1;
	struct kvm_sregs s;
	struct mvm_guest g;
	int fd1;

	irqchip_guest(&g, &fd1, &run1);
	ASSERT_EQ(0, set_mp_state(fd1, KVM_MP_STATE_SIPI_RECEIVED));
	ASSERT_EQ(KVM_MP_STATE_RUNNABLE, get_mp_state(fd1));
	ASSERT_EQ(0, ioctl(fd1, KVM_GET_SREGS, &s));
	EXPECT_EQ(0, s.cs.selector);
	EXPECT_EQ(0, s.cs.base);
	EXPECT_EQ(0, rip_of(fd1));
	close(fd1);
	guest_destroy(&g);
}

TEST_HARNESS_MAIN
