package devstack

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"littleecom.io/littleecom/internal/cors"
	"littleecom.io/littleecom/internal/resource"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// ingress-nginx's defaults for the CORS annotations (resource.AnnotationNginx*) the gateway
// honours.
const (
	nginxDefaultMethods = "GET, PUT, POST, DELETE, PATCH, OPTIONS"
	nginxDefaultHeaders = "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization"
	nginxDefaultMaxAge  = 1728000
)

// PathMail is where the gateway serves the e-mails the SMTP sink received.
const PathMail = "/dev/mail"

// corsFromAnnotations reads the policy the CORS annotations of an Ingress say, with
// ingress-nginx's defaults for the ones missing.
func corsFromAnnotations(a map[string]string) cors.Policy {
	get := func(key, def string) string {
		if v := strings.TrimSpace(a[key]); v != "" {
			return v
		}
		return def
	}
	p := cors.Policy{
		Enabled:       strings.EqualFold(strings.TrimSpace(a[resource.AnnotationNginxEnableCORS]), "true"),
		AllowOrigins:  annotationList(get(resource.AnnotationNginxCORSAllowOrigin, cors.AnyOrigin)),
		AllowMethods:  annotationList(get(resource.AnnotationNginxCORSAllowMethods, nginxDefaultMethods)),
		AllowHeaders:  annotationList(get(resource.AnnotationNginxCORSAllowHeaders, nginxDefaultHeaders)),
		ExposeHeaders: annotationList(get(resource.AnnotationNginxCORSExposeHeaders, "")),
		MaxAge:        nginxDefaultMaxAge,
	}
	p.AllowCredentials, _ = strconv.ParseBool(get(resource.AnnotationNginxCORSAllowCreds, "true")) // ingress-nginx defaults to true
	if n, err := strconv.Atoi(get(resource.AnnotationNginxCORSMaxAge, "")); err == nil {
		p.MaxAge = n
	}
	return p
}

// annotationList splits a comma-separated annotation value, dropping empty items.
func annotationList(v string) []string {
	var out []string
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// allowOrigin is the Access-Control-Allow-Origin value for a request from origin, "" when
// the policy does not allow it (ingress-nginx then adds no CORS headers at all). Like
// ingress-nginx, a policy of any origin answers "*" even with credentials (which browsers
// refuse; the operator never renders that policy), where the services' middleware echoes
// the origin.
func allowOrigin(p cors.Policy, origin string) string {
	switch {
	case !p.Enabled || !p.Allows(origin):
		return ""
	case p.AllowsAnyOrigin():
		return cors.AnyOrigin
	default:
		return origin
	}
}

// setCORSHeaders sets the CORS response headers as ingress-nginx's more_set_headers does:
// replacing whatever the upstream sent, so there is exactly one of each.
func setCORSHeaders(p cors.Policy, h http.Header, allowOrigin string) {
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			h.Del(k)
		}
	}
	h.Set("Access-Control-Allow-Origin", allowOrigin)
	if p.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	h.Set("Access-Control-Allow-Methods", strings.Join(p.AllowMethods, nginxListSeparator))
	h.Set("Access-Control-Allow-Headers", strings.Join(p.AllowHeaders, nginxListSeparator))
	if len(p.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(p.ExposeHeaders, nginxListSeparator))
	}
	h.Set("Access-Control-Max-Age", strconv.Itoa(p.MaxAge))
}

// nginxListSeparator joins a list in a CORS header, as the operator's annotations do.
const nginxListSeparator = ", "

// ingressRoute is one path of an Ingress rule and the Service behind it.
type ingressRoute struct {
	path    string
	exact   bool
	service string
}

func (r ingressRoute) matches(path string) bool {
	if r.exact {
		return path == r.path
	}
	// Prefix: element-wise, so /auth matches /auth and /auth/x but not /authx.
	p := strings.TrimSuffix(r.path, "/")
	return p == "" || path == p || strings.HasPrefix(path, p+"/")
}

// routeTable is an Ingress compiled for the gateway.
type routeTable struct {
	routes     []ingressRoute // most specific first
	defaultSvc string
	cors       cors.Policy
	hosts      []string // rule hosts, served on every host here
}

func compileIngress(ing *networkingv1.Ingress) routeTable {
	t := routeTable{cors: corsFromAnnotations(ing.Annotations)}
	if b := ing.Spec.DefaultBackend; b != nil && b.Service != nil {
		t.defaultSvc = b.Service.Name
	}
	for _, rule := range ing.Spec.Rules {
		if rule.Host != "" && !slices.Contains(t.hosts, rule.Host) {
			t.hosts = append(t.hosts, rule.Host)
		}
		if rule.HTTP == nil {
			continue
		}
		for _, p := range rule.HTTP.Paths {
			if p.Backend.Service == nil {
				continue
			}
			path := cmp.Or(p.Path, "/")
			exact := p.PathType != nil && *p.PathType == networkingv1.PathTypeExact
			t.routes = append(t.routes, ingressRoute{path: path, exact: exact, service: p.Backend.Service.Name})
		}
	}
	// Longest path first; an Exact path before a Prefix of the same length.
	slices.SortStableFunc(t.routes, func(a, b ingressRoute) int {
		if c := cmp.Compare(len(b.path), len(a.path)); c != 0 {
			return c
		}
		switch {
		case a.exact && !b.exact:
			return -1
		case b.exact && !a.exact:
			return 1
		}
		return 0
	})
	return t
}

// serviceFor is the Service that serves path, "" when none does.
func (t routeTable) serviceFor(path string) string {
	for _, r := range t.routes {
		if r.matches(path) {
			return r.service
		}
	}
	return t.defaultSvc
}

// gateway stands in for the ingress controller: it routes by the Ingress object and answers
// CORS as its nginx annotations say.
type gateway struct {
	// ingress reads the Ingress the operator created (through an informer cache, so every
	// request sees its latest version).
	ingress func(ctx context.Context) (*networkingv1.Ingress, error)
	// upstream maps a Service name to the local process's host:port.
	upstream func(service string) (string, bool)
	mail     http.Handler
	log      *slog.Logger

	mu      sync.Mutex
	version string
	table   routeTable
	proxies map[string]*httputil.ReverseProxy
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == PathMail && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		g.mail.ServeHTTP(w, r)
		return
	}
	t, err := g.routes(r.Context())
	if err != nil {
		http.Error(w, "littleecom dev gateway: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	if allow := allowOrigin(t.cors, r.Header.Get("Origin")); allow != "" {
		if r.Method == http.MethodOptions {
			// A preflight never reaches the services: ingress-nginx answers it itself.
			setCORSHeaders(t.cors, w.Header(), allow)
			w.Header().Set("Content-Type", "text/plain charset=UTF-8")
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), corsKey{}, corsAnswer{t.cors, allow}))
	}
	svc := t.serviceFor(r.URL.Path)
	if svc == "" {
		http.Error(w, "littleecom dev gateway: no Ingress path matches "+r.URL.Path, http.StatusNotFound)
		return
	}
	proxy, err := g.proxy(svc)
	if err != nil {
		http.Error(w, "littleecom dev gateway: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	proxy.ServeHTTP(w, r)
}

type corsKey struct{}

// corsAnswer is what the response to a CORS request gets, decided before proxying.
type corsAnswer struct {
	policy cors.Policy
	allow  string
}

// routes returns the table for the Ingress's current version, compiling it on a change.
func (g *gateway) routes(ctx context.Context) (routeTable, error) {
	ing, err := g.ingress(ctx)
	if apierrors.IsNotFound(err) {
		return routeTable{}, errors.New("no Ingress to route by: the operator has not created it (yet), " +
			"or the shop's spec.ingress.enabled is false (this gateway stands in for an ingress controller)")
	}
	if err != nil {
		return routeTable{}, fmt.Errorf("reading the Ingress: %w", err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if v := ing.ResourceVersion; v != g.version {
		g.version, g.table = v, compileIngress(ing)
		g.log.Info("routing by Ingress", "ingress", ing.Namespace+"/"+ing.Name, "resourceVersion", v,
			"routes", describeRoutes(g.table), "cors", g.table.cors.Enabled)
		if len(g.table.hosts) > 0 {
			g.log.Info("the Ingress's rules name hosts; the dev gateway serves them on every host", "hosts", g.table.hosts)
		}
	}
	return g.table, nil
}

func describeRoutes(t routeTable) string {
	var parts []string
	for _, r := range t.routes {
		kind := "Prefix"
		if r.exact {
			kind = "Exact"
		}
		parts = append(parts, fmt.Sprintf("%s %s -> %s", kind, r.path, r.service))
	}
	if t.defaultSvc != "" {
		parts = append(parts, "default -> "+t.defaultSvc)
	}
	return strings.Join(parts, ", ")
}

// proxy returns the reverse proxy to the local process of service.
func (g *gateway) proxy(service string) (*httputil.ReverseProxy, error) {
	addr, ok := g.upstream(service)
	if !ok {
		return nil, fmt.Errorf("the Ingress routes to Service %s, which no local process stands in for", service)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	key := service + "@" + addr
	if p, ok := g.proxies[key]; ok {
		return p, nil
	}
	target := &url.URL{Scheme: "http", Host: addr}
	p := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
			pr.Out.Host = pr.In.Host // as ingress-nginx: the upstream sees the client's Host
		},
		ModifyResponse: func(resp *http.Response) error {
			if a, ok := resp.Request.Context().Value(corsKey{}).(corsAnswer); ok {
				setCORSHeaders(a.policy, resp.Header, a.allow)
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if a, ok := r.Context().Value(corsKey{}).(corsAnswer); ok {
				setCORSHeaders(a.policy, w.Header(), a.allow)
			}
			g.log.Warn("upstream failed", "service", service, "addr", addr, "err", err)
			http.Error(w, "littleecom dev gateway: "+service+" does not answer", http.StatusBadGateway)
		},
	}
	if g.proxies == nil {
		g.proxies = map[string]*httputil.ReverseProxy{}
	}
	g.proxies[key] = p
	return p, nil
}
