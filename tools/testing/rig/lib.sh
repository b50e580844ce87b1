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

die() { echo "rig: $*" >&2; exit 1; }
