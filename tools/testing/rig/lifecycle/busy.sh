# SPDX-License-Identifier: GPL-2.0
# The module cannot go while an fd is open: the device fd, a VM fd held
# by a running process.
fail() { echo "not ok: $*"; exit 1; }

insmod "$MVM_KO" || fail insmod
exec 3</dev/mvm
rmmod mvm 2>/dev/null && fail "rmmod succeeded with /dev/mvm open"
exec 3<&-
rmmod mvm || fail "rmmod after close"
echo "ok: rmmod refused while /dev/mvm is open"
