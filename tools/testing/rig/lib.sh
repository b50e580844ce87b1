# SPDX-License-Identifier: GPL-2.0
# Shared by the rig scripts: where things are.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
RIG=$TOP/tools/testing/rig
OUT=$TOP/build/rig

# The Debian cloud kernel we boot and build for: KVER (a release), else
# MVMRIG_KERNEL (a series, kver.sh: 6.1 by default, or 6.12).
KVER=${KVER:-$("$RIG/kver.sh" "${MVMRIG_KERNEL:-6.1}")}
KSERIES=$(echo "$KVER" | sed -n 's/^\([0-9]*\.[0-9]*\).*/\1/p')
VMLINUZ=/boot/vmlinuz-$KVER
MODDIR=/lib/modules/$KVER/kernel
# That kernel's mvm.ko, initramfs and ISOs (module.sh, build.sh).
KOUT=$OUT/$KVER

# One 1 GiB hugetlbfs page, reserved at boot, for huge_leaf_test's 1 GiB
# nested leaves: at run time a gigantic page needs a free, 1 GiB-aligned
# GiB, which the test kernel rarely has (always failed here, 2026-11-30).
# It needs RAM beyond what the other tests use (boot.sh): with 2 GiB the
# firmware's tables at the top of RAM leave no 1 GiB-aligned GiB free;
# the kernel's KASLR keeps its image out of the GiBs this reserves.
# Test boots only: make bench and make run keep the 2 GiB machine their
# figures were measured on (the larger one moved the example VMM's boot
# rows under Bochs, e.g. its guest uptime 1.05x -> 1.34x KVM, both sides
# shifting with the layout, not the code).
giant_append() {	# $1: mode
	[ "$1" = tests ] && echo "hugepagesz=1G hugepages=1"
}

die() { echo "rig: $*" >&2; exit 1; }
