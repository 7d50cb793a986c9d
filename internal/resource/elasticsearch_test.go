package resource

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	shopv1 "littleecom.io/littleecom/api/v1"
)

func loggingShop(t *testing.T, mutate func(*shopv1.LittleEcomSpec)) *Shop {
	t.Helper()
	return newTestShop(t, func(s *shopv1.LittleEcomSpec) {
		s.Logging.Enabled = true
		if mutate != nil {
			mutate(s)
		}
	})
}

func envMap(c corev1.Container) map[string]string {
	out := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			out[e.Name] = "secret:" + e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil:
			out[e.Name] = "field:" + e.ValueFrom.FieldRef.FieldPath
		default:
			out[e.Name] = e.Value
		}
	}
	return out
}

func TestElasticsearchStatefulSet_Discovery(t *testing.T) {
	cluster := map[string]string{
		"discovery.seed_hosts":         "shop-elasticsearch-headless.ns.svc.cluster.local",
		"cluster.initial_master_nodes": "shop-elasticsearch-0,shop-elasticsearch-1,shop-elasticsearch-2",
	}
	tests := []struct {
		name     string
		replicas *int32
		want     map[string]string
		absent   []string
	}{
		{"one node is a single-node cluster", nil,
			map[string]string{"discovery.type": "single-node"},
			[]string{"discovery.seed_hosts", "cluster.initial_master_nodes"}},
		{"three nodes discover each other through the headless Service", ptr.To[int32](3), cluster, []string{"discovery.type"}},
		// Growing changes nothing in the nodes' environment: no node restarts.
		{"five nodes: the same discovery, bootstrapped by the first three", ptr.To[int32](5), cluster, []string{"discovery.type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := loggingShop(t, func(s *shopv1.LittleEcomSpec) { s.Logging.Elasticsearch.Replicas = tt.replicas })
			sts := buildOnce(t, s.ElasticsearchStatefulSet()).(*appsv1.StatefulSet)
			env := envMap(sts.Spec.Template.Spec.Containers[0])
			for k, v := range tt.want {
				if env[k] != v {
					t.Errorf("%s = %q, want %q", k, env[k], v)
				}
			}
			for _, k := range tt.absent {
				if _, ok := env[k]; ok {
					t.Errorf("%s is set, want it absent", k)
				}
			}
		})
	}
}

func TestElasticsearchStatefulSet_Content(t *testing.T) {
	s := loggingShop(t, nil)
	sts := buildOnce(t, s.ElasticsearchStatefulSet()).(*appsv1.StatefulSet)
	assertOwned(t, sts, "shop-elasticsearch", ComponentElasticsearch)
	if *sts.Spec.Replicas != 1 || sts.Spec.ServiceName != "shop-elasticsearch-headless" {
		t.Errorf("replicas %d, serviceName %q", *sts.Spec.Replicas, sts.Spec.ServiceName)
	}
	if got := sts.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests.Storage().String(); got != "10Gi" {
		t.Errorf("volume = %s, want 10Gi", got)
	}
	pod := sts.Spec.Template.Spec
	if *pod.SecurityContext.RunAsUser != 1000 || *pod.SecurityContext.FSGroup != 1000 || !*pod.SecurityContext.RunAsNonRoot {
		t.Errorf("pod security = %+v, want non-root uid 1000 with fsGroup", pod.SecurityContext)
	}
	if len(pod.InitContainers) != 0 {
		t.Errorf("init containers = %v, want none (no privileged sysctl: mmap is off)", pod.InitContainers)
	}
	c := pod.Containers[0]
	env := envMap(c)
	for k, v := range map[string]string{
		"node.store.allow_mmap":                    "false",
		"xpack.security.enabled":                   "true",
		"xpack.security.transport.ssl.enabled":     "true",
		"ELASTIC_PASSWORD":                         "secret:shop-elasticsearch-credentials/" + ElasticPasswordKey,
		"ES_JAVA_OPTS":                             "-Xms1024m -Xmx1024m",
		"node.name":                                "field:metadata.name",
		"xpack.security.transport.ssl.certificate": "certs/tls.crt",
	} {
		if env[k] != v {
			t.Errorf("env %s = %q, want %q", k, env[k], v)
		}
	}
	if *c.SecurityContext.AllowPrivilegeEscalation || c.SecurityContext.Privileged != nil {
		t.Errorf("container security = %+v", c.SecurityContext)
	}
}

func TestElasticsearchHeap_FollowsResources(t *testing.T) {
	tests := []struct {
		name string
		r    corev1.ResourceRequirements
		want string
	}{
		{"limit", corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("4Gi")}}, "-Xms2048m -Xmx2048m"},
		{"request only", corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("3Gi")}}, "-Xms1536m -Xmx1536m"},
		{"tiny", corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")}}, "-Xms256m -Xmx256m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := elasticsearchHeapOpts(tt.r); got != tt.want {
				t.Errorf("heap = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoggingBuilders_UpdateAppliedTwiceChangesNothing(t *testing.T) {
	s := loggingShop(t, func(s *shopv1.LittleEcomSpec) { s.Logging.Elasticsearch.Replicas = ptr.To[int32](3) })
	s.ConfigHashes[ComponentElasticsearch] = "abc"
	s.ConfigHashes[ComponentFluentd] = "def"
	for name, b := range map[string]Builder{
		"elasticsearch statefulset":   s.ElasticsearchStatefulSet(),
		"elasticsearch service":       s.ElasticsearchService(),
		"elasticsearch headless":      s.ElasticsearchHeadlessService(),
		"elasticsearch credentials":   s.ElasticsearchCredentials(),
		"transport certificate":       s.ElasticsearchTransportCert(),
		"kibana deployment":           s.KibanaDeployment(),
		"kibana service":              s.KibanaServiceBuilder(),
		"fluentd configmap":           s.FluentdConfigMap(FluentdAccess{}),
		"fluentd configmap, cluster":  s.FluentdConfigMap(FluentdAccess{ClusterRole: "x"}),
		"fluentd role":                s.FluentdRole(FluentdAccess{}),
		"fluentd rolebinding":         s.FluentdRoleBinding(FluentdAccess{}),
		"fluentd daemonset":           s.FluentdDaemonSet(),
		"fluentd serviceaccount":      s.FluentdServiceAccount(),
		"fluentd clusterrolebinding":  s.FluentdClusterRoleBinding(FluentdAccess{ClusterRole: "x"}),
		"default deny":                s.DefaultDenyNetworkPolicy(),
		"mongodb networkpolicy":       s.MongoDBNetworkPolicy(OperatorPeer{Namespace: "op"}),
		"backend networkpolicy":       s.ServiceNetworkPolicy(ComponentBackend),
		"kibana networkpolicy":        s.KibanaNetworkPolicy(),
		"rabbitmq networkpolicy":      s.RabbitMQNetworkPolicy(),
		"elasticsearch networkpolicy": s.ElasticsearchNetworkPolicy(),
		"mongodb pdb":                 s.MongoDBPodDisruptionBudget(),
		"backend pdb":                 s.ServicePodDisruptionBudget(ComponentBackend),
	} {
		t.Run(name, func(t *testing.T) { assertUpdateIsIdempotent(t, b) })
	}
}

func TestLoggingBuilders_DisabledWithTheSpec(t *testing.T) {
	s := newTestShop(t, nil)
	for _, b := range []Builder{
		s.ElasticsearchStatefulSet(), s.ElasticsearchService(), s.ElasticsearchHeadlessService(),
		s.ElasticsearchCredentials(), s.ElasticsearchTransportCert(), s.KibanaDeployment(), s.KibanaServiceBuilder(),
		s.FluentdConfigMap(FluentdAccess{}), s.FluentdDaemonSet(), s.FluentdServiceAccount(), s.ElasticsearchNetworkPolicy(),
		s.KibanaNetworkPolicy(), s.FluentdRole(FluentdAccess{}), s.FluentdRoleBinding(FluentdAccess{}),
	} {
		if o, ok := b.(Optional); !ok || o.Enabled() {
			t.Errorf("%T is not a disabled Optional while logging is off", b.Build())
		}
	}
	if !s.ElasticsearchCredentialsKept() {
		t.Error("credentials must be kept while volumes are retained (the default)")
	}
}

func TestElasticsearchTransportCert_GeneratedOnce(t *testing.T) {
	s := loggingShop(t, nil)
	b := s.ElasticsearchTransportCert()
	secret := buildOnce(t, b).(*corev1.Secret)
	cert := string(secret.Data[TransportCertKey])
	if !strings.Contains(cert, "BEGIN CERTIFICATE") || !strings.Contains(string(secret.Data[TransportKeyKey]), "PRIVATE KEY") {
		t.Fatalf("secret data = %v", secret.Data)
	}
	if err := b.Update(secret); err != nil || string(secret.Data[TransportCertKey]) != cert {
		t.Error("a second Update regenerated the certificate")
	}
}
