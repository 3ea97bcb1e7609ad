//go:build lab

package lab

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
)

func TestNodePublishMountsARealGlusterFSVolume(t *testing.T) {
	l := newLab(t)
	l.startNode()
	l.startPlugin(l.image, false)
	nodeSvc := l.client()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	servers, node, plugin, image, lab, vctx, call := l.servers, l.node, l.plugin, l.image, l.name, l.vctx, l.call
	startPlugin := func(img string) { l.startPlugin(img, false) }
	call("NodeGetInfo", func() error {
		info, err := nodeSvc.NodeGetInfo(ctx, &csi.NodeGetInfoRequest{})
		if err == nil && info.NodeId != node {
			err = fmt.Errorf("node id %q", info.NodeId)
		}
		return err
	})
	stage := func() {
		t.Helper()
		call("NodeStageVolume", func() error {
			_, err := nodeSvc.NodeStageVolume(ctx, &csi.NodeStageVolumeRequest{VolumeId: "static-gv",
				StagingTargetPath: staging, VolumeCapability: rwx, VolumeContext: vctx})
			return err
		})
	}
	publish := func(tgt string, ro bool) {
		t.Helper()
		call("NodePublishVolume "+tgt, func() error {
			_, err := nodeSvc.NodePublishVolume(ctx, &csi.NodePublishVolumeRequest{VolumeId: "static-gv", TargetPath: tgt,
				StagingTargetPath: staging, VolumeCapability: rwx, Readonly: ro, VolumeContext: vctx})
			return err
		})
	}
	unpublish := func(tgt string) {
		t.Helper()
		call("NodeUnpublishVolume "+tgt, func() error {
			_, err := nodeSvc.NodeUnpublishVolume(ctx, &csi.NodeUnpublishVolumeRequest{VolumeId: "static-gv", TargetPath: tgt})
			return err
		})
	}
	onNode, fuseClients := l.onNode, l.fuseClients
	glusterMounts := func() int {
		return strings.Count(onNode("grep fuse.glusterfs /proc/self/mounts || true"), "fuse.glusterfs")
	}

	t1, t2 := target("a"), target("b")
	stage()
	stage() // staged already: success, no second client
	publish(t1, false)
	publish(t1, false) // published already: success, no second mount
	publish(t2, true)
	if n := glusterMounts(); n != 3 {
		t.Fatalf("want 3 glusterfs mounts on the node (staging, t1, t2), got %d", n)
	}
	clients := fuseClients()
	if len(clients) != 1 {
		t.Fatalf("want one FUSE client on the node, got %v", clients)
	}
	// The FUSE client lives in a systemd scope of the node (the controllers systemd manages) and in the FUSE
	// cgroup (the others), in none of the plugin container's cgroups.
	cg := onNode("cat /proc/" + clients[0] + "/cgroup")
	pluginID := docker(t, "inspect", "-f", "{{.Id}}", plugin)
	if !strings.Contains(cg, ".scope") || !strings.Contains(cg, ":/"+lab+"-fuse") || strings.Contains(cg, pluginID) {
		t.Fatalf("the FUSE client's cgroups (the plugin is %s):\n%s", pluginID, cg)
	}
	// mount.glusterfs turns backup-volfile-servers into more --volfile-server arguments.
	args := onNode("cat /proc/" + clients[0] + "/cmdline | tr '\\0' ' '")
	for _, s := range servers {
		if !strings.Contains(args, "--volfile-server="+s) {
			t.Fatalf("the FUSE client does not know volfile server %s: %s", s, args)
		}
	}
	onNode("echo written-through-t1 > " + t1 + "/hello")
	if got := onNode("cat " + t2 + "/hello"); got != "written-through-t1" {
		t.Fatalf("read %q through the second target", got)
	}
	if out, err := exec.Command("docker", "exec", node, "sh", "-c", "echo x > "+t2+"/ro").CombinedOutput(); err == nil {
		t.Fatalf("the read-only target accepted a write: %s", out)
	}
	if got := docker(t, "exec", servers[2], "cat", "/tmp/bricks/gv/hello"); got != "written-through-t1" {
		t.Fatalf("brick on %s holds %q", servers[2], got)
	}
	stats, err := nodeSvc.NodeGetVolumeStats(ctx, &csi.NodeGetVolumeStatsRequest{VolumeId: "static-gv", VolumePath: t1})
	if err != nil || stats.Usage[0].Total <= 0 {
		t.Fatalf("NodeGetVolumeStats: %v %v", stats, err)
	}

	// Mounts survive the node plugin: a writer appends a timestamp every 50 ms through t1 while the plugin is
	// killed, started again, then replaced by a rebuilt image.
	docker(t, "exec", "-d", node, "sh", "-c", "while [ ! -e /tmp/writer.stop ]; do date +%s%N >> "+t1+
		"/writer || echo failed >> /tmp/writer.err; sleep 0.05; done")
	lines := func() int {
		n := 0
		fmt.Sscan(onNode("wc -l < "+t1+"/writer"), &n)
		return n
	}
	waitFor(t, "the writer", 30*time.Second, func() bool { return lines() > 5 })
	docker(t, "rm", "-f", plugin)
	before := lines()
	waitFor(t, "the writer going on without the plugin", 30*time.Second, func() bool { return lines() > before+20 })
	startPlugin(image)
	stage() // the restarted plugin finds the volume staged
	rebuilt := "glusterfs-heketi/heketi-csi-lab:" + lab
	build := exec.Command("docker", "build", "-q", "-t", rebuilt, "--label", "rebuilt="+lab, "-")
	build.Stdin = strings.NewReader("FROM " + image + "\n")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("rebuilding the driver's image: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		_ = exec.Command("docker", "rm", "-f", plugin).Run()
		_ = exec.Command("docker", "rmi", rebuilt).Run()
	})
	docker(t, "rm", "-f", plugin)
	startPlugin(rebuilt)
	stage() // the upgraded plugin finds the volume staged: no second client
	t3 := target("c")
	publish(t3, false)
	before = lines()
	waitFor(t, "the writer going on after the upgrade", 30*time.Second, func() bool { return lines() > before+20 })
	onNode("touch /tmp/writer.stop")
	if errs := onNode("cat /tmp/writer.err 2>/dev/null || true"); errs != "" {
		t.Fatalf("the writer saw errors while the plugin restarted: %q", errs)
	}
	var stamps []int64
	for _, f := range strings.Fields(onNode("cat " + t1 + "/writer")) {
		var v int64
		fmt.Sscan(f, &v)
		stamps = append(stamps, v)
	}
	var gap int64
	for i := 1; i < len(stamps); i++ {
		if d := stamps[i] - stamps[i-1]; d > gap {
			gap = d
		}
	}
	if c := fuseClients(); len(c) != 1 || c[0] != clients[0] {
		t.Fatalf("the FUSE client did not survive the plugin: before %v, after %v", clients, c)
	}
	fmt.Printf("plugin restarts: the writer wrote %d lines without an error; longest gap between writes %.0f ms (50 ms loop)\n",
		len(stamps), float64(gap)/1e6)

	// A FUSE client killed from outside: the mounts answer ENOTCONN; the next publish mounts the volume again.
	onNode("kill -9 " + clients[0])
	waitFor(t, "the dead mount", 30*time.Second, func() bool {
		out, _ := exec.Command("docker", "exec", node, "stat", t1).CombinedOutput()
		return strings.Contains(string(out), "not connected")
	})
	_, err = nodeSvc.NodeGetVolumeStats(ctx, &csi.NodeGetVolumeStatsRequest{VolumeId: "static-gv", VolumePath: t1})
	if err == nil || !strings.Contains(err.Error(), "FUSE client is gone") {
		t.Fatalf("NodeGetVolumeStats of a dead mount: %v", err)
	}
	publish(t1, false)
	if out, err := exec.Command("docker", "exec", node, "sh", "-c", "echo after-repair > "+t1+"/repaired").CombinedOutput(); err != nil {
		logs, _ := exec.Command("docker", "logs", plugin).CombinedOutput()
		t.Fatalf("writing through the repaired target: %v %s\n%s", err, out, logs)
	}
	if got := onNode("cat " + t1 + "/hello"); got != "written-through-t1" {
		t.Fatalf("after the repair t1 reads %q", got)
	}
	if c := fuseClients(); len(c) != 1 {
		t.Fatalf("want one FUSE client after the repair, got %v", c)
	}
	// The other pods' targets are bound to the dead client until their next publish (a restarted pod).
	publish(t2, true)
	publish(t3, false)
	if got := onNode("cat " + t2 + "/repaired"); got != "after-repair" {
		t.Fatalf("after its republish t2 reads %q", got)
	}

	// Staging: ten more pods on the node share the one FUSE client.
	var more []string
	for i := 0; i < 10; i++ {
		tgt := target(fmt.Sprintf("p%d", i))
		more = append(more, tgt)
		publish(tgt, false)
	}
	if c := fuseClients(); len(c) != 1 {
		t.Fatalf("twelve publishes of one volume: want one FUSE client, got %v", c)
	}
	// The plugin's own view, on the node's network: healthy, one FUSE client, 14 mounts (staging + 13 targets).
	httpGet := func(path string) string {
		return onNode("python3 -c \"import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:29631" + path + "').read().decode())\"")
	}
	if got := httpGet("/healthz"); got != "ok" {
		t.Fatalf("/healthz: %q", got)
	}
	metrics := httpGet("/metrics")
	for _, want := range []string{"heketi_csi_node_fuse_clients 1\n", "heketi_csi_node_glusterfs_mounts 14\n",
		`heketi_csi_node_mount_repairs_total{call="stage"} 1`, `heketi_csi_node_mount_repairs_total{call="publish"} 3`, `heketi_csi_call_duration_seconds_count{code="OK",method="NodePublishVolume"}`} {
		if !strings.Contains(metrics, want) {
			t.Fatalf("/metrics lacks %q:\n%s", want, metrics)
		}
	}
	for _, tgt := range append(more, t1, t2, t3, t3) { // t3 twice: already gone, still success
		unpublish(tgt)
	}
	if c := fuseClients(); len(c) != 1 {
		t.Fatalf("every pod gone, not unstaged yet: want the FUSE client still there, got %v", c)
	}
	call("NodeUnstageVolume", func() error {
		_, err := nodeSvc.NodeUnstageVolume(ctx, &csi.NodeUnstageVolumeRequest{VolumeId: "static-gv", StagingTargetPath: staging})
		return err
	})
	waitFor(t, "no FUSE client after the unstage", 30*time.Second, func() bool { return len(fuseClients()) == 0 })
	if n := glusterMounts(); n != 0 {
		t.Fatalf("%d glusterfs mounts left on the node", n)
	}
	if out, err := exec.Command("docker", "exec", node, "ls", "-d", t1, t2, t3).CombinedOutput(); err == nil {
		t.Fatalf("targets still exist: %s", out)
	}
	fmt.Printf("real mount: %s:/gv staged once on %s, 13 targets, file shared, read-only honoured, the FUSE client outlived "+
		"the plugin (killed, restarted, upgraded), a killed client repaired by the next publish, all unmounted\n", servers[0], node)
}
