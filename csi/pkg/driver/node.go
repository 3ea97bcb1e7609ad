package driver

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The node service stages each volume once per node (one GlusterFS FUSE client, at the staging path the
// kubelet gives) and bind-mounts it into every pod's target. Every mount is made in the node's mount namespace
// by the Mounter (see MountHost: the FUSE clients outlive the node plugin). A staging mount or a target whose
// FUSE client died (ENOTCONN) is mounted again by the next stage or publish of that volume.

// fuseOptions builds the FUSE client's mount -o list: read-only when the access mode is, the class's mount
// options, and the backup volfile servers (Heketi lists them comma-separated; mount.glusterfs wants colons).
func fuseOptions(c *csi.VolumeCapability, vctx map[string]string) []string {
	var opts []string
	if readOnlyMode(c) {
		opts = append(opts, "ro")
	}
	opts = append(opts, c.GetMount().GetMountFlags()...)
	if b := vctx[CtxBackups]; b != "" {
		opts = append(opts, "backup-volfile-servers="+strings.ReplaceAll(b, ",", ":"))
	}
	return opts
}

func readOnlyMode(c *csi.VolumeCapability) bool {
	mode := c.GetAccessMode().GetMode()
	return mode == csi.VolumeCapability_AccessMode_MULTI_NODE_READER_ONLY ||
		mode == csi.VolumeCapability_AccessMode_SINGLE_NODE_READER_ONLY
}

// checkNodeRequest validates what stage and publish share.
func checkNodeRequest(volumeID string, paths map[string]string, c *csi.VolumeCapability, vctx map[string]string) error {
	if volumeID == "" {
		return status.Error(codes.InvalidArgument, "volume_id is required")
	}
	for name, p := range paths {
		if p == "" {
			return status.Errorf(codes.InvalidArgument, "%s is required", name)
		}
		if !strings.HasPrefix(p, "/") {
			return status.Errorf(codes.InvalidArgument, "%s %q: want an absolute path", name, p)
		}
	}
	if c == nil {
		return status.Error(codes.InvalidArgument, "volume_capability is required")
	}
	if reason := unsupported(c); reason != "" {
		return status.Error(codes.InvalidArgument, "volume_capability: "+reason)
	}
	for _, k := range []string{CtxServer, CtxVolume} {
		if vctx[k] == "" {
			return status.Errorf(codes.InvalidArgument,
				"volume_context has no %q (CreateVolume sets it; a static PV sets it in volumeAttributes)", k)
		}
	}
	return nil
}

// pathLocks serialises the node's operations per path: a second call on a path waits (as long as its deadline
// allows) for the first to finish, then finds its work done.
type pathLocks struct {
	mu   sync.Mutex
	held map[string]chan struct{}
}

func (l *pathLocks) lock(ctx context.Context, p string) (func(), error) {
	for {
		l.mu.Lock()
		if l.held == nil {
			l.held = map[string]chan struct{}{}
		}
		ch, busy := l.held[p]
		if !busy {
			ch = make(chan struct{})
			l.held[p] = ch
			l.mu.Unlock()
			return func() {
				l.mu.Lock()
				delete(l.held, p)
				l.mu.Unlock()
				close(ch)
			}, nil
		}
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, status.Errorf(status.FromContextError(ctx.Err()).Code(),
				"another operation on %s is still running: %v", p, ctx.Err())
		}
	}
}

// nodeOp runs fn under the lock of path p with a deadline of its own (--mount-timeout): a request whose
// deadline ends first gets DEADLINE_EXCEEDED, and fn goes on; the retry waits for it and finds its result.
func (d *Driver) nodeOp(ctx context.Context, p string, fn func(context.Context) error) error {
	unlock, err := d.locks.lock(ctx, p)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		defer unlock()
		opCtx, cancel := context.WithTimeout(context.Background(), d.cfg.MountTimeout)
		defer cancel()
		done <- fn(opCtx)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return status.Errorf(codes.DeadlineExceeded, "%s: still running; a retry waits for it: %v", p, ctx.Err())
	}
}

func internal(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Error(codes.Internal, err.Error())
}

// NodeStageVolume starts the node's one FUSE client of the volume at the staging path.
func (d *Driver) NodeStageVolume(ctx context.Context, req *csi.NodeStageVolumeRequest) (*csi.NodeStageVolumeResponse, error) {
	staging := req.GetStagingTargetPath()
	if err := checkNodeRequest(req.GetVolumeId(), map[string]string{"staging_target_path": staging},
		req.GetVolumeCapability(), req.GetVolumeContext()); err != nil {
		return nil, err
	}
	err := d.nodeOp(ctx, staging, func(octx context.Context) error {
		return d.stage(octx, staging, req.GetVolumeCapability(), req.GetVolumeContext())
	})
	if err != nil {
		return nil, internal(err)
	}
	return &csi.NodeStageVolumeResponse{}, nil
}

// stage mounts the volume at staging unless a live FUSE client is there already; a dead one is replaced.
// The caller holds staging's lock.
func (d *Driver) stage(ctx context.Context, staging string, c *csi.VolumeCapability, vctx map[string]string) error {
	h, err := health(d.cfg.Mounter, staging)
	if err != nil {
		return err
	}
	switch h {
	case mountedOK:
		return nil
	case mountedDead:
		log.Printf("stage %s: its FUSE client is gone (ENOTCONN); mounting the volume again", staging)
		d.metrics.repairs.WithLabelValues("stage").Inc()
		if err := unmountAll(ctx, d.cfg.Mounter, staging); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(d.cfg.Mounter.Path(staging), 0o750); err != nil {
		return fmt.Errorf("creating %s: %w", staging, err)
	}
	source := vctx[CtxServer] + ":/" + vctx[CtxVolume]
	return d.cfg.Mounter.MountGlusterFS(ctx, source, staging, fuseOptions(c, vctx))
}

// NodeUnstageVolume stops the FUSE client of the volume (the kubelet calls it when the node's last pod of the
// volume has gone).
func (d *Driver) NodeUnstageVolume(ctx context.Context, req *csi.NodeUnstageVolumeRequest) (*csi.NodeUnstageVolumeResponse, error) {
	if req.GetVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume_id is required")
	}
	staging := req.GetStagingTargetPath()
	if staging == "" {
		return nil, status.Error(codes.InvalidArgument, "staging_target_path is required")
	}
	err := d.nodeOp(ctx, staging, func(octx context.Context) error { return unmountAll(octx, d.cfg.Mounter, staging) })
	if err != nil {
		return nil, internal(err)
	}
	return &csi.NodeUnstageVolumeResponse{}, nil
}

// NodePublishVolume bind-mounts the staged volume at the pod's target (read-only when asked). A staging mount
// whose FUSE client is gone, or that is missing, is staged again first; a dead target is mounted again.
func (d *Driver) NodePublishVolume(ctx context.Context, req *csi.NodePublishVolumeRequest) (*csi.NodePublishVolumeResponse, error) {
	target, staging := req.GetTargetPath(), req.GetStagingTargetPath()
	if err := checkNodeRequest(req.GetVolumeId(), map[string]string{"target_path": target, "staging_target_path": staging},
		req.GetVolumeCapability(), req.GetVolumeContext()); err != nil {
		return nil, err
	}
	readonly := req.GetReadonly() || readOnlyMode(req.GetVolumeCapability())
	err := d.nodeOp(ctx, target, func(octx context.Context) error {
		h, err := health(d.cfg.Mounter, target)
		if err != nil {
			return err
		}
		if h == mountedOK {
			return nil
		}
		unlock, err := d.locks.lock(octx, staging)
		if err != nil {
			return err
		}
		defer unlock()
		if err := d.stage(octx, staging, req.GetVolumeCapability(), req.GetVolumeContext()); err != nil {
			return err
		}
		if h == mountedDead {
			log.Printf("publish %s: its FUSE client is gone; binding the volume again", target)
			d.metrics.repairs.WithLabelValues("publish").Inc()
			if err := unmountAll(octx, d.cfg.Mounter, target); err != nil {
				return err
			}
		}
		if err := os.MkdirAll(d.cfg.Mounter.Path(target), 0o750); err != nil {
			return fmt.Errorf("creating %s: %w", target, err)
		}
		return d.cfg.Mounter.BindMount(octx, staging, target, readonly)
	})
	if err != nil {
		return nil, internal(err)
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
	err := d.nodeOp(ctx, target, func(octx context.Context) error {
		if err := unmountAll(octx, d.cfg.Mounter, target); err != nil {
			return err
		}
		if err := os.Remove(d.cfg.Mounter.Path(target)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("removing %s: %w", target, err)
		}
		return nil
	})
	if err != nil {
		return nil, internal(err)
	}
	return &csi.NodeUnpublishVolumeResponse{}, nil
}

// NodeGetVolumeStats reports the mounted file system's bytes and inodes (an error names a mount whose FUSE
// client is gone).
func (d *Driver) NodeGetVolumeStats(ctx context.Context, req *csi.NodeGetVolumeStatsRequest) (*csi.NodeGetVolumeStatsResponse, error) {
	if req.GetVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume_id is required")
	}
	p := req.GetVolumePath()
	if p == "" {
		return nil, status.Error(codes.InvalidArgument, "volume_path is required")
	}
	h, err := health(d.cfg.Mounter, p)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "checking %s: %v", p, err)
	}
	switch h {
	case notMounted:
		if _, err := os.Stat(d.cfg.Mounter.Path(p)); errors.Is(err, os.ErrNotExist) {
			return nil, status.Errorf(codes.NotFound, "volume_path %s does not exist", p)
		}
		return nil, status.Errorf(codes.NotFound, "volume_path %s is not a mount point", p)
	case mountedDead:
		return nil, status.Errorf(codes.Internal,
			"volume_path %s: its GlusterFS FUSE client is gone (transport endpoint is not connected); the next stage or publish of the volume mounts it again", p)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(d.cfg.Mounter.Path(p), &st); err != nil {
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

// NodeGetCapabilities: staging (one FUSE client per node and volume) and volume stats.
func (d *Driver) NodeGetCapabilities(context.Context, *csi.NodeGetCapabilitiesRequest) (*csi.NodeGetCapabilitiesResponse, error) {
	var caps []*csi.NodeServiceCapability
	for _, t := range []csi.NodeServiceCapability_RPC_Type{
		csi.NodeServiceCapability_RPC_STAGE_UNSTAGE_VOLUME,
		csi.NodeServiceCapability_RPC_GET_VOLUME_STATS,
	} {
		caps = append(caps, &csi.NodeServiceCapability{Type: &csi.NodeServiceCapability_Rpc{
			Rpc: &csi.NodeServiceCapability_RPC{Type: t}}})
	}
	return &csi.NodeGetCapabilitiesResponse{Capabilities: caps}, nil
}

// NodeGetInfo names the node (no topology: any node reaches the GlusterFS servers).
func (d *Driver) NodeGetInfo(context.Context, *csi.NodeGetInfoRequest) (*csi.NodeGetInfoResponse, error) {
	return &csi.NodeGetInfoResponse{NodeId: d.cfg.NodeID}, nil
}

// defaultMountTimeout bounds one node operation (a FUSE mount that waits for unreachable servers).
const defaultMountTimeout = 2 * time.Minute
