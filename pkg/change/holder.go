package change

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// A holder of the lock is "gone" at once (its Lease taken over without waiting a lease duration) only
// when it is proven to have been a process of this very machine and PID namespace that no longer runs
// (issue 24 §1): the same boot id (/proc/sys/kernel/random/boot_id), the same PID namespace
// (/proc/self/ns/pid) and no process with its PID and start time (/proc/<pid>/stat starttime). A
// hostname proves nothing: hosts cloned from one image share it (localhost.localdomain), and a container
// with the host's name has its own PID namespace. Anything not proven waits for the Lease to stop being
// renewed.

// procRoot is where the process information is read (tests point it at a fixture).
var procRoot = "/proc"

// Identity is what names a process across hosts, boots and PID namespaces.
type Identity struct {
	BootID string
	PIDNS  string
	PID    int
	// Start is the process's start time (/proc/<pid>/stat field 22, clock ticks since boot).
	Start string
}

// selfIdentity is this process's identity (fields it cannot read stay empty).
func selfIdentity() Identity {
	id := Identity{BootID: bootID(), PIDNS: pidNS(), PID: os.Getpid()}
	id.Start, _ = startTime(id.PID)
	return id
}

func bootID() string {
	b, err := os.ReadFile(procRoot + "/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func pidNS() string {
	s, err := os.Readlink(procRoot + "/self/ns/pid")
	if err != nil {
		return ""
	}
	return s
}

// startTime reads the start time of process pid; ok is false when it cannot be read (no such process
// visible here, or /proc hides it).
func startTime(pid int) (string, bool) {
	b, err := os.ReadFile(procRoot + "/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", false
	}
	// The command name (field 2) is in parentheses and may hold spaces or parentheses: fields are counted
	// after the last ')'. starttime is field 22, the 20th after it.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return "", false
	}
	return f[19], true
}

// processExists reports whether a process with pid exists in this PID namespace (signal 0: EPERM means it
// exists but belongs to someone else).
func processExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// provenGone reports whether the holder h is proven to have been a process of this machine and PID
// namespace that no longer runs (its PID is free, or taken by a process that started at another time).
// A holder that recorded no boot id, PID namespace or start time (an older kubectl-skoala) is never.
func provenGone(h Identity) bool {
	if h.BootID == "" || h.PIDNS == "" || h.Start == "" || h.PID <= 0 {
		return false
	}
	if bootID() != h.BootID || pidNS() != h.PIDNS {
		return false
	}
	if !processExists(h.PID) {
		return true
	}
	st, ok := startTime(h.PID)
	return ok && st != h.Start
}
