// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory is the VMM's ordinary memory, faulted in lazily: a guest
 * touching pages of a large slot grows the VMM's RSS by what it touched,
 * not by the slot's size.  And SSE state survives a thousand exits while
 * the host uses the FPU around it.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

#define BIG_GPA		0x40000000UL

/* Touch RCX pages from RSI on, one byte each, then report. */
GUEST_CODE_BLOB(g_touch, ".code64",
	"1: movb $1, (%rsi)\n add $4096, %rsi\n dec %rcx\n jnz 1b\n"
	"out %al, $0x80\n hlt\n");

static long rss_bytes(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * getpagesize();
}

static void touch(struct __test_metadata *_metadata, struct mvm_guest *g,
		  uint64_t gpa, unsigned long pages)
{
	struct kvm_regs regs;

	guest_set_long_mode(g, g->vcpu_fd, GUEST_CODE);
	ASSERT_EQ(0, ioctl(g->vcpu_fd, KVM_GET_REGS, &regs));
	regs.rsi = gpa;
	regs.rcx = pages;
	ASSERT_EQ(0, ioctl(g->vcpu_fd, KVM_SET_REGS, &regs));
	ASSERT_EQ(0, guest_run(g->vcpu_fd));
	ASSERT_EQ(KVM_EXIT_IO, g->run->exit_reason);
}

TEST(large_slot_lazy_rss)
{
	/* 1 GiB; Bochs is slower at faulting, so half of it there. */
	const char *vendor = getenv("MVM_VENDOR");
	unsigned long size = (vendor && !strcmp(vendor, "vmx")) ? 512UL << 20 :
			     1UL << 30;
	unsigned long pages = size / 4096;
	struct kvm_userspace_memory_region r = {
		.slot = 1, .guest_phys_addr = BIG_GPA, .memory_size = size,
	};
	struct mvm_guest g;
	long rss0, rss1, rss2;
	void *big;

	guest_create(&g, 1 << 21);
	guest_load(&g, GUEST_CODE, g_touch_start, BLOB_LEN(g_touch));
	big = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, big);
	r.userspace_addr = (uintptr_t)big;
	ASSERT_EQ(0, ioctl(g.vm_fd, KVM_SET_USER_MEMORY_REGION, &r));

	/* Warm up the small slot (code, page tables) first. */
	touch(_metadata, &g, BIG_GPA, 1);
	rss0 = rss_bytes();

	touch(_metadata, &g, BIG_GPA + 4096, pages / 4 - 1);
	rss1 = rss_bytes();
	TH_LOG("slot %lu MiB: RSS %ld MiB -> %ld MiB after a quarter",
	       size >> 20, rss0 >> 20, rss1 >> 20);
	ASSERT_GE(rss1 - rss0, (long)(size / 4) * 9 / 10);
	ASSERT_LE(rss1 - rss0, (long)(size / 4) + (16L << 20));

	touch(_metadata, &g, BIG_GPA + size / 4, pages - pages / 4);
	rss2 = rss_bytes();
	TH_LOG("RSS %ld MiB after all of it", rss2 >> 20);
	ASSERT_GE(rss2 - rss0, (long)size * 9 / 10);
	ASSERT_LE(rss2 - rss0, (long)size + (16L << 20));

	/* Deleting the slot releases the pins; the VMM can free its memory. */
	r.memory_size = 0;
	ASSERT_EQ(0, ioctl(g.vm_fd, KVM_SET_USER_MEMORY_REGION, &r));
	ASSERT_EQ(0, munmap(big, size));
	ASSERT_LE(rss_bytes(), rss0 + (16L << 20));
	guest_destroy(&g);
}

/*
 * Load XMM0-15 with distinct values, make 1000 exits, then check them all;
 * report 0 on port 0x81 if intact, else the first bad register + 1.
 */
#define XMM_SET(i) "mov $(0x0101010101010101 * (" #i " + 1)), %rax\n movq %rax, %xmm" #i "\n"
#define XMM_CHK(i) "movq %xmm" #i ", %rax\n mov $(0x0101010101010101 * (" #i " + 1)), %rdx\n" \
		   "cmp %rdx, %rax\n mov $(" #i " + 1), %ebx\n jne 9f\n"
GUEST_CODE_BLOB(g_sse, ".code64",
	XMM_SET(0) XMM_SET(1) XMM_SET(2) XMM_SET(3) XMM_SET(4) XMM_SET(5)
	XMM_SET(6) XMM_SET(7) XMM_SET(8) XMM_SET(9) XMM_SET(10) XMM_SET(11)
	XMM_SET(12) XMM_SET(13) XMM_SET(14) XMM_SET(15)
	"mov $1000, %ecx\n 1: out %al, $0x80\n dec %ecx\n jnz 1b\n"
	XMM_CHK(0) XMM_CHK(1) XMM_CHK(2) XMM_CHK(3) XMM_CHK(4) XMM_CHK(5)
	XMM_CHK(6) XMM_CHK(7) XMM_CHK(8) XMM_CHK(9) XMM_CHK(10) XMM_CHK(11)
	XMM_CHK(12) XMM_CHK(13) XMM_CHK(14) XMM_CHK(15)
	"xor %ebx, %ebx\n"
	"9: mov %ebx, %eax\n out %eax, $0x81\n hlt\n");

static volatile int stop_fpu_hogs;

static void *fpu_hog(void *arg)
{
	volatile double x = 1.0;

	while (!stop_fpu_hogs)
		x = sqrt(x + 1.5) * 1.000001;
	return NULL;
}

TEST(sse_state_survives_exits)
{
	struct mvm_guest g;
	pthread_t hogs[2];
	volatile double y = 2.0;
	int i, exits = 0;

	guest_create(&g, 1 << 21);
	guest_load(&g, GUEST_CODE, g_sse_start, BLOB_LEN(g_sse));
	guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&hogs[i], NULL, fpu_hog, NULL));

	for (;;) {
		ASSERT_EQ(0, guest_run(g.vcpu_fd));
		ASSERT_EQ(KVM_EXIT_IO, g.run->exit_reason);
		if (g.run->io.port == 0x81)
			break;
		exits++;
		/* This thread's own FPU use between exits. */
		y = sqrt(y * 3.0 + exits);
	}
	stop_fpu_hogs = 1;
	for (i = 0; i < 2; i++)
		pthread_join(hogs[i], NULL);
	ASSERT_EQ(1000, exits);
	ASSERT_EQ(0, *(uint32_t *)((char *)g.run + g.run->io.data_offset))
		TH_LOG("first corrupted XMM register + 1");
	guest_destroy(&g);
}

TEST_HARNESS_MAIN
