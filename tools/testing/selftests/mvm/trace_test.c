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

/* The vendor's exit codes: APM vol. 2 appendix C, SDM vol. 3 appendix C. */
#define SVM_EXIT_CPUID_CODE	0x72
#define SVM_EXIT_HLT_CODE	0x78
#define VMX_EXIT_CPUID_CODE	10
#define VMX_EXIT_HLT_CODE	12

FIXTURE(trace) {
	const char *tracefs;
};

FIXTURE_SETUP(trace)
{
	self->tracefs = mvm_tracefs();
}

/* Runs even when an assertion failed: tracing never stays on. */
FIXTURE_TEARDOWN(trace)
{
	if (self->tracefs) {
		mvm_write_file_in(self->tracefs, "events/mvm/enable", "0");
		mvm_write_file_in(self->tracefs, "trace", "");
	}
}

TEST_F(trace, entry_and_exit_events)
{
	const char *t = self->tracefs;
	bool amd = mvm_cpu_is_amd();
	const char *isa = amd ? "svm" : "vmx";
	static char buf[1 << 16];
	char path[256], want[128];
	struct mvm_guest g;
	ssize_t n;
	int fd;

	if (mvm_on_kvm())
		SKIP(return, "mvm's tracepoints; KVM has kvm:kvm_exit");
	ASSERT_NE(NULL, t) TH_LOG("no tracefs");
	ASSERT_EQ(0, mvm_write_file_in(t, "trace", ""));
	ASSERT_EQ(0, mvm_write_file_in(t, "events/mvm/enable", "1"));

	guest_create(&g, 1 << 21);
	guest_load(&g, GUEST_CODE, g_cpuid_hlt_start, BLOB_LEN(g_cpuid_hlt));
	guest_set_long_mode(&g, g.vcpu_fd, GUEST_CODE);
	ASSERT_EQ(0, guest_run(g.vcpu_fd));
	ASSERT_EQ(KVM_EXIT_HLT, g.run->exit_reason);
	guest_destroy(&g);

	ASSERT_EQ(0, mvm_write_file_in(t, "events/mvm/enable", "0"));
	snprintf(path, sizeof(path), "%s/trace", t);
	fd = open(path, O_RDONLY);
	ASSERT_GE(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ASSERT_GT(n, 0);
	buf[n] = 0;
	ASSERT_NE(NULL, strstr(buf, "mvm_entry: vcpu 0 rip 0x10000")) TH_LOG("%s", buf);
	/* CPUID at 0x10002 (after the 2-byte XOR), then HLT at 0x10004. */
	snprintf(want, sizeof(want), "mvm_exit: vcpu 0 %s reason 0x%x rip 0x10002 ",
		 isa, amd ? SVM_EXIT_CPUID_CODE : VMX_EXIT_CPUID_CODE);
	ASSERT_NE(NULL, strstr(buf, want)) TH_LOG("no \"%s\" in:\n%s", want, buf);
	snprintf(want, sizeof(want), "mvm_exit: vcpu 0 %s reason 0x%x rip 0x10004 ",
		 isa, amd ? SVM_EXIT_HLT_CODE : VMX_EXIT_HLT_CODE);
	ASSERT_NE(NULL, strstr(buf, want)) TH_LOG("no \"%s\" in:\n%s", want, buf);
}

TEST_HARNESS_MAIN
