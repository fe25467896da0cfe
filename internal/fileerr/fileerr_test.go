package fileerr

import (
	"errors"
	"testing"
)

var errBad = errors.New("bad file")

func TestJoin(t *testing.T) {
	err := Join("x.yaml", errBad, []*Error{{Line: 3, Key: "a.b", Msg: `"z": want a number`}, {Msg: "empty"}})
	want := "x.yaml: line 3: a.b: \"z\": want a number\nx.yaml: empty"
	if err == nil || err.Error() != want || !errors.Is(err, errBad) {
		t.Fatalf("Join = %q (is errBad: %v), want %q", err, errors.Is(err, errBad), want)
	}
	if Join("x", errBad, nil) != nil {
		t.Fatal("Join of nothing must be nil")
	}
}
