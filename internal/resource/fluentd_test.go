package resource

import (
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
)

// Fluentd (Ruby) is not installable here, so these tests check the rendered configuration's
// structure and run its CRI expression through Go's regexp, which differs from Ruby's only
// in spelling named groups (?P<name>...).

// confSections parses fluent.conf into its top-level directives and checks nesting.
func confSections(t *testing.T, conf string) (top []string, body map[string][]string) {
	t.Helper()
	body = map[string][]string{}
	var stack []string
	var current string
	for i, line := range strings.Split(conf, "\n") {
		l := strings.TrimSpace(line)
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "</"):
			name := strings.TrimSuffix(strings.TrimPrefix(l, "</"), ">")
			if len(stack) == 0 || strings.Fields(stack[len(stack)-1])[0] != name {
				t.Fatalf("line %d: %s closes %v", i+1, l, stack)
			}
			stack = stack[:len(stack)-1]
		case strings.HasPrefix(l, "<"):
			if !strings.HasSuffix(l, ">") {
				t.Fatalf("line %d: unterminated directive %q", i+1, l)
			}
			d := strings.TrimSuffix(strings.TrimPrefix(l, "<"), ">")
			if len(stack) == 0 {
				top = append(top, d)
				current = d + "#" + string(rune('0'+len(top)))
			}
			stack = append(stack, d)
			body[current] = append(body[current], "<"+d+">")
		default:
			if len(stack) == 0 {
				t.Fatalf("line %d: parameter %q outside a directive", i+1, l)
			}
			body[current] = append(body[current], l)
		}
	}
	if len(stack) != 0 {
		t.Fatalf("unclosed directives %v", stack)
	}
	return top, body
}

func TestFluentdConf_Structure(t *testing.T) {
	s := loggingShop(t, nil)
	conf, err := s.FluentdConf(FluentdAccess{})
	if err != nil {
		t.Fatal(err)
	}
	top, body := confSections(t, conf)
	want := []string{"system", "match fluent.**", "source", "source", "filter kubernetes.**", "filter kubernetes.**", "filter kubernetes.**", "match kubernetes.**"}
	if !equality.Semantic.DeepEqual(top, want) {
		t.Fatalf("directives = %q, want %q", top, want)
	}
	section := func(i int) string { return strings.Join(body[top[i]+"#"+string(rune('0'+i+1))], "\n") }
	monitor := section(2)
	if !strings.Contains(monitor, "@type monitor_agent") || !strings.Contains(monitor, `bind "#{ENV['POD_IP']}"`) ||
		strings.Contains(monitor, "0.0.0.0") {
		t.Errorf("monitor_agent must listen on the pod's address only:\n%s", monitor)
	}
	tail := section(3)
	for _, want := range []string{
		"@type tail", "path /var/log/containers/*_ns_*.log", "pos_file /var/lib/littleecom-fluentd/containers.pos",
		`exclude_path ["/var/log/containers/shop-fluentd-*_ns_*.log"]`,
		"@type multi_format", "format json", "format regexp", "expression /" + CRILogExpression + "/",
	} {
		if !strings.Contains(tail, want) {
			t.Errorf("tail source lacks %q:\n%s", want, tail)
		}
	}
	if !strings.Contains(section(4), "@type concat") || !strings.Contains(section(4), "partial_key logtag") ||
		!strings.Contains(section(4), "partial_value P") {
		t.Errorf("no CRI partial-line join:\n%s", section(4))
	}
	for _, want := range []string{"@type kubernetes_metadata", "watch false", "skip_namespace_metadata true"} {
		if !strings.Contains(section(5), want) {
			t.Errorf("kubernetes metadata filter without cluster access lacks %q:\n%s", want, section(5))
		}
	}
	for _, want := range []string{"@type parser", "key_name log", "reserve_data true", "@type json"} {
		if !strings.Contains(section(6), want) {
			t.Errorf("JSON log parser lacks %q:\n%s", want, section(6))
		}
	}
	out := section(7)
	for _, want := range []string{
		"@type elasticsearch", "host shop-elasticsearch.ns.svc.cluster.local", "port 9200",
		`user "#{ENV['FLUENT_ELASTICSEARCH_USER']}"`, `password "#{ENV['FLUENT_ELASTICSEARCH_PASSWORD']}"`,
		"<buffer>", "@type file", "path /var/lib/littleecom-fluentd/buffer/", "total_limit_size 512MB",
		"chunk_limit_size 8MB", "overflow_action drop_oldest_chunk", "verify_es_version_at_startup false",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestFluentdConf_ClusterWideMetadataOnlyWhenGranted(t *testing.T) {
	s := loggingShop(t, nil)
	conf, err := s.FluentdConf(FluentdAccess{ClusterRole: "littleecom-fluentd-metadata"})
	if err != nil {
		t.Fatal(err)
	}
	top, body := confSections(t, conf)
	filter := strings.Join(body[top[5]+"#6"], "\n")
	if !strings.Contains(filter, "@type kubernetes_metadata") || strings.Contains(filter, "watch false") ||
		strings.Contains(filter, "skip_namespace_metadata") {
		t.Errorf("with the administrator's ClusterRole the filter watches and adds namespace metadata:\n%s", filter)
	}
}

func TestCRILogExpression_MatchesCRINotDocker(t *testing.T) {
	re := regexp.MustCompile(strings.ReplaceAll(CRILogExpression, "(?<", "(?P<"))
	tests := []struct {
		line                     string
		match                    bool
		stream, logtag, log, tim string
	}{
		{`2026-11-27T15:50:29.123456789Z stdout F {"level":"INFO","msg":"listening"}`, true,
			"stdout", "F", `{"level":"INFO","msg":"listening"}`, "2026-11-27T15:50:29.123456789Z"},
		{`2026-11-27T15:50:29.123456789+01:00 stderr P first half of a long line `, true,
			"stderr", "P", "first half of a long line ", "2026-11-27T15:50:29.123456789+01:00"},
		{`2026-11-27T15:50:29.1Z stdout F `, true, "stdout", "F", "", "2026-11-27T15:50:29.1Z"},
		{`{"log":"hello\n","stream":"stdout","time":"2026-11-27T15:50:29.123456789Z"}`, false, "", "", "", ""},
	}
	for _, tt := range tests {
		m := re.FindStringSubmatch(tt.line)
		if (m != nil) != tt.match {
			t.Errorf("%q: matched %v, want %v", tt.line, m != nil, tt.match)
			continue
		}
		if m == nil {
			continue
		}
		got := map[string]string{}
		for i, n := range re.SubexpNames() {
			got[n] = m[i]
		}
		if got["stream"] != tt.stream || got["logtag"] != tt.logtag || got["log"] != tt.log || got["time"] != tt.tim {
			t.Errorf("%q parsed as %v", tt.line, got)
		}
	}
}

func TestFluentd_TwoShopsDoNotClash(t *testing.T) {
	a := loggingShop(t, nil)
	b := loggingShop(t, nil)
	b.Instance.Namespace, b.Names.Namespace = "other", "other"
	for name, pair := range map[string][2]string{
		"cluster role binding": {a.Names.FluentdClusterRole(), b.Names.FluentdClusterRole()},
		"host state dir":       {a.Names.FluentdStateDir(), b.Names.FluentdStateDir()},
		"log path":             {a.Names.FluentdLogPath(), b.Names.FluentdLogPath()},
	} {
		if pair[0] == pair[1] {
			t.Errorf("%s shared by two shops: %s", name, pair[0])
		}
	}
}

func TestFluentdDaemonSet_Content(t *testing.T) {
	s := loggingShop(t, nil)
	ds := buildOnce(t, s.FluentdDaemonSet()).(*appsv1.DaemonSet)
	assertOwned(t, ds, "shop-fluentd", ComponentFluentd)
	pod := ds.Spec.Template.Spec
	if pod.ServiceAccountName != "shop-fluentd" || !*pod.AutomountServiceAccountToken {
		t.Errorf("service account %q automount %v", pod.ServiceAccountName, *pod.AutomountServiceAccountToken)
	}
	c := pod.Containers[0]
	env := envMap(c)
	if env["FLUENT_ELASTICSEARCH_PASSWORD"] != "secret:shop-elasticsearch-credentials/"+FluentdPasswordKey ||
		env["FLUENTD_CONF"] != "littleecom/fluent.conf" || env["FLUENT_ELASTICSEARCH_USER"] != FluentdESUser {
		t.Errorf("env = %v", env)
	}
	sc := c.SecurityContext
	if *sc.AllowPrivilegeEscalation || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" ||
		len(sc.Capabilities.Add) != 0 || sc.Privileged != nil {
		t.Errorf("container security = %+v: every capability dropped, none added, no escalation", sc)
	}
	if pod.HostNetwork || pod.HostPID || pod.HostIPC {
		t.Error("Fluentd needs none of the host's namespaces")
	}
	if env["POD_IP"] != "field:status.podIP" {
		t.Errorf("POD_IP = %q, want the pod's address (monitor_agent listens there)", env["POD_IP"])
	}
	hostPaths := map[string]string{}
	for _, v := range pod.Volumes {
		if v.HostPath != nil {
			hostPaths[v.Name] = v.HostPath.Path
		}
	}
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[hostPaths[m.Name]] = m
	}
	for path, readOnly := range map[string]bool{
		"/var/log": true, "/var/lib/docker/containers": true, "/var/lib/littleecom/fluentd/ns-shop": false,
	} {
		m, ok := mounts[path]
		if !ok {
			t.Errorf("host path %s not mounted (mounts %v)", path, hostPaths)
			continue
		}
		if m.ReadOnly != readOnly {
			t.Errorf("host path %s mounted read-only %v, want %v", path, m.ReadOnly, readOnly)
		}
	}
	if m := mounts["/var/lib/littleecom/fluentd/ns-shop"]; !strings.HasPrefix(s.Names.FluentdPosFile(), m.MountPath+"/") ||
		!strings.HasPrefix(s.Names.FluentdBufferDir(), m.MountPath+"/") {
		t.Errorf("position file %s and buffer %s must live on the writable state mount %s",
			s.Names.FluentdPosFile(), s.Names.FluentdBufferDir(), m.MountPath)
	}
}

func TestFluentdRBAC_NamespacedByDefault(t *testing.T) {
	s := loggingShop(t, nil)
	none := FluentdAccess{}
	role := buildOnce(t, s.FluentdRole(none)).(*rbacv1.Role)
	binding := buildOnce(t, s.FluentdRoleBinding(none)).(*rbacv1.RoleBinding)
	assertOwned(t, role, "shop-fluentd", ComponentFluentd)
	assertOwned(t, binding, "shop-fluentd", ComponentFluentd)
	if len(role.Rules) != 1 || strings.Join(role.Rules[0].Resources, ",") != "pods" ||
		strings.Join(role.Rules[0].Verbs, ",") != "get" {
		t.Errorf("role rules = %+v, want get on pods only", role.Rules)
	}
	if binding.RoleRef.Kind != "Role" || binding.RoleRef.Name != role.Name || len(binding.Subjects) != 1 ||
		binding.Subjects[0].Name != "shop-fluentd" || binding.Subjects[0].Namespace != "ns" {
		t.Errorf("binding = %+v", binding)
	}
	granted := FluentdAccess{ClusterRole: "littleecom-fluentd-metadata"}
	for name, b := range map[string]Builder{"role": s.FluentdRole(granted), "binding": s.FluentdRoleBinding(granted)} {
		if b.(Optional).Enabled() {
			t.Errorf("the %s stays while the administrator grants cluster-wide access", name)
		}
	}
}

func TestFluentdClusterRoleBinding_OnlyToTheAdministratorsRole(t *testing.T) {
	s := loggingShop(t, nil)
	access := FluentdAccess{ClusterRole: "littleecom-fluentd-metadata"}
	binding := buildOnce(t, s.FluentdClusterRoleBinding(access)).(*rbacv1.ClusterRoleBinding)
	if binding.Name != "littleecom-ns-shop-fluentd" || binding.Namespace != "" {
		t.Errorf("name %s/%s", binding.Namespace, binding.Name)
	}
	if l := binding.Labels; l[LabelInstance] != "shop" || l[LabelNamespace] != "ns" || l[LabelManagedBy] != ManagedBy {
		t.Errorf("labels = %v", l)
	}
	if binding.RoleRef.Kind != "ClusterRole" || binding.RoleRef.Name != access.ClusterRole ||
		binding.Subjects[0].Name != "shop-fluentd" || binding.Subjects[0].Namespace != "ns" {
		t.Errorf("binding = %+v", binding)
	}
	if len(binding.OwnerReferences) != 0 {
		t.Error("cluster-scoped objects cannot be owned by a namespaced LittleEcom")
	}
	if FluentdClusterRoleBindingStale(binding, access) {
		t.Error("a binding to the configured role is not stale")
	}
	if !FluentdClusterRoleBindingStale(binding, FluentdAccess{ClusterRole: "renamed"}) {
		t.Error("a binding to another role is stale")
	}
	if err := s.FluentdClusterRoleBinding().Update(&rbacv1.ClusterRoleBinding{}); err == nil {
		t.Error("a binding without a configured ClusterRole was applied")
	}
	if err := s.FluentdClusterRole().Update(&rbacv1.ClusterRole{}); err == nil {
		t.Error("the operator applied a per-shop ClusterRole; it only removes former ones")
	}
	if err := s.FluentdClusterRoleBinding(access).Update(&corev1.ConfigMap{}); err == nil {
		t.Error("Update accepted a ConfigMap")
	}
}
