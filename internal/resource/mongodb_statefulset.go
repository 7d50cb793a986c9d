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

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/contract"
)

const (
	mongoUID          = 999 // the mongodb user of the official image
	mongoDataDir      = "/data/db"
	mongoKeyfileDir   = "/var/lib/mongodb-keyfile"
	mongoKeyfileMount = "/etc/mongodb-keyfile-secret"
	// mongoKeyfileVolumeName is the emptyDir the keyfile is copied into, owned by mongod.
	mongoKeyfileVolumeName = "keyfile"
)

// MongoDBStatefulSetBuilder runs the replica-set members.
type MongoDBStatefulSetBuilder struct{ shop *Shop }

var _ Builder = (*MongoDBStatefulSetBuilder)(nil)

// MongoDBStatefulSet returns the builder of the members' StatefulSet.
func (s *Shop) MongoDBStatefulSet() *MongoDBStatefulSetBuilder {
	return &MongoDBStatefulSetBuilder{shop: s}
}

// Build implements Builder.
func (b *MongoDBStatefulSetBuilder) Build() client.Object {
	return &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: b.shop.Names.MongoDB(), Namespace: b.shop.Instance.Namespace}}
}

// Update implements Builder.
func (b *MongoDBStatefulSetBuilder) Update(obj client.Object) error {
	sts, ok := obj.(*appsv1.StatefulSet)
	if !ok {
		return typeError("StatefulSet", obj)
	}
	s, spec := b.shop, b.shop.Instance.Spec.MongoDB
	if err := s.setOwnerAndLabels(sts, ComponentMongoDB); err != nil {
		return err
	}
	sts.Spec.Replicas = new(MongoDBReplicas(spec))
	if s.MongoDBStatefulSetReplicas != nil {
		sts.Spec.Replicas = new(*s.MongoDBStatefulSetReplicas)
	}
	if sts.CreationTimestamp.IsZero() {
		// Immutable after creation.
		claim, err := volumeClaimTemplate(dataVolumeName, spec.Storage, s.Instance.Name, ComponentMongoDB)
		if err != nil {
			return err
		}
		sts.Spec.ServiceName = s.Names.MongoDBHeadless()
		sts.Spec.Selector = &metav1.LabelSelector{MatchLabels: SelectorLabels(s.Instance.Name, ComponentMongoDB)}
		sts.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{claim}
		// Members start together; the operator, not pod order, forms the replica set.
		sts.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	}
	sts.Spec.PersistentVolumeClaimRetentionPolicy = retentionPolicy(spec.Storage.RetentionPolicy)
	// The operator restarts members itself, one at a time, secondaries first and the primary
	// after it stepped down (controllers/phase_mongodb_rollout.go): the StatefulSet
	// controller's rolling update knows nothing of the replica set's roles.
	sts.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
	s.podTemplateMeta(&sts.Spec.Template, ComponentMongoDB)
	sts.Spec.Template.Spec = b.podSpec(spec)
	return nil
}

func (b *MongoDBStatefulSetBuilder) podSpec(spec shopv1.MongoDBSpec) corev1.PodSpec {
	s := b.shop
	image := s.Image(ComponentMongoDB)
	rootSecret := s.MongoDBRootSecretName()
	keyfile := mongoKeyfileDir + "/" + MongoDBKeyfileKey
	pod := corev1.PodSpec{
		ServiceAccountName:           s.Names.ServiceAccount(),
		AutomountServiceAccountToken: new(false),
		SecurityContext:              podSecurity(mongoUID),
		Affinity:                     spreadAcrossNodes(s.Instance.Name, ComponentMongoDB),
		InitContainers: []corev1.Container{{
			// mongod refuses a keyfile it does not own or that others can read, and a Secret
			// volume is root-owned: copy it to a file the mongodb user owns, mode 0400.
			Name:            "keyfile",
			Image:           image,
			Command:         []string{"sh", "-c", fmt.Sprintf("install -m 0400 %s/%s %s", mongoKeyfileMount, MongoDBKeyfileKey, keyfile)},
			SecurityContext: restrictedContainerSecurity(true),
			VolumeMounts: []corev1.VolumeMount{
				{Name: "keyfile-secret", MountPath: mongoKeyfileMount, ReadOnly: true},
				{Name: mongoKeyfileVolumeName, MountPath: mongoKeyfileDir},
			},
		}},
		Containers: []corev1.Container{{
			Name:  "mongod",
			Image: image,
			// The image's entrypoint creates the root user from MONGO_INITDB_ROOT_* on an empty
			// data directory, then execs these arguments.
			Args: []string{"mongod", "--replSet", MongoDBReplicaSetName(spec), "--bind_ip_all",
				"--auth", "--keyFile", keyfile, "--dbpath", mongoDataDir, "--port", fmt.Sprint(MongoDBPort)},
			Ports: []corev1.ContainerPort{{Name: "mongodb", ContainerPort: MongoDBPort}},
			Env: []corev1.EnvVar{
				secretEnv("MONGO_INITDB_ROOT_USERNAME", rootSecret, contract.SecretKeyUsername),
				secretEnv("MONGO_INITDB_ROOT_PASSWORD", rootSecret, contract.SecretKeyPassword),
			},
			Resources: resourcesOr(spec.Resources, "250m", "512Mi", "1Gi"),
			// Ready when mongod answers a ping; the replica-set state is the operator's job.
			// A TCP connect to the pod IP, not a mongosh ping: mongosh costs 1-2 s of CPU and
			// ~100 MB per run, and it would reach the official image's first-start mongod,
			// which listens on 127.0.0.1 only (no --replSet) while the entrypoint creates the
			// root user. mongod opens its pod-IP listener once it can answer commands, so the
			// connect is both cheaper and right; members' replica-set states are the
			// operator's business (replSetGetStatus), not the probe's.
			ReadinessProbe: &corev1.Probe{
				ProbeHandler:        corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("mongodb")}},
				InitialDelaySeconds: 5, PeriodSeconds: 10, TimeoutSeconds: 2,
			},
			LivenessProbe: &corev1.Probe{
				ProbeHandler:        corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("mongodb")}},
				InitialDelaySeconds: 30, PeriodSeconds: 10, TimeoutSeconds: 5, FailureThreshold: 6,
			},
			SecurityContext: restrictedContainerSecurity(true),
			VolumeMounts: []corev1.VolumeMount{
				{Name: dataVolumeName, MountPath: mongoDataDir},
				{Name: mongoKeyfileVolumeName, MountPath: mongoKeyfileDir, ReadOnly: true},
				{Name: tmpVolumeName, MountPath: tmpDir},
				{Name: "configdb", MountPath: "/data/configdb"},
			},
		}},
		Volumes: []corev1.Volume{
			{Name: "keyfile-secret", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
				SecretName: s.Names.MongoDBKeyfileSecret(), DefaultMode: ptr.To[int32](0o400),
			}}},
			emptyDirVolume(mongoKeyfileVolumeName),
			emptyDirVolume(tmpVolumeName),
			emptyDirVolume("configdb"),
		},
	}
	withAPIDefaults(&pod)
	return pod
}

// MongoDBRootSecretName is the user's root Secret when given, else the generated one.
func (s *Shop) MongoDBRootSecretName() string {
	if ref := s.Instance.Spec.MongoDB.CredentialsSecretRef; ref != nil {
		return ref.Name
	}
	return s.Names.MongoDBRootSecret()
}

func volumeClaimTemplate(name string, storage shopv1.StorageSpec, instance, component string) (corev1.PersistentVolumeClaim, error) {
	size, err := resource.ParseQuantity(stringOr(storage.Size, "10Gi"))
	if err != nil {
		return corev1.PersistentVolumeClaim{}, fmt.Errorf("storage size %q: %w", storage.Size, err)
	}
	return corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: Labels(instance, component)},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: storage.StorageClassName,
			VolumeMode:       ptr.To(corev1.PersistentVolumeFilesystem),
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}},
		},
	}, nil
}

func retentionPolicy(p shopv1.RetentionPolicy) *appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy {
	policy := appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	if p == shopv1.RetentionDelete {
		policy = appsv1.DeletePersistentVolumeClaimRetentionPolicyType
	}
	return &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{WhenDeleted: policy, WhenScaled: policy}
}

func secretEnv(name, secret, key string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: key,
	}}}
}

func emptyDirVolume(name string) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
}

// spreadAcrossNodes prefers putting a component's pods on different nodes.
func spreadAcrossNodes(instance, component string) *corev1.Affinity {
	return &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
			Weight: 100,
			PodAffinityTerm: corev1.PodAffinityTerm{
				TopologyKey:   corev1.LabelHostname,
				LabelSelector: &metav1.LabelSelector{MatchLabels: SelectorLabels(instance, component)},
			},
		}},
	}}
}
