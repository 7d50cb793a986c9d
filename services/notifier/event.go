package notifier

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/internal/mailaddr"
)

// errMalformed marks a message that no retry can fix: it goes straight to the dead-letter queue.
var errMalformed = errors.New("malformed event")

// eventKind says which of the two events a message is; it follows from the queue it came from.
type eventKind string

const (
	itemAdded     eventKind = "item_added"
	itemBought    eventKind = "item_bought"
	accountVerify eventKind = "account_verify" // auth's verification mail
)

// kindOfQueue maps the consumed queues to their event.
var kindOfQueue = map[string]eventKind{
	contract.QueueItemAdded:     itemAdded,
	contract.QueueItemBought:    itemBought,
	contract.QueueAccountVerify: accountVerify,
}

// event is a parsed, validated message.
type event struct {
	contract.ItemEvent
	Kind eventKind
	// Link is the verification link of an accountVerify event.
	Link string
	// ID is the dedup identity: event_id when the publisher set one, else the AMQP
	// message-id, else a hash of the body (see eventID).
	ID string
}

// parseEvent decodes and validates a message body from queue. messageID is the AMQP
// message-id property, used when the body has no event_id.
func parseEvent(queue, messageID string, body []byte) (event, error) {
	kind, ok := kindOfQueue[queue]
	if !ok {
		return event{}, fmt.Errorf("%w: unknown queue %q", errMalformed, queue)
	}
	if kind == accountVerify {
		return parseAccountEvent(messageID, body)
	}
	var e event
	if err := json.Unmarshal(body, &e.ItemEvent); err != nil {
		return event{}, fmt.Errorf("%w: invalid JSON: %v", errMalformed, err)
	}
	e.Kind = kind
	e.Item = strings.TrimSpace(e.Item)
	var err error
	switch {
	case strings.TrimSpace(e.Email) == "":
		return event{}, fmt.Errorf("%w: missing email", errMalformed)
	case e.Item == "":
		return event{}, fmt.Errorf("%w: missing item", errMalformed)
	case e.Price < 0 || math.IsInf(e.Price, 0):
		return event{}, fmt.Errorf("%w: price %v", errMalformed, e.Price)
	}
	// Recipients in the shop's one canonical form (mailaddr): what auth registered.
	if e.Email, err = mailaddr.Canonical(e.Email); err != nil {
		return event{}, fmt.Errorf("%w: email: %v", errMalformed, err)
	}
	if e.Seller = strings.TrimSpace(e.Seller); e.Seller != "" {
		if e.Seller, err = mailaddr.Canonical(e.Seller); err != nil {
			return event{}, fmt.Errorf("%w: seller: %v", errMalformed, err)
		}
	}
	e.ID = eventID(e.EventID, messageID, kind, body)
	return e, nil
}

// eventID picks the dedup identity. Publishers of the original shop send no event_id; for
// them the identity is a hash of the event kind and the exact body, so a redelivery of the
// same message is still recognised. The price of that fallback: two genuinely different
// events with byte-identical bodies (the same seller listing the same item at the same price
// twice) count as one and get one e-mail. Publishers that care set event_id.
func eventID(eventID, messageID string, kind eventKind, body []byte) string {
	if id := strings.TrimSpace(eventID); id != "" {
		return id
	}
	if id := strings.TrimSpace(messageID); id != "" {
		return "msgid:" + id
	}
	sum := sha256.Sum256(append([]byte(string(kind)+"\x00"), body...))
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// parseAccountEvent decodes a verification mail's event: a canonical address and an absolute
// http(s) link, the only user-influenced text of that mail.
func parseAccountEvent(messageID string, body []byte) (event, error) {
	var a contract.AccountEvent
	if err := json.Unmarshal(body, &a); err != nil {
		return event{}, fmt.Errorf("%w: invalid JSON: %v", errMalformed, err)
	}
	email, err := mailaddr.Canonical(a.Email)
	if err != nil {
		return event{}, fmt.Errorf("%w: email: %v", errMalformed, err)
	}
	u, err := url.Parse(a.Link)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(a.Link, " \t\r\n") {
		return event{}, fmt.Errorf("%w: link %q", errMalformed, a.Link)
	}
	return event{
		ItemEvent: contract.ItemEvent{Email: email, EventID: a.EventID, OccurredAt: a.OccurredAt},
		Kind:      accountVerify,
		Link:      a.Link,
		ID:        eventID(a.EventID, messageID, accountVerify, body),
	}, nil
}
