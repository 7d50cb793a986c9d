package backend

import (
	"errors"
	"net/http"

	"go.mongodb.org/mongo-driver/v2/bson"

	"littleecom.io/littleecom/services/backend/store"
	"littleecom.io/littleecom/services/internal/httpx"
	"littleecom.io/littleecom/services/internal/problem"
)

// maxItemBody bounds item bodies: a name and a price need far less.
const maxItemBody = 16 << 10

func (s *Service) createItem(w http.ResponseWriter, r *http.Request, caller store.Account) error {
	in, err := decodeItem(w, r)
	if err != nil {
		return err
	}
	it, err := s.store.CreateItem(r.Context(), caller, in.Name, in.Price)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/item/"+it.ID.Hex())
	// The original shop answered with the bare id as text; its clients parse that.
	httpx.WriteText(w, http.StatusCreated, it.ID.Hex())
	return nil
}

func (s *Service) getItem(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	it, err := s.store.ShownItem(r.Context(), id)
	if err != nil {
		return storeProblem(err, id)
	}
	writeItem(w, it)
	return nil
}

func (s *Service) updateItem(w http.ResponseWriter, r *http.Request, caller store.Account) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	in, err := decodeItem(w, r)
	if err != nil {
		return err
	}
	// An echoed id must be this item's; an echoed owner is ignored (ownership does not move).
	if in.ID != "" && in.ID != id.Hex() {
		return problem.Invalidf("body id %q does not match the path", in.ID)
	}
	it, err := s.store.UpdateItem(r.Context(), id, caller, in.Name, in.Price)
	if err != nil {
		return storeProblem(err, id)
	}
	writeItem(w, it)
	return nil
}

func (s *Service) deleteItem(w http.ResponseWriter, r *http.Request, caller store.Account) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.store.DeleteItem(r.Context(), id, caller); err != nil {
		return storeProblem(err, id)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// decodeItem reads and validates an item body: a readable name and a price in cents within
// bounds (validate.go).
func decodeItem(w http.ResponseWriter, r *http.Request) (itemInput, error) {
	var in itemInput
	if err := httpx.DecodeJSON(w, r, &in, maxItemBody); err != nil {
		return in, err
	}
	var err error
	if in.Name, err = checkName(in.Name); err != nil {
		return in, err
	}
	if in.Price, err = checkPrice(in.Price); err != nil {
		return in, err
	}
	return in, nil
}

// pathID parses the {id} path value.
func pathID(r *http.Request) (bson.ObjectID, error) {
	id, err := store.ParseID(r.PathValue("id"))
	if err != nil {
		return id, problem.Invalidf("item id must be 24 hexadecimal digits")
	}
	return id, nil
}

// storeProblem maps the store's errors to the contract's statuses.
func storeProblem(err error, id bson.ObjectID) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return problem.NotFoundf("item %s not found", id.Hex())
	case errors.Is(err, store.ErrForbidden):
		return problem.Forbiddenf("item %s belongs to someone else", id.Hex())
	case errors.Is(err, store.ErrOwnItem):
		return problem.Invalidf("you cannot buy your own item")
	case errors.Is(err, store.ErrSold):
		return problem.Conflictf("item %s is already sold", id.Hex())
	default:
		return err
	}
}
