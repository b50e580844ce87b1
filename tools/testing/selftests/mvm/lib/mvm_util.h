/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the mvm selftests.  The device comes from $MVM_DEV
 * (/dev/mvm or /dev/kvm, default /dev/kvm), so every test also runs
 * against real KVM; $MVM_IMPL says which one it is.
 */
#ifndef MVM_UTIL_H
#define MVM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>
#include "guest_setup.h"

const char *mvm_dev_path(void);
int mvm_open_dev(void);			/* aborts the test on failure */
bool mvm_on_kvm(void);			/* $MVM_IMPL == "kvm" */
bool mvm_cpu_is_amd(void);
/*
 * The running kernel is at least major.minor: for what its KVM answers
 * differently (and mvm built for it, include/linux/mvm_compat.h).
 */
bool mvm_kernel_at_least(int major, int minor);

/* A VM with one vCPU and guest memory at GPA 0. */
struct mvm_guest {
	int sys_fd, vm_fd, vcpu_fd;
	uint8_t *mem;
	size_t mem_size;
	struct kvm_run *run;
};

void guest_create(struct mvm_guest *g, size_t mem_size);
/* The VM and its memory only (vcpu_fd -1): irqchips come before vCPUs. */
void guest_create_vm(struct mvm_guest *g, size_t mem_size);
void guest_destroy(struct mvm_guest *g);
int guest_add_vcpu(struct mvm_guest *g, int id, struct kvm_run **run);
/* Copy code to @gpa. */
void guest_load(struct mvm_guest *g, uint64_t gpa, const void *code,
		size_t len);
/* Flat real mode at CS:IP = 0:@ip (CS base 0). */
void guest_set_real_mode(struct mvm_guest *g, int vcpu_fd, uint64_t ip);
/* The GDT (0x08 64-bit code, 0x10 data, 0x18 32-bit code) and 4-level
 * identity map of 4 GiB that guest_set_long_mode() uses
 * (tools/lib/mvm/guest_setup.h). */
void guest_build_tables(struct mvm_guest *g);
/* 64-bit mode, identity map of the first 4 GiB, code at @rip. */
void guest_set_long_mode(struct mvm_guest *g, int vcpu_fd, uint64_t rip);
/* 32-bit protected mode without paging, flat segments. */
void guest_set_prot32(struct mvm_guest *g, int vcpu_fd, uint64_t eip);
void guest_set_supported_cpuid(struct mvm_guest *g, int vcpu_fd);
/* Point the vCPU's IDTR at GUEST_IDT, 32 vectors (no gate set yet). */
void guest_use_idt(struct mvm_guest *g, int vcpu_fd);
/* A 64-bit interrupt gate (CS 0x08) for @vector to @handler. */
void guest_set_idt_gate(struct mvm_guest *g, int vector, uint64_t handler);
/* KVM_RUN; returns 0 or -errno. */
int guest_run(int vcpu_fd);

/* Page tables, GDT and IDT of guest_set_long_mode(). */
#define GUEST_PML4	MVM_GUEST_PML4
#define GUEST_GDT	MVM_GUEST_GDT
#define GUEST_IDT	MVM_GUEST_IDT
#define GUEST_CODE	0x10000UL

/* Declare an asm blob NAME_start..NAME_end assembled into this binary. */
#define GUEST_CODE_BLOB(name, mode, body)				\
	extern const uint8_t name##_start[], name##_end[];		\
	asm(".pushsection .rodata\n"					\
	    mode "\n"							\
	    #name "_start:\n" body "\n" #name "_end:\n"		\
	    ".code64\n"							\
	    ".popsection\n")

#define BLOB_LEN(name)	((size_t)(name##_end - name##_start))

/*
 * KVM_GET_MSRS / KVM_SET_MSRS of one MSR on a vCPU fd (or, for the read,
 * a feature MSR on the system fd).  A refused read returns MVM_MSR_BAD.
 */
#define MVM_MSR_BAD	0xdeadbeefdeadbeefULL
uint64_t vcpu_rdmsr(int fd, uint32_t index);
bool vcpu_wrmsr(int fd, uint32_t index, uint64_t data);

/*
 * The host kernel keeps time with the TSC.  When it does not (it found its
 * TSC unstable: seen under QEMU TCG), neither KVM nor mvm can keep guest
 * TSCs in step across vCPUs or monotonic against the host's clock, and
 * tests of that skip, saying why.
 */
bool host_tsc_is_clocksource(void);
/* In a kselftest_harness TEST(). */
#define SKIP_UNLESS_HOST_TSC_CLOCKSOURCE()				\
	do {								\
		if (!host_tsc_is_clocksource())				\
			SKIP(return, "host clocksource is not the TSC: "	\
			     "guest TSCs cannot stay in step (KVM either)");	\
	} while (0)

/* The tracefs mount (NULL: none), and writing @val to @dir/@name there. */
const char *mvm_tracefs(void);
int mvm_write_file_in(const char *dir, const char *name, const char *val);
/* The number at the start of the file @dir/@file, or -1. */
long mvm_read_num(const char *dir, const char *file);

#endif
