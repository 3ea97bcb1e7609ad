package driver

import (
	"context"
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
}

// latencyBuckets span a local call (1 ms) to a slow Heketi operation (2 min).
var latencyBuckets = []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}

func newMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		calls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "heketi_csi_call_duration_seconds",
			Help: "CSI calls served, by method and gRPC code, with their duration.",
			Buckets: latencyBuckets,
		}, []string{"method", "code"}),
		callsInFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "heketi_csi_calls_in_flight",
			Help: "CSI calls being served, by method.",
		}, []string{"method"}),
		heketi: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "heketi_csi_heketi_request_duration_seconds",
			Help: "Requests to Heketi, by call (method and path with ids replaced by {id}) and HTTP status (0: not reached), with their duration.",
			Buckets: latencyBuckets,
		}, []string{"call", "status"}),
	}
	m.Registry.MustRegister(m.calls, m.callsInFlight, m.heketi,
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
