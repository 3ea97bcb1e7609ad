// Package heketi is a small client for the parts of the Heketi REST API the CSI driver uses.
//
// Heketi (v10) wants a fresh HS256 JWT on every request, whose qsh claim is
// hex(sha256(METHOD + "&" + path)). Writes are asynchronous: 202 Accepted with a relative
// Location /queue/<id>, polled until 303 See Other (the result's location, read with a new
// token), 204 (done, no body) or 500 (failed, plain-text body). Redirects are therefore never
// followed by net/http: each hop is signed for its own path.
package heketi

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Error is a Heketi answer that is not a success, or a transport failure (Status 0).
type Error struct {
	Method string // the call, e.g. "POST /volumes"
	Path   string
	Status int    // HTTP status; 0 when the server could not be reached
	Body   string // Heketi's plain-text message (trimmed), or the transport error
}

func (e *Error) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("heketi %s %s: %s", e.Method, e.Path, e.Body)
	}
	return fmt.Sprintf("heketi %s %s: %d %s", e.Method, e.Path, e.Status, e.Body)
}

// IsNotFound tells whether err is a Heketi 404.
func IsNotFound(err error) bool {
	var he *Error
	return errors.As(err, &he) && he.Status == http.StatusNotFound
}

// Client talks to one Heketi server as one user.
type Client struct {
	URL  string // base URL, e.g. http://heketi:8080
	User string // JWT issuer: "admin" (needed for polling /queue) or "user"
	Key  []byte
	// HTTP is the transport; nil means a shared client that uses no proxy.
	HTTP *http.Client
	// PollMin/PollMax bound the poll interval of the async protocol (doubling from PollMin).
	PollMin, PollMax time.Duration
	// Observe, when set, is told of every request: the call ("GET /volumes/{id}": ids replaced), the HTTP
	// status (0: no answer) and how long it took.
	Observe func(call string, status int, took time.Duration)
}

// MaxErrorBody bounds the text of a remote answer that goes into an error (and so into gRPC errors, events and
// logs): Heketi's messages are one line; anything longer is not Heketi's.
const MaxErrorBody = 512

// errorText is a remote body fit for an error message: one line, printable, at most MaxErrorBody bytes.
func errorText(raw []byte) string {
	s := strings.TrimSpace(string(raw))
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > MaxErrorBody {
		cut := MaxErrorBody
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + fmt.Sprintf("... (%d bytes)", len(raw))
	}
	return s
}

var idSegment = regexp.MustCompile(`/[a-fA-F0-9]{32}(/|$)`)

// callName is method and path with Heketi ids replaced by {id}, a bounded label for metrics.
func callName(method, path string) string {
	return method + " " + idSegment.ReplaceAllString(idSegment.ReplaceAllString(path, "/{id}$1"), "/{id}$1")
}

var defaultHTTP = newHTTP(nil)

// newHTTP is an HTTP client that uses no proxy, trusts roots (nil: the system's) and never follows a redirect
// (every hop needs its own token: a 3xx goes back to the caller).
func newHTTP(roots *x509.CertPool) *http.Client {
	return &http.Client{
		Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 32, IdleConnTimeout: 90 * time.Second,
			TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}},
		Timeout:       60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// maxTrusted bounds the HTTP clients kept for distinct CA bundles.
const maxTrusted = 16

var (
	trustedMu sync.Mutex
	trusted   = map[[32]byte]*http.Client{}
)

// HTTPClient returns the HTTP client that trusts the PEM certificates of caPEM (empty: the system's roots), one
// per distinct bundle (their connections are reused), at most maxTrusted kept.
func HTTPClient(caPEM []byte) (*http.Client, error) {
	if len(bytes.TrimSpace(caPEM)) == 0 {
		return defaultHTTP, nil
	}
	sum := sha256.Sum256(caPEM)
	trustedMu.Lock()
	defer trustedMu.Unlock()
	if c, ok := trusted[sum]; ok {
		return c, nil
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("no PEM certificate in it")
	}
	if len(trusted) >= maxTrusted {
		for k, c := range trusted { // drop one: it is only a cache of connections
			c.CloseIdleConnections()
			delete(trusted, k)
			break
		}
	}
	c := newHTTP(pool)
	trusted[sum] = c
	return c, nil
}

// New returns a client for base URL u with the user and key given.
func New(u, user string, key []byte) *Client {
	return &Client{URL: strings.TrimRight(u, "/"), User: user, Key: key}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// Token returns the JWT Heketi expects for one request: iss, iat, exp (+5 min) and qsh.
func Token(method, path, user string, key []byte, now time.Time) string {
	qsh := sha256.Sum256([]byte(strings.ToUpper(method) + "&" + path))
	claims, _ := json.Marshal(map[string]any{
		"iss": user,
		"iat": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(),
		"qsh": hex.EncodeToString(qsh[:]),
	})
	input := b64([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + b64(claims)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(input))
	return input + "." + b64(mac.Sum(nil))
}

type answer struct {
	status   int
	location string
	pending  bool
	body     []byte
}

// do sends one signed request; path is absolute ("/volumes") and may carry no query.
func (c *Client) do(ctx context.Context, method, path string, body any) (*answer, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, rd)
	if err != nil {
		return nil, &Error{Method: method, Path: path, Body: err.Error()}
	}
	req.Header.Set("Authorization", "bearer "+Token(method, req.URL.Path, c.User, c.Key, time.Now()))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	start := time.Now()
	resp, err := hc.Do(req)
	if c.Observe != nil {
		code := 0
		if err == nil {
			code = resp.StatusCode
		}
		c.Observe(callName(method, path), code, time.Since(start))
	}
	if err != nil {
		return nil, &Error{Method: method, Path: path, Body: err.Error()}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, &Error{Method: method, Path: path, Status: resp.StatusCode, Body: "reading the answer: " + err.Error()}
	}
	return &answer{
		status:   resp.StatusCode,
		location: resp.Header.Get("Location"),
		pending:  strings.EqualFold(resp.Header.Get("X-Pending"), "true"),
		body:     raw,
	}, nil
}

func fail(method, path string, a *answer) error {
	return &Error{Method: method, Path: path, Status: a.status, Body: errorText(a.body)}
}

// locPath turns a Location header (relative, as Heketi sends it, or absolute) into a path.
func locPath(loc string) string {
	if u, err := url.Parse(loc); err == nil && u.Path != "" {
		return u.Path
	}
	return loc
}

// Call runs one request through the async protocol and decodes the final JSON answer into out
// (nil to discard). The error names the call that was made (the original method and path) and
// Heketi's answer to it.
func (c *Client) Call(ctx context.Context, method, path string, body, out any) error {
	a, err := c.do(ctx, method, path, body)
	if err != nil {
		return err
	}
	if a.status == http.StatusAccepted {
		a, err = c.wait(ctx, method, path, a.location)
		if err != nil {
			return err
		}
	}
	if a.status == http.StatusSeeOther {
		next := locPath(a.location)
		if a, err = c.do(ctx, http.MethodGet, next, nil); err != nil {
			return err
		}
	}
	if a.status >= 300 {
		return fail(method, path, a)
	}
	if out != nil && len(bytes.TrimSpace(a.body)) > 0 {
		if err := json.Unmarshal(a.body, out); err != nil {
			return &Error{Method: method, Path: path, Status: a.status, Body: "undecodable answer: " + err.Error()}
		}
	}
	return nil
}

// wait polls the queue entry of an accepted request until it is done.
func (c *Client) wait(ctx context.Context, method, path, location string) (*answer, error) {
	if location == "" {
		return nil, &Error{Method: method, Path: path, Status: http.StatusAccepted, Body: "202 without a Location header"}
	}
	queue := locPath(location)
	delay := c.PollMin
	if delay <= 0 {
		delay = 5 * time.Millisecond
	}
	maxDelay := c.PollMax
	if maxDelay <= 0 {
		maxDelay = 400 * time.Millisecond
	}
	for {
		a, err := c.do(ctx, http.MethodGet, queue, nil)
		if err != nil {
			return nil, err
		}
		switch {
		case a.status == http.StatusOK && a.pending:
		case a.status == http.StatusOK || a.status == http.StatusNoContent || a.status == http.StatusSeeOther:
			return a, nil
		default:
			// 500: the operation failed, the body says why; 404: the queue entry is gone.
			e := fail(method, path, a).(*Error)
			e.Body = fmt.Sprintf("%s (from GET %s)", e.Body, queue)
			return nil, e
		}
		select {
		case <-ctx.Done():
			return nil, &Error{Method: method, Path: path, Body: "gave up waiting for " + queue + ": " + ctx.Err().Error()}
		case <-time.After(delay):
		}
		if delay *= 2; delay > maxDelay {
			delay = maxDelay
		}
	}
}

// Hello is GET /hello (no authentication).
func (c *Client) Hello(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL+"/hello", nil)
	if err != nil {
		return &Error{Method: "GET", Path: "/hello", Body: err.Error()}
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	start := time.Now()
	resp, err := hc.Do(req)
	if c.Observe != nil {
		code := 0
		if err == nil {
			code = resp.StatusCode
		}
		c.Observe("GET /hello", code, time.Since(start))
	}
	if err != nil {
		return &Error{Method: "GET", Path: "/hello", Body: err.Error()}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return &Error{Method: "GET", Path: "/hello", Status: resp.StatusCode, Body: errorText(raw)}
	}
	return nil
}

// Durability is the "durability" object of a volume create request.
type Durability struct {
	Type      string `json:"type,omitempty"` // replicate, disperse, none
	Replicate struct {
		Replica int `json:"replica,omitempty"`
	} `json:"replicate,omitempty"`
	Disperse struct {
		Data       int `json:"data,omitempty"`
		Redundancy int `json:"redundancy,omitempty"`
	} `json:"disperse,omitempty"`
}

// VolumeCreateRequest is the body of POST /volumes. Size is in GiB.
type VolumeCreateRequest struct {
	Size                 int        `json:"size"`
	Name                 string     `json:"name,omitempty"`
	Clusters             []string   `json:"clusters,omitempty"`
	Durability           Durability `json:"durability"`
	Gid                  int64      `json:"gid,omitempty"`
	GlusterVolumeOptions []string   `json:"glustervolumeoptions,omitempty"`
}

// Volume is what GET /volumes/{id} answers (the fields the driver reads).
type Volume struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Size       int        `json:"size"` // GiB
	Cluster    string     `json:"cluster"`
	Gid        int64      `json:"gid"`
	Durability Durability `json:"durability"`
	Mount      struct {
		GlusterFS struct {
			Hosts   []string          `json:"hosts"`
			Device  string            `json:"device"` // "host:volname"
			Options map[string]string `json:"options"`
		} `json:"glusterfs"`
	} `json:"mount"`
}

// CreateVolume is POST /volumes, awaited.
func (c *Client) CreateVolume(ctx context.Context, req *VolumeCreateRequest) (*Volume, error) {
	var v Volume
	if err := c.Call(ctx, http.MethodPost, "/volumes", req, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// Volume is GET /volumes/{id}.
func (c *Client) Volume(ctx context.Context, id string) (*Volume, error) {
	var v Volume
	if err := c.Call(ctx, http.MethodGet, "/volumes/"+url.PathEscape(id), nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// VolumeIDs is GET /volumes (complete volumes only: Heketi hides those still being created).
func (c *Client) VolumeIDs(ctx context.Context) ([]string, error) {
	var list struct {
		Volumes []string `json:"volumes"`
	}
	if err := c.Call(ctx, http.MethodGet, "/volumes", nil, &list); err != nil {
		return nil, err
	}
	return list.Volumes, nil
}

// DeleteVolume is DELETE /volumes/{id}, awaited.
func (c *Client) DeleteVolume(ctx context.Context, id string) error {
	return c.Call(ctx, http.MethodDelete, "/volumes/"+url.PathEscape(id), nil, nil)
}

// ExpandVolume is POST /volumes/{id}/expand with the growth in GiB, awaited.
func (c *Client) ExpandVolume(ctx context.Context, id string, byGiB int) (*Volume, error) {
	var v Volume
	body := map[string]int{"expand_size": byGiB}
	if err := c.Call(ctx, http.MethodPost, "/volumes/"+url.PathEscape(id)+"/expand", body, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// ClusterIDs is GET /clusters: an authenticated read (admin only), used to check the key.
func (c *Client) ClusterIDs(ctx context.Context) ([]string, error) {
	var list struct {
		Clusters []string `json:"clusters"`
	}
	if err := c.Call(ctx, http.MethodGet, "/clusters", nil, &list); err != nil {
		return nil, err
	}
	return list.Clusters, nil
}
