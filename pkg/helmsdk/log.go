package helmsdk

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// lineHandler is the slog.Handler of Helm 4's logs: each record becomes one line ("message key=value
// ...") passed to log, which scrubs it before it is printed (the callers pass their redactor's
// function). A nil log discards every record.
type lineHandler struct {
	log    func(format string, v ...any)
	attrs  []slog.Attr
	prefix string
}

func newLineHandler(log func(format string, v ...any)) slog.Handler {
	if log == nil {
		return slog.DiscardHandler
	}
	return &lineHandler{log: log}
}

func (h *lineHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	for _, a := range h.attrs {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value.Resolve())
	}
	r.Attrs(func(a slog.Attr) bool {
		if !a.Equal(slog.Attr{}) {
			fmt.Fprintf(&b, " %s%s=%v", h.prefix, a.Key, a.Value.Resolve())
		}
		return true
	})
	h.log("%s", b.String())
	return nil
}

func (h *lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append([]slog.Attr(nil), h.attrs...)
	for _, a := range as {
		a.Key = h.prefix + a.Key
		n.attrs = append(n.attrs, a)
	}
	return &n
}

func (h *lineHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	n := *h
	n.prefix = h.prefix + name + "."
	return &n
}

// Helm 4's packages that are not given a logger (its chart downloader, getters, repository index, template
// engine) log through slog's default logger, which writes to stderr unscrubbed: a fetched URL may carry
// credentials. The plugin has no use for that logger, so it discards it; Helm's lines of an operation reach
// --debug through the client's logger only (NewClient), which the verbs pass through the redactor.
func init() { slog.SetDefault(slog.New(slog.DiscardHandler)) }
