# SPDX-License-Identifier: GPL-2.0
# Shared by the rig scripts: where things are.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
RIG=$TOP/tools/testing/rig
OUT=$TOP/build/rig

# The newest installed Debian cloud kernel: the one we boot and build for.
KVER=$(ls -d /usr/src/linux-headers-*-cloud-amd64 2>/dev/null |
	sed 's|.*/linux-headers-||' | sort -V | tail -n 1)
VMLINUZ=/boot/vmlinuz-$KVER
MODDIR=/lib/modules/$KVER/kernel

die() { echo "rig: $*" >&2; exit 1; }
