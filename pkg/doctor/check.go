package doctor

import (
	"context"
	"fmt"
	"strings"
)

// CategoryID names a category of checks.
type CategoryID string

// The categories, in the order the report shows them.
const (
	CatKubernetes   CategoryID = "kubernetes"
	CatControlPlane CategoryID = "control-plane"
	CatDatabase     CategoryID = "database"
	CatWorkspaces   CategoryID = "workspaces"
	CatRepository   CategoryID = "repository"
	CatEnterprise   CategoryID = "enterprise-package"
)

// Categories lists the categories in display order.
var Categories = []CategoryID{CatKubernetes, CatControlPlane, CatDatabase, CatWorkspaces, CatRepository, CatEnterprise}

var categoryTitles = map[CategoryID]string{
	CatKubernetes:   "Kubernetes",
	CatControlPlane: "Control plane",
	CatDatabase:     "Database",
	CatWorkspaces:   "Workspaces",
	CatRepository:   "Repository",
	CatEnterprise:   "Enterprise package",
}

// Title is the category's heading.
func (c CategoryID) Title() string {
	if t, ok := categoryTitles[c]; ok {
		return t
	}
	return string(c)
}

func categoryIndex(c CategoryID) int {
	for i, x := range Categories {
		if x == c {
			return i
		}
	}
	return len(Categories)
}

func knownCategory(c CategoryID) bool { return categoryIndex(c) < len(Categories) }

func categoryList() string {
	s := make([]string, len(Categories))
	for i, c := range Categories {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

// Scope says where a check runs.
type Scope int

// The scopes.
const (
	// ScopeOnce runs once, not against a cluster (repository, manifest).
	ScopeOnce Scope = iota
	// ScopeEachCluster runs on every target.
	ScopeEachCluster
	// ScopeControlPlane runs on the control-plane target.
	ScopeControlPlane
	// ScopeWorkspace runs on each workspace target.
	ScopeWorkspace
)

// Check is one entry of the catalogue.
type Check struct {
	// ID is stable (JSON, selection): "<category>.<name>".
	ID       string
	Category CategoryID
	// Description says what the check verifies, in a few words.
	Description string
	Scope       Scope
	// Modes are the modes the check runs in (all when empty).
	Modes []Mode
	// Applies, when set, decides from the configuration whether the check is part of the run at all
	// (the manifest checks need --manifest).
	Applies func(cfg *Config) bool
	// Needs are the IDs of checks that must not have failed or been skipped, on the same cluster (or run
	// once); otherwise this check is skipped.
	Needs []string
	// Uses are the API permissions the check needs on its cluster; a denied one skips it as forbidden.
	// They may name the namespace placeholders of Access.
	Uses []Access
	// Run decides the verdict.
	Run func(ctx context.Context, e *Env) Outcome
}

func (c *Check) runsIn(m Mode) bool {
	if len(c.Modes) == 0 {
		return true
	}
	for _, x := range c.Modes {
		if x == m {
			return true
		}
	}
	return false
}

// Outcome is what a check's Run returns.
type Outcome struct {
	Status  Status
	Message string
	Hint    string
}

// OK is a passing outcome.
func OK(format string, a ...any) Outcome {
	return Outcome{Status: StatusOK, Message: fmt.Sprintf(format, a...)}
}

// Warn is a warning with a hint.
func Warn(hint, format string, a ...any) Outcome {
	return Outcome{Status: StatusWarn, Message: fmt.Sprintf(format, a...), Hint: hint}
}

// Fail is a failure with a hint (the fix, a command where one exists).
func Fail(hint, format string, a ...any) Outcome {
	return Outcome{Status: StatusFail, Message: fmt.Sprintf(format, a...), Hint: hint}
}

// Skip says why the check did not run.
func Skip(format string, a ...any) Outcome {
	return Outcome{Status: StatusSkip, Message: fmt.Sprintf(format, a...)}
}

// SkipHint says why the check did not run and how to make it run.
func SkipHint(hint, format string, a ...any) Outcome {
	return Outcome{Status: StatusSkip, Message: fmt.Sprintf(format, a...), Hint: hint}
}

// Catalogue returns every check, in display order within each category. Each checks_*.go file contributes
// its checks through a function listed here.
func Catalogue() []Check {
	var all []Check
	for _, part := range [][]Check{
		kubernetesChecks(),
		controlPlaneChecks(),
		databaseChecks(),
		workspaceChecks(),
		repositoryChecks(),
		imageChecks(),
		enterpriseChecks(),
	} {
		all = append(all, part...)
	}
	return all
}
