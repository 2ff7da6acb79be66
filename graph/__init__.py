"""The only writer of the store: build, inference, validation, snapshots, the query catalogue."""
