package driver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// GIDAnnotation is the PersistentVolume annotation from which the kubelet adds a GID to the supplemental groups
// of every pod that uses the volume (kubelet's volume manager, for any volume plugin). The in-tree GlusterFS
// provisioner set it; csi-provisioner cannot. The controller sets it on the driver's PVs whose volume has a GID
// (gidMin/gidMax: Heketi makes the brick roots root:<gid> 2775), so that a pod running as any non-root user
// writes to the volume, as it did in-tree, without fsGroup and without any chown of the volume.
const GIDAnnotation = "pv.beta.kubernetes.io/gid"

// KubeAPI is how the controller reaches the Kubernetes API (in a pod: its ServiceAccount).
type KubeAPI struct {
	URL       string // https://host:port
	TokenFile string // read at every request (projected tokens rotate)
	CAFile    string
}

// InClusterAPI is the API of the pod's own cluster, or nil outside a pod.
func InClusterAPI() *KubeAPI {
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return nil
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	const sa = "/var/run/secrets/kubernetes.io/serviceaccount/"
	return &KubeAPI{URL: "https://" + host + ":" + port, TokenFile: sa + "token", CAFile: sa + "ca.crt"}
}

type gidAnnotator struct {
	api    *KubeAPI
	driver string
	http   *http.Client
	done   func(pv string) // told of each PV annotated (metrics)
}

func newGIDAnnotator(api *KubeAPI, driver string, done func(string)) (*gidAnnotator, error) {
	roots := x509.NewCertPool()
	if api.CAFile != "" {
		raw, err := os.ReadFile(api.CAFile)
		if err != nil {
			return nil, fmt.Errorf("the Kubernetes API's CA: %w", err)
		}
		if !roots.AppendCertsFromPEM(raw) {
			return nil, fmt.Errorf("the Kubernetes API's CA %s: no PEM certificate", api.CAFile)
		}
	} else {
		roots = nil
	}
	return &gidAnnotator{api: api, driver: driver, done: done, http: &http.Client{
		Transport: &http.Transport{Proxy: nil, TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}},
	}}, nil
}

func (a *gidAnnotator) request(ctx context.Context, method, path, contentType string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, a.api.URL+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if a.api.TokenFile != "" {
		tok, err := os.ReadFile(a.api.TokenFile)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	return a.http.Do(req)
}

// pvObject is the part of a PersistentVolume the annotator reads.
type pvObject struct {
	Metadata struct {
		Name            string            `json:"name"`
		ResourceVersion string            `json:"resourceVersion"`
		Annotations     map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		CSI *struct {
			Driver           string            `json:"driver"`
			VolumeAttributes map[string]string `json:"volumeAttributes"`
		} `json:"csi"`
	} `json:"spec"`
}

// fix annotates pv when it is the driver's and its volume has a GID the annotation does not say yet.
func (a *gidAnnotator) fix(ctx context.Context, pv *pvObject) error {
	if pv.Spec.CSI == nil || pv.Spec.CSI.Driver != a.driver {
		return nil
	}
	gid := pv.Spec.CSI.VolumeAttributes[CtxGid]
	if gid == "" || pv.Metadata.Annotations[GIDAnnotation] == gid {
		return nil
	}
	if n, err := strconv.ParseInt(gid, 10, 64); err != nil || n <= 0 || n > 1<<31-1 {
		return fmt.Errorf("PV %s: volume attribute gid %q is no GID", pv.Metadata.Name, gid)
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{GIDAnnotation: gid}}})
	resp, err := a.request(ctx, http.MethodPatch, "/api/v1/persistentvolumes/"+pv.Metadata.Name,
		"application/merge-patch+json", patch)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("PATCH PV %s: %d %s", pv.Metadata.Name, resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	log.Printf("PV %s: annotated %s=%s (the kubelet adds the GID to its pods' groups)", pv.Metadata.Name, GIDAnnotation, gid)
	if a.done != nil {
		a.done(pv.Metadata.Name)
	}
	return nil
}

// sync lists every PV, fixes each, and returns the list's resourceVersion.
func (a *gidAnnotator) sync(ctx context.Context) (string, error) {
	resp, err := a.request(ctx, http.MethodGet, "/api/v1/persistentvolumes", "", nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return "", fmt.Errorf("GET persistentvolumes: %d %s", resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	var list struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
		Items []pvObject `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return "", err
	}
	for i := range list.Items {
		if err := a.fix(ctx, &list.Items[i]); err != nil {
			log.Printf("gid annotation: %v", err)
		}
	}
	return list.Metadata.ResourceVersion, nil
}

// watch fixes every PV added or changed after version rv until the watch ends.
func (a *gidAnnotator) watch(ctx context.Context, rv string) error {
	resp, err := a.request(ctx, http.MethodGet,
		"/api/v1/persistentvolumes?watch=1&allowWatchBookmarks=true&timeoutSeconds=600&resourceVersion="+rv, "", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("watching persistentvolumes: %d", resp.StatusCode)
	}
	dec := json.NewDecoder(bufio.NewReader(resp.Body))
	for {
		var ev struct {
			Type   string   `json:"type"`
			Object pvObject `json:"object"`
		}
		if err := dec.Decode(&ev); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		switch ev.Type {
		case "ADDED", "MODIFIED":
			if err := a.fix(ctx, &ev.Object); err != nil {
				log.Printf("gid annotation: %v", err)
			}
		case "ERROR":
			return fmt.Errorf("the watch ended: %s", ev.Object.Metadata.Name)
		}
	}
}

// run keeps the driver's PVs annotated until ctx ends: a list, then a watch, again after every end.
func (a *gidAnnotator) run(ctx context.Context) {
	log.Printf("gid annotation: keeping %s on the PVs of %s at %s", GIDAnnotation, a.driver, a.api.URL)
	delay := time.Second
	for ctx.Err() == nil {
		rv, err := a.sync(ctx)
		if err == nil {
			delay = time.Second
			err = a.watch(ctx, rv)
		}
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			log.Printf("gid annotation: %v (again in %s)", err, delay)
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
			if delay *= 2; delay > time.Minute {
				delay = time.Minute
			}
		}
	}
}
