package mailaddr_test

import (
	"strings"
	"testing"

	"littleecom.io/littleecom/services/internal/mailaddr"
)

func TestValid(t *testing.T) {
	for _, ok := range []string{"ann@shop.example", "a.b+c@x.y", "o'brien@example.test"} {
		if !mailaddr.Valid(ok) {
			t.Errorf("%q refused", ok)
		}
	}
	for _, bad := range []string{
		"", "ann", "@shop.example", "ann@", "Ann <ann@shop.example>", "<ann@shop.example>",
		"ann@shop.example\r\nBcc: x@y.z", "ann @shop.example", " ann@shop.example",
		strings.Repeat("a", 250) + "@x.yz",
	} {
		if mailaddr.Valid(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestNormalize(t *testing.T) {
	if got := mailaddr.Normalize("  Ann@Shop.Example\n"); got != "ann@shop.example" {
		t.Errorf("Normalize = %q", got)
	}
}
