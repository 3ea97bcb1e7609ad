package driver

import (
	"strings"
	"testing"
)

func TestHeketiNameIsDeterministicAndValid(t *testing.T) {
	long := strings.Repeat("x", 128)
	for _, tc := range []struct{ prefix, name, want string }{
		{"vol", "pvc-0b6a1c2e-4f7e-4bd1-9a52-0a7f0c1d2e3f", "vol_pvc-0b6a1c2e-4f7e-4bd1-9a52-0a7f0c1d2e3f"},
		{"vol", "sanity Controller test/1", ""},
		{"vol", long, ""},
		{"vol", "a b", ""},
		{"vol", "a_b", "vol_a_b"},
	} {
		got := heketiName(tc.prefix, tc.name)
		if got != heketiName(tc.prefix, tc.name) {
			t.Fatal("not deterministic")
		}
		if tc.want != "" && got != tc.want {
			t.Fatalf("%q -> %q, want %q", tc.name, got, tc.want)
		}
		if !nameSafe.MatchString(got) || len(got) > maxVolumeName || !strings.HasPrefix(got, tc.prefix+"_") {
			t.Fatalf("%q -> %q: not a valid Heketi volume name", tc.name, got)
		}
	}
	// Names that clean up to the same text still differ.
	if heketiName("vol", "a b") == heketiName("vol", "a/b") {
		t.Fatal("distinct request names collided")
	}
}
