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
#include <sys/eventfd.h>
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
/* The same, one byte per 2 MiB. */
GUEST(g_touch2m, "movb $1, (%rsi)\n add $0x200000, %rsi");
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

/* ------------------------------------------------------------------ */
/*
 * Guest memory rows: fault-in of THP-backed memory, dirty-log harvest,
 * and an MMU-notifier invalidation while a vCPU runs.  Slots at 1 GiB,
 * 2 MiB-aligned.
 */
#define MEM_SLOT_GPA	(1UL << 30)
#define HUGE_2M		(2UL << 20)

static void *aligned_mem(unsigned long size, void **raw)
{
	uint8_t *p = mmap(NULL, size + HUGE_2M, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	*raw = p;
	p = (uint8_t *)(((uintptr_t)p + HUGE_2M - 1) & ~(HUGE_2M - 1));
	madvise(p, size, MADV_HUGEPAGE);
	return p;
}

static void add_mem_slot(struct vm *vm, void *mem, unsigned long size,
			 uint32_t flags)
{
	struct kvm_userspace_memory_region r = {
		.slot = 1, .flags = flags, .guest_phys_addr = MEM_SLOT_GPA,
		.memory_size = size, .userspace_addr = (uintptr_t)mem,
	};

	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		die("KVM_SET_USER_MEMORY_REGION");
}

/* Rerun the guest code at CODE_ADDR from the start: R15 times from RSI. */
static void rerun(struct vm *vm, uint64_t count, uint64_t rsi)
{
	struct kvm_regs regs;

	if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &regs) < 0)
		die("KVM_GET_REGS");
	regs.rip = CODE_ADDR;
	regs.r15 = count;
	regs.rsi = rsi;
	if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");
	run_to_done(vm);
}

static void bench_fault_in_thp(void)
{
	unsigned long size = 256UL << 20, n = size / HUGE_2M;
	struct vm vm;
	void *raw, *mem = aligned_mem(size, &raw);
	double t;

	vm_create(&vm, g_touch2m_start, g_touch2m_end, n, MEM_SLOT_GPA);
	add_mem_slot(&vm, mem, size, 0);
	t = now_ns();
	run_to_done(&vm);
	t = now_ns() - t;
	report("fault-in 2M THP (256 MiB)", t / n, "/2 MiB");
	vm_destroy(&vm);
	munmap(raw, size + HUGE_2M);
}

/*
 * KVM_GET_DIRTY_LOG + KVM_CLEAR_DIRTY_LOG (manual protect) of a slot
 * whose every page the guest wrote, scaled to 1 GiB.
 */
static void bench_dirty_log(void)
{
	unsigned long size = 128UL << 20, pages = size / 4096;
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
		.args = { KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE },
	};
	struct kvm_dirty_log get = { .slot = 1 };
	struct kvm_clear_dirty_log clear = { .slot = 1, .num_pages = pages };
	uint64_t *bitmap = calloc(pages / 64, 8);
	double t = 0;
	int round, rounds = 3;
	struct vm vm;
	void *raw, *mem = aligned_mem(size, &raw);

	if (!bitmap)
		die("calloc");
	vm_create(&vm, g_touch_start, g_touch_end, pages, MEM_SLOT_GPA);
	if (ioctl(vm.fd, KVM_ENABLE_CAP, &cap) < 0) {
		/* No dirty logging: no row. */
		vm_destroy(&vm);
		munmap(raw, size + HUGE_2M);
		free(bitmap);
		return;
	}
	add_mem_slot(&vm, mem, size, KVM_MEM_LOG_DIRTY_PAGES);
	get.dirty_bitmap = clear.dirty_bitmap = bitmap;
	for (round = 0; round < rounds; round++) {
		double t0;

		rerun(&vm, pages, MEM_SLOT_GPA);
		t0 = now_ns();
		if (ioctl(vm.fd, KVM_GET_DIRTY_LOG, &get) < 0)
			die("KVM_GET_DIRTY_LOG");
		if (ioctl(vm.fd, KVM_CLEAR_DIRTY_LOG, &clear) < 0)
			die("KVM_CLEAR_DIRTY_LOG");
		t += now_ns() - t0;
		if (bitmap[pages / 64 - 1] != ~0ULL)
			die("dirty log incomplete");
	}
	report("dirty-log get+clear per GiB", t / rounds * ((1UL << 30) / size),
	       "");
	vm_destroy(&vm);
	munmap(raw, size + HUGE_2M);
	free(bitmap);
}

static volatile int stop_spinning;

static void *spin_until_stopped(void *arg)
{
	struct vm *vm = arg;

	while (!stop_spinning) {
		int r = ioctl(vm->vcpu_fd, KVM_RUN, 0);

		if (r >= 0 || errno != EINTR) {
			fprintf(stderr, "mvm-bench: spin guest exited (%d)\n", r);
			exit(1);
		}
		vm->run->immediate_exit = 0;
	}
	return NULL;
}

/*
 * MADV_DONTNEED of 2 MiB of THP-backed guest memory the guest has mapped,
 * while its vCPU spins in the guest: the MMU notifier's zap and the flush
 * of a running vCPU, inside the madvise() call.
 */
static void bench_invalidate(void)
{
	unsigned long size = 64UL << 20, n = size / HUGE_2M, i;
	struct sigaction sa = { .sa_handler = on_sigusr1 };
	struct kvm_regs regs;
	double t = 0;
	pthread_t th;
	struct vm vm;
	uint8_t *raw, *mem = aligned_mem(size, (void **)&raw);

	vm_create(&vm, g_touch2m_start, g_touch2m_end, n, MEM_SLOT_GPA);
	add_mem_slot(&vm, mem, size, 0);
	run_to_done(&vm);

	memcpy(vm.mem + CODE_ADDR, g_spin_start, g_spin_end - g_spin_start);
	if (ioctl(vm.vcpu_fd, KVM_GET_REGS, &regs) < 0)
		die("KVM_GET_REGS");
	regs.rip = CODE_ADDR;
	regs.rflags |= 0x200;	/* Bochs exits a VMX guest on IRQs only so */
	if (ioctl(vm.vcpu_fd, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");
	sigaction(SIGUSR1, &sa, NULL);
	spin_run = vm.run;
	stop_spinning = 0;
	if (pthread_create(&th, NULL, spin_until_stopped, &vm))
		die("pthread_create");
	for (i = 0; i < n; i++) {
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		double t0;

		nanosleep(&ts, NULL);	/* let it get back into the guest */
		t0 = now_ns();
		if (madvise(mem + i * HUGE_2M, HUGE_2M, MADV_DONTNEED))
			die("madvise");
		t += now_ns() - t0;
	}
	stop_spinning = 1;
	while (pthread_tryjoin_np(th, NULL)) {
		struct timespec ts = { 0, 1000 * 1000 };

		pthread_kill(th, SIGUSR1);
		nanosleep(&ts, NULL);
	}
	report("invalidate 2M, vCPU running", t / n, "/op");
	vm_destroy(&vm);
	munmap(raw, size + HUGE_2M);
}

/* ------------------------------------------------------------------ */
/*
 * The in-kernel LAPIC rows: VMs with the split irqchip (LAPICs in the
 * kernel, KVM_CAP_SPLIT_IRQCHIP), guests that HLT and are woken by the
 * LAPIC timer, an IPI, an irqfd.  The guest times them with RDTSC and
 * the host converts with KVM_GET_TSC_KHZ.  A hypervisor that cannot run
 * one (no in-kernel LAPIC yet) prints no row: the table shows "-".
 */
#define IRQ_DATA	0x200000UL	/* guest/host shared words */
#define D_FLAG		(IRQ_DATA + 0x00)
#define D_T1		(IRQ_DATA + 0x08)	/* handler's RDTSC */
#define D_SUM		(IRQ_DATA + 0x10)	/* guest's total, cycles */
#define D_READY		(IRQ_DATA + 0x20)
#define D_COUNT		(IRQ_DATA + 0x28)
#define IRQ_H0		0x101000UL		/* handlers, one page each */
#define IRQ_H1		0x102000UL
#define IRQ_CODE1	0x103000UL		/* vCPU 1's code */
#define IRQ_IDT_LIMIT	(0x50 * 16 - 1)

#define X_APIC(off)	"mov $0xfee00" #off ", %eax\n"
#define X_SVR_ON	X_APIC(0f0) "movl $0x1ff, (%rax)\n"
#define X_EOI		X_APIC(0b0) "movl $0, (%rax)\n"
#define RDTSC_RAX	"rdtsc\n shl $32, %rdx\n or %rdx, %rax\n"
/* Wait for the handler's flag in HLT, IF=1 only inside STI;HLT. */
#define WAIT_FLAG	"2: cmpl $0, 0x200000\n jne 3f\n sti\n hlt\n cli\n jmp 2b\n 3:\n"
#define DONE_HLT	"mov $0xf4, %dx\n out %al, %dx\n hlt\n"

#define BLOB(name, body)						\
	extern const uint8_t name##_start[], name##_end[];		\
	asm(".pushsection .rodata\n.code64\n" #name "_start:\n" body	\
	    "\n" #name "_end:\n.popsection\n")

/*
 * (a) TSC-deadline timer (LVT timer mode 10b, SDM vol. 3A 10.5.4.1) armed
 * RSI cycles ahead, then HLT; the handler's RDTSC minus the deadline.
 */
BLOB(g_timer_lat,
	X_SVR_ON X_APIC(320) "movl $0x40041, (%rax)\n"
	"xor %r13, %r13\n"
	"1: cli\n movl $0, 0x200000\n"
	RDTSC_RAX "add %rsi, %rax\n mov %rax, %r14\n"
	"mov %r14, %rdx\n shr $32, %rdx\n mov $0x6e0, %ecx\n wrmsr\n"
	WAIT_FLAG
	"mov 0x200008, %rax\n sub %r14, %rax\n add %rax, %r13\n"
	"dec %r15\n jnz 1b\n mov %r13, 0x200010\n" DONE_HLT);
BLOB(h_timer_lat,
	"push %rax\n push %rdx\n" RDTSC_RAX "mov %rax, 0x200008\n"
	"movl $1, 0x200000\n" X_EOI "pop %rdx\n pop %rax\n iretq\n");

/*
 * (b) vCPU 0 sends vector 0x44 to APIC ID 1 and HLTs; vCPU 1, in HLT,
 * answers with 0x45 to APIC ID 0 from its handler.  RDTSC around it.
 */
BLOB(g_ipi_ping,
	X_SVR_ON "xor %r13, %r13\n"
	"1: cli\n movl $0, 0x200000\n" RDTSC_RAX "mov %rax, %r14\n"
	X_APIC(310) "movl $0x01000000, (%rax)\n"
	X_APIC(300) "movl $0x44, (%rax)\n"
	WAIT_FLAG RDTSC_RAX "sub %r14, %rax\n add %rax, %r13\n"
	"dec %r15\n jnz 1b\n mov %r13, 0x200010\n" DONE_HLT);
BLOB(h_ipi_ping, "push %rax\n movl $1, 0x200000\n" X_EOI "pop %rax\n iretq\n");
BLOB(g_ipi_pong, X_SVR_ON "movl $1, 0x200020\n sti\n 1: hlt\n jmp 1b\n");
BLOB(h_ipi_pong,
	"push %rax\n" X_EOI X_APIC(310) "movl $0, (%rax)\n"
	X_APIC(300) "movl $0x45, (%rax)\n pop %rax\n iretq\n");

/*
 * (c) HLT until an irqfd's MSI (vector 0x46) arrives; the handler's RDTSC
 * is compared with the host's just before its eventfd write.
 */
BLOB(g_irqfd_wait,
	X_SVR_ON "1: cli\n movl $0, 0x200000\n movl $1, 0x200020\n"
	WAIT_FLAG "dec %r15\n jnz 1b\n" DONE_HLT);
BLOB(h_irqfd_wait,
	"push %rax\n push %rdx\n" RDTSC_RAX "mov %rax, 0x200008\n"
	"movl $1, 0x200000\n incq 0x200028\n" X_EOI
	"pop %rdx\n pop %rax\n iretq\n");

/* (d) EOI with nothing in service: the write's exit and the APIC's work. */
GUEST(g_eoi_mmio, "movl $0, (%rsi)");
GUEST(g_eoi_x2apic, "mov $0x80b, %ecx\n xor %eax, %eax\n xor %edx, %edx\n wrmsr");

struct irq_vm {
	struct vm vm;		/* vCPU 0 */
	int vcpu1_fd;
	struct kvm_run *run1;
	unsigned long tsc_khz;
};

static int irq_vcpu(struct irq_vm *v, int id, int *fd, struct kvm_run **run,
		    uint64_t rip, uint64_t rsp, uint64_t count, uint64_t rsi)
{
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[256];
	} cpuid = { .c.nent = 256 };
	struct kvm_regs regs = { .rip = rip, .rflags = 2, .r15 = count,
				 .rsi = rsi, .rsp = rsp };
	struct kvm_sregs sregs;
	unsigned int i;

	*fd = ioctl(v->vm.fd, KVM_CREATE_VCPU, id);
	if (*fd < 0)
		return -1;
	*run = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (*run == MAP_FAILED)
		return -1;
	if (ioctl(sys_fd, KVM_GET_SUPPORTED_CPUID, &cpuid) < 0)
		return -1;
	/*
	 * The TSC-deadline timer (CPUID.1:ECX[24]) is the VMM's to offer
	 * with an in-kernel LAPIC (KVM_CAP_TSC_DEADLINE_TIMER), as QEMU does.
	 */
	for (i = 0; i < cpuid.c.nent; i++)
		if (cpuid.e[i].function == 1)
			cpuid.e[i].ecx |= 1u << 24;
	if (ioctl(*fd, KVM_SET_CPUID2, &cpuid) < 0)
		return -1;
	if (mvm_guest_set_long_mode(*fd, v->vm.mem) < 0 ||
	    ioctl(*fd, KVM_GET_SREGS, &sregs) < 0)
		return -1;
	sregs.idt.base = 0;
	sregs.idt.limit = IRQ_IDT_LIMIT;
	if (ioctl(*fd, KVM_SET_SREGS, &sregs) < 0 ||
	    ioctl(*fd, KVM_SET_REGS, &regs) < 0)
		return -1;
	if (id) {
		/* An AP starts waiting for INIT/SIPI: run it now. */
		struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };

		if (ioctl(*fd, KVM_SET_MP_STATE, &mp) < 0)
			return -1;
	}
	return 0;
}

static void gate(uint8_t *mem, int vector, uint64_t handler)
{
	uint64_t *g = (uint64_t *)(mem + vector * 16);

	g[0] = (handler & 0xffff) | (0x8ULL << 16) | (0x8eULL << 40) |
	       ((handler >> 16) & 0xffff) << 48;
	g[1] = handler >> 32;
}

/* A split-irqchip VM, vCPU 0 running @start with R15 = @count, RSI = @rsi. */
static int irq_vm_create(struct irq_vm *v, const uint8_t *start,
			 const uint8_t *end, uint64_t count, uint64_t rsi)
{
	struct kvm_userspace_memory_region r = { .memory_size = MEM_SIZE };
	struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP,
				      .args = { 24 } };
	long khz;

	memset(v, 0, sizeof(*v));
	v->vm.vcpu_fd = -1;
	v->vcpu1_fd = -1;
	v->vm.fd = ioctl(sys_fd, KVM_CREATE_VM, 0);
	if (v->vm.fd < 0)
		return -1;
	v->vm.mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (v->vm.mem == MAP_FAILED)
		return -1;
	r.userspace_addr = (uintptr_t)v->vm.mem;
	if (ioctl(v->vm.fd, KVM_SET_USER_MEMORY_REGION, &r) < 0 ||
	    ioctl(v->vm.fd, KVM_ENABLE_CAP, &cap) < 0)
		return -1;
	memcpy(v->vm.mem + CODE_ADDR, start, end - start);
	if (irq_vcpu(v, 0, &v->vm.vcpu_fd, &v->vm.run, CODE_ADDR, CODE_ADDR,
		     count, rsi))
		return -1;
	khz = ioctl(v->vm.vcpu_fd, KVM_GET_TSC_KHZ, 0);
	if (khz <= 0)
		return -1;
	v->tsc_khz = khz;
	return 0;
}

static void irq_vm_destroy(struct irq_vm *v)
{
	if (v->vcpu1_fd >= 0)
		close(v->vcpu1_fd);
	if (v->vm.vcpu_fd >= 0)
		close(v->vm.vcpu_fd);
	if (v->vm.fd >= 0)
		close(v->vm.fd);
	if (v->vm.mem && v->vm.mem != MAP_FAILED)
		munmap(v->vm.mem, MEM_SIZE);
}

static double cycles_to_ns(struct irq_vm *v, double cycles)
{
	return cycles * 1e6 / v->tsc_khz;
}

static volatile sig_atomic_t irq_timed_out;

static void on_irq_alarm(int sig)
{
	(void)sig;
	irq_timed_out = 1;
}

/*
 * Run vCPU 0 until DONE_PORT; 0, or -1 on anything else (an exit the
 * hypervisor should have handled, a guest stuck for 30 s).
 */
static int irq_run_to_done(struct irq_vm *v)
{
	struct sigaction sa = { .sa_handler = on_irq_alarm };

	irq_timed_out = 0;
	sigaction(SIGALRM, &sa, NULL);
	alarm(30);
	for (;;) {
		if (ioctl(v->vm.vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR && !irq_timed_out)
				continue;
			fprintf(stderr, "mvm-bench: KVM_RUN: %s\n",
				irq_timed_out ? "guest stuck" : strerror(errno));
			break;
		}
		if (v->vm.run->exit_reason == KVM_EXIT_IO &&
		    v->vm.run->io.port == DONE_PORT) {
			alarm(0);
			return 0;
		}
		fprintf(stderr, "mvm-bench: unexpected exit %u\n",
			v->vm.run->exit_reason);
		break;
	}
	alarm(0);
	return -1;
}

/* Helper threads leave SIGALRM (irq_run_to_done()'s) to the main one. */
static int start_helper(pthread_t *th, void *(*fn)(void *), void *arg)
{
	sigset_t alrm, old;
	int r;

	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alrm, &old);
	r = pthread_create(th, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

static uint64_t guest_u64(struct irq_vm *v, uint64_t gpa)
{
	return __atomic_load_n((uint64_t *)(v->vm.mem + gpa), __ATOMIC_ACQUIRE);
}

static void bench_timer_latency(unsigned long n)
{
	struct irq_vm v;
	uint64_t delta;

	/* 200 us ahead: past the arming exit even under TCG. */
	if (irq_vm_create(&v, g_timer_lat_start, g_timer_lat_end, n, 0))
		goto out;
	delta = v.tsc_khz / 5;
	{
		struct kvm_regs regs;

		if (ioctl(v.vm.vcpu_fd, KVM_GET_REGS, &regs) < 0)
			goto out;
		regs.rsi = delta;
		if (ioctl(v.vm.vcpu_fd, KVM_SET_REGS, &regs) < 0)
			goto out;
	}
	memcpy(v.vm.mem + IRQ_H0, h_timer_lat_start,
	       h_timer_lat_end - h_timer_lat_start);
	gate(v.vm.mem, 0x41, IRQ_H0);
	if (irq_run_to_done(&v))
		goto out;
	report("LAPIC timer expiry to handler, HLT",
	       cycles_to_ns(&v, (double)guest_u64(&v, D_SUM) / n), "");
out:
	irq_vm_destroy(&v);
}

struct pong {
	int fd;
	struct kvm_run *run;
	int err;
};

static void *pong_thread(void *arg)
{
	struct pong *p = arg;

	/* Until the main thread stops us with SIGUSR1 (immediate_exit). */
	while (!p->run->immediate_exit) {
		if (ioctl(p->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			p->err = errno;
			break;
		}
		p->err = -1;		/* any exit is unexpected */
		break;
	}
	return NULL;
}

static void on_sigusr2(int sig)
{
	(void)sig;	/* interrupts KVM_RUN; immediate_exit does the rest */
}

static void bench_ipi_round_trip(unsigned long n)
{
	struct sigaction sa = { .sa_handler = on_sigusr2 };
	struct pong p = { 0 };
	pthread_t th;
	struct irq_vm v;
	int started = 0, i;

	sigaction(SIGUSR2, &sa, NULL);
	if (irq_vm_create(&v, g_ipi_ping_start, g_ipi_ping_end, n, 0))
		goto out;
	memcpy(v.vm.mem + IRQ_CODE1, g_ipi_pong_start,
	       g_ipi_pong_end - g_ipi_pong_start);
	memcpy(v.vm.mem + IRQ_H0, h_ipi_ping_start,
	       h_ipi_ping_end - h_ipi_ping_start);
	memcpy(v.vm.mem + IRQ_H1, h_ipi_pong_start,
	       h_ipi_pong_end - h_ipi_pong_start);
	gate(v.vm.mem, 0x44, IRQ_H1);
	gate(v.vm.mem, 0x45, IRQ_H0);
	if (irq_vcpu(&v, 1, &v.vcpu1_fd, &v.run1, IRQ_CODE1, 0xf0000, 0, 0))
		goto out;
	p.fd = v.vcpu1_fd;
	p.run = v.run1;
	if (start_helper(&th, pong_thread, &p))
		goto out;
	started = 1;
	/*
	 * vCPU 0 starts once vCPU 1 is ready, rather than spinning for it
	 * in the guest, which would depend on the host preempting it.
	 */
	for (i = 0; !guest_u64(&v, D_READY); i++) {
		struct timespec ms = { 0, 1000000 };

		if (p.err || i > 10000)
			goto out;
		nanosleep(&ms, NULL);
	}
	if (irq_run_to_done(&v) == 0 && !p.err)
		report("IPI round trip, both in HLT",
		       cycles_to_ns(&v, (double)guest_u64(&v, D_SUM) / n), "");
out:
	if (started) {
		v.run1->immediate_exit = 1;
		while (pthread_tryjoin_np(th, NULL)) {
			struct timespec ts = { 0, 1000000 };

			pthread_kill(th, SIGUSR2);
			nanosleep(&ts, NULL);
		}
	}
	irq_vm_destroy(&v);
}

struct irqfd_host {
	struct irq_vm *v;
	int efd;
	unsigned long n;
	int64_t tsc_offset;	/* guest TSC - host TSC */
	double sum;		/* cycles */
	volatile int stop;	/* the guest run failed: give up */
	int failed;
};

static uint64_t host_rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static void *irqfd_writer(void *arg)
{
	struct irqfd_host *h = arg;
	volatile uint32_t *ready = (uint32_t *)(h->v->vm.mem + D_READY);
	unsigned long i;

	for (i = 0; i < h->n; i++) {
		struct timespec ms2 = { 0, 2000000 }, us50 = { 0, 50000 };
		uint64_t one = 1, t0;
		int spins = 0;

		while (!__atomic_load_n(ready, __ATOMIC_ACQUIRE)) {
			nanosleep(&us50, NULL);
			if (h->stop || ++spins > 200000) {
				h->failed = 1;
				return NULL;
			}
		}
		*ready = 0;
		nanosleep(&ms2, NULL);	/* let the guest reach HLT and sleep */
		t0 = host_rdtsc();
		if (write(h->efd, &one, 8) != 8) {
			h->failed = 1;
			return NULL;
		}
		while (guest_u64(h->v, D_COUNT) != i + 1) {
			if (h->stop) {
				h->failed = 1;
				return NULL;
			}
			sched_yield();
		}
		h->sum += (double)(int64_t)(guest_u64(h->v, D_T1) -
					    (t0 + h->tsc_offset));
	}
	return NULL;
}

static void bench_irqfd_wake(unsigned long n)
{
	struct {
		struct kvm_irq_routing r;
		struct kvm_irq_routing_entry e[1];
	} routing = { .r.nr = 1 };
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} tsc = { .h.nmsrs = 1, .e.index = 0x10 };
	struct irqfd_host h = { 0 };
	struct kvm_irqfd irqfd = { 0 };
	struct irq_vm v;
	uint64_t t0, t1, best;
	pthread_t th;
	int efd = -1, i;

	if (irq_vm_create(&v, g_irqfd_wait_start, g_irqfd_wait_end, n, 0))
		goto out;
	memcpy(v.vm.mem + IRQ_H0, h_irqfd_wait_start,
	       h_irqfd_wait_end - h_irqfd_wait_start);
	gate(v.vm.mem, 0x46, IRQ_H0);

	/* GSI 0 -> MSI to APIC ID 0, fixed, vector 0x46 (SDM 10.11). */
	routing.e[0].gsi = 0;
	routing.e[0].type = KVM_IRQ_ROUTING_MSI;
	routing.e[0].u.msi.address_lo = 0xfee00000;
	routing.e[0].u.msi.data = 0x46;
	efd = eventfd(0, EFD_CLOEXEC);
	irqfd.fd = efd;
	irqfd.gsi = 0;
	if (efd < 0 || ioctl(v.vm.fd, KVM_SET_GSI_ROUTING, &routing) < 0 ||
	    ioctl(v.vm.fd, KVM_IRQFD, &irqfd) < 0)
		goto out;

	/*
	 * The guest TSC against the host's: the midpoint of the shortest of
	 * a few reads bounds the error by half its length.
	 */
	for (i = 0, best = ~0ULL; i < 8; i++) {
		t0 = host_rdtsc();
		if (ioctl(v.vm.vcpu_fd, KVM_GET_MSRS, &tsc) != 1)
			goto out;
		t1 = host_rdtsc();
		if (t1 - t0 < best) {
			best = t1 - t0;
			h.tsc_offset = (int64_t)(tsc.e.data - (t0 + (t1 - t0) / 2));
		}
	}

	h.v = &v;
	h.efd = efd;
	h.n = n;
	if (start_helper(&th, irqfd_writer, &h))
		goto out;
	if (irq_run_to_done(&v)) {
		h.stop = 1;
		h.failed = 1;
	}
	pthread_join(th, NULL);
	if (!h.failed)
		report("irqfd write to handler, HLT",
		       cycles_to_ns(&v, h.sum / n), "");
out:
	if (efd >= 0)
		close(efd);
	irq_vm_destroy(&v);
}

/* Loop @start on an irqchip VM: host time per iteration. */
static void bench_irq_guest(const char *name, const uint8_t *start,
			    const uint8_t *end, unsigned long n, uint64_t rsi,
			    uint64_t apic_base)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} msr = { .h.nmsrs = 1, .e.index = 0x1b, .e.data = apic_base };
	struct irq_vm v;
	double t;

	if (irq_vm_create(&v, start, end, n, rsi))
		goto out;
	if (apic_base && ioctl(v.vm.vcpu_fd, KVM_SET_MSRS, &msr) != 1)
		goto out;
	t = now_ns();
	if (irq_run_to_done(&v))
		goto out;
	t = now_ns() - t;
	report(name, t / n, "/op");
out:
	irq_vm_destroy(&v);
}

static void bench_irqchip(void)
{
	unsigned long n = iters / 10 ? iters / 10 : 1;

	bench_timer_latency(n);
	bench_ipi_round_trip(n);
	bench_irqfd_wake(n < 100 ? n : 100);
	bench_irq_guest("EOI xAPIC MMIO (in kernel)", g_eoi_mmio_start,
			g_eoi_mmio_end, iters, 0xfee000b0, 0);
	/* IA32_APIC_BASE: BSP, enabled, x2APIC (SDM 10.12.1). */
	bench_irq_guest("EOI x2APIC MSR (in kernel)", g_eoi_x2apic_start,
			g_eoi_x2apic_end, iters, 0, 0xfee00d00);
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
	bench_fault_in_thp();
	bench_dirty_log();
	bench_memslot();
	bench_vm_create();
	bench_vcpu_create();
	bench_signal();
	bench_invalidate();
	bench_irqchip();
	return 0;
}
