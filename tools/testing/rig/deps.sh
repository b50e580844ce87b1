#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what `make check` and `make run` need on a Debian 12 machine,
# only what is missing.
set -e

pkgs="qemu-system-x86 bochs bochsbios vgabios bochs-term linux-image-cloud-amd64
linux-headers-cloud-amd64 busybox-static cpio xorriso isolinux syslinux-common
linux-source-6.1 gcc make"

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "rig: installing:$missing"
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $missing
