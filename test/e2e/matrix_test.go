package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// The passwords the safety tests plant. The secret scanner (zz_secrets_test.go) fails when any of them
// shows up anywhere but in a backup file of mode 0600.
const (
	// plantedPassword is the database password of the DSN the safety tests install skoala with.
	plantedPassword = `Pl4nted-Secr3t!`
	// plantedRegistryPassword is a registry credential: the password of the chart repository in the
	// repositories.yaml of the safety tests, and an image registry password in the release values.
	plantedRegistryPassword = `Pl4nted-Regi5try-Pw`
	plantedRegistryUser     = `skoala-robot`
)

// plantedDSN is the hive DSN of the safety tests' fixture, with the planted password.
const plantedDSN = `skoala:` + plantedPassword + `@tcp(mcamel-common-mysql-cluster-mysql-master.mcamel-system.svc.cluster.local:3306)/skoala?charset=utf8&parseTime=true&loc=Local&timeout=10s`

// plantedValues are the helm flags that plant both passwords in a skoala release.
func plantedValues() []string {
	return []string{"--set", "hive.configMap.database[0].driver=mysql",
		"--set-string", "hive.configMap.database[0].dsn=" + strings.ReplaceAll(plantedDSN, ",", `\,`),
		"--set-string", "global.imagePullCredentials.username=" + plantedRegistryUser,
		"--set-string", "global.imagePullCredentials.password=" + plantedRegistryPassword}
}

// captureDir is where capture() keeps the outputs: $SKOALA_CAPTURE_DIR or .cache/e2e/captures.
func captureDir() string {
	if d := os.Getenv("SKOALA_CAPTURE_DIR"); d != "" {
		return d
	}
	return filepath.Join(fleet.Root, ".cache", "e2e", "captures")
}

// writtenDir is a directory that outlives the test, under the capture directory, for files the tool writes
// (backups, --redact copies): the secret scanner reads it at the end of the suite.
func writtenDir(t *testing.T, name string) string {
	t.Helper()
	d := filepath.Join(captureDir(), "written", sanitize(t.Name()), name)
	_ = os.RemoveAll(d)
	if err := os.MkdirAll(filepath.Dir(d), 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// clientFor returns a clientset of the fleet's admin kubeconfig for a context.
func clientFor(t testing.TB, kubeContext string) kubernetes.Interface {
	t.Helper()
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: fleet.Kubeconfig},
		&clientcmd.ConfigOverrides{CurrentContext: kubeContext}).ClientConfig()
	if err != nil {
		t.Fatalf("kubeconfig context %s: %v", kubeContext, err)
	}
	cfg.Timeout = 20 * time.Second
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// place is a namespace of a cluster.
type place struct{ Context, Namespace string }

// clusterState is what "nothing changed" compares: every Helm release record (name, status label and
// resourceVersion), every Deployment's generation and every Lease of the places.
type clusterState map[string]string

func snapshot(t testing.TB, places []place) clusterState {
	t.Helper()
	st := clusterState{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, p := range places {
		cs := clientFor(t, p.Context)
		pre := p.Context + "/" + p.Namespace + "/"
		secs, err := cs.CoreV1().Secrets(p.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm"})
		if err != nil {
			t.Fatalf("snapshot of %s: %v", pre, err)
		}
		for _, s := range secs.Items {
			st[pre+"secret/"+s.Name] = s.Labels["status"] + "@" + s.ResourceVersion
		}
		deps, err := cs.AppsV1().Deployments(p.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatalf("snapshot of %s: %v", pre, err)
		}
		for _, d := range deps.Items {
			st[pre+"deployment/"+d.Name] = fmt.Sprintf("generation %d", d.Generation)
		}
		leases, err := cs.CoordinationV1().Leases(p.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatalf("snapshot of %s: %v", pre, err)
		}
		for _, l := range leases.Items {
			st[pre+"lease/"+l.Name] = "present"
		}
	}
	return st
}

// diff lists what differs between two snapshots.
func (a clusterState) diff(b clusterState) []string {
	var out []string
	for k, v := range a {
		if w, ok := b[k]; !ok {
			out = append(out, "removed "+k)
		} else if w != v {
			out = append(out, fmt.Sprintf("changed %s: %s -> %s", k, v, w))
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, "added "+k)
		}
	}
	sort.Strings(out)
	return out
}

// writeFile writes a test fixture file and returns its path.
func writeFile(t testing.TB, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	return p
}

// kubeconfigWithToken is a copy of the fleet's kubeconfig whose users all present token.
func kubeconfigWithToken(t testing.TB, dir, token string) string {
	t.Helper()
	b, err := os.ReadFile(fleet.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	s := regexp.MustCompile(`(?m)^(\s+token:).*$`).ReplaceAllString(string(b), "${1} "+token)
	return writeFile(t, dir, "kubeconfig-"+token, s, 0o600)
}

// kubeconfigFor is a one-context kubeconfig (context "lonely") for a server address.
func kubeconfigFor(t testing.TB, dir, name, server string) string {
	t.Helper()
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: lonely
  cluster: {server: '%s', insecure-skip-tls-verify: true}
contexts:
- name: lonely
  context: {cluster: lonely, user: lonely}
users:
- name: lonely
  user: {token: x}
current-context: lonely
`, server)
	return writeFile(t, dir, name, kc, 0o600)
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// blackHole listens on loopback, accepts every connection and never answers (a black-holed API server
// or repository), until the test ends.
func blackHole(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

// helmRecord encodes a release record as Helm stores it in a Secret's data.release: base64 of gzip of JSON.
func helmRecord(t testing.TB, json string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write([]byte(json))
	_ = w.Close()
	return []byte(base64.StdEncoding.EncodeToString(buf.Bytes()))
}

// plantRelease creates namespace ns on kubeContext with a deployed revision 1 of release whose record is data.
func plantRelease(t testing.TB, kubeContext, ns, release string, data []byte) {
	t.Helper()
	plantNamespace(t, kubeContext, ns)
	cs := clientFor(t, kubeContext)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "sh.helm.release.v1." + release + ".v1", Namespace: ns,
			Labels: map[string]string{"owner": "helm", "name": release, "status": "deployed", "version": "1"}},
		Type: "helm.sh/release.v1",
		Data: map[string][]byte{"release": data},
	}
	if _, err := cs.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating the release record: %v", err)
	}
}

// plantNamespace creates namespace ns on kubeContext.
func plantNamespace(t testing.TB, kubeContext, ns string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := clientFor(t, kubeContext).CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating namespace %s: %v", ns, err)
	}
}

// mountTmpfs mounts a small tmpfs on a new directory (read-only, or filled up), unmounted when the test ends.
func mountTmpfs(t *testing.T, opts string, fill bool) string {
	t.Helper()
	d := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(d, 0o700); err != nil {
		t.Fatal(err)
	}
	mountOpts := "size=16k,mode=0700"
	if fill {
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", mountOpts, "tmpfs", d).CombinedOutput(); err != nil {
			t.Fatalf("mount tmpfs (the disk-full rows need root, as CI has): %v\n%s", err, out)
		}
		t.Cleanup(func() { _ = exec.Command("umount", "-l", d).Run() })
		f, err := os.Create(filepath.Join(d, "filler"))
		if err != nil {
			t.Fatal(err)
		}
		chunk := make([]byte, 4096)
		for {
			if _, err := f.Write(chunk); err != nil {
				break
			}
		}
		f.Close()
		return d
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", mountOpts+","+opts, "tmpfs", d).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs (the read-only rows need root, as CI has): %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", d).Run() })
	return d
}

// matrixRow is one bad input: the command, its environment, the exit code, what the error line says, and
// (always) that nothing in the fleet changed.
type matrixRow struct {
	name string
	args []string
	env  []string
	code int
	// re must match the output (stderr, then stdout: a verb that reports per cluster puts its errors there).
	re string
	// within bounds the run time (black-holed servers: --request-timeout plus a small margin).
	within time.Duration
}

// TestBadInputMatrix runs every verb against bad input: broken kubeconfigs, unreachable, black-holed,
// unauthorized and forbidden clusters, absent and corrupt releases, broken repository settings and
// indexes, failing repositories, bad versions and charts, bad DSNs, a database down or refusing the
// password, backup directories that are read-only or full. Each row checks the exit code, the one error
// line, that no stack trace is printed, and that nothing in the fleet changed.
func TestBadInputMatrix(t *testing.T) {
	ns := Namespace(t, "mx")
	EnsureCommonMySQL(t)
	parallelDo(
		func() { InstallChart(t, "global", ns, "skoala", "skoala", "0.28.1", plantedValues()...) },
		func() { InstallChart(t, "workspace-1", ns, "skoala-init", "skoala-init", "0.28.1") },
	)
	absent := Namespace(t, "mxabs")
	badB64, badGzip, badJSON := Namespace(t, "mxb64"), Namespace(t, "mxgz"), Namespace(t, "mxjs")
	plantNamespace(t, "global", absent)
	plantRelease(t, "global", badB64, "skoala", []byte("!!! this is not base64 !!!"))
	plantRelease(t, "global", badGzip, "skoala", []byte(base64.StdEncoding.EncodeToString(append([]byte{0x1f, 0x8b, 0x08}, []byte("no gzip stream follows")...))))
	plantRelease(t, "global", badJSON, "skoala", helmRecord(t, `{"name": "skoala", "version": 1, "info": {"status": `))
	places := []place{{"global", ns}, {"workspace-1", ns}, {"global", badB64}, {"global", badGzip}, {"global", badJSON}, {"global", absent}}

	dir := t.TempDir()
	missingKC := filepath.Join(dir, "no-such-kubeconfig")
	dirKC := filepath.Join(dir, "kubeconfig-is-a-directory")
	if err := os.Mkdir(dirKC, 0o700); err != nil {
		t.Fatal(err)
	}
	badYAMLKC := writeFile(t, dir, "kubeconfig-bad-yaml", "apiVersion: v1\nclusters: [ {{{\n", 0o600)
	wrongTokenKC := kubeconfigWithToken(t, dir, "wrong-token")
	nobodyKC := kubeconfigWithToken(t, dir, fleet.Env["SKOALA_TOKEN_NOBODY"])
	closedKC := kubeconfigFor(t, dir, "kubeconfig-closed", "https://"+closedPort(t))
	holeKC := kubeconfigFor(t, dir, "kubeconfig-blackhole", "https://"+blackHole(t))

	// Repository settings: the fleet's index, copied, so that nothing here touches the shared cache.
	fleetIndex, err := os.ReadFile(filepath.Join(fleet.Env["HELM_REPOSITORY_CACHE"], "skoala-release-index.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	repoFile := func(name, url string) string {
		return writeFile(t, dir, name+"/repositories.yaml", fmt.Sprintf("apiVersion: \"\"\nrepositories:\n- name: skoala-release\n  url: %s\n  username: %s\n  password: %s\n",
			url, plantedRegistryUser, plantedRegistryPassword), 0o600)
	}
	goodRepos := repoFile("good", fleet.RepoURL)
	cacheWith := func(name, index string) string {
		d := filepath.Join(dir, name)
		if index != "" {
			writeFile(t, d, "skoala-release-index.yaml", index, 0o644)
		} else if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	goodCache := cacheWith("cache-good", string(fleetIndex))
	emptyCache := cacheWith("cache-empty", "")
	truncCache := cacheWith("cache-truncated", string(fleetIndex[:len(fleetIndex)/2])+"\n  - name: [\n")
	notYAMLCache := cacheWith("cache-not-yaml", "\x00\x01\x02 PK\x03\x04 this is a zip file, not an index \xff\xfe")
	repoEnv := func(repos, cache string) []string {
		return []string{"HELM_REPOSITORY_CONFIG=" + repos, "HELM_REPOSITORY_CACHE=" + cache}
	}
	noRepos := filepath.Join(dir, "absent", "repositories.yaml")
	badRepos := writeFile(t, dir, "bad/repositories.yaml", "repositories:\n- name: skoala-release\n  url: [unclosed\n", 0o600)
	otherRepos := writeFile(t, dir, "other/repositories.yaml", "apiVersion: \"\"\nrepositories:\n- name: bitnami\n  url: http://127.0.0.1:1/bitnami\n", 0o600)
	repo500 := repoFile("r500", fleet.RepoURL+"/fault/500/")
	repoHang := repoFile("rhang", fleet.RepoURL+"/fault/hang/")

	// Charts for --chart.
	noChartYAML := filepath.Join(dir, "not-a-chart")
	writeFile(t, noChartYAML, "values.yaml", "a: 1\n", 0o644)
	otherChart := filepath.Join(dir, "other-chart")
	writeFile(t, otherChart, "Chart.yaml", "apiVersion: v2\nname: insight-agent\nversion: 1.0.0\n", 0o644)

	db := mariadbEnv(t)
	wrongPwDSN := fmt.Sprintf("%s:%s@tcp(%s:%s)/%s?timeout=5s", db["MARIADB_USER"], plantedPassword, db["MARIADB_HOST"], db["MARIADB_PORT"], db["MARIADB_DATABASE"])
	downDSN := fmt.Sprintf("skoala:%s@tcp(%s)/skoala?timeout=5s", plantedPassword, closedPort(t))

	roDir := mountTmpfs(t, "ro", false)
	fullDir := mountTmpfs(t, "", true)

	kc := func(p string) []string { return []string{"KUBECONFIG=" + p} }
	n := []string{"-n", ns}
	args := func(a ...string) []string { return a }
	const reqTimeout = 2 * time.Second
	holeBound := reqTimeout + 2500*time.Millisecond

	rows := []matrixRow{
		// Kubeconfig.
		{name: "status: kubeconfig missing", args: args("status", "--kubeconfig", missingKC), code: 1, re: `error: kubeconfig: .*no such file or directory`},
		{name: "upgrade: kubeconfig missing", args: args("upgrade", "--yes", "--kubeconfig", missingKC), code: 1, re: `error: kubeconfig: .*no such file or directory`},
		{name: "doctor: kubeconfig unreadable (a directory)", args: args("doctor", "--kubeconfig", dirKC), code: 1, re: `error: kubeconfig: .*is a directory`},
		{name: "backup-values: kubeconfig unreadable (a directory)", args: args("backup-values", "--kubeconfig", dirKC, "--dir", filepath.Join(dir, "b1")), code: 1, re: `error: kubeconfig: .*is a directory`},
		{name: "backup-values: kubeconfig malformed YAML", args: args("backup-values", "--kubeconfig", badYAMLKC, "--dir", filepath.Join(dir, "b2")), code: 1, re: `error: kubeconfig: .*(yaml|json|YAML|JSON)`},
		{name: "upgrade: kubeconfig malformed YAML", args: args("upgrade", "--yes"), env: kc(badYAMLKC), code: 1, re: `error: kubeconfig: `},
		{name: "versions: kubeconfig malformed YAML marks nothing and still lists", args: args("versions", "skoala"), env: kc(badYAMLKC), code: 0, re: `0\.57\.2`},
		// Contexts.
		{name: "upgrade: unknown context", args: append(args("upgrade", "--yes", "--context", "nope"), n...), code: 1, re: `error: context "nope" not found in the kubeconfig\nhint: .*get-contexts`},
		{name: "doctor: unknown workspace context", args: append(args("doctor", "-w", "nope"), n...), code: 1, re: `error: context "nope" not found in the kubeconfig`},
		{name: "backup-values: unknown context", args: args("backup-values", "--context", "nope", "--dir", filepath.Join(dir, "b3")), code: 1, re: `error: context "nope" not found`},
		// Unreachable, black-holed.
		{name: "status: server unreachable (closed port)", args: args("status"), env: kc(closedKC), code: 1, re: `error: cluster lonely: connection refused: 127\.0\.0\.1:\d+\nhint: is the API server up`},
		{name: "upgrade: server unreachable (closed port)", args: args("upgrade", "--yes"), env: kc(closedKC), code: 1, re: `error: .*connection refused`},
		{name: "doctor: server unreachable (closed port)", args: args("doctor"), env: kc(closedKC), code: 3, re: `connection refused`},
		{name: "status: server black-holed ends within --request-timeout", args: args("status", "--request-timeout", "2s"), env: kc(holeKC), code: 1, re: `error: cluster lonely: timed out`, within: holeBound},
		{name: "upgrade: server black-holed ends within --request-timeout", args: args("upgrade", "--yes", "--request-timeout", "2s"), env: kc(holeKC), code: 1, re: `error: .*timed out`, within: holeBound},
		{name: "doctor: server black-holed ends within --request-timeout", args: args("doctor", "--request-timeout", "2s"), env: kc(holeKC), code: 3, re: `the API server of context lonely did not answer in time`, within: holeBound},
		{name: "backup-values: server black-holed ends within --request-timeout", args: args("backup-values", "--request-timeout", "2s", "--dir", filepath.Join(dir, "b4")), env: kc(holeKC), code: 1, re: `timed out`, within: holeBound},
		// Credentials.
		{name: "status: wrong token (401)", args: append(args("status"), n...), env: kc(wrongTokenKC), code: 1, re: `error: cluster global: unauthorized \(401\)`},
		{name: "upgrade: wrong token (401)", args: append(args("upgrade", "--yes"), n...), env: kc(wrongTokenKC), code: 1, re: `error: cluster global: unauthorized \(401\)[^\n]*\nhint: .*log in again`},
		{name: "doctor: wrong token (401)", args: append(args("doctor"), n...), env: kc(wrongTokenKC), code: 3, re: `unauthorized \(401\)`},
		{name: "status: no rights in the namespace (403) names the verb and resource", args: append(args("status"), n...), env: kc(nobodyKC), code: 1, re: `forbidden \(403\): not allowed to list secrets in namespace ` + ns},
		{name: "upgrade: no rights in the namespace (403) names the verb and resource", args: append(args("upgrade", "--yes"), n...), env: kc(nobodyKC), code: 1, re: `error: .*forbidden \(403\): not allowed to list secrets in namespace ` + ns + `\nhint: .*hack/rbac`},
		{name: "backup-values: no rights in the namespace (403) names the verb and resource", args: append(args("backup-values", "--dir", filepath.Join(dir, "b5")), n...), env: kc(nobodyKC), code: 1, re: `forbidden \(403\): not allowed to list secrets in namespace ` + ns},
		// Releases.
		{name: "status: release absent", args: args("status", "-n", absent), code: 3, re: `not-installed[\s\S]*hint: install it with`},
		{name: "doctor: release absent", args: args("doctor", "-n", absent, "--category", "control-plane"), code: 3, re: `release skoala .*not installed`},
		{name: "doctor: namespace absent", args: args("doctor", "-n", absent+"-none", "--category", "control-plane"), code: 3, re: `namespace ` + absent + `-none does not exist\s+hint: install it: helm upgrade --install skoala`},
		{name: "upgrade: release absent and no database given is refused", args: args("upgrade", "--install", "--yes", "-n", absent), code: 3, re: `error: nothing was changed[\s\S]*hint: give --db-dsn`},
		{name: "status: release Secret with bad base64", args: args("status", "-n", badB64), code: 3, re: `corrupt: bad base64`},
		{name: "upgrade: release Secret with bad gzip", args: args("upgrade", "--yes", "-n", badGzip), code: 1, re: `error: cluster global: reading release skoala: release record .* is corrupt: bad gzip`},
		{name: "backup-values: release Secret with bad JSON", args: args("backup-values", "-n", badJSON, "--dir", filepath.Join(dir, "b6")), code: 1, re: `corrupt: bad JSON`},
		{name: "doctor: release Secret with bad JSON", args: args("doctor", "-n", badJSON, "--category", "control-plane"), code: 3, re: `corrupt`},
		// Repository settings and the index cache.
		{name: "upgrade: repositories.yaml missing", args: append(args("upgrade", "--yes"), n...), env: repoEnv(noRepos, goodCache), code: 1, re: `error: reading helm repositories file .*: file does not exist`},
		{name: "versions: repositories.yaml malformed", args: args("versions"), env: repoEnv(badRepos, goodCache), code: 1, re: `error: reading helm repositories file .*: not valid YAML`},
		{name: "upgrade: repository not configured", args: append(args("upgrade", "--yes"), n...), env: repoEnv(otherRepos, goodCache), code: 1, re: `error: no skoala chart repository configured .*helm repo add skoala-release`},
		{name: "upgrade: --repo names a repository that is not configured", args: append(args("upgrade", "--yes", "--repo", "mirror"), n...), env: repoEnv(goodRepos, goodCache), code: 1, re: `no repository named "mirror"`},
		{name: "versions: index cache missing", args: args("versions"), env: repoEnv(goodRepos, emptyCache), code: 1, re: `error: repository index .* is missing\nhint: .*helm repo update`},
		{name: "upgrade: index cache truncated", args: append(args("upgrade", "--yes"), n...), env: repoEnv(goodRepos, truncCache), code: 1, re: `error: repository index .* is corrupt`},
		{name: "status: index cache not YAML is a warning", args: append(args("status"), n...), env: repoEnv(goodRepos, notYAMLCache), code: 0, re: `repository index .* is corrupt`},
		{name: "versions: index cache not YAML", args: args("versions"), env: repoEnv(goodRepos, notYAMLCache), code: 1, re: `error: repository index .* is corrupt`},
		{name: "versions --refresh: repository answers 500", args: args("versions", "--refresh"), env: repoEnv(repo500, emptyCache), code: 1, re: `Warning: could not refresh the index of skoala-release[^\n]*500[\s\S]*error: repository index .* is missing`},
		{name: "upgrade --refresh: repository answers 500, the cached index is used, nothing changes", args: append(args("upgrade", "--dry-run", "--refresh", "--version", "0.28.1", "-o", "json"), n...), env: repoEnv(repo500, goodCache), code: 0, re: `could not refresh the index of skoala-release, using the cached one: [^"]*500`},
		{name: "versions --refresh: repository hangs ends within --request-timeout", args: args("versions", "--refresh", "--timeout", "2s", "--request-timeout", "2s"), env: repoEnv(repoHang, emptyCache), code: 1, re: `Warning: could not refresh the index of skoala-release[^\n]*(timeout|deadline|Timeout)`, within: holeBound},
		// Versions and charts.
		{name: "upgrade: --version is not semver", args: append(args("upgrade", "--yes", "--version", "latest"), n...), code: 2, re: `error: --version: "latest" is not a semantic version[^\n]*\nhint: see 'kubectl skoala upgrade --help'`},
		{name: "upgrade: --version not in the index", args: append(args("upgrade", "--yes", "--version", "0.99.0"), n...), code: 1, re: `error: repository skoala-release has no skoala 0\.99\.0`},
		{name: "doctor: --to is not semver", args: append(args("doctor", "--to", "0.57"), n...), code: 2, re: `error: --to: "0\.57" is not a semantic version`},
		{name: "upgrade: --chart path missing", args: append(args("upgrade", "--yes", "--chart", filepath.Join(dir, "no-such-chart")), n...), code: 1, re: `error: .*no-such-chart.*(no such file|not found|does not exist)`},
		{name: "upgrade: --chart directory without Chart.yaml", args: append(args("upgrade", "--yes", "--chart", noChartYAML), n...), code: 1, re: `error: .*Chart\.yaml`},
		{name: "upgrade: --chart of another name", args: append(args("upgrade", "--yes", "--chart", otherChart), n...), code: 2, re: `error: .*is chart "insight-agent"`},
		// Databases.
		{name: "upgrade: --db-dsn does not parse", args: append(args("upgrade", "--yes", "--db-dsn", "skoala@db:3306/skoala"), n...), code: 2, re: `error: .*(DSN|dsn)`},
		{name: "doctor: --db-dsn does not parse", args: append(args("doctor", "--category", "database", "--db", "--db-dsn", "skoala:pw@db:3306"), n...), code: 3, re: `(DSN|dsn).*(parse|invalid|not)`},
		{name: "doctor: database down", args: append(args("doctor", "--category", "database", "--db", "--db-dsn", downDSN), n...), code: 3, re: `refused`},
		{name: "doctor: database password wrong", args: append(args("doctor", "--category", "database", "--db", "--db-dsn", wrongPwDSN), n...), code: 3, re: `refused the login of user`},
		// Backup directories.
		{name: "backup-values: --dir read-only", args: append(args("backup-values", "--dir", filepath.Join(roDir, "backups")), n...), code: 1, re: `read-only file system`},
		{name: "upgrade: --backup-dir read-only changes nothing", args: append(args("upgrade", "--yes", "--version", "0.28.1", "--set", "hive.replicas=1", "--backup-dir", filepath.Join(roDir, "backups")), n...), code: 1, re: `error: .*nothing was changed: .*read-only file system\nhint: give a writable --backup-dir`},
		{name: "backup-values: --dir on a full disk", args: append(args("backup-values", "--dir", fullDir), n...), code: 1, re: `no space left on device`},
		{name: "upgrade: --backup-dir on a full disk changes nothing", args: append(args("upgrade", "--yes", "--version", "0.28.1", "--set", "hive.replicas=1", "--backup-dir", fullDir), n...), code: 1, re: `error: .*nothing was changed: .*no space left on device`},
		// Global flags.
		{name: "status: --request-timeout is not a duration", args: args("status", "--request-timeout", "soon"), code: 2, re: `error: invalid --request-timeout "soon"`},
		{name: "doctor: unknown output format", args: args("doctor", "-o", "xml"), code: 2, re: `error: unknown output format "xml"`},
	}

	stackTrace := regexp.MustCompile(`goroutine \d+ \[|panic: |runtime error`)
	for _, row := range rows {
		row := row
		t.Run(row.name, func(t *testing.T) {
			before := snapshot(t, places)
			env := append([]string{"HELM_REPOSITORY_CONFIG=" + goodRepos, "HELM_REPOSITORY_CACHE=" + goodCache}, row.env...)
			start := time.Now()
			r := SkoalaEnv(t, env, row.args...)
			took := time.Since(start)
			out := r.Stderr + "\n" + r.Stdout
			if r.Code != row.code {
				t.Errorf("row %q: exit %d, want %d\n%s", row.name, r.Code, row.code, r)
			}
			if !regexp.MustCompile(row.re).MatchString(out) {
				t.Errorf("row %q: output does not match %q\n%s", row.name, row.re, r)
			}
			if stackTrace.MatchString(out) {
				t.Errorf("row %q: a stack trace was printed\n%s", row.name, r)
			}
			if row.code != 0 && r.Code != 0 {
				if errs := regexp.MustCompile(`(?m)^error: `).FindAllString(r.Stderr, -1); len(errs) > 1 {
					t.Errorf("row %q: %d error lines, want one\n%s", row.name, len(errs), r)
				}
			}
			if row.within > 0 && took > row.within {
				t.Errorf("row %q: took %s, want at most %s", row.name, took.Round(100*time.Millisecond), row.within)
			}
			if d := before.diff(snapshot(t, places)); len(d) > 0 {
				t.Errorf("row %q changed the fleet:\n  %s", row.name, strings.Join(d, "\n  "))
			}
		})
	}

	t.Run("two upgrades started at once against the same release: one refuses", func(t *testing.T) {
		twoUpgradesAtOnce(t, ns, goodRepos, goodCache)
	})
	t.Run("backup-values --redact writes copies without any password", func(t *testing.T) {
		redactedCopies(t, ns)
	})
	t.Run("upgrade --dry-run prints the plan and diff without any password", func(t *testing.T) {
		r := Skoala(t, "upgrade", "-n", ns, "-w", "workspace-1", "--version", "0.33.2", "--dry-run", "--color", "never")
		if r.Code != 0 || !strings.Contains(r.Stdout, "--- a/values.yaml") {
			t.Fatalf("exit %d, no diff\n%s", r.Code, r)
		}
		for _, pw := range []string{plantedPassword, plantedRegistryPassword} {
			if strings.Contains(r.Stdout+r.Stderr, pw) {
				t.Errorf("the dry run printed a planted password")
			}
		}
	})
}

// twoUpgradesAtOnce starts two upgrades of the same release together: exactly one changes the release, the
// other refuses (exit 3) and says why, and no revision is left pending.
func twoUpgradesAtOnce(t *testing.T, ns, repos, cache string) {
	before := releaseRevisions(t, "global", ns, "skoala")
	env := append(fleet.BaseEnv(t), "HELM_REPOSITORY_CONFIG="+repos, "HELM_REPOSITORY_CACHE="+cache)
	results := make([]Result, 2)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = Run(t, env, 3*time.Minute, fleet.Skoala, "upgrade", "-n", ns, "--version", "0.28.1",
				"--set", fmt.Sprintf("hive.podAnnotations.concurrent=run-%d", i), "--timeout", "2m",
				"--backup-dir", writtenDir(t, fmt.Sprintf("backups-%d", i)), "--yes")
		}(i)
	}
	wg.Wait()
	codes := []int{results[0].Code, results[1].Code}
	sort.Ints(codes)
	if codes[0] != 0 || codes[1] != 3 {
		t.Fatalf("exit codes %v, want one 0 and one 3\n%s\n\n%s", codes, results[0], results[1])
	}
	loser := results[0]
	if loser.Code != 3 {
		loser = results[1]
	}
	if !regexp.MustCompile(`(?m)^error: .*(lock|holds|pending|changed since the plan)[^\n]*\nhint: `).MatchString(loser.Stderr) {
		t.Errorf("the refused upgrade does not say why and what to do:\n%s", loser)
	}
	after := releaseRevisions(t, "global", ns, "skoala")
	if len(after) != len(before)+1 {
		t.Errorf("revisions before %v, after %v: want exactly one more", before, after)
	}
	for rev, status := range after {
		if strings.HasPrefix(status, "pending") {
			t.Errorf("revision %s is left %s", rev, status)
		}
	}
}

// releaseRevisions maps each revision of a release to its status (from the Secrets' labels).
func releaseRevisions(t testing.TB, kubeContext, ns, release string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	l, err := clientFor(t, kubeContext).CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm,name=" + release})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, s := range l.Items {
		out[s.Labels["version"]] = s.Labels["status"]
	}
	return out
}

// redactedCopies backs up the fixture with --all --redact into a directory the scanner reads: the copies
// hold no password, the plain backups are 0600 in a 0700 directory.
func redactedCopies(t *testing.T, ns string) {
	dir := writtenDir(t, "backups")
	r := Skoala(t, "backup-values", "-n", ns, "-w", "workspace-1", "--all", "--redact", "--dir", dir)
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s", r.Code, r)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	redacted, plain := 0, 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := os.Stat(f)
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v", f, st.Mode().Perm())
		}
		hasPw := bytes.Contains(b, []byte(plantedPassword)) || bytes.Contains(b, []byte(plantedRegistryPassword))
		if strings.Contains(filepath.Base(f), ".redacted.") {
			redacted++
			if hasPw {
				t.Errorf("the redacted copy %s holds a planted password", filepath.Base(f))
			}
		} else {
			plain++
			if strings.Contains(f, "_skoala_") && !strings.Contains(f, "computed") && !hasPw {
				t.Errorf("the backup %s lacks the password: it would not restore the release", filepath.Base(f))
			}
		}
	}
	if redacted != 4 || plain != 4 {
		t.Errorf("%d redacted copies and %d backups, want 4 and 4 (values and computed of 2 releases): %v", redacted, plain, files)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("backup directory mode %v %v", st.Mode().Perm(), err)
	}
}

// parallelDo runs the functions concurrently and waits for all of them.
func parallelDo(fns ...func()) {
	var wg sync.WaitGroup
	for _, f := range fns {
		wg.Add(1)
		go func(f func()) {
			defer wg.Done()
			f()
		}(f)
	}
	wg.Wait()
}
