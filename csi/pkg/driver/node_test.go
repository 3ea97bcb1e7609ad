package driver

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
)

// The FUSE mount itself is proven on the lab (csi/test/lab: real glusterd, the real FUSE client); here the node
// service's own logic on real mounts of this machine (tmpfs standing for a staged volume, real bind mounts),
// made in a mount namespace of the test's own so that nothing reaches the host's mount table.

const privateNSEnv = "HEKETI_CSI_TEST_PRIVATE_MOUNTS"

// inPrivateMountNamespace re-runs the test binary, as root, in a private mount namespace (unshare(1)): its mounts
// end with it. Without root, or without unshare, the tests that mount are skipped.
func inPrivateMountNamespace() {
	if os.Getenv(privateNSEnv) != "" || os.Geteuid() != 0 {
		return
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return
	}
	self, err := os.Executable()
	if err != nil {
		return
	}
	env := append(os.Environ(), privateNSEnv+"=1")
	args := append([]string{"unshare", "--mount", "--propagation", "private", "--", self}, os.Args[1:]...)
	fmt.Fprintln(os.Stderr, "node tests: in a private mount namespace (unshare --mount)")
	_ = syscall.Exec(unshare, args, env)
}

func needMounts(t *testing.T) {
	t.Helper()
	if os.Getenv(privateNSEnv) == "" {
		t.Skip("needs root and unshare(1): the test mounts in a private mount namespace")
	}
}

func nodeDriver(t *testing.T) *Driver {
	t.Helper()
	d, err := New(Config{Name: "heketi.csi.glusterfs", Mode: ModeNode, NodeID: "node-a",
		Mounter: &NodeMounter{Mode: MountContainer}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// staged makes dir a tmpfs mount holding a file: what a FUSE client at the staging path would serve.
func staged(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	if err := os.WriteFile(filepath.Join(dir, "data"), []byte("staged"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mountsAt(t *testing.T, d *Driver, p string) int {
	t.Helper()
	entries, err := d.cfg.Mounter.Mounts()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.MountPoint == p {
			n++
		}
	}
	return n
}

var vctx = map[string]string{CtxServer: "192.0.2.1", CtxVolume: "vol_x"}

func publishReq(target, staging string, ro bool) *csi.NodePublishVolumeRequest {
	return &csi.NodePublishVolumeRequest{VolumeId: "v", TargetPath: target, StagingTargetPath: staging,
		VolumeCapability: rwx, Readonly: ro, VolumeContext: vctx}
}

func TestFuseOptions(t *testing.T) {
	c := &csi.VolumeCapability{
		AccessType: &csi.VolumeCapability_Mount{Mount: &csi.VolumeCapability_MountVolume{MountFlags: []string{"log-level=WARNING"}}},
		AccessMode: &csi.VolumeCapability_AccessMode{Mode: csi.VolumeCapability_AccessMode_MULTI_NODE_READER_ONLY},
	}
	got := strings.Join(fuseOptions(c, map[string]string{CtxBackups: "192.0.2.2,192.0.2.3"}), ",")
	if got != "ro,log-level=WARNING,backup-volfile-servers=192.0.2.2:192.0.2.3" {
		t.Fatalf("mount options %q", got)
	}
	if o := fuseOptions(rwx, nil); len(o) != 0 {
		t.Fatalf("RWX stages read-write (a read-only pod gets a read-only bind): %v", o)
	}
}

func TestNodeRefusesBadRequests(t *testing.T) {
	d := nodeDriver(t)
	dir := t.TempDir()
	target, staging := filepath.Join(dir, "target"), filepath.Join(dir, "staging")
	ctx := context.Background()
	r := publishReq(target, staging, false)
	r.VolumeContext = map[string]string{CtxVolume: "vol_x"}
	_, err := d.NodePublishVolume(ctx, r)
	wantCode(t, err, codes.InvalidArgument, `"server"`)
	r = publishReq("", staging, false)
	_, err = d.NodePublishVolume(ctx, r)
	wantCode(t, err, codes.InvalidArgument, "target_path")
	r = publishReq(target, "", false)
	_, err = d.NodePublishVolume(ctx, r)
	wantCode(t, err, codes.InvalidArgument, "staging_target_path")
	r = publishReq(target, "relative/staging", false)
	_, err = d.NodePublishVolume(ctx, r)
	wantCode(t, err, codes.InvalidArgument, "absolute")
	r = publishReq(target, staging, false)
	r.VolumeCapability = &csi.VolumeCapability{AccessType: &csi.VolumeCapability_Block{Block: &csi.VolumeCapability_BlockVolume{}},
		AccessMode: rwx.AccessMode}
	_, err = d.NodePublishVolume(ctx, r)
	wantCode(t, err, codes.InvalidArgument, "block access is not supported")
	_, err = d.NodeStageVolume(ctx, &csi.NodeStageVolumeRequest{VolumeId: "v", VolumeCapability: rwx, VolumeContext: vctx})
	wantCode(t, err, codes.InvalidArgument, "staging_target_path")
	_, err = d.NodeUnstageVolume(ctx, &csi.NodeUnstageVolumeRequest{VolumeId: "v"})
	wantCode(t, err, codes.InvalidArgument, "staging_target_path")
	for _, p := range []string{target, staging} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("a refused request created %s: %v", p, err)
		}
	}
}

// Publish binds the staged volume into each target (read-only when asked); unpublish removes the target;
// a second unpublish and an unstage of nothing succeed.
func TestPublishBindsTheStagedVolume(t *testing.T) {
	needMounts(t)
	d := nodeDriver(t)
	dir := t.TempDir()
	staging := filepath.Join(dir, "staging")
	staged(t, staging)
	ctx := context.Background()
	t1, t2 := filepath.Join(dir, "pods/a/vol"), filepath.Join(dir, "pods/b/vol")
	for _, r := range []*csi.NodePublishVolumeRequest{publishReq(t1, staging, false), publishReq(t2, staging, true),
		publishReq(t1, staging, false)} {
		if _, err := d.NodePublishVolume(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if n := mountsAt(t, d, t1); n != 1 {
		t.Fatalf("%d mounts at %s after two publishes", n, t1)
	}
	if err := os.WriteFile(filepath.Join(t1, "new"), []byte("x"), 0o644); err != nil {
		t.Fatalf("writing through the read-write target: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(t2, "new")); string(got) != "x" {
		t.Fatalf("the second target does not show the volume: %q", got)
	}
	if err := os.WriteFile(filepath.Join(t2, "ro"), []byte("x"), 0o644); err == nil {
		t.Fatal("the read-only target accepted a write")
	}
	stats, err := d.NodeGetVolumeStats(ctx, &csi.NodeGetVolumeStatsRequest{VolumeId: "v", VolumePath: t2})
	if err != nil || stats.Usage[0].Total != 1<<20 {
		t.Fatalf("stats of the 1 MiB staged volume: %v %v", stats, err)
	}
	for _, p := range []string{t1, t2, t2} {
		if _, err := d.NodeUnpublishVolume(ctx, &csi.NodeUnpublishVolumeRequest{VolumeId: "v", TargetPath: p}); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("target %s still there: %v", p, err)
		}
	}
	if _, err := d.NodeUnstageVolume(ctx, &csi.NodeUnstageVolumeRequest{VolumeId: "v", StagingTargetPath: staging}); err != nil {
		t.Fatal(err)
	}
	if n := mountsAt(t, d, staging); n != 0 {
		t.Fatalf("%d mounts left at the staging path", n)
	}
	if _, err := d.NodeUnstageVolume(ctx, &csi.NodeUnstageVolumeRequest{VolumeId: "v", StagingTargetPath: staging}); err != nil {
		t.Fatalf("unstaging twice: %v", err)
	}
}

// slowMounter delays every mount of the real mounter and counts them.
type slowMounter struct {
	Mounter
	delay time.Duration
	mu    sync.Mutex
	binds int
}

func (m *slowMounter) BindMount(ctx context.Context, source, target string, ro bool) error {
	m.mu.Lock()
	m.binds++
	m.mu.Unlock()
	time.Sleep(m.delay)
	return m.Mounter.BindMount(ctx, source, target, ro)
}

// Issue 20, item 9: five concurrent publishes of one target ran mount five times. Calls on one target are
// serialised: one bind, every call succeeds.
func TestConcurrentPublishesOfOneTargetMountOnce(t *testing.T) {
	needMounts(t)
	d := nodeDriver(t)
	sm := &slowMounter{Mounter: d.cfg.Mounter, delay: 200 * time.Millisecond}
	d.cfg.Mounter = sm
	dir := t.TempDir()
	staging, target := filepath.Join(dir, "staging"), filepath.Join(dir, "target")
	staged(t, staging)
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := d.NodePublishVolume(context.Background(), publishReq(target, staging, false))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := mountsAt(t, d, target); n != 1 || sm.binds != 1 {
		t.Fatalf("5 concurrent publishes: %d mounts at the target, %d bind mounts run", n, sm.binds)
	}
	_, _ = d.NodeUnpublishVolume(context.Background(), &csi.NodeUnpublishVolumeRequest{VolumeId: "v", TargetPath: target})
}

// Issue 20, item 9: the node service ignored the request's deadline. A publish whose deadline ends first is
// answered DEADLINE_EXCEEDED while its mount goes on; the retry waits for it and finds the target mounted.
func TestPublishHonoursTheDeadline(t *testing.T) {
	needMounts(t)
	d := nodeDriver(t)
	sm := &slowMounter{Mounter: d.cfg.Mounter, delay: time.Second}
	d.cfg.Mounter = sm
	dir := t.TempDir()
	staging, target := filepath.Join(dir, "staging"), filepath.Join(dir, "target")
	staged(t, staging)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := d.NodePublishVolume(ctx, publishReq(target, staging, false))
	wantCode(t, err, codes.DeadlineExceeded, "still running")
	if _, err := d.NodePublishVolume(context.Background(), publishReq(target, staging, false)); err != nil {
		t.Fatal(err)
	}
	if n := mountsAt(t, d, target); n != 1 || sm.binds != 1 {
		t.Fatalf("a publish that ran out of time, then its retry: %d mounts, %d binds", n, sm.binds)
	}
	_, _ = d.NodeUnpublishVolume(context.Background(), &csi.NodeUnpublishVolumeRequest{VolumeId: "v", TargetPath: target})
}

func TestNodeGetVolumeStats(t *testing.T) {
	d := nodeDriver(t)
	_, err := d.NodeGetVolumeStats(context.Background(), &csi.NodeGetVolumeStatsRequest{VolumeId: "v", VolumePath: "/nonexistent/x"})
	wantCode(t, err, codes.NotFound, "does not exist")
	_, err = d.NodeGetVolumeStats(context.Background(), &csi.NodeGetVolumeStatsRequest{VolumeId: "v", VolumePath: t.TempDir()})
	wantCode(t, err, codes.NotFound, "not a mount point")
	info, err := d.NodeGetInfo(context.Background(), &csi.NodeGetInfoRequest{})
	if err != nil || info.NodeId != "node-a" {
		t.Fatalf("node info %v %v", info, err)
	}
	caps, err := d.NodeGetCapabilities(context.Background(), &csi.NodeGetCapabilitiesRequest{})
	if err != nil || !strings.Contains(caps.String(), "STAGE_UNSTAGE_VOLUME") {
		t.Fatalf("node capabilities: %v %v", caps, err)
	}
}

func TestParseMountinfo(t *testing.T) {
	in := "36 35 98:0 / /var/lib/kubelet/a\\040b rw,noatime master:1 - fuse.glusterfs 192.0.2.1:/vol_x rw,user_id=0\n" +
		"37 35 0:42 / /run rw shared:2 - tmpfs tmpfs rw\n"
	got, err := parseMountinfo(strings.NewReader(in))
	if err != nil || len(got) != 2 {
		t.Fatal(got, err)
	}
	want := MountEntry{Device: "98:0", MountPoint: "/var/lib/kubelet/a b", FSType: "fuse.glusterfs", Source: "192.0.2.1:/vol_x"}
	if got[0] != want || got[1].FSType != "tmpfs" {
		t.Fatalf("%+v", got)
	}
}

// The FUSE client's launch outside the plugin's cgroups (cgroup v1, or no systemd on the node): a copy of the
// driver is moved into the FUSE cgroup before it runs mount, so that mount and the client it starts are never in
// the plugin's cgroups. Here the machine's own pids hierarchy, mounted again in the test's mount namespace,
// stands for the node's; the cgroup is removed at the end. The command reports its own cgroups.
func TestLaunchInCgroup(t *testing.T) {
	needMounts(t)
	root := t.TempDir()
	h := filepath.Join(root, "pids")
	if err := os.Mkdir(h, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("cgroup", h, "cgroup", 0, "pids"); err != nil {
		t.Skipf("no cgroup v1 pids hierarchy here: %v", err)
	}
	name := fmt.Sprintf("hd-csi-test-%d", os.Getpid())
	t.Cleanup(func() {
		_ = os.Remove(filepath.Join(h, name))
		_ = syscall.Unmount(h, 0)
	})
	out := filepath.Join(root, "cgroup.txt")
	if err := launchInCgroup(context.Background(), root, name, "", []string{"sh", "-c", "cat /proc/self/cgroup > " + out}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(got), ":pids:/"+name+"\n") {
		t.Fatalf("the launched command's cgroups: %q %v", got, err)
	}
	if procs, _ := os.ReadFile(filepath.Join(h, name, "cgroup.procs")); len(procs) != 0 {
		t.Fatalf("processes left in the cgroup: %q", procs)
	}
	// Where the move fails the command never runs.
	err = launchInCgroup(context.Background(), filepath.Join(root, "nothing"), name, "", []string{"sh", "-c", "touch " + out + ".ran"})
	if err == nil {
		t.Fatal("launched without a cgroup hierarchy")
	}
	if _, serr := os.Stat(out + ".ran"); serr == nil {
		t.Fatalf("the command ran although it could not be moved: %v", err)
	}
}

// A node plugin without the host's PID namespace would make its "host" mounts in its own container, where they
// end with it: host mode refuses to start when the node process it is given is the driver itself.
func TestHostModeRefusesItsOwnContainer(t *testing.T) {
	m := &NodeMounter{Mode: MountHost, HostProcess: strconv.Itoa(os.Getpid())}
	if err := m.Check(); err == nil || !strings.Contains(err.Error(), "hostPID: true") {
		t.Fatalf("host mode with the driver as the node process: %v", err)
	}
	if err := (&NodeMounter{Mode: MountHost, HostProcess: "no-such-command-hd"}).Check(); err == nil ||
		!strings.Contains(err.Error(), "no such process") {
		t.Fatalf("an unknown node process: %v", err)
	}
}
