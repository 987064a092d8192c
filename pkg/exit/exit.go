// Package exit defines the exit-code contract shared by every kubectl-skoala verb and the typed errors
// that carry a code and a hint up to main, the one place that prints an error.
package exit

import (
	"errors"
	"fmt"
	"strings"
)

// The exit codes, one contract for every verb.
const (
	// OK means the verb did its job and found nothing wrong.
	OK = 0
	// Failure means the tool could not do its job (a cluster, file or repository could not be read, ...).
	Failure = 1
	// Usage means the command line was wrong: unknown verb or flag, bad flag value, conflicting flags.
	Usage = 2
	// Problems means the verb ran and found problems: doctor failures, a missing or failed release, an
	// upgrade rolled back, and with --exit-code an available upgrade.
	Problems = 3
	// Timeout means a --wait timed out.
	Timeout = 124
	// Interrupted means Ctrl-C or SIGTERM stopped the verb.
	Interrupted = 130
)

// Error is an error with an exit code and an optional hint: what the operator can do about it.
type Error struct {
	Code int
	Err  error
	Hint string
}

func (e *Error) Error() string {
	if e.Err == nil {
		return ""
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with the given code and hint wrapping err.
func New(code int, err error, hint string) *Error { return &Error{Code: code, Err: err, Hint: hint} }

// Usagef returns a usage error (exit code 2).
func Usagef(format string, a ...any) *Error {
	return &Error{Code: Usage, Err: fmt.Errorf(format, a...)}
}

// Failf returns a failure (exit code 1) with a hint.
func Failf(hint, format string, a ...any) *Error {
	return &Error{Code: Failure, Err: fmt.Errorf(format, a...), Hint: hint}
}

// Silent is returned by a verb that has already printed its findings and only needs to set the exit code.
type Silent struct{ Code int }

func (s Silent) Error() string { return fmt.Sprintf("exit status %d", s.Code) }

// CodeOf returns the exit code for err: 0 for nil, the code of the outermost *Error or Silent, else 1.
func CodeOf(err error) int {
	if err == nil {
		return OK
	}
	var s Silent
	if errors.As(err, &s) {
		return s.Code
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Failure
}

// HintOf returns the first hint found along err's chain.
func HintOf(err error) string {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return ""
		}
		if e.Hint != "" {
			return e.Hint
		}
		err = e.Err
	}
	return ""
}

// IsSilent reports whether err only carries an exit code and nothing to print.
func IsSilent(err error) bool {
	var s Silent
	return errors.As(err, &s)
}

// OneLine folds a message onto one line: operators read errors in logs and terminals line by line.
func OneLine(msg string) string {
	msg = strings.TrimSpace(msg)
	msg = strings.ReplaceAll(msg, "\r", " ")
	msg = strings.ReplaceAll(msg, "\n", " ")
	for strings.Contains(msg, "  ") {
		msg = strings.ReplaceAll(msg, "  ", " ")
	}
	return msg
}
