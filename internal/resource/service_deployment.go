package resource

import (
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"littleecom.io/littleecom/internal/contract"
)

// serviceUID is the nonroot user of the distroless static images the services ship in.
const serviceUID = 65532

// drainSeconds is how long a terminating API pod keeps serving before it gets SIGTERM. The
// endpoints controller and then every ingress controller and kube-proxy learn of the
// termination a moment later; a pod that stops listening at once gets the requests still
// routed to it, and once its address is gone they hang until the proxy's dial timeout (seen
// on the real node: 5 of 6 rollouts of auth cost a request through Traefik an 8 s timeout;
// none with the delay). The kubelet sleeps itself: the images have no shell.
const drainSeconds = 10

// serviceWorkload is what differs between the three shop services' Deployments.
type serviceWorkload struct {
	replicas  *int32
	resources corev1.ResourceRequirements
	// defaults when the spec leaves them empty
	defReplicas                 int32
	defCPU, defMemory, defLimit string
	// gracePeriod covers the drain delay of API pods and the service's bounded shutdown
	// after SIGTERM (20 s for in-flight HTTP requests; for the notifier, finishing the e-mail
	// in flight and acking it) with margin.
	gracePeriod int64
}

// ServiceDeploymentBuilder runs one shop service: backend, auth or notifier.
type ServiceDeploymentBuilder struct {
	shop      *Shop
	component string
}

var _ Builder = (*ServiceDeploymentBuilder)(nil)

// ServiceDeployment returns the builder of Deployment `<n>-<component>`.
func (s *Shop) ServiceDeployment(component string) Builder {
	return &ServiceDeploymentBuilder{shop: s, component: component}
}

// Build implements Builder.
func (b *ServiceDeploymentBuilder) Build() client.Object {
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{
		Name: b.shop.Names.Service(b.component), Namespace: b.shop.Instance.Namespace,
	}}
}

// Update implements Builder. Strategy, revisionHistoryLimit and progressDeadlineSeconds are
// left to the API server's defaults.
func (b *ServiceDeploymentBuilder) Update(obj client.Object) error {
	dep, ok := obj.(*appsv1.Deployment)
	if !ok {
		return typeError("Deployment", obj)
	}
	s := b.shop
	w, err := s.serviceWorkload(b.component)
	if err != nil {
		return err
	}
	if err := s.setOwnerAndLabels(dep, b.component); err != nil {
		return err
	}
	dep.Spec.Replicas = replicasOr(w.replicas, w.defReplicas)
	if dep.CreationTimestamp.IsZero() {
		// Immutable after creation.
		dep.Spec.Selector = &metav1.LabelSelector{MatchLabels: SelectorLabels(s.Instance.Name, b.component)}
	}
	s.podTemplateMeta(&dep.Spec.Template, b.component)
	dep.Spec.Template.Spec = b.podSpec(w)
	return nil
}

func (s *Shop) serviceWorkload(component string) (serviceWorkload, error) {
	spec := s.Instance.Spec
	switch component {
	case ComponentBackend:
		return serviceWorkload{replicas: spec.Backend.Replicas, resources: spec.Backend.Resources,
			defReplicas: 2, defCPU: "50m", defMemory: "64Mi", defLimit: "256Mi", gracePeriod: 40}, nil
	case ComponentAuth:
		// Password hashing makes auth the most CPU-hungry of the three per request.
		return serviceWorkload{replicas: spec.Auth.Replicas, resources: spec.Auth.Resources,
			defReplicas: 2, defCPU: "100m", defMemory: "64Mi", defLimit: "256Mi", gracePeriod: 40}, nil
	case ComponentNotifier:
		return serviceWorkload{replicas: spec.Notifier.Replicas, resources: spec.Notifier.Resources,
			defReplicas: 1, defCPU: "25m", defMemory: "48Mi", defLimit: "128Mi", gracePeriod: 60}, nil
	}
	return serviceWorkload{}, fmt.Errorf("no shop service named %q", component)
}

func (b *ServiceDeploymentBuilder) podSpec(w serviceWorkload) corev1.PodSpec {
	s, component := b.shop, b.component
	// Probes use the management port: the public port serves the API only.
	httpGet := func(path string) corev1.ProbeHandler {
		return corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString(managementPortName)}}
	}
	ports := []corev1.ContainerPort{{Name: managementPortName, ContainerPort: contract.ManagementPort}}
	if servesAPI(component) {
		ports = append([]corev1.ContainerPort{{Name: httpPortName, ContainerPort: contract.HTTPPort}}, ports...)
	}
	pod := corev1.PodSpec{
		ServiceAccountName:           s.Names.ServiceAccount(),
		AutomountServiceAccountToken: new(false),
		// The services find their peers through the ConfigMap, not docker-link variables,
		// which would only add noise (and names that might shadow the contract's).
		EnableServiceLinks:            new(false),
		SecurityContext:               podSecurity(serviceUID),
		Affinity:                      spreadAcrossNodes(s.Instance.Name, component),
		TerminationGracePeriodSeconds: new(w.gracePeriod),
		Containers: []corev1.Container{{
			Name:  component,
			Image: s.Image(component),
			Ports: ports,
			EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: s.Names.Service(component)},
			}}},
			Env:       s.serviceSecretEnv(component),
			Resources: resourcesOr(w.resources, w.defCPU, w.defMemory, w.defLimit),
			// The services answer /healthz as soon as they listen and /readyz only when their
			// backing services (MongoDB, RabbitMQ) answer.
			StartupProbe: &corev1.Probe{
				ProbeHandler: httpGet(contract.PathHealthz), PeriodSeconds: 2, TimeoutSeconds: 2, FailureThreshold: 30,
			},
			ReadinessProbe: &corev1.Probe{
				ProbeHandler: httpGet(contract.PathReadyz), PeriodSeconds: 5, TimeoutSeconds: 2, FailureThreshold: 3,
			},
			LivenessProbe: &corev1.Probe{
				ProbeHandler: httpGet(contract.PathHealthz), PeriodSeconds: 10, TimeoutSeconds: 2, FailureThreshold: 3,
			},
			SecurityContext: restrictedContainerSecurity(true),
			VolumeMounts:    []corev1.VolumeMount{{Name: tmpVolumeName, MountPath: tmpDir}},
		}},
		Volumes: []corev1.Volume{emptyDirVolume(tmpVolumeName)},
	}
	if servesAPI(component) {
		pod.Containers[0].Lifecycle = &corev1.Lifecycle{
			PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: drainSeconds}},
		}
	}
	withAPIDefaults(&pod)
	return pod
}

// serviceSecretEnv is component's credentials, each by secretKeyRef, in a fixed order.
func (s *Shop) serviceSecretEnv(component string) []corev1.EnvVar {
	n := s.Names
	env := []corev1.EnvVar{
		secretEnv(contract.EnvMongoUsername, n.MongoDBUserSecret(component), contract.SecretKeyUsername),
		secretEnv(contract.EnvMongoPassword, n.MongoDBUserSecret(component), contract.SecretKeyPassword),
	}
	if ext := s.MongoDBExternal(); ext != nil {
		env = externalMongoDBEnv(ext)
	}
	if slices.Contains(s.rabbitMQClients(), component) {
		env = append(env,
			secretEnv(contract.EnvAMQPUsername, n.RabbitMQUserSecret(component), contract.SecretKeyUsername),
			secretEnv(contract.EnvAMQPPassword, n.RabbitMQUserSecret(component), contract.SecretKeyPassword))
	}
	switch component {
	case ComponentAuth:
		env = append(env, secretEnv(contract.EnvAuthSigningKey, n.AuthSigningKeySecret(), contract.SecretKeySigningKey))
	case ComponentNotifier:
		if ref := s.Instance.Spec.Notifier.SMTP.CredentialsSecretRef; ref != nil {
			env = append(env,
				secretEnv(contract.EnvSMTPUsername, ref.Name, contract.SecretKeyUsername),
				secretEnv(contract.EnvSMTPPassword, ref.Name, contract.SecretKeyPassword))
		}
	}
	return env
}
