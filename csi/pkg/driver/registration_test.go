package driver

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	registerapi "k8s.io/kubelet/pkg/apis/pluginregistration/v1"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// serving runs d.Serve on a socket in a short temporary folder until the test ends.
func serving(t *testing.T, d *Driver) (endpoint string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "hd-csi-")
	if err != nil {
		t.Fatal(err)
	}
	endpoint = "unix://" + filepath.Join(dir, "csi.sock")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx, endpoint) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		os.RemoveAll(dir)
	})
	waitUntil(t, "the CSI socket", func() bool { _, err := os.Stat(filepath.Join(dir, "csi.sock")); return err == nil })
	return endpoint
}

func waitUntil(t *testing.T, what string, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func dial(t *testing.T, target string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// The kubelet's side of the plugin registration API, with the kubelet's own client code
// (k8s.io/kubelet/pkg/apis/pluginregistration/v1): find the socket, GetInfo, call the CSI socket it names
// (NodeGetInfo, as the kubelet's CSI plugin handler does), NotifyRegistrationStatus. /healthz follows.
func TestNodePluginRegistersWithTheKubelet(t *testing.T) {
	old := registrationRecheck
	registrationRecheck = 50 * time.Millisecond
	t.Cleanup(func() { registrationRecheck = old })
	regDir := t.TempDir()
	health := freeAddr(t)
	d, err := New(Config{Name: "heketi.csi.glusterfs", Mode: ModeNode, NodeID: "node-a", Mounter: &NodeMounter{Mode: MountContainer},
		RegistrationDir: regDir, HealthAddress: health})
	if err != nil {
		t.Fatal(err)
	}
	endpoint := serving(t, d)
	sock := filepath.Join(regDir, "heketi.csi.glusterfs-reg.sock")
	waitUntil(t, "the registration socket", func() bool { _, err := os.Stat(sock); return err == nil })

	code, body := get(t, "http://"+health+"/healthz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "waiting for the kubelet") {
		t.Fatalf("/healthz before the kubelet registered the plugin: %d %q", code, body)
	}

	reg := registerapi.NewRegistrationClient(dial(t, "unix://"+sock))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := reg.GetInfo(ctx, &registerapi.InfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Type != registerapi.CSIPlugin || info.Name != "heketi.csi.glusterfs" ||
		"unix://"+info.Endpoint != endpoint || strings.Join(info.SupportedVersions, ",") != "1.0.0" {
		t.Fatalf("GetInfo: %+v (endpoint %s)", info, endpoint)
	}
	ni, err := csi.NewNodeClient(dial(t, "unix://"+info.Endpoint)).NodeGetInfo(ctx, &csi.NodeGetInfoRequest{})
	if err != nil || ni.NodeId != "node-a" {
		t.Fatalf("NodeGetInfo on the registered endpoint: %v %v", ni, err)
	}
	if _, err := reg.NotifyRegistrationStatus(ctx, &registerapi.RegistrationStatus{PluginRegistered: true}); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, "http://"+health+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Fatalf("/healthz once registered: %d %q", code, body)
	}

	// A refusal is reported with the kubelet's reason.
	if _, err := reg.NotifyRegistrationStatus(ctx, &registerapi.RegistrationStatus{
		PluginRegistered: false, Error: "plugin name clash"}); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, "http://"+health+"/healthz"); code != http.StatusServiceUnavailable ||
		!strings.Contains(body, "plugin name clash") {
		t.Fatalf("/healthz once refused: %d %q", code, body)
	}

	// The socket removed behind the driver's back is served again, and the kubelet can register anew.
	if err := os.Remove(sock); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the registration socket made again", func() bool { _, err := os.Stat(sock); return err == nil })
	reg = registerapi.NewRegistrationClient(dial(t, "unix://"+sock))
	if info, err := reg.GetInfo(ctx, &registerapi.InfoRequest{}); err != nil || info.Name != "heketi.csi.glusterfs" {
		t.Fatalf("GetInfo on the new socket: %v %v", info, err)
	}
	if _, err := reg.NotifyRegistrationStatus(ctx, &registerapi.RegistrationStatus{PluginRegistered: true}); err != nil {
		t.Fatal(err)
	}
	if code, _ := get(t, "http://"+health+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz after registering again: %d", code)
	}
}

func TestRegistrationSocketGoesWithTheDriver(t *testing.T) {
	regDir := t.TempDir()
	d, err := New(Config{Name: "heketi.csi.glusterfs", Mode: ModeNode, NodeID: "node-a", RegistrationDir: regDir, Mounter: &NodeMounter{Mode: MountContainer},
		KubeletRegistrationPath: "/var/lib/kubelet/plugins/heketi.csi.glusterfs/csi.sock"})
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := os.MkdirTemp("", "hd-csi-")
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx, "unix://"+filepath.Join(dir, "csi.sock")) }()
	sock := filepath.Join(regDir, "heketi.csi.glusterfs-reg.sock")
	waitUntil(t, "the registration socket", func() bool { _, err := os.Stat(sock); return err == nil })
	info, err := registerapi.NewRegistrationClient(dial(t, "unix://"+sock)).GetInfo(context.Background(), &registerapi.InfoRequest{})
	if err != nil || info.Endpoint != "/var/lib/kubelet/plugins/heketi.csi.glusterfs/csi.sock" {
		t.Fatalf("GetInfo gives the path the kubelet sees: %v %v", info, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Fatalf("the registration socket outlived the driver: %v", err)
	}
}

func TestRegistrationIsForTheNodePluginOnly(t *testing.T) {
	_, err := New(Config{Name: "heketi.csi.glusterfs", Mode: ModeController, RegistrationDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "--registration-dir") {
		t.Fatalf("a controller with a registration folder: %v", err)
	}
}

// The controller's /healthz answers from the driver alone (no Heketi, no credentials), and /metrics counts
// the CSI calls; one address serves both.
func TestControllerHealthAndMetrics(t *testing.T) {
	addr := freeAddr(t)
	d, err := New(Config{Name: "heketi.csi.glusterfs", Mode: ModeController, HealthAddress: addr, MetricsAddress: addr})
	if err != nil {
		t.Fatal(err)
	}
	endpoint := serving(t, d)
	waitUntil(t, "/healthz", func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	if code, body := get(t, "http://"+addr+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	ctl := csi.NewControllerClient(dial(t, endpoint))
	_, _ = ctl.CreateVolume(context.Background(), &csi.CreateVolumeRequest{}) // INVALID_ARGUMENT: no name
	_, body := get(t, "http://"+addr+"/metrics")
	for _, want := range []string{
		`heketi_csi_call_duration_seconds_count{code="InvalidArgument",method="CreateVolume"} 1`,
		`heketi_csi_call_duration_seconds_count{code="OK",method="Probe"}`,
		"heketi_csi_calls_in_flight",
		"heketi_csi_heketi_operations_in_flight 0",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		fmt.Println(body)
	}
}
