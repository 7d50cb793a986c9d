// Package mailaddr is the one rule for the shop's e-mail addresses: what auth accepts when an
// account is made is what the notifier accepts as a recipient.
package mailaddr

import (
	"net/mail"
	"strings"
)

// maxLen is the longest address SMTP can carry (RFC 5321's path limit less its brackets).
const maxLen = 254

// Normalize trims and lower-cases, so "Ann@Shop.example " and "ann@shop.example" are one
// account.
func Normalize(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Valid accepts a bare addr-spec (local@domain), nothing else: no display name, no angle
// brackets, no white space or line breaks that could smuggle headers into a mail.
func Valid(s string) bool {
	if len(s) > maxLen || strings.ContainsAny(s, " \t\r\n<>") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && domain != ""
}
