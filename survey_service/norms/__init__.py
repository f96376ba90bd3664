"""Local norms (issue 16): versioned norm tables built from a campaign or loaded from a file,
and the T-scores and percentile ranks of a campaign's results against a chosen version."""
