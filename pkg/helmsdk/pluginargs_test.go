package helmsdk

import (
	"slices"
	"testing"
)

func TestRepairPluginArgs(t *testing.T) {
	for _, c := range []struct {
		name     string
		got      []string // what helm passed to the plugin
		helm     []string // helm's os.Args[1:]
		want     []string
		repaired bool
	}{
		{"flag before the plugin eats the verb",
			[]string{"-o", "json"},
			[]string{"--kube-apiserver=https://x", "--kube-insecure-skip-tls-verify", "skoala", "status", "-n", "ns", "-o", "json"},
			[]string{"status", "-o", "json"}, true},
		{"flag after the verb eats -o",
			[]string{"status", "json"},
			[]string{"skoala", "status", "--kube-insecure-skip-tls-verify", "-o", "json"},
			[]string{"status", "-o", "json"}, true},
		{"value-taking helm flag before the plugin name",
			[]string{"-o", "json"},
			[]string{"--kube-token", "skoala", "--kube-insecure-skip-tls-verify", "skoala", "status", "-o", "json"},
			[]string{"status", "-o", "json"}, true},
		{"flag with =true is split right by helm",
			[]string{"status", "-o", "json"},
			[]string{"--kube-insecure-skip-tls-verify=true", "skoala", "status", "-o", "json"},
			[]string{"status", "-o", "json"}, false},
		{"no flag",
			[]string{"status"},
			[]string{"skoala", "status"},
			[]string{"status"}, false},
		{"flag last: nothing eaten",
			[]string{"status"},
			[]string{"skoala", "status", "--kube-insecure-skip-tls-verify"},
			[]string{"status"}, false},
		{"a boolean literal after the flag is helm's",
			[]string{"status"},
			[]string{"skoala", "status", "--kube-insecure-skip-tls-verify", "true"},
			[]string{"status"}, false},
		{"parent is not that helm call: args differ",
			[]string{"doctor"},
			[]string{"--kube-insecure-skip-tls-verify", "skoala", "status", "-o", "json"},
			[]string{"doctor"}, false},
		{"parent runs another command",
			[]string{"-o", "json"},
			[]string{"other", "--kube-insecure-skip-tls-verify", "skoala", "-o", "json"},
			[]string{"-o", "json"}, false},
		{"no parent command line",
			[]string{"-o", "json"}, nil, []string{"-o", "json"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, repaired := RepairPluginArgs(c.got, c.helm, "skoala")
			if !slices.Equal(got, c.want) || repaired != c.repaired {
				t.Fatalf("RepairPluginArgs(%q, %q) = %q, %v; want %q, %v", c.got, c.helm, got, repaired, c.want, c.repaired)
			}
		})
	}
}

// TestSplitPluginArgsAsHelmDoes: the split reproduces helm's (the cause of the lost verb).
func TestSplitPluginArgsAsHelmDoes(t *testing.T) {
	known, unknown := splitPluginArgs([]string{"--kube-insecure-skip-tls-verify", "status", "-n", "ns", "--debug", "--kube-context=a", "-o", "json"}, true)
	if !slices.Equal(known, []string{"--kube-insecure-skip-tls-verify", "status", "-n", "ns", "--debug", "--kube-context=a"}) || !slices.Equal(unknown, []string{"-o", "json"}) {
		t.Fatalf("known %q, unknown %q", known, unknown)
	}
}
