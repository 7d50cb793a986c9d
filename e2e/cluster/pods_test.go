package cluster

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// netcheckImage is the image of e2e/cluster/netcheck that hack/images builds; its entrypoint
// is the program, so the pod passes arguments only.
const netcheckImage = "littleecom/netcheck:0.1.0"

// labelE2E marks the pods the suite runs (value: the run), so that the hardening spec leaves
// them out and a failed run's leftovers can be found.
const labelE2E = "littleecom.io/e2e-run"

// netcheckUID is the image's user, the distroless "nonroot".
const netcheckUID = 65532

// netcheckResult is one line of netcheck's output.
type netcheckResult struct {
	Target string `json:"target"`
	OK     bool   `json:"ok"`
	Error  string `json:"error"`
}

// runNetcheck runs netcheck once in a pod of the shop's namespace with podLabels, waits for
// it to finish and returns its results by target. retry is netcheck's -retry: how long a
// failed target is tried again. The pod is deleted before it returns.
func runNetcheck(ctx context.Context, name string, podLabels map[string]string, targets []string,
	retry time.Duration) (map[string]netcheckResult, error) {
	pod := netcheckPod(name+"-"+randomHex(3), podLabels, targets, retry)
	if err := k8s.Create(ctx, pod); err != nil {
		return nil, fmt.Errorf("creating pod %s: %w", pod.Name, err)
	}
	defer deletePodAndWait(context.WithoutCancel(ctx), pod)

	if err := wait.PollUntilContextTimeout(ctx, poll, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(pod), pod); err != nil {
			return false, err
		}
		return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed, nil
	}); err != nil {
		return nil, fmt.Errorf("pod %s did not finish (phase %s, %s): %w", pod.Name, pod.Status.Phase, waitingReasons(pod), err)
	}
	logs, err := k8s.kube.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: "netcheck"}).DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the logs of pod %s: %w", pod.Name, err)
	}
	results := map[string]netcheckResult{}
	sc := bufio.NewScanner(bytes.NewReader(logs))
	for sc.Scan() {
		var r netcheckResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("pod %s wrote %q: %w", pod.Name, sc.Text(), err)
		}
		results[r.Target] = r
	}
	if len(results) != len(targets) {
		return nil, fmt.Errorf("pod %s reported %d of %d targets: %s", pod.Name, len(results), len(targets), logs)
	}
	return results, nil
}

// netcheckPod is a one-shot pod that meets the "restricted" Pod Security Standard.
func netcheckPod(name string, podLabels map[string]string, targets []string, retry time.Duration) *corev1.Pod {
	l := maps.Clone(podLabels)
	if l == nil {
		l = map[string]string{}
	}
	l[labelE2E] = run
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: env.namespace, Labels: l},
		Spec: corev1.PodSpec{
			RestartPolicy:                 corev1.RestartPolicyNever,
			ActiveDeadlineSeconds:         new(int64(60)),
			AutomountServiceAccountToken:  new(false),
			EnableServiceLinks:            new(false),
			TerminationGracePeriodSeconds: new(int64(0)),
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot:   new(true),
				RunAsUser:      new(int64(netcheckUID)),
				RunAsGroup:     new(int64(netcheckUID)),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{
				Name:            "netcheck",
				Image:           netcheckImage,
				ImagePullPolicy: corev1.PullIfNotPresent,
				Args:            []string{"-connect", strings.Join(targets, ","), "-timeout", "3s", "-retry", retry.String()},
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: apiresource.MustParse("10m"), corev1.ResourceMemory: apiresource.MustParse("16Mi")},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: apiresource.MustParse("64Mi")},
				},
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: new(false),
					ReadOnlyRootFilesystem:   new(true),
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
			}},
		},
	}
}

// waitingReasons says why a pod's containers have not run, for a failure message.
func waitingReasons(pod *corev1.Pod) string {
	var out []string
	for _, s := range pod.Status.ContainerStatuses {
		if w := s.State.Waiting; w != nil {
			out = append(out, fmt.Sprintf("%s waiting: %s %s", s.Name, w.Reason, w.Message))
		}
	}
	if len(out) == 0 {
		return "no container waiting"
	}
	return strings.Join(out, "; ")
}

// deletePodAndWait deletes pod at once and waits up to 30 s until it is gone.
func deletePodAndWait(ctx context.Context, pod *corev1.Pod) {
	err := k8s.Delete(ctx, pod, client.GracePeriodSeconds(0))
	if err != nil && !apierrors.IsNotFound(err) {
		GinkgoWriter.Printf("deleting pod %s: %v\n", pod.Name, err)
		return
	}
	_ = wait.PollUntilContextTimeout(ctx, poll, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		err := k8s.Get(ctx, client.ObjectKeyFromObject(pod), &corev1.Pod{})
		return apierrors.IsNotFound(err), nil
	})
}
