// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU fd: the kvm_run mapping, the reset state KVM documents,
 * KVM_GET/SET_REGS and SREGS round trips and KVM's sregs validity
 * checks, CPUID2 and MSR ioctls, wrong and unknown ioctls.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "mvm_util.h"

FIXTURE(vcpu) {
	int sys, vm, vcpu;
};

FIXTURE_SETUP(vcpu)
{
	self->sys = mvm_open_dev();
	self->vm = ioctl(self->sys, KVM_CREATE_VM, 0);
	ASSERT_GE(self->vm, 0);
	self->vcpu = ioctl(self->vm, KVM_CREATE_VCPU, 0);
	ASSERT_GE(self->vcpu, 0);
}

FIXTURE_TEARDOWN(vcpu)
{
	close(self->vcpu);
	close(self->vm);
	close(self->sys);
}

/*
 * The vCPU fd maps the kvm_run page at offset 0 and the PIO data page at
 * KVM_PIO_PAGE_OFFSET: a second mapping, of the whole area or of the PIO
 * page alone, sees what the first one wrote, and the kernel reads the same
 * kvm_run (immediate_exit makes KVM_RUN return EINTR).
 */
TEST_F(vcpu, mmap_run_and_pio_pages)
{
	long size = ioctl(self->sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	long page = getpagesize();
	struct kvm_run *run, *run2;
	volatile char *pio, *pio2;

	ASSERT_GE(size, (KVM_PIO_PAGE_OFFSET + 1) * page);
	run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, self->vcpu, 0);
	ASSERT_NE(MAP_FAILED, run);
	run2 = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, self->vcpu, 0);
	ASSERT_NE(MAP_FAILED, run2);
	pio2 = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, self->vcpu,
		    KVM_PIO_PAGE_OFFSET * page);
	ASSERT_NE(MAP_FAILED, pio2);
	ASSERT_EQ(0, run->immediate_exit);

	run->immediate_exit = 1;
	ASSERT_EQ(1, run2->immediate_exit);
	ASSERT_EQ(-1, ioctl(self->vcpu, KVM_RUN, 0));
	ASSERT_EQ(EINTR, errno);

	pio = (char *)run + KVM_PIO_PAGE_OFFSET * page;
	pio[0] = 0x5a;
	pio[page - 1] = 0xa5;
	ASSERT_EQ(0x5a, pio2[0]);
	ASSERT_EQ((char)0xa5, pio2[page - 1]);
	ASSERT_EQ(0x5a, ((volatile char *)run2)[KVM_PIO_PAGE_OFFSET * page]);
	/* Not the kvm_run page. */
	ASSERT_EQ(1, run->immediate_exit);
	munmap((void *)pio2, page);
	munmap(run2, size);
	munmap(run, size);
}

TEST_F(vcpu, reset_state)
{
	struct kvm_sregs s;
	struct kvm_regs r;

	ASSERT_EQ(0, ioctl(self->vcpu, KVM_GET_REGS, &r));
	ASSERT_EQ(0xfff0, r.rip);
	ASSERT_EQ(0x2, r.rflags);
	ASSERT_EQ(0, r.rax);
	ASSERT_EQ(0, r.rsp);

	ASSERT_EQ(0, ioctl(self->vcpu, KVM_GET_SREGS, &s));
	ASSERT_EQ(0xf000, s.cs.selector);
	ASSERT_EQ(0xffff0000, s.cs.base);
	ASSERT_EQ(0xffff, s.cs.limit);
	ASSERT_EQ(1, s.cs.present);
	ASSERT_EQ(1, s.cs.s);
	ASSERT_EQ(0, s.ds.selector);
	ASSERT_EQ(0, s.ds.base);
	ASSERT_EQ(0xffff, s.ds.limit);
	ASSERT_EQ(0xffff, s.ss.limit);
	ASSERT_EQ(0xffff, s.gdt.limit);
	ASSERT_EQ(0, s.gdt.base);
	ASSERT_EQ(0xffff, s.idt.limit);
	ASSERT_EQ(0x60000010, s.cr0);
	ASSERT_EQ(0, s.cr3);
	ASSERT_EQ(0, s.cr4);
	ASSERT_EQ(0, s.efer);
}

TEST_F(vcpu, regs_round_trip)
{
	struct kvm_regs r, back;

	memset(&r, 0, sizeof(r));
	r.rax = 0x1111222233334444ULL;
	r.rbx = 2; r.rcx = 3; r.rdx = 4; r.rsi = 5; r.rdi = 6;
	r.rsp = 0x7000; r.rbp = 8;
	r.r8 = 9; r.r15 = 0xfedcba9876543210ULL;
	r.rip = 0x1234;
	r.rflags = 0x2 | 0x1;
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_SET_REGS, &r));
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_GET_REGS, &back));
	ASSERT_EQ(0, memcmp(&r, &back, sizeof(r)));
}

TEST_F(vcpu, sregs_round_trip)
{
	struct kvm_sregs s, back;

	ASSERT_EQ(0, ioctl(self->vcpu, KVM_GET_SREGS, &s));
	s.cs.base = 0x10000;
	s.cs.selector = 0x1000;
	s.ds.base = 0x20000;
	s.ds.selector = 0x2000;
	s.gdt.base = 0x500;
	s.gdt.limit = 0x27;
	s.idt.base = 0x600;
	s.idt.limit = 0xff;
	s.cr2 = 0xdead000;
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_SET_SREGS, &s));
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_GET_SREGS, &back));
	ASSERT_EQ(s.cs.base, back.cs.base);
	ASSERT_EQ(s.cs.selector, back.cs.selector);
	ASSERT_EQ(s.ds.base, back.ds.base);
	ASSERT_EQ(s.gdt.base, back.gdt.base);
	ASSERT_EQ(s.gdt.limit, back.gdt.limit);
	ASSERT_EQ(s.idt.base, back.idt.base);
	ASSERT_EQ(s.idt.limit, back.idt.limit);
	ASSERT_EQ(s.cr2, back.cr2);
	ASSERT_EQ(s.cr0, back.cr0);
}

/* kvm_is_valid_sregs() in Linux 6.1 x86.c. */
TEST_F(vcpu, sregs_invalid)
{
	struct kvm_sregs s, good;

	ASSERT_EQ(0, ioctl(self->vcpu, KVM_GET_SREGS, &good));

	/* Long mode paging without PAE. */
	s = good;
	s.efer = 0x500;
	s.cr0 = 0x80000011;
	s.cr4 = 0;
	ASSERT_EQ(-1, ioctl(self->vcpu, KVM_SET_SREGS, &s));
	ASSERT_EQ(EINVAL, errno);

	/* LMA without LME and paging. */
	s = good;
	s.efer = 0x400;
	ASSERT_EQ(-1, ioctl(self->vcpu, KVM_SET_SREGS, &s));
	ASSERT_EQ(EINVAL, errno);

	/* CS.L outside long mode. */
	s = good;
	s.cs.l = 1;
	ASSERT_EQ(-1, ioctl(self->vcpu, KVM_SET_SREGS, &s));
	ASSERT_EQ(EINVAL, errno);

	/* Reserved CR4 bit. */
	s = good;
	s.cr4 = 1ULL << 63;
	ASSERT_EQ(-1, ioctl(self->vcpu, KVM_SET_SREGS, &s));
	ASSERT_EQ(EINVAL, errno);

	/* The state did not change. */
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_GET_SREGS, &s));
	ASSERT_EQ(good.efer, s.efer);
	ASSERT_EQ(good.cr4, s.cr4);
}

TEST_F(vcpu, bad_pointers_and_unknown)
{
	ASSERT_EQ(-1, ioctl(self->vcpu, KVM_GET_REGS, (void *)8));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, ioctl(self->vcpu, KVM_SET_SREGS, (void *)8));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, ioctl(self->vcpu, _IO(KVMIO, 0xfe), 0));
	ASSERT_EQ(EINVAL, errno);
	/* Not a KVM ioctl at all. */
	ASSERT_EQ(-1, ioctl(self->vcpu, _IO('Z', 1), 0));
	ASSERT_EQ(EINVAL, errno);
	/* A VM ioctl on the vCPU fd. */
	ASSERT_EQ(-1, ioctl(self->vcpu, KVM_CREATE_VCPU, 1));
	ASSERT_EQ(EINVAL, errno);
	/* KVM_RUN takes no argument. */
	ASSERT_EQ(-1, ioctl(self->vcpu, KVM_RUN, 1));
	ASSERT_EQ(EINVAL, errno);
}

TEST_F(vcpu, cpuid2)
{
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[4];
	} set = { .c.nent = 2 }, get = { .c.nent = 1 };

	set.e[0].function = 0;
	set.e[0].eax = 0x40000001;
	set.e[1].function = 0x40000000;
	set.e[1].ebx = 0x12345678;
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_SET_CPUID2, &set));
	ASSERT_EQ(-1, ioctl(self->vcpu, KVM_GET_CPUID2, &get));
	ASSERT_EQ(E2BIG, errno);
	get.c.nent = 4;
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_GET_CPUID2, &get));
	ASSERT_GE(get.c.nent, 2);
	ASSERT_EQ(0x40000000, get.e[1].function);
	ASSERT_EQ(0x12345678, get.e[1].ebx);

	set.c.nent = 100000;
	ASSERT_EQ(-1, ioctl(self->vcpu, KVM_SET_CPUID2, &set));
	ASSERT_EQ(E2BIG, errno);
}

TEST_F(vcpu, msrs)
{
	struct {
		struct kvm_msrs m;
		struct kvm_msr_entry e[3];
	} msrs = { .m.nmsrs = 3 };

	msrs.e[0].index = 0x174;	/* SYSENTER_CS */
	msrs.e[0].data = 0x10;
	msrs.e[1].index = 0xc0000082;	/* LSTAR */
	msrs.e[1].data = 0xffffffff81000000ULL;
	msrs.e[2].index = 0xc0000081;	/* STAR */
	msrs.e[2].data = 0x0023001000000000ULL;
	ASSERT_EQ(3, ioctl(self->vcpu, KVM_SET_MSRS, &msrs));
	msrs.e[0].data = msrs.e[1].data = msrs.e[2].data = 0;
	ASSERT_EQ(3, ioctl(self->vcpu, KVM_GET_MSRS, &msrs));
	ASSERT_EQ(0x10, msrs.e[0].data);
	ASSERT_EQ(0xffffffff81000000ULL, msrs.e[1].data);
	ASSERT_EQ(0x0023001000000000ULL, msrs.e[2].data);

	/* Processing stops at the first MSR that fails. */
	msrs.e[1].index = 0xdeadbeef;
	ASSERT_EQ(1, ioctl(self->vcpu, KVM_GET_MSRS, &msrs));
	msrs.m.nmsrs = 100000;
	ASSERT_EQ(-1, ioctl(self->vcpu, KVM_GET_MSRS, &msrs));
	ASSERT_EQ(E2BIG, errno);
}

TEST_HARNESS_MAIN
