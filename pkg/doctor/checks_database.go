package doctor

import (
	"context"
	"errors"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/skoala-dev/kubectl-skoala/pkg/dsn"
	"github.com/skoala-dev/kubectl-skoala/pkg/semver"
)

// Check IDs of the database category.
const (
	IDDBDSN         = "database.dsn"
	IDDBCommonMySQL = "database.common-mysql"
	IDDBConnect     = "database.connect"
	IDDBDatabase    = "database.database"
	IDDBTables      = "database.tables"
)

// CommonMySQLStatefulSet is common-mysql's StatefulSet; its master Service is <name>-master.
const CommonMySQLStatefulSet = "mcamel-common-mysql-cluster-mysql"

// SchemaTables are the tables and columns the product guide's `desc` shows (the minimum: later automatic
// migrations may add more).
var SchemaTables = map[string][]string{
	"api":      {"id", "is_hosted", "registry", "service_name", "nacos_namespace", "nacos_group_name", "data_type", "detail", "deleted_at", "created_at", "updated_at"},
	"book":     {"id", "uid", "name", "author", "status", "isPublished", "publishedAt", "deleted_at", "createdAt", "updatedAt"},
	"registry": {"id", "uid", "workspace_id", "ext_id", "name", "type", "addresses", "namespaces", "is_hosted", "deleted_at", "created_at", "updated_at"},
}

var schemaTableOrder = []string{"api", "book", "registry"}

func databaseChecks() []Check {
	db := func(c Check) Check {
		c.Category, c.Scope = CatDatabase, ScopeControlPlane
		return c
	}
	return []Check{
		db(Check{ID: IDDBDSN, Description: "database DSN parses", Needs: []string{IDReachable}, Uses: readRelease, Run: checkDSN}),
		db(Check{ID: IDDBCommonMySQL, Description: "common-mysql ready", Needs: []string{IDReachable, IDDBDSN}, Run: checkCommonMySQL}),
		db(Check{ID: IDDBConnect, Description: "database accepts the DSN's login", Needs: []string{IDDBDSN}, Run: checkDBConnect}),
		db(Check{ID: IDDBDatabase, Description: "database skoala exists", Needs: []string{IDDBConnect}, Run: checkDBDatabase}),
		db(Check{ID: IDDBTables, Description: "tables api, book, registry", Needs: []string{IDDBDatabase}, Run: checkDBTables}),
	}
}

const dsnExample = "user:password@tcp(mcamel-common-mysql-cluster-mysql-master.mcamel-system.svc.cluster.local:3306)/skoala?charset=utf8&parseTime=true&loc=Local&timeout=10s"

func checkDSN(ctx context.Context, e *Env) Outcome {
	d, driver, src, err := e.DSN(ctx)
	if err != nil {
		var pe *dsn.ParseError
		if errors.As(err, &pe) {
			return Fail("write it in go-sql-driver syntax: "+dsnExample, "%s: %s", src, pe.Error())
		}
		return releaseUnreadable(err, e.Config.Namespace)
	}
	if d == nil {
		switch {
		case driver != "" && driver != "mysql":
			return Skip("driver %q: doctor checks MySQL databases only", driver)
		case e.Config.Mode == ModePreInstall:
			return SkipHint("pass the DSN the install will use with --db-dsn (and --db to log in)", "no DSN given: the database is checked only with --db-dsn before an install")
		}
		if rel, err := e.ControlPlaneRelease(ctx); err == nil && semver.Compare(rel.ChartVersion, "0.22.1") < 0 {
			return Fail("set hive.configMap.database[0].driver=mysql and hive.configMap.database[0].dsn="+dsnExample, "no database configured in hive.configMap.database (skoala %s has no default)", rel.ChartVersion)
		}
		return Warn("set hive.configMap.database[0].driver=mysql and hive.configMap.database[0].dsn (the product guide's recommended values: "+dsnExample+")",
			"no database configured in hive.configMap.database: hive uses its built-in default, which the product does not document")
	}
	return OK("%s parses: user %s, %s, database %s", src, d.User, d.Addr(), d.Database)
}

func checkCommonMySQL(ctx context.Context, e *Env) Outcome {
	d, _, _, _ := e.DSN(ctx)
	ns := e.Config.MySQLNamespace
	if d != nil {
		svc, dns, ok := serviceHost(d.Host)
		if !ok || !strings.HasPrefix(svc, CommonMySQLStatefulSet) {
			return Skip("the DSN points at %s, not at common-mysql", d.Addr())
		}
		ns = dns
	}
	sts, err := e.Client().AppsV1().StatefulSets(ns).Get(ctx, CommonMySQLStatefulSet, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return Fail(fmt.Sprintf("install common-mysql (DCE middleware MySQL) in %s before skoala, and create database skoala and its user; or point the DSN at your own MySQL", ns),
			"common-mysql is not installed: StatefulSet %s not found in %s", CommonMySQLStatefulSet, ns)
	}
	if err != nil {
		return apiError(err, "get", "statefulsets in "+ns)
	}
	want := int32(1)
	if sts.Spec.Replicas != nil {
		want = *sts.Spec.Replicas
	}
	if sts.Status.ReadyReplicas < want {
		return Fail(fmt.Sprintf("'%s -n %s get pods -l app.kubernetes.io/name=mysql -Lhealthy,role' and the pods' events say why; hive cannot start without its database", e.kubectl(), ns),
			"StatefulSet %s in %s: %d/%d ready", CommonMySQLStatefulSet, ns, sts.Status.ReadyReplicas, want)
	}
	// MGR mode: a mysqlrouter Deployment at 0 replicas makes the database unreachable (install FAQ).
	if deps, err := e.Client().AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for i := range deps.Items {
			dep := &deps.Items[i]
			if strings.Contains(dep.Name, "router") && routerDown(dep) {
				return Fail(fmt.Sprintf("MGR mode: the mysqlrouter user may be lost; see the DCE install FAQ (MGR 模式 MySQL Common 实例初始化失败), then '%s -n %s rollout restart deployment %s'", e.kubectl(), ns, dep.Name),
					"StatefulSet %s is ready but router Deployment %s has no ready replica: the database is unreachable", CommonMySQLStatefulSet, dep.Name)
			}
		}
	}
	return OK("StatefulSet %s in %s: %d/%d ready", CommonMySQLStatefulSet, ns, sts.Status.ReadyReplicas, want)
}

func routerDown(d *appsv1.Deployment) bool {
	return (d.Spec.Replicas != nil && *d.Spec.Replicas == 0) || d.Status.ReadyReplicas == 0
}

// db connects once per run (the first database check that asks).
func (e *Env) db(ctx context.Context, d *dsn.DSN) (DB, error) {
	return e.r.once.db.get(ctx, e.r.base, e.r.cfg.CheckTimeout, func(ctx context.Context) (DB, error) {
		return e.r.deps.OpenDB(ctx, d, e.r.cfg.CheckTimeout)
	})
}

func checkDBConnect(ctx context.Context, e *Env) Outcome {
	if !e.Config.DB {
		return SkipHint("add --db to log in with the DSN's credentials from this machine (and --db-dsn to use another address, such as a port-forward)",
			"not connecting to the database without --db")
	}
	d, _, _, err := e.DSN(ctx)
	if err != nil || d == nil {
		return Skip("no DSN to connect with")
	}
	if _, err := e.db(ctx, d); err != nil {
		msg, hint := explainDB(err, d)
		return Fail(hint, "%s", msg)
	}
	return OK("logged in to %s as %s", d.Addr(), d.User)
}

func checkDBDatabase(ctx context.Context, e *Env) Outcome {
	d, _, _, _ := e.DSN(ctx)
	db, err := e.db(ctx, d)
	if err != nil {
		return Skip("no database connection")
	}
	ok, err := db.DatabaseExists(ctx, d.Database)
	if err != nil {
		msg, hint := explainDB(err, d)
		return Fail(hint, "%s", msg)
	}
	if !ok {
		return Fail(createDBHint(d), "database %s does not exist on %s (or user %s has no rights on it)", d.Database, d.Addr(), d.User)
	}
	return OK("database %s exists", d.Database)
}

func checkDBTables(ctx context.Context, e *Env) Outcome {
	d, _, _, _ := e.DSN(ctx)
	db, err := e.db(ctx, d)
	if err != nil {
		return Skip("no database connection")
	}
	cols, err := db.Columns(ctx, d.Database, schemaTableOrder)
	if err != nil {
		msg, hint := explainDB(err, d)
		return Fail(hint, "%s", msg)
	}
	var missingTables, missingCols []string
	for _, t := range schemaTableOrder {
		have, ok := cols[t]
		if !ok {
			missingTables = append(missingTables, t)
			continue
		}
		set := map[string]bool{}
		for _, c := range have {
			set[c] = true
		}
		var miss []string
		for _, c := range SchemaTables[t] {
			if !set[c] {
				miss = append(miss, c)
			}
		}
		if len(miss) > 0 {
			missingCols = append(missingCols, fmt.Sprintf("%s lacks %s", t, strings.Join(miss, ", ")))
		}
	}
	if len(missingTables) == 0 && len(missingCols) == 0 {
		return OK("tables api, book, registry have the columns of the product guide")
	}
	var parts []string
	if len(missingTables) > 0 {
		parts = append(parts, "missing tables: "+strings.Join(missingTables, ", "))
	}
	parts = append(parts, missingCols...)
	return Fail(e.schemaHint(ctx), "database %s: %s", d.Database, strings.Join(parts, "; "))
}

// schemaHint says who creates the tables: the operator below 0.17.1, hive from 0.17.1.
func (e *Env) schemaHint(ctx context.Context) string {
	v := ""
	if e.Config.Mode == ModePreInstall || e.Config.Mode == ModePreUpgrade {
		v = semver.Normalize(e.Config.TargetVersion)
	}
	if rel, err := e.ControlPlaneRelease(ctx); err == nil && (v == "" || e.Config.Mode == ModeDefault) {
		v = rel.ChartVersion
	}
	if v != "" && semver.Compare(v, "0.17.1") < 0 {
		return fmt.Sprintf("skoala %s (below 0.17.1) does not create its tables: create them by hand with the SQL of the product's install guide (tables api, book, registry), then restart hive", v)
	}
	return fmt.Sprintf("hive (0.17.1 and later) creates the tables when it starts: read its logs ('%s -n %s logs deploy/hive -c hive'), fix what stops it (rights of the user on the database), then '%s -n %s rollout restart deployment hive'; the product guide's 'desc' tables show what is expected",
		e.kubectl(), e.Config.Namespace, e.kubectl(), e.Config.Namespace)
}
