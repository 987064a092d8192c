package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
)

// applyRBAC applies a file of hack/rbac to the clusters with the product's namespaces replaced by the test's
// (skoala-system, insight-system, mcamel-system), and deletes what it bound when the test ends. The
// ClusterRoles are shared by every test and left in place (they are the same everywhere).
func applyRBAC(t *testing.T, file string, clusters []string, ns, insightNS, mysqlNS string) {
	t.Helper()
	applyRBACYAML(t, file, rbacFile(t, file), clusters, ns, insightNS, mysqlNS)
}

// rbacFile is the text of a file of hack/rbac.
func rbacFile(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fleet.Root, "hack", "rbac", file))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// applyRBACYAML is applyRBAC of a text (a file of hack/rbac, or one edited by the test).
func applyRBACYAML(t *testing.T, file, text string, clusters []string, ns, insightNS, mysqlNS string) {
	t.Helper()
	y := strings.NewReplacer("skoala-system", ns, "insight-system", insightNS, "mcamel-system", mysqlNS).Replace(text)
	for _, c := range clusters {
		for _, n := range []string{ns, insightNS, mysqlNS} {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			_, err := clientFor(t, c).CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{})
			cancel()
			if err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatalf("namespace %s on %s: %v", n, c, err)
			}
		}
		cmd := exec.Command("kubectl", "--context", c, "apply", "-f", "-")
		cmd.Env = fleet.BaseEnv(t)
		cmd.Stdin = strings.NewReader(y)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("applying hack/rbac/%s to %s: %v\n%s", file, c, err, out)
		}
		c := c
		t.Cleanup(func() {
			del := exec.Command("kubectl", "--context", c, "delete", "clusterrolebindings,rolebindings,serviceaccounts", "--ignore-not-found", "-f", "-")
			del.Env = fleet.BaseEnv(t)
			// Only the bindings and service accounts: keep the shared ClusterRoles.
			var keep []string
			for _, doc := range strings.Split(y, "\n---") {
				if !strings.Contains(doc, "kind: ClusterRole\n") {
					keep = append(keep, doc)
				}
			}
			del.Stdin = strings.NewReader(strings.Join(keep, "\n---"))
			_ = del.Run()
		})
	}
}

// serviceAccountKubeconfig writes a copy of the fleet's kubeconfig whose users present a token of
// ServiceAccount ns/sa of each cluster.
func serviceAccountKubeconfig(t *testing.T, ns, sa string, clusters []string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(fleet.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range clusters {
		tok := MustKubectl(t, "--context", c, "-n", ns, "create", "token", sa, "--duration", "1h")
		user := cfg.Contexts[c].AuthInfo
		cfg.AuthInfos[user].Token = strings.TrimSpace(tok.Stdout)
	}
	for name := range cfg.Contexts {
		if !contains(clusters, name) {
			delete(cfg.Contexts, name)
		}
	}
	p := filepath.Join(t.TempDir(), "kubeconfig-"+sa)
	if err := clientcmd.WriteToFile(*cfg, p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRBACReadOnlyServiceAccount runs status and doctor on a healthy fleet as a ServiceAccount bound to
// hack/rbac/readonly.yaml only, and compares with the admin: status is the same, doctor fails nothing,
// and every check the account may not run says "skip" and "forbidden". The same account cannot upgrade
// (and changes nothing trying); an account of hack/rbac/readonly.yaml + upgrade.yaml can.
func TestRBACReadOnlyServiceAccount(t *testing.T) {
	ns := Namespace(t, "rbac")
	mysqlNS := Namespace(t, "rbacm")
	insightNS := Namespace(t, "rbaci")
	clusters := []string{"global", "workspace-1"}
	dsn := "skoala:" + plantedPassword + "@tcp(mcamel-common-mysql-cluster-mysql-master." + mysqlNS + ".svc.cluster.local:3306)/skoala?charset=utf8&parseTime=true&loc=Local&timeout=10s"
	parallelDo(
		func() {
			InstallChart(t, "global", mysqlNS, "common-mysql", "common-mysql", "1.0.0")
			InstallChart(t, "global", ns, "skoala", "skoala", "0.28.1", "--set", "hive.configMap.database[0].driver=mysql",
				"--set-string", "hive.configMap.database[0].dsn="+strings.ReplaceAll(dsn, ",", `\,`))
		},
		func() {
			InstallChart(t, "workspace-1", insightNS, "insight-agent", "insight-agent", "1.0.0")
			InstallChart(t, "workspace-1", ns, "skoala-init", "skoala-init", "0.28.1")
		},
	)
	applyRBAC(t, "readonly.yaml", clusters, ns, insightNS, mysqlNS)
	ro := []string{"KUBECONFIG=" + serviceAccountKubeconfig(t, ns, "kubectl-skoala-readonly", clusters)}

	t.Run("status as the read-only account is the admin's status", func(t *testing.T) {
		args := []string{"status", "-n", ns, "-w", "workspace-1", "-o", "json"}
		admin, sa := Skoala(t, args...), SkoalaEnv(t, ro, args...)
		if admin.Code != 0 || sa.Code != 0 {
			t.Fatalf("exit %d as admin, %d as the account\n%s\n%s", admin.Code, sa.Code, admin, sa)
		}
		a, s := parseStatus(t, admin), parseStatus(t, sa)
		if !reflect.DeepEqual(a, s) {
			t.Errorf("status differs:\nadmin:   %+v\naccount: %+v", a, s)
		}
		if n := len(s.Clusters); n != 2 || len(s.Clusters[0].Releases) != 1 || len(s.Clusters[0].Releases[0].Components) < 3 {
			t.Errorf("the account's status is incomplete: %s", sa.Stdout)
		}
		if tbl := SkoalaEnv(t, ro, "status", "-n", ns, "-w", "workspace-1"); tbl.Code != 0 || !strings.Contains(tbl.Stdout, "2 clusters, no problems") {
			t.Errorf("table as the account:\n%s", tbl)
		}
	})

	t.Run("doctor as the read-only account fails nothing; what it may not check says forbidden", func(t *testing.T) {
		// --db-dsn (the release's own): the permissions check takes common-mysql's namespace from the flag only
		// (else mcamel-system), not from the release's DSN as the common-mysql check does.
		args := []string{"doctor", "-n", ns, "-w", "workspace-1", "--insight-namespace", insightNS, "--db-dsn", dsn, "-o", "json"}
		admin, sa := Skoala(t, args...), SkoalaEnv(t, ro, args...)
		if admin.Code != 0 {
			t.Fatalf("doctor as admin: exit %d\n%s", admin.Code, admin)
		}
		if sa.Code != 0 {
			t.Errorf("doctor as the account: exit %d, want 0\n%s", sa.Code, sa)
		}
		a, s := parseDoctor(t, admin), parseDoctor(t, sa)
		if len(s.Checks) != len(a.Checks) {
			t.Errorf("%d checks as the account, %d as admin", len(s.Checks), len(a.Checks))
		}
		for _, c := range s.Checks {
			ac := a.check(t, c.ID, c.Cluster)
			switch {
			case c.Status == ac.Status:
			case c.ID == "kubernetes.permissions" && c.Status == "warn":
				if !strings.Contains(c.Message, "upgrade") || strings.Contains(c.Message, "doctor cannot") {
					t.Errorf("permissions on %s: %s", c.Cluster, c.Message)
				}
			case c.Status == "skip" && strings.Contains(c.Message, "forbidden"):
			default:
				t.Errorf("%s on %s: %s (%s) as the account, %s as admin", c.ID, c.Cluster, c.Status, c.Message, ac.Status)
			}
			if c.Status == "fail" {
				t.Errorf("%s on %s fails as the account: %s", c.ID, c.Cluster, c.Message)
			}
		}
		perm := s.check(t, "kubernetes.permissions", "global")
		if perm.Status != "warn" || !strings.Contains(perm.Message, "create secrets") {
			t.Errorf("the permissions check does not name the missing upgrade rights: %+v", perm)
		}
		// A namespace the account has no binding in: the check that reads it is skipped, forbidden.
		other := Namespace(t, "rbaco")
		plantNamespace(t, "workspace-1", other)
		r := SkoalaEnv(t, ro, "doctor", "-n", ns, "-w", "workspace-1", "--insight-namespace", other, "--category", "workspaces", "-o", "json")
		d := parseDoctor(t, r)
		wantStatus(t, d.check(t, "workspaces.insight-agent", "workspace-1"), "skip", "forbidden")
		if r.Code != 0 {
			t.Errorf("exit %d, want 0\n%s", r.Code, r)
		}
	})

	t.Run("the read-only account cannot upgrade and changes nothing trying", func(t *testing.T) {
		places := []place{{"global", ns}, {"workspace-1", ns}}
		before := snapshot(t, places)
		r := SkoalaEnv(t, ro, "upgrade", "-n", ns, "-w", "workspace-1", "--version", "0.35.0", "--backup-dir", writtenDir(t, "backups"), "--yes")
		if r.Code == 0 || !strings.Contains(r.Stdout+r.Stderr, "forbidden") && !strings.Contains(r.Stdout+r.Stderr, "upgrade would fail") {
			t.Errorf("exit %d, want a refusal that says what is forbidden\n%s", r.Code, r)
		}
		if d := before.diff(snapshot(t, places)); len(d) > 0 {
			t.Errorf("the refused upgrade changed the fleet:\n  %s", strings.Join(d, "\n  "))
		}
	})

	// issue 12 §5b: the rights the upgrade uses come from its plan (the charts' kinds and namespaces, the
	// Lease, the Jobs, the CRDs), all asked before the first change: an account short of one the charts
	// need is refused up front, naming it, with no revision, backup, Lease or Job touched.
	for _, c := range []struct{ name, cut, right string }{
		{"no create of the Lease", "- apiGroups: [coordination.k8s.io]\n  resources: [leases]\n  verbs: [create]\n",
			"create leases.coordination.k8s.io in " + ns},
		{"no patch of one Gateway API CRD", "  - gateways.gateway.networking.k8s.io\n",
			"patch customresourcedefinitions.apiextensions.k8s.io/gateways.gateway.networking.k8s.io"},
	} {
		t.Run("an account of upgrade.yaml with "+c.name+" is refused before any change, naming the right", func(t *testing.T) {
			text := rbacFile(t, "upgrade.yaml")
			if !strings.Contains(text, c.cut) {
				t.Fatalf("hack/rbac/upgrade.yaml has no %q", c.cut)
			}
			applyRBACYAML(t, "upgrade.yaml", strings.Replace(text, c.cut, "", 1), clusters, ns, insightNS, mysqlNS)
			less := []string{"KUBECONFIG=" + serviceAccountKubeconfig(t, ns, "kubectl-skoala-upgrade", clusters)}
			places := []place{{"global", ns}, {"workspace-1", ns}}
			before := snapshot(t, places)
			jobs := MustKubectl(t, "--context", "workspace-1", "-n", ns, "get", "jobs", "-o", "name").Stdout
			backups := writtenDir(t, "backups")
			r := SkoalaEnv(t, less, "upgrade", "-n", ns, "-w", "workspace-1", "--version", "0.35.0", "--timeout", "2m",
				"--backup-dir", backups, "--yes")
			if r.Code != 3 || !strings.Contains(r.Stdout+r.Stderr, "upgrade would fail: cannot "+c.right) {
				t.Errorf("exit %d, want 3 and a refusal naming %q\n%s", r.Code, c.right, r)
			}
			if d := before.diff(snapshot(t, places)); len(d) > 0 {
				t.Errorf("the refused upgrade changed the fleet:\n  %s", strings.Join(d, "\n  "))
			}
			if got := MustKubectl(t, "--context", "workspace-1", "-n", ns, "get", "jobs", "-o", "name").Stdout; got != jobs {
				t.Errorf("the admission Jobs changed: %q, before %q", got, jobs)
			}
			if entries, _ := os.ReadDir(backups); len(entries) > 0 {
				t.Errorf("the refused upgrade wrote backups: %v", entries)
			}
		})
	}

	t.Run("an account of readonly.yaml and upgrade.yaml upgrades skoala and skoala-init", func(t *testing.T) {
		applyRBAC(t, "upgrade.yaml", clusters, ns, insightNS, mysqlNS)
		up := []string{"KUBECONFIG=" + serviceAccountKubeconfig(t, ns, "kubectl-skoala-upgrade", clusters)}
		r := SkoalaEnv(t, up, "upgrade", "-n", ns, "-w", "workspace-1", "--version", "0.35.0", "--timeout", "2m",
			"--backup-dir", writtenDir(t, "backups"), "--yes", "-o", "json")
		if r.Code != 0 {
			t.Fatalf("exit %d\n%s", r.Code, r)
		}
		for _, c := range clusters {
			rel := "skoala"
			if c != "global" {
				rel = "skoala-init"
			}
			h := MustHelm(t, "history", rel, "--kube-context", c, "-n", ns, "--max", "1", "-o", "json")
			if !strings.Contains(h.Stdout, `"chart":"`+rel+`-0.35.0"`) || !strings.Contains(h.Stdout, `"status":"deployed"`) {
				t.Errorf("%s/%s: %s", c, rel, h.Stdout)
			}
		}
	})
}
