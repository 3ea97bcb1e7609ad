package driver

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"google.golang.org/grpc"
	registerapi "k8s.io/kubelet/pkg/apis/pluginregistration/v1"
)

// Registrar registers the node plugin with the kubelet through the kubelet's plugin registration API
// (what node-driver-registrar does, in the driver itself): it serves the Registration service on
// <dir>/<driver name>-reg.sock, the kubelet's plugin watcher finds the socket, asks GetInfo (type CSIPlugin,
// the driver name, the CSI socket as the kubelet sees it, the CSI versions), calls the driver's NodeGetInfo
// and reports the outcome with NotifyRegistrationStatus.
//
// A socket that disappears (the kubelet's registration folder emptied, a kubelet reinstalled) is made
// again, which the kubelet's watcher sees as a new plugin: registration needs no restart of the driver.
type Registrar struct {
	name     string
	endpoint string // the CSI socket path as the kubelet sees it
	sock     string

	mu     sync.Mutex
	state  RegistrationState
	detail string // the kubelet's error when it refused the plugin
	srv    *grpc.Server

	registerapi.UnimplementedRegistrationServer
}

// RegistrationState is where the registration with the kubelet stands.
type RegistrationState string

const (
	RegistrationOff     RegistrationState = "off"     // no registration folder given
	RegistrationPending RegistrationState = "pending" // serving, the kubelet has not answered yet
	RegistrationDone    RegistrationState = "registered"
	RegistrationRefused RegistrationState = "refused"
)

// registrationVersion is the CSI version offered to the kubelet (it wants a 1.x).
const registrationVersion = "1.0.0"

// registrationRecheck is how often the registration socket's presence is checked.
var registrationRecheck = 5 * time.Second

// NewRegistrar returns the registrar of driver name on dir/<name>-reg.sock; endpoint is the CSI socket path
// the kubelet connects to.
func NewRegistrar(name, dir, endpoint string) (*Registrar, error) {
	if dir == "" {
		return nil, errors.New("--registration-dir is empty")
	}
	if endpoint == "" {
		return nil, errors.New("--kubelet-registration-path is empty: give the CSI socket path as the kubelet sees it")
	}
	if !filepath.IsAbs(endpoint) {
		return nil, fmt.Errorf("--kubelet-registration-path %q: want an absolute path", endpoint)
	}
	return &Registrar{name: name, endpoint: endpoint, sock: filepath.Join(dir, name+"-reg.sock"), state: RegistrationPending}, nil
}

// Socket is the registration socket's path.
func (r *Registrar) Socket() string { return r.sock }

// GetInfo tells the kubelet what plugin this is and where its CSI socket is.
func (r *Registrar) GetInfo(context.Context, *registerapi.InfoRequest) (*registerapi.PluginInfo, error) {
	return &registerapi.PluginInfo{
		Type:              registerapi.CSIPlugin,
		Name:              r.name,
		Endpoint:          r.endpoint,
		SupportedVersions: []string{registrationVersion},
	}, nil
}

// NotifyRegistrationStatus records the kubelet's verdict.
func (r *Registrar) NotifyRegistrationStatus(_ context.Context, s *registerapi.RegistrationStatus) (*registerapi.RegistrationStatusResponse, error) {
	r.mu.Lock()
	if s.GetPluginRegistered() {
		r.state, r.detail = RegistrationDone, ""
	} else {
		r.state, r.detail = RegistrationRefused, s.GetError()
	}
	r.mu.Unlock()
	if s.GetPluginRegistered() {
		log.Printf("registration: the kubelet registered %s (CSI socket %s)", r.name, r.endpoint)
	} else {
		log.Printf("registration: the kubelet refused %s: %s", r.name, s.GetError())
	}
	return &registerapi.RegistrationStatusResponse{}, nil
}

// State returns the registration state and, when refused, the kubelet's reason.
func (r *Registrar) State() (RegistrationState, string) {
	if r == nil {
		return RegistrationOff, ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state, r.detail
}

// listen (re)creates the registration socket and serves it.
func (r *Registrar) listen() error {
	if err := os.Remove(r.sock); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("registration socket %s: removing the old one: %w", r.sock, err)
	}
	lis, err := net.Listen("unix", r.sock)
	if err != nil {
		return fmt.Errorf("registration socket %s: %w", r.sock, err)
	}
	// Stopping the server of a socket that was replaced must not unlink its successor.
	lis.(*net.UnixListener).SetUnlinkOnClose(false)
	srv := grpc.NewServer()
	registerapi.RegisterRegistrationServer(srv, r)
	r.mu.Lock()
	old := r.srv
	r.srv, r.state, r.detail = srv, RegistrationPending, ""
	r.mu.Unlock()
	if old != nil {
		old.Stop()
	}
	go func() { _ = srv.Serve(lis) }()
	log.Printf("registration: serving %s for the kubelet's plugin watcher", r.sock)
	return nil
}

// Run serves the registration socket until ctx ends, making it again when it disappears, and removes it at
// the end (the kubelet then deregisters the plugin).
func (r *Registrar) Run(ctx context.Context) error {
	if err := r.listen(); err != nil {
		return err
	}
	t := time.NewTicker(registrationRecheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			r.mu.Lock()
			srv := r.srv
			r.mu.Unlock()
			srv.Stop()
			_ = os.Remove(r.sock)
			return nil
		case <-t.C:
			if _, err := os.Stat(r.sock); os.IsNotExist(err) {
				log.Printf("registration: %s disappeared; serving it again", r.sock)
				if err := r.listen(); err != nil {
					log.Printf("registration: %v", err)
				}
			}
		}
	}
}
