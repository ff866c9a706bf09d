package framework

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Apply creates a workload built here, or updates it when it exists (a new revision), like
// kubectl apply: tests apply a changed copy of what they applied before to start a rollout.
func Apply(t testing.TB, c kubernetes.Interface, obj any) {
	t.Helper()
	var err error
	switch o := obj.(type) {
	case *appsv1.Deployment:
		err = upsert(context.Background(), c.AppsV1().Deployments(o.Namespace), o)
	case *appsv1.StatefulSet:
		err = upsert(context.Background(), c.AppsV1().StatefulSets(o.Namespace), o)
	case *appsv1.DaemonSet:
		err = upsert(context.Background(), c.AppsV1().DaemonSets(o.Namespace), o)
	default:
		t.Fatalf("apply: unsupported %T", obj)
	}
	if err != nil {
		t.Fatalf("apply %T: %v", obj, err)
	}
}

// upserter is what the typed clients of every workload kind have in common.
type upserter[T metav1.Object] interface {
	Create(context.Context, T, metav1.CreateOptions) (T, error)
	Get(context.Context, string, metav1.GetOptions) (T, error)
	Update(context.Context, T, metav1.UpdateOptions) (T, error)
}

func upsert[T metav1.Object](ctx context.Context, c upserter[T], obj T) error {
	_, err := c.Create(ctx, obj, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	cur, err := c.Get(ctx, obj.GetName(), metav1.GetOptions{})
	if err != nil {
		return err
	}
	obj.SetResourceVersion(cur.GetResourceVersion())
	_, err = c.Update(ctx, obj, metav1.UpdateOptions{})
	return err
}
