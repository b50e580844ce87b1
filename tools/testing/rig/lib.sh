# SPDX-License-Identifier: GPL-2.0
# Shared by the rig scripts: where things are.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
RIG=$TOP/tools/testing/rig
OUT=$TOP/build/rig

# The Debian cloud kernel we boot and build for (kver.sh says which).
KVER=${KVER:-$("$RIG/kver.sh")}
VMLINUZ=/boot/vmlinuz-$KVER
MODDIR=/lib/modules/$KVER/kernel

die() { echo "rig: $*" >&2; exit 1; }
