package resource

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	shopv1 "littleecom.io/littleecom/api/v1"
)

func TestKibanaDeployment_Content(t *testing.T) {
	s := loggingShop(t, func(s *shopv1.LittleEcomSpec) { s.Ingress.Host = "shop.example.com"; s.Ingress.TLSSecretName = "tls" })
	dep := buildOnce(t, s.KibanaDeployment()).(*appsv1.Deployment)
	assertOwned(t, dep, "shop-kibana", ComponentKibana)
	c := dep.Spec.Template.Spec.Containers[0]
	env := envMap(c)
	for k, v := range map[string]string{
		"SERVER_BASEPATH":        "/kibana",
		"SERVER_REWRITEBASEPATH": "true",
		"SERVER_PUBLICBASEURL":   "https://shop.example.com/kibana",
		"ELASTICSEARCH_HOSTS":    "http://shop-elasticsearch.ns.svc.cluster.local:9200",
		"ELASTICSEARCH_USERNAME": "kibana_system",
		"ELASTICSEARCH_PASSWORD": "secret:shop-elasticsearch-credentials/" + KibanaPasswordKey,
	} {
		if env[k] != v {
			t.Errorf("env %s = %q, want %q", k, env[k], v)
		}
	}
	if c.ReadinessProbe.HTTPGet.Path != "/kibana/login" {
		t.Errorf("readiness path = %s, want it under the base path", c.ReadinessProbe.HTTPGet.Path)
	}
	init := dep.Spec.Template.Spec.InitContainers[0]
	script := strings.Join(init.Command, " ")
	for _, want := range []string{"_security/user/kibana_system/_password", "_security/user/" + FluentdESUser, "_security/role/" + FluentdESRole, LogIndexPrefix + "-*"} {
		if !strings.Contains(script, want) {
			t.Errorf("users script lacks %q", want)
		}
	}
	if envMap(init)["ELASTIC_PASSWORD"] != "secret:shop-elasticsearch-credentials/"+ElasticPasswordKey {
		t.Errorf("init env = %v", init.Env)
	}
	svc := buildOnce(t, s.KibanaServiceBuilder()).(*corev1.Service)
	if name, port := s.KibanaService(); svc.Name != name || svc.Spec.Ports[0].Port != port || port != 5601 {
		t.Errorf("Kibana Service %s:%d, KibanaService() says %s:%d", svc.Name, svc.Spec.Ports[0].Port, name, port)
	}
}

func TestKibanaDeployment_NoPublicURLWithoutHost(t *testing.T) {
	s := loggingShop(t, nil)
	dep := buildOnce(t, s.KibanaDeployment()).(*appsv1.Deployment)
	if _, ok := envMap(dep.Spec.Template.Spec.Containers[0])["SERVER_PUBLICBASEURL"]; ok {
		t.Error("SERVER_PUBLICBASEURL set without an Ingress host")
	}
}
