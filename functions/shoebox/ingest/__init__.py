"""Client-side ingest: local files -> `originals/YYYY/MM/DD/NAME` keys -> uploads."""
