package ferret

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the driver FerretDB's SQLite backend registers too
)

// FerretDB v1's SQLite backend looks a document up by _id (a find, update or delete whose
// filter is exactly {_id: <ObjectID or string>}) with
//
//	WHERE _ferretdb_sjson->'$._id' = ?
//
// but builds the unique _id index of every collection on _ferretdb_sjson->"_id". SQLite
// uses an index on an expression only for that very expression, so every such lookup scans
// the table and parses each document's JSON: its cost grows with the collection (0.5 ms for
// a find among 100 items, 6.7 ms among 3,000; docs/performance-backend.md). The index below,
// on the expression the lookups use, turns them into index searches for every client. It is
// plain SQLite, invisible to FerretDB (listIndexes does not show it) and dropped with its
// table; the cost is one more index entry per insert.

// idIndexSuffix names the index after its table. FerretDB names its own indexes
// "<table>_<index name>", so a user's index called "littleecom_id_lookup" would take this
// name first; then the lookup index is simply not created.
const idIndexSuffix = "_littleecom_id_lookup"

// EnsureIDIndexes creates the _id lookup index on every collection of every database file
// in dir (FerretDB's SQLite directory) that lacks it. Collections are created lazily, on
// their first write or index, so this needs to run again after new ones appear
// (MaintainIDIndexes).
func EnsureIDIndexes(ctx context.Context, dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.sqlite"))
	if err != nil {
		return fmt.Errorf("ferretdb id indexes: %w", err)
	}
	var errs []error
	for _, f := range files {
		if err := ensureIDIndexesIn(ctx, f); err != nil {
			errs = append(errs, fmt.Errorf("ferretdb id indexes in %s: %w", filepath.Base(f), err))
		}
	}
	return errors.Join(errs...)
}

func ensureIDIndexesIn(ctx context.Context, file string) error {
	// FerretDB's own busy timeout: an index creation waits for its writers, and they for it.
	db, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	db.SetMaxOpenConns(1)

	// Tables of collections, without their index yet. A database file FerretDB has only
	// just created may not have its metadata table: nothing to do yet.
	rows, err := db.QueryContext(ctx, `SELECT c.table_name FROM _ferretdb_collections c
		WHERE NOT EXISTS (SELECT 1 FROM sqlite_master m WHERE m.type = 'index' AND m.name = c.table_name || ?)`, idIndexSuffix)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return nil
		}
		return err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			_ = rows.Close()
			return err
		}
		tables = append(tables, t)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	for _, t := range tables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s (_ferretdb_sjson->'$._id')`,
			quoteIdent(t+idIndexSuffix), quoteIdent(t))
		if _, err := db.ExecContext(ctx, q); err != nil {
			// A collection dropped since the query above took its table with it.
			if strings.Contains(err.Error(), "no such table") {
				continue
			}
			return fmt.Errorf("index %s: %w", t, err)
		}
	}
	return nil
}

// MaintainIDIndexes runs EnsureIDIndexes at once and then every interval until ctx is done,
// reporting each failure to onErr (a failure only leaves lookups as slow as without it).
func MaintainIDIndexes(ctx context.Context, dir string, interval time.Duration, onErr func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := EnsureIDIndexes(ctx, dir); err != nil && ctx.Err() == nil {
			onErr(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// quoteIdent quotes a SQLite identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
