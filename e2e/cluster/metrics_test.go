package cluster

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// operatorMetrics reads the operator's Prometheus metrics the way a Prometheus would: over
// HTTPS with a ServiceAccount token that may GET /metrics (config/default serves them behind
// authentication and authorization). The suite creates that ServiceAccount and its RBAC, and
// close removes them.
type operatorMetrics struct {
	token   string
	http    *http.Client
	created []client.Object
}

func newOperatorMetrics(ctx context.Context) (*operatorMetrics, error) {
	name := "littleecom-e2e-metrics-" + run
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: env.operatorNamespace}}
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Rules:      []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}},
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: env.operatorNamespace}},
	}
	m := &operatorMetrics{}
	for _, obj := range []client.Object{sa, role, binding} {
		if err := k8s.Create(ctx, obj); err != nil {
			m.close(ctx)
			return nil, fmt.Errorf("creating %s: %w", obj.GetName(), err)
		}
		m.created = append(m.created, obj)
	}
	tr, err := k8s.kube.CoreV1().ServiceAccounts(env.operatorNamespace).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: new(int64(600))},
	}, metav1.CreateOptions{})
	if err != nil {
		m.close(ctx)
		return nil, fmt.Errorf("requesting a token for %s: %w", name, err)
	}
	m.token = tr.Status.Token
	// The manager serves metrics with a certificate it generated for itself at start; there
	// is nothing to verify it against. The connection goes to a pod address of this node.
	m.http = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // see above
	}}
	return m, nil
}

// close deletes what newOperatorMetrics created.
func (m *operatorMetrics) close(ctx context.Context) {
	for _, obj := range m.created {
		_ = client.IgnoreNotFound(k8s.Delete(ctx, obj))
	}
	m.created = nil
}

// reconciles returns the pod's count of LittleEcom reconciles by result ("success",
// "error", "requeue", ...).
func (m *operatorMetrics) reconciles(ctx context.Context, pod *corev1.Pod) (map[string]float64, error) {
	port, err := metricsPort(pod)
	if err != nil {
		return nil, err
	}
	url := "https://" + net.JoinHostPort(pod.Status.PodIP, port) + "/metrics"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+m.token)
	resp, err := m.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return reconcileTotals(resp.Body)
}

// reconcileTotals picks controller_runtime_reconcile_total{controller="littleecom",...} out
// of a Prometheus text exposition.
func reconcileTotals(r io.Reader) (map[string]float64, error) {
	const metric = "controller_runtime_reconcile_total{"
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, metric) || !strings.Contains(line, `controller="littleecom"`) {
			continue
		}
		labels, value, ok := strings.Cut(strings.TrimPrefix(line, metric), "} ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return nil, fmt.Errorf("metric line %q: %w", line, err)
		}
		for l := range strings.SplitSeq(labels, ",") {
			if result, ok := strings.CutPrefix(l, "result="); ok {
				out[strings.Trim(result, `"`)] += v
			}
		}
	}
	return out, sc.Err()
}

// metricsPort is the port of the manager's --metrics-bind-address flag.
func metricsPort(pod *corev1.Pod) (string, error) {
	for _, c := range pod.Spec.Containers {
		for _, a := range append(append([]string{}, c.Command...), c.Args...) {
			if addr, ok := strings.CutPrefix(a, "--metrics-bind-address="); ok {
				_, port, err := net.SplitHostPort(addr)
				if err != nil || port == "0" {
					return "", fmt.Errorf("pod %s: metrics bind address %q serves no port", pod.Name, addr)
				}
				return port, nil
			}
		}
	}
	return "", fmt.Errorf("pod %s has no --metrics-bind-address flag: its metrics are off", pod.Name)
}
