package driver

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
)

// The mount itself is proven on the lab (tests/integration/test_csi_mount.py: real glusterd, the
// real FUSE client); here the parts that need no GlusterFS server.

func nodeDriver(t *testing.T) *Driver {
	t.Helper()
	d, err := New(Config{Name: "heketi.csi.glusterfs", Mode: ModeNode, NodeID: "node-a"})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestMountOptions(t *testing.T) {
	req := &csi.NodePublishVolumeRequest{
		Readonly: true,
		VolumeCapability: &csi.VolumeCapability{
			AccessType: &csi.VolumeCapability_Mount{Mount: &csi.VolumeCapability_MountVolume{MountFlags: []string{"log-level=WARNING"}}},
			AccessMode: &csi.VolumeCapability_AccessMode{Mode: csi.VolumeCapability_AccessMode_MULTI_NODE_MULTI_WRITER},
		},
		VolumeContext: map[string]string{CtxBackups: "192.0.2.2,192.0.2.3"},
	}
	got := strings.Join(mountOptions(req), ",")
	if got != "ro,log-level=WARNING,backup-volfile-servers=192.0.2.2:192.0.2.3" {
		t.Fatalf("mount options %q", got)
	}
	req.Readonly = false
	req.VolumeCapability.AccessMode.Mode = csi.VolumeCapability_AccessMode_MULTI_NODE_READER_ONLY
	if o := mountOptions(req); o[0] != "ro" {
		t.Fatalf("ROX must mount read-only: %v", o)
	}
}

func TestNodePublishRefusesBadRequests(t *testing.T) {
	d := nodeDriver(t)
	target := filepath.Join(t.TempDir(), "target")
	base := func() *csi.NodePublishVolumeRequest {
		return &csi.NodePublishVolumeRequest{VolumeId: "v", TargetPath: target, VolumeCapability: rwx,
			VolumeContext: map[string]string{CtxServer: "192.0.2.1", CtxVolume: "vol_x"}}
	}
	r := base()
	r.VolumeContext = map[string]string{CtxVolume: "vol_x"}
	_, err := d.NodePublishVolume(context.Background(), r)
	wantCode(t, err, codes.InvalidArgument, `"server"`)
	r = base()
	r.TargetPath = ""
	_, err = d.NodePublishVolume(context.Background(), r)
	wantCode(t, err, codes.InvalidArgument, "target_path")
	r = base()
	r.VolumeCapability = &csi.VolumeCapability{AccessType: &csi.VolumeCapability_Block{Block: &csi.VolumeCapability_BlockVolume{}},
		AccessMode: rwx.AccessMode}
	_, err = d.NodePublishVolume(context.Background(), r)
	wantCode(t, err, codes.InvalidArgument, "block access is not supported")
	if _, err := os.Stat(target); !os.IsNotExist(err) {
		t.Fatalf("a refused publish created the target: %v", err)
	}
}

func TestNodeUnpublishRemovesAnUnmountedTarget(t *testing.T) {
	d := nodeDriver(t)
	target := filepath.Join(t.TempDir(), "target")
	if err := os.Mkdir(target, 0o750); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // the second call finds nothing: still success
		if _, err := d.NodeUnpublishVolume(context.Background(), &csi.NodeUnpublishVolumeRequest{VolumeId: "v", TargetPath: target}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(target); !os.IsNotExist(err) {
		t.Fatalf("target still there: %v", err)
	}
}

func TestNodeGetVolumeStats(t *testing.T) {
	d := nodeDriver(t)
	_, err := d.NodeGetVolumeStats(context.Background(), &csi.NodeGetVolumeStatsRequest{VolumeId: "v", VolumePath: "/nonexistent/x"})
	wantCode(t, err, codes.NotFound, "does not exist")
	_, err = d.NodeGetVolumeStats(context.Background(), &csi.NodeGetVolumeStatsRequest{VolumeId: "v", VolumePath: t.TempDir()})
	wantCode(t, err, codes.NotFound, "not a mount point")
	// "/" is a mount point on every Linux: real numbers come back.
	r, err := d.NodeGetVolumeStats(context.Background(), &csi.NodeGetVolumeStatsRequest{VolumeId: "v", VolumePath: "/"})
	if err != nil || len(r.Usage) != 2 || r.Usage[0].Total <= 0 {
		t.Fatalf("stats of /: %v %v", r, err)
	}
	info, err := d.NodeGetInfo(context.Background(), &csi.NodeGetInfoRequest{})
	if err != nil || info.NodeId != "node-a" {
		t.Fatalf("node info %v %v", info, err)
	}
}

func TestUnescapeMountinfo(t *testing.T) {
	if got := unescapeMountinfo(`/var/lib/kubelet/a\040b\011c`); got != "/var/lib/kubelet/a b\tc" {
		t.Fatalf("%q", got)
	}
}
