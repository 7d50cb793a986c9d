package store

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// The driver's Cursor.All and SingleResult.Decode build a streaming decoder with a fresh 4 KiB
// buffer per document; bson.Unmarshal on the raw bytes reuses pooled readers. On a listing of
// 100 items that difference is most of the service's CPU, so every read decodes this way.

// decodeAll reads every document of cur into a slice, never nil.
func decodeAll[T any](ctx context.Context, cur *mongo.Cursor) ([]T, error) {
	defer func() { _ = cur.Close(ctx) }()
	out := make([]T, 0, cur.RemainingBatchLength())
	for cur.Next(ctx) {
		var v T
		if err := bson.Unmarshal(cur.Current, &v); err != nil {
			return nil, fmt.Errorf("decode document: %w", err)
		}
		out = append(out, v)
	}
	return out, cur.Err()
}
