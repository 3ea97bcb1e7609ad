package driver

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Mounter is the node's view of the mount table.
type Mounter interface {
	Mount(source, target, fstype string, options []string) error
	Unmount(target string) error
	IsMountPoint(target string) (bool, error)
}

// SystemMounter runs mount(8)/umount(8) (mount -t glusterfs runs mount.glusterfs, the FUSE
// client) and reads /proc/self/mountinfo.
type SystemMounter struct{}

func (SystemMounter) Mount(source, target, fstype string, options []string) error {
	args := []string{"-t", fstype}
	if len(options) > 0 {
		args = append(args, "-o", strings.Join(options, ","))
	}
	args = append(args, source, target)
	out, err := exec.Command("mount", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("mount %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (SystemMounter) Unmount(target string) error {
	out, err := exec.Command("umount", target).CombinedOutput()
	if err != nil {
		return fmt.Errorf("umount %s: %v: %s", target, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// IsMountPoint tells whether target is the mount point of an entry of /proc/self/mountinfo.
func (SystemMounter) IsMountPoint(target string) (bool, error) {
	want, err := filepath.Abs(target)
	if err != nil {
		return false, err
	}
	if r, err := filepath.EvalSymlinks(want); err == nil {
		want = r
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && unescapeMountinfo(fields[4]) == want {
			return true, nil
		}
	}
	return false, sc.Err()
}

// unescapeMountinfo decodes the octal escapes (\040 for a space, ...) of mountinfo fields.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
