package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/resource"
)

// loggingObservation is what the logging phase (Elasticsearch, Kibana, Fluentd) saw.
type loggingObservation struct {
	elasticsearch *appsv1.StatefulSet
	kibana        *appsv1.Deployment
	fluentd       *appsv1.DaemonSet
}

// reconcileLogging keeps the EFK stack when spec.logging.enabled, and removes it otherwise.
func (r *LittleEcomReconciler) reconcileLogging(ctx context.Context, st *reconcileState) error {
	const cond = shopv1.ConditionLoggingReady
	if !st.shop.LoggingEnabled() {
		if err := r.removeLogging(ctx, st); err != nil {
			return st.fail(cond, err)
		}
		return nil
	}
	access := r.adminSettings().Fluentd
	if err := r.reconcileFluentdClusterAccess(ctx, st, access); err != nil {
		return st.fail(cond, err)
	}
	if err := r.applyLogging(ctx, st, access); err != nil {
		return st.fail(cond, err)
	}
	return nil
}

// reconcileFluentdClusterAccess keeps the one cluster-scoped child of the logging stack, the
// ClusterRoleBinding of Fluentd to the administrator's ClusterRole, exactly while the
// administrator grants that access (resource.FluentdAccess). Otherwise it removes what an
// earlier release or setting left (the per-shop ClusterRole and binding) and the finalizer
// that guarded them.
func (r *LittleEcomReconciler) reconcileFluentdClusterAccess(ctx context.Context, st *reconcileState,
	access resource.FluentdAccess) error {
	s := st.shop
	if !access.ClusterWide() {
		if !controllerutil.ContainsFinalizer(s.Instance, ClusterResourcesFinalizer) {
			return nil
		}
		if err := r.deleteClusterResources(ctx, s); err != nil {
			return err
		}
		return r.removeClusterResourcesFinalizer(ctx, s.Instance)
	}
	// The administrator's ClusterRole carries none of our labels, so the cache does not
	// hold it; a missing one is said plainly rather than left to Fluentd's 403s.
	role := &rbacv1.ClusterRole{}
	if err := r.APIReader.Get(ctx, client.ObjectKey{Name: access.ClusterRole}, role); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("the operator is configured (%s) to bind Fluentd to ClusterRole %s, which does not exist: "+
				"install it (config/logging-cluster-metadata) or unset the setting", EnvFluentdClusterRole, access.ClusterRole)
		}
		return fmt.Errorf("reading ClusterRole %s: %w", access.ClusterRole, err)
	}
	// The finalizer goes on before the binding exists, so that deleting the LittleEcom can
	// never leave it behind.
	if err := r.ensureClusterResourcesFinalizer(ctx, s.Instance); err != nil {
		return err
	}
	// The former per-shop ClusterRole is not used any more.
	owned := func(obj client.Object) bool { return clusterChildOf(obj, s) }
	if err := r.deleteOwned(ctx, s.Instance, s.FluentdClusterRole().Build(), owned); err != nil {
		return err
	}
	binding := s.FluentdClusterRoleBinding().Build().(*rbacv1.ClusterRoleBinding)
	err := r.Get(ctx, client.ObjectKeyFromObject(binding), binding)
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return fmt.Errorf("reading ClusterRoleBinding %s: %w", binding.Name, err)
	case resource.FluentdClusterRoleBindingStale(binding, access):
		// roleRef is immutable: a binding to another role is replaced.
		if err := r.deleteOwned(ctx, s.Instance, binding, owned); err != nil {
			return err
		}
	}
	_, err = r.apply(ctx, st, s.FluentdClusterRoleBinding(access))
	return err
}

// clusterChildOf says whether a cluster-scoped object carries shop s's labels.
func clusterChildOf(obj client.Object, s *resource.Shop) bool {
	l := obj.GetLabels()
	return l[resource.LabelInstance] == s.Instance.Name && l[resource.LabelNamespace] == s.Instance.Namespace
}

// applyLogging applies the stack in dependency order: credentials, then Elasticsearch, then
// its clients.
func (r *LittleEcomReconciler) applyLogging(ctx context.Context, st *reconcileState, access resource.FluentdAccess) error {
	s := st.shop
	for _, b := range []resource.Builder{s.ElasticsearchCredentials(), s.ElasticsearchTransportCert()} {
		obj, err := r.apply(ctx, st, b)
		if err != nil {
			return err
		}
		st.rememberSecret(obj)
	}
	for _, b := range []resource.Builder{s.ElasticsearchHeadlessService(), s.ElasticsearchService()} {
		if _, err := r.apply(ctx, st, b); err != nil {
			return err
		}
	}
	if err := r.hashConfig(ctx, st, resource.ComponentElasticsearch); err != nil {
		return err
	}
	obj, err := r.apply(ctx, st, s.ElasticsearchStatefulSet())
	if err != nil {
		return err
	}
	st.logging.elasticsearch = obj.(*appsv1.StatefulSet)

	if err := r.hashConfig(ctx, st, resource.ComponentKibana); err != nil {
		return err
	}
	if obj, err = r.apply(ctx, st, s.KibanaDeployment()); err != nil {
		return err
	}
	st.logging.kibana = obj.(*appsv1.Deployment)
	if _, err := r.apply(ctx, st, s.KibanaServiceBuilder()); err != nil {
		return err
	}

	for _, b := range []resource.Builder{s.FluentdServiceAccount(), s.FluentdRole(access), s.FluentdRoleBinding(access)} {
		if _, err := r.apply(ctx, st, b); err != nil {
			return err
		}
	}
	cm, err := r.apply(ctx, st, s.FluentdConfigMap(access))
	if err != nil {
		return err
	}
	st.rememberConfigMap(cm)
	if err := r.hashConfig(ctx, st, resource.ComponentFluentd); err != nil {
		return err
	}
	if obj, err = r.apply(ctx, st, s.FluentdDaemonSet()); err != nil {
		return err
	}
	st.logging.fluentd = obj.(*appsv1.DaemonSet)
	return nil
}

// removeLogging deletes every child of a disabled stack, clients first, then lets the
// LittleEcom go without the finalizer once the cluster-scoped children are gone. The
// credentials Secret stays while the data volumes are retained (see
// resource.Shop.ElasticsearchCredentialsKept).
func (r *LittleEcomReconciler) removeLogging(ctx context.Context, st *reconcileState) error {
	s := st.shop
	builders := []resource.Builder{
		s.FluentdDaemonSet(), s.FluentdConfigMap(resource.FluentdAccess{}), s.FluentdServiceAccount(),
		s.FluentdRole(resource.FluentdAccess{}), s.FluentdRoleBinding(resource.FluentdAccess{}),
		s.KibanaDeployment(), s.KibanaServiceBuilder(),
		s.ElasticsearchStatefulSet(), s.ElasticsearchService(), s.ElasticsearchHeadlessService(),
		s.ElasticsearchTransportCert(),
	}
	if !s.ElasticsearchCredentialsKept() {
		builders = append(builders, s.ElasticsearchCredentials())
	}
	var errs []error
	for _, b := range builders {
		if _, err := r.apply(ctx, st, b); err != nil {
			errs = append(errs, err)
		}
	}
	if !controllerutil.ContainsFinalizer(s.Instance, ClusterResourcesFinalizer) {
		// No finalizer, no cluster-scoped children (see ClusterResourcesFinalizer), as in finalize.
		return errors.Join(errs...)
	}
	if err := r.deleteClusterResources(ctx, s); err != nil {
		return errors.Join(append(errs, err)...)
	}
	return errors.Join(append(errs, r.removeClusterResourcesFinalizer(ctx, s.Instance))...)
}

// setLoggingStatus sets LoggingReady and status.endpoints.kibana.
func setLoggingStatus(shop *shopv1.LittleEcom, st *reconcileState) {
	failure := st.failures[shopv1.ConditionLoggingReady]
	if !shop.Spec.Logging.Enabled {
		cs := conditionStatus{metav1.ConditionFalse, shopv1.ReasonDisabled, "spec.logging.enabled is false"}
		if failure != nil {
			cs = conditionStatus{metav1.ConditionFalse, shopv1.ReasonReconcileFailed, "removing the logging stack: " + safeMessage(failure)}
		}
		cs.apply(shop, shopv1.ConditionLoggingReady)
		shop.Status.Endpoints.Kibana = ""
		return
	}
	loggingCondition(st.logging, failure).apply(shop, shopv1.ConditionLoggingReady)
	shop.Status.Endpoints.Kibana = kibanaEndpoint(shop)
}

// loggingCondition is True when Elasticsearch, Kibana and Fluentd all are; otherwise it
// takes the status and reason of the first that is not and names every one that is not.
func loggingCondition(o loggingObservation, failure error) conditionStatus {
	if failure != nil {
		return conditionStatus{metav1.ConditionFalse, shopv1.ReasonReconcileFailed, safeMessage(failure)}
	}
	parts := []struct {
		name string
		cs   conditionStatus
	}{
		{resource.ComponentElasticsearch, statefulSetCondition(o.elasticsearch, nil)},
		{resource.ComponentKibana, deploymentCondition(o.kibana, nil)},
		{resource.ComponentFluentd, daemonSetCondition(o.fluentd)},
	}
	var out *conditionStatus
	var msgs []string
	for _, p := range parts {
		if p.cs.status == metav1.ConditionTrue {
			continue
		}
		if out == nil {
			out = &conditionStatus{status: p.cs.status, reason: p.cs.reason}
		}
		msgs = append(msgs, p.name+": "+p.cs.message)
	}
	if out == nil {
		return conditionStatus{metav1.ConditionTrue, shopv1.ReasonReady, "Elasticsearch, Kibana and Fluentd are ready"}
	}
	out.message = strings.Join(msgs, "; ")
	return *out
}

// daemonSetCondition is True when every node that should run a pod runs a ready one of the
// current revision.
func daemonSetCondition(ds *appsv1.DaemonSet) conditionStatus {
	if ds == nil {
		return conditionStatus{metav1.ConditionUnknown, shopv1.ReasonProgressing, msgNotCreated}
	}
	s := ds.Status
	switch {
	case s.ObservedGeneration < ds.Generation:
		return conditionStatus{metav1.ConditionFalse, shopv1.ReasonProgressing, "waiting for the controller to observe the latest spec"}
	case s.DesiredNumberScheduled == 0:
		return conditionStatus{metav1.ConditionFalse, shopv1.ReasonProgressing, "no node is scheduled to run a pod yet"}
	case s.NumberReady >= s.DesiredNumberScheduled && s.UpdatedNumberScheduled >= s.DesiredNumberScheduled:
		return conditionStatus{metav1.ConditionTrue, shopv1.ReasonReady,
			fmt.Sprintf("%d/%d nodes ready", s.NumberReady, s.DesiredNumberScheduled)}
	default:
		return conditionStatus{metav1.ConditionFalse, shopv1.ReasonProgressing,
			fmt.Sprintf("%d/%d nodes ready, %d/%d updated", s.NumberReady, s.DesiredNumberScheduled,
				s.UpdatedNumberScheduled, s.DesiredNumberScheduled)}
	}
}

// kibanaEndpoint is Kibana's URL under the API's: the edge (Ingress or HTTPRoute) that
// serves the API also routes resource.KibanaPath to Kibana while the spec exposes it. Not
// exposed, no edge, or no API URL (setEdgeStatus runs first): no Kibana URL.
func kibanaEndpoint(shop *shopv1.LittleEcom) string {
	api := shop.Status.Endpoints.API
	if api == "" || !shop.Spec.Logging.Kibana.Expose {
		return ""
	}
	if !strings.HasSuffix(api, "/") {
		api += "/"
	}
	return api + strings.TrimPrefix(resource.KibanaPath, "/") + "/"
}

// loggingConditions are the logging stack's conditions that count towards Ready for this spec.
func loggingConditions(shop *shopv1.LittleEcom) []string {
	if !shop.Spec.Logging.Enabled {
		return nil
	}
	return []string{shopv1.ConditionLoggingReady}
}
