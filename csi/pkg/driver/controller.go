package driver

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/glusterfs-heketi/heketi-csi/pkg/heketi"
)

const giB = int64(1) << 30

// maxGiB is the largest size the driver asks Heketi for (Heketi's sizes are int32 GiB).
const maxGiB = int64(math.MaxInt32)

// sizeGiB rounds a capacity range up to whole GiB (Heketi sizes volumes in GiB); 0 means 1 GiB.
func sizeGiB(r *csi.CapacityRange) (int, error) {
	if r == nil {
		return 1, nil
	}
	req, lim := r.GetRequiredBytes(), r.GetLimitBytes()
	if req < 0 || lim < 0 {
		return 0, status.Errorf(codes.InvalidArgument, "capacity_range: negative bytes (required %d, limit %d)", req, lim)
	}
	if lim > 0 && req > lim {
		return 0, status.Errorf(codes.InvalidArgument, "capacity_range: required_bytes %d above limit_bytes %d", req, lim)
	}
	gib := req / giB // rounded up without (req + giB - 1), which overflows near the int64 limit
	if req%giB != 0 {
		gib++
	}
	if gib == 0 {
		gib = 1
	}
	if gib > maxGiB {
		return 0, status.Errorf(codes.OutOfRange, "capacity_range: %d bytes is above the largest volume, %d GiB", req, maxGiB)
	}
	if lim > 0 && gib*giB > lim {
		return 0, status.Errorf(codes.OutOfRange,
			"capacity_range: Heketi sizes volumes in whole GiB; %d GiB is above limit_bytes %d", gib, lim)
	}
	return int(gib), nil
}

// checkCapabilities refuses what a GlusterFS (FUSE) volume cannot be: a block device.
func checkCapabilities(caps []*csi.VolumeCapability) error {
	if len(caps) == 0 {
		return status.Error(codes.InvalidArgument, "volume_capabilities: at least one is required")
	}
	for _, c := range caps {
		if reason := unsupported(c); reason != "" {
			return status.Error(codes.InvalidArgument, "volume_capabilities: "+reason)
		}
	}
	return nil
}

// unsupported says why one capability cannot be served, or "" when it can.
func unsupported(c *csi.VolumeCapability) string {
	if c.GetBlock() != nil {
		return "block access is not supported: a GlusterFS volume is a file system (use volumeMode: Filesystem)"
	}
	m := c.GetMount()
	if m == nil {
		return "an access type (mount) is required"
	}
	if fs := m.GetFsType(); fs != "" && fs != "glusterfs" {
		return fmt.Sprintf("fs_type %q: the volume is mounted as glusterfs", fs)
	}
	if c.GetAccessMode().GetMode() == csi.VolumeCapability_AccessMode_UNKNOWN {
		return "access mode is required (RWO, RWOP, RWX or ROX)"
	}
	return ""
}

func volumeContext(v *heketi.Volume) map[string]string {
	ctx := map[string]string{CtxVolume: v.Name}
	dev := v.Mount.GlusterFS.Device
	if i := strings.LastIndex(dev, ":"); i > 0 {
		ctx[CtxServer] = dev[:i]
		ctx[CtxVolume] = dev[i+1:]
	} else if len(v.Mount.GlusterFS.Hosts) > 0 {
		ctx[CtxServer] = v.Mount.GlusterFS.Hosts[0]
	}
	if b := v.Mount.GlusterFS.Options["backup-volfile-servers"]; b != "" {
		ctx[CtxBackups] = b
	}
	if v.Gid != 0 {
		ctx[CtxGid] = strconv.FormatInt(v.Gid, 10)
	}
	return ctx
}

func csiVolume(v *heketi.Volume) *csi.Volume {
	return &csi.Volume{VolumeId: v.ID, CapacityBytes: int64(v.Size) * giB, VolumeContext: volumeContext(v)}
}

// CreateVolume makes (or finds) the Heketi volume named after the request name.
func (d *Driver) CreateVolume(ctx context.Context, req *csi.CreateVolumeRequest) (*csi.CreateVolumeResponse, error) {
	if req.GetName() == "" {
		return nil, status.Error(codes.InvalidArgument, "name is required")
	}
	if err := checkCapabilities(req.GetVolumeCapabilities()); err != nil {
		return nil, err
	}
	if req.GetVolumeContentSource() != nil {
		// Heketi has no snapshot API. Its clone API (POST /volumes/{id}/clone) cannot be tested here: the mock
		// executor's clone makes Heketi v10 panic (volume_entry.go:1015, index out of range), and the ssh
		// executor needs thin LVs, which this machine's kernel cannot make (no device-mapper).
		return nil, status.Error(codes.InvalidArgument, "volume_content_source: snapshots and clones are not supported")
	}
	size, err := sizeGiB(req.GetCapacityRange())
	if err != nil {
		return nil, err
	}
	p, err := parseParams(req.GetParameters())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	c, err := d.client(p.restURL, p.restUser, req.GetSecrets())
	if err != nil {
		return nil, err
	}
	name := heketiName(p.prefix, req.GetName())
	idx := d.index(c.URL)
	v, err := d.run(ctx, "create "+c.URL+" "+name, func(octx context.Context) (*heketi.Volume, error) {
		return d.findOrCreate(octx, c, idx, name, size, p)
	})
	if err != nil {
		return nil, heketiStatus(err)
	}
	if got := int64(v.Size) * giB; got < req.GetCapacityRange().GetRequiredBytes() ||
		(req.GetCapacityRange().GetLimitBytes() > 0 && got > req.GetCapacityRange().GetLimitBytes()) {
		return nil, status.Errorf(codes.AlreadyExists,
			"Heketi volume %s (%s) for request %q exists with %d GiB, outside the requested capacity range", v.Name, v.ID, req.GetName(), v.Size)
	}
	if v.Durability.Type != "" && v.Durability.Type != p.durability.Type {
		return nil, status.Errorf(codes.AlreadyExists,
			"Heketi volume %s (%s) for request %q exists with durability %s, not %s", v.Name, v.ID, req.GetName(), v.Durability.Type, p.durability.Type)
	}
	return &csi.CreateVolumeResponse{Volume: csiVolume(v)}, nil
}

func (d *Driver) findOrCreate(ctx context.Context, c *heketi.Client, idx *volumeIndex, name string, size int, p *createParams) (*heketi.Volume, error) {
	if err := idx.refresh(ctx, c); err != nil {
		return nil, err
	}
	if v := idx.byName(name); v != nil {
		return v, nil
	}
	body := &heketi.VolumeCreateRequest{
		Size: size, Name: name, Clusters: p.clusters, Durability: p.durability, GlusterVolumeOptions: p.options,
	}
	if p.gidMax > 0 {
		gid, ok := idx.reserveGid(p.gidMin, p.gidMax)
		if !ok {
			return nil, status.Errorf(codes.ResourceExhausted, "no free GID left in gidMin..gidMax %d..%d", p.gidMin, p.gidMax)
		}
		defer idx.release(gid)
		body.Gid = gid
	}
	v, err := c.CreateVolume(ctx, body)
	if err != nil && strings.Contains(err.Error(), "already in use") {
		// Heketi refuses a name taken in the cluster: an earlier attempt (e.g. of a restarted
		// controller) got there first. Answer with that volume once it is complete.
		if rerr := idx.refresh(ctx, c); rerr == nil {
			if v := idx.byName(name); v != nil {
				return v, nil
			}
		}
		return nil, status.Errorf(codes.Aborted, "%v: the volume of an earlier attempt is still being created", err)
	}
	if err != nil {
		return nil, err
	}
	idx.put(v)
	return v, nil
}

// DeleteVolume deletes the Heketi volume; an unknown volume is success.
func (d *Driver) DeleteVolume(ctx context.Context, req *csi.DeleteVolumeRequest) (*csi.DeleteVolumeResponse, error) {
	id := req.GetVolumeId()
	if id == "" {
		return nil, status.Error(codes.InvalidArgument, "volume_id is required")
	}
	c, err := d.client("", "", req.GetSecrets())
	if err != nil {
		return nil, err
	}
	if !hexID.MatchString(id) {
		return &csi.DeleteVolumeResponse{}, nil // not a Heketi id: no such volume can exist
	}
	_, err = d.run(ctx, "volume "+c.URL+" "+id, func(octx context.Context) (*heketi.Volume, error) {
		err := c.DeleteVolume(octx, id)
		if err == nil || heketi.IsNotFound(err) {
			d.index(c.URL).drop(id)
			return nil, nil
		}
		return nil, err
	})
	if err != nil {
		return nil, heketiStatus(err)
	}
	return &csi.DeleteVolumeResponse{}, nil
}

// ControllerExpandVolume grows the Heketi volume to the requested size (rounded up to GiB).
func (d *Driver) ControllerExpandVolume(ctx context.Context, req *csi.ControllerExpandVolumeRequest) (*csi.ControllerExpandVolumeResponse, error) {
	id := req.GetVolumeId()
	if id == "" {
		return nil, status.Error(codes.InvalidArgument, "volume_id is required")
	}
	if req.GetCapacityRange() == nil {
		return nil, status.Error(codes.InvalidArgument, "capacity_range is required")
	}
	if vc := req.GetVolumeCapability(); vc != nil {
		if reason := unsupported(vc); reason != "" {
			return nil, status.Error(codes.InvalidArgument, "volume_capability: "+reason)
		}
	}
	want, err := sizeGiB(req.GetCapacityRange())
	if err != nil {
		return nil, err
	}
	c, err := d.client("", "", req.GetSecrets())
	if err != nil {
		return nil, err
	}
	if !hexID.MatchString(id) {
		return nil, status.Errorf(codes.NotFound, "volume %q: not a Heketi volume id", id)
	}
	v, err := d.run(ctx, "volume "+c.URL+" "+id, func(octx context.Context) (*heketi.Volume, error) {
		v, err := c.Volume(octx, id)
		if err != nil || v.Size >= want {
			return v, err
		}
		return c.ExpandVolume(octx, id, want-v.Size)
	})
	if err != nil {
		return nil, heketiStatus(err)
	}
	d.index(c.URL).put(v)
	return &csi.ControllerExpandVolumeResponse{CapacityBytes: int64(v.Size) * giB, NodeExpansionRequired: false}, nil
}

// ValidateVolumeCapabilities confirms file-system capabilities of an existing volume.
func (d *Driver) ValidateVolumeCapabilities(ctx context.Context, req *csi.ValidateVolumeCapabilitiesRequest) (*csi.ValidateVolumeCapabilitiesResponse, error) {
	id := req.GetVolumeId()
	if id == "" {
		return nil, status.Error(codes.InvalidArgument, "volume_id is required")
	}
	if len(req.GetVolumeCapabilities()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "volume_capabilities: at least one is required")
	}
	if len(req.GetSecrets()) == 0 {
		return nil, status.Error(codes.FailedPrecondition,
			"no CSI secrets in the request: the volume cannot be looked up in Heketi without the Secret's URL and key")
	}
	c, err := d.client("", "", req.GetSecrets())
	if err != nil {
		return nil, err
	}
	if !hexID.MatchString(id) {
		return nil, status.Errorf(codes.NotFound, "volume %q: not a Heketi volume id", id)
	}
	if _, err := c.Volume(ctx, id); err != nil {
		return nil, heketiStatus(err)
	}
	for _, vc := range req.GetVolumeCapabilities() {
		if reason := unsupported(vc); reason != "" {
			return &csi.ValidateVolumeCapabilitiesResponse{Message: reason}, nil
		}
	}
	return &csi.ValidateVolumeCapabilitiesResponse{Confirmed: &csi.ValidateVolumeCapabilitiesResponse_Confirmed{
		VolumeContext:      req.GetVolumeContext(),
		VolumeCapabilities: req.GetVolumeCapabilities(),
		Parameters:         req.GetParameters(),
	}}, nil
}

// ControllerGetCapabilities: create/delete and expand.
func (d *Driver) ControllerGetCapabilities(context.Context, *csi.ControllerGetCapabilitiesRequest) (*csi.ControllerGetCapabilitiesResponse, error) {
	var caps []*csi.ControllerServiceCapability
	for _, t := range []csi.ControllerServiceCapability_RPC_Type{
		csi.ControllerServiceCapability_RPC_CREATE_DELETE_VOLUME,
		csi.ControllerServiceCapability_RPC_EXPAND_VOLUME,
	} {
		caps = append(caps, &csi.ControllerServiceCapability{Type: &csi.ControllerServiceCapability_Rpc{
			Rpc: &csi.ControllerServiceCapability_RPC{Type: t}}})
	}
	return &csi.ControllerGetCapabilitiesResponse{Capabilities: caps}, nil
}
