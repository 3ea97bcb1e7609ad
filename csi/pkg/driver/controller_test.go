package driver

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/glusterfs-heketi/heketi-csi/internal/heketitest"
	"github.com/glusterfs-heketi/heketi-csi/pkg/heketi"
)

// One real Heketi server (mock executor) for the package's tests.
var srv *heketitest.Server

func TestMain(m *testing.M) {
	RunLauncher()
	inPrivateMountNamespace()
	dir, err := os.MkdirTemp("", "heketi-csi-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv, err = heketitest.Start(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the real Heketi server:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	srv.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

func controller(t *testing.T) *Driver {
	t.Helper()
	d, err := New(Config{Name: "heketi.csi.glusterfs", Mode: ModeController, OpTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mountCap(mode csi.VolumeCapability_AccessMode_Mode) *csi.VolumeCapability {
	return &csi.VolumeCapability{
		AccessType: &csi.VolumeCapability_Mount{Mount: &csi.VolumeCapability_MountVolume{}},
		AccessMode: &csi.VolumeCapability_AccessMode{Mode: mode},
	}
}

var rwx = mountCap(csi.VolumeCapability_AccessMode_MULTI_NODE_MULTI_WRITER)

func createReq(name string, bytes int64, params map[string]string) *csi.CreateVolumeRequest {
	return &csi.CreateVolumeRequest{
		Name:               name,
		CapacityRange:      &csi.CapacityRange{RequiredBytes: bytes},
		VolumeCapabilities: []*csi.VolumeCapability{rwx},
		Parameters:         params,
		Secrets:            srv.Secrets(),
	}
}

func heketiVolumesNamed(t *testing.T, name string) []*heketi.Volume {
	t.Helper()
	vols, err := srv.Volumes()
	if err != nil {
		t.Fatal(err)
	}
	var out []*heketi.Volume
	for _, v := range vols {
		if v.Name == name {
			out = append(out, v)
		}
	}
	return out
}

func wantCode(t *testing.T, err error, code codes.Code, substrings ...string) {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("want %s, got %v", code, err)
	}
	for _, s := range substrings {
		if !strings.Contains(err.Error(), s) {
			t.Fatalf("error %q does not mention %q", err, s)
		}
	}
}

func TestCreateVolumeIsIdempotentOnTheName(t *testing.T) {
	d := controller(t)
	ctx := context.Background()
	req := createReq("pvc-idem-1", 3*giB/2, map[string]string{"volumenameprefix": "csitest"})
	first, err := d.CreateVolume(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	// 1.5 GiB rounds up to 2 GiB.
	if first.Volume.CapacityBytes != 2*giB {
		t.Fatalf("capacity %d, want 2 GiB", first.Volume.CapacityBytes)
	}
	// A second driver process (a restarted controller: empty cache) finds the same volume.
	for _, dd := range []*Driver{d, controller(t)} {
		again, err := dd.CreateVolume(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if again.Volume.VolumeId != first.Volume.VolumeId {
			t.Fatalf("retry made volume %s, first was %s", again.Volume.VolumeId, first.Volume.VolumeId)
		}
	}
	got := heketiVolumesNamed(t, "csitest_pvc-idem-1")
	if len(got) != 1 || got[0].ID != first.Volume.VolumeId || got[0].Size != 2 {
		t.Fatalf("Heketi holds %+v, want one 2 GiB volume %s", got, first.Volume.VolumeId)
	}
	vc := first.Volume.VolumeContext
	if vc[CtxVolume] != "csitest_pvc-idem-1" || !strings.HasPrefix(vc[CtxServer], "192.0.2.") ||
		len(strings.Split(vc[CtxBackups], ",")) != 2 {
		t.Fatalf("volume context %v: want the volume name, a 192.0.2.x server and two backup servers", vc)
	}
	// The same name with a capacity the volume does not have is AlreadyExists.
	_, err = d.CreateVolume(ctx, createReq("pvc-idem-1", 5*giB, map[string]string{"volumenameprefix": "csitest"}))
	wantCode(t, err, codes.AlreadyExists, "csitest_pvc-idem-1", "2 GiB")
}

func TestCreateVolumeTypesReachHeketi(t *testing.T) {
	d := controller(t)
	for _, tc := range []struct {
		volumetype, want          string
		replica, data, redundancy int
	}{
		{"replicate:2", "replicate", 2, 0, 0},
		{"disperse:2:1", "disperse", 0, 2, 1},
		{"none", "none", 0, 0, 0},
	} {
		name := "pvc-type-" + strings.ReplaceAll(tc.volumetype, ":", "-")
		// 2 GiB: a disperse:2:1 volume needs bricks of at least 1 GiB (Heketi's minimum).
		resp, err := d.CreateVolume(context.Background(), createReq(name, 2*giB, map[string]string{
			"volumetype": tc.volumetype, "clusterids": srv.ClusterID, "volumeoptions": "performance.quick-read off, user.test yes",
		}))
		if err != nil {
			t.Fatalf("%s: %v", tc.volumetype, err)
		}
		v, err := srv.Admin().Volume(context.Background(), resp.Volume.VolumeId)
		if err != nil {
			t.Fatal(err)
		}
		dur := v.Durability
		if dur.Type != tc.want || dur.Replicate.Replica != tc.replica || dur.Disperse.Data != tc.data || dur.Disperse.Redundancy != tc.redundancy {
			t.Fatalf("%s: Heketi durability %+v", tc.volumetype, dur)
		}
		if v.Cluster != srv.ClusterID || v.Name != "vol_"+name {
			t.Fatalf("%s: cluster %s name %s", tc.volumetype, v.Cluster, v.Name)
		}
	}
}

func TestCreateVolumeRefusesBadInputBeforeCallingHeketi(t *testing.T) {
	d := controller(t)
	ctx := context.Background()
	before, _ := srv.Volumes()
	for _, tc := range []struct {
		params map[string]string
		field  string
	}{
		{map[string]string{"volumetype": "replicate:x"}, "volumetype"},
		{map[string]string{"volumetype": "mirror:2"}, "volumetype"},
		{map[string]string{"clusterids": "abc"}, "clusterids"},
		{map[string]string{"volumenameprefix": "bad prefix"}, "volumenameprefix"},
		{map[string]string{"volumeoptions": "justone"}, "volumeoptions"},
		{map[string]string{"gidMin": "10"}, "gidMin"},
		{map[string]string{"gidMin": "5000", "gidMax": "4000"}, "gidMin"},
		{map[string]string{"resturl": "heketi:8080"}, "resturl"},
		{map[string]string{"restuser": "root"}, "restuser"},
		{map[string]string{"size": "1"}, "size"},
	} {
		_, err := d.CreateVolume(ctx, createReq("pvc-bad", giB, tc.params))
		wantCode(t, err, codes.InvalidArgument, "parameter "+tc.field)
	}
	block := createReq("pvc-bad", giB, nil)
	block.VolumeCapabilities = []*csi.VolumeCapability{{
		AccessType: &csi.VolumeCapability_Block{Block: &csi.VolumeCapability_BlockVolume{}},
		AccessMode: &csi.VolumeCapability_AccessMode{Mode: csi.VolumeCapability_AccessMode_SINGLE_NODE_WRITER},
	}}
	_, err := d.CreateVolume(ctx, block)
	wantCode(t, err, codes.InvalidArgument, "block access is not supported")
	nokey := createReq("pvc-bad", giB, nil)
	nokey.Secrets = map[string]string{"resturl": srv.URL}
	_, err = d.CreateVolume(ctx, nokey)
	wantCode(t, err, codes.Unavailable, `no "key"`)
	limit := createReq("pvc-bad", giB/2, nil)
	limit.CapacityRange.LimitBytes = giB / 2
	_, err = d.CreateVolume(ctx, limit)
	wantCode(t, err, codes.OutOfRange, "whole GiB")
	mismatch := createReq("pvc-bad", giB, map[string]string{"resturl": "http://192.0.2.50:8080"})
	_, err = d.CreateVolume(ctx, mismatch)
	wantCode(t, err, codes.InvalidArgument, "differs from the CSI Secret's resturl")
	after, _ := srv.Volumes()
	if len(after) != len(before) {
		t.Fatalf("bad requests changed Heketi: %d volumes before, %d after", len(before), len(after))
	}
}

func TestHeketiErrorsNameTheCallAndTheAnswer(t *testing.T) {
	d := controller(t)
	req := createReq("pvc-wrongkey", giB, nil)
	req.Secrets = map[string]string{"key": "not-the-key", "resturl": srv.URL}
	_, err := d.CreateVolume(context.Background(), req)
	wantCode(t, err, codes.Unauthenticated, "GET /volumes", "401", "signature is invalid")
	// Too big for the devices (6 x 500 GiB, replica 3): Heketi's own refusal comes through.
	_, err = d.CreateVolume(context.Background(), createReq("pvc-toobig", 4000*giB, nil))
	wantCode(t, err, codes.ResourceExhausted, "POST /volumes", "No space")
	// Nothing listens there.
	down := createReq("pvc-down", giB, nil)
	down.Secrets = map[string]string{"key": "k", "resturl": "http://127.0.0.1:1"}
	_, err = d.CreateVolume(context.Background(), down)
	wantCode(t, err, codes.Unavailable, "GET /volumes", "connection refused")
}

func TestDeleteVolumeIsIdempotent(t *testing.T) {
	d := controller(t)
	ctx := context.Background()
	resp, err := d.CreateVolume(ctx, createReq("pvc-del", giB, nil))
	if err != nil {
		t.Fatal(err)
	}
	id := resp.Volume.VolumeId
	for i := 0; i < 2; i++ {
		if _, err := d.DeleteVolume(ctx, &csi.DeleteVolumeRequest{VolumeId: id, Secrets: srv.Secrets()}); err != nil {
			t.Fatalf("delete %d: %v", i+1, err)
		}
	}
	if _, err := srv.Admin().Volume(ctx, id); !heketi.IsNotFound(err) {
		t.Fatalf("Heketi still has %s: %v", id, err)
	}
	if _, err := d.DeleteVolume(ctx, &csi.DeleteVolumeRequest{VolumeId: "not-a-heketi-id", Secrets: srv.Secrets()}); err != nil {
		t.Fatal(err)
	}
	_, err = d.DeleteVolume(ctx, &csi.DeleteVolumeRequest{Secrets: srv.Secrets()})
	wantCode(t, err, codes.InvalidArgument, "volume_id")
	// A deleted name can be created again: a new volume, not the stale cached one.
	again, err := d.CreateVolume(ctx, createReq("pvc-del", giB, nil))
	if err != nil || again.Volume.VolumeId == id {
		t.Fatalf("re-create after delete: %v %v", again, err)
	}
}

func TestControllerExpandVolumeGrowsTheHeketiVolume(t *testing.T) {
	d := controller(t)
	ctx := context.Background()
	resp, err := d.CreateVolume(ctx, createReq("pvc-expand", giB, nil))
	if err != nil {
		t.Fatal(err)
	}
	id := resp.Volume.VolumeId
	exp, err := d.ControllerExpandVolume(ctx, &csi.ControllerExpandVolumeRequest{
		VolumeId: id, CapacityRange: &csi.CapacityRange{RequiredBytes: 5 * giB / 2}, Secrets: srv.Secrets()})
	if err != nil {
		t.Fatal(err)
	}
	v, err := srv.Admin().Volume(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if exp.CapacityBytes != 3*giB || v.Size != 3 || exp.NodeExpansionRequired {
		t.Fatalf("expand answered %d bytes (node step %v), Heketi has %d GiB; want 3 GiB", exp.CapacityBytes, exp.NodeExpansionRequired, v.Size)
	}
	// Asking for less than it has is a no-op that reports the real size.
	exp, err = d.ControllerExpandVolume(ctx, &csi.ControllerExpandVolumeRequest{
		VolumeId: id, CapacityRange: &csi.CapacityRange{RequiredBytes: giB}, Secrets: srv.Secrets()})
	if err != nil || exp.CapacityBytes != 3*giB {
		t.Fatalf("shrink request: %v %v", exp, err)
	}
	_, err = d.ControllerExpandVolume(ctx, &csi.ControllerExpandVolumeRequest{
		VolumeId: strings.Repeat("0", 32), CapacityRange: &csi.CapacityRange{RequiredBytes: giB}, Secrets: srv.Secrets()})
	wantCode(t, err, codes.NotFound, "GET /volumes/"+strings.Repeat("0", 32), "404")
}

func TestValidateVolumeCapabilities(t *testing.T) {
	d := controller(t)
	ctx := context.Background()
	resp, err := d.CreateVolume(ctx, createReq("pvc-validate", giB, nil))
	if err != nil {
		t.Fatal(err)
	}
	id := resp.Volume.VolumeId
	for _, m := range []csi.VolumeCapability_AccessMode_Mode{
		csi.VolumeCapability_AccessMode_SINGLE_NODE_WRITER,
		csi.VolumeCapability_AccessMode_MULTI_NODE_MULTI_WRITER,
		csi.VolumeCapability_AccessMode_MULTI_NODE_READER_ONLY,
	} {
		r, err := d.ValidateVolumeCapabilities(ctx, &csi.ValidateVolumeCapabilitiesRequest{
			VolumeId: id, VolumeCapabilities: []*csi.VolumeCapability{mountCap(m)}, Secrets: srv.Secrets()})
		if err != nil || r.Confirmed == nil {
			t.Fatalf("%s: %v %v", m, r, err)
		}
	}
	r, err := d.ValidateVolumeCapabilities(ctx, &csi.ValidateVolumeCapabilitiesRequest{
		VolumeId: id, VolumeCapabilities: []*csi.VolumeCapability{{
			AccessType: &csi.VolumeCapability_Block{Block: &csi.VolumeCapability_BlockVolume{}},
			AccessMode: &csi.VolumeCapability_AccessMode{Mode: csi.VolumeCapability_AccessMode_SINGLE_NODE_WRITER}}},
		Secrets: srv.Secrets()})
	if err != nil || r.Confirmed != nil || !strings.Contains(r.Message, "block access is not supported") {
		t.Fatalf("block: %v %v", r, err)
	}
	_, err = d.ValidateVolumeCapabilities(ctx, &csi.ValidateVolumeCapabilitiesRequest{
		VolumeId: strings.Repeat("a", 32), VolumeCapabilities: []*csi.VolumeCapability{rwx}, Secrets: srv.Secrets()})
	wantCode(t, err, codes.NotFound, "404")
}

// A Heketi that hangs makes the request give up; its retry is told Aborted while the first
// attempt still runs, and once Heketi answers the retry gets the one volume that attempt made.
func TestRetriedCreateVolumeNeverMakesASecondVolume(t *testing.T) {
	d := controller(t)
	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	paused := true
	defer func() {
		if paused {
			_ = srv.Resume()
		}
	}()
	req := createReq("pvc-retry", giB, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err := d.CreateVolume(ctx, req)
	cancel()
	wantCode(t, err, codes.DeadlineExceeded, "still running in Heketi")
	_, err = d.CreateVolume(context.Background(), req)
	wantCode(t, err, codes.Aborted, "pending")
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	paused = false
	var resp *csi.CreateVolumeResponse
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err = d.CreateVolume(context.Background(), req)
		if status.Code(err) != codes.Aborted || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	got := heketiVolumesNamed(t, "vol_pvc-retry")
	if len(got) != 1 || got[0].ID != resp.Volume.VolumeId {
		t.Fatalf("Heketi holds %d volumes named vol_pvc-retry (%+v), want exactly the one returned (%s)", len(got), got, resp.Volume.VolumeId)
	}
}

func TestGidsComeFromTheRange(t *testing.T) {
	d := controller(t)
	ctx := context.Background()
	params := map[string]string{"gidMin": "40000", "gidMax": "40001", "volumenameprefix": "gid"}
	var ids []string
	for i, want := range []string{"40000", "40001"} {
		r, err := d.CreateVolume(ctx, createReq(fmt.Sprintf("pvc-gid-%d", i), giB, params))
		if err != nil {
			t.Fatal(err)
		}
		v, err := srv.Admin().Volume(ctx, r.Volume.VolumeId)
		if err != nil {
			t.Fatal(err)
		}
		if r.Volume.VolumeContext[CtxGid] != want || fmt.Sprint(v.Gid) != want {
			t.Fatalf("volume %d: context gid %s, Heketi gid %d; want %s", i, r.Volume.VolumeContext[CtxGid], v.Gid, want)
		}
		ids = append(ids, r.Volume.VolumeId)
	}
	_, err := d.CreateVolume(ctx, createReq("pvc-gid-2", giB, params))
	wantCode(t, err, codes.ResourceExhausted, "no free GID")
	if _, err := d.DeleteVolume(ctx, &csi.DeleteVolumeRequest{VolumeId: ids[0], Secrets: srv.Secrets()}); err != nil {
		t.Fatal(err)
	}
	r, err := d.CreateVolume(ctx, createReq("pvc-gid-2", giB, params))
	if err != nil || r.Volume.VolumeContext[CtxGid] != "40000" {
		t.Fatalf("after a delete the freed GID is reused: %v %v", r, err)
	}
}

// Issue 20, item 7: one create with a wrong key left Probe failing (it reused the last key a request carried),
// and a csi-provisioner that restarted then exited at start-up until the driver restarted. Probe answers for the
// driver alone; /healthz?heketi=1 reports each Heketi the driver talked to, without failing the probe.
func TestProbeNeverDependsOnATenantsKey(t *testing.T) {
	addr := freeAddr(t)
	d, err := New(Config{Name: "x", Mode: ModeController, OpTimeout: time.Minute, HealthAddress: addr})
	if err != nil {
		t.Fatal(err)
	}
	endpoint := serving(t, d)
	conn := dial(t, endpoint)
	ident, ctl := csi.NewIdentityClient(conn), csi.NewControllerClient(conn)
	ctx := context.Background()
	ready := func(when string) {
		t.Helper()
		if r, err := ident.Probe(ctx, &csi.ProbeRequest{}); err != nil || !r.GetReady().GetValue() {
			t.Fatalf("Probe %s: %v %v", when, r, err)
		}
		if code, body := get(t, "http://"+addr+"/healthz"); code != http.StatusOK {
			t.Fatalf("/healthz %s: %d %q", when, code, body)
		}
	}
	ready("before any request")
	bad := createReq("pvc-probe", giB, nil)
	bad.Secrets = map[string]string{"key": "wrong", "resturl": srv.URL}
	_, err = ctl.CreateVolume(ctx, bad)
	wantCode(t, err, codes.Unauthenticated, "401")
	ready("after a create with a wrong key")
	gone := createReq("pvc-probe", giB, nil)
	gone.Secrets = map[string]string{"key": "k", "resturl": "http://127.0.0.1:1"}
	_, err = ctl.CreateVolume(ctx, gone)
	wantCode(t, err, codes.Unavailable, "GET /volumes")
	ready("after a create against an unreachable Heketi")
	code, body := get(t, "http://"+addr+"/healthz?heketi=1")
	if code != http.StatusOK || !strings.Contains(body, "heketi "+srv.URL+": reachable") ||
		!strings.Contains(body, "heketi http://127.0.0.1:1: unreachable") {
		t.Fatalf("/healthz?heketi=1: %d %q", code, body)
	}
	if _, err := ctl.CreateVolume(ctx, createReq("pvc-probe", giB, nil)); err != nil {
		t.Fatal(err)
	}
	ready("after a create with the right key")
}

// The services answer over a real gRPC unix socket, as the sidecars reach them.
func TestServeOverGRPC(t *testing.T) {
	d := controller(t)
	sock := filepath.Join(t.TempDir(), "csi.sock")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx, "unix://"+sock) }()
	defer func() { cancel(); <-done }()
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var info *csi.GetPluginInfoResponse
	for i := 0; i < 100; i++ {
		if info, err = csi.NewIdentityClient(conn).GetPluginInfo(ctx, &csi.GetPluginInfoRequest{}); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil || info.Name != "heketi.csi.glusterfs" {
		t.Fatalf("GetPluginInfo: %v %v", info, err)
	}
	caps, err := csi.NewIdentityClient(conn).GetPluginCapabilities(ctx, &csi.GetPluginCapabilitiesRequest{})
	if err != nil || !strings.Contains(caps.String(), "CONTROLLER_SERVICE") {
		t.Fatalf("plugin capabilities %v %v", caps, err)
	}
	r, err := csi.NewControllerClient(conn).CreateVolume(ctx, createReq("pvc-grpc", giB, nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := csi.NewNodeClient(conn).NodeGetInfo(ctx, &csi.NodeGetInfoRequest{}); status.Code(err) != codes.Unimplemented {
		t.Fatalf("a controller serves no node service: %v", err)
	}
	if len(heketiVolumesNamed(t, "vol_pvc-grpc")) != 1 || r.Volume.VolumeId == "" {
		t.Fatal("no Heketi volume vol_pvc-grpc")
	}
}
