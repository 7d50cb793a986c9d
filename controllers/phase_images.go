package controllers

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/utils/ptr"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/resource"
)

// setImagesStatus reports the image of each component the operator runs (status.images):
// where it comes from (the spec or the operator's default) and whether pods still run an
// earlier template. The image is the one the applied workload's template carries; a
// component whose workload could not be applied keeps what the last reconcile reported.
func setImagesStatus(shop *shopv1.LittleEcom, st *reconcileState) {
	previous := map[string]shopv1.ComponentImage{}
	for _, img := range shop.Status.Images {
		previous[img.Component] = img
	}
	out := make([]shopv1.ComponentImage, 0, len(resource.ImageComponents))
	for _, c := range resource.ImageComponents {
		if c == resource.ComponentMongoDB && shop.Spec.MongoDB.External != nil {
			continue // the operator runs no MongoDB
		}
		img, ok := observedImage(st, c)
		if !ok {
			if prev, had := previous[c]; had {
				out = append(out, prev)
			}
			continue
		}
		img.Source = shopv1.ImageSourceOperator
		if st.shop.PinnedImage(c) != "" {
			img.Source = shopv1.ImageSourceSpec
		}
		out = append(out, img)
	}
	shop.Status.Images = out
}

// observedImage reads component's image and rollout state from the workload this reconcile
// applied.
func observedImage(st *reconcileState, component string) (shopv1.ComponentImage, bool) {
	img := shopv1.ComponentImage{Component: component}
	switch component {
	case resource.ComponentMongoDB, resource.ComponentRabbitMQ:
		sts := st.statefulSets[component]
		if sts == nil || len(sts.Spec.Template.Spec.Containers) == 0 {
			return img, false
		}
		img.Image = sts.Spec.Template.Spec.Containers[0].Image
		img.Updating = statefulSetUpdating(sts)
		if component == resource.ComponentMongoDB {
			// The operator rolls MongoDB itself (OnDelete): its own count of pods on an
			// earlier template is the truth, the StatefulSet's currentRevision is not
			// advanced under OnDelete.
			img.Updating = st.mongoDBRollout.outdated > 0
			img.Message = st.mongoDBRollout.message
		}
	default:
		d := st.deployments[component]
		if d == nil || len(d.Spec.Template.Spec.Containers) == 0 {
			return img, false
		}
		img.Image = d.Spec.Template.Spec.Containers[0].Image
		want := ptr.Deref(d.Spec.Replicas, 1)
		img.Updating = d.Status.ObservedGeneration < d.Generation || d.Status.UpdatedReplicas < want ||
			d.Status.Replicas > d.Status.UpdatedReplicas
	}
	return img, true
}

// statefulSetUpdating reports a RollingUpdate StatefulSet whose pods are not all on the
// current template yet.
func statefulSetUpdating(sts *appsv1.StatefulSet) bool {
	if sts.Status.ObservedGeneration < sts.Generation {
		return true
	}
	if sts.Status.UpdateRevision == "" {
		return false // the StatefulSet controller has not reported yet
	}
	return sts.Status.UpdatedReplicas < ptr.Deref(sts.Spec.Replicas, 1) || sts.Status.CurrentRevision != sts.Status.UpdateRevision
}

// SetDefaultImages replaces the default images; the next reconcile of each shop resolves
// against them, as after an operator restart with other --default-*-image flags.
func (r *LittleEcomReconciler) SetDefaultImages(images resource.Images) {
	r.imagesOverride.Store(&images)
}

// defaultImages returns the default images in force: SetDefaultImages', else r.Images.
func (r *LittleEcomReconciler) defaultImages() resource.Images {
	if p := r.imagesOverride.Load(); p != nil {
		return *p
	}
	return r.Images
}
