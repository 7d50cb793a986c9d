package cluster

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Every container of the shop, the operator and the infrastructure must say it runs as a
// user other than root on a read-only root filesystem, and must really have started that
// way: the kernel's view of each container process (/proc) is checked as well as the spec.
func describeHardening() {
	Context("every container of the shop, the operator and the infrastructure", func() {
		It("is declared non-root with a read-only root filesystem, and runs that way", func(ctx SpecContext) {
			expectShopWorkloadsRolledOut(ctx)
			var pods []corev1.Pod
			for _, ns := range []string{env.namespace, env.operatorNamespace, env.infraNamespace} {
				found := runningPods(ctx, ns)
				Expect(found).NotTo(BeEmpty(), "running pods in namespace %s", ns)
				pods = append(pods, found...)
			}
			pids, err := containerPIDs()
			Expect(err).NotTo(HaveOccurred())

			var problems []string
			processes, containers := 0, 0
			for i := range pods {
				pod := &pods[i]
				problems = append(problems, specProblems(pod)...)
				for _, cs := range pod.Status.ContainerStatuses {
					containers++
					where := fmt.Sprintf("%s/%s container %s", pod.Namespace, pod.Name, cs.Name)
					procs, err := processesOf(ctx, cs, pids)
					if err != nil {
						problems = append(problems, where+": "+err.Error())
						continue
					}
					for _, p := range procs {
						processes++
						if !p.nonRoot() {
							problems = append(problems, fmt.Sprintf("%s runs as root: %s", where, p))
						}
						if !p.readOnlyRoot() {
							problems = append(problems, fmt.Sprintf("%s has a writable root filesystem: %s", where, p))
						}
					}
				}
			}
			GinkgoWriter.Printf("checked %d processes of %d containers in %d pods\n", processes, containers, len(pods))
			Expect(problems).To(BeEmpty())
		}, SpecTimeout(5*time.Minute))
	})
}

// runningPods lists the running pods of a namespace, except the suite's own.
func runningPods(ctx context.Context, namespace string) []corev1.Pod {
	GinkgoHelper()
	var list corev1.PodList
	Expect(k8s.List(ctx, &list, client.InNamespace(namespace))).To(Succeed())
	var out []corev1.Pod
	for _, p := range list.Items {
		if _, ours := p.Labels[labelE2E]; !ours && p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

// specProblems lists the containers of pod whose effective security context does not
// declare a non-root user (runAsNonRoot, which kubelet enforces at start, and no runAsUser
// 0) and a read-only root filesystem.
func specProblems(pod *corev1.Pod) []string {
	psc := pod.Spec.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	var out []string
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		sc := c.SecurityContext
		if sc == nil {
			sc = &corev1.SecurityContext{}
		}
		nonRoot, user := psc.RunAsNonRoot, psc.RunAsUser
		if sc.RunAsNonRoot != nil {
			nonRoot = sc.RunAsNonRoot
		}
		if sc.RunAsUser != nil {
			user = sc.RunAsUser
		}
		where := fmt.Sprintf("%s/%s container %s", pod.Namespace, pod.Name, c.Name)
		if nonRoot == nil || !*nonRoot {
			out = append(out, where+": runAsNonRoot is not true")
		}
		if user != nil && *user == 0 {
			out = append(out, where+": runAsUser is 0")
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			out = append(out, where+": readOnlyRootFilesystem is not true")
		}
	}
	return out
}

// processesOf returns how the processes of a running container run: every process in its
// cgroup, or containerd's task PID when the cgroups say nothing.
func processesOf(ctx context.Context, cs corev1.ContainerStatus, pids map[string][]int) ([]process, error) {
	if cs.State.Running == nil {
		return nil, fmt.Errorf("not running (restarts: %d)", cs.RestartCount)
	}
	runtime, id, _ := strings.Cut(cs.ContainerID, "://")
	if runtime != "containerd" {
		return nil, fmt.Errorf("container ID %q is not containerd's", cs.ContainerID)
	}
	candidates := pids[id]
	if len(candidates) == 0 && env.containerd != "" {
		tasks, err := taskPIDs(ctx, env.containerd)
		if err != nil {
			return nil, err
		}
		if pid, ok := tasks[id]; ok {
			candidates = []int{pid}
		}
	}
	if len(candidates) == 0 {
		return nil, fmt.Errorf("no process found for container %s", id)
	}
	var out []process
	for _, pid := range candidates {
		p, err := inspectProcess(pid)
		if errors.Is(err, fs.ErrNotExist) {
			continue // exited meanwhile (an exec probe, a short-lived child)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("every process of container %s exited while it was checked", id)
	}
	return out, nil
}
