// SPDX-License-Identifier: GPL-2.0
/*
 * mvm-vmm: a small, complete VMM on the KVM API.  It runs on mvm
 * (/dev/mvm) and on KVM (/dev/kvm) alike.
 *
 * Two kinds of guest:
 *  - a Linux bzImage (linux.c): N vCPUs, an initramfs, a command line,
 *    a console on a 16550 UART (uart.c), the interrupt controllers and
 *    the timer in the kernel (KVM_CREATE_IRQCHIP, KVM_CREATE_PIT2);
 *  - any other file: a flat 64-bit image (tools/vmm/guest/hello.S) loaded
 *    at 1 MiB and entered in long mode on one vCPU; bytes written to
 *    port 0x3f8 go to stdout, a byte written to port 0xf4 is its exit
 *    status, HLT ends the run.
 *
 * usage: mvm-vmm [-d device] [-m MiB] [-c vCPUs] [-i initramfs]
 *		  [-a kernel arguments] [-v] image
 * The device defaults to $MVM_DEV, then /dev/mvm, then /dev/kvm.  A Linux
 * guest's console (COM1, ttyS0) is our stdout and stdin; a terminal on
 * stdin is put in raw mode (Ctrl-A x quits) and restored at exit.
 *
 * Linux guests end the run by rebooting (reboot -f, or a panic with
 * panic=-1): this VMM has no ACPI, so "poweroff" only halts the guest's
 * CPUs.  Exit status: 0 when the guest reset the machine (i8042 reset
 * or a triple fault, see reboot=k|t in the kernel's parameters), 125 on
 * a VMM or KVM error.
 */
#define _GNU_SOURCE	/* asprintf */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "guest_setup.h"
#include "vmm.h"

#define FLAT_LOAD_ADDR	0x100000UL
#define EXIT_PORT	0xf4	/* flat guests: QEMU's isa-debug-exit port */
#define MAX_VCPUS	32

/*
 * VMX needs three pages of guest physical address space for KVM's own
 * use when the CPU lacks "unrestricted guest" (real-mode emulation): a
 * TSS and an identity-map page table.  Put them just below the BIOS, where
 * QEMU does; nothing else lives there.  On AMD-V they are unused.
 */
#define KVM_TSS_ADDR		0xfffbd000
#define KVM_IDENTITY_MAP_ADDR	0xfffbc000

/*
 * The console on COM1; reboot through the i8042 (what ends our run);
 * reboot at once on a panic; no PCI here, so no probing for it.
 */
static const char default_cmdline[] =
	"console=ttyS0 reboot=k panic=-1 pci=off";

static struct vm vm;
static struct termios saved_termios;
static bool termios_saved;
static bool linux_guest;
static int flat_status = -1;	/* flat guests: last byte at port 0xf4 */

static void restore_terminal(void)
{
	if (termios_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
}

void vmm_exit(int status, const char *fmt, ...)
{
	static pthread_mutex_t exiting = PTHREAD_MUTEX_INITIALIZER;
	va_list ap;

	/* The first thread to get here ends the process; others wait. */
	pthread_mutex_lock(&exiting);
	restore_terminal();
	fprintf(stderr, "\r\nmvm-vmm: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	/* Ends every thread, the vCPUs in KVM_RUN too. */
	exit(status);
}

static void die(const char *what)
{
	vmm_exit(125, "%s: %s", what, strerror(errno));
}

void *gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len)
{
	if (gpa + len <= vm->low_ram_end)
		return vm->mem + gpa;
	if (gpa >= GUEST_HIGH_START &&
	    gpa + len <= GUEST_HIGH_START + vm->high_ram_size)
		return vm->mem + vm->low_ram_end + (gpa - GUEST_HIGH_START);
	vmm_exit(125, "guest address 0x%llx is not RAM", (unsigned long long)gpa);
}

static int open_device(const char *dev)
{
	const char *candidates[] = { dev, getenv("MVM_DEV"), "/dev/mvm",
				     "/dev/kvm" };
	unsigned int i;

	for (i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		int fd;

		if (!candidates[i])
			continue;
		fd = open(candidates[i], O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			fprintf(stderr, "mvm-vmm: using %s\n", candidates[i]);
			return fd;
		}
		if (dev)	/* an explicit -d must work */
			die(candidates[i]);
	}
	vmm_exit(125, "no /dev/mvm or /dev/kvm (is mvm.ko loaded?)");
}

static uint8_t *read_file(const char *path, size_t *size)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0)
		die(path);
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf)
		die("malloc");
	*size = 0;
	while (*size < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + *size, st.st_size - *size);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			die(path);
		}
		*size += n;
	}
	close(fd);
	return buf;
}

/*
 * Guest RAM is ordinary anonymous memory of this process: one mapping,
 * given to the VM as one slot below the hole at 3 GiB and, if there is
 * more, a second slot from 4 GiB.
 */
static void setup_memory(uint64_t ram_size)
{
	struct kvm_userspace_memory_region region;

	vm.ram_size = ram_size;
	vm.low_ram_end = ram_size < GUEST_HOLE_START ? ram_size : GUEST_HOLE_START;
	vm.high_ram_size = ram_size - vm.low_ram_end;
	vm.mem = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm.mem == MAP_FAILED)
		die("mmap guest memory");

	region = (struct kvm_userspace_memory_region) {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = vm.low_ram_end,
		.userspace_addr = (uintptr_t)vm.mem,
	};
	if (ioctl(vm.vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("KVM_SET_USER_MEMORY_REGION");
	if (!vm.high_ram_size)
		return;
	region = (struct kvm_userspace_memory_region) {
		.slot = 1,
		.guest_phys_addr = GUEST_HIGH_START,
		.memory_size = vm.high_ram_size,
		.userspace_addr = (uintptr_t)vm.mem + vm.low_ram_end,
	};
	if (ioctl(vm.vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("KVM_SET_USER_MEMORY_REGION (above 4 GiB)");
}

/*
 * The interrupt controllers and the timer, emulated in the kernel: two
 * 8259 PICs, an I/O APIC at 0xfec00000, a local APIC per vCPU at
 * 0xfee00000, and the 8254 PIT on ports 0x40-0x43 (with port 0x61's
 * speaker gate).  They must exist before the vCPUs, which then get their
 * local APICs.  The local APICs start the application processors: the
 * guest sends INIT and SIPI, and KVM_RUN of a vCPU other than 0 waits in
 * the kernel until it is started.
 */
static void setup_irqchip(void)
{
	/*
	 * KVM_PIT_SPEAKER_DUMMY: port 0x61 (the gate of PIT channel 2 and
	 * its output, which Linux may calibrate the TSC with) is served by
	 * the kernel as well.
	 */
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t identity_map = KVM_IDENTITY_MAP_ADDR;

	if (ioctl(vm.vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0)
		die("KVM_SET_TSS_ADDR");
	if (ioctl(vm.vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity_map) < 0)
		die("KVM_SET_IDENTITY_MAP_ADDR");
	if (ioctl(vm.vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		die("KVM_CREATE_IRQCHIP");
	if (ioctl(vm.vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		die("KVM_CREATE_PIT2");
}

/*
 * CPUID: all the kernel can offer (KVM_GET_SUPPORTED_CPUID), with each
 * vCPU's own APIC id where CPUID reports it, so that the guest's view of
 * "who am I" matches its local APIC and the MP table.
 */
struct cpuid_table {
	struct kvm_cpuid2 header;
	struct kvm_cpuid_entry2 entries[256];
};

static struct cpuid_table supported_cpuid;

static void set_cpuid(int vcpu_fd, unsigned int apic_id)
{
	struct cpuid_table cpuid = supported_cpuid;
	bool tsc_deadline = ioctl(vm.sys_fd, KVM_CHECK_EXTENSION,
				  KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	unsigned int i;

	for (i = 0; i < cpuid.header.nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid.entries[i];

		switch (e->function) {
		case 1:
			/* EBX[31:24]: initial APIC id (SDM vol. 2A, CPUID). */
			e->ebx = (e->ebx & 0x00ffffff) | (apic_id << 24);
			/*
			 * ECX bit 31: "running on a hypervisor", which KVM
			 * leaves to userspace.  It makes the guest look
			 * at leaf 0x40000000 and use kvm-clock, whose TSC
			 * frequency spares it calibrating against the PIT.
			 */
			e->ecx |= 1U << 31;
			/*
			 * ECX bit 24: the local APIC's TSC-deadline timer
			 * mode, which KVM reports as a capability instead.
			 */
			if (tsc_deadline)
				e->ecx |= 1U << 24;
			break;
		case 0xb:
		case 0x1f:
			/* Extended topology: EDX is the x2APIC id. */
			e->edx = apic_id;
			break;
		}
	}
	if (ioctl(vcpu_fd, KVM_SET_CPUID2, &cpuid) < 0)
		die("KVM_SET_CPUID2");
}

static void dump_vcpu(int vcpu_fd, int id)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(vcpu_fd, KVM_GET_REGS, &regs) < 0 ||
	    ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return;
	fprintf(stderr, "mvm-vmm: vCPU %d rip %llx rsp %llx rax %llx cs %x cr0 %llx cr3 %llx cr4 %llx efer %llx\n",
		id, regs.rip, regs.rsp, regs.rax, sregs.cs.selector,
		sregs.cr0, sregs.cr3, sregs.cr4, sregs.efer);
}

/* The CMOS RTC (MC146818): enough for the kernel to read the time. */
static uint8_t cmos_index;

static uint8_t bcd(int v)
{
	return (v / 10) << 4 | (v % 10);
}

static uint8_t cmos_read(void)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	switch (cmos_index & 0x7f) {	/* bit 7 is the NMI mask */
	case 0x00: return bcd(tm.tm_sec);
	case 0x02: return bcd(tm.tm_min);
	case 0x04: return bcd(tm.tm_hour);
	case 0x06: return bcd(tm.tm_wday + 1);
	case 0x07: return bcd(tm.tm_mday);
	case 0x08: return bcd(tm.tm_mon + 1);
	case 0x09: return bcd(tm.tm_year % 100);
	case 0x32: return bcd(tm.tm_year / 100 + 19);	/* century */
	case 0x0a: return 0x26;	/* no update in progress; 32 kHz, 1024 Hz */
	case 0x0b: return 0x02;	/* 24-hour clock, BCD, no interrupts */
	case 0x0d: return 0x80;	/* the battery is fine */
	default:   return 0;
	}
}

/*
 * One port access of a Linux guest.  The PIC, PIT and port 0x61 never get
 * here: the kernel handles them.  What is left are the UART and the few
 * ports that Linux probes on a PC.
 */
static void linux_pio(struct kvm_run *run, uint8_t *data)
{
	uint16_t port = run->io.port;
	bool in = run->io.direction == KVM_EXIT_IO_IN;

	if (port >= COM1_BASE && port < COM1_BASE + 8) {
		if (in)
			*data = uart_in(port - COM1_BASE);
		else
			uart_out(port - COM1_BASE, *data);
		return;
	}
	switch (port) {
	case 0x64:
		/*
		 * i8042 keyboard controller, only for its reset line:
		 * command 0xfe pulses the CPU's RESET, the kernel's
		 * reboot=k.  Its status reads "output buffer full" (bit 0)
		 * and "input buffer empty" (bit 1 clear) forever: the
		 * kernel's i8042 driver cannot drain the output buffer and
		 * concludes there is no controller at once (rather than
		 * after seconds of command timeouts), and its reboot code,
		 * which waits for an empty input buffer, goes straight on.
		 */
		if (!in && *data == 0xfe)
			vmm_exit(0, "the guest reset the machine (i8042)");
		if (in)
			*data = 0x01;
		return;
	case 0x60:	/* i8042 data: no keyboard, nothing to say */
		if (in)
			*data = 0xff;
		return;
	case 0x70:	/* CMOS index */
		if (!in)
			cmos_index = *data;
		else
			*data = cmos_index;
		return;
	case 0x71:	/* CMOS data; writes (alarm, settings) are dropped */
		if (in)
			*data = cmos_read();
		return;
	case 0x80:	/* POST codes; also the kernel's I/O delay port */
		return;
	}
	/*
	 * Nothing else is here: reads float high (all ones), writes go
	 * nowhere.  That is how the kernel finds no PCI configuration
	 * mechanism (0xcf8/0xcfc), no COM2-4 (0x2f8, 0x3e8, 0x2e8), no VGA.
	 */
	if (in)
		memset(data, 0xff, run->io.size);
	if (vm.verbose)
		fprintf(stderr, "mvm-vmm: unhandled %s port 0x%x size %u\n",
			in ? "in from" : "out to", port, run->io.size);
}

static void flat_pio(struct kvm_run *run, uint8_t *data)
{
	bool in = run->io.direction == KVM_EXIT_IO_IN;

	if (!in && run->io.port == COM1_BASE)
		fwrite(data, run->io.size, 1, stdout), fflush(stdout);
	else if (!in && run->io.port == EXIT_PORT)
		flat_status = data[0];
	else if (in)
		memset(data, 0xff, run->io.size);	/* no device here */
}

struct vcpu {
	int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
};

static struct vcpu vcpus[MAX_VCPUS];

/* Each vCPU runs in its own thread: KVM_RUN, serve the exit, again. */
static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct kvm_run *run = vcpu->run;
	unsigned int i;

	for (;;) {
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			die("KVM_RUN");
		}

		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			uint8_t *data = (uint8_t *)run + run->io.data_offset;

			/* A string instruction (rep outsb) is count accesses. */
			for (i = 0; i < run->io.count; i++) {
				if (linux_guest)
					linux_pio(run, data);
				else
					flat_pio(run, data);
				data += run->io.size;
			}
			break;
		}
		case KVM_EXIT_MMIO:
			/*
			 * Everything a Linux guest uses is RAM or in the
			 * kernel (I/O APIC, local APICs).  Elsewhere reads
			 * float high and writes are dropped.
			 */
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0xff, run->mmio.len);
			if (vm.verbose)
				fprintf(stderr, "mvm-vmm: unhandled MMIO %s 0x%llx\n",
					run->mmio.is_write ? "write" : "read",
					run->mmio.phys_addr);
			break;
		case KVM_EXIT_HLT:
			/* Only without the in-kernel irqchip: flat guests. */
			vmm_exit(flat_status < 0 ? 125 : flat_status,
				 "guest halted, status %d", flat_status);
		case KVM_EXIT_SHUTDOWN:
			/* Triple fault: how reboot=t resets the machine. */
			if (linux_guest)
				vmm_exit(0, "the guest reset the machine (triple fault on vCPU %d)",
					 vcpu->id);
			dump_vcpu(vcpu->fd, vcpu->id);
			vmm_exit(125, "guest triple fault");
		case KVM_EXIT_SYSTEM_EVENT:
			vmm_exit(0, "system event %u", run->system_event.type);
		case KVM_EXIT_INTERNAL_ERROR:
			dump_vcpu(vcpu->fd, vcpu->id);
			vmm_exit(125, "internal error on vCPU %d, suberror %u",
				 vcpu->id, run->internal.suberror);
		case KVM_EXIT_FAIL_ENTRY:
			dump_vcpu(vcpu->fd, vcpu->id);
			vmm_exit(125, "entry failed on vCPU %d, reason 0x%llx",
				 vcpu->id, (unsigned long long)
				 run->fail_entry.hardware_entry_failure_reason);
		default:
			dump_vcpu(vcpu->fd, vcpu->id);
			vmm_exit(125, "unhandled exit %u on vCPU %d",
				 run->exit_reason, vcpu->id);
		}
	}
	return NULL;
}

static void create_vcpus(void)
{
	long mmap_size = ioctl(vm.sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	int i;

	if (mmap_size < (long)sizeof(struct kvm_run))
		die("KVM_GET_VCPU_MMAP_SIZE");
	supported_cpuid.header.nent = 256;
	if (ioctl(vm.sys_fd, KVM_GET_SUPPORTED_CPUID, &supported_cpuid) < 0)
		die("KVM_GET_SUPPORTED_CPUID");

	for (i = 0; i < vm.nr_vcpus; i++) {
		struct vcpu *vcpu = &vcpus[i];

		vcpu->id = i;
		vcpu->fd = ioctl(vm.vm_fd, KVM_CREATE_VCPU, i);
		if (vcpu->fd < 0)
			die("KVM_CREATE_VCPU");
		vcpu->run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE,
				 MAP_SHARED, vcpu->fd, 0);
		if (vcpu->run == MAP_FAILED)
			die("mmap kvm_run");
		set_cpuid(vcpu->fd, i);
	}
}

/* On a terminal, raw mode: every key goes to the guest as typed. */
static bool setup_terminal(void)
{
	struct termios raw;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_termios))
		return false;
	termios_saved = true;
	atexit(restore_terminal);
	raw = saved_termios;
	cfmakeraw(&raw);
	raw.c_oflag |= OPOST | ONLCR;	/* keep our own messages readable */
	tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	return true;
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-d device] [-m MiB] [-c vCPUs] [-i initramfs] [-a args] [-v] image\n"
		"  image: a Linux bzImage, or a flat 64-bit binary loaded at 1 MiB\n"
		"  -a: kernel arguments after \"%s\"\n"
		"  on a terminal, Ctrl-A x quits\n", prog, default_cmdline);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *dev = NULL, *initrd_path = NULL, *args = NULL;
	uint8_t *image, *initrd = NULL;
	size_t image_size, initrd_size = 0;
	uint64_t mem_mib = 0;
	char *cmdline;
	int opt, i;

	vm.nr_vcpus = 1;
	while ((opt = getopt(argc, argv, "d:m:c:i:a:v")) != -1) {
		switch (opt) {
		case 'd':
			dev = optarg;
			break;
		case 'm':
			mem_mib = strtoull(optarg, NULL, 0);
			break;
		case 'c':
			vm.nr_vcpus = atoi(optarg);
			break;
		case 'i':
			initrd_path = optarg;
			break;
		case 'a':
			args = optarg;
			break;
		case 'v':
			vm.verbose = true;
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind != argc - 1 || vm.nr_vcpus < 1 || vm.nr_vcpus > MAX_VCPUS)
		usage(argv[0]);

	image = read_file(argv[optind], &image_size);
	linux_guest = is_bzimage(image, image_size);
	if (!mem_mib)
		mem_mib = linux_guest ? 256 : 64;
	if (mem_mib < 4 || mem_mib > (64ULL << 10))
		usage(argv[0]);
	if (!linux_guest && (vm.nr_vcpus != 1 || initrd_path || args ||
			     mem_mib > 1024))
		vmm_exit(2, "a flat image runs on one vCPU, in at most 1 GiB, without -i/-a");

	vm.sys_fd = open_device(dev);
	if (ioctl(vm.sys_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		vmm_exit(125, "unexpected KVM API version");
	vm.vm_fd = ioctl(vm.sys_fd, KVM_CREATE_VM, 0);
	if (vm.vm_fd < 0)
		die("KVM_CREATE_VM");
	setup_memory(mem_mib << 20);

	if (!linux_guest) {
		struct kvm_regs regs = { .rip = FLAT_LOAD_ADDR,
					 .rsp = FLAT_LOAD_ADDR, .rflags = 2 };

		if (image_size > vm.low_ram_end - FLAT_LOAD_ADDR)
			vmm_exit(125, "%s does not fit in guest memory", argv[optind]);
		memcpy(vm.mem + FLAT_LOAD_ADDR, image, image_size);
		create_vcpus();
		if (mvm_guest_set_long_mode(vcpus[0].fd, vm.mem) < 0)
			die("KVM_GET/SET_SREGS");
		if (ioctl(vcpus[0].fd, KVM_SET_REGS, &regs) < 0)
			die("KVM_SET_REGS");
		vcpu_thread(&vcpus[0]);
		return 125;
	}

	if (initrd_path)
		initrd = read_file(initrd_path, &initrd_size);
	if (asprintf(&cmdline, "%s%s%s", default_cmdline, args ? " " : "",
		     args ? args : "") < 0)
		die("asprintf");
	linux_load(&vm, image, image_size, initrd, initrd_size, cmdline);
	free(image);
	free(initrd);

	setup_irqchip();
	create_vcpus();
	linux_setup_boot_cpu(&vm, vcpus[0].fd);
	uart_init(&vm, setup_terminal());

	/* vCPU 0 is the boot CPU; the others wait for the guest's SIPI. */
	for (i = 1; i < vm.nr_vcpus; i++)
		if (pthread_create(&vcpus[i].thread, NULL, vcpu_thread, &vcpus[i]))
			vmm_exit(125, "cannot start vCPU thread %d", i);
	vcpu_thread(&vcpus[0]);
	return 125;
}
