//go:build lab

// Package lab holds the real-mount test of the node service, on a container lab:
//
//	go test -tags lab -count=1 -v ./test/lab/
//
// Three storage containers (the lab's base image + Debian's glusterfs-server under systemd,
// Containerfile.storage) form a
// trusted pool and serve a replica-3 volume with directory bricks on tmpfs, as
// molecule/glusterfs_client builds its volume; the driver's image (make csi-image) runs the node
// service in a client container with CAP_SYS_ADMIN and /dev/fuse; this test calls it over gRPC on a
// socket bind-mounted to the host. Volumes made by CreateVolume cannot be mounted here: Heketi's
// ssh executor needs thin LVs (lvcreate), and this kernel has no device-mapper.
package lab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func docker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("docker", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func waitFor(t *testing.T, what string, timeout time.Duration, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Second)
	}
}

func TestNodePublishMountsARealGlusterFSVolume(t *testing.T) {
	base := env("LAB_IMAGE", "glusterfs-heketi/bookworm-systemd:1")
	image := env("CSI_IMAGE", "glusterfs-heketi/heketi-csi:dev")
	for _, img := range []string{base, image} {
		if err := exec.Command("docker", "image", "inspect", img).Run(); err != nil {
			t.Fatalf("image %s is missing: make image csi-image", img)
		}
	}
	storage := "glusterfs-heketi/csi-lab-storage:1"
	docker(t, "build", "-q", "--build-arg", "BASE="+base, "-t", storage, "-f", "Containerfile.storage", ".")
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	lab := "csimnt-" + hex.EncodeToString(b)
	sockDir, err := os.MkdirTemp("", lab+"-")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	t.Cleanup(func() {
		for _, n := range names {
			_ = exec.Command("docker", "rm", "-f", n).Run()
		}
		_ = exec.Command("docker", "network", "rm", lab).Run()
		os.RemoveAll(sockDir)
	})
	docker(t, "network", "create", lab)

	// Storage nodes: systemd as PID 1, the capabilities this machine allows instead of --privileged.
	servers := []string{lab + "-s1", lab + "-s2", lab + "-s3"}
	for _, s := range servers {
		names = append(names, s)
		docker(t, "run", "-d", "--name", s, "--hostname", s, "--network", lab,
			"--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
			"--device", "/dev/fuse", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro",
			"--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp", "--stop-signal", "SIGRTMIN+3",
			storage, "/lib/systemd/systemd")
	}
	waitFor(t, "glusterd on every storage node", 90*time.Second, func() bool {
		for _, s := range servers {
			if exec.Command("docker", "exec", s, "gluster", "--mode=script", "pool", "list").Run() != nil {
				return false
			}
		}
		return true
	})
	for _, s := range servers[1:] {
		docker(t, "exec", servers[0], "gluster", "--mode=script", "peer", "probe", s)
	}
	waitFor(t, "a connected pool", 90*time.Second, func() bool {
		out, _ := exec.Command("docker", "exec", servers[0], "gluster", "--mode=script", "pool", "list").Output()
		return strings.Count(string(out), "Connected") == 3
	})
	create := []string{"exec", servers[0], "gluster", "--mode=script", "volume", "create", "gv", "replica", "3"}
	for _, s := range servers {
		docker(t, "exec", s, "mkdir", "-p", "/tmp/bricks/gv")
		create = append(create, s+":/tmp/bricks/gv")
	}
	docker(t, create...)
	docker(t, "exec", servers[0], "gluster", "--mode=script", "volume", "start", "gv")

	// The driver's node service in a client container; its socket is bind-mounted to the host.
	client := lab + "-client"
	names = append(names, client)
	docker(t, "run", "-d", "--init", "--name", client, "--hostname", client, "--network", lab,
		"--cap-add", "SYS_ADMIN", "--device", "/dev/fuse", "--security-opt", "apparmor=unconfined",
		"-v", sockDir+":/csi", image, "--mode=node", "--endpoint=unix:///csi/csi.sock", "--nodeid="+client)
	sock := filepath.Join(sockDir, "csi.sock")
	waitFor(t, "the driver's socket", 30*time.Second, func() bool { _, err := os.Stat(sock); return err == nil })
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	node := csi.NewNodeClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	info, err := node.NodeGetInfo(ctx, &csi.NodeGetInfoRequest{})
	if err != nil || info.NodeId != client {
		t.Fatalf("NodeGetInfo: %v %v", info, err)
	}

	vctx := map[string]string{"server": servers[0], "volume": "gv", "backup-volfile-servers": servers[1] + "," + servers[2]}
	rwx := &csi.VolumeCapability{
		AccessType: &csi.VolumeCapability_Mount{Mount: &csi.VolumeCapability_MountVolume{}},
		AccessMode: &csi.VolumeCapability_AccessMode{Mode: csi.VolumeCapability_AccessMode_MULTI_NODE_MULTI_WRITER},
	}
	publish := func(target string, ro bool) {
		t.Helper()
		if _, err := node.NodePublishVolume(ctx, &csi.NodePublishVolumeRequest{
			VolumeId: "static-gv", TargetPath: target, VolumeCapability: rwx, Readonly: ro, VolumeContext: vctx,
		}); err != nil {
			t.Fatalf("NodePublishVolume %s: %v", target, err)
		}
	}
	t1, t2 := "/var/lib/kubelet/pods/a/volumes/t1", "/var/lib/kubelet/pods/b/volumes/t2"
	publish(t1, false)
	publish(t1, false) // already mounted: success, no second mount
	publish(t2, true)
	mounts := docker(t, "exec", client, "sh", "-c", "grep fuse.glusterfs /proc/mounts || true")
	if strings.Count(mounts, "fuse.glusterfs") != 2 {
		t.Fatalf("want 2 glusterfs mounts (t1 once, t2), got:\n%s", mounts)
	}
	// mount.glusterfs turns backup-volfile-servers into more --volfile-server arguments.
	procs := docker(t, "exec", client, "ps", "-eo", "args")
	for _, s := range servers {
		if !strings.Contains(procs, "--volfile-server="+s) {
			t.Fatalf("the FUSE client does not know volfile server %s:\n%s", s, procs)
		}
	}
	docker(t, "exec", client, "sh", "-c", "echo written-through-t1 > "+t1+"/hello")
	if got := docker(t, "exec", client, "cat", t2+"/hello"); got != "written-through-t1" {
		t.Fatalf("read %q through the second target", got)
	}
	if out, err := exec.Command("docker", "exec", client, "sh", "-c", "echo x > "+t2+"/ro").CombinedOutput(); err == nil {
		t.Fatalf("the read-only target accepted a write: %s", out)
	}
	// The file is on the bricks of the storage nodes.
	if got := docker(t, "exec", servers[2], "cat", "/tmp/bricks/gv/hello"); got != "written-through-t1" {
		t.Fatalf("brick on %s holds %q", servers[2], got)
	}
	stats, err := node.NodeGetVolumeStats(ctx, &csi.NodeGetVolumeStatsRequest{VolumeId: "static-gv", VolumePath: t1})
	if err != nil || stats.Usage[0].Total <= 0 {
		t.Fatalf("NodeGetVolumeStats: %v %v", stats, err)
	}

	for _, target := range []string{t1, t2, t2} { // the last one: already gone, still success
		if _, err := node.NodeUnpublishVolume(ctx, &csi.NodeUnpublishVolumeRequest{VolumeId: "static-gv", TargetPath: target}); err != nil {
			t.Fatalf("NodeUnpublishVolume %s: %v", target, err)
		}
	}
	if left := docker(t, "exec", client, "sh", "-c", "grep fuse.glusterfs /proc/mounts || true"); left != "" {
		t.Fatalf("still mounted after unpublish:\n%s", left)
	}
	if out, err := exec.Command("docker", "exec", client, "ls", "-d", t1, t2).CombinedOutput(); err == nil {
		t.Fatalf("targets still exist: %s", out)
	}
	fmt.Printf("real mount: %s:/gv published at 2 targets in %s, file shared, read-only honoured, all unmounted\n", servers[0], client)
}
