// Package mailaddr is the one rule for the shop's e-mail addresses. Canonical is the only
// function that turns what a person typed into the address the shop stores and compares:
// auth keeps accounts unique by it, the backend compares and stores sellers and buyers by it
// (through the token auth issues from it), and the notifier accepts recipients by it.
//
// The canonical form is ASCII only. An address with any other character is refused, not
// folded: Unicode case folding and compatibility mappings make look-alikes meet
// ("ſam" with U+017F folds to "sam", the Kelvin sign K lower-cases to "k"), and an
// application that folds once in one place and differently in another hands one person's
// account to another. Refusing them costs little: a non-ASCII address can be mailed only
// through a relay that speaks SMTPUTF8, which the notifier cannot count on, and a domain
// with non-ASCII letters can be given in its ASCII (IDNA, "xn--") form.
//
// Within ASCII the local part and the domain are lower-cased, as the original shop did:
// RFC 5321 lets a server treat the local part's case as significant, but no mailbox provider
// a shop's customers use does, and two accounts differing only in case would be a trap.
package mailaddr

import (
	"errors"
	"strings"
)

// Limits from RFC 5321: a path holds at most 256 octets with its angle brackets, a local part
// 64, a domain label 63.
const (
	maxLen      = 254
	maxLocalLen = 64
	maxLabelLen = 63
)

// Errors of Canonical. Their text is fit for a client.
var (
	// ErrNotASCII refuses an address with a character outside ASCII (see the package doc).
	ErrNotASCII = errors.New("e-mail address must be ASCII (write an internationalized domain in its xn-- form)")
	// ErrInvalid refuses anything that is not a plain local@domain.
	ErrInvalid = errors.New("invalid e-mail address")
)

// Canonical returns the address in the one form the shop stores and compares: surrounding
// ASCII white space removed, lower-cased, checked to be a bare addr-spec (local@domain, a
// dot-atom on each side: no display name, no quotes, no comments, no domain literal, nothing
// that could carry a header into a mail). Any non-ASCII character is ErrNotASCII; any other
// refusal is ErrInvalid.
func Canonical(s string) (string, error) {
	s = strings.Trim(s, " \t\r\n")
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return "", ErrNotASCII
		}
	}
	if len(s) > maxLen {
		return "", ErrInvalid
	}
	s = strings.ToLower(s)
	local, domain, ok := strings.Cut(s, "@")
	if !ok || len(local) > maxLocalLen || !dotAtom(local, isAtext) || !validDomain(domain) {
		return "", ErrInvalid
	}
	return s, nil
}

// IsCanonical reports whether s is already in canonical form: what a service accepts from
// another (a token's e-mail, an event's recipient) without folding it again.
func IsCanonical(s string) bool {
	c, err := Canonical(s)
	return err == nil && c == s
}

// LocalPart returns what precedes the @ of a canonical address (the shop's "owner").
func LocalPart(addr string) string {
	local, _, _ := strings.Cut(addr, "@")
	return local
}

// dotAtom reports whether s is one or more non-empty runs of allowed characters joined by
// single dots (RFC 5322 dot-atom-text).
func dotAtom(s string, allowed func(byte) bool) bool {
	if s == "" {
		return false
	}
	for part := range strings.SplitSeq(s, ".") {
		if part == "" {
			return false
		}
		for i := 0; i < len(part); i++ {
			if !allowed(part[i]) {
				return false
			}
		}
	}
	return true
}

// isAtext is RFC 5322 atext (lower case only: Canonical lower-cased already).
func isAtext(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// validDomain accepts host names: labels of letters, digits and inner hyphens.
func validDomain(d string) bool {
	if !dotAtom(d, func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' }) {
		return false
	}
	for label := range strings.SplitSeq(d, ".") {
		if len(label) > maxLabelLen || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
	}
	return true
}
