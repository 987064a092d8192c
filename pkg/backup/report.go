package backup

// SchemaVersion is the version of the JSON/YAML schema of the backup-values reports.
const SchemaVersion = "skoala.backup/v1"

// Report is what 'backup-values' did (or, with --list, found).
type Report struct {
	Schema string `json:"schema"`
	Dir    string `json:"dir"`
	// Backups are the files written, one group per release (not with --list).
	Backups []ReleaseBackup `json:"backups,omitempty"`
	// Entries are the files found (--list).
	Entries []Entry `json:"entries,omitempty"`
	// Errors are per-release failures (a cluster that could not be read...).
	Errors   []string `json:"errors,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// ReleaseBackup is the files written for one release.
type ReleaseBackup struct {
	Meta
	Files []Written `json:"files"`
}
