package resource

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"littleecom.io/littleecom/internal/cors"
)

// ingress-nginx CORS annotations. The operator owns exactly these keys on its Ingress;
// every other annotation (cert-manager, rewrites, a user's own) is left alone.
const (
	nginxAnnotationPrefix           = "nginx.ingress.kubernetes.io/"
	AnnotationNginxEnableCORS       = nginxAnnotationPrefix + "enable-cors"
	AnnotationNginxCORSAllowOrigin  = nginxAnnotationPrefix + "cors-allow-origin"
	AnnotationNginxCORSAllowMethods = nginxAnnotationPrefix + "cors-allow-methods"
	AnnotationNginxCORSAllowHeaders = nginxAnnotationPrefix + "cors-allow-headers"
	AnnotationNginxCORSAllowCreds   = nginxAnnotationPrefix + "cors-allow-credentials"
	AnnotationNginxCORSMaxAge       = nginxAnnotationPrefix + "cors-max-age"
	// AnnotationNginxCORSExposeHeaders is not rendered by the operator; the dev gateway honours it.
	AnnotationNginxCORSExposeHeaders       = nginxAnnotationPrefix + "cors-expose-headers"
	nginxListSeparator                     = ", "
	gatewayMinCORSMaxAge             int32 = 1
)

// nginxCORSAnnotations are the keys the Ingress builder manages; one that the rendering
// no longer produces is removed.
var nginxCORSAnnotations = []string{
	AnnotationNginxEnableCORS, AnnotationNginxCORSAllowOrigin, AnnotationNginxCORSAllowMethods,
	AnnotationNginxCORSAllowHeaders, AnnotationNginxCORSAllowCreds, AnnotationNginxCORSMaxAge,
}

// ingress-nginx refuses an Ingress whose CORS annotations do not match its validators
// (annotation values end up in nginx.conf). These mirror them so that a value nginx would
// reject, or that could inject configuration, is reported here instead of rendered.
var (
	nginxOriginRe = regexp.MustCompile(`^https?://(\*\.)?[A-Za-z0-9.-]+(:[0-9]+)?$`)
	nginxMethodRe = regexp.MustCompile(`^[A-Za-z]+$`)
	nginxHeaderRe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

// corsPolicy is spec.ingress.cors as the shared CORS model, with the CRD's defaults applied
// and its lists cleaned: entries trimmed, empty ones dropped, duplicates (case-insensitive)
// removed, the user's order kept so the rendering is stable. The edge renders it (below);
// without an edge the services' middleware gets it through their environment (corsEnv).
func (s *Shop) corsPolicy() cors.Policy {
	spec := s.Instance.Spec.Ingress.CORS
	return cors.Policy{
		Enabled:          true,
		AllowOrigins:     cleanList(spec.AllowOrigins, defaultCORSOrigins),
		AllowMethods:     cleanList(spec.AllowMethods, defaultCORSMethods),
		AllowHeaders:     cleanList(spec.AllowHeaders, defaultCORSHeaders),
		AllowCredentials: spec.AllowCredentials,
		MaxAge:           int(ptr.Deref(spec.MaxAge, defaultCORSMaxAge)),
	}
}

// edgeCORS returns the CORS policy the edge answers with, or an error for a policy the edge
// cannot render faithfully (credentials with any origin, '*' beside other origins), which
// the CRD also refuses.
func (s *Shop) edgeCORS() (cors.Policy, error) {
	p := s.corsPolicy()
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("spec.ingress.cors: %w", err)
	}
	return p, nil
}

// nginxAnnotations renders a validated policy (edgeCORS) as ingress-nginx annotations.
func nginxAnnotations(p cors.Policy) (map[string]string, error) {
	if !p.AllowsAnyOrigin() {
		if err := checkAll("allowOrigins", p.AllowOrigins, nginxOriginRe); err != nil {
			return nil, err
		}
	}
	if err := checkAll("allowMethods", p.AllowMethods, nginxMethodRe); err != nil {
		return nil, err
	}
	if err := checkAll("allowHeaders", p.AllowHeaders, nginxHeaderRe); err != nil {
		return nil, err
	}
	return map[string]string{
		AnnotationNginxEnableCORS:       strconv.FormatBool(true),
		AnnotationNginxCORSAllowOrigin:  strings.Join(p.AllowOrigins, nginxListSeparator),
		AnnotationNginxCORSAllowMethods: strings.Join(p.AllowMethods, nginxListSeparator),
		AnnotationNginxCORSAllowHeaders: strings.Join(p.AllowHeaders, nginxListSeparator),
		AnnotationNginxCORSAllowCreds:   strconv.FormatBool(p.AllowCredentials),
		AnnotationNginxCORSMaxAge:       strconv.Itoa(p.MaxAge),
	}, nil
}

// httpRouteFilter renders a validated policy (edgeCORS) as the Gateway API CORS filter. Semantics worth
// knowing: with allowOrigins ["*"] and no credentials the gateway may answer `*` or echo
// the Origin; with credentials the origins are explicit (checked in edgeCORS) and the
// gateway echoes the matching Origin, never `*`. Gateway API's maxAge minimum is 1 s, so a
// maxAge of 0 ("do not cache preflights") becomes 1.
func httpRouteFilter(p cors.Policy) gatewayv1.HTTPRouteFilter {
	f := &gatewayv1.HTTPCORSFilter{
		AllowCredentials: new(p.AllowCredentials),
		MaxAge:           max(int32(p.MaxAge), gatewayMinCORSMaxAge),
	}
	for _, o := range p.AllowOrigins {
		f.AllowOrigins = append(f.AllowOrigins, gatewayv1.CORSOrigin(o))
	}
	for _, m := range p.AllowMethods {
		f.AllowMethods = append(f.AllowMethods, gatewayv1.HTTPMethodWithWildcard(m))
	}
	for _, h := range p.AllowHeaders {
		f.AllowHeaders = append(f.AllowHeaders, gatewayv1.HTTPHeaderName(h))
	}
	return gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterCORS, CORS: f}
}

// cleanList trims items, drops empty ones and case-insensitive duplicates (the first
// spelling wins), or returns def when nothing is left.
func cleanList[T ~string](items []T, def []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, item := range items {
		v := strings.TrimSpace(string(item))
		k := strings.ToLower(v)
		if v == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, v)
	}
	if len(out) == 0 {
		return append([]string(nil), def...)
	}
	return out
}

func checkAll(field string, items []string, re *regexp.Regexp) error {
	for _, item := range items {
		if !re.MatchString(item) {
			return fmt.Errorf("spec.ingress.cors.%s: %q cannot be expressed as an ingress-nginx annotation", field, item)
		}
	}
	return nil
}
