package resource

import (
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const (
	elasticsearchUID      = 1000 // the elasticsearch user of the official image
	elasticsearchHome     = "/usr/share/elasticsearch"
	elasticsearchCertsDir = elasticsearchHome + "/config/certs"
	// elasticsearchTransportPortName names the node-to-node port in the pods and the headless Service.
	elasticsearchTransportPortName = "transport"
)

// elasticsearchStatefulSetBuilder runs the log store's nodes.
type elasticsearchStatefulSetBuilder struct{ shop *Shop }

// ElasticsearchStatefulSet returns the builder of StatefulSet `<n>-elasticsearch`; it is
// deleted when logging is disabled.
func (s *Shop) ElasticsearchStatefulSet() Builder {
	return optional{Builder: &elasticsearchStatefulSetBuilder{shop: s}, enabled: s.LoggingEnabled()}
}

// Build implements Builder.
func (b *elasticsearchStatefulSetBuilder) Build() client.Object {
	return &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: b.shop.Names.Elasticsearch(), Namespace: b.shop.Instance.Namespace}}
}

// Update implements Builder.
func (b *elasticsearchStatefulSetBuilder) Update(obj client.Object) error {
	sts, ok := obj.(*appsv1.StatefulSet)
	if !ok {
		return typeError("StatefulSet", obj)
	}
	s, spec := b.shop, b.shop.Instance.Spec.Logging.Elasticsearch
	if err := s.setOwnerAndLabels(sts, ComponentElasticsearch); err != nil {
		return err
	}
	sts.Spec.Replicas = replicasOr(spec.Replicas, 1)
	if sts.CreationTimestamp.IsZero() {
		// Immutable after creation.
		claim, err := volumeClaimTemplate(dataVolumeName, spec.Storage, s.Instance.Name, ComponentElasticsearch)
		if err != nil {
			return err
		}
		sts.Spec.ServiceName = s.Names.ElasticsearchHeadless()
		sts.Spec.Selector = &metav1.LabelSelector{MatchLabels: SelectorLabels(s.Instance.Name, ComponentElasticsearch)}
		sts.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{claim}
		// The initial masters must all be up to elect the first master.
		sts.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	}
	sts.Spec.PersistentVolumeClaimRetentionPolicy = retentionPolicy(spec.Storage.RetentionPolicy)
	s.podTemplateMeta(&sts.Spec.Template, ComponentElasticsearch)
	sts.Spec.Template.Spec = b.podSpec()
	return nil
}

func (b *elasticsearchStatefulSetBuilder) podSpec() corev1.PodSpec {
	s := b.shop
	resources := s.elasticsearchResources()
	env := slices.Concat([]corev1.EnvVar{
		{Name: "node.name", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
		{Name: "cluster.name", Value: s.Names.Elasticsearch()},
		{Name: "network.host", Value: "0.0.0.0"},
	}, s.elasticsearchDiscoveryEnv(), []corev1.EnvVar{
		// Elasticsearch memory-maps its index files by default and then needs the node's
		// vm.max_map_count raised to 262144, which only a privileged init container (or the
		// node's administrator) can do. Without mmap it reads through NIO instead: somewhat
		// slower searches, but no privileged container in the shop's namespace.
		{Name: "node.store.allow_mmap", Value: envFalse},
		{Name: "xpack.security.enabled", Value: envTrue},
		// HTTP stays plain inside the cluster; the NetworkPolicy admits only Kibana and Fluentd.
		{Name: "xpack.security.http.ssl.enabled", Value: envFalse},
		{Name: "xpack.security.transport.ssl.enabled", Value: envTrue},
		{Name: "xpack.security.transport.ssl.verification_mode", Value: "certificate"},
		{Name: "xpack.security.transport.ssl.key", Value: "certs/" + TransportKeyKey},
		{Name: "xpack.security.transport.ssl.certificate", Value: "certs/" + TransportCertKey},
		{Name: "xpack.security.transport.ssl.certificate_authorities", Value: "certs/" + TransportCertKey},
		{Name: "ES_JAVA_OPTS", Value: elasticsearchHeapOpts(resources)},
		// The image sets the elastic user's bootstrap password from ELASTIC_PASSWORD.
		secretEnv("ELASTIC_PASSWORD", s.Names.ElasticsearchCredentialsSecret(), ElasticPasswordKey),
	})
	pod := corev1.PodSpec{
		ServiceAccountName:            s.Names.ServiceAccount(),
		AutomountServiceAccountToken:  new(false),
		EnableServiceLinks:            new(false),
		SecurityContext:               podSecurity(elasticsearchUID),
		Affinity:                      spreadAcrossNodes(s.Instance.Name, ComponentElasticsearch),
		TerminationGracePeriodSeconds: ptr.To[int64](120),
		Containers: []corev1.Container{{
			Name:  ComponentElasticsearch,
			Image: s.ElasticsearchImage(),
			Ports: []corev1.ContainerPort{
				{Name: httpPortName, ContainerPort: ElasticsearchHTTPPort},
				{Name: elasticsearchTransportPortName, ContainerPort: ElasticsearchTransportPort},
			},
			Env:       env,
			Resources: resources,
			// Ready when the node answers an authenticated local health request.
			ReadinessProbe: &corev1.Probe{
				ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"sh", "-c",
					`curl -fsS -o /dev/null -u "elastic:${ELASTIC_PASSWORD}" "http://127.0.0.1:9200/_cluster/health?local=true"`}}},
				InitialDelaySeconds: 20, PeriodSeconds: 10, TimeoutSeconds: 5, FailureThreshold: 3,
			},
			LivenessProbe: &corev1.Probe{
				ProbeHandler:        corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString(elasticsearchTransportPortName)}},
				InitialDelaySeconds: 90, PeriodSeconds: 20, TimeoutSeconds: 5, FailureThreshold: 6,
			},
			// The image writes its keystore (with the bootstrap password) into its config
			// directory at start: the root filesystem stays writable.
			SecurityContext: restrictedContainerSecurity(false),
			VolumeMounts: []corev1.VolumeMount{
				{Name: dataVolumeName, MountPath: elasticsearchHome + "/data"},
				{Name: "transport-certs", MountPath: elasticsearchCertsDir, ReadOnly: true},
			},
		}},
		Volumes: []corev1.Volume{
			{Name: "transport-certs", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
				SecretName: s.Names.ElasticsearchTransportSecret(), DefaultMode: ptr.To[int32](0o440),
			}}},
		},
	}
	withAPIDefaults(&pod)
	return pod
}

// elasticsearchResources are the spec's resources or 2Gi of memory, half of it heap.
func (s *Shop) elasticsearchResources() corev1.ResourceRequirements {
	return resourcesOr(s.Instance.Spec.Logging.Elasticsearch.Resources, "500m", "2Gi", "2Gi")
}

// elasticsearchHeapOpts sizes the JVM heap to half the container's memory (limit, else
// request), as Elastic recommends: the other half is the file-system cache Lucene relies on.
func elasticsearchHeapOpts(r corev1.ResourceRequirements) string {
	mem := r.Limits.Memory()
	if mem.IsZero() {
		mem = r.Requests.Memory()
	}
	heapMi := max(mem.Value()/2/(1<<20), 256)
	return fmt.Sprintf("-Xms%dm -Xmx%dm", heapMi, heapMi)
}

// elasticsearchDiscoveryEnv is single-node discovery for one node. For three and more the
// nodes find each other through the headless Service's name, whose DNS answer lists every
// pod, ready or not (Elasticsearch tries every address a seed host resolves to), and the
// first cluster is bootstrapped by the first three nodes, a master quorum whatever the
// count. Neither depends on the count, so growing the cluster (the only change the API
// allows) restarts no node.
func (s *Shop) elasticsearchDiscoveryEnv() []corev1.EnvVar {
	if *replicasOr(s.Instance.Spec.Logging.Elasticsearch.Replicas, 1) == 1 {
		return []corev1.EnvVar{{Name: "discovery.type", Value: "single-node"}}
	}
	const bootstrapNodes = 3
	nodes := make([]string, bootstrapNodes)
	for i := range nodes {
		nodes[i] = s.Names.elasticsearchPodName(int32(i))
	}
	return []corev1.EnvVar{
		{Name: "discovery.seed_hosts", Value: s.Names.ServiceHost(s.Names.ElasticsearchHeadless())},
		{Name: "cluster.initial_master_nodes", Value: strings.Join(nodes, ",")},
	}
}

// ElasticsearchURL is the client Service's URL inside the cluster.
func (s *Shop) ElasticsearchURL() string {
	return fmt.Sprintf("http://%s:%d", s.Names.ServiceHost(s.Names.Elasticsearch()), ElasticsearchHTTPPort)
}

// ElasticsearchService is the clients' Service (Kibana, Fluentd): HTTP only.
func (s *Shop) ElasticsearchService() Builder {
	return optional{Builder: &ServiceBuilder{shop: s, name: s.Names.Elasticsearch(), component: ComponentElasticsearch,
		ports: []corev1.ServicePort{tcpPort(httpPortName, ElasticsearchHTTPPort)}}, enabled: s.LoggingEnabled()}
}

// ElasticsearchHeadlessService gives the nodes the DNS names discovery.seed_hosts lists,
// published before they are ready: a node must find its peers to become ready.
func (s *Shop) ElasticsearchHeadlessService() Builder {
	return optional{Builder: &ServiceBuilder{shop: s, name: s.Names.ElasticsearchHeadless(), component: ComponentElasticsearch,
		headless: true, ports: []corev1.ServicePort{tcpPort(httpPortName, ElasticsearchHTTPPort), tcpPort(elasticsearchTransportPortName, ElasticsearchTransportPort)}},
		enabled: s.LoggingEnabled()}
}
