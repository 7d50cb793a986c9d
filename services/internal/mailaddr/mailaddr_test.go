package mailaddr_test

import (
	"errors"
	"strings"
	"testing"

	"littleecom.io/littleecom/services/internal/mailaddr"
)

func TestCanonical(t *testing.T) {
	for in, want := range map[string]string{
		"ann@shop.example":               "ann@shop.example",
		"  Ann@Shop.Example\r\n":         "ann@shop.example",
		"A.B+c@x.y":                      "a.b+c@x.y",
		"o'brien@example.test":           "o'brien@example.test",
		"ann@xn--bcher-kva.test":         "ann@xn--bcher-kva.test",
		"ann@localhost":                  "ann@localhost",
		"x@a-b.example":                  "x@a-b.example",
		strings.Repeat("a", 64) + "@x.y": strings.Repeat("a", 64) + "@x.y",
	} {
		got, err := mailaddr.Canonical(in)
		if err != nil || got != want {
			t.Errorf("Canonical(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// Look-alikes are refused, never folded onto the ASCII address they imitate.
func TestCanonical_RefusesNonASCII(t *testing.T) {
	for _, in := range []string{
		"ſam@shop.example",       // U+017F LATIN SMALL LETTER LONG S: folds to "s"
		"\u212Aim@shop.example",  // KELVIN SIGN: lower-cases to "k"
		"sam@ѕhop.example",       // Cyrillic dze
		"ｓam@shop.example",       // fullwidth
		"sam\u200b@shop.example", // zero-width space
		"sam@shop.example\u00a0", // trailing no-break space
		"josé@shop.example",      // a real name, refused all the same: relays need not speak SMTPUTF8
		"ann@bücher.example",     // IDN domain: give its xn-- form
	} {
		if got, err := mailaddr.Canonical(in); !errors.Is(err, mailaddr.ErrNotASCII) {
			t.Errorf("Canonical(%q) = %q, %v; want ErrNotASCII", in, got, err)
		}
	}
}

func TestCanonical_RefusesWhatIsNotAPlainAddress(t *testing.T) {
	for _, in := range []string{
		"", "ann", "@shop.example", "ann@", "Ann <ann@shop.example>", "<ann@shop.example>",
		"ann@shop.example\r\nBcc: x@y.z", "ann @shop.example", "a@b@c.d", `"ann"@shop.example`,
		"ann(comment)@shop.example", "ann@[192.0.2.1]", ".ann@x.y", "ann.@x.y", "a..b@x.y",
		"ann@x..y", "ann@-x.y", "ann@x-.y", "ann@x_y.z", "ann@.x", "ann\x00@x.y",
		strings.Repeat("a", 65) + "@x.y",
		"a@" + strings.Repeat("b", 64) + ".y",
		strings.Repeat("a", 60) + "@" + strings.Repeat(strings.Repeat("b", 60)+".", 4) + "yz",
	} {
		if got, err := mailaddr.Canonical(in); !errors.Is(err, mailaddr.ErrInvalid) {
			t.Errorf("Canonical(%q) = %q, %v; want ErrInvalid", in, got, err)
		}
	}
}

func TestIsCanonical(t *testing.T) {
	if !mailaddr.IsCanonical("ann@shop.example") {
		t.Error("canonical address refused")
	}
	for _, s := range []string{"Ann@shop.example", " ann@shop.example", "ſam@shop.example", ""} {
		if mailaddr.IsCanonical(s) {
			t.Errorf("IsCanonical(%q) = true", s)
		}
	}
	if mailaddr.LocalPart("ann@shop.example") != "ann" {
		t.Error("LocalPart")
	}
}
