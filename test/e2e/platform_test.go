package e2e

import (
	"sync"
	"testing"
)

var commonMySQL sync.Mutex

// EnsureCommonMySQL installs the platform's common-mysql fixture (StatefulSet
// mcamel-common-mysql-cluster-mysql in mcamel-system) on the control-plane cluster, as a DCE platform has it
// before skoala: doctor's pre-upgrade checks look for it when the DSN points there. It is shared platform
// infrastructure, left in place (helm upgrade --install is idempotent).
func EnsureCommonMySQL(t testing.TB) {
	t.Helper()
	commonMySQL.Lock()
	defer commonMySQL.Unlock()
	InstallChart(t, "global", "mcamel-system", "common-mysql", "common-mysql", "1.0.0")
}
