package bundle

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// File is one file of the bundle, held in memory until the archive is written.
type File struct {
	Path string
	Data []byte
	// Log marks a container log: the size bound cuts logs first.
	Log bool

	// spool, for a container log, holds it on disk (Data is nil); secrets are scrubbed from it as it is
	// compressed; cutMark starts it with cutMarker (the collection or the size bound cut it).
	spool   *spool
	secrets []string
	cutMark bool
	endMark string

	comp []byte // Data deflated
	crc  uint32
	n    int64 // bytes before compression
}

// size is the file's size before compression (a spooled log's kept part until it is compressed).
func (f *File) size() int64 {
	switch {
	case f.spool == nil:
		return int64(len(f.Data))
	case f.comp != nil:
		return f.n
	}
	return f.spool.kept()
}

func (f *File) compress() error {
	if f.spool != nil {
		return f.compressSpool()
	}
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, flate.DefaultCompression)
	if err != nil {
		return err
	}
	if _, err := w.Write(f.Data); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	f.comp = b.Bytes()
	f.crc = crc32.ChecksumIEEE(f.Data)
	f.n = int64(len(f.Data))
	return nil
}

// entryOverhead bounds what zip adds per file besides the compressed data: local header (30), central
// directory record (46), the name twice, a data descriptor and zip64 extras.
func entryOverhead(name string) int64 { return 30 + 46 + 2*int64(len(name)) + 24 + 2*28 }

// endOverhead bounds the end-of-central-directory records (zip64 included).
const endOverhead = 22 + 56 + 20

// archiveSize is an upper bound of the size of a zip holding files (compressed).
func archiveSize(files []*File) int64 {
	n := int64(endOverhead)
	for _, f := range files {
		n += entryOverhead(f.Path) + int64(len(f.comp))
	}
	return n
}

// cutMarker starts a log that the size bound shortened.
const cutMarker = "[kubectl-skoala bundle: the older part of this log was cut to fit --max-size]\n"

// stopMarker ends a log whose reading stopped (a deadline, an error) before its end.
const stopMarker = "\n[kubectl-skoala bundle: reading this log stopped here (%s); its newer lines are missing]\n"

// fit shortens or leaves out files until the archive of files plus reserve bytes stays within max: the
// largest logs first (their newest lines kept), then, if that is not enough, the largest other files.
// Files named in keep are never cut. It returns the files kept and the cuts, in the order they were made.
func fit(files []*File, max, reserve int64, keep map[string]bool) ([]*File, []Cut, error) {
	for _, f := range files {
		if f.comp == nil {
			if err := f.compress(); err != nil {
				return nil, nil, err
			}
		}
	}
	var cuts []Cut
	orig := map[*File]int64{}
	for pass := 0; pass < 2; pass++ {
		for i := 0; i < 10000; i++ {
			over := archiveSize(files) + reserve - max
			if over <= 0 {
				return files, mergeCuts(cuts, orig), nil
			}
			victim := -1
			for j, f := range files {
				if keep[f.Path] || (pass == 0 && !f.Log) || f.size() == 0 {
					continue
				}
				if victim < 0 || len(f.comp) > len(files[victim].comp) {
					victim = j
				}
			}
			if victim < 0 {
				break
			}
			f := files[victim]
			if _, ok := orig[f]; !ok {
				orig[f] = f.size()
				if f.spool != nil {
					orig[f] = f.spool.total
				}
			}
			budget := int64(len(f.comp)) - over
			if budget <= int64(len(cutMarker))+64 {
				cuts = append(cuts, Cut{Path: f.Path, Bytes: orig[f], Reason: ReasonOverSize})
				files = append(files[:victim:victim], files[victim+1:]...)
				continue
			}
			// Keep the newest part, in proportion to what must go, with a margin; start at a line.
			keepBytes := int64(float64(f.size()) * float64(budget) / float64(len(f.comp)) * 0.95)
			if f.spool != nil {
				if err := f.cutSpool(keepBytes); err != nil {
					return nil, nil, err
				}
				cuts = append(cuts, Cut{Path: f.Path, Bytes: orig[f], KeptBytes: f.size(), Reason: ReasonOverSize})
				continue
			}
			tail := f.Data[int64(len(f.Data))-keepBytes:]
			if i := bytes.IndexByte(tail, '\n'); i >= 0 && i < len(tail)-1 {
				tail = tail[i+1:]
			}
			f.Data = append([]byte(cutMarker), tail...)
			if err := f.compress(); err != nil {
				return nil, nil, err
			}
			cuts = append(cuts, Cut{Path: f.Path, Bytes: orig[f], KeptBytes: int64(len(f.Data)), Reason: ReasonOverSize})
		}
	}
	return nil, nil, fmt.Errorf("the bundle does not fit in %d bytes even without its logs and largest files: raise --max-size", max)
}

// mergeCuts keeps the last cut of each file (a file may be shortened more than once).
func mergeCuts(cuts []Cut, orig map[*File]int64) []Cut {
	last := map[string]int{}
	var out []Cut
	for _, c := range cuts {
		if i, ok := last[c.Path]; ok {
			out[i] = c
			continue
		}
		last[c.Path] = len(out)
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// writeZip writes files into w, compressed, with a fixed modification time.
func writeZip(w io.Writer, files []*File, mtime time.Time) error {
	zw := zip.NewWriter(w)
	for _, f := range files {
		if f.comp == nil {
			if err := f.compress(); err != nil {
				return err
			}
		}
		h := &zip.FileHeader{Name: f.Path, Method: zip.Deflate, CRC32: f.crc,
			CompressedSize64: uint64(len(f.comp)), UncompressedSize64: uint64(f.n), Modified: mtime}
		h.SetMode(0o600)
		fw, err := zw.CreateRaw(h)
		if err != nil {
			return err
		}
		if _, err := fw.Write(f.comp); err != nil {
			return err
		}
	}
	return zw.Close()
}

// ErrExists says the archive's file is already there: the bundle never overwrites.
var ErrExists = errors.New("the file already exists")

// writeAtomic writes the archive to a temporary file of mode 0600 in path's directory and links it to
// path only when complete, so that path holds a whole archive or nothing and is never overwritten. The
// temporary file is removed in every case (also when ctx is cancelled: an interrupted bundle leaves nothing).
func writeAtomic(ctx context.Context, path string, files []*File, mtime time.Time) (int64, error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.partial")
	if err != nil {
		return 0, fmt.Errorf("creating the archive in %s: %w", dir, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return 0, err
	}
	bw := &ctxWriter{ctx: ctx, w: tmp}
	if err := writeZip(bw, files, mtime); err != nil {
		tmp.Close()
		return 0, fmt.Errorf("writing the archive: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return 0, fmt.Errorf("writing the archive: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("writing the archive: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	// link(2) fails when path exists: no overwrite, even of a file created meanwhile.
	if err := os.Link(tmp.Name(), path); err != nil {
		if os.IsExist(err) {
			return 0, fmt.Errorf("%s: %w", path, ErrExists)
		}
		return 0, fmt.Errorf("writing the archive: %w", err)
	}
	return bw.n, nil
}

// ctxWriter stops writing when ctx is done.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
	n   int64
}

func (c *ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
