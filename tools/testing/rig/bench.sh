#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: tools/mvm-bench against Debian's KVM and against mvm in the
# same boot, under Bochs (VT-x; instruction-counted time, so its figures
# repeat exactly) and QEMU TCG (AMD-V; wall-clock, so the median of
# MVMRIG_BENCH_ROUNDS runs, 3 by default).  Prints one table per vendor.
# The AMD-V boot also times unmodified QEMU booting Debian's kernel as a
# nested guest (-smp 1) on each: the guest's uptime at its /init, and
# QEMU's whole run by the host's clock.
set -u
. "$(dirname "$0")/lib.sh"

# MVMRIG_BENCH_CONFIGS="svm" runs one leg only.
configs=" ${MVMRIG_BENCH_CONFIGS:-vmx svm} "

"$RIG/build.sh" >/dev/null || die "build failed"
case $configs in *" vmx "*)
	MVMRIG_BOOT_TIMEOUT=3000 "$RIG/boot.sh" vmx bench "$OUT/bench-vmx.log" & ;;
esac
case $configs in *" svm "*)
	MVMRIG_BENCH_ROUNDS=${MVMRIG_BENCH_ROUNDS:-3} MVMRIG_BOOT_TIMEOUT=3000 \
		"$RIG/boot.sh" svm bench "$OUT/bench-svm.log" & ;;
esac
wait

table() {	# $1: log, $2: title
	echo
	echo "$2"
	tr -d '\r' < "$1" | grep -o '@@ bench .*' | sed 's/^@@ bench //' | awk -F'\t' '
	{
		split($1, w, " ")	# impl round
		key = $2
		if (!(key in seen)) { seen[key] = 1; order[++n] = key }
		v[w[1], key, ++c[w[1], key]] = $3
	}
	function median(impl, key,   k, i, j, t, a) {
		k = c[impl, key]
		if (!k) return -1
		for (i = 1; i <= k; i++) a[i] = v[impl, key, i] + 0
		for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
			if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return a[int((k + 1) / 2)]
	}
	END {
		printf "  %-34s %14s %14s %8s\n", "operation (ns)", "KVM", "mvm", "mvm/KVM"
		for (i = 1; i <= n; i++) {
			kv = median("kvm", order[i]); mv = median("mvm", order[i])
			# Rows in seconds (the nested boot) get decimals; a row
			# one side never printed (a failed boot) shows "-".
			f = (order[i] ~ /\(s\)$/) ? "%.2f" : "%.0f"
			printf "  %-34s %14s %14s %8s\n", order[i],
			       (kv >= 0 ? sprintf(f, kv) : "-"), (mv >= 0 ? sprintf(f, mv) : "-"),
			       (kv > 0 && mv >= 0) ? sprintf("%.2f", mv / kv) : "-"
		}
	}'
	tr -d '\r' < "$1" | grep -o '@@ bench-note .*' | sort -u | sed 's/^@@ bench-note /  note: /'
}
case $configs in *" vmx "*)
	table "$OUT/bench-vmx.log" "VT-x under Bochs (instruction-counted, exact):" ;;
esac
case $configs in *" svm "*)
	table "$OUT/bench-svm.log" "AMD-V under QEMU TCG (wall clock, median of ${MVMRIG_BENCH_ROUNDS:-3} runs):" ;;
esac
