package bundle

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// A container log never sits whole in memory: it streams from the API server into a spool file of the
// run's private folder (mode 0700, next to the archive, removed at the end), which keeps only its newest
// bytes within the archive's bound, and from there, redacted block by block, into the compressed entry.
// Memory holds a log's compressed form only, and a read buffer.

// spool is one log on disk: the bytes from off to size are the kept part (newest last).
type spool struct {
	path string
	size int64
	off  int64
	// total counts the bytes the stream delivered (more than size-off when the bound cut the log).
	total int64
}

const (
	spoolBuf   = 256 << 10
	redactUnit = 512 << 10 // a log is redacted in blocks of about this many bytes, each ending at a line end
)

// streamLog copies r into a new spool file of dir, keeping the newest max bytes: when the file grows past
// 2*max its newest max bytes move to a fresh file. It returns the spool and the read error (the spool
// holds what came before it).
func streamLog(ctx context.Context, dir string, r io.Reader, max int64) (*spool, error) {
	f, err := os.CreateTemp(dir, "log-*")
	if err != nil {
		return nil, err
	}
	s := &spool{path: f.Name()}
	buf := make([]byte, spoolBuf)
	var readErr error
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := f.Write(buf[:n]); werr != nil {
				f.Close()
				return s, werr
			}
			s.size += int64(n)
			s.total += int64(n)
			if s.size > 2*max {
				if f, err = s.rotate(f, dir, max); err != nil {
					return s, err
				}
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		if ctx.Err() != nil {
			readErr = ctx.Err()
			break
		}
	}
	if err := f.Close(); err != nil {
		return s, err
	}
	if s.size > max {
		s.off = s.alignedFrom(s.size - max)
	}
	return s, readErr
}

// rotate moves the newest max bytes of f into a fresh spool file and removes f.
func (s *spool) rotate(f *os.File, dir string, max int64) (*os.File, error) {
	nf, err := os.CreateTemp(dir, "log-*")
	if err != nil {
		f.Close()
		return nil, err
	}
	if _, err := io.Copy(nf, io.NewSectionReader(f, s.size-max, max)); err != nil {
		f.Close()
		nf.Close()
		return nil, err
	}
	f.Close()
	os.Remove(s.path)
	s.path, s.size = nf.Name(), max
	return nf, nil
}

// kept is the size of the kept part.
func (s *spool) kept() int64 { return s.size - s.off }

// alignedFrom is the start of the first whole line at or after off (off itself when no line end follows
// within 64 KiB, or when off starts a line).
func (s *spool) alignedFrom(off int64) int64 {
	if off <= 0 {
		return 0
	}
	f, err := os.Open(s.path)
	if err != nil {
		return off
	}
	defer f.Close()
	b := make([]byte, 64<<10+1)
	n, _ := f.ReadAt(b, off-1)
	if n > 0 && b[0] == '\n' {
		return off
	}
	if i := bytes.IndexByte(b[:n], '\n'); i >= 0 && off+int64(i) < s.size {
		return off + int64(i)
	}
	return off
}

// compressSpool deflates the kept part of f's spool, each block redacted of secrets, after the cut marker
// when the log was cut; it sets f's compressed data, crc and size.
func (f *File) compressSpool() error {
	in, err := os.Open(f.spool.path)
	if err != nil {
		return fmt.Errorf("reading the spooled log %s: %w", f.Path, err)
	}
	defer in.Close()
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, flate.DefaultCompression)
	if err != nil {
		return err
	}
	crc := crc32.NewIEEE()
	var n int64
	put := func(p []byte) error {
		crc.Write(p)
		n += int64(len(p))
		_, err := w.Write(p)
		return err
	}
	if f.cutMark {
		if err := put([]byte(cutMarker)); err != nil {
			return err
		}
	}
	r := bufio.NewReaderSize(io.NewSectionReader(in, f.spool.off, f.spool.kept()), spoolBuf)
	var block []byte
	for {
		line, err := r.ReadSlice('\n')
		block = append(block, line...)
		if len(block) >= redactUnit || (err != nil && !errors.Is(err, bufio.ErrBufferFull)) {
			if len(block) > 0 {
				if perr := put([]byte(redactText(string(block), f.secrets))); perr != nil {
					return perr
				}
			}
			block = block[:0]
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			if errors.Is(err, io.EOF) {
				break
			}
			return fmt.Errorf("reading the spooled log %s: %w", f.Path, err)
		}
	}
	if f.endMark != "" {
		if err := put([]byte(f.endMark)); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	f.comp, f.crc, f.n = b.Bytes(), crc.Sum32(), n
	return nil
}

// cutSpool keeps the newest keep bytes (about: the kept part starts at a line) of f's spool.
func (f *File) cutSpool(keep int64) error {
	off := f.spool.size - keep
	if off < f.spool.off {
		off = f.spool.off
	}
	f.spool.off = f.spool.alignedFrom(off)
	f.cutMark = true
	return f.compress()
}
