package resource

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1 "littleecom.io/littleecom/api/v1"
)

// Keys of the Elasticsearch credentials Secret. Kibana and Fluentd do not log in as the
// elastic superuser: Kibana 8 refuses it, and a log shipper needs only to write its indices.
const (
	ElasticPasswordKey = "elastic-password"
	KibanaPasswordKey  = "kibana-system-password"
	FluentdPasswordKey = "fluentd-password"

	// FluentdESUser is the Elasticsearch user Fluentd writes as; its role may only create
	// and write the shop's log indices.
	FluentdESUser = "littleecom-fluentd"
	// FluentdESRole is that user's role.
	FluentdESRole = "littleecom_fluentd_writer"
)

// Keys of the transport certificate Secret.
const (
	TransportCertKey = "tls.crt"
	TransportKeyKey  = "tls.key"
)

// ElasticsearchCredentials are the generated passwords of the logging stack, created once.
// Elasticsearch stores the elastic password in its own data on first start, so a changed
// Secret does not change the password there.
func (s *Shop) ElasticsearchCredentials() Builder {
	g := &GeneratedSecret{shop: s, name: s.Names.ElasticsearchCredentialsSecret(), component: ComponentElasticsearch,
		keys: map[string]generator{
			ElasticPasswordKey: randomToken(32),
			KibanaPasswordKey:  randomToken(32),
			FluentdPasswordKey: randomToken(32),
		}}
	return optional{Builder: g, enabled: s.LoggingEnabled()}
}

// ElasticsearchCredentialsKept says whether a disabled logging stack keeps its credentials
// Secret: it does while the data volumes are retained (the default), because Elasticsearch
// keeps the password it first started with in its data, and a re-enabled stack with new
// passwords could not log in to it. The Secret still goes with the LittleEcom.
func (s *Shop) ElasticsearchCredentialsKept() bool {
	return s.Instance.Spec.Logging.Elasticsearch.Storage.RetentionPolicy != shopv1.RetentionDelete
}

// transportSecretBuilder is the certificate Elasticsearch nodes present to each other.
// Elasticsearch 8 with security on requires TLS between nodes of a multi-node cluster. One
// self-signed certificate serves as every node's certificate and as the trusted authority;
// nodes verify the certificate, not the host name (verification_mode certificate), so the
// certificate need not list pod names.
type transportSecretBuilder struct{ shop *Shop }

// ElasticsearchTransportCert returns the builder of the transport certificate Secret,
// generated once (key and certificate together).
func (s *Shop) ElasticsearchTransportCert() Builder {
	return optional{Builder: &transportSecretBuilder{shop: s}, enabled: s.LoggingEnabled()}
}

// Build implements Builder.
func (b *transportSecretBuilder) Build() client.Object {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: b.shop.Names.ElasticsearchTransportSecret(), Namespace: b.shop.Instance.Namespace}}
}

// Update implements Builder.
func (b *transportSecretBuilder) Update(obj client.Object) error {
	secret, ok := obj.(*corev1.Secret)
	if !ok {
		return typeError("Secret", obj)
	}
	if err := b.shop.setOwnerAndLabels(secret, ComponentElasticsearch); err != nil {
		return err
	}
	if secret.Type == "" {
		secret.Type = corev1.SecretTypeOpaque
	}
	if len(secret.Data[TransportCertKey]) > 0 && len(secret.Data[TransportKeyKey]) > 0 {
		return nil
	}
	cert, key, err := selfSignedCert(b.shop.Names.Elasticsearch())
	if err != nil {
		return fmt.Errorf("generating the Elasticsearch transport certificate: %w", err)
	}
	if secret.Data == nil {
		secret.Data = map[string][]byte{}
	}
	secret.Data[TransportCertKey], secret.Data[TransportKeyKey] = cert, key
	return nil
}

// selfSignedCert returns a PEM certificate valid for ten years and its PKCS#8 ECDSA key.
func selfSignedCert(commonName string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{commonName},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}
