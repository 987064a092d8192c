package doctor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/skoala-dev/kubectl-skoala/pkg/fleet"
	"strings"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/skoala-dev/kubectl-skoala/pkg/dsn"
	"github.com/skoala-dev/kubectl-skoala/pkg/helmsdk"
	"github.com/skoala-dev/kubectl-skoala/pkg/inspect"
	"github.com/skoala-dev/kubectl-skoala/pkg/kube"
)

// lazy computes a value once, in the run's context bounded by a timeout, whoever asks first; every asker
// waits for it within its own context. A check that gives up does not spoil the value for the others.
type lazy[T any] struct {
	once sync.Once
	done chan struct{}
	v    T
	err  error
}

func (l *lazy[T]) get(ctx, base context.Context, timeout time.Duration, fn func(context.Context) (T, error)) (T, error) {
	l.once.Do(func() {
		l.done = make(chan struct{})
		go func() {
			defer close(l.done)
			c, cancel := context.WithTimeout(base, timeout)
			defer cancel()
			defer func() {
				if p := recover(); p != nil {
					l.err = fmt.Errorf("internal error: %v", p)
				}
			}()
			l.v, l.err = fn(c)
		}()
	})
	select {
	case <-l.done:
		return l.v, l.err
	case <-ctx.Done():
		var z T
		return z, ctx.Err()
	}
}

// clusterState holds what the checks of one cluster share.
type clusterState struct {
	target  fleet.Target
	client  kubernetes.Interface
	dyn     dynamic.Interface
	connErr error

	version    lazy[*version.Info]
	release    lazy[*helmsdk.Release]
	insight    lazy[*helmsdk.Release]
	jobs       lazy[*batchv1.JobList]
	components lazy[[]inspect.Component]
	nsMu       sync.Mutex
	namespaces map[string]*lazy[*corev1.Namespace]
	access     access
}

// Env is what a check sees: the configuration, its cluster (nil for checks that run once) and the facts
// the run shares (each read once, whichever check asks first).
type Env struct {
	Config *Config
	// Target is the cluster the check runs on (zero for checks that run once).
	Target fleet.Target
	r      *runner
	cs     *clusterState
}

// Client is the cluster's clientset (nil for checks that run once).
func (e *Env) Client() kubernetes.Interface {
	if e.cs == nil {
		return nil
	}
	return e.cs.client
}

func (e *Env) dynamic() dynamic.Interface {
	if e.cs == nil {
		return nil
	}
	return e.cs.dyn
}

// Now is the run's clock.
func (e *Env) Now() time.Time { return e.r.deps.Now() }

func (e *Env) fact(ctx context.Context) (context.Context, time.Duration) {
	return e.r.base, e.r.cfg.CheckTimeout
}

// ServerVersion asks the API server for its version.
func (e *Env) ServerVersion(ctx context.Context) (*version.Info, error) {
	if e.cs.connErr != nil {
		return nil, e.cs.connErr
	}
	base, t := e.fact(ctx)
	return e.cs.version.get(ctx, base, t, func(ctx context.Context) (*version.Info, error) {
		// ServerVersion() has no context: make the same request through the REST client, bounded by ctx.
		d := e.cs.client.Discovery()
		if rc, ok := d.RESTClient().(*rest.RESTClient); ok && rc != nil {
			body, err := rc.Get().AbsPath("/version").Do(ctx).Raw()
			if err != nil {
				return nil, err
			}
			var info version.Info
			if err := json.Unmarshal(body, &info); err != nil {
				return nil, fmt.Errorf("reading /version: %w", err)
			}
			return &info, nil
		}
		return d.ServerVersion() // fakes
	})
}

// Release reads the current revision of the cluster's release (skoala or skoala-init).
func (e *Env) Release(ctx context.Context) (*helmsdk.Release, error) {
	return e.releaseOf(ctx, e.cs)
}

func (e *Env) releaseOf(ctx context.Context, cs *clusterState) (*helmsdk.Release, error) {
	if cs == nil {
		return nil, errNoCluster
	}
	if cs.connErr != nil {
		return nil, cs.connErr
	}
	base, t := e.fact(ctx)
	rel, err := cs.release.get(ctx, base, t, func(ctx context.Context) (*helmsdk.Release, error) {
		rel, err := helmsdk.GetCurrent(ctx, cs.client, e.Config.Namespace, cs.target.Release, e.Config.Driver)
		if err == nil {
			e.r.addSecrets(rel.Values)
		}
		return rel, err
	})
	return rel, err
}

// Jobs lists the Jobs of the releases' namespace on the check's cluster (once: the components and the
// admission-Job check share the list).
func (e *Env) Jobs(ctx context.Context) (*batchv1.JobList, error) {
	return clusterFact(ctx, e, func(cs *clusterState) *lazy[*batchv1.JobList] { return &cs.jobs },
		func(ctx context.Context) (*batchv1.JobList, error) {
			return e.cs.client.BatchV1().Jobs(e.Config.Namespace).List(ctx, metav1.ListOptions{})
		})
}

// InsightRelease reads the current revision of insight-agent's release on the check's cluster.
func (e *Env) InsightRelease(ctx context.Context) (*helmsdk.Release, error) {
	return clusterFact(ctx, e, func(cs *clusterState) *lazy[*helmsdk.Release] { return &cs.insight },
		func(ctx context.Context) (*helmsdk.Release, error) {
			return helmsdk.GetCurrent(ctx, e.cs.client, e.Config.InsightNamespace, InsightAgentRelease, e.Config.Driver)
		})
}

// clusterFact computes a fact of the check's cluster once (the lazy that pick returns), whichever check
// asks first.
func clusterFact[T any](ctx context.Context, e *Env, pick func(*clusterState) *lazy[T], fn func(context.Context) (T, error)) (T, error) {
	var zero T
	if e.cs == nil {
		return zero, errNoCluster
	}
	if e.cs.connErr != nil {
		return zero, e.cs.connErr
	}
	base, t := e.fact(ctx)
	return pick(e.cs).get(ctx, base, t, fn)
}

// ControlPlaneRelease reads the control plane's skoala release (from any cluster's check).
func (e *Env) ControlPlaneRelease(ctx context.Context) (*helmsdk.Release, error) {
	return e.releaseOf(ctx, e.r.controlPlane())
}

var errNoCluster = errors.New("no such cluster in this run")

// Components inspects the workloads of the cluster's release.
func (e *Env) Components(ctx context.Context) ([]inspect.Component, error) {
	rel, err := e.Release(ctx)
	if err != nil {
		return nil, err
	}
	base, t := e.fact(ctx)
	return e.cs.components.get(ctx, base, t, func(ctx context.Context) ([]inspect.Component, error) {
		return inspect.ReleaseWith(ctx, e.cs.client, rel, inspect.Lists{Jobs: e.Jobs})
	})
}

// Namespace reads a namespace; a missing one is (nil, nil).
func (e *Env) Namespace(ctx context.Context, name string) (*corev1.Namespace, error) {
	cs := e.cs
	cs.nsMu.Lock()
	if cs.namespaces == nil {
		cs.namespaces = map[string]*lazy[*corev1.Namespace]{}
	}
	l, ok := cs.namespaces[name]
	if !ok {
		l = &lazy[*corev1.Namespace]{}
		cs.namespaces[name] = l
	}
	cs.nsMu.Unlock()
	base, t := e.fact(ctx)
	return l.get(ctx, base, t, func(ctx context.Context) (*corev1.Namespace, error) {
		ns, err := cs.client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return ns, err
	})
}

// DSN returns the database DSN doctor works with: --db-dsn, else hive.configMap.database[0].dsn of the
// control plane's release. source says which; a nil DSN with a nil error means none is configured.
func (e *Env) DSN(ctx context.Context) (d *dsn.DSN, driver, source string, err error) {
	if e.Config.DSN != "" {
		d, err := dsn.Parse(e.Config.DSN)
		if err == nil {
			e.r.addSecret(d.Password)
		}
		return d, "mysql", "--db-dsn", err
	}
	if e.Config.Mode == ModePreInstall {
		return nil, "", "", nil
	}
	rel, err := e.ControlPlaneRelease(ctx)
	if err != nil {
		return nil, "", "", err
	}
	raw, driver := DSNFromValues(rel.Values)
	if raw == "" {
		return nil, driver, "", nil
	}
	src := "hive.configMap.database[0].dsn"
	if driver != "" && driver != "mysql" {
		return nil, driver, src, nil
	}
	d, err = dsn.Parse(raw)
	if err == nil {
		e.r.addSecret(d.Password)
	}
	return d, "mysql", src, err
}

// DSNFromValues returns hive.configMap.database[0].dsn and .driver of release values.
func DSNFromValues(values map[string]any) (raw, driver string) {
	hive, _ := values["hive"].(map[string]any)
	cm, _ := hive["configMap"].(map[string]any)
	list, _ := cm["database"].([]any)
	if len(list) == 0 {
		return "", ""
	}
	first, _ := list[0].(map[string]any)
	raw, _ = first["dsn"].(string)
	driver, _ = first["driver"].(string)
	return raw, driver
}

func (e *Env) mysqlNamespace() string {
	if e.Config.DSN != "" {
		if d, err := dsn.Parse(e.Config.DSN); err == nil {
			if _, ns, ok := serviceHost(d.Host); ok {
				return ns
			}
		}
	}
	return e.Config.MySQLNamespace
}

// serviceHost splits <service>.<namespace>[.svc[.cluster.local]] into service and namespace.
func serviceHost(host string) (svc, ns string, ok bool) {
	parts := strings.Split(strings.TrimSuffix(host, "."), ".")
	if len(parts) < 2 {
		return "", "", false
	}
	if len(parts) > 2 && parts[2] != "svc" {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// apiError turns an API error into a verdict: forbidden is a skip (the permission is missing, the platform
// may be fine), everything else a failure explained in one line.
func apiError(err error, verb, resource string) Outcome {
	if apierrors.IsForbidden(err) {
		a := strings.Fields(verb + " " + resource)
		canI := "kubectl auth can-i " + verb
		if len(a) > 1 {
			canI += " " + a[1]
		}
		return SkipHint("check with '"+canI+"' and ask for the rights (see 'kubectl skoala doctor' permissions check)",
			"forbidden: not allowed to %s %s", verb, resource)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return Fail("the API server is slow or unreachable: check it, or raise --check-timeout / --timeout", "timed out trying to %s %s", verb, resource)
	}
	msg, hint := kube.Explain(err, verb, resource)
	return Fail(hint, "could not %s %s: %s", verb, resource, msg)
}
