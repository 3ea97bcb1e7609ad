package driver

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"

	"github.com/glusterfs-heketi/heketi-csi/pkg/heketi"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// healthTimeout bounds the Probe the health endpoint sends to the driver's own gRPC server.
const healthTimeout = 3 * time.Second

// dialTarget turns a CSI endpoint (unix:///path, tcp://host:port) into a gRPC client target.
func dialTarget(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", err
	}
	switch u.Scheme {
	case "unix":
		path := u.Path
		if path == "" {
			path = u.Opaque
		}
		return "unix://" + path, nil
	case "tcp":
		return "passthrough:///" + u.Host, nil
	}
	return "", fmt.Errorf("endpoint %q: want unix:///path or tcp://host:port", endpoint)
}

// Healthy tells whether the driver serves: its gRPC server answers Probe and, in node mode with registration,
// the kubelet has registered it. The error says what is missing.
func (d *Driver) Healthy(ctx context.Context) error {
	d.mu.Lock()
	conn := d.self
	d.mu.Unlock()
	if conn == nil {
		return errors.New("the CSI server is not started")
	}
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	resp, err := csi.NewIdentityClient(conn).Probe(ctx, &csi.ProbeRequest{})
	if err != nil {
		return fmt.Errorf("the CSI server does not answer Probe: %w", err)
	}
	if r := resp.GetReady(); r != nil && !r.GetValue() {
		return errors.New("the CSI server answers Probe: not ready")
	}
	switch state, detail := d.reg.State(); state {
	case RegistrationPending:
		return fmt.Errorf("waiting for the kubelet to register the plugin (socket %s)", d.reg.Socket())
	case RegistrationRefused:
		return fmt.Errorf("the kubelet refused the plugin: %s", detail)
	}
	return nil
}

// serveHealthz answers /healthz; with ?heketi=1 it adds a line per Heketi server the driver has talked to
// (GET /hello, no credentials), which never changes the status: Heketi is the tenants', not the driver's.
func (d *Driver) serveHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	err := d.Healthy(r.Context())
	if err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, err)
	} else {
		fmt.Fprintln(w, "ok")
	}
	if r.URL.Query().Get("heketi") == "" {
		return
	}
	for _, u := range d.heketiURLs() {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		if err := d.helloClient(u).Hello(ctx); err != nil {
			fmt.Fprintf(w, "heketi %s: unreachable: %v\n", u, err)
		} else {
			fmt.Fprintf(w, "heketi %s: reachable\n", u)
		}
		cancel()
	}
}

// startHTTP serves /healthz on cfg.HealthAddress and /metrics on cfg.MetricsAddress (one server when both are
// the same address) until ctx ends.
func (d *Driver) startHTTP(ctx context.Context) error {
	muxes := map[string]*http.ServeMux{}
	mux := func(addr string) *http.ServeMux {
		if muxes[addr] == nil {
			muxes[addr] = http.NewServeMux()
		}
		return muxes[addr]
	}
	if a := d.cfg.HealthAddress; a != "" {
		mux(a).HandleFunc("/healthz", d.serveHealthz)
	}
	if a := d.cfg.MetricsAddress; a != "" {
		mux(a).Handle("/metrics", promhttp.HandlerFor(d.metrics.Registry, promhttp.HandlerOpts{}))
	}
	for addr, m := range muxes {
		lis, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("listening on %s: %w", addr, err)
		}
		srv := &http.Server{Handler: m, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(lis) }()
		go func() {
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		}()
		log.Printf("http: serving %s", lis.Addr())
	}
	return nil
}

// selfConn is the client connection the health check probes the driver's own gRPC server with.
func selfConn(endpoint string) (*grpc.ClientConn, error) {
	target, err := dialTarget(endpoint)
	if err != nil {
		return nil, err
	}
	return grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
}

// heketiURLs lists the Heketi servers the driver has talked to, sorted.
func (d *Driver) heketiURLs() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	urls := make([]string, 0, len(d.indexes))
	for u := range d.indexes {
		urls = append(urls, u)
	}
	sort.Strings(urls)
	return urls
}

// helloClient is a client without credentials for GET /hello of url.
func (d *Driver) helloClient(url string) *heketi.Client { return heketi.New(url, "", nil) }
