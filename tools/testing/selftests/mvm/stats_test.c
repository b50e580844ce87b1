// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_GET_STATS_FD (KVM's binary statistics, Documentation/virt/kvm/
 * api.rst): the header and descriptors of the VM and vCPU stats fds are
 * valid, any offset reads the same bytes, the fd is read-only and outlives
 * the VM and vCPU fds; the counters match what a guest did (N CPUIDs, M
 * port writes, K HLTs); every latency histogram holds one sample per exit
 * of its reason; the stats can be read while the vCPU runs; the debugfs
 * view sums them and goes with the VM.
 *
 * The format checks and the counters KVM also has (exits, io_exits,
 * halt_exits) run on KVM too; mvm's own names skip there.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

#define CPUID_COUNT	37
#define OUT_COUNT	23
#define HLT_COUNT	5
#define WORK_PORT	0x10
#define DONE_PORT	0xf4

/* N CPUIDs, M port writes, K HLTs, then one write to DONE_PORT. */
#define STR(x)	#x
#define XSTR(x)	STR(x)
GUEST_CODE_BLOB(g_counted, ".code64",
	"mov $" XSTR(CPUID_COUNT) ", %esi\n"
	"1: xor %eax, %eax\n cpuid\n dec %esi\n jnz 1b\n"
	"mov $" XSTR(OUT_COUNT) ", %esi\n"
	"2: out %al, $" XSTR(WORK_PORT) "\n dec %esi\n jnz 2b\n"
	"mov $" XSTR(HLT_COUNT) ", %esi\n"
	"3: hlt\n dec %esi\n jnz 3b\n"
	"out %al, $" XSTR(DONE_PORT) "\n"
	"4: jmp 4b\n");

/* CPUIDs without end, a port write every 1000 (the runner's pace). */
GUEST_CODE_BLOB(g_spin, ".code64",
	"1: mov $1000, %esi\n"
	"2: xor %eax, %eax\n cpuid\n dec %esi\n jnz 2b\n"
	"out %al, $" XSTR(WORK_PORT) "\n jmp 1b\n");

/*
 * Ten CPUIDs and a port write, then a million turns of a loop without
 * exits: exits of both reasons in every interval of mvm-stat, but few.
 * (Under Bochs each exit costs tens of microseconds of the host's time:
 * g_spin made mvm-stat's two half-second intervals take 90 s.)
 */
GUEST_CODE_BLOB(g_paced, ".code64",
	"1: mov $10, %esi\n"
	"2: xor %eax, %eax\n cpuid\n dec %esi\n jnz 2b\n"
	"out %al, $" XSTR(WORK_PORT) "\n"
	"mov $1000000, %ecx\n"
	"3: dec %ecx\n jnz 3b\n"
	"jmp 1b\n");

/* A stats fd, read whole. */
struct stats {
	int fd;
	struct kvm_stats_header h;
	char *id;
	char *descs;		/* num_desc * desc_size bytes */
	size_t desc_size;
	size_t data_size;	/* bytes the descriptors cover */
};

static struct kvm_stats_desc *desc_at(struct stats *s, unsigned int i)
{
	return (struct kvm_stats_desc *)(s->descs + i * s->desc_size);
}

static int stats_open(struct stats *s, int fd)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	s->fd = fd;
	if (pread(fd, &s->h, sizeof(s->h), 0) != sizeof(s->h))
		return -1;
	s->id = calloc(1, s->h.name_size + 1);
	s->desc_size = sizeof(struct kvm_stats_desc) + s->h.name_size;
	s->descs = calloc(s->h.num_desc, s->desc_size);
	if (!s->id || !s->descs)
		return -1;
	if (pread(fd, s->id, s->h.name_size, s->h.id_offset) != s->h.name_size)
		return -1;
	if (pread(fd, s->descs, s->h.num_desc * s->desc_size, s->h.desc_offset) !=
	    (ssize_t)(s->h.num_desc * s->desc_size))
		return -1;
	for (i = 0; i < s->h.num_desc; i++) {
		struct kvm_stats_desc *d = desc_at(s, i);
		size_t end = d->offset + (size_t)d->size * sizeof(uint64_t);

		if (end > s->data_size)
			s->data_size = end;
	}
	return 0;
}

static void stats_close(struct stats *s)
{
	free(s->id);
	free(s->descs);
	close(s->fd);
}

static struct kvm_stats_desc *stats_find(struct stats *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->h.num_desc; i++)
		if (!strcmp(desc_at(s, i)->name, name))
			return desc_at(s, i);
	return NULL;
}

/* The values of @name (size of them), or false if there is no such stat. */
static bool stats_read(struct stats *s, const char *name, uint64_t *val,
		       size_t max)
{
	struct kvm_stats_desc *d = stats_find(s, name);
	size_t n;

	if (!d)
		return false;
	n = d->size < max ? d->size : max;
	return pread(s->fd, val, n * sizeof(uint64_t),
		     s->h.data_offset + d->offset) == (ssize_t)(n * sizeof(uint64_t));
}

static uint64_t stat1(struct __test_metadata *_metadata, struct stats *s,
		      const char *name)
{
	uint64_t v = 0;

	if (!stats_read(s, name, &v, 1))
		TH_LOG("no statistic %s", name);
	EXPECT_TRUE(stats_find(s, name) != NULL);
	return v;
}

static int ranges_overlap(size_t a, size_t alen, size_t b, size_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Everything api.rst promises about the header and the descriptors. */
static void check_format(struct __test_metadata *_metadata, int fd)
{
	struct stats s;
	unsigned int i, j;
	char *whole, *part;
	size_t end, desc_bytes;
	off_t off;

	ASSERT_EQ(0, stats_open(&s, fd));
	TH_LOG("id %s, %u descriptors, name_size %u, data %zu bytes",
	       s.id, s.h.num_desc, s.h.name_size, s.data_size);
	EXPECT_EQ(0, s.h.flags);
	ASSERT_GT(s.h.name_size, 0);
	ASSERT_GT(s.h.num_desc, 0);
	/* Every block 8-byte aligned, none overlapping another. */
	EXPECT_EQ(0, s.h.id_offset % 8);
	EXPECT_EQ(0, s.h.desc_offset % 8);
	EXPECT_EQ(0, s.h.data_offset % 8);
	desc_bytes = s.h.num_desc * s.desc_size;
	EXPECT_FALSE(ranges_overlap(0, sizeof(s.h), s.h.id_offset, s.h.name_size));
	EXPECT_FALSE(ranges_overlap(0, sizeof(s.h), s.h.desc_offset, desc_bytes));
	EXPECT_FALSE(ranges_overlap(0, sizeof(s.h), s.h.data_offset, s.data_size));
	EXPECT_FALSE(ranges_overlap(s.h.id_offset, s.h.name_size,
				    s.h.desc_offset, desc_bytes));
	EXPECT_FALSE(ranges_overlap(s.h.id_offset, s.h.name_size,
				    s.h.data_offset, s.data_size));
	EXPECT_FALSE(ranges_overlap(s.h.desc_offset, desc_bytes,
				    s.h.data_offset, s.data_size));
	/* The id: a non-empty string within name_size. */
	EXPECT_TRUE(memchr(s.id, 0, s.h.name_size) != NULL);
	EXPECT_GT(strlen(s.id), 0);

	for (i = 0; i < s.h.num_desc; i++) {
		struct kvm_stats_desc *d = desc_at(&s, i);
		uint32_t type = d->flags & KVM_STATS_TYPE_MASK;
		uint32_t unit = d->flags & KVM_STATS_UNIT_MASK;
		uint32_t base = d->flags & KVM_STATS_BASE_MASK;

		ASSERT_TRUE(memchr(d->name, 0, s.h.name_size) != NULL);
		EXPECT_GT(strlen(d->name), 0);
		EXPECT_LE(type, KVM_STATS_TYPE_MAX);
		EXPECT_LE(unit, KVM_STATS_UNIT_MAX);
		EXPECT_LE(base, KVM_STATS_BASE_MAX);
		EXPECT_EQ(0, d->flags & ~(KVM_STATS_TYPE_MASK |
					  KVM_STATS_UNIT_MASK |
					  KVM_STATS_BASE_MASK));
		EXPECT_GE(d->size, 1);
		EXPECT_EQ(0, d->offset % 8);
		switch (type) {
		case KVM_STATS_TYPE_CUMULATIVE:
		case KVM_STATS_TYPE_INSTANT:
		case KVM_STATS_TYPE_PEAK:
			EXPECT_EQ(1, d->size);
			break;
		case KVM_STATS_TYPE_LINEAR_HIST:
			EXPECT_GT(d->bucket_size, 0);
			break;
		case KVM_STATS_TYPE_LOG_HIST:
			EXPECT_NE(KVM_STATS_UNIT_BOOLEAN, unit);
			break;
		}
		/* Bytes in powers of 2, time and cycles in powers of 10. */
		if (unit == KVM_STATS_UNIT_SECONDS || unit == KVM_STATS_UNIT_CYCLES)
			EXPECT_EQ(KVM_STATS_BASE_POW10, base);
		for (j = 0; j < i; j++) {
			struct kvm_stats_desc *o = desc_at(&s, j);

			if (!strcmp(d->name, o->name))
				TH_LOG("%s twice", d->name);
			EXPECT_NE(0, strcmp(d->name, o->name));
			EXPECT_FALSE(ranges_overlap(d->offset, d->size * 8ul,
						    o->offset, o->size * 8ul));
		}
	}

	/* The whole file at once, then every block at odd offsets. */
	end = s.h.data_offset + s.data_size;
	if (end < s.h.desc_offset + desc_bytes)
		end = s.h.desc_offset + desc_bytes;
	whole = malloc(end + 64);
	part = malloc(end + 64);
	ASSERT_TRUE(whole && part);
	ASSERT_EQ((ssize_t)end, pread(fd, whole, end + 64, 0));
	ASSERT_EQ(0, memcmp(whole, &s.h, sizeof(s.h)));
	for (off = 0; off < (off_t)end; off += 13) {
		size_t len = (off * 7) % 97 + 1;
		ssize_t got = pread(fd, part, len, off);

		ASSERT_GT(got, 0);
		ASSERT_EQ(0, memcmp(part, whole + off, got));
	}
	/* At and past the end: nothing. */
	EXPECT_EQ(0, pread(fd, part, 8, end));
	EXPECT_EQ(0, pread(fd, part, 8, end + 4096));
	/* Sequential read() goes on where the last stopped. */
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(5, read(fd, part, 5));
	ASSERT_EQ(11, read(fd, part + 5, 11));
	EXPECT_EQ(0, memcmp(part, whole, 16));
	/* Read-only. */
	EXPECT_EQ(-1, write(fd, part, 8));
	EXPECT_EQ(-1, pwrite(fd, part, 8, s.h.data_offset));
	free(whole);
	free(part);
	stats_close(&s);
}

/* Both KVM (since 5.14) and mvm have it. */
#define need_stats(_metadata, g)					\
	ASSERT_EQ(1, ioctl((g)->vm_fd, KVM_CHECK_EXTENSION,		\
			   KVM_CAP_BINARY_STATS_FD))

TEST(capability)
{
	int sys = mvm_open_dev();

	EXPECT_EQ(1, ioctl(sys, KVM_CHECK_EXTENSION, KVM_CAP_BINARY_STATS_FD));
	close(sys);
}

TEST(vm_format)
{
	struct mvm_guest g;
	int fd;

	guest_create(&g, 1 << 21);
	need_stats(_metadata, &g);
	fd = ioctl(g.vm_fd, KVM_GET_STATS_FD, 0);
	ASSERT_GE(fd, 0);
	check_format(_metadata, fd);
	guest_destroy(&g);
}

TEST(vcpu_format)
{
	struct mvm_guest g;
	int fd;

	guest_create(&g, 1 << 21);
	need_stats(_metadata, &g);
	fd = ioctl(g.vcpu_fd, KVM_GET_STATS_FD, 0);
	ASSERT_GE(fd, 0);
	check_format(_metadata, fd);
	guest_destroy(&g);
}

/* The fd holds the VM: still readable, the same, once every other fd went. */
TEST(outlives_vm)
{
	struct kvm_stats_header h1, h2;
	struct mvm_guest g;
	int vm_stats, vcpu_stats;

	guest_create(&g, 1 << 21);
	need_stats(_metadata, &g);
	vm_stats = ioctl(g.vm_fd, KVM_GET_STATS_FD, 0);
	vcpu_stats = ioctl(g.vcpu_fd, KVM_GET_STATS_FD, 0);
	ASSERT_GE(vm_stats, 0);
	ASSERT_GE(vcpu_stats, 0);
	ASSERT_EQ(sizeof(h1), pread(vcpu_stats, &h1, sizeof(h1), 0));
	guest_destroy(&g);
	ASSERT_EQ(sizeof(h2), pread(vcpu_stats, &h2, sizeof(h2), 0));
	EXPECT_EQ(0, memcmp(&h1, &h2, sizeof(h1)));
	check_format(_metadata, vcpu_stats);
	check_format(_metadata, vm_stats);
}

static void run_counted(struct __test_metadata *_metadata, struct mvm_guest *g)
{
	int outs = 0, hlts = 0;

	guest_create(g, 1 << 21);
	guest_load(g, GUEST_CODE, g_counted_start, BLOB_LEN(g_counted));
	guest_set_long_mode(g, g->vcpu_fd, GUEST_CODE);
	guest_set_supported_cpuid(g, g->vcpu_fd);
	for (;;) {
		ASSERT_EQ(0, guest_run(g->vcpu_fd));
		if (g->run->exit_reason == KVM_EXIT_HLT) {
			hlts++;
			continue;
		}
		ASSERT_EQ(KVM_EXIT_IO, g->run->exit_reason);
		if (g->run->io.port == DONE_PORT)
			break;
		ASSERT_EQ(WORK_PORT, g->run->io.port);
		outs++;
	}
	ASSERT_EQ(OUT_COUNT, outs);
	ASSERT_EQ(HLT_COUNT, hlts);
}

/* The counters KVM has too. */
TEST(counts_generic)
{
	struct mvm_guest g;
	struct stats s;
	uint64_t exits;

	run_counted(_metadata, &g);
	need_stats(_metadata, &g);
	ASSERT_EQ(0, stats_open(&s, ioctl(g.vcpu_fd, KVM_GET_STATS_FD, 0)));
	exits = stat1(_metadata, &s, "exits");
	TH_LOG("exits %llu", (unsigned long long)exits);
	EXPECT_EQ(OUT_COUNT + 1, stat1(_metadata, &s, "io_exits"));
	EXPECT_EQ(HLT_COUNT, stat1(_metadata, &s, "halt_exits"));
	EXPECT_GE(exits, CPUID_COUNT + OUT_COUNT + 1 + HLT_COUNT);
	stats_close(&s);
	guest_destroy(&g);
}

static uint64_t sum(const uint64_t *v, int n)
{
	uint64_t t = 0;

	while (n--)
		t += v[n];
	return t;
}

/* mvm's exits by reason and histograms. */
TEST(counts_by_reason)
{
	static const char *const reasons[] = {
		"other", "external_interrupt", "exception_nmi", "triple_fault",
		"interrupt_window", "nmi_window", "cpuid", "hlt", "io",
		"msr_read", "msr_write", "cr_access", "dr_access", "npf",
		"hypercall", "xsetbv", "virt_insn", "nop_insn", "rdpmc",
		"machine_check", "failed_entry",
	};
	uint64_t by_user[64], vendor[256], hist[64], guest_hist[64];
	uint64_t exits, by_reason = 0, ukernel, uexits;
	struct kvm_stats_desc *d;
	struct mvm_guest g;
	char name[64];
	struct stats s;
	unsigned int i;

	if (mvm_on_kvm())
		SKIP(return, "mvm's statistics names");
	run_counted(_metadata, &g);
	ASSERT_EQ(0, stats_open(&s, ioctl(g.vcpu_fd, KVM_GET_STATS_FD, 0)));
	exits = stat1(_metadata, &s, "exits");
	EXPECT_EQ(CPUID_COUNT, stat1(_metadata, &s, "exits_cpuid"));
	EXPECT_EQ(OUT_COUNT + 1, stat1(_metadata, &s, "exits_io"));
	EXPECT_EQ(HLT_COUNT, stat1(_metadata, &s, "exits_hlt"));

	/* Every exit has one reason and one latency sample of that reason. */
	for (i = 0; i < ARRAY_SIZE(reasons); i++) {
		uint64_t n;

		snprintf(name, sizeof(name), "exits_%s", reasons[i]);
		n = stat1(_metadata, &s, name);
		by_reason += n;
		snprintf(name, sizeof(name), "exit_latency_%s", reasons[i]);
		d = stats_find(&s, name);
		ASSERT_TRUE(d != NULL);
		ASSERT_EQ(KVM_STATS_TYPE_LOG_HIST, d->flags & KVM_STATS_TYPE_MASK);
		ASSERT_EQ(KVM_STATS_UNIT_CYCLES, d->flags & KVM_STATS_UNIT_MASK);
		ASSERT_LE(d->size, 64);
		ASSERT_TRUE(stats_read(&s, name, hist, 64));
		if (n)
			TH_LOG("%s: %llu exits", reasons[i], (unsigned long long)n);
		EXPECT_EQ(n, sum(hist, d->size));
	}
	EXPECT_EQ(exits, by_reason);
	d = stats_find(&s, "guest_time_hist");
	ASSERT_TRUE(d != NULL);
	ASSERT_TRUE(stats_read(&s, "guest_time_hist", guest_hist, 64));
	EXPECT_EQ(exits, sum(guest_hist, d->size));

	/* The raw vendor reason: VMX basic reason 10, SVM exit code 0x72. */
	d = stats_find(&s, "exits_vendor");
	ASSERT_TRUE(d != NULL);
	ASSERT_EQ(256, d->size);
	ASSERT_TRUE(stats_read(&s, "exits_vendor", vendor, 256));
	EXPECT_EQ(exits, sum(vendor, 256));
	EXPECT_EQ(CPUID_COUNT, vendor[mvm_cpu_is_amd() ? 0x72 : 10]);
	EXPECT_EQ(OUT_COUNT + 1, vendor[mvm_cpu_is_amd() ? 0x7b : 30]);

	/* To userspace by kvm_run exit_reason; the rest stayed in mvm. */
	d = stats_find(&s, "userspace_exits_by_reason");
	ASSERT_TRUE(d != NULL);
	ASSERT_LE(d->size, 64);
	ASSERT_TRUE(stats_read(&s, "userspace_exits_by_reason", by_user, 64));
	EXPECT_EQ(OUT_COUNT + 1, by_user[KVM_EXIT_IO]);
	EXPECT_EQ(HLT_COUNT, by_user[KVM_EXIT_HLT]);
	uexits = stat1(_metadata, &s, "userspace_exits");
	EXPECT_EQ(OUT_COUNT + 1 + HLT_COUNT, uexits);
	EXPECT_EQ(uexits, sum(by_user, d->size));
	ukernel = stat1(_metadata, &s, "kernel_exits");
	EXPECT_EQ(exits, ukernel + uexits);

	EXPECT_GT(stat1(_metadata, &s, "guest_cycles"), 0);
	EXPECT_GT(stat1(_metadata, &s, "mvm_cycles"), 0);
	EXPECT_GT(stat1(_metadata, &s, "user_cycles"), 0);
	EXPECT_GT(stat1(_metadata, &s, "exit_latency_max"), 0);
	EXPECT_GT(stat1(_metadata, &s, "npf_taken"), 0);
	EXPECT_EQ(stat1(_metadata, &s, "npf_taken"),
		  stat1(_metadata, &s, "exits_npf"));
	stats_close(&s);

	/* The guest touched pages: mapped 4 KiB or 2 MiB leaves. */
	ASSERT_EQ(0, stats_open(&s, ioctl(g.vm_fd, KVM_GET_STATS_FD, 0)));
	EXPECT_GT(stat1(_metadata, &s, "pages_4k") + stat1(_metadata, &s, "pages_2m"), 0);
	EXPECT_EQ(1, stat1(_metadata, &s, "memory_slots"));
	EXPECT_EQ(1, stat1(_metadata, &s, "online_vcpus"));
	stats_close(&s);
	guest_destroy(&g);
}

/* A KVM_RUN that returns -EINTR (immediate_exit) counts as KVM_EXIT_INTR. */
TEST(immediate_exit_counts_as_intr)
{
	uint64_t by_user[64];
	struct mvm_guest g;
	struct stats s;

	if (mvm_on_kvm())
		SKIP(return, "mvm's statistics names");
	run_counted(_metadata, &g);
	g.run->immediate_exit = 1;
	ASSERT_EQ(-EINTR, guest_run(g.vcpu_fd));
	g.run->immediate_exit = 0;
	ASSERT_EQ(0, stats_open(&s, ioctl(g.vcpu_fd, KVM_GET_STATS_FD, 0)));
	ASSERT_TRUE(stats_read(&s, "userspace_exits_by_reason", by_user, 64));
	EXPECT_EQ(1, by_user[KVM_EXIT_INTR]);
	EXPECT_EQ(OUT_COUNT + 1, by_user[KVM_EXIT_IO]);
	EXPECT_EQ(OUT_COUNT + 2 + HLT_COUNT, stat1(_metadata, &s, "userspace_exits"));
	stats_close(&s);
	guest_destroy(&g);
}

struct reader {
	int fd;
	int stop;		/* __atomic */
	long reads;
	int errors;
};

/* Read the whole file again and again; vCPU "exits" may only grow. */
static void *reader_thread(void *arg)
{
	struct reader *r = arg;
	struct stats s;
	uint64_t last = 0, v;
	char buf[4096];

	if (stats_open(&s, r->fd)) {
		r->errors++;
		return NULL;
	}
	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		off_t off;

		for (off = 0; pread(r->fd, buf, sizeof(buf), off) > 0; off += sizeof(buf))
			;
		if (stats_find(&s, "exits")) {
			if (!stats_read(&s, "exits", &v, 1) || v < last)
				r->errors++;
			last = v;
		}
		__atomic_add_fetch(&r->reads, 1, __ATOMIC_RELAXED);
	}
	free(s.id);
	free(s.descs);
	return NULL;
}

TEST(read_while_running)
{
	struct reader vcpu_r = {}, vm_r = {};
	pthread_t t1, t2;
	struct mvm_guest g;
	time_t start;
	int i;

	guest_create(&g, 1 << 21);
	need_stats(_metadata, &g);
	guest_load(&g, GUEST_CODE, g_spin_start, BLOB_LEN(g_spin));
	guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE);
	guest_set_supported_cpuid(&g, g.vcpu_fd);
	vcpu_r.fd = ioctl(g.vcpu_fd, KVM_GET_STATS_FD, 0);
	vm_r.fd = ioctl(g.vm_fd, KVM_GET_STATS_FD, 0);
	ASSERT_GE(vcpu_r.fd, 0);
	ASSERT_GE(vm_r.fd, 0);
	ASSERT_EQ(0, pthread_create(&t1, NULL, reader_thread, &vcpu_r));
	ASSERT_EQ(0, pthread_create(&t2, NULL, reader_thread, &vm_r));
	/*
	 * Run until both readers have read a few times while the guest ran
	 * (on a one-CPU host they take turns with this thread), at most 20 s
	 * (the harness allows a test 30).
	 */
	start = time(NULL);
	for (i = 0; i < 20 || __atomic_load_n(&vcpu_r.reads, __ATOMIC_RELAXED) < 20 ||
		    __atomic_load_n(&vm_r.reads, __ATOMIC_RELAXED) < 20; i++) {
		ASSERT_EQ(0, guest_run(g.vcpu_fd));
		ASSERT_EQ(KVM_EXIT_IO, g.run->exit_reason);
		if (time(NULL) - start > 20)
			break;
	}
	TH_LOG("%d runs", i);
	__atomic_store_n(&vcpu_r.stop, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&vm_r.stop, 1, __ATOMIC_RELAXED);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	TH_LOG("%ld vCPU reads, %ld VM reads", vcpu_r.reads, vm_r.reads);
	EXPECT_GT(vcpu_r.reads, 0);
	EXPECT_EQ(0, vcpu_r.errors);
	EXPECT_EQ(0, vm_r.errors);
	close(vcpu_r.fd);
	close(vm_r.fd);
	guest_destroy(&g);
}

static int debugfs_dir(char *path, size_t len, int vm_fd)
{
	struct stat st;

	if (stat("/sys/kernel/debug/mvm", &st))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	snprintf(path, len, "/sys/kernel/debug/mvm/%d-%d", getpid(), vm_fd);
	return stat(path, &st);
}

static uint64_t debugfs_value(const char *dir, const char *name)
{
	char path[256];
	unsigned long long v = ~0ull;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return ~0ull;
	if (fscanf(f, "%llu", &v) != 1)
		v = ~0ull;
	fclose(f);
	return v;
}

/* One file per statistic, vCPU counters summed; gone with the VM. */
TEST(debugfs)
{
	struct mvm_guest g;
	char dir[128];
	struct stat st;
	struct stats s;
	int fd;

	if (mvm_on_kvm())
		SKIP(return, "mvm's debugfs directory");
	run_counted(_metadata, &g);
	if (debugfs_dir(dir, sizeof(dir), g.vm_fd))
		SKIP(guest_destroy(&g); return, "no %s (debugfs)", dir);
	EXPECT_EQ(CPUID_COUNT, debugfs_value(dir, "exits_cpuid"));
	EXPECT_EQ(HLT_COUNT, debugfs_value(dir, "halt_exits"));
	EXPECT_EQ(1, debugfs_value(dir, "memory_slots"));
	ASSERT_EQ(0, stats_open(&s, ioctl(g.vcpu_fd, KVM_GET_STATS_FD, 0)));
	EXPECT_EQ(stat1(_metadata, &s, "exits"), debugfs_value(dir, "exits"));
	stats_close(&s);

	/* A file held open keeps the VM; the directory goes with the VM. */
	snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/exits");
	fd = open(dir, O_RDONLY);
	ASSERT_GE(fd, 0);
	/*
	 * guest_destroy() leaves the vCPU's PIO page mapped, which holds the
	 * VM until the process exits: unmap the whole kvm_run area.
	 */
	munmap(g.run, ioctl(g.sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0));
	g.run = NULL;
	guest_destroy(&g);
	EXPECT_EQ(0, stat(dir, &st));
	close(fd);
	EXPECT_NE(0, stat(dir, &st));
}

struct runner {
	struct mvm_guest *g;
	int stop;		/* __atomic */
	int error;
};

static void *runner_thread(void *arg)
{
	struct runner *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		if (guest_run(r->g->vcpu_fd) ||
		    r->g->run->exit_reason != KVM_EXIT_IO) {
			r->error = 1;
			break;
		}
	}
	return NULL;
}

/* A command's standard output, and its exit status in *status. */
static char *run_tool(const char *cmd, int *status)
{
	size_t len = 0, max = 1 << 16;
	char *out = malloc(max);
	FILE *p = popen(cmd, "r");

	*status = -1;
	if (!out || !p) {
		free(out);
		if (p)
			pclose(p);
		return NULL;
	}
	while (len < max - 1) {
		size_t n = fread(out + len, 1, max - 1 - len, p);

		if (!n)
			break;
		len += n;
	}
	out[len] = 0;
	*status = pclose(p);
	return out;
}

/*
 * tools/mvm-stat on a running guest (the rig puts it at /mvm-stat, or
 * $MVM_STAT): its JSON names this VM, its exits by reason and their
 * latency percentiles; the table form runs too.
 */
TEST(mvm_stat_json)
{
	const char *tool = getenv("MVM_STAT") ? getenv("MVM_STAT") : "/mvm-stat";
	char cmd[256], vm[64], *out, *table;
	struct runner r = {};
	struct mvm_guest g;
	int status, table_status;
	pthread_t t;

	if (mvm_on_kvm())
		SKIP(return, "mvm's debugfs directory");
	if (access(tool, X_OK))
		SKIP(return, "no %s", tool);
	guest_create(&g, 1 << 21);
	guest_load(&g, GUEST_CODE, g_paced_start, BLOB_LEN(g_paced));
	guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE);
	guest_set_supported_cpuid(&g, g.vcpu_fd);
	if (debugfs_dir(cmd, sizeof(cmd), g.vm_fd))
		SKIP(guest_destroy(&g); return, "no %s (debugfs)", cmd);
	r.g = &g;
	ASSERT_EQ(0, pthread_create(&t, NULL, runner_thread, &r));
	snprintf(cmd, sizeof(cmd), "%s --once --json --interval 0.2", tool);
	out = run_tool(cmd, &status);
	snprintf(cmd, sizeof(cmd), "%s --once --interval 0.2", tool);
	table = run_tool(cmd, &table_status);
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	EXPECT_EQ(0, r.error);
	ASSERT_TRUE(out != NULL);
	ASSERT_TRUE(table != NULL);
	TH_LOG("%s", out);
	TH_LOG("%s", table);
	EXPECT_EQ(0, status);
	EXPECT_EQ(0, table_status);

	snprintf(vm, sizeof(vm), "\"vm\": \"%d-%d\"", getpid(), g.vm_fd);
	EXPECT_TRUE(strstr(out, vm) != NULL);
	EXPECT_TRUE(strstr(out, "\"cpuid\": {\"exits\": ") != NULL);
	EXPECT_TRUE(strstr(out, "\"io\": {\"exits\": ") != NULL);
	EXPECT_TRUE(strstr(out, "\"p50_ns\": ") != NULL);
	EXPECT_TRUE(strstr(out, "\"p99_ns\": ") != NULL);
	EXPECT_TRUE(strstr(out, "\"time_pct\": {\"guest\": ") != NULL);
	snprintf(vm, sizeof(vm), "VM %d-%d:", getpid(), g.vm_fd);
	EXPECT_TRUE(strstr(table, vm) != NULL);
	EXPECT_TRUE(strstr(table, "cpuid") != NULL);
	free(out);
	free(table);
	guest_destroy(&g);
}

TEST_HARNESS_MAIN
