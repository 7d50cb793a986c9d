package resource

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/contract"
)

func svcDeployment(t *testing.T, s *Shop, component string) *appsv1.Deployment {
	t.Helper()
	return buildOnce(t, s.ServiceDeployment(component)).(*appsv1.Deployment)
}

// secretRef is where one env variable comes from.
type secretRef struct{ secret, key string }

func TestServiceDeployment_Defaults(t *testing.T) {
	mongo := func(c string) []secretRef {
		return []secretRef{{"shop-mongodb-" + c, contract.SecretKeyUsername}, {"shop-mongodb-" + c, contract.SecretKeyPassword}}
	}
	amqp := func(c string) []secretRef {
		return []secretRef{{"shop-rabbitmq-" + c, contract.SecretKeyUsername}, {"shop-rabbitmq-" + c, contract.SecretKeyPassword}}
	}
	tests := []struct {
		component string
		replicas  int32
		envNames  []string
		envRefs   []secretRef
		grace     int64
	}{
		{ComponentBackend, 2,
			[]string{contract.EnvMongoUsername, contract.EnvMongoPassword, contract.EnvAMQPUsername, contract.EnvAMQPPassword},
			append(mongo("backend"), amqp("backend")...), 40},
		{ComponentAuth, 2,
			[]string{contract.EnvMongoUsername, contract.EnvMongoPassword, contract.EnvAuthSigningKey},
			append(mongo("auth"), secretRef{"shop-auth-signing-key", contract.SecretKeySigningKey}), 40},
		{ComponentNotifier, 1,
			[]string{contract.EnvMongoUsername, contract.EnvMongoPassword, contract.EnvAMQPUsername, contract.EnvAMQPPassword},
			append(mongo("notifier"), amqp("notifier")...), 60},
	}
	for _, tt := range tests {
		t.Run(tt.component, func(t *testing.T) {
			s := newTestShop(t, nil)
			s.ConfigHashes[tt.component] = "abc123"
			dep := svcDeployment(t, s, tt.component)
			name := "shop-" + tt.component
			assertOwned(t, dep, name, tt.component)

			if got := ptr.Deref(dep.Spec.Replicas, -1); got != tt.replicas {
				t.Errorf("replicas = %d, want %d", got, tt.replicas)
			}
			if dep.Spec.Selector == nil || !equality.Semantic.DeepEqual(dep.Spec.Selector.MatchLabels, SelectorLabels("shop", tt.component)) {
				t.Errorf("selector = %v", dep.Spec.Selector)
			}
			tmpl := dep.Spec.Template
			if !equality.Semantic.DeepEqual(tmpl.Labels, Labels("shop", tt.component)) {
				t.Errorf("pod labels = %v", tmpl.Labels)
			}
			if tmpl.Annotations[ConfigHashAnnotation] != "abc123" {
				t.Errorf("pod annotations = %v, want the config hash", tmpl.Annotations)
			}
			// The API server's defaults are left alone (strategy, history, deadline).
			if dep.Spec.Strategy.Type != "" || dep.Spec.RevisionHistoryLimit != nil || dep.Spec.ProgressDeadlineSeconds != nil {
				t.Errorf("builder set API-defaulted fields: %+v", dep.Spec)
			}

			pod := tmpl.Spec
			if pod.ServiceAccountName != "shop" || ptr.Deref(pod.AutomountServiceAccountToken, true) {
				t.Errorf("service account %q automount %v", pod.ServiceAccountName, pod.AutomountServiceAccountToken)
			}
			if ptr.Deref(pod.TerminationGracePeriodSeconds, 0) != tt.grace {
				t.Errorf("terminationGracePeriodSeconds = %v, want %d", pod.TerminationGracePeriodSeconds, tt.grace)
			}
			if pod.Affinity == nil || pod.Affinity.PodAntiAffinity == nil {
				t.Error("pods are not spread across nodes")
			}
			psc := pod.SecurityContext
			if psc == nil || ptr.Deref(psc.RunAsUser, 0) != 65532 || !ptr.Deref(psc.RunAsNonRoot, false) ||
				psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("pod security context = %+v", psc)
			}
			if len(pod.Containers) != 1 || len(pod.InitContainers) != 0 {
				t.Fatalf("want one container, got %d (+%d init)", len(pod.Containers), len(pod.InitContainers))
			}
			c := pod.Containers[0]
			if c.Name != tt.component || c.Image != "littleecom/"+tt.component+":0.1.0" {
				t.Errorf("container %q image %q", c.Name, c.Image)
			}
			csc := c.SecurityContext
			if csc == nil || !ptr.Deref(csc.ReadOnlyRootFilesystem, false) || ptr.Deref(csc.AllowPrivilegeEscalation, true) ||
				!ptr.Deref(csc.RunAsNonRoot, false) || csc.Capabilities == nil ||
				!equality.Semantic.DeepEqual(csc.Capabilities.Drop, []corev1.Capability{"ALL"}) || csc.Privileged != nil {
				t.Errorf("container security context = %+v", csc)
			}
			if len(c.Command) != 0 {
				t.Error("the static images have no shell: no command")
			}
			// API pods keep serving while the proxies in front of them forget them; the
			// kubelet's sleep action needs no shell in the image.
			wantLifecycle := (*corev1.Lifecycle)(nil)
			if tt.component != ComponentNotifier {
				wantLifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: drainSeconds}}}
			}
			if !equality.Semantic.DeepEqual(c.Lifecycle, wantLifecycle) {
				t.Errorf("lifecycle = %+v, want %+v", c.Lifecycle, wantLifecycle)
			}
			if tt.component != ComponentNotifier && ptr.Deref(pod.TerminationGracePeriodSeconds, 0) < drainSeconds+20 {
				t.Errorf("grace period %d leaves no room for the drain delay and the 20 s shutdown", *pod.TerminationGracePeriodSeconds)
			}
			// Health and metrics have a port of their own; the notifier serves no API.
			wantPorts := []corev1.ContainerPort{{Name: "management", ContainerPort: contract.ManagementPort, Protocol: corev1.ProtocolTCP}}
			if tt.component != ComponentNotifier {
				wantPorts = append([]corev1.ContainerPort{{Name: "http", ContainerPort: contract.HTTPPort, Protocol: corev1.ProtocolTCP}}, wantPorts...)
			}
			if !equality.Semantic.DeepEqual(c.Ports, wantPorts) {
				t.Errorf("ports = %+v", c.Ports)
			}
			if len(c.EnvFrom) != 1 || c.EnvFrom[0].ConfigMapRef == nil || c.EnvFrom[0].ConfigMapRef.Name != name {
				t.Errorf("envFrom = %+v, want ConfigMap %s", c.EnvFrom, name)
			}
			assertSvcSecretEnv(t, c.Env, tt.envNames, tt.envRefs)

			if len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != "/tmp" || len(pod.Volumes) != 1 ||
				pod.Volumes[0].Name != c.VolumeMounts[0].Name || pod.Volumes[0].EmptyDir == nil {
				t.Errorf("want an emptyDir on /tmp, got mounts %+v volumes %+v", c.VolumeMounts, pod.Volumes)
			}
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
				t.Errorf("default resources missing: %+v", c.Resources)
			}
			for _, p := range []struct {
				name  string
				probe *corev1.Probe
				path  string
			}{
				{"startup", c.StartupProbe, contract.PathHealthz},
				{"readiness", c.ReadinessProbe, contract.PathReadyz},
				{"liveness", c.LivenessProbe, contract.PathHealthz},
			} {
				if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path ||
					p.probe.HTTPGet.Port != intstr.FromString("management") || p.probe.HTTPGet.Scheme != corev1.URISchemeHTTP {
					t.Errorf("%s probe = %+v, want HTTP GET %s on port management", p.name, p.probe, p.path)
				}
			}
			// A slow start is the startup probe's business, not a liveness kill.
			if sp := c.StartupProbe; sp != nil && sp.PeriodSeconds*sp.FailureThreshold < 30 {
				t.Errorf("startup probe allows only %ds", sp.PeriodSeconds*sp.FailureThreshold)
			}
		})
	}
}

// assertSvcSecretEnv checks that env holds exactly names, in order, each read from its
// Secret key and none with a literal value (no password in the pod spec).
func assertSvcSecretEnv(t *testing.T, env []corev1.EnvVar, names []string, refs []secretRef) {
	t.Helper()
	if len(env) != len(names) {
		t.Fatalf("env = %+v, want %v", env, names)
	}
	for i, e := range env {
		if e.Name != names[i] {
			t.Errorf("env[%d] = %s, want %s", i, e.Name, names[i])
		}
		if e.Value != "" {
			t.Errorf("%s has a literal value", e.Name)
		}
		if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			t.Errorf("%s is not read from a Secret", e.Name)
			continue
		}
		ref := e.ValueFrom.SecretKeyRef
		if ref.Name != refs[i].secret || ref.Key != refs[i].key || ref.Optional != nil {
			t.Errorf("%s from %s[%s], want %s[%s]", e.Name, ref.Name, ref.Key, refs[i].secret, refs[i].key)
		}
	}
}

func TestServiceDeployment_SMTPCredentialsFromUserSecret(t *testing.T) {
	s := newTestShop(t, func(spec *shopv1.LittleEcomSpec) {
		spec.Notifier.SMTP.CredentialsSecretRef = &shopv1.SecretReference{Name: "my-relay"}
	})
	env := svcDeployment(t, s, ComponentNotifier).Spec.Template.Spec.Containers[0].Env
	assertSvcSecretEnv(t, env,
		[]string{contract.EnvMongoUsername, contract.EnvMongoPassword, contract.EnvAMQPUsername, contract.EnvAMQPPassword,
			contract.EnvSMTPUsername, contract.EnvSMTPPassword},
		[]secretRef{{"shop-mongodb-notifier", "username"}, {"shop-mongodb-notifier", "password"},
			{"shop-rabbitmq-notifier", "username"}, {"shop-rabbitmq-notifier", "password"},
			{"my-relay", "username"}, {"my-relay", "password"}})
	// The referenced Secret is a config input, so rotating it rolls the notifier.
	if in := s.ConfigInputs(ComponentNotifier); !strings.Contains(strings.Join(in.Secrets, ","), "my-relay") {
		t.Errorf("config inputs %v miss the SMTP Secret", in.Secrets)
	}
	// Only the notifier reads it.
	for _, component := range []string{ComponentBackend, ComponentAuth} {
		for _, e := range svcDeployment(t, s, component).Spec.Template.Spec.Containers[0].Env {
			if strings.HasPrefix(e.Name, "SMTP_") {
				t.Errorf("%s reads %s", component, e.Name)
			}
		}
	}
}

// TestServiceDeployment_ReadsOnlyItsConfigInputs: every Secret and ConfigMap the pod reads
// is listed in ConfigInputs, so that a change to any of them rolls the Deployment.
func TestServiceDeployment_ReadsOnlyItsConfigInputs(t *testing.T) {
	s := newTestShop(t, func(spec *shopv1.LittleEcomSpec) {
		spec.Notifier.SMTP.CredentialsSecretRef = &shopv1.SecretReference{Name: "my-relay"}
	})
	for _, component := range svcComponents {
		in := s.ConfigInputs(component)
		c := svcDeployment(t, s, component).Spec.Template.Spec.Containers[0]
		for _, e := range c.Env {
			if !slices.Contains(in.Secrets, e.ValueFrom.SecretKeyRef.Name) {
				t.Errorf("%s reads Secret %s, not in its config inputs %v", component, e.ValueFrom.SecretKeyRef.Name, in.Secrets)
			}
		}
		for _, f := range c.EnvFrom {
			if !slices.Contains(in.ConfigMaps, f.ConfigMapRef.Name) {
				t.Errorf("%s reads ConfigMap %s, not in its config inputs %v", component, f.ConfigMapRef.Name, in.ConfigMaps)
			}
		}
	}
}

func TestServiceDeployment_UpdateIsIdempotent(t *testing.T) {
	for _, component := range svcComponents {
		t.Run(component, func(t *testing.T) {
			s := newTestShop(t, func(spec *shopv1.LittleEcomSpec) {
				spec.Notifier.SMTP.CredentialsSecretRef = &shopv1.SecretReference{Name: "relay"}
			})
			s.ConfigHashes[component] = "h1"
			b := s.ServiceDeployment(component)
			dep := buildOnce(t, b).(*appsv1.Deployment)
			again := dep.DeepCopy()
			if err := b.Update(again); err != nil {
				t.Fatal(err)
			}
			if !equality.Semantic.DeepEqual(dep, again) {
				t.Error("second Update changed the Deployment")
			}
		})
	}
}

// TestServiceDeployment_UpdateOnStoredObject: on an object as the API server returns it,
// Update keeps the selector, the API-defaulted fields and others' annotations, and changes
// nothing else when the shop is unchanged.
func TestServiceDeployment_UpdateOnStoredObject(t *testing.T) {
	s := newTestShop(t, nil)
	b := s.ServiceDeployment(ComponentBackend)
	stored := buildOnce(t, b).(*appsv1.Deployment)
	stored.CreationTimestamp = metav1.Now()
	stored.ResourceVersion = "7"
	stored.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType}
	stored.Spec.RevisionHistoryLimit = ptr.To[int32](10)
	stored.Spec.ProgressDeadlineSeconds = ptr.To[int32](600)
	stored.Spec.Template.Annotations = map[string]string{"kubectl.kubernetes.io/restartedAt": "now"}
	want := stored.DeepCopy()
	if err := b.Update(stored); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(stored, want) {
		t.Errorf("Update changed a stored, unchanged Deployment:\n got %+v\nwant %+v", stored.Spec, want.Spec)
	}
}

func TestServiceDeployment_SpecChangesRollOut(t *testing.T) {
	limits := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("300m"), corev1.ResourceMemory: resource.MustParse("200Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")},
	}
	for _, component := range svcComponents {
		t.Run(component, func(t *testing.T) {
			s := newTestShop(t, nil)
			b := s.ServiceDeployment(component)
			dep := buildOnce(t, b).(*appsv1.Deployment)
			dep.CreationTimestamp = metav1.Now()

			spec := &s.Instance.Spec
			image := shopv1.Image("example/" + component + ":2.0.0")
			switch component {
			case ComponentBackend:
				spec.Backend = shopv1.BackendSpec{Replicas: ptr.To[int32](5), Image: image, Resources: limits}
			case ComponentAuth:
				spec.Auth.Replicas, spec.Auth.Image, spec.Auth.Resources = ptr.To[int32](5), image, limits
			case ComponentNotifier:
				spec.Notifier.Replicas, spec.Notifier.Image, spec.Notifier.Resources = ptr.To[int32](5), image, limits
			}
			s.ConfigHashes[component] = "h2"
			if err := b.Update(dep); err != nil {
				t.Fatal(err)
			}
			c := dep.Spec.Template.Spec.Containers[0]
			if *dep.Spec.Replicas != 5 || c.Image != string(image) || !equality.Semantic.DeepEqual(c.Resources, limits) {
				t.Errorf("replicas %d image %s resources %+v", *dep.Spec.Replicas, c.Image, c.Resources)
			}
			if dep.Spec.Template.Annotations[ConfigHashAnnotation] != "h2" {
				t.Errorf("config hash not rolled: %v", dep.Spec.Template.Annotations)
			}
			// Scale to zero is honoured, not defaulted back.
			switch component {
			case ComponentBackend:
				spec.Backend.Replicas = ptr.To[int32](0)
			case ComponentAuth:
				spec.Auth.Replicas = ptr.To[int32](0)
			case ComponentNotifier:
				spec.Notifier.Replicas = ptr.To[int32](0)
			}
			if err := b.Update(dep); err != nil {
				t.Fatal(err)
			}
			if *dep.Spec.Replicas != 0 {
				t.Errorf("replicas = %d, want 0", *dep.Spec.Replicas)
			}
		})
	}
}
