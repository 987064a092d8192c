package helmsdk

import (
	"reflect"
	"strings"
	"testing"
)

// manifestDocs are documents as Helm charts render them, and the shapes the fast reader must refuse.
var manifestDocs = []string{
	// a workload as charts render it: comments, labels, compact and indented sequences, block scalars,
	// empty flow collections, quoted values
	`# Source: skoala/templates/hive.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hive
  namespace: "skoala-system"
  labels:
    app.kubernetes.io/name: hive # a comment
    name: not-the-name
  annotations:
    "helm.sh/hook": pre-install
    'quoted': "value" # a comment
spec:
  replicas: 2
  selector:
    matchLabels:
      app: hive
  template:
    metadata:
      name: not-this-either
      labels:
        app: hive
    spec:
      initContainers:
      - name: wait-for-db
        image: 'release.daocloud.io/skoala/wait:v1'
        command:
        - sh
        - -c
        - |
          until nc -z db 3306; do
            sleep 1
          done
      containers:
        - name: hive
          image: release.daocloud.io/skoala/hive:v0.28.1
          args: ["--config", '/etc/hive/config.yaml', --verbose, [nested, "list"]] # a comment
          command: [ ]
          env:
            - name: CONFIG
              value: >-
                folded
                text
            - name: EMPTY
              value:
          resources: {}
          securityContext:
            {}
          lifecycle: null
        - image: release.daocloud.io/istio/proxyv2:1.20.0
          name: istio-proxy
      volumes: []
`,
	"apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: sync\nspec:\n  schedule: \"*/5 * * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - name: sync\n            image: x/sync:1\n          restartPolicy: OnFailure\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hive-config\ndata:\n  config.yaml: |\n    database:\n      - driver: mysql\n        dsn: \"x\"\n  other: plain\n",
	"apiVersion: v1\nkind: Service\nmetadata:\n  name: hive\nspec:\n  ports:\n  - port: 80\n    targetPort: http\n  selector:\n    app: hive\n",
	"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\r\ntype: Opaque\r\n",
	"kind: Job\nmetadata:\n  name: gateway-api-admission\nspec:\n  template:\n    spec:\n      containers:\n      -   name: create\n          image: x/certgen:v1\n",
	"metadata:\n  name: no-kind\n",
	"# only a comment\n",
	"kind: List\nitems:\n- kind: Pod\n  metadata:\n    name: x\n",
	"kind: \"\"\n",
	"kind: 123\nmetadata:\n  name: true\n",
	"kind: Pod\nmetadata:\n  name: a#b\n",
	// refused by the fast reader (yaml/v2 decides)
	"kind: Pod\nmetadata:\n  name: x\nspec:\n  template:\n    spec:\n      containers:\n      -\n      - name: a\n",
	"kind: Pod\nmetadata:\n  name: &a x\n",
	"kind: Pod\nmetadata: {name: x}\n",
	"kind: Pod\nmetadata:\n  name: \"esc\\\"aped\"\n",
	"kind: Pod\nmetadata:\n  name: 'it''s'\n",
	"kind: Pod\nmetadata:\n  name:\n",
	"kind: Pod\nmetadata:\n  name: ~\n",
	"kind: Pod\nkind: Service\n",
	"kind: Pod\nmetadata:\n  name: a\n  name: b\n",
	"kind: Pod\nmetadata:\n  name: multi\n    line\n",
	"kind: Pod\nmetadata:\n\tname: tab\n",
	"kind: Pod\nspec: scalar\n",
	"kind: Pod\nspec:\n  template:\n    spec:\n      containers: {}\n",
	"kind: Pod\nspec:\n  template:\n    spec:\n      containers:\n        name: not-a-list\n",
	"kind: Pod\nspec:\n  template:\n    spec:\n      containers:\n      - just-a-string\n",
	"kind: Pod\n\"quoted\" key\n",
	"kind: Pod\n\"kind\": Service\n",
	"kind: Pod\n'it''s': key\n",
	"kind: Pod\nspec:\n  x:\n    {}\n    more\n",
	"- a\n- b\n",
	"just a scalar\n",
	"kind: |\n  Pod\n",
	"kind: Pod\nmetadata:\n  name: a: b\n",
	"%YAML 1.1\n---\nkind: Pod\n",
	"kind: !!str Pod\n",
	"kind: Pod\nmetadata:\n  labels:\n    <<: *x\n",
	"kind: Pod\nspec:\n  args: [a, b,]\n",
	"kind: Pod\nspec:\n  args: [a, b\n    c]\n",
	"kind: Pod\nspec:\n  args: [a: b]\n",
	"kind: Pod\nspec:\n  args: [\"a\\\"b\"]\n",
	"kind: Pod\nspec:\n  args: [a]x\n",
	"kind: Pod\nspec:\n  args: [{a: b}]\n",
	"kind: Pod\nmetadata:\n  name: [x]\n",
	"kind: a\u0085b\n",
	"kind: Pod\nmetadata:\n  name: x\u2028  namespace: y\n",
	"kind: Pod\nmetadata:\n  name: \xf6\n",
}

// mustAnswer is how many of manifestDocs, from the first, the fast reader must answer.
const mustAnswer = 12

// The fast reader, when it answers, answers what yaml/v2 does; and it answers the shapes charts render.
func TestFastManifestObjectAgreesWithYAML(t *testing.T) {
	for i, doc := range manifestDocs {
		answered := fastAgrees(t, doc)
		switch {
		case i < mustAnswer && !answered:
			t.Errorf("document %d: the fast reader gave up on a shape charts render:\n%s", i, doc)
		case i >= mustAnswer && answered:
			t.Errorf("document %d: the fast reader answered a shape it must leave to yaml/v2:\n%s", i, doc)
		}
	}
}

func TestFastManifestObjectReads(t *testing.T) {
	mo, isObject, ok := fastManifestObject(manifestDocs[0])
	want := ManifestObject{APIVersion: "apps/v1", Kind: "Deployment", Name: "hive", Namespace: "skoala-system", Containers: []Container{
		{Name: "wait-for-db", Image: "release.daocloud.io/skoala/wait:v1", Init: true},
		{Name: "hive", Image: "release.daocloud.io/skoala/hive:v0.28.1"},
		{Name: "istio-proxy", Image: "release.daocloud.io/istio/proxyv2:1.20.0"},
	}}
	if !ok || !isObject || !reflect.DeepEqual(mo, want) {
		t.Fatalf("got %+v (object %v, answered %v), want %+v", mo, isObject, ok, want)
	}
	// A CronJob's containers are read by nothing (inspect's workloads have no CronJob): not kept.
	if mo, _, ok := fastManifestObject(manifestDocs[1]); !ok || mo.Kind != "CronJob" || len(mo.Containers) != 0 {
		t.Fatalf("CronJob: %+v (answered %v)", mo, ok)
	}
}

// fastAgrees checks one document; it reports whether the fast reader answered.
func fastAgrees(t *testing.T, doc string) bool {
	t.Helper()
	doc = strings.TrimSpace(doc) // as SplitDocuments hands them over
	fmo, fobj, ok := fastManifestObject(doc)
	if !ok {
		return false
	}
	ymo, yobj := yamlManifestObject(doc)
	if fobj != yobj || (fobj && !reflect.DeepEqual(fmo, ymo)) {
		t.Fatalf("fast reader and yaml/v2 differ on %q:\nfast %v %+v\nyaml %v %+v", doc, fobj, fmo, yobj, ymo)
	}
	return true
}

// FuzzFastManifestObject holds the fast reader to yaml/v2's answer on any document it does not refuse.
func FuzzFastManifestObject(f *testing.F) {
	for _, d := range manifestDocs {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		for _, d := range SplitDocuments(doc) {
			fastAgrees(t, d)
		}
	})
}

func BenchmarkManifestObjects(b *testing.B) {
	var m strings.Builder
	for i := 0; i < 10; i++ {
		m.WriteString("---\n" + manifestDocs[0] + "---\n" + manifestDocs[2] + "---\n" + manifestDocs[3])
	}
	docs := SplitDocuments(m.String())
	b.Run("fast", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for _, d := range docs {
				decodeManifestObject(d)
			}
		}
	})
	b.Run("yaml", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for _, d := range docs {
				yamlManifestObject(d)
			}
		}
	})
}
