# SPDX-License-Identifier: GPL-2.0
#
# Top-level Makefile for mvm.
#
#   make              build mvm.ko against KDIR
#   make run          build and run the example in nested QEMU (installs what it needs);
#                     VENDOR=intel runs it under Bochs' VT-x
#   make check        the whole test suite: AMD-V under QEMU, VT-x under Bochs,
#                     each against mvm and against Debian's KVM, on Debian's
#                     6.1 and 6.12 cloud kernels (VT-x: 6.1 only, mvm only),
#                     and the packaging checks
#   make check-all    make check with the VT-x leg on both kernels, against
#                     KVM too
#   make install      install mvm.ko for KVER, the udev rule and the modprobe
#                     configuration (DESTDIR= for staging); make uninstall
#   make dkms-deb     build/deb/mvm-dkms_<version>_all.deb: DKMS source package
#   make bench        tools/mvm-bench against KVM and mvm, both vendors
#   make clean
#
# KDIR defaults to the Debian cloud kernel the nested test rig boots
# (tools/testing/rig/kver.sh: the one linux-headers-cloud-amd64 depends on).
# On a real host:
#   make KVER=$(uname -r)            (and: sudo make install KVER=$(uname -r))

KVER ?= $(shell tools/testing/rig/kver.sh)
KDIR ?= /lib/modules/$(KVER)/build
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)

PWD := $(shell pwd)

.PHONY: all modules clean check check-all run deps bench install uninstall dkms-deb

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

check-all: deps
	$(MAKE) modules
	MVMRIG_VMX_KERNELS="6.1 6.12" MVMRIG_SVM57_KERNELS="6.1 6.12" MVMRIG_VMX_KVM=1 \
		MVMRIG_APPEND="MVMRIG_KVM612_BOOTS=1 $(MVMRIG_APPEND)" \
		tools/testing/rig/check.sh

# A source install for one kernel (KVER); DKMS (make dkms-deb) rebuilds for
# every kernel instead.  Files under /etc: a package's go to /lib.
MODDEST := $(DESTDIR)/lib/modules/$(KVER)/updates
install: modules
	install -D -m 0644 mvm.ko $(MODDEST)/mvm.ko
	install -D -m 0644 packaging/65-mvm.rules $(DESTDIR)/etc/udev/rules.d/65-mvm.rules
	install -D -m 0644 packaging/mvm.conf $(DESTDIR)/etc/modprobe.d/mvm.conf
	$(if $(DESTDIR),,depmod -a $(KVER))
	$(if $(DESTDIR),,-udevadm control --reload)

uninstall:
	rm -f $(MODDEST)/mvm.ko $(DESTDIR)/etc/udev/rules.d/65-mvm.rules \
		$(DESTDIR)/etc/modprobe.d/mvm.conf
	$(if $(DESTDIR),,depmod -a $(KVER))
	$(if $(DESTDIR),,-udevadm control --reload)

# The Debian package: debian/ built in a copy of the sources that DKMS and
# debhelper need, so that the tree's own build products stay out.
DEBSRC := build/deb/mvm-$(VERSION)
dkms-deb:
	rm -rf build/deb
	mkdir -p $(DEBSRC)
	cp -r Kbuild dkms.conf include arch virt debian packaging $(DEBSRC)/
	find $(DEBSRC) \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
		-o -name '.*.cmd' -o -name '*.a' -o -name '*.o.d' \) -delete
	cd $(DEBSRC) && dpkg-buildpackage -b -us -uc --no-sign >../build.log 2>&1 || \
		{ cat ../build.log; exit 1; }
	@ls build/deb/*.deb

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
