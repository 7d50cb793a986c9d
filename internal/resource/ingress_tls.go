package resource

import (
	networkingv1 "k8s.io/api/networking/v1"

	shopv1 "littleecom.io/littleecom/api/v1"
)

// cert-manager's ingress-shim reads these annotations on an Ingress and issues a
// certificate for each host of its tls section into that section's Secret, renewing it
// before it expires (cert-manager.io/docs/usage/ingress).
const (
	AnnotationCertManagerIssuer        = "cert-manager.io/issuer"
	AnnotationCertManagerClusterIssuer = "cert-manager.io/cluster-issuer"
)

// ingressTLSSuffix names the Secret cert-manager writes when the spec names none.
const ingressTLSSuffix = "-tls"

// IngressTLSEnabled reports whether the Ingress terminates TLS: a Secret is named, or
// cert-manager issues one.
func IngressTLSEnabled(in shopv1.IngressSpec) bool {
	return in.TLSSecretName != "" || in.CertManager != nil
}

// IngressTLSSecretName is the Secret of the Ingress's certificate: spec.ingress.tlsSecretName,
// or <name>-tls when cert-manager issues it; "" without TLS.
func (s *Shop) IngressTLSSecretName() string {
	in := s.Instance.Spec.Ingress
	switch {
	case in.TLSSecretName != "":
		return in.TLSSecretName
	case in.CertManager != nil:
		return s.Names.Ingress() + ingressTLSSuffix
	}
	return ""
}

// ingressTLS is the Ingress's tls section, nil without TLS.
func (s *Shop) ingressTLS() []networkingv1.IngressTLS {
	secret := s.IngressTLSSecretName()
	if secret == "" {
		return nil
	}
	tls := networkingv1.IngressTLS{SecretName: secret}
	if host := s.Instance.Spec.Ingress.Host; host != "" {
		tls.Hosts = []string{host}
	}
	return []networkingv1.IngressTLS{tls}
}

// annotationCertManagerManaged records the issuer annotation the operator set, so that it
// removes only its own when spec.ingress.certManager goes: an issuer annotation put on the
// Ingress by hand (how TLS was had before certManager existed) stays.
const annotationCertManagerManaged = "shop.littleecom.io/cert-manager-issuer"

// setCertManagerAnnotations sets the issuer annotation spec.ingress.certManager names (the
// spec wins over a hand-set issuer of either kind, since cert-manager refuses an Ingress
// with both), and without it removes only the annotation the operator had set.
func (s *Shop) setCertManagerAnnotations(annotations map[string]string) {
	cm := s.Instance.Spec.Ingress.CertManager
	if cm == nil {
		if set, ok := annotations[annotationCertManagerManaged]; ok {
			if set == AnnotationCertManagerIssuer || set == AnnotationCertManagerClusterIssuer {
				delete(annotations, set)
			}
			delete(annotations, annotationCertManagerManaged)
		}
		return
	}
	delete(annotations, AnnotationCertManagerIssuer)
	delete(annotations, AnnotationCertManagerClusterIssuer)
	key := AnnotationCertManagerIssuer
	if cm.IssuerKind == shopv1.IssuerKindClusterIssuer {
		key = AnnotationCertManagerClusterIssuer
	}
	annotations[key] = cm.IssuerName
	annotations[annotationCertManagerManaged] = key
}
