package doctor

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/skoala-dev/kubectl-skoala/pkg/dsn"
)

// DB is what the database checks ask of the skoala database.
type DB interface {
	// DatabaseExists reports whether the server has the database (as the user sees it).
	DatabaseExists(ctx context.Context, name string) (bool, error)
	// Columns returns the columns of the tables of database db, by table.
	Columns(ctx context.Context, db string, tables []string) (map[string][]string, error)
	Close() error
}

// DBOpener connects to the server of d (not to its database, so that a missing database and a refused login
// are told apart), within timeout. Its errors never contain the password.
type DBOpener func(ctx context.Context, d *dsn.DSN, timeout time.Duration) (DB, error)

// OpenMySQL connects with go-sql-driver/mysql.
func OpenMySQL(ctx context.Context, d *dsn.DSN, timeout time.Duration) (DB, error) {
	cfg := d.Config(timeout)
	cfg.DBName = ""
	// The driver logs to stderr by default; doctor reports errors itself.
	cfg.Logger = &mysql.NopLogger{}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, &DBError{Op: "connect", Err: err}
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, &DBError{Op: "connect", Err: err}
	}
	return &sqlDB{db: db}, nil
}

type sqlDB struct{ db *sql.DB }

func (s *sqlDB) DatabaseExists(ctx context.Context, name string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", name).Scan(&n)
	if err != nil {
		return false, &DBError{Op: "query", Err: err}
	}
	return n > 0, nil
}

func (s *sqlDB) Columns(ctx context.Context, db string, tables []string) (map[string][]string, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION", db)
	if err != nil {
		return nil, &DBError{Op: "query", Err: err}
	}
	defer rows.Close()
	want := map[string]bool{}
	for _, t := range tables {
		want[t] = true
	}
	out := map[string][]string{}
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			return nil, &DBError{Op: "query", Err: err}
		}
		if want[t] {
			out[t] = append(out[t], c)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, &DBError{Op: "query", Err: err}
	}
	return out, nil
}

func (s *sqlDB) Close() error { return s.db.Close() }

// DBError is a database error, explained without the DSN.
type DBError struct {
	Op  string
	Err error
}

func (e *DBError) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *DBError) Unwrap() error { return e.Err }

// explainDB says in one line what went wrong talking to the database, and what to do. It never includes the
// password (the caller's scrubber also removes it, should a driver ever echo it).
func explainDB(err error, d *dsn.DSN) (msg, hint string) {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1045:
			return fmt.Sprintf("the server refused the login of user %q (access denied: wrong password, or the user may not connect from here)", d.User),
				fmt.Sprintf("check the password in hive.configMap.database[0].dsn; reset it with ALTER USER '%s'@'%%' IDENTIFIED BY '<password>' as root, then helm upgrade skoala with the new DSN", d.User)
		case 1044, 1142, 1143:
			return fmt.Sprintf("user %q lacks rights: %s", d.User, me.Message),
				fmt.Sprintf("GRANT ALL PRIVILEGES ON %s.* TO '%s'@'%%' as root", d.Database, d.User)
		case 1049:
			return fmt.Sprintf("database %q does not exist", d.Database), createDBHint(d)
		}
		return fmt.Sprintf("the server answered error %d: %s", me.Number, me.Message), ""
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("no answer from %s in time", d.Addr()), "is the database up and reachable from this machine (port-forward the service, or run doctor where the DSN's host resolves)?"
	}
	return fmt.Sprintf("cannot reach %s: %s", d.Addr(), firstLine(err.Error())),
		"is the database up and reachable from this machine? doctor connects from where it runs: port-forward the service (kubectl -n mcamel-system port-forward svc/mcamel-common-mysql-cluster-mysql-master 3306) and pass --db-dsn with 127.0.0.1"
}

func createDBHint(d *dsn.DSN) string {
	return fmt.Sprintf("as root: CREATE DATABASE %s; CREATE USER '%s'@'%%' IDENTIFIED BY '<password>'; GRANT ALL PRIVILEGES ON %s.* TO '%s'@'%%'", d.Database, d.User, d.Database, d.User)
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}

// closeIfOpen closes the connection of a run, if one was opened.
func (l *lazy[T]) closeIfOpen() {
	if l.done == nil {
		return
	}
	<-l.done
	if c, ok := any(l.v).(interface{ Close() error }); ok && l.err == nil && any(l.v) != nil {
		_ = c.Close()
	}
}
