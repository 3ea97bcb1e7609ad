//go:build lab

package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
)

// TestNodeBench measures, on the lab, what issue 20 asks of the node plugin, before and after, side by side in one
// run, and prints the figures (it asserts nothing; bench/csi_node.sh runs it):
//
//   - FUSE client processes and their resident memory on the node for 1, 10 and 30 pods of one volume: before, one
//     `mount -t glusterfs` per pod (what NodePublishVolume ran before staging); after, NodeStageVolume once and a
//     bind per pod through the driver.
//   - What a writer sees (a timestamp appended every 50 ms through a pod's target) while the node plugin is killed
//     and started again: before, the plugin mounting in its own container (--mounter=container, the model before
//     this change: the FUSE client in the plugin's cgroup and PID namespace); after, --mounter=host.
func TestNodeBench(t *testing.T) {
	if os.Getenv("HEKETI_CSI_BENCH") == "" {
		t.Skip("a benchmark: bench/csi_node.sh runs it (HEKETI_CSI_BENCH=1)")
	}
	l := newLab(t)
	// The kubelet folder of the node, shared with the machine (a private bind of a folder of the test's own,
	// made shared): the before case's plugin, in a mount namespace of its own, propagates its mounts through it
	// to the node, as a Bidirectional hostPath of the kubelet's folder does.
	shared, err := os.MkdirTemp("", l.name+"-kubelet-")
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount(shared, shared, "", syscall.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = exec.Command("umount", "-R", "-l", shared).Run()
		_ = os.RemoveAll(shared)
	})
	if err := syscall.Mount("", shared, "", syscall.MS_SHARED|syscall.MS_REC, ""); err != nil {
		t.Fatal(err)
	}
	l.startNode("-v", shared+":/var/lib/kubelet:rslave")
	l.startPlugin(l.image, false)
	node := l.client()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	stage := func() {
		l.call("NodeStageVolume", func() error {
			_, err := node.NodeStageVolume(ctx, &csi.NodeStageVolumeRequest{VolumeId: "gv", StagingTargetPath: staging,
				VolumeCapability: rwx, VolumeContext: l.vctx})
			return err
		})
	}
	publish := func(tgt string) {
		l.call("NodePublishVolume", func() error {
			_, err := node.NodePublishVolume(ctx, &csi.NodePublishVolumeRequest{VolumeId: "gv", TargetPath: tgt,
				StagingTargetPath: staging, VolumeCapability: rwx, VolumeContext: l.vctx})
			return err
		})
	}
	unpublish := func(tgt string) {
		l.call("NodeUnpublishVolume", func() error {
			_, err := node.NodeUnpublishVolume(ctx, &csi.NodeUnpublishVolumeRequest{VolumeId: "gv", TargetPath: tgt})
			return err
		})
	}
	unstage := func() {
		l.call("NodeUnstageVolume", func() error {
			_, err := node.NodeUnstageVolume(ctx, &csi.NodeUnstageVolumeRequest{VolumeId: "gv", StagingTargetPath: staging})
			return err
		})
	}
	// clients counts the node's FUSE client processes and sums their resident memory (KiB).
	clients := func() (int, int) {
		n, rss := 0, 0
		for _, f := range strings.Fields(l.onNode("ps -o rss= -C glusterfs || true")) {
			v, _ := strconv.Atoi(f)
			n, rss = n+1, rss+v
		}
		return n, rss
	}
	settle := func() { time.Sleep(2 * time.Second) } // the clients' memory after their start-up

	fmt.Println("FUSE clients on the node for N pods of one volume (ps -C glusterfs: processes, summed RSS):")
	fmt.Println("| pods | before: processes | before: RSS | after: processes | after: RSS | RSS after/before |")
	fmt.Println("|---|---|---|---|---|---|")
	opts := "backup-volfile-servers=" + strings.ReplaceAll(l.vctx["backup-volfile-servers"], ",", ":")
	source := l.vctx["server"] + ":/gv"
	for _, n := range []int{1, 10, 30} {
		for i := 0; i < n; i++ { // before: the command NodePublishVolume ran once per pod
			tgt := target(fmt.Sprintf("before-%d", i))
			l.onNode("mkdir -p " + tgt + " && mount -t glusterfs -o " + opts + " " + source + " " + tgt)
		}
		settle()
		bn, brss := clients()
		l.onNode("for m in $(grep ' /var/lib/kubelet/pods/before-' /proc/self/mounts | cut -d' ' -f2); do umount $m; done")
		waitFor(t, "no FUSE client left", time.Minute, func() bool { n, _ := clients(); return n == 0 })
		stage()
		for i := 0; i < n; i++ {
			publish(target(fmt.Sprintf("after-%d", i)))
		}
		settle()
		an, arss := clients()
		for i := 0; i < n; i++ {
			unpublish(target(fmt.Sprintf("after-%d", i)))
		}
		unstage()
		waitFor(t, "no FUSE client left", time.Minute, func() bool { n, _ := clients(); return n == 0 })
		fmt.Printf("| %d | %d | %.1f MiB | %d | %.1f MiB | %.3f |\n", n, bn, float64(brss)/1024, an, float64(arss)/1024,
			float64(arss)/float64(brss))
	}

	// The writer: a timestamp every 50 ms through tgt; each write's outcome is noted on the node's own file
	// system (/tmp/<log>.ok, /tmp/<log>.err), which stays readable when the volume does not.
	writer := func(tgt, log string) {
		docker(t, "exec", "-d", l.node, "sh", "-c", "while [ ! -e /tmp/"+log+".stop ]; do if date +%s%N >> "+tgt+
			"/"+log+" 2>/dev/null; then date +%s%N >> /tmp/"+log+".ok; else echo failed >> /tmp/"+log+".err; fi; sleep 0.05; done")
	}
	report := func(what, log string, restarted time.Time) {
		l.onNode("touch /tmp/" + log + ".stop")
		time.Sleep(300 * time.Millisecond)
		var stamps []int64
		for _, f := range strings.Fields(l.onNode("cat /tmp/" + log + ".ok 2>/dev/null || true")) {
			v, _ := strconv.ParseInt(f, 10, 64)
			stamps = append(stamps, v)
		}
		sort.Slice(stamps, func(i, j int) bool { return stamps[i] < stamps[j] })
		var gap int64
		for i := 1; i < len(stamps); i++ {
			if d := stamps[i] - stamps[i-1]; d > gap {
				gap = d
			}
		}
		errs := strings.Count(l.onNode("cat /tmp/"+log+".err 2>/dev/null || true"), "failed")
		after := 0
		for _, s := range stamps {
			if s > restarted.UnixNano() {
				after++
			}
		}
		// The longest gap runs to the end of the run when the writes never came back.
		if end := time.Now().UnixNano(); len(stamps) > 0 && errs > 0 && end-stamps[len(stamps)-1] > gap {
			gap = end - stamps[len(stamps)-1]
		}
		fmt.Printf("| %s | %d | %d | %d | %.0f ms |\n", what, len(stamps), errs, after, float64(gap)/1e6)
	}
	fmt.Println()
	fmt.Println("A writer (every 50 ms) through a pod's target while the node plugin is killed (docker rm -f) and started again:")
	fmt.Println("| plugin | writes | failed writes | writes after the restart | longest gap between writes |")
	fmt.Println("|---|---|---|---|---|")
	restart := func(container bool, extra ...string) time.Time {
		docker(t, "rm", "-f", l.plugin)
		time.Sleep(2 * time.Second) // the plugin away
		l.startPlugin(l.image, container, extra...)
		stage() // what the kubelet calls for a new pod of the volume; an existing pod's target is not published again
		at := time.Now()
		time.Sleep(3 * time.Second)
		return at
	}
	// After: --mounter=host.
	tgt := target("writer-host")
	stage()
	publish(tgt)
	writer(tgt, "host")
	time.Sleep(2 * time.Second)
	report("--mounter=host (after)", "host", restart(false))
	unpublish(tgt)
	unstage()
	// Before: --mounter=container, the plugin's own namespaces, the kubelet folder propagated both ways.
	docker(t, "rm", "-f", l.plugin)
	l.startPlugin(l.image, true, "-v", shared+":/var/lib/kubelet:rshared")
	tgt = target("writer-container")
	stage()
	publish(tgt)
	if out, err := exec.Command("docker", "exec", l.node, "sh", "-c", "touch "+tgt+"/probe").CombinedOutput(); err != nil {
		t.Fatalf("the node does not see the container plugin's mount (%v: %s):\n%s", err, out,
			l.onNode("grep -E 'kubelet' /proc/self/mountinfo || true"))
	}

	writer(tgt, "container")
	time.Sleep(2 * time.Second)
	report("--mounter=container (before)", "container", restart(true, "-v", shared+":/var/lib/kubelet:rshared"))
	_ = exec.Command("docker", "rm", "-f", l.plugin).Run()
}
