# SPDX-License-Identifier: GPL-2.0
# mvm and KVM loaded together: one hypervisor's live VM makes the other's
# KVM_CREATE_VM fail with EBUSY, and they work one after the other.
fail() { echo "not ok: $*"; exit 1; }

eval "$MVM_KVM_LOAD" || fail "loading kvm"
insmod "$MVM_KO" || fail "insmod mvm with kvm loaded"
/coexist /dev/mvm /dev/kvm || fail "mvm first"
/coexist /dev/kvm /dev/mvm || fail "kvm first"
/mvm-vmm -d /dev/mvm /hello.bin >/dev/null || fail "mvm guest after kvm"
/mvm-vmm -d /dev/kvm /hello.bin >/dev/null || fail "kvm guest after mvm"
rmmod mvm || fail "rmmod mvm"
eval "$MVM_KVM_UNLOAD"
echo "ok: coexistence"
