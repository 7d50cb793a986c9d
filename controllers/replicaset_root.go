package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/internal/resource"
)

// Root password rotation. mongod's entrypoint creates the root user from its environment
// once, on the first start with an empty volume; a changed root Secret rolls the pods and
// reaches nothing in the database. So the operator changes the password itself
// (mongors.Target.PreviousPassword), logged in with the password that still works, and it
// must know that password even after a restart: it keeps a copy of the root credentials
// MongoDB last accepted in a Secret of its own, <n>-mongodb-root-applied. The copy is
// written only after MongoDB accepted them; nobody else needs to read it.

// appliedRootSecretName names the operator's copy of the root credentials MongoDB accepts.
func appliedRootSecretName(st *reconcileState) string {
	return st.shop.Instance.Name + "-mongodb-root-applied"
}

// previousRootPassword returns the root password MongoDB accepted last, "" when the
// operator never logged in yet (or the username changed: a new user is not a rotation).
func (r *LittleEcomReconciler) previousRootPassword(ctx context.Context, st *reconcileState, username string) (string, error) {
	s := &corev1.Secret{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: st.shop.Instance.Namespace, Name: appliedRootSecretName(st)}, s)
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading Secret %s: %w", appliedRootSecretName(st), err)
	}
	applied := resource.CredentialsOf(s.Data)
	if applied.Username != username {
		return "", nil
	}
	return applied.Password, nil
}

// recordRootCredentials stores creds as the ones MongoDB accepts, writing only on change.
func (r *LittleEcomReconciler) recordRootCredentials(ctx context.Context, st *reconcileState, creds resource.Credentials) error {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: appliedRootSecretName(st), Namespace: st.shop.Instance.Namespace}}
	_, err := controllerutil.CreateOrUpdate(ctx, r.Client, s, func() error {
		s.Labels = resource.Labels(st.shop.Instance.Name, resource.ComponentMongoDB)
		s.Type = corev1.SecretTypeOpaque
		s.Data = map[string][]byte{
			contract.SecretKeyUsername: []byte(creds.Username),
			contract.SecretKeyPassword: []byte(creds.Password),
		}
		return controllerutil.SetControllerReference(st.shop.Instance, s, r.Scheme)
	})
	if err != nil {
		return fmt.Errorf("recording the root credentials MongoDB accepts in Secret %s: %w", s.Name, err)
	}
	return nil
}
