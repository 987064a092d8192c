package upgrade

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk/helmtest"
)

func TestPlanWarnsWhenTheRecordWouldNearTheLimit(t *testing.T) {
	for name, tc := range map[string]struct {
		manifest int
		warn     bool
	}{"a small release": {1000, false}, "a release of 1.5 MiB of hexadecimal manifest": {3 << 19, true}} {
		t.Run(name, func(t *testing.T) {
			b := make([]byte, tc.manifest/2)
			_, _ = rand.Read(b)
			sec := helmtest.Secret(helmtest.Spec{Name: "skoala-init", Namespace: "ns", Revision: 1, Status: "deployed", Chart: "skoala-init", Version: "0.35.0",
				Manifest: "# " + hex.EncodeToString(b)})
			rel, err := helmsdk.DecodeRelease(sec.Data["release"])
			if err != nil {
				t.Fatal(err)
			}
			p := &ReleasePlan{Release: "skoala-init", To: "0.35.0"}
			warnRecordSize(p, rel)
			got := strings.Join(p.Warnings, "\n")
			if tc.warn != strings.Contains(got, "of the API server's 1 MiB limit") {
				t.Errorf("warnings %q, want a size warning: %v", got, tc.warn)
			}
		})
	}
}
