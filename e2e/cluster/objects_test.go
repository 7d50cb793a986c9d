package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"littleecom.io/littleecom/internal/resource"
)

// childLists are the kinds of namespaced object the operator creates for a shop (see
// internal/resource), and the workload objects their controllers make from them.
func childLists() []client.ObjectList {
	return []client.ObjectList{
		&appsv1.DeploymentList{}, &appsv1.StatefulSetList{}, &appsv1.DaemonSetList{},
		&corev1.ServiceList{}, &corev1.SecretList{}, &corev1.ConfigMapList{}, &corev1.ServiceAccountList{},
		&networkingv1.NetworkPolicyList{}, &networkingv1.IngressList{}, &policyv1.PodDisruptionBudgetList{},
		&rbacv1.RoleList{}, &rbacv1.RoleBindingList{},
	}
}

// isChild says whether obj belongs to the shop with uid: owned by it (ownerReference), or
// labelled as the operator labels the shop's children.
func isChild(obj client.Object, uid types.UID) bool {
	for _, o := range obj.GetOwnerReferences() {
		if o.UID == uid {
			return true
		}
	}
	l := obj.GetLabels()
	return l[resource.LabelInstance] == env.shop && l[resource.LabelManagedBy] == resource.ManagedBy
}

// shopChildren lists the objects of the shop with uid in its namespace, keyed "Kind/name".
func shopChildren(ctx context.Context, uid types.UID) (map[string]client.Object, error) {
	out := map[string]client.Object{}
	for _, list := range childLists() {
		if err := k8s.List(ctx, list, client.InNamespace(env.namespace)); err != nil {
			return nil, fmt.Errorf("listing %T: %w", list, err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil, err
		}
		for _, item := range items {
			obj, ok := item.(client.Object)
			if !ok || !isChild(obj, uid) {
				continue
			}
			gvk, err := apiutil.GVKForObject(obj, k8s.Scheme())
			if err != nil {
				return nil, err
			}
			out[gvk.Kind+"/"+obj.GetName()] = obj
		}
	}
	return out, nil
}

// objectState is what an object looked like: its resourceVersion, and a digest of
// everything but its status and the API server's bookkeeping. Other controllers write the
// status of workloads (replica counts, PDB disruptions) at any time; the operator never
// does, so a changed digest is a write of the operator's (or a person's).
type objectState struct {
	resourceVersion string
	digest          string
	writers         string // managedFields, for the failure message
}

// snapshot maps "Kind/name" to its state; the LittleEcom itself is under "LittleEcom/<name>".
type snapshot map[string]objectState

func stateOf(obj client.Object) (objectState, error) {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return objectState{}, err
	}
	delete(u, "status")
	if m, ok := u["metadata"].(map[string]any); ok {
		delete(m, "resourceVersion")
		delete(m, "managedFields")
	}
	raw, err := json.Marshal(u) // maps marshal with sorted keys: the same object, the same bytes
	if err != nil {
		return objectState{}, err
	}
	sum := sha256.Sum256(raw)
	var writers []string
	for _, f := range obj.GetManagedFields() {
		at := ""
		if f.Time != nil {
			at = f.Time.UTC().Format("15:04:05")
		}
		writers = append(writers, fmt.Sprintf("%s %s %s at %s", f.Manager, f.Operation, f.Subresource, at))
	}
	return objectState{resourceVersion: obj.GetResourceVersion(), digest: hex.EncodeToString(sum[:]), writers: strings.Join(writers, "; ")}, nil
}

// takeSnapshot records the LittleEcom and every child.
func takeSnapshot(ctx context.Context) (snapshot, error) {
	le, err := getShop(ctx)
	if err != nil {
		return nil, err
	}
	children, err := shopChildren(ctx, le.UID)
	if err != nil {
		return nil, err
	}
	s := snapshot{}
	children["LittleEcom/"+le.Name] = le
	for key, obj := range children {
		if s[key], err = stateOf(obj); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// writesSince lists what changed from before to after: the LittleEcom by resourceVersion
// (only the operator writes it, status included), children by digest (see objectState),
// and objects that appeared or went.
func writesSince(before, after snapshot) []string {
	var out []string
	for _, key := range slices.Sorted(maps.Keys(before)) {
		b := before[key]
		a, ok := after[key]
		switch {
		case !ok:
			out = append(out, key+" was deleted")
		case strings.HasPrefix(key, "LittleEcom/") && a.resourceVersion != b.resourceVersion:
			out = append(out, fmt.Sprintf("%s: resourceVersion %s -> %s (writers: %s)", key, b.resourceVersion, a.resourceVersion, a.writers))
		case a.digest != b.digest:
			out = append(out, fmt.Sprintf("%s changed: resourceVersion %s -> %s (writers: %s)", key, b.resourceVersion, a.resourceVersion, a.writers))
		}
	}
	for _, key := range slices.Sorted(maps.Keys(after)) {
		if _, ok := before[key]; !ok {
			out = append(out, key+" was created")
		}
	}
	return out
}
