package kube

import (
	"context"
	"fmt"
	"strings"

	authv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Denied asks the API server (one SelfSubjectAccessReview each, 8 at a time) about every right and returns
// those it does not allow, in the order given. The error is for a review that could not be made.
func Denied(ctx context.Context, client kubernetes.Interface, rights []authv1.ResourceAttributes) ([]authv1.ResourceAttributes, error) {
	allowed := make([]bool, len(rights))
	errs := make([]error, len(rights))
	ForEach(ctx, rights, 8, 0, func(ctx context.Context, i int, r authv1.ResourceAttributes) {
		ra := r
		rev := &authv1.SelfSubjectAccessReview{Spec: authv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &ra}}
		out, err := client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, rev, metav1.CreateOptions{})
		if err != nil {
			errs[i] = err
			return
		}
		allowed[i] = out.Status.Allowed
	})
	var denied []authv1.ResourceAttributes
	for i, r := range rights {
		if errs[i] != nil {
			return nil, fmt.Errorf("asking whether %s is allowed: %w", RightString(r), errs[i])
		}
		if !allowed[i] {
			denied = append(denied, r)
		}
	}
	return denied, nil
}

// RightString words a right as kubectl's RBAC errors do: "delete deployments.apps/hive in skoala-system".
func RightString(r authv1.ResourceAttributes) string {
	res := r.Resource
	if r.Group != "" {
		res += "." + r.Group
	}
	if r.Name != "" {
		res += "/" + r.Name
	}
	s := r.Verb + " " + res
	if r.Namespace != "" {
		s += " in " + r.Namespace
	}
	return s
}

// CanICommand is the 'kubectl auth can-i' that checks a right.
func CanICommand(kubeContext string, r authv1.ResourceAttributes) string {
	res := r.Resource
	if r.Group != "" {
		res += "." + r.Group
	}
	if r.Name != "" {
		res += "/" + r.Name
	}
	parts := []string{"kubectl auth can-i", r.Verb, res}
	if r.Namespace != "" {
		parts = append(parts, "-n", r.Namespace)
	}
	if kubeContext != "" {
		parts = append(parts, "--context", kubeContext)
	}
	return strings.Join(parts, " ")
}
