package helmsdk

import (
	"context"
	"testing"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

func obj(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	j, err := yaml.YAMLToJSON([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(j); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestCustomResourceReadiness(t *testing.T) {
	const gw = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: gw\n  namespace: ns\n  generation: 2\n"
	const proxy = "apiVersion: projectcontour.io/v1\nkind: HTTPProxy\nmetadata:\n  name: p\n  namespace: ns\n  generation: 1\n"
	for _, tc := range []struct {
		name, y string
		want    status.Status
	}{
		{"no status: a controller may never fill it", proxy, status.CurrentStatus},
		{"an empty status", proxy + "status: {}\n", status.CurrentStatus},
		{"Gateway API's defaulted status (Pending, Unknown)", gw + "status:\n  conditions:\n  - type: Accepted\n    status: Unknown\n    reason: Pending\n  - type: Programmed\n    status: Unknown\n    reason: Pending\n", status.CurrentStatus},
		{"Contour's not-yet-reconciled status", proxy + "status:\n  currentStatus: NotReconciled\n", status.CurrentStatus},
		{"rejected by its controller (Accepted=False)", gw + "status:\n  conditions:\n  - type: Accepted\n    status: \"False\"\n    reason: InvalidParameters\n    message: bad listener\n", status.FailedStatus},
		{"Stalled=True", gw + "status:\n  conditions:\n  - type: Stalled\n    status: \"True\"\n    reason: Broken\n", status.FailedStatus},
		{"Failed=True", proxy + "status:\n  conditions:\n  - type: Failed\n    status: \"True\"\n", status.FailedStatus},
		{"Contour invalid", proxy + "status:\n  currentStatus: invalid\n  description: duplicate route\n", status.FailedStatus},
		{"Ready=False: still reconciling, waited for", gw + "status:\n  conditions:\n  - type: Ready\n    status: \"False\"\n    reason: Reconciling\n", status.InProgressStatus},
		{"observedGeneration behind generation", gw + "status:\n  observedGeneration: 1\n", status.InProgressStatus},
		{"Ready=True", gw + "status:\n  observedGeneration: 2\n  conditions:\n  - type: Ready\n    status: \"True\"\n", status.CurrentStatus},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := obj(t, tc.y)
			rs, err := newCustomResourceReader(nil).ReadStatusForObject(context.Background(), nil, u)
			if err != nil {
				t.Fatal(err)
			}
			if rs.Status != tc.want {
				t.Errorf("status %s (%s), want %s", rs.Status, rs.Message, tc.want)
			}
		})
	}
}

func TestCustomResourceReaderSupports(t *testing.T) {
	r := newCustomResourceReader(nil)
	for g, want := range map[string]bool{
		"": false, "apps": false, "batch": false, "networking.k8s.io": false, "apiextensions.k8s.io": false,
		"gateway.networking.k8s.io": true, "projectcontour.io": true, "cluster.x-k8s.io": true, "skoala.io": true,
	} {
		if got := r.Supports(schema.GroupKind{Group: g, Kind: "X"}); got != want {
			t.Errorf("Supports(%q) = %v, want %v", g, got, want)
		}
	}
}
