package helmsdk

import (
	"os"
	"slices"
	"strconv"
	"strings"
)

// Helm 3 (cmd/helm/load_plugins.go) and helm 4 (pkg/cmd/load_plugins.go) split a plugin's arguments with
// manuallyProcessArgs: the arguments in its kvargs list are helm's own, each taking the next argument as
// its value, and the rest go to the plugin. That list holds --kube-insecure-skip-tls-verify, a boolean
// flag: `helm --kube-insecure-skip-tls-verify skoala status -o json` hands "status" to helm as the flag's
// "value" (pflag then ignores it as a positional argument) and the plugin gets only `-o json`. Both helms
// exec the plugin directly, so its parent's command line is helm's; RepairPluginArgs redoes the split from
// it with the flag taken as the boolean it is.

// helmKVArgs is manuallyProcessArgs' kvargs of helm 3.21 and helm 4.3 (the same list in both).
var helmKVArgs = []string{"--kube-context", "--namespace", "-n", "--kubeconfig", "--kube-apiserver", "--kube-token",
	"--kube-as-user", "--kube-as-group", "--kube-ca-file", "--registry-config", "--repository-cache",
	"--repository-config", "--kube-insecure-skip-tls-verify", "--kube-tls-server-name"}

// insecureFlag is the boolean flag of helmKVArgs.
const insecureFlag = "--kube-insecure-skip-tls-verify"

// helmBoolFlags are helm's root flags that take no value (cobra skips no argument after them when it looks
// for the plugin's name).
var helmBoolFlags = []string{"--debug", insecureFlag, "--help", "-h"}

// splitPluginArgs is manuallyProcessArgs: the arguments helm keeps and those it passes to the plugin. With
// asHelmDoes false, --kube-insecure-skip-tls-verify takes no value (what it means to helm's own commands).
func splitPluginArgs(args []string, asHelmDoes bool) (known, unknown []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--debug":
			known = append(known, a)
		case a == insecureFlag && !asHelmDoes:
			known = append(known, a)
		case slices.Contains(helmKVArgs, a):
			known = append(known, a)
			if i++; i < len(args) {
				known = append(known, args[i])
			}
		case slices.ContainsFunc(helmKVArgs, func(p string) bool { return strings.HasPrefix(a, p+"=") }):
			known = append(known, a)
		default:
			unknown = append(unknown, a)
		}
	}
	return known, unknown
}

// pluginCommandArgs is what cobra's Find leaves of helm's arguments (os.Args[1:]) for the plugin command
// name: the arguments without the first one that is neither a flag nor a flag's value and equals name.
// ok is false when name is not helm's first command word.
func pluginCommandArgs(helmArgs []string, name string) ([]string, bool) {
	for i := 0; i < len(helmArgs); i++ {
		s := helmArgs[i]
		switch {
		case s == "--":
			return nil, false
		case strings.HasPrefix(s, "-"):
			if !strings.Contains(s, "=") && !slices.Contains(helmBoolFlags, s) && (strings.HasPrefix(s, "--") || len(s) == 2) {
				i++ // the flag's value
			}
		case s == name:
			return append(slices.Clone(helmArgs[:i]), helmArgs[i+1:]...), true
		default:
			return nil, false // another helm command
		}
	}
	return nil, false
}

// RepairPluginArgs returns the plugin arguments helm meant to pass: got when helm's split lost nothing,
// else the split of helmArgs (helm's own os.Args[1:]) with --kube-insecure-skip-tls-verify as a boolean.
// It repairs only what it can prove: helmArgs must name the plugin, hold the bare flag followed by an
// argument, and helm's split of them must be exactly got.
func RepairPluginArgs(got, helmArgs []string, name string) ([]string, bool) {
	i := slices.Index(helmArgs, insecureFlag)
	if name == "" || i < 0 || i == len(helmArgs)-1 {
		return got, false
	}
	args, ok := pluginCommandArgs(helmArgs, name)
	if !ok {
		return got, false
	}
	_, asHelm := splitPluginArgs(args, true)
	if !slices.Equal(asHelm, got) {
		return got, false
	}
	_, meant := splitPluginArgs(args, false)
	// `--kube-insecure-skip-tls-verify true` (or false) lost only the literal, which is helm's, not ours.
	if len(meant) == len(got)+1 {
		for j, a := range meant {
			if _, err := strconv.ParseBool(a); err == nil && slices.Equal(append(slices.Clone(meant[:j]), meant[j+1:]...), got) {
				return got, false
			}
		}
	}
	return meant, !slices.Equal(meant, got)
}

// HelmParentArgs is the command line (without argv[0]) of the process that started this one, read from
// /proc (Linux); nil elsewhere or when it cannot be read.
func HelmParentArgs() []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(os.Getppid()) + "/cmdline")
	if err != nil || len(b) == 0 {
		return nil
	}
	argv := strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
	if len(argv) < 2 {
		return nil
	}
	return argv[1:]
}

// InsecureFlagHint is the advice when the plugin runs under helm with --kube-insecure-skip-tls-verify set
// and its arguments could not be repaired (no /proc): the flag with its value, which helm parses right.
const InsecureFlagHint = "helm takes the argument after --kube-insecure-skip-tls-verify as its value when it runs a plugin: write --kube-insecure-skip-tls-verify=true"
