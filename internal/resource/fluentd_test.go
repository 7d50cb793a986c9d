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
	conf, err := s.FluentdConf()
	if err != nil {
		t.Fatal(err)
	}
	top, body := confSections(t, conf)
	want := []string{"system", "match fluent.**", "source", "source", "filter kubernetes.**", "filter kubernetes.**", "filter kubernetes.**", "match kubernetes.**"}
	if !equality.Semantic.DeepEqual(top, want) {
		t.Fatalf("directives = %q, want %q", top, want)
	}
	section := func(i int) string { return strings.Join(body[top[i]+"#"+string(rune('0'+i+1))], "\n") }
	tail := section(3)
	for _, want := range []string{
		"@type tail", "path /var/log/containers/*_ns_*.log", "pos_file /var/log/fluentd-ns-shop.pos",
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
	if !strings.Contains(section(5), "@type kubernetes_metadata") {
		t.Errorf("no kubernetes metadata filter:\n%s", section(5))
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
		"<buffer>", "@type file", "path /var/log/fluentd-buffers/ns-shop/", "total_limit_size 512MB",
		"chunk_limit_size 8MB", "overflow_action drop_oldest_chunk", "verify_es_version_at_startup false",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
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
		"cluster role": {a.Names.FluentdClusterRole(), b.Names.FluentdClusterRole()},
		"pos file":     {a.Names.FluentdPosFile(), b.Names.FluentdPosFile()},
		"buffer":       {a.Names.FluentdBufferDir(), b.Names.FluentdBufferDir()},
		"log path":     {a.Names.FluentdLogPath(), b.Names.FluentdLogPath()},
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
	if *c.SecurityContext.AllowPrivilegeEscalation || len(c.SecurityContext.Capabilities.Drop) != 1 {
		t.Errorf("container security = %+v", c.SecurityContext)
	}
	paths := map[string]bool{}
	for _, v := range pod.Volumes {
		if v.HostPath != nil {
			paths[v.HostPath.Path] = true
		}
	}
	if !paths["/var/log"] || !paths["/var/lib/docker/containers"] {
		t.Errorf("host paths = %v", paths)
	}
}

func TestFluentdClusterRBAC(t *testing.T) {
	s := loggingShop(t, nil)
	role := buildOnce(t, s.FluentdClusterRole()).(*rbacv1.ClusterRole)
	binding := buildOnce(t, s.FluentdClusterRoleBinding()).(*rbacv1.ClusterRoleBinding)
	for _, obj := range []interface {
		GetName() string
		GetNamespace() string
		GetLabels() map[string]string
	}{role, binding} {
		if obj.GetName() != "littleecom-ns-shop-fluentd" || obj.GetNamespace() != "" {
			t.Errorf("name %s/%s", obj.GetNamespace(), obj.GetName())
		}
		if l := obj.GetLabels(); l[LabelInstance] != "shop" || l[LabelNamespace] != "ns" || l[LabelManagedBy] != ManagedBy {
			t.Errorf("labels = %v", l)
		}
	}
	if r := role.Rules[0]; strings.Join(r.Resources, ",") != "pods,namespaces" || strings.Join(r.Verbs, ",") != "get,list,watch" {
		t.Errorf("rules = %+v", role.Rules)
	}
	if sub := binding.Subjects[0]; sub.Kind != "ServiceAccount" || sub.Name != "shop-fluentd" || sub.Namespace != "ns" ||
		binding.RoleRef.Name != role.Name {
		t.Errorf("binding = %+v", binding)
	}
	if len(role.OwnerReferences)+len(binding.OwnerReferences) != 0 {
		t.Error("cluster-scoped objects cannot be owned by a namespaced LittleEcom")
	}
	if err := s.FluentdClusterRole().Update(&corev1.ConfigMap{}); err == nil {
		t.Error("Update accepted a ConfigMap")
	}
}
