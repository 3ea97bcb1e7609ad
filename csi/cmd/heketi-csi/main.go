// Command heketi-csi is the CSI driver for GlusterFS volumes managed by Heketi.
//
//	heketi-csi --mode controller --endpoint unix:///csi/csi.sock
//	heketi-csi --mode node --endpoint unix:///csi/csi.sock --nodeid $(NODE_NAME) \
//	  --registration-dir /registration \
//	  --kubelet-registration-path /var/lib/kubelet/plugins/heketi.csi.glusterfs/csi.sock
//
// --health-address HOST:PORT serves GET /healthz, --metrics-address HOST:PORT GET /metrics (both off when
// empty; one server when both name the same address).
//
// Heketi's URL, user, key and CA are never flags or environment variables: they come in the CSI secrets of
// each request (the Secret the StorageClass names).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/glusterfs-heketi/heketi-csi/pkg/driver"
)

func main() {
	driver.RunLauncher() // a copy of the driver started to launch a FUSE client in its cgroup never returns
	var (
		mode      = flag.String("mode", "", "controller or node")
		endpoint  = flag.String("endpoint", "unix:///csi/csi.sock", "CSI endpoint: unix:///path or tcp://host:port")
		name      = flag.String("drivername", "heketi.csi.glusterfs", "CSI driver name")
		nodeID    = flag.String("nodeid", "", "node id (node mode; default: the host name)")
		opTimeout = flag.Duration("operation-timeout", 10*time.Minute, "upper bound of one Heketi operation")
		version   = flag.Bool("version", false, "print the version and exit")
		regDir    = flag.String("registration-dir", "", "node mode: the kubelet's plugin registration folder as mounted in the container "+
			"(e.g. /registration from /var/lib/kubelet/plugins_registry); the driver serves <dir>/<drivername>-reg.sock there. Empty: no registration")
		regPath = flag.String("kubelet-registration-path", "", "node mode: the CSI socket's path as the kubelet sees it "+
			"(e.g. /var/lib/kubelet/plugins/heketi.csi.glusterfs/csi.sock; default: the endpoint's path)")
		mounter = flag.String("mounter", string(driver.MountHost), "node mode: where the GlusterFS FUSE clients run: "+
			"host (in the node's namespaces, in a systemd scope or --fuse-cgroup: they outlive the node plugin; the node needs "+
			"glusterfs-client and the pod hostPID: true) or container (the image's client, in the plugin's container: "+
			"mounts end with it)")
		hostProcess = flag.String("host-process", "1", "node mode, --mounter=host: the node process whose namespaces the mounts "+
			"are made in: a PID or a command name (e.g. kubelet, when the kubelet runs in a mount namespace of its own)")
		fuseCgroup = flag.String("fuse-cgroup", "heketi-csi-fuse", "node mode, --mounter=host, no systemd on the node: the cgroup "+
			"(below each hierarchy's root) the FUSE clients are moved to")
		mountTimeout = flag.Duration("mount-timeout", 2*time.Minute, "node mode: upper bound of one stage, publish, unpublish or unstage")
		gidAnnotate  = flag.Bool("pv-gid-annotation", true, "controller mode: give the driver's PVs whose volume has a GID "+
			"the annotation pv.beta.kubernetes.io/gid (the kubelet then adds the GID to their pods' groups); needs the Kubernetes API")
		kubeAPI       = flag.String("kube-api", "", "controller mode: the Kubernetes API URL (default: the pod's cluster, from its ServiceAccount)")
		kubeTokenFile = flag.String("kube-token-file", "", "controller mode, with --kube-api: a file holding the bearer token")
		kubeCAFile    = flag.String("kube-ca-file", "", "controller mode, with --kube-api: the API server's CA (PEM)")
		healthAddr    = flag.String("health-address", "", "HOST:PORT serving GET /healthz (empty: off)")
		metricsAddr   = flag.String("metrics-address", "", "HOST:PORT serving the Prometheus metrics at GET /metrics (empty: off)")
	)
	flag.Parse()
	if *version {
		fmt.Println("heketi-csi", driver.Version)
		return
	}
	if *mode == string(driver.ModeNode) && *nodeID == "" {
		h, err := os.Hostname()
		if err != nil {
			log.Fatalf("--nodeid not given and no host name: %v", err)
		}
		*nodeID = h
	}
	var m driver.Mounter
	switch driver.MounterMode(*mounter) {
	case driver.MountHost, driver.MountContainer:
		m = &driver.NodeMounter{Mode: driver.MounterMode(*mounter), HostProcess: *hostProcess, FuseCgroup: *fuseCgroup}
	default:
		fmt.Fprintf(os.Stderr, "heketi-csi: --mounter %q: want host or container\n", *mounter)
		os.Exit(2)
	}
	var api *driver.KubeAPI
	if *mode == string(driver.ModeController) && *gidAnnotate {
		if *kubeAPI != "" {
			api = &driver.KubeAPI{URL: strings.TrimRight(*kubeAPI, "/"), TokenFile: *kubeTokenFile, CAFile: *kubeCAFile}
		} else if api = driver.InClusterAPI(); api == nil {
			log.Printf("gid annotation: off (no --kube-api and not in a pod)")
		}
	}
	d, err := driver.New(driver.Config{
		Name: *name, Mode: driver.Mode(*mode), NodeID: *nodeID,
		OpTimeout: *opTimeout, Mounter: m, MountTimeout: *mountTimeout,
		RegistrationDir: *regDir, KubeletRegistrationPath: *regPath,
		HealthAddress: *healthAddr, MetricsAddress: *metricsAddr, KubeAPI: api,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "heketi-csi:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := d.Serve(ctx, *endpoint); err != nil {
		log.Fatal(err)
	}
}
