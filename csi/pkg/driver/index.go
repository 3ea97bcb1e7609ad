package driver

import (
	"context"
	"sync"
	"time"

	"github.com/glusterfs-heketi/heketi-csi/pkg/heketi"
)

// volumeIndex is what the driver knows of one Heketi server's volumes, by id. Heketi cannot look
// a volume up by name, so every lookup first lists the ids (GET /volumes, one request) and reads
// only the volumes it has not seen yet: the list is always Heketi's, the cache only saves the
// per-volume reads. Volume names never change in Heketi, so a cached name cannot go stale.
type volumeIndex struct {
	mu       sync.Mutex
	vols     map[string]*heketi.Volume
	reserved map[int64]bool // GIDs handed to creates still running
	used     time.Time      // last use, to drop the least recently used index
	// refreshing is closed when the refresh in flight ends (nil: none): concurrent creates share one refresh
	// (after a restart twenty creates each read all 150 volumes: 3,048 GETs), and refreshErr is its outcome.
	refreshing chan struct{}
	refreshErr error
}

// maxIndexes bounds the Heketi servers the controller keeps an index of (each Secret may name another URL).
const maxIndexes = 16

func (d *Driver) index(url string) *volumeIndex {
	d.mu.Lock()
	defer d.mu.Unlock()
	idx, ok := d.indexes[url]
	if !ok {
		if len(d.indexes) >= maxIndexes {
			oldest := ""
			for u, i := range d.indexes {
				if oldest == "" || i.used.Before(d.indexes[oldest].used) {
					oldest = u
				}
			}
			delete(d.indexes, oldest) // only a cache: the next use of that URL lists its volumes again
		}
		idx = &volumeIndex{vols: map[string]*heketi.Volume{}, reserved: map[int64]bool{}}
		d.indexes[url] = idx
	}
	idx.used = time.Now()
	return idx
}

// refresh brings the index in line with Heketi's list of (complete) volumes; a refresh already in flight is
// joined instead of started again. Its list is recent enough for every caller: the volumes a caller looks for
// were complete before the caller came (a create of that name finishing later puts its volume itself).
func (idx *volumeIndex) refresh(ctx context.Context, c *heketi.Client) error {
	idx.mu.Lock()
	if ch := idx.refreshing; ch != nil {
		idx.mu.Unlock()
		select {
		case <-ch:
			idx.mu.Lock()
			defer idx.mu.Unlock()
			return idx.refreshErr
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	ch := make(chan struct{})
	idx.refreshing = ch
	idx.mu.Unlock()
	err := idx.load(ctx, c)
	idx.mu.Lock()
	idx.refreshing, idx.refreshErr = nil, err
	idx.mu.Unlock()
	close(ch)
	return err
}

// load reads Heketi's list and the volumes not seen yet.
func (idx *volumeIndex) load(ctx context.Context, c *heketi.Client) error {
	ids, err := c.VolumeIDs(ctx)
	if err != nil {
		return err
	}
	idx.mu.Lock()
	present := make(map[string]bool, len(ids))
	var unknown []string
	for _, id := range ids {
		present[id] = true
		if _, ok := idx.vols[id]; !ok {
			unknown = append(unknown, id)
		}
	}
	for id := range idx.vols {
		if !present[id] {
			delete(idx.vols, id)
		}
	}
	idx.mu.Unlock()
	for _, id := range unknown {
		v, err := c.Volume(ctx, id)
		if heketi.IsNotFound(err) {
			continue // deleted since the list was read
		}
		if err != nil {
			return err
		}
		idx.put(v)
	}
	return nil
}

func (idx *volumeIndex) put(v *heketi.Volume) {
	idx.mu.Lock()
	idx.vols[v.ID] = v
	idx.mu.Unlock()
}

func (idx *volumeIndex) drop(id string) {
	idx.mu.Lock()
	delete(idx.vols, id)
	idx.mu.Unlock()
}

func (idx *volumeIndex) byName(name string) *heketi.Volume {
	idx.mu.Lock()
	defer idx.mu.Unlock()
	for _, v := range idx.vols {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// reserveGid returns the lowest GID in [lo, hi] that no known volume and no running create uses.
func (idx *volumeIndex) reserveGid(lo, hi int64) (int64, bool) {
	idx.mu.Lock()
	defer idx.mu.Unlock()
	used := map[int64]bool{}
	for _, v := range idx.vols {
		used[v.Gid] = true
	}
	for g := lo; g <= hi; g++ {
		if !used[g] && !idx.reserved[g] {
			idx.reserved[g] = true
			return g, true
		}
	}
	return 0, false
}

func (idx *volumeIndex) release(gid int64) {
	idx.mu.Lock()
	delete(idx.reserved, gid)
	idx.mu.Unlock()
}
