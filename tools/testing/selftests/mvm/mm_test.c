// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory is ordinary process memory: what the VMM (or the host's
 * memory management) does to the mapping behind a slot, the guest sees,
 * as with KVM's MMU notifier.  Each test has the guest write or check
 * one qword per page of a slot at 1 GiB, through the identity map of
 * guest_set_long_mode():
 *
 * - MADV_DONTNEED: the guest then reads zeroes, and the pages are freed
 *   (their memory cgroup's usage drops: nothing pins them);
 * - munmap and a new mapping at the same address: the guest sees the new
 *   memory; munmap alone: KVM_RUN fails with EFAULT;
 * - fork(): parent and child have their own copies; the child never sees
 *   what the parent's guest writes after the fork, the parent's guest never
 *   sees the child's writes, and the child cannot use the VM (EIO);
 * - mprotect(PROT_READ): the guest reads, and its write makes KVM_RUN
 *   fail with EFAULT; after PROT_READ|PROT_WRITE it writes again;
 * - memory cgroup: creating VMs with a vCPU in a loop inside a cgroup
 *   with a 16 MiB limit ends at the limit: in ENOMEM under cgroup v1
 *   (the cgroup's OOM killer is off, so the charge that fails is what ends
 *   it), by the cgroup's OOM killer under v2; then nothing stays charged;
 * - KSM merges the identical pages of two VMs (pages_sharing grows) and a
 *   guest write afterwards changes only that guest's page.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

#define SLOT_GPA	0x40000000UL
#define FILL_GPA	GUEST_CODE
#define CHECK_GPA	(GUEST_CODE + 0x1000)

/* For RCX pages from RSI: store RAX at the page's start, RAX += RBX. */
GUEST_CODE_BLOB(g_fill, ".code64",
	"1: mov %rax, (%rsi)\n add %rbx, %rax\n add $4096, %rsi\n"
	"dec %rcx\n jnz 1b\n out %al, $0x80\n hlt\n");
/* The same walk comparing instead: RDI = pages that differ. */
GUEST_CODE_BLOB(g_check, ".code64",
	"xor %edi, %edi\n"
	"1: cmp (%rsi), %rax\n je 2f\n inc %rdi\n"
	"2: add %rbx, %rax\n add $4096, %rsi\n dec %rcx\n jnz 1b\n"
	"out %al, $0x80\n hlt\n");

/* A VM with code at GPA 0 and an anonymous slot of @size at SLOT_GPA. */
static void *setup(struct __test_metadata *_metadata, struct mvm_guest *g,
		   size_t size)
{
	struct kvm_userspace_memory_region r = {
		.slot = 1, .guest_phys_addr = SLOT_GPA, .memory_size = size,
	};
	void *mem;

	guest_create(g, 1 << 21);
	guest_load(g, FILL_GPA, g_fill_start, BLOB_LEN(g_fill));
	guest_load(g, CHECK_GPA, g_check_start, BLOB_LEN(g_check));
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		return NULL;
	r.userspace_addr = (uintptr_t)mem;
	if (ioctl(g->vm_fd, KVM_SET_USER_MEMORY_REGION, &r))
		return NULL;
	return mem;
}

/* Run the fill or check walk; returns KVM_RUN's result (0 or -errno). */
static int walk(struct __test_metadata *_metadata, struct mvm_guest *g,
		bool check, uint64_t gpa, uint64_t pages, uint64_t val,
		uint64_t inc, uint64_t *mismatches)
{
	struct kvm_regs regs;
	int r;

	guest_set_long_mode(g, g->vcpu_fd, check ? CHECK_GPA : FILL_GPA);
	if (ioctl(g->vcpu_fd, KVM_GET_REGS, &regs))
		return -errno;
	regs.rsi = gpa;
	regs.rcx = pages;
	regs.rax = val;
	regs.rbx = inc;
	regs.rdi = ~0ULL;
	if (ioctl(g->vcpu_fd, KVM_SET_REGS, &regs))
		return -errno;
	r = guest_run(g->vcpu_fd);
	if (r)
		return r;
	EXPECT_EQ(KVM_EXIT_IO, g->run->exit_reason);
	if (ioctl(g->vcpu_fd, KVM_GET_REGS, &regs))
		return -errno;
	if (mismatches)
		*mismatches = regs.rdi;
	return 0;
}

static int fill(struct __test_metadata *_metadata, struct mvm_guest *g,
		uint64_t pages, uint64_t val, uint64_t inc)
{
	return walk(_metadata, g, false, SLOT_GPA, pages, val, inc, NULL);
}

/* Pages of the slot whose first qword is not val + i * inc. */
static long check(struct __test_metadata *_metadata, struct mvm_guest *g,
		  uint64_t pages, uint64_t val, uint64_t inc)
{
	uint64_t bad;
	int r = walk(_metadata, g, true, SLOT_GPA, pages, val, inc, &bad);

	return r ? r : (long)bad;
}

/*
 * A memory cgroup, v1 or v2, whichever the kernel has (Debian's 6.1 has
 * both, its 6.12 only v2).  v1 is used where it exists: it can switch a
 * cgroup's OOM killer off (memory.oom_control), so a charge beyond the
 * limit fails with ENOMEM.  v2 cannot: there the OOM killer kills the task
 * that charges beyond memory.max, and its report goes to the kernel log
 * (the rig's init leaves out memory cgroup OOM reports from its kernel log
 * check; a global OOM still fails the run).  Kernel memory is charged in
 * both.
 */
#define MEMCG_V1	"/tmp/mvm_memcg"
#define MEMCG_V2	"/tmp/mvm_cgroup2"

struct memcg {
	char dir[128];
	const char *root;
	bool v2;
};

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), r;

	if (fd < 0)
		return -errno;
	r = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -errno;
	close(fd);
	return r;
}

static int write_num(const char *dir, const char *file, long v)
{
	char path[256], buf[32];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	snprintf(buf, sizeof(buf), "%ld", v);
	return write_file(path, buf);
}

/* Create a memory cgroup @name (mounting the hierarchy if need be). */
static bool memcg_create(struct memcg *cg, const char *name)
{
	mkdir(MEMCG_V1, 0755);
	mkdir(MEMCG_V2, 0755);
	cg->v2 = false;
	cg->root = MEMCG_V1;
	if (access(MEMCG_V1 "/memory.limit_in_bytes", F_OK) &&
	    mount("none", MEMCG_V1, "cgroup", 0, "memory")) {
		cg->v2 = true;
		cg->root = MEMCG_V2;
		if (access(MEMCG_V2 "/cgroup.subtree_control", F_OK) &&
		    mount("none", MEMCG_V2, "cgroup2", 0, NULL))
			return false;
		if (write_file(MEMCG_V2 "/cgroup.subtree_control", "+memory"))
			return false;
	}
	snprintf(cg->dir, sizeof(cg->dir), "%s/%s", cg->root, name);
	rmdir(cg->dir);
	return !mkdir(cg->dir, 0755) || errno == EEXIST;
}

/* Move task @pid into @cg. */
static int memcg_join(const struct memcg *cg, pid_t pid)
{
	return write_num(cg->dir, cg->v2 ? "cgroup.procs" : "tasks", pid);
}

static bool memcg_enter(struct memcg *cg, const char *name)
{
	return memcg_create(cg, name) && !memcg_join(cg, getpid());
}

/* Back to the root cgroup, and @cg goes. */
static void memcg_leave(const struct memcg *cg)
{
	write_num(cg->root, cg->v2 ? "cgroup.procs" : "tasks", getpid());
	rmdir(cg->dir);
}

static int memcg_set_limit(const struct memcg *cg, long bytes)
{
	return write_num(cg->dir, cg->v2 ? "memory.max" :
			 "memory.limit_in_bytes", bytes);
}

static long memcg_usage(const struct memcg *cg)
{
	return mvm_read_num(cg->dir, cg->v2 ? "memory.current" :
			"memory.usage_in_bytes");
}

static long memcg_peak(const struct memcg *cg)
{
	return mvm_read_num(cg->dir, cg->v2 ? "memory.peak" :
			"memory.max_usage_in_bytes");
}

/* A counter of memory.events (v2), such as "max" or "oom_kill". */
static long memcg_event(const struct memcg *cg, const char *event)
{
	char path[256], key[32];
	long v, found = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.events", cg->dir);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fscanf(f, "%31s %ld", key, &v) == 2)
		if (!strcmp(key, event))
			found = v;
	fclose(f);
	return found;
}

/* The non-zero lines of memory.stat, into the test's log. */
static void memcg_log_stat(struct __test_metadata *_metadata,
			   const struct memcg *cg)
{
	char path[256], key[64];
	long long v;
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.stat", cg->dir);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fscanf(f, "%63s %lld", key, &v) == 2)
		if (v && strncmp(key, "total_", 6))
			TH_LOG("memory.stat %s %lld", key, v);
	fclose(f);
	if (!cg->v2)
		TH_LOG("memory.kmem.usage_in_bytes %ld",
		       mvm_read_num(cg->dir, "memory.kmem.usage_in_bytes"));
}

/* How often a charge hit the limit. */
static long memcg_limit_hits(const struct memcg *cg)
{
	return cg->v2 ? memcg_event(cg, "max") :
		mvm_read_num(cg->dir, "memory.failcnt");
}

#define VAL	0x5a5a000000000000ULL

TEST(dontneed_reads_zeroes_and_frees)
{
	const size_t size = 32 << 20, pages = size / 4096;
	struct mvm_guest g;
	long used0, used1;
	struct memcg cg;
	uint8_t *mem;

	/* Freed pages leave the memory cgroup at once (MemFree lags). */
	if (!memcg_enter(&cg, "dontneed"))
		SKIP(return, "no memory cgroup controller");
	mem = setup(_metadata, &g, size);
	ASSERT_NE(NULL, mem);
	ASSERT_EQ(0, fill(_metadata, &g, pages, VAL, 1));
	ASSERT_EQ(0, check(_metadata, &g, pages, VAL, 1));
	ASSERT_EQ(VAL + 7, *(uint64_t *)(mem + 7 * 4096));

	used0 = memcg_usage(&cg);
	ASSERT_EQ(0, madvise(mem, size, MADV_DONTNEED));
	used1 = memcg_usage(&cg);
	TH_LOG("cgroup usage %ld -> %ld kB after MADV_DONTNEED of %zu kB",
	       used0 >> 10, used1 >> 10, size >> 10);
	/* Freed, not held by a pin. */
	EXPECT_GE(used0 - used1, (long)size * 3 / 4);

	/* Every page now reads as zero in the guest. */
	EXPECT_EQ(0, check(_metadata, &g, pages, 0, 0));
	/* And a guest write lands in the VMM's new page. */
	ASSERT_EQ(0, fill(_metadata, &g, 1, 0x1234, 0));
	EXPECT_EQ(0x1234, *(uint64_t *)mem);
	guest_destroy(&g);
	munmap(mem, size);
	memcg_leave(&cg);
}

TEST(munmap_then_new_mapping)
{
	const size_t size = 4 << 20, pages = size / 4096;
	struct mvm_guest g;
	uint8_t *mem = setup(_metadata, &g, size), *again;
	size_t i;

	ASSERT_NE(NULL, mem);
	ASSERT_EQ(0, fill(_metadata, &g, pages, VAL, 1));

	/* Nothing behind the slot: the guest's access fails KVM_RUN. */
	ASSERT_EQ(0, munmap(mem, size));
	EXPECT_EQ(-EFAULT, check(_metadata, &g, pages, VAL, 1));

	/* New memory at the same address, with the VMM's own pattern. */
	again = mmap(mem, size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ(mem, again);
	for (i = 0; i < pages; i++)
		*(uint64_t *)(mem + i * 4096) = 0x77000000 + 3 * i;
	EXPECT_EQ(0, check(_metadata, &g, pages, 0x77000000, 3));
	ASSERT_EQ(0, fill(_metadata, &g, pages, 42, 0));
	EXPECT_EQ(42, *(uint64_t *)(mem + size - 4096));
	guest_destroy(&g);
	munmap(mem, size);
}

TEST(fork_child_has_its_own_copy)
{
	const size_t size = 2 << 20, pages = size / 4096;
	int to_child[2], to_parent[2], status;
	struct mvm_guest g;
	uint8_t *mem = setup(_metadata, &g, size);
	pid_t pid;
	char c;

	ASSERT_NE(NULL, mem);
	ASSERT_EQ(0, fill(_metadata, &g, pages, VAL, 1));
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));

	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		size_t i;
		int bad = 0;

		/* Wait until the parent's guest has written after the fork. */
		if (read(to_child[0], &c, 1) != 1)
			_exit(10);
		for (i = 0; i < pages; i++)
			if (*(uint64_t *)(mem + i * 4096) != VAL + i)
				bad++;
		/* The VM is the parent's: its fds are useless here. */
		if (ioctl(g.vcpu_fd, KVM_RUN, 0) != -1 || errno != EIO)
			_exit(11);
		memset(mem, 0xcc, size);
		if (write(to_parent[1], "x", 1) != 1)
			_exit(12);
		_exit(bad ? 13 : 0);
	}

	/* The parent's guest writes its own memory after the fork. */
	ASSERT_EQ(0, fill(_metadata, &g, pages, 0x1111, 1));
	ASSERT_EQ(1, write(to_child[1], "x", 1));
	ASSERT_EQ(1, read(to_parent[0], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));

	/* The child's writes did not reach the parent's guest. */
	EXPECT_EQ(0, check(_metadata, &g, pages, 0x1111, 1));
	ASSERT_EQ(0, fill(_metadata, &g, pages, 0x2222, 1));
	EXPECT_EQ(0x2222 + 5, *(uint64_t *)(mem + 5 * 4096));
	guest_destroy(&g);
	munmap(mem, size);
}

TEST(mprotect_read_only_write_efault)
{
	const size_t size = 1 << 20, pages = size / 4096;
	struct mvm_guest g;
	uint8_t *mem = setup(_metadata, &g, size);

	ASSERT_NE(NULL, mem);
	ASSERT_EQ(0, fill(_metadata, &g, pages, VAL, 1));
	ASSERT_EQ(0, mprotect(mem, size, PROT_READ));
	EXPECT_EQ(0, check(_metadata, &g, pages, VAL, 1));
	EXPECT_EQ(-EFAULT, fill(_metadata, &g, pages, 1, 0));
	EXPECT_EQ(VAL, *(uint64_t *)mem);

	ASSERT_EQ(0, mprotect(mem, size, PROT_READ | PROT_WRITE));
	EXPECT_EQ(0, fill(_metadata, &g, pages, 9, 0));
	EXPECT_EQ(9, *(uint64_t *)(mem + size - 4096));
	guest_destroy(&g);
	munmap(mem, size);
}

/*
 * The VMM drops a page while the guest spins on it, counting at +8 and
 * waiting for MAGIC at +0, which the VMM then writes into its new page:
 * the guest must see it (a stale translation would keep it on the old,
 * freed page for ever), and its next write lands in the new page.  50
 * rounds over different pages, with MADV_DONTNEED and with a new mapping
 * (MAP_FIXED) over the old one.  With MVMRIG_SMP=2 the vCPU is in the guest
 * on the other CPU while the invalidation flushes it.
 */
#define MAGIC	0x4d41474943ULL
GUEST_CODE_BLOB(g_wait_magic, ".code64",
	"mov $0x4d41474943, %rax\n"
	"1: incq 8(%rsi)\n pause\n cmp (%rsi), %rax\n jne 1b\n"
	"out %al, $0x80\n hlt\n");

struct spinner {
	struct mvm_guest *g;
	volatile int done, r;
};

static void *run_spinner(void *arg)
{
	struct spinner *sp = arg;

	sp->r = guest_run(sp->g->vcpu_fd);
	sp->done = 1;
	return NULL;
}

static void on_alarm(int sig)
{
	(void)sig;
}

FIXTURE(race) {};
FIXTURE_SETUP(race) {}
FIXTURE_TEARDOWN(race) {}

TEST_F_TIMEOUT(race, invalidate_while_guest_runs, 600)
{
	const size_t size = 4 << 20, pages = size / 4096;
	struct sigaction sa = { .sa_handler = on_alarm };
	struct mvm_guest g;
	uint8_t *mem = setup(_metadata, &g, size);
	int round;

	ASSERT_NE(NULL, mem);
	guest_load(&g, GUEST_CODE + 0x2000, g_wait_magic_start,
		   BLOB_LEN(g_wait_magic));
	sigaction(SIGUSR1, &sa, NULL);
	ASSERT_EQ(0, fill(_metadata, &g, pages, VAL, 1));

	for (round = 0; round < 50; round++) {
		size_t page = (round * 37) % pages;
		uint64_t *p = (uint64_t *)(mem + page * 4096);
		struct kvm_regs regs;
		struct spinner sp = { .g = &g };
		pthread_t th;
		int i;

		guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE + 0x2000);
		ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_GET_REGS, &regs));
		regs.rsi = SLOT_GPA + page * 4096;
		regs.rflags |= 0x200;	/* Bochs exits on IRQs only so */
		ASSERT_EQ(0, ioctl(g.vcpu_fd, KVM_SET_REGS, &regs));
		ASSERT_EQ(0, pthread_create(&th, NULL, run_spinner, &sp));
		/* Let the guest count on the old page. */
		for (i = 0; i < 1000 && p[1] < 1000; i++)
			usleep(1000);
		ASSERT_GE(p[1], 1);
		/* A new mapping replaces the old one at once: no hole. */
		if (round & 1) {
			ASSERT_EQ(0, madvise(p, 4096, MADV_DONTNEED));
		} else {
			ASSERT_EQ(p, mmap(p, 4096, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS |
					  MAP_FIXED, -1, 0));
		}
		p[0] = MAGIC;
		for (i = 0; i < 20000 && !sp.done; i++)
			usleep(1000);
		if (!sp.done) {
			/* Stuck on the old page: get the thread out. */
			g.run->immediate_exit = 1;
			while (!sp.done) {
				pthread_kill(th, SIGUSR1);
				usleep(10000);
			}
			g.run->immediate_exit = 0;
		}
		pthread_join(th, NULL);
		ASSERT_EQ(0, sp.r) TH_LOG("round %d: guest never saw the "
					  "VMM's new page", round);
		ASSERT_EQ(KVM_EXIT_IO, g.run->exit_reason);
		EXPECT_EQ(MAGIC, p[0]);
		/* Its writes from now on land in the new page too. */
		ASSERT_EQ(0, walk(_metadata, &g, false, SLOT_GPA + page * 4096,
				  1, round, 0, NULL));
		EXPECT_EQ(round, p[0]);
	}
	guest_destroy(&g);
	munmap(mem, size);
}

/* ------------------------------------------------------------------ */
/* Memory cgroup                                                        */

/*
 * In @cg: VMs with one vCPU each until something fails; exit with that
 * errno.  The VMs' fds stay open, so their memory stays charged.
 */
static void create_until_failure(const struct memcg *cg)
{
	struct rlimit rl = { 1 << 16, 1 << 16 };
	int sys, i;

	setrlimit(RLIMIT_NOFILE, &rl);
	sys = open(mvm_dev_path(), O_RDWR);
	if (sys < 0)
		_exit(202);
	if (memcg_join(cg, getpid()))
		_exit(201);
	for (i = 0; i < 100000; i++) {
		int vm = ioctl(sys, KVM_CREATE_VM, 0);

		if (vm < 0)
			_exit(errno);
		if (ioctl(vm, KVM_CREATE_VCPU, 0) < 0)
			_exit(errno);
	}
	_exit(203);
}

FIXTURE(cg) {};
FIXTURE_SETUP(cg) {}
FIXTURE_TEARDOWN(cg) {}

TEST_F_TIMEOUT(cg, vm_creation_charged, 300)
{
	struct memcg cg;
	int status, i;
	pid_t pid;

	if (!memcg_create(&cg, "create"))
		SKIP(return, "no memory cgroup controller");
	ASSERT_EQ(0, memcg_set_limit(&cg, 16 << 20));
	if (!cg.v2)
		ASSERT_EQ(0, write_num(cg.dir, "memory.oom_control", 1));

	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		create_until_failure(&cg);	/* only the child in it */
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	if (cg.v2 && WIFSIGNALED(status)) {
		/* The charge beyond memory.max ran the cgroup's OOM killer. */
		TH_LOG("creating VMs in a 16 MiB cgroup: OOM-killed (signal %d)",
		       WTERMSIG(status));
		EXPECT_EQ(SIGKILL, WTERMSIG(status));
		EXPECT_GE(memcg_event(&cg, "oom_kill"), 1);
	} else {
		ASSERT_TRUE(WIFEXITED(status));
		TH_LOG("creating VMs in a 16 MiB cgroup ended with %d (%s)",
		       WEXITSTATUS(status), strerror(WEXITSTATUS(status)));
		EXPECT_EQ(ENOMEM, WEXITSTATUS(status));
	}
	EXPECT_GE(memcg_limit_hits(&cg), 1);
	/*
	 * Its VMs went with it: nothing stays charged (give RCU-deferred
	 * frees, such as the child's task and stack, a moment), and the
	 * cgroup can go.
	 */
	for (i = 0; i < 100; i++) {
		long used = memcg_usage(&cg);

		if (used < 64 << 10 || (i >= 20 && used < 1 << 20))
			break;
		usleep(100000);
	}
	TH_LOG("%ld kB still charged after the child's exit (%d.%d s later)",
	       memcg_usage(&cg) >> 10, i / 10, i % 10);
	if (memcg_usage(&cg) >= 64 << 10)
		memcg_log_stat(_metadata, &cg);
	EXPECT_LT(memcg_usage(&cg), 1 << 20);
	EXPECT_EQ(0, rmdir(cg.dir));
}

/* ------------------------------------------------------------------ */
/* KSM                                                                  */

#define KSM	"/sys/kernel/mm/ksm/"

static long ksm_read(const char *name)
{
	return mvm_read_num(KSM, name);
}

TEST_F_TIMEOUT(cg, ksm_merges_two_guests, 300)
{
	const size_t size = 2 << 20, pages = size / 4096;
	struct mvm_guest a, b;
	uint8_t *ma, *mb;
	long sharing0, sharing = 0;
	int i;

	if (access(KSM "run", W_OK))
		SKIP(return, "no KSM");
	ma = setup(_metadata, &a, size);
	mb = setup(_metadata, &b, size);
	ASSERT_NE(NULL, ma);
	ASSERT_NE(NULL, mb);
	/* The same distinct page contents in both guests. */
	ASSERT_EQ(0, fill(_metadata, &a, pages, VAL, 1));
	ASSERT_EQ(0, fill(_metadata, &b, pages, VAL, 1));

	write_file(KSM "run", "2");		/* unmerge all, stop */
	sharing0 = ksm_read("pages_sharing");
	ASSERT_EQ(0, madvise(ma, size, MADV_MERGEABLE));
	ASSERT_EQ(0, madvise(mb, size, MADV_MERGEABLE));
	write_file(KSM "pages_to_scan", "4096");
	write_file(KSM "sleep_millisecs", "10");
	ASSERT_EQ(0, write_file(KSM "run", "1"));
	for (i = 0; i < 600; i++) {
		sharing = ksm_read("pages_sharing") - sharing0;
		if (sharing >= (long)pages)
			break;
		usleep(100000);
	}
	TH_LOG("pages_sharing +%ld of %zu after %d.%d s", sharing, pages,
	       i / 10, i % 10);
	EXPECT_GE(sharing, (long)pages * 9 / 10);

	/* Both still read their own data; then only A's page 3 changes. */
	EXPECT_EQ(0, check(_metadata, &a, pages, VAL, 1));
	EXPECT_EQ(0, check(_metadata, &b, pages, VAL, 1));
	ASSERT_EQ(0, walk(_metadata, &a, false, SLOT_GPA + 3 * 4096, 1,
			  0xabcd, 0, NULL));
	EXPECT_EQ(0xabcd, *(uint64_t *)(ma + 3 * 4096));
	EXPECT_EQ(VAL + 3, *(uint64_t *)(mb + 3 * 4096));
	EXPECT_EQ(0, check(_metadata, &b, pages, VAL, 1));
	EXPECT_EQ(1, check(_metadata, &a, pages, VAL, 1));
	EXPECT_GE(ksm_read("pages_sharing") - sharing0,
		  (long)pages * 9 / 10 - 1);

	write_file(KSM "run", "2");
	guest_destroy(&a);
	guest_destroy(&b);
	munmap(ma, size);
	munmap(mb, size);
}

/* ------------------------------------------------------------------ */
/* Swap                                                                 */

/* zram swap of @mib MiB (the rig ships the modules in /m). */
static bool zram_swap_on(long mib)
{
	char size[32];

	if (access("/sys/block/zram0", F_OK)) {
		if (access("/m/zram.ko", F_OK))
			return false;
		/* 6.12's zram links the LZ4 compressors in. */
		system("insmod /m/lzo-rle.ko 2>/dev/null; "
		       "insmod /m/lz4_compress.ko 2>/dev/null; "
		       "insmod /m/lz4hc_compress.ko 2>/dev/null; "
		       "insmod /m/zsmalloc.ko 2>/dev/null; "
		       "insmod /m/zram.ko 2>/dev/null");
	}
	system("swapoff /dev/zram0 2>/dev/null; "
	       "echo 1 > /sys/block/zram0/reset");
	snprintf(size, sizeof(size), "%ldM", mib);
	if (write_file("/sys/block/zram0/disksize", size))
		return false;
	return !system("mkswap /dev/zram0 >/dev/null && swapon /dev/zram0");
}

static void zram_swap_off(void)
{
	system("swapoff /dev/zram0; echo 1 > /sys/block/zram0/reset");
}

static long meminfo_kib(const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) &&
		    sscanf(line + strlen(key), ": %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/*
 * A guest four times bigger than its memory cgroup's limit (128 MiB in
 * 32 MiB; a quarter of that on Bochs), with zram swap: it writes a pattern
 * to all its memory and reads it back intact, while the cgroup's usage
 * stays within the limit (the rest went to swap).
 */
TEST_F_TIMEOUT(cg, guest_larger_than_cgroup_swaps, 600)
{
	const char *vendor = getenv("MVM_VENDOR");
	bool small = vendor && !strcmp(vendor, "vmx");
	const size_t size = (small ? 32UL : 128UL) << 20, pages = size / 4096;
	const long limit = size / 4;
	long swap0, swap1, peak;
	struct mvm_guest g;
	uint8_t *mem;
	struct memcg cg;

	if (!zram_swap_on((size >> 20) * 2))
		SKIP(return, "no zram swap");
	if (!memcg_enter(&cg, "swap")) {
		zram_swap_off();
		SKIP(return, "no memory cgroup controller");
	}
	ASSERT_EQ(0, memcg_set_limit(&cg, limit));
	swap0 = meminfo_kib("SwapFree");

	mem = setup(_metadata, &g, size);
	ASSERT_NE(NULL, mem);
	ASSERT_EQ(0, fill(_metadata, &g, pages, VAL, 1));
	swap1 = meminfo_kib("SwapFree");
	EXPECT_EQ(0, check(_metadata, &g, pages, VAL, 1));
	EXPECT_EQ(VAL + pages - 1, *(uint64_t *)(mem + size - 4096));
	peak = memcg_peak(&cg);
	TH_LOG("%zu MiB guest in a %ld MiB cgroup: %ld MiB swapped, peak %ld MiB",
	       size >> 20, limit >> 20, (swap0 - swap1) >> 10, peak >> 20);
	EXPECT_LE(peak, limit);
	EXPECT_GE(swap0 - swap1, (long)(size - limit) / 2 / 1024);

	guest_destroy(&g);
	munmap(mem, size);
	memcg_leave(&cg);
	zram_swap_off();
}

TEST_HARNESS_MAIN
