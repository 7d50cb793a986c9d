// Command render writes what the operator gives one broker pod, from the operator's own
// builders, so that hack/rabbitmq-image/test.sh can run the image the way that pod would
// without a cluster: the files of its Secret, ConfigMap and projected volumes, and a
// bash-sourceable pod.sh with the security context, the init container's command, the
// broker container's environment, mounts and probes, and the topology definitions.json
// declares.
//
// Usage: go run ./hack/rabbitmq-image/render <out-dir>
package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1 "littleecom.io/littleecom/api/v1"
	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/internal/resource"
)

// The pod rendered: the first broker of a shop "shop" in namespace "rmqtest".
const (
	shopName      = "shop"
	namespace     = "rmqtest"
	podOrdinal    = 0
	containerName = "rabbitmq"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: render <out-dir>")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "render:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	shop, err := newShop()
	if err != nil {
		return err
	}
	objs, err := build(shop)
	if err != nil {
		return err
	}
	var sts *appsv1.StatefulSet
	data := map[string]map[string][]byte{} // Secret and ConfigMap contents by name
	for _, obj := range objs {
		switch o := obj.(type) {
		case *appsv1.StatefulSet:
			sts = o
		case *corev1.Secret:
			data[o.Name] = o.Data
		case *corev1.ConfigMap:
			m := map[string][]byte{}
			for k, v := range o.Data {
				m[k] = []byte(v)
			}
			data[o.Name] = m
		}
	}
	pod := sts.Spec.Template.Spec
	podName := fmt.Sprintf("%s-%d", sts.Name, podOrdinal)

	for _, v := range pod.Volumes {
		if err := writeVolume(filepath.Join(out, "volumes", v.Name), v.VolumeSource, data); err != nil {
			return fmt.Errorf("volume %s: %w", v.Name, err)
		}
	}
	f, err := os.Create(filepath.Join(out, "pod.sh"))
	if err != nil {
		return err
	}
	werr := writePodScript(f, shop, sts, podName)
	return errors.Join(werr, f.Close())
}

func newShop() (*resource.Shop, error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := shopv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	instance := &shopv1.LittleEcom{ObjectMeta: metav1.ObjectMeta{Name: shopName, Namespace: namespace, UID: "render"}}
	return resource.NewShop(instance, scheme), nil
}

// build runs the broker's builders as the reconciler would on a new shop; the users'
// credentials are generated as the operator generates them.
func build(s *resource.Shop) ([]client.Object, error) {
	var users resource.RabbitMQUsers
	for _, u := range []struct {
		c    *resource.Credentials
		name string
	}{{&users.Admin, "admin"}, {&users.Backend, "backend"}, {&users.Notifier, "notifier"}} {
		secret, err := buildOne(s.Credentials(s.Names.RabbitMQAdminSecret()+"-"+u.name, resource.ComponentRabbitMQ, u.name))
		if err != nil {
			return nil, err
		}
		*u.c = resource.CredentialsOf(secret.(*corev1.Secret).Data)
	}
	var objs []client.Object
	for _, b := range []resource.Builder{
		s.RabbitMQErlangCookie(), s.RabbitMQConfigMap(), s.RabbitMQDefinitions(users), s.RabbitMQStatefulSet(),
	} {
		obj, err := buildOne(b)
		if err != nil {
			return nil, err
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

func buildOne(b resource.Builder) (client.Object, error) {
	obj := b.Build()
	if err := b.Update(obj); err != nil {
		return nil, fmt.Errorf("building %T: %w", obj, err)
	}
	return obj, nil
}

// writeVolume writes the files of a Secret, ConfigMap or projected volume with their modes;
// other volumes (emptyDir, claims) start empty and have no directory here.
func writeVolume(dir string, src corev1.VolumeSource, data map[string]map[string][]byte) error {
	type part struct {
		name  string
		items []corev1.KeyToPath
		mode  *int32
	}
	var parts []part
	switch {
	case src.Secret != nil:
		parts = []part{{src.Secret.SecretName, src.Secret.Items, src.Secret.DefaultMode}}
	case src.ConfigMap != nil:
		parts = []part{{src.ConfigMap.Name, src.ConfigMap.Items, src.ConfigMap.DefaultMode}}
	case src.Projected != nil:
		for _, p := range src.Projected.Sources {
			switch {
			case p.Secret != nil:
				parts = append(parts, part{p.Secret.Name, p.Secret.Items, src.Projected.DefaultMode})
			case p.ConfigMap != nil:
				parts = append(parts, part{p.ConfigMap.Name, p.ConfigMap.Items, src.Projected.DefaultMode})
			default:
				return errors.New("only Secret and ConfigMap projections are rendered")
			}
		}
	default:
		return nil
	}
	for _, p := range parts {
		content, ok := data[p.name]
		if !ok {
			return fmt.Errorf("%s was not built", p.name)
		}
		items := p.items
		if len(items) == 0 {
			for _, k := range slices.Sorted(maps.Keys(content)) {
				items = append(items, corev1.KeyToPath{Key: k, Path: k})
			}
		}
		for _, it := range items {
			mode := os.FileMode(0o644)
			switch {
			case it.Mode != nil:
				mode = os.FileMode(*it.Mode)
			case p.mode != nil:
				mode = os.FileMode(*p.mode)
			}
			path := filepath.Join(dir, it.Path)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(path, content[it.Key], mode); err != nil {
				return err
			}
			if err := os.Chmod(path, mode); err != nil { // WriteFile's mode is subject to umask
				return err
			}
		}
	}
	return nil
}

func writePodScript(w io.Writer, s *resource.Shop, sts *appsv1.StatefulSet, podName string) error {
	pod := sts.Spec.Template.Spec
	main, ok := container(pod.Containers, containerName)
	if !ok {
		return fmt.Errorf("no %s container", containerName)
	}
	if len(pod.InitContainers) != 1 {
		return fmt.Errorf("%d init containers, the test runs one", len(pod.InitContainers))
	}
	init := pod.InitContainers[0]
	sc := pod.SecurityContext
	if sc == nil || sc.RunAsUser == nil || sc.RunAsGroup == nil || sc.FSGroup == nil {
		return errors.New("the pod sets no runAsUser, runAsGroup and fsGroup")
	}
	if len(main.Command) > 0 || len(main.Args) > 0 {
		return errors.New("the broker container overrides the image's command; the test runs the image's")
	}

	kinds, err := volumeKinds(sts)
	if err != nil {
		return err
	}
	env, err := containerEnv(main, podName)
	if err != nil {
		return err
	}
	topo := contract.ShopTopology()
	var queues, exchanges []string
	for _, q := range topo.Queues {
		queues = append(queues, q.Name)
	}
	for _, e := range topo.Exchanges {
		exchanges = append(exchanges, e.Name)
	}

	var b strings.Builder
	b.WriteString("# Rendered by hack/rabbitmq-image/render from the operator's builders.\n")
	scalar(&b, "pod_name", podName)
	scalar(&b, "pod_fqdn", podName+"."+s.Names.ServiceHost(s.Names.RabbitMQHeadless()))
	scalar(&b, "run_as_user", fmt.Sprint(*sc.RunAsUser))
	scalar(&b, "run_as_group", fmt.Sprint(*sc.RunAsGroup))
	scalar(&b, "fs_group", fmt.Sprint(*sc.FSGroup))
	array(&b, "volumes", kinds)
	array(&b, "init_command", init.Command)
	array(&b, "init_mounts", mounts(init))
	scalar(&b, "init_read_only_root", fmt.Sprint(readOnlyRoot(init)))
	array(&b, "main_env", env)
	array(&b, "main_mounts", mounts(main))
	scalar(&b, "main_read_only_root", fmt.Sprint(readOnlyRoot(main)))
	array(&b, "readiness_command", main.ReadinessProbe.Exec.Command)
	array(&b, "liveness_command", main.LivenessProbe.Exec.Command)
	array(&b, "ports", containerPorts(main))
	array(&b, "exchanges", exchanges)
	array(&b, "queues", queues)
	_, err = io.WriteString(w, b.String())
	return err
}

func container(cs []corev1.Container, name string) (corev1.Container, bool) {
	for _, c := range cs {
		if c.Name == name {
			return c, true
		}
	}
	return corev1.Container{}, false
}

// volumeKinds lists "name:kind", kind being files (Secret, ConfigMap, projected: rendered
// under volumes/<name>), emptyDir or claim.
func volumeKinds(sts *appsv1.StatefulSet) ([]string, error) {
	var out []string
	for _, v := range sts.Spec.Template.Spec.Volumes {
		switch {
		case v.Secret != nil, v.ConfigMap != nil, v.Projected != nil:
			out = append(out, v.Name+":files")
		case v.EmptyDir != nil:
			out = append(out, v.Name+":emptyDir")
		default:
			return nil, fmt.Errorf("volume %s: kind not rendered", v.Name)
		}
	}
	for _, c := range sts.Spec.VolumeClaimTemplates {
		out = append(out, c.Name+":claim")
	}
	return out, nil
}

// mounts lists a container's mounts as "volume:path:ro|rw", in order.
func mounts(c corev1.Container) []string {
	var out []string
	for _, m := range c.VolumeMounts {
		mode := "rw"
		if m.ReadOnly {
			mode = "ro"
		}
		out = append(out, m.Name+":"+m.MountPath+":"+mode)
	}
	return out
}

func readOnlyRoot(c corev1.Container) bool {
	return c.SecurityContext != nil && c.SecurityContext.ReadOnlyRootFilesystem != nil && *c.SecurityContext.ReadOnlyRootFilesystem
}

func containerPorts(c corev1.Container) []string {
	var out []string
	for _, p := range c.Ports {
		out = append(out, fmt.Sprint(p.ContainerPort))
	}
	return out
}

var envRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// containerEnv resolves the container's environment as the kubelet does for the pod named
// podName: metadata.name field references, and $(VAR) references to earlier variables.
func containerEnv(c corev1.Container, podName string) ([]string, error) {
	values := map[string]string{}
	var out []string
	for _, e := range c.Env {
		var v string
		switch {
		case e.ValueFrom == nil:
			v = envRef.ReplaceAllStringFunc(e.Value, func(ref string) string {
				if val, ok := values[envRef.FindStringSubmatch(ref)[1]]; ok {
					return val
				}
				return ref
			})
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name":
			v = podName
		default:
			return nil, fmt.Errorf("env %s: source not rendered", e.Name)
		}
		values[e.Name] = v
		out = append(out, e.Name+"="+v)
	}
	return out, nil
}

func scalar(b *strings.Builder, name, value string) {
	fmt.Fprintf(b, "%s=%s\n", name, shellQuote(value))
}

func array(b *strings.Builder, name string, values []string) {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = shellQuote(v)
	}
	fmt.Fprintf(b, "%s=(%s)\n", name, strings.Join(quoted, " "))
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
