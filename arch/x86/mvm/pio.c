// SPDX-License-Identifier: GPL-2.0
/*
 * Port I/O: IN/OUT and INS/OUTS (with REP) handed to userspace as
 * KVM_EXIT_IO, and their completion at the next KVM_RUN.
 */
#include <linux/mm.h>
#include "x86.h"

/*
 * String I/O follows KVM's emulator so that KVM programs see the same
 * exits: OUTS hands one element per exit; INS reads ahead as many
 * elements as fit in the current page (and in 1 KiB) in one exit.  RIP
 * stays on the instruction until the last iteration completes.
 */
#define MVM_PIO_READAHEAD	1024

static u64 mvm_addr_mask(int addr_size)
{
	return addr_size == 8 ? ~0ULL : (1ULL << (addr_size * 8)) - 1;
}

static unsigned long mvm_seg_base(struct mvm_vcpu *vcpu, int seg)
{
	struct kvm_segment s;

	/* In 64-bit mode only FS and GS have a base (SDM 3.4.4). */
	if (mvm_is_64bit_mode(vcpu) && seg != VCPU_SREG_FS && seg != VCPU_SREG_GS)
		return 0;
	mvm_x86_ops->get_segment(vcpu, &s, seg);
	return s.base;
}

static void mvm_pio_exit(struct mvm_vcpu *vcpu, u32 count)
{
	struct kvm_run *run = vcpu->run;

	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = vcpu->arch.pio.in ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT;
	run->io.size = vcpu->arch.pio.size;
	run->io.port = vcpu->arch.pio.port;
	run->io.count = count;
	run->io.data_offset = KVM_PIO_PAGE_OFFSET * PAGE_SIZE;
	vcpu->arch.pio.count = count;
	vcpu->arch.pio.rip = mvm_rip_read(vcpu);
	vcpu->stat.io_exits++;
}

/*
 * Userspace may move RIP (KVM_SET_REGS) before the next KVM_RUN; then the
 * I/O instruction is abandoned and nothing is completed, as with KVM.
 */
static bool mvm_pio_abandoned(struct mvm_vcpu *vcpu)
{
	return mvm_rip_read(vcpu) != vcpu->arch.pio.rip;
}

static int mvm_complete_pio_out(struct mvm_vcpu *vcpu)
{
	if (mvm_pio_abandoned(vcpu))
		return 1;
	mvm_x86_ops->skip_instruction(vcpu);
	return 1;
}

static int mvm_complete_pio_in(struct mvm_vcpu *vcpu)
{
	int size = vcpu->arch.pio.size;
	unsigned long rax = 0;

	if (mvm_pio_abandoned(vcpu))
		return 1;
	/* A 32-bit IN zero-extends into RAX; narrower ones merge. */
	if (size < 4)
		rax = mvm_register_read(vcpu, MVM_REG_RAX);
	memcpy(&rax, vcpu->pio_data, size);
	mvm_register_write(vcpu, MVM_REG_RAX, rax);
	mvm_x86_ops->skip_instruction(vcpu);
	return 1;
}

/* Update RSI/RDI and RCX after @n string iterations; 1 when done. */
static bool mvm_string_advance(struct mvm_vcpu *vcpu, enum mvm_reg index_reg,
			       u32 n, int addr_size)
{
	struct mvm_pio *pio = &vcpu->arch.pio;
	u64 mask = mvm_addr_mask(addr_size);
	bool df = mvm_x86_ops->get_rflags(vcpu) & X86_EFLAGS_DF;
	u64 delta = (u64)n * pio->size;
	u64 val = mvm_register_read(vcpu, index_reg);
	u64 rcx;

	val = (val & ~mask) | ((df ? val - delta : val + delta) & mask);
	mvm_register_write(vcpu, index_reg, val);
	if (!pio->rep)
		return true;
	rcx = mvm_register_read(vcpu, MVM_REG_RCX);
	rcx = (rcx & ~mask) | (((rcx & mask) - n) & mask);
	mvm_register_write(vcpu, MVM_REG_RCX, rcx);
	return !(rcx & mask);
}

static int mvm_complete_string(struct mvm_vcpu *vcpu, enum mvm_reg index_reg)
{
	struct mvm_pio *pio = &vcpu->arch.pio;

	if (mvm_string_advance(vcpu, index_reg, pio->count, pio->addr_size))
		mvm_x86_ops->skip_instruction(vcpu);
	/* Otherwise RIP stays: the next entry re-executes the REP. */
	return 1;
}

static int mvm_complete_outs(struct mvm_vcpu *vcpu)
{
	if (mvm_pio_abandoned(vcpu))
		return 1;
	return mvm_complete_string(vcpu, MVM_REG_RSI);
}

static int mvm_complete_ins(struct mvm_vcpu *vcpu)
{
	struct mvm_pio *pio = &vcpu->arch.pio;
	bool df = mvm_x86_ops->get_rflags(vcpu) & X86_EFLAGS_DF;
	u64 linear = pio->linear;
	u32 pf_error, i;
	int r;

	if (mvm_pio_abandoned(vcpu))
		return 1;
	if (!df) {
		r = mvm_write_guest_virt(vcpu, linear, vcpu->pio_data,
					 pio->count * pio->size, MVM_ACC_WRITE,
					 &pf_error);
	} else {
		for (i = 0, r = 0; i < pio->count && !r; i++)
			r = mvm_write_guest_virt(vcpu, linear - i * pio->size,
						 vcpu->pio_data + i * pio->size,
						 pio->size, MVM_ACC_WRITE,
						 &pf_error);
	}
	if (r == -EFAULT) {
		mvm_inject_page_fault(vcpu, linear, pf_error);
		return 1;
	}
	if (r)
		return r;
	return mvm_complete_string(vcpu, MVM_REG_RDI);
}

/* Fold legacy prefix @b into the INS/OUTS decode; false if not a prefix. */
static bool mvm_string_io_prefix(u8 b, bool *rep, bool *adsize, int *seg)
{
	switch (b) {
	case 0xf2:
	case 0xf3:
		*rep = true;
		break;
	case 0x67:
		*adsize = true;
		break;
	case 0x66:
	case 0xf0:
		break;
	case 0x26:
		*seg = VCPU_SREG_ES;
		break;
	case 0x2e:
		*seg = VCPU_SREG_CS;
		break;
	case 0x36:
		*seg = VCPU_SREG_SS;
		break;
	case 0x3e:
		*seg = VCPU_SREG_DS;
		break;
	case 0x64:
		*seg = VCPU_SREG_FS;
		break;
	case 0x65:
		*seg = VCPU_SREG_GS;
		break;
	default:
		return false;
	}
	return true;
}

/*
 * The REP prefix, address size and segment of the INS/OUTS at CS:RIP,
 * from its own prefixes (SDM vol. 2 2.1.1).  Exit information may lack
 * them: SVM fills the segment only with decode assists, and QEMU's
 * emulated SVM leaves the address size out.  Returns 0, or -EFAULT with a
 * #PF queued, or -EINVAL with kvm_run filled for KVM_EXIT_INTERNAL_ERROR
 * if the bytes cannot be read.
 */
int mvm_decode_string_io(struct mvm_vcpu *vcpu, bool *rep, int *addr_size,
			 int *seg)
{
	struct mvm_insn_fetch f;
	bool adsize = false;
	unsigned int i;
	int r;

	*rep = false;
	*seg = VCPU_SREG_DS;
	mvm_insn_fetch_init(vcpu, &f);
	for (i = 0; ; i++) {
		if (i == f.len) {
			r = mvm_fetch_insn(vcpu, &f);
			if (r == -EFAULT)
				return r;
			if (r) {
				mvm_emulation_failure(vcpu, f.bytes, f.len);
				return -EINVAL;
			}
		}
		if (!mvm_string_io_prefix(f.bytes[i], rep, &adsize, seg))
			break;
	}
	if (f.mode64)
		*addr_size = adsize ? 4 : 8;
	else
		*addr_size = (f.def32 ^ adsize) ? 4 : 2;
	return 0;
}

/*
 * IN/OUT served by a device on the in-kernel bus (PIC, PIT, an
 * ioeventfd): done without leaving the kernel.  False: userspace's.
 */
static bool mvm_pio_in_kernel(struct mvm_vcpu *vcpu, u16 port, int size,
			      bool in)
{
	unsigned long rax = mvm_register_read(vcpu, MVM_REG_RAX);

	if (in) {
		unsigned long val = 0;

		if (mvm_io_bus_read(vcpu, MVM_PIO_BUS, port, size, &val))
			return false;
		/* A 32-bit IN zero-extends into RAX; narrower ones merge. */
		if (size == 4)
			rax = 0;
		memcpy(&rax, &val, size);
		mvm_register_write(vcpu, MVM_REG_RAX, rax);
	} else if (mvm_io_bus_write(vcpu, MVM_PIO_BUS, port, size, &rax)) {
		return false;
	}
	mvm_x86_ops->skip_instruction(vcpu);
	return true;
}

int mvm_handle_pio(struct mvm_vcpu *vcpu, u16 port, int size, bool in,
		   bool string)
{
	struct mvm_pio *pio = &vcpu->arch.pio;
	u64 mask, count = 1, linear, index;
	int addr_size, seg;
	bool df, rep;
	u32 pf_error;
	int r;

	pio->port = port;
	pio->size = size;
	pio->in = in;
	pio->rep = false;

	if (!string) {
		if (mvm_pio_in_kernel(vcpu, port, size, in))
			return 1;
		if (in) {
			vcpu->arch.complete_userspace_io = mvm_complete_pio_in;
		} else {
			unsigned long rax = mvm_register_read(vcpu, MVM_REG_RAX);

			memcpy(vcpu->pio_data, &rax, size);
			vcpu->arch.complete_userspace_io = mvm_complete_pio_out;
		}
		mvm_pio_exit(vcpu, 1);
		return 0;
	}

	/* Decoding and copying reach guest memory: host code (L1TF). */
	vcpu->arch.l1tf_flush_l1d = true;
	/*
	 * REP, address size and segment from the instruction's own prefixes:
	 * the exit information may lack them (SVM fills the segment only with
	 * decode assists, QEMU's SVM leaves the address size out, VT-x gives
	 * them only with VMX_BASIC bit 54).
	 */
	r = mvm_decode_string_io(vcpu, &rep, &addr_size, &seg);
	if (r)
		return r == -EFAULT ? 1 : 0;	/* #PF queued, or internal error */
	pio->rep = rep;

	mask = mvm_addr_mask(addr_size);
	if (rep) {
		count = mvm_register_read(vcpu, MVM_REG_RCX) & mask;
		if (!count) {
			/* REP with RCX = 0 does nothing. */
			mvm_x86_ops->skip_instruction(vcpu);
			return 1;
		}
	}
	df = mvm_x86_ops->get_rflags(vcpu) & X86_EFLAGS_DF;

	if (in) {
		/* INS: ES:rDI, no override (SDM vol. 2 INS). */
		u64 in_page;

		index = mvm_register_read(vcpu, MVM_REG_RDI) & mask;
		linear = mvm_seg_base(vcpu, VCPU_SREG_ES) + index;
		in_page = df ? offset_in_page(linear) + size :
			       PAGE_SIZE - offset_in_page(linear);
		count = min3(count, in_page / size,
			     (u64)MVM_PIO_READAHEAD / size);
		count = max_t(u64, count, 1);
		vcpu->arch.complete_userspace_io = mvm_complete_ins;
	} else {
		/* OUTS: seg:rSI, one element per exit. */
		index = mvm_register_read(vcpu, MVM_REG_RSI) & mask;
		linear = mvm_seg_base(vcpu, seg) + index;
		count = 1;
		r = mvm_read_guest_virt(vcpu, linear, vcpu->pio_data, size, 0,
					&pf_error);
		if (r == -EFAULT) {
			mvm_inject_page_fault(vcpu, linear, pf_error);
			return 1;
		}
		if (r)
			return r;
		vcpu->arch.complete_userspace_io = mvm_complete_outs;
	}
	if (!mvm_is_64bit_mode(vcpu))
		linear &= 0xffffffff;
	pio->linear = linear;
	pio->addr_size = addr_size;
	mvm_pio_exit(vcpu, count);
	return 0;
}
