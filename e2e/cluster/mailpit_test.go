package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// mailpit is a client of Mailpit's REST API, the notifier's relay on the node. The host
// reaches the Service's ClusterIP through kube-proxy's rules.
type mailpit struct {
	base string
	http *http.Client
}

// mail is one message as Mailpit lists it.
type mail struct {
	ID      string        `json:"ID"`
	From    mailAddress   `json:"From"`
	To      []mailAddress `json:"To"`
	Subject string        `json:"Subject"`
	Snippet string        `json:"Snippet"`
}

type mailAddress struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// mailpitPort is the Service port of Mailpit's web UI and API.
const mailpitPort = "http"

// newMailpit finds Mailpit's Service in the infra namespace.
func newMailpit(ctx context.Context) (mailpit, error) {
	var svc corev1.Service
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: env.infraNamespace, Name: "mailpit"}, &svc); err != nil {
		return mailpit{}, fmt.Errorf("reading Mailpit's Service: %w", err)
	}
	for _, p := range svc.Spec.Ports {
		if p.Name == mailpitPort || p.Port == 8025 {
			addr := net.JoinHostPort(svc.Spec.ClusterIP, strconv.Itoa(int(p.Port)))
			return mailpit{base: "http://" + addr, http: &http.Client{Timeout: 10 * time.Second}}, nil
		}
	}
	return mailpit{}, fmt.Errorf("service %s/mailpit has no port %q", env.infraNamespace, mailpitPort)
}

// to lists the messages addressed to addr (Mailpit's search, then an exact match).
func (m mailpit) to(ctx context.Context, addr string) ([]mail, error) {
	q := url.Values{"query": {fmt.Sprintf("to:%q", addr)}, "limit": {"200"}}
	var page struct {
		Messages []mail `json:"messages"`
	}
	if err := m.call(ctx, http.MethodGet, "/api/v1/search?"+q.Encode(), nil, &page); err != nil {
		return nil, err
	}
	var out []mail
	for _, msg := range page.Messages {
		for _, a := range msg.To {
			if strings.EqualFold(a.Address, addr) {
				out = append(out, msg)
				break
			}
		}
	}
	return out, nil
}

// delete removes the messages with the given IDs (never all: other runs may be reading).
func (m mailpit) delete(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return m.call(ctx, http.MethodDelete, "/api/v1/messages", map[string][]string{"IDs": ids}, nil)
}

func (m mailpit) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, m.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := m.http.Do(req)
	if err != nil {
		return fmt.Errorf("mailpit %s %s: %w", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("mailpit %s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(raw))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("mailpit %s %s: decoding %s: %w", method, path, raw, err)
	}
	return nil
}
