package eventschema

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func load(t *testing.T) *Validator {
	t.Helper()
	v, err := Load(filepath.Join("..", "..", SchemaFile))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const head = `"schema":"skoala.events/v1","time":"2026-12-06T08:00:00.123456Z","verb":"upgrade","run":"20261206T080000-ab12"`

// good is one valid event of every type, in a plausible order.
var good = []string{
	`"type":"plan","context":"global","release":"skoala","namespace":"skoala-system","chart":"skoala","from_version":"0.28.1","to_version":"0.57.2","from_revision":1,"wave":0`,
	`"type":"wave","wave":0,"releases":1`,
	`"type":"lock","context":"global","release":"skoala"`,
	`"type":"backup","context":"global","release":"skoala","path":"/b/global_skoala_r1.yaml"`,
	`"type":"jobs","context":"global","release":"skoala","names":["gateway-api-admission"]`,
	`"type":"crds","context":"global","release":"skoala","names":["gateways.gateway.networking.k8s.io"]`,
	`"type":"helm-start","context":"global","release":"skoala","action":"upgrade","to_revision":2`,
	`"type":"wait","context":"global","release":"skoala","kind":"Deployment","name":"hive","ready":0,"total":1,"elapsed_ms":1200`,
	`"type":"verify","context":"global","release":"skoala","ok":true`,
	`"type":"rollback","context":"global","release":"skoala","to_revision":1`,
	`"type":"release-done","context":"global","release":"skoala","outcome":"rolled-back","from_revision":1,"to_revision":3,"error":"timed out waiting"`,
	`"type":"pause","message":"kubectl skoala upgrade --resume 20261206T080000-ab12"`,
	`"type":"done","outcome":"rolled-back","exit_code":3`,
}

func stream(lines []string) string {
	var b strings.Builder
	for i, l := range lines {
		fmt.Fprintf(&b, `{%s,"seq":%d,%s}`+"\n", head, i+1, l)
	}
	return b.String()
}

func TestEveryTypeValidates(t *testing.T) {
	v := load(t)
	evs, err := v.Stream(strings.NewReader(stream(good)))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != len(good) || evs[7].Kind != "Deployment" || *evs[12].ExitCode != 3 || *evs[0].Wave != 0 {
		t.Errorf("decoded %+v", evs)
	}
	// An install that failed before its helm call ends at revision 0.
	failed := strings.Replace(good[10], `"to_revision":3`, `"to_revision":0`, 1)
	if _, err := v.Stream(strings.NewReader(stream([]string{failed, good[12]}))); err != nil {
		t.Errorf("release-done at revision 0: %v", err)
	}
	// A dry run's plan and done events have no run id yet.
	dry := strings.Replace(stream([]string{good[0], good[12]}), `"run":"20261206T080000-ab12"`, `"run":""`, -1)
	if _, err := v.Stream(strings.NewReader(dry)); err != nil {
		t.Errorf("a dry run's stream: %v", err)
	}
}

// TestBadEventsAreRejected: each event breaks one rule of the schema.
func TestBadEventsAreRejected(t *testing.T) {
	v := load(t)
	full := func(body string) string { return `{` + head + `,"seq":1,` + body + `}` }
	cases := map[string]string{
		"an unknown field":               full(good[2] + `,"values":{"dsn":"x"}`),
		"a field of another type":        full(good[2] + `,"path":"/b/x.yaml"`),
		"an unknown type":                full(`"type":"progress","context":"global","release":"skoala"`),
		"a missing required field":       full(`"type":"wait","context":"global","release":"skoala","kind":"Deployment","name":"hive","ready":0,"total":1`),
		"the wrong schema":               strings.Replace(full(good[2]), "skoala.events/v1", "skoala.events/v2", 1),
		"a verb outside the enum":        strings.Replace(full(good[2]), `"verb":"upgrade"`, `"verb":"install"`, 1),
		"a string for an integer":        full(`"type":"wave","wave":"0","releases":1`),
		"a negative count":               full(`"type":"wait","context":"global","release":"skoala","kind":"Deployment","name":"hive","ready":-1,"total":1,"elapsed_ms":1`),
		"seq 0":                          strings.Replace(full(good[2]), `"seq":1`, `"seq":0`, 1),
		"a time that is not RFC 3339":    strings.Replace(full(good[2]), "2026-12-06T08:00:00.123456Z", "2026-12-06 08:00:00", 1),
		"a local time":                   strings.Replace(full(good[2]), "2026-12-06T08:00:00.123456Z", "2026-12-06T09:00:00.1+01:00", 1),
		"an exit code outside the set":   full(`"type":"done","outcome":"upgraded","exit_code":7`),
		"an empty run id in a lock":      strings.Replace(full(good[2]), `"run":"20261206T080000-ab12"`, `"run":""`, 1),
		"a helm action outside the enum": full(`"type":"helm-start","context":"global","release":"skoala","action":"template"`),
		"a rollback to revision 0":       full(`"type":"rollback","context":"global","release":"skoala","to_revision":0`),
		"not JSON":                       `{"schema":`,
	}
	for name, line := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := v.Event([]byte(line)); err == nil {
				t.Errorf("accepted: %s", line)
			}
		})
	}
}

// TestBadStreamsAreRejected: the rules of a stream that the schema cannot express.
func TestBadStreamsAreRejected(t *testing.T) {
	v := load(t)
	ok := stream([]string{good[1], good[12]})
	if _, err := v.Stream(strings.NewReader(ok)); err != nil {
		t.Fatalf("the good stream: %v", err)
	}
	if _, err := v.Lines(strings.NewReader(stream([]string{good[1]}))); err != nil {
		t.Errorf("a killed run's stream without done: %v", err)
	}
	cases := map[string]string{
		"a gap in seq":    strings.Replace(ok, `"seq":2`, `"seq":3`, 1),
		"no done event":   stream([]string{good[1]}),
		"after done":      stream([]string{good[12], good[1]}),
		"another verb":    strings.Replace(ok, `"verb":"upgrade","run":"20261206T080000-ab12","seq":2`, `"verb":"rollback","run":"20261206T080000-ab12","seq":2`, 1),
		"another run":     strings.Replace(ok, `"run":"20261206T080000-ab12","seq":2`, `"run":"20261206T090000-cd34","seq":2`, 1),
		"an empty stream": "",
	}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) {
			if s == ok {
				t.Fatal("the case did not change the stream")
			}
			if _, err := v.Stream(strings.NewReader(s)); err == nil {
				t.Errorf("accepted:\n%s", s)
			}
		})
	}
}
