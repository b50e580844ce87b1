# SPDX-License-Identifier: GPL-2.0
#
# Turn the rig's serial logs into results.  Input: the logs, each preceded
# by a line "@@file <vendor> <mode> <kernel series>" (check.sh adds it).
# Output: one line per result, "R <config> <row> <PASS|FAIL|SKIP> <detail>",
# where config is vendor/phase@kernel and row is a test program (or
# life-cycle script).  The packaging checks (pkg-check.sh) come as
# vendor "pkg", kernel "host".
# kvm-skips.txt entries ("prog" or "prog:test") may SKIP under KVM.

function result(cfg, row, res, detail) {
	print "R", cfg, row, res, detail
}

FILENAME ~ /kvm-skips.txt$/ { if ($0 !~ /^#/ && NF) allowed[$1] = 1; next }
# kernel-skips.txt: "<series> prog:test <why>": may SKIP on that kernel,
# KVM and mvm alike (a kernel lacks what the test needs).
FILENAME ~ /kernel-skips.txt$/ { if ($0 !~ /^#/ && NF) kallowed[$1, $2] = 1; next }

/^@@file / {
	flush_file()
	vendor = $2; mode = $3; kern = $4; done = 0; seen_any = 0
	delete started; delete rcs; delete tap
	next
}

# Strip anything before "@@ " (console noise) and the CR of serial lines.
{ sub(/\r$/, ""); i = index($0, "@@ "); if (!i) next; line = substr($0, i + 3) }

line ~ /^done$/ { done = 1; next }
line ~ /^la57 / { la57 = (line == "la57 on"); next }
line ~ /^rig timeout/ { timeout_msg = line; next }

mode == "negative" {
	if (line ~ /^negative insmod rc=/) { neg_rc = substr(line, 21) + 0; neg_seen = 1 }
	if (line ~ /CPU has neither VT-x nor AMD-V/) neg_msg = 1
	next
}

{
	split(line, w, " ")
	phase = w[1]; prog = w[2]; cfg = vendor "/" phase "@" kern
	seen_any = 1
}

w[2] == "phase-skipped" { result(cfg, "(phase)", "FAIL", "phase skipped by MVMRIG_PHASES"); next }
w[2] == "load-failed" { result(cfg, "(module-load)", "FAIL", "could not load the " phase " modules"); next }
w[2] == "rmmod-failed" { result(cfg, "(module-unload)", "FAIL", "rmmod " phase " failed"); next }
w[2] == "dmesg" {
	if (w[3] == "ok") result(cfg, "(dmesg-clean)", "PASS", "")
	else if (w[3] == "not") result(cfg, "(dmesg-clean)", "FAIL", "oops/WARN/BUG in the guest log")
	else if (w[3] == "dmesg-log") print "L", cfg, line
	next
}
w[2] == "dmesg-log" { print "L", cfg, line; next }
w[3] == "start" { started[cfg SUBSEP prog] = 1; next }
w[3] ~ /^rc=/ {
	rc = substr(w[3], 4) + 0
	key = cfg SUBSEP prog
	if (prog ~ /\.sh$/ || !(key in tap)) {
		if (rc == 0) result(cfg, prog, "PASS", "")
		else if (rc == 4 && prog ~ /\.sh$/) skip(cfg, prog, prog, "exit 4")
		else result(cfg, prog, "FAIL", rc == 124 || rc == 143 ? "timed out" : "exit " rc)
	} else if (rc != 0 && !(key in failed)) {
		result(cfg, prog, "FAIL", "exit " rc " (" (rc == 124 ? "timed out" : "crashed or failed") ")")
	}
	delete started[key]
	next
}
w[3] == "|" {
	text = line; sub(/^[^|]*\| /, "", text)
	print "O", cfg, prog, text
	# init names the test during which the kernel log got an oops/WARN.
	if (text ~ /^kernel log complained during this test/) {
		result(cfg, prog, "FAIL", "kernel log complained during this test")
		failed[cfg SUBSEP prog] = 1
		next
	}
	if (prog ~ /\.sh$/) next
	# The harness names a test on its RUN line; a SKIP's "ok" line may not.
	if (text ~ /^#  RUN /) {
		current = text; sub(/^#  RUN +/, "", current); sub(/ \.\.\.$/, "", current)
		sub(/^[^.]*\./, "", current)
		next
	}
	if (text ~ /^(not )?ok [0-9]+ /) {
		key = cfg SUBSEP prog; tap[key] = 1
		name = text; sub(/^(not )?ok [0-9]+ /, "", name); sub(/ #.*/, "", name)
		if (name == "") name = current
		if (text ~ /# SKIP/) skip(cfg, prog, prog ":" current, text)
		else if (text ~ /^ok/) result(cfg, prog, "PASS", name)
		else { result(cfg, prog, "FAIL", name); failed[key] = 1 }
	}
	next
}

function skip(cfg, prog, what, why) {
	if (cfg ~ /\/kvm@/ && (allowed[prog] || allowed[what]))
		result(cfg, prog, "SKIP", what)
	else if (kallowed[kern, prog] || kallowed[kern, what])
		result(cfg, prog, "SKIP", what " (kernel-skips.txt)")
	else
		result(cfg, prog, "FAIL", "skipped where it must run: " what)
}

function flush_file() {
	if (vendor == "") return
	if (mode == "negative") {
		if (!neg_seen) result("novirt/insmod@" kern, "(refuses-to-load)", "FAIL", "no result: boot failed " timeout_msg)
		else if (neg_rc == 0) result("novirt/insmod@" kern, "(refuses-to-load)", "FAIL", "insmod succeeded")
		else if (!neg_msg) result("novirt/insmod@" kern, "(refuses-to-load)", "FAIL", "no 'CPU has neither VT-x nor AMD-V' line")
		else result("novirt/insmod@" kern, "(refuses-to-load)", "PASS", "")
	} else {
		for (k in started) { split(k, p, SUBSEP); result(p[1], p[2], "FAIL", "never finished (guest died?)") }
		if (!done) result(vendor "/boot@" kern, "(boot)", "FAIL", timeout_msg ? timeout_msg : "the guest never reached the end of /init")
		# svm57: the host kernel must really run with 5-level paging.
		if (vendor ~ /57$/)
			result(vendor "/boot@" kern, "(la57)", la57 ? "PASS" : "FAIL", la57 ? "" : "the host kernel does not use 5-level paging")
	}
	vendor = ""; timeout_msg = ""; neg_seen = 0; neg_msg = 0; la57 = 0
}

END { flush_file() }
