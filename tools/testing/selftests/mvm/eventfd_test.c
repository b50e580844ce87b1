// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_IOEVENTFD and KVM_IRQFD.  ioeventfds: PIO and MMIO, with and
 * without datamatch, of length 0 (any width), deassign, and KVM's errno
 * for every refused argument; a matching write signals the eventfd and
 * stays in the kernel, any other goes to userspace.  irqfds: the errnos
 * (no irqchip, bad fds, one GSI per eventfd, resample without a full
 * irqchip or a resamplefd), delivery of MSI routes into a guest with the
 * split irqchip (a signal from before the assignment, a route changed
 * afterwards), the resampling (level-triggered) irqfd with the full
 * irqchip, and closing the eventfds and the VM in either order.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

#define MMIO_GPA	0xc0000000ULL

#define PIO_DATA(g)	((uint8_t *)(g)->run + (g)->run->io.data_offset)
#define PIO_U32(g)	(*(uint32_t *)PIO_DATA(g))

/* The IDT at GPA 0, 128 gates (below the GDT at 0x800). */
#define IDT_LIMIT_128	(128 * 16 - 1)
#define HANDLER(blob, label)	(GUEST_CODE + ((label) - blob##_start))

/* Not in every <linux/kvm.h> a test may be built with. */
#ifndef KVM_IOEVENTFD_FLAG_FAST_MMIO
#define KVM_IOEVENTFD_FLAG_FAST_MMIO	(1 << 4)
#endif

static int new_efd(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	if (fd < 0)
		abort();
	return fd;
}

/* The eventfd's count, taken (0 when nothing was signalled). */
static uint64_t efd_take(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static void efd_signal(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) != sizeof(one))
		abort();
}

static int ioeventfd(struct mvm_guest *g, int fd, uint64_t addr, uint32_t len,
		     uint32_t flags, uint64_t datamatch)
{
	struct kvm_ioeventfd a = {
		.datamatch = datamatch, .addr = addr, .len = len, .fd = fd,
		.flags = flags,
	};

	return ioctl(g->vm_fd, KVM_IOEVENTFD, &a) ? -errno : 0;
}

static int irqfd(struct mvm_guest *g, int fd, uint32_t gsi, uint32_t flags,
		 int resamplefd)
{
	struct kvm_irqfd a = {
		.fd = fd, .gsi = gsi, .flags = flags, .resamplefd = resamplefd,
	};

	return ioctl(g->vm_fd, KVM_IRQFD, &a) ? -errno : 0;
}

enum irqchip { NO_IRQCHIP, SPLIT_IRQCHIP, FULL_IRQCHIP };

/*
 * A VM with 2 MiB at GPA 0 and, if @vcpu, one vCPU, created after the
 * irqchip.  Returns -errno of the irqchip's creation (nothing is left
 * open then).  guest_destroy() takes it down.
 */
static int irq_guest_create(struct mvm_guest *g, enum irqchip chip,
			    bool vcpu)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_SPLIT_IRQCHIP, .args = { 24 },
	};
	int err = 0;

	guest_create_vm(g, 1 << 21);
	if (chip == SPLIT_IRQCHIP && ioctl(g->vm_fd, KVM_ENABLE_CAP, &cap))
		err = -errno;
	if (chip == FULL_IRQCHIP && ioctl(g->vm_fd, KVM_CREATE_IRQCHIP, 0))
		err = -errno;
	if (err) {
		close(g->vm_fd);
		close(g->sys_fd);
		munmap(g->mem, g->mem_size);
		return err;
	}
	g->vcpu_fd = vcpu ? guest_add_vcpu(g, 0, &g->run) : -1;
	return 0;
}

static void code_guest(struct mvm_guest *g, const uint8_t *start, size_t len)
{
	struct kvm_sregs s;

	guest_load(g, GUEST_CODE, start, len);
	guest_set_long_mode(g, g->vcpu_fd, GUEST_CODE);
	if (ioctl(g->vcpu_fd, KVM_GET_SREGS, &s))
		abort();
	s.idt.base = GUEST_IDT;
	s.idt.limit = IDT_LIMIT_128;
	if (ioctl(g->vcpu_fd, KVM_SET_SREGS, &s))
		abort();
}

/* A 64-bit interrupt gate, CS 0x08, in the IDT at GPA 0. */
static void write_gate(struct mvm_guest *g, int vector, uint64_t handler)
{
	uint64_t *gate = (uint64_t *)(g->mem + GUEST_IDT + vector * 16);

	gate[0] = (handler & 0xffff) | (0x8ULL << 16) | (0x8eULL << 40) |
		  ((handler >> 16) & 0xffff) << 48;
	gate[1] = handler >> 32;
}

static void run_expect(struct __test_metadata *_metadata,
		       struct mvm_guest *g, uint32_t reason)
{
	ASSERT_EQ(0, guest_run(g->vcpu_fd));
	ASSERT_EQ(reason, g->run->exit_reason)
		TH_LOG("exit %u (io port 0x%x, mmio 0x%llx), want %u",
		       g->run->exit_reason, g->run->io.port,
		       (unsigned long long)g->run->mmio.phys_addr, reason);
}

static void run_expect_out(struct __test_metadata *_metadata,
			   struct mvm_guest *g, int port, int size)
{
	run_expect(_metadata, g, KVM_EXIT_IO);
	ASSERT_EQ(port, g->run->io.port);
	ASSERT_EQ(KVM_EXIT_IO_OUT, g->run->io.direction);
	ASSERT_EQ(size, g->run->io.size);
}

static void run_expect_mmio(struct __test_metadata *_metadata,
			    struct mvm_guest *g, uint64_t gpa, int len,
			    int is_write, uint64_t data)
{
	uint64_t got = 0;

	run_expect(_metadata, g, KVM_EXIT_MMIO);
	ASSERT_EQ(gpa, g->run->mmio.phys_addr);
	ASSERT_EQ(len, g->run->mmio.len);
	ASSERT_EQ(is_write, g->run->mmio.is_write);
	if (is_write) {
		memcpy(&got, g->run->mmio.data, len);
		ASSERT_EQ(data, got);
	} else {
		memcpy(g->run->mmio.data, &data, len);
	}
}

/*
 * Run until the guest reports on @port.  KVM injects some irqfd signals
 * from a worker, a little later: until then the guest's reports on 0x83
 * (at most 1000 of them) must show the count unchanged, @count.
 */
static void run_until_out(struct __test_metadata *_metadata,
			  struct mvm_guest *g, int port, uint32_t count)
{
	int i;

	for (i = 0; i < 1000; i++) {
		run_expect(_metadata, g, KVM_EXIT_IO);
		if (g->run->io.port == port)
			return;
		ASSERT_EQ(0x83, g->run->io.port);
		ASSERT_EQ(count, PIO_U32(g));
	}
	ASSERT_TRUE(0) TH_LOG("no report on port 0x%x", port);
}

/* ------------------------------------------------------------------ */
/* ioeventfd                                                            */

TEST(capabilities)
{
	static const long caps[] = {
		KVM_CAP_IOEVENTFD, KVM_CAP_IOEVENTFD_ANY_LENGTH,
		KVM_CAP_IOEVENTFD_NO_LENGTH, KVM_CAP_IRQFD,
		KVM_CAP_IRQFD_RESAMPLE,
	};
	struct mvm_guest g;
	unsigned int i;

	guest_create(&g, 1 << 21);
	for (i = 0; i < ARRAY_SIZE(caps); i++) {
		EXPECT_EQ(1, ioctl(g.sys_fd, KVM_CHECK_EXTENSION, caps[i]))
			TH_LOG("system fd, cap %ld", caps[i]);
		EXPECT_EQ(1, ioctl(g.vm_fd, KVM_CHECK_EXTENSION, caps[i]))
			TH_LOG("VM fd, cap %ld", caps[i]);
	}
	guest_destroy(&g);
}

/*
 * Port 0xe0, one byte, any value: both OUTs are taken in the kernel (two
 * signals, no exit); a 2-byte OUT to the port is not the ioeventfd's.
 */
GUEST_CODE_BLOB(g_pio_any, ".code64",
	"mov $0x42, %al\n out %al, $0xe0\n"
	"mov $0x43, %al\n out %al, $0xe0\n"
	"out %al, $0x80\n"
	"mov $0x1234, %ax\n out %ax, $0xe0\n"
	"hlt\n");

TEST(pio_any_value)
{
	struct mvm_guest g;
	int efd = new_efd();

	guest_create(&g, 1 << 21);
	code_guest(&g, g_pio_any_start, BLOB_LEN(g_pio_any));
	ASSERT_EQ(0, ioeventfd(&g, efd, 0xe0, 1, KVM_IOEVENTFD_FLAG_PIO, 0));

	run_expect_out(_metadata, &g, 0x80, 1);
	EXPECT_EQ(2, efd_take(efd));
	run_expect_out(_metadata, &g, 0xe0, 2);
	EXPECT_EQ(0x1234, *(uint16_t *)PIO_DATA(&g));
	EXPECT_EQ(0, efd_take(efd));
	run_expect(_metadata, &g, KVM_EXIT_HLT);
	guest_destroy(&g);
	close(efd);
}

/*
 * Datamatch: two ioeventfds on port 0xe0 told apart by value, one of 2
 * bytes at 0xe2 and one of 4 at 0xe4; a value none wants exits.
 */
GUEST_CODE_BLOB(g_pio_match, ".code64",
	"mov $0x42, %al\n out %al, $0xe0\n"
	"mov $0x43, %al\n out %al, $0xe0\n"
	"mov $0x1234, %ax\n out %ax, $0xe2\n"
	"mov $0xdeadbeef, %eax\n out %eax, $0xe4\n"
	"mov $0x44, %al\n out %al, $0xe0\n"
	"mov $0xdeadbeee, %eax\n out %eax, $0xe4\n"
	"out %al, $0x80\n"
	"hlt\n");

TEST(pio_datamatch)
{
	int e42 = new_efd(), e43 = new_efd(), e2 = new_efd(), e4 = new_efd();
	uint32_t dm = KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DATAMATCH;
	struct mvm_guest g;

	guest_create(&g, 1 << 21);
	code_guest(&g, g_pio_match_start, BLOB_LEN(g_pio_match));
	ASSERT_EQ(0, ioeventfd(&g, e42, 0xe0, 1, dm, 0x42));
	ASSERT_EQ(0, ioeventfd(&g, e43, 0xe0, 1, dm, 0x43));
	ASSERT_EQ(0, ioeventfd(&g, e2, 0xe2, 2, dm, 0x1234));
	ASSERT_EQ(0, ioeventfd(&g, e4, 0xe4, 4, dm, 0xdeadbeef));

	run_expect_out(_metadata, &g, 0xe0, 1);
	EXPECT_EQ(0x44, PIO_DATA(&g)[0]);
	EXPECT_EQ(1, efd_take(e42));
	EXPECT_EQ(1, efd_take(e43));
	EXPECT_EQ(1, efd_take(e2));
	EXPECT_EQ(1, efd_take(e4));
	run_expect_out(_metadata, &g, 0xe4, 4);
	EXPECT_EQ(0xdeadbeee, PIO_U32(&g));
	run_expect_out(_metadata, &g, 0x80, 1);
	run_expect(_metadata, &g, KVM_EXIT_HLT);
	EXPECT_EQ(0, efd_take(e42) + efd_take(e43) + efd_take(e2) +
		     efd_take(e4));
	guest_destroy(&g);
	close(e42);
	close(e43);
	close(e2);
	close(e4);
}

/*
 * MMIO: 4 bytes any value at +0; 8, 2 and 1 bytes with datamatch at +8,
 * +0x10, +0x18.  A narrower write at +0, a value that differs and a read
 * of an ioeventfd's address all exit as MMIO.
 */
GUEST_CODE_BLOB(g_mmio, ".code64",
	"mov $0xc0000000, %esi\n"
	"movl $0x12345678, (%rsi)\n"
	"movw $0x1, (%rsi)\n"
	"mov $0x1122334455667788, %rax\n mov %rax, 8(%rsi)\n"
	"movw $0xbeef, 0x10(%rsi)\n"
	"movb $0x5a, 0x18(%rsi)\n"
	"movw $0xbeee, 0x10(%rsi)\n"
	"mov (%rsi), %eax\n"
	"out %eax, $0x80\n"
	"hlt\n");

TEST(mmio_any_value_and_datamatch)
{
	int e_any = new_efd(), e8 = new_efd(), e2 = new_efd(), e1 = new_efd();
	uint32_t dm = KVM_IOEVENTFD_FLAG_DATAMATCH;
	struct mvm_guest g;

	guest_create(&g, 1 << 21);
	code_guest(&g, g_mmio_start, BLOB_LEN(g_mmio));
	ASSERT_EQ(0, ioeventfd(&g, e_any, MMIO_GPA, 4, 0, 0));
	ASSERT_EQ(0, ioeventfd(&g, e8, MMIO_GPA + 8, 8, dm,
			       0x1122334455667788ULL));
	ASSERT_EQ(0, ioeventfd(&g, e2, MMIO_GPA + 0x10, 2, dm, 0xbeef));
	ASSERT_EQ(0, ioeventfd(&g, e1, MMIO_GPA + 0x18, 1, dm, 0x5a));

	run_expect_mmio(_metadata, &g, MMIO_GPA, 2, 1, 1);
	EXPECT_EQ(1, efd_take(e_any));
	run_expect_mmio(_metadata, &g, MMIO_GPA + 0x10, 2, 1, 0xbeee);
	EXPECT_EQ(1, efd_take(e8));
	EXPECT_EQ(1, efd_take(e2));
	EXPECT_EQ(1, efd_take(e1));
	run_expect_mmio(_metadata, &g, MMIO_GPA, 4, 0, 0xcafe);
	run_expect_out(_metadata, &g, 0x80, 4);
	EXPECT_EQ(0xcafe, PIO_U32(&g));
	run_expect(_metadata, &g, KVM_EXIT_HLT);
	EXPECT_EQ(0, efd_take(e_any) + efd_take(e8) + efd_take(e2) +
		     efd_take(e1));
	guest_destroy(&g);
	close(e_any);
	close(e8);
	close(e2);
	close(e1);
}

/*
 * Length 0: every width at the exact address signals (3 OUTs, 4 MOVs);
 * the next byte's address is not the ioeventfd's.
 */
GUEST_CODE_BLOB(g_len0, ".code64",
	"out %al, $0xe8\n out %ax, $0xe8\n out %eax, $0xe8\n"
	"out %al, $0xe9\n"
	"mov $0xc0000020, %esi\n"
	"movb $1, (%rsi)\n movw $2, (%rsi)\n movl $3, (%rsi)\n"
	"movq $4, (%rsi)\n"
	"movb $5, 1(%rsi)\n"
	"out %al, $0x80\n"
	"hlt\n");

TEST(length_zero_any_width)
{
	int epio = new_efd(), emmio = new_efd();
	struct mvm_guest g;

	guest_create(&g, 1 << 21);
	code_guest(&g, g_len0_start, BLOB_LEN(g_len0));
	ASSERT_EQ(0, ioeventfd(&g, epio, 0xe8, 0, KVM_IOEVENTFD_FLAG_PIO, 0));
	ASSERT_EQ(0, ioeventfd(&g, emmio, MMIO_GPA + 0x20, 0, 0, 0));

	run_expect_out(_metadata, &g, 0xe9, 1);
	EXPECT_EQ(3, efd_take(epio));
	run_expect_mmio(_metadata, &g, MMIO_GPA + 0x21, 1, 1, 5);
	EXPECT_EQ(4, efd_take(emmio));
	run_expect_out(_metadata, &g, 0x80, 1);
	run_expect(_metadata, &g, KVM_EXIT_HLT);
	guest_destroy(&g);
	close(epio);
	close(emmio);
}

/* After deassign, the same writes go to userspace. */
GUEST_CODE_BLOB(g_deassign, ".code64",
	"mov $0xc0000000, %esi\n"
	"out %al, $0xe0\n movl $7, (%rsi)\n out %al, $0x80\n"
	"out %al, $0xe0\n movl $7, (%rsi)\n out %al, $0x80\n"
	"hlt\n");

TEST(deassign)
{
	uint32_t pio = KVM_IOEVENTFD_FLAG_PIO, dm = KVM_IOEVENTFD_FLAG_DATAMATCH;
	uint32_t deassign = KVM_IOEVENTFD_FLAG_DEASSIGN;
	int epio = new_efd(), emmio = new_efd();
	struct mvm_guest g;

	guest_create(&g, 1 << 21);
	code_guest(&g, g_deassign_start, BLOB_LEN(g_deassign));
	ASSERT_EQ(0, ioeventfd(&g, epio, 0xe0, 1, pio, 0));
	ASSERT_EQ(0, ioeventfd(&g, emmio, MMIO_GPA, 4, dm, 7));

	run_expect_out(_metadata, &g, 0x80, 1);
	EXPECT_EQ(1, efd_take(epio));
	EXPECT_EQ(1, efd_take(emmio));

	/* Only the exact arguments name an ioeventfd. */
	EXPECT_EQ(-ENOENT, ioeventfd(&g, epio, 0xe0, 1, deassign, 0));
	EXPECT_EQ(-ENOENT, ioeventfd(&g, epio, 0xe0, 2, pio | deassign, 0));
	EXPECT_EQ(-ENOENT, ioeventfd(&g, emmio, 0xe0, 1, pio | deassign, 0));
	EXPECT_EQ(-ENOENT, ioeventfd(&g, epio, 0xe0, 1,
				     pio | dm | deassign, 0));
	EXPECT_EQ(-ENOENT, ioeventfd(&g, emmio, MMIO_GPA, 4,
				     dm | deassign, 8));
	EXPECT_EQ(-ENOENT, ioeventfd(&g, emmio, MMIO_GPA, 4, deassign, 0));
	EXPECT_EQ(-ENOENT, ioeventfd(&g, emmio, MMIO_GPA + 4, 4,
				     dm | deassign, 7));

	ASSERT_EQ(0, ioeventfd(&g, epio, 0xe0, 1, pio | deassign, 0));
	ASSERT_EQ(0, ioeventfd(&g, emmio, MMIO_GPA, 4, dm | deassign, 7));
	EXPECT_EQ(-ENOENT, ioeventfd(&g, epio, 0xe0, 1, pio | deassign, 0));
	EXPECT_EQ(-ENOENT, ioeventfd(&g, emmio, MMIO_GPA, 4,
				     dm | deassign, 7));

	run_expect_out(_metadata, &g, 0xe0, 1);
	run_expect_mmio(_metadata, &g, MMIO_GPA, 4, 1, 7);
	run_expect_out(_metadata, &g, 0x80, 1);
	run_expect(_metadata, &g, KVM_EXIT_HLT);
	EXPECT_EQ(0, efd_take(epio) + efd_take(emmio));
	guest_destroy(&g);
	close(epio);
	close(emmio);
}

TEST(ioeventfd_errnos)
{
	uint32_t pio = KVM_IOEVENTFD_FLAG_PIO, dm = KVM_IOEVENTFD_FLAG_DATAMATCH;
	uint32_t deassign = KVM_IOEVENTFD_FLAG_DEASSIGN;
	int efd = new_efd(), efd2 = new_efd();
	struct mvm_guest g;

	guest_create(&g, 1 << 21);

	/* Checked before the fd: the length, the wrap, the flags. */
	EXPECT_EQ(-EINVAL, ioeventfd(&g, efd, 0x1000, 3, 0, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(&g, efd, 0x1000, 16, 0, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(&g, -1, 0x1000, 5, pio, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(&g, efd, ~0ULL, 1, 0, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(&g, efd, ~0ULL - 6, 8, 0, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(&g, efd, 0x1000, 4, 1 << 5, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(&g, -1, 0x1000, 4, 1u << 31, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(&g, efd, 0x1000, 0, dm, 0));
	/* The fd: none, or not an eventfd. */
	EXPECT_EQ(-EBADF, ioeventfd(&g, -1, 0x1000, 4, 0, 0));
	EXPECT_EQ(-EBADF, ioeventfd(&g, 1000, 0x1000, 4, 0, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(&g, g.vm_fd, 0x1000, 4, 0, 0));

	/* The last byte of the address space, and any width there. */
	EXPECT_EQ(-EINVAL, ioeventfd(&g, efd, ~0ULL - 7, 8, 0, 0));
	EXPECT_EQ(0, ioeventfd(&g, efd, ~0ULL - 8, 8, 0, 0));
	EXPECT_EQ(0, ioeventfd(&g, efd, ~0ULL, 0, 0, 0));
	EXPECT_EQ(0, ioeventfd(&g, efd, ~0ULL, 0, deassign, 0));
	EXPECT_EQ(0, ioeventfd(&g, efd, ~0ULL - 8, 8, deassign, 0));

	/* Collisions: the same address, length and value on one bus. */
	ASSERT_EQ(0, ioeventfd(&g, efd, 0x1000, 4, 0, 0));
	EXPECT_EQ(-EEXIST, ioeventfd(&g, efd, 0x1000, 4, 0, 0));
	EXPECT_EQ(-EEXIST, ioeventfd(&g, efd2, 0x1000, 4, dm, 1));
	EXPECT_EQ(-EEXIST, ioeventfd(&g, efd2, 0x1000, 0, 0, 0));
	EXPECT_EQ(0, ioeventfd(&g, efd2, 0x1000, 2, 0, 0));
	EXPECT_EQ(0, ioeventfd(&g, efd2, 0x1000, 4, pio, 0));
	EXPECT_EQ(0, ioeventfd(&g, efd, 0x1002, 4, 0, 0));

	ASSERT_EQ(0, ioeventfd(&g, efd, 0x2000, 4, dm, 1));
	EXPECT_EQ(0, ioeventfd(&g, efd, 0x2000, 4, dm, 2));
	EXPECT_EQ(-EEXIST, ioeventfd(&g, efd2, 0x2000, 4, dm, 2));
	EXPECT_EQ(-EEXIST, ioeventfd(&g, efd2, 0x2000, 4, 0, 0));
	EXPECT_EQ(0, ioeventfd(&g, efd2, 0x2000, 8, dm, 1));

	ASSERT_EQ(0, ioeventfd(&g, efd, 0x3000, 0, pio, 0));
	EXPECT_EQ(-EEXIST, ioeventfd(&g, efd2, 0x3000, 1, pio | dm, 1));
	EXPECT_EQ(0, ioeventfd(&g, efd2, 0x3000, 1, dm, 1));

	/* Deassign: the fd first, then the match. */
	EXPECT_EQ(-EBADF, ioeventfd(&g, -1, 0x1000, 4, deassign, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(&g, g.vm_fd, 0x1000, 4, deassign, 0));
	EXPECT_EQ(-ENOENT, ioeventfd(&g, efd, 0x4000, 4, deassign, 0));
	/* Deassign does not look at the length or the other flags. */
	EXPECT_EQ(-ENOENT, ioeventfd(&g, efd, 0x4000, 3, deassign, 0));
	EXPECT_EQ(0, ioeventfd(&g, efd, 0x1000, 4, deassign | (1 << 6), 0));

	/*
	 * x86 KVM takes VIRTIO_CCW_NOTIFY (a bus no access reaches) and
	 * the FAST_MMIO bit (the MMIO bus): every flag below bit 5.
	 */
	EXPECT_EQ(0, ioeventfd(&g, efd, 0x5000, 4,
			       KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY, 0));
	EXPECT_EQ(0, ioeventfd(&g, efd, 0x5000, 4, 0, 0));
	EXPECT_EQ(-EEXIST, ioeventfd(&g, efd, 0x5000, 4,
				     KVM_IOEVENTFD_FLAG_FAST_MMIO, 0));
	EXPECT_EQ(0, ioeventfd(&g, efd, 0x5000, 4,
			       KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY |
			       deassign, 0));
	EXPECT_EQ(0, ioeventfd(&g, efd, 0x5000, 4,
			       KVM_IOEVENTFD_FLAG_FAST_MMIO | deassign, 0));

	guest_destroy(&g);
	close(efd);
	close(efd2);
}

/* ------------------------------------------------------------------ */
/* irqfd                                                                */

TEST(irqfd_without_irqchip)
{
	int efd = new_efd(), rfd = new_efd();
	struct mvm_guest g;

	guest_create(&g, 1 << 21);
	EXPECT_EQ(-EINVAL, irqfd(&g, efd, 5, 0, 0));
	EXPECT_EQ(-EINVAL, irqfd(&g, efd, 5, KVM_IRQFD_FLAG_RESAMPLE, rfd));
	EXPECT_EQ(-EINVAL, irqfd(&g, -1, 5, 0, 0));
	EXPECT_EQ(-EINVAL, irqfd(&g, efd, 5, 1 << 2, 0));
	/* Deassign needs no irqchip, and nothing to deassign is no error. */
	EXPECT_EQ(0, irqfd(&g, efd, 5, KVM_IRQFD_FLAG_DEASSIGN, 0));
	EXPECT_EQ(-EBADF, irqfd(&g, -1, 5, KVM_IRQFD_FLAG_DEASSIGN, 0));
	guest_destroy(&g);
	close(efd);
	close(rfd);
}

TEST(irqfd_errnos)
{
	int efd = new_efd(), efd2 = new_efd(), rfd = new_efd();
	uint32_t deassign = KVM_IRQFD_FLAG_DEASSIGN;
	struct mvm_guest g;

	ASSERT_EQ(0, irq_guest_create(&g, SPLIT_IRQCHIP, false));
	EXPECT_EQ(-EINVAL, irqfd(&g, efd, 5, 1 << 2, 0));
	EXPECT_EQ(-EINVAL, irqfd(&g, efd, 5, 0x80000000u, 0));
	EXPECT_EQ(-EBADF, irqfd(&g, -1, 5, 0, 0));
	EXPECT_EQ(-EBADF, irqfd(&g, 1000, 5, 0, 0));
	EXPECT_EQ(-EINVAL, irqfd(&g, g.vm_fd, 5, 0, 0));
	/* Resampling needs the IOAPIC in the kernel. */
	EXPECT_EQ(-EINVAL, irqfd(&g, efd, 5, KVM_IRQFD_FLAG_RESAMPLE, rfd));

	/* One GSI per eventfd; a GSI may have several. */
	ASSERT_EQ(0, irqfd(&g, efd, 5, 0, 0));
	EXPECT_EQ(-EBUSY, irqfd(&g, efd, 5, 0, 0));
	EXPECT_EQ(-EBUSY, irqfd(&g, efd, 6, 0, 0));
	EXPECT_EQ(0, irqfd(&g, efd2, 5, 0, 0));

	/* Deassign by (fd, gsi); another pair is no error and does nothing. */
	EXPECT_EQ(-EBADF, irqfd(&g, -1, 5, deassign, 0));
	EXPECT_EQ(-EINVAL, irqfd(&g, g.vm_fd, 5, deassign, 0));
	EXPECT_EQ(0, irqfd(&g, efd, 6, deassign, 0));
	EXPECT_EQ(0, irqfd(&g, rfd, 5, deassign, 0));
	EXPECT_EQ(-EBUSY, irqfd(&g, efd, 7, 0, 0));
	EXPECT_EQ(0, irqfd(&g, efd, 5, deassign, 0));
	/* Gone on return: the eventfd is free for another GSI at once. */
	EXPECT_EQ(0, irqfd(&g, efd, 7, 0, 0));
	EXPECT_EQ(0, irqfd(&g, efd, 7, deassign | KVM_IRQFD_FLAG_RESAMPLE, 0));
	EXPECT_EQ(0, irqfd(&g, efd, 5, 0, 0));

	guest_destroy(&g);
	close(efd);
	close(efd2);
	close(rfd);
}

TEST(irqfd_resample_errnos)
{
	int efd = new_efd(), rfd = new_efd();
	uint32_t rs = KVM_IRQFD_FLAG_RESAMPLE;
	struct mvm_guest g;

	ASSERT_EQ(0, irq_guest_create(&g, FULL_IRQCHIP, false));
	EXPECT_EQ(-EBADF, irqfd(&g, efd, 10, rs, -1));
	EXPECT_EQ(-EINVAL, irqfd(&g, efd, 10, rs, g.vm_fd));
	EXPECT_EQ(-EBADF, irqfd(&g, -1, 10, rs, rfd));
	ASSERT_EQ(0, irqfd(&g, efd, 10, rs, rfd));
	EXPECT_EQ(-EBUSY, irqfd(&g, efd, 11, rs, rfd));
	EXPECT_EQ(-EBUSY, irqfd(&g, efd, 11, 0, 0));
	EXPECT_EQ(0, irqfd(&g, efd, 10, KVM_IRQFD_FLAG_DEASSIGN, 0));
	EXPECT_EQ(0, irqfd(&g, efd, 11, 0, 0));
	guest_destroy(&g);
	close(efd);
	close(rfd);
}

/* An MSI route: fixed delivery of @vector to APIC 0, edge. */
static int set_msi_routes(struct mvm_guest *g, int n, const uint32_t *gsi,
			  const uint32_t *vector)
{
	struct {
		struct kvm_irq_routing r;
		struct kvm_irq_routing_entry e[4];
	} t;
	int i;

	memset(&t, 0, sizeof(t));
	t.r.nr = n;
	for (i = 0; i < n; i++) {
		t.e[i].gsi = gsi[i];
		t.e[i].type = KVM_IRQ_ROUTING_MSI;
		t.e[i].u.msi.address_lo = 0xfee00000;
		t.e[i].u.msi.data = vector[i];
	}
	return ioctl(g->vm_fd, KVM_SET_GSI_ROUTING, &t) ? -errno : 0;
}

/*
 * The LAPIC enabled (RDI: its page), IF set; 0x40's handler counts in R8 and reports on
 * port 0x81, 0x41's on 0x82; between interrupts the guest spins and
 * reports the count on 0x83.
 */
#define SPIN_REPORT							\
	"2: mov $100000, %ecx\n"					\
	"3: pause\n dec %ecx\n jnz 3b\n"				\
	"mov %r8d, %eax\n out %eax, $0x83\n jmp 2b\n"

GUEST_CODE_BLOB(g_msi, ".code64",
	"xor %r8d, %r8d\n"
	"mov $0xfee00000, %edi\n"
	"movl $0x1ff, 0xf0(%rdi)\n"
	"sti\n"
	"out %al, $0x80\n"
	SPIN_REPORT
	"msi_irq40: inc %r8d\n movl $0, 0xb0(%rdi)\n"
	"mov %r8d, %eax\n out %eax, $0x81\n iretq\n"
	"msi_irq41: inc %r8d\n movl $0, 0xb0(%rdi)\n"
	"mov %r8d, %eax\n out %eax, $0x82\n iretq\n");
extern const uint8_t msi_irq40[], msi_irq41[];

TEST(irqfd_msi_delivery)
{
	int efd = new_efd(), efd2 = new_efd();
	uint32_t gsis[] = { 5, 6 }, vecs[] = { 0x40, 0x40 };
	struct mvm_guest g;

	ASSERT_EQ(0, irq_guest_create(&g, SPLIT_IRQCHIP, true));
	code_guest(&g, g_msi_start, BLOB_LEN(g_msi));
	write_gate(&g, 0x40, HANDLER(g_msi, msi_irq40));
	write_gate(&g, 0x41, HANDLER(g_msi, msi_irq41));
	ASSERT_EQ(0, set_msi_routes(&g, 2, gsis, vecs));
	ASSERT_EQ(0, irqfd(&g, efd, 5, 0, 0));

	run_expect_out(_metadata, &g, 0x80, 1);
	run_expect_out(_metadata, &g, 0x83, 4);
	EXPECT_EQ(0, PIO_U32(&g));

	/* A signal is an interrupt, and the irqfd takes the count. */
	efd_signal(efd);
	EXPECT_EQ(0, efd_take(efd));
	run_until_out(_metadata, &g, 0x81, 0);
	EXPECT_EQ(1, PIO_U32(&g));
	run_expect_out(_metadata, &g, 0x83, 4);
	EXPECT_EQ(1, PIO_U32(&g));

	/* A signal from before the assignment is delivered by it. */
	efd_signal(efd2);
	ASSERT_EQ(0, irqfd(&g, efd2, 6, 0, 0));
	run_until_out(_metadata, &g, 0x81, 1);
	EXPECT_EQ(2, PIO_U32(&g));
	run_expect_out(_metadata, &g, 0x83, 4);

	/* A new route for GSI 5 takes effect at the next signal. */
	vecs[0] = 0x41;
	ASSERT_EQ(0, set_msi_routes(&g, 2, gsis, vecs));
	efd_signal(efd);
	run_until_out(_metadata, &g, 0x82, 2);
	EXPECT_EQ(3, PIO_U32(&g));
	run_expect_out(_metadata, &g, 0x83, 4);
	EXPECT_EQ(3, PIO_U32(&g));

	/* Deassigned: the signal stays in the eventfd, no interrupt. */
	ASSERT_EQ(0, irqfd(&g, efd, 5, KVM_IRQFD_FLAG_DEASSIGN, 0));
	efd_signal(efd);
	run_expect_out(_metadata, &g, 0x83, 4);
	EXPECT_EQ(3, PIO_U32(&g));
	EXPECT_EQ(1, efd_take(efd));

	guest_destroy(&g);
	close(efd);
	close(efd2);
}

/*
 * One eventfd as the ioeventfd of a doorbell and the irqfd of an MSI:
 * the guest's OUT rings the bell and the interrupt comes back to it,
 * without an exit to userspace.
 */
GUEST_CODE_BLOB(g_doorbell, ".code64",
	"xor %r8d, %r8d\n"
	"mov $0xfee00000, %edi\n"
	"movl $0x1ff, 0xf0(%rdi)\n"
	"sti\n"
	"out %al, $0xe0\n"
	SPIN_REPORT
	"bell_irq: inc %r8d\n movl $0, 0xb0(%rdi)\n"
	"mov %r8d, %eax\n out %eax, $0x81\n iretq\n");
extern const uint8_t bell_irq[];

TEST(ioeventfd_rings_irqfd)
{
	uint32_t gsi = 5, vec = 0x40;
	int efd = new_efd();
	struct mvm_guest g;

	ASSERT_EQ(0, irq_guest_create(&g, SPLIT_IRQCHIP, true));
	code_guest(&g, g_doorbell_start, BLOB_LEN(g_doorbell));
	write_gate(&g, 0x40, HANDLER(g_doorbell, bell_irq));
	ASSERT_EQ(0, set_msi_routes(&g, 1, &gsi, &vec));
	ASSERT_EQ(0, irqfd(&g, efd, gsi, 0, 0));
	ASSERT_EQ(0, ioeventfd(&g, efd, 0xe0, 1, KVM_IOEVENTFD_FLAG_PIO, 0));

	run_until_out(_metadata, &g, 0x81, 0);
	EXPECT_EQ(1, PIO_U32(&g));
	run_expect_out(_metadata, &g, 0x83, 4);
	EXPECT_EQ(1, PIO_U32(&g));
	EXPECT_EQ(0, efd_take(efd));
	guest_destroy(&g);
	close(efd);
}

/*
 * The full irqchip: PIC masked, IOAPIC pin 10 level-triggered to vector
 * 0x41 for APIC 0.  The handler reports before its EOI (port 0x81) and
 * after it (0x82); between interrupts the guest reports on 0x83.
 */
#define IOAPIC_PIN10_LEVEL_0x41						\
	"mov $0xff, %al\n out %al, $0x21\n out %al, $0xa1\n"		\
	"mov $0xfee00000, %edi\n movl $0x1ff, 0xf0(%rdi)\n"		\
	"mov $0xfec00000, %esi\n"					\
	"movl $0x25, (%rsi)\n movl $0, 0x10(%rsi)\n"			\
	"movl $0x24, (%rsi)\n movl $0x8041, 0x10(%rsi)\n"

GUEST_CODE_BLOB(g_level, ".code64",
	"xor %r8d, %r8d\n"
	IOAPIC_PIN10_LEVEL_0x41
	"sti\n"
	"out %al, $0x80\n"
	SPIN_REPORT
	"level_irq: inc %r8d\n"
	"mov %r8d, %eax\n out %eax, $0x81\n"
	"movl $0, 0xb0(%rdi)\n"
	"mov %r8d, %eax\n out %eax, $0x82\n"
	"iretq\n");
extern const uint8_t level_irq[];

static void ioapic_pin10(struct __test_metadata *_metadata,
			 struct mvm_guest *g, bool *irr, bool *remote_irr)
{
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };

	ASSERT_EQ(0, ioctl(g->vm_fd, KVM_GET_IRQCHIP, &chip));
	*irr = chip.chip.ioapic.irr & (1 << 10);
	*remote_irr = chip.chip.ioapic.redirtbl[10].fields.remote_irr;
}

TEST(irqfd_resample_level)
{
	int efd = new_efd(), rfd = new_efd(), efd2 = new_efd();
	int rfd2 = new_efd();
	uint32_t rs = KVM_IRQFD_FLAG_RESAMPLE;
	bool irr, remote_irr;
	struct mvm_guest g;

	ASSERT_EQ(0, irq_guest_create(&g, FULL_IRQCHIP, true));
	code_guest(&g, g_level_start, BLOB_LEN(g_level));
	write_gate(&g, 0x41, HANDLER(g_level, level_irq));
	ASSERT_EQ(0, irqfd(&g, efd, 10, rs, rfd));
	/* A second resampling irqfd on the line shares its EOI. */
	ASSERT_EQ(0, irqfd(&g, efd2, 10, rs, rfd2));

	run_expect_out(_metadata, &g, 0x80, 1);
	run_expect_out(_metadata, &g, 0x83, 4);
	EXPECT_EQ(0, PIO_U32(&g));

	efd_signal(efd);
	run_until_out(_metadata, &g, 0x81, 0);
	EXPECT_EQ(1, PIO_U32(&g));
	/* Taken, not yet EOIed: the line is still high. */
	ioapic_pin10(_metadata, &g, &irr, &remote_irr);
	EXPECT_TRUE(irr);
	EXPECT_TRUE(remote_irr);
	EXPECT_EQ(0, efd_take(rfd));

	/* The EOI lowers it and signals every resamplefd of the line. */
	run_expect_out(_metadata, &g, 0x82, 4);
	ioapic_pin10(_metadata, &g, &irr, &remote_irr);
	EXPECT_FALSE(irr);
	EXPECT_FALSE(remote_irr);
	EXPECT_EQ(1, efd_take(rfd));
	EXPECT_EQ(1, efd_take(rfd2));

	/* Not raised again, no second interrupt. */
	run_expect_out(_metadata, &g, 0x83, 4);
	EXPECT_EQ(1, PIO_U32(&g));
	run_expect_out(_metadata, &g, 0x83, 4);
	EXPECT_EQ(1, PIO_U32(&g));

	/* The other irqfd raises the same line. */
	efd_signal(efd2);
	run_until_out(_metadata, &g, 0x81, 1);
	EXPECT_EQ(2, PIO_U32(&g));
	run_expect_out(_metadata, &g, 0x82, 4);
	EXPECT_EQ(1, efd_take(rfd));
	EXPECT_EQ(1, efd_take(rfd2));
	run_expect_out(_metadata, &g, 0x83, 4);
	EXPECT_EQ(2, PIO_U32(&g));

	/* Deassigned while the line is high: the line goes low. */
	efd_signal(efd);
	run_until_out(_metadata, &g, 0x81, 2);
	EXPECT_EQ(3, PIO_U32(&g));
	ASSERT_EQ(0, irqfd(&g, efd, 10, KVM_IRQFD_FLAG_DEASSIGN, 0));
	ASSERT_EQ(0, irqfd(&g, efd2, 10, KVM_IRQFD_FLAG_DEASSIGN, 0));
	ioapic_pin10(_metadata, &g, &irr, &remote_irr);
	EXPECT_FALSE(irr);
	run_expect_out(_metadata, &g, 0x82, 4);
	run_expect_out(_metadata, &g, 0x83, 4);
	EXPECT_EQ(3, PIO_U32(&g));
	EXPECT_EQ(0, efd_take(rfd) + efd_take(rfd2));

	guest_destroy(&g);
	close(efd);
	close(rfd);
	close(efd2);
	close(rfd2);
}

static bool ioapic_irr(struct __test_metadata *_metadata,
		       struct mvm_guest *g, int pin)
{
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };

	if (ioctl(g->vm_fd, KVM_GET_IRQCHIP, &chip))
		abort();
	return chip.chip.ioapic.irr & (1u << pin);
}

/* KVM raises an IOAPIC line from a worker: wait a while for it. */
static bool ioapic_irr_becomes(struct __test_metadata *_metadata,
			       struct mvm_guest *g, int pin, bool level)
{
	int i;

	for (i = 0; i < 1000; i++) {
		if (ioapic_irr(_metadata, g, pin) == level)
			return true;
		usleep(1000);
	}
	return false;
}

/*
 * Without a vCPU (no EOI ever comes): the resampling irqfds of a GSI
 * raise it from their shared source and keep it high; it goes low when
 * the last of them is deassigned, not before; a line userspace raised
 * with KVM_IRQ_LINE (another source) stays high meanwhile.
 */
TEST(irqfd_resample_line_held)
{
	int efd = new_efd(), rfd = new_efd(), efd2 = new_efd();
	uint32_t rs = KVM_IRQFD_FLAG_RESAMPLE;
	uint32_t deassign = KVM_IRQFD_FLAG_DEASSIGN;
	struct kvm_irq_level line = { .irq = 11, .level = 1 };
	struct mvm_guest g;

	ASSERT_EQ(0, irq_guest_create(&g, FULL_IRQCHIP, false));
	ASSERT_EQ(0, irqfd(&g, efd, 10, rs, rfd));
	ASSERT_EQ(0, irqfd(&g, efd2, 10, rs, rfd));
	EXPECT_FALSE(ioapic_irr(_metadata, &g, 10));

	efd_signal(efd);
	EXPECT_TRUE(ioapic_irr_becomes(_metadata, &g, 10, true));
	ASSERT_EQ(0, irqfd(&g, efd, 10, deassign, 0));
	EXPECT_TRUE(ioapic_irr(_metadata, &g, 10));
	ASSERT_EQ(0, irqfd(&g, efd2, 10, deassign, 0));
	EXPECT_FALSE(ioapic_irr(_metadata, &g, 10));
	EXPECT_EQ(0, efd_take(rfd));

	/* GSI 11: userspace's level and a resampling irqfd's. */
	ASSERT_EQ(0, ioctl(g.vm_fd, KVM_IRQ_LINE, &line));
	ASSERT_EQ(0, irqfd(&g, efd, 11, rs, rfd));
	efd_signal(efd);
	usleep(10000);
	ASSERT_EQ(0, irqfd(&g, efd, 11, deassign, 0));
	EXPECT_TRUE(ioapic_irr(_metadata, &g, 11));
	line.level = 0;
	ASSERT_EQ(0, ioctl(g.vm_fd, KVM_IRQ_LINE, &line));
	EXPECT_FALSE(ioapic_irr(_metadata, &g, 11));

	guest_destroy(&g);
	close(efd);
	close(rfd);
	close(efd2);
}

/* ------------------------------------------------------------------ */
/* Closing in either order                                              */

GUEST_CODE_BLOB(g_pio_twice, ".code64",
	"out %al, $0xe0\n out %al, $0x80\n"
	"out %al, $0xe0\n out %al, $0x80\n hlt\n");

/*
 * The eventfds closed while assigned: an irqfd shuts down by itself (its
 * GSI and a new eventfd are free), an ioeventfd keeps working on the
 * closed eventfd until the VM goes.
 */
TEST(close_eventfds_first)
{
	int efd = new_efd(), iofd = new_efd(), efd2;
	struct mvm_guest g, gi;

	ASSERT_EQ(0, irq_guest_create(&gi, SPLIT_IRQCHIP, false));
	ASSERT_EQ(0, irqfd(&gi, efd, 5, 0, 0));
	guest_create(&g, 1 << 21);
	code_guest(&g, g_pio_twice_start, BLOB_LEN(g_pio_twice));
	ASSERT_EQ(0, ioeventfd(&g, iofd, 0xe0, 1, KVM_IOEVENTFD_FLAG_PIO, 0));
	run_expect_out(_metadata, &g, 0x80, 1);
	EXPECT_EQ(1, efd_take(iofd));

	close(efd);
	close(iofd);
	run_expect_out(_metadata, &g, 0x80, 1);
	run_expect(_metadata, &g, KVM_EXIT_HLT);

	efd2 = new_efd();
	EXPECT_EQ(0, irqfd(&gi, efd2, 5, 0, 0));
	EXPECT_EQ(0, irqfd(&gi, efd2, 5, KVM_IRQFD_FLAG_DEASSIGN, 0));
	EXPECT_EQ(0, irqfd(&gi, efd2, 5, 0, 0));
	close(efd2);
	guest_destroy(&gi);
	guest_destroy(&g);
}

TEST(close_resample_eventfds_first)
{
	int efd = new_efd(), rfd = new_efd();
	struct mvm_guest g;

	ASSERT_EQ(0, irq_guest_create(&g, FULL_IRQCHIP, false));
	ASSERT_EQ(0, irqfd(&g, efd, 10, KVM_IRQFD_FLAG_RESAMPLE, rfd));
	efd_signal(efd);
	close(rfd);
	close(efd);
	efd = new_efd();
	rfd = new_efd();
	EXPECT_EQ(0, irqfd(&g, efd, 10, KVM_IRQFD_FLAG_RESAMPLE, rfd));
	efd_signal(efd);
	close(efd);
	guest_destroy(&g);
	close(rfd);
}

/*
 * The VM closed first: its irqfds and ioeventfds let go of the eventfds
 * (a signal stays in the eventfd), which close afterwards.
 */
TEST(close_vm_first)
{
	int efd = new_efd(), iofd = new_efd(), efd2 = new_efd();
	int rfd = new_efd();
	struct mvm_guest g;

	ASSERT_EQ(0, irq_guest_create(&g, SPLIT_IRQCHIP, false));
	ASSERT_EQ(0, irqfd(&g, efd, 5, 0, 0));
	ASSERT_EQ(0, ioeventfd(&g, iofd, 0xe0, 1, KVM_IOEVENTFD_FLAG_PIO, 0));
	ASSERT_EQ(0, ioeventfd(&g, iofd, MMIO_GPA, 0, 0, 0));
	guest_destroy(&g);
	efd_signal(efd);
	EXPECT_EQ(1, efd_take(efd));
	efd_signal(iofd);
	EXPECT_EQ(1, efd_take(iofd));

	ASSERT_EQ(0, irq_guest_create(&g, FULL_IRQCHIP, false));
	ASSERT_EQ(0, irqfd(&g, efd2, 10, KVM_IRQFD_FLAG_RESAMPLE, rfd));
	efd_signal(efd2);
	guest_destroy(&g);
	efd_signal(efd2);
	EXPECT_EQ(1, efd_take(efd2));
	EXPECT_EQ(0, efd_take(rfd));
	close(efd);
	close(iofd);
	close(efd2);
	close(rfd);
}

/* ------------------------------------------------------------------ */
/* Races                                                                */

struct signaller {
	int fd;
	volatile bool stop;
	unsigned long count;
};

static void *signal_loop(void *arg)
{
	struct signaller *s = arg;

	while (!s->stop) {
		efd_signal(s->fd);
		s->count++;
		/* The rig's guests have one CPU: let the other thread on. */
		sched_yield();
	}
	return NULL;
}

/*
 * Signals racing the irqfd's whole life: another thread signals a
 * resampling irqfd without pause while this one assigns, signals,
 * deassigns and closes irqfds on the same line, and destroys the VM
 * under the signalling thread.  Nothing may crash or complain (the rig
 * reads the kernel log), and every ioctl succeeds.  Last: slow under
 * Bochs.
 */
TEST(irqfd_signal_races)
{
	struct signaller sig = { .fd = new_efd() };
	int rfd = new_efd();
	struct mvm_guest g;
	pthread_t thread;
	int vm, i;

	ASSERT_EQ(0, pthread_create(&thread, NULL, signal_loop, &sig));
	for (vm = 0; vm < 3; vm++) {
		ASSERT_EQ(0, irq_guest_create(&g, FULL_IRQCHIP, false));
		ASSERT_EQ(0, irqfd(&g, sig.fd, 10, KVM_IRQFD_FLAG_RESAMPLE,
				   rfd));
		for (i = 0; i < 18; i++) {
			int efd = new_efd();
			uint32_t gsi = i % 3 ? 11 : 10;
			uint32_t flags = i % 3 ? 0 : KVM_IRQFD_FLAG_RESAMPLE;

			ASSERT_EQ(0, irqfd(&g, efd, gsi, flags, rfd));
			efd_signal(efd);
			if (i & 1)
				ASSERT_EQ(0, irqfd(&g, efd, gsi,
						   KVM_IRQFD_FLAG_DEASSIGN, 0));
			close(efd);
		}
		if (vm & 1)
			ASSERT_EQ(0, irqfd(&g, sig.fd, 10,
					   KVM_IRQFD_FLAG_DEASSIGN, 0));
		guest_destroy(&g);
	}
	sig.stop = true;
	pthread_join(thread, NULL);
	EXPECT_NE(0, sig.count);
	close(sig.fd);
	close(rfd);
}

TEST_HARNESS_MAIN
