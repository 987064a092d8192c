package helmops

import (
	"context"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func TestParseJobName(t *testing.T) {
	for name, want := range map[string]string{
		"helm-operation-upgrade-skoala-init-x7k2p": "upgrade skoala-init",
		"helm-operation-install-skoala-a1b2c":      "install skoala",
		"helm-operation-rollback-my-app-v2-zz":     "rollback my-app-v2",
		"helm-operation-upgrade-skoala":            "",
		"helm-operation-upgrade-skoala-":           "",
		"helm-operation-kubeconfig-abc":            "",
		"gateway-api-admission":                    "",
	} {
		a, r, ok := ParseJobName(name)
		got := ""
		if ok {
			got = a + " " + r
		}
		if got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

func kpandaJob(name string, done bool) *batchv1.Job {
	j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "skoala-system",
		CreationTimestamp: metav1.NewTime(time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)),
		OwnerReferences:   []metav1.OwnerReference{{APIVersion: "helm.kpanda.io/v1alpha1", Kind: "HelmApp", Name: "skoala-init"}}}}
	if done {
		j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}
	}
	return j
}

func TestActiveOperations(t *testing.T) {
	c := fake.NewSimpleClientset(kpandaJob("helm-operation-upgrade-skoala-init-x7k2p", false), kpandaJob("helm-operation-install-skoala-init-a1b2c", true),
		kpandaJob("helm-operation-upgrade-skoala-q1w2e", false))
	ops, err := ActiveOperations(context.Background(), c, "skoala-system", "skoala-init")
	if err != nil || len(ops) != 1 {
		t.Fatalf("%v %+v", err, ops)
	}
	if s := ops[0].String(); !strings.Contains(s, "kpanda's helm upgrade of skoala-init runs as Job skoala-system/helm-operation-upgrade-skoala-init-x7k2p (HelmApp skoala-init, started 2026-12-06T05:00:00Z)") {
		t.Errorf("%s", s)
	}
	if ops, _ := ActiveOperations(context.Background(), c, "skoala-system"); len(ops) != 2 {
		t.Errorf("all releases: %+v", ops)
	}
}

func TestHelmAppsWithoutTheCRD(t *testing.T) {
	// No HelmApp resource is served (no kpanda): none, and no error.
	dyn := dynfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{HelmAppGVR: "HelmAppList"})
	dyn.PrependReactor("list", HelmAppResource, func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewNotFound(HelmAppGVR.GroupResource(), "")
	})
	apps, err := HelmApps(context.Background(), dyn, "skoala-system")
	if err != nil || apps != nil {
		t.Errorf("%v %v", apps, err)
	}
}
