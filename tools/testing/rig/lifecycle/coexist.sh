# SPDX-License-Identifier: GPL-2.0
# mvm and KVM loaded together: one hypervisor's live VM makes the other's
# KVM_CREATE_VM fail with EBUSY, and they work one after the other.
#
# Since Linux 6.12 KVM turns VT-x/AMD-V on when kvm_intel/kvm_amd load, not
# with its first VM (kvm.enable_virt_at_load, on by default): then mvm can
# have no VM at all while KVM is loaded (EBUSY), which is checked first;
# the sharing needs kvm.enable_virt_at_load=0 there, and KVM's refusal
# while mvm has a VM is EIO there (its kvm_enable_virtualization_cpu()).
# A failure unloads both, so that the next script starts clean.
fail() {
	echo "not ok: $*"
	rmmod mvm 2>/dev/null
	eval "$MVM_KVM_UNLOAD" 2>/dev/null
	exit 1
}

kvm_load=$MVM_KVM_LOAD
kvm_refusal=
if grep -aq enable_virt_at_load /m/kvm.ko; then
	eval "$MVM_KVM_LOAD" || fail "loading kvm"
	insmod "$MVM_KO" || fail "insmod mvm with kvm loaded"
	/coexist -busy /dev/mvm || fail "mvm with KVM's virtualization on at load"
	/mvm-vmm -d /dev/kvm /hello.bin >/dev/null || fail "kvm guest with mvm loaded"
	rmmod mvm || fail "rmmod mvm"
	eval "$MVM_KVM_UNLOAD"
	kvm_load=$(echo "$MVM_KVM_LOAD" | sed 's|/kvm\.ko|/kvm.ko enable_virt_at_load=0|')
	kvm_refusal=EIO
	echo "ok: KVM enables virtualization at load; now with enable_virt_at_load=0"
fi

eval "$kvm_load" || fail "loading kvm"
insmod "$MVM_KO" || fail "insmod mvm with kvm loaded"
/coexist /dev/mvm /dev/kvm $kvm_refusal || fail "mvm first"
/coexist /dev/kvm /dev/mvm || fail "kvm first"
/mvm-vmm -d /dev/mvm /hello.bin >/dev/null || fail "mvm guest after kvm"
/mvm-vmm -d /dev/kvm /hello.bin >/dev/null || fail "kvm guest after mvm"
rmmod mvm || fail "rmmod mvm"
eval "$MVM_KVM_UNLOAD"
echo "ok: coexistence"
