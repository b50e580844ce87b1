# SPDX-License-Identifier: GPL-2.0
# devname=kvm serves /dev/kvm; a clash with KVM's own /dev/kvm fails
# cleanly with EBUSY and one log line.
fail() { echo "not ok: $*"; exit 1; }

insmod "$MVM_KO" devname=kvm || fail "insmod devname=kvm"
[ -c /dev/kvm ] || fail "no /dev/kvm"
/mvm-vmm -d /dev/kvm /hello.bin || fail "guest on /dev/kvm (mvm)"
rmmod mvm || fail "rmmod"
echo "ok: devname=kvm serves /dev/kvm"

eval "$MVM_KVM_LOAD" || fail "loading kvm"
dmesg -c >/dev/null
if insmod "$MVM_KO" devname=kvm 2>/tmp/err; then
	rmmod mvm
	fail "insmod devname=kvm succeeded while kvm holds /dev/kvm"
fi
cat /tmp/err
grep -q "Device or resource busy" /tmp/err || fail "not EBUSY"
dmesg | grep -q "mvm: /dev/kvm is taken" || fail "no log line"
eval "$MVM_KVM_UNLOAD"
echo "ok: devname clash refused with EBUSY"

insmod "$MVM_KO" devname=a/b 2>/dev/null && { rmmod mvm; fail "bad devname accepted"; }
echo "ok: bad devname refused"
