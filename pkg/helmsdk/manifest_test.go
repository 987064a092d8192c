package helmsdk

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	"sigs.k8s.io/yaml"
)

// helmSplit is how SplitManifest used to read a manifest: Helm's own splitter and sigs.k8s.io/yaml. The
// faster reader must find the same objects.
func helmSplit(manifest string) []ManifestObject {
	docs := releaseutil.SplitManifests(manifest)
	keys := make([]string, 0, len(docs))
	for k := range docs {
		keys = append(keys, k)
	}
	sort.Sort(releaseutil.BySplitManifestsOrder(keys))
	var out []ManifestObject
	for _, k := range keys {
		var o struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
			Spec struct {
				Template struct {
					Spec struct {
						InitContainers []manifestContainer `json:"initContainers"`
						Containers     []manifestContainer `json:"containers"`
					} `json:"spec"`
				} `json:"template"`
				JobTemplate struct {
					Spec struct {
						Template struct {
							Spec struct {
								InitContainers []manifestContainer `json:"initContainers"`
								Containers     []manifestContainer `json:"containers"`
							} `json:"spec"`
						} `json:"template"`
					} `json:"spec"`
				} `json:"jobTemplate"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal([]byte(docs[k]), &o); err != nil || o.Kind == "" {
			continue
		}
		mo := ManifestObject{APIVersion: o.APIVersion, Kind: o.Kind, Name: o.Metadata.Name, Namespace: o.Metadata.Namespace}
		ps := o.Spec.Template.Spec // a CronJob's containers are read by nothing: not kept
		for _, c := range ps.InitContainers {
			mo.Containers = append(mo.Containers, Container{Name: c.Name, Image: c.Image, Init: true})
		}
		for _, c := range ps.Containers {
			mo.Containers = append(mo.Containers, Container{Name: c.Name, Image: c.Image})
		}
		out = append(out, mo)
	}
	return out
}

const deployment = `# Source: skoala/templates/hive.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hive
  namespace: skoala-system
  labels: {app: hive}
spec:
  replicas: 1
  template:
    spec:
      initContainers:
      - name: init-db
        image: "release.daocloud.io/skoala/hive:v0.57.2"
      containers:
      - name: hive
        image: release.daocloud.io/skoala/hive:v0.57.2
        args: ["--config", "/etc/hive/config.yaml"]
      - name: sidecar
        image: 'docker.io/istio/proxyv2:1.19'
`

const cronJob = `apiVersion: batch/v1
kind: CronJob
metadata:
  name: cleaner
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - {name: clean, image: "busybox:1.36"}
`

func TestSplitManifestReadsWhatHelmReads(t *testing.T) {
	cases := map[string]string{
		"empty":                    "",
		"one object":               deployment,
		"leading separator":        "---\n" + deployment,
		"separator with a comment": "--- # first\n" + deployment + "---   \n" + cronJob,
		"empty documents": "---\n---\n\n---\n" + deployment + "\n---\n# Source: nothing.yaml\n---\n" +
			cronJob + "---\n",
		"crlf line ends":        strings.ReplaceAll("---\n"+deployment+"---\n"+cronJob, "\n", "\r\n"),
		"not an object":         "---\nfoo: bar\n---\n- a\n- b\n---\n" + cronJob,
		"dashes inside a value": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  x: |\n    a---b\n     ---\n---\n" + deployment,
		"flow style":            `{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc", "namespace": "ns"}}` + "\n---\n" + deployment,
	}
	var many []string
	for i := 0; i < 40; i++ {
		many = append(many, strings.ReplaceAll(deployment, "name: hive\n", fmt.Sprintf("name: hive-%d\n", i)))
	}
	cases["forty objects"] = "---\n" + strings.Join(many, "---\n")
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			got, want := SplitManifest(m), helmSplit(m)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("SplitManifest:\n%+v\nHelm's splitter and sigs.k8s.io/yaml:\n%+v", got, want)
			}
		})
	}
	objs := SplitManifest("---\n" + deployment + "---\n" + cronJob)
	if len(objs) != 2 || objs[0].Name != "hive" || len(objs[0].Containers) != 3 || !objs[0].Containers[0].Init ||
		objs[1].Kind != "CronJob" || len(objs[1].Containers) != 0 {
		t.Errorf("objects: %+v", objs)
	}
}

func TestReleaseObjectsIsReadOnceAndCopied(t *testing.T) {
	r := &Release{Manifest: deployment}
	a := r.Objects()
	a[0].Name = "changed"
	if b := r.Objects(); b[0].Name != "hive" {
		t.Errorf("a caller's change leaked into the release's objects: %+v", b)
	}
}

func BenchmarkSplitManifest(b *testing.B) {
	var many []string
	for i := 0; i < 12; i++ {
		many = append(many, strings.ReplaceAll(deployment, "name: hive\n", fmt.Sprintf("name: hive-%d\n", i)))
	}
	m := "---\n" + strings.Join(many, "---\n")
	b.Run("SplitManifest", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			SplitManifest(m)
		}
	})
	b.Run("helm splitter and sigs.k8s.io/yaml", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			helmSplit(m)
		}
	})
}
