// SPDX-License-Identifier: GPL-2.0
/*
 * 2 MiB nested leaves for guest memory the VMM backs with 2 MiB pages:
 * transparent huge pages (MADV_HUGEPAGE) and hugetlbfs (MAP_HUGETLB).
 * The guest writes every 4 KiB page of a slot; the leaves installed for
 * the slot are counted by level from a tracepoint: mvm's mvm:mvm_map_leaf,
 * KVM's kvmmmu:kvm_mmu_set_spte (both print "gfn ... level N").  Nearly
 * all of the slot must come as 2 MiB leaves, one fault per 2 MiB instead
 * of 512.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

#define SLOT_GPA	0x40000000UL
#define HUGE		(2UL << 20)

/* Write one byte of each of RCX pages from RSI. */
GUEST_CODE_BLOB(g_touch, ".code64",
	"1: movb $1, (%rsi)\n add $4096, %rsi\n dec %rcx\n jnz 1b\n"
	"out %al, $0x80\n hlt\n");

/* RAX = the sum of the first byte of each of RCX pages from RSI. */
GUEST_CODE_BLOB(g_sum, ".code64",
	"xor %eax, %eax\n"
	"1: movzbq (%rsi), %rdx\n add %rdx, %rax\n add $4096, %rsi\n"
	"dec %rcx\n jnz 1b\n out %al, $0x80\n hlt\n");

static const char *leaf_event(void)
{
	return mvm_on_kvm() ? "events/kvmmmu/kvm_mmu_set_spte/enable" :
			      "events/mvm/mvm_map_leaf/enable";
}

static size_t slot_size(void)
{
	const char *vendor = getenv("MVM_VENDOR");

	return (vendor && !strcmp(vendor, "vmx")) ? 16 << 20 : 64 << 20;
}

FIXTURE(leaves) {
	const char *tracefs;
};

FIXTURE_SETUP(leaves)
{
	self->tracefs = mvm_tracefs();
}

FIXTURE_TEARDOWN(leaves)
{
	if (self->tracefs) {
		mvm_write_file_in(self->tracefs, leaf_event(), "0");
		mvm_write_file_in(self->tracefs, "trace", "");
	}
}

/*
 * Map @mem (2 MiB-aligned, @size) at SLOT_GPA, have the guest touch every
 * page, and count the slot's leaves of level 1 and 2 in the trace.
 */
static void touch_and_count(struct __test_metadata *_metadata,
			    const char *t, void *mem, size_t size,
			    long *small, long *large)
{
	struct kvm_userspace_memory_region r = {
		.slot = 1, .guest_phys_addr = SLOT_GPA, .memory_size = size,
		.userspace_addr = (uintptr_t)mem,
	};
	unsigned long long lo = SLOT_GPA >> 12, hi = (SLOT_GPA + size) >> 12;
	char path[256], line[512];
	struct kvm_regs regs;
	struct mvm_guest g;
	FILE *f;

	*small = *large = 0;
	guest_create(&g, 1 << 21);
	guest_load(&g, GUEST_CODE, g_touch_start, BLOB_LEN(g_touch));
	ASSERT_EQ(0, ioctl(g.vm_fd, KVM_SET_USER_MEMORY_REGION, &r));
	guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_REGS, &regs));
	regs.rsi = SLOT_GPA;
	regs.rcx = size / 4096;
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_REGS, &regs));

	ASSERT_EQ(0, mvm_write_file_in(t, "buffer_size_kb", "8192"));
	ASSERT_EQ(0, mvm_write_file_in(t, "trace", ""));
	ASSERT_EQ(0, mvm_write_file_in(t, leaf_event(), "1"));
	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	ASSERT_EQ(0, mvm_write_file_in(t, leaf_event(), "0"));
	ASSERT_EQ(KVM_EXIT_IO, g.run->exit_reason);

	snprintf(path, sizeof(path), "%s/trace", t);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, " gfn "), *q = strstr(line, " level ");
		unsigned long long gfn;
		int level;

		if (!p || !q || sscanf(p + 5, "%llx", &gfn) != 1 ||
		    sscanf(q + 7, "%d", &level) != 1)
			continue;
		if (gfn < lo || gfn >= hi)
			continue;
		if (level == 1)
			(*small)++;
		else if (level == 2)
			(*large)++;
	}
	fclose(f);
	TH_LOG("%zu MiB slot: %ld 2 MiB leaves, %ld 4 KiB leaves",
	       size >> 20, *large, *small);
	guest_destroy(&g);
}

TEST_F_TIMEOUT(leaves, thp_slot_2m_leaves, 300)
{
	size_t size = slot_size();
	long small, large;
	char mode[64] = "";
	uint8_t *raw, *mem;
	int fd;

	if (!self->tracefs)
		SKIP(return, "no tracefs");
	fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY);
	if (fd >= 0) {
		if (read(fd, mode, sizeof(mode) - 1) < 0)
			mode[0] = 0;
		close(fd);
	}
	if (!strstr(mode, "[always]") && !strstr(mode, "[madvise]"))
		SKIP(return, "THP off on this host: %s", mode);

	raw = mmap(NULL, size + HUGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, raw);
	mem = (uint8_t *)(((uintptr_t)raw + HUGE - 1) & ~(HUGE - 1));
	ASSERT_EQ(0, madvise(mem, size, MADV_HUGEPAGE));
	touch_and_count(_metadata, self->tracefs, mem, size, &small, &large);
	/* The host may fail a huge page or two (fragmentation). */
	EXPECT_GE(large, (long)(size / HUGE) * 3 / 4);
	EXPECT_LE(small, (long)(size / 4096) / 4);
	munmap(raw, size + HUGE);
}

TEST_F_TIMEOUT(leaves, hugetlbfs_slot_2m_leaves, 300)
{
	size_t size = slot_size() / 4;
	char buf[32];
	long small, large, before;
	FILE *f;
	void *mem;

	if (!self->tracefs)
		SKIP(return, "no tracefs");
	f = fopen("/proc/sys/vm/nr_hugepages", "r");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(1, fscanf(f, "%ld", &before));
	fclose(f);
	snprintf(buf, sizeof(buf), "%ld", before + (long)(size / HUGE));
	ASSERT_EQ(0, mvm_write_file_in("/proc/sys/vm", "nr_hugepages", buf));

	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (mem == MAP_FAILED) {
		snprintf(buf, sizeof(buf), "%ld", before);
		mvm_write_file_in("/proc/sys/vm", "nr_hugepages", buf);
		SKIP(return, "no 2 MiB hugetlbfs pages: %s", strerror(errno));
	}
	touch_and_count(_metadata, self->tracefs, mem, size, &small, &large);
	EXPECT_EQ((long)(size / HUGE), large);
	EXPECT_EQ(0, small);
	munmap(mem, size);
	snprintf(buf, sizeof(buf), "%ld", before);
	mvm_write_file_in("/proc/sys/vm", "nr_hugepages", buf);
}

/*
 * MADV_DONTNEED of one 4 KiB page inside a THP the guest maps with a 2 MiB
 * leaf: the leaf goes (the host splits its mapping), the guest reads zero
 * there and its data everywhere else.
 */
TEST(partial_invalidate_of_huge_leaf)
{
	const size_t size = 8 << 20, pages = size / 4096;
	struct kvm_userspace_memory_region r = {
		.slot = 1, .guest_phys_addr = SLOT_GPA, .memory_size = size,
	};
	struct kvm_regs regs;
	struct mvm_guest g;
	uint8_t *raw, *mem;
	int i;

	raw = mmap(NULL, size + HUGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, raw);
	mem = (uint8_t *)(((uintptr_t)raw + HUGE - 1) & ~(HUGE - 1));
	madvise(mem, size, MADV_HUGEPAGE);
	r.userspace_addr = (uintptr_t)mem;
	guest_create(&g, 1 << 21);
	guest_load(&g, GUEST_CODE, g_touch_start, BLOB_LEN(g_touch));
	guest_load(&g, GUEST_CODE + 0x1000, g_sum_start, BLOB_LEN(g_sum));
	ASSERT_EQ(0, ioctl(g.vm_fd, KVM_SET_USER_MEMORY_REGION, &r));

	for (i = 0; i < 3; i++) {
		guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE + (i ? 0x1000 : 0));
		ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_REGS, &regs));
		regs.rsi = SLOT_GPA;
		regs.rcx = pages;
		ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_REGS, &regs));
		ASSERT_EQ(0, guest_run(g.vcpu_fd));
		ASSERT_EQ(KVM_EXIT_IO, g.run->exit_reason);
		ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_REGS, &regs));
		if (i == 1) {
			ASSERT_EQ(pages, regs.rax);
			/* One page in the middle of the second 2 MiB. */
			ASSERT_EQ(1, mem[HUGE + 77 * 4096]);
			ASSERT_EQ(0, madvise(mem + HUGE + 77 * 4096, 4096,
					     MADV_DONTNEED));
		} else if (i == 2) {
			EXPECT_EQ(pages - 1, regs.rax);
		}
	}
	EXPECT_EQ(0, mem[HUGE + 77 * 4096]);
	EXPECT_EQ(1, mem[HUGE + 78 * 4096]);
	guest_destroy(&g);
	munmap(raw, size + HUGE);
}

TEST_HARNESS_MAIN
