package driver

import (
	"context"
	"math"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/container-storage-interface/spec/lib/go/csi"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc/codes"

	"github.com/glusterfs-heketi/heketi-csi/internal/heketitest"
)

// listener counts the requests a host receives (the host a class would point the controller at).
func listener(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.Error(w, "nothing here", http.StatusNotFound)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	return "http://" + l.Addr().String(), &n
}

// Issue 20, item 5: a class resturl made the controller sign admin tokens for any host when the Secret named
// none. The URL comes from the Secret only; a class resturl that differs is refused before any request.
func TestTheHeketiURLComesFromTheSecretOnly(t *testing.T) {
	d := controller(t)
	ctx := context.Background()
	other, hits := listener(t)
	noURL := createReq("pvc-url", giB, map[string]string{"resturl": other})
	noURL.Secrets = map[string]string{"key": srv.AdminKey}
	_, err := d.CreateVolume(ctx, noURL)
	wantCode(t, err, codes.Unavailable, `no "resturl"`)
	differs := createReq("pvc-url", giB, map[string]string{"resturl": other})
	_, err = d.CreateVolume(ctx, differs)
	wantCode(t, err, codes.InvalidArgument, "parameter resturl", "differs from the CSI Secret's resturl")
	if n := hits.Load(); n != 0 {
		t.Fatalf("the class's host received %d requests", n)
	}
	otherUser := createReq("pvc-url", giB, map[string]string{"restuser": "user"})
	_, err = d.CreateVolume(ctx, otherUser)
	wantCode(t, err, codes.InvalidArgument, "parameter restuser")
	same := createReq("pvc-url", giB, map[string]string{"resturl": srv.URL, "restuser": "admin"})
	if _, err := d.CreateVolume(ctx, same); err != nil {
		t.Fatalf("a class resturl equal to the Secret's: %v", err)
	}
	for _, bad := range []string{"heketi:8080", "ftp://h", "http://u:p@h:8080", "http://h/?x=1"} {
		r := createReq("pvc-url", giB, nil)
		r.Secrets = map[string]string{"key": "k", "resturl": bad}
		_, err := d.CreateVolume(ctx, r)
		wantCode(t, err, codes.Unavailable, "resturl")
	}
}

// Issue 20, item 5: Heketi's (or any host's) answer came back whole in the gRPC error. Remote text is bounded.
func TestRemoteErrorTextIsBounded(t *testing.T) {
	d := controller(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(strings.Repeat("A very long answer\n", 20000)))
	})}
	go func() { _ = hs.Serve(l) }()
	defer hs.Close()
	r := createReq("pvc-long", giB, nil)
	r.Secrets = map[string]string{"key": "k", "resturl": "http://" + l.Addr().String()}
	_, err = d.CreateVolume(context.Background(), r)
	wantCode(t, err, codes.Internal, "A very long answer")
	if n := len(err.Error()); n > 1024 || strings.Contains(err.Error(), "\n") {
		t.Fatalf("error of %d bytes (newline: %v)", n, strings.Contains(err.Error(), "\n"))
	}
}

// Issue 20, item 4: Heketi serving TLS (the heketi role's certificate), its CA from the Secret's ca.crt.
func TestCreateVolumeAgainstHeketiServingTLS(t *testing.T) {
	dir, err := os.MkdirTemp("", "heketi-csi-tls-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	tlsSrv, err := heketitest.StartTLS(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tlsSrv.Stop()
	d := controller(t)
	ctx := context.Background()
	req := createReq("pvc-tls", giB, nil)
	req.Secrets = tlsSrv.Secrets()
	resp, err := d.CreateVolume(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := tlsSrv.Admin().Volume(ctx, resp.Volume.VolumeId); err != nil || v.Name != "vol_pvc-tls" {
		t.Fatalf("the volume in the TLS Heketi: %v %v", v, err)
	}
	noCA := createReq("pvc-tls-2", giB, nil)
	noCA.Secrets = tlsSrv.Secrets()
	delete(noCA.Secrets, "ca.crt")
	_, err = d.CreateVolume(ctx, noCA)
	wantCode(t, err, codes.Unavailable, "certificate")
	badCA := createReq("pvc-tls-2", giB, nil)
	badCA.Secrets = tlsSrv.Secrets()
	badCA.Secrets["ca.crt"] = "not a certificate"
	_, err = d.CreateVolume(ctx, badCA)
	wantCode(t, err, codes.Unavailable, `"ca.crt"`, "no PEM certificate")
	otherCA := createReq("pvc-tls-2", giB, nil)
	otherCA.Secrets = tlsSrv.Secrets()
	otherCA.Secrets["ca.crt"] = string(tlsSrvOtherCA(t))
	_, err = d.CreateVolume(ctx, otherCA)
	wantCode(t, err, codes.Unavailable, "certificate")
	if _, err := d.DeleteVolume(ctx, &csi.DeleteVolumeRequest{VolumeId: resp.Volume.VolumeId, Secrets: tlsSrv.Secrets()}); err != nil {
		t.Fatal(err)
	}
}

// tlsSrvOtherCA is the CA of another TLS Heketi: valid PEM that did not sign the server's certificate.
func tlsSrvOtherCA(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	s, err := heketitest.StartTLS(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Stop()
	return s.CA
}

// Issue 20, item 8 (Low): a Secret without key was INVALID_ARGUMENT, which csi-provisioner treats as final. A
// Secret's missing or wrong content is UNAVAILABLE: the claim stays in progress, and fixing the Secret binds it.
func TestASecretWithoutKeyIsRetried(t *testing.T) {
	d := controller(t)
	for _, secrets := range []map[string]string{
		{"resturl": srv.URL},
		{"key": srv.AdminKey},
		{"key": srv.AdminKey, "resturl": srv.URL, "ca.crt": "garbage"},
	} {
		r := createReq("pvc-nokey", giB, nil)
		r.Secrets = secrets
		_, err := d.CreateVolume(context.Background(), r)
		wantCode(t, err, codes.Unavailable, "CSI Secret")
	}
}

// Issue 20, item 9: a huge size overflowed (an expand to the int64 limit reported success at 1 GiB).
func TestHugeSizesAreOutOfRange(t *testing.T) {
	d := controller(t)
	ctx := context.Background()
	_, err := d.CreateVolume(ctx, createReq("pvc-huge", math.MaxInt64, nil))
	wantCode(t, err, codes.OutOfRange, "largest volume")
	resp, err := d.CreateVolume(ctx, createReq("pvc-huge", giB, nil))
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.ControllerExpandVolume(ctx, &csi.ControllerExpandVolumeRequest{VolumeId: resp.Volume.VolumeId,
		CapacityRange: &csi.CapacityRange{RequiredBytes: math.MaxInt64 - 1}, Secrets: srv.Secrets()})
	wantCode(t, err, codes.OutOfRange, "largest volume")
	if v, _ := srv.Admin().Volume(ctx, resp.Volume.VolumeId); v.Size != 1 {
		t.Fatalf("the volume changed: %d GiB", v.Size)
	}
}

func heketiRequests(t *testing.T, d *Driver, call string) float64 {
	t.Helper()
	mfs, err := d.metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "heketi_csi_heketi_request_duration_seconds" {
			continue
		}
		for _, m := range mf.Metric {
			if labelIs(m, "call", call) {
				total += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return total
}

func labelIs(m *dto.Metric, name, value string) bool {
	for _, l := range m.Label {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

// Issue 20, item 9: after a controller restart concurrent creates each read every volume (150 volumes x 20
// creates: 3,048 GETs). They share one refresh: each volume Heketi had is read once.
func TestCreatesAfterARestartReadEachVolumeOnce(t *testing.T) {
	seed := controller(t)
	ctx := context.Background()
	for i := 0; i < 12; i++ {
		if _, err := seed.CreateVolume(ctx, createReq("pvc-seed-"+string(rune('a'+i)), giB, nil)); err != nil {
			t.Fatal(err)
		}
	}
	known, err := srv.Volumes()
	if err != nil {
		t.Fatal(err)
	}
	d := controller(t) // the restarted controller: an empty index
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if _, err := d.CreateVolume(ctx, createReq("pvc-restart-"+string(rune('a'+i)), giB, nil)); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	// Each volume Heketi had is read once, each new one at most once more (the create's own answer).
	if got, limit := heketiRequests(t, d, "GET /volumes/{id}"), float64(len(known)+8); got > limit {
		t.Fatalf("8 concurrent creates over %d volumes read volumes %v times (at most %v)", len(known), got, limit)
	}
}

// Issue 20, item 9: the per-URL state grew without bound (a Secret may name any URL).
func TestPerURLStateIsBounded(t *testing.T) {
	d := controller(t)
	for i := 0; i < maxIndexes+10; i++ {
		r := createReq("pvc-urls", giB, nil)
		r.Secrets = map[string]string{"key": "k", "resturl": "http://127.0.0.1:1/h" + string(rune('a'+i))}
		_, _ = d.CreateVolume(context.Background(), r)
	}
	d.mu.Lock()
	n := len(d.indexes)
	d.mu.Unlock()
	if n > maxIndexes {
		t.Fatalf("%d indexes kept", n)
	}
}
