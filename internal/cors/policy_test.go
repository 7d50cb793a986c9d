package cors_test

import (
	"errors"
	"testing"

	"littleecom.io/littleecom/internal/cors"
)

// The services' middleware, the operator's edge and the dev gateway all match origins with
// Allows; these cases are the rules they share.
func TestPolicy_Allows(t *testing.T) {
	listed := cors.Policy{AllowOrigins: []string{"https://shop.example.com", "https://*.example.org", "http://localhost:8080"}}
	tests := []struct {
		name   string
		policy cors.Policy
		origin string
		want   bool
	}{
		{"any origin allows every origin", cors.Policy{AllowOrigins: []string{"*"}}, "https://x.example", true},
		{"any origin allows a request without Origin", cors.Policy{AllowOrigins: []string{"*"}}, "", true},
		{"an exact origin", listed, "https://shop.example.com", true},
		{"scheme and host compare case-insensitively", listed, "HTTPS://Shop.Example.COM", true},
		{"a listed policy refuses an empty origin", listed, "", false},
		{"a listed policy refuses the opaque origin null", listed, "null", false},
		{"another scheme is another origin", listed, "http://shop.example.com", false},
		{"another port is another origin", listed, "https://shop.example.com:8443", false},
		{"a listed port must be sent", listed, "http://localhost", false},
		{"a listed port", listed, "http://localhost:8080", true},
		{"a path is not an origin", listed, "https://shop.example.com/", false},
		{"a lookalike with the host as prefix", listed, "https://shop.example.com.evil.net", false},
		{"a wildcard matches a subdomain", listed, "https://a.example.org", true},
		{"a wildcard matches deeper subdomains", listed, "https://a.b.example.org", true},
		{"a wildcard does not match its bare host", listed, "https://example.org", false},
		{"a wildcard keeps its scheme", listed, "http://a.example.org", false},
		{"a wildcard does not match a lookalike host", listed, "https://evilexample.org", false},
		{"a wildcard does not match a suffix in a path", listed, "https://evil.net/.example.org", false},
		{"no origins allow nothing", cors.Policy{}, "https://shop.example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.policy.Allows(tt.origin); got != tt.want {
				t.Errorf("Allows(%q) = %v, want %v", tt.origin, got, tt.want)
			}
		})
	}
}

func TestPolicy_Validate(t *testing.T) {
	tests := []struct {
		name   string
		policy cors.Policy
		want   error
	}{
		{"any origin", cors.Policy{AllowOrigins: []string{"*"}}, nil},
		{"listed origins with credentials", cors.Policy{AllowOrigins: []string{"https://a.example"}, AllowCredentials: true}, nil},
		{"any origin beside others", cors.Policy{AllowOrigins: []string{"*", "https://a.example"}}, cors.ErrAnyOriginCombined},
		{"credentials with any origin", cors.Policy{AllowOrigins: []string{"*"}, AllowCredentials: true}, cors.ErrCredentialsWithAnyOrigin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.policy.Validate(); !errors.Is(err, tt.want) {
				t.Errorf("Validate() = %v, want %v", err, tt.want)
			}
		})
	}
}
