package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"golang.org/x/crypto/bcrypt"

	"littleecom.io/littleecom/services/auth/store"
	"littleecom.io/littleecom/services/internal/httpx"
	"littleecom.io/littleecom/services/internal/mailaddr"
	"littleecom.io/littleecom/services/internal/problem"
)

// maxBody fits every request auth accepts (credentials or a token) with room to spare.
const maxBody = 16 << 10

// minPasswordLen is the original shop's rule; maxPasswordLen is bcrypt's input limit.
const (
	minPasswordLen = 6
	maxPasswordLen = 72
)

// handle adapts a handler that returns an error (see httpx.Errors).
func (s *Service) handle(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return httpx.Errors(h)
}

// credentials is the body of register, signin, token and delete.
type credentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// register creates an account. Its answer does not depend on whether the address already
// has one: the same 201 and body, after the same bcrypt hash, so registration tells no one
// which addresses are customers (an account for a taken address is simply not made, and its
// password is dropped). The original clients' flow, register then sign in, is unchanged.
func (s *Service) register(w http.ResponseWriter, r *http.Request) error {
	var c credentials
	if err := httpx.DecodeJSON(w, r, &c, maxBody); err != nil {
		return err
	}
	email, err := mailaddr.Canonical(c.Email)
	if err != nil {
		return problem.Invalidf("%s", err.Error())
	}
	if len(c.Password) < minPasswordLen {
		return problem.Invalidf("password must have at least %d characters", minPasswordLen)
	}
	if len(c.Password) > maxPasswordLen {
		return problem.Invalidf("password must have at most %d bytes", maxPasswordLen)
	}
	if err := s.limitRegistration(r); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(c.Password), s.cfg.BcryptCost)
	if err != nil {
		return problem.Internal(fmt.Errorf("hash password: %w", err))
	}
	u := store.User{ID: bson.NewObjectID(), Email: email, PasswordHash: hash, CreatedAt: s.now().UTC()}
	if s.cfg.EmailVerification {
		u.EmailVerified = new(false)
	}
	log := httpx.LoggerFrom(r.Context())
	err = s.store.InsertUser(r.Context(), u)
	if errors.Is(err, store.ErrDuplicate) && s.cfg.EmailVerification {
		err = s.replaceAbandoned(r.Context(), u)
	}
	switch {
	case errors.Is(err, store.ErrDuplicate):
		log.Info("registration for an address that has an account; answered as a new one")
	case err != nil:
		return problem.Internal(err)
	default:
		log.Info("account registered", "user_id", u.ID.Hex())
		s.mailVerification(u)

	}
	httpx.WriteJSON(w, http.StatusCreated, registration{Email: email, VerificationRequired: s.cfg.EmailVerification})
	return nil
}

// registration is the body of a 201 from register: the same for a new and a taken address.
type registration struct {
	Email string `json:"email"`
	// VerificationRequired says a link was mailed that must be followed before sign-in.
	VerificationRequired bool `json:"verification_required,omitempty"`
}

// authenticate checks credentials under the sign-in limits (limits.go). Every failure is the
// same 401, whether the e-mail is unknown or the password wrong; an account whose address
// is not verified yet gets 403 once its password is right, unless unverified is allowed
// (deleting an account needs no verified address).
func (s *Service) authenticate(w http.ResponseWriter, r *http.Request, unverified bool) (store.User, error) {
	var c credentials
	if err := httpx.DecodeJSON(w, r, &c, maxBody); err != nil {
		return store.User{}, err
	}
	// An address that has no canonical form has no account: it fails like an unknown one.
	email, emailErr := mailaddr.Canonical(c.Email)
	if emailErr != nil {
		email = c.Email
	}
	ctx := r.Context()
	attempt, err := s.startSignIn(r, email)
	if err != nil {
		return store.User{}, err
	}
	u, err := s.checkPassword(ctx, email, emailErr == nil, c.Password)
	if problem.CodeOf(err) != problem.Unauthorized {
		// A right password (or our own failure) is not a failed attempt.
		attempt.forgive(ctx)
	}
	if err != nil {
		return store.User{}, err
	}
	if !u.Verified() && !unverified {
		s.mailVerification(u)
		return store.User{}, problem.Forbiddenf("e-mail address not verified: follow the link in the verification mail (a new one is on its way)")
	}
	return u, nil
}

// checkPassword finds the account and compares the password, taking as long for an unknown
// account as for a wrong password (no account enumeration by timing).
func (s *Service) checkPassword(ctx context.Context, email string, canonical bool, password string) (store.User, error) {
	var (
		u   store.User
		err = store.ErrNotFound
	)
	if canonical {
		u, err = s.store.UserByEmail(ctx, email)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		_ = bcrypt.CompareHashAndPassword(s.dummyHash, []byte(password))
		return store.User{}, problem.Unauthorizedf("wrong e-mail or password")
	case err != nil:
		return store.User{}, problem.Internal(err)
	}
	if bcrypt.CompareHashAndPassword(u.PasswordHash, []byte(password)) != nil {
		return store.User{}, problem.Unauthorizedf("wrong e-mail or password")
	}
	return u, nil
}

// signin answers the access token as text/plain, which the original shop's clients read.
func (s *Service) signin(w http.ResponseWriter, r *http.Request) error {
	u, err := s.authenticate(w, r, false)
	if err != nil {
		return err
	}
	tok, _, err := s.signer.Sign(u.Email, u.ID.Hex())
	if err != nil {
		return problem.Internal(err)
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteText(w, http.StatusOK, tok)
	return nil
}

// tokenPair is the OAuth2-style JSON answer of token and refresh.
type tokenPair struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
}

func (s *Service) token(w http.ResponseWriter, r *http.Request) error {
	u, err := s.authenticate(w, r, false)
	if err != nil {
		return err
	}
	refresh, err := s.startFamily(r.Context(), u)
	if err != nil {
		return problem.Internal(err)
	}
	return s.writePair(w, u, refresh)
}

func (s *Service) writePair(w http.ResponseWriter, u store.User, refresh string) error {
	access, _, err := s.signer.Sign(u.Email, u.ID.Hex())
	if err != nil {
		return problem.Internal(err)
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, tokenPair{
		AccessToken:  access,
		RefreshToken: refresh,
		TokenType:    "Bearer",
		ExpiresIn:    int64(s.signer.TTL() / time.Second),
	})
	return nil
}

// refreshRequest is the body of refresh and logout.
type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

func (s *Service) refresh(w http.ResponseWriter, r *http.Request) error {
	var req refreshRequest
	if err := httpx.DecodeJSON(w, r, &req, maxBody); err != nil {
		return err
	}
	if req.RefreshToken == "" {
		return problem.Invalidf("refresh_token is required")
	}
	u, next, err := s.rotate(r.Context(), req.RefreshToken)
	if err != nil {
		return err
	}
	return s.writePair(w, u, next)
}

// logout revokes the token's whole family. It answers 204 for an unknown token too: logging
// out is idempotent, and the answer must not tell whether a token exists.
func (s *Service) logout(w http.ResponseWriter, r *http.Request) error {
	var req refreshRequest
	if err := httpx.DecodeJSON(w, r, &req, maxBody); err != nil {
		return err
	}
	if req.RefreshToken == "" {
		return problem.Invalidf("refresh_token is required")
	}
	if err := s.revoke(r.Context(), req.RefreshToken, "logout"); err != nil {
		return problem.Internal(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// validate serves old clients that ask auth whether a token is good.
func (s *Service) validate(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Token string `json:"token"`
	}
	if err := httpx.DecodeJSON(w, r, &req, maxBody); err != nil {
		return err
	}
	c, err := s.verifier.Verify(r.Context(), req.Token)
	if err != nil {
		return err
	}
	// Tokens are verified without a lookup; validate, which old clients call now and then,
	// can afford one and says when the account behind a good signature is gone.
	if id, perr := bson.ObjectIDFromHex(c.Subject); perr == nil {
		switch _, err := s.store.UserByID(r.Context(), id); {
		case errors.Is(err, store.ErrNotFound):
			return problem.Unauthorizedf("the account was deleted")
		case err != nil:
			return problem.Internal(err)
		}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"email": c.Email, "sub": c.Subject, "exp": c.ExpiresAt.Unix()})
	return nil
}

// deleteAccount removes the account and its refresh tokens, and records the deletion for the
// backend, which then takes the account's unsold listings off sale and refuses the access
// tokens it still holds (they are verified without asking auth). Its orders stay, keyed by
// the account's id, which no later account gets: registering the address again starts afresh.
func (s *Service) deleteAccount(w http.ResponseWriter, r *http.Request) error {
	u, err := s.authenticate(w, r, true)
	if err != nil {
		return err
	}
	if err := s.store.DeleteUser(r.Context(), u, s.now().UTC()); err != nil {
		return problem.Internal(err)
	}
	httpx.LoggerFrom(r.Context()).Info("account deleted", "user_id", u.ID.Hex())
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// jwks publishes the public key. Caches may keep it a few minutes: backend refetches on an
// unknown kid anyway.
func (s *Service) jwks(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	httpx.WriteJSON(w, http.StatusOK, s.signer.JWKS())
}
