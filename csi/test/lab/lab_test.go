//go:build lab

// Package lab holds the real-mount test of the node service, on a container lab:
//
//	go test -tags lab -count=1 -v ./test/lab/
//
// Three storage containers (the lab's base image + Debian's glusterfs-server under systemd,
// Containerfile.storage) form a trusted pool and serve a replica-3 volume with directory bricks on tmpfs, as
// extensions/molecule/glusterfs_client builds its volume. A node container (the same image: systemd as PID 1 and the
// GlusterFS FUSE client, as the glusterfs_client role leaves a Kubernetes node) stands for the node, and the
// driver's image (make csi-image) runs the node plugin in a container of its own that shares the node's PID
// namespace and network (the node DaemonSet's hostPID and hostNetwork), with --mounter=host: every mount is
// made in the node's mount namespace and every FUSE client in a systemd scope of the node, outside the plugin.
// The test calls the plugin over gRPC on a socket bind-mounted to the host, as the kubelet would, with the
// kubelet's paths. Volumes made by CreateVolume cannot be mounted here: Heketi's ssh executor needs thin LVs
// (lvcreate), and this kernel has no device-mapper.
package lab

import (
	"crypto/rand"
	"encoding/hex"
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
		time.Sleep(100 * time.Millisecond)
	}
}

// labEnv is one lab: three storage containers serving the replica-3 volume gv, a node container (systemd, the
// GlusterFS FUSE client) and, started by startPlugin, the node plugin in a container that shares the node's PID
// namespace and network (hostPID, hostNetwork). Everything is removed when the test ends.
type labEnv struct {
	t                           *testing.T
	name, node, plugin, sockDir string
	image, storage              string
	servers                     []string
	names                       []string
	vctx                        map[string]string
}

func newLab(t *testing.T) *labEnv {
	base := env("LAB_IMAGE", "glusterfs-heketi/bookworm-systemd:1")
	l := &labEnv{t: t, image: env("CSI_IMAGE", "glusterfs-heketi/heketi-csi:dev"), storage: "glusterfs-heketi/csi-lab-storage:1"}
	for _, img := range []string{base, l.image} {
		if err := exec.Command("docker", "image", "inspect", img).Run(); err != nil {
			t.Fatalf("image %s is missing: make image csi-image", img)
		}
	}
	docker(t, "build", "-q", "--build-arg", "BASE="+base, "-t", l.storage, "-f", "Containerfile.storage", ".")
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	l.name = "hd-csimnt-" + hex.EncodeToString(b)
	var err error
	if l.sockDir, err = os.MkdirTemp("", l.name+"-"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, n := range l.names {
			_ = exec.Command("docker", "rm", "-f", n).Run()
		}
		_ = exec.Command("docker", "network", "rm", l.name).Run()
		os.RemoveAll(l.sockDir)
		// The FUSE cgroup the plugin made (the node sees the machine's cgroup hierarchies), now empty.
		dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + l.name + "-fuse")
		for _, d := range dirs {
			_ = os.Remove(d)
		}
	})
	docker(t, "network", "create", l.name)

	// Storage nodes: systemd as PID 1, the capabilities this machine allows instead of --privileged.
	l.servers = []string{l.name + "-s1", l.name + "-s2", l.name + "-s3"}
	for _, s := range l.servers {
		l.names = append(l.names, s)
		docker(t, "run", "-d", "--name", s, "--hostname", s, "--network", l.name,
			"--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
			"--device", "/dev/fuse", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro",
			"--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp", "--stop-signal", "SIGRTMIN+3",
			l.storage, "/lib/systemd/systemd")
	}
	waitFor(t, "glusterd on every storage node", 90*time.Second, func() bool {
		for _, s := range l.servers {
			if exec.Command("docker", "exec", s, "gluster", "--mode=script", "pool", "list").Run() != nil {
				return false
			}
		}
		return true
	})
	for _, s := range l.servers[1:] {
		docker(t, "exec", l.servers[0], "gluster", "--mode=script", "peer", "probe", s)
	}
	waitFor(t, "a connected pool", 90*time.Second, func() bool {
		out, _ := exec.Command("docker", "exec", l.servers[0], "gluster", "--mode=script", "pool", "list").Output()
		return strings.Count(string(out), "Connected") == 3
	})
	create := []string{"exec", l.servers[0], "gluster", "--mode=script", "volume", "create", "gv", "replica", "3"}
	for _, s := range l.servers {
		docker(t, "exec", s, "mkdir", "-p", "/tmp/bricks/gv")
		create = append(create, s+":/tmp/bricks/gv")
	}
	docker(t, create...)
	docker(t, "exec", l.servers[0], "gluster", "--mode=script", "volume", "start", "gv")
	l.vctx = map[string]string{"server": l.servers[0], "volume": "gv", "backup-volfile-servers": l.servers[1] + "," + l.servers[2]}
	l.plugin = l.name + "-plugin"
	l.names = append(l.names, l.plugin)
	return l
}

// startNode starts the node container (systemd, the FUSE client, /dev/fuse, the machine's cgroup hierarchies
// writable, as a node's are: the plugin moves the FUSE client out of its own cgroups, into <lab>-fuse), with extra
// docker run arguments.
func (l *labEnv) startNode(extra ...string) {
	l.node = l.name + "-node"
	l.names = append(l.names, l.node)
	args := []string{"run", "-d", "--name", l.node, "--hostname", l.node, "--network", l.name,
		"--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
		"--device", "/dev/fuse", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
		"--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp", "--stop-signal", "SIGRTMIN+3"}
	args = append(append(args, extra...), l.storage, "/lib/systemd/systemd")
	docker(l.t, args...)
	waitFor(l.t, "systemd on the node", 60*time.Second, func() bool {
		out, _ := exec.Command("docker", "exec", l.node, "systemctl", "is-system-running").Output()
		s := strings.TrimSpace(string(out))
		return s == "running" || s == "degraded"
	})
}

// startPlugin runs the node plugin of image img: --mounter=host in the node's PID namespace and network, every
// capability this machine grants (docker's --privileged fails here: the VM lacks CAP_SYS_RESOURCE); or, with
// container, --mounter=container in namespaces of its own with the docker run arguments extra.
func (l *labEnv) startPlugin(img string, container bool, extra ...string) {
	l.t.Helper()
	sock := filepath.Join(l.sockDir, "csi.sock")
	_ = os.Remove(sock)
	args := []string{"run", "-d", "--name", l.plugin, "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
		"--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined", "-v", l.sockDir + ":/csi"}
	flags := []string{"--mode=node", "--endpoint=unix:///csi/csi.sock", "--nodeid=" + l.node,
		"--health-address=127.0.0.1:29631", "--metrics-address=127.0.0.1:29631"}
	if container {
		args = append(append(args, "--network", l.name, "--device", "/dev/fuse"), extra...)
		flags = append(flags, "--mounter=container")
	} else {
		args = append(append(args, "--pid", "container:"+l.node, "--network", "container:"+l.node), extra...)
		flags = append(flags, "--mounter=host", "--host-process=1", "--fuse-cgroup="+l.name+"-fuse")
	}
	docker(l.t, append(append(args, img), flags...)...)
	waitFor(l.t, "the driver's socket", 30*time.Second, func() bool { _, err := os.Stat(sock); return err == nil })
}

// client is the node service of the plugin, over its socket, as the kubelet calls it.
func (l *labEnv) client() csi.NodeClient {
	conn, err := grpc.NewClient("unix://"+filepath.Join(l.sockDir, "csi.sock"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() { conn.Close() })
	return csi.NewNodeClient(conn)
}

// call retries f while the plugin is away (a restarted plugin: the client reconnects).
func (l *labEnv) call(what string, f func() error) {
	l.t.Helper()
	var err error
	for i := 0; i < 50; i++ {
		if err = f(); err == nil || !strings.Contains(err.Error(), "Unavailable") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		l.t.Fatalf("%s: %v", what, err)
	}
}

var rwx = &csi.VolumeCapability{
	AccessType: &csi.VolumeCapability_Mount{Mount: &csi.VolumeCapability_MountVolume{}},
	AccessMode: &csi.VolumeCapability_AccessMode{Mode: csi.VolumeCapability_AccessMode_MULTI_NODE_MULTI_WRITER},
}

const staging = "/var/lib/kubelet/plugins/kubernetes.io/csi/heketi.csi.glusterfs/0123abcd/globalmount"

func target(pod string) string {
	return "/var/lib/kubelet/pods/" + pod + "/volumes/kubernetes.io~csi/gv/mount"
}

// onNode runs a shell script on the node.
func (l *labEnv) onNode(script string) string { return docker(l.t, "exec", l.node, "sh", "-c", script) }

// fuseClients lists the node's GlusterFS FUSE client processes.
func (l *labEnv) fuseClients() []string {
	return strings.Fields(l.onNode("pgrep -x glusterfs || true"))
}
