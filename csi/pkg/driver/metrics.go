package driver

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// Metrics are the driver's Prometheus metrics (names in csi/README.md), in a registry of the driver's own.
type Metrics struct {
	Registry *prometheus.Registry

	calls         *prometheus.HistogramVec // CSI calls by method and code
	callsInFlight *prometheus.GaugeVec     // CSI calls running, by method
	heketi        *prometheus.HistogramVec // Heketi requests by call and status
	repairs       *prometheus.CounterVec   // dead mounts mounted again, by stage or publish
	// gidAnnotations counts the PVs given the GID annotation.
	gidAnnotations prometheus.Counter
}

// latencyBuckets span a local call (1 ms) to a slow Heketi operation (2 min).
var latencyBuckets = []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}

func newMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		calls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "heketi_csi_call_duration_seconds",
			Help:    "CSI calls served, by method and gRPC code, with their duration.",
			Buckets: latencyBuckets,
		}, []string{"method", "code"}),
		callsInFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "heketi_csi_calls_in_flight",
			Help: "CSI calls being served, by method.",
		}, []string{"method"}),
		heketi: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "heketi_csi_heketi_request_duration_seconds",
			Help:    "Requests to Heketi, by call (method and path with ids replaced by {id}) and HTTP status (0: not reached), with their duration.",
			Buckets: latencyBuckets,
		}, []string{"call", "status"}),
	}
	m.repairs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "heketi_csi_node_mount_repairs_total",
		Help: "Mounts whose GlusterFS FUSE client was gone (ENOTCONN), mounted again, by the call that found them (stage, publish).",
	}, []string{"call"})
	m.gidAnnotations = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "heketi_csi_pv_gid_annotations_total",
		Help: "PersistentVolumes of the driver given the annotation pv.beta.kubernetes.io/gid (their volume's GID).",
	})
	m.Registry.MustRegister(m.calls, m.callsInFlight, m.heketi, m.repairs, m.gidAnnotations,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// interceptor counts and times every CSI call.
func (m *Metrics) interceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	method := info.FullMethod[strings.LastIndex(info.FullMethod, "/")+1:]
	g := m.callsInFlight.WithLabelValues(method)
	g.Inc()
	start := time.Now()
	resp, err := handler(ctx, req)
	g.Dec()
	m.calls.WithLabelValues(method, status.Code(err).String()).Observe(time.Since(start).Seconds())
	return resp, err
}

// watchMounts adds the node's GlusterFS mounts, read from its mount table at every scrape: the mounts (staging
// mounts and the binds into pods) and the FUSE clients (one per distinct device).
func (m *Metrics) watchMounts(mounter Mounter) {
	count := func(clients bool) float64 {
		entries, err := mounter.Mounts()
		if err != nil {
			return -1
		}
		n, devices := 0, map[string]bool{}
		for _, e := range entries {
			if e.FSType == "fuse.glusterfs" {
				n++
				devices[e.Device] = true
			}
		}
		if clients {
			return float64(len(devices))
		}
		return float64(n)
	}
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "heketi_csi_node_glusterfs_mounts",
			Help: "GlusterFS mounts in the node's mount table (staging mounts and the binds into pods); -1 when unreadable.",
		}, func() float64 { return count(false) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "heketi_csi_node_fuse_clients",
			Help: "GlusterFS FUSE clients of the node's mounts (distinct devices of its GlusterFS mounts: a dead client counts until its last mount is gone); -1 when unreadable.",
		}, func() float64 { return count(true) }),
	)
}

// observeHeketi records one Heketi request (heketi.Client.Observe).
func (m *Metrics) observeHeketi(call string, code int, took time.Duration) {
	m.heketi.WithLabelValues(call, strconv.Itoa(code)).Observe(took.Seconds())
}
