// SPDX-License-Identifier: GPL-2.0
/*
 * mvm's tracepoints: mvm:mvm_entry and mvm:mvm_exit record every entry and
 * exit with the vCPU id, the vendor's exit reason, RIP and exit info.
 * (KVM has its own kvm:kvm_entry/kvm_exit: mvm-only.)
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

GUEST_CODE_BLOB(g_cpuid_hlt, ".code64", "xor %eax, %eax\n cpuid\n hlt\n");

static const char *tracefs(void)
{
	struct stat st;

	if (!stat("/sys/kernel/tracing/events", &st))
		return "/sys/kernel/tracing";
	if (!stat("/sys/kernel/debug/tracing/events", &st))
		return "/sys/kernel/debug/tracing";
	return NULL;
}

static int write_file(const char *dir, const char *name, const char *val)
{
	char path[256];
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -1;
	r = write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -1;
	close(fd);
	return r;
}

TEST(entry_and_exit_events)
{
	const char *t = tracefs();
	static char buf[1 << 16];
	struct mvm_guest g;
	char path[256];
	ssize_t n;
	int fd;

	if (mvm_on_kvm())
		SKIP(return, "mvm's tracepoints; KVM has kvm:kvm_exit");
	ASSERT_NE(NULL, t) TH_LOG("no tracefs");
	ASSERT_EQ(0, write_file(t, "trace", ""));
	ASSERT_EQ(0, write_file(t, "events/mvm/enable", "1"));

	guest_create(&g, 1 << 21);
	guest_load(&g, GUEST_CODE, g_cpuid_hlt_start, BLOB_LEN(g_cpuid_hlt));
	guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE);
	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	ASSERT_EQ(KVM_EXIT_HLT, g.run->exit_reason);
	guest_destroy(&g);

	ASSERT_EQ(0, write_file(t, "events/mvm/enable", "0"));
	snprintf(path, sizeof(path), "%s/trace", t);
	fd = open(path, O_RDONLY);
	ASSERT_GE(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ASSERT_GT(n, 0);
	buf[n] = 0;
	ASSERT_NE(NULL, strstr(buf, "mvm_entry: vcpu 0 rip 0x10000"));
	/* The CPUID exit at 0x10002 (after XOR), then the HLT. */
	ASSERT_NE(NULL, strstr(buf, "mvm_exit: vcpu 0")) TH_LOG("%s", buf);
	ASSERT_NE(NULL, strstr(buf, "rip 0x10002"));
}

TEST_HARNESS_MAIN
