/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mvm tracepoints: one on every VM entry and one on every VM exit.
 *
 *   echo 1 > /sys/kernel/tracing/events/mvm/enable
 *   cat /sys/kernel/tracing/trace_pipe
 *
 * The exit reason and exit information are the vendor's own: the VMX
 * basic exit reason with the exit qualification and the interruption
 * information, or the SVM exit code with EXITINFO1 and EXITINFO2.
 *
 * mvm_map_leaf: a nested page fault installed a leaf (mmu.c): its first
 * gfn, its level (1: 4 KiB, 2: 2 MiB, 3: 1 GiB) and whether it is
 * writable.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM mvm

#if !defined(_MVM_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _MVM_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(mvm_entry,
	TP_PROTO(struct mvm_vcpu *vcpu),
	TP_ARGS(vcpu),

	TP_STRUCT__entry(
		__field(u32, vcpu_id)
		__field(u64, rip)
	),

	TP_fast_assign(
		__entry->vcpu_id = vcpu->vcpu_id;
		__entry->rip = mvm_rip_read(vcpu);
	),

	TP_printk("vcpu %u rip 0x%llx", __entry->vcpu_id, __entry->rip)
);

TRACE_EVENT(mvm_exit,
	TP_PROTO(struct mvm_vcpu *vcpu, const char *isa, u64 reason,
		 u64 info1, u64 info2),
	TP_ARGS(vcpu, isa, reason, info1, info2),

	TP_STRUCT__entry(
		__field(u32, vcpu_id)
		__field(const char *, isa)
		__field(u64, reason)
		__field(u64, rip)
		__field(u64, info1)
		__field(u64, info2)
	),

	TP_fast_assign(
		__entry->vcpu_id = vcpu->vcpu_id;
		__entry->isa = isa;
		__entry->reason = reason;
		__entry->rip = mvm_rip_read(vcpu);
		__entry->info1 = info1;
		__entry->info2 = info2;
	),

	TP_printk("vcpu %u %s reason 0x%llx rip 0x%llx info 0x%llx 0x%llx",
		  __entry->vcpu_id, __entry->isa, __entry->reason,
		  __entry->rip, __entry->info1, __entry->info2)
);

TRACE_EVENT(mvm_map_leaf,
	TP_PROTO(struct mvm *mvm, u64 gfn, int level, bool writable),
	TP_ARGS(mvm, gfn, level, writable),

	TP_STRUCT__entry(
		__field(u64, gfn)
		__field(int, level)
		__field(bool, writable)
	),

	TP_fast_assign(
		__entry->gfn = gfn;
		__entry->level = level;
		__entry->writable = writable;
	),

	TP_printk("gfn 0x%llx level %d %s", __entry->gfn, __entry->level,
		  __entry->writable ? "rw" : "ro")
);

#endif /* _MVM_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
