package driver

import (
	"context"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/glusterfs-heketi/heketi-csi/pkg/heketi"
)

// GetPluginInfo names the driver.
func (d *Driver) GetPluginInfo(context.Context, *csi.GetPluginInfoRequest) (*csi.GetPluginInfoResponse, error) {
	return &csi.GetPluginInfoResponse{Name: d.cfg.Name, VendorVersion: Version}, nil
}

// GetPluginCapabilities: the controller service and online expansion (a FUSE mount sees the new
// size at once: no node-side step).
func (d *Driver) GetPluginCapabilities(context.Context, *csi.GetPluginCapabilitiesRequest) (*csi.GetPluginCapabilitiesResponse, error) {
	caps := []*csi.PluginCapability{{Type: &csi.PluginCapability_VolumeExpansion_{
		VolumeExpansion: &csi.PluginCapability_VolumeExpansion{Type: csi.PluginCapability_VolumeExpansion_ONLINE}}}}
	if d.cfg.Mode == ModeController {
		caps = append(caps, &csi.PluginCapability{Type: &csi.PluginCapability_Service_{
			Service: &csi.PluginCapability_Service{Type: csi.PluginCapability_Service_CONTROLLER_SERVICE}}})
	}
	return &csi.GetPluginCapabilitiesResponse{Capabilities: caps}, nil
}

// Probe: in controller mode, Heketi must answer /hello at the configured URL and, once a request
// has brought credentials, accept them (an authenticated GET /clusters). Probe itself carries
// no secrets, and the driver has no key of its own. A node is always ready.
func (d *Driver) Probe(ctx context.Context, _ *csi.ProbeRequest) (*csi.ProbeResponse, error) {
	if d.cfg.Mode != ModeController {
		return &csi.ProbeResponse{Ready: wrapperspb.Bool(true)}, nil
	}
	c := d.knownClient()
	if c == nil {
		if d.cfg.RestURL == "" {
			return &csi.ProbeResponse{Ready: wrapperspb.Bool(true)}, nil
		}
		if err := heketi.New(d.cfg.RestURL, "", nil).Hello(ctx); err != nil {
			return nil, status.Error(codes.FailedPrecondition, err.Error())
		}
		return &csi.ProbeResponse{Ready: wrapperspb.Bool(true)}, nil
	}
	if err := c.Hello(ctx); err != nil {
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	}
	if _, err := c.ClusterIDs(ctx); err != nil {
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	}
	return &csi.ProbeResponse{Ready: wrapperspb.Bool(true)}, nil
}
