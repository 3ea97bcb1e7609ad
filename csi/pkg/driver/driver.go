// Package driver implements the CSI Identity, Controller and Node services for GlusterFS volumes
// managed by Heketi.
package driver

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/glusterfs-heketi/heketi-csi/pkg/heketi"
)

// Version is stamped at build time (-ldflags -X).
var Version = "dev"

// Mode selects the services one process serves.
type Mode string

const (
	ModeController Mode = "controller"
	ModeNode       Mode = "node"
)

// Config is what the command line gives the driver. It never holds the Heketi key: that comes
// in every request's CSI secrets.
type Config struct {
	Name   string // CSI driver name, e.g. heketi.csi.glusterfs
	Mode   Mode
	NodeID string
	// OpTimeout bounds one Heketi operation (create, expand, delete) run on behalf of a request.
	// It is independent of the request's deadline: a sidecar that gives up and retries finds the
	// operation still running (Aborted) or finished (the same volume), never a second one.
	OpTimeout time.Duration
	Mounter   Mounter
	// MountTimeout bounds one node operation (stage, publish, unpublish, unstage), independent of the request's
	// deadline as OpTimeout is.
	MountTimeout time.Duration

	// RegistrationDir is where the kubelet's plugin watcher looks for registration sockets (node mode; empty:
	// no registration, e.g. when node-driver-registrar runs beside the driver). KubeletRegistrationPath is the
	// CSI socket's path as the kubelet sees it (default: the endpoint's path).
	RegistrationDir         string
	KubeletRegistrationPath string
	// KubeAPI (controller mode): where the controller keeps the GID annotation of the driver's PVs (GIDAnnotation);
	// nil: it does not.
	KubeAPI *KubeAPI
	// HealthAddress serves GET /healthz, MetricsAddress GET /metrics (HOST:PORT; empty: off).
	HealthAddress  string
	MetricsAddress string
}

// Driver is the CSI plugin.
type Driver struct {
	csi.UnimplementedIdentityServer
	csi.UnimplementedControllerServer
	csi.UnimplementedNodeServer

	cfg Config

	mu       sync.Mutex
	inflight map[string]*operation   // by Heketi volume name (create) or id (delete, expand)
	indexes  map[string]*volumeIndex // by Heketi URL, at most maxIndexes (least recently used dropped)

	metrics *Metrics
	locks   pathLocks        // node operations, by target or staging path
	reg     *Registrar       // nil without registration
	self    *grpc.ClientConn // to the driver's own gRPC server, for the health check
}

// operation is one Heketi write in flight, shared by the request that started it and any retry.
type operation struct {
	done chan struct{}
	err  error
	vol  *heketi.Volume
}

// New checks cfg and returns the driver.
func New(cfg Config) (*Driver, error) {
	if cfg.Name == "" {
		return nil, errors.New("a driver name is required")
	}
	switch cfg.Mode {
	case ModeController:
	case ModeNode:
		if cfg.NodeID == "" {
			return nil, errors.New("node mode needs a node id")
		}
		if cfg.Mounter == nil {
			cfg.Mounter = &NodeMounter{Mode: MountHost}
		}
		if nm, ok := cfg.Mounter.(*NodeMounter); ok {
			if err := nm.Check(); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("mode %q: want controller or node", cfg.Mode)
	}
	if cfg.RegistrationDir != "" && cfg.Mode != ModeNode {
		return nil, errors.New("--registration-dir: only the node plugin registers with the kubelet")
	}
	if cfg.OpTimeout <= 0 {
		cfg.OpTimeout = 10 * time.Minute
	}
	if cfg.MountTimeout <= 0 {
		cfg.MountTimeout = defaultMountTimeout
	}
	d := &Driver{
		cfg:      cfg,
		inflight: map[string]*operation{},
		indexes:  map[string]*volumeIndex{},
		metrics:  newMetrics(),
	}
	if cfg.Mode == ModeNode {
		d.metrics.watchMounts(cfg.Mounter)
	}
	d.metrics.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "heketi_csi_heketi_operations_in_flight",
		Help: "Heketi writes (create, expand, delete) running, each on behalf of a request or of its retries.",
	}, func() float64 {
		d.mu.Lock()
		defer d.mu.Unlock()
		return float64(len(d.inflight))
	}))
	return d, nil
}

// Metrics returns the driver's metrics.
func (d *Driver) Metrics() *Metrics { return d.metrics }

// Serve listens on endpoint (unix:///path or tcp://host:port) until ctx ends; with the configuration's
// addresses it serves /healthz and /metrics, and with a registration folder it registers with the kubelet.
func (d *Driver) Serve(ctx context.Context, endpoint string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if d.cfg.RegistrationDir != "" {
		path := d.cfg.KubeletRegistrationPath
		if path == "" {
			if u, err := url.Parse(endpoint); err == nil && u.Scheme == "unix" {
				path = u.Path
			}
		}
		reg, err := NewRegistrar(d.cfg.Name, d.cfg.RegistrationDir, path)
		if err != nil {
			return err
		}
		d.reg = reg
	}
	lis, err := Listen(endpoint)
	if err != nil {
		return err
	}
	conn, err := selfConn(endpoint)
	if err != nil {
		lis.Close()
		return err
	}
	defer conn.Close()
	d.mu.Lock()
	d.self = conn
	d.mu.Unlock()
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(d.metrics.interceptor, logCalls))
	csi.RegisterIdentityServer(srv, d)
	switch d.cfg.Mode {
	case ModeController:
		csi.RegisterControllerServer(srv, d)
	case ModeNode:
		csi.RegisterNodeServer(srv, d)
	}
	if err := d.startHTTP(ctx); err != nil {
		lis.Close()
		return err
	}
	if d.cfg.Mode == ModeController && d.cfg.KubeAPI != nil {
		a, err := newGIDAnnotator(d.cfg.KubeAPI, d.cfg.Name, func(string) { d.metrics.gidAnnotations.Inc() })
		if err != nil {
			lis.Close()
			return err
		}
		go a.run(ctx)
	}
	errs := make(chan error, 2)
	go func() { errs <- srv.Serve(lis) }()
	log.Printf("heketi-csi %s: %s mode, driver %s, listening on %s", Version, d.cfg.Mode, d.cfg.Name, endpoint)
	regDone := make(chan struct{})
	if d.reg != nil {
		// After the gRPC server: the kubelet calls NodeGetInfo as soon as it has read the registration.
		go func() {
			defer close(regDone)
			if err := d.reg.Run(ctx); err != nil {
				errs <- err
			}
		}()
	} else {
		close(regDone)
	}
	select {
	case <-ctx.Done():
		<-regDone // the registration socket is gone first: the kubelet stops calling
		srv.GracefulStop()
		return nil
	case err := <-errs:
		cancel()
		<-regDone
		srv.Stop()
		return err
	}
}

// Listen opens a CSI endpoint; a stale unix socket file is removed first.
func Listen(endpoint string) (net.Listener, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("endpoint %q: %w", endpoint, err)
	}
	switch u.Scheme {
	case "unix":
		path := u.Path
		if path == "" {
			path = u.Opaque
		}
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("endpoint %q: removing the old socket: %w", endpoint, err)
		}
		return net.Listen("unix", path)
	case "tcp":
		return net.Listen("tcp", u.Host)
	}
	return nil, fmt.Errorf("endpoint %q: want unix:///path or tcp://host:port", endpoint)
}

// logCalls logs every call with its outcome, never its secrets or parameters.
func logCalls(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := handler(ctx, req)
	method := info.FullMethod[strings.LastIndex(info.FullMethod, "/")+1:]
	if err != nil {
		log.Printf("%s: %s (%s)", method, err, time.Since(start).Round(time.Millisecond))
	} else if !strings.HasPrefix(method, "Probe") && !strings.HasPrefix(method, "Get") {
		log.Printf("%s: OK (%s)", method, time.Since(start).Round(time.Millisecond))
	}
	return resp, err
}

// SecretCA is the Secret key of the PEM CA bundle Heketi's TLS certificate is checked against.
const SecretCA = "ca.crt"

// client returns the Heketi client of a request's Secret: its resturl, user (default admin), key and ca.crt.
// The URL comes from the Secret only: a class parameter resturl (or restuser) is accepted when it says the same,
// else INVALID_ARGUMENT, so that no class can point the controller's signed tokens at another host. What is
// missing or wrong in the Secret is UNAVAILABLE: csi-provisioner keeps the claim in progress and retries, and
// fixing the Secret is enough.
func (d *Driver) client(classURL, classUser string, secrets map[string]string) (*heketi.Client, error) {
	u := strings.TrimRight(secrets[SecretRestURL], "/")
	if u == "" {
		return nil, status.Errorf(codes.Unavailable,
			"the CSI Secret has no %q (the Heketi URL): put it in the Secret the StorageClass names "+
				"(csi.storage.k8s.io/provisioner-secret-name, controller-expand-secret-name)", SecretRestURL)
	}
	if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" ||
		pu.User != nil || pu.RawQuery != "" || pu.Fragment != "" {
		return nil, status.Errorf(codes.Unavailable, "the CSI Secret's %q %q: want http(s)://host[:port][/path]", SecretRestURL, u)
	}
	if classURL != "" && classURL != u {
		return nil, status.Errorf(codes.InvalidArgument,
			"parameter resturl=%q differs from the CSI Secret's resturl %q: the Heketi URL comes from the Secret (drop the parameter)", classURL, u)
	}
	user := secrets[SecretUser]
	if user == "" {
		user = "admin"
	}
	if classUser != "" && classUser != user {
		return nil, status.Errorf(codes.InvalidArgument,
			"parameter restuser=%q differs from the CSI Secret's user %q: the Heketi user comes from the Secret (drop the parameter)", classUser, user)
	}
	key := secrets[SecretKey]
	if key == "" {
		return nil, status.Errorf(codes.Unavailable,
			"the CSI Secret has no %q (the Heketi key): put it in the Secret the StorageClass names "+
				"(csi.storage.k8s.io/provisioner-secret-name, controller-expand-secret-name)", SecretKey)
	}
	hc, err := heketi.HTTPClient([]byte(secrets[SecretCA]))
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "the CSI Secret's %q: %v", SecretCA, err)
	}
	c := heketi.New(u, user, []byte(key))
	c.HTTP = hc
	c.Observe = d.metrics.observeHeketi
	return c, nil
}

// heketiStatus turns a Heketi error into a CSI status whose message names the call and answer.
func heketiStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok && !isHeketi(err) {
		return err
	}
	var he *heketi.Error
	if !errors.As(err, &he) {
		return status.Error(codes.Internal, err.Error())
	}
	code := codes.Internal
	switch {
	case he.Status == 0:
		code = codes.Unavailable
	case he.Status == 401 || he.Status == 403:
		code = codes.Unauthenticated
	case he.Status == 404:
		code = codes.NotFound
	case he.Status == 400 || he.Status == 422:
		code = codes.InvalidArgument
	case he.Status == 409:
		code = codes.FailedPrecondition
	case he.Status == 429 || he.Status == 503:
		code = codes.Unavailable
	case strings.Contains(he.Body, "No space"):
		code = codes.ResourceExhausted
	}
	return status.Error(code, he.Error())
}

func isHeketi(err error) bool {
	var he *heketi.Error
	return errors.As(err, &he)
}

// run starts fn as the single operation for key, or joins the one already running, and waits
// for it or for the request's end, whichever comes first. fn runs under its own deadline
// (OpTimeout), so a request that gives up leaves it to finish; a retry that comes while it runs
// is told Aborted (the CSI code for "an operation for this volume is pending").
func (d *Driver) run(ctx context.Context, key string, fn func(context.Context) (*heketi.Volume, error)) (*heketi.Volume, error) {
	d.mu.Lock()
	if op, ok := d.inflight[key]; ok {
		d.mu.Unlock()
		select {
		case <-op.done:
			// Finished just now: the caller looks again (the result is in the index).
			return nil, status.Errorf(codes.Aborted, "an operation on %s has just finished; retry", key)
		default:
			return nil, status.Errorf(codes.Aborted, "an operation on %s is pending in Heketi", key)
		}
	}
	op := &operation{done: make(chan struct{})}
	d.inflight[key] = op
	d.mu.Unlock()
	go func() {
		opCtx, cancel := context.WithTimeout(context.Background(), d.cfg.OpTimeout)
		defer cancel()
		op.vol, op.err = fn(opCtx)
		d.mu.Lock()
		delete(d.inflight, key)
		d.mu.Unlock()
		close(op.done)
	}()
	select {
	case <-op.done:
		return op.vol, op.err
	case <-ctx.Done():
		return nil, status.Errorf(codes.DeadlineExceeded, "%s: still running in Heketi; a retry waits for it: %v", key, ctx.Err())
	}
}
