package apply

import (
	"bytes"
	"strings"
	"testing"
)

func TestAsk(t *testing.T) {
	for in, want := range map[string]bool{"y\n": true, "YES\n": true, "n\n": false, "\n": false, "": false, "yes please\n": false} {
		var out bytes.Buffer
		if got := Ask(strings.NewReader(in), &out, "Upgrade 2 release(s) as planned?"); got != want {
			t.Errorf("answer %q: %v, want %v", in, got, want)
		}
		if out.String() != "Upgrade 2 release(s) as planned? [y/N]: " {
			t.Errorf("prompt %q", out.String())
		}
	}
}
