package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// rememberSecret keeps a Secret's data for hashing and for reading credentials.
func (st *reconcileState) rememberSecret(obj client.Object) {
	if s, ok := obj.(*corev1.Secret); ok {
		st.secretData[s.Name] = s.Data
	}
}

// rememberConfigMap keeps a ConfigMap's data for hashing.
func (st *reconcileState) rememberConfigMap(obj client.Object) {
	if c, ok := obj.(*corev1.ConfigMap); ok {
		st.configMapData[c.Name] = c.Data
	}
}

// secret returns a Secret's data: one the reconcile applied, or a user-supplied one read
// straight from the API server (the cache holds only Secrets the operator manages). A
// failed read is remembered too: the later phases of the reconcile get the same error
// without asking the API server again.
func (r *LittleEcomReconciler) secret(ctx context.Context, st *reconcileState, name string) (map[string][]byte, error) {
	if data, ok := st.secretData[name]; ok {
		return data, nil
	}
	if err, ok := st.secretErrs[name]; ok {
		return nil, err
	}
	s := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: st.shop.Instance.Namespace, Name: name}, s); err != nil {
		err = fmt.Errorf("reading Secret %s: %w", name, err)
		st.secretErrs[name] = err
		return nil, err
	}
	st.secretData[name] = s.Data
	return s.Data, nil
}

// hashConfig records in the Shop, as component's config hash, a checksum of the Secrets and
// ConfigMaps its pods read (resource.Shop.ConfigInputs), so that a changed Secret or
// ConfigMap rolls the workload. The ConfigMaps must have been applied (and remembered)
// already.
func (r *LittleEcomReconciler) hashConfig(ctx context.Context, st *reconcileState, component string) error {
	in := st.shop.ConfigInputs(component)
	h := sha256.New()
	for _, name := range in.Secrets {
		data, err := r.secret(ctx, st, name)
		if err != nil {
			return err
		}
		writeHashedData(h, "secret/"+name, data)
	}
	for _, name := range in.ConfigMaps {
		data, ok := st.configMapData[name]
		if !ok {
			return fmt.Errorf("ConfigMap %s was not applied before its readers", name)
		}
		writeHashedData(h, "configmap/"+name, data)
	}
	st.shop.ConfigHashes[component] = hex.EncodeToString(h.Sum(nil))[:16]
	return nil
}

// writeHashedData writes into h an object's heading, then each key in sorted order with the
// SHA-256 of its value: the same data always gives the same checksum, and no value is
// written as is.
func writeHashedData[V ~string | ~[]byte](h hash.Hash, heading string, data map[string]V) {
	// A hash.Hash's Write never returns an error.
	_, _ = fmt.Fprintf(h, "%s\n", heading)
	for _, k := range slices.Sorted(maps.Keys(data)) {
		_, _ = fmt.Fprintf(h, "%s=%x\n", k, sha256.Sum256([]byte(data[k])))
	}
}
