package images

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/images/imagestest"
)

func writeLimitBundle(t *testing.T, files map[string][]byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "skoala_0.57.2.bundle.tar")
	all := map[string][]byte{"hints.yaml": []byte("- a/b:c\n"), "original-chart/Chart.yaml": []byte("name: skoala\nversion: 0.57.2\n"),
		"original-chart/values.yaml": []byte("a: 1\n"), "images.tar": []byte("x")}
	for k, v := range files {
		all[k] = v
	}
	if err := imagestest.WriteTar(p, all); err != nil {
		t.Fatal(err)
	}
	return p
}

// A chart file of an offline bundle past 64 MiB is refused, not cut at 64 MiB and rendered in part.
func TestOpenBundleRefusesAFileItWouldCut(t *testing.T) {
	big := bytes.Repeat([]byte("#"), 64<<20+1)
	_, err := OpenBundle(writeLimitBundle(t, map[string][]byte{"original-chart/templates/big.yaml": big}))
	if err == nil || !strings.Contains(err.Error(), "original-chart/templates/big.yaml is larger than 64 MiB") {
		t.Fatalf("err %v, want the file named as too large", err)
	}
	_, err = OpenBundle(writeLimitBundle(t, map[string][]byte{"hints.yaml": bytes.Repeat([]byte("#"), 1<<20+1)}))
	if err == nil || !strings.Contains(err.Error(), "hints.yaml is larger than 1 MiB") {
		t.Fatalf("err %v, want hints.yaml named as too large", err)
	}
}

// The count of chart files and their total are bounded.
func TestOpenBundleBoundsTheChartsCountAndTotal(t *testing.T) {
	defer func(n int, s int64) { maxChartFiles, maxChartSize = n, s }(maxChartFiles, maxChartSize)
	maxChartFiles, maxChartSize = 5, 2<<20
	many := map[string][]byte{}
	for i := 0; i < 6; i++ {
		many[fmt.Sprintf("original-chart/templates/t%d.yaml", i)] = []byte("a: 1\n")
	}
	if _, err := OpenBundle(writeLimitBundle(t, many)); err == nil || !strings.Contains(err.Error(), "original-chart/ holds more than 5 files") {
		t.Fatalf("err %v, want the count refused", err)
	}
	maxChartFiles = 100
	large := map[string][]byte{"original-chart/a.yaml": bytes.Repeat([]byte("#"), 1<<20+10), "original-chart/b.yaml": bytes.Repeat([]byte("#"), 1<<20+10)}
	if _, err := OpenBundle(writeLimitBundle(t, large)); err == nil || !strings.Contains(err.Error(), "original-chart/ holds more than 2 MiB") {
		t.Fatalf("err %v, want the total refused", err)
	}
}
