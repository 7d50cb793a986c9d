package controllers

import (
	"os"
	"strings"
	"sync"

	"littleecom.io/littleecom/internal/resource"
)

// Environment variables of the manager that carry its administrator's decisions.
const (
	// EnvFluentdClusterRole names a ClusterRole the administrator installed for Fluentd's
	// cluster-wide metadata (config/logging-cluster-metadata); unset keeps Fluentd to its
	// own namespace.
	EnvFluentdClusterRole = "LITTLEECOM_FLUENTD_CLUSTER_ROLE"
	// EnvOperatorNamespace is the namespace the manager runs in; unset, it is read from the
	// pod's service account (serviceAccountNamespaceFile).
	EnvOperatorNamespace = "LITTLEECOM_OPERATOR_NAMESPACE"
)

// serviceAccountNamespaceFile holds the pod's namespace in every pod that mounts its
// service account token, as the manager does to reach the API server.
var serviceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// AdminSettings are what the operator's administrator decides through the manager's
// configuration, and a shop's author cannot: how far Fluentd may read the API, and where
// the operator's own pods run (the only place the shops' policies admit them from).
type AdminSettings struct {
	Fluentd  resource.FluentdAccess
	Operator resource.OperatorPeer
}

// AdminSettingsFromEnvironment reads EnvFluentdClusterRole and the operator's namespace
// (EnvOperatorNamespace, else the service account's namespace file; neither, as in the dev
// runner, means the operator is no pod of the cluster).
func AdminSettingsFromEnvironment() AdminSettings {
	ns := strings.TrimSpace(os.Getenv(EnvOperatorNamespace))
	if ns == "" {
		if b, err := os.ReadFile(serviceAccountNamespaceFile); err == nil {
			ns = strings.TrimSpace(string(b))
		}
	}
	return AdminSettings{
		Fluentd:  resource.FluentdAccess{ClusterRole: strings.TrimSpace(os.Getenv(EnvFluentdClusterRole))},
		Operator: resource.OperatorPeer{Namespace: ns},
	}
}

// adminSettings holds the reconciler's AdminSettings: read from the environment on first
// use unless SetAdminSettings came first. Guarded, because tests change them while the
// manager runs (an operator restarted with new flags, in effect).
type adminSettings struct {
	mu  sync.RWMutex
	set bool
	v   AdminSettings
}

// SetAdminSettings replaces the administrator's settings; the next reconcile of each shop
// acts on them.
func (r *LittleEcomReconciler) SetAdminSettings(a AdminSettings) {
	r.admin.mu.Lock()
	defer r.admin.mu.Unlock()
	r.admin.v, r.admin.set = a, true
}

// adminSettings returns the settings in force.
func (r *LittleEcomReconciler) adminSettings() AdminSettings {
	r.admin.mu.RLock()
	if r.admin.set {
		defer r.admin.mu.RUnlock()
		return r.admin.v
	}
	r.admin.mu.RUnlock()
	r.admin.mu.Lock()
	defer r.admin.mu.Unlock()
	if !r.admin.set {
		r.admin.v, r.admin.set = AdminSettingsFromEnvironment(), true
	}
	return r.admin.v
}
