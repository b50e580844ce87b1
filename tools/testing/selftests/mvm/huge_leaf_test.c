// SPDX-License-Identifier: GPL-2.0
/*
 * Large nested leaves for guest memory the VMM backs with huge pages:
 * 2 MiB leaves for transparent huge pages (MADV_HUGEPAGE) and 2 MiB
 * hugetlbfs pages (MAP_HUGETLB), a 1 GiB leaf for a 1 GiB hugetlbfs page
 * (MAP_HUGE_1GB) where the CPU has 1 GiB nested pages.  The guest writes
 * the pages of a slot; the leaves installed for the slot are counted by
 * level from a tracepoint: mvm's mvm:mvm_map_leaf, KVM's
 * kvmmmu:kvm_mmu_set_spte (both print "gfn ... level N").  Nearly all of
 * the slot must come as large leaves, one fault per 2 MiB (or 1 GiB)
 * instead of one per 4 KiB.
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

#define SLOT_GPA	0x40000000UL	/* 1 GiB-aligned */
#define HUGE		(2UL << 20)
#define GIANT		(1UL << 30)

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT	26
#endif
#ifndef MAP_HUGE_1GB
#define MAP_HUGE_1GB	(30 << MAP_HUGE_SHIFT)
#endif

#define HUGEPAGES_1G	"/sys/kernel/mm/hugepages/hugepages-1048576kB"

/* Write one byte of each of RCX pages from RSI. */
GUEST_CODE_BLOB(g_touch, ".code64",
	"1: movb $1, (%rsi)\n add $4096, %rsi\n dec %rcx\n jnz 1b\n"
	"out %al, $0x80\n hlt\n");

/* RAX = the sum of the first byte of each of RCX pages from RSI. */
GUEST_CODE_BLOB(g_sum, ".code64",
	"xor %eax, %eax\n"
	"1: movzbq (%rsi), %rdx\n add %rdx, %rax\n add $4096, %rsi\n"
	"dec %rcx\n jnz 1b\n out %al, $0x80\n hlt\n");

/* Write DL to RCX bytes from RSI, RBX apart. */
GUEST_CODE_BLOB(g_fill_stride, ".code64",
	"1: movb %dl, (%rsi)\n add %rbx, %rsi\n dec %rcx\n jnz 1b\n"
	"out %al, $0x80\n hlt\n");

/* RAX = the sum of RCX bytes from RSI, RBX apart. */
GUEST_CODE_BLOB(g_sum_stride, ".code64",
	"xor %eax, %eax\n"
	"1: movzbq (%rsi), %rdx\n add %rdx, %rax\n add %rbx, %rsi\n"
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

#define KHUGEPAGED	"/sys/kernel/mm/transparent_hugepage/khugepaged"

FIXTURE(leaves) {
	const char *tracefs;
	long giant_nr;		/* 1 GiB pages before the test raised it */
	bool giant_raised;
	long khugepaged_sleep;	/* khugepaged's settings before the test */
	long khugepaged_none;	/* (-1: left alone) */
};

FIXTURE_SETUP(leaves)
{
	self->tracefs = mvm_tracefs();
	self->giant_raised = false;
	self->khugepaged_sleep = -1;
	self->khugepaged_none = -1;
}

FIXTURE_TEARDOWN(leaves)
{
	char buf[32];

	if (self->tracefs) {
		mvm_write_file_in(self->tracefs, leaf_event(), "0");
		mvm_write_file_in(self->tracefs, "trace", "");
	}
	if (self->giant_raised) {
		snprintf(buf, sizeof(buf), "%ld", self->giant_nr);
		mvm_write_file_in(HUGEPAGES_1G, "nr_hugepages", buf);
	}
	if (self->khugepaged_none >= 0) {
		snprintf(buf, sizeof(buf), "%ld", self->khugepaged_none);
		mvm_write_file_in(KHUGEPAGED, "max_ptes_none", buf);
	}
	if (self->khugepaged_sleep >= 0) {
		snprintf(buf, sizeof(buf), "%ld", self->khugepaged_sleep);
		mvm_write_file_in(KHUGEPAGED, "scan_sleep_millisecs", buf);
	}
}

/*
 * Count the leaves of gfns [@lo, @hi) in the trace by level (1 to 3) into
 * @counts[level]; 0, or -1 if the trace cannot be read.
 */
static int count_leaves(const char *t, unsigned long long lo,
			unsigned long long hi, long counts[4])
{
	char path[256], line[512];
	FILE *f;

	memset(counts, 0, 4 * sizeof(*counts));
	snprintf(path, sizeof(path), "%s/trace", t);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, " gfn "), *q = strstr(line, " level ");
		unsigned long long gfn;
		int level;

		if (!p || !q || sscanf(p + 5, "%llx", &gfn) != 1 ||
		    sscanf(q + 7, "%d", &level) != 1)
			continue;
		if (gfn >= lo && gfn < hi && level >= 1 && level <= 3)
			counts[level]++;
	}
	fclose(f);
	return 0;
}

/* Record the leaves mvm or KVM installs from now: trace emptied, event on. */
static int leaves_trace_on(const char *t)
{
	if (mvm_write_file_in(t, "trace", ""))
		return -1;
	return mvm_write_file_in(t, leaf_event(), "1");
}

/* Stop recording; count the leaves of gfns [@lo, @hi) as count_leaves(). */
static int leaves_trace_off(const char *t, unsigned long long lo,
			    unsigned long long hi, long counts[4])
{
	if (mvm_write_file_in(t, leaf_event(), "0"))
		return -1;
	return count_leaves(t, lo, hi, counts);
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
	struct kvm_regs regs;
	struct mvm_guest g;
	long counts[4];

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
	ASSERT_EQ(0, leaves_trace_on(t));
	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	ASSERT_EQ(0, leaves_trace_off(t, lo, hi, counts));
	ASSERT_EQ(KVM_EXIT_IO, g.run->exit_reason);
	*small = counts[1];
	*large = counts[2];
	TH_LOG("%zu MiB slot: %ld 2 MiB leaves, %ld 4 KiB leaves",
	       size >> 20, *large, *small);
	guest_destroy(&g);
}

/*
 * Anonymous memory for THP: @size bytes, 2 MiB-aligned, MADV_HUGEPAGE;
 * *@raw the mapping to unmap (@size + 2 MiB).  NULL on failure.
 */
static uint8_t *thp_map(size_t size, uint8_t **raw)
{
	uint8_t *mem;

	*raw = mmap(NULL, size + HUGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (*raw == MAP_FAILED)
		return NULL;
	mem = (uint8_t *)(((uintptr_t)*raw + HUGE - 1) & ~(HUGE - 1));
	if (madvise(mem, size, MADV_HUGEPAGE)) {
		munmap(*raw, size + HUGE);
		return NULL;
	}
	return mem;
}

/* Whether THP is "always" or "madvise"; the setting into @mode. */
static bool thp_on(char *mode, size_t len)
{
	int fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY);
	ssize_t n = -1;

	if (fd >= 0) {
		n = read(fd, mode, len - 1);
		close(fd);
	}
	mode[n > 0 ? n : 0] = 0;
	return strstr(mode, "[always]") || strstr(mode, "[madvise]");
}

TEST_F_TIMEOUT(leaves, thp_slot_2m_leaves, 300)
{
	size_t size = slot_size();
	long small, large;
	char mode[64] = "";
	uint8_t *raw, *mem;

	if (!self->tracefs)
		SKIP(return, "no tracefs");
	if (!thp_on(mode, sizeof(mode)))
		SKIP(return, "THP off on this host: %s", mode);

	mem = thp_map(size, &raw);
	ASSERT_NE(NULL, mem);
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
 * Whether the CPU has 1 GiB nested pages, as both mvm and KVM decide it:
 * EPT's 1-GByte-page capability (IA32_VMX_EPT_VPID_CAP bit 17, "ept_1gb"
 * in the "vmx flags" of /proc/cpuinfo); NPT has the host's page sizes
 * ("pdpe1gb").
 */
static bool cpu_has_1g_nested(void)
{
	char line[4096];
	bool vmx = false, ept_1g = false, gbpages = false;
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "vmx flags", 9)) {
			vmx = true;
			ept_1g = strstr(line, " ept_1gb") != NULL;
		} else if (!strncmp(line, "flags", 5)) {
			gbpages = strstr(line, " pdpe1gb") != NULL;
		} else if (line[0] == '\n' && (vmx || gbpages)) {
			break;		/* the first CPU is enough */
		}
	}
	fclose(f);
	return vmx ? ept_1g : gbpages;
}

static void *map_1g(void *at)
{
	return mmap(at, GIANT, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_1GB |
		    (at ? MAP_FIXED : 0), -1, 0);
}

/*
 * A 1 GiB hugetlbfs page mapped (1 GiB-aligned, as hugetlbfs places it),
 * or MAP_FAILED with @why saying why.  If none is free, ask for one more
 * at run time (which needs a free, aligned GiB of RAM), setting *@raised
 * and *@nr (the count before) for the fixture's teardown to give it back.
 */
static uint8_t *giant_map(long *nr, bool *raised, char *why, size_t len)
{
	char buf[32];
	void *mem;

	*nr = mvm_read_num(HUGEPAGES_1G, "nr_hugepages");
	if (*nr < 0) {
		snprintf(why, len, "no 1 GiB hugetlbfs pages on this kernel/CPU (%s: %s)",
			 HUGEPAGES_1G, strerror(errno));
		return MAP_FAILED;
	}
	if (mvm_read_num(HUGEPAGES_1G, "free_hugepages") < 1) {
		snprintf(buf, sizeof(buf), "%ld", *nr + 1);
		mvm_write_file_in(HUGEPAGES_1G, "nr_hugepages", buf);
		*raised = true;
	}
	mem = map_1g(NULL);
	if (mem == MAP_FAILED)
		snprintf(why, len,
			 "no free 1 GiB hugetlbfs page (%s; nr_hugepages %ld, asked for one more at run time): boot with hugepagesz=1G hugepages=1",
			 strerror(errno), *nr);
	return mem;
}

/*
 * Run the code at @code (g_fill_stride or g_sum_stride) over the 512
 * 2 MiB steps of the 1 GiB slot from its byte @offset, with DL = @val;
 * returns the guest's RAX.
 */
static uint64_t run_stride(struct __test_metadata *_metadata,
			   struct mvm_guest *g, uint64_t code,
			   unsigned long offset, uint8_t val)
{
	struct kvm_regs regs;

	guest_set_long_mode(g, g->vcpu_fd, code);
	EXPECT_EQ(0, ioctl(g->vcpu_fd, KVM_GET_REGS, &regs));
	regs.rsi = SLOT_GPA + offset;
	regs.rbx = HUGE;
	regs.rcx = GIANT / HUGE;
	regs.rdx = val;
	EXPECT_EQ(0, ioctl(g->vcpu_fd, KVM_SET_REGS, &regs));
	EXPECT_EQ(0, guest_run(g->vcpu_fd));
	EXPECT_EQ(KVM_EXIT_IO, g->run->exit_reason);
	EXPECT_EQ(0, ioctl(g->vcpu_fd, KVM_GET_REGS, &regs));
	return regs.rax;
}

/* The counts a 1 GiB test expects: @want3 1 GiB, @want2 2 MiB, no 4 KiB. */
static void expect_leaves(struct __test_metadata *_metadata, const char *when,
			  const long counts[4], long want3, long want2)
{
	TH_LOG("%s: %ld 1 GiB, %ld 2 MiB, %ld 4 KiB leaves", when,
	       counts[3], counts[2], counts[1]);
	EXPECT_EQ(want3, counts[3]);
	EXPECT_EQ(want2, counts[2]);
	EXPECT_EQ(0, counts[1]);
}

/*
 * A 1 GiB hugetlbfs page as a slot at a 1 GiB-aligned GPA: the guest's
 * writes (one per 2 MiB) are mapped with one 1 GiB leaf where the CPU
 * has 1 GiB nested pages, else with 512 2 MiB leaves.  A hugetlbfs page
 * is invalidated only whole (the kernel refuses or rounds down a partial
 * MADV_DONTNEED or mprotect of it), so the invalidation here is an
 * munmap of the range and a new mapping at the same address with other
 * data: the guest must read the new data, after faulting the new page in
 * with a new leaf.  Then dirty logging starts on the slot: the large leaf
 * must go (split on demand), the guest's writes come as 4 KiB leaves, and
 * the log has exactly the pages written; when logging stops, the large
 * leaf comes back.
 */
TEST_F_TIMEOUT(leaves, hugetlbfs_slot_1g_leaves, 600)
{
	const unsigned long long lo = SLOT_GPA >> 12;
	const unsigned long long hi = (SLOT_GPA + GIANT) >> 12;
	struct kvm_userspace_memory_region r = {
		.slot = 1, .guest_phys_addr = SLOT_GPA, .memory_size = GIANT,
	};
	bool giant_leaves = cpu_has_1g_nested();
	long counts[4], want3 = giant_leaves, want2;
	struct kvm_dirty_log log = { .slot = 1 };
	unsigned long i, dirty, wrong;
	struct mvm_guest g;
	uint64_t *bitmap;
	char why[256];
	uint8_t *mem;

	want2 = giant_leaves ? 0 : (long)(GIANT / HUGE);
	if (!self->tracefs)
		SKIP(return, "no tracefs");
	mem = giant_map(&self->giant_nr, &self->giant_raised, why, sizeof(why));
	if (mem == MAP_FAILED)
		SKIP(return, "%s", why);
	TH_LOG("CPU %s 1 GiB nested pages: expecting %s",
	       giant_leaves ? "has" : "lacks (as KVM, mvm maps 2 MiB leaves)",
	       giant_leaves ? "one 1 GiB leaf" : "512 2 MiB leaves");

	r.userspace_addr = (uintptr_t)mem;
	guest_create(&g, 1 << 21);
	guest_load(&g, GUEST_CODE, g_fill_stride_start, BLOB_LEN(g_fill_stride));
	guest_load(&g, GUEST_CODE + 0x1000, g_sum_stride_start,
		   BLOB_LEN(g_sum_stride));
	ASSERT_EQ(0, ioctl(g.vm_fd, KVM_SET_USER_MEMORY_REGION, &r));

	/* The guest writes 1 at every 2 MiB. */
	ASSERT_EQ(0, leaves_trace_on(self->tracefs));
	run_stride(_metadata, &g, GUEST_CODE, 0, 1);
	ASSERT_EQ(0, leaves_trace_off(self->tracefs, lo, hi, counts));
	expect_leaves(_metadata, "first touch", counts, want3, want2);
	for (i = 0; i < GIANT; i += HUGE)
		if (mem[i] != 1)
			break;
	EXPECT_EQ(GIANT, i);
	EXPECT_EQ(0, mem[HUGE + 4096]);

	/*
	 * Invalidate: the page goes back to the pool and comes again, maybe
	 * the same one; the new leaf in the trace shows the old one went.
	 */
	ASSERT_EQ(0, munmap(mem, GIANT));
	ASSERT_EQ(mem, map_1g(mem));
	for (i = 0; i < GIANT; i += HUGE)
		mem[i] = 2;
	ASSERT_EQ(0, leaves_trace_on(self->tracefs));
	EXPECT_EQ(2 * GIANT / HUGE,
		  run_stride(_metadata, &g, GUEST_CODE + 0x1000, 0, 0));
	ASSERT_EQ(0, leaves_trace_off(self->tracefs, lo, hi, counts));
	expect_leaves(_metadata, "after munmap and mmap", counts, want3, want2);

	/*
	 * Logging: the guest writes the second 4 KiB page of every 2 MiB.
	 * mvm zaps the large leaf and maps one 4 KiB leaf per write; KVM
	 * splits it (eagerly, or on the write) without necessarily tracing
	 * a new leaf, but maps no large one either.
	 */
	r.flags = KVM_MEM_LOG_DIRTY_PAGES;
	ASSERT_EQ(0, ioctl(g.vm_fd, KVM_SET_USER_MEMORY_REGION, &r));
	ASSERT_EQ(0, leaves_trace_on(self->tracefs));
	run_stride(_metadata, &g, GUEST_CODE, 4096, 3);
	ASSERT_EQ(0, leaves_trace_off(self->tracefs, lo, hi, counts));
	TH_LOG("logging: %ld 1 GiB, %ld 2 MiB, %ld 4 KiB leaves",
	       counts[3], counts[2], counts[1]);
	EXPECT_EQ(0, counts[3]);
	EXPECT_EQ(0, counts[2]);
	if (!mvm_on_kvm())
		EXPECT_EQ((long)(GIANT / HUGE), counts[1]);
	bitmap = calloc(GIANT / 4096 / 64, sizeof(*bitmap));
	ASSERT_NE(NULL, bitmap);
	log.dirty_bitmap = bitmap;
	ASSERT_EQ(0, ioctl(g.vm_fd, KVM_GET_DIRTY_LOG, &log));
	dirty = wrong = 0;
	for (i = 0; i < GIANT / 4096; i++) {
		if (!(bitmap[i / 64] & (1ULL << (i % 64))))
			continue;
		dirty++;
		wrong += i % (HUGE / 4096) != 1;
	}
	EXPECT_EQ(GIANT / HUGE, dirty);
	EXPECT_EQ(0, wrong);
	for (i = 0; i < GIANT; i += HUGE)
		if (mem[i + 4096] != 3 || mem[i] != 2)
			break;
	EXPECT_EQ(GIANT, i);
	free(bitmap);

	/* Logging stops: the large leaf comes back on the next fault. */
	r.flags = 0;
	ASSERT_EQ(0, ioctl(g.vm_fd, KVM_SET_USER_MEMORY_REGION, &r));
	ASSERT_EQ(0, leaves_trace_on(self->tracefs));
	run_stride(_metadata, &g, GUEST_CODE, 8192, 4);
	ASSERT_EQ(0, leaves_trace_off(self->tracefs, lo, hi, counts));
	expect_leaves(_metadata, "logging stopped", counts, want3, want2);
	for (i = 0; i < GIANT; i += HUGE)
		if (mem[i + 8192] != 4 || mem[i + 4096] != 3)
			break;
	EXPECT_EQ(GIANT, i);

	guest_destroy(&g);
	munmap(mem, GIANT);
}

/*
 * A 1 GiB hugetlbfs page behind a slot that covers all but its first
 * 2 MiB: no GiB of the slot is whole, so the page is mapped with 2 MiB
 * leaves (511), as KVM maps it, not 4 KiB ones.
 */
TEST_F_TIMEOUT(leaves, hugetlbfs_1g_page_in_2m_leaves, 600)
{
	const unsigned long long lo = (SLOT_GPA + HUGE) >> 12;
	const unsigned long long hi = (SLOT_GPA + GIANT) >> 12;
	struct kvm_userspace_memory_region r = {
		.slot = 1, .guest_phys_addr = SLOT_GPA + HUGE,
		.memory_size = GIANT - HUGE,
	};
	struct kvm_regs regs;
	struct mvm_guest g;
	long counts[4];
	char why[256];
	uint8_t *mem;

	if (!self->tracefs)
		SKIP(return, "no tracefs");
	mem = giant_map(&self->giant_nr, &self->giant_raised, why, sizeof(why));
	if (mem == MAP_FAILED)
		SKIP(return, "%s", why);
	r.userspace_addr = (uintptr_t)mem + HUGE;
	guest_create(&g, 1 << 21);
	guest_load(&g, GUEST_CODE, g_fill_stride_start, BLOB_LEN(g_fill_stride));
	ASSERT_EQ(0, ioctl(g.vm_fd, KVM_SET_USER_MEMORY_REGION, &r));

	ASSERT_EQ(0, leaves_trace_on(self->tracefs));
	guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE);
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_REGS, &regs));
	regs.rsi = SLOT_GPA + HUGE;
	regs.rbx = HUGE;
	regs.rcx = GIANT / HUGE - 1;
	regs.rdx = 5;
	ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_REGS, &regs));
	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	ASSERT_EQ(KVM_EXIT_IO, g.run->exit_reason);
	ASSERT_EQ(0, leaves_trace_off(self->tracefs, lo, hi, counts));
	TH_LOG("%ld 1 GiB, %ld 2 MiB, %ld 4 KiB leaves",
	       counts[3], counts[2], counts[1]);
	EXPECT_EQ(0, counts[3]);
	EXPECT_EQ((long)(GIANT / HUGE) - 1, counts[2]);
	EXPECT_EQ(0, counts[1]);
	EXPECT_EQ(0, mem[0]);
	EXPECT_EQ(5, mem[HUGE]);
	EXPECT_EQ(5, mem[GIANT - HUGE]);
	guest_destroy(&g);
	munmap(mem, GIANT);
}


#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25
#endif

/*
 * Guest @g touches every page of the 4 MiB slot at SLOT_GPA; the leaves
 * of its second 2 MiB by level into @counts.
 */
static void touch_second_huge(struct __test_metadata *_metadata,
			      const char *t, struct mvm_guest *g,
			      long counts[4])
{
	unsigned long long lo = (SLOT_GPA + HUGE) >> 12;
	struct kvm_regs regs;

	guest_set_long_mode(g, g->vcpu_fd, GUEST_CODE);
	ASSERT_EQ(0, ioctl(g->vcpu_fd, KVM_GET_REGS, &regs));
	regs.rsi = SLOT_GPA;
	regs.rcx = 2 * HUGE / 4096;
	ASSERT_EQ(0, ioctl(g->vcpu_fd, KVM_SET_REGS, &regs));
	ASSERT_EQ(0, leaves_trace_on(t));
	ASSERT_EQ(0, guest_run(g->vcpu_fd));
	ASSERT_EQ(0, leaves_trace_off(t, lo, lo + HUGE / 4096, counts));
	ASSERT_EQ(KVM_EXIT_IO, g->run->exit_reason);
}

/*
 * The host collapses small pages back into a huge page (khugepaged's
 * work; MADV_COLLAPSE here): the guest's next touch of that 2 MiB gets
 * one 2 MiB leaf again, as on KVM.  Before: a THP-backed 2 MiB in one 2
 * MiB leaf, then MADV_DONTNEED of one 4 KiB page inside splits the THP
 * and the guest's next touch maps 4 KiB leaves.
 */
TEST_F_TIMEOUT(leaves, collapse_brings_back_the_huge_leaf, 120)
{
	const size_t size = 2 * HUGE;
	struct kvm_userspace_memory_region r = {
		.slot = 1, .guest_phys_addr = SLOT_GPA, .memory_size = size,
	};
	char mode[64] = "";
	struct mvm_guest g;
	uint8_t *raw, *mem;
	long counts[4];
	int i, ret = -1;

	if (!self->tracefs)
		SKIP(return, "no tracefs");
	if (!thp_on(mode, sizeof(mode)))
		SKIP(return, "THP off on this host: %s", mode);
	/*
	 * Only MADV_COLLAPSE may collapse: khugepaged too could between the
	 * split and the guest's next touch (seen on KVM), so it sleeps long
	 * and collapses no range with a missing page (MADV_COLLAPSE ignores
	 * both settings).  The teardown restores them.
	 */
	self->khugepaged_sleep = mvm_read_num(KHUGEPAGED,
					      "scan_sleep_millisecs");
	self->khugepaged_none = mvm_read_num(KHUGEPAGED, "max_ptes_none");
	ASSERT_EQ(0, mvm_write_file_in(KHUGEPAGED, "max_ptes_none", "0"));
	ASSERT_EQ(0, mvm_write_file_in(KHUGEPAGED, "scan_sleep_millisecs",
				       "3600000"));
	mem = thp_map(size, &raw);
	ASSERT_NE(NULL, mem);
	r.userspace_addr = (uintptr_t)mem;
	guest_create(&g, 1 << 21);
	guest_load(&g, GUEST_CODE, g_touch_start, BLOB_LEN(g_touch));
	ASSERT_EQ(0, ioctl(g.vm_fd, KVM_SET_USER_MEMORY_REGION, &r));
	ASSERT_EQ(0, mvm_write_file_in(self->tracefs, "buffer_size_kb",
				       "8192"));

	touch_second_huge(_metadata, self->tracefs, &g, counts);
	TH_LOG("THP: %ld 2 MiB, %ld 4 KiB leaves", counts[2], counts[1]);
	ASSERT_EQ(1, counts[2]);
	ASSERT_EQ(0, counts[1]);

	ASSERT_EQ(0, madvise(mem + HUGE + 77 * 4096, 4096, MADV_DONTNEED));
	touch_second_huge(_metadata, self->tracefs, &g, counts);
	TH_LOG("split: %ld 2 MiB, %ld 4 KiB leaves", counts[2], counts[1]);
	ASSERT_EQ(0, counts[2]);
	ASSERT_LT(0, counts[1]);

	/* It may find the memory busy (a racing reclaim) once or twice. */
	for (i = 0; i < 10 && ret; i++) {
		ret = madvise(mem + HUGE, HUGE, MADV_COLLAPSE);
		if (ret && errno == EINVAL)
			SKIP(goto out, "no MADV_COLLAPSE on this kernel");
	}
	ASSERT_EQ(0, ret);
	touch_second_huge(_metadata, self->tracefs, &g, counts);
	TH_LOG("collapsed: %ld 2 MiB, %ld 4 KiB leaves", counts[2], counts[1]);
	EXPECT_EQ(1, counts[2]);
	EXPECT_EQ(0, counts[1]);
	EXPECT_EQ(1, mem[HUGE + 77 * 4096]);	/* the guest's touch */
out:
	guest_destroy(&g);
	munmap(raw, size + HUGE);
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

	mem = thp_map(size, &raw);
	ASSERT_NE(NULL, mem);
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
