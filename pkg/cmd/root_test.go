package cmd

import (
	"bytes"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// TestMainRedactsTheErrorLine: main's error printer goes through the redactor: a bad flag value that is a
// URL with a password, or a DSN, is quoted masked.
func TestMainRedactsTheErrorLine(t *testing.T) {
	for _, v := range []string{"http://robot:Secr3t-Pw@127.0.0.1:8080/charts", "skoala:Secr3t-Pw@tcp(db:3306)/skoala", "kingbase://u:Secr3t-Pw@h:54321/d"} {
		var out, errOut bytes.Buffer
		code := Main(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, []string{"status", "--color", v})
		if code != 2 || !strings.HasPrefix(errOut.String(), "error: ") {
			t.Fatalf("--color %q: exit %d, stderr %q", v, code, errOut.String())
		}
		if strings.Contains(out.String()+errOut.String(), "Secr3t-Pw") || !strings.Contains(errOut.String(), "******") {
			t.Errorf("--color %q: the password shows (or no mask): %q", v, errOut.String())
		}
	}
}
