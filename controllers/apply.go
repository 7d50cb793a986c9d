package controllers

import (
	"context"
	"fmt"
	"reflect"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/resource"
)

// Event reasons the reconciler records on the LittleEcom.
const (
	eventCreated      = "Created"
	eventUpdated      = "Updated"
	eventDeleted      = "Deleted"
	eventApplyFailed  = "ApplyFailed"
	eventDeleteFailed = "DeleteFailed"
)

// apply creates or updates the child a builder describes and returns it as stored. An
// Optional builder that is disabled deletes its child instead (and returns nil).
// Unchanged children are not written: CreateOrUpdate compares before and after Update.
func (r *LittleEcomReconciler) apply(ctx context.Context, st *reconcileState, b resource.Builder) (client.Object, error) {
	obj, _, err := r.applyOp(ctx, st, b)
	return obj, err
}

// applyOp is apply that also says what it did (created, updated, unchanged).
func (r *LittleEcomReconciler) applyOp(ctx context.Context, st *reconcileState, b resource.Builder) (
	client.Object, controllerutil.OperationResult, error) {
	owner := st.shop.Instance
	if opt, ok := b.(resource.Optional); ok && !opt.Enabled() {
		return nil, controllerutil.OperationResultNone, r.deleteChild(ctx, st, b.Build())
	}
	obj := b.Build()
	kind := kindOf(obj)
	var op controllerutil.OperationResult
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj = b.Build()
		var err error
		op, err = controllerutil.CreateOrUpdate(ctx, r.clientFor(obj), obj, func() error { return b.Update(obj) })
		return err
	})
	if err != nil {
		r.Recorder.Eventf(owner, nil, corev1.EventTypeWarning, eventApplyFailed, "Apply",
			"applying %s %s: %s", kind, obj.GetName(), safeMessage(err))
		return nil, op, fmt.Errorf("applying %s %s: %w", kind, obj.GetName(), err)
	}
	switch op {
	case controllerutil.OperationResultCreated:
		r.Recorder.Eventf(owner, nil, corev1.EventTypeNormal, eventCreated, "Create", "created %s %s", kind, obj.GetName())
	case controllerutil.OperationResultUpdated:
		r.Recorder.Eventf(owner, nil, corev1.EventTypeNormal, eventUpdated, "Update", "updated %s %s", kind, obj.GetName())
	}
	return obj, op, nil
}

// deleteChild removes a child the spec no longer asks for; already gone is fine.
func (r *LittleEcomReconciler) deleteChild(ctx context.Context, st *reconcileState, obj client.Object) error {
	owner := st.shop.Instance
	return r.deleteOwned(ctx, owner, obj, func(o client.Object) bool { return metav1.IsControlledBy(o, owner) })
}

// deleteOwned deletes obj when it exists and owns says it is owner's, recording an event
// either way the delete goes; already gone is fine. Never deleting what owns rejects keeps
// the operator off anything someone else made under the same name.
func (r *LittleEcomReconciler) deleteOwned(ctx context.Context, owner *shopv1.LittleEcom, obj client.Object,
	owns func(client.Object) bool) error {
	kind := kindOf(obj)
	c := r.clientFor(obj)
	if err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("reading %s %s: %w", kind, obj.GetName(), err)
	}
	if !owns(obj) {
		return nil
	}
	if err := c.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
		r.Recorder.Eventf(owner, nil, corev1.EventTypeWarning, eventDeleteFailed, "Delete",
			"deleting %s %s: %s", kind, obj.GetName(), safeMessage(err))
		return fmt.Errorf("deleting %s %s: %w", kind, obj.GetName(), err)
	}
	r.Recorder.Eventf(owner, nil, corev1.EventTypeNormal, eventDeleted, "Delete", "deleted %s %s", kind, obj.GetName())
	return nil
}

// clientFor is the client that reads and writes obj: the monitors, which are unstructured
// (prometheusoperator.go), are read from the informer cache, as the manager's client reads
// typed objects.
func (r *LittleEcomReconciler) clientFor(obj client.Object) client.Client {
	if _, ok := obj.(*unstructured.Unstructured); ok && r.monitorCache != nil {
		return cacheReads{Client: r.Client, cache: r.monitorCache}
	}
	return r.Client
}

// kindOf names an object's kind for messages: an unstructured object's own, a typed one's
// Go type (typed objects carry no TypeMeta).
func kindOf(obj client.Object) string {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		return u.GetKind()
	}
	t := reflect.TypeOf(obj)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// safeMessage is an error's text for events and conditions. API errors never echo Secret
// data, but a message is cut short so a long validation dump cannot flood an event.
func safeMessage(err error) string {
	msg := err.Error()
	if len(msg) > 512 {
		msg = msg[:512] + "..."
	}
	return msg
}
