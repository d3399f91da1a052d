"""Command line: invoke task collections shared by `invoke` in the repo and the `vpskit` console script."""
