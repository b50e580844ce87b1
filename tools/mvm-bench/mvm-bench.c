// SPDX-License-Identifier: GPL-2.0
/*
 * mvm-bench: exit and ioctl costs through the KVM API.
 *
 * The same binary runs against /dev/kvm and /dev/mvm, so two runs in one
 * boot compare the hypervisors exactly.  Each guest is a few instructions of
 * 64-bit code looping on the operation being measured; the host times whole
 * KVM_RUN loops with CLOCK_MONOTONIC and divides.
 *
 * usage: mvm-bench [-d device] [-n iterations] [-f]    (-f: one line per row,
 *        "name<TAB>ns", for scripts)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kvm.h>
#include "guest_setup.h"

#define MEM_SIZE	(4UL << 20)
#define CODE_ADDR	0x100000UL
#define MMIO_ADDR	0xc0000000UL
#define DONE_PORT	0xf4
#define BENCH_PORT	0x80

static int sys_fd;
static const char *dev_path;
static unsigned long iters = 10000;
static int terse;
static int is_amd;

struct vm {
	int fd, vcpu_fd;
	uint8_t *mem;
	struct kvm_run *run;
};

static void die(const char *what)
{
	fprintf(stderr, "mvm-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void report(const char *name, double ns, const char *unit)
{
	if (terse)
		printf("%s\t%.0f\n", name, ns);
	else
		printf("  %-34s %12.0f ns%s\n", name, ns, unit);
	fflush(stdout);
}

/*
 * Guest code.  Each blob loops R15 times (set by the host) on one
 * operation, then writes to DONE_PORT and halts.  Assembled into this
 * binary, copied to CODE_ADDR; only RIP-relative or absolute addresses.
 */
#define GUEST(name, body)						\
	extern const uint8_t name##_start[], name##_end[];		\
	asm(".pushsection .rodata\n"					\
	    ".code64\n"							\
	    #name "_start:\n"						\
	    "1:\n" body "\n"						\
	    "dec %r15\n"						\
	    "jnz 1b\n"							\
	    "mov $" "0xf4" ", %dx\n"					\
	    "out %al, %dx\n"						\
	    "hlt\n"							\
	    #name "_end:\n"						\
	    ".popsection\n")

GUEST(g_cpuid, "xor %eax, %eax\n cpuid");
GUEST(g_vmcall, "mov $0x7fff, %eax\n vmcall");
GUEST(g_vmmcall, "mov $0x7fff, %eax\n vmmcall");
GUEST(g_out, "mov $0x80, %dx\n out %al, %dx");
GUEST(g_in, "mov $0x80, %dx\n in %dx, %al");
GUEST(g_mmio_write, "movl $0xc0000000, %esi\n movl %eax, (%rsi)");
GUEST(g_mmio_read, "movl $0xc0000000, %esi\n movl (%rsi), %eax");
GUEST(g_hlt, "hlt");
/* Touch one byte per page from RSI on; R15 pages. */
GUEST(g_touch, "movb $1, (%rsi)\n add $4096, %rsi");
extern const uint8_t g_spin_start[], g_spin_end[];
asm(".pushsection .rodata\n.code64\ng_spin_start:\n1: jmp 1b\ng_spin_end:\n.popsection\n");

static void setup_long_mode(struct vm *vm, const uint8_t *start,
			    const uint8_t *end, uint64_t count, uint64_t rsi)
{
	struct kvm_regs regs = { .rip = CODE_ADDR, .rflags = 2, .r15 = count,
				 .rsi = rsi, .rsp = CODE_ADDR };

	/* The shared identity map covers 4 GiB: MMIO at 3 GiB included. */
	memcpy(vm->mem + CODE_ADDR, start, end - start);
	if (mvm_guest_set_long_mode(vm->vcpu_fd, vm->mem) < 0)
		die("KVM_GET/SET_SREGS");
	if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");
}

/* The page tables end at MVM_GUEST_TABLES_END: code goes above them. */
static void vm_create(struct vm *vm, const uint8_t *start, const uint8_t *end,
		      uint64_t count, uint64_t rsi)
{
	struct kvm_userspace_memory_region r = {
		.slot = 0, .memory_size = MEM_SIZE,
	};
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[256];
	} cpuid = { .c.nent = 256 };

	vm->fd = ioctl(sys_fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		die("KVM_CREATE_VM");
	vm->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm->mem == MAP_FAILED)
		die("mmap");
	r.userspace_addr = (uintptr_t)vm->mem;
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		die("KVM_SET_USER_MEMORY_REGION");
	vm->vcpu_fd = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu_fd < 0)
		die("KVM_CREATE_VCPU");
	vm->run = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vm->vcpu_fd, 0);
	if (vm->run == MAP_FAILED)
		die("mmap kvm_run");
	if (ioctl(sys_fd, KVM_GET_SUPPORTED_CPUID, &cpuid) < 0)
		die("KVM_GET_SUPPORTED_CPUID");
	if (ioctl(vm->vcpu_fd, KVM_SET_CPUID2, &cpuid) < 0)
		die("KVM_SET_CPUID2");
	setup_long_mode(vm, start, end, count, rsi);
}

static void vm_destroy(struct vm *vm)
{
	munmap(vm->run, 2 * 4096);
	close(vm->vcpu_fd);
	close(vm->fd);
	munmap(vm->mem, MEM_SIZE);
}

static struct kvm_run *volatile watchdog_run;

static void on_watchdog(int sig)
{
	(void)sig;
	watchdog_run->immediate_exit = 1;
}

/*
 * Run until the guest reports on DONE_PORT; serve everything else.  A
 * guest that does not finish in 120 s is reported with its registers.
 */
static void run_to_done(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = on_watchdog };

	watchdog_run = vm->run;
	sigaction(SIGALRM, &sa, NULL);
	alarm(120);
	for (;;) {
		struct kvm_run *run = vm->run;

		if (ioctl(vm->vcpu_fd, KVM_RUN, 0) < 0) {
			struct kvm_regs regs;

			if (errno != EINTR)
				die("KVM_RUN");
			ioctl(vm->vcpu_fd, KVM_GET_REGS, &regs);
			fprintf(stderr, "mvm-bench: guest stuck: rip 0x%llx r15 %llu rax 0x%llx\n",
				regs.rip, regs.r15, regs.rax);
			exit(1);
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			if (run->io.port == DONE_PORT) {
				alarm(0);
				return;
			}
			break;
		case KVM_EXIT_MMIO:
		case KVM_EXIT_HLT:
			break;
		default:
			fprintf(stderr, "mvm-bench: unexpected exit %u\n",
				run->exit_reason);
			exit(1);
		}
	}
}

static void bench_guest(const char *name, const uint8_t *start,
			const uint8_t *end, unsigned long n)
{
	struct vm vm;
	double t;

	vm_create(&vm, start, end, n, 0);
	t = now_ns();
	run_to_done(&vm);
	t = now_ns() - t;
	vm_destroy(&vm);
	report(name, t / n, "/op");
}

static void bench_fault_in(void)
{
	unsigned long size = 256UL << 20, pages = size / 4096;
	struct kvm_userspace_memory_region r = {
		.slot = 1, .guest_phys_addr = 1UL << 30, .memory_size = size,
	};
	struct vm vm;
	void *mem;
	double t;

	vm_create(&vm, g_touch_start, g_touch_end, pages, 1UL << 30);
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap 256M");
	r.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm.fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		die("KVM_SET_USER_MEMORY_REGION 256M");
	t = now_ns();
	run_to_done(&vm);
	t = now_ns() - t;
	report("fault-in 4K page (256 MiB)", t / pages, "/page");
	report("fault-in 256 MiB total", t, "");
	vm_destroy(&vm);
	munmap(mem, size);
}

static void bench_memslot(void)
{
	struct kvm_userspace_memory_region r = {
		.slot = 1, .guest_phys_addr = 1UL << 30, .memory_size = 1UL << 20,
	};
	unsigned long i, n = iters / 10;
	struct vm vm;
	void *mem;
	double t;

	vm_create(&vm, g_hlt_start, g_hlt_end, 1, 0);
	mem = mmap(NULL, r.memory_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	r.userspace_addr = (uintptr_t)mem;
	t = now_ns();
	for (i = 0; i < n; i++) {
		r.memory_size = 1UL << 20;
		if (ioctl(vm.fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
			die("memslot add");
		r.memory_size = 0;
		if (ioctl(vm.fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
			die("memslot delete");
	}
	t = now_ns() - t;
	report("memslot add+delete", t / n, "/op");
	vm_destroy(&vm);
	munmap(mem, 1UL << 20);
}

static void bench_vm_create(void)
{
	unsigned long i, n = iters / 10;
	double t = now_ns();

	for (i = 0; i < n; i++) {
		int fd = ioctl(sys_fd, KVM_CREATE_VM, 0);

		if (fd < 0)
			die("KVM_CREATE_VM");
		close(fd);
	}
	report("VM create+destroy", (now_ns() - t) / n, "/op");
}

static void bench_vcpu_create(void)
{
	unsigned long i, rounds = iters / 320 + 1, n = 0;
	double t, total = 0;

	for (i = 0; i < rounds; i++) {
		int vm_fd = ioctl(sys_fd, KVM_CREATE_VM, 0), id, fds[32];

		if (vm_fd < 0)
			die("KVM_CREATE_VM");
		t = now_ns();
		for (id = 0; id < 32; id++) {
			fds[id] = ioctl(vm_fd, KVM_CREATE_VCPU, id);
			if (fds[id] < 0)
				die("KVM_CREATE_VCPU");
		}
		total += now_ns() - t;
		n += 32;
		for (id = 0; id < 32; id++)
			close(fds[id]);
		close(vm_fd);
	}
	report("vCPU create", total / n, "/op");
}

static volatile double kick_sent;
static struct kvm_run *volatile spin_run;

/*
 * A signal that lands between two KVM_RUNs would be lost and the guest
 * would spin for ever: the handler also sets immediate_exit, which makes
 * the next KVM_RUN return -EINTR at once (api.rst, "immediate_exit").
 */
static void on_sigusr1(int sig)
{
	(void)sig;
	spin_run->immediate_exit = 1;
}

static void *spin_thread(void *arg)
{
	struct vm *vm = arg;
	double *lat = (double *)vm->mem;	/* scratch: results go back here */
	unsigned long i;

	for (i = 0; i < 100; i++) {
		int r = ioctl(vm->vcpu_fd, KVM_RUN, 0);

		if (r >= 0 || errno != EINTR) {
			fprintf(stderr, "mvm-bench: spin guest exited (%d)\n", r);
			exit(1);
		}
		lat[i] = now_ns() - kick_sent;
		vm->run->immediate_exit = 0;
	}
	return NULL;
}

static void bench_signal(void)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };
	double lat[100], sum = 0;
	pthread_t th;
	struct vm vm;
	int i;

	sigaction(SIGUSR1, &sa, NULL);
	vm_create(&vm, g_spin_start, g_spin_end, 0, 0);
	spin_run = vm.run;
	{
		/* IF=1: Bochs exits a VMX guest on interrupts only then. */
		struct kvm_regs regs;

		if (ioctl(vm.vcpu_fd, KVM_GET_REGS, &regs) < 0)
			die("KVM_GET_REGS");
		regs.rflags |= 0x200;
		if (ioctl(vm.vcpu_fd, KVM_SET_REGS, &regs) < 0)
			die("KVM_SET_REGS");
	}
	/* Results land in the first page of guest memory, unused by the guest. */
	if (pthread_create(&th, NULL, spin_thread, &vm))
		die("pthread_create");
	for (i = 0; i < 100; i++) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		nanosleep(&ts, NULL);	/* let it get back into the guest */
		kick_sent = now_ns();
		pthread_kill(th, SIGUSR1);
	}
	pthread_join(th, NULL);
	memcpy(lat, vm.mem, sizeof(lat));
	for (i = 0; i < 100; i++)
		sum += lat[i];
	report("signal to KVM_RUN return", sum / 100, "");
	vm_destroy(&vm);
}

int main(int argc, char **argv)
{
	char vendor[13] = {};
	unsigned int eax, ebx, ecx, edx;
	int opt;

	dev_path = getenv("MVM_DEV") ? getenv("MVM_DEV") : "/dev/mvm";
	while ((opt = getopt(argc, argv, "d:n:f")) != -1) {
		switch (opt) {
		case 'd':
			dev_path = optarg;
			break;
		case 'n':
			iters = strtoul(optarg, NULL, 0);
			break;
		case 'f':
			terse = 1;
			break;
		default:
			fprintf(stderr, "usage: %s [-d dev] [-n iters] [-f]\n", argv[0]);
			return 2;
		}
	}
	sys_fd = open(dev_path, O_RDWR | O_CLOEXEC);
	if (sys_fd < 0)
		die(dev_path);

	asm volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(0));
	memcpy(vendor, &ebx, 4);
	memcpy(vendor + 4, &edx, 4);
	memcpy(vendor + 8, &ecx, 4);
	is_amd = !strcmp(vendor, "AuthenticAMD");

	if (!terse)
		printf("mvm-bench on %s, %lu iterations\n", dev_path, iters);
	bench_guest("CPUID (in kernel)", g_cpuid_start, g_cpuid_end, iters);
	if (is_amd)
		bench_guest("hypercall VMMCALL (in kernel)", g_vmmcall_start,
			    g_vmmcall_end, iters);
	else
		bench_guest("hypercall VMCALL (in kernel)", g_vmcall_start,
			    g_vmcall_end, iters);
	bench_guest("PIO OUT round trip", g_out_start, g_out_end, iters);
	bench_guest("PIO IN round trip", g_in_start, g_in_end, iters);
	bench_guest("MMIO write round trip", g_mmio_write_start,
		    g_mmio_write_end, iters);
	bench_guest("MMIO read round trip", g_mmio_read_start,
		    g_mmio_read_end, iters);
	bench_guest("HLT round trip", g_hlt_start, g_hlt_end, iters);
	bench_fault_in();
	bench_memslot();
	bench_vm_create();
	bench_vcpu_create();
	bench_signal();
	return 0;
}
