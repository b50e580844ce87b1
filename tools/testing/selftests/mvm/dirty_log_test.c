// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty-page logging with KVM's semantics: KVM_MEM_LOG_DIRTY_PAGES,
 * KVM_GET_DIRTY_LOG, and KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 with
 * KVM_CLEAR_DIRTY_LOG.
 *
 * In each of 100 rounds the guest writes a random set of pages of a
 * logged slot (the VMM hands it the list), and the log must equal exactly
 * that set: no page missing, none extra.  Without manual protection the
 * harvest clears the log and re-arms; with it, KVM_CLEAR_DIRTY_LOG does.
 * KVM_DIRTY_LOG_INITIALLY_SET starts with every bit set.  Logging turned
 * on for a slot the guest already mapped, with 2 MiB leaves where THP
 * backs it, is exact from the first round.  Errors as KVM's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

#define SLOT		1
#define SLOT_GPA	0x40000000UL
#define LIST_GPA	0x100000UL	/* in slot 0: the pages to write */
#define MAX_WRITES	64
#define ROUNDS		100

/* Write RAX to each of the RCX guest-physical addresses listed at RSI. */
GUEST_CODE_BLOB(g_writes, ".code64",
	"test %rcx, %rcx\n jz 2f\n"
	"1: mov (%rsi), %rdx\n mov %rax, (%rdx)\n add $8, %rsi\n"
	"dec %rcx\n jnz 1b\n"
	"2: out %al, $0x80\n hlt\n");

static size_t slot_size(void)
{
	const char *vendor = getenv("MVM_VENDOR");

	/* Bochs is slow and small: a quarter there. */
	return (vendor && !strcmp(vendor, "vmx")) ? 4 << 20 : 16 << 20;
}

struct logged {
	struct mvm_guest g;
	uint8_t *mem, *raw;
	size_t size, pages;
	uint64_t *want, *got;	/* bitmaps */
};

static int set_slot(struct logged *l, uint32_t flags)
{
	struct kvm_userspace_memory_region r = {
		.slot = SLOT, .flags = flags, .guest_phys_addr = SLOT_GPA,
		.memory_size = l->size, .userspace_addr = (uintptr_t)l->mem,
	};

	return ioctl(l->g.vm_fd, KVM_SET_USER_MEMORY_REGION, &r);
}

/*
 * A VM with the slot at SLOT_GPA, its memory 2 MiB-aligned (THP-able);
 * @manual: KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2's flags, before the slot.
 */
static void setup(struct __test_metadata *_metadata, struct logged *l,
		  uint64_t manual, uint32_t flags)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, .args = { manual },
	};

	memset(l, 0, sizeof(*l));
	l->size = slot_size();
	l->pages = l->size / 4096;
	guest_create(&l->g, 1 << 21);
	guest_load(&l->g, GUEST_CODE, g_writes_start, BLOB_LEN(g_writes));
	if (manual)
		ASSERT_EQ(0, ioctl(l->g.vm_fd, KVM_ENABLE_CAP, &cap));
	l->raw = mmap(NULL, l->size + (2 << 20), PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, l->raw);
	l->mem = (uint8_t *)(((uintptr_t)l->raw + (2 << 20) - 1) &
			     ~((uintptr_t)(2 << 20) - 1));
	madvise(l->mem, l->size, MADV_HUGEPAGE);
	ASSERT_EQ(0, set_slot(l, flags));
	l->want = calloc(l->pages / 64 + 1, 8);
	l->got = calloc(l->pages / 64 + 1, 8);
	ASSERT_NE(NULL, l->want);
	ASSERT_NE(NULL, l->got);
}

static void teardown(struct logged *l)
{
	guest_destroy(&l->g);
	munmap(l->raw, l->size + (2 << 20));
	free(l->want);
	free(l->got);
}

/* The guest writes @n pages of the slot; they are the only ones in want. */
static void guest_writes(struct __test_metadata *_metadata, struct logged *l,
			 const uint64_t *pages, int n, uint64_t val)
{
	uint64_t *list = (uint64_t *)(l->g.mem + LIST_GPA);
	struct kvm_regs regs;
	int i;

	memset(l->want, 0, (l->pages / 64 + 1) * 8);
	for (i = 0; i < n; i++) {
		/*
		 * At the page's start: Bochs' PML logs the byte address (the
		 * SDM clears bits 11:0), which KVM WARNs about.
		 */
		list[i] = SLOT_GPA + pages[i] * 4096;
		l->want[pages[i] / 64] |= 1ULL << (pages[i] % 64);
	}
	guest_set_long_mode(&l->g, l->g.vcpu_fd, GUEST_CODE);
	ASSERT_EQ(0, ioctl(l->g.vcpu_fd, KVM_GET_REGS, &regs));
	regs.rsi = LIST_GPA;
	regs.rcx = n;
	regs.rax = val;
	ASSERT_EQ(0, ioctl(l->g.vcpu_fd, KVM_SET_REGS, &regs));
	ASSERT_EQ(0, guest_run(l->g.vcpu_fd));
	ASSERT_EQ(KVM_EXIT_IO, l->g.run->exit_reason);
}

static int random_pages(struct logged *l, uint64_t *pages)
{
	int n = rand() % (MAX_WRITES + 1), i;

	for (i = 0; i < n; i++)
		pages[i] = rand() % l->pages;
	return n;
}

static int get_log(struct logged *l)
{
	struct kvm_dirty_log log = { .slot = SLOT, .dirty_bitmap = l->got };

	memset(l->got, 0, (l->pages / 64 + 1) * 8);
	return ioctl(l->g.vm_fd, KVM_GET_DIRTY_LOG, &log) ? -errno : 0;
}

static int clear_log(struct logged *l, uint64_t first, uint32_t num,
		     void *bitmap)
{
	struct kvm_clear_dirty_log c = {
		.slot = SLOT, .first_page = first, .num_pages = num,
		.dirty_bitmap = bitmap,
	};

	return ioctl(l->g.vm_fd, KVM_CLEAR_DIRTY_LOG, &c) ? -errno : 0;
}

/* The pages where got and want differ, for the log. */
static int differences(struct __test_metadata *_metadata, struct logged *l,
		       int round)
{
	size_t i;
	int bad = 0;

	for (i = 0; i < l->pages; i++) {
		bool w = l->want[i / 64] >> (i % 64) & 1;
		bool g = l->got[i / 64] >> (i % 64) & 1;

		if (w != g && bad++ < 4)
			TH_LOG("round %d: page %zu %s", round, i,
			       w ? "written but not logged" :
				   "logged but not written");
	}
	return bad;
}

static void rounds(struct __test_metadata *_metadata, struct logged *l,
		   bool manual)
{
	uint64_t pages[MAX_WRITES];
	int round, n;

	srand(12);
	for (round = 0; round < ROUNDS; round++) {
		n = random_pages(l, pages);
		guest_writes(_metadata, l, pages, n, 0x1000 * round + round);
		ASSERT_EQ(0, get_log(l));
		ASSERT_EQ(0, differences(_metadata, l, round));
		if (manual) {
			/* Reported again until cleared. */
			ASSERT_EQ(0, get_log(l));
			ASSERT_EQ(0, differences(_metadata, l, round));
			ASSERT_EQ(0, clear_log(l, 0, l->pages, l->got));
		}
	}
}

TEST(get_dirty_log_exact)
{
	struct logged l;

	setup(_metadata, &l, 0, KVM_MEM_LOG_DIRTY_PAGES);
	ASSERT_EQ(0, get_log(&l));
	memset(l.want, 0, (l.pages / 64 + 1) * 8);
	ASSERT_EQ(0, differences(_metadata, &l, -1));
	rounds(_metadata, &l, false);
	teardown(&l);
}

TEST(manual_protect_exact)
{
	struct logged l;

	ASSERT_EQ(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE |
		  KVM_DIRTY_LOG_INITIALLY_SET,
		  ioctl(mvm_open_dev(), KVM_CHECK_EXTENSION,
			KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2));
	setup(_metadata, &l, KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE,
	      KVM_MEM_LOG_DIRTY_PAGES);
	rounds(_metadata, &l, true);
	teardown(&l);
}

TEST(initially_set_then_exact)
{
	struct logged l;
	uint64_t page = 3;
	size_t i;

	setup(_metadata, &l, KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE |
			     KVM_DIRTY_LOG_INITIALLY_SET,
	      KVM_MEM_LOG_DIRTY_PAGES);
	ASSERT_EQ(0, get_log(&l));
	for (i = 0; i < l.pages; i++)
		l.want[i / 64] |= 1ULL << (i % 64);
	ASSERT_EQ(0, differences(_metadata, &l, -1));
	/* Clear all but the first 64 pages, then those. */
	ASSERT_EQ(0, clear_log(&l, 64, l.pages - 64, l.got + 1));
	ASSERT_EQ(0, get_log(&l));
	memset(l.want, 0, (l.pages / 64 + 1) * 8);
	l.want[0] = ~0ULL;
	ASSERT_EQ(0, differences(_metadata, &l, -1));
	ASSERT_EQ(0, clear_log(&l, 0, 64, l.got));
	guest_writes(_metadata, &l, &page, 1, 1);
	ASSERT_EQ(0, get_log(&l));
	ASSERT_EQ(0, differences(_metadata, &l, 0));
	ASSERT_EQ(0, clear_log(&l, 0, l.pages, l.got));
	rounds(_metadata, &l, true);
	teardown(&l);
}

/*
 * The guest maps all of the slot first (2 MiB leaves where THP backs it),
 * then logging starts: the leaves are split or zapped, and the log is
 * exact from the start.  Then logging stops and starts again.
 */
TEST(logging_starts_on_mapped_huge_memory)
{
	uint64_t all[MAX_WRITES];
	struct logged l;
	int i;

	setup(_metadata, &l, 0, 0);
	for (i = 0; i < MAX_WRITES; i++)
		all[i] = (uint64_t)i * (l.pages / MAX_WRITES);
	guest_writes(_metadata, &l, all, MAX_WRITES, 7);
	EXPECT_EQ(-ENOENT, get_log(&l));

	ASSERT_EQ(0, set_slot(&l, KVM_MEM_LOG_DIRTY_PAGES));
	ASSERT_EQ(0, get_log(&l));
	memset(l.want, 0, (l.pages / 64 + 1) * 8);
	ASSERT_EQ(0, differences(_metadata, &l, -1));
	rounds(_metadata, &l, false);

	ASSERT_EQ(0, set_slot(&l, 0));
	EXPECT_EQ(-ENOENT, get_log(&l));
	guest_writes(_metadata, &l, all, MAX_WRITES, 8);
	ASSERT_EQ(0, set_slot(&l, KVM_MEM_LOG_DIRTY_PAGES));
	guest_writes(_metadata, &l, all + 5, 3, 9);
	ASSERT_EQ(0, get_log(&l));
	ASSERT_EQ(0, differences(_metadata, &l, 0));
	teardown(&l);
}

TEST(errors_as_kvm)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 };
	struct kvm_dirty_log log = { .slot = SLOT };
	struct logged l;

	setup(_metadata, &l, 0, KVM_MEM_LOG_DIRTY_PAGES);

	/* Capability flags: INITIALLY_SET only with manual protection. */
	cap.args[0] = KVM_DIRTY_LOG_INITIALLY_SET;
	EXPECT_EQ(-1, ioctl(l.g.vm_fd, KVM_ENABLE_CAP, &cap));
	EXPECT_EQ(EINVAL, errno);
	cap.args[0] = 4;
	EXPECT_EQ(-1, ioctl(l.g.vm_fd, KVM_ENABLE_CAP, &cap));
	EXPECT_EQ(EINVAL, errno);
	cap.args[0] = 1;
	cap.flags = 1;
	EXPECT_EQ(-1, ioctl(l.g.vm_fd, KVM_ENABLE_CAP, &cap));
	EXPECT_EQ(EINVAL, errno);

	/*
	 * Slot ids beyond x86 KVM's (32764 user slots, two address spaces)
	 * are invalid; below, a slot that does not exist is not found.
	 */
	log.dirty_bitmap = l.got;
	log.slot = 32767;
	EXPECT_EQ(-1, ioctl(l.g.vm_fd, KVM_GET_DIRTY_LOG, &log));
	EXPECT_EQ(EINVAL, errno);
	log.slot = (2 << 16) | SLOT;
	EXPECT_EQ(-1, ioctl(l.g.vm_fd, KVM_GET_DIRTY_LOG, &log));
	EXPECT_EQ(EINVAL, errno);
	log.slot = 300;
	EXPECT_EQ(-1, ioctl(l.g.vm_fd, KVM_GET_DIRTY_LOG, &log));
	EXPECT_EQ(ENOENT, errno);
	log.slot = (1 << 16) | SLOT;
	EXPECT_EQ(-1, ioctl(l.g.vm_fd, KVM_GET_DIRTY_LOG, &log));
	EXPECT_EQ(ENOENT, errno);
	/* A slot that does not log, or does not exist. */
	log.slot = 0;
	EXPECT_EQ(-1, ioctl(l.g.vm_fd, KVM_GET_DIRTY_LOG, &log));
	EXPECT_EQ(ENOENT, errno);
	log.slot = 5;
	EXPECT_EQ(-1, ioctl(l.g.vm_fd, KVM_GET_DIRTY_LOG, &log));
	EXPECT_EQ(ENOENT, errno);
	/* A bitmap userspace cannot write. */
	log.slot = SLOT;
	log.dirty_bitmap = (void *)8;
	EXPECT_EQ(-1, ioctl(l.g.vm_fd, KVM_GET_DIRTY_LOG, &log));
	EXPECT_EQ(EFAULT, errno);

	/* KVM_CLEAR_DIRTY_LOG's range rules (without manual protect too). */
	EXPECT_EQ(-EINVAL, clear_log(&l, 1, 64, l.got));
	EXPECT_EQ(-EINVAL, clear_log(&l, 0, l.pages + 64, l.got));
	EXPECT_EQ(-EINVAL, clear_log(&l, l.pages + 64, 0, l.got));
	EXPECT_EQ(-EINVAL, clear_log(&l, 0, 3, l.got));
	EXPECT_EQ(0, clear_log(&l, 64, 128, l.got));
	EXPECT_EQ(0, clear_log(&l, l.pages - 64, 64, l.got));
	EXPECT_EQ(-EFAULT, clear_log(&l, 0, 64, (void *)8));
	EXPECT_EQ(-ENOENT, ({
		struct kvm_clear_dirty_log c = { .slot = 0, .num_pages = 64,
						 .dirty_bitmap = l.got };
		ioctl(l.g.vm_fd, KVM_CLEAR_DIRTY_LOG, &c) ? -errno : 0; }));
	teardown(&l);
}

TEST_HARNESS_MAIN
