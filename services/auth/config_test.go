package auth

import (
	"strings"
	"testing"
	"time"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/tokens"
)

func TestConfigFromEnv(t *testing.T) {
	cfg, err := ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AccessTokenTTL != 15*time.Minute || cfg.RefreshTokenTTL != 720*time.Hour || cfg.Issuer != contract.DefaultIssuer ||
		cfg.Audience != contract.DefaultAudience || cfg.Mongo.Database != contract.DatabaseAuth || cfg.HTTPAddr != ":8080" ||
		cfg.ManagementAddr != ":8081" || cfg.SignInFailuresPerAccount != 10 || cfg.SignInFailuresPerClient != 100 ||
		cfg.RegisterPerClient != 40 || cfg.RegisterPerMinute != 600 || cfg.EmailVerification {
		t.Errorf("defaults = %+v", cfg)
	}

	pem, _ := tokens.MarshalPrivateKeyPEM(tokens.GenerateKey())
	t.Setenv(contract.EnvAuthSigningKey, string(pem))
	t.Setenv(contract.EnvAuthAccessTokenTTL, "5m")
	t.Setenv(contract.EnvTrustedProxies, "10.0.0.0/8, 192.168.0.0/16")
	cfg, err = ConfigFromEnv()
	if err != nil || cfg.AccessTokenTTL != 5*time.Minute || len(cfg.TrustedProxies) != 2 {
		t.Fatalf("%+v %v", cfg, err)
	}
	if s := cfg.LogValue().String(); strings.Contains(s, "PRIVATE KEY") {
		t.Errorf("config log shows the key: %s", s)
	}
	if _, err := signingKey(cfg, nil); err != nil {
		t.Errorf("signing key: %v", err)
	}

	for key, val := range map[string]string{
		contract.EnvAuthAccessTokenTTL:           "soon",
		contract.EnvAuthRefreshTokenTTL:          "1m", // shorter than the access TTL
		contract.EnvTrustedProxies:               "10.0.0.0/99",
		contract.EnvAuthSignInFailuresPerAccount: "0",
		contract.EnvAuthSignInFailuresPerClient:  "-1",
		contract.EnvAuthRegisterPerClient:        "many",
		contract.EnvAuthRegisterPerMinute:        "0",
		contract.EnvAuthEmailVerification:        "sometimes",
	} {
		t.Run(key, func(t *testing.T) {
			t.Setenv(key, val)
			if _, err := ConfigFromEnv(); err == nil || !strings.Contains(err.Error(), key) {
				t.Errorf("err = %v", err)
			}
		})
	}
}

// Verification needs the public URL its links start with, and RabbitMQ to hand mails over.
func TestConfigFromEnv_EmailVerification(t *testing.T) {
	t.Setenv(contract.EnvAuthEmailVerification, "true")
	if _, err := ConfigFromEnv(); err == nil || !strings.Contains(err.Error(), contract.EnvAuthPublicURL) {
		t.Errorf("without a public URL: %v", err)
	}
	for _, bad := range []string{"shop.example.com", "ftp://shop.example.com", "https://shop.example.com/?a=b", "https://"} {
		t.Setenv(contract.EnvAuthPublicURL, bad)
		if _, err := ConfigFromEnv(); err == nil {
			t.Errorf("%s=%q accepted", contract.EnvAuthPublicURL, bad)
		}
	}
	t.Setenv(contract.EnvAuthPublicURL, "https://shop.example.com/")
	t.Setenv(contract.EnvAMQPURL, "amqp://rabbitmq.shop:5672/")
	cfg, err := ConfigFromEnv()
	if err != nil || !cfg.EmailVerification || cfg.PublicURL != "https://shop.example.com" || cfg.AMQP.URL != "amqp://rabbitmq.shop:5672/" {
		t.Fatalf("%+v %v", cfg, err)
	}
}
