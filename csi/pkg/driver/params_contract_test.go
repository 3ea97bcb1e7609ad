package driver

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
)

// The StorageClass parameter contract, shared with the collection's Python rules: one table, read by both.
type contractCase struct {
	Name       string            `json:"name"`
	Kinds      []string          `json:"kinds"`
	Parameters map[string]string `json:"parameters"`
	Error      *struct {
		Parameter string `json:"parameter"`
		Contains  string `json:"contains"`
	} `json:"error"`
}

func contractCases(t *testing.T) []contractCase {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "tests", "contracts", "storageclass_parameters.json"))
	if err != nil {
		t.Fatal(err)
	}
	var table struct {
		Cases []contractCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &table); err != nil {
		t.Fatal(err)
	}
	var out []contractCase
	for _, c := range table.Cases {
		if len(c.Kinds) == 0 || strings.Contains(" "+strings.Join(c.Kinds, " ")+" ", " csi ") {
			out = append(out, c)
		}
	}
	if len(out) < 30 {
		t.Fatalf("only %d contract cases apply to the driver", len(out))
	}
	return out
}

func TestParametersFollowTheSharedContract(t *testing.T) {
	for _, c := range contractCases(t) {
		_, err := parseParams(c.Parameters)
		switch {
		case c.Error == nil && err != nil:
			t.Errorf("%s: refused: %v", c.Name, err)
		case c.Error != nil && err == nil:
			t.Errorf("%s: accepted, want an error about %s", c.Name, c.Error.Parameter)
		case c.Error != nil && (!strings.Contains(err.Error(), "parameter "+c.Error.Parameter+"=") ||
			!strings.Contains(err.Error(), strings.Trim(strconv.Quote(c.Error.Contains), `"`))):
			t.Errorf("%s: error %q does not name %s and %q", c.Name, err, c.Error.Parameter, c.Error.Contains)
		}
	}
}

// A class whose volume options would run a command on a storage node is refused with INVALID_ARGUMENT naming
// the entry, and nothing reaches Heketi: no volume, and no POST /volumes in Heketi's log.
func TestVolumeOptionsThatReachAShellNeverReachHeketi(t *testing.T) {
	d := controller(t)
	before, _ := srv.Volumes()
	posts := strings.Count(srv.Log(), "POST /volumes")
	n := 0
	for _, c := range contractCases(t) {
		if c.Error == nil || c.Error.Parameter != ParamVolumeOptions {
			continue
		}
		n++
		_, err := d.CreateVolume(context.Background(), createReq("pvc-inject", giB, c.Parameters))
		wantCode(t, err, codes.InvalidArgument, "parameter volumeoptions", "refused")
	}
	after, _ := srv.Volumes()
	if n < 10 || len(after) != len(before) || strings.Count(srv.Log(), "POST /volumes") != posts {
		t.Fatalf("%d refused cases; %d volumes before, %d after; Heketi's log: %d POST /volumes before, %d after",
			n, len(before), len(after), posts, strings.Count(srv.Log(), "POST /volumes"))
	}
}
