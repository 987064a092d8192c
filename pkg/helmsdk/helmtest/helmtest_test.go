package helmtest

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

func TestSupersededCopies(t *testing.T) {
	record := base64.StdEncoding.EncodeToString(Encode(Spec{Name: "skoala", Namespace: "ns", Revision: 1, Status: "deployed", Chart: "skoala", Version: "0.28.1"}))
	b, err := SupersededCopies(record, "ns", "skoala", 5)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Items []struct {
			Metadata struct {
				Name   string            `json:"name"`
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
			Data map[string]string `json:"data"`
		} `json:"items"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 3 {
		t.Fatalf("%d copies, want revisions 2, 3, 4", len(list.Items))
	}
	last := list.Items[2]
	if last.Metadata.Name != "sh.helm.release.v1.skoala.v4" || last.Metadata.Labels["status"] != "superseded" || last.Metadata.Labels["version"] != "4" {
		t.Errorf("last copy: %+v", last.Metadata)
	}
	again, err := SupersededCopies(last.Data["release"], "ns", "skoala", 3)
	if err != nil || !strings.Contains(string(again), `"sh.helm.release.v1.skoala.v2"`) {
		t.Errorf("a copy is not a record like the original: %v", err)
	}
	if _, err := SupersededCopies("not base64!", "ns", "skoala", 5); err == nil {
		t.Error("a bad record must be an error")
	}
}
