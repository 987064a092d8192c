package upgrade

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/skoala-dev/kubectl-skoala/pkg/cli"
	"github.com/skoala-dev/kubectl-skoala/pkg/exit"
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/upgrade"
)

func TestOutcomeError(t *testing.T) {
	cases := []struct {
		outcome  string
		code     int
		canceled bool
	}{
		{upgrade.OutcomeUpgraded, exit.OK, false},
		{upgrade.OutcomeUpToDate, exit.OK, false},
		{upgrade.OutcomeDryRun, exit.OK, false},
		{upgrade.OutcomeRefused, exit.Problems, false},
		{upgrade.OutcomeRolledBack, exit.Problems, false},
		{upgrade.OutcomeTimedOut, exit.Timeout, false},
		{upgrade.OutcomeInterrupted, exit.Failure, true},
		{upgrade.OutcomeFailed, exit.Failure, false},
		{upgrade.OutcomeCancelled, exit.Failure, false},
		{upgrade.OutcomePlanned, exit.Failure, false},
	}
	for _, c := range cases {
		t.Run(c.outcome, func(t *testing.T) {
			err := outcomeError(&upgrade.Report{Outcome: c.outcome, Message: "the message", Hint: "the hint"})
			if c.canceled {
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("err %v, want context.Canceled (exit 130)", err)
				}
				return
			}
			if got := exit.CodeOf(err); got != c.code {
				t.Fatalf("exit code %d, want %d", got, c.code)
			}
			if err != nil && (err.Error() != "the message" || exit.HintOf(err) != "the hint") {
				t.Errorf("err %q hint %q", err, exit.HintOf(err))
			}
		})
	}
	if err := outcomeError(&upgrade.Report{Outcome: upgrade.OutcomeFailed}); err == nil || err.Error() != upgrade.OutcomeFailed {
		t.Errorf("an outcome without a message is named by its outcome: %v", err)
	}
}

func TestPlanError(t *testing.T) {
	hinted := fmt.Errorf("cluster ws: %w", exit.New(exit.Failure, errors.New("forbidden"), "ask for RBAC"))
	cases := []struct {
		name string
		err  error
		code int
		hint string
	}{
		{"nil", nil, exit.OK, ""},
		{"a wrapped exit error keeps its code and hint", hinted, exit.Failure, "ask for RBAC"},
		{"a wrong --chart is a usage error", &helmsdk.ChartNameError{Path: "x", Got: "nginx", Want: "skoala"}, exit.Usage, "--chart takes the skoala and skoala-init charts only"},
		{"a plain error is a failure", errors.New("boom"), exit.Failure, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := planError(c.err)
			if exit.CodeOf(err) != c.code || exit.HintOf(err) != c.hint {
				t.Errorf("code %d hint %q, want %d %q", exit.CodeOf(err), exit.HintOf(err), c.code, c.hint)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		set  func(o *Options)
		want string // "" = valid
	}{
		{"the defaults", func(o *Options) {}, ""},
		{"a bad -o", func(o *Options) { o.Output = "xml" }, "unknown output format"},
		{"--pause-after-canary without --canary", func(o *Options) { o.PauseAfterCanary = true }, "--pause-after-canary needs --canary"},
		{"--resume with --dry-run", func(o *Options) { o.Resume = "latest"; o.DryRun = true }, "--resume and --dry-run are mutually exclusive"},
		{"--max-parallel 0", func(o *Options) { o.Waves.MaxParallel = 0 }, "--max-parallel must be at least 1"},
		{"--events - without -o jsonl", func(o *Options) { o.Waves.Events = "-" }, "give -o jsonl"},
		{"--version not semver", func(o *Options) { o.Version = "latest" }, "--version: "},
		{"--version and --to-latest-patch", func(o *Options) { o.Version = "0.57.2"; o.ToLatestPatch = true }, "--version and --to-latest-patch are mutually exclusive"},
		{"--chart and --to-latest-patch", func(o *Options) { o.Charts = []string{"c"}; o.ToLatestPatch = true }, "--chart and --to-latest-patch are mutually exclusive"},
		{"--chart and --repo", func(o *Options) { o.Charts = []string{"c"}; o.Repo = "r" }, "--chart and --repo/--refresh are mutually exclusive"},
		{"--chart and --refresh", func(o *Options) { o.Charts = []string{"c"}; o.Refresh = true }, "--chart and --repo/--refresh are mutually exclusive"},
		{"--db-dsn and --db-password-file", func(o *Options) { o.DB.DSN = "u:p@tcp(h:3306)/d"; o.DBPasswordFile = pwFile }, "--db-dsn and --db-password-file are mutually exclusive"},
		{"--db-dsn and --db-host", func(o *Options) { o.DB.DSN = "u:p@tcp(h:3306)/d"; o.DB.Host = "h" }, "--db-dsn and --db-host/--db-user/--db-password/--db-name are mutually exclusive"},
		{"--db-dsn and --db-password", func(o *Options) { o.DB.DSN = "u:p@tcp(h:3306)/d"; o.DB.Password = "p" }, "--db-dsn and --db-host/--db-user/--db-password/--db-name are mutually exclusive"},
		{"--db-port out of range", func(o *Options) { o.DB.Port = 70000 }, "--db-port must be from 1 to 65535"},
		{"--db-host without a password", func(o *Options) { o.DB.Host = "h" }, "--db-host/--db-user need --db-password or --db-password-file"},
		{"--db-host with --db-password-file", func(o *Options) { o.DB.Host = "h"; o.DBPasswordFile = pwFile }, ""},
		{"a bad --db-dsn", func(o *Options) { o.DB.DSN = "not a dsn" }, "--db-dsn"},
		{"--ui-tag and --set ui.image.tag", func(o *Options) { o.UITag = "v1"; o.Values.Values = []string{"ui.image.tag=v2"} }, ": give one"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := cli.NewGlobals(genericiooptions.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
			o := NewOptions(g)
			c.set(o)
			err := o.Complete(nil)
			if err == nil {
				err = o.Validate()
			}
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("err %v, want none", err)
			case c.want == "":
				return
			case err == nil || !strings.Contains(err.Error(), c.want) || exit.CodeOf(err) != exit.Usage:
				t.Fatalf("err %v (exit %d), want a usage error with %q", err, exit.CodeOf(err), c.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

// HELM_MAX_HISTORY=0 means unlimited, as in helm (issue 24 §3); unset, helm's default of 10.
func TestMaxHistoryFromHelm(t *testing.T) {
	for _, c := range []struct {
		env  string
		set  bool
		want int
	}{{"0", true, 0}, {"", false, 10}, {"25", true, 25}} {
		if c.set {
			t.Setenv("HELM_MAX_HISTORY", c.env)
		} else {
			os.Unsetenv("HELM_MAX_HISTORY")
		}
		o := NewOptions(cli.NewGlobals(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &strings.Builder{}, ErrOut: &strings.Builder{}}))
		o.BackupDir = t.TempDir()
		cfg, err := o.config(nil, nil)
		if err != nil || cfg.MaxHistory != c.want {
			t.Errorf("HELM_MAX_HISTORY=%q (set %v): MaxHistory %d %v, want %d", c.env, c.set, cfg.MaxHistory, err, c.want)
		}
	}
}

func TestCheckCanary(t *testing.T) {
	o := &Options{Canary: "workspace-9"}
	targets := []fleet.Target{{Context: "global", Role: fleet.RoleControlPlane}, {Context: "workspace-1", Role: fleet.RoleWorkspace}}
	err := o.checkCanary(targets)
	if exit.CodeOf(err) != exit.Usage || !strings.Contains(exit.HintOf(err), "workspace-1") {
		t.Errorf("err %v hint %q", err, exit.HintOf(err))
	}
	o.Canary = "global"
	if o.checkCanary(targets) == nil {
		t.Errorf("the control plane taken as a canary")
	}
	o.Canary = "workspace-1"
	if err := o.checkCanary(targets); err != nil {
		t.Error(err)
	}
}

// TestResumeTakesTheRunAsItsArgument: 'upgrade --resume RUN', the form every hint and status print, names
// the run (pflag gives a bare --resume its default and leaves RUN an argument); an argument without
// --resume is refused.
func TestResumeTakesTheRunAsItsArgument(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--resume", "20261206T080207Z-432447", "--dry-run"}, "--resume and --dry-run are mutually exclusive"},
		{[]string{"--resume=20261206T080207Z-432447", "--dry-run"}, "--resume and --dry-run are mutually exclusive"},
		{[]string{"--resume", "--dry-run"}, "--resume and --dry-run are mutually exclusive"},
		{[]string{"20261206T080207Z-432447"}, `unknown command "20261206T080207Z-432447"`},
		{[]string{"--resume", "a", "b"}, `unknown command "a"`},
	} {
		g := cli.NewGlobals(genericiooptions.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
		cmd := NewCmdUpgrade(g)
		cmd.SetArgs(c.args)
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		err := cmd.Execute()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err %v, want %q", c.args, err, c.want)
		}
	}
}
