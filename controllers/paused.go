package controllers

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	shopv1 "littleecom.io/littleecom/api/v1"
)

// paused says whether the shop carries shopv1.PausedAnnotation set to "true".
func paused(shop *shopv1.LittleEcom) bool {
	return shop.Annotations[shopv1.PausedAnnotation] == "true"
}

// writePausedStatus records that the shop is paused and touches nothing else: no child is
// applied, the other conditions keep what they last said.
func (r *LittleEcomReconciler) writePausedStatus(ctx context.Context, shop, original *shopv1.LittleEcom) error {
	meta.SetStatusCondition(&shop.Status.Conditions, metav1.Condition{
		Type: shopv1.ConditionPaused, Status: metav1.ConditionTrue, Reason: shopv1.ReasonPausedByAnnotation,
		Message: fmt.Sprintf("the annotation %s=true stops the operator from changing this shop; remove it to resume",
			shopv1.PausedAnnotation),
		ObservedGeneration: shop.Generation,
	})
	return r.patchStatus(ctx, shop, original)
}
