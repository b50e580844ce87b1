#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kver.sh [SERIES]: the Debian cloud kernel release of a kernel series the
# rig builds for and boots.
#   6.1 (the default): the release linux-headers-cloud-amd64 depends on
#        (bookworm's own series), never merely the newest headers
#        installed, so a machine that also has 6.12 headers still builds
#        and tests this one by default;
#   6.12: the release linux-headers-6.12-cloud-amd64 depends on
#        (bookworm-backports' series, as bookworm-security ships it).
#   all: both, one a line, 6.1 first.
# Without the meta-package, the newest installed headers of that series.
series=${1:-6.1}
if [ "$series" = all ]; then
	"$0" 6.1
	"$0" 6.12
	exit
fi
case "$series" in
6.1)	meta=linux-headers-cloud-amd64 ;;
*)	meta=linux-headers-$series-cloud-amd64 ;;
esac
rel=$(dpkg-query -W -f='${Depends}' "$meta" 2>/dev/null |
	sed -n 's/^linux-headers-\([^ ,]*\).*/\1/p')
case "$rel" in
"$series".*) ;;
*)	rel=$(ls -d /usr/src/linux-headers-"$series".*-cloud-amd64 2>/dev/null |
		sed 's|.*/linux-headers-||' | sort -V | tail -n 1) ;;
esac
echo "$rel"
