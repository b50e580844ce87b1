// SPDX-License-Identifier: GPL-2.0
/*
 * Several guests at once: two vCPUs of one VM running at the same time on
 * two host threads, a vCPU spinning with interrupts off that must not keep
 * its sibling (or the host) from running, and 64 VMs created and run
 * concurrently.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

/* Count in guest memory at RSI, for ever. */
GUEST_CODE_BLOB(g_count, ".code64", "1: incq (%rsi)\n jmp 1b\n");

struct runner {
	int fd;
	struct kvm_run *run;
	pthread_t th;
	int result;
};

static struct kvm_run *volatile runs_to_stop[2];

static void on_sigusr1(int sig)
{
	int i;

	for (i = 0; i < 2; i++)
		if (runs_to_stop[i])
			runs_to_stop[i]->immediate_exit = 1;
}

static void *run_vcpu(void *arg)
{
	struct runner *r = arg;

	r->result = guest_run(r->fd);
	return NULL;
}

static void set_counter(int fd, uint64_t addr)
{
	struct kvm_regs regs;

	ioctl(fd, KVM_GET_REGS, &regs);
	regs.rsi = addr;
	regs.rflags |= 0x200;	/* IF=1, as a real guest (see exits_test) */
	ioctl(fd, KVM_SET_REGS, &regs);
}

TEST(two_vcpus_run_at_once)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };
	volatile uint64_t *counters;
	struct runner r[2];
	struct mvm_guest g;
	struct timespec t0, now;
	int i;

	sigaction(SIGUSR1, &sa, NULL);
	guest_create(&g, 1 << 21);
	guest_load(&g, GUEST_CODE, g_count_start, BLOB_LEN(g_count));
	counters = (volatile uint64_t *)(g.mem + 0x20000);
	r[0].fd = g.vcpu_fd;
	r[0].run = g.run;
	r[1].fd = guest_add_vcpu(&g, 1, &r[1].run);
	for (i = 0; i < 2; i++) {
		guest_set_long_mode(&g, r[i].fd, GUEST_CODE);
		set_counter(r[i].fd, 0x20000 + 8 * i);
		runs_to_stop[i] = r[i].run;
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&r[i].th, NULL, run_vcpu, &r[i]));

	/* Both counters advance while both threads are in KVM_RUN. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		usleep(10000);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((counters[0] < 100000 || counters[1] < 100000) &&
		 now.tv_sec - t0.tv_sec < 60);
	ASSERT_GE(counters[0], 100000);
	ASSERT_GE(counters[1], 100000);

	for (i = 0; i < 2; i++) {
		/* Stop it: the signal interrupts KVM_RUN (or the next one). */
		pthread_kill(r[i].th, SIGUSR1);
		pthread_join(r[i].th, NULL);
		ASSERT_EQ(-EINTR, r[i].result);
	}
	runs_to_stop[0] = runs_to_stop[1] = NULL;
	close(r[1].fd);
	guest_destroy(&g);
}

/*
 * Spin with interrupts off, PAUSE in the loop as every spinlock has it,
 * until the flag at RSI is set; then report on port 0x80.
 */
GUEST_CODE_BLOB(g_wait_flag, ".code64",
		"1: pause\n cmpq $0, (%rsi)\n je 1b\n"
		"mov $1, %eax\n out %eax, $0x80\n hlt\n");
/* Set the flag at RSI, then report. */
GUEST_CODE_BLOB(g_set_flag, ".code64",
		"movq $1, (%rsi)\n mov $2, %eax\n out %eax, $0x80\n hlt\n");

static void *run_vcpu_on_cpu0(void *arg)
{
	cpu_set_t cpus;

	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	return run_vcpu(arg);
}

/*
 * vCPU 1 waits for a flag with interrupts off; vCPU 0, whose thread is
 * started only once vCPU 1 spins and shares its host CPU, sets it.  Both
 * must finish: the spinner's PAUSE loop exits (PAUSE-loop exiting, the
 * PAUSE filter) and gives the CPU away, and the host keeps taking its own
 * interrupts meanwhile.  (Under Bochs, whose external interrupts do not
 * exit a guest that runs with IF=0, a hypervisor without PAUSE-loop
 * exiting hangs the host here.)
 */
TEST(spinner_with_interrupts_off_lets_its_sibling_run)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };
	volatile uint64_t *flag;
	struct runner r[2];
	struct mvm_guest g;
	int i;

	sigaction(SIGUSR1, &sa, NULL);
	guest_create(&g, 1 << 21);
	guest_load(&g, GUEST_CODE, g_set_flag_start, BLOB_LEN(g_set_flag));
	guest_load(&g, GUEST_CODE + 0x1000, g_wait_flag_start,
		   BLOB_LEN(g_wait_flag));
	flag = (volatile uint64_t *)(g.mem + 0x20000);
	r[0].fd = g.vcpu_fd;
	r[0].run = g.run;
	r[1].fd = guest_add_vcpu(&g, 1, &r[1].run);
	guest_set_long_mode(&g, r[0].fd, GUEST_CODE);
	guest_set_long_mode(&g, r[1].fd, GUEST_CODE + 0x1000);
	for (i = 0; i < 2; i++) {
		struct kvm_regs regs;

		ASSERT_EQ(0, ioctl(r[i].fd, KVM_GET_REGS, &regs));
		regs.rsi = 0x20000;
		regs.rflags &= ~0x200ull;	/* IF=0 */
		ASSERT_EQ(0, ioctl(r[i].fd, KVM_SET_REGS, &regs));
		runs_to_stop[i] = r[i].run;
	}

	ASSERT_EQ(0, pthread_create(&r[1].th, NULL, run_vcpu_on_cpu0, &r[1]));
	usleep(100000);		/* vCPU 1 spins by now */
	ASSERT_EQ(0, *flag);
	ASSERT_EQ(0, pthread_create(&r[0].th, NULL, run_vcpu_on_cpu0, &r[0]));
	for (i = 0; i < 2; i++) {
		pthread_join(r[i].th, NULL);
		EXPECT_EQ(0, r[i].result);
		EXPECT_EQ(KVM_EXIT_IO, r[i].run->exit_reason);
		EXPECT_EQ(0x80, r[i].run->io.port);
		EXPECT_EQ(2 - i, *(uint32_t *)((char *)r[i].run +
					       r[i].run->io.data_offset));
	}
	EXPECT_EQ(1, *flag);
	runs_to_stop[0] = runs_to_stop[1] = NULL;
	close(r[1].fd);
	guest_destroy(&g);
}

/* Report RBX on port 0x80, then halt. */
GUEST_CODE_BLOB(g_report, ".code64", "mov %ebx, %eax\n out %eax, $0x80\n hlt\n");

#define NR_VMS	64

struct vm_thread {
	int index;
	int ok;
	pthread_barrier_t *start;
};

static void *run_one_vm(void *arg)
{
	struct vm_thread *t = arg;
	struct kvm_regs regs;
	struct mvm_guest g;

	guest_create(&g, 1 << 21);
	guest_load(&g, GUEST_CODE, g_report_start, BLOB_LEN(g_report));
	guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE);
	ioctl(g.vcpu_fd, KVM_GET_REGS, &regs);
	regs.rbx = 1000 + t->index;
	ioctl(g.vcpu_fd, KVM_SET_REGS, &regs);
	pthread_barrier_wait(t->start);

	t->ok = !guest_run(g.vcpu_fd) && g.run->exit_reason == KVM_EXIT_IO &&
		*(uint32_t *)((char *)g.run + g.run->io.data_offset) ==
		(uint32_t)(1000 + t->index) &&
		!guest_run(g.vcpu_fd) && g.run->exit_reason == KVM_EXIT_HLT;
	guest_destroy(&g);
	return NULL;
}

TEST(sixty_four_vms_at_once)
{
	struct vm_thread t[NR_VMS];
	pthread_t th[NR_VMS];
	pthread_barrier_t start;
	int i;

	pthread_barrier_init(&start, NULL, NR_VMS);
	for (i = 0; i < NR_VMS; i++) {
		t[i] = (struct vm_thread){ .index = i, .start = &start };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, run_one_vm, &t[i]));
	}
	for (i = 0; i < NR_VMS; i++) {
		pthread_join(th[i], NULL);
		EXPECT_TRUE(t[i].ok) TH_LOG("VM %d", i);
	}
	pthread_barrier_destroy(&start);
}

TEST_HARNESS_MAIN
