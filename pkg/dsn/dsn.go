// Package dsn parses, builds and masks the database DSN skoala's hive uses
// (hive.configMap.database[0].dsn, go-sql-driver/mysql syntax:
// user:password@tcp(host:port)/db?charset=utf8&parseTime=true&loc=Local&timeout=10s).
// No function of this package returns an error or a string that contains the password.
package dsn

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/skoala-dev/kubectl-skoala/pkg/redact"
)

// DSN is a parsed DSN. Password is kept for connecting; String masks it.
type DSN struct {
	User     string
	Password string
	Net      string
	Host     string
	Port     int
	Database string
	Params   map[string]string
	cfg      *mysql.Config
}

// Mask replaces a password in output (redact's mask: masking text is pkg/redact's job, String).
const Mask = redact.Mask

// ParseError says a DSN does not parse; its message never contains the DSN itself.
type ParseError struct{ Reason string }

func (e *ParseError) Error() string { return "the database DSN does not parse: " + e.Reason }

// Parse parses a go-sql-driver/mysql DSN.
func Parse(s string) (*DSN, error) {
	if strings.TrimSpace(s) == "" {
		return nil, &ParseError{Reason: "it is empty"}
	}
	cfg, err := mysql.ParseDSN(s)
	if err != nil {
		return nil, &ParseError{Reason: scrub(err.Error(), s)}
	}
	switch cfg.Net {
	case "tcp", "tcp4", "tcp6", "unix":
	default:
		return nil, &ParseError{Reason: unless(fmt.Sprintf("network %q is not tcp or unix", cfg.Net), genericNetwork, cfg.Passwd)}
	}
	d := &DSN{User: cfg.User, Password: cfg.Passwd, Net: cfg.Net, Database: cfg.DBName, Params: cfg.Params, cfg: cfg}
	if cfg.Net != "unix" {
		host, port, err := net.SplitHostPort(cfg.Addr)
		if err != nil {
			return nil, &ParseError{Reason: "the address is not host:port"}
		}
		d.Host = host
		d.Port, err = strconv.Atoi(port)
		if err != nil || d.Port <= 0 || d.Port > 65535 {
			return nil, &ParseError{Reason: "the port is not a number from 1 to 65535"}
		}
	} else {
		d.Host = cfg.Addr
	}
	if d.Database == "" {
		return nil, &ParseError{Reason: "it names no database (…/skoala?…)"}
	}
	if d.User == "" {
		return nil, &ParseError{Reason: "it names no user"}
	}
	return d, nil
}

// scrub removes the DSN (and its password) from a driver error message. The password is unknown when the
// driver fails, so each reading of it is masked: the driver's (the last '@' before the last '/', then the
// first ':'), the first '@' and the last '@'. A message that still contains one (a password can overlap
// the mask or the text around it) is replaced by a generic one.
func scrub(msg, dsn string) string {
	msg = strings.ReplaceAll(msg, dsn, "<dsn>")
	pws := passwordCandidates(dsn)
	for _, pw := range pws {
		msg = strings.ReplaceAll(msg, pw, Mask)
	}
	for _, pw := range pws {
		msg = unless(msg, genericDriver, pw)
	}
	return msg
}

// passwordCandidates are the parts of dsn that a reader may take for its password, each once, of
// shortestMasked bytes or more.
func passwordCandidates(dsn string) []string {
	var pws []string
	add := func(userinfo string) {
		if j := strings.Index(userinfo, ":"); j >= 0 {
			if pw := userinfo[j+1:]; len(pw) >= shortestMasked && !slices.Contains(pws, pw) {
				pws = append(pws, pw)
			}
		}
	}
	head := dsn
	if k := strings.LastIndex(dsn, "/"); k >= 0 {
		head = dsn[:k]
	}
	if i := strings.LastIndex(head, "@"); i > 0 {
		add(head[:i])
	}
	if i := strings.Index(dsn, "@"); i > 0 {
		add(dsn[:i])
	}
	if i := strings.LastIndex(dsn, "@"); i > 0 {
		add(dsn[:i])
	}
	return pws
}

// The messages used instead of one that would show the password.
const (
	genericNetwork = "the network (after '@', before '(') is not tcp or unix"
	genericDriver  = "the driver cannot read it (its message would show the password)"
)

// shortestMasked is the length from which a password is kept out of messages: shorter ones are words of
// any sentence ("the", "to"), which no message can avoid.
const shortestMasked = 3

// unless is msg, or generic when msg contains the password pw.
func unless(msg, generic, pw string) string {
	if len(pw) >= shortestMasked && strings.Contains(msg, pw) {
		return generic
	}
	return msg
}

// Addr is host:port.
func (d *DSN) Addr() string { return net.JoinHostPort(d.Host, strconv.Itoa(d.Port)) }

// String is the DSN with the password masked.
func (d *DSN) String() string {
	c := *d.cfg
	if c.Passwd != "" {
		c.Passwd = Mask
	}
	return c.FormatDSN()
}

// Secret returns the full DSN, for a driver or for values sent to the cluster. Never print it.
func (d *DSN) Secret() string { return d.cfg.FormatDSN() }

// Config returns a copy of the driver configuration, with a timeout for connecting.
func (d *DSN) Config(timeout time.Duration) *mysql.Config {
	c := d.cfg.Clone()
	if timeout > 0 {
		c.Timeout = timeout
		c.ReadTimeout = timeout
		c.WriteTimeout = timeout
	}
	return c
}

// Build makes a DSN as the product guide does, from its parts.
func Build(user, password, host string, port int, database string) (string, error) {
	if user == "" || host == "" || database == "" {
		return "", errors.New("a database user, host and name are all needed")
	}
	if port <= 0 || port > 65535 {
		return "", fmt.Errorf("database port %d is out of range", port)
	}
	c := mysql.NewConfig()
	c.User = user
	c.Passwd = password
	c.Net = "tcp"
	c.Addr = net.JoinHostPort(host, strconv.Itoa(port))
	c.DBName = database
	c.Params = map[string]string{"charset": "utf8"}
	c.ParseTime = true
	c.Timeout = 10 * time.Second
	c.Loc = time.Local
	return c.FormatDSN(), nil
}
