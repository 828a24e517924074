"""Reports: the versioned schema and its renderings (JSON, Markdown, HTML, console)."""
