//go:build linux

package apply

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/skoala-dev/kubectl-skoala/pkg/change"
	"github.com/skoala-dev/kubectl-skoala/pkg/redact"
)

// openPTY opens a pseudo-terminal pair: the side a program writes to (a real terminal to it) and the side
// that reads what it wrote.
func openPTY(t *testing.T) (term, reader *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminal on this machine: %v", err)
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = slave.Close(); _ = master.Close() })
	return slave, master
}

// TestProgressOnATerminalBehindTheRedactor: the verbs' stderr is the redacting writer over the process's
// stderr (pkg/cmd.Main); on a terminal behind it the progress is the live view (lines redrawn in place),
// not one line per step.
func TestProgressOnATerminalBehindTheRedactor(t *testing.T) {
	term, reader := openPTY(t)
	obs := Progress(redact.ScrubWriter(term, []string{"s3cr3t"}))
	obs(change.Event{Type: change.EventReleaseStart, Context: "global", Release: "skoala"})
	obs(change.Event{Type: change.EventWait, Context: "global", Release: "skoala", Kind: "Deployment", Name: "hive", Ready: 0, Total: 1})
	obs(change.Event{Type: change.EventWait, Context: "global", Release: "skoala", Kind: "Deployment", Name: "hive", Ready: 1, Total: 1})
	// The reading side is read by a goroutine (a pseudo-terminal takes no read deadline); the test waits
	// 2 s at most for the live line.
	chunks := make(chan string, 64)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := reader.Read(buf)
			if err != nil {
				close(chunks)
				return
			}
			chunks <- string(buf[:n])
		}
	}()
	var got strings.Builder
	timeout := time.After(2 * time.Second)
wait:
	for !strings.Contains(got.String(), "1/1 pods ready") {
		select {
		case c, ok := <-chunks:
			if !ok {
				break wait
			}
			got.WriteString(c)
		case <-timeout:
			break wait
		}
	}
	out := got.String()
	if !strings.Contains(out, "\x1b[1A\x1b[2K") || !strings.Contains(out, "global/skoala") || !strings.Contains(out, "1/1 pods ready") {
		t.Errorf("not the live view on a terminal behind the redactor: %q", out)
	}
}
