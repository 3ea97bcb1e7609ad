// Package heketitest runs the REAL Heketi server (mock executor) for the driver's tests and
// benchmark: the binary tools/build-heketi.sh builds, on a free loopback port, with a generated
// heketi.json, random keys, a fresh database and a topology of 3 nodes in 3 zones with 2 devices
// each (every asynchronous add awaited).
package heketitest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/glusterfs-heketi/heketi-csi/pkg/heketi"
)

// Server is one running Heketi.
type Server struct {
	URL       string
	CA        []byte // PEM of the CA that signed the server's certificate (TLS only)
	AdminKey  string
	UserKey   string
	ClusterID string
	Dir       string
	cmd       *exec.Cmd
	log       *os.File
}

// Binary finds the heketi server: $HEKETI_BIN, else .cache/heketi/bin/heketi above the cwd.
func Binary() (string, error) {
	if b := os.Getenv("HEKETI_BIN"); b != "" {
		return b, nil
	}
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		b := filepath.Join(d, ".cache", "heketi", "bin", "heketi")
		if st, err := os.Stat(b); err == nil && !st.IsDir() {
			return b, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no heketi binary: build it with tools/build-heketi.sh or set HEKETI_BIN (looked above %s)", dir)
		}
	}
}

func randomKey(prefix string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start starts Heketi in dir and loads the topology.
func Start(dir string) (*Server, error) { return start(dir, false) }

// StartTLS starts Heketi serving HTTPS (enable_tls) with a certificate for 127.0.0.1 signed by a CA of its own
// (Server.CA), and loads the topology.
func StartTLS(dir string) (*Server, error) { return start(dir, true) }

func start(dir string, useTLS bool) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), AdminKey: randomKey("adm-"), UserKey: randomKey("usr-"), Dir: dir}
	cfg := map[string]any{
		"port": strconv.Itoa(port),
		"jwt":  map[string]any{"admin": map[string]string{"key": s.AdminKey}, "user": map[string]string{"key": s.UserKey}},
		"glusterfs": map[string]any{
			"executor": "mock", "db": filepath.Join(dir, "heketi.db"), "loglevel": "info",
		},
	}
	if useTLS {
		ca, cert, key, err := certificates()
		if err != nil {
			return nil, err
		}
		s.CA = ca
		s.URL = "https://127.0.0.1:" + strconv.Itoa(port)
		for name, pem := range map[string][]byte{"server.crt": cert, "server.key": key} {
			if err := os.WriteFile(filepath.Join(dir, name), pem, 0o600); err != nil {
				return nil, err
			}
		}
		cfg["enable_tls"] = true
		cfg["cert_file"] = filepath.Join(dir, "server.crt")
		cfg["key_file"] = filepath.Join(dir, "server.key")
	}
	raw, _ := json.MarshalIndent(cfg, "", "  ")
	conf := filepath.Join(dir, "heketi.json")
	if err := os.WriteFile(conf, raw, 0o600); err != nil {
		return nil, err
	}
	if s.log, err = os.Create(filepath.Join(dir, "heketi.log")); err != nil {
		return nil, err
	}
	s.cmd = exec.Command(bin, "--config="+conf)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "HEKETI_") {
			s.cmd.Env = append(s.cmd.Env, e)
		}
	}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	c := s.Admin()
	deadline := time.Now().Add(30 * time.Second)
	for c.Hello(context.Background()) != nil {
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("heketi did not answer /hello on %s: %s", s.URL, s.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := s.load(); err != nil {
		s.Stop()
		return nil, fmt.Errorf("loading the topology: %w", err)
	}
	return s, nil
}

// load adds 1 cluster, 3 nodes (zones 1-3, storage hostnames 192.0.2.1-3: documentation addresses
// nothing connects to with the mock executor) and 2 devices per node, each add awaited.
func (s *Server) load() error {
	ctx := context.Background()
	c := s.Admin()
	var cluster struct {
		ID string `json:"id"`
	}
	if err := c.Call(ctx, http.MethodPost, "/clusters", map[string]bool{"file": true, "block": true}, &cluster); err != nil {
		return err
	}
	s.ClusterID = cluster.ID
	for i := 1; i <= 3; i++ {
		var node struct {
			ID string `json:"id"`
		}
		body := map[string]any{
			"zone":    i,
			"cluster": cluster.ID,
			"hostnames": map[string][]string{
				"manage":  {fmt.Sprintf("node%d.example.test", i)},
				"storage": {fmt.Sprintf("192.0.2.%d", i)},
			},
		}
		if err := c.Call(ctx, http.MethodPost, "/nodes", body, &node); err != nil {
			return err
		}
		for _, dev := range []string{"/dev/sdb", "/dev/sdc"} {
			if err := c.Call(ctx, http.MethodPost, "/devices", map[string]any{"node": node.ID, "name": dev}, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// Admin is a client with the admin key (the tests' own view of Heketi).
func (s *Server) Admin() *heketi.Client {
	c := heketi.New(s.URL, "admin", []byte(s.AdminKey))
	if s.CA != nil {
		c.HTTP, _ = heketi.HTTPClient(s.CA)
	}
	return c
}

// Secrets are the CSI secrets a StorageClass would hand the driver.
func (s *Server) Secrets() map[string]string {
	out := map[string]string{"key": s.AdminKey, "user": "admin", "resturl": s.URL}
	if s.CA != nil {
		out["ca.crt"] = string(s.CA)
	}
	return out
}

// certificates makes a CA and a server certificate for 127.0.0.1 signed by it (PEM).
func certificates() (caPEM, certPEM, keyPEM []byte, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "heketitest CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caTmpl, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}

// Volumes reads every volume Heketi holds.
func (s *Server) Volumes() ([]*heketi.Volume, error) {
	ctx := context.Background()
	c := s.Admin()
	ids, err := c.VolumeIDs(ctx)
	if err != nil {
		return nil, err
	}
	var out []*heketi.Volume
	for _, id := range ids {
		v, err := c.Volume(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Pause and Resume stop and continue the server process (SIGSTOP/SIGCONT): a Heketi that
// accepts connections but answers nothing, as a hung server does.
func (s *Server) Pause() error  { return s.cmd.Process.Signal(syscall.SIGSTOP) }
func (s *Server) Resume() error { return s.cmd.Process.Signal(syscall.SIGCONT) }

// Log is what the server logged so far.
func (s *Server) Log() string {
	raw, _ := os.ReadFile(filepath.Join(s.Dir, "heketi.log"))
	return string(raw)
}

// Stop ends the server.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGCONT)
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-done
		}
	}
	if s.log != nil {
		s.log.Close()
	}
}
