// Copyright: (c) 2026, glusterfs.heketi developers
// GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
// SPDX-License-Identifier: GPL-3.0-or-later

// The pod sandbox ("pause") image of the tests' Kubernetes node (tools/kube/images.py): no image can be pulled
// here. Like Kubernetes' own pause: PID 1 of the pod's PID namespace, it waits for SIGTERM or SIGINT and
// reaps every child that is reparented to it. Built static (CGO_ENABLED=0), FROM scratch.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	children := make(chan os.Signal, 16)
	signal.Notify(children, syscall.SIGCHLD)
	for {
		select {
		case <-stop:
			os.Exit(0)
		case <-children:
			for {
				var status syscall.WaitStatus
				pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
				if pid <= 0 || err != nil {
					break
				}
			}
		}
	}
}
