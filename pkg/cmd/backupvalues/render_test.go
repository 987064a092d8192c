package backupvalues

import (
	"bytes"
	"testing"
	"time"

	"github.com/skoala-dev/kubectl-skoala/pkg/backup"
	"github.com/skoala-dev/kubectl-skoala/pkg/golden"
	"github.com/skoala-dev/kubectl-skoala/pkg/render"
)

func TestRender(t *testing.T) {
	m := backup.Meta{Cluster: "arn:aws:eks/global", Namespace: "skoala-system", Release: "skoala", Revision: 3,
		Chart: "skoala", Version: "0.28.1", Status: "deployed", Time: time.Date(2026, 11, 2, 3, 4, 5, 0, time.UTC), Tool: "v1.0.0"}
	e := backup.Entry{Meta: m, Path: "/b/x.yaml", ModeString: "-rw-------", Mode: 0o600}
	e.Kind = backup.KindValues
	var buf bytes.Buffer
	list := render.View(&backup.Report{Schema: backup.SchemaVersion, Dir: "/b", Entries: []backup.Entry{e}}, tableOf(true))
	if err := list.WriteTable(&buf, render.NewPalette(&buf, false)); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "list.txt", buf.Bytes())
	buf.Reset()
	written := render.View(&backup.Report{Schema: backup.SchemaVersion, Dir: "/b", Backups: []backup.ReleaseBackup{{Meta: m,
		Files: []backup.Written{{Path: "/b/x.yaml", Kind: backup.KindValues}, {Path: "/b/x.redacted.yaml", Kind: backup.KindValues, Redacted: true}}}}}, tableOf(false))
	_ = written.WriteTable(&buf, render.NewPalette(&buf, false))
	golden.Assert(t, "written.txt", buf.Bytes())
	buf.Reset()
	_ = written.WriteJSON(&buf)
	golden.Assert(t, "written.json", buf.Bytes())
}
