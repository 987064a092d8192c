package helmsdk

import (
	"reflect"
	"testing"

	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// TestApplyConnection: every connection setting helm passes to a plugin fills the kubectl flag the user
// left unset; a flag given to the plugin wins.
func TestApplyConnection(t *testing.T) {
	for k, v := range map[string]string{
		"HELM_KUBEAPISERVER": "https://127.0.0.1:7443", "HELM_KUBETOKEN": "tok", "HELM_KUBEASUSER": "alice",
		"HELM_KUBEASGROUPS": "g1,g2", "HELM_KUBECAFILE": "/ca.crt", "HELM_KUBEINSECURE_SKIP_TLS_VERIFY": "true",
		"HELM_KUBETLS_SERVER_NAME": "kubernetes", "HELM_BURST_LIMIT": "42", "HELM_QPS": "7.5",
	} {
		t.Setenv(k, v)
	}
	e := LoadEnv()
	if e.BurstLimit != 42 || e.QPS != 7.5 {
		t.Errorf("burst %d qps %v", e.BurstLimit, e.QPS)
	}
	f := genericclioptions.NewConfigFlags(true)
	own := "https://own:1"
	f.APIServer = &own
	e.ApplyConnection(f)
	got := []any{*f.APIServer, *f.BearerToken, *f.Impersonate, *f.ImpersonateGroup, *f.CAFile, *f.Insecure, *f.TLSServerName}
	want := []any{own, "tok", "alice", []string{"g1", "g2"}, "/ca.crt", true, "kubernetes"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("flags after ApplyConnection: %v, want %v", got, want)
	}
	t.Setenv("HELM_BURST_LIMIT", "")
	t.Setenv("HELM_QPS", "")
	if e := LoadEnv(); e.BurstLimit != 100 && e.BurstLimit != 0 {
		t.Errorf("empty HELM_BURST_LIMIT: %d", e.BurstLimit)
	}
}
