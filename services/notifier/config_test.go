package notifier

import (
	"fmt"
	"strings"
	"testing"

	"littleecom.io/littleecom/internal/contract"
)

func TestConfigFromEnv(t *testing.T) {
	t.Setenv(contract.EnvSMTPHost, "smtp.example.test")
	t.Setenv(contract.EnvSMTPPort, "587")
	t.Setenv(contract.EnvSMTPFrom, "Shop <shop@example.test>")
	t.Setenv(contract.EnvSMTPUsername, "shop")
	t.Setenv(contract.EnvSMTPPassword, "hunter2")
	t.Setenv(contract.EnvSMTPStartTLS, contract.SMTPStartTLSAlways)
	t.Setenv(contract.EnvNotifierPrefetch, "10")
	t.Setenv(contract.EnvNotifierMaxAttempts, "7")
	cfg, err := ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SMTP.Port != 587 || cfg.Prefetch != 10 || cfg.MaxAttempts != 7 || cfg.Workers != DefaultWorkers ||
		cfg.SMTP.envelopeFrom != "shop@example.test" || cfg.SMTP.StartTLS != contract.SMTPStartTLSAlways {
		t.Errorf("cfg = %+v", cfg)
	}
	if s := fmt.Sprintf("%v %+v", cfg, cfg); strings.Contains(s, "hunter2") {
		t.Errorf("password shows in %s", s)
	}

	for env, val := range map[string]string{
		contract.EnvSMTPStartTLS:     "Sometimes",
		contract.EnvNotifierPrefetch: "0",
		contract.EnvSMTPFrom:         "not an address",
		contract.EnvSMTPPort:         "smtp",
	} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, val)
			if _, err := ConfigFromEnv(); err == nil {
				t.Errorf("%s=%q accepted", env, val)
			}
		})
	}
}

// SMTP_STARTTLS unset: Always when the relay has credentials, IfAvailable when it has none.
func TestConfigFromEnv_StartTLSDefault(t *testing.T) {
	t.Setenv(contract.EnvSMTPHost, "smtp.example.test")
	cfg, err := ConfigFromEnv()
	if err != nil || cfg.SMTP.StartTLS != contract.SMTPStartTLSIfAvailable {
		t.Errorf("without credentials: %q %v", cfg.SMTP.StartTLS, err)
	}
	t.Setenv(contract.EnvSMTPUsername, "shop")
	t.Setenv(contract.EnvSMTPPassword, "hunter2")
	cfg, err = ConfigFromEnv()
	if err != nil || cfg.SMTP.StartTLS != contract.SMTPStartTLSAlways {
		t.Errorf("with credentials: %q %v", cfg.SMTP.StartTLS, err)
	}
	t.Setenv(contract.EnvSMTPStartTLS, contract.SMTPStartTLSIfAvailable) // said explicitly: kept
	cfg, err = ConfigFromEnv()
	if err != nil || cfg.SMTP.StartTLS != contract.SMTPStartTLSIfAvailable {
		t.Errorf("explicit IfAvailable with credentials: %q %v", cfg.SMTP.StartTLS, err)
	}
}
