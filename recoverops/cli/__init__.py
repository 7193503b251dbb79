"""The command line: the composition root, and the one place that maps errors to exit codes."""
