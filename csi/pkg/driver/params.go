package driver

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/glusterfs-heketi/heketi-csi/pkg/heketi"
)

// StorageClass parameters, named as the in-tree kubernetes.io/glusterfs class named them.
const (
	ParamRestURL          = "resturl"
	ParamRestUser         = "restuser"
	ParamClusterIDs       = "clusterids"
	ParamClusterID        = "clusterid" // the in-tree spelling, accepted as a synonym
	ParamVolumeType       = "volumetype"
	ParamVolumeNamePrefix = "volumenameprefix"
	ParamVolumeOptions    = "volumeoptions"
	ParamGidMin           = "gidMin"
	ParamGidMax           = "gidMax"

	// Keys of the CSI secrets (the Secret the StorageClass names).
	SecretKey     = "key"
	SecretUser    = "user"
	SecretRestURL = "resturl"

	// Keys of the volume context CreateVolume returns (and a static PV may set by hand).
	CtxServer  = "server"
	CtxVolume  = "volume"
	CtxBackups = "backup-volfile-servers"
	CtxGid     = "gid"

	defaultPrefix = "vol"
	// GlusterD limits volume names to 103 characters (GD_VOLUME_NAME_MAX); stay below.
	maxVolumeName = 100
)

var (
	hexID      = regexp.MustCompile(`^[a-fA-F0-9]{32}$`)
	nameSafe   = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)
	nameUnsafe = regexp.MustCompile(`[^a-zA-Z0-9_-]+`)

	// A volume option reaches Heketi's `gluster volume set <volume> <name> <value>`, which Heketi's ssh
	// executor runs unquoted through /bin/bash -c, as root, on a storage node. So both words are made of
	// characters no shell treats specially: the name a lower-case GlusterFS option name, the value letters,
	// digits and . _ : / @ % + = - (no whitespace, quotes, $, `, ;, &, |, <, >, (, ), {, }, [, ], *, ?, !, ~, #,
	// \ or ,). The collection's Python rules (plugins/module_utils/_storageclass_parameters.py) are the same;
	// tests/contracts/storageclass_parameters.json holds the cases both pass.
	optionName  = regexp.MustCompile(`^[a-z][a-z0-9._-]{0,127}$`)
	optionValue = regexp.MustCompile(`^[A-Za-z0-9._:/@%+=-]{1,256}$`)
)

// volumeOptionRule states the rule for error messages.
const volumeOptionRule = "want comma-separated \"<name> <value>\" entries: the name [a-z][a-z0-9._-]* (at most 128 characters), " +
	"the value 1-256 of [A-Za-z0-9._:/@%+=-] (Heketi's ssh executor runs the option through a root shell)"

// createParams is a parsed, validated set of CreateVolume parameters.
type createParams struct {
	restURL    string
	restUser   string
	prefix     string
	durability heketi.Durability
	clusters   []string
	options    []string
	gidMin     int64
	gidMax     int64
}

func paramError(name, value, why string) error {
	return fmt.Errorf("parameter %s=%q: %s", name, value, why)
}

// parseParams validates the class parameters; the first bad one is named in the error.
// Keys that start with "csi.storage.k8s.io/" belong to the sidecars and are ignored.
func parseParams(p map[string]string) (*createParams, error) {
	out := &createParams{prefix: defaultPrefix}
	out.durability.Type = "replicate"
	out.durability.Replicate.Replica = 3
	var gidMin, gidMax string
	for k, v := range p {
		switch k {
		case ParamRestURL:
			if !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
				return nil, paramError(k, v, "want an http:// or https:// URL of the Heketi server")
			}
			out.restURL = strings.TrimRight(v, "/")
		case ParamRestUser:
			if v != "admin" && v != "user" {
				return nil, paramError(k, v, "Heketi knows the users admin and user (volume creation polls /queue, which needs admin)")
			}
			out.restUser = v
		case ParamClusterIDs, ParamClusterID:
			for _, id := range strings.Split(v, ",") {
				id = strings.TrimSpace(id)
				if id == "" {
					continue
				}
				if !hexID.MatchString(id) {
					return nil, paramError(k, v, fmt.Sprintf("%q is not a Heketi cluster id (32 hex digits)", id))
				}
				out.clusters = append(out.clusters, id)
			}
		case ParamVolumeType:
			d, err := parseVolumeType(v)
			if err != nil {
				return nil, paramError(k, v, err.Error())
			}
			out.durability = d
		case ParamVolumeNamePrefix:
			if v == "" || !nameSafe.MatchString(v) || len(v) > 40 {
				return nil, paramError(k, v, "want 1-40 characters of [a-zA-Z0-9_-]")
			}
			out.prefix = v
		case ParamVolumeOptions:
			opts, err := parseVolumeOptions(v)
			if err != nil {
				return nil, paramError(k, v, err.Error())
			}
			out.options = opts
		case ParamGidMin:
			gidMin = v
		case ParamGidMax:
			gidMax = v
		default:
			if strings.HasPrefix(k, "csi.storage.k8s.io/") {
				continue
			}
			return nil, paramError(k, v, "unknown parameter (known: resturl, restuser, clusterids, volumetype, volumenameprefix, volumeoptions, gidMin, gidMax)")
		}
	}
	if gidMin != "" || gidMax != "" {
		var err error
		if out.gidMin, err = parseGid(ParamGidMin, gidMin, 2000); err != nil {
			return nil, err
		}
		if out.gidMax, err = parseGid(ParamGidMax, gidMax, 2147483647); err != nil {
			return nil, err
		}
		if out.gidMin > out.gidMax {
			return nil, paramError(ParamGidMin, gidMin, "greater than gidMax "+gidMax)
		}
	}
	return out, nil
}

// parseVolumeOptions reads comma-separated "<name> <value>" entries (see optionName and optionValue);
// the first bad entry is named in the error. Empty entries are skipped.
func parseVolumeOptions(v string) ([]string, error) {
	var out []string
	for _, entry := range strings.Split(v, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		f := strings.Fields(entry)
		if len(f) != 2 || !optionName.MatchString(f[0]) || !optionValue.MatchString(f[1]) {
			return nil, fmt.Errorf("entry %q refused: %s", entry, volumeOptionRule)
		}
		out = append(out, f[0]+" "+f[1])
	}
	return out, nil
}

func parseGid(name, v string, def int64) (int64, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 2000 || n > 2147483647 {
		return 0, paramError(name, v, "want an integer from 2000 to 2147483647")
	}
	return n, nil
}

// parseVolumeType reads replicate:N, disperse:D:R or none.
func parseVolumeType(v string) (heketi.Durability, error) {
	var d heketi.Durability
	parts := strings.Split(v, ":")
	num := func(s string, min int) (int, error) {
		n, err := strconv.Atoi(s)
		if err != nil || n < min {
			return 0, fmt.Errorf("%q is not an integer >= %d", s, min)
		}
		return n, nil
	}
	var err error
	switch {
	case parts[0] == "none" && len(parts) == 1:
		d.Type = "none"
	case parts[0] == "replicate" && len(parts) == 2:
		d.Type = "replicate"
		d.Replicate.Replica, err = num(parts[1], 1)
	case parts[0] == "disperse" && len(parts) == 3:
		d.Type = "disperse"
		if d.Disperse.Data, err = num(parts[1], 1); err == nil {
			d.Disperse.Redundancy, err = num(parts[2], 1)
		}
	default:
		err = fmt.Errorf("want replicate:<replicas>, disperse:<data>:<redundancy> or none")
	}
	return d, err
}

// heketiName derives the Heketi volume name from the CSI request name, deterministically: the
// same request name always gives the same Heketi name, which is how a retried CreateVolume finds
// the volume of the first attempt. Names Heketi would refuse ([^a-zA-Z0-9_-]) or that would be
// too long for GlusterD are shortened and get a hash of the whole request name.
func heketiName(prefix, requestName string) string {
	name := prefix + "_" + requestName
	if nameSafe.MatchString(requestName) && len(name) <= maxVolumeName {
		return name
	}
	sum := sha256.Sum256([]byte(requestName))
	tag := hex.EncodeToString(sum[:])[:16]
	clean := strings.Trim(nameUnsafe.ReplaceAllString(requestName, "-"), "-")
	room := maxVolumeName - len(prefix) - len(tag) - 2
	if len(clean) > room {
		clean = clean[:room]
	}
	if clean == "" {
		return prefix + "_" + tag
	}
	return prefix + "_" + clean + "_" + tag
}
