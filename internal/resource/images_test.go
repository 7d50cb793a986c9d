package resource

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	shopv1 "littleecom.io/littleecom/api/v1"
)

func TestShopImage_SpecWinsElseOperatorDefault(t *testing.T) {
	moved := Images{MongoDB: "mongo:8.0", RabbitMQ: "rabbitmq:4.1-management", Backend: "littleecom/backend:0.2.0",
		Auth: "littleecom/auth:0.2.0", Notifier: "littleecom/notifier:0.2.0"}
	cases := []struct {
		name      string
		spec      func(*shopv1.LittleEcomSpec)
		component string
		want      string
		pinned    bool
	}{
		{"unset follows the default", nil, ComponentMongoDB, "mongo:8.0", false},
		{"unset backend follows the default", nil, ComponentBackend, "littleecom/backend:0.2.0", false},
		{"spec pins", func(s *shopv1.LittleEcomSpec) { s.MongoDB.Image = "mongo:7.0.14" }, ComponentMongoDB, "mongo:7.0.14", true},
		{"an old CRD default stored in the spec counts as unset",
			func(s *shopv1.LittleEcomSpec) { s.RabbitMQ.Image = "rabbitmq:3.13-management" }, ComponentRabbitMQ, "rabbitmq:4.1-management", false},
		{"the old default spelt otherwise is a pin",
			func(s *shopv1.LittleEcomSpec) { s.RabbitMQ.Image = "library/rabbitmq:3.13-management" },
			ComponentRabbitMQ, "library/rabbitmq:3.13-management", true},
		{"old service default stored counts as unset",
			func(s *shopv1.LittleEcomSpec) { s.Notifier.Image = "littleecom/notifier:0.1.0" }, ComponentNotifier, "littleecom/notifier:0.2.0", false},
		{"an old default of another component is a pin",
			func(s *shopv1.LittleEcomSpec) { s.Auth.Image = "littleecom/backend:0.1.0" }, ComponentAuth, "littleecom/backend:0.1.0", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestShop(t, tc.spec)
			s.Images = moved
			if got := s.Image(tc.component); got != tc.want {
				t.Errorf("Image(%s) = %q, want %q", tc.component, got, tc.want)
			}
			if got := s.PinnedImage(tc.component) != ""; got != tc.pinned {
				t.Errorf("pinned = %v, want %v", got, tc.pinned)
			}
		})
	}
}

func TestShopImage_ZeroImagesMeansCompiledDefaults(t *testing.T) {
	s := newTestShop(t, nil)
	for _, c := range ImageComponents {
		if got, want := s.Image(c), DefaultImages().of(c); got != want || got == "" {
			t.Errorf("Image(%s) = %q, want the compiled default %q", c, got, want)
		}
	}
	if got := s.Image(ComponentBackend); got != "littleecom/backend:"+OperatorVersion {
		t.Errorf("the services' default follows the operator's version, got %q", got)
	}
}

func TestImages_Validate(t *testing.T) {
	digest := "@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	ok := []string{"mongo:7.0", "mongo" + digest, "mongo:7.0" + digest, "registry.example:5000/team/mongo:7.0.14", "mongo"}
	bad := []string{"", "mongo 7.0", "Mongo:7.0", "mongo:7.0@sha256:short", "mongo::7"}
	for _, ref := range ok {
		i := DefaultImages()
		i.MongoDB = ref
		if err := i.Validate(); err != nil {
			t.Errorf("%q: %v", ref, err)
		}
	}
	for _, ref := range bad {
		i := DefaultImages()
		i.Auth = ref
		if err := i.Validate(); err == nil {
			t.Errorf("%q accepted", ref)
		}
	}
}

func TestWorkloads_UseTheResolvedImages(t *testing.T) {
	s := newTestShop(t, func(spec *shopv1.LittleEcomSpec) { spec.Auth.Image = "example/auth:pinned" })
	s.Images = Images{MongoDB: "mongo:8.0", RabbitMQ: "rabbitmq:4.1-management", Backend: "b:1", Auth: "a:1", Notifier: "n:1"}
	mongo := s.MongoDBStatefulSet()
	sts := mongo.Build().(*appsv1.StatefulSet)
	if err := mongo.Update(sts); err != nil {
		t.Fatal(err)
	}
	for _, c := range append(sts.Spec.Template.Spec.InitContainers, sts.Spec.Template.Spec.Containers...) {
		if c.Image != "mongo:8.0" {
			t.Errorf("MongoDB container %s runs %q", c.Name, c.Image)
		}
	}
	if sts.Spec.UpdateStrategy.Type != appsv1.OnDeleteStatefulSetStrategyType {
		t.Errorf("MongoDB members must restart only when the operator says (OnDelete), got %q", sts.Spec.UpdateStrategy.Type)
	}
	rabbit := s.RabbitMQStatefulSet()
	rsts := rabbit.Build().(*appsv1.StatefulSet)
	if err := rabbit.Update(rsts); err != nil {
		t.Fatal(err)
	}
	if got := rsts.Spec.Template.Spec.Containers[0].Image; got != "rabbitmq:4.1-management" {
		t.Errorf("RabbitMQ runs %q", got)
	}
	for component, want := range map[string]string{ComponentBackend: "b:1", ComponentAuth: "example/auth:pinned", ComponentNotifier: "n:1"} {
		b := s.ServiceDeployment(component)
		d := b.Build().(*appsv1.Deployment)
		if err := b.Update(d); err != nil {
			t.Fatal(err)
		}
		if got := d.Spec.Template.Spec.Containers[0].Image; got != want {
			t.Errorf("%s runs %q, want %q", component, got, want)
		}
	}
}
