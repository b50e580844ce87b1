# SPDX-License-Identifier: GPL-2.0
# insmod/rmmod mvm.ko 100 times, creating and running a VM every tenth
# time: no growth in slab or vmalloc use beyond noise.
fail() { echo "not ok: $*"; exit 1; }
meminfo() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }

cycle() {
	insmod "$MVM_KO" || fail "insmod #$1"
	if [ $(($1 % 10)) = 0 ]; then
		/mvm-vmm -d /dev/mvm /hello.bin >/dev/null 2>&1 || fail "guest run #$1"
	fi
	rmmod mvm || fail "rmmod #$1"
}

for i in 1 2 3; do cycle 10; done	# warm up caches
sync; echo 3 > /proc/sys/vm/drop_caches
slab0=$(meminfo Slab); vm0=$(meminfo VmallocUsed)
i=1
while [ $i -le 100 ]; do cycle $i; i=$((i + 1)); done
sync; echo 3 > /proc/sys/vm/drop_caches
slab1=$(meminfo Slab); vm1=$(meminfo VmallocUsed)
echo "Slab ${slab0} -> ${slab1} kB, VmallocUsed ${vm0} -> ${vm1} kB"
[ $((slab1 - slab0)) -lt 1024 ] || fail "slab grew by $((slab1 - slab0)) kB"
[ $((vm1 - vm0)) -lt 1024 ] || fail "vmalloc grew by $((vm1 - vm0)) kB"
echo "ok: 100 load/unload cycles"
