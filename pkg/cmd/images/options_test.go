package images

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
)

func globals() *cli.Globals {
	return cli.NewGlobals(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &strings.Builder{}, ErrOut: &strings.Builder{}})
}

// wantUsage checks that err is a usage error (exit 2) with exactly the message want, or no error.
func wantUsage(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("err %v, want none", err)
		}
		return
	}
	if err == nil || err.Error() != want || exit.CodeOf(err) != exit.Usage {
		t.Fatalf("err %v (exit %d), want usage error %q", err, exit.CodeOf(err), want)
	}
}

func TestPushValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		set  func(o *PushOptions)
		want string
	}{
		{"a bundle and a registry are enough", func(o *PushOptions) {}, ""},
		{"no bundle", func(o *PushOptions) { o.Bundles = nil }, "give the bundles to push with --bundle"},
		{"no registry", func(o *PushOptions) { o.Registry = " " }, "give the registry to push into with --registry HOST[:PORT]"},
		{"a scheme in --registry", func(o *PushOptions) { o.Registry = "https://r.example" },
			`--registry "https://r.example": want HOST[:PORT][/PATH], no scheme (--plain-http talks HTTP)`},
		{"credentials in --registry", func(o *PushOptions) { o.Registry = "admin:Reg-pw-9@r.example:5000/skoala" },
			"--registry admin:******@r.example:5000/skoala: credentials do not belong in the registry's address; give the user with --registry-username and the password on stdin (--registry-password-stdin)"},
		{"no parallelism", func(o *PushOptions) { o.Parallel = 0 }, "--parallel must be at least 1"},
		{"a bad -o", func(o *PushOptions) { o.Output = "xml" }, `unknown output format "xml" (want one of: table, json, yaml)`},
		{"a password without a user", func(o *PushOptions) { o.Reg.PasswordStdin = true }, "--registry-password-stdin needs --registry-username"},
		{"a user without a password", func(o *PushOptions) { o.Reg.Username = "u" },
			"--registry-username needs --registry-password-stdin (the password is never a flag)"},
		{"skip-verify with a CA", func(o *PushOptions) { o.Reg.Insecure, o.Reg.CAFile = true, "ca.crt" },
			"skipping the registry's TLS verification and --ca-file are mutually exclusive"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := NewPushOptions(globals())
			o.Bundles, o.Registry = []string{"skoala_0.57.2.bundle.tar"}, "127.0.0.1:5000"
			c.set(o)
			wantUsage(t, o.Validate(), c.want)
		})
	}
}

func TestListAndCheckValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		set  func(t *TargetFlags, r *RegistryFlags)
		want string
	}{
		{"the defaults", func(*TargetFlags, *RegistryFlags) {}, ""},
		{"--version and --chart", func(t *TargetFlags, _ *RegistryFlags) { t.Version, t.Charts = "0.57.2", []string{"dir"} },
			"--version, --chart and --bundle are mutually exclusive"},
		{"--chart and --bundle", func(t *TargetFlags, _ *RegistryFlags) { t.Charts, t.Bundles = []string{"dir"}, []string{"b.tar"} },
			"--version, --chart and --bundle are mutually exclusive"},
		{"--all-contexts with -w", func(t *TargetFlags, _ *RegistryFlags) {
			t.Fleet.AllContexts, t.Fleet.Workspaces = true, []string{"ws"}
		}, "--all-contexts and --workspace-context are mutually exclusive"},
		{"a bad -o", func(t *TargetFlags, _ *RegistryFlags) { t.Output = "toml" }, `unknown output format "toml" (want one of: table, json, yaml)`},
		{"credentials in --image-registry", func(t *TargetFlags, _ *RegistryFlags) { t.ImageRegistry = "admin:Reg-pw-9@r.example:5000" },
			"--image-registry admin:******@r.example:5000: credentials do not belong in the registry's address; give the user with --registry-username and the password on stdin (--registry-password-stdin)"},
	} {
		t.Run("list: "+c.name, func(t *testing.T) {
			o := NewListOptions(globals())
			c.set(&o.Target, &RegistryFlags{})
			wantUsage(t, o.Validate(), c.want)
		})
		t.Run("check: "+c.name, func(t *testing.T) {
			o := NewCheckOptions(globals())
			c.set(&o.Target, &o.Reg)
			wantUsage(t, o.Validate(), c.want)
		})
	}
	o := NewCheckOptions(globals())
	o.Reg.PasswordStdin = true
	wantUsage(t, o.Validate(), "--registry-password-stdin needs --registry-username")
	// The credentials are for one registry: the one the images are rendered for.
	o = NewCheckOptions(globals())
	o.Reg.Username, o.Reg.PasswordStdin = "robot", true
	wantUsage(t, o.Validate(), "--registry-username needs --image-registry: the credentials go to that registry only (the others get the docker config's)")
	o.Target.ImageRegistry = "r.example:5000"
	wantUsage(t, o.Validate(), "")
}

func TestLoadConfigRefusesCredentialsInTheRegistry(t *testing.T) {
	o := NewLoadConfigOptions(globals())
	o.In.BundleDir, o.In.Registry = "b", "admin:Reg-pw-9@r.example:5000"
	wantUsage(t, o.Validate(), "--registry admin:******@r.example:5000: credentials do not belong in the registry's address; give the user with --registry-username and the password on stdin (--registry-password-stdin)")
}

func TestRegistryPasswordFromStdin(t *testing.T) {
	r := RegistryFlags{Username: "u", PasswordStdin: true}
	o, err := r.options(strings.NewReader("s3cr3t\r\n"))
	if err != nil || o.Password != "s3cr3t" || o.Username != "u" {
		t.Fatalf("options = %+v, %v; want u / s3cr3t", o, err)
	}
	if _, err := r.options(strings.NewReader("\n")); err == nil || err.Error() != "--registry-password-stdin: stdin holds no password" {
		t.Fatalf("an empty stdin: %v", err)
	}
}

func TestLoadConfigValidate(t *testing.T) {
	o := NewLoadConfigOptions(globals())
	wantUsage(t, o.Validate(), "load-config needs --bundle-dir and --registry")
	o.In.BundleDir, o.In.Registry = "bundles", "127.0.0.1:5000"
	wantUsage(t, o.Validate(), "")
	o.In.RepoURL = "https://charts.example"
	wantUsage(t, o.Validate(), "--chart-repo-url, --chart-repo-path and --chart-repo-username need --chart-repo-kind")
}

// load-config -f writes a new file only: an existing file keeps its content, a symlink's target too.
func TestLoadConfigNeverTruncatesOrFollowsASymlink(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "load-image.yaml")
	victim := filepath.Join(dir, "victim.txt")
	link := filepath.Join(dir, "link.yaml")
	if err := os.WriteFile(existing, []byte("keep me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(victim, []byte("keep me too\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{existing, link} {
		o := NewLoadConfigOptions(globals())
		o.In.BundleDir, o.In.Registry, o.File = dir, "r.example:5000", p
		if err := o.Validate(); err != nil {
			t.Fatal(err)
		}
		err := o.Run(nil)
		var e *exit.Error
		if !errors.As(err, &e) || e.Code != exit.Failure || !strings.Contains(err.Error(), "exists (a file or a symlink)") {
			t.Errorf("-f %s: err %v, want a failure saying it exists", p, err)
		}
	}
	for p, want := range map[string]string{existing: "keep me\n", victim: "keep me too\n"} {
		if b, _ := os.ReadFile(p); string(b) != want {
			t.Errorf("%s now holds %q, want %q", p, b, want)
		}
	}
	o := NewLoadConfigOptions(globals())
	o.In.BundleDir, o.In.Registry, o.File = dir, "r.example:5000", filepath.Join(dir, "new.yaml")
	if err := o.Run(nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(o.File); !strings.Contains(string(b), "containerRegistry: r.example:5000") {
		t.Errorf("new file: %q", b)
	}
}
