"""The audit slice (issue 19): the auditor reads, filters and exports the audit log."""
