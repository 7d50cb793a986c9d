package resource

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	shopv1 "littleecom.io/littleecom/api/v1"
)

func TestKibanaDeployment_Content(t *testing.T) {
	s := loggingShop(t, func(s *shopv1.LittleEcomSpec) {
		s.Ingress.Host = "shop.example.com"
		s.Ingress.TLSSecretName = "tls"
		s.Logging.Kibana.Expose = true
	})
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

func TestKibana_NotOnTheEdgeUnlessExposed(t *testing.T) {
	edgeHasKibana := func(s *Shop) bool {
		for _, r := range s.EdgeRoutes() {
			if r.Path == KibanaPath {
				return true
			}
		}
		return false
	}
	tests := []struct {
		name             string
		logging, expose  bool
		wantRoute        bool
		wantPublicURLSet bool
	}{
		{"logging on, not exposed (the default)", true, false, false, false},
		{"logging on, exposed", true, true, true, true},
		{"logging off, expose set", false, true, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestShop(t, func(s *shopv1.LittleEcomSpec) {
				s.Logging.Enabled, s.Logging.Kibana.Expose = tt.logging, tt.expose
				s.Ingress.Host, s.Ingress.TLSSecretName = "shop.example.com", "tls"
			})
			if got := edgeHasKibana(s); got != tt.wantRoute {
				t.Errorf("edge routes /kibana: %v, want %v", got, tt.wantRoute)
			}
			if got := s.kibanaPublicURL() != ""; got != tt.wantPublicURLSet {
				t.Errorf("public URL %q, want set %v", s.kibanaPublicURL(), tt.wantPublicURLSet)
			}
		})
	}
}

func TestLoggingImages_DefaultsAndFormerDefaults(t *testing.T) {
	tests := []struct {
		name                string
		es, kibana, fluentd shopv1.Image
		wantES, wantKibana  string
		wantFluentd         string
	}{
		{"unset follows the operator", "", "", "", DefaultElasticsearchImage, DefaultKibanaImage, DefaultFluentdImage},
		{"the former CRD defaults count as unset", "elasticsearch:8.15.3", "kibana:8.15.3", DefaultFluentdImage,
			DefaultElasticsearchImage, DefaultKibanaImage, DefaultFluentdImage},
		{"a pinned image wins", "registry.local/es:8.19.20", "registry.local/kibana:8.19.20", "registry.local/fluentd:1",
			"registry.local/es:8.19.20", "registry.local/kibana:8.19.20", "registry.local/fluentd:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := loggingShop(t, func(s *shopv1.LittleEcomSpec) {
				s.Logging.Elasticsearch.Image, s.Logging.Kibana.Image, s.Logging.Fluentd.Image = tt.es, tt.kibana, tt.fluentd
			})
			sts := buildOnce(t, s.ElasticsearchStatefulSet()).(*appsv1.StatefulSet)
			dep := buildOnce(t, s.KibanaDeployment()).(*appsv1.Deployment)
			ds := buildOnce(t, s.FluentdDaemonSet()).(*appsv1.DaemonSet)
			if got := sts.Spec.Template.Spec.Containers[0].Image; got != tt.wantES {
				t.Errorf("elasticsearch image %s, want %s", got, tt.wantES)
			}
			if got := dep.Spec.Template.Spec.InitContainers[0].Image; got != tt.wantES {
				t.Errorf("kibana's user set-up runs %s, want Elasticsearch's %s", got, tt.wantES)
			}
			if got := dep.Spec.Template.Spec.Containers[0].Image; got != tt.wantKibana {
				t.Errorf("kibana image %s, want %s", got, tt.wantKibana)
			}
			if got := ds.Spec.Template.Spec.Containers[0].Image; got != tt.wantFluentd {
				t.Errorf("fluentd image %s, want %s", got, tt.wantFluentd)
			}
		})
	}
}
