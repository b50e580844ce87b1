// SPDX-License-Identifier: GPL-2.0
/*
 * Guest page-table walks and the MMIO instruction decoder.
 *
 * Nested paging leaves the guest's own paging to the hardware, so mvm only
 * walks guest page tables to fetch an instruction that touched MMIO and to
 * reach the memory operand of a string I/O instruction.  The walk follows
 * SDM vol. 3A chapter 4 for all three paging modes; it does not set
 * accessed/dirty bits (the access that faulted to us will set them when
 * the guest retries, and our own accesses are reads of code or the data
 * of INS, which hardware would have marked dirty: a difference only a
 * guest inspecting its own D bits of an INS target could see).
 *
 * The decoder knows the instructions compilers emit for MMIO (Linux's
 * readb..readq, writeb..writeq, memcpy_toio's MOVs): MOV in all its
 * forms, MOVZX, MOVSX, MOVSXD and MOVNTI.  Anything else is reported to
 * userspace as KVM_INTERNAL_ERROR_EMULATION with the instruction bytes;
 * nothing is ever guessed.
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include "x86.h"
#include "irq.h"

#define PTE_P		BIT_ULL(0)
#define PTE_W		BIT_ULL(1)
#define PTE_U		BIT_ULL(2)
#define PTE_PS		BIT_ULL(7)
#define PTE_NX		BIT_ULL(63)
#define PTE_ADDR	GENMASK_ULL(51, 12)

#define PFERR_PRESENT	BIT(0)

static int mvm_read_pte(struct mvm_vcpu *vcpu, gpa_t gpa, u64 *pte, int size)
{
	*pte = 0;
	return mvm_read_guest(vcpu->mvm, gpa, pte, size) ? -EINVAL : 0;
}

/*
 * The access bits of a #PF error code.  I/D is reported only with SMEP or
 * with NX enabled under PAE or 4-level paging (SDM vol. 3A 4.7).
 */
static u32 mvm_pf_access_bits(u32 access, unsigned long cr4, u64 efer)
{
	if (!(cr4 & X86_CR4_SMEP) &&
	    !((cr4 & X86_CR4_PAE) && (efer & EFER_NX)))
		access &= ~MVM_ACC_FETCH;
	return access;
}

int mvm_gva_to_gpa(struct mvm_vcpu *vcpu, gva_t gva, u32 access,
		   gpa_t *gpa, u32 *pf_error)
{
	const struct mvm_x86_ops *ops = mvm_x86_ops;
	unsigned long cr0 = ops->get_cr(vcpu, 0), cr4, cr3;
	bool writable = true, user = true, nx = false;
	u64 efer, pte = 0, page_mask;
	int level, shift, r;
	gpa_t table;

	if (!(cr0 & X86_CR0_PG)) {
		*gpa = (u32)gva;
		return 0;
	}
	cr4 = ops->get_cr(vcpu, 4);
	cr3 = ops->get_cr(vcpu, 3);
	efer = ops->get_efer(vcpu);

	if (efer & EFER_LMA) {
		/* 4-level paging (SDM 4.5). */
		table = cr3 & PTE_ADDR;
		for (level = 4; level >= 1; level--) {
			shift = 12 + 9 * (level - 1);
			r = mvm_read_pte(vcpu, table + ((gva >> shift) & 511) * 8,
					 &pte, 8);
			if (r)
				return r;
			if (!(pte & PTE_P))
				goto not_present;
			writable &= !!(pte & PTE_W);
			user &= !!(pte & PTE_U);
			nx |= (efer & EFER_NX) && (pte & PTE_NX);
			if (level <= 3 && level > 1 && (pte & PTE_PS))
				break;
			table = pte & PTE_ADDR;
		}
	} else if (cr4 & X86_CR4_PAE) {
		/* PAE paging (SDM 4.4): PDPTE, PDE, PTE. */
		r = mvm_read_pte(vcpu, (cr3 & ~0x1fULL) + ((gva >> 30) & 3) * 8,
				 &pte, 8);
		if (r)
			return r;
		if (!(pte & PTE_P))
			goto not_present;
		table = pte & PTE_ADDR;
		for (level = 2; level >= 1; level--) {
			shift = 12 + 9 * (level - 1);
			r = mvm_read_pte(vcpu, table + ((gva >> shift) & 511) * 8,
					 &pte, 8);
			if (r)
				return r;
			if (!(pte & PTE_P))
				goto not_present;
			writable &= !!(pte & PTE_W);
			user &= !!(pte & PTE_U);
			nx |= (efer & EFER_NX) && (pte & PTE_NX);
			if (level == 2 && (pte & PTE_PS))
				break;
			table = pte & PTE_ADDR;
		}
	} else {
		/* 32-bit paging (SDM 4.3), 4 MiB pages with CR4.PSE. */
		table = cr3 & 0xfffff000;
		for (level = 2; level >= 1; level--) {
			shift = 12 + 10 * (level - 1);
			r = mvm_read_pte(vcpu, table + ((gva >> shift) & 1023) * 4,
					 &pte, 4);
			if (r)
				return r;
			if (!(pte & PTE_P))
				goto not_present;
			writable &= !!(pte & PTE_W);
			user &= !!(pte & PTE_U);
			if (level == 2 && (pte & PTE_PS) && (cr4 & X86_CR4_PSE)) {
				/* Bits 20:13 hold physical address bits 39:32. */
				pte = (pte & 0xffc00000) | ((pte & 0x1fe000) << 19);
				break;
			}
			table = pte & 0xfffff000;
		}
	}

	/* SDM 4.6: access rights. */
	if (((access & MVM_ACC_WRITE) && !writable &&
	     ((access & MVM_ACC_USER) || (cr0 & X86_CR0_WP))) ||
	    ((access & MVM_ACC_USER) && !user) ||
	    ((access & MVM_ACC_FETCH) && nx)) {
		*pf_error = PFERR_PRESENT | mvm_pf_access_bits(access, cr4, efer);
		return -EFAULT;
	}

	page_mask = (1ULL << shift) - 1;
	*gpa = ((pte & PTE_ADDR) & ~page_mask) | (gva & page_mask);
	if (!(efer & EFER_LMA) && !(cr4 & X86_CR4_PAE) && shift == 22)
		*gpa = (pte & ~page_mask) | (gva & page_mask);
	return 0;

not_present:
	*pf_error = mvm_pf_access_bits(access, cr4, efer);
	return -EFAULT;
}

static int mvm_access_guest_virt(struct mvm_vcpu *vcpu, gva_t gva, void *data,
				 unsigned int len, u32 access, u32 *pf_error,
				 bool write)
{
	while (len) {
		unsigned int n = min_t(unsigned int, len,
				       PAGE_SIZE - offset_in_page(gva));
		gpa_t gpa;
		int r;

		r = mvm_gva_to_gpa(vcpu, gva, access, &gpa, pf_error);
		if (r)
			return r;
		r = write ? mvm_write_guest(vcpu->mvm, gpa, data, n) :
			    mvm_read_guest(vcpu->mvm, gpa, data, n);
		if (r)
			return -EINVAL;
		gva += n;
		data += n;
		len -= n;
	}
	return 0;
}

int mvm_read_guest_virt(struct mvm_vcpu *vcpu, gva_t gva, void *data,
			unsigned int len, u32 access, u32 *pf_error)
{
	return mvm_access_guest_virt(vcpu, gva, data, len, access, pf_error,
				     false);
}

int mvm_write_guest_virt(struct mvm_vcpu *vcpu, gva_t gva, const void *data,
			 unsigned int len, u32 access, u32 *pf_error)
{
	return mvm_access_guest_virt(vcpu, gva, (void *)data, len,
				     access | MVM_ACC_WRITE, pf_error, true);
}

void mvm_inject_page_fault(struct mvm_vcpu *vcpu, gva_t gva, u32 pf_error)
{
	mvm_queue_exception_payload(vcpu, PF_VECTOR, true, pf_error, gva);
}

/* ------------------------------------------------------------------ */
/* Instruction fetch                                                    */

void mvm_insn_fetch_init(struct mvm_vcpu *vcpu, struct mvm_insn_fetch *f)
{
	const struct mvm_x86_ops *ops = mvm_x86_ops;
	struct kvm_segment cs;
	gva_t rip = mvm_rip_read(vcpu);

	ops->get_segment(vcpu, &cs, VCPU_SREG_CS);
	f->len = 0;
	f->mode64 = (ops->get_efer(vcpu) & EFER_LMA) && cs.l;
	f->def32 = f->mode64 || cs.db;
	f->linear = f->mode64 ? rip : (u32)(cs.base + rip);
	f->access = MVM_ACC_FETCH;
	if (cs.dpl == 3 && (ops->get_cr(vcpu, 0) & X86_CR0_PE))
		f->access |= MVM_ACC_USER;
}

/*
 * Fetch the next piece of the instruction at CS:RIP into f->bytes.  The
 * first call reads from RIP to the end of its page, at most 15 bytes; a
 * second call, made only when the decoder ran out of bytes, reads the rest
 * of the 15 from the next page.  So an instruction that ends before a hole
 * (a page outside every memslot, or not present in the guest's page
 * tables) is fetched without touching the hole, and no read is ever
 * longer than what is left of f->bytes.
 *
 * Returns 0; -EFAULT with #PF queued for the first byte of the piece when
 * the guest's page tables do not allow the fetch, as hardware reports it
 * (SDM vol. 3A 4.7: CR2 is the linear address that faulted); -EINVAL when
 * the piece cannot be read (outside every memslot, or the VMM unmapped
 * it); -ENODATA when all 15 bytes are already there.
 */
int mvm_fetch_insn(struct mvm_vcpu *vcpu, struct mvm_insn_fetch *f)
{
	gva_t addr = f->linear + f->len;
	unsigned int n;
	u32 pf_error;
	int r;

	if (f->len >= MVM_MAX_INSN_LEN)
		return -ENODATA;
	if (!f->mode64)
		addr = (u32)addr;
	n = min_t(unsigned int, MVM_MAX_INSN_LEN - f->len,
		  PAGE_SIZE - offset_in_page(addr));
	r = mvm_read_guest_virt(vcpu, addr, f->bytes + f->len, n, f->access,
				&pf_error);
	if (r == -EFAULT) {
		mvm_inject_page_fault(vcpu, addr, pf_error);
		return r;
	}
	if (r)
		return -EINVAL;
	f->len += n;
	return 0;
}

/* Byte @i of the instruction, fetching the next piece when it is needed. */
static int mvm_insn_byte(struct mvm_vcpu *vcpu, struct mvm_insn_fetch *f,
			 int i, u8 *b)
{
	int r;

	while (i >= f->len) {
		r = mvm_fetch_insn(vcpu, f);
		if (r)
			return r;
	}
	*b = f->bytes[i];
	return 0;
}

/*
 * MOV to/from CR or DR (0F 20-23 /r) at CS:RIP, for a vendor whose exit
 * information lacks the operands (SVM without decode assists).  The
 * register operand is always ModRM.rm, whatever mod says (SDM vol. 2,
 * MOV--Move to/from Control Registers).
 */
int mvm_decode_mov_cr_dr(struct mvm_vcpu *vcpu, int *creg, int *gpr,
			 int *len)
{
	struct mvm_insn_fetch f;
	u8 b, rex = 0;
	int i, r;

	mvm_insn_fetch_init(vcpu, &f);
	for (i = 0; ; i++) {
		r = mvm_insn_byte(vcpu, &f, i, &b);
		if (r)
			goto out;
		if (b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 ||
		    b == 0xf3 || b == 0x26 || b == 0x2e || b == 0x36 ||
		    b == 0x3e || b == 0x64 || b == 0x65) {
			rex = 0;	/* REX counts only right before 0F */
			continue;
		}
		if (f.mode64 && (b & 0xf0) == 0x40) {
			rex = b;
			continue;
		}
		break;
	}
	if (b != 0x0f)
		return -EINVAL;
	r = mvm_insn_byte(vcpu, &f, i + 1, &b);
	if (r)
		goto out;
	if (b < 0x20 || b > 0x23)
		return -EINVAL;
	r = mvm_insn_byte(vcpu, &f, i + 2, &b);
	if (r)
		goto out;
	*creg = ((b >> 3) & 7) | (rex & 4 ? 8 : 0);
	*gpr = (b & 7) | (rex & 1 ? 8 : 0);
	*len = i + 3;
	return 0;
out:
	/* A #PF was queued; or the bytes changed under us (another vCPU). */
	return r == -EFAULT ? 1 : -EINVAL;
}

/* ------------------------------------------------------------------ */
/* The MMIO decoder                                                     */

struct mvm_insn {
	u8 len;
	u8 op_size;		/* bytes moved to or from memory */
	u8 dst_size;		/* read: bytes written to the register */
	bool write;
	bool sign_extend;
	bool high_byte;		/* AH, CH, DH, BH */
	bool has_imm;
	u8 reg;
	u64 imm;
};

/*
 * Decode @insn (@avail bytes) for a CPU in the given mode.  Returns 0 and
 * fills @d, -ENODATA if the instruction goes on past @avail bytes, or
 * -EINVAL for anything outside the supported set.
 */
static int mvm_decode(const u8 *insn, int avail, bool mode64, bool def32,
		      struct mvm_insn *d)
{
	bool opsize = false, adsize = false, rex_w = false;
	int i = 0, rex = 0, op, mod, rm, addr_bytes, modrm_len, imm_len = 0;
	u8 modrm;

	memset(d, 0, sizeof(*d));
	/* Legacy prefixes (SDM vol. 2 2.1.1). */
	for (; i < avail; i++) {
		u8 b = insn[i];

		if (b == 0x66)
			opsize = true;
		else if (b == 0x67)
			adsize = true;
		else if (b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e ||
			 b == 0x64 || b == 0x65)
			continue;	/* segment: the fault gave us the GPA */
		else if (b == 0xf0 || b == 0xf2 || b == 0xf3)
			return -EINVAL;	/* LOCK/REP forms are not plain moves */
		else
			break;
	}
	if (mode64 && i < avail && (insn[i] & 0xf0) == 0x40)
		rex = insn[i++];
	rex_w = rex & 8;
	if (i >= avail)
		return -ENODATA;

	/* Operand size: REX.W, else 66 toggles the mode's default. */
	if (rex_w)
		d->op_size = 8;
	else
		d->op_size = (def32 ^ opsize) ? 4 : 2;
	addr_bytes = mode64 ? (adsize ? 4 : 8) : ((def32 ^ adsize) ? 4 : 2);

	op = insn[i++];
	if (op == 0x0f) {
		if (i >= avail)
			return -ENODATA;
		op = 0x0f00 | insn[i++];
	}

	switch (op) {
	case 0xa0: case 0xa1: case 0xa2: case 0xa3:
		/* MOV AL/eAX <-> moffs: no ModRM, an address-size offset. */
		d->write = op & 2;
		if (!(op & 1))
			d->op_size = 1;
		d->dst_size = d->op_size;
		d->reg = 0;
		d->len = i + addr_bytes;
		return d->len <= avail ? 0 : -ENODATA;
	case 0x88: case 0x89: case 0x8a: case 0x8b:
		d->write = !(op & 2);
		if (!(op & 1))
			d->op_size = 1;
		d->dst_size = d->op_size;
		break;
	case 0xc6: case 0xc7:
		d->write = true;
		d->has_imm = true;
		if (op == 0xc6)
			d->op_size = 1;
		imm_len = min_t(int, d->op_size, 4);
		break;
	case 0x0fb6: case 0x0fb7: case 0x0fbe: case 0x0fbf:
		d->dst_size = d->op_size;
		d->op_size = (op & 1) ? 2 : 1;
		d->sign_extend = op & 8;
		break;
	case 0x63:
		if (!mode64)
			return -EINVAL;	/* ARPL outside 64-bit mode */
		d->dst_size = d->op_size;
		d->op_size = 4;
		d->sign_extend = true;
		break;
	case 0x0fc3:
		d->write = true;
		if (d->op_size == 2)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}

	/* ModRM, SIB, displacement (SDM vol. 2 2.1.5). */
	if (i >= avail)
		return -ENODATA;
	modrm = insn[i++];
	mod = modrm >> 6;
	rm = modrm & 7;
	d->reg = ((modrm >> 3) & 7) | ((rex & 4) ? 8 : 0);
	if (mod == 3)
		return -EINVAL;		/* a register operand is not MMIO */
	if ((op == 0xc6 || op == 0xc7) && (d->reg & 7))
		return -EINVAL;		/* only /0 is MOV */
	modrm_len = 0;
	if (addr_bytes == 2) {
		if (mod == 1)
			modrm_len = 1;
		else if (mod == 2 || (mod == 0 && rm == 6))
			modrm_len = 2;
	} else {
		if (rm == 4) {
			if (i >= avail)
				return -ENODATA;
			if (mod == 0 && (insn[i] & 7) == 5)
				modrm_len = 4;
			i++;		/* SIB */
		}
		if (mod == 1)
			modrm_len = 1;
		else if (mod == 2 || (mod == 0 && rm == 5))
			modrm_len = 4;
	}
	i += modrm_len;

	if (d->has_imm) {
		int k;

		if (i + imm_len > avail)
			return -ENODATA;
		for (k = 0; k < imm_len; k++)
			d->imm |= (u64)insn[i + k] << (8 * k);
		/* imm32 is sign-extended to 64 bits with REX.W. */
		if (d->op_size == 8)
			d->imm = (s64)(s32)d->imm;
		i += imm_len;
	}

	/* Byte registers 4-7 without REX are AH, CH, DH, BH. */
	if ((op == 0x88 || op == 0x8a) && !rex && d->reg >= 4 && d->reg < 8) {
		d->high_byte = true;
		d->reg -= 4;
	}
	if (i > MVM_MAX_INSN_LEN)
		return -EINVAL;
	if (i > avail)
		return -ENODATA;
	d->len = i;
	return 0;
}

/* KVM_EXIT_INTERNAL_ERROR / EMULATION with the @len bytes fetched. */
void mvm_emulation_failure(struct mvm_vcpu *vcpu, const u8 *insn, int len)
{
	struct kvm_run *run = vcpu->run;

	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->emulation_failure.suberror = KVM_INTERNAL_ERROR_EMULATION;
	run->emulation_failure.flags =
		KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES;
	run->emulation_failure.insn_size = len;
	memset(run->emulation_failure.insn_bytes, 0,
	       sizeof(run->emulation_failure.insn_bytes));
	memcpy(run->emulation_failure.insn_bytes, insn, len);
	/* flags, then insn_size + insn_bytes in two u64s (api.rst). */
	run->emulation_failure.ndata = 3;
}

/* Write @size bytes of @val into GPR @reg with x86 partial-write rules. */
static void mvm_write_gpr(struct mvm_vcpu *vcpu, int reg, bool high_byte,
			  int size, u64 val)
{
	unsigned long old = mvm_register_read(vcpu, reg);

	switch (size) {
	case 1:
		if (high_byte)
			val = (old & ~0xff00UL) | ((val & 0xff) << 8);
		else
			val = (old & ~0xffUL) | (val & 0xff);
		break;
	case 2:
		val = (old & ~0xffffUL) | (val & 0xffff);
		break;
	case 4:
		val = (u32)val;		/* zero-extends (SDM vol. 1 3.4.1.1) */
		break;
	}
	mvm_register_write(vcpu, reg, val);
}

static int mvm_complete_mmio_read(struct mvm_vcpu *vcpu)
{
	struct mvm_mmio *m = &vcpu->arch.mmio;
	u64 val = 0;

	memcpy(&val, vcpu->run->mmio.data, m->len);
	if (m->sign_extend)
		val = m->len == 1 ? (s64)(s8)val :
		      m->len == 2 ? (s64)(s16)val : (s64)(s32)val;
	mvm_write_gpr(vcpu, m->reg & 15, m->reg & 0x80, m->dst_size, val);
	mvm_rip_write(vcpu, mvm_rip_read(vcpu) + m->insn_len);
	return 1;
}

/*
 * The local APIC's page, then the in-kernel bus (IOAPIC, ioeventfds):
 * 0 when one served the access (RIP advanced), 1 when it is userspace's.
 */
static int mvm_mmio_in_kernel(struct mvm_vcpu *vcpu, gpa_t gpa,
			      const struct mvm_insn *d)
{
	u64 val = 0;
	int r;

	if (d->write) {
		val = d->has_imm ? d->imm : mvm_register_read(vcpu, d->reg);
		if (d->high_byte)
			val >>= 8;
		r = -EOPNOTSUPP;
		if (mvm_lapic_in_kernel(vcpu))
			r = mvm_lapic_mmio_write(vcpu, gpa, d->op_size, &val);
		if (r)
			r = mvm_io_bus_write(vcpu, MVM_MMIO_BUS, gpa,
					     d->op_size, &val);
	} else {
		r = -EOPNOTSUPP;
		if (mvm_lapic_in_kernel(vcpu))
			r = mvm_lapic_mmio_read(vcpu, gpa, d->op_size, &val);
		if (r)
			r = mvm_io_bus_read(vcpu, MVM_MMIO_BUS, gpa,
					    d->op_size, &val);
		if (!r) {
			if (d->sign_extend)
				val = d->op_size == 1 ? (s64)(s8)val :
				      d->op_size == 2 ? (s64)(s16)val :
							(s64)(s32)val;
			mvm_write_gpr(vcpu, d->reg, d->high_byte,
				      d->dst_size, val);
		}
	}
	if (r)
		return 1;
	mvm_rip_write(vcpu, mvm_rip_read(vcpu) + d->len);
	return 0;
}

int mvm_emulate_mmio(struct mvm_vcpu *vcpu, gpa_t gpa, bool write)
{
	struct kvm_run *run = vcpu->run;
	struct mvm_insn_fetch f;
	struct mvm_insn d;
	int r;

	mvm_insn_fetch_init(vcpu, &f);
	do {
		r = mvm_fetch_insn(vcpu, &f);
		if (r == -EFAULT)
			return 1;	/* #PF queued */
		if (r)
			break;
		r = mvm_decode(f.bytes, f.len, f.mode64, f.def32, &d);
	} while (r == -ENODATA);

	if (r || d.write != write) {
		mvm_emulation_failure(vcpu, f.bytes, f.len);
		return 0;
	}

	if (!mvm_mmio_in_kernel(vcpu, gpa, &d))
		return 1;

	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = d.op_size;
	run->mmio.is_write = d.write;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	vcpu->stat.mmio_exits++;

	if (d.write) {
		u64 val = d.has_imm ? d.imm : mvm_register_read(vcpu, d.reg);

		if (d.high_byte)
			val >>= 8;
		memcpy(run->mmio.data, &val, d.op_size);
		/* The store is done as far as the guest can tell. */
		mvm_rip_write(vcpu, mvm_rip_read(vcpu) + d.len);
		return 0;
	}

	vcpu->arch.mmio.gpa = gpa;
	vcpu->arch.mmio.len = d.op_size;
	vcpu->arch.mmio.write = false;
	vcpu->arch.mmio.reg = d.reg | (d.high_byte ? 0x80 : 0);
	vcpu->arch.mmio.dst_size = d.dst_size;
	vcpu->arch.mmio.sign_extend = d.sign_extend;
	vcpu->arch.mmio.insn_len = d.len;
	vcpu->arch.complete_userspace_io = mvm_complete_mmio_read;
	return 0;
}
