package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"littleecom.io/littleecom/internal/contract"
	"littleecom.io/littleecom/services/auth/store"
	"littleecom.io/littleecom/services/internal/httpx"
	"littleecom.io/littleecom/services/internal/problem"
	"littleecom.io/littleecom/services/internal/tokens"
)

// E-mail verification (Config.EmailVerification, off by default). A new account is stored
// unverified and auth hands the notifier a mail with a link (contract.AccountEvent on
// contract.RoutingKeyAccountVerify); the link carries a token signed with auth's key for its
// own audience, valid for verifyLinkTTL, so no link needs storing and no access token can
// pass for one. Following it marks the account verified. Signing in with the right password
// before that answers 403 and sends a new link, at most verifyMailsPerHour an hour.
//
// Mails go out in the background: a registration answers at once whether the address was
// new (a mail) or taken (none), so the answer's timing tells nothing either. A mail that
// cannot be handed over (RabbitMQ down) is logged; signing in asks for another.

// verifyAudience is the aud of verification tokens, which access tokens never carry.
const verifyAudience = "littleecom-verify-email"

// verifyLinkTTL is how long a verification link works.
const verifyLinkTTL = 24 * time.Hour

// verifySendTimeout bounds handing one mail to RabbitMQ.
const verifySendTimeout = 15 * time.Second

// verification is the part of the service that exists when verification is on.
type verification struct {
	signer    *tokens.Signer
	verifier  *tokens.Verifier
	publisher *publisher
	publicURL string
}

func newVerification(cfg Config, s *Service) *verification {
	signer := tokens.NewSigner(s.signingKey, cfg.Issuer, verifyAudience, verifyLinkTTL)
	return &verification{
		signer:    signer,
		verifier:  tokens.NewVerifierWithCache(signer.Keys(), cfg.Issuer, verifyAudience, 0),
		publisher: newPublisher(cfg.AMQP, s.log),
		publicURL: cfg.PublicURL,
	}
}

// mailVerification sends u a link in the background, unless u had verifyMailsPerHour this
// hour. Nothing of it happens on the request's time: a registration's answer must take as
// long for a taken address (no mail) as for a new one.
func (s *Service) mailVerification(u store.User) {
	if s.verify == nil {
		return
	}
	s.background.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), verifySendTimeout)
		defer cancel()
		log := s.log.With("user_id", u.ID.Hex())
		_, ok, _, err := s.limits.verifyMails.Take(ctx, u.ID.Hex())
		switch {
		case err != nil:
			log.Warn("verification mail not sent", "err", err)
		case !ok:
			log.Info("verification mail not sent: this hour's are sent")
		default:
			if err := s.publishVerification(ctx, u); err != nil {
				log.Warn("verification mail not handed to the notifier; signing in asks for another", "err", err)
			}
		}
	})
}

func (s *Service) publishVerification(ctx context.Context, u store.User) error {
	tok, _, err := s.verify.signer.Sign(u.Email, u.ID.Hex())
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(tok))
	ev := contract.AccountEvent{
		Email:      u.Email,
		Link:       s.verify.publicURL + contract.PathVerifyEmail + "?" + url.Values{"token": {tok}}.Encode(),
		EventID:    "verify-" + hex.EncodeToString(sum[:16]),
		OccurredAt: s.now().UTC().Format(time.RFC3339Nano),
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode verification event: %w", err)
	}
	return s.verify.publisher.publish(ctx, contract.RoutingKeyAccountVerify, ev.EventID, body)
}

// replaceAbandoned gives a registration the address of an account that never verified it
// within verifyLinkTTL: otherwise anyone could keep an address from its owner by
// registering it first. A younger unverified account stays (errDuplicate): its link may be
// on its way to the mailbox, and replacing its password then would let whoever registered
// last decide which password the owner's click verifies.
func (s *Service) replaceAbandoned(ctx context.Context, u store.User) error {
	old, err := s.store.UserByEmail(ctx, u.Email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return s.store.InsertUser(ctx, u) // deleted meanwhile
	case err != nil:
		return err
	case old.Verified() || s.now().Sub(old.CreatedAt) < verifyLinkTTL:
		return store.ErrDuplicate
	}
	if err := s.store.DeleteUnverified(ctx, old.ID); err != nil {
		return err
	}
	httpx.LoggerFrom(ctx).Info("an unverified account older than its link is replaced", "user_id", old.ID.Hex())
	return s.store.InsertUser(ctx, u)
}

// errBadLink is every refusal of a verification link: which part was wrong helps no one.
var errBadLink = problem.Invalidf("invalid or expired verification link; sign in to get a new one")

// verifyEmail serves the link: it marks the account verified and says so in plain text, for
// a person who clicked it in a mail. Following a link twice is fine.
func (s *Service) verifyEmail(w http.ResponseWriter, r *http.Request) error {
	if s.verify == nil {
		return problem.NotFoundf("e-mail verification is not enabled")
	}
	c, err := s.verify.verifier.Verify(r.Context(), r.URL.Query().Get("token"))
	if err != nil {
		if problem.CodeOf(err) == problem.Unauthorized {
			return errBadLink
		}
		return err
	}
	id, err := bson.ObjectIDFromHex(c.Subject)
	if err != nil {
		return errBadLink
	}
	u, err := s.store.UserByID(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errBadLink // deleted since
	case err != nil:
		return problem.Internal(err)
	case u.Email != c.Email:
		return errBadLink
	}
	if _, err := s.store.SetVerified(r.Context(), id); err != nil {
		return problem.Internal(err)
	}
	httpx.LoggerFrom(r.Context()).Info("e-mail address verified", "user_id", id.Hex())
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteText(w, http.StatusOK, "Your e-mail address is verified. You can sign in now.\n")
	return nil
}
