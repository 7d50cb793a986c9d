package resource

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const (
	kibanaUID = 1000 // the kibana user of the official image
	// LogIndexPrefix starts the name of every daily index Fluentd writes.
	LogIndexPrefix = "littleecom-logs"
)

// kibanaDeploymentBuilder runs Kibana.
type kibanaDeploymentBuilder struct{ shop *Shop }

// KibanaDeployment returns the builder of Deployment `<n>-kibana`; it is deleted when
// logging is disabled.
func (s *Shop) KibanaDeployment() Builder {
	return optional{Builder: &kibanaDeploymentBuilder{shop: s}, enabled: s.LoggingEnabled()}
}

// KibanaServiceBuilder is Kibana's Service; the edge routes KibanaPath to it when the spec
// exposes Kibana, and `kubectl port-forward` reaches it otherwise.
func (s *Shop) KibanaServiceBuilder() Builder {
	return optional{Builder: &ServiceBuilder{shop: s, name: s.Names.Kibana(), component: ComponentKibana,
		ports: []corev1.ServicePort{tcpPort(httpPortName, KibanaPort)}}, enabled: s.LoggingEnabled()}
}

// Build implements Builder.
func (b *kibanaDeploymentBuilder) Build() client.Object {
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: b.shop.Names.Kibana(), Namespace: b.shop.Instance.Namespace}}
}

// Update implements Builder.
func (b *kibanaDeploymentBuilder) Update(obj client.Object) error {
	dep, ok := obj.(*appsv1.Deployment)
	if !ok {
		return typeError("Deployment", obj)
	}
	s := b.shop
	if err := s.setOwnerAndLabels(dep, ComponentKibana); err != nil {
		return err
	}
	dep.Spec.Replicas = ptr.To[int32](1)
	if dep.CreationTimestamp.IsZero() {
		dep.Spec.Selector = &metav1.LabelSelector{MatchLabels: SelectorLabels(s.Instance.Name, ComponentKibana)}
	}
	s.podTemplateMeta(&dep.Spec.Template, ComponentKibana)
	dep.Spec.Template.Spec = b.podSpec()
	return nil
}

func (b *kibanaDeploymentBuilder) podSpec() corev1.PodSpec {
	s := b.shop
	spec := s.Instance.Spec.Logging
	creds := s.Names.ElasticsearchCredentialsSecret()
	login := corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: KibanaPath + "/login", Port: intstr.FromString(httpPortName)}}
	env := []corev1.EnvVar{
		{Name: "ELASTICSEARCH_HOSTS", Value: s.ElasticsearchURL()},
		{Name: "ELASTICSEARCH_USERNAME", Value: "kibana_system"},
		secretEnv("ELASTICSEARCH_PASSWORD", creds, KibanaPasswordKey),
		// Served under /kibana (behind the edge, or through a port-forward at
		// localhost:5601/kibana): Kibana builds its links with the base path and, with
		// rewriteBasePath, strips it from the requests it receives itself.
		{Name: "SERVER_BASEPATH", Value: KibanaPath},
		{Name: "SERVER_REWRITEBASEPATH", Value: envTrue},
	}
	if url := s.kibanaPublicURL(); url != "" {
		env = append(env, corev1.EnvVar{Name: "SERVER_PUBLICBASEURL", Value: url})
	}
	pod := corev1.PodSpec{
		ServiceAccountName:           s.Names.ServiceAccount(),
		AutomountServiceAccountToken: new(false),
		EnableServiceLinks:           new(false),
		SecurityContext:              podSecurity(kibanaUID),
		InitContainers: []corev1.Container{{
			// Kibana 8 refuses to log in as the elastic superuser. This container waits for
			// Elasticsearch, then sets the built-in kibana_system user's password and creates
			// Fluentd's write-only user, both from the generated Secret. Every call is
			// idempotent, so it runs again harmlessly at each Kibana start. It uses the
			// Elasticsearch image, which ships curl and matches the cluster's version.
			Name:    "elasticsearch-users",
			Image:   s.ElasticsearchImage(),
			Command: []string{"sh", "-c", elasticsearchUsersScript},
			Env: []corev1.EnvVar{
				{Name: "ES_URL", Value: s.ElasticsearchURL()},
				secretEnv("ELASTIC_PASSWORD", creds, ElasticPasswordKey),
				secretEnv("KIBANA_PASSWORD", creds, KibanaPasswordKey),
				secretEnv("FLUENTD_PASSWORD", creds, FluentdPasswordKey),
			},
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("32Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")},
			},
			SecurityContext: restrictedContainerSecurity(true),
		}},
		Containers: []corev1.Container{{
			Name:      ComponentKibana,
			Image:     s.KibanaImage(),
			Ports:     []corev1.ContainerPort{{Name: httpPortName, ContainerPort: KibanaPort}},
			Env:       env,
			Resources: resourcesOr(spec.Kibana.Resources, "200m", "1Gi", "1Gi"),
			// Kibana answers 503 on every path until it is ready; the login page needs no
			// credentials.
			StartupProbe:   &corev1.Probe{ProbeHandler: login, PeriodSeconds: 10, TimeoutSeconds: 5, FailureThreshold: 30},
			ReadinessProbe: &corev1.Probe{ProbeHandler: login, PeriodSeconds: 10, TimeoutSeconds: 5, FailureThreshold: 3},
			LivenessProbe: &corev1.Probe{
				ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString(httpPortName)}},
				PeriodSeconds: 20, TimeoutSeconds: 5, FailureThreshold: 6,
			},
			// Kibana writes under its install directory (data, plugins' caches).
			SecurityContext: restrictedContainerSecurity(false),
		}},
	}
	withAPIDefaults(&pod)
	return pod
}

// kibanaPublicURL is the URL people reach Kibana at, when the Ingress publishes it and has
// a host.
func (s *Shop) kibanaPublicURL() string {
	in := s.Instance.Spec.Ingress
	if !s.KibanaExposed() || !IngressEnabled(s.Instance.Spec) || in.Host == "" {
		return ""
	}
	return fmt.Sprintf("%s://%s%s", IngressScheme(in), in.Host, KibanaPath)
}

// elasticsearchUsersScript sets up the users of the logging stack. The passwords are
// generated alphanumeric, so they need no JSON escaping.
var elasticsearchUsersScript = fmt.Sprintf(`set -eu
auth="elastic:${ELASTIC_PASSWORD}"
until curl -fsS -o /dev/null -u "$auth" "$ES_URL/_cluster/health?wait_for_status=yellow&timeout=30s"; do
  echo "waiting for Elasticsearch at $ES_URL"; sleep 5
done
call() { curl -fsS -o /dev/null -u "$auth" -H 'Content-Type: application/json' -X "$1" "$ES_URL/$2" -d "$3"; }
call POST _security/user/kibana_system/_password "{\"password\":\"${KIBANA_PASSWORD}\"}"
call PUT _security/role/%[1]s '{"cluster":["monitor"],"indices":[{"names":["%[3]s-*"],"privileges":["create_index","create_doc","write","view_index_metadata"]}]}'
call PUT _security/user/%[2]s "{\"password\":\"${FLUENTD_PASSWORD}\",\"roles\":[\"%[1]s\"]}"
echo "Elasticsearch users are set up"
`, FluentdESRole, FluentdESUser, LogIndexPrefix)
