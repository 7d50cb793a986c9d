package store

import "errors"

// Errors the handlers map to HTTP statuses. Anything else is an internal failure.
var (
	// ErrNotFound means the item never existed, was deleted or was sold.
	ErrNotFound = errors.New("not found")
	// ErrForbidden means the caller does not own the item.
	ErrForbidden = errors.New("not the owner")
	// ErrOwnItem means the caller tried to buy an item they sell.
	ErrOwnItem = errors.New("cannot buy own item")
	// ErrSold means another buyer claimed the item first.
	ErrSold = errors.New("already sold")
)
