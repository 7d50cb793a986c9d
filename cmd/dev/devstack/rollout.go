package devstack

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"
)

// watchRollouts plays the Deployment controller for configuration changes: when what the
// operator generated for a service changes (a kubectl edit of the shop, a changed Secret),
// the service is restarted with the new environment on the same address (the runner holds
// its ports across the restart), as a rollout replaces pods. The kubelet reports it not ready until the new process answers.
func (s *Stack) watchRollouts(ctx context.Context) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		objs, err := s.namespaceObjects(ctx)
		if err != nil {
			continue
		}
		for _, c := range serviceComponents {
			s.procsMu.Lock()
			p := s.procs[c]
			s.procsMu.Unlock()
			if p == nil || p.died() {
				continue
			}
			env, report, err := s.serviceEnv(ctx, c, p.addr, p.mgmtAddr, objs)
			if err != nil || maps.Equal(env, p.env) {
				continue
			}
			s.rollout(ctx, p, env, report)
		}
	}
}

// rollout replaces p with a process running env, which report describes.
func (s *Stack) rollout(ctx context.Context, p *process, env map[string]string, report envReport) {
	log := s.log.With("service", p.name)
	log.Info("the operator changed the configuration: restarting", "changed", strings.Join(changedNames(p.env, env), ","))
	s.logEnv(p.name, report)
	p.stop(5 * time.Second)
	next, err := s.launch(p.name, p.ports, env)
	if err != nil {
		log.Error("restart failed", "err", err)
		return
	}
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := next.waitReady(rctx); err != nil {
		log.Error("not ready after the restart", "err", err)
		return
	}
	log.Info("restarted", "pid", next.PID())
}

// changedNames lists the variables that differ between a and b (names only: values may be secrets).
func changedNames(a, b map[string]string) []string {
	var out []string
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
