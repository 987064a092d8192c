package dsn

import (
	"strings"
	"testing"
)

const pw = `p@ss:w/rd?&=`

func TestParseKeepsSpecialPasswordAndMasksIt(t *testing.T) {
	s, err := Build("skoala", pw, "mcamel-common-mysql-cluster-mysql-master.mcamel-system.svc.cluster.local", 3306, "skoala")
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(Build(...)): %v", err)
	}
	if d.Password != pw || d.User != "skoala" || d.Port != 3306 || d.Database != "skoala" {
		t.Fatalf("parsed %+v", d)
	}
	if strings.Contains(d.String(), pw) || !strings.Contains(d.String(), Mask) {
		t.Fatalf("String() = %q", d.String())
	}
	if d.Secret() == d.String() {
		t.Fatal("Secret() is masked")
	}
}

func TestParseErrorsNeverContainThePassword(t *testing.T) {
	for _, s := range []string{
		"skoala:hunter2secret@tcp(host:99999)/skoala",
		"skoala:hunter2secret@tcp(host:3306)/",
		"skoala:hunter2secret@bogus(host:3306)/skoala?x",
		"skoala:hunter2secret@tcp(host:3306)/skoala?parseTime=maybe",
		"",
	} {
		_, err := Parse(s)
		if err == nil {
			t.Errorf("Parse(%q) accepted", s)
			continue
		}
		if strings.Contains(err.Error(), "hunter2secret") {
			t.Errorf("error leaks the password: %v", err)
		}
	}
}

// The password can be a part of what a message quotes from the DSN, or re-form around the mask.
func TestParseErrorsQuotingThePassword(t *testing.T) {
	for _, c := range []struct{ dsn, pw, want string }{
		{"u:tcpxyz@tcpxyz(h:1)/d", "tcpxyz", genericNetwork},          // the network is the password
		{`u:x" is not tcp@x(h:1)/d`, `x" is not tcp`, genericNetwork}, // the password spans the quote
		{"u:tcpxyz@tcpx(h:1)/d", "tcpxyz", `network "tcpx" is not tcp or unix`},
		{"u:a******@tcp(h:1)/d?parseTime=aa******", "a******", genericDriver}, // re-forms around the mask
		{"u:maybemaybe@tcp(h:1)/d?parseTime=maybemaybe", "maybemaybe", Mask},
	} {
		_, err := Parse(c.dsn)
		if err == nil {
			t.Errorf("Parse(%q) accepted", c.dsn)
			continue
		}
		if strings.Contains(err.Error(), c.pw) {
			t.Errorf("Parse(%q): error leaks the password: %v", c.dsn, err)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) = %v, want it to say %q", c.dsn, err, c.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("skoala:pw@tcp(db:3306)/skoala?charset=utf8&parseTime=true&loc=Local&timeout=10s")
	f.Add("u:p@unix(/tmp/s)/d")
	f.Add(":@/")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			if len(s) > 8 {
				if i := strings.Index(s, ":"); i >= 0 {
					// A password that is a part of this package's own wording is in any message.
					own := (&ParseError{}).Error() + " " + genericNetwork + " " + genericDriver
					if j := strings.LastIndex(s, "@"); j > i+8 && strings.Contains(err.Error(), s[i+1:j]) && !strings.Contains(own, s[i+1:j]) {
						t.Fatalf("error leaks the password part: %v", err)
					}
				}
			}
			return
		}
		// String() must not depend on the password at all (beyond there being one): the same DSN with
		// another password prints the same. (Counting the password in the output is not enough: it can
		// also be a part of the rest, "u:tmp/@unix()/d" with the default socket /tmp/mysql.sock, or of the
		// user and the separator, "a b:b:@/d".)
		if d.Password != "" {
			other := *d.cfg
			other.Passwd = "another-" + d.Password
			if got, want := d.String(), (&DSN{cfg: &other}).String(); got != want {
				t.Fatalf("String() depends on the password: %q, with another password %q", got, want)
			}
		}
	})
}
