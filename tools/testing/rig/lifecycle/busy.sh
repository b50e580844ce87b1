# SPDX-License-Identifier: GPL-2.0
# The module cannot go while an fd is open: the device fd, then a VM fd
# (or a vCPU fd) held by a running process after it closed every other fd.
fail() { echo "not ok: $*"; exit 1; }

insmod "$MVM_KO" || fail insmod
exec 3</dev/mvm
rmmod mvm 2>/dev/null && fail "rmmod succeeded with /dev/mvm open"
exec 3<&-
echo "ok: rmmod refused while /dev/mvm is open"

# holdfd keeps the fd until its stdin, a FIFO we hold open, ends.
for kind in vm vcpu; do
	rm -f /tmp/holdfd.in /tmp/holdfd.out
	mkfifo /tmp/holdfd.in || fail mkfifo
	/holdfd /dev/mvm $kind </tmp/holdfd.in >/tmp/holdfd.out 2>&1 &
	pid=$!
	exec 4>/tmp/holdfd.in
	i=0
	until grep -q ready /tmp/holdfd.out; do
		kill -0 $pid 2>/dev/null || fail "holdfd $kind: $(cat /tmp/holdfd.out)"
		i=$((i + 1))
		[ $i -lt 100 ] || fail "holdfd $kind not ready"
		sleep 0.1
	done
	rmmod mvm 2>/dev/null && fail "rmmod succeeded with only a $kind fd open"
	echo "ok: rmmod refused while only a $kind fd is open"
	exec 4>&-
	wait $pid || fail "holdfd $kind exited $?"
done
rm -f /tmp/holdfd.in /tmp/holdfd.out
rmmod mvm || fail "rmmod after close"
echo "ok: rmmod after every fd is closed"
