#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Prints the kernel release mvm builds for and the rig boots by default: the
# one Debian's linux-headers-cloud-amd64 meta-package depends on (bookworm's
# 6.1 series), never merely the newest headers installed, so a machine that
# also has 6.12 headers still builds and tests the kernel the rig boots.
rel=$(dpkg-query -W -f='${Depends}' linux-headers-cloud-amd64 2>/dev/null |
	sed -n 's/^linux-headers-\([^ ,]*\).*/\1/p')
if [ -z "$rel" ]; then
	rel=$(ls -d /usr/src/linux-headers-*-cloud-amd64 2>/dev/null |
		sed 's|.*/linux-headers-||' | sort -V | tail -n 1)
fi
echo "$rel"
