package resource

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

// podTemplateLabels returns the pod labels of every workload a shop with logging runs,
// keyed by component, as the builders write them.
func podTemplateLabels(t *testing.T, s *Shop) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for component, b := range map[string]Builder{
		ComponentMongoDB:       s.MongoDBStatefulSet(),
		ComponentRabbitMQ:      s.RabbitMQStatefulSet(),
		ComponentBackend:       s.ServiceDeployment(ComponentBackend),
		ComponentAuth:          s.ServiceDeployment(ComponentAuth),
		ComponentNotifier:      s.ServiceDeployment(ComponentNotifier),
		ComponentElasticsearch: s.ElasticsearchStatefulSet(),
		ComponentKibana:        s.KibanaDeployment(),
		ComponentFluentd:       s.FluentdDaemonSet(),
	} {
		obj := buildOnce(t, b)
		switch w := obj.(type) {
		case *appsv1.StatefulSet:
			out[component] = w.Spec.Template.Labels
		case *appsv1.Deployment:
			out[component] = w.Spec.Template.Labels
		case *appsv1.DaemonSet:
			out[component] = w.Spec.Template.Labels
		default:
			t.Fatalf("%s: %T is no workload", component, obj)
		}
	}
	return out
}
