package driver

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// mountOptions builds the mount -o list: read-only when asked, the class's mount options, and
// the backup volfile servers (Heketi lists them comma-separated; mount.glusterfs wants colons).
func mountOptions(req *csi.NodePublishVolumeRequest) []string {
	var opts []string
	mode := req.GetVolumeCapability().GetAccessMode().GetMode()
	if req.GetReadonly() || mode == csi.VolumeCapability_AccessMode_MULTI_NODE_READER_ONLY ||
		mode == csi.VolumeCapability_AccessMode_SINGLE_NODE_READER_ONLY {
		opts = append(opts, "ro")
	}
	opts = append(opts, req.GetVolumeCapability().GetMount().GetMountFlags()...)
	if b := req.GetVolumeContext()[CtxBackups]; b != "" {
		opts = append(opts, "backup-volfile-servers="+strings.ReplaceAll(b, ",", ":"))
	}
	return opts
}

// NodePublishVolume mounts server:/volume at the target with the GlusterFS FUSE client.
func (d *Driver) NodePublishVolume(ctx context.Context, req *csi.NodePublishVolumeRequest) (*csi.NodePublishVolumeResponse, error) {
	if req.GetVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume_id is required")
	}
	target := req.GetTargetPath()
	if target == "" {
		return nil, status.Error(codes.InvalidArgument, "target_path is required")
	}
	if req.GetVolumeCapability() == nil {
		return nil, status.Error(codes.InvalidArgument, "volume_capability is required")
	}
	if reason := unsupported(req.GetVolumeCapability()); reason != "" {
		return nil, status.Error(codes.InvalidArgument, "volume_capability: "+reason)
	}
	vctx := req.GetVolumeContext()
	for _, k := range []string{CtxServer, CtxVolume} {
		if vctx[k] == "" {
			return nil, status.Errorf(codes.InvalidArgument,
				"volume_context has no %q (CreateVolume sets it; a static PV sets it in volumeAttributes)", k)
		}
	}
	mounted, err := d.cfg.Mounter.IsMountPoint(target)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, status.Errorf(codes.Internal, "checking %s: %v", target, err)
	}
	if mounted {
		return &csi.NodePublishVolumeResponse{}, nil
	}
	if err := os.MkdirAll(target, 0o750); err != nil {
		return nil, status.Errorf(codes.Internal, "creating %s: %v", target, err)
	}
	source := vctx[CtxServer] + ":/" + vctx[CtxVolume]
	if err := d.cfg.Mounter.Mount(source, target, "glusterfs", mountOptions(req)); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &csi.NodePublishVolumeResponse{}, nil
}

// NodeUnpublishVolume unmounts the target and removes it; a target already gone is success.
func (d *Driver) NodeUnpublishVolume(ctx context.Context, req *csi.NodeUnpublishVolumeRequest) (*csi.NodeUnpublishVolumeResponse, error) {
	if req.GetVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume_id is required")
	}
	target := req.GetTargetPath()
	if target == "" {
		return nil, status.Error(codes.InvalidArgument, "target_path is required")
	}
	for i := 0; i < 4; i++ { // stacked mounts: unmount until none is left
		mounted, err := d.cfg.Mounter.IsMountPoint(target)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, status.Errorf(codes.Internal, "checking %s: %v", target, err)
		}
		if !mounted {
			break
		}
		if err := d.cfg.Mounter.Unmount(target); err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
	}
	if err := os.Remove(target); err != nil && !os.IsNotExist(err) {
		return nil, status.Errorf(codes.Internal, "removing %s: %v", target, err)
	}
	return &csi.NodeUnpublishVolumeResponse{}, nil
}

// NodeGetVolumeStats reports the mounted file system's bytes and inodes.
func (d *Driver) NodeGetVolumeStats(ctx context.Context, req *csi.NodeGetVolumeStatsRequest) (*csi.NodeGetVolumeStatsResponse, error) {
	if req.GetVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume_id is required")
	}
	p := req.GetVolumePath()
	if p == "" {
		return nil, status.Error(codes.InvalidArgument, "volume_path is required")
	}
	if _, err := os.Stat(p); err != nil {
		if os.IsNotExist(err) {
			return nil, status.Errorf(codes.NotFound, "volume_path %s does not exist", p)
		}
		return nil, status.Errorf(codes.Internal, "stat %s: %v", p, err)
	}
	mounted, err := d.cfg.Mounter.IsMountPoint(p)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "checking %s: %v", p, err)
	}
	if !mounted {
		return nil, status.Errorf(codes.NotFound, "volume_path %s is not a mount point", p)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(p, &st); err != nil {
		return nil, status.Errorf(codes.Internal, "statfs %s: %v", p, err)
	}
	bs := int64(st.Bsize)
	return &csi.NodeGetVolumeStatsResponse{Usage: []*csi.VolumeUsage{
		{Unit: csi.VolumeUsage_BYTES, Total: int64(st.Blocks) * bs, Available: int64(st.Bavail) * bs,
			Used: int64(st.Blocks-st.Bfree) * bs},
		{Unit: csi.VolumeUsage_INODES, Total: int64(st.Files), Available: int64(st.Ffree),
			Used: int64(st.Files - st.Ffree)},
	}}, nil
}

// NodeGetCapabilities: volume stats (no staging: a FUSE mount needs no per-node step).
func (d *Driver) NodeGetCapabilities(context.Context, *csi.NodeGetCapabilitiesRequest) (*csi.NodeGetCapabilitiesResponse, error) {
	return &csi.NodeGetCapabilitiesResponse{Capabilities: []*csi.NodeServiceCapability{{
		Type: &csi.NodeServiceCapability_Rpc{Rpc: &csi.NodeServiceCapability_RPC{
			Type: csi.NodeServiceCapability_RPC_GET_VOLUME_STATS}}}}}, nil
}

// NodeGetInfo names the node (no topology: any node reaches the GlusterFS servers).
func (d *Driver) NodeGetInfo(context.Context, *csi.NodeGetInfoRequest) (*csi.NodeGetInfoResponse, error) {
	return &csi.NodeGetInfoResponse{NodeId: d.cfg.NodeID}, nil
}
