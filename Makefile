# The two commands of the README: `make lab` (the main job on the local container lab) and `make test`.
SHELL := /bin/bash
LAB_NAME ?= ghlab
VENV := .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# The build cache outside the clone (tools/build-cache.sh): long builds' outputs and the Go module cache.
export GLUSTERFS_HEKETI_CACHE ?= $(HOME)/.cache/glusterfs-heketi
export GOPATH ?= $(GLUSTERFS_HEKETI_CACHE)/go

.PHONY: help setup system venv venv-main heketi kube csi-tools kustomize csi-base csi-image csi-vulncheck image test lint sanity newest units integration lab-tests first-hour molecule core216 awx csi kube-tests pods day2 day2-lab lab lab-down clean

help:
	@echo "make lab       bring up the container lab and run site.yml on it (inventories/local);"
	@echo "               with KUBECONFIG=... the StorageClass is applied, else rendered into .cache/lab/NAME/storageclass"
	@echo "make lab-down  remove the lab (containers, network, loop devices, files, the rendered manifests)"
	@echo "make test      set up what is missing, then every stage (lint, sanity, newest, units, molecule, core216, awx,"
	@echo "               integration, lab-tests, first-hour, day2, csi, kube-tests, pods) in three lanes beside each other (TEST_LANES)"
	@echo "make STAGE     one stage alone (lint sanity newest units molecule core216 awx integration lab-tests first-hour day2 csi kube-tests pods);"
	@echo "               make day2 (alias day2-lab): the day-2 playbooks on a 4-node lab of their own"

setup: system venv heketi image

system:
	@if ! docker info >/dev/null 2>&1 || ! command -v debootstrap >/dev/null || ! command -v shellcheck >/dev/null || ! command -v etcd >/dev/null; then \
	  tools/install-system.sh; fi

venv: venv-main
	tools/venv.sh core216

# The controller toolchain alone (.venv, ansible-core 2.19): all `make lab` needs. The ansible-core 2.16
# environment (.venv-core216) is for the tests' 2.16 lane only: `make test` and `make setup` build it.
venv-main:
	tools/venv.sh

heketi:
	tools/build-heketi.sh

# The real kube-apiserver for the StorageClass tests (long: `make test` starts it in the background).
kube:
	tools/build-kube-apiserver.sh

image: system
	tools/lab/build-image.sh

# The upstream CSI tools the driver's tests run (csi-sanity, csi-provisioner, csi-resizer; long).
csi-tools:
	tools/build-csi-tools.sh

# kustomize, to compare the csi_driver role's objects with `kustomize build` of csi/deploy (short).
kustomize:
	tools/build-kustomize.sh

# The Heketi CSI driver's image (csi/Containerfile) on its own minimal base (tools/build-csi-base.sh).
CSI_IMAGE ?= glusterfs-heketi/heketi-csi:dev
csi-base: system
	tools/build-csi-base.sh

csi-image: csi-base
	cd csi && CGO_ENABLED=0 GOTOOLCHAIN=auto GOFLAGS=-mod=mod \
	  go build -trimpath -ldflags "-s -w" -o _out/heketi-csi ./cmd/heketi-csi
	docker build -f csi/Containerfile -t $(CSI_IMAGE) csi

# govulncheck on the driver, offline (the vulnerability database built from the Go module proxy's golang.org/x/vulndb).
csi-vulncheck:
	tools/csi-vulncheck.sh

test: setup
	tools/run-tests.sh

lint sanity newest units integration lab-tests first-hour molecule core216 awx csi kube-tests pods day2 day2-lab: setup
	tools/run-tests.sh $@

lab: system venv-main heketi image
	tools/lab/lab up --name $(LAB_NAME) --nodes 4 --client
	ansible-playbook site.yml -i inventories/local
	tools/lab/summary.sh $(LAB_NAME)

lab-down:
	tools/lab/lab down --name $(LAB_NAME)

clean: lab-down
	rm -rf "$${TMPDIR:-/tmp}"/glusterfs-heketi-ansible-test.* tests/output
