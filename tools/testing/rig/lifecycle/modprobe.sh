# SPDX-License-Identifier: GPL-2.0
# The mvm-dkms package as a user's machine has it: pkg-check.sh installed
# it with dpkg in a throwaway root of the build machine, where its
# postinst had DKMS build and install mvm.ko for this kernel; /pkg holds
# what that left (the module where DKMS put it, depmod's index, the udev
# rule, the modprobe configuration) and Debian's modprobe.  Only in the
# boots of a make check that ran pkg-check.sh (MVMRIG_PKG_ROOT).
fail() { echo "not ok: $*"; exit 1; }

k=$(uname -r)
[ -d /pkg ] || fail "no /pkg in this initramfs"
for f in /lib/udev/rules.d/65-mvm.rules /etc/modprobe.d/mvm.conf; do
	[ -f "/pkg$f" ] || fail "no $f"
	echo "ok: $f"
done
ls /pkg/lib/modules/"$k"/updates/dkms/mvm.ko* || fail "DKMS installed no mvm.ko for $k"
mkdir -p /pkg/proc /pkg/sys /pkg/dev
mount -t proc proc /pkg/proc && mount -o bind /sys /pkg/sys &&
	mount -o bind /dev /pkg/dev || fail "mounts"
pm() { chroot /pkg /sbin/modprobe "$@"; }
r=0
if pm mvm; then
	grep -q '^mvm ' /proc/modules && [ -c /dev/mvm ] &&
		/mvm-vmm -d /dev/mvm /hello.bin >/dev/null && echo "ok: modprobe mvm, /dev/mvm runs a guest" ||
		{ echo "not ok: modprobe mvm: no module or no working /dev/mvm"; r=1; }
	pm -r mvm || { echo "not ok: modprobe -r mvm"; r=1; }
else
	echo "not ok: modprobe mvm"; r=1
fi
if pm mvm devname=kvm; then
	[ -c /dev/kvm ] && echo "ok: modprobe mvm devname=kvm serves /dev/kvm" ||
		{ echo "not ok: no /dev/kvm"; r=1; }
	pm -r mvm || { echo "not ok: modprobe -r mvm"; r=1; }
else
	echo "not ok: modprobe mvm devname=kvm"; r=1
fi
grep -q '^mvm ' /proc/modules && { echo "not ok: mvm still loaded"; r=1; }
umount /pkg/dev /pkg/sys /pkg/proc
exit $r
