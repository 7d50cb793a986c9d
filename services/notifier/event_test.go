package notifier

import (
	"errors"
	"strings"
	"testing"
	"time"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/internal/mailsink"
)

func TestParseEvent(t *testing.T) {
	cases := []struct {
		name, queue, body string
		malformed         bool
	}{
		{"original shop's body", contract.QueueItemAdded, `{"email":"ann@x.test","item":"lamp","price":3}`, false},
		{"with additive fields", contract.QueueItemBought, `{"email":"bob@x.test","item":"lamp","price":3,"event_id":"e1","seller":"ann@x.test","item_id":"abc"}`, false},
		{"free item", contract.QueueItemAdded, `{"email":"ann@x.test","item":"leaflet","price":0}`, false},
		{"not JSON", contract.QueueItemAdded, `lamp`, true},
		{"missing email", contract.QueueItemAdded, `{"item":"lamp","price":3}`, true},
		{"missing item", contract.QueueItemAdded, `{"email":"ann@x.test","price":3}`, true},
		{"blank item", contract.QueueItemAdded, `{"email":"ann@x.test","item":"  ","price":3}`, true},
		{"negative price", contract.QueueItemAdded, `{"email":"ann@x.test","item":"lamp","price":-1}`, true},
		{"header injection in email", contract.QueueItemAdded, `{"email":"ann@x.test\r\nBcc: all@x.test","item":"lamp","price":3}`, true},
		{"display-name form", contract.QueueItemAdded, `{"email":"Ann <ann@x.test>","item":"lamp","price":3}`, true},
		{"bad seller", contract.QueueItemBought, `{"email":"bob@x.test","item":"lamp","price":3,"seller":"nobody"}`, true},
		{"unknown queue", "elsewhere", `{"email":"ann@x.test","item":"lamp","price":3}`, true},
		{"look-alike address (U+017F)", contract.QueueItemAdded, `{"email":"ſam@x.test","item":"lamp","price":3}`, true},
		{"address folded to canonical", contract.QueueItemAdded, `{"email":" Ann@X.test ","item":"lamp","price":3}`, false},
		{"verification mail", contract.QueueAccountVerify, `{"email":"ann@x.test","link":"https://shop.example/auth/verify?token=abc","event_id":"v1"}`, false},
		{"verification without a link", contract.QueueAccountVerify, `{"email":"ann@x.test","event_id":"v1"}`, true},
		{"verification with a script link", contract.QueueAccountVerify, `{"email":"ann@x.test","link":"javascript:alert(1)"}`, true},
		{"verification link with a line break", contract.QueueAccountVerify, `{"email":"ann@x.test","link":"https://shop.example/\r\nBcc: x@y.z"}`, true},
		{"verification to a bad address", contract.QueueAccountVerify, `{"email":"nobody","link":"https://shop.example/auth/verify?token=abc"}`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseEvent(tc.queue, "", []byte(tc.body))
			if got := errors.Is(err, errMalformed); got != tc.malformed {
				t.Fatalf("malformed = %v (err %v), want %v", got, err, tc.malformed)
			}
		})
	}
}

func TestEventID_StableAndDistinct(t *testing.T) {
	body := []byte(`{"email":"ann@x.test","item":"lamp","price":3}`)
	a := eventID("", "", itemAdded, body)
	if a != eventID("", "", itemAdded, body) || !strings.HasPrefix(a, "sha256:") {
		t.Fatalf("body-derived id %q is not stable", a)
	}
	if a == eventID("", "", itemBought, body) {
		t.Error("the same body on two events got one id")
	}
	if got := eventID("e-7", "m-1", itemAdded, body); got != "e-7" {
		t.Errorf("event_id not preferred: %q", got)
	}
	if got := eventID("", "m-1", itemAdded, body); got != "msgid:m-1" {
		t.Errorf("message-id not used: %q", got)
	}
}

func TestEmails_RecipientsAndContent(t *testing.T) {
	bought := event{Kind: itemBought, ItemEvent: contract.ItemEvent{Email: "bob@x.test", Seller: "ann@x.test", Item: "Lamp\r\nBcc: x", Price: 7}}
	ms := emails(bought)
	if len(ms) != 2 || ms[0].Kind != toBuyer || ms[0].To != "bob@x.test" || ms[1].Kind != toSellerSold || ms[1].To != "ann@x.test" {
		t.Fatalf("emails = %+v", ms)
	}
	if strings.ContainsAny(ms[0].Subject, "\r\n") {
		t.Errorf("subject carries a line break: %q", ms[0].Subject)
	}
	if got := emails(event{Kind: itemBought, ItemEvent: contract.ItemEvent{Email: "bob@x.test", Item: "lamp"}}); len(got) != 1 {
		t.Errorf("no seller: %d e-mails, want the buyer's only", len(got))
	}
	if got := emails(event{Kind: itemAdded, ItemEvent: contract.ItemEvent{Email: "ann@x.test", Item: "lamp", Price: 2.5}}); len(got) != 1 ||
		got[0].Kind != toSellerListed || !strings.Contains(got[0].Subject, "2.50") {
		t.Errorf("item added: %+v", got)
	}
}

// What compose writes parses back, through a real SMTP server, to what was meant.
func TestCompose_RoundTripsThroughTheSink(t *testing.T) {
	sink, err := mailsink.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sink.Close() }()
	s := newSender(SMTPConfig{Host: sink.Host(), Port: sink.Port(), From: "Shop <no-reply@x.test>", envelopeFrom: "no-reply@x.test",
		StartTLS: contract.SMTPStartTLSNever, DialTimeout: time.Second, SendTimeout: time.Second})
	defer s.close()
	m := email{To: "ann@x.test", Subject: `Sold: "Crème brûlée torch" for 19.90`, Body: "Line one, a long line " + strings.Repeat("é", 100) + "\nLine two\n"}
	if err := s.send(t.Context(), m.To, compose("Shop <no-reply@x.test>", m, "ev/1", time.Now())); err != nil {
		t.Fatal(err)
	}
	got := sink.Messages()[0]
	if got.Subject != m.Subject {
		t.Errorf("subject = %q, want %q", got.Subject, m.Subject)
	}
	if got.Body != m.Body {
		t.Errorf("body = %q, want %q", got.Body, m.Body)
	}
	if got.From != "no-reply@x.test" {
		t.Errorf("envelope from = %q", got.From)
	}
}
