package notifier

import (
	"bytes"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"strings"
	"time"
)

// recipientKind names one of the e-mails an event causes. Together with the event id it is
// the dedup key: an item-bought event sends two e-mails, each claimed on its own.
type recipientKind string

const (
	toSellerListed recipientKind = "seller-listed" // item added: to the seller
	toBuyer        recipientKind = "buyer"         // item bought: confirmation to the buyer
	toSellerSold   recipientKind = "seller-sold"   // item bought: sold notice to the seller
	toRegistrant   recipientKind = "verify"        // account verification: the link
)

// email is one message to send.
type email struct {
	Kind    recipientKind
	To      string
	Subject string
	Body    string
}

// emails lists what ev must cause, in a fixed order (so retries walk them the same way).
func emails(ev event) []email {
	item := oneLine(ev.Item)
	price := formatPrice(ev.Price)
	switch ev.Kind {
	case itemAdded:
		return []email{{
			Kind:    toSellerListed,
			To:      ev.Email,
			Subject: fmt.Sprintf("Your item \"%s\" is listed for %s", item, price),
			Body: fmt.Sprintf("Hello,\n\nyour item \"%s\" is now listed on LittleEcom for %s.\n"+
				"We will let you know when someone buys it.\n\n-- LittleEcom\n", item, price),
		}}
	case itemBought:
		out := []email{{
			Kind:    toBuyer,
			To:      ev.Email,
			Subject: fmt.Sprintf("Order confirmation: \"%s\" for %s", item, price),
			Body: fmt.Sprintf("Hello,\n\nthank you for your order. You bought \"%s\" for %s.\n\n-- LittleEcom\n",
				item, price),
		}}
		if ev.Seller != "" {
			out = append(out, email{
				Kind:    toSellerSold,
				To:      ev.Seller,
				Subject: fmt.Sprintf("Sold: your item \"%s\" for %s", item, price),
				Body: fmt.Sprintf("Hello,\n\ngood news: your item \"%s\" was sold for %s to %s.\n\n-- LittleEcom\n",
					item, price, ev.Email),
			})
		}
		return out
	case accountVerify:
		return []email{{
			Kind:    toRegistrant,
			To:      ev.Email,
			Subject: "Confirm your e-mail address for LittleEcom",
			Body: fmt.Sprintf("Hello,\n\nsomeone, hopefully you, made a LittleEcom account with this address.\n"+
				"Follow this link within 24 hours to confirm it:\n\n%s\n\n"+
				"If it was not you, ignore this mail: without the confirmation the account cannot be used.\n\n-- LittleEcom\n", ev.Link),
		}}
	}
	return nil
}

// formatPrice shows a price the way the shop does: two decimals, no currency (the shop has
// none in its data).
func formatPrice(p float64) string { return fmt.Sprintf("%.2f", p) }

// oneLine keeps user-supplied text from breaking the layout of a subject or a line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// compose renders m as an RFC 5322 message. The Message-ID derives from the event and the
// recipient kind, so even a rare duplicate (see store/claims.go) carries the same id and mail
// clients can fold it. The body is quoted-printable UTF-8: item names are user text and
// may not be ASCII, and QP survives servers without 8BITMIME.
func compose(from string, m email, eventID string, now time.Time) []byte {
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", from)
	header("To", m.To)
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", now.UTC().Format(time.RFC1123Z))
	header("Message-ID", fmt.Sprintf("<%s.%s@notifier.littleecom>", messageIDPart(eventID), m.Kind))
	header("MIME-Version", "1.0")
	header("Content-Type", `text/plain; charset="utf-8"`)
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(m.Body, "\n", "\r\n")))
	_ = qp.Close()
	return b.Bytes()
}

// messageIDPart keeps only characters that are safe in a Message-ID's left part.
func messageIDPart(id string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.', r == '_':
			return r
		}
		return '_'
	}, id)
}
