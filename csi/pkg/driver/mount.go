package driver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Mounter makes and removes mounts in the node's mount namespace.
type Mounter interface {
	// MountGlusterFS starts a GlusterFS FUSE client for source (server:/volume) at target.
	MountGlusterFS(ctx context.Context, source, target string, options []string) error
	// BindMount mounts source at target again (read-only when asked).
	BindMount(ctx context.Context, source, target string, readonly bool) error
	Unmount(ctx context.Context, target string, lazy bool) error
	// Mounts is the node's mount table.
	Mounts() ([]MountEntry, error)
	// Path is the path the driver opens the node's path p by.
	Path(p string) string
}

// MountEntry is one line of a mountinfo table.
type MountEntry struct {
	Device     string // major:minor: one FUSE client per distinct device
	MountPoint string
	FSType     string
	Source     string
}

// MounterMode says where the FUSE clients run.
type MounterMode string

const (
	// MountHost: mount(8) runs in the namespaces of a process of the node (nsenter: mount, UTS, IPC, network;
	// the node's mount.glusterfs), and the FUSE client lives in a systemd scope of its own (systemd-run --scope,
	// as the in-tree kubelet plugin mounted) or, where systemd is not PID 1 of the node, in the cgroup
	// FuseCgroup: never in the plugin container's cgroup or PID namespace, so that it outlives the plugin.
	MountHost MounterMode = "host"
	// MountContainer: mount(8) runs in the driver's own namespaces (the image's FUSE client). In a container
	// the FUSE clients end with it: for a driver that runs on the node itself, or for tests.
	MountContainer MounterMode = "container"
)

// NodeMounter is the Mounter of the node plugin.
type NodeMounter struct {
	Mode MounterMode
	// HostProcess names the node process whose namespaces the host mode enters: a PID ("1", the default) or a
	// command name (e.g. "kubelet": the first process of that name), looked up at every mount.
	HostProcess string
	// FuseCgroup is the cgroup the host mode moves the FUSE clients to when systemd is not the node's init
	// (relative to each hierarchy's root; default heketi-csi-fuse).
	FuseCgroup string
}

// launchEnv marks a copy of the driver started to be moved into a cgroup before it runs a command (see
// RunLauncher).
const launchEnv = "HEKETI_CSI_LAUNCHER"

// RunLauncher is the first thing main (and the tests' TestMain) runs. In a copy of the driver started by
// launchInCgroup, it waits until its parent has moved it into the FUSE cgroup (a byte on fd 3), then becomes
// the command of its arguments, so that the command and every process it starts (the FUSE client) live in
// that cgroup from their first instruction. Elsewhere it returns at once.
func RunLauncher() {
	if os.Getenv(launchEnv) != "1" {
		return
	}
	gate := os.NewFile(3, "launcher")
	var b [1]byte
	if n, err := gate.Read(b[:]); n != 1 || b[0] != 'y' {
		fmt.Fprintln(os.Stderr, "heketi-csi launcher: not moved into the FUSE cgroup:", err)
		os.Exit(125)
	}
	gate.Close()
	bin, err := exec.LookPath(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "heketi-csi launcher:", err)
		os.Exit(127)
	}
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, launchEnv+"=") {
			env = append(env, e)
		}
	}
	err = syscall.Exec(bin, os.Args[1:], env)
	fmt.Fprintln(os.Stderr, "heketi-csi launcher:", err)
	os.Exit(126)
}

// hostPID resolves HostProcess.
func (m *NodeMounter) hostPID() (int, error) {
	p := m.HostProcess
	if p == "" {
		p = "1"
	}
	if n, err := strconv.Atoi(p); err == nil {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d/ns/mnt", n)); err != nil {
			return 0, fmt.Errorf("--host-process %s: %w", p, err)
		}
		return n, nil
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	best := 0
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", n))
		if err == nil && strings.TrimSpace(string(comm)) == p && (best == 0 || n < best) {
			best = n
		}
	}
	if best == 0 {
		return 0, fmt.Errorf("--host-process %s: no such process (the node plugin needs hostPID: true)", p)
	}
	return best, nil
}

// Check tells, at start-up, whether host mode can work: the node process must be another process than the
// driver (a plugin in a PID namespace of its own sees itself, or its container's init, as PID 1).
func (m *NodeMounter) Check() error {
	if m.Mode != MountHost {
		log.Printf("mounter: container: the FUSE clients run in the plugin's own namespaces and end with it")
		return nil
	}
	pid, err := m.hostPID()
	if err != nil {
		return err
	}
	if pid == os.Getpid() || os.Getppid() == pid && pid == 1 {
		return fmt.Errorf("--mounter=host: process %d is the plugin's own container (no host PID namespace): run the node "+
			"pod with hostPID: true, or use --mounter=container (mounts then end with the plugin)", pid)
	}
	t, err := m.target()
	if err != nil {
		return err
	}
	if t == 0 {
		log.Printf("mounter: host: process %d shares the driver's mount namespace: mounts are made directly", pid)
	} else {
		log.Printf("mounter: host: mounts are made in the namespaces of process %d", pid)
	}
	return nil
}

// target is where commands run: a node process (host mode, in another mount namespace) or 0 (the driver's own).
func (m *NodeMounter) target() (int, error) {
	if m.Mode != MountHost {
		return 0, nil
	}
	pid, err := m.hostPID()
	if err != nil {
		return 0, err
	}
	self, err1 := os.Readlink("/proc/self/ns/mnt")
	other, err2 := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", pid))
	if err1 == nil && err2 == nil && self == other {
		return 0, nil // the driver runs in the node's mount namespace itself
	}
	return pid, nil
}

// Path is p in the node's mount namespace: /proc/<pid>/root/p in host mode.
func (m *NodeMounter) Path(p string) string {
	pid, err := m.target()
	if err != nil || pid == 0 {
		return p
	}
	return fmt.Sprintf("/proc/%d/root%s", pid, p)
}

// command builds argv to run in the node's namespaces.
func (m *NodeMounter) command(pid int, argv ...string) []string {
	if pid == 0 {
		return argv
	}
	return append([]string{"nsenter", "--target", strconv.Itoa(pid), "--mount", "--uts", "--ipc", "--net", "--"}, argv...)
}

func run(ctx context.Context, argv []string, wrap func(*exec.Cmd) error) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	var err error
	if wrap != nil {
		err = wrap(cmd)
	} else {
		err = cmd.Run()
	}
	if err != nil {
		msg := strings.TrimSpace(out.String())
		if len(msg) > 2000 {
			msg = msg[:2000] + "..."
		}
		return fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, msg)
	}
	return nil
}

func mountArgs(fstype string, options []string, source, target string) []string {
	args := []string{"mount", "-t", fstype}
	if len(options) > 0 {
		args = append(args, "-o", strings.Join(options, ","))
	}
	return append(args, source, target)
}

// MountGlusterFS runs mount -t glusterfs where the FUSE client outlives the plugin (see MountHost).
func (m *NodeMounter) MountGlusterFS(ctx context.Context, source, target string, options []string) error {
	pid, err := m.target()
	if err != nil {
		return err
	}
	args := mountArgs("glusterfs", options, source, target)
	if m.Mode != MountHost {
		return run(ctx, args, nil)
	}
	cgroups := m.Path("/sys/fs/cgroup")
	_, err = os.Stat(filepath.Join(cgroups, "cgroup.controllers"))
	v2 := err == nil
	systemd := false
	if st, err := os.Stat(m.Path("/run/systemd/system")); err == nil && st.IsDir() {
		systemd = true
		// systemd-run --scope moves itself (and so mount and the FUSE client it starts) into a transient scope.
		args = append([]string{"systemd-run", "--scope", "--collect", "--quiet",
			"--description=heketi-csi: GlusterFS FUSE client of " + source + " at " + target, "--"}, args...)
	}
	if v2 && systemd {
		// The scope holds every controller of the unified hierarchy.
		return explainMount(run(ctx, m.command(pid, args...), nil))
	}
	// cgroup v1 (systemd's scope covers only the controllers systemd manages: the FUSE client would stay in
	// the plugin's cpu, cpuset, blkio and freezer cgroups) or no systemd: the command starts in the FUSE cgroup.
	skip := ""
	if systemd {
		skip = "systemd" // name=systemd is systemd's own: the scope takes it
	}
	return explainMount(launchInCgroup(ctx, cgroups, m.fuseCgroup(), skip, m.command(pid, args...)))
}

// explainMount adds the likely cause to a failed host mount.
func explainMount(err error) error {
	if err != nil && strings.Contains(err.Error(), "unknown filesystem type") {
		return fmt.Errorf("%w (the node has no GlusterFS FUSE client: install glusterfs-client there, e.g. with the "+
			"glusterfs_client role, or run the node plugin with --mounter=container)", err)
	}
	return err
}

// launchInCgroup runs argv in a copy of the driver that is moved into the cgroup name of the hierarchies under
// cgroupRoot (but skip) before it executes argv (RunLauncher).
func launchInCgroup(ctx context.Context, cgroupRoot, name, skip string, argv []string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	return run(ctx, append([]string{self}, argv...), func(cmd *exec.Cmd) error {
		r, w, err := os.Pipe()
		if err != nil {
			return err
		}
		defer w.Close()
		cmd.Env = append(os.Environ(), launchEnv+"=1")
		cmd.ExtraFiles = []*os.File{r}
		if err := cmd.Start(); err != nil {
			r.Close()
			return err
		}
		r.Close()
		if err := joinCgroup(cgroupRoot, name, skip, cmd.Process.Pid); err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return fmt.Errorf("moving the FUSE client out of the plugin's cgroup: %w", err)
		}
		if _, err := w.Write([]byte{'y'}); err != nil {
			_ = cmd.Process.Kill()
		}
		return cmd.Wait()
	})
}

func (m *NodeMounter) fuseCgroup() string {
	if m.FuseCgroup == "" {
		return "heketi-csi-fuse"
	}
	return m.FuseCgroup
}

// joinCgroup moves pid into the cgroup name below the root of every hierarchy mounted under root but skip
// (cgroup v1), or of the unified hierarchy (v2), creating it as needed.
func joinCgroup(root, name, skip string, pid int) error {
	var dirs []string
	if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err == nil {
		dirs = []string{root} // v2
	} else {
		entries, err := os.ReadDir(root)
		if err != nil {
			return err
		}
		for _, e := range entries {
			h := filepath.Join(root, e.Name())
			if e.Type()&os.ModeSymlink != 0 || e.Name() == skip {
				continue // cpu -> cpu,cpuacct and the like
			}
			if _, err := os.Stat(filepath.Join(h, "cgroup.procs")); err == nil {
				dirs = append(dirs, h)
			}
		}
	}
	if len(dirs) == 0 {
		return fmt.Errorf("no cgroup hierarchy under %s", root)
	}
	for _, h := range dirs {
		dir := filepath.Join(h, name)
		if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
			return err
		}
		// A new cpuset cgroup has no CPUs or memory nodes: nothing could join it. Give it its parent's.
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if cur, err := os.ReadFile(filepath.Join(dir, f)); err == nil && strings.TrimSpace(string(cur)) == "" {
				if parent, err := os.ReadFile(filepath.Join(h, f)); err == nil {
					if err := os.WriteFile(filepath.Join(dir, f), parent, 0o644); err != nil {
						return err
					}
				}
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
	}
	return nil
}

// BindMount runs mount --bind [-o ro] source target in the node's mount namespace.
func (m *NodeMounter) BindMount(ctx context.Context, source, target string, readonly bool) error {
	pid, err := m.target()
	if err != nil {
		return err
	}
	args := []string{"mount", "--bind"}
	if readonly {
		args = append(args, "-o", "ro") // mount(8) remounts the bind read-only itself
	}
	return run(ctx, m.command(pid, append(args, source, target)...), nil)
}

// Unmount runs umount [-l] target in the node's mount namespace.
func (m *NodeMounter) Unmount(ctx context.Context, target string, lazy bool) error {
	pid, err := m.target()
	if err != nil {
		return err
	}
	args := []string{"umount"}
	if lazy {
		args = append(args, "-l")
	}
	return run(ctx, m.command(pid, append(args, target)...), nil)
}

// Mounts reads the node's mountinfo (/proc/<pid>/mountinfo in host mode).
func (m *NodeMounter) Mounts() ([]MountEntry, error) {
	pid, err := m.target()
	if err != nil {
		return nil, err
	}
	file := "/proc/self/mountinfo"
	if pid != 0 {
		file = fmt.Sprintf("/proc/%d/mountinfo", pid)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseMountinfo(f)
}

// parseMountinfo reads mountinfo lines: id parent major:minor root mountpoint options [optional...] - fstype source ...
func parseMountinfo(r io.Reader) ([]MountEntry, error) {
	var out []MountEntry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 7 {
			continue
		}
		e := MountEntry{Device: fields[2], MountPoint: unescapeMountinfo(fields[4])}
		for i := 6; i < len(fields)-1; i++ {
			if fields[i] == "-" {
				e.FSType = fields[i+1]
				if i+2 < len(fields) {
					e.Source = unescapeMountinfo(fields[i+2])
				}
				break
			}
		}
		out = append(out, e)
	}
	return out, sc.Err()
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

// mountHealth is what a path of the node is.
type mountHealth int

const (
	notMounted mountHealth = iota
	mountedOK
	mountedDead // a mount whose FUSE client is gone: ENOTCONN ("Transport endpoint is not connected")
)

// health says whether p is a mount point of the node and whether it answers.
func health(m Mounter, p string) (mountHealth, error) {
	entries, err := m.Mounts()
	if err != nil {
		return notMounted, err
	}
	clean := filepath.Clean(p)
	mounted := false
	for _, e := range entries {
		if e.MountPoint == clean {
			mounted = true
		}
	}
	if !mounted {
		return notMounted, nil
	}
	// A plain stat answers from FUSE's attribute cache even when the client is gone: force a request.
	var st unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, m.Path(clean), unix.AT_STATX_FORCE_SYNC, unix.STATX_TYPE, &st); err != nil {
		if errors.Is(err, syscall.ENOTCONN) || errors.Is(err, syscall.ECONNABORTED) {
			return mountedDead, nil
		}
		return mountedOK, fmt.Errorf("stat %s: %w", p, err)
	}
	return mountedOK, nil
}

// unmountAll unmounts p until it is no mount point (stacked mounts), a dead one lazily.
func unmountAll(ctx context.Context, m Mounter, p string) error {
	for i := 0; i < 8; i++ {
		h, err := health(m, p)
		if err != nil && h == notMounted {
			return err
		}
		if h == notMounted {
			return nil
		}
		if err := m.Unmount(ctx, p, false); err != nil {
			log.Printf("umount %s: %v; unmounting it lazily", p, err)
			if err := m.Unmount(ctx, p, true); err != nil {
				return err
			}
		}
	}
	return fmt.Errorf("%s: still a mount point after 8 unmounts", p)
}
