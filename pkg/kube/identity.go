package kube

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// KubeSystemUID reads the identity of a cluster: the UID of its kube-system namespace (one GET). The
// journal records it and the kpanda fleet matches contexts to registered clusters by it.
func KubeSystemUID(ctx context.Context, c kubernetes.Interface) (string, error) {
	ns, err := c.CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	if ns.UID == "" {
		return "", fmt.Errorf("namespace kube-system has no UID")
	}
	return string(ns.UID), nil
}
