package resource

import (
	"encoding/json"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	shopv1 "littleecom.io/littleecom/api/v1"
)

func rmqStatefulSet(t *testing.T, s *Shop) *appsv1.StatefulSet {
	t.Helper()
	return buildOnce(t, s.RabbitMQStatefulSet()).(*appsv1.StatefulSet)
}

func rmqEnv(c corev1.Container) map[string]corev1.EnvVar {
	out := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		out[e.Name] = e
	}
	return out
}

func rmqMounts(c corev1.Container) map[string]corev1.VolumeMount {
	out := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		out[m.MountPath] = m
	}
	return out
}

func TestRabbitMQStatefulSet_Defaults(t *testing.T) {
	sts := rmqStatefulSet(t, newTestShop(t, nil))
	assertOwned(t, sts, "shop-rabbitmq", ComponentRabbitMQ)

	if *sts.Spec.Replicas != 1 || sts.Spec.ServiceName != "shop-rabbitmq-headless" ||
		sts.Spec.PodManagementPolicy != appsv1.ParallelPodManagement {
		t.Errorf("replicas %d, serviceName %q, podManagementPolicy %q", *sts.Spec.Replicas, sts.Spec.ServiceName, sts.Spec.PodManagementPolicy)
	}
	if want := SelectorLabels("shop", ComponentRabbitMQ); !equality.Semantic.DeepEqual(sts.Spec.Selector.MatchLabels, want) {
		t.Errorf("selector = %v, want %v", sts.Spec.Selector.MatchLabels, want)
	}
	if want := Labels("shop", ComponentRabbitMQ); !equality.Semantic.DeepEqual(sts.Spec.Template.Labels, want) {
		t.Errorf("pod labels = %v, want %v", sts.Spec.Template.Labels, want)
	}
	if len(sts.Spec.VolumeClaimTemplates) != 1 {
		t.Fatalf("volume claim templates = %+v", sts.Spec.VolumeClaimTemplates)
	}
	claim := sts.Spec.VolumeClaimTemplates[0]
	if size := claim.Spec.Resources.Requests[corev1.ResourceStorage]; claim.Name != "data" || size.String() != "2Gi" {
		t.Errorf("claim %q of %s, want data of 2Gi", claim.Name, size.String())
	}
	if p := sts.Spec.PersistentVolumeClaimRetentionPolicy; p.WhenDeleted != appsv1.RetainPersistentVolumeClaimRetentionPolicyType {
		t.Errorf("retention = %+v, want Retain", p)
	}

	pod := sts.Spec.Template.Spec
	if sc := pod.SecurityContext; *sc.RunAsUser != 999 || *sc.FSGroup != 999 || !*sc.RunAsNonRoot {
		t.Errorf("pod security = %+v, want uid/fsGroup 999, non-root", sc)
	}
	if *pod.TerminationGracePeriodSeconds < 60 {
		t.Errorf("terminationGracePeriodSeconds = %d, too short for a clean stop", *pod.TerminationGracePeriodSeconds)
	}
	if *pod.AutomountServiceAccountToken || pod.Affinity == nil || pod.Affinity.PodAntiAffinity == nil {
		t.Error("want no service-account token and anti-affinity across nodes")
	}
	if len(pod.Containers) != 1 || len(pod.InitContainers) != 1 {
		t.Fatalf("%d containers, %d init containers", len(pod.Containers), len(pod.InitContainers))
	}
	c := pod.Containers[0]
	if c.Image != "rabbitmq:3.13-management" {
		t.Errorf("image = %q", c.Image)
	}
	for _, ctr := range []corev1.Container{c, pod.InitContainers[0]} {
		sc := ctr.SecurityContext
		if !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation || !*sc.RunAsNonRoot {
			t.Errorf("%s security = %+v, want read-only root, no escalation, non-root", ctr.Name, sc)
		}
	}
	env := rmqEnv(c)
	if env["RABBITMQ_USE_LONGNAME"].Value != "true" ||
		env["RABBITMQ_NODENAME"].Value != "rabbit@$(POD_NAME).shop-rabbitmq-headless.ns.svc.cluster.local" ||
		env["POD_NAME"].ValueFrom == nil || env["POD_NAME"].ValueFrom.FieldRef.FieldPath != "metadata.name" {
		t.Errorf("env = %+v", c.Env)
	}
	if _, ok := env["RABBITMQ_ERLANG_COOKIE"]; ok {
		t.Error("the cookie is in the environment; the init container writes it")
	}
	// POD_NAME must come before the variable that expands it.
	if c.Env[0].Name != "POD_NAME" {
		t.Errorf("first env var = %s, want POD_NAME", c.Env[0].Name)
	}

	mounts := rmqMounts(c)
	for path, want := range map[string]struct {
		volume   string
		readOnly bool
	}{
		"/var/lib/rabbitmq":        {"home", false},
		"/var/lib/rabbitmq/mnesia": {"data", false},
		"/etc/rabbitmq":            {"config", true},
		"/var/log/rabbitmq":        {"log", false},
		"/tmp":                     {"tmp", false},
	} {
		if m := mounts[path]; m.Name != want.volume || m.ReadOnly != want.readOnly {
			t.Errorf("mount %s = %+v, want volume %s read-only=%v", path, m, want.volume, want.readOnly)
		}
	}
	if len(mounts) != 5 {
		t.Errorf("mounts = %+v", c.VolumeMounts)
	}

	initc := pod.InitContainers[0]
	if got := strings.Join(initc.Command, " "); got != "install -m 0400 /etc/rabbitmq-cookie-secret/cookie /var/lib/rabbitmq/.erlang.cookie" {
		t.Errorf("init command = %q", got)
	}
	if m := rmqMounts(initc); m["/var/lib/rabbitmq"].Name != "home" || m["/etc/rabbitmq-cookie-secret"].Name != "erlang-cookie-secret" {
		t.Errorf("init mounts = %+v", initc.VolumeMounts)
	}

	volumes := map[string]corev1.VolumeSource{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v.VolumeSource
	}
	if v := volumes["erlang-cookie-secret"].Secret; v == nil || v.SecretName != "shop-rabbitmq-erlang-cookie" || *v.DefaultMode != 0o400 {
		t.Errorf("cookie volume = %+v", v)
	}
	proj := volumes["config"].Projected
	if proj == nil || len(proj.Sources) != 2 {
		t.Fatalf("config volume = %+v, want ConfigMap + definitions Secret projected", volumes["config"])
	}
	if cm := proj.Sources[0].ConfigMap; cm == nil || cm.Name != "shop-rabbitmq-config" ||
		!equality.Semantic.DeepEqual(cm.Items, []corev1.KeyToPath{{Key: "rabbitmq.conf", Path: "rabbitmq.conf"}, {Key: "enabled_plugins", Path: "enabled_plugins"}}) {
		t.Errorf("config projection = %+v", cm)
	}
	// load_definitions in rabbitmq.conf names /etc/rabbitmq/definitions/definitions.json.
	if sec := proj.Sources[1].Secret; sec == nil || sec.Name != "shop-rabbitmq-definitions" ||
		!equality.Semantic.DeepEqual(sec.Items, []corev1.KeyToPath{{Key: "definitions.json", Path: "definitions/definitions.json"}}) {
		t.Errorf("definitions projection = %+v", sec)
	}
	for _, name := range []string{"home", "log", "tmp"} {
		if volumes[name].EmptyDir == nil {
			t.Errorf("volume %s = %+v, want an emptyDir", name, volumes[name])
		}
	}

	if p := c.ReadinessProbe; p == nil || strings.Join(p.Exec.Command, " ") != "rabbitmq-diagnostics -q check_port_connectivity" || p.TimeoutSeconds < 5 {
		t.Errorf("readiness = %+v", p)
	}
	if p := c.LivenessProbe; p == nil || strings.Join(p.Exec.Command, " ") != "rabbitmq-diagnostics -q status" ||
		p.TimeoutSeconds < 10 || p.InitialDelaySeconds < 60 {
		t.Errorf("liveness = %+v", p)
	}
	if got := c.Resources.Limits[corev1.ResourceMemory]; got.String() != "1Gi" {
		t.Errorf("default memory limit = %s", got.String())
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if want := map[string]int32{"amqp": 5672, "management": 15672, "prometheus": 15692, "epmd": 4369, "cluster-links": 25672}; !equality.Semantic.DeepEqual(ports, want) {
		t.Errorf("ports = %v, want %v", ports, want)
	}
}

func TestRabbitMQStatefulSet_SpecChanges(t *testing.T) {
	limits := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("2Gi")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("2Gi")},
	}
	tests := []struct {
		name   string
		mutate func(*shopv1.LittleEcomSpec)
		check  func(t *testing.T, sts *appsv1.StatefulSet)
	}{
		{"replicas", func(s *shopv1.LittleEcomSpec) { s.RabbitMQ.Replicas = ptr.To[int32](3) },
			func(t *testing.T, sts *appsv1.StatefulSet) {
				if *sts.Spec.Replicas != 3 {
					t.Errorf("replicas = %d", *sts.Spec.Replicas)
				}
			}},
		{"zero replicas", func(s *shopv1.LittleEcomSpec) { s.RabbitMQ.Replicas = ptr.To[int32](0) },
			func(t *testing.T, sts *appsv1.StatefulSet) {
				if *sts.Spec.Replicas != 0 {
					t.Errorf("replicas = %d", *sts.Spec.Replicas)
				}
			}},
		{"image", func(s *shopv1.LittleEcomSpec) { s.RabbitMQ.Image = "rabbitmq:4.0-management" },
			func(t *testing.T, sts *appsv1.StatefulSet) {
				pod := sts.Spec.Template.Spec
				if pod.Containers[0].Image != "rabbitmq:4.0-management" || pod.InitContainers[0].Image != "rabbitmq:4.0-management" {
					t.Errorf("images = %s, %s", pod.Containers[0].Image, pod.InitContainers[0].Image)
				}
			}},
		{"resources", func(s *shopv1.LittleEcomSpec) { s.RabbitMQ.Resources = limits },
			func(t *testing.T, sts *appsv1.StatefulSet) {
				if got := sts.Spec.Template.Spec.Containers[0].Resources; !equality.Semantic.DeepEqual(got, limits) {
					t.Errorf("resources = %+v", got)
				}
			}},
		{"storage", func(s *shopv1.LittleEcomSpec) {
			s.RabbitMQ.Storage = shopv1.StorageSpec{Size: "5Gi", StorageClassName: new("fast"), RetentionPolicy: shopv1.RetentionDelete}
		}, func(t *testing.T, sts *appsv1.StatefulSet) {
			claim := sts.Spec.VolumeClaimTemplates[0].Spec
			if size := claim.Resources.Requests[corev1.ResourceStorage]; size.String() != "5Gi" || *claim.StorageClassName != "fast" {
				t.Errorf("claim = %+v", claim)
			}
			if sts.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled != appsv1.DeletePersistentVolumeClaimRetentionPolicyType {
				t.Errorf("retention = %+v", sts.Spec.PersistentVolumeClaimRetentionPolicy)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, rmqStatefulSet(t, newTestShop(t, tt.mutate))) })
	}
}

func TestRabbitMQStatefulSet_ConfigHashRollsPods(t *testing.T) {
	s := newTestShop(t, nil)
	b := s.RabbitMQStatefulSet()
	sts := buildOnce(t, b).(*appsv1.StatefulSet)
	if _, ok := sts.Spec.Template.Annotations[ConfigHashAnnotation]; ok {
		t.Error("config hash annotation without a hash")
	}
	s.ConfigHashes[ComponentRabbitMQ] = "abc"
	sts.Spec.Template.Annotations = map[string]string{"kubectl.kubernetes.io/restartedAt": "now"}
	if err := b.Update(sts); err != nil {
		t.Fatal(err)
	}
	if got := sts.Spec.Template.Annotations; got[ConfigHashAnnotation] != "abc" || got["kubectl.kubernetes.io/restartedAt"] != "now" {
		t.Errorf("annotations = %v", got)
	}
}

func TestRabbitMQStatefulSet_KeepsImmutableFieldsOfACreatedSet(t *testing.T) {
	s := newTestShop(t, func(s *shopv1.LittleEcomSpec) { s.RabbitMQ.Storage.Size = "9Gi" })
	stored := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{
		Name: "shop-rabbitmq", Namespace: "ns", CreationTimestamp: metav1.Now(),
	}}
	stored.Spec.ServiceName = "old"
	stored.Spec.PodManagementPolicy = appsv1.OrderedReadyPodManagement
	if err := s.RabbitMQStatefulSet().Update(stored); err != nil {
		t.Fatal(err)
	}
	if stored.Spec.ServiceName != "old" || stored.Spec.PodManagementPolicy != appsv1.OrderedReadyPodManagement ||
		stored.Spec.VolumeClaimTemplates != nil || stored.Spec.Selector != nil {
		t.Errorf("Update changed immutable fields of a created StatefulSet: %+v", stored.Spec)
	}
}

func TestRabbitMQStatefulSet_UpdateIsIdempotent(t *testing.T) {
	for _, mutate := range []func(*shopv1.LittleEcomSpec){nil, func(s *shopv1.LittleEcomSpec) {
		s.RabbitMQ.Replicas = ptr.To[int32](3)
		s.RabbitMQ.Image = "rabbitmq:3.13.7-management"
	}} {
		s := newTestShop(t, mutate)
		s.ConfigHashes[ComponentRabbitMQ] = "h1"
		assertUpdateIsIdempotent(t, s.RabbitMQStatefulSet())
	}
}

func TestRabbitMQStatefulSet_HoldsNoSecretValue(t *testing.T) {
	s := newTestShop(t, nil)
	raw, err := json.Marshal(rmqStatefulSet(t, s))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []Credentials{rmqTestUsers().Admin, rmqTestUsers().Backend, rmqTestUsers().Notifier} {
		if strings.Contains(string(raw), c.Password) {
			t.Errorf("StatefulSet contains %s's password", c.Username)
		}
	}
	if strings.Contains(string(raw), "RABBITMQ_DEFAULT_PASS") {
		t.Error("StatefulSet passes a password through the environment")
	}
}
