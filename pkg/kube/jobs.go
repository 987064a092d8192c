package kube

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// DeleteJobs deletes the named Jobs of ns (and their pods, in the background) and waits, up to 30 s and
// within ctx, until they are gone: a Job's pod template is immutable, so an upgrade or rollback that
// changes it must delete the Job first. A Job already absent is fine.
func DeleteJobs(ctx context.Context, client kubernetes.Interface, ns string, names []string) error {
	bg := metav1.DeletePropagationBackground
	jobs := client.BatchV1().Jobs(ns)
	for _, j := range names {
		if err := jobs.Delete(ctx, j, metav1.DeleteOptions{PropagationPolicy: &bg}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	for i := 0; i < 60; i++ {
		left := 0
		for _, j := range names {
			if _, err := jobs.Get(ctx, j, metav1.GetOptions{}); err == nil {
				left++
			} else if !apierrors.IsNotFound(err) {
				return err
			}
		}
		if left == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return fmt.Errorf("the Jobs %s are still there after 30s", strings.Join(names, ", "))
}
