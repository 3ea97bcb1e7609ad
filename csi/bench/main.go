// Command bench measures the driver's overhead: CreateVolume + DeleteVolume of N volumes through the
// driver (gRPC on a unix socket, the way the sidecars call it) against the same Heketi calls made
// directly with the driver's own Heketi client, on one REAL Heketi server (mock executor), at 1 and
// 8 requests at a time. Both modes alternate in one run; the ratio is driver/direct wall time.
// It prints figures and asserts nothing:
//
//	cd csi && go run ./bench -n 100 -c 1,8 -rounds 2
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/glusterfs-heketi/heketi-csi/internal/heketitest"
	"github.com/glusterfs-heketi/heketi-csi/pkg/driver"
	"github.com/glusterfs-heketi/heketi-csi/pkg/heketi"
)

type mode struct {
	name   string
	create func(ctx context.Context, name string) (string, error)
	delete func(ctx context.Context, id string) error
}

// run creates n volumes, then deletes them, conc at a time; returns the wall time.
func run(m mode, n, conc int, tag string) (time.Duration, error) {
	ctx := context.Background()
	ids := make([]string, n)
	var firstErr error
	var mu sync.Mutex
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	each := func(fn func(i int)) {
		work := make(chan int)
		var wg sync.WaitGroup
		for w := 0; w < conc; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					fn(i)
				}
			}()
		}
		for i := 0; i < n; i++ {
			work <- i
		}
		close(work)
		wg.Wait()
	}
	start := time.Now()
	each(func(i int) {
		id, err := m.create(ctx, fmt.Sprintf("pvc-%s-%03d", tag, i))
		if err != nil {
			fail(err)
		}
		ids[i] = id
	})
	each(func(i int) {
		if ids[i] != "" {
			if err := m.delete(ctx, ids[i]); err != nil {
				fail(err)
			}
		}
	})
	return time.Since(start), firstErr
}

func main() {
	n := flag.Int("n", 100, "volumes per run")
	concs := flag.String("c", "1,8", "requests at a time, comma-separated")
	rounds := flag.Int("rounds", 2, "runs of each mode per concurrency (alternating)")
	flag.Parse()
	log.SetOutput(io.Discard) // the driver's per-call log lines: not what is measured
	dir, err := os.MkdirTemp("", "heketi-csi-bench-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	srv, err := heketitest.Start(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer srv.Stop()

	d, err := driver.New(driver.Config{Name: "heketi.csi.glusterfs", Mode: driver.ModeController})
	if err != nil {
		panic(err)
	}
	sock := filepath.Join(dir, "csi.sock")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = d.Serve(ctx, "unix://"+sock) }()
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	ctl := csi.NewControllerClient(conn)
	for i := 0; ; i++ {
		if _, err = csi.NewIdentityClient(conn).GetPluginInfo(ctx, &csi.GetPluginInfoRequest{}); err == nil || i > 100 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	secrets := srv.Secrets()
	capab := []*csi.VolumeCapability{{
		AccessType: &csi.VolumeCapability_Mount{Mount: &csi.VolumeCapability_MountVolume{}},
		AccessMode: &csi.VolumeCapability_AccessMode{Mode: csi.VolumeCapability_AccessMode_MULTI_NODE_MULTI_WRITER},
	}}
	throughDriver := mode{"driver",
		func(ctx context.Context, name string) (string, error) {
			r, err := ctl.CreateVolume(ctx, &csi.CreateVolumeRequest{Name: name, VolumeCapabilities: capab,
				CapacityRange: &csi.CapacityRange{RequiredBytes: 1 << 30}, Parameters: map[string]string{"volumetype": "replicate:3"},
				Secrets: secrets})
			if err != nil {
				return "", err
			}
			return r.Volume.VolumeId, nil
		},
		func(ctx context.Context, id string) error {
			_, err := ctl.DeleteVolume(ctx, &csi.DeleteVolumeRequest{VolumeId: id, Secrets: secrets})
			return err
		}}
	hc := heketi.New(srv.URL, "admin", []byte(srv.AdminKey))
	direct := mode{"direct",
		func(ctx context.Context, name string) (string, error) {
			req := &heketi.VolumeCreateRequest{Size: 1, Name: "vol_" + name}
			req.Durability.Type, req.Durability.Replicate.Replica = "replicate", 3
			v, err := hc.CreateVolume(ctx, req)
			if err != nil {
				return "", err
			}
			return v.ID, nil
		},
		func(ctx context.Context, id string) error { return hc.DeleteVolume(ctx, id) }}

	fmt.Printf("heketi-csi bench: %d volumes (create all, then delete all), real Heketi %s (mock executor), %s\n",
		*n, srv.URL, time.Now().UTC().Format(time.RFC3339))
	fmt.Printf("%-5s %-7s %-10s %s\n", "conc", "mode", "best", "runs")
	for _, cs := range strings.Split(*concs, ",") {
		conc, err := strconv.Atoi(cs)
		if err != nil || conc < 1 {
			panic("bad -c " + cs)
		}
		times := map[string][]time.Duration{}
		for r := 0; r < *rounds; r++ {
			order := []mode{direct, throughDriver}
			if r%2 == 1 {
				order = []mode{throughDriver, direct}
			}
			for _, m := range order {
				took, err := run(m, *n, conc, fmt.Sprintf("%s%dr%d", m.name, conc, r))
				if err != nil {
					fmt.Fprintf(os.Stderr, "%s at %d: %v\n", m.name, conc, err)
					os.Exit(1)
				}
				times[m.name] = append(times[m.name], took)
			}
		}
		best := map[string]time.Duration{}
		for name, ts := range times {
			sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
			best[name] = ts[0]
			fmt.Printf("%-5d %-7s %-10s %v\n", conc, name, ts[0].Round(time.Millisecond), ts)
		}
		fmt.Printf("conc %d: driver/direct = %.3f (per volume: driver %s, direct %s)\n", conc,
			float64(best["driver"])/float64(best["direct"]),
			(best["driver"] / time.Duration(*n)).Round(10*time.Microsecond), (best["direct"] / time.Duration(*n)).Round(10*time.Microsecond))
	}
}
