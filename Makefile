# SPDX-License-Identifier: GPL-2.0
#
# Top-level Makefile for mvm.
#
#   make              build mvm.ko against KDIR
#   make run          build and run the example in nested QEMU (installs what it needs);
#                     VENDOR=intel runs it under Bochs' VT-x
#   make check        the whole test suite: AMD-V under QEMU, VT-x under Bochs,
#                     each against mvm and against Debian's KVM
#   make bench        tools/mvm-bench against KVM and mvm, both vendors
#   make clean
#
# KDIR defaults to the Debian cloud kernel the nested test rig boots
# (tools/testing/rig/kver.sh: the one linux-headers-cloud-amd64 depends on).
# On a real host:
#   make KDIR=/lib/modules/$(uname -r)/build

KVER ?= $(shell tools/testing/rig/kver.sh)
KDIR ?= /lib/modules/$(KVER)/build

PWD := $(shell pwd)

.PHONY: all modules clean check run deps bench

all: modules

modules:
	@if [ ! -d "$(KDIR)" ]; then \
		echo "mvm: no kernel build tree at '$(KDIR)'; run 'make deps' or pass KDIR=" >&2; \
		exit 1; \
	fi
	$(MAKE) -C $(KDIR) M=$(PWD) modules

clean:
	@if [ -d "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(PWD) clean; fi
	$(MAKE) -C tools/testing/selftests/mvm clean
	rm -rf build

deps:
	tools/testing/rig/deps.sh

check: deps
	$(MAKE) modules
	tools/testing/rig/check.sh

bench: deps
	$(MAKE) modules
	tools/testing/rig/bench.sh

# make run VENDOR=intel runs the example under Bochs' VT-x instead of
# QEMU's AMD-V.
VENDOR ?= amd
run: deps
	$(MAKE) modules
	MVMRIG_RUN_CONFIG=$(if $(filter intel vmx,$(VENDOR)),vmx,svm) \
		tools/testing/rig/run.sh
