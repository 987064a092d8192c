package gctune

import (
	"os"
	"runtime/debug"
	"strconv"
	"testing"
)

// After start-up the collector runs at Percent, or at the GOGC of the environment when one is set
// (run the test both ways: go test; GOGC=150 go test).
func TestPercentIsSetUnlessGOGCIs(t *testing.T) {
	got := debug.SetGCPercent(100)
	debug.SetGCPercent(got)
	want := Percent
	if env := os.Getenv("GOGC"); env != "" {
		n, err := strconv.Atoi(env)
		switch {
		case env == "off":
			n = -1
		case err != nil:
			t.Fatalf("GOGC=%s: not a number or off", env)
		}
		want = n
	}
	if got != want {
		t.Fatalf("GC percent after start-up = %d, want %d", got, want)
	}
}
